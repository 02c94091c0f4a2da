using System.Buffers.Binary;
using LegoEmu.Loader.Elf;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Loader;

/// <summary>The ELF parser refuses every malformed input with a one-line reason instead of crashing.</summary>
[Collection(GuestCollection.Name)]
public sealed class ElfFileTests(GuestBuilds builds)
{
    byte[] Hello() => File.ReadAllBytes(builds.Binary("hello"));

    static string Reject(byte[] data)
    {
        var e = Assert.Throws<ElfFormatException>(() => ElfFile.Parse(data, "test"));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void ParsesARealStaticExecutable()
    {
        var elf = ElfFile.Parse(Hello(), "hello");
        Assert.Equal(ElfConst.ET_EXEC, elf.Type);
        Assert.Null(elf.Interpreter);
        Assert.Contains(elf.ProgramHeaders, p => p.Type == ElfConst.PT_LOAD && (p.Flags & ElfConst.PF_X) != 0);
        Assert.Contains(elf.ProgramHeaders, p => p.Type == ElfConst.PT_TLS);
        Assert.Contains(elf.ReadSymbols(), s => s.Name == "main" && s.IsFunction);
    }

    [Fact]
    public void AProgramOpenedForExecIsReadOnlyToItsHeadersUntilItsSectionsAreWanted()
    {
        string path = builds.Binary("hello");
        long length = new FileInfo(path).Length;
        Assert.True(length > 128 << 10);
        // A copy of its own: the parsed-file cache of this process must not hand out an ElfFile read whole already.
        string copy = Path.Combine(Path.GetTempPath(), $"legoemu-elfhead-{Guid.NewGuid():N}");
        File.Copy(path, copy);
        try
        {
            using var file = LegoEmu.Loader.Image.ExecutableFile.Open(copy, requireExecute: false);
            var elf = ElfFile.Load(file);
            Assert.Equal(length, elf.FileLength);
            Assert.True(elf.ResidentBytes < length);
            Assert.NotNull(elf.Backing);
            Assert.Contains(elf.ProgramHeaders, p => p.Type == ElfConst.PT_LOAD && (p.Flags & ElfConst.PF_X) != 0);
            var segment = Array.Find(elf.LoadSegments(), p => (p.Flags & ElfConst.PF_X) != 0);
            var bytes = new byte[64];
            elf.Read(segment.Offset + segment.FileSize - 64, bytes);
            Assert.Equal(File.ReadAllBytes(copy).AsSpan((int)(segment.Offset + segment.FileSize - 64), 64).ToArray(), bytes);
            Assert.Contains(elf.ReadSymbols(), s => s.Name == "main" && s.IsFunction);
            Assert.Equal(length, elf.ResidentBytes);
            Assert.Equal(File.ReadAllBytes(copy), elf.Data);
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void StaticPieIsDynamicTypeWithoutInterpreter()
    {
        var elf = ElfFile.Parse(File.ReadAllBytes(builds.Binary("hello_pie")), "hello_pie");
        Assert.Equal(ElfConst.ET_DYN, elf.Type);
        Assert.Null(elf.Interpreter);
    }

    [Fact]
    public void RejectsNonElf() => Assert.Contains("not an ELF", Reject("#!/bin/sh\necho hi\n"u8.ToArray()));

    [Fact]
    public void RejectsTruncatedHeader() => Assert.Contains("truncated", Reject(Hello()[..40]));

    [Fact]
    public void RejectsWrongClass()
    {
        var d = Hello();
        d[4] = 1;
        Assert.Contains("32-bit", Reject(d));
    }

    [Fact]
    public void RejectsWrongMachine()
    {
        var d = Hello();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(18), 183); // EM_AARCH64
        Assert.Contains("not x86-64", Reject(d));
    }

    [Fact]
    public void RejectsProgramHeadersBeyondTheFile()
    {
        var d = Hello();
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(32), (ulong)d.Length - 8);
        Assert.Contains("truncated program headers", Reject(d));
    }

    static int FirstLoad(byte[] d, int skip = 0)
    {
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(32));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(56));
        for (int i = 0; i < phnum; i++)
        {
            int o = (int)phoff + i * 56;
            if (BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(o)) == ElfConst.PT_LOAD && skip-- == 0) return o;
        }
        throw new InvalidOperationException("no PT_LOAD");
    }

    [Fact]
    public void RejectsSegmentOutsideTheFile()
    {
        var d = Hello();
        int o = FirstLoad(d, 1);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(o + 32), (ulong)d.Length * 2); // p_filesz
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(o + 40), (ulong)d.Length * 2); // p_memsz
        Assert.Contains("outside the file", Reject(d));
    }

    [Fact]
    public void RejectsOverlappingSegments()
    {
        var d = Hello();
        int first = FirstLoad(d, 0), second = FirstLoad(d, 1);
        ulong vaddr = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(first + 16));
        ulong off = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(second + 8));
        // Same page offset as its file offset, so only the overlap is wrong.
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(second + 16), vaddr + (off & 0xfff));
        Assert.Contains("overlap", Reject(d));
    }

    [Fact]
    public void RejectsFileSizeLargerThanMemorySize()
    {
        var d = Hello();
        int o = FirstLoad(d, 1);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(o + 40), 1); // p_memsz smaller than p_filesz
        Assert.Contains("larger than memory size", Reject(d));
    }

    [Fact]
    public void RejectsRelocatableObject()
    {
        var d = Hello();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(16), 1);
        Assert.Contains("relocatable", Reject(d));
    }
}

using System.Buffers.Binary;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Writes the smallest static ELF64 executable the kernel and LegoEmu's loader both accept: an ELF
/// header, program headers, and a code and a data PT_LOAD. No sections are needed to run.
/// </summary>
public static class ElfWriter
{
    const int EhdrSize = 64, PhdrSize = 56, PageSize = 4096;
    const uint PtLoad = 1, PtGnuStack = 0x6474e551;
    const uint PfX = 1, PfW = 2, PfR = 4;

    /// <param name="codeBase">Page-aligned load address of <paramref name="code"/>, which holds the entry point at its start.</param>
    /// <param name="dataBase">Page-aligned load address of <paramref name="data"/>; it must lie above the code.</param>
    /// <param name="dataMemSize">Size of the data segment in memory; the part beyond <paramref name="data"/> is zero (bss).</param>
    public static byte[] Build(ulong codeBase, ReadOnlySpan<byte> code, ulong dataBase, ReadOnlySpan<byte> data, ulong dataMemSize)
    {
        if (codeBase % PageSize != 0 || dataBase % PageSize != 0)
            throw new ArgumentException("segment addresses must be page-aligned");
        if (codeBase + (ulong)code.Length > dataBase)
            throw new ArgumentException($"code ({code.Length} bytes) runs into the data segment at 0x{dataBase:x}");
        if (dataMemSize < (ulong)data.Length)
            throw new ArgumentException("data memory size is smaller than the data");

        const int phnum = 3;
        // File offsets congruent to the addresses modulo the page size, as mmap requires.
        int codeOffset = PageSize;
        int dataOffset = AlignUp(codeOffset + code.Length, PageSize);
        var file = new byte[dataOffset + data.Length];
        var s = file.AsSpan();

        s[0] = 0x7f; s[1] = (byte)'E'; s[2] = (byte)'L'; s[3] = (byte)'F';
        s[4] = 2; // ELFCLASS64
        s[5] = 1; // little-endian
        s[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], 62); // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], codeBase); // entry
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], EhdrSize); // phoff
        BinaryPrimitives.WriteUInt16LittleEndian(s[52..], EhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[54..], PhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[56..], phnum);
        BinaryPrimitives.WriteUInt16LittleEndian(s[58..], 64); // shentsize, with no sections

        // Code is RWX so a test can patch itself if it ever needs to; the data segment is RW.
        ProgramHeader(s[EhdrSize..], PtLoad, PfR | PfW | PfX, (ulong)codeOffset, codeBase, (ulong)code.Length, (ulong)code.Length, PageSize);
        ProgramHeader(s[(EhdrSize + PhdrSize)..], PtLoad, PfR | PfW, (ulong)dataOffset, dataBase, (ulong)data.Length, dataMemSize, PageSize);
        // A non-executable stack, as every toolchain-built program declares.
        ProgramHeader(s[(EhdrSize + 2 * PhdrSize)..], PtGnuStack, PfR | PfW, 0, 0, 0, 0, 16);

        code.CopyTo(s[codeOffset..]);
        data.CopyTo(s[dataOffset..]);
        return file;
    }

    static void ProgramHeader(Span<byte> p, uint type, uint flags, ulong offset, ulong vaddr, ulong filesz, ulong memsz, ulong align)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, type);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], vaddr);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], vaddr); // paddr
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], filesz);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], memsz);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], align);
    }

    static int AlignUp(int v, int a) => (v + a - 1) / a * a;
}

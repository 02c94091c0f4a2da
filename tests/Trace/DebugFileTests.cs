using LegoEmu.Cluster.Trace;
using LegoEmu.Loader.Elf;
using Xunit;

namespace LegoEmu.Tests.Trace;

/// <summary>
/// Separate debug files: glibc's (libc6-dbg, which the valgrind package depends on) is found by build id, its
/// zlib-compressed line table is read, and its full symbol table names the string functions glibc only
/// exports under other names.
/// </summary>
public sealed class DebugFileTests
{
    const string Libc = "/lib/x86_64-linux-gnu/libc.so.6";

    [Fact]
    public void GlibcsDebugFileGivesLocalFunctionsAndCompressedLines()
    {
        var elf = ElfFile.Load(Libc);
        string? id = DebugFile.BuildId(elf);
        Assert.NotNull(id);
        var debug = DebugFile.Find(elf);
        Assert.True(debug != null, $"no debug file for build id {id} under {DebugFile.Root} (libc6-dbg)");
        Assert.Equal(id, DebugFile.BuildId(debug));
        Assert.Contains(debug.Sections, s => s.Name == ".debug_line" && (s.Flags & 0x800) != 0);
        Assert.NotNull(DwarfLineTable.Read(debug));

        var own = CodeSymbols.Functions(elf, null);
        var full = CodeSymbols.Functions(elf, debug);
        Assert.DoesNotContain(own, s => s.Name == "__memmove_sse2_unaligned_erms");
        var memmove = Assert.Single(full, s => s.Name == "__memmove_sse2_unaligned_erms");
        // Of the names of one address, the preferred is the one lookups give.
        var names = CodeSymbols.PreferredNames(Libc);
        Assert.Equal(full.Last(s => s.Value == memmove.Value).Name, names["__memmove_sse2_unaligned_erms"]);
    }

    [Fact]
    public void AnObjectWithoutDebugFileKeepsItsOwnSymbols()
    {
        var elf = ElfFile.Load(Libc);
        Assert.Null(DebugFile.Find(elf, Path.Combine(Path.GetTempPath(), "legoemu-no-debug-here")));
        Assert.Contains(CodeSymbols.Functions(elf, null), s => s.Name == "memcpy");
    }
}

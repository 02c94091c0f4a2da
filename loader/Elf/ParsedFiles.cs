using LegoEmu.Mem.Component;

namespace LegoEmu.Loader.Elf;

/// <summary>
/// The programs this process parsed last, by path and file version: a component that runs one short program after
/// another loads the same ones each time (the dynamic linker at every exec), and reading and checking them again
/// was part of every exec, and garbage for the collector after it. An ELF file is immutable once parsed. Bounded by
/// the bytes kept; a changed file is a new version and is read again.
/// </summary>
static class ParsedFiles
{
    const long MaxBytes = 64L << 20;
    /// <summary>At most this many files: each keeps its descriptor open for the pages its mappings have not read yet.</summary>
    const int MaxFiles = 64;

    // A capacity: List<T>() reads the empty array of List<T>'s static constructor, which ReadyToRun leaves to the JIT
    // for a value-type T (a compile on the guest's thread at start-up).
    static readonly List<(string Path, FileVersion Version, ElfFile Elf)> Recent = new(8);

    public static ElfFile Get(string path, FileVersion version, Func<ElfFile> parse)
    {
        lock (Recent)
        {
            int i = Recent.FindIndex(e => FileVersionComparer.Instance.Equals(e.Version, version) && e.Path == path);
            if (i >= 0)
            {
                var hit = Recent[i];
                Recent.RemoveAt(i);
                Recent.Add(hit);
                return hit.Elf;
            }
        }
        var elf = parse();
        if (elf.FileLength != version.Size) return elf; // the file changed while it was read: never reuse that
        lock (Recent)
        {
            Recent.Add((path, version, elf));
            long bytes = 0;
            for (int i = Recent.Count - 1; i >= 0; i--)
            {
                bytes += Recent[i].Elf.ResidentBytes;
                if ((bytes > MaxBytes || Recent.Count - i > MaxFiles) && i < Recent.Count - 1) Recent.RemoveAt(i);
            }
        }
        return elf;
    }
}

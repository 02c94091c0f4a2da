namespace LegoEmu.Mem.Component;

/// <summary>Which contents of a file a page was read from: the file, and the size and times that change with any write.</summary>
public readonly record struct FileVersion(ulong Device, ulong Inode, long Size, long ModifiedNs, long ChangedNs);

/// <summary>
/// Compares <see cref="FileVersion"/> keys. The default comparer of a struct from another assembly is a generic
/// instantiation ReadyToRun does not precompile: every process start would JIT it on the guest's thread.
/// </summary>
public sealed class FileVersionComparer : IEqualityComparer<FileVersion>
{
    public static readonly FileVersionComparer Instance = new();

    public bool Equals(FileVersion a, FileVersion b) =>
        a.Device == b.Device && a.Inode == b.Inode && a.Size == b.Size && a.ModifiedNs == b.ModifiedNs && a.ChangedNs == b.ChangedNs;

    public int GetHashCode(FileVersion v) => HashCode.Combine(v.Device, v.Inode, v.Size, v.ModifiedNs);
}

/// <summary>
/// This process's page cache of files mapped privately: the pages read once, immutable, and handed to every private
/// mapping of the same file version as frames shared copy-on-write (<see cref="InProcessMemoryComponent.PokePages"/>).
/// A component that runs one short program after another maps the same libraries each time (libc is 2 MiB); copying
/// them page by page into fresh frames was a millisecond of each fork and exec of /bin/true, and garbage for the
/// collector after it. Bounded: the files used longest ago go first.
/// </summary>
public static class FilePages
{
    /// <summary>At most this many pages (64 MiB) stay cached.</summary>
    const int MaxPages = 16384;

    sealed class CachedFile
    {
        public readonly Dictionary<long, byte[]> Pages = new();
        public long LastUse;
    }

    static readonly Dictionary<FileVersion, CachedFile> Files = new(FileVersionComparer.Instance);
    static long _clock, _pages;

    /// <summary>
    /// The pages <paramref name="first"/> to <paramref name="first"/>+<paramref name="count"/>-1 of the file, each
    /// <see cref="PageMath.PageSize"/> bytes with zeros past the end of the file; <paramref name="read"/> reads a page
    /// that is not cached yet (its byte count, 0 past the end, or a negated errno). Returns null on a read error, and
    /// fewer pages than asked when the file ends first. The arrays must never be written.
    /// </summary>
    public static List<byte[]>? Get(FileVersion version, long first, int count, Func<long, byte[], long> read)
    {
        var pages = new List<byte[]>(count);
        lock (Files)
        {
            if (!Files.TryGetValue(version, out var file)) Files[version] = file = new CachedFile();
            file.LastUse = ++_clock;
            for (long p = first; p < first + count; p++)
            {
                if (!file.Pages.TryGetValue(p, out var page))
                {
                    page = new byte[(int)PageMath.PageSize];
                    long n = read(p, page);
                    if (n < 0) return null;
                    if (n == 0) break;
                    file.Pages[p] = page;
                    _pages++;
                }
                pages.Add(page);
                if ((p + 1) * (long)PageMath.PageSize >= version.Size) break;
            }
            Trim(file);
        }
        return pages;
    }

    /// <summary>Drops the files used longest ago (never <paramref name="keep"/>) until the cache is within its bound.</summary>
    static void Trim(CachedFile keep)
    {
        while (_pages > MaxPages)
        {
            FileVersion? oldest = null;
            long best = long.MaxValue;
            foreach (var (v, f) in Files)
                if (f != keep && f.LastUse < best) (oldest, best) = (v, f.LastUse);
            if (oldest is not { } o) return;
            _pages -= Files[o].Pages.Count;
            Files.Remove(o);
        }
    }
}

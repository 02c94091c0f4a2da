using Microsoft.Win32.SafeHandles;

namespace LegoEmu.Mem.Component;

/// <summary>
/// An open file whose pages a private mapping shows until they are written (a program's segments): a page is read at
/// its first fill, once per file version in this process (<see cref="FilePages"/>), and never copied unless written.
/// The handle keeps the file's contents reachable when its path is replaced, as the kernel's mapping keeps the inode.
/// </summary>
public sealed class FileBacking(SafeFileHandle handle, FileVersion version, string path)
{
    static readonly byte[] ZeroPage = new byte[PageMath.PageSize];

    /// <summary>The backings made by <see cref="Shared"/>, most recently used last (each holds a descriptor).</summary>
    static readonly List<FileBacking> Recent = new();
    const int MaxRecent = 32;

    /// <summary>
    /// One backing per version of a file for the mappings of this process (ld.so maps each library in several pieces):
    /// <paramref name="open"/> makes its descriptor the first time (null when it cannot: then so is the result). Older
    /// ones stay open while mappings refer to them.
    /// </summary>
    public static FileBacking? Shared(FileVersion version, Func<SafeFileHandle?> open)
    {
        lock (Recent)
        {
            for (int i = Recent.Count - 1; i >= 0; i--)
            {
                var b = Recent[i];
                if (!FileVersionComparer.Instance.Equals(b.Version, version)) continue;
                Recent.RemoveAt(i);
                Recent.Add(b);
                return b;
            }
            if (open() is not { } handle) return null;
            var made = new FileBacking(handle, version, "");
            Recent.Add(made);
            if (Recent.Count > MaxRecent) Recent.RemoveAt(0);
            return made;
        }
    }

    public FileVersion Version { get; } = version;

    /// <summary>The path the file was opened by, for messages.</summary>
    public string Path { get; } = path;

    /// <summary>
    /// The page <paramref name="index"/> of the file (zeros past its end: a file that shrank since it was opened), or
    /// null when it cannot be read. The array is shared and must never be written.
    /// </summary>
    public byte[]? Page(long index)
    {
        var pages = FilePages.Get(Version, index, 1, ReadPage);
        if (pages == null) return null;
        return pages.Count == 1 ? pages[0] : ZeroPage;
    }

    /// <summary>The pages <paramref name="first"/> to <paramref name="first"/>+<paramref name="count"/>-1 (see <see cref="Page"/>), or null on a read error.</summary>
    public List<byte[]>? Pages(long first, int count)
    {
        var pages = FilePages.Get(Version, first, count, ReadPage);
        if (pages == null) return null;
        while (pages.Count < count) pages.Add(ZeroPage);
        return pages;
    }

    /// <summary>Reads up to <paramref name="into"/>'s length from <paramref name="offset"/>; returns the bytes read (fewer at the end of the file), or a negated errno.</summary>
    public long ReadAt(Span<byte> into, long offset)
    {
        try { return ReadFully(handle, into, offset); }
        catch (IOException) { return -Errno.EIO; }
    }

    /// <summary>Reads until <paramref name="into"/> is full or the file ends; returns the bytes read. I/O errors propagate.</summary>
    public static int ReadFully(SafeFileHandle handle, Span<byte> into, long offset)
    {
        int got = 0;
        while (got < into.Length)
        {
            int n = RandomAccess.Read(handle, into[got..], offset + got);
            if (n <= 0) break;
            got += n;
        }
        return got;
    }

    long ReadPage(long page, byte[] into) => ReadAt(into, page << PageMath.PageShift);
}

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The processor's view of a same-host memory node's <see cref="Component.FrameArena"/>: one mapping of the node's
/// memfd, as large as the node's window, made once. A granted slot is read and written here directly. Only slots the
/// file holds are touched: one beyond the size last seen makes it look again (the node grows the file before it hands
/// a slot out), and a slot still beyond it is refused rather than faulted on. The file is sealed against shrinking,
/// so a page seen once stays.
/// </summary>
public sealed unsafe class FrameWindow : IDisposable
{
    readonly int _fd;
    readonly byte* _base;
    readonly long _windowFrames;
    long _knownFrames;
    int _disposed;

    FrameWindow(int fd, byte* mapping, long windowFrames)
    {
        _fd = fd;
        _base = mapping;
        _windowFrames = windowFrames;
    }

    /// <summary>
    /// Maps <paramref name="windowBytes"/> of the memfd <paramref name="fd"/> (taken over: closed with the window).
    /// Throws <see cref="RingCorruptException"/> for a file that could shrink under the mapping, or a window that is no
    /// whole number of frames.
    /// </summary>
    internal static FrameWindow Open(int fd, long windowBytes)
    {
        try
        {
            if (windowBytes <= 0 || (windowBytes & (long)PageMath.PageMask) != 0 || windowBytes > (1L << 46))
                throw new RingCorruptException($"the node offered a frame window of {windowBytes} bytes");
            if (!RingNative.SealedAgainstShrinking(fd)) throw new RingCorruptException("the node offered frames it could take back (a memfd not sealed against shrinking)");
            var map = (byte*)RingNative.MapWindow(fd, windowBytes);
            return new FrameWindow(fd, map, windowBytes >> PageMath.PageShift);
        }
        catch
        {
            RingNative.Close(fd);
            throw;
        }
    }

    /// <summary>The first byte of <paramref name="slot"/>, or null when the node's file does not hold it.</summary>
    public byte* Frame(int slot)
    {
        if ((ulong)slot >= (ulong)_knownFrames)
        {
            if ((ulong)slot >= (ulong)_windowFrames) return null;
            _knownFrames = Math.Min(_windowFrames, RingNative.FileSize(_fd) >> PageMath.PageShift);
            if ((ulong)slot >= (ulong)_knownFrames) return null;
        }
        return _base + ((long)slot << PageMath.PageShift);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        RingNative.Munmap((nint)_base, (nuint)(_windowFrames << PageMath.PageShift));
        RingNative.Close(_fd);
    }
}

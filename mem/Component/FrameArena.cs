using LegoEmu.Mem.Remote;

namespace LegoEmu.Mem.Component;

/// <summary>
/// A memory node's private frames as 4 KiB slots of one memfd, so that a processor on the same host can map them too
/// and copy a granted line in or out without a message (see <see cref="InProcessMemoryComponent"/> and the grants of
/// <see cref="MemoryNodeClient"/>). The file grows with <c>ftruncate</c> a chunk at a time and is sealed against
/// shrinking; both sides map one large window of it once, so nothing is remapped as it grows: a slot is only handed
/// out, and so only touched by anyone, once the file holds it. Not thread-safe: the component's owner serialises calls.
/// </summary>
public sealed unsafe class FrameArena : IDisposable
{
    /// <summary>Frames the file grows by at a time (16 MiB): one <c>ftruncate</c> for thousands of allocations.</summary>
    public const int GrowFrames = 4096;

    /// <summary>The window's size when the node's capacity sets none: address space only, never memory.</summary>
    public const long DefaultReserveBytes = 256L << 30;

    readonly int _fd;
    readonly byte* _base;
    readonly long _reserveFrames;
    long _sizedFrames;
    /// <summary>Slots ever handed out are [0, _used); freed ones wait in <see cref="_free"/>.</summary>
    long _used;
    int[] _free = new int[1024];
    int _freeCount;
    /// <summary>
    /// Free slots [0, _released) of <see cref="_free"/> have had their pages given back to the kernel (they read as
    /// zeros); the ones above still hold their last bytes. The stack is used from the top, so a slot freed and soon
    /// allocated again is only cleared, and only a pile of slots that stayed free costs a release.
    /// </summary>
    int _released;

    /// <summary>Free slots still holding their pages that make the arena give them back at once (4 MiB).</summary>
    public const int ReleaseBatch = 1024;
    int _disposed;

    /// <param name="reserveBytes">The most the arena may hold (its window); frames beyond it are the caller's to place elsewhere.</param>
    public FrameArena(long reserveBytes)
    {
        long frames = Math.Clamp(reserveBytes >> PageMath.PageShift, GrowFrames, int.MaxValue);
        _reserveFrames = frames;
        _fd = RingNative.CreateGrowableMemfd("legoemu-frames");
        try { _base = (byte*)RingNative.MapWindow(_fd, frames << PageMath.PageShift); }
        catch
        {
            RingNative.Close(_fd);
            throw;
        }
    }

    /// <summary>The memfd, passed to processors that map the window (they get a descriptor of their own).</summary>
    public int Fd => _fd;

    /// <summary>The window's size in bytes: what a processor maps.</summary>
    public long ReserveBytes => _reserveFrames << PageMath.PageShift;

    /// <summary>A zeroed slot, or -1 when the window is full or the file cannot grow (the caller uses an array instead).</summary>
    public int Allocate()
    {
        if (_freeCount > 0)
        {
            int slot = _free[--_freeCount];
            // A released slot reads as zeros already (its page comes back zeroed when touched).
            if (_freeCount >= _released) new Span<byte>(Frame(slot), (int)PageMath.PageSize).Clear();
            else _released = _freeCount;
            return slot;
        }
        if (_used == _sizedFrames)
        {
            long grown = Math.Min(_sizedFrames + GrowFrames, _reserveFrames);
            if (grown == _sizedFrames || RingNative.Resize(_fd, grown << PageMath.PageShift) != 0) return -1;
            _sizedFrames = grown;
        }
        // Fresh from the file's growth: already zero.
        return (int)_used++;
    }

    /// <summary>The slot is nobody's any more; it is zeroed when handed out again.</summary>
    public void Free(int slot)
    {
        if (_freeCount == _free.Length) Array.Resize(ref _free, _free.Length * 2);
        _free[_freeCount++] = slot;
        if (_freeCount - _released >= ReleaseBatch) Release();
    }

    /// <summary>
    /// Gives the pages of the free slots not yet released back to the kernel: a guest that frees memory (munmap, a
    /// heap that shrinks, an exit) must not keep the node's memory at its peak. The file keeps its size (it is sealed
    /// against shrinking, and the window of every processor stays valid); runs of adjacent slots go in one call.
    /// </summary>
    public void Release()
    {
        if (_freeCount == _released) return;
        var pending = _free.AsSpan(_released, _freeCount - _released);
        pending.Sort();
        for (int i = 0; i < pending.Length;)
        {
            int j = i + 1;
            while (j < pending.Length && pending[j] == pending[j - 1] + 1) j++;
            // A kernel that cannot punch holes keeps the pages: the slots are cleared when handed out, as before.
            if (RingNative.PunchHole(_fd, (long)pending[i] << PageMath.PageShift, (long)(j - i) << PageMath.PageShift) != 0) return;
            i = j;
        }
        _released = _freeCount;
        Released += pending.Length;
    }

    /// <summary>Slots whose pages were given back to the kernel so far (for tests and counters).</summary>
    public long Released { get; private set; }

    /// <summary>The first byte of <paramref name="slot"/>.</summary>
    public byte* Frame(int slot) => _base + ((long)slot << PageMath.PageShift);

    /// <summary>Slots in use now.</summary>
    public long InUse => _used - _freeCount;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        RingNative.Munmap((nint)_base, (nuint)(_reserveFrames << PageMath.PageShift));
        RingNative.Close(_fd);
    }
}

namespace LegoEmu.Mem.Remote;

/// <summary>
/// One direction of a <see cref="RingLink"/>: a single-producer, single-consumer byte ring in shared memory carrying
/// the same stream of frames a socket would. Head and tail are byte counts that only grow; each side keeps its own
/// counter in private memory and only publishes it, so a peer that scribbles over the shared page can make this side
/// see a ring out of bounds (a <see cref="RingCorruptException"/>), never read or write outside the data area.
/// </summary>
internal sealed unsafe class RingPipe
{
    readonly byte* _data;
    readonly long* _head, _tail;
    readonly int* _readerSleeps;
    readonly long _capacity, _mask;
    /// <summary>The writer's head or the reader's tail: this side's own count, never read back from shared memory.</summary>
    long _position;

    /// <param name="control">This direction's 64-byte control lines: head, tail, reader sleeps (how: <see cref="OnSocket"/>, <see cref="OnFutex"/>).</param>
    public RingPipe(byte* control, byte* data, long capacity)
    {
        _head = (long*)control;
        _tail = (long*)(control + 64);
        _readerSleeps = (int*)(control + 128);
        _data = data;
        _capacity = capacity;
        _mask = capacity - 1;
    }

    /// <summary>Reader: bytes are waiting (unchecked; <see cref="TryRead"/> checks them).</summary>
    public bool HasData => Volatile.Read(ref *_head) != _position;

    /// <summary>Writer: the reader has made room (unchecked; <see cref="TryWrite"/> checks it).</summary>
    public bool HasSpace => _position - Volatile.Read(ref *_tail) != _capacity;

    /// <summary>Copies out what is waiting, up to <paramref name="dst"/>'s length.</summary>
    public int TryRead(Span<byte> dst)
    {
        long head = Volatile.Read(ref *_head);
        long waiting = head - _position;
        if ((ulong)waiting > (ulong)_capacity) throw new RingCorruptException($"the ring's head ({head}) is out of bounds: tail {_position}, {_capacity} bytes");
        if (waiting == 0 || dst.IsEmpty) return 0;
        int n = (int)Math.Min(waiting, dst.Length);
        int at = (int)(_position & _mask);
        int first = (int)Math.Min(n, _capacity - at);
        new ReadOnlySpan<byte>(_data + at, first).CopyTo(dst);
        if (n > first) new ReadOnlySpan<byte>(_data, n - first).CopyTo(dst[first..]);
        _position += n;
        // A writer waiting for room looks again within a millisecond: it is not rung.
        Volatile.Write(ref *_tail, _position);
        return n;
    }

    /// <summary>What a sleeping reader waits on: nothing (awake), the socket's doorbell, or a futex on its word.</summary>
    public const int Awake = 0, OnSocket = 1, OnFutex = 2;

    /// <summary>The reader's word: how it sleeps, and the futex it sleeps on.</summary>
    public int* SleepWord => _readerSleeps;

    /// <summary>Copies in as much of <paramref name="src"/> as there is room for; <paramref name="wakeReader"/>: how to wake the reader (<see cref="Awake"/>: it need not be).</summary>
    public int TryWrite(ReadOnlySpan<byte> src, out int wakeReader)
    {
        wakeReader = Awake;
        long tail = Volatile.Read(ref *_tail);
        long used = _position - tail;
        if ((ulong)used > (ulong)_capacity) throw new RingCorruptException($"the ring's tail ({tail}) is out of bounds: head {_position}, {_capacity} bytes");
        long room = _capacity - used;
        if (room == 0 || src.IsEmpty) return 0;
        int n = (int)Math.Min(room, src.Length);
        int at = (int)(_position & _mask);
        int first = (int)Math.Min(n, _capacity - at);
        src[..first].CopyTo(new Span<byte>(_data + at, first));
        if (n > first) src[first..n].CopyTo(new Span<byte>(_data, n - first));
        _position += n;
        Interlocked.Exchange(ref *_head, _position);
        if (Volatile.Read(ref *_readerSleeps) != Awake) wakeReader = Interlocked.Exchange(ref *_readerSleeps, Awake);
        return n;
    }

    /// <summary>Publishes <paramref name="head"/> without writing anything (tests: a peer that breaks the ring).</summary>
    internal void Scribble(long head) => Interlocked.Exchange(ref *_head, head);

    /// <summary>
    /// Reader: announces it is about to sleep, so the writer's next publish rings the doorbell. False when bytes arrived
    /// meanwhile (the announcement is withdrawn): the caller must not sleep.
    /// </summary>
    public bool ReaderSleeps(int how)
    {
        Interlocked.Exchange(ref *_readerSleeps, how);
        if (!HasData) return true;
        Volatile.Write(ref *_readerSleeps, Awake);
        return false;
    }

    /// <summary>Reader, after a sleep the writer may not have ended: withdraws the announcement if it still stands.</summary>
    public void ReaderAwake(int how) => Interlocked.CompareExchange(ref *_readerSleeps, Awake, how);
}

/// <summary>The peer left a ring's shared counters out of bounds: the link cannot go on.</summary>
public sealed class RingCorruptException(string message) : IOException(message);

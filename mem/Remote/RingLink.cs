using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// A connection's frames through shared memory instead of its Unix socket: two byte rings (requests, replies) in a
/// sealed memfd the node makes and passes to the processor with SCM_RIGHTS. A side that waits spins on the ring for a
/// bounded time, then announces that it sleeps, and how. A processor waiting for a reply and a node whose requests come
/// often sleep on a futex on the announcement's word, which the writer wakes (one system call), looking at the socket
/// for the peer's end every few milliseconds. A quiet node, and a coherent component (whose wait covers its callback
/// channels too), poll the socket, which stays open beside the ring as their doorbell (the other side writes one byte
/// to it only when a sleeper announced itself) and as its liveness: one poll wakes for a doorbell, for a peer that
/// died (end of stream) and for the timeout, so a dead or frozen node is noticed as it is on the socket path. A fill
/// whose answer comes while the processor spins costs no system call on either side.
/// </summary>
/// <remarks>
/// Layout: a 4 KiB control page (magic, capacity, per direction head, tail and the reader's "I sleep" word, each on a
/// cache line of its own, the CPU each side last waited on, and the word a <see cref="Cancel"/> sets), then the request
/// ring, then the reply ring. The link polls and rings through a descriptor
/// of its own for the socket (a dup), so the socket's owner may dispose of it whenever it likes (.NET waits for no
/// one then) while this one never meets a number reused by another file; the connection ends when both are closed,
/// or at once by <see cref="Cancel"/> (a shutdown, which the peer sees).
/// </remarks>
public sealed unsafe class RingLink : IDisposable
{
    const ulong Magic = 0x474E49524F47454CUL; // "LEGORING"
    const int ControlBytes = 4096;
    /// <summary>A sleeping reader wakes this often anyway, a safety net: only it polls for doorbells, so none is taken from it.</summary>
    const int SliceMs = 1000;

    readonly nint _base;
    readonly long _bytes;
    readonly RingPipe _in, _out;
    int _fd;
    readonly object _fdLock = new();
    readonly byte[] _drain = new byte[64];
    volatile bool _cancelled;
    int _disposed;

    RingLink(Socket socket, nint mapping, long bytes, int capacity, bool node)
    {
        _fd = RingNative.Dup((int)socket.SafeHandle.DangerousGetHandle());
        _node = node;
        _base = mapping;
        _bytes = bytes;
        byte* b = (byte*)mapping;
        // Where each side last waited: the processor's CPU at 2048, the node's at 2112.
        _myCpu = (int*)(b + (node ? 2112 : 2048));
        _peerCpu = (int*)(b + (node ? 2048 : 2112));
        _closed = (int*)(b + 2176);
        var requests = new RingPipe(b + 256, b + ControlBytes, capacity);
        var replies = new RingPipe(b + 1024, b + ControlBytes + capacity, capacity);
        _in = node ? requests : replies;
        _out = node ? replies : requests;
    }

    /// <summary>Bytes of shared memory a ring of <paramref name="capacity"/> per direction takes.</summary>
    static long SizeFor(int capacity) => ControlBytes + 2L * capacity;

    // ---- opening ----

    /// <summary>
    /// Processor side, on a connection past its handshake with nothing in flight: asks the node for a ring of
    /// <paramref name="capacity"/> bytes each way. Null when the node declines (it was told not to, or cannot);
    /// the connection then goes on over the socket.
    /// </summary>
    public static RingLink? Request(Socket socket, int capacity, int timeoutMs) => Request(socket, capacity, timeoutMs, wantFrames: false, out _);

    /// <summary>
    /// As <see cref="Request(Socket, int, int)"/>; with <paramref name="wantFrames"/> the node is also asked for its
    /// frame arena, which it passes with the ring when it keeps one (<paramref name="frames"/>, else null): from then on
    /// its fill replies on this connection may grant frames (see <see cref="MemoryNodeClient"/>).
    /// </summary>
    public static RingLink? Request(Socket socket, int capacity, int timeoutMs, bool wantFrames, out FrameWindow? frames)
    {
        frames = null;
        var fw = new FrameWriter(32);
        fw.Begin((byte)Op.RingOpen, 0);
        fw.U32((uint)capacity);
        fw.U8(wantFrames ? (byte)1 : (byte)0);
        socket.Send(fw.Finish());
        // Status, the ring's capacity, the frame window's size (0: no arena passed).
        const int replyBytes = Protocol.HeaderSize + 16;
        Span<byte> reply = stackalloc byte[replyBytes];
        int got = 0, fd = -1, arenaFd = -1;
        long deadline = Deadline(timeoutMs);
        int sock = (int)socket.SafeHandle.DangerousGetHandle();
        try
        {
            while (got < replyBytes)
            {
                int left = (int)Math.Max(0, (deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency);
                int ev = RingNative.PollOne(sock, RingNative.PollIn, left);
                if (ev == 0) throw new SocketException((int)SocketError.TimedOut);
                int n = RingNative.ReceiveWithFds(sock, reply[got..], out int passed, out int second);
                if (passed >= 0)
                {
                    if (fd < 0) fd = passed;
                    else RingNative.Close(passed);
                }
                if (second >= 0)
                {
                    if (arenaFd < 0) arenaFd = second;
                    else RingNative.Close(second);
                }
                if (n == -RingNative.EAgain || n == -RingNative.EIntr) continue;
                if (n < 0) throw new SocketException(-n);
                if (n == 0) throw new SocketException((int)SocketError.ConnectionReset);
                got += n;
            }
            if (BinaryPrimitives.ReadUInt32LittleEndian(reply) != replyBytes - 4 || reply[4] != ((byte)Op.RingOpen | Protocol.ReplyBit))
                throw new RingCorruptException("the node answered a ring request with another frame");
            int status = BinaryPrimitives.ReadInt32LittleEndian(reply[9..]);
            if (status != 0) return null;
            if (fd < 0) throw new RingCorruptException("the node accepted a ring but passed no memory for it");
            if (BinaryPrimitives.ReadUInt32LittleEndian(reply[13..]) != (uint)capacity || RingNative.FileSize(fd) != SizeFor(capacity))
                throw new RingCorruptException("the node passed a ring of another size than asked for");
            nint map = RingNative.Map(fd, SizeFor(capacity));
            if (*(ulong*)map != Magic)
            {
                RingNative.Munmap(map, (nuint)SizeFor(capacity));
                throw new RingCorruptException("the node passed memory that is not a ring");
            }
            long windowBytes = BinaryPrimitives.ReadInt64LittleEndian(reply[17..]);
            RingLink link;
            try { link = new RingLink(socket, map, SizeFor(capacity), capacity, node: false); }
            catch
            {
                RingNative.Munmap(map, (nuint)SizeFor(capacity));
                throw;
            }
            if (windowBytes != 0)
            {
                if (!wantFrames || arenaFd < 0)
                {
                    link.Dispose();
                    throw new RingCorruptException("the node announced a frame arena nobody asked for, or passed none");
                }
                try { frames = FrameWindow.Open(arenaFd, windowBytes); }
                catch
                {
                    link.Dispose();
                    throw;
                }
                finally { arenaFd = -1; }
            }
            return link;
        }
        finally
        {
            if (fd >= 0) RingNative.Close(fd);
            if (arenaFd >= 0) RingNative.Close(arenaFd);
        }
    }

    /// <summary>
    /// Node side: makes the ring, sends <paramref name="reply"/> (the request's answer) with its memfd attached, and
    /// returns the link. Throws <see cref="IOException"/> before anything was sent when the ring cannot be made.
    /// </summary>
    internal static RingLink Serve(Socket socket, int capacity, FrameWriter reply, Component.FrameArena? frames = null)
    {
        long size = SizeFor(capacity);
        int fd = RingNative.CreateSealedMemfd(size);
        nint map = 0;
        try
        {
            map = RingNative.Map(fd, size);
            *(ulong*)map = Magic;
            *(int*)(map + 8) = capacity;
            reply.I32(0);
            reply.U32((uint)capacity);
            reply.I64(frames?.ReserveBytes ?? 0);
            RingNative.SendWithFds((int)socket.SafeHandle.DangerousGetHandle(), reply.Finish(), fd, frames?.Fd ?? -1);
            var link = new RingLink(socket, map, size, capacity, node: true);
            map = 0;
            return link;
        }
        finally
        {
            if (map != 0) RingNative.Munmap(map, (nuint)size);
            RingNative.Close(fd);
        }
    }

    // ---- the stream ----

    /// <summary>
    /// Reads at least one byte into <paramref name="dst"/>, as a socket's receive does: 0 once the peer closed the
    /// connection (after everything it wrote to the ring was read) or the link was cut. A wait longer than
    /// <paramref name="timeoutMs"/> (negative: none) throws a <see cref="SocketException"/> that says TimedOut.
    /// </summary>
    public int Receive(Span<byte> dst, int timeoutMs)
    {
        long deadline = 0;
        while (true)
        {
            int n = TryReceive(dst);
            if (n > 0)
            {
                // Woken with data after a sleep (the socket's doorbell included): the link is busy again.
                if (deadline != 0) _hot = true;
                return n;
            }
            if (_cancelled) return 0;
            if (SpinForData()) continue;
            bool futex = !_node || _hot;
            if (!_in.ReaderSleeps(futex ? RingPipe.OnFutex : RingPipe.OnSocket)) continue;
            if (deadline == 0) deadline = Deadline(timeoutMs);
            switch (futex ? SleepOnFutex(deadline) : Sleep(deadline))
            {
                case Wake.Closed:
                    if (_in.HasData) continue;
                    return 0;
                case Wake.TimedOut:
                    throw new SocketException((int)SocketError.TimedOut);
            }
        }
    }

    /// <summary>What is in the ring now, without waiting (0 when nothing is).</summary>
    public int TryReceive(Span<byte> dst)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _in.TryRead(dst);
    }

    /// <summary>
    /// Spins a bounded time for bytes to arrive; true when they did (or the link was cut). On the node's side the
    /// bound adapts: a spin that ended in a sleep halves it, one that caught its request restores it, so a node whose
    /// client is quiet soon stops taking a core for nothing (a backup node, a node between a guest's bursts of misses),
    /// and one that is kept busy spins the whole time. The processor's side always spins the whole bound: an answer is
    /// on its way, and were it to sleep too, each side would be woken by the other from then on, both spinning less
    /// than a wake-up takes.
    /// </summary>
    public bool SpinForData()
    {
        long start = Stopwatch.GetTimestamp(), end = start + _spin;
        while (true)
        {
            if (_in.HasData || _cancelled)
            {
                _hot = true;
                _spin = RingTransport.SpinTicks;
                return true;
            }
            long now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                if (_node) _spin = Math.Max(RingTransport.SpinTicks / 16, _spin / 2);
                return false;
            }
            Pause(now - start, this);
        }
    }

    long _spin = RingTransport.SpinTicks;
    readonly bool _node;

    /// <summary>
    /// The first microseconds are spent in pause instructions while the peer last waited on another CPU; after them,
    /// or at once when the peer shares this CPU (it cannot run while this side spins), the spinner yields between
    /// looks, so on a machine with more runnable threads than cores it gives the core to the peer it waits for.
    /// </summary>
    static void Pause(long spunTicks, RingLink link)
    {
        int cpu = Thread.GetCurrentProcessorId();
        *link._myCpu = cpu;
        if (spunTicks < PureSpinTicks && Volatile.Read(ref *link._peerCpu) != cpu) Thread.SpinWait(4);
        else Thread.Yield();
    }

    readonly int* _myCpu, _peerCpu;

    static readonly long PureSpinTicks = Stopwatch.Frequency / 500_000; // 2 us

    /// <summary>Announces that the reader sleeps; false when bytes came meanwhile. A true answer must be followed by a wait on the socket.</summary>
    public bool PrepareToSleep() => _in.ReaderSleeps(RingPipe.OnSocket);

    /// <summary>
    /// After a wait on the socket (made elsewhere) said it is readable: takes the doorbells off it. False when the
    /// peer closed the connection.
    /// </summary>
    public bool TakeDoorbells() => Drain() == Wake.Woken;

    /// <summary>Writes all of <paramref name="data"/>, waiting for room as a socket's send does; fails as a socket's send would.</summary>
    public void Send(ReadOnlySpan<byte> data, int timeoutMs)
    {
        long deadline = 0;
        while (true)
        {
            if (_cancelled) throw new SocketException((int)SocketError.Shutdown);
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            int n = _out.TryWrite(data, out int wake);
            if (wake == RingPipe.OnSocket) Ring();
            else if (wake == RingPipe.OnFutex) RingNative.FutexWakeAll(_out.SleepWord);
            data = data[n..];
            if (data.IsEmpty) return;
            if (n > 0) continue;
            if (SpinForRoom()) continue;
            if (deadline == 0) deadline = Deadline(timeoutMs);
            switch (WaitForRoom(deadline))
            {
                case Wake.Closed: throw new SocketException((int)SocketError.ConnectionReset);
                case Wake.TimedOut: throw new SocketException((int)SocketError.TimedOut);
            }
        }
    }

    bool SpinForRoom()
    {
        long start = Stopwatch.GetTimestamp(), end = start + RingTransport.SpinTicks;
        while (true)
        {
            if (_out.HasSpace || _cancelled) return true;
            long now = Stopwatch.GetTimestamp();
            if (now >= end) return false;
            Pause(now - start, this);
        }
    }

    /// <summary>
    /// True when the peer is gone (its end of the socket closed, or either side cut the link), looked at without
    /// waiting: a processor whose misses need no message asks this now and then. Doorbells on the socket are taken off
    /// on the way; only a side that sleeps on its socket waits for them, and a processor that does so is in the line
    /// directory, whose link is granted nothing and never asks.
    /// </summary>
    public bool PeerGone()
    {
        if (_cancelled || Volatile.Read(ref *_closed) != 0) return true;
        int ev = RingNative.PollOne(_fd, RingNative.PollIn, 0);
        if (ev < 0) return ev != -RingNative.EIntr;
        if ((ev & (RingNative.PollErr | RingNative.PollNval | RingNative.PollHup)) != 0) return true;
        return ev != 0 && Drain() == Wake.Closed;
    }

    /// <summary>
    /// True when the peer's end of the socket is closed (or the link was cut), looked at without waiting and without
    /// taking doorbells off the socket: for a side that may be sleeping on it for a reply.
    /// </summary>
    public bool PeerHungUp()
    {
        if (_cancelled || Volatile.Read(ref *_closed) != 0) return true;
        int ev = RingNative.PollOne(_fd, RingNative.PollIn, 0);
        if (ev < 0) return ev != -RingNative.EIntr;
        return (ev & (RingNative.PollErr | RingNative.PollNval | RingNative.PollHup)) != 0;
    }

    /// <summary>True once <see cref="Cancel"/> cut the link.</summary>
    public bool Cancelled => _cancelled;

    /// <summary>Cuts the link from any thread: waits on it end as if the peer had closed the connection, and so does the peer's.</summary>
    public void Cancel()
    {
        _cancelled = true;
        lock (_fdLock)
        {
            // A side asleep on its futex sees the shutdown only when its slice ends: the shared word and a wake tell
            // both sides' sleepers at once.
            if (!_unmapped)
            {
                Volatile.Write(ref *_closed, 1);
                RingNative.FutexWakeAll(_in.SleepWord);
                RingNative.FutexWakeAll(_out.SleepWord);
            }
            if (_fd >= 0) RingNative.Shutdown(_fd, 2 /* SHUT_RDWR */);
        }
    }

    /// <summary>Set under <see cref="_fdLock"/> when the mapping goes, so a late <see cref="Cancel"/> does not write to it.</summary>
    bool _unmapped;

    /// <summary>Set by either side's <see cref="Cancel"/> (a word of the shared page).</summary>
    readonly int* _closed;

    /// <summary>
    /// Node side: requests came recently, so a wait for the next sleeps on the futex, which the processor wakes with
    /// one system call and no socket (a `send` of a doorbell byte costs it several times as much, and the node a
    /// `poll` and a `recv`). A futex sleep that reaches the end of its slice with nothing come makes the link quiet
    /// again: a quiet link sleeps on its socket, which wakes for the peer's end at once instead of once a slice.
    /// </summary>
    bool _hot = true;

    /// <summary>
    /// Longest futex sleep before the socket is looked at for the peer's end: how late the death of a busy link's
    /// peer may be noticed (a quiet link notices it at once, a processor waiting for a reply within this).
    /// </summary>
    const int FutexSliceMs = 10;

    Wake SleepOnFutex(long deadline)
    {
        long now = Stopwatch.GetTimestamp();
        if (now >= deadline)
        {
            _in.ReaderAwake(RingPipe.OnFutex);
            return Wake.TimedOut;
        }
        long leftMs = deadline == long.MaxValue ? FutexSliceMs : (deadline - now) * 1000 / Stopwatch.Frequency + 1;
        int r = RingNative.FutexSleep(_in.SleepWord, RingPipe.OnFutex, (int)Math.Min(leftMs, FutexSliceMs));
        _in.ReaderAwake(RingPipe.OnFutex);
        if (Volatile.Read(ref *_closed) != 0) return Wake.Closed;
        if (r != -RingNative.ETimedOut) return Wake.Woken;
        _hot = false;
        int ev = RingNative.PollOne(_fd, RingNative.PollIn, 0);
        if (ev < 0) return ev == -RingNative.EIntr ? Wake.Woken : Wake.Closed;
        if ((ev & (RingNative.PollErr | RingNative.PollNval)) != 0) return Wake.Closed;
        if (ev != 0) return Drain();
        return Stopwatch.GetTimestamp() >= deadline ? Wake.TimedOut : Wake.Woken;
    }

    /// <summary>Writes <paramref name="head"/> as the published head of this side's outgoing ring, as a hostile peer could.</summary>
    internal void ScribbleOutgoingHead(long head) => _out.Scribble(head);

    // ---- the doorbell ----

    enum Wake { Woken, Closed, TimedOut }

    static long Deadline(int timeoutMs) =>
        timeoutMs < 0 ? long.MaxValue : Stopwatch.GetTimestamp() + timeoutMs * Stopwatch.Frequency / 1000;

    /// <summary>One byte on the socket wakes the peer, which announced it sleeps; it needs nothing else from it.</summary>
    void Ring()
    {
        byte b = 1;
        RingNative.Send(_fd, &b, 1, RingNative.MsgDontWait | RingNative.MsgNoSignal);
    }

    Wake Sleep(long deadline)
    {
        long now = Stopwatch.GetTimestamp();
        if (now >= deadline) return Wake.TimedOut;
        long leftMs = deadline == long.MaxValue ? SliceMs : (deadline - now) * 1000 / Stopwatch.Frequency + 1;
        int ev = RingNative.PollOne(_fd, RingNative.PollIn, (int)Math.Min(leftMs, SliceMs));
        if (ev < 0) return ev == -RingNative.EIntr ? Wake.Woken : Wake.Closed;
        if (ev == 0) return Stopwatch.GetTimestamp() >= deadline ? Wake.TimedOut : Wake.Woken;
        if ((ev & (RingNative.PollErr | RingNative.PollNval)) != 0) return Wake.Closed;
        return Drain();
    }

    /// <summary>
    /// A writer that found the ring full (rare: the reader is behind by a whole ring) naps a millisecond at a time,
    /// watching the socket only for its end: it never polls for doorbells, so it cannot take one meant for a reader
    /// waiting on another thread (the node's connection thread, while another thread writes it a grant).
    /// </summary>
    Wake WaitForRoom(long deadline)
    {
        if (Stopwatch.GetTimestamp() >= deadline) return Wake.TimedOut;
        int ev = RingNative.PollOne(_fd, 0, 1);
        if (ev < 0) return ev == -RingNative.EIntr ? Wake.Woken : Wake.Closed;
        return (ev & (RingNative.PollHup | RingNative.PollErr | RingNative.PollNval)) != 0 ? Wake.Closed : Wake.Woken;
    }

    Wake Drain()
    {
        fixed (byte* b = _drain)
            while (true)
            {
                nint n = RingNative.Recv(_fd, b, (nuint)_drain.Length, RingNative.MsgDontWait);
                if (n > 0) continue;
                if (n == 0) return Wake.Closed;
                int e = RingNative.LastError;
                if (e == RingNative.EAgain) return Wake.Woken;
                if (e != RingNative.EIntr) return Wake.Closed;
            }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (_fdLock)
        {
            _unmapped = true;
            RingNative.Munmap(_base, (nuint)_bytes);
            RingNative.Close(_fd);
            _fd = -1;
        }
    }
}

using System.Buffers;
using System.Diagnostics;

namespace LegoEmu.Mem.Remote;

/// <summary>Writes a frame on the real link.</summary>
internal delegate void FrameSender(ReadOnlySpan<byte> frame);

/// <summary>
/// One connection's side of an emulated link (<see cref="LinkEmulation"/>): frames are copied into a queue stamped with
/// the time they reach the far end, and a thread of the wire's own sends each when its time comes, in order. The
/// sender returns at once, as it would on a real link: a node thread never sleeps the latency itself.
/// </summary>
internal sealed class EmulatedWire
{
    /// <summary>Sleeping is precise to a millisecond or so: the last stretch is spent yielding, for microsecond links.</summary>
    static readonly long SleepSlack = Stopwatch.Frequency / 667;

    readonly LinkEmulation _link;
    readonly FrameSender _send;
    readonly Action _broken;
    readonly Queue<(byte[] Buffer, int Length, long Due)> _queue = new();
    readonly Thread _thread;
    /// <summary>When the wire has passed everything queued so far at the bandwidth.</summary>
    long _wireFree;
    bool _closing;
    bool _failure;

    internal EmulatedWire(LinkEmulation link, FrameSender send, Action broken, string name)
    {
        _link = link;
        _send = send;
        _broken = broken;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Queues a frame; once a send failed, fails as the socket's send would have.</summary>
    public void Send(ReadOnlySpan<byte> frame)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(buffer);
        lock (_queue)
        {
            // As the socket itself would fail the send: callers on other connections' threads catch just that.
            if (_failure) throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset);
            if (_closing) throw new ObjectDisposedException(nameof(EmulatedWire));
            long now = Stopwatch.GetTimestamp();
            _wireFree = Math.Max(now, _wireFree) + _link.SerializationTicks(frame.Length);
            _queue.Enqueue((buffer, frame.Length, _wireFree + _link.LatencyTicks));
            if (_queue.Count == 1) Monitor.Pulse(_queue);
        }
    }

    /// <summary>Sends what is still queued at once (the connection ends) and stops the wire's thread.</summary>
    public void Close()
    {
        lock (_queue)
        {
            _closing = true;
            Monitor.Pulse(_queue);
        }
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
    }

    void Run()
    {
        while (true)
        {
            (byte[] Buffer, int Length, long Due) item;
            bool closing;
            lock (_queue)
            {
                while (_queue.Count == 0 && !_closing) Monitor.Wait(_queue);
                if (_queue.Count == 0) return;
                item = _queue.Peek();
                closing = _closing;
            }
            if (!closing) WaitUntil(item.Due);
            lock (_queue) _queue.Dequeue();
            try { _send(item.Buffer.AsSpan(0, item.Length)); }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException)
            {
                lock (_queue)
                {
                    _failure = true;
                    while (_queue.Count > 0) ArrayPool<byte>.Shared.Return(_queue.Dequeue().Buffer);
                }
                ArrayPool<byte>.Shared.Return(item.Buffer);
                // The connection's reader learns of it as of any broken link.
                _broken();
                return;
            }
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }

    static void WaitUntil(long due)
    {
        long left = due - Stopwatch.GetTimestamp() - SleepSlack;
        if (left > 0) Thread.Sleep(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
        while (Stopwatch.GetTimestamp() < due) Thread.Yield();
    }
}

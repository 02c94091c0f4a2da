using System.Buffers.Binary;
using System.Net.Sockets;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The callback channels of one coherent processor component, one per memory node. Invalidations are
/// applied only by the thread that owns the cache, at its safe points: block boundaries (a watcher
/// thread notices arrivals and asks for one), any wait for a node's reply, and the scheduler's idle
/// wait. So a running instruction never sees a line vanish, yet nobody waits on a sleeping component.
/// </summary>
public sealed class CoherenceChannels : IDisposable
{
    readonly MemoryNodeClient[] _nodes;
    readonly ICoherenceTarget _target;
    readonly Action _notify;
    readonly Thread _watcher;
    readonly ManualResetEventSlim _drained = new(false);
    readonly byte[] _line = new byte[(int)PageMath.PageSize];
    readonly FrameWriter _ack = new((int)PageMath.PageSize + 64);
    readonly List<Socket> _select = new();
    /// <summary>Invalidations that refer to a grant not read yet, per node: applied once it has been.</summary>
    readonly List<(uint Token, int Asid, ulong Addr, int Size, InvalidateMode Mode, long Grants)>[] _early;
    volatile bool _stopping;
    bool _draining;

    /// <param name="notify">Asks the cache's owner for a safe point soon (any thread may call it).</param>
    public CoherenceChannels(MemoryNodeClient[] nodes, ICoherenceTarget target, Action notify)
    {
        _nodes = nodes;
        _target = target;
        _notify = notify;
        foreach (var n in nodes) n.Channels = this;
        _early = new List<(uint, int, ulong, int, InvalidateMode, long)>[nodes.Length];
        for (int i = 0; i < nodes.Length; i++) _early[i] = new();
        _watcher = new Thread(Watch) { IsBackground = true, Name = "coherence-watcher" };
        _watcher.Start();
    }

    /// <summary>Invalidations and downgrades applied here, and how many of them carried dirty data back.</summary>
    public long Applied, WithData;

    /// <summary>
    /// Replicated: the dirty bytes of a line handed to another component also go to the line's backup node before the
    /// answer that lets the directory grant them, so a directory node that dies holding the only copy loses nothing.
    /// </summary>
    internal LineSink? HandedOver;

    /// <summary>
    /// Replicated: a node asks for the lines of the regions a failed node was primary of (it took them over, see
    /// <see cref="Op.Rebuild"/>). The handler drops them from the cache, passing each dirty one to the sink.
    /// </summary>
    internal Action<MemoryNodeClient, string, LineSink>? Rebuild;

    /// <summary>Replicated: a callback channel the node closed means the node is gone (it is marked failed at once).</summary>
    internal bool ClosedMeansFailed;

    /// <summary>
    /// True once a wait for a line can no longer end: the line may be held by a processor component of this process
    /// that stopped answering (frozen), which the node keeps waiting for while it answers probes itself. A coherent
    /// wait then fails as a silent node's does, and the process ends as that component's loss.
    /// </summary>
    public Func<bool>? GiveUp { get; set; }

    /// <summary>The callback sockets, for a caller that sleeps in its own poll (the scheduler).</summary>
    public IEnumerable<Socket> Sockets
    {
        get
        {
            foreach (var n in _nodes)
                if (n.Callback != null && !n.IsBroken) yield return n.Callback;
        }
    }

    void Watch()
    {
        var list = new List<Socket>();
        while (!_stopping)
        {
            list.Clear();
            foreach (var n in _nodes)
                if (n.Callback is { Connected: true } cb && !n.IsBroken) list.Add(cb);
            if (list.Count == 0) return;
            // A node given up meanwhile has its channel closed under this thread: the others are still watched.
            try { Socket.Select(list, null, null, 200_000); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (_stopping) return;
                Thread.Sleep(10);
                continue;
            }
            if (list.Count == 0 || _stopping) continue;
            // A closed channel stays readable with nothing to read: the main connection reports the failure, or, with
            // replicas, the owner's next drain gives the node up (it is asked for one).
            bool data = false, closed = false;
            foreach (var s in list)
            {
                try
                {
                    if (s.Available > 0) data = true;
                    else closed = true;
                }
                catch (ObjectDisposedException) { }
            }
            if (!data)
            {
                if (closed && ClosedMeansFailed) _notify();
                Thread.Sleep(50);
                continue;
            }
            _drained.Reset();
            _notify();
            _drained.Wait(100);
        }
    }

    /// <summary>Waits until <paramref name="main"/> is readable, applying invalidations that arrive meanwhile.</summary>
    /// <returns>False when <paramref name="timeout"/> passed with nothing to read on <paramref name="main"/>.</returns>
    /// <returns>False also once <paramref name="node"/> was found failed meanwhile (the caller throws its failure).</returns>
    internal bool WaitFor(Socket main, TimeSpan timeout, MemoryNodeClient node)
    {
        // An invalidation held back until its grant arrived is due now, and this request may queue behind it.
        if (HasEarly) Drain();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            _select.Clear();
            _select.Add(main);
            foreach (var n in _nodes)
                if (n.Callback != null && !n.IsBroken) _select.Add(n.Callback);
            long left = (long)(timeout - System.Diagnostics.Stopwatch.GetElapsedTime(start)).TotalMicroseconds;
            if (left <= 0) return main.Available > 0;
            Socket.Select(_select, null, null, (int)Math.Min(left, int.MaxValue));
            bool mainReady = _select.Contains(main);
            if (_select.Count > (mainReady ? 1 : 0)) Drain();
            // Given up meanwhile (its regions' new primary asked for their lines): an answer already here is not taken,
            // since this cache has handed back every line of those regions and the new primary counts on it.
            if (node.IsBroken) return false;
            if (mainReady || main.Available > 0) return true;
        }
    }

    /// <summary>Applies and answers every invalidation that has arrived. Only the cache's owner thread calls this.</summary>
    public void Drain()
    {
        if (_draining) return; // an answer's own wait cannot re-enter
        _draining = true;
        try
        {
            for (int k = 0; k < _nodes.Length; k++)
            {
                var n = _nodes[k];
                if (n.Callback == null) continue;
                if (n.IsBroken)
                {
                    _early[k].Clear(); // grants that will never come
                    continue;
                }
                try { DrainNode(k, n, n.Callback); }
                // Replicated, a channel that fails takes its node with it, and the guest goes on without it; this may run
                // inside the wait for another node's answer, which must not be taken for the failed one.
                catch (Exception e) when (ClosedMeansFailed && e is SocketException or ObjectDisposedException or IOException or MemoryNodeFailure)
                {
                    n.MarkBroken(e as MemoryNodeFailure ?? new MemoryNodeFailure($"memory node {n.Endpoint} (node {n.Index}) failed: {e.Message}", e));
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            throw new MemoryNodeFailure($"a memory node's callback channel failed: {e.Message}", e);
        }
        finally
        {
            _draining = false;
            _drained.Set();
        }
    }

    void DrainNode(int k, MemoryNodeClient n, Socket cb)
    {
        var early = _early[k];
        for (int e = 0; e < early.Count; e++)
        {
            if (early[e].Grants > n.GrantsReceived) continue;
            var x = early[e];
            early.RemoveAt(e--);
            Apply(n, x.Token, x.Asid, x.Addr, x.Size, x.Mode);
        }
        if (ClosedMeansFailed && cb.Available == 0 && cb.Poll(0, SelectMode.SelectRead) && cb.Available == 0)
            throw new MemoryNodeFailure($"memory node {n.Endpoint} (node {n.Index}) closed the connection");
        while (cb.Available > 0)
        {
            var body = n.ReadFrame(cb, n.CallbackTls);
            if ((Op)body[0] == Op.RebuildRequest)
            {
                AnswerRebuild(n, body);
                continue;
            }
            if ((Op)body[0] != Op.Invalidate) throw new MemoryNodeFailure($"memory node {n.Endpoint} sent op {body[0]} on the callback channel");
            uint token = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(1));
            var r = new FrameReader(body.AsSpan(5));
            int asid = r.I32();
            ulong addr = r.U64();
            uint size = r.U32();
            var mode = (InvalidateMode)r.U8();
            long grants = r.I64();
            if (size > (uint)_line.Length) throw new MemoryNodeFailure($"memory node {n.Endpoint} invalidated a line of {size} bytes");
            // It takes away a line whose grant is still on its way: the access that asked for it goes first.
            if (grants > n.GrantsReceived) early.Add((token, asid, addr, (int)size, mode, grants));
            else Apply(n, token, asid, addr, (int)size, mode);
        }
    }

    /// <summary>True while an early invalidation waits: the owner should come back for a safe point soon.</summary>
    public bool HasEarly
    {
        get
        {
            foreach (var e in _early)
                if (e.Count > 0) return true;
            return false;
        }
    }

    /// <summary>A grant was read: an invalidation that waited for it is due at the owner's next safe point.</summary>
    internal void AfterGrant()
    {
        if (HasEarly) _notify();
    }

    void Apply(MemoryNodeClient n, uint token, int asid, ulong addr, int size, InvalidateMode mode)
    {
        int dataLen = _target.ApplyRemote(asid, addr, mode, _line.AsSpan(0, size), out bool kept);
        Applied++;
        if (dataLen > 0)
        {
            WithData++;
            HandedOver?.Invoke(asid, addr, _line.AsSpan(0, dataLen));
        }
        _ack.Begin((byte)Op.InvalidateAck, token);
        _ack.I64(n.WriteBacksSent);
        _ack.U8(kept ? (byte)1 : (byte)0);
        _ack.Bytes(_line.AsSpan(0, dataLen));
        n.SendOnCallback(_ack.Finish());
    }

    /// <summary>Lines handed back to new primaries after a failover, and how many of them were dirty.</summary>
    public long RebuildsAnswered, RebuildLines;

    /// <summary>
    /// A node took over regions of a failed one: every line of them cached here goes, the dirty ones to that node on
    /// this channel (it holds the only copy of them), then the answer that lets it serve those lines again.
    /// </summary>
    void AnswerRebuild(MemoryNodeClient n, byte[] body)
    {
        uint token = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(1));
        var r = new FrameReader(body.AsSpan(5));
        string failed = r.Str();
        var frame = new FrameWriter(_line.Length + 64);
        Rebuild?.Invoke(n, failed, (asid, addr, data) =>
        {
            frame.Begin((byte)Op.RebuildLine, 0);
            frame.I32(asid);
            frame.U64(addr);
            frame.Bytes(data);
            n.SendOnCallback(frame.Finish());
            RebuildLines++;
        });
        frame.Begin((byte)Op.RebuildDone, token);
        n.SendOnCallback(frame.Finish());
        RebuildsAnswered++;
    }

    public void Dispose()
    {
        _stopping = true;
        _drained.Set();
    }
}

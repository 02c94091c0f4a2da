using System.Net.Sockets;
using LegoEmu.Mem.Component;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// Fills a vRegion's new backup from its primary after a node failed, on a thread and connections of its own
/// while the guest runs. The new backup already receives every write-back, so the copy only adds pages it does
/// not have yet (<see cref="Op.PokeAbsent"/>): a page the guest wrote meanwhile is never replaced by an older one.
/// Each chunk is read and stored under the cluster's VMA lock, so an munmap cannot fall between the two.
/// </summary>
public sealed class RegionCopy(Endpoint from, int source, Endpoint to, int target, int asid, ulong key, ulong region, object vmaLock)
{
    const int Pending = 0, Running = 1, Complete = 2, Failed = 3, Stopped = 4;
    volatile int _state;
    Thread? _thread;

    public int Source => source;
    public int Target => target;

    /// <summary>Pages stored on the new backup so far.</summary>
    public long Pages;

    /// <summary>Why the copy failed, if it did (the backup then counts as incomplete).</summary>
    public string? Error { get; private set; }

    /// <summary>True once the new backup holds everything the primary held.</summary>
    public bool Done => _state == Complete;

    public bool Cancelled => _state == Stopped;

    /// <summary>True once the copy ended one way or another (complete, failed or stopped).</summary>
    public bool Ended => _state is Complete or Failed or Stopped;

    /// <summary>Called on the copy's thread when it completes or fails (not when stopped).</summary>
    public Action<RegionCopy>? Finished { get; set; }

    public void Start()
    {
        if (_state != Pending) return;
        _state = Running;
        _thread = new Thread(Run) { IsBackground = true, Name = $"legoemu-copy-region-{region}" };
        _thread.Start();
    }

    public void Cancel()
    {
        if (_state is Pending or Running) _state = Stopped;
    }

    public void Wait() => _thread?.Join();

    void Run()
    {
        MemoryNodeClient? src = null, dst = null;
        try
        {
            src = new MemoryNodeClient(from, source);
            dst = new MemoryNodeClient(to, target);
            if (src.ClaimSpace(asid, key) != 0 || dst.ClaimSpace(asid, key) != 0)
            {
                Finish(Failed, "the address space is gone from a node");
                return;
            }
            ulong cursor = region << GlobalMemoryManager.RegionShift;
            ulong end = Math.Min((region + 1) << GlobalMemoryManager.RegionShift, VmaSet.TaskSize);
            while (cursor < end)
            {
                if (_state != Running) return;
                lock (vmaLock) cursor = CopyChunk(src, dst, cursor, end);
            }
            Finish(Complete, null);
        }
        catch (Exception e) when (e is MemoryNodeFailure or ProtocolException or SocketException or ObjectDisposedException)
        {
            Finish(Failed, e.Message);
        }
        finally
        {
            src?.Dispose();
            dst?.Dispose();
        }
    }

    ulong CopyChunk(MemoryNodeClient src, MemoryNodeClient dst, ulong cursor, ulong end)
    {
        var w = src.Begin(Op.ReadFrames);
        w.I32(asid);
        w.U64(cursor);
        w.U64(end);
        var r = src.Call();
        ulong next = r.U64();
        uint count = r.U32();
        if (next <= cursor || next > end || count > MemoryNodeServer.ReadFramesPages) throw new ProtocolException("a ReadFrames answer out of range");
        for (uint k = 0; k < count; k++)
        {
            ulong addr = r.U64();
            var data = r.Bytes((int)PageMath.PageSize);
            var p = dst.Begin(Op.PokeAbsent);
            p.I32(asid);
            p.U64(addr);
            p.Bytes(data);
            dst.Queue();
        }
        r.End();
        for (uint k = 0; k < count; k++)
            if (dst.Receive().I32() < 0) throw new MemoryNodeFailure($"memory node {to} has no room for a copy of vRegion {region}");
        Pages += count;
        return next;
    }

    void Finish(int state, string? error)
    {
        if (_state != Running) return;
        Error = error;
        _state = state;
        Finished?.Invoke(this);
    }
}

namespace LegoEmu.Mem.Remote;

/// <summary>
/// Heartbeats for a replicated cluster: a thread of its own asks every node for its counters a few times per
/// <c>--node-timeout</c>, on connections of its own, so a node that freezes or dies is noticed even while the
/// guest does not use it (then its regions get their new backups at once, not when the guest next misses there).
/// A node that does not answer within the timeout is reported in <see cref="Suspects"/>; the cluster fails it
/// over at its next safe point.
/// </summary>
public sealed class NodeWatch : IDisposable
{
    readonly IReadOnlyList<Endpoint> _endpoints;
    readonly Thread _thread;
    readonly ManualResetEventSlim _stop = new(false);
    long _suspects;

    public NodeWatch(IReadOnlyList<Endpoint> endpoints)
    {
        _endpoints = endpoints;
        _thread = new Thread(Run) { IsBackground = true, Name = "legoemu-node-watch" };
        _thread.Start();
    }

    /// <summary>One bit per node (index) that stopped answering.</summary>
    public long Suspects => Interlocked.Read(ref _suspects);

    MemoryNodeClient?[]? _links;

    /// <summary>Gives a node up from any thread: it becomes a suspect, and a heartbeat waiting for it ends at once.</summary>
    public void Sever(int node)
    {
        if (node is < 0 or >= 64) return;
        Interlocked.Or(ref _suspects, 1L << node);
        if (Volatile.Read(ref _links) is { } links && node < links.Length) Volatile.Read(ref links[node])?.Sever();
    }

    void Run()
    {
        var links = new MemoryNodeClient?[_endpoints.Count];
        Volatile.Write(ref _links, links);
        var period = TimeSpan.FromMilliseconds(Math.Max(20, NodeTimeout.Milliseconds / 4));
        try
        {
            while (!_stop.Wait(period))
            {
                for (int i = 0; i < links.Length && i < 64; i++)
                {
                    if ((Suspects & (1L << i)) != 0) continue;
                    try
                    {
                        if (links[i] == null) links[i] = new MemoryNodeClient(_endpoints[i], i);
                        else links[i]!.RefreshStats();
                    }
                    catch (Exception e) when (e is MemoryNodeFailure or ProtocolException)
                    {
                        if (_stop.IsSet) return;
                        Interlocked.Or(ref _suspects, 1L << i);
                        links[i]?.Dispose();
                        links[i] = null;
                    }
                }
            }
        }
        finally
        {
            foreach (var l in links) l?.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Set();
        _thread.Join();
    }
}

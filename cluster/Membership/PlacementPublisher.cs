using System.Collections.Concurrent;
using System.Text.Json;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Membership;

/// <summary>
/// The global memory manager's table in etcd for one run: the run's record (<c>runs/RUN</c>) and, under the same lease,
/// where each vRegion of each address space lives (<c>placement/RUN/ASID/REGION</c>: primary and backup endpoints).
/// The cluster reports placements on the guest's path; they are queued and written by a thread of their own, so the
/// guest never waits for etcd, and an etcd that goes away costs one line, not the run. Memory nodes a run fails over
/// are recorded under <c>failures/ID</c>, without a lease, so <c>cluster status</c> still shows them after both ended.
/// </summary>
public sealed class PlacementPublisher : IDisposable
{
    readonly EtcdStore _store;
    readonly Registration _run;
    readonly string _runId;
    readonly IReadOnlyList<string> _endpoints;
    readonly TextWriter _log;
    readonly BlockingCollection<Action> _writes = new();
    readonly Dictionary<(int, ulong), string> _placed = new();
    readonly Thread _writer;
    int _generation;
    bool _complained;

    PlacementPublisher(EtcdStore store, Registration run, string runId, IReadOnlyList<string> endpoints, TextWriter log)
    {
        _store = store;
        _run = run;
        _runId = runId;
        _endpoints = endpoints;
        _log = log;
        _generation = run.Generation;
        _writer = new Thread(Write) { IsBackground = true, Name = "cluster-placement" };
        _writer.Start();
    }

    /// <summary>Registers the run (a <see cref="ClusterStoreException"/> when etcd cannot be reached).</summary>
    public static PlacementPublisher Start(EtcdStore store, IReadOnlyList<string> endpoints, string program, int replicas, TimeSpan ttl, TextWriter log)
    {
        string runId = $"{Environment.MachineName}-{Environment.ProcessId}";
        string record = RunRecord(program, endpoints, replicas);
        var run = Registration.Start(store, store.Keys.Run(runId), () => record, ttl, log, $"legoemu run {runId}");
        return new PlacementPublisher(store, run, runId, endpoints, log);
    }

    public string RunId => _runId;

    static string RunRecord(string program, IReadOnlyList<string> endpoints, int replicas)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("host", Environment.MachineName);
            w.WriteNumber("pid", Environment.ProcessId);
            w.WriteString("program", program);
            w.WriteNumber("replicas", replicas);
            w.WriteStartArray("memoryNodes");
            foreach (var e in endpoints) w.WriteStringValue(e);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// Reports every placement and failover of <paramref name="cluster"/> to etcd from now on, and tells the cluster
    /// when one of its nodes leaves the membership (its lease ran out), so a replicated guest fails it over then.
    /// </summary>
    public void Watch(MemoryCluster cluster)
    {
        _members = new Thread(() => WatchMembers(cluster)) { IsBackground = true, Name = "cluster-members" };
        _members.Start();
        cluster.RegionPlaced = (asid, region, placement) =>
        {
            int p = Placement.Primary(placement), b = Placement.Backup(placement);
            if (p < 0 || p >= _endpoints.Count) return;
            var record = new PlacementRecord(_endpoints[p], b >= 0 && b < _endpoints.Count ? _endpoints[b] : null).ToJson();
            _writes.Add(() => Put(asid, region, record));
        };
        cluster.NodeFailed = (node, reason) =>
        {
            if (node < 0 || node >= _endpoints.Count) return;
            string endpoint = _endpoints[node];
            lock (_leftCluster)
                if (_leftCluster.Contains(endpoint) && !reason.Contains("lease in etcd expired", StringComparison.Ordinal))
                    reason = $"memory node {endpoint} left the cluster: its lease in etcd expired ({reason})";
            _writes.Add(() => RecordFailure(endpoint, reason));
        };
    }

    Thread? _members;
    /// <summary>Nodes this run gave up because their lease ran out: their failure says so, whatever the cut link reported.</summary>
    readonly HashSet<string> _leftCluster = new(StringComparer.Ordinal);
    readonly ManualResetEventSlim _stop = new();

    /// <summary>How often the run looks at the membership: a lease is whole seconds, so more often would find nothing new.</summary>
    static readonly TimeSpan MembershipPeriod = TimeSpan.FromSeconds(1);

    void WatchMembers(MemoryCluster cluster)
    {
        var reported = new bool[_endpoints.Count];
        while (!_stop.Wait(MembershipPeriod))
        {
            HashSet<string> live;
            try
            {
                live = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, value) in _store.RangeLive(_store.Keys.Members + MemberRecord.Memory + "/")) live.Add(MemberRecord.Parse(key, value).Endpoint);
            }
            catch (ClusterStoreException) { continue; } // etcd away or a bad record: nobody is declared gone on that
            for (int i = 0; i < _endpoints.Count; i++)
            {
                if (reported[i] || live.Contains(_endpoints[i])) continue;
                reported[i] = true;
                lock (_leftCluster) _leftCluster.Add(_endpoints[i]);
                cluster.ReportGone(i);
            }
        }
    }

    void Put(int asid, ulong region, string record)
    {
        _placed[(asid, region)] = record;
        // A new lease (etcd was away longer than the lease) took the earlier placements with the old one: all again.
        if (_run.Generation != _generation)
        {
            _generation = _run.Generation;
            foreach (var ((a, r), v) in _placed) _store.Put(_store.Keys.Placement(_runId, a, r), v, _run.Lease);
        }
        else _store.Put(_store.Keys.Placement(_runId, asid, region), record, _run.Lease);
    }

    void RecordFailure(string endpoint, string reason)
    {
        string key = _store.Keys.Failure(ClusterKeys.IdOf(endpoint));
        int count = 1;
        foreach (var (k, v) in _store.Range(key))
            if (k == key)
                try { count = FailureRecord.Parse(k, v).Count + 1; }
                catch (ClusterStoreException) { } // a bad record is replaced by a good one
        _store.Put(key, new FailureRecord(endpoint, count, reason).ToJson());
    }

    void Write()
    {
        foreach (var write in _writes.GetConsumingEnumerable())
        {
            try
            {
                write();
                _complained = false;
            }
            catch (ClusterStoreException e)
            {
                if (!_complained) _log.WriteLine($"legoemu: {e.Message}; the guest goes on, its placement is not recorded in etcd meanwhile");
                _complained = true;
                _generation = -1; // everything again with the next write that gets through
            }
        }
    }

    /// <summary>Waits (briefly) for the queued writes, then revokes the run's lease: its placements leave with it.</summary>
    public void Dispose()
    {
        _stop.Set();
        _members?.Join();
        _writes.CompleteAdding();
        _writer.Join(EtcdStore.RequestTimeout * 2);
        _run.Dispose();
    }
}

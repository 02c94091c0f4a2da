namespace LegoEmu.Cluster.Membership;

/// <summary>
/// A component's membership: its record under a lease that a background thread keeps alive and refreshes. When etcd
/// goes away the component goes on serving (one line on stderr) and registers again once etcd answers; when the
/// component dies, its lease expires and the record vanishes.
/// </summary>
public sealed class Registration : IDisposable
{
    readonly EtcdStore _store;
    readonly string _key;
    readonly Func<string> _snapshot;
    readonly TimeSpan _ttl;
    readonly TextWriter _log;
    readonly string _who;
    readonly Thread _thread;
    readonly ManualResetEventSlim _stop = new();
    long _lease;
    string _published = "";

    Registration(EtcdStore store, string key, Func<string> snapshot, TimeSpan ttl, TextWriter log, string who)
    {
        _store = store;
        _key = key;
        _snapshot = snapshot;
        _ttl = ttl;
        _log = log;
        _who = who;
        _thread = new Thread(Loop) { IsBackground = true, Name = "cluster-membership" };
    }

    /// <summary>Registers now (a <see cref="ClusterStoreException"/> when etcd cannot be reached) and keeps the record alive.</summary>
    public static Registration Start(EtcdStore store, string key, Func<MemberRecord> snapshot, TimeSpan ttl, TextWriter log, string who) =>
        Start(store, key, () => snapshot().ToJson(), ttl, log, who);

    /// <summary>As above for any record: <paramref name="snapshot"/> gives its current value.</summary>
    public static Registration Start(EtcdStore store, string key, Func<string> snapshot, TimeSpan ttl, TextWriter log, string who)
    {
        var r = new Registration(store, key, snapshot, ttl, log, who);
        r.Register();
        r._thread.Start();
        return r;
    }

    void Register()
    {
        _lease = _store.Grant(_ttl);
        Publish(force: true);
        _store.KeepAlive(_lease);
        Volatile.Write(ref _generation, _generation + 1);
    }

    int _generation;

    /// <summary>The lease the record lives under; others may put keys under it to have them vanish with the record.</summary>
    public long Lease => Volatile.Read(ref _lease);

    /// <summary>Grows each time the record is registered under a new lease (keys put under the old one are gone).</summary>
    public int Generation => Volatile.Read(ref _generation);

    void Publish(bool force)
    {
        string value = _snapshot();
        if (!force && value == _published) return;
        _store.Put(_key, value, _lease);
        _published = value;
    }

    /// <summary>Often enough that a lease survives a missed beat, and that the record's figures stay fresh.</summary>
    TimeSpan Period => TimeSpan.FromMilliseconds(Math.Min(1000, _ttl.TotalMilliseconds / 3));

    void Loop()
    {
        bool lost = false;
        while (!_stop.Wait(Period))
        {
            try
            {
                if (_store.TimeToLive(_lease) <= 0) Register();
                else
                {
                    if (!_store.KeepAliveRunning) _store.KeepAlive(_lease);
                    Publish(force: lost);
                }
                if (lost) _log.WriteLine($"{_who}: registered again in etcd at {_store.Spec.Text}");
                lost = false;
            }
            catch (ClusterStoreException e)
            {
                if (!lost) _log.WriteLine($"{_who}: {e.Message}; going on, and registering again when etcd answers");
                lost = true;
            }
        }
    }

    int _disposed;

    /// <summary>Revokes the lease; a second call (a signal handler's, then the owner's) does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Set();
        _thread.Join();
        // Gone at once for everyone who looks, rather than when the lease runs out.
        _store.Revoke(_lease);
    }
}

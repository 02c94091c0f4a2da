using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace LegoEmu.Cluster.Membership;

/// <summary>
/// The few etcd operations the cluster needs (leases, puts, prefix reads, deletes), each bounded by a deadline and
/// failing with a <see cref="ClusterStoreException"/> of one line instead of a gRPC exception.
/// </summary>
public sealed class EtcdStore : IDisposable
{
    readonly EtcdClient _client;
    readonly CancellationTokenSource _stop = new();
    Task? _keepAlive;

    /// <summary>How long one request may take: etcd on a LAN answers in milliseconds, so this only bounds a dead one.</summary>
    public static TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public EtcdStore(ClusterSpec spec)
    {
        Spec = spec;
        Keys = new ClusterKeys(spec.Name);
        try { _client = new EtcdClient(spec.ConnectionString); }
        catch (Exception e) when (e is UriFormatException or ArgumentException or InvalidOperationException)
        {
            throw new ClusterStoreException($"cannot use etcd at {spec.Text}: {OneLine(e.Message)}", e);
        }
    }

    public ClusterSpec Spec { get; }
    public ClusterKeys Keys { get; }

    static DateTime Deadline => DateTime.UtcNow + RequestTimeout;

    T Call<T>(string what, Func<T> call)
    {
        try { return call(); }
        catch (RpcException e)
        {
            string detail = e.StatusCode switch
            {
                StatusCode.DeadlineExceeded => $"no answer within {RequestTimeout.TotalSeconds:0} s",
                // The gRPC detail ("Error connecting to subchannel") hides the socket's own reason.
                StatusCode.Unavailable => "cannot connect" + (Innermost(e.Status.DebugException) is { } inner ? $" ({OneLine(inner.Message)})" : ""),
                _ => OneLine(e.Status.Detail),
            };
            throw new ClusterStoreException($"etcd at {Spec.Text}: {what} failed: {detail}", e);
        }
        catch (OperationCanceledException e)
        {
            // The deadline can also end a call inside the client's own connection retries, as a cancellation.
            throw new ClusterStoreException($"etcd at {Spec.Text}: {what} failed: no answer within {RequestTimeout.TotalSeconds:0} s", e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or ObjectDisposedException)
        {
            throw new ClusterStoreException($"etcd at {Spec.Text}: {what} failed: {OneLine(e.Message)}", e);
        }
    }

    static Exception? Innermost(Exception? e)
    {
        while (e?.InnerException != null) e = e.InnerException;
        return e;
    }

    static string OneLine(string? text) => LegoEmu.Mem.PrintableName.Escape((text ?? "").Split('\n')[0].Trim());

    /// <summary>A new lease of <paramref name="ttl"/>; what is put under it vanishes when it is not kept alive.</summary>
    public long Grant(TimeSpan ttl)
    {
        var r = Call("granting a lease", () => _client.LeaseGrant(new LeaseGrantRequest { TTL = (long)Math.Ceiling(ttl.TotalSeconds) }, deadline: Deadline));
        if (r.ID == 0 || !string.IsNullOrEmpty(r.Error)) throw new ClusterStoreException($"etcd at {Spec.Text}: granting a lease failed: {OneLine(r.Error)}");
        return r.ID;
    }

    /// <summary>Seconds the lease has left, or a negative number when it has expired (or never existed).</summary>
    public long TimeToLive(long lease) =>
        Call("reading a lease", () => _client.LeaseTimeToLive(new LeaseTimeToLiveRequest { ID = lease }, deadline: Deadline)).TTL;

    /// <summary>Keeps <paramref name="lease"/> alive in the background on etcd's keep-alive stream until disposal or until the stream breaks (<see cref="KeepAliveRunning"/>).</summary>
    public void KeepAlive(long lease)
    {
        var token = _stop.Token;
        // A stream that breaks (etcd went away) ends this task; the owner notices through TimeToLive and starts another.
        _keepAlive = Task.Run(async () =>
        {
            try { await _client.LeaseKeepAlive(lease, token).ConfigureAwait(false); }
            catch (Exception) { }
        });
    }

    public bool KeepAliveRunning => _keepAlive is { IsCompleted: false };

    public void Revoke(long lease)
    {
        // At exit: an etcd that is gone must not hold the process up for long; the lease then expires by itself.
        try { Call("revoking a lease", () => _client.LeaseRevoke(new LeaseRevokeRequest { ID = lease }, deadline: DateTime.UtcNow + TimeSpan.FromSeconds(1))); }
        catch (ClusterStoreException) { } // it expires by itself
    }

    public void Put(string key, string value, long lease = 0) =>
        Call($"writing {key}", () => _client.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = lease }, deadline: Deadline));

    public void Delete(string key) => Call($"deleting {key}", () => _client.Delete(key, deadline: Deadline));

    /// <summary>Every key under <paramref name="prefix"/> with its value, in key order.</summary>
    public IReadOnlyList<(string Key, string Value)> Range(string prefix) => Read(prefix, liveOnly: false);

    /// <summary>
    /// As <see cref="Range"/>, without the keys whose lease has run out. etcd deletes them only once its revocation of
    /// the lease has gone through its log, which a slow disk holds up for tens of seconds (a revocation that times out
    /// is retried seconds later), while the lease's own time to live already says it is over: a member record read
    /// here is one whose owner has kept it alive.
    /// </summary>
    public IReadOnlyList<(string Key, string Value)> RangeLive(string prefix) => Read(prefix, liveOnly: true);

    IReadOnlyList<(string Key, string Value)> Read(string prefix, bool liveOnly)
    {
        var r = Call($"reading {prefix}", () => _client.GetRange(prefix, deadline: Deadline));
        var list = new List<(string, string)>(r.Kvs.Count);
        Dictionary<long, bool>? expired = null;
        foreach (var kv in r.Kvs)
        {
            if (liveOnly && kv.Lease != 0)
            {
                expired ??= new Dictionary<long, bool>();
                if (!expired.TryGetValue(kv.Lease, out bool over))
                    // etcd rounds the seconds left toward zero and answers -1 for a lease it no longer has: below zero,
                    // the lease ended at least a second ago, so a record whose keep-alive is merely late stays.
                    expired[kv.Lease] = over = TimeToLive(kv.Lease) < 0;
                if (over) continue;
            }
            string key, value;
            try
            {
                key = StrictUtf8.GetString(kv.Key.Span);
                value = StrictUtf8.GetString(kv.Value.Span);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new ClusterStoreException($"etcd at {Spec.Text}: a key under {prefix} is not UTF-8 text");
            }
            list.Add((key, value));
        }
        return list;
    }

    static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public void Dispose()
    {
        _stop.Cancel();
        _client.Dispose();
    }
}

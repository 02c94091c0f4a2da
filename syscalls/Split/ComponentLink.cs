using System.Collections.Concurrent;
using System.Net.Sockets;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Syscalls.Split;

/// <summary>
/// The home component's end of the link to one thread host. A reader thread queues the host's
/// messages for the home's safe points, counts flush answers, keeps the final report, and answers
/// region queries itself so a host never waits on a home that is busy waiting for it. A link quiet for a
/// quarter of <c>--node-timeout</c> is pinged; a host that stays silent for the whole timeout (frozen, its
/// machine hung) is given up as if it had gone away.
/// </summary>
public sealed class ComponentLink : IDisposable
{
    readonly Thread _reader;
    readonly Func<int, ulong, int> _regionOwner;
    readonly Action _arrived;

    /// <param name="index">The component's number (the home is 0).</param>
    /// <param name="regionOwner">Answers a region query (asid, vRegion) from the home's placement table; called on the reader thread.</param>
    /// <param name="arrived">Asks the home for a safe point soon; called on the reader thread.</param>
    public ComponentLink(int index, Endpoint endpoint, Func<int, ulong, int> regionOwner, Action arrived)
    {
        Index = index;
        Endpoint = endpoint;
        _regionOwner = regionOwner;
        _arrived = arrived;
        var s = endpoint.NewSocket();
        try { s.Connect(endpoint.Address); }
        catch (SocketException e)
        {
            s.Dispose();
            throw new MemoryNodeFailure($"cannot connect to processor component {endpoint}: {e.SocketErrorCode}", e);
        }
        Stream? tls = null;
        try
        {
            // Over TCP with a cluster key the link is TLS, as memory-node links are: the host presents the cluster's certificate.
            s.ReceiveTimeout = s.SendTimeout = NodeTimeout.Milliseconds;
            if (ClusterTls.Applies(endpoint)) tls = ClusterTls.Connect(s);
            s.SendTimeout = 0;
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException or CredentialsException)
        {
            s.Dispose();
            throw new MemoryNodeFailure($"processor component {endpoint}: TLS handshake failed: {e.Message.Split('\n')[0]}", e);
        }
        Link = new LinkSocket(s, tls);
        try { Authenticate(s); }
        catch (Exception e) when (e is SocketException or ProtocolException or IOException)
        {
            Link.Dispose();
            throw new MemoryNodeFailure($"processor component {endpoint}: no handshake: {(e is SocketException se ? se.SocketErrorCode.ToString() : e.Message)}", e);
        }
        _reader = new Thread(Read) { IsBackground = true, Name = $"component-link-{index}" };
    }

    /// <summary>The home's side of the link's handshake (see ThreadHost.Authenticate): a host that cannot prove the key is refused.</summary>
    void Authenticate(Socket s)
    {
        s.ReceiveTimeout = NodeTimeout.Milliseconds;
        var challenge = Link.Receive();
        if (challenge == null || LinkSocket.OpOf(challenge) != LinkOp.Challenge)
            throw new MemoryNodeFailure($"processor component {Endpoint} speaks another protocol");
        var r = LinkSocket.Payload(challenge);
        var hostNonce = r.Bytes(Handshake.NonceBytes).ToArray();
        bool required = r.U8() != 0;
        var key = Credentials.Key;
        if (key == null)
        {
            if (required) throw new MemoryNodeFailure($"processor component {Endpoint} requires credentials: give --credentials DIR (or {Credentials.Variable})");
        }
        else
        {
            if (!required) throw new MemoryNodeFailure($"processor component {Endpoint} does not authenticate (it was started without --credentials); refusing it");
            var nonce = Handshake.NewNonce();
            var w = LinkSocket.Begin(LinkOp.Authenticate);
            w.Bytes(nonce);
            w.Bytes(Handshake.Proof(key, Handshake.HomeRole, hostNonce, nonce));
            Link.Send(w);
            var answer = Link.Receive();
            if (answer == null || LinkSocket.OpOf(answer) != LinkOp.Authenticated)
                throw new MemoryNodeFailure($"processor component {Endpoint} refused this home's credentials");
            var a = LinkSocket.Payload(answer);
            if (!Handshake.Verify(key, Handshake.HostRole, nonce, hostNonce, a.Bytes(Handshake.ProofBytes)))
                throw new MemoryNodeFailure($"processor component {Endpoint} does not hold this cluster's key");
        }
        s.ReceiveTimeout = 0;
    }

    public int Index { get; }
    public Endpoint Endpoint { get; }
    public LinkSocket Link { get; }
    public ConcurrentQueue<byte[]> Inbox { get; } = new();
    /// <summary>Flush answers received so far.</summary>
    public int Flushed;
    public readonly SemaphoreSlim FlushSignal = new(0);
    /// <summary>The host's report after a shutdown (null until it arrives).</summary>
    public byte[]? Report;
    /// <summary>The host's profile frames (<see cref="LinkOp.ProfileCosts"/>), which arrive before its report.</summary>
    public readonly List<byte[]> ProfileFrames = new();
    public readonly ManualResetEventSlim ReportArrived = new(false);
    /// <summary>True once the host has been sent a thread (flushes only go to hosts that may cache something).</summary>
    public bool Used;
    public volatile bool Lost;
    /// <summary>Set when the host was given up for not answering within the node timeout.</summary>
    public volatile bool TimedOut;
    long _lastHeard;
    Timer? _watch;

    /// <summary>Sends the setup and waits for the host to be ready; then starts reading.</summary>
    public void SetUp(FrameWriter setup)
    {
        Link.Send(setup);
        var reply = Link.Receive();
        if (reply == null || LinkSocket.OpOf(reply) != LinkOp.Ready)
            throw new MemoryNodeFailure($"processor component {Endpoint} did not accept the setup");
        Volatile.Write(ref _lastHeard, System.Diagnostics.Stopwatch.GetTimestamp());
        _reader.Start();
        var period = TimeSpan.FromMilliseconds(Math.Max(20, NodeTimeout.Milliseconds / 4));
        _watch = new Timer(_ => Watch(), null, period, period);
    }

    /// <summary>On a timer: pings a quiet link, and gives up a host silent for longer than the node timeout.</summary>
    void Watch()
    {
        if (Lost)
        {
            _watch?.Dispose();
            return;
        }
        var quiet = System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _lastHeard));
        if (quiet > NodeTimeout.Value)
        {
            TimedOut = true;
            _watch?.Dispose();
            // The reader's receive fails: the link is lost.
            try { Link.Socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            Link.Socket.Dispose();
            return;
        }
        if (quiet.TotalMilliseconds < NodeTimeout.Milliseconds / 4) return;
        try { Link.Send(LinkSocket.Begin(LinkOp.Ping, 16)); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    void Read()
    {
        try
        {
            while (true)
            {
                var body = Link.Receive();
                if (body == null) break;
                Volatile.Write(ref _lastHeard, System.Diagnostics.Stopwatch.GetTimestamp());
                switch (LinkSocket.OpOf(body))
                {
                    case LinkOp.Pong:
                        break;
                    case LinkOp.Flushed:
                        Interlocked.Increment(ref Flushed);
                        FlushSignal.Release();
                        break;
                    case LinkOp.ProfileCosts:
                        lock (ProfileFrames) ProfileFrames.Add(body);
                        break;
                    case LinkOp.Report:
                        Report = body;
                        ReportArrived.Set();
                        break;
                    case LinkOp.RegionQuery:
                    {
                        var r = LinkSocket.Payload(body);
                        int asid = r.I32();
                        ulong region = r.U64();
                        var w = LinkSocket.Begin(LinkOp.RegionOwner);
                        w.I32(_regionOwner(asid, region));
                        Link.Send(w);
                        break;
                    }
                    default:
                        Inbox.Enqueue(body);
                        _arrived();
                        break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ProtocolException or IOException) { }
        Lost = true;
        ReportArrived.Set();
        FlushSignal.Release();
        _arrived();
    }

    public void Dispose()
    {
        _watch?.Dispose();
        Link.Dispose();
    }
}

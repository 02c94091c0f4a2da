using System.Net.Sockets;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Tests.Differential;
using LegoEmu.Tests.Remote;
using Xunit;

namespace LegoEmu.Tests.Fuzz;

/// <summary>
/// Mutated request streams against a running memory node, before and after the handshake. Each case is one
/// connection: the node may answer, and must in the end close it (at the peer's end of stream at the latest);
/// it must never die, log a stack trace or an internal error, and a healthy client on the same node keeps its
/// data and its service throughout. At the end every space the fuzz connections made is gone again.
/// </summary>
public sealed class MemnodeProtocolFuzzTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-netfuzz-").FullName;
    readonly MemoryNodeProcess _node;
    readonly Endpoint _endpoint;

    public MemnodeProtocolFuzzTests()
    {
        // Children's spaces that nobody claims (a fuzzed ForkSpace) go after a second rather than the default two minutes.
        _node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "node.sock")}", extra: ["--handover-grace", "1"]);
        Endpoint.TryParse(_node.Endpoint, out _endpoint!, out _);
    }

    public void Dispose()
    {
        _node.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    static byte[] Frame(Op op, uint id, Action<FrameWriter> body)
    {
        var w = new FrameWriter(256);
        w.Begin((byte)op, id);
        body(w);
        return w.Finish().ToArray();
    }

    static byte[] Hello(uint id = 1) => Frame(Op.Hello, id, w => { w.U64(Protocol.Magic); w.U16(Protocol.Version); w.Bytes(new byte[16]); });

    /// <summary>A plausible request stream of one client: a space of its own and a few operations on it (or on a stranger's id).</summary>
    static byte[] Requests(Random rng)
    {
        var stream = new List<byte>();
        int asid = rng.Next(4) == 0 ? rng.Next() : 1_000_000 + rng.Next(1_000_000);
        ulong key = (ulong)rng.NextInt64();
        stream.AddRange(Frame(Op.CreateSpace, 2, w => { w.I32(asid); w.U64(key); }));
        ulong addr = 0x10000UL + ((ulong)rng.Next(64) << 12);
        int n = 1 + rng.Next(5);
        for (uint id = 3; id < 3 + n; id++)
        {
            byte[] f = rng.Next(18) switch
            {
                0 => Frame(Op.Map, id, w => { w.I32(asid); w.U64(addr); w.U64(0x4000); w.U8(3); w.I32(0x32); w.Str("fuzz"); }),
                1 => Frame(Op.Poke, id, w => { w.I32(asid); w.U64(addr); w.Bytes(new byte[rng.Next(64)]); }),
                2 => Frame(Op.Fill, id, w => { w.I32(asid); w.U64(addr); w.U32(4096); }),
                3 => Frame(Op.WriteBack, id, w => { w.I32(asid); w.U64(addr); w.Bytes(new byte[4096]); }),
                4 => Frame(Op.WriteBackFill, id, w => { w.I32(asid); w.U64(addr); w.Bytes(new byte[64]); w.U64(addr + 4096); w.U32(64); }),
                5 => Frame(Op.Snapshot, id, w => w.I32(asid)),
                6 => Frame(Op.Unmap, id, w => { w.I32(asid); w.U64(addr); w.U64(0x1000); }),
                7 => Frame(Op.Protect, id, w => { w.I32(asid); w.U64(addr); w.U64(0x1000); w.U8(1); }),
                8 => Frame(Op.SetBrkBase, id, w => { w.I32(asid); w.U64(0x600000); }),
                9 => Frame(Op.Brk, id, w => { w.I32(asid); w.U64(0x700000); }),
                10 => Frame(Op.ForkSpace, id, w => { w.I32(asid); w.I32(asid + 1); w.U64(key + 1); }),
                11 => Frame(Op.Share, id, w => { w.I32(asid); w.U64(addr); w.U64(0x1000); w.Str("anon:fuzz"); w.U64(0); }),
                12 => Frame(Op.ClaimSpace, id, w => { w.I32(rng.Next()); w.U64((ulong)rng.NextInt64()); }),
                13 => Frame(Op.ReleaseSpace, id, w => w.I32(asid)),
                14 => Frame(Op.DestroySpace, id, w => w.I32(asid)),
                15 => Frame(Op.Attach, id, w => { w.U64((ulong)rng.NextInt64()); w.U8((byte)rng.Next(2)); }),
                16 => Frame(Op.CoherentFill, id, w => { w.I32(asid); w.U64(addr); w.U32(4096); w.U8(1); }),
                _ => Frame(Op.Stats, id, _ => { }),
            };
            stream.AddRange(f);
        }
        return stream.ToArray();
    }

    /// <summary>Sends one case on its own connection and reads until the node closes it.</summary>
    void Play(byte[] bytes, string what)
    {
        using var s = _endpoint.NewSocket();
        s.Connect(_endpoint.Address);
        s.ReceiveTimeout = (int)EmulatorRunner.RunTimeout.TotalMilliseconds;
        try
        {
            s.Send(bytes);
            s.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException) { } // the node may close before it has read everything
        var buf = new byte[65536];
        try
        {
            while (s.Receive(buf) > 0) { }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { }
        catch (SocketException e) { Assert.Fail($"{what}: the node did not close the connection ({e.SocketErrorCode})"); }
    }

    void AssertHealthy(MemoryCluster healthy, int asid, byte[] expected, string what)
    {
        Assert.False(_node.HasExited, $"{what}: the node died: {_node.Log}");
        var line = new byte[4096];
        Assert.Equal(FillStatus.Data, healthy.Fill(asid, 0x20000, line, out _));
        Assert.True(line.AsSpan().SequenceEqual(expected), $"{what}: the healthy client's data changed");
    }

    void AssertCleanLog()
    {
        string log = _node.Log;
        Assert.DoesNotContain("   at ", log);
        Assert.DoesNotContain("internal error", log);
        Assert.DoesNotContain("Unhandled", log);
    }

    void Fuzz(int cases, Func<Random, byte[]> valid, int protectedPrefix, string phase)
    {
        using var healthy = new MemoryCluster([_endpoint]);
        int asid = healthy.CreateAddressSpace();
        Assert.True(healthy.Map(asid, 0x20000, 0x1000, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "healthy") > 0);
        var expected = new byte[4096];
        new Random(7).NextBytes(expected);
        healthy.Poke(asid, 0x20000, expected);
        healthy.Nodes[0].RefreshStats();
        long baseline = healthy.Nodes[0].UsedFrames;

        for (int i = 0; i < cases; i++)
        {
            var rng = FuzzSettings.For(i * 2 + (phase == "after" ? 1 : 0));
            string what = $"{phase}-handshake case {i} (LEGOEMU_FUZZ_SEED={FuzzSettings.Seed})";
            byte[] input = valid(rng);
            byte[] mutant = Mutator.Mutate(input[protectedPrefix..], rng, [(0, 9), (0, input.Length - protectedPrefix)]);
            Play([.. input[..protectedPrefix], .. mutant], what);
            if (i % 200 == 0) AssertHealthy(healthy, asid, expected, what);
        }
        AssertHealthy(healthy, asid, expected, $"{phase}-handshake fuzzing");
        AssertCleanLog();

        // Whatever the fuzz connections made went with them.
        var deadline = DateTime.UtcNow + EmulatorRunner.RunTimeout;
        healthy.Nodes[0].RefreshStats();
        while (healthy.Nodes[0].UsedFrames != baseline && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
            healthy.Nodes[0].RefreshStats();
        }
        Assert.Equal(baseline, healthy.Nodes[0].UsedFrames);
    }

    [Fact]
    public void BeforeTheHandshake() => Fuzz(FuzzSettings.Cases(1500), rng => [.. Hello(), .. Requests(rng)], 0, "before");

    [Fact]
    public void AfterTheHandshake()
    {
        byte[] hello = Hello();
        Fuzz(FuzzSettings.Cases(1500), rng => [.. hello, .. Requests(rng)], hello.Length, "after");
    }
}

using System.Diagnostics;
using LegoEmu.Cluster.Nodes;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Bench;

/// <summary>Round-trip time of one 4 KiB line between a processor component and a memory node, per transport.</summary>
public static class LatencyBench
{
    public static int Run(int samples, TextWriter o)
    {
        o.WriteLine($"ExCache miss latency, {samples:N0} samples per row, 4 KiB lines (fills of written data; write-back+fill is one combined request;");
        o.WriteLine($"fill, dirty victim queued: the victim's write-back follows the fill unwaited; {Pipelined} fills pipelined: time per line of {Pipelined} fills sent at once, as prefetch does;");
        o.WriteLine("shared ring: the Unix socket's node with the frames in a shared-memory ring beside the socket, every line a message;");
        o.WriteLine("one-sided: the same ring, and the node's frames mapped: a granted line is copied out of or into its frame, no message (the default for Unix sockets);");
        o.WriteLine("TLS: TCP with credentials, encrypted and authenticated; 2 copies: --replicas 2, where write-back+fill is a write-back to both nodes, then the fill)");
        o.WriteLine($"{"memory component",-22} {"operation",-26} {"p50 us",8} {"p99 us",8} {"mean us",8}");
        Measure("in-process", new InProcessMemoryComponent(), samples, o);
        // The same node process, reached over its socket, then through a shared-memory ring beside the socket.
        bool ring = RingTransport.Enabled, oneSided = RingTransport.OneSided;
        try
        {
            using var nodes = LocalNodes.MemoryNodes(1, 0);
            RingTransport.Enabled = false;
            using (var cluster = new MemoryCluster(nodes.Endpoints))
                Measure("node over Unix socket", cluster, samples, o);
            RingTransport.Enabled = true;
            RingTransport.OneSided = false;
            using (var cluster = new MemoryCluster(nodes.Endpoints))
            {
                if (cluster.Nodes[0].Transport != "ring") o.WriteLine($"(the node declined a shared-memory ring: {RingTransport.Variable} is set to turn it off)");
                else Measure("node over shared ring", cluster, samples, o);
            }
            RingTransport.OneSided = true;
            using (var cluster = new MemoryCluster(nodes.Endpoints))
            {
                if (!cluster.Nodes[0].MapsFrames) o.WriteLine($"(the node passed no frame arena: {RingTransport.Variable} or {RingTransport.OneSidedVariable} is set to turn it off)");
                else Measure("node, one-sided", cluster, samples, o);
            }
        }
        finally
        {
            RingTransport.Enabled = ring;
            RingTransport.OneSided = oneSided;
        }
        // TCP as it was before TLS (no credentials: loopback only), then with a cluster key, which encrypts the link.
        Credentials.Forget();
        using (var nodes = LocalNodes.MemoryNodes(1, 0, tcp: true, freshKey: false))
        using (var cluster = new MemoryCluster(nodes.Endpoints))
            Measure("node over TCP loopback", cluster, samples, o);
        using (var nodes = LocalNodes.MemoryNodes(1, 0, tcp: true))
        using (var cluster = new MemoryCluster(nodes.Endpoints))
            Measure("node over TCP with TLS", cluster, samples, o);
        // Two copies: fills from the primary, every write-back to the primary and the backup (both answer before it counts).
        using (var nodes = LocalNodes.MemoryNodes(2, 0, false))
        {
            int factor = Replication.Factor;
            Replication.Factor = 2;
            try
            {
                using var cluster = new MemoryCluster(nodes.Endpoints);
                Measure(cluster.Nodes[0].Transport == "ring" ? "2 copies, shared rings" : "2 copies, Unix sockets", cluster, samples, o);
            }
            finally { Replication.Factor = factor; }
        }
        return 0;
    }

    static void Measure(string name, IMemoryComponent c, int samples, TextWriter o)
    {
        int asid = c.CreateAddressSpace();
        const int lines = 4096; // 16 MiB of distinct lines, so the node's frames are not all hot in the host cache
        ulong base_ = (ulong)c.Map(asid, 0, lines * 4096UL, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, "bench");
        var line = new byte[4096];
        new Random(1).NextBytes(line);
        for (int i = 0; i < lines; i++) c.WriteBack(asid, base_ + (ulong)i * 4096, line);
        var dst = new byte[4096];
        // Every line once at least: a same-host node grants each line's frame at its first fill.
        for (int warm = 0; warm < lines; warm++) c.Fill(asid, base_ + (ulong)(warm % lines) * 4096, dst, out _);

        var fill = new double[samples];
        var combined = new double[samples];
        var rng = new Random(2);
        for (int i = 0; i < samples; i++)
        {
            ulong a = base_ + (ulong)rng.Next(lines) * 4096;
            long t0 = Stopwatch.GetTimestamp();
            c.Fill(asid, a, dst, out _);
            fill[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
            ulong b = base_ + (ulong)rng.Next(lines) * 4096;
            t0 = Stopwatch.GetTimestamp();
            c.WriteBackAndFill(asid, a, dst, b, dst, out _, out _);
            combined[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
        }
        Row(o, name, "fill", fill);
        Row(o, name, "write-back+fill", combined);
        if (c is IPipelinedMemory p)
        {
            var sink = new Sink();
            p.Target = sink;
            var queued = new double[samples];
            var pipelined = new double[samples];
            var victim = new byte[4096];
            new Random(3).NextBytes(victim);
            for (int i = 0; i < samples; i++)
            {
                ulong a = base_ + (ulong)rng.Next(lines) * 4096, v = base_ + (ulong)rng.Next(lines) * 4096;
                long t0 = Stopwatch.GetTimestamp();
                p.FillThenWriteBack(asid, a, dst, out _, asid, v, victim, i, out _);
                queued[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
                t0 = Stopwatch.GetTimestamp();
                for (int k = 0; k < Pipelined; k++) p.QueuePrefetch(asid, base_ + (ulong)rng.Next(lines) * 4096, 4096, k);
                p.FlushQueued();
                p.DrainAll();
                pipelined[i] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency / Pipelined;
            }
            p.DrainAll();
            Row(o, name, "fill, dirty victim queued", queued);
            Row(o, name, $"{Pipelined} fills pipelined", pipelined);
        }
        c.DestroyAddressSpace(asid);
    }

    const int Pipelined = 8;

    /// <summary>Takes the asynchronous replies (their bytes are not needed here).</summary>
    sealed class Sink : IPipelinedTarget
    {
        public void PrefetchArrived(int token, FillStatus status, Protection prot, ReadOnlySpan<byte> data) { }
        public void WriteBackAcknowledged(int token, bool failed) { }
    }

    static void Row(TextWriter o, string name, string op, double[] us)
    {
        Array.Sort(us);
        double p50 = us[us.Length / 2], p99 = us[Math.Min(us.Length - 1, (int)(us.Length * 0.99))];
        o.WriteLine($"{name,-22} {op,-26} {p50,8:F1} {p99,8:F1} {us.Average(),8:F1}");
    }
}

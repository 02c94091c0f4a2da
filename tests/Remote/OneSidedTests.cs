using System.Diagnostics;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Mem.Space;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// One-sided access to a memory node on this host: over a Unix socket the node passes its frame arena with the ring,
/// and a page it grants is filled and written back by a copy out of and into its frame, with no message. Grants go
/// before any request that could change their frames, and a grant in the reply to a request sent before such a request
/// is not taken. The differential guest <c>granted_frames</c> covers forks, munmap and mmap, mprotect and brk under the
/// emulator; these check the link's rules directly.
/// </summary>
public sealed class OneSidedTests : IDisposable
{
    const ulong Base = 0x10000000;
    const int Line = 4096;
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-onesided-").FullName;
    readonly MemoryNodeProcess _node;
    readonly List<IDisposable> _owned = new();

    public OneSidedTests() => _node = new MemoryNodeProcess($"unix:{Path.Combine(_dir, "node.sock")}");

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _node.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    MemoryCluster Cluster()
    {
        Endpoint.TryParse(_node.Endpoint, out var ep, out _);
        var cluster = new MemoryCluster([ep!]);
        _owned.Add(cluster);
        Assert.True(cluster.Nodes[0].MapsFrames, "the node passed no frame arena with its ring");
        return cluster;
    }

    (GuestAddressSpace Space, CacheView View) Make(MemoryCluster cluster, CacheConfig config)
    {
        var cache = new ExCache(config, cluster);
        _owned.Add(cache);
        var space = new GuestAddressSpace(cluster, cache);
        return (space, new CacheView(cache, space.Asid));
    }

    static ulong Pattern(ulong addr, int pass) => addr * 0x9E3779B97F4A7C15UL + (ulong)pass;

    static void Write(CacheView view, ulong start, int pages, int pass)
    {
        for (ulong a = start; a < start + (ulong)pages * Line; a += 512) view.Write64(a, Pattern(a, pass));
    }

    static void Check(CacheView view, ulong start, int pages, int pass)
    {
        for (ulong a = start; a < start + (ulong)pages * Line; a += 512)
            Assert.True(view.Read64(a) == (pass < 0 ? 0 : Pattern(a, pass)), $"0x{a:x} after pass {pass}");
    }

    [Theory]
    [InlineData(PrefetchMode.Off)]
    [InlineData(PrefetchMode.Stride)]
    public void LinesEvictedDirtyGoOneSidedAndReadBackWhatWasWritten(PrefetchMode prefetch)
    {
        var cluster = Cluster();
        var (space, view) = Make(cluster, new CacheConfig(16 * Line, 4, Line, ReplacementPolicy.Fifo) { Prefetch = prefetch, PrefetchDepth = 4 });
        const int pages = 128;
        Assert.Equal((long)Base, space.Map(Base, pages * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (int pass = 0; pass < 4; pass++) Write(view, Base, pages, pass);
        Check(view, Base, pages, 3);
        var st = cluster.Nodes[0].Stats;
        // The first write-back of each page makes its frame (a message); its next fill grants it, and from then on both go one-sided.
        Assert.True(st.OneSidedFills > pages && st.OneSidedWriteBacks > pages, $"one-sided fills {st.OneSidedFills}, write-backs {st.OneSidedWriteBacks}");
        Assert.True(st.Fills < 3 * pages, $"message fills {st.Fills}");
    }

    [Fact]
    public void AFrameFreedByMunmapServesANewPageAndTheOldGrantIsGone()
    {
        var cluster = Cluster();
        var (space, view) = Make(cluster, new CacheConfig(16 * Line, 4, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Off });
        const int pages = 64;
        ulong other = Base + (1UL << 24), again = Base + (2UL << 24);
        var rw = MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed;
        Assert.Equal((long)Base, space.Map(Base, pages * Line, Protection.ReadWrite, rw));
        Assert.Equal((long)other, space.Map(other, pages * Line, Protection.ReadWrite, rw));
        for (int pass = 0; pass < 3; pass++)
        {
            Write(view, Base, pages, pass);
            Write(view, other, pages, pass);
        }
        Assert.True(cluster.Nodes[0].Grants > pages, $"grants {cluster.Nodes[0].Grants}");
        // The node frees the first range's frames; the new range's pages get them.
        Assert.Equal(0, space.Unmap(Base, pages * Line));
        Assert.False(cluster.Nodes[0].HoldsGrant(space.Asid, Base));
        Assert.True(cluster.Nodes[0].HoldsGrant(space.Asid, other + Line * 5));
        Assert.Equal((long)again, space.Map(again, pages * Line, Protection.ReadWrite, rw));
        for (int pass = 10; pass < 13; pass++) Write(view, again, pages, pass);
        Assert.Equal((long)Base, space.Map(Base, pages * Line, Protection.ReadWrite, rw));
        Check(view, Base, pages, -1);
        Check(view, again, pages, 12);
        Check(view, other, pages, 2);
        Write(view, other, pages, 20);
        Check(view, again, pages, 12);
        Check(view, other, pages, 20);
    }

    [Theory]
    [InlineData(PrefetchMode.Off, true)]
    [InlineData(PrefetchMode.Stride, true)]
    [InlineData(PrefetchMode.Off, false)]
    public void AGrantedFrameIsMappedInPlaceAndAStoreLandsInItAtOnce(PrefetchMode prefetch, bool queued)
    {
        var cluster = Cluster();
        var (space, view) = Make(cluster, new CacheConfig(16 * Line, 4, Line, ReplacementPolicy.Fifo) { Prefetch = prefetch, PrefetchDepth = 4, QueueWriteBacks = queued });
        var cache = view.Cache;
        const int pages = 128;
        Assert.Equal((long)Base, space.Map(Base, pages * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (int pass = 0; pass < 4; pass++) Write(view, Base, pages, pass);
        Check(view, Base, pages, 3);
        // From the second pass on, the pages' frames are granted: their fills map them, and their write-backs copy nothing.
        Assert.True(cache.Stats.MappedFills > pages, $"mapped fills {cache.Stats.MappedFills}");
        Assert.Equal(cache.Stats.WriteBacks, cluster.Nodes[0].Stats.WriteBacks + cluster.Nodes[0].Stats.OneSidedWriteBacks);
        // The last pages may have no grant now (prefetched by message at the end): the first ones are written again.
        Write(view, Base, 12, 4);
        ulong a = 0;
        for (int p = 0; p < 12 && a == 0; p++)
            if (cache.IsMapped(space.Asid, Base + (ulong)p * Line)) a = Base + (ulong)p * Line;
        Assert.True(a != 0, $"no cached line maps its frame ({cache.MappedLines} mapped)");
        // The store is in the node's frame before any write-back: the link's own one-sided fill reads it there.
        long writeBacks = cache.Stats.WriteBacks;
        view.Write64(a + 8, 0x5eed);
        var frame = new byte[Line];
        Assert.Equal(FillStatus.Data, cluster.Fill(space.Asid, a, frame, out _));
        Assert.Equal(0x5eedUL, BitConverter.ToUInt64(frame, 8));
        Assert.Equal(writeBacks, cache.Stats.WriteBacks);
    }

    [Fact]
    public void AMappedLineWhoseGrantGoesKeepsItsBytesAndAForkSeesNoStoreMadeAfterIt()
    {
        var cluster = Cluster();
        var (space, view) = Make(cluster, new CacheConfig(16 * Line, 4, Line, ReplacementPolicy.Fifo) { Prefetch = PrefetchMode.Off });
        var cache = view.Cache;
        const int pages = 128;
        Assert.Equal((long)Base, space.Map(Base, pages * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed));
        for (int pass = 0; pass < 4; pass++) Write(view, Base, pages, pass);
        Write(view, Base, 8, 4);
        for (int p = 0; p < 8; p++) Assert.True(cache.IsMapped(space.Asid, Base + (ulong)p * Line), $"page {p} is not mapped");
        // A request that may change four of the frames, straight to the node (the cache is not flushed first): their
        // lines stop using the frames, dirty as they were, and read what was written.
        long copiedOut = cache.Stats.MappedCopiedOut;
        Assert.Equal(0, cluster.Protect(space.Asid, Base, 4 * Line, Protection.ReadWrite));
        Assert.Equal(copiedOut + 4, cache.Stats.MappedCopiedOut);
        for (int p = 0; p < 8; p++) Assert.Equal(p >= 4, cache.IsMapped(space.Asid, Base + (ulong)p * Line));
        Check(view, Base, 8, 4);
        Write(view, Base, 8, 5);
        // A fork (the cache written back first, as the runtime does) takes every grant: no store after it reaches a frame the child shares.
        cache.WriteBackAll();
        int child = cluster.ForkAddressSpace(space.Asid);
        Assert.True(child > 0);
        Assert.Equal(0, cache.MappedLines);
        Write(view, Base, 8, 6);
        Write(view, Base + 8 * Line, pages - 8, 7);
        Check(view, Base, 8, 6);
        Check(view, Base + 8 * Line, pages - 8, 7);
        var line = new byte[Line];
        for (int p = 0; p < pages; p++)
        {
            ulong a = Base + (ulong)p * Line;
            Assert.Equal(FillStatus.Data, cluster.Fill(child, a, line, out _));
            Assert.True(BitConverter.ToUInt64(line, 0) == Pattern(a, p < 8 ? 5 : 3), $"the child's page {p}");
        }
        cluster.ReleaseAddressSpace(child);
    }

    sealed class Recorder : IPipelinedTarget
    {
        public readonly List<(int Token, FillStatus Status, byte[] Data)> Prefetches = new();
        public readonly List<int> Acknowledged = new();

        public void PrefetchArrived(int token, FillStatus status, Protection prot, ReadOnlySpan<byte> data) => Prefetches.Add((token, status, data.ToArray()));

        public void WriteBackAcknowledged(int token, bool failed) => Acknowledged.Add(token);
    }

    /// <summary>A cluster without a cache: a space mapped at <see cref="Base"/> with <paramref name="pages"/> pages of known bytes.</summary>
    (MemoryCluster Cluster, int Asid, Recorder Target) Bare(int pages)
    {
        var cluster = Cluster();
        var target = new Recorder();
        cluster.Target = target;
        int asid = cluster.CreateAddressSpace();
        Assert.Equal((long)Base, cluster.Map(asid, Base, (ulong)pages * Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "test"));
        for (int p = 0; p < pages; p++) cluster.Poke(asid, Base + (ulong)p * Line, Page(p, 1));
        return (cluster, asid, target);
    }

    static byte[] Page(int page, byte version)
    {
        var data = new byte[Line];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(page * 7 + i + version);
        return data;
    }

    [Fact]
    public void AGrantInTheReplyToAFillSentBeforeAnInvalidatingRequestIsNotTaken()
    {
        var (cluster, asid, target) = Bare(4);
        var node = cluster.Nodes[0];
        var line = new byte[Line];
        // a's fill grants the page after it too (c): b, before a, is granted only by a reply to a fill of its own.
        ulong a = Base + 2 * Line, b = Base + Line, c = Base + 3 * Line;
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, a, line, out _));
        Assert.True(node.HoldsGrant(asid, a));
        Assert.True(node.HoldsGrant(asid, c));
        // A prefetch of b is on its way when an mprotect of b begins: its reply, read while the mprotect waits for its
        // own, may carry b's grant, which the node gave before it ran the mprotect: it is not taken.
        Assert.Equal(0, cluster.QueuePrefetch(asid, b, Line, token: 7));
        cluster.FlushQueued();
        Assert.Equal(0, cluster.Protect(asid, b, Line, Protection.Read));
        var arrived = Assert.Single(target.Prefetches);
        Assert.Equal((7, FillStatus.Data), (arrived.Token, arrived.Status));
        Assert.Equal(Page(1, 1), arrived.Data);
        Assert.False(node.HoldsGrant(asid, b));
        Assert.True(node.HoldsGrant(asid, c));
        // Outside the range, a's grant lives on; b's next fill takes its grant.
        Assert.True(node.HoldsGrant(asid, a));
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, b, line, out _));
        Assert.True(node.HoldsGrant(asid, b));
        Assert.Equal(Page(1, 1), line);
    }

    [Fact]
    public void AGrantInTheReplyToAFillSentBeforeARequestThatInvalidatesOtherPagesIsTaken()
    {
        var (cluster, asid, target) = Bare(4);
        var node = cluster.Nodes[0];
        ulong b = Base + Line, c = Base + 3 * Line;
        // As above, but the mprotect is of c only (as glibc's of a thread's arena growing elsewhere): b's grant, and the
        // grant its fill gives ahead for the page after it, are taken; c's goes with the mprotect.
        Assert.Equal(0, cluster.QueuePrefetch(asid, b, Line, token: 7));
        cluster.FlushQueued();
        Assert.Equal(0, cluster.Protect(asid, c, Line, Protection.Read));
        Assert.Equal(7, Assert.Single(target.Prefetches).Token);
        Assert.True(node.HoldsGrant(asid, b));
        Assert.True(node.HoldsGrant(asid, Base + 2 * Line));
        Assert.False(node.HoldsGrant(asid, c));
    }

    [Fact]
    public void AFillGrantsThePagesAfterItThatTheNodeHoldsAndAReadInOrderGoesOneSided()
    {
        // 40 pages the node holds (poked: no grant yet), read in order as a guest reads a file it mapped.
        var (cluster, asid, _) = Bare(40);
        var node = cluster.Nodes[0];
        var line = new byte[Line];
        for (int p = 0; p < 40; p++)
        {
            Assert.Equal(FillStatus.Data, cluster.Fill(asid, Base + (ulong)p * Line, line, out _));
            Assert.Equal(Page(p, 1), line);
        }
        // Page 0's fill grants pages 1-16 with it, page 17's 18-33, page 34's 35-39 (the mapping ends there).
        Assert.Equal((3, 37), (node.Stats.Fills, node.Stats.OneSidedFills));
        Assert.False(node.HoldsGrant(asid, Base + 40 * Line));
    }

    [Fact]
    public void APageWhoseWriteBackIsOnItsWayIsNotGrantedAheadUntilTheWriteBackIsAnswered()
    {
        var (cluster, asid, target) = Bare(4);
        var node = cluster.Nodes[0];
        ulong a = Base, b = Base + Line, c = Base + 2 * Line;
        // A prefetch of a, then b's write-back by message behind it: a's reply grants the pages after a, and is read
        // while b's write-back is on its way, which would land after a copy made into b's frame from its grant.
        Assert.Equal(0, cluster.QueuePrefetch(asid, a, Line, token: 3));
        Assert.True(cluster.QueueWriteBack(asid, b, Page(1, 2), token: 9));
        cluster.FlushQueued();
        cluster.ReceiveOne(0);
        Assert.Equal(3, Assert.Single(target.Prefetches).Token);
        Assert.True(node.HoldsGrant(asid, a));
        Assert.False(node.HoldsGrant(asid, b));
        Assert.True(node.HoldsGrant(asid, c));
        // The write-back's own reply grants b once it has landed.
        cluster.DrainAll();
        Assert.Equal(9, Assert.Single(target.Acknowledged));
        Assert.True(node.HoldsGrant(asid, b));
        var line = new byte[Line];
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, b, line, out _));
        Assert.Equal(Page(1, 2), line);
    }

    [Fact]
    public void APrefetchServedFromAGrantedFrameArrivesBeforeTheRequestThatFreesTheFrame()
    {
        var (cluster, asid, target) = Bare(2);
        var node = cluster.Nodes[0];
        var line = new byte[Line];
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, Base, line, out _));
        long oneSided = node.Stats.OneSidedFills;
        // Served from the frame: held back until the batch is flushed, or, here, until the munmap that frees the frame begins.
        Assert.Equal(0, cluster.QueuePrefetch(asid, Base, Line, token: 3));
        Assert.Equal(oneSided + 1, node.Stats.OneSidedFills);
        Assert.Empty(target.Prefetches);
        Assert.Equal(0, cluster.Unmap(asid, Base, Line));
        var arrived = Assert.Single(target.Prefetches);
        Assert.Equal(3, arrived.Token);
        Assert.Equal(Page(0, 1), arrived.Data);
        Assert.False(node.HoldsGrant(asid, Base));
        // A new page takes the freed frame; the old address, mapped again, reads as a fresh page.
        ulong next = Base + 2 * Line;
        Assert.Equal((long)next, cluster.Map(asid, next, Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "next"));
        cluster.Poke(asid, next, Page(9, 9));
        Assert.Equal((long)Base, cluster.Map(asid, Base, Line, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "again"));
        // Zeros, from a frame of its own: on a link that grants, a page with no frame gets one (its next fills need no message).
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, Base, line, out _));
        Assert.Equal(new byte[Line], line);
        Assert.True(node.HoldsGrant(asid, Base));
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, next, line, out _));
        Assert.Equal(Page(9, 9), line);
        Assert.True(node.HoldsGrant(asid, next));
    }

    [Fact]
    public void AForkTakesTheParentsGrantsAndAWriteAfterItStaysTheParents()
    {
        var (cluster, asid, _) = Bare(2);
        var node = cluster.Nodes[0];
        var line = new byte[Line];
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, Base, line, out _));
        Assert.True(node.HoldsGrant(asid, Base));
        int child = cluster.ForkAddressSpace(asid);
        Assert.True(child > 0);
        Assert.Equal(0, node.Grants);
        // Shared with the child now: no grant, and the parent's write-back goes by message, copying the frame.
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, Base, line, out _));
        Assert.False(node.HoldsGrant(asid, Base));
        cluster.WriteBack(asid, Base, Page(0, 5));
        Assert.Equal(FillStatus.Data, cluster.Fill(child, Base, line, out _));
        Assert.Equal(Page(0, 1), line);
        // The child's space has two holders (this link made it for a child): never granted here.
        Assert.False(node.HoldsGrant(child, Base));
        Assert.Equal(FillStatus.Data, cluster.Fill(asid, Base, line, out _));
        Assert.Equal(Page(0, 5), line);
        cluster.ReleaseAddressSpace(child);
    }

    const string LoopSource = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        /* Writes 1 MiB again and again: after the first passes every miss and write-back of it is one-sided. */
        int main(void) {
            size_t n = 1 << 20;
            volatile char *p = malloc(n);
            memset((char *)p, 1, n);
            for (int round = 0; ; round++) {
                for (size_t i = 0; i < n; i += 64) p[i]++;
                if (round == 4) { printf("ready\n"); fflush(stdout); }
            }
        }
        """;

    [Fact]
    public async Task ANodeKilledWhileEveryMissIsOneSidedIsNamedAndTheGuestStops()
    {
        using var guest = await InlineGuest.BuildAsync("loop", LoopSource);
        var (file, prefix) = EmulatorRunner.Command;
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in prefix.Concat(["run", "--memory-nodes", _node.Endpoint, "--excache", "64K", guest.Binary])) psi.ArgumentList.Add(arg);
        using var run = Process.Start(psi)!;
        var stderr = run.StandardError.ReadToEndAsync();
        try
        {
            Assert.Equal("ready", await run.StandardOutput.ReadLineAsync().WaitAsync(EmulatorRunner.RunTimeout));
            _node.Kill();
            Assert.True(run.WaitForExit(EmulatorRunner.RunTimeout), "the guest went on without its node");
            Assert.Equal(128 + 7, run.ExitCode);
            var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"memory node {_node.Endpoint} (node 0) closed the connection", line);
        }
        finally
        {
            if (!run.HasExited) run.Kill();
        }
    }
}

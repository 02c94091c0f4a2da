using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using Xunit;

namespace LegoEmu.Tests.Remote;

/// <summary>
/// A connection touches only the address spaces it made or claimed with their key: another client's space
/// answers as if it did not exist, a wrong key is told nothing more, and the right key hands it over.
/// </summary>
public sealed class SpaceIsolationTests : IDisposable
{
    readonly MemoryNodeProcess _node = new();
    readonly Endpoint _endpoint;

    public SpaceIsolationTests() => Endpoint.TryParse(_node.Endpoint, out _endpoint!, out _);

    public void Dispose() => _node.Dispose();

    [Fact]
    public void AnotherClientsSpaceIsInvisibleWithoutItsKey()
    {
        using var owner = new MemoryCluster([_endpoint]);
        int asid = owner.CreateAddressSpace();
        Assert.True(asid > 0);
        Assert.True(owner.Map(asid, 0x10000, 0x1000, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous | MapFlags.Fixed, "secret") > 0);
        owner.Poke(asid, 0x10000, "private data"u8);
        var (home, owners, brk, key) = owner.Describe(asid);

        // A stranger that names the space: the node closes its connection as for any unknown id.
        using (var stranger = new MemoryNodeClient(_endpoint, 0))
        {
            stranger.Begin(Op.Snapshot).I32(asid);
            Assert.Throws<MemoryNodeFailure>(() => stranger.Call());
        }
        Assert.Contains($"unknown address space {asid}", WaitForLog($"unknown address space {asid}"));

        // A wrong key is refused like a missing space.
        using (var guesser = new MemoryNodeClient(_endpoint, 0))
        {
            Assert.Equal(-Errno.ENOENT, guesser.ClaimSpace(asid, key ^ 1));
            Assert.Equal(-Errno.ENOENT, guesser.ClaimSpace(asid + 1, key));
        }

        // The right key hands it over: the claimant reads what the owner wrote.
        using var heir = new MemoryCluster([_endpoint]);
        heir.Attach(asid, home, owners, brk, key);
        var line = new byte[4096];
        Assert.Equal(FillStatus.Data, heir.Fill(asid, 0x10000, line, out _));
        Assert.Equal("private data"u8.ToArray(), line[..12]);
    }

    string WaitForLog(string fragment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !_node.Log.Contains(fragment)) Thread.Sleep(20);
        return _node.Log;
    }
}

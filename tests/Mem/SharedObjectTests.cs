using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using Xunit;

namespace LegoEmu.Tests.Mem;

/// <summary>Shared objects of the in-process memory component: the names the line directory knows their lines by.</summary>
public sealed class SharedObjectTests
{
    const ulong At = 0x10000000;

    /// <summary>
    /// The directory may still list holders of a gone object's lines (a clean line dropped at munmap is not reported);
    /// an object made next must not be known by the same name, or they are asked to give up lines they never had.
    /// </summary>
    [Fact]
    public void AGoneObjectsNameIsNotTheNextObjects()
    {
        var m = new InProcessMemoryComponent();
        int asid = m.CreateAddressSpace();
        var names = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal((long)At, m.Map(asid, At, 4096, Protection.ReadWrite, MapFlags.Shared | MapFlags.Anonymous | MapFlags.Fixed, ""));
            Assert.Equal(1, m.Share(asid, At, 4096, $"anon:test:{i}", 0));
            var (space, offset) = m.LineKey(asid, At);
            Assert.True(space < 0 && offset == 0, $"line key ({space}, {offset}) is not an object's");
            names.Add(space);
            Assert.Equal(0, m.Unmap(asid, At, 4096)); // the object goes with its only mapping
        }
        Assert.Equal(3, names.Distinct().Count());
    }
}

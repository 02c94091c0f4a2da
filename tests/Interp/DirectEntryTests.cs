using Iced.Intel;
using LegoEmu.Cpu.Interp;
using Xunit;

namespace LegoEmu.Tests.Interp;

/// <summary>
/// The interpreter calls its handlers at their code, past the runtime's precode: the address a function pointer
/// holds must lead to the same method, and on this runtime (x64, fixup precodes) it must be a different address.
/// </summary>
public sealed unsafe class DirectEntryTests
{
    static long Mix(long a, long b) => a * 31 + (b ^ 0x5a5a);

    [Fact]
    public void AMethodReachedPastItsPrecodeComputesTheSame()
    {
        delegate*<long, long, long> viaPrecode = &Mix;
        var direct = (delegate*<long, long, long>)DirectEntry.Of((nint)viaPrecode);
        Assert.NotEqual((nint)viaPrecode, (nint)direct);
        Assert.Equal((nint)direct, DirectEntry.Of((nint)direct));
        for (long a = -3; a <= 3; a++)
            Assert.Equal(viaPrecode(a, a * 7), direct(a, a * 7));
    }

    [Fact]
    public void AHandlerFromTheTableResolvesToItsCodeOnce()
    {
        // add rax, rbx
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(new byte[] { 0x48, 0x01, 0xD8 }));
        decoder.IP = 0x1000;
        decoder.Decode(out var ins);
        var handler = HandlerTable.For(ins);
        var direct = DirectEntry.Of(handler);
        Assert.NotEqual((nint)handler, (nint)direct);
        Assert.Equal((nint)direct, (nint)DirectEntry.Of(direct));
        Assert.Equal(0, DirectEntry.Of(0));
    }
}

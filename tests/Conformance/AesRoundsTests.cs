using System.Runtime.Intrinsics;
using LegoEmu.Cpu.Interp;
using Xunit;
using HostAes = System.Runtime.Intrinsics.X86.Aes;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// The software AES-NI primitives, used on hosts without AES-NI, against this host's instructions: the
/// conformance harness only ever sees the host path.
/// </summary>
public sealed class AesRoundsTests
{
    [Fact]
    public void SoftwareRoundsMatchTheHostInstructions()
    {
        Assert.True(HostAes.IsSupported, "the comparison needs a host with AES-NI");
        var random = new Random(17);
        var bytes = new byte[32];
        for (int n = 0; n < 2000; n++)
        {
            random.NextBytes(bytes);
            var s = Vector128.Create((ReadOnlySpan<byte>)bytes.AsSpan(0, 16));
            var k = Vector128.Create((ReadOnlySpan<byte>)bytes.AsSpan(16, 16));
            Assert.Equal(HostAes.Encrypt(s, k), AesRounds.Encrypt(s, k));
            Assert.Equal(HostAes.EncryptLast(s, k), AesRounds.EncryptLast(s, k));
            Assert.Equal(HostAes.Decrypt(s, k), AesRounds.Decrypt(s, k));
            Assert.Equal(HostAes.DecryptLast(s, k), AesRounds.DecryptLast(s, k));
            Assert.Equal(HostAes.InverseMixColumns(s), AesRounds.InverseMixColumns(s));
            Assert.Equal(HostAes.KeygenAssist(s, 0), AesRounds.KeygenAssist(s, 0));
            Assert.Equal(HostAes.KeygenAssist(s, 0x36), AesRounds.KeygenAssist(s, 0x36));
        }
    }
}

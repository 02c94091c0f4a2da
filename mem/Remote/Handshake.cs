using System.Net.Sockets;
using System.Security.Cryptography;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// Mutual authentication of a connection with the cluster key, before any request: each side sends a fresh
/// 16-byte nonce and proves it holds the key with HMAC-SHA256(key, role | its peer's nonce | its own nonce).
/// The roles differ, so a proof cannot be reflected back, and each proof covers the other side's fresh
/// nonce, so none can be replayed. Without a key the proofs are empty and only same-user Unix sockets and
/// loopback TCP are served. On a Unix socket the node also checks the peer's uid (SO_PEERCRED).
/// </summary>
public static class Handshake
{
    public const int NonceBytes = 16;
    public const int ProofBytes = 32;

    /// <summary>The roles whose proofs differ, so none can be sent back as the other's.</summary>
    public const string NodeRole = "legoemu node", ClientRole = "legoemu client", HostRole = "legoemu thread host", HomeRole = "legoemu home";

    public static byte[] NewNonce() => RandomBytes(NonceBytes);

    /// <summary>From the kernel's pool; not RandomNumberGenerator, which loads OpenSSL at every process start.</summary>
    public static byte[] RandomBytes(int count) => KernelRandom.Bytes(count);

    /// <summary>The proof that the side in <paramref name="role"/> holds <paramref name="key"/>.</summary>
    public static byte[] Proof(byte[] key, string role, ReadOnlySpan<byte> peerNonce, ReadOnlySpan<byte> ownNonce)
    {
        var message = new byte[role.Length + 1 + NonceBytes * 2];
        System.Text.Encoding.ASCII.GetBytes(role, message);
        peerNonce.CopyTo(message.AsSpan(role.Length + 1));
        ownNonce.CopyTo(message.AsSpan(role.Length + 1 + NonceBytes));
        return HMACSHA256.HashData(key, message);
    }

    public static bool Verify(byte[] key, string role, ReadOnlySpan<byte> peerNonce, ReadOnlySpan<byte> ownNonce, ReadOnlySpan<byte> proof) =>
        proof.Length == ProofBytes && CryptographicOperations.FixedTimeEquals(Proof(key, role, peerNonce, ownNonce), proof);

    /// <summary>The uid of the process at the other end of a Unix socket (SO_PEERCRED), or null for another kind of socket.</summary>
    public static uint? PeerUid(Socket s)
    {
        if (s.AddressFamily != AddressFamily.Unix) return null;
        Span<byte> cred = stackalloc byte[12]; // struct ucred: pid, uid, gid
        int n = s.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, cred);
        return n >= 8 ? BitConverter.ToUInt32(cred[4..]) : null;
    }
}

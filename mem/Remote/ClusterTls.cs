using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// TLS for memory-node links over TCP when the cluster has credentials. <c>legoemu cluster init DIR</c> makes a
/// cluster CA (DIR/ca.crt) and one node certificate it signed (DIR/node.crt, DIR/node.key, for the name
/// <see cref="NodeName"/>); a client accepts a node only if its certificate chains to the cluster's own CA, and the
/// key handshake then runs inside the encrypted, integrity-protected channel. Unix sockets need none of it: the
/// kernel carries their bytes, and the peer's uid is checked.
/// </summary>
public static class ClusterTls
{
    public const string CaFile = "ca.crt", CertificateFile = "node.crt", PrivateKeyFile = "node.key";

    /// <summary>The name in every node certificate, whatever host the node runs on: the CA, not DNS, vouches for it.</summary>
    public const string NodeName = "legoemu-node";

    const SslProtocols Protocols = SslProtocols.Tls13 | SslProtocols.Tls12;

    /// <summary>True when a link to <paramref name="endpoint"/> is encrypted: TCP, with a cluster key.</summary>
    public static bool Applies(Endpoint endpoint) => !endpoint.IsUnix && Credentials.Key != null;

    /// <summary>Writes a fresh CA and node certificate (ECDSA P-256, ten years) into <paramref name="dir"/>, private key 0600.</summary>
    public static void Create(string dir)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=legoemu cluster CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));

        using var nodeKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={NodeName}", nodeKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(NodeName);
        request.CertificateExtensions.Add(names.Build());
        using var node = request.Create(ca, now.AddDays(-1), now.AddYears(10), RandomNumberGenerator.GetBytes(16));

        Write(Path.Combine(dir, CaFile), ca.ExportCertificatePem(), secret: false);
        Write(Path.Combine(dir, CertificateFile), node.ExportCertificatePem(), secret: false);
        Write(Path.Combine(dir, PrivateKeyFile), nodeKey.ExportPkcs8PrivateKeyPem(), secret: true);
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    static void Write(string path, string pem, bool secret)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write,
            UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        };
        using var f = new StreamWriter(new FileStream(path, options));
        f.Write(pem);
    }

    static X509Certificate2? _ca, _server;

    static string File(string name)
    {
        string dir = Credentials.Directory ?? throw new CredentialsException("TLS needs credentials (--credentials DIR)");
        string path = Path.Combine(dir, name);
        if (!System.IO.File.Exists(path))
            throw new CredentialsException($"{PrintableName.Escape(path)}: no such file (TCP links are encrypted with the certificates 'legoemu cluster init DIR' makes; make new credentials)");
        return path;
    }

    static X509Certificate2 Ca => _ca ??= X509CertificateLoader.LoadCertificateFromFile(File(CaFile));

    /// <summary>The node's certificate with its private key, loaded once.</summary>
    static X509Certificate2 Server
    {
        get
        {
            if (_server != null) return _server;
            using var pem = X509Certificate2.CreateFromPemFile(File(CertificateFile), File(PrivateKeyFile));
            // Through PKCS#12 so the key is one SslStream can use on every platform.
            return _server = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
    }

    /// <summary>Checks that a node's files are there and load, before it listens.</summary>
    public static void CheckServerFiles() => _ = Server;

    /// <summary>
    /// The client's end: the node must show a certificate for <see cref="NodeName"/> issued by the cluster's CA. With
    /// <paramref name="recordBounded"/> the stream reads the socket one TLS record at a time (<see cref="TlsRecordStream"/>).
    /// </summary>
    public static SslStream Connect(Socket socket, bool recordBounded = false)
    {
        var ca = Ca;
        Stream inner = recordBounded ? new TlsRecordStream(socket) : new NetworkStream(socket, ownsSocket: false);
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            ssl.AuthenticateAsClient(new SslClientAuthenticationOptions
            {
                TargetHost = NodeName,
                EnabledSslProtocols = Protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(ca, certificate, errors),
            });
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
        return ssl;
    }

    static bool Trusted(X509Certificate2 ca, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate == null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(presented);
    }

    /// <summary>The node's end of a new TCP connection.</summary>
    public static SslStream Accept(Socket socket)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        try
        {
            ssl.AuthenticateAsServer(new SslServerAuthenticationOptions
            {
                ServerCertificate = Server,
                EnabledSslProtocols = Protocols,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            });
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
        return ssl;
    }
}

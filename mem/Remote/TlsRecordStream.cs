using System.Net.Sockets;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// The socket under a client's TLS stream, read one TLS record at a time: no read goes past the end of the record it
/// began in. So the TLS stream never holds bytes it has taken off the socket and not yet handed on, as long as each of
/// its reads is given room for a whole record; a coherent component, which waits for a reply and for invalidations
/// together by polling its sockets, then finds every byte it has not read still in a socket, where the poll sees it.
/// </summary>
public sealed class TlsRecordStream(Socket socket) : Stream
{
    /// <summary>The most plaintext one TLS record carries (2^14 bytes); a reader gives each read at least this much room.</summary>
    public const int MaxPlaintext = 16384;

    readonly NetworkStream _inner = new(socket, ownsSocket: false);
    readonly byte[] _header = new byte[5];
    /// <summary>Header bytes read and not yet handed on (from <see cref="_headerAt"/> to <see cref="_headerHave"/>).</summary>
    int _headerAt, _headerHave;
    /// <summary>Bytes of the current record's body still to come.</summary>
    int _bodyLeft;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        if (_headerAt < _headerHave)
        {
            int n = Math.Min(buffer.Length, _headerHave - _headerAt);
            _header.AsSpan(_headerAt, n).CopyTo(buffer);
            _headerAt += n;
            return n;
        }
        if (_bodyLeft == 0)
        {
            // A record begins: its 5-byte header (type, version, length) says where it ends.
            _headerHave = 0;
            while (_headerHave < _header.Length)
            {
                int r = _inner.Read(_header, _headerHave, _header.Length - _headerHave);
                if (r == 0)
                {
                    if (_headerHave == 0) return 0;
                    throw new IOException("the connection closed in the middle of a TLS record header");
                }
                _headerHave += r;
            }
            _bodyLeft = (_header[3] << 8) | _header[4];
            _headerAt = 0;
            return Read(buffer);
        }
        int got = _inner.Read(buffer[..Math.Min(buffer.Length, _bodyLeft)]);
        _bodyLeft -= got;
        return got;
    }

    public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);
    public override void Flush() => _inner.Flush();

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}

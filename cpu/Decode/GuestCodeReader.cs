using Iced.Intel;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Decode;

/// <summary>Feeds Iced instruction bytes fetched through the ExCache with execute permission.</summary>
/// <remarks>
/// A block's bytes are read in order, so the reader keeps a pointer into the line it is in and looks the cache up again
/// only at the next line (a probe per byte was a few percent of a short program's start-up). The pointer is dropped at
/// <see cref="Start"/>: guest code ran since, and the line may have been evicted.
/// </remarks>
public sealed unsafe class GuestCodeReader(CacheView mem) : CodeReader
{
    ulong _ip;
    byte* _at;
    int _left;

    /// <summary>Starts reading at <paramref name="ip"/>, with nothing of an earlier read kept.</summary>
    public void Start(ulong ip)
    {
        _ip = ip;
        _left = 0;
    }

    /// <summary>The next byte's address; setting it elsewhere than where the last read ended drops the line.</summary>
    public ulong Ip
    {
        get => _ip;
        set
        {
            if (value != _ip) _left = 0;
            _ip = value;
        }
    }

    public override int ReadByte()
    {
        if (_left == 0) _at = mem.FetchLine(_ip, out _left);
        _left--;
        _ip++;
        return *_at++;
    }
}

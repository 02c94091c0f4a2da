using Iced.Intel;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Decode;

/// <summary>Feeds Iced instruction bytes fetched through the ExCache with execute permission.</summary>
public sealed class GuestCodeReader(CacheView mem) : CodeReader
{
    public ulong Ip;

    public override int ReadByte() => mem.Fetch8(Ip++);
}

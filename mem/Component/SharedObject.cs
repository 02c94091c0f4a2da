namespace LegoEmu.Mem.Component;

/// <summary>
/// Memory that several mappings see as one: a MAP_SHARED anonymous region, a file or memfd mapped
/// shared, or a SysV segment. Its frames belong to it, not to an address space, so a write through one
/// mapping is a write through all of them and fork never copies them.
/// </summary>
public sealed class SharedObject(int id, string key)
{
    /// <summary>Small positive number, unique in its memory component; also the directory's name for its lines.</summary>
    public int Id { get; } = id;
    /// <summary>What finds it again: "file:DEV:INO", "sysv:ID", or a unique name for an anonymous region.</summary>
    public string Key { get; } = key;
    /// <summary>Frames by page index within the object, allocated on first write.</summary>
    public readonly Dictionary<ulong, byte[]> Frames = new();
    /// <summary>Holders outside any VMA (a SysV segment not yet removed) keep it alive with no mapping.</summary>
    public int Pins;
}

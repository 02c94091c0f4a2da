namespace LegoEmu.Mem.Cache;

/// <summary>
/// The lines of one ExCache that hold decoded or translated guest code. Stores to them never take the
/// front table's fast path, so the first store to such a line reaches <see cref="CacheView"/>'s slow
/// path, which reports it here before the store lands: whoever decoded the code forgets it, and the
/// line becomes ordinary data until code is decoded from it again.
/// </summary>
public sealed class CodeLines
{
    readonly HashSet<(int Asid, ulong Line)> _lines = new();
    readonly ExCache _cache;

    internal CodeLines(ExCache cache) => _cache = cache;

    /// <summary>Raised with (address space, line address) when a marked line is about to be written.</summary>
    public event Action<int, ulong>? Written;

    /// <summary>Number of lines currently marked.</summary>
    public int Count => _lines.Count;

    /// <summary>Marks a line as holding code; front tables drop their write permission for it.</summary>
    public void Mark(int asid, ulong line)
    {
        if (_lines.Add((asid, line))) _cache.RevokeWrite(line);
    }

    internal bool IsMarked(int asid, ulong line) => _lines.Count != 0 && _lines.Contains((asid, line));

    /// <summary>Called before a store to a marked line (or when another component took it away to write it).</summary>
    internal void OnWrite(int asid, ulong line)
    {
        if (!_lines.Remove((asid, line))) return;
        Written?.Invoke(asid, line);
    }

    /// <summary>Forgets every mark of an address space (its code was cleared with it).</summary>
    public void Clear(int asid) => _lines.RemoveWhere(k => k.Asid == asid);
}

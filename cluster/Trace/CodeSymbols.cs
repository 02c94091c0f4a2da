using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;

namespace LegoEmu.Cluster.Trace;

/// <summary>Where a guest instruction lies: its file, function and (with DWARF line tables) source line.</summary>
public readonly record struct CodeLocation(string Object, string Function, string? File, int Line);

/// <summary>
/// Names guest instruction addresses by the ELF symbol tables of the main executable and of every shared
/// library the trace's address-space map shows, and by their DWARF line tables when they have them. A file's
/// load bias is where its lowest mapping starts minus the page of its first loadable segment (the kernel and
/// ld.so map a file's segments in order, from its start).
/// </summary>
public sealed class CodeSymbols
{
    sealed class CodeObject(string path, ulong start, ulong end, ulong bias, ElfSymbol[] functions, DwarfLineTable? lines)
    {
        public readonly string Path = path;
        public readonly ulong Start = start, End = end, Bias = bias;
        public readonly ElfSymbol[] Functions = functions;
        public readonly DwarfLineTable? Lines = lines;
    }

    readonly List<CodeObject> _objects = new();
    readonly List<(ulong Start, ulong End, string Name)> _mappings;

    public CodeSymbols(string program, ulong programBias, List<(ulong Start, ulong End, string Name)> mappings)
    {
        _mappings = mappings;
        var spans = new Dictionary<string, (ulong Start, ulong End)>(StringComparer.Ordinal);
        foreach (var (start, end, name) in mappings)
        {
            if (!name.StartsWith('/')) continue;
            spans[name] = spans.TryGetValue(name, out var s) ? (Math.Min(s.Start, start), Math.Max(s.End, end)) : (start, end);
        }
        foreach (var (path, (start, end)) in spans)
        {
            var o = Load(path, start, end, path == program ? programBias : null);
            if (o != null) _objects.Add(o);
        }
        // No map (a trace cut short): the executable alone, at the bias the header gives.
        if (_objects.Count == 0 && Load(program, 0, ulong.MaxValue, programBias) is { } main) _objects.Add(main);
        _objects.Sort((a, b) => a.Start.CompareTo(b.Start));
    }

    static CodeObject? Load(string path, ulong start, ulong end, ulong? knownBias)
    {
        try
        {
            if (!System.IO.File.Exists(path)) return null;
            var elf = ElfFile.Load(path);
            var loads = elf.LoadSegments();
            if (loads.Length == 0) return null;
            ulong bias = knownBias ?? start - (loads[0].VAddr & ~0xfffUL);
            var debug = DebugFile.Find(elf);
            var syms = Functions(elf, debug);
            DwarfLineTable? lines = null;
            try { lines = DwarfLineTable.Read(elf) ?? (debug != null ? DwarfLineTable.Read(debug) : null); }
            catch (DwarfFormatException) { } // a damaged table only costs the per-line view
            return new CodeObject(path, start, end, bias, syms, lines);
        }
        catch (Exception e) when (e is ElfFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// An object's function symbols by address: its separate debug file's full table when there is one, else its
    /// own .symtab or .dynsym. Of several names for one address the preferred sorts last, so lookups give it:
    /// global before weak before local, then fewer leading underscores, then the first in ordinal order.
    /// </summary>
    public static ElfSymbol[] Functions(ElfFile elf, ElfFile? debug)
    {
        var syms = debug?.ReadSymbols() is { Count: > 0 } full ? full : elf.ReadSymbols();
        syms.RemoveAll(s => !s.IsFunction || s.Size == 0);
        syms.Sort((a, b) =>
        {
            int c = a.Value.CompareTo(b.Value);
            if (c != 0) return c;
            c = Binding(a).CompareTo(Binding(b));
            if (c != 0) return c;
            c = Underscores(b.Name).CompareTo(Underscores(a.Name));
            return c != 0 ? c : string.CompareOrdinal(b.Name, a.Name);
        });
        return syms.ToArray();
    }

    static int Binding(ElfSymbol s) => (s.Info >> 4) switch { 1 => 2, 2 => 1, _ => 0 };

    static int Underscores(string name)
    {
        int n = 0;
        while (n < name.Length && name[n] == '_') n++;
        return n;
    }

    /// <summary>Each function name of the object at <paramref name="path"/> mapped to the name lookups give its address (itself when it has no alias).</summary>
    public static Dictionary<string, string> PreferredNames(string path)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var elf = ElfFile.Load(path);
            var fns = Functions(elf, DebugFile.Find(elf));
            for (int i = fns.Length - 1; i >= 0;)
            {
                int j = i;
                while (j >= 0 && fns[j].Value == fns[i].Value) map.TryAdd(fns[j--].Name, fns[i].Name);
                i = j;
            }
        }
        catch (Exception e) when (e is ElfFormatException or ExecFileException or IOException or UnauthorizedAccessException) { }
        return map;
    }

    /// <summary>True when some object has a DWARF line table, so per-line tables mean something.</summary>
    public bool HasLines => _objects.Exists(o => o.Lines != null);

    ulong[] _entries = [];

    /// <summary>
    /// Addresses calls entered (a profile's call targets): code no symbol covers is named by the nearest entry
    /// at or below it in the same object, so a stripped program's functions are still functions.
    /// </summary>
    public void AddEntries(IEnumerable<ulong> targets)
    {
        var all = new SortedSet<ulong>(_entries);
        all.UnionWith(targets);
        _entries = all.ToArray();
    }

    public CodeLocation Locate(ulong ip)
    {
        foreach (var o in _objects)
        {
            if (ip < o.Start || ip >= o.End) continue;
            ulong a = ip - o.Bias;
            string fn = FunctionAt(o.Functions, a) ?? $"0x{EntryBelow(ip, o.Start) - o.Bias:x}";
            var line = o.Lines?.Find(a);
            return new CodeLocation(o.Path, fn, line?.File, line?.Line ?? 0);
        }
        foreach (var (start, end, name) in _mappings)
            if (ip >= start && ip < end)
                return new CodeLocation(name.Length > 0 ? name : "[anonymous]", $"0x{ip:x}", null, 0);
        return new CodeLocation("?", $"0x{ip:x}", null, 0);
    }

    /// <summary>The greatest call entry from <paramref name="floor"/> up to <paramref name="ip"/>, or <paramref name="ip"/> itself.</summary>
    ulong EntryBelow(ulong ip, ulong floor)
    {
        int i = Array.BinarySearch(_entries, ip);
        if (i < 0) i = ~i - 1;
        return i >= 0 && _entries[i] >= floor ? _entries[i] : ip;
    }

    static string? FunctionAt(ElfSymbol[] fns, ulong a)
    {
        int lo = 0, hi = fns.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (fns[mid].Value <= a) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        // Symbols may nest or alias: the nearest start below that still covers the address.
        for (int i = found; i >= 0 && i > found - 8; i--)
            if (a < fns[i].Value + fns[i].Size) return fns[i].Name;
        return null;
    }
}

using LegoEmu.Loader.Elf;

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
            var syms = elf.ReadSymbols();
            syms.RemoveAll(s => !s.IsFunction || s.Size == 0);
            syms.Sort((a, b) => a.Value.CompareTo(b.Value));
            DwarfLineTable? lines = null;
            try { lines = DwarfLineTable.Read(elf); }
            catch (DwarfFormatException) { } // a damaged table only costs the per-line view
            return new CodeObject(path, start, end, bias, syms.ToArray(), lines);
        }
        catch (Exception e) when (e is ElfFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when some object has a DWARF line table, so per-line tables mean something.</summary>
    public bool HasLines => _objects.Exists(o => o.Lines != null);

    public CodeLocation Locate(ulong ip)
    {
        foreach (var o in _objects)
        {
            if (ip < o.Start || ip >= o.End) continue;
            ulong a = ip - o.Bias;
            string fn = FunctionAt(o.Functions, a) ?? $"0x{a:x}";
            var line = o.Lines?.Find(a);
            return new CodeLocation(o.Path, fn, line?.File, line?.Line ?? 0);
        }
        foreach (var (start, end, name) in _mappings)
            if (ip >= start && ip < end)
                return new CodeLocation(name.Length > 0 ? name : "[anonymous]", $"0x{ip:x}", null, 0);
        return new CodeLocation("?", $"0x{ip:x}", null, 0);
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

using LegoEmu.Loader.Elf;

namespace LegoEmu.Cluster.Trace;

/// <summary>Names an address: the executable's symbol containing it, else the mapping it lies in.</summary>
public sealed class AddressNamer
{
    readonly ElfSymbol[] _symbols = [];
    readonly ulong _bias;
    readonly List<(ulong Start, ulong End, string Name)> _mappings;

    public AddressNamer(string program, ulong loadBias, List<(ulong Start, ulong End, string Name)> mappings)
    {
        _bias = loadBias;
        _mappings = mappings;
        try
        {
            if (File.Exists(program))
            {
                var syms = ElfFile.Load(program).ReadSymbols();
                syms.RemoveAll(s => s.Size == 0);
                syms.Sort((a, b) => a.Value.CompareTo(b.Value));
                _symbols = syms.ToArray();
            }
        }
        catch (Exception e) when (e is ElfFormatException or LegoEmu.Loader.Image.ExecFileException or IOException or UnauthorizedAccessException)
        {
            // Without symbols the mapping names still say heap, stack or library.
        }
    }

    /// <summary>"symbol+0x10", "[heap]", "/usr/lib/…/libc.so.6", or "?" (a range of <paramref name="length"/> bytes).</summary>
    public string Name(ulong address, int length)
    {
        ulong a = address - _bias;
        int lo = 0, hi = _symbols.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_symbols[mid].Value <= a + (ulong)length - 1) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        // A line may hold several objects: name the one that overlaps its start, or the first inside it.
        for (int i = found; i >= 0 && i > found - 64; i--)
        {
            var s = _symbols[i];
            if (s.Value + s.Size > a && s.Value < a + (ulong)length)
                return s.Value >= a ? s.Name : $"{s.Name}+0x{a - s.Value:x}";
        }
        foreach (var (start, end, name) in _mappings)
            if (address >= start && address < end)
                return name.Length > 0 ? name : "[anonymous]";
        return "?";
    }
}

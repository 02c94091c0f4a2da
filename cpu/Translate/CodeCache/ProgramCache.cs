using System.Reflection;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// A program's cache entry as one process uses it: the saved regions by head address, and their precompiled
/// assembly. A region is bound the first time its head runs: its blocks are decoded (or found decoded), checked
/// against their fingerprints, and the region gets its saved code. A region whose code changed is never used.
/// </summary>
sealed class ProgramCache
{
    readonly Dictionary<ulong, SavedRegion> _byHead;
    readonly Type _regions;

    ProgramCache(Dictionary<ulong, SavedRegion> byHead, Type regions)
    {
        _byHead = byHead;
        _regions = regions;
    }

    /// <summary>The entry <paramref name="key"/> in <paramref name="dir"/>, or null when there is none (or it is unusable).</summary>
    public static ProgramCache? Open(string dir, string key)
    {
        if (CacheIndex.Read(Path.Combine(dir, key + ".idx")) is not var (name, length, regions)) return null;
        string file = Path.Combine(dir, name + ".dll");
        var info = new FileInfo(file);
        if (!info.Exists || info.Length != length) return null;
        Assembly assembly;
        try
        {
            // A second execve of the same program in this process gets the assembly it loaded before.
            assembly = Assembly.LoadFrom(file);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return null;
        }
        if (assembly.GetName().Name != name || assembly.GetType("Regions") is not { } type) return null;
        var byHead = new Dictionary<ulong, SavedRegion>(regions.Count);
        foreach (var r in regions) byHead.TryAdd(r.Head, r);
        return new ProgramCache(byHead, type);
    }

    public int Count => _byHead.Count;

    /// <summary>Whether a saved region headed at <paramref name="head"/> is still on offer.</summary>
    public bool Holds(ulong head) => _byHead.ContainsKey(head);

    /// <summary>The heads of the saved regions, for the block cache to mark hot as it decodes them.</summary>
    public IEnumerable<ulong> Heads => _byHead.Keys;

    /// <summary>The saved regions that were bound in this process, with their blocks (to save them again).</summary>
    public readonly List<(SavedRegion Saved, Block[] Blocks)> Bound = new();

    /// <summary>
    /// The saved region headed at <paramref name="head"/>, made a live <see cref="Region"/> over blocks from
    /// <paramref name="decode"/>; null when there is none or its code no longer matches. Either way it is not offered again.
    /// </summary>
    public Region? Bind(Block head, Func<ulong, Block?> decode)
    {
        if (!_byHead.Remove(head.Start, out var saved)) return null;
        var blocks = new Block[saved.Blocks.Length];
        for (int k = 0; k < blocks.Length; k++)
        {
            var want = saved.Blocks[k];
            var b = k == 0 ? head : decode(want.Start);
            if (b == null || b.Insns.Length != want.Instructions || InstructionHash.Of(b) != want.Hash) return null;
            blocks[k] = b;
        }
        var interpreted = new Insn[saved.Interpreted.Length];
        for (int n = 0; n < interpreted.Length; n++)
            if (!Find(blocks, saved.Interpreted[n], out interpreted[n])) return null;
        if (Method(saved) is not { } method) return null;
        var region = new Region(head.Start, blocks)
        {
            EntryBlocks = saved.EntryBlocks,
            Interpreted = interpreted,
            FaultSites = saved.FaultSites,
            IlBytes = saved.IlBytes,
            MissCalls = saved.MissCalls,
            UsesFloatingPoint = RegionCompiler.InlineFloatingPoint(blocks),
            Wide = saved.Wide,
        };
        region.SetCode(method);
        Bound.Add((saved, blocks));
        return region;
    }

    /// <summary>
    /// The saved region's method: the type's methods are defined in the order of the index, so the k-th region's
    /// method is the k-th row of the method table; a lookup by metadata token is far cheaper than one by name.
    /// </summary>
    MethodInfo? Method(SavedRegion saved)
    {
        try
        {
            if (_regions.Module.ResolveMethod(FirstMethodToken + saved.Ordinal) is MethodInfo m && m.Name == saved.Method && m.DeclaringType == _regions) return m;
        }
        catch (ArgumentException)
        {
        }
        return _regions.GetMethod(saved.Method, BindingFlags.Public | BindingFlags.Static);
    }

    const int FirstMethodToken = 0x06000001;

    static bool Find(Block[] blocks, ulong ip, out Insn insn)
    {
        foreach (var b in blocks)
            foreach (ref readonly var i in b.Insns)
                if (i.Ip == ip)
                {
                    insn = i;
                    return true;
                }
        insn = default;
        return false;
    }
}

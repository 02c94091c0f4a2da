namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// The index file of one program's cache entry: the name of the assembly that holds the regions' code, and a
/// <see cref="SavedRegion"/> per method. A file that is not exactly what <see cref="Write"/> wrote reads as null.
/// </summary>
static class CacheIndex
{
    const uint Magic = 0x4345474c; // "LGEC"
    const int Version = 3;
    /// <summary>More than any run compiles (the translator keeps at most 8192 regions live).</summary>
    const int MaxRegions = 1 << 16, MaxBlocks = 1 << 10, MaxList = 1 << 16;

    /// <param name="assemblyLength">The assembly's size in bytes: a reader refuses one of another size (cut short, replaced).</param>
    public static void Write(string path, string assemblyName, long assemblyLength, IReadOnlyList<SavedRegion> regions)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(Magic);
        w.Write(Version);
        w.Write(assemblyName);
        w.Write(assemblyLength);
        w.Write(regions.Count);
        foreach (var r in regions)
        {
            w.Write(r.Method);
            w.Write(r.MissCalls);
            w.Write(r.Wide);
            w.Write(r.IlBytes);
            w.Write(r.Blocks.Length);
            foreach (var b in r.Blocks)
            {
                w.Write(b.Start);
                w.Write(b.Instructions);
                w.Write(b.Hash);
            }
            foreach (var e in r.EntryBlocks) w.Write(e);
            w.Write(r.Interpreted.Length);
            foreach (var ip in r.Interpreted) w.Write(ip);
            w.Write(r.FaultSites.Length);
            foreach (var f in r.FaultSites)
            {
                w.Write(f.Ip);
                w.Write(f.Retired);
                w.Write(f.Accesses);
                w.Write(f.Block);
                w.Write(f.Miss);
            }
        }
        w.Write(Magic);
    }

    /// <summary>The index at <paramref name="path"/>, or null when it is missing, truncated or not this version's.</summary>
    public static (string Assembly, long AssemblyLength, List<SavedRegion> Regions)? Read(string path)
    {
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadUInt32() != Magic || r.ReadInt32() != Version) return null;
            string assembly = r.ReadString();
            long assemblyLength = r.ReadInt64();
            int count = Bounded(r.ReadInt32(), MaxRegions);
            var regions = new List<SavedRegion>(count);
            for (int k = 0; k < count; k++)
            {
                string method = r.ReadString();
                bool missCalls = r.ReadBoolean(), wide = r.ReadBoolean();
                int ilBytes = r.ReadInt32();
                var blocks = new SavedBlock[Bounded(r.ReadInt32(), MaxBlocks, min: 1)];
                for (int b = 0; b < blocks.Length; b++) blocks[b] = new SavedBlock(r.ReadUInt64(), r.ReadInt32(), r.ReadUInt64());
                var entries = new bool[blocks.Length];
                for (int b = 0; b < entries.Length; b++) entries[b] = r.ReadBoolean();
                var interpreted = new ulong[Bounded(r.ReadInt32(), MaxList)];
                for (int n = 0; n < interpreted.Length; n++) interpreted[n] = r.ReadUInt64();
                var sites = new FaultSite[Bounded(r.ReadInt32(), MaxList)];
                for (int n = 0; n < sites.Length; n++) sites[n] = new FaultSite(r.ReadUInt64(), r.ReadInt64(), r.ReadInt64(), Bounded(r.ReadInt32(), blocks.Length - 1), r.ReadBoolean());
                regions.Add(new SavedRegion
                {
                    Ordinal = k, Method = method, MissCalls = missCalls, Wide = wide, IlBytes = ilBytes, Blocks = blocks,
                    EntryBlocks = entries, Interpreted = interpreted, FaultSites = sites,
                });
            }
            if (r.ReadUInt32() != Magic || r.BaseStream.Position != r.BaseStream.Length) return null;
            return (assembly, assemblyLength, regions);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidDataException)
        {
            return null;
        }
    }

    static int Bounded(int n, int max, int min = 0) =>
        n >= min && n <= max ? n : throw new InvalidDataException($"count {n} outside [{min}, {max}]");
}

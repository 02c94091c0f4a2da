using System.Diagnostics;
using System.Reflection;
using System.Reflection.Emit;
using LegoEmu.Cpu.Decode;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// Writes a program's cache entry: the regions' IL as one saved assembly, compiled ahead of time by the ReadyToRun
/// compiler, and the index that names it. Both land under their final names by rename, the index last and naming
/// an assembly no other entry uses, so a reader sees either the old entry or the new one, never half of one.
/// </summary>
static class CacheWriter
{
    /// <summary>A region to save: its blocks (head first) and how it was compiled.</summary>
    public readonly record struct Plan(Block[] Blocks, bool MissCalls, bool Wide);

    static readonly string[] Internals = { "LegoEmu.Cpu", "LegoEmu.Mem" };

    /// <summary>
    /// Saves <paramref name="plans"/> as the entry <paramref name="key"/> in <paramref name="dir"/>; the error text
    /// when nothing was saved. A region the emitter cannot compile (lukewarm code is planned here, never compiled
    /// before) is left out: a half-emitted method would spoil the whole assembly, so the others are emitted again.
    /// </summary>
    public static string? Save(string dir, string key, IReadOnlyList<Plan> plans, CacheView shape, string compiler, out int saved)
    {
        var kept = new List<Plan>(plans);
        for (int attempt = 0; ; attempt++)
        {
            int failed = -1;
            string? error = SaveOnce(dir, key, kept, shape, compiler, ref failed);
            if (failed < 0 || attempt == 3 || kept.Count == 1)
            {
                saved = error == null ? kept.Count : 0;
                return failed >= 0 ? "a region could not be compiled for it" : error;
            }
            kept.RemoveAt(failed);
        }
    }

    static string? SaveOnce(string dir, string key, IReadOnlyList<Plan> plans, CacheView shape, string compiler, ref int failed)
    {
        string name = $"legoemu-code-{key}-{Guid.NewGuid():N}";
        string temp = Path.Combine(dir, $".{name}.{Environment.ProcessId}");
        string il = temp + ".il.dll", r2r = temp + ".dll", index = temp + ".idx";
        try
        {
            Directory.CreateDirectory(dir);
            RemoveAbandoned(dir);
            var saved = new List<SavedRegion>(plans.Count);
            var assembly = new PersistedAssemblyBuilder(new AssemblyName(name), typeof(object).Assembly);
            var ignore = typeof(System.Runtime.CompilerServices.IgnoresAccessChecksToAttribute).GetConstructor(new[] { typeof(string) })!;
            foreach (var internals in Internals) assembly.SetCustomAttribute(new CustomAttributeBuilder(ignore, new object[] { internals }));
            var type = assembly.DefineDynamicModule(name).DefineType("Regions", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
            for (int k = 0; k < plans.Count; k++)
            {
                var plan = plans[k];
                string method = $"R{k}";
                Region region;
                try
                {
                    region = RegionCompiler.CompileInto(type, method, plan.Blocks, shape, plan.MissCalls);
                }
                catch (Exception e) when (e is not IOException and not OutOfMemoryException)
                {
                    failed = k;
                    return e.Message;
                }
                saved.Add(Describe(method, plan, region));
            }
            type.CreateType();
            assembly.Save(il);
            if (Crossgen.Compile(compiler, il, r2r, TimeSpan.FromSeconds(30 + plans.Count / 10)) is { } compileError) return compileError;
            CacheIndex.Write(index, name, new FileInfo(r2r).Length, saved);
            File.Move(r2r, Path.Combine(dir, name + ".dll"));
            File.Move(index, Path.Combine(dir, key + ".idx"), overwrite: true);
            RemoveOlder(dir, key, name);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot write the code cache in {dir}: {e.Message}";
        }
        finally
        {
            foreach (var f in new[] { il, r2r, index })
                try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Temporary files of writers that died before they renamed them (killed mid-save): their names end in the
    /// writer's pid, and a pid with no /proc entry wrote its last.
    /// </summary>
    static void RemoveAbandoned(string dir)
    {
        foreach (var f in Directory.EnumerateFiles(dir, ".legoemu-code-*"))
        {
            string[] parts = Path.GetFileName(f).Split('.');
            // .NAME.PID.il.dll, .NAME.PID.dll, .NAME.PID.idx
            if (parts.Length < 4 || !int.TryParse(parts[2], out int pid) || Directory.Exists($"/proc/{pid}")) continue;
            try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// Earlier assemblies of the same entry: no index names them any more. A process that read the old index just
    /// before may fail to load its assembly, and then runs without the cache, as with no entry.
    /// </summary>
    static void RemoveOlder(string dir, string key, string current)
    {
        foreach (var f in Directory.EnumerateFiles(dir, $"legoemu-code-{key}-*.dll"))
            if (Path.GetFileNameWithoutExtension(f) != current)
                try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    static SavedRegion Describe(string method, Plan plan, Region region)
    {
        var blocks = new SavedBlock[plan.Blocks.Length];
        for (int b = 0; b < blocks.Length; b++)
            blocks[b] = new SavedBlock(plan.Blocks[b].Start, plan.Blocks[b].Insns.Length, InstructionHash.Of(plan.Blocks[b]));
        var interpreted = new ulong[region.Interpreted.Length];
        for (int n = 0; n < interpreted.Length; n++) interpreted[n] = region.Interpreted[n].Ip;
        return new SavedRegion
        {
            Method = method, MissCalls = plan.MissCalls, Wide = plan.Wide, IlBytes = region.IlBytes, Blocks = blocks,
            EntryBlocks = region.EntryBlocks, Interpreted = interpreted, FaultSites = region.FaultSites,
        };
    }
}

using LegoEmu.Mem.Trace;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Trace;

/// <summary>Writes what <c>run --profile FILE</c> collected, in callgrind's format, named by the process's ELF objects.</summary>
public static class ProfileWriter
{
    public static readonly (string Name, string Description)[] Events =
    [
        ("Ir", "Instructions retired"), ("Dacc", "Data accesses"), ("Miss", "ExCache misses"),
        ("Mfill", "Misses filled by a memory component"), ("WB", "Write-backs of evicted lines"),
        ("Fmiss", "ExCache misses of instruction fetches (when code is decoded)"), ("Kmiss", "ExCache misses of system calls' copies"),
    ];

    /// <summary>What names a program image's code: its executable, load bias, arguments, pid and address-space map.</summary>
    public sealed record Image(string ExePath, ulong LoadBias, string[] Argv, int Pid, List<(ulong Start, ulong End, string Name)> Mappings)
    {
        public static Image Of(GuestProcess process)
        {
            var mappings = new List<(ulong, ulong, string)>();
            try
            {
                foreach (var v in process.Space.Vmas()) mappings.Add((v.Start, v.End, v.Name));
            }
            catch (LegoEmu.Mem.Remote.MemoryNodeFailure)
            {
                // The map only names the code; without it the executable's symbols still do.
            }
            return new Image(process.ExePath, process.LoadBias, process.Argv, process.Pid, mappings);
        }
    }

    /// <summary>Writes <paramref name="path"/> and, when calls were tracked, PATH.folded (calling contexts, weighted by instructions).</summary>
    public static void Write(string path, Image image, CodeProfile profile)
    {
        var costs = profile.Finish();
        var symbols = new CodeSymbols(image.ExePath, image.LoadBias, image.Mappings);
        var graph = profile.Calls;
        symbols.AddEntries(graph.Edges.Keys.Select(k => k.Target));
        var rows = new List<CallgrindRow>(costs.Count);
        foreach (var (ip, c) in costs)
            rows.Add(new CallgrindRow(ip, symbols.Locate(ip), [c.Instructions, c.Accesses, c.Misses, c.MemoryFills, c.WriteBacks, c.FetchMisses, c.KernelMisses]));
        var calls = new List<CallgrindCall>(graph.Edges.Count);
        foreach (var ((site, target), e) in graph.Edges)
            calls.Add(new CallgrindCall(site, symbols.Locate(site), target, symbols.Locate(target), e.Count, e.Inclusive));
        using (var w = new StreamWriter(path))
            CallgrindWriter.Write(w, string.Join(' ', image.Argv), image.Pid, Events, rows, calls);
        if (graph.Any)
        {
            using var f = new StreamWriter(path + ".folded");
            FoldedWriter.Write(graph, symbols, f);
        }
    }
}

using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// How often each block of a region runs for one entry, estimated from the shape of its branches alone:
/// a backward branch is a loop's and taken nine times in ten, a forward one either way, and the estimate
/// is the fixed point of the flow through the region. Inner loops come out an order of magnitude above
/// the code around them whatever block the region starts at (the interpreter's own counts stop at the
/// translation threshold, so they cannot tell an inner loop from its outer one).
/// </summary>
static class BlockFrequency
{
    const double LoopTaken = 0.9;
    // Every edge keeps a little less than its share, so the flow converges even around a loop with no exit.
    const double Damping = 0.98;
    const int MaxRounds = 400;

    internal static double[] Estimate(Block[] blocks)
    {
        int n = blocks.Length;
        var index = new Dictionary<ulong, int>(n);
        for (int k = 0; k < n; k++) index[blocks[k].Start] = k;
        var edges = new List<(int From, int To, double P)>(16);
        for (int k = 0; k < n; k++)
        {
            var b = blocks[k];
            var last = b.Insns[^1];
            var succ = new List<ulong>(RegionPlanner.PlanSuccessors(b));
            if (succ.Count == 0) continue;
            bool conditional = last.I.FlowControl == FlowControl.ConditionalBranch && succ.Count == 2;
            for (int s = 0; s < succ.Count; s++)
            {
                if (!index.TryGetValue(succ[s], out int t)) continue;
                double p;
                if (conditional)
                {
                    bool backward = last.I.NearBranchTarget <= last.Ip;
                    bool taken = succ[s] == last.I.NearBranchTarget && succ[s] != last.NextIp;
                    p = backward ? (taken ? LoopTaken : 1 - LoopTaken) : 0.5;
                }
                else if (last.I.FlowControl is FlowControl.Call or FlowControl.IndirectCall) p = 1; // the callee, and what follows its return
                else p = 1.0 / succ.Count;
                edges.Add((k, t, p * Damping));
            }
        }
        var f = new double[n];
        for (int round = 0; round < MaxRounds; round++)
        {
            double change = 0;
            var next = new double[n];
            next[0] = 1;
            foreach (var (from, to, p) in edges) next[to] += f[from] * p;
            for (int k = 0; k < n; k++) change = Math.Max(change, Math.Abs(next[k] - f[k]) / Math.Max(next[k], 1e-9));
            f = next;
            if (change < 1e-3) break;
        }
        return f;
    }
}

using LegoEmu.Cpu.Decode;
using LegoEmu.Mem.Trace;

namespace LegoEmu.Cpu.Translate;

/// <summary>
/// A compiled region's share of <c>run --profile</c>: a run counter per block, added to by the compiled code
/// where the block retires, and each instruction's inline accesses, known when the code is emitted. When the
/// run ends, every instruction is charged its block's runs and its accesses times those runs. Accesses the
/// code makes off its inline paths (interpreter handlers, a second line of a crossing access) and the
/// partial block before a fault are charged where they happen.
/// </summary>
internal sealed unsafe class RegionProfile
{
    readonly Block[] _blocks;
    // Pinned: the compiled code adds to these through constant addresses.
    readonly long[] _runs;
    readonly int[][] _inline;

    public RegionProfile(Block[] blocks, CodeProfile profile)
    {
        _blocks = blocks;
        _runs = GC.AllocateArray<long>(blocks.Length, pinned: true);
        _inline = new int[blocks.Length][];
        for (int b = 0; b < blocks.Length; b++) _inline[b] = new int[blocks[b].Insns.Length];
        profile.OnFinish(Fold);
    }

    /// <summary>The address of block <paramref name="block"/>'s run counter.</summary>
    public nint RunCounter(int block) => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _runs[block]);

    /// <summary>At emit time: instruction <paramref name="index"/> of <paramref name="block"/> makes one more inline access.</summary>
    public void CountInline(int block, int index) => _inline[block][index]++;

    /// <summary>A fault in <paramref name="block"/>: the instructions before it retired, and the inline accesses counted by then.</summary>
    public void Fault(CodeProfile profile, int block, int retired, long accesses)
    {
        var insns = _blocks[block].Insns;
        var inline = _inline[block];
        for (int k = 0; k < retired; k++)
        {
            var c = profile.At(insns[k].Ip);
            c.Instructions++;
            c.Accesses += inline[k];
            accesses -= inline[k];
        }
        profile.At(insns[retired].Ip).Accesses += accesses;
    }

    void Fold(CodeProfile profile)
    {
        for (int b = 0; b < _blocks.Length; b++)
        {
            long runs = _runs[b];
            if (runs == 0) continue;
            var insns = _blocks[b].Insns;
            for (int k = 0; k < insns.Length; k++)
            {
                var c = profile.At(insns[k].Ip);
                c.Instructions += runs;
                c.Accesses += runs * _inline[b][k];
            }
        }
    }
}

using Iced.Intel;
using LegoEmu.Cpu.Decode;

namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// A fingerprint of a block's decoded instructions: everything the region emitter reads of them. A saved region is
/// used only where every one of its blocks decodes to the same fingerprint again, so changed code (another build of
/// a library at the same address, code the guest wrote) never runs a stale translation.
/// </summary>
static unsafe class InstructionHash
{
    const ulong Prime = 0x100000001b3;

    public static ulong Of(Block b)
    {
        ulong h = 0xcbf29ce484222325;
        foreach (ref readonly var i in b.Insns)
        {
            ref readonly Instruction ins = ref i.I;
            h = Mix(h, i.Ip);
            h = Mix(h, i.NextIp);
            h = Mix(h, (ulong)ins.Code | (ulong)ins.OpCount << 16 | (ulong)ins.Length << 24 | (ulong)(uint)i.Cc << 32);
            for (int n = 0; n < ins.OpCount; n++)
            {
                var kind = ins.GetOpKind(n);
                h = Mix(h, (ulong)kind | (ulong)(kind == OpKind.Register ? ins.GetOpRegister(n) : 0) << 16);
                if (kind is >= OpKind.Immediate8 and <= OpKind.Immediate32to64) h = Mix(h, ins.GetImmediate(n));
                else if (kind is OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64) h = Mix(h, ins.NearBranchTarget);
            }
            h = Mix(h, ins.MemoryDisplacement64);
            h = Mix(h, (ulong)ins.MemoryBase | (ulong)ins.MemoryIndex << 16 | (ulong)(uint)ins.MemoryIndexScale << 32 | (ulong)ins.MemorySegment << 40 | (ulong)ins.MemorySize << 48);
            h = Mix(h, (ins.HasRepPrefix ? 1UL : 0) | (ins.HasRepnePrefix ? 2UL : 0) | (ins.HasLockPrefix ? 4UL : 0) | ((ulong)(uint)ins.SegmentPrefix << 8));
            h = Mix(h, (ulong)i.Disp);
            h = Mix(h, (ulong)(byte)i.Base | ((ulong)(byte)i.Index << 8) | (ulong)i.ScaleShift << 16 | (ulong)i.Seg << 24 | (ulong)(i.Addr32 ? 1 : 0) << 32 | (ulong)i.OpBits << 40 | (ulong)i.MemBits << 48);
            h = Mix(h, i.Imm);
            h = Mix(h, (ulong)i.R0 | (ulong)i.R1 << 8 | (ulong)i.Sh0 << 16 | (ulong)i.Sh1 << 24 | (ulong)(i.Inner != null ? 1 : 0) << 32);
        }
        return h;
    }

    static ulong Mix(ulong h, ulong v)
    {
        for (int k = 0; k < 8; k++, v >>= 8) h = (h ^ (v & 0xff)) * Prime;
        return h;
    }
}

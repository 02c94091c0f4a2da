using Iced.Intel;
using LegoEmu.Cpu.Interp;
using LegoEmu.Cpu.Interp.Shaped;
using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Decode;

/// <summary>
/// Decoded basic blocks keyed by guest address. Instruction bytes are fetched through the ExCache
/// (with execute permission) exactly once per block; Iced is far too slow to decode per execution.
/// </summary>
public sealed unsafe class BlockCache
{
    const int MaxBlockInsns = 128;

    readonly Dictionary<ulong, Block> _blocks = new();
    readonly GuestCodeReader _reader;
    readonly Decoder _decoder;
    readonly List<Insn> _scratch = new(MaxBlockInsns);

    public BlockCache(CacheView mem)
    {
        _reader = new GuestCodeReader(mem);
        _decoder = Decoder.Create(64, _reader, 0, DecoderOptions.None);
    }

    public int Count => _blocks.Count;
    public long Decoded { get; private set; }

    public Block Get(ulong rip)
    {
        if (_blocks.TryGetValue(rip, out var b)) return b;
        b = Decode(rip);
        _blocks[rip] = b;
        return b;
    }

    /// <summary>Forgets every block (execve, or code memory changed under us).</summary>
    public void Clear() => _blocks.Clear();

    /// <summary>Forgets blocks that start inside [start, end); used when guest code pages change.</summary>
    public void Invalidate(ulong start, ulong end)
    {
        List<ulong>? dead = null;
        foreach (var k in _blocks.Keys)
            if (k >= start - 16 && k < end) (dead ??= new()).Add(k);
        if (dead == null) return;
        foreach (var k in dead) _blocks.Remove(k);
        foreach (var b in _blocks.Values) { b.Next1 = b.Next2 = null; }
    }

    Block Decode(ulong rip)
    {
        _scratch.Clear();
        ulong ip = rip;
        while (_scratch.Count < MaxBlockInsns)
        {
            Instruction ins;
            try
            {
                _reader.Ip = ip;
                _decoder.IP = ip;
                _decoder.Decode(out ins);
            }
            catch (MemoryFault) when (_scratch.Count > 0)
            {
                // The rest of the block is unfetchable; fault only if execution really gets there.
                break;
            }
            var insn = Prepare(ins);
            _scratch.Add(insn);
            Decoded++;
            ip = ins.NextIP;
            if (EndsBlock(ins)) break;
        }
        return new Block { Start = rip, Insns = _scratch.ToArray() };
    }

    static bool EndsBlock(in Instruction ins)
    {
        if (ins.Code == Code.INVALID) return true;
        switch (ins.FlowControl)
        {
            case FlowControl.Next:
                return false;
            default:
                return true; // branches, calls, returns, SYSCALL, INT3, UD2, exceptions
        }
    }

    static Insn Prepare(in Instruction ins)
    {
        var i = new Insn
        {
            I = ins,
            Ip = ins.IP,
            NextIp = ins.NextIP,
            Base = -1,
            Index = -1,
            Exec = HandlerTable.For(ins),
            Inner = null,
            Cc = (sbyte)((int)ins.ConditionCode - 1),
        };
        // String instructions address memory through RSI/RDI operand kinds, so width and segment come
        // from the instruction, not from an explicit memory operand.
        i.MemBits = (ushort)(ins.MemorySize.GetSize() * 8);
        i.Seg = ins.MemorySegment switch { Register.FS => 1, Register.GS => 2, _ => 0 };
        for (int n = 0; n < ins.OpCount; n++)
        {
            if (ins.GetOpKind(n) != OpKind.Memory) continue;
            if (ins.IsIPRelativeMemoryOperand)
            {
                i.Disp = ins.IPRelativeMemoryAddress;
            }
            else
            {
                i.Disp = ins.MemoryDisplacement64;
                if (ins.MemoryBase != Register.None) i.Base = Registers.GprIndex[(int)ins.MemoryBase];
                if (ins.MemoryIndex != Register.None) i.Index = Registers.GprIndex[(int)ins.MemoryIndex];
                i.ScaleShift = (byte)System.Numerics.BitOperations.Log2((uint)ins.MemoryIndexScale);
                i.Addr32 = ins.MemoryBase is >= Register.EAX and <= Register.R15D || ins.MemoryIndex is >= Register.EAX and <= Register.R15D;
            }
            break;
        }
        i.OpBits = ins.OpCount == 0 ? (byte)64 : ins.Op0Kind switch
        {
            OpKind.Register when Registers.GprIndex[(int)ins.Op0Register] >= 0 => (byte)(Registers.GprSize[(int)ins.Op0Register] * 8),
            OpKind.Memory => (byte)Math.Min(64, Math.Max(8, ins.MemorySize.GetSize() * 8)),
            _ => (byte)64,
        };
        // Hot instructions get a handler made for their operand shape; the brackets below then wrap that one.
        Specializer.Apply(ins, ref i);
        if (HandlerTable.UsesGuestMxcsr(ins))
        {
            i.Inner = i.Exec;
            i.Exec = HandlerTable.MxcsrBracket;
        }
        else if (HandlerTable.IsLockedReadModifyWrite(ins))
        {
            i.Inner = i.Exec;
            i.Exec = HandlerTable.LockedBracket;
        }
        return i;
    }
}

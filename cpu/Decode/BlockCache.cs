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
    /// <summary>
    /// A direct-mapped front for <see cref="_blocks"/>: the dispatcher looks up every indirect target (returns,
    /// calls through pointers) that its per-block successor slots miss, and a dictionary probe is several times
    /// the cost of an array slot. Cleared whenever blocks are forgotten.
    /// </summary>
    readonly Block?[] _recent = new Block?[RecentSize];
    const int RecentSize = 4096;
    readonly GuestCodeReader _reader;
    readonly CacheView _mem;
    readonly Decoder _decoder;
    /// <summary>Where the next block's instructions are prepared, in place: it always has room for the longest block.</summary>
    InsnStorage.Chunk _chunk = InsnStorage.Take();
    /// <summary>
    /// The 64 KiB chunks of the address space that hold (or held) decoded code. munmap and mprotect invalidate
    /// their range, mostly heap and data where no code is: the chunks answer that without a scan of every block.
    /// </summary>
    readonly HashSet<ulong> _codeChunks = new();
    const int ChunkShift = 16;
    /// <summary>
    /// The 64 KiB chunks of the address space where decoded code was forgotten (rewritten, unmapped): a guest's JIT keeps
    /// replacing code there. Blocks decoded there get arrays of their own, so that one long-lived block among many
    /// forgotten ones cannot keep a whole 1 MiB <see cref="InsnStorage"/> chunk alive.
    /// </summary>
    readonly HashSet<ulong> _rewrittenChunks = new();
    /// <summary>
    /// The code chunk and the code line the last decoded block ended in (or ~0): the next block is nearly always there too,
    /// and a set's add per block for what is already in it was a few percent of decoding a large program's start-up. The
    /// line is forgotten whenever a line of this address space stops being marked (a store into code, <see cref="Clear"/>).
    /// </summary>
    ulong _lastChunk = ~0UL, _lastLine = ~0UL;

    public BlockCache(CacheView mem)
    {
        _mem = mem;
        _reader = new GuestCodeReader(mem);
        _decoder = Decoder.Create(64, _reader, 0, DecoderOptions.None);
        mem.Cache.CodeLines.Written += OnCodeWritten;
    }

    /// <summary>The view instruction bytes are fetched through; translated code is generated for its cache's geometry.</summary>
    public CacheView View => _mem;

    /// <summary>Raised after code in [start, end) was forgotten (unmapped, reprotected, rewritten, or all of it at execve).</summary>
    public event Action<ulong, ulong>? Invalidated;

    /// <summary>Stores into decoded code (self-modifying code, a guest's JIT) forget the code of that line.</summary>
    public long CodeWrites { get; private set; }

    void OnCodeWritten(int asid, ulong line)
    {
        if (asid != _mem.Asid) return;
        _lastLine = ~0UL;
        CodeWrites++;
        Invalidate(line, line + (ulong)_mem.Cache.LineSize);
    }

    /// <summary>
    /// Heads of regions the code cache holds: a block decoded at one of them starts as hot, so its first run asks the
    /// translator, which binds the saved region. Cleared with the blocks (a new image has its own).
    /// </summary>
    public HashSet<ulong>? HotHeads { get; set; }

    /// <summary>The execution count a block of <see cref="HotHeads"/> starts with: past any threshold at its first run.</summary>
    public const long PresetHot = long.MaxValue / 4;

    /// <summary>Every decoded block, for the code cache to find lukewarm code when a program ends.</summary>
    public IEnumerable<Block> All => _blocks.Values;

    public int Count => _blocks.Count;
    public long Decoded { get; private set; }

    /// <summary>Time spent decoding, in <see cref="System.Diagnostics.Stopwatch"/> ticks (a cold program's start-up is mostly this and the interpreter).</summary>
    public long DecodeTicks { get; private set; }

    /// <summary>The block at <paramref name="rip"/> if it is decoded already.</summary>
    public Block? Peek(ulong rip) => _blocks.TryGetValue(rip, out var b) ? b : null;

    /// <summary>The block at <paramref name="rip"/>, decoding it if needed; null when its first instruction cannot be fetched.</summary>
    public Block? TryGet(ulong rip)
    {
        try { return Get(rip); }
        catch (MemoryFault) { return null; }
    }

    public Block Get(ulong rip)
    {
        ref var slot = ref _recent[(int)((rip ^ (rip >> 12)) & (RecentSize - 1))];
        var r = slot;
        if (r != null && r.Start == rip) return r;
        if (!_blocks.TryGetValue(rip, out var b))
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            b = Decode(rip);
            DecodeTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
            _blocks[rip] = b;
        }
        slot = b;
        return b;
    }

    /// <summary>Forgets every block (execve, or code memory changed under us).</summary>
    public void Clear()
    {
        _blocks.Clear();
        _codeChunks.Clear();
        _lastChunk = _lastLine = ~0UL;
        _rewrittenChunks.Clear();
        HotHeads = null;
        Array.Clear(_recent);
        _mem.Cache.CodeLines.Clear(_mem.Asid);
        Invalidated?.Invoke(0, ulong.MaxValue);
    }

    /// <summary>Forgets blocks with code inside [start, end); used when guest code pages change.</summary>
    public void Invalidate(ulong start, ulong end)
    {
        if (!MayHoldCode(start, end)) return;
        List<ulong>? dead = null;
        foreach (var (k, b) in _blocks)
            if (k < end && b.End > start) (dead ??= new()).Add(k);
        Invalidated?.Invoke(start, end);
        if (dead == null) return;
        Array.Clear(_recent);
        foreach (var k in dead)
        {
            _blocks.Remove(k);
            _rewrittenChunks.Add(k >> ChunkShift);
        }
        foreach (var b in _blocks.Values) { b.Next1 = b.Next2 = null; }
    }

    /// <summary>False when no block was ever decoded in [start, end) (no block and no region can overlap it).</summary>
    bool MayHoldCode(ulong start, ulong end)
    {
        if (end <= start) return false;
        ulong first = start >> ChunkShift, last = (end - 1) >> ChunkShift;
        if (last - first >= (ulong)_codeChunks.Count)
        {
            foreach (var c in _codeChunks)
                if (c >= first && c <= last) return true;
            return false;
        }
        for (ulong c = first; c <= last; c++)
            if (_codeChunks.Contains(c)) return true;
        return false;
    }

    Block Decode(ulong rip)
    {
        if (_chunk.Left < MaxBlockInsns) _chunk = InsnStorage.Take(ahead: true);
        var chunk = _chunk;
        Insn* at = chunk.Base + chunk.Used;
        int count = 0;
        ulong ip = rip;
        _reader.Start(rip);
        while (count < MaxBlockInsns)
        {
            Instruction ins;
            try
            {
                _reader.Ip = ip;
                _decoder.IP = ip;
                _decoder.Decode(out ins);
            }
            catch (MemoryFault) when (count > 0)
            {
                // The rest of the block is unfetchable; fault only if execution really gets there.
                break;
            }
            CpuModel.Adapt(ref ins);
            Prepare(ins, ref at[count++]);
            Decoded++;
            ip = ins.NextIP;
            if (EndsBlock(ins)) break;
        }
        // Needs the whole block: an instruction's flags are dead only if a later one overwrites them unseen.
        DeadFlags.Apply(at, count);
        Block block;
        if (_rewrittenChunks.Count == 0 || !_rewrittenChunks.Contains(rip >> ChunkShift))
        {
            chunk.Used += count;
            block = new Block(rip, at, count, chunk);
        }
        else
        {
            // Prepared in the chunk's free space, kept in an array of its own (see _rewrittenChunks).
            var own = GC.AllocateUninitializedArray<Insn>(count, pinned: true);
            new Span<Insn>(at, count).CopyTo(own);
            block = new Block(rip, (Insn*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref own[0]), count, own);
        }
        if (count >= 2) block.Tail = DirectEntry.Of(PairTable.For(in at[count - 2], in at[count - 1]));
        // Last: the steps above recognise handlers by the addresses the tables hold.
        for (int k = 0; k < count; k++)
        {
            ref Insn i = ref block.First[k];
            i.Exec = DirectEntry.Of(i.Exec);
            if (i.Inner != null) i.Inner = DirectEntry.Of(i.Inner);
        }
        if (HotHeads != null && HotHeads.Contains(rip)) block.ExecCount = PresetHot;
        ulong lastChunk = (block.End - 1) >> ChunkShift;
        for (ulong c = rip >> ChunkShift; c <= lastChunk; c++)
            if (c != _lastChunk) _codeChunks.Add(c);
        _lastChunk = lastChunk;
        // Stores to these lines must now come through the slow path, which forgets the block first.
        ulong lineMask = (ulong)_mem.Cache.LineSize - 1;
        for (ulong line = rip & ~lineMask; line < block.End; line += lineMask + 1)
            if (line != _lastLine) _mem.Cache.CodeLines.Mark(_mem.Asid, line);
        _lastLine = (block.End - 1) & ~lineMask;
        return block;
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

    static void Prepare(in Instruction ins, ref Insn i)
    {
        i = new Insn
        {
            I = ins,
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
    }
}

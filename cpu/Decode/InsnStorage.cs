namespace LegoEmu.Cpu.Decode;

/// <summary>
/// Memory for decoded instructions, outside the garbage-collected heap. A large program decodes hundreds of thousands
/// of instructions (cc1: 230 000, 20 MB) that live as long as the program: as arrays on the heap each one was fresh
/// memory faulted in page by page while the guest waited (a tenth of cc1's decoding) and then copied by every young
/// collection. Here they are cut from 1 MiB chunks, which an idle processor component faults in while it waits and
/// which go back to a free list, still faulted in, once no block of theirs is reachable.
/// </summary>
public static unsafe class InsnStorage
{
    public const int ChunkBytes = 1 << 20;

    /// <summary>Instructions per chunk (about 11 900).</summary>
    public static readonly int ChunkInsns = ChunkBytes / sizeof(Insn);

    /// <summary>At most this many free chunks are kept; more are given back to the system.</summary>
    const int MaxFree = 32;

    static readonly Stack<nint> Free = new();

    /// <summary>One chunk: blocks cut from it hold it, and its memory returns to the free list when none is reachable.</summary>
    public sealed class Chunk
    {
        public readonly Insn* Base;

        /// <summary>Instructions handed out so far (only the decoding thread moves it).</summary>
        public int Used;

        internal Chunk(Insn* memory) => Base = memory;

        public int Left => ChunkInsns - Used;

        ~Chunk() => Release((nint)Base);
    }

    /// <summary>
    /// A chunk with nothing used, from the free list when it has one. A decoder that filled its chunk
    /// (<paramref name="ahead"/>) and takes the last free one asks a pool thread to fault in the next: a program whose
    /// start-up decodes megabytes (python3 -c pass: 13 chunks) then finds each next chunk ready instead of waiting about
    /// half a millisecond for the kernel to clear its pages, while one that never fills its first chunk (a hello, most
    /// forked shells) starts no pool thread and maps nothing it does not use.
    /// </summary>
    public static Chunk Take(bool ahead = false)
    {
        nint memory = 0;
        bool refill = false;
        lock (Free)
        {
            if (Free.Count > 0) memory = Free.Pop();
            if (ahead && Free.Count == 0 && !_refilling) refill = _refilling = true;
        }
        if (refill) ThreadPool.UnsafeQueueUserWorkItem(static _ => Refill(), null);
        if (memory == 0) memory = Map();
        return new Chunk((Insn*)memory);
    }

    /// <summary>Set while a pool thread maps a chunk for the free list (at most one at a time).</summary>
    static bool _refilling;

    static void Refill()
    {
        nint memory = 0;
        try { memory = Map(); }
        catch (OutOfMemoryException) { }
        lock (Free) _refilling = false;
        if (memory != 0) Release(memory);
    }

    /// <summary>
    /// A fresh chunk with its pages faulted in by the kernel in one call (MAP_POPULATE): a short program decodes
    /// megabytes of instructions on its start-up path, and a fault per page (each a trap out of the guest's thread,
    /// dearer in a virtual machine) was a tenth of the decoder's time.
    /// </summary>
    static nint Map()
    {
        const int ProtReadWrite = 3, MapPrivateAnonymous = 0x22, MapPopulate = 0x8000;
        nint m = LegoEmu.Mem.HostCode.Map(0, ChunkBytes, ProtReadWrite, MapPrivateAnonymous | MapPopulate, -1, 0, out int errno);
        if (m == -1) throw new OutOfMemoryException($"cannot map {ChunkBytes >> 10} KiB for decoded instructions (errno {errno})");
        return m;
    }

    static void Release(nint memory)
    {
        lock (Free)
        {
            if (Free.Count < MaxFree)
            {
                Free.Push(memory);
                return;
            }
        }
        LegoEmu.Mem.HostCode.Unmap(memory, ChunkBytes);
    }

    /// <summary>
    /// Makes the free list hold at least <paramref name="bytes"/> (at most 32 MiB) of chunks whose pages are faulted in.
    /// For a component that waits for its guest: it costs the kernel's time to fault them in, which the guest's decoding would pay.
    /// </summary>
    public static void Prepare(long bytes)
    {
        int want = (int)Math.Min(MaxFree, (bytes + ChunkBytes - 1) / ChunkBytes);
        while (true)
        {
            lock (Free)
                if (Free.Count >= want) return;
            Release(Map());
        }
    }

    /// <summary>Free chunks held now (for tests and figures).</summary>
    public static int FreeChunks
    {
        get
        {
            lock (Free) return Free.Count;
        }
    }
}

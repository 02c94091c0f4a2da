namespace LegoEmu.Mem.Component;

/// <summary>
/// A memory component living in the emulator's own process: VMA sets plus 4 KiB frames allocated
/// on first write-back. It is the embedded default and the store a remote memory node serves.
/// </summary>
public sealed class InProcessMemoryComponent : IMemoryComponent
{
    sealed class Space
    {
        public readonly VmaSet Vmas = new();
        public readonly Dictionary<ulong, byte[]> Frames = new();
    }

    readonly Dictionary<int, Space> _spaces = new();
    readonly long _capacityFrames;
    int _nextAsid = 1;

    /// <param name="capacityBytes">Upper bound on frame memory; 0 means unbounded.</param>
    public InProcessMemoryComponent(long capacityBytes = 0)
    {
        _capacityFrames = capacityBytes <= 0 ? long.MaxValue : capacityBytes >> PageMath.PageShift;
    }

    public ComponentStats Stats { get; } = new();

    public int CreateAddressSpace()
    {
        int id = _nextAsid++;
        _spaces[id] = new Space();
        return id;
    }

    Space Get(int asid) => _spaces.TryGetValue(asid, out var s) ? s : throw new ArgumentException($"unknown address space {asid}");

    public long Map(int asid, ulong addr, ulong length, Protection prot, MapFlags flags, string name)
    {
        var s = Get(asid);
        if (length == 0) return -Errno.EINVAL;
        ulong len = PageMath.Up(length);
        if (len < length) return -Errno.ENOMEM;
        bool fixedMap = (flags & (MapFlags.Fixed | MapFlags.FixedNoReplace)) != 0;
        if (fixedMap)
        {
            if (!PageMath.Aligned(addr)) return -Errno.EINVAL;
            if (addr + len > VmaSet.TaskSize || addr + len < addr) return -Errno.ENOMEM;
            if ((flags & MapFlags.FixedNoReplace) != 0 && s.Vmas.Overlaps(addr, addr + len)) return -Errno.EEXIST;
            DropRange(s, addr, addr + len);
        }
        else
        {
            addr = s.Vmas.FindFree(len, addr);
            if (addr == 0) return -Errno.ENOMEM;
        }
        s.Vmas.Insert(new Vma(addr, addr + len, prot, flags, name));
        return (long)addr;
    }

    public long Unmap(int asid, ulong addr, ulong length)
    {
        var s = Get(asid);
        if (!PageMath.Aligned(addr) || length == 0) return -Errno.EINVAL;
        ulong end = PageMath.Up(addr + length);
        if (end < addr || end > VmaSet.TaskSize) return -Errno.EINVAL;
        DropRange(s, addr, end);
        return 0;
    }

    void DropRange(Space s, ulong start, ulong end)
    {
        s.Vmas.Remove(start, end);
        // Frames are sparse: walking the dictionary is cheaper than walking a huge range page by page.
        ulong pages = (end - start) >> PageMath.PageShift;
        if (pages <= (ulong)s.Frames.Count)
        {
            for (ulong p = start; p < end; p += PageMath.PageSize)
                if (s.Frames.Remove(p >> PageMath.PageShift)) Stats.Frames--;
        }
        else
        {
            List<ulong>? dead = null;
            foreach (var key in s.Frames.Keys)
            {
                ulong a = key << PageMath.PageShift;
                if (a >= start && a < end) (dead ??= new()).Add(key);
            }
            if (dead != null)
                foreach (var k in dead) { s.Frames.Remove(k); Stats.Frames--; }
        }
    }

    public long Protect(int asid, ulong addr, ulong length, Protection prot)
    {
        var s = Get(asid);
        if (!PageMath.Aligned(addr)) return -Errno.EINVAL;
        if (length == 0) return 0;
        ulong end = PageMath.Up(addr + length);
        if (end < addr) return -Errno.ENOMEM;
        if (!s.Vmas.FullyMapped(addr, end)) return -Errno.ENOMEM;
        s.Vmas.SetProtection(addr, end, prot);
        return 0;
    }

    public void SetBrkBase(int asid, ulong brkBase)
    {
        var s = Get(asid);
        s.Vmas.BrkBase = brkBase;
        s.Vmas.Brk = brkBase;
    }

    public ulong Brk(int asid, ulong newBreak)
    {
        var s = Get(asid);
        var v = s.Vmas;
        if (newBreak < v.BrkBase) return v.Brk;
        ulong oldTop = PageMath.Up(v.Brk);
        ulong newTop = PageMath.Up(newBreak);
        if (newTop > oldTop)
        {
            if (newTop > VmaSet.TaskSize || v.Overlaps(oldTop, newTop)) return v.Brk;
            var heap = oldTop > v.BrkBase ? v.Find(oldTop - 1) : null;
            if (heap != null && heap.Name == "[heap]") heap.End = newTop;
            else v.Insert(new Vma(oldTop, newTop, Protection.ReadWrite, MapFlags.Private | MapFlags.Anonymous, "[heap]"));
        }
        else if (newTop < oldTop)
        {
            DropRange(s, newTop, oldTop);
        }
        v.Brk = newBreak;
        return newBreak;
    }

    public FillStatus Fill(int asid, ulong lineAddr, Span<byte> destination, out Protection prot)
    {
        var s = Get(asid);
        var vma = s.Vmas.Find(lineAddr);
        if (vma == null) { prot = Protection.None; return FillStatus.Unmapped; }
        prot = vma.Prot;
        Stats.Fills++;
        if (destination.Length <= (int)PageMath.PageSize)
        {
            if (!s.Frames.TryGetValue(lineAddr >> PageMath.PageShift, out var frame))
            {
                destination.Clear();
                Stats.ZeroFills++;
                return FillStatus.Zero;
            }
            frame.AsSpan((int)(lineAddr & PageMath.PageMask), destination.Length).CopyTo(destination);
            Stats.BytesOut += destination.Length;
            return FillStatus.Data;
        }
        throw new NotSupportedException("cache lines larger than a page are rejected by CacheConfig");
    }

    public void WriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        var s = Get(asid);
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
        // A line whose mapping vanished while it sat dirty in a cache is dropped, as munmap would.
        if (s.Vmas.Find(lineAddr) == null) return;
        data.CopyTo(FrameFor(s, lineAddr).AsSpan((int)(lineAddr & PageMath.PageMask), data.Length));
    }

    byte[] FrameFor(Space s, ulong addr)
    {
        ulong page = addr >> PageMath.PageShift;
        if (!s.Frames.TryGetValue(page, out var frame))
        {
            if (Stats.Frames >= _capacityFrames) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            frame = new byte[PageMath.PageSize];
            s.Frames[page] = frame;
            Stats.Frames++;
        }
        return frame;
    }

    public void Poke(int asid, ulong addr, ReadOnlySpan<byte> data)
    {
        var s = Get(asid);
        while (!data.IsEmpty)
        {
            int off = (int)(addr & PageMath.PageMask);
            int n = Math.Min(data.Length, (int)PageMath.PageSize - off);
            data[..n].CopyTo(FrameFor(s, addr).AsSpan(off, n));
            data = data[n..];
            addr += (ulong)n;
        }
    }

    public IReadOnlyList<Vma> Snapshot(int asid) => Get(asid).Vmas.Items.Select(v => v.CloneRange(v.Start, v.End)).ToArray();
}

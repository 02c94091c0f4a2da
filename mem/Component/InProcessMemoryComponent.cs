namespace LegoEmu.Mem.Component;

/// <summary>
/// A memory component's store: VMA sets plus 4 KiB frames allocated on first write-back, shared
/// copy-on-write between forked address spaces. It is the embedded default and what a memory-node
/// process serves over the wire. Not thread-safe: a server serialises calls into it.
/// </summary>
public sealed unsafe class InProcessMemoryComponent : IMemoryComponent
{
    /// <summary>
    /// A physical frame; shared by forked spaces until one of them writes it. Its bytes are an array, or a slot of the
    /// <see cref="FrameArena"/> when the component has one (a memory node's private frames, which a processor on the
    /// same host may be granted).
    /// </summary>
    sealed class Frame
    {
        public readonly byte[]? Data;
        public readonly byte* Slot;
        /// <summary>The arena slot's number, or -1 for an array.</summary>
        public readonly int Index = -1;
        public int Sharers = 1;
        /// <summary>The bytes are a page of <see cref="FilePages"/>: never written in place, and not this component's memory.</summary>
        public readonly bool FilePage;

        public Frame(byte[] data, bool filePage = false)
        {
            Data = data;
            FilePage = filePage;
        }

        public Frame(int index, byte* slot)
        {
            Index = index;
            Slot = slot;
        }

        public Span<byte> Bytes => Data != null ? Data : new Span<byte>(Slot, (int)PageMath.PageSize);
    }

    /// <summary>Where private frames live when this component serves processors on its host; null: arrays.</summary>
    public FrameArena? Arena { get; }

    /// <summary>A zeroed private frame: an arena slot when there is room, an array otherwise.</summary>
    Frame NewFrame()
    {
        int index = Arena?.Allocate() ?? -1;
        return index >= 0 ? new Frame(index, Arena!.Frame(index)) : new Frame(new byte[PageMath.PageSize]);
    }

    sealed class Space
    {
        public readonly VmaSet Vmas = new();
        public readonly Dictionary<ulong, Frame> Frames = new();
    }

    readonly Dictionary<int, Space> _spaces = new();
    int _nextAsid = 1;
    readonly Dictionary<string, SharedObject> _objects = new();
    readonly Dictionary<int, SharedObject> _objectsById = new();
    int _nextObject = 1;

    /// <param name="capacityBytes">Upper bound on frame memory; 0 means unbounded.</param>
    /// <param name="arena">Private frames as slots of a <see cref="FrameArena"/> (as large as the capacity, or its default).</param>
    public InProcessMemoryComponent(long capacityBytes = 0, bool arena = false)
    {
        Stats.CapacityFrames = capacityBytes <= 0 ? long.MaxValue : capacityBytes >> PageMath.PageShift;
        if (arena) Arena = new FrameArena(capacityBytes > 0 ? Math.Min(capacityBytes, FrameArena.DefaultReserveBytes) : FrameArena.DefaultReserveBytes);
    }

    public ComponentStats Stats { get; } = new();

    public int CreateAddressSpace(int requestedAsid = 0)
    {
        int id = requestedAsid;
        if (id == 0)
        {
            while (_spaces.ContainsKey(_nextAsid)) _nextAsid++;
            id = _nextAsid++;
        }
        else if (id < 0 || _spaces.ContainsKey(id)) return -Errno.EEXIST;
        _spaces[id] = new Space();
        return id;
    }

    public bool HasAddressSpace(int asid) => _spaces.ContainsKey(asid);

    /// <summary>Frames a space holds privately (shared with its forks until written included), for per-client limits.</summary>
    public int PrivateFrames(int asid) => _spaces.TryGetValue(asid, out var s) ? s.Frames.Count : 0;

    /// <summary>True when writing the page at <paramref name="addr"/> would not allocate a new frame for the space.</summary>
    public bool HasOwnFrame(int asid, ulong addr)
    {
        if (!_spaces.TryGetValue(asid, out var s)) return false;
        if (s.Vmas.Find(addr) is { Object: { } obj } vma) return obj.Frames.ContainsKey(vma.ObjectPage(addr));
        return s.Frames.TryGetValue(addr >> PageMath.PageShift, out var f) && f.Sharers == 1;
    }

    public void DestroyAddressSpace(int asid)
    {
        if (!_spaces.Remove(asid, out var s)) return;
        foreach (var f in s.Frames.Values) Release(f);
        CollectObjects(s.Vmas.Items.Select(v => v.Object));
        // A space's end gives its frames' memory back now, not at the next batch of frees.
        Arena?.Release();
    }

    public int ForkAddressSpace(int asid, int requestedAsid = 0)
    {
        var parent = Get(asid);
        int id = CreateAddressSpace(requestedAsid);
        if (id < 0) return id;
        var child = _spaces[id];
        foreach (var v in parent.Vmas.Items) child.Vmas.Insert(v.CloneRange(v.Start, v.End));
        child.Vmas.BrkBase = parent.Vmas.BrkBase;
        child.Vmas.Brk = parent.Vmas.Brk;
        child.Vmas.MmapBase = parent.Vmas.MmapBase;
        foreach (var (page, frame) in parent.Frames)
        {
            frame.Sharers++;
            child.Frames[page] = frame;
        }
        return id;
    }

    Space Get(int asid) => _spaces.TryGetValue(asid, out var s) ? s : throw new ArgumentException($"unknown address space {asid}");

    void Release(Frame f)
    {
        if (--f.Sharers != 0) return;
        if (!f.FilePage) Stats.Frames--;
        if (f.Index >= 0) Arena!.Free(f.Index);
    }

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
        s.Vmas.Insert(new Vma(addr, addr + len, prot, flags & ~(MapFlags.Fixed | MapFlags.FixedNoReplace), name));
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
        List<SharedObject>? shared = null;
        foreach (var v in s.Vmas.In(start, end))
            if (v.Object != null) (shared ??= new()).Add(v.Object);
        s.Vmas.Remove(start, end);
        if (shared != null) CollectObjects(shared);
        // Frames are sparse: walking the dictionary is cheaper than walking a huge range page by page.
        ulong pages = (end - start) >> PageMath.PageShift;
        if (pages <= (ulong)s.Frames.Count)
        {
            for (ulong p = start; p < end; p += PageMath.PageSize)
                if (s.Frames.Remove(p >> PageMath.PageShift, out var f)) Release(f);
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
                foreach (var k in dead)
                    if (s.Frames.Remove(k, out var f)) Release(f);
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

    public FillStatus Fill(int asid, ulong lineAddr, Span<byte> destination, out Protection prot) => Fill(asid, lineAddr, destination, out prot, out _, false);

    /// <summary>
    /// As <see cref="Fill(int, ulong, Span{byte}, out Protection)"/>; <paramref name="slot"/> is the arena slot of the
    /// page's frame when the space holds it alone (one sharer: no fork shares it, no shared object or file page), else -1.
    /// With <paramref name="ownPages"/> a page of a privately mapped file becomes a frame of the space's own first
    /// (a copy in the arena, as its first write would make, while there is room), so that it can be granted: a guest that
    /// streams a file it mapped would otherwise need a message for every miss of it. So does a private page that has no
    /// frame yet (zeros: a program's .bss read before it is written, memory no longer p-local): its every fill, and every
    /// prefetch that passes it, would otherwise be a message answered with zeros.
    /// </summary>
    public FillStatus Fill(int asid, ulong lineAddr, Span<byte> destination, out Protection prot, out int slot, bool ownPages)
    {
        slot = -1;
        var s = Get(asid);
        var vma = s.Vmas.Find(lineAddr);
        if (vma == null) { prot = Protection.None; return FillStatus.Unmapped; }
        prot = vma.Prot;
        Stats.Fills++;
        if (destination.Length > (int)PageMath.PageSize)
            throw new ArgumentException("cache lines larger than a page are rejected by CacheConfig");
        ReadOnlySpan<byte> data;
        if (vma.Object != null) data = vma.Object.Frames.TryGetValue(vma.ObjectPage(lineAddr), out var shared) ? shared : default;
        else if (s.Frames.TryGetValue(lineAddr >> PageMath.PageShift, out var frame) || (FilePage(s, vma, lineAddr, AccessKind.Read) != null
                     && s.Frames.TryGetValue(lineAddr >> PageMath.PageShift, out frame)))
        {
            if (frame.FilePage && ownPages) frame = OwnCopy(s, lineAddr >> PageMath.PageShift, frame);
            data = frame.Bytes;
            if (frame.Index >= 0 && frame.Sharers == 1) slot = frame.Index;
        }
        else if (ownPages && OwnZeroFrame(s, lineAddr >> PageMath.PageShift) is { } zero)
        {
            data = zero.Bytes;
            slot = zero.Index;
        }
        else data = default;
        if (data.IsEmpty)
        {
            Cache.LineBytes.Zero(destination);
            Stats.ZeroFills++;
            return FillStatus.Zero;
        }
        Cache.LineBytes.Copy(data.Slice((int)(lineAddr & PageMath.PageMask), destination.Length), destination);
        Stats.BytesOut += destination.Length;
        return FillStatus.Data;
    }

    public void WriteBack(int asid, ulong lineAddr, ReadOnlySpan<byte> data)
    {
        var s = Get(asid);
        Stats.WriteBacks++;
        Stats.BytesIn += data.Length;
        // A line whose mapping vanished while it sat dirty in a cache is dropped, as munmap would.
        if (s.Vmas.Find(lineAddr) is not { } vma) return;
        data.CopyTo(WritableFrame(s, vma, lineAddr).Slice((int)(lineAddr & PageMath.PageMask), data.Length));
    }

    public FillStatus WriteBackAndFill(int asid, ulong victimAddr, ReadOnlySpan<byte> victim, ulong lineAddr, Span<byte> destination,
        out Protection prot, out bool combined)
    {
        WriteBack(asid, victimAddr, victim);
        combined = true;
        return Fill(asid, lineAddr, destination, out prot);
    }

    /// <summary>
    /// The arena slot of the page at <paramref name="addr"/> when the space holds its frame alone (as
    /// <see cref="Fill(int, ulong, Span{byte}, out Protection, out int, bool)"/> grants it), with the VMA's rights; else -1.
    /// </summary>
    public int OwnSlot(int asid, ulong addr, out Protection prot)
    {
        prot = Protection.None;
        if (!_spaces.TryGetValue(asid, out var s) || s.Vmas.Find(addr) is not { Object: null } vma) return -1;
        prot = vma.Prot;
        return s.Frames.TryGetValue(addr >> PageMath.PageShift, out var f) && f.Index >= 0 && f.Sharers == 1 ? f.Index : -1;
    }

    /// <summary>
    /// A file page's frame replaced by an arena copy of the space's own; the same frame when there is no room for one. A
    /// node with a capacity copies only while it is less than half full: the copies must not take the memory the guest's
    /// own writes would get.
    /// </summary>
    Frame OwnCopy(Space s, ulong page, Frame frame)
    {
        if (Arena == null || (Stats.CapacityFrames != long.MaxValue && Stats.Frames >= Stats.CapacityFrames / 2)) return frame;
        int index = Arena.Allocate();
        if (index < 0) return frame;
        var copy = new Frame(index, Arena.Frame(index));
        frame.Bytes.CopyTo(copy.Bytes);
        Release(frame);
        s.Frames[page] = copy;
        Stats.Frames++;
        return copy;
    }

    /// <summary>
    /// A zeroed arena frame made the page's own (see <see cref="Fill(int, ulong, Span{byte}, out Protection, out int, bool)"/>),
    /// or null when there is no arena or it is half full: as <see cref="OwnCopy"/>, reading must not take the room that
    /// writes need.
    /// </summary>
    Frame? OwnZeroFrame(Space s, ulong page)
    {
        if (Arena == null || (Stats.CapacityFrames != long.MaxValue && Stats.Frames >= Stats.CapacityFrames / 2)) return null;
        int index = Arena.Allocate();
        if (index < 0) return null;
        var frame = new Frame(index, Arena.Frame(index));
        s.Frames[page] = frame;
        Stats.Frames++;
        return frame;
    }

    /// <summary>The frame backing a page, allocated on first use and unshared (copied) if forked spaces share it.</summary>
    Span<byte> WritableFrame(Space s, Vma? vma, ulong addr)
    {
        if (vma?.Object is { } obj)
        {
            ulong index = vma.ObjectPage(addr);
            if (obj.Frames.TryGetValue(index, out var shared)) return shared;
            if (Stats.Frames >= Stats.CapacityFrames) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            Stats.Frames++;
            return obj.Frames[index] = new byte[PageMath.PageSize];
        }
        ulong page = addr >> PageMath.PageShift;
        if (vma != null && !s.Frames.ContainsKey(page)) FilePage(s, vma, addr, AccessKind.Write);
        if (s.Frames.TryGetValue(page, out var frame))
        {
            if (frame.Sharers == 1 && !frame.FilePage) return frame.Bytes;
            if (Stats.Frames >= Stats.CapacityFrames) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
            var copy = NewFrame();
            frame.Bytes.CopyTo(copy.Bytes);
            Release(frame);
            s.Frames[page] = copy;
            Stats.Frames++;
            return copy.Bytes;
        }
        if (Stats.Frames >= Stats.CapacityFrames) throw new MemoryFault(addr, AccessKind.Write, FaultReason.NoMemory);
        var fresh = NewFrame();
        s.Frames[page] = fresh;
        Stats.Frames++;
        return fresh.Bytes;
    }

    public void Poke(int asid, ulong addr, ReadOnlySpan<byte> data, bool onlyAbsent = false)
    {
        var s = Get(asid);
        while (!data.IsEmpty)
        {
            int off = (int)(addr & PageMath.PageMask);
            int n = Math.Min(data.Length, (int)PageMath.PageSize - off);
            var vma = s.Vmas.Find(addr);
            bool present = onlyAbsent && (vma?.Object is { } obj
                ? obj.Frames.ContainsKey(vma.ObjectPage(addr))
                : s.Frames.ContainsKey(addr >> PageMath.PageShift));
            if (!present) data[..n].CopyTo(WritableFrame(s, vma, addr).Slice(off, n));
            data = data[n..];
            addr += (ulong)n;
        }
    }

    /// <summary>
    /// Places whole pages of a private file mapping from <see cref="FilePages"/>: each page of [addr, ...) refers to the
    /// cached bytes, copied only when written, like a page of the kernel's page cache under MAP_PRIVATE.
    /// </summary>
    public void PokePages(int asid, ulong addr, IReadOnlyList<byte[]> pages)
    {
        var s = Get(asid);
        foreach (var data in pages)
        {
            if (s.Vmas.Find(addr) is { Object: null })
            {
                ulong page = addr >> PageMath.PageShift;
                if (s.Frames.Remove(page, out var old)) Release(old);
                s.Frames[page] = new Frame(data, filePage: true);
            }
            else Poke(asid, addr, data);
            addr += PageMath.PageSize;
        }
    }

    /// <summary>
    /// Makes the pages of [addr, addr+length) show <paramref name="file"/> from <paramref name="fileOffset"/> on: each
    /// page is read at its first fill (or write) and shared with the file's other mappings in this process until
    /// written. The range must lie in one fresh private mapping; anything else gets the bytes now.
    /// </summary>
    public void BackWithFile(int asid, ulong addr, ulong length, FileBacking file, ulong fileOffset)
    {
        var s = Get(asid);
        var vma = s.Vmas.Find(addr);
        if (vma == null || vma.Object != null || vma.File != null || (vma.Flags & MapFlags.Shared) != 0 || addr + length > vma.End
            || !PageMath.Aligned(addr) || !PageMath.Aligned(length) || !PageMath.Aligned(fileOffset) || length == 0)
        {
            IMemoryComponent.PlaceFilePages(this, asid, addr, length, file, fileOffset);
            return;
        }
        for (ulong a = addr; a < addr + length; a += PageMath.PageSize)
            if (s.Frames.Remove(a >> PageMath.PageShift, out var old)) Release(old);
        vma.File = file;
        vma.FileOffset = fileOffset - (addr - vma.Start);
        vma.FileFrom = fileOffset;
        vma.FileTo = fileOffset + length;
    }

    /// <summary>
    /// The page of the file a private VMA shows at <paramref name="addr"/>, now a frame of the space (shared, copied
    /// when written), or null when no file backs that page. A page that cannot be read faults the access.
    /// </summary>
    static byte[]? FilePage(Space s, Vma vma, ulong addr, AccessKind access)
    {
        if (vma.Object != null) return null;
        long index = vma.FilePage(addr);
        if (index < 0) return null;
        var data = vma.File!.Page(index) ?? throw new MemoryFault(addr, access, FaultReason.NoMemory);
        s.Frames[addr >> PageMath.PageShift] = new Frame(data, filePage: true);
        return data;
    }

    /// <summary>
    /// The pages of [start, end) that have a frame, in address order, at most <paramref name="maxPages"/> of them and
    /// at most <paramref name="maxScanned"/> pages looked at: what a new replica of the range must be given. Returns
    /// where the next call should start (<paramref name="end"/> when the range is done).
    /// </summary>
    public ulong ReadFrames(int asid, ulong start, ulong end, int maxPages, int maxScanned, List<(ulong Addr, byte[] Data)> pages)
    {
        var s = Get(asid);
        ulong cursor = PageMath.Down(start);
        foreach (var v in s.Vmas.In(cursor, end))
        {
            ulong a = Math.Max(cursor, v.Start), stop = Math.Min(v.End, end);
            for (; a < stop; a += PageMath.PageSize)
            {
                if (pages.Count >= maxPages || maxScanned-- <= 0) return a;
                byte[]? data;
                if (v.Object != null) v.Object.Frames.TryGetValue(v.ObjectPage(a), out data);
                // An arena frame is copied: the list outlives the lock it was read under.
                else data = s.Frames.TryGetValue(a >> PageMath.PageShift, out var frame) ? frame.Data ?? frame.Bytes.ToArray() : FilePage(s, v, a, AccessKind.Read);
                if (data != null) pages.Add((a, data));
            }
            cursor = stop;
        }
        return end;
    }

    /// <summary>
    /// Makes the VMAs of [addr, addr+length) show the shared object named <paramref name="key"/> from byte
    /// <paramref name="offset"/> on (MAP_SHARED). Returns 1 when the object was made now (the caller fills
    /// it, from a file say), 0 when it existed, or a negated errno.
    /// </summary>
    public long Share(int asid, ulong addr, ulong length, string key, ulong offset)
    {
        var s = Get(asid);
        if (!PageMath.Aligned(addr) || !PageMath.Aligned(offset) || length == 0) return -Errno.EINVAL;
        ulong end = PageMath.Up(addr + length);
        if (!s.Vmas.FullyMapped(addr, end)) return -Errno.ENOMEM;
        bool created = !_objects.TryGetValue(key, out var obj);
        obj ??= NewObject(key);
        var old = new List<SharedObject>();
        foreach (var v in s.Vmas.Items)
        {
            if (v.End <= addr || v.Start >= end) continue;
            if (v.Start < addr || v.End > end) return -Errno.EINVAL; // a whole mapping is bound, never part of one
            if (v.Object != null) old.Add(v.Object);
            v.Object = obj;
            v.ObjectOffset = offset + (v.Start - addr);
        }
        CollectObjects(old);
        return created ? 1 : 0;
    }

    /// <summary>
    /// Keeps a shared object alive with no mapping (a SysV segment until IPC_RMID) or lets it go. Returns the
    /// object's id, or -ENOENT when no object has that key and <paramref name="create"/> is false.
    /// </summary>
    public long PinObject(string key, int delta, bool create)
    {
        if (!_objects.TryGetValue(key, out var obj))
        {
            if (!create || delta < 0) return -Errno.ENOENT;
            obj = NewObject(key);
        }
        obj.Pins = Math.Max(0, obj.Pins + delta);
        int id = obj.Id;
        if (obj.Pins == 0) CollectObjects([obj]);
        return id;
    }

    /// <summary>
    /// A new object under the next id, never the id of the object that went last: the line directory names an object's
    /// lines by its id, and may still list holders of a gone object's lines (a clean line dropped at munmap is not
    /// reported), which would then be asked to give up lines of the new one.
    /// </summary>
    SharedObject NewObject(string key)
    {
        while (_objectsById.ContainsKey(_nextObject)) _nextObject = _nextObject == int.MaxValue ? 1 : _nextObject + 1;
        var obj = new SharedObject(_nextObject, key);
        _nextObject = _nextObject == int.MaxValue ? 1 : _nextObject + 1;
        _objects[key] = obj;
        _objectsById[obj.Id] = obj;
        return obj;
    }

    /// <summary>Shared objects no VMA shows and nothing pins any more go, with their frames.</summary>
    void CollectObjects(IEnumerable<SharedObject?> dropped)
    {
        HashSet<SharedObject>? candidates = null;
        foreach (var o in dropped)
            if (o is { Pins: 0 }) (candidates ??= new()).Add(o);
        if (candidates == null) return;
        foreach (var space in _spaces.Values)
            foreach (var v in space.Vmas.Items)
                if (v.Object != null) candidates.Remove(v.Object);
        foreach (var o in candidates)
        {
            if (_objects.TryGetValue(o.Key, out var current) && current == o) _objects.Remove(o.Key);
            _objectsById.Remove(o.Id);
            Stats.Frames -= o.Frames.Count;
        }
    }

    /// <summary>
    /// The directory's name for a line: a private line is (address space, address); a line of a shared
    /// object is (-object id, offset in the object), whatever address space and address it was reached by.
    /// </summary>
    public (int Space, ulong Addr) LineKey(int asid, ulong lineAddr)
    {
        if (_spaces.TryGetValue(asid, out var s) && s.Vmas.Find(lineAddr) is { Object: { } obj } v)
            return (-obj.Id, v.ObjectOffset + (lineAddr - v.Start));
        return (asid, lineAddr);
    }

    public IReadOnlyList<Vma> Snapshot(int asid) => Get(asid).Vmas.Items.Select(v => v.CloneRange(v.Start, v.End)).ToArray();

    public IReadOnlyList<Vma> Snapshot(int asid, ulong start, ulong end) => Get(asid).Vmas.In(start, end).Select(v => v.CloneRange(v.Start, v.End)).ToArray();
}

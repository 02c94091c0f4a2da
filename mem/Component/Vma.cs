namespace LegoEmu.Mem.Component;

/// <summary>How a mapping was created; decides what a fill of an untouched page returns.</summary>
[Flags]
public enum MapFlags
{
    None = 0,
    Shared = 1,
    Private = 2,
    Fixed = 0x10,
    Anonymous = 0x20,
    GrowsDown = 0x100,
    FixedNoReplace = 0x100000,
}

/// <summary>One virtual memory area of a guest address space: [Start, End), page aligned.</summary>
public sealed class Vma(ulong start, ulong end, Protection prot, MapFlags flags, string name)
{
    public ulong Start { get; set; } = start;
    public ulong End { get; set; } = end;
    public Protection Prot { get; set; } = prot;
    public MapFlags Flags { get; } = flags;
    /// <summary>What /proc/self/maps shows: a path, "[heap]", "[stack]" or empty.</summary>
    public string Name { get; } = name;
    /// <summary>The shared memory this VMA shows (MAP_SHARED), or null for private memory.</summary>
    public SharedObject? Object { get; set; }
    /// <summary>Byte offset in <see cref="Object"/> of <see cref="Start"/>.</summary>
    public ulong ObjectOffset { get; set; }

    /// <summary>The file whose pages this private VMA shows where it has no frame of its own (a program's segment), or null.</summary>
    public FileBacking? File { get; set; }
    /// <summary>Byte offset in <see cref="File"/> of <see cref="Start"/> (modulo 2^64: the file's part may begin further up).</summary>
    public ulong FileOffset { get; set; }
    /// <summary>The file offsets [FileFrom, FileTo) of the pages <see cref="File"/> backs; the VMA's other pages start as zeros.</summary>
    public ulong FileFrom { get; set; }
    public ulong FileTo { get; set; }

    public ulong Length => End - Start;
    public bool Contains(ulong a) => a >= Start && a < End;

    public Vma CloneRange(ulong start, ulong end) => new(start, end, Prot, Flags, Name)
    {
        Object = Object, ObjectOffset = ObjectOffset + (start - Start),
        File = File, FileOffset = FileOffset + (start - Start), FileFrom = FileFrom, FileTo = FileTo,
    };

    /// <summary>Moves the start up (the front was unmapped), keeping the object and file offsets of what remains.</summary>
    public void TrimStart(ulong newStart)
    {
        ObjectOffset += newStart - Start;
        FileOffset += newStart - Start;
        Start = newStart;
    }

    /// <summary>The page of <see cref="File"/> the page holding <paramref name="addr"/> shows until written, or -1 when the file does not back it.</summary>
    public long FilePage(ulong addr)
    {
        if (File == null) return -1;
        ulong off = FileOffset + ((addr & ~PageMath.PageMask) - Start);
        return off >= FileFrom && off < FileTo && FileTo - off >= PageMath.PageSize ? (long)(off >> PageMath.PageShift) : -1;
    }

    /// <summary>The page index in <see cref="Object"/> of the page holding <paramref name="addr"/>.</summary>
    public ulong ObjectPage(ulong addr) => (ObjectOffset + (addr - Start)) >> PageMath.PageShift;
    public override string ToString() => $"{Start:x}-{End:x} {Prot} {Name}";
}

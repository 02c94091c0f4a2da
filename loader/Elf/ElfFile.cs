using System.Buffers.Binary;
using System.Text;
using LegoEmu.Loader.Image;
using LegoEmu.Mem.Component;

namespace LegoEmu.Loader.Elf;

/// <summary>
/// A parsed, validated ELF64 little-endian x86-64 file. Every offset and size read from the file is
/// checked against its length, so a hostile or truncated file yields <see cref="ElfFormatException"/>.
/// </summary>
public sealed class ElfFile
{
    /// <summary>How much of a program execve reads at once: its headers; the segments are read as the guest touches them.</summary>
    const int ExecHeadBytes = 64 << 10;

    /// <summary>The whole file, read now if only its head was (<see cref="Load(ExecutableFile)"/>).</summary>
    public byte[] Data
    {
        get
        {
            Complete();
            return _bytes;
        }
    }

    /// <summary>The file's bytes from offset 0: all of them, or only its head until <see cref="Complete"/>.</summary>
    byte[] _bytes;
    bool _complete;
    readonly long _fileLength;
    readonly ulong _shoff;
    readonly ushort _shentsize, _shnum, _shstrndx;
    SectionHeader[]? _sections;

    /// <summary>The file's length (the bytes read, when the whole file was read at once).</summary>
    public long FileLength => _fileLength;

    /// <summary>The bytes this object holds in memory.</summary>
    public long ResidentBytes => _bytes.LongLength;

    /// <summary>The open file, for mappings that read its pages when the guest touches them; null for an image given as bytes.</summary>
    public FileBacking? Backing { get; }

    public string Path { get; }
    public ushort Type { get; }
    public ulong Entry { get; }
    public ulong PhOff { get; }
    // Arrays rather than lists or LINQ: generic code over these structs is not precompiled, and every
    // process (and every exec) parses at least two ELF files, so each instantiation would be a JIT at start-up.
    public ProgramHeader[] ProgramHeaders { get; }
    public string? Interpreter { get; }

    /// <summary>The section headers (the whole file is read first if only its head was); empty when the table is missing or broken.</summary>
    public SectionHeader[] Sections
    {
        get
        {
            if (Volatile.Read(ref _sections) is { } done) return done;
            Complete();
            lock (this) return _sections ??= ReadSections(_shoff, _shentsize, _shnum, _shstrndx);
        }
    }

    public bool IsDynamicType => Type == ElfConst.ET_DYN;

    /// <param name="data">The file from offset 0: all of it, or its head when <paramref name="backing"/> can read the rest.</param>
    /// <param name="fileLength">The file's length when only its head is given; -1 when <paramref name="data"/> is the whole file.</param>
    ElfFile(byte[] data, string path, bool sectionsOnly = false, FileBacking? backing = null, long fileLength = -1)
    {
        _bytes = data;
        _complete = fileLength < 0 || data.LongLength >= fileLength;
        _fileLength = fileLength < 0 ? data.LongLength : fileLength;
        Backing = backing;
        Path = path;
        if (data.Length < 4 || data[0] != 0x7f || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
            throw new ElfFormatException("not an ELF file");
        if (data.Length < ElfConst.EhdrSize) throw new ElfFormatException("truncated ELF header");
        if (data[4] != 2) throw new ElfFormatException(data[4] == 1 ? "32-bit ELF is not supported (need ELFCLASS64)" : "bad ELF class");
        if (data[5] != 1) throw new ElfFormatException("big-endian ELF is not supported");
        if (data[6] != 1) throw new ElfFormatException("bad ELF version");
        Type = U16(16);
        ushort machine = U16(18);
        if (machine != ElfConst.EM_X86_64) throw new ElfFormatException($"ELF machine {machine} is not x86-64");
        if (Type != ElfConst.ET_EXEC && Type != ElfConst.ET_DYN)
            throw new ElfFormatException(Type == 1 ? "relocatable object, not an executable" : Type == 4 ? "core file, not an executable" : $"unsupported ELF type {Type}");
        Entry = U64(24);
        PhOff = U64(32);
        ulong shoff = U64(40);
        ushort phentsize = U16(54), phnum = U16(56), shentsize = U16(58), shnum = U16(60), shstrndx = U16(62);
        if (phnum == 0) throw new ElfFormatException("no program headers");
        if (phentsize != ElfConst.PhdrSize) throw new ElfFormatException($"bad program header size {phentsize}");
        if (!InFile(PhOff, (ulong)phnum * ElfConst.PhdrSize)) throw new ElfFormatException("truncated program headers");
        (_shoff, _shentsize, _shnum, _shstrndx) = (shoff, shentsize, shnum, shstrndx);
        if (!InBytes(PhOff, (ulong)phnum * ElfConst.PhdrSize)) Complete();

        var phs = new ProgramHeader[phnum];
        for (int i = 0; i < phnum; i++)
        {
            int o = checked((int)PhOff + i * ElfConst.PhdrSize);
            phs[i] = new ProgramHeader(U32(o), U32(o + 4), U64(o + 8), U64(o + 16), U64(o + 32), U64(o + 40), U64(o + 48));
        }
        ProgramHeaders = phs;
        if (sectionsOnly)
        {
            // A separate debug file keeps the program headers of its object but none of their bytes.
            return;
        }
        ValidateSegments(phs);

        foreach (var ph in phs)
        {
            if (ph.Type != ElfConst.PT_INTERP) continue;
            if (!InFile(ph.Offset, ph.FileSize)) throw new ElfFormatException("PT_INTERP outside the file");
            if (!InBytes(ph.Offset, ph.FileSize)) Complete();
            // The kernel's rules: a C string of 2 to PATH_MAX bytes whose last byte is its NUL.
            if (ph.FileSize < 2 || ph.FileSize > 4096 || _bytes[(int)(ph.Offset + ph.FileSize - 1)] != 0)
                throw new ElfFormatException("PT_INTERP is not a NUL-terminated path");
            var name = _bytes.AsSpan((int)ph.Offset, (int)ph.FileSize);
            Interpreter = GuestText.Decode(name[..name.IndexOf((byte)0)]);
        }
    }

    /// <summary>Reads the whole file if only its head was read (a program's symbols and sections are wanted).</summary>
    public void Complete()
    {
        if (Volatile.Read(ref _complete)) return;
        lock (this)
        {
            if (_complete) return;
            if (_fileLength > Array.MaxLength) throw new ElfFormatException($"file of {_fileLength} bytes is too large to load");
            var data = new byte[_fileLength];
            long got = Backing!.ReadAt(data, 0);
            // The checks were made against the length at open: a file that shrank since cannot be read as it was.
            if (got != data.LongLength) throw new ExecFileException(got < 0 ? (int)-got : LegoEmu.Mem.Errno.EIO, Path);
            _bytes = data;
            Volatile.Write(ref _complete, true);
        }
    }

    /// <summary>Copies the file's bytes at <paramref name="offset"/> into <paramref name="into"/> (within the file).</summary>
    public void Read(ulong offset, Span<byte> into)
    {
        if (InBytes(offset, (ulong)into.Length))
        {
            _bytes.AsSpan((int)offset, into.Length).CopyTo(into);
            return;
        }
        long got = Backing!.ReadAt(into, (long)offset);
        if (got != into.Length) throw new ExecFileException(got < 0 ? (int)-got : LegoEmu.Mem.Errno.EIO, Path);
    }

    bool InBytes(ulong off, ulong len) => off <= (ulong)_bytes.Length && len <= (ulong)_bytes.Length - off;

    /// <summary>
    /// Reads and validates an ELF file from disk (a regular file; execute permission is not needed: this is
    /// for reading a program's symbols). Throws <see cref="ExecFileException"/> when it cannot be opened.
    /// </summary>
    public static ElfFile Load(string path)
    {
        using var file = ExecutableFile.Open(path, requireExecute: false);
        var elf = Load(file);
        elf.Complete();
        return elf;
    }

    /// <summary>
    /// Reads an opened program: its first bytes decide, so a file that is not ELF is never read whole. Only its headers
    /// are read now; the loader maps its segments from <see cref="Backing"/>, page by page as the guest touches them
    /// (cc1 is 33 MB, of which a compile touches a few).
    /// </summary>
    public static ElfFile Load(ExecutableFile file)
    {
        var head = file.Head;
        if (head.Length < 4 || head[0] != 0x7f || head[1] != (byte)'E' || head[2] != (byte)'L' || head[3] != (byte)'F')
            throw new ElfFormatException("not an ELF file");
        return ParsedFiles.Get(file.Path, file.Version, () => new ElfFile(file.ReadHead(ExecHeadBytes), file.Path, backing: file.Backing(), fileLength: file.Length));
    }

    public static ElfFile Parse(byte[] data, string path) => new(data, path);

    /// <summary>Reads a separate debug file: its header and sections only (its segments describe another file's bytes).</summary>
    public static ElfFile LoadDebugFile(string path) => new(File.ReadAllBytes(path), path, sectionsOnly: true);

    void ValidateSegments(ProgramHeader[] phs)
    {
        foreach (var ph in phs)
        {
            if (ph.Type != ElfConst.PT_LOAD) continue;
            if (ph.FileSize > ph.MemSize) throw new ElfFormatException($"segment at 0x{ph.VAddr:x} has file size larger than memory size");
            if (!InFile(ph.Offset, ph.FileSize)) throw new ElfFormatException($"segment at 0x{ph.VAddr:x} lies outside the file (truncated?)");
            if (ph.VAddr + ph.MemSize < ph.VAddr || ph.VAddr + ph.MemSize > 0x7fff_ffff_f000UL)
                throw new ElfFormatException($"segment at 0x{ph.VAddr:x} lies outside the user address space");
            if (ph.Align > 1 && (ph.VAddr % 4096) != (ph.Offset % 4096))
                throw new ElfFormatException($"segment at 0x{ph.VAddr:x} is misaligned with its file offset");
        }
        var loads = LoadSegments(phs);
        if (loads.Length == 0) throw new ElfFormatException("no loadable segments");
        for (int i = 1; i < loads.Length; i++)
            if (loads[i].VAddr < loads[i - 1].VAddr + loads[i - 1].MemSize)
                throw new ElfFormatException($"segments at 0x{loads[i - 1].VAddr:x} and 0x{loads[i].VAddr:x} overlap");
    }

    /// <summary>The PT_LOAD segments in address order.</summary>
    public ProgramHeader[] LoadSegments() => LoadSegments(ProgramHeaders);

    static ProgramHeader[] LoadSegments(ProgramHeader[] phs)
    {
        int n = 0;
        foreach (var ph in phs) if (ph.Type == ElfConst.PT_LOAD) n++;
        var loads = new ProgramHeader[n];
        n = 0;
        foreach (var ph in phs)
        {
            if (ph.Type != ElfConst.PT_LOAD) continue;
            // Insertion sort: a handful of segments, usually in order already.
            int i = n++;
            for (; i > 0 && loads[i - 1].VAddr > ph.VAddr; i--) loads[i] = loads[i - 1];
            loads[i] = ph;
        }
        return loads;
    }

    SectionHeader[] ReadSections(ulong shoff, ushort shentsize, ushort shnum, ushort shstrndx)
    {
        // Section headers are optional for execution; a broken table only costs disasm its symbols.
        if (shoff == 0 || shnum == 0 || shentsize != ElfConst.ShdrSize || !InFile(shoff, (ulong)shnum * ElfConst.ShdrSize))
            return [];
        var list = new SectionHeader[shnum];
        var raw = new (uint name, uint type, ulong flags, ulong addr, ulong off, ulong size, uint link, ulong entsize)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int o = (int)shoff + i * ElfConst.ShdrSize;
            raw[i] = (U32(o), U32(o + 4), U64(o + 8), U64(o + 16), U64(o + 24), U64(o + 32), U32(o + 40), U64(o + 56));
        }
        bool haveNames = shstrndx < shnum && InFile(raw[shstrndx].off, raw[shstrndx].size);
        for (int i = 0; i < shnum; i++)
        {
            var r = raw[i];
            string name = haveNames ? CString(raw[shstrndx].off, raw[shstrndx].size, r.name) : "";
            list[i] = new SectionHeader(name, r.type, r.flags, r.addr, r.off, r.size, r.link, r.entsize);
        }
        return list;
    }

    /// <summary>Function and object symbols from .symtab (or .dynsym when stripped), unbiased.</summary>
    public List<ElfSymbol> ReadSymbols()
    {
        Complete();
        var result = new List<ElfSymbol>();
        foreach (var want in new[] { ElfConst.SHT_SYMTAB, ElfConst.SHT_DYNSYM })
        {
            foreach (var sh in Sections)
            {
                if (sh.Type != want || sh.Link >= Sections.Length || !InFile(sh.Offset, sh.Size)) continue;
                var strtab = Sections[(int)sh.Link];
                if (!InFile(strtab.Offset, strtab.Size)) continue;
                for (ulong o = 0; o + ElfConst.SymSize <= sh.Size; o += ElfConst.SymSize)
                {
                    int p = (int)(sh.Offset + o);
                    uint nameOff = U32(p);
                    byte info = Data[p + 4];
                    ulong value = U64(p + 8), size = U64(p + 16);
                    if (value == 0 || nameOff == 0) continue;
                    int type = info & 0xf;
                    if (type != 1 && type != 2 && type != 0) continue;
                    result.Add(new ElfSymbol(CString(strtab.Offset, strtab.Size, nameOff), value, size, info));
                }
            }
            if (result.Count > 0) break;
        }
        return result;
    }

    bool InFile(ulong off, ulong len) => off <= (ulong)_fileLength && len <= (ulong)_fileLength - off;

    string CString(ulong tableOff, ulong tableSize, uint at)
    {
        if (at >= tableSize) return "";
        int start = (int)(tableOff + at);
        int end = start;
        int limit = (int)(tableOff + tableSize);
        while (end < limit && _bytes[end] != 0) end++;
        return Encoding.UTF8.GetString(_bytes, start, end - start);
    }

    ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(_bytes.AsSpan(o));
    uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(o));
    ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(o));
}

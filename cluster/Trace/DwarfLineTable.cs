using System.Buffers.Binary;
using System.Text;
using LegoEmu.Loader.Elf;

namespace LegoEmu.Cluster.Trace;

/// <summary>A .debug_line section that does not parse.</summary>
public sealed class DwarfFormatException(string message) : Exception(message);

/// <summary>
/// The address-to-source-line map of one ELF file, from its DWARF .debug_line section (versions 2 to 5):
/// every line-number program is run and its rows kept sorted by address, so a lookup is a binary search.
/// </summary>
public sealed class DwarfLineTable
{
    readonly ulong[] _addr;
    readonly int[] _file; // -1: the end of a sequence (no line)
    readonly int[] _line;
    readonly string[] _files;

    DwarfLineTable(ulong[] addr, int[] file, int[] line, string[] files)
    {
        _addr = addr;
        _file = file;
        _line = line;
        _files = files;
    }

    /// <summary>The table of <paramref name="elf"/>, or null when it has no .debug_line (plain or zlib-compressed).</summary>
    public static DwarfLineTable? Read(ElfFile elf)
    {
        SectionHeader? lineSec = null, lineStr = null, str = null;
        foreach (var s in elf.Sections)
        {
            if (s.Name == ".debug_line") lineSec = s;
            else if (s.Name == ".debug_line_str") lineStr = s;
            else if (s.Name == ".debug_str") str = s;
        }
        if (lineSec is not { } ls) return null;
        var data = elf.Data;
        if (ls.Offset > (ulong)data.Length || ls.Size > (ulong)data.Length - ls.Offset) throw new DwarfFormatException(".debug_line lies outside the file");
        var lines = DebugFile.Contents(elf, ls);
        if (lines.Length == 0) return null;
        var parser = new Parser(Section(elf, lineStr), Section(elf, str));
        parser.Run(lines);
        return parser.Build();
    }

    static ReadOnlyMemory<byte> Section(ElfFile elf, SectionHeader? s) => s is { } h ? DebugFile.Contents(elf, h) : ReadOnlyMemory<byte>.Empty;

    /// <summary>The source line of the instruction at link-time address <paramref name="a"/>, or null.</summary>
    public (string File, int Line)? Find(ulong a)
    {
        int lo = 0, hi = _addr.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_addr[mid] <= a) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found < 0 || _file[found] < 0) return null;
        return (_files[_file[found]], _line[found]);
    }

    sealed class Parser(ReadOnlyMemory<byte> lineStr, ReadOnlyMemory<byte> str)
    {
        readonly List<(ulong Addr, int File, int Line, long Order)> _rows = new();
        readonly List<string> _files = new();
        readonly Dictionary<string, int> _fileIds = new(StringComparer.Ordinal);
        long _order;

        public DwarfLineTable Build()
        {
            // Stable by address; at one address the last row wins, so an end of sequence there yields to a new start.
            _rows.Sort((a, b) => a.Addr != b.Addr ? a.Addr.CompareTo(b.Addr) : a.Order.CompareTo(b.Order));
            var addr = new List<ulong>(_rows.Count);
            var file = new List<int>(_rows.Count);
            var line = new List<int>(_rows.Count);
            foreach (var r in _rows)
            {
                if (addr.Count > 0 && addr[^1] == r.Addr)
                {
                    if (r.File < 0) continue; // an end of sequence does not hide a row that starts here
                    file[^1] = r.File;
                    line[^1] = r.Line;
                    continue;
                }
                addr.Add(r.Addr);
                file.Add(r.File);
                line.Add(r.Line);
            }
            return new DwarfLineTable(addr.ToArray(), file.ToArray(), line.ToArray(), _files.ToArray());
        }

        public void Run(ReadOnlySpan<byte> section)
        {
            int pos = 0;
            while (pos < section.Length)
            {
                var r = new Reader(section, pos);
                ulong unitLength = r.U32();
                bool dwarf64 = unitLength == 0xffffffff;
                if (dwarf64) unitLength = r.U64();
                if (unitLength > (ulong)(section.Length - r.Pos)) throw new DwarfFormatException("a line-number unit runs past the section");
                int end = r.Pos + (int)unitLength;
                Unit(section[..end], r.Pos, dwarf64);
                pos = end;
            }
        }

        void Unit(ReadOnlySpan<byte> s, int at, bool dwarf64)
        {
            var r = new Reader(s, at);
            int version = r.U16();
            if (version is < 2 or > 5) throw new DwarfFormatException($"line-number program version {version}");
            int addressSize = 8;
            if (version >= 5)
            {
                addressSize = r.U8();
                r.U8(); // segment selector size
            }
            ulong headerLength = dwarf64 ? r.U64() : r.U32();
            if (headerLength > (ulong)(s.Length - r.Pos)) throw new DwarfFormatException("a line-number header runs past its unit");
            int program = r.Pos + (int)headerLength;
            int minInsn = r.U8();
            if (version >= 4) r.U8(); // maximum operations per instruction (VLIW only)
            r.U8(); // default_is_stmt: every row counts here, statement or not
            int lineBase = (sbyte)r.U8();
            int lineRange = r.U8();
            int opcodeBase = r.U8();
            if (lineRange == 0 || opcodeBase == 0) throw new DwarfFormatException("line range or opcode base is zero");
            var argCounts = new int[opcodeBase];
            for (int i = 1; i < opcodeBase; i++) argCounts[i] = r.U8();

            // Files of this unit, as ids into the table's list of names.
            var files = new List<int>();
            if (version >= 5)
            {
                var dirs = EntryList(ref r, dwarf64, null);
                var names = EntryList(ref r, dwarf64, dirs);
                foreach (var n in names) files.Add(Intern(n));
            }
            else
            {
                var dirs = new List<string> { "" };
                while (true)
                {
                    string d = r.CString();
                    if (d.Length == 0) break;
                    dirs.Add(d);
                }
                files.Add(-1); // file numbers start at 1 before version 5
                while (true)
                {
                    string n = r.CString();
                    if (n.Length == 0) break;
                    int dir = (int)r.Uleb();
                    r.Uleb();
                    r.Uleb();
                    files.Add(Intern(Join(dir < dirs.Count ? dirs[dir] : "", n)));
                }
            }

            r.Pos = program;
            ulong address = 0;
            int file = 1, line = 1;
            while (r.Pos < s.Length)
            {
                int op = r.U8();
                if (op >= opcodeBase)
                {
                    int adj = op - opcodeBase;
                    address += (ulong)(adj / lineRange * minInsn);
                    line += lineBase + adj % lineRange;
                    Row(address, files, file, line);
                    continue;
                }
                switch (op)
                {
                    case 0:
                    {
                        ulong len = r.Uleb();
                        if (len == 0 || len > (ulong)(s.Length - r.Pos)) throw new DwarfFormatException("bad extended opcode length");
                        int next = r.Pos + (int)len;
                        int sub = r.U8();
                        if (sub == 1)
                        {
                            _rows.Add((address, -1, 0, _order++));
                            address = 0;
                            file = 1;
                            line = 1;
                        }
                        else if (sub == 2) address = addressSize == 4 ? r.U32() : r.U64();
                        r.Pos = next;
                        break;
                    }
                    case 1: Row(address, files, file, line); break;
                    case 2: address += r.Uleb() * (ulong)minInsn; break;
                    case 3: line += (int)r.Sleb(); break;
                    case 4: file = (int)r.Uleb(); break;
                    case 8: address += (ulong)((255 - opcodeBase) / lineRange * minInsn); break;
                    case 9: address += (ulong)r.U16(); break;
                    default:
                        for (int i = 0; i < argCounts[op]; i++) r.Uleb();
                        break;
                }
            }
        }

        void Row(ulong address, List<int> files, int file, int line)
        {
            int id = file >= 0 && file < files.Count ? files[file] : -1;
            if (id < 0) id = Intern("?");
            _rows.Add((address, id, line, _order++));
        }

        int Intern(string name)
        {
            if (!_fileIds.TryGetValue(name, out int id))
            {
                id = _files.Count;
                _files.Add(name);
                _fileIds[name] = id;
            }
            return id;
        }

        static string Join(string dir, string name) =>
            name.StartsWith('/') || dir.Length == 0 ? name : dir.TrimEnd('/') + "/" + name;

        /// <summary>A version-5 directory or file list; file names are joined to their directory.</summary>
        List<string> EntryList(ref Reader r, bool dwarf64, List<string>? dirs)
        {
            int formatCount = r.U8();
            var formats = new (ulong Type, ulong Form)[formatCount];
            for (int i = 0; i < formatCount; i++) formats[i] = (r.Uleb(), r.Uleb());
            ulong count = r.Uleb();
            if (count > 1_000_000) throw new DwarfFormatException("implausible file count");
            var list = new List<string>((int)count);
            for (ulong n = 0; n < count; n++)
            {
                string path = "";
                int dir = 0;
                foreach (var (type, form) in formats)
                {
                    string? text = null;
                    ulong value = 0;
                    switch (form)
                    {
                        case 0x08: text = r.CString(); break; // string
                        case 0x1f: text = StringAt(lineStr, dwarf64 ? r.U64() : r.U32()); break; // line_strp
                        case 0x0e: text = StringAt(str, dwarf64 ? r.U64() : r.U32()); break; // strp
                        case 0x0b: value = (ulong)r.U8(); break; // data1
                        case 0x05: value = (ulong)r.U16(); break; // data2
                        case 0x06: value = r.U32(); break; // data4
                        case 0x07: value = r.U64(); break; // data8
                        case 0x0f: value = r.Uleb(); break; // udata
                        case 0x1e: r.Pos += 16; break; // data16 (an MD5)
                        case 0x09: r.Pos += (int)r.Uleb(); break; // block
                        default: throw new DwarfFormatException($"unsupported form 0x{form:x} in a file entry");
                    }
                    if (type == 1 && text != null) path = text; // DW_LNCT_path
                    else if (type == 2) dir = (int)value; // DW_LNCT_directory_index
                }
                list.Add(dirs == null ? path : Join(dir < dirs.Count ? dirs[dir] : "", path));
            }
            return list;
        }

        string StringAt(ReadOnlyMemory<byte> section, ulong offset)
        {
            var span = section.Span;
            if (offset >= (ulong)span.Length) return "?";
            var rest = span[(int)offset..];
            int nul = rest.IndexOf((byte)0);
            return Encoding.UTF8.GetString(nul < 0 ? rest : rest[..nul]);
        }
    }

    /// <summary>Little-endian reads with bounds checks: a damaged section throws instead of reading past it.</summary>
    ref struct Reader(ReadOnlySpan<byte> s, int pos)
    {
        readonly ReadOnlySpan<byte> _s = s;
        public int Pos = pos;

        ReadOnlySpan<byte> Take(int n)
        {
            if (Pos < 0 || n > _s.Length - Pos) throw new DwarfFormatException("a line-number program runs past its unit");
            var t = _s.Slice(Pos, n);
            Pos += n;
            return t;
        }

        public int U8() => Take(1)[0];
        public int U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public ulong Uleb()
        {
            ulong v = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                int b = U8();
                v |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return v;
            }
            throw new DwarfFormatException("bad LEB128");
        }

        public long Sleb()
        {
            long v = 0;
            int shift = 0, b;
            do
            {
                if (shift >= 64) throw new DwarfFormatException("bad LEB128");
                b = U8();
                v |= (long)(b & 0x7f) << shift;
                shift += 7;
            } while (b >= 0x80);
            if (shift < 64 && (b & 0x40) != 0) v |= -1L << shift;
            return v;
        }

        public string CString()
        {
            var rest = _s[Pos..];
            int nul = rest.IndexOf((byte)0);
            if (nul < 0) throw new DwarfFormatException("unterminated string");
            Pos += nul + 1;
            return Encoding.UTF8.GetString(rest[..nul]);
        }
    }
}

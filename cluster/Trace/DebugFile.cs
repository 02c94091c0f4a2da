using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;

namespace LegoEmu.Cluster.Trace;

/// <summary>
/// The separate debug file of an ELF object (Debian's -dbg and -dbgsym packages), found the way debuggers and
/// valgrind find it: by build id under <c>/usr/lib/debug/.build-id/xx/rest.debug</c>, else by the
/// <c>.gnu_debuglink</c> name beside the object, in its <c>.debug/</c> directory, or under <c>/usr/lib/debug</c>
/// plus its directory. A debug file whose build id differs from the object's is not used.
/// </summary>
public static class DebugFile
{
    const uint SHT_NOTE = 7, NT_GNU_BUILD_ID = 3;
    const ulong SHF_COMPRESSED = 0x800;
    const uint ELFCOMPRESS_ZLIB = 1;

    /// <summary>Where debug files are installed.</summary>
    public const string Root = "/usr/lib/debug";

    /// <summary>The debug file of <paramref name="elf"/> under <paramref name="root"/> (default <see cref="Root"/>), or null.</summary>
    public static ElfFile? Find(ElfFile elf, string root = Root)
    {
        string? id = BuildId(elf);
        var candidates = new List<string>();
        if (id is { Length: > 2 }) candidates.Add(Path.Combine(root, ".build-id", id[..2], id[2..] + ".debug"));
        if (DebugLink(elf) is { } link && Path.GetDirectoryName(elf.Path) is { } dir)
        {
            candidates.Add(Path.Combine(dir, link));
            candidates.Add(Path.Combine(dir, ".debug", link));
            candidates.Add(Path.Combine(root, dir.TrimStart('/'), link));
        }
        foreach (var c in candidates)
        {
            if (c == elf.Path || !File.Exists(c)) continue;
            try
            {
                var debug = ElfFile.LoadDebugFile(c);
                if (id == null || BuildId(debug) == id) return debug;
            }
            catch (Exception e) when (e is ElfFormatException or ExecFileException or IOException or UnauthorizedAccessException) { }
        }
        return null;
    }

    /// <summary>The GNU build id as lower-case hex, or null.</summary>
    public static string? BuildId(ElfFile elf)
    {
        var data = elf.Data;
        foreach (var s in elf.Sections)
        {
            if (s.Type != SHT_NOTE || s.Offset > (ulong)data.Length || s.Size > (ulong)data.Length - s.Offset) continue;
            int p = (int)s.Offset, end = (int)(s.Offset + s.Size);
            while (p + 12 <= end)
            {
                int nameSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(p));
                int descSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(p + 4));
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(p + 8));
                if (nameSize < 0 || descSize < 0) break;
                int name = p + 12, desc = name + ((nameSize + 3) & ~3);
                if ((long)desc + descSize > end) break;
                if (type == NT_GNU_BUILD_ID && nameSize == 4 && data.AsSpan(name, 4).SequenceEqual("GNU\0"u8))
                    return Convert.ToHexStringLower(data, desc, descSize);
                p = desc + ((descSize + 3) & ~3);
            }
        }
        return null;
    }

    static string? DebugLink(ElfFile elf)
    {
        foreach (var s in elf.Sections)
        {
            if (s.Name != ".gnu_debuglink") continue;
            var bytes = Contents(elf, s);
            int nul = bytes.AsSpan().IndexOf((byte)0);
            if (nul > 0) return Encoding.UTF8.GetString(bytes, 0, nul);
        }
        return null;
    }

    /// <summary>
    /// A section's bytes, inflated when it is compressed (SHF_COMPRESSED with zlib, as <c>objcopy
    /// --compress-debug-sections</c> and Debian's debug packages leave them); empty when it lies outside the
    /// file or uses a compression this reader does not know.
    /// </summary>
    public static byte[] Contents(ElfFile elf, SectionHeader s)
    {
        var data = elf.Data;
        if (s.Offset > (ulong)data.Length || s.Size > (ulong)data.Length - s.Offset) return [];
        var raw = data.AsSpan((int)s.Offset, (int)s.Size);
        if ((s.Flags & SHF_COMPRESSED) == 0) return raw.ToArray();
        // Elf64_Chdr: type, reserved, uncompressed size, alignment.
        if (raw.Length < 24 || BinaryPrimitives.ReadUInt32LittleEndian(raw) != ELFCOMPRESS_ZLIB) return [];
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(raw[8..]);
        if (size > int.MaxValue) return [];
        var output = new byte[(int)size];
        try
        {
            using var z = new ZLibStream(new MemoryStream(data, (int)s.Offset + 24, (int)s.Size - 24), CompressionMode.Decompress);
            z.ReadExactly(output);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException) { return []; }
        return output;
    }
}

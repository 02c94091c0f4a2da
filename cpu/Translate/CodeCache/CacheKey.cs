using System.Text;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// Names a program's cache entry: the program and its dynamic linker (path, size, modification time), this build of
/// the emulator (its assemblies' identities: the emitter and the CPU state layout the code was made for), the guest CPU
/// level, and the ExCache geometry and front-table address that compiled code embeds. Anything else a region's code
/// depends on is the guest code itself, which each region checks block by block.
/// </summary>
static class CacheKey
{
    public static string For(string program, string? interpreter, CacheView shape)
    {
        var text = new StringBuilder("legoemu code cache 1\n");
        text.Append(typeof(Region).Assembly.ManifestModule.ModuleVersionId).Append('\n');
        text.Append(typeof(CacheView).Assembly.ManifestModule.ModuleVersionId).Append('\n');
        text.Append(CpuModel.Level).Append('\n');
        text.Append(System.Runtime.Intrinsics.X86.Avx2.IsSupported).Append(System.Runtime.Intrinsics.X86.Bmi2.IsSupported).Append('\n');
        text.Append($"{shape.FrontTable:x} {shape.LineShift} {shape.TagMask:x} {shape.TouchesOnHit} {CacheView.EntrySize} {CacheView.FrontTableMask}\n");
        File(text, program);
        if (interpreter != null) File(text, interpreter);
        // Two 64-bit FNV-1a hashes with different offsets: a name, not a defence (the directory is the user's own),
        // and no cryptography library to load at every program start.
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return $"{Fnv(bytes, 0xcbf29ce484222325):x16}{Fnv(bytes, 0x84222325cbf29ce4):x16}";
    }

    static ulong Fnv(byte[] bytes, ulong h)
    {
        foreach (byte b in bytes) h = (h ^ b) * 0x100000001b3;
        return h;
    }

    static void File(StringBuilder text, string path)
    {
        var info = new FileInfo(path);
        text.Append(Path.GetFullPath(path)).Append(' ');
        if (info.Exists) text.Append(info.Length).Append(' ').Append(info.LastWriteTimeUtc.Ticks);
        text.Append('\n');
    }
}

using LegoEmu.Mem.Cache;

namespace LegoEmu.Cpu.Translate.CodeCache;

/// <summary>
/// Names a program's cache entry: the program and its dynamic linker (path, size, modification time), this build of
/// the emulator (its assemblies' identities: the emitter and the CPU state layout the code was made for), the guest CPU
/// level, the host features the ahead-of-time compiler targets, and the ExCache geometry and front-table address that
/// compiled code embeds. Anything else a region's code depends on is the guest code itself, which each region checks
/// block by block.
/// </summary>
static class CacheKey
{
    const int Version = 1;

    /// <summary>
    /// Two 64-bit FNV-1a hashes with different offsets, fed the fields' bytes directly: a name, not a defence (the
    /// directory is the user's own), and nothing to format or load at every program start.
    /// </summary>
    public static string For(string program, string? interpreter, CacheView shape)
    {
        var h = new Hash();
        h.Add(Version);
        h.Add(typeof(Region).Assembly.ManifestModule.ModuleVersionId);
        h.Add(typeof(CacheView).Assembly.ManifestModule.ModuleVersionId);
        h.Add((int)CpuModel.Level);
        h.Add((System.Runtime.Intrinsics.X86.Avx2.IsSupported ? 1 : 0) | (System.Runtime.Intrinsics.X86.Bmi2.IsSupported ? 2 : 0));
        h.Add(shape.FrontTable);
        h.Add(shape.LineShift);
        h.Add((long)shape.TagMask);
        h.Add(shape.TouchesOnHit ? 1 : 0);
        h.Add(CacheView.EntrySize);
        h.Add(CacheView.FrontTableMask);
        File(ref h, program);
        if (interpreter != null) File(ref h, interpreter);
        return h.A.ToString("x16") + h.B.ToString("x16");
    }

    /// <summary>
    /// Names what is known of a program whatever the emulator build or cache geometry (whether its last run forked):
    /// the program file alone, so that a run can look it up before its guest's memory exists.
    /// </summary>
    public static string ForProgram(string program)
    {
        var h = new Hash();
        h.Add(Version);
        File(ref h, program);
        return "p" + h.A.ToString("x16") + h.B.ToString("x16");
    }

    static void File(ref Hash h, string path)
    {
        var info = new FileInfo(path);
        foreach (char ch in info.FullName) h.Add(ch);
        h.Add(info.Exists ? info.Length : -1);
        h.Add(info.Exists ? info.LastWriteTimeUtc.Ticks : 0);
    }

    struct Hash
    {
        public ulong A = 0xcbf29ce484222325, B = 0x84222325cbf29ce4;

        public Hash()
        {
        }

        public void Add(long v)
        {
            for (int k = 0; k < 8; k++, v >>= 8)
            {
                A = (A ^ (byte)v) * 0x100000001b3;
                B = (B ^ (byte)v) * 0x100000001b3;
            }
        }

        public void Add(Guid g)
        {
            Span<byte> bytes = stackalloc byte[16];
            g.TryWriteBytes(bytes);
            Add(BitConverter.ToInt64(bytes));
            Add(BitConverter.ToInt64(bytes[8..]));
        }
    }
}

using System.Text;
using LegoEmu.Loader.Image;
using LegoEmu.Cpu;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// The /proc files whose host version would describe the emulator instead of the guest: maps, cmdline,
/// environ, limits, auxv, status (<see cref="ProcStatus"/>) and cpuinfo are generated from the guest's own state and served from a sealed memfd. So are
/// the /sys CPU lists, which must show one CPU per processor component the guest's threads may use.
/// </summary>
static class Proc
{
    const int MemfdCreate = 319;

    /// <summary>Opens a generated /proc file, or returns false to let the host's file be opened.</summary>
    public static bool TryOpen(SyscallContext x, string path, int flags, out long fd)
    {
        fd = 0;
        string? rest = null;
        // The thread a per-thread file (comm, status, stat) describes: the leader's for the process's own files, as
        // the kernel's /proc/PID is the leader task's.
        GuestThread? thread = null;
        bool perThread = false;
        foreach (var prefix in new[] { "/proc/self/", "/proc/thread-self/", $"/proc/{x.P.Pid}/" })
            if (path.StartsWith(prefix, StringComparison.Ordinal)) rest = path[prefix.Length..];
        if (path.StartsWith("/proc/thread-self/", StringComparison.Ordinal)) (thread, perThread) = (x.P.CurrentThread, true);
        else if (rest != null && rest.StartsWith("task/", StringComparison.Ordinal) && ProcTasks.Named(x.P, rest) is var (named, file))
            (thread, perThread, rest) = (named, true, file);
        thread ??= x.P.FindThread(x.P.Pid) ?? x.P.CurrentThread;
        if (rest == "comm" && (flags & 3) != 0) { fd = ProcTasks.OpenCommForWriting(x, thread, perThread, (flags & 0x80000) != 0); return true; }
        byte[]? content = rest switch
        {
            "maps" => GuestText.Encode(Maps(x.P)),
            "cmdline" => NulTerminated(x.P.Argv),
            "environ" => NulTerminated(x.P.Envp),
            "limits" => GuestText.Encode(Limits(x.P)),
            "auxv" => x.P.AuxVector,
            "comm" => GuestText.Encode(Name(perThread ? thread.Name : x.P.ThreadName) + "\n"),
            "smaps" => GuestText.Encode(Smaps(x.P)),
            "stat" => GuestText.Encode(Stat(x.P, thread, perThread)),
            "status" => GuestText.Encode(ProcStatus.For(x, thread, perThread)),
            _ => path switch
            {
                "/proc/cpuinfo" => Encoding.ASCII.GetBytes(CpuInfo(x.P.CpuCount)),
                // glibc's get_nprocs and sysconf read these: they must agree with sched_getaffinity and cpuinfo.
                "/sys/devices/system/cpu/online" or "/sys/devices/system/cpu/possible" or "/sys/devices/system/cpu/present"
                    => Encoding.ASCII.GetBytes(x.P.CpuCount == 1 ? "0\n" : $"0-{x.P.CpuCount - 1}\n"),
                _ => null,
            },
        };
        if (content == null) return false;
        if ((flags & 3) != 0) { fd = -Errno.EACCES; return true; }
        fd = Serve(x, content, (flags & 0x80000) != 0);
        return true;
    }

    internal static unsafe long Serve(SyscallContext x, byte[] content, bool cloexec, string memfdName = "legoemu-proc")
    {
        var name = Encoding.ASCII.GetBytes(memfdName + "\0");
        long h;
        fixed (byte* n = name) h = Sys(MemfdCreate, (nint)n, 1 /* MFD_CLOEXEC */);
        if (h < 0) return h;
        fixed (byte* p = content)
        {
            long done = 0;
            while (done < content.Length)
            {
                long r = Sys(LegoEmu.Syscalls.Abi.Nr.write, h, (nint)(p + done), content.Length - done);
                if (r <= 0) { Sys(LegoEmu.Syscalls.Abi.Nr.close, h); return r < 0 ? r : -Errno.EIO; }
                done += r;
            }
        }
        Sys(LegoEmu.Syscalls.Abi.Nr.lseek, h, 0, 0);
        int g = x.P.Fds.Install((int)h, cloexec);
        if (g < 0) Sys(LegoEmu.Syscalls.Abi.Nr.close, h);
        return g;
    }

    static string Maps(GuestProcess p)
    {
        var sb = new StringBuilder();
        foreach (var v in p.Space.Vmas())
        {
            char r = (v.Prot & Protection.Read) != 0 ? 'r' : '-';
            char w = (v.Prot & Protection.Write) != 0 ? 'w' : '-';
            char e = (v.Prot & Protection.Exec) != 0 ? 'x' : '-';
            char s = (v.Flags & MapFlags.Shared) != 0 ? 's' : 'p';
            string line = $"{v.Start:x8}-{v.End:x8} {r}{w}{e}{s} 00000000 00:00 0";
            sb.Append(v.Name.Length > 0 ? line.PadRight(73) + Memory.ShownName(v.Name) : line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A thread's name as the guest set it (not UTF-8 necessarily), up to its NUL.</summary>
    internal static string Name(byte[] name)
    {
        int n = Array.IndexOf(name, (byte)0);
        return GuestText.Decode(name.AsSpan(0, n < 0 ? name.Length : n));
    }

    /// <summary>smaps, reduced to what tools read: each mapping with its size; every page counts as resident.</summary>
    static string Smaps(GuestProcess p)
    {
        var sb = new StringBuilder();
        var maps = Maps(p).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var vmas = p.Space.Vmas();
        for (int k = 0; k < vmas.Count && k < maps.Length; k++)
        {
            ulong kb = (vmas[k].End - vmas[k].Start) >> 10;
            sb.Append(maps[k]).Append('\n');
            sb.Append($"Size:           {kb,8} kB\nKernelPageSize:        4 kB\nMMUPageSize:           4 kB\nRss:            {kb,8} kB\nPss:            {kb,8} kB\n");
            sb.Append(vmas[k].Flags.HasFlag(MapFlags.Shared) ? $"Shared_Dirty:   {kb,8} kB\nPrivate_Dirty:         0 kB\n" : $"Shared_Dirty:          0 kB\nPrivate_Dirty:  {kb,8} kB\n");
            sb.Append("Swap:                  0 kB\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// /proc/self/stat from the host's, with the guest's command name and its threads count; <paramref name="perThread"/>,
    /// one thread's, with its id and name.
    /// </summary>
    static string Stat(GuestProcess p, GuestThread thread, bool perThread)
    {
        string host;
        try { host = File.ReadAllText("/proc/self/stat"); }
        catch (IOException) { return ""; }
        int open = host.IndexOf('('), close = host.LastIndexOf(')');
        if (open < 0 || close < open) return host;
        var rest = host[(close + 2)..].Split(' ');
        if (rest.Length > 17) rest[17] = p.LiveThreads.ToString(); // num_threads (field 20)
        string id = perThread ? thread.Tid.ToString() : host[..open].TrimEnd();
        return $"{id} ({Name(perThread ? thread.Name : p.ThreadName)}) {string.Join(' ', rest)}";
    }

    /// <summary>
    /// /proc/self/limits from the host's, with the limits the emulator keeps for the guest (<see
    /// cref="GuestProcess.VirtualLimits"/>) in place of the host process's, which never change.
    /// </summary>
    static string Limits(GuestProcess p)
    {
        string host;
        try { host = File.ReadAllText("/proc/self/limits"); }
        catch (IOException) { return ""; }
        var sb = new StringBuilder(host.Length);
        foreach (var line in host.Split('\n'))
        {
            if (line.Length == 0) continue;
            int kept = line.StartsWith("Max data size", StringComparison.Ordinal) ? 0
                : line.StartsWith("Max stack size", StringComparison.Ordinal) ? 2
                : line.StartsWith("Max address space", StringComparison.Ordinal) ? 4
                : line.StartsWith("Max open files", StringComparison.Ordinal) ? 6 : -1;
            if (kept < 0 || line.Length < 26) { sb.Append(line).Append('\n'); continue; }
            string units = line.TrimEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
            sb.Append($"{line[..26]}{Limit(p.VirtualLimits[kept]),-21}{Limit(p.VirtualLimits[kept + 1]),-21}{units,-10}\n");
        }
        return sb.ToString();
    }

    static string Limit(ulong v) => v == ulong.MaxValue ? "unlimited" : v.ToString();

    /// <summary>cmdline and environ: each string followed by a NUL, as the kernel lays them out on the stack.</summary>
    static byte[] NulTerminated(string[] strings)
    {
        var sb = new StringBuilder();
        foreach (var a in strings) sb.Append(a).Append('\0');
        return GuestText.Encode(sb.ToString());
    }

    /// <summary>Consistent with what CPUID tells the guest, not with the host's processor.</summary>
    static string CpuInfo(int cpus)
    {
        var flags = new List<string>();
        uint edx = Cpuid.Leaf1Edx, ecx = Cpuid.Leaf1Ecx, xedx = Cpuid.Ext1Edx, xecx = Cpuid.Ext1Ecx;
        void F(bool on, string name) { if (on) flags.Add(name); }
        F((edx & 1) != 0, "fpu"); F((edx & (1 << 4)) != 0, "tsc"); F((edx & (1 << 8)) != 0, "cx8"); F((edx & (1 << 15)) != 0, "cmov");
        F((edx & (1 << 19)) != 0, "clflush"); F((edx & (1 << 23)) != 0, "mmx"); F((edx & (1 << 24)) != 0, "fxsr");
        F((edx & (1 << 25)) != 0, "sse"); F((edx & (1 << 26)) != 0, "sse2"); F((xedx & (1 << 11)) != 0, "syscall");
        F((xedx & (1 << 20)) != 0, "nx"); F((xedx & (1 << 29)) != 0, "lm"); F((ecx & 1) != 0, "pni"); F((ecx & (1 << 9)) != 0, "ssse3"); F((ecx & (1 << 13)) != 0, "cx16");
        F((ecx & (1 << 19)) != 0, "sse4_1"); F((ecx & (1 << 20)) != 0, "sse4_2"); F((ecx & (1 << 23)) != 0, "popcnt");
        F((ecx & (1 << 1)) != 0, "pclmulqdq"); F((ecx & (1 << 12)) != 0, "fma"); F((ecx & (1 << 22)) != 0, "movbe");
        F((ecx & (1 << 25)) != 0, "aes"); F((ecx & (1 << 26)) != 0, "xsave"); F((ecx & (1 << 28)) != 0, "avx"); F((ecx & (1 << 29)) != 0, "f16c");
        F((xecx & 1) != 0, "lahf_lm"); F((xecx & (1 << 5)) != 0, "abm");
        uint ebx7 = Cpuid.Leaf7Ebx;
        F((ebx7 & (1 << 3)) != 0, "bmi1"); F((ebx7 & (1 << 5)) != 0, "avx2"); F((ebx7 & (1 << 8)) != 0, "bmi2");
        F((ecx & (1 << 26)) != 0, "xsavec");
        var (a, _, _, _) = Cpuid.Query(1, 0);
        var brand = new StringBuilder();
        for (uint leaf = 0x8000_0002; leaf <= 0x8000_0004; leaf++)
        {
            var (b0, b1, b2, b3) = Cpuid.Query(leaf, 0);
            foreach (uint w in new[] { b0, b1, b2, b3 })
                for (int k = 0; k < 4; k++) { char ch = (char)((w >> (8 * k)) & 0xff); if (ch != 0) brand.Append(ch); }
        }
        var all = new StringBuilder();
        for (int cpu = 0; cpu < cpus; cpu++)
            all.Append($"processor\t: {cpu}\nvendor_id\t: GenuineIntel\n" +
               $"cpu family\t: {((a >> 8) & 0xf)}\nmodel\t\t: {((a >> 4) & 0xf) | ((a >> 12) & 0xf0)}\nmodel name\t: {brand}\nstepping\t: {a & 0xf}\n" +
               $"cache size\t: 8192 KB\nphysical id\t: 0\nsiblings\t: {cpus}\ncore id\t\t: {cpu}\ncpu cores\t: {cpus}\nfpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: 13\nwp\t\t: yes\n" +
               $"flags\t\t: {string.Join(' ', flags)}\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 48 bits physical, 48 bits virtual\n\n");
        return all.ToString();
    }
}

using System.Text;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// /proc/self/status (and thread-self's) as the guest's: the host's file describes the emulator, whose name, threads,
/// signal handlers, CPUs and reserved address space (tens of GiB) are none of the guest's business. The lines that
/// are the guest's are rewritten from its own state; the rest (identity, capabilities, the emulator's resident
/// memory, context switches) stay the host's, which they also are for the guest.
/// </summary>
static class ProcStatus
{
    /// <summary>
    /// The status of <paramref name="t"/>: the process's (its leader's, as the kernel's /proc/PID/status is the leader
    /// task's) or, <paramref name="perThread"/>, one thread's (/proc/thread-self, /proc/self/task/TID).
    /// </summary>
    public static string For(SyscallContext x, GuestThread t, bool perThread)
    {
        string host;
        try { host = File.ReadAllText("/proc/self/status"); }
        catch (IOException) { return ""; }
        var p = x.P;
        var s = p.Signals;
        // The running thread's mask is the process's; the others keep theirs aside (GuestThread.SignalMask).
        bool running = t == p.CurrentThread;
        ulong blocked = running ? s.Mask : t.SignalMask;
        ulong ignored = 0, caught = 0;
        for (int sig = 1; sig <= 64; sig++)
        {
            ulong handler = s.Actions[sig].Handler;
            if (handler == 1) ignored |= SignalState.Bit(sig);
            else if (handler > 1) caught |= SignalState.Bit(sig);
        }
        // The running thread's directed signals wait in the process's set while it runs (GuestThread.DirectedInFlight).
        ulong own = t.DirectedPending | (running ? t.DirectedInFlight : 0);
        ulong shared = Volatile.Read(ref s.Pending) & ~p.CurrentThread.DirectedInFlight;
        var (size, data, stack, exe, lib) = Sizes(p);
        ulong peak = p.StatusPeakVirtual = Math.Max(p.StatusPeakVirtual, size);
        int pid = perThread ? t.Tid : p.Pid;
        ulong cpus = Scheduling.CpusOf(p, t);
        var sb = new StringBuilder(host.Length);
        foreach (var line in host.Split('\n'))
        {
            if (line.Length == 0) continue;
            int colon = line.IndexOf(':');
            string key = colon < 0 ? "" : line[..colon];
            string? value = key switch
            {
                "Name" => Proc.Name(perThread ? t.Name : p.ThreadName),
                "Tgid" or "NStgid" => p.Pid.ToString(),
                "Pid" or "NSpid" => pid.ToString(),
                "Threads" => p.LiveThreads.ToString(),
                "SigPnd" => Hex(own),
                "ShdPnd" => Hex(shared),
                "SigBlk" => Hex(blocked),
                "SigIgn" => Hex(ignored),
                "SigCgt" => Hex(caught),
                "VmPeak" => Kib(peak),
                "VmSize" => Kib(size),
                "VmData" => Kib(data),
                "VmStk" => Kib(stack),
                "VmExe" => Kib(exe),
                "VmLib" => Kib(lib),
                "Cpus_allowed" => CpuMask(p.CpuCount, cpus),
                "Cpus_allowed_list" => CpuList(p.CpuCount, cpus),
                _ => null,
            };
            sb.Append(value == null ? line : $"{key}:\t{value}").Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The guest's mappings summed as the kernel's status counts them (bytes).</summary>
    static (ulong Size, ulong Data, ulong Stack, ulong Exe, ulong Lib) Sizes(GuestProcess p)
    {
        ulong size = 0, data = 0, stack = 0, exe = 0, lib = 0;
        foreach (var v in p.Space.Vmas())
        {
            size += v.Length;
            if (GuestProcess.IsStackMapping(v)) stack += v.Length;
            else if (GuestProcess.IsDataMapping(v)) data += v.Length;
            if ((v.Prot & Protection.Exec) != 0 && (v.Flags & MapFlags.Anonymous) == 0 && !v.Name.StartsWith('['))
            {
                if (v.Name == p.ExePath) exe += v.Length;
                else lib += v.Length;
            }
        }
        return (size, data, stack, exe, lib);
    }

    static string Hex(ulong set) => set.ToString("x16");

    static string Kib(ulong bytes) => $"{bytes >> 10,8} kB";

    static bool Allowed(ulong cpus, int cpu) => cpu >= 64 ? cpus == ulong.MaxValue : (cpus & (1UL << cpu)) != 0;

    /// <summary>The kernel's hexadecimal CPU mask, in comma-separated groups of 32 CPUs, the highest first and unpadded.</summary>
    static string CpuMask(int count, ulong cpus)
    {
        var groups = new List<string>();
        for (int first = 0; first < count; first += 32)
        {
            uint bits = 0;
            for (int k = 0; k < 32 && first + k < count; k++)
                if (Allowed(cpus, first + k)) bits |= 1u << k;
            groups.Insert(0, bits.ToString(first + 32 >= count ? "x" : "x8"));
        }
        return string.Join(',', groups);
    }

    /// <summary>The CPUs as the kernel lists them: ranges, comma-separated ("0", "0-1", "0,2-3").</summary>
    static string CpuList(int count, ulong cpus)
    {
        var parts = new List<string>();
        for (int cpu = 0; cpu < count; cpu++)
        {
            if (!Allowed(cpus, cpu)) continue;
            int last = cpu;
            while (last + 1 < count && Allowed(cpus, last + 1)) last++;
            parts.Add(last == cpu ? cpu.ToString() : $"{cpu}-{last}");
            cpu = last;
        }
        return string.Join(',', parts);
    }
}

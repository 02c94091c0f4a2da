namespace LegoEmu.Cluster.Bench;

/// <summary>Native vs LegoEmu vs qemu-x86_64 on the same programs, measured in one run.</summary>
public static class CompareBench
{
    /// <summary>The run options that select a tier by its name in the table.</summary>
    public static string[] TierOptions(string tier) => tier == "interp" ? ["--tier", "interp"] : [];

    public static int Run(IReadOnlyList<string> programs, int repeat, IReadOnlyList<string> tiers, TextWriter o)
    {
        string? qemu = Nodes.ExecutablePath.Find("qemu-x86_64");
        o.WriteLine($"best of {repeat} runs; {(qemu == null ? "qemu-x86_64 not installed (Debian package qemu-user)" : "qemu-x86_64: " + qemu)}");
        o.WriteLine("wall: elapsed seconds; cpu: user+system seconds of the whole process tree, which the machine's load changes far less");
        o.WriteLine($"{"program",-14} {"tier",-7} {"native s",9} {"legoemu s",10} {"qemu s",8} {"legoemu/native",15} {"legoemu/qemu",13} {"cpu legoemu/qemu",17} {"guest M insn/s",15}");
        foreach (var program in programs)
        {
            var native = GuestRun.Best(repeat, () => GuestRun.Native(program, []));
            GuestRun? q = qemu == null ? null : GuestRun.Best(repeat, () => GuestRun.Native(qemu, [program]));
            foreach (var tier in tiers)
            {
                var emu = GuestRun.Best(repeat, () => GuestRun.Emulated(TierOptions(tier), program, []));
                if (native.ExitCode != emu.ExitCode)
                    o.WriteLine($"  warning: {program} exit status differs (native {native.ExitCode}, legoemu {emu.ExitCode})");
                double mips = emu.Instructions / Math.Max(emu.Seconds, 1e-9) / 1e6;
                o.WriteLine($"{Path.GetFileName(program),-14} {tier,-7} {native.Seconds,9:F3} {emu.Seconds,10:F3} {(q == null ? "-" : q.Seconds.ToString("F3")),8} " +
                            $"{emu.Seconds / native.Seconds,14:F1}x {(q == null ? "-" : (emu.Seconds / q.Seconds).ToString("F2") + "x"),13} " +
                            $"{(q == null ? "-" : CpuRatio(emu, q)),17} {mips,15:F1}");
            }
        }
        return 0;
    }

    static string CpuRatio(GuestRun emu, GuestRun other) =>
        other.CpuSeconds > 0 ? (emu.CpuSeconds / other.CpuSeconds).ToString("F2") + "x" : "-";

    /// <summary>One command line with arguments, natively, under LegoEmu and under qemu-x86_64.</summary>
    /// <param name="codeCache">Also time runs with a code cache (in a temporary directory) that one untimed run filled first.</param>
    public static int RunCommandLine(string[] argv, int repeat, TextWriter o, bool codeCache = false)
    {
        string program = argv[0].Contains('/') ? argv[0] : Nodes.ExecutablePath.Find(argv[0]) ?? argv[0];
        if (!File.Exists(program)) { Console.Error.WriteLine($"legoemu bench: {argv[0]}: No such file or directory"); return 127; }
        var args = argv[1..];
        string? qemu = Nodes.ExecutablePath.Find("qemu-x86_64");
        var native = GuestRun.Best(repeat, () => GuestRun.Native(program, args));
        var emu = GuestRun.Best(repeat, () => GuestRun.Emulated([], program, args));
        GuestRun? q = qemu == null ? null : GuestRun.Best(repeat, () => GuestRun.Native(qemu, [program, .. args]));
        o.WriteLine($"{string.Join(' ', argv)}: best of {repeat}");
        o.WriteLine($"  native  {native.Seconds,8:F3} s  cpu {native.CpuSeconds,7:F3} s  (exit {native.ExitCode})");
        o.WriteLine($"  legoemu {emu.Seconds,8:F3} s  cpu {emu.CpuSeconds,7:F3} s  (exit {emu.ExitCode}; {emu.Seconds / native.Seconds:F1}x native; tier auto)");
        if (codeCache)
        {
            string dir = Directory.CreateTempSubdirectory("legoemu-bench-code-cache-").FullName;
            try
            {
                string[] options = ["--code-cache", dir];
                var filling = GuestRun.Emulated(options, program, args);
                var cached = GuestRun.Best(repeat, () => GuestRun.Emulated(options, program, args));
                o.WriteLine($"  legoemu {cached.Seconds,8:F3} s  cpu {cached.CpuSeconds,7:F3} s  (exit {cached.ExitCode}; {cached.Seconds / native.Seconds:F1}x native; --code-cache, filled by a first run of {filling.Seconds:F3} s"
                    + (q != null ? $"; legoemu/qemu {cached.Seconds / q.Seconds:F2}x, cpu {CpuRatio(cached, q)})" : ")"));
            }
            finally
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
            }
        }
        if (q != null)
            o.WriteLine($"  qemu    {q.Seconds,8:F3} s  cpu {q.CpuSeconds,7:F3} s  (exit {q.ExitCode}; legoemu/qemu {emu.Seconds / q.Seconds:F2}x, cpu {CpuRatio(emu, q)}; qemu-user runs only this process emulated, children natively)");
        else o.WriteLine("  qemu-x86_64 not installed (Debian package qemu-user)");
        return 0;
    }
}

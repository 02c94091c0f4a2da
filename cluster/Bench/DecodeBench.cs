using System.Diagnostics;
using Iced.Intel;
using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// What decoding costs per instruction: the executable code of a program (its first <c>bytes</c>) decoded into blocks
/// as a guest's first run decodes it (instruction bytes fetched through the ExCache, handlers chosen, blocks kept), once
/// with its lines still in the memory component and once more with them in the ExCache; and Iced's decoder alone over
/// the same bytes in an array, the floor. Cold code (a compiler's, an interpreter's start-up) runs a few times after
/// it is decoded, so this is much of a short program's time.
/// </summary>
public static class DecodeBench
{
    public static int Run(string path, long bytes, int repeat, TextWriter o)
    {
        ElfFile elf;
        try { elf = ProgramFiles.Resolve(path, [path]).Elf; }
        catch (Exception e) when (e is ExecFileException or ElfFormatException)
        {
            Console.Error.WriteLine($"legoemu bench decode: {path}: {e.Message}");
            return 2;
        }
        var text = elf.LoadSegments().FirstOrDefault(p => (p.Flags & ElfConst.PF_X) != 0);
        if (text.FileSize == 0)
        {
            Console.Error.WriteLine($"legoemu bench decode: {path} has no executable segment");
            return 2;
        }
        long span = Math.Min(bytes, (long)text.FileSize);
        o.WriteLine($"{path}: {span:N0} bytes of its executable segment decoded as blocks, best of {repeat}");
        o.WriteLine($"{"pass",-44} {"instructions",12} {"ns each",9}");
        double best = double.MaxValue, bestWarm = double.MaxValue, bestIced = double.MaxValue;
        long count = 0;
        for (int r = 0; r < repeat; r++)
        {
            var options = new RunOptions(CacheConfig.Default, false, false, TextWriter.Null);
            using var process = new GuestProcess(new InProcessMemoryComponent(), options) { ForwardHostSignals = false };
            process.Load(elf, null, [path], []);
            ulong start = text.VAddr + process.LoadBias, end = start + (ulong)span;
            (count, double cold) = DecodeAll(process, start, end);
            process.Blocks.Clear();
            (_, double warm) = DecodeAll(process, start, end);
            best = Math.Min(best, cold);
            bestWarm = Math.Min(bestWarm, warm);
            bestIced = Math.Min(bestIced, IcedOnly(elf, text, span, start));
        }
        o.WriteLine($"runtime GC: {GC.CollectionCount(0)} collections ({GC.CollectionCount(1)} of gen 1, {GC.CollectionCount(2)} of gen 2), paused {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms, {GC.GetTotalAllocatedBytes() / 1048576.0:F0} MiB allocated");
        o.WriteLine($"{"blocks, code lines filled on first touch",-44} {count,12:N0} {best,9:F1}");
        o.WriteLine($"{"blocks, code lines in the ExCache",-44} {count,12:N0} {bestWarm,9:F1}");
        o.WriteLine($"{"Iced alone, bytes in an array",-44} {count,12:N0} {bestIced,9:F1}");
        return 0;
    }

    /// <summary>Decodes [start, end) block after block; returns the instructions and the time per instruction in ns.</summary>
    static (long Count, double Ns) DecodeAll(GuestProcess process, ulong start, ulong end)
    {
        long before = process.Blocks.Decoded;
        var sw = Stopwatch.StartNew();
        for (ulong a = start; a < end;)
        {
            var b = process.Blocks.TryGet(a);
            if (b == null || b.End <= a) a++;
            else a = b.End;
        }
        long n = process.Blocks.Decoded - before;
        return (n, sw.Elapsed.TotalNanoseconds / Math.Max(1, n));
    }

    static double IcedOnly(ElfFile elf, ProgramHeader text, long span, ulong ip)
    {
        var code = elf.Data.AsSpan((int)text.Offset, (int)span).ToArray();
        var decoder = Decoder.Create(64, new ByteArrayCodeReader(code), ip, DecoderOptions.None);
        long n = 0;
        var sw = Stopwatch.StartNew();
        while (decoder.IP < ip + (ulong)code.Length)
        {
            decoder.Decode(out _);
            n++;
        }
        return sw.Elapsed.TotalNanoseconds / Math.Max(1, n);
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using LegoEmu.Cluster.Nodes;

namespace LegoEmu.Cluster.Regress;

/// <summary>ExCache counters of one emulated run, read from <c>legoemu run --stats-json</c>.</summary>
public sealed record CacheFigures(long Accesses, long Misses, double MissRatio, long LineBytes, long ExCacheBytes)
{
    /// <summary>Prefetched lines the guest used.</summary>
    public long PrefetchUsed { get; init; }
    /// <summary>Prefetched lines evicted unused.</summary>
    public long PrefetchWasted { get; init; }
    /// <summary>Prefetched lines the guest reached before they arrived.</summary>
    public long PrefetchLate { get; init; }
    /// <summary>Dirty lines written back to the memory component.</summary>
    public long WriteBacks { get; init; }
    /// <summary>Mean time of a demand miss, in microseconds.</summary>
    public double MeanMissMicros { get; init; }

    /// <summary>Bytes of guest memory touched, valid when the cache never evicted (the embedded 1 GiB default).</summary>
    public long Footprint => Misses * LineBytes;
}

/// <summary>What one run of a case left: status, outputs, output files, wall time and, when emulated, cache figures.</summary>
public sealed record RunOutcome(int ExitCode, byte[] Stdout, byte[] Stderr, Dictionary<string, byte[]?> OutputFiles, double Seconds, bool TimedOut, CacheFigures? Cache, string? StartError);

/// <summary>Runs a case once, natively or under <c>legoemu run</c>, in a fresh working directory holding its working files.</summary>
public static class CaseRun
{
    /// <summary>Runs the case; <paramref name="emulatorOptions"/> null means natively.</summary>
    public static RunOutcome Execute(RegressCase c, string scratchRoot, IReadOnlyList<string>? emulatorOptions)
    {
        // The same path for the native and every emulated run of a case (they run one after another), so
        // programs that print their working directory or argv[0] print the same thing both ways.
        string work = Path.Combine(scratchRoot, "run", Sanitize(c.Name));
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        try
        {
            // Working files are linked, not copied: Phoenix inputs reach hundreds of MB. Commands must not modify them.
            foreach (var f in c.Files) File.CreateSymbolicLink(Path.Combine(work, Path.GetFileName(f)), f);
            // A relative program path ("./prog", "bin/tool") means one in the working directory, for both runs.
            var command = c.Command.ToList();
            if (command[0].Contains('/') && !Path.IsPathRooted(command[0])) command[0] = Path.GetFullPath(command[0], work);
            string statsFile = Path.Combine(scratchRoot, $"stats-{Guid.NewGuid():N}.json");
            ProcessStartInfo psi;
            if (emulatorOptions == null)
            {
                psi = new ProcessStartInfo(command[0]);
                foreach (var a in command.Skip(1)) psi.ArgumentList.Add(a);
            }
            else
            {
                psi = SelfProcess.StartInfo(new[] { "run" }.Concat(emulatorOptions).Concat(["--stats-json", statsFile]).Concat(command));
            }
            psi.WorkingDirectory = work;
            foreach (var (k, v) in c.Environment) psi.Environment[k] = v;
            var outcome = Start(psi, c);
            if (emulatorOptions != null) outcome = outcome with { Cache = ReadStats(statsFile) };
            File.Delete(statsFile);
            var files = new Dictionary<string, byte[]?>();
            foreach (var o in c.Outputs)
            {
                string p = Path.Combine(work, o);
                files[o] = File.Exists(p) ? File.ReadAllBytes(p) : null;
            }
            return outcome with { OutputFiles = files };
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    static RunOutcome Start(ProcessStartInfo psi, RegressCase c)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardInput = true;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var sw = Stopwatch.StartNew();
        Process p;
        try { p = Process.Start(psi)!; }
        catch (Win32Exception e) { return new RunOutcome(127, [], [], new(), 0, false, null, $"cannot start {psi.FileName}: {e.Message}"); }
        using (p)
        {
            var stdout = Drain(p.StandardOutput.BaseStream);
            var stderr = Drain(p.StandardError.BaseStream);
            var feed = Task.Run(() =>
            {
                try
                {
                    if (c.Stdin != null)
                        using (var input = File.OpenRead(c.Stdin)) input.CopyTo(p.StandardInput.BaseStream);
                    p.StandardInput.Close();
                }
                catch (IOException) { } // the program exited without reading all of its input
            });
            bool timedOut = !p.WaitForExit(TimeSpan.FromSeconds(c.TimeoutSeconds));
            if (timedOut)
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                p.WaitForExit();
            }
            sw.Stop();
            // A leftover grandchild may hold the pipes; do not wait for it forever.
            Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
            feed.Wait(TimeSpan.FromSeconds(1));
            return new RunOutcome(p.ExitCode, stdout.IsCompleted ? stdout.Result : [], stderr.IsCompleted ? stderr.Result : [], new(), sw.Elapsed.TotalSeconds, timedOut, null, null);
        }
    }

    static async Task<byte[]> Drain(Stream s)
    {
        using var m = new MemoryStream();
        await s.CopyToAsync(m);
        return m.ToArray();
    }

    static CacheFigures? ReadStats(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            return new CacheFigures(r.GetProperty("accesses").GetInt64(), r.GetProperty("misses").GetInt64(), r.GetProperty("missRatio").GetDouble(),
                r.GetProperty("lineBytes").GetInt64(), r.GetProperty("excacheBytes").GetInt64())
            {
                PrefetchUsed = r.TryGetProperty("prefetchUsed", out var used) ? used.GetInt64() : 0,
                PrefetchWasted = r.TryGetProperty("prefetchWasted", out var wasted) ? wasted.GetInt64() : 0,
                PrefetchLate = r.TryGetProperty("prefetchLate", out var late) ? late.GetInt64() : 0,
                WriteBacks = r.TryGetProperty("writeBacks", out var wb) ? wb.GetInt64() : 0,
                MeanMissMicros = r.TryGetProperty("meanMissMicros", out var us) ? us.GetDouble() : 0,
            };
        }
        catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null; // the guest died before legoemu wrote its figures; the comparison reports that failure
        }
    }

    static string Sanitize(string name) => new(name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray());
}

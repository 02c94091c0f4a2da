using System.Diagnostics;
using System.Globalization;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// The data footprint valgrind's lackey sees: the command runs under <c>lackey --trace-mem=yes</c>, whose
/// loads (L), stores (S) and modifies (M) are read as they stream out (never stored: a run makes gigabytes),
/// and the distinct lines of the given size they touch are counted (an access that crosses a line touches two).
/// Instruction fetches are left out, as in a trace report's <c>--data-only</c>.
/// </summary>
public static class LackeyFootprint
{
    /// <summary>The distinct lines, or null with <paramref name="error"/> when lackey did not run.</summary>
    public static long? Measure(string program, string[] args, int line, IReadOnlyDictionary<string, string> environment, out string? error)
    {
        error = null;
        var psi = new ProcessStartInfo("valgrind") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--tool=lackey", "--trace-mem=yes", "--log-fd=2", program }.Concat(args)) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        Process p;
        try { p = Process.Start(psi) ?? throw new System.ComponentModel.Win32Exception("not started"); }
        catch (System.ComponentModel.Win32Exception e) { error = $"valgrind: {e.Message}"; return null; }
        using (p)
        {
            p.StandardInput.Close();
            var drain = p.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            var lines = new HashSet<ulong>();
            int shift = System.Numerics.BitOperations.Log2((uint)line);
            string? text;
            while ((text = p.StandardError.ReadLine()) != null)
            {
                // " L 1ffefff8a8,8": a data access; "I  ..." is a fetch and anything else is valgrind's or the program's own text.
                if (text.Length < 6 || text[0] != ' ' || text[1] is not ('L' or 'S' or 'M') || text[2] != ' ') continue;
                int comma = text.IndexOf(',', 3);
                if (comma < 0) continue;
                var span = text.AsSpan(3, comma - 3).Trim();
                if (!ulong.TryParse(span, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong a)) continue;
                if (!ulong.TryParse(text.AsSpan(comma + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ulong size) || size == 0) continue;
                for (ulong l = a >> shift; l <= (a + size - 1) >> shift; l++) lines.Add(l);
            }
            drain.Wait();
            p.WaitForExit();
            return lines.Count;
        }
    }
}

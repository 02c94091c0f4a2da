using System.Globalization;

namespace LegoEmu.Cluster.Bench;

/// <summary>
/// A callgrind- or cachegrind-format profile summed per function: each event's self cost, and the totals line.
/// Names a tool could not resolve (cachegrind's <c>???</c>, an address) are summed under <see cref="Unknown"/>.
/// Call lines (<c>calls=</c>) are followed by an inclusive cost, which is not a function's own and is skipped.
/// </summary>
public sealed class ProfileFunctions
{
    public const string Unknown = "???";

    public string[] Events { get; private set; } = [];
    public Dictionary<string, long[]> ByFunction { get; } = new(StringComparer.Ordinal);
    public long[] Totals { get; private set; } = [];
    /// <summary>Call edges by caller and callee: how often, and the callee's inclusive cost per event.</summary>
    public Dictionary<(string Caller, string Callee), (long Count, long[] Inclusive)> Calls { get; } = new();

    /// <summary>The object files the profile names (callgrind's <c>ob=</c>).</summary>
    public HashSet<string> Objects { get; } = new(StringComparer.Ordinal);

    /// <summary>The same costs with every function renamed (names that meet are summed).</summary>
    public ProfileFunctions Renamed(Func<string, string> rename)
    {
        var p = new ProfileFunctions { Events = Events, Totals = Totals };
        p.Objects.UnionWith(Objects);
        foreach (var (fn, c) in ByFunction)
        {
            string name = fn == Unknown ? fn : rename(fn);
            if (!p.ByFunction.TryGetValue(name, out var sum)) p.ByFunction[name] = sum = new long[c.Length];
            for (int i = 0; i < c.Length; i++) sum[i] += c[i];
        }
        return p;
    }

    public long Total(string ev) => Index(ev) is int i and >= 0 ? Totals[i] : 0;

    /// <summary>The summed cost of <paramref name="fn"/> in the events named, 0 when absent.</summary>
    public long Cost(string fn, params string[] events)
    {
        if (!ByFunction.TryGetValue(fn, out var c)) return 0;
        long sum = 0;
        foreach (var e in events)
            if (Index(e) is int i and >= 0) sum += c[i];
        return sum;
    }

    int Index(string ev) => Array.IndexOf(Events, ev);

    /// <summary>Functions with a resolved name, the highest <paramref name="ev"/> first (ties by name).</summary>
    public List<string> Ranking(params string[] events) =>
        ByFunction.Keys.Where(f => f != Unknown).Select(f => (f, c: Cost(f, events))).Where(p => p.c > 0)
            .OrderByDescending(p => p.c).ThenBy(p => p.f, StringComparer.Ordinal).Select(p => p.f).ToList();

    public static ProfileFunctions Read(string path)
    {
        var p = new ProfileFunctions();
        int positions = 1;
        string? fn = null;
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var objects = new Dictionary<string, string>(StringComparer.Ordinal);
        bool skipNext = false;
        string? callee = null;
        long callCount = 0;
        foreach (var raw in File.ReadLines(path))
        {
            string line = raw.TrimEnd();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.StartsWith("events:", StringComparison.Ordinal))
            {
                p.Events = line[7..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                continue;
            }
            if (line.StartsWith("positions:", StringComparison.Ordinal))
            {
                positions = line[10..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
                continue;
            }
            if (line.StartsWith("ob=", StringComparison.Ordinal))
            {
                p.Objects.Add(Name(line[3..], objects));
                continue;
            }
            if (line.StartsWith("fn=", StringComparison.Ordinal))
            {
                fn = Name(line[3..], names);
                continue;
            }
            if (line.StartsWith("cfn=", StringComparison.Ordinal))
            {
                callee = Name(line[4..], names);
                continue;
            }
            if (line.StartsWith("calls=", StringComparison.Ordinal))
            {
                skipNext = true;
                callCount = long.Parse(line[6..].Split(' ')[0], CultureInfo.InvariantCulture);
                continue;
            }
            if (line.StartsWith("totals:", StringComparison.Ordinal) || line.StartsWith("summary:", StringComparison.Ordinal))
            {
                p.Totals = Numbers(line[(line.IndexOf(':') + 1)..], 0, p.Events.Length);
                continue;
            }
            if (!IsCostLine(line)) continue;
            if (skipNext)
            {
                // The inclusive cost of the call just named.
                skipNext = false;
                if (fn == null || callee == null) continue;
                var inclusive = Numbers(line, positions, p.Events.Length);
                var key = (fn, callee);
                var (count, total) = p.Calls.TryGetValue(key, out var old) ? old : (0, new long[p.Events.Length]);
                for (int i = 0; i < total.Length; i++) total[i] += inclusive[i];
                p.Calls[key] = (count + callCount, total);
                continue;
            }
            if (fn == null) continue;
            var costs = Numbers(line, positions, p.Events.Length);
            if (!p.ByFunction.TryGetValue(fn, out var sum)) p.ByFunction[fn] = sum = new long[p.Events.Length];
            for (int i = 0; i < sum.Length; i++) sum[i] += costs[i];
        }
        if (p.Totals.Length == 0)
        {
            p.Totals = new long[p.Events.Length];
            foreach (var c in p.ByFunction.Values)
                for (int i = 0; i < c.Length; i++) p.Totals[i] += c[i];
        }
        return p;
    }

    static bool IsCostLine(string line) => char.IsAsciiDigit(line[0]) || line[0] is '+' or '-' or '*';

    /// <summary>A function name, with callgrind's name compression ("(3) name" defines, "(3)" refers) undone.</summary>
    static string Name(string text, Dictionary<string, string> names)
    {
        string name = text;
        if (text.StartsWith('(') && text.IndexOf(')') is int close and > 0)
        {
            string id = text[..(close + 1)];
            string rest = text[(close + 1)..].Trim();
            if (rest.Length > 0) names[id] = rest;
            name = names.GetValueOrDefault(id, rest);
        }
        // Unresolved code: cachegrind writes ???, a tool without symbols an address.
        return name == Unknown || name.StartsWith("0x", StringComparison.Ordinal) ? Unknown : name;
    }

    static long[] Numbers(string line, int skip, int count)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var v = new long[count];
        for (int i = 0; i < count && skip + i < parts.Length; i++)
            v[i] = long.Parse(parts[skip + i], CultureInfo.InvariantCulture);
        return v;
    }
}

using System.Globalization;
using System.Text.Json;

namespace LegoEmu.Cluster.Membership;

/// <summary><c>legoemu cluster status</c>'s output: a table of members (and of memory nodes that failed and left), or the same as JSON.</summary>
public static class StatusReport
{
    sealed record Row(string Kind, string State, string Endpoint, string? Host, int? Pid, long? Capacity, long? Used, int? Load, int Primary, int Backup, FailureRecord? Failure);

    static List<Row> Rows(ClusterView view)
    {
        var rows = new List<Row>();
        foreach (var m in view.Members)
        {
            var (p, b) = view.Regions.GetValueOrDefault(m.Endpoint);
            bool memory = m.Kind == MemberRecord.Memory;
            rows.Add(new Row(m.Kind, "up", m.Endpoint, m.Host, m.Pid, memory ? m.CapacityBytes ?? -1 : null, memory ? m.UsedBytes : null, m.Load, p, b,
                view.Failures.GetValueOrDefault(m.Endpoint)));
        }
        // A node that failed is no member any more (its lease ran out), but the failure is the news.
        foreach (var f in view.Failures.Values.OrderBy(f => f.Endpoint, StringComparer.Ordinal))
        {
            if (view.Members.Any(m => m.Endpoint == f.Endpoint)) continue;
            var (p, b) = view.Regions.GetValueOrDefault(f.Endpoint);
            rows.Add(new Row(MemberRecord.Memory, "failed", f.Endpoint, null, null, null, null, null, p, b, f));
        }
        return rows;
    }

    public static void WriteTable(ClusterView view, string cluster, TextWriter o)
    {
        var rows = Rows(view);
        string[] head = ["KIND", "STATE", "ENDPOINT", "HOST", "PID", "CAPACITY", "USED", "LOAD", "PRIMARY", "BACKUP", "FAILURES"];
        var cells = rows.Select(r => new[]
        {
            r.Kind, r.State, r.Endpoint, r.Host ?? "-", r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-",
            r.Capacity is { } c ? (c < 0 ? "unbounded" : Size(c)) : "-", r.Used is { } u ? Size(u) : "-",
            r.Load?.ToString(CultureInfo.InvariantCulture) ?? "-", r.Primary.ToString(CultureInfo.InvariantCulture),
            r.Backup.ToString(CultureInfo.InvariantCulture), (r.Failure?.Count ?? 0).ToString(CultureInfo.InvariantCulture),
        }).ToList();
        var widths = head.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        void Line(string[] c) => o.WriteLine(string.Join("  ", c.Select((t, i) => t.PadRight(widths[i]))).TrimEnd());
        o.WriteLine($"cluster {cluster}: {view.Members.Count(m => m.Kind == MemberRecord.Memory)} memory nodes, " +
            $"{view.Members.Count(m => m.Kind == MemberRecord.Processor)} processor components, {view.Runs} runs placing memory");
        Line(head);
        foreach (var c in cells) Line(c);
        foreach (var r in rows.Where(r => r.Failure != null)) o.WriteLine($"failure of {r.Endpoint}: {r.Failure!.Reason}");
    }

    public static void WriteJson(ClusterView view, string cluster, Stream o)
    {
        using var w = new Utf8JsonWriter(o, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("cluster", cluster);
        w.WriteNumber("runs", view.Runs);
        w.WriteStartArray("members");
        foreach (var r in Rows(view))
        {
            w.WriteStartObject();
            w.WriteString("kind", r.Kind);
            w.WriteString("state", r.State);
            w.WriteString("endpoint", r.Endpoint);
            if (r.Host != null) w.WriteString("host", r.Host);
            if (r.Pid is { } pid) w.WriteNumber("pid", pid);
            if (r.Capacity is { } c)
            {
                if (c < 0) w.WriteNull("capacityBytes");
                else w.WriteNumber("capacityBytes", c);
            }
            if (r.Used is { } u) w.WriteNumber("usedBytes", u);
            if (r.Load is { } l) w.WriteNumber("load", l);
            w.WriteNumber("primaryRegions", r.Primary);
            w.WriteNumber("backupRegions", r.Backup);
            w.WriteNumber("failures", r.Failure?.Count ?? 0);
            if (r.Failure != null) w.WriteString("lastFailure", r.Failure.Reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        o.WriteByte((byte)'\n');
    }

    static string Size(long bytes)
    {
        string[] units = ["B", "K", "M", "G", "T"];
        double v = bytes;
        int i = 0;
        while (v >= 1024 && i < units.Length - 1) { v /= 1024; i++; }
        return i == 0 ? $"{bytes}B" : v.ToString(v < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + units[i];
    }
}

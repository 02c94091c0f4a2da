using System.Text.Json;

namespace LegoEmu.Cluster.Membership;

/// <summary>
/// One reading of a cluster's state: its live members and, per endpoint, the vRegions runs placed there as primary
/// and as backup and the failures runs declared. Runs that ended took their placements with them (their lease).
/// </summary>
public sealed class ClusterView
{
    public required IReadOnlyList<MemberRecord> Members { get; init; }
    public required IReadOnlyDictionary<string, (int Primary, int Backup)> Regions { get; init; }
    public required IReadOnlyDictionary<string, FailureRecord> Failures { get; init; }
    public required int Runs { get; init; }

    public static ClusterView Read(EtcdStore store)
    {
        var members = new List<MemberRecord>();
        foreach (var (key, value) in store.RangeLive(store.Keys.Members)) members.Add(MemberRecord.Parse(key, value));
        var regions = new Dictionary<string, (int, int)>();
        foreach (var (key, value) in store.Range(store.Keys.Placements))
        {
            var p = PlacementRecord.Parse(key, value);
            Count(regions, p.Primary, primary: true);
            if (p.Backup != null) Count(regions, p.Backup, primary: false);
        }
        var failures = new Dictionary<string, FailureRecord>();
        foreach (var (key, value) in store.Range(store.Keys.Failures))
        {
            var f = FailureRecord.Parse(key, value);
            failures[f.Endpoint] = f;
        }
        int runs = store.Range(store.Keys.Runs).Count;
        // Memory nodes first, then processor components, each by endpoint: a stable table to read and to diff.
        members.Sort((a, b) => a.Kind != b.Kind ? (a.Kind == MemberRecord.Memory ? -1 : 1) : string.CompareOrdinal(a.Endpoint, b.Endpoint));
        return new ClusterView { Members = members, Regions = regions, Failures = failures, Runs = runs };
    }

    static void Count(Dictionary<string, (int Primary, int Backup)> regions, string endpoint, bool primary)
    {
        var (p, b) = regions.GetValueOrDefault(endpoint);
        regions[endpoint] = primary ? (p + 1, b) : (p, b + 1);
    }

    internal static string Text(JsonElement o, string name, bool optional = false)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return optional ? null! : throw new FormatException($"no '{name}'");
        if (v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 and <= 4096 } s) throw new FormatException($"'{name}' is not a non-empty string");
        return s;
    }

    internal static ClusterStoreException Malformed(string key, string what, Exception e) =>
        new($"etcd key {LegoEmu.Mem.PrintableName.Escape(key)} holds no valid {what}: {LegoEmu.Mem.PrintableName.Escape(e.Message.Split('\n')[0])}");
}

using System.Text.Json;

namespace LegoEmu.Cluster.Membership;

/// <summary>Where one vRegion of a run lives: the endpoint of its primary and, with <c>--replicas 2</c>, of its backup.</summary>
public sealed record PlacementRecord(string Primary, string? Backup)
{
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("primary", Primary);
            if (Backup != null) w.WriteString("backup", Backup);
            else w.WriteNull("backup");
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static PlacementRecord Parse(string key, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw new FormatException("not a JSON object");
            return new PlacementRecord(ClusterView.Text(o, "primary"), ClusterView.Text(o, "backup", optional: true));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw ClusterView.Malformed(key, "placement", e);
        }
    }
}

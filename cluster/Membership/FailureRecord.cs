using System.Text.Json;

namespace LegoEmu.Cluster.Membership;

/// <summary>A memory node that a run declared failed: how many times, and the last reason given.</summary>
public sealed record FailureRecord(string Endpoint, int Count, string Reason)
{
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("endpoint", Endpoint);
            w.WriteNumber("count", Count);
            w.WriteString("reason", Reason);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static FailureRecord Parse(string key, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw new FormatException("not a JSON object");
            if (!o.TryGetProperty("count", out var c) || !c.TryGetInt32(out int count) || count < 1) throw new FormatException("'count' is not a positive integer");
            return new FailureRecord(ClusterView.Text(o, "endpoint"), count, ClusterView.Text(o, "reason"));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw ClusterView.Malformed(key, "failure record", e);
        }
    }
}

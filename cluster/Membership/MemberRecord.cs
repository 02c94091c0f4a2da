using System.Text.Json;

namespace LegoEmu.Cluster.Membership;

/// <summary>
/// What a component publishes about itself under its lease: where it listens, on which host and process, and how
/// full and busy it is. Memory nodes fill the capacity, use and connection counts; processor components say whether
/// a home has taken them.
/// </summary>
public sealed record MemberRecord
{
    public const string Memory = "memory", Processor = "processor";

    public required string Kind { get; init; }
    public required string Endpoint { get; init; }
    public required string Host { get; init; }
    public required int Pid { get; init; }
    /// <summary>Frame memory the node may hold, or null when unbounded.</summary>
    public long? CapacityBytes { get; init; }
    public long UsedBytes { get; init; }
    /// <summary>Open connections (memory node) or guest homes served (processor component, 0 or 1).</summary>
    public int Load { get; init; }

    /// <summary>Free bytes for placement: unbounded nodes count as having the most.</summary>
    public long FreeBytes => CapacityBytes is { } c ? Math.Max(0, c - UsedBytes) : long.MaxValue;

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("kind", Kind);
            w.WriteString("endpoint", Endpoint);
            w.WriteString("host", Host);
            w.WriteNumber("pid", Pid);
            if (CapacityBytes is { } c) w.WriteNumber("capacityBytes", c);
            else w.WriteNull("capacityBytes");
            w.WriteNumber("usedBytes", UsedBytes);
            w.WriteNumber("load", Load);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads a record that etcd held at <paramref name="key"/>; anything else is a <see cref="ClusterStoreException"/> naming the key.</summary>
    public static MemberRecord Parse(string key, string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var o = doc.RootElement;
            if (o.ValueKind != JsonValueKind.Object) throw new FormatException("not a JSON object");
            string kind = Text(o, "kind");
            if (kind is not (Memory or Processor)) throw new FormatException($"unknown kind '{kind}'");
            long? capacity = o.TryGetProperty("capacityBytes", out var c) && c.ValueKind != JsonValueKind.Null ? NonNegative(c, "capacityBytes") : null;
            return new MemberRecord
            {
                Kind = kind,
                Endpoint = Text(o, "endpoint"),
                Host = Text(o, "host"),
                Pid = (int)Math.Min(NonNegative(Field(o, "pid"), "pid"), int.MaxValue),
                CapacityBytes = capacity,
                UsedBytes = NonNegative(Field(o, "usedBytes"), "usedBytes"),
                Load = (int)Math.Min(NonNegative(Field(o, "load"), "load"), int.MaxValue),
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ClusterStoreException($"etcd key {LegoEmu.Mem.PrintableName.Escape(key)} holds no valid member record: {LegoEmu.Mem.PrintableName.Escape(e.Message.Split('\n')[0])}");
        }
    }

    static JsonElement Field(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) ? v : throw new FormatException($"no '{name}'");

    static string Text(JsonElement o, string name)
    {
        var v = Field(o, name);
        if (v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 and <= 4096 } s) throw new FormatException($"'{name}' is not a non-empty string");
        return s;
    }

    static long NonNegative(JsonElement v, string name) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) && n >= 0 ? n : throw new FormatException($"'{name}' is not a non-negative integer");
}

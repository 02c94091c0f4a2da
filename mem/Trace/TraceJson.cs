using System.Text.Json.Serialization;

namespace LegoEmu.Mem.Trace;

/// <summary>Source-generated JSON for the trace header (no reflection at run time).</summary>
[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TraceHeader))]
public sealed partial class TraceJson : JsonSerializerContext;

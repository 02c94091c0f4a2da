using System.Text.Json;
using System.Text.Json.Serialization;

namespace LegoEmu.Cluster.Trace;

/// <summary>The whole report as JSON, for scripts.</summary>
public static class JsonReport
{
    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public static void Write(TraceReportModel m, TextWriter w) => w.WriteLine(JsonSerializer.Serialize(m, Options));
}

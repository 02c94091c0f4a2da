using System.Text.Json;

namespace LegoEmu.Cluster.Regress;

/// <summary>A regression suite: cases that run natively and under LegoEmu and must give the same results.</summary>
public sealed record Manifest(string Name, string Directory, IReadOnlyList<RegressCase> Cases);

/// <summary>One case: a command line with its environment, working files, compared outputs and output filter.</summary>
public sealed record RegressCase(
    string Name,
    IReadOnlyList<string> Command,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Files,
    IReadOnlyList<string> Outputs,
    string? Stdin,
    OutputFilter Filter,
    bool CompareStderr,
    double TimeoutSeconds);

/// <summary>A manifest that cannot be used; the message names the file and the offending entry.</summary>
public sealed class ManifestException(string message) : Exception(message);

/// <summary>
/// Reads a manifest (JSON). Placeholders <c>{dir}</c> (the manifest's directory) and any supplied
/// variables are replaced in commands, files and environment values; other braces are left alone,
/// so shell and awk text passes through.
/// </summary>
public static class ManifestLoader
{
    public static Manifest Load(string path, IReadOnlyDictionary<string, string>? variables = null)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ManifestException($"{path}: {e.Message}"); }
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var vars = new Dictionary<string, string>(variables ?? new Dictionary<string, string>()) { ["dir"] = dir };
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new ManifestException($"{path}: not valid JSON: {e.Message}"); }
        using (doc) return Parse(path, dir, doc.RootElement, vars);
    }

    static Manifest Parse(string path, string dir, JsonElement root, Dictionary<string, string> vars)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ManifestException($"{path}: the top level must be an object with \"cases\"");
        Known(path, "top level", root, "suite", "env", "timeoutSeconds", "cases");
        string name = OptString(path, "top level", root, "suite") ?? Path.GetFileNameWithoutExtension(path);
        var env = Env(path, "top level", root, vars);
        double timeout = OptNumber(path, "top level", root, "timeoutSeconds") ?? 600;
        if (!root.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Array || cases.GetArrayLength() == 0)
            throw new ManifestException($"{path}: \"cases\" must be a non-empty array");
        var list = new List<RegressCase>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int index = 0;
        foreach (var c in cases.EnumerateArray())
        {
            string where = $"case #{++index}";
            if (c.ValueKind != JsonValueKind.Object) throw new ManifestException($"{path}: {where} must be an object");
            Known(path, where, c, "name", "command", "env", "files", "outputs", "stdin", "filter", "compareStderr", "timeoutSeconds");
            string caseName = OptString(path, where, c, "name") ?? throw new ManifestException($"{path}: {where} has no \"name\"");
            where = $"case \"{caseName}\"";
            if (!names.Add(caseName)) throw new ManifestException($"{path}: two cases are named \"{caseName}\"");
            if (!c.TryGetProperty("command", out var cmd)) throw new ManifestException($"{path}: {where} has no \"command\"");
            List<string> command = cmd.ValueKind switch
            {
                // A string is a shell command line; an array is the argv itself.
                JsonValueKind.String => ["/bin/sh", "-c", Expand(cmd.GetString()!, vars)],
                JsonValueKind.Array => Strings(path, where, "command", cmd).Select(s => Expand(s, vars)).ToList(),
                _ => throw new ManifestException($"{path}: {where}: \"command\" must be a string or an array of strings"),
            };
            if (command.Count == 0 || command[0].Length == 0) throw new ManifestException($"{path}: {where}: \"command\" is empty");
            var caseEnv = new Dictionary<string, string>(env);
            foreach (var (k, v) in Env(path, where, c, vars)) caseEnv[k] = v;
            var files = c.TryGetProperty("files", out var f) ? Strings(path, where, "files", f).Select(s => Path.GetFullPath(Expand(s, vars), dir)).ToList() : [];
            foreach (var file in files)
                if (!File.Exists(file) && !System.IO.Directory.Exists(file))
                    throw new ManifestException($"{path}: {where}: working file {file} does not exist");
            // Working files land in one directory under their own names, so two with the same name cannot both be there.
            if (files.GroupBy(Path.GetFileName).FirstOrDefault(g => g.Count() > 1) is { } clash)
                throw new ManifestException($"{path}: {where}: two working files are named \"{clash.Key}\"");
            var outputs = c.TryGetProperty("outputs", out var o) ? Strings(path, where, "outputs", o).ToList() : [];
            foreach (var output in outputs)
                if (Path.IsPathRooted(output) || output.Split('/').Contains(".."))
                    throw new ManifestException($"{path}: {where}: output \"{output}\" must be a relative path inside the working directory");
            string? stdin = OptString(path, where, c, "stdin") is { } s ? Path.GetFullPath(Expand(s, vars), dir) : null;
            if (stdin != null && !File.Exists(stdin)) throw new ManifestException($"{path}: {where}: stdin file {stdin} does not exist");
            var filter = c.TryGetProperty("filter", out var fl) ? FilterOf(path, where, fl) : OutputFilter.None;
            bool compareStderr = c.TryGetProperty("compareStderr", out var cs) && (cs.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? cs.GetBoolean() : throw new ManifestException($"{path}: {where}: \"compareStderr\" must be true or false"));
            double caseTimeout = OptNumber(path, where, c, "timeoutSeconds") ?? timeout;
            list.Add(new RegressCase(caseName, command, caseEnv, files, outputs, stdin, filter, compareStderr, caseTimeout));
        }
        return new Manifest(name, dir, list);
    }

    static OutputFilter FilterOf(string path, string where, JsonElement f)
    {
        if (f.ValueKind != JsonValueKind.Object) throw new ManifestException($"{path}: {where}: \"filter\" must be an object");
        Known(path, $"{where} filter", f, "dropLines", "replace", "sortLines");
        var drop = f.TryGetProperty("dropLines", out var d) ? Strings(path, where, "filter.dropLines", d).ToList() : [];
        var replace = new List<(string, string)>();
        if (f.TryGetProperty("replace", out var r))
        {
            if (r.ValueKind != JsonValueKind.Array) throw new ManifestException($"{path}: {where}: \"filter.replace\" must be an array of {{\"pattern\", \"with\"}}");
            foreach (var item in r.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) throw new ManifestException($"{path}: {where}: \"filter.replace\" entries must be objects");
                string pattern = OptString(path, where, item, "pattern") ?? throw new ManifestException($"{path}: {where}: a replace entry has no \"pattern\"");
                replace.Add((pattern, OptString(path, where, item, "with") ?? ""));
            }
        }
        bool sort = f.TryGetProperty("sortLines", out var s) && s.ValueKind == JsonValueKind.True;
        try { return new OutputFilter(drop, replace, sort); }
        catch (ArgumentException e) { throw new ManifestException($"{path}: {where}: bad regular expression in \"filter\": {e.Message}"); }
    }

    /// <summary>Rejects misspelt keys: a silently ignored "filtre" would make a case pass for the wrong reason.</summary>
    static void Known(string path, string where, JsonElement e, params string[] keys)
    {
        foreach (var p in e.EnumerateObject())
            if (!keys.Contains(p.Name)) throw new ManifestException($"{path}: {where}: unknown key \"{p.Name}\" (known: {string.Join(", ", keys)})");
    }

    static Dictionary<string, string> Env(string path, string where, JsonElement e, Dictionary<string, string> vars)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!e.TryGetProperty("env", out var v)) return env;
        if (v.ValueKind != JsonValueKind.Object) throw new ManifestException($"{path}: {where}: \"env\" must be an object of strings");
        foreach (var p in v.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw new ManifestException($"{path}: {where}: env \"{p.Name}\" must be a string");
            env[p.Name] = Expand(p.Value.GetString()!, vars);
        }
        return env;
    }

    static IEnumerable<string> Strings(string path, string where, string key, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array) throw new ManifestException($"{path}: {where}: \"{key}\" must be an array of strings");
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw new ManifestException($"{path}: {where}: \"{key}\" must contain only strings");
            yield return item.GetString()!;
        }
    }

    static string? OptString(string path, string where, JsonElement e, string key)
    {
        if (!e.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw new ManifestException($"{path}: {where}: \"{key}\" must be a string");
        return v.GetString();
    }

    static double? OptNumber(string path, string where, JsonElement e, string key)
    {
        if (!e.TryGetProperty(key, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || v.GetDouble() <= 0) throw new ManifestException($"{path}: {where}: \"{key}\" must be a positive number");
        return v.GetDouble();
    }

    static string Expand(string s, Dictionary<string, string> vars)
    {
        foreach (var (k, v) in vars) s = s.Replace("{" + k + "}", v, StringComparison.Ordinal);
        return s;
    }
}

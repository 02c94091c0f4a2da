namespace LegoEmu.Cluster.Regress;

/// <summary>A machine configuration the emulated runs use.</summary>
public enum RegressConfig
{
    /// <summary>One processor component with the in-process memory component and the default 1 GiB ExCache.</summary>
    Embedded,
    /// <summary>Memory-node processes with the ExCache at a fraction (25 %) of the case's measured footprint.</summary>
    Remote,
    /// <summary>Two processor components (the guest's threads spread over both, caches coherent) over the memory nodes.</summary>
    Split,
}

/// <summary>Parsing of the --config list.</summary>
public static class RegressConfigs
{
    public static bool TryParse(string text, out List<RegressConfig> configs, out string error)
    {
        configs = [];
        error = "";
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            RegressConfig? c = part switch { "embedded" => RegressConfig.Embedded, "remote" => RegressConfig.Remote, "split" => RegressConfig.Split, _ => null };
            if (c == null)
            {
                error = $"unknown --config '{part}' (embedded, remote or split)";
                return false;
            }
            if (!configs.Contains(c.Value)) configs.Add(c.Value);
        }
        if (configs.Count == 0) error = "--config needs at least one of embedded, remote, split";
        return configs.Count > 0;
    }

    public static string Name(RegressConfig c) => c.ToString().ToLowerInvariant();
}

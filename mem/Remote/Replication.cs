namespace LegoEmu.Mem.Remote;

/// <summary>
/// How many memory nodes hold each vRegion (<c>run --replicas</c>): 1, or 2 for a primary and a backup.
/// Components started for the run (forked processes, thread hosts) learn it from <see cref="Variable"/>.
/// </summary>
public static class Replication
{
    public const string Variable = "LEGOEMU_REPLICAS";

    /// <summary>The most copies a vRegion can have.</summary>
    public const int MaxFactor = 2;

    static int? _factor;

    public static int Factor
    {
        get => _factor ??= Environment.GetEnvironmentVariable(Variable) is { } text && int.TryParse(text, out int f) && f is >= 1 and <= MaxFactor ? f : 1;
        set => _factor = value;
    }
}

/// <summary>
/// Where a vRegion lives, packed in one int so the tables handed to forked children and thread hosts keep their
/// shape: the primary node in the low 16 bits, the backup plus one above (0: no backup). Without replication a
/// placement is just the owner's index.
/// </summary>
public static class Placement
{
    public static int Pack(int primary, int backup) => primary | ((backup + 1) << 16);

    public static int Primary(int placement) => placement < 0 ? -1 : placement & 0xFFFF;

    public static int Backup(int placement) => placement < 0 ? -1 : (placement >> 16) - 1;
}

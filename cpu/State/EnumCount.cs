namespace LegoEmu.Cpu.State;

/// <summary>The size of a table indexed by an enum's values.</summary>
public static class EnumCount
{
    /// <summary>
    /// One more than the largest value of an int-based enum. Not Enum.GetValues&lt;T&gt;().Max(): its generic
    /// and LINQ code is not precompiled, and every process start would JIT it for each table.
    /// </summary>
    public static int Of(Type enumType)
    {
        int max = -1;
        foreach (int v in (int[])Enum.GetValuesAsUnderlyingType(enumType)) max = Math.Max(max, v);
        return max + 1;
    }
}

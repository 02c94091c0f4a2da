using System.Globalization;

namespace LegoEmu.Cluster.Trace;

/// <summary>Number formatting shared by the text and HTML reports.</summary>
public static class ReportFormat
{
    /// <summary>Bytes in powers of 1024 with one decimal: "4.0 MB", "310 MB", "512 B".</summary>
    public static string Bytes(double b)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        int u = 0;
        while (Math.Abs(b) >= 1024 && u < units.Length - 1) { b /= 1024; u++; }
        string n = u == 0 || b >= 100 ? b.ToString("F0", CultureInfo.InvariantCulture) : b.ToString("F1", CultureInfo.InvariantCulture);
        return $"{n} {units[u]}";
    }

    public static string Percent(double share) => (share * 100).ToString(share * 100 < 10 ? "F2" : "F1", CultureInfo.InvariantCulture) + " %";
}

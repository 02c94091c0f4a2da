using System.Diagnostics;

namespace LegoEmu.Cluster.Nodes;

/// <summary>Starts another `legoemu` process the same way this one was started (apphost or `dotnet legoemu.dll`).</summary>
public static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var (file, prefix) = Command();
        var psi = new ProcessStartInfo { FileName = file, UseShellExecute = false };
        foreach (var a in prefix) psi.ArgumentList.Add(a);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>The executable and the leading arguments that start another `legoemu`.</summary>
    public static (string File, string[] Prefix) Command()
    {
        string file = Environment.ProcessPath ?? "dotnet";
        // Under `dotnet legoemu.dll` the process path is the host; the child needs the same entry assembly.
        return Path.GetFileNameWithoutExtension(file) == "dotnet" ? (file, [typeof(SelfProcess).Assembly.Location]) : (file, []);
    }
}

using System.Diagnostics;

namespace LegoEmu.Cluster.Nodes;

/// <summary>Starts another `legoemu` process the same way this one was started (apphost or `dotnet legoemu.dll`).</summary>
public static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo { FileName = Environment.ProcessPath ?? "dotnet", UseShellExecute = false };
        // Under `dotnet legoemu.dll` the process path is the host; the child needs the same entry assembly.
        if (Path.GetFileNameWithoutExtension(psi.FileName) == "dotnet") psi.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        return psi;
    }
}

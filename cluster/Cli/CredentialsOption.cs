using System.CommandLine;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>--credentials DIR</c>, taken by every verb that connects to components or listens for them.</summary>
public static class CredentialsOption
{
    public static Option<string?> Create() => new("--credentials")
    {
        Description = $"Authenticate every component connection with the cluster key in DIR (made by 'legoemu cluster init DIR'); {Credentials.Variable} in the environment does the same",
        HelpName = "DIR",
    };

    /// <summary>Takes the key from the option, else from the environment; false (after one line on stderr) when it cannot be used.</summary>
    public static bool Apply(string? dir, string verb)
    {
        try
        {
            if (dir != null) Credentials.Use(dir);
            else Credentials.UseEnvironment();
            return true;
        }
        catch (CredentialsException e)
        {
            Console.Error.WriteLine($"legoemu {verb}: {e.Message}");
            return false;
        }
    }
}

using Xunit;

namespace LegoEmu.Tests.Differential;

/// <summary>A guest compiled from C source held in a test (with gcc -static) into a private directory, removed on dispose.</summary>
public sealed class InlineGuest : IDisposable
{
    readonly string _dir;

    InlineGuest(string dir, string binary)
    {
        _dir = dir;
        Binary = binary;
    }

    public string Binary { get; }

    public static async Task<InlineGuest> BuildAsync(string name, string source)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"legoemu-{name}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        string src = Path.Combine(dir, name + ".c"), bin = Path.Combine(dir, name);
        File.WriteAllText(src, source);
        var gcc = await ProcessRunner.RunAsync("gcc", ["-static", "-O2", "-o", bin, src], TimeSpan.FromSeconds(120), null, null);
        var guest = new InlineGuest(dir, bin);
        if (gcc.ExitCode != 0)
        {
            guest.Dispose();
            Assert.Fail($"gcc failed for {name}.c: {gcc.StderrText}");
        }
        return guest;
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

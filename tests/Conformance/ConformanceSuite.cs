using System.Diagnostics;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// One conformance run per test run, shared by every test that reports on it: generating and
/// running the cases is the expensive part, and the per-group tests and the coverage table all
/// read the same results.
/// </summary>
public sealed class ConformanceSuite
{
    /// <summary>Cases per form in the normal test run: edge cases and random ones, thousands in total.</summary>
    public const int DefaultCasesPerForm = 64;
    /// <summary>Cases per executable: large enough to amortise process start-up, small enough to spread over cores.</summary>
    const int MaxBatch = 2000;

    static readonly Lazy<Task<ConformanceSuite>> Shared = new(RunAsync);

    public static Task<ConformanceSuite> Instance => Shared.Value;

    public required IReadOnlyList<CatalogEntry> Catalog { get; init; }
    public required ConformanceRunner Runner { get; init; }
    public required int CasesPerForm { get; init; }
    public required TimeSpan Elapsed { get; init; }

    /// <summary>LEGOEMU_CONFORMANCE_CASES=N runs N cases per form instead of the default, for long runs.</summary>
    public static int CasesPerFormFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("LEGOEMU_CONFORMANCE_CASES");
        return int.TryParse(text, out int n) && n > 0 ? n : DefaultCasesPerForm;
    }

    static async Task<ConformanceSuite> RunAsync()
    {
        var clock = Stopwatch.StartNew();
        var catalog = FormCatalog.All;
        // LEGOEMU_CONFORMANCE_FILTER=text runs only the forms whose name contains the text (case-insensitive).
        var filter = Environment.GetEnvironmentVariable("LEGOEMU_CONFORMANCE_FILTER");
        var forms = catalog.Where(e => e.Status == FormStatus.Tested)
            .Where(e => string.IsNullOrEmpty(filter) || e.Form.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))
            .Select(e => e.Form).ToList();
        int perForm = CasesPerFormFromEnvironment();
        int parallelism = Math.Max(1, Environment.ProcessorCount);
        long total = (long)forms.Count * perForm;
        int batch = (int)Math.Clamp(total / (parallelism * 4), 200, MaxBatch);
        var root = Path.Combine(AppContext.BaseDirectory, "conformance");
        RemoveStaleRuns(root);
        var runner = new ConformanceRunner(Path.Combine(root, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await runner.RunAsync(forms, perForm, batch, parallelism);
        return new ConformanceSuite { Catalog = catalog, Runner = runner, CasesPerForm = perForm, Elapsed = clock.Elapsed };
    }

    /// <summary>
    /// Failing runs keep a few executables for reproduction, in a directory named after the test
    /// process; those of processes that have exited go. Others may be a test run still in progress.
    /// </summary>
    static void RemoveStaleRuns(string root)
    {
        if (!Directory.Exists(root)) return;
        foreach (var dir in new DirectoryInfo(root).GetDirectories())
        {
            if (!int.TryParse(dir.Name, out int pid) || Directory.Exists($"/proc/{pid}")) continue;
            try
            {
                dir.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}

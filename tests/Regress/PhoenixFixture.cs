using LegoEmu.Cluster.Regress;
using Xunit;

namespace LegoEmu.Tests.Regress;

/// <summary>
/// Builds the Phoenix-style suite and generates its inputs once per test run, in the test output
/// directory, through the same code `legoemu regress --suite phoenix` uses; the regress runs in the
/// tests reuse them through --work. LEGOEMU_PHOENIX_SIZE=medium|large selects the bigger inputs.
/// </summary>
public sealed class PhoenixFixture
{
    public static readonly string WorkDirectory = Path.Combine(AppContext.BaseDirectory, "phoenix-work");

    public static string Size
    {
        get
        {
            var s = Environment.GetEnvironmentVariable("LEGOEMU_PHOENIX_SIZE");
            return string.IsNullOrEmpty(s) ? "small" : s;
        }
    }

    private readonly Lazy<Manifest> _manifest = new(() =>
    {
        Assert.True(PhoenixSuite.Sizes.Contains(Size), $"LEGOEMU_PHOENIX_SIZE must be small, medium or large (got '{Size}')");
        return PhoenixSuite.Prepare(Size, WorkDirectory, TextWriter.Null);
    });

    /// <summary>The suite with {bin} and {inputs} resolved; preparing it fails the test with gcc's or the generator's message.</summary>
    public Manifest Manifest
    {
        get
        {
            try { return _manifest.Value; }
            catch (SuitePreparationException e)
            {
                Assert.Fail($"Preparing the Phoenix suite failed: {e.Message}");
                throw;
            }
        }
    }
}

/// <summary>Tests that build or run the Phoenix suite share one fixture and never run at the same time (one build directory).</summary>
[CollectionDefinition(Name)]
public sealed class PhoenixCollection : ICollectionFixture<PhoenixFixture>
{
    public const string Name = "Phoenix suite";
}

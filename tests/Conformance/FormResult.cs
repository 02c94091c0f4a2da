namespace LegoEmu.Tests.Conformance;

/// <summary>What happened to one form: how many cases ran and the first few mismatches in full.</summary>
public sealed class FormResult(Form form)
{
    public Form Form { get; } = form;
    public int CasesRun;
    public int Mismatches;
    /// <summary>Cases skipped because LegoEmu has no handler for what they decode to (hint NOPs of a form, say).</summary>
    public int NotImplementedCases;
    public readonly SortedSet<string> NotImplementedMnemonics = new(StringComparer.Ordinal);
    public readonly List<string> Examples = new();
    public const int MaxExamples = 3;

    public void Fail(string message)
    {
        lock (this)
        {
            Mismatches++;
            if (Examples.Count < MaxExamples) Examples.Add(message);
        }
    }
}

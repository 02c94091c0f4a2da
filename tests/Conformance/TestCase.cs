using Iced.Intel;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// One instruction form the harness can exercise: an Iced <see cref="Code"/> with its r/m operand as
/// a register or as memory, or a short sequence (see <see cref="FlagSequences"/>).
/// </summary>
public sealed class Form
{
    public required string Name { get; init; }
    public required Mnemonic Mnemonic { get; init; }
    /// <summary>Coverage-table group: Integer, x87, SSE, SSE2, ...</summary>
    public required string Group { get; init; }
    public Code Code { get; init; }
    /// <summary>True when the r/m (or xmm/m) operand is memory in this form.</summary>
    public bool MemoryVariant { get; init; }
    /// <summary>Set for sequence forms, which build their own instructions.</summary>
    public Func<Form, Random, int, TestCase>? Custom { get; init; }

    public override string ToString() => Name;
}

/// <summary>One generated case: the instructions under test and the complete input state.</summary>
public sealed class TestCase
{
    public required Form Form { get; init; }
    /// <summary>Index of the case within its form; with the form's seed it reproduces the case.</summary>
    public required int Index { get; init; }
    /// <summary>What LegoEmu runs.</summary>
    public required Instruction[] Instructions { get; init; }
    /// <summary>
    /// What the host runs as the reference: the same instructions for the generated forms (LegoEmu runs them
    /// at <c>--cpu v3</c>, a level the host has); sequence forms may differ.
    /// </summary>
    public required Instruction[] NativeInstructions { get; init; }
    /// <summary>A full <see cref="StateLayout"/> record (the stub address is filled in by <see cref="TestProgram"/>).</summary>
    public required byte[] Input { get; init; }
}

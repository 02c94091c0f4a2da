using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>A form for which no valid case could be built (an unsupported operand kind, say).</summary>
public sealed class CaseGenerationException(string message) : Exception(message);

/// <summary>Thrown by a constraint when the random choices so far cannot satisfy it: the generator starts over.</summary>
sealed class RetryCase : Exception;

/// <summary>
/// Builds reproducible cases for a form: case <c>i</c> of form <c>F</c> is always the same, whatever
/// the batch or the total count. Operands are chosen from the form's Iced operand kinds, so any form
/// made of GPRs, XMM registers, x87 registers, memory and immediates is generated without
/// per-instruction code; <see cref="CaseConstraints"/> adds the semantics that keep a case valid.
/// </summary>
public static class CaseGenerator
{
    public const int Seed = 0x4c45_474f; // "LEGO"

    public static int SeedOf(string formName, int index)
    {
        uint h = 2166136261;
        foreach (char ch in formName) h = (h ^ ch) * 16777619;
        return (int)(h ^ (uint)Seed ^ ((uint)index * 0x9e37_79b9u));
    }

    public static TestCase Generate(Form form, int index)
    {
        var rng = new Random(SeedOf(form.Name, index));
        if (form.Custom is not null) return form.Custom(form, rng, index);
        string? lastError = null;
        for (int attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                var builder = new CaseBuilder(form, rng);
                var ins = builder.Build(out lastError);
                if (ins is null) continue;
                var instructions = new[] { ins.Value };
                return new TestCase
                {
                    Form = form,
                    Index = index,
                    Instructions = instructions,
                    NativeInstructions = instructions,
                    Input = builder.State.Record,
                };
            }
            catch (RetryCase)
            {
            }
        }
        throw new CaseGenerationException($"no valid {form.Name} case could be built: {lastError ?? "constraints never satisfied"}");
    }

    /// <summary>Encodes with Iced's encoder (which rejects invalid operand combinations); null when valid, else why not.</summary>
    public static string? CheckEncoding(Instruction[] instructions, out byte[] bytes)
    {
        var writer = new ByteWriter();
        var encoder = Encoder.Create(64, writer);
        foreach (var ins in instructions)
        {
            if (!encoder.TryEncode(ins, CodeBase, out _, out var error))
            {
                bytes = [];
                return error;
            }
        }
        bytes = writer.Bytes.ToArray();
        return null;
    }

    public sealed class ByteWriter : CodeWriter
    {
        public readonly List<byte> Bytes = new();
        public override void WriteByte(byte value) => Bytes.Add(value);
    }
}

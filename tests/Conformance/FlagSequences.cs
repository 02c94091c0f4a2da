using Iced.Intel;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Short sequences that read flags right after they are produced: LegoEmu computes flags lazily
/// from the last flag-setting operation, and evaluates conditions directly from a CMP's or TEST's
/// operands, so a producer followed by a consumer exercises paths a single instruction cannot.
/// A partial flag updater (INC, DEC, CLC, STC, CMC, ROL/ROR by an immediate, two rotates in a row) sometimes
/// sits in between; IMUL, whose CF/OF translated code works out only where they are read, is a producer too.
/// </summary>
public static class FlagSequences
{
    static readonly Mnemonic[] Producers =
    [
        Mnemonic.Add, Mnemonic.Adc, Mnemonic.Sub, Mnemonic.Sbb, Mnemonic.Cmp, Mnemonic.And, Mnemonic.Or, Mnemonic.Xor,
        Mnemonic.Test, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Imul,
    ];

    static readonly Code[] SetCc =
    [
        Code.Seto_rm8, Code.Setno_rm8, Code.Setb_rm8, Code.Setae_rm8, Code.Sete_rm8, Code.Setne_rm8, Code.Setbe_rm8, Code.Seta_rm8,
        Code.Sets_rm8, Code.Setns_rm8, Code.Setp_rm8, Code.Setnp_rm8, Code.Setl_rm8, Code.Setge_rm8, Code.Setle_rm8, Code.Setg_rm8,
    ];

    static readonly Code[] CmovCc64 =
    [
        Code.Cmovo_r64_rm64, Code.Cmovno_r64_rm64, Code.Cmovb_r64_rm64, Code.Cmovae_r64_rm64, Code.Cmove_r64_rm64, Code.Cmovne_r64_rm64,
        Code.Cmovbe_r64_rm64, Code.Cmova_r64_rm64, Code.Cmovs_r64_rm64, Code.Cmovns_r64_rm64, Code.Cmovp_r64_rm64, Code.Cmovnp_r64_rm64,
        Code.Cmovl_r64_rm64, Code.Cmovge_r64_rm64, Code.Cmovle_r64_rm64, Code.Cmovg_r64_rm64,
    ];

    public static IEnumerable<Form> All()
    {
        foreach (var p in Producers)
        {
            foreach (int bits in new[] { 8, 16, 32, 64 })
            {
                if (p == Mnemonic.Imul && bits == 8) continue; // no two-operand form
                string name = $"flags: {p.ToString().ToUpperInvariant()} r{bits} then a flag reader";
                yield return new Form { Name = name, Mnemonic = p, Group = "Flags", Custom = (form, r, i) => Build(form, p, bits, r, i) };
            }
        }
    }

    static Code ProducerCode(Mnemonic m, int bits)
    {
        string w = bits.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string name = m switch
        {
            Mnemonic.Inc or Mnemonic.Dec or Mnemonic.Neg => $"{m}_rm{w}",
            Mnemonic.Imul => $"Imul_r{w}_rm{w}",
            _ => $"{m}_rm{w}_r{w}",
        };
        return Enum.Parse<Code>(name);
    }

    static Register Gpr(Random r, int bits)
    {
        int i;
        do i = r.Next(16); while (i == StateLayout.Rsp);
        return bits switch
        {
            64 => Register.RAX + i,
            32 => Register.EAX + i,
            16 => Register.AX + i,
            _ => i < 4 ? Register.AL + i : Register.SPL + (i - 4),
        };
    }

    static TestCase Build(Form form, Mnemonic producer, int bits, Random r, int index)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            var s = new CaseState(r, Lanes.Mixed);
            var code = ProducerCode(producer, bits);
            var a = Gpr(r, bits);
            var b = Gpr(r, bits);
            s.Set(a, ValuePools.Int(r, bits));
            s.Set(b, r.Next(5) == 0 ? s.Get(a) : ValuePools.Int(r, bits));
            var list = new List<Instruction>
            {
                code.ToOpCode().OpCount == 1 ? Instruction.Create(code, a) : Instruction.Create(code, a, b),
            };
            if (r.Next(5) < 2)
            {
                var mid = Gpr(r, 32);
                var mid64 = Gpr(r, 64);
                list.Add(r.Next(8) switch
                {
                    0 => Instruction.Create(Code.Inc_rm32, mid),
                    1 => Instruction.Create(Code.Dec_rm32, mid),
                    2 => Instruction.Create(Code.Clc),
                    3 => Instruction.Create(Code.Stc),
                    4 => Instruction.Create(Code.Cmc),
                    5 => Instruction.Create(Code.Rol_rm32_1, mid, 1),
                    6 => Instruction.Create(Code.Ror_rm32_imm8, mid, 1 + r.Next(31)),
                    _ => Instruction.Create(Code.Rol_rm64_imm8, mid64, 1 + r.Next(63)),
                });
                // Sometimes a second rotate: it replaces the first's CF and OF and keeps the producer's others.
                if (r.Next(3) == 0)
                    list.Add(r.Next(2) == 0 ? Instruction.Create(Code.Ror_rm64_imm8, Gpr(r, 64), 1 + r.Next(63))
                        : Instruction.Create(Code.Rol_rm32_imm8, Gpr(r, 32), 1 + r.Next(31)));
            }
            var d = Gpr(r, 64);
            var src = Gpr(r, 64);
            list.Add(r.Next(6) switch
            {
                0 or 1 or 2 => Instruction.Create(SetCc[r.Next(16)], Gpr(r, 8)),
                3 => Instruction.Create(CmovCc64[r.Next(16)], d, src),
                4 => Instruction.Create(r.Next(2) == 0 ? Code.Adc_rm64_r64 : Code.Sbb_rm64_r64, d, src),
                _ => Instruction.Create(Code.Lahf),
            });
            // A reader of a flag the producer left undefined has no reference result: draw again.
            if (UndefinedMask.ReadsUndefinedFlag(list, s.Record)) continue;
            if (CaseGenerator.CheckEncoding(list.ToArray(), out _) is not null) continue;
            var instructions = list.ToArray();
            return new TestCase { Form = form, Index = index, Instructions = instructions, NativeInstructions = instructions, Input = s.Record };
        }
        throw new CaseGenerationException($"no valid sequence for {form.Name}");
    }
}

using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Forms whose memory operands are implicit (RSI, RDI, RBX+AL): string instructions with and without
/// REP prefixes, in both directions and with 32-bit addresses, XLATB, MASKMOVQ, MASKMOVDQU and VMASKMOVDQU. Pointers start near the anchor and
/// counts stay small, so every access stays inside the memory area whichever way DF points.
/// </summary>
public static class StringForms
{
    const int MaxCount = 12;

    public static IEnumerable<Form> All()
    {
        (string Name, Mnemonic M, int Size, Func<int, RepPrefixKind, Instruction> Make)[] ops =
        [
            ("MOVSB", Mnemonic.Movsb, 1, (a, rep) => Instruction.CreateMovsb(a, Register.None, rep)),
            ("MOVSW", Mnemonic.Movsw, 2, (a, rep) => Instruction.CreateMovsw(a, Register.None, rep)),
            ("MOVSD", Mnemonic.Movsd, 4, (a, rep) => Instruction.CreateMovsd(a, Register.None, rep)),
            ("MOVSQ", Mnemonic.Movsq, 8, (a, rep) => Instruction.CreateMovsq(a, Register.None, rep)),
            ("STOSB", Mnemonic.Stosb, 1, (a, rep) => Instruction.CreateStosb(a, rep)),
            ("STOSW", Mnemonic.Stosw, 2, (a, rep) => Instruction.CreateStosw(a, rep)),
            ("STOSD", Mnemonic.Stosd, 4, (a, rep) => Instruction.CreateStosd(a, rep)),
            ("STOSQ", Mnemonic.Stosq, 8, (a, rep) => Instruction.CreateStosq(a, rep)),
            ("LODSB", Mnemonic.Lodsb, 1, (a, rep) => Instruction.CreateLodsb(a, Register.None, rep)),
            ("LODSW", Mnemonic.Lodsw, 2, (a, rep) => Instruction.CreateLodsw(a, Register.None, rep)),
            ("LODSD", Mnemonic.Lodsd, 4, (a, rep) => Instruction.CreateLodsd(a, Register.None, rep)),
            ("LODSQ", Mnemonic.Lodsq, 8, (a, rep) => Instruction.CreateLodsq(a, Register.None, rep)),
            ("SCASB", Mnemonic.Scasb, 1, (a, rep) => Instruction.CreateScasb(a, rep)),
            ("SCASW", Mnemonic.Scasw, 2, (a, rep) => Instruction.CreateScasw(a, rep)),
            ("SCASD", Mnemonic.Scasd, 4, (a, rep) => Instruction.CreateScasd(a, rep)),
            ("SCASQ", Mnemonic.Scasq, 8, (a, rep) => Instruction.CreateScasq(a, rep)),
            ("CMPSB", Mnemonic.Cmpsb, 1, (a, rep) => Instruction.CreateCmpsb(a, Register.None, rep)),
            ("CMPSW", Mnemonic.Cmpsw, 2, (a, rep) => Instruction.CreateCmpsw(a, Register.None, rep)),
            ("CMPSD", Mnemonic.Cmpsd, 4, (a, rep) => Instruction.CreateCmpsd(a, Register.None, rep)),
            ("CMPSQ", Mnemonic.Cmpsq, 8, (a, rep) => Instruction.CreateCmpsq(a, Register.None, rep)),
        ];
        foreach (var (name, m, size, make) in ops)
        {
            bool compares = name.StartsWith("SCAS", StringComparison.Ordinal) || name.StartsWith("CMPS", StringComparison.Ordinal);
            RepPrefixKind[] reps = compares ? [RepPrefixKind.None, RepPrefixKind.Repe, RepPrefixKind.Repne] : [RepPrefixKind.None, RepPrefixKind.Repe];
            // With an address-size prefix (ADDR32) the pointers are ESI/EDI and the count ECX.
            foreach (int addressSize in new[] { 64, 32 })
            foreach (var rep in reps)
            {
                string prefix = (addressSize == 32 ? "ADDR32 " : "") +
                                rep switch { RepPrefixKind.None => "", RepPrefixKind.Repe => compares ? "REPE " : "REP ", _ => "REPNE " };
                yield return new Form
                {
                    Name = $"{prefix}{name}", Mnemonic = m, Group = "Integer", Code = make(64, RepPrefixKind.None).Code,
                    Custom = (form, r, i) => StringCase(form, make(addressSize, rep), size, rep != RepPrefixKind.None, compares, r, i),
                };
            }
        }
        yield return new Form { Name = "XLATB", Mnemonic = Mnemonic.Xlatb, Group = "Integer", Code = Code.Xlat_m8, Custom = Xlat };
        yield return new Form
        {
            Name = "MASKMOVDQU xmm1, xmm2", Mnemonic = Mnemonic.Maskmovdqu, Group = "SSE2", Code = Code.Maskmovdqu_rDI_xmm_xmm, Custom = Maskmovdqu,
        };
        yield return new Form
        {
            Name = "VMASKMOVDQU xmm1, xmm2", Mnemonic = Mnemonic.Vmaskmovdqu, Group = "AVX", Code = Code.VEX_Vmaskmovdqu_rDI_xmm_xmm, Custom = Vmaskmovdqu,
        };
        yield return new Form
        {
            Name = "MASKMOVQ mm1, mm2", Mnemonic = Mnemonic.Maskmovq, Group = "SSE", Code = Code.Maskmovq_rDI_mm_mm, Custom = Maskmovq,
        };
    }

    static TestCase StringCase(Form form, Instruction ins, int size, bool rep, bool compares, Random r, int index)
    {
        var s = new CaseState(r, Lanes.Int8);
        if (r.Next(3) == 0) s.Flags |= 1UL << 10; // DF: the only instructions here that read it
        ulong rsi = (ulong)((long)Anchor + r.Next(-32, 33));
        ulong rdi = (ulong)((long)Anchor + r.Next(-32, 33));
        if (r.Next(2) == 0) { rsi &= ~(ulong)(size - 1); rdi &= ~(ulong)(size - 1); }
        s.SetFull(6, rsi);
        s.SetFull(7, rdi);
        int count = r.Next(MaxCount + 1);
        // Without REP, RCX is just another register and keeps its random value.
        if (rep) s.SetFull(1, r.Next(5) == 0 ? 0 : (ulong)count);
        if (compares)
        {
            // Runs of equal elements, so REPE/REPNE stop at different points.
            bool down = (s.Flags & (1UL << 10)) != 0;
            int equal = r.Next(MaxCount + 1);
            for (int k = 0; k < equal; k++)
            {
                long step = (down ? -k : k) * size;
                var src = s.MemSpan((ulong)((long)rsi + step), size);
                var dst = s.MemSpan((ulong)((long)rdi + step), size);
                if (r.Next(3) != 0) src.CopyTo(dst);
            }
            if (r.Next(2) == 0) s.Set(size switch { 1 => Register.AL, 2 => Register.AX, 4 => Register.EAX, _ => Register.RAX }, s.GetMem(rdi, size));
        }
        if (ins.Op0Kind is OpKind.MemoryESEDI or OpKind.MemorySegESI || ins.Op1Kind is OpKind.MemoryESEDI or OpKind.MemorySegESI)
        {
            // ADDR32: the upper halves of RSI, RDI and RCX must be ignored, and cleared wherever the instruction writes them.
            s.SetFull(6, rsi | (ulong)(uint)r.Next() << 32);
            s.SetFull(7, rdi | (ulong)(uint)r.Next() << 32);
            if (rep) s.SetFull(1, (uint)s.GetFull(1) | (ulong)(uint)r.Next() << 32);
        }
        return Case(form, index, s, ins);
    }

    static TestCase Xlat(Form form, Random r, int index)
    {
        var s = new CaseState(r, Lanes.Int8);
        s.SetFull(3, MemArea); // RBX + AL (0..255) stays inside the 256-byte area
        return Case(form, index, s, Instruction.Create(Code.Xlat_m8, new MemoryOperand(Register.RBX, Register.AL)));
    }

    static TestCase Maskmovdqu(Form form, Random r, int index)
    {
        var s = new CaseState(r, r.Next(2) == 0 ? Lanes.Int8 : Lanes.Mixed);
        s.SetFull(7, (ulong)((long)Anchor + r.Next(-64, 49)));
        var ins = Instruction.CreateMaskmovdqu(64, Register.XMM0 + r.Next(16), Register.XMM0 + r.Next(16));
        return Case(form, index, s, ins);
    }

    static TestCase Vmaskmovdqu(Form form, Random r, int index)
    {
        var s = new CaseState(r, r.Next(2) == 0 ? Lanes.Int8 : Lanes.Mixed);
        s.SetFull(7, (ulong)((long)Anchor + r.Next(-64, 49)));
        var ins = Instruction.CreateVmaskmovdqu(64, Register.XMM0 + r.Next(16), Register.XMM0 + r.Next(16));
        return Case(form, index, s, ins);
    }

    static TestCase Maskmovq(Form form, Random r, int index)
    {
        var s = new CaseState(r, Lanes.Int8);
        s.SetFull(7, (ulong)((long)Anchor + r.Next(-64, 57)));
        var ins = Instruction.CreateMaskmovq(64, Register.MM0 + r.Next(8), Register.MM0 + r.Next(8));
        return Case(form, index, s, ins);
    }

    static TestCase Case(Form form, int index, CaseState s, Instruction ins) => new()
    {
        Form = form,
        Index = index,
        Instructions = [ins],
        NativeInstructions = [ins],
        Input = s.Record,
    };
}

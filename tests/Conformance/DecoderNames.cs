using Iced.Intel;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// The documented differences between Iced (LegoEmu's decoder) and Capstone 4 (the cross-check):
/// naming differences for the same instruction, and instruction groups Capstone 4 does not know.
/// Anything not listed here that differs is a failure.
/// </summary>
public static class DecoderNames
{
    /// <summary>Prefixes Capstone folds into its mnemonic text; Iced reports them separately.</summary>
    static readonly string[] CapstonePrefixes = ["lock ", "rep ", "repe ", "repz ", "repne ", "repnz ", "bnd ", "notrack ", "xacquire ", "xrelease "];

    /// <summary>(Iced mnemonic, Capstone mnemonic): the same instruction under two names.</summary>
    static readonly Dictionary<(string Iced, string Capstone), string> SameInstruction = new()
    {
        [("xchg", "nop")] = "66 90: Iced names it XCHG AX,AX, Capstone NOP",
        [("mov", "movabs")] = "MOV with imm64 or moffs: Capstone uses the AT&T name MOVABS",
        [("fwait", "wait")] = "9B",
        [("fnsetpm", "fsetpm")] = "287 no-op",
        [("fneni", "feni8087_nop")] = "8087 no-op",
        [("fndisi", "fdisi8087_nop")] = "8087 no-op",
        [("shl", "sal")] = "the /6 alias of SHL (C0/C1/D0-D3 /6): Iced prints SHL, Capstone SAL",
        [("xlat", "xlatb")] = "D7",
        [("pcmpestri64", "pcmpestri")] = "REX.W form: Iced adds 64 to the name",
        [("pcmpestrm64", "pcmpestrm")] = "REX.W form: Iced adds 64 to the name",
        [("pcmpistri64", "pcmpistri")] = "REX.W form: Iced adds 64 to the name",
        [("pcmpistrm64", "pcmpistrm")] = "REX.W form: Iced adds 64 to the name",
        [("pclmullqlqdq", "pclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("pclmulhqlqdq", "pclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("pclmullqhqdq", "pclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("pclmulhqhqdq", "pclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("vpcmpestri64", "vpcmpestri")] = "VEX.W1 form: Iced adds 64 to the name",
        [("vpcmpestrm64", "vpcmpestrm")] = "VEX.W1 form: Iced adds 64 to the name",
        [("vcvtpd2ps", "vcvtpd2psx")] = "m128 source: Capstone adds the AT&T size suffix",
        [("vcvtpd2ps", "vcvtpd2psy")] = "m256 source: Capstone adds the AT&T size suffix",
        [("vcvtpd2dq", "vcvtpd2dqx")] = "m128 source: Capstone adds the AT&T size suffix",
        [("vcvtpd2dq", "vcvtpd2dqy")] = "m256 source: Capstone adds the AT&T size suffix",
        [("vcvttpd2dq", "vcvttpd2dqx")] = "m128 source: Capstone adds the AT&T size suffix",
        [("vcvttpd2dq", "vcvttpd2dqy")] = "m256 source: Capstone adds the AT&T size suffix",
        [("vpclmullqlqdq", "vpclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("vpclmulhqlqdq", "vpclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("vpclmullqhqdq", "vpclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("vpclmulhqhqdq", "vpclmulqdq")] = "Iced prints the immediate's pseudo-op",
        [("prefetchit0", "nop")] = "0F 18 /7: a newer prefetch to Iced, a hint NOP to Capstone 4",
        [("prefetchit1", "nop")] = "0F 18 /6: a newer prefetch to Iced, a hint NOP to Capstone 4",
        [("cldemote", "nop")] = "0F 1C /0: CLDEMOTE to Iced, a hint NOP to Capstone 4",
    };

    /// <summary>Name pairs that are only equivalent for particular opcodes.</summary>
    static readonly Dictionary<(string Iced, string Capstone), (Func<Instruction, bool> When, string Why)> SameForCode = new()
    {
        [("movq", "movd")] = (i => i.Code is Code.Movq_mm_rm64 or Code.Movq_rm64_mm, "REX.W 0F 6E/7E with an MMX register: Iced MOVQ, Capstone MOVD"),
    };

    public static bool Same(in Instruction ins, string iced, string capstone) =>
        iced == capstone || SameInstruction.ContainsKey((iced, capstone))
        || (SameForCode.TryGetValue((iced, capstone), out var rule) && rule.When(ins));

    public static string StripPrefixes(string mnemonic)
    {
        var m = mnemonic.Trim();
        bool stripped;
        do
        {
            stripped = false;
            foreach (var p in CapstonePrefixes)
            {
                if (m.StartsWith(p, StringComparison.Ordinal) && m.Length > p.Length)
                {
                    m = m[p.Length..];
                    stripped = true;
                }
            }
        } while (stripped);
        return m;
    }

    /// <summary>
    /// Why Capstone 4 cannot be compared on this instruction, or null. Only consulted when the two
    /// disagree, so anything Capstone does handle is still compared.
    /// </summary>
    public static string? CapstoneGap(in Instruction ins, ReadOnlySpan<byte> bytes)
    {
        if (ins.Encoding is EncodingKind.EVEX or EncodingKind.MVEX) return "AVX-512 (EVEX): Capstone 4 support is partial";
        if (ins.Mnemonic == Mnemonic.Vbroadcasti128) return "VBROADCASTI128 (VEX.256 0F38 5A): Capstone 4 cannot decode it";
        foreach (var f in ins.CpuidFeatures)
        {
            string name = f.ToString();
            if (name.StartsWith("AVX512", StringComparison.Ordinal)) return "AVX-512 opmask instructions";
            if (name.StartsWith("CET", StringComparison.Ordinal)) return "CET";
        }
        if (bytes.Length >= 2 && bytes.IndexOf((byte)0x0f) is int o && o >= 0 && o + 1 < bytes.Length)
        {
            byte op = bytes[o + 1];
            if (op == 0x0d || (op >= 0x18 && op <= 0x1f)) return "0F 0D and 0F 18-1F hint space (prefetch and reserved NOPs)";
        }
        if (ins.Mnemonic is Mnemonic.Lfence or Mnemonic.Mfence or Mnemonic.Sfence && ins.Code is not (Code.Lfence or Code.Mfence or Code.Sfence))
            return "LFENCE/MFENCE/SFENCE with a nonzero r/m field";
        if (ins.IsStringInstruction && (ins.HasRepPrefix || ins.HasRepnePrefix) && bytes.IndexOf((byte)0x66) is int p66 && p66 >= 0
            && p66 < Math.Max(bytes.IndexOf((byte)0xf3), bytes.IndexOf((byte)0xf2)))
            return "66 before REP on a string instruction: Capstone 4 ignores the operand-size prefix";
        return null;
    }
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Renders a case and a mismatch for a human: the instruction with its bytes, the inputs it
/// actually uses, and each differing register, flag or memory range, native against LegoEmu.
/// </summary>
public static class StateFormatter
{
    static readonly IntelFormatter Formatter = new();

    public static string Text(in Instruction ins)
    {
        var o = new StringOutput();
        lock (Formatter) Formatter.Format(ins, o);
        return o.ToString();
    }

    public static string Describe(TestCase c)
    {
        var s = new StringBuilder();
        CaseGenerator.CheckEncoding(c.Instructions, out var bytes);
        s.Append(string.Join("; ", c.Instructions.Select(i => Text(i))));
        s.Append("   (bytes ").Append(Convert.ToHexString(bytes).ToLowerInvariant()).Append(')');
        if (!c.NativeInstructions.SequenceEqual(c.Instructions))
            s.Append("   [host reference runs: ").Append(string.Join("; ", c.NativeInstructions.Select(i => Text(i)))).Append(']');
        return s.ToString();
    }

    /// <summary>The inputs the case's instructions read: used registers, flags, memory operand, x87 stack.</summary>
    public static string Inputs(TestCase c)
    {
        ReadOnlySpan<byte> r = c.Input;
        var s = new StringBuilder();
        var gprs = new SortedSet<int>();
        var xmms = new SortedSet<int>();
        var ymms = new SortedSet<int>();
        bool x87 = false;
        var factory = new InstructionInfoFactory();
        foreach (var ins in c.Instructions)
        {
            foreach (var u in factory.GetInfo(ins).GetUsedRegisters())
            {
                if (u.Register.IsGPR()) gprs.Add(u.Register.GetFullRegister() - Register.RAX);
                else if (u.Register.IsXMM()) xmms.Add(u.Register - Register.XMM0);
                else if (u.Register.IsYMM()) { xmms.Add(u.Register - Register.YMM0); ymms.Add(u.Register - Register.YMM0); }
                else if (u.Register is >= Register.ST0 and <= Register.ST7) x87 = true;
            }
            if (ins.Mnemonic.ToString().StartsWith('F')) x87 = true;
        }
        foreach (int g in gprs) s.Append($"{GprNames[g]}=0x{GetGpr(r, g):x16} ");
        s.Append($"RFLAGS=0x{GetFlags(r):x} [{UndefinedMask.FlagNames(GetFlags(r) & (CaseState.ArithFlags | UndefinedMask.DF))}]");
        foreach (int x in xmms) s.Append(ymms.Contains(x) ? $"\n    YMM{x}={Xmm128(YmmHighOf(r, x))}_{Xmm128(XmmOf(r, x))}" : $"\n    XMM{x}={Xmm128(XmmOf(r, x))}");
        foreach (var ins in c.Instructions)
        {
            if (ins.IsStringInstruction || ins.Mnemonic is Mnemonic.Xlatb or Mnemonic.Maskmovdqu or Mnemonic.Vmaskmovdqu or Mnemonic.Maskmovq)
            {
                // Implicit operands: show the bytes the pointers address (either direction for string ops).
                foreach (var (name, reg) in new[] { ("RSI", 6), ("RDI", 7), ("RBX", 3) })
                {
                    if (!gprs.Contains(reg)) continue;
                    ulong p = GetGpr(r, reg);
                    int o = MemOffset(p);
                    if (o < 0) continue;
                    int from = Math.Max(0, o - 32), to = Math.Min(MemSize, o + 32);
                    s.Append($"\n    mem[0x{MemArea + (ulong)from:x}..+{to - from}] around {name}={Hex(MemOf(r)[from..to])}");
                }
                continue;
            }
            if (ins.Mnemonic == Mnemonic.Lea) continue;
            for (int n = 0; n < ins.OpCount; n++)
            {
                if (ins.GetOpKind(n) != OpKind.Memory) continue;
                ulong ea = UndefinedMask.EffectiveAddress(ins, r);
                int size = Math.Max(1, ins.MemorySize.GetSize());
                int o = MemOffset(ea);
                if (o >= 0 && o + size <= MemSize)
                    s.Append($"\n    mem[0x{ea:x}..+{size}]={Hex(MemOf(r).Slice(o, size))}");
            }
        }
        if (x87)
        {
            int depth = GetDepth(r);
            s.Append($"\n    FCW=0x{GetFcw(r):x4} depth={depth}");
            for (int k = 0; k < depth; k++) s.Append($"\n    ST({k})={F80(StOf(r, k))}");
        }
        if (GetMxcsr(r) != CaseState.DefaultMxcsr) s.Append($"\n    MXCSR=0x{GetMxcsr(r):x}");
        return s.ToString();
    }

    /// <summary>Every field that differs after masking, one line each.</summary>
    public static string Differences(ReadOnlySpan<byte> native, ReadOnlySpan<byte> emulated)
    {
        var s = new StringBuilder();
        for (int g = 0; g < 16; g++)
        {
            if (GetGpr(native, g) != GetGpr(emulated, g))
                s.Append($"\n    {GprNames[g],-6} native 0x{GetGpr(native, g):x16}  legoemu 0x{GetGpr(emulated, g):x16}");
        }
        ulong fn = GetFlags(native), fe = GetFlags(emulated);
        if (fn != fe)
            s.Append($"\n    RFLAGS native 0x{fn:x} [{UndefinedMask.FlagNames(fn & 0xfd5)}]  legoemu 0x{fe:x} [{UndefinedMask.FlagNames(fe & 0xfd5)}]  (differ: {FlagBits(fn ^ fe)})");
        if (GetMxcsr(native) != GetMxcsr(emulated))
            s.Append($"\n    MXCSR  native 0x{GetMxcsr(native):x4}  legoemu 0x{GetMxcsr(emulated):x4}");
        if (GetFcw(native) != GetFcw(emulated))
            s.Append($"\n    FCW    native 0x{GetFcw(native):x4}  legoemu 0x{GetFcw(emulated):x4}");
        if (GetFsw(native) != GetFsw(emulated))
            s.Append($"\n    FSW    native 0x{GetFsw(native):x4} ({Fsw(GetFsw(native))})  legoemu 0x{GetFsw(emulated):x4} ({Fsw(GetFsw(emulated))})");
        for (int x = 0; x < 16; x++)
        {
            if (!XmmOf(native, x).SequenceEqual(XmmOf(emulated, x)))
                s.Append($"\n    XMM{x,-3} native {Xmm128(XmmOf(native, x))}  legoemu {Xmm128(XmmOf(emulated, x))}");
            if (!YmmHighOf(native, x).SequenceEqual(YmmHighOf(emulated, x)))
                s.Append($"\n    YMM{x,-3}[255:128] native {Xmm128(YmmHighOf(native, x))}  legoemu {Xmm128(YmmHighOf(emulated, x))}");
        }
        for (int k = 0; k < 8; k++)
        {
            if (!StOf(native, k).SequenceEqual(StOf(emulated, k)))
                s.Append($"\n    ST({k})  native {F80(StOf(native, k))}  legoemu {F80(StOf(emulated, k))}");
        }
        var mn = MemOf(native);
        var me = MemOf(emulated);
        for (int o = 0; o < MemSize;)
        {
            if (mn[o] == me[o]) { o++; continue; }
            int end = o;
            while (end < MemSize && (mn[end] != me[end] || (end + 1 < MemSize && mn[end + 1] != me[end + 1]))) end++;
            s.Append($"\n    mem[0x{MemArea + (ulong)o:x}..+{end - o}] native {Hex(mn[o..end])}  legoemu {Hex(me[o..end])}");
            o = end;
        }
        return s.ToString();
    }

    static string FlagBits(ulong diff)
    {
        var names = UndefinedMask.FlagNames(diff & 0xfd5);
        ulong other = diff & ~0xfd5UL;
        return other == 0 ? names : $"{names} +0x{other:x}";
    }

    static string Fsw(ushort sw)
    {
        var parts = new List<string> { $"TOP={(sw >> 11) & 7}" };
        string[] ex = ["IE", "DE", "ZE", "OE", "UE", "PE", "SF", "ES"];
        for (int b = 0; b < 8; b++) if ((sw & (1 << b)) != 0) parts.Add(ex[b]);
        if ((sw & 0x100) != 0) parts.Add("C0");
        if ((sw & 0x200) != 0) parts.Add("C1");
        if ((sw & 0x400) != 0) parts.Add("C2");
        if ((sw & 0x4000) != 0) parts.Add("C3");
        return string.Join(' ', parts);
    }

    public static string Hex(ReadOnlySpan<byte> b) => Convert.ToHexString(b).ToLowerInvariant();

    static string Xmm128(ReadOnlySpan<byte> x) =>
        $"{BinaryPrimitives.ReadUInt64LittleEndian(x[8..]):x16}_{BinaryPrimitives.ReadUInt64LittleEndian(x):x16}";

    /// <summary>Sign/exponent and significand in hex, with the value when it is an ordinary number.</summary>
    public static string F80(ReadOnlySpan<byte> v)
    {
        ulong m = BinaryPrimitives.ReadUInt64LittleEndian(v);
        ushort se = BinaryPrimitives.ReadUInt16LittleEndian(v[8..]);
        int e = se & 0x7fff;
        string value;
        if (e == 0x7fff) value = (m << 1) == 0 ? ((se & 0x8000) != 0 ? "-Inf" : "+Inf") : (m & (1UL << 62)) != 0 ? "QNaN" : "SNaN";
        else if (e == 0 && m == 0) value = (se & 0x8000) != 0 ? "-0" : "+0";
        else
        {
            // Significand as a fraction times a power of two, which any exponent fits; G17 when a double holds it.
            int p = (e == 0 ? 1 : e) - 16383;
            double frac = m / 9223372036854775808.0;
            string sign = (se & 0x8000) != 0 ? "-" : "";
            value = Math.Abs(p) < 1000
                ? sign + (frac * Math.Pow(2, p)).ToString("G17", CultureInfo.InvariantCulture)
                : $"{sign}{frac.ToString("G17", CultureInfo.InvariantCulture)}*2^{p}";
            if (e == 0) value += " denormal";
            else if ((m >> 63) == 0) value += " unnormal";
        }
        return $"{se:x4}:{m:x16} ({value})";
    }
}

using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;

namespace LegoEmu.Cpu.Interp;

/// <summary>Shifts and rotates: SHL SHR SAR ROL ROR RCL RCR SHLD SHRD, with count masking and their flag rules.</summary>
static unsafe class InstShift
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Shl, &Shl);
        HandlerTable.Set(Mnemonic.Sal, &Shl);
        HandlerTable.Set(Mnemonic.Shr, &Shr);
        HandlerTable.Set(Mnemonic.Sar, &Sar);
        HandlerTable.Set(Mnemonic.Rol, &Rol);
        HandlerTable.Set(Mnemonic.Ror, &Ror);
        HandlerTable.Set(Mnemonic.Rcl, &Rcl);
        HandlerTable.Set(Mnemonic.Rcr, &Rcr);
        HandlerTable.Set(Mnemonic.Shld, &Shld);
        HandlerTable.Set(Mnemonic.Shrd, &Shrd);
    }

    static int Count(CpuState c, ref Insn i, int n, int bits)
    {
        ulong raw = i.I.GetOpKind(n) == OpKind.Register ? GetReg(c, i.I.GetOpRegister(n)) : i.I.GetImmediate(n);
        return (int)(raw & (bits == 64 ? 63UL : 31UL));
    }

    static ulong Msb(ulong v, int bits) => (v >> (bits - 1)) & 1;

    static void Shl(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        ulong r = n >= 64 ? 0 : (a << n) & Mask(bits);
        ulong cf = n > bits ? 0 : (a >> (bits - n)) & 1;
        StoreDst(c, ref i, bits, ea, r);
        ulong of = Msb(r, bits) ^ cf;
        c.SetFlagsAux(bits, r, (cf != 0 ? Rf.CF : 0) | (of != 0 ? Rf.OF : 0));
    }

    static void Shr(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        ulong r = n >= 64 ? 0 : a >> n;
        ulong cf = n > bits ? 0 : (a >> (n - 1)) & 1;
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlagsAux(bits, r, (cf != 0 ? Rf.CF : 0) | (Msb(a, bits) != 0 ? Rf.OF : 0));
    }

    static void Sar(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        long sa = SignExtend(a, bits);
        ulong r = (ulong)(sa >> Math.Min(n, 63)) & Mask(bits);
        ulong cf = (ulong)(sa >> Math.Min(n - 1, 63)) & 1;
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlagsAux(bits, r, cf != 0 ? Rf.CF : 0);
    }

    /// <summary>Rotates change only CF and OF; the other arithmetic flags keep their values.</summary>
    static void SetCfOf(CpuState c, ulong cf, ulong of)
    {
        c.Materialize();
        c.RflagsBits = (c.RflagsBits & ~(Rf.CF | Rf.OF)) | (cf != 0 ? Rf.CF : 0) | (of != 0 ? Rf.OF : 0);
    }

    static void Rol(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        int k = n % bits;
        ulong r = k == 0 ? a : ((a << k) | (a >> (bits - k))) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        ulong cf = r & 1;
        SetCfOf(c, cf, Msb(r, bits) ^ cf);
    }

    static void Ror(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        int k = n % bits;
        ulong r = k == 0 ? a : ((a >> k) | (a << (bits - k))) & Mask(bits);
        StoreDst(c, ref i, bits, ea, r);
        SetCfOf(c, Msb(r, bits), Msb(r, bits) ^ ((r >> (bits - 2)) & 1));
    }

    static void Rcl(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (bits < 32) n %= bits + 1;
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        ulong cf = c.CF ? 1UL : 0;
        ulong r = a;
        for (int s = 0; s < n; s++)
        {
            ulong outBit = Msb(r, bits);
            r = ((r << 1) | cf) & Mask(bits);
            cf = outBit;
        }
        StoreDst(c, ref i, bits, ea, r);
        SetCfOf(c, cf, Msb(r, bits) ^ cf);
    }

    static void Rcr(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        int n = Count(c, ref i, 1, bits);
        if (bits < 32) n %= bits + 1;
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        ulong cf = c.CF ? 1UL : 0;
        ulong r = a;
        ulong of = Msb(a, bits) ^ cf; // defined for a one-bit rotate: computed before rotating
        for (int s = 0; s < n; s++)
        {
            ulong outBit = r & 1;
            r = (r >> 1) | (cf << (bits - 1));
            cf = outBit;
        }
        StoreDst(c, ref i, bits, ea, r);
        SetCfOf(c, cf, of);
    }

    static void Shld(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong b = GetReg(c, i.I.Op1Register);
        int n = Count(c, ref i, 2, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        ulong r, cf;
        if (bits == 16)
        {
            // 16-bit counts above 16 are undefined; model the 32-bit concatenation hardware uses.
            ulong cat = (a << 32) | (b << 16) | a;
            r = (cat << n >> 32) & 0xffff;
            cf = (cat >> (48 - n)) & 1;
        }
        else
        {
            r = ((a << n) | (b >> (bits - n))) & Mask(bits);
            cf = (a >> (bits - n)) & 1;
        }
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlagsAux(bits, r, (cf != 0 ? Rf.CF : 0) | ((Msb(r, bits) ^ Msb(a, bits)) != 0 ? Rf.OF : 0));
    }

    static void Shrd(CpuState c, ref Insn i)
    {
        int bits = i.OpBits;
        ulong a = LoadDst(c, ref i, bits, out ulong ea);
        ulong b = GetReg(c, i.I.Op1Register);
        int n = Count(c, ref i, 2, bits);
        if (n == 0) { StoreDst(c, ref i, bits, ea, a); return; }
        ulong r, cf;
        if (bits == 16)
        {
            ulong low = (a) | (b << 16) | (a << 32);
            r = (low >> n) & 0xffff;
            cf = (low >> (n - 1)) & 1;
        }
        else
        {
            r = ((a >> n) | (b << (bits - n))) & Mask(bits);
            cf = (a >> (n - 1)) & 1;
        }
        StoreDst(c, ref i, bits, ea, r);
        c.SetFlagsAux(bits, r, (cf != 0 ? Rf.CF : 0) | ((Msb(r, bits) ^ Msb(a, bits)) != 0 ? Rf.OF : 0));
    }
}

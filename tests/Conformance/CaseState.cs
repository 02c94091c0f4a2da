using System.Buffers.Binary;
using Iced.Intel;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>Lane types for filling XMM registers and 128-bit memory with meaningful values.</summary>
public enum Lanes { Mixed, Int8, Int16, Int32, Int64, Float32, Float64 }

/// <summary>
/// A case's input record under construction, with register-level accessors (AH..BH, partial widths)
/// so the generator can think in operands rather than record offsets.
/// </summary>
public sealed class CaseState
{
    public const ushort DefaultFcw = 0x037f;
    public const uint DefaultMxcsr = 0x1f80;
    /// <summary>Bit 1 always reads as one; IF is set in user mode and POPF cannot change it.</summary>
    public const ulong FixedFlags = 0x202;
    public const ulong ArithFlags = 0x8d5; // CF PF AF ZF SF OF

    public byte[] Record { get; } = new byte[RecordSize];
    readonly Random _r;

    Span<byte> R => Record.AsSpan();

    /// <summary>Random background: every register, flag and memory byte has a value, so a stray write shows.</summary>
    public CaseState(Random r, Lanes lanes)
    {
        _r = r;
        for (int i = 0; i < 16; i++) SetGpr(R, i, ValuePools.Random64(r));
        SetGpr(R, Rsp, Anchor);
        SetFlags(R, FixedFlags | ((ulong)r.NextInt64() & ArithFlags));
        SetMxcsr(R, DefaultMxcsr);
        SetFcw(R, DefaultFcw);
        for (int x = 0; x < 16; x++) FillLanes(XmmOf(R, x), lanes);
        for (int x = 0; x < 16; x++) FillLanes(YmmHighOf(R, x), lanes);
        r.NextBytes(MemOf(R));
        for (int k = 0; k < 8; k++) SetSt(k, ValuePools.F80(r));
    }

    public Random Random => _r;

    // ---- GPRs by Iced register, honouring the width and the AH..BH aliases ----

    public static int GprIndex(Register reg) => reg.GetFullRegister() - Register.RAX;
    public static bool IsHigh8(Register reg) => reg is >= Register.AH and <= Register.BH;

    public ulong Get(Register reg)
    {
        ulong v = GetGpr(R, GprIndex(reg));
        if (IsHigh8(reg)) return (v >> 8) & 0xff;
        return v & ValuePools.Mask(reg.GetSize() * 8);
    }

    /// <summary>Writes only the register's own bits: the rest keep their random background.</summary>
    public void Set(Register reg, ulong value)
    {
        int i = GprIndex(reg);
        ulong old = GetGpr(R, i);
        if (IsHigh8(reg)) { SetGpr(R, i, (old & ~0xff00UL) | ((value & 0xff) << 8)); return; }
        ulong m = ValuePools.Mask(reg.GetSize() * 8);
        SetGpr(R, i, (old & ~m) | (value & m));
    }

    public void SetFull(int index, ulong value) => SetGpr(R, index, value);
    public ulong GetFull(int index) => GetGpr(R, index);

    // ---- flags ----

    public ulong Flags { get => GetFlags(R); set => SetFlags(R, value); }

    // ---- memory area, by guest address ----

    public void SetMem(ulong address, int size, ulong value)
    {
        int o = Offset(address, size);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        b[..Math.Min(size, 8)].CopyTo(MemOf(R)[o..]);
    }

    public ulong GetMem(ulong address, int size)
    {
        int o = Offset(address, size);
        Span<byte> b = stackalloc byte[8];
        MemOf(R).Slice(o, Math.Min(size, 8)).CopyTo(b);
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public Span<byte> MemSpan(ulong address, int size) => MemOf(R).Slice(Offset(address, size), size);

    static int Offset(ulong address, int size)
    {
        int o = MemOffset(address);
        if (o < 0 || o + size > MemSize)
            throw new InvalidOperationException($"0x{address:x}+{size} lies outside the memory area");
        return o;
    }

    // ---- vectors ----

    public Span<byte> Xmm(int i) => XmmOf(R, i);
    public Span<byte> YmmHighHalf(int i) => YmmHighOf(R, i);

    public void FillLanes(Span<byte> dst, Lanes lanes)
    {
        var kind = lanes == Lanes.Mixed ? (Lanes)_r.Next(1, 7) : lanes;
        for (int o = 0; o < dst.Length;)
        {
            int lane = kind switch { Lanes.Int8 => 1, Lanes.Int16 => 2, Lanes.Int32 or Lanes.Float32 => 4, _ => 8 };
            if (o + lane > dst.Length)
            {
                _r.NextBytes(dst[o..]);
                return;
            }
            switch (kind)
            {
                case Lanes.Float32: BinaryPrimitives.WriteUInt32LittleEndian(dst[o..], ValuePools.F32(_r)); o += 4; break;
                case Lanes.Float64: BinaryPrimitives.WriteUInt64LittleEndian(dst[o..], ValuePools.F64(_r)); o += 8; break;
                case Lanes.Int8: dst[o] = (byte)ValuePools.Int(_r, 8); o += 1; break;
                case Lanes.Int16: BinaryPrimitives.WriteUInt16LittleEndian(dst[o..], (ushort)ValuePools.Int(_r, 16)); o += 2; break;
                case Lanes.Int32: BinaryPrimitives.WriteUInt32LittleEndian(dst[o..], (uint)ValuePools.Int(_r, 32)); o += 4; break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(dst[o..], ValuePools.Int(_r, 64)); o += 8; break;
            }
        }
    }

    // ---- x87 ----

    public int Depth { get => GetDepth(R); set => SetDepth(R, value); }
    public ushort Fcw { get => GetFcw(R); set => SetFcw(R, value); }
    public uint Mxcsr { get => GetMxcsr(R); set => SetMxcsr(R, value); }

    public void SetSt(int i, (ulong Mantissa, ushort SignExp) v)
    {
        var s = StOf(R, i);
        BinaryPrimitives.WriteUInt64LittleEndian(s, v.Mantissa);
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], v.SignExp);
    }

    public (ulong Mantissa, ushort SignExp) GetSt(int i)
    {
        var s = StOf(R, i);
        return (BinaryPrimitives.ReadUInt64LittleEndian(s), BinaryPrimitives.ReadUInt16LittleEndian(s[8..]));
    }
}

using System.Buffers.Binary;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Where everything lives in a generated test program, and the layout of the per-case state record.
/// Inputs and outputs share one record layout so a mismatch can be shown field by field against
/// the input. Addresses are below 2 GiB so every driver access is a plain absolute disp32.
/// </summary>
public static class StateLayout
{
    public const ulong CodeBase = 0x0040_0000;
    public const ulong DataBase = 0x1000_0000;
    /// <summary>Code may grow up to the data segment; generated programs stay far below that.</summary>
    public const ulong MaxCodeSize = DataBase - CodeBase;

    // ---- driver scratch at the start of the data segment ----
    public const ulong SaveGpr = DataBase + 0x000;
    public const ulong SaveFlags = DataBase + 0x080;
    public const ulong StubPointer = DataBase + 0x088;
    public const ulong CurrentInput = DataBase + 0x090;
    public const ulong Remaining = DataBase + 0x098;

    /// <summary>The driver's own stack; the case under test gets its RSP from the input record.</summary>
    public const ulong PrivateStackTop = DataBase + 0x2000;

    /// <summary>The memory operand area, reloaded from the input record before every case.</summary>
    public const ulong MemArea = DataBase + 0x2000;
    public const int MemSize = 256;
    /// <summary>Memory operands and the test stack pointer sit in the middle, so offsets either way stay inside.</summary>
    public const ulong Anchor = MemArea + MemSize / 2;

    /// <summary>The single output record, written to stdout after each case.</summary>
    public const ulong OutputRecord = DataBase + 0x2100;
    public const ulong Inputs = DataBase + 0x3000;

    // ---- the state record ----
    public const int Gpr = 0x000;      // 16 x 8, in Iced/hardware order RAX RCX RDX RBX RSP RBP RSI RDI R8..R15
    public const int Rflags = 0x080;   // 8
    public const int Stub = 0x088;     // 8, input only: address of the case's code
    public const int Mxcsr = 0x090;    // 4
    public const int Fcw = 0x094;      // 2: input control word / stored control word
    public const int Fsw = 0x096;      // 2, output only
    public const int Depth = 0x098;    // 2, input only: how many x87 registers hold values
    public const int Xmm = 0x0A0;      // 16 x 16
    public const int St = 0x1A0;       // 8 x 16, 80-bit values in the low 10 bytes; ST(0) first
    public const int MemField = 0x220;      // MemSize
    public const int YmmHigh = MemField + MemSize; // 16 x 16: bits 255:128 of YMM0-15
    public const int RecordSize = YmmHigh + 16 * 16;

    public const int Rsp = 4;

    public static readonly string[] GprNames =
        ["RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"];

    public static ulong GetGpr(ReadOnlySpan<byte> r, int i) => BinaryPrimitives.ReadUInt64LittleEndian(r[(Gpr + 8 * i)..]);
    public static void SetGpr(Span<byte> r, int i, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(r[(Gpr + 8 * i)..], v);
    public static ulong GetFlags(ReadOnlySpan<byte> r) => BinaryPrimitives.ReadUInt64LittleEndian(r[Rflags..]);
    public static void SetFlags(Span<byte> r, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(r[Rflags..], v);
    public static void SetStub(Span<byte> r, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(r[Stub..], v);
    public static uint GetMxcsr(ReadOnlySpan<byte> r) => BinaryPrimitives.ReadUInt32LittleEndian(r[Mxcsr..]);
    public static void SetMxcsr(Span<byte> r, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(r[Mxcsr..], v);
    public static ushort GetFcw(ReadOnlySpan<byte> r) => BinaryPrimitives.ReadUInt16LittleEndian(r[Fcw..]);
    public static void SetFcw(Span<byte> r, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(r[Fcw..], v);
    public static ushort GetFsw(ReadOnlySpan<byte> r) => BinaryPrimitives.ReadUInt16LittleEndian(r[Fsw..]);
    public static int GetDepth(ReadOnlySpan<byte> r) => BinaryPrimitives.ReadUInt16LittleEndian(r[Depth..]);
    public static void SetDepth(Span<byte> r, int v) => BinaryPrimitives.WriteUInt16LittleEndian(r[Depth..], (ushort)v);
    public static Span<byte> XmmOf(Span<byte> r, int i) => r.Slice(Xmm + 16 * i, 16);
    public static ReadOnlySpan<byte> XmmOf(ReadOnlySpan<byte> r, int i) => r.Slice(Xmm + 16 * i, 16);
    public static Span<byte> YmmHighOf(Span<byte> r, int i) => r.Slice(YmmHigh + 16 * i, 16);
    public static ReadOnlySpan<byte> YmmHighOf(ReadOnlySpan<byte> r, int i) => r.Slice(YmmHigh + 16 * i, 16);
    public static Span<byte> StOf(Span<byte> r, int i) => r.Slice(St + 16 * i, 10);
    public static ReadOnlySpan<byte> StOf(ReadOnlySpan<byte> r, int i) => r.Slice(St + 16 * i, 10);
    public static Span<byte> MemOf(Span<byte> r) => r.Slice(MemField, MemSize);
    public static ReadOnlySpan<byte> MemOf(ReadOnlySpan<byte> r) => r.Slice(MemField, MemSize);

    /// <summary>Offset inside the memory area of guest address <paramref name="address"/>, or -1 outside it.</summary>
    public static int MemOffset(ulong address) => address >= MemArea && address < MemArea + MemSize ? (int)(address - MemArea) : -1;
}

using System.Runtime.CompilerServices;

namespace LegoEmu.Cpu.Interp;

/// <summary>A handler's own code address, without the runtime's precode in front of it.</summary>
/// <remarks>
/// A function pointer taken from precompiled code (<c>&amp;Handler</c>) is the method's stable entry point: a
/// precode, a jump through a data slot that the runtime points at the code once the method is bound. Every interpreted
/// instruction paid that second indirect jump, and the precode's code and data pages (16 KiB apart, shared by the
/// methods of a type loader's chunk) were a twentieth of python3's start-up's cache misses. The runtime compiles each
/// method once (tiered compilation is off), so a bound method's code stays where it is and can be called directly.
/// Only the x64 fixup precode's exact three-instruction form is followed (jump through the target slot, load of the
/// method's descriptor, jump to the binding thunk); anything else is kept as it is.
/// </remarks>
public static unsafe class DirectEntry
{
    /// <summary>The code <paramref name="entry"/> jumps to when it is a precode, binding the method first if needed; else <paramref name="entry"/>.</summary>
    public static nint Of(nint entry)
    {
        if (entry == 0 || !IsFixupPrecode((byte*)entry)) return entry;
        byte* p = (byte*)entry;
        nint target = *(nint*)(p + 6 + *(int*)(p + 2));
        if (target != entry + 6) return target;
        // Not bound yet: the slot still leads to the precode's own binding path. Bind it the way a first call would.
        nint method = *(nint*)(p + 13 + *(int*)(p + 9));
        try { RuntimeHelpers.PrepareMethod(RuntimeMethodHandle.FromIntPtr(method)); }
        catch (Exception) { return entry; }
        target = *(nint*)(p + 6 + *(int*)(p + 2));
        return target != entry + 6 ? target : entry;
    }

    /// <summary>As <see cref="Of(nint)"/>, for a handler pointer.</summary>
    public static delegate*<State.CpuState, ref Decode.Insn, void> Of(delegate*<State.CpuState, ref Decode.Insn, void> entry) =>
        (delegate*<State.CpuState, ref Decode.Insn, void>)Of((nint)entry);

    /// <summary>
    /// <c>jmp [rip+t]</c>, <c>mov r10, [rip+m]</c>, <c>jmp [rip+f]</c>: three slots of a data page that lies a power of
    /// two of at least 4 KiB after the code (16 KiB on .NET 10). The first jump's displacement is checked before any
    /// byte past that instruction is read: the code of a method that starts with a jump may end there.
    /// </summary>
    static bool IsFixupPrecode(byte* p)
    {
        if (p[0] != 0xFF || p[1] != 0x25) return false;
        int page = *(int*)(p + 2) + 6;
        if (page < 4096 || (page & (page - 1)) != 0) return false;
        return p[6] == 0x4C && p[7] == 0x8B && p[8] == 0x15 && *(int*)(p + 9) == page - 5
            && p[13] == 0xFF && p[14] == 0x25 && *(int*)(p + 15) == page - 3;
    }
}

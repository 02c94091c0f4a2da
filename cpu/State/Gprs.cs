using System.Runtime.CompilerServices;

namespace LegoEmu.Cpu.State;

/// <summary>
/// The 16 general-purpose registers, stored inside <see cref="CpuState"/> itself: a register is one load at a fixed
/// offset from the state, with no array object to load first and no bounds to check (the interpreter's handlers and
/// translated code touch them on almost every instruction).
/// </summary>
[InlineArray(16)]
public struct Gprs
{
    ulong _first;
}

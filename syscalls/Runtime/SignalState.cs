namespace LegoEmu.Syscalls.Runtime;

/// <summary>One signal's disposition as rt_sigaction sees it (kernel struct sigaction layout).</summary>
public readonly record struct SignalAction(ulong Handler, ulong Flags, ulong Restorer, ulong Mask);

/// <summary>Process-wide signal dispositions, the thread's mask and alternate stack.</summary>
public sealed class SignalState
{
    public readonly SignalAction[] Actions = new SignalAction[65];
    public ulong Mask;
    public ulong AltStackBase;
    public ulong AltStackSize;
}

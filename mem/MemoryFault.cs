namespace LegoEmu.Mem;

/// <summary>Why a guest access could not be satisfied; maps onto SIGSEGV's si_code.</summary>
public enum FaultReason
{
    /// <summary>No mapping covers the address (SEGV_MAPERR).</summary>
    Unmapped = 1,
    /// <summary>A mapping exists but forbids this access (SEGV_ACCERR).</summary>
    Protection = 2,
    /// <summary>The memory cluster cannot back the page (out of capacity).</summary>
    NoMemory = 3,
}

/// <summary>A guest memory access that faulted. Thrown from the cache's slow path only.</summary>
public sealed class MemoryFault(ulong address, AccessKind access, FaultReason reason)
    : Exception($"{access} fault at 0x{address:x} ({reason})")
{
    public ulong Address { get; } = address;
    public AccessKind Access { get; } = access;
    public FaultReason Reason { get; } = reason;
}

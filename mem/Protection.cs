namespace LegoEmu.Mem;

/// <summary>Page protection bits, numerically identical to Linux PROT_READ/WRITE/EXEC.</summary>
[Flags]
public enum Protection : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Exec = 4,
    ReadWrite = Read | Write,
    ReadExec = Read | Exec,
    All = Read | Write | Exec,
}

/// <summary>What a guest access wants to do with memory.</summary>
public enum AccessKind : byte
{
    Read = 1,
    Write = 2,
    Fetch = 4,
}

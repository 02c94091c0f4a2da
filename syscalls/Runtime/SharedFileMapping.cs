namespace LegoEmu.Syscalls.Runtime;

/// <summary>A writable MAP_SHARED mapping of [Start, End) onto a file at FileOffset, through its own host descriptor.</summary>
public sealed record SharedFileMapping(ulong Start, ulong End, int HostFd, long FileOffset);

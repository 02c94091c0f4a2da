using System.Text;
using LegoEmu.Cpu.State;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>One system call in flight: the calling thread, its process and the six raw arguments. Reused across calls.</summary>
public sealed class SyscallContext(GuestProcess process)
{
    public GuestProcess P { get; } = process;
    public CpuState C = null!;
    public int Number;
    public readonly ulong[] A = new ulong[6];

    public CacheView Mem => C.Mem;

    /// <summary>Reads a NUL-terminated path argument; throws <see cref="MemoryFault"/> (EFAULT) on a bad pointer.</summary>
    public string Str(int n) => Str(A[n]);

    public string Str(ulong addr)
    {
        if (addr == 0) throw new MemoryFault(0, AccessKind.Read, FaultReason.Unmapped);
        return Encoding.UTF8.GetString(Mem.ReadCString(addr, 4096));
    }

    public int Int(int n) => (int)A[n];
    public long Long(int n) => (long)A[n];
}

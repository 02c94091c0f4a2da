using System.Runtime.InteropServices;

namespace LegoEmu.Cpu.Fpu;

/// <summary>
/// The host thread's MXCSR, loaded and stored by two tiny stubs. The calls suppress the GC transition:
/// a GC poll there could run the collector (which uses floating point) under the guest's MXCSR.
/// </summary>
public static unsafe class HostMxcsr
{
    public const uint Default = 0x1f80;
    public const uint AllMasked = 0x1f80;

    static readonly delegate* unmanaged[SuppressGCTransition]<uint*, void> Load;
    static readonly delegate* unmanaged[SuppressGCTransition]<uint*, void> Store;


    static HostMxcsr()
    {
        byte* code = LegoEmu.Mem.HostCode.Allocate(4096, "MXCSR access");
        // ldmxcsr [rdi]; ret   /   stmxcsr [rdi]; ret
        code[0] = 0x0f; code[1] = 0xae; code[2] = 0x17; code[3] = 0xc3;
        code[16] = 0x0f; code[17] = 0xae; code[18] = 0x1f; code[19] = 0xc3;
        Load = (delegate* unmanaged[SuppressGCTransition]<uint*, void>)code;
        Store = (delegate* unmanaged[SuppressGCTransition]<uint*, void>)(code + 16);
    }

    public static uint Read()
    {
        uint v;
        Store(&v);
        return v;
    }

    public static void Write(uint v) => Load(&v);
}

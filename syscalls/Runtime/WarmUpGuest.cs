using System.Buffers.Binary;
using LegoEmu.Loader.Elf;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// A tiny built-in guest run through the whole emulator (ELF parsing, image loading, ExCache, decoder,
/// interpreter, system-call dispatch) on a private address space, so that the runtime's first-use work
/// (type loading, ReadyToRun fix-ups, the JIT of what ReadyToRun cannot precompile, the decoder's tables)
/// is done before, or while, the real guest needs it. It touches no descriptor, signal or file.
/// </summary>
public static class WarmUpGuest
{
    const ulong Base = 0x400000;
    const int HeaderBytes = 64 + 56; // ELF header and one program header

    /// <summary>
    /// A loop of common integer and SSE instructions (calls, stack, flags, memory), then brk(0), getpid and
    /// exit_group with a value the loop computed. Natively it exits with <see cref="ExpectedStatus"/> too.
    /// </summary>
    static ReadOnlySpan<byte> Code =>
    [
        0xb9, 0x40, 0x00, 0x00, 0x00,       // mov ecx, 64
        0x31, 0xd2,                         // xor edx, edx
        0x48, 0x8d, 0x04, 0x49,             // loop: lea rax, [rcx+rcx*2]
        0x48, 0x01, 0xc2,                   // add rdx, rax
        0x52,                               // push rdx
        0x5b,                               // pop rbx
        0xe8, 0x41, 0x00, 0x00, 0x00,       // call f
        0x48, 0x0f, 0xaf, 0xc1,             // imul rax, rcx
        0x48, 0x39, 0xd8,                   // cmp rax, rbx
        0x0f, 0x9c, 0xc0,                   // setl al
        0x48, 0x0f, 0xb6, 0xc0,             // movzx rax, al
        0x48, 0x01, 0xc2,                   // add rdx, rax
        0x66, 0x0f, 0xef, 0xc0,             // pxor xmm0, xmm0
        0xf3, 0x0f, 0x7f, 0x44, 0x24, 0xe0, // movdqu [rsp-0x20], xmm0
        0xf3, 0x0f, 0x6f, 0x4c, 0x24, 0xe0, // movdqu xmm1, [rsp-0x20]
        0xff, 0xc9,                         // dec ecx
        0x75, 0xcd,                         // jnz loop
        0xb8, 0x0c, 0x00, 0x00, 0x00,       // mov eax, 12 (brk)
        0x31, 0xff,                         // xor edi, edi
        0x0f, 0x05,                         // syscall
        0xb8, 0x27, 0x00, 0x00, 0x00,       // mov eax, 39 (getpid)
        0x0f, 0x05,                         // syscall
        0x89, 0xd7,                         // mov edi, edx
        0x83, 0xe7, 0x7f,                   // and edi, 0x7f
        0xb8, 0xe7, 0x00, 0x00, 0x00,       // mov eax, 231 (exit_group)
        0x0f, 0x05,                         // syscall
        0x48, 0x31, 0xca,                   // f: xor rdx, rcx
        0xc3,                               // ret
    ];

    /// <summary>The status the guest exits with, natively or emulated.</summary>
    public const int ExpectedStatus = 35;

    /// <summary>The guest as a static ELF64 executable: one read-execute segment at 0x400000.</summary>
    public static byte[] Image()
    {
        var code = Code;
        var image = new byte[HeaderBytes + code.Length];
        var e = image.AsSpan();
        e[0] = 0x7f; e[1] = (byte)'E'; e[2] = (byte)'L'; e[3] = (byte)'F';
        e[4] = 2; e[5] = 1; e[6] = 1;                                     // 64-bit, little-endian, version 1
        BinaryPrimitives.WriteUInt16LittleEndian(e[16..], ElfConst.ET_EXEC);
        BinaryPrimitives.WriteUInt16LittleEndian(e[18..], ElfConst.EM_X86_64);
        BinaryPrimitives.WriteUInt32LittleEndian(e[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(e[24..], Base + HeaderBytes); // entry
        BinaryPrimitives.WriteUInt64LittleEndian(e[32..], 64);                 // program headers
        BinaryPrimitives.WriteUInt16LittleEndian(e[52..], 64);                 // header size
        BinaryPrimitives.WriteUInt16LittleEndian(e[54..], (ushort)ElfConst.PhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(e[56..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(e[58..], (ushort)ElfConst.ShdrSize);
        var ph = e[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, ElfConst.PT_LOAD);
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], ElfConst.PF_R | ElfConst.PF_X);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], Base);              // vaddr
        BinaryPrimitives.WriteUInt64LittleEndian(ph[24..], Base);              // paddr
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], (ulong)image.Length); // file size
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], (ulong)image.Length); // memory size
        BinaryPrimitives.WriteUInt64LittleEndian(ph[48..], 0x1000);
        code.CopyTo(e[HeaderBytes..]);
        return image;
    }

    /// <summary>Runs the guest to its exit on this thread and returns its status.</summary>
    public static int Run()
    {
        var options = new RunOptions(new CacheConfig(64 << 10, 4, 4096, CacheConfig.DefaultPolicy), false, false, TextWriter.Null);
        using var process = new GuestProcess(new InProcessMemoryComponent(), options) { ForwardHostSignals = false };
        process.Load(ElfFile.Parse(Image(), "/legoemu-warm-up"), null, ["legoemu-warm-up"], []);
        return process.Run();
    }

    /// <summary>
    /// Runs the guest on a background thread, so its first-use work overlaps the caller's own start-up
    /// (option parsing, connecting to nodes) on another core, with the reflection of a code cache's first use
    /// before it and the closing of a socket being read after it when the process will need them. Failures are
    /// ignored: the real guest then does that work itself.
    /// </summary>
    /// <param name="reflection">A code cache is in use (its first open reflects over the saved assembly).</param>
    /// <param name="sockets">The process talks to other components from its start (a forked component, memory nodes,
    /// thread hosts); a plain run warms its sockets only once a fork is likely (<see cref="WarmUpSockets.RunOnce"/>).</param>
    public static void StartInBackground(bool reflection, bool sockets)
    {
        var t = new Thread(() =>
        {
            try
            {
                if (reflection) WarmUpReflection.Run();
                Run();
                if (sockets) WarmUpSockets.RunOnce();
                LegoEmu.Cpu.Interp.HandlerWarmUp.Run();
            }
            catch (Exception) { }
        }) { IsBackground = true, Name = "warm-up" };
        t.Start();
    }
}

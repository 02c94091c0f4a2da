namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Handlers and strace signatures by system call number. Each area file registers its calls.
/// Signature letters: d decimal, x hex, o octal, f descriptor, s path string, b input buffer (length in
/// the next argument), B output buffer (length = result), i iovec array (count in the next argument).
/// </summary>
public sealed class SyscallTable
{
    public const int Size = 512;

    public readonly Func<SyscallContext, long>?[] Handlers = new Func<SyscallContext, long>?[Size];
    public readonly string?[] Names = new string?[Size];
    public readonly string?[] Signatures = new string?[Size];

    public void Add(int nr, string name, string signature, Func<SyscallContext, long> handler)
    {
        Handlers[nr] = handler;
        Names[nr] = name;
        Signatures[nr] = signature;
    }

    /// <summary>
    /// The table every guest process of this host process uses: its handlers are static, and building it (some 400
    /// delegates) cost each process's start 1.5-3 ms, the warm-up guest's included.
    /// </summary>
    public static SyscallTable Shared { get; } = Build();

    public static SyscallTable Build()
    {
        var t = new SyscallTable();
        Areas.Files.Register(t);
        Areas.Memory.Register(t);
        Areas.ProcessInfo.Register(t);
        Areas.Time.Register(t);
        Areas.Signals.Register(t);
        Areas.Futex.Register(t);
        Areas.FileSystem.Register(t);
        Areas.Pipes.Register(t);
        Areas.Threads.Register(t);
        Areas.Processes.Register(t);
        Areas.Net.Register(t);
        Areas.Events.Register(t);
        Areas.SignalFd.Register(t);
        Areas.TimerFd.Register(t);
        Areas.Scheduling.Register(t);
        Areas.VectorIo.Register(t);
        Areas.SysV.Register(t);
        Areas.PosixTimer.Register(t);
        Areas.Streams.Register(t);
        Areas.MessageQueues.Register(t);
        return t;
    }
}

using System.Runtime.InteropServices;

namespace LegoEmu.Syscalls.Host;

/// <summary>
/// The host kernel, reached through a stub of its own that makes the system call (<see cref="LegoEmu.Mem.HostCode.Syscall"/>).
/// The host is x86-64 Linux, so kernel structures (stat, timespec, termios, utsname …) have the guest's layout and can
/// pass through unchanged.
/// </summary>
public static unsafe partial class Native
{
    /// <summary>Runs a host system call and returns its result the kernel's way: value or negated errno.</summary>
    /// <remarks>
    /// Not libc's syscall(3): its errno had to be captured by the runtime (SetLastError), whose marshalling stubs
    /// were JIT-compiled at the first call, on the guest's thread at start-up; the kernel's own result needs none.
    /// </remarks>
    public static long Sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) =>
        LegoEmu.Mem.HostCode.Syscall(n, a, b, c, d, e, f);

    // The C library by its file name: "libc" is first probed as libc.so (a linker script, which dlopen rejects after
    // reading it) and liblibc.so in several directories, at start-up.
    [LibraryImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int sig);

    [LibraryImport("libc.so.6", EntryPoint = "signal")]
    public static partial nint Signal(int sig, nint handler);

    /// <summary>
    /// Ends this process by <paramref name="sig"/> so a parent's wait() sees WIFSIGNALED, as it would for
    /// the guest natively. No core file: it would be the emulator's, not the guest's.
    /// </summary>
    public static void DieBySignal(int sig)
    {
        long* noCore = stackalloc long[2];
        noCore[0] = noCore[1] = 0;
        Sys(302, 0, 4 /* RLIMIT_CORE */, (nint)noCore, 0); // prlimit64
        Signal(sig, 0 /* SIG_DFL */);
        long* set = stackalloc long[1];
        set[0] = 1L << (sig - 1);
        Sys(14, 1 /* SIG_UNBLOCK */, (nint)set, 0, 8); // rt_sigprocmask
        Kill(GetPid(), sig);
        Thread.Sleep(200);
    }

    [LibraryImport("libc.so.6", EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawn")]
    private static partial int posix_spawn(out int pid, byte* path, byte* fileActions, byte* attr, byte** argv, byte** envp);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int posix_spawn_file_actions_init(byte* fa);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int posix_spawn_file_actions_adddup2(byte* fa, int fd, int newFd);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int posix_spawn_file_actions_addopen(byte* fa, int fd, string path, int flags, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawn_file_actions_addclosefrom_np")]
    private static partial int posix_spawn_file_actions_addclosefrom_np(byte* fa, int from);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int posix_spawn_file_actions_destroy(byte* fa);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawnattr_init")]
    private static partial int posix_spawnattr_init(byte* attr);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int posix_spawnattr_setflags(byte* attr, short flags);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawnattr_setpgroup")]
    private static partial int posix_spawnattr_setpgroup(byte* attr, int pgroup);

    [LibraryImport("libc.so.6", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int posix_spawnattr_destroy(byte* attr);

    /// <summary>
    /// Starts a process that inherits exactly <paramref name="inherit"/> (plus 0, 1, 2 when they are not
    /// close-on-exec): glibc clears close-on-exec when a descriptor is dup2'ed onto itself. Returns the pid
    /// or a negated errno. Descriptors 0-2 in the list get the same treatment: once the guest has freed
    /// one, a close-on-exec descriptor opened later (the fork state itself) can sit there. Any of 0-2 the
    /// process would not get is /dev/null in it: the runtime must not find one free (<see cref="StandardDescriptors"/>).
    /// </summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, IEnumerable<int> inherit)
    {
        byte* fa = stackalloc byte[256];
        posix_spawn_file_actions_init(fa);
        var passed = new HashSet<int>();
        foreach (int fd in inherit)
        {
            posix_spawn_file_actions_adddup2(fa, fd, fd);
            passed.Add(fd);
        }
        for (int fd = 0; fd < 3; fd++)
            if (!passed.Contains(fd) && !StandardDescriptors.Inherited(fd))
                posix_spawn_file_actions_addopen(fa, fd, "/dev/null", 2 /* O_RDWR */, 0);
        return SpawnWith(fa, path, argv, envp);
    }

    /// <summary>
    /// Starts a process that holds nothing of this one's but <paramref name="socket"/>, as its descriptor 3:
    /// /dev/null is its 0, 1 and 2, and every other descriptor is closed, whatever its close-on-exec flag.
    /// It starts in a process group of its own. posix_spawn's parent thread waits in the kernel until the child
    /// has called execve, and a process with a thread in that wait cannot finish a group stop: a SIGSTOP to this
    /// process's group that also caught the child before its execve would leave this process never reported
    /// stopped to its parent (a shell's job that never shows as Stopped). In a group of its own from its first
    /// instructions, the child is out of reach of this group's signals until it has started.
    /// Returns the pid or a negated errno.
    /// </summary>
    public static int SpawnIsolated(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, int socket)
    {
        const short POSIX_SPAWN_SETPGROUP = 2;
        byte* fa = stackalloc byte[256];
        byte* attr = stackalloc byte[512]; // posix_spawnattr_t is 336 bytes in glibc
        posix_spawn_file_actions_init(fa);
        posix_spawn_file_actions_adddup2(fa, socket, 3);
        posix_spawn_file_actions_addopen(fa, 0, "/dev/null", 2 /* O_RDWR */, 0);
        posix_spawn_file_actions_adddup2(fa, 0, 1);
        posix_spawn_file_actions_adddup2(fa, 0, 2);
        posix_spawn_file_actions_addclosefrom_np(fa, 4);
        posix_spawnattr_init(attr);
        try
        {
            posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP);
            posix_spawnattr_setpgroup(attr, 0);
            return SpawnWith(fa, path, argv, envp, attr);
        }
        finally
        {
            posix_spawnattr_destroy(attr);
        }
    }

    /// <summary>
    /// posix_spawn's child starts with a copy of this process's whole descriptor table and closes what it should not
    /// keep only afterwards. A descriptor the guest closes meanwhile (an idle component is started from a timer
    /// thread while the guest runs) would stay open in that copy for a moment: the peer of a closed socket would
    /// still be connected (a send that succeeds instead of EPIPE), a pipe's reader would not see its end. So the
    /// guest's closes (<see cref="StandardDescriptors.Close"/>) wait while a spawn is under way.
    /// </summary>
    internal static readonly ReaderWriterLockSlim SpawnGate = new(LockRecursionPolicy.NoRecursion);

    static int SpawnWith(byte* fa, string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, byte* attr = null)
    {
        var allocations = new List<nint>();
        try
        {
            byte* Utf8(string s)
            {
                nint p = Marshal.StringToCoTaskMemUTF8(s);
                allocations.Add(p);
                return (byte*)p;
            }
            byte** args = stackalloc byte*[argv.Count + 1];
            for (int i = 0; i < argv.Count; i++) args[i] = Utf8(argv[i]);
            args[argv.Count] = null;
            var envArray = (byte**)Marshal.AllocCoTaskMem((envp.Count + 1) * sizeof(byte*));
            allocations.Add((nint)envArray);
            for (int i = 0; i < envp.Count; i++) envArray[i] = Utf8(envp[i]);
            envArray[envp.Count] = null;
            int r;
            int pid;
            SpawnGate.EnterWriteLock();
            try { r = posix_spawn(out pid, Utf8(path), fa, attr, args, envArray); }
            finally { SpawnGate.ExitWriteLock(); }
            return r != 0 ? -r : pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(fa);
            foreach (var p in allocations) Marshal.FreeCoTaskMem(p);
        }
    }
}

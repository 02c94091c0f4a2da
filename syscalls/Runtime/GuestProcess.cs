using System.Diagnostics;
using LegoEmu.Cpu;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.Interp;
using LegoEmu.Cpu.State;
using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Remote;
using LegoEmu.Mem.Space;
using LegoEmu.Syscalls.Abi;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>How a guest process is to be run.</summary>
public sealed record RunOptions(CacheConfig Cache, bool Strace, bool Stats, TextWriter Diagnostics)
{
    /// <summary>Extra <c>procnode</c> options every forked child gets (e.g. tracing), so whole process trees behave alike.</summary>
    public IReadOnlyList<string> ChildArguments { get; init; } = [];

    /// <summary>The execution tiers (interpreter only, or translation of hot code too).</summary>
    public LegoEmu.Cpu.Translate.TierOptions Tier { get; init; } = LegoEmu.Cpu.Translate.TierOptions.Default;

    /// <summary>Idle processor components kept ready for this process's forks once it has forked (0: every fork starts one cold).</summary>
    public int PoolSize { get; init; }

    /// <summary>The host descriptor behind <see cref="Diagnostics"/>, handed to pooled children as their stderr.</summary>
    public int DiagnosticsDescriptor { get; init; } = 2;

    /// <summary>A forked process: its <c>--stats</c> lines carry its pid, since its parent's and siblings' share the stderr.</summary>
    public bool Forked { get; init; }
}

/// <summary>
/// One guest Linux process on this processor component: its address space (homed at a memory
/// component, cached by the local ExCache), descriptor table, and its single thread of execution.
/// Also the CPU's host: SYSCALL lands in <see cref="Syscall"/>.
/// </summary>
public sealed partial class GuestProcess : ICpuHost, IDisposable
{
    readonly SyscallTable _table = SyscallTable.Shared;
    readonly SyscallContext _ctx;
    readonly Dictionary<int, long> _unknownSyscalls = new();
    readonly Stopwatch _wall = new();

    /// <param name="attachAsid">A forked child attaches to the copy of its parent's address space; 0 creates a new one.</param>
    public GuestProcess(IMemoryComponent home, RunOptions options, int attachAsid = 0)
    {
        Options = options;
        Cache = new ExCache(options.Cache, home);
        Space = new GuestAddressSpace(home, Cache, attachAsid);
        View = new CacheView(Cache, Space.Asid, fixedTable: options.Tier.CodeCache != null);
        Blocks = new BlockCache(View);
        Interpreter = new Interpreter(Blocks, options.Tier);
        _ctx = new SyscallContext(this);
        _current = new GuestThread(Pid, new CpuState(View, this)) { Name = _leaderName };
        Threads.Add(_current);
        _index.Add(_current);
        ApplyDescriptorLimit();
    }

    GuestThread _current;

    /// <summary>
    /// This process's threads. They share one processor component and run one at a time on this host
    /// thread, switched at block boundaries (time slices, futex waits, sched_yield), so the ExCache and
    /// the decoded blocks need no locking and a run is deterministic.
    /// </summary>
    /// <remarks>A thread that exited stays here for a while (it is dropped in batches, see <see cref="DropExitedThreads"/>): test <see cref="GuestThread.Exited"/>.</remarks>
    public List<GuestThread> Threads { get; } = new();

    /// <summary>The run queue, futex sleepers and blocked calls, kept so that the scheduler never walks <see cref="Threads"/>.</summary>
    readonly ThreadIndex _index = new();

    /// <summary>The live thread with id <paramref name="tid"/>, or null.</summary>
    public GuestThread? FindThread(long tid) => tid == (int)tid ? _index.Find((int)tid) : null;

    /// <summary>Threads that have not exited.</summary>
    public int LiveThreads => _index.Live;

    /// <summary>The largest address space /proc/self/status has shown (its VmPeak): sizes are summed only when it is read.</summary>
    public ulong StatusPeakVirtual;
    public GuestThread CurrentThread => _current;
    int _nextTid = 1;

    /// <summary>A fresh thread id; ids follow the process id, as the kernel's usually do.</summary>
    public int NewTid() => Pid + _nextTid++;

    /// <summary>
    /// Blocks executed before another runnable guest thread gets the processor: about 15 ms of translated code, the
    /// order of the kernel's slices (milliseconds), and counted in blocks so that the interleaving of a run repeats.
    /// </summary>
    /// <remarks>
    /// It was 20 000 blocks, a few hundred microseconds: Phoenix's word_count at 12.5 % of its footprint then turned its
    /// ExCache over about 200 times, as its four threads' hash tables (one fits, four do not) took turns in it, and ran
    /// 2.9x slower than with all its memory local (181 000 misses; 17 900 with this slice, 1.3x). A guest that spins
    /// waiting for another thread without a system call spins for the whole slice, as it would on one host CPU.
    /// </remarks>
    public const long TimeSlice = 1_000_000;

    public RunOptions Options { get; }
    public ExCache Cache { get; }
    public GuestAddressSpace Space { get; private set; }
    public CacheView View { get; }
    /// <summary>The registers of the thread running now (of the main thread before Run).</summary>
    public CpuState Cpu => _current.Cpu;
    public BlockCache Blocks { get; }
    public Interpreter Interpreter { get; }
    public FdTable Fds { get; } = new();
    public SignalState Signals { get; } = new();
    /// <summary>The guest's signalfd descriptors, kept readable while a signal of their mask is pending.</summary>
    public SignalFds SignalFds { get; } = new();

    /// <summary>Closes a host descriptor no guest descriptor refers to any more (0-2 become /dev/null: <see cref="Host.StandardDescriptors"/>).</summary>
    public void CloseHost(int hostFd)
    {
        SignalFds.Closed(hostFd);
        Host.StandardDescriptors.Close(hostFd);
    }

    /// <summary>The pending set changed: signalfds follow it.</summary>
    public void PendingChanged() => SignalFds.Sync(Volatile.Read(ref Signals.Pending));

    /// <summary>Absolute path of the guest executable: what /proc/self/exe names.</summary>
    public string ExePath { get; private set; } = "";
    /// <summary>The full path of the image's dynamic linker, "" for a static program.</summary>
    public string InterpreterPath { get; private set; } = "";
    public int ExitStatus { get; set; }
    public int Pid { get; } = Environment.ProcessId;
    /// <summary>
    /// The process's command name, which is its leader thread's (the kernel's /proc/PID/comm and status): 16 bytes,
    /// NUL-padded; starts as the executable's base name. Other threads name themselves apart (<see cref="GuestThread.Name"/>).
    /// </summary>
    public byte[] ThreadName
    {
        get => _leaderName;
        set
        {
            _leaderName = value;
            if (FindThread(Pid) is { } leader) leader.Name = value;
            LeaderRenamed();
        }
    }
    byte[] _leaderName = new byte[16];
    static readonly byte[] IdleName = System.Text.Encoding.ASCII.GetBytes(Host.HostProcesses.IdleComponentName);

    /// <summary>
    /// Shows the process's name (after a change in place of <see cref="ThreadName"/>) as its host process's: another
    /// process reads a process's comm, stat and status from the host (every guest process is a host process), and ps,
    /// pgrep, pidof and killall match that name, which would otherwise be the emulator's. The idle components' marker
    /// name is never taken (a guest so named would be passed by as idle).
    /// </summary>
    public unsafe void LeaderRenamed()
    {
        int n = Array.IndexOf(_leaderName, (byte)0);
        if (n < 0) n = _leaderName.Length;
        if (n == 0 || _leaderName.AsSpan(0, n).SequenceEqual(IdleName)) return;
        const int O_WRONLY = 1, O_CLOEXEC = 0x80000, AT_FDCWD = -100;
        fixed (byte* path = "/proc/self/comm\0"u8, name = _leaderName)
        {
            long fd = Host.Native.Sys(Nr.openat, AT_FDCWD, (nint)path, O_WRONLY | O_CLOEXEC);
            if (fd < 0) return;
            Host.Native.Sys(Nr.write, fd, (nint)name, n);
            Host.Native.Sys(Nr.close, fd);
        }
    }
    public int ParentDeathSignal { get; set; }
    /// <summary>personality(2): PER_LINUX with whatever flags the guest set (they change nothing here).</summary>
    public uint Personality { get; set; }
    /// <summary>membarrier registrations made so far (the private expedited commands need theirs).</summary>
    public int MembarrierRegistered { get; set; }
    /// <summary>Writable MAP_SHARED file mappings, written back to their files on msync, munmap and exit.</summary>
    public List<SharedFileMapping> SharedFileMappings { get; } = new();

    /// <summary>The argument vector the guest started with (/proc/self/cmdline).</summary>
    public string[] Argv { get; private set; } = [];

    /// <summary>The environment the image was started with (/proc/self/environ), as <see cref="Argv"/> is its arguments.</summary>
    public string[] Envp { get; private set; } = [];
    /// <summary>Where the main executable was loaded relative to its link addresses (0 unless PIE).</summary>
    public ulong LoadBias { get; private set; }

    /// <summary>The auxiliary vector as placed on the initial stack (/proc/self/auxv).</summary>
    public byte[] AuxVector { get; private set; } = [];

    /// <summary>
    /// Loads the program and sets up registers as the kernel leaves them at the entry point. A program execve
    /// would refuse throws <see cref="ExecFileException"/> (or <see cref="ElfFormatException"/>, ENOEXEC).
    /// </summary>
    public void Load(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp)
    {
        var program = ProgramFiles.Resolve(path, argv);
        Load(program.Elf, program.Interpreter, program.Argv, envp, path);
    }

    /// <summary>
    /// Loads a parsed program (and its dynamic linker, if any) and sets up the registers for its entry.
    /// <paramref name="execPath"/> is the path the program was started by (a script's, /proc/self/exe): the
    /// command name is its last component, as the kernel's comm is.
    /// </summary>
    public void Load(ElfFile elf, ElfFile? interp, IReadOnlyList<string> argv, IReadOnlyList<string> envp, string? execPath = null, string? shownPath = null)
    {
        string path = elf.Path;
        ExePath = shownPath ?? Path.GetFullPath(path);
        var comm = LegoEmu.Loader.Image.GuestText.Encode(Path.GetFileName(execPath ?? path));
        ThreadName = new byte[16];
        Array.Copy(comm, ThreadName, Math.Min(comm.Length, 15));
        var env = new LoaderEnvironment(Cpuid.HwCap, 0, 2048,
            (uint)Host.Native.Sys(Nr.getuid), (uint)Host.Native.Sys(Nr.geteuid), (uint)Host.Native.Sys(Nr.getgid), (uint)Host.Native.Sys(Nr.getegid),
            StackLimit: StackLimit);
        var image = ImageLoader.Load(elf, Space, argv, envp, path, env, interp);
        Argv = argv.ToArray();
        Envp = envp.ToArray();
        AuxVector = image.AuxVector;
        LoadBias = image.LoadBias;
        Cache.Tracer?.Exec(ExePath, LoadBias, Argv);
        Cpu.Rip = image.Entry;
        Cpu.Rsp = image.StackPointer;
        // RDX at entry is the dynamic linker's finalizer for _start; zero for a static program.
        Cpu.R[Registers.RDX] = 0;
        InterpreterPath = interp == null ? "" : Path.GetFullPath(interp.Path);
        OpenCodeCache(saveAtEnd: true);
        _imageForks = 0;
        // The image's last run forked: its first fork will want a component, and one takes longer to start than a
        // compiler driver runs before it forks.
        _forkHinted = false; // a new image: what the last one did says nothing
        if (Interpreter.Translator?.CodeCacheSaysForks == true) NoteForkHint();
        // Not the warm-up guest's private image.
        if (Timeline.Enabled && ForwardHostSignals) Timeline.Mark($"loaded {ExePath}");
    }

    /// <summary>Forks made by the running image (since its load or execve): the code cache keeps whether there were any.</summary>
    int _imageForks;

    /// <summary>With <c>--code-cache</c>: finds the saved regions of the image (<see cref="ExePath"/> and its dynamic linker).</summary>
    /// <param name="saveAtEnd">False in a forked child, which runs its parent's image and leaves saving to the image's own runs.</param>
    void OpenCodeCache(bool saveAtEnd) =>
        Interpreter.Translator?.OpenCodeCache(ExePath, InterpreterPath.Length == 0 ? null : InterpreterPath, saveAtEnd);

    /// <summary>With <c>--code-cache</c>: saves the image's regions for its next run; a failure to save costs one line, not the run.</summary>
    void SaveCodeCache()
    {
        if (Interpreter.Translator is not { } t) return;
        t.RecordForks(_imageForks > 0);
        t.SaveCodeCache();
        if (t.Stats.CacheNote is { } why) Console.Error.WriteLine($"legoemu: code cache: {why}");
        t.Stats.CacheNote = null;
    }

    /// <summary>Whether signals sent to this host process reach the guest (not for a private guest such as <see cref="WarmUpGuest"/>).</summary>
    public bool ForwardHostSignals { get; init; } = true;

    /// <summary>The CPU time of the guest and of its reaped children, counted from its start (see <see cref="GuestCpuTime"/>).</summary>
    public GuestCpuTime CpuTime { get; private set; } = GuestCpuTime.StartNow();

    /// <summary>Runs the guest to completion and returns the wait status a shell would show (0..255, 128+signal).</summary>
    public int Run()
    {
        CpuTime = GuestCpuTime.StartNow();
        _threadCpuAtStart = ThreadCpuNs();
        _wall.Start();
        JoinProcessTable();
        IgnoreHostFileSizeSignal();
        if (!_forked && ForwardHostSignals) HostSignals.InheritIgnored(Signals);
        var hostSignals = ForwardHostSignals ? HostSignals.Register(this) : null;
        // A forked child inherits the hint its parent's handler for SIGCHLD gives (a shell's subshell).
        _prestartEligible = ForwardHostSignals && Options.PoolSize > 0 && ForkPool.Shared?.IdleCount is null or 0;
        if (_prestartEligible && (_forkHinted || Signals.Actions[17].Handler != 0)) ArmPrestart();
        try
        {
            while (true)
            {
                var next = Schedule();
                if (next == null) return ExitStatus & 0xff;
                SwitchTo(next);
                try
                {
                    if (next.Component != 0)
                    {
                        ServeRemote(next);
                        if (_exiting) return ExitStatus & 0xff;
                        continue;
                    }
                    Interpreter.Run(_current.Cpu, _index.Live > 1 ? TimeSlice : long.MaxValue);
                    if (_exiting) return ExitStatus & 0xff;
                }
                catch (CpuFault f)
                {
                    var info = FaultSignals.For(f);
                    if (f.Kind == FaultKind.Breakpoint) Cpu.Rip = f.Rip + 1; // the kernel reports the address after INT3
                    if (f.Kind == FaultKind.Unimplemented && HasHandler(info.Signo))
                        Options.Diagnostics.WriteLine($"legoemu: {f.Message}: delivered to the guest's SIGILL handler");
                    if (!DeliverFault(info)) return Die(info.Signo, SignalState.Name(info.Signo), f.Message);
                }
                catch (MemoryFault m)
                {
                    if (!DeliverFault(FaultSignals.For(m))) return Die(11, "SIGSEGV", FaultSignals.Describe(m, Cpu.Rip));
                }
            }
        }
        catch (MemoryNodeFailure e)
        {
            // A processor component that died holding lines makes the node fail the requests that need them back:
            // the component's loss is what happened, and the guest ends as it does when that is noticed first.
            if (LostComponentWithThreads() is { } lost) return Die(9, "SIGKILL", LostMessage(lost));
            // A node gone from the cluster's membership is what happened, whatever its cut link made a request report.
            return Die(7, "SIGBUS", (Space.Home as MemoryCluster)?.LeftCluster?.Message ?? e.Message);
        }
        catch (ProtocolException e)
        {
            // A processor component sent what no correct one sends: its threads cannot be trusted to go on.
            return Die(9, "SIGKILL", $"a processor component broke the protocol: {e.Message}");
        }
        finally
        {
            Ended = true;
            TableExited();
            WriteBackSharedMemory();
            if (SharedFileMappings.Count > 0)
            {
                try { Areas.Memory.SyncShared(this, 0, LegoEmu.Mem.Component.VmaSet.TaskSize, release: true); }
                catch (MemoryFault) { }
            }
            hostSignals?.Dispose();
            DisarmPrestart();
            if (Components.Count > 0) ShutDownHosts();
            _wall.Stop();
            SaveCodeCache();
            if (Options.Stats) PrintStats();
        }
    }

    bool _exiting;

    /// <summary>
    /// The guest has run to its end (exited or killed): it is a zombie to anyone who signals its pid, and a signal
    /// that reaches this host process now is for nobody (see <see cref="HostSignals"/>).
    /// </summary>
    public bool Ended
    {
        get => Volatile.Read(ref _ended);
        private set => Volatile.Write(ref _ended, value);
    }
    bool _ended;

    /// <summary>clone with CLONE_VM|CLONE_THREAD: a new thread that resumes after the syscall with RAX = 0.</summary>
    public GuestThread SpawnThread(CpuState parent, ulong stack, ulong tls, bool setTls)
    {
        var c = new CpuState(View, this);
        c.R = parent.R;
        Array.Copy(parent.Xmm, c.Xmm, 16);
        c.Rip = parent.Rip;
        c.Rflags = parent.Rflags;
        c.FsBase = setTls ? tls : parent.FsBase;
        c.GsBase = parent.GsBase;
        c.Mxcsr = parent.GetMxcsr();
        if (stack != 0) c.Rsp = stack;
        c.R[Registers.RAX] = 0;
        // A new thread inherits its creator's mask, CPUs and name.
        var t = new GuestThread(NewTid(), c) { SignalMask = Signals.Mask, Affinity = _current.Affinity, Name = (byte[])_current.Name.Clone() };
        t.Component = PlaceThread();
        t.AwaitingRemote = t.Component != 0; // it starts on its host once clone has written the tid words (Launch)
        Threads.Add(t);
        _index.Add(t);
        return t;
    }

    /// <summary>exit(2) of one thread: clear_child_tid is zeroed and woken, and the last thread ends the process.</summary>
    public void ExitThread(int status)
    {
        var t = _current;
        ReleaseRobustFutexes(t);
        if (t.ClearChildTid != 0)
        {
            try
            {
                t.Cpu.Mem.Write32(t.ClearChildTid, 0);
                WakeFutex(t.ClearChildTid, 1, uint.MaxValue);
            }
            catch (MemoryFault) { }
        }
        t.Exited = true;
        t.Cpu.StopRequested = true;
        if (_index.Live == 0) Exit(status);
    }

    /// <summary>
    /// Robust futexes of a dying thread: each lock it still owns gets FUTEX_OWNER_DIED and one waiter is
    /// woken, so pthread_mutex_lock elsewhere returns EOWNERDEAD instead of hanging.
    /// </summary>
    void ReleaseRobustFutexes(GuestThread t)
    {
        if (t.RobustList == 0) return;
        var m = t.Cpu.Mem;
        try
        {
            ulong head = t.RobustList;
            long offset = (long)m.Read64(head + 8);
            ulong pending = m.Read64(head + 16);
            ulong entry = m.Read64(head);
            void Release(ulong e)
            {
                ulong word = (ulong)((long)(e & ~1UL) + offset);
                uint v = m.Read32(word);
                if ((v & FUTEX_TID_MASK) != (uint)t.Tid) return;
                m.Write32(word, (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED);
                // A PI lock (the entry's low bit) goes to its longest waiter, who finds the owner dead in the word.
                if ((e & 1) != 0) HandOverPi(m, word, FUTEX_OWNER_DIED);
                else WakeFutex(word, 1, uint.MaxValue);
            }
            for (int n = 0; entry != head && entry != 0 && n < 2048; n++)
            {
                ulong next = m.Read64(entry & ~1UL);
                if (entry != pending) Release(entry);
                entry = next;
            }
            if (pending != 0) Release(pending);
        }
        catch (MemoryFault)
        {
            // A corrupt list is the guest's problem; the kernel also stops walking it.
        }
    }

    /// <summary>Puts the running thread to sleep on a futex word until woken or until <paramref name="deadline"/>.</summary>
    public void WaitFutex(ulong addr, uint bitset, long deadline, uint expected)
    {
        bool shared = SharedFutex(addr);
        _current.FutexExpected = expected;
        _current.FutexInterval = 0;
        _current.FutexRecheck = shared ? Stopwatch.GetTimestamp() + Stopwatch.Frequency / 5000 : long.MaxValue;
        _current.FutexAddress = addr;
        _current.FutexBitset = bitset;
        _current.FutexPi = false;
        _current.WaitDeadline = deadline;
        _current.Cpu.YieldRequested = true;
    }

    /// <summary>Wakes up to <paramref name="count"/> threads sleeping on <paramref name="addr"/>, first come first woken (as the kernel's queue); returns how many.</summary>
    public int WakeFutex(ulong addr, int count, uint bitset)
    {
        int woken = 0;
        for (var n = _index.FirstSleeper(addr); n != null && woken < count;)
        {
            var t = n.Value;
            n = n.Next; // waking takes the thread off this list
            if ((t.FutexBitset & bitset) == 0) continue;
            t.FutexAddress = 0;
            t.WaitDeadline = long.MaxValue;
            t.Cpu.R[Registers.RAX] = 0;
            woken++;
        }
        return woken;
    }

    /// <summary>Moves up to <paramref name="count"/> waiters from one futex word to the end of another's queue (FUTEX_CMP_REQUEUE).</summary>
    public int RequeueFutex(ulong from, ulong to, int count)
    {
        if (from == to)
        {
            // The kernel requeues them onto the queue they are in: nothing moves, but they count.
            int same = 0;
            for (var n = _index.FirstSleeper(from); n != null && same < count; n = n.Next) same++;
            return same;
        }
        int moved = 0;
        for (var n = _index.FirstSleeper(from); n != null && moved < count;)
        {
            var t = n.Value;
            n = n.Next; // moving takes the thread off this list
            t.FutexAddress = to;
            moved++;
        }
        return moved;
    }

    /// <summary>The signal that terminated the guest (0 when it exited): the emulator dies of the same signal.</summary>
    public int KilledBySignal { get; set; }

    /// <summary>Run when a host signal kills the guest while it sits in a blocking call (spawned memory nodes).</summary>
    public Action? EmergencyCleanup { get; set; }

    bool HasHandler(int sig) => Signals.Actions[sig].Handler > 1;

    /// <summary>
    /// A synchronous fault goes to the guest's handler when it has one and does not block the signal;
    /// otherwise the kernel would kill the process, and so does this.
    /// </summary>
    bool DeliverFault(in SignalInfo info)
    {
        int sig = info.Signo;
        if (!HasHandler(sig) || (Signals.Mask & SignalState.Bit(sig)) != 0) return false;
        try
        {
            SignalDelivery.Deliver(Cpu, Signals, Signals.Actions[sig], info);
        }
        catch (MemoryFault)
        {
            return false; // no room for the frame: the kernel forces SIGSEGV, which kills
        }
        return true;
    }

    /// <summary>Delivers pending signals the mask allows: default actions, ignores, or a handler frame.</summary>
    public void Interrupt(CpuState c)
    {
        // A shadow made runnable should not wait out this thread's time slice.
        if (ServeComponents()) c.YieldRequested = true;
        while (!c.StopRequested)
        {
            int sig = Signals.NextDeliverable();
            if (sig == 0) break;
            PendingChanged();
            var act = Signals.Actions[sig];
            if (act.Handler <= 1)
            {
                if (TakeDefaultAction(sig)) break;
                continue;
            }
            try
            {
                SignalDelivery.Deliver(c, Signals, act, Signals.PendingInfo[sig]);
            }
            catch (MemoryFault)
            {
                Options.Diagnostics.WriteLine($"legoemu: no room for the {SignalState.Name(sig)} frame on the guest stack; guest terminated by SIGSEGV");
                Exit(128 + 11);
                break;
            }
            // One frame per boundary: nested delivery of further signals happens at the handler's first block.
            if (Signals.HasDeliverable()) c.RaiseInterrupt();
            break;
        }
    }

    /// <summary>
    /// Says on the emulator's stderr that a signal's default action ends the guest, where nothing else would tell:
    /// for the process `legoemu run` started, and not for SIGPIPE (the end of a pipeline's writer, which shells and
    /// the kernel never mention). A forked process's parent learns it from its wait, and a shell reports it as it
    /// would natively (bash's "Terminated"); a line of ours for every `yes | head` or pool worker stopped with SIGTERM
    /// would be output the native run does not have.
    /// </summary>
    public void ReportTermination(int sig)
    {
        const int SIGPIPE = 13;
        if (_forked || sig == SIGPIPE) return;
        Options.Diagnostics.WriteLine($"legoemu: guest terminated by {SignalState.Name(sig)}");
    }

    /// <summary>
    /// A signal without a handler: SIG_IGN and default-ignore signals are dropped (false); a default
    /// action that terminates ends the guest (true).
    /// </summary>
    bool TakeDefaultAction(int sig)
    {
        const int SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22;
        if (Signals.Actions[sig].Handler == 0 && sig is SIGSTOP or SIGTSTP or SIGTTIN or SIGTTOU)
        {
            // A stop to itself (raise, kill(0), a group signal taken here): the host process stops, so the parent's
            // wait sees it stopped by that signal, and the guest goes on where it was when a SIGCONT resumes it.
            ulong before = Volatile.Read(ref Signals.Pending);
            Host.Native.Sys(Abi.Nr.kill, Host.Native.GetPid(), sig);
            // Signals sent while it was stopped (the SIGHUP an orphaned group's stopped members get before their
            // SIGCONT) reach the guest through the runtime's signal thread, after this thread has resumed; Linux
            // delivers them before the process runs on. Give them a moment to arrive.
            for (int i = 0; i < 10 && Volatile.Read(ref Signals.Pending) == before; i++) Thread.Sleep(1);
            return false;
        }
        if (Signals.Actions[sig].Handler == 1 || !SignalState.DefaultTerminates(sig)) return false;
        ReportTermination(sig);
        KilledBySignal = sig;
        Exit(128 + sig);
        return true;
    }

    /// <summary>
    /// Raises a signal for this process (kill to self, SIGPIPE, a host signal) and asks the CPU to stop
    /// by; the wake-up event lets a scheduler idle in a blocked call see it. Safe from any host thread.
    /// </summary>
    /// <summary>
    /// tgkill/tkill/pthread_kill: a signal for one thread. The running thread takes it at once, marked as its own;
    /// another thread keeps it until it runs (a blocked one is interrupted for it). Default actions and ignores
    /// for another thread are process-wide, so those go to the process.
    /// </summary>
    public void RaiseSignalAt(int tid, in SignalInfo info, bool keepDirected = false)
    {
        var t = _index.Find(tid);
        // A timer's SIGEV_THREAD_ID signal stays with its thread even without a handler: that thread
        // blocks it and takes it with sigwaitinfo (glibc's SIGEV_THREAD helper).
        // One for the running thread stays its own too (sigpending of another thread, /proc/self/status's SigPnd, and
        // no other thread may take it while this one blocks it); an ignored one is discarded by RaiseSignal.
        if (t == _current && (keepDirected || Signals.Actions[info.Signo].Handler != 1))
        {
            RaiseSignal(info);
            _current.DirectedInFlight |= SignalState.Bit(info.Signo);
            return;
        }
        if (t == null || t == _current || (!keepDirected && Signals.Actions[info.Signo].Handler <= 1))
        {
            RaiseSignal(info);
            return;
        }
        t.DirectedInfo[info.Signo] = info;
        t.DirectedPending |= SignalState.Bit(info.Signo);
        _directedRaised = true;
        _wake.Signal();
    }

    public void RaiseSignal(in SignalInfo info)
    {
        Signals.Raise(info);
        PendingChanged();
        if (Signals.HasDeliverable()) Cpu.RaiseInterrupt();
        _wake.Signal();
    }


    /// <summary>Reports the fatal event and the signal in one line; the status is the shell's 128+signal.</summary>
    int Die(int sig, string name, string what)
    {
        KilledBySignal = sig;
        Options.Diagnostics.WriteLine($"legoemu: {what}; guest terminated by {name}");
        ExitStatus = 128 + sig;
        return 128 + sig;
    }

    // ---- ICpuHost ----

    public void Syscall(CpuState c)
    {
        // The call's buffer accesses, and the misses and write-backs they cause, are charged to its SYSCALL
        // (two bytes before RIP) and marked as the kernel's, so a report can leave them out.
        var view = c.Mem;
        long before = view.Accesses;
        view.Ip = c.Rip - 2;
        view.InKernel = true;
        Cache.Tracer?.Attribute(view.Ip, LegoEmu.Mem.Trace.TraceRecordFlags.Kernel);
        if (Cache.Profile is { } profile) profile.Ip = view.Ip;
        try { Dispatch(c); }
        finally
        {
            view.InKernel = false;
            view.KernelAccesses += view.Accesses - before;
        }
    }

    /// <summary>
    /// A call run outside its SYSCALL's execution: one that blocked, finished by the scheduler, or one a thread
    /// on another processor component made. No block counts its accesses, so a profile charges them here.
    /// </summary>
    void SyscallOutsideBlock(CpuState c)
    {
        ulong ip = c.Rip - 2;
        long before = c.Mem.Accesses;
        Syscall(c);
        if (Cache.Profile is { } profile) profile.At(ip).Accesses += c.Mem.Accesses - before;
    }

    void Dispatch(CpuState c)
    {
        var ctx = _ctx;
        ctx.C = c;
        int nr = (int)c.R[Registers.RAX];
        ctx.Number = nr;
        ctx.A[0] = c.R[Registers.RDI];
        ctx.A[1] = c.R[Registers.RSI];
        ctx.A[2] = c.R[Registers.RDX];
        ctx.A[3] = c.R[10];
        ctx.A[4] = c.R[8];
        ctx.A[5] = c.R[9];
        long r;
        var h = (uint)nr < SyscallTable.Size ? _table.Handlers[nr] : null;
        if (h == null)
        {
            _unknownSyscalls[nr] = _unknownSyscalls.GetValueOrDefault(nr) + 1;
            r = -Errno.ENOSYS;
        }
        else
        {
            try { r = h(ctx); }
            catch (MemoryFault) { r = -Errno.EFAULT; }
        }
        if (r == SyscallContext.Blocked)
        {
            // RAX keeps the call number and RIP stays past SYSCALL: the scheduler runs the handler again.
            c.YieldRequested = true;
            return;
        }
        _current.Wait.Clear();
        if (r == -Errno.EFBIG) FileSizeLimitReached(nr);
        if (r == SyscallContext.Restart)
        {
            // As the kernel restarts under SA_RESTART: the signal frame saves RIP at the SYSCALL and RAX
            // holding the call number, so the call runs again when the handler returns.
            if (Options.Strace) Options.Diagnostics.WriteLine(Strace.Format(ctx, _table, -512 /* ERESTARTSYS */));
            c.Rip -= 2;
            c.RaiseInterrupt();
            return;
        }
        if (Options.Strace) Options.Diagnostics.WriteLine(Strace.Format(ctx, _table, r));
        c.R[Registers.RAX] = (ulong)r;
        if (Signals.HasDeliverable()) c.RaiseInterrupt();
    }

    /// <summary>Ends the guest with an exit status (exit_group, or exit of the last thread).</summary>
    public void Exit(int status)
    {
        ExitStatus = status & 0xff;
        _exiting = true;
        foreach (var t in Threads) t.Cpu.StopRequested = true;
    }

    long _threadCpuAtStart;

    /// <summary>CPU time of the calling host thread in nanoseconds (CLOCK_THREAD_CPUTIME_ID).</summary>
    static unsafe long ThreadCpuNs()
    {
        long* ts = stackalloc long[2];
        return Host.Native.Sys(Nr.clock_gettime, 3 /* CLOCK_THREAD_CPUTIME_ID */, (nint)ts) < 0 ? 0 : ts[0] * 1_000_000_000 + ts[1];
    }

    void PrintStats()
    {
        // One write for the whole report: a forked process's report shares the stderr with its parent's and siblings'.
        var w = new StringWriter();
        WriteStats(w);
        string text = w.ToString();
        if (Options.Forked) text = text.Replace("legoemu: ", $"legoemu[{Environment.ProcessId}]: ");
        Options.Diagnostics.Write(text);
        Options.Diagnostics.Flush();
    }

    void WriteStats(TextWriter w)
    {
        var s = Cache.Stats;
        var cs = Space.Home.Stats;
        double secs = Math.Max(_wall.Elapsed.TotalSeconds, 1e-9);
        long insns = InstructionsRetired;
        w.WriteLine(Options.Forked ? $"legoemu: --- stats of a forked process: {PrintableName.Escape(string.Join(' ', Argv))} ---" : "legoemu: --- stats ---");
        w.WriteLine($"legoemu: guest instructions   {insns:N0} in {secs:F3} s ({insns / secs / 1e6:F2} M instructions/s)");
        var (user, system) = CpuTime.Self();
        w.WriteLine($"legoemu: CPU time             {(ThreadCpuNs() - _threadCpuAtStart) / 1e9:F3} s on the guest's thread, {(user + system) / 1e6:F3} s by this processor component in all (translator and warm-up threads included); execve {ExecTicks / (double)Stopwatch.Frequency:F3} s");
        w.WriteLine($"legoemu: decoded blocks       {Blocks.Count:N0} ({Blocks.Decoded:N0} instructions decoded in {Blocks.DecodeTicks / (double)System.Diagnostics.Stopwatch.Frequency:F3} s)");
        PrintTierStats(w, insns);
        // What ReadyToRun could not precompile is compiled when first called; on the guest's thread it is guest time.
        w.WriteLine($"legoemu: runtime JIT          {System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: true):N0} methods in {System.Runtime.JitInfo.GetCompilationTime(currentThread: true).TotalSeconds:F3} s on this thread, {System.Runtime.JitInfo.GetCompiledMethodCount():N0} in {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:F3} s in all (guest regions included)");
        w.WriteLine($"legoemu: runtime GC           {GC.CollectionCount(0):N0} collections ({GC.CollectionCount(1):N0} of gen 1, {GC.CollectionCount(2):N0} of gen 2), paused {GC.GetTotalPauseDuration().TotalSeconds:F3} s, {GC.GetTotalAllocatedBytes() / 1048576.0:F1} MiB allocated, heap {GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0:F1} MiB (this processor component since it started)");
        var cfg = Cache.Config;
        w.WriteLine($"legoemu: excache              {FormatSize(cfg.Size)}, {cfg.Ways}-way, {cfg.LineSize} B lines, {cfg.Policy.ToString().ToLowerInvariant()}");
        w.WriteLine($"legoemu: memory accesses      {View.Accesses:N0}");
        double missRatio = View.Accesses == 0 ? 0 : (double)s.Misses / View.Accesses;
        w.WriteLine($"legoemu: excache lookups      {s.Lookups:N0} (front-table misses), hits {s.Hits:N0}, misses {s.Misses:N0} (miss ratio {missRatio:P4} of accesses)");
        w.WriteLine($"legoemu: fills                p-local {s.PLocalFills:N0}, from memory component {s.RemoteFills:N0} ({FormatSize(s.BytesFilled)})");
        w.WriteLine($"legoemu: evictions            {s.Evictions:N0}, write-backs {s.WriteBacks:N0} ({FormatSize(s.BytesWrittenBack)}), piggybacked on fills {s.PiggybackedWriteBacks:N0}, queued {s.QueuedWriteBacks:N0} (fills served from the queue {s.QueueFills:N0})");
        w.WriteLine($"legoemu: prefetch             {cfg.Prefetch.ToString().ToLowerInvariant()}, depth {cfg.PrefetchDepth}: issued {s.PrefetchIssued:N0}, used {s.PrefetchUsed:N0}, wasted {s.PrefetchWasted:N0}, waited for {s.PrefetchWaitTicks * 1e3 / Stopwatch.Frequency:F1} ms");
        w.WriteLine($"legoemu: prefetch throttle    late {s.PrefetchLate:N0}, misses caused {s.PrefetchPolluted:N0}, demand misses delayed behind prefetches {s.PrefetchDelayTicks * 1e3 / Stopwatch.Frequency:F1} ms; depth cut {s.PrefetchDepthCuts:N0} times, raised {s.PrefetchDepthRaises:N0}, stopped {s.PrefetchStops:N0}, tried again {s.PrefetchTrials:N0} times, streams not followed while stopped {s.PrefetchSuppressed:N0}; depth now {Cache.PrefetchDepthNow}");
        double missUs = s.Misses == 0 ? 0 : s.MissTicks * 1e6 / Stopwatch.Frequency / s.Misses;
        w.WriteLine($"legoemu: mean miss latency    {missUs:F2} us");
        if (Space.Home is MemoryCluster cluster)
        {
            try { cluster.Report(w); }
            catch (MemoryNodeFailure e) { w.WriteLine($"legoemu: memory nodes: {e.Message}"); }
        }
        else
            w.WriteLine($"legoemu: memory component     in-process: fills {cs.Fills:N0} (zero {cs.ZeroFills:N0}), write-backs {cs.WriteBacks:N0}, frames {cs.Frames:N0} ({FormatSize(cs.Frames * 4096)})");
        w.WriteLine($"legoemu: emulator peak RSS    {PeakRssKiB() / 1024.0:F1} MiB (this processor component only)");
        PrintSplitStats(w);
        if (_unknownSyscalls.Count > 0)
            w.WriteLine($"legoemu: unknown syscalls     {string.Join(", ", _unknownSyscalls.OrderBy(k => k.Key).Select(k => $"{k.Key} x{k.Value}"))}");
    }

    /// <summary>VmHWM of this process: what the processor component itself held at most, memory nodes excluded.</summary>
    static long PeakRssKiB()
    {
        Span<byte> buffer = stackalloc byte[4096];
        var value = Host.ProcFile.SelfStatusField("VmHWM"u8, buffer); // "123456 kB"
        int space = value.IndexOf((byte)' ');
        return long.TryParse(space >= 0 ? value[..space] : value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long kib) ? kib : 0;
    }

    static string FormatSize(long b) =>
        b >= 1L << 30 && b % (1L << 30) == 0 ? $"{b >> 30} GiB" :
        b >= 1L << 20 ? $"{b / (double)(1L << 20):0.##} MiB" :
        b >= 1L << 10 ? $"{b / 1024.0:0.##} KiB" : $"{b} B";

    public void Dispose()
    {
        StopReportedChildren();
        Timers?.Dispose();
        lock (_wakeLock) _wakeClosed = true;
        _wake.Dispose();
        _memoryServer?.Dispose();
        _borrowedCopyReleased?.Join();
        if (_memoryServerDir != null)
        {
            try { Directory.Delete(_memoryServerDir, recursive: true); } catch (IOException) { }
        }
        Cache.Dispose();
    }
}

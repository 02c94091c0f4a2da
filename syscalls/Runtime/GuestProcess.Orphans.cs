using LegoEmu.Mem;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// What happens around a guest whose parent ends: the parent-death signal (prctl PR_SET_PDEATHSIG) and child
/// subreapers (prctl PR_SET_CHILD_SUBREAPER).
/// <para>
/// A forked guest's parent is the process of the component that handed it over, which holds the other end of the
/// component's control socket until it ends; the control thread's end of file raises the parent-death signal. (The
/// host's own flag would fire when the host thread that started the component ends, a pool's timer thread perhaps.)
/// The process `legoemu run` started has the host's parent, and the host's flag does the work.
/// </para>
/// A child subreaper (prctl PR_SET_CHILD_SUBREAPER). The flag is the host process's own, so when a guest's parent
/// ends, the kernel reparents the guest's component to the component of its nearest subreaper, as it would reparent
/// the guest. That component's host children are then more than the guest's forks, and the guest adopts those that
/// are guest processes: its waits find them, and their exits raise its SIGCHLD.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>prctl(PR_SET_PDEATHSIG): 0 or a negated errno.</summary>
    public long SetParentDeathSignal(int sig)
    {
        const int PR_SET_PDEATHSIG = 1;
        if (sig is < 0 or > 64) return -Errno.EINVAL;
        if (!_forked)
        {
            long r = Native.Sys(Abi.Nr.prctl, PR_SET_PDEATHSIG, sig);
            if (r < 0) return r;
        }
        ParentDeathSignal = sig;
        return 0;
    }

    /// <summary>The guest's parent has ended (its component closed the control socket): the parent-death signal, if any, is raised.</summary>
    public void ParentEnded()
    {
        int sig = ParentDeathSignal;
        if (sig == 0 || !_forked) return;
        // The control thread may see the end just as this guest is done: its wake-up descriptor's number may be another's by then.
        lock (_wakeLock)
            if (!_wakeClosed) RaiseSignal(new SignalInfo(sig, 0 /* SI_USER */));
    }

    readonly object _wakeLock = new();
    bool _wakeClosed;

    /// <summary>Host children this process had when its guest became a subreaper (memory nodes, thread hosts, components of its own): never adopted.</summary>
    HashSet<int>? _notOrphans;

    /// <summary>The guest made itself a child subreaper.</summary>
    public bool ChildSubreaper => _notOrphans != null;

    /// <summary>Records prctl(PR_SET_CHILD_SUBREAPER) once the host has taken it.</summary>
    public void BecomeSubreaper(bool on)
    {
        TableReport(Processes.TableMessage.Kinds.Subreaper, on ? 1 : 0);
        if (!on)
        {
            _notOrphans = null;
            return;
        }
        if (_notOrphans != null) return;
        int self = Native.GetPid();
        var set = new HashSet<int>();
        foreach (var e in HostProcesses.All())
            if (e.Parent == self && Child(e.Pid) == null) set.Add(e.Pid);
        _notOrphans = set;
    }

    /// <summary>
    /// Counts as the guest's children the guest processes the kernel has reparented to this subreaper since: host
    /// children that are neither the guest's forks nor this emulator's own (memory nodes, idle components).
    /// </summary>
    /// <param name="named">A pid the guest's wait names: adopted whatever its component is called (an orphan whose exit
    /// could not be reported to its dead parent may end while it carries the idle name).</param>
    public void AdoptOrphans(long named = 0)
    {
        if (_notOrphans is not { } not) return;
        int self = Native.GetPid();
        var pool = ForkPool.Shared;
        foreach (var e in HostProcesses.All())
        {
            if (e.Parent != self || not.Contains(e.Pid) || Child(e.Pid) != null || (e.Name == HostProcesses.IdleComponentName && e.Pid != named)) continue;
            if (pool != null && pool.Holds(e.Pid)) continue;
            AddChild(e.Pid);
        }
    }
}

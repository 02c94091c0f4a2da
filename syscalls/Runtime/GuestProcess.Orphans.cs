using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// A child subreaper (prctl PR_SET_CHILD_SUBREAPER). The flag is the host process's own, so when a guest's parent
/// ends, the kernel reparents the guest's component to the component of its nearest subreaper, as it would reparent
/// the guest. That component's host children are then more than the guest's forks, and the guest adopts those that
/// are guest processes: its waits find them, and their exits raise its SIGCHLD.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>Host children this process had when its guest became a subreaper (memory nodes, thread hosts, components of its own): never adopted.</summary>
    HashSet<int>? _notOrphans;

    /// <summary>The guest made itself a child subreaper.</summary>
    public bool ChildSubreaper => _notOrphans != null;

    /// <summary>Records prctl(PR_SET_CHILD_SUBREAPER) once the host has taken it.</summary>
    public void BecomeSubreaper(bool on)
    {
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
    public void AdoptOrphans()
    {
        if (_notOrphans is not { } not) return;
        int self = Native.GetPid();
        var pool = ForkPool.Shared;
        foreach (var e in HostProcesses.All())
        {
            if (e.Parent != self || not.Contains(e.Pid) || Child(e.Pid) != null || e.Name == HostProcesses.IdleComponentName) continue;
            if (pool != null && pool.Holds(e.Pid)) continue;
            AddChild(e.Pid);
        }
    }
}

using LegoEmu.Mem;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The end of a guest on a component that outlives it: what the kernel would release at the process's exit is
/// released here, so the component can take another guest with nothing of this one left behind.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>The guest made a semop with SEM_UNDO: the host applies the undo only when this host process ends.</summary>
    public bool SemaphoreUndo { get; set; }

    /// <summary>
    /// Releases what the guest held of the host process: its descriptors (so pipes see their end now, as at an
    /// exit), its SysV attachments, and its children that have exited (reaped, as init reaps an orphan: a
    /// component whose guest exited and was not reaped comes back to this process's pool). Returns false when
    /// something cannot be released without ending the host process: a child still running (it must be
    /// reparented, which only the host process's end does), SEM_UNDO adjustments, or a line directory it could not leave
    /// (threads over components).
    /// </summary>
    public unsafe bool ReleaseForReuse()
    {
        var closed = new HashSet<int>();
        foreach (var (_, h, _) in Fds.All().ToList())
            if (closed.Add(h)) CloseHost(h);
        Fds.Replace([]);
        DetachSysV();
        // A guest in a line directory for MAP_SHARED memory leaves it as at execve: its dirty shared lines go back
        // through the directory, the rest are dropped, and its callback channels close, so the node answers for it
        // whatever it would still ask of it; the next guest here joins afresh as another component. (Components used
        // to stay in the directory under their old guest, whose callbacks nobody answered any more: the next guest's
        // fills of lines the old one held waited for the node timeout.)
        if (JoinedSharedDirectory)
        {
            try { LeaveSharedDirectory(); }
            catch (Exception e) when (e is MemoryNodeFailure or MemoryFault) { }
        }
        bool clean = !SemaphoreUndo && KilledBySignal == 0 && !JoinedSharedDirectory && !Cache.Coherent;
        AdoptOrphans();
        foreach (int pid in ChildrenNow())
        {
            var link = Child(pid);
            if (link != null && ForkControl.PollExit(link))
            {
                ReapReported(link);
                continue;
            }
            int status;
            long r = Host.Native.Sys(Abi.Nr.wait4, pid, (nint)(&status), 1 /* WNOHANG */, 0);
            if (r == pid || r == -Errno.ECHILD) RemoveChild(pid);
            else clean = false;
        }
        return clean;
    }

    /// <summary>
    /// Children that exited and were never reaped have components waiting to be reaped: they end now rather than
    /// when they notice this process is gone (the kernel's init would reap such zombies at once).
    /// </summary>
    void StopReportedChildren()
    {
        foreach (int pid in ChildrenNow())
        {
            if (Child(pid) is not { } link || !ForkControl.PollExit(link)) continue;
            lock (_children) _children.Remove(pid);
            TableReaped(pid, link.Report!.Status);
            if (link.Pidfd >= 0) Host.Native.Sys(Abi.Nr.close, link.Pidfd);
            ForkPool.Stop(link.Pid, link.Control);
        }
    }
}

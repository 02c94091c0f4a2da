namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// What a parent knows of one of its guest's children: a pidfd that turns readable when the child's component
/// ends (or -1), the control socket to that component (or -1, <see cref="ForkControl"/>), and the exit the
/// component reported when its guest exited while the component itself lives on (a zombie the parent has not
/// reaped yet). Reads of the socket lock the link. Linux raises SIGCHLD at the exit, before the parent can reap:
/// here the first read of the report raises it, whether that read is the guest's wait or the host signal that
/// announced the report.
/// </summary>
public sealed class ChildLink(int pid, int pidfd, int control, Action<ChildLink> reported)
{
    public int Pid { get; } = pid;
    public int Pidfd { get; } = pidfd;
    public int Control { get; } = control;
    /// <summary>The guest's exit as its component reported it; null while the guest lives (or when its component ended instead).</summary>
    public ForkControl.ExitReport? Report { get; set; }
    /// <summary>Called once, by whichever thread reads the exit report first (it raises the guest's SIGCHLD).</summary>
    internal void Reported() => reported(this);

    /// <summary>The component closed its end: no report will come, the host's wait tells what happened.</summary>
    public bool Closed { get; set; }

    /// <summary>
    /// The guest signalled this child while it lived. A child that exits on its own just then (a pool's terminate()
    /// racing its worker's exit) leaves the signal on its way to the component, which the runtime hands to whatever
    /// guest runs there when it gets to it: such a component is not given another child.
    /// </summary>
    public bool Signalled { get; set; }
}

using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Processes;
using static LegoEmu.Syscalls.Processes.TableMessage;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The guest's side of the process table at the root. The kernel still keeps every relation between guest processes
/// (a guest's pid is its component's host pid), and the table follows it from the events each guest reports: its
/// forks, exit, reaped children, setpgid, setsid and subreaper flag. With <c>LEGOEMU_CHECK_PROCESSES=1</c> the table
/// is kept and checked: getppid, getpgid, getpgrp, getsid and every reaping wait ask the table too, and a disagreement
/// with the host is one line on the emulator's stderr. Without it nothing is kept and nothing is sent.
/// </summary>
public sealed partial class GuestProcess
{
    /// <summary>The environment variable that turns the table and its checks on (set for `legoemu run`; components inherit it).</summary>
    public const string CheckProcessesVariable = "LEGOEMU_CHECK_PROCESSES";

    ProcessTableClient? _processTable;

    /// <summary>At the guest's start: the root starts the table (when it is kept), and every guest joins it.</summary>
    void JoinProcessTable()
    {
        if (!ForwardHostSignals || Environment.GetEnvironmentVariable(CheckProcessesVariable) != "1") return;
        if (!_forked && Environment.GetEnvironmentVariable(ProcessTableServer.Variable) == null)
        {
            var server = ProcessTableServer.Start(out string error);
            if (server == null)
            {
                Options.Diagnostics.WriteLine($"legoemu: the process table cannot be started: {error}");
                return;
            }
            Environment.SetEnvironmentVariable(ProcessTableServer.Variable, server.Name);
        }
        _processTable = ProcessTableClient.Shared;
        if (!_forked) _processTable?.Report(new TableMessage(Kinds.Root, Pid, Host.Native.Sys(Nr.getpgrp), Host.Native.Sys(Nr.getsid, 0)));
    }

    void TableReport(Kinds kind, long a = 0, long b = 0) => _processTable?.Report(new TableMessage(kind, Pid, a, b));

    /// <summary>The guest forked <paramref name="child"/>.</summary>
    void TableForked(int child)
    {
        if (Timeline.Enabled) Timeline.Mark($"fork: child {child}");
        TableReport(Kinds.Forked, child);
    }

    /// <summary>The guest's child <paramref name="child"/> is gone (reaped, or never started).</summary>
    void TableReaped(int child, int status = 0) => TableReport(Kinds.Reaped, child, status);

    /// <summary>A setpgid succeeded: <paramref name="pid"/> (the guest or its child) is in <paramref name="group"/>.</summary>
    public void TableGroup(int pid, long group) => _processTable?.Report(new TableMessage(Kinds.Group, pid, group));

    /// <summary>A setsid succeeded.</summary>
    public void TableSession() => TableReport(Kinds.Session);

    /// <summary>The guest's own exit (one killed by a signal ends its component, and the table hears of that).</summary>
    void TableExited()
    {
        if (KilledBySignal == 0) TableReport(Kinds.Exited, (ExitStatus & 0xff) << 8);
    }

    /// <summary>getppid's answer, checked against the table.</summary>
    public long CheckedParent(long host)
    {
        if (_processTable != null)
            Check("the parent", Pid, Kinds.ParentOf, () => Host.Native.Sys(Nr.getppid),
                (h, t) => t > 0 ? h == t : _processTable.Ask(Kinds.ParentOf, (int)h) == NotHeld, host);
        return host;
    }

    /// <summary>getpgid's (or getpgrp's) answer for <paramref name="pid"/>, checked against the table.</summary>
    public long CheckedGroup(int pid, long host)
    {
        if (_processTable != null && host >= 0)
            Check("the process group", pid, Kinds.GroupOf, () => Host.Native.Sys(Nr.getpgid, pid == Pid ? 0 : pid), (h, t) => h == t, host);
        return host;
    }

    /// <summary>getsid's answer for <paramref name="pid"/>, checked against the table.</summary>
    public long CheckedSession(int pid, long host)
    {
        if (_processTable != null && host >= 0)
            Check("the session", pid, Kinds.SessionOf, () => Host.Native.Sys(Nr.getsid, pid == Pid ? 0 : pid), (h, t) => h == t, host);
        return host;
    }

    /// <summary>A wait is about to reap <paramref name="child"/>: the table must have it as this guest's child.</summary>
    public void CheckReaping(int child)
    {
        if (_processTable != null) Check("the parent", child, Kinds.ParentOf, () => Pid, (h, t) => h == t, Pid);
    }

    /// <summary>
    /// Compares the host's answer with the table's. Both may lag a moment behind the other (an exit is reported before
    /// the component ends and the kernel reparents its children; a setpgid is reported after the host call), so a
    /// disagreement is asked again for a while before it is told. A process the table does not hold, or whose fork or
    /// group it has not heard of yet, is not compared.
    /// </summary>
    void Check(string what, int pid, Kinds query, Func<long> host, Func<long, long, bool> agree, long first)
    {
        long h = first, t = 0;
        for (int i = 0; i < 100; i++)
        {
            if (i > 0)
            {
                Thread.Sleep(2);
                h = host();
            }
            t = _processTable!.Ask(query, pid);
            if (t == NotHeld || t == ProcessTable.UnknownParent || (t == 0 && query != Kinds.ParentOf)) return;
            if (agree(h, t)) return;
        }
        Options.Diagnostics.WriteLine($"legoemu: the process table disagrees with the host: {what} of {pid} is {h} on the host but {t} in the table");
    }
}

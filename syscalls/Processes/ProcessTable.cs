namespace LegoEmu.Syscalls.Processes;

/// <summary>
/// The guest's process table as Linux keeps it: parents and children, process groups and sessions, zombies, child
/// subreapers, and the reparenting of orphans. It is told what happens (a fork, an exit, a reaping, a setpgid, a setsid)
/// and answers who is whose parent and in which group and session. A process whose parent is outside the guest's tree
/// (the process `legoemu run` started, or an orphan that went to the host's init or subreaper) has parent 0.
/// <para>
/// Events come from different components, so two that no guest ordered (a child's setpgid and its parent's report of
/// the fork) may arrive either way round: a process first heard of from its own event is kept with an unknown parent
/// until its fork is reported, and a fork reported after the parent's exit reparents the child at once.
/// </para>
/// Not thread-safe: one thread owns it (<see cref="ProcessTableServer"/>).
/// </summary>
public sealed class ProcessTable
{
    /// <summary>A parent not yet known: the process's fork has not been reported yet.</summary>
    public const int UnknownParent = -1;

    sealed class Entry(int pid)
    {
        public readonly int Pid = pid;
        public int Parent = UnknownParent;
        /// <summary>0 until known (taken from the parent at the fork unless the process set its own first).</summary>
        public int Group, Session;
        public bool Zombie, Subreaper;
        public int Status;
        public readonly HashSet<int> Children = new();
    }

    readonly Dictionary<int, Entry> _entries = new();

    /// <summary>How many processes the table holds (zombies included).</summary>
    public int Count => _entries.Count;

    Entry Get(int pid)
    {
        if (!_entries.TryGetValue(pid, out var e)) _entries[pid] = e = new Entry(pid);
        return e;
    }

    /// <summary>The first process of the guest: its parent is outside the tree.</summary>
    public void Root(int pid, int group, int session)
    {
        var e = Get(pid);
        e.Parent = 0;
        e.Group = group;
        e.Session = session;
    }

    /// <summary><paramref name="parent"/> forked <paramref name="child"/>, which starts in its parent's group and session.</summary>
    public void Forked(int parent, int child)
    {
        var p = Get(parent);
        var c = Get(child);
        // A pid is used again only after its last owner was reaped, so a live entry here is the child's own early event.
        if (c.Parent > 0 && _entries.TryGetValue(c.Parent, out var old)) old.Children.Remove(child);
        c.Parent = parent;
        if (c.Group == 0) c.Group = p.Group;
        if (c.Session == 0) c.Session = p.Session;
        p.Children.Add(child);
        // The parent's exit was heard first: the kernel reparented the child when the parent died.
        if (p.Zombie) Reparent(p, c);
    }

    /// <summary>
    /// <paramref name="pid"/> exited (or was killed) with the wait status <paramref name="status"/>: it is a zombie until
    /// reaped, and its children go to the nearest living subreaper above it, or out of the tree.
    /// </summary>
    public void Exited(int pid, int status)
    {
        var e = Get(pid);
        if (e.Zombie) return;
        e.Zombie = true;
        e.Status = status;
        foreach (int c in e.Children.ToArray())
            if (_entries.TryGetValue(c, out var child)) Reparent(e, child);
        e.Children.Clear();
    }

    /// <summary>
    /// Moves <paramref name="child"/> of the dead <paramref name="father"/> to its new parent as Linux's find_new_reaper
    /// chooses it: the first ancestor above the father that is a child subreaper and alive; otherwise init, outside.
    /// </summary>
    void Reparent(Entry father, Entry child)
    {
        father.Children.Remove(child.Pid);
        int reaper = 0;
        for (int a = father.Parent; a > 0 && _entries.TryGetValue(a, out var ancestor); a = ancestor.Parent)
        {
            if (ancestor.Subreaper && !ancestor.Zombie)
            {
                reaper = a;
                break;
            }
        }
        child.Parent = reaper;
        if (reaper > 0) _entries[reaper].Children.Add(child.Pid);
        // A zombie that leaves the tree is reaped by the host's init; one that stays waits for its new parent.
        else if (child.Zombie) Remove(child);
    }

    /// <summary>A wait reaped <paramref name="pid"/>: it is gone (an exit nobody reported, a kill, counts from now).</summary>
    public void Reaped(int pid, int status)
    {
        if (!_entries.TryGetValue(pid, out var e)) return;
        Exited(pid, status);
        Remove(e);
    }

    void Remove(Entry e)
    {
        if (e.Parent > 0 && _entries.TryGetValue(e.Parent, out var p)) p.Children.Remove(e.Pid);
        _entries.Remove(e.Pid);
    }

    /// <summary>A setpgid that succeeded: <paramref name="pid"/> is in <paramref name="group"/> now.</summary>
    public void SetGroup(int pid, int group) => Get(pid).Group = group;

    /// <summary>A setsid that succeeded: <paramref name="pid"/> leads a new session and a new group.</summary>
    public void SetSession(int pid)
    {
        var e = Get(pid);
        e.Group = e.Session = pid;
    }

    /// <summary>prctl(PR_SET_CHILD_SUBREAPER).</summary>
    public void SetSubreaper(int pid, bool on) => Get(pid).Subreaper = on;

    /// <summary>The parent of <paramref name="pid"/>: 0 outside the tree, <see cref="UnknownParent"/> when not reported yet; null when the table does not hold it.</summary>
    public int? ParentOf(int pid) => _entries.TryGetValue(pid, out var e) ? e.Parent : null;

    /// <summary>The process group of <paramref name="pid"/> (0 while unknown); null when the table does not hold it.</summary>
    public int? GroupOf(int pid) => _entries.TryGetValue(pid, out var e) ? e.Group : null;

    /// <summary>The session of <paramref name="pid"/> (0 while unknown); null when the table does not hold it.</summary>
    public int? SessionOf(int pid) => _entries.TryGetValue(pid, out var e) ? e.Session : null;

    /// <summary>Whether <paramref name="pid"/> has exited and waits to be reaped.</summary>
    public bool IsZombie(int pid) => _entries.TryGetValue(pid, out var e) && e.Zombie;

    /// <summary>The children of <paramref name="pid"/> not yet reaped, zombies included.</summary>
    public IReadOnlyCollection<int> ChildrenOf(int pid) => _entries.TryGetValue(pid, out var e) ? e.Children : [];

    /// <summary>The living members of process group <paramref name="group"/>.</summary>
    public List<int> MembersOf(int group)
    {
        var list = new List<int>();
        foreach (var e in _entries.Values)
            if (e.Group == group && !e.Zombie) list.Add(e.Pid);
        return list;
    }
}

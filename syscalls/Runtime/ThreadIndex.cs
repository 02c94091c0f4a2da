namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// What the scheduler asks about a process's threads, kept current so that no question walks them all: the
/// runnable ones in the order they get the processor, the ones blocked in a system call, the futex sleepers
/// with a deadline or a shared word to look at, the sleepers of each futex word in the order they came (the
/// kernel's wake order), and the live ones by tid. A thread reports every change of a field these depend on
/// (<see cref="GuestThread.Changed"/>), so creating, waking and ending a thread costs the same among ten
/// threads as among ten thousand.
/// </summary>
sealed class ThreadIndex
{
    /// <summary>Where one thread is filed: a list node of its own per list, made once, so filing never allocates.</summary>
    internal sealed class Filing(GuestThread t)
    {
        public readonly LinkedListNode<GuestThread> Run = new(t), Blocked = new(t), Timed = new(t), Futex = new(t);
        /// <summary>The futex word whose sleepers include it (0: none).</summary>
        public ulong FutexWord;
        public bool Live, Remote;
    }

    readonly LinkedList<GuestThread> _runQueue = new();
    readonly LinkedList<GuestThread> _blocked = new();
    readonly LinkedList<GuestThread> _timed = new();
    readonly Dictionary<ulong, LinkedList<GuestThread>> _sleepers = new();
    readonly Stack<LinkedList<GuestThread>> _spare = new();
    readonly Dictionary<int, GuestThread> _byTid = new();

    /// <summary>Threads that have not exited.</summary>
    public int Live { get; private set; }
    /// <summary>Live threads computing on another processor component.</summary>
    public int Remote { get; private set; }
    /// <summary>Threads that exited since the process last dropped its exited threads from its list.</summary>
    public int ExitedSinceDrop { get; set; }

    /// <summary>
    /// The thread that has the processor now: it is runnable but stands in no queue, and goes to the back of
    /// the queue when its turn ends (<see cref="EndTurn"/>).
    /// </summary>
    public GuestThread? Running { get; private set; }

    public void Add(GuestThread t)
    {
        t.Index = this;
        Update(t);
    }

    /// <summary>Files <paramref name="t"/> where its fields say it belongs now.</summary>
    public void Update(GuestThread t)
    {
        var f = t.Filed;
        bool live = !t.Exited;
        if (live != f.Live)
        {
            f.Live = live;
            if (live)
            {
                Live++;
                _byTid[t.Tid] = t;
            }
            else
            {
                Live--;
                ExitedSinceDrop++;
                if (_byTid.TryGetValue(t.Tid, out var same) && same == t) _byTid.Remove(t.Tid);
            }
        }
        ulong word = live ? t.FutexAddress : 0;
        if (word != f.FutexWord)
        {
            if (f.FutexWord != 0)
            {
                var from = f.Futex.List!;
                from.Remove(f.Futex);
                if (from.Count == 0)
                {
                    _sleepers.Remove(f.FutexWord);
                    _spare.Push(from);
                }
            }
            if (word != 0)
            {
                if (!_sleepers.TryGetValue(word, out var to))
                {
                    to = _spare.Count > 0 ? _spare.Pop() : new LinkedList<GuestThread>();
                    _sleepers[word] = to;
                }
                to.AddLast(f.Futex);
            }
            f.FutexWord = word;
        }
        File(_timed, f.Timed, word != 0 && (t.WaitDeadline != long.MaxValue || t.FutexRecheck != long.MaxValue));
        File(_blocked, f.Blocked, live && t.Wait.Active);
        bool remote = live && t.AwaitingRemote;
        if (remote != f.Remote)
        {
            f.Remote = remote;
            Remote += remote ? 1 : -1;
        }
        File(_runQueue, f.Run, t.Runnable && t != Running);
    }

    static void File(LinkedList<GuestThread> list, LinkedListNode<GuestThread> node, bool member)
    {
        if (member == (node.List != null)) return;
        if (member) list.AddLast(node);
        else list.Remove(node);
    }

    /// <summary>The running thread's turn is over: it queues behind the others if it can still run.</summary>
    public void EndTurn()
    {
        var t = Running;
        if (t == null) return;
        Running = null;
        Update(t);
    }

    public bool AnyRunnable => _runQueue.Count > 0;

    /// <summary>Gives the processor to the first runnable thread in the queue, or returns null.</summary>
    public GuestThread? TakeNext()
    {
        var n = _runQueue.First;
        if (n == null) return null;
        _runQueue.Remove(n);
        Running = n.Value;
        return n.Value;
    }

    /// <summary>Gives the processor to <paramref name="t"/> out of turn (a blocked thread a signal interrupted).</summary>
    public void Take(GuestThread t)
    {
        EndTurn();
        if (t.Filed.Run.List != null) _runQueue.Remove(t.Filed.Run);
        Running = t;
    }

    /// <summary>Threads blocked in a system call, in the order they blocked.</summary>
    public LinkedList<GuestThread> Blocked => _blocked;

    /// <summary>Futex sleepers with a deadline or a shared word to look at again.</summary>
    public LinkedList<GuestThread> Timed => _timed;

    /// <summary>The first of the threads sleeping on <paramref name="word"/> in the order they came, or null.</summary>
    public LinkedListNode<GuestThread>? FirstSleeper(ulong word) =>
        _sleepers.TryGetValue(word, out var list) ? list.First : null;

    /// <summary>The live thread with id <paramref name="tid"/>, or null.</summary>
    public GuestThread? Find(int tid) => _byTid.GetValueOrDefault(tid);
}

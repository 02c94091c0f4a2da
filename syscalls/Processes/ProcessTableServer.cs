using System.Text;
using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Processes;

/// <summary>
/// The process table at the root: the `legoemu run` process serves one <see cref="ProcessTable"/> for the whole guest
/// tree on a Unix SOCK_SEQPACKET socket in the abstract namespace (nothing on disk to clean up), and every component,
/// the root's own included, connects to it (<see cref="ProcessTableClient"/>). One thread reads all connections. Before
/// it answers a query it reads every connection until none has more: an event a guest sent before something the
/// querying guest then learned (a byte through a pipe, a wait) was queued before the query was sent, so the answer
/// already counts it. A component whose connection ends while its guest is neither exited nor reaped was killed.
/// </summary>
public sealed class ProcessTableServer
{
    /// <summary>The environment variable that gives components the table's socket name (the abstract name without its leading NUL).</summary>
    public const string Variable = "LEGOEMU_PROCESS_TABLE";

    const int Socket = 41, Bind = 49, Listen = 50, Accept4 = 288, AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000, POLLIN = 1;

    readonly ProcessTable _table = new();
    readonly int _listener;
    /// <summary>Open connections and the host pid each one named in its hello (0 before it).</summary>
    readonly List<(int Fd, int Pid)> _connections = new();
    readonly List<(int Fd, TableMessage Query)> _queries = new();

    /// <summary>The abstract socket name components connect to.</summary>
    public string Name { get; }

    ProcessTableServer(int listener, string name)
    {
        _listener = listener;
        Name = name;
    }

    /// <summary>Starts the table's thread on a fresh socket, or returns null with the reason when the socket cannot be made.</summary>
    public static ProcessTableServer? Start(out string error)
    {
        error = "";
        string name = $"legoemu-processes-{Environment.ProcessId}-{Guid.NewGuid():N}";
        long fd = Native.Sys(Socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) { error = $"socket: errno {-fd}"; return null; }
        long r = WithAddress(name, (addr, len) => Native.Sys(Bind, fd, addr, len));
        if (r == 0) r = Native.Sys(Listen, fd, 128);
        if (r < 0)
        {
            Native.Sys(Nr.close, fd);
            error = $"bind/listen {name}: errno {-r}";
            return null;
        }
        var server = new ProcessTableServer((int)fd, name);
        new Thread(server.Serve) { IsBackground = true, Name = "process-table" }.Start();
        return server;
    }

    /// <summary>Calls <paramref name="call"/> with a sockaddr_un for the abstract <paramref name="name"/> and its length.</summary>
    public static unsafe long WithAddress(string name, Func<nint, long, long> call)
    {
        byte* addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        *(ushort*)addr = AF_UNIX;
        int n = Encoding.ASCII.GetBytes(name, new Span<byte>(addr + 3, 107)); // sun_path[0] = 0: abstract
        return call((nint)addr, 3 + n);
    }

    unsafe void Serve()
    {
        var fds = new List<long>();
        while (true)
        {
            fds.Clear();
            fds.Add((uint)_listener | ((long)POLLIN << 32));
            foreach (var c in _connections) fds.Add((uint)c.Fd | ((long)POLLIN << 32));
            var pollfds = fds.ToArray();
            long ready;
            fixed (long* p = pollfds) ready = Native.Sys(Nr.poll, (nint)p, pollfds.Length, -1);
            if (ready == -Errno.EINTR) continue;
            if (ready < 0) return;
            if ((pollfds[0] >> 48) != 0)
            {
                long fd = Native.Sys(Accept4, _listener, 0, 0, SOCK_CLOEXEC);
                if (fd >= 0) _connections.Add(((int)fd, 0));
            }
            // Read until every connection is empty, then answer the queries read on the way.
            while (ReadAll()) { }
            foreach (var (fd, q) in _queries) new TableMessage(TableMessage.Kinds.Answer, q.Pid, Answer(q)).Send(fd);
            _queries.Clear();
        }
    }

    /// <summary>Reads what every connection holds now; true when anything was read.</summary>
    bool ReadAll()
    {
        bool any = false;
        for (int i = 0; i < _connections.Count; i++)
        {
            while (true)
            {
                long r = TableMessage.Receive(_connections[i].Fd, wait: false, out var m);
                if (r == -Errno.EAGAIN) break;
                any = true;
                if (r <= 0)
                {
                    Ended(_connections[i].Pid);
                    Native.Sys(Nr.close, _connections[i].Fd);
                    _connections.RemoveAt(i--);
                    break;
                }
                if (m.Kind == TableMessage.Kinds.Hello) _connections[i] = (_connections[i].Fd, (int)m.A);
                else if (m.IsQuery) _queries.Add((_connections[i].Fd, m));
                else Apply(m);
            }
        }
        return any;
    }

    /// <summary>A component ended: a guest of it that had not exited was killed (its parent's wait will tell how).</summary>
    void Ended(int pid)
    {
        lock (_table)
            if (pid > 0 && _table.ParentOf(pid) != null && !_table.IsZombie(pid)) _table.Exited(pid, -1);
    }

    void Apply(TableMessage m)
    {
        lock (_table)
        {
            switch (m.Kind)
            {
                case TableMessage.Kinds.Root: _table.Root(m.Pid, (int)m.A, (int)m.B); break;
                case TableMessage.Kinds.Forked: _table.Forked(m.Pid, (int)m.A); break;
                case TableMessage.Kinds.Exited: _table.Exited(m.Pid, (int)m.A); break;
                case TableMessage.Kinds.Reaped: _table.Reaped((int)m.A, (int)m.B); break;
                case TableMessage.Kinds.Group: _table.SetGroup(m.Pid, (int)m.A); break;
                case TableMessage.Kinds.Session: _table.SetSession(m.Pid); break;
                case TableMessage.Kinds.Subreaper: _table.SetSubreaper(m.Pid, m.A != 0); break;
            }
        }
    }

    long Answer(TableMessage q)
    {
        int pid = (int)q.A;
        lock (_table)
            return q.Kind switch
            {
                TableMessage.Kinds.ParentOf => _table.ParentOf(pid) ?? TableMessage.NotHeld,
                TableMessage.Kinds.GroupOf => _table.GroupOf(pid) ?? TableMessage.NotHeld,
                TableMessage.Kinds.SessionOf => _table.SessionOf(pid) ?? TableMessage.NotHeld,
                _ => TableMessage.NotHeld,
            };
    }
}

using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Processes;

/// <summary>
/// A component's connection to the process table at the root (<see cref="ProcessTableServer"/>), made when its first
/// guest first reports something and kept for the guests it runs after. Reports go out without an answer; a query
/// waits for one. Calls from several threads are serialised.
/// </summary>
public sealed class ProcessTableClient
{
    const int Socket = 41, Connect = 42, AF_UNIX = 1, SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0x80000;

    static ProcessTableClient? _shared;
    static int _tried;

    readonly int _fd;
    readonly object _lock = new();
    bool _broken;

    ProcessTableClient(int fd) => _fd = fd;

    /// <summary>This host process's connection, made now if need be; null when no table is kept (or it cannot be reached).</summary>
    public static ProcessTableClient? Shared
    {
        get
        {
            if (Volatile.Read(ref _shared) is { } c) return c;
            if (Interlocked.Exchange(ref _tried, 1) != 0) return Volatile.Read(ref _shared);
            string? name = Environment.GetEnvironmentVariable(ProcessTableServer.Variable);
            if (string.IsNullOrEmpty(name)) return null;
            var client = Open(name, Environment.ProcessId);
            if (client == null) Console.Error.WriteLine($"legoemu: cannot reach the process table ({name}); this process is left out of it");
            Volatile.Write(ref _shared, client);
            return client;
        }
    }

    /// <summary>A new connection to the table named <paramref name="name"/> for the component whose host pid is <paramref name="pid"/>; null when it cannot be made.</summary>
    public static ProcessTableClient? Open(string name, int pid)
    {
        long fd = Native.Sys(Socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0) return null;
        if (ProcessTableServer.WithAddress(name, (addr, len) => Native.Sys(Connect, fd, addr, len)) < 0)
        {
            Native.Sys(Abi.Nr.close, fd);
            return null;
        }
        new TableMessage(TableMessage.Kinds.Hello, pid, pid).Send((int)fd);
        return new ProcessTableClient((int)fd);
    }

    /// <summary>Ends the connection (the table takes it as the end of the component).</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (_broken) return;
            _broken = true;
            Native.Sys(Abi.Nr.close, _fd);
        }
    }

    /// <summary>Sends an event.</summary>
    public void Report(TableMessage m)
    {
        lock (_lock)
            if (!_broken && !m.Send(_fd)) _broken = true;
    }

    /// <summary>Asks the table (<paramref name="kind"/> about <paramref name="pid"/>); <see cref="TableMessage.NotHeld"/> when it cannot answer.</summary>
    public long Ask(TableMessage.Kinds kind, int pid)
    {
        lock (_lock)
        {
            if (_broken) return TableMessage.NotHeld;
            if (!new TableMessage(kind, Environment.ProcessId, pid).Send(_fd) || TableMessage.Receive(_fd, wait: true, out var answer) != 1)
            {
                _broken = true;
                return TableMessage.NotHeld;
            }
            return answer.A;
        }
    }
}

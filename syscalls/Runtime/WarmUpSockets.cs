using System.Net.Sockets;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Closes a socket that another thread is blocked reading, once, on the warm-up thread. Components do that when a
/// forked child leaves its parent's line directory at execve and when a guest's memory links close at its end, both
/// on the way of a parent that waits; the first time in a process it cost 5 to 9 ms (the runtime's socket error
/// path and its first SocketException), later ones 0.3 ms. The two private descriptors live for milliseconds.
/// </summary>
public static class WarmUpSockets
{
    static int _done;

    /// <summary>Does it the first time it is asked for in this process; later calls return at once.</summary>
    public static void RunOnce()
    {
        if (Interlocked.Exchange(ref _done, 1) != 0) return;
        try { Run(); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or ThreadStateException or OutOfMemoryException) { }
    }

    static void Run()
    {
        if (Host.UnixRights.Pair(out int a, out int b) < 0) return;
        using var writer = new Socket(new SafeSocketHandle(b, ownsHandle: true));
        var reader = new Socket(new SafeSocketHandle(a, ownsHandle: true));
        var blocked = new Thread(() =>
        {
            try { reader.Receive(new byte[1]); }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        }) { IsBackground = true, Name = "warm-up reader" };
        blocked.Start();
        // The close must find the reader inside its receive, as a component's does.
        Thread.Sleep(1);
        reader.Dispose();
        blocked.Join();
    }
}

using System.Net.Sockets;
using LegoEmu.Mem.Remote;

namespace LegoEmu.Syscalls.Split;

/// <summary>
/// A thread host inside the home's own process: a processor component with its own ExCache, decoded
/// blocks and host thread, linked to the home over a Unix socket exactly as a <c>procnode</c> is. With
/// one per guest thread (<c>run --processors per-thread</c>) every guest thread has a host thread of
/// its own, and costs no .NET start-up.
/// </summary>
public static class InProcessHost
{
    /// <summary>Starts host number <paramref name="index"/> listening in <paramref name="directory"/>; returns where to connect.</summary>
    public static Endpoint Start(string directory, int index, TextWriter log)
    {
        string path = Path.Combine(directory, $"host{index}.sock");
        if (!Endpoint.TryParse("unix:" + path, out var endpoint, out string error)) throw new MemoryNodeFailure(error);
        var listener = endpoint!.NewSocket();
        try
        {
            listener.Bind(endpoint.Address);
            listener.Listen(1);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new MemoryNodeFailure($"cannot start an in-process processor component: {e.SocketErrorCode}", e);
        }
        var thread = new Thread(() =>
        {
            Socket home;
            using (listener)
            {
                try { home = listener.Accept(); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            }
            try { File.Delete(path); } catch (IOException) { }
            ThreadHost.Serve(home, log);
        }) { IsBackground = true, Name = $"processor-component-{index}" };
        thread.Start();
        return endpoint;
    }
}

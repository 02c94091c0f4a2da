using System.Buffers.Binary;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The message that turns an idle pooled processor component into a forked child: the fork state, and
/// what a fork child inherits from the kernel rather than from the emulator (the working directory, the
/// umask, the resource limits, the descriptors themselves, passed with SCM_RIGHTS). A cold child inherits
/// those at its start; a pooled one started earlier, so it takes them now.
/// </summary>
public static class ForkHandover
{
    const uint Magic = 0x4C4F4F50; // "POOL"
    const int Limits = 16;         // RLIMIT_CPU .. RLIMIT_RTTIME
    const int HeaderBytes = 16 + Limits * 16;

    /// <summary>The host descriptors the state names, each once, in the order they travel.</summary>
    static List<int> HostDescriptors(ForkState s)
    {
        var list = new List<int>();
        var seen = new HashSet<int>();
        foreach (var f in s.Fds) if (seen.Add(f.Host)) list.Add(f.Host);
        foreach (var f in s.SignalFds) if (seen.Add(f.Host)) list.Add(f.Host);
        return list;
    }

    /// <summary>Sends <paramref name="state"/> to the pooled component at the other end of <paramref name="socket"/>; 0 or a negated errno.</summary>
    public static unsafe long Send(int socket, ForkState state, int emulatorStderr)
    {
        long cwd = Areas.Buffers.WithPath(".", p => Native.Sys(Nr.open, p, 0x200000 | 0x80000 /* O_PATH|O_CLOEXEC */));
        if (cwd < 0) return cwd;
        try
        {
            var fds = new List<int> { (int)cwd, emulatorStderr };
            fds.AddRange(HostDescriptors(state));
            byte[] body = state.ToBytes();
            var message = new byte[HeaderBytes + body.Length];
            var h = message.AsSpan();
            long mask = Native.Sys(Nr.umask, 0);
            Native.Sys(Nr.umask, mask);
            BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(h[4..], body.Length);
            BinaryPrimitives.WriteInt32LittleEndian(h[8..], fds.Count);
            BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)mask);
            ulong* limit = stackalloc ulong[2];
            for (int r = 0; r < Limits; r++)
            {
                if (Native.Sys(Nr.prlimit64, 0, r, 0, (nint)limit) < 0) limit[0] = limit[1] = ulong.MaxValue;
                BinaryPrimitives.WriteUInt64LittleEndian(h[(16 + r * 16)..], limit[0]);
                BinaryPrimitives.WriteUInt64LittleEndian(h[(24 + r * 16)..], limit[1]);
            }
            body.CopyTo(h[HeaderBytes..]);
            return UnixRights.Send(socket, message, fds);
        }
        finally
        {
            Native.Sys(Nr.close, cwd);
        }
    }

    /// <summary>
    /// Waits for a hand-over on <paramref name="socket"/> and takes on what it carries: the working directory,
    /// umask, limits and, as descriptor 2, the emulator's own stderr. Returns the state with its host
    /// descriptors renamed to the ones received, or null when the parent closed the socket first (it needs no child).
    /// </summary>
    public static unsafe ForkState? Receive(int socket)
    {
        var fds = new List<int>();
        var header = new byte[HeaderBytes];
        long r = UnixRights.Receive(socket, header, fds);
        if (r == 0 && fds.Count == 0) return null;
        if (r < 0) throw new IOException($"receiving the fork hand-over: error {-r}");
        if (r < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(header) != Magic)
            throw new InvalidDataException("the fork hand-over is truncated or not one");
        int length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4)), count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
        if (length is < 0 or > 64 << 20 || count < 2) throw new InvalidDataException("the fork hand-over has a bad length");
        var body = new byte[length];
        if (UnixRights.Receive(socket, body, fds) != length || fds.Count != count)
            throw new InvalidDataException($"the fork hand-over ended early ({fds.Count} of {count} descriptors)");
        var state = ForkState.FromBytes(body);

        if (Native.Sys(Nr.fchdir, fds[0]) < 0) throw new IOException("cannot enter the parent's working directory");
        Native.Sys(Nr.close, fds[0]);
        Native.Sys(Nr.dup2, fds[1], 2);
        Native.Sys(Nr.close, fds[1]);
        Native.Sys(Nr.umask, BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(12)));
        ulong* limit = stackalloc ulong[2];
        ulong* now = stackalloc ulong[2];
        for (int l = 0; l < Limits; l++)
        {
            limit[0] = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16 + l * 16));
            limit[1] = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(24 + l * 16));
            if (Native.Sys(Nr.prlimit64, 0, l, 0, (nint)now) == 0 && (now[0] != limit[0] || now[1] != limit[1]))
                Native.Sys(Nr.prlimit64, 0, l, (nint)limit, 0);
        }

        var renamed = new Dictionary<int, int>();
        var original = HostDescriptors(state);
        if (original.Count != count - 2) throw new InvalidDataException("the fork hand-over's descriptors do not match its state");
        for (int i = 0; i < original.Count; i++) renamed[original[i]] = fds[i + 2];
        state.Fds = state.Fds.Select(f => (f.Guest, renamed[f.Host], f.CloseOnExec)).ToArray();
        state.SignalFds = state.SignalFds.Select(f => (renamed[f.Host], f.Mask)).ToArray();
        return state;
    }
}

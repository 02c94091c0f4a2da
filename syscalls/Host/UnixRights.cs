namespace LegoEmu.Syscalls.Host;

/// <summary>
/// Bytes and descriptors over a Unix stream socket (SCM_RIGHTS), so a process hands real host objects
/// (pipes, sockets, files) to another without either inheriting them at start.
/// </summary>
public static unsafe class UnixRights
{
    const int SolSocket = 1, ScmRights = 1, MsgNoSignal = 0x4000, MsgCmsgCloexec = 0x40000000;
    const int SendMsg = 46, RecvMsg = 47, SocketPair = 53;
    /// <summary>The kernel's limit per message is 253 (SCM_MAX_FD).</summary>
    const int FdsPerMessage = 250;
    const int HeaderBytes = 16; // cmsghdr: u64 length, i32 level, i32 type

    struct MsgHdr
    {
        public void* Name;
        public ulong NameLen;
        public IoVec* Iov;
        public ulong IovLen;
        public void* Control;
        public ulong ControlLen;
        public int Flags;
    }

    struct IoVec
    {
        public void* Base;
        public ulong Len;
    }

    /// <summary>A connected pair of close-on-exec Unix stream sockets, or a negated errno.</summary>
    public static long Pair(out int a, out int b)
    {
        int* fds = stackalloc int[2];
        long r = Native.Sys(SocketPair, 1 /* AF_UNIX */, 1 | 0x80000 /* SOCK_STREAM|SOCK_CLOEXEC */, 0, (nint)fds);
        a = fds[0];
        b = fds[1];
        return r;
    }

    /// <summary>
    /// Sends <paramref name="data"/> with <paramref name="fds"/> attached (several messages when there are
    /// many). The receiver gets the descriptors in the same order. Returns 0 or a negated errno.
    /// </summary>
    public static long Send(int socket, ReadOnlySpan<byte> data, IReadOnlyList<int> fds)
    {
        // Each batch of descriptors travels with a byte of the data: all but the last with one byte each.
        int batches = (fds.Count + FdsPerMessage - 1) / FdsPerMessage;
        if (data.Length == 0 || batches > data.Length) return -22; // EINVAL
        int sent = 0, batch = 0;
        byte* control = stackalloc byte[HeaderBytes + FdsPerMessage * 4 + 8];
        fixed (byte* bytes = data)
        {
            while (sent < data.Length)
            {
                int n = batch < batches ? Math.Min(FdsPerMessage, fds.Count - batch * FdsPerMessage) : 0;
                int take = batch < batches - 1 ? 1 : data.Length - sent;
                var iov = new IoVec { Base = bytes + sent, Len = (ulong)take };
                var msg = new MsgHdr { Iov = &iov, IovLen = 1 };
                if (n > 0)
                {
                    *(ulong*)control = (ulong)(HeaderBytes + n * 4);
                    *(int*)(control + 8) = SolSocket;
                    *(int*)(control + 12) = ScmRights;
                    for (int i = 0; i < n; i++) ((int*)(control + HeaderBytes))[i] = fds[batch * FdsPerMessage + i];
                    msg.Control = control;
                    msg.ControlLen = (ulong)((HeaderBytes + n * 4 + 7) & ~7);
                }
                long r = Native.Sys(SendMsg, socket, (nint)(&msg), MsgNoSignal);
                if (r == -4) continue; // EINTR: nothing was sent
                if (r < 0) return r;
                if (n > 0) batch++; // the descriptors went with the first byte
                sent += (int)r;
            }
        }
        return 0;
    }

    /// <summary>
    /// Receives exactly <paramref name="buffer"/>.Length bytes, adding every descriptor that arrives with
    /// them (close-on-exec) to <paramref name="fds"/>. Returns the bytes read (fewer at end of stream) or a negated errno.
    /// </summary>
    public static long Receive(int socket, Span<byte> buffer, List<int> fds)
    {
        int got = 0;
        byte* control = stackalloc byte[HeaderBytes + 253 * 4 + 8];
        fixed (byte* bytes = buffer)
        {
            while (got < buffer.Length)
            {
                var iov = new IoVec { Base = bytes + got, Len = (ulong)(buffer.Length - got) };
                var msg = new MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = HeaderBytes + 253 * 4 + 8 };
                long r = Native.Sys(RecvMsg, socket, (nint)(&msg), MsgCmsgCloexec);
                if (r == -4) continue;
                if (r < 0) return r;
                for (byte* c = control; msg.ControlLen >= HeaderBytes && c + HeaderBytes <= control + (long)msg.ControlLen;)
                {
                    ulong len = *(ulong*)c;
                    if (len < HeaderBytes) break;
                    if (*(int*)(c + 8) == SolSocket && *(int*)(c + 12) == ScmRights)
                        for (int i = 0; i < (int)(len - HeaderBytes) / 4; i++) fds.Add(((int*)(c + HeaderBytes))[i]);
                    c += (len + 7) & ~7UL;
                }
                if ((msg.Flags & 0x8 /* MSG_CTRUNC */) != 0) return -105; // ENOBUFS: descriptors were lost
                if (r == 0) break;
                got += (int)r;
            }
        }
        return got;
    }
}

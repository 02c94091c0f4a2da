using LegoEmu.Mem;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Processes;

/// <summary>
/// One message between a component and the process table: 32 bytes, <c>i32 kind | i32 pid | i64 a | i64 b | i64 c</c>,
/// on a SOCK_SEQPACKET connection (one message a packet, in order). Events need no answer; a query gets one message back
/// whose <c>a</c> is the value.
/// </summary>
public readonly record struct TableMessage(TableMessage.Kinds Kind, int Pid, long A = 0, long B = 0, long C = 0)
{
    /// <summary>What a message says.</summary>
    public enum Kinds
    {
        /// <summary>The first message on a connection: the component's host pid (a).</summary>
        Hello = 1,
        /// <summary>pid is the first guest process: a = its group, b = its session.</summary>
        Root = 2,
        /// <summary>pid forked a = the child.</summary>
        Forked = 3,
        /// <summary>pid exited with wait status a.</summary>
        Exited = 4,
        /// <summary>pid's wait reaped a, whose wait status was b.</summary>
        Reaped = 5,
        /// <summary>pid is in process group a now.</summary>
        Group = 6,
        /// <summary>pid made a session of its own.</summary>
        Session = 7,
        /// <summary>pid is a child subreaper (a = 1) or no longer (a = 0).</summary>
        Subreaper = 8,
        /// <summary>Query: the parent of a (0 outside the tree, -1 not known yet, -3 not in the table).</summary>
        ParentOf = 16,
        /// <summary>Query: the process group of a (0 unknown, -3 not in the table).</summary>
        GroupOf = 17,
        /// <summary>Query: the session of a (0 unknown, -3 not in the table).</summary>
        SessionOf = 18,
        /// <summary>The answer to a query.</summary>
        Answer = 32,
    }

    /// <summary>A query's answer for a process the table does not hold.</summary>
    public const long NotHeld = -3;

    public const int Size = 32;

    public bool IsQuery => Kind is Kinds.ParentOf or Kinds.GroupOf or Kinds.SessionOf;

    const int SendTo = 44, RecvFrom = 45, MSG_NOSIGNAL = 0x4000, MSG_DONTWAIT = 0x40;

    /// <summary>Sends the message; false when the connection is gone.</summary>
    public unsafe bool Send(int fd)
    {
        long* m = stackalloc long[4];
        m[0] = (uint)Kind | ((long)Pid << 32);
        m[1] = A;
        m[2] = B;
        m[3] = C;
        while (true)
        {
            long r = Native.Sys(SendTo, fd, (nint)m, Size, MSG_NOSIGNAL, 0, 0);
            if (r == -Errno.EINTR) continue;
            return r == Size;
        }
    }

    /// <summary>
    /// Receives one message: 1 with a message, 0 at the end of the connection, or a negated errno (EAGAIN when
    /// <paramref name="wait"/> is false and nothing is there).
    /// </summary>
    public static unsafe long Receive(int fd, bool wait, out TableMessage message)
    {
        long* m = stackalloc long[4];
        message = default;
        while (true)
        {
            long r = Native.Sys(RecvFrom, fd, (nint)m, Size, wait ? 0 : MSG_DONTWAIT, 0, 0);
            if (r == -Errno.EINTR) continue;
            if (r <= 0) return r;
            if (r != Size) return -Errno.EIO;
            message = new TableMessage((Kinds)(int)(m[0] & 0xffffffff), (int)(m[0] >> 32), m[1], m[2], m[3]);
            return 1;
        }
    }
}

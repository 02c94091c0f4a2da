using System.Buffers.Binary;
using System.Collections.Concurrent;
using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// The socket between a forked child's component and its parent, for what the parent's kernel would do to
/// the child but cannot do to its component.
/// <para>
/// The kernel lets a parent move its child into a process group (setpgid) only until the child has called
/// execve. Every component has called execve once already, to start the emulator, so the host refuses with
/// EACCES even though the guest child has not. Shells rely on that call: bash with job control sets the group
/// from both sides of the fork, so the job is in its group before either side goes on. The parent asks the
/// child's component instead, which sets its own group if its guest has not called execve yet, and answers
/// EACCES after, as the kernel does.
/// </para>
/// <para>
/// A component outlives its guest process: when the guest exits, the component reports the exit status here
/// (the parent's waits and SIGCHLD take it from the report, as from a zombie), and once the parent has reaped
/// it, the parent may hand it its next forked child on the same socket (<see cref="ForkHandover"/>).
/// </para>
/// Parent to child: a set-group request (<c>u8 1 | i64 group</c>) or a hand-over (which starts with its own magic).
/// Child to parent: 56-byte messages <c>i64 kind | i64 a | i64 b | i64 c | i64 d | i64 e | i64 f</c>: a group answer (a = result)
/// or an exit (a = wait status, b and c = user and system CPU microseconds, d = the process group the guest was in, e and f
/// = user and system CPU microseconds of the children the guest reaped).
/// </summary>
public static class ForkControl
{
    const byte SetGroup = 1;
    const long GroupAnswer = 1, Exited = 2;
    const int MessageBytes = 56;
    const int SendTo = 44, RecvFrom = 45, MSG_NOSIGNAL = 0x4000, MSG_WAITALL = 0x100, MSG_DONTWAIT = 0x40, MSG_PEEK = 2;

    /// <summary>How long a parent waits for a child's component to answer (a cold one may still be starting).</summary>
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>An exit a component reported for its guest: the wait status, the CPU time the guest used and that of the children it reaped.</summary>
    public sealed record ExitReport(int Status, long UserMicros, long SystemMicros, long Group, long ChildrenUserMicros, long ChildrenSystemMicros);

    /// <summary>
    /// The parent's side: setpgid(child, <paramref name="group"/>) done by the child's component; 0 or a negated
    /// errno, or null when the component did not answer (it has ended). An exit report that arrives first is
    /// kept in <paramref name="link"/>, and the child is then gone for setpgid (ESRCH).
    /// </summary>
    public static unsafe long? SetChildGroup(ChildLink link, long group)
    {
        lock (link)
        {
            if (link.Report != null) return -Errno.ESRCH;
            byte* request = stackalloc byte[9];
            request[0] = SetGroup;
            BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(request + 1, 8), group);
            if (Native.Sys(SendTo, link.Control, (nint)request, 9, MSG_NOSIGNAL, 0, 0) != 9) return null;
            long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
            long* pfd = stackalloc long[1];
            long* m = stackalloc long[7];
            while (true)
            {
                // The child answers between two guest blocks, from its own thread: a short wait, bounded in case it hangs.
                pfd[0] = (uint)link.Control | (1L << 32); // POLLIN
                long left = deadline - Environment.TickCount64;
                if (left <= 0) return null;
                long ready = Native.Sys(Nr.poll, (nint)pfd, 1, left);
                if (ready == -Errno.EINTR) continue;
                if (ready != 1) return null;
                if (Native.Sys(RecvFrom, link.Control, (nint)m, MessageBytes, MSG_WAITALL, 0, 0) != MessageBytes) return null;
                if (m[0] == GroupAnswer) return m[1];
                if (m[0] == Exited)
                {
                    link.Report = new ExitReport((int)m[1], m[2], m[3], m[4], m[5], m[6]);
                    link.Reported();
                    return -Errno.ESRCH;
                }
            }
        }
    }

    /// <summary>
    /// The parent's side: reads, without waiting, what the child's component has sent; true when an exit report
    /// is (now or already) in <paramref name="link"/>. Stray group answers (of a request that timed out) are dropped.
    /// </summary>
    public static unsafe bool PollExit(ChildLink link)
    {
        lock (link)
        {
            if (link.Report != null) return true;
            if (link.Control < 0 || link.Closed) return false;
            long* m = stackalloc long[7];
            while (true)
            {
                long n = Native.Sys(RecvFrom, link.Control, (nint)m, MessageBytes, MSG_DONTWAIT, 0, 0);
                if (n == -Errno.EINTR) continue;
                if (n == 0) { link.Closed = true; return false; }
                if (n < 0) return false;
                if (n < MessageBytes && Native.Sys(RecvFrom, link.Control, (nint)((byte*)m + n), MessageBytes - n, MSG_WAITALL, 0, 0) != MessageBytes - n)
                {
                    link.Closed = true;
                    return false;
                }
                if (m[0] != Exited) continue;
                link.Report = new ExitReport((int)m[1], m[2], m[3], m[4], m[5], m[6]);
                link.Reported();
                return true;
            }
        }
    }

    /// <summary>The child's side: tells the parent its guest has exited; false when the parent is gone.</summary>
    public static unsafe bool ReportExit(int socket, int status, (long User, long System) self, long group, (long User, long System) children)
    {
        long* m = stackalloc long[7];
        m[0] = Exited;
        m[1] = status;
        m[2] = self.User;
        m[3] = self.System;
        m[4] = group;
        m[5] = children.User;
        m[6] = children.System;
        return Native.Sys(SendTo, socket, (nint)m, MessageBytes, MSG_NOSIGNAL, 0, 0) == MessageBytes;
    }

    /// <summary>
    /// The child's side: a thread that answers the parent's requests on <paramref name="socket"/> for the
    /// component's whole life and queues the hand-overs that arrive on it. <paramref name="execed"/> says whether
    /// the current (or the coming) guest has called execve; while the inbox is <see cref="ComponentInbox.Idle"/> the
    /// child is gone and the answer is ESRCH. <paramref name="parentEnded"/> is called when the socket ends.
    /// </summary>
    public static ComponentInbox Serve(int socket, Func<bool> execed, Action parentEnded)
    {
        var inbox = new ComponentInbox();
        var t = new Thread(() => Answer(socket, execed, inbox, parentEnded)) { IsBackground = true, Name = "fork-control" };
        t.Start();
        return inbox;
    }

    /// <summary>What a component's control thread hands its main thread: the next fork state, or null when the parent is done with it.</summary>
    public sealed class ComponentInbox
    {
        readonly BlockingCollection<ForkState?> _states = new();
        volatile bool _idle;

        /// <summary>The component has no guest: its last one exited (set before the exit is reported) and no hand-over came since.</summary>
        public bool Idle { get => _idle; set => _idle = value; }

        internal void Post(ForkState? s)
        {
            if (s != null) _idle = false;
            _states.Add(s);
        }
        /// <summary>Waits for the next hand-over; null when the parent closed the socket (or sent something unreadable).</summary>
        public ForkState? Take() => _states.Take();
    }

    static unsafe void Answer(int socket, Func<bool> execed, ComponentInbox inbox, Action parentEnded)
    {
        byte* request = stackalloc byte[9];
        long* answer = stackalloc long[7];
        long parent = Native.Sys(Nr.getppid);
        try
        {
            while (true)
            {
                long n = Native.Sys(RecvFrom, socket, (nint)request, 1, MSG_PEEK, 0, 0);
                if (n == -Errno.EINTR) continue;
                if (n != 1) break;
                if (request[0] != SetGroup)
                {
                    ForkState? state;
                    try { state = ForkHandover.Receive(socket); }
                    catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or KeyNotFoundException)
                    {
                        Console.Error.WriteLine($"legoemu procnode: cannot take the fork hand-over on descriptor {socket}: {e.Message}");
                        break;
                    }
                    if (state == null) break;
                    inbox.Post(state);
                    continue;
                }
                if (Native.Sys(RecvFrom, socket, (nint)request, 9, MSG_WAITALL, 0, 0) != 9) break;
                long group = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(request + 1, 8));
                answer[0] = GroupAnswer;
                answer[1] = inbox.Idle ? -Errno.ESRCH : execed() ? -Errno.EACCES : Native.Sys(Nr.setpgid, 0, group);
                answer[2] = answer[3] = answer[4] = answer[5] = answer[6] = 0;
                if (Native.Sys(SendTo, socket, (nint)answer, MessageBytes, MSG_NOSIGNAL, 0, 0) != MessageBytes) break;
            }
        }
        finally
        {
            // The parent's process holds the other end until it ends. Its descriptors close before the kernel reparents
            // its children, and Linux raises the parent-death signal after that, when getppid already names the new parent.
            if (!inbox.Idle)
            {
                for (int i = 0; i < 2000 && Native.Sys(Nr.getppid) == parent; i++) Thread.Sleep(1);
                parentEnded();
            }
            inbox.Post(null);
        }
    }
}

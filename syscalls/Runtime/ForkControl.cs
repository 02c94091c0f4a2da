using System.Buffers.Binary;
using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// A socket between a forked child's component and its parent, for what the parent's kernel would do to
/// the child but cannot do to its component. The kernel lets a parent move its child into a process group
/// (setpgid) only until the child has called execve. Every component has called execve once already, to
/// start the emulator, so the host refuses with EACCES even though the guest child has not. Shells rely on
/// that call: bash with job control sets the group from both sides of the fork, so the job is in its group
/// before either side goes on. The parent asks the child's component instead, which sets its own group if
/// its guest has not called execve yet, and answers EACCES after, as the kernel does.
/// </summary>
public static class ForkControl
{
    const byte SetGroup = 1;
    const int SendTo = 44, RecvFrom = 45, MSG_NOSIGNAL = 0x4000, MSG_WAITALL = 0x100;

    /// <summary>How long a parent waits for a child's component to answer (a cold one may still be starting).</summary>
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The parent's side: setpgid(child, <paramref name="group"/>) done by the child's component; 0 or a negated
    /// errno, or null when the component did not answer (it has ended).
    /// </summary>
    public static unsafe long? SetChildGroup(int socket, long group)
    {
        byte* request = stackalloc byte[9];
        request[0] = SetGroup;
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(request + 1, 8), group);
        if (Native.Sys(SendTo, socket, (nint)request, 9, MSG_NOSIGNAL, 0, 0) != 9) return null;
        // The child answers between two guest blocks, from its own thread: a short wait, bounded in case it hangs.
        long* pfd = stackalloc long[1];
        pfd[0] = (uint)socket | (1L << 32); // POLLIN
        long ready;
        do ready = Native.Sys(Nr.poll, (nint)pfd, 1, (long)Patience.TotalMilliseconds);
        while (ready == -Errno.EINTR);
        if (ready != 1) return null;
        long answer;
        return Native.Sys(RecvFrom, socket, (nint)(&answer), 8, 0, 0, 0) == 8 ? answer : null;
    }

    /// <summary>
    /// The child's side: answers its parent's requests on <paramref name="socket"/> on a background thread until
    /// the parent closes it or this process ends. <paramref name="execed"/> says whether the guest has called execve.
    /// </summary>
    public static void Serve(int socket, Func<bool> execed)
    {
        var t = new Thread(() => Answer(socket, execed)) { IsBackground = true, Name = "fork-control" };
        t.Start();
    }

    static unsafe void Answer(int socket, Func<bool> execed)
    {
        byte* request = stackalloc byte[9];
        while (true)
        {
            long n = Native.Sys(RecvFrom, socket, (nint)request, 9, MSG_WAITALL, 0, 0);
            if (n == -Errno.EINTR) continue;
            if (n != 9 || request[0] != SetGroup) break;
            long group = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(request + 1, 8));
            long answer = execed() ? -Errno.EACCES : Native.Sys(Nr.setpgid, 0, group);
            if (Native.Sys(SendTo, socket, (nint)(&answer), 8, MSG_NOSIGNAL, 0, 0) != 8) break;
        }
        Native.Sys(Nr.close, socket);
    }
}

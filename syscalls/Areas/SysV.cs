using System.Diagnostics;
using LegoEmu.Mem;
using LegoEmu.Mem.Component;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;
using static LegoEmu.Syscalls.Host.Native;

namespace LegoEmu.Syscalls.Areas;

/// <summary>
/// SysV IPC. Every guest process is a host process, so the host kernel keeps the identities, keys,
/// permissions, counters and errors of segments, semaphore sets and message queues, and SEM_UNDO is
/// undone when the process exits, as it should. A segment's bytes, though, are guest memory: shmat maps
/// the shared object "sysv:ID" of the memory component, and the host segment is attached alongside only
/// so its attach count and times stay true. Operations that would wait are tried with IPC_NOWAIT and
/// tried again at growing intervals, so no host thread ever sleeps in them.
/// </summary>
static class SysV
{
    const int IPC_NOWAIT = 0x800, IPC_64 = 0x100;
    const int shmget = 29, shmat = 30, shmctl = 31, semget = 64, semop = 65, semctl = 66, shmdt = 67,
        msgget = 68, msgsnd = 69, msgrcv = 70, msgctl = 71, semtimedop = 220;
    const int SHM_RDONLY = 0x1000, SHM_RND = 0x2000, SHM_REMAP = 0x4000, SHM_EXEC = 0x8000;

    public static void Register(SyscallTable t)
    {
        t.Add(shmget, "shmget", "ddo", x => Sys(shmget, x.Long(0), x.Long(1), x.Long(2)));
        t.Add(shmat, "shmat", "dxx", Attach);
        t.Add(shmdt, "shmdt", "x", Detach);
        t.Add(shmctl, "shmctl", "ddx", ShmCtl);
        t.Add(semget, "semget", "ddo", x => Sys(semget, x.Long(0), x.Long(1), x.Long(2)));
        t.Add(semop, "semop", "dxd", x => SemOp(x, 0));
        t.Add(semtimedop, "semtimedop", "dxdx", x => SemOp(x, x.A[3]));
        t.Add(semctl, "semctl", "dddx", SemCtl);
        t.Add(msgget, "msgget", "do", x => Sys(msgget, x.Long(0), x.Long(1)));
        t.Add(msgsnd, "msgsnd", "dxdx", MsgSnd);
        t.Add(msgrcv, "msgrcv", "dxddx", MsgRcv);
        t.Add(msgctl, "msgctl", "ddx", MsgCtl);
    }

    // ---- shared memory segments ----

    static unsafe long SegmentSize(int id)
    {
        byte* ds = stackalloc byte[112];
        long r = Sys(shmctl, id, 2 /* IPC_STAT */, (nint)ds);
        return r < 0 ? r : *(long*)(ds + 48);
    }

    static long Attach(SyscallContext x)
    {
        int id = x.Int(0);
        ulong addr = x.A[1];
        int flags = x.Int(2);
        if ((flags & SHM_RND) != 0) addr &= ~PageMath.PageMask;
        if (!PageMath.Aligned(addr)) return -Errno.EINVAL;
        // The host attach checks the id and the permissions, and counts the attach.
        long host = Sys(shmat, id, 0, flags & (SHM_RDONLY | SHM_EXEC));
        if (host < 0) return host;
        long size = SegmentSize(id);
        if (size < 0)
        {
            Sys(shmdt, host);
            return size;
        }
        var prot = Protection.Read | ((flags & SHM_RDONLY) == 0 ? Protection.Write : 0) | ((flags & SHM_EXEC) != 0 ? Protection.Exec : 0);
        ulong len = PageMath.Up((ulong)size);
        var mf = MapFlags.Shared | MapFlags.Anonymous;
        if (addr != 0)
        {
            if ((flags & SHM_REMAP) == 0 && x.P.Space.Vmas(addr, addr + len).Count > 0)
            {
                Sys(shmdt, host);
                return -Errno.EINVAL;
            }
            mf |= MapFlags.Fixed;
        }
        long m = x.P.Space.Map(addr, len, prot, mf, $"/SYSV{Key(id):x8}");
        if (m < 0)
        {
            Sys(shmdt, host);
            return m;
        }
        x.P.Blocks.Invalidate((ulong)m, (ulong)m + len);
        long bound = x.P.Space.Share((ulong)m, len, ObjectKey(id), 0);
        if (bound < 0)
        {
            x.P.Space.Unmap((ulong)m, len);
            Sys(shmdt, host);
            return bound;
        }
        x.P.EnsureSharedCoherence();
        x.P.SysVAttachments[(ulong)m] = (id, (ulong)host, len);
        return m;
    }

    /// <summary>The memory component's name of a segment's bytes.</summary>
    public static string ObjectKey(int id) => $"sysv:{id}";

    static unsafe int Key(int id)
    {
        byte* ds = stackalloc byte[112];
        return Sys(shmctl, id, 2, (nint)ds) < 0 ? 0 : *(int*)ds;
    }

    static long Detach(SyscallContext x)
    {
        ulong addr = x.A[0];
        if (!PageMath.Aligned(addr) || !x.P.SysVAttachments.Remove(addr, out var a)) return -Errno.EINVAL;
        x.P.Space.Unmap(addr, a.Length);
        x.P.Blocks.Invalidate(addr, addr + a.Length);
        Sys(shmdt, (long)a.Host);
        return 0;
    }

    static long ShmCtl(SyscallContext x)
    {
        int id = x.Int(0), cmd = x.Int(1) & ~IPC_64;
        switch (cmd)
        {
            case 0: case 11: case 12: return Sys(shmctl, id, cmd, 0); // IPC_RMID, SHM_LOCK, SHM_UNLOCK
            case 1: return Buffers.WithInput(x, x.A[2], 112, p => Sys(shmctl, id, cmd, p)); // IPC_SET
            case 2: case 13: case 15: return Buffers.WithStruct(x, x.A[2], 112, p => Sys(shmctl, id, cmd, p)); // IPC_STAT, SHM_STAT, SHM_STAT_ANY
            case 3: return Buffers.WithStruct(x, x.A[2], 72, p => Sys(shmctl, id, cmd, p)); // IPC_INFO: struct shminfo64
            case 14: return Buffers.WithStruct(x, x.A[2], 48, p => Sys(shmctl, id, cmd, p)); // SHM_INFO: struct shm_info
            default: return -Errno.EINVAL;
        }
    }

    // ---- semaphores ----

    /// <summary>Pause before trying a waiting IPC operation again: 50 us, doubling up to 5 ms.</summary>
    static long RetryAfter(SyscallContext x)
    {
        int step = x.Resuming ? Math.Min(x.Wait.Stage + 1, 7) : 0;
        x.Wait.Stage = step;
        x.Wait.Recheck = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 20000 << step);
        return x.Block(restartable: false); // semop, msgsnd and msgrcv fail with EINTR, never restart
    }

    static long SemOp(SyscallContext x, ulong timeout)
    {
        int id = x.Int(0);
        long n = x.Long(2);
        if (n <= 0) return n == 0 ? -Errno.EINVAL : -Errno.EINVAL;
        if (n > 500) return -7; // E2BIG: more than SEMOPM
        var sops = new byte[n * 6];
        x.Mem.ReadBytes(x.A[1], sops);
        bool anyWaits = false;
        for (int i = 0; i < n; i++)
        {
            short flg = BitConverter.ToInt16(sops, i * 6 + 4);
            if ((flg & IPC_NOWAIT) == 0) anyWaits = true;
            // The host undoes SEM_UNDO adjustments when its process ends, not when a guest on it does.
            if ((flg & 0x1000 /* SEM_UNDO */) != 0) x.P.SemaphoreUndo = true;
            BitConverter.TryWriteBytes(sops.AsSpan(i * 6 + 4), (short)(flg | IPC_NOWAIT));
        }
        if (timeout != 0 && !x.Resuming)
        {
            long sec = (long)x.Mem.Read64(timeout), nsec = (long)x.Mem.Read64(timeout + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            x.DeadlineAfterNs(sec * 1_000_000_000 + nsec);
        }
        long r;
        unsafe { fixed (byte* p = sops) r = Sys(semop, id, (nint)p, n); }
        if (r != -Errno.EAGAIN || !anyWaits) return r;
        if (timeout != 0 && Stopwatch.GetTimestamp() >= x.Wait.Deadline) return -Errno.EAGAIN;
        return RetryAfter(x);
    }

    static unsafe long SemCtl(SyscallContext x)
    {
        int id = x.Int(0), num = x.Int(1), cmd = x.Int(2) & ~IPC_64;
        ulong arg = x.A[3];
        switch (cmd)
        {
            case 0: return Sys(semctl, id, num, cmd, 0); // IPC_RMID
            case 11: case 12: case 14: case 15: return Sys(semctl, id, num, cmd, 0); // GETPID, GETVAL, GETNCNT, GETZCNT
            case 16: return Sys(semctl, id, num, cmd, (long)(int)arg); // SETVAL takes the value itself
            case 1: return Buffers.WithInput(x, arg, 104, p => Sys(semctl, id, num, cmd, p)); // IPC_SET
            case 2: case 18: case 20: return Buffers.WithStruct(x, arg, 104, p => Sys(semctl, id, num, cmd, p)); // IPC_STAT, SEM_STAT, SEM_STAT_ANY
            case 3: case 19: return Buffers.WithStruct(x, arg, 40, p => Sys(semctl, id, num, cmd, p)); // IPC_INFO, SEM_INFO: struct seminfo
            case 13: case 17: // GETALL, SETALL: an array of nsems unsigned shorts
            {
                byte* ds = stackalloc byte[104];
                long r = Sys(semctl, id, 0, 2, (nint)ds);
                if (r < 0) return r;
                int bytes = (int)(*(ulong*)(ds + 80)) * 2;
                return cmd == 13
                    ? Buffers.WithStruct(x, arg, bytes, p => Sys(semctl, id, num, cmd, p))
                    : Buffers.WithInput(x, arg, bytes, p => Sys(semctl, id, num, cmd, p));
            }
            default: return -Errno.EINVAL;
        }
    }

    // ---- message queues ----

    static long MsgSnd(SyscallContext x)
    {
        int id = x.Int(0);
        long size = x.Long(2);
        int flags = x.Int(3);
        if (size < 0 || size > 65536)
        {
            // The host reads the message type before it checks the size: EFAULT for a bad buffer, then EINVAL.
            long type = (long)x.Mem.Read64(x.A[1]);
            unsafe { return Sys(msgsnd, id, (nint)(&type), size, flags | IPC_NOWAIT); }
        }
        long r = Buffers.WithInput(x, x.A[1], (int)size + 8, p => Sys(msgsnd, id, p, size, flags | IPC_NOWAIT));
        if (r != -Errno.EAGAIN || (flags & IPC_NOWAIT) != 0) return r;
        return RetryAfter(x);
    }

    static long MsgRcv(SyscallContext x)
    {
        int id = x.Int(0);
        long size = x.Long(2), type = x.Long(3);
        int flags = x.Int(4);
        if (size < 0) return -Errno.EINVAL;
        int room = (int)Math.Min(size, 1 << 20);
        long r = Buffers.WithOutput(x, x.A[1], room + 8, p => Sys(msgrcv, id, p, room, type, flags | IPC_NOWAIT), n => (int)n + 8);
        const int ENOMSG = 42;
        if (r != -ENOMSG || (flags & IPC_NOWAIT) != 0) return r;
        return RetryAfter(x);
    }

    static long MsgCtl(SyscallContext x)
    {
        int id = x.Int(0), cmd = x.Int(1) & ~IPC_64;
        switch (cmd)
        {
            case 0: return Sys(msgctl, id, cmd, 0); // IPC_RMID
            case 1: return Buffers.WithInput(x, x.A[2], 120, p => Sys(msgctl, id, cmd, p)); // IPC_SET
            case 2: case 11: case 13: return Buffers.WithStruct(x, x.A[2], 120, p => Sys(msgctl, id, cmd, p)); // IPC_STAT, MSG_STAT, MSG_STAT_ANY
            case 3: case 12: return Buffers.WithStruct(x, x.A[2], 32, p => Sys(msgctl, id, cmd, p)); // IPC_INFO, MSG_INFO: struct msginfo
            default: return -Errno.EINVAL;
        }
    }
}

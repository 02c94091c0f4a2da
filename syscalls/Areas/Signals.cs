using LegoEmu.Mem;
using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Runtime;

namespace LegoEmu.Syscalls.Areas;

/// <summary>Signal dispositions, masks, the alternate stack, sending to self, waiting, timers and rt_sigreturn.</summary>
static class Signals
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.rt_sigaction, "rt_sigaction", "dxxd", SigAction);
        t.Add(Nr.rt_sigprocmask, "rt_sigprocmask", "dxxd", SigProcMask);
        t.Add(Nr.sigaltstack, "sigaltstack", "xx", SigAltStack);
        t.Add(Nr.kill, "kill", "dd", x => SendSignal(x, OwnThread(x, (long)x.A[0]) ? x.P.Pid : (long)x.A[0], x.Int(1), 0 /* SI_USER */));
        t.Add(Nr.tgkill, "tgkill", "ddd", TgKill);
        t.Add(Nr.tkill, "tkill", "dd", x => x.Int(0) <= 0 ? -Errno.EINVAL : OwnThread(x, (long)x.A[0])
            ? SendSignal(x, x.P.Pid, x.Int(1), -6 /* SI_TKILL */, x.Int(0))
            : LegoEmu.Syscalls.Host.Native.Sys(Nr.tkill, (long)x.A[0], x.Long(1)));
        t.Add(Nr.rt_sigqueueinfo, "rt_sigqueueinfo", "ddx", x => QueueInfo(x, x.Long(0), 0, x.Int(1), x.A[2]));
        t.Add(Nr.rt_tgsigqueueinfo, "rt_tgsigqueueinfo", "dddx", x => QueueInfo(x, x.Long(0), x.Long(1), x.Int(2), x.A[3]));
        t.Add(Nr.rt_sigreturn, "rt_sigreturn", "", SigReturn);
        t.Add(Nr.rt_sigpending, "rt_sigpending", "xd", SigPending);
        t.Add(Nr.rt_sigsuspend, "rt_sigsuspend", "xd", x => x.A[1] != 8 ? -Errno.EINVAL : WaitForSignal(x, x.Mem.Read64(x.A[0])));
        t.Add(Nr.pause, "pause", "", x => WaitForSignal(x, null));
        t.Add(128, "rt_sigtimedwait", "xxxd", SigTimedWait);
        t.Add(Nr.alarm, "alarm", "d", Alarm);
        t.Add(Nr.setitimer, "setitimer", "dxx", SetItimer);
        t.Add(Nr.getitimer, "getitimer", "dx", x => Buffers.WithStruct(x, x.A[1], 32, p => LegoEmu.Syscalls.Host.Native.Sys(Nr.getitimer, x.Long(0), p)));
    }

    /// <summary>
    /// Thread ids of this process's threads after the first are made up (pid + n), so they may be a
    /// host process's pid: a signal to one of them must stay inside this process, never reach the host.
    /// </summary>
    static bool OwnThread(SyscallContext x, long tid) => tid == x.P.Pid || x.P.FindThread(tid) != null;

    /// <summary>
    /// tgkill: to a thread of this process the signal is that thread's (see <see cref="GuestProcess.RaiseSignalAt"/>);
    /// to another process it goes to the host as the same call.
    /// </summary>
    static long TgKill(SyscallContext x)
    {
        long tgid = (long)x.A[0], tid = (long)x.A[1];
        if (tgid <= 0 || tid <= 0) return -Errno.EINVAL;
        if (tgid != x.P.Pid) return LegoEmu.Syscalls.Host.Native.Sys(Nr.tgkill, tgid, tid, x.Long(2));
        if (!OwnThread(x, tid)) return -Errno.ESRCH;
        return SendSignal(x, x.P.Pid, x.Int(2), -6 /* SI_TKILL */, (int)tid);
    }

    /// <summary>
    /// kill/tgkill/tkill: to this process the signal becomes pending and is delivered (handler, default
    /// action or ignore) before the guest runs on; to other processes it goes to the host.
    /// </summary>
    /// <param name="tid">A thread of this process the signal is for (tgkill, tkill); 0 for the whole process.</param>
    internal static long SendSignal(SyscallContext x, long pid, int sig, int code, int tid = 0)
    {
        if (sig < 0 || sig > 64) return -Errno.EINVAL;
        if (pid == 0 || (pid < -1 && -pid == LegoEmu.Syscalls.Host.Native.Sys(Nr.getpgrp))) return SignalOwnGroup(x, sig);
        if (pid != x.P.Pid)
        {
            // A child whose component has reported its exit is a zombie, which a signal does not reach. Its component
            // lives on and may run this process's next child at any moment: the signal must not get there.
            if (pid > 0 && x.P.Child((int)pid) is { } link)
            {
                if (ForkControl.PollExit(link)) return 0;
                if (sig != 0) link.Signalled = true;
            }
            return LegoEmu.Syscalls.Host.Native.Sys(Nr.kill, pid, sig);
        }
        if (sig == 0) return 0;
        if (sig == 9)
        {
            x.P.ReportTermination(9);
            x.P.KilledBySignal = 9;
            x.P.Exit(128 + 9);
            return 0;
        }
        var info = new SignalInfo(sig, code, Pid: x.P.Pid, Uid: (int)LegoEmu.Syscalls.Host.Native.Sys(Nr.getuid));
        if (tid != 0) x.P.RaiseSignalAt(tid, info);
        else x.P.RaiseSignal(info);
        return 0;
    }

    /// <summary>
    /// kill(0, sig) and kill(-pgid, sig) for the caller's own group: each other member gets it from the host, and
    /// this process takes it as a kill to itself (the host would hand it to the emulator, which forwards only some
    /// signals to its guest). Idle processor components, memory nodes and thread hosts in the group are no guest's
    /// and are passed by: this process's own idle components also while they start, before they carry the idle name
    /// (a stop would leave one stopped, and the fork handed to it would never run).
    /// </summary>
    static long SignalOwnGroup(SyscallContext x, int sig)
    {
        int self = LegoEmu.Syscalls.Host.Native.GetPid();
        long group = LegoEmu.Syscalls.Host.Native.Sys(Nr.getpgrp);
        if (sig != 0)
            foreach (var e in LegoEmu.Syscalls.Host.HostProcesses.All())
                if (e.Group == group && e.Pid != self && e.State != 'Z' && e.Name != LegoEmu.Syscalls.Host.HostProcesses.IdleComponentName
                    && ForkPool.Shared?.Holds(e.Pid) != true && !LegoEmu.Syscalls.Host.HostProcesses.IsService(e.Pid))
                    LegoEmu.Syscalls.Host.Native.Sys(Nr.kill, e.Pid, sig);
        return SendSignal(x, x.P.Pid, sig, 0 /* SI_USER */);
    }

    /// <summary>
    /// rt_sigqueueinfo and rt_tgsigqueueinfo (sigqueue, pthread_sigqueue): a signal with the sender's own
    /// siginfo. The kernel lets a process forge only negative si_code values (SI_QUEUE and the like) for
    /// another process, EPERM otherwise. To this process the siginfo is delivered as given; to another one
    /// the host sends it.
    /// </summary>
    internal static long QueueInfo(SyscallContext x, long tgid, long tid, int sig, ulong infoAddr)
    {
        if (sig < 0 || sig > 64 || (tid != 0 && tid <= 0)) return -Errno.EINVAL;
        var raw = new byte[128];
        x.Mem.ReadBytes(infoAddr, raw);
        int code = BitConverter.ToInt32(raw, 8);
        bool self = tgid == x.P.Pid;
        if ((code >= 0 || code == -6 /* SI_TKILL */) && !self) return -Errno.EPERM;
        if (!self)
        {
            unsafe
            {
                fixed (byte* p = raw)
                    return tid == 0
                        ? LegoEmu.Syscalls.Host.Native.Sys(Nr.rt_sigqueueinfo, tgid, sig, (nint)p)
                        : LegoEmu.Syscalls.Host.Native.Sys(Nr.rt_tgsigqueueinfo, tgid, tid, sig, (nint)p);
            }
        }
        if (tid != 0 && !OwnThread(x, tid)) return -Errno.ESRCH;
        if (sig == 0) return 0;
        if (sig == 9) return SendSignal(x, x.P.Pid, 9, code);
        // si_pid, si_uid and si_value (sigval) as the sender wrote them.
        var info = new SignalInfo(sig, code, Pid: BitConverter.ToInt32(raw, 16), Uid: BitConverter.ToInt32(raw, 20), Value: BitConverter.ToUInt64(raw, 24));
        if (tid != 0 && tid != x.P.Pid) x.P.RaiseSignalAt((int)tid, info);
        else x.P.RaiseSignal(info);
        return 0;
    }

    static long SigReturn(SyscallContext x) => (long)SignalDelivery.Return(x.C, x.P.Signals);

    static long SigPending(SyscallContext x)
    {
        if (x.A[1] != 8) return -Errno.EINVAL;
        x.Mem.Write64(x.A[0], x.P.Signals.Pending & x.P.Signals.Mask);
        return 0;
    }

    /// <summary>
    /// pause and rt_sigsuspend: the thread blocks until a signal with a handler (or a terminating
    /// default) arrives; then it is delivered and the call fails with EINTR. sigsuspend's mask is in
    /// force meanwhile, and the caller's comes back when the handler returns.
    /// </summary>
    static long WaitForSignal(SyscallContext x, ulong? temporaryMask)
    {
        if (temporaryMask is ulong tm) x.BeginTemporaryMask(tm);
        return x.EndTemporaryMask(x.Block(restartable: false));
    }

    /// <summary>
    /// rt_sigtimedwait: takes a pending signal of the set without running its handler, waiting up to the
    /// timeout; the siginfo goes to the caller. Signals in the set are normally blocked by the caller.
    /// </summary>
    static long SigTimedWait(SyscallContext x)
    {
        if (x.A[3] != 8) return -Errno.EINVAL;
        ulong set = x.Mem.Read64(x.A[0]) & ~(SignalState.Bit(9) | SignalState.Bit(19));
        long deadline = long.MaxValue;
        if (x.Resuming) deadline = x.Wait.Deadline;
        else if (x.A[2] != 0)
        {
            long sec = (long)x.Mem.Read64(x.A[2]), nsec = (long)x.Mem.Read64(x.A[2] + 8);
            if (sec < 0 || nsec < 0 || nsec >= 1_000_000_000) return -Errno.EINVAL;
            deadline = x.DeadlineAfterNs(sec > long.MaxValue / 2_000_000_000 ? long.MaxValue / 2 : sec * 1_000_000_000 + nsec);
        }
        var s = x.P.Signals;
        int sig = s.Peek(set, out var info);
        if (sig != 0) s.Take(sig);
        if (sig != 0)
        {
            x.P.PendingChanged();
            if (x.A[1] != 0) WriteSigInfo(x, x.A[1], sig, info);
            return sig;
        }
        if (System.Diagnostics.Stopwatch.GetTimestamp() >= deadline) return -Errno.EAGAIN;
        x.Wait.Deadline = deadline;
        x.Wait.WakeSignals = set;
        return x.Block(restartable: false); // EINTR when a signal outside the set runs its handler
    }

    /// <summary>The siginfo_t (128 bytes) rt_sigtimedwait hands back for a taken signal.</summary>
    static void WriteSigInfo(SyscallContext x, ulong addr, int sig, in SignalInfo info)
    {
        x.Mem.WriteBytes(addr, new byte[128]);
        x.Mem.Write32(addr, (uint)sig);
        x.Mem.Write32(addr + 8, (uint)info.Code);
        x.Mem.Write32(addr + 16, (uint)info.Pid);
        x.Mem.Write32(addr + 20, (uint)info.Uid);
        if (sig == 17) x.Mem.Write32(addr + 24, (uint)info.Status);
        else if (info.Value != 0) x.Mem.Write64(addr + 24, info.Value); // sigqueue's and timers' si_value
    }

    static long Alarm(SyscallContext x)
    {
        x.P.HostTimerArmed = true;
        return LegoEmu.Syscalls.Host.Native.Sys(Nr.alarm, x.Long(0));
    }

    static long SetItimer(SyscallContext x)
    {
        if (x.A[1] == 0) return -Errno.EFAULT;
        x.P.HostTimerArmed = true;
        return Buffers.WithInput(x, x.A[1], 32, nv => Buffers.WithStruct(x, x.A[2], 32, ov => LegoEmu.Syscalls.Host.Native.Sys(Nr.setitimer, x.Long(0), nv, x.A[2] == 0 ? 0 : ov)));
    }

    static long SigAction(SyscallContext x)
    {
        int sig = x.Int(0);
        if (sig < 1 || sig > 64 || sig == 9 || sig == 19 || x.A[3] != 8) return -Errno.EINVAL;
        var s = x.P.Signals;
        if (x.A[2] != 0)
        {
            var old = s.Actions[sig];
            x.Mem.Write64(x.A[2], old.Handler);
            x.Mem.Write64(x.A[2] + 8, old.Flags);
            x.Mem.Write64(x.A[2] + 16, old.Restorer);
            x.Mem.Write64(x.A[2] + 24, old.Mask);
        }
        if (x.A[1] != 0)
        {
            s.Actions[sig] = new SignalAction(x.Mem.Read64(x.A[1]), x.Mem.Read64(x.A[1] + 8), x.Mem.Read64(x.A[1] + 16), x.Mem.Read64(x.A[1] + 24));
            if (sig == 17) x.P.NoteForkHint(); // SIGCHLD: set by programs that start others
        }
        return 0;
    }

    static long SigProcMask(SyscallContext x)
    {
        const int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;
        if (x.A[3] != 8) return -Errno.EINVAL;
        var s = x.P.Signals;
        ulong old = s.Mask;
        if (x.A[1] != 0)
        {
            ulong set = x.Mem.Read64(x.A[1]);
            switch (x.Int(0))
            {
                case SIG_BLOCK: s.Mask |= set; break;
                case SIG_UNBLOCK: s.Mask &= ~set; break;
                case SIG_SETMASK: s.Mask = set; break;
                default: return -Errno.EINVAL;
            }
            s.Mask &= ~((1UL << 8) | (1UL << 18)); // SIGKILL and SIGSTOP cannot be blocked
        }
        if (x.A[2] != 0) x.Mem.Write64(x.A[2], old);
        return 0;
    }

    /// <summary>
    /// sigaltstack as the kernel's do_sigaltstack: the old stack reports SS_ONSTACK while the caller runs on
    /// it (SS_DISABLE when there is none); a new one is refused with EPERM while on the current one, EINVAL
    /// for flags other than 0, SS_ONSTACK or SS_DISABLE (SS_AUTODISARM aside) and ENOMEM below MINSIGSTKSZ.
    /// </summary>
    static long SigAltStack(SyscallContext x)
    {
        var s = x.P.Signals;
        ulong oldBase = s.AltStackBase, oldSize = s.AltStackSize;
        uint oldFlags = s.ReportedAltStackFlags(x.C.Rsp);
        if (x.A[0] != 0)
        {
            ulong sp = x.Mem.Read64(x.A[0]);
            uint flags = x.Mem.Read32(x.A[0] + 8);
            ulong size = x.Mem.Read64(x.A[0] + 16);
            long r = s.SetAltStack(x.C.Rsp, sp, flags, size);
            if (r < 0) return r;
        }
        if (x.A[1] != 0)
        {
            try
            {
                x.Mem.Write64(x.A[1], oldBase);
                x.Mem.Write32(x.A[1] + 8, oldFlags);
                x.Mem.Write64(x.A[1] + 16, oldSize);
            }
            catch (LegoEmu.Mem.MemoryFault)
            {
                return -Errno.EFAULT;
            }
        }
        return 0;
    }
}

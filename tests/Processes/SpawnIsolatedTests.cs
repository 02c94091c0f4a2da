using LegoEmu.Syscalls.Abi;
using LegoEmu.Syscalls.Host;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// An idle processor component is started in a process group of its own, so a SIGSTOP to its starter's group cannot
/// catch it before its execve (its starter would then never finish the group stop). The kernel says where it is.
/// </summary>
public sealed class SpawnIsolatedTests
{
    [Fact]
    public void StartsInAGroupOfItsOwnWithOnlyTheSocket()
    {
        Assert.True(UnixRights.Pair(out int mine, out int theirs) >= 0);
        try
        {
            // Field 5 of /proc/PID/stat is the process group; descriptor 3 is the socket, 0-2 are /dev/null.
            int pid = Native.SpawnIsolated("/bin/sh", ["sh", "-c", "set -- $(cat /proc/$$/stat); echo \"$1 $5 $(ls /proc/$$/fd | wc -l)\" >&3"], [], theirs);
            Assert.True(pid > 0, $"posix_spawn failed: {pid}");
            Native.Sys(Nr.close, theirs);
            theirs = -1;
            var buffer = new byte[64];
            int n = 0;
            while (true)
            {
                long r;
                unsafe
                {
                    fixed (byte* p = buffer)
                        r = Native.Sys(Nr.read, mine, (nint)(p + n), buffer.Length - n);
                }
                if (r == -LegoEmu.Mem.Errno.EINTR) continue;
                Assert.True(r >= 0, $"read failed: {r}");
                if (r == 0) break;
                n += (int)r;
            }
            unsafe
            {
                int status;
                Native.Sys(Nr.wait4, pid, (nint)(&status), 0, 0);
            }
            var fields = System.Text.Encoding.ASCII.GetString(buffer, 0, n).Trim().Split(' ');
            Assert.True(fields.Length == 3, $"unexpected answer '{string.Join(' ', fields)}'");
            Assert.Equal(pid.ToString(), fields[0]);
            Assert.Equal(pid.ToString(), fields[1]);
            Assert.NotEqual(Native.Sys(Nr.getpgid, 0).ToString(), fields[1]);
            // 0, 1, 2, 3 and the descriptor ls reads the directory with.
            Assert.Equal("5", fields[2]);
        }
        finally
        {
            Native.Sys(Nr.close, mine);
            if (theirs >= 0) Native.Sys(Nr.close, theirs);
        }
    }
}

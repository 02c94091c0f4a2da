using LegoEmu.Syscalls.Processes;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Processes;

/// <summary>
/// The process table at the root. Its rules are Linux's (a fork starts in its parent's group and session, setsid makes
/// a session and a group, an orphan goes to the nearest living subreaper above its dead parent or out of the tree), its
/// server answers a query only after it has read every event queued before it, and with the table kept the process
/// guests print what they print natively while every getppid, getpgid, getsid and reaping wait agrees with the host.
/// </summary>
[Collection(GuestCollection.Name)]
public sealed class ProcessTableTests(GuestBuilds builds)
{
    [Fact]
    public void ForkInheritsGroupAndSessionAndSetsidMakesBoth()
    {
        var t = new ProcessTable();
        t.Root(100, 90, 80);
        t.Forked(100, 101);
        Assert.Equal((100, 90, 80), (t.ParentOf(101), t.GroupOf(101), t.SessionOf(101)));
        t.SetSession(101);
        t.Forked(101, 102);
        Assert.Equal((101, 101, 101), (t.ParentOf(102), t.GroupOf(102), t.SessionOf(102)));
        t.SetGroup(102, 102);
        Assert.Equal([102], t.MembersOf(102));
        Assert.Equal([101], t.MembersOf(101));
        Assert.Equal(0, t.ParentOf(100));
    }

    [Fact]
    public void OrphansGoToTheNearestLivingSubreaperOrLeaveTheTree()
    {
        var t = new ProcessTable();
        t.Root(1000, 1000, 1000);
        t.SetSubreaper(1000, true);
        t.Forked(1000, 1001);
        t.SetSubreaper(1001, true);
        t.Forked(1001, 1002);
        t.Forked(1002, 1003);
        // The middle process dies: its child goes to the nearest subreaper above it.
        t.Exited(1002, 0);
        Assert.Equal(1001, t.ParentOf(1003));
        Assert.Contains(1003, t.ChildrenOf(1001));
        Assert.True(t.IsZombie(1002));
        Assert.Equal(1001, t.ParentOf(1002)); // a zombie stays its parent's to reap
        // That subreaper dies too: the orphan skips it and goes to the one above.
        t.Exited(1001, 0);
        Assert.Equal(1000, t.ParentOf(1003));
        // Without a subreaper above, orphans leave the tree, and an orphaned zombie goes with them (init reaps it).
        t.SetSubreaper(1000, false);
        t.Forked(1003, 1004);
        t.Forked(1003, 1005);
        t.Exited(1005, 9);
        t.Exited(1003, 0);
        Assert.Equal(0, t.ParentOf(1004));
        Assert.Null(t.ParentOf(1005));
        t.Reaped(1003, 0);
        Assert.Null(t.ParentOf(1003));
        Assert.DoesNotContain(1003, t.ChildrenOf(1000));
    }

    [Fact]
    public void EventsThatNoGuestOrderedMayComeEitherWayRound()
    {
        var t = new ProcessTable();
        t.Root(10, 10, 10);
        // The child's own setpgid is heard before its parent's report of the fork: the child keeps its group.
        t.SetGroup(11, 11);
        Assert.Equal(ProcessTable.UnknownParent, t.ParentOf(11));
        t.Forked(10, 11);
        Assert.Equal((10, 11, 10), (t.ParentOf(11), t.GroupOf(11), t.SessionOf(11)));
        // A fork reported after the parent's exit: the kernel had reparented the child at that exit.
        t.Forked(11, 12);
        t.SetSubreaper(10, true);
        t.Exited(11, 0);
        t.Forked(11, 13);
        Assert.Equal(10, t.ParentOf(13));
        Assert.Equal(10, t.ParentOf(12));
        // An exit heard before the fork: the child is its parent's zombie.
        t.Exited(14, 256);
        t.Forked(10, 14);
        Assert.True(t.IsZombie(14));
        Assert.Contains(14, t.ChildrenOf(10));
    }

    [Fact]
    public void TheServerCountsEveryEventQueuedBeforeAQuery()
    {
        var server = ProcessTableServer.Start(out string error);
        Assert.True(server != null, error);
        var parent = ProcessTableClient.Open(server!.Name, 500);
        var child = ProcessTableClient.Open(server.Name, 501);
        Assert.NotNull(parent);
        Assert.NotNull(child);
        try
        {
            for (int round = 0; round < 200; round++)
            {
                int pid = 600 + round;
                // Events on one connection, the query on another: the query must see them.
                parent!.Report(new TableMessage(TableMessage.Kinds.Root, 500, 500, 500));
                parent.Report(new TableMessage(TableMessage.Kinds.Forked, 500, pid));
                parent.Report(new TableMessage(TableMessage.Kinds.Group, pid, 7000 + round));
                Assert.Equal(500, child!.Ask(TableMessage.Kinds.ParentOf, pid));
                Assert.Equal(7000 + round, child.Ask(TableMessage.Kinds.GroupOf, pid));
                Assert.Equal(500, child.Ask(TableMessage.Kinds.SessionOf, pid));
            }
            Assert.Equal(TableMessage.NotHeld, child!.Ask(TableMessage.Kinds.ParentOf, 99999));
            // A component whose connection ends with its guest alive was killed: its children are orphans from then on.
            var doomed = ProcessTableClient.Open(server.Name, 600);
            Assert.NotNull(doomed);
            parent!.Report(new TableMessage(TableMessage.Kinds.Forked, 600, 900));
            Assert.Equal(600, child.Ask(TableMessage.Kinds.ParentOf, 900));
            doomed!.Close();
            long after = 600;
            for (int i = 0; i < 200 && after == 600; i++)
            {
                Thread.Sleep(5);
                after = child.Ask(TableMessage.Kinds.ParentOf, 900);
            }
            Assert.Equal(0, after);
        }
        finally
        {
            parent?.Close();
            child?.Close();
        }
    }

    public static TheoryData<string, string> GuestsAndPools() => new()
    {
        { "process_tree", "1" }, { "process_tree", "0" }, { "process_reuse", "1" }, { "process_reuse", "0" },
        { "sigchld_info", "1" }, { "processes", "1" }, { "errno_process", "1" },
    };

    [Theory]
    [MemberData(nameof(GuestsAndPools))]
    public async Task GuestsMatchNativeWithTheTableAgreeingWithTheHost(string guest, string pool)
    {
        var spec = Guests.Get(guest);
        var native = await builds.NativeRunAsync(spec);
        Assert.True(!native.TimedOut && native.ExitCode == spec.ExpectedExitCode, $"the native run is not a usable reference: {native.StderrTail()}");
        var env = new Dictionary<string, string?>(Guests.Environment) { [LegoEmu.Syscalls.Runtime.GuestProcess.CheckProcessesVariable] = "1" };
        var emulated = await EmulatorRunner.RunAsync(["run", "--pool", pool, .. spec.RunOptions, builds.Binary(guest), .. spec.Arguments], env, Guests.EnvironmentPrefixToClear);
        Assert.Equal(native.ExitCode, emulated.ExitCode);
        Assert.Equal(native.StdoutText, emulated.StdoutText);
        Assert.DoesNotContain("process table", emulated.StderrText);
    }
}

using LegoEmu.Cpu.State;
using LegoEmu.Mem.Trace;

namespace LegoEmu.Cpu.Profile;

/// <summary>
/// One guest thread's shadow call stack for <c>run --profile</c>. Both tiers report every near CALL and RET
/// once the instruction has retired (the interpreter after the block, compiled code after the block's count,
/// passing its progress counter, see <see cref="Live"/>). A call pushes a frame holding the thread's costs so
/// far; a return pops every frame whose return address lay below the new stack pointer, and a call every
/// frame at or below its own return address (a longjmp or an exception skips frames that never return),
/// charging each edge its count and what the callee cost in between. Between events the thread's costs go to the current calling context. Misses, fills and
/// write-backs are counted per processor component, so while another thread of the component runs they are
/// set aside (<see cref="Switch"/>). Frames still open at the end are closed as if they returned then.
/// </summary>
public sealed class CallTracker
{
    const int N = CallGraph.Counters;
    /// <summary>Frames kept at most; deeper calls are not tracked (their returns then match no frame).</summary>
    const int MaxFrames = 1 << 16;

    readonly CpuState _cpu;
    readonly CodeProfile _profile;
    readonly CallGraph _graph;
    ulong[] _site = new ulong[64], _target = new ulong[64], _sp = new ulong[64];
    int[] _context = new int[64];
    CallGraph.Edge[] _edge = new CallGraph.Edge[64];
    long[] _at = new long[64 * N];
    int _depth;
    int _current = -1;
    readonly long[] _last = new long[N], _now = new long[N];
    // Counters of the component's other threads while this one was switched out (not its own).
    readonly long[] _away = new long[N], _pausedAt = new long[N];
    bool _paused, _closed;

    CallTracker(CpuState cpu, CodeProfile profile)
    {
        _cpu = cpu;
        _profile = profile;
        _graph = profile.Calls;
        Live(0, _last);
        profile.OnFinish(_ => Close());
    }

    /// <summary>A near CALL at <paramref name="site"/> went to <paramref name="target"/>, leaving the stack pointer at <paramref name="sp"/>.</summary>
    public static void Call(CpuState c, long progress, ulong site, ulong target, ulong sp)
    {
        LegoEmu.Cpu.Translate.TranslatedRuntime.Settle(c);
        if (Of(c) is not { } t) return;
        t.Event(progress, site);
        // Frames whose return address is at or below the new one are gone (a longjmp left them): closed now.
        while (t._depth > 0 && t._sp[t._depth - 1] <= sp) t.Pop(t._now);
        if (t._depth == t._site.Length)
        {
            if (t._depth >= MaxFrames) return;
            t.Grow();
        }
        int d = t._depth++;
        t._site[d] = site;
        t._target[d] = target;
        t._sp[d] = sp;
        t._context[d] = t._current;
        t._now.CopyTo(t._at.AsSpan(d * N));
        (t._edge[d], t._current) = t._graph.Call(t._current, site, target);
    }

    /// <summary>A near RET at <paramref name="site"/> went to <paramref name="target"/>, leaving the stack pointer at <paramref name="sp"/>.</summary>
    public static void Return(CpuState c, long progress, ulong site, ulong target, ulong sp)
    {
        LegoEmu.Cpu.Translate.TranslatedRuntime.Settle(c);
        if (Of(c) is not { } t) return;
        t.Event(progress, site);
        // A frame returns once the stack pointer passed its return address (sp at the call).
        if (t._depth == 0 || t._sp[t._depth - 1] >= sp)
        {
            if (t._depth == 0) t._current = t._graph.Enter(-1, target);
            return;
        }
        while (t._depth > 0 && t._sp[t._depth - 1] < sp) t.Pop(t._now);
    }

    /// <summary>The interpreter ran a block to its end: its last instruction may have been a call or a return.</summary>
    public static void AfterBlock(CpuState c, ref Decode.Insn last)
    {
        switch (Transfer(last.I.Code))
        {
            case true: Call(c, 0, last.Ip, c.Rip, c.R[Registers.RSP]); break;
            case false: Return(c, 0, last.Ip, c.Rip, c.R[Registers.RSP]); break;
        }
    }

    /// <summary>Whether <paramref name="code"/> is a near CALL (true), a near RET (false), or neither (null).</summary>
    public static bool? Transfer(Iced.Intel.Code code) =>
        code is Iced.Intel.Code.Call_rel32_64 or Iced.Intel.Code.Call_rm64 ? true : code is Iced.Intel.Code.Retnq or Iced.Intel.Code.Retnq_imm16 ? false : null;

    /// <summary>A CALL or RET its interpreter handler ran inside compiled code: RIP and RSP are in the CPU state.</summary>
    public static void Handled(CpuState c, long progress, ulong site, bool call)
    {
        if (call) Call(c, progress, site, c.Rip, c.R[Registers.RSP]);
        else Return(c, progress, site, c.Rip, c.R[Registers.RSP]);
    }

    /// <summary>The component's host thread leaves <paramref name="from"/>'s guest thread for <paramref name="to"/>'s.</summary>
    public static void Switch(CpuState? from, CpuState to)
    {
        if (from?.Calls is { } f && !f._closed)
        {
            f.Live(0, f._pausedAt);
            f._paused = true;
        }
        if (to.Calls is { } t && t._paused)
        {
            Span<long> now = stackalloc long[N];
            t.Raw(0, now);
            // What other threads did meanwhile is not this thread's: raw counters minus _away.
            for (int k = (int)CallGraph.CostIndex.Accesses; k < N; k++) t._away[k] = now[k] - t._pausedAt[k];
            t._paused = false;
        }
    }

    static CallTracker? Of(CpuState c)
    {
        var t = c.Calls;
        var profile = c.Mem.Cache.Profile;
        if (t != null && t._profile == profile) return t;
        // A new profile (the first event, or after an execve): the old frames belong to the old image.
        t?.Close();
        return c.Calls = profile == null ? null : new CallTracker(c, profile);
    }

    /// <summary>Brings the current context's own costs up to now (left in <see cref="_now"/>).</summary>
    void Event(long progress, ulong site)
    {
        Live(progress, _now);
        if (_current < 0) _current = _graph.Enter(-1, site);
        _graph.ChargeSelf(_current, _now, _last);
    }

    void Pop(ReadOnlySpan<long> now)
    {
        int d = --_depth;
        var edge = _edge[d];
        edge.Count++;
        var at = _at.AsSpan(d * N, N);
        for (int k = 0; k < N; k++) edge.Inclusive[k] += now[k] - at[k];
        _current = _context[d] >= 0 ? _context[d] : _graph.Enter(-1, _site[d]);
    }

    /// <summary>At the end (or when the profile is replaced): the last costs to the current context, open frames closed.</summary>
    void Close()
    {
        if (_closed) return;
        _closed = true;
        if (_paused) _pausedAt.CopyTo(_now, 0);
        else Live(0, _now);
        if (_current >= 0) _graph.ChargeSelf(_current, _now, _last);
        while (_depth > 0) Pop(_now);
    }

    /// <summary>This thread's costs so far: its instructions and the component's counters less what other threads did.</summary>
    void Live(long progress, Span<long> v)
    {
        Raw(progress, v);
        for (int k = 0; k < N; k++) v[k] -= _away[k];
    }

    void Raw(long progress, Span<long> v)
    {
        var totals = _profile.Totals;
        v[(int)CallGraph.CostIndex.Instructions] = _cpu.InstructionsRetired + Translate.RegionEmitter.InstructionsOf(progress);
        v[(int)CallGraph.CostIndex.Accesses] = _cpu.Mem.Accesses + Translate.RegionEmitter.AccessesOf(progress);
        v[(int)CallGraph.CostIndex.Misses] = totals.Misses;
        v[(int)CallGraph.CostIndex.MemoryFills] = totals.MemoryFills;
        v[(int)CallGraph.CostIndex.WriteBacks] = totals.WriteBacks;
        v[(int)CallGraph.CostIndex.FetchMisses] = totals.FetchMisses;
        v[(int)CallGraph.CostIndex.KernelMisses] = totals.KernelMisses;
    }

    void Grow()
    {
        int n = _site.Length * 2;
        Array.Resize(ref _site, n);
        Array.Resize(ref _target, n);
        Array.Resize(ref _sp, n);
        Array.Resize(ref _context, n);
        Array.Resize(ref _edge, n);
        Array.Resize(ref _at, n * N);
    }
}

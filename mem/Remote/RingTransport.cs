using System.Diagnostics;
using System.Globalization;

namespace LegoEmu.Mem.Remote;

/// <summary>
/// Whether connections to memory nodes on Unix sockets move their frames through a shared-memory ring
/// (<see cref="RingLink"/>), and how long each side spins before it sleeps. <c>LEGOEMU_RING=off</c> keeps every
/// connection on its socket, on the processor side (it does not ask) and on the node's (it declines);
/// <c>LEGOEMU_RING_SPIN=MICROSECONDS</c> changes how long a waiting side spins. Children inherit both.
/// </summary>
public static class RingTransport
{
    public const string Variable = "LEGOEMU_RING", SpinVariable = "LEGOEMU_RING_SPIN";

    /// <summary>Smallest and largest ring per direction; a frame larger than the ring streams through it.</summary>
    public const int MinCapacity = 4096, MaxCapacity = 4 << 20;

    /// <summary>
    /// Per direction. At least a socket's send buffer (about 200 KiB), so a batch of prefetches and their replies never
    /// waits where a socket would not; the pages are only touched as the ring wraps round.
    /// </summary>
    public const int DefaultCapacity = 256 << 10;

    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable(Variable) is not ("off" or "0" or "no");

    /// <summary>
    /// <c>LEGOEMU_ONESIDED=off</c>: a node keeps its frames in arrays and passes no frame arena with a ring, and a
    /// processor does not ask for one, so every miss and write-back is a message (for comparison). Children inherit it.
    /// </summary>
    public const string OneSidedVariable = "LEGOEMU_ONESIDED";

    /// <summary>Whether a ring also carries the node's frame arena, for one-sided fills and write-backs (see <see cref="FrameWindow"/>).</summary>
    public static bool OneSided { get; set; } = Environment.GetEnvironmentVariable(OneSidedVariable) is not ("off" or "0" or "no");

    /// <summary>
    /// Whether a cache may map a granted frame instead of copying it (see <see cref="Cache.ExCache"/>'s mapped slots):
    /// <c>LEGOEMU_ONESIDED=copy</c> keeps one-sided access but copies every line in and out, as before (for comparison).
    /// </summary>
    public static bool MapFrames { get; set; } = Environment.GetEnvironmentVariable(OneSidedVariable) is not "copy";

    /// <summary>The ring a client asks for (a power of two from <see cref="MinCapacity"/> to <see cref="MaxCapacity"/>).</summary>
    public static int Capacity { get; set; } = DefaultCapacity;

    /// <summary>
    /// How long a waiting side spins on the ring before it announces that it sleeps and waits on the socket. A node
    /// answers a fill in a few microseconds, so a processor that spins this long is never woken for one; a node spins
    /// as long after each request, catching the next miss of a guest that misses often. Both are bounded: these
    /// machines may have two cores, and a spinning side takes one of them from the other side.
    /// </summary>
    public static long SpinTicks { get; set; } = Stopwatch.Frequency * SpinMicros() / 1_000_000;

    static long SpinMicros() =>
        Environment.GetEnvironmentVariable(SpinVariable) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long us) && us <= 100_000
            ? us : 40;

    public static bool ValidCapacity(long bytes) => bytes >= MinCapacity && bytes <= MaxCapacity && (bytes & (bytes - 1)) == 0;
}

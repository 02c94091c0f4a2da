using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// One element of a vector at an index known only at run time. Vector128/256.GetElement and WithElement with such an
/// index carry a range-check throw helper that ReadyToRun cannot bind, which leaves the calling handler to the JIT in
/// every process; a span over the vector checks its index with the ordinary bounds check.
/// </summary>
static class Lanes
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Get<T>(in Vector128<byte> v, int k) where T : unmanaged =>
        MemoryMarshal.Cast<Vector128<byte>, T>(new ReadOnlySpan<Vector128<byte>>(in v))[k];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set<T>(ref Vector128<byte> v, int k, T x) where T : unmanaged =>
        MemoryMarshal.Cast<Vector128<byte>, T>(new Span<Vector128<byte>>(ref v))[k] = x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Get<T>(in Vector256<byte> v, int k) where T : unmanaged =>
        MemoryMarshal.Cast<Vector256<byte>, T>(new ReadOnlySpan<Vector256<byte>>(in v))[k];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set<T>(ref Vector256<byte> v, int k, T x) where T : unmanaged =>
        MemoryMarshal.Cast<Vector256<byte>, T>(new Span<Vector256<byte>>(ref v))[k] = x;
}

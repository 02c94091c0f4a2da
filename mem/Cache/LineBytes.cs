using System.Runtime.InteropServices;

namespace LegoEmu.Mem.Cache;

/// <summary>
/// Zeroes and copies whole cache lines with the C library. A line's first write is usually the first touch of its
/// host page, and .NET's own span clearing and copying reads the destination before handing large lengths to
/// native code (so that a bad pointer faults in managed code): that read maps the shared zero page, and the write
/// that follows faults a second time to replace it. Two faults per filled line doubled the cost of filling fresh
/// memory; these calls fault once, on the write, as the guest's own first touch does natively.
/// </summary>
static unsafe class LineBytes
{
    // The C library by its file name, as in HostCode: "libc" is probed under other names first.
    [DllImport("libc.so.6", EntryPoint = "memset"), SuppressGCTransition]
    static extern void* memset(void* destination, int value, nuint length);

    [DllImport("libc.so.6", EntryPoint = "memcpy"), SuppressGCTransition]
    static extern void* memcpy(void* destination, void* source, nuint length);

    /// <summary>Sets every byte of <paramref name="line"/> to zero.</summary>
    public static void Zero(Span<byte> line)
    {
        fixed (byte* p = line) memset(p, 0, (nuint)line.Length);
    }

    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="line"/> (the two must not overlap).</summary>
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> line)
    {
        if (source.Length > line.Length) throw new ArgumentException("source longer than the line", nameof(source));
        fixed (byte* s = source)
        fixed (byte* d = line)
            memcpy(d, s, (nuint)source.Length);
    }
}

namespace LegoEmu.Mem;

/// <summary>Guest page-size arithmetic (the guest ABI's page is always 4 KiB).</summary>
public static class PageMath
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    public const ulong PageMask = PageSize - 1;

    public static ulong Down(ulong a) => a & ~PageMask;
    public static ulong Up(ulong a) => (a + PageMask) & ~PageMask;
    public static bool Aligned(ulong a) => (a & PageMask) == 0;
}

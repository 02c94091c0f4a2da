namespace LegoEmu.Loader.Image;

/// <summary>Auxiliary-vector tags (include/uapi/linux/auxvec.h).</summary>
public static class AuxVector
{
    public const ulong AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7,
        AT_FLAGS = 8, AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15,
        AT_HWCAP = 16, AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31,
        AT_MINSIGSTKSZ = 51;
}

/// <summary>Facts about the emulated machine and user that the loader writes into the auxv.</summary>
/// <param name="StackLimit">RLIMIT_STACK's soft limit, which bounds how far the stack may grow.</param>
public sealed record LoaderEnvironment(ulong HwCap, ulong HwCap2, ulong MinSigStackSize, uint Uid, uint Euid, uint Gid, uint Egid,
    ulong StackLimit = ImageLoader.DefaultStackSize);

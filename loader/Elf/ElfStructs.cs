namespace LegoEmu.Loader.Elf;

/// <summary>ELF constants used by the loader (values from the System V gABI and the x86-64 psABI).</summary>
public static class ElfConst
{
    public const ushort ET_EXEC = 2, ET_DYN = 3;
    public const ushort EM_X86_64 = 62;
    public const uint PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4, PT_PHDR = 6, PT_TLS = 7;
    public const uint PT_GNU_STACK = 0x6474e551;
    public const uint PF_X = 1, PF_W = 2, PF_R = 4;
    public const uint SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOBITS = 8, SHT_DYNSYM = 11;
    public const int PhdrSize = 56, EhdrSize = 64, ShdrSize = 64, SymSize = 24;
}

/// <summary>One program header.</summary>
public readonly record struct ProgramHeader(uint Type, uint Flags, ulong Offset, ulong VAddr, ulong FileSize, ulong MemSize, ulong Align);

/// <summary>One section header with its resolved name.</summary>
public readonly record struct SectionHeader(string Name, uint Type, ulong Flags, ulong Addr, ulong Offset, ulong Size, uint Link, ulong EntSize);

/// <summary>One symbol from .symtab or .dynsym.</summary>
public readonly record struct ElfSymbol(string Name, ulong Value, ulong Size, byte Info)
{
    public bool IsFunction => (Info & 0xf) == 2;
}

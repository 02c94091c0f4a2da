namespace LegoEmu.Loader.Elf;

/// <summary>The file is not a loadable x86-64 ELF; the message is one line meant for the user.</summary>
public sealed class ElfFormatException(string message) : Exception(message);

using LegoEmu.Loader.Elf;
using LegoEmu.Mem;

namespace LegoEmu.Loader.Image;

/// <summary>What an execve of a path runs: the ELF program (after any "#!" scripts), its dynamic linker, and the arguments.</summary>
public sealed record ResolvedProgram(ElfFile Elf, ElfFile? Interpreter, IReadOnlyList<string> Argv);

/// <summary>
/// Finds and reads what execve of a path would run, with the kernel's errors at the kernel's points: each
/// file is opened as an executable (<see cref="ExecutableFile"/>), a "#!" script is replaced by its
/// interpreter (at most <see cref="MaxScriptDepth"/> deep, then ELOOP), and a dynamic program brings its
/// PT_INTERP, which must be an executable ELF shared object too. Each file is read once.
/// </summary>
public static class ProgramFiles
{
    /// <summary>How many "#!" interpreters may stand in front of the ELF program (the kernel's exec_binprm limit).</summary>
    public const int MaxScriptDepth = 5;

    /// <summary>Throws <see cref="ExecFileException"/> (with ENOEXEC for a malformed ELF) or returns the program.</summary>
    public static ResolvedProgram Resolve(string path, IReadOnlyList<string> argv)
    {
        for (int depth = 0; ; depth++)
        {
            using var file = ExecutableFile.Open(path);
            if (Script.TryParse(file.Head, out var interpreter, out var optional, out int errno))
            {
                if (errno != 0) throw new ExecFileException(errno, path);
                if (depth == MaxScriptDepth) throw new ExecFileException(Errno.ELOOP, path);
                var next = new List<string> { interpreter };
                if (optional != null) next.Add(optional);
                next.Add(path);
                next.AddRange(argv.Skip(1));
                path = interpreter;
                argv = next;
                continue;
            }
            var elf = ElfFile.Load(file);
            ElfFile? interp = null;
            if (elf.Interpreter != null)
            {
                using var ld = ExecutableFile.Open(elf.Interpreter);
                try { interp = ElfFile.Load(ld); }
                catch (ElfFormatException e) { throw new ElfFormatException($"interpreter {PrintableName.Escape(elf.Interpreter)}: {e.Message}"); }
            }
            return new ResolvedProgram(elf, interp, argv);
        }
    }
}

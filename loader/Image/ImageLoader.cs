using LegoEmu.Loader.Elf;
using LegoEmu.Mem;
using LegoEmu.Mem.Space;

namespace LegoEmu.Loader.Image;

/// <summary>
/// Places an ELF executable into a guest address space and builds the initial stack the way
/// Linux's binfmt_elf does (without address randomisation, like a process under setarch -R).
/// </summary>
public static class ImageLoader
{
    /// <summary>Where Linux puts an ET_DYN executable loaded without an interpreter (ELF_ET_DYN_BASE).</summary>
    public const ulong DynBase = 0x5555_5555_4000UL;
    public const ulong StackTop = 0x7fff_ffff_f000UL;
    /// <summary>The stack under the usual RLIMIT_STACK of 8 MiB.</summary>
    public const ulong DefaultStackSize = 8UL << 20;

    /// <summary>
    /// The stack is mapped whole at its largest: as far as RLIMIT_STACK lets the kernel grow it, so a deeper
    /// recursion faults where it faults natively. The kernel grows an unlimited stack until it meets another
    /// mapping; 256 MiB stands for that, and stays clear of where mmap starts placing (see VmaSet.DefaultMmapBase).
    /// A limit too small for the arguments and the first frames gets 128 KiB, the kernel's initial stack_expand.
    /// </summary>
    public static ulong StackSizeFor(ulong limit) => PageMath.Up(Math.Clamp(limit, 128UL << 10, 256UL << 20));

    /// <param name="interpreter">The program's PT_INTERP (the dynamic linker), already parsed, or null for a static program.</param>
    public static ProcessImage Load(ElfFile elf, GuestAddressSpace space, IReadOnlyList<string> argv,
        IReadOnlyList<string> envp, string execFn, LoaderEnvironment env, ElfFile? interpreter = null)
    {
        ulong bias = elf.IsDynamicType ? DynBase - PageMath.Down(MinLoadAddress(elf)) : 0;
        ulong brk = MapSegments(elf, space, bias);
        space.SetBrkBase(brk);

        // The dynamic linker goes where mmap would put it (top-down below the stack), as the kernel does.
        ulong interpBias = 0;
        if (interpreter != null)
        {
            if (!interpreter.IsDynamicType) throw new ElfFormatException($"interpreter {interpreter.Path} is not a shared object");
            ulong lo = PageMath.Down(MinLoadAddress(interpreter)), hi = PageMath.Up(MaxLoadAddress(interpreter));
            long at = space.Map(0, hi - lo, Protection.None, LegoEmu.Mem.Component.MapFlags.Private | LegoEmu.Mem.Component.MapFlags.Anonymous);
            if (at < 0) throw new ElfFormatException("no room for the dynamic linker");
            space.Unmap((ulong)at, hi - lo);
            interpBias = (ulong)at - lo;
            MapSegments(interpreter, space, interpBias);
        }

        bool execStack = false;
        int phnum = elf.ProgramHeaders.Length;
        ulong phdr = 0;
        foreach (var ph in elf.ProgramHeaders)
        {
            if (ph.Type == ElfConst.PT_GNU_STACK) execStack = (ph.Flags & ElfConst.PF_X) != 0;
            if (ph.Type == ElfConst.PT_PHDR) phdr = ph.VAddr + bias;
        }
        if (phdr == 0)
        {
            foreach (var ph in elf.ProgramHeaders)
                if (ph.Type == ElfConst.PT_LOAD && elf.PhOff >= ph.Offset && elf.PhOff < ph.Offset + ph.FileSize)
                    phdr = ph.VAddr + bias + (elf.PhOff - ph.Offset);
        }

        var stackProt = Protection.ReadWrite | (execStack ? Protection.Exec : 0);
        ulong stackSize = StackSizeFor(env.StackLimit);
        long r = space.MapForImage(StackTop - stackSize, stackSize, stackProt, "[stack]");
        if (r < 0) throw new ElfFormatException("cannot map the stack");

        var aux = new List<(ulong, ulong)>
        {
            (AuxVector.AT_MINSIGSTKSZ, env.MinSigStackSize),
            (AuxVector.AT_HWCAP, env.HwCap),
            (AuxVector.AT_PAGESZ, PageMath.PageSize),
            (AuxVector.AT_CLKTCK, 100),
            (AuxVector.AT_PHDR, phdr),
            (AuxVector.AT_PHENT, ElfConst.PhdrSize),
            (AuxVector.AT_PHNUM, (ulong)phnum),
            (AuxVector.AT_BASE, interpreter == null ? 0 : interpBias),
            (AuxVector.AT_FLAGS, 0),
            (AuxVector.AT_ENTRY, elf.Entry + bias),
            (AuxVector.AT_UID, env.Uid),
            (AuxVector.AT_EUID, env.Euid),
            (AuxVector.AT_GID, env.Gid),
            (AuxVector.AT_EGID, env.Egid),
            (AuxVector.AT_SECURE, 0),
        };
        ulong sp = BuildStack(space, argv, envp, execFn, env, aux);
        var auxBytes = new byte[aux.Count * 16];
        for (int k = 0; k < aux.Count; k++)
        {
            BitConverter.TryWriteBytes(auxBytes.AsSpan(k * 16), aux[k].Item1);
            BitConverter.TryWriteBytes(auxBytes.AsSpan(k * 16 + 8), aux[k].Item2);
        }

        return new ProcessImage
        {
            Entry = interpreter == null ? elf.Entry + bias : interpreter.Entry + interpBias,
            StackPointer = sp,
            LoadBias = bias,
            BrkBase = brk,
            PhdrAddress = phdr,
            PhdrCount = phnum,
            ExecutableStack = execStack,
            Interpreter = elf.Interpreter,
            StackTop = StackTop,
            StackBottom = StackTop - stackSize,
            AuxVector = auxBytes,
        };
    }

    static ulong MaxLoadAddress(ElfFile elf)
    {
        ulong max = 0;
        foreach (var ph in elf.ProgramHeaders)
            if (ph.Type == ElfConst.PT_LOAD) max = Math.Max(max, ph.VAddr + ph.MemSize);
        return max;
    }

    static ulong MinLoadAddress(ElfFile elf)
    {
        ulong min = ulong.MaxValue;
        foreach (var ph in elf.ProgramHeaders)
            if (ph.Type == ElfConst.PT_LOAD) min = Math.Min(min, ph.VAddr);
        return min;
    }

    /// <summary>Maps PT_LOAD segments; a page shared by two segments gets the union of their rights.</summary>
    static ulong MapSegments(ElfFile elf, GuestAddressSpace space, ulong bias)
    {
        var loads = elf.LoadSegments();
        ulong mappedEnd = 0;
        Protection prevProt = Protection.None;
        ulong end = 0;
        foreach (var ph in loads)
        {
            ulong start = ph.VAddr + bias;
            ulong segEnd = start + ph.MemSize;
            var prot = ToProt(ph.Flags);
            ulong pageStart = PageMath.Down(start), pageEnd = PageMath.Up(segEnd);
            if (pageStart < mappedEnd)
            {
                // The first page is already mapped by the previous segment: widen its rights.
                space.Protect(pageStart, PageMath.PageSize, prot | prevProt);
                pageStart = mappedEnd;
            }
            if (pageEnd > pageStart && space.MapForImage(pageStart, pageEnd - pageStart, prot, elf.Path) < 0)
                throw new ElfFormatException($"cannot map segment at 0x{start:x}");
            if (ph.FileSize > 0) PlaceFileBytes(elf, space, ph, start, pageStart);
            mappedEnd = Math.Max(mappedEnd, pageEnd);
            prevProt = prot;
            end = Math.Max(end, segEnd);
        }
        return PageMath.Up(end);
    }

    /// <summary>
    /// Places a segment's bytes from the file. The whole pages of the file's part, in this segment's own mapping (from
    /// <paramref name="ownFrom"/> on), are backed by the file and read as the guest touches them; the partial pages at
    /// either end (whose other bytes are zeros, or the previous segment's) are written now.
    /// </summary>
    static void PlaceFileBytes(ElfFile elf, GuestAddressSpace space, ProgramHeader ph, ulong start, ulong ownFrom)
    {
        ulong fileEnd = start + ph.FileSize;
        ulong lazyStart = Math.Max(PageMath.Up(start), ownFrom), lazyEnd = PageMath.Down(fileEnd);
        if (elf.Backing is not { } file || lazyEnd <= lazyStart || ((start ^ ph.Offset) & PageMath.PageMask) != 0)
        {
            PokeFileBytes(elf, space, start, ph.Offset, ph.FileSize);
            return;
        }
        space.BackWithFile(lazyStart, lazyEnd - lazyStart, file, ph.Offset + (lazyStart - start));
        PokeFileBytes(elf, space, start, ph.Offset, lazyStart - start);
        PokeFileBytes(elf, space, lazyEnd, ph.Offset + (lazyEnd - start), fileEnd - lazyEnd);
    }

    static void PokeFileBytes(ElfFile elf, GuestAddressSpace space, ulong addr, ulong offset, ulong length)
    {
        if (length == 0) return;
        var buffer = new byte[(int)Math.Min(length, 1UL << 20)];
        for (ulong done = 0; done < length;)
        {
            int n = (int)Math.Min(length - done, (ulong)buffer.Length);
            elf.Read(offset + done, buffer.AsSpan(0, n));
            space.Poke(addr + done, buffer.AsSpan(0, n));
            done += (ulong)n;
        }
    }

    /// <summary>
    /// AT_RANDOM's bytes from the kernel's pool, as binfmt_elf takes them. Not RandomNumberGenerator:
    /// on Linux that loads OpenSSL, several milliseconds of every start-up.
    /// </summary>

    static Protection ToProt(uint flags) =>
        ((flags & ElfConst.PF_R) != 0 ? Protection.Read : 0) |
        ((flags & ElfConst.PF_W) != 0 ? Protection.Write : 0) |
        ((flags & ElfConst.PF_X) != 0 ? Protection.Exec : 0);

    /// <summary>Builds argc/argv/envp/auxv below the strings, leaving the final SP 16-byte aligned.</summary>
    static ulong BuildStack(GuestAddressSpace space, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        string execFn, LoaderEnvironment env, List<(ulong, ulong)> aux)
    {
        ulong p = StackTop - 8; // the kernel leaves one NULL word at the very top
        ulong PushString(string s)
        {
            byte[] b = GuestText.Encode(s, nul: true);
            p -= (ulong)b.Length;
            space.Poke(p, b);
            return p;
        }

        ulong execFnAddr = PushString(execFn);
        var envAddrs = new ulong[envp.Count];
        for (int i = envp.Count - 1; i >= 0; i--) envAddrs[i] = PushString(envp[i]);
        var argAddrs = new ulong[argv.Count];
        for (int i = argv.Count - 1; i >= 0; i--) argAddrs[i] = PushString(argv[i]);

        p &= ~15UL;
        ulong platform = PushString("x86_64");
        p -= 16;
        ulong random = p;
        space.Poke(random, LegoEmu.Mem.KernelRandom.Bytes(16));

        aux.Add((AuxVector.AT_RANDOM, random));
        aux.Add((AuxVector.AT_HWCAP2, env.HwCap2));
        aux.Add((AuxVector.AT_EXECFN, execFnAddr));
        aux.Add((AuxVector.AT_PLATFORM, platform));
        aux.Add((AuxVector.AT_NULL, 0));

        int words = 1 + argv.Count + 1 + envp.Count + 1 + aux.Count * 2;
        p &= ~15UL;
        ulong sp = p - (ulong)words * 8;
        sp &= ~15UL;

        var table = new byte[words * 8];
        int w = 0;
        void Put(ulong v) { BitConverter.TryWriteBytes(table.AsSpan(w * 8), v); w++; }
        Put((ulong)argv.Count);
        foreach (var a in argAddrs) Put(a);
        Put(0);
        foreach (var e in envAddrs) Put(e);
        Put(0);
        foreach (var (k, v) in aux) { Put(k); Put(v); }
        space.Poke(sp, table);
        return sp;
    }
}

using System.Runtime.Intrinsics;
using LegoEmu.Cpu.State;

namespace LegoEmu.Syscalls.Runtime;

/// <summary>
/// Everything a forked child's processor component needs from its parent: where its address space
/// lives, the calling thread's registers, descriptors, signal dispositions and identity. Written by the
/// parent to a private file that the child reads once and deletes.
/// </summary>
public sealed class ForkState
{
    const uint Magic = 0x4B524F46; // "FORK"

    public required string[] MemoryEndpoints;
    public required int Asid;
    public required int HomeNode;
    /// <summary>The secret with which the child claims its address space on the memory nodes.</summary>
    public required ulong SpaceKey;
    public required Dictionary<ulong, int> RegionOwners;
    public required ulong Brk;
    public required string ExePath;
    /// <summary>The image's dynamic linker, "" for a static program (the code cache's key names both).</summary>
    public required string InterpreterPath;
    public required string[] Argv;
    /// <summary>The image's environment as execve passed it (/proc/self/environ).</summary>
    public required string[] Envp;
    public required byte[] AuxVector;
    public required byte[] ThreadName;
    public required ulong[] Registers;
    public required ulong Rip, Rflags, FsBase, GsBase;
    public required byte[][] Xmm;
    public required uint Mxcsr;
    public required ushort FpuControl, FpuStatus, FpuTags;
    public required Float80[] FpuRegs;
    public required (int Guest, int Host, bool CloseOnExec)[] Fds;
    public required SignalAction[] SignalActions;
    public required ulong SignalMask, AltStackBase, AltStackSize;
    /// <summary>The forking thread's CPUs (<see cref="GuestThread.Affinity"/>).</summary>
    public required ulong Affinity;
    public required uint AltStackFlags;
    /// <summary>CLONE_CHILD_SETTID: where the child writes its own tid; CLONE_CHILD_CLEARTID: cleared at exit.</summary>
    public required ulong ChildSetTid, ChildClearTid;
    /// <summary>The parent's signalfds (host descriptor, mask): the child gives each a private eventfd.</summary>
    public required (int Host, ulong Mask)[] SignalFds;
    /// <summary>
    /// The memory is a parent's own, served on a private socket for the fork, not memory nodes the user
    /// chose: after execve the child keeps its new image in a memory component of its own.
    /// </summary>
    public required bool MemoryBorrowed;
    /// <summary>The limits kept by the emulator rather than the host (see <see cref="GuestProcess.VirtualLimits"/>): soft and hard of each.</summary>
    public ulong[] VirtualLimits = [];
    /// <summary>
    /// <c>--spread processes</c>: the processor component the child's threads compute on, "" to run them in the child's
    /// own component. The parent claims it (<see cref="ProcessSpread"/>); the child's component keeps everything else.
    /// </summary>
    public string ThreadHost = "";

    public void Write(string path)
    {
        using var file = File.Create(path);
        Write(file);
    }

    /// <summary>The state as bytes, for a hand-over over a socket.</summary>
    public byte[] ToBytes()
    {
        var m = new MemoryStream();
        Write(m);
        return m.ToArray();
    }

    public static ForkState FromBytes(byte[] bytes) => Read(new MemoryStream(bytes), "a pooled processor component's hand-over");

    void Write(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(MemoryEndpoints.Length);
        foreach (var e in MemoryEndpoints) w.Write(e);
        w.Write(Asid);
        w.Write(HomeNode);
        w.Write(SpaceKey);
        w.Write(RegionOwners.Count);
        foreach (var (r, n) in RegionOwners) { w.Write(r); w.Write(n); }
        w.Write(Brk);
        w.Write(ExePath);
        w.Write(InterpreterPath);
        w.Write(Argv.Length);
        foreach (var a in Argv) w.Write(a);
        w.Write(Envp.Length);
        foreach (var e in Envp) w.Write(e);
        w.Write(AuxVector.Length);
        w.Write(AuxVector);
        w.Write(ThreadName);
        foreach (var r in Registers) w.Write(r);
        w.Write(Rip); w.Write(Rflags); w.Write(FsBase); w.Write(GsBase);
        foreach (var x in Xmm) w.Write(x);
        w.Write(Mxcsr);
        w.Write(FpuControl); w.Write(FpuStatus); w.Write(FpuTags);
        foreach (var f in FpuRegs) { w.Write(f.Mantissa); w.Write(f.SignExp); }
        w.Write(Fds.Length);
        foreach (var (g, h, c) in Fds) { w.Write(g); w.Write(h); w.Write(c); }
        foreach (var a in SignalActions) { w.Write(a.Handler); w.Write(a.Flags); w.Write(a.Restorer); w.Write(a.Mask); }
        w.Write(SignalMask); w.Write(AltStackBase); w.Write(AltStackSize); w.Write(AltStackFlags);
        w.Write(Affinity);
        w.Write(ChildSetTid); w.Write(ChildClearTid);
        w.Write(SignalFds.Length);
        foreach (var (h, m) in SignalFds) { w.Write(h); w.Write(m); }
        w.Write(MemoryBorrowed);
        w.Write(VirtualLimits.Length);
        foreach (var v in VirtualLimits) w.Write(v);
        w.Write(ThreadHost);
    }

    /// <summary>Reads the state from an inherited descriptor (and closes it; one of 0-2 becomes /dev/null).</summary>
    public static ForkState Read(int fd)
    {
        if (fd is >= 0 and <= 2)
        {
            // The parent's guest had freed that standard descriptor: read from a copy and keep the number taken.
            const int F_DUPFD_CLOEXEC = 1030;
            long copy = Host.Native.Sys(Abi.Nr.fcntl, fd, F_DUPFD_CLOEXEC, 3);
            if (copy < 0) throw new IOException($"cannot duplicate descriptor {fd}: error {-copy}");
            Host.StandardDescriptors.Close(fd);
            fd = (int)copy;
        }
        using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
        using var stream = new FileStream(handle, FileAccess.Read);
        return Read(stream, $"descriptor {fd}");
    }

    static ForkState Read(Stream stream, string what)
    {
        using var r = new BinaryReader(stream);
        if (r.ReadUInt32() != Magic) throw new InvalidDataException($"{what} is not a LegoEmu fork state");
        var endpoints = new string[r.ReadInt32()];
        for (int i = 0; i < endpoints.Length; i++) endpoints[i] = r.ReadString();
        int asid = r.ReadInt32(), home = r.ReadInt32();
        ulong key = r.ReadUInt64();
        var owners = new Dictionary<ulong, int>();
        for (int n = r.ReadInt32(); n > 0; n--) owners[r.ReadUInt64()] = r.ReadInt32();
        ulong brk = r.ReadUInt64();
        string exe = r.ReadString();
        string interpreter = r.ReadString();
        var argv = new string[r.ReadInt32()];
        for (int i = 0; i < argv.Length; i++) argv[i] = r.ReadString();
        var envp = new string[r.ReadInt32()];
        for (int i = 0; i < envp.Length; i++) envp[i] = r.ReadString();
        var aux = r.ReadBytes(r.ReadInt32());
        var name = r.ReadBytes(16);
        var regs = new ulong[16];
        for (int i = 0; i < 16; i++) regs[i] = r.ReadUInt64();
        ulong rip = r.ReadUInt64(), rflags = r.ReadUInt64(), fs = r.ReadUInt64(), gs = r.ReadUInt64();
        var xmm = new byte[16][];
        for (int i = 0; i < 16; i++) xmm[i] = r.ReadBytes(16);
        uint mxcsr = r.ReadUInt32();
        ushort cw = r.ReadUInt16(), sw = r.ReadUInt16(), tw = r.ReadUInt16();
        var fregs = new Float80[8];
        for (int i = 0; i < 8; i++) fregs[i] = new Float80 { Mantissa = r.ReadUInt64(), SignExp = r.ReadUInt16() };
        var fds = new (int, int, bool)[r.ReadInt32()];
        for (int i = 0; i < fds.Length; i++) fds[i] = (r.ReadInt32(), r.ReadInt32(), r.ReadBoolean());
        var acts = new SignalAction[65];
        for (int i = 0; i < 65; i++) acts[i] = new SignalAction(r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64());
        ulong mask = r.ReadUInt64(), altBase = r.ReadUInt64(), altSize = r.ReadUInt64();
        uint altFlags = r.ReadUInt32();
        ulong affinity = r.ReadUInt64();
        ulong setTid = r.ReadUInt64(), clearTid = r.ReadUInt64();
        var signalFds = new (int, ulong)[r.ReadInt32()];
        for (int i = 0; i < signalFds.Length; i++) signalFds[i] = (r.ReadInt32(), r.ReadUInt64());
        bool borrowed = r.ReadBoolean();
        var limits = new ulong[Math.Min(r.ReadInt32(), 64)];
        for (int i = 0; i < limits.Length; i++) limits[i] = r.ReadUInt64();
        string threadHost = r.ReadString();
        return new ForkState
        {
            MemoryEndpoints = endpoints, Asid = asid, HomeNode = home, SpaceKey = key, RegionOwners = owners, Brk = brk, ExePath = exe, InterpreterPath = interpreter,
            Argv = argv, Envp = envp, AuxVector = aux, ThreadName = name, Registers = regs, Rip = rip, Rflags = rflags, FsBase = fs, GsBase = gs,
            Xmm = xmm, Mxcsr = mxcsr, FpuControl = cw, FpuStatus = sw, FpuTags = tw, FpuRegs = fregs, Fds = fds,
            SignalActions = acts, SignalMask = mask, Affinity = affinity, AltStackBase = altBase, AltStackSize = altSize, AltStackFlags = altFlags, ChildSetTid = setTid, ChildClearTid = clearTid,
            SignalFds = signalFds, MemoryBorrowed = borrowed, VirtualLimits = limits, ThreadHost = threadHost,
        };
    }

    /// <summary>
    /// The registers' bytes, one array each. Not a per-register selector: a method or lambda taking a Vector128 by
    /// value is one ReadyToRun cannot precompile, so every forking process would JIT it.
    /// </summary>
    public static byte[][] Bytes(Vector128<byte>[] registers)
    {
        var all = new byte[registers.Length][];
        for (int k = 0; k < registers.Length; k++)
        {
            all[k] = new byte[16];
            registers[k].CopyTo(all[k]);
        }
        return all;
    }
}

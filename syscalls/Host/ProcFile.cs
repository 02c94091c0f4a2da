namespace LegoEmu.Syscalls.Host;

/// <summary>
/// Reads a small file of /proc with raw system calls. At start-up, the runtime's file API costs its first use (a
/// SafeFileHandle made by reflection, which the runtime's first JIT compile pays for, about 4 ms) on the guest's critical path.
/// </summary>
public static unsafe class ProcFile
{
    /// <summary>Reads up to <paramref name="into"/>'s length from the start of <paramref name="path"/> (ASCII); the byte count, or -1.</summary>
    public static int Read(ReadOnlySpan<char> path, Span<byte> into)
    {
        Span<byte> name = stackalloc byte[path.Length + 1];
        for (int k = 0; k < path.Length; k++) name[k] = (byte)path[k];
        name[^1] = 0;
        const long O_RDONLY_CLOEXEC = 0x80000;
        long fd;
        fixed (byte* p = name) fd = Native.Sys(Abi.Nr.open, (long)p, O_RDONLY_CLOEXEC);
        if (fd < 0) return -1;
        int n = 0;
        fixed (byte* buffer = into)
            while (n < into.Length)
            {
                long r = Native.Sys(Abi.Nr.read, fd, (long)(buffer + n), into.Length - n);
                if (r == -4) continue; // EINTR
                if (r <= 0) break;
                n += (int)r;
            }
        Native.Sys(Abi.Nr.close, fd);
        return n;
    }

    /// <summary>
    /// The value of the field <paramref name="name"/> of /proc/self/status ("SigIgn", "VmHWM"), blanks trimmed, read into
    /// <paramref name="buffer"/> (4 KiB holds the file); empty when the field or the file is missing.
    /// </summary>
    public static ReadOnlySpan<byte> SelfStatusField(ReadOnlySpan<byte> name, Span<byte> buffer)
    {
        int n = Read("/proc/self/status", buffer);
        if (n <= 0) return default;
        ReadOnlySpan<byte> text = buffer[..n];
        // Each line is "Name:<tab>value"; a field is found at the start of the file or after a newline.
        for (int at = 0; at < text.Length;)
        {
            var line = text[at..];
            int end = line.IndexOf((byte)'\n');
            if (end >= 0) line = line[..end];
            if (line.Length > name.Length && line.StartsWith(name) && line[name.Length] == (byte)':')
                return line[(name.Length + 1)..].Trim("\t "u8);
            if (end < 0) break;
            at += end + 1;
        }
        return default;
    }
}

namespace LegoEmu.Loader.Image;

/// <summary>Recognises "#!" interpreter scripts the way the kernel's binfmt_script does, from the file's first bytes only.</summary>
public static class Script
{
    /// <summary>
    /// True when <paramref name="head"/> (a file's first bytes) starts with "#!". Then either <paramref name="interpreter"/>
    /// and its single optional <paramref name="argument"/> are set, or <paramref name="errno"/> is ENOEXEC for a line
    /// the kernel refuses (no interpreter, or a name cut off by the 256-byte limit).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> head, out string interpreter, out string? argument, out int errno)
    {
        interpreter = "";
        argument = null;
        errno = 0;
        if (head.Length < 2 || head[0] != '#' || head[1] != '!') return false;
        // The kernel looks at a zero-padded buffer of BINPRM_BUF_SIZE bytes, the last of which it never uses.
        Span<byte> buf = stackalloc byte[ExecutableFile.HeadSize];
        head[..Math.Min(head.Length, buf.Length)].CopyTo(buf);
        int bufEnd = buf.Length - 1;
        int end = buf.IndexOf((byte)'\n');
        if (end < 0)
        {
            int first = NextNonSpaceTab(buf, 2, bufEnd);
            // The whole buffer is blanks, or the name runs to the limit and may be truncated.
            if (first < 0 || NextTerminator(buf, first, bufEnd) < 0) { errno = 8; return true; }
            end = bufEnd;
        }
        while (end > 2 && (buf[end - 1] == ' ' || buf[end - 1] == '\t')) end--;
        int name = NextNonSpaceTab(buf, 2, end);
        if (name < 0 || name == end) { errno = 8; return true; }
        int sep = NextTerminator(buf, name, end);
        int arg = sep >= 0 && buf[sep] != 0 ? NextNonSpaceTab(buf, sep, end) : -1;
        interpreter = CString(buf[name..(sep >= 0 ? sep : end)]);
        if (arg >= 0 && arg < end) argument = CString(buf[arg..end]);
        return true;
    }

    static int NextNonSpaceTab(ReadOnlySpan<byte> b, int from, int end)
    {
        for (int i = from; i < end; i++) if (b[i] != ' ' && b[i] != '\t') return i;
        return -1;
    }

    static int NextTerminator(ReadOnlySpan<byte> b, int from, int end)
    {
        for (int i = from; i < end; i++) if (b[i] is (byte)' ' or (byte)'\t' or 0) return i;
        return -1;
    }

    /// <summary>The kernel passes these as C strings: an embedded NUL ends them.</summary>
    static string CString(ReadOnlySpan<byte> s)
    {
        int nul = s.IndexOf((byte)0);
        return GuestText.Decode(nul < 0 ? s : s[..nul]);
    }
}

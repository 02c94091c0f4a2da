using LegoEmu.Syscalls.Abi;

namespace LegoEmu.Cluster.Cli;

/// <summary>
/// The emulator's own diagnostics (--stats, --strace, fatal-signal reports) go to a private duplicate
/// of the standard error it was started with. Guest descriptors 0-2 are the host's, so a guest that
/// closes its stderr (sort, cat and most coreutils do at exit) would otherwise take the report with
/// it, and .NET's console would throw when it found the descriptor gone.
/// </summary>
public static class EmulatorStderr
{
    const int F_DUPFD_CLOEXEC = 1030;
    static TextWriter? _writer;
    static int _descriptor = 2;

    public static TextWriter Writer => _writer ??= Open();

    /// <summary>The private duplicate behind <see cref="Writer"/> (2 when there was no stderr to duplicate).</summary>
    public static int Descriptor
    {
        get
        {
            _ = Writer;
            return _descriptor;
        }
    }

    /// <summary>
    /// The guest of a component that outlives it is done: the duplicate goes (it may be a pipe whose reader waits
    /// for its end), descriptors 0 to 2 become /dev/null, and the next <see cref="Writer"/> duplicates the stderr
    /// the next hand-over brings.
    /// </summary>
    public static void Release()
    {
        if (_writer != null && _descriptor != 2) LegoEmu.Syscalls.Host.Native.Sys(Nr.close, _descriptor);
        _writer = null;
        _descriptor = 2;
        LegoEmu.Syscalls.Runtime.ComponentHostState.NullStandardDescriptors();
    }

    static TextWriter Open()
    {
        long fd = LegoEmu.Syscalls.Host.Native.Sys(Nr.fcntl, 2, F_DUPFD_CLOEXEC, 10);
        if (fd < 0) return Console.Error; // no stderr at all: nothing better to write to
        _descriptor = (int)fd;
        // write(2) at the shared offset, so `2> file` keeps the guest's text and the report, in order. The writer
        // behind it is made at the first report: most runs write none, and a StreamWriter's first use costs a start 2 ms.
        int descriptor = (int)fd;
        return TextWriter.Synchronized(new FailSafeWriter(() => new StreamWriter(new DescriptorStream(descriptor)) { AutoFlush = true }));
    }

    /// <summary>A writer whose failures (a closed pipe, a full disk) are dropped: a report must never crash the emulator.</summary>
    sealed class FailSafeWriter(Func<TextWriter> open) : TextWriter
    {
        TextWriter? _inner;
        TextWriter Inner
        {
            get
            {
                if (_inner != null) return _inner;
                var made = open();
                return Interlocked.CompareExchange(ref _inner, made, null) ?? made;
            }
        }

        public override System.Text.Encoding Encoding => Inner.Encoding;

        public override void Write(char value)
        {
            try { Inner.Write(value); } catch (IOException) { } catch (ObjectDisposedException) { }
        }

        public override void Write(string? value)
        {
            try { Inner.Write(value); } catch (IOException) { } catch (ObjectDisposedException) { }
        }

        public override void WriteLine(string? value)
        {
            try { Inner.WriteLine(value); } catch (IOException) { } catch (ObjectDisposedException) { }
        }

        public override void Flush()
        {
            try { Inner.Flush(); } catch (IOException) { } catch (ObjectDisposedException) { }
        }
    }
}

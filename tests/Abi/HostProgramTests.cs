using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Abi;

/// <summary>
/// Unmodified dynamically linked host programs (through the host's ld.so and shared libraries) give
/// the same stdout and exit status under LegoEmu as natively.
/// </summary>
public sealed class HostProgramTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-host-").FullName;

    public HostProgramTests()
    {
        var rng = new Random(7);
        using (var w = new StreamWriter(Path.Combine(_dir, "words.txt")))
            for (int i = 0; i < 40000; i++) w.WriteLine($"word{rng.Next(500)} {rng.Next(100000)}");
        File.WriteAllText(Path.Combine(_dir, "a.txt"), "alpha\n");
        File.WriteAllText(Path.Combine(_dir, "q.sql"),
            "create table t(id integer primary key, name text, v real);\n" +
            "with recursive c(x) as (select 1 union all select x+1 from c where x < 3000) insert into t select x, 'n' || (x*7 % 101), x * 1.5 from c;\n" +
            "create index ti on t(name);\n" +
            "select name, count(*), sum(v) from t group by name order by count(*) desc, name limit 5;\n" +
            "select count(*) from t where name = 'n42';\n");
        // make starts each recipe line with posix_spawn, whose child resets its ids (setresuid) before the exec.
        File.WriteAllText(Path.Combine(_dir, "Makefile"), "all: one two\none two:\n\t@echo made $@\n\t@/bin/true $@\n");
        // multiprocessing: a Queue (a pipe and semaphores in shared memory), a Pool, shared Value/Array under
        // their process-shared locks, and shared_memory opened again by name in the child.
        File.WriteAllText(Path.Combine(_dir, "mp.py"), """
            import multiprocessing as mp
            from multiprocessing import shared_memory
            def produce(q, n):
                for i in range(n): q.put(i * i)
                q.put(None)
            def square(x): return x * x
            def bump(v, a):
                for _ in range(300):
                    with v.get_lock(): v.value += 1
                a[1] = 2.5
            def poke(name):
                s = shared_memory.SharedMemory(name=name); s.buf[1] = s.buf[0] + 1; s.close()
            if __name__ == "__main__":
                q = mp.Queue()
                p = mp.Process(target=produce, args=(q, 200)); p.start()
                total = 0
                while (v := q.get()) is not None: total += v
                p.join()
                print("queue", total, p.exitcode)
                with mp.Pool(2) as pool: print("pool", sum(pool.map(square, range(100))))
                v = mp.Value('i', 0); a = mp.Array('d', 3)
                ps = [mp.Process(target=bump, args=(v, a)) for _ in range(2)]
                for x in ps: x.start()
                for x in ps: x.join()
                print("value", v.value, list(a))
                shm = shared_memory.SharedMemory(create=True, size=16); shm.buf[0] = 7
                x = mp.Process(target=poke, args=(shm.name,)); x.start(); x.join()
                print("shared_memory", shm.buf[0], shm.buf[1]); shm.close(); shm.unlink()
            """);
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        var fixedTime = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        foreach (var f in Directory.EnumerateFileSystemEntries(_dir)) File.SetLastWriteTimeUtc(f, fixedTime);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string[]> Programs() => new()
    {
        { "/bin/ls", ["-lA", "--time-style=long-iso", "{dir}"] },
        { "/usr/bin/sort", ["-k2,2n", "{dir}/words.txt"] },
        { "/usr/bin/md5sum", ["{dir}/words.txt"] },
        { "/usr/bin/sha256sum", ["{dir}/words.txt"] },
        { "/usr/bin/wc", ["-lwc", "{dir}/words.txt"] },
        { "/bin/cat", ["{dir}/a.txt", "/proc/self/cmdline"] },
        { "/usr/bin/python3", ["-c", "import json,hashlib,re,sys; print(json.dumps({'a':[1,2,{'b':None}]}, sort_keys=True), hashlib.sha256(b'legoemu').hexdigest(), re.findall(r'o+', 'foo boo zoooo'), sys.argv)"] },
        { "/usr/bin/python3", ["-c", "import math,struct; print([math.sin(x/7) for x in range(5)], struct.pack('<dq', 1.5, -2).hex(), sorted(range(20), key=lambda v: (v*7)%11))"] },
        { "/usr/bin/find", ["{dir}", "-name", "*.txt"] },
        { "/usr/bin/expr", ["12345", "*", "6789"] },
        { "/bin/false", [] },
        { "/bin/busybox", ["sh", "-c", "for w in b a c; do echo $w; done | busybox sort | busybox tr a-z A-Z; busybox md5sum {dir}/words.txt; busybox wc -l {dir}/words.txt; busybox expr 6 '*' 7; busybox ls {dir}"] },
        { "/bin/busybox", ["awk", "{ s[$1] += $2 } END { n = 0; for (k in s) n++; print n }", "{dir}/words.txt"] },
        { "/usr/bin/python3", ["-c", "import select, os; r, w = os.pipe(); os.write(w, b'hi'); print(select.select([r], [w], [], 1), os.read(r, 2))"] },
        { "/bin/sh", ["-c", "for i in 3 1 2; do echo \"line $i\"; done | tr 1 X | sort -r; echo status=$?; ls {dir} | wc -l"] },
        { "/bin/sh", ["-c", "gzip -c {dir}/words.txt | gunzip -c | md5sum; cut -d' ' -f1 {dir}/words.txt | sort | uniq -c | sort -rn | head -3"] },
        { "/bin/sh", ["-c", "find {dir} -name '*.txt' | xargs wc -l | sort; exit 4"] },
        { "/bin/sh", ["-c", "rm -f {dir}/t.db; sqlite3 {dir}/t.db < {dir}/q.sql"] },
        { "/usr/bin/make", ["-s", "--no-print-directory", "-C", "{dir}"] },
        { "/usr/bin/python3", ["-c", "import subprocess; print(subprocess.run(['/bin/echo', 'from', 'python'], capture_output=True, text=True).stdout.strip())"] },
        { "/usr/bin/python3", ["{dir}/mp.py"] },
    };

    /// <summary>
    /// openssl's "-hmac KEY" after options of legoemu's own: the option parser once split "-hmac" into "-h" "mac"
    /// (POSIX bundling), and openssl printed its help and exited 0 instead of the digest.
    /// </summary>
    [Fact]
    public async Task OpensslHmacAfterRunOptionsMatchesNative()
    {
        const string openssl = "/usr/bin/openssl";
        Assert.True(File.Exists(openssl), $"{openssl} is not installed on this machine");
        string[] args = ["dgst", "-sha384", "-hmac", "KEY", Path.Combine(_dir, "a.txt")];
        var native = await ProcessRunner.RunAsync(openssl, args, TimeSpan.FromSeconds(60));
        Assert.True(native.ExitCode == 0 && native.StdoutText.StartsWith("HMAC-", StringComparison.Ordinal), $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync(["run", "--tier", "interp", openssl, .. args]);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
    }

    /// <summary>Memory shared across processes also when it lives in memory-node processes.</summary>
    [Fact]
    public async Task MultiprocessingOverMemoryNodesMatchesNative()
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), $"{python} is not installed on this machine");
        string script = Path.Combine(_dir, "mp.py");
        var native = await ProcessRunner.RunAsync(python, [script], TimeSpan.FromSeconds(60));
        Assert.True(native.ExitCode == 0 && native.Stdout.Length > 0, $"the native run failed: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync(["run", "--memory-nodes", "2", python, script]);
        Assert.True(emulated.ExitCode == 0, $"exit status {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.Equal(native.StdoutText, emulated.StdoutText);
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public async Task MatchesNative(string program, string[] arguments)
    {
        Assert.True(File.Exists(program), $"{program} is not installed on this machine");
        var args = arguments.Select(a => a.Replace("{dir}", _dir)).ToArray();
        var native = await ProcessRunner.RunAsync(program, args, TimeSpan.FromSeconds(60));
        // A case that prints nothing natively (a quoting slip, a missing tool) would compare trivially.
        Assert.True(program == "/bin/false" || native.Stdout.Length > 0, $"the native run printed nothing: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync(new[] { "run", program }.Concat(args));
        Assert.True(native.ExitCode == emulated.ExitCode, $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.True(native.StdoutText == emulated.StdoutText,
            $"stdout differs\n--- native ---\n{Head(native.StdoutText)}\n--- emulated ---\n{Head(emulated.StdoutText)}\n--- emulator stderr ---\n{emulated.StderrTail()}");
    }

    /// <summary>
    /// At --cpu v3 glibc sees AVX2, BMI2 and XSAVEC: it picks its AVX2 string routines, and the dynamic loader
    /// saves the vector registers with XSAVEC around lazy binding. Forked children keep the CPU model.
    /// </summary>
    public static TheoryData<string, string[]> ProgramsAtV3()
    {
        var data = new TheoryData<string, string[]>();
        foreach (var row in Programs())
        {
            var (program, args) = ((string)row[0], (string[])row[1]);
            if (program is "/usr/bin/python3" or "/bin/sh" or "/usr/bin/sort" or "/bin/ls" or "/usr/bin/md5sum") data.Add(program, args);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ProgramsAtV3))]
    public async Task MatchesNativeAtV3(string program, string[] arguments)
    {
        Assert.True(File.Exists(program), $"{program} is not installed on this machine");
        var args = arguments.Select(a => a.Replace("{dir}", _dir)).ToArray();
        var native = await ProcessRunner.RunAsync(program, args, TimeSpan.FromSeconds(60));
        Assert.True(native.Stdout.Length > 0, $"the native run printed nothing: {native.StderrTail()}");
        var emulated = await EmulatorRunner.RunAsync(new[] { "run", "--cpu", "v3", program }.Concat(args));
        Assert.True(native.ExitCode == emulated.ExitCode, $"exit status: native {native.ExitCode}, emulated {emulated.ExitCode}\n{emulated.StderrTail()}");
        Assert.True(native.StdoutText == emulated.StdoutText,
            $"stdout differs\n--- native ---\n{Head(native.StdoutText)}\n--- emulated ---\n{Head(emulated.StdoutText)}\n--- emulator stderr ---\n{emulated.StderrTail()}");
    }

    static string Head(string s) => s.Length > 2000 ? s[..2000] + "…" : s;
}

using System.Buffers.Binary;
using LegoEmu.Loader.Elf;
using LegoEmu.Loader.Image;
using LegoEmu.Mem;
using LegoEmu.Mem.Cache;
using LegoEmu.Mem.Component;
using LegoEmu.Mem.Space;
using LegoEmu.Tests.Differential;
using Xunit;

namespace LegoEmu.Tests.Fuzz;

/// <summary>
/// Mutated programs (ELF headers, program headers, PT_INTERP, "#!" lines) go through the loader exactly as
/// execve's do: each is refused with execve's errno or ENOEXEC and a one-line reason, or loaded into an address
/// space; no other exception, no hang. Mutants are loaded, never run: their code is the seed's, but a bent entry
/// point would run it from anywhere, with the host's system calls. A sample of the refused ones also goes through
/// <c>legoemu run</c>, which must end at once with one line and a shell's status.
/// </summary>
[Collection(GuestCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ElfFuzzTests(GuestBuilds builds) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("legoemu-elffuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly LoaderEnvironment Env = new(0, 0, 2048, 0, 0, 0, 0);

    /// <summary>Where an ELF file's parser looks: the file header, the program headers and the PT_INTERP string.</summary>
    static List<(int, int)> HotRanges(byte[] elf)
    {
        var hot = new List<(int, int)> { (0, 64) };
        int phoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(32));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(56));
        hot.Add((phoff, phnum * 56));
        for (int i = 0; i < phnum; i++)
        {
            int o = phoff + i * 56;
            if (BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan(o)) == ElfConst.PT_INTERP)
                hot.Add(((int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(o + 8)), (int)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(o + 32))));
        }
        return hot;
    }

    void Write(string path, byte[] data)
    {
        File.WriteAllBytes(path, data);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>True when loaded, false when refused the way execve refuses; anything else fails the test.</summary>
    static bool LoadOrRefuse(string path, string what)
    {
        try
        {
            var program = ProgramFiles.Resolve(path, [path]);
            var component = new InProcessMemoryComponent(256L << 20);
            using var cache = new ExCache(new CacheConfig(64 << 10, 4, 4096, ReplacementPolicy.Fifo), component);
            var space = new GuestAddressSpace(component, cache);
            ImageLoader.Load(program.Elf, space, program.Argv, ["A=B"], path, Env, program.Interpreter);
            return true;
        }
        catch (ExecFileException e)
        {
            Assert.True(e.Errno is Errno.EACCES or Errno.ENOENT or Errno.ENOTDIR or Errno.ELOOP or Errno.ENAMETOOLONG or 8 or Errno.EIO, $"{what}: errno {e.Errno}");
            Assert.DoesNotContain('\n', e.Message);
            return false;
        }
        catch (ElfFormatException e)
        {
            Assert.DoesNotContain('\n', e.Message);
            return false;
        }
        catch (MemoryFault)
        {
            return false; // the image does not fit the node's capacity: a guest SIGSEGV/ENOMEM, not an emulator failure
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            return false;
        }
    }

    [Fact]
    public async Task MutatedProgramsAreLoadedOrRefusedInOneLine()
    {
        var seeds = new List<(string Name, byte[] Data)>
        {
            ("static", File.ReadAllBytes(builds.Binary("hello"))),
            ("pie", File.ReadAllBytes(builds.Binary("hello_pie"))),
            ("dynamic", File.ReadAllBytes("/bin/true")),
        };
        string target = Path.Combine(_dir, "target");
        Write(target, seeds[0].Data);
        var scripts = new[] { $"#!{target}\n", $"#! {target} -x y\n", $"#!{target}\targ\n", "#!/bin/true\n" };
        int cases = FuzzSettings.Cases(2500), loaded = 0;
        var refusedSamples = new List<string>();
        string path = Path.Combine(_dir, "mutant");
        for (int i = 0; i < cases; i++)
        {
            var rng = FuzzSettings.For(i);
            string what = $"ELF case {i} (LEGOEMU_FUZZ_SEED={FuzzSettings.Seed})";
            byte[] mutant;
            if (i % 5 == 4)
            {
                var line = System.Text.Encoding.UTF8.GetBytes(scripts[rng.Next(scripts.Length)]);
                mutant = Mutator.Mutate(line, rng);
            }
            else
            {
                var (_, data) = seeds[rng.Next(seeds.Count)];
                mutant = Mutator.Mutate(data, rng, HotRanges(data));
            }
            Write(path, mutant);
            if (LoadOrRefuse(path, what)) loaded++;
            else if (refusedSamples.Count < 24 && rng.Next(8) == 0)
            {
                string keep = Path.Combine(_dir, $"refused{i}");
                File.Copy(path, keep);
                refusedSamples.Add(keep);
            }
        }
        // The mutations must reach both outcomes, or they test nothing.
        Assert.InRange(loaded, 1, cases - 1);

        foreach (string sample in refusedSamples)
        {
            var r = await EmulatorRunner.RunAsync("run", sample);
            Assert.True(r.ExitCode is 126 or 127, $"{sample}: status {r.ExitCode}: {r.StderrText}");
            var lines = r.StderrText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1 && lines[0].StartsWith("legoemu: ") && !lines[0].Contains("internal error"), $"{sample}: {r.StderrText}");
        }
    }
}

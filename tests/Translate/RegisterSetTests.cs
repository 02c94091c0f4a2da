using System.Reflection;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using Xunit;

namespace LegoEmu.Tests.Translate;

/// <summary>
/// The registers an instruction run by its handler reads and writes (the translator's RegisterSet) are worked out on
/// the compiler's threads: two of them during a first burst of hot regions, and the guest's with every block translated.
/// A set computed wrong leaves a register the handler changed stale in the region (PUSHF's RSP: every later access of
/// the loop 8 bytes off, as wide_multiply once crashed in CI), so the answer must not depend on who else asks at the time.
/// </summary>
public sealed class RegisterSetTests
{
    static readonly MethodInfo Of = typeof(Insn).Assembly.GetType("LegoEmu.Cpu.Translate.RegisterSet", throwOnError: true)!
        .GetMethod("Of", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!;

    /// <summary>Instructions translated code runs through handlers, with different registers each.</summary>
    static Insn[] Sample()
    {
        var a = new Assembler(64);
        a.pushfq();
        a.popfq();
        a.cmpxchg16b(__[Iced.Intel.AssemblerRegisters.rsi + 8]);
        a.rep.movsb();
        a.div(Iced.Intel.AssemblerRegisters.rcx);
        a.cpuid();
        a.xlatb();
        a.bt(__[Iced.Intel.AssemblerRegisters.r12 + Iced.Intel.AssemblerRegisters.r13 * 4], Iced.Intel.AssemblerRegisters.r14);
        a.fxsave(__[Iced.Intel.AssemblerRegisters.r9]);
        a.cmpxchg(__[Iced.Intel.AssemblerRegisters.rdi], Iced.Intel.AssemblerRegisters.rbx);
        a.lahf();
        a.cqo();
        var stream = new System.IO.MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), 0x401000);
        var decoder = Decoder.Create(64, stream.ToArray(), 0x401000);
        var insns = new List<Insn>();
        while (decoder.IP < 0x401000 + (ulong)stream.Length)
        {
            decoder.Decode(out var ins);
            insns.Add(new Insn { I = ins });
        }
        return insns.ToArray();
    }

    static readonly Iced.Intel.AssemblerMemoryOperandFactory __ = Iced.Intel.AssemblerRegisters.__;

    [Fact]
    public void SameAnswerWhenThreadsAskAtOnce()
    {
        var insns = Sample();
        var expected = insns.Select(i => Of.Invoke(null, [i])!).ToArray();
        // PUSHF reads and moves RSP (GPR 4): the handler must see the region's RSP, and the region the handler's.
        Assert.Equal("RegisterSet { Read = 16, Written = 16, Flags = True }", expected[0].ToString());
        int wrong = 0;
        string? first = null;
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var args = new object[1];
            for (int n = 0; n < 60_000; n++)
            {
                int k = (n + t * 5) % insns.Length;
                args[0] = insns[k];
                var got = Of.Invoke(null, args)!;
                if (!got.Equals(expected[k]))
                {
                    Interlocked.Increment(ref wrong);
                    Interlocked.CompareExchange(ref first, $"{insns[k].I}: {got} instead of {expected[k]}", null);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.True(wrong == 0, $"{wrong} of 240000 answers wrong; the first: {first}");
    }
}

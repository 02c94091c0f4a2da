using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using static LegoEmu.Tests.Conformance.StateLayout;

namespace LegoEmu.Tests.Conformance;

/// <summary>
/// Assembles one test executable: a driver that, for each case, loads the whole input state (YMM registers
/// too, so the host and LegoEmu run it with <c>--cpu v3</c>: AVX2), jumps
/// to the case's instructions, stores the whole resulting state and writes it to stdout. Each record
/// is written as soon as its case finishes, so a crash names the case that caused it.
/// </summary>
public static class TestProgram
{
    static readonly AssemblerRegister64[] Gpr64 = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    static readonly AssemblerRegisterXMM[] Xmms =
        [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
    static readonly AssemblerRegisterYMM[] Ymms =
        [ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14, ymm15];

    /// <summary>The ELF image running <paramref name="cases"/> in order; <paramref name="native"/> picks each case's host-side instructions.</summary>
    public static byte[] Build(IReadOnlyList<TestCase> cases, bool native)
    {
        var a = new Assembler(64);
        var next = a.CreateLabel();
        var store = a.CreateLabel();
        var finish = a.CreateLabel();
        var writeFailed = a.CreateLabel();
        var x87Loop = a.CreateLabel();
        var x87Done = a.CreateLabel();

        a.mov(rsp, (long)PrivateStackTop);
        a.mov(__qword_ptr[(long)CurrentInput], (int)Inputs);
        a.mov(__qword_ptr[(long)Remaining], cases.Count);

        // ---- load the case's input state; flags and GPRs last, since nothing after them may disturb them ----
        a.Label(ref next);
        a.cmp(__qword_ptr[(long)Remaining], 0);
        a.je(finish);
        a.mov(rsi, __qword_ptr[(long)CurrentInput]);
        a.mov(edi, (uint)MemArea);
        for (int k = 0; k < MemSize / 8; k++)
        {
            a.mov(rax, __qword_ptr[rsi + (MemField + 8 * k)]);
            a.mov(__qword_ptr[rdi + 8 * k], rax);
        }
        for (int x = 0; x < 16; x++)
        {
            a.movdqu(Xmms[x], __xmmword_ptr[rsi + (Xmm + 16 * x)]);
            a.vinserti128(Ymms[x], Ymms[x], __xmmword_ptr[rsi + (YmmHigh + 16 * x)], 1);
        }
        a.ldmxcsr(__dword_ptr[rsi + Mxcsr]);
        a.fninit();
        a.fldcw(__word_ptr[rsi + Fcw]);
        // Push ST(depth-1) first so that the record's ST(0) ends on top.
        a.movzx(ecx, __word_ptr[rsi + Depth]);
        a.mov(eax, ecx);
        a.shl(eax, 4);
        a.lea(rdi, __[rsi + rax + St]);
        a.Label(ref x87Loop);
        a.test(ecx, ecx);
        a.jz(x87Done);
        a.sub(rdi, 16);
        a.fld(__tword_ptr[rdi]);
        a.dec(ecx);
        a.jmp(x87Loop);
        a.Label(ref x87Done);
        a.mov(rax, __qword_ptr[rsi + Stub]);
        a.mov(__qword_ptr[(long)StubPointer], rax);
        a.push(__qword_ptr[rsi + Rflags]);
        a.popfq();
        a.mov(rsp, __qword_ptr[rsi + (Gpr + 8 * Rsp)]);
        for (int r = 0; r < 16; r++)
        {
            if (r != Rsp && r != 6)
                a.mov(Gpr64[r], __qword_ptr[rsi + (Gpr + 8 * r)]);
        }
        a.mov(rsi, __qword_ptr[rsi + (Gpr + 8 * 6)]);
        a.jmp(__qword_ptr[(long)StubPointer]);

        // ---- store: GPRs before anything else, then flags on the private stack (RSP may point into the memory area) ----
        a.Label(ref store);
        for (int r = 0; r < 16; r++)
            a.mov(__qword_ptr[(long)(SaveGpr + (ulong)(8 * r))], Gpr64[r]);
        a.mov(rsp, (long)PrivateStackTop);
        a.pushfq();
        a.pop(rax);
        a.mov(__qword_ptr[(long)SaveFlags], rax);
        a.cld(); // a POPF under test may have set DF
        a.mov(edi, (uint)OutputRecord);
        for (int k = 0; k <= 16; k++) // 16 GPRs, then RFLAGS, which directly follows them in both places
        {
            a.mov(rax, __qword_ptr[(long)(SaveGpr + (ulong)(8 * k))]);
            a.mov(__qword_ptr[rdi + (Gpr + 8 * k)], rax);
        }
        for (int x = 0; x < 16; x++)
        {
            a.movdqu(__xmmword_ptr[rdi + (Xmm + 16 * x)], Xmms[x]);
            a.vextracti128(__xmmword_ptr[rdi + (YmmHigh + 16 * x)], Ymms[x], 1);
        }
        a.stmxcsr(__dword_ptr[rdi + Mxcsr]);
        a.fnstsw(__word_ptr[rdi + Fsw]);
        a.fnstcw(__word_ptr[rdi + Fcw]);
        // Empty registers store the indefinite NaN (invalid is masked), which is what a reader expects of them.
        for (int k = 0; k < 8; k++)
            a.fstp(__tword_ptr[rdi + (St + 16 * k)]);
        a.mov(esi, (uint)MemArea);
        for (int k = 0; k < MemSize / 8; k++)
        {
            a.mov(rax, __qword_ptr[rsi + 8 * k]);
            a.mov(__qword_ptr[rdi + (MemField + 8 * k)], rax);
        }
        a.mov(eax, 1); // write(1, record, size): well under PIPE_BUF, so never partial
        a.mov(edi, 1);
        a.mov(esi, (uint)OutputRecord);
        a.mov(edx, RecordSize);
        a.syscall();
        a.cmp(rax, RecordSize);
        a.jne(writeFailed);
        a.add(__qword_ptr[(long)CurrentInput], RecordSize);
        a.dec(__qword_ptr[(long)Remaining]);
        a.jmp(next);

        a.Label(ref writeFailed);
        a.mov(eax, 231);
        a.mov(edi, 3);
        a.syscall();
        a.Label(ref finish);
        a.mov(eax, 231); // exit_group(0)
        a.xor(edi, edi);
        a.syscall();

        // ---- one stub per case: its instructions, then back to the store code ----
        var stubs = new Label[cases.Count];
        for (int c = 0; c < cases.Count; c++)
        {
            stubs[c] = a.CreateLabel();
            a.Label(ref stubs[c]);
            foreach (var ins in native ? cases[c].NativeInstructions : cases[c].Instructions)
                a.AddInstruction(ins);
            a.jmp(store);
        }

        var code = new MemoryStream();
        var result = a.Assemble(new StreamCodeWriter(code), CodeBase, BlockEncoderOptions.ReturnNewInstructionOffsets);
        if ((ulong)code.Length > MaxCodeSize)
            throw new InvalidOperationException($"generated code is {code.Length} bytes, more than fits below the data segment");

        var data = new byte[(int)(Inputs - DataBase) + cases.Count * RecordSize];
        for (int c = 0; c < cases.Count; c++)
        {
            var record = data.AsSpan((int)(Inputs - DataBase) + c * RecordSize, RecordSize);
            cases[c].Input.CopyTo(record);
            SetStub(record, result.GetLabelRIP(stubs[c]));
        }
        return ElfWriter.Build(CodeBase, code.ToArray(), DataBase, data, (ulong)data.Length);
    }
}

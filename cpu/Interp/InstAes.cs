using System.Runtime.Intrinsics;
using Iced.Intel;
using LegoEmu.Cpu.Decode;
using LegoEmu.Cpu.State;
using static LegoEmu.Cpu.Interp.Operands;
using HostAes = System.Runtime.Intrinsics.X86.Aes;

namespace LegoEmu.Cpu.Interp;

/// <summary>
/// AES-NI: AESENC, AESENCLAST, AESDEC, AESDECLAST, AESIMC and AESKEYGENASSIST, legacy and VEX.128 (whose
/// state is the first source and whose write zeroes the YMM upper half). The host's own instructions when it
/// has them, <see cref="AesRounds"/> otherwise. The 256-bit VAES forms are not advertised and raise #UD.
/// </summary>
static unsafe class InstAes
{
    internal static void Register()
    {
        HandlerTable.Set(Mnemonic.Aesenc, &Legacy);
        HandlerTable.Set(Mnemonic.Aesenclast, &Legacy);
        HandlerTable.Set(Mnemonic.Aesdec, &Legacy);
        HandlerTable.Set(Mnemonic.Aesdeclast, &Legacy);
        HandlerTable.Set(Mnemonic.Aesimc, &Legacy);
        HandlerTable.Set(Mnemonic.Aeskeygenassist, &Legacy);
        // Per code, so the VEX.256 (VAES) codes of the same mnemonics stay without a handler.
        HandlerTable.SetCode(Code.VEX_Vaesenc_xmm_xmm_xmmm128, &Vex);
        HandlerTable.SetCode(Code.VEX_Vaesenclast_xmm_xmm_xmmm128, &Vex);
        HandlerTable.SetCode(Code.VEX_Vaesdec_xmm_xmm_xmmm128, &Vex);
        HandlerTable.SetCode(Code.VEX_Vaesdeclast_xmm_xmm_xmmm128, &Vex);
        HandlerTable.SetCode(Code.VEX_Vaesimc_xmm_xmmm128, &Vex);
        HandlerTable.SetCode(Code.VEX_Vaeskeygenassist_xmm_xmmm128_imm8, &Vex);
    }

    /// <summary>Legacy SSE forms: the destination is also the state, and an m128 operand must be 16-byte aligned.</summary>
    static void Legacy(CpuState c, ref Insn i)
    {
        ref var d = ref Xmm(c, i.I.Op0Register);
        var s = ReadXAligned(c, ref i, 1);
        d = i.I.Mnemonic switch
        {
            Mnemonic.Aesimc => InverseMixColumns(s),
            Mnemonic.Aeskeygenassist => KeygenAssist(s, (byte)i.I.GetImmediate(2)),
            var m => Round(m, d, s),
        };
    }

    /// <summary>VEX.128 forms: no alignment rule, a separate state operand (vvvv), the upper half cleared.</summary>
    static void Vex(CpuState c, ref Insn i)
    {
        Vector128<byte> r = i.I.Code switch
        {
            Code.VEX_Vaesimc_xmm_xmmm128 => InverseMixColumns(ReadX(c, ref i, 1)),
            Code.VEX_Vaeskeygenassist_xmm_xmmm128_imm8 => KeygenAssist(ReadX(c, ref i, 1), (byte)i.I.GetImmediate(2)),
            _ => Round(i.I.Mnemonic, Xmm(c, i.I.Op1Register), ReadX(c, ref i, 2)),
        };
        int k = i.I.Op0Register - Iced.Intel.Register.XMM0;
        c.Xmm[k] = r;
        c.YmmHigh[k] = Vector128<byte>.Zero;
    }

    static Vector128<byte> Round(Mnemonic m, Vector128<byte> state, Vector128<byte> key)
    {
        if (HostAes.IsSupported)
        {
            return m switch
            {
                Mnemonic.Aesenc or Mnemonic.Vaesenc => HostAes.Encrypt(state, key),
                Mnemonic.Aesenclast or Mnemonic.Vaesenclast => HostAes.EncryptLast(state, key),
                Mnemonic.Aesdec or Mnemonic.Vaesdec => HostAes.Decrypt(state, key),
                _ => HostAes.DecryptLast(state, key),
            };
        }
        return m switch
        {
            Mnemonic.Aesenc or Mnemonic.Vaesenc => AesRounds.Encrypt(state, key),
            Mnemonic.Aesenclast or Mnemonic.Vaesenclast => AesRounds.EncryptLast(state, key),
            Mnemonic.Aesdec or Mnemonic.Vaesdec => AesRounds.Decrypt(state, key),
            _ => AesRounds.DecryptLast(state, key),
        };
    }

    static Vector128<byte> InverseMixColumns(Vector128<byte> s) =>
        HostAes.IsSupported ? HostAes.InverseMixColumns(s) : AesRounds.InverseMixColumns(s);

    /// <summary>
    /// The round constant is only XORed into dwords 1 and 3, so the host instruction runs with a constant 0 and
    /// the guest's constant is applied after (an immediate the JIT does not know would cost a 256-way jump table).
    /// </summary>
    static Vector128<byte> KeygenAssist(Vector128<byte> s, byte rcon)
    {
        var r = HostAes.IsSupported ? HostAes.KeygenAssist(s, 0) : AesRounds.KeygenAssist(s, 0);
        return r ^ Vector128.Create(0u, rcon, 0u, rcon).AsByte();
    }
}

/* Flags of rotates, shifts, IMUL, INC and ALU operations that look dead but are not: LegoEmu skips an
 * instruction's flag work when a later instruction of its block overwrites every flag it writes before
 * anything reads them, so each case here reads them after all: after the block ends, through a later
 * instruction that keeps some (INC keeps CF, a rotate keeps SF ZF AF PF), through ADC, RCL, CMOVcc, and
 * through a fault between the producer and the instruction that overwrites its flags, where the signal
 * handler prints RFLAGS from its frame (SIGSEGV from a load and a store, SIGFPE from DIV, SIGILL from
 * UD2; dead_flags_fpe has the SSE division that traps). Only defined flags are printed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include "flag_values.h"

/* ---- flags read without a fault: after the block ends, or by a later instruction of the block ---- */

/* RFLAGS after BODY (operands %1 and %2), read past a JMP that ends the block. */
#define AFTER_JMP(name, body, mask)                                                                    \
    static uint64_t name(uint64_t a, uint64_t b)                                                       \
    {                                                                                                  \
        uint64_t f;                                                                                    \
        __asm__ volatile(body "\n\tjmp 1f\n1:\tpushfq\n\tpopq %0" : "=&r"(f), "+Q"(a), "+Q"(b) : : "cc"); \
        return ((f & (mask)) << 32) ^ a ^ (b << 7);                                                    \
    }
/* The flags of BODY read in the same block by PUSHF. */
#define PUSHF(name, body, mask)                                                                        \
    static uint64_t name(uint64_t a, uint64_t b)                                                       \
    {                                                                                                  \
        uint64_t f;                                                                                    \
        __asm__ volatile(body "\n\tpushfq\n\tpopq %0" : "=&r"(f), "+Q"(a), "+Q"(b) : : "cc");           \
        return ((f & (mask)) << 32) ^ a ^ (b << 7);                                                    \
    }
/* BODY reads flags itself and ends with an instruction that overwrites them all. */
#define INSIDE(name, body)                                                                             \
    static uint64_t name(uint64_t a, uint64_t b)                                                       \
    {                                                                                                  \
        uint64_t f = 0;                                                                                \
        __asm__ volatile(body : "+&r"(f), "+Q"(a), "+Q"(b) : : "cc");                                  \
        return f ^ a ^ (b << 7);                                                                       \
    }

AFTER_JMP(rol1_jmp, "add %2, %1\n\trol $1, %1", STATUS)
AFTER_JMP(ror1_32_jmp, "sub %k2, %k1\n\tror $1, %k1", STATUS)
AFTER_JMP(rol5_jmp, "add %2, %1\n\trol $5, %1", STATUS & ~OF)
AFTER_JMP(rol1_high_jmp, "add %b2, %b1\n\trol $1, %h1", STATUS)
AFTER_JMP(rol_then_inc, "add %2, %1\n\trol $1, %1\n\tinc %2", STATUS)
AFTER_JMP(rol_then_dec_lea, "add %2, %1\n\tror $3, %k1\n\tlea 5(%1,%2), %1\n\tdec %k2", STATUS)
AFTER_JMP(shl_then_rol, "shl $3, %1\n\trol $1, %2", STATUS & ~AF)
AFTER_JMP(sar_then_ror, "sar $2, %k1\n\tror $1, %2", STATUS & ~AF)
AFTER_JMP(imul_then_inc, "imul %2, %1\n\tinc %2", STATUS)
AFTER_JMP(imul3_then_dec, "imul $1000003, %k1, %k1\n\tdec %k2", STATUS)
AFTER_JMP(ror_add_rol, "ror $1, %1\n\tadd %2, %1\n\trol $1, %1", STATUS)
AFTER_JMP(and_inc, "and %2, %1\n\tinc %1", STATUS)
/* A hash round's shape: rotates between logic operations, the scratch register is the output's. */
AFTER_JMP(rounds, "mov %1, %0\n\tror $6, %k1\n\txor %k1, %k0\n\tror $5, %k1\n\txor %k0, %k1\n\tror $14, %k1\n\t"
                  "and %k2, %k0\n\tadd %k0, %k1\n\trol $1, %k1\n\tadd $0x5be0cd19, %k2\n\trol $1, %k2", STATUS)
PUSHF(rol1_pushf, "add %2, %1\n\trol $1, %1", STATUS)
PUSHF(shl_pushf, "xor %2, %1\n\tshl $1, %1\n\tlea 1(%2), %2", STATUS & ~AF)
INSIDE(rol_adc, "add %2, %1\n\trol $1, %1\n\tadc $0, %0\n\txor %2, %1")
INSIDE(rol_rcl, "sub %2, %1\n\tror $1, %k1\n\trcl $1, %0\n\txor %2, %2")
INSIDE(rol_cmovc, "add %2, %1\n\trol $1, %1\n\tcmovc %2, %0\n\tadd %2, %2")
INSIDE(rol_seto, "add %2, %1\n\trol $1, %1\n\tseto %b0\n\tsub %2, %1")
INSIDE(rol_keeps_zf, "add %2, %1\n\trol $7, %2\n\tsetz %b0\n\tadd %1, %1")
INSIDE(inc_keeps_cf, "add %2, %1\n\tinc %1\n\tadc %2, %0\n\tand %1, %1")
INSIDE(shl_setc, "shl $5, %k1\n\tsetc %b0\n\tinc %0\n\tor %2, %1")

typedef uint64_t (*reader)(uint64_t, uint64_t);
static const struct { const char *name; reader f; } readers[] = {
    {"rol1_jmp", rol1_jmp}, {"ror1_32_jmp", ror1_32_jmp}, {"rol5_jmp", rol5_jmp}, {"rol1_high_jmp", rol1_high_jmp},
    {"rol_then_inc", rol_then_inc}, {"rol_then_dec_lea", rol_then_dec_lea}, {"shl_then_rol", shl_then_rol},
    {"sar_then_ror", sar_then_ror}, {"imul_then_inc", imul_then_inc}, {"imul3_then_dec", imul3_then_dec},
    {"ror_add_rol", ror_add_rol}, {"and_inc", and_inc}, {"rounds", rounds}, {"rol1_pushf", rol1_pushf},
    {"shl_pushf", shl_pushf}, {"rol_adc", rol_adc}, {"rol_rcl", rol_rcl}, {"rol_cmovc", rol_cmovc},
    {"rol_seto", rol_seto}, {"rol_keeps_zf", rol_keeps_zf}, {"inc_keeps_cf", inc_keeps_cf}, {"shl_setc", shl_setc},
};

/* ---- flags seen by a signal handler: a fault between the producer and the instruction that overwrites them ---- */

static sigjmp_buf env;
static volatile uint64_t frame_flags;
static volatile int frame_sig;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    frame_sig = sig;
    frame_flags = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_EFL];
    siglongjmp(env, 1);
}

/* BODY (operands %0 and %1; %2 is a null pointer, %3 is zero) must fault; XOR after it would overwrite every flag. */
#define FAULTING(name, body, mask)                                                                     \
    static void name(uint64_t a, uint64_t b, int k)                                                    \
    {                                                                                                  \
        if (sigsetjmp(env, 1) == 0)                                                                    \
        {                                                                                              \
            uint64_t *p = 0, z = 0;                                                                    \
            __asm__ volatile(body "\n\txor %0, %0\n\txor %1, %1" : "+r"(a), "+r"(b) : "r"(p), "r"(z) : "cc", "memory", "rax", "rdx"); \
            printf("%s %d: no fault\n", #name, k);                                                     \
        }                                                                                              \
        else                                                                                           \
            printf("%s %d: signal %d flags %03llx\n", #name, k, frame_sig, (unsigned long long)(frame_flags & (mask))); \
    }

FAULTING(rol_load, "add %1, %0\n\trol $1, %0\n\tmov (%2), %k1", STATUS)
FAULTING(ror_store, "sub %1, %0\n\tror $1, %k0\n\tmov %k0, 8(%2)", STATUS)
FAULTING(rol_lea_load, "add %1, %0\n\trol $1, %0\n\tlea 3(%0,%1), %1\n\tmov (%2), %0", STATUS)
FAULTING(shl_load, "add %1, %0\n\tshl $3, %0\n\tmov (%2), %1", STATUS & ~AF & ~OF)
FAULTING(imul_load, "imul %1, %0\n\tmov (%2), %1", CF | OF)
FAULTING(inc_store, "sub %1, %0\n\tinc %0\n\tmov %0, (%2)", STATUS)
FAULTING(add_imm_load, "add $77, %0\n\tmov (%2), %1", STATUS)
FAULTING(rol_div, "add %1, %0\n\trol $1, %0\n\tmov %0, %%rax\n\tmov %3, %%rdx\n\tdiv %3", STATUS)
FAULTING(rol_ud2, "add %1, %0\n\trol $1, %0\n\tud2", STATUS)

typedef void (*faulter)(uint64_t, uint64_t, int);
static const faulter faulters[] = {
    rol_load, ror_store, rol_lea_load, shl_load, imul_load, inc_store, add_imm_load, rol_div, rol_ud2,
};

int main(void)
{
    for (size_t r = 0; r < sizeof readers / sizeof readers[0]; r++)
    {
        uint64_t h = 0;
        /* Many times each, so hot code runs translated in the default tier too. */
        for (int rep = 0; rep < 200; rep++)
            for (size_t i = 0; i < NV; i++)
                for (size_t j = 0; j < NV; j++)
                    h = (h * 1000003) ^ readers[r].f(vals[i], vals[j] + (uint64_t)rep);
        printf("%s %016llx\n", readers[r].name, (unsigned long long)h);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGFPE, &sa, 0);
    sigaction(SIGILL, &sa, 0);
    for (size_t f = 0; f < sizeof faulters / sizeof faulters[0]; f++)
        for (size_t i = 0; i < NV; i += 3)
            faulters[f](vals[i], vals[(i * 7 + 5) % NV], (int)i);
    return 0;
}

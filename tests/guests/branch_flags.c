/* Conditional branches right after each flag producer, at every width: LegoEmu keeps flags lazily
 * and answers common conditions straight from the producer's operands, so every producer is
 * followed by all sixteen Jcc (only those reading flags the producer defines). LEA and JMP between
 * them leave the flags alone. Each line is a hash of which branches were taken over many inputs. */
#include <stdint.h>
#include <stdio.h>

static const uint64_t vals[] = {
    0, 1, 2, 3, 5, 0x5a, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
    0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x7fffffffffffffff, 0x8000000000000000,
    0xffffffffffffffff, 0x123456789abcdef0, 0xfedcba9876543210, 0xfffffffffffffffe,
};
#define NV (sizeof vals / sizeof vals[0])

/* Sets bit K of the result register %q0 when condition CC holds. */
#define J(cc, k) "j" #cc " 1f\n\tjmp 2f\n1:\tlea " #k "(%q0), %q0\n2:\n\t"
#define ALL J(o, 1) J(no, 2) J(b, 4) J(ae, 8) J(e, 16) J(ne, 32) J(be, 64) J(a, 128) \
    J(s, 256) J(ns, 512) J(p, 1024) J(np, 2048) J(l, 4096) J(ge, 8192) J(le, 16384) J(g, 32768)
/* Without the conditions that read OF (undefined after multi-bit shifts and rotates). */
#define NO_OF J(b, 4) J(ae, 8) J(e, 16) J(ne, 32) J(be, 64) J(a, 128) J(s, 256) J(ns, 512) J(p, 1024) J(np, 2048)
/* CF and OF only (IMUL leaves SF, ZF and PF undefined). */
#define CF_OF J(o, 1) J(no, 2) J(b, 4) J(ae, 8)

/* NEG of 0 or 1 first defines every flag, with CF = the carry-in for ADC, SBB and the partial updaters. */
#define BINOP(name, op, m, conds)                                                                      \
    static unsigned name(uint64_t a, uint64_t b, uint64_t cin)                                         \
    {                                                                                                  \
        uint64_t r = 0;                                                                                \
        __asm__ volatile("neg %q3\n\t" op " %" #m "2, %" #m "1\n\t" conds                              \
                         : "+r"(r), "+r"(a), "+r"(b), "+r"(cin) : : "cc");                             \
        return (unsigned)r;                                                                            \
    }
#define UNOP(name, op, m, conds)                                                                       \
    static unsigned name(uint64_t a, uint64_t b, uint64_t cin)                                         \
    {                                                                                                  \
        uint64_t r = 0;                                                                                \
        (void)b;                                                                                       \
        __asm__ volatile("neg %q2\n\t" op " %" #m "1\n\t" conds : "+r"(r), "+r"(a), "+r"(cin) : : "cc"); \
        return (unsigned)r;                                                                            \
    }
#define SHIFTCL(name, op, m, conds)                                                                    \
    static unsigned name(uint64_t a, uint64_t b, uint64_t cin)                                         \
    {                                                                                                  \
        uint64_t r = 0;                                                                                \
        b &= 7; /* counts below every width: wider ones leave CF undefined for 8-bit operands */       \
        __asm__ volatile("neg %q3\n\t" op " %%cl, %" #m "1\n\t" conds                                  \
                         : "+r"(r), "+r"(a), "+c"(b), "+r"(cin) : : "cc");                             \
        return (unsigned)r;                                                                            \
    }
#define IMUL3(name, m)                                                                                 \
    static unsigned name(uint64_t a, uint64_t b, uint64_t cin)                                         \
    {                                                                                                  \
        uint64_t r = 0;                                                                                \
        (void)cin;                                                                                     \
        __asm__ volatile("imul $-77, %" #m "2, %" #m "1\n\t" CF_OF : "+r"(r), "+r"(a), "+r"(b) : : "cc"); \
        return (unsigned)r;                                                                            \
    }

#define WIDTHS(X, name, op, conds) X(name##8, op, b, conds) X(name##16, op, w, conds) X(name##32, op, k, conds) X(name##64, op, q, conds)
#define WIDE(X, name, op, conds) X(name##16, op, w, conds) X(name##32, op, k, conds) X(name##64, op, q, conds)

WIDTHS(BINOP, add, "add", ALL)
WIDTHS(BINOP, adc, "adc", ALL)
WIDTHS(BINOP, sub, "sub", ALL)
WIDTHS(BINOP, sbb, "sbb", ALL)
WIDTHS(BINOP, and, "and", ALL)
WIDTHS(BINOP, or, "or", ALL)
WIDTHS(BINOP, xor, "xor", ALL)
WIDTHS(BINOP, cmp, "cmp", ALL)
WIDTHS(BINOP, test, "test", ALL)
WIDTHS(UNOP, inc, "inc", ALL)
WIDTHS(UNOP, dec, "dec", ALL)
WIDTHS(UNOP, neg, "neg", ALL)
WIDTHS(UNOP, shl1, "shl $1,", ALL)
WIDTHS(UNOP, shr1, "shr $1,", ALL)
WIDTHS(UNOP, sar1, "sar $1,", ALL)
WIDTHS(UNOP, rol1, "rol $1,", ALL)
WIDTHS(UNOP, ror1, "ror $1,", ALL)
WIDTHS(UNOP, shl5, "shl $5,", NO_OF)
WIDTHS(UNOP, shr5, "shr $5,", NO_OF)
WIDTHS(UNOP, sar5, "sar $5,", NO_OF)
WIDTHS(UNOP, rol5, "rol $5,", J(b, 4) J(ae, 8))
WIDTHS(UNOP, ror5, "ror $5,", J(b, 4) J(ae, 8))
WIDTHS(SHIFTCL, shlcl, "shl", NO_OF)
WIDTHS(SHIFTCL, shrcl, "shr", NO_OF)
WIDTHS(SHIFTCL, sarcl, "sar", NO_OF)
WIDTHS(SHIFTCL, rolcl, "rol", J(b, 4) J(ae, 8))
WIDTHS(SHIFTCL, rorcl, "ror", J(b, 4) J(ae, 8))
WIDE(BINOP, imul, "imul", CF_OF)
IMUL3(imul3_16, w)
IMUL3(imul3_32, k)
IMUL3(imul3_64, q)

typedef unsigned (*producer)(uint64_t, uint64_t, uint64_t);
#define P4(name) {#name "8", name##8}, {#name "16", name##16}, {#name "32", name##32}, {#name "64", name##64}
static const struct { const char *name; producer f; } producers[] = {
    P4(add), P4(adc), P4(sub), P4(sbb), P4(and), P4(or), P4(xor), P4(cmp), P4(test), P4(inc), P4(dec), P4(neg),
    P4(shl1), P4(shr1), P4(sar1), P4(rol1), P4(ror1), P4(shl5), P4(shr5), P4(sar5), P4(rol5), P4(ror5),
    P4(shlcl), P4(shrcl), P4(sarcl), P4(rolcl), P4(rorcl),
    {"imul16", imul16}, {"imul32", imul32}, {"imul64", imul64},
    {"imul3_16", imul3_16}, {"imul3_32", imul3_32}, {"imul3_64", imul3_64},
};

int main(void)
{
    for (unsigned p = 0; p < sizeof producers / sizeof producers[0]; p++) {
        uint32_t h = 2166136261u;
        unsigned taken = 0;
        for (unsigned i = 0; i < NV; i++)
            for (unsigned j = 0; j < NV; j++)
                for (uint64_t cin = 0; cin < 2; cin++) {
                    unsigned r = producers[p].f(vals[i], vals[j], cin);
                    taken += __builtin_popcount(r);
                    h = (h ^ r) * 16777619u;
                }
        printf("%-9s %08x %u\n", producers[p].name, h, taken);
    }
    return 0;
}

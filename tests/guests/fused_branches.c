/* A compare (CMP, TEST, SUB of registers, immediates and memory, at every width) and the conditional branch after it,
 * which ends its block: LegoEmu's interpreter runs such a pair as one handler. Each case here branches on every
 * condition, reads RFLAGS again in the block the branch goes to (the compare's flags must still be there for whoever
 * reads them next), and returns what SUB left in its register or memory operand. Then compares whose memory operand
 * faults, where the signal handler prints the faulting instruction's address relative to its label and RFLAGS from
 * its frame: the flags of the instruction before the compare, which did not run. Only defined flags are printed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <ucontext.h>

#include "flag_values.h"

/* FIRST (a in %2, b in %3, a copy of a in memory %4), then J<CC> to a label; either way the next block reads RFLAGS. */
#define PAIR(name, first, cc)                                                                                  \
    static uint64_t name(uint64_t a, uint64_t b)                                                               \
    {                                                                                                          \
        uint64_t taken, f, m = a;                                                                              \
        __asm__ volatile(first "\n\tj" #cc " 1f\n\tmov $0, %0\n\tjmp 2f\n1:\tmov $1, %0\n2:\tpushfq\n\tpopq %1" \
                         : "=&r"(taken), "=&r"(f), "+r"(a), "+r"(b), "+m"(m) : : "cc");                        \
        return taken ^ ((f & STATUS) << 1) ^ (a << 13) ^ (b << 29) ^ (m * 0x9e3779b97f4a7c15ULL);              \
    }

#define EVERY_CC(X, form, first)                                                                               \
    X(form##_o, first, o) X(form##_no, first, no) X(form##_b, first, b) X(form##_ae, first, ae)                \
    X(form##_e, first, e) X(form##_ne, first, ne) X(form##_be, first, be) X(form##_a, first, a)                \
    X(form##_s, first, s) X(form##_ns, first, ns) X(form##_p, first, p) X(form##_np, first, np)                \
    X(form##_l, first, l) X(form##_ge, first, ge) X(form##_le, first, le) X(form##_g, first, g)
#define DEFINE(name, first, cc) PAIR(name, first, cc)
#define ENTRY(name, first, cc) {#name, name},

/* Every first instruction, at every width: X(form, "instruction"). */
#define FORMS(X)                                                                                               \
    X(cmp_rr_q, "cmp %3, %2") X(cmp_rr_l, "cmp %k3, %k2") X(cmp_rr_w, "cmp %w3, %w2") X(cmp_rr_b, "cmp %b3, %b2") \
    X(cmp_ri_q, "cmp $-2, %2") X(cmp_ri_l, "cmp $0x7fffffff, %k2") X(cmp_ri_w, "cmp $0x8000, %w2")            \
    X(cmp_ri_b, "cmp $0x7f, %b2") X(cmp_ri0_q, "cmp $0, %2")                                                 \
    X(cmp_rm_q, "cmp %4, %3") X(cmp_rm_l, "cmp %4, %k3") X(cmp_rm_w, "cmp %4, %w3") X(cmp_rm_b, "cmp %4, %b3") \
    X(cmp_mr_q, "cmp %3, %4") X(cmp_mr_l, "cmp %k3, %4") X(cmp_mr_w, "cmp %w3, %4") X(cmp_mr_b, "cmp %b3, %4") \
    X(cmp_mi_q, "cmpq $1, %4") X(cmp_mi_l, "cmpl $-0x80000000, %4") X(cmp_mi_w, "cmpw $-1, %4")                \
    X(cmp_mi_b, "cmpb $0x80, %4")                                                                             \
    X(test_rr_q, "test %3, %2") X(test_rr_l, "test %k3, %k2") X(test_rr_w, "test %w3, %w2")                   \
    X(test_rr_b, "test %b3, %b2") X(test_self_q, "test %2, %2") X(test_ri_q, "test $-0x7fffffff, %2")          \
    X(test_ri_l, "test $0x10, %k2") X(test_ri_w, "test $0x8001, %w2") X(test_ri_b, "test $0x81, %b2")         \
    X(test_mr_q, "test %3, %4") X(test_mr_l, "test %k3, %4") X(test_mr_w, "test %w3, %4")                     \
    X(test_mr_b, "test %b3, %4") X(test_mi_q, "testq $-1, %4") X(test_mi_l, "testl $0x40000000, %4")          \
    X(test_mi_w, "testw $0x7fff, %4") X(test_mi_b, "testb $0x80, %4")                                         \
    X(sub_rr_q, "sub %3, %2") X(sub_rr_l, "sub %k3, %k2") X(sub_rr_w, "sub %w3, %w2") X(sub_rr_b, "sub %b3, %b2") \
    X(sub_ri_q, "sub $1, %2") X(sub_ri_l, "sub $0x7fffffff, %k2") X(sub_ri_w, "sub $0x101, %w2")              \
    X(sub_ri_b, "sub $0x80, %b2") X(sub_mi_q, "subq $1, %4") X(sub_mi_l, "subl $-1, %4")                      \
    X(sub_mi_w, "subw $0x8000, %4") X(sub_mi_b, "subb $1, %4")                                               \
    X(add_ri_q, "add $1, %2") X(and_rr_l, "and %k3, %k2") X(dec_q, "dec %2")

#define DEFINE_FORM(form, first) EVERY_CC(DEFINE, form, first)
#define ENTRY_FORM(form, first) EVERY_CC(ENTRY, form, first)
FORMS(DEFINE_FORM)

typedef uint64_t (*pair_fn)(uint64_t, uint64_t);
static const struct { const char *name; pair_fn f; } pairs[] = { FORMS(ENTRY_FORM) };

/* ---- a compare whose memory operand faults: RIP at the compare, the flags of ADD before it ---- */

static sigjmp_buf env;
static volatile uint64_t frame_flags, frame_rip;
static volatile int frame_sig;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    frame_sig = sig;
    frame_flags = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_EFL];
    frame_rip = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
    siglongjmp(env, 1);
}

/* ADD sets the flags; FIRST (the null pointer in %2) faults; the branch after it ends the block. */
#define FAULTING(name, first, cc)                                                                              \
    static void name(uint64_t a, uint64_t b, int k)                                                           \
    {                                                                                                          \
        if (sigsetjmp(env, 1) == 0)                                                                            \
        {                                                                                                      \
            uint64_t *p = 0, at;                                                                               \
            __asm__ volatile("lea 3f(%%rip), %3\n\tmov %3, %4\n\tadd %1, %0\n3:\t" first "\n\tj" #cc " 4f\n4:" \
                             : "+r"(a), "+r"(b), "+r"(p), "=&r"(at), "=m"(label) : : "cc", "memory");          \
            printf("%s %d: no fault\n", #name, k);                                                             \
        }                                                                                                      \
        else                                                                                                   \
            printf("%s %d: signal %d at label%+lld flags %03llx\n", #name, k, frame_sig,                       \
                   (long long)(frame_rip - label), (unsigned long long)(frame_flags & STATUS));                \
    }

static uint64_t label;
FAULTING(cmp_mi_fault, "cmpq $0, (%2)", e)
FAULTING(cmp_rm_fault, "cmp (%2), %k1", ne)
FAULTING(test_mr_fault, "test %b1, 8(%2)", s)
FAULTING(sub_mi_fault, "subq $1, (%2)", g)

typedef void (*faulter)(uint64_t, uint64_t, int);
static const faulter faulters[] = { cmp_mi_fault, cmp_rm_fault, test_mr_fault, sub_mi_fault };

int main(void)
{
    uint64_t all = 0;
    for (size_t n = 0; n < sizeof pairs / sizeof pairs[0]; n++)
    {
        uint64_t h = 0;
        for (size_t i = 0; i < NV; i++)
            for (size_t j = 0; j < NV; j++)
                h = h * 0x100000001b3ULL ^ pairs[n].f(vals[i], vals[j]);
        all ^= h + n;
        printf("%s %016llx\n", pairs[n].name, (unsigned long long)h);
    }
    printf("all %016llx\n", (unsigned long long)all);

    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    for (size_t f = 0; f < sizeof faulters / sizeof faulters[0]; f++)
        for (int k = 0; k < 6; k++)
            faulters[f](vals[k * 2], vals[k * 2 + 3], k);
    return 0;
}

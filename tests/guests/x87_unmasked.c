/* x87 exceptions the program unmasks (feenableexcept sets the x87 control word too) are delayed: the
   instruction that raises one flags it and, for invalid and divide by zero, leaves its destination and the
   stack alone; overflow and underflow store a bias-adjusted result in a register destination. SIGFPE
   (trap 16) comes at the next waiting x87 instruction, FWAIT or an arithmetic one, not at FNSTSW, with the
   si_code the kernel derives from the status word and control word. The handler prints what the frame
   holds: the status word, the stack, the faulting address. */
#define _GNU_SOURCE
#include <fenv.h>
#include <float.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf back;
static volatile int code, trapno, reached;
static volatile unsigned short swd, cwd, ax;
static volatile uint64_t rip, addr;
static volatile uint64_t st_mant[2];
static volatile uint16_t st_exp[2];

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    ucontext_t *uc = ctx;
    reached = 1;
    code = si->si_code;
    addr = (uint64_t)si->si_addr;
    trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    ax = (unsigned short)uc->uc_mcontext.gregs[REG_RAX];
    swd = uc->uc_mcontext.fpregs->swd;
    cwd = uc->uc_mcontext.fpregs->cwd;
    for (int k = 0; k < 2; k++)
    {
        memcpy((void *)&st_mant[k], &uc->uc_mcontext.fpregs->_st[k], 8);
        memcpy((void *)&st_exp[k], (char *)&uc->uc_mcontext.fpregs->_st[k] + 8, 2);
    }
    siglongjmp(back, 1);
}

static long double a, b;
static double out64;
static float out32;
static int64_t outint;
double den64 = 4e-320;

/* Loads a then b, runs the operation, then the instruction that checks. */
/* Loads a then b, runs the operations, then checks (FWAIT) and empties the stack. */
#define CASE(name, ops) do { \
        reached = 0; \
        out64 = 7.0; out32 = 7.0f; outint = 7; \
        if (!sigsetjmp(back, 1)) { \
            unsigned short sw_; \
            __asm__ volatile("fldt %[a]\n fldt %[b]\n" ops "\n fwait\n fnstsw %[sw]\n fninit" \
                             : [o64] "=m"(out64), [o32] "=m"(out32), [oi] "=m"(outint), [sw] "=m"(sw_) : [a] "m"(a), [b] "m"(b) \
                             : "rax", "st", "st(1)", "memory"); \
            printf("%-13s no signal, sw %04x, out %g %g %lld\n", name, sw_, out64, out32, (long long)outint); \
        } else \
            printf("%-13s SIGFPE code %d trap %d at %s (opcode %02x), sw %04x cw %04x ax %04x st0 %04x:%016llx st1 %04x:%016llx out %g %g %lld\n", \
                   name, code, trapno, addr == rip ? "rip" : "elsewhere", *(unsigned char *)rip, swd, cwd, ax, \
                   st_exp[0], (unsigned long long)st_mant[0], st_exp[1], (unsigned long long)st_mant[1], out64, out32, (long long)outint); \
        fedisableexcept(FE_ALL_EXCEPT); \
        feclearexcept(FE_ALL_EXCEPT); \
    } while (0)

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);

    /* The plain case: a long double divided by zero. */
    {
        volatile long double one = 1.0L, zero = 0.0L, r = 5.0L;
        feenableexcept(FE_DIVBYZERO);
        reached = 0;
        if (!sigsetjmp(back, 1))
        {
            r = one / zero;
            printf("long double 1/0: no signal (%Lg)\n", r);
        }
        else
            printf("long double 1/0: SIGFPE reached %d, si_code %d (FPE_FLTDIV %d), r still %Lg\n", reached, code, FPE_FLTDIV, r);
        fedisableexcept(FE_ALL_EXCEPT);
        feclearexcept(FE_ALL_EXCEPT);
    }

    static const struct { const char *name; int except; } modes[] = {
        { "divbyzero", FE_DIVBYZERO }, { "invalid", FE_INVALID }, { "overflow", FE_OVERFLOW },
        { "underflow", FE_UNDERFLOW }, { "inexact", FE_INEXACT }, { "all", FE_ALL_EXCEPT }, { "none", 0 },
    };
    for (unsigned m = 0; m < sizeof modes / sizeof modes[0]; m++)
    {
        printf("-- %s unmasked\n", modes[m].name);
#define RUN(name, x, y, ops) do { a = (x); b = (y); feclearexcept(FE_ALL_EXCEPT); feenableexcept(modes[m].except); CASE(name, ops); } while (0)
        RUN("fdiv 1/0", 1.0L, 0.0L, "fdivrp\n fld %%st(0)");
        RUN("fdiv 0/0", 0.0L, 0.0L, "fdivrp");
        RUN("fdiv 1/3", 1.0L, 3.0L, "fdivrp");
        RUN("fmul max^2", LDBL_MAX, LDBL_MAX, "fmulp");
        RUN("fmul min^2", LDBL_MIN, LDBL_MIN, "fmulp");
        RUN("fsqrt -1", 1.0L, -1.0L, "fsqrt");
        RUN("fadd 2+2", 2.0L, 2.0L, "faddp");
        RUN("fnstsw", 1.0L, 0.0L, "fdivrp\n fnstsw %%ax\n fnclex\n fwait");
        RUN("fnstsw+wait", 1.0L, 0.0L, "fdivrp\n fnstsw %%ax\n fwait");
        RUN("fst m64", LDBL_MAX, 1.0L, "fxch\n fstl %[o64]\n fxch");
        RUN("fst m32", 1e-40L, 1.0L, "fxch\n fsts %[o32]\n fxch");
        RUN("fist big", 1e30L, 1.0L, "fxch\n fistpll %[oi]\n fld1");
        RUN("fistp 2.5", 2.5L, 1.0L, "fxch\n fistpll %[oi]\n fld1");
        RUN("fcom nan", __builtin_nanl(""), 1.0L, "fcom %%st(1)");
        RUN("fsin", 1.0L, 1.0L, "fsin");
        RUN("fld m64 den", 1.0L, 1.0L, "fstp %%st(0)\n fldl den64(%%rip)");
        RUN("fdiv m32 0", 1.0L, 1.0L, "movl $0, %[o32]\n fdivs %[o32]");
        RUN("later fadd", 1.0L, 0.0L, "fdivrp\n fld1");
        /* MMX instructions wait too: the pending exception traps at them, before they take the x87 registers. */
        RUN("later paddb", 1.0L, 0.0L, "fdivrp\n paddb %%mm0, %%mm0");
        RUN("later emms", 1.0L, 0.0L, "fdivrp\n emms");
        /* FCOMIP sets RFLAGS even when its invalid operation is unmasked, but then does not pop; FCMOVcc from or to
           an empty register leaves ST(0) alone when the stack fault is unmasked. */
        RUN("fcomip nan", __builtin_nanl(""), 1.0L, "fcomip %%st(1), %%st\n fld1");
        RUN("fucomip nan", __builtin_nanl(""), 1.0L, "fucomip %%st(1), %%st\n fld1");
        RUN("fcomip empty", 1.0L, 2.0L, "ffree %%st(1)\n fcomip %%st(1), %%st\n fld1");
        RUN("fcmovnb empty", 1.0L, 2.0L, "ffree %%st(1)\n fcmovnb %%st(1), %%st");
        RUN("fcmovb empty", 1.0L, 2.0L, "ffree %%st(1)\n fcmovb %%st(1), %%st");
        RUN("fcmovb to empty", 1.0L, 2.0L, "ffree %%st(0)\n fcmovb %%st(1), %%st");
        RUN("push overflow", 1.0L, 2.0L, "fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n fld1\n"
                                        "ffree %%st(0)\n fincstp\n ffree %%st(0)\n fincstp\n ffree %%st(0)\n fincstp\n"
                                        "ffree %%st(0)\n fincstp\n ffree %%st(0)\n fincstp\n ffree %%st(0)\n fincstp\n ffree %%st(0)\n fincstp");
    }

    /* FLDCW unmasking a flag already set: the next waiting instruction traps. */
    {
        unsigned short cw;
        feclearexcept(FE_ALL_EXCEPT);
        reached = 0;
        a = 1.0L; b = 0.0L;
        if (!sigsetjmp(back, 1))
        {
            __asm__ volatile("fnstcw %0" : "=m"(cw));
            cw &= ~FE_DIVBYZERO;
            __asm__ volatile("fldt %1\n fldt %2\n fdivrp\n fstp %%st(0)\n fldcw %0\n fnop\n fwait" : : "m"(cw), "m"(a), "m"(b) : "st");
            printf("fldcw: no signal\n");
        }
        else
            printf("fldcw: SIGFPE code %d trap %d sw %04x at opcode %02x\n", code, trapno, swd, *(unsigned char *)rip);
        fedisableexcept(FE_ALL_EXCEPT);
        feclearexcept(FE_ALL_EXCEPT);
    }
    return 0;
}

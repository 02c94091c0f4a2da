/* SSE and AVX floating-point exceptions the program unmasks (feenableexcept) arrive as SIGFPE with the
   kernel's si_code (FPE_FLTDIV, FPE_FLTINV, FPE_FLTOVF, FPE_FLTUND, FPE_FLTRES) and trap number 19, at
   the instruction, whose destination keeps its old value; MXCSR in the frame holds the flags the
   hardware set. Run under --cpu v3 for the VEX cases. */
#define _GNU_SOURCE
#include <fenv.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf back;
static volatile int code, trapno;
static volatile unsigned mxcsr;
static volatile uint64_t dest;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    ucontext_t *uc = ctx;
    code = si->si_code;
    trapno = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
    mxcsr = uc->uc_mcontext.fpregs->mxcsr;
    memcpy((void *)&dest, &uc->uc_mcontext.fpregs->_xmm[2], 8);
    /* Leave with the exceptions masked and the flags clear, as the handler found the hardware. */
    uc->uc_mcontext.fpregs->mxcsr = 0x1f80;
    siglongjmp(back, 1);
}

/* xmm2 = marker; xmm2 op= xmm1 (scalar double), with the operands given. */
#define SCALAR(name, insn, a, b) do { \
        double x_ = (a), y_ = (b); uint64_t marker_ = 0x7777777777777777ULL, out_; \
        if (!sigsetjmp(back, 1)) { \
            __asm__ volatile("movq %1, %%xmm2\n movsd %2, %%xmm1\n movsd %3, %%xmm0\n " insn "\n movq %%xmm2, %0" \
                             : "=r"(out_) : "r"(marker_), "m"(y_), "m"(x_) : "xmm0", "xmm1", "xmm2"); \
            printf("%-10s no signal, result %016llx\n", name, (unsigned long long)out_); \
        } else printf("%-10s SIGFPE code %d trap %d mxcsr flags %02x dest %016llx\n", name, code, trapno, mxcsr & 0x3f, (unsigned long long)dest); \
    } while (0)

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    static const struct { const char *name; int except; } modes[] = {
        { "divbyzero", FE_DIVBYZERO }, { "invalid", FE_INVALID }, { "overflow", FE_OVERFLOW },
        { "underflow", FE_UNDERFLOW }, { "inexact", FE_INEXACT }, { "all", FE_ALL_EXCEPT },
    };
    for (unsigned m = 0; m < sizeof modes / sizeof modes[0]; m++)
    {
        printf("-- %s unmasked\n", modes[m].name);
        feclearexcept(FE_ALL_EXCEPT);
        feenableexcept(modes[m].except);
        SCALAR("div 1/0", "movapd %%xmm0, %%xmm2\n divsd %%xmm1, %%xmm2", 1.0, 0.0);
        feenableexcept(modes[m].except);
        SCALAR("0*inf", "movapd %%xmm0, %%xmm2\n mulsd %%xmm1, %%xmm2", 0.0, __builtin_inf());
        feenableexcept(modes[m].except);
        SCALAR("max*2", "movapd %%xmm0, %%xmm2\n mulsd %%xmm1, %%xmm2", 1.7e308, 2.0);
        feenableexcept(modes[m].except);
        SCALAR("tiny^2", "movapd %%xmm0, %%xmm2\n mulsd %%xmm1, %%xmm2", 1e-200, 1e-200);
        feenableexcept(modes[m].except);
        SCALAR("1/3", "movapd %%xmm0, %%xmm2\n divsd %%xmm1, %%xmm2", 1.0, 3.0);
        feenableexcept(modes[m].except);
        SCALAR("2+2", "movapd %%xmm0, %%xmm2\n addsd %%xmm1, %%xmm2", 2.0, 2.0);
        feenableexcept(modes[m].except);
        SCALAR("vdivsd", "vdivsd %%xmm1, %%xmm0, %%xmm2", 1.0, 0.0);
        feenableexcept(modes[m].except);
        SCALAR("vfmadd", "vmovapd %%xmm0, %%xmm2\n vfmadd213sd %%xmm1, %%xmm0, %%xmm2", 1e300, 1e300);
        feenableexcept(modes[m].except);
        SCALAR("vsqrtpd", "vsqrtpd %%ymm1, %%ymm2", 0.0, -1.0);
        fedisableexcept(FE_ALL_EXCEPT);
    }
    return 0;
}

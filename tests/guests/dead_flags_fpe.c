/* As dead_flags' faults, with an SSE division of registers that traps (division by zero unmasked in MXCSR):
 * the flags of the ADD and the rotate before it reach the SIGFPE handler's frame although the XOR after it
 * overwrites them all. An instruction without a memory operand can still fault. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#define STATUS 0x8d5UL /* CF PF AF ZF SF OF */

static const uint64_t vals[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff,
    0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x123456789abcdef0, 0xfedcba9876543211,
};
#define NV (sizeof vals / sizeof vals[0])

static sigjmp_buf env;
static volatile uint64_t frame_flags;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    frame_flags = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_EFL];
    siglongjmp(env, 1);
}

static void rol_divss(uint64_t a, uint64_t b, int k)
{
    unsigned mxcsr = 0x1f80 & ~0x200u;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
    if (sigsetjmp(env, 1) == 0)
    {
        __asm__ volatile("mov $0x3f800000, %%eax\n\tmovd %%eax, %%xmm0\n\txorps %%xmm1, %%xmm1\n\t"
                         "add %1, %0\n\trol $1, %0\n\tdivss %%xmm1, %%xmm0\n\txor %0, %0\n\txor %1, %1"
                         : "+r"(a), "+r"(b) : : "cc", "rax", "xmm0", "xmm1");
        printf("rol_divss %d: no fault\n", k);
    }
    else
        printf("rol_divss %d: flags %03llx\n", k, (unsigned long long)(frame_flags & STATUS));
    mxcsr = 0x1f80;
    __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGFPE, &sa, 0);
    for (size_t i = 0; i < NV; i++)
        rol_divss(vals[i], vals[(i * 7 + 5) % NV], (int)i);
    return 0;
}

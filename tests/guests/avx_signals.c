/* The AVX state across a signal, as the kernel keeps it: the frame's fpstate carries FP_XSTATE_MAGIC1 in
   the FXSAVE image's software-reserved bytes and the XSAVE area behind it, whose AVX component (bits
   255:128 of YMM0-15, at offset 576 in the standard form) a handler can read and change; the handler
   starts with the upper halves clear; sigreturn restores them, changes included. Built with -mavx2. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <sys/syscall.h>

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U

static volatile uint64_t seen[4], inside[4];
static volatile int magic_ok, avx_in_use;

static void handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig; (void)si;
    ucontext_t *uc = ctx;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    uint32_t magic1, xstate_size, magic2;
    uint64_t xstate_bv;
    memcpy(&magic1, fp + 464, 4);
    memcpy(&xstate_size, fp + 464 + 16, 4);
    memcpy(&magic2, fp + xstate_size, 4);
    memcpy(&xstate_bv, fp + 512, 8);
    magic_ok = magic1 == FP_XSTATE_MAGIC1 && magic2 == FP_XSTATE_MAGIC2 && (uc->uc_flags & 1);
    avx_in_use = (int)(xstate_bv >> 2 & 1);
    /* YMM9's upper half as saved, then changed: sigreturn must load the change. */
    memcpy((void *)seen, fp + 576 + 16 * 9, 16);
    uint64_t repl[2] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };
    memcpy(fp + 576 + 16 * 9, repl, 16);
    /* The handler's own YMM registers start with clear upper halves. */
    uint64_t v[4];
    __asm__ volatile("vmovdqu %%ymm8, %0" : "=m"(v));
    inside[0] = v[2]; inside[1] = v[3];
    __asm__ volatile("vpcmpeqd %%ymm8, %%ymm8, %%ymm8\n vpcmpeqd %%ymm10, %%ymm10, %%ymm10" ::: "xmm8", "xmm10");
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    for (int round = 0; round < 3; round++)
    {
        uint64_t in8[4] = { 0x0101010101010101ULL * (round + 1), 2, 3 + round, 0xfedcba9876543210ULL };
        uint64_t in9[4] = { 5, 6, 0x7777777777777777ULL, 8ULL << round };
        uint64_t in10[4] = { 9, 10, 11, 12 };
        uint64_t out8[4], out9[4], out10[4];
        long pid = getpid(), ret;
        __asm__ volatile(
            "vmovdqu %[i8], %%ymm8\n vmovdqu %[i9], %%ymm9\n vmovdqu %[i10], %%ymm10\n"
            "syscall\n"
            "vmovdqu %%ymm8, %[o8]\n vmovdqu %%ymm9, %[o9]\n vmovdqu %%ymm10, %[o10]\n"
            : [o8] "=m"(out8), [o9] "=m"(out9), [o10] "=m"(out10), "=a"(ret)
            : [i8] "m"(in8), [i9] "m"(in9), [i10] "m"(in10), "a"((long)SYS_kill), "D"(pid), "S"((long)SIGUSR1)
            : "rcx", "r11", "memory", "xmm8", "xmm9", "xmm10");
        printf("round %d: ret %ld magic %d avx-in-use %d saved ymm9 hi %016llx%016llx handler ymm8 hi %016llx%016llx\n", round, ret,
               magic_ok, avx_in_use, (unsigned long long)seen[1], (unsigned long long)seen[0], (unsigned long long)inside[1], (unsigned long long)inside[0]);
        printf("  after: ymm8 %016llx %016llx %016llx %016llx\n", (unsigned long long)out8[3], (unsigned long long)out8[2], (unsigned long long)out8[1], (unsigned long long)out8[0]);
        printf("  after: ymm9 %016llx %016llx %016llx %016llx\n", (unsigned long long)out9[3], (unsigned long long)out9[2], (unsigned long long)out9[1], (unsigned long long)out9[0]);
        printf("  after: ymm10 %016llx %016llx %016llx %016llx\n", (unsigned long long)out10[3], (unsigned long long)out10[2], (unsigned long long)out10[1], (unsigned long long)out10[0]);
    }
    return 0;
}

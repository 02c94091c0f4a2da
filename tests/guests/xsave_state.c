/* XGETBV, XSAVE, XSAVEC and XRSTOR of x87 | SSE | AVX (EDX:EAX = 7) as the hardware does them: the
   legacy region (without the code-layout-dependent FPU pointers and the vendor's MXCSR_MASK), the header's
   XSTATE_BV and XCOMP_BV, the AVX component at 576; XRSTOR of a changed image, and of components marked
   in their initial state. Built with -mavx2 -mxsave -mxsavec, run under --cpu v3. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint8_t area[4096] __attribute__((aligned(64)));

static void dump(const char *tag)
{
    uint64_t bv, comp;
    memcpy(&bv, area + 512, 8);
    memcpy(&comp, area + 520, 8);
    printf("%s: fcw %02x%02x fsw %02x%02x ftw %02x mxcsr %02x%02x bv %llx comp %llx\n", tag, area[1], area[0], area[3], area[2], area[4],
           area[25], area[24], (unsigned long long)(bv & 7), (unsigned long long)comp);
    /* The x87 registers, and only the vector registers set here: the others hold whatever libc left. */
    static const int regs[] = { 32, 48, 64, 80, 96, 112, 128, 144, 160 + 16 * 3, 160 + 16 * 7, 160 + 16 * 12 };
    for (int n = 0; n < 11; n++)
    {
        printf("  %3d:", regs[n]);
        for (int j = 0; j < 16; j++) printf(" %02x", area[regs[n] + j]);
        printf("\n");
    }
    if (bv & 4)
        for (int r = 3; r <= 12; r += r == 3 ? 4 : 5)
        {
            printf("  ymm%d hi:", r);
            for (int j = 0; j < 16; j++) printf("%02x", area[576 + 16 * r + j]);
            printf("\n");
        }
}

int main(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    printf("xcr0 has x87 sse avx: %d\n", (lo & 7) == 7);
    {
        /* FXSAVE leaves bytes 416-511 (reserved, and free for software) as they were. */
        static uint8_t fx[512] __attribute__((aligned(16)));
        memset(fx, 0x55, sizeof fx);
        __asm__ volatile("fxsave64 %0" : "=m"(fx));
        int kept = 0;
        for (int k = 416; k < 512; k++) kept += fx[k] == 0x55;
        printf("fxsave: %d of bytes 416-511 kept, mxcsr %02x%02x\n", kept, fx[25], fx[24]);
    }
    __m256i v = _mm256_set_epi64x(0x1111111111111111LL, 0x2222222222222222LL, 0x3333333333333333LL, 0x4444444444444444LL);
    double x = 2.5;
    for (int form = 0; form < 2; form++)
    {
        memset(area, 0xa5, sizeof area);
        memset(area + 512, 0, 64);
        __asm__ volatile("fninit\n fldl %0\n fldpi\n fld1" :: "m"(x));
        __asm__ volatile("vmovdqa %0, %%ymm3\n vpxor %%ymm7, %%ymm7, %%ymm7\n vpcmpeqd %%ymm12, %%ymm12, %%ymm12" :: "m"(v) : "xmm3", "xmm7", "xmm12");
        if (form == 0) _xsave(area, 7);
        else _xsavec(area, 7);
        __asm__ volatile("fninit");
        dump(form == 0 ? "xsave" : "xsavec");
        /* Change the image and load it back. */
        area[576 + 16 * 3] ^= 0xff;
        area[160 + 16 * 12] = 0x5a;
        _xrstor(area, 7);
        uint64_t out[8];
        __asm__ volatile("vmovdqu %%ymm3, %0\n vmovdqu %%ymm12, %1" : "=m"(out[0]), "=m"(out[4]));
        double top;
        __asm__ volatile("fstpl %0" : "=m"(top));
        printf("restored ymm3 %016llx %016llx %016llx %016llx ymm12 %016llx %016llx st0 %a\n", (unsigned long long)out[3], (unsigned long long)out[2],
               (unsigned long long)out[1], (unsigned long long)out[0], (unsigned long long)out[5], (unsigned long long)out[4], top);
        /* XSTATE_BV without AVX: the upper halves come back zero; without SSE: XMM registers zero. */
        uint64_t bv = 1;
        memcpy(area + 512, &bv, 8);
        _xrstor(area, 7);
        __asm__ volatile("vmovdqu %%ymm3, %0\n vmovdqu %%ymm12, %1" : "=m"(out[0]), "=m"(out[4]));
        printf("init sse/avx ymm3 %016llx %016llx %016llx %016llx ymm12 %016llx %016llx\n", (unsigned long long)out[3], (unsigned long long)out[2],
               (unsigned long long)out[1], (unsigned long long)out[0], (unsigned long long)out[5], (unsigned long long)out[4]);
        __asm__ volatile("fninit");
    }
    /* XSAVE of part of the state leaves the rest of the area as it was. */
    memset(area, 0x3c, 1024);
    memset(area + 512, 0, 64);
    _xsave(area, 4);
    printf("avx only: byte0 %02x byte160 %02x bv %x\n", area[0], area[160], area[512] & 7);
    return 0;
}

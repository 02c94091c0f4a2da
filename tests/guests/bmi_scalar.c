/* The scalar x86-64-v3 instructions and the older forms next to them: BMI1, BMI2, LZCNT/TZCNT,
   MOVBE through <immintrin.h> and inline asm (register and memory sources, 32- and 64-bit, the
   flags each leaves where the SDM defines them), PCLMULQDQ, CVTPI2PS/CVTPI2PD with a memory
   source, and FNSTENV/FLDENV/FNSAVE/FRSTOR with a 16-bit operand size. Built with
   -mbmi -mbmi2 -mlzcnt -mmovbe -mpclmul (no AVX), run under --cpu v3. Half of it runs on a second
   thread, which --processors places on another processor component: that one must model v3 too. */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

#define N 48
static uint64_t vals[N];

static void fill(void)
{
    static const uint64_t edge[] = { 0, 1, 2, 3, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
        0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL, 0x0000ff00ff00ff00ULL, 0x1234, 0xff00 };
    int k = 0;
    for (; k < (int)(sizeof edge / sizeof edge[0]); k++) vals[k] = edge[k];
    for (; k < N; k++) vals[k] = (k & 1) ? rnd() : rnd() >> (rnd() & 63);
}

/* CF ZF SF OF of RFLAGS after the instruction, as the SDM defines for BMI (AF, PF undefined; BEXTR's SF too). */
#define FLAGMASK 0x8c1ULL

#define RR64(name, insn, a, b) ({ uint64_t r_, f_; __asm__ volatile(insn " %3, %2, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "r"(a), "r"(b) : "cc"); printf("%s %016llx %016llx -> %016llx f=%03llx\n", name, (unsigned long long)(a), (unsigned long long)(b), (unsigned long long)r_, (unsigned long long)(f_ & FLAGMASK)); })
#define RM64(name, insn, a, b) ({ uint64_t r_, f_, m_ = (b); __asm__ volatile(insn " %3, %2, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "r"(a), "m"(m_) : "cc"); printf("%s.m %016llx %016llx -> %016llx f=%03llx\n", name, (unsigned long long)(a), (unsigned long long)(b), (unsigned long long)r_, (unsigned long long)(f_ & FLAGMASK)); })
/* BEXTR, BZHI, SARX, SHLX, SHRX take the memory source in the middle (AT&T order). */
#define MR64(name, insn, a, b) ({ uint64_t r_, f_, m_ = (a); __asm__ volatile(insn " %2, %3, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "r"(b), "m"(m_) : "cc"); printf("%s.m %016llx %016llx -> %016llx f=%03llx\n", name, (unsigned long long)(a), (unsigned long long)(b), (unsigned long long)r_, (unsigned long long)(f_ & FLAGMASK)); })
#define RR32(name, insn, a, b) ({ uint32_t r_; uint64_t f_; __asm__ volatile(insn " %3, %2, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "r"((uint32_t)(a)), "r"((uint32_t)(b)) : "cc"); printf("%s32 %08x %08x -> %08x f=%03llx\n", name, (uint32_t)(a), (uint32_t)(b), r_, (unsigned long long)(f_ & FLAGMASK)); })

static void three_operand(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j += 5)
        {
            uint64_t a = vals[i], b = vals[j];
            RR64("andn", "andn", a, b);
            RM64("andn", "andn", a, b);
            RR32("andn", "andn", a, b);
            /* BEXTR and BZHI: the control is the third (vvvv) operand; AT&T puts it first. */
            uint64_t ctl = (b & 0xffff) % 3 == 0 ? b : ((b & 0x7f) | ((b >> 8 & 0x7f) << 8));
            RR64("bextr", "bextr", a, ctl);
            MR64("bextr", "bextr", a, ctl);
            MR64("bzhi", "bzhi", a, b & 0x1ff);
            MR64("sarx", "sarx", a, b);
            RR32("bextr", "bextr", a, ctl);
            RR64("bzhi", "bzhi", a, b & 0x1ff);
            RR32("bzhi", "bzhi", a, b & 0x1ff);
            RR64("sarx", "sarx", b, a);
            RR64("shlx", "shlx", b, a);
            RR64("shrx", "shrx", b, a);
            RR32("sarx", "sarx", b, a);
            RR32("shlx", "shlx", b, a);
            RR32("shrx", "shrx", b, a);
            RR64("pdep", "pdep", a, b);
            RM64("pdep", "pdep", a, b);
            RR32("pdep", "pdep", a, b);
            RR64("pext", "pext", a, b);
            RR32("pext", "pext", a, b);
        }
}

#define UN64(name, insn, a) ({ uint64_t r_, f_; __asm__ volatile(insn " %2, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "rm"((uint64_t)(a)) : "cc"); printf("%s %016llx -> %016llx f=%03llx\n", name, (unsigned long long)(a), (unsigned long long)r_, (unsigned long long)(f_ & FLAGMASK)); })
#define UN32(name, insn, a) ({ uint32_t r_; uint64_t f_; __asm__ volatile(insn " %2, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "rm"((uint32_t)(a)) : "cc"); printf("%s32 %08x -> %08x f=%03llx\n", name, (uint32_t)(a), r_, (unsigned long long)(f_ & FLAGMASK)); })
#define UN16(name, insn, a) ({ uint16_t r_; uint64_t f_; __asm__ volatile(insn " %2, %0\n pushfq\n pop %1" : "=&r"(r_), "=&r"(f_) : "rm"((uint16_t)(a)) : "cc"); printf("%s16 %04x -> %04x f=%03llx\n", name, (uint16_t)(a), r_, (unsigned long long)(f_ & 0x41)); })

static void two_operand(void)
{
    for (int i = 0; i < N; i++)
    {
        uint64_t a = vals[i];
        UN64("blsi", "blsi", a); UN32("blsi", "blsi", a);
        UN64("blsmsk", "blsmsk", a); UN32("blsmsk", "blsmsk", a);
        UN64("blsr", "blsr", a); UN32("blsr", "blsr", a);
        /* TZCNT/LZCNT define only CF and ZF. */
        uint64_t r, f;
        __asm__ volatile("tzcnt %2, %0\n pushfq\n pop %1" : "=&r"(r), "=&r"(f) : "rm"(a) : "cc");
        printf("tzcnt %016llx -> %llu f=%llx\n", (unsigned long long)a, (unsigned long long)r, (unsigned long long)(f & 0x41));
        __asm__ volatile("lzcnt %2, %0\n pushfq\n pop %1" : "=&r"(r), "=&r"(f) : "rm"(a) : "cc");
        printf("lzcnt %016llx -> %llu f=%llx\n", (unsigned long long)a, (unsigned long long)r, (unsigned long long)(f & 0x41));
        UN16("tzcnt", "tzcnt", a); UN16("lzcnt", "lzcnt", a >> 3);
        printf("tz32 %u lz32 %u\n", _tzcnt_u32((uint32_t)a), _lzcnt_u32((uint32_t)(a >> 7)));
        for (int k = 0; k < 64; k += 13)
        {
            uint64_t x;
            __asm__("rorx %2, %1, %0" : "=r"(x) : "rm"(a), "i"(13));
            printf("rorx %016llx %llx", (unsigned long long)a, (unsigned long long)x);
            uint32_t y;
            __asm__("rorx %2, %1, %0" : "=r"(y) : "rm"((uint32_t)a), "i"(7));
            printf(" %x\n", y);
        }
        for (int j = 0; j < N; j += 7)
        {
            unsigned long long hi, lo = _mulx_u64(a, vals[j], &hi);
            uint32_t hi32, lo32;
            __asm__("mulx %3, %1, %0" : "=r"(hi32), "=r"(lo32) : "d"((uint32_t)a), "rm"((uint32_t)vals[j]));
            printf("mulx %016llx %016llx -> %016llx:%016llx %08x:%08x\n", (unsigned long long)a, (unsigned long long)vals[j], hi, lo, hi32, lo32);
        }
        /* MULX with both destinations the same register keeps the high half. */
        uint64_t same;
        __asm__("mov %1, %%rdx\n mulx %2, %0, %0" : "=&r"(same) : "r"(a), "r"(vals[(i * 7) % N]) : "rdx");
        printf("mulx-same %016llx\n", (unsigned long long)same);
        /* MOVBE loads and stores of every width. */
        uint64_t m64 = a, o64; uint32_t m32 = (uint32_t)a, o32; uint16_t m16 = (uint16_t)a, o16 = 0x5555;
        __asm__("movbe %1, %0" : "=r"(o64) : "m"(m64));
        __asm__("movbe %1, %0" : "=r"(o32) : "m"(m32));
        __asm__("movbe %1, %0" : "+r"(o16) : "m"(m16));
        uint64_t s64; uint32_t s32; uint16_t s16;
        __asm__("movbe %1, %0" : "=m"(s64) : "r"(a));
        __asm__("movbe %1, %0" : "=m"(s32) : "r"((uint32_t)a));
        __asm__("movbe %1, %0" : "=m"(s16) : "r"((uint16_t)a));
        printf("movbe %016llx %08x %04x %016llx %08x %04x\n", (unsigned long long)o64, o32, o16, (unsigned long long)s64, s32, s16);
    }
}

static void *on_thread(void *arg)
{
    (void)arg;
    two_operand();
    return NULL;
}

static void clmul(void)
{
    for (int i = 0; i < N; i += 3)
        for (int j = 0; j < N; j += 4)
        {
            __m128i a = _mm_set_epi64x((long long)vals[(i + 1) % N], (long long)vals[i]);
            __m128i b = _mm_set_epi64x((long long)vals[j], (long long)vals[(j + 5) % N]);
            __m128i r[4] = { _mm_clmulepi64_si128(a, b, 0x00), _mm_clmulepi64_si128(a, b, 0x01),
                             _mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x11) };
            uint64_t q[8];
            memcpy(q, r, sizeof q);
            printf("pclmul %016llx%016llx %016llx%016llx %016llx%016llx %016llx%016llx\n", (unsigned long long)q[1], (unsigned long long)q[0],
                   (unsigned long long)q[3], (unsigned long long)q[2], (unsigned long long)q[5], (unsigned long long)q[4],
                   (unsigned long long)q[7], (unsigned long long)q[6]);
            __m128i m __attribute__((aligned(16))) = b, rm = a;
            __asm__("pclmulqdq $0x11, %1, %0" : "+x"(rm) : "m"(m));
            memcpy(q, &rm, 16);
            printf("pclmul.m %016llx%016llx\n", (unsigned long long)q[1], (unsigned long long)q[0]);
        }
}

static void mmx_from_memory(void)
{
    for (int i = 0; i < N; i++)
    {
        uint64_t src = vals[i];
        __m128 ps = _mm_set_ps(1.5f, -2.25f, 3.0f, 4.0f);
        __m128d pd = _mm_set_pd(7.0, 8.0);
        __asm__("cvtpi2ps %1, %0" : "+x"(ps) : "m"(src));
        __asm__("cvtpi2pd %1, %0" : "+x"(pd) : "m"(src));
        uint32_t f[4]; uint64_t d[2]; unsigned mx;
        memcpy(f, &ps, 16);
        memcpy(d, &pd, 16);
        __asm__ volatile("stmxcsr %0" : "=m"(mx));
        printf("cvtpi2ps %016llx -> %08x %08x %08x %08x cvtpi2pd %016llx %016llx mxcsr %x\n", (unsigned long long)src,
               f[3], f[2], f[1], f[0], (unsigned long long)d[1], (unsigned long long)d[0], mx);
    }
}

static void env16(void)
{
    unsigned char env[14] = { 0x7f, 0x03, 0x00, 0x38, 0xff, 0x3f, 0x34, 0x12, 0, 0, 0x9a, 0xbc, 0, 0 };
    unsigned char out[32], save[94];
    double x = 1.5, y;
    memset(out, 0xcc, sizeof out);
    /* FLDENV of a 16-bit image, read back through the 32-bit FNSTENV: control, status, tags, pointers. */
    __asm__ volatile("fninit\n .byte 0x66\n fldenv %1\n fnstenv %0\n fninit" : "=m"(out) : "m"(env));
    printf("fldenv16 cw %02x%02x sw %02x%02x tw %02x%02x ip %02x%02x dp %02x%02x\n", out[1], out[0], out[5], out[4], out[9], out[8],
           out[13], out[12], out[21], out[20]);
    /* FNSAVE with a 16-bit operand size: environment words, then the registers from offset 14. */
    memset(save, 0xcc, sizeof save);
    __asm__ volatile("fninit\n fldl %1\n fld1\n fldpi\n .byte 0x66\n fnsave %0" : "=m"(save) : "m"(x));
    printf("fnsave16 cw %02x%02x sw %02x%02x tw %02x%02x regs", save[1], save[0], save[3], save[2], save[5], save[4]);
    for (int k = 14; k < 14 + 30; k++) printf(" %02x", save[k]);
    printf(" after %02x\n", save[94 - 1]);
    /* FRSTOR of that image brings the stack back: ST(0) is pi, ST(2) the loaded value. */
    __asm__ volatile(".byte 0x66\n frstor %1\n fstp %%st(0)\n fstp %%st(0)\n fstpl %0\n fninit" : "=m"(y) : "m"(save));
    printf("frstor16 %a\n", y);
    /* FNSTENV with a 16-bit operand size masks every exception, like the 32-bit form. */
    unsigned short cw;
    memset(out, 0xcc, sizeof out);
    __asm__ volatile("fninit\n fldcw %2\n .byte 0x66\n fnstenv %0\n fnstcw %1\n fninit" : "=m"(out), "=m"(cw) : "m"(env[0]));
    printf("fnstenv16 cw %02x%02x sw %02x%02x tw %02x%02x after %02x cw-after %04x\n", out[1], out[0], out[3], out[2], out[5], out[4], out[14], cw);
}

int main(void)
{
    fill();
    three_operand();
    pthread_t t;
    if (pthread_create(&t, NULL, on_thread, NULL) != 0 || pthread_join(t, NULL) != 0) return 1;
    clmul();
    mmx_from_memory();
    env16();
    return 0;
}

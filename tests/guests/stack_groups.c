/* Calls whose callees save many registers and keep a frame, made at every stack depth modulo a page (alloca moves the
 * stack by 8 bytes at a time): the saves, the frame and the restores share one look-up in translated code, and at some
 * depths their range crosses a page (and line) boundary. Values pass through the saved registers, the frame and the
 * return addresses, so a wrong address in any of them changes the sums. */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile uint64_t sink;

static uint64_t __attribute__((noinline)) leaf(uint64_t a, uint64_t b)
{
    return a * 0x9e3779b97f4a7c15ull + (b ^ (b >> 7));
}

/* Reads a frame through a pointer, so the caller's array lives in its frame (below its saved registers). */
static uint64_t __attribute__((noinline)) fold(const uint64_t *v, int n)
{
    uint64_t r = 0;
    for (int k = 0; k < n; k++) r = r * 131 + v[k];
    return r;
}

/* No saved registers, a frame of its own: its first stack access follows the frame's allocation. */
static uint64_t __attribute__((noinline)) framed(uint64_t x)
{
    uint64_t v[5] = { x, x + 7, x * 5, x ^ 3, x >> 2 };
    return fold(v, 5) + v[(x >> 5) % 5];
}

/* Keeps many values live across calls, so the compiler saves and restores rbx, rbp and r12-r15. */
static uint64_t __attribute__((noinline)) heavy(uint64_t x, int depth)
{
    uint64_t a = x + 1, b = x * 3, c = x ^ 0x55, d = x << 2, e = x >> 1, f = ~x;
    uint64_t local[6] = { a, b, c, d, e, f };
    uint64_t r = leaf(a, b) + fold(local, 6) + framed(x);
    r += leaf(c, d) ^ local[(x >> 3) % 6];
    r += leaf(e, f);
    if (depth > 0) r += heavy(r ^ a ^ b ^ c ^ d ^ e ^ f, depth - 1);
    for (int k = 0; k < 6; k++) r = r * 31 + local[k];
    return r + a + b + c + d + e + f;
}

static const long double one = 1.0L;

/* Pushes on both sides of an x87 load, which translated code hands to the interpreter: the pushes after it look their
 * line up again, from RSP as it is by then. Below the red zone, which a leaf's locals may use. */
static uint64_t __attribute__((noinline)) pushes_around_x87(uint64_t x)
{
    uint64_t r;
    __asm__ volatile(
        "sub $128, %%rsp\n\t"
        "push %%rbx\n\t"
        "push %%rbp\n\t"
        "mov %1, %%rbx\n\t"
        "lea 1(%1), %%rbp\n\t"
        "fldt %2\n\t"
        "fstp %%st(0)\n\t"
        "push %%rbx\n\t"
        "push %%rbp\n\t"
        "mov 8(%%rsp), %0\n\t"
        "imul $3, (%%rsp), %%rbx\n\t"
        "add %%rbx, %0\n\t"
        "add $16, %%rsp\n\t"
        "pop %%rbp\n\t"
        "pop %%rbx\n\t"
        "add $128, %%rsp\n\t"
        : "=&r"(r) : "r"(x), "m"(one) : "memory");
    return r;
}

static uint64_t __attribute__((noinline)) at_depth(size_t shift, uint64_t x)
{
    volatile char *p = alloca(shift + 1);
    p[0] = (char)x;
    p[shift] = (char)(x >> 8);
    return heavy(x + (uint64_t)p[0] + (uint64_t)p[shift], 3);
}

int main(void)
{
    uint64_t total = 0;
    for (int round = 0; round < 40; round++)
        for (size_t shift = 0; shift < 4096 + 64; shift += 8) {
            uint64_t r = at_depth(shift, total + shift + (uint64_t)round);
            total = total * 1000003 + r + pushes_around_x87(total ^ shift);
        }
    sink = total;
    printf("%llu\n", (unsigned long long)total);
    return 0;
}

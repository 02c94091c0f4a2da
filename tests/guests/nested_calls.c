// Calls and returns between functions in hot code, in every way a return can fail to come back where its call
// expects: deep recursion, calls through function pointers, the C library calling back into the program (qsort),
// longjmp out of deep recursion, coroutines that switch stacks with swapcontext, and a signal raised deep inside
// recursion whose handler calls functions and sometimes jumps out. Translated code that keeps anything about a call
// (a return address it expects, a region it expects to come back to) must get each of them right. Every part runs
// long enough to be translated, and prints what it computed.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

__attribute__((noinline)) static unsigned long mix(unsigned long x)
{
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ul;
    return x ^ (x >> 32);
}

__attribute__((noinline)) static unsigned long deep(int n, unsigned long acc)
{
    if (n == 0) return mix(acc);
    unsigned long r = deep(n - 1, acc + (unsigned long)n);
    return r ^ (r >> 7) ^ (unsigned long)n;
}

__attribute__((noinline)) static unsigned long fib(int n) { return n < 2 ? (unsigned long)n : fib(n - 1) + fib(n - 2); }

static unsigned long add1(unsigned long x) { return x + 1; }
static unsigned long dbl(unsigned long x) { return x * 2; }
static unsigned long rot(unsigned long x) { return (x << 5) | (x >> 59); }
static unsigned long neg(unsigned long x) { return ~x; }
static unsigned long (*const table[4])(unsigned long) = { add1, dbl, rot, neg };

__attribute__((noinline)) static unsigned long through_pointers(unsigned long x, int rounds)
{
    for (int k = 0; k < rounds; k++) x = table[(x >> 3) & 3](x) + (unsigned long)k;
    return x;
}

static int compare(const void *a, const void *b)
{
    unsigned long x = mix(*(const unsigned long *)a), y = mix(*(const unsigned long *)b);
    return x < y ? -1 : x > y;
}

static jmp_buf escape;

__attribute__((noinline)) static unsigned long dive(int n, int bottom)
{
    if (n == bottom) longjmp(escape, n + 1);
    return dive(n + 1, bottom) + mix((unsigned long)n);
}

static ucontext_t main_ctx, co_ctx;
static unsigned long co_value;

__attribute__((noinline)) static void coroutine(void)
{
    for (unsigned long k = 0;; k++) {
        co_value = mix(co_value + k);
        swapcontext(&co_ctx, &main_ctx);
    }
}

static sigjmp_buf signal_escape;
static volatile unsigned long handled;

static void on_usr1(int sig)
{
    handled += deep(20, (unsigned long)sig) & 0xff;
    if (handled % 3 == 0) siglongjmp(signal_escape, 1);
}

__attribute__((noinline)) static unsigned long signal_dive(int n, int at)
{
    if (n == at) raise(SIGUSR1);
    if (n == 0) return 1;
    return signal_dive(n - 1, at) * 3 + (unsigned long)n;
}

int main(void)
{
    unsigned long sum = 0;
    for (int i = 0; i < 3000; i++) sum += deep(i % 300, (unsigned long)i);
    printf("deep %lx\n", sum);

    printf("fib %lu\n", fib(27));

    sum = 0;
    for (int i = 0; i < 2000; i++) sum ^= through_pointers((unsigned long)i, 100);
    printf("pointers %lx\n", sum);

    static unsigned long items[20000];
    for (int i = 0; i < 20000; i++) items[i] = (unsigned long)i * 7919u;
    qsort(items, 20000, sizeof items[0], compare);
    sum = 0;
    for (int i = 0; i < 20000; i++) sum = sum * 31 + items[i];
    printf("qsort %lx\n", sum);

    sum = 0;
    for (int i = 0; i < 4000; i++) {
        int got = setjmp(escape);
        if (got == 0) dive(0, i % 90);
        sum += (unsigned long)got;
    }
    printf("longjmp %lu\n", sum);

    static char stack[65536];
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack;
    co_ctx.uc_stack.ss_size = sizeof stack;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    sum = 0;
    for (int i = 0; i < 20000; i++) {
        swapcontext(&main_ctx, &co_ctx);
        sum += co_value >> 40;
    }
    printf("coroutines %lx\n", sum);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sum = 0;
    int escaped = 0;
    for (int i = 0; i < 3000; i++) {
        if (sigsetjmp(signal_escape, 1) == 0) sum += signal_dive(100, i % 100);
        else escaped++;
    }
    printf("signals %lx handled %lu escaped %d\n", sum, handled, escaped);
    return 0;
}

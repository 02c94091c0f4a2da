/* Call edges (args: N): main calls mid N times, mid calls leaf twice; rec recurses 50 deep and calls leaf at
   the bottom; dive recurses 10 deep and longjmps back to main, so its frames never return. Each function's
   cost per call is fixed, so a profile's edge counts and inclusive costs are known. */
#include "common.h"
#include <setjmp.h>

static jmp_buf back;
static volatile long sink;

__attribute__((noinline)) static long leaf(long x)
{
    long s = 0;
    for (int i = 0; i < 100; i++) s += x * i;
    return s;
}

__attribute__((noinline)) static long mid(long x) { return leaf(x) + leaf(x + 1); }

__attribute__((noinline)) static long rec(int n)
{
    if (n == 0) return leaf(7) + 1; /* not a tail call: the edge rec -> leaf stays a call */
    long r = rec(n - 1);
    sink += r; /* keeps the recursion a recursion (no accumulator loop) */
    return r + 1;
}

__attribute__((noinline)) static void dive(int n)
{
    sink += n;
    if (n == 0) longjmp(back, 1);
    dive(n - 1);
    sink += 1;
}

int main(int argc, char **argv)
{
    long n = arg_or(argc, argv, 1, 1000), s = 0;
    for (long i = 0; i < n; i++) s += mid(i);
    s += rec(50);
    if (setjmp(back) == 0) dive(10);
    for (long i = 0; i < 3; i++) s += leaf(i);
    printf("calls %ld: %ld %ld\n", n, s, (long)sink);
    return 0;
}

/* Shared by the errno guests: T(expr) prints the expression, its result and errno's name, so a run
   under LegoEmu must match the kernel's answer call by call. Only deterministic values are printed. */
#ifndef ERRNO_CHECK_H
#define ERRNO_CHECK_H
/* The calls below pass bad pointers and sizes on purpose. */
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#pragma GCC diagnostic ignored "-Wnonnull"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define T(expr)                                                                                   \
    do                                                                                            \
    {                                                                                             \
        errno = 0;                                                                                \
        long r_ = (long)(expr);                                                                   \
        printf("%-64s = %ld %s\n", #expr, r_, r_ < 0 ? strerrorname_np(errno) : "");              \
    } while (0)

/* An address nothing is mapped at, and one that is mapped read-only (a string literal). */
#define BAD ((void *)16)
static const char ro_bytes[4096] __attribute__((aligned(4096))) = "read-only";
#define RO ((void *)ro_bytes)
#endif

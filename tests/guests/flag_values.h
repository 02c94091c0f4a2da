/* What the flag guests (dead_flags, fused_branches) share: the status bits of RFLAGS that are defined after the
 * instructions they test, and operand values around every sign, width and carry boundary. */
#ifndef FLAG_VALUES_H
#define FLAG_VALUES_H
#include <stdint.h>

#define CF 0x001UL
#define PF 0x004UL
#define AF 0x010UL
#define ZF 0x040UL
#define SF 0x080UL
#define OF 0x800UL
#define STATUS (CF | PF | AF | ZF | SF | OF)

static const uint64_t vals[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff,
    0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0x123456789abcdef0, 0xfedcba9876543211,
};
#define NV (sizeof vals / sizeof vals[0])

#endif

/* Accesses at the front table's edges, hot enough to run translated: pages a multiple of the table's reach apart (the
 * same entry for each, alternating), loads at the top of the address space whose last byte wraps past zero and at
 * page zero (both fault), and the same pages again after munmap and mmap put other contents there. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static sigjmp_buf back;
static volatile int faults;

static void on_segv(int sig)
{
    (void)sig;
    faults++;
    siglongjmp(back, 1);
}

/* A load the compiler cannot move or drop, at an address it cannot see. */
static uint32_t __attribute__((noinline)) load32(const volatile uint32_t *p) { return *p; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);

    /* Reserve 600 MiB and use one page every 32 MiB, 64 MiB and 256 MiB: every table size up to 2^16 entries of
     * 4 KiB lines puts some of them in one entry. */
    size_t span = 600ul << 20;
    char *base = mmap(0, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) { perror("mmap"); return 1; }
    static const size_t offsets[] = { 0, 32ul << 20, 64ul << 20, 96ul << 20, 256ul << 20, 512ul << 20, (512ul << 20) + 4096 };
    enum { N = sizeof offsets / sizeof offsets[0] };
    uint64_t sum = 0;
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < N; k++) memset(base + offsets[k], 17 * k + round + 1, 4096);
        for (int it = 0; it < 20000; it++)
            for (int k = 0; k < N; k++) {
                volatile uint64_t *p = (volatile uint64_t *)(base + offsets[k] + ((it * 8) & 4095));
                sum = sum * 31 + *p;
                *p = *p + (uint64_t)it;
            }
        printf("round %d sum %llu\n", round, (unsigned long long)sum);
        /* Other memory at the same addresses: nothing seen before may come back. */
        for (int k = 0; k < N; k++) {
            munmap(base + offsets[k], 4096);
            if (mmap(base + offsets[k], 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
                perror("mmap fixed");
                return 1;
            }
        }
        uint64_t zeros = 0;
        for (int k = 0; k < N; k++) zeros += *(volatile uint64_t *)(base + offsets[k] + 64);
        printf("after remap %llu\n", (unsigned long long)zeros);
    }

    /* Faulting loads, many times each (a hot loop gets translated): the top of the address space (the last byte
     * wraps to address 0), the last canonical page, and page zero. */
    static const uintptr_t bad[] = { UINTPTR_MAX - 1, UINTPTR_MAX - 3, 0x7ffffffffffe, 0, 8 };
    for (int k = 0; k < 5; k++) {
        int before = faults;
        for (volatile int i = 0; i < 3000; i++) {
            if (sigsetjmp(back, 1) == 0) sum += load32((const volatile uint32_t *)bad[k]);
        }
        printf("address %d: %d faults\n", k, faults - before);
    }
    printf("sum %llu\n", (unsigned long long)sum);
    return 0;
}

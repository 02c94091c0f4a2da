/* Shared by the trace guests: a region at a fixed address, so a report can be restricted to it
   with --range and its footprint is known exactly, and a small deterministic generator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define REGION ((uintptr_t)0x200000000ULL)

static volatile uint8_t *map_region(size_t bytes)
{
    void *p = mmap((void *)REGION, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)REGION) {
        perror("mmap");
        exit(1);
    }
    return (volatile uint8_t *)p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    /* xorshift64*: cheap, and identical natively and emulated. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static long arg_or(int argc, char **argv, int i, long dflt)
{
    return argc > i ? strtol(argv[i], NULL, 0) : dflt;
}

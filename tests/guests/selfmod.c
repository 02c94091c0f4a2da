/* Self-modifying and generated code: code written into an RWX page, run, rewritten in place and run
   again (hot, in a loop, so the rewritten code was translated), and a small "JIT" that generates
   functions and calls them through a pointer. Every result must come from the code as last written. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef uint64_t (*fn)(uint64_t);

/* mov rax, imm32 (sign-extended); add rax, rdi; ret */
static void emit_add(uint8_t *p, int32_t k)
{
    uint8_t code[] = {0x48, 0xc7, 0xc0, 0, 0, 0, 0, 0x48, 0x01, 0xf8, 0xc3};
    memcpy(code + 3, &k, 4);
    memcpy(p, code, sizeof code);
}

/* imul rax, rdi, imm32; ret */
static void emit_mul(uint8_t *p, int32_t k)
{
    uint8_t code[] = {0x48, 0x69, 0xc7, 0, 0, 0, 0, 0xc3};
    memcpy(code + 3, &k, 4);
    memcpy(p, code, sizeof code);
}

int main(void)
{
    uint8_t *page = mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 1;
    fn f = (fn)page;
    uint64_t sum = 0;
    /* Rewrite the same bytes over and over; each version runs many times, so it gets hot. */
    for (int version = 0; version < 40; version++) {
        if (version % 2) emit_mul(page, version + 3); else emit_add(page, version * 1000);
        for (uint64_t i = 0; i < 2000; i++) sum = sum * 31 + f(i);
        printf("version %d: %llu\n", version, (unsigned long long)sum);
    }
    /* Patch only the immediate of the running function (a store into the middle of hot code). */
    emit_add(page, 7);
    for (int k = 0; k < 20; k++) {
        uint64_t s = 0;
        for (uint64_t i = 0; i < 500; i++) s += f(i);
        page[3] = (uint8_t)(k * 5);
        printf("patched %d: %llu\n", k, (unsigned long long)s);
    }
    /* A generated function table, called through pointers in a loop, regenerated halfway. */
    fn table[16];
    for (int g = 0; g < 2; g++) {
        for (int k = 0; k < 16; k++) {
            uint8_t *p = page + 4096 + 32 * k;
            if ((k + g) % 3) emit_add(p, k * 7 + g); else emit_mul(p, k + 2 + g);
            table[k] = (fn)p;
        }
        uint64_t acc = 0;
        for (int r = 0; r < 3000; r++) acc += table[r % 16]((uint64_t)r);
        printf("table %d: %llu\n", g, (unsigned long long)acc);
    }
    return 0;
}

// A switch-dispatched bytecode interpreter, the shape of the hot loop of CPython, Lua, jq or SQLite's VDBE: one
// indirect jump per bytecode, to one of dozens of handlers, so a translated guest leaves its region at almost every
// bytecode. The program sieves primes and sums a few series; the checksum it prints must match native.
// usage: bytecode [ROUNDS]   (default 60)
#include "../guests/vm_program.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 60;
    const long *prog = vm_build();
    static long arr[65536];
    unsigned long sum = 0;
    for (int r = 0; r < rounds; r++) {
        long mem[8] = {0};
        mem[VM_N] = 60000 + r;
        sum = sum * 31 + (unsigned long)vm_run(prog, mem, arr, 65535);
    }
    printf("bytecode: %d rounds, checksum %lu\n", rounds, sum);
    return 0;
}

// A switch-dispatched bytecode interpreter, the shape of the hot loop of CPython, Lua, jq or SQLite's VDBE: one
// indirect jump per bytecode, to one of dozens of handlers, so a translated guest leaves its region at almost every
// bytecode. The program sieves primes and sums a few series; the checksum it prints must match native.
// usage: bytecode [ROUNDS]   (default 60)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../guests/vm_program.h"

static long run(const long *code, long *mem, long *arr)
{
    long stack[256], *sp = stack;
    long rstack[64], *rp = rstack;
    long pc = 0;
    for (;;) {
        long op = code[pc++];
        switch (op) {
        case PUSH: *sp++ = code[pc++]; break;
        case LOAD: *sp++ = mem[code[pc++]]; break;
        case STORE: mem[code[pc++]] = *--sp; break;
        case ADD: sp[-2] += sp[-1]; sp--; break;
        case SUB: sp[-2] -= sp[-1]; sp--; break;
        case MUL: sp[-2] *= sp[-1]; sp--; break;
        case DIVM: sp[-2] = sp[-1] ? sp[-2] / sp[-1] : 0; sp--; break;
        case MOD: sp[-2] = sp[-1] ? sp[-2] % sp[-1] : 0; sp--; break;
        case AND: sp[-2] &= sp[-1]; sp--; break;
        case OR: sp[-2] |= sp[-1]; sp--; break;
        case XOR: sp[-2] ^= sp[-1]; sp--; break;
        case SHL: sp[-2] <<= (sp[-1] & 63); sp--; break;
        case SHR: sp[-2] = (long)((unsigned long)sp[-2] >> (sp[-1] & 63)); sp--; break;
        case NEG: sp[-1] = -sp[-1]; break;
        case NOT: sp[-1] = ~sp[-1]; break;
        case DUP: sp[0] = sp[-1]; sp++; break;
        case DROP: sp--; break;
        case SWAP: { long t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = t; break; }
        case OVER: sp[0] = sp[-2]; sp++; break;
        case LT: sp[-2] = sp[-2] < sp[-1]; sp--; break;
        case EQ: sp[-2] = sp[-2] == sp[-1]; sp--; break;
        case JMP: pc = code[pc]; break;
        case JZ: pc = *--sp ? pc + 1 : code[pc]; break;
        case JNZ: pc = *--sp ? code[pc] : pc + 1; break;
        case ALOAD: sp[-1] = arr[sp[-1] & 65535]; break;
        case ASTORE: arr[sp[-1] & 65535] = sp[-2]; sp -= 2; break;
        case INC: mem[code[pc++]]++; break;
        case DEC: mem[code[pc++]]--; break;
        case CALL: *rp++ = pc + 1; pc = code[pc]; break;
        case RET: pc = *--rp; break;
        case HALT: return sp > stack ? sp[-1] : 0;
        default: fprintf(stderr, "bad opcode %ld at %ld\n", op, pc - 1); exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 60;
    const long *prog = vm_build();
    static long arr[65536];
    unsigned long sum = 0;
    for (int r = 0; r < rounds; r++) {
        long mem[8] = {0};
        mem[VM_N] = 60000 + r;
        sum = sum * 31 + (unsigned long)run(prog, mem, arr);
    }
    printf("bytecode: %d rounds, checksum %lu\n", rounds, sum);
    return 0;
}

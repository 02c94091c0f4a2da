// A switch-dispatched bytecode interpreter, the shape of the hot loop of CPython, Lua, jq or SQLite's VDBE: one
// indirect jump per bytecode, to one of dozens of handlers, so a translated guest leaves its region at almost every
// bytecode. The program sieves primes and sums a few series; the checksum it prints must match native.
// usage: bytecode [ROUNDS]   (default 60)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    PUSH, LOAD, STORE, ADD, SUB, MUL, DIVM, MOD, AND, OR, XOR, SHL, SHR, NEG, NOT, DUP, DROP, SWAP, OVER,
    LT, EQ, JMP, JZ, JNZ, ALOAD, ASTORE, INC, DEC, CALL, RET, HALT
};

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

// A tiny assembler: labels are patched after the program is laid out.
static long prog[1024];
static int n;
static long label[64];
static int fix_at[256], fix_label[256], nfix;
static void e(long v) { prog[n++] = v; }
static void ref(int l) { fix_at[nfix] = n; fix_label[nfix++] = l; e(0); }
static void mark(int l) { label[l] = n; }

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 60;
    enum { I = 0, J = 1, S = 2, N = 3, K = 4 };
    // sieve: for i in 2..N: arr[i] = 0; for i in 2..N: if !arr[i]: s += i; for j = i*i; j < N; j += i: arr[j] = 1
    e(PUSH); e(2); e(STORE); e(I);
    mark(0); e(LOAD); e(I); e(LOAD); e(N); e(LT); e(JZ); ref(1);
    e(PUSH); e(0); e(LOAD); e(I); e(ASTORE); e(INC); e(I); e(JMP); ref(0);
    mark(1); e(PUSH); e(2); e(STORE); e(I);
    mark(2); e(LOAD); e(I); e(LOAD); e(N); e(LT); e(JZ); ref(5);
    e(LOAD); e(I); e(ALOAD); e(JNZ); ref(4);
    e(LOAD); e(S); e(LOAD); e(I); e(ADD); e(STORE); e(S);
    e(LOAD); e(I); e(DUP); e(MUL); e(STORE); e(J);
    mark(3); e(LOAD); e(J); e(LOAD); e(N); e(LT); e(JZ); ref(4);
    e(PUSH); e(1); e(LOAD); e(J); e(ASTORE); e(LOAD); e(J); e(LOAD); e(I); e(ADD); e(STORE); e(J); e(JMP); ref(3);
    mark(4); e(INC); e(I); e(JMP); ref(2);
    // a series through a subroutine: for k = 1..N/4: s ^= f(k), f(k) = ((k * 2654435761) >> 7) % 1009 - (k & 7) | ~k & 0xff
    mark(5); e(PUSH); e(1); e(STORE); e(K);
    mark(6); e(LOAD); e(K); e(LOAD); e(N); e(PUSH); e(2); e(SHR); e(LT); e(JZ); ref(8);
    e(LOAD); e(K); e(CALL); ref(7); e(LOAD); e(S); e(XOR); e(STORE); e(S); e(INC); e(K); e(JMP); ref(6);
    mark(7); e(DUP); e(PUSH); e(2654435761L); e(MUL); e(PUSH); e(7); e(SHR); e(PUSH); e(1009); e(MOD);
    e(SWAP); e(DUP); e(PUSH); e(7); e(AND); e(SWAP); e(NOT); e(PUSH); e(255); e(AND); e(OR); e(NEG); e(NEG);
    e(SUB); e(RET);
    mark(8); e(LOAD); e(S); e(HALT);
    for (int f = 0; f < nfix; f++) prog[fix_at[f]] = label[fix_label[f]];

    static long arr[65536];
    unsigned long sum = 0;
    for (int r = 0; r < rounds; r++) {
        long mem[8] = {0};
        mem[N] = 60000 + r;
        sum = sum * 31 + (unsigned long)run(prog, mem, arr);
    }
    printf("bytecode: %d rounds, checksum %lu\n", rounds, sum);
    return 0;
}

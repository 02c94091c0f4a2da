// The opcodes and the program of the small stack machines in dispatch_vm.c and tests/bench/bytecode.c: a sieve of
// the primes below mem[VM_N] over the machine's array, then a mixing series through a subroutine. Shared so that the
// differential guest and the benchmark run the same bytecode.
#ifndef VM_PROGRAM_H
#define VM_PROGRAM_H

#include <stdio.h>
#include <stdlib.h>

enum {
    PUSH, LOAD, STORE, ADD, SUB, MUL, DIVM, MOD, AND, OR, XOR, SHL, SHR, NEG, NOT, DUP, DROP, SWAP, OVER,
    LT, EQ, JMP, JZ, JNZ, ALOAD, ASTORE, INC, DEC, CALL, RET, HALT, VM_OPCODES
};

// The machine's variables in mem[]: loop counters, the sum, the bound.
enum { VM_I = 0, VM_J = 1, VM_S = 2, VM_N = 3, VM_K = 4 };

static long vm_prog[1024];
static int vm_n;
static long vm_label[16];
static int vm_fix_at[64], vm_fix_label[64], vm_nfix;
static void e(long v) { vm_prog[vm_n++] = v; }
static void ref(int l) { vm_fix_at[vm_nfix] = vm_n; vm_fix_label[vm_nfix++] = l; e(0); }
static void mark(int l) { vm_label[l] = vm_n; }

// Assembles the program into vm_prog (labels patched once it is laid out) and returns it.
static const long *vm_build(void)
{
    enum { I = VM_I, J = VM_J, S = VM_S, N = VM_N, K = VM_K };
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
    // a series through a subroutine: for k = 1..N/4: s ^= f(k), f(k) = ((k * 2654435761) >> 7) % 1009 - ((k & 7) | ~k & 0xff),
    // and every third k, s = (s << 1 | s >> 63) - k / 3 over DIVM, SHL, OVER, EQ, DEC, DROP
    mark(5); e(PUSH); e(1); e(STORE); e(K);
    mark(6); e(LOAD); e(K); e(LOAD); e(N); e(PUSH); e(2); e(SHR); e(LT); e(JZ); ref(9);
    e(LOAD); e(K); e(CALL); ref(7); e(LOAD); e(S); e(XOR); e(STORE); e(S);
    e(LOAD); e(K); e(PUSH); e(3); e(MOD); e(PUSH); e(0); e(EQ); e(JZ); ref(8);
    e(LOAD); e(S); e(DUP); e(PUSH); e(1); e(SHL); e(SWAP); e(PUSH); e(63); e(SHR); e(OR);
    e(LOAD); e(K); e(PUSH); e(3); e(DIVM); e(SUB); e(STORE); e(S);
    e(LOAD); e(K); e(LOAD); e(S); e(OVER); e(DROP); e(DROP); e(DROP); e(INC); e(J); e(DEC); e(J);
    mark(8); e(INC); e(K); e(JMP); ref(6);
    mark(7); e(DUP); e(PUSH); e(2654435761L); e(MUL); e(PUSH); e(7); e(SHR); e(PUSH); e(1009); e(MOD);
    e(SWAP); e(DUP); e(PUSH); e(7); e(AND); e(SWAP); e(NOT); e(PUSH); e(255); e(AND); e(OR); e(NEG); e(NEG);
    e(SUB); e(RET);
    mark(9); e(LOAD); e(S); e(HALT);
    for (int f = 0; f < vm_nfix; f++) vm_prog[vm_fix_at[f]] = vm_label[vm_fix_label[f]];
    return vm_prog;
}

// Runs the program with a switch over the opcodes, one indirect jump per bytecode; arr is indexed modulo mask + 1.
// Returns the value left on top of the stack.
static long vm_run(const long *code, long *mem, long *arr, long mask)
{
    long stack[64], *sp = stack;
    long rstack[16], *rp = rstack;
    long pc = 0;
    for (;;) {
        switch (code[pc++]) {
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
        case ALOAD: sp[-1] = arr[sp[-1] & mask]; break;
        case ASTORE: arr[sp[-1] & mask] = sp[-2]; sp -= 2; break;
        case INC: mem[code[pc++]]++; break;
        case DEC: mem[code[pc++]]--; break;
        case CALL: *rp++ = pc + 1; pc = code[pc]; break;
        case RET: pc = *--rp; break;
        case HALT: return sp > stack ? sp[-1] : 0;
        default: fprintf(stderr, "bad opcode %ld at %ld\n", code[pc - 1], pc - 1); exit(2);
        }
    }
}

#endif

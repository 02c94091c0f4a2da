// Two small virtual machines, the shape of an interpreter's hot loop: one dispatches its bytecodes through a
// switch (a jump table: one indirect JMP to dozens of handlers), the other calls a handler through a table of
// function pointers (one indirect CALL to dozens of functions, each returning to the same place). Run long enough
// that translated regions take the dispatch's many targets in; the sums and the VMs' final states must match native.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { PUSH, LOAD, STORE, ADD, SUB, MUL, MOD, AND, OR, XOR, SHL, SHR, NEG, DUP, DROP, SWAP, LT, EQ, JMP, JZ, JNZ,
       ALOAD, ASTORE, INC, HALT };

static long arr[4096];

static long run_switch(const long *code, long *mem)
{
    long stack[64], *sp = stack;
    long pc = 0;
    for (;;) {
        switch (code[pc++]) {
        case PUSH: *sp++ = code[pc++]; break;
        case LOAD: *sp++ = mem[code[pc++]]; break;
        case STORE: mem[code[pc++]] = *--sp; break;
        case ADD: sp[-2] += sp[-1]; sp--; break;
        case SUB: sp[-2] -= sp[-1]; sp--; break;
        case MUL: sp[-2] *= sp[-1]; sp--; break;
        case MOD: sp[-2] = sp[-1] ? sp[-2] % sp[-1] : 0; sp--; break;
        case AND: sp[-2] &= sp[-1]; sp--; break;
        case OR: sp[-2] |= sp[-1]; sp--; break;
        case XOR: sp[-2] ^= sp[-1]; sp--; break;
        case SHL: sp[-2] <<= (sp[-1] & 63); sp--; break;
        case SHR: sp[-2] = (long)((unsigned long)sp[-2] >> (sp[-1] & 63)); sp--; break;
        case NEG: sp[-1] = -sp[-1]; break;
        case DUP: sp[0] = sp[-1]; sp++; break;
        case DROP: sp--; break;
        case SWAP: { long t = sp[-1]; sp[-1] = sp[-2]; sp[-2] = t; break; }
        case LT: sp[-2] = sp[-2] < sp[-1]; sp--; break;
        case EQ: sp[-2] = sp[-2] == sp[-1]; sp--; break;
        case JMP: pc = code[pc]; break;
        case JZ: pc = *--sp ? pc + 1 : code[pc]; break;
        case JNZ: pc = *--sp ? code[pc] : pc + 1; break;
        case ALOAD: sp[-1] = arr[sp[-1] & 4095]; break;
        case ASTORE: arr[sp[-1] & 4095] = sp[-2]; sp -= 2; break;
        case INC: mem[code[pc++]]++; break;
        case HALT: return sp > stack ? sp[-1] : 0;
        default: return -1;
        }
    }
}

// The same machine with a handler function per opcode; the flags each handler's compare leaves differ, so a
// translated return that continues in the wrong place shows in the state.
struct vm { const long *code; long pc; long *sp; long *mem; long stack[64]; int halted; };
typedef void (*handler)(struct vm *);
static void h_push(struct vm *v) { *v->sp++ = v->code[v->pc++]; }
static void h_load(struct vm *v) { *v->sp++ = v->mem[v->code[v->pc++]]; }
static void h_store(struct vm *v) { v->mem[v->code[v->pc++]] = *--v->sp; }
static void h_add(struct vm *v) { v->sp[-2] += v->sp[-1]; v->sp--; }
static void h_sub(struct vm *v) { v->sp[-2] -= v->sp[-1]; v->sp--; }
static void h_mul(struct vm *v) { v->sp[-2] *= v->sp[-1]; v->sp--; }
static void h_mod(struct vm *v) { v->sp[-2] = v->sp[-1] ? v->sp[-2] % v->sp[-1] : 0; v->sp--; }
static void h_and(struct vm *v) { v->sp[-2] &= v->sp[-1]; v->sp--; }
static void h_or(struct vm *v) { v->sp[-2] |= v->sp[-1]; v->sp--; }
static void h_xor(struct vm *v) { v->sp[-2] ^= v->sp[-1]; v->sp--; }
static void h_shl(struct vm *v) { v->sp[-2] <<= (v->sp[-1] & 63); v->sp--; }
static void h_shr(struct vm *v) { v->sp[-2] = (long)((unsigned long)v->sp[-2] >> (v->sp[-1] & 63)); v->sp--; }
static void h_neg(struct vm *v) { v->sp[-1] = -v->sp[-1]; }
static void h_dup(struct vm *v) { v->sp[0] = v->sp[-1]; v->sp++; }
static void h_drop(struct vm *v) { v->sp--; }
static void h_swap(struct vm *v) { long t = v->sp[-1]; v->sp[-1] = v->sp[-2]; v->sp[-2] = t; }
static void h_lt(struct vm *v) { v->sp[-2] = v->sp[-2] < v->sp[-1]; v->sp--; }
static void h_eq(struct vm *v) { v->sp[-2] = v->sp[-2] == v->sp[-1]; v->sp--; }
static void h_jmp(struct vm *v) { v->pc = v->code[v->pc]; }
static void h_jz(struct vm *v) { v->pc = *--v->sp ? v->pc + 1 : v->code[v->pc]; }
static void h_jnz(struct vm *v) { v->pc = *--v->sp ? v->code[v->pc] : v->pc + 1; }
static void h_aload(struct vm *v) { v->sp[-1] = arr[v->sp[-1] & 4095]; }
static void h_astore(struct vm *v) { arr[v->sp[-1] & 4095] = v->sp[-2]; v->sp -= 2; }
static void h_inc(struct vm *v) { v->mem[v->code[v->pc++]]++; }
static void h_halt(struct vm *v) { v->halted = 1; }
static const handler handlers[] = { h_push, h_load, h_store, h_add, h_sub, h_mul, h_mod, h_and, h_or, h_xor, h_shl,
    h_shr, h_neg, h_dup, h_drop, h_swap, h_lt, h_eq, h_jmp, h_jz, h_jnz, h_aload, h_astore, h_inc, h_halt };

static long run_calls(const long *code, long *mem, unsigned long *ops)
{
    static struct vm v;
    memset(&v, 0, sizeof v);
    v.code = code;
    v.mem = mem;
    v.sp = v.stack;
    while (!v.halted) {
        handlers[code[v.pc++]](&v);
        ++*ops;
    }
    return v.sp > v.stack ? v.sp[-1] : 0;
}

static long prog[512];
static int n;
static long label[16];
static int fix_at[64], fix_label[64], nfix;
static void e(long x) { prog[n++] = x; }
static void ref(int l) { fix_at[nfix] = n; fix_label[nfix++] = l; e(0); }
static void mark(int l) { label[l] = n; }

int main(void)
{
    enum { I = 0, J = 1, S = 2, N = 3, K = 4 };
    // A sieve over arr (sum of the primes below N), then a mixing series over k < N / 4.
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
    mark(5); e(PUSH); e(1); e(STORE); e(K);
    mark(6); e(LOAD); e(K); e(LOAD); e(N); e(PUSH); e(2); e(SHR); e(LT); e(JZ); ref(8);
    e(LOAD); e(K); e(DUP); e(PUSH); e(2654435761L); e(MUL); e(PUSH); e(7); e(SHR); e(PUSH); e(1009); e(MOD);
    e(SWAP); e(PUSH); e(5); e(SHL); e(XOR); e(NEG); e(LOAD); e(S); e(XOR); e(STORE); e(S);
    e(LOAD); e(K); e(PUSH); e(3); e(AND); e(PUSH); e(0); e(EQ); e(JZ); ref(7);
    e(LOAD); e(S); e(PUSH); e(1); e(OR); e(STORE); e(S);
    mark(7); e(INC); e(K); e(JMP); ref(6);
    mark(8); e(LOAD); e(S); e(HALT);
    for (int f = 0; f < nfix; f++) prog[fix_at[f]] = label[fix_label[f]];

    unsigned long sum = 0, ops = 0;
    for (int r = 0; r < 6; r++) {
        long mem[8] = {0};
        mem[N] = 3000 + 97 * r;
        long a = run_switch(prog, mem);
        long m1[8] = {0};
        m1[N] = mem[N];
        long b = run_calls(prog, m1, &ops);
        printf("round %d: N=%ld switch %ld calls %ld state %ld %ld %ld\n", r, mem[N], a, b, m1[I], m1[J], m1[K]);
        sum = sum * 1000003 + (unsigned long)a + 7 * (unsigned long)b;
    }
    printf("dispatch_vm: checksum %lu, %lu handler calls\n", sum, ops);
    return 0;
}

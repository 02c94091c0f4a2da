// Two small virtual machines, the shape of an interpreter's hot loop: one dispatches its bytecodes through a
// switch (a jump table: one indirect JMP to dozens of handlers), the other calls a handler through a table of
// function pointers (one indirect CALL to dozens of functions, each returning to the same place). Run long enough
// that translated regions take the dispatch's many targets in; the sums and the VMs' final states must match native.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vm_program.h"

static long arr[4096];

// The same machine with a handler function per opcode; the flags each handler's compare leaves differ, so a
// translated return that continues in the wrong place shows in the state.
struct vm { const long *code; long pc; long *sp; long *rp; long *mem; long stack[64]; long rstack[16]; int halted; };
typedef void (*handler)(struct vm *);
#define BIN(name, expr) static void name(struct vm *v) { v->sp[-2] = (expr); v->sp--; }
static void h_push(struct vm *v) { *v->sp++ = v->code[v->pc++]; }
static void h_load(struct vm *v) { *v->sp++ = v->mem[v->code[v->pc++]]; }
static void h_store(struct vm *v) { v->mem[v->code[v->pc++]] = *--v->sp; }
BIN(h_add, v->sp[-2] + v->sp[-1])
BIN(h_sub, v->sp[-2] - v->sp[-1])
BIN(h_mul, v->sp[-2] * v->sp[-1])
BIN(h_divm, v->sp[-1] ? v->sp[-2] / v->sp[-1] : 0)
BIN(h_mod, v->sp[-1] ? v->sp[-2] % v->sp[-1] : 0)
BIN(h_and, v->sp[-2] & v->sp[-1])
BIN(h_or, v->sp[-2] | v->sp[-1])
BIN(h_xor, v->sp[-2] ^ v->sp[-1])
BIN(h_shl, v->sp[-2] << (v->sp[-1] & 63))
BIN(h_shr, (long)((unsigned long)v->sp[-2] >> (v->sp[-1] & 63)))
BIN(h_lt, v->sp[-2] < v->sp[-1])
BIN(h_eq, v->sp[-2] == v->sp[-1])
static void h_neg(struct vm *v) { v->sp[-1] = -v->sp[-1]; }
static void h_not(struct vm *v) { v->sp[-1] = ~v->sp[-1]; }
static void h_dup(struct vm *v) { v->sp[0] = v->sp[-1]; v->sp++; }
static void h_drop(struct vm *v) { v->sp--; }
static void h_swap(struct vm *v) { long t = v->sp[-1]; v->sp[-1] = v->sp[-2]; v->sp[-2] = t; }
static void h_over(struct vm *v) { v->sp[0] = v->sp[-2]; v->sp++; }
static void h_jmp(struct vm *v) { v->pc = v->code[v->pc]; }
static void h_jz(struct vm *v) { v->pc = *--v->sp ? v->pc + 1 : v->code[v->pc]; }
static void h_jnz(struct vm *v) { v->pc = *--v->sp ? v->code[v->pc] : v->pc + 1; }
static void h_aload(struct vm *v) { v->sp[-1] = arr[v->sp[-1] & 4095]; }
static void h_astore(struct vm *v) { arr[v->sp[-1] & 4095] = v->sp[-2]; v->sp -= 2; }
static void h_inc(struct vm *v) { v->mem[v->code[v->pc++]]++; }
static void h_dec(struct vm *v) { v->mem[v->code[v->pc++]]--; }
static void h_call(struct vm *v) { *v->rp++ = v->pc + 1; v->pc = v->code[v->pc]; }
static void h_ret(struct vm *v) { v->pc = *--v->rp; }
static void h_halt(struct vm *v) { v->halted = 1; }
static const handler handlers[VM_OPCODES] = {
    [PUSH] = h_push, [LOAD] = h_load, [STORE] = h_store, [ADD] = h_add, [SUB] = h_sub, [MUL] = h_mul,
    [DIVM] = h_divm, [MOD] = h_mod, [AND] = h_and, [OR] = h_or, [XOR] = h_xor, [SHL] = h_shl, [SHR] = h_shr,
    [NEG] = h_neg, [NOT] = h_not, [DUP] = h_dup, [DROP] = h_drop, [SWAP] = h_swap, [OVER] = h_over, [LT] = h_lt,
    [EQ] = h_eq, [JMP] = h_jmp, [JZ] = h_jz, [JNZ] = h_jnz, [ALOAD] = h_aload, [ASTORE] = h_astore, [INC] = h_inc,
    [DEC] = h_dec, [CALL] = h_call, [RET] = h_ret, [HALT] = h_halt,
};

static long run_calls(const long *code, long *mem, unsigned long *ops)
{
    static struct vm v;
    memset(&v, 0, sizeof v);
    v.code = code;
    v.mem = mem;
    v.sp = v.stack;
    v.rp = v.rstack;
    while (!v.halted) {
        handlers[code[v.pc++]](&v);
        ++*ops;
    }
    return v.sp > v.stack ? v.sp[-1] : 0;
}

int main(void)
{
    const long *prog = vm_build();
    unsigned long sum = 0, ops = 0;
    for (int r = 0; r < 6; r++) {
        long mem[8] = {0};
        mem[VM_N] = 3000 + 97 * r;
        long a = vm_run(prog, mem, arr, 4095);
        long m1[8] = {0};
        m1[VM_N] = mem[VM_N];
        long b = run_calls(prog, m1, &ops);
        printf("round %d: N=%ld switch %ld calls %ld state %ld %ld %ld\n", r, mem[VM_N], a, b, m1[VM_I], m1[VM_J], m1[VM_K]);
        sum = sum * 1000003 + (unsigned long)a + 7 * (unsigned long)b;
    }
    printf("dispatch_vm: checksum %lu, %lu handler calls\n", sum, ops);
    return 0;
}

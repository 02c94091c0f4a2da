#!/usr/bin/python3
"""Instructions and simulated cache misses per method of the emulator, from valgrind's callgrind: counts that do not
depend on what else the machine is doing, for changes too small to see in timings on a shared machine.

  callgrind-r2r.py run OUT LEGOEMU ARGS...   runs the command under callgrind with this machine's caches modelled
                                             (L1 32 KiB/48 KiB, last level 1 MiB: the L2, whose misses cost most),
                                             writing OUT, OUT.maps (the process's mappings, for the images' bases)
                                             and OUT.perfmap (the runtime's names for stubs and compiled regions)
  callgrind-r2r.py report OUT [EVENT] [R2R]  the methods with most of EVENT (Ir, I1mr, D1mr, DLmr, ...; default
                                             D1mr); R2R is the folder of the build's NAME.ni.r2rmap files (build with
                                             -p:PublishReadyToRunEmitSymbols=true: cluster/obj/Release/net10.0/R2R)

Precompiled (ReadyToRun) code has no symbols valgrind can read: an address is named through its image's base (the
first mapping of the .dll) and the image's map. The runtime's JIT-compiled code and stubs are named from its perf map
(DOTNET_PerfMapEnabled=1). The guest thread's and the translator's costs are counted together. About 60 s for
python3 -c pass. TOP=N limits the lines.
"""
import bisect, collections, importlib.util, os, re, shutil, subprocess, sys, time

# The method maps are read as perf-r2r.py reads them.
_spec = importlib.util.spec_from_file_location('perf_r2r', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'perf-r2r.py'))
_perf_r2r = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_perf_r2r)
read_map = _perf_r2r.read_map


def run(out, argv):
    env = dict(os.environ, DOTNET_PerfMapEnabled='1')
    cmd = ['valgrind', '--tool=callgrind', '--dump-instr=yes', '--cache-sim=yes', '--I1=32768,8,64', '--D1=49152,12,64',
           '--LL=1048576,16,64', f'--callgrind-out-file={out}'] + argv
    with open(out + '.log', 'w') as log:
        p = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
        # The client runs inside valgrind's process: its mappings are valgrind's. Keep the last look that has our images.
        while p.poll() is None:
            try:
                maps = open(f'/proc/{p.pid}/maps').read()
                if 'LegoEmu.Cpu.dll' in maps:
                    open(out + '.maps', 'w').write(maps)
            except OSError:
                pass
            time.sleep(2)
    if os.path.exists(f'/tmp/perf-{p.pid}.map'):
        shutil.copy(f'/tmp/perf-{p.pid}.map', out + '.perfmap')
    print(open(out + '.log').read().splitlines()[-1])


def position(text, last):
    if text.startswith('0x'):
        return int(text, 16)
    if text[0] in '+-':
        return last + int(text, 0) if text[0] == '+' else last - int(text[1:], 0)
    return last if text == '*' else int(text)


def self_costs(out, event):
    """Self cost of EVENT per (object, address): a call's line, which carries the callee's inclusive cost, is skipped."""
    events, obs, ob, last, call = None, {}, None, 0, False
    costs = collections.defaultdict(collections.Counter)
    for line in open(out):
        if line.startswith('events:'):
            events = line.split()[1:]
        elif m := re.match(r'(c?)ob=\((\d+)\)(?: (.*))?', line):
            if m.group(3):
                obs[m.group(2)] = m.group(3).strip()
            if not m.group(1):
                ob = obs.get(m.group(2))
        elif line.startswith('calls='):
            call = True
        elif line[:1] and line[0] in '0123456789+-*':
            fields = line.split()
            last = position(fields[0], last)
            if call:
                call = False
                continue
            values = dict(zip(events, map(int, fields[2:])))
            costs[ob][last] += values.get(event, 0)
    return costs


def report(out, event, r2r):
    jit = sorted((int(a, 16), int(n, 16), name.strip()) for a, n, name in (l.split(' ', 2) for l in open(out + '.perfmap')))
    jit_starts = [j[0] for j in jit]
    bases = {}
    for line in open(out + '.maps'):
        f = line.split()
        # The image proper is a private mapping; the runtime also maps the whole file shared to read its metadata.
        if len(f) >= 6 and f[5].endswith('.dll') and f[1].endswith('p') and f[2] == '00000000':
            bases.setdefault(os.path.basename(f[5])[:-4], int(f[0].split('-')[0], 16))
    images = []
    for name, base in bases.items():
        path = os.path.join(r2r, name + '.ni.r2rmap')
        if not os.path.exists(path):
            continue
        methods = read_map(path)
        images.append((base, name, methods, [m[0] for m in methods]))
    totals = collections.Counter()
    for ob, by_address in self_costs(out, event).items():
        if ob and not ob.startswith('???'):
            totals[os.path.basename(ob)] += sum(by_address.values())
            continue
        for address, cost in by_address.items():
            i = bisect.bisect_right(jit_starts, address) - 1
            if i >= 0 and address < jit[i][0] + jit[i][1]:
                totals[jit[i][2][:100]] += cost
                continue
            for base, name, methods, starts in images:
                k = bisect.bisect_right(starts, address - base) - 1
                if k >= 0 and address - base < methods[k][0] + methods[k][1]:
                    totals[f'{name} {methods[k][2]}'] += cost
                    break
            else:
                totals['(unnamed)'] += cost
    total = sum(totals.values())
    print(f'{event}: {total:,} in all')
    for name, cost in totals.most_common(int(os.environ.get('TOP', '40'))):
        print(f'{cost:14,} {100 * cost / max(total, 1):5.1f}%  {name}')


if __name__ == '__main__':
    if len(sys.argv) > 3 and sys.argv[1] == 'run':
        run(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) > 2 and sys.argv[1] == 'report':
        report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else 'D1mr',
               sys.argv[4] if len(sys.argv) > 4 else 'cluster/obj/Release/net10.0/R2R')
    else:
        print(__doc__)
        sys.exit(2)

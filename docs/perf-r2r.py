#!/usr/bin/python3
"""Names the emulator's precompiled (ReadyToRun) methods in a `perf record -g` profile.

perf names JIT-compiled code through the runtime's perf map (DOTNET_PerfMapEnabled=1), but ReadyToRun code lives in
the mapped .dll files, which have no symbols perf can read: it shows file offsets. Built with
`dotnet build LegoEmu.sln -c Release -p:PublishReadyToRunEmitSymbols=true`, crossgen2 leaves a `NAME.ni.r2rmap` per
assembly in cluster/obj/Release/net10.0/R2R (method RVA, size, signature); this script turns each frame's file offset
into an RVA with the image's section table and names it.

usage: perf-r2r.py PERF.DATA [MODE] [DEPTH]
  MODE  incl (default)   samples per method, inclusive (a method counted once per sample)
        self             samples per leaf method
        callees:TEXT     what the first frame containing TEXT spends its samples in (DEPTH frames below it)
        callers:TEXT     who calls the first frame containing TEXT (DEPTH emulator frames above it)
Only threads named "legoemu" (the guest's threads and the warm-up thread) are counted, or those whose name starts with
COMM=TEXT (COMM=memnode: a memory node's connection threads); TOP=N limits the lines.
"""
import bisect, collections, os, re, struct, subprocess, sys

_images = {}
_comm = os.environ.get('COMM')


def read_map(path):
    """A method map's methods, sorted: (RVA, size in bytes, Type::Method)."""
    methods = []
    for line in open(path):
        rva, size, signature = line.rstrip('\n').split(' ', 2)
        if int(rva, 16) < 0xF0000000:  # the map's header lines use the top of the range
            m = re.search(r'([\w.`\[\],<>]+::[^(]+)\(', signature)
            methods.append((int(rva, 16), int(size, 16), m.group(1) if m else signature))
    methods.sort()
    return methods


def image(path):
    """Section table and sorted method map of one ReadyToRun image, or None without a map."""
    if path not in _images:
        # cluster/bin/Release/net10.0/NAME.dll has its map in cluster/obj/Release/net10.0/R2R.
        name, out = os.path.basename(path)[:-4], os.path.dirname(path)
        mp = os.path.join(out, '..', '..', '..', 'obj', 'Release', os.path.basename(out), 'R2R', name + '.ni.r2rmap')
        dll = path
        if not (os.path.exists(mp) and os.path.exists(dll)):
            _images[path] = None
            return None
        data = open(dll, 'rb').read()
        pe = struct.unpack_from('<I', data, 0x3c)[0]
        count, optional = struct.unpack_from('<H', data, pe + 6)[0], struct.unpack_from('<H', data, pe + 20)[0]
        sections = [struct.unpack_from('<8sIIII', data, pe + 24 + optional + 40 * i) for i in range(count)]
        methods = [(rva, method) for rva, _, method in read_map(mp)]
        _images[path] = (sections, methods, [m[0] for m in methods], name)
    return _images[path]


def frame_name(symbol, dso, address):
    if symbol and symbol != '[unknown]':
        return symbol
    if dso.endswith('.dll') and (img := image(dso)):
        sections, methods, starts, name = img
        for _, _, va, raw_size, raw_offset in sections:
            if raw_offset <= address < raw_offset + raw_size:
                i = bisect.bisect_right(starts, address - raw_offset + va) - 1
                if i >= 0:
                    return f'{name} {methods[i][1]}'
    return os.path.basename(dso)


def samples(data):
    """Each sample of a legoemu thread as its frames' names, leaf first."""
    out = subprocess.run(['perf', 'script', '-i', data, '-F', 'comm,tid,ip,sym,dso'], capture_output=True, text=True).stdout
    frames = None
    for line in out.splitlines():
        if line and not line[0].isspace():
            if frames:
                yield frames
            comm = line.split()[0]
            frames = [] if (comm.startswith(_comm) if _comm else comm == 'legoemu') else None
            continue
        m = re.match(r'\s+([0-9a-f]+) (.*) \((.*)\)$', line)
        if frames is not None and m:
            frames.append(frame_name(m.group(2), m.group(3), int(m.group(1), 16)))
    if frames:
        yield frames


def main():
    data = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else 'incl'
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    counts, total = collections.Counter(), 0
    for frames in samples(data):
        total += 1
        if mode == 'incl':
            for name in set(frames):
                counts[name] += 1
        elif mode == 'self':
            counts[frames[0]] += 1
        else:
            kind, text = mode.split(':', 1)
            j = next((k for k, name in enumerate(frames) if text in name), None)
            if j is None:
                continue
            if kind == 'callees':
                counts[' <- '.join(reversed(frames[max(0, j - depth):j])) or '(self)'] += 1
            else:
                ours = [f for f in frames[j + 1:] if f.startswith(('LegoEmu', 'legoemu ', 'Iced'))]
                counts[' <- '.join(ours[:depth])] += 1
    for name, n in counts.most_common(int(os.environ.get('TOP', '60'))):
        print(f'{n:7d} {name[:200]}')
    print(f'{total} samples')


if __name__ == '__main__':
    main()

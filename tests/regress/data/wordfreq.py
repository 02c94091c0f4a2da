import collections, sys

counts = collections.Counter()
with open(sys.argv[1]) as f:
    for line in f:
        counts.update(line.split()[1:])
for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
    print(f"{word:10} {n}")

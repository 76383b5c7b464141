#!/usr/bin/env python3
"""Prints the markdown table of seconds per epoch for bench_epoch.sh and bench_cuda.sh.
Usage: epoch_table.py RESULTS.tsv OURS [FLOOR.tsv [FLOOR_LABEL]]
RESULTS.tsv: "name<TAB>epoch<TAB>seconds<TAB>samples_per_second" lines; OURS: the name whose median
the speed-ups divide by; FLOOR.tsv: lines whose third field is the floor's seconds per step
(bench_train_step's matmul floor, bench_conv's CNN step floor); FLOOR_LABEL: what the floor is."""
import collections
import math
import statistics
import sys

rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, epoch, seconds, rate = line.split("\t")
    rows[name].append((float(seconds), float(rate)))
ours = statistics.median(s for s, _ in rows[sys.argv[2]])
print("| framework | seconds per epoch (median) | samples/s | tinynn speed-up |")
print("|---|---|---|---|")
for name, values in rows.items():
    sec = statistics.median(s for s, _ in values)
    rate = statistics.median(r for _, r in values)
    print(f"| {name.replace('_epoch', '')} | {sec:.3f} | {rate:.0f} | {sec / ours:.1f}x |")
if len(sys.argv) > 3:
    steps = math.ceil(54000 / 128)  # the training split of 60,000 with validation_split 0.1, batch 128
    floor = statistics.median(float(line.split("\t")[2]) for line in open(sys.argv[3])) * steps
    label = sys.argv[4] if len(sys.argv) > 4 else "the epoch's matmuls ({steps} steps x 8) called directly"
    print(f"| oneDNN floor: {label.format(steps=steps)} | {floor:.3f} | | |")
    print(f"\ntinynn epoch / floor: {ours / floor:.2f}")

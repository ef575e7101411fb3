#!/usr/bin/env python3
"""Summarises the runs ratios.sh appended to WORK_DIR/ratios.tsv between two times (UTC), per store,
meter, binary and command: the median and quartiles on the copy and on the history, the ratio of the
medians with a bootstrap 90 % interval (resampling each side's runs), and the median of the paired
ratios (each history run over the copy run next to it, which takes the load of that moment out).
Wall time by default (the CPU/instruction column with --cost). Runs on demand, never in CI.

    Benchmarks/longhaul/ratios-summary.py WORK_DIR [--since 2026-12-07T10:00:00Z] [--until ...] [--cost]
"""
import argparse
import collections
import random
import statistics
import sys

LABELS = ["wal-push", "wal-fetch", "snapshots --name", "restore latest --name", "backup (unchanged)", "pg status"]


def quartiles(xs):
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return q[0], q[2]


def bootstrap(grown, base, rounds=2000):
    rng = random.Random(16)
    ratios = sorted(statistics.median(rng.choices(grown, k=len(grown))) /
                    statistics.median(rng.choices(base, k=len(base))) for _ in range(rounds))
    return ratios[int(0.05 * rounds)], ratios[int(0.95 * rounds) - 1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("work")
    ap.add_argument("--since", default="")
    ap.add_argument("--until", default="9999")
    ap.add_argument("--cost", action="store_true", help="the cost column (ms CPU or instructions), not wall")
    a = ap.parse_args()
    column = 6 if a.cost else 7
    runs = collections.defaultdict(list)  # (store, meter, bin, cmd) -> [(which, value)] in order
    span = [None, None]
    for line in open(f"{a.work}/ratios.tsv"):
        f = line.rstrip("\n").split("\t")
        if len(f) < 8 or not (a.since <= f[0] <= a.until):
            continue
        span = [span[0] or f[0], f[0]]
        runs[(f[1], f[2], f[3], int(f[4]))].append((f[5], float(f[column])))
    if not runs:
        print("no runs in that span", file=sys.stderr)
        return 1
    print(f"runs {span[0]} .. {span[1]} ({'cost' if a.cost else 'wall s'})")
    for key in sorted(runs, key=lambda k: (k[0], k[1], k[2], k[3])):
        store, meter, binary, cmd = key
        seq = runs[key]
        grown = [v for w, v in seq if w == "grown"]
        base = [v for w, v in seq if w == "base"]
        if not grown or not base:
            continue
        # Pairs: ratios.sh measures the two sides back to back, so consecutive entries form a pair.
        paired = [(x[1] / y[1]) if x[0] == "grown" else (y[1] / x[1])
                  for x, y in zip(seq[0::2], seq[1::2]) if {x[0], y[0]} == {"grown", "base"}]
        gm, bm = statistics.median(grown), statistics.median(base)
        lo, hi = bootstrap(grown, base)
        gq, bq = quartiles(grown), quartiles(base)
        flag = "  OVER 1.3" if gm / bm > 1.3 else ""
        print(f"{store:5} {binary.rsplit('/', 1)[-1]:16} {LABELS[cmd]:22} n={len(base):2}/{len(grown):2} "
              f"copy {bm:.3f} [{bq[0]:.3f}-{bq[1]:.3f}]  history {gm:.3f} [{gq[0]:.3f}-{gq[1]:.3f}]  "
              f"ratio {gm / bm:.2f} (90% {lo:.2f}-{hi:.2f}), paired {statistics.median(paired):.2f}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Writes fastcdc.json: FastCDC cut lengths computed by pyfastcdc 0.3.1 for
generated inputs, which FastCDCVectorTests regenerates and compares exactly.

Inputs are not stored. Each is named by (kind, seed, size) and is the first
`size` bytes of an endless stream (`GeneratedInput` in SplitMix64.swift):

  splitmix64(state):  state += 0x9E3779B97F4A7C15 (mod 2^64); z = state
                      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
                      z = (z ^ (z >> 27)) * 0x94D049BB133111EB
                      return z ^ (z >> 31)          (all mod 2^64)
  random:    the generator's outputs, each as 8 little-endian bytes
  text:      repeat { WORDS[next() % 16], then b"\\n" if next() % 8 == 0 else b" " }
  zeros:     zero bytes
  repeated:  block = the first 3000 `random` bytes; block, block, block, ...

pyfastcdc's Cython build raises OverflowError for seeds >= 2^63, so those use
its pure-Python implementation (same algorithm, masked to 64 bits).

Run:  python3 make_fastcdc_vectors.py   (writes fastcdc.json next to itself)
"""
import json
import math
import os
import struct

import pyfastcdc
import pyfastcdc.py as pure
from pyfastcdc import FastCDC

M64 = (1 << 64) - 1
WORDS = [b"the", b"backup", b"chunk", b"of", b"a", b"database", b"dump", b"INSERT", b"INTO",
         b"VALUES", b"(1,", b"'cairn',", b"NULL);", b"--", b"snapshot", b"repository"]


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def bytes(self, n):
        words = (n + 7) // 8
        return struct.pack("<%dQ" % words, *(self.next() for _ in range(words)))[:n]


_cache = {}


def generate(kind, seed, size):
    """The first `size` bytes of the stream (kind, seed); longest prefix cached."""
    key = (kind, seed)
    have = _cache.get(key)
    if have is not None and len(have) >= size:
        return have[:size]
    rng = SplitMix64(seed)
    if kind == "random":
        out = rng.bytes(size)
    elif kind == "zeros":
        out = bytes(size)
    elif kind == "repeated":
        block = rng.bytes(3000)
        out = (block * (size // 3000 + 1))[:size]
    elif kind == "text":
        parts, n = [], 0
        while n < size:
            w = WORDS[rng.next() % len(WORDS)]
            sep = b"\n" if rng.next() % 8 == 0 else b" "
            parts += [w, sep]
            n += len(w) + 1
        out = b"".join(parts)[:size]
    else:
        raise ValueError(kind)
    _cache[key] = out
    return out


def cut_lengths(avg, mn, mx, nc, seed, buf):
    impl = FastCDC if seed < (1 << 63) else pure.FastCDC
    chunker = impl(avg, min_size=mn, max_size=mx, normalized_chunking=nc, seed=seed)
    return [c.length for c in chunker.cut_buf(buf)]


SEEDS = [0, 0x0123456789ABCDEF, 0xDEADBEEFCAFEBABE]
MIB = 1 << 20


def case(avg, mn, mx, nc, seed, inputs):
    out = []
    for kind, in_seed, size in inputs:
        buf = generate(kind, in_seed, size)
        cuts = cut_lengths(avg, mn, mx, nc, seed, buf)
        assert sum(cuts) == size
        out.append({"kind": kind, "seed": "0x%016x" % in_seed, "size": size, "cuts": cuts})
    return {"avg": avg, "min": mn, "max": mx, "nc": nc, "seed": "0x%016x" % seed, "inputs": out}


def edge_sizes(mn, mx):
    return [0, 1, mn - 1, mn, mx, mx + 1]


def main():
    cases = []
    # Default min/max (avg/4, avg*4) for every size class, level and seed. The
    # long input holds about 256 average chunks, between 256 KiB and 12 MiB
    # (plus an odd tail), so the file stays small.
    for avg in [256, 1024, 4096, 16384, 65536, 262144, MIB]:
        mn, mx = avg // 4, avg * 4
        long_size = min(max(256 * avg, 256 << 10), 12 * MIB) + 4321
        for nc in range(4):
            for seed in SEEDS:
                inputs = [("random", avg, s) for s in edge_sizes(mn, mx)] + [("random", avg + 1, long_size)]
                cases.append(case(avg, mn, mx, nc, seed, inputs))
    # Custom sizes: bounds of the allowed ranges, min = avg = max, odd sizes,
    # averages either side of a rounding boundary of log2 (2^12.5 = 5792.6).
    custom = [
        (256, 64, 1024, [0, 3]),
        (4096, 64, 1 << 16, [1, 2]),
        (4096, 4096, 4096, [0, 1]),
        (3000, 1001, 9999, [1, 3]),
        (5792, 2048, 16384, [1]),
        (5793, 2048, 16384, [1]),
        (8192, 256, 16 * MIB, [1, 2]),
        (4 * MIB, 1 * MIB, 16 * MIB, [1, 3]),
    ]
    for avg, mn, mx, levels in custom:
        long_size = 3 * MIB + 777 if mx < 16 * MIB else 20 * MIB + 3
        for nc in levels:
            for seed in [0, 0x0123456789ABCDEF]:
                inputs = [("random", 7, s) for s in edge_sizes(mn, mx)] + [("random", 8, long_size)]
                cases.append(case(avg, mn, mx, nc, seed, inputs))
    # An odd minimum: the scan starts at min rounded down to even, so a chunk
    # may be min - 1 bytes. This seed cancels the masked bits of the zero
    # byte's shifted gear entry, so zeros cut at the very first position.
    from pyfastcdc.py.constants import GEAR_LS, MASKS
    crafted_seed = (GEAR_LS[0] & (MASKS[8] << 1)) >> 1
    cases.append(case(256, 65, 1024, 0, crafted_seed, [("zeros", 0, 1000), ("random", 9, 4000)]))
    # Low-entropy and text-like inputs.
    for avg in [1024, 16384, 65536]:
        for nc in [1, 2]:
            for seed in [0, 0xDEADBEEFCAFEBABE]:
                inputs = [("text", 11, MIB + 5), ("zeros", 0, MIB + 5), ("repeated", 12, MIB + 5)]
                cases.append(case(avg, avg // 4, avg * 4, nc, seed, inputs))

    # Python's rounding of log2, around every boundary 2^(k + 1/2).
    log2 = []
    for k in range(0, 37):
        edge = math.isqrt(2 << (2 * k))  # floor(sqrt(2) * 2^k)
        for v in {max(1, edge - 1), edge, edge + 1, 1 << k}:
            log2.append([v, math.floor(math.log2(v) + 0.5)])
    log2.sort()

    prefixes = {kind: generate(kind, 1, 16).hex() for kind in ["random", "text", "zeros", "repeated"]}
    doc = {
        "generator": "make_fastcdc_vectors.py",
        "pyfastcdc": pyfastcdc.__version__,
        "note": "cuts are chunk lengths in order; inputs are regenerated from kind, seed and size",
        "prefixes_seed_1": prefixes,
        "log2_rounded": log2,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fastcdc.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    total = sum(len(i["cuts"]) for c in cases for i in c["inputs"])
    print("%s: %d cases, %d cuts, %d bytes" % (path, len(cases), total, os.path.getsize(path)))


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# The 10 GB source repository of issue 16.5's local measurements (session 9): 4,000 small random
# files and 38 x 256 MiB of random data (nothing dedups or compresses), backed up into WORK/repo
# (CAIRN_PASSWORD=bench, cache WORK/cache) by CAIRN; the input is removed afterwards. Needs ~20 GB
# free while it runs, 10.3 GB after. Then: Benchmarks/copy/alternate.sh WORK ROUNDS BINARY...
#
#   Benchmarks/copy/make-source.sh WORK CAIRN
set -euo pipefail
work=$1; cairn=$2
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-bench}" CAIRN_CACHE_DIR="$work/cache"
mkdir -p "$work/src/small"
python3 - "$work/src" <<'PY'
import os, sys, random
rnd = random.Random(1)
for i in range(4000):
    with open(f"{sys.argv[1]}/small/s{i:05d}", "wb") as f: f.write(os.urandom(rnd.randint(1024, 16384)))
PY
for i in $(seq -w 0 37); do head -c 256M /dev/urandom > "$work/src/r$i.bin"; done
"$cairn" init --repo "$work/repo" >/dev/null
"$cairn" backup --repo "$work/repo" "$work/src"
rm -rf "$work/src"
echo "$(du -sb "$work/repo" | cut -f1) bytes in $(find "$work/repo/data" -type f | wc -l) packs"

#!/usr/bin/env bash
# Scrub throughput: `cairn scrub --read-data` against `restic check --read-data`
# on the same ~1 GB of data (half random, half SQL-like text), on this machine.
# Usage: Benchmarks/scrub/run.sh [SIZE_MB] (default 1024). Needs a release build
# of cairn (built here) and, for the comparison, restic (apt-get install restic).
set -euo pipefail
size_mb=${1:-1024}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/cairn-scrub-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --static-swift-stdlib --product cairn >/dev/null)
cairn="$root/.build/release/cairn"

python3 - "$work/data" "$size_mb" <<'PY'
import os, random, sys
path, mb = sys.argv[1], int(sys.argv[2])
random.seed(7)
with open(path, "wb") as f:
    half = mb * 1024 * 1024 // 2
    f.write(os.urandom(half))
    line = 0
    written = 0
    while written < half:
        chunk = "".join(f"{line+i}\tuser{random.randint(1, 10**6)}\t{random.random():.6f}\t2026-11-{random.randint(1, 28):02d}\n" for i in range(10000)).encode()
        f.write(chunk); written += len(chunk); line += 10000
PY
echo "data: $(du -h "$work/data" | cut -f1), cores: $(nproc)"

export CAIRN_REPO="$work/cairn" CAIRN_PASSWORD=bench CAIRN_CACHE_DIR="$work/cache"
"$cairn" init >/dev/null
"$cairn" backup --stdin --name bench < "$work/data" >/dev/null
start=$(date +%s.%N)
/usr/bin/time -f "cairn peak RSS %M KB, CPU %U user %S sys" "$cairn" scrub --read-data
end=$(date +%s.%N)
cairn_s=$(echo "$end - $start" | bc)
stored=$(du -sm "$CAIRN_REPO" | cut -f1)
echo "cairn scrub --read-data: ${cairn_s} s for ${stored} MB stored ($(echo "scale=1; $size_mb / $cairn_s" | bc) MB/s of data)"

if command -v restic >/dev/null; then
  export RESTIC_REPOSITORY="$work/restic" RESTIC_PASSWORD=bench
  restic init -q
  restic backup -q --stdin --stdin-filename data < "$work/data"
  start=$(date +%s.%N)
  /usr/bin/time -f "restic peak RSS %M KB, CPU %U user %S sys" restic check -q --read-data --no-cache
  end=$(date +%s.%N)
  restic_s=$(echo "$end - $start" | bc)
  echo "restic check --read-data: ${restic_s} s ($(echo "scale=1; $size_mb / $restic_s" | bc) MB/s of data)"
  echo "cairn is $(echo "scale=2; $restic_s / $cairn_s" | bc)x restic"
else
  echo "restic is not installed: Cairn's figures only (apt-get install restic to compare)"
fi

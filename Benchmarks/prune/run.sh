#!/usr/bin/env bash
# Prune of a repository with 100 snapshots and ~1 million blobs: time and peak RSS of
# `cairn forget --keep-last 50 --prune` (mark 50 snapshots, delete the blobs of the other
# 50), beside restic's forget + prune of the same data where restic is installed.
#
# Blobs come from small files: each snapshot backs up its own directory of FILES new
# ~1 KB files (one blob each, smaller than the minimum chunk), so 100 x 10000 files give
# 1 M data blobs plus trees. Run on demand only (never in CI); needs ~5 GB in /tmp.
#
# Usage: Benchmarks/prune/run.sh [SNAPSHOTS] [FILES]   (defaults 100 10000)
#        CAIRN=/path/to/cairn to skip the release build.
set -euo pipefail
snaps=${1:-100}
files=${2:-10000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/cairn-prune-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ -z "${CAIRN:-}" ]; then
  (cd "$root" && swift build -c release --static-swift-stdlib --product cairn >/dev/null)
  CAIRN="$root/.build/release/cairn"
fi

echo "generating $snaps x $files files of ~1 KB..."
python3 - "$work/data" "$snaps" "$files" <<'PY'
import os, sys
base, snaps, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for s in range(snaps):
    d = os.path.join(base, "s%03d" % s)
    for sub in range(0, files, 1000):
        sd = os.path.join(d, "d%03d" % (sub // 1000))
        os.makedirs(sd)
        for i in range(sub, min(sub + 1000, files)):
            with open(os.path.join(sd, "f%05d" % i), "wb") as f:
                f.write(os.urandom(900 + (i * 37) % 250))
PY
echo "data: $(du -sh "$work/data" | cut -f1), cores: $(nproc)"

export CAIRN_REPO="$work/cairn" CAIRN_PASSWORD=bench CAIRN_CACHE_DIR="$work/cache"
"$CAIRN" init >/dev/null
start=$(date +%s.%N)
for s in $(seq -f "%03g" 0 $((snaps - 1))); do
  "$CAIRN" backup --name bench "$work/data/s$s" >/dev/null
done
echo "cairn: $snaps backups in $(echo "$(date +%s.%N) - $start" | bc) s; $("$CAIRN" stats | grep -E 'chunks|stored')"
"$CAIRN" stats --json > "$work/stats.json"
start=$(date +%s.%N)
/usr/bin/time -f "cairn forget+prune: peak RSS %M KB, CPU %U s user %S s sys" \
  "$CAIRN" forget --keep-last $((snaps / 2)) --prune > "$work/prune.out"
end=$(date +%s.%N)
grep -E "freed|delete|repack" "$work/prune.out"
echo "cairn forget --keep-last $((snaps / 2)) --prune: $(echo "$end - $start" | bc) s"

if command -v restic >/dev/null; then
  export RESTIC_REPOSITORY="$work/restic" RESTIC_PASSWORD=bench RESTIC_CACHE_DIR="$work/restic-cache"
  restic init -q
  start=$(date +%s.%N)
  for s in $(seq -f "%03g" 0 $((snaps - 1))); do restic backup -q --host bench "$work/data/s$s" >/dev/null; done
  echo "restic: $snaps backups in $(echo "$(date +%s.%N) - $start" | bc) s"
  start=$(date +%s.%N)
  /usr/bin/time -f "restic forget+prune: peak RSS %M KB, CPU %U s user %S s sys" \
    restic forget -q --group-by host --keep-last $((snaps / 2)) --prune >/dev/null
  end=$(date +%s.%N)
  echo "restic forget --keep-last $((snaps / 2)) --prune: $(echo "$end - $start" | bc) s"
else
  echo "restic is not installed: Cairn's figures only (apt-get install restic to compare)"
fi

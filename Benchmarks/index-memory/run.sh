#!/usr/bin/env bash
# Memory per blob of the commands that must see the whole index (issue 16.3: at most 2 GB, or
# 20 B per blob, at 100 million blobs): a synthetic repository whose index names BLOBS data
# blobs (no data: sparse packs with real sealed headers, made by synth-repo), then, each
# under /usr/bin/time with a cache that starts empty (a new machine):
#   cairn snapshots            loads the whole index into the cache
#   cairn scrub                every pack's size and header against the index (no --read-data)
#   cairn index rebuild        the cache again, from the index objects
#   cairn copy latest --name real --to DEST   a copy out of that repository
#   cairn prune --max-repack 0 marks, deletes the half no snapshot uses, rewrites the index
# and prints each one's peak RSS, RSS per blob, wall time and CPU.
# Run on demand only (never in CI). Disk: about 200 B per blob (index objects, pack headers,
# the cache, the scratch file): 20 GB at 100 M blobs.
#
# Usage: Benchmarks/index-memory/run.sh [BLOBS] [BLOBS_PER_PACK]   (defaults 100000000 1000)
#        CAIRN=/path/to/cairn, SYNTH=/path/to/synth-repo to skip the builds; CONFIG=debug to build
#        those instead of release builds; WORK=/dir to put the repository there.
set -euo pipefail
blobs=${1:-100000000}
per_pack=${2:-1000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ -n "${WORK:-}" ]; then
  work=$WORK   # kept afterwards; a repository already generated there is measured again as it is
else
  work=$(mktemp -d /tmp/cairn-index-memory.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"
config=${CONFIG:-release}   # CONFIG=debug: the figures are memory, which a debug build holds alike
if [ -z "${CAIRN:-}" ]; then
  (cd "$root" && swift build -c "$config" --product cairn >/dev/null)
  CAIRN="$root/.build/$config/cairn"
fi
if [ -z "${SYNTH:-}" ]; then
  (cd "$here" && swift build -c "$config" --product synth-repo >/dev/null)
  SYNTH="$here/.build/$config/synth-repo"
fi

export CAIRN_PASSWORD=bench CAIRN_REPO="$work/repo"
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -e "$work/repo/config" ]; then
  CAIRN_CACHE_DIR="$work/generator-cache" /usr/bin/time -f "generate: %e s, peak RSS %M KB" "$SYNTH" "$work/repo" "$blobs" "$per_pack"
  rm -rf "$work/generator-cache"
fi
echo "on disk: $(du -sh "$work/repo" | cut -f1) (packs are sparse: $(du -sh --apparent-size "$work/repo/data" | cut -f1) apparent)"

rm -rf "$work/cache" "$work/copy" "$work"/*.out
export CAIRN_CACHE_DIR="$work/cache"
measure() {
  local label=$1; shift
  local out="$work/time.$$"
  if ! /usr/bin/time -o "$out" -f "%e %U %S %M" "$@" > "$work/$label.out" 2>&1; then
    echo "$label: failed:"; tail -5 "$work/$label.out"; cat "$out"; return 1
  fi
  read -r wall user sys rss < <(tail -1 "$out")
  awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v b="$blobs" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
    'BEGIN { printf "%-18s peak RSS %8.1f MB  %6.2f B/blob  wall %7.1f s  CPU %6.1f + %5.1f s  load %s\n", l, r / 1024, r * 1024 / b, w, u, s, load }'
}
measure "snapshots (cold)" "$CAIRN" snapshots
measure "scrub" "$CAIRN" scrub
measure "index rebuild" "$CAIRN" index rebuild
"$CAIRN" init --repo "$work/copy" >/dev/null
measure "copy" "$CAIRN" copy latest --name real --to "$work/copy"
measure "prune" "$CAIRN" prune --max-repack 0
grep -iE "pack|delet|index" "$work/prune.out" | sed 's/^/  prune: /' || true

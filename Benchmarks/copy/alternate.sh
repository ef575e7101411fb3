#!/usr/bin/env bash
# `cairn copy` into a repository sharing the source's keys (whole packs), alternating with `cp -r` +
# `sync`, on an existing repository (issue 16.5; `run.sh` makes its repository anew each time and
# runs each copy once). Each round: `cp -r` + `sync`, then one copy with each binary given, each into
# a new `init --copy-keys-from` replica. Before every run, alike for all: `sync`, then the source read
# into the page cache (warm, the default) or, with DROP_CACHES=1, every cache dropped (cold: the
# source is read from disk; needs root, and slows every other program on the machine). Prints wall
# time, CPU (user+system), peak RSS and the load; compare medians within one run.
#
#   [DROP_CACHES=1] Benchmarks/copy/alternate.sh WORK ROUNDS CAIRN_BINARY...   (WORK/repo is the source; CAIRN_PASSWORD=bench)
set -euo pipefail
work=$1; rounds=$2; shift 2
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-bench}" CAIRN_CACHE_DIR="$work/cache"
prepare() {
  sync
  if [ "${DROP_CACHES:-0}" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; else cat "$work"/repo/data/*/* > /dev/null; fi
}
timed() {  # label, command...: wall time, CPU, peak RSS, load
  local label=$1 s e; shift
  s=$(date +%s.%N)
  /usr/bin/time -f "%U+%S s CPU, %M KB peak RSS" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  e=$(date +%s.%N)
  echo "$(date -u +%H:%M:%S) round $r $label $(python3 -c "print(f'{$e-$s:.2f}')") s  $(cat "$work/time")  load $(cut -d' ' -f1 /proc/loadavg)  $(grep -o '[0-9]* packs copied whole' "$work/out" || true)"
}
for r in $(seq "$rounds"); do
  rm -rf "$work/cp"; prepare
  timed "cp -r + sync" sh -c "cp -r '$work/repo' '$work/cp' && sync"
  rm -rf "$work/cp"; sync
  for b in "$@"; do
    rm -rf "$work/keys"; "$b" init --repo "$work/keys" --copy-keys-from "$work/repo" >/dev/null; prepare
    timed "$b" "$b" copy --repo "$work/repo" --to "$work/keys"
  done
done
rm -rf "$work/keys" "$work/cp"

#!/usr/bin/env bash
# `cairn copy` into a repository sharing the source's keys (whole packs), alternating with `cp -r` +
# `sync`, on an existing repository (issue 16.5; `run.sh` makes its repository anew each time and
# runs each copy once). Each round: `cp -r` + `sync`, then one copy with each binary given, each into
# a new `init --copy-keys-from` replica, the source read into the page cache and `sync` before every
# run. Prints wall time, CPU, peak RSS and the load; compare medians within one run.
#
#   Benchmarks/copy/alternate.sh WORK ROUNDS CAIRN_BINARY...   (WORK/repo is the source; CAIRN_PASSWORD=bench)
set -euo pipefail
work=$1; rounds=$2; shift 2
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-bench}" CAIRN_CACHE_DIR="$work/cache"
warm() { cat "$work"/repo/data/*/* > /dev/null; sync; }
for r in $(seq "$rounds"); do
  rm -rf "$work/cp"; warm
  s=$(date +%s.%N); cp -r "$work/repo" "$work/cp" && sync; e=$(date +%s.%N)
  echo "round $r cp -r + sync $(python3 -c "print(f'{$e-$s:.2f}')") s  load $(cut -d' ' -f1 /proc/loadavg)"
  rm -rf "$work/cp"; sync
  for b in "$@"; do
    rm -rf "$work/keys"; "$b" init --repo "$work/keys" --copy-keys-from "$work/repo" >/dev/null; warm
    s=$(date +%s.%N)
    /usr/bin/time -f "%U+%S s CPU, %M KB peak RSS" -o "$work/time" "$b" copy --repo "$work/repo" --to "$work/keys" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
    e=$(date +%s.%N)
    echo "round $r $b $(python3 -c "print(f'{$e-$s:.2f}')") s  $(cat "$work/time")  load $(cut -d' ' -f1 /proc/loadavg)  $(grep -o '[0-9]* packs copied whole' "$work/out" || true)"
  done
done
rm -rf "$work/keys" "$work/cp"

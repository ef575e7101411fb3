#!/usr/bin/env bash
# `cairn copy` into a repository sharing the source's keys (whole packs), alternating with `cp -r` +
# `sync`, on an existing repository (issue 16.5; `run.sh` makes its repository anew each time and
# runs each copy once). Each round: `cp -r` + `sync`, then one copy with each binary given, each into
# a new `init --copy-keys-from` replica. Every run starts alike: the run before it removed (and
# `sync`), then the source read into the page cache (warm, the default) or, with DROP_CACHES=1,
# every cache dropped (cold: the source is read from disk; needs root, and slows every other program
# on the machine). With FILL_GIB=N a sparse file of N GiB is read first (no disk space): the page
# cache is then full of clean pages, which a run's new pages take the place of, as on a machine that
# has run for a while; without it they take free memory, which on a VM with free page reporting
# (virtio-balloon) was given back to the host and costs a fault on the host per page taken back.
# Prints wall time, CPU (user+system), peak RSS, minor faults, free memory and the load; compare
# medians within one run.
#
#   [DROP_CACHES=1] [FILL_GIB=N] Benchmarks/copy/alternate.sh WORK ROUNDS CAIRN_BINARY...   (WORK/repo is the source; CAIRN_PASSWORD=bench)
set -euo pipefail
work=$1; rounds=$2; shift 2
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-bench}" CAIRN_CACHE_DIR="$work/cache"
prepare() {
  sync
  if [ "${DROP_CACHES:-0}" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; return; fi
  if [ "${FILL_GIB:-0}" != 0 ]; then
    [ "$(stat -c %s "$work/filler" 2>/dev/null)" = $((FILL_GIB << 30)) ] || truncate -s "${FILL_GIB}G" "$work/filler"
    cat "$work/filler" > /dev/null
  fi
  cat "$work"/repo/data/*/* > /dev/null
}
timed() {  # label, command...: wall time, CPU, peak RSS, load
  local label=$1 s e; shift
  s=$(date +%s.%N)
  /usr/bin/time -f "%U+%S s CPU, %M KB peak RSS, %R minor faults" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  e=$(date +%s.%N)
  echo "$(date -u +%H:%M:%S) round $r $label $(python3 -c "print(f'{$e-$s:.2f}')") s  $(cat "$work/time")  load $(cut -d' ' -f1 /proc/loadavg)  free $(($(awk '/MemFree/ {print $2}' /proc/meminfo) >> 10)) MiB  $(grep -o '[0-9]* packs copied whole' "$work/out" || true)"
}
for r in $(seq "$rounds"); do
  rm -rf "$work/cp" "$work/keys"; prepare
  timed "cp -r + sync" sh -c "cp -r '$work/repo' '$work/cp' && sync"
  for b in "$@"; do
    rm -rf "$work/cp" "$work/keys"; "$b" init --repo "$work/keys" --copy-keys-from "$work/repo" >/dev/null; prepare
    timed "$b" "$b" copy --repo "$work/repo" --to "$work/keys"
  done
done
rm -rf "$work/keys" "$work/cp" "$work/filler"

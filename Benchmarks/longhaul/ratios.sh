#!/usr/bin/env bash
# Issue 16.1's ratios, re-runnable: each warm command's cost on a long history over its cost on
# the same repository as it was at ~100 segments, measured alternately at the same moment.
# Needs a work directory kept by run.sh --keep (or --resume): repo-local and cache-local (the grown
# history with the writing host's warm cache), base-repo-local and base-cache-local (the copy of
# the first checkpoint), minute-local (segments archived). Commands: `wal-push` of a new segment,
# `wal-fetch` of an early one, `snapshots --name pg-dump`, `restore latest --name pg-dump`,
# `backup` of the unchanged node tree, `pg status`.
#
#   Benchmarks/longhaul/ratios.sh WORK_DIR [--store local|s3] [--runs N] [--meter perf|callgrind]
#                                 CAIRN [CAIRN...]
#   --meter perf (default): CPU time of the process and its threads (`perf stat -e task-clock`)
#     and wall time; medians of N runs (default 15).
#   --meter callgrind: instructions executed in user space (`valgrind --tool=callgrind`), which
#     the load of a shared machine does not move; medians of N runs (default 3). Kernel time is
#     not in it: read it beside the perf figures.
#   --store s3: the two repositories on an S3 server (MOTO_PORT, bucket "longhaul", prefixes
#     cairn/ and base/, e.g. uploaded by mirror-to-s3.py); their caches are copies of the local
#     ones (cache-s3, base-cache-s3 in WORK_DIR, made on the first run).
#   Several binaries are measured in the same runs, taking turns, so that their ratios compare;
#   each has copies of its own of the two caches (WORK_DIR/ratio-caches/BINARY/, made from
#   cache-STORE and base-cache-STORE on its first run): binaries of two cache schemas sharing
#   one cache would empty it for each other, and one binary's metadata merges would be synced
#   by the other.
#   Each run alternates the two repositories, the first one changing from run to run. The pushes
#   go on from minute-STORE on the grown history and from 1,000,000 (base-next-STORE) on the copy,
#   so both grow by N segments a binary (the copy stays at ~100 + a few).
# Prints per binary and command: the median on the copy, on the history, and their ratio (the
# goal: <= 1.3), plus the load; appends every run to WORK_DIR/ratios.tsv as it ends (a run stopped
# part-way keeps what it measured; Benchmarks/longhaul/ratios-summary.py summarises a span of it with
# intervals and paired ratios). Never in CI.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2; }
work=$(cd "$1" && pwd); shift
store=local; runs=""; meter=perf
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --meter) meter="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "name at least one cairn binary" >&2; exit 2; }
case "$meter" in perf) runs=${runs:-15} ;; callgrind) runs=${runs:-3} ;; *) echo "--meter must be perf or callgrind" >&2; exit 2 ;; esac
for f in repo-local cache-local base-repo-local base-cache-local minute-local node dump segment; do
  [ -e "$work/$f" ] || { echo "$work has no $f (a run.sh --keep directory is needed)" >&2; exit 2; }
done
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-longhaul}" CAIRN_KEY_CACHE="${CAIRN_KEY_CACHE:-15m}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-bench}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-bench-secret}" AWS_REGION="${AWS_REGION:-us-east-1}"
case "$store" in
  local) grown_url="$work/repo-local"; base_url="$work/base-repo-local" ;;
  s3)
    [ -n "${MOTO_PORT:-}" ] || { echo "--store s3 needs MOTO_PORT (an S3 server holding longhaul/cairn and longhaul/base)" >&2; exit 2; }
    grown_url="s3:http://127.0.0.1:$MOTO_PORT/longhaul/cairn"; base_url="s3:http://127.0.0.1:$MOTO_PORT/longhaul/base"
    [ -e "$work/cache-s3" ] || cp -a "$work/cache-local" "$work/cache-s3"
    [ -e "$work/base-cache-s3" ] || cp -a "$work/base-cache-local" "$work/base-cache-s3"
    [ -e "$work/minute-s3" ] || cp "$work/minute-local" "$work/minute-s3" ;;
  *) echo "--store must be local or s3" >&2; exit 2 ;;
esac
# caches BIN: sets grown_cache and base_cache to BIN's own copies.
caches() {
  local dir; dir="$work/ratio-caches/$(basename "$1")"
  grown_cache="$dir/grown-$store"; base_cache="$dir/base-$store"
  mkdir -p "$dir"
  [ -e "$grown_cache" ] || cp -a "$work/cache-$store" "$grown_cache"
  [ -e "$base_cache" ] || cp -a "$work/base-cache-$store" "$base_cache"
}
[ -e "$work/base-next-$store" ] || echo 1000000 >"$work/base-next-$store"
tmp=$(mktemp -d /tmp/cairn-ratios.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

seg_name() { printf '00000001%08X%08X' $(($1 / 256)) $(($1 % 256)); }
labels=("wal-push (a new segment)" "wal-fetch (an early segment)" "snapshots --name pg-dump"
  "restore latest --name pg-dump" "backup (unchanged node tree)" "pg status")

# command_args N WHICH: sets `args` to command N's arguments on repository WHICH (grown|base);
# a push takes the next segment number of that repository.
command_args() {
  case "$1" in
    0) local counter="$work/minute-$store"; [ "$2" = base ] && counter="$work/base-next-$store"
       local n; n=$(cat "$counter"); echo $((n + 1)) >"$counter"
       cp "$work/segment" "$tmp/segment"; printf '%016d' "$n" | dd of="$tmp/segment" bs=16 count=1 conv=notrunc status=none
       args=(wal-push "$tmp/segment" "$(seg_name "$n")") ;;
    1) rm -f "$tmp/fetched"; args=(wal-fetch "$(seg_name 7)" "$tmp/fetched") ;;
    2) args=(snapshots --name pg-dump) ;;
    3) args=(restore latest --name pg-dump --stdout) ;;
    4) args=(backup "$work/node" --name node) ;;
    5) args=(pg status) ;;
  esac
}

# measure BIN URL CACHE: runs `args` once, prints "cost wall" (cost: task-clock ms or instructions).
measure() {
  local bin="$1" url="$2" cache="$3"
  if [ "$meter" = perf ]; then
    CAIRN_REPO="$url" CAIRN_CACHE_DIR="$cache" perf stat -e task-clock -o "$tmp/perf" -- "$bin" "${args[@]}" >/dev/null 2>"$tmp/err" \
      || { echo "$bin ${args[*]} failed on $url: $(tail -3 "$tmp/err")" >&2; exit 1; }
    awk '/task-clock/ { c = $1 } /seconds time elapsed/ { w = $1 } END { gsub(",", "", c); print c, w }' "$tmp/perf"
  else
    # valgrind gives up on the debug information of a static Swift binary: a stripped copy.
    local start stripped="$tmp/stripped-$(echo "$bin" | md5sum | cut -c1-12)"
    [ -e "$stripped" ] || strip -o "$stripped" "$bin"
    start=$(date +%s.%N)
    CAIRN_REPO="$url" CAIRN_CACHE_DIR="$cache" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      "$stripped" "${args[@]}" >/dev/null 2>"$tmp/err" || { echo "$bin ${args[*]} failed on $url: $(tail -3 "$tmp/err")" >&2; exit 1; }
    echo "$(awk '/Collected :/ { print $NF }' "$tmp/err") $(echo "$(date +%s.%N) - $start" | bc)"
  fi
}

echo "ratios on $store ($meter, $runs runs): $(cat "$work/minute-$store") segments vs the copy of $(cat "$work/base-minute-local"); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T') UTC"
: >"$tmp/runs"
for i in $(seq "$runs"); do
  for c in "${!labels[@]}"; do
    for b in "$@"; do
      order=(grown base); [ $((i % 2)) = 0 ] && order=(base grown)
      caches "$b"
      for which in "${order[@]}"; do
        command_args "$c" "$which"
        if [ "$which" = grown ]; then r=$(measure "$b" "$grown_url" "$grown_cache"); else r=$(measure "$b" "$base_url" "$base_cache"); fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$store" "$meter" "$b" "$c" "$which" "$r" | tr ' ' '\t' | tee -a "$work/ratios.tsv" >>"$tmp/runs"
      done
    done
  done
done
python3 - "$tmp/runs" "$meter" "${labels[@]}" <<'PY'
import collections, statistics, sys
path, meter, labels = sys.argv[1], sys.argv[2], sys.argv[3:]
by = collections.defaultdict(list)
for line in open(path):
    _, _, _, b, c, which, cost, wall = line.rstrip("\n").split("\t")
    by[(b, int(c), which)].append((float(cost), float(wall)))
unit = "ms CPU" if meter == "perf" else "M instr"
scale = 1 if meter == "perf" else 1e-6
for b in dict.fromkeys(k[0] for k in by):
    print(f"  {b}")
    for c, label in enumerate(labels):
        g, s = by.get((b, c, "grown")), by.get((b, c, "base"))
        if not g or not s: continue
        gc, sc = statistics.median(x[0] for x in g) * scale, statistics.median(x[0] for x in s) * scale
        gw, sw = statistics.median(x[1] for x in g), statistics.median(x[1] for x in s)
        flag = "" if gc <= 1.3 * sc else "   OVER 1.3"
        print(f"    {label:32} copy {sc:8.1f} {unit}, history {gc:8.1f} -> {gc / sc:5.2f}x   wall {sw:6.3f} / {gw:6.3f} s -> {gw / sw:5.2f}x{flag}")
PY
echo "(load at the end $(cut -d' ' -f1-3 /proc/loadavg))"

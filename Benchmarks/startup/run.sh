#!/usr/bin/env bash
# Process start-up of `cairn` (issue 16.2): PostgreSQL starts one `cairn wal-fetch` per restored WAL
# segment and one `cairn wal-push` per archived one, so what a process costs to start is paid per
# segment. Compares two binaries, runs alternating, on two commands:
#   version  `cairn --version` (start-up and the argument parser, nothing else);
#   serve    `cairn wal-fetch` serving one spooled segment beside a running fetcher (the quick path
#            of a point-in-time restore: start-up, move the segment into place, SHA-256 of 16 MiB).
# Figures (medians): CPU (perf stat task-clock) and page faults per run, RUNS runs of each binary
# alternated one by one; instructions (valgrind callgrind, the dynamic loader included; they do not
# depend on the load); with --hyperfine also wall time (hyperfine, ROUNDS rounds alternating the
# binaries: run it in a quiet window, it measures the load as much as the binaries).
#
#   Benchmarks/startup/run.sh BASE NEW [--runs N] [--segment FILE] [--hyperfine] [--rounds N] [--no-callgrind]
#   --segment: a WAL segment to serve (default: a switched one made here: 8 KiB of data, then a hole
#   to 16 MiB, as the fetcher spools a nearly empty segment). Runs on demand, never in CI.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,17p' "$0"; exit 2; }
base=$(realpath "$1"); new=$(realpath "$2"); shift 2
runs=60; segment=""; hyper=0; rounds=3; callgrind=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --segment) segment="$2"; shift ;;
    --hyperfine) hyper=1 ;;
    --rounds) rounds="$2"; shift ;;
    --no-callgrind) callgrind=0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
work=$(mktemp -d /tmp/cairn-startup.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
name=000000010000000000000042
if [ -z "$segment" ]; then
  segment="$work/segment"
  head -c 8192 /dev/urandom > "$segment"; truncate -s 16M "$segment"
fi
sha=$(sha256sum "$segment" | cut -d' ' -f1)
mkdir -p "$work/pg_wal"; spool="$work/pg_wal/.cairn-prefetch"; mkdir -m 700 "$spool"
printf 'CAIRN_REPO=%s\n' "$work/repo" > "$work/env"; chmod 600 "$work/env"
printf 'repository %s wal-name pg-wal' "$work/repo" > "$spool/identity"
# A fetcher of this archive "runs": this shell holds its lock (the quick path serves only beside one;
# cairn opens the lock file itself, so the descriptor it inherits does not make the lock its own).
exec 9>"$spool/lock"
flock -n 9 || { echo "cannot take $spool/lock" >&2; exit 1; }
prepare() { rm -f "$work/pg_wal/$name"; cp --sparse=always "$segment" "$spool/$name.$sha"; }
serve=(wal-fetch --env-file "$work/env" "$name" "$work/pg_wal/$name")
echo "startup benchmark: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T') UTC"
echo "  base $base ($(ldd "$base" | grep -c '=>') shared libraries)"
echo "  new  $new ($(ldd "$new" | grep -c '=>') shared libraries)"

# One run under perf stat: prints "task-clock-ms page-faults".
perf_one() {  # perf_one BINARY version|serve
  local out="$work/perf.out"
  if [ "$2" = serve ]; then prepare; fi
  if [ "$2" = serve ]; then
    perf stat -x, -e task-clock,page-faults -o "$out" -- "$1" "${serve[@]}" >/dev/null
    [ -f "$work/pg_wal/$name" ] || { echo "serve run of $1 did not serve" >&2; exit 1; }
  else
    perf stat -x, -e task-clock,page-faults -o "$out" -- "$1" --version >/dev/null
  fi
  awk -F, '/task-clock/ { t = $1 } /page-faults/ { f = $1 } END { printf "%s %s\n", t, f }' "$out"
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for what in version serve; do
  : > "$work/base.$what"; : > "$work/new.$what"
  for _ in $(seq "$runs"); do
    perf_one "$base" "$what" >> "$work/base.$what"
    perf_one "$new" "$what" >> "$work/new.$what"
  done
  b=$(cut -d' ' -f1 "$work/base.$what" | median); n=$(cut -d' ' -f1 "$work/new.$what" | median)
  bf=$(cut -d' ' -f2 "$work/base.$what" | median); nf=$(cut -d' ' -f2 "$work/new.$what" | median)
  printf '%-8s CPU (task-clock, median of %d): base %.2f ms, new %.2f ms (%.2fx); page faults %s -> %s; load %s\n' \
    "$what" "$runs" "$b" "$n" "$(echo "$n / $b" | bc -l)" "$bf" "$nf" "$(cut -d' ' -f1 /proc/loadavg)"
done

if [ "$callgrind" = 1 ]; then
  # Valgrind gives up on the toolchain's DWARF ("possibly corrupted debuginfo"): copies without it.
  strip --strip-debug -o "$work/base.nodebug" "$base"; strip --strip-debug -o "$work/new.nodebug" "$new"
  instructions() {  # instructions BINARY version|serve: callgrind's total, the dynamic loader included
    if [ "$2" = serve ]; then prepare; set -- "$1" "${serve[@]}"; else set -- "$1" --version; fi
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/Collected :/ { print $NF }'
  }
  for what in version serve; do
    b=$(for _ in 1 2 3; do instructions "$work/base.nodebug" "$what"; done | median)
    n=$(for _ in 1 2 3; do instructions "$work/new.nodebug" "$what"; done | median)
    printf '%-8s instructions (callgrind, median of 3): base %s, new %s (%.2fx)\n' "$what" "$b" "$n" "$(echo "$n / $b" | bc -l)"
  done
fi

if [ "$hyper" = 1 ]; then
  for what in version serve; do
    : > "$work/hyper.$what"
    for round in $(seq "$rounds"); do
      if [ "$what" = serve ]; then
        hyperfine -N --warmup 3 --runs 30 --export-json "$work/h.json" \
          --prepare "sh -c 'rm -f $work/pg_wal/$name; cp --sparse=always $segment $spool/$name.$sha'" \
          -n base "$base ${serve[*]}" -n new "$new ${serve[*]}" >/dev/null
      else
        hyperfine -N --warmup 3 --runs 30 --export-json "$work/h.json" -n base "$base --version" -n new "$new --version" >/dev/null
      fi
      python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(" ".join("%s %.3f" % (x["command"], x["median"]*1000) for x in r))' \
        "$work/h.json" | sed "s/\$/ load $(cut -d' ' -f1 /proc/loadavg)/" >> "$work/hyper.$what"
    done
    echo "$what wall (hyperfine median ms per round, 30 runs each): $(tr '\n' ';' < "$work/hyper.$what")"
  done
fi

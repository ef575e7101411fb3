#!/usr/bin/env bash
# Long-haul benchmark (issue 16.1/16.2): the platform's schedule compressed in time, one
# `cairn` process per command as cron and PostgreSQL's archive_command run them:
#   - one WAL segment a simulated minute (`cairn wal-push`; content repeating, a unique header,
#     so each push stores almost nothing new: what grows is the history, not the data),
#   - each simulated day (1,440 segments) a pg dump and an RDB file (--stdin) and the node's
#     data directory (a tree that gains a file), then `forget --keep-last 30` on them,
#   - each simulated week a base-backup-like tree and a `prune`.
# At each checkpoint it prints, per command, the wall time and the store requests it made,
# with a warm cache, and the disaster open (a new machine: an empty cache) of
# `snapshots --name pg-dump` and `restore latest --name pg-dump`, plus the objects in the store.
# Requests: S3 (moto on loopback) from moto's request log; the local store from strace
# (openat of an object = GET, of a namespace directory = LIST, rename into place = PUT,
# unlink = DELETE, stat = HEAD).
#
#   Benchmarks/longhaul/run.sh [--quick] [--store local|s3|both] [--checkpoints "100 1000 10000 45000"]
#                              [--segment-kib N] [--repeat N] [--jobs N] [--seed seeder|cli] [--work DIR] [--keep]
#                              [--resume DIR] [--seed-cache shared|own]
#   Between checkpoints the history grows through `longhaul-seed` (this directory's package,
#   built in release; SEED=path skips the build): the calls `cairn wal-push` makes (check, shared
#   lock, sync, push, metadata merge) with the repository opened once per process, under nice.
#   --seed cli grows it with one `cairn wal-push` process per segment instead (1-2 a second on
#   a loaded machine). --jobs N: N seeders (or wal-push processes) at once, each every N-th
#   segment (several writers, as several clusters archiving into one repository would be); the
#   day's backups, forget and prune and every measured command run alone.
#   --seed-cache own: each seeder keeps a cache of its own instead of sharing the writing host's
#   (writers sharing one cache left packs named by no index object: Docs/performance.md).
#   Each time printed is the median of --repeat runs (default 3): wall time and CPU time (user +
#   system, which the load of a shared machine disturbs far less). The repository as it is at the
#   first checkpoint is copied aside; at every later checkpoint each run of a command on it
#   alternates with a run on the grown repository, so that the ratio (the goal: <= 1.3) is
#   measured at the same load, which on a shared machine varies more than the ratio itself.
#   MOTO_PORT=N MOTO_LOG=FILE: use an S3 server already listening on 127.0.0.1:N (bucket
#   "longhaul"), whose request log is FILE, instead of starting one; it is left running.
#   --resume DIR: go on with the work directory DIR of an earlier run (--keep, or one stopped):
#   its inputs, repo-STORE and cache-STORE, its first checkpoint's copy (base-repo-STORE and
#   base-cache-STORE) and the counts it recorded (minute-STORE: segments archived;
#   base-minute-STORE: the copy's); checkpoints not above minute-STORE are measured at once, as
#   they stand. Nothing in DIR is deleted at the end. An S3 store resumes from the bucket
#   "longhaul" of MOTO_PORT, prefixes cairn/ and base/ (e.g. local copies uploaded there by
#   mirror-to-s3.py).
#   --quick: checkpoints 100 1000 3000, 256 KiB segments (~10 min on 2 busy cores); the full
#   run (45,000 segments of 16 MiB) takes hours. CAIRN=path/to/cairn skips the release build.
#   The ratios of issue 16.1 at CPU-time resolution (perf stat, or callgrind's instruction counts,
#   which the load does not move), re-runnable on a kept directory: ratios.sh (see its --help).
# Runs on demand, never in CI. Needs python3 with moto[server] (s3) and strace (local counts).
set -euo pipefail
cd "$(dirname "$0")/../.."
checkpoints="100 1000 10000 45000"
segment_kib=16384
stores="both"
keep=0
repeat=3
jobs=1
seed=seeder
work_dir=""
resume=""
seed_cache=shared
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) checkpoints="100 1000 3000"; segment_kib=256 ;;
    --store) stores="$2"; shift ;;
    --checkpoints) checkpoints="$2"; shift ;;
    --segment-kib) segment_kib="$2"; shift ;;
    --keep) keep=1 ;;
    --repeat) repeat="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --work) work_dir="$2"; shift ;;
    --resume) resume="$2"; shift ;;
    --seed-cache) seed_cache="$2"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$seed_cache" in shared|own) ;; *) echo "--seed-cache must be shared or own" >&2; exit 2 ;; esac
case "$stores" in local) stores="local" ;; s3) stores="s3" ;; both) stores="local s3" ;;
  *) echo "--store must be local, s3 or both" >&2; exit 2 ;; esac
if [ -z "${CAIRN:-}" ]; then
  swift build -c release --static-swift-stdlib --product cairn >/dev/null
  CAIRN="$PWD/.build/release/cairn"
fi
if [ "$seed" = seeder ] && [ -z "${SEED:-}" ]; then
  (cd Benchmarks/longhaul && swift build -c release --product longhaul-seed >/dev/null)
  SEED="$PWD/Benchmarks/longhaul/.build/release/longhaul-seed"
fi
if [ -n "$resume" ]; then
  [ -d "$resume" ] || { echo "--resume: no directory $resume" >&2; exit 2; }
  work=$(cd "$resume" && pwd); keep=1
elif [ -n "$work_dir" ]; then mkdir -p "$work_dir"; work=$(mktemp -d "$work_dir/cairn-longhaul.XXXXXX"); else work=$(mktemp -d /tmp/cairn-longhaul.XXXXXX); fi
moto=""
cleanup() { [ -n "$moto" ] && kill "$moto" 2>/dev/null; [ "$keep" = 1 ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
export CAIRN_PASSWORD=longhaul AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
# The key cache Docs/postgres.md recommends for archive_command (each process skips scrypt); a
# disaster open (a new machine) runs without it.
export CAIRN_KEY_CACHE="${CAIRN_KEY_CACHE:-15m}"

if [[ " $stores " == *" s3 "* ]] && [ -n "${MOTO_PORT:-}" ]; then
  # An S3 server started beforehand (MOTO_PORT, its request log MOTO_LOG): it outlives this run,
  # so that a kept S3 repository can be measured again later (moto keeps its objects in memory).
  port=$MOTO_PORT
  ln -sfn "$MOTO_LOG" "$work/moto.log"
elif [[ " $stores " == *" s3 "* ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 Tests/CairnTestSupport/run_moto.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto=$!
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
fi

# Inputs: one segment (rewritten in its first 16 bytes per push), a dump, an RDB file, a node tree.
# A resumed run keeps its own (the segment's size with them).
[ -n "$resume" ] && [ -e "$work/segment" ] && segment_kib=$(( $(stat -c %s "$work/segment") >> 10 ))
[ -n "$resume" ] && [ -e "$work/segment" ] || python3 - "$work" "$segment_kib" <<'PY'
import os, random, sys
work, kib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(16)
block = rnd.randbytes(64 << 10)
with open(f"{work}/segment", "wb") as f:
    for _ in range(kib // 64): f.write(block)
    f.write(block[: (kib % 64) << 10])
with open(f"{work}/dump", "wb") as f:
    f.write(b"".join(f"{i}\tuser{i}\t{rnd.random():.9f}\n".encode() for i in range(120_000)))
with open(f"{work}/rdb", "wb") as f:
    f.write(rnd.randbytes(2 << 20))
for d in ("node", "pgdata"):
    os.makedirs(f"{work}/{d}/sub")
    for i in range(40):
        with open(f"{work}/{d}/sub/f{i:03d}", "wb") as f: f.write(rnd.randbytes(8192 + i))
PY

seg_name() { printf '00000001%08X%08X' $(($1 / 256)) $(($1 % 256)); }
put_header() { printf '%016d' "$1" | dd of="$work/segment" bs=16 count=1 conv=notrunc status=none; }
# push_segment N: archives segment N (the repeating segment with N in its first 16 bytes) from a
# copy of its own, so that pushers running at once do not share a file.
push_segment() {
  local f="$work/seg-$1"
  cp "$work/segment" "$f"
  printf '%016d' "$1" | dd of="$f" bs=16 count=1 conv=notrunc status=none
  CAIRN_CACHE_DIR="$cache" "$CAIRN" wal-push "$f" "$(seg_name "$1")" >/dev/null 2>"$work/err-$1" \
    || { echo "wal-push $1 failed: $(cat "$work/err-$1")" >&2; rm -f "$f"; return 1; }
  rm -f "$f" "$work/err-$1"
}

# s3_requests, local_requests: the requests of one command.
# shellcheck source=requests.sh
source Benchmarks/longhaul/requests.sh

median_of() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] }'; }

# run STORE LABEL CACHE -- cairn args...: times one command (the median of $repeat runs; a
# cold-cache command gets a new empty cache each run) and prints the requests it made.
# On the local store the requests come from one more run under strace (which slows a command
# down too much to time it): the same arguments, or COUNT_ARGS when set (a write that must not
# repeat itself, such as a push of the next segment); a cold-cache command gets a new cache.
# A write that must not repeat (wal-push) passes TIMED_ARGS_FN: a function that, given the run's
# number, prepares and prints nothing but sets the array timed_args.
run() {
  local store="$1" label="$2" cache="$3"; shift 4
  local before=0 reqs count_cache="$cache" times=() base_times=() cpus=() base_cpus=() i run_cache key_cache
  for i in $(seq "$repeat"); do
    run_cache="$cache"; key_cache="$CAIRN_KEY_CACHE"
    [[ "$cache" == */cold* ]] && { run_cache="$cache-$i"; key_cache=off; }
    local args=("$@")
    if [ -n "${TIMED_ARGS_FN:-}" ]; then "$TIMED_ARGS_FN" "$i"; args=("${timed_args[@]}"); fi
    # The same command on the frozen first-checkpoint copy, just before: a ratio at the same load.
    if [ -n "${base_url:-}" ]; then
      local base_cache="$base_cache_dir"; [[ "$cache" == */cold* ]] && base_cache="$cache-base-$i"
      CAIRN_REPO="$base_url" CAIRN_KEY_CACHE="$key_cache" CAIRN_CACHE_DIR="$base_cache" \
        /usr/bin/time -f '%e %U %S' -o "$work/time" "$CAIRN" "${args[@]}" >/dev/null 2>"$work/err" \
        || { echo "  $label failed on the first checkpoint's copy: $(tail -3 "$work/err")"; return 0; }
      base_times+=("$(awk '{ print $1 }' "$work/time")"); base_cpus+=("$(awk '{ print $2 + $3 }' "$work/time")")
    fi
    [ "$store" = s3 ] && [ "$i" = 1 ] && before=$(wc -l <"$work/moto.log")
    CAIRN_KEY_CACHE="$key_cache" CAIRN_CACHE_DIR="$run_cache" /usr/bin/time -f '%e %U %S' -o "$work/time" \
      "$CAIRN" "${args[@]}" >/dev/null 2>"$work/err" || { echo "  $label failed: $(tail -3 "$work/err")"; return 0; }
    times+=("$(awk '{ print $1 }' "$work/time")"); cpus+=("$(awk '{ print $2 + $3 }' "$work/time")")
    # The requests of one run: on S3 the first run's lines of moto's log.
    [ "$store" = s3 ] && [ "$i" = 1 ] && reqs=$(s3_requests "$work/moto.log" "$before")
  done
  if [ "$store" = local ]; then
    if command -v strace >/dev/null; then
      [[ "$cache" == */cold* ]] && count_cache="$cache-count"
      if [ -n "${COUNT_ARGS+x}" ]; then set -- "${COUNT_ARGS[@]}"; fi
      CAIRN_KEY_CACHE="$key_cache" CAIRN_CACHE_DIR="$count_cache" strace -f -qq -e trace=openat,rename,renameat,renameat2,unlink,unlinkat,stat,newfstatat,statx \
        -o "$work/strace" "$CAIRN" "$@" >/dev/null 2>&1 || true
      reqs=$(local_requests "$work/strace" "$repo")
    else
      reqs="(no strace: requests not counted)"
    fi
  fi
  local median cpu base_median="" base_cpu="" paired=""
  median=$(median_of "${times[@]}"); cpu=$(median_of "${cpus[@]}")
  if [ "${#base_times[@]}" -gt 0 ]; then
    base_median=$(median_of "${base_times[@]}"); base_cpu=$(median_of "${base_cpus[@]}")
    paired=$(printf '| at %s segments, alternated: %.3f s, cpu %.2f s; ratio wall %.2fx cpu %.2fx' "$first_checkpoint" \
      "$base_median" "$base_cpu" "$(echo "$median / $base_median" | bc -l)" "$(echo "$cpu / ($base_cpu + 0.005)" | bc -l)")
  fi
  printf '  %-40s %7.3f s, cpu %.2f s %s | %s\n' "$label" "$median" "$cpu" "$paired" "$reqs"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$store" "${checkpoint:-$minute}" "$label" "$median" "${base_median:-$median}" \
    "$cpu" "${base_cpu:-$cpu}" "$reqs" "${base_median:+paired}" >>"$work/results.tsv"
  [[ "$cache" == */cold* ]] && rm -rf "$cache"-[0-9]* "$cache"-base-* "$cache-count"
  return 0
}

# freeze_base STORE: a copy of the repository (and of the writing host's cache) as it is at the
# first checkpoint; every later checkpoint runs each command on it and on the grown repository
# alternately, so that their ratio is measured at the same load.
freeze_base() {
  if [ "$1" = local ]; then
    cp -a "$repo" "$work/base-repo-local"
    base_url="$work/base-repo-local"
  else
    python3 - "$port" <<'PY'
import sys, urllib.request, re
port = sys.argv[1]
token = None
while True:
    url = f"http://127.0.0.1:{port}/longhaul?list-type=2&prefix=cairn/" + (f"&continuation-token={urllib.request.quote(token)}" if token else "")
    body = urllib.request.urlopen(url).read().decode()
    for key in re.findall(r"<Key>([^<]+)</Key>", body):
        if key.startswith("cairn/locks/"): continue
        req = urllib.request.Request(f"http://127.0.0.1:{port}/longhaul/base/{key[len('cairn/'):]}", method="PUT",
                                     headers={"x-amz-copy-source": f"/longhaul/{key}"})
        urllib.request.urlopen(req).read()
    m = re.search(r"<NextContinuationToken>([^<]+)<", body)
    if not m: break
    token = m.group(1)
PY
    base_url="s3:http://127.0.0.1:$port/longhaul/base"
  fi
  cp -a "$cache" "$work/base-cache-$1"
  base_cache_dir="$work/base-cache-$1"
  first_checkpoint=$minute
  echo "$minute" >"$work/base-minute-$1"
}

objects() {  # the metadata objects in the store
  local store="$1"
  if [ "$store" = local ]; then
    printf 'snapshots %s, index %s, forgotten %s, packs %s' "$(ls "$repo/snapshots" | wc -l)" "$(ls "$repo/index" | wc -l)" \
      "$(ls "$repo/forgotten" 2>/dev/null | wc -l)" "$(find "$repo/data" -type f | wc -l)"
  else
    python3 - "$port" <<'PY'
import sys, urllib.request, re
port = sys.argv[1]
out = []
for ns in ("snapshots", "index", "forgotten", "data"):
    n, token = 0, None
    while True:
        url = f"http://127.0.0.1:{port}/longhaul?list-type=2&prefix=cairn/{ns}/" + (f"&continuation-token={token}" if token else "")
        body = urllib.request.urlopen(url).read().decode()
        n += body.count("<Key>")
        m = re.search(r"<NextContinuationToken>([^<]+)<", body)
        if not m: break
        token = m.group(1)
    out.append(f"{ns if ns != 'data' else 'packs'} {n}")
print(", ".join(out), end="")
PY
  fi
}

for store in $stores; do
  if [ "$store" = local ]; then repo="$work/repo-local"; url="$repo"; else repo="longhaul"; url="s3:http://127.0.0.1:$port/longhaul/cairn"; fi
  cache="$work/cache-$store"
  export CAIRN_REPO="$url" cache work CAIRN
  export -f push_segment seg_name
  minute=0
  if [ -n "$resume" ] && [ -e "$work/minute-$store" ]; then
    minute=$(cat "$work/minute-$store")
    if [ -e "$work/base-minute-$store" ]; then
      first_checkpoint=$(cat "$work/base-minute-$store"); base_cache_dir="$work/base-cache-$store"
      if [ "$store" = local ]; then base_url="$work/base-repo-local"; else base_url="s3:http://127.0.0.1:$port/longhaul/base"; fi
    fi
    echo "== resuming $work at $minute segments${base_url:+ (the first checkpoint copy: $first_checkpoint segments)}"
  else
    CAIRN_CACHE_DIR="$cache" "$CAIRN" init >/dev/null
  fi
  echo "== $store store: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), segments of $segment_kib KiB, cairn $("$CAIRN" --version 2>/dev/null || echo '?')"
  echo "   (per command: wall time with the warm cache of the writing host; requests to the store by kind)"
  day=$((minute / 1440)); started=$(date +%s)
  for target in $checkpoints; do
    [ "$target" -lt "$minute" ] && [ -n "$resume" ] && continue
    while [ "$minute" -lt "$target" ]; do
      # Up to the next day boundary or checkpoint: $jobs pushers at once (one process per segment each).
      stop=$(( (minute / 1440 + 1) * 1440 )); [ "$stop" -gt "$target" ] && stop=$target
      if [ "$seed" = cli ]; then
        if [ "$jobs" = 1 ]; then
          for m in $(seq "$minute" $((stop - 1))); do push_segment "$m"; done
        else
          seq "$minute" $((stop - 1)) | xargs -P "$jobs" -n 1 bash -c 'push_segment "$0"' \
            || { echo "wal-push failed: $(cat "$work"/err-* 2>/dev/null | head -3)"; exit 1; }
        fi
      else
        # The seeder: wal-push's own calls with the repository opened once per process; $jobs
        # processes at once take every $jobs-th segment each (several writers). Niced: it only
        # builds the history; the measured commands run at normal priority.
        seeders=()
        for j in $(seq 0 $((jobs - 1))); do
          [ $((minute + j)) -lt "$stop" ] || break
          seeder_cache="$cache"; [ "$seed_cache" = own ] && seeder_cache="$cache-seed$j"
          CAIRN_CACHE_DIR="$seeder_cache" nice -n 5 "$SEED" "$url" $((minute + j)) "$stop" "$segment_kib" "$jobs" 2>>"$work/seed.log" &
          seeders+=($!)
        done
        for p in "${seeders[@]}"; do wait "$p" || { echo "longhaul-seed failed: $(tail -3 "$work/seed.log")"; exit 1; }; done
      fi
      minute=$stop
      if [ $((minute % 1440)) = 0 ]; then
        day=$((day + 1))
        printf '%s day %d\n' "$day" "$day" >>"$work/dump"
        head -c 4096 /dev/urandom >>"$work/rdb"
        head -c 8192 /dev/urandom >"$work/node/sub/day$day"
        export CAIRN_CACHE_DIR="$cache"
        "$CAIRN" backup --stdin --name pg-dump <"$work/dump" >/dev/null
        "$CAIRN" backup --stdin --name redis <"$work/rdb" >/dev/null
        "$CAIRN" backup "$work/node" --name node >/dev/null
        "$CAIRN" forget --keep-last 30 --wait-lock 10m >/dev/null
        if [ $((day % 7)) = 0 ]; then
          "$CAIRN" backup "$work/pgdata" --name pg-base >/dev/null
          "$CAIRN" prune --wait-lock 10m >/dev/null
        fi
        unset CAIRN_CACHE_DIR
      fi
      echo "$minute" >"$work/minute-$store"
    done
    # Names the measured commands read must exist from the first checkpoint on.
    if [ ! -e "$work/seeded-$store" ]; then
      CAIRN_CACHE_DIR="$cache" "$CAIRN" backup --stdin --name pg-dump <"$work/dump" >/dev/null
      CAIRN_CACHE_DIR="$cache" "$CAIRN" backup "$work/node" --name node >/dev/null
      touch "$work/seeded-$store"
    fi
    echo "-- $minute segments archived ($(( $(date +%s) - started )) s so far); objects: $(objects "$store")"
    checkpoint=$minute
    # wal-push: $repeat new segments timed, one more counted (under strace on the local store).
    push_base=$minute
    next_segment() {  # the timed push number $1: a new segment each
      put_header $((push_base + $1 - 1))
      timed_args=(wal-push "$work/segment" "$(seg_name $((push_base + $1 - 1)))")
    }
    cp "$work/segment" "$work/segment2"; printf '%016d' $((push_base + repeat)) | dd of="$work/segment2" bs=16 count=1 conv=notrunc status=none
    COUNT_ARGS=(wal-push "$work/segment2" "$(seg_name $((push_base + repeat)))")
    TIMED_ARGS_FN=next_segment run "$store" "wal-push (a new segment)" "$cache" -- wal-push
    unset COUNT_ARGS
    minute=$((push_base + repeat)); [ "$store" = local ] && minute=$((minute + 1))
    run "$store" "wal-fetch (an early segment)" "$cache" -- wal-fetch "$(seg_name 7)" "$work/fetched"
    run "$store" "snapshots --name pg-dump" "$cache" -- snapshots --name pg-dump
    run "$store" "restore latest --name pg-dump" "$cache" -- restore latest --name pg-dump --stdout
    run "$store" "backup (unchanged node tree)" "$cache" -- backup "$work/node" --name node
    run "$store" "pg status" "$cache" -- pg status
    run "$store" "disaster: snapshots --name pg-dump" "$work/cold-$store-$minute" -- snapshots --name pg-dump
    run "$store" "disaster: restore latest --name pg-dump" "$work/cold2-$store-$minute" -- restore latest --name pg-dump --stdout
    echo "   (measured at load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "$minute" >"$work/minute-$store"
    [ -z "${base_url:-}" ] && freeze_base "$store"
  done
  rm -rf "$work"/cold*-"$store"-* "$cache"-count
  [ "$keep" = 1 ] || rm -rf "$work/base-repo-$store" "$work/base-cache-$store"
  unset base_url
done

# Each command's time at every checkpoint over its time on the first checkpoint's copy, run
# alternately with it (the goal: <= 1.3).
echo "== per checkpoint: time / time on the first checkpoint's copy at the same moment (goal <= 1.3)"
python3 - "$work/results.tsv" <<'PY'
import sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
by = collections.OrderedDict()
for row in rows:
    store, minute, label, t, base, cpu, base_cpu, reqs = row[:8]
    # Rows of runs before the paired column was written: all but a store's first checkpoint were paired.
    paired = row[8] == "paired" if len(row) > 8 else None
    by.setdefault((store, label), []).append((int(minute), float(t), float(base), float(cpu), float(base_cpu), paired))
for (store, label), pts in by.items():
    pts = [p for i, p in enumerate(pts) if p[5] or (p[5] is None and i > 0)]
    cells = "  ".join(f"{m}: wall {t / b:.2f}x cpu {c / (bc + 0.005):.2f}x" for m, t, b, c, bc, _ in pts)
    print(f"  {store:5} {label:42} {cells}")
PY

#!/usr/bin/env bash
# Backup to and restore from a loopback S3 server (moto) beside the same on a
# local repository, and beside restic's S3 backend when restic is installed.
# Prints throughput (MB/s of logical data) and peak RSS for each. The
# restores from S3 then run REPEATS more times (default 3), Cairn and restic
# taking turns against the same moto server, and the median of each and
# their ratio are printed with the load (issue 16.6: Cairn >= 1.2x restic).
# Cairn's restore is durable when it ends (one syncfs); restic's does not
# sync, so each restic restore is also timed with a `sync -f` of its target
# (as Benchmarks/restore-small-files does): both ratios are printed. Every
# timed restore starts after a `sync`, so no run pays for another's writes.
#
#   Benchmarks/s3/run.sh [SIZE_MIB]      (default 1024; REPEATS=N in the environment)
#
# Needs: a release build (swift build -c release, or CAIRN=path/to/cairn),
# python3 with moto[server], /usr/bin/time. Runs on demand, never in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib="${1:-1024}"
cairn="${CAIRN:-$PWD/.build/release/cairn}"
[ -x "$cairn" ] || { echo "no release cairn at $cairn: swift build -c release (or set CAIRN)" >&2; exit 1; }
work="$(mktemp -d /tmp/cairn-s3-bench.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 Tests/CairnTestSupport/run_moto.py -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done

# Test credentials go through the environment only.
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1
export CAIRN_PASSWORD=bench RESTIC_PASSWORD=bench CAIRN_CACHE_DIR="$work/cache"

echo "generating $size_mib MiB (half random, half text) in $work/src"
mkdir -p "$work/src"
python3 - "$work/src" "$size_mib" <<'PY'
import os, sys, random
root, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
for i in range(mib // 64):
    with open(f"{root}/f{i:04d}.bin", "wb") as f:
        if i % 2 == 0:
            f.write(rnd.randbytes(64 << 20))
        else:
            f.write(b"".join(f"row {j} value {rnd.random():.12f} {'x' * (j % 50)}\n".encode() for j in range(900_000))[:64 << 20])
PY
logical=$(du -sb "$work/src" | cut -f1)

times="$work/times"
: > "$times"
measure() {  # label, command...
  local label="$1"; shift
  local start end rss
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null 2>"$work/err" || { echo "$label failed:"; cat "$work/err"; return 1; }
  end=$(date +%s.%N)
  rss=$(tail -1 "$work/rss")
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[4]:<34} {s:7.1f} s  {int(sys.argv[3])/s/1e6:7.1f} MB/s  peak RSS {int(sys.argv[5])/1024:6.0f} MiB')" "$start" "$end" "$logical" "$label" "$rss"
  echo "$label|$start|$end" >> "$times"
}

s3="s3:http://127.0.0.1:$port/bench/cairn"
"$cairn" init --repo "$work/local" >/dev/null
"$cairn" init --repo "$s3" >/dev/null
measure "cairn backup, local store"        "$cairn" backup --repo "$work/local" "$work/src"
measure "cairn backup, S3 (moto)"          "$cairn" backup --repo "$s3" "$work/src"
measure "cairn restore, local store"       "$cairn" restore latest --repo "$work/local" --target "$work/r1"
rm -rf "$work/r1"
measure "cairn restore, S3 (moto)"         "$cairn" restore latest --repo "$s3" --target "$work/r2"
# Snapshots record full paths: the tree is under TARGET/<full path of src>.
restored="$work/r2$work/src"; [ -d "$restored" ] || restored="$work/r2/src"
if diff -r "$work/src" "$restored" >/dev/null; then echo "S3 restore identical"; else echo "S3 restore DIFFERS from the source" >&2; exit 1; fi
rm -rf "$work/r2"
if command -v restic >/dev/null; then
  export RESTIC_REPOSITORY="s3:http://127.0.0.1:$port/bench/restic"
  restic init >/dev/null
  measure "restic backup, S3 (moto)"       restic backup "$work/src"
  measure "restic restore, S3 (moto)"      restic restore latest --target "$work/r3"
  rm -rf "$work/r3"
  for i in $(seq "${REPEATS:-3}"); do
    echo "load: $(uptime)"
    sync
    measure "cairn restore, S3 (moto) #$i"   "$cairn" restore latest --repo "$s3" --target "$work/r2"
    rm -rf "$work/r2"
    sync
    measure "restic restore, S3 (moto) #$i"  restic restore latest --target "$work/r3"
    start=$(date +%s.%N); sync -f "$work/r3"; end=$(date +%s.%N)
    last=$(tail -1 "$times")
    python3 -c "import sys; print(f'{\"restic + sync -f of the target\":<34} {float(sys.argv[2])-float(sys.argv[1]):7.1f} s for the sync')" "$start" "$end"
    # restic's own time plus the sync's (the measure function's printing between them not counted).
    echo "restic restore + sync -f, S3 (moto) #$i|$(echo "$last" | cut -d'|' -f2)|$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[3]) - float(sys.argv[2]))" "$(echo "$last" | cut -d'|' -f3)" "$start" "$end")" >> "$times"
    rm -rf "$work/r3"
  done
  echo "load: $(uptime)"
  python3 - "$times" "$logical" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, start, end = line.strip().split("|")
    if "#" in label:
        runs.setdefault(label.split(" #")[0], []).append(float(end) - float(start))
c, r = statistics.median(runs["cairn restore, S3 (moto)"]), statistics.median(runs["restic restore, S3 (moto)"])
rs = statistics.median(runs["restic restore + sync -f, S3 (moto)"])
n = int(sys.argv[2])
print(f"median of {len(runs['cairn restore, S3 (moto)'])}: cairn {c:.2f} s ({n / c / 1e6:.0f} MB/s), restic {r:.2f} s ({n / r / 1e6:.0f} MB/s): cairn = {r / c:.2f}x restic")
print(f"restic + sync -f {rs:.2f} s ({n / rs / 1e6:.0f} MB/s): cairn = {rs / c:.2f}x restic + sync (the same durability)")
PY
else
  echo "restic is not installed: no restic comparison"
fi

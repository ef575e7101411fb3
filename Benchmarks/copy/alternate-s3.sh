#!/usr/bin/env bash
# `cairn copy` to S3 (moto on loopback) into a repository sharing the source's keys (whole packs),
# alternating with `aws s3 sync` of the same repository directory (issue 16.5; `alternate.sh` is the
# local counterpart). Each round: `aws s3 sync` into a new bucket, then one copy with each binary
# given, each into a new `init --copy-keys-from` replica in a bucket of its own; every bucket is
# emptied and removed after its run (moto 5.2 spools every object over ~5 MiB to an unlinked file in
# $TMPDIR: a bucket costs its size in /tmp disk until removed, plus ~2.5 GB of moto RSS at 10 GB). The
# source is read into the page cache and `sync` before every run. Prints wall time, CPU, peak RSS,
# moto's CPU during the run and the load; compare medians within one run. CHECK=1 scrubs each copy.
#
#   Benchmarks/copy/alternate-s3.sh WORK ROUNDS CAIRN_BINARY...   (WORK/repo is the source; CAIRN_PASSWORD=bench)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work=$1; rounds=$2; shift 2
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-bench}" CAIRN_CACHE_DIR="$work/cache"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 "$root/Tests/CairnTestSupport/run_moto.py" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null' EXIT
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
ep="http://127.0.0.1:$port"
motoCPU() { awk '{print $14+$15}' "/proc/$moto/stat"; }
timed() {  # label, command...
  local label=$1 s e m0 m1; shift
  cat "$work"/repo/data/*/* > /dev/null; sync
  m0=$(motoCPU); s=$(date +%s.%N)
  /usr/bin/time -f "%U+%S s CPU, %M KB peak RSS" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  e=$(date +%s.%N); m1=$(motoCPU)
  echo "$(date -u +%H:%M:%S) round $r $label $(python3 -c "print(f'{$e-$s:.2f}')") s  $(cat "$work/time")  moto $(python3 -c "print(f'{($m1-$m0)/100:.1f}')") s CPU  load $(cut -d' ' -f1 /proc/loadavg)"
}
for r in $(seq "$rounds"); do
  aws --endpoint-url "$ep" s3 mb "s3://sync$r" >/dev/null
  timed "aws s3 sync" aws --endpoint-url "$ep" s3 sync --quiet "$work/repo" "s3://sync$r/repo"
  aws --endpoint-url "$ep" s3 rb --force "s3://sync$r" >/dev/null
  i=0
  for b in "$@"; do
    i=$((i + 1))
    "$b" init --repo "s3:$ep/keys$r-$i/repo" --copy-keys-from "$work/repo" >/dev/null
    timed "$b" "$b" copy --repo "$work/repo" --to "s3:$ep/keys$r-$i/repo"
    if [ "${CHECK:-0}" = 1 ]; then "$b" scrub --repo "s3:$ep/keys$r-$i/repo" >/dev/null && echo "  scrub clean"; fi
    aws --endpoint-url "$ep" s3 rb --force "s3://keys$r-$i" >/dev/null
  done
done

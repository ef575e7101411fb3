#!/usr/bin/env bash
# `cairn copy` throughput against copying the repository's files (issue 16.5: at least 80 % of
# `cp -r` / `aws s3 sync` of the same bytes, on the same machine, in the same run). A repository
# holding SIZE_MIB of new data (half random, half text, in files of 1 MiB to 64 MiB and a directory
# of up to 4,000 small files) is copied
#   local -> local: with `cp -r`, and with `cairn copy` into a repository sharing the source's master
#                   keys (init --copy-keys-from: whole packs as they are), one sharing only its chunker
#                   (init --copy-chunker-from: every blob opened, verified and sealed again) and, unless
#                   NO_RECHUNK=1, one with its own chunker (re-chunked and compressed again);
#   local -> S3 (moto on loopback): with `aws s3 sync`, and with `cairn copy` into the same two
#                   kinds of replica (keys shared, chunker shared).
# The source stays in the page cache for every run alike (DROP_CACHES=1 drops caches before each
# run instead, where allowed: it slows every other program on the machine). Each line prints
# `uptime`'s load: compare ratios within one run.
#
#   Benchmarks/copy/run.sh [SIZE_MIB]      (default 4096; NO_S3=1 skips the S3 part)
#
# Needs a release build (swift build -c release, or CAIRN=path/to/cairn); for S3, python3 with
# moto[server] and the aws CLI. On demand, never in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
size_mib="${1:-4096}"
cairn="${CAIRN:-$PWD/.build/release/cairn}"
[ -x "$cairn" ] || { echo "no release cairn at $cairn: swift build -c release (or set CAIRN)" >&2; exit 1; }
work="$(mktemp -d "${WORK_BASE:-/tmp}/cairn-copy-bench.XXXXXX")"
moto=""
trap '[ -n "$moto" ] && kill $moto 2>/dev/null; rm -rf "$work"' EXIT
export CAIRN_PASSWORD=bench CAIRN_CACHE_DIR="$work/cache"

echo "generating $size_mib MiB in $work/src"
mkdir -p "$work/src/small"
python3 - "$work/src" "$size_mib" <<'PY'
import os, sys, random
root, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
small = min(4000, max(100, mib * 2))
for i in range(small):
    with open(f"{root}/small/s{i:05d}", "wb") as f: f.write(rnd.randbytes(rnd.randint(1024, 16384)))
left, i = mib << 20, 0
while left > 0:
    n = min(left, (1 << 20) << (i % 7))
    with open(f"{root}/f{i:04d}.bin", "wb") as f:
        if i % 2 == 0:
            f.write(rnd.randbytes(n))
        else:
            line = b"".join(f"row {j} value {rnd.random():.12f} {'x' * (j % 50)}\n".encode() for j in range(20000))
            f.write((line * (n // len(line) + 1))[:n])
    left -= n; i += 1
PY
"$cairn" init --repo "$work/repo" >/dev/null
"$cairn" backup --repo "$work/repo" "$work/src" >/dev/null
rm -rf "$work/src"   # the copy's check restores from the replica and compares against the source repository's restore
stored=$(du -sb "$work/repo" | cut -f1)
echo "repository: $((stored >> 20)) MiB stored in $(find "$work/repo/data" -type f | wc -l) packs, cores: $(nproc)"

drop() {
  if [ "${DROP_CACHES:-0}" = 1 ]; then sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  else cat "$work"/repo/data/*/* > /dev/null; fi   # every run starts with the source in the page cache
}
declare -A took
measure() {  # key, label, command...
  local key="$1" label="$2"; shift 2
  drop
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { echo "$label failed:"; cat "$work/err"; return 1; }
  end=$(date +%s.%N)
  read -r rss user sys < <(tail -1 "$work/time")
  took[$key]=$(python3 -c "import sys; print(float(sys.argv[2])-float(sys.argv[1]))" "$start" "$end")
  python3 -c "import sys; s=float(sys.argv[1]); print(f'{sys.argv[3]:<44} {s:7.2f} s  {int(sys.argv[2])/s/1e6:7.1f} MB/s  CPU {sys.argv[5]}+{sys.argv[6]} s  peak RSS {int(sys.argv[4])/1024:5.0f} MiB  load {sys.argv[7]}')" \
    "${took[$key]}" "$stored" "$label" "$rss" "$user" "$sys" "$(cut -d' ' -f1 /proc/loadavg)"
}
ratio() {  # label, baseline key, key
  python3 -c "import sys; print(f'{sys.argv[1]:<44} {float(sys.argv[2])/float(sys.argv[3])*100:5.0f} % of the baseline\'s speed (target: 80 %)')" "$1" "${took[$2]}" "${took[$3]}"
}
check() {  # repository URL: the latest snapshot restores as from the source, and scrubs clean
  "$cairn" scrub --repo "$1" >/dev/null || { echo "scrub of $1 FAILED"; return 1; }
  rm -rf "$work/check"
  "$cairn" restore latest --repo "$1" --target "$work/check" >/dev/null
  if diff -r "$work/expected" "$work/check" >/dev/null; then echo "  $1: restores identical, scrubs clean"; else echo "  $1: the copy DIFFERS from the source"; return 1; fi
}
"$cairn" restore latest --repo "$work/repo" --target "$work/expected" >/dev/null

echo "== local -> local   ($(uptime | sed 's/.*load/load/'))"
measure cp "cp -r of the repository" cp -r "$work/repo" "$work/cp"
rm -rf "$work/cp"; sync
"$cairn" init --repo "$work/keys" --copy-keys-from "$work/repo" >/dev/null
measure keys "cairn copy, keys shared (whole packs)" "$cairn" copy --repo "$work/repo" --to "$work/keys"
grep -o "([0-9]* packs copied whole[^)]*)" "$work/out" | sed 's/^/  /' || true
"$cairn" init --repo "$work/same" --copy-chunker-from "$work/repo" >/dev/null
measure same "cairn copy, chunker shared (blobs resealed)" "$cairn" copy --repo "$work/repo" --to "$work/same"
measure cp2 "cp -r of the repository, again" cp -r "$work/repo" "$work/cp"
rm -rf "$work/cp"; sync
# cairn makes every pack durable (fsync, rename, fsync of the directory) before it names it: the same
# bytes made durable by cp are the fairer baseline (sync also writes back other programs' dirty pages).
measure cpsync "cp -r + sync" sh -c "cp -r '$work/repo' '$work/cp' && sync"
rm -rf "$work/cp"; sync
took[cpmean]=$(python3 -c "import sys; print((float(sys.argv[1])+float(sys.argv[2]))/2)" "${took[cp]}" "${took[cp2]}")
ratio "keys shared vs cp -r (mean of two)" cpmean keys
ratio "chunker shared vs cp -r (mean of two)" cpmean same
ratio "keys shared vs cp -r + sync" cpsync keys
ratio "chunker shared vs cp -r + sync" cpsync same
check "$work/keys"; check "$work/same"
rm -rf "$work/same"
if [ "${NO_RECHUNK:-0}" != 1 ]; then
  "$cairn" init --repo "$work/other" >/dev/null
  measure other "cairn copy, re-chunked" "$cairn" copy --repo "$work/repo" --to "$work/other"
  ratio "re-chunked vs cp -r (mean of two)" cpmean other
  rm -rf "$work/other"
fi
rm -rf "$work/keys"

if [ "${NO_S3:-0}" != 1 ]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  python3 "$root/Tests/CairnTestSupport/run_moto.py" -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  moto=$!
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  s3() { aws --endpoint-url "http://127.0.0.1:$port" s3 "$@"; }
  echo "== local -> S3 (moto)   ($(uptime | sed 's/.*load/load/'))"
  s3 mb s3://sync >/dev/null
  measure sync "aws s3 sync of the repository" aws --endpoint-url "http://127.0.0.1:$port" s3 sync --quiet "$work/repo" s3://sync/repo
  s3 rb --force s3://sync >/dev/null
  "$cairn" init --repo "s3:http://127.0.0.1:$port/keys/repo" --copy-keys-from "$work/repo" >/dev/null
  measure s3keys "cairn copy to S3, keys shared (whole packs)" "$cairn" copy --repo "$work/repo" --to "s3:http://127.0.0.1:$port/keys/repo"
  check "s3:http://127.0.0.1:$port/keys/repo"
  s3 rb --force s3://keys >/dev/null
  "$cairn" init --repo "s3:http://127.0.0.1:$port/same/repo" --copy-chunker-from "$work/repo" >/dev/null
  measure s3same "cairn copy to S3, chunker shared" "$cairn" copy --repo "$work/repo" --to "s3:http://127.0.0.1:$port/same/repo"
  s3 rb --force s3://same >/dev/null
  s3 mb s3://sync2 >/dev/null
  measure sync2 "aws s3 sync of the repository, again" aws --endpoint-url "http://127.0.0.1:$port" s3 sync --quiet "$work/repo" s3://sync2/repo
  s3 rb --force s3://sync2 >/dev/null
  took[syncmean]=$(python3 -c "import sys; print((float(sys.argv[1])+float(sys.argv[2]))/2)" "${took[sync]}" "${took[sync2]}")
  ratio "S3 keys shared vs aws s3 sync (mean of two)" syncmean s3keys
  ratio "S3 chunker shared vs aws s3 sync (mean)" syncmean s3same
fi
echo "done   ($(uptime | sed 's/.*load/load/'))"

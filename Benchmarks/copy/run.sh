#!/usr/bin/env bash
# `cairn copy` throughput against copying the repository's files (issue 16.5: at least 80 % of
# `cp -r`, of the same bytes, on the same machine). A repository holding SIZE_MIB of new data
# (half random, half text, in files of 1 MiB to 64 MiB and a directory of 4,000 small files) is
# copied into a new local repository that cuts chunks the same way (init --copy-chunker-from:
# blobs copied as stored, re-sealed) and into one with its own chunker (re-chunked), and its
# directory is copied with `cp -r`. Caches are dropped in between where allowed
# (/proc/sys/vm/drop_caches; otherwise every run reads from the page cache alike).
#
#   Benchmarks/copy/run.sh [SIZE_MIB]      (default 2048)
#
# Needs a release build (swift build -c release, or CAIRN=path/to/cairn). On demand, never in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib="${1:-2048}"
cairn="${CAIRN:-$PWD/.build/release/cairn}"
[ -x "$cairn" ] || { echo "no release cairn at $cairn: swift build -c release (or set CAIRN)" >&2; exit 1; }
work="$(mktemp -d /tmp/cairn-copy-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
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
stored=$(du -sb "$work/repo" | cut -f1)
echo "repository: $((stored >> 20)) MiB stored, cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
measure() {  # label, command...
  local label="$1"; shift
  drop
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { echo "$label failed:"; cat "$work/err"; return 1; }
  end=$(date +%s.%N)
  read -r rss user sys < <(tail -1 "$work/time")
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[4]:<36} {s:7.2f} s  {int(sys.argv[3])/s/1e6:7.1f} MB/s of the repository  CPU {sys.argv[6]}+{sys.argv[7]} s  peak RSS {int(sys.argv[5])/1024:5.0f} MiB')" \
    "$start" "$end" "$stored" "$label" "$rss" "$user" "$sys"
  echo "$start $end" > "$work/last"
}
seconds() { python3 -c "import sys; a,b=open(sys.argv[1]).read().split(); print(float(b)-float(a))" "$work/last"; }

measure "cp -r of the repository" cp -r "$work/repo" "$work/cp"
cp_s=$(seconds)
rm -rf "$work/cp"
"$cairn" init --repo "$work/same" --copy-chunker-from "$work/repo" >/dev/null
measure "cairn copy, same chunker" "$cairn" copy --repo "$work/repo" --to "$work/same"
same_s=$(seconds)
"$cairn" init --repo "$work/other" >/dev/null
measure "cairn copy, re-chunked" "$cairn" copy --repo "$work/repo" --to "$work/other"
python3 -c "import sys; print(f'same chunker: {float(sys.argv[1])/float(sys.argv[2])*100:.0f} % of cp -r (target: 80 %)')" "$cp_s" "$same_s"
"$cairn" restore latest --repo "$work/same" --target "$work/check" >/dev/null
restored=$(find "$work/check" -type d -name src | head -1)
diff -r "$work/src" "$restored" >/dev/null && echo "the copy restores identical" || echo "the copy DIFFERS from the source"

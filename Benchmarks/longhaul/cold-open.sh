#!/usr/bin/env bash
# The disaster open of a repository kept by run.sh --keep (issue 16.2: a new machine, an empty
# cache), measured with one or more cairn binaries run alternately at the same load:
# `snapshots --name pg-dump` and `restore latest --name pg-dump --stdout`, each from a new empty
# cache and without the key cache, --repeat times per binary; prints per binary and command the
# median wall and CPU time (user + system) and the store requests of one run (S3: the server's
# request log; local store: strace, as run.sh counts them).
#
#   Benchmarks/longhaul/cold-open.sh REPO_URL [--repeat N] [--moto-log FILE] CAIRN [CAIRN...]
#   The passphrase is CAIRN_PASSWORD (default: run.sh's "longhaul"); S3 credentials as run.sh's.
# Runs on demand, never in CI.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,11p' "$0"; exit 2; }
url="$1"; shift
repeat=3
moto_log=""
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat="$2"; shift 2 ;;
    --moto-log) moto_log="$2"; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "name at least one cairn binary" >&2; exit 2; }
[[ "$url" == s3:* ]] && [ -z "$moto_log" ] && { echo "an S3 repository needs --moto-log (the server's request log)" >&2; exit 2; }
export CAIRN_PASSWORD="${CAIRN_PASSWORD:-longhaul}" CAIRN_KEY_CACHE=off CAIRN_REPO="$url"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-bench}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-bench-secret}" AWS_REGION="${AWS_REGION:-us-east-1}"
work=$(mktemp -d /tmp/cairn-cold-open.XXXXXX)
trap 'rm -rf "$work"' EXIT
commands=("snapshots --name pg-dump" "restore latest --name pg-dump --stdout")

# shellcheck source=requests.sh
source "$(dirname "$0")/requests.sh"

echo "cold open of $url: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $repeat runs per binary and command, alternated"
: >"$work/results"
for i in $(seq "$repeat"); do
  for c in "${commands[@]}"; do
    b=0
    for bin in "$@"; do
      b=$((b + 1))
      before=0; [ -n "$moto_log" ] && before=$(wc -l <"$moto_log")
      # shellcheck disable=SC2086
      CAIRN_CACHE_DIR="$work/cache-$b-$i" /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$bin" $c >/dev/null 2>"$work/err" \
        || { echo "$bin $c failed: $(tail -3 "$work/err")" >&2; exit 1; }
      reqs="-"
      if [ "$i" = 1 ]; then
        if [ -n "$moto_log" ]; then reqs=$(s3_requests "$moto_log" "$before")
        elif command -v strace >/dev/null; then
          # shellcheck disable=SC2086
          CAIRN_CACHE_DIR="$work/count-$b" strace -f -qq -e trace=openat,rename,renameat,renameat2,unlink,unlinkat,stat,newfstatat,statx \
            -o "$work/strace" "$bin" $c >/dev/null 2>&1 || true
          reqs=$(local_requests "$work/strace" "${url#local:}"); rm -rf "$work/count-$b"
        fi
      fi
      printf '%s\t%s\t%s\t%s\n' "$b" "$c" "$(cat "$work/time" | tr ' ' '\t')" "$reqs" >>"$work/results"
      rm -rf "$work/cache-$b-$i"
    done
  done
done
python3 - "$work/results" "$@" <<'PY'
import statistics, sys, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
bins = sys.argv[2:]
by = collections.defaultdict(list)
reqs = {}
for b, c, wall, user, sys_, rss, r in rows:
    by[(b, c)].append((float(wall), float(user) + float(sys_), int(rss)))
    if r != "-": reqs[(b, c)] = r
for (b, c), runs in by.items():
    print(f"  {bins[int(b) - 1]}: {c:42} wall {statistics.median(r[0] for r in runs):7.2f} s, cpu {statistics.median(r[1] for r in runs):6.2f} s, "
          f"peak {max(r[2] for r in runs) // 1024} MB | {reqs.get((b, c), '?')}")
PY
echo "(load at the end $(cut -d' ' -f1-3 /proc/loadavg))"

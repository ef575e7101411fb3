#!/usr/bin/env bash
# wal-push throughput: real WAL segments from a throwaway PostgreSQL cluster
# (pgbench), pushed one `cairn wal-push` process per segment the way
# archive_command runs it, into a local repository. Release build.
# Prints segments per second, MB/s and per-push latency; then the same
# segments again (already archived: the no-op path PostgreSQL hits after a crash).
#
#   Benchmarks/wal-push/run.sh [SCALE]     # pgbench scale (default 30, ~30 segments)
set -euo pipefail
cd "$(dirname "$0")/../.."
SCALE="${1:-30}"
PGBIN="${CAIRN_PG_BIN:-/usr/lib/postgresql/15/bin}"
swift build -c release --static-swift-stdlib --scratch-path .build-release-pg --product cairn >/dev/null
WORK=$(mktemp -d /tmp/cairn-walpush-XXXXXX)
trap 'as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
cp .build-release-pg/release/cairn "$WORK/cairn"; chmod 755 "$WORK/cairn"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres: "$WORK"

# 1. Real WAL: pgbench into a cluster whose archive_command copies segments aside.
as_pg mkdir -p "$WORK/wal"
as_pg "$PGBIN/initdb" -D "$WORK/data" -A trust -U postgres -N >/dev/null
cat <<CONF | as_pg tee -a "$WORK/data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$WORK'
port = 5499
wal_level = replica
archive_mode = on
archive_command = 'cp %p $WORK/wal/%f'
fsync = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w start >/dev/null
as_pg "$PGBIN/pgbench" -h "$WORK" -p 5499 -U postgres -i -s "$SCALE" -q postgres 2>/dev/null
as_pg "$PGBIN/pgbench" -h "$WORK" -p 5499 -U postgres -T 10 -c 4 postgres >/dev/null 2>&1
as_pg "$PGBIN/psql" -h "$WORK" -p 5499 -U postgres -qAtc "SELECT pg_switch_wal()" postgres >/dev/null
sleep 2
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null

# 2. A repository the postgres user owns.
as_pg sh -c "umask 077; echo bench-passphrase > '$WORK/pass'"
as_pg env CAIRN_REPO="$WORK/repo" CAIRN_PASSWORD_FILE="$WORK/pass" CAIRN_CACHE_DIR="$WORK/cache" "$WORK/cairn" init >/dev/null
segs=$(ls "$WORK/wal" | grep -E '^[0-9A-F]{24}$' | sort)
n=$(echo "$segs" | wc -l)
push_all() {
  as_pg env CAIRN_REPO="$WORK/repo" CAIRN_PASSWORD_FILE="$WORK/pass" CAIRN_CACHE_DIR="$WORK/cache" WORK="$WORK" SEGS="$segs" bash -c '
    for s in $SEGS; do
      a=$(date +%s.%N); "$WORK/cairn" wal-push "$WORK/wal/$s" 2>/dev/null || echo "push of $s failed" >&2; b=$(date +%s.%N)
      echo "$a $b"
    done' > "$WORK/times"
  local total p50 max
  total=$(awk 'NR == 1 { s = $1 } { e = $2 } END { printf "%.3f", e - s }' "$WORK/times")
  p50=$(awk '{ printf "%.3f\n", $2 - $1 }' "$WORK/times" | sort -n | awk -v n="$n" 'NR == int((n + 1) / 2)')
  max=$(awk '{ printf "%.3f\n", $2 - $1 }' "$WORK/times" | sort -n | tail -1)
  awk -v n="$n" -v t="$total" -v label="$1" -v p50="$p50" -v max="$max" 'BEGIN {
    printf "%-18s %d segments in %.2f s: %.1f segments/s, %.0f MB/s; per push p50 %s s, max %s s\n", label, n, t, n / t, n * 16.777216 / t, p50, max }'
}
echo "wal-push benchmark: $(nproc) cores, $(uname -m), release build, local store, pgbench scale $SCALE"
push_all "new segments:"
push_all "already archived:"
du -sh "$WORK/repo" | awk -v raw="$(du -sh "$WORK/wal" | cut -f1)" '{ print "stored " $1 " for " raw " of WAL" }'

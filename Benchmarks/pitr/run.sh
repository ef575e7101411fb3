#!/usr/bin/env bash
# Point-in-time restore through `cairn wal-fetch` (issue 16.2): a real PostgreSQL cluster replays
# SEGMENTS archived WAL segments (default 1,440: one day at archive_timeout = 60) on top of a base
# backup, once with restore_command = 'cp' from a local pg_wal copy and once with restore_command =
# 'cairn wal-fetch' from a repository opened with an EMPTY cache (a new machine after a disaster),
# alternating ROUNDS times. Prints each replay's wall time (start of the server to the end of
# recovery, i.e. promotion), the median ratio cairn/cp, and the load.
#
#   Benchmarks/pitr/run.sh [--segments N] [--segment-mb 1|2|4|...|16] [--rounds N] [--store local|s3]
#                          [--push-jobs N] [--switched] [--keep DIR] [--fetch-args "ARGS"]
#   --push-jobs N archives the WAL with N wal-push processes at once (the archive is not what is
#   measured; on a loaded machine one at a time takes longer than the replays).
#   --switched makes a quiet day at archive_timeout = 60: every segment holds a few transactions and
#   ends in a WAL switch (nearly empty), instead of full segments of pgbench and bulk load.
#   --keep DIR keeps the WAL, base backup and repository in DIR: a later run with the same DIR only
#   replays (with the CAIRN binary of that run). --rounds 0 --keep DIR prepares DIR and replays nothing
#   (so that the replays can wait for a quiet machine).
#   --fetch-args adds options to the wal-fetch line (e.g. "--spool-max 512MiB").
#   --dense-cp adds a replay to every round whose restore_command is `cp --sparse=never`: every
#   restored segment written out whole, as a copy of a pg_wal directory (files as PostgreSQL wrote
#   them) gives it, even where the WAL copies were hole-punched (fallocate --dig-holes) for disk space.
#   CAIRN=path/to/cairn skips the release build; CAIRN_PG_BIN (default /usr/lib/postgresql/15/bin).
#   CAIRN_OTHER=path/to/another/cairn adds a third replay to every round (cp, CAIRN, CAIRN_OTHER, in
#   turn): two builds (e.g. linked statically and dynamically) compared at the same load.
#
# The WAL is pgbench's TPC-B-like load (small records and full-page images) interleaved with bulk
# inserts, updates and deletes of a table of events (to make a day's WAL in minutes), archived by a plain
# 'cp' archive_command and then pushed one `cairn wal-push` process per segment, as archive_command
# runs it. Smaller segments (--segment-mb) keep the disk and time small and are the HARDER case for
# Cairn: its cost per segment (a process, a repository open) is fixed while the replay per segment
# shrinks. Disk needed: about 2.5 x SEGMENTS x segment size. Runs on demand, never in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
segments=1440
segment_mb=16
rounds=2
store=local
push_jobs=1
switched=0
keep=""
fetch_args=""
dense_cp=0
while [ $# -gt 0 ]; do
  case "$1" in
    --segments) segments="$2"; shift ;;
    --segment-mb) segment_mb="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --store) store="$2"; shift ;;
    --push-jobs) push_jobs="$2"; shift ;;
    --switched) switched=1 ;;
    --keep) keep="$2"; shift ;;
    --fetch-args) fetch_args="$2"; shift ;;
    --dense-cp) dense_cp=1 ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$segments" =~ ^[0-9]+$ && "$segments" -ge 2 ]] || { echo "--segments must be a number >= 2" >&2; exit 2; }
[[ "$rounds" =~ ^[0-9]+$ ]] || { echo "--rounds must be a number (0: prepare --keep DIR only)" >&2; exit 2; }
[ "$rounds" -ge 1 ] || [ -n "$keep" ] || { echo "--rounds 0 prepares only: it needs --keep DIR" >&2; exit 2; }
case "$segment_mb" in 1|2|4|8|16|32|64) ;; *) echo "--segment-mb must be a power of two from 1 to 64" >&2; exit 2 ;; esac
case "$store" in local|s3) ;; *) echo "--store must be local or s3" >&2; exit 2 ;; esac
PGBIN="${CAIRN_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ -z "${CAIRN:-}" ]; then
  swift build -c release --static-swift-stdlib --product cairn >/dev/null
  CAIRN="$PWD/.build/release/cairn"
fi
if [ -n "$keep" ]; then
  mkdir -p "$keep"; work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d /tmp/cairn-pitr.XXXXXX)
fi
chmod 755 "$work"
moto=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_all() {
  for d in "$work"/data "$work"/replay; do
    [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
  done
}
cleanup() { stop_all; [ -n "$moto" ] && kill "$moto" 2>/dev/null; [ -n "$keep" ] || rm -rf "$work"; }
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres: "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

psql() { as_pg "$PGBIN/psql" -h "$work" -p "$port" -U postgres -qAtX "$@" postgres; }
write_env() {  # write_env FILE CACHE: the env file restore_command reads (no secret in it, only the passphrase file's path)
  as_pg sh -c "umask 077; printf '%s\n' 'CAIRN_REPO=$repo_url' 'CAIRN_PASSWORD_FILE=$work/pass' 'CAIRN_CACHE_DIR=$2' > '$1'"
  [ -n "$aws_lines" ] && as_pg sh -c "printf '%s\n' \"\$0\" >> '$1'" "$aws_lines"
  return 0
}
if [ -f "$work/prepared" ]; then
  . "$work/prepared"
  echo "pitr benchmark: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), reusing $work: $wal_count WAL files ($((wal_bytes >> 20)) MiB), store $store"
else
# 1. A cluster whose archive_command copies each segment aside: that copy is the local pg_wal copy.
[ -z "$(ls -A "$work")" ] || { echo "--keep $work: not empty and not a prepared run (remove it first)" >&2; exit 2; }
as_pg mkdir -p "$work/wal"
as_pg "$PGBIN/initdb" -D "$work/data" -A trust -U postgres -N --wal-segsize="$segment_mb" >/dev/null
cat <<CONF | as_pg tee -a "$work/data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
wal_level = replica
archive_mode = on
archive_command = 'cp %p $work/wal/%f'
fsync = off
max_wal_size = 4GB
CONF
as_pg "$PGBIN/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null
as_pg "$PGBIN/pgbench" -h "$work" -p "$port" -U postgres -i -s 20 -q postgres >/dev/null 2>&1
as_pg "$PGBIN/pg_basebackup" -h "$work" -p "$port" -U postgres -D "$work/base" -X fetch -c fast
first=$(psql -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
echo "pitr benchmark: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $segments $([ $switched = 1 ] && echo switched) segments of $segment_mb MiB after the base backup, store $store"
echo "generating WAL with pgbench (from segment $first)"
start_gen=$(date +%s)
segno() { psql -c "SELECT floor((pg_current_wal_lsn() - '0/0'::pg_lsn) / $((segment_mb << 20)))::bigint"; }
base_no=$(segno)
psql -c "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz, payload text)"
batch=0
if [ "$switched" = 1 ]; then
  # A quiet day at archive_timeout = 60: a few transactions a minute, then the timeout's switch.
  psql -c "CREATE TABLE ticks (id bigint PRIMARY KEY, at timestamptz)"
  for i in $(seq "$segments"); do
    psql -c "INSERT INTO ticks VALUES ($i, now()); UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = $i;
             INSERT INTO events VALUES ($i, now(), md5($i::text)); SELECT pg_switch_wal()" >/dev/null
  done
fi
while [ "$switched" = 0 ] && [ $(( $(segno) - base_no )) -lt "$segments" ]; do
  as_pg "$PGBIN/pgbench" -h "$work" -p "$port" -U postgres -n -c 2 -T 3 postgres >/dev/null 2>&1
  psql -c "INSERT INTO events SELECT g, now(), md5(g::text) || repeat(md5((g * 7)::text), 6)
             FROM generate_series($batch * 100000 + 1, ($batch + 1) * 100000) g;
           UPDATE events SET payload = upper(payload) WHERE id % 3 = 0 AND id > ($batch - 1) * 100000;
           DELETE FROM events WHERE id <= ($batch - 2) * 100000" >/dev/null
  batch=$((batch + 1))
done
last=$(psql -c "SELECT pg_walfile_name(pg_current_wal_lsn())")
psql -c "SELECT pg_switch_wal()" >/dev/null
for _ in $(seq 600); do
  [ "$(psql -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" \> "$last" ] ||
    [ "$(psql -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" = "$last" ] && break
  sleep 0.5
done
as_pg "$PGBIN/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null
# Only what the replay needs: the base backup's own WAL and later (the backup history file stays).
wal_count=$(ls "$work/wal" | grep -cE '^[0-9A-F]{24}$')
wal_bytes=$(du -sb "$work/wal" | cut -f1)
echo "generated $wal_count segments ($((wal_bytes >> 20)) MiB) in $(( $(date +%s) - start_gen )) s; last $last"

# 2. The repository: every archived file pushed by one wal-push process, as archive_command runs it.
# (CAIRN is first read here: with CAIRN set, a build of it may still be finishing while the WAL is made.)
for _ in $(seq 7200); do [ -x "$CAIRN" ] && break; sleep 1; done
cp "$CAIRN" "$work/cairn-push"; chmod 755 "$work/cairn-push"
if [ "$store" = s3 ]; then
  [ -n "$keep" ] && { echo "--keep works with --store local only (moto keeps its objects in memory)" >&2; exit 2; }
  moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 Tests/CairnTestSupport/run_moto.py -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
  moto=$!
  for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$moto_port),0.2)" 2>/dev/null && break; sleep 0.1; done
  repo_url="s3:http://127.0.0.1:$moto_port/pitr/cairn"
  aws_lines=$'AWS_ACCESS_KEY_ID=bench\nAWS_SECRET_ACCESS_KEY=bench-secret\nAWS_REGION=us-east-1'
else
  repo_url="$work/repo"
  aws_lines=""
fi
as_pg sh -c "umask 077; echo pitr-bench-passphrase > '$work/pass'"
write_env "$work/push.env" "$work/cache-push"
as_pg env CAIRN_ENV_FILE="$work/push.env" "$work/cairn-push" init >/dev/null
start_push=$(date +%s.%N)
ls "$work/wal" | sort | as_pg xargs -P "$push_jobs" -I{} sh -c \
  '"$0" wal-push --env-file "$1" "$2/{}" {} >/dev/null 2>"$2/../push-{}.err" || { cat "$2/../push-{}.err" >&2; exit 255; }' \
  "$work/cairn-push" "$work/push.env" "$work/wal" || { echo "wal-push failed"; exit 1; }
push_s=$(echo "$(date +%s.%N) - $start_push" | bc)
printf 'pushed %d files in %.1f s (%.1f a second); repository %s MiB\n' "$(ls "$work/wal" | wc -l)" "$push_s" \
  "$(echo "$(ls "$work/wal" | wc -l) / $push_s" | bc -l)" "$([ "$store" = local ] && du -sm "$work/repo" | cut -f1 || echo '?')"
[ -n "$keep" ] && printf 'wal_count=%s\nwal_bytes=%s\nrepo_url=%q\naws_lines=%q\n' "$wal_count" "$wal_bytes" "$repo_url" "$aws_lines" > "$work/prepared"
fi
[ "$rounds" -ge 1 ] || { echo "prepared $work (--rounds 0: no replay)"; exit 0; }
for _ in $(seq 7200); do [ -x "$CAIRN" ] && break; sleep 1; done
cp "$CAIRN" "$work/cairn"; chmod 755 "$work/cairn"
[ -n "${CAIRN_OTHER:-}" ] && { cp "$CAIRN_OTHER" "$work/cairn-other"; chmod 755 "$work/cairn-other"; }

# 3. Replays: the same base backup, the same WAL, only restore_command differs.
replay() {  # replay LABEL RESTORE_COMMAND: prints seconds from server start to the end of recovery
  local label="$1" command="$2"
  as_pg rm -rf "$work/replay"
  as_pg cp -a "$work/base" "$work/replay"
  as_pg rm -f "$work/replay/postmaster.pid"
  cat <<CONF | as_pg tee -a "$work/replay/postgresql.conf" >/dev/null
archive_mode = off
fsync = on
port = $port
restore_command = '$command'
CONF
  as_pg touch "$work/replay/recovery.signal"
  sync
  local start end cg=""
  # The CPU the whole replay costs (the server, every restore_command and what they start, such
  # as the detached fetcher): a cpuacct cgroup of its own where cgroup v1's cpuacct is writable.
  # Unlike the wall time it hardly moves with the load of a shared machine.
  if [ -w /sys/fs/cgroup/cpuacct ]; then cg="/sys/fs/cgroup/cpuacct/cairn-pitr-$$-$label"; mkdir -p "$cg"; fi
  start=$(date +%s.%N)
  ( [ -n "$cg" ] && echo "$BASHPID" >"$cg/cgroup.procs"
    as_pg "$PGBIN/pg_ctl" -D "$work/replay" -l "$work/replay.log" start >/dev/null )
  # Recovery ends with promotion, which removes recovery.signal.
  while [ -e "$work/replay/recovery.signal" ]; do
    if ! [ -f "$work/replay/postmaster.pid" ] && grep -q 'FATAL\|PANIC' "$work/replay.log" 2>/dev/null; then
      echo "$label replay failed: $(grep 'FATAL\|PANIC' "$work/replay.log" | tail -2)" >&2; exit 1
    fi
    sleep 0.05
  done
  end=$(date +%s.%N)
  local replayed
  replayed=$(grep -c 'restored log file' "$work/replay.log" || true)
  # Every segment up to the last one archived must have been replayed.
  psql_r() { as_pg "$PGBIN/psql" -h "$work" -p "$port" -U postgres -qAtX "$@" postgres; }
  for _ in $(seq 100); do psql_r -c "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
  local count
  count=$(psql_r -c "SELECT (SELECT count(*) FROM pgbench_history) || '/' || (SELECT count(*) FROM events)")
  as_pg "$PGBIN/pg_ctl" -D "$work/replay" -m immediate stop >/dev/null
  as_pg mv "$work/replay.log" "$work/replay-$label.log"
  local cpu="-"
  if [ -n "$cg" ]; then
    # What is still in the group (a fetcher finishing) is stopped so that it counts and the group can go.
    for _ in $(seq 50); do [ -s "$cg/cgroup.procs" ] || break; sleep 0.1; done
    xargs -r kill 2>/dev/null <"$cg/cgroup.procs" || true
    sleep 0.2
    cpu=$(awk '{ printf "%.2f", $1 / 1e9 }' "$cg/cpuacct.usage"); rmdir "$cg" 2>/dev/null || true
  fi
  printf '%s %s %s %s %s\n' "$label" "$(echo "$end - $start" | bc)" "$replayed" "$count" "$cpu"
}
: >"$work/results"
for round in $(seq "$rounds"); do
  as_pg rm -rf "$work/cache-fetch" "$work/spool"
  write_env "$work/fetch.env" "$work/cache-fetch"
  replay cp "cp $work/wal/%f %p" | tee -a "$work/results" | awk -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{ printf "  cp from a local pg_wal copy:          %7.1f s (%s WAL files restored; rows %s) cpu %s s, load %s\n", $2, $3, $4, $5, l }'
  if [ "$dense_cp" = 1 ]; then
    replay cpdense "cp --sparse=never $work/wal/%f %p" | tee -a "$work/results" | awk -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
      '{ printf "  cp --sparse=never (whole files):       %7.1f s (%s WAL files restored; rows %s) cpu %s s, load %s\n", $2, $3, $4, $5, l }'
  fi
  replay cairn "$work/cairn wal-fetch --env-file $work/fetch.env $fetch_args %f \"%p\"" | tee -a "$work/results" | awk -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{ printf "  cairn wal-fetch (empty cache at start): %5.1f s (%s WAL files restored; rows %s) cpu %s s, load %s\n", $2, $3, $4, $5, l }'
  if [ -n "${CAIRN_OTHER:-}" ]; then
    as_pg rm -rf "$work/cache-fetch" "$work/spool"
    replay other "$work/cairn-other wal-fetch --env-file $work/fetch.env $fetch_args %f \"%p\"" | tee -a "$work/results" | awk -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
      '{ printf "  CAIRN_OTHER wal-fetch (empty cache):     %5.1f s (%s WAL files restored; rows %s) cpu %s s, load %s\n", $2, $3, $4, $5, l }'
  fi
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
cp = [float(r[1]) for r in rows if r[0] == "cp"]
cairn = [float(r[1]) for r in rows if r[0] == "cairn"]
counts = {r[3] for r in rows}
ratios = [c / p for p, c in zip(cp, cairn)]
print(f"replay of the same WAL: cp median {statistics.median(cp):.1f} s, cairn wal-fetch median {statistics.median(cairn):.1f} s; "
      f"ratio per round {', '.join(f'{r:.2f}' for r in ratios)} (goal <= 1.5)")
other = [float(r[1]) for r in rows if r[0] == "other"]
dense = [float(r[1]) for r in rows if r[0] == "cpdense"]
if dense:
    print(f"against cp --sparse=never (whole files): median {statistics.median(dense):.1f} s; cairn ratio per round "
          f"{', '.join(f'{c / d:.2f}' for d, c in zip(dense, cairn))}"
          + (f"; CAIRN_OTHER {', '.join(f'{o / d:.2f}' for d, o in zip(dense, other))}" if other else ""))
cpu = {label: [float(r[4]) for r in rows if r[0] == label and len(r) > 4 and r[4] != "-"] for label in ("cp", "cpdense", "cairn", "other")}
if cpu["cp"] and cpu["cairn"]:
    print("CPU of the whole replay (medians): " + ", ".join(f"{k} {statistics.median(v):.1f} s" for k, v in cpu.items() if v)
          + f"; cairn/cp {statistics.median(cpu['cairn']) / statistics.median(cpu['cp']):.2f}"
          + (f", other/cp {statistics.median(cpu['other']) / statistics.median(cpu['cp']):.2f}" if cpu["other"] else ""))
if other:
    print(f"CAIRN_OTHER wal-fetch median {statistics.median(other):.1f} s; ratio to cp per round "
          f"{', '.join(f'{o / p:.2f}' for p, o in zip(cp, other))}; to CAIRN {', '.join(f'{o / c:.2f}' for c, o in zip(cairn, other))}")
if len(counts) != 1:
    print(f"MISMATCH: the replays ended with different pgbench_history row counts {sorted(counts)}")
    sys.exit(1)
PY

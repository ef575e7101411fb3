#!/usr/bin/env bash
# Runs Cairn's libFuzzer targets (Fuzz/: one per parser of bytes from the store, a stream or a server).
#
#   scripts/fuzz.sh --list                 the targets
#   scripts/fuzz.sh TARGET SECONDS [FLAGS] one target for SECONDS (extra libFuzzer flags after)
#   scripts/fuzz.sh all SECONDS            every target SECONDS each, FUZZ_JOBS at a time (default: the
#                                          number of cores), each target's report printed as it ends
#
# Builds Fuzz/ with -sanitize=fuzzer,address (its own .build; the root package is not touched), writes
# the seed corpus (Fuzz/make_seeds.py and the encoders' seeds), and keeps what the fuzzer learns in
# Fuzz/.build/corpus/TARGET for the next run. Committed inputs in Fuzz/Regressions/TARGET (every
# crash found so far) are replayed first. Every run is bounded: -rss_limit_mb and -malloc_limit_mb
# (FUZZ_MEMORY_MB, default 512), -timeout per input (FUZZ_TIMEOUT, default 10 s).
# Exits non-zero when a target crashes, hangs or over-allocates; the input is saved under
# Fuzz/.build/artifacts/TARGET/ and the command to reproduce it is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_dir=Fuzz
build="$fuzz_dir/.build"

list_targets() {
  # Without building: the names in FuzzTarget.all's order, from the sources.
  sed -n 's/^ *name: "\([a-z0-9-]*\)", maxLength:.*/\1/p' "$fuzz_dir"/Sources/CairnFuzz/*Target.swift |
    grep -v '^$' | sort -u
}

if [ "${1:-}" = "--list" ] || [ "${1:-}" = "-l" ]; then
  list_targets
  exit 0
fi
if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags]; scripts/fuzz.sh --list" >&2
  exit 2
fi
target=$1 seconds=$2
shift 2
if [ "$target" != all ] && ! list_targets | grep -qx "$target"; then
  echo "fuzz: unknown target $target; known: $(list_targets | tr '\n' ' ')" >&2
  exit 2
fi

start=$SECONDS
echo "fuzz: building $fuzz_dir with -sanitize=fuzzer,address"
build_log="$build/build.log"
mkdir -p "$build"
if ! swift build --package-path "$fuzz_dir" -Xswiftc -sanitize=fuzzer,address >"$build_log" 2>&1; then
  # A parser's API changed under a target (a new object kind, a renamed decoder): say where.
  grep -E "error:" "$build_log" | sort -u | head -20 >&2
  echo "fuzz: building $fuzz_dir failed (full log $build_log)" >&2
  exit 1
fi
bin="$(swift build --package-path "$fuzz_dir" --show-bin-path)/cairn-fuzz"
echo "fuzz: built in $((SECONDS - start)) s"

seeds="$build/seeds"
rm -rf "$seeds"
python3 "$fuzz_dir/make_seeds.py" "$seeds"

if [ "$target" = all ]; then
  targets=$("$bin" --list | cut -f1)
else
  targets=$target
fi

memory=${FUZZ_MEMORY_MB:-512}
listing=$("$bin" --list)
logs="$build/logs"
mkdir -p "$logs"

# One target: its report goes to $logs/TARGET.report (printed whole when it ends, so reports of
# targets running side by side do not interleave); exits non-zero on a finding.
fuzz_one() {
  local t=$1 max_len own corpus artifacts log report t0 runs
  max_len=$(awk -F'\t' -v t="$t" '$1 == t { print $2 }' <<<"$listing")
  read -r -a own <<<"$(awk -F'\t' -v t="$t" '$1 == t { print $3 }' <<<"$listing")"
  corpus="$build/corpus/$t" artifacts="$build/artifacts/$t"
  rm -f "$logs/$t.report"
  mkdir -p "$corpus" "$artifacts" "$seeds/$t"
  "$bin" "$t" --write-seeds "$seeds/$t" >"$logs/$t.log" 2>&1
  local dirs=("$corpus" "$seeds/$t")
  [ -d "$fuzz_dir/Regressions/$t" ] && dirs+=("$fuzz_dir/Regressions/$t")
  log="$logs/$t.log" report="$logs/$t.report"
  t0=$SECONDS
  # SWIFT_BACKTRACE off: libFuzzer, not Swift's backtracer, must catch a trap to save the input.
  if SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64}" \
      "$bin" "$t" "${dirs[@]}" -max_total_time="$seconds" -max_len="$max_len" \
      -rss_limit_mb="$memory" -malloc_limit_mb="$memory" -timeout="${FUZZ_TIMEOUT:-10}" \
      -artifact_prefix="$artifacts/" -print_final_stats=1 ${own[@]+"${own[@]}"} "${extra_flags[@]}" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $t ok: ${runs:-?} inputs in $((SECONDS - t0)) s, corpus $(ls "$corpus" | wc -l) files" >"$report"
    return 0
  fi
  {
    echo "fuzz: $t FAILED after $((SECONDS - t0)) s:"
    grep -E "ERROR|SUMMARY|Fatal error|fuzz invariant|Test unit written|out-of-memory|timeout" "$log" | head -20 || tail -30 "$log"
    echo "fuzz: full log $log; reproduce: SWIFT_BACKTRACE=enable=no $bin $t ARTIFACT"
  } >"$report"
  return 1
}

# Prints a finished target's report and records its outcome.
finish_one() {
  local t=$1 status=$2
  [ -f "$logs/$t.report" ] || echo "fuzz: $t FAILED before fuzzing (writing its seeds); log $logs/$t.log" >"$logs/$t.report"
  if [ "$status" -eq 0 ]; then cat "$logs/$t.report"; else cat "$logs/$t.report" >&2; failed+=("$t"); fi
}

extra_flags=("$@")
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: FUZZ_JOBS must be a positive number, not $jobs" >&2; exit 2; }
echo "fuzz: $(echo $targets | wc -w) target(s), ${seconds} s each, $jobs at a time"
failed=()
declare -A running=()   # pid -> target
for t in $targets; do
  while [ ${#running[@]} -ge "$jobs" ]; do
    pid=
    status=0
    wait -n -p pid "${!running[@]}" || status=$?
    finish_one "${running[$pid]}" "$status"
    unset "running[$pid]"
  done
  fuzz_one "$t" &
  running[$!]=$t
done
while [ ${#running[@]} -gt 0 ]; do
  pid=
  status=0
  wait -n -p pid "${!running[@]}" || status=$?
  finish_one "${running[$pid]}" "$status"
  unset "running[$pid]"
done
echo "fuzz: ${#failed[@]} of $(echo $targets | wc -w) targets failed${failed[*]:+: ${failed[*]}}; $((SECONDS - start)) s in all"
[ ${#failed[@]} -eq 0 ]

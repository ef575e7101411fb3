#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test,
# and ends with one line "tests: N passed, M failed".
#
# Two lanes: first the fast lane (the test targets that start no server: one per module below the
# engine, the repository layer, the engine, the Redis client, the CLI with its concurrency tests, tar and
# tar export, node data), then the integration
# lane (every other target: real PostgreSQL, redis-server and moto started on loopback). A new test
# target lands in the integration lane until it is listed in fast_targets. With arguments (e.g.
# --filter X) the arguments choose and there are no lanes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Warnings are errors, and a target may import only what Package.swift says it depends on
# (issue 19): the build fails on either instead of letting them pile up.
swift build --build-tests -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error
rm -f .build/xunit-*.xml
status=0
fast_targets='CairnFormatTests|CairnCryptoTests|CairnCompressionTests|CairnIndexTests|CairnStorageTests|CairnSystemTests|CairnStoresTests|CairnRetentionTests|CairnPlanTests|CairnRepositoryTests|CairnEngineTests|CairnRedisClientTests|CairnCLITests|CairnTarTests|CairnTarExportTests|CairnNodeTests'
if [ $# -gt 0 ]; then
  swift test --skip-build --parallel --num-workers 2 --xunit-output .build/xunit-results.xml "$@" || status=$?
else
  echo "test.sh: fast lane (no servers)"
  swift test --skip-build --parallel --num-workers 2 --xunit-output .build/xunit-fast.xml --filter "^($fast_targets)\." || status=$?
  echo "test.sh: integration lane (PostgreSQL, redis-server, moto)"
  swift test --skip-build --parallel --num-workers 2 --xunit-output .build/xunit-integration.xml --skip "^($fast_targets)\." || status=$?
fi
# Fuzzing (Fuzz/, scripts/fuzz.sh): in CI every target runs CAIRN_FUZZ_SECONDS (default 20) after the
# tests, as many at once as there are cores (FUZZ_JOBS); a crash, hang or over-allocation fails the run.
# Elsewhere only when CAIRN_FUZZ_SECONDS is set.
fuzz_seconds=${CAIRN_FUZZ_SECONDS:-}
[ -z "$fuzz_seconds" ] && [ "${CI:-}" = true ] && [ $# -eq 0 ] && fuzz_seconds=20
if [ -n "$fuzz_seconds" ] && [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh all "$fuzz_seconds" || status=1
fi
# Parallel runs print no XCTest summary of their own: count the results (per lane, then in all).
python3 - .build/xunit-*.xml <<'PY'
import sys, xml.etree.ElementTree as ET
grand = [0, 0, 0]
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        print(f"tests: {path} unreadable ({e})"); continue
    total = failed = skipped = 0
    for c in root.iter("testcase"):
        total += 1
        if c.find("failure") is not None or c.find("error") is not None: failed += 1
        elif c.find("skipped") is not None: skipped += 1
    lane = path.rsplit("xunit-", 1)[-1].removesuffix(".xml")
    if len(sys.argv) > 2:
        print(f"tests ({lane} lane): {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
    grand = [grand[0] + total - failed - skipped, grand[1] + failed, grand[2] + skipped]
print(f"tests: {grand[0]} passed, {grand[1]} failed, {grand[2]} skipped")
PY
exit "$status"

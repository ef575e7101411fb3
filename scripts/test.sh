#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every test,
# and ends with one line "tests: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
xunit=.build/xunit-results.xml
rm -f "$xunit"
status=0
swift test --skip-build --parallel --num-workers 2 --xunit-output "$xunit" "$@" || status=$?
# Fuzzing (Fuzz/, scripts/fuzz.sh): in CI every target runs CAIRN_FUZZ_SECONDS (default 12) after the
# tests; a crash, hang or over-allocation fails the run. Elsewhere only when CAIRN_FUZZ_SECONDS is set.
fuzz_seconds=${CAIRN_FUZZ_SECONDS:-}
[ -z "$fuzz_seconds" ] && [ "${CI:-}" = true ] && [ $# -eq 0 ] && fuzz_seconds=12
if [ -n "$fuzz_seconds" ] && [ "$fuzz_seconds" != 0 ]; then
  scripts/fuzz.sh all "$fuzz_seconds" || status=1
fi
# Parallel runs print no XCTest summary of their own: count the results.
python3 - "$xunit" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception as e:
    print(f"tests: results unreadable ({e})"); sys.exit(0)
cases = root.iter("testcase")
total = failed = skipped = 0
for c in cases:
    total += 1
    if c.find("failure") is not None or c.find("error") is not None: failed += 1
    elif c.find("skipped") is not None: skipped += 1
print(f"tests: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"

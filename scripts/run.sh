#!/usr/bin/env bash
# The main job on an embedded default: a local repository, no cloud account.
# Backs up PATHS (default: /etc and this checkout's Sources/) into
# $CAIRN_REPO (default ./.cairn-demo/repo), lists the snapshots, restores the
# latest one and proves it byte for byte. Run it twice to see deduplication.
# Stops at the first command that fails, with that command's exit code
# (cairn backup's 3, "some files were unreadable, the rest is stored", is
# reported and the run goes on). Relative PATHS are taken from the directory
# you run it in. CAIRN_BIN=/path/to/cairn uses that binary instead of building.
set -euo pipefail
caller_dir="$PWD"
paths=()
for p in "$@"; do
  case "$p" in
    /*) paths+=("$p") ;;
    *) paths+=("$caller_dir/$p") ;;
  esac
done
cd "$(dirname "$0")/.."
if [ -n "${CAIRN_BIN:-}" ]; then
  cairn="$CAIRN_BIN"   # an already built cairn (the tests use this): no setup, no build
else
  scripts/setup.sh
  cairn=".build/release/cairn"
  if [ -x "$cairn" ]; then
    echo "run: bringing $cairn up to date" >&2
  else
    echo "run: building cairn (release; the first build takes 6-7 minutes, progress below)" >&2
  fi
  # swift build prints one line per compiled step ([n/total] ...): shown on stderr as progress.
  swift build -c release --static-swift-stdlib --product cairn >&2
fi

demo="$PWD/.cairn-demo"
export CAIRN_REPO="${CAIRN_REPO:-$demo/repo}"
export CAIRN_CACHE_DIR="${CAIRN_CACHE_DIR:-$demo/cache}"
if [ -z "${CAIRN_PASSWORD_FILE:-}" ] && [ -z "${CAIRN_PASSWORD:-}" ]; then
  mkdir -p "$demo"; chmod 700 "$demo"
  [ -f "$demo/passphrase" ] || (umask 077; head -c 32 /dev/urandom | base64 > "$demo/passphrase")
  export CAIRN_PASSWORD_FILE="$demo/passphrase"
fi

[ -e "$CAIRN_REPO/config" ] || "$cairn" init
if [ ${#paths[@]} -eq 0 ]; then paths=(/etc "$PWD/Sources"); fi
status=0
"$cairn" backup --name demo "${paths[@]}" || status=$?
if [ "$status" -eq 3 ]; then
  echo "run: some files were unreadable (see above); the rest is stored" >&2
elif [ "$status" -ne 0 ]; then
  echo "run: the backup failed (exit $status); stopping" >&2
  exit "$status"
fi
"$cairn" snapshots --name demo
"$cairn" stats
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Snapshots record full paths: PATH is restored at $out/PATH.
"$cairn" restore latest --name demo --target "$out"
for p in "${paths[@]}"; do
  if diff -r --no-dereference "$p" "$out$p" >/dev/null 2>&1; then
    echo "verified: $p restored byte for byte"
  else
    echo "note: $p differs from its restore (files changed during the backup, or unreadable files were skipped)"
  fi
done
echo "repository: $CAIRN_REPO  (passphrase file: ${CAIRN_PASSWORD_FILE:-from environment})"

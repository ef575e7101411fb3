#!/usr/bin/env bash
# The main job on an embedded default: a local repository, no cloud account.
# Backs up PATHS (default: /etc and this checkout's Sources/) into
# $CAIRN_REPO (default ./.cairn-demo/repo), lists the snapshots, restores the
# latest one and proves it byte for byte. Run it twice to see deduplication.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product cairn >/dev/null
cairn=".build/release/cairn"

demo="$PWD/.cairn-demo"
export CAIRN_REPO="${CAIRN_REPO:-$demo/repo}"
export CAIRN_CACHE_DIR="${CAIRN_CACHE_DIR:-$demo/cache}"
if [ -z "${CAIRN_PASSWORD_FILE:-}" ] && [ -z "${CAIRN_PASSWORD:-}" ]; then
  mkdir -p "$demo"; chmod 700 "$demo"
  [ -f "$demo/passphrase" ] || (umask 077; head -c 32 /dev/urandom | base64 > "$demo/passphrase")
  export CAIRN_PASSWORD_FILE="$demo/passphrase"
fi

[ -e "$CAIRN_REPO/config" ] || "$cairn" init
if [ $# -gt 0 ]; then paths=("$@"); else paths=(/etc "$PWD/Sources"); fi
status=0
"$cairn" backup --name demo "${paths[@]}" || status=$?
[ "$status" -le 3 ] || exit "$status"   # 3: some files were unreadable, the rest is stored
"$cairn" snapshots --name demo
"$cairn" stats
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$cairn" restore latest --name demo --target "$out"
for p in "${paths[@]}"; do
  name=$(basename "$p")
  if diff -r --no-dereference "$p" "$out/$name" >/dev/null 2>&1; then
    echo "verified: $p restored byte for byte"
  else
    echo "note: $p differs from its restore (files changed during the backup, or unreadable files were skipped)"
  fi
done
echo "repository: $CAIRN_REPO  (passphrase file: ${CAIRN_PASSWORD_FILE:-from environment})"

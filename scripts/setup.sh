#!/usr/bin/env bash
# Installs what building and testing Cairn needs on a fresh Debian machine.
# Idempotent: installs only what is missing.
set -euo pipefail

need_apt=()
# redis-server: the Redis tests start their own server on a loopback port.
# libpq-dev: CLibPQ's header (libpq.so.5 is opened on first use, Docs/architecture.md); postgresql: the PostgreSQL tests initdb their own PG 15 clusters.
# libarchive-tools (bsdtar): tar tests compare Cairn's tar reading and writing with bsdtar's.
# sqlite3: the cache-schema test writes a cache of an older schema.
# time: /usr/bin/time measures the peak memory of cairn runs in the hostile-input tests.
# libfuse3-dev: `cairn mount`'s libfuse 3 header (libfuse3.so.3 is opened on first use; the mount tests need /dev/fuse and root, or fuse3's fusermount3).
# zsh, fish: the completion tests check that the generated zsh and fish scripts parse.
# libcurl4-openssl-dev: CCurl's header, curl/curl.h (libcurl.so.4 is opened on first use by the S3 transport).
for pkg in libzstd-dev libssl-dev libsqlite3-dev sqlite3 pkg-config python3 python3-pip redis-server libpq-dev postgresql libarchive-tools time libfuse3-dev zsh fish libcurl4-openssl-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# pyfastcdc is the test oracle for chunk cut points; `cryptography` checks the crypto vectors' generator.
if ! python3 -c 'import pyfastcdc' 2>/dev/null; then
  echo "setup: installing pyfastcdc"
  python3 -m pip install -q pyfastcdc==0.3.1 2>/dev/null || python3 -m pip install -q --break-system-packages pyfastcdc==0.3.1
fi

# moto[server] is the S3-compatible server the S3 tests start on loopback; awscli lists what Cairn wrote;
# botocore (with either) signs the same requests as a second opinion on Cairn's SigV4.
if ! python3 -c 'import moto.server, flask_cors, botocore' 2>/dev/null; then
  echo "setup: installing moto[server]"
  python3 -m pip install -q 'moto[server]' 2>/dev/null || python3 -m pip install -q --break-system-packages 'moto[server]'
fi
if ! command -v aws >/dev/null; then
  echo "setup: installing awscli"
  python3 -m pip install -q awscli 2>/dev/null || python3 -m pip install -q --break-system-packages awscli
fi

# chromium renders `cairn report --html` in a test (headless). Optional: if it cannot be
# installed the rendering test skips and the rest of the report tests still run.
if ! command -v chromium >/dev/null; then
  echo "setup: installing chromium (for the report rendering test)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1; } \
    || echo "setup: chromium could not be installed; the report rendering test will skip"
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (install Swift 6 from swift.org)" >&2; exit 1; }

# scripts/fuzz.sh builds with -sanitize=fuzzer,address: libFuzzer and ASan ship with swift.org's
# toolchains (usr/lib/clang/*/lib/linux); Xcode's do not.
toolchain_lib="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")/lib"
if ! ls "$toolchain_lib"/clang/*/lib/*/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
  echo "setup: warning: no libFuzzer runtime under $toolchain_lib/clang; scripts/fuzz.sh needs a swift.org toolchain" >&2
fi

#!/usr/bin/env bash
# Fetches the LiteRT 2.1.4 runtime library (libLiteRt.so, C API + XNNPACK) for the host.
#
# PyPI's ai-edge-litert wheel is the only source of a prebuilt Linux x86_64 libLiteRt.so here.
# The version is pinned to 2.1.4: guardian-litert binds the 2.1.4 C API by hand (from 2.1.6 on,
# LiteRtCreateModelFromFile/Buffer take an extra LiteRtEnvironment argument).
#
# Idempotent: does nothing but print the path when the library is already in place.
# Needs only the system python3 (with pip) and, optionally, nm.
# Usage: scripts/fetch_litert.sh            prints the absolute path of libLiteRt.so
#        LITERT_CACHE_DIR=dir scripts/...   puts it elsewhere (default: <repo>/.cache/litert)
set -euo pipefail

VERSION=2.1.4
# The 2.1.4 wheels are tagged manylinux_2_27 (checked: no manylinux_2_17/2014/2_28 wheel of
# 2.1.4 exists); pip needs the exact tag when --platform is given.
PLATFORM=manylinux_2_27_x86_64
PYVER=3.11

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LITERT_CACHE_DIR:-$ROOT/.cache/litert}"
LIB="$CACHE/libLiteRt.so"
PY="${PYTHON:-python3}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "fetch_litert.sh: only Linux x86_64 is supported (got $(uname -s)-$(uname -m));" \
          "supply libLiteRt.so 2.1.4 yourself and set GUARDIAN_LITERT_LIB" >&2; exit 1 ;;
esac

verify() {
  # The library must export the C API entry points guardian-litert needs.
  "$PY" - "$1" <<'PYEOF'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
for name in ("LiteRtCreateCompiledModel", "LiteRtCreateModelFromBuffer", "LiteRtRunCompiledModel"):
    getattr(lib, name)  # AttributeError -> non-zero exit
PYEOF
}

if [ -f "$LIB" ] && verify "$LIB" 2>/dev/null; then
  echo "$LIB"
  exit 0
fi

mkdir -p "$CACHE"
WHEEL_DIR="$CACHE/wheel"
mkdir -p "$WHEEL_DIR"
WHEEL="$(ls "$WHEEL_DIR"/ai_edge_litert-"$VERSION"-*.whl 2>/dev/null | head -n1 || true)"
if [ -z "$WHEEL" ]; then
  echo "fetch_litert.sh: downloading ai-edge-litert==$VERSION ($PLATFORM) from PyPI ..." >&2
  "$PY" -m pip download "ai-edge-litert==$VERSION" --no-deps --only-binary=:all: \
    --python-version "$PYVER" --platform "$PLATFORM" -d "$WHEEL_DIR" --quiet >&2
  WHEEL="$(ls "$WHEEL_DIR"/ai_edge_litert-"$VERSION"-*.whl | head -n1)"
fi

"$PY" - "$WHEEL" "$LIB" <<'PYEOF'
import os, shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
tmp = dest + ".tmp"
with zipfile.ZipFile(wheel) as z, z.open("ai_edge_litert/libLiteRt.so") as src, open(tmp, "wb") as out:
    shutil.copyfileobj(src, out)
os.chmod(tmp, 0o755)
os.replace(tmp, dest)  # atomic: a concurrent reader never sees a half-written library
PYEOF

# (no `grep -q`: under pipefail it can close the pipe early and fail the check through SIGPIPE)
if command -v nm >/dev/null 2>&1; then
  nm -D --defined-only "$LIB" | grep -E ' T LiteRtCreateCompiledModel(@@.*)?$' >/dev/null || {
    echo "fetch_litert.sh: $LIB does not export LiteRtCreateCompiledModel" >&2
    rm -f "$LIB"; exit 1; }
fi
verify "$LIB" || {
  echo "fetch_litert.sh: $LIB is not a usable LiteRT C API library" >&2; rm -f "$LIB"; exit 1; }
echo "$LIB"

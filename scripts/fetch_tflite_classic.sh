#!/usr/bin/env bash
# Fetches a classic TensorFlow Lite C API library (libtensorflowlite_c.so, TF 2.6.0, with the
# XNNPACK delegate) for the host tests of rust/guardian-tflite.
#
# The only such library obtainable here is the one inside the `tflitec` 0.7.0 crate package
# (build-res/docsrs_res.zip), so it is taken from there: cargo downloads the crate (a throwaway
# manifest, `cargo fetch` into a temporary CARGO_HOME: cargo is the registry's ordinary client),
# the .so is extracted and both are checked against the SHA-256 recorded below.
# Not for phones or benchmarks: phones load their own (Android libtensorflowlite_jni.so, iOS
# TensorFlowLiteC); this copy is old and runs int8 on TF Lite's builtin kernels.
#
# Idempotent: does nothing but print the path when the library is already in place.
# Needs cargo, python3 (zipfile) and sha256sum.
# Usage: scripts/fetch_tflite_classic.sh              prints the absolute path of the library
#        TFLITE_CLASSIC_CACHE_DIR=dir scripts/...     puts it elsewhere
#                                                     (default: <repo>/.cache/tflite-classic)
set -euo pipefail

CRATE=tflitec
VERSION=0.7.0
# The .crate file (as the registry index's `cksum` states it) and the library inside it.
CRATE_SHA256=835c682bddb6f99f82fce3f0c62db0b676ea3df1ed43121d9470a3e721514d77
LIB_SHA256=003736565e81f4de1eaa9e4551791bc3938567338a3f752cd993217050f8fd81
MEMBER=libtensorflowlite_c.so

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${TFLITE_CLASSIC_CACHE_DIR:-$ROOT/.cache/tflite-classic}"
LIB="$CACHE/libtensorflowlite_c.so"
PY="${PYTHON:-python3}"
CARGO="${CARGO:-cargo}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "fetch_tflite_classic.sh: only Linux x86_64 is supported (got $(uname -s)-$(uname -m));" \
          "set GUARDIAN_TFLITE_LIB to a TensorFlow Lite C library of your own" >&2; exit 1 ;;
esac

sha() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$LIB" ] && [ "$(sha "$LIB")" = "$LIB_SHA256" ]; then
  echo "$LIB"
  exit 0
fi

mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# The crate package: from the user's cargo cache if it is there, else downloaded by cargo.
CRATE_FILE="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$CRATE-$VERSION.crate" 2>/dev/null | head -n1 || true)"
if [ -z "$CRATE_FILE" ] || [ "$(sha "$CRATE_FILE")" != "$CRATE_SHA256" ]; then
  echo "fetch_tflite_classic.sh: downloading the $CRATE $VERSION crate with cargo ..." >&2
  mkdir -p "$WORK/manifest/src"
  : > "$WORK/manifest/src/lib.rs"
  cat > "$WORK/manifest/Cargo.toml" <<TOML
[package]
name = "fetch-tflite-classic"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$CRATE = { version = "=$VERSION", default-features = false }

[workspace]
TOML
  # Only the host's dependencies are downloaded; nothing is built.
  CARGO_HOME="$WORK/cargo-home" "$CARGO" fetch --quiet \
    --manifest-path "$WORK/manifest/Cargo.toml" --target x86_64-unknown-linux-gnu >&2
  CRATE_FILE="$(ls "$WORK"/cargo-home/registry/cache/*/"$CRATE-$VERSION.crate" | head -n1)"
fi
if [ "$(sha "$CRATE_FILE")" != "$CRATE_SHA256" ]; then
  echo "fetch_tflite_classic.sh: $CRATE_FILE has SHA-256 $(sha "$CRATE_FILE")," \
       "expected $CRATE_SHA256" >&2
  exit 1
fi

# crate (tar.gz) -> build-res/docsrs_res.zip -> libtensorflowlite_c.so; atomic replace.
"$PY" - "$CRATE_FILE" "$CRATE-$VERSION/build-res/docsrs_res.zip" "$MEMBER" "$LIB.tmp" <<'PYEOF'
import io, os, shutil, sys, tarfile, zipfile
crate, zip_member, member, dest = sys.argv[1:5]
with tarfile.open(crate, "r:gz") as t:
    z = zipfile.ZipFile(io.BytesIO(t.extractfile(zip_member).read()))
with z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out)
os.chmod(dest, 0o755)
PYEOF
if [ "$(sha "$LIB.tmp")" != "$LIB_SHA256" ]; then
  echo "fetch_tflite_classic.sh: extracted $MEMBER has SHA-256 $(sha "$LIB.tmp")," \
       "expected $LIB_SHA256" >&2
  rm -f "$LIB.tmp"
  exit 1
fi
mv -f "$LIB.tmp" "$LIB"
echo "$LIB"

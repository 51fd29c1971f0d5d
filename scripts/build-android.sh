#!/usr/bin/env bash
# Builds the facade (uniffi/, crate guardian-ffi) as a shared library for Android with cargo-ndk,
# for arm64-v8a, armeabi-v7a and x86_64, linked for 16 KB pages, into the library module's
# jniLibs (android/guardian/src/main/jniLibs/<abi>/libguardian_ffi.so), and checks the committed
# Kotlin bindings against a fresh generation. See android/README.md.
#
#   scripts/build-android.sh                 all three ABIs, release
#   scripts/build-android.sh arm64-v8a       only the ABIs given
#
# Needs: rustup, cargo-ndk (cargo install cargo-ndk --version 4.1.2 --locked), the Android NDK
# (ANDROID_NDK_HOME, or ANDROID_HOME/ndk/<version> which cargo-ndk finds), llvm-readelf (the
# NDK's) for the alignment check.
#
# Environment:
#   ANDROID_API      minimum API level the libraries are linked for (default 26, the AAR's minSdk)
#   CI               when set, bindings that differ from the committed ones are an error
#
# The runtime the facade loads on a phone (libtensorflowlite_jni.so) is NOT built here: it comes
# with the com.google.ai.edge.litert:litert AAR the library depends on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { echo "build-android.sh: $*" >&2; exit 1; }

CARGO="${CARGO:-cargo}"
API="${ANDROID_API:-26}"
OUT=android/guardian/src/main/jniLibs
ABIS=("$@")
(( ${#ABIS[@]} )) || ABIS=(arm64-v8a armeabi-v7a x86_64)

declare -A TRIPLE=(
  [arm64-v8a]=aarch64-linux-android
  [armeabi-v7a]=armv7-linux-androideabi
  [x86_64]=x86_64-linux-android
)

command -v rustup >/dev/null || die "rustup not found"
"$CARGO" ndk --version >/dev/null 2>&1 || die "cargo-ndk not found: cargo install cargo-ndk --version 4.1.2 --locked"
targets=()
ndk_args=()
for abi in "${ABIS[@]}"; do
  [[ -n "${TRIPLE[$abi]:-}" ]] || die "unknown ABI '$abi' (arm64-v8a, armeabi-v7a, x86_64)"
  targets+=("${TRIPLE[$abi]}")
  ndk_args+=(-t "$abi")
done
rustup target add "${targets[@]}"

# 16 KB max page size: Google Play requires 16 KB-aligned native libraries for apps targeting
# Android 15+. The LOAD segments are then aligned to 0x4000 (checked below).
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-z,max-page-size=16384"

mkdir -p "$OUT"
"$CARGO" ndk "${ndk_args[@]}" --platform "$API" -o "$OUT" build --release -p guardian-ffi

# Check: every LOAD segment of every library is aligned to 16 KB.
READELF="${LLVM_READELF:-}"
if [[ -z "$READELF" ]]; then
  NDK="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
  if [[ -n "$NDK" ]]; then
    READELF="$(ls "$NDK"/toolchains/llvm/prebuilt/*/bin/llvm-readelf 2>/dev/null | head -1 || true)"
  fi
  [[ -n "$READELF" ]] || READELF="$(command -v llvm-readelf || true)"
fi
[[ -n "$READELF" ]] || die "llvm-readelf not found (set LLVM_READELF or ANDROID_NDK_HOME)"
bad=0
for abi in "${ABIS[@]}"; do
  so="$OUT/$abi/libguardian_ffi.so"
  [[ -f "$so" ]] || die "cargo-ndk did not write $so"
  aligns="$("$READELF" -l -W "$so" | awk '$1 == "LOAD" { print $NF }')"
  for a in $aligns; do
    if (( a < 0x4000 )); then
      echo "build-android.sh: $so has a LOAD segment aligned to $a (< 0x4000)" >&2
      bad=1
    fi
  done
  echo "$so: LOAD align $(echo $aligns | tr ' ' ',')"
done
(( bad == 0 )) || die "libraries not 16 KB aligned"

# The committed Kotlin bindings must match this facade (a contract version and per-function
# checksums are checked when the library loads).
if [[ -n "${CI:-}" ]]; then
  bash scripts/gen-bindings.sh --check
else
  bash scripts/gen-bindings.sh --check || echo "build-android.sh: bindings differ: run scripts/gen-bindings.sh and commit" >&2
fi

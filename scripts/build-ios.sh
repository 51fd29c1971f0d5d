#!/usr/bin/env bash
# Builds ios/build/GuardianFFI.xcframework (the Rust facade as a staticlib for iOS devices and
# simulators, with the UniFFI header and module map), zips it, and prints its SwiftPM checksum.
# macOS with Xcode only. See ios/README.md.
#
#   scripts/build-ios.sh            build, check the Swift bindings, assemble, zip, checksum
#
# Environment:
#   GUARDIAN_IOS_FEATURES   cargo features of the facade (default: guardian-ffi/classic-static,
#                           the classic TensorFlow Lite C API backend linked at the app's link
#                           time; set it empty to build without a backend feature)
#   IPHONEOS_DEPLOYMENT_TARGET   default 15.0 (Package.swift's minimum)
#   CI                      when set, bindings that differ from the committed ones are an error
#
# Output: ios/build/GuardianFFI.xcframework, ios/build/GuardianFFI.xcframework.zip,
#         ios/build/GuardianFFI.xcframework.zip.checksum
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { echo "build-ios.sh: $*" >&2; exit 1; }

[[ "$(uname -s)" == "Darwin" ]] || die "needs macOS with Xcode (xcodebuild, lipo); this is $(uname -s). The iOS build runs in .github/workflows/ios.yml."
for tool in cargo rustup xcodebuild lipo ditto swift; do
  command -v "$tool" >/dev/null || die "'$tool' not found (install Xcode and rustup)"
done

CARGO="${CARGO:-cargo}"
FEATURES="${GUARDIAN_IOS_FEATURES-guardian-ffi/classic-static}"
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-15.0}"
DEVICE=aarch64-apple-ios
SIMULATORS=(aarch64-apple-ios-sim x86_64-apple-ios)
LIBNAME=libguardian_ffi.a
OUT=ios/build
XCF="$OUT/GuardianFFI.xcframework"
WORK="$OUT/work"

rustup target add "$DEVICE" "${SIMULATORS[@]}"

# 1. The staticlib per target. `cargo rustc --crate-type staticlib` builds only the staticlib:
#    the facade's manifest also lists a cdylib, and with the classic backend linked at the app's
#    link time an iOS dylib would fail to link on the undefined `TfLite*` symbols (ld64 refuses
#    undefined symbols in a dylib). The staticlib leaves them to the app's link.
feature_args=()
[[ -n "$FEATURES" ]] && feature_args=(--features "$FEATURES")
for target in "$DEVICE" "${SIMULATORS[@]}"; do
  echo "build-ios.sh: building $LIBNAME for $target ${FEATURES:+(features: $FEATURES)}" >&2
  # (The `${a[@]+...}` form: macOS's bash 3.2 calls an empty array unbound under `set -u`.)
  "$CARGO" rustc --release -p guardian-ffi --target "$target" ${feature_args[@]+"${feature_args[@]}"} --crate-type staticlib
  [[ -f "target/$target/release/$LIBNAME" ]] || die "cargo did not write target/$target/release/$LIBNAME"
done

rm -rf "$WORK" "$XCF" "$XCF.zip" "$XCF.zip.checksum"
mkdir -p "$WORK/simulator" "$WORK/headers" "$WORK/bindings"

# 2. One simulator library for both simulator architectures.
lipo -create \
  "target/aarch64-apple-ios-sim/release/$LIBNAME" \
  "target/x86_64-apple-ios/release/$LIBNAME" \
  -output "$WORK/simulator/$LIBNAME"
lipo -info "$WORK/simulator/$LIBNAME" >&2

# 3. The Swift bindings. They depend only on the exported API, which is the same for every
#    target, so they are generated from the host library (as scripts/gen-bindings.sh does on
#    Linux; on macOS the host library is a .dylib). The committed GuardianFFI.swift must match:
#    UniFFI checks the API checksums of the Swift file against the library at first use.
"$CARGO" build --release -q -p guardian-ffi -p uniffi-bindgen
HOST_LIB="target/release/libguardian_ffi.dylib"
[[ -f "$HOST_LIB" ]] || die "cargo did not write $HOST_LIB"
target/release/uniffi-bindgen generate --library "$HOST_LIB" --language swift \
  --out-dir "$WORK/bindings" --no-format >/dev/null
for f in Guardian.swift GuardianFFI.h GuardianFFI.modulemap; do
  [[ -f "$WORK/bindings/$f" ]] || die "uniffi-bindgen did not write $f"
done
changed=0
cmp -s "$WORK/bindings/Guardian.swift" ios/Sources/Guardian/GuardianFFI.swift || changed=1
cmp -s "$WORK/bindings/GuardianFFI.h" ios/GuardianFFI/GuardianFFI.h || changed=1
cmp -s "$WORK/bindings/GuardianFFI.modulemap" ios/GuardianFFI/module.modulemap || changed=1
if (( changed )); then
  [[ -n "${CI:-}" ]] && die "the committed Swift bindings differ from the library: run scripts/gen-bindings.sh and commit"
  cp "$WORK/bindings/Guardian.swift" ios/Sources/Guardian/GuardianFFI.swift
  cp "$WORK/bindings/GuardianFFI.h" ios/GuardianFFI/GuardianFFI.h
  cp "$WORK/bindings/GuardianFFI.modulemap" ios/GuardianFFI/module.modulemap
  echo "build-ios.sh: the Swift bindings changed and were rewritten: commit them" >&2
fi
# The XCFramework's Headers: the C header and the module map, which must be named module.modulemap.
cp ios/GuardianFFI/GuardianFFI.h "$WORK/headers/GuardianFFI.h"
cp ios/GuardianFFI/module.modulemap "$WORK/headers/module.modulemap"

# 4. The XCFramework: one device slice, one (fat) simulator slice.
xcodebuild -create-xcframework \
  -library "target/$DEVICE/release/$LIBNAME" -headers "$WORK/headers" \
  -library "$WORK/simulator/$LIBNAME" -headers "$WORK/headers" \
  -output "$XCF"

# 5. Zip (for a release's binary target) and its checksum.
ditto -c -k --sequesterRsrc --keepParent "$XCF" "$XCF.zip"
checksum="$(swift package compute-checksum "$XCF.zip")"
echo "$checksum" > "$XCF.zip.checksum"
rm -rf "$WORK"

echo "build-ios.sh: wrote $XCF" >&2
echo "build-ios.sh: wrote $XCF.zip (checksum $checksum)" >&2
echo "$checksum"

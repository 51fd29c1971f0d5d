#!/usr/bin/env bash
# Puts TensorFlowLiteC.xcframework (the classic TensorFlow Lite C API with its XNNPACK delegate,
# static, iOS device + simulator) into ios/build/, where Package.swift's test target and the
# sample app's project.yml pick it up. It is the archive the `TensorFlowLiteC` CocoaPod
# downloads (the podspec's `s.source`), pinned by version and SHA-256.
#
# An app does not need this script: it adds TensorFlowLiteC itself (ios/README.md).
# Idempotent. macOS only (shasum, PlistBuddy).
set -euo pipefail

VERSION=2.17.0
URL="https://dl.google.com/tflite-release/ios/prod/tensorflow/lite/release/ios/release/32/20240729-115310/TensorFlowLiteC/$VERSION/0c10b3543e01f547/TensorFlowLiteC-$VERSION.tar.gz"
SHA256=9667b476015f136e5b332ce040e12822c4ac6d5c58947882ddc809cdff0fb99e

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/ios/build/TensorFlowLiteC.xcframework"

die() { echo "fetch-tensorflowlitec.sh: $*" >&2; exit 1; }
[[ "$(uname -s)" == "Darwin" ]] || die "needs macOS (the XCFramework is only usable by Xcode)"

if [[ -f "$DEST/Info.plist" && -f "$DEST/.version-$VERSION" ]]; then
  echo "$DEST"
  exit 0
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
echo "fetch-tensorflowlitec.sh: downloading TensorFlowLiteC $VERSION" >&2
curl --fail --location --retry 3 --silent --show-error "$URL" -o "$TMP/tflitec.tar.gz"
echo "$SHA256  $TMP/tflitec.tar.gz" | shasum -a 256 --check --status \
  || die "SHA-256 mismatch for $URL"
tar -xzf "$TMP/tflitec.tar.gz" -C "$TMP"
# The archive holds Frameworks/TensorFlowLiteC.xcframework (plus CoreML and Metal delegates,
# not used) under a versioned top folder.
SRC="$(find "$TMP" -maxdepth 4 -type d -name TensorFlowLiteC.xcframework | head -n1)"
[[ -n "$SRC" ]] || die "no TensorFlowLiteC.xcframework in the archive"

# The framework slices carry no Info.plist; Xcode's framework validation wants one even for a
# static framework that is only linked. Add a minimal one where it is missing.
for fw in "$SRC"/*/TensorFlowLiteC.framework; do
  plist="$fw/Info.plist"
  [[ -f "$plist" ]] && continue
  /usr/libexec/PlistBuddy \
    -c "Add :CFBundleIdentifier string org.tensorflow.TensorFlowLiteC" \
    -c "Add :CFBundleName string TensorFlowLiteC" \
    -c "Add :CFBundleExecutable string TensorFlowLiteC" \
    -c "Add :CFBundlePackageType string FMWK" \
    -c "Add :CFBundleShortVersionString string $VERSION" \
    -c "Add :CFBundleVersion string $VERSION" \
    -c "Add :MinimumOSVersion string 12.0" \
    "$plist" >/dev/null
done

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -R "$SRC" "$DEST"
touch "$DEST/.version-$VERSION"
# The symbols the Guardian staticlib resolves from it.
symbols="$(nm -gU "$DEST"/ios-arm64/TensorFlowLiteC.framework/TensorFlowLiteC 2>/dev/null || true)"
for sym in _TfLiteModelCreate _TfLiteInterpreterCreate _TfLiteXNNPackDelegateCreate; do
  grep -q "$sym\$" <<<"$symbols" || die "the device slice does not export $sym"
done
echo "$DEST"

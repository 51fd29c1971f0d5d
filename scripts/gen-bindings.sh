#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings of the facade (uniffi/) from the built host library,
# with the workspace's pinned uniffi-bindgen, into the committed locations:
#   android/guardian/src/main/kotlin/dev/guardian/ffi/guardian.kt
#   ios/Sources/Guardian/GuardianFFI.swift, ios/GuardianFFI/{GuardianFFI.h,module.modulemap}
# `--check` generates into a temporary folder and fails if the committed files differ (make test).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CARGO="${CARGO:-cargo}"
check=0
[[ "${1:-}" == "--check" ]] && check=1

"$CARGO" build --release -q -p guardian-ffi -p uniffi-bindgen
LIB="target/release/libguardian_ffi.so"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
BINDGEN=target/release/uniffi-bindgen
"$BINDGEN" generate --library "$LIB" --language kotlin --out-dir "$OUT/kotlin" --no-format >/dev/null
"$BINDGEN" generate --library "$LIB" --language swift --out-dir "$OUT/swift" --no-format >/dev/null

# Where each generated file is committed.
declare -A DEST=(
  ["kotlin/dev/guardian/ffi/guardian.kt"]="android/guardian/src/main/kotlin/dev/guardian/ffi/guardian.kt"
  ["swift/Guardian.swift"]="ios/Sources/Guardian/GuardianFFI.swift"
  ["swift/GuardianFFI.h"]="ios/GuardianFFI/GuardianFFI.h"
  ["swift/GuardianFFI.modulemap"]="ios/GuardianFFI/module.modulemap"
)
status=0
for src in "${!DEST[@]}"; do
  dest="${DEST[$src]}"
  [[ -f "$OUT/$src" ]] || { echo "gen-bindings: uniffi-bindgen did not write $src" >&2; ls -R "$OUT" >&2; exit 1; }
  if (( check )); then
    if ! cmp -s "$OUT/$src" "$dest"; then
      echo "gen-bindings: $dest differs from a fresh generation: run scripts/gen-bindings.sh and commit" >&2
      diff -u "$dest" "$OUT/$src" | head -20 >&2 || true
      status=1
    fi
  else
    mkdir -p "$(dirname "$dest")"
    cp "$OUT/$src" "$dest"
    echo "wrote $dest"
  fi
done
(( check )) && (( status == 0 )) && echo "gen-bindings: committed bindings match the library"
exit "$status"

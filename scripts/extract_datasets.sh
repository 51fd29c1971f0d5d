#!/usr/bin/env bash
# Extract ../shared/datasets/*.tar.xz into .cache/datasets/ (skips archives already extracted).
# Source folder: env GUARDIAN_DATASET_ARCHIVES (default <repo>/../shared/datasets).
# Target folder: env GUARDIAN_DATASETS (default <repo>/.cache/datasets); the trainer reads the same variable.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${GUARDIAN_DATASET_ARCHIVES:-$ROOT/../shared/datasets}"
DST="${GUARDIAN_DATASETS:-$ROOT/.cache/datasets}"
LAYOUT="expected: $SRC/{mobifall-v2,sisfall-50hz}.tar.xz (optional: sisfall-200hz-sample.tar.xz; umafall-phone.tar.xz, needed by make eval-cv), each with one
top-level folder named like the archive; or already extracted trees
$DST/mobifall-v2/subN/{ADL,FALLS}/CODE/CODE_{acc,gyro}_N_T.txt and $DST/sisfall-50hz/SXnn/{Dxx,Fxx}_SXnn_Rnn.txt"
mkdir -p "$DST"
missing=0
for name in mobifall-v2 sisfall-50hz sisfall-200hz-sample umafall-phone; do
  if [[ -d "$DST/$name" ]]; then
    echo "ok: $DST/$name"
    continue
  fi
  if [[ ! -f "$SRC/$name.tar.xz" ]]; then
    if [[ "$name" == "sisfall-200hz-sample" || "$name" == "umafall-phone" ]]; then
      echo "note: optional $SRC/$name.tar.xz not found"
      continue
    fi
    echo "error: dataset $name not found ($SRC/$name.tar.xz)" >&2
    missing=1
    continue
  fi
  echo "extracting $SRC/$name.tar.xz -> $DST/"
  rm -rf "$DST/$name.partial" && mkdir -p "$DST/$name.partial"
  tar -xJf "$SRC/$name.tar.xz" -C "$DST/$name.partial"
  if [[ ! -d "$DST/$name.partial/$name" ]]; then
    echo "error: $name.tar.xz has no top-level folder $name/; $LAYOUT" >&2
    rm -rf "$DST/$name.partial"; missing=1; continue
  fi
  rm -rf "$DST/$name" && mv "$DST/$name.partial/$name" "$DST/$name" && rmdir "$DST/$name.partial"
done
if [[ $missing -ne 0 ]]; then
  echo "$LAYOUT" >&2
  exit 1
fi

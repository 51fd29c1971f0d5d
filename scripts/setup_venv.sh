#!/usr/bin/env bash
# Create or update /work/main/.venv (the repo's .venv) from scripts/requirements.txt.
# Idempotent: does nothing when the venv exists and its stamp matches the requirements' hash.
# Needs only python3 (>= 3.10; tested with 3.11). Override the interpreter with PYTHON=...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ="$ROOT/scripts/requirements.txt"
VENV="${GUARDIAN_VENV:-$ROOT/.venv}"
STAMP="$VENV/.guardian-requirements.sha256"
PY="${PYTHON:-python3}"

hash_req() { "$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$REQ"; }
want="$(hash_req)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  echo "venv up to date: $VENV"
  exit 0
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "creating venv $VENV"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade --quiet pip
echo "installing $REQ (TensorFlow is large: a few minutes on first install)"
"$VENV/bin/python" -m pip install --quiet -r "$REQ"
echo "$want" > "$STAMP"
echo "venv ready: $VENV"

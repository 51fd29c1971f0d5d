# Guardian: the two commands a newcomer runs are `make demo` and `make test`.
# Each sets itself up on first run (LiteRT library, Python venv, datasets) into ignored
# folders (.cache/, .venv/, target/).

SHELL := /bin/bash
CARGO ?= cargo
LITERT := .cache/litert/libLiteRt.so
TFLITE_CLASSIC := .cache/tflite-classic/libtensorflowlite_c.so
VENV := .venv
PY := $(VENV)/bin/python
GUARDIAN := target/release/guardian
export GUARDIAN_LITERT_LIB := $(CURDIR)/$(LITERT)
export GUARDIAN_TFLITE_LIB := $(CURDIR)/$(TFLITE_CLASSIC)
export GUARDIAN_BIN := $(CURDIR)/$(GUARDIAN)

.PHONY: demo test test-rust test-python test-bindings test-swift test-kotlin test-android bench-kotlin ffi kotlin-data tflite-classic lint bench build train train-quick eval eval-cv litert venv datasets fmt bindings

## The main job: a synthetic day through the shipped model, detections against the truth.
demo: $(LITERT)
	$(CARGO) run --release -q -p guardian-cli -- demo

## Every test: Rust (unit, property, integration on the real runtime and model, the facade and
## its crash test), Python (preprocessing, readers, quick training end to end), cross-language
## parity, the committed bindings against a fresh generation, Swift syntax and API parity,
## linters.
test: lint test-rust test-python test-bindings test-swift test-kotlin test-android

lint: venv
	$(CARGO) fmt --all --check
	$(PY) scripts/readme_examples.py
	$(CARGO) clippy --release --workspace --all-targets -q -- -D warnings
	$(CARGO) clippy --release -p guardian-ffi --features crash-points --all-targets -q -- -D warnings
	$(PY) -m ruff check scripts tests

test-rust: $(LITERT) $(TFLITE_CLASSIC)
	$(CARGO) test --release --workspace
	# The pure core once more with overflow checks (debug): hostile timestamps must not wrap.
	$(CARGO) test -p guardian-core
	# Alerts survive SIGKILL: 200 kills of a child streaming falls through the facade.
	$(CARGO) test --release -p guardian-ffi --features crash-points --test journal_crash -- --nocapture

## The committed Kotlin and Swift bindings must be what the facade generates now.
test-bindings:
	bash scripts/gen-bindings.sh --check

## Regenerate the committed bindings after changing the facade's API (uniffi/).
bindings:
	bash scripts/gen-bindings.sh

## Swift (no Swift toolchain here): every tracked .swift file parsed with tree-sitter-swift
## (generated bindings: only the grammar's known gaps), and the Swift wrapper's API against Kotlin's.
test-swift: venv
	$(PY) scripts/swift_check.py $$(git ls-files '*.swift')
	$(PY) scripts/api_mirror.py
	$(PY) -m pytest -q tests/swift

test-python: venv datasets $(LITERT) build
	$(PY) -m pytest -q scripts/tests tests/parity tests/eval

bench: $(LITERT) bench-kotlin
	$(CARGO) run --release -q -p guardian-cli -- bench

build:
	$(CARGO) build --release -q -p guardian-cli

## Event-level evaluation of the shipped model on its held-out subjects; refreshes
## docs/EVALUATION.md (about a minute once the datasets are exported).
eval: venv datasets $(LITERT) build
	cd scripts && ../$(PY) -m guardian_eval all --docs

## Cross-validated event-level evaluation: 5 folds over every shared subject of MobiFall, SisFall
## and UMAFall; trains both models per fold with the release schedule (6-18 min per fold on 2
## cores depending on the machine, 45-87 min in all; a fold whose split, schedule and settings are
## unchanged is not retrained), chooses each fold's thresholds at event level on its validation
## subjects (about 30 s per fold), writes out/cv/ and docs/cv/, then refreshes docs/EVALUATION.md,
## which starts with these figures. The reduced schedule (`cv` without --full-schedule) is for comparing settings.
eval-cv: venv datasets $(LITERT) build
	cd scripts && ../$(PY) -m guardian_eval cv --full-schedule --docs && ../$(PY) -m guardian_eval all --docs

## Train the shipped models (full run, about 30 min on 2 cores), install them in models/, then
## choose their thresholds at event level on the card's validation subjects (a few minutes).
train: venv datasets $(LITERT) build
	cd scripts && ../$(PY) -m guardian_train train --install && ../$(PY) -m guardian_eval calibrate

train-quick: venv datasets
	cd scripts && ../$(PY) -m guardian_train train --quick

litert: $(LITERT)
$(LITERT):
	bash scripts/fetch_litert.sh

## The classic TensorFlow Lite C API (TF 2.6.0, from the tflitec crate package) for the
## classic backend's host tests; phones bring their own.
tflite-classic: $(TFLITE_CLASSIC)
$(TFLITE_CLASSIC):
	bash scripts/fetch_tflite_classic.sh

## --- Kotlin on the JVM (android/jvm, Maven; everything from Maven Central) ---
FFI_LIB := target/release/libguardian_ffi.so
KOTLIN_CACHE := .cache/kotlin
MVN ?= mvn
MVN_KOTLIN = $(MVN) -B -q -f android/jvm/pom.xml \
	-Dguardian.lib=$(CURDIR)/$(FFI_LIB) -Dguardian.litert=$(CURDIR)/$(LITERT) -Dguardian.bin=$(CURDIR)/$(GUARDIAN) \
	-Dguardian.dataset=$(CURDIR)/$(KOTLIN_CACHE)/mobifall-test/labels.csv \
	-Dguardian.dataset.engine=$(CURDIR)/$(KOTLIN_CACHE)/mobifall-test-engine/results.jsonl

## The facade as a host library (the Kotlin tests load it through JNA).
ffi:
	$(CARGO) build --release -q -p guardian-ffi

## Recordings for the Kotlin tests: the MobiFall test subjects as recordings (cached by
## guardian_eval export) with the Rust engine's events on them. The synthetic days (4 falls
## each, about 860 MB of CSV apiece) are not written: the tests stream them from guardian demo
## (the CLI `build` makes) through a named pipe, with its detections (--json).
kotlin-data: build venv datasets
	@mkdir -p $(KOTLIN_CACHE)
	cd scripts && ../$(PY) -m guardian_eval export --dataset mobifall --split test --out ../$(KOTLIN_CACHE)/mobifall-test
	$(GUARDIAN) eval --sensors full --labels $(KOTLIN_CACHE)/mobifall-test/labels.csv --out $(KOTLIN_CACHE)/mobifall-test-engine > /dev/null

## Kotlin API on the JVM against the real host library and shipped models (JUnit 5).
test-kotlin: $(LITERT) ffi kotlin-data
	$(MVN_KOTLIN) test

## --- Android library under Robolectric (android/robolectric, Maven; offline once ~/.m2 holds the jars) ---
MVN_ANDROID = $(MVN) -B -q -f android/robolectric/pom.xml \
	-Dguardian.lib=$(CURDIR)/$(FFI_LIB) -Dguardian.litert=$(CURDIR)/$(LITERT) -Dguardian.bin=$(CURDIR)/$(GUARDIAN)

## Both source roots of the AAR compiled against android-all 15; Robolectric 4.14.1 tests with
## the real host library and models (simulated sensors, the monitoring service, permissions),
## replaying the synthetic day of guardian demo --seed 42 (streamed, never on disk).
test-android: $(LITERT) ffi build
	$(MVN_ANDROID) test

## 24 h of 100 Hz acc + gyro through the Kotlin API in 1 s batches (the synthetic day of
## guardian demo --seed 42, streamed from the CLI); per-call and per-callback costs.
bench-kotlin: $(LITERT) ffi build
	$(MVN_KOTLIN) verify -Pbench -DskipTests

venv:
	bash scripts/setup_venv.sh

datasets:
	bash scripts/extract_datasets.sh

fmt:
	$(CARGO) fmt --all
	$(PY) -m ruff format scripts tests

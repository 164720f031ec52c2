#!/usr/bin/env bash
# Runs every test suite of the project, on a fresh machine or a warm one:
#   1. sets up the project-local toolchains (.venv with numpy/msgpack/... and the CUDA
#      compiler wheels) through the project's own scripts;
#   2. Rust: cargo fmt --check, clippy -D warnings, cargo test --workspace (this compiles
#      and tests the generated Rust, Python and CUDA of every example);
#   3. Python: pytest over the runtime and generated modules, the `schemac` wheel installed
#      into a fresh virtualenv (scripts/test-wheel.sh), mypy --strict, ruff.
# Exits non-zero on the first failing stage.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stage() { printf '\n==> %s\n' "$*"; }

stage "python virtualenv (.venv)"
bash scripts/setup-venv.sh
export PATH="$ROOT/.venv/bin:$PATH"
export SCHEMAC_PYTHON="$ROOT/.venv/bin/python"

if [ -f scripts/setup-cuda.sh ]; then
    stage "CUDA compiler wheels (.venv)"
    bash scripts/setup-cuda.sh
    if [ -f scripts/cuda-env.sh ]; then
        # shellcheck source=/dev/null
        source scripts/cuda-env.sh
    fi
fi

stage "cargo fmt --check"
cargo fmt --all -- --check

stage "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --features schemac/arrow -- -D warnings
# ... and the lean default build (no arrow/parquet) still compiles warning-free.
cargo clippy -q -p schemac --bin schemac -- -D warnings

stage "cargo test --workspace"
# `--features schemac/arrow` everywhere: the CLI's `convert` (arrow-rs, parquet) is tested
# too, and one feature set means cargo never rebuilds the binary between steps.
cargo build -q -p schemac --bin schemac --features arrow
export SCHEMAC_BIN="$ROOT/target/debug/schemac"
# The Rust side of python/tests/test_differential.py (codec + generated Rust over stdin).
cargo build -q -p conformance --bin conformance-testee
export SCHEMAC_CONFORMANCE_TESTEE="$ROOT/target/debug/conformance-testee"
# Cross-language exchange: the Rust tests write samples and batches here for pytest to
# read, pytest writes its own for the last Rust step to read.
INTEROP="$ROOT/target/interop"
rm -rf "$INTEROP"
mkdir -p "$INTEROP/rust-samples" "$INTEROP/safetensors" "$INTEROP/python-samples"
export SCHEMAC_RUST_SAMPLES="$INTEROP/rust-samples"
export SCHEMAC_SAFETENSORS_DIR="$INTEROP/safetensors"
cargo test --workspace --features schemac/arrow

stage "pytest"
SCHEMAC_PYTHON_SAMPLES="$INTEROP/python-samples" "$ROOT/.venv/bin/python" -m pytest python/tests -q

stage "Rust reads what Python wrote"
SCHEMAC_PYTHON_SAMPLES="$INTEROP/python-samples" cargo test -p gen-tests --test interop rust_reads_python_samples

stage "pip-installable compiler (maturin wheel into a fresh virtualenv, no cargo on PATH)"
bash scripts/test-wheel.sh

stage "mypy --strict and ruff"
"$ROOT/.venv/bin/python" -m mypy --strict python/schemac_runtime
"$ROOT/.venv/bin/python" -m ruff check python

stage "all test suites passed"

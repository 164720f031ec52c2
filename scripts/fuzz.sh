#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, nightly): seeds the corpora, then runs each target
# for SECONDS (default 60), one after another.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      targets: schema codec shard tensors (default all)
#
# Environment: FUZZ_JOBS (parallel libFuzzer workers, default 1). Every run uses fork mode
# and keeps going after a crash, timeout or OOM, so one known bug does not end the run;
# everything found lands in fuzz/artifacts/<target>/ (crash-*, timeout-*, oom-*). Turn
# each into a regression test: see fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(schema codec shard tensors)
JOBS=${FUZZ_JOBS:-1}

# -max_len per target: a schema or a sample fits in a few KiB; tar and safetensors inputs
# need room for a few 512-byte blocks or a header plus data.
max_len() {
    case $1 in
        schema) echo 4096 ;;
        codec) echo 4096 ;;
        shard) echo 16384 ;;
        tensors) echo 8192 ;;
        *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz --locked" >&2; exit 2; }

# Seeds: regenerated each run into fuzz/corpus/seeds/<target> (the working corpus
# fuzz/corpus/<target> keeps what the fuzzer found between runs).
echo "== seeding"
rm -rf fuzz/corpus/seeds
cargo run -q --manifest-path fuzz/Cargo.toml -p schemac-fuzz-seed -- "$ROOT" "$ROOT/fuzz/corpus/seeds"
# The regression inputs are seeds too: a fix must stay fixed under mutation.
for t in "${TARGETS[@]}"; do
    if [ -d "tests/fuzz-regressions/$t" ]; then
        cp tests/fuzz-regressions/"$t"/* "fuzz/corpus/seeds/$t/" 2>/dev/null || true
    fi
done

(cd fuzz && cargo +nightly fuzz build -O)

for t in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    echo "== $t: ${SECONDS_PER_TARGET}s, max_len $(max_len "$t")"
    (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" "corpus/seeds/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
        -timeout=10 -max_len="$(max_len "$t")" -fork="$JOBS" \
        -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -print_final_stats=1) 2>&1 | tee "fuzz/artifacts/$t.log" | grep -E '^#|^INFO: fuzzed|crash|Timeout|out-of-memory|stat::' | tail -n 20 || true
    echo "== $t: findings in fuzz/artifacts/$t/: $(ls "fuzz/artifacts/$t" | wc -l)"
done

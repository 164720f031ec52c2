//! Cross-language interop with the generated Python, driven by `scripts/test.sh`:
//!
//! - `SCHEMAC_RUST_SAMPLES=DIR`: `rust_writes_samples` writes seeded random instances of
//!   every example sample as `DIR/<stem>/<Sample>/<seed>.msgpack`, and a batch of them as
//!   `DIR/<stem>/<Sample>/batch.safetensors`. Python's
//!   `test_generated_wire.py::test_rust_written_samples` then decodes each with the
//!   generated Python and must re-encode identical bytes.
//! - `SCHEMAC_PYTHON_SAMPLES=DIR`: `rust_reads_python_samples` reads what Python's
//!   `test_generated_wire.py::test_write_samples_for_rust` wrote in the same layout, decodes
//!   each file with the generated Rust, validates it and re-encodes identical bytes; batches
//!   saved by Python load and hold the same samples.
//!
//! Without the variables each test says so and passes: `cargo test` alone cannot see the
//! other language's output, the test script orders the two runs.

use std::path::{Path, PathBuf};

use schemac_runtime::rng::Rng;

/// Seeds per sample; enough to reach every optional/enum branch of the examples.
const SEEDS: u64 = 12;

macro_rules! for_each_sample {
    ($callback:ident, $($arg:expr),*) => {{
        let mut n = 0usize;
        n += $callback!(gen_tests::vision::ImageSample, gen_tests::vision::ImageSampleBatch, "vision", $($arg),*);
        n += $callback!(gen_tests::robot::RobotStep, gen_tests::robot::RobotStepBatch, "robot", $($arg),*);
        n += $callback!(gen_tests::puzzle::AggState, gen_tests::puzzle::AggStateBatch, "puzzle", $($arg),*);
        n += $callback!(gen_tests::puzzle::Agg5, gen_tests::puzzle::Agg5Batch, "puzzle", $($arg),*);
        n += $callback!(gen_tests::puzzle::PuzzleState, gen_tests::puzzle::PuzzleStateBatch, "puzzle", $($arg),*);
        n += $callback!(gen_tests::puzzle::TileState, gen_tests::puzzle::TileStateBatch, "puzzle", $($arg),*);
        n += $callback!(gen_tests::everything::Everything, gen_tests::everything::EverythingBatch, "everything", $($arg),*);
        n += $callback!(gen_tests::everything::Packed, gen_tests::everything::PackedBatch, "everything", $($arg),*);
        n += $callback!(gen_tests::everything::FieldPacked, gen_tests::everything::FieldPackedBatch, "everything", $($arg),*);
        n += $callback!(gen_tests::everything::Unpacked, gen_tests::everything::UnpackedBatch, "everything", $($arg),*);
        n
    }};
}

macro_rules! write_sample {
    ($t:ty, $b:ty, $stem:literal, $root:expr) => {{
        let dir = $root.join($stem).join(<$t>::NAME);
        std::fs::create_dir_all(&dir).unwrap();
        let mut samples = Vec::new();
        for seed in 0..SEEDS {
            let x = <$t>::random(&mut Rng::new(seed));
            x.validate().unwrap();
            std::fs::write(dir.join(format!("{seed:04}.msgpack")), x.to_msgpack()).unwrap();
            samples.push(x);
        }
        let batch = <$b>::from_samples(&samples).unwrap();
        batch.save(dir.join("batch.safetensors")).unwrap();
        samples.len()
    }};
}

macro_rules! read_sample {
    ($t:ty, $b:ty, $stem:literal, $root:expr) => {{
        let dir: PathBuf = $root.join($stem).join(<$t>::NAME);
        let mut n = 0usize;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            match f.extension().and_then(|e| e.to_str()) {
                Some("msgpack") => {
                    let x = <$t>::from_msgpack(&bytes)
                        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                    x.validate()
                        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                    assert!(
                        x.to_msgpack() == bytes,
                        "{}: re-encoding differs",
                        f.display()
                    );
                }
                Some("safetensors") => {
                    let batch = <$b>::load(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                    batch.validate().unwrap();
                    assert!(!batch.is_empty(), "{}: empty batch", f.display());
                }
                _ => continue,
            }
            n += 1;
        }
        assert!(n > 0, "no Python-written files under {}", dir.display());
        n
    }};
}

fn env_dir(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("{var} is not set: skipped (scripts/test.sh sets it)");
            None
        }
    }
}

#[test]
fn rust_writes_samples() {
    let Some(root) = env_dir("SCHEMAC_RUST_SAMPLES") else {
        return;
    };
    let root: &Path = &root;
    let n = for_each_sample!(write_sample, root);
    eprintln!("wrote {n} Rust samples under {}", root.display());
}

#[test]
fn rust_reads_python_samples() {
    let Some(root) = env_dir("SCHEMAC_PYTHON_SAMPLES") else {
        return;
    };
    let root: &Path = &root;
    let n = for_each_sample!(read_sample, root);
    eprintln!("read {n} Python-written files under {}", root.display());
}

//! Inputs the fuzzer found (tests/fuzz-regressions/{shard,tensors}): each goes through the
//! code path of its fuzz target (fuzz/fuzz_targets/*.rs) and must not panic. Shards: every
//! member the reader yields is one the writer accepts, and writing them reads back the same.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use schemac_runtime::shard::{ShardReader, ShardWriter};
use schemac_runtime::tensors::{TensorFile, TensorSet, META_FINGERPRINT, META_SAMPLE};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fuzz-regressions")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .map(|p| {
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn run_all(target: &str, mut f: impl FnMut(&[u8])) {
    let mut failed = Vec::new();
    for (name, data) in inputs(target) {
        if catch_unwind(AssertUnwindSafe(|| f(&data))).is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "{target} inputs that panic: {failed:?}");
}

fn shard_path(dir: &Path, data: &[u8]) {
    let input: PathBuf = dir.join("input.tar");
    std::fs::write(&input, data).unwrap();
    let mut members = Vec::new();
    for m in ShardReader::open(&input) {
        match m {
            Ok(kv) => members.push(kv),
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert!(!e.code().is_empty());
                return;
            }
        }
    }
    let mut w = ShardWriter::new(dir.join("again")).deterministic(true);
    for (k, v) in &members {
        w.write(k, v)
            .unwrap_or_else(|e| panic!("the reader yielded {k:?}, which the writer refuses: {e}"));
    }
    let paths = w.finish().unwrap();
    let back: Vec<(String, Vec<u8>)> = ShardReader::new(paths.clone())
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        back == members,
        "round trip through the writer changed the members"
    );
    for p in paths {
        std::fs::remove_file(p).unwrap();
    }
}

fn tensors_path(data: &[u8]) {
    let Ok(f) = TensorFile::from_bytes(data.to_vec()) else {
        return;
    };
    // What generated `<Name>Batch::from_safetensors` + `to_safetensors` do, at the tensor
    // level: a file that loads saves to the same bytes every time (the fuzzer found the
    // metadata written in random order).
    let mut copy = TensorSet::new();
    for name in f.names() {
        let (d, shape, bytes) = f.raw(name).unwrap();
        copy.add_raw(name, d, shape, bytes).unwrap();
    }
    let meta = |k: &str| f.metadata().get(k).cloned().unwrap_or_default();
    let rows = f.rows_hint().ok().flatten().unwrap_or(0);
    let save = || {
        copy.to_bytes(&meta(META_SAMPLE), &meta(META_FINGERPRINT), rows)
            .unwrap()
    };
    let first = save();
    for _ in 0..8 {
        assert!(
            save() == first,
            "saving one batch twice gave different bytes"
        );
    }
    let _ = f.rows_hint();
    for name in f.names() {
        let _ = f.raw(name);
        let _ = f.tensor::<u8>(name);
        let _ = f.tensor::<i64>(name);
        let _ = f.tensor::<f32>(name);
        let _ = f.tensor::<bool>(name);
        if let Some(n) = f.rows_of(name) {
            let _ = f.binary(name, n);
            let _ = f.validity(name, n);
            let _ = f.ragged::<u8>(name, n, 1);
            let _ = f.fixed::<u8>(name, n, &[]);
        }
    }
}

#[test]
fn shard_inputs() {
    let dir = tempfile::tempdir().unwrap();
    run_all("shard", |d| shard_path(dir.path(), d));
}

#[test]
fn tensors_inputs() {
    run_all("tensors", tensors_path);
}

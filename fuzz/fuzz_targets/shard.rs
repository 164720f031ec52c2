//! Tar bytes → `schemac_runtime::shard::ShardReader`. Every member it yields must be one
//! the writer accepts: writing the yielded members with `ShardWriter` and reading that
//! shard back gives the same `(key, bytes)` list.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schemac_runtime::shard::{ShardReader, ShardWriter};

fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("schemac-fuzz-shard-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let input = dir().join("input.tar");
    std::fs::write(&input, data).unwrap();
    let mut members = Vec::new();
    for m in ShardReader::open(&input) {
        match m {
            Ok(kv) => members.push(kv),
            Err(e) => {
                let _ = e.to_string();
                let _ = e.code();
                return;
            }
        }
    }
    let prefix = dir().join("again");
    let mut w = ShardWriter::new(&prefix).deterministic(true);
    for (k, v) in &members {
        if let Err(e) = w.write(k, v) {
            panic!("the reader yielded key {k:?}, which the writer refuses: {e}");
        }
    }
    let paths = w.finish().unwrap();
    let back: Vec<(String, Vec<u8>)> = ShardReader::new(paths.clone())
        .collect::<Result<_, _>>()
        .expect("a written shard reads back");
    assert!(
        back == members,
        "round trip through the writer changed the members"
    );
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
});

//! The samples the `codec` target decodes, shared with the seed writer so that a seed's
//! selector byte names the same sample in both.
//!
//! Input layout of the `codec` target: byte 0 selects the format (`b & 3`, in
//! `Format::ALL` order), byte 1 the record (modulo the number of records); the rest is
//! the encoded sample. The records are those of [`SCHEMAS`], then those of
//! `conformance/schemas/*.schema` (sorted by name) where that folder exists.

use std::path::{Path, PathBuf};

use schemac::codec::{Codec, Format};

/// The schemas whose records are fuzzed, relative to the repository root. Order matters:
/// it fixes the selector byte of every seed.
pub const SCHEMAS: &[&str] = &[
    "examples/schemas/common.schema",
    "examples/schemas/everything.schema",
    "examples/schemas/puzzle.schema",
    "examples/schemas/robot.schema",
    "examples/schemas/vision.schema",
    "crates/gen-tests/schemas/atdata_cases.schema",
    "crates/gen-tests/schemas/edges.schema",
    "crates/gen-tests/schemas/layouts_edges.schema",
];

/// One fuzzed record: its schema's file stem, its name, and its codec.
pub struct Entry {
    pub schema: &'static str,
    pub record: String,
    pub codec: Codec<'static>,
}

/// Every record (components too) of every schema in [`SCHEMAS`], in order. The schemas
/// are leaked: they live as long as the fuzzing process.
pub fn load(root: &Path) -> Vec<Entry> {
    let mut paths: Vec<(PathBuf, bool)> = SCHEMAS.iter().map(|r| (root.join(r), true)).collect();
    if let Ok(dir) = std::fs::read_dir(root.join("conformance/schemas")) {
        let mut more: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "schema"))
            .collect();
        more.sort();
        paths.extend(more.into_iter().map(|p| (p, false)));
    }
    let mut out = Vec::new();
    for (path, required) in paths {
        let compiled = match schemac::compile_file(&path) {
            Ok(c) => c,
            Err(f) if required => panic!("{}: {}", path.display(), f.short()),
            // A conformance schema that does not compile seeds nothing.
            Err(_) => continue,
        };
        let schema: &'static schemac::ir::Schema = Box::leak(Box::new(compiled.schema));
        let stem: &'static str = Box::leak(
            path.file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
                .into_boxed_str(),
        );
        for record in &schema.records {
            out.push(Entry {
                schema: stem,
                record: record.name.clone(),
                codec: Codec::for_record(schema, record),
            });
        }
    }
    assert!(out.len() <= 256, "the selector byte holds 256 records");
    out
}

/// The two selector bytes for record `index` in `format` (used by the seed writer).
#[allow(dead_code)]
pub fn selector(index: usize, format: Format) -> [u8; 2] {
    let f = Format::ALL.iter().position(|x| *x == format).unwrap();
    [f as u8, index as u8]
}

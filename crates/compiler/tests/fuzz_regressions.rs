//! Inputs the fuzzer found (tests/fuzz-regressions/{schema,codec}): each goes through the
//! code path of its fuzz target (fuzz/fuzz_targets/*.rs) and must not panic; decoded
//! samples must re-encode to a fixed point in every format, as the `codec` target demands.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use schemac::codec::Format;
use schemac::{compile, diag, emit, fmt, layout_table, parse};

#[path = "../../../fuzz/common/codecs.rs"]
mod codecs;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file in tests/fuzz-regressions/<target>, sorted, except files named in `skip`
/// (those have their own `#[ignore]`d test).
fn inputs(target: &str, skip: &[&str]) -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("tests/fuzz-regressions").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .map(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    (name, std::fs::read(&p).unwrap())
                })
                .filter(|(n, _)| !skip.contains(&n.as_str()))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The `schema` target's path: parse, fmt, check, layout report, diagnostics, emitters.
fn schema_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = repo().join("examples/schemas/fuzz-input.schema");
    let mut sources = diag::Sources::new();
    let id = sources.add("fuzz-input.schema".into(), path.clone(), text.to_owned());
    match parse::parse(id, text) {
        Ok(file) => {
            if file.imports.iter().any(|i| {
                let p = &i.path.value;
                p.contains('/') || p.contains('\\') || p.contains("..") || p.is_empty()
            }) {
                return;
            }
            let _ = fmt::format(&file, text);
        }
        Err(d) => {
            let _ = compile::render_all(&sources, &[*d], false);
            return;
        }
    }
    match compile::compile_source(&path, text.to_owned()) {
        Ok(c) => {
            let _ = compile::render_all(&c.sources, &c.warnings, false);
            let _ = layout_table::layout_table(&c.schema);
            for t in emit::Target::ALL {
                let _ = emit::emit(t, &c.schema);
            }
        }
        Err(f) => {
            let _ = f.render(false);
            let _ = f.short();
        }
    }
}

/// The `codec` target's path: decode, then every format re-encodes to a fixed point.
fn codec_path(entries: &[codecs::Entry], data: &[u8]) {
    let [f, r, rest @ ..] = data else {
        return;
    };
    let e = &entries[*r as usize % entries.len()];
    let format = Format::ALL[(f & 3) as usize];
    let Ok(value) = e.codec.decode(rest, format) else {
        return;
    };
    for f in Format::ALL {
        if f == Format::Packed && e.codec.aggregate().is_none() {
            continue;
        }
        let bytes = e.codec.encode(&value, f).unwrap_or_else(|err| {
            panic!(
                "{}.{}: does not encode as {}: {err}",
                e.schema,
                e.record,
                f.name()
            )
        });
        let back = e.codec.decode(&bytes, f).unwrap_or_else(|err| {
            panic!(
                "{}.{}: own {} does not decode: {err}",
                e.schema,
                e.record,
                f.name()
            )
        });
        assert!(
            e.codec.encode(&back, f).unwrap() == bytes,
            "{}: not a fixed point",
            f.name()
        );
    }
}

fn run_all(target: &str, skip: &[&str], mut f: impl FnMut(&[u8])) {
    let mut failed = Vec::new();
    for (name, data) in inputs(target, skip) {
        if catch_unwind(AssertUnwindSafe(|| f(&data))).is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "{target} inputs that panic: {failed:?}");
}

/// Files with a test of their own below.
const SCHEMA_KNOWN: &[&str] = &["deep_list_nesting"];

#[test]
fn schema_inputs() {
    run_all("schema", SCHEMA_KNOWN, schema_path);
}

#[test]
fn codec_inputs() {
    let entries = codecs::load(&repo());
    run_all("codec", &[], |d| codec_path(&entries, d));
}

/// `list<` 3,000 levels deep: once a stack overflow (an abort, so it keeps a test of its
/// own) in the recursive passes after the parser; now an E0001 at the nesting limit.
#[test]
fn schema_deep_list_nesting() {
    let data =
        std::fs::read(repo().join("tests/fuzz-regressions/schema/deep_list_nesting")).unwrap();
    schema_path(&data);
    let text = std::str::from_utf8(&data).unwrap();
    let mut sources = diag::Sources::new();
    let id = sources.add("deep.schema".into(), "deep.schema".into(), text.to_owned());
    assert!(
        parse::parse(id, text).is_err(),
        "3,000 levels must be an E0001"
    );
}

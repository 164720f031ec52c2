//! Every invalid schema under `tests/invalid/` renders its diagnostics as snapshotted,
//! and carries the code its file name promises.

mod common;

use common::*;
use schemac::compile::compile_file;

#[test]
fn every_invalid_schema_renders_its_code() {
    in_repo(|| {
        let dir = repo().join("tests/invalid");
        let files = schemas_in(&dir);
        assert!(files.len() >= 30, "expected one file per diagnostic");
        let mut codes_seen = std::collections::BTreeSet::new();
        for path in files {
            let rel = path.strip_prefix(repo()).unwrap().to_path_buf();
            let stem = rel.file_stem().unwrap().to_str().unwrap().to_string();
            if stem == "common" {
                continue; // imported by other cases
            }
            let code = stem.split('_').next().unwrap().to_string();
            let rendered = match compile_file(&rel) {
                Ok(c) => {
                    assert!(code.starts_with('W'), "{stem}: compiled without errors");
                    schemac::compile::render_all(&c.sources, &c.warnings, false)
                }
                Err(f) => {
                    assert!(code.starts_with('E'), "{stem}: expected only warnings");
                    assert_eq!(f.exit_code(), 1);
                    f.render(false)
                }
            };
            assert!(
                rendered.contains(&format!("[{code}]")),
                "{stem} does not report {code}:\n{rendered}"
            );
            codes_seen.insert(code);
            snapshots("diagnostics").bind(|| insta::assert_snapshot!(stem, rendered));
        }
        for (code, title) in schemac::diag::codes::ALL {
            assert!(
                codes_seen.contains(*code),
                "no invalid case for {code} ({title})"
            );
        }
    });
}

#[test]
fn build_error_display_is_one_line_with_location() {
    in_repo(|| {
        let out = tempfile::tempdir().unwrap();
        let err = schemac::Builder::new()
            .schema("tests/invalid/E0002_unknown_type.schema")
            .out_dir(out.path())
            .emit_rerun_if_changed(false)
            .compile()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tests/invalid/E0002_unknown_type.schema:2:12: error[E0002]: unknown type `flaot32` (and 1 more errors)"
        );
    });
}

#[test]
fn mutated_examples_never_panic() {
    // Deterministic mutations (deletions, insertions, swaps) of every example must give
    // diagnostics or IR, never a panic.
    in_repo(|| {
        let tokens = [
            "[",
            "]",
            "{",
            "}",
            "<",
            ">",
            "@bits(",
            "?",
            "=",
            ",",
            ":",
            "_",
            "-1",
            "0",
            "99999999999999999999999",
            "\"",
            "@",
            "///",
            "//",
            "list<",
            "map<",
            ";",
            "import \"x\";",
            "H = 0",
        ];
        let mut state: u64 = 0x5eed;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for path in examples() {
            let text = std::fs::read_to_string(&path).unwrap();
            for _ in 0..150 {
                let mut t: Vec<char> = text.chars().collect();
                for _ in 0..(1 + next() % 3) {
                    let at = (next() as usize) % (t.len() + 1);
                    match next() % 3 {
                        0 if at < t.len() => {
                            let n = (1 + next() % 8) as usize;
                            t.drain(at..(at + n).min(t.len()));
                        }
                        1 => {
                            let tok = tokens[(next() as usize) % tokens.len()];
                            for (i, c) in tok.chars().enumerate() {
                                t.insert(at + i, c);
                            }
                        }
                        _ if at + 1 < t.len() => t.swap(at, at + 1),
                        _ => {}
                    }
                }
                let mutated: String = t.into_iter().collect();
                let result = std::panic::catch_unwind(|| {
                    match schemac::compile::compile_source(&path, mutated.clone()) {
                        Ok(c) => {
                            let _ = schemac::layout_table::layout_table(&c.schema);
                        }
                        Err(f) => {
                            let _ = f.render(false);
                        }
                    }
                });
                assert!(result.is_ok(), "panic on:\n{mutated}");
            }
        }
    });
}

#[test]
fn builder_writes_nothing_when_a_later_schema_fails() {
    in_repo(|| {
        let out = tempfile::tempdir().unwrap();
        let err = schemac::Builder::new()
            .schema("examples/schemas/vision.schema")
            .schema("tests/invalid/E0002_unknown_type.schema")
            .target(schemac::emit::Target::Cuda)
            .out_dir(out.path())
            .emit_rerun_if_changed(false)
            .compile()
            .unwrap_err();
        assert!(err.to_string().contains("E0002"), "{err}");
        let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
        assert!(left.is_empty(), "partial output: {left:?}");
    });
}

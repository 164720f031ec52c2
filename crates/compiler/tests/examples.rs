//! The bundled examples: IR, layout and Arrow-mapping snapshots, formatting round trips, and the
//! xtructure golden layouts.

mod common;

use common::*;
use schemac::compile::{compile_file, compile_source};

#[test]
fn ir_and_layout_snapshots() {
    in_repo(|| {
        for path in examples() {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let compiled = compile_file(&path).unwrap_or_else(|f| panic!("{}", f.render(false)));
            assert!(compiled.warnings.is_empty(), "{stem} has warnings");
            let settings = snapshots("ir");
            settings.bind(|| {
                insta::assert_json_snapshot!(format!("{stem}.ir"), compiled.schema);
                insta::assert_snapshot!(
                    format!("{stem}.layout"),
                    schemac::layout_table::layout_table(&compiled.schema)
                );
            });
            snapshots("arrow").bind(|| {
                insta::assert_json_snapshot!(
                    format!("{stem}.arrow"),
                    schemac::arrow::schema_json(&compiled.schema)
                );
            });
        }
    });
}

#[test]
fn fmt_round_trip_keeps_ir_and_is_idempotent() {
    in_repo(|| {
        for path in examples() {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = schemac::parse::parse(0, &text).unwrap();
            let once = schemac::fmt::format(&file, &text);
            let again = schemac::fmt::format(&schemac::parse::parse(0, &once).unwrap(), &once);
            assert_eq!(once, again, "fmt is not idempotent on {}", path.display());
            assert_eq!(
                once,
                text,
                "{} is not canonically formatted",
                path.display()
            );
            let a = compile_file(&path).ok().unwrap().schema;
            let b = compile_source(&path, once).ok().unwrap().schema;
            assert_eq!(a, b, "fmt changed the IR of {}", path.display());
        }
    });
}

#[test]
fn fmt_canonicalises_messy_input_without_changing_ir() {
    in_repo(|| {
        let path = std::path::Path::new("examples/schemas/robot.schema");
        let text = std::fs::read_to_string(path).unwrap();
        // Squash all indentation and spacing, keep line structure (and so the comments).
        let messy: String = text
            .lines()
            .map(|l| {
                let l = l.trim();
                if l.starts_with("//") {
                    l.to_string()
                } else {
                    l.replace(": ", ":").replace(", ", ",")
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let file = schemac::parse::parse(0, &messy).unwrap();
        let formatted = schemac::fmt::format(&file, &messy);
        assert_eq!(formatted, text);
        let a = compile_source(path, messy).ok().unwrap().schema;
        let b = compile_file(path).ok().unwrap().schema;
        assert_eq!(a, b);
    });
}

/// Layout numbers cross-checked against xtructure's own (tests/data/xtructure.json in the
/// runtime crate, copied from shared/vectors with its source line).
#[test]
fn xtructure_layouts_match() {
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("crates/runtime/tests/data/xtructure.json")).unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for case in data["cases"].as_array().unwrap() {
        let schema = case["schema"].as_str().unwrap();
        let compiled = compile_source(std::path::Path::new("case.schema"), schema.to_string())
            .unwrap_or_else(|f| panic!("{}", f.render(false)));
        let record = &compiled.schema.records[0];
        if let Some(total) = case.get("total_bits") {
            let agg = record.bitpack.aggregate.expect("aggregate layout");
            assert_eq!(agg.total_bits, total.as_u64().unwrap());
            assert_eq!(agg.words_len, case["words_len"].as_u64().unwrap());
            assert_eq!(agg.tail_bytes, case["tail_bytes"].as_u64().unwrap());
            assert_eq!(
                agg.words_len as usize,
                case["words_u32_hex"].as_array().unwrap().len()
            );
            if let Some(offsets) = case.get("bit_offsets") {
                for (leaf, off) in offsets.as_object().unwrap() {
                    assert_eq!(record.leaf(leaf).unwrap().bit_offset, off.as_u64());
                }
            }
            checked += 1;
        }
        if let Some(hex) = case.get("packed_hex") {
            // Per-field: schemac stores ceil(324 * 3 / 8) = 122 bytes, xtructure's padded
            // block is one byte longer.
            let leaf = &record.leaves[0];
            assert!(leaf.packed_field);
            assert_eq!(leaf.packed_bytes, Some(122));
            assert_eq!(hex.as_str().unwrap().len() / 2, 123);
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
}

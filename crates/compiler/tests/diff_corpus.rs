//! `schemac diff` on a corpus of old/new pairs, one kind of change each: the rules each
//! change is classified by and its verdicts are asserted here, and the text and JSON
//! reports are snapshotted (`tests/snapshots/diff/`).

mod common;

use common::*;
use schemac::compile::compile_source;
use schemac::diff::{self, render, Category};
use std::path::Path;

const BASE: &str = r#"package evo;

enum Kind { a, b, c }

component Pt {
    x: f32,
    y: f32,
}

sample S {
    id: u32,
    name: str,
    score: f32 = 0.5 @range(0, 1),
    tag: Kind = a,
    img: u8[4, 4],
    seq: i32[_],
    code: u8 @bits(4),
    note: str?,
    pts: Pt[2],
    words: list<str>,
}

sample P {
    a: u8 @bits(3),
    b: bool @bits(1),
}
"#;

/// (name, text replaced, replacement, expected rule ids, expected verdicts
/// `new-reads-old old-reads-new layout api` over all changes, `-` where one breaks).
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "field-added-required",
        "    name: str,\n",
        "    name: str,\n    extra: i64,\n",
        "field-added-required",
        "- o - -",
    ),
    (
        "field-added-optional",
        "    name: str,\n",
        "    name: str,\n    extra: i64?,\n",
        "field-added-optional",
        "o o - -",
    ),
    (
        "field-added-default",
        "    name: str,\n",
        "    name: str,\n    extra: i64 = 7,\n",
        "field-added-optional",
        "o o - -",
    ),
    (
        "field-added-fixed-array-default",
        "    name: str,\n",
        "    name: str,\n    extra: f32[2] = 0,\n",
        "field-added-optional",
        "o o - -",
    ),
    (
        "field-added-dynamic-array-default",
        "    name: str,\n",
        "    name: str,\n    extra: f32[_] = 0,\n",
        "field-added-required",
        "- o - -",
    ),
    (
        "field-removed-required",
        "    name: str,\n",
        "",
        "field-removed-required",
        "o - - -",
    ),
    (
        "field-removed-optional",
        "    note: str?,\n",
        "",
        "field-removed-optional",
        "o o - -",
    ),
    (
        "field-removed-default",
        "    score: f32 = 0.5 @range(0, 1),\n",
        "",
        "field-removed-optional",
        "o o - -",
    ),
    (
        "field-renamed",
        "    id: u32,",
        "    ident: u32,",
        "field-added-required field-removed-required",
        "- - - -",
    ),
    (
        "field-renamed-alias",
        "    id: u32,",
        "    ident: u32 @alias(\"id\"),",
        "field-renamed-alias",
        "o - - -",
    ),
    (
        "field-renamed-alias-optional",
        "    note: str?,",
        "    remark: str? @alias(\"note\"),",
        "field-renamed-alias-optional",
        "o o - -",
    ),
    (
        "field-renamed-alias-retyped",
        "    id: u32,",
        "    ident: u64 @alias(\"id\"),",
        "field-renamed-alias values-widened",
        "o - - -",
    ),
    (
        "alias-added",
        "    id: u32,",
        "    id: u32 @alias(\"key\"),",
        "",
        "o o o o",
    ),
    (
        "field-removed-reserved",
        "sample S {\n    id: u32,\n    name: str,\n",
        "@reserved(\"name\")\nsample S {\n    id: u32,\n",
        "field-removed-required",
        "o - - -",
    ),
    (
        "variant-removed-reserved",
        "enum Kind { a, b, c }",
        "@reserved(\"c\")\nenum Kind { a, b }",
        "variants-removed",
        "- o o -",
    ),
    (
        "sample-became-enum",
        "sample P {\n    a: u8 @bits(3),\n    b: bool @bits(1),\n}\n",
        "enum P { a, b }\n",
        "no-wire-effect sample-removed",
        "- o - -",
    ),
    (
        "fields-reordered",
        "    id: u32,\n    name: str,",
        "    name: str,\n    id: u32,",
        "fields-reordered",
        "o o - -",
    ),
    (
        "optional-added",
        "    name: str,",
        "    name: str?,",
        "optional-added",
        "o - - -",
    ),
    (
        "optional-removed",
        "    note: str?,",
        "    note: str,",
        "optional-removed",
        "- o - -",
    ),
    (
        "default-added",
        "    id: u32,",
        "    id: u32 = 1,",
        "default-changed",
        "o o o o",
    ),
    (
        "default-changed",
        "score: f32 = 0.5",
        "score: f32 = 0.25",
        "default-changed",
        "o o o o",
    ),
    (
        "default-removed",
        "score: f32 = 0.5",
        "score: f32",
        "default-changed",
        "o o o -",
    ),
    (
        "int-widened",
        "    id: u32,",
        "    id: u64,",
        "values-widened",
        "o - - -",
    ),
    (
        "int-narrowed",
        "    id: u32,",
        "    id: u16,",
        "values-narrowed",
        "- o - -",
    ),
    (
        "int-signedness",
        "    id: u32,",
        "    id: i32,",
        "values-changed",
        "- - - -",
    ),
    (
        "int-same-values",
        "    code: u8 @bits(4),",
        "    code: u16 @bits(4),",
        "values-same",
        "o o - -",
    ),
    (
        "int-to-float-exact",
        "    code: u8 @bits(4),",
        "    code: f32,",
        "values-widened",
        "o - - -",
    ),
    (
        "int-to-float-inexact",
        "    id: u32,",
        "    id: f32,",
        "values-changed",
        "- - - -",
    ),
    (
        "float-widened",
        "score: f32 = 0.5",
        "score: f64 = 0.5",
        "values-widened",
        "o - - -",
    ),
    (
        "float-narrowed",
        "score: f32 = 0.5",
        "score: f16 = 0.5",
        "values-narrowed",
        "- o - -",
    ),
    (
        "float-to-int",
        "score: f32 = 0.5 @range(0, 1)",
        "score: u8 @range(0, 1)",
        "values-narrowed default-changed",
        "- o - -",
    ),
    (
        "bits-widened",
        "code: u8 @bits(4)",
        "code: u8 @bits(6)",
        "values-widened",
        "o - - o",
    ),
    (
        "bits-narrowed",
        "code: u8 @bits(4)",
        "code: u8 @bits(2)",
        "values-narrowed",
        "- o - o",
    ),
    (
        "range-widened",
        "@range(0, 1)",
        "@range(-1, 1)",
        "values-widened",
        "o - o o",
    ),
    (
        "range-narrowed",
        "@range(0, 1)",
        "@range(0, 0.5)",
        "values-narrowed",
        "- o o o",
    ),
    (
        "range-removed",
        " @range(0, 1)",
        "",
        "values-widened",
        "o - o o",
    ),
    (
        "array-dtype-changed",
        "img: u8[4, 4]",
        "img: u16[4, 4]",
        "array-dtype-changed",
        "- - - -",
    ),
    (
        "array-dim-changed",
        "img: u8[4, 4]",
        "img: u8[4, 5]",
        "shape-changed",
        "- - - -",
    ),
    (
        "array-rank-changed",
        "img: u8[4, 4]",
        "img: u8[16]",
        "shape-changed",
        "- - - -",
    ),
    (
        "array-dim-relaxed",
        "img: u8[4, 4]",
        "img: u8[4, _]",
        "dims-relaxed",
        "o - - -",
    ),
    (
        "array-dim-restricted",
        "seq: i32[_]",
        "seq: i32[8]",
        "dims-restricted",
        "- o - -",
    ),
    (
        "array-dim-named",
        "seq: i32[_]",
        "seq: i32[N]",
        "dims-restricted",
        "- o - -",
    ),
    (
        "str-to-bytes",
        "    name: str,",
        "    name: bytes,",
        "kind-changed",
        "- - - -",
    ),
    (
        "enum-to-str",
        "tag: Kind = a",
        "tag: str = \"a\"",
        "enum-to-str default-changed",
        "o - - -",
    ),
    (
        "str-to-enum",
        "    name: str,",
        "    name: Kind,",
        "str-to-enum",
        "- o - -",
    ),
    (
        "variant-added",
        "enum Kind { a, b, c }",
        "enum Kind { a, b, c, d }",
        "variants-added",
        "o - o -",
    ),
    (
        "variant-added-first",
        "enum Kind { a, b, c }",
        "enum Kind { z, a, b, c }",
        "variants-added",
        "o - - -",
    ),
    (
        "variant-removed",
        "enum Kind { a, b, c }",
        "enum Kind { a, b }",
        "variants-removed",
        "- o o -",
    ),
    (
        "variants-reordered",
        "enum Kind { a, b, c }",
        "enum Kind { c, b, a }",
        "variants-same",
        "o o - o",
    ),
    (
        "component-field-added",
        "    y: f32,\n}",
        "    y: f32,\n    z: f32?,\n}",
        "field-added-optional nested",
        "o o - -",
    ),
    (
        "component-field-retyped",
        "    x: f32,",
        "    x: f64,",
        "values-widened nested",
        "o - - -",
    ),
    (
        "component-array-resized",
        "pts: Pt[2]",
        "pts: Pt[3]",
        "shape-changed",
        "- - - -",
    ),
    (
        "list-item-changed",
        "words: list<str>",
        "words: list<bytes>",
        "kind-changed",
        "- - - -",
    ),
    (
        "sample-added",
        "sample P {",
        "sample Q {\n    v: u8,\n}\n\nsample P {",
        "sample-added",
        "o o o o",
    ),
    (
        "sample-removed",
        "sample P {\n    a: u8 @bits(3),\n    b: bool @bits(1),\n}\n",
        "",
        "sample-removed",
        "- o - -",
    ),
    (
        "sample-made-component",
        "sample P {",
        "component P {",
        "sample-removed",
        "- o o -",
    ),
    (
        "component-added",
        "sample P {",
        "component C {\n    v: u8,\n}\n\nsample P {",
        "no-wire-effect",
        "o o o o",
    ),
    (
        "package-changed",
        "package evo;",
        "package evo2;",
        "no-wire-effect",
        "o o o -",
    ),
    (
        "bitpack-changed",
        "sample P {",
        "@bitpack(off)\nsample P {",
        "no-wire-effect",
        "o o - -",
    ),
    (
        "packed-added",
        "code: u8 @bits(4)",
        "code: u8 @bits(4) @packed",
        "",
        "o o - -",
    ),
    (
        "docs-only",
        "    id: u32,",
        "    /// The id.\n    id: u32,",
        "",
        "o o o o",
    ),
];

fn compile(name: &str, text: &str) -> schemac::Compiled {
    compile_source(Path::new(name), text.to_string())
        .unwrap_or_else(|f| panic!("{name} does not compile:\n{}", f.render(false)))
}

#[test]
fn corpus() {
    assert!(CASES.len() >= 40);
    let old = compile("old/evo.schema", BASE);
    for (name, from, to, rules, verdicts) in CASES {
        assert!(
            BASE.contains(from),
            "{name}: `{from}` not in the base schema"
        );
        let text = BASE.replacen(from, to, 1);
        let new = compile("new/evo.schema", &text);
        let report = diff::diff(&old, &new, "old/evo.schema", "new/evo.schema", "");
        let mut seen: Vec<&str> = report
            .changes
            .iter()
            .flat_map(|c| c.rules.iter().copied())
            .collect();
        seen.sort();
        seen.dedup();
        let mut want: Vec<&str> = rules.split_whitespace().collect();
        want.sort();
        assert_eq!(seen, want, "{name}: rules");
        let all = |f: &dyn Fn(&diff::Change) -> bool| {
            if report.changes.iter().all(f) {
                "o"
            } else {
                "-"
            }
        };
        let got = [
            all(&|c| c.new_reads_old),
            all(&|c| c.old_reads_new),
            all(&|c| c.layout_unchanged),
            all(&|c| c.api_unchanged),
        ]
        .join(" ");
        assert_eq!(&got, verdicts, "{name}: verdicts (nro onr layout api)");
        if *name == "docs-only" {
            assert!(report.changes.is_empty(), "{name}: {:?}", report.changes);
        }
        let on = [Category::Wire, Category::Layout];
        let json = serde_json::to_string_pretty(&render::json(&report, &on)).unwrap();
        let snap = format!(
            "{}\n--- json ---\n{json}\n",
            render::text(&report, &on, false)
        );
        snapshots("diff").bind(|| insta::assert_snapshot!(*name, snap));
    }
}

#[test]
fn every_rule_is_documented_and_the_docs_table_is_generated() {
    let docs = std::fs::read_to_string(repo().join("docs/language.md")).unwrap();
    let begin = "<!-- BEGIN wire-rules (generated from crates/compiler/src/diff/rules.rs) -->\n";
    let end = "<!-- END wire-rules -->";
    let start = docs
        .find(begin)
        .expect("docs/language.md has the wire rules table")
        + begin.len();
    let stop = docs[start..].find(end).unwrap() + start;
    if std::env::var_os("SCHEMAC_WRITE_DOCS").is_some() {
        let fresh = format!(
            "{}{}{}",
            &docs[..start],
            diff::rules::markdown_table(),
            &docs[stop..]
        );
        std::fs::write(repo().join("docs/language.md"), fresh).unwrap();
        return;
    }
    assert_eq!(
        &docs[start..stop],
        diff::rules::markdown_table(),
        "docs/language.md's wire table is stale: paste the output of rules::markdown_table()"
    );
}

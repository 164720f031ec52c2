//! `schemac layout --format svg` and `schemac diff --format svg`: the pictures are
//! well-formed XML, their geometry matches hand-computed bit counts, they are snapshotted
//! (`tests/snapshots/svg/`), and the examples in docs/images are what the compiler draws today.

mod common;

use common::*;
use schemac::compile::{compile_source, Compiled};
use schemac::layout_svg::{diff_svg, layout_svg, Versions};
use std::path::Path;

/// Pixels per bit in the drawings (`layout_svg::BIT_W`).
const BIT_W: f64 = 20.0;

fn compiled(path: &str) -> Compiled {
    in_repo(|| schemac::compile::compile_file(Path::new(path)))
        .unwrap_or_else(|f| panic!("{}", f.render(false)))
}

fn parse(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    doc
}

/// Bits drawn per leaf: the widths of the leaf's segments (each has a `<title>` starting
/// with its path) added up.
fn drawn_bits(doc: &roxmltree::Document, path: &str) -> f64 {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some("leaf"))
        .filter(|n| {
            n.children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .is_some_and(|t| t.starts_with(&format!("{path}: ")))
        })
        .map(|n| n.attribute("width").unwrap().parse::<f64>().unwrap() / BIT_W)
        .sum()
}

#[test]
fn every_example_draws_as_well_formed_svg() {
    for path in examples() {
        let c = compiled(path.to_str().unwrap());
        let svg = layout_svg(&c.schema, None);
        let doc = parse(&svg);
        for r in c.schema.records.iter().filter(|r| !r.imported) {
            let headed = doc
                .descendants()
                .filter_map(|n| n.text())
                .any(|t| t.ends_with(&format!(" {}", r.name)));
            assert!(headed, "{}: no heading for {}", path.display(), r.name);
        }
    }
}

#[test]
fn segments_cover_each_leaf_exactly() {
    let c = compiled("examples/schemas/puzzle.schema");
    let doc_text = layout_svg(&c.schema, Some("AggState"));
    let doc = parse(&doc_text);
    // Hand-computed: 17 flags of 1 bit, 6 x 54 faces of 3 bits, 5 codes of 12 bits.
    assert_eq!(drawn_bits(&doc, "flags"), 17.0);
    assert_eq!(drawn_bits(&doc, "faces"), 972.0);
    assert_eq!(drawn_bits(&doc, "codes"), 60.0);
    // 1049 bits fill 33 words; the last 7 bits are padding.
    assert!(doc_text.contains("w32 @1024"), "{doc_text}");
    assert!(!doc_text.contains("w33 "));
    let pad = doc
        .descendants()
        .find(|n| n.attribute("class") == Some("pad"))
        .expect("a padding rect");
    assert_eq!(pad.attribute("width"), Some(&*format!("{}", 7.0 * BIT_W)));
    // --record drew only AggState.
    assert!(!doc_text.contains("TileState"));
}

#[test]
fn a_record_without_an_aggregate_form_says_so() {
    let c = compiled("examples/schemas/vision.schema");
    let svg = layout_svg(&c.schema, None);
    parse(&svg);
    assert!(svg.contains("no aggregate packed form"), "{svg}");
}

#[test]
fn puzzle_layout_snapshot() {
    let c = compiled("examples/schemas/puzzle.schema");
    snapshots("svg").bind(|| insta::assert_snapshot!("puzzle_layout", layout_svg(&c.schema, None)));
}

const OLD: &str = r#"package tiles;

sample TileState {
    tiles: u8[4, 4] @bits(2),
    delta: i8 = -1 @bits(4),
    parity: bool @bits(1),
    steps: u16 @bits(3),
}

sample Same {
    a: u8 @bits(3),
}
"#;

/// `delta` widened to 5 bits (so `parity` and `steps` move), `steps` renamed to `moves`
/// with an alias, `parity` removed and `hint` added.
const NEW: &str = r#"package tiles;

sample TileState {
    tiles: u8[4, 4] @bits(2),
    delta: i8 = -1 @bits(5),
    hint: u8 @bits(2),
    moves: u16 @bits(3) @alias("steps"),
}

sample Same {
    a: u8 @bits(3),
}
"#;

fn tile_diff() -> String {
    let old = compile_source(Path::new("old/tiles.schema"), OLD.to_string())
        .unwrap_or_else(|f| panic!("{}", f.render(false)));
    let new = compile_source(Path::new("tiles.schema"), NEW.to_string())
        .unwrap_or_else(|f| panic!("{}", f.render(false)));
    diff_svg(&[Versions {
        old: &old.schema,
        new: &new.schema,
        old_name: "old/tiles.schema",
        new_name: "tiles.schema",
    }])
}

#[test]
fn diff_marks_moved_resized_added_and_removed_leaves() {
    let svg = tile_diff();
    let doc = parse(&svg);
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .collect();
    let has = |want: &str| {
        assert!(
            titles.iter().any(|t| t.contains(want)),
            "no title with {want:?} in {titles:#?}"
        )
    };
    // Hand-computed offsets: tiles 0..32, old delta 32..36, parity 36..37, steps 37..40;
    // new delta 32..37, hint 37..39, moves 39..42.
    has("delta: i8 @bits(5) (bits 32..37; 4 → 5 bits per value)");
    has("parity: bool @bits(1) (bits 36..37; removed)");
    has("hint: u8 @bits(2) (bits 37..39; added)");
    has("moves: u16 @bits(3) (bits 39..42; renamed from steps; moved from bit 37)");
    // An unchanged leaf is not outlined; a changed one is.
    let outlined = |path: &str| {
        doc.descendants()
            .filter(|n| {
                n.has_tag_name("rect")
                    && n.attribute("style")
                        .is_some_and(|s| s.contains("stroke-width: 3"))
            })
            .any(|n| {
                n.children().any(|c| {
                    c.text()
                        .is_some_and(|t| t.starts_with(&format!("{path}: ")))
                })
            })
    };
    assert!(outlined("delta") && outlined("parity") && outlined("hint") && outlined("moves"));
    assert!(!outlined("tiles"));
    // `Same` did not change: listed, not drawn.
    assert!(
        svg.contains("aggregate layout unchanged or absent: Same"),
        "{svg}"
    );
    assert!(!svg.contains("sample Same"));
    snapshots("svg").bind(|| insta::assert_snapshot!("tiles_diff", svg));
}

/// The pictures in docs/images are the compiler's current output
/// (`SCHEMAC_UPDATE_DOCS=1 cargo test -p schemac --test layout_svg` rewrites them).
#[test]
fn docs_images_are_current() {
    let c = compiled("examples/schemas/puzzle.schema");
    for (file, svg) in [
        (
            "tilestate-layout.svg",
            layout_svg(&c.schema, Some("TileState")),
        ),
        ("tilestate-diff.svg", tile_diff()),
    ] {
        let path = repo().join("docs/images").join(file);
        if std::env::var_os("SCHEMAC_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &svg).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == svg,
            "docs/images/{file} is stale: rerun with SCHEMAC_UPDATE_DOCS=1"
        );
    }
}

#[test]
fn a_new_name_on_the_old_bits_is_a_rename() {
    let compile = |name: &str, text: &str| {
        compile_source(Path::new(name), text.to_string())
            .unwrap_or_else(|f| panic!("{}", f.render(false)))
    };
    let old = compile(
        "old.schema",
        "sample S {\n    a: u8 @bits(3),\n    b: u8 @bits(2),\n}\n",
    );
    let new = compile(
        "new.schema",
        "sample S {\n    a: u8 @bits(3),\n    c: u8 @bits(2),\n}\n",
    );
    let svg = diff_svg(&[Versions {
        old: &old.schema,
        new: &new.schema,
        old_name: "old.schema",
        new_name: "new.schema",
    }]);
    parse(&svg);
    assert!(
        svg.contains("c: u8 @bits(2)  bits 3..5  (renamed from b)"),
        "{svg}"
    );
    assert!(
        !svg.contains("(removed)") && !svg.contains("(added)"),
        "{svg}"
    );
}

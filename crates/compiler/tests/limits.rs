//! The documented limits (docs/language.md "Limits"): each is a located diagnostic just
//! past it and accepted at it, and within them generated code grows linearly with the
//! schema (measured in bytes, not time).

use schemac::check::MAX_COMPONENT_DEPTH;
use schemac::compile::compile_source;
use schemac::emit::{self, Target};
use schemac::layout::{MAX_RECORD_LEAVES, MAX_SCHEMA_LEAVES};
use std::path::Path;

/// `copies` independent chains, each nesting `depth` components under its sample.
fn chains(copies: usize, depth: usize) -> String {
    let mut s = String::new();
    for c in 0..copies {
        s.push_str(&format!("component K{c}L0 {{ x: f32, }}\n"));
        for i in 1..depth {
            s.push_str(&format!(
                "component K{c}L{i} {{ x: f32, inner: K{c}L{}, }}\n",
                i - 1
            ));
        }
        s.push_str(&format!("sample K{c}S {{ inner: K{c}L{}, }}\n", depth - 1));
    }
    s
}

/// A sample whose one component has `leaves` scalar fields.
fn wide(leaves: usize) -> String {
    let fields: String = (0..leaves).map(|i| format!("f{i}: u8, ")).collect();
    format!("component W {{ {fields}}}\nsample S {{ w: W, }}\n")
}

fn codes(text: &str) -> Result<(), Vec<&'static str>> {
    match compile_source(Path::new("limits.schema"), text.to_string()) {
        Ok(_) => Ok(()),
        Err(schemac::Failure::Schema { diagnostics, .. }) => {
            Err(diagnostics.iter().map(|d| d.code).collect())
        }
        Err(f) => panic!("{}", f.render(false)),
    }
}

fn generated_bytes(text: &str) -> usize {
    let c = compile_source(Path::new("limits.schema"), text.to_string())
        .unwrap_or_else(|f| panic!("{}", f.render(false)));
    Target::ALL
        .iter()
        .flat_map(|&t| emit::emit(t, &c.schema).unwrap())
        .map(|f| f.contents.len())
        .sum()
}

#[test]
fn nesting_is_accepted_at_the_limit_and_rejected_past_it() {
    // `chains(1, d)`: the sample holds d nested components, so it nests d levels.
    assert_eq!(codes(&chains(1, MAX_COMPONENT_DEPTH)), Ok(()));
    assert_eq!(
        codes(&chains(1, MAX_COMPONENT_DEPTH + 1)),
        Err(vec!["E0030"])
    );
    // A chain far past the limit, declared outermost first (so the walk meets the deep
    // end last), is one diagnostic, not a stack overflow or one per link.
    let mut s = String::from("sample S { c: C4999, }\n");
    for i in (1..5000).rev() {
        s.push_str(&format!("component C{i} {{ c: C{}, }}\n", i - 1));
    }
    s.push_str("component C0 { x: f32, }\n");
    assert_eq!(codes(&s), Err(vec!["E0030"]));
}

#[test]
fn leaves_are_accepted_at_the_limit_and_rejected_past_it() {
    assert_eq!(codes(&wide(MAX_RECORD_LEAVES)), Ok(()));
    assert_eq!(codes(&wide(MAX_RECORD_LEAVES + 1)), Err(vec!["E0031"]));
    // Records each under the per-record limit, together over the schema's.
    let per = MAX_RECORD_LEAVES / 2;
    let records = MAX_SCHEMA_LEAVES / per + 1;
    let mut s = String::new();
    for r in 0..records {
        let fields: String = (0..per).map(|i| format!("f{i}: u8, ")).collect();
        s.push_str(&format!("sample S{r} {{ {fields}}}\n"));
    }
    assert_eq!(codes(&s), Err(vec!["E0031"]));
}

#[test]
fn long_leaf_paths_are_bounded() {
    // Doubling fan-out under a long field name: few leaves' worth of schema text, but
    // every leaf path repeats the name at each level.
    let name = "n".repeat(60_000);
    let mut s = format!("component T0 {{ {name}: f32, }}\n");
    for i in 1..6 {
        s.push_str(&format!(
            "component T{i} {{ {name}a: T{p}, {name}b: T{p}, }}\n",
            p = i - 1
        ));
    }
    s.push_str("sample S { t: T5, }\n");
    assert_eq!(codes(&s), Err(vec!["E0031"]));
}

#[test]
fn generated_size_grows_linearly_with_the_schema() {
    // Twice the schema (chains as deep as allowed) gives about twice the output; before
    // the limits one chain of 2N components gave about 8-10 times the output of N.
    let depth = MAX_COMPONENT_DEPTH / 4;
    let one = chains(3, depth);
    let two = chains(6, depth);
    let (a, b) = (generated_bytes(&one), generated_bytes(&two));
    let ratio = b as f64 / a as f64;
    assert!(
        (1.8..2.2).contains(&ratio),
        "{a} -> {b} bytes: ratio {ratio}"
    );
    // And the output per schema byte stays bounded at the deepest allowed chain.
    let deepest = chains(1, MAX_COMPONENT_DEPTH);
    let per_byte = generated_bytes(&deepest) / deepest.len();
    assert!(per_byte < 5_000, "{per_byte} output bytes per schema byte");
}

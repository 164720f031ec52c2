//! `schemac fmt` keeps every comment and is idempotent, on every input it accepts.
//!
//! The property test takes every schema in the repository (examples, invalid cases,
//! gen-tests), mutates each many times with a seeded generator (comments and doc comments
//! inserted at token boundaries and line ends, lines duplicated, deleted or split, CRLF line
//! endings, a byte-order mark) and, for every variant that parses, checks against the
//! variant itself: the formatted text parses, holds the same comments (as a multiset) and the
//! same syntax tree (spans aside), compiles to the same IR when the variant compiles, and
//! formatting it again changes nothing. The example-based tests below pin each bug that was
//! reported against `fmt`.

mod common;

use common::*;
use schemac::ast::File;
use std::path::{Path, PathBuf};

fn parse(text: &str) -> Option<File> {
    schemac::parse::parse(0, text).ok()
}

fn fmt(text: &str) -> String {
    let file = parse(text).unwrap_or_else(|| panic!("does not parse:\n{text}"));
    schemac::fmt::format(&file, text)
}

/// The tree without spans or comments, as text: two files with equal shapes hold the same
/// declarations, names, types, literals, attributes and doc comments.
fn shape(file: &File) -> String {
    let mut f = file.clone();
    f.comments.clear();
    let dbg = format!("{f:?}");
    // Drop every `Span { file: .., start: .., end: .. }`.
    let mut out = String::with_capacity(dbg.len());
    let mut rest = dbg.as_str();
    while let Some(i) = rest.find("Span { file: ") {
        out.push_str(&rest[..i]);
        out.push('_');
        let after = &rest[i..];
        let close = after.find(" }").expect("span closes");
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

fn comment_texts(file: &File) -> Vec<String> {
    let mut v: Vec<String> = file.comments.iter().map(|c| c.text.clone()).collect();
    v.sort();
    v
}

/// What [`check_fmt`] got to check.
#[derive(PartialEq)]
enum Reached {
    /// The input does not parse (fmt refuses it).
    Unparsed,
    Parsed,
    /// The input compiles, so the IR was compared too.
    Compiled,
}

/// Checks every property on one input; `Err` says which one failed.
fn check_fmt(path: &Path, text: &str) -> Result<Reached, String> {
    let Some(before) = parse(text) else {
        return Ok(Reached::Unparsed); // fmt only formats what parses
    };
    let once = schemac::fmt::format(&before, text);
    let after = parse(&once).ok_or("the formatted text does not parse")?;
    if comment_texts(&before) != comment_texts(&after) {
        return Err(format!(
            "comments differ:\n  before {:?}\n  after  {:?}",
            comment_texts(&before),
            comment_texts(&after)
        ));
    }
    if shape(&before) != shape(&after) {
        return Err("the syntax tree changed".into());
    }
    let twice = schemac::fmt::format(&after, &once);
    if twice != once {
        return Err(format!("not idempotent; second pass:\n{twice}"));
    }
    // The IR (where the variant compiles) is the same too; imports resolve next to `path`.
    let ir = |t: &str| {
        schemac::compile::compile_source(path, t.to_string())
            .ok()
            .map(|c| c.schema)
    };
    match ir(text) {
        Some(a) if ir(&once).as_ref() != Some(&a) => Err("the IR changed".into()),
        Some(_) => Ok(Reached::Compiled),
        None => Ok(Reached::Parsed),
    }
}

/// splitmix64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte offsets between two tokens: outside strings and comments, and not inside a word.
fn token_boundaries(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
    let mut out = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => i += 1,
        }
        let i = i.min(b.len());
        let splits_word = i < b.len() && i > 0 && word(b[i - 1]) && word(b[i]);
        if !splits_word && text.is_char_boundary(i) && b.get(i) != Some(&b'\n') {
            out.push(i);
        }
    }
    out
}

fn line_ends(text: &str) -> Vec<usize> {
    let mut v: Vec<usize> = text
        .match_indices('\n')
        .map(|(i, _)| {
            if i > 0 && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            }
        })
        .collect();
    v.push(text.len());
    v
}

fn mutate(text: &str, rng: &mut Rng, n: u64) -> String {
    let mut t = text.to_string();
    for k in 0..(1 + rng.below(4)) {
        let tag = format!("{n}.{k}");
        match rng.below(9) {
            0 | 1 => {
                let at = *pick(&token_boundaries(&t), rng);
                t.insert_str(at, &format!("// c{tag}\n"));
            }
            2 => {
                let at = *pick(&token_boundaries(&t), rng);
                t.insert_str(at, &format!("\n/// d{tag}\n"));
            }
            3 | 4 => {
                let at = *pick(&line_ends(&t), rng);
                t.insert_str(at, &format!(" // t{tag}"));
            }
            5 => {
                let at = *pick(&line_ends(&t), rng);
                t.insert_str(at, &format!("\n/// e{tag}"));
            }
            6 | 7 => {
                let mut lines: Vec<&str> = t.split('\n').collect();
                let i = rng.below(lines.len());
                match rng.below(3) {
                    0 => {
                        lines.remove(i);
                    }
                    1 => lines.insert(i, lines[i]),
                    _ => lines.insert(i, ""),
                }
                t = lines.join("\n");
            }
            _ => {
                let at = *pick(&token_boundaries(&t), rng);
                t.insert(at, '\n');
            }
        }
    }
    match rng.below(16) {
        0 => t = t.replace('\n', "\r\n"),
        1 => t.insert(0, '\u{FEFF}'),
        _ => {}
    }
    t
}

fn pick<'a, T>(v: &'a [T], rng: &mut Rng) -> &'a T {
    &v[rng.below(v.len())]
}

fn corpus() -> Vec<PathBuf> {
    let root = repo();
    let mut files = Vec::new();
    for dir in [
        "examples/schemas",
        "tests/invalid",
        "crates/gen-tests/schemas",
    ] {
        files.extend(schemas_in(&root.join(dir)));
    }
    files
        .into_iter()
        .map(|p| p.strip_prefix(&root).unwrap().to_path_buf())
        .collect()
}

#[test]
fn fmt_keeps_comments_and_is_idempotent_on_mutated_corpora() {
    in_repo(|| {
        let started = std::time::Instant::now();
        let mut rng = Rng(0x5c4e_3ac0);
        let (mut variants, mut parsed, mut compiled) = (0u64, 0u64, 0u64);
        let files = corpus();
        assert!(files.len() >= 40, "the corpus shrank: {files:?}");
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            check_fmt(path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            for _ in 0..80 {
                let variant = mutate(&text, &mut rng, variants);
                variants += 1;
                match check_fmt(path, &variant) {
                    Ok(Reached::Unparsed) => {}
                    Ok(Reached::Parsed) => parsed += 1,
                    Ok(Reached::Compiled) => (parsed, compiled) = (parsed + 1, compiled + 1),
                    Err(e) => panic!(
                        "{} variant {variants}: {e}\n--- input\n{variant}\n--- fmt\n{}",
                        path.display(),
                        fmt(&variant)
                    ),
                }
            }
        }
        eprintln!(
            "fmt: {variants} variants, {parsed} parsed, {compiled} compiled, {:.1?}",
            started.elapsed()
        );
        // The mutations must reach the formatter, not just the parser's error path.
        assert!(
            variants >= 3000 && parsed * 2 >= variants,
            "{parsed}/{variants}"
        );
    });
}

#[test]
fn dangling_doc_comments_are_kept() {
    let src =
        "sample S {\n    x: u8,\n    /// documents nothing\n}\n\nenum E { a, /// nor this\n}\n";
    let want = "sample S {\n    x: u8,\n    /// documents nothing\n}\n\nenum E {\n    a,\n    /// nor this\n}\n";
    assert_eq!(fmt(src), want);
    assert_eq!(fmt(want), want);
}

#[test]
fn comment_between_doc_and_field_stays_there() {
    let src =
        "sample S {\n    /// The doc.\n    // A note for maintainers.\n    x: u8,\n    y: u8,\n}\n";
    assert_eq!(fmt(src), src);
}

#[test]
fn trailing_comment_before_a_comma_on_the_next_line_stays_on_its_line() {
    // pest's span of `x: u8` used to swallow the comment, which then moved below the field.
    let src = "sample S {\n    x: u8 // why x\n    , y: u8\n}\n";
    let want = "sample S {\n    x: u8, // why x\n    y: u8,\n}\n";
    assert_eq!(fmt(src), want);
    assert_eq!(fmt(want), want);
}

#[test]
fn comments_inside_a_header_stay_above_it() {
    // A comment between the attributes and `sample`, and one between `enum` and its name:
    // both go above the line they were in, and a second pass keeps them there.
    let src = "@bitpack(aggregate) // why\nsample S { x: u8 @bits(3) }\n\nenum // odd\nE { a }\n";
    let want =
        "@bitpack(aggregate) // why\nsample S {\n    x: u8 @bits(3),\n}\n\n// odd\nenum E { a }\n";
    assert_eq!(fmt(src), want);
    assert_eq!(fmt(want), want);
}

#[test]
fn module_docs_bom_and_crlf_round_trip() {
    let src =
        "\u{FEFF}// Header.\r\n/// The module.\r\npackage a; // why\r\nsample S { x: u8 }\r\n";
    let want = "// Header.\n/// The module.\npackage a; // why\n\nsample S {\n    x: u8,\n}\n";
    assert_eq!(fmt(src), want);
    assert_eq!(fmt(want), want);
}

#[test]
fn every_corpus_file_formats_with_its_comments() {
    // The unmutated corpus, on its own, so a failure here names the file.
    in_repo(|| {
        for path in corpus() {
            let text = std::fs::read_to_string(&path).unwrap();
            check_fmt(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    });
}

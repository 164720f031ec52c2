//! The surface syntax: byte-order marks and CRLF, module docs, the wording of syntax errors,
//! and the nesting limit that keeps every recursive pass within its stack.

mod common;

use common::*;
use schemac::compile::{compile_file, compile_source};
use schemac::diag::codes;
use schemac::emit::{emit, Target};
use std::path::Path;
use std::process::Command;

#[test]
fn bom_and_crlf_compile_to_the_same_ir() {
    in_repo(|| {
        for path in examples() {
            let text = std::fs::read_to_string(&path).unwrap();
            let plain = compile_file(&path).ok().unwrap().schema;
            let bom = compile_source(&path, format!("\u{FEFF}{text}"));
            let crlf = compile_source(&path, text.replace('\n', "\r\n"));
            let both = compile_source(&path, format!("\u{FEFF}{}", text.replace('\n', "\r\n")));
            for (name, c) in [("bom", bom), ("crlf", crlf), ("bom+crlf", both)] {
                let c =
                    c.unwrap_or_else(|f| panic!("{name} {}: {}", path.display(), f.render(false)));
                assert_eq!(
                    c.schema,
                    plain,
                    "{name} changed the IR of {}",
                    path.display()
                );
            }
        }
    });
}

#[test]
fn a_bom_is_not_counted_in_columns() {
    let f = compile_source(Path::new("x.schema"), "\u{FEFF}sample S { x f32 }".into())
        .err()
        .unwrap();
    assert_eq!(
        f.short(),
        "x.schema:1:14: error[E0001]: expected `:`, found identifier `f32`"
    );
}

#[test]
fn module_docs_reach_the_ir_and_every_target() {
    let src = "// not a doc\n/// Line one.\n///\n/// Line two.\npackage p;\n\n/// S.\nsample S { x: u8 }\n";
    let c = compile_source(Path::new("p.schema"), src.into())
        .unwrap_or_else(|f| panic!("{}", f.render(false)));
    assert_eq!(c.schema.docs, ["Line one.", "", "Line two."]);
    let text = |t: Target| {
        emit(t, &c.schema)
            .unwrap()
            .into_iter()
            .map(|f| f.contents)
            .collect::<String>()
    };
    let rust = text(Target::Rust);
    assert!(
        rust.contains("Do not edit.\n//\n// Line one.\n//\n// Line two.\n\n"),
        "{rust}"
    );
    let python = text(Target::Python);
    assert!(
        python.contains("Do not edit.\n\"\"\"Line one.\n\nLine two.\n\nPython module generated"),
        "{python}"
    );
    let cuda = text(Target::Cuda);
    assert!(
        cuda.contains("//\n// Line one.\n//\n// Line two.\n//\n// CUDA"),
        "{cuda}"
    );
    // Without module docs nothing is added.
    let bare = compile_source(
        Path::new("p.schema"),
        "package p;\nsample S { x: u8 }".into(),
    )
    .ok()
    .unwrap();
    assert!(bare.schema.docs.is_empty());
    assert!(emit(Target::Rust, &bare.schema).unwrap()[0]
        .contents
        .contains("Do not edit.\n\nconst _"));
}

/// The entries of "expected A, B, C" (commas inside parentheses do not split).
fn expected_entries(message: &str) -> Vec<String> {
    let Some(rest) = message.strip_prefix("expected ") else {
        return Vec::new();
    };
    let rest = rest.strip_prefix("one of ").unwrap_or(rest);
    let end = rest
        .find(" after a doc comment, found ")
        .or_else(|| rest.rfind(", found "))
        .expect("a found part");
    let mut out = Vec::new();
    let (mut depth, mut ticked, mut cur) = (0, false, String::new());
    for c in rest[..end].chars() {
        match c {
            '`' => ticked = !ticked,
            '(' if !ticked => depth += 1,
            ')' if !ticked => depth -= 1,
            ',' if depth == 0 && !ticked => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

/// One syntax error's wording: no entry (or backticked token) listed twice, and a "did you
/// mean" never suggests what is already there.
fn check_wording(text: &str) -> Option<String> {
    let d = *schemac::parse::parse(0, text).err()?;
    assert_eq!(d.code, codes::SYNTAX);
    let entries = expected_entries(&d.message);
    let mut sorted = entries.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        entries.len(),
        "duplicate entry in {:?}",
        d.message
    );
    let head = d.message.split(", found ").next().unwrap();
    let ticked: Vec<&str> = head.split('`').skip(1).step_by(2).collect();
    let mut unique = ticked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        ticked.len(),
        "token listed twice in {:?}",
        d.message
    );
    if let Some(k) = d
        .help
        .as_deref()
        .and_then(|h| h.strip_prefix("did you mean `"))
        .and_then(|h| h.strip_suffix("`?"))
    {
        let written = &text[d.primary.start..d.primary.end];
        assert_ne!(k, written, "suggests what was written: {:?}", d.message);
    }
    Some(d.message)
}

#[test]
fn syntax_errors_list_each_expectation_once_and_never_suggest_the_word_written() {
    let cases = [
        // The reported ones: `sample` was listed twice, and `package` suggested for `package`.
        "/// Docs.\nsample S {}\npackage a;\n",
        "sample S {}\npackage a;\n",
        "package a;\nimport \"x\";\nsample S {}\nimport \"y\";\n",
        "samle S {}",
        "sample S { x f32 }",
        "sample S { x: u8 @range(0, }",
        "sample S { x: f32[2, }",
        "@packed\nfoo",
        "package ;",
        "sample S { x: map<str u8> }",
    ];
    for src in cases {
        check_wording(src).unwrap_or_else(|| panic!("{src:?} parsed"));
    }
    let d = schemac::parse::parse(0, "sample S {}\npackage a;\n").unwrap_err();
    assert_eq!(
        d.help.as_deref(),
        Some("`package` must be the first declaration of the file")
    );
    // And on every syntax error that deterministic mutations of the examples produce.
    in_repo(|| {
        let mut state: u64 = 0xd0c5;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        let pieces = [
            "package",
            "import",
            "sample",
            "enum",
            "component",
            "samle",
            "///",
            "x",
            "@",
            ";",
            ",",
            "<",
            "é",
            "{",
            "}",
            ":",
            "=",
        ];
        let mut errors = 0;
        for path in examples() {
            let text = std::fs::read_to_string(&path).unwrap();
            for _ in 0..200 {
                let mut t = text.clone();
                let mut at = next() % (t.len() + 1);
                while !t.is_char_boundary(at) {
                    at -= 1;
                }
                t.insert_str(at, &format!(" {} ", pieces[next() % pieces.len()]));
                errors += usize::from(check_wording(&t).is_some());
            }
        }
        assert!(errors > 400, "only {errors} syntax errors");
    });
}

#[test]
fn non_ascii_names_point_at_the_character() {
    let src = "sample S { x: u8, naïve: u8 }";
    let d = schemac::parse::parse(0, src).unwrap_err();
    assert_eq!(&src[d.primary.start..d.primary.end], "ï");
    assert!(d.message.contains("identifiers are ASCII"), "{}", d.message);
}

#[test]
fn a_trailing_doc_comment_says_it_documents_nothing() {
    for src in [
        "sample S { x: u8 }\n///",
        "sample S { x: u8 }\n/// Dangling.\n// plain\n",
    ] {
        let d = schemac::parse::parse(0, src).unwrap_err();
        assert!(d.message.contains("after a doc comment"), "{}", d.message);
        assert_eq!(d.secondary[0].1, "this doc comment documents nothing");
        assert!(src[d.secondary[0].0.start..].starts_with("///"));
    }
}

/// A field typed `depth` levels deep, alternating `list<` and `map<str, `.
fn nested(depth: usize) -> String {
    let mut ty = String::from("u8");
    for i in 0..depth {
        ty = if i % 2 == 0 {
            format!("list<{ty}>")
        } else {
            format!("map<str, {ty}>")
        };
    }
    format!("sample S {{\n    x: {ty},\n}}\n")
}

#[test]
fn types_nested_at_the_limit_go_through_every_pass() {
    in_repo(|| {
        let depth = schemac::parse::MAX_TYPE_DEPTH;
        let src = nested(depth);
        let path = Path::new("deep.schema");
        let c = compile_source(path, src.clone()).unwrap_or_else(|f| panic!("{}", f.render(false)));
        let _ = schemac::layout_table::layout_table(&c.schema);
        for t in Target::ALL {
            emit(t, &c.schema).unwrap();
        }
        let file = schemac::parse::parse(0, &src).unwrap();
        assert_eq!(schemac::fmt::format(&file, &src), src);
        // One level more is the error, at the `<` that opens it.
        let src = nested(depth + 1);
        let d = schemac::parse::parse(0, &src).unwrap_err();
        let opens: Vec<usize> = src.match_indices('<').map(|(i, _)| i).collect();
        assert_eq!(d.primary.start, opens[depth]);
        assert_eq!(d.secondary[0].0.start, opens[0]);
    });
}

#[test]
fn ten_thousand_levels_are_an_error_on_a_small_stack() {
    // 256 KiB is far less than the 2 MiB a test thread has, or the 8 MiB of the CLI's.
    let run = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let src = nested(10_000);
            let f = compile_source(Path::new("deep.schema"), src.clone())
                .err()
                .unwrap();
            assert!(
                f.short().contains("type nested more than 32 levels deep"),
                "{}",
                f.short()
            );
            assert!(schemac::parse::parse(0, &src).is_err());
            // Unbalanced openers, 100,000 of each kind, are errors too.
            for open in ["<", "list<", "[", "(", "{", "map<str, "] {
                let src = format!("sample S {{ x: u8 @a {} }}", open.repeat(100_000));
                let src2 = format!("sample S {{ x: {} }}", open.repeat(100_000));
                assert!(schemac::parse::parse(0, &src).is_err(), "{open}");
                assert!(schemac::parse::parse(0, &src2).is_err(), "{open}");
            }
        })
        .unwrap();
    run.join().expect("no stack overflow");
}

#[test]
fn the_cli_reports_deep_nesting_in_every_command() {
    // 3,000 levels used to overflow the stack in check; 10,000 ran pest out of stack, which
    // it reported as an unexpected `list`.
    for depth in [3_000, 10_000] {
        cli_on_deep_schema(depth);
    }
}

fn cli_on_deep_schema(depth: usize) {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("deep.schema");
    std::fs::write(&schema, nested(depth)).unwrap();
    let s = schema.to_str().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    for args in [
        vec!["check", s],
        vec!["layout", s],
        vec!["fmt", "--check", s],
        vec!["fmt", s],
        vec!["gen", "-o", o, s],
    ] {
        let r = Command::new(env!("CARGO_BIN_EXE_schemac"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error[E0001]: type nested more than 32 levels deep"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!out.exists(), "gen wrote output for a failed schema");
}

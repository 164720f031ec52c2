//! The command line surface: help texts (snapshotted), exit codes, and each subcommand.

mod common;

use common::*;
use std::process::Command;

fn schemac(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_schemac"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_texts() {
    for (name, args) in [
        ("help", vec!["--help"]),
        ("help-check", vec!["check", "--help"]),
        ("help-layout", vec!["layout", "--help"]),
        ("help-fmt", vec!["fmt", "--help"]),
        ("help-gen", vec!["gen", "--help"]),
        ("help-encode", vec!["encode", "--help"]),
        ("help-decode", vec!["decode", "--help"]),
    ] {
        let (code, stdout, _) = schemac(&args);
        assert_eq!(code, 0);
        snapshots("cli").bind(|| insta::assert_snapshot!(name, stdout));
    }
}

#[test]
fn exit_codes() {
    assert_eq!(schemac(&["check", "examples/schemas/vision.schema"]).0, 0);
    let (code, _, stderr) = schemac(&["check", "tests/invalid/E0002_unknown_type.schema"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("error[E0002]"), "{stderr}");
    assert!(
        stderr.contains("--> ")
            || stderr.contains("┌─ tests/invalid/E0002_unknown_type.schema:2:12"),
        "{stderr}"
    );
    let (code, _, stderr) = schemac(&["check", "no/such.schema"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(schemac(&["frobnicate"]).0, 2);
    assert_eq!(
        schemac(&["gen", "examples/schemas/vision.schema"]).0,
        2,
        "missing --out is a usage error"
    );
    // Warnings alone do not fail.
    let (code, _, stderr) = schemac(&["check", "tests/invalid/W0001_unused_import.schema"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("warning[W0001]"));
}

#[test]
fn layout_json_is_the_ir() {
    let (code, stdout, _) = schemac(&[
        "layout",
        "--format",
        "json",
        "examples/schemas/puzzle.schema",
    ]);
    assert_eq!(code, 0);
    let ir: schemac::ir::Schema = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        ir.record("AggState")
            .unwrap()
            .bitpack
            .aggregate
            .unwrap()
            .total_bits,
        1049
    );
}

#[test]
fn fmt_check_and_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messy.schema");
    std::fs::write(&path, "sample S{x:u8,// keep\ny : f32[2,3]}").unwrap();
    let p = path.to_str().unwrap();
    assert_eq!(schemac(&["fmt", "--check", p]).0, 1);
    assert_eq!(schemac(&["fmt", p]).0, 0);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "sample S {\n    x: u8, // keep\n    y: f32[2, 3],\n}\n"
    );
    assert_eq!(schemac(&["fmt", "--check", p]).0, 0);
    assert_eq!(
        schemac(&["fmt", "--check", "examples/schemas/everything.schema"]).0,
        0
    );
}

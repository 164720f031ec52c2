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
        ("help-diff", vec!["diff", "--help"]),
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

/// Every file under `dir`, relative, with its bytes.
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_file() {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn gen_writes_nothing_when_a_later_schema_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = schemac(&[
        "gen",
        "examples/schemas/vision.schema",
        "tests/invalid/E0002_unknown_type.schema",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(
        tree(&out).is_empty(),
        "partial output: {:?}",
        tree(&out).keys()
    );
}

#[test]
fn gen_writes_nothing_when_a_later_target_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // CUDA is rendered last; a directory where its kernels file goes makes that write fail.
    std::fs::create_dir_all(out.join("vision_v1_kernels.cu")).unwrap();
    std::fs::write(out.join("vision_v1.rs"), "old").unwrap();
    let (code, _, stderr) = schemac(&[
        "gen",
        "examples/schemas/vision.schema",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("vision_v1_kernels.cu"), "{stderr}");
    let files = tree(&out);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        vec![std::path::Path::new("vision_v1.rs")],
        "staged or partial files left behind"
    );
    assert_eq!(files[std::path::Path::new("vision_v1.rs")], b"old");
}

#[test]
fn gen_is_deterministic_across_working_directories_and_path_spellings() {
    let bin = std::env::var_os("SCHEMAC_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_schemac").into());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    let x = root.join("x");
    std::fs::create_dir_all(&x).unwrap();
    for name in ["vision.schema", "common.schema"] {
        std::fs::copy(repo().join("examples/schemas").join(name), x.join(name)).unwrap();
    }
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    let run = |cwd: &std::path::Path, schema: &str, out: &str| {
        let o = Command::new(&bin)
            .args(["gen", schema, "--out", out])
            .current_dir(cwd)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    // Relative and dotted, from one directory; absolute, from another, writing elsewhere.
    run(&root.join("a"), "./../x/../x/vision.schema", "../out1");
    let abs_out = root.join("b/deeper/out2");
    run(
        &root.join("b"),
        x.join("vision.schema").to_str().unwrap(),
        abs_out.to_str().unwrap(),
    );
    let (a, b) = (tree(&root.join("out1")), tree(&abs_out));
    assert_eq!(a.len(), 4, "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{} differs", name.display());
    }
    // The header names the schema relative to the working directory, resolved.
    let rs = String::from_utf8(a[std::path::Path::new("vision_v1.rs")].clone()).unwrap();
    assert!(
        rs.lines()
            .next()
            .unwrap()
            .ends_with("from ../x/vision.schema. Do not edit."),
        "{}",
        rs.lines().next().unwrap()
    );
    // Twice into the same directory: nothing changes.
    run(&root.join("b"), "../x/vision.schema", "../out1");
    assert_eq!(tree(&root.join("out1")), a);
}

#[test]
fn gen_check_lists_stale_missing_and_extra_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let out_s = out.to_str().unwrap();
    let vision = "examples/schemas/vision.schema";
    // Nothing generated yet: every file is missing, and nothing gets written.
    let (code, stdout, stderr) = schemac(&["gen", "--check", vision, "--out", out_s]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("missing ")).count(),
        4,
        "{stdout}"
    );
    assert!(tree(&out).is_empty());
    // Freshly generated: clean.
    assert_eq!(schemac(&["gen", vision, "--out", out_s]).0, 0);
    let (code, stdout, stderr) = schemac(&["gen", "--check", vision, "--out", out_s]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    // One file edited, one deleted, one generated file left behind by an old package name,
    // one file from another schema and one hand-written file (neither is extra).
    let before = tree(&out);
    let rs = out.join("vision_v1.rs");
    std::fs::write(&rs, std::fs::read_to_string(&rs).unwrap() + "// edit\n").unwrap();
    std::fs::remove_file(out.join("vision_v1.py")).unwrap();
    let header = std::fs::read_to_string(&rs)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(out.join("vision_v0.rs"), format!("{header}\n")).unwrap();
    std::fs::write(
        out.join("robot.rs"),
        header.replace("vision.schema", "robot.schema") + "\n",
    )
    .unwrap();
    std::fs::write(out.join("notes.rs"), "// mine\n").unwrap();
    let snapshot = tree(&out);
    let (code, stdout, stderr) = schemac(&["gen", "--check", vision, "--out", out_s]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<String> = stdout
        .lines()
        .map(|l| l.replace(&format!("{out_s}/"), ""))
        .collect();
    assert_eq!(
        lines,
        [
            "stale vision_v1.rs",
            "missing vision_v1.py",
            "extra vision_v0.rs"
        ]
    );
    assert!(stderr.contains("1 stale, 1 missing, 1 extra"), "{stderr}");
    assert_eq!(tree(&out), snapshot, "--check wrote something");
    // With only --python selected, the Rust files are none of its business.
    let (code, stdout, _) = schemac(&["gen", "--check", "--python", vision, "--out", out_s]);
    assert_eq!(code, 1);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(before.len() == 4);
    // A schema error is exit 1 with diagnostics, and still nothing is written.
    let (code, _, stderr) = schemac(&[
        "gen",
        "--check",
        "tests/invalid/E0002_unknown_type.schema",
        "--out",
        out_s,
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("E0002"), "{stderr}");
    assert_eq!(tree(&out), snapshot);
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let o = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn schemac_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_schemac"))
        .args(args)
        .current_dir(dir)
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
fn diff_exit_codes_break_on_and_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let old = "sample S {\n    id: u32,\n    name: str,\n}\n";
    for dir in ["old", "opt", "req", "bad"] {
        std::fs::create_dir_all(d.join(dir)).unwrap();
    }
    // Same file name on both sides, so the generated module name stays.
    std::fs::write(d.join("old/s.schema"), old).unwrap();
    // An optional field: wire-compatible both ways, but layout and api change.
    std::fs::write(
        d.join("opt/s.schema"),
        old.replace("name: str,", "name: str,\n    note: str?,"),
    )
    .unwrap();
    std::fs::write(
        d.join("req/s.schema"),
        old.replace("name: str,", "name: str,\n    note: str,"),
    )
    .unwrap();
    let run = |args: &[&str]| schemac_in(d, args);
    assert_eq!(run(&["diff", "old/s.schema", "old/s.schema"]).0, 0);
    let (code, out, _) = run(&["diff", "old/s.schema", "opt/s.schema"]);
    assert_eq!(code, 1, "layout is in the default --break-on: {out}");
    assert_eq!(
        run(&["diff", "old/s.schema", "opt/s.schema", "--break-on", "wire"]).0,
        0
    );
    assert_eq!(
        run(&["diff", "old/s.schema", "req/s.schema", "--break-on", "wire"]).0,
        1
    );
    assert_eq!(
        run(&["diff", "old/s.schema", "opt/s.schema", "--break-on", "api"]).0,
        1
    );
    // The text report labels both files.
    let (_, out, _) = run(&["diff", "old/s.schema", "req/s.schema"]);
    assert!(
        out.contains("┌─ req/s.schema:4:5") && out.contains("┌─ old/s.schema:1:8"),
        "{out}"
    );
    assert!(
        out.contains("new reads old BREAKS, old reads new ok [field-added-required]"),
        "{out}"
    );
    // JSON.
    let (_, out, _) = run(&["diff", "old/s.schema", "req/s.schema", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["changes"][0]["rules"][0], "field-added-required");
    assert_eq!(v["changes"][0]["new"]["line"], 4);
    assert_eq!(v["changes"][0]["wire"]["new_reads_old"], false);
    // GitHub annotations.
    let (code, out, _) = run(&["diff", "old/s.schema", "req/s.schema", "--format", "github"]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("::error file=req/s.schema,line=4,col=5,title=schemac diff field-added::"),
        "{out}"
    );
    let (_, out, _) = run(&[
        "diff",
        "old/s.schema",
        "opt/s.schema",
        "--format",
        "github",
        "--break-on",
        "wire",
    ]);
    assert!(out.starts_with("::warning "), "{out}");
    // Usage and I/O errors are 2; a schema error is 1.
    assert_eq!(run(&["diff", "old/s.schema"]).0, 2);
    assert_eq!(run(&["diff", "old/s.schema", "missing/s.schema"]).0, 2);
    std::fs::write(d.join("bad/s.schema"), "sample S { x: Nope, }\n").unwrap();
    assert_eq!(run(&["diff", "old/s.schema", "bad/s.schema"]).0, 1);
}

#[test]
fn diff_against_a_git_ref_reads_the_schema_and_its_imports_at_that_ref() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    git(d, &["init", "-q"]);
    std::fs::create_dir_all(d.join("schemas")).unwrap();
    std::fs::write(
        d.join("schemas/common.schema"),
        "component Pose {\n    x: f32,\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("schemas/main.schema"),
        "import \"common.schema\";\n\nsample S {\n    pose: Pose,\n}\n",
    )
    .unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "one"]);
    // The second commit changes only the imported file.
    std::fs::write(
        d.join("schemas/common.schema"),
        "component Pose {\n    x: f64,\n}\n",
    )
    .unwrap();
    git(d, &["commit", "-qam", "two"]);
    // The working tree adds a field to the root file on top.
    std::fs::write(
        d.join("schemas/main.schema"),
        "import \"common.schema\";\n\nsample S {\n    pose: Pose,\n    n: u8?,\n}\n",
    )
    .unwrap();
    let (code, out, err) = schemac_in(
        d,
        &[
            "diff",
            "--against",
            "HEAD~1",
            "schemas/main.schema",
            "--break-on",
            "wire",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("HEAD~1:schemas/main.schema → schemas/main.schema"),
        "{out}"
    );
    assert!(
        out.contains("field `x: f32` of `Pose` became `x: f64`"),
        "{out}"
    );
    assert!(out.contains("┌─ HEAD~1:schemas/common.schema:2:5"), "{out}");
    assert!(out.contains("field `n: u8?` added to `S`"), "{out}");
    // Against HEAD only the working-tree edit shows; from a subdirectory too.
    let (code, out, err) = schemac_in(
        &d.join("schemas"),
        &[
            "diff",
            "--against",
            "HEAD",
            "main.schema",
            "--break-on",
            "wire",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("Pose"), "{out}");
    assert!(out.contains("field `n: u8?` added to `S`"), "{out}");
    // With no schema named, the changed .schema files are compared.
    let (_, out, _) = schemac_in(d, &["diff", "--against", "HEAD", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["new"], "schemas/main.schema", "{out}");
    // A ref that does not exist, or a file not at the ref, is an error (2).
    assert_eq!(
        schemac_in(d, &["diff", "--against", "nope", "schemas/main.schema"]).0,
        2
    );
    std::fs::write(d.join("schemas/new.schema"), "sample T {\n    a: u8,\n}\n").unwrap();
    let (code, _, err) = schemac_in(d, &["diff", "--against", "HEAD", "schemas/new.schema"]);
    assert_eq!(code, 2);
    assert!(err.contains("at HEAD"), "{err}");
}

#[test]
fn layout_svg_draws_one_schema_and_knows_its_records() {
    let (code, out, _) = schemac(&[
        "layout",
        "--format",
        "svg",
        "--record",
        "TileState",
        "examples/schemas/puzzle.schema",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("<svg ") && out.contains("sample TileState"),
        "{out}"
    );
    let (code, _, err) = schemac(&[
        "layout",
        "--format",
        "svg",
        "examples/schemas/puzzle.schema",
        "examples/schemas/vision.schema",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("one schema per call"), "{err}");
    let (code, _, err) = schemac(&[
        "layout",
        "--record",
        "Nope",
        "examples/schemas/puzzle.schema",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("declares no record `Nope`") && err.contains("AggState"),
        "{err}"
    );
}

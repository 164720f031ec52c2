//! The Rust target: snapshots of every example's generated file, determinism, the output
//! file, header and version check, every record and enum emitted (imported ones too), name
//! escaping, and name collisions reported as errors. The generated code itself is compiled
//! under `#![deny(warnings)]` and clippy, and tested, by the `gen-tests` crate.

mod common;

use common::*;
use schemac::compile::compile_file;
use schemac::emit::{self, OutputFile, Target};
use std::path::Path;

fn generate(path: &Path) -> Vec<OutputFile> {
    common::generate(Target::Rust, path)
}

fn generate_source(name: &str, text: &str) -> Result<Vec<OutputFile>, emit::EmitError> {
    common::generate_source(Target::Rust, name, text)
}

#[test]
fn snapshots_of_every_example() {
    let settings = snapshots("rust");
    for path in examples() {
        let files = generate(&path);
        assert_eq!(files.len(), 1, "one file per schema");
        settings.bind(|| {
            insta::assert_snapshot!(format!("{}.rs", stem(&path)), files[0].contents);
        });
    }
}

#[test]
fn output_is_deterministic() {
    for path in examples() {
        let a = generate(&path);
        let b = generate(&path);
        assert_eq!(a, b, "{} renders differently twice", path.display());
    }
}

#[test]
fn file_name_header_and_version_check() {
    for path in examples() {
        let compiled = in_repo(|| compile_file(&path)).ok().unwrap();
        let files = emit::emit(Target::Rust, &compiled.schema).unwrap();
        let f = &files[0];
        assert_eq!(
            f.path.to_str().unwrap(),
            format!("{}.rs", compiled.schema.module)
        );
        let mut lines = f.contents.lines().filter(|l| !l.is_empty());
        let first = lines.next().unwrap();
        assert_eq!(
            first,
            format!("// {}", emit::generated_header(&compiled.schema))
        );
        assert!(first.contains(&format!("from {}.", path.display())));
        // The schema's module docs follow as plain comments (`//!` cannot be `include!`d).
        let docs: Vec<&str> = lines.clone().take_while(|l| l.starts_with("//")).collect();
        let want: Vec<String> = compiled
            .schema
            .docs
            .iter()
            .map(|d| format!("// {d}"))
            .collect();
        let want: Vec<&str> = std::iter::once("//")
            .filter(|_| !want.is_empty())
            .chain(want.iter().map(|s| s.trim_end()))
            .collect();
        assert_eq!(docs, want);
        let mut lines = lines.skip(docs.len());
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "const _: () = ::schemac_runtime::check_version(\"{}\");",
                schemac::VERSION
            )
        );
        assert!(f.contents.ends_with('\n') && !f.contents.ends_with("\n\n"));
    }
}

#[test]
fn every_record_and_enum_is_emitted() {
    for path in examples() {
        let compiled = in_repo(|| compile_file(&path)).ok().unwrap();
        let text = &emit::emit(Target::Rust, &compiled.schema).unwrap()[0].contents;
        for e in compiled.schema.own_enums() {
            assert!(
                text.contains(&format!("pub enum {} {{", e.name)),
                "{}",
                e.name
            );
        }
        for r in compiled.schema.own_records() {
            assert!(
                text.contains(&format!("pub struct {} {{", r.name)),
                "{}",
                r.name
            );
            assert!(
                text.contains(&format!("pub struct {}Ref<'a> {{", r.name)),
                "{}",
                r.name
            );
            assert!(
                text.contains(&format!(
                    "pub const FINGERPRINT: &'static str = \"{}\";",
                    r.fingerprint
                )),
                "{}",
                r.name
            );
        }
    }
    // robot imports Pose and Sensor from common.schema: they are defined in common.rs
    // only, and robot.rs refers to them through the sibling module.
    let robot = &generate(Path::new("examples/schemas/robot.schema"))[0].contents;
    assert!(!robot.contains("pub struct Pose"), "robot.rs defines Pose");
    assert!(
        !robot.contains("pub enum Sensor"),
        "robot.rs defines Sensor"
    );
    assert!(!robot.contains("PoseBatch {"), "robot.rs defines PoseBatch");
    assert!(robot.contains("\nuse super::common::{Pose, PoseRef, Sensor};\n"));
}

#[test]
fn extern_paths_replace_the_sibling_module() {
    let compiled = in_repo(|| compile_file(Path::new("examples/schemas/robot.schema")))
        .ok()
        .unwrap();
    let mut paths = emit::rust::ExternPaths::new();
    paths.insert("common".into(), "::shared_types::common".into());
    let text = &emit::rust::emit_with(&compiled.schema, &paths).unwrap()[0].contents;
    assert!(text.contains("\nuse ::shared_types::common::{Pose, PoseRef, Sensor};\n"));
    assert!(!text.contains("super::common"));
}

#[test]
fn the_builder_writes_the_import_closure_once() {
    let out = tempfile::tempdir().unwrap();
    let files = in_repo(|| {
        schemac::Builder::new()
            .schema("examples/schemas/robot.schema")
            .schema("examples/schemas/everything.schema")
            .out_dir(out.path())
            .emit_rerun_if_changed(false)
            .compile_files()
    })
    .unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["robot.rs", "common.rs", "everything_v1.rs"]);
    let common = std::fs::read_to_string(out.path().join("common.rs")).unwrap();
    assert!(common.contains("pub struct Pose {"));
    assert!(common.contains("from examples/schemas/common.schema."));

    // With an extern path, common is not generated and robot refers to the other crate.
    let out = tempfile::tempdir().unwrap();
    let files = in_repo(|| {
        schemac::Builder::new()
            .schema("examples/schemas/robot.schema")
            .extern_path("common", "::shared_types::common")
            .out_dir(out.path())
            .emit_rerun_if_changed(false)
            .compile_files()
    })
    .unwrap();
    assert_eq!(files, [out.path().join("robot.rs")]);
    let robot = std::fs::read_to_string(out.path().join("robot.rs")).unwrap();
    assert!(robot.contains("use ::shared_types::common::{"));
}

#[test]
fn names_are_escaped() {
    let files = generate_source(
        "kw.schema",
        "enum Kind { type, fn_call, UPPER }\n\
         sample S {\n    type: u8,\n    match: str = \"m\",\n    camelCase: i16,\n    kind: Kind,\n}\n",
    )
    .unwrap();
    let text = &files[0].contents;
    assert!(text.contains("pub r#type: u8,"), "{text}");
    assert!(text.contains("pub r#match: String,"));
    assert!(text.contains("#[allow(non_snake_case)]"));
    assert!(text.contains("Type = 0,") && text.contains("FnCall = 1,"));
    assert!(text.contains("Upper = 2,"));
    // Wire names stay as in the schema.
    assert!(text.contains("v.field(\"type\", &Self::TYPE_CODEC, &self.r#type)?;"));
    assert!(text.contains("Kind::FnCall => \"fn_call\""));
}

#[test]
fn docs_reach_the_code() {
    let files = generate(Path::new("examples/schemas/everything.schema"));
    let text = &files[0].contents;
    // Enum, variant, record and field docs.
    assert!(text.contains("/// Every enum feature: docs on variants."));
    assert!(text.contains("    /// Learning.\n    #[default]\n    Train = 0,"));
    assert!(text.contains("/// Every dtype, shape form, container and attribute."));
    assert!(text.contains("    /// Fixed, named, pinned and dynamic dims.\n"));
    // Shape notes on arrays and component arrays.
    assert!(text.contains("/// `u8[4, W, 3]`"));
    assert!(text.contains("/// `Pose[4]`: a flat `Vec<Pose>` in C order"));
}

#[test]
fn collisions_are_errors() {
    // `check` rejects these before any emitter runs (E0033/E0034, located).
    let short = |text: &str| match schemac::compile::compile_source(
        std::path::Path::new("c.schema"),
        text.to_string(),
    ) {
        Ok(_) => panic!("compiled: {text}"),
        Err(f) => f.short(),
    };
    let e = short(
        "component Foo { a: u8 }\ncomponent FooRef { a: u8 }\nsample S { f: Foo, g: FooRef }\n",
    );
    assert!(e.contains("[E0033]") && e.contains("`FooRef`"), "{e}");
    let e = short("enum E { a_b, aB }\nsample S { e: E }\n");
    assert!(e.contains("[E0033]") && e.contains("`a_b` and `aB`"), "{e}");
    let e = short("sample Option { a: u8 }\n");
    assert!(e.contains("[E0034]") && e.contains("`Option`"), "{e}");
}

//! The Python target: snapshots of every example's module, determinism, the output file and
//! header, name escaping, and collisions reported as errors. The generated code itself is
//! exercised by `python/tests/test_generated_*.py` (round trips, golden vectors, batches,
//! packing, mypy --strict and ruff).

mod common;

use common::*;
use schemac::compile::compile_file;
use schemac::emit::{self, OutputFile, Target};
use std::path::Path;

fn generate(path: &Path) -> Vec<OutputFile> {
    common::generate(Target::Python, path)
}

fn generate_source(name: &str, text: &str) -> Result<Vec<OutputFile>, emit::EmitError> {
    common::generate_source(Target::Python, name, text)
}

#[test]
fn snapshots_of_every_example() {
    let settings = snapshots("python");
    for path in examples() {
        let files = generate(&path);
        assert_eq!(files.len(), 1, "one module per schema");
        settings.bind(|| {
            insta::assert_snapshot!(format!("{}.py", stem(&path)), files[0].contents);
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
fn module_file_and_header() {
    for path in examples() {
        let compiled = in_repo(|| compile_file(&path)).ok().unwrap();
        let files = emit::emit(Target::Python, &compiled.schema).unwrap();
        let f = &files[0];
        assert_eq!(
            f.path.to_str().unwrap(),
            format!("{}.py", compiled.schema.module)
        );
        let first = f.contents.lines().next().unwrap();
        assert_eq!(
            first,
            format!("# {}", emit::generated_header(&compiled.schema)),
            "{}",
            path.display()
        );
        assert!(first.contains(&format!("from {}.", path.display())));
        assert!(f.contents.ends_with('\n') && !f.contents.ends_with("\n\n"));
        for (i, line) in f.contents.lines().enumerate() {
            assert!(
                line.chars().count() <= 100,
                "{}:{}: line longer than 100 columns",
                path.display(),
                i + 1
            );
            assert!(
                !line.ends_with(' '),
                "{}:{}: trailing space",
                path.display(),
                i + 1
            );
        }
    }
}

#[test]
fn every_record_gets_a_class_batch_and_packed_when_aggregate() {
    for path in examples() {
        let compiled = in_repo(|| compile_file(&path)).ok().unwrap();
        let text = &emit::emit(Target::Python, &compiled.schema).unwrap()[0].contents;
        for e in compiled.schema.own_enums() {
            assert!(text.contains(&format!("\nclass {}(enum.Enum):", e.name)));
        }
        for r in compiled.schema.own_records() {
            assert!(text.contains(&format!("\nclass {}:", r.name)), "{}", r.name);
            assert!(text.contains(&format!("\nclass {0}Batch(_b.Batch[{0}]):", r.name)));
            assert_eq!(
                text.contains(&format!("\nclass {0}Packed(", r.name)),
                r.bitpack.aggregate.is_some(),
                "{}",
                r.name
            );
            assert!(text.contains(&format!(
                "FINGERPRINT: ClassVar[str] = \"{}\"",
                r.fingerprint
            )));
            let is_sample = r.kind == schemac::ir::RecordKind::Sample;
            let api = format!(
                "def from_bytes(cls, data: bytes | bytearray | memoryview) -> {}:",
                r.name
            );
            assert_eq!(text.contains(&api), is_sample, "{}", r.name);
        }
    }
}

#[test]
fn imported_classes_are_imported_not_repeated() {
    let robot = &generate(Path::new("examples/schemas/robot.schema"))[0].contents;
    assert!(!robot.contains("class Pose"), "robot.py defines Pose");
    assert!(!robot.contains("class Sensor"), "robot.py defines Sensor");
    assert!(robot.contains("\n\nfrom .common import Pose, Sensor\n"));
    // Only what the code uses: a name in a docstring alone is no reason to import it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("base.schema"),
        "component A { x: u8 }\ncomponent B { y: u8 }\n",
    )
    .unwrap();
    let root = dir.path().join("top.schema");
    std::fs::write(
        &root,
        "import \"base.schema\";\n/// Not a B.\nsample S { a: A }\n",
    )
    .unwrap();
    let compiled = compile_file(&root).ok().unwrap();
    let text = &emit::emit(Target::Python, &compiled.schema).unwrap()[0].contents;
    assert!(text.contains("\nfrom .base import A\n"), "{text}");
}

#[test]
fn python_keywords_and_reserved_names_are_escaped() {
    let files = generate_source(
        "kw.schema",
        "enum Kind { None, class, name, ok }\n\
         sample S { class: u8, from: str, packed: i32 = 3, kind: Kind = None, list: list<str> }\n",
    )
    .unwrap();
    let text = &files[0].contents;
    assert_eq!(files[0].path.to_str().unwrap(), "kw.py");
    for line in [
        "    None_ = \"None\"",
        "    class_ = \"class\"",
        "    name_ = \"name\"",
        "    ok = \"ok\"",
        "    class_: int",
        "    from_: str",
        "    packed_: int = 3",
        "    kind: Kind = Kind.None_",
        "    list_: list[str]",
        "_g.Field(\"class\", \"class_\", _c_s_class),",
        "\"from\": _c_s_from.write(f\"{path}.from\", self.from_, dims),",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn defaults_are_rounded_to_their_dtype() {
    let files = generate_source(
        "d.schema",
        "sample D { a: f32 = 0.1, b: f16 = 0.1, c: bf16 = 0.1, d: f64 = 0.1, \
         e: bf16[2] = 1.5, f: i16[3] = -2, g: bool[2] = true, h: u8[_] = 4 }\n",
    )
    .unwrap();
    let text = &files[0].contents;
    for line in [
        "    a: float = 0.10000000149011612",
        "    b: float = 0.0999755859375",
        "    c: float = 0.10009765625",
        "    d: float = 0.1",
        "np.full((2,), 0x3FC0, dtype=np.uint16)",
        "np.full((3,), -2, dtype=np.int16)",
        "np.full((2,), True, dtype=np.bool_)",
        "np.full((0,), 4, dtype=np.uint8)",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn colliding_names_are_errors() {
    // `check` rejects these before any emitter runs (E0033/E0034, located).
    let short = |text: &str| match schemac::compile::compile_source(
        std::path::Path::new("c.schema"),
        text.to_string(),
    ) {
        Ok(_) => panic!("compiled: {text}"),
        Err(f) => f.short(),
    };
    let err = short("sample S { a: u8 }\nsample SBatch { b: u8 }\n");
    assert!(err.contains("[E0033]") && err.contains("`SBatch`"), "{err}");
    let err = short("sample np { a: u8 }\n");
    assert!(err.contains("[E0034]") && err.contains("`np`"), "{err}");
}

#[test]
fn pep8_naming_exemptions_only_when_needed() {
    for path in examples() {
        let text = &generate(&path)[0].contents;
        assert!(!text.contains("# ruff: noqa"), "{}", path.display());
    }
    let text = &generate_source("m.schema", "sample S { someField: u8 }\n").unwrap()[0].contents;
    assert!(text.lines().nth(1) == Some("# ruff: noqa: N815"), "{text}");
}

#[test]
fn enum_only_and_empty_records_import_only_what_they_use() {
    let text = &generate_source("e.schema", "enum Only { a, b }\n").unwrap()[0].contents;
    assert!(text.contains("import enum\n"), "{text}");
    for unused in [
        "dataclass",
        "numpy",
        "_b",
        "_wds",
        "_j",
        "_w",
        "ClassVar",
        "Mapping",
    ] {
        assert!(
            !text.lines().any(|l| (l.starts_with("import ") || l.starts_with("from "))
                && l.contains(unused)),
            "`{unused}` imported but unused in:\n{text}"
        );
    }
    let text = &generate_source("z.schema", "sample Z {}\n").unwrap()[0].contents;
    assert!(text.contains("class Z:"));
    assert!(text.contains(
        "        _g.read_fields(cls, path, v, dims, json=False)\n        return cls()\n"
    ));
    assert!(!text.contains("import enum"));
}

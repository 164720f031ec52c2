//! Compiles every `conformance/schemas/*.schema` (and `examples/schemas/*.schema`, whose
//! samples seed the differential test) with `schemac::Builder` into
//! `OUT_DIR/<stem>/` and writes `OUT_DIR/dispatch.rs`: one module per schema and a
//! `generated(schema, sample, format, input)` function that runs the input through the
//! generated Rust of that sample. The sample list (and which samples have an aggregate
//! packed form) comes from the IR; every sample also gets the
//! `shard` (tar bytes through `ShardReader`) and `safetensors` (`<Name>Batch` files) formats, so adding a sample to a schema needs no code here.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    // The conformance schemas, and the examples for the differential test's random seeds.
    let mut schemas: Vec<PathBuf> = Vec::new();
    for dir in ["../../conformance/schemas", "../../examples/schemas"] {
        println!("cargo:rerun-if-changed={dir}");
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "schema"))
            .collect();
        found.sort();
        schemas.extend(found);
    }

    let mut code = String::new();
    let mut arms = String::new();
    for schema in &schemas {
        let stem = schema.file_stem().and_then(|s| s.to_str()).expect("stem");
        let files = schemac::Builder::new()
            .schema(schema)
            .out_dir(out.join(stem))
            .compile_files()
            .unwrap_or_else(|e| panic!("{}: {e}", schema.display()));
        // The schema's own module first; its imports' modules follow, and are included
        // from their own stems' folders (`robot` uses `super::common`, the module of
        // `examples/schemas/common.schema`).
        let file = files
            .first()
            .unwrap_or_else(|| panic!("{}: nothing generated", schema.display()))
            .file_name()
            .and_then(|f| f.to_str())
            .expect("file name");
        writeln!(
            code,
            "#[allow(clippy::all, dead_code)]\npub mod {stem} {{ include!(concat!(env!(\"OUT_DIR\"), \"/{stem}/{file}\")); }}"
        )
        .unwrap();
        let compiled = match schemac::compile_file(schema) {
            Ok(c) => c,
            Err(f) => panic!("{}", f.render(false)),
        };
        for rec in compiled.schema.samples() {
            let name = &rec.name;
            let packed = if rec.bitpack.aggregate.is_some() {
                format!(
                    "            \"packed\" => Some(outcome({stem}::{name}Packed::from_bytes(input).map(|p| p.unpack()).and_then(|v| v.validate().map(|()| v)), |v| (v.to_msgpack(), v.to_json()))),\n"
                )
            } else {
                String::new()
            };
            writeln!(
                arms,
                "        (\"{stem}\", \"{name}\") => match format {{\n\
                 \x20           \"msgpack\" | \"msgpack-numpy\" => Some(outcome({stem}::{name}::from_msgpack(input), |v| (v.to_msgpack(), v.to_json()))),\n\
                 \x20           \"json\" => Some(outcome(json_text(input, \"{name}\").and_then({stem}::{name}::from_json), |v| (v.to_msgpack(), v.to_json()))),\n\
                 {packed}\
                 \x20           \"shard\" => Some(shard_outcome(input, {stem}::{name}::from_msgpack, |v| v.to_msgpack())),\n\
                 \x20           \"safetensors\" => Some(match {stem}::{name}Batch::from_safetensors(input.to_vec()) {{\n\
                 \x20               Ok(b) => rows_outcome((0..b.len()).map(|i| b.try_get(i).map(|v| v.to_msgpack()))),\n\
                 \x20               Err(e) => archive_err(&e),\n\
                 \x20           }}),\n\
                 \x20           _ => None,\n\
                 \x20       }},"
            )
            .unwrap();
        }
    }
    writeln!(
        code,
        "/// The verdict of the generated Rust, or `None` for an unknown sample or format.\n\
         pub fn generated(schema: &str, sample: &str, format: &str, input: &[u8]) -> Option<Verdict> {{\n\
         \x20   match (schema, sample) {{\n{arms}        _ => None,\n    }}\n}}"
    )
    .unwrap();
    write_if_changed(&out.join("dispatch.rs"), &code);
    println!("cargo:rerun-if-changed=build.rs");
}

fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

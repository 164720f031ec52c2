//! Generates the Rust for every example schema (and the golden-vector schemas) into
//! `OUT_DIR/<name>/`, one folder per schema because two examples share a module name, and
//! writes `OUT_DIR/<name>.rs` including it, so `src/lib.rs` can `include!` each by name.

use std::path::{Path, PathBuf};

const SCHEMAS: &[(&str, &str)] = &[
    ("common", "../../examples/schemas/common.schema"),
    ("everything", "../../examples/schemas/everything.schema"),
    ("puzzle", "../../examples/schemas/puzzle.schema"),
    ("robot", "../../examples/schemas/robot.schema"),
    ("vision", "../../examples/schemas/vision.schema"),
    ("atdata_cases", "schemas/atdata_cases.schema"),
    ("edges", "schemas/edges.schema"),
    ("layouts_edges", "schemas/layouts_edges.schema"),
];

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (name, schema) in SCHEMAS {
        let dir = out.join(name);
        let files = schemac::Builder::new()
            .schema(schema)
            .out_dir(&dir)
            .compile_files()
            .unwrap_or_else(|e| panic!("{schema}: {e}"));
        // The schema's own module comes first; its imports follow (`common.rs` for robot and
        // everything), which lib.rs already has as the sibling module `common`.
        let file = files
            .first()
            .unwrap_or_else(|| panic!("{schema}: nothing generated"))
            .file_name()
            .and_then(|f| f.to_str())
            .expect("file name");
        write_if_changed(
            &out.join(format!("{name}.rs")),
            &format!("include!(concat!(env!(\"OUT_DIR\"), \"/{name}/{file}\"));\n"),
        );
    }
    println!("cargo:rerun-if-changed=build.rs");
}

fn write_if_changed(path: &Path, contents: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return;
    }
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

//! Compiles the vision and robot schemas into `OUT_DIR` (robot's import, `common.schema`,
//! is compiled with it into `common.rs`). The builder prints
//! `cargo:rerun-if-changed` for the schema (and its imports), rewrites the output only when
//! it changes, and on a schema error fails the build with rustc-style diagnostics.

fn main() -> Result<(), schemac::BuildError> {
    schemac::Builder::new()
        .schema("../schemas/vision.schema")
        .schema("../schemas/robot.schema")
        .compile()
}

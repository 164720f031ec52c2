//! Helpers shared by the compiler's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root (tests run from the crate directory).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every `*.schema` file in `dir`, sorted.
pub fn schemas_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "schema"))
        .collect();
    v.sort();
    v
}

/// The example schemas, as paths relative to the repo root (so diagnostics and
/// `@generated` headers do not depend on where the checkout lives).
pub fn examples() -> Vec<PathBuf> {
    let root = repo();
    schemas_in(&root.join("examples/schemas"))
        .into_iter()
        .map(|p| p.strip_prefix(&root).unwrap().to_path_buf())
        .collect()
}

/// Runs `f` with the repo root as the working directory (tests in one binary share it,
/// so every test that relies on relative paths goes through here).
pub fn in_repo<T>(f: impl FnOnce() -> T) -> T {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_current_dir(repo()).unwrap();
    f()
}

/// insta settings writing snapshots under `tests/snapshots/<group>` at the repo root.
pub fn snapshots(group: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(repo().join("tests/snapshots").join(group));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s
}

/// Compiles `path` (relative to the repo root) and renders it for `target`.
pub fn generate(target: schemac::emit::Target, path: &Path) -> Vec<schemac::emit::OutputFile> {
    let compiled = in_repo(|| schemac::compile::compile_file(path))
        .unwrap_or_else(|f| panic!("{}", f.render(false)));
    schemac::emit::emit(target, &compiled.schema).unwrap()
}

/// Compiles schema text named `name` and renders it for `target`.
pub fn generate_source(
    target: schemac::emit::Target,
    name: &str,
    text: &str,
) -> Result<Vec<schemac::emit::OutputFile>, schemac::emit::EmitError> {
    let compiled = schemac::compile::compile_source(Path::new(name), text.to_string())
        .unwrap_or_else(|f| panic!("{}", f.render(false)));
    schemac::emit::emit(target, &compiled.schema)
}

/// A path's file stem.
pub fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_str().unwrap().to_string()
}

//! The build.rs API, in the spirit of prost-build:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), schemac::BuildError> {
//!     schemac::Builder::new().schema("schemas/vision.schema").compile()
//! }
//! ```
//!
//! Writes the generated Rust into `OUT_DIR` (or [`Builder::out_dir`]), prints
//! `cargo:rerun-if-changed` for every file read (imports too), rewrites a file only when its
//! content changes (so cargo does not rebuild needlessly), and on schema errors prints the
//! full rustc-style rendering to stderr and returns an error whose `Display` is
//! `file:line:col: error[E0xx]: message`.

use crate::emit::{self, Target};
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

#[derive(Clone, Debug, Default)]
pub struct Builder {
    schemas: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    targets: Vec<Target>,
    emit_rerun: bool,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            emit_rerun: true,
            ..Builder::default()
        }
    }

    /// Adds a schema to compile.
    pub fn schema(&mut self, path: impl AsRef<Path>) -> &mut Builder {
        self.schemas.push(path.as_ref().to_path_buf());
        self
    }

    /// Where to write; defaults to `$OUT_DIR`.
    pub fn out_dir(&mut self, dir: impl AsRef<Path>) -> &mut Builder {
        self.out_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Adds a target besides Rust (the default when none is named), e.g. to write a CUDA
    /// header next to the Rust code.
    pub fn target(&mut self, target: Target) -> &mut Builder {
        self.targets.push(target);
        self
    }

    /// Whether to print `cargo:rerun-if-changed` lines (on by default).
    pub fn emit_rerun_if_changed(&mut self, on: bool) -> &mut Builder {
        self.emit_rerun = on;
        self
    }

    /// Compiles every schema and writes the outputs. Returns the paths written or kept.
    pub fn compile(&self) -> Result<(), BuildError> {
        self.compile_files().map(|_| ())
    }

    /// Like [`Builder::compile`], returning every output path.
    pub fn compile_files(&self) -> Result<Vec<PathBuf>, BuildError> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or_else(|| {
                    BuildError(
                        "OUT_DIR is not set: call this from build.rs, or set Builder::out_dir"
                            .into(),
                    )
                })?,
        };
        let targets = if self.targets.is_empty() {
            vec![Target::Rust]
        } else {
            self.targets.clone()
        };
        let mut written = Vec::new();
        let mut failures = Vec::new();
        for schema_path in &self.schemas {
            match crate::compile::compile_file(schema_path) {
                Ok(compiled) => {
                    self.rerun(compiled.sources.paths());
                    if !compiled.warnings.is_empty() {
                        eprint!(
                            "{}",
                            crate::compile::render_all(
                                &compiled.sources,
                                &compiled.warnings,
                                false
                            )
                        );
                    }
                    for &t in &targets {
                        let files = emit::emit(t, &compiled.schema)
                            .map_err(|e| BuildError(format!("{}: {e}", schema_path.display())))?;
                        for f in files {
                            let path = out_dir.join(&f.path);
                            write_if_changed(&path, &f.contents).map_err(|e| {
                                BuildError(format!("cannot write {}: {e}", path.display()))
                            })?;
                            written.push(path);
                        }
                    }
                }
                Err(failure) => {
                    self.rerun(&failure.paths());
                    eprint!("{}", failure.render(false));
                    failures.push(failure.short());
                }
            }
        }
        if failures.is_empty() {
            Ok(written)
        } else {
            Err(BuildError(failures.join("\n")))
        }
    }

    fn rerun(&self, paths: &[PathBuf]) {
        if self.emit_rerun {
            for p in paths {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}

/// Writes `contents` unless the file already holds exactly that (keeps mtimes stable).
pub fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents)?;
    Ok(true)
}

//! The build.rs API, in the spirit of prost-build:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), schemac::BuildError> {
//!     schemac::Builder::new().schema("schemas/vision.schema").compile()
//! }
//! ```
//!
//! Writes the generated Rust into `OUT_DIR` (or [`Builder::out_dir`]), one `<module>.rs`
//! per schema *and per schema it imports* (records are generated once, in the module of
//! the schema that declares them; importers refer to them as `super::<module>::Name`, or
//! through [`Builder::extern_path`]), prints
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
    extern_paths: crate::emit::rust::ExternPaths,
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

    /// Refers to the imported schema whose generated module is `module` (its package with
    /// dots as underscores, else its file stem) through the Rust path `path` instead of the
    /// sibling module `super::<module>`, and does not generate Rust for it: for types
    /// generated in another crate, e.g. `.extern_path("common", "::shared_types::common")`.
    /// Like prost-build's `extern_path`.
    pub fn extern_path(
        &mut self,
        module: impl Into<String>,
        path: impl Into<String>,
    ) -> &mut Builder {
        self.extern_paths.insert(module.into(), path.into());
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
        // Render every target of every schema before writing anything: a failure in a
        // later schema or target leaves the output directory as it was. Each schema's
        // imports are generated too, once each, however many schemas import them.
        let mut rendered: Vec<(PathBuf, String)> = Vec::new();
        let mut failures = Vec::new();
        let mut done: Vec<PathBuf> = Vec::new();
        for schema_path in &self.schemas {
            match crate::compile::compile_closure(schema_path) {
                Ok(closure) => {
                    for (path, mut compiled) in closure {
                        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                        if done.contains(&key) {
                            continue;
                        }
                        done.push(key);
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
                        compiled.schema.source = header_source(&path);
                        for &t in &targets {
                            if t == Target::Rust
                                && self.extern_paths.contains_key(&compiled.schema.module)
                            {
                                // Generated elsewhere; importers refer to it by that path.
                                continue;
                            }
                            let files = match t {
                                Target::Rust => {
                                    emit::rust::emit_with(&compiled.schema, &self.extern_paths)
                                }
                                t => emit::emit(t, &compiled.schema),
                            };
                            match files {
                                Ok(files) => {
                                    for f in files {
                                        let out = out_dir.join(&f.path);
                                        if rendered.iter().any(|(p, _)| *p == out) {
                                            failures.push(format!(
                                                "{}: two schemas generate {}; give one a `package`",
                                                path.display(),
                                                out.display()
                                            ));
                                        } else {
                                            rendered.push((out, f.contents));
                                        }
                                    }
                                }
                                Err(e) => failures.push(format!("{}: {e}", path.display())),
                            }
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
        if !failures.is_empty() {
            return Err(BuildError(failures.join("\n")));
        }
        write_all(&rendered)
            .map(|w| w.into_iter().map(|(p, _)| p).collect())
            .map_err(|(path, e)| BuildError(format!("cannot write {}: {e}", path.display())))
    }

    fn rerun(&self, paths: &[PathBuf]) {
        if self.emit_rerun {
            for p in paths {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}

/// How generated headers name the schema: its path relative to the working directory
/// (both resolved, so `./a/../x.schema` and an absolute spelling of the same file give the
/// same text), with `/` separators. Falls back to the path as given when it cannot be
/// resolved. For build.rs, cargo runs the script in the package root, so headers read like
/// `schemas/vision.schema`.
pub fn header_source(schema: &Path) -> String {
    let as_given = || schema.display().to_string();
    let (Ok(schema_abs), Some(base)) = (
        std::fs::canonicalize(schema),
        std::env::current_dir().ok().and_then(|d| resolve(&d)),
    ) else {
        return as_given();
    };
    let from: Vec<_> = base.components().collect();
    let to: Vec<_> = schema_abs.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return as_given();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// `dir` made absolute and free of `.`/`..`/links, where it may not exist yet: the
/// longest existing ancestor is canonicalized and the rest appended.
fn resolve(dir: &Path) -> Option<PathBuf> {
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(dir)
    };
    let mut rest = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = std::fs::canonicalize(cur) {
            let mut out = c;
            for part in rest.iter().rev() {
                if *part == std::ffi::OsStr::new("..") {
                    out.pop();
                } else if *part != std::ffi::OsStr::new(".") {
                    out.push(part);
                }
            }
            return Some(out);
        }
        rest.push(
            cur.file_name()
                .unwrap_or(std::ffi::OsStr::new(".."))
                .to_os_string(),
        );
        cur = cur.parent()?;
    }
}

/// Writes every file whose content changed, all or nothing as far as it can: each is first
/// written to a temporary file beside its target, and only when all of them are staged are
/// they renamed into place. Returns each path and whether it changed; on an error, the
/// path that failed (and no target has been touched).
pub fn write_all(
    files: &[(PathBuf, String)],
) -> Result<Vec<(PathBuf, bool)>, (PathBuf, std::io::Error)> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut result = Vec::new();
    let stage = |path: &Path, contents: &str| -> std::io::Result<Option<PathBuf>> {
        if std::fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
            return Ok(None);
        }
        if path.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "a directory is in the way",
            ));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut tmp = path.as_os_str().to_os_string();
        tmp.push(".schemac-tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, contents)?;
        Ok(Some(tmp))
    };
    for (path, contents) in files {
        match stage(path, contents) {
            Ok(tmp) => {
                result.push((path.clone(), tmp.is_some()));
                if let Some(tmp) = tmp {
                    staged.push((tmp, path.clone()));
                }
            }
            Err(e) => {
                for (tmp, _) in &staged {
                    let _ = std::fs::remove_file(tmp);
                }
                return Err((path.clone(), e));
            }
        }
    }
    for (tmp, path) in &staged {
        std::fs::rename(tmp, path).map_err(|e| (path.clone(), e))?;
    }
    Ok(result)
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

//! The front end as one call: load → parse → check → IR, with diagnostics kept beside the
//! sources they point into. Used by the CLI and the build.rs [`crate::Builder`];
//! [`compile_closure`] compiles a schema together with everything it imports.

use crate::diag::{Diagnostic, Sources};
use crate::ir;
use std::path::{Path, PathBuf};

/// A schema that checked cleanly (warnings may remain).
pub struct Compiled {
    pub schema: ir::Schema,
    pub sources: Sources,
    pub warnings: Vec<Diagnostic>,
}

/// Why a schema did not compile.
pub enum Failure {
    /// The root file could not be read (exit code 2).
    Io(PathBuf, std::io::Error),
    /// The schema has errors (exit code 1); `diagnostics` holds warnings too.
    Schema {
        sources: Sources,
        diagnostics: Vec<Diagnostic>,
    },
}

impl Failure {
    /// Every diagnostic rendered rustc-style.
    pub fn render(&self, color: bool) -> String {
        match self {
            Failure::Io(path, e) => format!("error: cannot read {}: {e}\n", path.display()),
            Failure::Schema {
                sources,
                diagnostics,
            } => render_all(sources, diagnostics, color),
        }
    }

    /// One line for the first error: `file:line:col: error[E0xx]: message`.
    pub fn short(&self) -> String {
        match self {
            Failure::Io(path, e) => format!("{}: cannot read: {e}", path.display()),
            Failure::Schema {
                sources,
                diagnostics,
            } => {
                let errors: Vec<&Diagnostic> =
                    diagnostics.iter().filter(|d| d.is_error()).collect();
                let mut s = errors
                    .first()
                    .map(|d| sources.short(d))
                    .unwrap_or_else(|| "schema error".to_string());
                if errors.len() > 1 {
                    s.push_str(&format!(" (and {} more errors)", errors.len() - 1));
                }
                s
            }
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Io(..) => 2,
            Failure::Schema { .. } => 1,
        }
    }

    /// Every file read before failing (for rerun-if-changed).
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            Failure::Io(path, _) => vec![path.clone()],
            Failure::Schema { sources, .. } => sources.paths().to_vec(),
        }
    }
}

pub fn render_all(sources: &Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&sources.render(d, color));
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        out.push_str(&format!(
            "error: could not compile the schema due to {errors} previous error{}\n",
            if errors == 1 { "" } else { "s" }
        ));
    }
    out
}

/// Compiles the schema at `path`.
pub fn compile_file(path: &Path) -> Result<Compiled, Failure> {
    let loaded = crate::load::load(path).map_err(|e| Failure::Io(path.to_path_buf(), e))?;
    finish(loaded)
}

/// Compiles the schema at `path` and every schema it imports, directly or through another
/// import, each as a root of its own: one [`Compiled`] per schema file, the root first, then
/// the imports in the order they were read (deterministic). Each imported record and enum
/// is generated once, from the schema that declares it; the importers' IR names that
/// schema's module in `origin`. The path beside each is the file as read (canonical for
/// imports).
pub fn compile_closure(path: &Path) -> Result<Vec<(PathBuf, Compiled)>, Failure> {
    let root = compile_file(path)?;
    let imports: Vec<PathBuf> = root.sources.paths().iter().skip(1).cloned().collect();
    let mut out = vec![(path.to_path_buf(), root)];
    for import in imports {
        let compiled = compile_file(&import)?;
        out.push((import, compiled));
    }
    Ok(out)
}

/// Compiles schema text as if it were the file at `path` (imports resolve from there).
pub fn compile_source(path: &Path, text: String) -> Result<Compiled, Failure> {
    finish(crate::load::load_source(path, text))
}

/// Compiles schema text as if it were the file at `path`, with imports read from `files`
/// (`schemac diff --against REF` compiles the version at a git ref this way).
pub fn compile_from(
    files: &dyn crate::load::FileSource,
    path: &Path,
    text: String,
) -> Result<Compiled, Failure> {
    finish(crate::load::load_from(files, path, text))
}

fn finish(loaded: crate::load::Loaded) -> Result<Compiled, Failure> {
    let checked = crate::check::check(&loaded);
    match checked.schema {
        Some(schema) => Ok(Compiled {
            schema,
            sources: loaded.sources,
            warnings: checked.diagnostics,
        }),
        None => Err(Failure::Schema {
            sources: loaded.sources,
            diagnostics: checked.diagnostics,
        }),
    }
}

//! Loading: reads the root schema and, transitively, every file it imports.
//!
//! Imports resolve relative to the importing file. A missing file (`E0007`) or a cycle
//! (`E0008`) is a diagnostic on the `import` line; a syntax error in any file is reported
//! against that file. An import of a directory, a device, a FIFO, a file over
//! [`MAX_SCHEMA_FILE_BYTES`] or one that is not UTF-8 is `E0032`, found without reading
//! more than the limit. Every path read is kept in [`Sources`], which is what the build.rs
//! API turns into `cargo:rerun-if-changed` lines.

use crate::ast;
use crate::diag::{codes, Diagnostic, FileId, Sources};
use std::path::{Path, PathBuf};

/// Everything read for one root schema.
pub struct Loaded {
    pub sources: Sources,
    /// Parsed files by id (`None` where the file had a syntax error).
    pub files: Vec<Option<ast::File>>,
    pub root: FileId,
    /// Resolved imports: (importing file, index of the import in it, imported file).
    pub imports: Vec<(FileId, usize, FileId)>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn file(&self, id: FileId) -> Option<&ast::File> {
        self.files.get(id).and_then(|f| f.as_ref())
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Reads `path` (an I/O error here is the caller's, exit code 2) and its imports.
pub fn load(path: &Path) -> std::io::Result<Loaded> {
    let text = read_schema(path)?;
    Ok(load_source(path, text))
}

/// The largest schema file (root or import) schemac reads.
pub const MAX_SCHEMA_FILE_BYTES: u64 = 16 << 20;

/// Reads a schema file: a regular file of at most [`MAX_SCHEMA_FILE_BYTES`], as UTF-8.
/// Checked with `stat` before opening (opening a FIFO would block until a writer comes),
/// and bounded again while reading (a file may grow after the check).
pub fn read_schema(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(Error::new(ErrorKind::InvalidInput, what));
    }
    let too_large = || {
        Error::new(
            ErrorKind::InvalidData,
            format!("larger than the limit of {MAX_SCHEMA_FILE_BYTES} bytes"),
        )
    };
    if meta.len() > MAX_SCHEMA_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)?
        .take(MAX_SCHEMA_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SCHEMA_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not valid UTF-8"))
}

/// Where schema files come from: the file system, or another version of it (`schemac
/// diff --against REF` reads files as they were at a git ref).
pub trait FileSource {
    /// The text of the file at `path` (errors as [`read_schema`] gives them).
    fn read(&self, path: &Path) -> std::io::Result<String>;
    /// The identity of `path`, for finding a file already read and for import cycles.
    fn canonical(&self, path: &Path) -> PathBuf;
    /// Schema file names in `dir`, for "did you mean" on a missing import.
    fn list(&self, dir: &Path) -> Vec<String>;
}

/// The file system.
pub struct Disk;

impl FileSource for Disk {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        read_schema(path)
    }
    fn canonical(&self, path: &Path) -> PathBuf {
        canonical(path)
    }
    fn list(&self, dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.ends_with(".schema"))
            .collect()
    }
}

/// Like [`load`], with the root's text already in hand (tests, `fmt` on stdin).
pub fn load_source(path: &Path, text: String) -> Loaded {
    load_from(&Disk, path, text)
}

/// Like [`load_source`], with imports read from `files`.
pub fn load_from(files: &dyn FileSource, path: &Path, text: String) -> Loaded {
    let mut loaded = Loaded {
        sources: Sources::new(),
        files: Vec::new(),
        root: 0,
        imports: Vec::new(),
        diagnostics: Vec::new(),
    };
    let canonical = files.canonical(path);
    let root = add_file(&mut loaded, path.display().to_string(), canonical, text);
    loaded.root = root;
    let mut stack = vec![root];
    visit_imports(files, &mut loaded, root, &mut stack);
    loaded
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn add_file(loaded: &mut Loaded, name: String, path: PathBuf, text: String) -> FileId {
    let id = loaded.sources.add(name, path, text);
    let parsed = crate::parse::parse(id, loaded.sources.text(id));
    match parsed {
        Ok(file) => loaded.files.push(Some(file)),
        Err(d) => {
            loaded.diagnostics.push(*d);
            loaded.files.push(None);
        }
    }
    id
}

fn visit_imports(files: &dyn FileSource, loaded: &mut Loaded, id: FileId, stack: &mut Vec<FileId>) {
    let Some(file) = loaded.file(id) else { return };
    let imports: Vec<ast::Import> = file.imports.clone();
    let dir = loaded
        .sources
        .path(id)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let shown_dir = Path::new(loaded.sources.name(id))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for (index, import) in imports.iter().enumerate() {
        let target = dir.join(&import.path.value);
        let canonical_target = files.canonical(&target);
        if let Some(existing) = loaded.sources.find(&canonical_target) {
            if let Some(pos) = stack.iter().position(|f| *f == existing) {
                let mut chain: Vec<String> = stack[pos..]
                    .iter()
                    .map(|f| loaded.sources.name(*f).to_string())
                    .collect();
                chain.push(loaded.sources.name(existing).to_string());
                loaded.diagnostics.push(
                    Diagnostic::error(
                        codes::IMPORT_CYCLE,
                        format!("import cycle: {}", chain.join(" → ")),
                        import.span,
                    )
                    .label("this import closes the cycle")
                    .help("move the shared components into a file that both can import"),
                );
            } else {
                loaded.imports.push((id, index, existing));
            }
            continue;
        }
        match files.read(&target) {
            Ok(text) => {
                let shown = shown_dir.join(&import.path.value).display().to_string();
                let child = add_file(loaded, shown, canonical_target, text);
                loaded.imports.push((id, index, child));
                stack.push(child);
                visit_imports(files, loaded, child, stack);
                stack.pop();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
                ) =>
            {
                loaded.diagnostics.push(
                    Diagnostic::error(
                        codes::IMPORT_UNREADABLE,
                        format!("cannot import `{}`: {e}", import.path.value),
                        import.path.span,
                    )
                    .label(format!(
                        "read as {}",
                        shown_dir.join(&import.path.value).display()
                    ))
                    .help(format!(
                        "import a UTF-8 schema file (a regular file of at most {MAX_SCHEMA_FILE_BYTES} bytes)"
                    )),
                );
            }
            Err(e) => {
                let mut d = Diagnostic::error(
                    codes::IMPORT_NOT_FOUND,
                    format!("cannot import `{}`: {}", import.path.value, io_reason(&e)),
                    import.path.span,
                )
                .label(format!(
                    "looked for {}",
                    shown_dir.join(&import.path.value).display()
                ));
                if let Some(near) = nearby_schema(files, &dir, &import.path.value) {
                    d = d.help(format!("a file named `{near}` exists next to it"));
                } else {
                    d = d.help("import paths are relative to the importing file");
                }
                loaded.diagnostics.push(d);
            }
        }
    }
}

fn io_reason(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file",
        std::io::ErrorKind::PermissionDenied => "permission denied",
        _ => "could not read it",
    }
}

/// A schema file in `dir` whose name is a likely typo of `wanted`.
fn nearby_schema(files: &dyn FileSource, dir: &Path, wanted: &str) -> Option<String> {
    let names = files.list(dir);
    let file = Path::new(wanted).file_name()?.to_str()?;
    crate::diag::suggest(file, names.iter().map(String::as_str)).map(str::to_string)
}

//! Schema files as they were at a git ref (`schemac diff --against REF`): a
//! [`FileSource`] that reads through `git show REF:path`, so no checkout is needed and
//! imports resolve at the same ref.

use crate::load::{FileSource, MAX_SCHEMA_FILE_BYTES};
use std::io::{Error, ErrorKind};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

pub struct GitSource {
    /// The repository's top level, canonical.
    top: PathBuf,
    /// The working directory, canonical (relative schema paths start here).
    cwd: PathBuf,
    rev: String,
}

/// `path` made absolute from `cwd` with `.` and `..` removed, without touching the disk
/// (the file may not exist in the working tree).
fn normalize(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in cwd.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl GitSource {
    /// Opens the repository around the working directory; the ref must name a commit.
    pub fn open(rev: &str) -> std::io::Result<GitSource> {
        let cwd = std::env::current_dir()?.canonicalize()?;
        let top = git(&cwd, &["rev-parse", "--show-toplevel"])?;
        let top = PathBuf::from(String::from_utf8_lossy(&top).trim()).canonicalize()?;
        git(
            &top,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )
        .map_err(|_| {
            Error::new(
                ErrorKind::NotFound,
                format!("`{rev}` does not name a commit"),
            )
        })?;
        Ok(GitSource {
            top,
            cwd,
            rev: rev.to_string(),
        })
    }

    /// `path` relative to the repository top, with `/` separators.
    fn relative(&self, path: &Path) -> std::io::Result<String> {
        let abs = normalize(&self.cwd, path);
        let rel = abs
            .strip_prefix(&self.top)
            .map_err(|_| Error::new(ErrorKind::NotFound, "outside the git repository"))?;
        Ok(rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"))
    }
}

fn git(dir: &Path, args: &[&str]) -> std::io::Result<Vec<u8>> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output()?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(Error::other(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

impl FileSource for GitSource {
    fn read(&self, path: &Path) -> std::io::Result<String> {
        let rel = self.relative(path)?;
        let spec = format!("{}:{rel}", self.rev);
        let kind = git(&self.top, &["cat-file", "-t", &spec])
            .map_err(|_| Error::new(ErrorKind::NotFound, format!("not in {}", self.rev)))?;
        if String::from_utf8_lossy(&kind).trim() != "blob" {
            return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
        }
        let size = git(&self.top, &["cat-file", "-s", &spec])?;
        let size: u64 = String::from_utf8_lossy(&size)
            .trim()
            .parse()
            .unwrap_or(u64::MAX);
        if size > MAX_SCHEMA_FILE_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!("larger than the limit of {MAX_SCHEMA_FILE_BYTES} bytes"),
            ));
        }
        let bytes = git(&self.top, &["cat-file", "blob", &spec])?;
        String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not valid UTF-8"))
    }

    fn canonical(&self, path: &Path) -> PathBuf {
        normalize(&self.cwd, path)
    }

    fn list(&self, dir: &Path) -> Vec<String> {
        let Ok(rel) = self.relative(dir) else {
            return Vec::new();
        };
        let spec = if rel.is_empty() {
            self.rev.clone()
        } else {
            format!("{}:{rel}", self.rev)
        };
        git(&self.top, &["ls-tree", "--name-only", &spec])
            .map(|out| {
                String::from_utf8_lossy(&out)
                    .lines()
                    .filter(|n| n.ends_with(".schema"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The `.schema` files that differ between `rev` and the working tree (and still exist
/// in it), relative to the working directory: what `diff --against REF` compares when no
/// schema is named.
pub fn changed_schemas(rev: &str) -> std::io::Result<Vec<PathBuf>> {
    let cwd = std::env::current_dir()?;
    let out = git(
        &cwd,
        &["diff", "--name-only", "--relative", rev, "--", "*.schema"],
    )?;
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect())
}

//! WebDataset shards (DESIGN §4): tar files with one `<key>.msgpack` member per sample.
//!
//! - [`ShardWriter`] writes samples into `<prefix>-000000.tar`, `<prefix>-000001.tar`, ...,
//!   starting a new shard when a sample-count or byte limit would be exceeded. Keys are
//!   the caller's or generated (a zero-padded counter: unique and sortable). In
//!   deterministic mode every header field that could vary (mtime, owner) is fixed, so the
//!   same samples give byte-identical shards on every run and machine.
//! - [`ShardReader`] streams `(key, bytes)` out of one or many shards, in order, holding
//!   one member in memory at a time; [`ShardReader::read`] decodes each sample with the
//!   caller's function (e.g. generated code's `from_msgpack`).
//!
//! The shards are plain GNU tar as Python's `tarfile`, `webdataset` and atdata read them.
//! Reading is for untrusted files: corrupt headers, truncated members and members that are
//! not `.msgpack` samples are errors (never panics), and no member is allocated for before
//! its declared size has been checked against what is left of the file. The reader holds
//! shards to the writer's rules (docs/language.md, "WebDataset shards"): uncompressed tar
//! only, every member `<key>.msgpack` with a key [`ShardWriter::write`] would accept, no
//! key twice in one shard. Each error has a [`ShardError::code`] in the shared error
//! vocabulary (`corrupt_archive`, `bad_key`, or the sample's own kind).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The member extension of a sample.
pub const EXTENSION: &str = "msgpack";

/// tar block size.
const BLOCK: u64 = 512;

/// Digits of the shard number in shard file names.
const SHARD_DIGITS: usize = 6;

/// Digits of generated keys (a zero-padded counter, so keys sort as they were written).
const KEY_DIGITS: usize = 9;

/// What went wrong writing or reading shards.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// Opening, reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// The file is not a well-formed tar (bad header, checksum, truncated member, ...).
    #[error("{}: corrupt tar: {msg}", path.display())]
    Corrupt { path: PathBuf, msg: String },
    /// A member that is not a `<key>.msgpack` file.
    #[error("{}: member {member:?} is not a .msgpack sample", path.display())]
    NotMsgpack { path: PathBuf, member: String },
    /// A `.msgpack` member whose key the writers refuse (`../x`, absolute, an empty
    /// segment, not UTF-8, ...), or a key given twice in one shard.
    #[error("{}: member {member:?}: {reason}", path.display())]
    BadKey {
        path: PathBuf,
        member: String,
        reason: &'static str,
    },
    /// A sample's bytes did not decode.
    #[error("{}: sample {key:?}: {source}", path.display())]
    Sample {
        path: PathBuf,
        key: String,
        source: Error,
    },
    /// A caller-given key that cannot name a member.
    #[error("invalid sample key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// A key written twice to one writer.
    #[error("duplicate sample key {0:?}")]
    DuplicateKey(String),
}

impl ShardError {
    /// The error's kind in the shared vocabulary (conformance/README.md): `corrupt_archive`
    /// for a broken tar (gzip included), `bad_key` for a member or key the writers refuse,
    /// the sample's own kind for [`ShardError::Sample`], and `io` for a failed read or
    /// write of the file itself (not a property of the data, so outside the vocabulary).
    pub fn code(&self) -> &'static str {
        match self {
            ShardError::Io { .. } => "io",
            ShardError::Corrupt { .. } => "corrupt_archive",
            ShardError::NotMsgpack { .. }
            | ShardError::BadKey { .. }
            | ShardError::InvalidKey { .. }
            | ShardError::DuplicateKey(_) => "bad_key",
            ShardError::Sample { source, .. } => source.code(),
        }
    }
}

fn io_err(path: &Path, source: io::Error) -> ShardError {
    ShardError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, msg: impl std::fmt::Display) -> ShardError {
    ShardError::Corrupt {
        path: path.to_path_buf(),
        msg: msg.to_string(),
    }
}

/// I/O errors from the tar parser: real I/O failures stay `Io`, format problems (which
/// it reports as `Other`, `InvalidData` or an early EOF) are `Corrupt`.
fn tar_err(path: &Path, e: io::Error) -> ShardError {
    match e.kind() {
        io::ErrorKind::Other | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            corrupt(path, e)
        }
        _ => io_err(path, e),
    }
}

/// Bytes a member takes in a tar: its header, its data padded to whole blocks, and a GNU
/// long-name entry in front when the name does not fit the header's 100 bytes.
fn member_bytes(name_len: usize, data_len: usize) -> u64 {
    let pad = |n: u64| n.div_ceil(BLOCK) * BLOCK;
    let mut n = BLOCK + pad(data_len as u64);
    if name_len >= 100 {
        n += BLOCK + pad(name_len as u64 + 1);
    }
    n
}

/// Checks a caller-given key (the Python runtime's rule, plus no empty or `..` segments,
/// which tar paths cannot keep): non-empty, no `.` in the last path segment (WebDataset
/// splits the key from the extension at the first dot of the file name), no NUL, not
/// absolute.
fn check_key(key: &str) -> Result<(), ShardError> {
    match key_problem(key) {
        None => Ok(()),
        Some(reason) => Err(ShardError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
    }
}

/// Why `key` cannot name a sample, or `None` if it can (the rule of [`check_key`], shared
/// by the writer and the reader).
fn key_problem(key: &str) -> Option<&'static str> {
    let last = key.rsplit('/').next().unwrap_or(key);
    let reason = if key.is_empty() {
        "keys must not be empty"
    } else if last.contains('.') {
        "the last segment of a key must not contain '.' (WebDataset splits the key from the \
         extension at the first dot)"
    } else if key.contains('\0') {
        "keys must not contain NUL"
    } else if key.starts_with('/') || key.split('/').any(|s| s.is_empty() || s == "..") {
        "keys must be relative paths without empty or '..' segments"
    } else {
        return None;
    };
    Some(reason)
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// The shard being written.
struct Current {
    path: PathBuf,
    tar: tar::Builder<BufWriter<File>>,
    samples: u64,
    /// Bytes written so far, end-of-archive blocks not counted.
    bytes: u64,
}

/// Writes samples into size- and/or count-limited WebDataset shards.
///
/// ```no_run
/// # use schemac_runtime::shard::ShardWriter;
/// let mut w = ShardWriter::new("out/train").max_samples(10_000).deterministic(true);
/// w.write("cat_0001", b"\x80")?;        // a caller-given key
/// let key = w.write_auto(b"\x80")?;     // a generated key: "000000001"
/// let shards = w.finish()?;             // ["out/train-000000.tar"]
/// # Ok::<(), schemac_runtime::shard::ShardError>(())
/// ```
pub struct ShardWriter {
    prefix: OsString,
    max_samples: Option<u64>,
    max_bytes: Option<u64>,
    deterministic: bool,
    mtime: u64,
    current: Option<Current>,
    paths: Vec<PathBuf>,
    written: u64,
    keys: HashSet<String>,
}

impl ShardWriter {
    /// Shards named `<prefix>-000000.tar`, `<prefix>-000001.tar`, ... (the prefix may
    /// include a directory, which must exist). No limits, not deterministic.
    pub fn new(prefix: impl AsRef<Path>) -> Self {
        let mtime = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        ShardWriter {
            prefix: prefix.as_ref().as_os_str().to_owned(),
            max_samples: None,
            max_bytes: None,
            deterministic: false,
            mtime,
            current: None,
            paths: Vec::new(),
            written: 0,
            keys: HashSet::new(),
        }
    }

    /// At most `n` samples per shard (`n` of 0 counts as 1).
    #[must_use]
    pub fn max_samples(mut self, n: u64) -> Self {
        self.max_samples = Some(n.max(1));
        self
    }

    /// At most `n` bytes per shard file, tar overhead included. A sample that alone
    /// exceeds the limit gets a shard of its own.
    #[must_use]
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = Some(n);
        self
    }

    /// Deterministic headers: mtime 0, uid/gid 0, owner `root:root`, mode 0644 (the
    /// default mode also fixes all of these except the mtime, which is the time the
    /// writer was created).
    #[must_use]
    pub fn deterministic(mut self, on: bool) -> Self {
        self.deterministic = on;
        self
    }

    /// The shard files started so far (the last one may still be open).
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Samples written so far.
    pub fn len(&self) -> u64 {
        self.written
    }

    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    fn shard_path(&self, index: usize) -> PathBuf {
        let mut name = self.prefix.clone();
        name.push(format!("-{index:0SHARD_DIGITS$}.tar"));
        PathBuf::from(name)
    }

    /// Writes one sample as `<key>.msgpack`. Keys must be unique within the writer.
    pub fn write(&mut self, key: &str, msgpack: &[u8]) -> Result<(), ShardError> {
        check_key(key)?;
        if self.keys.contains(key) {
            return Err(ShardError::DuplicateKey(key.to_owned()));
        }
        let name = format!("{key}.{EXTENSION}");
        let size = member_bytes(name.len(), msgpack.len());
        if let Some(cur) = &self.current {
            let full = self.max_samples.is_some_and(|m| cur.samples >= m)
                || self
                    .max_bytes
                    .is_some_and(|m| cur.bytes + size + 2 * BLOCK > m);
            if full && cur.samples > 0 {
                self.close_current()?;
            }
        }
        if self.current.is_none() {
            let path = self.shard_path(self.paths.len());
            let file = File::create(&path).map_err(|e| io_err(&path, e))?;
            self.paths.push(path.clone());
            self.current = Some(Current {
                path,
                tar: tar::Builder::new(BufWriter::new(file)),
                samples: 0,
                bytes: 0,
            });
        }
        let mtime = if self.deterministic { 0 } else { self.mtime };
        let cur = self.current.as_mut().expect("opened above");
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(msgpack.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header
            .set_username("root")
            .and_then(|()| header.set_groupname("root"))
            .and_then(|()| cur.tar.append_data(&mut header, &name, msgpack))
            .map_err(|e| io_err(&cur.path, e))?;
        cur.samples += 1;
        cur.bytes += size;
        self.written += 1;
        self.keys.insert(key.to_owned());
        Ok(())
    }

    /// Writes one sample under the next generated key (`000000000`, `000000001`, ...:
    /// the number of samples written before it) and returns the key. A generated key that
    /// a caller already used is skipped over.
    pub fn write_auto(&mut self, msgpack: &[u8]) -> Result<String, ShardError> {
        let mut n = self.written;
        let key = loop {
            let k = format!("{n:0KEY_DIGITS$}");
            if !self.keys.contains(&k) {
                break k;
            }
            n += 1;
        };
        self.write(&key, msgpack)?;
        Ok(key)
    }

    fn close_current(&mut self) -> Result<(), ShardError> {
        if let Some(cur) = self.current.take() {
            let path = cur.path;
            let mut w = cur.tar.into_inner().map_err(|e| io_err(&path, e))?;
            w.flush().map_err(|e| io_err(&path, e))?;
        }
        Ok(())
    }

    /// Finishes the last shard and returns every shard's path, in order (none if no
    /// sample was written).
    pub fn finish(mut self) -> Result<Vec<PathBuf>, ShardError> {
        self.close_current()?;
        Ok(std::mem::take(&mut self.paths))
    }
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

/// The shard being read.
struct Open {
    path: PathBuf,
    reader: BufReader<File>,
    /// File length, to bound member sizes.
    len: u64,
    /// Offset of the next header.
    pos: u64,
    /// Keys read so far from this shard (a key twice is `bad_key`).
    keys: HashSet<String>,
}

/// Streams `(key, msgpack bytes)` out of shards, one member at a time, in file order.
///
/// ```no_run
/// # use schemac_runtime::shard::ShardReader;
/// for sample in ShardReader::new(["out/train-000000.tar", "out/train-000001.tar"]) {
///     let (key, bytes) = sample?;
///     // ...
/// }
/// # Ok::<(), schemac_runtime::shard::ShardError>(())
/// ```
///
/// After an error about the tar itself the iterator ends; errors from
/// [`ShardReader::read`]'s decode function do not end it.
pub struct ShardReader {
    pending: std::collections::VecDeque<PathBuf>,
    current: Option<Open>,
    failed: bool,
}

impl ShardReader {
    /// A reader over `paths`, read in the order given. Files are opened lazily.
    pub fn new<I, P>(paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        ShardReader {
            pending: paths.into_iter().map(Into::into).collect(),
            current: None,
            failed: false,
        }
    }

    /// A reader over one shard.
    pub fn open(path: impl Into<PathBuf>) -> Self {
        Self::new([path.into()])
    }

    /// The shard the last member came from.
    pub fn current_path(&self) -> Option<&Path> {
        self.current.as_ref().map(|o| o.path.as_path())
    }

    /// Decodes every sample with `decode` (e.g. a generated `from_msgpack`), yielding
    /// `(key, sample)`. A sample that does not decode is a [`ShardError::Sample`] naming
    /// its key; reading goes on with the next one.
    pub fn read<T, F>(self, decode: F) -> Samples<F>
    where
        F: FnMut(&[u8]) -> crate::error::Result<T>,
    {
        Samples {
            reader: self,
            decode,
        }
    }

    /// The next sample member, or `None` at the end of the last shard.
    fn next_member(&mut self) -> Result<Option<(String, Vec<u8>)>, ShardError> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.pending.pop_front() else {
                    return Ok(None);
                };
                let file = File::open(&path).map_err(|e| io_err(&path, e))?;
                let len = file.metadata().map_err(|e| io_err(&path, e))?.len();
                let mut reader = BufReader::new(file);
                let head = reader.fill_buf().map_err(|e| io_err(&path, e))?;
                if head.starts_with(&[0x1f, 0x8b]) {
                    return Err(corrupt(
                        &path,
                        "the shard is gzip-compressed; shards are uncompressed tar",
                    ));
                }
                self.current = Some(Open {
                    path,
                    reader,
                    len,
                    pos: 0,
                    keys: HashSet::new(),
                });
            }
            let open = self.current.as_mut().expect("opened above");
            match read_member(open)? {
                Member::End => self.current = None,
                Member::Skip => {}
                Member::File { name, data } => {
                    let bad = |member: String, reason| ShardError::BadKey {
                        path: open.path.clone(),
                        member,
                        reason,
                    };
                    let name = match String::from_utf8(name) {
                        Ok(n) => n,
                        Err(e) => {
                            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                            return Err(bad(lossy, "member names must be UTF-8"));
                        }
                    };
                    let (key, ext) = split_name(&name);
                    if ext != EXTENSION {
                        return Err(ShardError::NotMsgpack {
                            path: open.path.clone(),
                            member: name,
                        });
                    }
                    if let Some(reason) = key_problem(key) {
                        return Err(bad(name, reason));
                    }
                    if !open.keys.insert(key.to_owned()) {
                        return Err(bad(name, "the key is given twice in this shard"));
                    }
                    return Ok(Some((key.to_owned(), data)));
                }
                Member::Other { name } => {
                    return Err(ShardError::NotMsgpack {
                        path: open.path.clone(),
                        member: name,
                    })
                }
            }
        }
    }
}

impl Iterator for ShardReader {
    type Item = Result<(String, Vec<u8>), ShardError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_member() {
            Ok(m) => m.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// What generated `read_wds` returns: samples decoded by a `from_msgpack` function.
pub type Decoded<T> = Samples<fn(&[u8]) -> crate::error::Result<T>>;

/// [`ShardReader::read`]'s iterator.
pub struct Samples<F> {
    reader: ShardReader,
    decode: F,
}

impl<T, F> Iterator for Samples<F>
where
    F: FnMut(&[u8]) -> crate::error::Result<T>,
{
    type Item = Result<(String, T), ShardError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (key, bytes) = match self.reader.next()? {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        Some(match (self.decode)(&bytes) {
            Ok(v) => Ok((key, v)),
            Err(source) => Err(ShardError::Sample {
                path: self
                    .reader
                    .current_path()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                key,
                source,
            }),
        })
    }
}

/// `dir/key.ext.more` → (`dir/key`, `ext.more`): WebDataset splits at the first dot of
/// the file name.
fn split_name(name: &str) -> (&str, &str) {
    let base = name.rfind('/').map_or(0, |i| i + 1);
    match name[base..].find('.') {
        Some(dot) => (&name[..base + dot], &name[base + dot + 1..]),
        None => (name, ""),
    }
}

enum Member {
    /// End of this shard.
    End,
    /// A directory or global header: nothing to yield.
    Skip,
    File {
        /// The raw member name (UTF-8 is checked by the caller).
        name: Vec<u8>,
        data: Vec<u8>,
    },
    /// A link, device or other non-file member.
    Other { name: String },
}

/// Reads the member at `open.pos` with a fresh `tar::Archive` (so the reader owns its
/// state between members), then skips the data's padding.
fn read_member(open: &mut Open) -> Result<Member, ShardError> {
    let path = open.path.clone();
    let start = open.pos;
    // The archive borrows the reader only for this block.
    let (member, end) = {
        let mut archive = tar::Archive::new(&mut open.reader);
        let mut entries = archive.entries().map_err(|e| tar_err(&path, e))?;
        let mut entry = match entries.next() {
            None => return Ok(Member::End),
            Some(Err(e)) => return Err(tar_err(&path, e)),
            Some(Ok(e)) => e,
        };
        let size = entry.size();
        let data_start = start.saturating_add(entry.raw_file_position());
        let left = open.len.saturating_sub(data_start);
        if size > left {
            return Err(corrupt(
                &path,
                format!("a member header declares {size} bytes but only {left} remain in the file"),
            ));
        }
        let raw_name = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        let ty = entry.header().entry_type();
        let member = if ty.is_file() || ty == tar::EntryType::Continuous {
            // `size <= left <= file length`, so this capacity is bounded by the file.
            let mut data = Vec::with_capacity(size as usize);
            entry
                .read_to_end(&mut data)
                .map_err(|e| tar_err(&path, e))?;
            if data.len() as u64 != size {
                return Err(corrupt(
                    &path,
                    format!(
                        "member {name:?} is truncated: {} of {size} bytes",
                        data.len()
                    ),
                ));
            }
            Member::File {
                name: raw_name,
                data,
            }
        } else {
            io::copy(&mut entry, &mut io::sink()).map_err(|e| tar_err(&path, e))?;
            if ty.is_dir() || ty.is_pax_global_extensions() {
                Member::Skip
            } else {
                Member::Other { name }
            }
        };
        (member, data_start + size)
    };
    // Skip the padding to the next block; a file that ends inside it ends there.
    let next = end.div_ceil(BLOCK) * BLOCK;
    let skipped = io::copy(&mut (&mut open.reader).take(next - end), &mut io::sink())
        .map_err(|e| io_err(&path, e))?;
    open.pos = end + skipped;
    Ok(member)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(split_name("a.msgpack"), ("a", "msgpack"));
        assert_eq!(split_name("d.x/a.b.msgpack"), ("d.x/a", "b.msgpack"));
        assert_eq!(split_name("noext"), ("noext", ""));
        assert_eq!(member_bytes(9, 0), 512);
        assert_eq!(member_bytes(9, 1), 1024);
        assert_eq!(member_bytes(9, 512), 1024);
        assert_eq!(member_bytes(120, 10), 512 + 512 + 1024);
        assert!(check_key("0001").is_ok());
        assert!(check_key("dir/0001").is_ok());
        assert!(check_key("v1.2/0001").is_ok());
        for bad in ["", "a.b", "d/a.b", "/abs", "a//b", "a/", "x\0", "../a"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}

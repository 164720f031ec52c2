//! Typed decode and validation errors.
//!
//! Owns [`Error`] (what went wrong, [`ErrorKind`], plus *where*: a field path such as
//! `ImageSample.mask` or `history[3].xyz`), the crate-wide [`Result`] alias, and
//! [`ResultExt`], which prefixes the path as an error bubbles up through nested readers.
//!
//! Paths are built lazily, innermost segment first: a reader that fails deep inside a
//! sample returns an error with an empty path, and each enclosing level calls
//! `.at("field")` / `.at_index(i)` on its way out. On the success path nothing is
//! allocated; the error itself is boxed so `Result<T>` stays one pointer wider than `T`.

use std::fmt;

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. The [`Error`] wrapping it says where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended in the middle of a value.
    #[error("truncated input")]
    Truncated,
    /// A complete value was read but `n` bytes were left over.
    #[error("{n} trailing bytes after the value")]
    TrailingBytes { n: usize },
    /// The next value has another MessagePack family (`"map"`, `"int"`, ...).
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    /// A value of the wrong family, described in words (serde's message, a ragged list).
    #[error("{0}")]
    WrongValue(String),
    /// A dtype string (typestr or numpy name) that schemac does not know.
    #[error("unknown dtype {0:?}")]
    UnknownDtype(String),
    /// The array's dtype differs from the schema's. Both are numpy typestrs.
    #[error("expected dtype {expected}, found {found}")]
    DtypeMismatch {
        expected: &'static str,
        found: String,
    },
    /// The array's shape disagrees with the schema (`expected` is e.g. `[H, W, 3]`).
    #[error("expected shape {expected}, found {found:?}")]
    ShapeMismatch { expected: String, found: Vec<u64> },
    /// JSON nested lists that are not a rectangular array (a shape fault, like
    /// `ShapeMismatch`: the lists have no one shape to compare).
    #[error("nested lists are ragged (not a rectangular array)")]
    Ragged,
    /// A named dim has another size than an earlier field of the same sample gave it.
    #[error("dim {dim} is {found} here but {expected} in an earlier field")]
    NamedDimMismatch {
        dim: String,
        expected: u64,
        found: u64,
    },
    /// An array's data is not `dtype size × element count` bytes (`expected` is exact, never
    /// clamped: a shape of `[2^62]` of `<f4` expects 2^64 bytes).
    #[error("array data is {found} bytes, expected {expected}")]
    PayloadLength { expected: u128, found: u64 },
    /// A required field is absent.
    #[error("missing required field")]
    MissingField,
    /// A header declares more bytes or items than the input has left.
    #[error("declared length {len} exceeds the {remaining} bytes remaining")]
    LengthTooLarge { len: u64, remaining: usize },
    /// A value does not fit its target (`expected` is a dtype name or a `[lo, hi]` range).
    #[error("{value} is out of range for {expected}")]
    OutOfRange { value: String, expected: String },
    /// A value does not fit in its `@bits` width.
    #[error("value {value} does not fit in {bits} bits")]
    BitsOverflow { value: i128, bits: u32 },
    /// A str value is not valid UTF-8.
    #[error("invalid UTF-8 in string")]
    InvalidUtf8,
    /// A bool array element byte other than 0 or 1.
    #[error("invalid bool byte {0:#04x}")]
    InvalidBool(u8),
    /// An enum value that names no variant.
    #[error("unknown enum variant {0:?}")]
    UnknownVariant(String),
    /// Nesting deeper than [`crate::msgpack::MAX_DEPTH`].
    #[error("nesting too deep")]
    TooDeep,
    /// A shape that cannot describe an array (negative dim, overflowing element count).
    #[error("invalid shape: {0}")]
    InvalidShape(String),
    /// A malformed `.npy` payload (bad header, Fortran order, ...).
    #[error("bad .npy payload: {0}")]
    BadNpy(String),
    /// Bytes that are not MessagePack / JSON at all (a reserved marker, bad JSON syntax,
    /// a byte-order mark before JSON).
    #[error("{0}")]
    Malformed(String),
    /// A map, sample, component, msgpack-numpy dict or JSON object with a key given twice.
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    /// A base64 string that is not standard, padded base64.
    #[error("invalid base64: {0}")]
    InvalidBase64(String),
    /// Non-zero padding bits in packed bytes, or a packed input of the wrong length.
    #[error("{0}")]
    BadPadding(String),
    /// A tar shard or safetensors file whose structure is broken.
    #[error("{0}")]
    CorruptArchive(String),
    /// A shard member key the writers refuse, or a duplicated / unknown tensor name.
    #[error("{0}")]
    BadKey(String),
    /// A batch file written for another layout of the record.
    #[error("{0}")]
    FingerprintMismatch(String),
    /// Valid data that a layout cannot hold.
    #[error("{0}")]
    Unsupported(String),
    /// Anything else. Its [`code`](ErrorKind::code) is `malformed`; data errors use the
    /// typed variants above so both runtimes report the same kind.
    #[error("{0}")]
    Custom(String),
}

impl ErrorKind {
    /// Every code [`ErrorKind::code`] can return: the closed vocabulary of
    /// conformance/README.md, shared with the Python runtime's `SchemacError.kind`.
    pub const CODES: &'static [&'static str] = &[
        "truncated",
        "trailing_bytes",
        "malformed",
        "wrong_type",
        "dtype_mismatch",
        "shape_mismatch",
        "dim_mismatch",
        "payload_length",
        "out_of_range",
        "bits_overflow",
        "unknown_variant",
        "duplicate_key",
        "missing_field",
        "invalid_utf8",
        "invalid_base64",
        "invalid_bool",
        "bad_npy",
        "too_large",
        "too_deep",
        "bad_padding",
        "corrupt_archive",
        "bad_key",
        "fingerprint_mismatch",
        "unsupported",
    ];

    /// The kind's name in the shared error vocabulary (conformance/README.md), e.g.
    /// `"dtype_mismatch"`. The Python runtime reports the same string as
    /// `SchemacError.kind` for the same input.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Truncated => "truncated",
            ErrorKind::TrailingBytes { .. } => "trailing_bytes",
            ErrorKind::WrongType { .. } | ErrorKind::WrongValue(_) => "wrong_type",
            ErrorKind::UnknownDtype(_) | ErrorKind::DtypeMismatch { .. } => "dtype_mismatch",
            ErrorKind::ShapeMismatch { .. } | ErrorKind::Ragged => "shape_mismatch",
            ErrorKind::NamedDimMismatch { .. } => "dim_mismatch",
            ErrorKind::PayloadLength { .. } => "payload_length",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::LengthTooLarge { .. } | ErrorKind::InvalidShape(_) => "too_large",
            ErrorKind::OutOfRange { .. } => "out_of_range",
            ErrorKind::BitsOverflow { .. } => "bits_overflow",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::InvalidBool(_) => "invalid_bool",
            ErrorKind::UnknownVariant(_) => "unknown_variant",
            ErrorKind::TooDeep => "too_deep",
            ErrorKind::BadNpy(_) => "bad_npy",
            ErrorKind::Malformed(_) | ErrorKind::Custom(_) => "malformed",
            ErrorKind::DuplicateKey(_) => "duplicate_key",
            ErrorKind::InvalidBase64(_) => "invalid_base64",
            ErrorKind::BadPadding(_) => "bad_padding",
            ErrorKind::CorruptArchive(_) => "corrupt_archive",
            ErrorKind::BadKey(_) => "bad_key",
            ErrorKind::FingerprintMismatch(_) => "fingerprint_mismatch",
            ErrorKind::Unsupported(_) => "unsupported",
        }
    }
}

/// A decode or validation error: an [`ErrorKind`] and the field path it happened at.
///
/// Displays as `path: kind`, e.g. `ImageSample.mask: expected dtype |u1, found <f4`, or
/// just `kind` when the path is empty.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    path: String,
    kind: ErrorKind,
}

impl Error {
    /// An error with an empty path.
    #[cold]
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner {
            path: String::new(),
            kind,
        }))
    }

    /// `ErrorKind::Custom(msg)`.
    #[cold]
    pub fn custom(msg: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }

    /// `ErrorKind::MissingField` at path `field`.
    #[cold]
    pub fn missing_field(field: &str) -> Self {
        Error::new(ErrorKind::MissingField).at(field)
    }

    /// `ErrorKind::UnknownVariant(name)`.
    #[cold]
    pub fn unknown_variant(name: &str) -> Self {
        Error::new(ErrorKind::UnknownVariant(name.to_owned()))
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The kind's vocabulary string, [`ErrorKind::code`].
    pub fn code(&self) -> &'static str {
        self.0.kind.code()
    }

    /// The field path, outermost first (`ImageSample.history[3].xyz`); empty if unknown.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// Prefixes the path with a field (or sample) name: `xyz` becomes `pose.xyz`,
    /// `[3].xyz` becomes `history[3].xyz`.
    #[cold]
    #[must_use]
    pub fn at(mut self, field: &str) -> Self {
        let path = &mut self.0.path;
        let sep = if path.is_empty() || path.starts_with('[') {
            ""
        } else {
            "."
        };
        path.insert_str(0, sep);
        path.insert_str(0, field);
        self
    }

    /// Prefixes the path with a list index: `xyz` becomes `[3].xyz`.
    #[cold]
    #[must_use]
    pub fn at_index(self, index: usize) -> Self {
        self.at_segment(format!("[{index}]"))
    }

    /// Prefixes the path with a map key: `xyz` becomes `["cam0"].xyz`.
    #[cold]
    #[must_use]
    pub fn at_key(self, key: &str) -> Self {
        self.at_segment(format!("[{key:?}]"))
    }

    fn at_segment(mut self, segment: String) -> Self {
        let path = &mut self.0.path;
        if !path.is_empty() && !path.starts_with('[') {
            path.insert(0, '.');
        }
        path.insert_str(0, &segment);
        self
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.path.is_empty() {
            write!(f, "{}", self.0.kind)
        } else {
            write!(f, "{}: {}", self.0.path, self.0.kind)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("path", &self.0.path)
            .field("kind", &self.0.kind)
            .finish()
    }
}

impl std::error::Error for Error {}

// ---------------------------------------------------------------------------------------
// Carrying a typed error through serde
// ---------------------------------------------------------------------------------------

thread_local! {
    /// The last typed error handed to serde as a message, with that message. serde's error
    /// types only hold text; this keeps the kind (and path) so `from_json` can report it.
    static SERDE_PENDING: std::cell::RefCell<Option<(String, Error)>> =
        const { std::cell::RefCell::new(None) };
}

/// A serde error for `e` that [`take_serde_error`] can turn back into `e`: the message is
/// `e`'s `Display`, and `e` itself is kept on the side (per thread).
#[cold]
pub fn to_serde<E: serde::de::Error>(e: Error) -> E {
    let msg = e.to_string();
    let out = E::custom(&msg);
    SERDE_PENDING.with(|p| *p.borrow_mut() = Some((msg, e)));
    out
}

/// The typed error behind a serde error message, if `message` was made by [`to_serde`]
/// (serde_json appends ` at line L column C`, so a prefix match is enough). Clears the
/// side slot either way, so a stale error is never reported for another failure.
#[cold]
pub fn take_serde_error(message: &str) -> Option<Error> {
    let pending = SERDE_PENDING.with(|p| p.borrow_mut().take())?;
    message.starts_with(&pending.0).then_some(pending.1)
}

/// Forgets any typed error kept by [`to_serde`] (call before a serde decode).
pub fn clear_serde_error() {
    SERDE_PENDING.with(|p| *p.borrow_mut() = None);
}

/// A serde_json error as a typed error: one made by [`to_serde`] comes back with its kind
/// and path; otherwise syntax errors are `Malformed`, an early end `Truncated`, and
/// serde's type errors `WrongType` / `MissingField` / `DuplicateKey` by their message.
#[cold]
pub fn from_serde_json(e: &serde_json::Error) -> Error {
    let msg = e.to_string();
    if let Some(t) = take_serde_error(&msg) {
        return t;
    }
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Eof => ErrorKind::Truncated,
        Category::Syntax if msg.starts_with("recursion limit exceeded") => ErrorKind::TooDeep,
        Category::Syntax if msg.contains("surrogate") || msg.contains("end of hex escape") => {
            ErrorKind::InvalidUtf8
        }
        Category::Syntax | Category::Io => ErrorKind::Malformed(format!("invalid JSON: {msg}")),
        Category::Data => {
            if let Some(rest) = msg.strip_prefix("missing field `") {
                // At the field, as the msgpack readers report it.
                return Error::missing_field(rest.split('`').next().unwrap_or(""));
            } else if let Some(rest) = msg.strip_prefix("duplicate field `") {
                ErrorKind::DuplicateKey(rest.split('`').next().unwrap_or("").to_owned())
            } else {
                // serde's own wording names what it found and what it expected.
                ErrorKind::WrongValue(msg)
            }
        }
    };
    Error::new(kind)
}

/// Path prefixing on results: `r.array::<u8>().at("mask")?`. The closure runs only on
/// error, so the success path costs nothing.
pub trait ResultExt {
    /// See [`Error::at`].
    #[must_use]
    fn at(self, field: &str) -> Self;
    /// See [`Error::at_index`].
    #[must_use]
    fn at_index(self, index: usize) -> Self;
    /// See [`Error::at_key`].
    #[must_use]
    fn at_key(self, key: &str) -> Self;
}

impl<T> ResultExt for Result<T> {
    #[inline]
    fn at(self, field: &str) -> Self {
        self.map_err(|e| e.at(field))
    }
    #[inline]
    fn at_index(self, index: usize) -> Self {
        self.map_err(|e| e.at_index(index))
    }
    #[inline]
    fn at_key(self, key: &str) -> Self {
        self.map_err(|e| e.at_key(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compose_outwards() {
        let e = Error::new(ErrorKind::MissingField)
            .at("xyz")
            .at_index(3)
            .at("history")
            .at("ImageSample");
        assert_eq!(e.path(), "ImageSample.history[3].xyz");
        let e = Error::new(ErrorKind::TooDeep)
            .at_index(1)
            .at_index(2)
            .at("m");
        assert_eq!(e.path(), "m[2][1]");
        let e = Error::new(ErrorKind::TooDeep)
            .at("x")
            .at_key("cam0")
            .at("cams");
        assert_eq!(e.path(), "cams[\"cam0\"].x");
    }

    #[test]
    fn display() {
        let e = Error::new(ErrorKind::DtypeMismatch {
            expected: "|u1",
            found: "<f4".into(),
        })
        .at("mask")
        .at("ImageSample");
        assert_eq!(
            e.to_string(),
            "ImageSample.mask: expected dtype |u1, found <f4"
        );
        assert_eq!(
            Error::new(ErrorKind::Truncated).to_string(),
            "truncated input"
        );
    }

    /// One value of every variant; the exhaustive match fails to compile when a variant
    /// is added without being listed here.
    fn every_kind() -> Vec<ErrorKind> {
        let s = || String::from("x");
        let all = vec![
            ErrorKind::Truncated,
            ErrorKind::TrailingBytes { n: 1 },
            ErrorKind::WrongType {
                expected: "map",
                found: "int",
            },
            ErrorKind::WrongValue(s()),
            ErrorKind::UnknownDtype(s()),
            ErrorKind::DtypeMismatch {
                expected: "|u1",
                found: s(),
            },
            ErrorKind::ShapeMismatch {
                expected: s(),
                found: vec![],
            },
            ErrorKind::Ragged,
            ErrorKind::NamedDimMismatch {
                dim: s(),
                expected: 1,
                found: 2,
            },
            ErrorKind::PayloadLength {
                expected: 1,
                found: 2,
            },
            ErrorKind::MissingField,
            ErrorKind::LengthTooLarge {
                len: 1,
                remaining: 0,
            },
            ErrorKind::OutOfRange {
                value: s(),
                expected: s(),
            },
            ErrorKind::BitsOverflow { value: 1, bits: 1 },
            ErrorKind::InvalidUtf8,
            ErrorKind::InvalidBool(2),
            ErrorKind::UnknownVariant(s()),
            ErrorKind::TooDeep,
            ErrorKind::InvalidShape(s()),
            ErrorKind::BadNpy(s()),
            ErrorKind::Malformed(s()),
            ErrorKind::DuplicateKey(s()),
            ErrorKind::InvalidBase64(s()),
            ErrorKind::BadPadding(s()),
            ErrorKind::CorruptArchive(s()),
            ErrorKind::BadKey(s()),
            ErrorKind::FingerprintMismatch(s()),
            ErrorKind::Unsupported(s()),
            ErrorKind::Custom(s()),
        ];
        for k in &all {
            match k {
                ErrorKind::Truncated
                | ErrorKind::TrailingBytes { .. }
                | ErrorKind::WrongType { .. }
                | ErrorKind::WrongValue(_)
                | ErrorKind::UnknownDtype(_)
                | ErrorKind::DtypeMismatch { .. }
                | ErrorKind::ShapeMismatch { .. }
                | ErrorKind::Ragged
                | ErrorKind::NamedDimMismatch { .. }
                | ErrorKind::PayloadLength { .. }
                | ErrorKind::MissingField
                | ErrorKind::LengthTooLarge { .. }
                | ErrorKind::OutOfRange { .. }
                | ErrorKind::BitsOverflow { .. }
                | ErrorKind::InvalidUtf8
                | ErrorKind::InvalidBool(_)
                | ErrorKind::UnknownVariant(_)
                | ErrorKind::TooDeep
                | ErrorKind::InvalidShape(_)
                | ErrorKind::BadNpy(_)
                | ErrorKind::Malformed(_)
                | ErrorKind::DuplicateKey(_)
                | ErrorKind::InvalidBase64(_)
                | ErrorKind::BadPadding(_)
                | ErrorKind::CorruptArchive(_)
                | ErrorKind::BadKey(_)
                | ErrorKind::FingerprintMismatch(_)
                | ErrorKind::Unsupported(_)
                | ErrorKind::Custom(_) => {}
            }
        }
        all
    }

    /// The kinds in the table of conformance/README.md (the first column, in backticks).
    fn readme_codes() -> Vec<String> {
        let readme = include_str!("../../../conformance/README.md");
        let table = readme
            .split("## Error kinds")
            .nth(1)
            .expect("conformance/README.md has an `## Error kinds` section");
        table
            .lines()
            .skip_while(|l| !l.starts_with("| kind"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| {
                let cell = l.split('|').nth(1).unwrap().trim();
                cell.trim_matches('`').to_owned()
            })
            .collect()
    }

    #[test]
    fn codes_are_the_readme_vocabulary() {
        let readme = readme_codes();
        assert!(readme.len() >= 20, "parsed too few kinds: {readme:?}");
        let mut listed: Vec<&str> = ErrorKind::CODES.to_vec();
        listed.sort_unstable();
        let mut want: Vec<&str> = readme.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(
            listed, want,
            "ErrorKind::CODES must be exactly the README table"
        );
        for k in every_kind() {
            assert!(
                readme.iter().any(|c| c == k.code()),
                "{k:?} maps to {:?}, not in the README table",
                k.code()
            );
        }
        // Every code but the ones only other readers produce is reachable from a variant.
        let used: Vec<&str> = every_kind().iter().map(ErrorKind::code).collect();
        for c in ErrorKind::CODES {
            assert!(used.contains(c), "no variant maps to {c}");
        }
        assert_eq!(Error::new(ErrorKind::TooDeep).at("x").code(), "too_deep");
    }

    #[test]
    fn result_is_small() {
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }
}

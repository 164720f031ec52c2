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
    /// A named dim has another size than an earlier field of the same sample gave it.
    #[error("dim {dim} is {found} here but {expected} in an earlier field")]
    NamedDimMismatch {
        dim: String,
        expected: u64,
        found: u64,
    },
    /// An array's data is not `dtype size × element count` bytes.
    #[error("array data is {found} bytes, expected {expected}")]
    PayloadLength { expected: u64, found: u64 },
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
    /// Anything else.
    #[error("{0}")]
    Custom(String),
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

    #[test]
    fn result_is_small() {
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }
}

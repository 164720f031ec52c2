//! Diagnostics: source files, spans, error codes and rustc-style rendering.
//!
//! Every problem the compiler finds is a [`Diagnostic`] with a stable code from [`codes`],
//! a primary span, optional secondary spans and an optional `help:` line. [`Sources`] owns
//! the text of every file read (imports too) so a diagnostic can be rendered with the
//! source line and a caret under the span (via codespan-reporting).

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::{Files, SimpleFiles};
use codespan_reporting::term::{self, Config};
use std::path::{Path, PathBuf};

pub type FileId = usize;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start, end }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// The stable diagnostic codes. Each has an invalid schema under `tests/invalid/` and a
/// snapshot of its rendering; the README lists them.
pub mod codes {
    pub const SYNTAX: &str = "E0001";
    pub const UNKNOWN_TYPE: &str = "E0002";
    pub const DUPLICATE_TYPE: &str = "E0003";
    pub const DUPLICATE_FIELD: &str = "E0004";
    pub const DUPLICATE_VARIANT: &str = "E0005";
    pub const RECURSIVE_COMPONENT: &str = "E0006";
    pub const IMPORT_NOT_FOUND: &str = "E0007";
    pub const IMPORT_CYCLE: &str = "E0008";
    pub const BITS_ON_NON_INTEGER: &str = "E0009";
    pub const BITS_ZERO: &str = "E0010";
    pub const BITS_ABOVE_WIDTH: &str = "E0011";
    pub const BITS_ABOVE_32: &str = "E0012";
    pub const PACKED_WITHOUT_BITS: &str = "E0013";
    pub const AGGREGATE_LEAF: &str = "E0014";
    pub const NAMED_DIM_CONFLICT: &str = "E0015";
    pub const BAD_DIMENSION: &str = "E0016";
    pub const DEFAULT_TYPE: &str = "E0017";
    pub const DEFAULT_OUT_OF_RANGE: &str = "E0018";
    pub const RANGE_ON_NON_NUMERIC: &str = "E0019";
    pub const RANGE_EMPTY: &str = "E0020";
    pub const UNKNOWN_ATTRIBUTE: &str = "E0021";
    pub const MISPLACED_ATTRIBUTE: &str = "E0022";
    pub const SHAPE_OVERFLOW: &str = "E0023";
    pub const ATTRIBUTE_ARGUMENTS: &str = "E0024";
    pub const DUPLICATE_ATTRIBUTE: &str = "E0025";
    pub const MAP_KEY: &str = "E0026";
    pub const PACKED_NOT_FIXED: &str = "E0027";
    pub const SAMPLE_AS_FIELD: &str = "E0028";
    pub const BAD_TYPE_USE: &str = "E0029";
    pub const NESTING_TOO_DEEP: &str = "E0030";
    pub const TOO_MANY_LEAVES: &str = "E0031";
    pub const IMPORT_UNREADABLE: &str = "E0032";
    pub const NAME_COLLISION: &str = "E0033";
    pub const RESERVED_NAME: &str = "E0034";
    pub const RESERVED_BY_SCHEMA: &str = "E0035";
    pub const UNUSED_IMPORT: &str = "W0001";

    /// Every code with a one-line title, for docs and `--explain`-style listings.
    pub const ALL: &[(&str, &str)] = &[
        (SYNTAX, "syntax error"),
        (UNKNOWN_TYPE, "unknown type"),
        (DUPLICATE_TYPE, "duplicate type name"),
        (DUPLICATE_FIELD, "duplicate field"),
        (DUPLICATE_VARIANT, "duplicate enum variant"),
        (RECURSIVE_COMPONENT, "recursive component"),
        (IMPORT_NOT_FOUND, "import not found"),
        (IMPORT_CYCLE, "import cycle"),
        (
            BITS_ON_NON_INTEGER,
            "`@bits` on a type that is not an integer or bool",
        ),
        (BITS_ZERO, "`@bits(0)` or a negative `@bits`"),
        (BITS_ABOVE_WIDTH, "`@bits` wider than the dtype"),
        (BITS_ABOVE_32, "`@bits` above 32"),
        (PACKED_WITHOUT_BITS, "`@packed` without `@bits`"),
        (
            AGGREGATE_LEAF,
            "`@bitpack(aggregate)` with a leaf that cannot be packed",
        ),
        (NAMED_DIM_CONFLICT, "named dim with conflicting sizes"),
        (BAD_DIMENSION, "zero or negative dimension"),
        (DEFAULT_TYPE, "default of the wrong type"),
        (DEFAULT_OUT_OF_RANGE, "default outside `@range`"),
        (RANGE_ON_NON_NUMERIC, "`@range` on a non-numeric field"),
        (RANGE_EMPTY, "`@range` with lo > hi"),
        (UNKNOWN_ATTRIBUTE, "unknown attribute"),
        (MISPLACED_ATTRIBUTE, "attribute on the wrong kind of item"),
        (SHAPE_OVERFLOW, "element or byte count overflows u64"),
        (ATTRIBUTE_ARGUMENTS, "wrong attribute arguments"),
        (DUPLICATE_ATTRIBUTE, "attribute given twice"),
        (MAP_KEY, "map key that is not `str`"),
        (
            PACKED_NOT_FIXED,
            "`@packed` on a leaf without a fixed shape",
        ),
        (SAMPLE_AS_FIELD, "sample used as a field type"),
        (BAD_TYPE_USE, "type used where it cannot be"),
        (NESTING_TOO_DEEP, "components nested deeper than the limit"),
        (
            TOO_MANY_LEAVES,
            "a record or schema flattens to more leaves than the limit",
        ),
        (
            IMPORT_UNREADABLE,
            "import of something that is not a regular file, or too large",
        ),
        (NAME_COLLISION, "names that collide in generated code"),
        (RESERVED_NAME, "a name generated code cannot use"),
        (
            RESERVED_BY_SCHEMA,
            "a field, alias or variant name the record or enum lists in `@reserved`",
        ),
        (UNUSED_IMPORT, "unused import (warning)"),
    ];
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub primary: Span,
    pub label: String,
    pub secondary: Vec<(Span, String)>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: span,
            label: String::new(),
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Every source file the compiler read, by id.
#[derive(Default)]
pub struct Sources {
    files: SimpleFiles<String, String>,
    paths: Vec<PathBuf>,
}

impl Sources {
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a file; `name` is how diagnostics show it (the path as the user wrote it).
    /// A leading UTF-8 byte-order mark is dropped here, so that spans and the columns
    /// diagnostics print count from the first character an editor shows.
    pub fn add(&mut self, name: String, path: PathBuf, text: String) -> FileId {
        let text = match text.strip_prefix('\u{FEFF}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        self.paths.push(path);
        self.files.add(name, text)
    }

    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    pub fn name(&self, id: FileId) -> &str {
        self.files.get(id).map(|f| f.name().as_str()).unwrap_or("")
    }

    pub fn path(&self, id: FileId) -> &Path {
        &self.paths[id]
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.paths.iter().position(|p| p == path)
    }

    /// Every file read, in the order it was read.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// 1-based line and column of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        match self.files.location(span.file, span.start) {
            Ok(loc) => (loc.line_number, loc.column_number),
            Err(_) => (1, 1),
        }
    }

    /// One line: `file:line:col: error[E0002]: message` (what `Display` of a build error shows).
    pub fn short(&self, d: &Diagnostic) -> String {
        let (line, col) = self.line_col(d.primary);
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{}:{line}:{col}: {sev}[{}]: {}",
            self.name(d.primary.file),
            d.code,
            d.message
        )
    }

    /// The full rustc-style rendering (source line, carets, labels, help).
    pub fn render(&self, d: &Diagnostic, color: bool) -> String {
        let mut labels = vec![
            Label::primary(d.primary.file, d.primary.start..d.primary.end)
                .with_message(d.label.clone()),
        ];
        for (span, msg) in &d.secondary {
            labels
                .push(Label::secondary(span.file, span.start..span.end).with_message(msg.clone()));
        }
        let base = match d.severity {
            Severity::Error => CsDiagnostic::error(),
            Severity::Warning => CsDiagnostic::warning(),
        };
        let mut cs = base
            .with_code(d.code)
            .with_message(d.message.clone())
            .with_labels(labels);
        if let Some(help) = &d.help {
            cs = cs.with_notes(vec![format!("help: {help}")]);
        }
        let config = Config::default();
        let mut out = Vec::new();
        let result = if color {
            let mut w = term::termcolor::Ansi::new(&mut out);
            term::emit(&mut w, &config, &self.files, &cs)
        } else {
            let mut w = term::termcolor::NoColor::new(&mut out);
            term::emit(&mut w, &config, &self.files, &cs)
        };
        match result {
            Ok(()) => String::from_utf8_lossy(&out).into_owned(),
            // A span outside its file would be a compiler bug; still say something useful.
            Err(_) => format!("{}\n", self.short(d)),
        }
    }
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment),
/// for "did you mean" suggestions: `Poes` is one edit from `Pose`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j - 1] + cost)
                .min(d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

/// The closest candidate within a distance that still looks like a typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

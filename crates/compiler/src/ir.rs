//! The intermediate representation: resolved, checked, with every layout computed.
//!
//! This is the only thing emitters read. It is plain data (serde), so `schemac layout
//! --format json` and the IR snapshots are this structure serialised as-is. Decisions about
//! layout (bit offsets, SoA columns, sizes) are made once, in `crate::layout`, and stored here,
//! so that the Rust, Python and CUDA emitters are thin translations of the same numbers.

use serde::{Deserialize, Serialize};

pub use schemac_runtime::Dtype;

/// One compiled schema file, with everything its imports contribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The schema file as the user named it (used in `@generated` headers).
    pub source: String,
    /// `package a.b.c;` if present.
    pub package: Option<String>,
    /// The module's documentation: the `///` lines before `package` in the root file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
    /// Snake-case module name: the package with dots as underscores (`vision.v1` →
    /// `vision_v1`), else the file stem.
    pub module: String,
    /// Enums, imported ones first, each in declaration order.
    pub enums: Vec<EnumDef>,
    /// Components and samples in dependency order: a record's components come before it.
    pub records: Vec<Record>,
}

impl Schema {
    pub fn record(&self, name: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.name == name)
    }

    pub fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.enums.iter().find(|e| e.name == name)
    }

    pub fn samples(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.kind == RecordKind::Sample)
    }

    /// The records this schema declares itself (what its generated module defines).
    pub fn own_records(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.origin.is_none())
    }

    /// The enums this schema declares itself.
    pub fn own_enums(&self) -> impl Iterator<Item = &EnumDef> {
        self.enums.iter().filter(|e| e.origin.is_none())
    }

    /// Every module an imported record or enum comes from, each once, sorted.
    pub fn imported_modules(&self) -> Vec<&str> {
        let set: std::collections::BTreeSet<&str> = self
            .records
            .iter()
            .filter_map(|r| r.origin.as_deref())
            .chain(self.enums.iter().filter_map(|e| e.origin.as_deref()))
            .collect();
        set.into_iter().collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumDef {
    pub name: String,
    pub docs: Vec<String>,
    pub variants: Vec<Variant>,
    /// Smallest unsigned dtype that holds every variant index (used by SoA columns and CUDA).
    pub repr: Dtype,
    /// Defined in an imported file rather than the compiled one.
    pub imported: bool,
    /// `@reserved("old", ...)`: variant names that may not be used again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<String>,
    /// For an imported enum, the module of the schema that declares it: the one place it
    /// is generated, which this schema's generated code refers to (`super::common::Sensor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub docs: Vec<String>,
    pub index: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Sample,
    Component,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    pub kind: RecordKind,
    pub docs: Vec<String>,
    /// Defined in an imported file rather than the compiled one.
    pub imported: bool,
    /// For an imported record, the module of the schema that declares it: the one place it
    /// is generated, which this schema's generated code refers to (`super::common::Pose`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The record's own fields, in declaration order (what a struct/dataclass holds).
    pub fields: Vec<Field>,
    /// Every leaf, nested components flattened depth-first in declaration order.
    pub leaves: Vec<Leaf>,
    /// Named dims used anywhere in the record (nested components included), first use first.
    pub named_dims: Vec<NamedDim>,
    pub bitpack: Bitpack,
    pub sizes: Sizes,
    /// The C/CUDA POD struct, when every leaf is a fixed-shape numeric or enum leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_struct: Option<CStruct>,
    /// 16 hex digits: a stable hash of the canonical layout (names, dtypes, shapes, bits,
    /// offsets, optionality). Changes exactly when the bytes on any wire would.
    pub fingerprint: String,
    /// `@reserved("old", ...)`: field names that may not be used again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<String>,
}

impl Record {
    pub fn leaf(&self, path: &str) -> Option<&Leaf> {
        self.leaves.iter().find(|l| l.path == path)
    }

    /// True when every leaf has a fixed shape (a POD struct exists for it in CUDA).
    pub fn is_fixed(&self) -> bool {
        self.leaves.iter().all(|l| l.elements.is_some())
    }
}

/// A named dim, and its size when the schema pins one (`f32[H = 224, W]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedDim {
    pub name: String,
    pub size: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub docs: Vec<String>,
    pub ty: Ty,
    /// Trailing `?`: absent is nil on the wire, `None`/`Option` in code.
    pub optional: bool,
    /// `= literal`; for arrays the fill value of every element.
    pub default: Option<Literal>,
    /// `@range(lo, hi)`, inclusive.
    pub range: Option<Range>,
    /// `@bits(n)`.
    pub bits: Option<u32>,
    /// Stored bit-packed in memory (`@packed`, or `@bitpack(field)` on the record).
    /// The number is the packed size in bytes: `ceil(elements * bits / 8)`.
    pub packed_bytes: Option<u64>,
    /// `@alias("old")`: other keys readers accept for this field (writers write `name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A field's type, resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Ty {
    /// A numeric or bool scalar.
    Scalar {
        dtype: Dtype,
    },
    Str,
    Bytes,
    /// An n-d array of a numeric or bool dtype.
    Array {
        dtype: Dtype,
        shape: Vec<Dim>,
    },
    Enum {
        name: String,
    },
    /// A nested component; `shape` is empty for one, `[8]` for `Pose[8]`.
    Record {
        name: String,
        shape: Vec<Dim>,
    },
    List {
        item: Box<Ty>,
    },
    /// Keys are always `str`.
    Map {
        value: Box<Ty>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Fixed(u64),
    /// A size known per sample; equal names must agree at run time.
    Named(String),
    /// `_`: an anonymous dynamic dim.
    Dynamic,
}

impl Dim {
    pub fn fixed(&self) -> Option<u64> {
        match self {
            Dim::Fixed(n) => Some(*n),
            _ => None,
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Named(name) => f.write_str(name),
            Dim::Dynamic => f.write_str("_"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Literal {
    Bool(bool),
    Int(i64),
    /// Only for integers above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Str(String),
    /// An enum variant name.
    Variant(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub lo: f64,
    pub hi: f64,
}

/// One flattened leaf of a record: what a SoA column, a packed slot or a CUDA accessor is
/// made for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leaf {
    /// Dotted path from the record, e.g. `history.xyz`.
    pub path: String,
    /// The same path split at the dots.
    pub segments: Vec<String>,
    pub docs: Vec<String>,
    pub kind: LeafKind,
    /// Full per-sample shape: outer component-array dims first (`history: Pose[8]` with
    /// `xyz: f32[3]` gives `[8, 3]`), then the field's own. Empty for a scalar.
    pub shape: Vec<Dim>,
    /// Product of `shape` when every dim is fixed (1 for a scalar); `None` otherwise.
    pub elements: Option<u64>,
    /// The leaf or an enclosing component field is optional.
    pub optional: bool,
    pub range: Option<Range>,
    pub default: Option<Literal>,
    pub bits: Option<u32>,
    /// Start of this leaf in the record's aggregate bitstream, when the record has one.
    pub bit_offset: Option<u64>,
    /// `ceil(elements * bits / 8)` when the leaf has `@bits` and a fixed shape.
    pub packed_bytes: Option<u64>,
    /// The leaf is stored per-field packed in memory (`@packed` or `@bitpack(field)`).
    pub packed_field: bool,
    pub soa: SoaColumn,
}

impl Leaf {
    /// The leaf's type as comments and pictures show it: `u8[6, 54]? @bits(3) @packed`.
    pub fn type_desc(&self) -> String {
        let mut s = match &self.kind {
            LeafKind::Numeric { dtype } => dtype.name().to_string(),
            LeafKind::Enum { name, .. } => name.clone(),
            LeafKind::Str => "str".into(),
            LeafKind::Bytes => "bytes".into(),
            LeafKind::List { .. } => "list".into(),
            LeafKind::Map { .. } => "map".into(),
        };
        if !self.shape.is_empty() {
            let dims: Vec<String> = self.shape.iter().map(Dim::to_string).collect();
            s.push_str(&format!("[{}]", dims.join(", ")));
        }
        if self.optional {
            s.push('?');
        }
        if let Some(b) = self.bits {
            s.push_str(&format!(" @bits({b})"));
        }
        if self.packed_field {
            s.push_str(" @packed");
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LeafKind {
    /// Numeric or bool, scalar or array.
    Numeric {
        dtype: Dtype,
    },
    Str,
    Bytes,
    /// Stored as the variant index in `repr` in SoA and CUDA; as the name on the wire.
    Enum {
        name: String,
        repr: Dtype,
    },
    /// Lists and maps are not flattened; SoA keeps them as encoded msgpack per row.
    List {
        item: Ty,
    },
    Map {
        value: Ty,
    },
}

impl LeafKind {
    /// The dtype of one element, for numeric and enum leaves.
    pub fn dtype(&self) -> Option<Dtype> {
        match self {
            LeafKind::Numeric { dtype } => Some(*dtype),
            LeafKind::Enum { repr, .. } => Some(*repr),
            _ => None,
        }
    }
}

/// How a leaf is stored as a structure-of-arrays column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SoaColumn {
    pub storage: SoaStorage,
    /// Element dtype of the `values` buffer (`u8` for str/bytes/encoded).
    pub dtype: Dtype,
    /// Bytes per row for fixed columns.
    pub row_bytes: Option<u64>,
    /// A validity bitmap accompanies the column (the leaf is optional).
    pub validity: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SoaStorage {
    /// `values: [n, ...shape]`, contiguous.
    Fixed,
    /// Dynamic dims: `values` (all rows' elements back to back), `offsets: [n + 1]` in
    /// elements, and `shapes: [n, ndim]` (i64) holding each row's shape.
    Ragged,
    /// str / bytes: `values: u8`, `offsets: [n + 1]` in bytes (str values are UTF-8).
    Binary,
    /// Lists and maps: each row's msgpack encoding as `values: u8` + `offsets: [n + 1]`.
    Encoded,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bitpack {
    /// What the schema asked for (`@bitpack(...)`, `auto` when absent).
    pub mode: BitpackMode,
    /// Present when the record has an aggregate packed form (`aggregate`, or `auto` and
    /// every leaf has `@bits` and a fixed shape).
    pub aggregate: Option<Aggregate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BitpackMode {
    Auto,
    Aggregate,
    Field,
    Off,
}

/// The aggregate bitstream of DESIGN §5 (xtructure's `words` + `tail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub total_bits: u64,
    /// In-memory words: `ceil(total_bits / 32)`.
    pub words: u64,
    /// Whole words in the compact byte form.
    pub words_len: u64,
    /// Trailing bytes after `words_len` words in the compact byte form (0, 1 or 2).
    pub tail_bytes: u64,
    /// `4 * words_len + tail_bytes`.
    pub compact_bytes: u64,
}

impl Aggregate {
    pub fn for_total_bits(total_bits: u64) -> Aggregate {
        let words = total_bits.div_ceil(32);
        let rem_bytes = (total_bits % 32).div_ceil(8);
        let tail_bytes = if rem_bytes == 1 || rem_bytes == 2 {
            rem_bytes
        } else {
            0
        };
        let words_len = words - u64::from(tail_bytes != 0);
        Aggregate {
            total_bits,
            words,
            words_len,
            tail_bytes,
            compact_bytes: 4 * words_len + tail_bytes,
        }
    }
}

/// A record as a C struct (the POD layout rule of `emit/cuda.rs`): one member per leaf in
/// leaf order, a C array of the leaf's full shape (or its packed bytes for a per-field
/// `@packed` leaf), followed by a one-byte validity flag for an optional leaf; each member
/// aligned to its element size, the struct to its widest element, its size rounded up to
/// that. Emitters print these numbers (and `static_assert` them); they do not compute them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CStruct {
    pub size: u64,
    pub align: u64,
    pub members: Vec<CMember>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CMember {
    /// The leaf's dotted path.
    pub leaf: String,
    pub part: CPart,
    /// Byte offset in the struct.
    pub offset: u64,
    /// Bytes the member occupies.
    pub size: u64,
    pub align: u64,
}

/// Which part of a leaf a C struct member holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CPart {
    /// The values (or, for a per-field `@packed` leaf, its packed bytes).
    Values,
    /// `uint8_t <leaf>_valid`: 1 when the optional leaf is present.
    Valid,
}

/// Bytes per sample in each layout; `None` where the size depends on the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sizes {
    /// At most this many msgpack bytes (integers and enum names vary below it).
    pub msgpack_max: Option<u64>,
    /// Bytes per row across the SoA columns (validity bits not counted).
    pub soa_row: Option<u64>,
    /// Compact aggregate bytes, when the record has an aggregate form.
    pub aggregate: Option<u64>,
    /// Every `@bits` leaf packed on its own, others raw.
    pub field_packed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_tail_rule_matches_design() {
        // xtructure AggState: 1049 bits -> 33 words, no tail (rem 25 bits = 4 bytes).
        let a = Aggregate::for_total_bits(1049);
        assert_eq!((a.words, a.words_len, a.tail_bytes), (33, 33, 0));
        // 40 bits: rem 8 -> 1 tail byte, 1 whole word.
        let a = Aggregate::for_total_bits(40);
        assert_eq!(
            (a.words, a.words_len, a.tail_bytes, a.compact_bytes),
            (2, 1, 1, 5)
        );
        // 48 bits: rem 16 -> 2 tail bytes.
        let a = Aggregate::for_total_bits(48);
        assert_eq!((a.words_len, a.tail_bytes, a.compact_bytes), (1, 2, 6));
        // 56 bits: rem 24 -> 3 bytes, not a tail: a whole extra word.
        let a = Aggregate::for_total_bits(56);
        assert_eq!((a.words_len, a.tail_bytes, a.compact_bytes), (2, 0, 8));
        // Exactly 64 bits.
        let a = Aggregate::for_total_bits(64);
        assert_eq!((a.words, a.words_len, a.tail_bytes), (2, 2, 0));
    }
}

//! CUDA target: one header `<module>.cuh` and one kernel file `<module>_kernels.cu` per schema.
//!
//! The header holds what both host and device code use: enums, POD structs for fixed-shape
//! records, a structure-of-arrays view per sample, and `SCHEMAC_HD` (`__host__ __device__`
//! under nvcc, nothing under a plain C++ compiler) accessors for packed leaves, so the same
//! header also compiles with g++/clang for CPU code and tests. The kernel file holds the
//! batch pack/unpack/gather kernels of every aggregate-packed sample, their `extern "C"`
//! launchers, and a kernel skeleton per sample for the user's own code.
//!
//! # POD layout rule
//!
//! A record gets a POD struct when every leaf is a fixed-shape numeric or enum leaf (no str,
//! bytes, list, map, no dynamic dim). Its members are the record's leaves, flattened
//! depth-first in declaration order exactly as the IR lists them (`history: Pose[8]` with
//! `xyz: f32[3]` is the member `float history_xyz[8][3]`), each a C array of the leaf's full
//! shape, laid out by the C rules (each member aligned to its element size, the struct to its
//! widest element, its size rounded up to that). Element types: bool as `uint8_t` (0 or 1),
//! enums as `enum class : <repr>` of the repr dtype, f16 and bf16 as `uint16_t` raw bits,
//! other dtypes as the `<cstdint>` type / `float` / `double`. A per-field `@packed` leaf is
//! held as its packed byte stream, `uint8_t name[ceil(n·bits/8)]`. An optional leaf is followed
//! by a `uint8_t name_valid` member (1 when present). Every size and offset is computed in
//! `crate::layout` (IR `Record::c_struct`, snapshotted with the IR); the emitter writes them
//! into the header as `static_assert`s.
//!
//! Imports are references: a record or enum is declared only in the header of the schema
//! that declares it; an importing header `#include "common.cuh"`s and brings the names in
//! with `using ::common::Pose;`.
//!
//! Everything here reads the IR only.

use super::{generated_header, EmitError, OutputFile};
use crate::ir::{self, Dtype, LeafKind, RecordKind, SoaStorage};
use askama::Template;
use heck::{ToShoutySnakeCase, ToSnakeCase};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Renders `<module>.cuh` and `<module>_kernels.cu`.
pub fn emit(schema: &ir::Schema) -> Result<Vec<OutputFile>, EmitError> {
    let model = Model::build(schema)?;
    let header = HeaderTemplate { m: &model }
        .render()
        .map_err(|e| EmitError(format!("cuda header template: {e}")))?;
    let kernels = KernelsTemplate { m: &model }
        .render()
        .map_err(|e| EmitError(format!("cuda kernels template: {e}")))?;
    Ok(vec![
        OutputFile {
            path: PathBuf::from(&model.header_file),
            contents: tidy(&header),
        },
        OutputFile {
            path: PathBuf::from(format!("{}_kernels.cu", model.module)),
            contents: tidy(&kernels),
        },
    ])
}

#[derive(Template)]
#[template(path = "cuda/header.cuh", escape = "none")]
struct HeaderTemplate<'a> {
    m: &'a Model,
}

#[derive(Template)]
#[template(path = "cuda/kernels.cu", escape = "none")]
struct KernelsTemplate<'a> {
    m: &'a Model,
}

/// Trailing spaces off every line, runs of blank lines squeezed to one, exactly one final
/// newline: the templates can then be written for readability.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The model the templates render: every name, number and C declarator decided here.

struct Model {
    generated: String,
    module: String,
    /// C++ namespace (the module name, escaped if it is a keyword).
    ns: String,
    package: String,
    /// The schema's module docs (`///` before `package`).
    docs: Vec<String>,
    guard: String,
    header_file: String,
    /// Headers of the schemas whose records and enums this one imports (`common.cuh`).
    includes: Vec<String>,
    /// `::common::Pose`: imported names made visible in this namespace.
    usings: Vec<String>,
    enums: Vec<EnumModel>,
    records: Vec<RecordModel>,
}

impl Model {
    fn has_aggregate_sample(&self) -> bool {
        self.records
            .iter()
            .any(|r| r.is_sample && r.packed.is_some())
    }
}

struct EnumModel {
    name: String,
    docs: Vec<String>,
    repr: &'static str,
    variants: Vec<VariantModel>,
}

struct VariantModel {
    name: String,
    docs: Vec<String>,
    index: u32,
}

struct RecordModel {
    name: String,
    snake: String,
    shouty: String,
    is_sample: bool,
    kind: &'static str,
    docs: Vec<String>,
    fingerprint: String,
    /// `<module>_<record snake>`: the prefix of this record's `extern "C"` launchers.
    c_prefix: String,
    pod: Option<PodModel>,
    packed: Option<PackedModel>,
    fields_packed: Option<FieldsPackedModel>,
    view: Option<ViewModel>,
}

struct PodModel {
    members: Vec<PodMember>,
    size: u64,
    align: u64,
}

struct PodMember {
    /// `uint8_t faces[6][54]`.
    decl: String,
    name: String,
    offset: u64,
    comment: String,
    docs: Vec<String>,
}

struct PackedModel {
    name: String,
    total_bits: u64,
    words: u64,
    words_len: u64,
    tail_bytes: u64,
    compact_bytes: u64,
    leaves: Vec<PackedLeaf>,
}

struct PackedLeaf {
    /// C identifier of the leaf (`board_cells_kind`).
    name: String,
    /// Prefix of its constants (`BOARD_CELLS_KIND`).
    upper: String,
    path: String,
    desc: String,
    docs: Vec<String>,
    bits: u32,
    offset: u64,
    end: u64,
    count: u64,
    /// Type of one value in the accessors (`bool` for bool leaves).
    value_type: &'static str,
    /// Element type of the leaf's POD member / SoA column.
    col_type: &'static str,
    is_bool: bool,
    /// `&s.faces[0][0]`: the first element of the POD member, as a flat pointer.
    pod_first: String,
}

struct FieldsPackedModel {
    name: String,
    leaves: Vec<FieldPackedLeaf>,
}

struct FieldPackedLeaf {
    name: String,
    upper: String,
    path: String,
    desc: String,
    bits: u32,
    count: u64,
    bytes: u64,
    value_type: &'static str,
    is_bool: bool,
}

struct ViewModel {
    name: String,
    columns: Vec<ViewColumn>,
    /// Names of the view and the row index in the kernel skeleton, chosen not to collide with
    /// the column locals it declares.
    view_var: String,
    row_var: String,
}

struct ViewColumn {
    name: String,
    upper: String,
    path: String,
    desc: String,
    docs: Vec<String>,
    elem: String,
    storage: Storage,
    /// Elements per row for fixed columns.
    per_row: u64,
    /// Dims per row for ragged columns.
    ndim: usize,
    validity: bool,
    /// A per-field `@packed` leaf: the SoA column still holds one value per element.
    packed_field: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Storage {
    Fixed,
    Ragged,
    Binary,
    Encoded,
}

impl ViewColumn {
    fn is_fixed(&self) -> bool {
        self.storage == Storage::Fixed
    }
    fn is_ragged(&self) -> bool {
        self.storage == Storage::Ragged
    }
    fn storage_desc(&self) -> &'static str {
        match self.storage {
            Storage::Fixed => "fixed",
            Storage::Ragged => "ragged",
            Storage::Binary => "binary",
            Storage::Encoded => "msgpack-encoded",
        }
    }
}

impl Model {
    fn build(schema: &ir::Schema) -> Result<Model, EmitError> {
        let module = schema.module.clone();
        let ns = ident(&module);
        let guard_base = schema.package.as_deref().unwrap_or(&module);
        let guard = format!(
            "SCHEMAC_{}_CUH_",
            guard_base
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                })
                .collect::<String>()
        );
        // Imported enums and records are declared in their own schema's header, which this
        // one includes; `using` brings them into this namespace under their own names.
        let mut includes: Vec<String> = Vec::new();
        let mut usings: Vec<String> = Vec::new();
        for origin in schema.imported_modules() {
            includes.push(format!("{origin}.cuh"));
            let from = ident(origin);
            for e in schema
                .enums
                .iter()
                .filter(|e| e.origin.as_deref() == Some(origin))
            {
                usings.push(format!("::{from}::{}", ident(&e.name)));
            }
            for r in schema
                .records
                .iter()
                .filter(|r| r.origin.as_deref() == Some(origin))
            {
                if PodModel::build(r).is_some() {
                    usings.push(format!("::{from}::{}", ident(&r.name)));
                }
            }
        }
        let enums = schema
            .own_enums()
            .map(|e| EnumModel {
                name: ident(&e.name),
                docs: e.docs.clone(),
                repr: ctype(e.repr),
                variants: e
                    .variants
                    .iter()
                    .map(|v| VariantModel {
                        name: ident(&v.name),
                        docs: v.docs.clone(),
                        index: v.index,
                    })
                    .collect(),
            })
            .collect();
        let mut records = Vec::new();
        for r in schema.own_records() {
            records.push(RecordModel::build(schema, r, &module)?);
        }
        let model = Model {
            generated: generated_header(schema),
            header_file: format!("{module}.cuh"),
            ns,
            package: schema.package.clone().unwrap_or_default(),
            docs: schema.docs.clone(),
            module,
            guard,
            includes,
            usings,
            enums,
            records,
        };
        model.check_names()?;
        Ok(model)
    }

    /// Every name the header declares in one scope must be unique: a leaf called `total`
    /// would give `TOTAL_BITS` twice, `a_b` and `a.b` the same member. Reported, never
    /// silently emitted as C++ that does not compile.
    fn check_names(&self) -> Result<(), EmitError> {
        let mut top: Vec<(String, String)> = vec![("detail".into(), "the helper namespace".into())];
        for e in &self.enums {
            top.push((e.name.clone(), format!("enum {}", e.name)));
        }
        for r in &self.records {
            let what = format!("{} {}", r.kind, r.name);
            top.push((r.name.clone(), what.clone()));
            top.push((format!("{}_FINGERPRINT", r.shouty), what.clone()));
            if let Some(p) = &r.packed {
                top.push((p.name.clone(), what.clone()));
                let mut names: Vec<(String, String)> = [
                    "TOTAL_BITS",
                    "WORDS",
                    "WORDS_LEN",
                    "TAIL_BYTES",
                    "COMPACT_BYTES",
                    "words",
                    "pack",
                    "unpack",
                ]
                .iter()
                .map(|n| (n.to_string(), "a built-in member".to_string()))
                .collect();
                for l in &p.leaves {
                    for n in [
                        format!("{}_BIT_OFFSET", l.upper),
                        format!("{}_BITS", l.upper),
                        format!("{}_COUNT", l.upper),
                        format!("get_{}", l.name),
                        format!("set_{}", l.name),
                        format!("fits_{}", l.name),
                    ] {
                        names.push((n, format!("leaf `{}`", l.path)));
                    }
                }
                unique(&names, &p.name)?;
            }
            if let Some(f) = &r.fields_packed {
                top.push((f.name.clone(), what.clone()));
                let mut names = Vec::new();
                for l in &f.leaves {
                    for n in [
                        format!("{}_BITS", l.upper),
                        format!("{}_COUNT", l.upper),
                        format!("{}_BYTES", l.upper),
                        format!("get_{}", l.name),
                        format!("set_{}", l.name),
                    ] {
                        names.push((n, format!("leaf `{}`", l.path)));
                    }
                }
                unique(&names, &f.name)?;
            }
            if let Some(pod) = &r.pod {
                let names: Vec<(String, String)> = pod
                    .members
                    .iter()
                    .map(|m| (m.name.clone(), m.comment.clone()))
                    .collect();
                unique(&names, &r.name)?;
            }
            if let Some(v) = &r.view {
                top.push((v.name.clone(), what.clone()));
                let mut names = vec![("n".to_string(), "the row count".to_string())];
                if r.packed.is_some() {
                    for n in ["packed_word", "unpack_word"] {
                        names.push((n.to_string(), "a built-in member".to_string()));
                    }
                }
                for c in &v.columns {
                    let leaf = format!("leaf `{}`", c.path);
                    let mut add = |n: String| names.push((n, leaf.clone()));
                    match c.storage {
                        Storage::Fixed => {
                            add(c.name.clone());
                            add(format!("{}_PER_ROW", c.upper));
                        }
                        Storage::Ragged => {
                            add(format!("{}_values", c.name));
                            add(format!("{}_offsets", c.name));
                            add(format!("{}_shapes", c.name));
                            add(format!("{}_NDIM", c.upper));
                        }
                        Storage::Binary | Storage::Encoded => {
                            add(format!("{}_values", c.name));
                            add(format!("{}_offsets", c.name));
                        }
                    }
                    if c.validity {
                        add(format!("{}_validity", c.name));
                        add(format!("{}_is_valid", c.name));
                    }
                }
                unique(&names, &v.name)?;
            }
        }
        unique(&top, &format!("namespace {}", self.ns))
    }
}

fn unique(names: &[(String, String)], scope: &str) -> Result<(), EmitError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (n, what) in names {
        if let Some(first) = seen.insert(n, what) {
            return Err(EmitError(format!(
                "cuda: `{n}` would be declared twice in `{scope}` (by {first} and by {what}); rename one of them"
            )));
        }
    }
    Ok(())
}

impl RecordModel {
    fn build(schema: &ir::Schema, r: &ir::Record, module: &str) -> Result<RecordModel, EmitError> {
        let name = ident(&r.name);
        let snake = r.name.to_snake_case();
        let is_sample = r.kind == RecordKind::Sample;
        let pod = PodModel::build(r);
        let packed = match &r.bitpack.aggregate {
            Some(agg) => Some(PackedModel::build(schema, r, agg)?),
            None => None,
        };
        let fp_leaves: Vec<FieldPackedLeaf> = r
            .leaves
            .iter()
            .filter(|l| l.packed_field)
            .map(|l| {
                let dtype = leaf_dtype(l)?;
                let bits = l.bits.ok_or_else(|| missing(r, l, "bits"))?;
                let count = l.elements.ok_or_else(|| missing(r, l, "a fixed shape"))?;
                Ok(FieldPackedLeaf {
                    name: leaf_ident(l),
                    upper: leaf_upper(l),
                    path: l.path.clone(),
                    desc: leaf_desc(l),
                    bits,
                    count,
                    bytes: l.packed_bytes.unwrap_or((count * bits as u64).div_ceil(8)),
                    value_type: value_type(dtype),
                    is_bool: dtype == Dtype::Bool,
                })
            })
            .collect::<Result<_, EmitError>>()?;
        let fields_packed = (!fp_leaves.is_empty()).then(|| FieldsPackedModel {
            name: format!("{name}PackedFields"),
            leaves: fp_leaves,
        });
        let view = is_sample.then(|| ViewModel::build(schema, r, &name));
        Ok(RecordModel {
            shouty: r.name.to_shouty_snake_case(),
            c_prefix: format!("{module}_{snake}"),
            kind: if is_sample { "sample" } else { "component" },
            docs: r.docs.clone(),
            fingerprint: r.fingerprint.clone(),
            name,
            snake,
            is_sample,
            pod,
            packed,
            fields_packed,
            view,
        })
    }
}

fn missing(r: &ir::Record, l: &ir::Leaf, what: &str) -> EmitError {
    EmitError(format!(
        "cuda: leaf `{}` of `{}` is packed but has no {what} in the IR",
        l.path, r.name
    ))
}

impl PodModel {
    /// The struct the IR lays out (`Record::c_struct`, computed in `crate::layout`), with
    /// the C declarator and comment of each member.
    fn build(r: &ir::Record) -> Option<PodModel> {
        let c = r.c_struct.as_ref()?;
        let mut members = Vec::with_capacity(c.members.len());
        for m in &c.members {
            let l = r.leaf(&m.leaf)?;
            let name = leaf_ident(l);
            let (decl, name, comment, docs) = match m.part {
                ir::CPart::Valid => (
                    format!("uint8_t {name}_valid"),
                    format!("{name}_valid"),
                    format!("1 when `{}` is present", l.path),
                    Vec::new(),
                ),
                ir::CPart::Values if l.packed_field => (
                    format!("uint8_t {name}[{}]", m.size),
                    name,
                    format!("{}: {} bytes, LSB-first stream", leaf_desc(l), m.size),
                    l.docs.clone(),
                ),
                ir::CPart::Values => {
                    let elem = match &l.kind {
                        LeafKind::Enum { name, .. } => ident(name),
                        LeafKind::Numeric { dtype } => ctype(*dtype).to_string(),
                        _ => return None,
                    };
                    let dims: String = l
                        .shape
                        .iter()
                        .map(|d| d.fixed().map(|n| format!("[{n}]")))
                        .collect::<Option<_>>()?;
                    (
                        format!("{elem} {name}{dims}"),
                        name,
                        leaf_desc(l),
                        l.docs.clone(),
                    )
                }
            };
            members.push(PodMember {
                decl,
                name,
                offset: m.offset,
                comment,
                docs,
            });
        }
        Some(PodModel {
            members,
            size: c.size,
            align: c.align,
        })
    }
}

impl PackedModel {
    fn build(
        schema: &ir::Schema,
        r: &ir::Record,
        agg: &ir::Aggregate,
    ) -> Result<PackedModel, EmitError> {
        let _ = schema;
        let mut leaves = Vec::new();
        let mut expect_offset = 0u64;
        for l in &r.leaves {
            let dtype = leaf_dtype(l)?;
            let bits = l.bits.ok_or_else(|| missing(r, l, "bits"))?;
            let offset = l.bit_offset.ok_or_else(|| missing(r, l, "bit offset"))?;
            let count = l.elements.ok_or_else(|| missing(r, l, "a fixed shape"))?;
            if offset != expect_offset {
                return Err(EmitError(format!(
                    "cuda: leaf `{}` of `{}` starts at bit {offset}, expected {expect_offset} (leaves must be contiguous)",
                    l.path, r.name
                )));
            }
            expect_offset = offset + count * bits as u64;
            let name = leaf_ident(l);
            let zeros: String = if l.shape.is_empty() {
                String::new()
            } else {
                "[0]".repeat(l.shape.len())
            };
            leaves.push(PackedLeaf {
                pod_first: format!("&s.{name}{zeros}"),
                upper: leaf_upper(l),
                path: l.path.clone(),
                desc: leaf_desc(l),
                docs: l.docs.clone(),
                bits,
                offset,
                end: expect_offset,
                count,
                value_type: value_type(dtype),
                col_type: ctype(dtype),
                is_bool: dtype == Dtype::Bool,
                name,
            });
        }
        if expect_offset != agg.total_bits {
            return Err(EmitError(format!(
                "cuda: the leaves of `{}` end at bit {expect_offset} but total_bits is {}",
                r.name, agg.total_bits
            )));
        }
        Ok(PackedModel {
            name: format!("{}Packed", ident(&r.name)),
            total_bits: agg.total_bits,
            words: agg.words,
            words_len: agg.words_len,
            tail_bytes: agg.tail_bytes,
            compact_bytes: agg.compact_bytes,
            leaves,
        })
    }
}

impl ViewModel {
    fn build(schema: &ir::Schema, r: &ir::Record, name: &str) -> ViewModel {
        let columns = r
            .leaves
            .iter()
            .map(|l| {
                let elem = match &l.kind {
                    LeafKind::Enum { name, .. } if schema.enum_def(name).is_some() => ident(name),
                    _ => ctype(l.soa.dtype).to_string(),
                };
                let storage = match l.soa.storage {
                    SoaStorage::Fixed => Storage::Fixed,
                    SoaStorage::Ragged => Storage::Ragged,
                    SoaStorage::Binary => Storage::Binary,
                    SoaStorage::Encoded => Storage::Encoded,
                };
                ViewColumn {
                    name: leaf_ident(l),
                    upper: leaf_upper(l),
                    path: l.path.clone(),
                    desc: leaf_desc(l),
                    docs: l.docs.clone(),
                    elem,
                    storage,
                    per_row: l.elements.unwrap_or(0),
                    ndim: l.shape.len(),
                    validity: l.soa.validity,
                    packed_field: l.packed_field,
                }
            })
            .collect::<Vec<ViewColumn>>();
        let locals: Vec<String> = columns
            .iter()
            .flat_map(|c| {
                [
                    c.name.clone(),
                    format!("{}_shape", c.name),
                    format!("{}_len", c.name),
                    format!("{}_valid", c.name),
                ]
            })
            .collect();
        let free = |base: &str| {
            let mut v = base.to_string();
            while locals.contains(&v) {
                v.push('_');
            }
            v
        };
        ViewModel {
            name: format!("{name}View"),
            view_var: free("batch"),
            row_var: free("row"),
            columns,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Names and types.

/// The dtype of a leaf that can be bit-packed (numeric int/bool).
fn leaf_dtype(l: &ir::Leaf) -> Result<Dtype, EmitError> {
    match &l.kind {
        LeafKind::Numeric { dtype } if dtype.is_int() || *dtype == Dtype::Bool => Ok(*dtype),
        _ => Err(EmitError(format!(
            "cuda: leaf `{}` is bit-packed but is not an integer or bool leaf",
            l.path
        ))),
    }
}

/// The C++ element type of a dtype in structs, views and columns.
fn ctype(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool | Dtype::U8 => "uint8_t",
        Dtype::I8 => "int8_t",
        Dtype::I16 => "int16_t",
        Dtype::I32 => "int32_t",
        Dtype::I64 => "int64_t",
        Dtype::U16 => "uint16_t",
        Dtype::U32 => "uint32_t",
        Dtype::U64 => "uint64_t",
        Dtype::F16 | Dtype::Bf16 => "uint16_t",
        Dtype::F32 => "float",
        Dtype::F64 => "double",
    }
}

/// The type of one value in packed-leaf accessors.
fn value_type(d: Dtype) -> &'static str {
    if d == Dtype::Bool {
        "bool"
    } else {
        ctype(d)
    }
}

/// `faces: u8[6, 54] @bits(3)`-style description of a leaf for comments.
fn leaf_desc(l: &ir::Leaf) -> String {
    format!("{}: {}", l.path, l.type_desc())
}

fn leaf_ident(l: &ir::Leaf) -> String {
    ident(&l.segments.join("_"))
}

fn leaf_upper(l: &ir::Leaf) -> String {
    l.segments.join("_").to_ascii_uppercase()
}

/// A schema identifier as a C++ identifier: C++ keywords and the few names the header
/// itself uses get a trailing underscore.
fn ident(name: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "alignas",
        "alignof",
        "and",
        "and_eq",
        "asm",
        "auto",
        "bitand",
        "bitor",
        "bool",
        "break",
        "case",
        "catch",
        "char",
        "char8_t",
        "char16_t",
        "char32_t",
        "class",
        "compl",
        "concept",
        "const",
        "consteval",
        "constexpr",
        "constinit",
        "const_cast",
        "continue",
        "co_await",
        "co_return",
        "co_yield",
        "decltype",
        "default",
        "delete",
        "do",
        "double",
        "dynamic_cast",
        "else",
        "enum",
        "explicit",
        "export",
        "extern",
        "false",
        "float",
        "for",
        "friend",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "mutable",
        "namespace",
        "new",
        "noexcept",
        "not",
        "not_eq",
        "nullptr",
        "operator",
        "or",
        "or_eq",
        "private",
        "protected",
        "public",
        "register",
        "reinterpret_cast",
        "requires",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "static_assert",
        "static_cast",
        "struct",
        "switch",
        "template",
        "this",
        "thread_local",
        "throw",
        "true",
        "try",
        "typedef",
        "typeid",
        "typename",
        "union",
        "unsigned",
        "using",
        "virtual",
        "void",
        "volatile",
        "wchar_t",
        "while",
        "xor",
        "xor_eq",
        // Names the header itself uses, and common macros.
        "std",
        "detail",
        "assert",
        "errno",
        "NULL",
        "EOF",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
        "size_t",
    ];
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_escape_keywords() {
        assert_eq!(ident("class"), "class_");
        assert_eq!(ident("faces"), "faces");
        assert_eq!(ident("uint8_t"), "uint8_t_");
    }

    #[test]
    fn tidy_squeezes_blank_lines() {
        assert_eq!(tidy("\n\na  \n\n\n\nb\n\n"), "a\n\nb\n");
    }
}

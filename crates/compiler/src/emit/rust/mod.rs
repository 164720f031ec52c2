//! Rust target: one file `<module>.rs` per schema with a struct per record the schema
//! declares (samples and components; imported ones are `use`d from their own schema's
//! module, `super::common` unless [`ExternPaths`] says otherwise), an enum per enum, a
//! zero-copy view `<Name>Ref<'a>` per record, and what [`layouts`] adds (batches and
//! packed forms). The records are data over `schemac_runtime::gen_support`: one codec
//! constant per field and a `Record` impl with one line per field (`visit`, `read_fields`,
//! `random_in`); MessagePack (atdata-compatible bytes), both serde forms, `validate()` and
//! `random()` are the runtime's, written once.
//!
//! # Conventions of the generated code
//!
//! - Type names: a record `Pose` is `pub struct Pose`, its view `pub struct PoseRef<'a>`; an
//!   enum `Split` is `pub enum Split` with UpperCamelCase variants (`train` → `Train`).
//!   Field names are the schema's (Rust keywords as raw identifiers, `r#type`).
//! - Field types: `bool`/integers/`f32`/`f64` as themselves, `f16`/`bf16` as
//!   `schemac_runtime::half::{f16, bf16}`, arrays as `schemac_runtime::array::NdArray<T>`,
//!   `str` as `String`, `bytes` as `Vec<u8>`, enums and components by name, component arrays
//!   (`Pose[8]`, `Cell[3, 3]`, `Pose[_]`) as a flat C-order `Vec<Pose>`, `list<T>` as
//!   `Vec<T>`, `map<str, T>` as `BTreeMap<String, T>`, `T?` as `Option<T>`, and a `@packed`
//!   field as its packed bytes `[u8; N]` with `<field>_unpacked()` /
//!   `set_<field>_unpacked()`.
//! - Associated items on every struct: `NAME`, `FINGERPRINT`, one `<FIELD>_SHAPE:
//!   &[DimSpec]` per array, component-array and `@packed` field, a private `<FIELD>_CODEC`
//!   per field, and (from the runtime's `record_methods!`) `to_msgpack`, `write_msgpack`,
//!   `from_msgpack`, `msgpack_size_hint`, `validate`, `random`, `to_json`, `from_json`.
//! - The file imports `::schemac_runtime::gen_support as gs` (and the `Codec` and
//!   `FieldName` traits, unnamed).
//!
//! Decisions live here, in small per-record and per-field view structs holding ready-made
//! Rust snippets; the templates in `templates/rust/` only place them. The output is parsed
//! with syn and printed with prettyplease item by item ([`format`]), so it is deterministic
//! and formatted.

mod format;
mod layouts;

use super::{generated_header, EmitError, OutputFile};
use crate::ir::{self, Dim, Dtype, Literal, RecordKind, Ty};
use askama::Template;
use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The runtime crate, as generated code names it.
const RT: &str = "::schemac_runtime";
/// The generated-code support module.
const GS: &str = "::schemac_runtime::gen_support";

/// Where the generated code finds the modules of imported schemas: by default the sibling
/// module `super::<module>` (the importing file and the imported one `include!`d side by
/// side, as `include_schema!` and the build.rs [`crate::Builder`] lay them out); an entry
/// maps a module name to another path, e.g. `common` → `::other_crate::common` for types
/// generated in another crate (prost-build's `extern_path`).
pub type ExternPaths = BTreeMap<String, String>;

/// Renders `<module>.rs`.
pub fn emit(schema: &ir::Schema) -> Result<Vec<OutputFile>, EmitError> {
    emit_with(schema, &ExternPaths::new())
}

/// Renders `<module>.rs`, finding imported modules through `extern_paths`.
pub fn emit_with(
    schema: &ir::Schema,
    extern_paths: &ExternPaths,
) -> Result<Vec<OutputFile>, EmitError> {
    Ok(vec![OutputFile {
        path: PathBuf::from(format!("{}.rs", schema.module)),
        contents: render_with(schema, extern_paths)?,
    }])
}

/// The whole generated file, formatted, header first.
pub fn render(schema: &ir::Schema) -> Result<String, EmitError> {
    render_with(schema, &ExternPaths::new())
}

/// [`render`], finding imported modules through `extern_paths`.
pub fn render_with(schema: &ir::Schema, extern_paths: &ExternPaths) -> Result<String, EmitError> {
    let model = Model::build(schema)?;
    let mut body = ModuleTemplate { m: &model }
        .render()
        .map_err(|e| EmitError(format!("rust template: {e}")))?;
    body.push('\n');
    body.push_str(&layouts::render(schema));
    // After the version check, which stays the first item (`check_version` first).
    let uses = imported_uses(schema, extern_paths, &body)?;
    let body = match body.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{uses}{rest}"),
        None => uses + &body,
    };
    let formatted = format::format_items(&body).map_err(|e| {
        EmitError(format!(
            "internal error: the generated Rust for {} does not parse: {e}",
            schema.source
        ))
    })?;
    // The schema's module docs go in the header as plain comments: users `include!` this
    // file inside their own `mod`, where `//!` inner docs are a compile error (E0753).
    let mut docs = String::new();
    if !schema.docs.is_empty() {
        docs.push_str("//\n");
        for d in &schema.docs {
            docs.push_str(format!("// {d}").trim_end());
            docs.push('\n');
        }
    }
    Ok(format!(
        "// {}\n{docs}\n{}",
        generated_header(schema),
        space_items(&formatted)
    ))
}

/// `use <path>::{Pose, PoseRef};` for every module imported records and enums come from,
/// naming exactly the generated types of those records that `body` uses: they are
/// defined once, in their own schema's module, and referred to from here (an unused name
/// would be a warning, a missing one an error). Identifiers are read from the token
/// stream, so docs and string literals mentioning a type do not count.
fn imported_uses(
    schema: &ir::Schema,
    extern_paths: &ExternPaths,
    body: &str,
) -> Result<String, EmitError> {
    fn idents(tokens: proc_macro2::TokenStream, out: &mut std::collections::BTreeSet<String>) {
        for t in tokens {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
                _ => {}
            }
        }
    }
    let modules = schema.imported_modules();
    if modules.is_empty() {
        return Ok(String::new());
    }
    let tokens: proc_macro2::TokenStream = body.parse().map_err(|e| {
        EmitError(format!(
            "internal error: the generated Rust for {} does not tokenize: {e}",
            schema.source
        ))
    })?;
    let mut used = std::collections::BTreeSet::new();
    idents(tokens, &mut used);
    let mut out = String::new();
    for module in modules {
        let mut names: Vec<String> = Vec::new();
        for e in schema
            .enums
            .iter()
            .filter(|e| e.origin.as_deref() == Some(module))
        {
            names.push(type_ident(&e.name));
        }
        for r in schema
            .records
            .iter()
            .filter(|r| r.origin.as_deref() == Some(module))
        {
            let id = type_ident(&r.name);
            names.extend(
                crate::check::GENERATED_SUFFIXES
                    .iter()
                    .map(|s| format!("{id}{s}")),
            );
            names.push(id);
        }
        names.retain(|n| used.contains(n));
        names.sort();
        if names.is_empty() {
            continue;
        }
        let path = match extern_paths.get(module) {
            Some(p) => p.clone(),
            None => format!("super::{}", field_ident(module)),
        };
        out.push_str(&format!("use {path}::{{{}}};\n", names.join(", ")));
    }
    Ok(out)
}

/// A blank line between consecutive items at the top level and inside impls (prettyplease
/// prints none), for readability.
fn space_items(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev: Option<&str> = None;
    for line in text.lines() {
        if let Some(p) = prev {
            let indent = line.len() - line.trim_start().len();
            let p_indent = p.len() - p.trim_start().len();
            let p_trim = p.trim_start();
            let p_ends_item = !p_trim.starts_with("//")
                && (p_trim == "}" || p_trim == "};" || p_trim.ends_with(';'));
            // Consecutive one-line private consts and types (the codec table) stay together.
            let compact = |l: &str| l.starts_with("const ") || l.starts_with("type ");
            if (indent == 0 || indent == 4)
                && p_indent == indent
                && p_ends_item
                && !line.trim_start().starts_with('}')
                && !(indent == 4 && compact(p_trim) && compact(line.trim_start()))
            {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

#[derive(Template)]
#[template(path = "rust/module.rs", escape = "none")]
struct ModuleTemplate<'a> {
    m: &'a Model,
}

// ---------------------------------------------------------------------------------------
// View model
// ---------------------------------------------------------------------------------------

struct Model {
    version: String,
    has_records: bool,
    enums: Vec<EnumView>,
    records: Vec<RecordView>,
}

struct EnumView {
    ident: String,
    docs: Vec<String>,
    variants: Vec<VariantView>,
    count: usize,
}

struct VariantView {
    ident: String,
    /// The wire name as a Rust string literal.
    wire: String,
    docs: Vec<String>,
    index: u32,
    is_default: bool,
}

struct RecordView {
    ident: String,
    ref_ident: String,
    /// The schema name as a string literal.
    name_lit: String,
    docs: Vec<String>,
    fingerprint_lit: String,
    /// Attributes put on every item of this record (`#[allow(non_snake_case)]` when a
    /// field name is not snake case).
    allow: String,
    fields: Vec<FieldView>,
    /// The wire names as string literals, comma-separated (`Record::FIELDS`).
    field_names: String,
    /// The view type has no borrowed field and needs a `PhantomData` marker.
    ref_marker: bool,
    shape_consts: Vec<ShapeConst>,
    /// Samples (not components) get the WebDataset helpers.
    is_sample: bool,
}

struct ShapeConst {
    doc: String,
    name: String,
    value: String,
}

struct FieldView {
    /// Wire name as a string literal.
    wire: String,
    /// `@alias` keys as string literals: readers take them for this field.
    aliases: Vec<String>,
    ident: String,
    local: String,
    docs: Vec<String>,
    ty: String,
    ref_ty: String,
    default: String,
    /// The field's codec constant (`IMAGE_CODEC`), its type and value.
    codec: String,
    codec_ty: String,
    codec_value: String,
    /// The field's value from its read slot (default, `None` or `MissingField`).
    finish: String,
    ref_finish: String,
    accessors: String,
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
    "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn",
    "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
    "virtual", "yield", "try", "gen",
];

/// Names that cannot be raw identifiers.
const UNRAWABLE: &[&str] = &["self", "Self", "super", "crate", "_"];

/// A field name as a Rust identifier.
fn field_ident(name: &str) -> String {
    if UNRAWABLE.contains(&name) {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// A type or variant name as a Rust identifier.
fn type_ident(name: &str) -> String {
    let camel = name.to_upper_camel_case();
    let camel = if camel.is_empty() || camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("T{camel}")
    } else {
        camel
    };
    if UNRAWABLE.contains(&camel.as_str()) {
        format!("{camel}_")
    } else {
        camel
    }
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// `#[doc = "..."]` lines for schema docs (each line gets the leading space `///` has).
fn doc_attrs(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| doc_line(l)).collect()
}

fn doc_line(text: &str) -> String {
    if text.is_empty() {
        "#[doc = \"\"]".to_string()
    } else {
        format!("#[doc = {}]", lit(&format!(" {text}")))
    }
}

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

fn prim(d: Dtype) -> String {
    match d {
        Dtype::F16 => format!("{RT}::half::f16"),
        Dtype::Bf16 => format!("{RT}::half::bf16"),
        d => d.name().to_string(),
    }
}

/// `&[DimSpec::Fixed(3), DimSpec::Named("H")]`.
fn spec_lit(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => format!("gs::Fixed({n})"),
            Dim::Named(n) => format!("gs::Named({})", lit(n)),
            Dim::Dynamic => "gs::Any".to_string(),
        })
        .collect();
    format!("&[{}]", parts.join(", "))
}

/// A shape with named and dynamic dims as 0 (what `Default` uses).
fn default_shape(shape: &[Dim]) -> Vec<u64> {
    shape.iter().map(|d| d.fixed().unwrap_or(0)).collect()
}

fn shape_text(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    parts.join(", ")
}

fn fixed_count(shape: &[Dim]) -> Option<u64> {
    shape.iter().map(Dim::fixed).product()
}

/// A float as a Rust literal of type `d`.
fn float_lit(v: f64, d: Dtype) -> String {
    match d {
        Dtype::F16 => format!(
            "{RT}::half::f16::from_bits({:#06x})",
            schemac_runtime::array::f16_from_f64(v).to_bits()
        ),
        Dtype::Bf16 => format!(
            "{RT}::half::bf16::from_bits({:#06x})",
            schemac_runtime::half::bf16::from_f64(v).to_bits()
        ),
        Dtype::F32 => f32_lit(v as f32),
        _ => f64_lit(v),
    }
}

fn f64_lit(v: f64) -> String {
    rust_float_lit("f64", format!("{v:?}"))
}

fn f32_lit(v: f32) -> String {
    rust_float_lit("f32", format!("{v:?}"))
}

/// A Rust float literal of type `ty` from its `Debug` text (`NaN`, `inf`, `-inf` become the
/// associated constants; integral values get a `.0`).
fn rust_float_lit(ty: &str, debug: String) -> String {
    match debug.as_str() {
        "NaN" => format!("{ty}::NAN"),
        "inf" => format!("{ty}::INFINITY"),
        "-inf" => format!("{ty}::NEG_INFINITY"),
        s if s.contains(['.', 'e', 'E']) => debug,
        _ => format!("{debug}.0"),
    }
}

/// A numeric literal of dtype `d`.
fn scalar_lit(l: &Literal, d: Dtype) -> String {
    match (l, d) {
        (Literal::Bool(b), _) => b.to_string(),
        (Literal::Int(i), d) if d.is_float() => float_lit(*i as f64, d),
        (Literal::UInt(u), d) if d.is_float() => float_lit(*u as f64, d),
        (Literal::Float(f), d) => float_lit(*f, d),
        (Literal::Int(i), _) => i.to_string(),
        (Literal::UInt(u), _) => u.to_string(),
        (other, d) => zero_lit(d).unwrap_or_else(|| format!("/* {other:?} */")),
    }
}

fn zero_lit(d: Dtype) -> Option<String> {
    Some(match d {
        Dtype::Bool => "false".into(),
        d if d.is_float() => float_lit(0.0, d),
        _ => "0".into(),
    })
}

/// The stored `bits`-wide code of a default literal.
fn literal_code(l: Option<&Literal>, bits: u32) -> u64 {
    let raw: i128 = match l {
        Some(Literal::Bool(b)) => i128::from(*b),
        Some(Literal::Int(i)) => i128::from(*i),
        Some(Literal::UInt(u)) => i128::from(*u),
        _ => 0,
    };
    (raw as u64) & ((1u64 << bits) - 1)
}

/// `n` copies of a code packed LSB-first into `bytes` bytes (DESIGN §5 bit order).
fn packed_default(code: u64, n: u64, bits: u32, bytes: u64) -> Vec<u8> {
    let mut out = vec![0u8; bytes as usize];
    for k in 0..n {
        for b in 0..u64::from(bits) {
            if code >> b & 1 == 1 {
                let p = k * u64::from(bits) + b;
                out[(p >> 3) as usize] |= 1 << (p & 7);
            }
        }
    }
    out
}

fn byte_array_lit(bytes: &[u8]) -> String {
    if bytes.iter().all(|&b| b == 0) {
        return format!("[0u8; {}]", bytes.len());
    }
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:#04x}")).collect();
    format!("[{}]", parts.join(", "))
}

/// `@bits` / `@range` of a field, which apply to its scalar or array (through `?`).
#[derive(Clone, Copy, Default)]
struct Attrs {
    bits: Option<u32>,
    range: Option<ir::Range>,
}

impl Attrs {
    /// The const-builder calls a codec value gets: `.bits(3)`, `.range(0.0, 1.0)`.
    fn builders(&self, with_bits: bool) -> String {
        let mut s = String::new();
        if with_bits {
            if let Some(b) = self.bits {
                s.push_str(&format!(".bits({b})"));
            }
        }
        if let Some(r) = self.range {
            s.push_str(&format!(".range({}, {})", f64_lit(r.lo), f64_lit(r.hi)));
        }
        s
    }
}

/// The `@packed` storage of a field: element dtype, shape (empty for a scalar), bits and
/// byte count.
#[derive(Clone)]
struct Packed {
    dtype: Dtype,
    shape: Vec<Dim>,
    bits: u32,
    bytes: u64,
}

impl Packed {
    fn of(f: &ir::Field) -> Option<Packed> {
        let bytes = f.packed_bytes?;
        let bits = f.bits?;
        match &f.ty {
            Ty::Scalar { dtype } => Some(Packed {
                dtype: *dtype,
                shape: Vec::new(),
                bits,
                bytes,
            }),
            Ty::Array { dtype, shape } => Some(Packed {
                dtype: *dtype,
                shape: shape.clone(),
                bits,
                bytes,
            }),
            _ => None,
        }
    }

    fn is_scalar(&self) -> bool {
        self.shape.is_empty()
    }

    fn count(&self) -> u64 {
        fixed_count(&self.shape).unwrap_or(0)
    }

    fn t(&self) -> String {
        prim(self.dtype)
    }

    fn shape_usize(&self) -> String {
        let parts: Vec<String> = self
            .shape
            .iter()
            .map(|d| d.fixed().unwrap_or(0).to_string())
            .collect();
        format!("&[{}]", parts.join(", "))
    }
}

/// Generation context: the schema's type names.
struct Gen<'s> {
    schema: &'s ir::Schema,
    names: BTreeMap<String, String>,
}

impl<'s> Gen<'s> {
    fn ident(&self, schema_name: &str) -> String {
        self.names
            .get(schema_name)
            .cloned()
            .unwrap_or_else(|| type_ident(schema_name))
    }

    fn ref_ident(&self, schema_name: &str) -> String {
        format!("{}Ref", self.ident(schema_name))
    }

    // -- types ----------------------------------------------------------------------------

    fn owned_ty(&self, ty: &Ty) -> String {
        match ty {
            Ty::Scalar { dtype } => prim(*dtype),
            Ty::Str => "String".into(),
            Ty::Bytes => "Vec<u8>".into(),
            Ty::Array { dtype, .. } => format!("{RT}::array::NdArray<{}>", prim(*dtype)),
            Ty::Enum { name } => self.ident(name),
            Ty::Record { name, shape } if shape.is_empty() => self.ident(name),
            Ty::Record { name, .. } => format!("Vec<{}>", self.ident(name)),
            Ty::List { item } => format!("Vec<{}>", self.owned_ty(item)),
            Ty::Map { value } => format!(
                "::std::collections::BTreeMap<String, {}>",
                self.owned_ty(value)
            ),
        }
    }

    fn ref_ty(&self, ty: &Ty) -> String {
        match ty {
            Ty::Scalar { dtype } => prim(*dtype),
            Ty::Str => "&'a str".into(),
            Ty::Bytes => "&'a [u8]".into(),
            Ty::Array { dtype, .. } => format!("{RT}::array::ArrayView<'a, {}>", prim(*dtype)),
            Ty::Enum { name } => self.ident(name),
            Ty::Record { name, shape } if shape.is_empty() => {
                format!("{}<'a>", self.ref_ident(name))
            }
            Ty::Record { name, .. } => format!("Vec<{}<'a>>", self.ref_ident(name)),
            Ty::List { item } => format!("Vec<{}>", self.ref_ty(item)),
            Ty::Map { value } => format!(
                "::std::collections::BTreeMap<&'a str, {}>",
                self.ref_ty(value)
            ),
        }
    }

    // -- defaults -------------------------------------------------------------------------

    /// The default of a non-optional, unpacked value: (expression, cheap constant).
    fn default_of(&self, ty: &Ty, default: Option<&Literal>) -> (String, bool) {
        match ty {
            Ty::Scalar { dtype } => match default {
                Some(l) => (scalar_lit(l, *dtype), true),
                None => (zero_lit(*dtype).unwrap_or_default(), true),
            },
            Ty::Str => match default {
                Some(Literal::Str(s)) => (format!("String::from({})", lit(s)), false),
                _ => ("String::new()".into(), false),
            },
            Ty::Bytes => match default {
                Some(Literal::Str(s)) if !s.is_empty() => {
                    (format!("{}.to_vec()", byte_str_lit(s.as_bytes())), false)
                }
                _ => ("Vec::new()".into(), false),
            },
            Ty::Array { dtype, shape } => {
                let dims: Vec<String> = default_shape(shape).iter().map(u64::to_string).collect();
                let shape = format!("vec![{}]", dims.join(", "));
                let t = prim(*dtype);
                match default {
                    Some(l) => (
                        format!(
                            "{RT}::array::NdArray::<{t}>::filled({shape}, {})",
                            scalar_lit(l, *dtype)
                        ),
                        false,
                    ),
                    None => (
                        format!("{RT}::array::NdArray::<{t}>::zeros({shape})"),
                        false,
                    ),
                }
            }
            Ty::Enum { name } => {
                let e = self.schema.enum_def(name);
                let variant = match (default, e) {
                    (Some(Literal::Variant(v)), _) => v.clone(),
                    (_, Some(e)) => e
                        .variants
                        .first()
                        .map(|v| v.name.clone())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                (
                    format!("{}::{}", self.ident(name), type_ident(&variant)),
                    true,
                )
            }
            Ty::Record { name, shape } if shape.is_empty() => {
                (format!("{}::default()", self.ident(name)), false)
            }
            Ty::Record { name, shape } => match fixed_count(shape) {
                Some(n) if n > 0 => (format!("vec![{}::default(); {n}]", self.ident(name)), false),
                _ => ("Vec::new()".into(), false),
            },
            Ty::List { .. } => ("Vec::new()".into(), false),
            Ty::Map { .. } => ("::std::collections::BTreeMap::new()".into(), false),
        }
    }

    /// The default of a field, as stored: (expression, cheap constant).
    fn field_default(&self, f: &ir::Field) -> (String, bool) {
        if let Some(p) = Packed::of(f) {
            let bytes = packed_default(
                literal_code(f.default.as_ref(), p.bits),
                if p.is_scalar() { 1 } else { p.count() },
                p.bits,
                p.bytes,
            );
            let e = byte_array_lit(&bytes);
            return if f.optional {
                match f.default {
                    Some(_) => (format!("Some({e})"), true),
                    None => ("None".into(), true),
                }
            } else {
                (e, true)
            };
        }
        if f.optional {
            return match &f.default {
                Some(l) => {
                    let (e, c) = self.default_of(&f.ty, Some(l));
                    (format!("Some({e})"), c)
                }
                None => ("None".into(), true),
            };
        }
        self.default_of(&f.ty, f.default.as_ref())
    }

    /// The default of a field in the view type, for a key missing from the input:
    /// `None` when the field is required.
    fn ref_field_default(&self, f: &ir::Field) -> Option<String> {
        if f.optional && f.default.is_none() {
            return Some("None".into());
        }
        let l = f.default.as_ref()?;
        let base = match &f.ty {
            Ty::Scalar { dtype } => scalar_lit(l, *dtype),
            Ty::Enum { .. } => self.default_of(&f.ty, Some(l)).0,
            Ty::Str => match l {
                Literal::Str(s) => lit(s),
                _ => "\"\"".into(),
            },
            Ty::Bytes => match l {
                Literal::Str(s) => format!("&{}[..]", byte_str_lit(s.as_bytes())),
                _ => "&[]".into(),
            },
            Ty::Array { dtype, .. } => {
                let (owned, _) = self.default_of(&f.ty, Some(l));
                format!(
                    "{{ static DEFAULT: ::std::sync::OnceLock<{RT}::array::NdArray<{t}>> = \
                     ::std::sync::OnceLock::new(); DEFAULT.get_or_init(|| {owned}).view() }}",
                    t = prim(*dtype)
                )
            }
            _ => return None,
        };
        Some(if f.optional {
            format!("Some({base})")
        } else {
            base
        })
    }

    // -- codecs ---------------------------------------------------------------------------

    /// The codec of a value of type `ty`: (its type, its const value). `spec` names the
    /// field's shape constant for arrays and component arrays at field level.
    fn codec(&self, ty: &Ty, attrs: Attrs, spec: Option<&str>) -> (String, String) {
        let spec_of = |shape: &[Dim]| spec.map(str::to_string).unwrap_or_else(|| spec_lit(shape));
        match ty {
            Ty::Scalar { dtype } => (
                format!("gs::Num<{}>", prim(*dtype)),
                format!("gs::Num::PLAIN{}", attrs.builders(true)),
            ),
            Ty::Str => ("gs::Str".into(), "gs::Str".into()),
            Ty::Bytes => ("gs::Bin".into(), "gs::Bin".into()),
            Ty::Array { dtype, shape } => (
                format!("gs::Arr<{}>", prim(*dtype)),
                format!("gs::Arr::new({}){}", spec_of(shape), attrs.builders(true)),
            ),
            Ty::Enum { name } => (
                format!("gs::Enum<{}>", self.ident(name)),
                "gs::Enum::NEW".into(),
            ),
            Ty::Record { name, shape } if shape.is_empty() => (
                format!("gs::Rec<{}>", self.ident(name)),
                "gs::Rec::NEW".into(),
            ),
            Ty::Record { name, shape } => (
                format!("gs::Recs<{}>", self.ident(name)),
                format!("gs::Recs::new({})", spec_of(shape)),
            ),
            Ty::List { item } => {
                let (t, v) = self.codec(item, Attrs::default(), None);
                (format!("gs::List<{t}>"), format!("gs::List({v})"))
            }
            Ty::Map { value } => {
                let (t, v) = self.codec(value, Attrs::default(), None);
                (format!("gs::Map<{t}>"), format!("gs::Map({v})"))
            }
        }
    }

    /// The codec of a field (packed storage and `?` included).
    fn field_codec(&self, f: &ir::Field) -> (String, String) {
        let attrs = Attrs {
            bits: f.bits,
            range: f.range,
        };
        let spec = format!("Self::{}", shape_const_name(&f.name));
        let (t, v) = match Packed::of(f) {
            Some(pk) if pk.is_scalar() => (
                format!("gs::PackedNum<{}, {}>", pk.t(), pk.bytes),
                format!("gs::PackedNum::new({}){}", pk.bits, attrs.builders(false)),
            ),
            Some(pk) => (
                format!("gs::PackedArr<{}, {}>", pk.t(), pk.bytes),
                format!(
                    "gs::PackedArr::new({spec}, {}, {}){}",
                    pk.shape_usize(),
                    pk.bits,
                    attrs.builders(false)
                ),
            ),
            None => {
                let spec = has_shape_const(&f.ty).then_some(spec.as_str());
                self.codec(&f.ty, attrs, spec)
            }
        };
        if f.optional {
            (format!("gs::Opt<{t}>"), format!("gs::Opt({v})"))
        } else {
            (t, v)
        }
    }

    // -- views ----------------------------------------------------------------------------

    fn accessors(&self, f: &ir::Field, rec: &str, allow: &str) -> String {
        let Some(pk) = Packed::of(f) else {
            return String::new();
        };
        let base = accessor_base(&f.name);
        let ident = field_ident(&f.name);
        let t = pk.t();
        let (bits, bytes) = (pk.bits, pk.bytes);
        let what = if pk.is_scalar() {
            format!("`{}`", pk.dtype.name())
        } else {
            format!("`{}[{}]`", pk.dtype.name(), shape_text(&pk.shape))
        };
        let get_doc = doc_line(&format!(
            "`{}` unpacked: {what}, stored as {bytes} bytes of {bits}-bit values.",
            f.name
        ));
        let set_doc = doc_line(&format!(
            "Packs `value` into `{}`; an error if a value does not fit in {bits} bits{}.",
            f.name,
            if pk.is_scalar() {
                ""
            } else {
                " or the shape differs"
            }
        ));
        let (get_ty, get_body, set_ty, set_body) = match (pk.is_scalar(), f.optional) {
            (true, false) => (
                t.clone(),
                format!("{GS}::unpack_scalar::<{t}>(&self.{ident}, {bits})"),
                t.clone(),
                format!("self.{ident} = {GS}::pack_scalar::<{t}, {bytes}>(value, {bits})?;"),
            ),
            (true, true) => (
                format!("Option<{t}>"),
                format!("self.{ident}.as_ref().map(|v| {GS}::unpack_scalar::<{t}>(v, {bits}))"),
                format!("Option<{t}>"),
                format!(
                    "self.{ident} = value.map(|v| {GS}::pack_scalar::<{t}, {bytes}>(v, {bits})).transpose()?;"
                ),
            ),
            (false, false) => (
                format!("{RT}::array::NdArray<{t}>"),
                format!("{GS}::unpack_array::<{t}>(&self.{ident}, {}, {bits})", pk.shape_usize()),
                format!("&{RT}::array::NdArray<{t}>"),
                format!(
                    "self.{ident} = {GS}::pack_array::<{t}, {bytes}>(value, {rec}::{}, {bits})?;",
                    shape_const_name(&f.name)
                ),
            ),
            (false, true) => (
                format!("Option<{RT}::array::NdArray<{t}>>"),
                format!(
                    "self.{ident}.as_ref().map(|v| {GS}::unpack_array::<{t}>(v, {}, {bits}))",
                    pk.shape_usize()
                ),
                format!("Option<&{RT}::array::NdArray<{t}>>"),
                format!(
                    "self.{ident} = value.map(|v| {GS}::pack_array::<{t}, {bytes}>(v, {rec}::{}, {bits})).transpose()?;",
                    shape_const_name(&f.name)
                ),
            ),
        };
        format!(
            "{get_doc} {allow} pub fn {base}_unpacked(&self) -> {get_ty} {{ {get_body} }}\n\
             {set_doc} {allow} pub fn set_{base}_unpacked(&mut self, value: {set_ty}) -> ::core::result::Result<(), {RT}::error::Error> {{ {set_body} Ok(()) }}\n"
        )
    }

    // -- records --------------------------------------------------------------------------

    fn record(&self, r: &ir::Record) -> Result<RecordView, EmitError> {
        let ident = self.ident(&r.name);
        let non_snake = r.fields.iter().any(|f| f.name.to_snake_case() != f.name);
        let allow = if non_snake {
            "#[allow(non_snake_case)]".to_string()
        } else {
            String::new()
        };
        let mut fields = Vec::new();
        let mut shape_consts = Vec::new();
        for f in &r.fields {
            let fident = field_ident(&f.name);
            let local = local_name(&f.name);
            let pk = Packed::of(f);
            // Types.
            let mut ty = match &pk {
                Some(p) => format!("[u8; {}]", p.bytes),
                None => self.owned_ty(&f.ty),
            };
            let mut ref_ty = match &pk {
                Some(p) if p.is_scalar() => p.t(),
                Some(p) => format!("{RT}::array::ArrayView<'a, {}>", p.t()),
                None => self.ref_ty(&f.ty),
            };
            if f.optional {
                ty = format!("Option<{ty}>");
                ref_ty = format!("Option<{ref_ty}>");
            }
            // Docs.
            let mut docs = doc_attrs(&f.docs);
            let extra = field_note(self, f);
            if !extra.is_empty() {
                if !docs.is_empty() {
                    docs.push(doc_line(""));
                }
                docs.push(doc_line(&extra));
            }
            // Shape constant.
            if let Some(shape) = field_shape(&f.ty) {
                shape_consts.push(ShapeConst {
                    doc: doc_line(&format!("Schema shape of `{}`.", f.name)),
                    name: shape_const_name(&f.name),
                    value: spec_lit(shape),
                });
            }
            // Defaults and missing keys.
            let (default, cheap) = self.field_default(f);
            let wire = lit(&f.name);
            let finish = if f.optional && f.default.is_none() {
                format!("{local}.flatten()")
            } else if f.default.is_none() {
                format!("s.required({local}, {wire})?")
            } else if cheap {
                format!("{local}.unwrap_or({default})")
            } else {
                format!("{local}.unwrap_or_else(|| {default})")
            };
            let ref_finish = if f.optional && f.default.is_none() {
                format!("{local}.flatten()")
            } else {
                match self.ref_field_default(f) {
                    Some(d) if is_cheap_ref_default(f) => format!("{local}.unwrap_or({d})"),
                    Some(d) => format!("{local}.unwrap_or_else(|| {d})"),
                    None => format!("s.required({local}, {wire})?"),
                }
            };
            let (codec_ty, codec_value) = self.field_codec(f);
            let accessors = self.accessors(f, &ident, &allow);
            fields.push(FieldView {
                wire,
                aliases: f.aliases.iter().map(|a| lit(a)).collect(),
                ident: fident,
                local,
                docs,
                ty,
                ref_ty,
                default,
                codec: codec_const_name(&f.name),
                codec_ty,
                codec_value,
                finish,
                ref_finish,
                accessors,
            });
        }
        let ref_marker = !fields.iter().any(|f| f.ref_ty.contains("'a"));
        let mut docs = doc_attrs(&r.docs);
        if !docs.is_empty() {
            docs.push(doc_line(""));
        }
        docs.push(doc_line(&format!(
            "Schema {} `{}`; on the wire a MessagePack map keyed by field name, in declaration order.",
            match r.kind {
                RecordKind::Sample => "sample",
                RecordKind::Component => "component",
            },
            r.name
        )));
        Ok(RecordView {
            ref_ident: self.ref_ident(&r.name),
            ident,
            name_lit: lit(&r.name),
            docs,
            fingerprint_lit: lit(&r.fingerprint),
            allow,
            field_names: fields
                .iter()
                .map(|f| f.wire.clone())
                .collect::<Vec<_>>()
                .join(", "),
            fields,
            ref_marker,
            shape_consts,
            is_sample: r.kind == RecordKind::Sample,
        })
    }
}

/// The view default of a field can be computed eagerly (no allocation, no static).
fn is_cheap_ref_default(f: &ir::Field) -> bool {
    matches!(
        f.ty,
        Ty::Scalar { .. } | Ty::Enum { .. } | Ty::Str | Ty::Bytes
    )
}

/// `b"..."` for bytes.
fn byte_str_lit(b: &[u8]) -> String {
    let mut s = String::from("b\"");
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// The name accessor methods are built from (`type` for `r#type`).
fn accessor_base(name: &str) -> String {
    if UNRAWABLE.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

fn local_name(name: &str) -> String {
    format!("f_{name}")
}

fn codec_const_name(name: &str) -> String {
    format!("{}_CODEC", name.to_shouty_snake_case())
}

fn shape_const_name(name: &str) -> String {
    format!("{}_SHAPE", name.to_shouty_snake_case())
}

/// The field's own shape when it gets a `<FIELD>_SHAPE` constant.
fn field_shape(ty: &Ty) -> Option<&[Dim]> {
    match ty {
        Ty::Array { shape, .. } => Some(shape),
        Ty::Record { shape, .. } if !shape.is_empty() => Some(shape),
        _ => None,
    }
}

fn has_shape_const(ty: &Ty) -> bool {
    field_shape(ty).is_some()
}

/// A doc line describing how a field is held, where that is not obvious from its type.
fn field_note(g: &Gen<'_>, f: &ir::Field) -> String {
    let opt = if f.optional { " (optional)" } else { "" };
    let mut note = match &f.ty {
        Ty::Array { dtype, shape } => format!("`{}[{}]`{opt}", dtype.name(), shape_text(shape)),
        Ty::Scalar { dtype } if f.packed_bytes.is_some() => format!("`{}`{opt}", dtype.name()),
        Ty::Record { name, shape } if !shape.is_empty() => format!(
            "`{name}[{}]`{opt}: a flat `Vec<{}>` in C order; on the wire nested arrays following the shape, outermost dim first.",
            shape_text(shape),
            g.ident(name)
        ),
        Ty::Map { .. } => "Written in sorted key order.".to_string(),
        _ => String::new(),
    };
    if let Some(b) = f.bits {
        if !note.is_empty() {
            note.push_str(&format!(", `@bits({b})`"));
        }
    }
    if let Some(r) = f.range {
        if !note.is_empty() {
            note.push_str(&format!(", `@range({}, {})`", r.lo, r.hi));
        } else {
            note = format!("`@range({}, {})`", r.lo, r.hi);
        }
    }
    if let Some(bytes) = f.packed_bytes {
        note.push_str(&format!(
            "; stored packed in {bytes} bytes (see `{0}_unpacked` / `set_{0}_unpacked`), the ordinary array on the wire",
            accessor_base(&f.name)
        ));
        if matches!(f.ty, Ty::Scalar { .. }) {
            note = note.replace("the ordinary array", "the ordinary scalar");
        }
        note.push('.');
    }
    note
}

impl Model {
    fn build(schema: &ir::Schema) -> Result<Model, EmitError> {
        let mut names = BTreeMap::new();
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        let mut claim = |rust: String, what: String| -> Result<(), EmitError> {
            if crate::reserved::RUST_TYPES.contains(&rust.as_str()) {
                return Err(EmitError(format!(
                    "{what} would be the Rust type `{rust}`, which shadows a name generated code uses; rename it"
                )));
            }
            if let Some(other) = taken.insert(rust.clone(), what.clone()) {
                return Err(EmitError(format!(
                    "{what} and {other} would both be the Rust type `{rust}`; rename one"
                )));
            }
            Ok(())
        };
        for e in &schema.enums {
            let id = type_ident(&e.name);
            claim(id.clone(), format!("enum `{}`", e.name))?;
            names.insert(e.name.clone(), id);
        }
        for r in &schema.records {
            let id = type_ident(&r.name);
            claim(id.clone(), format!("record `{}`", r.name))?;
            claim(
                format!("{id}Ref"),
                format!("the view of record `{}`", r.name),
            )?;
            names.insert(r.name.clone(), id);
        }
        let g = Gen { schema, names };
        let mut enums = Vec::new();
        for e in schema.own_enums() {
            let mut seen = BTreeMap::new();
            let mut variants = Vec::new();
            for (i, v) in e.variants.iter().enumerate() {
                let id = type_ident(&v.name);
                if let Some(other) = seen.insert(id.clone(), v.name.clone()) {
                    return Err(EmitError(format!(
                        "enum `{}`: variants `{other}` and `{}` would both be `{id}` in Rust; rename one",
                        e.name, v.name
                    )));
                }
                variants.push(VariantView {
                    ident: id,
                    wire: lit(&v.name),
                    docs: doc_attrs(&v.docs),
                    index: v.index,
                    is_default: i == 0,
                });
            }
            let mut docs = doc_attrs(&e.docs);
            if !docs.is_empty() {
                docs.push(doc_line(""));
            }
            docs.push(doc_line(
                "On the wire (MessagePack and JSON): the variant's name as a string.",
            ));
            enums.push(EnumView {
                ident: g.ident(&e.name),
                docs,
                count: variants.len(),
                variants,
            });
        }
        // Imported records and enums are generated in their own schema's module and used
        // from there (see `imported_uses`).
        let records = schema
            .own_records()
            .map(|r| g.record(r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Model {
            version: crate::VERSION.to_string(),
            has_records: !records.is_empty(),
            enums,
            records,
        })
    }
}

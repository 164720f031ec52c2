//! Rust target: one file `<module>.rs` per schema with a struct per record the schema
//! declares (samples and components; imported ones are `use`d from their own schema's
//! module, `super::common` unless [`ExternPaths`] says otherwise), an enum per enum, their
//! MessagePack codecs (atdata-compatible bytes), serde `Serialize`/`Deserialize` (the JSON
//! form of DESIGN §4), `validate()`, `random()`, a zero-copy view `<Name>Ref<'a>`, and what
//! [`layouts`] adds (batches and packed forms).
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
//!   &[DimSpec]` per array, component-array and `@packed` field, `to_msgpack`,
//!   `write_msgpack`, `from_msgpack`, `msgpack_size_hint`, `validate`, `random`, `to_json`,
//!   `from_json`; the trait `schemac_runtime::gen_support::Record` carries the nested
//!   building blocks.
//!
//! Decisions live here, in small per-record and per-field view structs holding ready-made
//! Rust snippets; the templates in `templates/rust/` only place them. The output is parsed
//! with syn and printed with prettyplease, so it is deterministic and formatted.

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
    let file = syn::parse_file(&body).map_err(|e| {
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
        space_items(&prettyplease::unparse(&file))
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
            if (indent == 0 || indent == 4)
                && p_indent == indent
                && p_ends_item
                && !line.trim_start().starts_with('}')
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
    field_count: usize,
    /// Parameter names in the trait methods (`_dims` when unused, and so on).
    read_dims: &'static str,
    ref_read_dims: &'static str,
    check_dims: &'static str,
    check_full: &'static str,
    random_rng: &'static str,
    random_dims: &'static str,
    /// The view type has no borrowed field and needs a `PhantomData` marker.
    ref_marker: bool,
    /// Constant part of `msgpack_size_hint`.
    hint_base: u64,
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
    ident: String,
    local: String,
    docs: Vec<String>,
    ty: String,
    ref_ty: String,
    default: String,
    read: String,
    ref_read: String,
    finish: String,
    ref_finish: String,
    write: String,
    hint: Option<String>,
    check: String,
    random: String,
    ser: String,
    de: String,
    json_finish: String,
    to_owned: String,
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

fn is_half(d: Dtype) -> bool {
    matches!(d, Dtype::F16 | Dtype::Bf16)
}

/// `&[DimSpec::Fixed(3), DimSpec::Named("H")]`.
fn spec_lit(shape: &[Dim]) -> String {
    let parts: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => format!("{RT}::array::DimSpec::Fixed({n})"),
            Dim::Named(n) => format!("{RT}::array::DimSpec::Named({})", lit(n)),
            Dim::Dynamic => format!("{RT}::array::DimSpec::Any"),
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
            schemac_runtime::half::f16::from_f64(v).to_bits()
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

/// What generation needs to know about the parameters a method body used.
#[derive(Default)]
struct Uses {
    dims: bool,
    full: bool,
}

/// A value the generated code reaches either as a place (`self.x`) or through a reference
/// variable (`v0`, from a loop or closure).
#[derive(Clone)]
struct Place {
    expr: String,
    is_ref: bool,
}

impl Place {
    fn field(ident: &str) -> Place {
        Place {
            expr: format!("self.{ident}"),
            is_ref: false,
        }
    }

    fn var(name: String) -> Place {
        Place {
            expr: name,
            is_ref: true,
        }
    }

    /// `&T`.
    fn r(&self) -> String {
        if self.is_ref {
            self.expr.clone()
        } else {
            format!("&{}", self.expr)
        }
    }

    /// `T` for Copy values.
    fn v(&self) -> String {
        if self.is_ref {
            format!("*{}", self.expr)
        } else {
            self.expr.clone()
        }
    }

    /// A method-call receiver (auto-ref and auto-deref apply).
    fn m(&self) -> &str {
        &self.expr
    }
}

/// `@bits` / `@range` of a field, which apply to its scalar or array (through `?`).
#[derive(Clone, Copy, Default)]
struct Attrs {
    bits: Option<u32>,
    range: Option<ir::Range>,
}

impl Attrs {
    fn bits_lit(&self) -> String {
        match self.bits {
            Some(b) => format!("Some({b})"),
            None => "None".into(),
        }
    }

    fn range_lit(&self) -> String {
        match self.range {
            Some(r) => format!("Some(({}, {}))", f64_lit(r.lo), f64_lit(r.hi)),
            None => "None".into(),
        }
    }
}

/// Where a check runs: the field's `@bits`/`@range` (through `?` only), the dim table
/// expression, the field's shape constant (at field level), the path segments appended to
/// each `Result` before `?` (innermost first), and the nesting depth (for variable names).
#[derive(Clone, Copy)]
struct CheckCx<'a> {
    attrs: Attrs,
    dims: &'a str,
    spec: Option<&'a str>,
    wrap: &'a str,
    depth: usize,
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

    fn is_copy(ty: &Ty) -> bool {
        matches!(ty, Ty::Scalar { .. } | Ty::Enum { .. })
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

    // -- msgpack --------------------------------------------------------------------------

    fn write_stmts(&self, ty: &Ty, p: &Place, depth: usize) -> String {
        match ty {
            Ty::Scalar { .. } => format!("w.scalar({});", p.v()),
            Ty::Str => format!("w.str({});", p.r()),
            Ty::Bytes => format!("w.bin({});", p.r()),
            Ty::Array { .. } => format!("w.array({});", p.r()),
            Ty::Enum { .. } => format!("w.str({}.as_str());", p.m()),
            Ty::Record { shape, .. } if shape.is_empty() => format!("{}.write_msgpack(w);", p.m()),
            Ty::Record { shape, .. } => format!(
                "{GS}::write_records(w, {}, &[{}]);",
                p.r(),
                shape[1..]
                    .iter()
                    .map(|d| d.fixed().unwrap_or(0).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ty::List { item } => {
                let v = format!("v{depth}");
                format!(
                    "w.array_header({}.len()); for {v} in {} {{ {} }}",
                    p.m(),
                    p.r(),
                    self.write_stmts(item, &Place::var(v.clone()), depth + 1)
                )
            }
            Ty::Map { value } => {
                let (k, v) = (format!("k{depth}"), format!("v{depth}"));
                format!(
                    "w.map_header({}.len()); for ({k}, {v}) in {} {{ w.str({k}); {} }}",
                    p.m(),
                    p.r(),
                    self.write_stmts(value, &Place::var(v.clone()), depth + 1)
                )
            }
        }
    }

    fn write_field(&self, f: &ir::Field) -> String {
        let p = Place::field(&field_ident(&f.name));
        if let Some(pk) = Packed::of(f) {
            let one = |p: &Place| {
                if pk.is_scalar() {
                    format!(
                        "w.scalar({GS}::unpack_scalar::<{}>({}, {}));",
                        pk.t(),
                        p.r(),
                        pk.bits
                    )
                } else {
                    format!(
                        "{GS}::write_packed::<{}>(w, {}, {}, {});",
                        pk.t(),
                        pk.shape_usize(),
                        p.r(),
                        pk.bits
                    )
                }
            };
            return if f.optional {
                format!(
                    "match {} {{ Some(v0) => {{ {} }} None => w.nil(), }}",
                    p.r(),
                    one(&Place::var("v0".into()))
                )
            } else {
                one(&p)
            };
        }
        if f.optional {
            format!(
                "match {} {{ Some(v0) => {{ {} }} None => w.nil(), }}",
                p.r(),
                self.write_stmts(&f.ty, &Place::var("v0".into()), 1)
            )
        } else {
            self.write_stmts(&f.ty, &p, 0)
        }
    }

    /// A `Result<T>` expression reading one value from `r`. `spec` names the field's shape
    /// constant for arrays and component arrays at field level.
    fn read_expr(
        &self,
        ty: &Ty,
        borrowed: bool,
        dims: &str,
        spec: Option<&str>,
        uses: &mut Uses,
    ) -> String {
        let fresh = format!("&mut {RT}::array::DimTable::new()");
        let spec_of = |shape: &[Dim]| spec.map(str::to_string).unwrap_or_else(|| spec_lit(shape));
        match ty {
            Ty::Scalar { dtype } => format!("r.scalar::<{}>()", prim(*dtype)),
            Ty::Str if borrowed => "r.str()".into(),
            Ty::Str => "r.str().map(str::to_owned)".into(),
            Ty::Bytes if borrowed => "r.bin()".into(),
            Ty::Bytes => "r.bin().map(<[u8]>::to_vec)".into(),
            Ty::Array { dtype, shape } => {
                uses.dims |= dims == "dims";
                format!(
                    "{GS}::{}::<{}>(r, {}, {dims})",
                    if borrowed {
                        "read_array_view"
                    } else {
                        "read_array"
                    },
                    prim(*dtype),
                    spec_of(shape)
                )
            }
            Ty::Enum { name } => format!("{GS}::read_enum::<{}>(r)", self.ident(name)),
            Ty::Record { name, shape } if shape.is_empty() => {
                uses.dims |= dims == "dims";
                if borrowed {
                    format!("{}::read_msgpack_in(r, {dims})", self.ref_ident(name))
                } else {
                    format!("{}::read_msgpack_in(r, {dims})", self.ident(name))
                }
            }
            Ty::Record { name, shape } => {
                uses.dims |= dims == "dims";
                if borrowed {
                    format!(
                        "{GS}::read_records_ref::<{}<'a>>(r, {}, {dims})",
                        self.ref_ident(name),
                        spec_of(shape)
                    )
                } else {
                    format!(
                        "{GS}::read_records::<{}>(r, {}, {dims})",
                        self.ident(name),
                        spec_of(shape)
                    )
                }
            }
            Ty::List { item } => format!(
                "{GS}::read_list(r, {})",
                closure("r", &self.read_expr(item, borrowed, &fresh, None, uses))
            ),
            Ty::Map { value } => format!(
                "{GS}::read_map(r, {})",
                closure("r", &self.read_expr(value, borrowed, &fresh, None, uses))
            ),
        }
    }

    fn read_field(&self, f: &ir::Field, rec: &str, borrowed: bool, uses: &mut Uses) -> String {
        let spec = format!("{rec}::{}", shape_const_name(&f.name));
        let inner = if let Some(pk) = Packed::of(f) {
            let t = pk.t();
            match (pk.is_scalar(), borrowed) {
                (true, false) => format!(
                    "{GS}::read_packed_scalar::<{t}, {}>(r, {})",
                    pk.bytes, pk.bits
                ),
                (true, true) => format!("{GS}::read_packed_scalar_value::<{t}>(r, {})", pk.bits),
                (false, false) => {
                    uses.dims = true;
                    format!(
                        "{GS}::read_packed::<{t}, {}>(r, {spec}, dims, {})",
                        pk.bytes, pk.bits
                    )
                }
                (false, true) => {
                    uses.dims = true;
                    format!(
                        "{GS}::read_packed_view::<{t}>(r, {spec}, dims, {})",
                        pk.bits
                    )
                }
            }
        } else {
            let spec = has_shape_const(&f.ty).then_some(spec.as_str());
            self.read_expr(&f.ty, borrowed, "dims", spec, uses)
        };
        if f.optional {
            format!("{GS}::read_opt(r, {})", closure("r", &inner))
        } else {
            inner
        }
    }

    /// Upper bound of the encoded size: `(expression, constant)`; exactly one is set.
    fn hint(&self, ty: &Ty, p: &Place, depth: usize) -> (Option<String>, u64) {
        match ty {
            Ty::Scalar { .. } => (None, 9),
            Ty::Enum { name } => {
                let longest = self
                    .schema
                    .enum_def(name)
                    .map(|e| e.variants.iter().map(|v| v.name.len()).max().unwrap_or(0))
                    .unwrap_or(0);
                (None, longest as u64 + 5)
            }
            Ty::Str | Ty::Bytes => (Some(format!("5 + {}.len()", p.m())), 0),
            Ty::Array { .. } => (Some(format!("{GS}::array_hint({})", p.r())), 0),
            Ty::Record { shape, .. } if shape.is_empty() => {
                (Some(format!("{}.msgpack_size_hint()", p.m())), 0)
            }
            Ty::Record { shape, .. } => {
                let v = format!("v{depth}");
                (
                    Some(format!(
                        "{} + {}.iter().map(|{v}| {v}.msgpack_size_hint()).sum::<usize>()",
                        5 * shape.len(),
                        p.m()
                    )),
                    0,
                )
            }
            Ty::List { item } => {
                let v = format!("v{depth}");
                match self.hint(item, &Place::var(v.clone()), depth + 1) {
                    (None, c) => (Some(format!("5 + {c} * {}.len()", p.m())), 0),
                    (Some(e), _) => (
                        Some(format!(
                            "5 + {}.iter().map({}).sum::<usize>()",
                            p.m(),
                            closure(&v, &e)
                        )),
                        0,
                    ),
                }
            }
            Ty::Map { value } => {
                let (k, v) = (format!("k{depth}"), format!("v{depth}"));
                match self.hint(value, &Place::var(v.clone()), depth + 1) {
                    (None, c) => (
                        Some(format!(
                            "5 + {}.keys().map(|{k}| {} + {k}.len()).sum::<usize>()",
                            p.m(),
                            c + 5
                        )),
                        0,
                    ),
                    (Some(e), _) => (
                        Some(format!(
                            "5 + {}.iter().map(|({k}, {v})| 5 + {k}.len() + {e}).sum::<usize>()",
                            p.m()
                        )),
                        0,
                    ),
                }
            }
        }
    }

    fn hint_field(&self, f: &ir::Field) -> (Option<String>, u64) {
        if let Some(pk) = Packed::of(f) {
            return if pk.is_scalar() {
                (None, 9)
            } else {
                (
                    None,
                    16 + 8 * pk.shape.len() as u64 + pk.count() * pk.dtype.size(),
                )
            };
        }
        let p = Place::field(&field_ident(&f.name));
        if f.optional {
            match self.hint(&f.ty, &Place::var("v0".into()), 1) {
                (None, c) => (None, c),
                (Some(e), _) => (
                    Some(format!(
                        "{}.as_ref().map_or(1, {})",
                        p.m(),
                        closure("v0", &e)
                    )),
                    0,
                ),
            }
        } else {
            self.hint(&f.ty, &p, 0)
        }
    }

    // -- validation -----------------------------------------------------------------------

    /// Statements checking one value (see [`CheckCx`]).
    fn check_stmts(&self, ty: &Ty, p: &Place, cx: &CheckCx<'_>, uses: &mut Uses) -> String {
        let CheckCx {
            attrs,
            dims,
            spec,
            wrap,
            depth,
        } = *cx;
        let fresh = format!("&mut {RT}::array::DimTable::new()");
        let spec_of = |shape: &[Dim]| spec.map(str::to_string).unwrap_or_else(|| spec_lit(shape));
        let mut full = Vec::new();
        match ty {
            Ty::Scalar { .. } => {
                if let Some(r) = attrs.range {
                    full.push(format!(
                        "{GS}::check_scalar_range({}, {}, {}){wrap}?;",
                        p.v(),
                        f64_lit(r.lo),
                        f64_lit(r.hi)
                    ));
                }
                if let Some(b) = attrs.bits {
                    full.push(format!("{GS}::check_scalar_bits({}, {b}){wrap}?;", p.v()));
                }
                self.full_block(full, uses)
            }
            Ty::Array { shape, .. } => {
                uses.dims |= dims == "dims";
                let mut s = format!(
                    "{RT}::array::check_shape({}, {}.shape(), {dims}){wrap}?;",
                    spec_of(shape),
                    p.m()
                );
                if let Some(r) = attrs.range {
                    full.push(format!(
                        "{RT}::array::check_range({}.as_slice(), {}, {}){wrap}?;",
                        p.m(),
                        f64_lit(r.lo),
                        f64_lit(r.hi)
                    ));
                }
                if let Some(b) = attrs.bits {
                    full.push(format!(
                        "{RT}::array::check_bits({}.as_slice(), {b}){wrap}?;",
                        p.m()
                    ));
                }
                s.push_str(&self.full_block(full, uses));
                s
            }
            Ty::Record { shape, .. } if shape.is_empty() => {
                uses.dims |= dims == "dims";
                uses.full = true;
                format!("{}.check_in({dims}, full){wrap}?;", p.m())
            }
            Ty::Record { shape, .. } => {
                uses.dims |= dims == "dims";
                uses.full = true;
                format!(
                    "{GS}::check_records({}, {}, {dims}, full){wrap}?;",
                    p.r(),
                    spec_of(shape)
                )
            }
            Ty::List { item } => {
                let (i, v) = (format!("i{depth}"), format!("v{depth}"));
                let inner_wrap = format!(".at_index({i}){wrap}");
                let inner_cx = CheckCx {
                    attrs: Attrs::default(),
                    dims: &fresh,
                    spec: None,
                    wrap: &inner_wrap,
                    depth: depth + 1,
                };
                let inner = self.check_stmts(item, &Place::var(v.clone()), &inner_cx, uses);
                if inner.is_empty() {
                    String::new()
                } else {
                    format!(
                        "for ({i}, {v}) in {}.iter().enumerate() {{ {inner} }}",
                        p.m()
                    )
                }
            }
            Ty::Map { value } => {
                let (k, v) = (format!("k{depth}"), format!("v{depth}"));
                let inner_wrap = format!(".at_key({k}){wrap}");
                let inner_cx = CheckCx {
                    attrs: Attrs::default(),
                    dims: &fresh,
                    spec: None,
                    wrap: &inner_wrap,
                    depth: depth + 1,
                };
                let inner = self.check_stmts(value, &Place::var(v.clone()), &inner_cx, uses);
                if inner.is_empty() {
                    String::new()
                } else {
                    format!("for ({k}, {v}) in {} {{ {inner} }}", p.r())
                }
            }
            Ty::Str | Ty::Bytes | Ty::Enum { .. } => String::new(),
        }
    }

    fn full_block(&self, stmts: Vec<String>, uses: &mut Uses) -> String {
        if stmts.is_empty() {
            String::new()
        } else {
            uses.full = true;
            format!("if full {{ {} }}", stmts.join(" "))
        }
    }

    fn check_field(&self, f: &ir::Field, rec: &str, uses: &mut Uses) -> String {
        if f.packed_bytes.is_some() {
            // Packed storage holds exactly the fixed shape, and every stored value fits.
            return String::new();
        }
        let attrs = Attrs {
            bits: f.bits,
            range: f.range,
        };
        let spec = format!("{rec}::{}", shape_const_name(&f.name));
        let spec = has_shape_const(&f.ty).then_some(spec.as_str());
        let wrap = format!(".at({})", lit(&f.name));
        let p = Place::field(&field_ident(&f.name));
        let cx = CheckCx {
            attrs,
            dims: "dims",
            spec,
            wrap: &wrap,
            depth: usize::from(f.optional),
        };
        if f.optional {
            let inner = self.check_stmts(&f.ty, &Place::var("v0".into()), &cx, uses);
            if inner.is_empty() {
                String::new()
            } else {
                format!("if let Some(v0) = {} {{ {inner} }}", p.r())
            }
        } else {
            self.check_stmts(&f.ty, &p, &cx, uses)
        }
    }

    // -- random ---------------------------------------------------------------------------

    fn random_expr(
        &self,
        ty: &Ty,
        attrs: Attrs,
        dims: &str,
        spec: Option<&str>,
        uses: &mut Uses,
    ) -> String {
        let fresh = format!("&mut {GS}::RandomDims::new()");
        let spec_of = |shape: &[Dim]| spec.map(str::to_string).unwrap_or_else(|| spec_lit(shape));
        match ty {
            Ty::Scalar { dtype } => format!(
                "{GS}::random_scalar::<{}>(rng, {}, {})",
                prim(*dtype),
                attrs.bits_lit(),
                attrs.range_lit()
            ),
            Ty::Array { dtype, shape } => {
                uses.dims |= dims == "dims";
                format!(
                    "{GS}::random_array::<{}>(rng, {}, {dims}, {}, {})",
                    prim(*dtype),
                    spec_of(shape),
                    attrs.bits_lit(),
                    attrs.range_lit()
                )
            }
            Ty::Str => format!("{GS}::random_str(rng)"),
            Ty::Bytes => format!("{GS}::random_bytes(rng)"),
            Ty::Enum { name } => {
                let e = self.ident(name);
                format!("{e}::ALL[{GS}::random_index(rng, {e}::ALL.len())]")
            }
            Ty::Record { name, shape } if shape.is_empty() => {
                uses.dims |= dims == "dims";
                format!("{}::random_in(rng, {dims})", self.ident(name))
            }
            Ty::Record { name, shape } => {
                uses.dims |= dims == "dims";
                format!(
                    "{GS}::random_records::<{}>(rng, {}, {dims})",
                    self.ident(name),
                    spec_of(shape)
                )
            }
            Ty::List { item } => format!(
                "{GS}::random_list(rng, {})",
                closure(
                    "rng",
                    &self.random_expr(item, Attrs::default(), &fresh, None, uses)
                )
            ),
            Ty::Map { value } => format!(
                "{GS}::random_map(rng, {})",
                closure(
                    "rng",
                    &self.random_expr(value, Attrs::default(), &fresh, None, uses)
                )
            ),
        }
    }

    fn random_field(&self, f: &ir::Field, rec: &str, uses: &mut Uses) -> String {
        let attrs = Attrs {
            bits: f.bits,
            range: f.range,
        };
        let inner = if let Some(pk) = Packed::of(f) {
            // The shape is fixed, so drawing it draws nothing; only the count matters.
            format!(
                "{GS}::random_packed::<{}, {}>(rng, {}, {}, {})",
                pk.t(),
                pk.bytes,
                if pk.is_scalar() { 1 } else { pk.count() },
                pk.bits,
                attrs.range_lit()
            )
        } else {
            let spec = format!("{rec}::{}", shape_const_name(&f.name));
            let spec = has_shape_const(&f.ty).then_some(spec.as_str());
            self.random_expr(&f.ty, attrs, "dims", spec, uses)
        };
        if f.optional {
            format!("{GS}::random_opt(rng, {})", closure("rng", &inner))
        } else {
            inner
        }
    }

    // -- serde ----------------------------------------------------------------------------

    /// An adapter expression serializing the value when its own `Serialize` is not the
    /// JSON form; `None` when it is.
    fn ser_adapter(&self, ty: &Ty, p: &Place, depth: usize) -> Option<String> {
        match ty {
            // JSON carries float scalars as the f64 they widen to, like the msgpack wire, the
            // dynamic codec and the Python target, so the JSON text agrees across languages;
            // non-finite ones as "NaN" / "Infinity" / "-Infinity" (JsonF64).
            Ty::Scalar { dtype } if is_half(*dtype) => {
                Some(format!("{GS}::JsonF64({}.to_f64())", p.m()))
            }
            Ty::Scalar { dtype: Dtype::F32 } => {
                Some(format!("{GS}::JsonF64(f64::from({}))", p.v()))
            }
            Ty::Scalar { dtype: Dtype::F64 } => Some(format!("{GS}::JsonF64({})", p.v())),
            Ty::Bytes => Some(format!("{GS}::B64({}.as_slice())", p.m())),
            Ty::Record { shape, .. } if shape.len() >= 2 => {
                Some(nest_chunks(p.m(), &shape[1..], depth))
            }
            Ty::List { item } => {
                let v = format!("v{depth}");
                self.ser_adapter(item, &Place::var(v.clone()), depth + 1)
                    .map(|e| format!("{GS}::SerSeq({}.iter().map(|{v}| {e}))", p.m()))
            }
            Ty::Map { value } => {
                let (k, v) = (format!("k{depth}"), format!("v{depth}"));
                self.ser_adapter(value, &Place::var(v.clone()), depth + 1)
                    .map(|e| {
                        format!(
                            "{GS}::SerMap({}.iter().map(|({k}, {v})| ({k}, {e})))",
                            p.m()
                        )
                    })
            }
            _ => None,
        }
    }

    fn ser_field(&self, f: &ir::Field) -> String {
        let ident = field_ident(&f.name);
        let p = Place::field(&ident);
        if f.packed_bytes.is_some() {
            return format!("&self.{}_unpacked()", accessor_base(&f.name));
        }
        if f.optional {
            match self.ser_adapter(&f.ty, &Place::var("v0".into()), 1) {
                Some(e) => format!("&{}.as_ref().map(|v0| {e})", p.m()),
                None => p.r(),
            }
        } else {
            match self.ser_adapter(&f.ty, &p, 0) {
                Some(e) => format!("&{e}"),
                None => p.r(),
            }
        }
    }

    /// The type serde reads for `ty`, and the conversion (an expression over `v` giving
    /// `Result<owned type>`) when that type is not the field's.
    fn de_ty(&self, ty: &Ty) -> (String, Option<String>) {
        match ty {
            // Floats: non-finite strings, and overflow is OutOfRange; integers: integral
            // floats accepted, and OutOfRange shows the number as read.
            Ty::Scalar { dtype } if dtype.is_float() => (
                format!("{GS}::JsonF64"),
                Some(format!("v.narrow::<{}>()", prim(*dtype))),
            ),
            Ty::Scalar { dtype } if dtype.is_int() => (
                format!("{GS}::JsonInt"),
                Some(format!("v.narrow::<{}>()", prim(*dtype))),
            ),
            Ty::Bytes => (format!("{GS}::B64Buf"), Some("Ok(v.0)".into())),
            Ty::Record { name, shape } if shape.len() >= 2 => {
                let mut t = self.ident(name);
                for _ in 0..shape.len() {
                    t = format!("Vec<{t}>");
                }
                (t, Some(flatten_conv(shape)))
            }
            // IdxVec: element errors name their index, as in the msgpack readers.
            Ty::List { item } => match self.de_ty(item) {
                (t, Some(c)) => (
                    format!("{GS}::IdxVec<{t}>"),
                    Some(format!("{GS}::conv_list(v.0, |v| {c})")),
                ),
                (t, None) => (format!("{GS}::IdxVec<{t}>"), Some("Ok(v.0)".into())),
            },
            Ty::Record { name, shape } if shape.len() == 1 => (
                format!("{GS}::IdxVec<{}>", self.ident(name)),
                Some("Ok(v.0)".into()),
            ),
            // UniqueMap: a key given twice is DuplicateKey, as in every other reader.
            Ty::Map { value } => match self.de_ty(value) {
                (t, Some(c)) => (
                    format!("{GS}::UniqueMap<{t}>"),
                    Some(format!("{GS}::conv_map(v.0, |v| {c})")),
                ),
                (t, None) => (format!("{GS}::UniqueMap<{t}>"), Some("Ok(v.0)".into())),
            },
            _ => (self.owned_ty(ty), None),
        }
    }

    fn de_field(&self, f: &ir::Field, rec: &str, ty: &str) -> String {
        let (t, conv) = if let Some(pk) = Packed::of(f) {
            if pk.is_scalar() {
                (
                    pk.t(),
                    Some(format!(
                        "{GS}::pack_scalar::<{}, {}>(v, {})",
                        pk.t(),
                        pk.bytes,
                        pk.bits
                    )),
                )
            } else {
                (
                    format!("{RT}::array::NdArray<{}>", pk.t()),
                    Some(format!(
                        "{GS}::pack_array::<{}, {}>(&v, {rec}::{}, {})",
                        pk.t(),
                        pk.bytes,
                        shape_const_name(&f.name),
                        pk.bits
                    )),
                )
            }
        } else {
            self.de_ty(&f.ty)
        };
        let (t, conv) = if f.optional {
            (
                format!("Option<{t}>"),
                conv.map(|c| format!("{GS}::conv_opt(v, |v| {c})")),
            )
        } else {
            (t, conv)
        };
        let local = local_name(&f.name);
        // `de_at` gives serde's own type errors in the value a kind and the field's path;
        // a required field reads through `Option` so that `null` is `missing_field`.
        let name = lit(&f.name);
        let next = if f.optional {
            format!("map.next_value::<{t}>().map_err(|e| {GS}::de_at(e, {name}))?")
        } else {
            format!("{GS}::de_required(map.next_value::<Option<{t}>>(), {name})?")
        };
        match conv {
            None => format!("{local} = Some({next});"),
            Some(c) => format!(
                "{local} = Some({{ let v: {t} = {next}; \
                 let c: ::core::result::Result<{ty}, {RT}::error::Error> = {c}; \
                 c.map_err(|e| {GS}::de_error::<A::Error>(e.at({name})))? }});"
            ),
        }
    }

    // -- views ----------------------------------------------------------------------------

    /// The owned value of a view value.
    fn to_owned_expr(&self, ty: &Ty, p: &Place, depth: usize) -> String {
        if Self::is_copy(ty) {
            return p.v();
        }
        if self.owned_ty(ty) == self.ref_ty(ty) {
            return format!("{}.clone()", p.m());
        }
        match ty {
            Ty::Str => format!("String::from({})", p.v()),
            Ty::Bytes => format!("{}.to_vec()", p.m()),
            Ty::Array { .. } => format!("{}.to_owned()", p.m()),
            Ty::Record { shape, .. } if shape.is_empty() => format!("{}.to_owned()", p.m()),
            Ty::Record { .. } => {
                let v = format!("v{depth}");
                format!("{}.iter().map(|{v}| {v}.to_owned()).collect()", p.m())
            }
            Ty::List { item } => {
                let v = format!("v{depth}");
                format!(
                    "{}.iter().map(|{v}| {}).collect()",
                    p.m(),
                    self.to_owned_expr(item, &Place::var(v.clone()), depth + 1)
                )
            }
            Ty::Map { value } => {
                let (k, v) = (format!("k{depth}"), format!("v{depth}"));
                format!(
                    "{}.iter().map(|({k}, {v})| (String::from(*{k}), {})).collect()",
                    p.m(),
                    self.to_owned_expr(value, &Place::var(v.clone()), depth + 1)
                )
            }
            Ty::Scalar { .. } | Ty::Enum { .. } => p.v(),
        }
    }

    fn to_owned_field(&self, f: &ir::Field) -> String {
        let p = Place::field(&field_ident(&f.name));
        if let Some(pk) = Packed::of(f) {
            let one = |p: &Place| {
                if pk.is_scalar() {
                    format!(
                        "{GS}::pack_scalar_trusted::<{}, {}>({}, {})",
                        pk.t(),
                        pk.bytes,
                        p.v(),
                        pk.bits
                    )
                } else {
                    format!(
                        "{GS}::pack_view::<{}, {}>({}, {})",
                        pk.t(),
                        pk.bytes,
                        p.r(),
                        pk.bits
                    )
                }
            };
            return if f.optional {
                let inner = one(&Place::var("v0".into()));
                format!("{}.as_ref().map(|v0| {inner})", p.m())
            } else {
                one(&p)
            };
        }
        if f.optional {
            if Self::is_copy(&f.ty) {
                return p.v();
            }
            if self.owned_ty(&f.ty) == self.ref_ty(&f.ty) {
                return format!("{}.clone()", p.m());
            }
            format!(
                "{}.as_ref().map(|v0| {})",
                p.m(),
                self.to_owned_expr(&f.ty, &Place::var("v0".into()), 1)
            )
        } else {
            self.to_owned_expr(&f.ty, &p, 0)
        }
    }

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
        let mut read_uses = Uses::default();
        let mut ref_uses = Uses::default();
        let mut check_uses = Uses::default();
        let mut random_uses = Uses::default();
        let mut fields = Vec::new();
        let mut hint_base = 5u64;
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
            let missing = if f.optional && f.default.is_none() {
                None
            } else if f.default.is_some() {
                Some((default.clone(), cheap))
            } else {
                None
            };
            let finish = match (&missing, f.optional) {
                (_, true) if f.default.is_none() => format!("{local}.flatten()"),
                (Some((d, true)), _) => format!("{local}.unwrap_or({d})"),
                (Some((d, false)), _) => format!("{local}.unwrap_or_else(|| {d})"),
                (None, _) => format!(
                    "{local}.ok_or_else(|| {RT}::error::Error::missing_field({}))?",
                    lit(&f.name)
                ),
            };
            let json_finish = match (&missing, f.optional) {
                (_, true) if f.default.is_none() => format!("{local}.flatten()"),
                (Some((d, true)), _) => format!("{local}.unwrap_or({d})"),
                (Some((d, false)), _) => format!("{local}.unwrap_or_else(|| {d})"),
                (None, _) => format!(
                    "{local}.ok_or_else(|| <A::Error as {GS}::serde::de::Error>::missing_field({}))?",
                    lit(&f.name)
                ),
            };
            let ref_finish = if f.optional && f.default.is_none() {
                format!("{local}.flatten()")
            } else {
                match self.ref_field_default(f) {
                    Some(d) if is_cheap_ref_default(f) => format!("{local}.unwrap_or({d})"),
                    Some(d) => format!("{local}.unwrap_or_else(|| {d})"),
                    None => format!(
                        "{local}.ok_or_else(|| {RT}::error::Error::missing_field({}))?",
                        lit(&f.name)
                    ),
                }
            };
            let mut read = self.read_field(f, &ident, false, &mut read_uses);
            let mut ref_read = self.read_field(f, &ident, true, &mut ref_uses);
            if !f.optional {
                // nil for a required field is `missing_field` (conformance/README.md).
                for r in [&mut read, &mut ref_read] {
                    *r = format!("match {GS}::not_nil(r) {{ Ok(()) => {r}, Err(e) => Err(e) }}");
                }
            }
            let write = self.write_field(f);
            let (hint_e, hint_c) = self.hint_field(f);
            hint_base += f.name.len() as u64 + 3 + hint_c;
            let check = self.check_field(f, &ident, &mut check_uses);
            let random = self.random_field(f, &ident, &mut random_uses);
            let ser = self.ser_field(f);
            let de = self.de_field(f, &ident, &ty);
            let to_owned = self.to_owned_field(f);
            let accessors = self.accessors(f, &ident, &allow);
            fields.push(FieldView {
                wire: lit(&f.name),
                ident: fident,
                local,
                docs,
                ty,
                ref_ty,
                default,
                read,
                ref_read,
                finish,
                ref_finish,
                write,
                hint: hint_e,
                check,
                random,
                ser,
                de,
                json_finish,
                to_owned,
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
            field_count: fields.len(),
            fields,
            read_dims: if read_uses.dims { "dims" } else { "_dims" },
            ref_read_dims: if ref_uses.dims { "dims" } else { "_dims" },
            check_dims: if check_uses.dims { "dims" } else { "_dims" },
            check_full: if check_uses.full { "full" } else { "_full" },
            random_rng: if r.fields.is_empty() { "_rng" } else { "rng" },
            random_dims: if random_uses.dims { "dims" } else { "_dims" },
            ref_marker,
            hint_base,
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

/// `|param| body`, or just the function path when `body` is `path(param)` (clippy's
/// `redundant_closure`).
fn closure(param: &str, body: &str) -> String {
    if let Some(path) = body.strip_suffix(&format!("({param})")) {
        if !path.contains(['(', ' ', '.', '|']) {
            return path.to_string();
        }
    }
    format!("|{param}| {body}")
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

/// Nested `SerSeq`s over C-order chunks for a component array with dims `inner` after the
/// first: `[a, b]` → `SerSeq(x.chunks(b))`.
fn nest_chunks(expr: &str, inner: &[Dim], depth: usize) -> String {
    let size: u64 = inner
        .iter()
        .map(|d| d.fixed().unwrap_or(1))
        .product::<u64>()
        .max(1);
    if inner.len() == 1 {
        format!("{GS}::SerSeq({expr}.chunks({size}))")
    } else {
        let c = format!("c{depth}");
        format!(
            "{GS}::SerSeq({expr}.chunks({size}).map(|{c}| {}))",
            nest_chunks(&c, &inner[1..], depth + 1)
        )
    }
}

/// Conversion of nested JSON lists (`Vec<Vec<..T>>` with `shape`) to the flat `Vec<T>`;
/// the first dim is checked afterwards with the other shapes.
fn flatten_conv(shape: &[Dim]) -> String {
    let inner = &shape[1..];
    let size: u64 = inner.iter().map(|d| d.fixed().unwrap_or(0)).product();
    if inner.len() == 1 {
        format!("{GS}::flatten_level(v, {size}, {})", spec_lit(inner))
    } else {
        format!(
            "{GS}::conv_list(v, |v| {}).and_then(|v| {GS}::flatten_level(v, {size}, {}))",
            flatten_conv(inner),
            spec_lit(inner)
        )
    }
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

//! Python target (DESIGN §6): one module per schema, `<module>.py`.
//!
//! The module holds, for every enum and record the schema declares (imported ones are
//! imported from their own schema's module, `from .common import Pose as Pose`, so one
//! class serves every importer):
//! - an `enum.Enum` whose values are the variant names (the wire form);
//! - one *codec* constant per record field (`_c_ImageSample_image = _g.Array("f32", ...)`,
//!   from `schemac_runtime.gen_support`) and a `@dataclass` whose methods are straight-line
//!   code over those codecs: msgpack (`packed`, `from_bytes`), WebDataset, JSON, `validate`,
//!   `default`, `random`, equality, and `@packed` accessors;
//! - `<Name>Batch` (SoA columns from the IR leaves, `schemac_runtime.batch.Batch`) and, for
//!   records with an aggregate layout, `<Name>Packed` (`schemac_runtime.batch.PackedLayout`).
//!
//! This file turns the IR into a view model of ready-to-print Python snippets (names
//! escaped, literals formatted, long lines wrapped at 100 columns); the templates in
//! `templates/python/` lay the module out. Output is deterministic: it depends on the IR only.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use askama::Template;

use super::{generated_header, EmitError, OutputFile};
use crate::ir::{self, Dim, Dtype, Literal, RecordKind, SoaStorage, Ty};

/// Longest line the generated module aims for (the project's ruff `line-length`).
const LINE: usize = 100;

/// Renders `<module>.py` for `schema`.
pub fn emit(schema: &ir::Schema) -> Result<Vec<OutputFile>, EmitError> {
    let model = Model::build(schema)?;
    let body = BodyTemplate { m: &model }
        .render()
        .map_err(|e| EmitError(format!("python template: {e}")))?;
    let mut imports = Imports::scan(&body);
    imports.local = imported_lines(&model.imported, &body);
    let contents = ModuleTemplate {
        m: &model,
        imports: &imports,
        body: body.trim_end(),
    }
    .render()
    .map_err(|e| EmitError(format!("python template: {e}")))?;
    let mut contents = contents.trim_end().to_string();
    contents.push('\n');
    Ok(vec![OutputFile {
        path: format!("{}.py", schema.module).into(),
        contents,
    }])
}

#[derive(Template)]
#[template(path = "python/module.py", escape = "none")]
struct ModuleTemplate<'a> {
    m: &'a Model,
    imports: &'a Imports,
    body: &'a str,
}

#[derive(Template)]
#[template(path = "python/body.py", escape = "none")]
struct BodyTemplate<'a> {
    m: &'a Model,
}

/// Which optional imports the rendered body uses (so none is ever unused).
struct Imports {
    dataclass: bool,
    any: bool,
    classvar: bool,
    enum_: bool,
    field: bool,
    mapping: bool,
    np: bool,
    npt: bool,
    batch: bool,
    jsonform: bool,
    wds: bool,
    wire: bool,
    /// `from .common import Pose, Sensor`: what the body uses of other schemas' modules.
    local: Vec<String>,
}

/// The import of every record and enum this schema takes from another schema's module
/// and `body` uses: they are defined once, there, so `robot.Pose is common.Pose`.
/// Relative imports: the generated modules of a schema and its imports are written side by
/// side into one directory, which the user makes a package (or places inside one). Only
/// names used in code (not in docstrings or strings) are imported, so none is unused.
fn imported_lines(imported: &[(String, String)], body: &str) -> Vec<String> {
    let used = code_identifiers(body);
    let mut by_module: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (module, class) in imported {
        if used.contains(class.as_str()) {
            by_module.entry(module).or_default().push(class);
        }
    }
    by_module
        .into_iter()
        .map(|(module, mut names)| {
            names.sort_unstable();
            format!("from .{module} import {}", names.join(", "))
        })
        .collect()
}

/// The identifiers of Python source outside string literals and comments (the generated
/// code's strings are plain `"..."`, `'...'` and `"""..."""`, with backslash escapes).
fn code_identifiers(src: &str) -> HashSet<&str> {
    let b = src.as_bytes();
    let mut out = HashSet::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'"' || c == b'\'' {
            let triple = b[i..].starts_with(&[c, c, c]);
            let close: &[u8] = if triple { &b[i..i + 3] } else { &b[i..i + 1] };
            let close = close.to_vec();
            i += close.len();
            while i < b.len() && !b[i..].starts_with(&close) {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += close.len();
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.insert(&src[start..i]);
        } else {
            i += 1;
        }
    }
    out
}

impl Imports {
    /// The import lines, grouped and sorted as isort/ruff want them (schemac_runtime is a
    /// third-party package to the generated module).
    fn block(&self) -> String {
        let mut std: Vec<String> = Vec::new();
        if self.enum_ {
            std.push("import enum".into());
        }
        if self.mapping {
            std.push("from collections.abc import Mapping".into());
        }
        match (self.dataclass, self.field) {
            (true, true) => std.push("from dataclasses import dataclass, field".into()),
            (true, false) => std.push("from dataclasses import dataclass".into()),
            _ => {}
        }
        let typing: Vec<&str> = [("Any", self.any), ("ClassVar", self.classvar)]
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        if !typing.is_empty() {
            std.push(format!("from typing import {}", typing.join(", ")));
        }
        let mut third: Vec<String> = Vec::new();
        if self.np {
            third.push("import numpy as np".into());
        }
        if self.npt {
            third.push("import numpy.typing as npt".into());
        }
        for (on, module, alias) in [
            (self.batch, "batch", "_b"),
            (true, "gen_support", "_g"),
            (self.jsonform, "jsonform", "_j"),
            (self.wds, "wds", "_wds"),
            (self.wire, "wire", "_w"),
        ] {
            if on {
                third.push(format!("from schemac_runtime import {module} as {alias}"));
            }
        }
        let mut out = std.join("\n");
        if !std.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&third.join("\n"));
        if !self.local.is_empty() {
            out.push_str("\n\n");
            out.push_str(&self.local.join("\n"));
        }
        out
    }

    fn scan(body: &str) -> Imports {
        let uses = |needle: &str| body.contains(needle);
        Imports {
            dataclass: uses("@dataclass"),
            any: uses("Any]") || uses("Any,"),
            classvar: uses("ClassVar["),
            enum_: uses("enum.Enum"),
            field: uses("field(default_factory"),
            mapping: uses("Mapping["),
            np: uses("np."),
            npt: uses("npt."),
            batch: uses("_b."),
            jsonform: uses("_j."),
            wds: uses("_wds."),
            wire: uses("_w."),
            local: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// View model
// ---------------------------------------------------------------------------------------

struct Model {
    header: String,
    /// Rules for a file-level `# ruff: noqa:` (empty: none needed).
    noqa: String,
    source: String,
    package: Option<String>,
    /// The schema's module docs (`///` before `package`).
    docs: Vec<String>,
    version: &'static str,
    samples: Vec<String>,
    /// (module, class) of every record and enum taken from another schema's module.
    imported: Vec<(String, String)>,
    enums: Vec<EnumView>,
    records: Vec<RecordView>,
}

struct EnumView {
    name: String,
    doc: String,
    members: Vec<MemberView>,
}

struct MemberView {
    attr: String,
    value: String,
    doc: String,
}

struct RecordView {
    name: String,
    /// The schema name as a Python string literal (error paths, batch names).
    path_lit: String,
    is_sample: bool,
    doc: String,
    fingerprint: String,
    /// `_c_X_f = _g....` lines.
    codecs: Vec<String>,
    fields: Vec<FieldView>,
    /// `_g.Field(...)` entries of `_SC_FIELDS`.
    field_specs: Vec<String>,
    /// Keyword arguments of `default()` (required fields only).
    default_args: Vec<String>,
    /// The `and`-joined field comparisons of `__eq__`.
    eq_expr: String,
    batch: BatchView,
    packed: Option<PackedView>,
}

struct FieldView {
    /// The dataclass line: `name: annotation` or `name: annotation = default`.
    decl: String,
    /// The first `and`-less comparison term (see `RecordView::eq_expr`).
    eq_first: String,
    doc: String,
    wire: String,
    from_wire: String,
    json: String,
    from_json: String,
    validate: String,
    random: String,
    eq: String,
    accessor: Option<AccessorView>,
}

/// `<field>_unpacked()` / `set_<field>_unpacked()` of a per-field `@packed` leaf.
struct AccessorView {
    getter: String,
    setter: String,
    annotation: String,
    setter_param: String,
    body_get: String,
    body_set: String,
    doc: String,
    set_doc: String,
}

struct BatchView {
    name: String,
    doc: String,
    leaves: Vec<String>,
    props: Vec<PropView>,
}

struct PropView {
    name: String,
    annotation: String,
    body: String,
    doc: String,
}

struct PackedView {
    name: String,
    doc: String,
    total_bits: u64,
    words: u64,
    words_len: u64,
    tail_bytes: u64,
    compact_bytes: u64,
    leaves: Vec<String>,
}

/// Python keywords (hard keywords; soft keywords are valid identifiers).
const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Attribute names a generated dataclass uses itself, and names its annotations refer to.
const RECORD_RESERVED: &[&str] = &[
    "FINGERPRINT",
    "packed",
    "from_bytes",
    "as_wds",
    "from_wds",
    "to_json",
    "to_json_obj",
    "from_json",
    "from_json_obj",
    "validate",
    "default",
    "random",
    "int",
    "float",
    "bool",
    "str",
    "bytes",
    "list",
    "dict",
    "object",
    "type",
    "np",
    "npt",
    "field",
    "dataclass",
    "enum",
    "Any",
    "ClassVar",
    "Mapping",
];

/// Attribute names of `schemac_runtime.batch.Batch`.
const BATCH_RESERVED: &[&str] = &[
    "SAMPLE",
    "LEAVES",
    "NAME",
    "FINGERPRINT",
    "columns",
    "column",
    "sample",
    "to_samples",
    "take",
    "to_tensors",
    "from_tensors",
    "save",
    "load",
    "from_samples",
    "default",
    "random",
    "np",
    "npt",
];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// A class name: keywords get a trailing `_`.
fn class_name(name: &str) -> String {
    if is_keyword(name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// An attribute name: keywords and `reserved` names get a trailing `_`.
fn attr_name(name: &str, reserved: &HashSet<String>) -> String {
    if is_keyword(name) || reserved.contains(name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// An enum member name: keywords, names `enum.Enum` reserves (`name`, `value`, `mro`) and
/// `_sunder_`/`__dunder__` names are escaped; the value stays the variant name.
fn member_name(name: &str) -> String {
    if is_keyword(name) || matches!(name, "name" | "value" | "mro") {
        format!("{name}_")
    } else if name.starts_with('_') && name.ends_with('_') {
        format!("v{name}")
    } else {
        name.to_string()
    }
}

/// A Python string literal (double quotes).
fn py_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Python bytes literal of a string's UTF-8.
fn py_bytes(s: &str) -> String {
    let mut out = String::from("b\"");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// A Python float literal (shortest round-trip form; always has a `.` or an exponent).
fn py_float(x: f64) -> String {
    if x.is_nan() {
        "float(\"nan\")".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "float(\"inf\")"
        } else {
            "-float(\"inf\")"
        }
        .into()
    } else {
        format!("{x:?}")
    }
}

/// `x` rounded to f32.
fn round_f32(x: f64) -> f64 {
    x as f32 as f64
}

/// `x` rounded to bf16 through f32 (round to nearest, ties to even), as the Python runtime's
/// `f32_to_bf16` does; returns the value and the raw bits.
fn round_bf16(x: f64) -> (f64, u16) {
    let f = x as f32;
    let bits = f.to_bits();
    let raw = if f.is_nan() {
        ((bits >> 16) | 0x40) as u16
    } else {
        let rounding = 0x7fff + ((bits >> 16) & 1);
        (bits.wrapping_add(rounding) >> 16) as u16
    };
    (f32::from_bits(u32::from(raw) << 16) as f64, raw)
}

/// `x` rounded to f16 (round to nearest, ties to even), as a value.
fn round_f16(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let e = x.abs().log2().floor().max(-14.0);
    let quantum = (e - 10.0).exp2();
    let r = (x / quantum).round_ties_even() * quantum;
    if r.abs() > 65504.0 {
        f64::INFINITY.copysign(x)
    } else {
        r
    }
}

fn round_float(dtype: Dtype, x: f64) -> f64 {
    match dtype {
        Dtype::F32 => round_f32(x),
        Dtype::Bf16 => round_bf16(x).0,
        Dtype::F16 => round_f16(x),
        _ => x,
    }
}

/// `np.float32`, `np.bool_`, ...; bf16 is held as `np.uint16` raw bits.
fn np_scalar(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "np.bool_",
        Dtype::I8 => "np.int8",
        Dtype::I16 => "np.int16",
        Dtype::I32 => "np.int32",
        Dtype::I64 => "np.int64",
        Dtype::U8 => "np.uint8",
        Dtype::U16 | Dtype::Bf16 => "np.uint16",
        Dtype::U32 => "np.uint32",
        Dtype::U64 => "np.uint64",
        Dtype::F16 => "np.float16",
        Dtype::F32 => "np.float32",
        Dtype::F64 => "np.float64",
    }
}

fn scalar_annotation(d: Dtype) -> &'static str {
    if d == Dtype::Bool {
        "bool"
    } else if d.is_float() {
        "float"
    } else {
        "int"
    }
}

/// A Python tuple literal.
fn py_tuple(items: &[String]) -> String {
    match items.len() {
        0 => "()".into(),
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

fn shape_spec(shape: &[Dim]) -> String {
    let items: Vec<String> = shape
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => n.to_string(),
            Dim::Named(name) => py_str(name),
            Dim::Dynamic => "None".into(),
        })
        .collect();
    py_tuple(&items)
}

/// The shape of a default array: fixed dims as declared, others 0.
fn zero_shape(shape: &[Dim]) -> String {
    let items: Vec<String> = shape
        .iter()
        .map(|d| d.fixed().unwrap_or(0).to_string())
        .collect();
    py_tuple(&items)
}

fn fmt_shape(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// A type as the schema spells it: `f32[224, 224, 3]`, `list<str>`, `Pose[8]`.
fn schema_type(ty: &Ty) -> String {
    match ty {
        Ty::Scalar { dtype } => dtype.name().into(),
        Ty::Str => "str".into(),
        Ty::Bytes => "bytes".into(),
        Ty::Array { dtype, shape } => format!("{}{}", dtype.name(), fmt_shape(shape)),
        Ty::Enum { name } => name.clone(),
        Ty::Record { name, shape } if shape.is_empty() => name.clone(),
        Ty::Record { name, shape } => format!("{name}{}", fmt_shape(shape)),
        Ty::List { item } => format!("list<{}>", schema_type(item)),
        Ty::Map { value } => format!("map<str, {}>", schema_type(value)),
    }
}

fn range_arg(r: &Option<ir::Range>) -> Option<String> {
    r.map(|r| format!("range=({}, {})", py_float(r.lo), py_float(r.hi)))
}

/// Wraps `text` (one paragraph) into lines of at most `width` columns.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A docstring at `indent` spaces: `"""One line."""` or a multi-line one. Paragraphs are
/// separated by empty strings in `paras`; long lines are wrapped.
fn docstring(paras: &[String], indent: usize) -> String {
    let pad = " ".repeat(indent);
    let width = LINE.saturating_sub(indent + 3).max(40);
    let mut lines: Vec<String> = Vec::new();
    for p in paras {
        let p = p.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
        if p.trim().is_empty() {
            lines.push(String::new());
        } else {
            lines.extend(wrap(&p, width));
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    if lines.is_empty() {
        return format!("{pad}\"\"\"\"\"\"");
    }
    if lines.len() == 1 && indent + lines[0].len() + 6 <= LINE && !lines[0].ends_with('"') {
        return format!("{pad}\"\"\"{}\"\"\"", lines[0]);
    }
    let mut out = format!("{pad}\"\"\"{}", lines[0]);
    for l in &lines[1..] {
        out.push('\n');
        if !l.is_empty() {
            out.push_str(&pad);
            out.push_str(l);
        }
    }
    out.push('\n');
    out.push_str(&pad);
    out.push_str("\"\"\"");
    out
}

/// Doc lines from the schema, as paragraphs: consecutive lines join, empty lines split.
fn doc_paras(docs: &[String]) -> Vec<String> {
    let mut paras = Vec::new();
    let mut cur = String::new();
    for d in docs {
        let t = d.trim();
        if t.is_empty() {
            if !cur.is_empty() {
                paras.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(t);
    }
    if !cur.is_empty() {
        paras.push(cur);
    }
    paras
}

/// `{prefix}{func}({args}){suffix}` at `indent`, wrapped to fit [`LINE`] columns: on one
/// line, else the arguments on one indented line, else one argument per line.
fn call(indent: usize, prefix: &str, func: &str, args: &[String], suffix: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{prefix}{func}({}){suffix}", args.join(", "));
    if one.chars().count() <= LINE {
        return one;
    }
    let inner = " ".repeat(indent + 4);
    let mid = format!("{inner}{}", args.join(", "));
    if mid.chars().count() <= LINE {
        return format!("{pad}{prefix}{func}(\n{mid}\n{pad}){suffix}");
    }
    let mut out = format!("{pad}{prefix}{func}(\n");
    for a in args {
        out.push_str(&format!("{inner}{a},\n"));
    }
    out.push_str(&format!("{pad}){suffix}"));
    out
}

/// `{prefix}{expr} if {cond} else {other}{suffix}`, parenthesised over lines when long.
fn ternary(
    indent: usize,
    prefix: &str,
    expr: &str,
    cond: &str,
    other: &str,
    suffix: &str,
) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{prefix}{expr} if {cond} else {other}{suffix}");
    if one.chars().count() <= LINE {
        return one;
    }
    let inner = " ".repeat(indent + 4);
    let mut expr_lines = format!("{inner}{expr}");
    if expr_lines.chars().count() > LINE {
        // expr is itself a call `f(args)`: wrap its arguments.
        if let Some(open) = expr.find('(') {
            let func = &expr[..open];
            let args_text = &expr[open + 1..expr.len() - 1];
            let args: Vec<String> = split_args(args_text);
            expr_lines = call(indent + 4, "", func, &args, "");
        }
    }
    format!("{pad}{prefix}(\n{expr_lines}\n{inner}if {cond}\n{inner}else {other}\n{pad}){suffix}")
}

/// Splits top-level comma-separated arguments (no nesting across quotes is needed for the
/// expressions this module builds, but brackets are respected).
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut cur = String::new();
    let mut prev = ' ';
    for c in s.chars() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '(' | '[' | '{' if !in_str => depth += 1,
            ')' | ']' | '}' if !in_str => depth -= 1,
            ',' if !in_str && depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                prev = c;
                continue;
            }
            _ => {}
        }
        cur.push(c);
        prev = c;
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// `name = expr`, wrapped as `name = (\n    expr\n)` or as a wrapped call when long.
fn assign(name: &str, expr: &str) -> String {
    let one = format!("{name} = {expr}");
    if one.chars().count() <= LINE {
        return one;
    }
    if let Some(open) = expr.find('(') {
        if expr.ends_with(')') {
            let func = &expr[..open];
            let args = split_args(&expr[open + 1..expr.len() - 1]);
            return call(0, &format!("{name} = "), func, &args, "");
        }
    }
    format!("{name} = (\n    {expr}\n)")
}

struct Ctx<'a> {
    schema: &'a ir::Schema,
    /// Schema enum name -> Python class name.
    enum_class: HashMap<String, String>,
    /// Schema record name -> Python class name.
    record_class: HashMap<String, String>,
}

impl Ctx<'_> {
    fn enum_member(&self, enum_name: &str, variant: &str) -> String {
        format!("{}.{}", self.enum_class[enum_name], member_name(variant))
    }

    /// The Python annotation of a value of `ty` (optionality not included).
    fn annotation(&self, ty: &Ty) -> String {
        match ty {
            Ty::Scalar { dtype } => scalar_annotation(*dtype).into(),
            Ty::Str => "str".into(),
            Ty::Bytes => "bytes".into(),
            Ty::Array { dtype, .. } => format!("npt.NDArray[{}]", np_scalar(*dtype)),
            Ty::Enum { name } => self.enum_class[name].clone(),
            Ty::Record { name, shape } if shape.is_empty() => self.record_class[name].clone(),
            Ty::Record { name, .. } => format!("list[{}]", self.record_class[name]),
            Ty::List { item } => format!("list[{}]", self.annotation(item)),
            Ty::Map { value } => format!("dict[str, {}]", self.annotation(value)),
        }
    }

    /// The codec expression of `ty` (attributes of the field apply at the top only).
    fn codec(&self, ty: &Ty, bits: Option<u32>, range: &Option<ir::Range>) -> String {
        let mut extra: Vec<String> = Vec::new();
        if let Some(b) = bits {
            extra.push(format!("bits={b}"));
        }
        if let Some(r) = range_arg(range) {
            extra.push(r);
        }
        let tail = |mut args: Vec<String>| {
            args.extend(extra.iter().cloned());
            args.join(", ")
        };
        match ty {
            Ty::Scalar { dtype } if *dtype == Dtype::Bool => "_g.Bool()".into(),
            Ty::Scalar { dtype } if dtype.is_float() => {
                let mut args = vec![py_str(dtype.name())];
                if let Some(r) = range_arg(range) {
                    args.push(r);
                }
                format!("_g.Float({})", args.join(", "))
            }
            Ty::Scalar { dtype } => format!("_g.Int({})", tail(vec![py_str(dtype.name())])),
            Ty::Str => "_g.Str()".into(),
            Ty::Bytes => "_g.Bytes()".into(),
            Ty::Array { dtype, shape } => format!(
                "_g.Array({})",
                tail(vec![py_str(dtype.name()), shape_spec(shape)])
            ),
            Ty::Enum { name } => {
                let repr = self.schema.enum_def(name).map_or(Dtype::U8, |e| e.repr);
                format!(
                    "_g.Enum({}, {})",
                    self.enum_class[name],
                    py_str(repr.name())
                )
            }
            Ty::Record { name, shape } if shape.is_empty() => {
                format!("_g.Record({})", self.record_class[name])
            }
            Ty::Record { name, shape } => format!(
                "_g.RecordArray({}, {})",
                self.record_class[name],
                shape_spec(shape)
            ),
            Ty::List { item } => format!("_g.List({})", self.codec(item, None, &None)),
            Ty::Map { value } => format!("_g.Map({})", self.codec(value, None, &None)),
        }
    }

    /// A fresh Python value for a schema default literal, given the field's type.
    fn default_value(&self, ty: &Ty, lit: &Literal, codec: &str, packed: bool) -> String {
        match ty {
            Ty::Scalar { dtype } => scalar_literal(*dtype, lit),
            Ty::Str => match lit {
                Literal::Str(s) => py_str(s),
                _ => py_str(""),
            },
            Ty::Bytes => match lit {
                Literal::Str(s) => py_bytes(s),
                _ => "b\"\"".into(),
            },
            Ty::Enum { name } => match lit {
                Literal::Variant(v) | Literal::Str(v) => self.enum_member(name, v),
                _ => format!("{}.{}", self.enum_class[name], "default"),
            },
            Ty::Array { dtype, shape } => {
                let fill = match (dtype, lit) {
                    (Dtype::Bf16, l) => format!("0x{:04X}", round_bf16(lit_f64(l)).1),
                    (d, l) => scalar_literal(*d, l),
                };
                if packed {
                    format!("{codec}.filled({fill})")
                } else {
                    format!(
                        "np.full({}, {fill}, dtype={})",
                        zero_shape(shape),
                        np_scalar(*dtype)
                    )
                }
            }
            // Defaults exist only for scalars, strings, enums and arrays.
            Ty::Record { .. } | Ty::List { .. } | Ty::Map { .. } => format!("{codec}.default()"),
        }
    }
}

fn lit_f64(l: &Literal) -> f64 {
    match l {
        Literal::Bool(b) => f64::from(u8::from(*b)),
        Literal::Int(i) => *i as f64,
        Literal::UInt(u) => *u as f64,
        Literal::Float(f) => *f,
        Literal::Str(_) | Literal::Variant(_) => 0.0,
    }
}

/// A scalar default as a Python literal of the dtype's Python type (floats pre-rounded to
/// the dtype, so the value equals what a round trip through the wire gives).
fn scalar_literal(dtype: Dtype, lit: &Literal) -> String {
    if dtype == Dtype::Bool {
        return match lit {
            Literal::Bool(true) => "True".into(),
            Literal::Int(i) if *i != 0 => "True".into(),
            _ => "False".into(),
        };
    }
    if dtype.is_float() {
        return py_float(round_float(dtype, lit_f64(lit)));
    }
    match lit {
        Literal::Int(i) => i.to_string(),
        Literal::UInt(u) => u.to_string(),
        Literal::Bool(b) => u8::from(*b).to_string(),
        Literal::Float(f) => format!("{}", *f as i64),
        Literal::Str(_) | Literal::Variant(_) => "0".into(),
    }
}

impl Model {
    fn build(schema: &ir::Schema) -> Result<Model, EmitError> {
        let mut ctx = Ctx {
            schema,
            enum_class: HashMap::new(),
            record_class: HashMap::new(),
        };
        // Top-level names: classes, batch/packed classes, codecs; all must be distinct.
        let mut top: HashSet<String> = crate::reserved::PYTHON_MODULE_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut claim = |name: String, what: &str| -> Result<String, EmitError> {
            if !top.insert(name.clone()) {
                return Err(EmitError(format!(
                    "python: {what} `{name}` collides with another name in module `{}`",
                    schema.module
                )));
            }
            Ok(name)
        };
        for e in &schema.enums {
            let c = claim(class_name(&e.name), "enum")?;
            ctx.enum_class.insert(e.name.clone(), c);
        }
        for r in &schema.records {
            let c = claim(class_name(&r.name), "record")?;
            ctx.record_class.insert(r.name.clone(), c);
        }
        for r in &schema.records {
            let c = &ctx.record_class[&r.name];
            claim(format!("{c}Batch"), "batch class")?;
            if r.bitpack.aggregate.is_some() {
                claim(format!("{c}Packed"), "packed class")?;
            }
        }

        // Imported records and enums are defined in their own schema's module and imported
        // from there (`imported_lines`); their names stay claimed above.
        let imported: Vec<(String, String)> = schema
            .enums
            .iter()
            .filter_map(|e| Some((e.origin.clone()?, ctx.enum_class[&e.name].clone())))
            .chain(
                schema
                    .records
                    .iter()
                    .filter_map(|r| Some((r.origin.clone()?, ctx.record_class[&r.name].clone()))),
            )
            .collect();
        let enums = schema
            .own_enums()
            .map(|e| enum_view(&ctx, e))
            .collect::<Result<Vec<_>, _>>()?;
        let mut records = Vec::new();
        for r in schema.own_records() {
            records.push(record_view(&ctx, r, &mut claim)?);
        }
        // Names come from the schema; when they break pep8-naming, say so once for ruff
        // (only the rules actually hit, so the directive is never unused).
        let mut noqa: BTreeSet<&'static str> = BTreeSet::new();
        if generated_header(schema).chars().count() + 2 > LINE {
            noqa.insert("E501");
        }
        for e in schema.own_enums() {
            if !is_cap_words(&class_name(&e.name)) {
                noqa.insert("N801");
            }
            if e.variants
                .iter()
                .any(|v| is_mixed_case(&member_name(&v.name)))
            {
                noqa.insert("N815");
            }
        }
        for r in schema.own_records() {
            if !is_cap_words(&class_name(&r.name)) {
                noqa.insert("N801");
            }
            for f in &r.fields {
                if is_mixed_case(&f.name) {
                    noqa.insert("N815");
                }
                if matches!(f.name.as_str(), "l" | "O" | "I") {
                    noqa.insert("E741");
                }
            }
        }
        let samples = schema
            .own_records()
            .filter(|r| r.kind == RecordKind::Sample)
            .map(|r| ctx.record_class[&r.name].clone())
            .collect();
        Ok(Model {
            header: generated_header(schema),
            noqa: noqa.into_iter().collect::<Vec<_>>().join(", "),
            source: schema.source.clone(),
            package: schema.package.clone(),
            docs: schema.docs.clone(),
            version: crate::VERSION,
            samples,
            imported,
            enums,
            records,
        })
    }

    fn module_doc(&self) -> String {
        // The schema's own module docs come first: they are what the module is about.
        let mut paras = Vec::new();
        for p in doc_paras(&self.docs) {
            paras.extend([p, String::new()]);
        }
        let mut first = format!("Python module generated from ``{}``", self.source);
        if let Some(p) = &self.package {
            first.push_str(&format!(" (package ``{p}``)"));
        }
        first.push('.');
        paras.extend([first, String::new()]);
        if self.samples.is_empty() {
            paras.push("Components only; no samples.".into());
        } else {
            let list: Vec<String> = self.samples.iter().map(|s| format!("``{s}``")).collect();
            paras.push(format!("Samples: {}.", list.join(", ")));
        }
        paras.push(String::new());
        paras.push(
            "Needs numpy, msgpack and schemac-runtime (the wire format is DESIGN §4 of schemac: \
             atdata-compatible msgpack)."
                .into(),
        );
        docstring(&paras, 0)
    }
}

impl RecordView {
    fn codecs_block(&self) -> String {
        self.codecs.join("\n")
    }
}

fn enum_view(_ctx: &Ctx, e: &ir::EnumDef) -> Result<EnumView, EmitError> {
    let mut seen = HashSet::new();
    let mut members = Vec::new();
    for v in &e.variants {
        let attr = member_name(&v.name);
        if !seen.insert(attr.clone()) {
            return Err(EmitError(format!(
                "python: enum `{}`: variant `{}` collides with another after escaping",
                e.name, v.name
            )));
        }
        let paras = doc_paras(&v.docs);
        members.push(MemberView {
            attr,
            value: py_str(&v.name),
            doc: if paras.is_empty() {
                String::new()
            } else {
                docstring(&paras, 4)
            },
        });
    }
    let mut paras = doc_paras(&e.docs);
    if paras.is_empty() {
        paras.push(format!("Enum ``{}``.", e.name));
    }
    paras.push(String::new());
    paras.push(format!(
        "On the wire: the variant name (str). In batches: the variant index as {}.",
        e.repr.name()
    ));
    Ok(EnumView {
        name: class_name(&e.name),
        doc: docstring(&paras, 4),
        members,
    })
}

fn record_view(
    ctx: &Ctx,
    r: &ir::Record,
    claim: &mut impl FnMut(String, &str) -> Result<String, EmitError>,
) -> Result<RecordView, EmitError> {
    let cls = ctx.record_class[&r.name].clone();
    let is_sample = r.kind == RecordKind::Sample;
    let mut reserved: HashSet<String> = RECORD_RESERVED.iter().map(|s| s.to_string()).collect();
    reserved.extend(ctx.record_class.values().cloned());
    reserved.extend(ctx.enum_class.values().cloned());

    let mut attrs: HashSet<String> = HashSet::new();
    let mut fields = Vec::new();
    let mut codecs = Vec::new();
    let mut field_specs = Vec::new();
    let mut default_args = Vec::new();
    let mut accessor_names: BTreeSet<String> = BTreeSet::new();
    for f in &r.fields {
        let attr = attr_name(&f.name, &reserved);
        if !attrs.insert(attr.clone()) {
            return Err(EmitError(format!(
                "python: {}.{}: attribute `{attr}` collides with another field",
                r.name, f.name
            )));
        }
        let codec_name = claim_free(claim, &format!("_c_{}_{}", snake(&r.name), snake(&f.name)))?;
        let packed = f.packed_bytes.is_some();
        let packed_codec = if let (true, Some(bits)) = (packed, f.bits) {
            let (dtype, shape) = match &f.ty {
                Ty::Array { dtype, shape } => (*dtype, shape.clone()),
                Ty::Scalar { dtype } => (*dtype, Vec::new()),
                other => {
                    return Err(EmitError(format!(
                        "python: {}.{}: @packed on {}",
                        r.name,
                        f.name,
                        schema_type(other)
                    )))
                }
            };
            let expr = format!(
                "_g.Packed({}, {}, {bits}, {})",
                py_str(dtype.name()),
                shape_spec(&shape),
                f.packed_bytes.unwrap_or(0)
            );
            if f.optional {
                let name = claim_free(claim, &format!("_p_{}_{}", snake(&r.name), snake(&f.name)))?;
                codecs.push(assign(&name, &expr));
                Some((name, None))
            } else {
                Some((codec_name.clone(), Some(expr)))
            }
        } else {
            None
        };
        let mut codec = match &packed_codec {
            Some((_, Some(expr))) => expr.clone(),
            Some((name, None)) => name.clone(),
            None => ctx.codec(&f.ty, f.bits, &f.range),
        };
        let packed_codec = packed_codec.map(|(name, _)| name);
        if f.optional {
            codec = format!("_g.Optional({codec})");
        }
        codecs.push(assign(&codec_name, &codec));
        let mut spec_args = vec![py_str(&f.name), py_str(&attr), codec_name.clone()];
        if !f.aliases.is_empty() {
            // `@alias` keys the reader also takes (a one-element tuple needs its comma).
            let keys: Vec<String> = f.aliases.iter().map(|a| py_str(a)).collect();
            spec_args.push(format!("aliases=({},)", keys.join(", ")));
        }
        field_specs.push(call(8, "", "_g.Field", &spec_args, ","));

        let base_ann = if packed {
            "bytes".to_string()
        } else {
            ctx.annotation(&f.ty)
        };
        let ann = if f.optional {
            format!("{base_ann} | None")
        } else {
            base_ann
        };
        let default_value = f.default.as_ref().map(|lit| {
            ctx.default_value(
                &f.ty,
                lit,
                packed_codec.as_deref().unwrap_or(&codec_name),
                packed,
            )
        });
        let mutable = !matches!(
            f.ty,
            Ty::Scalar { .. } | Ty::Str | Ty::Bytes | Ty::Enum { .. }
        ) || packed;
        let decl_default = match (&default_value, f.optional) {
            (Some(v), _) if mutable => Some(format!("field(default_factory=lambda: {v})")),
            (Some(v), _) => Some(v.clone()),
            (None, true) => Some("None".into()),
            (None, false) => None,
        };
        let decl = match &decl_default {
            Some(d) => format!("{attr}: {ann} = {d}"),
            None => format!("{attr}: {ann}"),
        };
        let decl = if decl.len() + 4 > LINE {
            match &decl_default {
                Some(d) => format!("{attr}: {ann} = (\n        {d}\n    )"),
                None => decl,
            }
        } else {
            decl
        };
        if decl_default.is_none() {
            default_args.push(call(
                12,
                &format!("{attr}="),
                &format!("{codec_name}.default"),
                &[],
                ",",
            ));
        }

        // Field docstring: the schema docs, then the type and attributes.
        let mut paras = doc_paras(&f.docs);
        if !paras.is_empty() {
            paras.push(String::new());
        }
        let mut ty_line = format!(
            "``{}{}``",
            schema_type(&f.ty),
            if f.optional { "?" } else { "" }
        );
        if let Some(b) = f.bits {
            ty_line.push_str(&format!(" ``@bits({b})``"));
        }
        if let Some(rg) = &f.range {
            ty_line.push_str(&format!(
                " ``@range({}, {})``",
                fmt_num(rg.lo),
                fmt_num(rg.hi)
            ));
        }
        if let Some(nb) = f.packed_bytes {
            ty_line.push_str(&format!(
                " ``@packed``: held as {nb} packed bytes; ``{attr}_unpacked()`` gives the values"
            ));
        }
        if let Ty::Array {
            dtype: Dtype::Bf16, ..
        } = &f.ty
        {
            ty_line.push_str(" (bf16 held as uint16 raw bits)");
        }
        if let Ty::Record { shape, .. } = &f.ty {
            if !shape.is_empty() {
                ty_line.push_str(" (a flat list in C order)");
            }
        }
        paras.push(format!("{ty_line}."));
        let doc = docstring(&paras, 4);

        let key = py_str(&f.name);
        let p = format!("f\"{{path}}.{}\"", f.name);
        let wire = call(
            12,
            &format!("{key}: "),
            &format!("{codec_name}.write"),
            &[p.clone(), format!("self.{attr}"), "dims".into()],
            ",",
        );
        let json = call(
            12,
            &format!("{key}: "),
            &format!("{codec_name}.to_json"),
            &[p.clone(), format!("self.{attr}")],
            ",",
        );
        // `m` is what `_g.read_fields` decoded, in wire order (nil for a required field is
        // already missing_field there); an absent field takes its default or is
        // missing_field here, in declaration order (docs/language.md, "Error precedence").
        let read = |fallback: &Option<String>| -> String {
            match (fallback, f.optional) {
                // A constant default (ruff's SIM401 wants `get`); a call (an array) only
                // when the field is absent.
                (Some(v), _) if !v.contains('(') => call(
                    12,
                    &format!("{attr}="),
                    "m.get",
                    &[key.clone(), v.clone()],
                    ",",
                ),
                (Some(v), _) => ternary(
                    12,
                    &format!("{attr}="),
                    &format!("m[{key}]"),
                    &format!("{key} in m"),
                    v,
                    ",",
                ),
                (None, true) => format!("            {attr}=m.get({key}),"),
                (None, false) => ternary(
                    12,
                    &format!("{attr}="),
                    &format!("m[{key}]"),
                    &format!("{key} in m"),
                    &format!("_w.missing(path, {key})"),
                    ",",
                ),
            }
        };
        let from_wire = read(&default_value);
        let from_json = from_wire.clone();
        let validate = call(
            8,
            "",
            &format!("{codec_name}.validate"),
            &[p.clone(), format!("self.{attr}"), "dims".into()],
            "",
        );
        let random = call(
            12,
            &format!("{attr}="),
            &format!("{codec_name}.random"),
            &["rng".into(), "dims".into()],
            ",",
        );
        let eq_args = [format!("self.{attr}"), format!("other.{attr}")];
        let eq = call(12, "and ", &format!("{codec_name}.equal"), &eq_args, "");
        let eq_first = call(12, "", &format!("{codec_name}.equal"), &eq_args, "");

        let accessor = if packed {
            let getter = format!("{attr}_unpacked");
            let setter = format!("set_{attr}_unpacked");
            for n in [&getter, &setter] {
                if !accessor_names.insert(n.clone()) {
                    return Err(EmitError(format!(
                        "python: {}: accessor `{n}` is defined twice",
                        r.name
                    )));
                }
            }
            let (scalar_ann, dtype) = match &f.ty {
                Ty::Scalar { dtype } => (Some(scalar_annotation(*dtype)), *dtype),
                Ty::Array { dtype, .. } => (None, *dtype),
                _ => (None, Dtype::U8),
            };
            let base = match scalar_ann {
                Some(a) => a.to_string(),
                None => format!("npt.NDArray[{}]", np_scalar(dtype)),
            };
            let pc = packed_codec.clone().unwrap_or_default();
            let path_lit = py_str(&format!("{}.{}", r.name, f.name));
            let get_expr = match scalar_ann {
                Some("bool") => format!("bool({pc}.unpacked_value({path_lit}, self.{attr}))"),
                Some(_) => format!("int({pc}.unpacked_value({path_lit}, self.{attr}))"),
                None => format!("{pc}.unpack({path_lit}, self.{attr})"),
            };
            let (annotation, body_get, body_set) = if f.optional {
                (
                    format!("{base} | None"),
                    format!("return None if self.{attr} is None else {get_expr}"),
                    format!(
                        "self.{attr} = None if values is None else {pc}.pack({path_lit}, values)"
                    ),
                )
            } else {
                (
                    base.clone(),
                    format!("return {get_expr}"),
                    format!("self.{attr} = {pc}.pack({path_lit}, values)"),
                )
            };
            let shape_txt = match &f.ty {
                Ty::Array { shape, .. } => format!("shape ``{}``", fmt_shape(shape)),
                _ => "a scalar".into(),
            };
            let setter_param = match (scalar_ann, f.optional) {
                (Some(a), false) => a.to_string(),
                (Some(a), true) => format!("{a} | None"),
                (None, false) => "npt.ArrayLike".to_string(),
                (None, true) => "npt.ArrayLike | None".to_string(),
            };
            let set_doc = docstring(
                &[format!(
                    "Pack ``values`` ({shape_txt}) into ``{attr}``; values must fit the bits."
                )],
                8,
            );
            Some(AccessorView {
                getter,
                setter,
                annotation,
                setter_param,
                set_doc,
                body_get: wrap_stmt(8, &body_get),
                body_set: wrap_stmt(8, &body_set),
                doc: docstring(
                    &[format!(
                        "``{}`` unpacked: {shape_txt} of {} ({} bits each, {} bytes packed).",
                        f.name,
                        dtype.name(),
                        f.bits.unwrap_or(0),
                        f.packed_bytes.unwrap_or(0)
                    )],
                    8,
                ),
            })
        } else {
            None
        };

        fields.push(FieldView {
            decl,
            eq_first,
            doc,
            wire,
            from_wire,
            json,
            from_json,
            validate,
            random,
            eq,
            accessor,
        });
    }
    for name in &accessor_names {
        if attrs.contains(name) {
            return Err(EmitError(format!(
                "python: {}: `@packed` accessor `{name}` collides with a field",
                r.name
            )));
        }
    }

    let mut paras = doc_paras(&r.docs);
    if paras.is_empty() {
        paras.push(format!(
            "{} ``{}``.",
            if is_sample { "Sample" } else { "Component" },
            r.name
        ));
    }
    paras.push(String::new());
    paras.push(if is_sample {
        format!(
            "A sample: msgpack bytes via ``packed`` / ``from_bytes``, WebDataset via ``as_wds`` / \
             ``from_wds``, JSON via ``to_json`` / ``from_json``. Layout fingerprint ``{}``.",
            r.fingerprint
        )
    } else {
        format!(
            "A component (nested in samples; a nested msgpack map on the wire). Layout \
             fingerprint ``{}``.",
            r.fingerprint
        )
    });
    if !r.named_dims.is_empty() {
        let dims: Vec<String> = r
            .named_dims
            .iter()
            .map(|d| match d.size {
                Some(n) => format!("``{} = {n}``", d.name),
                None => format!("``{}``", d.name),
            })
            .collect();
        paras.push(String::new());
        paras.push(format!(
            "Named dims {}: every field using one must agree (checked by ``validate`` and the \
             readers).",
            dims.join(", ")
        ));
    }

    let batch = batch_view(ctx, r, &cls);
    let packed = r.bitpack.aggregate.map(|agg| PackedView {
        name: format!("{cls}Packed"),
        doc: docstring(
            &[
                format!(
                    "``{}`` as one aggregate bitstream: {} bits in {} uint32 words per row.",
                    r.name, agg.total_bits, agg.words
                ),
                String::new(),
                format!(
                    "The compact byte form of a row is {} bytes ({} words + {} tail bytes), the \
                     same bytes as xtructure's ``words`` + ``tail``. Leaves, in stream order: {}.",
                    agg.compact_bytes,
                    agg.words_len,
                    agg.tail_bytes,
                    r.leaves
                        .iter()
                        .map(|l| format!(
                            "``{}`` at bit {} ({} x {} bits)",
                            l.path,
                            l.bit_offset.unwrap_or(0),
                            l.elements.unwrap_or(0),
                            l.bits.unwrap_or(0)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ],
            4,
        ),
        total_bits: agg.total_bits,
        words: agg.words,
        words_len: agg.words_len,
        tail_bytes: agg.tail_bytes,
        compact_bytes: agg.compact_bytes,
        leaves: r
            .leaves
            .iter()
            .map(|l| {
                let dtype = l.kind.dtype().unwrap_or(Dtype::U8);
                let shape: Vec<String> = l
                    .shape
                    .iter()
                    .map(|d| d.fixed().unwrap_or(0).to_string())
                    .collect();
                call(
                    8,
                    "",
                    "_b.PackedLeaf",
                    &[
                        py_str(&l.path),
                        py_str(dtype.name()),
                        py_tuple(&shape),
                        l.bits.unwrap_or(0).to_string(),
                        l.bit_offset.unwrap_or(0).to_string(),
                    ],
                    ",",
                )
            })
            .collect(),
    });

    let eq_expr = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 0 {
                f.eq_first.clone()
            } else {
                f.eq.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(RecordView {
        name: cls,
        path_lit: py_str(&r.name),
        eq_expr,
        is_sample,
        doc: docstring(&paras, 4),
        fingerprint: r.fingerprint.clone(),
        codecs,
        fields,
        field_specs,
        default_args,
        batch,
        packed,
    })
}

/// `ImageSample` -> `image_sample` (codec constants must not be mixedCase for ruff's N816).
fn snake(s: &str) -> String {
    use heck::ToSnakeCase;
    s.to_snake_case()
}

/// Claims `base`, or `base_2`, `base_3`, ... when taken (codec constants are private, so any
/// free name will do; the result is still deterministic).
fn claim_free(
    claim: &mut impl FnMut(String, &str) -> Result<String, EmitError>,
    base: &str,
) -> Result<String, EmitError> {
    if let Ok(n) = claim(base.to_string(), "codec") {
        return Ok(n);
    }
    for i in 2.. {
        if let Ok(n) = claim(format!("{base}_{i}"), "codec") {
            return Ok(n);
        }
    }
    unreachable!()
}

/// ruff's N801 test: CapWords (after leading underscores: an uppercase start, no `_`).
fn is_cap_words(name: &str) -> bool {
    let s = name.trim_start_matches('_');
    s.chars().next().is_some_and(|c| c.is_uppercase()) && !s.contains('_')
}

/// ruff's mixedCase test (N815): a lowercase start and some uppercase letter.
fn is_mixed_case(name: &str) -> bool {
    let s = name.trim_start_matches('_');
    s.chars().next().is_some_and(|c| c.is_lowercase()) && s.chars().any(|c| c.is_uppercase())
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A simple statement at `indent`; `a = b if c else d` and `return ...` are parenthesised
/// over lines when too long.
fn wrap_stmt(indent: usize, stmt: &str) -> String {
    let pad = " ".repeat(indent);
    let one = format!("{pad}{stmt}");
    if one.chars().count() <= LINE {
        return one;
    }
    let (head, expr) = if let Some(rest) = stmt.strip_prefix("return ") {
        ("return ".to_string(), rest.to_string())
    } else if let Some(eq) = stmt.find(" = ") {
        (stmt[..eq + 3].to_string(), stmt[eq + 3..].to_string())
    } else {
        return one;
    };
    let inner = " ".repeat(indent + 4);
    if let (Some(i), Some(e)) = (expr.find(" if "), expr.find(" else ")) {
        let (a, rest) = expr.split_at(i);
        let cond = &rest[4..e - i];
        let other = &rest[e - i + 6..];
        return format!("{pad}{head}(\n{inner}{a}\n{inner}if {cond}\n{inner}else {other}\n{pad})");
    }
    format!("{pad}{head}(\n{inner}{expr}\n{pad})")
}

fn batch_view(ctx: &Ctx, r: &ir::Record, cls: &str) -> BatchView {
    let mut reserved: HashSet<String> = BATCH_RESERVED.iter().map(|s| s.to_string()).collect();
    reserved.extend(ctx.record_class.values().cloned());
    reserved.extend(ctx.enum_class.values().cloned());
    let mut used: HashSet<String> = HashSet::new();
    let mut props = Vec::new();
    let mut leaves = Vec::new();
    for l in &r.leaves {
        let storage = match l.soa.storage {
            SoaStorage::Fixed => "fixed",
            SoaStorage::Ragged => "ragged",
            SoaStorage::Binary => "binary",
            SoaStorage::Encoded => "encoded",
        };
        leaves.push(call(
            8,
            "",
            "_b.LeafSpec",
            &[
                py_str(&l.path),
                py_str(storage),
                py_str(l.soa.dtype.name()),
                shape_spec(&l.shape),
                if l.soa.validity { "True" } else { "False" }.into(),
            ],
            ",",
        ));
        let name = attr_name(&l.segments.join("__").to_lowercase(), &reserved);
        if !used.insert(name.clone()) {
            continue;
        }
        let fixed = l.soa.storage == SoaStorage::Fixed && !l.soa.validity;
        let mut shape = vec!["n".to_string()];
        shape.extend(l.shape.iter().map(|d| d.to_string()));
        let what = match &l.kind {
            ir::LeafKind::Numeric { dtype } => dtype.name().to_string(),
            ir::LeafKind::Str => "str".into(),
            ir::LeafKind::Bytes => "bytes".into(),
            ir::LeafKind::Enum { name, repr } => {
                format!("{name} (variant index as {})", repr.name())
            }
            ir::LeafKind::List { item } => format!("list<{}>", schema_type(item)),
            ir::LeafKind::Map { value } => format!("map<str, {}>", schema_type(value)),
        };
        let storage_doc = match l.soa.storage {
            SoaStorage::Fixed => format!("``values`` ``[{}]``", shape.join(", ")),
            SoaStorage::Ragged => format!(
                "ragged: ``values`` (rows of shape ``{}`` back to back), ``offsets``, ``shapes``",
                fmt_shape(&l.shape)
            ),
            SoaStorage::Binary => "binary: ``values`` (uint8) + ``offsets``".into(),
            SoaStorage::Encoded => "encoded: each row's msgpack in ``values`` + ``offsets``".into(),
        };
        let validity = if l.soa.validity { ", ``validity``" } else { "" };
        let (annotation, body, doc) = if fixed {
            (
                format!("npt.NDArray[{}]", np_scalar(l.soa.dtype)),
                format!("return self.columns[{}].values", py_str(&l.path)),
                format!("``{}``: {what}, ``[{}]``.", l.path, shape.join(", ")),
            )
        } else {
            (
                "_b.Column".to_string(),
                format!("return self.columns[{}]", py_str(&l.path)),
                format!("``{}``: {what}; {storage_doc}{validity}.", l.path),
            )
        };
        props.push(PropView {
            name,
            annotation,
            body: wrap_stmt(8, &body),
            doc: docstring(&[doc], 8),
        });
    }
    BatchView {
        name: format!("{cls}Batch"),
        doc: docstring(
            &[
                format!(
                    "A batch of ``{}`` as structure-of-arrays columns, one per leaf.",
                    r.name
                ),
                String::new(),
                "``batch[i]`` is a sample (arrays are views into the columns); a slice, boolean \
                 mask or index array gives a batch. ``save`` / ``load`` use safetensors \
                 (tensor names: ``schemac_runtime.batch``)."
                    .into(),
            ],
            4,
        ),
        leaves,
        props,
    }
}

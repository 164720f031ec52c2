//! Rust layout types (DESIGN §5), appended to each generated module by the Rust emitter:
//!
//! - `<Name>Batch` for every record (samples and components): one 64-byte-aligned column
//!   per IR leaf, stored as the leaf's `soa.storage` says (fixed / ragged / binary /
//!   encoded, plus a validity bitmap for optional leaves), with collate/split, a borrowed
//!   `<Name>Row<'a>`, typed column accessors and safetensors save/load.
//! - `<Name>Packed` and `<Name>PackedBatch` for every record whose IR has
//!   `bitpack.aggregate`: the aggregate bitstream as `[u32; WORDS]` (one row) or rows of
//!   words in one aligned buffer, with the compact xtructure byte form.
//!
//! The emitter only reads the IR. It turns each leaf into a *plan* (the chain of component
//! fields from the record down to the leaf's own field) and renders two kinds of code from
//! it: a **walk** that visits the leaf's values in a sample in flat C order (component
//! arrays outermost) and appends them to a sink (a batch column, or a stack buffer that is
//! then bit-packed), and an **assembly** that rebuilds a sample from per-leaf row sources,
//! consuming each leaf's values through a cursor in the same order. The skeletons are the
//! askama templates in `templates/rust/layouts/`; the snippets are built here.
//!
//! Conventions of the structs this code reads and builds (the Rust emitter's, see
//! [`super`]): fields named as in the schema (raw identifiers for keywords), `NdArray<T>`
//! arrays, `Vec<C>` component arrays in C order, `Option<_>` for optional fields, `[u8; N]`
//! packed bytes for per-field `@packed` leaves, enums with UpperCamelCase variants that
//! implement `FromStr`, and the `schemac_runtime::gen_support::Record` trait on every struct.
//!
//! Encoded rows (lists, maps, str/bytes under component arrays) are the msgpack of the leaf's
//! wire value; under component arrays, nested msgpack arrays following the array dims
//! (outermost first), exactly as the Python runtime's `batch.py` writes them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use askama::Template;
use heck::ToSnakeCase;

use crate::ir::{
    self, Dim, Dtype, Field, Leaf, LeafKind, Record, RecordKind, Schema, SoaStorage, Ty,
};

const RT: &str = "::schemac_runtime";

/// The layout types of every record in `schema`, as Rust items (unformatted).
pub(super) fn render(schema: &ir::Schema) -> String {
    let mut out = String::new();
    // Imported records have their layout types in their own schema's module.
    for rec in schema.own_records() {
        let plans = plans(schema, rec);
        let model = BatchModel::build(schema, rec, &plans);
        out.push_str(
            &BatchTemplate { m: &model }
                .render()
                .expect("layouts batch template renders"),
        );
        out.push('\n');
        if let Some(agg) = rec.bitpack.aggregate {
            let model = PackedModel::build(schema, rec, &plans, agg);
            out.push_str(
                &PackedTemplate { m: &model }
                    .render()
                    .expect("layouts packed template renders"),
            );
            out.push('\n');
        }
    }
    out
}

#[derive(Template)]
#[template(path = "rust/layouts/batch.rs", escape = "none")]
struct BatchTemplate<'a> {
    m: &'a BatchModel,
}

#[derive(Template)]
#[template(path = "rust/layouts/packed.rs", escape = "none")]
struct PackedTemplate<'a> {
    m: &'a PackedModel,
}

// ---------------------------------------------------------------------------------------------
// Names and types

/// A field name as a Rust identifier (the struct emitter's rule: raw identifiers for
/// keywords).
fn ident(name: &str) -> String {
    super::field_ident(name)
}

/// A record or enum (or variant) name as the Rust type name the struct emitter gives it.
fn tyname(name: &str) -> String {
    super::type_ident(name)
}

fn elem_ty(d: Dtype) -> String {
    match d {
        Dtype::F16 => format!("{RT}::half::f16"),
        Dtype::Bf16 => format!("{RT}::half::bf16"),
        d => d.name().to_owned(),
    }
}

/// A zero literal of an integer or bool dtype (for stack buffers).
fn zero_lit(d: Dtype) -> String {
    match d {
        Dtype::Bool => "false".to_owned(),
        d => format!("0{}", d.name()),
    }
}

fn fixed_dims(dims: &[Dim]) -> Vec<u64> {
    dims.iter()
        .map(|d| d.fixed().expect("fixed dims"))
        .collect()
}

fn product(dims: &[u64]) -> u64 {
    dims.iter().product()
}

fn usize_list(v: &[u64]) -> String {
    v.iter()
        .map(|d| format!("{d}usize"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn spec_str(dims: &[Dim]) -> String {
    format!(
        "[{}]",
        dims.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `&[Some(4), None, Some(3)]` for `check_dims`.
fn opt_dims(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d.fixed() {
            Some(n) => format!("Some({n}usize)"),
            None => "None".to_owned(),
        })
        .collect();
    format!("&[{}]", parts.join(", "))
}

fn dimspec(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Fixed(n) => format!("{RT}::array::DimSpec::Fixed({n})"),
            Dim::Named(n) => format!("{RT}::array::DimSpec::Named({n:?})"),
            Dim::Dynamic => format!("{RT}::array::DimSpec::Any"),
        })
        .collect();
    format!("&[{}]", parts.join(", "))
}

fn enum_fn(kind: &str, name: &str) -> String {
    format!("enum_{kind}_{}", name.to_snake_case())
}

// ---------------------------------------------------------------------------------------------
// Leaf plans

/// One component field on the way from a record down to a leaf.
struct Level<'a> {
    field: &'a Field,
    /// The component-array dims of this field (`[]` for a single component).
    dims: Vec<Dim>,
}

/// A leaf, resolved against the records: how to reach it from a sample value.
struct Plan<'a> {
    /// Position in the record's leaves.
    j: usize,
    leaf: &'a Leaf,
    /// `history__xyz` (keyword-escaped when it is a single keyword).
    ident: String,
    /// `history__xyz`, never escaped (to build other names from).
    base: String,
    levels: Vec<Level<'a>>,
    /// The leaf's own field.
    field: &'a Field,
    /// The field's own dims (`[]` for scalars and non-arrays).
    own: Vec<Dim>,
}

impl Plan<'_> {
    fn has_arrays(&self) -> bool {
        self.levels.iter().any(|l| !l.dims.is_empty())
    }

    /// Number of leaf-shape dims contributed by the levels before `lvl`.
    fn dims_before(&self, lvl: usize) -> usize {
        self.levels[..lvl].iter().map(|l| l.dims.len()).sum()
    }

    fn storage(&self) -> SoaStorage {
        self.leaf.soa.storage
    }

    fn elem(&self) -> String {
        elem_ty(self.leaf.soa.dtype)
    }

    fn packed_field(&self) -> bool {
        self.field.packed_bytes.is_some()
    }

    /// The field of the `<Name>Columns` struct holding the leaf's column.
    fn col(&self) -> String {
        format!("c_{}", self.base)
    }

    /// The leaf's values column (inside the `OptColumn` of an optional leaf).
    fn vcol(&self) -> String {
        if self.leaf.soa.validity {
            format!("c_{}.values", self.base)
        } else {
            self.col()
        }
    }

    /// The validity bitmap of an optional leaf.
    fn valid(&self) -> String {
        format!("c_{}.validity", self.base)
    }

    /// The values column's type.
    fn values_ty(&self) -> String {
        match self.storage() {
            SoaStorage::Fixed => format!("{RT}::batch::FixedColumn<{}>", self.elem()),
            SoaStorage::Ragged => format!("{RT}::batch::RaggedColumn<{}>", self.elem()),
            SoaStorage::Binary if matches!(self.leaf.kind, LeafKind::Str) => {
                format!("{RT}::batch::StrColumn")
            }
            SoaStorage::Binary | SoaStorage::Encoded => format!("{RT}::batch::BinaryColumn"),
        }
    }

    /// The column field's type (`OptColumn<values>` for an optional leaf).
    fn col_ty(&self) -> String {
        if self.leaf.soa.validity {
            format!("{RT}::batch::OptColumn<{}>", self.values_ty())
        } else {
            self.values_ty()
        }
    }
}

fn plans<'a>(schema: &'a Schema, rec: &'a Record) -> Vec<Plan<'a>> {
    rec.leaves
        .iter()
        .enumerate()
        .map(|(j, leaf)| {
            let mut r = rec;
            let mut levels = Vec::new();
            let last = leaf.segments.len() - 1;
            for seg in &leaf.segments[..last] {
                let field = r
                    .fields
                    .iter()
                    .find(|f| &f.name == seg)
                    .expect("leaf path names fields");
                let Ty::Record { name, shape } = &field.ty else {
                    panic!("leaf path {} goes through a non-component field", leaf.path)
                };
                levels.push(Level {
                    field,
                    dims: shape.clone(),
                });
                r = schema.record(name).expect("components are in the schema");
            }
            let field = r
                .fields
                .iter()
                .find(|f| f.name == leaf.segments[last])
                .expect("leaf field exists");
            let own = match &field.ty {
                Ty::Array { shape, .. } => shape.clone(),
                _ => Vec::new(),
            };
            let base = leaf.segments.join("__");
            let id = if leaf.segments.len() == 1 {
                ident(&base)
            } else {
                base.clone()
            };
            Plan {
                j,
                leaf,
                ident: id,
                base,
                levels,
                field,
                own,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// msgpack of encoded values (lists, maps, and str/bytes under component arrays)

/// Statements writing the value `v` (a reference) of type `ty` into `w` (a `&mut Writer`).
fn encode(ty: &Ty, v: &str, w: &str, depth: usize, enums: &mut BTreeSet<String>) -> String {
    match ty {
        Ty::Scalar { .. } => format!("{w}.scalar(*{v});"),
        Ty::Str => format!("{w}.str({v});"),
        Ty::Bytes => format!("{w}.bin({v});"),
        Ty::Array { .. } => format!("{w}.array({v});"),
        Ty::Enum { name } => {
            enums.insert(name.clone());
            format!("{w}.str(Self::{}({v}));", enum_fn("name", name))
        }
        Ty::Record { shape, .. } => {
            if shape.is_empty() {
                format!("{RT}::gen_support::Record::write_msgpack({v}, {w});")
            } else {
                let inner = fixed_dims(&shape[1..]);
                format!(
                    "{RT}::gen_support::write_records({w}, {v}, &[{}]);",
                    usize_list(&inner)
                )
            }
        }
        Ty::List { item } => {
            let x = format!("it{depth}");
            format!(
                "{w}.array_header({v}.len()); for {x} in {v}.iter() {{ {} }}",
                encode(item, &x, w, depth + 1, enums)
            )
        }
        Ty::Map { value } => {
            let (k, x) = (format!("key{depth}"), format!("it{depth}"));
            format!(
                "{w}.map_header({v}.len()); for ({k}, {x}) in {v}.iter() {{ {w}.str({k}); {} }}",
                encode(value, &x, w, depth + 1, enums)
            )
        }
    }
}

/// A `Result<T>` expression reading a value of type `ty` from reader `r`: `rm` is the
/// reader as a method receiver, `r` as a `&mut Reader` argument.
fn decode(ty: &Ty, rm: &str, r: &str) -> String {
    match ty {
        Ty::Scalar { dtype } => format!("{rm}.scalar::<{}>()", elem_ty(*dtype)),
        Ty::Str => format!("{rm}.str().map(::std::borrow::ToOwned::to_owned)"),
        Ty::Bytes => format!("{rm}.bin().map(<[u8]>::to_vec)"),
        Ty::Array { dtype, shape } => format!(
            "{RT}::gen_support::read_array::<{}>({r}, {}, &mut {RT}::array::DimTable::new())",
            elem_ty(*dtype),
            dimspec(shape)
        ),
        Ty::Enum { name } => format!("{RT}::gen_support::read_enum::<{}>({r})", tyname(name)),
        Ty::Record { name, shape } => {
            if shape.is_empty() {
                format!(
                    "<{} as {RT}::gen_support::Record>::read_msgpack_in({r}, &mut {RT}::array::DimTable::new())",
                    tyname(name)
                )
            } else {
                format!(
                    "{RT}::gen_support::read_records::<{}>({r}, {}, &mut {RT}::array::DimTable::new())",
                    tyname(name),
                    dimspec(shape)
                )
            }
        }
        Ty::List { item } => format!(
            "{RT}::gen_support::read_list({r}, |r| {})",
            decode(item, "r", "r")
        ),
        Ty::Map { value } => {
            format!(
                "{RT}::gen_support::read_map::<String, _>({r}, |r| {})",
                decode(value, "r", "r")
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The walk: a sample's values of one leaf, in flat C order, into a sink

#[derive(Clone, Copy, PartialEq, Eq)]
enum SinkKind {
    /// A batch column (`col`), with validity in `self.<v_leaf>`.
    Column,
    /// A `Gather` stack buffer (`g`), for bit-packing; leaves are never optional there.
    Gather,
}

struct Walk<'p, 's> {
    p: &'p Plan<'s>,
    sink: SinkKind,
    /// Row-at-once mode: no component arrays on the path, so every branch pushes a whole row.
    whole_row: bool,
    enums: BTreeSet<String>,
}

impl Walk<'_, '_> {
    fn sink_var(&self) -> &'static str {
        match self.sink {
            SinkKind::Column => "col",
            SinkKind::Gather => "g",
        }
    }

    /// Code for the values under `v` (an expression of the record value holding level `lvl`'s
    /// field, by reference); `tracker` names the `InnerShape` that receives the shape of
    /// everything below (ragged leaves under arrays).
    fn walk(&mut self, lvl: usize, v: &str, tracker: &str) -> String {
        let p = self.p;
        if lvl == p.levels.len() {
            return self.leaf(v, tracker);
        }
        let level = &p.levels[lvl];
        let f = ident(&level.field.name);
        let x = format!("x{lvl}");
        let body = if level.dims.is_empty() {
            self.walk(lvl + 1, &x, tracker)
        } else {
            self.array(lvl, &x, tracker)
        };
        if level.field.optional {
            let absent = self.absent(lvl);
            format!("match &{v}.{f} {{ Some({x}) => {{ {body} }} None => {{ {absent} }} }}")
        } else {
            format!("{{ let {x} = &{v}.{f}; {body} }}")
        }
    }

    /// A component array at `lvl` held in `x` (a `&Vec<_>`).
    fn array(&mut self, lvl: usize, x: &str, tracker: &str) -> String {
        let p = self.p;
        let dims = &p.levels[lvl].dims;
        let inner = fixed_dims(&dims[1..]);
        let first = match dims[0].fixed() {
            Some(n) => format!("Some({n}usize)"),
            None => "None".to_owned(),
        };
        let e = format!("e{lvl}");
        let k = format!("k{lvl}");
        let n = format!("n{lvl}");
        let mut s = String::new();
        let ragged = p.storage() == SoaStorage::Ragged;
        let encoded = p.storage() == SoaStorage::Encoded;
        let _ = write!(
            s,
            "{}{RT}::batch::check_count({x}.len(), {first}, {}usize, {:?})?;",
            if ragged || encoded {
                format!("let {n} = ")
            } else {
                String::new()
            },
            product(&inner),
            spec_str(dims)
        );
        if ragged {
            let t = format!("t{}", lvl + 1);
            let body = self.walk(lvl + 1, &e, &t);
            let below_start = p.dims_before(lvl) + dims.len();
            let below: Vec<String> = p.leaf.shape[below_start..]
                .iter()
                .map(|d| format!("{}usize", d.fixed().unwrap_or(0)))
                .collect();
            let mut head = vec![n.clone()];
            head.extend(inner.iter().map(|d| format!("{d}usize")));
            let _ = write!(
                s,
                "let mut {t} = {RT}::batch::InnerShape::new(); for {e} in {x}.iter() {{ {body} }} \
                 let mut sh{lvl}: Vec<usize> = vec![{}]; sh{lvl}.extend({t}.get_or(&[{}])); {tracker}.see(&sh{lvl})?;",
                head.join(", "),
                below.join(", ")
            );
        } else if encoded {
            let body = self.walk(lvl + 1, &e, tracker);
            if inner.is_empty() {
                let _ = write!(s, "w.array_header({n}); for {e} in {x}.iter() {{ {body} }}");
            } else {
                let _ = write!(
                    s,
                    "w.array_header({n}); for ({k}, {e}) in {x}.iter().enumerate() {{ \
                     {RT}::batch::write_nest_headers(w, {k}, &[{}]); {body} }}",
                    usize_list(&inner)
                );
            }
        } else {
            let body = self.walk(lvl + 1, &e, tracker);
            let _ = write!(s, "for {e} in {x}.iter() {{ {body} }}");
        }
        s
    }

    /// What an absent optional at `lvl` (a component level, or the leaf at `levels.len()`)
    /// contributes.
    fn absent(&self, lvl: usize) -> String {
        let p = self.p;
        let sink = self.sink_var();
        if self.whole_row {
            let push = match p.storage() {
                SoaStorage::Fixed => format!("{sink}.push_default();"),
                SoaStorage::Ragged => {
                    format!("{sink}.push_row(&[0usize; {}], &[])?;", p.leaf.shape.len())
                }
                SoaStorage::Binary | SoaStorage::Encoded => format!("{sink}.push(&[]);"),
            };
            return format!("{push} self.{}.push(false);", p.valid());
        }
        let mut s = "pres.absent();".to_owned();
        match p.storage() {
            SoaStorage::Fixed => {
                let k = product(&fixed_dims(&p.leaf.shape[p.dims_before(lvl)..]));
                let _ = write!(s, " {sink}.extend_default_elems({k});");
            }
            SoaStorage::Encoded => s.push_str(" w.nil();"),
            SoaStorage::Ragged | SoaStorage::Binary => {}
        }
        s
    }

    /// The leaf's own field on `v`.
    fn leaf(&mut self, v: &str, tracker: &str) -> String {
        let p = self.p;
        let f = ident(&p.field.name);
        let emit = self.emit("a", tracker);
        if p.field.optional {
            let absent = self.absent(p.levels.len());
            format!("match &{v}.{f} {{ Some(a) => {{ {emit} }} None => {{ {absent} }} }}")
        } else {
            format!("{{ let a = &{v}.{f}; {emit} }}")
        }
    }

    /// Appends the value `a` (a reference to the leaf field's value).
    fn emit(&mut self, a: &str, tracker: &str) -> String {
        let p = self.p;
        let sink = self.sink_var();
        let mut s = String::new();
        let optional = p.leaf.optional && self.sink == SinkKind::Column;
        if optional && !self.whole_row {
            s.push_str("pres.present(); ");
        }
        let shape_check = if p.own.is_empty() || p.packed_field() {
            String::new()
        } else {
            format!(
                "{RT}::batch::check_dims({a}.shape(), {}, {:?})?; ",
                opt_dims(&p.own),
                spec_str(&p.own)
            )
        };
        let numeric = matches!(p.storage(), SoaStorage::Fixed | SoaStorage::Ragged);
        if numeric {
            // Ragged leaves under component arrays report each element's own shape.
            if p.storage() == SoaStorage::Ragged && !self.whole_row {
                if p.own.is_empty() || p.packed_field() {
                    let _ = write!(s, "{tracker}.see(&[{}])?; ", usize_list(&fixed_own(p)));
                } else {
                    let _ = write!(s, "{shape_check}{tracker}.see({a}.shape())?; ");
                }
            }
            let one_row = self.whole_row && p.storage() == SoaStorage::Fixed;
            if let LeafKind::Enum { name, .. } = &p.leaf.kind {
                self.enums.insert(name.clone());
                let idx = format!("Self::{}({a})", enum_fn("index", name));
                let _ = write!(
                    s,
                    "{sink}.{}({idx});",
                    if one_row { "push_one" } else { "push_elem" }
                );
            } else if p.packed_field() {
                let n = product(&fixed_own(p));
                let bits = p.leaf.bits.expect("@packed leaves have @bits");
                let _ = write!(s, "{sink}.extend_unpacked(&{a}[..], {bits}, {n})?;");
                if one_row {
                    let _ = write!(s, " {sink}.end_row()?;");
                }
            } else if p.own.is_empty() {
                let _ = write!(
                    s,
                    "{sink}.{}(*{a});",
                    if one_row { "push_one" } else { "push_elem" }
                );
            } else if self.whole_row && p.storage() == SoaStorage::Ragged {
                let _ = write!(
                    s,
                    "{shape_check}{sink}.push_row({a}.shape(), {a}.as_slice())?;"
                );
            } else if one_row {
                let _ = write!(s, "{shape_check}{sink}.push_row({a}.as_slice())?;");
            } else if p.storage() == SoaStorage::Ragged {
                let _ = write!(s, "{sink}.extend_elems({a}.as_slice());");
            } else {
                let _ = write!(s, "{shape_check}{sink}.extend_elems({a}.as_slice());");
            }
        }
        match (p.storage(), &p.leaf.kind) {
            (SoaStorage::Fixed | SoaStorage::Ragged, _) => {}
            (SoaStorage::Binary, LeafKind::Str) => {
                let _ = write!(s, "{sink}.push({a}.as_bytes());");
            }
            (SoaStorage::Binary, _) => {
                let _ = write!(s, "{sink}.push({a});");
            }
            (SoaStorage::Encoded, _) => {
                let enc = encode(&p.field.ty, a, "w", 0, &mut self.enums);
                if self.whole_row {
                    let _ = write!(
                        s,
                        "let mut wb = {RT}::msgpack::Writer::new(); {{ let w = &mut wb; {enc} }} {sink}.push(wb.as_bytes());"
                    );
                } else {
                    s.push_str(&enc);
                }
            }
        }
        if optional && self.whole_row {
            let _ = write!(s, " self.{}.push(true);", p.valid());
        }
        s
    }
}

/// The statement of `push_row` for a leaf that is a field of the record itself (no
/// component on the way, not an enum, encoded or `@packed`): one call into the runtime
/// column. `None` for the others, which [`push_leaf`] walks.
fn simple_push(p: &Plan<'_>) -> Option<String> {
    if !p.levels.is_empty()
        || p.packed_field()
        || p.storage() == SoaStorage::Encoded
        || matches!(p.leaf.kind, LeafKind::Enum { .. })
    {
        return None;
    }
    let path = &p.leaf.path;
    // The call on column `c` for the value at `place` (`s.<field>`, or `a`, a reference,
    // in the closure of an optional leaf), and whether it can fail.
    let call = |c: &str, place: &str, by_ref: bool| {
        let (r, v) = if by_ref {
            (place.to_owned(), format!("*{place}"))
        } else {
            (format!("&{place}"), place.to_owned())
        };
        match (p.storage(), &p.leaf.kind) {
            (SoaStorage::Binary, LeafKind::Str) => (format!("{c}.push({place}.as_bytes())"), false),
            (SoaStorage::Binary, _) => (format!("{c}.push({r})"), false),
            (SoaStorage::Fixed, _) if p.own.is_empty() => (format!("{c}.push_one({v})"), false),
            _ => (
                format!(
                    "{c}.push_array({r}, {}, {:?})",
                    opt_dims(&p.own),
                    spec_str(&p.own)
                ),
                true,
            ),
        }
    };
    let f = ident(&p.field.name);
    let col = format!("self.{}", p.col());
    let at = format!(".map_err(|e| e.at({path:?}))?;");
    Some(if p.leaf.optional {
        let body = match call("c", "a", true) {
            (c, true) => c,
            (c, false) => format!("{c}; Ok(())"),
        };
        format!("{col}.push_opt(s.{f}.as_ref(), |c, a| {{ {body} }}){at}")
    } else {
        match call(&col, &format!("s.{f}"), false) {
            (c, true) => format!("{c}{at}"),
            (c, false) => format!("{c};"),
        }
    })
}

/// The body of the private `push_<leaf>` method of a batch.
fn push_leaf(p: &Plan<'_>, enums: &mut BTreeSet<String>) -> String {
    let whole_row = !p.has_arrays();
    let mut w = Walk {
        p,
        sink: SinkKind::Column,
        whole_row,
        enums: BTreeSet::new(),
    };
    let mut s = format!("let col = &mut self.{};", p.vcol());
    if whole_row {
        s.push_str(&w.walk(0, "s", "t0"));
    } else {
        if p.leaf.optional {
            let _ = write!(s, "let mut pres = {RT}::batch::Presence::new();");
        }
        match p.storage() {
            SoaStorage::Ragged => {
                let _ = write!(s, "let mut t0 = {RT}::batch::InnerShape::new();");
            }
            SoaStorage::Encoded => {
                let _ = write!(
                    s,
                    "let mut wb = {RT}::msgpack::Writer::new(); let w = &mut wb;"
                );
            }
            _ => {}
        }
        s.push_str(&w.walk(0, "s", "t0"));
        if p.leaf.optional {
            s.push_str("let valid = pres.resolve()?;");
        }
        match p.storage() {
            SoaStorage::Fixed => s.push_str("col.end_row()?;"),
            SoaStorage::Ragged => {
                let full: Vec<String> = p
                    .leaf
                    .shape
                    .iter()
                    .map(|d| format!("{}usize", d.fixed().unwrap_or(0)))
                    .collect();
                if p.leaf.optional {
                    let _ = write!(
                        s,
                        "let shape = if valid {{ t0.get_or(&[{}]) }} else {{ vec![0usize; {}] }}; col.end_row(&shape)?;",
                        full.join(", "),
                        full.len()
                    );
                } else {
                    let _ = write!(s, "col.end_row(&t0.get_or(&[{}]))?;", full.join(", "));
                }
            }
            SoaStorage::Encoded => {
                if p.leaf.optional {
                    s.push_str("if valid { col.push(wb.as_bytes()); } else { col.push(&[]); }");
                } else {
                    s.push_str("col.push(wb.as_bytes());");
                }
            }
            SoaStorage::Binary => unreachable!("binary leaves are never under component arrays"),
        }
        if p.leaf.optional {
            let _ = write!(s, "self.{}.push(valid);", p.valid());
        }
    }
    enums.extend(w.enums);
    s.push_str(" Ok(())");
    s
}

// ---------------------------------------------------------------------------------------------
// The assembly: a record value from per-leaf row sources

/// How the assembly reads leaf `j`: the prelude declares `r{j}` (fixed/ragged values of the
/// row), `v{j}` (validity), `s{j}` (ragged row shape), `c{j}` (cursor), `o{j}`/`n{j}` (own
/// shape and length of a ragged leaf under arrays), `rd{j}` (reader of an encoded leaf under
/// arrays).
struct Assembly<'s> {
    schema: &'s Schema,
    /// Sources are batch columns (else buffers of a packed row, declared by the caller).
    batch: bool,
    /// Packed rows: leaves outside component arrays are decoded into a `Vec` `l{j}` that
    /// becomes the array (no copy).
    owned: bool,
    enums: BTreeSet<String>,
}

impl Assembly<'_> {
    fn valid(&self, p: &Plan<'_>) -> Option<String> {
        (self.batch && p.leaf.optional).then(|| format!("v{}", p.j))
    }

    /// Prelude statements for every leaf.
    fn prelude(&self, plans: &[Plan<'_>]) -> String {
        let mut s = String::new();
        for p in plans {
            let j = p.j;
            if let Some(v) = self.valid(p) {
                let _ = write!(s, "let {v} = self.{}.get(i);", p.valid());
            }
            match p.storage() {
                SoaStorage::Fixed => {
                    let _ = write!(s, "let r{j} = self.{}.row(i);", p.vcol());
                }
                SoaStorage::Ragged => {
                    let _ = write!(
                        s,
                        "let r{j} = self.{c}.row(i); let s{j} = self.{c}.row_shape(i);",
                        c = p.vcol()
                    );
                    if p.has_arrays() {
                        let k = p.levels.iter().map(|l| l.dims.len()).sum::<usize>();
                        let _ = write!(
                            s,
                            "let o{j} = {RT}::batch::dims(s{j}.get({k}..).unwrap_or_default()); let n{j}: usize = o{j}.iter().product();"
                        );
                    }
                }
                SoaStorage::Encoded if p.has_arrays() => {
                    let _ = write!(
                        s,
                        "let mut rd{j} = {RT}::msgpack::Reader::new(self.{}.row(i));",
                        p.vcol()
                    );
                }
                SoaStorage::Encoded | SoaStorage::Binary => {}
            }
            if p.has_arrays() && matches!(p.storage(), SoaStorage::Fixed | SoaStorage::Ragged) {
                let _ = write!(s, "let mut c{j} = 0usize;");
            }
        }
        s
    }

    /// Statements after the assembly (encoded readers must be used up).
    fn epilogue(&self, plans: &[Plan<'_>]) -> String {
        let mut s = String::new();
        for p in plans {
            if p.storage() == SoaStorage::Encoded && p.has_arrays() {
                let _ = write!(
                    s,
                    "rd{}.finish().map_err(|e| e.at({:?}))?;",
                    p.j, p.leaf.path
                );
            }
        }
        s
    }

    /// An expression building record `rec`, whose leaves are `plans` (their paths start with
    /// `prefix`); `lvl` is the depth of `rec` below the batch's record.
    fn record(&mut self, rec: &Record, plans: &[&Plan<'_>], prefix: &str, lvl: usize) -> String {
        let mut s = format!("{} {{", tyname(&rec.name));
        for f in &rec.fields {
            let key = format!("{prefix}{}", f.name);
            let value = match &f.ty {
                Ty::Record { name, shape } => {
                    let sub = self
                        .schema
                        .record(name)
                        .expect("components are in the schema");
                    let inner_prefix = format!("{key}.");
                    let under: Vec<&Plan<'_>> = plans
                        .iter()
                        .copied()
                        .filter(|p| p.leaf.path.starts_with(&inner_prefix))
                        .collect();
                    let built = if shape.is_empty() {
                        self.record(sub, &under, &inner_prefix, lvl + 1)
                    } else {
                        self.array(sub, shape, &under, &inner_prefix, lvl)
                    };
                    if f.optional {
                        let conds: Vec<String> =
                            under.iter().filter_map(|p| self.valid(p)).collect();
                        if conds.is_empty() {
                            "None".to_owned()
                        } else {
                            format!(
                                "if {} {{ Some({built}) }} else {{ None }}",
                                conds.join(" || ")
                            )
                        }
                    } else {
                        built
                    }
                }
                _ => {
                    let p = plans
                        .iter()
                        .find(|p| p.leaf.path == key)
                        .expect("every leaf field has a plan");
                    let e = self.leaf_value(p);
                    match (f.optional, self.valid(p)) {
                        (true, Some(v)) => format!("if {v} {{ Some({e}) }} else {{ None }}"),
                        (true, None) => format!("Some({e})"),
                        _ => e,
                    }
                }
            };
            let _ = write!(s, "{}: {value},", ident(&f.name));
        }
        s.push('}');
        s
    }

    /// A `Vec` of `rec` elements for a component array with `dims` at depth `lvl`.
    fn array(
        &mut self,
        rec: &Record,
        dims: &[Dim],
        plans: &[&Plan<'_>],
        prefix: &str,
        lvl: usize,
    ) -> String {
        let inner = fixed_dims(&dims[1..]);
        let inner_n = product(&inner);
        let encoded: Vec<&Plan<'_>> = plans
            .iter()
            .copied()
            .filter(|p| p.storage() == SoaStorage::Encoded)
            .collect();
        let mut s = "{".to_owned();
        let times = if inner_n == 1 {
            String::new()
        } else {
            format!(" * {inner_n}usize")
        };
        // Every encoded leaf under the array reads the array's header here.
        for p in &encoded {
            let j = p.j;
            match self.valid(p) {
                Some(v) => {
                    let _ = write!(
                        s,
                        "let h{j} = if {v} {{ rd{j}.array_len()?{times} }} else {{ 0usize }};"
                    );
                }
                None => {
                    let _ = write!(s, "let h{j} = rd{j}.array_len()?{times};");
                }
            }
        }
        let count = match dims[0].fixed() {
            Some(n) => format!("{}usize", n * inner_n),
            None => {
                // The first leaf under the array that is present in this row gives the length.
                let off = plans.first().map_or(0, |p| p.dims_before(lvl));
                let mut chain = Vec::new();
                let mut fallback = "0usize".to_owned();
                for p in plans {
                    let e = match p.storage() {
                        SoaStorage::Ragged => {
                            format!("{RT}::batch::count(s{}, {off}..{})?", p.j, off + dims.len())
                        }
                        SoaStorage::Encoded => format!("h{}", p.j),
                        _ => continue,
                    };
                    match self.valid(p) {
                        Some(v) => chain.push((v, e)),
                        None => {
                            fallback = e;
                            break;
                        }
                    }
                }
                let mut expr = fallback;
                for (v, e) in chain.into_iter().rev() {
                    expr = format!("if {v} {{ {e} }} else {{ {expr} }}");
                }
                expr
            }
        };
        let n = format!("n_{lvl}");
        let _ = write!(s, "let {n}: usize = {count};");
        for p in &encoded {
            let j = p.j;
            let cond = self.valid(p).map_or(String::new(), |v| format!("{v} && "));
            let _ = write!(
                s,
                "if {cond}h{j} != {n} {{ return Err({RT}::batch::shape_mismatch({:?}, &[h{j}]).at({:?})); }}",
                spec_str(dims),
                p.leaf.path
            );
        }
        let k = format!("k_{lvl}");
        let item = self.record(rec, plans, prefix, lvl + 1);
        let mut headers = String::new();
        if !inner.is_empty() {
            for p in &encoded {
                let read = format!(
                    "{RT}::batch::read_nest_headers(&mut rd{}, {k}, &[{}])?;",
                    p.j,
                    usize_list(&inner)
                );
                match self.valid(p) {
                    Some(v) => {
                        let _ = write!(headers, "if {v} {{ {read} }}");
                    }
                    None => headers.push_str(&read),
                }
            }
        }
        let var = if headers.is_empty() {
            "_".to_owned()
        } else {
            k
        };
        let _ = write!(
            s,
            "let mut out_{lvl} = Vec::with_capacity({n}); for {var} in 0..{n} {{ {headers} out_{lvl}.push({item}); }} out_{lvl} }}"
        );
        s
    }

    /// An expression for the next value of leaf `p`'s field.
    fn leaf_value(&mut self, p: &Plan<'_>) -> String {
        let j = p.j;
        let arrays = p.has_arrays();
        let elem = p.elem();
        let own = fixed_own(p);
        let take = |n: &str| format!("{RT}::batch::take(r{j}, &mut c{j}, {n})?");
        match (p.storage(), &p.leaf.kind) {
            (SoaStorage::Fixed, LeafKind::Enum { name, .. }) => {
                self.enums.insert(name.clone());
                let v = if arrays {
                    format!("{}[0]", take("1"))
                } else {
                    format!("r{j}[0]")
                };
                format!("Self::{}({v})?", enum_fn("from_index", name))
            }
            (SoaStorage::Fixed, _) => {
                let n = product(&own);
                let src = if arrays {
                    take(&n.to_string())
                } else {
                    format!("r{j}")
                };
                if let Some(bytes) = p.field.packed_bytes {
                    let bits = p.leaf.bits.expect("@packed leaves have @bits");
                    format!(
                        "{RT}::gen_support::pack::<{elem}, {bytes}>({src}, {bits}).map_err(|e| e.at({:?}))?",
                        p.leaf.path
                    )
                } else if p.own.is_empty() {
                    format!("{src}[0]")
                } else if self.owned && !arrays {
                    format!("{RT}::batch::nd_owned(vec![{}], l{j})", usize_list(&own))
                } else {
                    format!("{RT}::batch::nd(vec![{}], {src})", usize_list(&own))
                }
            }
            (SoaStorage::Ragged, LeafKind::Enum { name, .. }) => {
                self.enums.insert(name.clone());
                format!(
                    "Self::{}({}[0])?",
                    enum_fn("from_index", name),
                    take(&format!("n{j}"))
                )
            }
            (SoaStorage::Ragged, _) => {
                if !arrays {
                    format!("{RT}::batch::nd({RT}::batch::dims(s{j}), r{j})")
                } else if let Some(bytes) = p.field.packed_bytes {
                    let bits = p.leaf.bits.expect("@packed leaves have @bits");
                    format!(
                        "{RT}::gen_support::pack::<{elem}, {bytes}>({}, {bits}).map_err(|e| e.at({:?}))?",
                        take(&format!("n{j}")),
                        p.leaf.path
                    )
                } else if p.own.is_empty() {
                    format!("{}[0]", take(&format!("n{j}")))
                } else {
                    format!("{RT}::batch::nd(o{j}.clone(), {})", take(&format!("n{j}")))
                }
            }
            (SoaStorage::Binary, LeafKind::Str) => {
                format!(
                    "self.{}.row_str(i).map_err(|e| e.at({:?}))?.to_owned()",
                    p.vcol(),
                    p.leaf.path
                )
            }
            (SoaStorage::Binary, _) => format!("self.{}.row(i).to_vec()", p.vcol()),
            (SoaStorage::Encoded, _) => {
                if arrays {
                    format!(
                        "{}.map_err(|e| e.at({:?}))?",
                        decode(&p.field.ty, &format!("rd{j}"), &format!("&mut rd{j}")),
                        p.leaf.path
                    )
                } else {
                    format!(
                        "{{ let mut rd = {RT}::msgpack::Reader::new(self.{c}.row(i)); let v = {}.map_err(|e| e.at({path:?}))?; \
                         rd.finish().map_err(|e| e.at({path:?}))?; v }}",
                        decode(&p.field.ty, "rd", "&mut rd"),
                        c = p.vcol(),
                        path = p.leaf.path
                    )
                }
            }
        }
    }
}

/// The own shape of a fixed leaf (`[]` for scalars).
fn fixed_own(p: &Plan<'_>) -> Vec<u64> {
    p.own.iter().map(|d| d.fixed().unwrap_or(0)).collect()
}

// ---------------------------------------------------------------------------------------------
// Enum helpers (associated functions of the batch that needs them)

fn enum_helpers(
    schema: &Schema,
    used_index: &BTreeSet<String>,
    used_name: &BTreeSet<String>,
) -> String {
    let mut s = String::new();
    for name in used_index.union(used_name) {
        let e = schema.enum_def(name).expect("enums are in the schema");
        let repr = elem_ty(e.repr);
        let t = tyname(name);
        if used_index.contains(name) {
            let _ = write!(
                s,
                "fn {}(v: &{t}) -> {repr} {{ match v {{",
                enum_fn("index", name)
            );
            for var in &e.variants {
                let _ = write!(s, "{t}::{} => {},", tyname(&var.name), var.index);
            }
            s.push_str("} }");
            let _ = write!(
                s,
                "fn {}(i: {repr}) -> {RT}::Result<{t}> {{ match i {{",
                enum_fn("from_index", name)
            );
            for var in &e.variants {
                let _ = write!(s, "{} => Ok({t}::{}),", var.index, tyname(&var.name));
            }
            let _ = write!(
                s,
                "other => Err({RT}::Error::custom(format!(\"{{other}} is not a variant index of {name}\"))), }} }}"
            );
        }
        if used_name.contains(name) {
            let _ = write!(
                s,
                "fn {}(v: &{t}) -> &'static str {{ match v {{",
                enum_fn("name", name)
            );
            for var in &e.variants {
                let _ = write!(s, "{t}::{} => {:?},", tyname(&var.name), var.name);
            }
            s.push_str("} }");
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Optional components the SoA form cannot tell apart from absent ones

/// A batch reconstructs an optional component as present exactly when some leaf under it is
/// present in the row. That loses `Some(c)` when every leaf under `c` is absent (all its
/// fields optional and `None`, or no leaves at all), so `push` rejects such samples. These
/// are the optional component fields that need the check: those whose record has no
/// *anchor* (a leaf that is present whenever the component is).
struct Fragile<'s> {
    schema: &'s Schema,
}

impl Fragile<'_> {
    fn record(&self, name: &str) -> &Record {
        self.schema
            .record(name)
            .expect("components are in the schema")
    }

    fn anchored(&self, rec: &Record) -> bool {
        rec.fields.iter().any(|f| {
            !f.optional
                && match &f.ty {
                    Ty::Record { name, .. } => self.anchored(self.record(name)),
                    _ => true,
                }
        })
    }

    fn fragile(&self, f: &Field) -> bool {
        match &f.ty {
            Ty::Record { name, .. } => f.optional && !self.anchored(self.record(name)),
            _ => false,
        }
    }

    /// Whether `rec` holds a fragile optional component at any depth.
    fn contains(&self, rec: &Record) -> bool {
        rec.fields.iter().any(|f| match &f.ty {
            Ty::Record { name, .. } => self.fragile(f) || self.contains(self.record(name)),
            _ => false,
        })
    }

    /// Statements checking every fragile component under `v` (a `&rec`).
    fn check(&self, rec: &Record, v: &str, depth: usize, used: &mut BTreeSet<String>) -> String {
        let mut s = String::new();
        for f in &rec.fields {
            let Ty::Record { name, shape } = &f.ty else {
                continue;
            };
            let sub = self.record(name);
            if !self.fragile(f) && !self.contains(sub) {
                continue;
            }
            let x = format!("y{depth}");
            let mut body = String::new();
            if self.fragile(f) {
                used.insert(name.clone());
                let _ = write!(
                    body,
                    "if !Self::{}({x}) {{ return Err({RT}::batch::unrepresentable(\"an optional component that is present but holds no present value\").at({:?})); }}",
                    any_fn(name),
                    f.name
                );
            }
            body.push_str(&self.check(sub, &x, depth + 1, used));
            let fid = ident(&f.name);
            let _ = match (f.optional, shape.is_empty()) {
                (true, true) => write!(s, "if let Some({x}) = &{v}.{fid} {{ {body} }}"),
                (false, true) => write!(s, "{{ let {x} = &{v}.{fid}; {body} }}"),
                (true, false) => write!(
                    s,
                    "if let Some(arr) = &{v}.{fid} {{ for {x} in arr.iter() {{ {body} }} }}"
                ),
                (false, false) => write!(s, "for {x} in {v}.{fid}.iter() {{ {body} }}"),
            };
        }
        s
    }

    /// `fn any_present_<rec>(c: &Rec) -> bool` for every record in `todo` and the records
    /// they need.
    fn any_fns(&self, mut todo: BTreeSet<String>) -> String {
        let mut done = BTreeSet::new();
        let mut s = String::new();
        while let Some(name) = todo.pop_first() {
            if !done.insert(name.clone()) {
                continue;
            }
            let rec = self.record(&name);
            let mut terms = Vec::new();
            if !rec.leaves.is_empty() {
                for f in &rec.fields {
                    let fid = ident(&f.name);
                    let term = match &f.ty {
                        Ty::Record { name: sub, shape } => {
                            if self.record(sub).leaves.is_empty() {
                                continue;
                            }
                            todo.insert(sub.clone());
                            let g = format!("Self::{}", any_fn(sub));
                            match (f.optional, shape.is_empty()) {
                                (false, true) => format!("{g}(&c.{fid})"),
                                (true, true) => format!("c.{fid}.as_ref().is_some_and({g})"),
                                (false, false) => {
                                    format!("(c.{fid}.is_empty() || c.{fid}.iter().any({g}))")
                                }
                                (true, false) => {
                                    format!("c.{fid}.as_ref().is_some_and(|v| v.is_empty() || v.iter().any({g}))")
                                }
                            }
                        }
                        _ if f.optional => format!("c.{fid}.is_some()"),
                        _ => "true".to_owned(),
                    };
                    terms.push(term);
                }
            }
            let body = if terms.is_empty() {
                "let _ = c; false".to_owned()
            } else {
                terms.join(" || ")
            };
            let _ = write!(
                s,
                "fn {}(c: &{}) -> bool {{ {body} }}",
                any_fn(&name),
                tyname(&name)
            );
        }
        s
    }
}

fn any_fn(name: &str) -> String {
    format!("any_present_{}", name.to_snake_case())
}

// ---------------------------------------------------------------------------------------------
// Batch model

/// Inherent method names of a batch: a leaf accessor that would collide gets `_leaf` appended.
const BATCH_METHODS: &[&str] = &[
    "new",
    "with_capacity",
    "len",
    "is_empty",
    "clear",
    "truncate",
    "push",
    "extend_from_batch",
    "get",
    "try_get",
    "row",
    "iter",
    "rows",
    "slice",
    "from_samples",
    "to_samples",
    "default",
    "random",
    "validate",
    "save",
    "load",
    "tensors",
    "to_safetensors",
    "from_safetensors",
    "from_tensor_file",
    "check_columns",
    "push_all",
    "truncate_columns",
    "decode_row",
    "from_columns",
    "columns",
];

struct ColModel {
    path: String,
    /// Field of the columns struct holding the column (`c_<base>`).
    col: String,
    col_ty: String,
    /// The spec `BuildColumn::col` gets (row shape, rank or `()`).
    spec: String,
    /// Doc line for the batch's leaf list.
    doc: String,
    /// Accessor method name, return type and body.
    accessor: String,
    accessor_ty: String,
    accessor_body: String,
    /// Name of the validity accessor, when optional.
    validity_fn: Option<String>,
    /// Row view field name (the leaf ident), type and initialiser (uses `i`).
    row_field: String,
    row_ty: String,
    row_expr: String,
    /// The statement of `push_row` appending the leaf's value of sample `s`.
    push_stmt: String,
}

struct BatchModel {
    /// The Rust type of the record.
    name: String,
    /// The record's name in the schema (what `NAME` and the safetensors metadata hold).
    schema_name: String,
    batch: String,
    columns: String,
    row: String,
    kind: &'static str,
    fingerprint: String,
    cols: Vec<ColModel>,
    /// Statements and the final expression of `decode_row` (uses `i`).
    get_body: String,
    enum_fns: String,
    /// A call rejecting samples with optional components the batch cannot represent.
    opt_check: String,
    leaves_list: String,
    row_needs_marker: bool,
}

impl BatchModel {
    fn build(schema: &Schema, rec: &Record, plans: &[Plan<'_>]) -> BatchModel {
        let mut idx_enums = BTreeSet::new();
        let mut name_enums = BTreeSet::new();
        let mut cols = Vec::new();
        for p in plans {
            let mut enums = BTreeSet::new();
            let push_body = push_leaf(p, &mut enums);
            if p.storage() == SoaStorage::Encoded {
                name_enums.extend(enums);
            } else {
                idx_enums.extend(enums);
            }
            let mut c = ColModel::build(p);
            c.push_stmt = simple_push(p).unwrap_or_else(|| {
                format!(
                    "{RT}::batch::at_leaf({:?}, || {{ {push_body} }})?;",
                    p.leaf.path
                )
            });
            cols.push(c);
        }
        let fragile = Fragile { schema };
        let (opt_check, opt_fns) = if fragile.contains(rec) {
            let mut used = BTreeSet::new();
            let body = fragile.check(rec, "s", 0, &mut used);
            (
                "Self::check_optionals(s)?;".to_owned(),
                format!(
                    "fn check_optionals(s: &{}) -> {RT}::Result<()> {{ {body} Ok(()) }} {}",
                    tyname(&rec.name),
                    fragile.any_fns(used)
                ),
            )
        } else {
            (String::new(), String::new())
        };
        let mut asm = Assembly {
            schema,
            batch: true,
            owned: false,
            enums: BTreeSet::new(),
        };
        let refs: Vec<&Plan<'_>> = plans.iter().collect();
        let expr = asm.record(rec, &refs, "", 0);
        let get_body = format!(
            "{} let out = {expr}; {} Ok(out)",
            asm.prelude(plans),
            asm.epilogue(plans)
        );
        idx_enums.extend(asm.enums);
        let t = tyname(&rec.name);
        BatchModel {
            name: t.clone(),
            batch: format!("{t}Batch"),
            columns: format!("{t}Columns"),
            row: format!("{t}Row"),
            schema_name: rec.name.clone(),
            kind: match rec.kind {
                RecordKind::Sample => "sample",
                RecordKind::Component => "component",
            },
            fingerprint: rec.fingerprint.clone(),
            leaves_list: rec
                .leaves
                .iter()
                .map(|l| format!("{:?}", l.path))
                .collect::<Vec<_>>()
                .join(", "),
            row_needs_marker: rec.leaves.is_empty(),
            cols,
            get_body,
            enum_fns: format!(
                "{} {opt_fns}",
                enum_helpers(schema, &idx_enums, &name_enums)
            ),
            opt_check,
        }
    }
}

impl ColModel {
    fn build(p: &Plan<'_>) -> ColModel {
        let leaf = p.leaf;
        let path = leaf.path.clone();
        let vcol = p.vcol();
        let elem = p.elem();
        let accessor = if BATCH_METHODS.contains(&p.base.as_str()) {
            format!("{}_leaf", p.base)
        } else {
            p.ident.clone()
        };
        let (spec, accessor_ty, accessor_body, row_ty, row_expr, what) = match p.storage() {
            SoaStorage::Fixed => {
                let row_shape = fixed_dims(&leaf.shape);
                let k = row_shape.len() + 1;
                let dims_doc = row_shape.iter().map(|d| format!(", {d}")).collect::<String>();
                (
                    format!("&[{}][..]", usize_list(&row_shape)),
                    format!("(&[{elem}], [usize; {k}])"),
                    format!("(self.{vcol}.values(), [self.{vcol}.len(){dims_doc}])"),
                    format!("&'a [{elem}]"),
                    format!("self.{vcol}.row(i)"),
                    format!("fixed `{}` values `[n{dims_doc}]`", leaf.soa.dtype),
                )
            }
            SoaStorage::Ragged => (
                leaf.shape.len().to_string(),
                format!("&{RT}::batch::RaggedColumn<{elem}>"),
                format!("&self.{vcol}"),
                format!("{RT}::batch::RaggedRef<'a, {elem}>"),
                format!("{RT}::batch::RaggedRef {{ values: self.{vcol}.row(i), shape: self.{vcol}.row_shape(i) }}"),
                format!("ragged `{}` values + offsets + shapes `[n, {}]`", leaf.soa.dtype, leaf.shape.len()),
            ),
            SoaStorage::Binary => {
                let is_str = matches!(leaf.kind, LeafKind::Str);
                (
                    "()".to_owned(),
                    format!("&{RT}::batch::BinaryColumn"),
                    format!("&self.{vcol}"),
                    if is_str { "&'a str".to_owned() } else { "&'a [u8]".to_owned() },
                    if is_str {
                        format!("self.{vcol}.row_str(i).expect(\"str columns hold UTF-8\")")
                    } else {
                        format!("self.{vcol}.row(i)")
                    },
                    format!("{} values (u8) + offsets", if is_str { "UTF-8 str" } else { "bytes" }),
                )
            }
            SoaStorage::Encoded => (
                "()".to_owned(),
                format!("&{RT}::batch::BinaryColumn"),
                format!("&self.{vcol}"),
                "&'a [u8]".to_owned(),
                format!("self.{vcol}.row(i)"),
                "each row's msgpack (u8) + offsets".to_owned(),
            ),
        };
        let optional = leaf.soa.validity;
        let (row_ty, row_expr) = if optional {
            (
                format!("Option<{row_ty}>"),
                format!(
                    "if self.{}.get(i) {{ Some({row_expr}) }} else {{ None }}",
                    p.valid()
                ),
            )
        } else {
            (row_ty, row_expr)
        };
        ColModel {
            doc: format!(
                "`{path}` (`{}{}`{}): {what}{}",
                leaf_type_doc(leaf),
                spec_str(&leaf.shape),
                if leaf.optional { ", optional" } else { "" },
                if optional { ", validity bitmap" } else { "" }
            ),
            path,
            col: p.col(),
            col_ty: p.col_ty(),
            spec,
            accessor,
            accessor_ty,
            accessor_body,
            validity_fn: optional.then(|| format!("{}_validity", p.base)),
            row_field: p.ident.clone(),
            row_ty,
            row_expr,
            push_stmt: String::new(),
        }
    }
}

fn leaf_type_doc(leaf: &Leaf) -> String {
    match &leaf.kind {
        LeafKind::Numeric { dtype } => dtype.name().to_owned(),
        LeafKind::Str => "str".to_owned(),
        LeafKind::Bytes => "bytes".to_owned(),
        LeafKind::Enum { name, .. } => name.clone(),
        LeafKind::List { .. } => "list".to_owned(),
        LeafKind::Map { .. } => "map".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Packed model

struct PackedLeafModel {
    path: String,
    elem: String,
    dtype_variant: String,
    shape: String,
    elements: u64,
    bits: u32,
    offset: u64,
    /// Per-row pack and unpack statements of whole batches (use `b`, `i`, `w`, `u{j}`).
    batch_pack: String,
    batch_unpack: String,
    get_fn: String,
    set_fn: String,
}

struct PackedModel {
    name: String,
    packed: String,
    packed_batch: String,
    batch: String,
    total_bits: u64,
    words: u64,
    words_len: u64,
    tail_bytes: u64,
    compact_bytes: u64,
    leaves: Vec<PackedLeafModel>,
    pack_body: String,
    unpack_body: String,
    /// Body of `try_unpack_into` (uses `out`): in place when every leaf is a direct field.
    unpack_into_body: String,
    /// Column allocations for the batch `unpack` (use `n`) and the batch literal's fields.
    unpack_alloc: String,
    unpack_batch: String,
    /// Private helpers walking a leaf under component arrays into a `Gather` buffer.
    gather_fns: String,
}

impl PackedModel {
    /// `e * WORDS`, without a `* 1` clippy would flag.
    fn mul(&self, e: &str) -> String {
        if self.words == 1 {
            e.to_owned()
        } else {
            format!("{e} * {}", self.words)
        }
    }

    /// `e / WORDS`, likewise.
    fn div(&self, e: &str) -> String {
        if self.words == 1 {
            e.to_owned()
        } else {
            format!("{e} / {}", self.words)
        }
    }

    fn build(schema: &Schema, rec: &Record, plans: &[Plan<'_>], agg: ir::Aggregate) -> PackedModel {
        let mut leaves = Vec::new();
        let mut pack_body = String::new();
        let mut gather_fns = String::new();
        let mut unpack_prelude = String::new();
        let mut in_place = Some(String::new());
        let mut unpack_alloc = String::new();
        let mut unpack_batch = String::new();
        for p in plans {
            let leaf = p.leaf;
            let dtype = leaf.kind.dtype().expect("aggregate leaves are numeric");
            let elem = elem_ty(dtype);
            let bits = leaf.bits.expect("aggregate leaves have @bits");
            let off = leaf.bit_offset.expect("aggregate leaves have offsets");
            let n = leaf.elements.expect("aggregate leaves are fixed");
            let path = &leaf.path;
            let err = format!("|e| {RT}::batch::bits_error(e, {path:?})");
            // Pack one sample: straight from the field when no component array is on the way,
            // else gathered into a stack buffer first.
            let f = ident(&p.field.name);
            if !p.has_arrays() && p.levels.iter().all(|l| !l.field.optional) {
                let mut v = "s".to_owned();
                for l in &p.levels {
                    let _ = write!(v, ".{}", ident(&l.field.name));
                }
                if p.packed_field() {
                    let _ = write!(
                        pack_body,
                        "{{ let vals: Vec<{elem}> = {RT}::gen_support::unpack(&{v}.{f}[..], {n}, {bits}); \
                         {RT}::batch::pack_at(&vals, {bits}, &mut words, {off}).map_err({err})?; }}"
                    );
                } else if p.own.is_empty() {
                    let _ = write!(
                        pack_body,
                        "{RT}::bits::set(&mut words, {off}, {bits}, 0, {v}.{f}).map_err({err})?;"
                    );
                } else {
                    let _ = write!(
                        pack_body,
                        "{{ let a = &{v}.{f}; {RT}::batch::check_dims(a.shape(), {}, {:?}).map_err(|e| e.at({path:?}))?; \
                         {RT}::batch::pack_at(a.as_slice(), {bits}, &mut words, {off}).map_err({err})?; }}",
                        opt_dims(&p.own),
                        spec_str(&p.own)
                    );
                }
            } else {
                let mut w = Walk {
                    p,
                    sink: SinkKind::Gather,
                    whole_row: false,
                    enums: BTreeSet::new(),
                };
                let body = w.walk(0, "s", "t0");
                let gname = format!("gather_{}", p.base);
                let _ = write!(
                    gather_fns,
                    "fn {gname}(s: &{}, g: &mut {RT}::batch::Gather<{elem}, {n}>) -> {RT}::Result<()> {{ {body} Ok(()) }}",
                    tyname(&rec.name)
                );
                let _ = write!(
                    pack_body,
                    "{{ let mut g = {RT}::batch::Gather::<{elem}, {n}>::new(); \
                     Self::{gname}(s, &mut g).map_err(|e| e.at({path:?}))?; \
                     {RT}::batch::pack_at(g.finish().map_err(|e| e.at({path:?}))?, {bits}, &mut words, {off}).map_err({err})?; }}"
                );
            }
            // Unpack one sample: a stack buffer per leaf, then the same assembly as batches.
            let j = p.j;
            let owned = !p.has_arrays() && !p.own.is_empty() && !p.packed_field();
            let _ = write!(
                unpack_prelude,
                "let mut l{j} = {}[{}; {n}]; {RT}::batch::unpack_at(&self.words, {off}, {bits}, &mut l{j}).map_err({err})?;",
                if owned { "vec!" } else { "" },
                zero_lit(dtype)
            );
            if !owned {
                let _ = write!(unpack_prelude, "let r{j}: &[{elem}] = &l{j};");
            }
            if p.has_arrays() {
                let _ = write!(unpack_prelude, "let mut c{j} = 0usize;");
            }
            // Unpack into an existing sample, reusing its arrays: for leaves reached through
            // single, non-optional components only.
            let direct =
                !p.has_arrays() && p.levels.iter().all(|l| !l.field.optional) && !p.field.optional;
            if direct && in_place.is_some() {
                let mut target = "out".to_owned();
                for l in &p.levels {
                    let _ = write!(target, ".{}", ident(&l.field.name));
                }
                let _ = write!(target, ".{}", ident(&p.field.name));
                let own = fixed_own(p);
                let code = if let Some(bytes) = p.field.packed_bytes {
                    format!(
                        "{{ let mut v = [{z}; {n}]; {RT}::batch::unpack_at(&self.words, {off}, {bits}, &mut v).map_err({err})?; \
                         {target} = {RT}::gen_support::pack::<{elem}, {bytes}>(&v, {bits}).map_err(|e| e.at({path:?}))?; }}",
                        z = zero_lit(dtype)
                    )
                } else if p.own.is_empty() {
                    format!("{target} = {RT}::bits::try_get::<{elem}>(&self.words, {off}, {bits}, 0).map_err({err})?;")
                } else {
                    format!(
                        "{{ let a = &mut {target}; if a.shape() == [{dims}] {{ \
                         {RT}::batch::unpack_at(&self.words, {off}, {bits}, a.as_mut_slice()).map_err({err})?; }} else {{ \
                         let mut v = vec![{z}; {n}]; {RT}::batch::unpack_at(&self.words, {off}, {bits}, &mut v).map_err({err})?; \
                         *a = {RT}::batch::nd_owned(vec![{dims}], v); }} }}",
                        dims = usize_list(&own),
                        z = zero_lit(dtype)
                    )
                };
                if let Some(body) = in_place.as_mut() {
                    body.push_str(&code);
                }
            } else {
                in_place = None;
            }
            // Whole batches, row by row.
            let row_shape = fixed_dims(&leaf.shape);
            let batch_pack = format!(
                "{RT}::batch::pack_at(b.{col}.row(i), {bits}, w, {off}).map_err(|e| {RT}::batch::bits_error(e, {path:?}).at_index(i))?;",
                col = p.vcol()
            );
            let (dst, total) = if n == 1 {
                (format!("u{j}[i..=i]"), "n".to_owned())
            } else {
                (format!("u{j}[i * {n}..(i + 1) * {n}]"), format!("n * {n}"))
            };
            let batch_unpack =
                format!("{RT}::batch::unpack_at(w, {off}, {bits}, &mut {dst}).map_err({err})?;");
            let _ = write!(
                unpack_alloc,
                "let mut u{j} = {RT}::batch::AlignedVec::from_elem({}, {total});",
                zero_lit(dtype)
            );
            let _ = write!(
                unpack_batch,
                "{}: {RT}::batch::FixedColumn::from_values(vec![{}], u{j}, n)?,",
                p.col(),
                usize_list(&row_shape)
            );
            let get_fn = format!(
                "/// Element `index` (flat C order) of leaf `{path}`.\n///\n/// # Panics\n/// If `index >= {n}`.\n\
                 #[inline] pub fn get_{base}(&self, index: usize) -> {elem} {{ \
                 assert!(index < {n}, \"index {{index}} out of range for {path} ({n} elements)\"); \
                 {RT}::bits::get::<{elem}>(&self.words, {off}, {bits}, index) }}",
                base = p.base
            );
            let set_fn = format!(
                "/// Sets element `index` (flat C order) of leaf `{path}`; `BitsOverflow` if `value` does not fit {bits} bits.\n\
                 #[inline] pub fn set_{base}(&mut self, index: usize, value: {elem}) -> {RT}::Result<()> {{ \
                 if index >= {n} {{ return Err({RT}::Error::custom(format!(\"index {{index}} out of range ({n} elements)\")).at({path:?})); }} \
                 {RT}::bits::set(&mut self.words, {off}, {bits}, index, value).map_err({err}) }}",
                base = p.base
            );
            leaves.push(PackedLeafModel {
                path: path.clone(),
                elem,
                dtype_variant: format!("{dtype:?}"),
                shape: usize_list(&row_shape),
                elements: n,
                bits,
                offset: off,
                batch_pack,
                batch_unpack,
                get_fn,
                set_fn,
            });
        }
        let mut asm = Assembly {
            schema,
            batch: false,
            owned: true,
            enums: BTreeSet::new(),
        };
        let refs: Vec<&Plan<'_>> = plans.iter().collect();
        let expr = asm.record(rec, &refs, "", 0);
        // Aggregate leaves are fixed, non-optional numerics: no validity bitmaps, no enums.
        let t = tyname(&rec.name);
        PackedModel {
            packed: format!("{t}Packed"),
            packed_batch: format!("{t}PackedBatch"),
            batch: format!("{t}Batch"),
            name: t,
            total_bits: agg.total_bits,
            words: agg.words,
            words_len: agg.words_len,
            tail_bytes: agg.tail_bytes,
            compact_bytes: agg.compact_bytes,
            leaves,
            pack_body,
            unpack_body: format!("{unpack_prelude} Ok({expr})"),
            unpack_into_body: match in_place {
                Some(body) => format!("{body} Ok(())"),
                None => "*out = self.try_unpack()?; Ok(())".to_owned(),
            },
            unpack_alloc,
            unpack_batch,
            gather_fns,
        }
    }
}

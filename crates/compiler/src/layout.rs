//! Layout: turns checked records into IR records with every number the emitters need.
//!
//! Flattens nested components into leaves (depth-first, declaration order, dotted paths,
//! outer component-array dims prefixed), checks that named dims agree, decides the aggregate
//! bitstream (DESIGN §5) and its offsets, chooses each leaf's SoA column, computes sizes per
//! layout, and hashes the canonical layout into the record's fingerprint.

use crate::diag::{codes, Diagnostic, Span};
use crate::ir::{
    self, Aggregate, Bitpack, BitpackMode, Dim, Dtype, EnumDef, Leaf, LeafKind, NamedDim,
    RecordKind, SoaColumn, SoaStorage, Ty,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A record after field checking, before layout.
pub struct RecordInput {
    pub name: String,
    pub name_span: Span,
    pub kind: RecordKind,
    pub docs: Vec<String>,
    pub imported: bool,
    /// The declaring schema's module, for an imported record.
    pub origin: Option<String>,
    pub mode: BitpackMode,
    pub mode_span: Option<Span>,
    pub fields: Vec<FieldInput>,
    /// `@reserved(...)` names (checked already).
    pub reserved: Vec<String>,
}

pub struct FieldInput {
    pub field: ir::Field,
    pub span: Span,
    pub name_span: Span,
    /// `@alias` names with the span of each.
    pub alias_spans: Vec<(String, Span)>,
    /// Named dims written in this field's type: (name, pinned size, span).
    pub dims: Vec<(String, Option<u64>, Span)>,
}

/// A leaf and the schema span it came from (for diagnostics about it).
#[derive(Clone)]
struct LeafBuild {
    leaf: Leaf,
    origin: Span,
}

struct Built {
    leaves: Vec<LeafBuild>,
    path_bytes: usize,
    dims: Vec<(String, Option<u64>, Span)>,
    msgpack_max: Option<u64>,
}

/// Builds IR records from `records`, which must be in dependency order.
pub fn build(records: &[RecordInput], enums: &[EnumDef]) -> (Vec<ir::Record>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut built: HashMap<String, Built> = HashMap::new();
    let mut out = Vec::new();
    let mut schema_leaves = 0usize;
    let mut schema_path_bytes = 0usize;
    for r in records {
        // Counted before flattening, so a schema over the limits never builds its leaves.
        let (count, path_bytes) = flat_size(r, &built);
        if let Some(d) = leaf_limits(
            r,
            count,
            path_bytes,
            schema_leaves + count,
            schema_path_bytes + path_bytes,
        ) {
            diags.push(d);
            return (out, diags);
        }
        schema_leaves += count;
        schema_path_bytes += path_bytes;
        let mut leaves = Vec::new();
        // The record's own field each leaf comes from (for E0033 on leaf paths).
        let mut spans: Vec<Span> = Vec::new();
        let mut dims = Vec::new();
        for f in &r.fields {
            dims.extend(f.dims.iter().cloned());
            match &f.field.ty {
                Ty::Record { name, shape } => {
                    let Some(child) = built.get(name) else {
                        continue;
                    };
                    dims.extend(child.dims.iter().cloned());
                    for c in &child.leaves {
                        match nest(&f.field, shape, c) {
                            Some(l) => {
                                leaves.push(l);
                                spans.push(f.name_span);
                            }
                            None => diags.push(overflow(f.span)),
                        }
                    }
                }
                _ => {
                    leaves.push(LeafBuild {
                        leaf: leaf_of_field(&f.field, enums),
                        origin: f.span,
                    });
                    spans.push(f.name_span);
                }
            }
        }
        diags.extend(leaf_collisions(&leaves, &spans));
        diags.extend(named_dim_conflicts(&dims));
        let named_dims = named_dim_table(&dims);
        // A size pinned anywhere (`H = 224`) holds for every use of the name in the record.
        for lb in &mut leaves {
            if pin_dims(&mut lb.leaf.shape, &named_dims) {
                finish_leaf(&mut lb.leaf);
            }
        }
        let mut fields: Vec<ir::Field> = r.fields.iter().map(|f| f.field.clone()).collect();
        for f in &mut fields {
            if let Ty::Array { shape, .. } | Ty::Record { shape, .. } = &mut f.ty {
                pin_dims(shape, &named_dims);
            }
        }

        let aggregate = decide_aggregate(r, &leaves, &mut diags);
        if let Some(agg) = &aggregate {
            let mut offset = 0u64;
            for lb in &mut leaves {
                lb.leaf.bit_offset = Some(offset);
                offset += lb.leaf.elements.unwrap_or(0) * u64::from(lb.leaf.bits.unwrap_or(0));
            }
            debug_assert_eq!(offset, agg.total_bits);
        }

        let msgpack_max = msgpack_max_record(&r.fields, &built, enums);
        let leaves_ir: Vec<Leaf> = leaves.iter().map(|l| l.leaf.clone()).collect();
        let mut overflowed = false;
        let soa_row = byte_sum(leaves_ir.iter().map(|l| l.soa.row_bytes), &mut overflowed);
        let field_packed = byte_sum(
            leaves_ir.iter().map(|l| {
                let raw = l.elements?.checked_mul(l.kind.dtype()?.size());
                // An overflowing raw size shows up as u64::MAX, which the sum rejects.
                Some(l.packed_bytes.unwrap_or(raw.unwrap_or(u64::MAX)))
            }),
            &mut overflowed,
        );
        if overflowed {
            diags.push(
                Diagnostic::error(
                    codes::SHAPE_OVERFLOW,
                    format!("the bytes per sample of `{}` overflow u64", r.name),
                    r.name_span,
                )
                .label("its leaves together are larger than 2^64 bytes")
                .help("use smaller dimensions"),
            );
        }
        let sizes = ir::Sizes {
            msgpack_max,
            soa_row,
            aggregate: aggregate.map(|a| a.compact_bytes),
            field_packed,
        };
        let fingerprint = fingerprint(&r.name, r.kind, &leaves_ir, enums);
        let c_struct = c_struct(&leaves_ir);
        out.push(ir::Record {
            name: r.name.clone(),
            kind: r.kind,
            docs: r.docs.clone(),
            imported: r.imported,
            origin: r.origin.clone(),
            fields,
            leaves: leaves_ir,
            named_dims,
            bitpack: Bitpack {
                mode: r.mode,
                aggregate,
            },
            sizes,
            c_struct,
            fingerprint,
            reserved: r.reserved.clone(),
        });
        built.insert(
            r.name.clone(),
            Built {
                path_bytes: leaves.iter().map(|l| l.leaf.path.len()).sum(),
                leaves,
                dims,
                msgpack_max,
            },
        );
    }
    (out, diags)
}

/// The C struct of a record whose leaves are all fixed-shape numeric or enum leaves (see
/// [`ir::CStruct`] for the rule); `None` otherwise, or if a size overflows u64.
fn c_struct(leaves: &[Leaf]) -> Option<ir::CStruct> {
    let mut members = Vec::new();
    let mut offset = 0u64;
    let mut align = 1u64;
    let mut push = |leaf: &Leaf, part: ir::CPart, size: u64, al: u64| -> Option<()> {
        offset = offset.checked_next_multiple_of(al)?;
        align = align.max(al);
        members.push(ir::CMember {
            leaf: leaf.path.clone(),
            part,
            offset,
            size,
            align: al,
        });
        offset = offset.checked_add(size)?;
        Some(())
    };
    for l in leaves {
        let elem = match &l.kind {
            LeafKind::Numeric { dtype } => dtype.size(),
            LeafKind::Enum { repr, .. } => repr.size(),
            _ => return None,
        };
        let elements = l.elements?;
        if l.packed_field {
            push(l, ir::CPart::Values, l.packed_bytes.unwrap_or(0), 1)?;
        } else {
            push(l, ir::CPart::Values, elements.checked_mul(elem)?, elem)?;
        }
        if l.optional {
            push(l, ir::CPart::Valid, 1, 1)?;
        }
    }
    Some(ir::CStruct {
        size: offset.checked_next_multiple_of(align)?,
        align,
        members,
    })
}

/// A record may flatten to at most this many leaves. Generated code is written per leaf,
/// so this (with [`MAX_SCHEMA_LEAVES`] and [`MAX_SCHEMA_PATH_BYTES`]) keeps the output of
/// `gen` proportional to the schema instead of to the product of its nesting.
pub const MAX_RECORD_LEAVES: usize = 1024;
/// All records of a compiled schema (imports included) together flatten to at most this
/// many leaves: room for a dataset of a thousand samples of a dozen fields (the scale
/// benchmark, `scripts/bench-gen-scale.py`, has 1,000 samples of six).
pub const MAX_SCHEMA_LEAVES: usize = 16_384;
/// The dotted leaf paths of all records together are at most this many bytes.
pub const MAX_SCHEMA_PATH_BYTES: usize = 1 << 20;

/// Leaves and leaf-path bytes `r` flattens to, from its children's already-built leaves.
fn flat_size(r: &RecordInput, built: &HashMap<String, Built>) -> (usize, usize) {
    let mut count = 0usize;
    let mut bytes = 0usize;
    for f in &r.fields {
        match &f.field.ty {
            Ty::Record { name, .. } => {
                if let Some(child) = built.get(name) {
                    count = count.saturating_add(child.leaves.len());
                    bytes = bytes
                        .saturating_add(child.path_bytes)
                        .saturating_add(child.leaves.len().saturating_mul(f.field.name.len() + 1));
                }
            }
            _ => {
                count += 1;
                bytes = bytes.saturating_add(f.field.name.len());
            }
        }
    }
    (count, bytes)
}

/// E0031 when `r` (or the schema up to and including it) is over a flattening limit.
fn leaf_limits(
    r: &RecordInput,
    count: usize,
    path_bytes: usize,
    schema_leaves: usize,
    schema_path_bytes: usize,
) -> Option<Diagnostic> {
    let (message, label) = if count > MAX_RECORD_LEAVES {
        (
            format!(
                "`{}` flattens to {count} leaves; the limit per record is {MAX_RECORD_LEAVES}",
                r.name
            ),
            "this record has too many leaves once its components are flattened".to_string(),
        )
    } else if schema_leaves > MAX_SCHEMA_LEAVES {
        (
            format!(
                "the schema flattens to more than {MAX_SCHEMA_LEAVES} leaves (counting every record)"
            ),
            format!("the limit is passed at `{}`", r.name),
        )
    } else if schema_path_bytes > MAX_SCHEMA_PATH_BYTES {
        (
            format!("the flattened leaf paths of the schema exceed {MAX_SCHEMA_PATH_BYTES} bytes"),
            format!(
                "the limit is passed at `{}` ({path_bytes} bytes of paths)",
                r.name
            ),
        )
    } else {
        return None;
    };
    Some(
        Diagnostic::error(codes::TOO_MANY_LEAVES, message, r.name_span)
            .label(label)
            .help("split the data into fewer, flatter records, or hold repeated parts in a component array (`Pose[8]`) or `list<...>`"),
    )
}

/// E0033 for two leaves of a record whose paths differ only in case, underscores and dots:
/// batch columns and CUDA accessors join the segments with `__` (`a.b` and a field `a__b`
/// are both `a__b`) and change case.
fn leaf_collisions(leaves: &[LeafBuild], spans: &[Span]) -> Vec<Diagnostic> {
    let mut seen: HashMap<String, (&str, Span)> = HashMap::new();
    let mut out = Vec::new();
    for (lb, span) in leaves.iter().zip(spans) {
        let key: String = lb
            .leaf
            .path
            .chars()
            .filter(|c| *c != '_' && *c != '.')
            .flat_map(char::to_lowercase)
            .collect();
        match seen.get(&key) {
            Some((first, first_span)) => {
                out.push(
                    Diagnostic::error(
                        codes::NAME_COLLISION,
                        format!(
                            "leaves `{first}` and `{}` collide in generated code",
                            lb.leaf.path
                        ),
                        *span,
                    )
                    .label("batch columns join leaf paths with `__` and change case")
                    .secondary(*first_span, format!("`{first}` comes from here"))
                    .help("rename this field so the flattened paths differ in more than case, `_` and `.`"),
                );
                return out;
            }
            None => {
                seen.insert(key, (&lb.leaf.path, *span));
            }
        }
    }
    out
}

/// The sum of per-leaf byte counts: `None` when any is unknown (data-dependent), or when
/// the sum overflows, which also sets `overflowed`.
fn byte_sum(items: impl Iterator<Item = Option<u64>>, overflowed: &mut bool) -> Option<u64> {
    let mut total = 0u64;
    let mut known = true;
    for item in items {
        match item {
            Some(b) => match total.checked_add(b) {
                Some(t) => total = t,
                None => {
                    *overflowed = true;
                    return None;
                }
            },
            None => known = false,
        }
    }
    known.then_some(total)
}

fn overflow(span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::SHAPE_OVERFLOW,
        "this field has more elements or bytes than fit in a u64",
        span,
    )
    .label("element count overflows")
    .help("use smaller dimensions")
}

fn leaf_of_field(f: &ir::Field, enums: &[EnumDef]) -> Leaf {
    let (kind, shape) = match &f.ty {
        Ty::Scalar { dtype } => (LeafKind::Numeric { dtype: *dtype }, Vec::new()),
        Ty::Array { dtype, shape } => (LeafKind::Numeric { dtype: *dtype }, shape.clone()),
        Ty::Str => (LeafKind::Str, Vec::new()),
        Ty::Bytes => (LeafKind::Bytes, Vec::new()),
        Ty::Enum { name } => {
            let repr = enums
                .iter()
                .find(|e| &e.name == name)
                .map_or(Dtype::U8, |e| e.repr);
            (
                LeafKind::Enum {
                    name: name.clone(),
                    repr,
                },
                Vec::new(),
            )
        }
        Ty::List { item } => (
            LeafKind::List {
                item: (**item).clone(),
            },
            Vec::new(),
        ),
        Ty::Map { value } => (
            LeafKind::Map {
                value: (**value).clone(),
            },
            Vec::new(),
        ),
        Ty::Record { .. } => unreachable!("components are flattened, not leaves"),
    };
    let mut leaf = Leaf {
        path: f.name.clone(),
        segments: vec![f.name.clone()],
        docs: f.docs.clone(),
        kind,
        elements: elements(&shape),
        shape,
        optional: f.optional,
        range: f.range,
        default: f.default.clone(),
        bits: f.bits,
        bit_offset: None,
        packed_bytes: None,
        packed_field: f.packed_bytes.is_some(),
        soa: SoaColumn {
            storage: SoaStorage::Fixed,
            dtype: Dtype::U8,
            row_bytes: None,
            validity: false,
        },
    };
    finish_leaf(&mut leaf);
    leaf
}

/// Recomputes what follows from a leaf's kind, shape, bits and optionality.
fn finish_leaf(leaf: &mut Leaf) {
    leaf.elements = elements(&leaf.shape);
    leaf.packed_bytes = match (leaf.elements, leaf.bits) {
        (Some(n), Some(b)) => n.checked_mul(u64::from(b)).map(|t| t.div_ceil(8)),
        _ => None,
    };
    leaf.soa = soa_column(leaf);
}

fn soa_column(leaf: &Leaf) -> SoaColumn {
    let (storage, dtype) = match &leaf.kind {
        LeafKind::Numeric { dtype } | LeafKind::Enum { repr: dtype, .. } => {
            if leaf.elements.is_some() {
                (SoaStorage::Fixed, *dtype)
            } else {
                (SoaStorage::Ragged, *dtype)
            }
        }
        LeafKind::Str | LeafKind::Bytes if leaf.shape.is_empty() => (SoaStorage::Binary, Dtype::U8),
        _ => (SoaStorage::Encoded, Dtype::U8),
    };
    let row_bytes = match storage {
        SoaStorage::Fixed => leaf.elements.and_then(|n| n.checked_mul(dtype.size())),
        _ => None,
    };
    SoaColumn {
        storage,
        dtype,
        row_bytes,
        validity: leaf.optional,
    }
}

fn elements(shape: &[Dim]) -> Option<u64> {
    shape
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(d.fixed()?))
}

/// A component's leaf as seen from the field that holds the component.
fn nest(field: &ir::Field, shape: &[Dim], child: &LeafBuild) -> Option<LeafBuild> {
    let mut leaf = child.leaf.clone();
    leaf.path = format!("{}.{}", field.name, leaf.path);
    leaf.segments.insert(0, field.name.clone());
    let mut full = shape.to_vec();
    full.extend(leaf.shape.iter().cloned());
    leaf.shape = full;
    leaf.optional |= field.optional;
    leaf.bit_offset = None;
    // A shape whose fixed dims overflow is reported by the caller.
    if shape.iter().all(|d| d.fixed().is_some()) && leaf.shape.iter().all(|d| d.fixed().is_some()) {
        let n = elements(&leaf.shape)?;
        if let Some(d) = leaf.kind.dtype() {
            n.checked_mul(d.size())?;
        }
    }
    finish_leaf(&mut leaf);
    Some(LeafBuild {
        leaf,
        origin: child.origin,
    })
}

/// E0015 for every pair of places that pin the same named dim to different sizes.
fn named_dim_conflicts(dims: &[(String, Option<u64>, Span)]) -> Vec<Diagnostic> {
    let mut first: HashMap<&str, (u64, Span)> = HashMap::new();
    let mut out = Vec::new();
    for (name, size, span) in dims {
        let Some(size) = size else { continue };
        match first.get(name.as_str()) {
            Some((s0, span0)) if s0 != size => out.push(
                Diagnostic::error(
                    codes::NAMED_DIM_CONFLICT,
                    format!("named dim `{name}` is {size} here but {s0} elsewhere"),
                    *span,
                )
                .label(format!("`{name}` = {size}"))
                .secondary(*span0, format!("`{name}` = {s0} here"))
                .help(format!(
                    "use one size for `{name}`, or a different name for a different size"
                )),
            ),
            Some(_) => {}
            None => {
                first.insert(name, (*size, *span));
            }
        }
    }
    out
}

fn named_dim_table(dims: &[(String, Option<u64>, Span)]) -> Vec<NamedDim> {
    let mut out: Vec<NamedDim> = Vec::new();
    for (name, size, _) in dims {
        match out.iter_mut().find(|d| &d.name == name) {
            Some(d) => d.size = d.size.or(*size),
            None => out.push(NamedDim {
                name: name.clone(),
                size: *size,
            }),
        }
    }
    out
}

/// Replaces named dims that have a pinned size by that size; true if any changed.
fn pin_dims(shape: &mut [Dim], table: &[NamedDim]) -> bool {
    let mut changed = false;
    for d in shape.iter_mut() {
        if let Dim::Named(name) = d {
            if let Some(size) = table.iter().find(|n| &n.name == name).and_then(|n| n.size) {
                *d = Dim::Fixed(size);
                changed = true;
            }
        }
    }
    changed
}

/// Why a leaf cannot be part of an aggregate bitstream, if it cannot.
fn aggregate_blocker(leaf: &Leaf) -> Option<&'static str> {
    if leaf.bits.is_none() {
        Some("has no `@bits`")
    } else if leaf.elements.is_none() {
        Some("does not have a fixed shape")
    } else if leaf.optional {
        Some("is optional")
    } else {
        None
    }
}

fn decide_aggregate(
    r: &RecordInput,
    leaves: &[LeafBuild],
    diags: &mut Vec<Diagnostic>,
) -> Option<Aggregate> {
    let blocked: Vec<(&LeafBuild, &str)> = leaves
        .iter()
        .filter_map(|l| aggregate_blocker(&l.leaf).map(|why| (l, why)))
        .collect();
    match r.mode {
        BitpackMode::Off | BitpackMode::Field => return None,
        BitpackMode::Auto if !blocked.is_empty() || leaves.is_empty() => return None,
        BitpackMode::Aggregate if !blocked.is_empty() => {
            for (lb, why) in blocked {
                let mut d = Diagnostic::error(
                    codes::AGGREGATE_LEAF,
                    format!(
                        "`{}` is aggregate bit-packed, but its leaf `{}` {why}",
                        r.name, lb.leaf.path
                    ),
                    lb.origin,
                )
                .label(format!("this leaf {why}"))
                .help(match why {
                    "has no `@bits`" => "add `@bits(n)` to the leaf, or use `@bitpack(auto)`",
                    "is optional" => "make the leaf required, or use `@bitpack(auto)`",
                    _ => "give the leaf a fixed shape, or use `@bitpack(auto)`",
                });
                if let Some(ms) = r.mode_span {
                    d = d.secondary(ms, "aggregate packing is requested here");
                }
                diags.push(d);
            }
            return None;
        }
        _ => {}
    }
    let mut total: u64 = 0;
    for l in leaves {
        let bits = l
            .leaf
            .elements
            .and_then(|n| n.checked_mul(u64::from(l.leaf.bits?)));
        match bits.and_then(|b| total.checked_add(b)) {
            Some(t) => total = t,
            None => {
                diags.push(overflow(r.name_span));
                return None;
            }
        }
    }
    Some(Aggregate::for_total_bits(total))
}

fn str_header(len: u64) -> u64 {
    match len {
        0..32 => 1,
        32..256 => 2,
        256..65536 => 3,
        _ => 5,
    }
}

fn bin_header(len: u64) -> u64 {
    match len {
        0..256 => 2,
        256..65536 => 3,
        _ => 5,
    }
}

fn container_header(n: u64) -> u64 {
    match n {
        0..16 => 1,
        16..65536 => 3,
        _ => 5,
    }
}

fn msgpack_max_record(
    fields: &[FieldInput],
    built: &HashMap<String, Built>,
    enums: &[EnumDef],
) -> Option<u64> {
    let mut total = container_header(fields.len() as u64);
    for f in fields {
        let name = &f.field.name;
        let mut value = msgpack_max_ty(&f.field.ty, built, enums)?;
        if f.field.optional {
            value = value.max(1);
        }
        total = total
            .checked_add(str_header(name.len() as u64) + name.len() as u64)?
            .checked_add(value)?;
    }
    Some(total)
}

fn msgpack_max_ty(ty: &Ty, built: &HashMap<String, Built>, enums: &[EnumDef]) -> Option<u64> {
    match ty {
        Ty::Scalar { dtype } => Some(match dtype {
            Dtype::Bool => 1,
            d if d.is_float() => 9,
            d => 1 + d.size(),
        }),
        Ty::Array { dtype, shape } => {
            let n = elements(shape)?;
            // atdata payload: u8 len, 3-char typestr, u8 ndim, i64 dims, data.
            let payload = (5 + 8 * shape.len() as u64).checked_add(n.checked_mul(dtype.size())?)?;
            payload.checked_add(bin_header(payload))
        }
        Ty::Enum { name } => enums.iter().find(|e| &e.name == name).map(|e| {
            e.variants
                .iter()
                .map(|v| str_header(v.name.len() as u64) + v.name.len() as u64)
                .max()
                .unwrap_or(1)
        }),
        Ty::Record { name, shape } => {
            let one = built.get(name)?.msgpack_max?;
            // Component arrays are nested msgpack arrays, outermost dim first.
            shape.iter().rev().try_fold(one, |inner, d| {
                let n = d.fixed()?;
                container_header(n).checked_add(n.checked_mul(inner)?)
            })
        }
        Ty::Str | Ty::Bytes | Ty::List { .. } | Ty::Map { .. } => None,
    }
}

/// 16 hex digits of SHA-256 over the canonical layout: everything that changes bytes on
/// any wire (names, kinds, dtypes, shapes, bits, offsets, optionality, enum variants).
fn fingerprint(name: &str, kind: RecordKind, leaves: &[Leaf], enums: &[EnumDef]) -> String {
    let mut canon = format!("schemac-layout-v1\n{name}\n{kind:?}\n");
    for l in leaves {
        let shape: Vec<String> = l.shape.iter().map(Dim::to_string).collect();
        let kind = serde_json::to_string(&l.kind).unwrap_or_default();
        canon.push_str(&format!(
            "{}|{}|[{}]|{:?}|{:?}|{}|{}",
            l.path,
            kind,
            shape.join(","),
            l.bits,
            l.bit_offset,
            l.optional,
            l.packed_field
        ));
        if let LeafKind::Enum { name, .. } = &l.kind {
            if let Some(e) = enums.iter().find(|e| &e.name == name) {
                let names: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
                canon.push_str(&format!("|{}", names.join(",")));
            }
        }
        canon.push('\n');
    }
    let digest = Sha256::digest(canon.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

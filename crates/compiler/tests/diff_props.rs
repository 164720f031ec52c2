//! `schemac diff`'s verdicts, proved against the dynamic codec: a seeded property test edits
//! the example schemas at random (add, remove, rename, retype and reorder fields; change
//! `@bits`, shapes, dtypes, optionality, defaults and `@range`; add and remove variants),
//! and for every old/new pair checks each sample's verdicts:
//!
//! - "new reads old": seeded random values valid for the old schema, encoded with the old
//!   codec (MessagePack and JSON), decode with the new one;
//! - "old reads new": the reverse;
//! - "layout unchanged": the aggregate packed bytes of the same value agree, and so do the
//!   IR's SoA columns, packed sizes and bit offsets.
//!
//! Only the "ok" side of each verdict is asserted (a "breaks" is a claim that some data
//! may fail, which random data need not hit). The test also counts how often each
//! direction was exercised so that it cannot pass vacuously.

mod common;

use common::*;
use schemac::codec::{Codec, Format, Value};
use schemac::compile::{compile_source, Compiled};
use schemac::ir::{Dim, Record, Schema, Ty};
use schemac_runtime::array::Element;
use schemac_runtime::rng::Rng;
use schemac_runtime::with_dtype;
use std::collections::HashMap;
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------
// Random values from the IR
// ---------------------------------------------------------------------------------------

struct Gen<'a> {
    schema: &'a Schema,
    rng: &'a mut Rng,
    /// Sizes chosen for named dims in this sample (they must agree across fields).
    dims: HashMap<String, usize>,
    pinned: HashMap<String, Option<u64>>,
}

impl Gen<'_> {
    fn dim(&mut self, d: &Dim) -> usize {
        match d {
            Dim::Fixed(n) => *n as usize,
            Dim::Dynamic => self.rng.below(3) as usize,
            Dim::Named(name) => {
                if let Some(n) = self.dims.get(name) {
                    return *n;
                }
                let n = match self.pinned.get(name).copied().flatten() {
                    Some(n) => n as usize,
                    None => 1 + self.rng.below(3) as usize,
                };
                self.dims.insert(name.clone(), n);
                n
            }
        }
    }

    fn record(&mut self, r: &Record) -> Value {
        let mut fields = Vec::new();
        for f in &r.fields {
            let v = if f.optional && self.rng.below(3) == 0 {
                Value::Nil
            } else {
                self.ty(&f.ty, f.bits, f.range.map(|r| (r.lo, r.hi)))
            };
            fields.push((f.name.clone(), v));
        }
        Value::Record(fields)
    }

    fn ty(&mut self, ty: &Ty, bits: Option<u32>, range: Option<(f64, f64)>) -> Value {
        match ty {
            Ty::Scalar { dtype } => {
                with_dtype!(*dtype, T => Value::Scalar(T::random(self.rng, bits, range).to_scalar()))
            }
            Ty::Str => Value::Str(self.rng.string(6)),
            Ty::Bytes => Value::Bytes(self.rng.bytes(6)),
            Ty::Enum { name } => {
                let e = self.schema.enum_def(name).unwrap();
                let i = self.rng.below(e.variants.len() as u64) as usize;
                Value::Str(e.variants[i].name.clone())
            }
            Ty::Array { dtype, shape } => {
                let shape: Vec<usize> = shape.iter().map(|d| self.dim(d)).collect();
                let n: usize = shape.iter().product();
                let mut data = Vec::new();
                with_dtype!(*dtype, T => {
                    for _ in 0..n {
                        T::random(self.rng, bits, range).write_le(&mut data);
                    }
                });
                Value::Array(schemac::codec::Array {
                    dtype: *dtype,
                    shape,
                    data,
                })
            }
            Ty::Record { name, shape } => {
                let rec = self.schema.record(name).unwrap();
                let shape: Vec<usize> = shape.iter().map(|d| self.dim(d)).collect();
                self.nested(rec, &shape)
            }
            Ty::List { item } => {
                let n = self.rng.below(3);
                Value::List((0..n).map(|_| self.ty(item, None, None)).collect())
            }
            Ty::Map { value } => {
                let n = self.rng.below(3);
                let mut entries: Vec<(String, Value)> = (0..n)
                    .map(|i| (format!("k{i}"), self.ty(value, None, None)))
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Map(entries)
            }
        }
    }

    fn nested(&mut self, rec: &Record, shape: &[usize]) -> Value {
        match shape.split_first() {
            None => self.record(rec),
            Some((n, rest)) => Value::List((0..*n).map(|_| self.nested(rec, rest)).collect()),
        }
    }
}

fn random_value(schema: &Schema, rec: &Record, rng: &mut Rng) -> Value {
    let pinned = rec
        .named_dims
        .iter()
        .map(|d| (d.name.clone(), d.size))
        .collect();
    Gen {
        schema,
        rng,
        dims: HashMap::new(),
        pinned,
    }
    .record(rec)
}

// ---------------------------------------------------------------------------------------
// Random edits of schema text
// ---------------------------------------------------------------------------------------

/// A field line: `    name: type? = default @attr(...)*,`.
#[derive(Clone, Debug)]
struct FieldLine {
    name: String,
    ty: String,
    optional: bool,
    default: Option<String>,
    attrs: Vec<String>,
}

impl FieldLine {
    fn parse(line: &str) -> Option<FieldLine> {
        let body = line.strip_prefix("    ")?.strip_suffix(',')?;
        if body.starts_with(' ') || body.starts_with('/') {
            return None;
        }
        let (name, rest) = body.split_once(": ")?;
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        // The type ends at the first `?`, space or end outside brackets.
        let mut depth = 0i32;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '[' | '<' => depth += 1,
                ']' | '>' => depth -= 1,
                '?' | ' ' if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let ty = rest[..end].to_string();
        let mut tail = &rest[end..];
        let optional = tail.starts_with('?');
        if optional {
            tail = &tail[1..];
        }
        let mut default = None;
        if let Some(t) = tail.strip_prefix(" = ") {
            let stop = t.find(" @").unwrap_or(t.len());
            default = Some(t[..stop].to_string());
            tail = &t[stop..];
        }
        let attrs = tail
            .split(" @")
            .filter(|a| !a.is_empty())
            .map(|a| format!("@{}", a.trim_start_matches('@')))
            .collect();
        Some(FieldLine {
            name: name.to_string(),
            ty,
            optional,
            default,
            attrs,
        })
    }

    fn render(&self) -> String {
        let mut s = format!("    {}: {}", self.name, self.ty);
        if self.optional {
            s.push('?');
        }
        if let Some(d) = &self.default {
            s.push_str(&format!(" = {d}"));
        }
        for a in &self.attrs {
            s.push_str(&format!(" {a}"));
        }
        s.push(',');
        s
    }
}

const DTYPES: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f16", "bf16", "f32", "f64",
];

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

/// A plausible default for a type (`None` where none fits simply).
fn default_for(ty: &str, rng: &mut Rng) -> Option<String> {
    let base = ty.split('[').next().unwrap();
    Some(match base {
        "bool" => "true".into(),
        "f16" | "bf16" | "f32" | "f64" => pick(rng, &["0.5", "0", "-1.5"]).to_string(),
        d if DTYPES.contains(&d) => pick(rng, &["0", "1", "3"]).to_string(),
        "str" => "\"x\"".into(),
        _ => return None,
    })
}

/// Names declared in the text: (enums with their variant lists, components).
fn declared(text: &str) -> (Vec<String>, Vec<String>) {
    let mut enums = Vec::new();
    let mut comps = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("enum ") {
            enums.push(rest.split([' ', '{']).next().unwrap().to_string());
        } else if let Some(rest) = line.strip_prefix("component ") {
            comps.push(rest.split([' ', '{']).next().unwrap().to_string());
        }
    }
    (enums, comps)
}

fn random_type(rng: &mut Rng, enums: &[String], comps: &[String]) -> String {
    let mut pool: Vec<String> = [
        "u8",
        "u16",
        "i8",
        "i32",
        "i64",
        "u32",
        "f16",
        "f32",
        "f64",
        "bool",
        "str",
        "bytes",
        "u8[4]",
        "f32[3]",
        "f32[_]",
        "i16[2, 2]",
        "list<str>",
        "list<i32>",
        "map<str, f32>",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    pool.extend(enums.iter().cloned());
    pool.extend(comps.iter().cloned());
    pick(rng, &pool).clone()
}

/// One random edit; `None` when the chosen edit does not apply to this text.
fn mutate(text: &str, rng: &mut Rng) -> Option<(String, &'static str)> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let (enums, comps) = declared(text);
    let fields: Vec<usize> = (0..lines.len())
        .filter(|&i| FieldLine::parse(&lines[i]).is_some())
        .collect();
    let enum_lines: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("enum ") && lines[i].trim_end().ends_with('}'))
        .collect();
    let kind = *pick(
        rng,
        &[
            "add",
            "remove",
            "rename",
            "rename-alias",
            "retype",
            "reorder",
            "bits",
            "shape",
            "dtype",
            "optional",
            "default",
            "range",
            "variant",
        ],
    );
    if fields.is_empty() {
        return None;
    }
    let i = *pick(rng, &fields);
    let mut f = FieldLine::parse(&lines[i]).unwrap();
    match kind {
        "add" => {
            let ty = random_type(rng, &enums, &comps);
            let mut nf = FieldLine {
                name: format!("added_{}", rng.below(100)),
                default: None,
                optional: rng.bool(),
                ty,
                attrs: Vec::new(),
            };
            if !nf.optional && rng.bool() {
                nf.default = default_for(&nf.ty, rng);
            }
            lines.insert(i + usize::from(rng.bool()), nf.render());
        }
        "remove" => {
            lines.remove(i);
        }
        "rename" => {
            f.name.push_str("_renamed");
            lines[i] = f.render();
        }
        "rename-alias" => {
            let old = f.name.clone();
            f.name.push_str("_renamed");
            f.attrs.push(format!("@alias(\"{old}\")"));
            lines[i] = f.render();
        }
        "retype" => {
            f.ty = random_type(rng, &enums, &comps);
            if rng.bool() {
                f.attrs.clear();
                f.default = None;
            }
            lines[i] = f.render();
        }
        "reorder" => {
            let j = if i + 1 < lines.len() && FieldLine::parse(&lines[i + 1]).is_some() {
                i + 1
            } else if i > 0 && FieldLine::parse(&lines[i - 1]).is_some() {
                i - 1
            } else {
                return None;
            };
            lines.swap(i, j);
        }
        "bits" => {
            let n = 1 + rng.below(16);
            f.attrs.retain(|a| !a.starts_with("@bits"));
            if rng.below(4) != 0 {
                f.attrs.insert(0, format!("@bits({n})"));
            }
            lines[i] = f.render();
        }
        "shape" => {
            let open = f.ty.find('[')?;
            let inner = f.ty[open + 1..f.ty.len() - 1].to_string();
            let mut dims: Vec<String> = inner.split(", ").map(str::to_string).collect();
            let k = rng.below(dims.len() as u64) as usize;
            match rng.below(4) {
                0 => dims[k] = "_".into(),
                1 => dims[k] = (1 + rng.below(6)).to_string(),
                2 => dims.push("2".into()),
                _ if dims.len() > 1 => {
                    dims.remove(k);
                }
                _ => dims[k] = "3".into(),
            }
            f.ty = format!("{}[{}]", &f.ty[..open], dims.join(", "));
            lines[i] = f.render();
        }
        "dtype" => {
            let base = f.ty.split('[').next().unwrap().to_string();
            if !DTYPES.contains(&base.as_str()) {
                return None;
            }
            f.ty = format!("{}{}", pick(rng, DTYPES), &f.ty[base.len()..]);
            lines[i] = f.render();
        }
        "optional" => {
            f.optional = !f.optional;
            lines[i] = f.render();
        }
        "default" => {
            f.default = match &f.default {
                Some(_) if rng.bool() => None,
                _ => default_for(&f.ty, rng),
            };
            lines[i] = f.render();
        }
        "range" => {
            f.attrs.retain(|a| !a.starts_with("@range"));
            let (lo, hi) = *pick(rng, &[(0, 1), (-1, 1), (0, 10), (-100, 100), (0, 255)]);
            if rng.below(4) != 0 {
                f.attrs.push(format!("@range({lo}, {hi})"));
            }
            lines[i] = f.render();
        }
        "variant" => {
            if enum_lines.is_empty() {
                return None;
            }
            let j = *pick(rng, &enum_lines);
            let line = &lines[j];
            let (head, rest) = line.split_once('{')?;
            let body = rest.trim_end().strip_suffix('}')?;
            let mut vs: Vec<String> = body
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if rng.bool() && vs.len() > 1 {
                vs.remove(rng.below(vs.len() as u64) as usize);
            } else {
                let at = rng.below(vs.len() as u64 + 1) as usize;
                vs.insert(at, format!("v{}", rng.below(50)));
            }
            lines[j] = format!("{head}{{ {} }}", vs.join(", "));
        }
        _ => unreachable!(),
    }
    Some((lines.join("\n") + "\n", kind))
}

// ---------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------

#[derive(Default, Debug)]
struct Counts {
    pairs: usize,
    nro_checked: usize,
    onr_checked: usize,
    layout_checked: usize,
    packed_checked: usize,
    kinds: HashMap<&'static str, usize>,
}

/// Encodes random values of `from`'s sample with `from`, decodes with `to`; returns the
/// decoded values (or the first failure).
fn cross(
    from: &Compiled,
    to: &Compiled,
    sample: &str,
    rng: &mut Rng,
) -> Result<Vec<(Value, Value)>, String> {
    let fc = Codec::new(&from.schema, sample).unwrap();
    let tc = Codec::new(&to.schema, sample).unwrap();
    let mut out = Vec::new();
    for _ in 0..3 {
        let v = random_value(&from.schema, fc.record(), rng);
        for format in [Format::Msgpack, Format::Json] {
            let bytes = fc
                .encode(&v, format)
                .map_err(|e| format!("the generator made an invalid value: {e}"))?;
            let w = tc
                .decode(&bytes, format)
                .map_err(|e| format!("{format}: {e}"))?;
            if format == Format::Msgpack {
                out.push((v.clone(), w));
            }
        }
    }
    Ok(out)
}

fn layout_facts(r: &Record) -> Vec<String> {
    let mut v: Vec<String> = r
        .leaves
        .iter()
        .map(|l| {
            format!(
                "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
                l.path,
                l.kind.dtype(),
                l.shape,
                l.bits,
                l.bit_offset,
                l.packed_bytes,
                l.packed_field,
                l.soa
            )
        })
        .collect();
    v.push(format!(
        "{:?} {:?}",
        r.bitpack,
        [r.sizes.soa_row, r.sizes.aggregate, r.sizes.field_packed]
    ));
    v
}

fn check_pair(old: &Compiled, new: &Compiled, rng: &mut Rng, counts: &mut Counts, what: &str) {
    let report = schemac::diff::diff(old, new, "old", "new", "old:");
    for rec in old.schema.samples() {
        let Some(nrec) = new.schema.record(&rec.name) else {
            continue;
        };
        if nrec.kind != rec.kind {
            continue;
        }
        let changes: Vec<_> = report.group(&rec.name).collect();
        let nro = changes.iter().all(|c| c.new_reads_old);
        let onr = changes.iter().all(|c| c.old_reads_new);
        let layout = changes.iter().all(|c| c.layout_unchanged);
        let explain = || {
            format!(
                "{what}\n{}",
                schemac::diff::render::text(&report, &[schemac::diff::Category::Wire], false)
            )
        };
        let mut forward = None;
        if nro {
            match cross(old, new, &rec.name, rng) {
                Ok(pairs) => forward = Some(pairs),
                Err(e) => panic!(
                    "diff says new reads old `{}`, but: {e}\n{}",
                    rec.name,
                    explain()
                ),
            }
            counts.nro_checked += 1;
        }
        if onr {
            if let Err(e) = cross(new, old, &rec.name, rng) {
                panic!(
                    "diff says old reads new `{}`, but: {e}\n{}",
                    rec.name,
                    explain()
                );
            }
            counts.onr_checked += 1;
        }
        if layout {
            assert_eq!(
                layout_facts(rec),
                layout_facts(nrec),
                "layout unchanged?\n{}",
                explain()
            );
            counts.layout_checked += 1;
            if let (Some(pairs), Some(_)) = (&forward, rec.bitpack.aggregate) {
                let (oc, nc) = (
                    Codec::new(&old.schema, &rec.name).unwrap(),
                    Codec::new(&new.schema, &rec.name).unwrap(),
                );
                for (v, w) in pairs {
                    assert_eq!(
                        oc.to_packed(v).unwrap(),
                        nc.to_packed(w).unwrap(),
                        "packed bytes differ\n{}",
                        explain()
                    );
                }
                counts.packed_checked += 1;
            }
        }
    }
}

#[test]
fn verdicts_hold_against_the_codec() {
    let root = repo();
    let seed: u64 = std::env::var("SCHEMAC_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_d1ff);
    let iterations: usize = std::env::var("SCHEMAC_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let mut rng = Rng::new(seed);
    // vision's 224x224x3 image would make every value 600 kB; its shape is edited like any other.
    let schemas: Vec<(PathBuf, String)> = examples()
        .into_iter()
        .map(|p| {
            let abs = root.join(&p);
            let text = std::fs::read_to_string(&abs).unwrap();
            (abs, text.replace("f32[224, 224, 3]", "f32[4, 4, 3]"))
        })
        .collect();
    let mut counts = Counts::default();
    for case in 0..iterations {
        let (path, text) = pick(&mut rng, &schemas).clone();
        let Ok(old) = compile_source(&path, text.clone()) else {
            continue;
        };
        // One or two edits.
        let mut new_text = text;
        let mut kinds = Vec::new();
        for _ in 0..1 + rng.below(2) {
            if let Some((t, k)) = mutate(&new_text, &mut rng) {
                new_text = t;
                kinds.push(k);
            }
        }
        let Ok(new) = compile_source(&path, new_text.clone()) else {
            continue;
        };
        for k in &kinds {
            *counts.kinds.entry(k).or_default() += 1;
        }
        counts.pairs += 1;
        let what = format!(
            "case {case} (seed {seed:#x}), {} edited by {kinds:?}:\n{new_text}",
            path.display()
        );
        check_pair(&old, &new, &mut rng, &mut counts, &what);
    }
    eprintln!("{counts:#?}");
    assert!(counts.pairs >= iterations / 3, "{counts:?}");
    assert!(
        counts.nro_checked >= 50 && counts.onr_checked >= 50,
        "{counts:?}"
    );
    assert!(
        counts.layout_checked >= 20 && counts.packed_checked >= 5,
        "{counts:?}"
    );
    for k in [
        "add",
        "remove",
        "rename",
        "rename-alias",
        "retype",
        "reorder",
        "bits",
        "shape",
        "dtype",
        "optional",
        "default",
        "range",
        "variant",
    ] {
        assert!(
            counts.kinds.get(k).copied().unwrap_or(0) >= 3,
            "{k} barely tried: {counts:?}"
        );
    }
}

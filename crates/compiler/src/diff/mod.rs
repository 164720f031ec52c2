//! `schemac diff`: compares two versions of a schema and gives every change a verdict in
//! each category (DESIGN §7, docs/language.md "Schema evolution").
//!
//! - **wire**: whether new code reads old data and old code reads new data (MessagePack
//!   and JSON), by the rules in [`rules`] (one table; the docs table is generated from it).
//! - **layout**: whether the packed, SoA/safetensors and CUDA layouts keep their bytes. This
//!   is decided from the IR's layout facts, not from rules: a change keeps the layout when
//!   the leaves under it keep their path, kind, dtype, shape, `@bits`, bit offset, packed
//!   size and SoA column (and the record its bitpack form and sizes).
//! - **api**: whether the generated Rust, Python and CUDA names and types stay. Adding a
//!   field changes the api (Rust struct literals and CUDA structs name every field).
//!
//! The IR carries no source locations, so each version's files are parsed again to find
//! the span of every record, field and variant ([`Index`]). Changes point into one
//! [`Sources`] holding the old files then the new ones, so one rustc-style diagnostic can
//! show a label in each.

pub mod git;
pub mod render;
pub mod rules;

use crate::ast;
use crate::compile::Compiled;
use crate::diag::{FileId, Sources, Span};
use crate::ir::{self, Field, Leaf, LeafKind, Record, RecordKind, Schema, Ty};
use rules::{FieldTy, Verdict};
use std::collections::HashMap;

/// The categories `--break-on` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Category {
    Wire,
    Layout,
    Api,
}

/// One change, with its verdicts.
#[derive(Clone, Debug)]
pub struct Change {
    /// The record or enum it belongs to (`""` for the schema itself: `package`).
    pub group: String,
    /// What kind of change (`field-added`, `field-changed`, `variant-removed`, ...).
    pub code: &'static str,
    pub message: String,
    /// Where it was in the old version and is in the new one (in [`Report::sources`]).
    pub old: Option<Span>,
    pub new: Option<Span>,
    /// The wire rules that decided the wire verdict (ids of [`rules::RULES`]).
    pub rules: Vec<&'static str>,
    pub new_reads_old: bool,
    pub old_reads_new: bool,
    pub layout_unchanged: bool,
    pub api_unchanged: bool,
}

impl Change {
    pub fn wire_ok(&self) -> bool {
        self.new_reads_old && self.old_reads_new
    }

    pub fn breaks(&self, category: Category) -> bool {
        match category {
            Category::Wire => !self.wire_ok(),
            Category::Layout => !self.layout_unchanged,
            Category::Api => !self.api_unchanged,
        }
    }
}

/// A group of changes: a record or an enum, as the report shows it.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    /// `sample`, `component`, `enum` or `schema`.
    pub kind: &'static str,
}

/// Everything `diff` found between two versions of one schema.
pub struct Report {
    /// The old files then the new ones; spans in [`Change`] point here.
    pub sources: Sources,
    /// How many of `sources` are old files (ids below this are old).
    pub old_files: usize,
    /// What the old and new version are called (`HEAD~1:a.schema`, `a.schema`).
    pub old_name: String,
    pub new_name: String,
    /// What the old files' names start with (`HEAD~1:`), possibly nothing.
    pub old_prefix: String,
    pub groups: Vec<Group>,
    /// Grouped: every change of `groups[0]` first, in the order the group shows them.
    pub changes: Vec<Change>,
}

impl Report {
    /// Whether any change breaks one of `categories`.
    pub fn breaks(&self, categories: &[Category]) -> bool {
        self.changes
            .iter()
            .any(|c| categories.iter().any(|k| c.breaks(*k)))
    }

    /// The changes of one record or enum.
    pub fn group(&self, name: &str) -> impl Iterator<Item = &Change> {
        let name = name.to_string();
        self.changes.iter().filter(move |c| c.group == name)
    }
}

/// Spans of every named thing in one version, found by parsing its files again.
struct Index {
    items: HashMap<String, Span>,
    fields: HashMap<(String, String), Span>,
    variants: HashMap<(String, String), Span>,
    package: Option<Span>,
    root: Span,
}

impl Index {
    fn build(sources: &Sources, offset: FileId) -> Index {
        let mut index = Index {
            items: HashMap::new(),
            fields: HashMap::new(),
            variants: HashMap::new(),
            package: None,
            root: Span::new(offset, 0, 0),
        };
        let shift = |s: Span| Span::new(s.file + offset, s.start, s.end);
        for id in 0..sources.paths().len() {
            let Ok(file) = crate::parse::parse(id, sources.text(id)) else {
                continue;
            };
            if id == 0 {
                index.package = file.package.as_ref().map(|p| shift(p.span));
            }
            for item in &file.items {
                let name = item.name().value.clone();
                index
                    .items
                    .entry(name.clone())
                    .or_insert(shift(item.name().span));
                match item {
                    ast::Item::Record(r) => {
                        for f in &r.fields {
                            index
                                .fields
                                .entry((name.clone(), f.name.value.clone()))
                                .or_insert(shift(f.span));
                        }
                    }
                    ast::Item::Enum(e) => {
                        for v in &e.variants {
                            index
                                .variants
                                .entry((name.clone(), v.name.value.clone()))
                                .or_insert(shift(v.name.span));
                        }
                    }
                }
            }
        }
        index
    }

    fn item(&self, name: &str) -> Span {
        self.items.get(name).copied().unwrap_or(self.root)
    }

    fn field(&self, record: &str, field: &str) -> Span {
        self.fields
            .get(&(record.to_string(), field.to_string()))
            .copied()
            .unwrap_or_else(|| self.item(record))
    }

    fn variant(&self, e: &str, v: &str) -> Span {
        self.variants
            .get(&(e.to_string(), v.to_string()))
            .copied()
            .unwrap_or_else(|| self.item(e))
    }
}

/// Compares two compiled versions. `old_name`/`new_name` are how the report names them;
/// `old_prefix` is put before each old file's name (`HEAD~1:`), so that a file with the
/// same name on both sides can be told apart.
pub fn diff(
    old: &Compiled,
    new: &Compiled,
    old_name: &str,
    new_name: &str,
    old_prefix: &str,
) -> Report {
    let mut sources = Sources::new();
    let copy = |from: &Sources, into: &mut Sources, prefix: &str| {
        for id in 0..from.paths().len() {
            into.add(
                format!("{prefix}{}", from.name(id)),
                from.path(id).to_path_buf(),
                from.text(id).to_string(),
            );
        }
    };
    copy(&old.sources, &mut sources, old_prefix);
    let old_files = old.sources.paths().len();
    copy(&new.sources, &mut sources, "");
    let cx = Cx {
        old: &old.schema,
        new: &new.schema,
        oi: Index::build(&old.sources, 0),
        ni: Index::build(&new.sources, old_files),
    };
    let (groups, changes) = cx.compare();
    Report {
        sources,
        old_files,
        old_name: old_name.to_string(),
        new_name: new_name.to_string(),
        old_prefix: old_prefix.to_string(),
        groups,
        changes,
    }
}

struct Cx<'a> {
    old: &'a Schema,
    new: &'a Schema,
    oi: Index,
    ni: Index,
}

/// A wire verdict pair.
#[derive(Clone, Copy)]
struct Wire {
    nro: bool,
    onr: bool,
}

impl Wire {
    const OK: Wire = Wire {
        nro: true,
        onr: true,
    };

    fn and(self, o: Wire) -> Wire {
        Wire {
            nro: self.nro && o.nro,
            onr: self.onr && o.onr,
        }
    }

    fn of_rule(id: &'static str) -> Wire {
        let r = rules::rule(id);
        Wire {
            nro: r.new_reads_old != Verdict::Breaks,
            onr: r.old_reads_new != Verdict::Breaks,
        }
    }
}

/// Whether a reader fills the field when its key is missing: it is optional, or it has a
/// default that can be materialised (an array's default fills it only when every dim is
/// fixed; a dynamic or named size has no value to take).
fn defaulted(f: &Field) -> bool {
    let fills = match &f.ty {
        Ty::Array { shape, .. } => shape.iter().all(|d| d.fixed().is_some()),
        _ => true,
    };
    f.optional || (f.default.is_some() && fills)
}

/// A leaf's layout facts: everything but docs, `@range`, defaults and the enum's name.
fn layout_facts(l: &Leaf) -> Leaf {
    let mut l = l.clone();
    l.docs.clear();
    l.range = None;
    l.default = None;
    if let LeafKind::Enum { name, .. } = &mut l.kind {
        name.clear();
    }
    l
}

fn leaves_under(r: &Record, field: &str) -> Vec<Leaf> {
    r.leaves
        .iter()
        .filter(|l| l.segments.first().is_some_and(|s| s == field))
        .map(layout_facts)
        .collect()
}

/// A record's whole layout: leaves, bitpack form and the layout sizes.
fn record_layout(r: &Record) -> (Vec<Leaf>, ir::Bitpack, [Option<u64>; 3]) {
    (
        r.leaves.iter().map(layout_facts).collect(),
        r.bitpack.clone(),
        [r.sizes.soa_row, r.sizes.aggregate, r.sizes.field_packed],
    )
}

impl Cx<'_> {
    fn compare(&self) -> (Vec<Group>, Vec<Change>) {
        let mut groups = Vec::new();
        let mut changes = Vec::new();
        let mut push = |g: Group, mut cs: Vec<Change>| {
            if !cs.is_empty() {
                for c in &mut cs {
                    c.group = g.name.clone();
                }
                // A record that became an enum of the same name (or back) is one group.
                if !groups.iter().any(|x: &Group| x.name == g.name) {
                    groups.push(g);
                }
                changes.extend(cs);
            }
        };
        push(
            Group {
                name: String::new(),
                kind: "schema",
            },
            self.schema_changes(),
        );
        // New order first, then what only the old version had.
        let mut names: Vec<(&str, bool)> = Vec::new();
        for r in &self.new.records {
            names.push((&r.name, false));
        }
        for e in &self.new.enums {
            names.push((&e.name, true));
        }
        for r in &self.old.records {
            if self.new.record(&r.name).is_none() {
                names.push((&r.name, false));
            }
        }
        for e in &self.old.enums {
            if self.new.enum_def(&e.name).is_none() {
                names.push((&e.name, true));
            }
        }
        for (name, is_enum) in names {
            let (kind, cs) = if is_enum {
                ("enum", self.enum_changes(name))
            } else {
                let kind = match self
                    .new
                    .record(name)
                    .or(self.old.record(name))
                    .map(|r| r.kind)
                {
                    Some(RecordKind::Sample) => "sample",
                    _ => "component",
                };
                (kind, self.record_changes(name))
            };
            push(
                Group {
                    name: name.to_string(),
                    kind,
                },
                cs,
            );
        }
        (groups, changes)
    }

    fn change(
        &self,
        code: &'static str,
        message: String,
        old: Option<Span>,
        new: Option<Span>,
    ) -> Change {
        Change {
            group: String::new(),
            code,
            message,
            old,
            new,
            rules: Vec::new(),
            new_reads_old: true,
            old_reads_new: true,
            layout_unchanged: true,
            api_unchanged: true,
        }
    }

    fn with_rule(mut c: Change, id: &'static str) -> Change {
        let w = Wire::of_rule(id);
        c.rules.push(id);
        c.new_reads_old &= w.nro;
        c.old_reads_new &= w.onr;
        c
    }

    fn schema_changes(&self) -> Vec<Change> {
        let mut out = Vec::new();
        if self.old.package != self.new.package || self.old.module != self.new.module {
            let show = |p: &Option<String>| p.clone().unwrap_or_else(|| "(none)".into());
            let mut c = self.change(
                "package-changed",
                format!(
                    "package `{}` became `{}` (generated module `{}` → `{}`)",
                    show(&self.old.package),
                    show(&self.new.package),
                    self.old.module,
                    self.new.module
                ),
                Some(self.oi.package.unwrap_or(self.oi.root)),
                Some(self.ni.package.unwrap_or(self.ni.root)),
            );
            c.api_unchanged = false;
            out.push(Self::with_rule(c, "no-wire-effect"));
        }
        out
    }

    // -- enums -------------------------------------------------------------------------

    fn enum_changes(&self, name: &str) -> Vec<Change> {
        let (o, n) = (self.old.enum_def(name), self.new.enum_def(name));
        let mut out = Vec::new();
        match (o, n) {
            (None, Some(_)) => {
                let c = self.change(
                    "enum-added",
                    format!("enum `{name}` added"),
                    None,
                    Some(self.ni.item(name)),
                );
                out.push(Self::with_rule(c, "no-wire-effect"));
            }
            (Some(_), None) => {
                let mut c = self.change(
                    "enum-removed",
                    format!("enum `{name}` removed"),
                    Some(self.oi.item(name)),
                    None,
                );
                c.api_unchanged = false;
                out.push(Self::with_rule(c, "no-wire-effect"));
            }
            (Some(o), Some(n)) => {
                let on: Vec<&str> = o.variants.iter().map(|v| v.name.as_str()).collect();
                let nn: Vec<&str> = n.variants.iter().map(|v| v.name.as_str()).collect();
                let index_of =
                    |vs: &[ir::Variant], v: &str| vs.iter().find(|x| x.name == v).map(|x| x.index);
                // The variants both have keep their index (SoA values, CUDA constants)?
                let indices_kept = on.iter().all(|v| {
                    index_of(&n.variants, v).is_none_or(|i| Some(i) == index_of(&o.variants, v))
                });
                let layout = o.repr == n.repr && indices_kept;
                for v in &nn {
                    if !on.contains(v) {
                        let mut c = self.change(
                            "variant-added",
                            format!("variant `{v}` added to enum `{name}`"),
                            Some(self.oi.item(name)),
                            Some(self.ni.variant(name, v)),
                        );
                        c.layout_unchanged = layout;
                        // Exhaustive `match`es in Rust no longer compile.
                        c.api_unchanged = false;
                        out.push(Self::with_rule(c, "variants-added"));
                    }
                }
                for v in &on {
                    if !nn.contains(v) {
                        let mut c = self.change(
                            "variant-removed",
                            format!(
                                "variant `{v}` removed from enum `{name}`{}",
                                unreserved(&n.reserved, v, name)
                            ),
                            Some(self.oi.variant(name, v)),
                            Some(self.ni.item(name)),
                        );
                        c.layout_unchanged = layout;
                        c.api_unchanged = false;
                        out.push(Self::with_rule(c, "variants-removed"));
                    }
                }
                let common_o: Vec<&&str> = on.iter().filter(|v| nn.contains(v)).collect();
                let common_n: Vec<&&str> = nn.iter().filter(|v| on.contains(v)).collect();
                if common_o != common_n {
                    let mut c = self.change(
                        "variants-reordered",
                        format!(
                            "variants of enum `{name}` reordered: {} → {}",
                            on.join(", "),
                            nn.join(", ")
                        ),
                        Some(self.oi.item(name)),
                        Some(self.ni.item(name)),
                    );
                    c.layout_unchanged = layout;
                    out.push(Self::with_rule(c, "variants-same"));
                } else if o.repr != n.repr && out.iter().all(|c| c.layout_unchanged) {
                    let mut c = self.change(
                        "enum-repr-changed",
                        format!(
                            "enum `{name}` is stored as {} instead of {}",
                            n.repr.name(),
                            o.repr.name()
                        ),
                        Some(self.oi.item(name)),
                        Some(self.ni.item(name)),
                    );
                    c.layout_unchanged = false;
                    c.api_unchanged = false;
                    out.push(Self::with_rule(c, "no-wire-effect"));
                }
            }
            (None, None) => {}
        }
        out
    }

    /// Wire verdict for values of old enum `a` read as new enum `b`.
    fn enum_wire(&self, a: &str, b: &str) -> (Option<&'static str>, Wire) {
        let names = |s: &Schema, e: &str| -> Vec<String> {
            s.enum_def(e)
                .map(|e| e.variants.iter().map(|v| v.name.clone()).collect())
                .unwrap_or_default()
        };
        let (on, nn) = (names(self.old, a), names(self.new, b));
        let rule = rules::variants_rule(&on, &nn);
        let rule = rule.or((a != b).then_some("variants-same"));
        (rule, rule.map_or(Wire::OK, Wire::of_rule))
    }

    // -- records -----------------------------------------------------------------------

    /// Wire verdict for old component `a` read as new component `b`, field by field.
    fn record_wire(&self, a: &str, b: &str) -> Wire {
        let (Some(o), Some(n)) = (self.old.record(a), self.new.record(b)) else {
            return Wire {
                nro: false,
                onr: false,
            };
        };
        let mut w = Wire::OK;
        for f in &n.fields {
            w = w.and(match o.fields.iter().find(|x| x.name == f.name) {
                Some(of) => self.field_wire(o, of, n, f).1,
                None => Wire::of_rule(added_rule(f)),
            });
        }
        for f in &o.fields {
            if !n.fields.iter().any(|x| x.name == f.name) {
                w = w.and(Wire::of_rule(removed_rule(f)));
            }
        }
        w
    }

    /// The wire rules of one field present in both, and their verdict.
    fn field_wire(
        &self,
        or: &Record,
        of: &Field,
        nr: &Record,
        nf: &Field,
    ) -> (Vec<&'static str>, Wire) {
        let tc = rules::classify(
            FieldTy::of(of, &or.named_dims),
            FieldTy::of(nf, &nr.named_dims),
        );
        let mut ids = tc.rules.clone();
        let mut w = ids.iter().fold(Wire::OK, |w, id| w.and(Wire::of_rule(id)));
        match (of.optional, nf.optional) {
            (false, true) => ids.push("optional-added"),
            (true, false) => ids.push("optional-removed"),
            _ => {}
        }
        if let Some(id) = ids.last().filter(|id| id.starts_with("optional-")) {
            w = w.and(Wire::of_rule(id));
        }
        if of.default != nf.default {
            ids.push("default-changed");
        }
        for (a, b) in &tc.components {
            let nw = self.record_wire(a, b);
            let bare = |name: &String| Ty::Record {
                name: name.clone(),
                shape: Vec::new(),
            };
            if !self.ty_same(&bare(a), &bare(b)) {
                ids.push("nested");
            }
            w = w.and(nw);
        }
        for (a, b) in &tc.enums {
            let (rule, ew) = self.enum_wire(a, b);
            if let Some(r) = rule {
                ids.push(r);
            }
            w = w.and(ew);
        }
        ids.dedup();
        (ids, w)
    }

    /// Whether two fields are the same, nested components and enums included (docs aside).
    fn field_same(&self, of: &Field, nf: &Field) -> bool {
        let plain = |f: &Field| {
            let mut f = f.clone();
            f.docs.clear();
            f
        };
        plain(of) == plain(nf) && self.ty_same(&of.ty, &nf.ty)
    }

    fn ty_same(&self, a: &Ty, b: &Ty) -> bool {
        match (a, b) {
            (Ty::Enum { name: x }, Ty::Enum { name: y }) => {
                let names = |s: &Schema, e: &str| -> Vec<String> {
                    s.enum_def(e)
                        .map(|e| e.variants.iter().map(|v| v.name.clone()).collect())
                        .unwrap_or_default()
                };
                x == y && names(self.old, x) == names(self.new, y)
            }
            (Ty::Record { name: x, .. }, Ty::Record { name: y, .. }) => {
                x == y
                    && match (self.old.record(x), self.new.record(y)) {
                        (Some(o), Some(n)) => {
                            o.fields.len() == n.fields.len()
                                && o.fields
                                    .iter()
                                    .zip(&n.fields)
                                    .all(|(a, b)| self.field_same(a, b))
                        }
                        _ => false,
                    }
            }
            (Ty::List { item: x }, Ty::List { item: y })
            | (Ty::Map { value: x }, Ty::Map { value: y }) => self.ty_same(x, y),
            _ => a == b,
        }
    }

    fn record_changes(&self, name: &str) -> Vec<Change> {
        let (o, n) = (self.old.record(name), self.new.record(name));
        let mut out = Vec::new();
        let (o, n) = match (o, n) {
            (None, Some(n)) => {
                let c = self.change(
                    "record-added",
                    format!("{} `{name}` added", kind_word(n.kind)),
                    None,
                    Some(self.ni.item(name)),
                );
                let rule = if n.kind == RecordKind::Sample {
                    "sample-added"
                } else {
                    "no-wire-effect"
                };
                return vec![Self::with_rule(c, rule)];
            }
            (Some(o), None) => {
                let mut c = self.change(
                    "record-removed",
                    format!("{} `{name}` removed", kind_word(o.kind)),
                    Some(self.oi.item(name)),
                    None,
                );
                c.api_unchanged = false;
                c.layout_unchanged = o.kind == RecordKind::Component;
                let rule = if o.kind == RecordKind::Sample {
                    "sample-removed"
                } else {
                    "no-wire-effect"
                };
                return vec![Self::with_rule(c, rule)];
            }
            (Some(o), Some(n)) => (o, n),
            (None, None) => return out,
        };
        let (os, ns) = (self.oi.item(name), self.ni.item(name));
        if o.kind != n.kind {
            let mut c = self.change(
                "kind-changed",
                format!(
                    "`{name}` was a {} and is a {}",
                    kind_word(o.kind),
                    kind_word(n.kind)
                ),
                Some(os),
                Some(ns),
            );
            c.api_unchanged = false;
            let rule = if o.kind == RecordKind::Sample {
                "sample-removed"
            } else {
                "sample-added"
            };
            out.push(Self::with_rule(c, rule));
        }
        // An `@alias` naming a field only the old version has is a rename.
        let renamed_from = |nf: &Field| -> Option<&Field> {
            nf.aliases.iter().find_map(|a| {
                let of = o.fields.iter().find(|f| &f.name == a)?;
                (!n.fields.iter().any(|f| &f.name == a)).then_some(of)
            })
        };
        let renamed: Vec<&str> = n
            .fields
            .iter()
            .filter_map(|f| renamed_from(f).map(|of| of.name.as_str()))
            .collect();
        // Fields, in the new order, then the removed ones.
        for nf in &n.fields {
            let fs = self.ni.field(name, &nf.name);
            if let Some(of) =
                renamed_from(nf).filter(|_| !o.fields.iter().any(|f| f.name == nf.name))
            {
                let (mut ids, mut w) = self.field_wire(o, of, n, nf);
                let id = if defaulted(of) {
                    "field-renamed-alias-optional"
                } else {
                    "field-renamed-alias"
                };
                ids.insert(0, id);
                w = w.and(Wire::of_rule(id));
                let mut c = self.change(
                    "field-renamed",
                    format!(
                        "field `{}` of `{name}` renamed to `{}` (with `@alias(\"{}\")`)",
                        show_field(of),
                        show_field(nf),
                        of.name
                    ),
                    Some(self.oi.field(name, &of.name)),
                    Some(fs),
                );
                c.rules = ids;
                c.new_reads_old = w.nro;
                c.old_reads_new = w.onr;
                // SoA columns and safetensors names follow the field name.
                c.layout_unchanged = false;
                c.api_unchanged = false;
                out.push(c);
                continue;
            }
            match o.fields.iter().find(|f| f.name == nf.name) {
                None => {
                    let mut c = self.change(
                        "field-added",
                        format!("field `{}` added to `{name}`", show_field(nf)),
                        Some(os),
                        Some(fs),
                    );
                    c.layout_unchanged = false;
                    c.api_unchanged = false;
                    out.push(Self::with_rule(c, added_rule(nf)));
                }
                Some(of) if !self.field_same(of, nf) => {
                    let (ids, w) = self.field_wire(o, of, n, nf);
                    let (a, b) = (show_field(of), show_field(nf));
                    let message = if a == b {
                        format!("field `{}` of `{name}`: {}", nf.name, nested_what(&nf.ty))
                    } else {
                        format!("field `{a}` of `{name}` became `{b}`")
                    };
                    let mut c = self.change(
                        "field-changed",
                        message,
                        Some(self.oi.field(name, &of.name)),
                        Some(fs),
                    );
                    c.rules = ids;
                    c.new_reads_old = w.nro;
                    c.old_reads_new = w.onr;
                    c.layout_unchanged = leaves_under(o, &of.name) == leaves_under(n, &nf.name);
                    c.api_unchanged = api_same(of, nf);
                    out.push(c);
                }
                Some(_) => {}
            }
        }
        for of in &o.fields {
            if !n.fields.iter().any(|f| f.name == of.name) && !renamed.contains(&of.name.as_str()) {
                let mut c = self.change(
                    "field-removed",
                    format!(
                        "field `{}` removed from `{name}`{}",
                        show_field(of),
                        unreserved(&n.reserved, &of.name, name)
                    ),
                    Some(self.oi.field(name, &of.name)),
                    Some(ns),
                );
                c.layout_unchanged = false;
                c.api_unchanged = false;
                out.push(Self::with_rule(c, removed_rule(of)));
            }
        }
        let common = |a: &Record, b: &Record| -> Vec<String> {
            a.fields
                .iter()
                .filter(|f| b.fields.iter().any(|g| g.name == f.name))
                .map(|f| f.name.clone())
                .collect()
        };
        let (co, cn) = (common(o, n), common(n, o));
        if co != cn {
            let mut c = self.change(
                "fields-reordered",
                format!(
                    "fields of `{name}` reordered: {} → {}",
                    co.join(", "),
                    cn.join(", ")
                ),
                Some(os),
                Some(ns),
            );
            c.layout_unchanged = record_layout(o).0 == record_layout(n).0;
            // Python constructors take fields positionally; CUDA structs follow the order.
            c.api_unchanged = false;
            out.push(Self::with_rule(c, "fields-reordered"));
        }
        if o.bitpack.mode != n.bitpack.mode {
            let mut c = self.change(
                "bitpack-changed",
                format!(
                    "`@bitpack` of `{name}` is {:?} instead of {:?}",
                    n.bitpack.mode, o.bitpack.mode
                )
                .to_lowercase(),
                Some(os),
                Some(ns),
            );
            c.layout_unchanged = record_layout(o) == record_layout(n);
            c.api_unchanged = o.bitpack.aggregate.is_some() == n.bitpack.aggregate.is_some();
            out.push(Self::with_rule(c, "no-wire-effect"));
        }
        // Whatever else moved the layout (an enum stored wider, say) is still reported.
        if record_layout(o) != record_layout(n) && out.iter().all(|c| c.layout_unchanged) {
            let mut c = self.change(
                "layout-changed",
                format!("the layout of `{name}` changed (through a component or enum it uses)"),
                Some(os),
                Some(ns),
            );
            c.layout_unchanged = false;
            out.push(Self::with_rule(c, "no-wire-effect"));
        }
        out
    }
}

/// The note on a removal whose name the new version does not reserve (like buf's
/// FIELD_NO_DELETE_UNLESS_NAME_RESERVED): the name could come back meaning something else.
fn unreserved(reserved: &[String], removed: &str, owner: &str) -> String {
    if reserved.iter().any(|r| r == removed) {
        String::new()
    } else {
        format!(" without reserving it (add `@reserved(\"{removed}\")` to `{owner}`)")
    }
}

fn kind_word(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Sample => "sample",
        RecordKind::Component => "component",
    }
}

fn added_rule(f: &Field) -> &'static str {
    if defaulted(f) {
        "field-added-optional"
    } else {
        "field-added-required"
    }
}

fn removed_rule(f: &Field) -> &'static str {
    if defaulted(f) {
        "field-removed-optional"
    } else {
        "field-removed-required"
    }
}

/// What changed inside a field whose own spelling did not.
fn nested_what(ty: &Ty) -> String {
    match ty {
        Ty::Record { name, .. } => format!("component `{name}` changed"),
        Ty::Enum { name } => format!("enum `{name}` changed"),
        Ty::List { item } | Ty::Map { value: item } => nested_what(item),
        _ => "changed".into(),
    }
}

/// The generated code's view of a field: its name, type, optionality and packed storage.
fn api_same(a: &Field, b: &Field) -> bool {
    let removed_default = a.default.is_some() && b.default.is_none();
    a.name == b.name
        && a.ty == b.ty
        && a.optional == b.optional
        && a.packed_bytes.is_some() == b.packed_bytes.is_some()
        && !removed_default
}

/// A field as the schema spells it: `frame: u8[H, W, 3]? @bits(4) = 0`.
pub fn show_field(f: &Field) -> String {
    let mut s = format!("{}: {}", f.name, show_ty(&f.ty));
    if f.optional {
        s.push('?');
    }
    if let Some(b) = f.bits {
        s.push_str(&format!(" @bits({b})"));
    }
    if let Some(r) = f.range {
        s.push_str(&format!(" @range({}, {})", r.lo, r.hi));
    }
    if f.packed_bytes.is_some() {
        s.push_str(" (packed)");
    }
    for a in &f.aliases {
        s.push_str(&format!(" @alias({a:?})"));
    }
    if let Some(d) = &f.default {
        let lit = match d {
            ir::Literal::Bool(b) => b.to_string(),
            ir::Literal::Int(i) => i.to_string(),
            ir::Literal::UInt(u) => u.to_string(),
            ir::Literal::Float(x) => format!("{x:?}"),
            ir::Literal::Str(s) => format!("{s:?}"),
            ir::Literal::Variant(v) => v.clone(),
        };
        s.push_str(&format!(" = {lit}"));
    }
    s
}

pub fn show_ty(t: &Ty) -> String {
    let dims = |shape: &[ir::Dim]| -> String {
        if shape.is_empty() {
            String::new()
        } else {
            format!(
                "[{}]",
                shape
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    match t {
        Ty::Scalar { dtype } => dtype.name().to_string(),
        Ty::Str => "str".into(),
        Ty::Bytes => "bytes".into(),
        Ty::Array { dtype, shape } => format!("{}{}", dtype.name(), dims(shape)),
        Ty::Enum { name } => name.clone(),
        Ty::Record { name, shape } => format!("{name}{}", dims(shape)),
        Ty::List { item } => format!("list<{}>", show_ty(item)),
        Ty::Map { value } => format!("map<str, {}>", show_ty(value)),
    }
}

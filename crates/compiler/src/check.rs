//! Checking: resolves names, types, shapes and attributes of the loaded files, collects
//! *every* error (never stopping at the first), and builds the [`ir::Schema`].
//!
//! Validation lives here; layout arithmetic (flattening, bit offsets, sizes, fingerprints)
//! lives in [`crate::layout`], which this module calls once the fields are resolved.

use crate::ast::{self, DimKind, LitKind, TypeKind};
use crate::diag::{codes, suggest, Diagnostic, FileId, Span};
use crate::ir::{self, BitpackMode, Dim, Dtype, Literal, Ty};
use crate::layout::{self, FieldInput, RecordInput};
use crate::load::Loaded;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What checking produced: the IR when there were no errors, and every diagnostic
/// (errors and warnings) in source order.
pub struct Checked {
    pub schema: Option<ir::Schema>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn check(loaded: &Loaded) -> Checked {
    let mut checker = Checker {
        loaded,
        diags: loaded.diagnostics.clone(),
        decls: HashMap::new(),
        order: Vec::new(),
    };
    let schema = checker.run();
    let mut diagnostics = checker.diags;
    diagnostics.sort_by_key(|d| (d.primary.file, d.primary.start, d.code));
    diagnostics.dedup();
    let failed = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        schema: if failed { None } else { schema },
        diagnostics,
    }
}

/// A declared type name and where it came from.
#[derive(Clone, Copy)]
enum Decl<'a> {
    Enum(&'a ast::EnumItem, FileId),
    Record(&'a ast::RecordItem, FileId),
}

impl Decl<'_> {
    fn span(&self) -> Span {
        match self {
            Decl::Enum(e, _) => e.name.span,
            Decl::Record(r, _) => r.name.span,
        }
    }

    fn file(&self) -> FileId {
        match self {
            Decl::Enum(_, f) | Decl::Record(_, f) => *f,
        }
    }
}

struct Checker<'a> {
    loaded: &'a Loaded,
    diags: Vec<Diagnostic>,
    decls: HashMap<String, Decl<'a>>,
    /// Declaration order: imported files first, the root file last.
    order: Vec<String>,
}

const BUILTIN_TYPES: [&str; 2] = ["str", "bytes"];

/// Attributes the language knows, and what they attach to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AttrTarget {
    Field,
    Record,
}

const KNOWN_ATTRS: [(&str, AttrTarget); 6] = [
    ("bits", AttrTarget::Field),
    ("packed", AttrTarget::Field),
    ("range", AttrTarget::Field),
    ("alias", AttrTarget::Field),
    ("bitpack", AttrTarget::Record),
    // Also on enums (handled in `check_enum`).
    ("reserved", AttrTarget::Record),
];

impl<'a> Checker<'a> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The source text of a span: messages show numbers as the user wrote them (`1e3`,
    /// `1e-60`), not as they print after parsing (`1000.0`, sixty digits).
    fn written(&self, span: Span) -> &'a str {
        self.loaded
            .sources
            .text(span.file)
            .get(span.start..span.end)
            .unwrap_or("")
    }

    fn describe_lit(&self, lit: &ast::Lit) -> String {
        match &lit.kind {
            LitKind::Bool(b) => format!("`{b}`"),
            LitKind::Int(n) => match self.written(lit.span) {
                "" => format!("`{n}`"),
                w => format!("`{w}`"),
            },
            LitKind::Float(x) => match self.written(lit.span) {
                "" => format!("`{x:?}`"),
                w => format!("`{w}`"),
            },
            LitKind::Str(s) => format!("{s:?}"),
            LitKind::Ident(s) => format!("`{s}`"),
        }
    }

    fn run(&mut self) -> Option<ir::Schema> {
        let loaded = self.loaded;
        let root = loaded.root;
        // Imported files first so the IR lists dependencies before their users.
        let mut file_order: Vec<FileId> = (0..loaded.files.len()).filter(|f| *f != root).collect();
        file_order.push(root);
        for &fid in &file_order {
            if let Some(file) = loaded.file(fid) {
                for item in &file.items {
                    self.declare(item, fid);
                }
            }
        }

        self.check_type_names();
        self.check_module_name();

        let mut enums = Vec::new();
        let mut records: Vec<RecordInput> = Vec::new();
        let mut used_names: BTreeSet<String> = BTreeSet::new();
        for name in self.order.clone() {
            match self.decls[&name] {
                Decl::Enum(e, fid) => {
                    let mut def = self.check_enum(e, fid != root);
                    def.origin = (fid != root).then(|| self.file_module(fid));
                    enums.push(def);
                }
                Decl::Record(r, fid) => {
                    if let Some(mut rec) =
                        self.check_record(r, fid != root, fid == root, &mut used_names)
                    {
                        rec.origin = (fid != root).then(|| self.file_module(fid));
                        records.push(rec);
                    }
                }
            }
        }
        self.warn_unused_imports(&used_names);

        let records = self.order_records(records)?;
        let (ir_records, layout_diags) = layout::build(&records, &enums);
        self.diags.extend(layout_diags);

        let root_file = loaded.file(root)?;
        let package = root_file.package.as_ref().map(|p| p.value.clone());
        let module = module_name(package.as_deref(), loaded.sources.name(root));
        Some(ir::Schema {
            source: loaded.sources.name(root).to_string(),
            package,
            docs: root_file.docs.clone(),
            module,
            enums,
            records: ir_records,
        })
    }

    fn declare(&mut self, item: &'a ast::Item, fid: FileId) {
        let name = item.name();
        let decl = match item {
            ast::Item::Enum(e) => Decl::Enum(e, fid),
            ast::Item::Record(r) => Decl::Record(r, fid),
        };
        if Dtype::from_name(&name.value).is_some() || BUILTIN_TYPES.contains(&name.value.as_str()) {
            self.err(
                Diagnostic::error(
                    codes::DUPLICATE_TYPE,
                    format!("`{}` is a built-in type", name.value),
                    name.span,
                )
                .label("this name is taken by the language")
                .help("choose another name"),
            );
            return;
        }
        if let Some(first) = self.decls.get(&name.value) {
            let first_span = first.span();
            self.err(
                Diagnostic::error(
                    codes::DUPLICATE_TYPE,
                    format!("the type `{}` is defined more than once", name.value),
                    name.span,
                )
                .label("redefined here")
                .secondary(first_span, "first defined here")
                .help("rename one of them"),
            );
            return;
        }
        self.decls.insert(name.value.clone(), decl);
        self.order.push(name.value.clone());
    }

    /// E0033 for type names that collide with each other or with the names generated for
    /// records (`<Name>Ref`, `<Name>Batch`, ...) once case and underscores are ignored
    /// (the emitters change both); E0034 for names the generated code itself uses.
    fn check_type_names(&mut self) {
        let mut claimed: HashMap<String, (String, Span)> = HashMap::new();
        for name in self.order.clone() {
            let decl = self.decls[&name];
            let span = decl.span();
            if let Some(d) = reserved_type(&name, span) {
                self.err(d);
                continue;
            }
            let mut generated = vec![name.clone()];
            if let Decl::Record(..) = decl {
                generated.extend(GENERATED_SUFFIXES.iter().map(|s| format!("{name}{s}")));
            }
            for g in generated {
                match claimed.get(&fold(&g)) {
                    Some((other, first)) => {
                        let what = if g == name {
                            format!("the type `{name}`")
                        } else {
                            format!("`{g}` (generated for `{name}`)")
                        };
                        self.err(
                            Diagnostic::error(
                                codes::NAME_COLLISION,
                                format!("{what} collides with {other} in generated code"),
                                span,
                            )
                            .label("names differing only in case or underscores collide")
                            .secondary(*first, "the other name comes from here")
                            .help(format!("rename `{name}`")),
                        );
                        break;
                    }
                    None => {
                        let what = if g == name {
                            format!("the type `{name}`")
                        } else {
                            format!("`{g}` (generated for `{name}`)")
                        };
                        claimed.insert(fold(&g), (what, span));
                    }
                }
            }
        }
    }

    /// The module name the schema file `fid` generates when compiled on its own (its
    /// package, else its file stem): where its records and enums are defined.
    fn file_module(&self, fid: FileId) -> String {
        let package = self
            .loaded
            .file(fid)
            .and_then(|f| f.package.as_ref())
            .map(|p| p.value.as_str());
        module_name(package, self.loaded.sources.name(fid))
    }

    /// E0034 when the generated module's name (package or file stem) is a keyword of a
    /// target language: `import class` is not Python.
    fn check_module_name(&mut self) {
        let loaded = self.loaded;
        let Some(root) = loaded.file(loaded.root) else {
            return;
        };
        let package = root.package.as_ref();
        // Only the module name reaches generated code (`my.type` gives `my_type`, fine).
        let bad = module_name(
            package.map(|p| p.value.as_str()),
            loaded.sources.name(loaded.root),
        );
        if !is_keyword(&bad) {
            return;
        }
        let (span, what, help) = match package {
            Some(p) => (
                p.span,
                format!("the package `{}`", p.value),
                "rename the package, e.g. add a suffix (`class_`)".to_string(),
            ),
            None => (
                Span::new(loaded.root, 0, 0),
                format!("the file name `{}`", loaded.sources.name(loaded.root)),
                "rename the file, or give it a `package` that is not a keyword".to_string(),
            ),
        };
        self.err(
            Diagnostic::error(
                codes::RESERVED_NAME,
                format!("{what} makes the generated module `{bad}`, a keyword"),
                span,
            )
            .label("Python and Rust cannot import a module named after a keyword")
            .help(help),
        );
    }

    fn check_enum(&mut self, e: &ast::EnumItem, imported: bool) -> ir::EnumDef {
        let mut reserved: Vec<(String, Span)> = Vec::new();
        let mut seen_attrs: HashMap<&str, Span> = HashMap::new();
        for attr in &e.attrs {
            if attr.name.value == "reserved" {
                if !self.duplicate_attr(&mut seen_attrs, attr) {
                    reserved.extend(self.reserved_names(attr).unwrap_or_default());
                }
                continue;
            }
            self.misplaced_or_unknown(attr, "an enum", None);
        }
        for v in &e.variants {
            if let Some((_, span)) = reserved.iter().find(|(n, _)| *n == v.name.value) {
                self.err(reserved_by_schema(
                    "variant",
                    &v.name.value,
                    v.name.span,
                    *span,
                ));
            }
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut folded: HashMap<String, (String, Span)> = HashMap::new();
        let mut variants = Vec::new();
        for v in &e.variants {
            if let Some(first) = seen.get(v.name.value.as_str()) {
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE_VARIANT,
                        format!(
                            "the variant `{}` appears more than once in enum `{}`",
                            v.name.value, e.name.value
                        ),
                        v.name.span,
                    )
                    .label("duplicate variant")
                    .secondary(*first, "first listed here")
                    .help("remove or rename the duplicate"),
                );
                continue;
            }
            seen.insert(&v.name.value, v.name.span);
            if let Some((other, span)) = folded.get(&fold(&v.name.value)) {
                self.err(collision(
                    "variants",
                    other,
                    &v.name.value,
                    v.name.span,
                    *span,
                ));
                continue;
            }
            folded.insert(fold(&v.name.value), (v.name.value.clone(), v.name.span));
            variants.push(ir::Variant {
                name: v.name.value.clone(),
                docs: v.docs.clone(),
                index: variants.len() as u32,
            });
        }
        ir::EnumDef {
            name: e.name.value.clone(),
            docs: e.docs.clone(),
            repr: Dtype::smallest_unsigned(variants.len().saturating_sub(1) as u64),
            variants,
            imported,
            reserved: reserved.into_iter().map(|(n, _)| n).collect(),
            origin: None,
        }
    }

    /// The names of `@reserved("a", "b")`: one or more strings.
    fn reserved_names(&mut self, attr: &ast::Attr) -> Option<Vec<(String, Span)>> {
        let names: Option<Vec<(String, Span)>> = attr
            .args
            .iter()
            .map(|a| match &a.kind {
                LitKind::Str(s) => Some((s.clone(), a.span)),
                _ => None,
            })
            .collect();
        match names {
            Some(n) if !n.is_empty() => Some(n),
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::ATTRIBUTE_ARGUMENTS,
                        "`@reserved` takes one or more names as strings",
                        attr.span,
                    )
                    .label("expected e.g. `@reserved(\"old_name\")`")
                    .help("list the removed names, each in quotes"),
                );
                None
            }
        }
    }

    /// Reports an attribute that is unknown, or known but placed on the wrong kind of item.
    /// Returns true when the attribute is known and allowed on `target`.
    fn misplaced_or_unknown(
        &mut self,
        attr: &ast::Attr,
        what: &str,
        target: Option<AttrTarget>,
    ) -> bool {
        let name = attr.name.value.as_str();
        match KNOWN_ATTRS.iter().find(|(n, _)| *n == name) {
            None => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_ATTRIBUTE,
                    format!("unknown attribute `@{name}`"),
                    attr.name.span,
                )
                .label("not an attribute schemac knows");
                d = match suggest(name, KNOWN_ATTRS.iter().map(|(n, _)| *n)) {
                    Some(s) => d.help(format!("did you mean `@{s}`?")),
                    None => d.help(
                        "known attributes: @bits, @packed, @range, @alias, @bitpack, @reserved",
                    ),
                };
                self.err(d);
                false
            }
            Some((_, t)) if Some(*t) == target => true,
            Some((_, t)) => {
                let goes_on = match t {
                    AttrTarget::Field => "fields",
                    AttrTarget::Record => "samples and components",
                };
                self.err(
                    Diagnostic::error(
                        codes::MISPLACED_ATTRIBUTE,
                        format!("`@{name}` cannot be used on {what}"),
                        attr.span,
                    )
                    .label(format!("`@{name}` applies to {goes_on}"))
                    .help(format!("move it onto one of the {goes_on}, or remove it")),
                );
                false
            }
        }
    }

    fn check_record(
        &mut self,
        r: &'a ast::RecordItem,
        imported: bool,
        in_root: bool,
        used: &mut BTreeSet<String>,
    ) -> Option<RecordInput> {
        let mut mode = BitpackMode::Auto;
        let mut mode_span = None;
        let mut reserved: Vec<(String, Span)> = Vec::new();
        let mut seen_attrs: HashMap<&str, Span> = HashMap::new();
        let what = match r.kind.value {
            ast::RecordKind::Sample => "a sample",
            ast::RecordKind::Component => "a component",
        };
        for attr in &r.attrs {
            if !self.misplaced_or_unknown(attr, what, Some(AttrTarget::Record)) {
                continue;
            }
            if self.duplicate_attr(&mut seen_attrs, attr) {
                continue;
            }
            if attr.name.value == "reserved" {
                reserved.extend(self.reserved_names(attr).unwrap_or_default());
                continue;
            }
            // Only @bitpack reaches here.
            let parsed = match attr.args.as_slice() {
                [ast::Lit {
                    kind: LitKind::Ident(m),
                    ..
                }] => match m.as_str() {
                    "auto" => Some(BitpackMode::Auto),
                    "aggregate" => Some(BitpackMode::Aggregate),
                    "field" => Some(BitpackMode::Field),
                    "off" => Some(BitpackMode::Off),
                    _ => None,
                },
                _ => None,
            };
            match parsed {
                Some(m) => {
                    mode = m;
                    mode_span = Some(attr.span);
                }
                None => self.err(
                    Diagnostic::error(
                        codes::ATTRIBUTE_ARGUMENTS,
                        "`@bitpack` takes one mode",
                        attr.span,
                    )
                    .label("expected `auto`, `aggregate`, `field` or `off`")
                    .help("write e.g. `@bitpack(aggregate)`"),
                ),
            }
        }

        let mut fields = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut folded: HashMap<String, (String, Span)> = HashMap::new();
        let mut ok = true;
        for f in &r.fields {
            if let Some(first) = seen.get(f.name.value.as_str()) {
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE_FIELD,
                        format!(
                            "the field `{}` is declared more than once in `{}`",
                            f.name.value, r.name.value
                        ),
                        f.name.span,
                    )
                    .label("declared again here")
                    .secondary(*first, "first declared here")
                    .help("rename or remove one of them"),
                );
                ok = false;
                continue;
            }
            seen.insert(&f.name.value, f.name.span);
            if let Some((other, span)) = folded.get(&fold(&f.name.value)) {
                self.err(collision(
                    "fields",
                    other,
                    &f.name.value,
                    f.name.span,
                    *span,
                ));
                ok = false;
                continue;
            }
            folded.insert(fold(&f.name.value), (f.name.value.clone(), f.name.span));
            if let Some(d) = reserved_field(f) {
                self.err(d);
                ok = false;
                continue;
            }
            match self.check_field(f, mode, in_root, used) {
                Some(field) => fields.push(field),
                None => ok = false,
            }
        }
        // Names a field goes by (its own and its aliases) are unique and not reserved.
        let mut names: HashMap<String, Span> = r
            .fields
            .iter()
            .map(|f| (f.name.value.clone(), f.name.span))
            .collect();
        for f in &r.fields {
            if let Some((_, span)) = reserved.iter().find(|(n, _)| *n == f.name.value) {
                self.err(reserved_by_schema(
                    "field",
                    &f.name.value,
                    f.name.span,
                    *span,
                ));
                ok = false;
            }
        }
        for f in &fields {
            for (alias, aspan) in &f.alias_spans {
                if let Some(first) = names.get(alias) {
                    self.err(
                        Diagnostic::error(
                            codes::DUPLICATE_FIELD,
                            format!(
                                "the alias `{alias}` of `{}` is already a name in `{}`",
                                f.field.name, r.name.value
                            ),
                            *aspan,
                        )
                        .label("alias given here")
                        .secondary(*first, "already a field or alias name")
                        .help("an alias is the key the field had before a rename"),
                    );
                    ok = false;
                } else if let Some((_, span)) = reserved.iter().find(|(n, _)| n == alias) {
                    self.err(reserved_by_schema("alias", alias, *aspan, *span));
                    ok = false;
                } else {
                    names.insert(alias.clone(), *aspan);
                }
            }
        }
        ok.then(|| RecordInput {
            name: r.name.value.clone(),
            name_span: r.name.span,
            kind: match r.kind.value {
                ast::RecordKind::Sample => ir::RecordKind::Sample,
                ast::RecordKind::Component => ir::RecordKind::Component,
            },
            docs: r.docs.clone(),
            imported,
            origin: None,
            mode,
            mode_span,
            fields,
            reserved: reserved.into_iter().map(|(n, _)| n).collect(),
        })
    }

    fn duplicate_attr<'b>(
        &mut self,
        seen: &mut HashMap<&'b str, Span>,
        attr: &'b ast::Attr,
    ) -> bool {
        if let Some(first) = seen.get(attr.name.value.as_str()) {
            self.err(
                Diagnostic::error(
                    codes::DUPLICATE_ATTRIBUTE,
                    format!("`@{}` is given more than once", attr.name.value),
                    attr.span,
                )
                .label("given again here")
                .secondary(*first, "first given here")
                .help("keep one of them"),
            );
            return true;
        }
        seen.insert(&attr.name.value, attr.span);
        false
    }

    fn check_field(
        &mut self,
        f: &ast::FieldItem,
        mode: BitpackMode,
        in_root: bool,
        used: &mut BTreeSet<String>,
    ) -> Option<FieldInput> {
        let mut dims_seen = Vec::new();
        let ty = self.resolve_type(&f.ty, &mut dims_seen, in_root.then_some(used), false)?;

        let mut bits = None;
        let mut bits_span = None;
        let mut packed = None;
        let mut range = None;
        let mut range_span = None;
        let mut aliases: Vec<(String, Span)> = Vec::new();
        let mut ok = true;
        let mut seen_attrs: HashMap<&str, Span> = HashMap::new();
        let elem = element_dtype(&ty);
        for attr in &f.attrs {
            if !self.misplaced_or_unknown(attr, "a field", Some(AttrTarget::Field)) {
                ok = false;
                continue;
            }
            if self.duplicate_attr(&mut seen_attrs, attr) {
                ok = false;
                continue;
            }
            match attr.name.value.as_str() {
                "bits" => match self.check_bits(attr, &ty, elem) {
                    Some(n) => {
                        bits = Some(n);
                        bits_span = Some(attr.span);
                    }
                    None => ok = false,
                },
                "packed" => {
                    if attr.parens || !attr.args.is_empty() {
                        self.err(
                            Diagnostic::error(
                                codes::ATTRIBUTE_ARGUMENTS,
                                "`@packed` takes no arguments",
                                attr.span,
                            )
                            .label("remove the parentheses")
                            .help("write `@packed`"),
                        );
                        ok = false;
                    }
                    packed = Some(attr.span);
                }
                "range" => match self.check_range(attr, &ty, elem) {
                    Some(r) => {
                        range = Some(r);
                        range_span = Some(attr.span);
                    }
                    None => ok = false,
                },
                "alias" => match attr.args.as_slice() {
                    [ast::Lit {
                        kind: LitKind::Str(s),
                        span,
                    }] if is_identifier(s) => aliases.push((s.clone(), *span)),
                    _ => {
                        self.err(
                            Diagnostic::error(
                                codes::ATTRIBUTE_ARGUMENTS,
                                "`@alias` takes the field's old name, as a string",
                                attr.span,
                            )
                            .label("expected e.g. `@alias(\"old_name\")`")
                            .help("one name, spelled like a field name"),
                        );
                        ok = false;
                    }
                },
                _ => unreachable!("only known field attributes reach here"),
            }
        }
        let fixed = fixed_elements(&ty);
        if let (Some(n), Some(d)) = (fixed, elem) {
            if n.checked_mul(d.size()).is_none() {
                self.err(
                    Diagnostic::error(
                        codes::SHAPE_OVERFLOW,
                        format!(
                            "`{}` is {n} elements of {} bytes: more bytes than fit in a u64",
                            f.name.value,
                            d.size()
                        ),
                        f.ty.span,
                    )
                    .label("byte count overflows")
                    .help("use smaller dimensions"),
                );
                return None;
            }
        }
        let mut packed_field = false;
        if let Some(pspan) = packed {
            if bits.is_none() && !seen_attrs.contains_key("bits") {
                self.err(
                    Diagnostic::error(
                        codes::PACKED_WITHOUT_BITS,
                        format!("`@packed` on `{}` needs `@bits`", f.name.value),
                        pspan,
                    )
                    .label("nothing says how many bits each value takes")
                    .help("add `@bits(n)` with the number of bits per value"),
                );
                ok = false;
            } else if fixed.is_none() {
                self.err(
                    Diagnostic::error(
                        codes::PACKED_NOT_FIXED,
                        format!("`@packed` on `{}` needs a fixed shape", f.name.value),
                        pspan,
                    )
                    .label("packed storage is sized at compile time")
                    .secondary(f.ty.span, "this shape is not fixed")
                    .help("give every dimension a size, or drop `@packed`"),
                );
                ok = false;
            } else {
                packed_field = true;
            }
        } else if mode == BitpackMode::Field && bits.is_some() && fixed.is_some() {
            packed_field = true;
        }

        let mut default = None;
        for (i, lit) in f.defaults.iter().enumerate() {
            if i > 0 {
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE_ATTRIBUTE,
                        "the default is given twice",
                        lit.span,
                    )
                    .label("second default")
                    .secondary(f.defaults[0].span, "first default")
                    .help("keep one `= value`"),
                );
                ok = false;
                continue;
            }
            match self.check_default(lit, &ty, range, range_span, bits) {
                Some(l) => default = Some(l),
                None => ok = false,
            }
        }
        let packed_bytes = match (packed_field, bits, fixed) {
            (true, Some(b), Some(n)) => match n.checked_mul(u64::from(b)) {
                Some(total) => Some(total.div_ceil(8)),
                None => {
                    self.err(shape_overflow(bits_span.unwrap_or(f.span)));
                    return None;
                }
            },
            _ => None,
        };
        ok.then(|| FieldInput {
            field: ir::Field {
                name: f.name.value.clone(),
                docs: f.docs.clone(),
                ty,
                optional: f.optional.is_some(),
                default,
                range,
                bits,
                packed_bytes,
                aliases: aliases.iter().map(|(a, _)| a.clone()).collect(),
            },
            alias_spans: aliases,
            span: f.span,
            name_span: f.name.span,
            dims: dims_seen,
        })
    }

    /// Resolves a type expression; records named dims (with their spans) in `dims`.
    fn resolve_type(
        &mut self,
        te: &ast::TypeExpr,
        dims: &mut Vec<(String, Option<u64>, Span)>,
        mut used: Option<&mut BTreeSet<String>>,
        in_container: bool,
    ) -> Option<Ty> {
        match &te.kind {
            TypeKind::List(inner) => {
                self.no_dims(te, "list")?;
                let item = self.resolve_type(inner, dims, used, true)?;
                Some(Ty::List {
                    item: Box::new(item),
                })
            }
            TypeKind::Map(k, v) => {
                self.no_dims(te, "map")?;
                let key_ok =
                    matches!(&k.kind, TypeKind::Named(n) if n.value == "str") && k.dims.is_none();
                let value = self.resolve_type(v, dims, used, true);
                if !key_ok {
                    self.err(
                        Diagnostic::error(codes::MAP_KEY, "map keys must be `str`", k.span)
                            .label("this key type is not `str`")
                            .help("write `map<str, T>`; msgpack and JSON objects are keyed by strings"),
                    );
                    return None;
                }
                Some(Ty::Map {
                    value: Box::new(value?),
                })
            }
            TypeKind::Named(id) => {
                let name = id.value.as_str();
                let shape = match &te.dims {
                    Some(d) => Some(self.resolve_dims(d, te.span, dims, in_container)?),
                    None => None,
                };
                if let Some(dtype) = Dtype::from_name(name) {
                    return Some(match shape {
                        Some(shape) => Ty::Array { dtype, shape },
                        None => Ty::Scalar { dtype },
                    });
                }
                if name == "str" || name == "bytes" {
                    if shape.is_some() {
                        self.bad_dims(te, name);
                        return None;
                    }
                    return Some(if name == "str" { Ty::Str } else { Ty::Bytes });
                }
                match self.decls.get(name).copied() {
                    Some(decl) => {
                        if let Some(used) = &mut used {
                            used.insert(name.to_string());
                        }
                        match decl {
                            Decl::Enum(..) => {
                                if shape.is_some() {
                                    self.bad_dims(te, name);
                                    return None;
                                }
                                Some(Ty::Enum {
                                    name: name.to_string(),
                                })
                            }
                            Decl::Record(r, _) if r.kind.value == ast::RecordKind::Sample => {
                                self.err(
                                    Diagnostic::error(
                                        codes::SAMPLE_AS_FIELD,
                                        format!("`{name}` is a sample and cannot be nested"),
                                        id.span,
                                    )
                                    .label("used as a field type here")
                                    .secondary(r.kind.span, "declared as a sample here")
                                    .help(format!("declare `{name}` as a `component` to nest it")),
                                );
                                None
                            }
                            Decl::Record(..) => {
                                let shape = shape.unwrap_or_default();
                                // Component arrays are flat C-order sequences; only the
                                // outermost dim may vary, so the shape is recoverable.
                                if shape.iter().skip(1).any(|d| d.fixed().is_none()) {
                                    self.err(
                                        Diagnostic::error(
                                            codes::BAD_TYPE_USE,
                                            format!(
                                                "only the first dim of a `{name}` array may vary"
                                            ),
                                            te.span,
                                        )
                                        .label("inner dims of a component array must be fixed")
                                        .help(format!(
                                            "write e.g. `{name}[_, 3]`, or use `list<list<{name}>>`"
                                        )),
                                    );
                                    return None;
                                }
                                Some(Ty::Record {
                                    name: name.to_string(),
                                    shape,
                                })
                            }
                        }
                    }
                    None => {
                        let candidates: Vec<&str> = Dtype::ALL
                            .iter()
                            .map(|d| d.name())
                            .chain(BUILTIN_TYPES)
                            .chain(self.decls.keys().map(String::as_str))
                            .collect();
                        let mut d = Diagnostic::error(
                            codes::UNKNOWN_TYPE,
                            format!("unknown type `{name}`"),
                            id.span,
                        )
                        .label("not a dtype, `str`, `bytes`, or a declared type");
                        d = match suggest(name, candidates.iter().copied())
                            .or_else(|| dtype_alias(name))
                        {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None => d.help(
                                "declare it with `component`, `enum` or `import` the file that does",
                            ),
                        };
                        self.err(d);
                        None
                    }
                }
            }
        }
    }

    fn no_dims(&mut self, te: &ast::TypeExpr, what: &str) -> Option<()> {
        if te.dims.is_some() {
            self.bad_dims(te, what);
            return None;
        }
        Some(())
    }

    fn bad_dims(&mut self, te: &ast::TypeExpr, what: &str) {
        self.err(
            Diagnostic::error(
                codes::BAD_TYPE_USE,
                format!("`{what}` cannot have dimensions"),
                te.span,
            )
            .label("arrays are made of numeric dtypes or components")
            .help(format!("use `list<{what}>` for a sequence")),
        );
    }

    fn resolve_dims(
        &mut self,
        exprs: &[ast::DimExpr],
        type_span: Span,
        named: &mut Vec<(String, Option<u64>, Span)>,
        in_container: bool,
    ) -> Option<Vec<Dim>> {
        let mut out = Vec::new();
        let mut ok = true;
        for d in exprs {
            let dim = match &d.kind {
                DimKind::Any => Some(Dim::Dynamic),
                DimKind::Fixed(n) => self.positive_dim(*n, d.span).map(Dim::Fixed),
                DimKind::Named(name, size) => {
                    if in_container {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_TYPE_USE,
                                format!("named dim `{name}` inside a list or map"),
                                d.span,
                            )
                            .label("each element has its own size")
                            .help("use `_` for a dynamic dim inside `list<...>` or `map<...>`"),
                        );
                        ok = false;
                        continue;
                    }
                    match size {
                        Some(s) => {
                            let v = self.positive_dim(s.value, s.span);
                            named.push((name.clone(), v, d.span));
                            v.map(Dim::Fixed)
                        }
                        None => {
                            named.push((name.clone(), None, d.span));
                            Some(Dim::Named(name.clone()))
                        }
                    }
                }
            };
            match dim {
                Some(dim) => out.push(dim),
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let mut count: u64 = 1;
        for d in &out {
            if let Dim::Fixed(n) = d {
                match count.checked_mul(*n) {
                    Some(c) => count = c,
                    None => {
                        self.err(shape_overflow(type_span));
                        return None;
                    }
                }
            }
        }
        Some(out)
    }

    fn positive_dim(&mut self, n: i128, span: Span) -> Option<u64> {
        if n <= 0 {
            self.err(
                Diagnostic::error(
                    codes::BAD_DIMENSION,
                    format!("dimension {n} is not positive"),
                    span,
                )
                .label("dimensions must be at least 1")
                .help("use `_` for a size known only at run time, or `?` for an optional field"),
            );
            return None;
        }
        match u64::try_from(n) {
            Ok(v) => Some(v),
            Err(_) => {
                self.err(shape_overflow(span));
                None
            }
        }
    }

    fn check_bits(&mut self, attr: &ast::Attr, ty: &Ty, elem: Option<Dtype>) -> Option<u32> {
        let n = match attr.args.as_slice() {
            [ast::Lit {
                kind: LitKind::Int(n),
                ..
            }] => *n,
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::ATTRIBUTE_ARGUMENTS,
                        "`@bits` takes one integer",
                        attr.span,
                    )
                    .label("expected `@bits(n)`")
                    .help("write e.g. `@bits(3)` for values in 0..8"),
                );
                return None;
            }
        };
        let dtype = match elem {
            Some(d) if d.max_bits().is_some() => d,
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::BITS_ON_NON_INTEGER,
                        format!("`@bits` on a field of type `{}`", ty_name(ty)),
                        attr.span,
                    )
                    .label("only integer and bool fields can be bit-packed")
                    .help("remove `@bits`, or use an integer dtype"),
                );
                return None;
            }
        };
        if n <= 0 {
            let message = if n == 0 {
                "`@bits(0)` stores nothing".to_string()
            } else {
                format!("`@bits({})` is negative", self.written(attr.args[0].span))
            };
            self.err(
                Diagnostic::error(codes::BITS_ZERO, message, attr.span)
                    .label("a value needs at least one bit")
                    .help("use `@bits(1)` or more"),
            );
            return None;
        }
        if !(0..=32).contains(&n) {
            self.err(
                Diagnostic::error(
                    codes::BITS_ABOVE_32,
                    format!(
                        "`@bits({})` is above the maximum of 32",
                        self.written(attr.args[0].span)
                    ),
                    attr.span,
                )
                .label("packed values are at most 32 bits")
                .help("drop `@bits` to store the value unpacked"),
            );
            return None;
        }
        let max = dtype.max_bits().unwrap_or(32);
        if n as u32 > max {
            self.err(
                Diagnostic::error(
                    codes::BITS_ABOVE_WIDTH,
                    format!("`@bits({n})` is wider than `{}`", dtype.name()),
                    attr.span,
                )
                .label(format!("`{}` has only {max} bits", dtype.name()))
                .help(format!("use at most `@bits({max})`, or a wider dtype")),
            );
            return None;
        }
        Some(n as u32)
    }

    fn check_range(&mut self, attr: &ast::Attr, ty: &Ty, elem: Option<Dtype>) -> Option<ir::Range> {
        let numeric = matches!(elem, Some(d) if d.is_int() || d.is_float());
        if !numeric {
            self.err(
                Diagnostic::error(
                    codes::RANGE_ON_NON_NUMERIC,
                    format!("`@range` on a field of type `{}`", ty_name(ty)),
                    attr.span,
                )
                .label("only numeric fields have a range")
                .help("remove `@range`"),
            );
            return None;
        }
        let nums: Vec<f64> = attr
            .args
            .iter()
            .filter_map(|a| match a.kind {
                LitKind::Int(n) => Some(n as f64),
                LitKind::Float(x) => Some(x),
                _ => None,
            })
            .collect();
        let [lo, hi] = nums.as_slice() else {
            self.err(
                Diagnostic::error(
                    codes::ATTRIBUTE_ARGUMENTS,
                    "`@range` takes two numbers",
                    attr.span,
                )
                .label("expected `@range(lo, hi)`")
                .help("write e.g. `@range(0, 1)`"),
            );
            return None;
        };
        if lo > hi {
            let (lo_text, hi_text) = (
                self.written(attr.args[0].span),
                self.written(attr.args[1].span),
            );
            self.err(
                Diagnostic::error(
                    codes::RANGE_EMPTY,
                    format!("`@range({lo_text}, {hi_text})` is empty: lo is greater than hi"),
                    attr.span,
                )
                .label("no value can satisfy this")
                .help(format!("did you mean `@range({hi_text}, {lo_text})`?")),
            );
            return None;
        }
        Some(ir::Range { lo: *lo, hi: *hi })
    }

    fn check_default(
        &mut self,
        lit: &ast::Lit,
        ty: &Ty,
        range: Option<ir::Range>,
        range_span: Option<Span>,
        bits: Option<u32>,
    ) -> Option<Literal> {
        let wrong = |this: &mut Self, expected: String| {
            this.err(
                Diagnostic::error(
                    codes::DEFAULT_TYPE,
                    format!(
                        "default {} does not fit type `{}`",
                        this.describe_lit(lit),
                        ty_name(ty)
                    ),
                    lit.span,
                )
                .label(format!("expected {expected}")),
            );
            None
        };
        let value = match ty {
            Ty::Scalar { dtype } | Ty::Array { dtype, .. } => {
                let dtype = *dtype;
                match (&lit.kind, dtype) {
                    (LitKind::Bool(b), Dtype::Bool) => Literal::Bool(*b),
                    (_, Dtype::Bool) => return wrong(self, "`true` or `false`".into()),
                    (LitKind::Int(n), d) if d.is_int() => {
                        let (lo, hi) = int_bounds(d);
                        if *n < lo || *n > hi {
                            return wrong(self, format!("an integer in {lo}..={hi}"));
                        }
                        int_literal(*n)
                    }
                    (LitKind::Int(n), d) => {
                        let x = *n as f64;
                        if overflows(x, d) {
                            return wrong(self, finite_in(d));
                        }
                        Literal::Float(x)
                    }
                    (LitKind::Float(x), d) if d.is_float() => {
                        if overflows(*x, d) {
                            return wrong(self, finite_in(d));
                        }
                        Literal::Float(*x)
                    }
                    (_, d) if d.is_int() => return wrong(self, "an integer".into()),
                    _ => return wrong(self, "a number".into()),
                }
            }
            Ty::Str => match &lit.kind {
                LitKind::Str(s) => Literal::Str(s.clone()),
                _ => return wrong(self, "a string".into()),
            },
            Ty::Enum { name } => {
                let Some(Decl::Enum(e, _)) = self.decls.get(name).copied() else {
                    return None;
                };
                match &lit.kind {
                    LitKind::Ident(v) if e.variants.iter().any(|x| &x.name.value == v) => {
                        Literal::Variant(v.clone())
                    }
                    LitKind::Ident(v) => {
                        let mut d = Diagnostic::error(
                            codes::DEFAULT_TYPE,
                            format!("`{v}` is not a variant of `{name}`"),
                            lit.span,
                        )
                        .label(format!("expected one of `{name}`'s variants"))
                        .secondary(e.name.span, format!("`{name}` is declared here"));
                        if let Some(s) =
                            suggest(v, e.variants.iter().map(|x| x.name.value.as_str()))
                        {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        self.err(d);
                        return None;
                    }
                    _ => return wrong(self, format!("a variant of `{name}`")),
                }
            }
            Ty::Bytes | Ty::Record { .. } | Ty::List { .. } | Ty::Map { .. } => {
                self.err(
                    Diagnostic::error(
                        codes::DEFAULT_TYPE,
                        format!("a field of type `{}` cannot have a default", ty_name(ty)),
                        lit.span,
                    )
                    .label("defaults are for numbers, bools, arrays, `str` and enums")
                    .help("remove the default; the type's own default (empty) applies"),
                );
                return None;
            }
        };
        let numeric = match value {
            Literal::Int(n) => Some(n as f64),
            Literal::UInt(n) => Some(n as f64),
            Literal::Float(x) => Some(x),
            _ => None,
        };
        if let (Some(x), Some(r)) = (numeric, range) {
            if x < r.lo || x > r.hi {
                let mut d = Diagnostic::error(
                    codes::DEFAULT_OUT_OF_RANGE,
                    format!(
                        "default {} is outside `{}`",
                        self.describe_lit(lit),
                        range_span.map_or_else(
                            || format!("@range({}, {})", r.lo, r.hi),
                            |rs| self.written(rs).to_string()
                        )
                    ),
                    lit.span,
                )
                .label("out of range")
                .help("change the default or widen the range");
                if let Some(rs) = range_span {
                    d = d.secondary(rs, "the range is declared here");
                }
                self.err(d);
                return None;
            }
        }
        if let (Some(b), Some(dtype)) = (bits, element_dtype(ty)) {
            let fits = match value {
                Literal::Int(n) if dtype.is_signed() => {
                    let half = 1i64 << (b - 1);
                    (-half..half).contains(&n)
                }
                Literal::Int(n) => n >= 0 && (b >= 64 || (n as u64) < (1u64 << b)),
                Literal::UInt(_) => false,
                _ => true,
            };
            if !fits {
                self.err(
                    Diagnostic::error(
                        codes::DEFAULT_OUT_OF_RANGE,
                        format!(
                            "default {} does not fit in `@bits({b})`",
                            self.describe_lit(lit)
                        ),
                        lit.span,
                    )
                    .label("too wide for the packed width")
                    .help("change the default or raise `@bits`"),
                );
                return None;
            }
        }
        Some(value)
    }

    /// W0001 for each import of the root file that contributes no type the root file uses.
    fn warn_unused_imports(&mut self, used: &BTreeSet<String>) {
        let loaded = self.loaded;
        let root = loaded.root;
        let Some(root_file) = loaded.file(root) else {
            return;
        };
        // Files reachable from each import, so an import needed only for what *it* imports
        // still counts as used.
        let mut children: BTreeMap<FileId, Vec<FileId>> = BTreeMap::new();
        for &(from, _, to) in &loaded.imports {
            children.entry(from).or_default().push(to);
        }
        let used_files: BTreeSet<FileId> = used
            .iter()
            .filter_map(|n| self.decls.get(n).map(Decl::file))
            .collect();
        for &(from, index, to) in &loaded.imports {
            if from != root {
                continue;
            }
            let mut reach = BTreeSet::new();
            let mut stack = vec![to];
            while let Some(f) = stack.pop() {
                if reach.insert(f) {
                    stack.extend(children.get(&f).into_iter().flatten().copied());
                }
            }
            if reach.is_disjoint(&used_files) {
                let import = &root_file.imports[index];
                self.err(
                    Diagnostic::warning(
                        codes::UNUSED_IMPORT,
                        format!("unused import `{}`", import.path.value),
                        import.span,
                    )
                    .label("nothing from this file is used")
                    .help("remove the import"),
                );
            }
        }
    }

    /// Orders records so each comes after the components it contains, reporting cycles
    /// and chains nested deeper than [`MAX_COMPONENT_DEPTH`] (E0030).
    fn order_records(&mut self, records: Vec<RecordInput>) -> Option<Vec<RecordInput>> {
        let index: HashMap<String, usize> = records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        let mut walk = Walk {
            state: vec![Visit::New; records.len()],
            order: Vec::new(),
            path: Vec::new(),
            failed: false,
            deep_reported: false,
        };
        for start in 0..records.len() {
            self.visit(start, None, &records, &index, &mut walk);
        }
        if walk.failed {
            return None;
        }
        let mut slots: Vec<Option<RecordInput>> = records.into_iter().map(Some).collect();
        Some(
            walk.order
                .into_iter()
                .filter_map(|i| slots[i].take())
                .collect(),
        )
    }

    /// Depth-first visit of record `i`; returns its nesting depth (0 without component
    /// fields), or `None` when it is part of a cycle or too deep (already reported).
    /// The recursion itself never goes deeper than the limit, so a long chain cannot
    /// overflow the stack.
    fn visit(
        &mut self,
        i: usize,
        via: Option<Span>,
        records: &[RecordInput],
        index: &HashMap<String, usize>,
        walk: &mut Walk,
    ) -> Option<usize> {
        match walk.state[i] {
            Visit::Done(depth) => return depth,
            Visit::Active => {
                let pos = walk.path.iter().position(|(r, _)| *r == i).unwrap_or(0);
                let mut names: Vec<String> = walk.path[pos..]
                    .iter()
                    .map(|(r, _)| records[*r].name.clone())
                    .collect();
                names.push(records[i].name.clone());
                let span = via.unwrap_or(records[i].name_span);
                self.err(
                    Diagnostic::error(
                        codes::RECURSIVE_COMPONENT,
                        format!(
                            "component `{}` contains itself: {}",
                            records[i].name,
                            names.join(" → ")
                        ),
                        span,
                    )
                    .label("this field closes the cycle")
                    .secondary(records[i].name_span, "declared here")
                    .help("a component cannot contain itself, even through others; use `list<...>` for trees"),
                );
                walk.failed = true;
                return None;
            }
            Visit::New => {}
        }
        if walk.path.len() > MAX_COMPONENT_DEPTH {
            // Everything on the path nests at least this deep: report once, at the field
            // that goes one level too far, and stop descending.
            // One report is enough: a long chain would otherwise be reported once per
            // 32 links.
            if !walk.deep_reported {
                let (outer, _) = walk.path[0];
                let span = via.unwrap_or(records[i].name_span);
                self.err(too_deep(&records[outer].name, span));
                walk.deep_reported = true;
            }
            walk.failed = true;
            return None;
        }
        walk.state[i] = Visit::Active;
        walk.path.push((i, via));
        let mut depth = Some(0usize);
        let mut deepest: Option<(usize, Span)> = None;
        for f in &records[i].fields {
            if let Ty::Record { name, .. } = &f.field.ty {
                if let Some(&j) = index.get(name) {
                    match self.visit(j, Some(f.span), records, index, walk) {
                        Some(d) => {
                            if deepest.is_none_or(|(best, _)| d + 1 > best) {
                                deepest = Some((d + 1, f.span));
                            }
                            depth = depth.map(|x| x.max(d + 1));
                        }
                        None => depth = None,
                    }
                }
            }
        }
        walk.path.pop();
        if let (Some(d), Some((_, span))) = (depth, deepest) {
            if d > MAX_COMPONENT_DEPTH {
                if !walk.deep_reported {
                    self.err(too_deep(&records[i].name, span));
                    walk.deep_reported = true;
                }
                walk.failed = true;
                depth = None;
            }
        }
        walk.state[i] = Visit::Done(depth);
        walk.order.push(i);
        depth
    }
}

/// Components may nest at most this many levels (a record holding a component holding a
/// component ... counts one level per step). Generated code grows with the depth times the
/// number of leaves, so the limit keeps output proportional to the schema.
pub const MAX_COMPONENT_DEPTH: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Visit {
    New,
    Active,
    Done(Option<usize>),
}

struct Walk {
    state: Vec<Visit>,
    order: Vec<usize>,
    path: Vec<(usize, Option<Span>)>,
    failed: bool,
    deep_reported: bool,
}

fn too_deep(record: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::NESTING_TOO_DEEP,
        format!("`{record}` nests components more than {MAX_COMPONENT_DEPTH} levels deep"),
        span,
    )
    .label(format!("this field goes past level {MAX_COMPONENT_DEPTH}"))
    .help("flatten the chain: hold the inner components side by side, or use `list<...>`")
}

/// What users of numpy, PyTorch or Rust may write for a dtype (typos included), mapped to
/// the schema's spelling.
fn dtype_alias(name: &str) -> Option<&'static str> {
    const ALIASES: [(&str, &str); 17] = [
        ("float16", "f16"),
        ("half", "f16"),
        ("bfloat16", "bf16"),
        ("float32", "f32"),
        ("float", "f32"),
        ("float64", "f64"),
        ("double", "f64"),
        ("int8", "i8"),
        ("int16", "i16"),
        ("int32", "i32"),
        ("int64", "i64"),
        ("uint8", "u8"),
        ("uint16", "u16"),
        ("uint32", "u32"),
        ("uint64", "u64"),
        ("string", "str"),
        ("boolean", "bool"),
    ];
    let alias = suggest(name, ALIASES.iter().map(|(a, _)| *a))?;
    ALIASES.iter().find(|(a, _)| *a == alias).map(|(_, d)| *d)
}

fn shape_overflow(span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::SHAPE_OVERFLOW,
        "this shape has more elements than fit in a u64",
        span,
    )
    .label("element count overflows")
    .help("use smaller dimensions")
}

/// Dtype of the elements for scalars and arrays.
fn element_dtype(ty: &Ty) -> Option<Dtype> {
    match ty {
        Ty::Scalar { dtype } | Ty::Array { dtype, .. } => Some(*dtype),
        _ => None,
    }
}

/// Element count of scalars and fixed arrays.
fn fixed_elements(ty: &Ty) -> Option<u64> {
    match ty {
        Ty::Scalar { .. } => Some(1),
        Ty::Array { shape, .. } => shape
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(d.fixed()?)),
        _ => None,
    }
}

fn int_bounds(d: Dtype) -> (i128, i128) {
    let bits = d.size() * 8;
    if d.is_signed() {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

fn int_literal(n: i128) -> Literal {
    match i64::try_from(n) {
        Ok(v) => Literal::Int(v),
        Err(_) => Literal::UInt(n as u64),
    }
}

/// How a type is written in the schema language (for messages).
pub fn ty_name(ty: &Ty) -> String {
    fn dims(shape: &[Dim]) -> String {
        if shape.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = shape.iter().map(Dim::to_string).collect();
            format!("[{}]", parts.join(", "))
        }
    }
    match ty {
        Ty::Scalar { dtype } => dtype.name().to_string(),
        Ty::Str => "str".into(),
        Ty::Bytes => "bytes".into(),
        Ty::Array { dtype, shape } => format!("{}{}", dtype.name(), dims(shape)),
        Ty::Enum { name } => name.clone(),
        Ty::Record { name, shape } => format!("{name}{}", dims(shape)),
        Ty::List { item } => format!("list<{}>", ty_name(item)),
        Ty::Map { value } => format!("map<str, {}>", ty_name(value)),
    }
}

/// The module name for generated code: the package with dots as underscores
/// (`vision.v1` → `vision_v1`, so versioned packages do not collide), else the file stem.
fn module_name(package: Option<&str>, file: &str) -> String {
    let raw = match package {
        Some(p) => p.replace('.', "_"),
        None => std::path::Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("schema")
            .to_string(),
    };
    let snake = heck::AsSnakeCase(raw).to_string();
    if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("schema_{snake}")
    } else {
        snake
    }
}

/// Suffixes the emitters append to a record's name for the types they generate beside it.
pub(crate) const GENERATED_SUFFIXES: &[&str] = &[
    "Ref",
    "Batch",
    "Columns",
    "Row",
    "Packed",
    "PackedBatch",
    "PackedFields",
    "View",
];

/// Python and Rust keywords (strict and reserved): a module cannot be named after one.
fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        // Python
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield", // Rust
        "const", "crate", "dyn", "enum", "extern", "false", "fn", "impl", "let", "loop", "match",
        "mod", "move", "mut", "pub", "ref", "self", "static", "struct", "super", "trait", "true",
        "type", "unsafe", "use", "where", "abstract", "become", "box", "do", "final", "macro",
        "override", "priv", "typeof", "unsized", "virtual", "gen",
    ];
    KEYWORDS.contains(&s)
}

/// The collision key of a name: lowercase, underscores dropped. Emitters change case
/// (`foo_bar` → `FooBar`, `aB` → `AB_PER_ROW`) and append `_` to escape keywords, so two
/// names with the same key can become one identifier in some target.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn collision(what: &str, first: &str, second: &str, span: Span, first_span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::NAME_COLLISION,
        format!("{what} `{first}` and `{second}` collide in generated code"),
        span,
    )
    .label("differs from the other only in case or underscores")
    .secondary(first_span, format!("`{first}` is declared here"))
    .help(format!(
        "rename `{second}` so the names differ in more than case and `_`"
    ))
}

fn reserved_type(name: &str, span: Span) -> Option<Diagnostic> {
    use heck::ToUpperCamelCase;
    let camel = name.to_upper_camel_case();
    let why = if crate::reserved::RUST_TYPES.contains(&camel.as_str()) {
        format!("the Rust type would be `{camel}`, which generated code uses")
    } else if crate::reserved::PYTHON_MODULE_NAMES.contains(&name) {
        format!("the generated Python module uses `{name}` itself")
    } else {
        return None;
    };
    Some(
        Diagnostic::error(
            codes::RESERVED_NAME,
            format!("the type name `{name}` is reserved in generated code"),
            span,
        )
        .label(why)
        .help(format!("rename it, e.g. `{camel}Data`")),
    )
}

/// E0034 for a field name generated code cannot hold: a `__dunder__` name (Python's object
/// protocol; `__class__` cannot be a dataclass field).
fn reserved_field(f: &ast::FieldItem) -> Option<Diagnostic> {
    let name = &f.name.value;
    // A field named like its type (`Inner: Inner`) needs no rule: the Python emitter
    // escapes it (python/tests/test_generated_lint.py compiles and lints that case).
    let why = if name.len() > 4 && name.starts_with("__") && name.ends_with("__") {
        "`__dunder__` names belong to Python's object protocol"
    } else {
        return None;
    };
    Some(
        Diagnostic::error(
            codes::RESERVED_NAME,
            format!("the field name `{name}` cannot be used in generated code"),
            f.name.span,
        )
        .label(why)
        .help(format!(
            "rename the field, e.g. `{}`",
            heck::AsSnakeCase(name.trim_matches('_')).to_string() + "_value"
        )),
    )
}

/// A float literal that becomes infinity in `dtype` (after rounding to it), or that is
/// already infinite (`1e999`).
fn overflows(x: f64, dtype: Dtype) -> bool {
    !x.is_finite()
        || match dtype {
            Dtype::F16 => schemac_runtime::array::f16_from_f64(x).is_infinite(),
            Dtype::Bf16 => half::bf16::from_f64(x).is_infinite(),
            Dtype::F32 => (x as f32).is_infinite(),
            _ => false,
        }
}

fn finite_in(dtype: Dtype) -> String {
    // Printed in the dtype's own precision (`6.5504e4`, `3.4028235e38`).
    let max = match dtype {
        Dtype::F16 => format!("{:e}", f32::from(half::f16::MAX)),
        Dtype::Bf16 => format!("{:e}", f32::from(half::bf16::MAX)),
        Dtype::F32 => format!("{:e}", f32::MAX),
        _ => format!("{:e}", f64::MAX),
    };
    format!(
        "a number that is finite in `{}` (magnitude at most {max})",
        dtype.name()
    )
}

/// Spelled like a field name: a letter or `_`, then letters, digits or `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A name the record or enum lists in `@reserved`.
fn reserved_by_schema(what: &str, name: &str, span: Span, reserved_at: Span) -> Diagnostic {
    Diagnostic::error(
        codes::RESERVED_BY_SCHEMA,
        format!("the {what} name `{name}` is reserved"),
        span,
    )
    .label("reserved names may not be used again")
    .secondary(reserved_at, "reserved here")
    .help("data written under this name meant something else; pick another name")
}

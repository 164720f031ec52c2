//! `schemac fmt`: prints a parsed file in the canonical style, keeping every comment.
//!
//! Style: `package`, then imports, then items, separated by blank lines; attributes on
//! their own line above an item; four-space indents; one field per line with a trailing
//! comma; `name: type? = default @attrs`. Short enums without docs stay on one line.
//! Ordinary `//` comments are re-attached by position: a comment on its own line is
//! printed before the node that follows it, a comment after code stays at the end of
//! that line. Formatting is idempotent (tested on every example).

use crate::ast::*;
use crate::diag::Span;

/// Formats `file`, whose source text is `text`.
pub fn format(file: &File, text: &str) -> String {
    let mut p = Printer {
        text,
        comments: &file.comments,
        next: 0,
        out: String::new(),
    };
    p.file(file);
    p.out
}

struct Printer<'a> {
    text: &'a str,
    comments: &'a [Comment],
    next: usize,
    out: String,
}

const INDENT: &str = "    ";

impl Printer<'_> {
    /// Prints every comment that starts before `pos`, each on its own line.
    fn leading(&mut self, pos: usize, indent: &str) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            self.out.push_str(indent);
            self.out.push_str(&c.text);
            self.out.push('\n');
            self.next += 1;
            // Keep one blank line after a comment block that had one (file headers).
            let upto = self
                .comments
                .get(self.next)
                .map_or(pos, |n| n.span.start.min(pos))
                .min(self.text.len());
            let gap = self.text.get(c.span.end..upto).unwrap_or("");
            if gap.matches('\n').count() >= 2 && upto < self.text.len() {
                self.out.push('\n');
            }
        }
    }

    /// After a node ending at `end`, appends a comment that sits on the same source line
    /// (and before `limit`, where the next node starts).
    fn trailing_before(&mut self, end: usize, limit: usize) {
        if let Some(c) = self.comments.get(self.next) {
            let between = self.text.get(end..c.span.start).unwrap_or("\n");
            if c.span.start >= end && c.span.start < limit && !between.contains('\n') {
                self.out.push(' ');
                self.out.push_str(&c.text);
                self.next += 1;
            }
        }
    }

    fn trailing(&mut self, end: usize) {
        self.trailing_before(end, usize::MAX);
    }

    fn line_end(&mut self, end: usize) {
        self.trailing(end);
        self.out.push('\n');
    }

    fn docs(&mut self, docs: &[String], indent: &str) {
        for d in docs {
            self.out.push_str(indent);
            if d.is_empty() {
                self.out.push_str("///\n");
            } else {
                self.out.push_str("/// ");
                self.out.push_str(d);
                self.out.push('\n');
            }
        }
    }

    fn file(&mut self, file: &File) {
        let mut first_section = true;
        if let Some(pkg) = &file.package {
            self.leading(pkg.span.start, "");
            self.out.push_str(&format!("package {};", pkg.value));
            self.line_end(self.statement_end(pkg.span.end));
            first_section = false;
        }
        if !file.imports.is_empty() {
            if !first_section {
                self.out.push('\n');
            }
            for imp in &file.imports {
                self.leading(imp.span.start, "");
                self.out
                    .push_str(&format!("import {};", quote(&imp.path.value)));
                self.line_end(imp.span.end);
            }
            first_section = false;
        }
        for item in &file.items {
            if !first_section {
                self.out.push('\n');
            }
            first_section = false;
            self.item(item);
        }
        if self.next < self.comments.len() {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.leading(usize::MAX, "");
        }
    }

    /// The end of a statement, past its `;`, so a trailing comment after it is found.
    fn statement_end(&self, from: usize) -> usize {
        self.text[from..].find(';').map_or(from, |i| from + i + 1)
    }

    fn item(&mut self, item: &Item) {
        // Comments before the item's docs come first.
        self.leading(item.span().start, "");
        match item {
            Item::Enum(e) => self.enum_item(e),
            Item::Record(r) => self.record_item(r),
        }
    }

    fn attrs_block(&mut self, attrs: &[Attr]) {
        for a in attrs {
            self.out.push_str(&attr(a, self.text));
            self.out.push('\n');
        }
    }

    fn enum_item(&mut self, e: &EnumItem) {
        self.docs(&e.docs, "");
        self.attrs_block(&e.attrs);
        let inner_comments = self
            .comments
            .iter()
            .skip(self.next)
            .any(|c| c.span.start < e.span.end);
        let one_line = !inner_comments
            && e.variants.iter().all(|v| v.docs.is_empty())
            && e.variants.len() <= 8;
        if one_line {
            let names: Vec<&str> = e.variants.iter().map(|v| v.name.value.as_str()).collect();
            if names.is_empty() {
                self.out.push_str(&format!("enum {} {{}}", e.name.value));
            } else {
                self.out
                    .push_str(&format!("enum {} {{ {} }}", e.name.value, names.join(", ")));
            }
            self.line_end(e.span.end);
            return;
        }
        self.out.push_str(&format!("enum {} {{", e.name.value));
        self.out.push('\n');
        for v in &e.variants {
            self.leading(v.name.span.start, INDENT);
            self.docs(&v.docs, INDENT);
            self.out.push_str(INDENT);
            self.out.push_str(&v.name.value);
            self.out.push(',');
            self.line_end(self.after_comma(v.name.span.end));
        }
        self.close_block(e.span);
    }

    fn close_block(&mut self, span: Span) {
        let close = span.end.saturating_sub(1);
        self.leading(close, INDENT);
        self.out.push('}');
        self.line_end(span.end);
    }

    /// Position just past the comma following a node, if there is one on its line.
    fn after_comma(&self, end: usize) -> usize {
        let rest = &self.text[end..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if trimmed.starts_with(',') {
            end + (rest.len() - trimmed.len()) + 1
        } else {
            end
        }
    }

    fn record_item(&mut self, r: &RecordItem) {
        self.docs(&r.docs, "");
        self.attrs_block(&r.attrs);
        let kw = match r.kind.value {
            RecordKind::Sample => "sample",
            RecordKind::Component => "component",
        };
        let open = self.text[r.name.span.end..r.span.end]
            .find('{')
            .map_or(r.name.span.end, |i| r.name.span.end + i + 1);
        if r.fields.is_empty() && !self.comment_before(r.span.end) {
            self.out.push_str(&format!("{kw} {} {{}}", r.name.value));
            self.line_end(r.span.end);
            return;
        }
        self.out.push_str(&format!("{kw} {} {{", r.name.value));
        let first = r
            .fields
            .first()
            .map_or(r.span.end, |f| f.docs_start(self.text));
        self.trailing_before(open, first);
        self.out.push('\n');
        for f in &r.fields {
            let start = f.docs_start(self.text);
            self.leading(start, INDENT);
            self.docs(&f.docs, INDENT);
            self.out.push_str(INDENT);
            self.out.push_str(&field(f, self.text));
            self.out.push(',');
            self.line_end(self.after_comma(f.span.end));
        }
        self.close_block(r.span);
    }

    fn comment_before(&self, pos: usize) -> bool {
        self.comments
            .get(self.next)
            .is_some_and(|c| c.span.start < pos)
    }
}

impl FieldItem {
    /// Where the field begins in the source, doc comments included.
    fn docs_start(&self, text: &str) -> usize {
        if self.docs.is_empty() {
            return self.span.start;
        }
        // Walk back over the doc lines directly above the field's name.
        let mut start = self.span.start;
        for _ in 0..self.docs.len() {
            let before = &text[..start];
            let line_start = before.trim_end().rfind('\n').map_or(0, |i| i + 1);
            start = line_start;
        }
        start
    }
}

fn field(f: &FieldItem, text: &str) -> String {
    let mut s = format!("{}: {}", f.name.value, type_expr(&f.ty));
    if f.optional.is_some() {
        s.push('?');
    }
    for d in &f.defaults {
        s.push_str(" = ");
        s.push_str(&lit(d, text));
    }
    for a in &f.attrs {
        s.push(' ');
        s.push_str(&attr(a, text));
    }
    s
}

fn type_expr(t: &TypeExpr) -> String {
    let base = match &t.kind {
        TypeKind::Named(n) => n.value.clone(),
        TypeKind::List(i) => format!("list<{}>", type_expr(i)),
        TypeKind::Map(k, v) => format!("map<{}, {}>", type_expr(k), type_expr(v)),
    };
    match &t.dims {
        None => base,
        Some(dims) => {
            let parts: Vec<String> = dims
                .iter()
                .map(|d| match &d.kind {
                    DimKind::Fixed(n) => n.to_string(),
                    DimKind::Named(name, None) => name.clone(),
                    DimKind::Named(name, Some(size)) => format!("{name} = {}", size.value),
                    DimKind::Any => "_".to_string(),
                })
                .collect();
            format!("{base}[{}]", parts.join(", "))
        }
    }
}

fn attr(a: &Attr, text: &str) -> String {
    if a.parens || !a.args.is_empty() {
        let args: Vec<String> = a.args.iter().map(|l| lit(l, text)).collect();
        format!("@{}({})", a.name.value, args.join(", "))
    } else {
        format!("@{}", a.name.value)
    }
}

/// Numbers keep the user's spelling (`1e-3` stays `1e-3`).
fn lit(l: &Lit, text: &str) -> String {
    let raw = || text.get(l.span.start..l.span.end).unwrap_or("").to_string();
    match &l.kind {
        LitKind::Bool(b) => b.to_string(),
        LitKind::Int(_) | LitKind::Float(_) => raw(),
        LitKind::Str(s) => quote(s),
        LitKind::Ident(s) => s.clone(),
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(src: &str) -> String {
        format(&crate::parse::parse(0, src).unwrap(), src)
    }

    #[test]
    fn keeps_comments_and_is_idempotent() {
        let src = "// head\npackage a;\nimport \"x.schema\"; // why\n// before\nsample S{ // open\n/// doc\nx:f32[2,H=3]?=1 @range(0,2),// t\n// inner\ny: u8 @bits(3) @packed\n// end\n}\nenum E{a,b}\n// tail\n";
        let once = fmt(src);
        assert_eq!(fmt(&once), once);
        for c in [
            "// head",
            "// why",
            "// before",
            "// open",
            "// t",
            "// inner",
            "// end",
            "// tail",
        ] {
            assert!(once.contains(c), "lost {c}:\n{once}");
        }
        assert!(
            once.contains("    x: f32[2, H = 3]? = 1 @range(0, 2), // t\n"),
            "{once}"
        );
        assert!(once.contains("enum E { a, b }\n"), "{once}");
    }
}

//! `schemac fmt`: prints a parsed file in the canonical style, keeping every comment.
//!
//! Style: module docs, `package`, then imports, then items, separated by blank lines;
//! attributes on their own line above an item; four-space indents; one field per line with
//! a trailing comma; `name: type? = default @attrs`. Short enums without docs stay on one
//! line. A UTF-8 byte-order mark is not written back.
//!
//! Every output line stands for a stretch of the source (a doc line, an attribute, a record
//! header up to its `{`, a field up to its comma, a closing `}`). Ordinary `//` comments are
//! re-attached by position against those stretches, which is what makes formatting keep
//! every comment and be idempotent:
//! - a comment that starts before the end of a line's stretch (before it, or inside it, as
//!   in `x: // why` + newline + `u8`) is printed on its own line just above that line;
//! - a comment separated from the end of a line's stretch by spaces only stays at the end
//!   of that line;
//! - one blank line after a comment is kept where the source had one.
//!
//! Doc comments after the last field or variant, which document nothing, are kept in place.

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
    /// Before an output line standing for source `start..end`: prints every pending comment
    /// that starts before `end`, each on its own line.
    fn comments_before(&mut self, start: usize, end: usize, indent: &str) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= end {
                break;
            }
            self.out.push_str(indent);
            self.out.push_str(&c.text);
            self.out.push('\n');
            self.next += 1;
            // Keep one blank line after a comment that had one (file headers, sections),
            // but not at the end of the file.
            let upto = self
                .comments
                .get(self.next)
                .map_or(start, |n| n.span.start.min(start))
                .min(self.text.len());
            let gap = self.text.get(c.span.end..upto).unwrap_or("");
            if gap.matches('\n').count() >= 2 && upto < self.text.len() {
                self.out.push('\n');
            }
        }
    }

    /// After an output line whose source stretch ends at `end`: appends the next comment if
    /// only spaces separate it from `end`, and ends the line.
    fn line_end(&mut self, end: usize) {
        if let Some(c) = self.comments.get(self.next) {
            let between = self.text.get(end..c.span.start).unwrap_or("\n");
            if c.span.start >= end && between.bytes().all(|b| b == b' ' || b == b'\t') {
                self.out.push(' ');
                self.out.push_str(&c.text);
                self.next += 1;
            }
        }
        self.out.push('\n');
    }

    /// One whole output line for source `start..end`.
    fn line(&mut self, start: usize, end: usize, indent: &str, content: &str) {
        self.comments_before(start, end, indent);
        self.out.push_str(indent);
        self.out.push_str(content);
        self.line_end(end);
    }

    fn doc_line(&mut self, text: &str, span: Option<Span>, indent: &str) {
        let content = if text.is_empty() {
            "///".to_string()
        } else {
            format!("/// {text}")
        };
        match span {
            Some(s) => self.line(s.start, s.end, indent, &content),
            None => {
                self.out.push_str(indent);
                self.out.push_str(&content);
                self.out.push('\n');
            }
        }
    }

    fn docs(&mut self, docs: &[String], spans: &[Span], indent: &str) {
        for (i, d) in docs.iter().enumerate() {
            self.doc_line(d, spans.get(i).copied(), indent);
        }
    }

    fn file(&mut self, file: &File) {
        let mut first_section = true;
        self.docs(&file.docs, &file.doc_spans, "");
        if let Some(pkg) = &file.package {
            let end = self.past(b';', pkg.span.end);
            self.line(pkg.span.start, end, "", &format!("package {};", pkg.value));
            first_section = false;
        }
        if !file.imports.is_empty() {
            if !first_section {
                self.out.push('\n');
            }
            for imp in &file.imports {
                let content = format!("import {};", quote(&imp.path.value));
                self.line(imp.span.start, imp.span.end, "", &content);
            }
            first_section = false;
        }
        for item in &file.items {
            if !first_section {
                self.out.push('\n');
            }
            first_section = false;
            match item {
                Item::Enum(e) => self.enum_item(e),
                Item::Record(r) => self.record_item(r),
            }
        }
        if self.next < self.comments.len() {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.comments_before(self.text.len(), usize::MAX, "");
        }
    }

    /// Just past the first `byte` at or after `from` that is code (not in a comment or a
    /// string); `from` if there is none.
    fn past(&self, byte: u8, from: usize) -> usize {
        crate::parse::find_code(self.text, from, byte).map_or(from, |i| i + 1)
    }

    fn attrs_block(&mut self, attrs: &[Attr]) {
        for a in attrs {
            let content = attr(a, self.text);
            self.line(a.span.start, a.span.end, "", &content);
        }
    }

    fn enum_item(&mut self, e: &EnumItem) {
        self.docs(&e.docs, &e.doc_spans, "");
        self.attrs_block(&e.attrs);
        let open = self.past(b'{', e.name.span.end);
        // Comments up to the `{` go above the enum in either form; any left inside make it
        // multi-line.
        self.comments_before(e.name.span.start, open, "");
        let inner_comments = self
            .comments
            .get(self.next)
            .is_some_and(|c| c.span.start < e.span.end);
        let one_line = !inner_comments
            && e.end_docs.is_empty()
            && e.variants.iter().all(|v| v.docs.is_empty())
            && e.variants.len() <= 8;
        if one_line {
            let names: Vec<&str> = e.variants.iter().map(|v| v.name.value.as_str()).collect();
            let content = if names.is_empty() {
                format!("enum {} {{}}", e.name.value)
            } else {
                format!("enum {} {{ {} }}", e.name.value, names.join(", "))
            };
            self.line(e.name.span.start, e.span.end, "", &content);
            return;
        }
        let header = format!("enum {} {{", e.name.value);
        self.line(e.name.span.start, open, "", &header);
        for v in &e.variants {
            self.docs(&v.docs, &v.doc_spans, INDENT);
            let end = self.after_comma(v.name.span.end);
            let content = format!("{},", v.name.value);
            self.line(v.name.span.start, end, INDENT, &content);
        }
        self.close_block(&e.end_docs, e.span);
    }

    fn close_block(&mut self, end_docs: &[Spanned<String>], span: Span) {
        for d in end_docs {
            self.doc_line(&d.value, Some(d.span), INDENT);
        }
        let close = span.end.saturating_sub(1);
        // Comments inside the block, before its `}`, stay inside it.
        self.comments_before(close, close, INDENT);
        self.line(close, span.end, "", "}");
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
        self.docs(&r.docs, &r.doc_spans, "");
        self.attrs_block(&r.attrs);
        let kw = match r.kind.value {
            RecordKind::Sample => "sample",
            RecordKind::Component => "component",
        };
        let open = self.past(b'{', r.name.span.end);
        self.comments_before(r.kind.span.start, open, "");
        let inner_comments = self
            .comments
            .get(self.next)
            .is_some_and(|c| c.span.start < r.span.end);
        if r.fields.is_empty() && r.end_docs.is_empty() && !inner_comments {
            let content = format!("{kw} {} {{}}", r.name.value);
            self.line(r.kind.span.start, r.span.end, "", &content);
            return;
        }
        let header = format!("{kw} {} {{", r.name.value);
        self.line(r.kind.span.start, open, "", &header);
        for f in &r.fields {
            self.docs(&f.docs, &f.doc_spans, INDENT);
            let end = self.after_comma(f.span.end);
            let content = format!("{},", field(f, self.text));
            self.line(f.span.start, end, INDENT, &content);
        }
        self.close_block(&r.end_docs, r.span);
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

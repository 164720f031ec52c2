//! Parsing: source text → [`ast::File`] with spans, using the pest grammar in
//! `grammar/schema.pest`. A syntax error becomes an `E0001` diagnostic listing the tokens
//! that would have been accepted at the point of failure.
//!
//! Before pest runs, a lexical pass ([`lex`]) finds the ordinary comments (for `fmt`) and
//! measures how deeply types nest. Nesting past [`MAX_TYPE_DEPTH`] is an `E0001` at the
//! first `<` beyond the limit, so neither pest's recursive descent nor any later recursive
//! pass (check, layout, fmt, the emitters) can run out of stack on hostile input.

use crate::ast::*;
use crate::diag::{codes, Diagnostic, FileId, Span};
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/schema.pest"]
struct SchemaParser;

/// How deeply `list<...>` and `map<..., ...>` may nest (docs/language.md, "Nesting limits").
/// `list<list<u8>>` is 2 levels.
pub const MAX_TYPE_DEPTH: usize = 32;

/// Parses one file. Comments are collected too, for `schemac fmt`.
pub fn parse(file: FileId, text: &str) -> Result<File, Box<Diagnostic>> {
    let scanned = scan(file, text);
    if let Some((outer, at)) = scanned.too_deep {
        return Err(Box::new(too_deep(file, outer, at)));
    }
    pest::set_error_detail(true);
    let mut pairs = SchemaParser::parse(Rule::schema, text)
        .map_err(|e| Box::new(syntax_error(file, text, e)))?;
    let root = pairs
        .next()
        .expect("the schema rule always yields one pair");
    let lower = Lower { file };
    let mut out = File {
        docs: Vec::new(),
        doc_spans: Vec::new(),
        package: None,
        imports: Vec::new(),
        items: Vec::new(),
        comments: scanned.comments,
        span: lower.span(&root),
    };
    for pair in root.into_inner() {
        match pair.as_rule() {
            Rule::package_decl => {
                for p in pair.into_inner() {
                    match p.as_rule() {
                        Rule::doc => {
                            out.docs.push(doc_text(&p));
                            out.doc_spans.push(lower.span(&p));
                        }
                        Rule::qualified_name => {
                            out.package = Some(lower.spanned(&p, p.as_str().to_string()));
                        }
                        _ => {}
                    }
                }
            }
            Rule::import_decl => {
                let span = lower.span(&pair);
                let string = pair.into_inner().nth(1).expect("import path");
                out.imports.push(Import {
                    path: lower.spanned(&string, unescape(string_inner(&string))),
                    span,
                });
            }
            Rule::enum_def => out.items.push(Item::Enum(lower.enum_def(pair))),
            Rule::record_def => out.items.push(Item::Record(lower.record_def(pair))),
            Rule::EOI => {}
            other => unreachable!("unexpected top-level rule {other:?}"),
        }
    }
    Ok(out)
}

fn too_deep(file: FileId, outer: usize, at: usize) -> Diagnostic {
    Diagnostic::error(
        codes::SYNTAX,
        format!("type nested more than {MAX_TYPE_DEPTH} levels deep"),
        Span::new(file, at, at + 1),
    )
    .label(format!("level {} starts here", MAX_TYPE_DEPTH + 1))
    .secondary(Span::new(file, outer, outer + 1), "the outermost level")
    .help(format!(
        "`list<...>` and `map<..., ...>` nest at most {MAX_TYPE_DEPTH} levels; \
         structure deeper data with components"
    ))
}

struct Lower {
    file: FileId,
}

impl Lower {
    /// The pair's span without trailing whitespace and comments (pest keeps the implicit
    /// whitespace and comments an optional trailing part tried to consume, which would put
    /// carets on the next line and make `fmt` read a trailing comment as inside the node).
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(
            self.file,
            s.start(),
            s.start() + without_trivia(pair.as_str()).len(),
        )
    }

    fn spanned<T>(&self, pair: &Pair<Rule>, value: T) -> Spanned<T> {
        Spanned {
            value,
            span: self.span(pair),
        }
    }

    fn ident(&self, pair: &Pair<Rule>) -> Ident {
        self.spanned(pair, pair.as_str().to_string())
    }

    fn enum_def(&self, pair: Pair<Rule>) -> EnumItem {
        let span = self.span(&pair);
        let (mut docs, mut doc_spans, mut end_docs) = (Vec::new(), Vec::new(), Vec::new());
        let mut attrs = Vec::new();
        let mut name = None;
        let mut variants = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc if name.is_none() => {
                    docs.push(doc_text(&p));
                    doc_spans.push(self.span(&p));
                }
                Rule::doc => end_docs.push(self.spanned(&p, doc_text(&p))),
                Rule::attribute => attrs.push(self.attr(p)),
                Rule::ident => name = Some(self.ident(&p)),
                Rule::variant_list => {
                    for v in p.into_inner() {
                        let (mut vdocs, mut vspans) = (Vec::new(), Vec::new());
                        let mut vname = None;
                        for q in v.into_inner() {
                            match q.as_rule() {
                                Rule::doc => {
                                    vdocs.push(doc_text(&q));
                                    vspans.push(self.span(&q));
                                }
                                _ => vname = Some(self.ident(&q)),
                            }
                        }
                        variants.push(VariantItem {
                            docs: vdocs,
                            doc_spans: vspans,
                            name: vname.expect("variant name"),
                        });
                    }
                }
                _ => {}
            }
        }
        EnumItem {
            docs,
            doc_spans,
            attrs,
            name: name.expect("enum name"),
            variants,
            end_docs,
            span,
        }
    }

    fn record_def(&self, pair: Pair<Rule>) -> RecordItem {
        let span = self.span(&pair);
        let (mut docs, mut doc_spans, mut end_docs) = (Vec::new(), Vec::new(), Vec::new());
        let mut attrs = Vec::new();
        let mut kind = None;
        let mut name = None;
        let mut fields = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc if name.is_none() => {
                    docs.push(doc_text(&p));
                    doc_spans.push(self.span(&p));
                }
                Rule::doc => end_docs.push(self.spanned(&p, doc_text(&p))),
                Rule::attribute => attrs.push(self.attr(p)),
                Rule::record_kw => {
                    let k = if p.as_str() == "sample" {
                        RecordKind::Sample
                    } else {
                        RecordKind::Component
                    };
                    kind = Some(self.spanned(&p, k));
                }
                Rule::ident => name = Some(self.ident(&p)),
                Rule::field_list => fields = p.into_inner().map(|f| self.field(f)).collect(),
                _ => {}
            }
        }
        RecordItem {
            docs,
            doc_spans,
            attrs,
            kind: kind.expect("record kind"),
            name: name.expect("record name"),
            fields,
            end_docs,
            span,
        }
    }

    fn field(&self, pair: Pair<Rule>) -> FieldItem {
        let span = self.span(&pair);
        let (mut docs, mut doc_spans) = (Vec::new(), Vec::new());
        let mut name = None;
        let mut ty = None;
        let mut optional = None;
        let mut defaults = Vec::new();
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => {
                    docs.push(doc_text(&p));
                    doc_spans.push(self.span(&p));
                }
                Rule::ident => name = Some(self.ident(&p)),
                Rule::type_expr => ty = Some(self.type_expr(p)),
                Rule::optional_mark => optional = Some(self.span(&p)),
                Rule::default_value => {
                    let lit = p.into_inner().next().expect("default literal");
                    defaults.push(self.literal(lit));
                }
                Rule::attribute => attrs.push(self.attr(p)),
                other => unreachable!("unexpected field part {other:?}"),
            }
        }
        // The field's span starts at its name, not at its doc comment, so carets point at code.
        let name = name.expect("field name");
        FieldItem {
            docs,
            doc_spans,
            span: Span::new(self.file, name.span.start, span.end),
            name,
            ty: ty.expect("field type"),
            optional,
            defaults,
            attrs,
        }
    }

    fn type_expr(&self, pair: Pair<Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let mut kind = None;
        let mut dims = None;
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::type_name => {
                    let id = p.into_inner().next().expect("type name ident");
                    kind = Some(TypeKind::Named(self.ident(&id)));
                }
                Rule::list_type => {
                    let inner = p.into_inner().nth(1).expect("list item type");
                    kind = Some(TypeKind::List(Box::new(self.type_expr(inner))));
                }
                Rule::map_type => {
                    let mut it = p.into_inner().skip(1);
                    let k = self.type_expr(it.next().expect("map key type"));
                    let v = self.type_expr(it.next().expect("map value type"));
                    kind = Some(TypeKind::Map(Box::new(k), Box::new(v)));
                }
                Rule::dims => dims = Some(p.into_inner().map(|d| self.dim(d)).collect()),
                other => unreachable!("unexpected type part {other:?}"),
            }
        }
        TypeExpr {
            kind: kind.expect("type kind"),
            dims,
            span,
        }
    }

    fn dim(&self, pair: Pair<Rule>) -> DimExpr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::dim_any => DimKind::Any,
            Rule::dim_fixed => DimKind::Fixed(parse_int(pair.as_str())),
            Rule::dim_named => {
                let mut it = pair.into_inner();
                let name = it.next().expect("dim name").as_str().to_string();
                let size = it.next().map(|n| self.spanned(&n, parse_int(n.as_str())));
                DimKind::Named(name, size)
            }
            other => unreachable!("unexpected dim {other:?}"),
        };
        DimExpr { kind, span }
    }

    fn attr(&self, pair: Pair<Rule>) -> Attr {
        let span = self.span(&pair);
        let parens = pair.as_str().contains('(');
        let mut it = pair.into_inner();
        let name = self.ident(&it.next().expect("attribute name"));
        let args = it.map(|a| self.literal(a)).collect();
        Attr {
            name,
            args,
            parens,
            span,
        }
    }

    fn literal(&self, pair: Pair<Rule>) -> Lit {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::integer => LitKind::Int(parse_int(pair.as_str())),
            Rule::float => LitKind::Float(pair.as_str().parse().unwrap_or(f64::NAN)),
            Rule::boolean => LitKind::Bool(pair.as_str() == "true"),
            Rule::string => LitKind::Str(unescape(string_inner(&pair))),
            Rule::variant_ref => LitKind::Ident(pair.as_str().to_string()),
            other => unreachable!("unexpected literal {other:?}"),
        };
        Lit { kind, span }
    }
}

/// Integers too large even for i128 saturate; the checker reports them as out of range.
fn parse_int(s: &str) -> i128 {
    s.parse().unwrap_or(if s.starts_with('-') {
        i128::MIN
    } else {
        i128::MAX
    })
}

fn string_inner<'a>(pair: &Pair<'a, Rule>) -> &'a str {
    pair.clone()
        .into_inner()
        .next()
        .map(|p| p.as_str())
        .unwrap_or("")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn doc_text(pair: &Pair<Rule>) -> String {
    let s = pair.as_str().trim_start_matches("///");
    s.strip_prefix(' ').unwrap_or(s).trim_end().to_string()
}

/// One lexical unit of the pre-pass; whitespace is skipped.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lexeme {
    /// A `//` comment, `start..end` without the line break (or a trailing `\r`).
    Comment(usize, usize),
    /// A `///` doc comment, likewise.
    Doc(usize, usize),
    /// A string literal from its opening quote to its end.
    Str(usize, usize),
    /// Any other byte, at its offset.
    Code(usize, u8),
}

/// Splits `text` the way the grammar does as far as comments and strings go (a string ends
/// at its closing quote or, unterminated, at the line end). Where the grammar would reject
/// the input this may disagree with it, but only after the point where pest stops, so the
/// depth it measures bounds how deep pest can recurse.
fn lex(text: &str, mut f: impl FnMut(Lexeme)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            if i < bytes.len() && bytes[i] == b'"' {
                i += 1;
            }
            f(Lexeme::Str(start, i.min(bytes.len())));
        } else if bytes[i..].starts_with(b"//") {
            let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let end = i + text[i..line_end].trim_end().len();
            if bytes[i..].starts_with(b"///") {
                f(Lexeme::Doc(i, end));
            } else {
                f(Lexeme::Comment(i, end));
            }
            i = line_end;
        } else {
            if !b.is_ascii_whitespace() {
                f(Lexeme::Code(i, b));
            }
            i += 1;
        }
    }
}

/// The offset of the first `byte` at or after `from` that is code, not inside a comment or
/// a string (for `fmt`, which looks for the `{` of a block and the `;` of a statement).
pub(crate) fn find_code(text: &str, from: usize, byte: u8) -> Option<usize> {
    let mut found = None;
    lex(text.get(from..)?, |l| {
        if let (None, Lexeme::Code(at, b)) = (found, l) {
            if b == byte {
                found = Some(from + at);
            }
        }
    });
    found
}

/// `s` without trailing whitespace and `//` comments.
fn without_trivia(s: &str) -> &str {
    let mut s = s.trim_end();
    loop {
        let line_start = s.rfind('\n').map_or(0, |i| i + 1);
        let mut comment = None;
        lex(&s[line_start..], |l| {
            if let Lexeme::Comment(start, _) = l {
                comment = Some(start);
            }
        });
        match comment {
            Some(start) => s = s[..line_start + start].trim_end(),
            None => return s,
        }
    }
}

struct Scanned {
    comments: Vec<Comment>,
    /// Where types first nest too deeply: (the outermost `<`, the first `<` past the limit).
    too_deep: Option<(usize, usize)>,
}

/// Collects the `//` comments (not `///` docs) and checks the nesting depth of `<`.
fn scan(file: FileId, text: &str) -> Scanned {
    let mut out = Scanned {
        comments: Vec::new(),
        too_deep: None,
    };
    let mut depth = 0usize;
    let mut outer = 0usize;
    lex(text, |l| match l {
        Lexeme::Comment(start, end) => out.comments.push(Comment {
            text: text[start..end].to_string(),
            span: Span::new(file, start, end),
        }),
        Lexeme::Code(at, b'<') => {
            if depth == 0 {
                outer = at;
            }
            depth += 1;
            if depth > MAX_TYPE_DEPTH && out.too_deep.is_none() {
                out.too_deep = Some((outer, at));
            }
        }
        Lexeme::Code(_, b'>') => depth = depth.saturating_sub(1),
        _ => {}
    });
    out
}

/// The `///` doc comment directly before `pos` (only whitespace and `//` comments between).
fn doc_before(text: &str, pos: usize) -> Option<(usize, usize)> {
    let mut last = None;
    lex(&text[..pos], |l| match l {
        Lexeme::Doc(s, e) => last = Some((s, e)),
        Lexeme::Str(..) | Lexeme::Code(..) => last = None,
        Lexeme::Comment(..) => {}
    });
    last
}

/// What the parser would have accepted, in words. Built from pest's expected tokens and
/// rules, then simplified so that no entry repeats another (`sample` is not listed beside
/// "an item", `_` not beside "identifier").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Expect {
    Token(String),
    Ident,
    Number,
    Str,
    Type,
    Dimension,
    Field,
    Variant,
    Attribute,
    Item,
    PackageName,
    Eof,
}

impl Expect {
    fn describe(&self) -> String {
        match self {
            Expect::Token(t) => format!("`{t}`"),
            Expect::Ident => "identifier".into(),
            Expect::Number => "number".into(),
            Expect::Str => "string".into(),
            Expect::Type => "type".into(),
            Expect::Dimension => "dimension".into(),
            Expect::Field => "field".into(),
            Expect::Variant => "enum variant".into(),
            Expect::Attribute => "attribute".into(),
            Expect::Item => "item (`sample`, `component` or `enum`)".into(),
            Expect::PackageName => "package name".into(),
            Expect::Eof => "end of file".into(),
        }
    }

    /// Literal tokens this entry already stands for.
    fn covers(&self, token: &str) -> bool {
        match self {
            Expect::Ident => token == "_",
            Expect::Number => token == "-",
            Expect::Str => token == "\"",
            Expect::Type => ["list", "map", "_"].contains(&token),
            Expect::Dimension => token == "_",
            Expect::Field | Expect::Variant => token == "_",
            Expect::Attribute => token == "@",
            Expect::Item => ["sample", "component", "enum", "@"].contains(&token),
            _ => false,
        }
    }

    /// Other entries this one makes redundant (a field starts with an identifier).
    fn covers_entry(&self, other: &Expect) -> bool {
        match (self, other) {
            (
                Expect::Field
                | Expect::Variant
                | Expect::Type
                | Expect::Dimension
                | Expect::PackageName,
                Expect::Ident,
            ) => true,
            (Expect::Dimension, Expect::Number) => true,
            (Expect::Item, Expect::Attribute) => true,
            (a, Expect::Token(t)) => a.covers(t),
            _ => false,
        }
    }
}

fn rule_expect(rule: Rule) -> Option<Expect> {
    Some(match rule {
        Rule::ident | Rule::type_name | Rule::variant_ref => Expect::Ident,
        Rule::qualified_name => Expect::PackageName,
        Rule::string => Expect::Str,
        Rule::integer | Rule::dim_fixed | Rule::float => Expect::Number,
        Rule::type_expr => Expect::Type,
        Rule::field => Expect::Field,
        Rule::variant => Expect::Variant,
        Rule::attribute => Expect::Attribute,
        Rule::enum_def
        | Rule::record_def
        | Rule::record_kw
        | Rule::kw_sample
        | Rule::kw_component
        | Rule::kw_enum => Expect::Item,
        Rule::kw_import => Expect::Token("import".into()),
        Rule::kw_package => Expect::Token("package".into()),
        Rule::optional_mark => Expect::Token("?".into()),
        Rule::default_value => Expect::Token("=".into()),
        Rule::dims => Expect::Token("[".into()),
        Rule::dim_any | Rule::dim_named => Expect::Dimension,
        Rule::boolean | Rule::kw_true => Expect::Token("true".into()),
        Rule::kw_false => Expect::Token("false".into()),
        Rule::EOI => Expect::Eof,
        _ => return None,
    })
}

/// The keywords of the grammar (they cannot be names).
const KEYWORDS: [&str; 7] = [
    "package",
    "import",
    "enum",
    "sample",
    "component",
    "true",
    "false",
];

/// Skips whitespace so the caret sits on the offending token.
fn skip_whitespace(text: &str, mut pos: usize) -> usize {
    while pos < text.len() && text.as_bytes()[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// What pest's expected tokens at `pos` say may come there.
fn token_expects(text: &str, pos: usize, tokens: &[String]) -> Vec<Expect> {
    // Right after a letter or digit pest also tries to continue that word; those attempts
    // say nothing about what may come next.
    let after_word = text[..pos]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut out = Vec::new();
    for token in tokens {
        let token = token.clone();
        let range = token.chars().count() == 4 && token.chars().skip(1).take(2).eq(['.', '.']);
        if range || token == "_" {
            if !after_word {
                out.push(if token.starts_with('0') {
                    Expect::Number
                } else {
                    Expect::Ident
                });
            }
        } else if ["sample", "component", "enum"].contains(&token.as_str()) {
            out.push(Expect::Item);
        } else if token == "@" {
            out.push(Expect::Attribute);
        } else if token != "BUILTIN_RULE"
            && !token.trim().is_empty()
            && !token.starts_with("//")
            && token != "\u{feff}"
        {
            // Whitespace, comment and doc starts are always acceptable; listing them is
            // noise.
            out.push(Expect::Token(token));
        }
    }
    out
}

/// Turns a pest error into E0001 with the expected tokens, most specific first.
fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let pest_pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let positives = match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| rule_expect(*r)).collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    // The deepest point any rule reached is where the user's mistake is; pest's own
    // location is where the outermost alternative gave up, and its rule positives describe
    // that location only. Where nothing is known to be expected at the deepest point (pest
    // got there inside a lookahead, as in `enum: u8`), its own location says more.
    let attempts = err.parse_attempts();
    let deepest = attempts.as_ref().map_or(pest_pos, |a| a.max_position);
    // `ParsingToken` is not exported by pest; its Display gives the literal for sensitive
    // tokens, `a..z` for ranges and BUILTIN_RULE for built-ins.
    let tokens: Vec<String> = attempts
        .map(|a| a.expected_tokens().iter().map(|t| t.to_string()).collect())
        .unwrap_or_default();
    let (pos, mut expected) = if deepest > pest_pos {
        let pos = skip_whitespace(text, deepest);
        let tokens = token_expects(text, pos, &tokens);
        if tokens.is_empty() {
            (skip_whitespace(text, pest_pos), positives)
        } else {
            (pos, tokens)
        }
    } else {
        let pos = skip_whitespace(text, pest_pos);
        let mut all = token_expects(text, pos, &tokens);
        all.extend(positives);
        (pos, all)
    };
    expected.sort();
    expected.dedup();
    let simplified: Vec<Expect> = expected
        .iter()
        .filter(|e| !expected.iter().any(|o| o != *e && o.covers_entry(e)))
        .cloned()
        .collect();
    let mut list: Vec<String> = simplified.iter().map(Expect::describe).collect();
    list.dedup();
    let expects = |e: &Expect| simplified.contains(e);
    let expects_token = |t: &str| simplified.contains(&Expect::Token(t.to_string()));

    let doc = doc_before(text, pos);
    let rest = &text[pos.min(text.len())..];
    // Identifiers are ASCII; a non-ASCII letter gets its own message, at that character.
    if let Some(c) = rest
        .chars()
        .next()
        .filter(|c| !c.is_ascii() && c.is_alphanumeric())
    {
        let span = Span::new(file, pos, pos + c.len_utf8());
        return Diagnostic::error(
            codes::SYNTAX,
            format!(
                "non-ASCII character `{c}` (U+{:04X}) in a name: identifiers are ASCII",
                u32::from(c)
            ),
            span,
        )
        .label("not an ASCII letter, digit or `_`")
        .help("names are made of ASCII letters, digits and `_`, and do not start with a digit");
    }
    let found = describe_found(text, pos);
    let end = (pos + found.1).min(text.len()).max(pos);
    let span = Span::new(file, pos, end);
    let word = &text[pos..end];
    let what = match list.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(format!("one of {}", many.join(", "))),
    };
    let message = match (&what, doc) {
        (Some(w), Some(_)) => format!("expected {w} after a doc comment, found {}", found.0),
        (None, Some(_)) => format!("unexpected {} after a doc comment", found.0),
        (Some(w), None) => format!("expected {w}, found {}", found.0),
        (None, None) => format!("unexpected {}", found.0),
    };
    let mut d = Diagnostic::error(codes::SYNTAX, message, span).label("unexpected here");
    if let Some((s, e)) = doc {
        return d
            .secondary(Span::new(file, s, e), "this doc comment documents nothing")
            .help(
                "a `///` doc comment must be followed by the item, field or variant it \
                 documents (before `package`, it documents the module); use `//` for other \
                 comments",
            );
    }
    // Suggest only keywords that are allowed here, and never the word itself.
    let mut allowed: Vec<&str> = ["import", "package"]
        .into_iter()
        .filter(|k| expects_token(k))
        .collect();
    if expects(&Expect::Item) {
        allowed.extend(["sample", "component", "enum"]);
    }
    let is_word = found.0.starts_with("identifier") || found.0.starts_with("keyword");
    let suggestion = crate::diag::suggest(word, allowed.iter().copied()).filter(|k| *k != word);
    if let (true, Some(k)) = (is_word, suggestion) {
        d = d.help(format!("did you mean `{k}`?"));
    } else if is_word && word == "package" {
        d = d.help("`package` must be the first declaration of the file");
    } else if is_word && word == "import" {
        d = d.help("imports come after `package` and before every item");
    } else if is_word
        && KEYWORDS.contains(&word)
        && (expects(&Expect::Ident) || expects(&Expect::Field) || expects(&Expect::Variant))
    {
        d = d.help(format!(
            "`{word}` is a keyword and cannot be used as a name"
        ));
    } else if expects_token(",") && expects_token("}") && found.0.starts_with("identifier") {
        d = d.help("fields and enum variants are separated by commas");
    }
    d
}

/// A short description of what stands at `pos`, and its length for the caret.
fn describe_found(text: &str, pos: usize) -> (String, usize) {
    let rest = &text[pos.min(text.len())..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c.is_ascii_alphabetic() || c == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let len = word.len();
        let kind = if KEYWORDS.contains(&word.as_str()) {
            "keyword"
        } else {
            "identifier"
        };
        (format!("{kind} `{word}`"), len)
    } else if c.is_ascii_digit() {
        let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let len = num.len();
        (format!("number `{num}`"), len)
    } else if !c.is_ascii() {
        (format!("`{c}` (U+{:04X})", u32::from(c)), c.len_utf8())
    } else {
        (format!("`{c}`"), c.len_utf8())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_design_example_shapes() {
        let src = "package a.b;\nimport \"c.schema\";\n/// doc\nsample S {\n  /// field doc\n  x: f32[H = 4, _, 3]? = 1.5 @range(0, 2),\n  y: list<map<str, u8[2]>>, // trailing\n}\n";
        let f = parse(0, src).unwrap();
        assert_eq!(f.package.unwrap().value, "a.b");
        assert_eq!(f.imports[0].path.value, "c.schema");
        assert_eq!(f.comments.len(), 1);
        let Item::Record(r) = &f.items[0] else {
            panic!()
        };
        assert_eq!(r.docs, vec!["doc"]);
        assert_eq!(r.fields[0].docs, vec!["field doc"]);
        assert_eq!(r.fields[0].dims_len(), 3);
        assert!(r.fields[0].optional.is_some());
        assert_eq!(r.fields[0].defaults[0].kind, LitKind::Float(1.5));
    }

    #[test]
    fn spans_stop_before_trailing_comments_but_not_inside_strings() {
        let src = "sample S {\n  x: str = \"a // b\" // why\n  , y: u8[2] // c\n}";
        let f = parse(0, src).unwrap();
        let Item::Record(r) = &f.items[0] else {
            panic!()
        };
        let text = |s: Span| &src[s.start..s.end];
        assert_eq!(text(r.fields[0].span), "x: str = \"a // b\"");
        assert_eq!(text(r.fields[1].span), "y: u8[2]");
        let comments: Vec<&str> = f.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(comments, ["// why", "// c"]);
    }

    #[test]
    fn syntax_error_lists_expected_tokens() {
        let d = parse(0, "sample S { x f32 }").unwrap_err();
        assert_eq!(d.code, codes::SYNTAX);
        assert!(d.message.contains("`:`"), "{}", d.message);
    }

    impl FieldItem {
        fn dims_len(&self) -> usize {
            self.ty.dims.as_ref().map_or(0, |d| d.len())
        }
    }
}

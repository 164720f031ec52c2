//! Parsing: source text → [`ast::File`] with spans, using the pest grammar in
//! `grammar/schema.pest`. A syntax error becomes an `E0001` diagnostic listing the tokens
//! that would have been accepted at the point of failure.

use crate::ast::*;
use crate::diag::{codes, Diagnostic, FileId, Span};
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/schema.pest"]
struct SchemaParser;

/// Parses one file. Comments are collected too, for `schemac fmt`.
pub fn parse(file: FileId, text: &str) -> Result<File, Box<Diagnostic>> {
    pest::set_error_detail(true);
    let mut pairs = SchemaParser::parse(Rule::schema, text)
        .map_err(|e| Box::new(syntax_error(file, text, e)))?;
    let root = pairs
        .next()
        .expect("the schema rule always yields one pair");
    let lower = Lower { file };
    let mut out = File {
        package: None,
        imports: Vec::new(),
        items: Vec::new(),
        comments: scan_comments(file, text),
        span: lower.span(&root),
    };
    for pair in root.into_inner() {
        match pair.as_rule() {
            Rule::package_decl => {
                let name = pair.into_inner().nth(1).expect("package name");
                out.package = Some(lower.spanned(&name, name.as_str().to_string()));
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

struct Lower {
    file: FileId,
}

impl Lower {
    /// The pair's span without trailing whitespace (pest keeps the implicit whitespace an
    /// optional trailing part tried to consume, which would put carets on the next line).
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        let end = s.start() + pair.as_str().trim_end().len();
        Span::new(self.file, s.start(), end)
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
        let mut docs = Vec::new();
        let mut attrs = Vec::new();
        let mut name = None;
        let mut variants = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc if name.is_none() => docs.push(doc_text(&p)),
                Rule::attribute => attrs.push(self.attr(p)),
                Rule::ident => name = Some(self.ident(&p)),
                Rule::variant_list => {
                    for v in p.into_inner() {
                        let mut vdocs = Vec::new();
                        let mut vname = None;
                        for q in v.into_inner() {
                            match q.as_rule() {
                                Rule::doc => vdocs.push(doc_text(&q)),
                                _ => vname = Some(self.ident(&q)),
                            }
                        }
                        variants.push(VariantItem {
                            docs: vdocs,
                            name: vname.expect("variant name"),
                        });
                    }
                }
                _ => {}
            }
        }
        EnumItem {
            docs,
            attrs,
            name: name.expect("enum name"),
            variants,
            span,
        }
    }

    fn record_def(&self, pair: Pair<Rule>) -> RecordItem {
        let span = self.span(&pair);
        let mut docs = Vec::new();
        let mut attrs = Vec::new();
        let mut kind = None;
        let mut name = None;
        let mut fields = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc if name.is_none() => docs.push(doc_text(&p)),
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
            attrs,
            kind: kind.expect("record kind"),
            name: name.expect("record name"),
            fields,
            span,
        }
    }

    fn field(&self, pair: Pair<Rule>) -> FieldItem {
        let span = self.span(&pair);
        let mut docs = Vec::new();
        let mut name = None;
        let mut ty = None;
        let mut optional = None;
        let mut defaults = Vec::new();
        let mut attrs = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::doc => docs.push(doc_text(&p)),
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

/// Finds `//` comments (not `///` docs) outside string literals.
fn scan_comments(file: FileId, text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if text[i..].starts_with("//") {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            if !text[i..].starts_with("///") {
                out.push(Comment {
                    text: text[i..end].trim_end().to_string(),
                    span: Span::new(file, i, end),
                });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// Turns a pest error into E0001 with the expected tokens, most specific first.
fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let mut expected: Vec<String> = Vec::new();
    let mut pos = match err.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    // The deepest point any rule reached is where the user's mistake is; pest's own
    // location is where the outermost alternative gave up.
    let attempts = err.parse_attempts();
    let moved = attempts.as_ref().is_some_and(|a| a.max_position > pos);
    if let (true, Some(a)) = (moved, &attempts) {
        pos = a.max_position;
    }
    // Skip whitespace so the caret sits on the offending token.
    while pos < text.len() && text.as_bytes()[pos].is_ascii_whitespace() {
        pos += 1;
    }
    if let Some(attempts) = &attempts {
        // `ParsingToken` is not exported by pest; its Display gives the literal for
        // sensitive tokens, `a..z` for ranges and BUILTIN_RULE for built-ins.
        for token in attempts.expected_tokens() {
            let token = token.to_string();
            let is_literal = token != "BUILTIN_RULE" && !(token.len() == 4 && &token[1..3] == "..");
            // Whitespace and comment starts are always acceptable; listing them is noise.
            if is_literal && !token.trim().is_empty() && !token.starts_with("//") {
                expected.push(format!("`{token}`"));
            }
        }
    }
    // pest's rule positives describe its own (shallower) location; use them only there.
    if let (false, pest::error::ErrorVariant::ParsingError { positives, .. }) =
        (moved, &err.variant)
    {
        for rule in positives {
            if let Some(name) = rule_name(*rule) {
                expected.push(name.to_string());
            }
        }
    }
    expected.sort();
    expected.dedup();
    let found = describe_found(text, pos);
    let end = (pos + found.1).min(text.len()).max(pos);
    let span = Span::new(file, pos, end);
    let message = match expected.as_slice() {
        [] => format!("unexpected {}", found.0),
        [one] => format!("expected {one}, found {}", found.0),
        many => format!("expected one of {}, found {}", many.join(", "), found.0),
    };
    let mut d = Diagnostic::error(codes::SYNTAX, message, span).label("unexpected here");
    let word = &text[pos..end];
    let keywords = ["sample", "component", "enum", "import", "package"];
    let keyword_expected = keywords
        .iter()
        .any(|k| expected.contains(&format!("`{k}`")));
    if let (true, Some(k)) = (keyword_expected, crate::diag::suggest(word, keywords)) {
        d = d.help(format!("did you mean `{k}`?"));
    } else if expected.iter().any(|e| e == "`,`") && found.0.starts_with("identifier") {
        d = d.help("fields and enum variants are separated by commas");
    }
    d
}

fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::type_name | Rule::variant_ref => "identifier",
        Rule::qualified_name => "package name",
        Rule::string => "string",
        Rule::integer | Rule::dim_fixed => "integer",
        Rule::float => "number",
        Rule::type_expr => "type",
        Rule::field => "field",
        Rule::variant => "enum variant",
        Rule::attribute => "attribute",
        Rule::enum_def | Rule::record_def => "item (`enum`, `component` or `sample`)",
        Rule::record_kw | Rule::kw_sample | Rule::kw_component => "`sample` or `component`",
        Rule::kw_enum => "`enum`",
        Rule::kw_import => "`import`",
        Rule::kw_package => "`package`",
        Rule::optional_mark => "`?`",
        Rule::default_value => "`=`",
        Rule::dims => "`[`",
        Rule::dim_any | Rule::dim_named => "dimension",
        Rule::boolean | Rule::kw_true | Rule::kw_false => "`true` or `false`",
        Rule::EOI => "end of file",
        _ => return None,
    })
}

/// A short description of what stands at `pos`, and its length for the caret.
fn describe_found(text: &str, pos: usize) -> (String, usize) {
    let rest = &text[pos.min(text.len())..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c.is_alphabetic() || c == '_' {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let len = word.len();
        (format!("identifier `{word}`"), len)
    } else if c.is_ascii_digit() {
        let num: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let len = num.len();
        (format!("number `{num}`"), len)
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

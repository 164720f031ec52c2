//! The syntax tree: what the user wrote, with a span on every node, before any resolution.
//!
//! Produced by `parse`, read by `check` (which turns it into the IR) and by `fmt` (which
//! prints it back canonically). Nothing here is validated beyond the grammar.
//!
//! Every `docs` list (the text of each `///` line, without the slashes and one space) has a
//! `doc_spans` list beside it with the span of each line, so `fmt` can put ordinary comments
//! back between doc lines where the user wrote them.

use crate::diag::Span;

#[derive(Clone, Debug)]
pub struct File {
    /// `///` lines before `package`: the module's documentation.
    pub docs: Vec<String>,
    pub doc_spans: Vec<Span>,
    pub package: Option<Spanned<String>>,
    pub imports: Vec<Import>,
    pub items: Vec<Item>,
    /// Ordinary `//` comments, in source order (kept for `schemac fmt`).
    pub comments: Vec<Comment>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

pub type Ident = Spanned<String>;

#[derive(Clone, Debug)]
pub struct Import {
    pub path: Spanned<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Item {
    Enum(EnumItem),
    Record(RecordItem),
}

impl Item {
    pub fn name(&self) -> &Ident {
        match self {
            Item::Enum(e) => &e.name,
            Item::Record(r) => &r.name,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Enum(e) => e.span,
            Item::Record(r) => r.span,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EnumItem {
    pub docs: Vec<String>,
    pub doc_spans: Vec<Span>,
    pub attrs: Vec<Attr>,
    pub name: Ident,
    pub variants: Vec<VariantItem>,
    /// `///` lines after the last variant, documenting nothing (kept for `fmt`).
    pub end_docs: Vec<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct VariantItem {
    pub docs: Vec<String>,
    pub doc_spans: Vec<Span>,
    pub name: Ident,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    Sample,
    Component,
}

#[derive(Clone, Debug)]
pub struct RecordItem {
    pub docs: Vec<String>,
    pub doc_spans: Vec<Span>,
    pub attrs: Vec<Attr>,
    pub kind: Spanned<RecordKind>,
    pub name: Ident,
    pub fields: Vec<FieldItem>,
    /// `///` lines after the last field, documenting nothing (kept for `fmt`).
    pub end_docs: Vec<Spanned<String>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FieldItem {
    pub docs: Vec<String>,
    pub doc_spans: Vec<Span>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub optional: Option<Span>,
    pub defaults: Vec<Lit>,
    pub attrs: Vec<Attr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub dims: Option<Vec<DimExpr>>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum TypeKind {
    Named(Ident),
    List(Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
}

#[derive(Clone, Debug)]
pub struct DimExpr {
    pub kind: DimKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum DimKind {
    /// As written; zero and negative sizes are rejected by the checker, not the grammar.
    Fixed(i128),
    /// `H` or `H = 224`.
    Named(String, Option<Spanned<i128>>),
    Any,
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: Ident,
    pub args: Vec<Lit>,
    /// Whether parentheses were written (`@packed` vs `@packed()`).
    pub parens: bool,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Lit {
    pub kind: LitKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LitKind {
    Bool(bool),
    /// Integer literal; out-of-range values are caught by the checker.
    Int(i128),
    Float(f64),
    Str(String),
    /// A bare identifier: an enum variant (defaults) or a mode (`@bitpack(aggregate)`).
    Ident(String),
}

//! Formatting of the generated Rust: the rendered text is cut into top-level items, each
//! item is parsed with syn and printed with prettyplease, and the results are joined in
//! order.
//!
//! Parsing the whole file at once keeps a syn tree of the entire output alive (about 50
//! bytes of tree per byte of source: a 5 MB file needed 250 MB), so memory grew with the
//! schema instead of with its largest record. Item by item, peak memory is bounded by the
//! largest item, and the items are independent, so they are formatted on every core.
//! The output is identical to formatting the whole file: prettyplease prints top-level
//! items one after another with nothing between them.

use std::thread;

/// Formats `body` (a sequence of Rust items). On a syntax error, returns syn's message
/// together with the offending item's text.
pub fn format_items(body: &str) -> Result<String, String> {
    let items = split_items(body);
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    // Contiguous runs of items per worker, joined in order afterwards: deterministic
    // whatever the scheduling.
    let per = items.len().div_ceil(workers.max(1)).max(1);
    let chunks: Vec<&[&str]> = items.chunks(per).collect();
    let results: Vec<Result<String, String>> = if chunks.len() <= 1 {
        chunks.iter().map(|c| format_run(c)).collect()
    } else {
        thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|c| s.spawn(move || format_run(c)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("formatter thread panicked".into()))
                })
                .collect()
        })
    };
    let mut out = String::with_capacity(body.len());
    for r in results {
        out.push_str(&r?);
    }
    Ok(out)
}

/// Formats a run of items, one syn parse per item.
fn format_run(items: &[&str]) -> Result<String, String> {
    let mut out = String::new();
    for item in items {
        let file = syn::parse_file(item).map_err(|e| {
            let head: String = item.trim_start().chars().take(200).collect();
            format!("{e} (in the item starting `{head}`)")
        })?;
        out.push_str(&prettyplease::unparse(&file));
    }
    Ok(out)
}

/// Cuts Rust source into its top-level items (attributes and doc comments stay with the
/// item they precede). A lexical scan: brackets are counted outside comments, strings and
/// char literals; an item ends at a top-level `;`, or at a top-level `}` that is not
/// followed by something continuing the same item (`;`, `else`, `,`, `.`, `?`, an operator).
pub fn split_items(src: &str) -> Vec<&str> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let mut start = 0usize;
    let mut depth = 0i64;
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(b, i);
                continue;
            }
            b'"' => {
                i = skip_string(b, i);
                continue;
            }
            b'r' if is_raw_string_start(b, i) => {
                i = skip_raw_string(b, i);
                continue;
            }
            b'\'' => {
                i = skip_char_or_lifetime(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth -= 1,
            b'}' => {
                depth -= 1;
                if depth == 0 && !continues_item(b, i + 1) {
                    items.push(&src[start..=i]);
                    start = i + 1;
                }
            }
            b';' if depth == 0 => {
                items.push(&src[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if !src[start..].trim().is_empty() {
        items.push(&src[start..]);
    }
    items
}

/// Whether the text after a top-level `}` at `at` still belongs to the same item
/// (`const X: T = T { .. };`, `if .. { } else { }`).
fn continues_item(b: &[u8], mut at: usize) -> bool {
    while at < b.len() && b[at].is_ascii_whitespace() {
        at += 1;
    }
    match b.get(at) {
        None => false,
        Some(b';' | b',' | b'.' | b'?' | b')' | b']' | b'}') => true,
        Some(c) if b"+-*%&|^=<>!".contains(c) => true,
        Some(_) => b[at..].starts_with(b"else") || b[at..].starts_with(b"as "),
    }
}

fn skip_block_comment(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// Past a `"..."` string starting at `i` (also the tail of `b"..."`).
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `r"`, `r#"`, `br"`, ... at `i` (the `r`), and not the end of an identifier like `for"`.
fn is_raw_string_start(b: &[u8], i: usize) -> bool {
    let prev_ident = i > 0 && {
        let p = b[i - 1];
        (p.is_ascii_alphanumeric() || p == b'_') && !(p == b'b' && (i < 2 || !is_ident(b[i - 2])))
    };
    if prev_ident {
        return false;
    }
    let mut j = i + 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    b.get(j) == Some(&b'"')
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn skip_raw_string(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    let mut hashes = 0usize;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    j += 1; // the opening quote
    while j < b.len() {
        if b[j] == b'"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return j + 1 + hashes;
        }
        j += 1;
    }
    j
}

/// Past a char literal (`'x'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`) at `i`.
fn skip_char_or_lifetime(b: &[u8], i: usize) -> usize {
    if b.get(i + 1) == Some(&b'\\') {
        let mut j = i + 2;
        while j < b.len() && b[j] != b'\'' {
            j += 1;
        }
        return j + 1;
    }
    // One (possibly multi-byte) character, then a closing quote: a char literal.
    let len = b
        .get(i + 1)
        .map_or(1, |&c| if c < 0x80 { 1 } else { utf8_len(c) });
    if b.get(i + 1 + len) == Some(&b'\'') {
        return i + 2 + len;
    }
    i + 1
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_cut_at_top_level_only() {
        let src = r##"
/// doc
#[derive(Debug)]
pub struct A { x: u8 }
impl A { fn f(&self) -> u8 { if true { 1 } else { 2 } } }
const S: A = A { x: b'}' };
const T: &str = "}{;";
const R: &str = r#"}"#;
fn g<'a>(x: &'a str) -> &'a str { /* } */ x } // }
use a::b;
"##;
        let items = split_items(src);
        assert_eq!(items.len(), 7, "{items:#?}");
        assert!(items[0].contains("pub struct A"));
        assert!(items[2].trim_start().starts_with("const S"));
        assert!(items[5].contains("fn g") && items[5].trim_end().ends_with('}'));
        assert!(items[6].contains("use a::b;"));
    }

    #[test]
    fn item_by_item_formatting_equals_whole_file_formatting() {
        let src = "pub struct A{x:u8} impl A{pub fn new()->Self{Self{x:1}}} \
                   const S:A=A{x:2}; /// d\n pub enum E{A,B} use std::fmt;";
        let whole = prettyplease::unparse(&syn::parse_file(src).unwrap());
        assert_eq!(format_items(src).unwrap(), whole);
    }
}

//! The pictures of `schemac layout --format svg` and `schemac diff --format svg`: a record's
//! aggregate bit layout (DESIGN §5) drawn for reviewers, one row per 32-bit word, bit 0 of
//! each word on the left (the stream is LSB-first, so it reads like text), one colour per
//! leaf, word offsets down the side and every leaf's bit range in a legend. A diff draws
//! the old layout above the new one and outlines each leaf that moved, changed width, was
//! added or was removed.
//!
//! The output is deterministic (snapshotted) and plain SVG 1.1: no scripts, no external
//! fonts, a `<title>` on every leaf segment for a tooltip in a browser.

use crate::ir::{self, Record, Schema};
use std::fmt::Write;

const WORD_BITS: u64 = 32;
/// Pixels per bit: 32 bits make a 640 px row.
const BIT_W: u64 = 20;
const ROW_H: u64 = 26;
/// Room for the word labels left of the grid.
const LEFT: u64 = 84;
const WIDTH: u64 = LEFT + WORD_BITS * BIT_W + 24;
const LINE_H: u64 = 18;
/// The width of a character of the 11 px monospace labels, for deciding what fits.
const CHAR_W: u64 = 7;

/// Fill colours, one per leaf in declaration order (a colour-blind-safe qualitative
/// palette, lightened so that black labels stay readable).
const PALETTE: [&str; 10] = [
    "#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#fb9a99", "#8dd3c7", "#bebada",
    "#fccde5", "#d9d9d9",
];

/// How a leaf changed between the two versions a diff draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    Same,
    /// Same name, another offset or width (or renamed: another name, same bits).
    Changed,
    Added,
    Removed,
}

impl Mark {
    fn stroke(self) -> Option<&'static str> {
        match self {
            Mark::Same => None,
            Mark::Changed => Some("#d95f02"),
            Mark::Added => Some("#1b9e77"),
            Mark::Removed => Some("#e7298a"),
        }
    }
}

/// One leaf's stretch of the bitstream, as drawn.
#[derive(Clone)]
struct Bar {
    path: String,
    ty: String,
    offset: u64,
    bits: u64,
    elements: u64,
    colour: usize,
    mark: Mark,
    /// What the legend says about the change (`moved from bit 12`), if anything.
    note: String,
    /// The paths this leaf had under its field's `@alias` names (`steps` for `moves`).
    old_paths: Vec<String>,
}

impl Bar {
    fn end(&self) -> u64 {
        self.offset + self.bits * self.elements
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The record's leaves in its aggregate stream, or `None` when it has no aggregate form.
fn bars(r: &Record) -> Option<Vec<Bar>> {
    r.bitpack.aggregate?;
    Some(
        r.leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                Some(Bar {
                    path: l.path.clone(),
                    ty: l.type_desc(),
                    offset: l.bit_offset?,
                    bits: u64::from(l.bits?),
                    elements: l.elements?,
                    colour: i,
                    mark: Mark::Same,
                    note: String::new(),
                    old_paths: aliased_paths(r, l),
                })
            })
            .collect(),
    )
}

/// `l.path` with its top-level field renamed to each of that field's aliases.
fn aliased_paths(r: &Record, l: &ir::Leaf) -> Vec<String> {
    let Some((top, rest)) = l.segments.split_first() else {
        return Vec::new();
    };
    let Some(field) = r.fields.iter().find(|f| &f.name == top) else {
        return Vec::new();
    };
    field
        .aliases
        .iter()
        .map(|a| {
            std::iter::once(a.as_str())
                .chain(rest.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

/// Why a record has no aggregate form, in the words of the layout table.
fn no_aggregate(r: &Record) -> String {
    match r.bitpack.mode {
        ir::BitpackMode::Off => "no aggregate packed form (@bitpack(off))".into(),
        ir::BitpackMode::Field => "no aggregate packed form (@bitpack(field))".into(),
        _ => "no aggregate packed form (not every leaf has @bits and a fixed shape)".into(),
    }
}

fn total_bits(r: &Record) -> u64 {
    r.bitpack.aggregate.map_or(0, |a| a.total_bits)
}

/// A picture being drawn top to bottom.
struct Canvas {
    body: String,
    y: u64,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas {
            body: String::new(),
            y: 12,
        }
    }

    fn text(&mut self, x: u64, y: u64, class: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x}" y="{y}" class="{class}">{}</text>"#,
            escape(text)
        );
    }

    fn title(&mut self, text: &str) {
        self.y += 22;
        self.text(12, self.y, "h1", text);
        self.y += 6;
    }

    fn heading(&mut self, text: &str) {
        self.y += 20;
        self.text(12, self.y, "h2", text);
        self.y += 4;
    }

    fn line(&mut self, text: &str) {
        self.y += LINE_H;
        self.text(LEFT, self.y, "note", text);
    }

    /// One row per word of `total` bits; `bars` must not overlap (they come from the IR's
    /// offsets, which never do).
    fn grid(&mut self, bars: &[Bar], total: u64) {
        let words = total.div_ceil(WORD_BITS).max(1);
        self.y += 16;
        for bit in [0, 8, 16, 24, 31] {
            self.text(
                LEFT + bit * BIT_W + BIT_W / 2,
                self.y,
                "tick",
                &bit.to_string(),
            );
        }
        self.y += 4;
        let top = self.y;
        for w in 0..words {
            let y = top + w * ROW_H;
            self.text(
                8,
                y + ROW_H / 2 + 4,
                "word",
                &format!("w{w} @{}", w * WORD_BITS),
            );
        }
        for bar in bars {
            self.bar(bar, top);
        }
        // Padding: the bits of the last word past the stream (always zero on the wire).
        if total % WORD_BITS != 0 {
            let from = total % WORD_BITS;
            let y = top + (words - 1) * ROW_H;
            let _ = writeln!(
                self.body,
                r#"<rect x="{}" y="{y}" width="{}" height="{ROW_H}" class="pad"><title>padding: bits {total}..{}</title></rect>"#,
                LEFT + from * BIT_W,
                (WORD_BITS - from) * BIT_W,
                words * WORD_BITS
            );
        }
        let _ = writeln!(
            self.body,
            r#"<rect x="{LEFT}" y="{top}" width="{}" height="{}" class="frame"/>"#,
            WORD_BITS * BIT_W,
            words * ROW_H
        );
        self.y = top + words * ROW_H + 4;
    }

    /// A leaf's stretch, split at word boundaries, with a thin line between its values.
    fn bar(&mut self, bar: &Bar, top: u64) {
        let tip = format!(
            "{}: {} (bits {}..{}{})",
            bar.path,
            bar.ty,
            bar.offset,
            bar.end(),
            if bar.note.is_empty() {
                String::new()
            } else {
                format!("; {}", bar.note)
            }
        );
        let mut at = bar.offset;
        let mut first = true;
        while at < bar.end() {
            let word = at / WORD_BITS;
            let from = at % WORD_BITS;
            let to = (bar.end() - word * WORD_BITS).min(WORD_BITS);
            let (x, y) = (LEFT + from * BIT_W, top + word * ROW_H);
            let w = (to - from) * BIT_W;
            let stroke = match bar.mark.stroke() {
                Some(colour) => format!(r#" style="stroke: {colour}; stroke-width: 3""#),
                None => String::new(),
            };
            let _ = writeln!(
                self.body,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{ROW_H}" fill="{}" class="leaf"{stroke}><title>{}</title></rect>"#,
                PALETTE[bar.colour % PALETTE.len()],
                escape(&tip)
            );
            // Value boundaries inside this piece (a 1-bit value would be all lines).
            if bar.bits >= 2 {
                let mut b = bar.offset + (at - bar.offset).div_ceil(bar.bits) * bar.bits;
                if b == at {
                    b += bar.bits;
                }
                while b < word * WORD_BITS + to {
                    let bx = LEFT + (b % WORD_BITS) * BIT_W;
                    let _ = writeln!(
                        self.body,
                        r#"<line x1="{bx}" y1="{}" x2="{bx}" y2="{}" class="value"/>"#,
                        y + ROW_H - 6,
                        y + ROW_H
                    );
                    b += bar.bits;
                }
            }
            let label = if first {
                bar.path.clone()
            } else {
                format!("{} …", bar.path)
            };
            if (label.chars().count() as u64) * CHAR_W + 6 <= w {
                self.text(x + 4, y + ROW_H / 2 + 4, "label", &label);
            }
            first = false;
            at = word * WORD_BITS + to;
        }
    }

    /// One line per leaf: its colour, path, type and bit range (and the change, in a diff).
    fn legend(&mut self, bars: &[Bar]) {
        for bar in bars {
            self.y += LINE_H;
            let stroke = match bar.mark.stroke() {
                Some(colour) => format!(r#" style="stroke: {colour}; stroke-width: 2""#),
                None => String::new(),
            };
            let _ = writeln!(
                self.body,
                r#"<rect x="{LEFT}" y="{}" width="12" height="12" fill="{}" class="leaf"{stroke}/>"#,
                self.y - 10,
                PALETTE[bar.colour % PALETTE.len()]
            );
            let values = if bar.elements == 1 {
                String::new()
            } else {
                format!(", {} values", bar.elements)
            };
            let note = if bar.note.is_empty() {
                String::new()
            } else {
                format!("  ({})", bar.note)
            };
            self.text(
                LEFT + 18,
                self.y,
                "legend",
                &format!(
                    "{}: {}  bits {}..{}{values}{note}",
                    bar.path,
                    bar.ty,
                    bar.offset,
                    bar.end()
                ),
            );
        }
    }

    /// The record's size line: `1049 bits: 33 words in memory, compact 132 bytes`.
    fn sizes(&mut self, r: &Record) {
        if let Some(a) = r.bitpack.aggregate {
            let n = |count: u64, one: &str| {
                format!("{count} {one}{}", if count == 1 { "" } else { "s" })
            };
            self.line(&format!(
                "{} bits: {} in memory; compact form {} ({} + {})",
                a.total_bits,
                n(a.words, "word"),
                n(a.compact_bytes, "byte"),
                n(a.words_len, "word"),
                n(a.tail_bytes, "tail byte")
            ));
        }
    }

    fn finish(self) -> String {
        let height = self.y + 16;
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}">"#
        );
        out.push_str(STYLE);
        let _ = writeln!(
            out,
            r##"<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
        );
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}

const STYLE: &str = r#"<style>
text { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 11px; fill: #222222; }
.h1 { font-size: 15px; font-weight: bold; }
.h2 { font-size: 13px; font-weight: bold; }
.tick { fill: #666666; text-anchor: middle; }
.word { fill: #666666; }
.leaf { stroke: #555555; stroke-width: 0.5; }
.value { stroke: #555555; stroke-width: 0.5; }
.pad { fill: #eeeeee; stroke: #bbbbbb; stroke-width: 0.5; stroke-dasharray: 3 2; }
.frame { fill: none; stroke: #333333; stroke-width: 1; }
</style>
"#;

fn kind(r: &Record) -> &'static str {
    match r.kind {
        ir::RecordKind::Sample => "sample",
        ir::RecordKind::Component => "component",
    }
}

/// `schemac layout --format svg`: every record the schema declares (or only `record`),
/// each with its grid and legend; a record without an aggregate form gets a line saying so.
pub fn layout_svg(schema: &Schema, record: Option<&str>) -> String {
    let mut c = Canvas::new();
    let name = match &schema.package {
        Some(p) => format!("package {p}"),
        None => "schema".to_string(),
    };
    c.title(&format!(
        "{name}: aggregate bit layouts (bit 0 of each word on the left)"
    ));
    for r in schema.records.iter().filter(|r| !r.imported) {
        if record.is_some_and(|n| n != r.name) {
            continue;
        }
        c.heading(&format!("{} {}", kind(r), r.name));
        match bars(r) {
            Some(bars) => {
                c.sizes(r);
                c.grid(&bars, total_bits(r));
                c.legend(&bars);
            }
            None => c.line(&no_aggregate(r)),
        }
    }
    c.finish()
}

/// Old and new leaves of one record, matched by path, then by `@alias`; an unmatched new
/// leaf at the same offset and width as an unmatched old one is a rename too. Colours follow the new order, so
/// a leaf keeps its colour across the two drawings.
fn compare(old: &[Bar], new: &[Bar]) -> (Vec<Bar>, Vec<Bar>) {
    use std::collections::HashMap;
    let (mut old, mut new) = (old.to_vec(), new.to_vec());
    let by_path: HashMap<&str, usize> = old
        .iter()
        .enumerate()
        .map(|(j, o)| (o.path.as_str(), j))
        .collect();
    // `owner[j]`: the new leaf old leaf `j` became.
    let mut owner: Vec<Option<usize>> = vec![None; old.len()];
    let mut matched: Vec<Option<usize>> = vec![None; new.len()];
    for (i, n) in new.iter().enumerate() {
        if let Some(&j) = by_path.get(n.path.as_str()) {
            (matched[i], owner[j]) = (Some(j), Some(i));
        }
    }
    let bits_of = |b: &Bar| (b.offset, b.bits, b.elements);
    let mut by_bits: HashMap<(u64, u64, u64), usize> = HashMap::new();
    for (j, o) in old.iter().enumerate().rev() {
        if owner[j].is_none() {
            by_bits.insert(bits_of(o), j);
        }
    }
    for i in 0..new.len() {
        if matched[i].is_some() {
            continue;
        }
        let n = &new[i];
        let free = |j: &usize| owner[*j].is_none();
        let Some(j) = n
            .old_paths
            .iter()
            .filter_map(|p| by_path.get(p.as_str()).copied())
            .find(free)
            .or_else(|| by_bits.get(&bits_of(n)).copied().filter(free))
        else {
            continue;
        };
        (matched[i], owner[j]) = (Some(j), Some(i));
        new[i].note = format!("renamed from {}", old[j].path);
        new[i].mark = Mark::Changed;
    }
    let mut next = new.len();
    for (j, o) in old.iter_mut().enumerate() {
        match owner[j] {
            Some(i) => o.colour = i,
            None => {
                o.colour = next;
                next += 1;
                o.mark = Mark::Removed;
                o.note = "removed".into();
            }
        }
    }
    for (i, n) in new.iter_mut().enumerate() {
        n.colour = i;
        let Some(j) = matched[i] else {
            n.mark = Mark::Added;
            n.note = "added".into();
            continue;
        };
        let o = &old[j];
        let mut notes = Vec::new();
        if !n.note.is_empty() {
            notes.push(n.note.clone());
        }
        if o.offset != n.offset {
            notes.push(format!("moved from bit {}", o.offset));
        }
        if o.bits != n.bits {
            notes.push(format!("{} → {} bits per value", o.bits, n.bits));
        }
        if o.elements != n.elements {
            notes.push(format!("{} → {} values", o.elements, n.elements));
        }
        if o.ty != n.ty && o.bits == n.bits && o.elements == n.elements {
            notes.push(format!("was {}", o.ty));
        }
        if !notes.is_empty() {
            n.mark = Mark::Changed;
            n.note = notes.join("; ");
        }
    }
    (old, new)
}

/// What a diff compares: one schema's two versions and how to name them.
pub struct Versions<'a> {
    pub old: &'a Schema,
    pub new: &'a Schema,
    pub old_name: &'a str,
    pub new_name: &'a str,
}

fn same_layout(a: &Record, b: &Record) -> bool {
    let key = |r: &Record| -> Vec<String> {
        r.leaves
            .iter()
            .map(|l| {
                let (offset, bits, n) = (l.bit_offset, l.bits, l.elements);
                format!("{} {} {offset:?} {bits:?} {n:?}", l.path, l.type_desc())
            })
            .collect()
    };
    a.bitpack.aggregate == b.bitpack.aggregate && key(a) == key(b)
}

/// `schemac diff --format svg`: for every record whose aggregate layout changed, the old
/// layout above the new one, with each moved, resized, added, removed or renamed leaf
/// outlined and explained in the legend. Records whose layout did not change are listed.
pub fn diff_svg(versions: &[Versions<'_>]) -> String {
    let mut c = Canvas::new();
    for v in versions {
        c.title(&format!(
            "{} → {}: aggregate bit layouts",
            v.old_name, v.new_name
        ));
        let mut unchanged = Vec::new();
        let mut names: Vec<&str> = v
            .new
            .records
            .iter()
            .filter(|r| !r.imported)
            .map(|r| r.name.as_str())
            .collect();
        let in_new: std::collections::HashSet<&str> = names.iter().copied().collect();
        names.extend(
            v.old
                .records
                .iter()
                .filter(|r| !r.imported && !in_new.contains(r.name.as_str()))
                .map(|r| r.name.as_str()),
        );
        for name in names {
            let old = v.old.record(name).filter(|r| !r.imported);
            let new = v.new.record(name).filter(|r| !r.imported);
            if let (Some(o), Some(n)) = (old, new) {
                if same_layout(o, n) {
                    unchanged.push(name);
                    continue;
                }
            }
            let (old_bars, new_bars) = (old.and_then(bars), new.and_then(bars));
            if old_bars.is_none() && new_bars.is_none() {
                // Changed, but neither side has a bitstream to draw.
                unchanged.push(name);
                continue;
            }
            let shown = new.or(old).expect("a name comes from one side");
            c.heading(&format!("{} {}", kind(shown), name));
            let (ob, nb) = compare(
                old_bars.as_deref().unwrap_or(&[]),
                new_bars.as_deref().unwrap_or(&[]),
            );
            for (side, record, drawn, present) in [
                ("old", old, ob, old_bars.is_some()),
                ("new", new, nb, new_bars.is_some()),
            ] {
                c.y += 6;
                c.text(12, c.y + 12, "h2", side);
                match record {
                    None => c.line(&format!("{side}: the record does not exist")),
                    Some(r) if !present => c.line(&format!("{side}: {}", no_aggregate(r))),
                    Some(r) => {
                        c.sizes(r);
                        c.grid(&drawn, total_bits(r));
                        c.legend(&drawn);
                    }
                }
            }
        }
        if !unchanged.is_empty() {
            c.y += 8;
            c.line(&format!(
                "aggregate layout unchanged or absent: {}",
                unchanged.join(", ")
            ));
        }
    }
    c.finish()
}

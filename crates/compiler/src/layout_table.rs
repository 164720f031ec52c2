//! The text of `schemac layout`: the IR's layout numbers as a readable table, one per record
//! the schema declares (`--format json` prints the IR itself).

use crate::ir::{self, Dim, LeafKind};
use std::fmt::Write;

/// One table per record: leaf path, dtype, shape, bits, bit offset, SoA column, then the
/// bytes per sample in each layout.
pub fn layout_table(schema: &ir::Schema) -> String {
    layout_table_for(schema, None)
}

/// [`layout_table`] of every record, or of the one named `record`.
pub fn layout_table_for(schema: &ir::Schema, record: Option<&str>) -> String {
    let mut out = String::new();
    for r in &schema.records {
        if r.imported || record.is_some_and(|n| n != r.name) {
            continue;
        }
        let kind = match r.kind {
            ir::RecordKind::Sample => "sample",
            ir::RecordKind::Component => "component",
        };
        let _ = writeln!(out, "{kind} {} (fingerprint {})", r.name, r.fingerprint);
        let mut rows = vec![[
            "leaf".to_string(),
            "type".into(),
            "shape".into(),
            "bits".into(),
            "offset".into(),
            "soa".into(),
        ]];
        for l in &r.leaves {
            let ty = match &l.kind {
                LeafKind::Numeric { dtype } => dtype.name().to_string(),
                LeafKind::Str => "str".into(),
                LeafKind::Bytes => "bytes".into(),
                LeafKind::Enum { name, .. } => name.clone(),
                LeafKind::List { item } => format!("list<{}>", crate::check::ty_name(item)),
                LeafKind::Map { value } => format!("map<str, {}>", crate::check::ty_name(value)),
            };
            let shape: Vec<String> = l.shape.iter().map(Dim::to_string).collect();
            let mut ty = if l.optional { format!("{ty}?") } else { ty };
            if l.packed_field {
                ty.push_str(" @packed");
            }
            let storage = format!("{:?}", l.soa.storage).to_lowercase();
            let soa = match l.soa.row_bytes {
                Some(b) => format!("{storage} {b} B"),
                None => storage,
            };
            rows.push([
                l.path.clone(),
                ty,
                format!("[{}]", shape.join(", ")),
                l.bits.map_or("-".into(), |b| b.to_string()),
                l.bit_offset.map_or("-".into(), |o| o.to_string()),
                soa,
            ]);
        }
        let widths: Vec<usize> = (0..6)
            .map(|c| {
                rows.iter()
                    .map(|row| row[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &rows {
            let mut line = String::from("  ");
            for (c, cell) in row.iter().enumerate() {
                // Padded by hand: `{:<w$}` panics when a width exceeds u16::MAX, and a
                // leaf path can be that long.
                line.push_str(cell);
                let pad = widths[c] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        let bytes = |v: Option<u64>| v.map_or("varies".to_string(), |b| format!("{b} B"));
        let s = &r.sizes;
        let _ = writeln!(out, "  bytes per sample:");
        let _ = writeln!(out, "    msgpack (at most)  {}", bytes(s.msgpack_max));
        let _ = writeln!(out, "    soa row            {}", bytes(s.soa_row));
        match &r.bitpack.aggregate {
            Some(a) => {
                let _ = writeln!(
                    out,
                    "    aggregate packed   {} ({} bits, {} words in memory, compact {} words + {} tail bytes)",
                    bytes(s.aggregate),
                    a.total_bits,
                    a.words,
                    a.words_len,
                    a.tail_bytes
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    aggregate packed   - (bitpack {})",
                    format!("{:?}", r.bitpack.mode).to_lowercase()
                );
            }
        }
        let _ = writeln!(out, "    per-field packed   {}", bytes(s.field_packed));
        match &r.c_struct {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "    C struct           {} (align {})",
                    bytes(Some(c.size)),
                    c.align
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "    C struct           - (not every leaf is a fixed-shape number or enum)"
                );
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn a_field_name_longer_than_a_format_width_does_not_panic() {
        // 70,000 characters: more than the u16 limit of a `format!` width.
        let name = "a".repeat(70_000);
        let text = format!("sample S {{ {name}: f32, b: u8, }}\n");
        let c = crate::compile::compile_source(Path::new("long.schema"), text)
            .unwrap_or_else(|f| panic!("{}", f.render(false)));
        let table = super::layout_table(&c.schema);
        let row = table.lines().find(|l| l.contains(&name)).unwrap();
        // The type column starts after the longest leaf path and two spaces.
        assert!(
            row.starts_with(&format!("  {name}  f32")),
            "{}",
            &row[70_000..]
        );
        let b_row = table.lines().find(|l| l.starts_with("  b ")).unwrap();
        assert_eq!(b_row.find("u8"), Some(2 + 70_000 + 2));
    }

    #[test]
    fn sizes_near_u64_max_are_exact() {
        // Two fields of 2^63 - 1 bytes: 2^64 - 2 bytes per row, just below the limit
        // (the sum used to be an unchecked add).
        let text = "sample S { a: u8[9223372036854775807], b: u8[9223372036854775807] }\n";
        let c = crate::compile::compile_source(Path::new("big.schema"), text.to_string())
            .unwrap_or_else(|f| panic!("{}", f.render(false)));
        let table = super::layout_table(&c.schema);
        assert!(
            table.contains("soa row            18446744073709551614 B"),
            "{table}"
        );
        assert!(
            table.contains("per-field packed   18446744073709551614 B"),
            "{table}"
        );
    }
}

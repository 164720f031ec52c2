//! `schemac layout`: the IR's layout numbers as a readable table (or JSON).

use crate::ir::{self, Dim, LeafKind};
use std::fmt::Write;

/// One table per record: leaf path, dtype, shape, bits, bit offset, SoA column, then the
/// bytes per sample in each layout.
pub fn layout_table(schema: &ir::Schema) -> String {
    let mut out = String::new();
    for r in &schema.records {
        if r.imported {
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
                let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
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
        out.push('\n');
    }
    out
}

//! Printing a [`Report`]: rustc-style text (a label in the old file and one in the new),
//! JSON, and GitHub Actions annotations.

use super::{Category, Change, Report};
use crate::diag::{Diagnostic, Span};
use serde_json::json;

/// Output formats of `schemac diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Github,
    // The old and new aggregate bit layouts drawn one above the other (`crate::layout_svg`).
    Svg,
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "BREAKS"
    }
}

fn same(ok: bool) -> &'static str {
    if ok {
        "unchanged"
    } else {
        "CHANGED"
    }
}

/// `wire: new reads old ok, old reads new BREAKS (field-added-required); layout: ...`.
pub fn verdicts(c: &Change) -> String {
    let rules = if c.rules.is_empty() {
        String::new()
    } else {
        format!(" [{}]", c.rules.join(", "))
    };
    format!(
        "wire: new reads old {}, old reads new {}{rules}; layout: {}; api: {}",
        yes(c.new_reads_old),
        yes(c.old_reads_new),
        same(c.layout_unchanged),
        same(c.api_unchanged)
    )
}

fn breaking(c: &Change, on: &[Category]) -> bool {
    on.iter().any(|k| c.breaks(*k))
}

fn diagnostic(c: &Change, on: &[Category]) -> Diagnostic {
    let primary = c.new.or(c.old).expect("every change has a span");
    let mut d = if breaking(c, on) {
        Diagnostic::error(c.code, c.message.clone(), primary)
    } else {
        Diagnostic::warning(c.code, c.message.clone(), primary)
    };
    d = d.label(if c.new.is_some() { "new" } else { "old" });
    if let (Some(old), Some(_)) = (c.old, c.new) {
        d = d.secondary(old, "old");
    }
    d.help(verdicts(c))
}

/// Categories as the report names them.
pub fn category_names(on: &[Category]) -> String {
    on.iter()
        .map(|c| match c {
            Category::Wire => "wire",
            Category::Layout => "layout",
            Category::Api => "api",
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The text report: one heading per record or enum, then each change as a diagnostic
/// (an error when it breaks a category of `on`, else a warning), then a summary line.
pub fn text(r: &Report, on: &[Category], color: bool) -> String {
    let mut out = String::new();
    if r.changes.is_empty() {
        out.push_str(&format!("no changes: {} → {}\n", r.old_name, r.new_name));
        return out;
    }
    out.push_str(&format!("{} → {}\n", r.old_name, r.new_name));
    for g in &r.groups {
        let title = if g.name.is_empty() {
            "schema".to_string()
        } else {
            format!("{} `{}`", g.kind, g.name)
        };
        out.push_str(&format!("\n== {title} ==\n"));
        for c in r.group(&g.name) {
            out.push_str(&r.sources.render(&diagnostic(c, on), color));
        }
    }
    out.push_str(&format!("\n{}\n", summary(r, on)));
    out
}

/// `5 changes: 2 break wire, 3 change layout, 4 change api (failing on wire,layout)`.
pub fn summary(r: &Report, on: &[Category]) -> String {
    let n = |k: Category| r.changes.iter().filter(|c| c.breaks(k)).count();
    format!(
        "{} change{}: {} break wire, {} change layout, {} change api; {} (--break-on {})",
        r.changes.len(),
        if r.changes.len() == 1 { "" } else { "s" },
        n(Category::Wire),
        n(Category::Layout),
        n(Category::Api),
        if r.breaks(on) {
            "breaking"
        } else {
            "not breaking"
        },
        category_names(on)
    )
}

fn location(r: &Report, span: Option<Span>) -> serde_json::Value {
    match span {
        None => serde_json::Value::Null,
        Some(s) => {
            let (line, column) = r.sources.line_col(s);
            json!({"file": r.sources.name(s.file), "line": line, "column": column})
        }
    }
}

/// The JSON report (one object; `schemac diff --format json`).
pub fn json(r: &Report, on: &[Category]) -> serde_json::Value {
    let changes: Vec<serde_json::Value> = r
        .changes
        .iter()
        .map(|c| {
            json!({
                "group": c.group,
                "code": c.code,
                "message": c.message,
                "old": location(r, c.old),
                "new": location(r, c.new),
                "rules": c.rules,
                "wire": {"new_reads_old": c.new_reads_old, "old_reads_new": c.old_reads_new},
                "layout": if c.layout_unchanged { "unchanged" } else { "changed" },
                "api": if c.api_unchanged { "unchanged" } else { "changed" },
                "breaking": breaking(c, on),
            })
        })
        .collect();
    let groups: Vec<serde_json::Value> = r
        .groups
        .iter()
        .map(|g| json!({"name": g.name, "kind": g.kind}))
        .collect();
    json!({
        "old": r.old_name,
        "new": r.new_name,
        "break_on": category_names(on),
        "breaking": r.breaks(on),
        "groups": groups,
        "changes": changes,
    })
}

/// GitHub's workflow-command escaping for messages and property values.
fn escape(s: &str, property: bool) -> String {
    let mut s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s = s.replace(':', "%3A").replace(',', "%2C");
    }
    s
}

/// One `::error` (breaking) or `::warning` line per change, placed on the new file where
/// the change is visible there (the old file's name has its `REF:` prefix removed).
pub fn github(r: &Report, on: &[Category]) -> String {
    let mut out = String::new();
    for c in &r.changes {
        let span = c.new.or(c.old).expect("every change has a span");
        let (line, col) = r.sources.line_col(span);
        let mut file = r.sources.name(span.file);
        if span.file < r.old_files {
            file = file.strip_prefix(r.old_prefix.as_str()).unwrap_or(file);
        }
        out.push_str(&format!(
            "::{} file={},line={line},col={col},title={}::{}\n",
            if breaking(c, on) { "error" } else { "warning" },
            escape(file, true),
            escape(&format!("schemac diff {}", c.code), true),
            escape(&format!("{} — {}", c.message, verdicts(c)), false)
        ));
    }
    out
}

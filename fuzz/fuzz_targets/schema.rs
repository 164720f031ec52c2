//! Schema text → parse, fmt, check, layout report, diagnostics rendering and every emitter,
//! through the library API. Must never panic, abort or allocate without bound.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schemac::{compile, diag, emit, fmt, layout_table, parse};

/// The input poses as a file next to the example schemas, so `import "common.schema";`
/// resolves and the import paths of the checker are exercised.
fn input_path() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/schemas/fuzz-input.schema")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = diag::Sources::new();
    let id = sources.add(
        "fuzz-input.schema".into(),
        input_path().to_path_buf(),
        text.to_owned(),
    );
    match parse::parse(id, text) {
        Ok(file) => {
            // Only imports of sibling files: the fuzzer must not read /dev/zero or the
            // rest of the file system (unbounded imports are a separate, known issue).
            if file.imports.iter().any(|i| {
                let p = &i.path.value;
                p.contains('/') || p.contains('\\') || p.contains("..") || p.is_empty()
            }) {
                return;
            }
            let _ = fmt::format(&file, text);
        }
        Err(d) => {
            let _ = compile::render_all(&sources, &[*d], false);
            return;
        }
    }
    match compile::compile_source(input_path(), text.to_owned()) {
        Ok(c) => {
            let _ = compile::render_all(&c.sources, &c.warnings, false);
            let _ = layout_table::layout_table(&c.schema);
            for t in emit::Target::ALL {
                let _ = emit::emit(t, &c.schema);
            }
        }
        Err(f) => {
            let _ = f.render(false);
            let _ = f.short();
        }
    }
});

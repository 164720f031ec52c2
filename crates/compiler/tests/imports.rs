//! Imports (and the root file) are read only when they are regular UTF-8 files within
//! `MAX_SCHEMA_FILE_BYTES`; anything else is `E0032` (or an I/O error for the root),
//! decided without reading more than the limit.

use schemac::compile::{compile_file, Failure};
use schemac::load::MAX_SCHEMA_FILE_BYTES;
use std::path::Path;

/// Compiles a root that imports `target` and returns the rendered diagnostics.
fn import_of(dir: &Path, target: &str) -> String {
    let root = dir.join("root.schema");
    std::fs::write(
        &root,
        format!("import \"{target}\";\n\nsample S {{ x: u8 }}\n"),
    )
    .unwrap();
    match compile_file(&root) {
        Ok(_) => panic!("importing {target} compiled"),
        Err(f) => {
            assert_eq!(f.exit_code(), 1);
            f.render(false)
        }
    }
}

#[test]
fn a_directory_is_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub.schema")).unwrap();
    let out = import_of(dir.path(), "sub.schema");
    assert!(
        out.contains("error[E0032]: cannot import `sub.schema`: a directory"),
        "{out}"
    );
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: no disk used, and reading it would allocate the whole length.
    let f = std::fs::File::create(dir.path().join("big.schema")).unwrap();
    f.set_len(MAX_SCHEMA_FILE_BYTES + 1).unwrap();
    let out = import_of(dir.path(), "big.schema");
    assert!(
        out.contains("[E0032]") && out.contains("larger than the limit"),
        "{out}"
    );
    // The same file as the root is an I/O error (exit code 2), not a read of 16 MiB.
    match compile_file(&dir.path().join("big.schema")) {
        Err(f @ Failure::Io(..)) => {
            assert_eq!(f.exit_code(), 2);
            assert!(f.render(false).contains("larger than the limit"));
        }
        _ => panic!("an oversized root compiled"),
    }
}

#[test]
fn a_file_at_the_limit_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("component C { x: u8 }\n");
    let pad = MAX_SCHEMA_FILE_BYTES as usize - text.len();
    text.push_str(&" ".repeat(pad));
    std::fs::write(dir.path().join("c.schema"), &text).unwrap();
    let root = dir.path().join("root.schema");
    std::fs::write(&root, "import \"c.schema\";\nsample S { c: C }\n").unwrap();
    assert!(compile_file(&root).is_ok());
}

#[test]
fn invalid_utf8_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.schema"),
        b"component C { x: u8 } \xff\n",
    )
    .unwrap();
    let out = import_of(dir.path(), "bad.schema");
    assert!(
        out.contains("[E0032]") && out.contains("not valid UTF-8"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn devices_and_fifos_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    // /dev/zero never ends; a FIFO with no writer blocks `open` forever.
    let out = import_of(dir.path(), "/dev/zero");
    assert!(
        out.contains("[E0032]") && out.contains("not a regular file"),
        "{out}"
    );
    let fifo = dir.path().join("pipe.schema");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = import_of(dir.path(), "pipe.schema");
        assert!(
            out.contains("[E0032]") && out.contains("not a regular file"),
            "{out}"
        );
        assert!(matches!(compile_file(&fifo), Err(Failure::Io(..))));
    }
    assert!(matches!(
        compile_file(Path::new("/dev/zero")),
        Err(Failure::Io(..))
    ));
}

#[test]
fn a_file_named_after_a_keyword_needs_a_package() {
    // Without a package the module is the file stem: `class.py` cannot be imported.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("class.schema");
    std::fs::write(&path, "sample S { x: u8 }\n").unwrap();
    let out = compile_file(&path).err().expect("compiled").render(false);
    assert!(
        out.contains("error[E0034]") && out.contains("`class`, a keyword"),
        "{out}"
    );
    std::fs::write(&path, "package my.class;\nsample S { x: u8 }\n").unwrap();
    assert!(
        compile_file(&path).is_ok(),
        "`my_class` is a fine module name"
    );
}

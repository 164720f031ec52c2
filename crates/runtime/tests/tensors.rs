//! Hostile safetensors headers, hand-built: `TensorFile` refuses what the Python runtime
//! refuses, with the same kind (docs/language.md, "Safetensors files"); the Python side is
//! python/tests/test_safetensors.py with the same inputs.

use schemac_runtime::tensors::{TensorFile, TensorSet};

/// A file with `header` taken as raw JSON text (so it may repeat keys) and `data`.
fn file(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn code(bytes: Vec<u8>) -> &'static str {
    match TensorFile::from_bytes(bytes) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

const GOOD: &str = r#""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#;

#[test]
fn a_well_formed_header_reads() {
    let f = TensorFile::from_bytes(file(
        &format!(r#"{{"__metadata__":{{"k":"v"}},{GOOD}}}"#),
        &[0; 4],
    ))
    .unwrap();
    assert_eq!(f.metadata()["k"], "v");
    assert_eq!(f.shape("a"), Some(&[1usize][..]));
}

#[test]
fn entries_that_are_not_integers_are_corrupt() {
    for entry in [
        r#"{"dtype":"F32","shape":[1],"data_offsets":[0.0,4.0]}"#,
        r#"{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}"#,
        r#"{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}"#,
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",\"\u{664}\"]}",
        r#"{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}"#,
        "{\"dtype\":\"F32\",\"shape\":[\"\u{661}\"],\"data_offsets\":[0,4]}",
        r#"{"dtype":"F32","shape":[true],"data_offsets":[0,4]}"#,
        r#"{"dtype":"F32","shape":{},"data_offsets":[0,4]}"#,
        r#"{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}"#,
        r#"{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}"#,
        r#"{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}"#,
        r#"{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}"#,
        r#"{"shape":[1],"data_offsets":[0,4]}"#,
    ] {
        assert_eq!(
            code(file(&format!(r#"{{"a":{entry}}}"#), &[0; 4])),
            "corrupt_archive",
            "{entry}"
        );
    }
}

#[test]
fn duplicate_tensor_names_are_bad_keys() {
    // Same offsets twice: serde kept the last one and the file read as one tensor.
    assert_eq!(
        code(file(&format!("{{{GOOD},{GOOD}}}"), &[0; 4])),
        "bad_key"
    );
    let meta = r#""__metadata__":{"k":"v"}"#;
    assert_eq!(
        code(file(&format!("{{{meta},{meta},{GOOD}}}"), &[0; 4])),
        "corrupt_archive"
    );
}

#[test]
fn bad_headers_and_structure_are_corrupt() {
    for header in [
        format!(r#"{{"__metadata__":[],{GOOD}}}"#),
        format!(r#"{{"__metadata__":{{"k":1}},{GOOD}}}"#),
        format!(r#"{{"__metadata__":{{"k":"\ud800"}},{GOOD}}}"#),
        r#"{"\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.to_owned(),
        "[]".to_owned(),
        format!("{{{GOOD}"),
    ] {
        assert_eq!(code(file(&header, &[0; 4])), "corrupt_archive", "{header}");
    }
    let good = format!("{{{GOOD}}}");
    assert_eq!(code(file(&good, &[0; 5])), "corrupt_archive");
    assert_eq!(code(file(&good, &[0; 3])), "corrupt_archive");
    let mut huge = 200_000_000u64.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert_eq!(code(huge), "corrupt_archive");
    assert_eq!(code(vec![1]), "corrupt_archive");
}

#[test]
fn other_records_are_fingerprint_mismatches_and_rows_are_ascii() {
    let v = [1.0f32];
    let mut set = TensorSet::new();
    set.add("a", vec![1], &v);
    let f = TensorFile::from_bytes(set.to_bytes("S", "0123456789abcdef", 1).unwrap()).unwrap();
    assert_eq!(
        f.check_header("T", "0123456789abcdef").unwrap_err().code(),
        "fingerprint_mismatch"
    );
    assert_eq!(
        f.check_header("S", "fedcba9876543210").unwrap_err().code(),
        "fingerprint_mismatch"
    );
    for rows in ["\u{663}", "3.0", "", "-3", " 3"] {
        let header = format!(r#"{{"__metadata__":{{"schemac_rows":"{rows}"}},{GOOD}}}"#);
        let f = TensorFile::from_bytes(file(&header, &[0; 4])).unwrap();
        assert_eq!(
            f.rows_hint().unwrap_err().code(),
            "corrupt_archive",
            "{rows:?}"
        );
    }
}

/// Found by the `tensors` fuzz target: the metadata went through a `HashMap` and was
/// written in its random iteration order, so saving one batch twice gave different files.
#[test]
fn saving_is_deterministic() {
    let v = [1.0f32, f32::NAN];
    let mut set = TensorSet::new();
    set.add("a", vec![2], &v);
    let first = set.to_bytes("S", "0123456789abcdef", 2).unwrap();
    for _ in 0..20 {
        assert_eq!(set.to_bytes("S", "0123456789abcdef", 2).unwrap(), first);
    }
    let text = String::from_utf8_lossy(&first[8..]);
    assert!(
        text.starts_with(
            r#"{"__metadata__":{"schemac_fingerprint":"0123456789abcdef","schemac_rows":"2","schemac_sample":"S"}"#
        ),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    set.save(&path, "S", "0123456789abcdef", 2).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), first);
}

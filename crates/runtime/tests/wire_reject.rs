//! One test per rejection the wire format promises (DESIGN.md §4), plus property tests
//! that random, truncated and mutated inputs never panic the reader.

use proptest::prelude::*;
use schemac_runtime::array::{check_shape, DimSpec, DimTable, NdArray};
use schemac_runtime::error::{ErrorKind, Result, ResultExt};
use schemac_runtime::msgpack::{Reader, Writer, MAX_DEPTH};

fn kind<T: std::fmt::Debug>(r: Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind().clone()
}

/// atdata array payload with arbitrary header fields.
fn payload(typestr: &[u8], dims: &[i64], data: &[u8]) -> Vec<u8> {
    let mut p = vec![typestr.len() as u8];
    p.extend_from_slice(typestr);
    p.push(dims.len() as u8);
    for d in dims {
        p.extend_from_slice(&d.to_le_bytes());
    }
    p.extend_from_slice(data);
    let mut w = Writer::new();
    w.bin(&p);
    w.into_bytes()
}

/// A `.npy` v1.0 file exactly as numpy writes one: the header dict padded with spaces and
/// a newline so the data starts at a multiple of 64.
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let fo = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {fo}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut f = b"\x93NUMPY\x01\x00".to_vec();
    f.extend_from_slice(&(header.len() as u16).to_le_bytes());
    f.extend_from_slice(header.as_bytes());
    f.extend_from_slice(data);
    let mut w = Writer::new();
    w.bin(&f);
    w.into_bytes()
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn npy_payload_is_accepted() {
    let b = npy(
        "<f4",
        false,
        "(2, 3)",
        &f32_bytes(&[0., 1., 2., 3., 4., 5.]),
    );
    let a = Reader::new(&b).array::<f32>().unwrap();
    assert_eq!(a.shape(), &[2, 3]);
    assert_eq!(a.as_slice(), &[0., 1., 2., 3., 4., 5.]);
    let b = npy("|u1", false, "(3,)", &[7, 8, 9]);
    assert_eq!(
        Reader::new(&b).array::<u8>().unwrap().as_slice(),
        &[7, 8, 9]
    );
    let b = npy("<i8", false, "()", &5i64.to_le_bytes());
    let a = Reader::new(&b).array::<i64>().unwrap();
    assert_eq!((a.shape(), a.as_slice()), (&[][..], &[5][..]));
}

#[test]
fn truncated() {
    assert_eq!(
        kind(Reader::new(&[0xcb, 0x3f, 0xe0]).f64()),
        ErrorKind::Truncated
    );
    assert_eq!(kind(Reader::new(&[]).bool()), ErrorKind::Truncated);
    assert_eq!(kind(Reader::new(&[0xcd, 0x01]).u64()), ErrorKind::Truncated);
    // Cut inside an array payload's dims.
    let b = payload(b"<f4", &[2, 3], &f32_bytes(&[0.; 6]));
    let mut inner = b[2..14].to_vec(); // bin8 body, cut in the second dim
    let mut w = Writer::new();
    w.bin(&inner);
    assert_eq!(
        kind(Reader::new(w.as_bytes()).array::<f32>()),
        ErrorKind::Truncated
    );
    // Every strict prefix of a valid value fails.
    inner = b;
    for n in 0..inner.len() {
        assert!(
            Reader::new(&inner[..n]).array::<f32>().is_err(),
            "prefix {n}"
        );
    }
}

#[test]
fn trailing_bytes() {
    let mut r = Reader::new(&[0xc3, 0xc0, 0xc0]);
    assert!(r.bool().unwrap());
    assert_eq!(kind(r.finish()), ErrorKind::TrailingBytes { n: 2 });
}

#[test]
fn wrong_msgpack_type() {
    let mut w = Writer::new();
    w.str("7");
    let e = Reader::new(w.as_bytes())
        .i64()
        .at("count")
        .at("Prims")
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::WrongType {
            expected: "int",
            found: "str"
        }
    );
    assert_eq!(e.to_string(), "Prims.count: expected int, found str");
    assert!(Reader::new(&[0xc0]).array::<f32>().is_err());
    assert!(Reader::new(&[0x01]).bool().is_err());
    assert!(Reader::new(&[0xc2]).i64().is_err());
    assert!(Reader::new(&[0xc4, 0]).str().is_err());
    assert!(Reader::new(&[0xa0]).bin().is_err());
    assert!(Reader::new(&[0x90]).map_len().is_err());
    assert!(Reader::new(&[0xc1]).peek().is_err());
    assert!(Reader::new(&[0xc1]).skip().is_err());
}

#[test]
fn unknown_dtype() {
    let b = payload(b"<c8", &[1], &[0; 8]);
    assert_eq!(
        kind(Reader::new(&b).array::<f32>()),
        ErrorKind::UnknownDtype("<c8".into())
    );
    // Big-endian data is not silently misread.
    let b = payload(b">f4", &[1], &[0; 4]);
    assert_eq!(
        kind(Reader::new(&b).array::<f32>()),
        ErrorKind::UnknownDtype(">f4".into())
    );
    let b = npy(">f4", false, "(1,)", &[0; 4]);
    assert!(matches!(
        kind(Reader::new(&b).array::<f32>()),
        ErrorKind::UnknownDtype(_)
    ));
}

#[test]
fn dtype_mismatch() {
    let mut w = Writer::new();
    w.array(&NdArray::<f32>::zeros(vec![2, 2]));
    let e = Reader::new(w.as_bytes())
        .array::<u8>()
        .at("mask")
        .at("ImageSample")
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::DtypeMismatch {
            expected: "|u1",
            found: "<f4".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "ImageSample.mask: expected dtype |u1, found <f4"
    );
    // The same through the other two encodings.
    let mut w = Writer::new();
    w.array_numpy(&NdArray::<f32>::zeros(vec![2]));
    assert!(matches!(
        kind(Reader::new(w.as_bytes()).array::<f64>()),
        ErrorKind::DtypeMismatch { .. }
    ));
    let b = npy("<f8", false, "(1,)", &[0; 8]);
    assert!(matches!(
        kind(Reader::new(&b).array_view::<f32>()),
        ErrorKind::DtypeMismatch { .. }
    ));
}

#[test]
fn shape_mismatch_fixed() {
    let mut w = Writer::new();
    w.array(&NdArray::<f32>::zeros(vec![2, 3]));
    let a = Reader::new(w.as_bytes()).array::<f32>().unwrap();
    let mut dims = DimTable::new();
    let e = check_shape(
        &[DimSpec::Fixed(2), DimSpec::Fixed(4)],
        a.shape(),
        &mut dims,
    )
    .at("pose")
    .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::ShapeMismatch {
            expected: "[2, 4]".into(),
            found: vec![2, 3]
        }
    );
    assert_eq!(e.to_string(), "pose: expected shape [2, 4], found [2, 3]");
    // Wrong ndim.
    assert!(check_shape(&[DimSpec::Any], a.shape(), &mut dims).is_err());
}

#[test]
fn shape_mismatch_named() {
    let spec = [DimSpec::Named("H"), DimSpec::Named("W")];
    let mut dims = DimTable::new();
    check_shape(&spec, &[4, 5], &mut dims).unwrap();
    let e = check_shape(&spec, &[4, 6], &mut dims)
        .at("depth")
        .unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::NamedDimMismatch {
            dim: "W".into(),
            expected: 5,
            found: 6
        }
    );
    assert_eq!(
        e.to_string(),
        "depth: dim W is 6 here but 5 in an earlier field"
    );
    // A fresh table (next sample) starts over.
    dims.clear();
    check_shape(&spec, &[4, 6], &mut dims).unwrap();
    // The same name twice in one shape.
    let sq = [DimSpec::Named("N"), DimSpec::Named("N")];
    assert!(check_shape(&sq, &[3, 4], &mut DimTable::new()).is_err());
}

#[test]
fn payload_length() {
    let b = payload(b"<f4", &[2, 3], &[0; 20]);
    assert_eq!(
        kind(Reader::new(&b).array::<f32>()),
        ErrorKind::PayloadLength {
            expected: 24,
            found: 20
        }
    );
    let b = payload(b"<f4", &[2, 3], &[0; 28]);
    assert!(matches!(
        kind(Reader::new(&b).array_view::<f32>()),
        ErrorKind::PayloadLength { .. }
    ));
    // A huge shape over few bytes: no allocation, just an error.
    let b = payload(b"|u1", &[1 << 40, 1 << 20], &[0; 4]);
    assert!(Reader::new(&b).array::<u8>().is_err());
    let b = npy("<f4", false, "(2, 3)", &[0; 8]);
    assert!(matches!(
        kind(Reader::new(&b).array::<f32>()),
        ErrorKind::PayloadLength { .. }
    ));
    // Negative dims.
    let b = payload(b"<f4", &[-1], &[]);
    assert!(matches!(
        kind(Reader::new(&b).array::<f32>()),
        ErrorKind::InvalidShape(_)
    ));
}

#[test]
fn invalid_bool_bytes() {
    let b = payload(b"|b1", &[3], &[0, 1, 2]);
    assert_eq!(
        kind(Reader::new(&b).array::<bool>()),
        ErrorKind::InvalidBool(2)
    );
    assert_eq!(
        kind(Reader::new(&b).array_view::<bool>()),
        ErrorKind::InvalidBool(2)
    );
}

#[test]
fn lengths_beyond_the_input() {
    let huge32 = [0xff, 0xff, 0xff, 0xff];
    for marker in [0xc6u8, 0xdb, 0xdd, 0xdf] {
        let mut b = vec![marker];
        b.extend_from_slice(&huge32);
        b.extend_from_slice(&[0xc0; 5]); // 10 bytes in all
        let mut r = Reader::new(&b);
        let e = match marker {
            0xc6 => kind(r.bin()),
            0xdb => kind(r.str()),
            0xdd => kind(r.array_len()),
            _ => kind(r.map_len()),
        };
        assert_eq!(
            e,
            ErrorKind::LengthTooLarge {
                len: u64::from(u32::MAX),
                remaining: 5
            },
            "marker {marker:#x}"
        );
        assert!(Reader::new(&b).skip().is_err());
    }
    // A map of 3 pairs needs at least 6 more bytes.
    assert!(matches!(
        kind(Reader::new(&[0x83, 0xc0, 0xc0, 0xc0]).map_len()),
        ErrorKind::LengthTooLarge { len: 3, .. }
    ));
    // bin16 claiming 300 bytes with 3 left.
    assert!(matches!(
        kind(Reader::new(&[0xc5, 0x01, 0x2c, 1, 2, 3]).bin()),
        ErrorKind::LengthTooLarge { len: 300, .. }
    ));
    // Ext with a huge length.
    assert!(matches!(
        kind(Reader::new(&[0xc9, 0xff, 0xff, 0xff, 0xff, 1, 0]).skip()),
        ErrorKind::LengthTooLarge { .. }
    ));
    // A .npy header length beyond the bin.
    let mut w = Writer::new();
    w.bin(b"\x93NUMPY\x01\x00\xff\xff{");
    assert!(Reader::new(w.as_bytes()).array::<f32>().is_err());
}

#[test]
fn bad_utf8() {
    assert_eq!(
        kind(Reader::new(&[0xa2, 0xff, 0xfe]).str()),
        ErrorKind::InvalidUtf8
    );
}

#[test]
fn too_deep() {
    let mut b = vec![0x91; MAX_DEPTH + 10];
    b.push(0xc0);
    assert_eq!(kind(Reader::new(&b).skip()), ErrorKind::TooDeep);
    let mut b = [0x81, 0xc0].repeat(MAX_DEPTH + 10);
    b.push(0xc0);
    assert_eq!(kind(Reader::new(&b).skip()), ErrorKind::TooDeep);
    // Just under the limit is fine.
    let mut b = vec![0x91; MAX_DEPTH - 1];
    b.push(0xc0);
    let mut r = Reader::new(&b);
    r.skip().unwrap();
    r.finish().unwrap();
}

#[test]
fn npy_fortran_order() {
    let b = npy("<f4", true, "(2, 3)", &[0; 24]);
    let e = kind(Reader::new(&b).array::<f32>());
    assert!(
        matches!(&e, ErrorKind::BadNpy(m) if m.contains("fortran_order")),
        "{e:?}"
    );
}

/// docs/language.md, "Rejections both runtimes agree on": `fortran_order: True` is refused
/// whatever the rank (it used to pass for 1-d arrays, where Python transposed nothing).
#[test]
fn npy_fortran_order_refused_at_every_rank() {
    for shape in ["(2,)", "()", "(1, 2)"] {
        let b = npy("<u2", true, shape, &[1, 0, 2, 0]);
        let e = Reader::new(&b).array::<u16>().unwrap_err();
        assert_eq!(e.code(), "bad_npy", "{shape}: {e}");
    }
}

/// A header key given twice, or an extra key, is `bad_npy` (the last one used to win).
#[test]
fn npy_header_keys_exact() {
    let header = "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), 'shape': (1,), }";
    let extra = "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), 'x': 1, }";
    for h in [header, extra] {
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        f.extend_from_slice(&(h.len() as u16).to_le_bytes());
        f.extend_from_slice(h.as_bytes());
        f.extend_from_slice(&[1, 0, 2, 0]);
        let mut w = Writer::new();
        w.bin(&f);
        let e = Reader::new(w.as_bytes()).array::<u16>().unwrap_err();
        assert_eq!(e.code(), "bad_npy", "{h}: {e}");
    }
}

/// Only the typestrs numpy writes: `=f4`, bare `f4`, `|f4`, `<u1` are `dtype_mismatch`
/// (they used to be read as `<f4` / `|u1`); `|V2` and `<V2` are bf16.
#[test]
fn only_canonical_typestrs() {
    for ts in [&b"=f4"[..], b"f4", b"|f4", b">f4"] {
        let b = payload(ts, &[1], &[0; 4]);
        let e = Reader::new(&b).array::<f32>().unwrap_err();
        assert_eq!(
            e.code(),
            "dtype_mismatch",
            "{}",
            String::from_utf8_lossy(ts)
        );
    }
    for ts in [&b"<u1"[..], b"u1", b"=u1"] {
        let b = payload(ts, &[1], &[0]);
        let e = Reader::new(&b).array::<u8>().unwrap_err();
        assert_eq!(
            e.code(),
            "dtype_mismatch",
            "{}",
            String::from_utf8_lossy(ts)
        );
    }
    for ts in [&b"<V2"[..], b"|V2"] {
        let b = payload(ts, &[1], &[0x80, 0x3f]);
        let a = Reader::new(&b).array::<half::bf16>().unwrap();
        assert_eq!(a.as_slice()[0].to_f32(), 1.0);
    }
}

/// Errors about numbers show the number decoded: a `[2^62]` shape of `<f4` claims 2^64
/// bytes, which overflows u64 (`too_large`, naming the shape as written, never clamped to
/// 18446744073709551615); a shape that fits gets the exact expected byte count.
#[test]
fn payload_length_shows_the_exact_byte_count() {
    let b = payload(b"<f4", &[1 << 62], &[0; 4]);
    let e = Reader::new(&b).array::<f32>().unwrap_err();
    assert_eq!(e.code(), "too_large", "{e}");
    assert!(e.to_string().contains("4611686018427387904"), "{e}");
    assert!(!e.to_string().contains("18446744073709551615"), "{e}");
    let b = payload(b"<f4", &[3], &[0; 4]);
    assert_eq!(
        Reader::new(&b).array::<f32>().unwrap_err().kind(),
        &ErrorKind::PayloadLength {
            expected: 12,
            found: 4
        }
    );
    // A zero dim does not make an overflowing shape acceptable (numpy refuses it too).
    let b = payload(b"<f4", &[0, 1 << 62, 1 << 62], &[]);
    assert_eq!(
        Reader::new(&b).array::<f32>().unwrap_err().code(),
        "too_large"
    );
}

/// A finite float beyond the dtype is `out_of_range`, never infinity; infinity itself and
/// NaN pass.
#[test]
fn float_scalar_overflow() {
    let mut w = Writer::new();
    w.f64(1e10);
    let e = Reader::new(w.as_bytes()).scalar::<half::f16>().unwrap_err();
    assert_eq!(e.code(), "out_of_range", "{e}");
    let mut w = Writer::new();
    w.f64(1e39);
    let e = Reader::new(w.as_bytes()).scalar::<f32>().unwrap_err();
    assert_eq!(e.code(), "out_of_range", "{e}");
    let mut w = Writer::new();
    w.f64(f64::INFINITY);
    assert!(Reader::new(w.as_bytes())
        .scalar::<half::f16>()
        .unwrap()
        .is_infinite());
    let mut w = Writer::new();
    w.f64(65504.0);
    assert_eq!(
        Reader::new(w.as_bytes()).scalar::<half::f16>().unwrap(),
        half::f16::MAX
    );
}

/// A `map<str, T>` with a key given twice is `duplicate_key` (the last value used to win).
#[test]
fn duplicate_map_key() {
    let mut w = Writer::new();
    w.map_header(2);
    for v in [1, 2] {
        w.str("k");
        w.uint(v);
    }
    let e = schemac_runtime::gen_support::read_map::<String, u64>(
        &mut Reader::new(w.as_bytes()),
        |r| r.u64(),
    )
    .unwrap_err();
    assert_eq!(e.code(), "duplicate_key");
    assert_eq!(e.path(), "[\"k\"]");
}

#[test]
fn npy_malformed_headers() {
    let mut w = Writer::new();
    w.bin(b"\x93NUMPY\x09\x00\x00\x00");
    assert!(matches!(
        kind(Reader::new(w.as_bytes()).array::<f32>()),
        ErrorKind::BadNpy(_)
    ));
    for shape in ["(2, x)", "[2]", "(2, 3", "(-1,)"] {
        let b = npy("<f4", false, shape, &[0; 24]);
        assert!(Reader::new(&b).array::<f32>().is_err(), "{shape}");
    }
    let b = npy("<f4", false, "(99999999999999999999999,)", &[]);
    assert!(Reader::new(&b).array::<f32>().is_err());
}

#[test]
fn msgpack_numpy_map_incomplete() {
    let mut w = Writer::new();
    w.map_header(2);
    w.bin(b"nd");
    w.bool(true);
    w.bin(b"type");
    w.str("<f4");
    assert!(Reader::new(w.as_bytes()).array::<f32>().is_err());
}

#[test]
fn scalar_out_of_range() {
    let mut w = Writer::new();
    w.int(300);
    assert_eq!(
        kind(Reader::new(w.as_bytes()).scalar::<u8>()),
        ErrorKind::OutOfRange {
            value: "300".into(),
            expected: "u8".into()
        }
    );
    let mut w = Writer::new();
    w.int(-1);
    assert!(Reader::new(w.as_bytes()).scalar::<u32>().is_err());
}

// ---- never panic ----------------------------------------------------------------------

/// Drives the reader the way generated code and tools do, through every entry point.
fn exercise(bytes: &[u8]) {
    let mut r = Reader::new(bytes);
    let _ = r.skip();
    let _ = r.finish();
    let _ = Reader::new(bytes).array::<f32>();
    let _ = Reader::new(bytes).array::<bool>();
    let _ = Reader::new(bytes).array::<half::bf16>();
    let _ = Reader::new(bytes).array_view::<u16>().map(|v| v.to_owned());
    let _ = Reader::new(bytes)
        .array_view::<bool>()
        .map(|v| v.as_slice().map(<[bool]>::len));
    let _ = Reader::new(bytes).str();
    let _ = Reader::new(bytes).scalar::<i8>();
    let _ = Reader::new(bytes).f64();
    // A generic map walk, as a sample reader does.
    let mut r = Reader::new(bytes);
    if let Ok(n) = r.map_len() {
        for _ in 0..n {
            if r.str().is_err() || r.skip().is_err() {
                break;
            }
        }
    }
}

/// Valid encodings to truncate and mutate.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let a = NdArray::new(vec![2, 3], (0..6).map(|i| i as f32).collect()).unwrap();
    let mut w = Writer::new();
    w.array(&a);
    out.push(w.into_bytes());
    let mut w = Writer::new();
    w.array_numpy(&a);
    out.push(w.into_bytes());
    out.push(npy("<f4", false, "(2, 3)", &f32_bytes(a.as_slice())));
    let mut w = Writer::new();
    w.map_header(4);
    w.str("a");
    w.array_header(2);
    w.int(-300);
    w.str("x");
    w.str("b");
    w.map_header(1);
    w.bin(b"k");
    w.f64(1.5);
    w.str("c");
    w.raw(&[0xd6, 1, 0, 0, 0, 0]);
    w.str("d");
    w.array(&NdArray::<bool>::from_vec(vec![true, false]));
    out.push(w.into_bytes());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        exercise(&bytes);
    }

    #[test]
    fn truncated_and_mutated_never_panic(
        which in 0usize..4,
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut b = seeds().swap_remove(which);
        for (i, v) in flips {
            let i = i.index(b.len());
            b[i] = v;
        }
        let n = cut.index(b.len() + 1);
        exercise(&b[..n]);
        exercise(&b);
    }
}

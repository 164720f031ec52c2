//! One bad input per rejection rule of DESIGN §4 (and the extensions: enums, component
//! arrays, `@packed`), through the generated readers (owned and zero-copy) and `validate()`.
//! Inputs are built by hand with the runtime's `Writer` so each differs from a valid sample
//! in exactly one way. Every error must carry its kind and the field path.

use gen_tests::everything::{Board, Everything};
use gen_tests::puzzle::{AggState, PuzzleState, PuzzleStateRef};
use gen_tests::robot::{RobotStep, RobotStepRef};
use gen_tests::vision::{ImageSample, ImageSampleRef, Split};
use schemac_runtime::array::NdArray;
use schemac_runtime::error::{Error, ErrorKind};
use schemac_runtime::msgpack::Writer;

fn enc(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    f(&mut w);
    w.into_bytes()
}

/// A msgpack map from already-encoded values.
fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    enc(|w| {
        w.map_header(entries.len());
        for (k, v) in entries {
            w.str(k);
            w.raw(v);
        }
    })
}

/// An atdata array payload with a free-form typestr, shape and data.
fn payload(typestr: &str, shape: &[i64], data: &[u8]) -> Vec<u8> {
    let mut p = vec![typestr.len() as u8];
    p.extend_from_slice(typestr.as_bytes());
    p.push(shape.len() as u8);
    for d in shape {
        p.extend_from_slice(&d.to_le_bytes());
    }
    p.extend_from_slice(data);
    enc(|w| w.bin(&p))
}

/// The fields of a valid ImageSample with a 2×3 mask and depth.
fn image_fields() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "image",
            enc(|w| w.array(&NdArray::<f32>::zeros(vec![224, 224, 3]))),
        ),
        ("label", enc(|w| w.str("cat"))),
        ("confidence", enc(|w| w.f64(0.5))),
        ("mask", enc(|w| w.array(&NdArray::<u8>::zeros(vec![2, 3])))),
        (
            "depth",
            enc(|w| w.array(&NdArray::<f32>::zeros(vec![2, 3]))),
        ),
        (
            "tags",
            enc(|w| {
                w.array_header(1);
                w.str("t");
            }),
        ),
        ("split", enc(|w| w.str("val"))),
    ]
}

fn image_with(name: &str, value: Vec<u8>) -> Vec<u8> {
    let mut f = image_fields();
    f.iter_mut().find(|(k, _)| *k == name).unwrap().1 = value;
    map(&f)
}

fn image_without(names: &[&str]) -> Vec<u8> {
    let f: Vec<_> = image_fields()
        .into_iter()
        .filter(|(k, _)| !names.contains(k))
        .collect();
    map(&f)
}

/// Decodes with the owned and the view reader; both must fail the same way.
fn image_err(bytes: &[u8]) -> Error {
    let e = ImageSample::from_msgpack(bytes).expect_err("owned reader accepted bad input");
    let v = ImageSampleRef::from_msgpack(bytes).expect_err("view reader accepted bad input");
    assert_eq!(e, v, "owned and view readers disagree");
    e
}

#[test]
fn the_valid_base_decodes() {
    let x = ImageSample::from_msgpack(&map(&image_fields())).unwrap();
    assert_eq!(x.label, "cat");
    assert_eq!(x.split, Split::Val);
    assert_eq!(x.mask.as_ref().unwrap().shape(), &[2, 3]);
    x.validate().unwrap();
    // Our own encoding of it is the same bytes (declaration order, float64 scalars).
    assert_eq!(x.to_msgpack(), map(&image_fields()));
}

#[test]
fn truncated() {
    let full = map(&image_fields());
    // Every prefix fails without panicking.
    for cut in [0, 1, 5, full.len() / 2, full.len() - 1] {
        image_err(&full[..cut]);
    }
    // Cut inside the fixed-size float64 of `confidence`: Truncated.
    let at = full
        .windows(11)
        .position(|w| w == b"\xaaconfidence")
        .unwrap()
        + 11
        + 4;
    let e = image_err(&full[..at]);
    assert_eq!(e.kind(), &ErrorKind::Truncated);
    // A structural fault, found before any field is read: at the sample.
    assert_eq!(e.path(), "ImageSample");
}

#[test]
fn trailing_bytes() {
    let mut b = map(&image_fields());
    b.extend_from_slice(&[0xc0, 0xc0]);
    let e = image_err(&b);
    assert_eq!(e.kind(), &ErrorKind::TrailingBytes { n: 2 });
    assert_eq!(e.path(), "ImageSample");
}

#[test]
fn wrong_msgpack_type() {
    let e = image_err(&image_with("label", enc(|w| w.int(3))));
    assert_eq!(
        e.kind(),
        &ErrorKind::WrongType {
            expected: "str",
            found: "int"
        }
    );
    assert_eq!(e.path(), "ImageSample.label");
    // A sample that is not a map at all.
    let e = image_err(&enc(|w| w.array_header(0)));
    assert!(matches!(
        e.kind(),
        ErrorKind::WrongType {
            expected: "map",
            ..
        }
    ));
    // An array field given as a str.
    let e = image_err(&image_with("image", enc(|w| w.str("x"))));
    assert!(matches!(e.kind(), ErrorKind::WrongType { .. }), "{e}");
    assert_eq!(e.path(), "ImageSample.image");
}

#[test]
fn unknown_dtype() {
    let e = image_err(&image_with("mask", payload("<c8", &[2, 3], &[0; 48])));
    assert_eq!(e.kind(), &ErrorKind::UnknownDtype("<c8".into()));
    assert_eq!(e.path(), "ImageSample.mask");
}

#[test]
fn dtype_mismatch() {
    let e = image_err(&image_with("mask", payload("<f4", &[2, 3], &[0; 24])));
    assert_eq!(
        e.kind(),
        &ErrorKind::DtypeMismatch {
            expected: "|u1",
            found: "<f4".into()
        }
    );
    assert_eq!(e.path(), "ImageSample.mask");
    assert_eq!(
        e.to_string(),
        "ImageSample.mask: expected dtype |u1, found <f4"
    );
}

#[test]
fn fixed_shape_mismatch() {
    let e = image_err(&image_with(
        "image",
        enc(|w| w.array(&NdArray::<f32>::zeros(vec![2, 2, 3]))),
    ));
    assert_eq!(
        e.kind(),
        &ErrorKind::ShapeMismatch {
            expected: "[224, 224, 3]".into(),
            found: vec![2, 2, 3]
        }
    );
    assert_eq!(e.path(), "ImageSample.image");
    // Wrong ndim.
    let e = image_err(&image_with(
        "mask",
        enc(|w| w.array(&NdArray::<u8>::zeros(vec![6]))),
    ));
    assert!(matches!(e.kind(), ErrorKind::ShapeMismatch { .. }), "{e}");
}

#[test]
fn named_shape_mismatch() {
    let e = image_err(&image_with(
        "depth",
        enc(|w| w.array(&NdArray::<f32>::zeros(vec![2, 4]))),
    ));
    assert_eq!(
        e.kind(),
        &ErrorKind::NamedDimMismatch {
            dim: "W".into(),
            expected: 3,
            found: 4
        }
    );
    assert_eq!(e.path(), "ImageSample.depth");
    // Absent optionals bind nothing: a depth alone of any size is fine.
    let mut f = image_fields();
    f[3].1 = enc(|w| w.nil());
    f[4].1 = enc(|w| w.array(&NdArray::<f32>::zeros(vec![5, 7])));
    ImageSample::from_msgpack(&map(&f)).unwrap();
}

#[test]
fn payload_length_mismatch() {
    let e = image_err(&image_with("mask", payload("|u1", &[2, 3], &[0; 5])));
    assert_eq!(
        e.kind(),
        &ErrorKind::PayloadLength {
            expected: 6,
            found: 5
        }
    );
    assert_eq!(e.path(), "ImageSample.mask");
}

#[test]
fn missing_required_field() {
    let e = image_err(&image_without(&["label"]));
    assert_eq!(e.kind(), &ErrorKind::MissingField);
    assert_eq!(e.path(), "ImageSample.label");
    let e = image_err(&image_without(&["image"]));
    assert_eq!(e.path(), "ImageSample.image");
}

#[test]
fn lengths_beyond_input() {
    // A str header claiming more bytes than remain.
    let e = image_err(&image_with("label", vec![0xdb, 0, 0, 0x10, 0]));
    assert!(
        matches!(e.kind(), ErrorKind::LengthTooLarge { len: 4096, .. }),
        "{e}"
    );
    // Structural faults are reported at the sample (conformance/README.md).
    assert_eq!(e.path(), "ImageSample");
    // A list header claiming 2^32-1 items.
    let e = image_err(&image_with("tags", vec![0xdd, 0xff, 0xff, 0xff, 0xff]));
    assert!(matches!(e.kind(), ErrorKind::LengthTooLarge { .. }), "{e}");
    assert_eq!(e.path(), "ImageSample");
    // A map header claiming more entries than bytes.
    let e = image_err(&[0xdf, 0x10, 0, 0, 0]);
    assert!(matches!(e.kind(), ErrorKind::LengthTooLarge { .. }), "{e}");
    assert_eq!(e.path(), "ImageSample");
}

#[test]
fn unknown_variant() {
    let e = image_err(&image_with("split", enc(|w| w.str("bogus"))));
    assert_eq!(e.kind(), &ErrorKind::UnknownVariant("bogus".into()));
    assert_eq!(e.path(), "ImageSample.split");
}

#[test]
fn unknown_keys_are_skipped() {
    let mut f = image_fields();
    f.insert(
        2,
        (
            "extra",
            enc(|w| {
                w.map_header(1);
                w.str("deep");
                w.array_header(2);
                w.bin(&[1, 2, 3]);
                w.f64(1.5);
            }),
        ),
    );
    f.push(("zzz", enc(|w| w.nil())));
    let x = ImageSample::from_msgpack(&map(&f)).unwrap();
    assert_eq!(x, ImageSample::from_msgpack(&map(&image_fields())).unwrap());
    let b = map(&f);
    let v = ImageSampleRef::from_msgpack(&b).unwrap();
    assert_eq!(v.to_owned(), x);
}

#[test]
fn missing_defaulted_and_optional_fields_are_filled() {
    let b = image_without(&["confidence", "mask", "depth", "split"]);
    let x = ImageSample::from_msgpack(&b).unwrap();
    assert_eq!(x.confidence, 1.0);
    assert_eq!(x.mask, None);
    assert_eq!(x.depth, None);
    assert_eq!(x.split, Split::Train);
    assert_eq!(ImageSampleRef::from_msgpack(&b).unwrap().to_owned(), x);
    // Keys in any order.
    let mut f = image_fields();
    f.reverse();
    assert_eq!(
        ImageSample::from_msgpack(&map(&f)).unwrap(),
        ImageSample::from_msgpack(&map(&image_fields())).unwrap()
    );
}

#[test]
fn ints_and_floats_in_any_encoding_that_fits() {
    // confidence as a float32 and as an int; scalars widen.
    let x =
        ImageSample::from_msgpack(&image_with("confidence", vec![0xca, 0x3f, 0, 0, 0])).unwrap();
    assert_eq!(x.confidence, 0.5);
    let x = ImageSample::from_msgpack(&image_with("confidence", enc(|w| w.int(1)))).unwrap();
    assert_eq!(x.confidence, 1.0);
}

// ---- nested components ------------------------------------------------------------------

/// A valid RobotStep as msgpack fields, from the generated encoder of the default.
fn robot_fields() -> Vec<(String, Vec<u8>)> {
    let x = RobotStep::default();
    let pose = enc(|w| x.pose.write_msgpack(w));
    let arm = enc(|w| x.arms[0].write_msgpack(w));
    let poses = |n: usize| {
        enc(|w| {
            w.array_header(n);
            for _ in 0..n {
                w.raw(&pose);
            }
        })
    };
    vec![
        ("step".into(), enc(|w| w.int(1))),
        ("pose".into(), pose.clone()),
        ("history".into(), poses(8)),
        (
            "arms".into(),
            enc(|w| {
                w.array_header(2);
                w.raw(&arm);
                w.raw(&arm);
            }),
        ),
        ("sensor".into(), enc(|w| w.str("imu"))),
        ("frame".into(), enc(|w| w.nil())),
        (
            "command".into(),
            enc(|w| w.array(&NdArray::<f32>::zeros(vec![3]))),
        ),
        ("goal".into(), enc(|w| w.nil())),
        ("notes".into(), enc(|w| w.map_header(0))),
    ]
}

fn robot_map(f: &[(String, Vec<u8>)]) -> Vec<u8> {
    let f: Vec<(&str, Vec<u8>)> = f.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    map(&f)
}

fn robot_err(bytes: &[u8]) -> Error {
    let e = RobotStep::from_msgpack(bytes).expect_err("owned reader accepted bad input");
    let v = RobotStepRef::from_msgpack(bytes).expect_err("view reader accepted bad input");
    assert_eq!(e, v);
    e
}

#[test]
fn component_array_length_and_nested_paths() {
    let base = robot_fields();
    RobotStep::from_msgpack(&robot_map(&base)).unwrap();
    // history: Pose[8] with 7 poses.
    let mut f = base.clone();
    let pose = f[1].1.clone();
    f[2].1 = enc(|w| {
        w.array_header(7);
        for _ in 0..7 {
            w.raw(&pose);
        }
    });
    let e = robot_err(&robot_map(&f));
    assert_eq!(
        e.kind(),
        &ErrorKind::ShapeMismatch {
            expected: "[8]".into(),
            found: vec![7]
        }
    );
    assert_eq!(e.path(), "RobotStep.history");
    // history[3].xyz with the wrong dtype: the path goes through the index.
    let mut f = base.clone();
    let bad_pose = map(&[
        ("xyz", enc(|w| w.array(&NdArray::<f64>::zeros(vec![3])))),
        ("quat", enc(|w| w.array(&NdArray::<f32>::zeros(vec![4])))),
    ]);
    f[2].1 = enc(|w| {
        w.array_header(8);
        for i in 0..8 {
            w.raw(if i == 3 { &bad_pose } else { &pose });
        }
    });
    let e = robot_err(&robot_map(&f));
    assert!(matches!(e.kind(), ErrorKind::DtypeMismatch { .. }));
    assert_eq!(e.path(), "RobotStep.history[3].xyz");
    // arms[1].base.quat missing.
    let mut f = base.clone();
    let arm_missing = map(&[
        ("angles", enc(|w| w.array(&NdArray::<f32>::zeros(vec![7])))),
        ("gripper_closed", enc(|w| w.bool(false))),
        (
            "base",
            map(&[("xyz", enc(|w| w.array(&NdArray::<f32>::zeros(vec![3]))))]),
        ),
    ]);
    let ok_arm = enc(|w| RobotStep::default().arms[0].write_msgpack(w));
    f[3].1 = enc(|w| {
        w.array_header(2);
        w.raw(&ok_arm);
        w.raw(&arm_missing);
    });
    let e = robot_err(&robot_map(&f));
    assert_eq!(e.kind(), &ErrorKind::MissingField);
    assert_eq!(e.path(), "RobotStep.arms[1].base.quat");
    // A map value with the wrong type: the path has the key.
    let mut f = base;
    f[8].1 = enc(|w| {
        w.map_header(1);
        w.str("cam0");
        w.int(1);
    });
    let e = robot_err(&robot_map(&f));
    assert_eq!(e.path(), "RobotStep.notes[\"cam0\"]");
}

#[test]
fn nested_component_array_inner_dim() {
    // Board.cells: Cell[3, 3] is an array of 3 arrays of 3 maps.
    let cell = enc(|w| gen_tests::everything::Cell::default().write_msgpack(w));
    let row = |n: usize| {
        enc(|w| {
            w.array_header(n);
            for _ in 0..n {
                w.raw(&cell);
            }
        })
    };
    let board = |rows: &[usize]| {
        map(&[
            (
                "cells",
                enc(|w| {
                    w.array_header(rows.len());
                    for &n in rows {
                        w.raw(&row(n));
                    }
                }),
            ),
            ("turn", enc(|w| w.int(0))),
        ])
    };
    let ok = Board::from_msgpack(&board(&[3, 3, 3])).unwrap();
    assert_eq!(ok.cells.len(), 9);
    assert_eq!(ok.to_msgpack(), board(&[3, 3, 3]));
    let e = Board::from_msgpack(&board(&[3, 2, 3])).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::ShapeMismatch { .. }), "{e}");
    assert_eq!(e.path(), "Board.cells[1]");
    let e = Board::from_msgpack(&board(&[3, 3])).unwrap_err();
    assert_eq!(e.path(), "Board.cells");
    // validate() reports the flat length.
    let mut b = Board::default();
    b.cells.pop();
    let e = b.validate().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::ShapeMismatch { .. }), "{e}");
    assert_eq!(e.path(), "Board.cells");
    // A bad cell deep inside reports its multi-index.
    let mut b = Board::default();
    b.cells[5].kind = 16; // @bits(4)
    let e = b.validate().unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::BitsOverflow { value: 16, bits: 4 });
    assert_eq!(e.path(), "Board.cells[1][2].kind");
}

// ---- @packed ----------------------------------------------------------------------------

#[test]
fn packed_values_must_fit() {
    let mut v = vec![0u8; 324];
    v[10] = 8; // 3 bits
    let bytes = map(&[
        (
            "faces",
            enc(|w| w.array(&NdArray::new(vec![6, 54], v.clone()).unwrap())),
        ),
        ("moves", enc(|w| w.int(1))),
    ]);
    let e = PuzzleState::from_msgpack(&bytes).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::BitsOverflow { value: 8, bits: 3 });
    // At the field, not the element (conformance/README.md).
    assert_eq!(e.path(), "PuzzleState.faces");
    let e = PuzzleStateRef::from_msgpack(&bytes).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::BitsOverflow { value: 8, bits: 3 });
    // The setter checks values and shape.
    let mut p = PuzzleState::default();
    let e = p
        .set_faces_unpacked(&NdArray::new(vec![6, 54], v).unwrap())
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::BitsOverflow { .. }));
    let e = p
        .set_faces_unpacked(&NdArray::zeros(vec![54, 6]))
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::ShapeMismatch { .. }));
    assert_eq!(
        p,
        PuzzleState::default(),
        "failed setters leave the field alone"
    );
}

// ---- validate() -------------------------------------------------------------------------

#[test]
fn validate_rejects() {
    let ok = ImageSample::from_msgpack(&map(&image_fields())).unwrap();
    let mut x = ok.clone();
    x.confidence = 1.5;
    let e = x.validate().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::OutOfRange { .. }), "{e}");
    assert_eq!(e.path(), "ImageSample.confidence");
    let mut x = ok.clone();
    x.depth = Some(NdArray::zeros(vec![2, 4]));
    let e = x.validate().unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::NamedDimMismatch { .. }),
        "{e}"
    );
    assert_eq!(e.path(), "ImageSample.depth");
    let mut x = ok;
    x.image = NdArray::zeros(vec![1]);
    assert_eq!(x.validate().unwrap_err().path(), "ImageSample.image");
    // @bits on an unpacked array.
    let mut a = AggState::default();
    a.codes.as_mut_slice()[2] = 4096;
    let e = a.validate().unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::BitsOverflow {
            value: 4096,
            bits: 12
        }
    );
    assert_eq!(e.path(), "AggState.codes");
    // Component array of the wrong length.
    let mut r = RobotStep::default();
    r.history.pop();
    assert_eq!(r.validate().unwrap_err().path(), "RobotStep.history");
    // @range inside a component array element.
    let mut r = RobotStep::default();
    r.arms[1].angles.as_mut_slice()[0] = 4.0;
    let e = r.validate().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::OutOfRange { .. }));
    assert_eq!(e.path(), "RobotStep.arms[1].angles");
}

// ---- JSON -------------------------------------------------------------------------------

#[test]
fn json_rejects() {
    let ok = ImageSample::from_msgpack(&map(&image_fields())).unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok.to_json()).unwrap();
    let with = |key: &str, v: serde_json::Value| {
        let mut j = json.clone();
        j[key] = v;
        j.to_string()
    };
    let without = |key: &str| {
        let mut j = json.clone();
        j.as_object_mut().unwrap().remove(key);
        j.to_string()
    };
    assert_eq!(ImageSample::from_json(&json.to_string()).unwrap(), ok);
    let e = ImageSample::from_json(&without("label")).unwrap_err();
    // Kind and path as the msgpack reader gives them (serde's message is mapped back).
    assert_eq!(e.code(), "missing_field", "{e}");
    assert_eq!(e.path(), "ImageSample.label");
    // Optional and defaulted fields may be absent; null is None.
    let mut j = json.clone();
    for k in ["confidence", "split", "mask"] {
        j.as_object_mut().unwrap().remove(k);
    }
    j["depth"] = serde_json::Value::Null;
    let x = ImageSample::from_json(&j.to_string()).unwrap();
    assert_eq!(
        (x.confidence, x.split, x.mask, x.depth),
        (1.0, Split::Train, None, None)
    );
    // Shape checks: fixed, and named dims across fields.
    let e = ImageSample::from_json(&with("depth", serde_json::json!([[1.0, 2.0]]))).unwrap_err();
    assert!(
        e.to_string()
            .contains("ImageSample.depth: dim H is 1 here but 2"),
        "{e}"
    );
    let e = ImageSample::from_json(&with("image", serde_json::json!([1.0]))).unwrap_err();
    assert!(
        e.to_string()
            .contains("ImageSample.image: expected shape [224, 224, 3]"),
        "{e}"
    );
    // dtype and base64.
    let e = ImageSample::from_json(&with(
        "mask",
        serde_json::json!({"data_b64": "AAAAAAAA", "shape": [2, 3], "dtype": "int8"}),
    ))
    .unwrap_err();
    assert!(
        e.to_string().contains("expected dtype |u1, found |i1"),
        "{e}"
    );
    let e = ImageSample::from_json(&with(
        "mask",
        serde_json::json!({"data_b64": "!!", "shape": [2, 3], "dtype": "uint8"}),
    ))
    .unwrap_err();
    assert!(e.to_string().contains("base64"), "{e}");
    let e = ImageSample::from_json(&with("split", serde_json::json!("bogus"))).unwrap_err();
    assert!(
        e.to_string().contains("unknown enum variant \"bogus\""),
        "{e}"
    );
    // Unknown keys are ignored.
    let x = ImageSample::from_json(&with("zzz", serde_json::json!({"a": [1, 2]}))).unwrap();
    assert_eq!(x, ok);
    // Not JSON at all.
    assert!(ImageSample::from_json("[1, 2]").is_err());
}

// ---- Rejections both runtimes agree on (docs/language.md) ------------------------------
// The Python side: python/tests/test_parity_rejections.py.

fn everything_json() -> serde_json::Value {
    serde_json::from_str(&Everything::default().to_json()).unwrap()
}

fn everything_err(j: &serde_json::Value) -> Error {
    Everything::from_json(&j.to_string()).unwrap_err()
}

#[test]
fn json_non_finite_floats_are_strings() {
    let mut s = Everything {
        f: f32::NAN,
        d: f64::INFINITY, // outside @range(0, 10) on purpose: written, then refused on read
        h: schemac_runtime::half::f16::NEG_INFINITY,
        ..Default::default()
    };
    s.scores.insert("k".into(), f64::NAN);
    let j: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    // serde_json alone writes null, which no reader accepts back.
    assert_eq!(j["f"], "NaN");
    assert_eq!(j["d"], "Infinity");
    assert_eq!(j["h"], "-Infinity");
    assert_eq!(j["scores"]["k"], "NaN");
    let e = everything_err(&j);
    assert_eq!(
        (e.code(), e.path()),
        ("out_of_range", "Everything.d"),
        "{e}"
    );
    let mut j = j;
    j["d"] = serde_json::json!(1.0);
    j["f"] = serde_json::json!("-inf");
    let back = Everything::from_json(&j.to_string()).unwrap();
    assert!(back.f.is_infinite() && back.f < 0.0 && back.scores["k"].is_nan());
    j["f"] = serde_json::json!("nope");
    assert_eq!(everything_err(&j).code(), "wrong_type");
}

#[test]
fn json_integral_floats_and_overflow() {
    let mut j = everything_json();
    j["i_32"] = serde_json::json!(3.0);
    assert_eq!(Everything::from_json(&j.to_string()).unwrap().i_32, 3);
    j["i_32"] = serde_json::json!(3.5);
    let e = everything_err(&j);
    assert_eq!(
        (e.code(), e.path()),
        ("wrong_type", "Everything.i_32"),
        "{e}"
    );
    // Numbers are shown as written: 2^64 is not u64::MAX.
    let mut j = everything_json();
    let text = j.to_string().replace(
        "\"u_64\":18446744073709551615",
        "\"u_64\":18446744073709551616",
    );
    assert!(text.contains("18446744073709551616"));
    let e = Everything::from_json(&text).unwrap_err();
    assert_eq!(
        (e.code(), e.path()),
        ("out_of_range", "Everything.u_64"),
        "{e}"
    );
    assert!(e.to_string().contains("18446744073709551616"), "{e}");
    // A finite f16 / f32 beyond the dtype is out_of_range, not infinity.
    j["h"] = serde_json::json!(1e10);
    let e = everything_err(&j);
    assert_eq!(
        (e.code(), e.path()),
        ("out_of_range", "Everything.h"),
        "{e}"
    );
    let mut j = everything_json();
    j["f"] = serde_json::json!(1e39);
    let e = everything_err(&j);
    assert_eq!(
        (e.code(), e.path()),
        ("out_of_range", "Everything.f"),
        "{e}"
    );
    // @range is checked on the way in.
    let mut j = everything_json();
    j["d"] = serde_json::json!(11.0);
    assert_eq!(everything_err(&j).code(), "out_of_range");
}

#[test]
fn duplicate_keys_in_msgpack_and_json() {
    // msgpack: a sample field given twice.
    let mut fields = image_fields();
    fields.push(("label", enc(|w| w.str("dog"))));
    let e = ImageSample::from_msgpack(&map(&fields)).unwrap_err();
    assert_eq!(e.code(), "duplicate_key", "{e}");
    assert_eq!(e.path(), "ImageSample.label");
    // JSON: a sample field, and a map<str, T> key.
    let text = everything_json().to_string();
    let dup_field = format!("{},\"i_32\":4}}", &text[..text.len() - 1]);
    let e = Everything::from_json(&dup_field).unwrap_err();
    assert_eq!(e.code(), "duplicate_key", "{e}");
    let dup_map = text.replace("\"meta\":{}", "\"meta\":{\"a\":\"x\",\"a\":\"y\"}");
    assert_ne!(dup_map, text);
    let e = Everything::from_json(&dup_map).unwrap_err();
    assert_eq!(e.code(), "duplicate_key", "{e}");
    // A BOM before the text.
    let e = Everything::from_json(&format!("\u{feff}{text}")).unwrap_err();
    assert_eq!(e.code(), "malformed", "{e}");
}

/// JSON errors inside a component name the path from the sample, as msgpack errors do.
#[test]
fn json_component_error_paths() {
    let mut j = everything_json();
    j["pose"]["xyz"] = serde_json::json!([1.0, 2.0]);
    let e = everything_err(&j);
    assert_eq!(e.path(), "Everything.pose.xyz", "{e}");
    let mut j = everything_json();
    j["poses"] = serde_json::json!({"k": {"xyz": [1.0, 2.0], "quat": [0.0, 0.0, 0.0, 1.0]}});
    let e = everything_err(&j);
    assert_eq!(e.path(), "Everything.poses[\"k\"].xyz", "{e}");
    // List elements and 1-d component arrays name their index.
    let mut j = everything_json();
    j["words"] = serde_json::json!(["a", 3]);
    assert_eq!(everything_err(&j).path(), "Everything.words[1]");
    let mut j = everything_json();
    j["nested_lists"] = serde_json::json!([[1], [2, "x"]]);
    assert_eq!(everything_err(&j).path(), "Everything.nested_lists[1][1]");
    let mut j = everything_json();
    j["trail"][2]["xyz"] = serde_json::json!([1.0, 2.0]);
    assert_eq!(everything_err(&j).path(), "Everything.trail[2].xyz");
}

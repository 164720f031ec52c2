//! serde in both forms, against independent truths: for binary formats the generated
//! `Serialize` is the atdata MessagePack form, so `rmp_serde::to_vec_named(&x)` equals
//! `x.to_msgpack()` byte for byte and `rmp_serde::from_slice` reads what `from_msgpack`
//! reads (the atdata golden vectors, made by Python atdata, included); another binary
//! format (CBOR through ciborium) round-trips; human-readable formats keep the JSON form
//! (`serde_json::to_string(&x) == x.to_json()`).

use schemac_runtime::rng::Rng;
use serde_json::Value;

/// A test per record over `seeds` random instances plus the default.
macro_rules! forms {
    ($name:ident, $m:ident :: $t:ident, $seeds:expr) => {
        #[test]
        fn $name() {
            use gen_tests::$m::$t;
            let mut xs: Vec<$t> = (0..$seeds).map(|s| $t::random(&mut Rng::new(s))).collect();
            xs.push($t::default());
            for x in xs {
                let bytes = x.to_msgpack();
                let rmp = rmp_serde::to_vec_named(&x).unwrap();
                assert_eq!(
                    rmp,
                    bytes,
                    "{}: rmp_serde differs from to_msgpack\n{x:?}",
                    $t::NAME
                );
                let back: $t = rmp_serde::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{}: rmp_serde::from_slice: {e}\n{x:?}", $t::NAME));
                assert_eq!(back, x);
                let mut cbor = Vec::new();
                ciborium::into_writer(&x, &mut cbor).unwrap();
                let back: $t = ciborium::from_reader(&cbor[..])
                    .unwrap_or_else(|e| panic!("{}: ciborium: {e}\n{x:?}", $t::NAME));
                assert_eq!(back, x);
                assert_eq!(serde_json::to_string(&x).unwrap(), x.to_json());
            }
        }
    };
}

forms!(vision_image_sample, vision::ImageSample, 16);
forms!(common_pose, common::Pose, 16);
forms!(robot_step, robot::RobotStep, 64);
forms!(robot_arm, robot::Arm, 16);
forms!(puzzle_agg_state, puzzle::AggState, 32);
forms!(puzzle_agg5, puzzle::Agg5, 32);
forms!(puzzle_puzzle_state, puzzle::PuzzleState, 32);
forms!(puzzle_tile_state, puzzle::TileState, 32);
forms!(everything_cell, everything::Cell, 16);
forms!(everything_board, everything::Board, 32);
forms!(everything_everything, everything::Everything, 128);
forms!(everything_packed, everything::Packed, 32);
forms!(everything_field_packed, everything::FieldPacked, 32);
forms!(everything_unpacked, everything::Unpacked, 32);
forms!(atdata_prims, atdata_cases::Prims, 16);
forms!(atdata_image_meta, atdata_cases::ImageMeta, 16);
forms!(edges_edges, edges::Edges, 128);
forms!(edges_dot, edges::Dot, 16);
forms!(edges_empty, edges::Empty, 1);
forms!(edges_holds_empty, edges::HoldsEmpty, 16);

fn golden(name: &str) -> Value {
    let path = format!(
        "{}/../runtime/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every atdata golden vector (bytes written by Python atdata) reads through rmp_serde as
/// through `from_msgpack`, and writes back to the same bytes.
#[test]
fn atdata_golden_vectors_through_rmp_serde() {
    use gen_tests::atdata_cases::{ImageMeta, Prims};
    let file = golden("atdata.json");
    let cases = file["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        let bytes = unhex(c["hex"].as_str().unwrap());
        match c["name"].as_str().unwrap() {
            "Prims" => {
                let x: Prims = rmp_serde::from_slice(&bytes).unwrap();
                assert_eq!(x, Prims::from_msgpack(&bytes).unwrap());
                assert_eq!(rmp_serde::to_vec_named(&x).unwrap(), bytes);
            }
            "ImageMeta" => {
                let x: ImageMeta = rmp_serde::from_slice(&bytes).unwrap();
                assert_eq!(x, ImageMeta::from_msgpack(&bytes).unwrap());
                assert_eq!(rmp_serde::to_vec_named(&x).unwrap(), bytes);
            }
            other => panic!("atdata.json has a case this test does not know: {other}"),
        }
    }
}

/// Checks run in the binary form too: a shape the schema forbids is an error naming the
/// field, as `from_msgpack` reports it.
#[test]
fn binary_form_checks_shapes_and_ranges() {
    use gen_tests::vision::ImageSample;
    use schemac_runtime::array::NdArray;
    let mut x = ImageSample::random(&mut Rng::new(1));
    x.image = NdArray::zeros(vec![2, 2, 3]);
    let bytes = x.to_msgpack();
    let want = ImageSample::from_msgpack(&bytes).unwrap_err();
    let got = rmp_serde::from_slice::<ImageSample>(&bytes).unwrap_err();
    assert!(got.to_string().contains("image"), "{got}");
    assert!(want.path().contains("image"));
    let mut x = ImageSample::random(&mut Rng::new(1));
    x.confidence = 2.0;
    let bytes = x.to_msgpack();
    let got = rmp_serde::from_slice::<ImageSample>(&bytes).unwrap_err();
    assert!(got.to_string().contains("confidence"), "{got}");
}

/// An array in the msgpack-numpy form (bytes written by Python msgpack-numpy) reads
/// through rmp_serde as through `from_msgpack`.
#[test]
fn msgpack_numpy_golden_through_rmp_serde() {
    use gen_tests::atdata_cases::F32x2x3;
    use schemac_runtime::msgpack::Writer;
    let file = golden("msgpack_numpy.json");
    let c = file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "f32_2x3")
        .unwrap();
    let mut w = Writer::new();
    w.map_header(1);
    w.str("a");
    w.raw(&unhex(c["hex"].as_str().unwrap()));
    let bytes = w.into_bytes();
    let want = F32x2x3::from_msgpack(&bytes).unwrap();
    let got: F32x2x3 = rmp_serde::from_slice(&bytes).unwrap();
    assert_eq!(got, want);
    assert_eq!(got.a.shape(), &[2, 3]);
}

//! The conventions of the generated API (what other code is written against): enum
//! spelling and conversions, defaults from the schema, shape constants, `@packed`
//! accessors, the JSON form of bytes/f16/component arrays, views filling defaults, and the
//! documented `random()` recipe.

use gen_tests::edges::{Dot, Edges, EdgesRef, Kind};
use gen_tests::everything::{Everything, Mode};
use gen_tests::vision::{ImageSample, Split};
use schemac_runtime::array::{DimSpec, NdArray};
use schemac_runtime::half::{bf16, f16};
use schemac_runtime::msgpack::Writer;
use schemac_runtime::rng::Rng;

#[test]
fn enums() {
    assert_eq!(Kind::ALL, [Kind::Type, Kind::FnCall, Kind::Upper]);
    assert_eq!(Kind::FnCall.as_str(), "fn_call");
    assert_eq!("type".parse::<Kind>().unwrap(), Kind::Type);
    assert_eq!("UPPER".parse::<Kind>().unwrap(), Kind::Upper);
    let e = "Upper".parse::<Kind>().unwrap_err();
    assert_eq!(e.to_string(), "unknown enum variant \"Upper\"");
    assert_eq!(Kind::Upper.index(), 2);
    assert_eq!(Kind::from_index(1), Some(Kind::FnCall));
    assert_eq!(Kind::from_index(3), None);
    assert_eq!(Kind::default(), Kind::Type);
    assert_eq!(Kind::FnCall.to_string(), "fn_call");
    assert_eq!(serde_json::to_string(&Split::Val).unwrap(), "\"val\"");
    assert_eq!(
        serde_json::from_str::<Split>("\"test\"").unwrap(),
        Split::Test
    );
    assert!(serde_json::from_str::<Split>("\"Test\"").is_err());
}

#[test]
fn defaults_follow_the_schema() {
    let e = Everything::default();
    assert!(e.b);
    assert_eq!(e.i_8, -8);
    assert_eq!(e.i_64, -9_000_000_000);
    assert_eq!(e.u_8, 255);
    assert_eq!(e.u_64, u64::MAX);
    assert_eq!(e.h, f16::from_f64(0.5));
    assert_eq!(e.bh, bf16::ZERO);
    assert_eq!(e.f, 1e-3);
    assert_eq!(e.d, 2.5);
    assert_eq!(e.grid.shape(), &[2, 3]);
    // Named (W) and dynamic dims are 0; pinned H = 4 is fixed.
    assert_eq!(e.image.shape(), &[4, 0, 3]);
    assert_eq!(e.tokens.shape(), &[0]);
    assert_eq!(e.fill.as_slice(), &[7; 4]);
    assert_eq!(e.name, "unnamed");
    assert_eq!(e.mode, Mode::Val);
    assert_eq!(e.sensor, None);
    assert_eq!(e.trail.len(), 4);
    assert!(e.path.is_empty());
    assert_eq!(e.board.cells.len(), 9);
    e.validate().unwrap();

    let d = Edges::default();
    assert_eq!(d.r#type, 3);
    assert_eq!(d.r#match, "m\"q\\");
    assert_eq!(d.camelCase, -2);
    assert_eq!(d.small_unpacked(), 5);
    assert_eq!(d.maybe_small_unpacked(), None);
    assert_eq!(d.maybe_small_d_unpacked(), Some(9));
    assert_eq!(d.maybe_half, Some(bf16::from_f64(1.5)));
    assert_eq!(d.kind, Kind::FnCall);
    assert_eq!(d.flags.as_slice(), &[true; 3]);
    assert_eq!(d.halves_arr.as_slice(), &[f16::from_f64(0.25); 2]);
    assert_eq!(d.cube.len(), 8);
}

#[test]
fn associated_constants() {
    assert_eq!(ImageSample::NAME, "ImageSample");
    assert_eq!(ImageSample::FINGERPRINT.len(), 16);
    assert_eq!(
        ImageSample::IMAGE_SHAPE,
        &[DimSpec::Fixed(224), DimSpec::Fixed(224), DimSpec::Fixed(3)]
    );
    assert_eq!(
        ImageSample::MASK_SHAPE,
        &[DimSpec::Named("H"), DimSpec::Named("W")]
    );
    assert_eq!(Edges::MAYBE_DOTS_SHAPE, &[DimSpec::Any, DimSpec::Fixed(3)]);
    assert_eq!(Everything::IMAGE_SHAPE[0], DimSpec::Fixed(4));
}

#[test]
fn packed_accessors() {
    let mut x = Edges::default();
    x.set_small_unpacked(7).unwrap();
    assert_eq!(x.small, [7]);
    assert!(x.set_small_unpacked(8).is_err());
    assert_eq!(x.small_unpacked(), 7);
    // Signed values are stored as their low bits and sign-extended back.
    x.set_maybe_small_unpacked(Some(-1)).unwrap();
    assert_eq!(x.maybe_small, Some([0x0f]));
    assert_eq!(x.maybe_small_unpacked(), Some(-1));
    assert!(x.set_maybe_small_unpacked(Some(8)).is_err());
    x.set_maybe_small_unpacked(None).unwrap();
    assert_eq!(x.maybe_small, None);
    let grid = NdArray::new(vec![2, 3], vec![0u8, 1, 2, 3, 0, 1]).unwrap();
    x.set_maybe_grid_unpacked(Some(&grid)).unwrap();
    // 2 bits each, LSB first: 0b11_10_01_00 = 0xe4, then 0b01_00 = 0x04.
    assert_eq!(x.maybe_grid, Some([0xe4, 0x04]));
    assert_eq!(x.maybe_grid_unpacked(), Some(grid.clone()));
    // On the wire: the ordinary array and scalars.
    let bytes = x.to_msgpack();
    let v = EdgesRef::from_msgpack(&bytes).unwrap();
    assert_eq!(v.small, 7);
    assert_eq!(v.maybe_grid.as_ref().unwrap().to_owned(), grid);
    assert_eq!(v.to_owned(), x);
}

#[test]
fn json_form() {
    let mut x = Edges {
        blobs: vec![vec![0, 1, 2], vec![]],
        maybe_blob: Some(b"hi".to_vec()),
        ..Edges::default()
    };
    x.blob_map.insert("k".into(), vec![255]);
    x.halves = vec![f16::from_f64(1.5)];
    x.cube[5].v = -3;
    let j: serde_json::Value = serde_json::from_str(&x.to_json()).unwrap();
    // bytes are standard padded base64; f16 are numbers; enums names.
    assert_eq!(j["blobs"], serde_json::json!(["AAEC", ""]));
    assert_eq!(j["maybe_blob"], "aGk=");
    assert_eq!(j["blob_map"], serde_json::json!({"k": "/w=="}));
    assert_eq!(j["halves"], serde_json::json!([1.5]));
    assert_eq!(j["kind"], "fn_call");
    assert_eq!(j["maybe_small"], serde_json::Value::Null);
    assert_eq!(j["small"], 5);
    assert_eq!(j["type"], 3);
    assert_eq!(j["camelCase"], -2);
    // Component arrays nest like the wire: cube is Dot[2, 2, 2]; flat index 5 is [1][0][1].
    assert_eq!(j["cube"][1][0][1]["v"], -3);
    assert_eq!(j["cube"].as_array().unwrap().len(), 2);
    assert_eq!(j["cube"][0].as_array().unwrap().len(), 2);
    assert_eq!(Edges::from_json(&x.to_json()).unwrap(), x);
    // A ragged nesting is rejected with the path of the short list.
    let mut bad = j.clone();
    bad["cube"][1][1] = serde_json::json!([bad["cube"][0][0][0].clone()]);
    let e = Edges::from_json(&bad.to_string()).unwrap_err();
    assert!(e.to_string().contains("expected shape [2]"), "{e}");
}

#[test]
fn missing_defaulted_keys_are_filled_by_both_readers() {
    // Every scalar, str and fixed array of Edges is optional or defaulted; only the
    // containers and component arrays are required.
    let x = Edges::default();
    let full = x.to_msgpack();
    let view = EdgesRef::from_msgpack(&full).unwrap();
    assert_eq!(view.to_owned(), x);
    // Drop the defaulted keys: both readers fill them.
    let mut w = Writer::new();
    let keep = [
        "halves",
        "blobs",
        "blob_map",
        "cube",
        "dot_lists",
        "dot_map",
        "nested_maps",
        "kinds",
        "ranged",
    ];
    w.map_header(keep.len());
    for k in keep {
        w.str(k);
        match k {
            "cube" => {
                // Dot[2, 2, 2]: 2 arrays of 2 arrays of 2 maps.
                let d = Dot::default();
                w.array_header(2);
                for _ in 0..2 {
                    w.array_header(2);
                    for _ in 0..2 {
                        w.array_header(2);
                        for _ in 0..2 {
                            d.write_msgpack(&mut w);
                        }
                    }
                }
            }
            "ranged" => w.array(&NdArray::<f32>::zeros(vec![0])),
            "blob_map" | "dot_map" | "nested_maps" => w.map_header(0),
            _ => w.array_header(0),
        }
    }
    let bytes = w.into_bytes();
    let owned = Edges::from_msgpack(&bytes).unwrap();
    assert_eq!(owned, x);
    let view = EdgesRef::from_msgpack(&bytes).unwrap();
    assert_eq!(view.r#match, "m\"q\\");
    assert_eq!(view.small, 5);
    assert_eq!(view.maybe_small_d, Some(9));
    assert_eq!(
        view.halves_arr.iter().collect::<Vec<_>>(),
        [f16::from_f64(0.25); 2]
    );
    assert_eq!(view.to_owned(), x);
}

/// The recipe documented in `schemac_runtime::gen_support`, reproduced by hand with the
/// raw generator for `vision.ImageSample` (what another runtime must do to match).
#[test]
fn random_recipe() {
    let seed = 11;
    let x = ImageSample::random(&mut Rng::new(seed));
    let mut rng = Rng::new(seed);
    // image: fixed shape (no draws), 150528 f32 in (-1, 1).
    let image: Vec<f32> = (0..224 * 224 * 3)
        .map(|_| rng.range_f64(-1.0, 1.0) as f32)
        .collect();
    assert_eq!(x.image.as_slice(), &image[..]);
    // label: string(8).
    assert_eq!(x.label, rng.string(8));
    // confidence: @range(0, 1).
    assert_eq!(x.confidence, rng.range_f64(0.0, 1.0));
    // mask: optional → bool; then H and W (first use) below(5) each, then u8 values.
    let mut h_w = None;
    if rng.bool() {
        let (h, w) = (rng.below(5) as usize, rng.below(5) as usize);
        h_w = Some((h, w));
        let vals: Vec<u8> = (0..h * w).map(|_| rng.below(256) as u8).collect();
        assert_eq!(x.mask.as_ref().unwrap().shape(), &[h, w]);
        assert_eq!(x.mask.as_ref().unwrap().as_slice(), &vals[..]);
    } else {
        assert_eq!(x.mask, None);
    }
    // depth: optional; H and W reused when mask drew them.
    if rng.bool() {
        let (h, w) = h_w.unwrap_or_else(|| (rng.below(5) as usize, rng.below(5) as usize));
        assert_eq!(x.depth.as_ref().unwrap().shape(), &[h, w]);
        for v in x.depth.as_ref().unwrap().as_slice() {
            assert_eq!(*v, rng.range_f64(-1.0, 1.0) as f32);
        }
    } else {
        assert_eq!(x.depth, None);
    }
    // tags: below(4) strings.
    let n = rng.below(4);
    let tags: Vec<String> = (0..n).map(|_| rng.string(8)).collect();
    assert_eq!(x.tags, tags);
    // split: below(3).
    assert_eq!(x.split, Split::ALL[rng.below(3) as usize]);
}

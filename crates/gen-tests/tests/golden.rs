//! The generated types against bytes produced by the real Python libraries (the runtime's
//! golden vectors in `crates/runtime/tests/data`): atdata `@packable` msgpack,
//! msgpack-numpy, truss-chains JSON, and xtructure's per-field packing. Values come from
//! each case's `values`, are encoded with the generated code and compared byte for byte;
//! the golden bytes are decoded with the generated code (owned and zero-copy) and compared
//! with the same values.

use gen_tests::atdata_cases::{
    F32x2x3, F64x2, F64x2Ref, ImageMeta, ImageMetaRef, Prims, PrimsRef, PuzzleState,
    PuzzleStateRef, U8x5,
};
use schemac_runtime::array::NdArray;
use schemac_runtime::msgpack::Writer;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../runtime/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn case<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// An f32 array from a golden `{"dtype", "shape", "data"}` object.
fn f32_array(v: &Value) -> NdArray<f32> {
    assert_eq!(v["dtype"], "f32");
    let shape = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    NdArray::new(shape, data).unwrap()
}

#[test]
fn atdata_prims_bytes() {
    let file = load("atdata.json");
    let c = case(&file, "Prims");
    let v = &c["values"];
    let x = Prims {
        flag: v["flag"].as_bool().unwrap(),
        count: v["count"].as_i64().unwrap(),
        neg: v["neg"].as_i64().unwrap(),
        big: v["big"].as_i64().unwrap(),
        ratio: v["ratio"].as_f64().unwrap(),
        name: v["name"].as_str().unwrap().to_owned(),
        blob: unhex(v["blob_hex"].as_str().unwrap()),
    };
    let golden = c["hex"].as_str().unwrap();
    assert_eq!(hex(&x.to_msgpack()), golden);
    let bytes = unhex(golden);
    assert_eq!(Prims::from_msgpack(&bytes).unwrap(), x);
    assert_eq!(PrimsRef::from_msgpack(&bytes).unwrap().to_owned(), x);
    let r = PrimsRef::from_msgpack(&bytes).unwrap();
    assert_eq!((r.name, r.blob), ("hi", &[0u8, 1][..]));
    // The size hint is an upper bound.
    assert!(x.msgpack_size_hint() >= bytes.len());
}

#[test]
fn atdata_image_meta_bytes() {
    let file = load("atdata.json");
    let c = case(&file, "ImageMeta");
    let v = &c["values"];
    assert!(v["mask"].is_null());
    let x = ImageMeta {
        image: f32_array(&v["image"]),
        caption: v["caption"].as_str().unwrap().to_owned(),
        score: v["score"].as_f64().unwrap(),
        mask: None,
        tags: v["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect(),
    };
    let golden = c["hex"].as_str().unwrap();
    assert_eq!(hex(&x.to_msgpack()), golden);
    let bytes = unhex(golden);
    assert_eq!(ImageMeta::from_msgpack(&bytes).unwrap(), x);
    let r = ImageMetaRef::from_msgpack(&bytes).unwrap();
    assert_eq!(r.image.shape(), &[2, 3]);
    assert_eq!(
        r.image.iter().collect::<Vec<f32>>(),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    assert_eq!(r.tags, ["a", "bc"]);
    assert_eq!(r.to_owned(), x);
    x.validate().unwrap();
}

/// A one-field sample `{"a": <value>}` whose value is given as encoded bytes.
fn one_field_map(key: &str, value: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.map_header(1);
    w.str(key);
    w.raw(value);
    w.into_bytes()
}

#[test]
fn msgpack_numpy_array_decodes_through_generated_reader() {
    let file = load("msgpack_numpy.json");
    let c = case(&file, "f32_2x3");
    let expected = f32_array(&c["array"]);
    let bytes = one_field_map("a", &unhex(c["hex"].as_str().unwrap()));
    let x = F32x2x3::from_msgpack(&bytes).unwrap();
    assert_eq!(x.a, expected);
    // The atdata form is what we write, and it reads back the same.
    assert_eq!(F32x2x3::from_msgpack(&x.to_msgpack()).unwrap(), x);
}

#[test]
fn truss_json_exact_text_and_decode() {
    let file = load("truss_json.json");
    for name in ["f32_2x3", "u8_5", "f64_2"] {
        let c = case(&file, name);
        let golden = c["json"].as_str().unwrap();
        let whole = format!("{{\"a\":{golden}}}");
        let arr = &c["array"];
        let shape: Vec<usize> = arr["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let data = arr["data"].as_array().unwrap();
        match name {
            "f32_2x3" => {
                let x = F32x2x3 { a: f32_array(arr) };
                assert_eq!(x.to_json(), whole);
                assert_eq!(F32x2x3::from_json(&whole).unwrap(), x);
            }
            "u8_5" => {
                let vals = data.iter().map(|d| d.as_u64().unwrap() as u8).collect();
                let x = U8x5 {
                    a: NdArray::new(shape, vals).unwrap(),
                };
                assert_eq!(x.to_json(), whole);
                assert_eq!(U8x5::from_json(&whole).unwrap(), x);
            }
            "f64_2" => {
                let vals = data.iter().map(|d| d.as_f64().unwrap()).collect();
                let x = F64x2 {
                    a: NdArray::new(shape, vals).unwrap(),
                };
                assert_eq!(x.to_json(), whole);
                assert_eq!(F64x2::from_json(&whole).unwrap(), x);
                // And the msgpack path agrees with the JSON one.
                let b = x.to_msgpack();
                assert_eq!(F64x2Ref::from_msgpack(&b).unwrap().to_owned(), x);
            }
            _ => unreachable!(),
        }
    }
    // Readers also accept nested lists, and dtypes as typestrs.
    let nested = r#"{"a": [[0, 1, 2], [3, 4, 5]]}"#;
    let x = F32x2x3::from_json(nested).unwrap();
    assert_eq!(x.a.as_slice(), &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    let typestr = r#"{"a": {"data_b64": "AAF/gP8=", "shape": [5], "dtype": "|u1"}}"#;
    assert_eq!(
        U8x5::from_json(typestr).unwrap().a.as_slice(),
        &[0, 1, 127, 128, 255]
    );
}

#[test]
fn xtructure_per_field_packed_bytes() {
    let file = load("xtructure.json");
    let c = case(&file, "PuzzleState (per-field packed)");
    let golden = unhex(c["packed_hex"].as_str().unwrap());
    // The pattern: value at flat index i is i % 2^bits.
    let values: Vec<u8> = (0..324).map(|i| (i % 8) as u8).collect();
    let a = NdArray::new(vec![6, 54], values).unwrap();
    let mut x = PuzzleState::default();
    x.set_faces_unpacked(&a).unwrap();
    // schemac keeps the minimal ceil(324·3/8) = 122 bytes: xtructure's first 122.
    assert_eq!(x.faces.len(), 122);
    assert_eq!(&x.faces[..], &golden[..122]);
    assert_eq!(x.faces_unpacked(), a);
    // On the wire the field is the ordinary array, so the bytes stay atdata-compatible.
    let mut w = Writer::new();
    w.map_header(1);
    w.str("faces");
    w.array(&a);
    assert_eq!(x.to_msgpack(), w.into_bytes());
    let back = PuzzleState::from_msgpack(&x.to_msgpack()).unwrap();
    assert_eq!(back, x);
    let r = PuzzleStateRef::from_msgpack(&x.to_msgpack())
        .unwrap()
        .to_owned();
    assert_eq!(r, x);
    // JSON carries the unpacked array too.
    let json: Value = serde_json::from_str(&x.to_json()).unwrap();
    assert_eq!(json["faces"]["shape"], serde_json::json!([6, 54]));
    assert_eq!(json["faces"]["dtype"], "uint8");
    assert_eq!(PuzzleState::from_json(&x.to_json()).unwrap(), x);
}

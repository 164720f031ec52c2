//! The dynamic codec (`schemac::codec`) and `schemac encode` / `schemac decode`: golden
//! vectors from atdata, msgpack-numpy, truss-chains and xtructure, round trips of random
//! instances of every example sample through every form, rejections, and the CLI.

mod common;

use common::*;
use schemac::codec::{ArrayForm, Codec, Format, Value};
use schemac::ir::{Dim, Dtype, Record, Schema, Ty};
use schemac_runtime::array::{Element, NdArray, Scalar};
use schemac_runtime::error::ErrorKind;
use schemac_runtime::rng::Rng;
use schemac_runtime::with_dtype;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

fn compile_text(name: &str, text: &str) -> Schema {
    match schemac::compile::compile_source(Path::new(&format!("{name}.schema")), text.into()) {
        Ok(c) => c.schema,
        Err(f) => panic!("{}", f.render(false)),
    }
}

fn compile_example(file: &str) -> Schema {
    let path = repo().join("examples/schemas").join(file);
    match schemac::compile::compile_file(&path) {
        Ok(c) => c.schema,
        Err(f) => panic!("{}", f.render(false)),
    }
}

fn data(file: &str) -> Json {
    let path = repo().join("crates/runtime/tests/data").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
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

fn b64(bytes: &[u8]) -> Json {
    schemac_runtime::json::base64_bytes::serialize(bytes, serde_json::value::Serializer).unwrap()
}

fn scalar_json(s: Scalar) -> Json {
    match s {
        Scalar::Bool(b) => Json::Bool(b),
        Scalar::Int(i) => json!(i),
        Scalar::UInt(u) => json!(u),
        Scalar::Float(f) => json!(f),
    }
}

/// Nested JSON lists of `a`'s elements following its shape.
fn nested_lists<T: Element>(a: &NdArray<T>) -> Json {
    fn go<T: Element>(shape: &[usize], data: &[T]) -> Json {
        match shape.split_first() {
            None => scalar_json(data[0].to_scalar()),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                Json::Array(
                    (0..n)
                        .map(|i| go(rest, &data[i * stride..(i + 1) * stride]))
                        .collect(),
                )
            }
        }
    }
    go(a.shape(), a.as_slice())
}

/// A golden-vector array (`{"dtype": "f32", "shape": [...], "data": [...]}`) as nested
/// JSON lists.
fn golden_array_lists(a: &Json) -> Json {
    let shape: Vec<usize> = serde_json::from_value(a["shape"].clone()).unwrap();
    let data = a["data"].as_array().unwrap();
    fn go(shape: &[usize], data: &[Json]) -> Json {
        match shape.split_first() {
            None => data[0].clone(),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                Json::Array(
                    (0..n)
                        .map(|i| go(rest, &data[i * stride..(i + 1) * stride]))
                        .collect(),
                )
            }
        }
    }
    go(&shape, data)
}

// ---------------------------------------------------------------------------------------
// random instances
// ---------------------------------------------------------------------------------------

/// Random JSON instances of a sample, honouring shapes (named dims agree), `@bits`,
/// `@range` and enum variants. Arrays come as nested lists or as `{data_b64, ...}`
/// objects (always the latter when a dim is 0, which nested lists cannot express).
struct Gen<'s> {
    schema: &'s Schema,
    rng: Rng,
    dims: HashMap<String, usize>,
}

impl<'s> Gen<'s> {
    fn new(schema: &'s Schema, seed: u64) -> Self {
        Gen {
            schema,
            rng: Rng::new(seed),
            dims: HashMap::new(),
        }
    }

    fn sample(&mut self, rec: &Record) -> Json {
        self.dims = rec
            .named_dims
            .iter()
            .filter_map(|d| Some((d.name.clone(), d.size? as usize)))
            .collect();
        self.record(rec)
    }

    fn record(&mut self, rec: &Record) -> Json {
        let mut m = serde_json::Map::new();
        for f in &rec.fields {
            if f.optional && self.rng.below(3) == 0 {
                if self.rng.bool() {
                    m.insert(f.name.clone(), Json::Null);
                }
                continue;
            }
            let v = self.ty(&f.ty, f.bits, f.range.map(|r| (r.lo, r.hi)));
            m.insert(f.name.clone(), v);
        }
        Json::Object(m)
    }

    fn dim(&mut self, d: &Dim) -> usize {
        match d {
            Dim::Fixed(n) => *n as usize,
            Dim::Named(name) => {
                let n = self.rng.below(4) as usize;
                *self.dims.entry(name.clone()).or_insert(n)
            }
            Dim::Dynamic => self.rng.below(4) as usize,
        }
    }

    fn ty(&mut self, ty: &Ty, bits: Option<u32>, range: Option<(f64, f64)>) -> Json {
        match ty {
            Ty::Scalar { dtype } => {
                with_dtype!(*dtype, T => scalar_json(T::random(&mut self.rng, bits, range).to_scalar()))
            }
            Ty::Str => Json::String(self.rng.string(6)),
            Ty::Bytes => b64(&self.rng.bytes(6)),
            Ty::Array { dtype, shape } => {
                let shape: Vec<usize> = shape.iter().map(|d| self.dim(d)).collect();
                let as_object = shape.contains(&0) || self.rng.bool();
                with_dtype!(*dtype, T => {
                    let a = NdArray::<T>::random(shape, &mut self.rng, bits, range);
                    if as_object {
                        serde_json::to_value(&a).unwrap()
                    } else {
                        nested_lists(&a)
                    }
                })
            }
            Ty::Enum { name } => {
                let e = self.schema.enum_def(name).unwrap();
                let i = self.rng.below(e.variants.len() as u64) as usize;
                Json::String(e.variants[i].name.clone())
            }
            Ty::Record { name, shape } => {
                let rec = self.schema.record(name).unwrap();
                self.nested(rec, shape)
            }
            Ty::List { item } => {
                let n = self.rng.below(3);
                Json::Array((0..n).map(|_| self.ty(item, None, None)).collect())
            }
            Ty::Map { value } => {
                let n = self.rng.below(3);
                let mut m = serde_json::Map::new();
                for _ in 0..n {
                    let k = self.rng.string(4);
                    let v = self.ty(value, None, None);
                    m.insert(k, v);
                }
                Json::Object(m)
            }
        }
    }

    fn nested(&mut self, rec: &Record, dims: &[Dim]) -> Json {
        match dims.split_first() {
            None => self.record(rec),
            Some((d, rest)) => {
                let n = self.dim(d);
                Json::Array((0..n).map(|_| self.nested(rec, rest)).collect())
            }
        }
    }
}

fn example_samples() -> Vec<(String, Schema)> {
    examples()
        .iter()
        .map(|p| {
            let file = p.file_name().unwrap().to_str().unwrap().to_owned();
            (file.clone(), compile_example(&file))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// golden vectors
// ---------------------------------------------------------------------------------------

/// atdata `@packable` bytes: encode the case's values through the codec and compare the
/// hex exactly; decode the hex back to the same sample.
#[test]
fn golden_atdata() {
    let golden = data("atdata.json");
    let cases = golden["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let schema = compile_text(name, case["schema"].as_str().unwrap());
        let codec = Codec::new(&schema, name).unwrap();
        let mut input = serde_json::Map::new();
        for (k, v) in case["values"].as_object().unwrap() {
            if let Some(field) = k.strip_suffix("_hex") {
                input.insert(field.to_owned(), b64(&unhex(v.as_str().unwrap())));
            } else if v.get("dtype").is_some() && v.get("data").is_some() {
                input.insert(k.clone(), golden_array_lists(v));
            } else {
                input.insert(k.clone(), v.clone());
            }
        }
        let value = codec.from_json(&Json::Object(input)).unwrap();
        let bytes = codec.to_msgpack(&value, ArrayForm::Atdata).unwrap();
        assert_eq!(hex(&bytes), case["hex"].as_str().unwrap(), "{name}");
        let back = codec
            .from_msgpack(&unhex(case["hex"].as_str().unwrap()))
            .unwrap();
        assert_eq!(back, value, "{name}");
        // Through the CLI too.
        let json = codec.to_json_string(&value, false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let schema_path = dir.path().join("case.schema");
        std::fs::write(&schema_path, case["schema"].as_str().unwrap()).unwrap();
        let (code, out, err) = run_cli(
            &[
                "encode",
                "--schema",
                schema_path.to_str().unwrap(),
                "--sample",
                name,
            ],
            json.as_bytes(),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            hex(&out),
            case["hex"].as_str().unwrap(),
            "{name} via the CLI"
        );
    }
}

fn one_field_schema(dtype: &str, ndim: usize) -> Schema {
    let dims = vec!["_"; ndim].join(", ");
    compile_text("one", &format!("sample One {{ a: {dtype}[{dims}] }}"))
}

/// msgpack-numpy bytes of a bare array, as the value of a one-field sample.
#[test]
fn golden_msgpack_numpy() {
    let golden = data("msgpack_numpy.json");
    for case in golden["cases"].as_array().unwrap() {
        let a = &case["array"];
        let ndim = a["shape"].as_array().unwrap().len();
        let schema = one_field_schema(a["dtype"].as_str().unwrap(), ndim);
        let codec = Codec::new(&schema, "One").unwrap();
        let value = codec
            .from_json(&json!({ "a": golden_array_lists(a) }))
            .unwrap();
        let bytes = codec.to_msgpack(&value, ArrayForm::Numpy).unwrap();
        // 0x81 (map of 1), 0xa1 'a', then the array.
        assert_eq!(&bytes[..3], &[0x81, 0xa1, b'a']);
        let want = case["hex"].as_str().unwrap();
        assert_eq!(hex(&bytes[3..]), want, "{}", case["name"]);
        let mut wrapped = vec![0x81, 0xa1, b'a'];
        wrapped.extend(unhex(want));
        assert_eq!(codec.from_msgpack(&wrapped).unwrap(), value);
        assert_eq!(
            codec.encode(&value, Format::MsgpackNumpy).unwrap(),
            wrapped,
            "Format::MsgpackNumpy"
        );
    }
}

/// truss-chains NumpyArrayField JSON text of an array, as the value of a one-field sample.
#[test]
fn golden_truss_json() {
    let golden = data("truss_json.json");
    for case in golden["cases"].as_array().unwrap() {
        let a = &case["array"];
        let ndim = a["shape"].as_array().unwrap().len();
        let schema = one_field_schema(a["dtype"].as_str().unwrap(), ndim);
        let codec = Codec::new(&schema, "One").unwrap();
        let value = codec
            .from_json(&json!({ "a": golden_array_lists(a) }))
            .unwrap();
        let want = case["json"].as_str().unwrap();
        let field = value.field("a").unwrap();
        assert_eq!(
            serde_json::to_string(field).unwrap(),
            want,
            "{}",
            case["name"]
        );
        let text = codec.to_json_string(&value, false).unwrap();
        assert_eq!(text, format!("{{\"a\":{want}}}"));
        let back = codec
            .from_json_slice(format!("{{\"a\": {want}}}").as_bytes())
            .unwrap();
        assert_eq!(back, value);
    }
}

fn xtructure_pattern(schema: &Schema, sample: &str) -> Json {
    let rec = schema.record(sample).unwrap();
    let mut m = serde_json::Map::new();
    for leaf in &rec.leaves {
        let n = leaf.elements.unwrap() as usize;
        let bits = leaf.bits.unwrap();
        let dtype = leaf.kind.dtype().unwrap();
        let flat: Vec<Json> = (0..n)
            .map(|i| {
                if dtype == Dtype::Bool {
                    Json::Bool(i % 2 == 1)
                } else {
                    json!(i as u64 % (1u64 << bits))
                }
            })
            .collect();
        let shape: Vec<usize> = leaf
            .shape
            .iter()
            .map(|d| d.fixed().unwrap() as usize)
            .collect();
        let arr = json!({"dtype": "x", "shape": shape, "data": flat});
        m.insert(leaf.path.clone(), golden_array_lists(&arr));
    }
    Json::Object(m)
}

/// xtructure's aggregate words for AggState and Agg5, via the library and `encode --to
/// packed`.
#[test]
fn golden_xtructure_packed() {
    let golden = data("xtructure.json");
    let puzzle = compile_example("puzzle.schema");
    for case in golden["cases"].as_array().unwrap() {
        let Some(words) = case.get("words_u32_hex") else {
            continue;
        };
        let name = case["name"].as_str().unwrap();
        let mut want: Vec<u8> = words
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|w| {
                u32::from_str_radix(w.as_str().unwrap(), 16)
                    .unwrap()
                    .to_le_bytes()
            })
            .collect();
        want.extend(unhex(case["tail_hex"].as_str().unwrap()));
        let codec = Codec::new(&puzzle, name).unwrap();
        let input = xtructure_pattern(&puzzle, name);
        let value = codec.from_json(&input).unwrap();
        assert_eq!(hex(&codec.to_packed(&value).unwrap()), hex(&want), "{name}");
        assert_eq!(codec.from_packed(&want).unwrap(), value);
        let (code, out, err) = run_cli(
            &[
                "encode",
                "--schema",
                "examples/schemas/puzzle.schema",
                "--sample",
                name,
                "--to",
                "packed",
            ],
            input.to_string().as_bytes(),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(hex(&out), hex(&want), "{name} via the CLI");
    }
}

// ---------------------------------------------------------------------------------------
// round trips
// ---------------------------------------------------------------------------------------

const INSTANCES: u64 = 24;

/// Random instances of every example sample through every form and back.
#[test]
fn every_example_sample_round_trips() {
    let mut checked = 0;
    for (file, schema) in example_samples() {
        for rec in schema.samples() {
            let codec = Codec::new(&schema, &rec.name).unwrap();
            for seed in 0..INSTANCES {
                let ctx = format!("{file} {} seed {seed}", rec.name);
                let input = Gen::new(&schema, seed).sample(rec);
                let value = codec
                    .from_json(&input)
                    .unwrap_or_else(|e| panic!("{ctx}: {e}\n{input}"));

                // msgpack -> decode -> the same sample and the same JSON.
                let mp = codec.to_msgpack(&value, ArrayForm::Atdata).unwrap();
                if let Some(max) = rec.sizes.msgpack_max {
                    assert!(mp.len() as u64 <= max, "{ctx}: {} > {max}", mp.len());
                }
                let back = codec
                    .from_msgpack(&mp)
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert_eq!(back, value, "{ctx}");
                let json1 = codec.to_json_string(&value, false).unwrap();
                assert_eq!(
                    codec.to_json_string(&back, true).unwrap(),
                    codec.to_json_string(&value, true).unwrap()
                );
                assert_eq!(
                    serde_json::from_str::<Json>(&codec.to_json_string(&back, true).unwrap())
                        .unwrap(),
                    serde_json::from_str::<Json>(&json1).unwrap()
                );

                // json -> msgpack -> json.
                let from_text = codec.from_json_slice(json1.as_bytes()).unwrap();
                assert_eq!(from_text, value, "{ctx}");
                assert_eq!(codec.encode(&from_text, Format::Msgpack).unwrap(), mp);
                let json2 = codec
                    .decode(&mp, Format::Msgpack)
                    .and_then(|v| codec.to_json_string(&v, false))
                    .unwrap();
                assert_eq!(json2, json1, "{ctx}");

                // msgpack-numpy.
                let np = codec.to_msgpack(&value, ArrayForm::Numpy).unwrap();
                assert_eq!(codec.decode(&np, Format::MsgpackNumpy).unwrap(), value);

                // packed, for aggregate samples.
                if let Some(agg) = codec.aggregate() {
                    let packed = codec.to_packed(&value).unwrap();
                    assert_eq!(packed.len() as u64, agg.compact_bytes, "{ctx}");
                    assert_eq!(codec.from_packed(&packed).unwrap(), value, "{ctx}");
                } else {
                    assert!(codec.to_packed(&value).is_err());
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 10 * INSTANCES, "{checked}");
}

/// The aggregate samples the brief names have a packed form, and round-trip extremes
/// (all-zero and all-max values, -1 in signed leaves).
#[test]
fn packed_extremes() {
    let puzzle = compile_example("puzzle.schema");
    let everything = compile_example("everything.schema");
    for (schema, name) in [
        (&puzzle, "AggState"),
        (&puzzle, "Agg5"),
        (&puzzle, "TileState"),
        (&everything, "Packed"),
    ] {
        let codec = Codec::new(schema, name).unwrap();
        let agg = codec.aggregate().expect(name);
        for seed in 0..50 {
            let input = Gen::new(schema, 1000 + seed).sample(codec.record());
            let value = codec.from_json(&input).unwrap();
            let packed = codec.to_packed(&value).unwrap();
            assert_eq!(packed.len() as u64, agg.compact_bytes);
            assert_eq!(codec.from_packed(&packed).unwrap(), value);
        }
    }
    let codec = Codec::new(&puzzle, "TileState").unwrap();
    let v = codec
        .from_json(&json!({"tiles": [[3,3,3,3],[0,0,0,0],[1,2,3,0],[3,2,1,0]], "delta": -8, "parity": true, "steps": 7}))
        .unwrap();
    let packed = codec.to_packed(&v).unwrap();
    assert_eq!(packed.len(), 5);
    assert_eq!(codec.from_packed(&packed).unwrap(), v);
    // The default delta (-1) fills in.
    let v = codec
        .from_json(&json!({"tiles": [[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,0]], "parity": false, "steps": 0}))
        .unwrap();
    assert_eq!(v.field("delta"), Some(&Value::Scalar(Scalar::Int(-1))));
    let packed = codec.to_packed(&v).unwrap();
    // delta at bit 32, 4 bits of 0b1111.
    assert_eq!(packed, [0, 0, 0, 0, 0x0f]);
}

/// Component arrays are nested msgpack arrays, outermost dim first; maps sorted by key;
/// optional absent as nil; float scalars as float64; enums as names.
#[test]
fn wire_shapes() {
    let schema = compile_text(
        "shapes",
        "enum E { a, b }\n\
         component C { k: u8 }\n\
         sample S { cs: C[2, 3], m: map<str, i8>, o: f32?, f: f32, e: E, }",
    );
    let codec = Codec::new(&schema, "S").unwrap();
    let c = |k: u8| json!({"k": k});
    let v = codec
        .from_json(&json!({
            "cs": [[c(0), c(1), c(2)], [c(3), c(4), c(5)]],
            "m": {"zz": -1, "aa": 1},
            "f": 0.5,
            "e": "b",
        }))
        .unwrap();
    let bytes = codec.to_msgpack(&v, ArrayForm::Atdata).unwrap();
    let mut want = vec![0x85, 0xa2, b'c', b's', 0x92, 0x93];
    for k in 0..3 {
        want.extend([0x81, 0xa1, b'k', k]);
    }
    want.push(0x93);
    for k in 3..6 {
        want.extend([0x81, 0xa1, b'k', k]);
    }
    want.extend([
        0xa1, b'm', 0x82, 0xa2, b'a', b'a', 0x01, 0xa2, b'z', b'z', 0xff,
    ]);
    want.extend([0xa1, b'o', 0xc0]);
    want.extend([0xa1, b'f', 0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
    want.extend([0xa1, b'e', 0xa1, b'b']);
    assert_eq!(hex(&bytes), hex(&want));
    // Readers accept a missing optional key, unknown keys, keys in any order, and any
    // int encoding that fits.
    let mut w = schemac_runtime::msgpack::Writer::new();
    w.map_header(5);
    w.str("e");
    w.str("a");
    w.str("unknown");
    w.array_header(2);
    w.nil();
    w.f64(1.0);
    w.str("f");
    w.raw(&[0xca, 0x3f, 0x80, 0, 0]); // float32 1.0
    w.str("m");
    w.map_header(0);
    w.str("cs");
    w.array_header(2);
    for _ in 0..2 {
        w.array_header(3);
        for _ in 0..3 {
            w.map_header(1);
            w.str("k");
            w.raw(&[0xd1, 0x00, 0x07]); // int16 7
        }
    }
    let v = codec.from_msgpack(w.as_bytes()).unwrap();
    assert_eq!(v.field("o"), Some(&Value::Nil));
    assert_eq!(v.field("f"), Some(&Value::Scalar(Scalar::Float(1.0))));
}

// ---------------------------------------------------------------------------------------
// rejections
// ---------------------------------------------------------------------------------------

fn vision() -> Schema {
    compile_example("vision.schema")
}

fn image_sample(extra: Json) -> Json {
    let mut base = json!({
        "image": {"data_b64": b64(&vec![0u8; 224 * 224 * 3 * 4]), "shape": [224, 224, 3], "dtype": "float32"},
        "label": "cat",
        "tags": [],
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn encode_rejections_carry_the_field_path() {
    let schema = vision();
    let codec = Codec::new(&schema, "ImageSample").unwrap();
    codec.from_json(&image_sample(json!({}))).unwrap();
    let err = |extra: Json| codec.from_json(&image_sample(extra)).unwrap_err();

    let e = err(json!({"mask": {"data_b64": "AAAAAA==", "shape": [1, 1], "dtype": "float32"}}));
    assert_eq!(
        e.to_string(),
        "ImageSample.mask: expected dtype |u1, found <f4"
    );
    let e = err(json!({"mask": {"data_b64": "AA==", "shape": [1, 1], "dtype": "<f4"}}));
    assert!(matches!(e.kind(), ErrorKind::DtypeMismatch { .. }), "{e}");
    let e = err(json!({"mask": {"data_b64": "", "shape": [0], "dtype": "complex64"}}));
    assert!(matches!(e.kind(), ErrorKind::UnknownDtype(_)), "{e}");
    let e = err(json!({"image": [[[1.0, 2.0, 3.0]]]}));
    assert_eq!(
        e.to_string(),
        "ImageSample.image: expected shape [224, 224, 3], found [1, 1, 3]"
    );
    let e = err(json!({"mask": [[1, 2], [3, 4]], "depth": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}));
    assert_eq!(
        e.to_string(),
        "ImageSample.depth: dim W is 3 here but 2 in an earlier field"
    );
    let e = err(json!({"confidence": 1.5}));
    assert_eq!(
        e.to_string(),
        "ImageSample.confidence: 1.5 is out of range for [0, 1]"
    );
    let e = err(json!({"split": "holdout"}));
    assert_eq!(
        e.to_string(),
        "ImageSample.split: unknown enum variant \"holdout\""
    );
    let e = err(json!({"tags": ["a", 3]}));
    assert_eq!(
        e.to_string(),
        "ImageSample.tags[1]: expected string, found number"
    );
    // `null` for a required field is `missing_field` (conformance/README.md).
    let e = err(json!({"label": null}));
    assert_eq!(e.to_string(), "ImageSample.label: missing required field");
    let e = err(json!({"mask": [[1, 256]]}));
    assert!(e.to_string().starts_with("ImageSample.mask: "), "{e}");
    let e = err(json!({"mask": [[1, 2], [3]]}));
    assert!(e.to_string().contains("ragged"), "{e}");
    let e = err(json!({"image": {"data_b64": "AAAA", "shape": [224, 224, 3], "dtype": "float32"}}));
    assert!(e.to_string().contains("array data is 3 bytes"), "{e}");
    let mut missing = image_sample(json!({}));
    missing.as_object_mut().unwrap().remove("label");
    let e = codec.from_json(&missing).unwrap_err();
    assert_eq!(e.to_string(), "ImageSample.label: missing required field");
    let e = codec.from_json_slice(b"{not json").unwrap_err();
    assert!(e.to_string().contains("invalid JSON"), "{e}");
    let e = codec.from_json(&json!([1, 2])).unwrap_err();
    assert_eq!(e.to_string(), "ImageSample: expected object, found array");

    // @bits, @range and ints in the everything schema.
    let everything = compile_example("everything.schema");
    let codec = Codec::new(&everything, "Packed").unwrap();
    let cell = json!({"kind": 1, "alive": true});
    let board =
        json!({"cells": [[cell, cell, cell], [cell, cell, cell], [cell, cell, cell]], "turn": 1});
    let ok = json!({"board": board, "neg": [-256, 255], "wide": 4294967295u64});
    codec.from_json(&ok).unwrap();
    let mut bad = ok.clone();
    bad["neg"] = json!([-257, 0]);
    assert_eq!(
        codec.from_json(&bad).unwrap_err().to_string(),
        "Packed.neg: value -257 does not fit in 9 bits"
    );
    let mut bad = ok.clone();
    bad["board"]["cells"][2][1]["kind"] = json!(16);
    assert_eq!(
        codec.from_json(&bad).unwrap_err().to_string(),
        "Packed.board.cells[2][1].kind: value 16 does not fit in 4 bits"
    );
    let mut bad = ok.clone();
    bad["board"]["cells"][2] = json!([cell, cell]);
    assert_eq!(
        codec.from_json(&bad).unwrap_err().to_string(),
        "Packed.board.cells[2]: expected shape [3], found [2]"
    );
    let mut bad = ok.clone();
    bad["wide"] = json!(4294967296u64);
    assert_eq!(
        codec.from_json(&bad).unwrap_err().to_string(),
        "Packed.wide: 4294967296 is out of range for u32"
    );
    let mut bad = ok.clone();
    bad["level"] = json!(1.5);
    assert!(codec.from_json(&bad).is_err());
    let mut bad = ok;
    bad["level"] = json!(true);
    assert_eq!(
        codec.from_json(&bad).unwrap_err().to_string(),
        "Packed.level: expected int, found bool"
    );
}

#[test]
fn decode_rejections() {
    let schema = vision();
    let codec = Codec::new(&schema, "ImageSample").unwrap();
    let value = codec
        .from_json(&image_sample(
            json!({"mask": [[1, 2]], "depth": [[0.5, 1.5]]}),
        ))
        .unwrap();
    let bytes = codec.to_msgpack(&value, ArrayForm::Atdata).unwrap();
    codec.from_msgpack(&bytes).unwrap();

    // Every truncation is an error, never a panic.
    for n in 0..bytes.len() {
        assert!(codec.from_msgpack(&bytes[..n]).is_err(), "prefix {n}");
    }
    // Trailing bytes.
    let mut long = bytes.clone();
    long.push(0xc0);
    let e = codec.from_msgpack(&long).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ImageSample: 1 trailing bytes after the value"
    );
    // A wrong dtype on the wire.
    let mut w = schemac_runtime::msgpack::Writer::new();
    w.map_header(4);
    w.str("image");
    w.array(&NdArray::<f32>::zeros(vec![224, 224, 3]));
    w.str("label");
    w.str("x");
    w.str("tags");
    w.array_header(0);
    w.str("mask");
    w.array(&NdArray::<f32>::zeros(vec![1, 1]));
    let e = codec.from_msgpack(w.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ImageSample.mask: expected dtype |u1, found <f4"
    );
    // A shape that disagrees with a named dim of another field.
    let mut w = schemac_runtime::msgpack::Writer::new();
    w.map_header(5);
    w.str("image");
    w.array(&NdArray::<f32>::zeros(vec![224, 224, 3]));
    w.str("label");
    w.str("x");
    w.str("tags");
    w.array_header(0);
    w.str("mask");
    w.array(&NdArray::<u8>::zeros(vec![2, 2]));
    w.str("depth");
    w.array(&NdArray::<f32>::zeros(vec![2, 3]));
    let e = codec.from_msgpack(w.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ImageSample.depth: dim W is 3 here but 2 in an earlier field"
    );
    // Wrong types, missing fields, huge declared lengths.
    let e = codec.from_msgpack(&[0x91, 0x00]).unwrap_err();
    assert_eq!(e.to_string(), "ImageSample: expected map, found array");
    let e = codec.from_msgpack(&[0x80]).unwrap_err();
    assert_eq!(e.to_string(), "ImageSample.image: missing required field");
    let e = codec
        .from_msgpack(&[0xdf, 0xff, 0xff, 0xff, 0xff])
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LengthTooLarge { .. }), "{e}");
    let e = codec
        .from_msgpack(&[
            0x81, 0xa5, b'l', b'a', b'b', b'e', b'l', 0xdb, 0xff, 0xff, 0xff, 0xff,
        ])
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LengthTooLarge { .. }), "{e}");
    // A structural fault: found before any field is read, reported at the sample.
    assert!(e.to_string().starts_with("ImageSample: "), "{e}");
    let e = codec
        .from_msgpack(&[
            0x81, 0xa4, b't', b'a', b'g', b's', 0xdd, 0x7f, 0xff, 0xff, 0xff,
        ])
        .unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::LengthTooLarge { .. }), "{e}");
    let e = codec
        .from_msgpack(&[0x81, 0xa5, b'l', b'a', b'b', b'e', b'l', 0x07])
        .unwrap_err();
    assert_eq!(e.to_string(), "ImageSample.label: expected str, found int");
    let e = codec
        .from_msgpack(&[
            0x82, 0xa5, b'l', b'a', b'b', b'e', b'l', 0xa0, 0xa5, b'l', b'a', b'b', b'e', b'l',
            0xa0,
        ])
        .unwrap_err();
    assert_eq!(e.to_string(), "ImageSample.label: duplicate key \"label\"");
    assert_eq!(e.code(), "duplicate_key");

    // Packed: wrong lengths and set padding bits.
    let puzzle = compile_example("puzzle.schema");
    let codec = Codec::new(&puzzle, "TileState").unwrap();
    // One sample is exactly one compact row: any other length is bad_padding.
    let e = codec.from_packed(&[0; 4]).unwrap_err();
    assert_eq!((e.code(), e.path()), ("bad_padding", "TileState"));
    let e = codec.from_packed(&[0; 6]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "TileState: compact form is 6 bytes, expected 5"
    );
    // 40 bits: the tail byte is all data.
    codec.from_packed(&[0, 0, 0, 0, 0x80]).unwrap();
    // Agg5 is 50 bits in two words: bits 50..63 are padding.
    let agg5 = Codec::new(&puzzle, "Agg5").unwrap();
    agg5.from_packed(&[0, 0, 0, 0, 0, 0, 0x03, 0]).unwrap();
    let e = agg5.from_packed(&[0, 0, 0, 0, 0, 0, 0x04, 0]).unwrap_err();
    assert!(
        e.to_string().starts_with("Agg5: padding bit 50 is set"),
        "{e}"
    );
    let codec = Codec::new(&puzzle, "PuzzleState").unwrap();
    assert!(codec.from_packed(&[]).is_err());
}

/// Flipped and inserted bytes in valid encodings give errors or other valid samples,
/// never a panic.
#[test]
fn mutated_inputs_never_panic() {
    let everything = compile_example("everything.schema");
    let codec = Codec::new(&everything, "Everything").unwrap();
    let mut rng = Rng::new(7);
    for seed in 0..8 {
        let input = Gen::new(&everything, seed).sample(codec.record());
        let value = codec.from_json(&input).unwrap();
        for form in [ArrayForm::Atdata, ArrayForm::Numpy] {
            let bytes = codec.to_msgpack(&value, form).unwrap();
            for _ in 0..300 {
                let mut b = bytes.clone();
                let i = rng.below(b.len() as u64) as usize;
                match rng.below(3) {
                    0 => b[i] = rng.next_u64() as u8,
                    1 => b[i] ^= 1 << rng.below(8),
                    _ => b.insert(i, rng.next_u64() as u8),
                }
                if let Ok(v) = codec.from_msgpack(&b) {
                    // Whatever decodes is a valid sample that re-encodes.
                    codec.to_msgpack(&v, ArrayForm::Atdata).unwrap();
                }
            }
        }
        let json = codec.to_json_string(&value, false).unwrap().into_bytes();
        for _ in 0..200 {
            let mut b = json.clone();
            let i = rng.below(b.len() as u64) as usize;
            b[i] = b"{}[]\",:0-1.eE\\ atn"[rng.below(18) as usize];
            let _ = codec.from_json_slice(&b);
        }
    }
    let puzzle = compile_example("puzzle.schema");
    let codec = Codec::new(&puzzle, "AggState").unwrap();
    for _ in 0..300 {
        let n = rng.below(140) as usize;
        let b: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        let _ = codec.from_packed(&b);
    }
}

#[test]
fn lookup_errors_list_the_samples() {
    let schema = vision();
    let e = Codec::new(&schema, "Nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "no sample named `Nope`; samples: ImageSample"
    );
    let robot = compile_example("robot.schema");
    let e = Codec::new(&robot, "Pose").unwrap_err();
    assert_eq!(
        e.to_string(),
        "`Pose` is a component, not a sample; samples: RobotStep"
    );
}

/// Non-finite float scalars are spelled as strings in JSON, and round-trip.
#[test]
fn non_finite_floats() {
    let schema = compile_text("nf", "sample N { a: f32, b: f64, c: f16 }");
    let codec = Codec::new(&schema, "N").unwrap();
    let v = codec
        .from_json(&json!({"a": "NaN", "b": "-Infinity", "c": "Infinity"}))
        .unwrap();
    let text = codec.to_json_string(&v, false).unwrap();
    assert_eq!(text, r#"{"a":"NaN","b":"-Infinity","c":"Infinity"}"#);
    let mp = codec.to_msgpack(&v, ArrayForm::Atdata).unwrap();
    let back = codec.from_msgpack(&mp).unwrap();
    assert_eq!(codec.to_json_string(&back, false).unwrap(), text);
    assert!(codec
        .from_json(&json!({"a": "nope", "b": 0, "c": 0}))
        .is_err());
}

// ---------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------

fn run_cli(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schemac"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_encode_decode_pipes() {
    let robot = compile_example("robot.schema");
    let codec = Codec::new(&robot, "RobotStep").unwrap();
    let schema = "examples/schemas/robot.schema";
    for seed in 0..4 {
        let input = Gen::new(&robot, seed).sample(codec.record());
        let value = codec.from_json(&input).unwrap();
        let text = input.to_string();
        let mut decoded = Vec::new();
        for to in Format::ALL {
            if to == Format::Packed {
                continue;
            }
            let (code, bytes, err) = run_cli(
                &[
                    "encode",
                    "--schema",
                    schema,
                    "--sample",
                    "RobotStep",
                    "--to",
                    to.name(),
                ],
                text.as_bytes(),
            );
            assert_eq!(code, 0, "{err}");
            assert_eq!(bytes, {
                let mut b = codec.encode(&value, to).unwrap();
                if to == Format::Json {
                    b.push(b'\n');
                }
                b
            });
            let (code, json, err) = run_cli(
                &[
                    "decode",
                    "--schema",
                    schema,
                    "--sample",
                    "RobotStep",
                    "--from",
                    to.name(),
                ],
                &bytes,
            );
            assert_eq!(code, 0, "{err}");
            decoded.push(json);
        }
        // Every form decodes to the same JSON, which is the codec's.
        let want = format!("{}\n", codec.to_json_string(&value, false).unwrap());
        for d in &decoded {
            assert_eq!(String::from_utf8_lossy(d), want);
        }
    }
    // INPUT as a file, default format, --pretty.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tile.json");
    std::fs::write(
        &input,
        r#"{"tiles": [[0,1,2,3],[0,1,2,3],[0,1,2,3],[0,1,2,3]], "parity": true, "steps": 5}"#,
    )
    .unwrap();
    let puzzle = "examples/schemas/puzzle.schema";
    let (code, mp, err) = run_cli(
        &[
            "encode",
            "--schema",
            puzzle,
            "--sample",
            "TileState",
            input.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let bin = dir.path().join("tile.msgpack");
    std::fs::write(&bin, &mp).unwrap();
    let (code, out, err) = run_cli(
        &[
            "decode",
            "--schema",
            puzzle,
            "--sample",
            "TileState",
            "--pretty",
            bin.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with("{\n  \"tiles\": {\n    \"data_b64\""),
        "{out}"
    );
    assert!(out.contains("\"delta\": -1,"), "{out}");
    // packed both ways.
    let (code, packed, err) = run_cli(
        &[
            "encode",
            "--schema",
            puzzle,
            "--sample",
            "TileState",
            "--to",
            "packed",
        ],
        &std::fs::read(&input).unwrap(),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(packed.len(), 5);
    let (code, out2, _) = run_cli(
        &[
            "decode",
            "--schema",
            puzzle,
            "--sample",
            "TileState",
            "--from",
            "packed",
            "--pretty",
        ],
        &packed,
    );
    assert_eq!(code, 0);
    assert_eq!(String::from_utf8(out2).unwrap(), out);
}

#[test]
fn cli_exit_codes() {
    let vision = "examples/schemas/vision.schema";
    // Bad data: 1, with the field path.
    let (code, out, err) = run_cli(
        &["encode", "--schema", vision, "--sample", "ImageSample"],
        br#"{"image": [[[0.0]]], "label": "x", "tags": []}"#,
    );
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "error: ImageSample.image: expected shape [224, 224, 3], found [1, 1, 1]\n"
    );
    let (code, _, err) = run_cli(
        &["decode", "--schema", vision, "--sample", "ImageSample"],
        b"\x81",
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: ImageSample: declared length 1 exceeds the 0 bytes remaining\n"
    );
    let (code, _, err) = run_cli(
        &["decode", "--schema", vision, "--sample", "ImageSample"],
        b"\x81\xa5label\xcd\x01\x00",
    );
    assert_eq!(code, 1);
    assert_eq!(err, "error: ImageSample.label: expected str, found int\n");
    let (code, _, err) = run_cli(
        &["decode", "--schema", vision, "--sample", "ImageSample"],
        b"\x81\xa4tags\x91\xcd\x01\x00",
    );
    assert_eq!(code, 1);
    assert_eq!(err, "error: ImageSample.tags[0]: expected str, found int\n");
    let (code, _, err) = run_cli(
        &["encode", "--schema", vision, "--sample", "ImageSample"],
        b"{",
    );
    assert_eq!(code, 1);
    assert!(err.contains("truncated"), "{err}");
    let (code, _, err) = run_cli(
        &["encode", "--schema", vision, "--sample", "ImageSample"],
        b"{]",
    );
    assert_eq!(code, 1);
    assert!(err.contains("invalid JSON"), "{err}");
    // Unknown sample: 2, listing the samples.
    let (code, _, err) = run_cli(&["encode", "--schema", vision, "--sample", "Nope"], b"{}");
    assert_eq!(code, 2);
    assert!(
        err.contains("no sample named `Nope`; samples: ImageSample"),
        "{err}"
    );
    // --to packed on a non-aggregate sample: 2, clearly.
    let (code, _, err) = run_cli(
        &[
            "encode",
            "--schema",
            vision,
            "--sample",
            "ImageSample",
            "--to",
            "packed",
        ],
        b"{}",
    );
    assert_eq!(code, 2);
    assert!(err.contains("has no aggregate packed form"), "{err}");
    let (code, _, err) = run_cli(
        &[
            "decode",
            "--schema",
            vision,
            "--sample",
            "ImageSample",
            "--from",
            "packed",
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("has no aggregate packed form"), "{err}");
    // Usage and I/O: 2.
    assert_eq!(run_cli(&["encode", "--schema", vision], b"").0, 2);
    assert_eq!(
        run_cli(
            &[
                "encode",
                "--schema",
                vision,
                "--sample",
                "ImageSample",
                "--to",
                "xml"
            ],
            b""
        )
        .0,
        2
    );
    let (code, _, err) = run_cli(
        &[
            "encode",
            "--schema",
            vision,
            "--sample",
            "ImageSample",
            "no/such/input.json",
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read no/such/input.json"), "{err}");
    assert_eq!(
        run_cli(
            &["decode", "--schema", "no/such.schema", "--sample", "X"],
            b""
        )
        .0,
        2
    );
    // Schema errors: 1.
    let (code, _, err) = run_cli(
        &[
            "encode",
            "--schema",
            "tests/invalid/E0002_unknown_type.schema",
            "--sample",
            "X",
        ],
        b"{}",
    );
    assert_eq!(code, 1);
    assert!(err.contains("error[E0002]"), "{err}");
}

// ---------------------------------------------------------------------------------------
// cross-language: the generated Python
// ---------------------------------------------------------------------------------------

/// A Python with numpy and msgpack: `$SCHEMAC_PYTHON`, else the project's `.venv`.
fn python() -> Option<std::path::PathBuf> {
    let py = std::env::var_os("SCHEMAC_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import numpy, msgpack"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// Random instances from the generated Python of every example sample: their msgpack
/// bytes and JSON text are exactly what the dynamic codec makes of them, and the codec's
/// own random instances read back in Python to the same bytes. Skipped without a Python
/// that has numpy and msgpack.
#[test]
fn generated_python_agrees_byte_for_byte() {
    let Some(py) = python() else {
        eprintln!("skipped: no Python with numpy and msgpack (set SCHEMAC_PYTHON)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import importlib, json, os, sys
sys.path.insert(0, sys.argv[1])
gen_dir, module, mode, data = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
# The output directory is a (namespace) package: modules import their imports relatively.
sys.path.insert(0, os.path.dirname(gen_dir))
m = importlib.import_module(os.path.basename(gen_dir) + "." + module)
jobs = json.loads(sys.argv[6])
for sample in jobs:
    cls = getattr(m, sample)
    if mode == "write":
        for seed in range(12):
            x = cls.random(seed)
            open(os.path.join(data, f"{sample}.{seed}.msgpack"), "wb").write(x.packed)
            open(os.path.join(data, f"{sample}.{seed}.json"), "w").write(x.to_json())
    else:
        for name in sorted(os.listdir(data)):
            if name.startswith(sample + ".") and name.endswith(".rs.msgpack"):
                b = open(os.path.join(data, name), "rb").read()
                x = cls.from_bytes(b)
                x.validate()
                assert x.packed == b, name
                y = cls.from_json(open(os.path.join(data, name[:-8] + ".json")).read())
                assert y.packed == b, name
print("ok")
"#;
    let script_path = dir.path().join("xcheck.py");
    std::fs::write(&script_path, script).unwrap();
    let mut compared = 0;
    for (file, schema) in example_samples() {
        let samples: Vec<String> = schema.samples().map(|r| r.name.clone()).collect();
        if samples.is_empty() {
            continue;
        }
        // One output directory per schema, so modules never mix.
        let stem = file.trim_end_matches(".schema");
        let gen_dir = dir.path().join(format!("gen_{stem}"));
        let data_dir = dir.path().join(format!("data-{stem}"));
        std::fs::create_dir_all(&data_dir).unwrap();
        let (code, _, err) = run_cli(
            &[
                "gen",
                &format!("examples/schemas/{file}"),
                "--out",
                gen_dir.to_str().unwrap(),
                "--python",
            ],
            b"",
        );
        assert_eq!(code, 0, "{err}");
        let run_py = |mode: &str| {
            let out = Command::new(&py)
                .arg(&script_path)
                .arg(repo().join("python"))
                .arg(&gen_dir)
                .arg(&schema.module)
                .arg(mode)
                .arg(&data_dir)
                .arg(serde_json::to_string(&samples).unwrap())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{file} {mode}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        // Python -> codec.
        run_py("write");
        for sample in &samples {
            let codec = Codec::new(&schema, sample).unwrap();
            for seed in 0..12 {
                let bytes =
                    std::fs::read(data_dir.join(format!("{sample}.{seed}.msgpack"))).unwrap();
                let text = std::fs::read_to_string(data_dir.join(format!("{sample}.{seed}.json")))
                    .unwrap();
                let ctx = format!("{file} {sample} seed {seed}");
                let v = codec
                    .from_msgpack(&bytes)
                    .unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert_eq!(
                    codec.to_msgpack(&v, ArrayForm::Atdata).unwrap(),
                    bytes,
                    "{ctx}"
                );
                assert_eq!(codec.to_json_string(&v, false).unwrap(), text, "{ctx}");
                let from_text = codec.from_json_slice(text.as_bytes()).unwrap();
                assert_eq!(from_text, v, "{ctx}");
                compared += 1;
            }
            // codec -> Python.
            for seed in 0..12 {
                let input = Gen::new(&schema, 500 + seed).sample(codec.record());
                let v = codec.from_json(&input).unwrap();
                std::fs::write(
                    data_dir.join(format!("{sample}.{seed}.rs.msgpack")),
                    codec.to_msgpack(&v, ArrayForm::Atdata).unwrap(),
                )
                .unwrap();
                std::fs::write(
                    data_dir.join(format!("{sample}.{seed}.rs.json")),
                    codec.to_json_string(&v, false).unwrap(),
                )
                .unwrap();
            }
        }
        run_py("read");
    }
    assert!(compared >= 100, "{compared}");
}

// ---------------------------------------------------------------------------------------
// Rejections both runtimes agree on (docs/language.md); the Python side is
// python/tests/test_parity_rejections.py
// ---------------------------------------------------------------------------------------

const AGREE: &str = "package agree;
sample S {
  h: f16,
  n: u32,
  big: u64,
  raw: bytes,
  m: map<str, u8>,
}";

fn agree_json(patch: &str) -> String {
    let base = r#""h": 1.0, "n": 3, "big": 5, "raw": "AAE=", "m": {"a": 1}"#;
    format!("{{{base}{patch}}}")
}

#[test]
fn json_text_rules() {
    let schema = compile_text("agree", AGREE);
    let codec = Codec::new(&schema, "S").unwrap();
    codec.from_json_slice(agree_json("").as_bytes()).unwrap();
    let code = |text: &[u8]| codec.from_json_slice(text).unwrap_err().code();
    // A byte-order mark before the text.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(agree_json("").as_bytes());
    assert_eq!(code(&bom), "malformed");
    // Duplicate keys: a sample field, a map<str, T> key, inside an array object.
    assert_eq!(code(agree_json(r#", "n": 4"#).as_bytes()), "duplicate_key");
    let text = agree_json("").replace(r#"{"a": 1}"#, r#"{"a": 1, "a": 2}"#);
    assert_eq!(code(text.as_bytes()), "duplicate_key");
    // Unpadded base64 (it used to be accepted).
    let text = agree_json("").replace("AAE=", "AAE");
    assert_eq!(code(text.as_bytes()), "invalid_base64");
    // A bare NaN token is not JSON.
    let text = agree_json("").replace(r#""h": 1.0"#, r#""h": NaN"#);
    assert_eq!(code(text.as_bytes()), "malformed");
    // Integral floats for integers; non-integral ones are a type error.
    let v = codec
        .from_json_slice(
            agree_json("")
                .replace(r#""n": 3"#, r#""n": 3.0"#)
                .as_bytes(),
        )
        .unwrap();
    assert_eq!(v.field("n"), Some(&Value::Scalar(Scalar::UInt(3))));
    let text = agree_json("").replace(r#""n": 3"#, r#""n": 3.5"#);
    assert_eq!(code(text.as_bytes()), "wrong_type");
}

#[test]
fn numbers_are_shown_as_written() {
    let schema = compile_text("agree", AGREE);
    let codec = Codec::new(&schema, "S").unwrap();
    // 2^64 for a u64: out of range, shown as written (it was accepted as u64::MAX).
    let text = agree_json("").replace(r#""big": 5"#, r#""big": 18446744073709551616"#);
    let e = codec.from_json_slice(text.as_bytes()).unwrap_err();
    assert_eq!((e.code(), e.path()), ("out_of_range", "S.big"), "{e}");
    assert!(e.to_string().contains("18446744073709551616"), "{e}");
    let text = agree_json("").replace(r#""n": 3"#, r#""n": 18446744073709551616"#);
    let e = codec.from_json_slice(text.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("18446744073709551616"), "{e}");
    // f16 overflow is out_of_range, not infinity; "Infinity" itself is fine.
    let text = agree_json("").replace(r#""h": 1.0"#, r#""h": 1e10"#);
    let e = codec.from_json_slice(text.as_bytes()).unwrap_err();
    assert_eq!((e.code(), e.path()), ("out_of_range", "S.h"), "{e}");
    let text = agree_json("").replace(r#""h": 1.0"#, r#""h": "Infinity""#);
    codec.from_json_slice(text.as_bytes()).unwrap();
}

#[test]
fn cli_rejects_duplicate_json_keys_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("agree.schema");
    std::fs::write(&schema, AGREE).unwrap();
    let schema = schema.to_str().unwrap();
    let args = ["encode", "--schema", schema, "--sample", "S"];
    let (code, _, _) = run_cli(&args, agree_json("").as_bytes());
    assert_eq!(code, 0);
    let (code, _, err) = run_cli(&args, agree_json(r#", "n": 4"#).as_bytes());
    assert_eq!(code, 1);
    assert!(err.contains("duplicate key"), "{err}");
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(agree_json("").as_bytes());
    let (code, _, err) = run_cli(&args, &bom);
    assert_eq!(code, 1);
    assert!(err.contains("byte-order mark"), "{err}");
}

#[test]
fn alias_keys_are_read_and_the_new_name_is_written() {
    let old = schemac::compile::compile_source(
        std::path::Path::new("old.schema"),
        "sample S {\n    id: u32,\n}\n".into(),
    )
    .unwrap_or_else(|f| panic!("{}", f.render(false)));
    let new = schemac::compile::compile_source(
        std::path::Path::new("new.schema"),
        "@reserved(\"gone\")\nsample S {\n    ident: u32 @alias(\"id\"),\n}\n".into(),
    )
    .unwrap_or_else(|f| panic!("{}", f.render(false)));
    assert_eq!(new.schema.records[0].fields[0].aliases, ["id"]);
    assert_eq!(new.schema.records[0].reserved, ["gone"]);
    let (oc, nc) = (
        Codec::new(&old.schema, "S").unwrap(),
        Codec::new(&new.schema, "S").unwrap(),
    );
    let v = oc.from_json(&json!({"id": 7})).unwrap();
    for format in [Format::Msgpack, Format::Json] {
        let w = nc.decode(&oc.encode(&v, format).unwrap(), format).unwrap();
        assert_eq!(w.field("ident"), v.field("id"), "{format}");
        // Written under the new name only.
        let text = nc.to_json_string(&w, false).unwrap();
        assert_eq!(text, r#"{"ident":7}"#);
    }
    // Both keys at once is a duplicate key, in either form: the one that comes second.
    let e = nc.from_json(&json!({"id": 1, "ident": 2})).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::DuplicateKey(k) if k == "ident"),
        "{e}"
    );
    assert_eq!(e.path(), "S.ident");
    let mut both = schemac_runtime::msgpack::Writer::new();
    both.map_header(2);
    both.str("id");
    both.uint(1);
    both.str("ident");
    both.uint(2);
    let e = nc.from_msgpack(&both.into_bytes()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::DuplicateKey(_)), "{e}");
}

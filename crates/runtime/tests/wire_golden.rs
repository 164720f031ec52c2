//! Golden vectors: bytes produced by the real Python libraries (atdata, msgpack-numpy,
//! truss-chains), stored in tests/data. Values are built from each case's `values`, written
//! with our Writer and compared byte for byte; the golden bytes are read back with our
//! Reader and compared with the same values.

use schemac_runtime::array::{Element, NdArray};
use schemac_runtime::error::{Error, Result, ResultExt};
use schemac_runtime::msgpack::{Reader, Writer};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
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

/// An array from a golden `{"dtype", "shape", "data"}` object.
fn golden_array<T: Element>(v: &Value) -> NdArray<T> {
    assert_eq!(v["dtype"], T::DTYPE.name());
    let shape = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    // Through serde_json's nested-list path, which converts numbers per dtype.
    let data: NdArray<T> = serde_json::from_value(v["data"].clone()).unwrap();
    NdArray::new(shape, data.into_vec()).unwrap()
}

// ---- atdata: Prims --------------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct Prims {
    flag: bool,
    count: i64,
    neg: i64,
    big: i64,
    ratio: f64,
    name: String,
    blob: Vec<u8>,
}

impl Prims {
    fn from_values(v: &Value) -> Self {
        Prims {
            flag: v["flag"].as_bool().unwrap(),
            count: v["count"].as_i64().unwrap(),
            neg: v["neg"].as_i64().unwrap(),
            big: v["big"].as_i64().unwrap(),
            ratio: v["ratio"].as_f64().unwrap(),
            name: v["name"].as_str().unwrap().to_owned(),
            blob: unhex(v["blob_hex"].as_str().unwrap()),
        }
    }

    /// What generated code will do.
    fn write(&self, w: &mut Writer) {
        w.map_header(7);
        w.str("flag");
        w.bool(self.flag);
        w.str("count");
        w.scalar(self.count);
        w.str("neg");
        w.scalar(self.neg);
        w.str("big");
        w.scalar(self.big);
        w.str("ratio");
        w.scalar(self.ratio);
        w.str("name");
        w.str(&self.name);
        w.str("blob");
        w.bin(&self.blob);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let (mut flag, mut count, mut neg, mut big) = (None, None, None, None);
        let (mut ratio, mut name, mut blob) = (None, None, None);
        for _ in 0..r.map_len()? {
            match r.str()? {
                "flag" => flag = Some(r.bool().at("flag")?),
                "count" => count = Some(r.scalar::<i64>().at("count")?),
                "neg" => neg = Some(r.scalar::<i64>().at("neg")?),
                "big" => big = Some(r.scalar::<i64>().at("big")?),
                "ratio" => ratio = Some(r.f64().at("ratio")?),
                "name" => name = Some(r.str().at("name")?.to_owned()),
                "blob" => blob = Some(r.bin().at("blob")?.to_vec()),
                _ => r.skip()?,
            }
        }
        Ok(Prims {
            flag: flag.ok_or_else(|| Error::missing_field("flag"))?,
            count: count.ok_or_else(|| Error::missing_field("count"))?,
            neg: neg.ok_or_else(|| Error::missing_field("neg"))?,
            big: big.ok_or_else(|| Error::missing_field("big"))?,
            ratio: ratio.ok_or_else(|| Error::missing_field("ratio"))?,
            name: name.ok_or_else(|| Error::missing_field("name"))?,
            blob: blob.ok_or_else(|| Error::missing_field("blob"))?,
        })
    }
}

#[test]
fn atdata_prims_write() {
    let file = load("atdata.json");
    let c = case(&file, "Prims");
    let p = Prims::from_values(&c["values"]);
    let mut w = Writer::new();
    p.write(&mut w);
    assert_eq!(hex(w.as_bytes()), c["hex"].as_str().unwrap());
}

#[test]
fn atdata_prims_read() {
    let file = load("atdata.json");
    let c = case(&file, "Prims");
    let bytes = unhex(c["hex"].as_str().unwrap());
    let mut r = Reader::new(&bytes);
    let p = Prims::read(&mut r).unwrap();
    r.finish().unwrap();
    assert_eq!(p, Prims::from_values(&c["values"]));
}

// ---- atdata: ImageMeta ----------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct ImageMeta {
    image: NdArray<f32>,
    caption: String,
    score: f64,
    mask: Option<NdArray<f32>>,
    tags: Vec<String>,
}

impl ImageMeta {
    fn from_values(v: &Value) -> Self {
        ImageMeta {
            image: golden_array(&v["image"]),
            caption: v["caption"].as_str().unwrap().to_owned(),
            score: v["score"].as_f64().unwrap(),
            mask: (!v["mask"].is_null()).then(|| golden_array(&v["mask"])),
            tags: v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect(),
        }
    }

    fn write(&self, w: &mut Writer) {
        w.map_header(5);
        w.str("image");
        w.array(&self.image);
        w.str("caption");
        w.str(&self.caption);
        w.str("score");
        w.f64(self.score);
        w.str("mask");
        match &self.mask {
            Some(m) => w.array(m),
            None => w.nil(),
        }
        w.str("tags");
        w.array_header(self.tags.len());
        for t in &self.tags {
            w.str(t);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let (mut image, mut caption, mut score, mut mask, mut tags) =
            (None, None, None, None, None);
        for _ in 0..r.map_len()? {
            match r.str()? {
                "image" => image = Some(r.array::<f32>().at("image")?),
                "caption" => caption = Some(r.str().at("caption")?.to_owned()),
                "score" => score = Some(r.f64().at("score")?),
                "mask" => {
                    mask = if r.try_nil()? {
                        None
                    } else {
                        Some(r.array::<f32>().at("mask")?)
                    }
                }
                "tags" => {
                    let n = r.array_len().at("tags")?;
                    let mut v = Vec::with_capacity(n);
                    for i in 0..n {
                        v.push(r.str().at_index(i).at("tags")?.to_owned());
                    }
                    tags = Some(v);
                }
                _ => r.skip()?,
            }
        }
        Ok(ImageMeta {
            image: image.ok_or_else(|| Error::missing_field("image"))?,
            caption: caption.ok_or_else(|| Error::missing_field("caption"))?,
            score: score.ok_or_else(|| Error::missing_field("score"))?,
            mask,
            tags: tags.ok_or_else(|| Error::missing_field("tags"))?,
        })
    }
}

#[test]
fn atdata_image_meta_write() {
    let file = load("atdata.json");
    let c = case(&file, "ImageMeta");
    let m = ImageMeta::from_values(&c["values"]);
    let mut w = Writer::new();
    m.write(&mut w);
    assert_eq!(hex(w.as_bytes()), c["hex"].as_str().unwrap());
}

#[test]
fn atdata_image_meta_read() {
    let file = load("atdata.json");
    let c = case(&file, "ImageMeta");
    let bytes = unhex(c["hex"].as_str().unwrap());
    let mut r = Reader::new(&bytes);
    let m = ImageMeta::read(&mut r).unwrap();
    r.finish().unwrap();
    assert_eq!(m, ImageMeta::from_values(&c["values"]));
}

#[test]
fn atdata_image_view_is_zero_copy() {
    let file = load("atdata.json");
    let c = case(&file, "ImageMeta");
    let bytes = unhex(c["hex"].as_str().unwrap());
    let mut r = Reader::new(&bytes);
    r.map_len().unwrap();
    assert_eq!(r.str().unwrap(), "image");
    let v = r.array_view::<f32>().unwrap();
    assert_eq!(v.shape(), &[2, 3]);
    let range = bytes.as_ptr_range();
    assert!(range.contains(&v.bytes().as_ptr()));
    assert_eq!(v.iter().collect::<Vec<_>>(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(v.to_owned(), golden_array::<f32>(&c["values"]["image"]));
}

// ---- msgpack-numpy --------------------------------------------------------------------

#[test]
fn msgpack_numpy_write_and_read() {
    let file = load("msgpack_numpy.json");
    let c = case(&file, "f32_2x3");
    let a = golden_array::<f32>(&c["array"]);
    let mut w = Writer::new();
    w.array_numpy(&a);
    assert_eq!(hex(w.as_bytes()), c["hex"].as_str().unwrap());

    let bytes = unhex(c["hex"].as_str().unwrap());
    let mut r = Reader::new(&bytes);
    assert_eq!(r.array::<f32>().unwrap(), a);
    r.finish().unwrap();
    let mut r = Reader::new(&bytes);
    assert_eq!(r.array_view::<f32>().unwrap().to_owned(), a);
}

// ---- truss-chains JSON ----------------------------------------------------------------

fn truss_case<T: Element>(c: &Value) {
    let a = golden_array::<T>(&c["array"]);
    let json = c["json"].as_str().unwrap();
    assert_eq!(serde_json::to_string(&a).unwrap(), json, "{}", c["name"]);
    let back: NdArray<T> = serde_json::from_str(json).unwrap();
    assert_eq!(back, a);
}

#[test]
fn truss_json_cases() {
    let file = load("truss_json.json");
    let cases = file["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        match c["array"]["dtype"].as_str().unwrap() {
            "f32" => truss_case::<f32>(c),
            "f64" => truss_case::<f64>(c),
            "u8" => truss_case::<u8>(c),
            other => panic!("add a dispatch arm for {other}"),
        }
    }
}

//! Writes the seed corpora of the fuzz targets: `schemac-fuzz-seed <repo root> <corpus dir>`
//! fills `<corpus dir>/{schema,codec,shard,tensors}` (run by scripts/fuzz.sh).
//!
//! - schema: every schema text in the repository's example, invalid, gen-tests and
//!   conformance folders, and the schemas of the golden vectors.
//! - codec: random valid samples of every generated record (msgpack and JSON as the
//!   generated code writes them, msgpack-numpy and packed as the codec writes them), the
//!   atdata golden vectors, and hex inputs of conformance cases that name a known sample.
//! - shard: shards written by `ShardWriter` (several keys, long names, directories, many
//!   shards), the hostile shards of crates/runtime/tests/data/shards, and tar bytes of
//!   conformance cases.
//! - tensors: `to_safetensors` of random batches of every generated batch type, and
//!   safetensors bytes of conformance cases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use schemac::codec::Format;
use schemac_runtime::rng::Rng;
use schemac_runtime::shard::ShardWriter;
use serde_json::Value as Json;

#[path = "../../common/codecs.rs"]
mod codecs;

struct Out {
    dir: PathBuf,
    seen: BTreeSet<Vec<u8>>,
}

impl Out {
    fn new(root: &Path, target: &str) -> Out {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        Out {
            dir,
            seen: BTreeSet::new(),
        }
    }

    fn add(&mut self, name: &str, bytes: Vec<u8>) {
        if !self.seen.insert(bytes.clone()) {
            return;
        }
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.dir.join(format!("seed-{:04}-{safe}", self.seen.len()));
        std::fs::write(path, bytes).unwrap();
    }
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|x| x == ext));
    v.sort();
    v
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Every `(key, string)` in a JSON document, depth first.
fn strings<'a>(v: &'a Json, key: &'a str, out: &mut Vec<(&'a str, &'a str)>) {
    match v {
        Json::String(s) => out.push((key, s)),
        Json::Array(a) => a.iter().for_each(|x| strings(x, key, out)),
        Json::Object(m) => m.iter().for_each(|(k, x)| strings(x, k, out)),
        _ => {}
    }
}

fn is_tar(b: &[u8]) -> bool {
    b.len() >= 512 && (&b[257..262] == b"ustar" || b.iter().all(|&x| x == 0))
}

fn is_safetensors(b: &[u8]) -> bool {
    b.len() >= 9 && b[8] == b'{'
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(
        args.len() == 3,
        "usage: schemac-fuzz-seed <repo root> <corpus dir>"
    );
    let root = PathBuf::from(&args[1]);
    let corpus = PathBuf::from(&args[2]);
    let mut schema = Out::new(&corpus, "schema");
    let mut codec = Out::new(&corpus, "codec");
    let mut shard = Out::new(&corpus, "shard");
    let mut tensors = Out::new(&corpus, "tensors");

    // -- schema texts ----------------------------------------------------------------------
    for dir in [
        "examples/schemas",
        "tests/invalid",
        "tests/invalid/support",
        "crates/gen-tests/schemas",
        "conformance/schemas",
    ] {
        for p in files(&root.join(dir), "schema") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            schema.add(&name, std::fs::read(&p).unwrap());
        }
    }
    for vec in ["atdata.json", "xtructure.json"] {
        let text =
            std::fs::read_to_string(root.join("crates/runtime/tests/data").join(vec)).unwrap();
        let doc: Json = serde_json::from_str(&text).unwrap();
        for case in doc["cases"].as_array().into_iter().flatten() {
            if let (Some(n), Some(s)) = (case["name"].as_str(), case["schema"].as_str()) {
                schema.add(n, s.as_bytes().to_vec());
            }
        }
    }

    // -- codec samples -------------------------------------------------------------------
    let entries = codecs::load(&root);
    let index = |schema: &str, record: &str| {
        entries
            .iter()
            .position(|e| e.schema == schema && e.record == record)
    };
    let add_sample = |codec: &mut Out, i: usize, format: Format, bytes: &[u8]| {
        let mut b = codecs::selector(i, format).to_vec();
        b.extend_from_slice(bytes);
        codec.add(
            &format!("{}-{}-{}", entries[i].record, format.name(), b.len()),
            b,
        );
    };
    let mut msgpacks: Vec<Vec<u8>> = Vec::new();
    macro_rules! samples {
        ($($m:ident :: $t:ident),* $(,)?) => {$(
            for seed in 0..3u64 {
                let mut rng = Rng::new(seed);
                let v = gen_tests::$m::$t::random(&mut rng);
                let mp = v.to_msgpack();
                let json = v.to_json();
                let i = index(stringify!($m), stringify!($t))
                    .unwrap_or_else(|| panic!("no codec for {}", stringify!($t)));
                add_sample(&mut codec, i, Format::Msgpack, &mp);
                add_sample(&mut codec, i, Format::Json, json.as_bytes());
                if let Ok(value) = entries[i].codec.from_msgpack(&mp) {
                    for f in [Format::MsgpackNumpy, Format::Packed] {
                        if let Ok(b) = entries[i].codec.encode(&value, f) {
                            add_sample(&mut codec, i, f, &b);
                        }
                    }
                }
                msgpacks.push(mp);
            }
        )*};
    }
    samples!(
        common::Pose,
        everything::Everything,
        everything::Packed,
        everything::FieldPacked,
        everything::Unpacked,
        puzzle::AggState,
        puzzle::Agg5,
        puzzle::PuzzleState,
        puzzle::TileState,
        robot::RobotStep,
        vision::ImageSample,
        atdata_cases::Prims,
        atdata_cases::ImageMeta,
        atdata_cases::F32x2x3,
        atdata_cases::U8x5,
        atdata_cases::F64x2,
        atdata_cases::PuzzleState,
        edges::Edges,
        edges::HoldsEmpty,
        layouts_edges::S1,
        layouts_edges::E,
        layouts_edges::P,
    );
    let text = std::fs::read_to_string(root.join("crates/runtime/tests/data/atdata.json")).unwrap();
    let doc: Json = serde_json::from_str(&text).unwrap();
    for case in doc["cases"].as_array().into_iter().flatten() {
        let (Some(n), Some(h)) = (case["name"].as_str(), case["hex"].as_str()) else {
            continue;
        };
        if let (Some(i), Some(b)) = (index("atdata_cases", n), hex(h)) {
            add_sample(&mut codec, i, Format::Msgpack, &b);
        }
    }

    // -- shards ----------------------------------------------------------------------------
    let tmp = std::env::temp_dir().join(format!("schemac-fuzz-seed-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut write_shards = |name: &str, max: Option<u64>, keys: &[String]| {
        let mut w = ShardWriter::new(tmp.join(name)).deterministic(true);
        if let Some(m) = max {
            w = w.max_samples(m);
        }
        for (k, mp) in keys.iter().zip(msgpacks.iter().cycle()) {
            w.write(k, mp).unwrap();
        }
        for p in w.finish().unwrap() {
            shard.add(name, std::fs::read(&p).unwrap());
            std::fs::remove_file(p).unwrap();
        }
    };
    let keys = |n: usize| (0..n).map(|i| format!("{i:06}")).collect::<Vec<_>>();
    write_shards("one", None, &keys(1));
    write_shards("three", None, &keys(3));
    write_shards("split", Some(2), &keys(4));
    write_shards(
        "dirs",
        None,
        &[
            "a/b/0001".into(),
            "v1.2/x".into(),
            format!("{}/long", "d".repeat(120)),
        ],
    );
    std::fs::remove_dir_all(&tmp).unwrap();
    shard.add("empty", vec![0; 1024]);
    // The hostile shards both runtimes' tests read (GNU/pax extensions, bad keys, cuts).
    for p in files(&root.join("crates/runtime/tests/data/shards"), "tar") {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        shard.add(&name, std::fs::read(&p).unwrap());
    }

    // -- safetensors -----------------------------------------------------------------------
    macro_rules! batches {
        ($($m:ident :: $b:ident),* $(,)?) => {$(
            for (n, seed) in [(0usize, 0u64), (1, 1), (3, 2)] {
                let b = gen_tests::$m::$b::random(n, seed);
                tensors.add(stringify!($b), b.to_safetensors().unwrap());
            }
        )*};
    }
    batches!(
        common::PoseBatch,
        everything::EverythingBatch,
        everything::PackedBatch,
        everything::BoardBatch,
        everything::FieldPackedBatch,
        everything::UnpackedBatch,
        puzzle::AggStateBatch,
        puzzle::Agg5Batch,
        puzzle::PuzzleStateBatch,
        puzzle::TileStateBatch,
        robot::RobotStepBatch,
        robot::ArmBatch,
        vision::ImageSampleBatch,
        atdata_cases::PrimsBatch,
        atdata_cases::ImageMetaBatch,
        edges::EdgesBatch,
        edges::DotBatch,
        edges::EmptyBatch,
        edges::HoldsEmptyBatch,
    );

    // -- conformance cases (whatever their exact format: hex strings are inputs) ---------
    for p in files(&root.join("conformance/cases"), "json") {
        let Ok(doc) = serde_json::from_str::<Json>(&std::fs::read_to_string(&p).unwrap()) else {
            continue;
        };
        let docs: Vec<&Json> = match &doc {
            Json::Array(a) => a.iter().collect(),
            Json::Object(m) => match m.get("cases") {
                Some(Json::Array(a)) => a.iter().collect(),
                _ => vec![&doc],
            },
            _ => continue,
        };
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        for case in docs {
            let mut s = Vec::new();
            strings(case, "", &mut s);
            let sample = case.get("sample").and_then(Json::as_str);
            let case_schema = case.get("schema").and_then(Json::as_str).map(|s| {
                Path::new(s)
                    .file_stem()
                    .map_or(s.to_owned(), |x| x.to_string_lossy().into_owned())
            });
            let format = match case.get("format").and_then(Json::as_str) {
                Some("json") => Format::Json,
                Some("packed") => Format::Packed,
                Some("msgpack-numpy") | Some("msgpack_numpy") => Format::MsgpackNumpy,
                _ => Format::Msgpack,
            };
            for (_, v) in s {
                let Some(b) = hex(v) else { continue };
                if is_tar(&b) {
                    shard.add(&stem, b);
                } else if is_safetensors(&b) {
                    tensors.add(&stem, b);
                } else if let Some(sample) = sample {
                    let i = entries.iter().position(|e| {
                        e.record == sample && case_schema.as_deref().is_none_or(|c| c == e.schema)
                    });
                    if let Some(i) = i {
                        add_sample(&mut codec, i, format, &b);
                    }
                }
            }
            // `input_text` (conformance/README.md's case format): the input as text.
            if let (Some(text), Some(sample)) =
                (case.get("input_text").and_then(Json::as_str), sample)
            {
                let i = entries.iter().position(|e| {
                    e.record == sample && case_schema.as_deref().is_none_or(|c| c == e.schema)
                });
                if let Some(i) = i {
                    add_sample(&mut codec, i, format, text.as_bytes());
                }
            }
        }
    }
    for (name, out) in [
        ("schema", &schema),
        ("codec", &codec),
        ("shard", &shard),
        ("tensors", &tensors),
    ] {
        println!("{name}: {} seeds in {}", out.seen.len(), out.dir.display());
    }
}

//! The dynamic codec (`schemac::codec`, what `schemac encode`/`decode` run) and the
//! generated Rust agree byte for byte: for random instances of every example sample, the
//! codec re-encodes the generated `to_msgpack()` bytes exactly, reads the generated JSON to
//! the same sample (and the generated `from_json` reads the codec's JSON to the same bytes),
//! and, for aggregate samples, makes the same compact packed bytes.

use gen_tests::{everything, puzzle, robot, vision};
use schemac::codec::{ArrayForm, Codec};
use schemac::ir::Schema;
use schemac_runtime::error::Error;
use schemac_runtime::rng::Rng;
use std::path::Path;

const SEEDS: u64 = 40;

fn compile(file: &str) -> Schema {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/schemas")
        .join(file);
    match schemac::compile::compile_file(&path) {
        Ok(c) => c.schema,
        Err(f) => panic!("{}", f.render(false)),
    }
}

/// How one generated sample type is driven.
struct Generated<T> {
    random: fn(&mut Rng) -> T,
    to_msgpack: fn(&T) -> Vec<u8>,
    to_json: fn(&T) -> String,
    from_json: fn(&str) -> Result<T, Error>,
    /// The compact packed bytes, for aggregate samples.
    packed: Option<fn(&T) -> Vec<u8>>,
}

fn check<T>(schema: &Schema, sample: &str, g: Generated<T>) {
    let codec = Codec::new(schema, sample).unwrap();
    assert_eq!(
        g.packed.is_some(),
        codec.aggregate().is_some(),
        "{sample}: packed form"
    );
    for seed in 0..SEEDS {
        let ctx = format!("{sample} seed {seed}");
        let mut rng = Rng::new(seed);
        let s = (g.random)(&mut rng);
        let bytes = (g.to_msgpack)(&s);
        let v = codec
            .from_msgpack(&bytes)
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(
            codec.to_msgpack(&v, ArrayForm::Atdata).unwrap(),
            bytes,
            "{ctx}: msgpack bytes"
        );
        let json = (g.to_json)(&s);
        let from_json = codec
            .from_json_slice(json.as_bytes())
            .unwrap_or_else(|e| panic!("{ctx}: {e}"));
        assert_eq!(from_json, v, "{ctx}: JSON");
        // And the other way: the generated type reads the codec's JSON to the same bytes,
        // and both write the same text (f32 scalars as the f64 they widen to, everywhere).
        let ours = codec.to_json_string(&v, false).unwrap();
        let generated: serde_json::Value = serde_json::from_str(&json).unwrap();
        let dynamic: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(generated, dynamic, "{ctx}: JSON text");
        let back = (g.from_json)(&ours).unwrap_or_else(|e| panic!("{ctx}: {e}\n{ours}"));
        assert_eq!((g.to_msgpack)(&back), bytes, "{ctx}: JSON from the codec");
        if let Some(packed) = g.packed {
            let want = packed(&s);
            assert_eq!(codec.to_packed(&v).unwrap(), want, "{ctx}: packed bytes");
            assert_eq!(codec.from_packed(&want).unwrap(), v, "{ctx}: packed");
        }
    }
}

macro_rules! generated {
    ($t:ty) => {
        Generated::<$t> {
            random: <$t>::random,
            to_msgpack: <$t>::to_msgpack,
            to_json: <$t>::to_json,
            from_json: <$t>::from_json,
            packed: None,
        }
    };
    ($t:ty, packed $p:ty) => {
        Generated::<$t> {
            random: <$t>::random,
            to_msgpack: <$t>::to_msgpack,
            to_json: <$t>::to_json,
            from_json: <$t>::from_json,
            packed: Some(|s: &$t| <$p>::pack(s).unwrap().to_bytes()),
        }
    };
}

#[test]
fn vision_samples() {
    let schema = compile("vision.schema");
    check(&schema, "ImageSample", generated!(vision::ImageSample));
}

#[test]
fn robot_samples() {
    let schema = compile("robot.schema");
    check(&schema, "RobotStep", generated!(robot::RobotStep));
}

#[test]
fn puzzle_samples() {
    let schema = compile("puzzle.schema");
    check(
        &schema,
        "AggState",
        generated!(puzzle::AggState, packed puzzle::AggStatePacked),
    );
    check(
        &schema,
        "Agg5",
        generated!(puzzle::Agg5, packed puzzle::Agg5Packed),
    );
    check(&schema, "PuzzleState", generated!(puzzle::PuzzleState));
    check(
        &schema,
        "TileState",
        generated!(puzzle::TileState, packed puzzle::TileStatePacked),
    );
}

#[test]
fn everything_samples() {
    let schema = compile("everything.schema");
    check(&schema, "Everything", generated!(everything::Everything));
    check(
        &schema,
        "Packed",
        generated!(everything::Packed, packed everything::PackedPacked),
    );
    check(&schema, "FieldPacked", generated!(everything::FieldPacked));
    check(&schema, "Unpacked", generated!(everything::Unpacked));
}

/// Every example sample is covered above.
#[test]
fn covers_every_example_sample() {
    let mut names: Vec<String> = ["vision", "robot", "puzzle", "everything", "common"]
        .iter()
        .flat_map(|f| {
            compile(&format!("{f}.schema"))
                .samples()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Agg5",
            "AggState",
            "Everything",
            "FieldPacked",
            "ImageSample",
            "Packed",
            "PuzzleState",
            "RobotStep",
            "TileState",
            "Unpacked"
        ]
    );
}

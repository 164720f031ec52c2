//! The generated WebDataset helpers over the runtime's shard writer and reader: samples
//! written with `write_wds` into size-limited shards come back from `read_wds` equal and in
//! order, and `as_wds` names members as WebDataset expects.

use gen_tests::{puzzle, vision};
use schemac_runtime::rng::Rng;
use schemac_runtime::shard::{ShardReader, ShardWriter};

#[test]
fn write_wds_then_read_wds_round_trips_across_shards() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<vision::ImageSample> = (0..5)
        .map(|s| vision::ImageSample::random(&mut Rng::new(s)))
        .collect();
    let mut w = ShardWriter::new(dir.path().join("vision"))
        .max_samples(2)
        .deterministic(true);
    for (i, s) in samples.iter().enumerate() {
        s.write_wds(&mut w, &format!("sample-{i:04}")).unwrap();
    }
    let shards = w.finish().unwrap();
    assert_eq!(shards.len(), 3, "2 + 2 + 1 samples");
    let back: Vec<(String, vision::ImageSample)> =
        vision::ImageSample::read_wds(ShardReader::new(shards))
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(back.len(), 5);
    for (i, (key, s)) in back.iter().enumerate() {
        assert_eq!(key, &format!("sample-{i:04}"));
        assert_eq!(s, &samples[i]);
    }
}

#[test]
fn as_wds_names_the_member_and_holds_the_msgpack() {
    let s = puzzle::AggState::random(&mut Rng::new(3));
    let (name, bytes) = s.as_wds("000000007");
    assert_eq!(name, "000000007.msgpack");
    assert_eq!(bytes, s.to_msgpack());
}

#[test]
fn a_member_of_another_sample_type_is_an_error_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("mixed")).deterministic(true);
    puzzle::Agg5::random(&mut Rng::new(1))
        .write_wds(&mut w, "good")
        .unwrap();
    w.write("bad", &vision::ImageSample::default().to_msgpack())
        .unwrap();
    let shards = w.finish().unwrap();
    let results: Vec<_> = puzzle::Agg5::read_wds(ShardReader::new(shards)).collect();
    assert!(results[0].is_ok());
    let err = results[1].as_ref().unwrap_err().to_string();
    assert!(err.contains("bad"), "{err}");
}

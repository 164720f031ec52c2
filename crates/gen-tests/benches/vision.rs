//! Throughput of the generated `vision.ImageSample` codec (a 224×224×3 f32 image, a str
//! and an f64) against two baselines measured in the same run:
//!
//! - `memcpy`: `copy_from_slice` of the image's 602,112 bytes into a preallocated buffer
//!   (the floor for any encoding that copies the pixels once), and `to_vec` of them (the
//!   same plus the allocation an owned decode cannot avoid);
//! - `rmp_serde`: a plain `#[derive(Serialize, Deserialize)]` struct with a `Vec<f32>` field,
//!   encoded and decoded with rmp-serde (what a hand-rolled serde approach gives).
//!
//! Every benchmark reports throughput in image bytes, so the ratios read directly.
//! Run: `cargo bench -p gen-tests --bench vision -- --warm-up-time 1 --measurement-time 3`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gen_tests::vision::{ImageSample, ImageSampleRef, Split};
use schemac_runtime::array::NdArray;
use schemac_runtime::msgpack::Writer;
use schemac_runtime::rng::Rng;
use std::hint::black_box;

const SHAPE: [usize; 3] = [224, 224, 3];

/// The plain serde struct rmp-serde encodes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Plain {
    image: Vec<f32>,
    label: String,
    confidence: f64,
}

fn sample() -> ImageSample {
    let mut rng = Rng::new(7);
    let n = SHAPE.iter().product();
    let data: Vec<f32> = (0..n).map(|_| rng.range_f64(0.0, 1.0) as f32).collect();
    ImageSample {
        image: NdArray::new(SHAPE.to_vec(), data).unwrap(),
        label: "a photo of a cat".into(),
        confidence: 0.75,
        mask: None,
        depth: None,
        tags: Vec::new(),
        split: Split::Train,
    }
}

fn bench(c: &mut Criterion) {
    let x = sample();
    let image_bytes = std::mem::size_of_val(x.image.as_slice());
    let src: Vec<u8> = x.image.as_le_bytes().into_owned();
    let encoded = x.to_msgpack();
    let plain = Plain {
        image: x.image.as_slice().to_vec(),
        label: x.label.clone(),
        confidence: x.confidence,
    };
    let plain_encoded = rmp_serde::to_vec(&plain).unwrap();
    assert_eq!(
        rmp_serde::from_slice::<Plain>(&plain_encoded).unwrap(),
        plain
    );
    assert_eq!(ImageSample::from_msgpack(&encoded).unwrap(), x);

    eprintln!(
        "ImageSample: {} encoded bytes (rmp-serde plain struct: {})",
        encoded.len(),
        plain_encoded.len()
    );
    let mut g = c.benchmark_group("vision");
    g.throughput(Throughput::Bytes(image_bytes as u64));

    // Baselines.
    let mut dst = vec![0u8; src.len()];
    g.bench_function("memcpy/copy_from_slice", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&dst);
        })
    });
    // The same copy with the destination at the offset the pixels have inside the encoded
    // sample (after the map, key and array headers): what the wire layout itself costs.
    let offset = pixels_offset(&encoded, &src);
    let mut dst_off = vec![0u8; src.len() + offset];
    g.bench_function("memcpy/copy_from_slice (payload offset)", |b| {
        b.iter(|| {
            dst_off[offset..].copy_from_slice(black_box(&src));
            black_box(&dst_off);
        })
    });
    g.bench_function("memcpy/to_vec", |b| {
        b.iter(|| black_box(black_box(&src).to_vec()))
    });

    // Pack.
    let mut w = Writer::with_capacity(encoded.len());
    g.bench_function("pack/write_msgpack (reused buffer)", |b| {
        b.iter(|| {
            w.clear();
            black_box(&x).write_msgpack(&mut w);
            black_box(w.as_bytes());
        })
    });
    g.bench_function("pack/to_msgpack (new Vec)", |b| {
        b.iter(|| black_box(black_box(&x).to_msgpack()))
    });
    let mut buf = Vec::with_capacity(plain_encoded.len());
    g.bench_function("pack/rmp_serde (reused buffer)", |b| {
        b.iter(|| {
            buf.clear();
            rmp_serde::encode::write(&mut buf, black_box(&plain)).unwrap();
            black_box(&buf);
        })
    });

    // Unpack.
    g.bench_function("unpack/from_msgpack (owned)", |b| {
        b.iter(|| black_box(ImageSample::from_msgpack(black_box(&encoded)).unwrap()))
    });
    g.bench_function("unpack/ImageSampleRef (zero-copy)", |b| {
        b.iter(|| black_box(ImageSampleRef::from_msgpack(black_box(&encoded)).unwrap()))
    });
    g.bench_function("unpack/rmp_serde (owned)", |b| {
        b.iter(|| black_box(rmp_serde::from_slice::<Plain>(black_box(&plain_encoded)).unwrap()))
    });
    g.finish();
}

/// Where the pixel bytes start inside the encoded sample: the image is the first field, so
/// after the map header, the key, the bin header and the payload header (typestr, dims).
fn pixels_offset(encoded: &[u8], pixels: &[u8]) -> usize {
    let offset = 1 + 1 + "image".len() + 5 + 1 + 3 + 1 + 3 * 8;
    assert_eq!(&encoded[offset..offset + pixels.len()], pixels);
    offset
}

criterion_group!(benches, bench);
criterion_main!(benches);

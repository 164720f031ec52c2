//! Throughput of the generated layout types (DESIGN §5).
//!
//! - `agg_state/*`: `puzzle.AggState` (1049 bits: 17 flags, 6×54 faces at 3 bits, 5 codes at
//!   12 bits; 33 words) over a 100,000-row batch. Per instance: `AggStatePacked::pack(&sample)`
//!   and `.unpack()` (which allocates the sample's three arrays); whole batches:
//!   `AggStatePackedBatch::pack(&batch)` / `.unpack()` (column by column, no samples built),
//!   one leaf with `unpack_field`, and the compact byte form both ways. Throughput is in
//!   instances.
//! - `vision_collate/*`: `ImageSampleBatch::from_samples` of 64 `vision.ImageSample`s
//!   (a 224×224×3 f32 image, a label, a confidence, a split, one tag; no mask/depth) against
//!   `memcpy`: copying the same column bytes from the samples into preallocated contiguous
//!   buffers (the floor for any collate). Also the split back (`to_samples`). Throughput is
//!   in column bytes.
//!
//! The raw dense kernels (3-bit pack/unpack of 10M values against `bitpacking::BitPacker4x`)
//! are benchmarked in `crates/runtime/benches/bits.rs`; this file does not repeat them.
//!
//! Run: `cargo bench -p gen-tests --bench layouts -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use gen_tests::puzzle::{AggState, AggStateBatch, AggStatePacked, AggStatePackedBatch};
use gen_tests::vision::{ImageSample, ImageSampleBatch, Split};
use schemac_runtime::rng::Rng;
use schemac_runtime::NdArray;

const ROWS: usize = 100_000;
const IMAGES: usize = 64;

fn agg_state(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let samples: Vec<AggState> = (0..ROWS).map(|_| AggState::random(&mut rng)).collect();
    let batch = AggStateBatch::from_samples(&samples).unwrap();
    let packed: Vec<AggStatePacked> = samples
        .iter()
        .map(|s| AggStatePacked::pack(s).unwrap())
        .collect();
    let pb = AggStatePackedBatch::pack(&batch).unwrap();
    let compact = pb.to_bytes();
    // Everything agrees before anything is timed.
    assert_eq!(pb.iter().collect::<Vec<_>>(), packed);
    assert_eq!(pb.unpack(), batch);
    assert_eq!(packed[7].unpack(), samples[7]);
    assert_eq!(AggStatePackedBatch::from_bytes(&compact).unwrap(), pb);

    let mut g = c.benchmark_group("agg_state");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("pack per instance (AggStatePacked::pack)", |b| {
        let mut out = Vec::with_capacity(ROWS);
        b.iter(|| {
            out.clear();
            for s in &samples {
                out.push(AggStatePacked::pack(black_box(s)).unwrap());
            }
            black_box(&out);
        })
    });
    g.bench_function("unpack per instance (AggStatePacked::unpack)", |b| {
        b.iter_batched(
            || Vec::with_capacity(ROWS),
            |mut out: Vec<AggState>| {
                for p in &packed {
                    out.push(black_box(p).unpack());
                }
                out
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function(
        "unpack per instance into a reused sample (unpack_into)",
        |b| {
            let mut out = AggState::default();
            b.iter(|| {
                for p in &packed {
                    black_box(p).unpack_into(&mut out);
                    black_box(&out);
                }
            })
        },
    );
    g.bench_function("pack batch (AggStatePackedBatch::pack)", |b| {
        b.iter(|| black_box(AggStatePackedBatch::pack(black_box(&batch)).unwrap()))
    });
    g.bench_function("unpack batch (AggStatePackedBatch::unpack)", |b| {
        b.iter(|| black_box(black_box(&pb).unpack()))
    });
    g.bench_function("unpack_field faces (batch)", |b| {
        b.iter(|| black_box(black_box(&pb).unpack_field("faces", None).unwrap()))
    });
    g.bench_function("to_bytes (compact, batch)", |b| {
        b.iter(|| black_box(black_box(&pb).to_bytes()))
    });
    g.bench_function("from_bytes (compact, batch)", |b| {
        b.iter(|| black_box(AggStatePackedBatch::from_bytes(black_box(&compact)).unwrap()))
    });
    g.finish();
}

fn image(seed: u64) -> ImageSample {
    let mut rng = Rng::new(seed);
    let data: Vec<f32> = (0..224 * 224 * 3).map(|_| rng.next_f64() as f32).collect();
    ImageSample {
        image: NdArray::new(vec![224, 224, 3], data).unwrap(),
        label: format!("label-{seed}"),
        confidence: 0.5,
        mask: None,
        depth: None,
        tags: vec!["outdoor".to_owned()],
        split: Split::Val,
    }
}

fn vision_collate(c: &mut Criterion) {
    let samples: Vec<ImageSample> = (0..IMAGES as u64).map(image).collect();
    let batch = ImageSampleBatch::from_samples(&samples).unwrap();
    assert_eq!(batch.to_samples(), samples);
    // The bytes a collate must move: every column's values and offsets, as stored.
    let column_bytes = batch.image().0.len() * 4
        + batch.label().values().len()
        + 8 * (IMAGES + 1)
        + 8 * IMAGES
        + batch.tags().values().len()
        + 8 * (IMAGES + 1)
        + IMAGES
        + 2 * (8 * (IMAGES + 1)) // empty mask/depth offsets
        + 2 * (16 * IMAGES) // and their shapes
        + 2 * IMAGES.div_ceil(8);

    let mut g = c.benchmark_group("vision_collate");
    g.throughput(Throughput::Bytes(column_bytes as u64));
    // Baselines: the same bytes copied into buffers that are reused (warm pages) and into
    // fresh allocations (a new batch's pages fault in on first write, like a fresh collate).
    let copy_into = |images: &mut [f32], labels: &mut Vec<u8>, conf: &mut [f64]| {
        labels.clear();
        for (i, s) in samples.iter().enumerate() {
            let row = s.image.as_slice();
            images[i * row.len()..(i + 1) * row.len()].copy_from_slice(row);
            labels.extend_from_slice(s.label.as_bytes());
            conf[i] = s.confidence;
        }
    };
    g.bench_function("memcpy into reused buffers", |b| {
        let mut images = vec![0f32; IMAGES * 224 * 224 * 3];
        let mut labels = Vec::with_capacity(1024);
        let mut conf = vec![0f64; IMAGES];
        b.iter(|| {
            copy_into(&mut images, &mut labels, &mut conf);
            black_box((&images, &labels, &conf));
        })
    });
    g.bench_function("memcpy into fresh buffers", |b| {
        b.iter(|| {
            let mut images = Vec::<f32>::with_capacity(IMAGES * 224 * 224 * 3);
            for s in &samples {
                images.extend_from_slice(s.image.as_slice());
            }
            let mut labels = Vec::with_capacity(1024);
            for s in &samples {
                labels.extend_from_slice(s.label.as_bytes());
            }
            let conf: Vec<f64> = samples.iter().map(|s| s.confidence).collect();
            black_box((images, labels, conf))
        })
    });
    g.bench_function("ImageSampleBatch::from_samples (fresh batch)", |b| {
        b.iter(|| black_box(ImageSampleBatch::from_samples(black_box(&samples)).unwrap()))
    });
    g.bench_function("ImageSampleBatch clear + push (reused batch)", |b| {
        let mut batch = ImageSampleBatch::with_capacity(IMAGES);
        b.iter(|| {
            batch.clear();
            for s in &samples {
                batch.push(black_box(s)).unwrap();
            }
            black_box(&batch);
        })
    });
    g.bench_function("ImageSampleBatch::to_samples (split)", |b| {
        b.iter(|| black_box(black_box(&batch).to_samples()))
    });
    g.finish();
}

criterion_group!(benches, agg_state, vision_collate);
criterion_main!(benches);

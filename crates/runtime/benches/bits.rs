//! Dense bit-packing throughput: `schemac_runtime::bits` against the `bitpacking` crate's
//! `BitPacker4x` (SIMD, its own interleaved layout) on the same 10M values at 3 bits, in the
//! same run. Also the arbitrary-offset (accumulator) path for reference.
//!
//! `CARGO_TARGET_DIR=/work/main/target-bits cargo bench -p schemac-runtime --bench bits -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use bitpacking::{BitPacker, BitPacker4x};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use schemac_runtime::bits;

const N: usize = 10_000_000;
const BITS: u32 = 3;

/// Deterministic values `< 2^BITS` (xorshift, so they are not a trivially periodic pattern).
fn data() -> Vec<u32> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..N)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as u32 & ((1 << BITS) - 1)
        })
        .collect()
}

fn dense(c: &mut Criterion) {
    let values = data();
    assert_eq!(N % BitPacker4x::BLOCK_LEN, 0, "N is a whole number of BitPacker4x blocks");

    // Ours: one dense LSB-first stream.
    let mut words = vec![0u32; bits::words_for(N, BITS)];
    let mut back = vec![0u32; N];

    // BitPacker4x: block after block of 128 values, 16·BITS bytes each.
    let bp = BitPacker4x::new();
    let block_bytes = BitPacker4x::BLOCK_LEN * BITS as usize / 8;
    let mut compressed = vec![0u8; N / BitPacker4x::BLOCK_LEN * block_bytes];
    let mut bp_back = vec![0u32; N];

    // Both round-trip before anything is timed.
    bits::pack_dense(&values, BITS, &mut words).unwrap();
    bits::unpack_dense(&words, BITS, &mut back).unwrap();
    assert_eq!(back, values);
    for (i, blk) in values.chunks_exact(BitPacker4x::BLOCK_LEN).enumerate() {
        bp.compress(blk, &mut compressed[i * block_bytes..], BITS as u8);
    }
    for (i, blk) in bp_back.chunks_exact_mut(BitPacker4x::BLOCK_LEN).enumerate() {
        bp.decompress(&compressed[i * block_bytes..], blk, BITS as u8);
    }
    assert_eq!(bp_back, values);

    let mut g = c.benchmark_group("dense_3bit_10M");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);

    g.bench_function("pack/ours_pack_dense", |b| {
        b.iter(|| bits::pack_dense(black_box(&values), BITS, black_box(&mut words)).unwrap())
    });
    g.bench_function("pack/bitpacker4x_compress", |b| {
        b.iter(|| {
            let vals = black_box(&values);
            let out = black_box(&mut compressed);
            let mut off = 0;
            for blk in vals.chunks_exact(BitPacker4x::BLOCK_LEN) {
                off += bp.compress(blk, &mut out[off..], BITS as u8);
            }
            off
        })
    });
    g.bench_function("unpack/ours_unpack_dense", |b| {
        b.iter(|| bits::unpack_dense(black_box(&words), BITS, black_box(&mut back)).unwrap())
    });
    g.bench_function("unpack/bitpacker4x_decompress", |b| {
        b.iter(|| {
            let inp = black_box(&compressed);
            let out = black_box(&mut bp_back);
            let mut off = 0;
            for blk in out.chunks_exact_mut(BitPacker4x::BLOCK_LEN) {
                off += bp.decompress(&inp[off..], blk, BITS as u8);
            }
            off
        })
    });
    g.finish();

    // The aggregate-layout path: u8 values at an unaligned bit offset (accumulator kernel).
    let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
    let mut agg = vec![0u32; bits::words_for(N, BITS) + 1];
    let mut bytes_back = vec![0u8; N];
    let mut g = c.benchmark_group("offset17_u8_3bit_10M");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(20);
    g.bench_function("pack_into", |b| {
        b.iter(|| bits::pack_into(black_box(&bytes), BITS, black_box(&mut agg), 17).unwrap())
    });
    g.bench_function("unpack_from", |b| {
        b.iter(|| bits::unpack_from(black_box(&agg), 17, BITS, black_box(&mut bytes_back)).unwrap())
    });
    g.finish();
    assert_eq!(bytes_back, bytes);
}

criterion_group!(benches, dense);
criterion_main!(benches);

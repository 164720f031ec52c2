//! Dense bit-packing throughput: `schemac_runtime::bits::{pack_dense, unpack_dense}` against
//! the `bitpacking` crate's `BitPacker4x` (SSE3, its own 4-way interleaved layout, no overflow
//! check) `compress`/`decompress` at `num_bits = 3`, over the same values in the same run.
//!
//! - `dense_3bit_10M`: the headline comparison, 10M values (40 MB of input, so it runs from
//!   memory, not cache).
//! - `dense_3bit_128K`: the same kernels on 128K values (512 KB, cache-resident): compute only.
//! - `offset17_u8_3bit_10M`: the aggregate-layout path (u8 values at an unaligned bit offset,
//!   the accumulator kernel), for reference.
//!
//! `CARGO_TARGET_DIR=/work/main/target-bits cargo bench -p schemac-runtime --bench bits -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use bitpacking::{BitPacker, BitPacker4x};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use schemac_runtime::bits;

const BITS: u32 = 3;

/// Deterministic values `< 2^BITS` (xorshift, so they are not a trivially periodic pattern).
fn data(n: usize) -> Vec<u32> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as u32 & ((1 << BITS) - 1)
        })
        .collect()
}

fn compare(c: &mut Criterion, name: &str, n: usize) {
    let values = data(n);
    assert_eq!(
        n % BitPacker4x::BLOCK_LEN,
        0,
        "n is a whole number of BitPacker4x blocks"
    );

    // Ours: one dense LSB-first stream.
    let mut words = vec![0u32; bits::words_for(n, BITS)];
    let mut back = vec![0u32; n];

    // BitPacker4x: block after block of 128 values, 16·BITS bytes each.
    let bp = BitPacker4x::new();
    let block_bytes = BitPacker4x::BLOCK_LEN * BITS as usize / 8;
    let mut compressed = vec![0u8; n / BitPacker4x::BLOCK_LEN * block_bytes];
    let mut bp_back = vec![0u32; n];

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

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n as u64));
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
    assert_eq!(back, values);
    assert_eq!(bp_back, values);
}

fn dense(c: &mut Criterion) {
    compare(c, "dense_3bit_10M", 10_000_000);
    compare(c, "dense_3bit_128K", 128 * 1024);
}

fn offset(c: &mut Criterion) {
    // The aggregate-layout path: u8 values at an unaligned bit offset (accumulator kernel).
    const N: usize = 10_000_000;
    let bytes: Vec<u8> = data(N).iter().map(|&v| v as u8).collect();
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

criterion_group!(benches, dense, offset);
criterion_main!(benches);

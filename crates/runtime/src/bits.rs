//! Bit-packing kernels: the one LSB-first bitstream of DESIGN §5 and everything that reads or
//! writes it.
//!
//! This module owns:
//!
//! - [`BitElement`]: how each integer/bool dtype becomes a stored `bits`-wide code (with a fit
//!   check) and comes back (sign-extended for signed dtypes).
//! - The **word-stream** API used by the aggregate layout (`<Name>Packed`, a sample is
//!   `[u32; words]` and leaves sit at arbitrary bit offsets): [`pack_into`], [`unpack_from`],
//!   [`get`] / [`try_get`] / [`set`] for single values, and the dense no-offset fast paths
//!   [`pack_dense`] / [`unpack_dense`] for large `u32` arrays.
//! - The **byte-stream** API used by per-field `@packed` storage (a leaf's own stream in
//!   `ceil(n·bits/8)` bytes): [`pack_bytes`], [`pack_bytes_into`], [`unpack_bytes`],
//!   [`get_byte_stream`] / [`try_get_byte_stream`] / [`set_byte_stream`].
//! - The aggregate **compact form** (xtructure's `words` + `tail`): [`CompactLayout`],
//!   [`compact_from_words`], [`words_from_compact`].
//!
//! The bit order, everywhere: value `k` of a leaf occupies stream bits
//! `[offset + k·bits, offset + (k+1)·bits)`, low bit first; stream bit `p` is bit `p & 31` of
//! little-endian `u32` word `p >> 5` (equivalently bit `p & 7` of byte `p >> 3`). Values are
//! stored as their low `bits` bits (two's complement for signed dtypes). A value that does not
//! fit is a [`BitsError::Overflow`], never silently truncated; short buffers are errors, not
//! panics, in every function that returns a `Result`. `bits` is always `1..=32`.
//!
//! Speed: no per-bit loops anywhere. Arbitrary offsets use a 64-bit accumulator (one shift/or
//! per value). Word-aligned runs (the dense path, and any leaf that starts on a word boundary)
//! go through blocks of 32 values ↔ `bits` words, with `bits` a const generic chosen by one
//! `match` per call, so every shift in a block is a compile-time constant and the block is
//! fully unrolled. On x86-64 with AVX2 (detected at run time; the crate itself targets
//! baseline x86-64) word-aligned `u32` runs, i.e. [`pack_dense`] / [`unpack_dense`] and `u32`
//! leaves at word offsets, use the SIMD kernels of the private `avx2` module instead; the
//! output is the same dense stream. BENCHMARKS.md has the numbers.

use crate::Dtype;

/// The widest stored code, in bits.
pub const MAX_BITS: u32 = 32;

/// Values per block in the word-aligned kernels: 32 values of `bits` bits fill exactly `bits`
/// whole words, so blocks never share a word and need no read-modify-write.
const BLOCK: usize = 32;

/// Values per stack chunk in the byte-stream functions. 1024 values at 32 bits are 1024 words
/// (4 KiB), small enough for the stack, large enough that per-chunk overhead vanishes; and a
/// multiple of [`BLOCK`], so every chunk but the last ends on a word (and byte) boundary.
const BYTE_CHUNK: usize = 1024;

/// Why a pack, unpack or compact conversion failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BitsError {
    /// `bits` outside `1..=32`.
    #[error("bit width must be in 1..=32, got {bits}")]
    InvalidBits { bits: u32 },
    /// A value does not fit in `bits` bits (unsigned: `>= 2^bits`; signed: outside
    /// `[-2^(bits-1), 2^(bits-1) - 1]`). `index` is the value's position in the input slice.
    #[error("value {value} at index {index} does not fit in {bits} bits")]
    Overflow {
        index: usize,
        value: i128,
        bits: u32,
    },
    /// A stored code, decoded with `bits` bits, is not representable in the requested dtype
    /// (e.g. a 12-bit field decoded into `u8`).
    #[error("stored value {value} at index {index} ({bits}-bit field) does not fit in {dtype}")]
    CodeOutOfRange {
        index: usize,
        value: i64,
        bits: u32,
        dtype: Dtype,
    },
    /// The buffer is shorter than the bit range the call reads or writes.
    #[error("buffer too short: the bit range ends at bit {needed_bits} but the buffer holds {available_bits} bits")]
    BufferTooShort {
        needed_bits: u128,
        available_bits: u128,
    },
    /// A compact byte form whose length differs from `4·words_len + tail_bytes`.
    #[error("compact form is {got} bytes, expected {expected}")]
    CompactLength { expected: usize, got: usize },
    /// `words`, `words_len`, `tail_bytes` and `total_bits` do not describe one layout.
    #[error("inconsistent compact layout: words={words} words_len={words_len} tail_bytes={tail_bytes} total_bits={total_bits}")]
    InvalidCompactLayout {
        words: usize,
        words_len: usize,
        tail_bytes: usize,
        total_bits: u64,
    },
    /// A padding bit (at or after `total_bits`) is set; padding must be zero.
    #[error("padding bit {bit} is set (total_bits = {total_bits}); padding bits must be zero")]
    NonZeroPadding { bit: u64, total_bits: u64 },
}

/// An element type that can be stored in the bitstream: `bool`, `u8`..`u64`, `i8`..`i64`.
///
/// The stored code of a value is its low `bits` bits (two's complement for signed types);
/// decoding sign-extends for signed types and zero-extends otherwise. Every method takes
/// `bits` in `1..=32`; the public kernels check that before calling them.
pub trait BitElement: Copy + 'static {
    /// The dtype, for error messages.
    const DTYPE: Dtype;
    /// Width of the type in bits (`bool`: 1). Decoding a field of at most this many bits can
    /// never fail, which lets the kernels skip the range check.
    const WIDTH: u32;

    /// Zero iff `self` fits in `bits` bits. Kernels OR this over a whole block and check once,
    /// which is branch-free and vectorises, instead of branching per value.
    fn excess(self, bits: u32) -> u64;
    /// The low 32 bits of the two's-complement value (the kernels mask to `bits`).
    fn low_bits(self) -> u32;
    /// Decode a code (`< 2^bits`), sign-extending for signed types, then cast to `Self`
    /// keeping the low bits. Exact whenever `bits <= Self::WIDTH`.
    fn from_code_wrapping(code: u32, bits: u32) -> Self;
    /// Decode a code (`< 2^bits`), or `None` if the decoded value is not representable.
    fn from_code(code: u32, bits: u32) -> Option<Self>;
    /// The decoded code as a signed 64-bit value (for error reports).
    fn code_value(code: u32, bits: u32) -> i64;
    /// The value, exactly, for error reports.
    fn to_i128(self) -> i128;

    /// `Some` only for `u32`, whose values are their own codes: lets word-aligned `u32` leaves
    /// take the SIMD dense kernels. Not meant to be overridden elsewhere.
    #[doc(hidden)]
    #[inline(always)]
    fn as_u32_slice(values: &[Self]) -> Option<&[u32]> {
        let _ = values;
        None
    }
    /// Mutable counterpart of [`BitElement::as_u32_slice`].
    #[doc(hidden)]
    #[inline(always)]
    fn as_u32_slice_mut(values: &mut [Self]) -> Option<&mut [u32]> {
        let _ = values;
        None
    }

    /// Whether `self` fits in `bits` bits.
    #[inline]
    fn fits(self, bits: u32) -> bool {
        self.excess(bits) == 0
    }

    /// The stored code (`< 2^bits`), or `None` if `self` does not fit in `bits` bits.
    #[inline]
    fn to_code(self, bits: u32) -> Option<u32> {
        self.fits(bits).then(|| self.low_bits() & mask(bits))
    }
}

impl BitElement for bool {
    const DTYPE: Dtype = Dtype::Bool;
    const WIDTH: u32 = 1;

    #[inline(always)]
    fn excess(self, _bits: u32) -> u64 {
        0
    }
    #[inline(always)]
    fn low_bits(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn from_code_wrapping(code: u32, _bits: u32) -> Self {
        code != 0
    }
    #[inline(always)]
    fn from_code(code: u32, _bits: u32) -> Option<Self> {
        // A wider-than-1-bit bool field holding 2 or more is corrupt data, not `true`.
        match code {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    #[inline(always)]
    fn code_value(code: u32, _bits: u32) -> i64 {
        code as i64
    }
    #[inline(always)]
    fn to_i128(self) -> i128 {
        self as i128
    }
}

macro_rules! impl_unsigned {
    ($($t:ty => $dt:ident { $($extra:item)* }),*) => {$(
        impl BitElement for $t {
            const DTYPE: Dtype = Dtype::$dt;
            const WIDTH: u32 = <$t>::BITS;

            #[inline(always)]
            fn excess(self, bits: u32) -> u64 {
                // Widen so `bits == 32` is a valid shift for every type.
                (self as u64) >> bits
            }
            #[inline(always)]
            fn low_bits(self) -> u32 {
                self as u32
            }
            #[inline(always)]
            fn from_code_wrapping(code: u32, _bits: u32) -> Self {
                code as $t
            }
            #[inline(always)]
            fn from_code(code: u32, _bits: u32) -> Option<Self> {
                <$t>::try_from(code).ok()
            }
            #[inline(always)]
            fn code_value(code: u32, _bits: u32) -> i64 {
                code as i64
            }
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
            $($extra)*
        }
    )*};
}
impl_unsigned!(
    u8 => U8 {},
    u16 => U16 {},
    u32 => U32 {
        #[inline(always)]
        fn as_u32_slice(values: &[u32]) -> Option<&[u32]> {
            Some(values)
        }
        #[inline(always)]
        fn as_u32_slice_mut(values: &mut [u32]) -> Option<&mut [u32]> {
            Some(values)
        }
    },
    u64 => U64 {}
);

/// Sign-extend the low `bits` bits of `code`.
#[inline(always)]
fn sign_extend(code: u32, bits: u32) -> i32 {
    ((code << (32 - bits)) as i32) >> (32 - bits)
}

macro_rules! impl_signed {
    ($($t:ty => $dt:ident, $wide:ty),*) => {$(
        impl BitElement for $t {
            const DTYPE: Dtype = Dtype::$dt;
            const WIDTH: u32 = <$t>::BITS;

            #[inline(always)]
            fn excess(self, bits: u32) -> u64 {
                // In range iff the bits from `bits-1` up are all copies of the sign bit, i.e.
                // `v >> (bits-1)` is 0 or -1; adding 1 maps those to 1 and 0, and anything else
                // to a value with a bit set above bit 0. `$wide` is i32 for the narrow types
                // (cheaper lanes when vectorised), i64 for i64.
                let top = ((self as $wide) >> (bits - 1)).wrapping_add(1);
                (top as u64) >> 1
            }
            #[inline(always)]
            fn low_bits(self) -> u32 {
                self as u32
            }
            #[inline(always)]
            fn from_code_wrapping(code: u32, bits: u32) -> Self {
                sign_extend(code, bits) as $t
            }
            #[inline(always)]
            fn from_code(code: u32, bits: u32) -> Option<Self> {
                <$t>::try_from(sign_extend(code, bits)).ok()
            }
            #[inline(always)]
            fn code_value(code: u32, bits: u32) -> i64 {
                sign_extend(code, bits) as i64
            }
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
        }
    )*};
}
impl_signed!(i8 => I8, i32, i16 => I16, i32, i32 => I32, i32, i64 => I64, i64);

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// The low `bits` bits set (`bits` in `1..=32`).
#[inline(always)]
const fn mask(bits: u32) -> u32 {
    u32::MAX >> (32 - bits)
}

/// The low `n` bits set, `n` in `0..32` (`n == 0` → 0).
#[inline(always)]
const fn low_mask(n: u32) -> u32 {
    ((1u64 << n) - 1) as u32
}

#[inline]
fn check_bits(bits: u32) -> Result<(), BitsError> {
    if (1..=MAX_BITS).contains(&bits) {
        Ok(())
    } else {
        Err(BitsError::InvalidBits { bits })
    }
}

/// Check that `[bit_offset, bit_offset + n·bits)` lies inside `available_bits`. u128 so no
/// input can overflow the arithmetic.
#[inline]
fn check_range(
    bit_offset: u64,
    n: usize,
    bits: u32,
    available_bits: u128,
) -> Result<(), BitsError> {
    let needed_bits = bit_offset as u128 + n as u128 * bits as u128;
    if needed_bits <= available_bits {
        Ok(())
    } else {
        Err(BitsError::BufferTooShort {
            needed_bits,
            available_bits,
        })
    }
}

#[inline]
fn words_bits(words: &[u32]) -> u128 {
    words.len() as u128 * 32
}

/// Number of `u32` words that hold `n` values of `bits` bits: `ceil(n·bits/32)`.
pub fn words_for(n: usize, bits: u32) -> usize {
    (n as u128 * bits as u128).div_ceil(32) as usize
}

/// Number of bytes that hold `n` values of `bits` bits: `ceil(n·bits/8)` (per-field
/// `@packed` storage size).
pub fn bytes_for(n: usize, bits: u32) -> usize {
    (n as u128 * bits as u128).div_ceil(8) as usize
}

#[cold]
fn overflow_error<T: BitElement>(index: usize, value: T, bits: u32) -> BitsError {
    BitsError::Overflow {
        index,
        value: value.to_i128(),
        bits,
    }
}

#[cold]
fn code_error<T: BitElement>(index: usize, code: u32, bits: u32) -> BitsError {
    BitsError::CodeOutOfRange {
        index,
        value: T::code_value(code, bits),
        bits,
        dtype: T::DTYPE,
    }
}

/// The first value of `values` that does not fit, as an error (called only once a block's
/// combined check failed, so it is off the hot path).
#[cold]
#[inline(never)]
fn first_overflow<T: BitElement>(values: &[T], bits: u32, index_base: usize) -> BitsError {
    let (i, &v) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !v.fits(bits))
        .expect("a block reported an overflow, so some value does not fit");
    overflow_error(index_base + i, v, bits)
}

// ---------------------------------------------------------------------------------------------
// Block kernels: 32 values <-> B words, B a const generic so the unrolled body has only
// constant shifts and constant word indices.

/// Expand `$body` 32 times with `$i` bound to 0..=31. A literal unroll rather than trusting the
/// optimiser's unroll heuristics: the point is that `i·B / 32` and `i·B % 32` become constants.
macro_rules! unroll32 {
    ($i:ident => $body:block) => {
        unroll32!(@ $i $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31)
    };
    (@ $i:ident $body:block; $($n:literal)*) => {
        $( { let $i: usize = $n; $body } )*
    };
}

/// `unroll32!` for 8 steps.
#[cfg(target_arch = "x86_64")]
macro_rules! unroll8 {
    ($i:ident => $body:block) => {
        unroll32!(@ $i $body; 0 1 2 3 4 5 6 7)
    };
}

/// `unroll32!` for 16 steps.
#[cfg(target_arch = "x86_64")]
macro_rules! unroll16 {
    ($i:ident => $body:block) => {
        unroll32!(@ $i $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
}

/// Run `$e` with `$B` a `const usize` equal to `$bits` (already checked to be in 1..=32). One
/// `match` per call, so each arm is a separately optimised instance.
macro_rules! with_const_bits {
    ($bits:expr, $B:ident => $e:expr) => {
        with_const_bits!(@ $bits, $B, $e; 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
    };
    (@ $bits:expr, $B:ident, $e:expr; $($n:literal)*) => {
        match $bits {
            $( $n => { const $B: usize = $n; $e } )*
            _ => unreachable!("bits validated to be in 1..=32"),
        }
    };
}

/// Pack 32 codes (each `< 2^B`) into exactly `B` words.
#[inline(always)]
fn pack_block<const B: usize>(codes: &[u32; BLOCK], out: &mut [u32; B]) {
    // `cur` holds the word being filled; each word is written exactly once, when full.
    let mut cur = 0u32;
    unroll32!(i => {
        let bit = i * B;
        let (w, s) = (bit / 32, bit % 32);
        cur |= codes[i] << s;
        if s + B >= 32 {
            out[w] = cur;
            // The part of this value that spills into the next word (s > 0 here, so the
            // shift is < 32).
            cur = if s + B > 32 { codes[i] >> (32 - s) } else { 0 };
        }
    });
    let _ = cur;
}

/// Unpack exactly `B` words into 32 codes.
#[inline(always)]
fn unpack_block<const B: usize>(inp: &[u32; B], codes: &mut [u32; BLOCK]) {
    let m = mask(B as u32);
    unroll32!(i => {
        let bit = i * B;
        let (w, s) = (bit / 32, bit % 32);
        let mut v = inp[w] >> s;
        if s + B > 32 {
            v |= inp[w + 1] << (32 - s);
        }
        codes[i] = v & m;
    });
}

/// Pack whole blocks of `values` into `words` (starting at word 0). Returns how many values
/// were packed (a multiple of 32); the caller packs the remainder. Error indices are offset by
/// `index_base`.
#[inline(always)]
fn pack_blocks<T: BitElement, const B: usize>(
    values: &[T],
    words: &mut [u32],
    index_base: usize,
) -> Result<usize, BitsError> {
    let bits = B as u32;
    let m = mask(bits);
    let mut done = 0;
    for (chunk, out) in values.chunks_exact(BLOCK).zip(words.chunks_exact_mut(B)) {
        let chunk: &[T; BLOCK] = chunk.try_into().expect("chunks_exact yields BLOCK values");
        let out: &mut [u32; B] = out.try_into().expect("chunks_exact_mut yields B words");
        let mut codes = [0u32; BLOCK];
        let mut excess = 0u64;
        for i in 0..BLOCK {
            excess |= chunk[i].excess(bits);
            codes[i] = chunk[i].low_bits() & m;
        }
        if excess != 0 {
            return Err(first_overflow(chunk, bits, index_base + done));
        }
        pack_block::<B>(&codes, out);
        done += BLOCK;
    }
    Ok(done)
}

/// Unpack whole blocks from `words` (starting at word 0) into `out`. Returns how many values
/// were unpacked (a multiple of 32); the caller unpacks the remainder.
#[inline(always)]
fn unpack_blocks<T: BitElement, const B: usize>(
    words: &[u32],
    out: &mut [T],
    index_base: usize,
) -> Result<usize, BitsError> {
    let bits = B as u32;
    let mut done = 0;
    for (inp, chunk) in words.chunks_exact(B).zip(out.chunks_exact_mut(BLOCK)) {
        let inp: &[u32; B] = inp.try_into().expect("chunks_exact yields B words");
        let chunk: &mut [T; BLOCK] = chunk
            .try_into()
            .expect("chunks_exact_mut yields BLOCK values");
        let mut codes = [0u32; BLOCK];
        unpack_block::<B>(inp, &mut codes);
        if bits <= T::WIDTH {
            // Constant-folded per instance: no range check needed.
            for i in 0..BLOCK {
                chunk[i] = T::from_code_wrapping(codes[i], bits);
            }
        } else {
            for i in 0..BLOCK {
                chunk[i] = T::from_code(codes[i], bits)
                    .ok_or_else(|| code_error::<T>(index_base + done + i, codes[i], bits))?;
            }
        }
        done += BLOCK;
    }
    Ok(done)
}

/// Dense `u32` pack from word 0 of `words`: SIMD groups where available, then scalar blocks.
/// Returns how many values were packed (a multiple of 32).
#[inline(always)]
fn pack_u32_blocks<const B: usize>(values: &[u32], words: &mut [u32]) -> Result<usize, BitsError> {
    #[allow(unused_mut)]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if avx2::available() {
        // SAFETY: AVX2 was just detected.
        match unsafe { avx2::pack::<B>(values, words) } {
            Ok(n) => done = n,
            Err(g) => {
                return Err(first_overflow(&values[g..g + avx2::GROUP], B as u32, g));
            }
        }
    }
    Ok(done + pack_blocks::<u32, B>(&values[done..], &mut words[done / BLOCK * B..], done)?)
}

/// Outputs at least this large are written with streaming (non-temporal) stores by the SIMD
/// unpack. Around half of a server L3, an output no longer stays cached for the caller
/// anyway, and then the read-for-ownership of every output line is pure cost for plain
/// stores (the reasoning behind the non-temporal threshold of glibc's `memcpy`). Smaller
/// outputs use plain stores so they are still in cache when the caller reads them.
#[cfg(target_arch = "x86_64")]
const STREAM_MIN_BYTES: usize = 16 << 20;

/// Dense `u32` unpack from word 0 of `words`. Returns how many values were unpacked (the
/// caller unpacks the rest with the accumulator, which takes any bit position).
#[inline(always)]
fn unpack_u32_fast<const B: usize>(words: &[u32], out: &mut [u32]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if B <= avx2::SCAN_MAX_BITS && avx2::available() {
        let stream = out.len() * 4 >= STREAM_MIN_BYTES && out.as_ptr() as usize % 16 == 0;
        // SAFETY: AVX2 was just detected, B is in range, and `stream` implies alignment.
        return unsafe {
            if stream {
                avx2::unpack::<B, true>(words, out)
            } else {
                avx2::unpack::<B, false>(words, out)
            }
        };
    }
    unpack_blocks::<u32, B>(words, out, 0).expect("u32 holds every code of at most 32 bits")
}

/// Pack `u32` values from stream bit 0 of `words` (range already checked).
fn pack_u32_word0(
    values: &[u32],
    bits: u32,
    words: &mut [u32],
    zero_after: bool,
) -> Result<(), BitsError> {
    let done = with_const_bits!(bits, B => pack_u32_blocks::<B>(values, words))?;
    pack_acc(
        &values[done..],
        bits,
        words,
        done as u64 * bits as u64,
        done,
        zero_after,
    )
}

/// Unpack `u32` values from stream bit 0 of `words` (range already checked).
fn unpack_u32_word0(words: &[u32], bits: u32, out: &mut [u32]) -> Result<(), BitsError> {
    let done = with_const_bits!(bits, B => unpack_u32_fast::<B>(words, out));
    unpack_acc(
        words,
        done as u64 * bits as u64,
        bits,
        &mut out[done..],
        done,
    )
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! AVX2 versions of the dense `u32` kernels, chosen at run time (the crate is built for
    //! baseline x86-64). The stream layout is the same dense LSB-first one; only the order of
    //! work differs from the scalar kernels.
    //!
    //! - `pack`: 8 blocks of 32 values at once (a group), one block per 32-bit lane, so every
    //!   shift in the unrolled block is the same for all lanes (the scalar block kernel, 8
    //!   wide). A block's values are contiguous, so they must be transposed into lanes; that
    //!   transpose is the cost. For `B <= 14` adjacent values are first merged in pairs with
    //!   a multiply-add, halving what is transposed (`pack_pairs`); wider `B` transposes the
    //!   values themselves (`pack_lanes`).
    //! - `unpack`: the SIMD-Scan scheme (Willhalm et al., VLDB 2009). 8 values of `B` bits are
    //!   exactly `B` bytes, so every group of 8 starts on a byte and has the same shape: one
    //!   `pshufb` moves each value's (at most 4) bytes into its lane, one `vpsrlvd` shifts it
    //!   down, one `and` masks it. Needs each value inside a 4-byte window: `B <= 25`.

    use super::{mask, BLOCK};
    use std::arch::x86_64::*;

    /// Values per `pack` group: 8 blocks.
    pub(super) const GROUP: usize = 8 * BLOCK;
    /// Widest `B` the SIMD-Scan unpack handles (`7 + B <= 32`).
    pub(super) const SCAN_MAX_BITS: usize = 25;

    #[inline]
    pub(super) fn available() -> bool {
        // std caches the CPUID result; this is one relaxed atomic load.
        std::arch::is_x86_feature_detected!("avx2")
    }

    #[inline(always)]
    unsafe fn sll(x: __m256i, n: usize) -> __m256i {
        // A constant count once unrolled; LLVM emits the immediate form.
        _mm256_sll_epi32(x, _mm_cvtsi32_si128(n as i32))
    }

    #[inline(always)]
    unsafe fn srl(x: __m256i, n: usize) -> __m256i {
        _mm256_srl_epi32(x, _mm_cvtsi32_si128(n as i32))
    }

    /// Transpose the 4x4 matrices in the low and high 128-bit halves independently.
    #[inline(always)]
    unsafe fn transpose_halves(r: [__m256i; 4]) -> [__m256i; 4] {
        let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        [
            _mm256_unpacklo_epi64(t0, t2),
            _mm256_unpackhi_epi64(t0, t2),
            _mm256_unpacklo_epi64(t1, t3),
            _mm256_unpackhi_epi64(t1, t3),
        ]
    }

    /// Pack whole groups of 256 values into `8·B` words each. Returns `Ok(values packed)`, or
    /// `Err(start of the group)` holding a value `>= 2^B` (that group is not written).
    ///
    /// # Safety
    /// AVX2 must be available.
    #[inline(always)]
    pub(super) unsafe fn pack<const B: usize>(
        values: &[u32],
        out: &mut [u32],
    ) -> Result<usize, usize> {
        if B <= PAIR_MAX_BITS {
            pack_pairs::<B>(values, out)
        } else {
            pack_lanes::<B>(values, out)
        }
    }

    /// Widest `B` for [`pack_pairs`]: `vpmaddwd` multiplies signed 16-bit lanes, so the
    /// weight `2^B` must be below `2^15`.
    const PAIR_MAX_BITS: usize = 14;
    /// Widest `B` for which [`pack_pairs`] merges a second time (pairs of `2B` bits into
    /// quads), under the same limit.
    const QUAD_MAX_BITS: usize = 7;

    /// Bytes ahead of the current group to prefetch. The loads of a group hop between 8
    /// blocks, which the hardware prefetcher follows less eagerly than a plain stream; one
    /// group ahead measured best (larger distances were slower on the bench machine).
    const PREFETCH: usize = 1024;

    /// Full 8x8 transpose of 32-bit lanes: `out[k]` lane `l` = `r[l]` lane `k`.
    #[inline(always)]
    unsafe fn transpose8(r: [__m256i; 8]) -> [__m256i; 8] {
        let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
        let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
        let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        let u0 = _mm256_unpacklo_epi64(t0, t2);
        let u1 = _mm256_unpackhi_epi64(t0, t2);
        let u2 = _mm256_unpacklo_epi64(t1, t3);
        let u3 = _mm256_unpackhi_epi64(t1, t3);
        let u4 = _mm256_unpacklo_epi64(t4, t6);
        let u5 = _mm256_unpackhi_epi64(t4, t6);
        let u6 = _mm256_unpacklo_epi64(t5, t7);
        let u7 = _mm256_unpackhi_epi64(t5, t7);
        [
            _mm256_permute2x128_si256::<0x20>(u0, u4),
            _mm256_permute2x128_si256::<0x20>(u1, u5),
            _mm256_permute2x128_si256::<0x20>(u2, u6),
            _mm256_permute2x128_si256::<0x20>(u3, u7),
            _mm256_permute2x128_si256::<0x31>(u0, u4),
            _mm256_permute2x128_si256::<0x31>(u1, u5),
            _mm256_permute2x128_si256::<0x31>(u2, u6),
            _mm256_permute2x128_si256::<0x31>(u3, u7),
        ]
    }

    /// Copy lane `l`'s `B` words (`res[w]` lane `l`) to block `l`'s place in `out`. Plain
    /// loads/stores (LLVM turns small `B` into a few permutes), no transpose needed.
    #[inline(always)]
    fn scatter<const B: usize>(res: &[[u32; 8]; B], out: &mut [u32]) {
        for (l, ol) in out.chunks_exact_mut(B).enumerate() {
            for (w, ow) in ol.iter_mut().enumerate() {
                *ow = res[w][l];
            }
        }
    }

    /// `B <= 14`. Per block, `vpackssdw` narrows 16 values to 16-bit lanes and `vpmaddwd`
    /// with weights `(1, 2^B)` merges each adjacent pair into one `2B`-bit element, so a
    /// group is 16 vectors of pairs: two 8x8 transposes put one block per lane, then 16
    /// constant shifts pack the pairs. Half the transposing of [`pack_lanes`], and half the
    /// fit checks: signed saturation keeps every too-large value too large (`>= 2^31` ->
    /// `0x8000`, `[2^15, 2^31)` -> `0x7FFF`), so the check runs on the narrowed lanes. For
    /// `B <= 7` the pairs are merged once more into quads, leaving one 8x8 transpose.
    #[target_feature(enable = "avx2")]
    unsafe fn pack_pairs<const B: usize>(values: &[u32], out: &mut [u32]) -> Result<usize, usize> {
        let groups = (values.len() / GROUP).min(out.len() / (8 * B));
        let over = _mm256_set1_epi16((!(u16::MAX >> (16 - B))) as i16);
        let weights = _mm256_set1_epi32(1 | (1 << (16 + B)));
        // Pair j (values 2j, 2j+1 of a 16-value half block) sits at lane POS[j] of the
        // merged vector: packssdw interleaves its two sources per 128-bit half.
        const POS: [usize; 8] = [0, 1, 4, 5, 2, 3, 6, 7];
        // After the second level, quad m (values 4m..4m+4 of the block) sits at lane QPOS[m]:
        // [Q0 Q2 Q4 Q6 | Q1 Q3 Q5 Q7].
        const QPOS: [usize; 8] = [0, 4, 1, 5, 2, 6, 3, 7];
        let weights2 = _mm256_set1_epi32(1 | (1 << (16 + 2 * B).min(31)));
        let mut res = [[0u32; 8]; B];
        for g in 0..groups {
            // In bounds: g < values.len() / GROUP.
            let inp = values.as_ptr().add(g * GROUP);
            let mut ors = _mm256_setzero_si256();
            let mut lo = [_mm256_setzero_si256(); 8];
            let mut hi = [_mm256_setzero_si256(); 8];
            for l in 0..8 {
                let blk = inp.add(l * BLOCK);
                let pf = inp.cast::<i8>().wrapping_add(PREFETCH + l * 128);
                _mm_prefetch::<_MM_HINT_T0>(pf);
                _mm_prefetch::<_MM_HINT_T0>(pf.wrapping_add(64));
                let a0 = _mm256_loadu_si256(blk.cast());
                let a1 = _mm256_loadu_si256(blk.add(8).cast());
                let a2 = _mm256_loadu_si256(blk.add(16).cast());
                let a3 = _mm256_loadu_si256(blk.add(24).cast());
                let n01 = _mm256_packs_epi32(a0, a1);
                let n23 = _mm256_packs_epi32(a2, a3);
                ors = _mm256_or_si256(ors, _mm256_or_si256(n01, n23));
                lo[l] = _mm256_madd_epi16(n01, weights);
                hi[l] = _mm256_madd_epi16(n23, weights);
                if B <= QUAD_MAX_BITS {
                    // Second level: pairs (2B <= 14 bits) merge into quads the same way,
                    // leaving one vector per block. `lo[l]` holds it; `hi` goes unused.
                    lo[l] = _mm256_madd_epi16(_mm256_packs_epi32(lo[l], hi[l]), weights2);
                }
            }
            if _mm256_testz_si256(ors, over) == 0 {
                return Err(g * GROUP);
            }
            let mut cur = _mm256_setzero_si256();
            if B <= QUAD_MAX_BITS {
                // tq[k] lane l = lane k of block l's quad vector.
                let tq = transpose8(lo);
                let qb = 4 * B;
                unroll8!(j => {
                    let v = tq[QPOS[j]];
                    let bit = j * qb;
                    let (w, s) = (bit / 32, bit % 32);
                    cur = _mm256_or_si256(cur, sll(v, s));
                    if s + qb >= 32 {
                        _mm256_storeu_si256(res[w].as_mut_ptr().cast(), cur);
                        cur = if s + qb > 32 { srl(v, 32 - s) } else { _mm256_setzero_si256() };
                    }
                });
            } else {
                // ta[k] lane l = lane k of block l's first pair vector.
                let ta = transpose8(lo);
                let tb = transpose8(hi);
                let pb = 2 * B;
                unroll16!(j => {
                    let v = if j < 8 { ta[POS[j]] } else { tb[POS[j - 8]] };
                    let bit = j * pb;
                    let (w, s) = (bit / 32, bit % 32);
                    cur = _mm256_or_si256(cur, sll(v, s));
                    if s + pb >= 32 {
                        _mm256_storeu_si256(res[w].as_mut_ptr().cast(), cur);
                        cur = if s + pb > 32 { srl(v, 32 - s) } else { _mm256_setzero_si256() };
                    }
                });
            }
            scatter::<B>(&res, &mut out[g * 8 * B..(g + 1) * 8 * B]);
        }
        Ok(groups * GROUP)
    }

    /// Any `B`: 8 blocks of 32 values at once, one block per 32-bit lane, so every shift in
    /// the unrolled block is the same for all lanes (the scalar block kernel, 8 wide). Each
    /// group of 4 values is brought into lanes with broadcast loads + a blend (pure loads and
    /// an any-port op) and an in-half 4x4 transpose.
    #[target_feature(enable = "avx2")]
    unsafe fn pack_lanes<const B: usize>(values: &[u32], out: &mut [u32]) -> Result<usize, usize> {
        let groups = (values.len() / GROUP).min(out.len() / (8 * B));
        let over = _mm256_set1_epi32(!mask(B as u32) as i32);
        // res[w] lane l = word w of block l.
        let mut res = [[0u32; 8]; B];
        for g in 0..groups {
            // In bounds: g < values.len() / GROUP.
            let inp = values.as_ptr().add(g * GROUP);
            let mut t = [_mm256_setzero_si256(); 4];
            let mut cur = _mm256_setzero_si256();
            let mut ors = _mm256_setzero_si256();
            unroll32!(i => {
                if i % 4 == 0 {
                    let pf = inp.cast::<i8>().wrapping_add(PREFETCH + i / 4 * 128);
                    _mm_prefetch::<_MM_HINT_T0>(pf);
                    _mm_prefetch::<_MM_HINT_T0>(pf.wrapping_add(64));
                    // r[l]: values i..i+4 of block l (low half) and of block l+4 (high half).
                    let mut r = [_mm256_setzero_si256(); 4];
                    for (l, rl) in r.iter_mut().enumerate() {
                        let lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(
                            inp.add(l * BLOCK + i).cast(),
                        ));
                        let hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(
                            inp.add((l + 4) * BLOCK + i).cast(),
                        ));
                        *rl = _mm256_blend_epi32::<0xF0>(lo, hi);
                    }
                    // t[k] lane l = value i+k of block l.
                    t = transpose_halves(r);
                }
                let bit = i * B;
                let (w, s) = (bit / 32, bit % 32);
                let v = t[i % 4];
                // Fit check on the value as it is consumed: no extra live registers.
                ors = _mm256_or_si256(ors, v);
                cur = _mm256_or_si256(cur, sll(v, s));
                if s + B >= 32 {
                    _mm256_storeu_si256(res[w].as_mut_ptr().cast(), cur);
                    cur = if s + B > 32 { srl(v, 32 - s) } else { _mm256_setzero_si256() };
                }
            });
            if B < 32 && _mm256_testz_si256(ors, over) == 0 {
                return Err(g * GROUP);
            }
            scatter::<B>(&res, &mut out[g * 8 * B..(g + 1) * 8 * B]);
        }
        Ok(groups * GROUP)
    }

    /// `pshufb` indices and shift counts for SIMD-Scan at `B` bits: lane `k` (value `k` of a
    /// group of 8) takes the 4 bytes from the byte holding its first bit (relative to its
    /// half's load) and shifts right by its bit position within that byte.
    const fn scan_tables<const B: usize>() -> ([u8; 32], [u32; 8]) {
        let hi = 4 * B / 8;
        let mut idx = [0u8; 32];
        let mut sh = [0u32; 8];
        let mut k = 0;
        while k < 8 {
            let bit = k * B;
            let base = if k < 4 { 0 } else { hi };
            let b0 = bit / 8 - base;
            let mut j = 0;
            while j < 4 {
                // 0x80 zeroes the byte; never needed for B <= 25, kept for safety.
                idx[k * 4 + j] = if b0 + j < 16 { (b0 + j) as u8 } else { 0x80 };
                j += 1;
            }
            sh[k] = (bit % 8) as u32;
            k += 1;
        }
        (idx, sh)
    }

    /// Unpack whole groups of 8 values (stopping where a group's 16-byte loads would leave
    /// `words`). Returns how many values were unpacked (a multiple of 8).
    ///
    /// With `STREAM`, results go out with non-temporal stores: for outputs much larger than
    /// the caches, writing around them saves the read-for-ownership of every output line
    /// (the output is 32/B times the input, so that traffic dominates). Callers choose it
    /// only for large outputs aligned to 16 bytes.
    ///
    /// # Safety
    /// AVX2 must be available; `B <= SCAN_MAX_BITS`; with `STREAM`, `out` must be 16-byte
    /// aligned.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn unpack<const B: usize, const STREAM: bool>(
        words: &[u32],
        out: &mut [u32],
    ) -> usize {
        debug_assert!(B <= SCAN_MAX_BITS);
        debug_assert!(!STREAM || out.as_ptr() as usize % 16 == 0);
        // Values 4..8 of a group start at bit 4B: their load starts at that byte.
        let hi = 4 * B / 8;
        let len = words.len() * 4;
        // Group k reads bytes [kB, kB + hi + 16).
        let readable = if len >= hi + 16 {
            (len - hi - 16) / B + 1
        } else {
            0
        };
        let groups = (out.len() / 8).min(readable);
        let (idx, sh) = const { scan_tables::<B>() };
        let idx = _mm256_loadu_si256(idx.as_ptr().cast());
        let sh = _mm256_loadu_si256(sh.as_ptr().cast());
        let m = _mm256_set1_epi32(mask(B as u32) as i32);
        // The words' memory is the little-endian byte stream (x86 is little-endian).
        let p = words.as_ptr().cast::<u8>();
        let o = out.as_mut_ptr();
        for g in 0..groups {
            let q = p.add(g * B);
            let lo = _mm256_broadcastsi128_si256(_mm_loadu_si128(q.cast()));
            let hi = _mm256_broadcastsi128_si256(_mm_loadu_si128(q.add(hi).cast()));
            let x = _mm256_blend_epi32::<0xF0>(lo, hi);
            let x = _mm256_shuffle_epi8(x, idx);
            let x = _mm256_and_si256(_mm256_srlv_epi32(x, sh), m);
            if STREAM {
                // 128-bit streaming stores: large allocations are 16- but rarely 32-aligned.
                _mm_stream_si128(o.add(g * 8).cast(), _mm256_castsi256_si128(x));
                _mm_stream_si128(o.add(g * 8 + 4).cast(), _mm256_extracti128_si256::<1>(x));
            } else {
                _mm256_storeu_si256(o.add(g * 8).cast(), x);
            }
        }
        if STREAM {
            // Order the streaming stores before anything the caller does next.
            _mm_sfence();
        }
        groups * 8
    }
}

// ---------------------------------------------------------------------------------------------
// Accumulator kernels: any bit offset, any count. Callers have checked `bits` and the range.

/// Pack `values` at `bit_offset`, replacing exactly the range's bits. Bits below the offset in
/// the first word are kept; bits after the range in the last word are kept unless
/// `zero_after` (the dense path, where they are padding).
fn pack_acc<T: BitElement>(
    values: &[T],
    bits: u32,
    words: &mut [u32],
    bit_offset: u64,
    index_base: usize,
    zero_after: bool,
) -> Result<(), BitsError> {
    if values.is_empty() {
        return Ok(());
    }
    let m = mask(bits);
    let mut w = (bit_offset >> 5) as usize;
    let mut fill = (bit_offset & 31) as u32;
    // The accumulator starts with the first word's bits below the offset (an earlier leaf's),
    // so the first word is written whole like every other full word. `fill < 32` and codes are
    // `< 2^32`, so `acc` never overflows 64 bits.
    let mut acc = (words[w] & low_mask(fill)) as u64;
    for (i, &v) in values.iter().enumerate() {
        if v.excess(bits) != 0 {
            return Err(overflow_error(index_base + i, v, bits));
        }
        acc |= ((v.low_bits() & m) as u64) << fill;
        fill += bits;
        if fill >= 32 {
            words[w] = acc as u32;
            w += 1;
            acc >>= 32;
            fill -= 32;
        }
    }
    if fill > 0 {
        let keep = if zero_after {
            0
        } else {
            words[w] & !low_mask(fill)
        };
        words[w] = keep | acc as u32;
    }
    Ok(())
}

/// Unpack `out.len()` values starting at `bit_offset`.
fn unpack_acc<T: BitElement>(
    words: &[u32],
    bit_offset: u64,
    bits: u32,
    out: &mut [T],
    index_base: usize,
) -> Result<(), BitsError> {
    if out.is_empty() {
        return Ok(());
    }
    let m = mask(bits);
    let mut w = (bit_offset >> 5) as usize;
    let shift = (bit_offset & 31) as u32;
    // `avail` valid bits sit at the bottom of `acc`; a word is loaded only when the next value
    // needs it, so nothing past the range's last word is ever read.
    let mut acc = (words[w] >> shift) as u64;
    let mut avail = 32 - shift;
    w += 1;
    let checked = bits > T::WIDTH;
    for (i, o) in out.iter_mut().enumerate() {
        if avail < bits {
            acc |= (words[w] as u64) << avail;
            w += 1;
            avail += 32;
        }
        let code = acc as u32 & m;
        acc >>= bits;
        avail -= bits;
        *o = if checked {
            T::from_code(code, bits).ok_or_else(|| code_error::<T>(index_base + i, code, bits))?
        } else {
            T::from_code_wrapping(code, bits)
        };
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Word-stream API (aggregate layout).

/// Pack `values` into the word stream `words` starting at stream bit `bit_offset`: value `k`
/// goes to bits `[bit_offset + k·bits, bit_offset + (k+1)·bits)`.
///
/// Exactly that bit range is overwritten; every other bit of `words` is left as it was, so
/// leaves can be packed into one zeroed sample in any order.
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`] (checked before anything is
/// written), or [`BitsError::Overflow`] for the first value that does not fit. On overflow the
/// range may be partly written; bits outside it are still untouched.
pub fn pack_into<T: BitElement>(
    values: &[T],
    bits: u32,
    words: &mut [u32],
    bit_offset: u64,
) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(bit_offset, values.len(), bits, words_bits(words))?;
    if bit_offset % 32 == 0 && values.len() >= BLOCK {
        // Word-aligned start: whole blocks never share a word, so the block kernels apply.
        let w0 = (bit_offset / 32) as usize;
        if let Some(v) = T::as_u32_slice(values) {
            return pack_u32_word0(v, bits, &mut words[w0..], false);
        }
        let done = with_const_bits!(bits, B => pack_blocks::<T, B>(values, &mut words[w0..], 0))?;
        let next = bit_offset + done as u64 * bits as u64;
        return pack_acc(&values[done..], bits, words, next, done, false);
    }
    pack_acc(values, bits, words, bit_offset, 0, false)
}

/// Unpack `out.len()` values from the word stream starting at stream bit `bit_offset`,
/// sign-extending for signed `T`.
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`] if the range runs past `words`,
/// or [`BitsError::CodeOutOfRange`] if `bits` is wider than `T` and a stored value does not fit
/// in `T` (on error, `out` may be partly written).
pub fn unpack_from<T: BitElement>(
    words: &[u32],
    bit_offset: u64,
    bits: u32,
    out: &mut [T],
) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(bit_offset, out.len(), bits, words_bits(words))?;
    if bit_offset % 32 == 0 && out.len() >= BLOCK {
        let w0 = (bit_offset / 32) as usize;
        if let Some(o) = T::as_u32_slice_mut(out) {
            return unpack_u32_word0(&words[w0..], bits, o);
        }
        let done = with_const_bits!(bits, B => unpack_blocks::<T, B>(&words[w0..], out, 0))?;
        let next = bit_offset + done as u64 * bits as u64;
        return unpack_acc(words, next, bits, &mut out[done..], done);
    }
    unpack_acc(words, bit_offset, bits, out, 0)
}

/// Dense fast path: pack `values` from stream bit 0 into the first `words_for(n, bits)` words
/// of `out`. The padding bits of the last word are zeroed; words after it are untouched.
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`] (nothing written), or
/// [`BitsError::Overflow`] for the first value `>= 2^bits` (`out` may be partly written).
pub fn pack_dense(values: &[u32], bits: u32, out: &mut [u32]) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(0, values.len(), bits, words_bits(out))?;
    pack_u32_word0(values, bits, out, true)
}

/// Dense fast path: unpack `out.len()` values from stream bit 0 of `words`.
///
/// # Errors
/// [`BitsError::InvalidBits`], or [`BitsError::BufferTooShort`] if `words` holds fewer than
/// `out.len()·bits` bits.
pub fn unpack_dense(words: &[u32], bits: u32, out: &mut [u32]) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(0, out.len(), bits, words_bits(words))?;
    unpack_u32_word0(words, bits, out)
}

/// Stream bit where value `index` starts, and the range check for that one value.
#[inline]
fn locate(
    bit_offset: u64,
    bits: u32,
    index: usize,
    available_bits: u128,
) -> Result<u64, BitsError> {
    check_bits(bits)?;
    let start = bit_offset as u128 + index as u128 * bits as u128;
    let needed_bits = start + bits as u128;
    if needed_bits > available_bits {
        return Err(BitsError::BufferTooShort {
            needed_bits,
            available_bits,
        });
    }
    Ok(start as u64)
}

/// Read the code at stream bit `p` (range already checked). A value straddles at most two
/// words, so read both as one u64.
#[inline]
fn read_code(words: &[u32], p: u64, bits: u32) -> u32 {
    let w = (p >> 5) as usize;
    let s = (p & 31) as u32;
    let mut x = words[w] as u64;
    if s + bits > 32 {
        x |= (words[w + 1] as u64) << 32;
    }
    (x >> s) as u32 & mask(bits)
}

/// Overwrite the code at stream bit `p` (range already checked), leaving other bits alone.
#[inline]
fn write_code(words: &mut [u32], p: u64, bits: u32, code: u32) {
    let w = (p >> 5) as usize;
    let s = (p & 31) as u32;
    let straddles = s + bits > 32;
    let mut x = words[w] as u64;
    if straddles {
        x |= (words[w + 1] as u64) << 32;
    }
    let m = (mask(bits) as u64) << s;
    x = (x & !m) | ((code as u64) << s);
    words[w] = x as u32;
    if straddles {
        words[w + 1] = (x >> 32) as u32;
    }
}

/// Decode value `index` of the leaf at `bit_offset`.
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`], or
/// [`BitsError::CodeOutOfRange`] if the stored value does not fit `T`.
pub fn try_get<T: BitElement>(
    words: &[u32],
    bit_offset: u64,
    bits: u32,
    index: usize,
) -> Result<T, BitsError> {
    let p = locate(bit_offset, bits, index, words_bits(words))?;
    let code = read_code(words, p, bits);
    T::from_code(code, bits).ok_or_else(|| code_error::<T>(index, code, bits))
}

/// Decode value `index` of the leaf at `bit_offset`, like slice indexing.
///
/// # Panics
/// Where [`try_get`] returns an error: `bits` outside `1..=32`, a value past the end of
/// `words`, or a stored value that does not fit `T`.
#[inline]
pub fn get<T: BitElement>(words: &[u32], bit_offset: u64, bits: u32, index: usize) -> T {
    match try_get(words, bit_offset, bits, index) {
        Ok(v) => v,
        Err(e) => panic!("bits::get: {e}"),
    }
}

/// Encode `value` as value `index` of the leaf at `bit_offset`, overwriting only its bits.
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`], or [`BitsError::Overflow`]
/// (nothing is written on error).
pub fn set<T: BitElement>(
    words: &mut [u32],
    bit_offset: u64,
    bits: u32,
    index: usize,
    value: T,
) -> Result<(), BitsError> {
    let p = locate(bit_offset, bits, index, words_bits(words))?;
    let code = value
        .to_code(bits)
        .ok_or_else(|| overflow_error(index, value, bits))?;
    write_code(words, p, bits, code);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Byte-stream API (per-field @packed). The bytes are the little-endian bytes of the word
// stream, truncated to ceil(n·bits/8); the conversion goes through a stack buffer of words one
// chunk at a time, so the word kernels do the work and nothing is allocated per value.

/// Pack `values` into a fresh `ceil(n·bits/8)`-byte stream (per-field `@packed` storage).
///
/// # Errors
/// As [`pack_bytes_into`].
pub fn pack_bytes<T: BitElement>(values: &[T], bits: u32) -> Result<Vec<u8>, BitsError> {
    check_bits(bits)?;
    let mut out = vec![0u8; bytes_for(values.len(), bits)];
    pack_bytes_into(values, bits, &mut out)?;
    Ok(out)
}

/// Pack `values` into the first `ceil(n·bits/8)` bytes of `out` (padding bits of the last
/// byte zeroed; later bytes untouched).
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`] if `out` is too short (nothing
/// written), or [`BitsError::Overflow`] (`out` may be partly written).
pub fn pack_bytes_into<T: BitElement>(
    values: &[T],
    bits: u32,
    out: &mut [u8],
) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(0, values.len(), bits, out.len() as u128 * 8)?;
    let mut buf = [0u32; BYTE_CHUNK];
    // A full chunk is BYTE_CHUNK·bits bits = BYTE_CHUNK/8·bits bytes, a whole number.
    let chunk_bytes = BYTE_CHUNK / 8 * bits as usize;
    for (ci, chunk) in values.chunks(BYTE_CHUNK).enumerate() {
        let nw = words_for(chunk.len(), bits);
        let nb = bytes_for(chunk.len(), bits);
        let words = &mut buf[..nw];
        // Zero the last word: when the chunk is partial, pack_into keeps bits after the range.
        words[nw - 1] = 0;
        pack_into(chunk, bits, words, 0).map_err(|e| shift_index(e, ci * BYTE_CHUNK))?;
        let dst = &mut out[ci * chunk_bytes..ci * chunk_bytes + nb];
        for (d, w) in dst.chunks_mut(4).zip(words.iter()) {
            d.copy_from_slice(&w.to_le_bytes()[..d.len()]);
        }
    }
    Ok(())
}

/// Unpack `out.len()` values from a byte stream (the first `ceil(n·bits/8)` bytes of `bytes`
/// are read; extra bytes are ignored).
///
/// # Errors
/// [`BitsError::InvalidBits`], [`BitsError::BufferTooShort`], or
/// [`BitsError::CodeOutOfRange`] as in [`unpack_from`].
pub fn unpack_bytes<T: BitElement>(
    bytes: &[u8],
    bits: u32,
    out: &mut [T],
) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(0, out.len(), bits, bytes.len() as u128 * 8)?;
    let mut buf = [0u32; BYTE_CHUNK];
    let chunk_bytes = BYTE_CHUNK / 8 * bits as usize;
    for (ci, chunk) in out.chunks_mut(BYTE_CHUNK).enumerate() {
        let nw = words_for(chunk.len(), bits);
        let nb = bytes_for(chunk.len(), bits);
        let src = &bytes[ci * chunk_bytes..ci * chunk_bytes + nb];
        for (w, s) in buf[..nw].iter_mut().zip(src.chunks(4)) {
            // The last word may be short: its missing high bytes are zero.
            let mut le = [0u8; 4];
            le[..s.len()].copy_from_slice(s);
            *w = u32::from_le_bytes(le);
        }
        unpack_from(&buf[..nw], 0, bits, chunk).map_err(|e| shift_index(e, ci * BYTE_CHUNK))?;
    }
    Ok(())
}

/// Re-base the index of a per-chunk error onto the caller's slice.
#[cold]
fn shift_index(e: BitsError, base: usize) -> BitsError {
    match e {
        BitsError::Overflow { index, value, bits } => BitsError::Overflow {
            index: index + base,
            value,
            bits,
        },
        BitsError::CodeOutOfRange {
            index,
            value,
            bits,
            dtype,
        } => BitsError::CodeOutOfRange {
            index: index + base,
            value,
            bits,
            dtype,
        },
        other => other,
    }
}

/// The (at most 5) bytes covering value `index` as a little-endian u64, plus the value's bit
/// shift within it and the byte range.
#[inline]
fn byte_window(
    bytes: &[u8],
    bits: u32,
    index: usize,
) -> Result<(u64, u32, usize, usize), BitsError> {
    let p = locate(0, bits, index, bytes.len() as u128 * 8)?;
    let b0 = (p >> 3) as usize;
    let s = (p & 7) as u32;
    let b1 = b0 + (s + bits).div_ceil(8) as usize;
    let mut le = [0u8; 8];
    le[..b1 - b0].copy_from_slice(&bytes[b0..b1]);
    Ok((u64::from_le_bytes(le), s, b0, b1))
}

/// Decode value `index` of a byte stream.
///
/// # Errors
/// As [`try_get`].
pub fn try_get_byte_stream<T: BitElement>(
    bytes: &[u8],
    bits: u32,
    index: usize,
) -> Result<T, BitsError> {
    let (x, s, _, _) = byte_window(bytes, bits, index)?;
    let code = (x >> s) as u32 & mask(bits);
    T::from_code(code, bits).ok_or_else(|| code_error::<T>(index, code, bits))
}

/// Decode value `index` of a byte stream, like slice indexing.
///
/// # Panics
/// Where [`try_get_byte_stream`] returns an error.
#[inline]
pub fn get_byte_stream<T: BitElement>(bytes: &[u8], bits: u32, index: usize) -> T {
    match try_get_byte_stream(bytes, bits, index) {
        Ok(v) => v,
        Err(e) => panic!("bits::get_byte_stream: {e}"),
    }
}

/// Encode `value` as value `index` of a byte stream, overwriting only its bits.
///
/// # Errors
/// As [`set`] (nothing is written on error).
pub fn set_byte_stream<T: BitElement>(
    bytes: &mut [u8],
    bits: u32,
    index: usize,
    value: T,
) -> Result<(), BitsError> {
    let (x, s, b0, b1) = byte_window(bytes, bits, index)?;
    let code = value
        .to_code(bits)
        .ok_or_else(|| overflow_error(index, value, bits))?;
    let m = (mask(bits) as u64) << s;
    let x = (x & !m) | ((code as u64) << s);
    bytes[b0..b1].copy_from_slice(&x.to_le_bytes()[..b1 - b0]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Compact form of the aggregate layout (DESIGN §5): the first 4·words_len + tail_bytes bytes of
// the little-endian word bytes, i.e. xtructure's `words` + `tail`.

/// Sizes of one aggregate layout, derived from its total bit count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompactLayout {
    /// Sum of the leaves' bits.
    pub total_bits: u64,
    /// In-memory words: `ceil(total_bits/32)`.
    pub words: usize,
    /// Whole words in the compact form.
    pub words_len: usize,
    /// Trailing bytes after the whole words: 1 or 2 when the last word holds 1..=16 bits,
    /// else 0 (then the last word is stored whole).
    pub tail_bytes: usize,
}

impl CompactLayout {
    /// `rem = total_bits % 32`, `rem_bytes = ceil(rem/8)`,
    /// `tail_bytes = rem_bytes if rem_bytes ∈ {1,2} else 0`,
    /// `words_len = ceil(total_bits/32) − (1 if tail_bytes else 0)`.
    pub const fn new(total_bits: u64) -> Self {
        let words = total_bits.div_ceil(32) as usize;
        let rem_bytes = (total_bits % 32).div_ceil(8) as usize;
        let tail_bytes = if rem_bytes == 1 || rem_bytes == 2 {
            rem_bytes
        } else {
            0
        };
        let words_len = words - if tail_bytes > 0 { 1 } else { 0 };
        CompactLayout {
            total_bits,
            words,
            words_len,
            tail_bytes,
        }
    }

    /// Length of the compact byte form: `4·words_len + tail_bytes`.
    pub const fn compact_len(&self) -> usize {
        4 * self.words_len + self.tail_bytes
    }
}

/// The compact byte form: the first `4·words_len + tail_bytes` bytes of the little-endian
/// bytes of `words`.
///
/// # Panics
/// If `words` holds fewer than `4·words_len + tail_bytes` bytes (a caller bug: the sizes come
/// from the same layout as the words).
pub fn compact_from_words(words: &[u32], words_len: usize, tail_bytes: usize) -> Vec<u8> {
    let len = 4 * words_len + tail_bytes;
    assert!(
        len <= 4 * words.len(),
        "compact_from_words: {len} bytes requested from {} words",
        words.len()
    );
    let mut out = Vec::with_capacity(len);
    for w in words.iter().take(len.div_ceil(4)) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The in-memory words (`words` of them) from a compact byte form.
///
/// # Errors
/// [`BitsError::InvalidCompactLayout`] if the sizes are inconsistent (tail ≥ 4 bytes, the
/// compact form longer than `words` words, or `total_bits` not inside both),
/// [`BitsError::CompactLength`] if `bytes.len() != 4·words_len + tail_bytes`, and
/// [`BitsError::NonZeroPadding`] if any bit at or after `total_bits` is set.
pub fn words_from_compact(
    bytes: &[u8],
    words: usize,
    words_len: usize,
    tail_bytes: usize,
    total_bits: u64,
) -> Result<Vec<u32>, BitsError> {
    let compact_len = 4 * words_len as u128 + tail_bytes as u128;
    let consistent = tail_bytes < 4
        && compact_len <= 4 * words as u128
        && total_bits as u128 <= 8 * compact_len
        && total_bits as u128 <= 32 * words as u128;
    if !consistent {
        return Err(BitsError::InvalidCompactLayout {
            words,
            words_len,
            tail_bytes,
            total_bits,
        });
    }
    let compact_len = compact_len as usize;
    if bytes.len() != compact_len {
        return Err(BitsError::CompactLength {
            expected: compact_len,
            got: bytes.len(),
        });
    }
    let mut out = vec![0u32; words];
    for (w, b) in out.iter_mut().zip(bytes.chunks(4)) {
        let mut le = [0u8; 4];
        le[..b.len()].copy_from_slice(b);
        *w = u32::from_le_bytes(le);
    }
    // Padding: the bits of the word holding `total_bits` from there up, and all later words.
    let first = (total_bits / 32) as usize;
    for (i, &w) in out.iter().enumerate().skip(first) {
        let pad = if i == first {
            w & !low_mask((total_bits % 32) as u32)
        } else {
            w
        };
        if pad != 0 {
            return Err(BitsError::NonZeroPadding {
                bit: i as u64 * 32 + pad.trailing_zeros() as u64,
                total_bits,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_extension_and_fit() {
        assert_eq!((-1i8).to_code(4), Some(0xF));
        assert_eq!(i8::from_code(0xF, 4), Some(-1));
        assert_eq!(8i8.to_code(4), None);
        assert_eq!((-9i8).to_code(4), None);
        assert_eq!((-8i8).to_code(4), Some(0x8));
        assert_eq!(i64::MAX.to_code(32), None);
        assert_eq!(i64::from(i32::MIN).to_code(32), Some(0x8000_0000));
        assert_eq!(u64::MAX.to_code(32), None);
        assert_eq!(u32::MAX.to_code(32), Some(u32::MAX));
        assert_eq!(true.to_code(1), Some(1));
        assert_eq!(bool::from_code(2, 2), None);
        assert_eq!(u8::from_code(300, 12), None);
    }

    #[test]
    fn dense_round_trip_all_widths() {
        for bits in 1..=32u32 {
            let n = 32 * 5 + 7;
            let vals: Vec<u32> = (0..n as u32)
                .map(|i| i.wrapping_mul(2654435761) & mask(bits))
                .collect();
            let mut words = vec![0xFFFF_FFFFu32; words_for(n, bits) + 1];
            pack_dense(&vals, bits, &mut words).unwrap();
            assert_eq!(
                *words.last().unwrap(),
                0xFFFF_FFFF,
                "word after the stream untouched"
            );
            let used = n as u64 * bits as u64;
            if used % 32 != 0 {
                let last = words[words_for(n, bits) - 1];
                assert_eq!(last & !low_mask((used % 32) as u32), 0, "padding zeroed");
            }
            let mut back = vec![0u32; n];
            unpack_dense(&words, bits, &mut back).unwrap();
            assert_eq!(back, vals, "bits={bits}");
        }
    }

    #[test]
    fn compact_layout_formula() {
        assert_eq!(CompactLayout::new(1049).words_len, 33);
        assert_eq!(CompactLayout::new(1049).tail_bytes, 0);
        let l40 = CompactLayout::new(40);
        assert_eq!((l40.words, l40.words_len, l40.tail_bytes), (2, 1, 1));
        let l48 = CompactLayout::new(48);
        assert_eq!((l48.words, l48.words_len, l48.tail_bytes), (2, 1, 2));
        let l56 = CompactLayout::new(56);
        assert_eq!((l56.words, l56.words_len, l56.tail_bytes), (2, 2, 0));
        assert_eq!(CompactLayout::new(0).compact_len(), 0);
    }
}

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
//! fully unrolled.

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
    Overflow { index: usize, value: i128, bits: u32 },
    /// A stored code, decoded with `bits` bits, is not representable in the requested dtype
    /// (e.g. a 12-bit field decoded into `u8`).
    #[error("stored value {value} at index {index} ({bits}-bit field) does not fit in {dtype}")]
    CodeOutOfRange { index: usize, value: i64, bits: u32, dtype: Dtype },
    /// The buffer is shorter than the bit range the call reads or writes.
    #[error("buffer too short: the bit range ends at bit {needed_bits} but the buffer holds {available_bits} bits")]
    BufferTooShort { needed_bits: u128, available_bits: u128 },
    /// A compact byte form whose length differs from `4·words_len + tail_bytes`.
    #[error("compact form is {got} bytes, expected {expected}")]
    CompactLength { expected: usize, got: usize },
    /// `words`, `words_len`, `tail_bytes` and `total_bits` do not describe one layout.
    #[error("inconsistent compact layout: words={words} words_len={words_len} tail_bytes={tail_bytes} total_bits={total_bits}")]
    InvalidCompactLayout { words: usize, words_len: usize, tail_bytes: usize, total_bits: u64 },
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
    ($($t:ty => $dt:ident),*) => {$(
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
        }
    )*};
}
impl_unsigned!(u8 => U8, u16 => U16, u32 => U32, u64 => U64);

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
fn check_range(bit_offset: u64, n: usize, bits: u32, available_bits: u128) -> Result<(), BitsError> {
    let needed_bits = bit_offset as u128 + n as u128 * bits as u128;
    if needed_bits <= available_bits {
        Ok(())
    } else {
        Err(BitsError::BufferTooShort { needed_bits, available_bits })
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
    BitsError::Overflow { index, value: value.to_i128(), bits }
}

#[cold]
fn code_error<T: BitElement>(index: usize, code: u32, bits: u32) -> BitsError {
    BitsError::CodeOutOfRange { index, value: T::code_value(code, bits), bits, dtype: T::DTYPE }
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
/// were packed (a multiple of 32); the caller packs the remainder.
#[inline(always)]
fn pack_blocks<T: BitElement, const B: usize>(
    values: &[T],
    words: &mut [u32],
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
            return Err(first_overflow(chunk, bits, done));
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
) -> Result<usize, BitsError> {
    let bits = B as u32;
    let mut done = 0;
    for (inp, chunk) in words.chunks_exact(B).zip(out.chunks_exact_mut(BLOCK)) {
        let inp: &[u32; B] = inp.try_into().expect("chunks_exact yields B words");
        let chunk: &mut [T; BLOCK] = chunk.try_into().expect("chunks_exact_mut yields BLOCK values");
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
                    .ok_or_else(|| code_error::<T>(done + i, codes[i], bits))?;
            }
        }
        done += BLOCK;
    }
    Ok(done)
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
        let keep = if zero_after { 0 } else { words[w] & !low_mask(fill) };
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
    let mut done = 0;
    if bit_offset % 32 == 0 && values.len() >= BLOCK {
        // Word-aligned start: whole blocks never share a word, so the block kernel applies.
        let w0 = (bit_offset / 32) as usize;
        done = with_const_bits!(bits, B => pack_blocks::<T, B>(values, &mut words[w0..]))?;
    }
    pack_acc(
        &values[done..],
        bits,
        words,
        bit_offset + done as u64 * bits as u64,
        done,
        false,
    )
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
    let mut done = 0;
    if bit_offset % 32 == 0 && out.len() >= BLOCK {
        let w0 = (bit_offset / 32) as usize;
        done = with_const_bits!(bits, B => unpack_blocks::<T, B>(&words[w0..], out))?;
    }
    unpack_acc(
        words,
        bit_offset + done as u64 * bits as u64,
        bits,
        &mut out[done..],
        done,
    )
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
    let done = with_const_bits!(bits, B => pack_blocks::<u32, B>(values, out))?;
    pack_acc(&values[done..], bits, out, done as u64 * bits as u64, done, true)
}

/// Dense fast path: unpack `out.len()` values from stream bit 0 of `words`.
///
/// # Errors
/// [`BitsError::InvalidBits`], or [`BitsError::BufferTooShort`] if `words` holds fewer than
/// `out.len()·bits` bits.
pub fn unpack_dense(words: &[u32], bits: u32, out: &mut [u32]) -> Result<(), BitsError> {
    check_bits(bits)?;
    check_range(0, out.len(), bits, words_bits(words))?;
    let done = with_const_bits!(bits, B => unpack_blocks::<u32, B>(words, out))?;
    unpack_acc(words, done as u64 * bits as u64, bits, &mut out[done..], done)
}

/// Stream bit where value `index` starts, and the range check for that one value.
#[inline]
fn locate(bit_offset: u64, bits: u32, index: usize, available_bits: u128) -> Result<u64, BitsError> {
    check_bits(bits)?;
    let start = bit_offset as u128 + index as u128 * bits as u128;
    let needed_bits = start + bits as u128;
    if needed_bits > available_bits {
        return Err(BitsError::BufferTooShort { needed_bits, available_bits });
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
    let code = value.to_code(bits).ok_or_else(|| overflow_error(index, value, bits))?;
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
pub fn unpack_bytes<T: BitElement>(bytes: &[u8], bits: u32, out: &mut [T]) -> Result<(), BitsError> {
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
        BitsError::Overflow { index, value, bits } => {
            BitsError::Overflow { index: index + base, value, bits }
        }
        BitsError::CodeOutOfRange { index, value, bits, dtype } => {
            BitsError::CodeOutOfRange { index: index + base, value, bits, dtype }
        }
        other => other,
    }
}

/// The (at most 5) bytes covering value `index` as a little-endian u64, plus the value's bit
/// shift within it and the byte range.
#[inline]
fn byte_window(bytes: &[u8], bits: u32, index: usize) -> Result<(u64, u32, usize, usize), BitsError> {
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
pub fn try_get_byte_stream<T: BitElement>(bytes: &[u8], bits: u32, index: usize) -> Result<T, BitsError> {
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
    let code = value.to_code(bits).ok_or_else(|| overflow_error(index, value, bits))?;
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
        let tail_bytes = if rem_bytes == 1 || rem_bytes == 2 { rem_bytes } else { 0 };
        let words_len = words - if tail_bytes > 0 { 1 } else { 0 };
        CompactLayout { total_bits, words, words_len, tail_bytes }
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
        return Err(BitsError::InvalidCompactLayout { words, words_len, tail_bytes, total_bits });
    }
    let compact_len = compact_len as usize;
    if bytes.len() != compact_len {
        return Err(BitsError::CompactLength { expected: compact_len, got: bytes.len() });
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
        let pad = if i == first { w & !low_mask((total_bits % 32) as u32) } else { w };
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
            let vals: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(2654435761) & mask(bits)).collect();
            let mut words = vec![0xFFFF_FFFFu32; words_for(n, bits) + 1];
            pack_dense(&vals, bits, &mut words).unwrap();
            assert_eq!(*words.last().unwrap(), 0xFFFF_FFFF, "word after the stream untouched");
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

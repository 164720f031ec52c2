//! The fast bit-packing kernels against a naive reference that moves one bit at a time
//! (written from the DESIGN §5 rule alone: value k's bit j is stream bit
//! `offset + k·bits + j`, stream bit p is bit `p & 31` of word `p >> 5`), over random widths,
//! offsets, lengths, values and element types.

use proptest::prelude::*;
use schemac_runtime::bits::{self, BitElement, BitsError};

/// Reference pack: overwrite exactly the leaf's bits, one bit at a time.
fn ref_pack(codes: &[u32], bits: u32, words: &mut [u32], offset: u64) {
    for (k, &c) in codes.iter().enumerate() {
        for j in 0..bits {
            let p = offset + k as u64 * bits as u64 + j as u64;
            let (w, b) = ((p / 32) as usize, p % 32);
            if (c >> j) & 1 == 1 {
                words[w] |= 1 << b;
            } else {
                words[w] &= !(1 << b);
            }
        }
    }
}

/// Reference unpack of raw codes.
fn ref_unpack(words: &[u32], offset: u64, bits: u32, n: usize) -> Vec<u32> {
    (0..n)
        .map(|k| {
            (0..bits).fold(0u32, |acc, j| {
                let p = offset + k as u64 * bits as u64 + j as u64;
                acc | (((words[(p / 32) as usize] >> (p % 32)) & 1) << j)
            })
        })
        .collect()
}

/// Reference code of a value: two's complement low bits, computed through i128.
fn ref_code(v: i128, bits: u32) -> u32 {
    (v & ((1i128 << bits) - 1)) as u32
}

/// Reference decode: sign-extend for signed types.
fn ref_decode(code: u32, bits: u32, signed: bool) -> i128 {
    if signed && (code >> (bits - 1)) & 1 == 1 {
        code as i128 - (1i128 << bits)
    } else {
        code as i128
    }
}

fn le_bytes(words: &[u32], n_bytes: usize) -> Vec<u8> {
    words
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .take(n_bytes)
        .collect()
}

/// Values of type T that fit in `bits`, from raw random u64s.
trait Arb: BitElement + std::fmt::Debug + PartialEq {
    const SIGNED: bool;
    /// Map a raw random number into the representable range of `bits` bits.
    fn fit(raw: u64, bits: u32) -> Self;
    fn max_bits() -> u32;
}

macro_rules! arb_unsigned {
    ($($t:ty),*) => {$(
        impl Arb for $t {
            const SIGNED: bool = false;
            fn fit(raw: u64, bits: u32) -> Self {
                (raw & ((1u64 << bits) - 1)) as $t
            }
            fn max_bits() -> u32 {
                <$t>::BITS.min(32)
            }
        }
    )*};
}
arb_unsigned!(u8, u16, u32, u64);

macro_rules! arb_signed {
    ($($t:ty),*) => {$(
        impl Arb for $t {
            const SIGNED: bool = true;
            fn fit(raw: u64, bits: u32) -> Self {
                let lo = -(1i64 << (bits - 1));
                let span = 1u64 << bits;
                (lo + (raw % span) as i64) as $t
            }
            fn max_bits() -> u32 {
                <$t>::BITS.min(32)
            }
        }
    )*};
}
arb_signed!(i8, i16, i32, i64);

impl Arb for bool {
    const SIGNED: bool = false;
    fn fit(raw: u64, _bits: u32) -> Self {
        raw & 1 == 1
    }
    fn max_bits() -> u32 {
        32
    }
}

/// One random case for type T: pack through every API, compare with the reference, and
/// decode back.
fn check_type<T: Arb>(bits: u32, offset: u64, raw: &[u64], garbage: u32) {
    let bits = bits.min(T::max_bits());
    let values: Vec<T> = raw.iter().map(|&r| T::fit(r, bits)).collect();
    let codes: Vec<u32> = values.iter().map(|v| ref_code(v.to_i128(), bits)).collect();
    let n = values.len();
    let total = offset + n as u64 * bits as u64;
    let n_words = (total as usize).div_ceil(32) + 1;

    // Word stream at an offset, over garbage: only the leaf's bits change.
    let mut want = vec![garbage; n_words];
    ref_pack(&codes, bits, &mut want, offset);
    let mut got = vec![garbage; n_words];
    bits::pack_into(&values, bits, &mut got, offset).unwrap();
    assert_eq!(
        got,
        want,
        "pack_into {} bits={bits} offset={offset} n={n}",
        std::any::type_name::<T>()
    );

    let mut back = vec![T::fit(0, bits); n];
    bits::unpack_from(&got, offset, bits, &mut back).unwrap();
    assert_eq!(back, values, "unpack_from bits={bits} offset={offset}");
    let decoded: Vec<i128> = ref_unpack(&got, offset, bits, n)
        .into_iter()
        .map(|c| ref_decode(c, bits, T::SIGNED))
        .collect();
    let as_i128: Vec<i128> = values.iter().map(|v| v.to_i128()).collect();
    assert_eq!(decoded, as_i128, "reference decode");

    // Single values.
    for k in (0..n).step_by(7) {
        assert_eq!(bits::get::<T>(&got, offset, bits, k), values[k]);
    }
    if n > 0 {
        let k = raw[0] as usize % n;
        let v = T::fit(raw[n - 1].rotate_left(17), bits);
        let mut w1 = got.clone();
        bits::set(&mut w1, offset, bits, k, v).unwrap();
        let mut c2 = codes.clone();
        c2[k] = ref_code(v.to_i128(), bits);
        let mut w2 = got.clone();
        ref_pack(&c2, bits, &mut w2, offset);
        assert_eq!(w1, w2, "set index {k}");
    }

    // Byte stream: the leaf's own stream, ceil(n·bits/8) bytes.
    let mut stream = vec![0u32; (n * bits as usize).div_ceil(32)];
    ref_pack(&codes, bits, &mut stream, 0);
    let nb = (n * bits as usize).div_ceil(8);
    let want_bytes = le_bytes(&stream, nb);
    let bytes = bits::pack_bytes(&values, bits).unwrap();
    assert_eq!(bytes, want_bytes, "pack_bytes bits={bits} n={n}");
    let mut back = vec![T::fit(0, bits); n];
    bits::unpack_bytes(&bytes, bits, &mut back).unwrap();
    assert_eq!(back, values, "unpack_bytes");
    for k in (0..n).step_by(5) {
        assert_eq!(bits::get_byte_stream::<T>(&bytes, bits, k), values[k]);
    }
    if n > 0 {
        let k = raw[n / 2] as usize % n;
        let v = T::fit(raw[0].rotate_left(29), bits);
        let mut b1 = bytes.clone();
        bits::set_byte_stream(&mut b1, bits, k, v).unwrap();
        let mut c2 = codes.clone();
        c2[k] = ref_code(v.to_i128(), bits);
        let mut s2 = vec![0u32; stream.len()];
        ref_pack(&c2, bits, &mut s2, 0);
        assert_eq!(b1, le_bytes(&s2, nb), "set_byte_stream index {k}");
    }
}

fn lengths() -> impl Strategy<Value = usize> {
    // Short leaves (accumulator only), a few blocks, and enough for several SIMD groups of
    // 256 plus ragged tails.
    prop_oneof![0usize..70, 70usize..600, 600usize..2300]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn all_types_match_reference(
        bits in 1u32..=32,
        offset in prop_oneof![0u64..100, (0u64..4).prop_map(|w| w * 32)],
        raw in lengths().prop_flat_map(|n| prop::collection::vec(any::<u64>(), n)),
        garbage in prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()],
    ) {
        check_type::<u32>(bits, offset, &raw, garbage);
        check_type::<u8>(bits, offset, &raw, garbage);
        check_type::<u16>(bits, offset, &raw, garbage);
        check_type::<u64>(bits, offset, &raw, garbage);
        check_type::<i8>(bits, offset, &raw, garbage);
        check_type::<i16>(bits, offset, &raw, garbage);
        check_type::<i32>(bits, offset, &raw, garbage);
        check_type::<i64>(bits, offset, &raw, garbage);
        check_type::<bool>(bits.min(4), offset, &raw, garbage);
    }

    #[test]
    fn dense_matches_reference(
        bits in 1u32..=32,
        raw in lengths().prop_flat_map(|n| prop::collection::vec(any::<u32>(), n)),
        garbage in any::<u32>(),
    ) {
        let m = u32::MAX >> (32 - bits);
        let values: Vec<u32> = raw.iter().map(|r| r & m).collect();
        let n = values.len();
        let nw = bits::words_for(n, bits);
        let mut want = vec![0u32; nw];
        ref_pack(&values, bits, &mut want, 0);
        want.push(garbage);
        // pack_dense zeroes the padding of its last word and leaves the next word alone.
        let mut got = vec![garbage; nw + 1];
        bits::pack_dense(&values, bits, &mut got).unwrap();
        prop_assert_eq!(&got, &want);
        let mut back = vec![0u32; n];
        bits::unpack_dense(&got, bits, &mut back).unwrap();
        prop_assert_eq!(&back, &values);
        prop_assert_eq!(ref_unpack(&got, 0, bits, n), values);
    }

    #[test]
    fn overflow_reports_first_bad_index(
        bits in 1u32..32,
        n in 1usize..1500,
        at in any::<prop::sample::Index>(),
        extra in 0u64..1000,
        offset in prop_oneof![Just(0u64), 0u64..64],
    ) {
        let m = (1u64 << bits) - 1;
        let at = at.index(n);
        let mut v: Vec<u64> = (0..n as u64).map(|i| i.wrapping_mul(0x9E37_79B9) & m).collect();
        v[at] = m + 1 + extra;
        let mut words = vec![0u32; bits::words_for(n, bits) + 3];
        let want = Err(BitsError::Overflow { index: at, value: (m + 1 + extra) as i128, bits });
        prop_assert_eq!(bits::pack_into(&v, bits, &mut words, offset), want.clone());
        prop_assert_eq!(bits::pack_bytes(&v, bits), want.clone().map(|_: ()| Vec::new()));
        let v32: Vec<u32> = v.iter().map(|&x| x as u32).collect();
        if (m + 1 + extra) <= u32::MAX as u64 {
            prop_assert_eq!(bits::pack_dense(&v32, bits, &mut words), want.clone());
        }
        // Signed: one past the top of the range, and one below the bottom.
        let half = 1i64 << (bits - 1);
        let mut s: Vec<i64> = (0..n as i64).map(|i| (i % (2 * half)) - half).collect();
        s[at] = half + extra as i64;
        prop_assert_eq!(
            bits::pack_into(&s, bits, &mut words, offset),
            Err(BitsError::Overflow { index: at, value: (half + extra as i64) as i128, bits })
        );
        s[at] = -half - 1 - extra as i64;
        prop_assert_eq!(
            bits::pack_into(&s, bits, &mut words, offset),
            Err(BitsError::Overflow { index: at, value: (-half - 1 - extra as i64) as i128, bits })
        );
    }

    #[test]
    fn compact_round_trips(total_bits in 1u64..400, seed in any::<u64>()) {
        let l = bits::CompactLayout::new(total_bits);
        // Random words with the padding cleared.
        let mut x = seed | 1;
        let mut words: Vec<u32> = (0..l.words).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x as u32 }).collect();
        let used = total_bits % 32;
        if used != 0 {
            *words.last_mut().unwrap() &= (1u32 << used) - 1;
        }
        let compact = bits::compact_from_words(&words, l.words_len, l.tail_bytes);
        prop_assert_eq!(compact.len(), l.compact_len());
        prop_assert_eq!(&compact[..], &le_bytes(&words, l.compact_len())[..]);
        prop_assert_eq!(
            bits::words_from_compact(&compact, l.words, l.words_len, l.tail_bytes, total_bits).unwrap(),
            words
        );
    }
}

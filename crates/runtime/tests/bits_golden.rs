//! Bit-packing kernels against independent truth: the xtructure golden vectors
//! (tests/data/xtructure.json, produced by xtructure itself) and small cases whose expected
//! words/bytes are derived by hand in the comments.

use schemac_runtime::bits::{
    self, compact_from_words, get, get_byte_stream, pack_bytes, pack_dense, pack_into, set,
    set_byte_stream, try_get, unpack_bytes, unpack_dense, unpack_from, words_from_compact,
    BitsError, CompactLayout,
};
use schemac_runtime::Dtype;
use serde_json::Value;

fn golden() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/xtructure.json");
    let text = std::fs::read_to_string(path).expect("read xtructure.json");
    serde_json::from_str(&text).expect("parse xtructure.json")
}

fn case<'a>(g: &'a Value, name: &str) -> &'a Value {
    g["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no golden case {name}"))
}

fn hex_words(c: &Value) -> Vec<u32> {
    c["words_u32_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| u32::from_str_radix(h.as_str().unwrap(), 16).unwrap())
        .collect()
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The golden pattern: flat index i holds i % 2^bits (bool leaves: i is odd).
fn pattern_u8(n: usize, bits: u32) -> Vec<u8> {
    (0..n).map(|i| (i % (1 << bits)) as u8).collect()
}

#[test]
fn xtructure_aggstate_words() {
    let g = golden();
    let c = case(&g, "AggState");
    assert_eq!(c["total_bits"], 1049);
    let offs = &c["bit_offsets"];
    assert_eq!(
        (
            offs["flags"].as_u64(),
            offs["faces"].as_u64(),
            offs["codes"].as_u64()
        ),
        (Some(0), Some(17), Some(989))
    );

    let flags: Vec<bool> = (0..17).map(|i| i % 2 == 1).collect();
    let faces = pattern_u8(6 * 54, 3);
    let codes: Vec<u16> = (0..5).map(|i| (i % 4096) as u16).collect();

    let layout = CompactLayout::new(1049);
    assert_eq!(layout.words, 33);
    assert_eq!(layout.words_len as u64, c["words_len"].as_u64().unwrap());
    assert_eq!(layout.tail_bytes as u64, c["tail_bytes"].as_u64().unwrap());

    let mut words = vec![0u32; layout.words];
    pack_into(&flags, 1, &mut words, 0).unwrap();
    pack_into(&faces, 3, &mut words, 17).unwrap();
    pack_into(&codes, 12, &mut words, 989).unwrap();
    let want = hex_words(c);
    for (i, (got, want)) in words.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "word {i}: got {got:08x}, want {want:08x}");
    }
    assert_eq!(words, want);

    // Leaves packed in another order give the same words (each call touches only its range).
    let mut words2 = vec![0u32; layout.words];
    pack_into(&codes, 12, &mut words2, 989).unwrap();
    pack_into(&faces, 3, &mut words2, 17).unwrap();
    pack_into(&flags, 1, &mut words2, 0).unwrap();
    assert_eq!(words2, want);

    // And they decode back.
    let mut f = vec![false; 17];
    let mut fa = vec![0u8; 324];
    let mut co = vec![0u16; 5];
    unpack_from(&words, 0, 1, &mut f).unwrap();
    unpack_from(&words, 17, 3, &mut fa).unwrap();
    unpack_from(&words, 989, 12, &mut co).unwrap();
    assert_eq!((f, fa, co), (flags, faces.clone(), codes));
    // Single values: faces[i] sits at bits 17+3i..17+3i+2. faces[4] = bits 29..31 ends a word,
    // faces[5] = bits 32..34 starts one, faces[15] = bits 62..64 straddles words 1 and 2,
    // faces[215] = bits 662..664 is inside word 20.
    for i in [0usize, 4, 5, 15, 100, 215, 323] {
        assert_eq!(get::<u8>(&words, 17, 3, i), faces[i], "faces[{i}]");
    }
    assert_eq!(get::<u16>(&words, 989, 12, 4), 4);

    // Compact form: no tail, so it is just the 33 words' little-endian bytes.
    let compact = compact_from_words(&words, layout.words_len, layout.tail_bytes);
    assert_eq!(compact.len(), 132);
    let le: Vec<u8> = want.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(compact, le);
    assert!(c["tail_hex"].as_str().unwrap().is_empty());
    let back = words_from_compact(
        &compact,
        layout.words,
        layout.words_len,
        layout.tail_bytes,
        1049,
    )
    .unwrap();
    assert_eq!(back, want);
}

#[test]
fn xtructure_agg5_words() {
    let g = golden();
    let c = case(&g, "Agg5");
    let v = pattern_u8(10, 5);
    let layout = CompactLayout::new(50);
    assert_eq!(
        (layout.words, layout.words_len, layout.tail_bytes),
        (2, 2, 0)
    );
    let mut words = vec![0u32; layout.words];
    pack_into(&v, 5, &mut words, 0).unwrap();
    assert_eq!(words, hex_words(c));
    // Hand check of word 0: values 0..6 at 5 bits = bits 0..30 plus the low 2 bits of v[6]=6
    // (0b110 -> 0b10) in bits 30..31: 0 | 1<<5 | 2<<10 | 3<<15 | 4<<20 | 5<<25 | 2<<30
    // = 0x00000020 + 0x800 + 0x18000 + 0x400000 + 0x0A000000 + 0x80000000 = 0x8A418820.
    assert_eq!(words[0], 0x8A41_8820);
    let mut back = vec![0u8; 10];
    unpack_from(&words, 0, 5, &mut back).unwrap();
    assert_eq!(back, v);
    // bits 50..63 are padding and must be zero.
    assert_eq!(words[1] >> 18, 0);
}

#[test]
fn xtructure_puzzlestate_per_field_bytes() {
    let g = golden();
    let c = case(&g, "PuzzleState");
    let faces = pattern_u8(324, 3);
    let packed = pack_bytes(&faces, 3).unwrap();
    // ceil(324·3/8) = ceil(121.5) = 122 bytes; xtructure pads to 123.
    assert_eq!(packed.len(), 122);
    assert_eq!(bits::bytes_for(324, 3), 122);
    let want = hex_bytes(c["packed_hex"].as_str().unwrap());
    assert_eq!(packed, want[..122]);
    let mut back = vec![0u8; 324];
    unpack_bytes(&packed, 3, &mut back).unwrap();
    assert_eq!(back, faces);
    for i in [0usize, 2, 3, 5, 8, 200, 323] {
        assert_eq!(get_byte_stream::<u8>(&packed, 3, i), faces[i], "faces[{i}]");
    }
    // The last byte holds value 323 (=3) at bits 969..971 -> byte 121 bits 1..3 = 0b0110,
    // plus the top bit of value 322 (=2, bits 966..968 -> its bit 2 is 0): 0x06. Bits 4..7
    // are padding.
    assert_eq!(packed[121], 0x06);
}

#[test]
fn compact_tail_one_byte_40_bits() {
    // u8[5] @bits(8) = 40 bits. rem = 40 % 32 = 8, rem_bytes = 1 -> tail_bytes = 1,
    // words_len = ceil(40/32) - 1 = 1. Stream: word0 = 0x44332211, word1 = 0x00000055.
    let v = [0x11u8, 0x22, 0x33, 0x44, 0x55];
    let l = CompactLayout::new(40);
    assert_eq!(
        (l.words, l.words_len, l.tail_bytes, l.compact_len()),
        (2, 1, 1, 5)
    );
    let mut words = vec![0u32; l.words];
    pack_into(&v, 8, &mut words, 0).unwrap();
    assert_eq!(words, [0x4433_2211, 0x0000_0055]);
    let compact = compact_from_words(&words, l.words_len, l.tail_bytes);
    assert_eq!(compact, [0x11, 0x22, 0x33, 0x44, 0x55]);
    assert_eq!(
        words_from_compact(&compact, l.words, l.words_len, l.tail_bytes, 40).unwrap(),
        words
    );
    // Wrong length is an error, not a panic.
    assert_eq!(
        words_from_compact(&compact[..4], l.words, l.words_len, l.tail_bytes, 40),
        Err(BitsError::CompactLength {
            expected: 5,
            got: 4
        })
    );
}

#[test]
fn compact_tail_two_bytes_48_bits() {
    // u16[3] @bits(16) = 48 bits. rem = 16, rem_bytes = 2 -> tail_bytes = 2, words_len = 1.
    // word0 = 0x0304_0102 (v1 above v0), word1 = 0x0000_0506; LE bytes 02 01 04 03 | 06 05.
    let v = [0x0102u16, 0x0304, 0x0506];
    let l = CompactLayout::new(48);
    assert_eq!((l.words, l.words_len, l.tail_bytes), (2, 1, 2));
    let mut words = vec![0u32; l.words];
    pack_into(&v, 16, &mut words, 0).unwrap();
    assert_eq!(words, [0x0304_0102, 0x0000_0506]);
    let compact = compact_from_words(&words, l.words_len, l.tail_bytes);
    assert_eq!(compact, [0x02, 0x01, 0x04, 0x03, 0x06, 0x05]);
    assert_eq!(words_from_compact(&compact, 2, 1, 2, 48).unwrap(), words);
}

#[test]
fn compact_three_byte_remainder_stores_whole_word() {
    // 56 bits: rem = 24, rem_bytes = 3 -> not a tail, the last word is stored whole:
    // words_len = 2, tail_bytes = 0, 8 bytes with a zero padding byte.
    let l = CompactLayout::new(56);
    assert_eq!(
        (l.words, l.words_len, l.tail_bytes, l.compact_len()),
        (2, 2, 0, 8)
    );
    let words = [0xAABB_CCDDu32, 0x0011_2233];
    let compact = compact_from_words(&words, l.words_len, l.tail_bytes);
    assert_eq!(compact, [0xDD, 0xCC, 0xBB, 0xAA, 0x33, 0x22, 0x11, 0x00]);
    assert_eq!(words_from_compact(&compact, 2, 2, 0, 56).unwrap(), words);
    // Bit 56 set (byte 7 = 0x01) is padding.
    let mut bad = compact.clone();
    bad[7] = 0x01;
    assert_eq!(
        words_from_compact(&bad, 2, 2, 0, 56),
        Err(BitsError::NonZeroPadding {
            bit: 56,
            total_bits: 56
        })
    );
}

#[test]
fn compact_padding_inside_tail_byte_rejected() {
    // 36 bits: rem = 4, rem_bytes = 1 -> tail 1 byte, words_len 1; bits 36..39 (high nibble of
    // byte 4) are padding.
    let l = CompactLayout::new(36);
    assert_eq!((l.words, l.words_len, l.tail_bytes), (2, 1, 1));
    let ok = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F];
    assert_eq!(
        words_from_compact(&ok, 2, 1, 1, 36).unwrap(),
        [0xFFFF_FFFF, 0x0000_000F]
    );
    let bad = [0xFF, 0xFF, 0xFF, 0xFF, 0x4F];
    assert_eq!(
        words_from_compact(&bad, 2, 1, 1, 36),
        Err(BitsError::NonZeroPadding {
            bit: 38,
            total_bits: 36
        })
    );
    // Sizes that cannot describe one layout.
    assert!(matches!(
        words_from_compact(&ok, 1, 1, 1, 36),
        Err(BitsError::InvalidCompactLayout { .. })
    ));
    assert!(matches!(
        words_from_compact(&ok, 2, 1, 1, 41),
        Err(BitsError::InvalidCompactLayout { .. })
    ));
}

#[test]
fn signed_values_sign_extend() {
    // -1 at 4 bits is stored as 0xF and reads back as -1.
    let mut words = [0u32; 1];
    pack_into(&[-1i32], 4, &mut words, 0).unwrap();
    assert_eq!(words, [0xF]);
    let mut back = [0i32; 1];
    unpack_from(&words, 0, 4, &mut back).unwrap();
    assert_eq!(back, [-1]);

    // i8 -8..=7 at 4 bits: 16 nibbles, value k in nibble k. Two's complement codes:
    // -8..-1 -> 8..F, 0..7 -> 0..7. Word 0 holds nibbles 0..7 = codes 8,9,A,..,F, read from the
    // top nibble down: 0xFEDCBA98. Word 1 holds codes 0..7: 0x76543210.
    let v: Vec<i8> = (-8..=7).collect();
    let mut words = [0u32; 2];
    pack_into(&v, 4, &mut words, 0).unwrap();
    assert_eq!(words, [0xFEDC_BA98, 0x7654_3210]);
    let mut back = [0i8; 16];
    unpack_from(&words, 0, 4, &mut back).unwrap();
    assert_eq!(back.to_vec(), v);
    // Wider destination types sign-extend too.
    let mut wide = [0i64; 16];
    unpack_from(&words, 0, 4, &mut wide).unwrap();
    assert_eq!(wide.to_vec(), (-8i64..=7).collect::<Vec<_>>());
    // ... and an unsigned destination sees the raw code.
    assert_eq!(get::<u8>(&words, 0, 4, 7), 0xF);

    // Out of range either side: 8 and -9 do not fit in 4 signed bits.
    assert_eq!(
        pack_into(&[0i8, 8], 4, &mut words, 0),
        Err(BitsError::Overflow {
            index: 1,
            value: 8,
            bits: 4
        })
    );
    assert_eq!(
        pack_into(&[-9i16], 4, &mut words, 0),
        Err(BitsError::Overflow {
            index: 0,
            value: -9,
            bits: 4
        })
    );
    // i32::MIN fits exactly in 32 bits: code 0x8000_0000.
    let mut w = [0u32; 2];
    set(&mut w, 16, 32, 0, i32::MIN).unwrap();
    assert_eq!(w, [0x0000_0000, 0x0000_8000]);
    assert_eq!(get::<i32>(&w, 16, 32, 0), i32::MIN);
    assert_eq!(get::<i64>(&w, 16, 32, 0), i32::MIN as i64);
}

#[test]
fn thirty_two_bit_leaf_at_unaligned_offset() {
    // u32[2] @bits(32) at bit 4: value 0 -> bits 4..36, value 1 -> bits 36..68.
    // word0 = low bits kept (0xA) | (0xDEADBEEF << 4) mod 2^32 = 0xEADBEEF0 | 0xA = 0xEADBEEFA
    // word1 = (0xDEADBEEF >> 28) | (0x91234567 << 4) mod 2^32 = 0xD | 0x12345670 = 0x1234567D
    // word2 = (0x91234567 >> 28) = 0x9 in bits 0..3; bits 4.. keep their old 0xFFFFFFF0.
    let v = [0xDEAD_BEEFu32, 0x9123_4567];
    let mut words = [0x0000_000Au32, 0, 0xFFFF_FFF0];
    pack_into(&v, 32, &mut words, 4).unwrap();
    assert_eq!(words, [0xEADB_EEFA, 0x1234_567D, 0xFFFF_FFF9]);
    let mut back = [0u32; 2];
    unpack_from(&words, 4, 32, &mut back).unwrap();
    assert_eq!(back, v);
    assert_eq!(get::<u32>(&words, 4, 32, 1), 0x9123_4567);
    // i32 -1 at 32 bits, unaligned, round-trips.
    pack_into(&[-1i32, 7], 32, &mut words, 4).unwrap();
    assert_eq!(words, [0xFFFF_FFFA, 0x0000_007F, 0xFFFF_FFF0]);
    let mut s = [0i32; 2];
    unpack_from(&words, 4, 32, &mut s).unwrap();
    assert_eq!(s, [-1, 7]);
}

#[test]
fn value_straddling_a_word_boundary() {
    // 5-bit values: value 6 occupies bits 30..35: its low 2 bits go to word0 bits 30..31, its
    // high 3 bits to word1 bits 0..2. 23 = 0b10111: low 2 bits 0b11 -> word0 = 0xC0000000;
    // high 3 bits 0b101 -> word1 = 0x5.
    let mut words = [0u32; 2];
    set(&mut words, 0, 5, 6, 23u8).unwrap();
    assert_eq!(words, [0xC000_0000, 0x0000_0005]);
    assert_eq!(get::<u8>(&words, 0, 5, 6), 23);
    // Overwriting it leaves the neighbours (value 5 = bits 25..29, value 7 = bits 35..39).
    words = [0xFFFF_FFFF, 0xFFFF_FFFF];
    set(&mut words, 0, 5, 6, 0u8).unwrap();
    assert_eq!(words, [0x3FFF_FFFF, 0xFFFF_FFF8]);
    assert_eq!(get::<u8>(&words, 0, 5, 5), 31);
    assert_eq!(get::<u8>(&words, 0, 5, 7), 31);
    // The same through the byte stream: value 6 = bits 30..34 -> byte 3 bits 6..7 and byte 4
    // bits 0..2.
    let mut bytes = [0u8; 5];
    set_byte_stream(&mut bytes, 5, 6, 23u8).unwrap();
    assert_eq!(bytes, [0, 0, 0, 0xC0, 0x05]);
    assert_eq!(get_byte_stream::<u8>(&bytes, 5, 6), 23);
}

#[test]
fn overflow_is_an_error_with_the_index() {
    let mut words = [0u32; 2];
    // u8 value 8 does not fit in 3 bits.
    assert_eq!(
        pack_into(&[1u8, 2, 8, 3], 3, &mut words, 0),
        Err(BitsError::Overflow {
            index: 2,
            value: 8,
            bits: 3
        })
    );
    // The same deep inside the dense fast path (SIMD group and scalar block) and its tail.
    for at in [0usize, 40, 255, 256 + 31, 1000, 1029] {
        let mut v = vec![7u32; 1030];
        v[at] = 8;
        let mut out = vec![0u32; bits::words_for(1030, 3)];
        assert_eq!(
            pack_dense(&v, 3, &mut out),
            Err(BitsError::Overflow {
                index: at,
                value: 8,
                bits: 3
            }),
            "overflow at {at}"
        );
        let mut w = vec![0u32; bits::words_for(1030, 3) + 1];
        assert_eq!(
            pack_into(&v, 3, &mut w, 32),
            Err(BitsError::Overflow {
                index: at,
                value: 8,
                bits: 3
            })
        );
        assert_eq!(
            pack_bytes(&v, 3),
            Err(BitsError::Overflow {
                index: at,
                value: 8,
                bits: 3
            })
        );
    }
    // Every width, huge values too (the SIMD kernels narrow with saturation before checking:
    // 2^31 and above, 2^15..2^31 and 65535 must all still be caught).
    for b in 1u32..32 {
        for bad in [1u32 << b, u32::MAX, 1 << 31, 1 << 15, 65535, (1 << b) | 1] {
            if (bad as u64) < (1u64 << b) {
                continue;
            }
            for at in [3usize, 300, 555] {
                let mut v: Vec<u32> = (0..600u32).map(|i| i & ((1 << b) - 1)).collect();
                v[at] = bad;
                let mut out = vec![0u32; bits::words_for(600, b)];
                assert_eq!(
                    pack_dense(&v, b, &mut out),
                    Err(BitsError::Overflow {
                        index: at,
                        value: bad as i128,
                        bits: b
                    }),
                    "bits={b} bad={bad} at={at}"
                );
            }
        }
    }
    // u64 values beyond 32 bits.
    assert_eq!(
        pack_into(&[u64::MAX], 32, &mut words, 0),
        Err(BitsError::Overflow {
            index: 0,
            value: u64::MAX as i128,
            bits: 32
        })
    );
    assert_eq!(
        set(&mut words, 0, 3, 1, 9u16),
        Err(BitsError::Overflow {
            index: 1,
            value: 9,
            bits: 3
        })
    );
    assert_eq!(words, [0, 0], "a failed set writes nothing");
    // Error messages say what went wrong.
    let msg = pack_into(&[1u8, 2, 8], 3, &mut words, 0)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("value 8") && msg.contains("index 2") && msg.contains("3 bits"),
        "{msg}"
    );
}

#[test]
fn short_buffers_and_bad_widths_are_errors() {
    let mut words = [0u32; 1];
    // 11 values × 3 bits = 33 bits > 32.
    assert_eq!(
        pack_into(&[0u8; 11], 3, &mut words, 0),
        Err(BitsError::BufferTooShort {
            needed_bits: 33,
            available_bits: 32
        })
    );
    assert_eq!(words, [0], "nothing written");
    assert!(matches!(
        pack_into(&[0u8; 1], 3, &mut words, 30),
        Err(BitsError::BufferTooShort { .. })
    ));
    let mut out = [0u8; 11];
    assert!(matches!(
        unpack_from(&words, 0, 3, &mut out),
        Err(BitsError::BufferTooShort { .. })
    ));
    let mut out32 = [0u32; 11];
    assert!(matches!(
        unpack_dense(&words, 3, &mut out32),
        Err(BitsError::BufferTooShort { .. })
    ));
    assert!(matches!(
        pack_dense(&[0u32; 11], 3, &mut words),
        Err(BitsError::BufferTooShort { .. })
    ));
    assert!(matches!(
        try_get::<u8>(&words, 0, 3, 10),
        Err(BitsError::BufferTooShort { .. })
    ));
    assert!(matches!(
        set(&mut words, 0, 3, 10, 1u8),
        Err(BitsError::BufferTooShort { .. })
    ));
    assert!(matches!(
        unpack_bytes(&[0u8; 4], 3, &mut out),
        Err(BitsError::BufferTooShort { .. })
    ));
    assert!(matches!(
        bits::pack_bytes_into(&[0u8; 11], 3, &mut [0u8; 4]),
        Err(BitsError::BufferTooShort { .. })
    ));
    for bad in [0u32, 33] {
        assert_eq!(
            pack_into(&[0u8], bad, &mut words, 0),
            Err(BitsError::InvalidBits { bits: bad })
        );
        assert_eq!(
            unpack_from(&words, 0, bad, &mut out),
            Err(BitsError::InvalidBits { bits: bad })
        );
        assert_eq!(
            pack_bytes(&[0u8], bad),
            Err(BitsError::InvalidBits { bits: bad })
        );
    }
    // Empty leaves are fine, even at the very end of the buffer.
    pack_into::<u8>(&[], 3, &mut words, 32).unwrap();
    unpack_from::<u8>(&words, 32, 3, &mut []).unwrap();
    assert_eq!(pack_bytes::<u8>(&[], 5).unwrap(), Vec::<u8>::new());
}

#[test]
fn decoding_into_a_narrower_dtype_is_checked() {
    // A 12-bit field holding 300 does not fit u8; holding 2 (bool field at 12 bits) is not a
    // bool; holding 0x800 as i8 sign-extends to -2048, which is not an i8.
    let mut words = [0u32; 1];
    pack_into(&[300u16], 12, &mut words, 0).unwrap();
    assert_eq!(
        try_get::<u8>(&words, 0, 12, 0),
        Err(BitsError::CodeOutOfRange {
            index: 0,
            value: 300,
            bits: 12,
            dtype: Dtype::U8
        })
    );
    let mut out = [0u8; 1];
    assert!(matches!(
        unpack_from(&words, 0, 12, &mut out),
        Err(BitsError::CodeOutOfRange { .. })
    ));
    assert!(matches!(
        try_get::<bool>(&words, 0, 12, 0),
        Err(BitsError::CodeOutOfRange { .. })
    ));
    set(&mut words, 0, 12, 0, 0x800u16).unwrap();
    assert_eq!(
        try_get::<i8>(&words, 0, 12, 0),
        Err(BitsError::CodeOutOfRange {
            index: 0,
            value: -2048,
            bits: 12,
            dtype: Dtype::I8
        })
    );
    assert_eq!(get::<i16>(&words, 0, 12, 0), -2048);
}

#[test]
fn dense_padding_is_zero_and_following_words_untouched() {
    // 33 values × 3 bits = 99 bits: 4 words, the last holding bits 96..98; bits 99..127 are
    // padding and must come out zero even when the buffer held garbage.
    let v: Vec<u32> = (0..33).map(|i| i % 8).collect();
    let mut out = vec![u32::MAX; 5];
    pack_dense(&v, 3, &mut out).unwrap();
    assert_eq!(out[3] >> 3, 0);
    assert_eq!(out[4], u32::MAX);
    // Value 32 (= 0) sits in bits 96..98.
    assert_eq!(out[3], 0);
    let mut back = vec![0u32; 33];
    unpack_dense(&out, 3, &mut back).unwrap();
    assert_eq!(back, v);
}

#[test]
fn large_dense_round_trip() {
    // Outputs of 16 MiB and more take the streaming-store unpack (when 16-byte aligned); check
    // it, and the unaligned fallback, against values generated independently.
    let n = (16 << 20) / 4 + 1000;
    for b in [1u32, 3, 25] {
        let m = (1u64 << b) - 1;
        let value = |i: usize| ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40 & m) as u32;
        let v: Vec<u32> = (0..n).map(value).collect();
        let mut words = vec![0u32; bits::words_for(n, b)];
        pack_dense(&v, b, &mut words).unwrap();
        let mut buf = vec![0u32; n + 8];
        let aligned = (16 - buf.as_ptr() as usize % 16) % 16 / 4;
        for start in [aligned, aligned + 1] {
            let out = &mut buf[start..start + n];
            unpack_dense(&words, b, out).unwrap();
            let bad = out.iter().enumerate().find(|&(i, &x)| x != value(i));
            assert_eq!(bad, None, "bits={b} start={start}");
        }
    }
}

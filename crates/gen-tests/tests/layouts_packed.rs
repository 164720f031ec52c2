//! The generated aggregate layouts (`<Name>Packed`, `<Name>PackedBatch`, DESIGN §5):
//! word-for-word equality with xtructure's golden layouts, hand-computed cases with tails,
//! seeded property tests over every aggregate record, and the errors (values that do not
//! fit, wrong shapes, bad compact bytes).

use gen_tests::{everything, puzzle};
use schemac_runtime::rng::Rng;
use schemac_runtime::NdArray;

// ---------------------------------------------------------------------------------------------
// xtructure golden vectors (crates/runtime/tests/data/xtructure.json, produced by xtructure
// at tinker495/Xtructure 7ba3378). Pattern: the value at a leaf's flat C-order index i is
// i % 2**bits; bool leaves: i is odd.

const XTRUCTURE: &str = include_str!("../../runtime/tests/data/xtructure.json");

fn golden_case(name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(XTRUCTURE).expect("xtructure.json parses");
    v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
        .clone()
}

fn golden_words(case: &serde_json::Value) -> Vec<u32> {
    case["words_u32_hex"]
        .as_array()
        .expect("words_u32_hex")
        .iter()
        .map(|w| u32::from_str_radix(w.as_str().expect("hex"), 16).expect("hex word"))
        .collect()
}

fn le_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn pattern<T: Copy>(n: usize, bits: u32, f: impl Fn(u64) -> T) -> Vec<T> {
    (0..n as u64).map(|i| f(i % (1u64 << bits))).collect()
}

fn agg_state_pattern() -> puzzle::AggState {
    puzzle::AggState {
        flags: NdArray::new(vec![17], (0..17).map(|i| i % 2 == 1).collect()).unwrap(),
        faces: NdArray::new(vec![6, 54], pattern(324, 3, |v| v as u8)).unwrap(),
        codes: NdArray::new(vec![5], pattern(5, 12, |v| v as u16)).unwrap(),
    }
}

#[test]
fn xtructure_agg_state_word_for_word() {
    let case = golden_case("AggState");
    let words = golden_words(&case);
    assert_eq!(case["total_bits"], 1049);
    assert_eq!(puzzle::AggStatePacked::TOTAL_BITS, 1049);
    assert_eq!(puzzle::AggStatePacked::WORDS, 33);
    assert_eq!(puzzle::AggStatePacked::WORDS_LEN, 33);
    assert_eq!(puzzle::AggStatePacked::TAIL_BYTES, 0);
    assert_eq!(puzzle::AggStatePacked::COMPACT_BYTES, 132);
    // Bit offsets as xtructure lays them out.
    let offsets: Vec<(&str, u64)> = puzzle::AggStatePacked::LEAVES
        .iter()
        .map(|l| (l.path, l.bit_offset))
        .collect();
    assert_eq!(offsets, vec![("flags", 0), ("faces", 17), ("codes", 989)]);
    for (path, off) in &offsets {
        assert_eq!(case["bit_offsets"][path], *off, "{path}");
    }

    let s = agg_state_pattern();
    let p = puzzle::AggStatePacked::pack(&s).unwrap();
    assert_eq!(p.words.to_vec(), words, "AggState words");
    assert_eq!(
        p.to_bytes(),
        le_bytes(&words),
        "no tail: the compact form is the words"
    );
    assert_eq!(case["tail_hex"], "");
    assert_eq!(
        puzzle::AggStatePacked::from_bytes(&p.to_bytes()).unwrap(),
        p
    );
    assert_eq!(p.unpack(), s);

    // Word 0 by hand: flags 0..17 alternate 0,1 -> 0b1010...10 (bits 1,3,..,15) = 0xAAAA;
    // faces start at bit 17: values 0,1,2,3,4 at bits 17,20,23,26,29 (3 bits each):
    // 1<<20 | 2<<23 | 3<<26 | (4 & 0b111)<<29 = 0x8D10_0000; total 0x8D10AAAA.
    assert_eq!(p.words[0], 0x8D10_AAAA);

    // The same rows through a batch, column by column.
    let b = puzzle::AggStateBatch::from_samples(&[s.clone(), s.clone(), s.clone()]).unwrap();
    let pb = puzzle::AggStatePackedBatch::pack(&b).unwrap();
    assert_eq!(pb.len(), 3);
    assert_eq!(
        pb.words(),
        [words.clone(), words.clone(), words.clone()].concat()
    );
    assert_eq!(pb.to_bytes(), le_bytes(&words).repeat(3));
    assert_eq!(pb.unpack(), b);
    assert_eq!(
        puzzle::AggStatePackedBatch::from_bytes(&pb.to_bytes()).unwrap(),
        pb
    );
}

#[test]
fn xtructure_agg5_word_for_word() {
    let case = golden_case("Agg5");
    let words = golden_words(&case);
    // 10 values of 5 bits = 50 bits: two words, rem 18 bits = 3 bytes, so no tail.
    assert_eq!(puzzle::Agg5Packed::WORDS_LEN, 2);
    assert_eq!(puzzle::Agg5Packed::TAIL_BYTES, 0);
    let s = puzzle::Agg5 {
        v: NdArray::new(vec![10], pattern(10, 5, |v| v as u8)).unwrap(),
    };
    let p = puzzle::Agg5Packed::pack(&s).unwrap();
    assert_eq!(p.words.to_vec(), words);
    // By hand: values 0..9 at 5 bits: word 0 holds v0..v5 and the low 2 bits of v6:
    // 1<<5 | 2<<10 | 3<<15 | 4<<20 | 5<<25 | (6 & 3)<<30 = 0x8A418820.
    assert_eq!(p.words[0], 0x8A41_8820);
    assert_eq!(p.to_bytes(), le_bytes(&words));
    assert_eq!(p.unpack(), s);
    assert_eq!(
        p.unpack_field("v", None).unwrap(),
        (0..10).collect::<Vec<i64>>()
    );
    assert_eq!(
        p.unpack_field("v", Some(&[9, 0, 6])).unwrap(),
        vec![9, 0, 6]
    );
    assert_eq!(p.get_v(6), 6);
}

#[test]
fn xtructure_per_field_packed_puzzle_state() {
    // PuzzleState stores `faces` per-field packed (the struct holds the bytes); its batch
    // column holds the values, and packing a row back gives the same bytes.
    let case = golden_case("PuzzleState (per-field packed)");
    let hex = case["packed_hex"].as_str().unwrap();
    let golden: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut s = puzzle::PuzzleState::default();
    s.set_faces_unpacked(&NdArray::new(vec![6, 54], pattern(324, 3, |v| v as u8)).unwrap())
        .unwrap();
    assert_eq!(
        s.faces.to_vec(),
        golden[..122].to_vec(),
        "schemac stores the first 122 of xtructure's 123 bytes"
    );
    let b = puzzle::PuzzleStateBatch::from_samples(&[s.clone()]).unwrap();
    let (values, shape) = b.faces();
    assert_eq!(shape, [1, 6, 54]);
    assert_eq!(values, pattern(324, 3, |v| v as u8).as_slice());
    assert_eq!(b.get(0), s);
}

// ---------------------------------------------------------------------------------------------
// Hand-computed layouts with compact tails.

#[test]
fn tile_state_40_bits_one_tail_byte() {
    // tiles u8[4,4] @bits(2) at bit 0, delta i8 @bits(4) at 32, parity bool at 36,
    // steps u16 @bits(3) at 37: 40 bits -> 2 words, compact = 1 word + 1 tail byte.
    assert_eq!(
        (
            puzzle::TileStatePacked::TOTAL_BITS,
            puzzle::TileStatePacked::WORDS_LEN,
            puzzle::TileStatePacked::TAIL_BYTES
        ),
        (40, 1, 1)
    );
    let s = puzzle::TileState {
        tiles: NdArray::new(vec![4, 4], (0..16).map(|i| (i % 4) as u8).collect()).unwrap(),
        delta: -1,
        parity: true,
        steps: 5,
    };
    let p = puzzle::TileStatePacked::pack(&s).unwrap();
    // tiles 0,1,2,3 repeating at 2 bits: each byte 0b11_10_01_00 = 0xE4 -> word 0 = 0xE4E4E4E4.
    // word 1: delta -1 -> 0xF (bits 0-3), parity -> bit 4 (0x10), steps 5 -> 0b101 << 5 = 0xA0.
    assert_eq!(p.words, [0xE4E4_E4E4, 0x0000_00BF]);
    assert_eq!(p.to_bytes(), vec![0xE4, 0xE4, 0xE4, 0xE4, 0xBF]);
    assert_eq!(
        puzzle::TileStatePacked::from_bytes(&[0xE4, 0xE4, 0xE4, 0xE4, 0xBF]).unwrap(),
        p
    );
    assert_eq!(p.unpack(), s);
    assert_eq!(p.get_delta(0), -1, "sign-extended");
    assert_eq!(p.unpack_field("delta", None).unwrap(), vec![-1]);
    assert_eq!(
        p.unpack_field("tiles", Some(&[0, 1, 2, 3, 15])).unwrap(),
        vec![0, 1, 2, 3, 3]
    );
    // Wrong lengths.
    assert!(puzzle::TileStatePacked::from_bytes(&[0xE4; 4]).is_err());
    assert!(puzzle::TileStatePacked::from_bytes(&[0xE4; 8]).is_err());
}

fn board_example() -> everything::Board {
    everything::Board {
        cells: (0..9)
            .map(|k| everything::Cell {
                kind: k as u8,
                alive: k % 2 == 1,
            })
            .collect(),
        turn: 1,
    }
}

#[test]
fn board_46_bits_two_tail_bytes() {
    // cells.kind [3,3] @bits(4) at 0 (36 bits), cells.alive [3,3] at 36, turn at 45:
    // 46 bits -> 2 words, compact = 1 word + 2 tail bytes.
    assert_eq!(
        (
            everything::BoardPacked::WORDS_LEN,
            everything::BoardPacked::TAIL_BYTES
        ),
        (1, 2)
    );
    let b = board_example();
    let p = everything::BoardPacked::pack(&b).unwrap();
    // kinds 0..7 as nibbles -> word 0 = 0x76543210; kind 8 -> word 1 bits 0-3;
    // alive k=1,3,5,7 at bits 36+k -> word 1 bits 5,7,9,11 = 0xAA0; turn at bit 45 -> 0x2000.
    assert_eq!(p.words, [0x7654_3210, 0x0000_2AA8]);
    assert_eq!(p.to_bytes(), vec![0x10, 0x32, 0x54, 0x76, 0xA8, 0x2A]);
    assert_eq!(p.unpack(), b);
    assert_eq!(
        p.unpack_field("cells.alive", None).unwrap(),
        vec![0, 1, 0, 1, 0, 1, 0, 1, 0]
    );
    assert_eq!(p.get_cells__kind(8), 8);
    assert!(p.get_cells__alive(3));
    // Padding bits 46 and 47 (the top of the second tail byte) must be zero.
    let mut bad = p.to_bytes();
    bad[5] |= 0x40;
    let e = everything::BoardPacked::from_bytes(&bad).unwrap_err();
    assert!(e.to_string().contains("padding bit 46"), "{e}");
}

#[test]
fn packed_sample_nested_signed_and_32_bit_leaves() {
    // board (46 bits) + level u8 @bits(5) at 46 + neg i16[2] @bits(9) at 51 + wide u32 @bits(32)
    // at 69: 101 bits -> 4 words, compact = 3 words + 1 tail byte (rem 5 bits).
    assert_eq!(
        (
            everything::PackedPacked::TOTAL_BITS,
            everything::PackedPacked::WORDS,
            everything::PackedPacked::COMPACT_BYTES
        ),
        (101, 4, 13)
    );
    let s = everything::Packed {
        board: board_example(),
        level: 3,
        neg: NdArray::new(vec![2], vec![-1, -256]).unwrap(),
        wide: 0xDEAD_BEEF,
    };
    let p = everything::PackedPacked::pack(&s).unwrap();
    // word 1: board 0x2AA8 | level 3 << 14 (0xC000) | neg[0] = -1 -> 0x1FF << 19 (0x0FF80000);
    // neg[1] = -256 -> 9-bit code 0x100: low 4 bits (0) at bits 28-31, high 5 bits (0b10000)
    // in word 2 bits 0-4 (0x10); wide: low 27 bits 0x6ADBEEF << 5 = 0xD5B7DDE0 in word 2,
    // high 5 bits 0xDEADBEEF >> 27 = 0x1B in word 3.
    assert_eq!(
        p.words,
        [0x7654_3210, 0x0FF8_EAA8, 0xD5B7_DDF0, 0x0000_001B]
    );
    let mut compact = le_bytes(&p.words[..3]);
    compact.push(0x1B);
    assert_eq!(p.to_bytes(), compact);
    assert_eq!(p.unpack(), s);
    assert_eq!(p.unpack_field("neg", None).unwrap(), vec![-1, -256]);
    assert_eq!(p.unpack_field("wide", None).unwrap(), vec![0xDEAD_BEEF]);
    assert_eq!(p.unpack_field("board.turn", Some(&[0])).unwrap(), vec![1]);
    assert_eq!(p.get_neg(1), -256);
    assert_eq!(p.get_wide(0), 0xDEAD_BEEF);
    // Bits 101..104 of the tail byte are padding.
    let mut bad = p.to_bytes();
    bad[12] |= 0x80;
    assert!(everything::PackedPacked::from_bytes(&bad).is_err());
}

#[test]
fn cell_5_bits_one_tail_byte() {
    let c = everything::Cell {
        kind: 9,
        alive: true,
    };
    let p = everything::CellPacked::pack(&c).unwrap();
    // kind 9 = 0b1001 in bits 0-3, alive at bit 4 -> 0x19; compact = 0 words + 1 byte.
    assert_eq!(p.words, [0x19]);
    assert_eq!(p.to_bytes(), vec![0x19]);
    assert_eq!(
        everything::CellPacked::from_bytes(&[0x19])
            .unwrap()
            .unpack(),
        c
    );
    assert!(
        everything::CellPacked::from_bytes(&[0x39]).is_err(),
        "bit 5 is padding"
    );
}

// ---------------------------------------------------------------------------------------------
// Errors: never silently truncated.

#[test]
fn values_that_do_not_fit_are_errors() {
    // delta is 4-bit signed: -8..=7.
    let mut t = puzzle::TileState {
        delta: 8,
        ..Default::default()
    };
    let e = puzzle::TileStatePacked::pack(&t).unwrap_err();
    assert!(
        e.to_string().contains("delta") && e.to_string().contains("does not fit in 4 bits"),
        "{e}"
    );
    t.delta = -9;
    assert!(puzzle::TileStatePacked::pack(&t).is_err());
    t.delta = -8;
    assert!(puzzle::TileStatePacked::pack(&t).is_ok());
    t.steps = 8; // 3 bits
    assert!(puzzle::TileStatePacked::pack(&t).is_err());

    let mut s = agg_state_pattern();
    s.faces.as_mut_slice()[100] = 8; // 3 bits
    let e = puzzle::AggStatePacked::pack(&s).unwrap_err();
    assert!(e.to_string().contains("faces[100]"), "{e}");
    // The batch path reports the row too.
    let b = puzzle::AggStateBatch::from_samples(&[agg_state_pattern(), s.clone()]).unwrap();
    let e = puzzle::AggStatePackedBatch::pack(&b).unwrap_err();
    assert!(
        e.to_string().contains("[1]") && e.to_string().contains("faces"),
        "{e}"
    );

    let mut p = everything::Packed::default();
    p.neg.as_mut_slice()[1] = 256; // 9-bit signed max is 255
    assert!(everything::PackedPacked::pack(&p).is_err());
    p.neg.as_mut_slice()[1] = -256;
    assert!(everything::PackedPacked::pack(&p).is_ok());

    let mut board = board_example();
    board.cells[4].kind = 16;
    let e = everything::BoardPacked::pack(&board).unwrap_err();
    assert!(
        e.to_string().contains("cells.kind") && e.to_string().contains("4 bits"),
        "{e}"
    );

    let mut packed = everything::BoardPacked::pack(&board_example()).unwrap();
    assert!(packed.set_cells__kind(2, 16).is_err());
    packed.set_cells__kind(2, 15).unwrap();
    assert_eq!(packed.get_cells__kind(2), 15);
    assert_eq!(packed.get_cells__kind(3), 3, "neighbours untouched");
    assert!(packed.set_cells__kind(9, 1).is_err(), "index out of range");
}

#[test]
fn wrong_shapes_are_errors() {
    let mut s = agg_state_pattern();
    s.faces = NdArray::zeros(vec![6, 53]);
    assert!(puzzle::AggStatePacked::pack(&s).is_err());
    let mut b = board_example();
    b.cells.pop();
    let e = everything::BoardPacked::pack(&b).unwrap_err();
    assert!(e.to_string().contains("cells"), "{e}");
    assert!(puzzle::AggStatePackedBatch::from_bytes(&[0u8; 133]).is_err());
    assert!(puzzle::AggStatePackedBatch::from_bytes(&[])
        .unwrap()
        .is_empty());
    let p = puzzle::AggStatePacked::pack(&agg_state_pattern()).unwrap();
    assert!(p.unpack_field("nope", None).is_err());
    assert!(p.unpack_field("codes", Some(&[5])).is_err());
}

// ---------------------------------------------------------------------------------------------
// Property tests: seeded random instances of every aggregate record.

/// Flat `i64` values of a leaf, from a batch's fixed column.
fn as_i64<T: Copy + Into<i64>>(v: &[T]) -> Vec<i64> {
    v.iter().map(|&x| x.into()).collect()
}

macro_rules! aggregate_props {
    ($($test:ident: $m:ident :: $s:ident, $p:ident, $pb:ident, $b:ident;)*) => {$(
        #[test]
        fn $test() {
            for seed in 0..300u64 {
                let mut rng = Rng::new(seed);
                let samples: Vec<$m::$s> = (0..5).map(|_| $m::$s::random(&mut rng)).collect();
                // unpack(pack(x)) == x, compact bytes round trip.
                let packed: Vec<$m::$p> = samples.iter().map(|s| $m::$p::pack(s).unwrap()).collect();
                // unpack_into overwrites any sample (reusing its arrays) with the same result.
                let mut reused = $m::$s::default();
                for (s, p) in samples.iter().zip(&packed) {
                    assert_eq!(&p.unpack(), s, "seed {seed}");
                    p.unpack_into(&mut reused);
                    assert_eq!(&reused, s, "seed {seed}: unpack_into");
                    let bytes = p.to_bytes();
                    assert_eq!(bytes.len(), $m::$p::COMPACT_BYTES);
                    assert_eq!(&$m::$p::from_bytes(&bytes).unwrap(), p);
                    // Padding bits are zero in memory too.
                    let total = $m::$p::TOTAL_BITS as usize;
                    for bit in total..32 * $m::$p::WORDS {
                        assert_eq!(p.words[bit / 32] >> (bit % 32) & 1, 0, "padding bit {bit}");
                    }
                }
                // The batch path equals the per-row path, both ways.
                let batch = $m::$b::from_samples(&samples).unwrap();
                let pb = $m::$pb::pack(&batch).unwrap();
                assert_eq!(pb, $m::$pb::pack_samples(&samples).unwrap());
                assert_eq!(pb.iter().collect::<Vec<_>>(), packed);
                assert_eq!(pb.unpack(), batch);
                assert_eq!($m::$pb::from_bytes(&pb.to_bytes()).unwrap(), pb);
                assert_eq!(pb.to_bytes(), packed.iter().flat_map(|p| p.to_bytes()).collect::<Vec<u8>>());
                // unpack_field == the slice of unpack, for every leaf, all or some indices.
                for leaf in $m::$p::LEAVES {
                    let all = pb.unpack_field(leaf.path, None).unwrap();
                    assert_eq!(all.len(), 5 * leaf.elements);
                    for (i, p) in packed.iter().enumerate() {
                        let row = p.unpack_field(leaf.path, None).unwrap();
                        assert_eq!(row, all[i * leaf.elements..(i + 1) * leaf.elements].to_vec());
                        let picks: Vec<usize> =
                            (0..3).map(|_| rng.below(leaf.elements as u64) as usize).collect();
                        let some = p.unpack_field(leaf.path, Some(&picks)).unwrap();
                        assert_eq!(some, picks.iter().map(|&k| row[k]).collect::<Vec<_>>());
                    }
                }
                $test::columns(&batch, &pb);
            }
        }
    )*};
}

aggregate_props! {
    props_agg_state: puzzle::AggState, AggStatePacked, AggStatePackedBatch, AggStateBatch;
    props_agg5: puzzle::Agg5, Agg5Packed, Agg5PackedBatch, Agg5Batch;
    props_tile_state: puzzle::TileState, TileStatePacked, TileStatePackedBatch, TileStateBatch;
    props_board: everything::Board, BoardPacked, BoardPackedBatch, BoardBatch;
    props_cell: everything::Cell, CellPacked, CellPackedBatch, CellBatch;
    props_packed: everything::Packed, PackedPacked, PackedPackedBatch, PackedBatch;
}

// Per-record checks that unpack_field agrees with the batch's typed columns.
mod props_agg_state {
    use super::*;
    pub fn columns(b: &puzzle::AggStateBatch, pb: &puzzle::AggStatePackedBatch) {
        let flags: Vec<i64> = b.flags().0.iter().map(|&f| i64::from(f)).collect();
        assert_eq!(pb.unpack_field("flags", None).unwrap(), flags);
        assert_eq!(pb.unpack_field("faces", None).unwrap(), as_i64(b.faces().0));
        assert_eq!(pb.unpack_field("codes", None).unwrap(), as_i64(b.codes().0));
    }
}
mod props_agg5 {
    use super::*;
    pub fn columns(b: &puzzle::Agg5Batch, pb: &puzzle::Agg5PackedBatch) {
        assert_eq!(pb.unpack_field("v", None).unwrap(), as_i64(b.v().0));
    }
}
mod props_tile_state {
    use super::*;
    pub fn columns(b: &puzzle::TileStateBatch, pb: &puzzle::TileStatePackedBatch) {
        assert_eq!(pb.unpack_field("tiles", None).unwrap(), as_i64(b.tiles().0));
        assert_eq!(pb.unpack_field("delta", None).unwrap(), as_i64(b.delta().0));
        assert_eq!(pb.unpack_field("steps", None).unwrap(), as_i64(b.steps().0));
    }
}
mod props_board {
    use super::*;
    pub fn columns(b: &everything::BoardBatch, pb: &everything::BoardPackedBatch) {
        assert_eq!(
            pb.unpack_field("cells.kind", None).unwrap(),
            as_i64(b.cells__kind().0)
        );
        assert_eq!(b.cells__kind().1, [b.len(), 3, 3]);
    }
}
mod props_cell {
    use super::*;
    pub fn columns(b: &everything::CellBatch, pb: &everything::CellPackedBatch) {
        assert_eq!(pb.unpack_field("kind", None).unwrap(), as_i64(b.kind().0));
    }
}
mod props_packed {
    use super::*;
    pub fn columns(b: &everything::PackedBatch, pb: &everything::PackedPackedBatch) {
        assert_eq!(pb.unpack_field("neg", None).unwrap(), as_i64(b.neg().0));
        assert_eq!(pb.unpack_field("wide", None).unwrap(), as_i64(b.wide().0));
        assert_eq!(
            pb.unpack_field("board.cells.kind", Some(&[0, 8]))
                .unwrap()
                .len(),
            2 * b.len()
        );
    }
}

"""Bit packing against xtructure's golden layouts, hand-computed cases and a naive reference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import case, load_vectors

from schemac_runtime.bits import (
    check_fits,
    compact_layout,
    from_compact,
    n_words,
    pack_bytes,
    pack_bytes_rows,
    pack_leaf,
    to_compact,
    unpack_bytes,
    unpack_bytes_rows,
    unpack_leaf,
)
from schemac_runtime.errors import BitsOverflowError, DecodeError

XT = load_vectors("xtructure")


def pattern(shape: tuple[int, ...], bits: int, dtype: Any) -> np.ndarray[Any, Any]:
    """xtructure's pattern: value at flat C-order index i is i % 2**bits (bool: i is odd)."""
    i = np.arange(int(np.prod(shape)))
    if dtype is bool:
        return (i % 2 == 1).reshape(shape)
    return (i % (1 << bits)).astype(dtype).reshape(shape)


def words_hex(words: np.ndarray[Any, Any]) -> list[str]:
    return [f"{int(w):08x}" for w in words]


def ref_pack(leaves: list[tuple[list[int], int, int]], total_bits: int) -> int:
    """Naive reference: the stream as one Python int, bit p = stream bit p."""
    stream = 0
    for values, offset, bits in leaves:
        for k, v in enumerate(values):
            stream |= (v & ((1 << bits) - 1)) << (offset + k * bits)
    assert stream < (1 << max(total_bits, 1))
    return stream


def stream_words(stream: int, nw: int) -> list[int]:
    return [(stream >> (32 * i)) & 0xFFFFFFFF for i in range(nw)]


# ------------------------------------------------------------------ xtructure goldens


def test_agg_state_words() -> None:
    c = case(XT, "AggState")
    off = c["bit_offsets"]
    lay = compact_layout(c["total_bits"])
    assert (lay.n_words, lay.words_len, lay.tail_bytes) == (33, c["words_len"], c["tail_bytes"])
    words = np.zeros(lay.n_words, dtype=np.uint32)
    flags = pattern((17,), 1, bool)
    faces = pattern((6, 54), 3, np.uint8)
    codes = pattern((5,), 12, np.uint16)
    pack_leaf(words, flags, off["flags"], 1)
    pack_leaf(words, faces, off["faces"], 3)
    pack_leaf(words, codes, off["codes"], 12)
    assert words_hex(words) == c["words_u32_hex"]
    compact = to_compact(words, lay.words_len, lay.tail_bytes)
    assert (
        compact.tobytes().hex()
        == "".join(bytes.fromhex(w)[::-1].hex() for w in c["words_u32_hex"]) + c["tail_hex"]
    )
    # decode each leaf back without the others
    np.testing.assert_array_equal(unpack_leaf(words, off["flags"], 1, 17, "bool"), flags)
    np.testing.assert_array_equal(
        unpack_leaf(words, off["faces"], 3, 324, "u8").reshape(6, 54), faces
    )
    np.testing.assert_array_equal(unpack_leaf(words, off["codes"], 12, 5, "u16"), codes)
    back = from_compact(
        compact.tobytes(), lay.n_words, lay.words_len, lay.tail_bytes, total_bits=lay.total_bits
    )
    np.testing.assert_array_equal(back, words)


def test_agg_state_batched() -> None:
    c = case(XT, "AggState")
    off = c["bit_offsets"]
    n = 7
    words = np.zeros((n, 33), dtype=np.uint32)
    pack_leaf(words, np.broadcast_to(pattern((17,), 1, bool), (n, 17)), off["flags"], 1)
    pack_leaf(words, np.broadcast_to(pattern((6, 54), 3, np.uint8), (n, 6, 54)), off["faces"], 3)
    pack_leaf(words, np.broadcast_to(pattern((5,), 12, np.uint16), (n, 5)), off["codes"], 12)
    for row in words:
        assert words_hex(row) == c["words_u32_hex"]
    faces = unpack_leaf(words, off["faces"], 3, 324, np.uint8)
    assert faces.shape == (n, 324)


def test_agg5_words() -> None:
    c = case(XT, "Agg5")
    lay = compact_layout(c["total_bits"])
    assert (lay.words_len, lay.tail_bytes) == (c["words_len"], c["tail_bytes"])
    words = np.zeros(lay.n_words, dtype=np.uint32)
    pack_leaf(words, pattern((10,), 5, np.uint8), 0, 5)
    assert words_hex(words) == c["words_u32_hex"]


def test_puzzle_state_per_field() -> None:
    c = case(XT, "PuzzleState (per-field packed)")
    faces = pattern((6, 54), 3, np.uint8)
    packed = pack_bytes(faces, 3)
    assert len(packed) == 122 == (324 * 3 + 7) // 8
    assert packed.hex() == c["packed_hex"][: 2 * 122]
    np.testing.assert_array_equal(unpack_bytes(packed, 3, 324, "u8").reshape(6, 54), faces)
    rows = pack_bytes_rows(np.stack([faces, faces]), 3)
    assert rows.shape == (2, 122) and rows[1].tobytes() == packed
    np.testing.assert_array_equal(unpack_bytes_rows(rows, 3, 324, "u8")[1], faces.reshape(-1))


# ------------------------------------------------------------------ hand-computed cases


def test_minus_one_at_4_bits_sign_extends() -> None:
    words = np.zeros(1, dtype=np.uint32)
    pack_leaf(words, np.array([-1, 7, -8, 0, 3], dtype=np.int8), 0, 4)
    # -1 -> 0xF, 7 -> 0x7, -8 -> 0x8 (two's complement low 4 bits), low nibble first
    assert int(words[0]) == 0x0003_087F
    out = unpack_leaf(words, 0, 4, 5, "i8")
    assert out.dtype == np.int8 and out.tolist() == [-1, 7, -8, 0, 3]
    # read as unsigned, the same bits are 15, 7, 8
    assert unpack_leaf(words, 0, 4, 3, "u8").tolist() == [15, 7, 8]


def test_signed_32_bits_and_straddling() -> None:
    words = np.zeros(3, dtype=np.uint32)
    vals = np.array([-(2**31), 2**31 - 1], dtype=np.int32)
    pack_leaf(words, vals, 5, 32)  # both values straddle word boundaries
    assert int(words[0]) == 0  # -(2**31) = 0x80000000: its bits 0..26 are zero
    assert int(words[1]) == (0x80000000 >> 27) | ((0x7FFFFFFF << 5) & 0xFFFFFFFF)
    np.testing.assert_array_equal(unpack_leaf(words, 5, 32, 2, "i32"), vals)
    np.testing.assert_array_equal(unpack_leaf(words, 5, 32, 2, "i64"), vals.astype(np.int64))


def test_tail_of_one_byte_40_bits() -> None:
    lay = compact_layout(40)
    assert (lay.n_words, lay.words_len, lay.tail_bytes, lay.n_bytes) == (2, 1, 1, 5)
    words = np.zeros(2, dtype=np.uint32)
    pack_leaf(words, np.array([1, 2, 3, 4, 5], dtype=np.uint8), 0, 8)
    c = to_compact(words, lay.words_len, lay.tail_bytes)
    assert c.tobytes() == bytes([1, 2, 3, 4, 5])
    np.testing.assert_array_equal(from_compact(c.tobytes(), 2, 1, 1, total_bits=40), words)
    # a 5-bit leaf of 8 values is also 40 bits: compare with the reference stream
    words = np.zeros(2, dtype=np.uint32)
    vals = [31, 0, 17, 5, 9, 30, 1, 22]
    pack_leaf(words, np.array(vals, dtype=np.uint8), 0, 5)
    stream = ref_pack([(vals, 0, 5)], 40)
    assert to_compact(words, 1, 1).tobytes() == stream.to_bytes(5, "little")


def test_tail_of_two_bytes_48_bits() -> None:
    lay = compact_layout(48)
    assert (lay.n_words, lay.words_len, lay.tail_bytes, lay.n_bytes) == (2, 1, 2, 6)
    words = np.zeros(2, dtype=np.uint32)
    pack_leaf(words, np.array([0x0102, 0x0304, 0x0506], dtype=np.uint16), 0, 16)
    c = to_compact(words, lay.words_len, lay.tail_bytes)
    assert c.tobytes() == bytes([2, 1, 4, 3, 6, 5])
    np.testing.assert_array_equal(from_compact(c.tobytes(), 2, 1, 2), words)


def test_compact_layout_rules() -> None:
    # rem_bytes 3 or 4 -> no tail, whole last word kept
    assert compact_layout(56)[1:] == (2, 2, 0, 8)
    assert compact_layout(64)[1:] == (2, 2, 0, 8)
    assert compact_layout(33)[1:] == (2, 1, 1, 5)
    assert compact_layout(32)[1:] == (1, 1, 0, 4)
    assert compact_layout(8)[1:] == (1, 0, 1, 1)
    assert compact_layout(0)[1:] == (0, 0, 0, 0)
    assert n_words(1049) == 33


def test_from_compact_rejects() -> None:
    with pytest.raises(DecodeError, match="5 bytes per sample, expected 6"):
        from_compact(b"\0" * 5, 2, 1, 2)
    with pytest.raises(DecodeError, match="nonzero padding"):
        from_compact(bytes([1, 2, 3, 4, 0x80]), 2, 1, 1, total_bits=39)
    with pytest.raises(DecodeError, match="nonzero padding"):
        unpack_bytes(bytes([0xFF]), 3, 2, "u8")  # 6 bits used, top 2 must be zero
    with pytest.raises(DecodeError):
        unpack_bytes(b"\0\0", 3, 2, "u8")  # 2 bytes for a 1-byte stream


def test_overflow_is_an_error_naming_value_and_index() -> None:
    words = np.zeros((2, 3), dtype=np.uint32)
    vals = np.zeros((2, 2, 3), dtype=np.uint16)
    vals[1, 1, 2] = 4096
    with pytest.raises(BitsOverflowError) as e:
        pack_leaf(words, vals, 0, 12, path="AggState.codes")
    msg = str(e.value)
    assert msg == (
        "AggState.codes: value 4096 at index [1, 2] of row 1 does not fit in 12 bits (0..=4095)"
    )
    assert not words.any()  # nothing written
    with pytest.raises(BitsOverflowError, match=r"value 8 at index \[1\] does not fit in 4 bits"):
        check_fits(np.array([0, 8], dtype=np.int8), 4, rows=False)
    with pytest.raises(BitsOverflowError, match=r"value -9 .* \(-8\.\.=7\)"):
        pack_leaf(np.zeros(1, np.uint32), np.array([-9], dtype=np.int16), 0, 4)
    with pytest.raises(BitsOverflowError):
        pack_bytes(np.array([8], dtype=np.uint8), 3)
    # full-width values always fit
    pack_leaf(np.zeros(1, np.uint32), np.array([255], dtype=np.uint8), 0, 8)


def test_pack_ors_and_leaves_neighbours_alone() -> None:
    words = np.full(2, 0, dtype=np.uint32)
    pack_leaf(words, np.array([1], dtype=np.uint8), 0, 1)
    pack_leaf(words, np.array([3, 3], dtype=np.uint8), 30, 2)
    pack_leaf(words, np.array([1], dtype=np.uint8), 63, 1)
    assert words.tolist() == [0xC000_0001, 0x8000_0003]
    assert unpack_leaf(words, 30, 2, 2, "u8").tolist() == [3, 3]


def test_range_errors() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        pack_leaf(np.zeros(1, np.uint32), np.zeros(11, np.uint8), 0, 3)
    with pytest.raises(ValueError):
        unpack_leaf(np.zeros(1, np.uint32), 30, 3, 1, "u8")
    with pytest.raises(ValueError):
        pack_leaf(np.zeros(1, np.uint32), np.zeros(1, np.uint8), 0, 33)
    with pytest.raises(TypeError):
        pack_leaf(np.zeros(1, np.uint32), np.zeros(1, np.float32), 0, 3)


# ------------------------------------------------------------------ against the reference


@pytest.mark.parametrize("seed", range(30))
def test_random_layouts_match_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_leaves = int(rng.integers(1, 6))
    leaves = []
    offset = 0
    for _ in range(n_leaves):
        bits = int(rng.integers(1, 33))
        count = int(rng.integers(0, 40))
        signed = bool(rng.integers(0, 2))
        if signed:
            dt = np.int64 if bits > 16 else np.int32
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1))
        else:
            dt = np.uint64 if bits > 16 else np.uint32
            lo, hi = 0, 1 << bits
        leaves.append((offset, bits, count, dt, lo, hi))
        offset += bits * count
    total = offset
    lay = compact_layout(total)
    n_rows = 5
    words = np.zeros((n_rows, lay.n_words), dtype=np.uint32)
    rows_vals = []
    for off, bits, count, dt, lo, hi in leaves:
        v = rng.integers(lo, hi, size=(n_rows, count), dtype=np.int64).astype(dt)
        rows_vals.append(v)
        pack_leaf(words, v, off, bits)
    for r in range(n_rows):
        spec = [
            ([int(x) for x in rows_vals[i][r]], leaves[i][0], leaves[i][1]) for i in range(n_leaves)
        ]
        stream = ref_pack(spec, total)
        assert words[r].tolist() == stream_words(stream, lay.n_words)
        compact = to_compact(words[r], lay.words_len, lay.tail_bytes).tobytes()
        assert compact == stream.to_bytes(lay.n_words * 4, "little")[: lay.n_bytes]
    back = from_compact(
        to_compact(words, lay.words_len, lay.tail_bytes),
        lay.n_words,
        lay.words_len,
        lay.tail_bytes,
        total_bits=total,
    )
    np.testing.assert_array_equal(back, words)
    for i, (off, bits, count, dt, _, _) in enumerate(leaves):
        np.testing.assert_array_equal(unpack_leaf(words, off, bits, count, dt), rows_vals[i])


@pytest.mark.parametrize("bits", [1, 3, 7, 8, 13, 24, 31, 32])
def test_pack_bytes_matches_reference(bits: int) -> None:
    rng = np.random.default_rng(bits)
    for count in (0, 1, 5, 8, 11, 33):
        v = rng.integers(0, 1 << bits, size=count, dtype=np.uint64).astype(np.uint32)
        b = pack_bytes(v, bits)
        assert len(b) == (count * bits + 7) // 8
        stream = ref_pack([([int(x) for x in v], 0, bits)], count * bits)
        assert b == stream.to_bytes(len(b), "little")
        np.testing.assert_array_equal(unpack_bytes(b, bits, count, np.uint32), v)

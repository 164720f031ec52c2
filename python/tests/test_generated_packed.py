"""Generated ``<Name>Packed`` classes (aggregate bitstreams) and per-field ``@packed`` leaves,
against xtructure's golden words and against the batch columns."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import Generated, case, load_vectors

from schemac_runtime.errors import BitsOverflowError, DecodeError

XT = load_vectors("xtructure")


def pattern(shape: tuple[int, ...], bits: int, dtype: Any) -> np.ndarray[Any, Any]:
    """xtructure's pattern: value at flat C-order index i is i % 2**bits (bool: i is odd)."""
    i = np.arange(math.prod(shape))
    if dtype is np.bool_:
        return (i % 2 == 1).reshape(shape)
    return (i % (1 << bits)).astype(dtype).reshape(shape)


def words_hex(words: np.ndarray[Any, Any]) -> list[str]:
    return [f"{int(w):08x}" for w in words]


def packed_classes(mod: Any) -> list[Any]:
    return [
        v
        for k, v in vars(mod).items()
        if k.endswith("Packed") and isinstance(v, type) and hasattr(v, "TOTAL_BITS")
    ]


def test_agg_state_golden_words(gen: Generated) -> None:
    mod = gen["puzzle"]
    c = case(XT, "AggState")
    s = mod.AggState(
        flags=pattern((17,), 1, np.bool_),
        faces=pattern((6, 54), 3, np.uint8),
        codes=pattern((5,), 12, np.uint16),
    )
    packed_cls = mod.AggStatePacked
    assert (
        packed_cls.TOTAL_BITS,
        packed_cls.WORDS,
        packed_cls.WORDS_LEN,
        packed_cls.TAIL_BYTES,
    ) == (1049, 33, 33, 0)
    assert {leaf.path: leaf.bit_offset for leaf in packed_cls.LEAVES} == c["bit_offsets"]
    words = packed_cls.pack(mod.AggStateBatch.from_samples([s, s, s]))
    assert words.shape == (3, 33) and words.dtype == np.uint32
    for row in words:
        assert words_hex(row) == c["words_u32_hex"]
    assert packed_cls.unpack(words).to_samples() == [s, s, s]
    p = packed_cls(words)
    assert p.row_bytes(1) == bytes.fromhex(
        "".join(int(w, 16).to_bytes(4, "little").hex() for w in c["words_u32_hex"])
    )


def test_agg5_golden_words(gen: Generated) -> None:
    mod = gen["puzzle"]
    c = case(XT, "Agg5")
    s = mod.Agg5(v=pattern((10,), 5, np.uint8))
    words = mod.Agg5Packed.pack(mod.Agg5Batch.from_samples([s]))
    assert words_hex(words[0]) == c["words_u32_hex"]
    assert 4 * c["words_len"] + c["tail_bytes"] == mod.Agg5Packed.COMPACT_BYTES


def test_puzzle_state_per_field_golden(gen: Generated) -> None:
    mod = gen["puzzle"]
    c = case(XT, "PuzzleState (per-field packed)")
    faces = pattern((6, 54), 3, np.uint8)
    s = mod.PuzzleState.default()
    s.set_faces_unpacked(faces)
    assert len(s.faces) == 122
    assert s.faces.hex() == c["packed_hex"][: 2 * 122]
    np.testing.assert_array_equal(s.faces_unpacked(), faces)
    # the batch column holds the unpacked values
    b = mod.PuzzleStateBatch.from_samples([s])
    np.testing.assert_array_equal(b.faces[0], faces)
    assert b[0] == s


@pytest.mark.parametrize("stem", ["puzzle", "everything"])
def test_pack_unpack_every_aggregate(gen: Generated, stem: str) -> None:
    mod = gen[stem]
    classes = packed_classes(mod)
    assert classes
    for packed_cls in classes:
        batch_cls = packed_cls.BATCH
        batch = batch_cls.random(64, rng=1)
        words = packed_cls.pack(batch)
        assert words.shape == (64, packed_cls.WORDS)
        back = packed_cls.unpack(words)
        assert back.to_samples() == batch.to_samples(), packed_cls.__name__
        # unpack_field equals the column, and any slice of it
        for leaf in packed_cls.LEAVES:
            col = batch.columns[leaf.path].values
            got = packed_cls.unpack_field(words, leaf.path)
            assert got.dtype == col.dtype and got.shape == col.shape
            np.testing.assert_array_equal(got, col)
            if leaf.shape:
                idx = tuple(slice(1, None, 2) for _ in leaf.shape)
                np.testing.assert_array_equal(
                    packed_cls.unpack_field(words, leaf.path, idx), col[(slice(None), *idx)]
                )
                np.testing.assert_array_equal(
                    packed_cls.unpack_field(words, leaf.path, (0,) * len(leaf.shape)),
                    col[(slice(None), *((0,) * len(leaf.shape)))],
                )
        # compact bytes, back to back
        p = packed_cls.from_batch(batch)
        data = p.to_bytes()
        assert len(data) == 64 * packed_cls.COMPACT_BYTES
        assert p.row_bytes(5) == data[5 * packed_cls.COMPACT_BYTES : 6 * packed_cls.COMPACT_BYTES]
        q = packed_cls.from_bytes(data)
        np.testing.assert_array_equal(q.words, words)
        assert q.to_batch().to_samples() == batch.to_samples()
        assert packed_cls.from_bytes(p.compact()).words.tolist() == words.tolist()


def test_compact_forms_with_tails(gen: Generated) -> None:
    mod = gen["puzzle"]
    packed_cls = mod.TileStatePacked  # 40 bits: one word + one tail byte
    assert (
        packed_cls.TOTAL_BITS,
        packed_cls.WORDS,
        packed_cls.WORDS_LEN,
        packed_cls.TAIL_BYTES,
        packed_cls.COMPACT_BYTES,
    ) == (40, 2, 1, 1, 5)
    s = mod.TileState.default()
    s.tiles = np.full((4, 4), 3, dtype=np.uint8)
    s.delta = -1
    s.parity = True
    s.steps = 7
    words = packed_cls.pack(mod.TileStateBatch.from_samples([s]))
    assert words[0, 0] == 0xFFFFFFFF and words[0, 1] == 0xFF
    assert packed_cls(words).to_bytes() == b"\xff" * 5
    assert packed_cls.unpack(words)[0] == s
    with pytest.raises(DecodeError, match="not a whole number"):
        packed_cls.from_bytes(b"\xff" * 6)
    ev_cls = gen["everything"].PackedPacked  # 101 bits: 3 words + 1 tail byte
    assert (ev_cls.WORDS_LEN, ev_cls.TAIL_BYTES, ev_cls.COMPACT_BYTES) == (3, 1, 13)
    with pytest.raises(DecodeError, match="padding"):
        ev_cls.from_bytes(b"\x00" * 12 + b"\xff")


def test_signed_values_sign_extend(gen: Generated) -> None:
    mod = gen["everything"]
    s = mod.Packed.random(0)
    s.neg = np.array([-256, 255], dtype=np.int16)
    words = mod.PackedPacked.pack(mod.PackedBatch.from_samples([s]))
    np.testing.assert_array_equal(mod.PackedPacked.unpack_field(words, "neg")[0], [-256, 255])
    assert mod.PackedPacked.unpack(words)[0] == s


def test_pack_rejects_values_that_do_not_fit(gen: Generated) -> None:
    mod = gen["puzzle"]
    s = mod.AggState.random(0)
    s.codes = np.array([0, 1, 4096, 3, 4], dtype=np.uint16)
    with pytest.raises(BitsOverflowError, match=r"^codes: value 4096 at index \[2\] of row 0"):
        mod.AggStatePacked.pack(mod.AggStateBatch.from_samples([s]))
    with pytest.raises(ValueError, match="words must be"):
        mod.AggStatePacked.unpack(np.zeros((2, 5), dtype=np.uint32))
    with pytest.raises(KeyError):
        mod.AggStatePacked.unpack_field(np.zeros((1, 33), dtype=np.uint32), "nope")


def test_nested_component_aggregate(gen: Generated) -> None:
    mod = gen["everything"]
    board = mod.Board.random(3)
    words = mod.BoardPacked.pack(mod.BoardBatch.from_samples([board]))
    kinds = mod.BoardPacked.unpack_field(words, "cells.kind")[0]
    np.testing.assert_array_equal(kinds.reshape(-1), [c.kind for c in board.cells])
    leaves = {leaf.path: leaf for leaf in mod.BoardPacked.LEAVES}
    # leaves in stream order: cells.kind (9 x 4), cells.alive (9 x 1), turn (1)
    assert [leaves[p].bit_offset for p in ("cells.kind", "cells.alive", "turn")] == [0, 36, 45]
    assert mod.BoardPacked.TOTAL_BITS == 46


def test_packed_100k_rows_is_vectorised(gen: Generated) -> None:
    mod = gen["puzzle"]
    rng = np.random.default_rng(0)
    n = 100_000
    cols = {
        "flags": rng.integers(0, 2, size=(n, 17)).astype(np.bool_),
        "faces": rng.integers(0, 8, size=(n, 6, 54), dtype=np.uint8),
        "codes": rng.integers(0, 4096, size=(n, 5), dtype=np.uint16),
    }
    from schemac_runtime.batch import Column

    batch = mod.AggStateBatch({k: Column(v) for k, v in cols.items()}, n)
    words = mod.AggStatePacked.pack(batch)
    back = mod.AggStatePacked.unpack(words)
    for k, v in cols.items():
        np.testing.assert_array_equal(back.columns[k].values, v)

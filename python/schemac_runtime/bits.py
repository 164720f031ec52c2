"""Vectorised bit packing, following DESIGN §5 exactly.

This module owns the bit layouts of ``<Name>Packed`` (aggregate) and ``@packed`` (per-field):

- One LSB-first bitstream. Value ``k`` of a leaf occupies stream bits
  ``[offset + k*bits, offset + (k+1)*bits)``, low bit first; stream bit ``p`` is bit
  ``p & 31`` of little-endian u32 word ``p >> 5`` (equivalently bit ``p & 7`` of byte ``p >> 3``).
- Values are stored as their low ``bits`` bits (two's complement for signed dtypes);
  decoding into a signed dtype sign-extends, so -1 at 4 bits round-trips. Padding bits are zero.
- A value that does not fit in ``bits`` raises :class:`BitsOverflowError` naming the value and
  its index; nothing is ever silently truncated.
- Aggregate compact form: the first ``4*words_len + tail_bytes`` bytes of the words
  (:func:`compact_layout`, :func:`to_compact`, :func:`from_compact`), the same bytes as
  xtructure's ``words`` + ``tail``.
- Per-field form: the leaf's own stream in ``ceil(n*bits/8)`` bytes (:func:`pack_bytes`,
  :func:`unpack_bytes`, and the batched :func:`pack_bytes_rows`, :func:`unpack_bytes_rows`).

Everything works on a whole batch at once: ``words`` is ``(n_rows, n_words)`` uint32 and
``values`` is ``(n_rows, n_values)`` (or ``(n_rows, *leaf_shape)``); a 1-D ``words`` is one
row. There is no Python loop per value or per row: each value's word index and shift are
computed once per leaf, values are shifted into a 64-bit lane and, because the values of one
leaf occupy disjoint bits, the lanes that land in the same word are *summed* with
``np.add.reduceat`` (a sum of disjoint bit patterns is their OR). Rows are processed in
chunks that keep temporaries around a few MiB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

from .dtypes import DTYPES
from .errors import BitsOverflowError, DecodeError

__all__ = [
    "CompactLayout",
    "check_fits",
    "compact_layout",
    "from_compact",
    "n_words",
    "pack_bytes",
    "pack_bytes_rows",
    "pack_leaf",
    "to_compact",
    "unpack_bytes",
    "unpack_bytes_rows",
    "unpack_leaf",
]

NDArray: TypeAlias = np.ndarray[Any, Any]
U32Array: TypeAlias = npt.NDArray[np.uint32]
U8Array: TypeAlias = npt.NDArray[np.uint8]

# Temporaries per chunk: about this many 64-bit lanes (16 MiB).
_CHUNK_LANES = 1 << 21


class CompactLayout(NamedTuple):
    """Sizes of an aggregate packed layout of ``total_bits`` bits (DESIGN §5)."""

    total_bits: int
    n_words: int
    """``ceil(total_bits / 32)``: length of the in-memory ``u32`` words."""
    words_len: int
    """Whole words in the compact form."""
    tail_bytes: int
    """Extra bytes after them (0, 1 or 2)."""
    n_bytes: int
    """Bytes in the compact form: ``4*words_len + tail_bytes``."""


def n_words(total_bits: int) -> int:
    """``ceil(total_bits / 32)``."""
    return (total_bits + 31) // 32


def compact_layout(total_bits: int) -> CompactLayout:
    """``rem = total_bits % 32``, ``rem_bytes = ceil(rem/8)``, ``tail_bytes = rem_bytes if
    rem_bytes in {1, 2} else 0``, ``words_len = ceil(total_bits/32) - (1 if tail_bytes else 0)``."""
    if total_bits < 0:
        raise ValueError("total_bits must be >= 0")
    nw = n_words(total_bits)
    rem_bytes = ((total_bits % 32) + 7) // 8
    tail = rem_bytes if rem_bytes in (1, 2) else 0
    words_len = nw - (1 if tail else 0)
    return CompactLayout(total_bits, nw, words_len, tail, 4 * words_len + tail)


def _np_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype].numpy
    return np.dtype(dtype)


def _format_index(flat: int, leaf_shape: Sequence[int] | None) -> str:
    if leaf_shape is not None and len(leaf_shape) > 1:
        idx = np.unravel_index(flat, tuple(leaf_shape))
        return "[" + ", ".join(str(int(i)) for i in idx) + "]"
    return f"[{flat}]"


def _value_range(kind: str, bits: int) -> tuple[int, int]:
    if kind == "i":
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    return (0, (1 << bits) - 1)


def check_fits(
    values: NDArray,
    bits: int,
    *,
    path: str = "",
    leaf_shape: Sequence[int] | None = None,
    rows: bool = True,
) -> None:
    """Raise :class:`BitsOverflowError` if any value does not fit in ``bits``.

    Unsigned and bool values must be in ``0..2**bits``; signed values in
    ``-2**(bits-1)..2**(bits-1)`` (two's complement). ``values`` is ``(n_rows, n)`` when
    ``rows`` is true, else one row of any shape. The error names the first offending value,
    its row and its index within the leaf (``leaf_shape`` turns it into a multi-index).
    """
    _check_bits(bits)
    kind = values.dtype.kind
    if kind not in "biu":
        raise TypeError(f"bit packing needs integer or bool values, found {values.dtype}")
    width = 8 * values.dtype.itemsize
    if kind == "b" or bits >= width or values.size == 0:
        return  # always fits: bool (bits >= 1) or a dtype no wider than bits
    lo, hi = _value_range(kind, bits)
    too_big = values.max() > hi
    too_small = kind == "i" and values.min() < lo
    if not (too_big or too_small):
        return
    bad = (values > hi) | (values < lo) if kind == "i" else values > hi
    first = int(np.argmax(bad.reshape(-1)))
    v = int(values.reshape(-1)[first])
    if rows and values.ndim >= 2:
        per_row = values.size // values.shape[0]
        row, k = divmod(first, per_row)
        shape = leaf_shape if leaf_shape is not None else values.shape[1:]
        where = f"at index {_format_index(k, shape)} of row {row}"
    else:
        shape = leaf_shape if leaf_shape is not None else values.shape
        where = f"at index {_format_index(first, shape)}"
    raise BitsOverflowError(path, f"value {v} {where} does not fit in {bits} bits ({lo}..={hi})")


def _check_bits(bits: int) -> None:
    if not 1 <= bits <= 32:
        raise ValueError(f"bits must be in 1..=32, got {bits}")


def _as_rows(words: NDArray, values: NDArray) -> tuple[NDArray, NDArray, tuple[int, ...]]:
    """(words 2-D, values 2-D, leaf shape)."""
    if words.ndim == 1:
        return words.reshape(1, -1), values.reshape(1, -1), tuple(values.shape)
    if words.ndim != 2:
        raise ValueError(f"words must be 1-D or 2-D, got shape {words.shape}")
    if values.ndim < 2 or values.shape[0] != words.shape[0]:
        raise ValueError(
            f"values shape {values.shape} does not match words shape {words.shape} "
            "(need (n_rows, ...))"
        )
    return words, values.reshape(values.shape[0], -1), tuple(values.shape[1:])


def _positions(bit_offset: int, bits: int, count: int) -> tuple[NDArray, NDArray]:
    p = bit_offset + np.arange(count, dtype=np.int64) * bits
    return p >> 5, (p & 31).astype(np.uint64)


def pack_leaf(
    words: U32Array,
    values: npt.ArrayLike,
    bit_offset: int,
    bits: int,
    *,
    path: str = "",
    check: bool = True,
) -> None:
    """OR the low ``bits`` bits of every value into ``words``, in place, for a whole batch.

    ``words``: ``(n_rows, n_words)`` uint32 (or ``(n_words,)`` for one row), C-contiguous
    and writable. ``values``: ``(n_rows, n_values)`` or ``(n_rows, *leaf_shape)`` integer or
    bool array (one row: any shape), flattened in C order. Values that do not fit raise
    :class:`BitsOverflowError` (``check=False`` skips the check when the caller has
    already validated; the low bits are still masked so other leaves are never touched).
    """
    _check_bits(bits)
    vals = np.asarray(values)
    if vals.dtype.kind not in "biu":
        raise TypeError(
            f"{path or 'values'}: bit packing needs integers or bools, found {vals.dtype}"
        )
    if words.dtype != np.uint32:
        raise TypeError(f"words must be uint32, found {words.dtype}")
    w2, v2, leaf_shape = _as_rows(words, vals)
    n_rows, count = v2.shape
    if count == 0 or n_rows == 0:
        return
    end = bit_offset + count * bits
    if bit_offset < 0 or end > 32 * w2.shape[1]:
        raise ValueError(
            f"{path or 'leaf'}: bits [{bit_offset}, {end}) do not fit in {w2.shape[1]} words"
        )
    if check:
        check_fits(v2, bits, path=path, leaf_shape=leaf_shape)
    signed = vals.dtype.kind == "i"
    mask = np.uint64((1 << bits) - 1)

    word_idx, shift = _positions(bit_offset, bits, count)
    first_word = int(word_idx[0])
    last_word = int(word_idx[-1])
    # bits <= 32, so every word from first_word to last_word holds at least one value start.
    starts = np.flatnonzero(np.diff(word_idx, prepend=first_word - 1))
    n_seg = last_word - first_word + 1
    has_hi = last_word + 1 < w2.shape[1]
    chunk = max(1, _CHUNK_LANES // count)
    for r0 in range(0, n_rows, chunk):
        r1 = min(n_rows, r0 + chunk)
        lanes = v2[r0:r1].astype(np.uint64, order="C")
        if signed or not check:
            lanes &= mask
        lanes <<= shift
        halves = lanes.view(np.uint32).reshape(r1 - r0, count, 2)
        lo_sum = np.add.reduceat(halves[:, :, 0 if _LE else 1], starts, axis=1, dtype=np.uint32)
        hi_sum = np.add.reduceat(halves[:, :, 1 if _LE else 0], starts, axis=1, dtype=np.uint32)
        w2[r0:r1, first_word : last_word + 1] |= lo_sum
        if has_hi:
            w2[r0:r1, first_word + 1 : last_word + 2] |= hi_sum
        elif n_seg > 1:
            w2[r0:r1, first_word + 1 : last_word + 1] |= hi_sum[:, :-1]


_LE = bool(np.little_endian)


def unpack_leaf(
    words: U32Array,
    bit_offset: int,
    bits: int,
    count: int,
    dtype: npt.DTypeLike,
) -> NDArray:
    """Decode ``count`` values of ``bits`` bits starting at ``bit_offset``.

    Returns ``(n_rows, count)`` of ``dtype`` (a schema name like ``"i8"`` or a numpy dtype),
    or ``(count,)`` for a 1-D ``words``. Signed dtypes are sign-extended from ``bits``; bool
    is ``value != 0``.
    """
    _check_bits(bits)
    dt = _np_dtype(dtype)
    if dt.kind not in "biu":
        raise TypeError(f"bit unpacking needs an integer or bool dtype, found {dt}")
    one_row = words.ndim == 1
    w2 = words.reshape(1, -1) if one_row else words
    n_rows, nw = w2.shape
    end = bit_offset + count * bits
    if bit_offset < 0 or end > 32 * nw:
        raise ValueError(f"bits [{bit_offset}, {end}) do not fit in {nw} words")
    out = np.empty((n_rows, count), dtype=dt)
    if count == 0 or n_rows == 0:
        return out[0] if one_row else out
    word_idx, shift = _positions(bit_offset, bits, count)
    # Values that straddle two words; the range check above guarantees word_idx + 1 < nw.
    cross = np.flatnonzero((shift + np.uint64(bits)) > 32)
    cross_hi = word_idx[cross] + 1
    mask = np.uint64((1 << bits) - 1)
    sign = 1 << (bits - 1)
    chunk = max(1, _CHUNK_LANES // count)
    for r0 in range(0, n_rows, chunk):
        r1 = min(n_rows, r0 + chunk)
        rows = w2[r0:r1]
        lanes = rows[:, word_idx].astype(np.uint64)
        if cross.size:
            lanes[:, cross] |= rows[:, cross_hi].astype(np.uint64) << np.uint64(32)
        lanes >>= shift
        lanes &= mask
        if dt.kind == "i":
            signed = lanes.view(np.int64)
            signed ^= sign
            signed -= sign
            out[r0:r1] = signed
        elif dt.kind == "b":
            out[r0:r1] = lanes != 0
        else:
            out[r0:r1] = lanes
    return out[0] if one_row else out


def to_compact(words: U32Array, words_len: int, tail_bytes: int) -> U8Array:
    """The compact byte form of each row: the first ``4*words_len + tail_bytes`` bytes of the
    little-endian words. Returns ``(n_rows, n_bytes)`` uint8 (``(n_bytes,)`` for 1-D words);
    ``row.tobytes()`` is one sample's bytes."""
    n_bytes = 4 * words_len + tail_bytes
    if words.shape[-1] * 4 < n_bytes:
        raise ValueError(f"{words.shape[-1]} words hold fewer than {n_bytes} bytes")
    le = words.astype("<u4", copy=False)
    as_bytes = np.ascontiguousarray(le).view(np.uint8)
    return np.ascontiguousarray(as_bytes[..., :n_bytes])


def from_compact(
    data: bytes | bytearray | memoryview | U8Array,
    n_words: int,
    words_len: int,
    tail_bytes: int,
    *,
    total_bits: int | None = None,
    path: str = "",
) -> U32Array:
    """Words from the compact form: ``data`` is one sample's bytes (-> ``(n_words,)``) or a
    ``(n_rows, n_bytes)`` uint8 array (-> ``(n_rows, n_words)``).

    The length must be exactly ``4*words_len + tail_bytes`` (:class:`DecodeError`
    otherwise). With ``total_bits``, padding bits past it must be zero.
    """
    n_bytes = 4 * words_len + tail_bytes
    words, one_row = _bytes_to_words(
        data, n_bytes, n_words, total_bits, path, f"({words_len} words + {tail_bytes} tail bytes)"
    )
    return words[0] if one_row else words


def _bytes_to_words(
    data: bytes | bytearray | memoryview | U8Array,
    n_bytes: int,
    nw: int,
    total_bits: int | None,
    path: str,
    what: str,
) -> tuple[U32Array, bool]:
    if isinstance(data, np.ndarray):
        arr = data
        if arr.dtype != np.uint8:
            raise TypeError(f"packed data must be uint8, found {arr.dtype}")
    else:
        arr = np.frombuffer(data, dtype=np.uint8)
    one_row = arr.ndim == 1
    a2 = arr.reshape(1, -1) if one_row else arr
    if a2.ndim != 2 or a2.shape[1] != n_bytes:
        raise DecodeError(
            path,
            f"packed data is {a2.shape[-1]} bytes per sample, expected {n_bytes} {what}",
            kind="bad_padding",
        )
    buf = np.zeros((a2.shape[0], nw * 4), dtype=np.uint8)
    buf[:, :n_bytes] = a2
    words: U32Array = buf.view("<u4").astype(np.uint32, copy=False)
    if total_bits is not None:
        _check_padding(words, total_bits, path)
    return words, one_row


def _check_padding(words: U32Array, total_bits: int, path: str) -> None:
    nw = words.shape[-1]
    full = total_bits // 32
    rem = total_bits % 32
    bad = False
    if rem and full < nw:
        bad = bool(np.any(words[:, full] >> np.uint32(rem)))
        full += 1
    if full < nw:
        bad = bad or bool(np.any(words[:, full:]))
    if bad:
        raise DecodeError(path, f"nonzero padding bits after bit {total_bits}", kind="bad_padding")


def pack_bytes(values: npt.ArrayLike, bits: int, *, path: str = "") -> bytes:
    """One leaf's own stream (per-field ``@packed``): ``ceil(n*bits/8)`` bytes, values
    flattened in C order."""
    vals = np.asarray(values)
    row = vals.reshape(1, *vals.shape) if vals.ndim else vals.reshape(1, 1)
    return pack_bytes_rows(row, bits, path=path).tobytes()  # one row: its bytes


def pack_bytes_rows(values: npt.ArrayLike, bits: int, *, path: str = "") -> U8Array:
    """:func:`pack_bytes` for a batch: ``(n_rows, ...)`` values -> ``(n_rows, n_bytes)`` uint8."""
    vals = np.asarray(values)
    n_rows = vals.shape[0]
    count = vals.size // n_rows if n_rows else math.prod(vals.shape[1:])
    n_bytes = (count * bits + 7) // 8
    words = np.zeros((n_rows, n_words(count * bits)), dtype=np.uint32)
    pack_leaf(words, vals, 0, bits, path=path)
    return np.ascontiguousarray(words.astype("<u4", copy=False).view(np.uint8)[:, :n_bytes])


def unpack_bytes(
    data: bytes | bytearray | memoryview | U8Array,
    bits: int,
    count: int,
    dtype: npt.DTypeLike,
    *,
    path: str = "",
) -> NDArray:
    """Decode a per-field stream of exactly ``ceil(count*bits/8)`` bytes into ``(count,)``
    values (reshape to the leaf's shape yourself). Padding bits must be zero."""
    arr = data if isinstance(data, np.ndarray) else np.frombuffer(data, dtype=np.uint8)
    return unpack_bytes_rows(arr.reshape(1, -1), bits, count, dtype, path=path).reshape(count)


def unpack_bytes_rows(
    data: U8Array,
    bits: int,
    count: int,
    dtype: npt.DTypeLike,
    *,
    path: str = "",
) -> NDArray:
    """:func:`unpack_bytes` for a batch: ``(n_rows, n_bytes)`` uint8 -> ``(n_rows, count)``."""
    _check_bits(bits)
    total = count * bits
    n_bytes = (total + 7) // 8
    words, _ = _bytes_to_words(
        data, n_bytes, n_words(total), total, path, f"({count} values x {bits} bits)"
    )
    return unpack_leaf(words, 0, bits, count, dtype)

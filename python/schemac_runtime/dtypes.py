"""The 13 schemac element dtypes and their numpy, typestr and name spellings.

This module owns the one table that maps a schema dtype (``bool i8 i16 i32 i64 u8 u16 u32
u64 f16 bf16 f32 f64``) to:

- its in-memory numpy dtype (always little-endian),
- its wire typestr (``|b1 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 <f2 <f4 <f8``, bf16 ``<V2``), used
  by the msgpack array payload and by msgpack-numpy,
- its numpy name (``bool int8 ... float32 float64``, bf16 ``bfloat16``), used by the JSON form.

It mirrors ``crates/runtime/src/dtype.rs``.

**bf16.** numpy has no bfloat16 type of its own, so schemac holds bf16 data in memory as
its raw bit patterns in a little-endian ``uint16`` array (``np.dtype('<u2')``): the high 16
bits of the float32 with the same value. That keeps bf16 arrays ordinary numpy arrays
(copyable, sliceable, bit-packable, zero-copy from the wire) without requiring ``ml_dtypes``.
On the wire it is written with typestr ``<V2`` and numpy name ``bfloat16``; readers accept
``<V2``/``|V2`` payloads and also arrays whose numpy dtype is named ``bfloat16`` (``ml_dtypes``)
and view them as ``<u2``. :func:`bf16_to_f32` and :func:`f32_to_bf16` convert values.
Because a ``uint16`` array cannot tell u16 from bf16 by itself, functions that write arrays
take the schema dtype explicitly wherever bf16 is possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "DTYPES",
    "DTYPE_NAMES",
    "DTypeInfo",
    "DTypeLike",
    "bf16_to_f32",
    "dtype_info",
    "f32_to_bf16",
    "from_numpy_dtype",
    "from_typestr",
    "numpy_dtype",
    "numpy_name",
    "typestr",
]

Kind = Literal["bool", "int", "uint", "float"]


@dataclass(frozen=True)
class DTypeInfo:
    """Everything about one schema dtype."""

    name: str
    """Schema spelling: ``"f32"``."""
    typestr: str
    """Wire typestr: ``"<f4"`` (bf16: ``"<V2"``)."""
    numpy_name: str
    """numpy's name: ``"float32"`` (bf16: ``"bfloat16"``)."""
    numpy: np.dtype[Any]
    """In-memory numpy dtype, little-endian (bf16: ``<u2`` raw bits)."""
    itemsize: int
    kind: Kind
    max_bits: int | None
    """Widest ``@bits``: 1 for bool, the width for integers (capped at 32), None for floats."""

    @property
    def is_int(self) -> bool:
        return self.kind in ("int", "uint")

    @property
    def is_signed(self) -> bool:
        return self.kind == "int"

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def int_range(self) -> tuple[int, int]:
        """Inclusive (lo, hi) of an integer or bool dtype."""
        width = 8 * self.itemsize
        if self.kind == "bool":
            return (0, 1)
        if self.kind == "int":
            return (-(1 << (width - 1)), (1 << (width - 1)) - 1)
        if self.kind == "uint":
            return (0, (1 << width) - 1)
        raise TypeError(f"{self.name} is not an integer dtype")

    def __str__(self) -> str:
        return self.name


def _info(name: str, ts: str, np_name: str, mem: str, kind: Kind) -> DTypeInfo:
    dt = np.dtype(mem)
    size = dt.itemsize
    max_bits: int | None
    if kind == "bool":
        max_bits = 1
    elif kind == "float":
        max_bits = None
    else:
        max_bits = min(8 * size, 32)
    return DTypeInfo(name, ts, np_name, dt, size, kind, max_bits)


DTYPES: Mapping[str, DTypeInfo] = {
    d.name: d
    for d in (
        _info("bool", "|b1", "bool", "|b1", "bool"),
        _info("i8", "|i1", "int8", "|i1", "int"),
        _info("i16", "<i2", "int16", "<i2", "int"),
        _info("i32", "<i4", "int32", "<i4", "int"),
        _info("i64", "<i8", "int64", "<i8", "int"),
        _info("u8", "|u1", "uint8", "|u1", "uint"),
        _info("u16", "<u2", "uint16", "<u2", "uint"),
        _info("u32", "<u4", "uint32", "<u4", "uint"),
        _info("u64", "<u8", "uint64", "<u8", "uint"),
        _info("f16", "<f2", "float16", "<f2", "float"),
        _info("bf16", "<V2", "bfloat16", "<u2", "float"),
        _info("f32", "<f4", "float32", "<f4", "float"),
        _info("f64", "<f8", "float64", "<f8", "float"),
    )
}
"""The 13 dtypes by schema name, in the order of ``Dtype::ALL`` in the Rust runtime."""

DTYPE_NAMES: tuple[str, ...] = tuple(DTYPES)

DTypeLike = str | DTypeInfo
"""A schema dtype given by its schema name (``"f32"``), numpy name (``"float32"``),
typestr (``"<f4"``) or :class:`DTypeInfo`."""

_BY_NUMPY_NAME: dict[str, DTypeInfo] = {d.numpy_name: d for d in DTYPES.values()}
_BY_TYPESTR: dict[str, DTypeInfo] = {d.typestr: d for d in DTYPES.values()}
_BY_TYPESTR["|V2"] = DTYPES["bf16"]


def dtype_info(spec: DTypeLike) -> DTypeInfo:
    """Look a dtype up by schema name, numpy name or (little-endian) typestr.

    Raises ``ValueError`` for anything else.
    """
    if isinstance(spec, DTypeInfo):
        return spec
    found = DTYPES.get(spec) or _BY_NUMPY_NAME.get(spec) or _BY_TYPESTR.get(spec)
    if found is None:
        raise ValueError(f"unknown dtype {spec!r}")
    return found


def numpy_dtype(spec: DTypeLike) -> np.dtype[Any]:
    """The in-memory numpy dtype (bf16: ``<u2``)."""
    return dtype_info(spec).numpy


def typestr(spec: DTypeLike) -> str:
    """The wire typestr (bf16: ``<V2``)."""
    return dtype_info(spec).typestr


def numpy_name(spec: DTypeLike) -> str:
    """numpy's name (bf16: ``bfloat16``)."""
    return dtype_info(spec).numpy_name


def from_typestr(ts: str) -> tuple[DTypeInfo, bool] | None:
    """Parse a typestr read from the wire.

    Returns ``(dtype, byteswapped)``; ``byteswapped`` is always False now that only the
    canonical little-endian spellings are accepted (kept for callers). ``None`` if the
    typestr is not one of the 13 canonical ones; ``<V2`` and ``|V2`` are bf16.
    """
    # Only the spellings numpy writes: `>f4`, `=f4` and bare `f4` are refused, as in the
    # Rust runtime (docs/language.md, "Rejections both runtimes agree on").
    exact = _BY_TYPESTR.get(ts)
    return None if exact is None else (exact, False)


def from_numpy_dtype(dt: npt.DTypeLike) -> DTypeInfo | None:
    """The schema dtype of a numpy dtype, ignoring byte order.

    ``uint16`` maps to u16; a ``V2`` void dtype or a dtype named ``bfloat16`` (ml_dtypes) to
    bf16. Returns ``None`` for anything else (objects, strings, complex, structured).
    """
    d = np.dtype(dt)
    if d.name == "bfloat16" or (d.kind == "V" and d.itemsize == 2 and d.fields is None):
        return DTYPES["bf16"]
    if d.kind not in "biuf":
        return None
    kind: Kind = {"b": "bool", "i": "int", "u": "uint", "f": "float"}[d.kind]  # type: ignore[assignment]
    for info in DTYPES.values():
        if info.kind == kind and info.itemsize == d.itemsize and info.name != "bf16":
            return info
    return None


def bf16_to_f32(raw: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Widen bf16 raw bits (``uint16``) to float32 exactly."""
    a = np.asarray(raw)
    if a.dtype.name == "bfloat16" or a.dtype.kind == "V":
        a = a.view("<u2")
    bits = a.astype(np.uint32) << np.uint32(16)
    out: npt.NDArray[np.float32] = bits.view(np.float32)
    return out


def f32_to_bf16(values: npt.ArrayLike) -> npt.NDArray[np.uint16]:
    """Round float values to bf16 (round to nearest, ties to even) and return the raw bits.

    NaNs stay NaN (quiet), infinities stay infinite.
    """
    f = np.asarray(values, dtype=np.float32)
    bits = f.view(np.uint32)
    rounding = np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    rounded = ((bits + rounding) >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(f)
    if np.any(nan):
        quiet = ((bits >> np.uint32(16)) | np.uint32(0x0040)).astype(np.uint16)
        rounded = np.where(nan, quiet, rounded)
    out: npt.NDArray[np.uint16] = rounded.astype("<u2")
    return out

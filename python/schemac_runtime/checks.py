"""Validation of values against a schema: array dtypes, shapes, named dims, scalar ranges.

Generated ``validate()`` methods and decoders call these with the field path, so that every
error names the field (``ImageSample.mask: expected dtype <u1, found <f4``).

A *shape spec* is a sequence with one entry per dim:

- ``int``: a fixed size,
- ``str``: a named dim; every field of one sample that uses the name must agree, which is
  tracked in a ``dims`` mapping shared by the checks of one sample (use :class:`Dims` for
  error messages that name the field that set it first; a plain ``dict`` works too),
- ``None``: any size (``_`` in the schema).
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .dtypes import DTypeLike, bf16_to_f32, dtype_info, from_numpy_dtype
from .errors import SchemaError

__all__ = [
    "DecodeDims",
    "Dims",
    "ShapeSpec",
    "check_array",
    "check_bool_bytes",
    "check_dtype",
    "check_int",
    "check_range",
    "check_shape",
    "format_shape_spec",
    "type_name",
]

ShapeSpec = Sequence[int | str | None]


class Dims(dict[str, int]):
    """Named-dim sizes seen so far in one sample, remembering which field set each one."""

    def __init__(self, *args: Any, **kwargs: int) -> None:
        super().__init__(*args, **kwargs)
        self.sources: dict[str, str] = {}

    def fresh(self) -> Dims:
        """Dims for a value with its own named dims (a list or map item), in the same pass
        (decoding or checking)."""
        return type(self)()


class DecodeDims(Dims):
    """The decoding pass of a sample (docs/language.md, "Error precedence"): per-field
    faults are reported in wire order as values are read, while named dims, ``@range`` and
    ``@bits`` are left to the validation pass that follows, in declaration order. Named
    dims are therefore never bound here."""

    def get(self, key: str, default: Any = None) -> Any:
        return default

    def __setitem__(self, key: str, value: int) -> None:
        pass


def format_shape_spec(spec: ShapeSpec) -> str:
    """``[224, H, _]``."""
    return "[" + ", ".join("_" if d is None else str(d) for d in spec) + "]"


def _format_shape(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def type_name(v: object) -> str:
    """A short name for the type of a decoded value, used in 'expected X, found Y' messages."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, bytes | bytearray | memoryview):
        return "bytes"
    if isinstance(v, list | tuple):
        return "array"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, np.ndarray):
        return f"numpy array of {v.dtype.str}"
    return type(v).__name__


def check_shape(
    path: str,
    shape: Sequence[int],
    spec: ShapeSpec,
    dims: MutableMapping[str, int] | None = None,
) -> None:
    """Check ``shape`` against ``spec``; record named dims in ``dims`` (first use sets them)."""
    if len(shape) != len(spec):
        raise SchemaError(
            path,
            f"expected {len(spec)}-d shape {format_shape_spec(spec)}, "
            f"found {len(shape)}-d shape {_format_shape(shape)}",
            kind="shape_mismatch",
        )
    for axis, (n, want) in enumerate(zip(shape, spec, strict=True)):
        if want is None:
            continue
        if isinstance(want, int):
            if n != want:
                raise SchemaError(
                    path,
                    f"expected shape {format_shape_spec(spec)}, found {_format_shape(shape)} "
                    f"(axis {axis} is {n}, not {want})",
                    kind="shape_mismatch",
                )
            continue
        if dims is None:
            continue
        prev = dims.get(want)
        if prev is None:
            dims[want] = int(n)
            if isinstance(dims, Dims):
                dims.sources[want] = path
        elif prev != n:
            where = dims.sources.get(want) if isinstance(dims, Dims) else None
            other = (
                f"{where} has {want} = {prev}"
                if where
                else f"{want} = {prev} elsewhere in the sample"
            )
            raise SchemaError(
                path,
                f"named dim {want} is {n} here (axis {axis} of shape {_format_shape(shape)}) "
                f"but {other}",
                kind="dim_mismatch",
            )


def check_dtype(path: str, arr: np.ndarray[Any, Any], dtype: DTypeLike) -> np.ndarray[Any, Any]:
    """Check an array's dtype and return it in the canonical in-memory dtype.

    Big-endian arrays of the right kind are converted to little-endian (a copy); bf16 fields
    accept ``uint16`` raw bits (the in-memory form), ``V2`` and ``ml_dtypes.bfloat16`` arrays
    (viewed as ``<u2``, no copy).
    """
    want = dtype_info(dtype)
    found = from_numpy_dtype(arr.dtype)
    if want.name == "bf16" and found is not None and found.name in ("bf16", "u16"):
        if arr.dtype == want.numpy:
            return arr
        if found.name == "u16":
            return arr.astype(want.numpy)
        return arr.view(want.numpy) if arr.dtype.itemsize == 2 else arr
    if found is None or found.name != want.name:
        raise SchemaError(
            path, f"expected dtype {want.typestr}, found {arr.dtype.str}", kind="dtype_mismatch"
        )
    if arr.dtype != want.numpy:
        return arr.astype(want.numpy)
    return arr


def check_array(
    path: str,
    arr: object,
    dtype: DTypeLike,
    shape_spec: ShapeSpec | None = None,
    dims: MutableMapping[str, int] | None = None,
) -> np.ndarray[Any, Any]:
    """Validate an array value of a field: a numpy array of ``dtype`` matching ``shape_spec``.

    Named dims are recorded in / checked against ``dims``. Returns the array in its
    canonical in-memory dtype (the same object when it already is). Raises
    :class:`SchemaError` naming ``path``.
    """
    if not isinstance(arr, np.ndarray):
        raise SchemaError(path, f"expected a numpy array, found {type_name(arr)}")
    out = check_dtype(path, arr, dtype)
    if shape_spec is not None:
        check_shape(path, out.shape, shape_spec, dims)
    return out


def check_bool_bytes(path: str, data: bytes | bytearray | memoryview) -> None:
    """Every element byte of a bool array is 0 or 1 (numpy would read 2 as True and
    re-encode it as 1, silently changing the data); else ``invalid_bool``."""
    raw = data if isinstance(data, bytes) else bytes(data)
    if raw.translate(None, b"\x00\x01"):
        raise SchemaError(path, "a bool array element byte other than 0 or 1", kind="invalid_bool")


def check_int(path: str, value: object, dtype: DTypeLike) -> int:
    """Check an integer scalar fits ``dtype`` (bool: 0/1 or a bool); returns it as ``int``."""
    info = dtype_info(dtype)
    if isinstance(value, bool | np.bool_) and info.kind != "bool":
        raise SchemaError(path, f"expected {info.name}, found bool")
    if not isinstance(value, int | np.integer | bool | np.bool_):
        raise SchemaError(path, f"expected {info.name}, found {type_name(value)}")
    v = int(value)
    lo, hi = info.int_range
    if not lo <= v <= hi:
        raise SchemaError(
            path, f"value {v} out of range for {info.name} ({lo}..={hi})", kind="out_of_range"
        )
    return v


def check_range(
    path: str,
    values: float | npt.ArrayLike,
    lo: float,
    hi: float,
    dtype: DTypeLike | None = None,
) -> None:
    """``@range(lo, hi)`` (inclusive) on a scalar or every element of an array; NaN fails.

    Pass ``dtype="bf16"`` for bf16 arrays (held as raw ``uint16`` bits).
    """
    a = np.asarray(values)
    if a.size == 0:
        return
    is_bf16 = dtype is not None and dtype_info(dtype).name == "bf16"
    if is_bf16 or a.dtype.kind == "V" or a.dtype.name == "bfloat16":
        f = bf16_to_f32(a).astype(np.float64)
    else:
        f = a.astype(np.float64)
    bad = ~((f >= lo) & (f <= hi))
    if np.any(bad):
        idx = np.unravel_index(int(np.argmax(bad)), f.shape) if f.ndim else ()
        v = float(f[idx])
        where = f" at index {list(map(int, idx))}" if f.ndim else ""
        shown = repr(v) if not math.isnan(v) else "nan"
        raise SchemaError(
            path, f"value {shown}{where} outside @range({lo:g}, {hi:g})", kind="out_of_range"
        )

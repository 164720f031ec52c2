"""The JSON form of samples (DESIGN §4, truss-chains JSON mode).

This module owns how arrays and bytes look in JSON:

- an array is ``{"data_b64": <standard padded base64 of the C-order little-endian bytes>,
  "shape": [...], "dtype": <numpy name>}``, keys in that order, exactly as truss-chains'
  ``NumpyArrayField`` writes it (:func:`array_to_json`); readers also accept a typestr
  (``"<f4"``) or schema name (``"f32"``) as ``dtype``, and nested lists of numbers (shape
  from the nesting, dtype from the schema) (:func:`read_json_array`);
- a ``bytes`` field is a standard padded base64 string (:func:`b64encode`, :func:`read_b64`);
- :func:`dumps` writes compact JSON (``separators=(",", ":")``), byte-identical to truss for
  arrays; :func:`loads` maps invalid JSON to :class:`DecodeError`.

Scalars, strings, enums (variant names), lists and maps use the plain JSON types; the
``read_*`` helpers of :mod:`schemac_runtime.wire` check them just as well.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .checks import ShapeSpec, check_dtype, check_shape, type_name
from .dtypes import DTypeInfo, DTypeLike, dtype_info, f32_to_bf16, from_numpy_dtype, from_typestr
from .errors import DecodeError, SchemaError

__all__ = [
    "array_to_json",
    "b64decode",
    "b64encode",
    "dumps",
    "json_to_array",
    "loads",
    "read_b64",
    "read_json_array",
]

NDArray: TypeAlias = np.ndarray[Any, Any]


def dumps(obj: Any) -> str:
    """Compact JSON, keys in insertion order, non-ASCII written as-is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DecodeError("", f"duplicate key {k!r}", kind="duplicate_key")
        out[k] = v
    return out


def _no_constant(token: str) -> Any:
    raise DecodeError("", f"bare {token} is not JSON (write the string {token!r})")


def _int(text: str) -> int | float:
    # serde_json reads integers beyond u64 as f64; past f64 they are an error there, and
    # int() would hit Python's int-to-str digit limit first.
    if len(text) > 310 and math.isinf(float(text)):
        raise DecodeError("", f"number out of range: {text[:20]}...")
    return int(text)


def _float(text: str) -> float:
    v = float(text)
    if math.isinf(v):
        raise DecodeError("", f"number out of range: {text}")
    return v


def _check_strings(v: Any, path: str) -> None:
    # json.loads accepts lone surrogate escapes (`"\\ud800"`); they are not UTF-8 text.
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                raise DecodeError(
                    path, "a lone surrogate escape in a JSON string", kind="invalid_utf8"
                ) from None
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def loads(text: str | bytes | bytearray, *, path: str = "") -> Any:
    """Parse JSON text the way every schemac reader does (docs/language.md, "Rejections
    both runtimes agree on"): UTF-8 without a byte-order mark, no duplicate object keys, no
    bare ``NaN`` / ``Infinity`` tokens, no lone surrogates. Every failure is a
    :class:`DecodeError` with its kind (``malformed``, ``truncated``, ``duplicate_key``,
    ``invalid_utf8``, ``too_deep``)."""
    if isinstance(text, bytes | bytearray):
        if text.startswith(b"\xef\xbb\xbf"):
            raise DecodeError(path, "a byte-order mark before JSON text")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as e:
            raise DecodeError(
                path, f"invalid UTF-8 in JSON text: {e.reason}", kind="invalid_utf8"
            ) from None
    if text.startswith("\ufeff"):
        raise DecodeError(path, "a byte-order mark before JSON text")
    try:
        v = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=_int,
            parse_float=_float,
        )
    except DecodeError as e:
        raise DecodeError(path, e.reason, kind=e.kind) from None
    except json.JSONDecodeError as e:
        kind = "truncated" if e.pos >= len(text.rstrip()) else "malformed"
        raise DecodeError(path, f"invalid JSON: {e}", kind=kind) from None
    except RecursionError:
        raise DecodeError(path, "JSON nested too deep", kind="too_deep") from None
    except ValueError as e:  # int-to-str limits and the like
        raise DecodeError(path, f"invalid JSON: {e}") from None
    _check_strings(v, path)
    return v


def b64encode(data: bytes | bytearray | memoryview) -> str:
    """Standard base64 with padding, as a str."""
    return base64.b64encode(data).decode("ascii")


def b64decode(path: str, s: str) -> bytes:
    """Strict standard padded base64 (no whitespace, no URL-safe alphabet)."""
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise DecodeError(path, f"invalid base64: {e}", kind="invalid_base64") from None


def read_b64(path: str, v: object) -> bytes:
    """A ``bytes`` field in JSON: a base64 string."""
    if not isinstance(v, str):
        raise SchemaError(path, f"expected a base64 string, found {type_name(v)}")
    return b64decode(path, v)


def array_to_json(
    arr: npt.ArrayLike, dtype: DTypeLike | None = None, *, path: str = ""
) -> dict[str, Any]:
    """``{"data_b64", "shape", "dtype"}`` for an array (``dtype`` needed for bf16).

    A numpy array must have the schema dtype already (see :func:`wire.array_to_bytes`);
    other array-likes are converted to ``dtype`` (floats rounded to bf16 for bf16).
    """
    if isinstance(arr, np.ndarray):
        a: NDArray = arr
    elif dtype is None:
        a = np.asarray(arr)
    elif dtype_info(dtype).name == "bf16":
        a = f32_to_bf16(arr)
    else:
        a = np.asarray(arr, dtype=dtype_info(dtype).numpy)
    found = dtype_info(dtype) if dtype is not None else from_numpy_dtype(a.dtype)
    if found is None:
        raise SchemaError(
            path, f"dtype {a.dtype.str} is not one of the schemac dtypes", kind="dtype_mismatch"
        )
    info = found
    a = check_dtype(path, a, info)
    return {
        "data_b64": base64.b64encode(a.tobytes()).decode("ascii"),
        "shape": [int(d) for d in a.shape],
        "dtype": info.numpy_name,
    }


def _dtype_from_json(path: str, s: object) -> tuple[DTypeInfo, bool]:
    if not isinstance(s, str):
        raise SchemaError(
            path, f"array dtype must be a string, found {type_name(s)}", kind="wrong_type"
        )
    parsed = from_typestr(s)
    if parsed is not None:
        return parsed
    try:
        return (dtype_info(s), False)
    except ValueError:
        raise SchemaError(path, f"unknown array dtype {s!r}", kind="dtype_mismatch") from None


def _parse_json_dict(path: str, obj: Mapping[str, Any]) -> tuple[DTypeInfo, NDArray]:
    for key in ("data_b64", "shape", "dtype"):
        if key not in obj:
            raise SchemaError(
                path,
                f"JSON array needs data_b64, shape and dtype; {key} missing",
                kind="missing_field",
            )
    info, swapped = _dtype_from_json(path, obj["dtype"])
    shape = obj["shape"]
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise SchemaError(
            path,
            f"JSON array shape must be a list of non-negative ints: {shape!r}",
            kind="wrong_type",
        )
    data = read_b64(path, obj["data_b64"])
    need = math.prod(shape) * info.itemsize
    if len(data) != need:
        what = "truncated" if len(data) < need else "oversized"
        raise DecodeError(
            path,
            f"{what} JSON array data: shape {shape} of {info.numpy_name} needs {need} bytes, "
            f"data_b64 holds {len(data)}",
            kind="payload_length",
        )
    np_dtype = info.numpy.newbyteorder(">") if swapped else info.numpy
    arr: NDArray = np.frombuffer(data, dtype=np_dtype).reshape(shape)
    if swapped:
        arr = arr.astype(info.numpy)
    return info, arr


def json_to_array(obj: object, *, path: str = "") -> NDArray:
    """Decode a ``{"data_b64", "shape", "dtype"}`` object without a schema.

    The result is read-only (it views the decoded base64 bytes); bf16 is ``<u2`` raw bits.
    """
    if not isinstance(obj, Mapping):
        raise SchemaError(
            path, f"expected a JSON array object, found {type_name(obj)}", kind="wrong_type"
        )
    return _parse_json_dict(path, obj)[1]


def _from_nested(path: str, obj: list[Any], info: DTypeInfo) -> NDArray:
    try:
        raw = np.array(obj)
    except ValueError:
        raise SchemaError(
            path, "nested lists are ragged (not a rectangular array)", kind="wrong_type"
        ) from None
    if raw.size == 0:
        return np.zeros(raw.shape, dtype=info.numpy)
    k = raw.dtype.kind
    if info.kind == "bool":
        if k != "b":
            raise SchemaError(
                path, f"expected bool elements, found {raw.dtype.name}", kind="wrong_type"
            )
        return raw.astype(info.numpy)
    if info.is_int:
        if k not in "iu":
            raise SchemaError(
                path,
                f"expected integer elements for {info.name}, found {raw.dtype}",
                kind="wrong_type",
            )
        lo, hi = info.int_range
        if int(raw.min()) < lo or int(raw.max()) > hi:
            raise SchemaError(
                path, f"element out of range for {info.name} ({lo}..={hi})", kind="out_of_range"
            )
        return raw.astype(info.numpy)
    # floats
    if k not in "iuf":
        raise SchemaError(
            path, f"expected numbers for {info.name}, found {raw.dtype}", kind="wrong_type"
        )
    if info.name == "bf16":
        return f32_to_bf16(raw.astype(np.float32))
    return raw.astype(info.numpy)


def read_json_array(
    path: str,
    v: object,
    dtype: DTypeLike,
    shape: ShapeSpec | None = None,
    dims: MutableMapping[str, int] | None = None,
) -> NDArray:
    """An array field in JSON: the ``data_b64`` object or nested lists, checked against the
    schema dtype and shape spec (named dims recorded in ``dims``)."""
    want = dtype_info(dtype)
    if isinstance(v, Mapping):
        info, arr = _parse_json_dict(path, v)
        if info.name != want.name:
            raise SchemaError(
                path,
                f"expected dtype {want.numpy_name}, found {info.numpy_name}",
                kind="dtype_mismatch",
            )
    elif isinstance(v, list):
        arr = _from_nested(path, v, want)
    else:
        raise SchemaError(
            path, f"expected a JSON array object or list, found {type_name(v)}", kind="wrong_type"
        )
    if shape is not None:
        check_shape(path, arr.shape, shape, dims)
    return arr

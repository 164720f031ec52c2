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
import re
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .checks import ShapeSpec, check_bool_bytes, check_dtype, check_shape, type_name
from .dtypes import (
    DTYPES,
    DTypeInfo,
    DTypeLike,
    bf16_to_f32,
    dtype_info,
    f32_to_bf16,
    from_numpy_dtype,
    from_typestr,
)
from .errors import DecodeError, SchemaError

__all__ = [
    "array_to_json",
    "b64decode",
    "b64encode",
    "check_text",
    "dumps",
    "json_to_array",
    "loads",
    "read_b64",
    "read_json_array",
]

NDArray: TypeAlias = np.ndarray[Any, Any]

_I64_MAX = (1 << 63) - 1
_BY_NUMPY_NAME = {d.numpy_name: d for d in DTYPES.values()}


def dumps(obj: Any) -> str:
    """Compact JSON, keys in insertion order, non-ASCII written as-is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _keep_last(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicates were ruled out (or placed after the first syntax error) by _first_dup.
    return dict(pairs)


_WS = " \t\n\r"

_NUM = frozenset("-+.eE0123456789")
# A prefix of some JSON number: a fraction needs a digit before an exponent (`0.E8` is
# no prefix of a number, so it is malformed, not cut short).
_NUMBER_PREFIX = re.compile(
    r"-?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][-+]?[0-9]*)?"
)
_LITERAL_PREFIX = re.compile(r"t|tr|tru|f|fa|fal|fals|n|nu|nul")


def _cut_token(text: str, pos: int, msg: str) -> bool:
    """Whether the text from ``pos`` to its end is a number or literal cut short (the
    input ended early: truncated). json points at the token's start when a value was
    expected there (`[tru`, `[-`), or just after a complete number prefix (`[0.`, `[1e`).
    A token where a key or delimiter belongs (`{"v"3276`, `{5`), or no number at all
    (`.5`), is malformed."""
    start = pos
    while start > 0 and text[start - 1] in _NUM:
        start -= 1
    if start < pos:
        return _NUMBER_PREFIX.fullmatch(text, start) is not None
    return msg.startswith("Expecting value") and (
        _NUMBER_PREFIX.fullmatch(text, pos) is not None
        or _LITERAL_PREFIX.fullmatch(text, pos) is not None
    )


_PARTIAL_ESCAPE = re.compile(r"u[0-9a-fA-F]{0,4}")


#: A structural fault :func:`_first_fault` found: its offset, the keys and indices from
#: the root to it, and its kind (``duplicate_key``, the duplicated key last in the chain;
#: ``invalid_utf8``, a lone surrogate escape, the chain naming the string holding it).
_Fault: TypeAlias = tuple[int, tuple[str | int, ...], str]


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_TOKEN_END = frozenset(_WS + ',:[]{}"')


def _first_fault(text: str) -> _Fault | None:
    """The first structural fault json.loads does not report, in byte order: a duplicated
    object key or a lone surrogate escape (the Rust reader's ``check_structure``). Follows
    the JSON grammar only as far as the text keeps to it; the first thing it cannot follow
    ends the scan (json.loads reports it)."""
    # Each frame: [is_object, keys seen, current key or index, wanted next]; "wanted" is
    # "key", "colon", "value" or "sep" (a comma or the close, after a value).
    stack: list[list[Any]] = []
    top_done = False  # the top-level value is complete: only whitespace may follow
    i, n = 0, len(text)

    def wants(what: str) -> bool:
        return stack[-1][3] == what if stack else (what == "value" and not top_done)

    def value_done() -> None:
        nonlocal top_done
        if stack:
            stack[-1][3] = "sep"
        else:
            top_done = True

    while i < n:
        c = text[i]
        if c in _WS:
            i += 1
        elif c in "{[":
            if not wants("value"):
                return None
            stack.append([c == "{", set(), 0 if c == "[" else None, "key" if c == "{" else "value"])
            i += 1
        elif c in "}]":
            top = stack[-1] if stack else None
            if top is None or top[0] != (c == "}"):
                return None
            # After a value, or in an empty container (not after a comma).
            empty = top[3] == "key" and not top[1] if top[0] else top[3] == "value" and top[2] == 0
            if top[3] != "sep" and not empty:
                return None
            stack.pop()
            value_done()
            i += 1
        elif c == ",":
            if not stack or stack[-1][3] != "sep":
                return None
            top = stack[-1]
            if top[0]:
                top[3] = "key"
            else:
                top[2] += 1
                top[3] = "value"
            i += 1
        elif c == ":":
            if not stack or stack[-1][3] != "colon":
                return None
            stack[-1][3] = "value"
            i += 1
        elif c == '"':
            is_key = bool(stack) and stack[-1][3] == "key"
            if not is_key and not wants("value"):
                return None
            # A key's fault is the object's; a value's is the string's own.
            holder = tuple(f[2] for f in (stack[:-1] if is_key else stack))
            try:
                key, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            except (json.JSONDecodeError, ValueError):
                if _lone_surrogate_before_fault(text, i + 1):
                    return (i, holder, "invalid_utf8")
                return None
            if _has_lone_surrogate(key):
                return (i, holder, "invalid_utf8")
            if is_key:
                top = stack[-1]
                if key in top[1]:
                    return (i, (*holder, key), "duplicate_key")
                top[1].add(key)
                top[2] = key
                top[3] = "colon"
            else:
                value_done()
            i = end
        else:
            # A number or literal: exactly one, where a value belongs.
            j = i
            while j < n and text[j] not in _TOKEN_END:
                j += 1
            token = text[i:j]
            if not wants("value") or not (
                token in ("true", "false", "null") or _NUMBER.fullmatch(token)
            ):
                return None
            value_done()
            i = j
    return None


def _has_lone_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|["\\/bfnrt])')


def _lone_surrogate_before_fault(text: str, i: int) -> bool:
    """Whether the string body from ``i``, which json cannot read to its end, holds a
    complete lone surrogate escape before whatever stops it (an end of text, a control
    character, a bad escape): serde_json refuses the escape first, as ``invalid_utf8``."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"' or c < " ":
            return False
        if c != "\\":
            i += 1
            continue
        m = _ESCAPE.match(text, i)
        if m is None:
            return False
        i = m.end()
        if m.group(1) is None:
            continue
        u = int(m.group(1), 16)
        if 0xDC00 <= u <= 0xDFFF:
            return True
        if 0xD800 <= u <= 0xDBFF:
            nxt = _ESCAPE.match(text, i)
            if nxt is None:
                # Text that ends inside the pair is cut short and a `\\u` with bad hex
                # digits malformed, where they stand; anything else (a character, another
                # escape) leaves the surrogate lone.
                return not (i >= n or (text[i] == "\\" and (i + 1 >= n or text[i + 1] == "u")))
            if nxt.group(1) is None or not 0xDC00 <= int(nxt.group(1), 16) <= 0xDFFF:
                return True
            i = nxt.end()
    return False


def _fault_error(path: str, found: _Fault) -> DecodeError:
    from .wire import DuplicateKeyError, LoneSurrogateError, generic_path

    _, chain, kind = found
    if kind == "invalid_utf8":
        return LoneSurrogateError(
            generic_path(path, chain), "a lone surrogate escape in a JSON string", chain
        )
    return DuplicateKeyError(generic_path(path, chain), f"duplicate key {chain[-1]!r}", chain)


def _no_constant(token: str) -> Any:
    raise DecodeError("", f"bare {token} is not JSON (write the string {token!r})")


def _int(text: str) -> int | float:
    if text == "-0":
        return -0.0  # negative zero, for a float field (an integer field reads 0)
    # An integer past f64 reads as infinity, like 1e999 (the field it is read for rejects
    # it as out_of_range); int() would also hit Python's int-to-str digit limit first.
    if len(text) > 308:
        f = float(text)
        if math.isinf(f):
            return f
    return int(text)


def _float(text: str) -> float:
    # A finite-looking number past f64 (1e999) is valid JSON; it reads as infinity here
    # and the field it is read for rejects it (out_of_range): no JSON number is infinite.
    return float(text)


def check_text(path: str, s: str) -> str:
    """``s`` if it is valid Unicode text: json.loads accepts lone surrogate escapes
    (``"\\ud800"``), which are not UTF-8, so they are ``invalid_utf8`` at the field."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError(
            path, "a lone surrogate escape in a JSON string", kind="invalid_utf8"
        ) from None
    return s


def loads(text: str | bytes | bytearray, *, path: str = "") -> Any:
    """Parse JSON text the way every schemac reader does (docs/language.md, "Rejections
    both runtimes agree on"): UTF-8 without a byte-order mark, no duplicate object keys, no
    bare ``NaN`` / ``Infinity`` tokens, no lone surrogates. Every failure is a
    :class:`DecodeError` with its kind (``malformed``, ``truncated``, ``duplicate_key``,
    ``invalid_utf8``, ``too_deep``)."""
    if isinstance(text, bytes | bytearray):
        raw = bytes(text)
        if raw.startswith(b"\xef\xbb\xbf"):
            raise DecodeError(path, "a byte-order mark before JSON text")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            # Not UTF-8, so not JSON text (malformed), unless a fault comes first.
            prefix = raw[: e.start].decode("utf-8")
            found = _first_fault(prefix)
            if found is not None:
                raise _fault_error(path, found) from None
            raise DecodeError(path, f"JSON text is not UTF-8: {e.reason}") from None
    if text.startswith("\ufeff"):
        raise DecodeError(path, "a byte-order mark before JSON text")
    try:
        v = json.loads(
            text,
            object_pairs_hook=_keep_last,
            parse_constant=_no_constant,
            parse_int=_int,
            parse_float=_float,
        )
    except DecodeError as e:
        found = _first_fault(text)
        if found is not None:
            raise _fault_error(path, found) from None
        raise DecodeError(path, e.reason, kind=e.kind) from None
    except json.JSONDecodeError as e:
        found = _first_fault(text)
        if found is not None and found[0] <= e.pos:
            raise _fault_error(path, found) from None
        # JSON text that ends early is truncated (an unclosed string included, which
        # json reports at the string's start).
        ends = not e.msg.startswith("Invalid control character") and (
            e.pos >= len(text.rstrip(_WS))
            or e.msg.startswith("Unterminated string")
            or _cut_token(text, e.pos, e.msg)
            or (e.msg.startswith("Invalid \\uXXXX") and _PARTIAL_ESCAPE.fullmatch(text, e.pos))
        )
        kind = "truncated" if ends else "malformed"
        raise DecodeError(path, f"invalid JSON: {e}", kind=kind) from None
    except RecursionError:
        raise DecodeError(path, "JSON nested too deep", kind="too_deep") from None
    except ValueError as e:  # int-to-str limits and the like
        raise DecodeError(path, f"invalid JSON: {e}") from None
    found = _first_fault(text)
    if found is not None:
        raise _fault_error(path, found)
    return v


def b64encode(data: bytes | bytearray | memoryview) -> str:
    """Standard base64 with padding, as a str."""
    return base64.b64encode(data).decode("ascii")


_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def b64decode(path: str, s: str) -> bytes:
    """Strict standard padded base64: whole 4-character groups, ``=`` only as the last
    group's padding, unused trailing bits zero (the Rust runtime's ``RequireCanonical``);
    no whitespace, no URL-safe alphabet."""
    if _B64.fullmatch(s) is None:
        raise DecodeError(
            path, "invalid base64 (not standard padded base64)", kind="invalid_base64"
        )
    try:
        out = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as e:
        raise DecodeError(path, f"invalid base64: {e}", kind="invalid_base64") from None
    if s and base64.b64encode(out).decode("ascii") != s:
        raise DecodeError(path, "invalid base64: non-zero trailing bits", kind="invalid_base64")
    return out


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
    # numpy names (`float32`) and the canonical typestrs (`<f4`), as the Rust runtime's
    # Dtype::from_numpy; schema names (`f32`) are not numpy's.
    parsed = from_typestr(s)
    if parsed is not None:
        return parsed
    info = _BY_NUMPY_NAME.get(s)
    if info is None:
        raise SchemaError(path, f"unknown array dtype {s!r}", kind="dtype_mismatch")
    return (info, False)


def _parse_json_dict(
    path: str, obj: Mapping[str, Any], want: DTypeInfo | None = None
) -> tuple[DTypeInfo, NDArray]:
    # The order of checks is fixed whatever the key order (conformance/README.md): dtype,
    # the keys being there, base64, data length; the caller checks the shape last.
    swapped = False
    info = want
    if "dtype" in obj:
        info, swapped = _dtype_from_json(path, obj["dtype"])
        if want is not None and info.name != want.name:
            raise SchemaError(
                path,
                f"expected dtype {want.numpy_name}, found {info.numpy_name}",
                kind="dtype_mismatch",
            )
    for key in ("data_b64", "shape", "dtype"):
        if key not in obj:
            raise SchemaError(
                path,
                f"JSON array needs data_b64, shape and dtype; {key} missing",
                kind="missing_field",
            )
    data = read_b64(path, obj["data_b64"])
    assert info is not None
    shape = obj["shape"]
    if not isinstance(shape, list) or not all(
        # serde_json reads an integer past u64 as a float, which is no dim.
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= (1 << 64) - 1
        for d in shape
    ):
        raise SchemaError(
            path,
            f"JSON array shape must be a list of non-negative ints: {shape!r}",
            kind="wrong_type",
        )
    if math.prod(d for d in shape if d) > _I64_MAX:
        raise DecodeError(path, f"element count of {shape} overflows", kind="too_large")
    need = math.prod(shape) * info.itemsize
    if need > (1 << 64) - 1:
        raise DecodeError(path, f"byte size of {shape} overflows", kind="too_large")
    if len(data) != need:
        what = "truncated" if len(data) < need else "oversized"
        raise DecodeError(
            path,
            f"{what} JSON array data: shape {shape} of {info.numpy_name} needs {need} bytes, "
            f"data_b64 holds {len(data)}",
            kind="payload_length",
        )
    if need == 0:
        try:
            empty: NDArray = np.empty(shape, dtype=info.numpy)
        except ValueError:
            raise DecodeError(path, f"shape {shape} is too large", kind="too_large") from None
        return info, empty
    np_dtype = info.numpy.newbyteorder(">") if swapped else info.numpy
    arr: NDArray = np.frombuffer(data, dtype=np_dtype).reshape(shape)
    if swapped:
        arr = arr.astype(info.numpy)
    if info.kind == "bool":
        check_bool_bytes(path, data)
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


def _ragged(path: str) -> SchemaError:
    return SchemaError(
        path, "nested lists are ragged (not a rectangular array)", kind="shape_mismatch"
    )


def _nested_leaf(path: str, x: object, info: DTypeInfo) -> Any:
    """One element of a nested-list array, checked as the Rust reader checks it."""
    if info.kind == "bool":
        if not isinstance(x, bool):
            raise SchemaError(path, f"expected bool elements, found {type_name(x)}")
        return x
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise SchemaError(path, f"expected numbers for {info.name}, found {type_name(x)}")
    if info.is_int:
        if isinstance(x, float):
            if math.isinf(x):  # a JSON number past f64 (1e999)
                raise SchemaError(
                    path, f"element out of range for {info.name}", kind="out_of_range"
                )
            if not x.is_integer():
                raise SchemaError(path, f"expected integer elements for {info.name}, found {x!r}")
            x = int(x)
        lo, hi = info.int_range
        if not lo <= x <= hi:
            raise SchemaError(
                path, f"element {x} out of range for {info.name} ({lo}..={hi})", kind="out_of_range"
            )
        return x
    try:
        f = float(x)
    except OverflowError:
        raise SchemaError(
            path, f"element out of range for {info.name}", kind="out_of_range"
        ) from None
    if math.isinf(f):
        raise SchemaError(path, f"element out of range for {info.name}", kind="out_of_range")
    return f


def _from_nested(path: str, obj: list[Any], info: DTypeInfo) -> NDArray:
    shape: list[int] = []
    flat: list[Any] = []
    leaf_depth: int | None = None

    def walk(x: object, depth: int) -> None:
        nonlocal leaf_depth
        if isinstance(x, list):
            if leaf_depth is not None and depth >= leaf_depth:
                raise _ragged(path)
            if depth == len(shape):
                shape.append(len(x))
            elif shape[depth] != len(x):
                raise _ragged(path)
            for e in x:
                walk(e, depth + 1)
            return
        if leaf_depth is None:
            leaf_depth = depth
        if depth != leaf_depth or len(shape) != depth:
            raise _ragged(path)
        flat.append(_nested_leaf(path, x, info))

    try:
        walk(obj, 0)
    except RecursionError:
        raise DecodeError(path, "nested lists too deep", kind="too_deep") from None
    if math.prod(d for d in shape if d) > _I64_MAX:
        raise DecodeError(path, f"element count of {shape} overflows", kind="too_large")
    out: NDArray
    check: NDArray
    if info.name == "bf16":
        with np.errstate(over="ignore"):
            f32 = np.array(flat, dtype=np.float32)
        out = f32_to_bf16(f32)
        check = bf16_to_f32(out)
    else:
        with np.errstate(over="ignore"):
            out = np.array(flat, dtype=info.numpy)
        check = out
    if info.is_float and flat and not np.all(np.isfinite(check)):
        raise SchemaError(path, f"element out of range for {info.name}", kind="out_of_range")
    return out.reshape(shape)


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
        _, arr = _parse_json_dict(path, v, want)
    elif isinstance(v, list):
        arr = _from_nested(path, v, want)
    elif isinstance(v, bool | int | float):
        # A bare number or bool is a 0-d array (as numpy.asarray and the Rust reader
        # take it); its element is checked like a nested list's.
        arr = _from_nested(path, [v], want).reshape(())
    else:
        raise SchemaError(
            path, f"expected a JSON array object or list, found {type_name(v)}", kind="wrong_type"
        )
    if shape is not None:
        check_shape(path, arr.shape, shape, dims)
    return arr

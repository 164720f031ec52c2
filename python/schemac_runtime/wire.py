"""The msgpack wire format (DESIGN §4): array payloads, msgpack-numpy arrays, field helpers.

This module owns the bytes of a sample on the msgpack wire, byte-identical to Python atdata
``@packable`` for the types atdata supports:

- **Array payload** (atdata's ``array_to_bytes``): ``u8 len(typestr)``, the typestr in ASCII,
  ``u8 ndim``, ``ndim x i64`` little-endian dims, then the raw C-order little-endian element
  bytes. :func:`array_to_bytes` writes it (one ``tobytes()``), :func:`bytes_to_array` and
  :func:`decode_array` read it zero-copy (``np.frombuffer``; the result is a read-only view
  of the input when the input is ``bytes``). Readers also accept a ``\\x93NUMPY`` .npy payload.
- **msgpack-numpy** arrays (truss-chains binary mode): a 5-entry map with bin keys
  ``nd`` (true), ``type`` (str typestr), ``kind`` (empty bin), ``shape`` (int array), ``data``
  (bin): :func:`array_to_msgpack_numpy`, :func:`msgpack_numpy_to_array`.
- **msgpack framing**: :func:`packb` (``use_bin_type=True``; Python floats are always float64
  ``cb``, ints get the smallest header, dicts keep insertion = declaration order) and
  :func:`unpackb`, which maps every msgpack failure (truncated input, trailing bytes, lengths
  larger than the input, bad UTF-8) to :class:`DecodeError`.
- **Field helpers** for generated ``to_msgpack``/``from_bytes`` code: ``write_*`` turn field
  values into what :func:`packb` writes exactly as atdata does, ``read_*`` check a decoded
  value's type (raising :class:`SchemaError` with the field path) and convert it.

Array checks (:func:`check_array` & co.) live in :mod:`schemac_runtime.checks` and are
re-exported here.
"""

from __future__ import annotations

import ast
import math
import re
import struct
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, NoReturn, TypeAlias

import msgpack  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt

from .checks import (
    Dims,
    ShapeSpec,
    check_array,
    check_bool_bytes,
    check_dtype,
    check_int,
    check_shape,
    type_name,
)
from .dtypes import DTypeInfo, DTypeLike, dtype_info, from_numpy_dtype, from_typestr
from .errors import DecodeError, SchemaError, join_path

__all__ = [
    "MAX_DEPTH",
    "NPY_MAGIC",
    "Buffer",
    "ChainedDecodeError",
    "Dims",
    "DuplicateKeyError",
    "LoneSurrogateError",
    "ShapeSpec",
    "array_to_bytes",
    "array_to_msgpack_numpy",
    "array_typestr",
    "bytes_to_array",
    "check_array",
    "check_shape",
    "decode_array",
    "expect_map",
    "get_optional",
    "get_present",
    "get_required",
    "missing",
    "msgpack_numpy_to_array",
    "packb",
    "packb_msgpack_numpy",
    "read_array",
    "read_bool",
    "read_bytes",
    "read_enum",
    "read_float",
    "read_int",
    "read_list",
    "read_map",
    "read_str",
    "scan",
    "unpackb",
    "unpackb_msgpack_numpy",
    "write_array",
    "write_bool",
    "write_float",
    "write_int",
]

Buffer: TypeAlias = bytes | bytearray | memoryview
NDArray: TypeAlias = np.ndarray[Any, Any]

NPY_MAGIC = b"\x93NUMPY"
_I64_MAX = (1 << 63) - 1
_U64_MAX = (1 << 64) - 1


# ---------------------------------------------------------------------------------------
# msgpack framing
# ---------------------------------------------------------------------------------------


def packb(obj: Any) -> bytes:
    """msgpack-encode ``obj`` exactly as atdata does (``use_bin_type=True``, float64 floats)."""
    out = msgpack.packb(obj, use_bin_type=True)
    assert isinstance(out, bytes)
    return out


#: The deepest nesting :func:`scan` follows (the sample map is level 0), as the Rust
#: reader's ``MAX_DEPTH`` of 64 levels below a field.
MAX_DEPTH = 64

#: One step from a value to a nested one: a map key (str, or bytes for a bin key) or an
#: array index.
Step: TypeAlias = str | bytes | int


class ChainedDecodeError(DecodeError):
    """A structural fault found before the schema is applied; ``chain`` is the steps from
    the input's root to it, so a caller that knows the schema can name the path."""

    KIND = "malformed"

    def __init__(self, path: str, reason: str, chain: tuple[Step, ...]) -> None:
        super().__init__(path, reason, kind=self.KIND)
        self.chain = chain

    def __reduce__(self) -> Any:
        return (type(self), (self.path, self.reason, self.chain))


class DuplicateKeyError(ChainedDecodeError):
    """A map key given twice; ``chain`` ends with the duplicated key."""

    KIND = "duplicate_key"


class LoneSurrogateError(ChainedDecodeError):
    """A lone surrogate escape in a JSON string (not UTF-8); ``chain`` names the string
    holding it (for an object key, the object)."""

    KIND = "invalid_utf8"


def generic_path(path: str, chain: Sequence[Step]) -> str:
    """``chain`` as a path without a schema: str keys as ``.k``, indices as ``[i]``."""
    for st in chain:
        if isinstance(st, int | str):
            path = join_path(path, st)
    return path


class _Scanner:
    """Walks one msgpack value without building it, finding the structural faults of
    conformance/README.md ("structure before schema") in byte order: ``truncated`` (the
    input ends inside a fixed-size item), ``too_large`` (a declared length beyond the bytes
    left), ``malformed`` (the reserved marker), ``invalid_utf8``, ``too_deep``,
    ``duplicate_key`` and ``trailing_bytes``. Nothing is allocated for a declared length."""

    __slots__ = ("b", "chain", "n", "path", "pos")

    def __init__(self, data: memoryview, path: str) -> None:
        self.b = data
        self.n = len(data)
        self.pos = 0
        self.path = path
        self.chain: list[Step] = []

    def fail(self, reason: str, kind: str) -> DecodeError:
        return DecodeError(self.path, reason, kind=kind)

    def take(self, k: int) -> int:
        """Advance over ``k`` fixed bytes; returns where they start."""
        at = self.pos
        if k > self.n - at:
            raise self.fail("truncated msgpack input", "truncated")
        self.pos = at + k
        return at

    def timestamp(self, t: int, d: int, length: int) -> None:
        """An ext of type -1 is msgpack's timestamp: 4, 8 or 12 bytes, nanoseconds below
        10^9 (msgpack refuses anything else while unpacking); found where it stands."""
        if self.b[t] != 0xFF:
            return
        data = bytes(self.b[d : d + length])
        if length == 4:
            return
        if length == 8:
            nanos = int.from_bytes(data, "big") >> 34
        elif length == 12:
            nanos = int.from_bytes(data[:4], "big")
        else:
            nanos = 10**9
        if nanos >= 10**9:
            raise self.fail("an invalid msgpack timestamp (ext type -1)", "malformed")

    def uint(self, k: int) -> int:
        at = self.take(k)
        return int.from_bytes(self.b[at : at + k], "big")

    def take_len(self, length: int) -> int:
        at = self.pos
        if length > self.n - at:
            raise self.fail(
                f"declared length {length} is larger than the {self.n - at} byte(s) left",
                "too_large",
            )
        self.pos = at + length
        return at

    def value(self, depth: int) -> tuple[str, object]:
        """Skip one value; returns its identity as a map key (family, content)."""
        if depth > MAX_DEPTH:
            raise self.fail(f"msgpack nesting deeper than {MAX_DEPTH}", "too_deep")
        at = self.take(1)
        m = self.b[at]
        if m <= 0x7F or m >= 0xE0:
            return ("i", m if m <= 0x7F else m - 0x100)
        if m <= 0x8F:
            self.map(m & 0x0F, depth)
            return ("m", at)
        if m <= 0x9F:
            self.array(m & 0x0F, depth)
            return ("a", at)
        if m <= 0xBF:
            return self.str(m & 0x1F)
        if m == 0xC0:
            return ("n", None)
        if m == 0xC1:
            raise self.fail("reserved msgpack marker 0xc1", "malformed")
        if m in (0xC2, 0xC3):
            return ("t", m == 0xC3)
        if m in (0xC4, 0xC5, 0xC6):
            length = self.uint(1 << (m - 0xC4))
            s = self.take_len(length)
            # Not copied: only map() reads the bytes, and only of a key.
            return ("b", (s, length))
        if m in (0xC7, 0xC8, 0xC9):
            length = self.uint(1 << (m - 0xC7))
            t = self.take(1)
            d = self.take_len(length)
            self.timestamp(t, d, length)
            return ("x", at)
        if m in (0xCA, 0xCB):
            s = self.take(4 if m == 0xCA else 8)
            return ("f", bytes(self.b[s : self.pos]))
        if m <= 0xCF:
            return ("i", self.uint(1 << (m - 0xCC)))
        if m <= 0xD3:
            k = 1 << (m - 0xD0)
            s = self.take(k)
            return ("i", int.from_bytes(self.b[s : s + k], "big", signed=True))
        if m <= 0xD8:
            t = self.take(1)
            d = self.take(1 << (m - 0xD4))
            self.timestamp(t, d, 1 << (m - 0xD4))
            return ("x", at)
        if m <= 0xDB:
            return self.str(self.uint(1 << (m - 0xD9)))
        if m <= 0xDD:
            self.array(self.uint(2 if m == 0xDC else 4), depth)
            return ("a", at)
        self.map(self.uint(2 if m == 0xDE else 4), depth)
        return ("m", at)

    def str(self, length: int) -> tuple[str, object]:
        s = self.take_len(length)
        try:
            return ("s", str(self.b[s : s + length], "utf-8"))
        except UnicodeDecodeError as e:
            raise self.fail(f"invalid UTF-8 in a msgpack str: {e.reason}", "invalid_utf8") from None

    def array(self, count: int, depth: int) -> None:
        if count > self.n - self.pos:
            raise self.fail(
                f"array of {count} items is larger than the {self.n - self.pos} byte(s) left",
                "too_large",
            )
        b, n = self.b, self.n
        fast = depth < MAX_DEPTH  # the elements themselves are within the depth limit
        for i in range(count):
            # Fast path for one-byte scalars (fixints, nil, bools): large int lists.
            at = self.pos
            if fast and at < n:
                m = b[at]
                if m <= 0x7F or m >= 0xE0 or m in (0xC0, 0xC2, 0xC3):
                    self.pos = at + 1
                    continue
            self.chain.append(i)
            self.value(depth + 1)
            self.chain.pop()

    def map(self, count: int, depth: int) -> None:
        if 2 * count > self.n - self.pos:
            raise self.fail(
                f"map of {count} entries is larger than the {self.n - self.pos} byte(s) left",
                "too_large",
            )
        seen: set[tuple[str, object]] = set()
        for _ in range(count):
            start = self.pos
            key = self.value(depth + 1)
            if key[0] in ("m", "a", "x"):
                # An array, map or ext key is the same key as another with the same bytes
                # (as in Rust); such keys are refused by every schema anyway.
                key = (key[0], bytes(self.b[start : self.pos]))
            elif key[0] == "b":
                span = key[1]
                assert isinstance(span, tuple)
                key = ("b", bytes(self.b[span[0] : span[0] + span[1]]))
            step: Step = -1
            if key[0] == "s":
                assert isinstance(key[1], str)
                step = key[1]
            elif key[0] == "b":
                assert isinstance(key[1], bytes)
                step = key[1]
            if key in seen:
                # A key that is no str or bin has no path segment (as in Rust): the
                # fault is reported at the map holding it.
                chain = (*self.chain, step) if step != -1 else tuple(self.chain)
                raise DuplicateKeyError(
                    generic_path(self.path, chain), f"duplicate map key {key[1]!r}", chain
                )
            seen.add(key)
            self.chain.append(step)
            self.value(depth + 1)
            self.chain.pop()


def scan(data: Buffer, *, path: str = "") -> None:
    """Check that ``data`` is exactly one well-formed msgpack value (the structural faults
    of conformance/README.md, first in byte order), without decoding it."""
    mv = memoryview(data)
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    sc = _Scanner(mv, path)
    sc.value(0)
    if sc.pos != sc.n:
        raise DecodeError(
            path, f"{sc.n - sc.pos} trailing byte(s) after the msgpack value", kind="trailing_bytes"
        )


class _Unhashable:
    """Stands in for a map key msgpack cannot hash (an array or map used as a key), so
    the schema check reports a wrong key type instead of msgpack a TypeError."""

    def __repr__(self) -> str:
        return "<array or map key>"


class Ext:
    """A msgpack ext value (no schema type is one; a reader reports it as ``wrong_type``).
    msgpack's own ``ExtType`` refuses the negative (reserved) type codes."""

    __slots__ = ("code", "data")

    def __init__(self, code: int, data: bytes) -> None:
        self.code = code
        self.data = data

    def __repr__(self) -> str:
        return f"<ext {self.code}, {len(self.data)} bytes>"


def _pairs(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    return {
        (k if isinstance(k, str | bytes | int | float | bool) or k is None else _Unhashable()): v
        for k, v in pairs
    }


def unpackb(data: Buffer, *, path: str = "") -> Any:
    """Decode exactly one msgpack value; any malformation is a :class:`DecodeError`.

    The input is first checked as a whole (:func:`scan`: its structural faults are found
    before any schema fault, in byte order; a duplicate key is a
    :class:`DuplicateKeyError`). str is decoded as UTF-8, bin as ``bytes``, arrays as
    lists; non-str map keys are kept for the schema check to refuse.
    """
    scan(data, path=path)
    try:
        return msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=False,
            object_pairs_hook=_pairs,
            ext_hook=Ext,
        )
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as e:
        # scan() accepted it, so this is a limit of msgpack-python, not bad framing.
        raise DecodeError(path, f"invalid msgpack: {e or type(e).__name__}") from None


# ---------------------------------------------------------------------------------------
# Array payload
# ---------------------------------------------------------------------------------------


def array_typestr(arr: NDArray, dtype: DTypeLike | None = None) -> str:
    """The wire typestr for ``arr`` (given ``dtype`` wins; needed to write bf16 from ``uint16``)."""
    if dtype is not None:
        return dtype_info(dtype).typestr
    info = from_numpy_dtype(arr.dtype)
    if info is None:
        raise SchemaError(
            "", f"dtype {arr.dtype.str} is not one of the schemac dtypes", kind="dtype_mismatch"
        )
    return info.typestr


def _le_array(arr: npt.ArrayLike, dtype: DTypeLike | None, path: str) -> tuple[NDArray, DTypeInfo]:
    """The array in its canonical little-endian dtype, plus that dtype.

    A numpy array must already have the schema dtype (byte order aside; bf16 accepts
    ``uint16``/``V2``/``bfloat16``): no silent value conversion. Other array-likes (lists)
    are converted with ``np.asarray(..., dtype)``.
    """
    if isinstance(arr, np.generic):
        arr = np.asarray(arr)
    if not isinstance(arr, np.ndarray):
        if dtype is None:
            raise SchemaError(
                path, "a dtype is needed to encode a non-numpy array", kind="unsupported"
            )
        info = dtype_info(dtype)
        if info.name == "bf16":
            raise SchemaError(
                path,
                "bf16 arrays are held as uint16 raw bits; use f32_to_bf16()",
                kind="unsupported",
            )
        return np.asarray(arr, dtype=info.numpy), info
    if dtype is None:
        found = from_numpy_dtype(arr.dtype)
        if found is None:
            raise SchemaError(
                path,
                f"dtype {arr.dtype.str} is not one of the schemac dtypes",
                kind="dtype_mismatch",
            )
        info = found
    else:
        info = dtype_info(dtype)
    return check_dtype(path, arr, info), info


def array_to_bytes(arr: npt.ArrayLike, dtype: DTypeLike | None = None, *, path: str = "") -> bytes:
    """Encode an array as atdata's payload (one ``tobytes()`` of the C-order LE data).

    ``dtype`` is the schema dtype; without it, it is inferred from the numpy dtype, which
    cannot express bf16 (held as ``uint16``): pass ``"bf16"`` for those.
    """
    a, info = _le_array(arr, dtype, path)
    ts = info.typestr.encode("ascii")
    header = struct.pack(f"<B{len(ts)}sB{a.ndim}q", len(ts), ts, a.ndim, *a.shape)
    return header + a.tobytes()


#: A quoted header string holding a control character or backslash: numpy's reader
#: refuses a NUL, reads a backslash as an escape; the Rust reader refuses all of them.
_NPY_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_NPY_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f\\]")
_NPY_OUTSIDE_BAD = re.compile(r"[^ \t\n\r{}():,\w+\-.']")


def _read_npy_header(mv: memoryview, path: str) -> tuple[str, tuple[int, ...], bool, int]:
    """Parse a .npy header: (descr typestr, shape, fortran_order, data offset)."""
    n = len(mv)
    if n < 10:
        raise DecodeError(path, "truncated .npy header", kind="truncated")
    major = mv[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", mv, 8)
        start = 10
    elif major in (2, 3):
        if n < 12:
            raise DecodeError(path, "truncated .npy header", kind="truncated")
        (hlen,) = struct.unpack_from("<I", mv, 8)
        start = 12
    else:
        raise DecodeError(path, f"unsupported .npy version {major}.{mv[7]}", kind="bad_npy")
    end = start + hlen
    if end > n:
        raise DecodeError(
            path, f".npy header length {hlen} runs past the end ({n} bytes)", kind="truncated"
        )
    try:
        # UTF-8 for every version, as the Rust reader: numpy writes ASCII headers.
        text = bytes(mv[start:end]).decode("utf-8")
        if any(_NPY_BAD_CHAR.search(m.group()) for m in _NPY_STRING.finditer(text)):
            raise ValueError("a control character or backslash in a header string")
        # The Rust reader's grammar, not all of Python's: no comments, form feeds or line
        # continuations; after the dict only numpy's padding (spaces, a newline).
        outside = _NPY_STRING.sub("''", text)
        if _NPY_OUTSIDE_BAD.search(outside) or outside[outside.rfind("}") + 1 :].strip(" \n"):
            raise ValueError("not a numpy header")
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        raise DecodeError(path, "malformed .npy header", kind="bad_npy") from None
    if (
        not isinstance(header, dict)
        or set(header) != {"descr", "fortran_order", "shape"}
        or not isinstance(header.get("descr"), str)
        or not isinstance(header.get("fortran_order"), bool)
        or not isinstance(header.get("shape"), tuple)
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in header["shape"])
    ):
        raise DecodeError(
            path,
            "malformed .npy header (need exactly descr str, fortran_order, shape)",
            kind="bad_npy",
        )
    if header["fortran_order"]:
        # Refused whatever the rank (docs/language.md): never transposed silently.
        raise DecodeError(path, "fortran_order True is not supported", kind="bad_npy")
    shape = tuple(header["shape"])
    if any(d < 0 for d in shape):
        raise DecodeError(path, f"negative dim in .npy shape {shape}", kind="bad_npy")
    return header["descr"], shape, header["fortran_order"], end


class _Payload:
    """A parsed array header; the element bytes are not touched yet."""

    __slots__ = ("buf", "fortran", "offset", "shape", "typestr")

    def __init__(
        self, typestr: str, shape: tuple[int, ...], buf: memoryview, offset: int, fortran: bool
    ) -> None:
        self.typestr = typestr
        self.shape = shape
        self.buf = buf
        self.offset = offset
        self.fortran = fortran


def _parse_payload(data: Buffer, path: str) -> _Payload:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SchemaError(
            path, f"expected an array payload (bin), found {type_name(data)}", kind="wrong_type"
        )
    mv = memoryview(data)
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    n = len(mv)
    if n >= 1 and mv[0] == NPY_MAGIC[0]:
        # 0x93 cannot start an atdata payload (no typestr is 147 bytes long): a .npy file.
        if mv[:6] != NPY_MAGIC:
            raise DecodeError(path, "bad .npy magic", kind="bad_npy")
        ts, shape, fortran, off = _read_npy_header(mv, path)
        return _Payload(ts, shape, mv, off, fortran)
    if n < 1:
        raise DecodeError(path, "empty array payload", kind="truncated")
    tlen = mv[0]
    if n < 1 + tlen:
        raise DecodeError(
            path, f"truncated array header ({n} bytes, typestr length {tlen})", kind="truncated"
        )
    try:
        ts = bytes(mv[1 : 1 + tlen]).decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError(path, "array typestr is not ASCII", kind="dtype_mismatch") from None
    if from_typestr(ts) is None:
        # A typestr schemac does not know is refused before the dims are read (as in Rust):
        # the dtype comes first inside an array value (conformance/README.md).
        raise DecodeError(path, f"unknown dtype {ts!r}", kind="dtype_mismatch")
    if n < 2 + tlen:
        raise DecodeError(path, "truncated array header (no ndim byte)", kind="truncated")
    ndim = mv[1 + tlen]
    off = 2 + tlen + 8 * ndim
    if n < off:
        raise DecodeError(
            path,
            f"truncated array header: ndim {ndim} needs {8 * ndim} bytes of dims, "
            f"only {n - 2 - tlen} left",
            kind="truncated",
        )
    shape = struct.unpack_from(f"<{ndim}q", mv, 2 + tlen)
    if any(d < 0 for d in shape):
        raise DecodeError(path, f"negative dim in array shape {list(shape)}", kind="too_large")
    return _Payload(ts, tuple(shape), mv, off, False)


def _materialise(p: _Payload, np_dtype: np.dtype[Any], path: str) -> NDArray:
    """Check the data length exactly and build the (zero-copy) array."""
    # Same bound as the Rust runtime's shape_len: the product of the non-zero dims must fit
    # in an i64 (numpy refuses larger shapes even when one dim is 0).
    if math.prod(d for d in p.shape if d) > _I64_MAX:
        raise DecodeError(path, f"element count of {list(p.shape)} overflows", kind="too_large")
    count = math.prod(p.shape)
    need = count * np_dtype.itemsize
    if need > _U64_MAX:
        raise DecodeError(path, f"byte size of {list(p.shape)} overflows", kind="too_large")
    have = len(p.buf) - p.offset
    if have < need:
        raise DecodeError(
            path,
            f"truncated array data: shape {list(p.shape)} of {p.typestr} needs {need} bytes, "
            f"payload holds {have}",
            kind="payload_length",
        )
    if have > need:
        raise DecodeError(
            path,
            f"{have - need} trailing byte(s) after array data "
            f"(shape {list(p.shape)} of {p.typestr} needs {need} bytes)",
            kind="payload_length",
        )
    if count == 0:
        try:
            arr: NDArray = np.empty(p.shape, dtype=np_dtype)
        except ValueError:
            raise DecodeError(
                path, f"shape {list(p.shape)} is too large", kind="too_large"
            ) from None
    else:
        arr = np.frombuffer(p.buf, dtype=np_dtype, count=count, offset=p.offset)
    shaped: NDArray = arr.reshape(p.shape[::-1]).transpose() if p.fortran else arr.reshape(p.shape)
    return shaped


def _numpy_dtype_of(ts: str, path: str) -> np.dtype[Any]:
    # Only the canonical typestrs (never handed to np.dtype, which raises SyntaxError and
    # the like on odd text).
    parsed = from_typestr(ts)
    if parsed is None:
        raise DecodeError(path, f"unknown array typestr {ts!r}", kind="dtype_mismatch")
    return np.dtype("V2") if parsed[0].name == "bf16" else parsed[0].numpy


def bytes_to_array(data: Buffer, *, path: str = "") -> NDArray:
    """Decode an atdata array payload (or a .npy payload) without a schema.

    Zero-copy: the result views ``data`` (read-only for ``bytes``). Data are returned as
    written, big-endian included, except ``V2`` (bf16), which is viewed as ``<u2`` (see
    :mod:`schemac_runtime.dtypes`). Truncated data and trailing bytes raise
    :class:`DecodeError`.
    """
    p = _parse_payload(data, path)
    dt = _numpy_dtype_of(p.typestr, path)
    arr = _materialise(p, dt, path)
    if dt.kind == "V" and dt.itemsize == 2 and dt.fields is None:
        return arr.view("<u2")
    return arr


def _finish(
    path: str,
    ts: str,
    p: _Payload,
    dtype: DTypeLike,
    shape: ShapeSpec | None,
    dims: MutableMapping[str, int] | None,
) -> NDArray:
    want = dtype_info(dtype)
    parsed = from_typestr(ts)
    if parsed is None or parsed[0].name != want.name:
        raise SchemaError(path, f"expected dtype {want.typestr}, found {ts}", kind="dtype_mismatch")
    info, swapped = parsed
    # Order (conformance/README.md): dtype, data length (and bool bytes), then the shape.
    arr = _materialise(p, info.numpy.newbyteorder(">") if swapped else info.numpy, path)
    if info.kind == "bool":
        check_bool_bytes(path, p.buf[p.offset :])
    if shape is not None:
        check_shape(path, p.shape, shape, dims)
    if swapped:
        converted: NDArray = arr.astype(info.numpy)
        return converted
    return arr


def decode_array(
    path: str,
    data: Buffer,
    dtype: DTypeLike,
    shape: ShapeSpec | None = None,
    dims: MutableMapping[str, int] | None = None,
) -> NDArray:
    """Decode an array payload for a field of schema dtype ``dtype`` and shape spec ``shape``.

    The wire typestr must be the dtype's (``<V2``/``|V2`` for bf16; a big-endian typestr of
    the same dtype is accepted and converted). Order of checks: header well-formed
    (:class:`DecodeError`), dtype and shape (:class:`SchemaError`, named dims recorded in
    ``dims``), then the exact data length (:class:`DecodeError`). Zero-copy unless converted.
    """
    p = _parse_payload(data, path)
    return _finish(path, p.typestr, p, dtype, shape, dims)


# ---------------------------------------------------------------------------------------
# msgpack-numpy
# ---------------------------------------------------------------------------------------


def array_to_msgpack_numpy(
    arr: npt.ArrayLike, dtype: DTypeLike | None = None, *, path: str = ""
) -> dict[bytes, Any]:
    """The msgpack-numpy map of an array: bin keys nd, type, kind, shape, data (in that order)."""
    a, info = _le_array(arr, dtype, path)
    return {
        b"nd": True,
        b"type": info.typestr,
        b"kind": b"",
        b"shape": list(a.shape),
        b"data": a.tobytes(),
    }


_MNP_KEYS = ("nd", "type", "kind", "shape", "data")


def _parse_mnp(path: str, obj: object) -> tuple[str, _Payload]:
    # A msgpack-numpy map has exactly nd, type, kind, shape, data (bin or str keys); errors
    # inside it continue the path (`X.v.shape[0]`), as in the Rust runtime.
    if not isinstance(obj, Mapping):
        raise SchemaError(
            path, f"expected a msgpack-numpy map, found {type_name(obj)}", kind="wrong_type"
        )
    # Each key is checked as it comes (the Rust reader's order): a bad key or value ends
    # the read where it stands; missing keys and the typestr's text come after.
    got: dict[str, Any] = {}
    for k, v in obj.items():
        name = k.decode("ascii", "replace") if isinstance(k, bytes) else k
        if not isinstance(name, str) or name not in _MNP_KEYS or name in got:
            raise SchemaError(
                path,
                f"a msgpack-numpy map has exactly the keys nd, type, kind, shape, data; "
                f"found {k!r}",
                kind="wrong_type",
            )
        _check_mnp_value(path, name, v)
        got[name] = v
    # A numpy scalar (nd false) is written with nd, type and data alone.
    need = _MNP_KEYS if got.get("nd") is not False else ("nd", "type", "data")
    missing = ", ".join(k for k in need if k not in got)
    if missing:
        raise SchemaError(path, f"not a msgpack-numpy array ({missing} missing)", kind="wrong_type")
    nd, ts, shape, data = got["nd"], got["type"], got.get("shape", []), got["data"]
    if isinstance(ts, bytes):
        try:
            ts = ts.decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError(
                path, "msgpack-numpy type is not ASCII", kind="dtype_mismatch"
            ) from None
    dims = tuple(shape) if nd else ()
    return ts, _Payload(ts, dims, memoryview(data).cast("B"), 0, False)


def _check_mnp_value(path: str, name: str, v: object) -> None:
    """One msgpack-numpy entry's value, checked as the map is read."""
    if name == "nd" and not isinstance(v, bool):
        raise SchemaError(
            join_path(path, "nd"), "msgpack-numpy nd must be a bool", kind="wrong_type"
        )
    if name == "type" and not isinstance(v, str | bytes):
        raise SchemaError(
            join_path(path, "type"),
            f"msgpack-numpy type must be a typestr, found {type_name(v)}",
            kind="wrong_type",
        )
    if name == "shape":
        if not isinstance(v, list):
            raise SchemaError(
                join_path(path, "shape"),
                f"msgpack-numpy shape must be an array, found {type_name(v)}",
                kind="wrong_type",
            )
        for i, d in enumerate(v):
            at = join_path(join_path(path, "shape"), i)
            if isinstance(d, bool) or not isinstance(d, int):
                raise SchemaError(
                    at, f"expected a dim (int), found {type_name(d)}", kind="wrong_type"
                )
            if not 0 <= d <= _U64_MAX:
                raise SchemaError(at, f"dim {d} does not fit u64", kind="out_of_range")
    if name == "data" and not isinstance(v, bytes | bytearray | memoryview):
        raise SchemaError(
            join_path(path, "data"),
            f"msgpack-numpy data must be bin, found {type_name(v)}",
            kind="wrong_type",
        )


def msgpack_numpy_to_array(obj: object, *, path: str = "") -> NDArray:
    """Decode a msgpack-numpy array map (bin or str keys) without a schema (zero-copy)."""
    ts, p = _parse_mnp(path, obj)
    dt = _numpy_dtype_of(ts, path)
    arr = _materialise(p, dt, path)
    if dt.kind == "V" and dt.itemsize == 2 and dt.fields is None:
        return arr.view("<u2")
    return arr


def packb_msgpack_numpy(
    arr: npt.ArrayLike, dtype: DTypeLike | None = None, *, path: str = ""
) -> bytes:
    """``msgpack_numpy.packb(arr)`` for a bare array."""
    return packb(array_to_msgpack_numpy(arr, dtype, path=path))


def unpackb_msgpack_numpy(data: Buffer, *, path: str = "") -> NDArray:
    """``msgpack_numpy.unpackb(data)`` for a bare array."""
    return msgpack_numpy_to_array(unpackb(data, path=path), path=path)


# ---------------------------------------------------------------------------------------
# Writing field values (to_msgpack)
# ---------------------------------------------------------------------------------------


def write_array(arr: npt.ArrayLike, dtype: DTypeLike, path: str = "") -> bytes:
    """An array field's msgpack value: the payload as bin."""
    return array_to_bytes(arr, dtype, path=path)


def write_float(x: float | np.floating[Any] | int) -> float:
    """A float scalar field: always a Python float, so msgpack writes float64 (``cb``)."""
    return float(x)


def write_int(x: int | np.integer[Any]) -> int:
    """An integer scalar field: a Python int (msgpack picks the smallest header)."""
    return int(x)


def write_bool(x: bool | np.bool_) -> bool:
    return bool(x)


# ---------------------------------------------------------------------------------------
# Reading field values (from_bytes)
# ---------------------------------------------------------------------------------------


def expect_map(path: str, v: object) -> dict[str, Any]:
    """A record (sample or component) value: a map whose keys are str."""
    if not isinstance(v, dict):
        raise SchemaError(path, f"expected a map, found {type_name(v)}")
    for k in v:
        if not isinstance(k, str):
            raise SchemaError(path, f"expected str keys, found a {type_name(k)} key")
    return v


_MISSING = object()


def get_required(m: Mapping[str, Any], path: str, name: str) -> Any:
    """``m[name]``; a missing key, or nil/null, is a :class:`SchemaError`
    (``missing_field``) at ``path.name``."""
    v = m.get(name, _MISSING)
    if v is _MISSING:
        raise SchemaError(join_path(path, name), "missing required field", kind="missing_field")
    if v is None:
        raise SchemaError(join_path(path, name), "nil for a required field", kind="missing_field")
    return v


def missing(path: str, name: str) -> NoReturn:
    """Raise ``missing_field`` at ``path.name`` (an absent required field)."""
    raise SchemaError(join_path(path, name), "missing required field", kind="missing_field")


def get_present(m: Mapping[str, Any], path: str, name: str) -> Any:
    """``m[name]`` of a key known to be there (a required field with a default); nil/null
    is ``missing_field``, as for :func:`get_required`."""
    v = m[name]
    if v is None:
        raise SchemaError(join_path(path, name), "nil for a required field", kind="missing_field")
    return v


def get_optional(m: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """``m[name]``, or ``default`` when the key is missing (nil stays None)."""
    return m.get(name, default)


def read_bool(path: str, v: object) -> bool:
    if not isinstance(v, bool):
        raise SchemaError(path, f"expected bool, found {type_name(v)}")
    return v


def read_int(path: str, v: object, dtype: DTypeLike) -> int:
    """An integer of ``dtype``: any msgpack int encoding whose value fits."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise SchemaError(
            path, f"expected {dtype_info(dtype).name}, found {type_name(v)}", kind="wrong_type"
        )
    return check_int(path, v, dtype)


def read_float(path: str, v: object) -> float:
    """A float scalar: any msgpack float or int."""
    if isinstance(v, bool) or not isinstance(v, float | int):
        raise SchemaError(path, f"expected float, found {type_name(v)}")
    return float(v)


def read_str(path: str, v: object) -> str:
    if not isinstance(v, str):
        raise SchemaError(path, f"expected str, found {type_name(v)}")
    return v


def read_bytes(path: str, v: object) -> bytes:
    if not isinstance(v, bytes | bytearray | memoryview):
        raise SchemaError(path, f"expected bin, found {type_name(v)}")
    return bytes(v)


def read_list(path: str, v: object) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise SchemaError(path, f"expected array, found {type_name(v)}")
    return list(v)


def read_map(path: str, v: object) -> dict[str, Any]:
    """A ``map<str, T>`` value (keys must be str)."""
    return expect_map(path, v)


def read_enum(path: str, v: object, variants: Sequence[str]) -> str:
    if not isinstance(v, str):
        raise SchemaError(path, f"expected an enum variant name (str), found {type_name(v)}")
    if v not in variants:
        raise SchemaError(
            path,
            f"unknown variant {v!r} (expected one of {', '.join(variants)})",
            kind="unknown_variant",
        )
    return v


def read_array(
    path: str,
    v: object,
    dtype: DTypeLike,
    shape: ShapeSpec | None = None,
    dims: MutableMapping[str, int] | None = None,
) -> NDArray:
    """An array field: a bin payload (atdata or .npy), or a msgpack-numpy map."""
    if isinstance(v, bytes | bytearray | memoryview):
        return decode_array(path, v, dtype, shape, dims)
    if isinstance(v, dict):
        ts, p = _parse_mnp(path, v)
        return _finish(path, ts, p, dtype, shape, dims)
    raise SchemaError(path, f"expected an array (bin), found {type_name(v)}")

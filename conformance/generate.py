"""Builds the conformance corpus `conformance/cases/<category>.json` deterministically.

Run with the project's venv: `.venv/bin/python conformance/generate.py` (writes the files)
or `... generate.py --check` (exits 1 if the checked-in corpus differs from what this
script builds; `python/tests/test_conformance.py` runs that check too).

Inputs are built with the real `msgpack`, `msgpack_numpy`, `numpy` and `json` packages, or
spelled byte by byte where a case needs bytes those packages refuse to write (reserved
markers, truncations, non-canonical headers). Expected outcomes are stated here by hand:
the canonical re-encoding is what `msgpack.packb` writes for the value this script says
the sample holds, and error kinds and paths follow the vocabulary and decisions in
`conformance/README.md`. Nothing here calls schemac's own runtimes: the corpus is the
independent truth both runtimes are measured against.
"""

# ruff: noqa: N802, E501 - one-letter value constructors and case tables read better unwrapped

from __future__ import annotations

import base64
import gzip
import io
import json
import math
import struct
import sys
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgpack
import msgpack_numpy
import numpy as np

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"

# ---------------------------------------------------------------------------------------
# Logical values: one description gives both the canonical msgpack object and the JSON
# value a conforming runtime writes for it.
# ---------------------------------------------------------------------------------------

TYPESTR = {
    "bool": "|b1",
    "i8": "|i1",
    "u8": "|u1",
    "i16": "<i2",
    "u16": "<u2",
    "i32": "<i4",
    "u32": "<u4",
    "i64": "<i8",
    "u64": "<u8",
    "f16": "<f2",
    "bf16": "<V2",
    "f32": "<f4",
    "f64": "<f8",
}
NUMPY_NAME = {
    "bool": "bool",
    "i8": "int8",
    "u8": "uint8",
    "i16": "int16",
    "u16": "uint16",
    "i32": "int32",
    "u32": "uint32",
    "i64": "int64",
    "u64": "uint64",
    "f16": "float16",
    "bf16": "bfloat16",
    "f32": "float32",
    "f64": "float64",
}
NP = {
    "bool": np.bool_,
    "i8": np.int8,
    "u8": np.uint8,
    "i16": np.int16,
    "u16": np.uint16,
    "i32": np.int32,
    "u32": np.uint32,
    "i64": np.int64,
    "u64": np.uint64,
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
}
INT_RANGE = {
    "i8": (-(2**7), 2**7 - 1),
    "i16": (-(2**15), 2**15 - 1),
    "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1),
    "u8": (0, 2**8 - 1),
    "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1),
    "u64": (0, 2**64 - 1),
}
INTS = list(INT_RANGE)
FLOATS = ["f16", "bf16", "f32", "f64"]
DTYPES = ["bool", *INTS, *FLOATS]
SUFFIX = {
    "bool": "Bool",
    "i8": "I8",
    "i16": "I16",
    "i32": "I32",
    "i64": "I64",
    "u8": "U8",
    "u16": "U16",
    "u32": "U32",
    "u64": "U64",
    "f16": "F16",
    "bf16": "Bf16",
    "f32": "F32",
    "f64": "F64",
}


class V:
    """A logical value: `wire` is what msgpack.packb gets, `js` the JSON value."""

    def __init__(self, wire: Any, js: Any) -> None:
        self.wire = wire
        self.js = js


def I(v: int) -> V:  # noqa: E743 - short constructors keep the case tables readable
    return V(v, v)


def B(v: bool) -> V:
    return V(v, v)


def F(v: float) -> V:
    """A float scalar: float64 on the wire, the documented strings in JSON if non-finite."""
    if math.isnan(v):
        js: Any = "NaN"
    elif math.isinf(v):
        js = "Infinity" if v > 0 else "-Infinity"
    else:
        js = v
    return V(float(v), js)


def S(v: str) -> V:
    return V(v, v)


def Y(v: bytes) -> V:
    return V(v, base64.b64encode(v).decode())


def E(name: str) -> V:
    return V(name, name)


NIL = V(None, None)


def bf16_bits(x: float) -> int:
    """bf16 bits of `x`: float32 bits rounded to nearest-even in the top 16."""
    (u,) = struct.unpack("<I", struct.pack("<f", x))
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF


def bf16_value(bits: int) -> float:
    (f,) = struct.unpack("<f", struct.pack("<I", bits << 16))
    return float(f)


def raw(dtype: str, values: Iterable[Any]) -> bytes:
    vals = list(values)
    if dtype == "bf16":
        return b"".join(struct.pack("<H", bf16_bits(float(v))) for v in vals)
    return np.array(vals, dtype=NP[dtype]).tobytes()


def payload(typestr: str, shape: list[int], data: bytes) -> bytes:
    """atdata's array_to_bytes: u8 len, typestr, u8 ndim, i64 LE dims, raw bytes."""
    t = typestr.encode()
    return (
        bytes([len(t)])
        + t
        + bytes([len(shape)])
        + struct.pack(f"<{len(shape)}q", *shape)
        + data
    )


def A(dtype: str, shape: list[int], values: Iterable[Any]) -> V:
    data = raw(dtype, values)
    js = {
        "data_b64": base64.b64encode(data).decode(),
        "shape": shape,
        "dtype": NUMPY_NAME[dtype],
    }
    return V(payload(TYPESTR[dtype], shape, data), js)


def R(*fields: tuple[str, V]) -> V:
    """A record: every field in declaration order."""
    return V({k: v.wire for k, v in fields}, {k: v.js for k, v in fields})


def L(*items: V) -> V:
    return V([v.wire for v in items], [v.js for v in items])


def M(entries: dict[str, V]) -> V:
    """A map<str, T>: written in sorted key order."""
    keys = sorted(entries, key=lambda k: k.encode())
    return V({k: entries[k].wire for k in keys}, {k: entries[k].js for k in keys})


def mp(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def mp_np(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True, default=msgpack_numpy.encode)


def np_map(
    dtype: str, shape: list[int], values: Iterable[Any], typestr: str | None = None
) -> dict[bytes, Any]:
    """msgpack-numpy's array map, spelled out (bf16 has no numpy dtype here)."""
    return {
        b"nd": True,
        b"type": typestr or TYPESTR[dtype],
        b"kind": b"",
        b"shape": list(shape),
        b"data": raw(dtype, values),
    }


# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------

CORPUS: dict[str, list[dict[str, Any]]] = {}
_IDS: set[str] = set()


def _add(
    category: str,
    name: str,
    schema: str,
    sample: str,
    fmt: str,
    inp: dict[str, str],
    expect: dict[str, Any],
    note: str,
) -> None:
    cid = f"{category}/{name}"
    assert cid not in _IDS, cid
    _IDS.add(cid)
    case = {
        "id": cid,
        "schema": schema,
        "sample": sample,
        "format": fmt,
        **inp,
        "expect": expect,
    }
    if note:
        case["note"] = note
    CORPUS.setdefault(category, []).append(case)


def _input(fmt: str, data: bytes | str) -> dict[str, str]:
    if isinstance(data, str):
        assert fmt == "json"
        return {"input_text": data}
    return {"input_hex": data.hex()}


def ok(
    category: str,
    name: str,
    schema: str,
    sample: str,
    fmt: str,
    data: bytes | str,
    value: V,
    note: str = "",
) -> None:
    expect = {"ok": {"msgpack": mp(value.wire).hex(), "json": value.js}}
    _add(category, name, schema, sample, fmt, _input(fmt, data), expect, note)


def err(
    category: str,
    name: str,
    schema: str,
    sample: str,
    fmt: str,
    data: bytes | str,
    kind: str,
    path: str,
    note: str = "",
) -> None:
    _add(
        category,
        name,
        schema,
        sample,
        fmt,
        _input(fmt, data),
        {"error": {"kind": kind, "path": path}},
        note,
    )


def roundtrip(
    category: str,
    name: str,
    schema: str,
    sample: str,
    value: V,
    formats: Iterable[str] = ("msgpack", "json"),
    note: str = "",
) -> None:
    """The canonical bytes and the JSON text of `value` both read back to `value`."""
    for fmt in formats:
        data: bytes | str = mp(value.wire) if fmt == "msgpack" else json.dumps(value.js)
        ok(category, f"{name}-{fmt}", schema, sample, fmt, data, value, note)


def jtext(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# -- scalars ------------------------------------------------------------------------------


def scalars() -> None:
    cat = "scalars"
    for dt in INTS:
        s = f"Scalar{SUFFIX[dt]}"
        lo, hi = INT_RANGE[dt]
        for label, v in (("min", lo), ("max", hi), ("zero", 0), ("one", 1)):
            roundtrip(cat, f"{dt}-{label}", "scalars", s, R(("v", I(v))))
        if lo - 1 >= -(2**63):
            err(
                cat,
                f"{dt}-below-min-msgpack",
                "scalars",
                s,
                "msgpack",
                mp({"v": lo - 1}),
                "out_of_range",
                f"{s}.v",
            )
        if hi + 1 < 2**64:
            err(
                cat,
                f"{dt}-above-max-msgpack",
                "scalars",
                s,
                "msgpack",
                mp({"v": hi + 1}),
                "out_of_range",
                f"{s}.v",
            )
        err(
            cat,
            f"{dt}-below-min-json",
            "scalars",
            s,
            "json",
            jtext({"v": lo - 1}),
            "out_of_range",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-above-max-json",
            "scalars",
            s,
            "json",
            jtext({"v": hi + 1}),
            "out_of_range",
            f"{s}.v",
            note="the message must show the number as written",
        )
        # non-canonical encodings are accepted and re-encoded in the smallest form
        wide = (
            bytes.fromhex("81a176") + b"\xd3" + struct.pack(">q", 1)
            if dt.startswith("i")
            else bytes.fromhex("81a176") + b"\xcf" + struct.pack(">Q", 1)
        )
        ok(
            cat,
            f"{dt}-wide-encoding-msgpack",
            "scalars",
            s,
            "msgpack",
            wide,
            R(("v", I(1))),
            note="any int encoding that fits is accepted; the re-encoding is the smallest",
        )
        ok(
            cat,
            f"{dt}-integral-float-json",
            "scalars",
            s,
            "json",
            '{"v":3.0}',
            R(("v", I(3))),
            note="integral floats are accepted for integer fields",
        )
        err(
            cat,
            f"{dt}-fraction-json",
            "scalars",
            s,
            "json",
            '{"v":3.5}',
            "wrong_type",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-float-msgpack",
            "scalars",
            s,
            "msgpack",
            mp({"v": 3.5}),
            "wrong_type",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-str-msgpack",
            "scalars",
            s,
            "msgpack",
            mp({"v": "3"}),
            "wrong_type",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-str-json",
            "scalars",
            s,
            "json",
            '{"v":"3"}',
            "wrong_type",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-bool-msgpack",
            "scalars",
            s,
            "msgpack",
            mp({"v": True}),
            "wrong_type",
            f"{s}.v",
        )
    err(
        cat,
        "u8-negative-msgpack",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp({"v": -1}),
        "out_of_range",
        "ScalarU8.v",
    )
    err(
        cat,
        "u64-huge-json",
        "scalars",
        "ScalarU64",
        "json",
        '{"v":18446744073709551616}',
        "out_of_range",
        "ScalarU64.v",
        note="2^64: the message must say 18446744073709551616, not a clamped u64",
    )
    err(
        cat,
        "i64-huge-json",
        "scalars",
        "ScalarI64",
        "json",
        '{"v":100000000000000000000000000000}',
        "out_of_range",
        "ScalarI64.v",
    )

    # bool
    for v in (True, False):
        roundtrip(
            cat, f"bool-{str(v).lower()}", "scalars", "ScalarBool", R(("v", B(v)))
        )
    err(
        cat,
        "bool-int-msgpack",
        "scalars",
        "ScalarBool",
        "msgpack",
        mp({"v": 1}),
        "wrong_type",
        "ScalarBool.v",
    )
    err(
        cat,
        "bool-int-json",
        "scalars",
        "ScalarBool",
        "json",
        '{"v":1}',
        "wrong_type",
        "ScalarBool.v",
    )
    err(
        cat,
        "bool-str-json",
        "scalars",
        "ScalarBool",
        "json",
        '{"v":"true"}',
        "wrong_type",
        "ScalarBool.v",
    )

    # str / bytes
    for label, s in (
        ("empty", ""),
        ("ascii", "hello"),
        ("unicode", "h\u00e9\u4e16\U0001f600"),
        ("long", "x" * 40),
    ):
        roundtrip(cat, f"str-{label}", "scalars", "ScalarStr", R(("v", S(s))))
    err(
        cat,
        "str-invalid-utf8",
        "scalars",
        "ScalarStr",
        "msgpack",
        bytes.fromhex("81a176a2c328"),
        "invalid_utf8",
        "ScalarStr",
    )
    err(
        cat,
        "str-surrogate-bytes",
        "scalars",
        "ScalarStr",
        "msgpack",
        bytes.fromhex("81a176a3eda080"),
        "invalid_utf8",
        "ScalarStr",
        note="CESU-style surrogate bytes are not UTF-8",
    )
    err(
        cat,
        "str-lone-surrogate-json",
        "scalars",
        "ScalarStr",
        "json",
        '{"v":"\\ud800"}',
        "invalid_utf8",
        "ScalarStr.v",
        note="a lone surrogate escape cannot become a str the other runtimes can write",
    )
    ok(
        cat,
        "str-surrogate-pair-json",
        "scalars",
        "ScalarStr",
        "json",
        '{"v":"\\ud83d\\ude00"}',
        R(("v", S("\U0001f600"))),
    )
    err(
        cat,
        "str-bin-msgpack",
        "scalars",
        "ScalarStr",
        "msgpack",
        mp({"v": b"abc"}),
        "wrong_type",
        "ScalarStr.v",
    )
    err(
        cat,
        "str-int-json",
        "scalars",
        "ScalarStr",
        "json",
        '{"v":1}',
        "wrong_type",
        "ScalarStr.v",
    )
    ok(
        cat,
        "str-str32-header",
        "scalars",
        "ScalarStr",
        "msgpack",
        bytes.fromhex("81a176") + b"\xdb\x00\x00\x00\x02hi",
        R(("v", S("hi"))),
        note="a wider str header than needed is accepted, re-encoded smallest",
    )
    for label, b in (
        ("empty", b""),
        ("bytes", bytes(range(5))),
        ("binary", b"\x00\xff" * 20),
    ):
        roundtrip(cat, f"bytes-{label}", "scalars", "ScalarBytes", R(("v", Y(b))))
    err(
        cat,
        "bytes-str-msgpack",
        "scalars",
        "ScalarBytes",
        "msgpack",
        mp({"v": "abc"}),
        "wrong_type",
        "ScalarBytes.v",
    )
    err(
        cat,
        "bytes-unpadded-b64",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"AAE"}',
        "invalid_base64",
        "ScalarBytes.v",
        note="'AAE' is unpadded base64 for two bytes",
    )
    ok(
        cat,
        "bytes-padded-b64",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"AA=="}',
        R(("v", Y(b"\x00"))),
    )
    err(
        cat,
        "bytes-urlsafe-b64",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"-_8="}',
        "invalid_base64",
        "ScalarBytes.v",
    )
    err(
        cat,
        "bytes-b64-whitespace",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"AA\\n=="}',
        "invalid_base64",
        "ScalarBytes.v",
    )

    # all scalars in one sample
    allv = R(
        ("b", B(True)),
        ("i8v", I(-3)),
        ("i16v", I(300)),
        ("i32v", I(-70000)),
        ("i64v", I(2**40)),
        ("u8v", I(200)),
        ("u16v", I(60000)),
        ("u32v", I(2**31)),
        ("u64v", I(2**63)),
        ("h", F(0.5)),
        ("bh", F(-2.0)),
        ("f", F(1.25)),
        ("d", F(-0.1)),
        ("s", S("s")),
        ("raw", Y(b"\x01")),
    )
    roundtrip(cat, "all-scalars", "scalars", "AllScalars", allv)
    shuffled = dict(reversed(list(allv.wire.items())))
    ok(
        cat,
        "all-scalars-any-order",
        "scalars",
        "AllScalars",
        "msgpack",
        mp(shuffled),
        allv,
        note="readers accept any key order",
    )
    ok(
        cat,
        "all-scalars-unknown-key",
        "scalars",
        "AllScalars",
        "msgpack",
        mp({**allv.wire, "zz": [1, {"a": None}]}),
        allv,
        note="unknown keys are skipped",
    )
    ok(
        cat,
        "all-scalars-unknown-key-json",
        "scalars",
        "AllScalars",
        "json",
        jtext({"zz": {"q": [1, 2]}, **allv.js}),
        allv,
    )


def floats() -> None:
    cat = "floats"
    for dt in FLOATS:
        s = f"Scalar{SUFFIX[dt]}"
        for label, v in (("zero", 0.0), ("half", 0.5), ("neg", -1.5), ("two", 2.0)):
            roundtrip(cat, f"{dt}-{label}", "scalars", s, R(("v", F(v))))
        ok(
            cat,
            f"{dt}-int-msgpack",
            "scalars",
            s,
            "msgpack",
            mp({"v": 3}),
            R(("v", F(3.0))),
            note="float fields take ints",
        )
        ok(cat, f"{dt}-int-json", "scalars", s, "json", '{"v":3}', R(("v", F(3.0))))
        ok(
            cat,
            f"{dt}-f32-encoding",
            "scalars",
            s,
            "msgpack",
            bytes.fromhex("81a176ca") + struct.pack(">f", 0.25),
            R(("v", F(0.25))),
            note="a float32 on the wire is accepted; written back as float64",
        )
        for label, v, js in (
            ("nan", math.nan, '"NaN"'),
            ("inf", math.inf, '"Infinity"'),
            ("ninf", -math.inf, '"-Infinity"'),
        ):
            ok(
                cat,
                f"{dt}-{label}-msgpack",
                "scalars",
                s,
                "msgpack",
                mp({"v": v}),
                R(("v", F(v))),
            )
            ok(
                cat,
                f"{dt}-{label}-json",
                "scalars",
                s,
                "json",
                '{"v":' + js + "}",
                R(("v", F(v))),
            )
        ok(
            cat,
            f"{dt}-lower-inf-json",
            "scalars",
            s,
            "json",
            '{"v":"-inf"}',
            R(("v", F(-math.inf))),
            note="readers also take nan/inf/-inf",
        )
        ok(
            cat,
            f"{dt}-lower-nan-json",
            "scalars",
            s,
            "json",
            '{"v":"nan"}',
            R(("v", F(math.nan))),
        )
        err(
            cat,
            f"{dt}-bare-nan-json",
            "scalars",
            s,
            "json",
            '{"v":NaN}',
            "malformed",
            s,
            note="a bare NaN token is not JSON",
        )
        err(
            cat,
            f"{dt}-other-str-json",
            "scalars",
            s,
            "json",
            '{"v":"1.5"}',
            "wrong_type",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-bool-msgpack",
            "scalars",
            s,
            "msgpack",
            mp({"v": False}),
            "wrong_type",
            f"{s}.v",
        )
    # rounding to the dtype
    for dt, x in (
        ("f16", 0.1),
        ("f32", 0.1),
        ("f16", 65504.0),
        ("f32", 3.4028234663852886e38),
    ):
        held = float(NP[dt](x))
        roundtrip(
            cat,
            f"{dt}-rounds-{x!r}".replace("+", ""),
            "scalars",
            f"Scalar{SUFFIX[dt]}",
            R(("v", F(held))),
            note="values already held exactly by the dtype",
        )
        ok(
            cat,
            f"{dt}-rounding-{x!r}".replace("+", ""),
            "scalars",
            f"Scalar{SUFFIX[dt]}",
            "msgpack",
            mp({"v": x}),
            R(("v", F(held))),
            note="the field holds the dtype's nearest value and writes it as float64",
        )
    held = bf16_value(bf16_bits(0.1))
    ok(
        cat,
        "bf16-rounding-0.1",
        "scalars",
        "ScalarBf16",
        "msgpack",
        mp({"v": 0.1}),
        R(("v", F(held))),
    )
    # overflow is out_of_range, never a silent infinity
    for dt, x in (
        ("f16", 1e10),
        ("f16", 70000.0),
        ("f16", -65536.0),
        ("f32", 1e39),
        ("bf16", 1e39),
        ("f32", -1e300),
    ):
        s = f"Scalar{SUFFIX[dt]}"
        err(
            cat,
            f"{dt}-overflow-{x:g}-msgpack".replace("+", ""),
            "scalars",
            s,
            "msgpack",
            mp({"v": x}),
            "out_of_range",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-overflow-{x:g}-json".replace("+", ""),
            "scalars",
            s,
            "json",
            jtext({"v": x}),
            "out_of_range",
            f"{s}.v",
        )
    err(
        cat,
        "f64-1e999-json",
        "scalars",
        "ScalarF64",
        "json",
        '{"v":1e999}',
        "out_of_range",
        "ScalarF64.v",
        note="a JSON number beyond f64 is out of range, not infinity",
    )
    wide_numbers()


def wide_numbers() -> None:
    """JSON numbers past f64 or past i64/u64 (docs/language.md, "JSON text"): a fault of the
    field they are read for, never of the text; ignored under an unknown key."""
    cat = "floats"
    huge = "9" * 400  # an integer past f64 too
    for name, sample, text, kind in (
        ("f32-minus-1e999", "ScalarF32", '{"v":-1e999}', "out_of_range"),
        ("i32-1e999", "ScalarI32", '{"v":1e999}', "out_of_range"),
        ("u64-int-past-f64", "ScalarU64", '{"v":' + huge + "}", "out_of_range"),
        ("f64-int-past-f64", "ScalarF64", '{"v":' + huge + "}", "out_of_range"),
        (
            "u64-past-max-as-written",
            "ScalarU64",
            '{"v":18446744073709551617}',
            "out_of_range",
        ),
        ("str-1e999", "ScalarStr", '{"v":1e999}', "wrong_type"),
        ("bool-1e999", "ScalarBool", '{"v":1e999}', "wrong_type"),
        ("f64-array-1e999", "ArrayF64", '{"v":[1,1e999]}', "out_of_range"),
        (
            "i64-array-below-min",
            "ArrayI64",
            '{"v":[0,-9223372036854775809]}',
            "out_of_range",
        ),
        (
            "i32-array-shape-1e999",
            "Dyn",
            '{"v":{"data_b64":"AAAAAA==","shape":[1e999],"dtype":"int32"}}',
            "wrong_type",
        ),
    ):
        schema = "arrays" if sample.startswith(("Array", "Dyn")) else "scalars"
        err(cat, f"wide-{name}-json", schema, sample, "json", text, kind, f"{sample}.v")
    err(
        cat,
        "wide-1e999-truncated-json",
        "scalars",
        "ScalarF64",
        "json",
        '{"v":1e999',
        "truncated",
        "ScalarF64",
    )
    ok(
        cat,
        "wide-1e999-unknown-key-json",
        "scalars",
        "ScalarF64",
        "json",
        '{"v":1.5,"extra":[1e999,-9223372036854775809]}',
        R(("v", F(1.5))),
        note="a number nobody reads is no fault",
    )
    ok(
        cat,
        "wide-int-past-i64-in-f64-json",
        "scalars",
        "ScalarF64",
        "json",
        '{"v":-9223372036854775809}',
        R(("v", F(-9223372036854775809.0))),
        note="an integer past i64 is an ordinary f64 value",
    )
    ok(
        cat,
        "wide-int-past-u64-beside-its-placeholder-json",
        "arrays",
        "ArrayF64",
        "json",
        '{"v":[1000000000000000000,18446744073709551617]}',
        R(("v", A("f64", [2], [1e18, 18446744073709551617.0]))),
        note="the Rust reader's placeholder for the wide number must not be 10^18",
    )


# -- arrays -------------------------------------------------------------------------------

SAMPLE_VALUES: dict[str, list[Any]] = {
    "bool": [True, False, True],
    "i8": [-128, 127],
    "u8": [0, 255],
    "i16": [-32768, 32767],
    "u16": [1, 65535],
    "i32": [-(2**31), 7],
    "u32": [2**32 - 1, 0],
    "i64": [-(2**63), 2**63 - 1],
    "u64": [2**64 - 1, 1],
    "f16": [0.5, -65504.0],
    "bf16": [1.5, -2.0],
    "f32": [1.25, math.inf],
    "f64": [-0.1, math.nan],
}


def arrays() -> None:
    cat = "arrays"
    for dt in DTYPES:
        s = f"Array{SUFFIX[dt]}"
        vals = SAMPLE_VALUES[dt]
        n = len(vals)
        val = R(("v", A(dt, [n], vals)))
        roundtrip(cat, f"{dt}", "arrays", s, val)
        if dt != "bf16":
            arr = np.array(vals, dtype=NP[dt])
            ok(
                cat,
                f"{dt}-msgpack-numpy",
                "arrays",
                s,
                "msgpack-numpy",
                mp_np({"v": arr}),
                val,
                note="built by msgpack_numpy.encode; re-encoded as atdata arrays",
            )
            npy = _npy(arr)
            ok(
                cat,
                f"{dt}-npy-payload",
                "arrays",
                s,
                "msgpack",
                mp({"v": npy}),
                val,
                note="a .npy payload in the bin is accepted",
            )
        fin = [v if not isinstance(v, float) or math.isfinite(v) else 2.0 for v in vals]
        ok(
            cat,
            f"{dt}-json-nested-list",
            "arrays",
            s,
            "json",
            jtext({"v": fin}),
            R(("v", A(dt, [n], fin))),
            note="nested lists of numbers: dtype from the schema",
        )
        ok(
            cat,
            f"{dt}-json-typestr",
            "arrays",
            s,
            "json",
            jtext({"v": {**val.js["v"], "dtype": TYPESTR[dt]}}),
            val,
            note="JSON dtype may be the canonical typestr",
        )
        # wrong dtype in the payload
        other = "f32" if dt != "f32" else "i32"
        odata = raw(other, [0] * n)
        err(
            cat,
            f"{dt}-dtype-mismatch",
            "arrays",
            s,
            "msgpack",
            mp({"v": payload(TYPESTR[other], [n], odata)}),
            "dtype_mismatch",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-dtype-mismatch-json",
            "arrays",
            s,
            "json",
            jtext(
                {
                    "v": {
                        "data_b64": base64.b64encode(odata).decode(),
                        "shape": [n],
                        "dtype": NUMPY_NAME[other],
                    }
                }
            ),
            "dtype_mismatch",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-shape-mismatch",
            "arrays",
            s,
            "msgpack",
            mp({"v": payload(TYPESTR[dt], [n + 1], raw(dt, [*vals, vals[0]]))}),
            "shape_mismatch",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-rank-mismatch",
            "arrays",
            s,
            "msgpack",
            mp({"v": payload(TYPESTR[dt], [1, n], raw(dt, vals))}),
            "shape_mismatch",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-payload-short",
            "arrays",
            s,
            "msgpack",
            mp({"v": payload(TYPESTR[dt], [n], raw(dt, vals)[:-1])}),
            "payload_length",
            f"{s}.v",
        )
        err(
            cat,
            f"{dt}-payload-long",
            "arrays",
            s,
            "msgpack",
            mp({"v": payload(TYPESTR[dt], [n], raw(dt, vals) + b"\x00")}),
            "payload_length",
            f"{s}.v",
        )
    # typestr decisions
    for bad in (">f4", "=f4", "f4", "<f4 ", "float32"):
        err(
            cat,
            f"typestr-{bad.strip().replace('=', 'eq').replace('>', 'be').replace('<', 'le') or 'x'}{'-space' if bad.endswith(' ') else ''}",
            "arrays",
            "ArrayF32",
            "msgpack",
            mp({"v": payload(bad, [2], raw("f32", [1, 2]))}),
            "dtype_mismatch",
            "ArrayF32.v",
            note="only the canonical typestrs numpy writes are accepted",
        )
    err(
        cat,
        "typestr-be-msgpack-numpy",
        "arrays",
        "ArrayF32",
        "msgpack-numpy",
        mp({"v": np_map("f32", [2], [1, 2], ">f4")}),
        "dtype_mismatch",
        "ArrayF32.v",
    )
    err(
        cat,
        "typestr-bare-msgpack-numpy",
        "arrays",
        "ArrayF32",
        "msgpack-numpy",
        mp({"v": np_map("f32", [2], [1, 2], "f4")}),
        "dtype_mismatch",
        "ArrayF32.v",
    )
    ok(
        cat,
        "bf16-msgpack-numpy-v2",
        "arrays",
        "ArrayBf16",
        "msgpack-numpy",
        mp({"v": np_map("bf16", [2], [1.5, -2.0])}),
        R(("v", A("bf16", [2], [1.5, -2.0]))),
    )
    err(
        cat,
        "bool-bad-byte",
        "arrays",
        "ArrayBool",
        "msgpack",
        mp({"v": payload("|b1", [3], b"\x01\x02\x00")}),
        "invalid_bool",
        "ArrayBool.v",
    )
    err(
        cat,
        "bool-bad-byte-json",
        "arrays",
        "ArrayBool",
        "json",
        jtext(
            {
                "v": {
                    "data_b64": base64.b64encode(b"\x00\xff\x00").decode(),
                    "shape": [3],
                    "dtype": "bool",
                }
            }
        ),
        "invalid_bool",
        "ArrayBool.v",
    )
    err(
        cat,
        "array-not-bin",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": [1, 2]}),
        "wrong_type",
        "ArrayU8.v",
    )
    err(
        cat,
        "array-str",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": "ab"}),
        "wrong_type",
        "ArrayU8.v",
    )
    err(
        cat,
        "array-header-truncated",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": b"\x03|u1\x01\x02\x00"}),
        "truncated",
        "ArrayU8.v",
        note="the bin ends inside the array header",
    )
    err(
        cat,
        "array-empty-bin",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": b""}),
        "truncated",
        "ArrayU8.v",
    )
    err(
        cat,
        "array-typestr-len-past-end",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": b"\x09|u1"}),
        "truncated",
        "ArrayU8.v",
    )
    err(
        cat,
        "json-array-bad-b64",
        "arrays",
        "ArrayU8",
        "json",
        jtext({"v": {"data_b64": "AAE", "shape": [2], "dtype": "uint8"}}),
        "invalid_base64",
        "ArrayU8.v",
    )
    err(
        cat,
        "json-array-b64-length",
        "arrays",
        "ArrayU8",
        "json",
        jtext({"v": {"data_b64": "AAEC", "shape": [2], "dtype": "uint8"}}),
        "payload_length",
        "ArrayU8.v",
    )
    err(
        cat,
        "json-array-unknown-dtype",
        "arrays",
        "ArrayU8",
        "json",
        jtext({"v": {"data_b64": "AAE=", "shape": [2], "dtype": "uint7"}}),
        "dtype_mismatch",
        "ArrayU8.v",
    )
    err(
        cat,
        "json-nested-list-shape",
        "arrays",
        "ArrayU8",
        "json",
        '{"v":[1,2,3]}',
        "shape_mismatch",
        "ArrayU8.v",
    )
    err(
        cat,
        "json-nested-list-ragged",
        "arrays",
        "Grid",
        "json",
        '{"v":[[1,2,3],[4,5]]}',
        "shape_mismatch",
        "Grid.v",
    )
    err(
        cat,
        "json-nested-list-out-of-range",
        "arrays",
        "ArrayU8",
        "json",
        '{"v":[1,256]}',
        "out_of_range",
        "ArrayU8.v",
    )
    err(
        cat,
        "json-nested-list-wrong-type",
        "arrays",
        "ArrayU8",
        "json",
        '{"v":[1,"a"]}',
        "wrong_type",
        "ArrayU8.v",
    )


def _npy(arr: np.ndarray[Any, Any], header: str | None = None) -> bytes:
    """A version-1.0 .npy payload, as numpy.lib.format writes it (or with `header`)."""
    import io

    if header is None:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arr, version=(1, 0), allow_pickle=False)
        return buf.getvalue()
    h = header.encode("latin1")
    pad = 64 - ((10 + len(h) + 1) % 64)
    h = h + b" " * (pad % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + arr.tobytes()


def shapes() -> None:
    cat = "shapes"
    grid = [float(i) for i in range(6)]
    roundtrip(cat, "grid", "arrays", "Grid", R(("v", A("f32", [2, 3], grid))))
    ok(
        cat,
        "grid-json-nested",
        "arrays",
        "Grid",
        "json",
        '{"v":[[0,1,2],[3,4,5]]}',
        R(("v", A("f32", [2, 3], grid))),
    )
    err(
        cat,
        "grid-transposed",
        "arrays",
        "Grid",
        "msgpack",
        mp({"v": payload("<f4", [3, 2], raw("f32", grid))}),
        "shape_mismatch",
        "Grid.v",
    )
    err(
        cat,
        "grid-flat",
        "arrays",
        "Grid",
        "msgpack",
        mp({"v": payload("<f4", [6], raw("f32", grid))}),
        "shape_mismatch",
        "Grid.v",
    )
    for n in (0, 1, 5):
        roundtrip(
            cat, f"dyn-{n}", "arrays", "Dyn", R(("v", A("i32", [n], list(range(n)))))
        )
    err(
        cat,
        "dyn-rank-2",
        "arrays",
        "Dyn",
        "msgpack",
        mp({"v": payload("<i4", [1, 1], raw("i32", [1]))}),
        "shape_mismatch",
        "Dyn.v",
    )
    roundtrip(cat, "dyn2-empty", "arrays", "Dyn2", R(("v", A("u8", [0, 3], []))))
    roundtrip(
        cat, "dyn2-2x2", "arrays", "Dyn2", R(("v", A("u8", [2, 2], [1, 2, 3, 4])))
    )
    err(
        cat,
        "dyn-negative-dim",
        "arrays",
        "Dyn",
        "msgpack",
        mp({"v": payload("<i4", [-1], b"")}),
        "too_large",
        "Dyn.v",
        note="a negative dim read as u64 is beyond any input",
    )
    err(
        cat,
        "dyn-huge-dim",
        "arrays",
        "Dyn",
        "msgpack",
        mp({"v": payload("<i4", [2**62], raw("i32", [1, 2]))}),
        "too_large",
        "Dyn.v",
        note="2^62 elements of 4 bytes overflow; the message must show 2^62 as given",
    )
    err(
        cat,
        "dyn-huge-dims-product",
        "arrays",
        "Dyn2",
        "msgpack",
        mp({"v": payload("|u1", [2**32, 2**32], b"")}),
        "too_large",
        "Dyn2.v",
    )
    err(
        cat,
        "dyn-npy-huge-shape",
        "arrays",
        "Dyn",
        "msgpack",
        mp(
            {
                "v": _npy(
                    np.zeros(0, np.int32),
                    "{'descr': '<i4', 'fortran_order': False, 'shape': (4611686018427387904,), }",
                )
            }
        ),
        "too_large",
        "Dyn.v",
    )
    # .npy decisions
    a = np.array([1, 2], dtype=np.uint8)
    err(
        cat,
        "npy-fortran-order",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": _npy(a, "{'descr': '|u1', 'fortran_order': True, 'shape': (2,), }")}),
        "bad_npy",
        "ArrayU8.v",
        note="fortran_order True is refused: we never transpose silently",
    )
    err(
        cat,
        "npy-extra-key",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp(
            {
                "v": _npy(
                    a,
                    "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), 'x': 1, }",
                )
            }
        ),
        "bad_npy",
        "ArrayU8.v",
    )
    err(
        cat,
        "npy-missing-key",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": _npy(a, "{'descr': '|u1', 'shape': (2,), }")}),
        "bad_npy",
        "ArrayU8.v",
    )
    err(
        cat,
        "npy-bad-header-syntax",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": _npy(a, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,")}),
        "bad_npy",
        "ArrayU8.v",
    )
    err(
        cat,
        "npy-be-descr",
        "arrays",
        "ArrayU16",
        "msgpack",
        mp(
            {
                "v": _npy(
                    np.array([1, 2], np.uint16),
                    "{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }",
                )
            }
        ),
        "dtype_mismatch",
        "ArrayU16.v",
    )
    err(
        cat,
        "npy-truncated-header",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": _npy(a)[:12]}),
        "truncated",
        "ArrayU8.v",
    )
    ok(
        cat,
        "npy-2d",
        "arrays",
        "Grid",
        "msgpack",
        mp({"v": _npy(np.arange(6, dtype=np.float32).reshape(2, 3))}),
        R(("v", A("f32", [2, 3], grid))),
    )
    # defaults and optional arrays
    dflt = R(("fill", A("i16", [4], [7] * 4)), ("maybe", NIL))
    ok(
        cat,
        "array-default-fill",
        "arrays",
        "ArrDefault",
        "msgpack",
        mp({}),
        dflt,
        note="a defaulted fixed-shape array fills with the default",
    )
    ok(cat, "array-default-fill-json", "arrays", "ArrDefault", "json", "{}", dflt)
    full = R(
        ("fill", A("i16", [4], [1, 2, 3, 4])), ("maybe", A("f32", [2], [0.5, 1.5]))
    )
    roundtrip(cat, "array-default-given", "arrays", "ArrDefault", full)
    ok(
        cat,
        "array-optional-nil",
        "arrays",
        "ArrDefault",
        "msgpack",
        mp({"fill": dflt.wire["fill"], "maybe": None}),
        dflt,
    )
    err(
        cat,
        "array-optional-wrong-shape",
        "arrays",
        "ArrDefault",
        "msgpack",
        mp(
            {
                "fill": dflt.wire["fill"],
                "maybe": payload("<f4", [3], raw("f32", [1, 2, 3])),
            }
        ),
        "shape_mismatch",
        "ArrDefault.maybe",
    )


def named_dims() -> None:
    cat = "named_dims"
    a = A("u8", [2, 3], range(6))
    b = A("f32", [2, 3], [0.5] * 6)
    c = A("i16", [2], [1, 2])
    roundtrip(cat, "agree", "arrays", "Named", R(("a", a), ("b", b), ("c", c)))
    roundtrip(
        cat,
        "agree-optional-absent",
        "arrays",
        "Named",
        R(("a", a), ("b", NIL), ("c", c)),
    )
    roundtrip(
        cat,
        "agree-empty",
        "arrays",
        "Named",
        R(("a", A("u8", [0, 4], [])), ("b", NIL), ("c", A("i16", [0], []))),
    )
    err(
        cat,
        "b-disagrees-w",
        "arrays",
        "Named",
        "msgpack",
        mp({"a": a.wire, "b": A("f32", [2, 4], [0] * 8).wire, "c": c.wire}),
        "dim_mismatch",
        "Named.b",
    )
    err(
        cat,
        "c-disagrees-h",
        "arrays",
        "Named",
        "msgpack",
        mp({"a": a.wire, "b": None, "c": A("i16", [3], [1, 2, 3]).wire}),
        "dim_mismatch",
        "Named.c",
    )
    err(
        cat,
        "c-disagrees-h-json",
        "arrays",
        "Named",
        "json",
        jtext({"a": a.js, "b": None, "c": A("i16", [3], [1, 2, 3]).js}),
        "dim_mismatch",
        "Named.c",
    )
    err(
        cat,
        "order-decides-path",
        "arrays",
        "Named",
        "msgpack",
        mp({"c": A("i16", [3], [1, 2, 3]).wire, "a": a.wire, "b": None}),
        "dim_mismatch",
        "Named.c",
        note="named dims are checked in declaration order whatever the key order, so the later field is blamed",
    )
    pa = R(("a", A("u8", [2, 5], range(10))), ("b", A("u8", [2], [9, 8])))
    roundtrip(cat, "pinned", "arrays", "Pinned", pa)
    err(
        cat,
        "pinned-wrong",
        "arrays",
        "Pinned",
        "msgpack",
        mp({"a": A("u8", [3, 1], [1, 2, 3]).wire, "b": A("u8", [3], [1, 2, 3]).wire}),
        "shape_mismatch",
        "Pinned.a",
        note="a pinned dim is a fixed dim",
    )
    err(
        cat,
        "pinned-wrong-b",
        "arrays",
        "Pinned",
        "msgpack",
        mp({"a": pa.wire["a"], "b": A("u8", [3], [1, 2, 3]).wire}),
        "shape_mismatch",
        "Pinned.b",
    )
    img = R(("m", A("u8", [2, 2], [1, 2, 3, 4])))
    roundtrip(
        cat,
        "into-component",
        "records",
        "NamedComp",
        R(("img", img), ("m2", A("u8", [2, 2], [5, 6, 7, 8]))),
    )
    err(
        cat,
        "into-component-mismatch",
        "records",
        "NamedComp",
        "msgpack",
        mp({"img": img.wire, "m2": A("u8", [2, 3], range(6)).wire}),
        "dim_mismatch",
        "NamedComp.m2",
        note="the component's H, W are the sample's",
    )
    err(
        cat,
        "into-component-mismatch-json",
        "records",
        "NamedComp",
        "json",
        jtext({"img": img.js, "m2": A("u8", [1, 2], [0, 0]).js}),
        "dim_mismatch",
        "NamedComp.m2",
    )


# -- records --------------------------------------------------------------------------------


def pt(x: float, y: float, tag: int) -> V:
    return R(("xy", A("f32", [2], [x, y])), ("tag", I(tag)))


def optional_defaults() -> None:
    cat = "optional_defaults"
    allnil = R(("a", NIL), ("b", NIL), ("c", NIL))
    ok(
        cat,
        "opt-all-missing",
        "records",
        "Opt",
        "msgpack",
        mp({}),
        allnil,
        note="a missing optional key is nil",
    )
    ok(cat, "opt-all-missing-json", "records", "Opt", "json", "{}", allnil)
    roundtrip(cat, "opt-all-nil", "records", "Opt", allnil)
    roundtrip(
        cat,
        "opt-all-present",
        "records",
        "Opt",
        R(("a", I(-1)), ("b", S("")), ("c", pt(1, 2, 3))),
    )
    err(
        cat,
        "opt-wrong-type",
        "records",
        "Opt",
        "msgpack",
        mp({"a": "x"}),
        "wrong_type",
        "Opt.a",
    )
    err(
        cat,
        "opt-component-wrong",
        "records",
        "Opt",
        "msgpack",
        mp({"c": {"xy": None, "tag": 1}}),
        "missing_field",
        "Opt.c.xy",
        note="nil for a required field is missing_field",
    )
    d = R(
        ("a", I(5)),
        ("b", S("x")),
        ("c", F(1.5)),
        ("d", B(True)),
        ("e", E("green")),
        ("f", I(3)),
    )
    ok(
        cat,
        "defaults-missing",
        "records",
        "Defaults",
        "msgpack",
        mp({}),
        d,
        note="missing defaulted fields take the default",
    )
    ok(cat, "defaults-missing-json", "records", "Defaults", "json", "{}", d)
    given = R(
        ("a", I(-9)),
        ("b", S("y")),
        ("c", F(0.0)),
        ("d", B(False)),
        ("e", E("red")),
        ("f", I(10)),
    )
    roundtrip(cat, "defaults-given", "records", "Defaults", given)
    err(
        cat,
        "defaults-nil-not-optional",
        "records",
        "Defaults",
        "msgpack",
        mp({"a": None}),
        "missing_field",
        "Defaults.a",
        note="nil is accepted only for optional fields",
    )
    err(
        cat,
        "defaults-null-not-optional",
        "records",
        "Defaults",
        "json",
        '{"b":null}',
        "missing_field",
        "Defaults.b",
    )
    err(
        cat,
        "defaults-range",
        "records",
        "Defaults",
        "msgpack",
        mp({"f": 11}),
        "out_of_range",
        "Defaults.f",
    )
    err(
        cat,
        "required-missing",
        "scalars",
        "ScalarI32",
        "msgpack",
        mp({}),
        "missing_field",
        "ScalarI32.v",
    )
    err(
        cat,
        "required-missing-json",
        "scalars",
        "ScalarI32",
        "json",
        "{}",
        "missing_field",
        "ScalarI32.v",
    )
    err(
        cat,
        "required-nil",
        "scalars",
        "ScalarI32",
        "msgpack",
        mp({"v": None}),
        "missing_field",
        "ScalarI32.v",
    )
    err(
        cat,
        "required-null-json",
        "scalars",
        "ScalarI32",
        "json",
        '{"v":null}',
        "missing_field",
        "ScalarI32.v",
    )
    err(
        cat,
        "required-missing-later",
        "scalars",
        "AllScalars",
        "msgpack",
        mp({"b": True}),
        "missing_field",
        "AllScalars.i8v",
        note="the first missing field in declaration order is reported",
    )


def range_bits() -> None:
    cat = "range_bits"
    for p in (0.0, 0.25, 1.0):
        roundtrip(
            cat, f"range-f64-{p}", "records", "Ranged", R(("p", F(p)), ("i", I(0)))
        )
    for i in (-5, 5):
        roundtrip(
            cat, f"range-i32-{i}", "records", "Ranged", R(("p", F(0.5)), ("i", I(i)))
        )
    for label, p in (
        ("above", 1.0000001),
        ("below", -1e-9),
        ("nan", math.nan),
        ("inf", math.inf),
    ):
        err(
            cat,
            f"range-f64-{label}",
            "records",
            "Ranged",
            "msgpack",
            mp({"p": p, "i": 0}),
            "out_of_range",
            "Ranged.p",
        )
    err(
        cat,
        "range-f64-5-json",
        "records",
        "Ranged",
        "json",
        '{"p":5.0,"i":0}',
        "out_of_range",
        "Ranged.p",
        note="a confidence of 5 with @range(0, 1)",
    )
    err(
        cat,
        "range-f64-nan-json",
        "records",
        "Ranged",
        "json",
        '{"p":"NaN","i":0}',
        "out_of_range",
        "Ranged.p",
        note="NaN is in no range",
    )
    for i in (-6, 6, 2**31 - 1):
        err(
            cat,
            f"range-i32-{i}",
            "records",
            "Ranged",
            "msgpack",
            mp({"p": 0.5, "i": i}),
            "out_of_range",
            "Ranged.i",
        )
        err(
            cat,
            f"range-i32-{i}-json",
            "records",
            "Ranged",
            "json",
            jtext({"p": 0.5, "i": i}),
            "out_of_range",
            "Ranged.i",
        )
    # @bits, unpacked (bitpack off) so only the check can catch it
    roundtrip(
        cat,
        "bits-off-max",
        "packing",
        "BitsOff",
        R(("a", I(7)), ("s", A("i8", [2], [-8, 7]))),
    )
    err(
        cat,
        "bits-off-a-8",
        "packing",
        "BitsOff",
        "msgpack",
        mp({"a": 8, "s": payload("|i1", [2], b"\x00\x00")}),
        "bits_overflow",
        "BitsOff.a",
    )
    err(
        cat,
        "bits-off-a-8-json",
        "packing",
        "BitsOff",
        "json",
        jtext({"a": 8, "s": [0, 0]}),
        "bits_overflow",
        "BitsOff.a",
    )
    err(
        cat,
        "bits-off-s-8",
        "packing",
        "BitsOff",
        "msgpack",
        mp({"a": 0, "s": payload("|i1", [2], raw("i8", [0, 8]))}),
        "bits_overflow",
        "BitsOff.s",
    )
    err(
        cat,
        "bits-off-s-minus-9",
        "packing",
        "BitsOff",
        "msgpack",
        mp({"a": 0, "s": payload("|i1", [2], raw("i8", [-9, 0]))}),
        "bits_overflow",
        "BitsOff.s",
    )
    err(
        cat,
        "bits-off-s-json",
        "packing",
        "BitsOff",
        "json",
        jtext({"a": 0, "s": A("i8", [2], [-9, 0]).js}),
        "bits_overflow",
        "BitsOff.s",
    )
    err(
        cat,
        "bits-u8-300",
        "packing",
        "BitsOff",
        "msgpack",
        mp({"a": 300, "s": payload("|i1", [2], b"\x00\x00")}),
        "out_of_range",
        "BitsOff.a",
        note="beyond the dtype is out_of_range before @bits is looked at",
    )
    # aggregate sample through msgpack
    bits_v = R(
        ("a", I(5)),
        ("s", I(-8)),
        ("f", B(True)),
        ("arr", A("u16", [3], [0, 4095, 1234])),
    )
    roundtrip(cat, "bits-agg-msgpack", "packing", "Bits", bits_v)
    err(
        cat,
        "bits-agg-arr-4096",
        "packing",
        "Bits",
        "msgpack",
        mp({**bits_v.wire, "arr": A("u16", [3], [0, 4096, 1]).wire}),
        "bits_overflow",
        "Bits.arr",
    )
    err(
        cat,
        "bits-agg-s-8",
        "packing",
        "Bits",
        "msgpack",
        mp({**bits_v.wire, "s": 8}),
        "bits_overflow",
        "Bits.s",
    )
    # per-field @packed: the wire holds the ordinary array
    fp = R(("p", A("u8", [5], [0, 1, 2, 7, 6])), ("q", I(-2)))
    roundtrip(
        cat,
        "field-packed",
        "packing",
        "FieldPk",
        fp,
        note="@packed changes storage only; the wire is the ordinary array",
    )
    err(
        cat,
        "field-packed-overflow",
        "packing",
        "FieldPk",
        "msgpack",
        mp({"p": A("u8", [5], [0, 8, 0, 0, 0]).wire, "q": 0}),
        "bits_overflow",
        "FieldPk.p",
    )
    err(
        cat,
        "field-packed-shape",
        "packing",
        "FieldPk",
        "msgpack",
        mp({"p": A("u8", [4], [0] * 4).wire, "q": 0}),
        "shape_mismatch",
        "FieldPk.p",
    )


def enums() -> None:
    cat = "enums"
    for c in ("red", "green", "blue"):
        roundtrip(cat, f"{c}", "records", "Enums", R(("c", E(c)), ("o", NIL)))
    roundtrip(
        cat,
        "optional-present",
        "records",
        "Enums",
        R(("c", E("red")), ("o", E("blue"))),
    )
    for label, bad in (
        ("unknown", "purple"),
        ("case", "Red"),
        ("empty", ""),
        ("space", "red "),
    ):
        err(
            cat,
            f"{label}",
            "records",
            "Enums",
            "msgpack",
            mp({"c": bad}),
            "unknown_variant",
            "Enums.c",
        )
        err(
            cat,
            f"{label}-json",
            "records",
            "Enums",
            "json",
            jtext({"c": bad}),
            "unknown_variant",
            "Enums.c",
        )
    err(
        cat,
        "index-not-name",
        "records",
        "Enums",
        "msgpack",
        mp({"c": 0}),
        "wrong_type",
        "Enums.c",
        note="on the wire an enum is its variant name",
    )
    err(
        cat,
        "index-not-name-json",
        "records",
        "Enums",
        "json",
        '{"c":1}',
        "wrong_type",
        "Enums.c",
    )
    err(
        cat,
        "optional-unknown",
        "records",
        "Enums",
        "msgpack",
        mp({"c": "red", "o": "x"}),
        "unknown_variant",
        "Enums.o",
    )
    err(
        cat,
        "bin-not-str",
        "records",
        "Enums",
        "msgpack",
        mp({"c": b"red"}),
        "wrong_type",
        "Enums.c",
    )


def maps_lists() -> None:
    cat = "maps_lists"
    empty = R(("m", M({})), ("p", M({})))
    roundtrip(cat, "maps-empty", "records", "Maps", empty)
    m = R(
        ("m", M({"b": I(2), "a": I(-1), "\u00e9": I(0), "B": I(9)})),
        ("p", M({"z": pt(0, 0, 0), "k": pt(1, 1, 1)})),
    )
    roundtrip(
        cat,
        "maps-sorted",
        "records",
        "Maps",
        m,
        note="keys written in byte-wise sorted order",
    )
    unsorted = {
        "m": dict(reversed(list(m.wire["m"].items()))),
        "p": dict(reversed(list(m.wire["p"].items()))),
    }
    ok(cat, "maps-any-order", "records", "Maps", "msgpack", mp(unsorted), m)
    ok(
        cat,
        "maps-any-order-json",
        "records",
        "Maps",
        "json",
        jtext({"m": {"b": 2, "a": -1, "\u00e9": 0, "B": 9}, "p": m.js["p"]}),
        m,
    )
    err(
        cat,
        "map-dup-key",
        "records",
        "Maps",
        "msgpack",
        bytes.fromhex("82a16d82a16101a16102a170 80"),
        "duplicate_key",
        'Maps.m["a"]',
        note="msgpack.packb cannot write a duplicate key, so the bytes are spelled out",
    )
    err(
        cat,
        "map-dup-key-json",
        "records",
        "Maps",
        "json",
        '{"m":{"a":1,"a":2},"p":{}}',
        "duplicate_key",
        'Maps.m["a"]',
    )
    err(
        cat,
        "map-value-wrong",
        "records",
        "Maps",
        "msgpack",
        mp({"m": {"k": "v"}, "p": {}}),
        "wrong_type",
        'Maps.m["k"]',
    )
    err(
        cat,
        "map-key-not-str",
        "records",
        "Maps",
        "msgpack",
        mp({"m": {1: 1}, "p": {}}),
        "wrong_type",
        "Maps.m",
    )
    err(
        cat,
        "map-component-missing",
        "records",
        "Maps",
        "msgpack",
        mp({"m": {}, "p": {"k": {"xy": A("f32", [2], [0, 0]).wire}}}),
        "missing_field",
        'Maps.p["k"].tag',
    )
    err(
        cat,
        "map-not-map",
        "records",
        "Maps",
        "msgpack",
        mp({"m": [], "p": {}}),
        "wrong_type",
        "Maps.m",
    )
    lists = R(
        ("l", L(S("a"), S(""), S("\u00fc"))),
        ("n", L(L(I(1), I(-2)), L(), L(I(2**62)))),
        ("a", L(A("f32", [2], [1, 2]))),
    )
    roundtrip(cat, "lists", "records", "Lists", lists)
    roundtrip(
        cat, "lists-empty", "records", "Lists", R(("l", L()), ("n", L()), ("a", L()))
    )
    err(
        cat,
        "list-item-wrong",
        "records",
        "Lists",
        "msgpack",
        mp({"l": ["a", 1], "n": [], "a": []}),
        "wrong_type",
        "Lists.l[1]",
    )
    err(
        cat,
        "list-inner-wrong",
        "records",
        "Lists",
        "msgpack",
        mp({"l": [], "n": [[1], [2, "x"]], "a": []}),
        "wrong_type",
        "Lists.n[1][1]",
    )
    err(
        cat,
        "list-array-shape",
        "records",
        "Lists",
        "msgpack",
        mp({"l": [], "n": [], "a": [A("f32", [3], [1, 2, 3]).wire]}),
        "shape_mismatch",
        "Lists.a[0]",
    )
    err(
        cat,
        "list-not-list",
        "records",
        "Lists",
        "msgpack",
        mp({"l": "abc", "n": [], "a": []}),
        "wrong_type",
        "Lists.l",
    )
    err(
        cat,
        "list-item-wrong-json",
        "records",
        "Lists",
        "json",
        '{"l":["a"],"n":[[1.5]],"a":[]}',
        "wrong_type",
        "Lists.n[0][0]",
    )
    err(
        cat,
        "list-too-large",
        "records",
        "Lists",
        "msgpack",
        bytes.fromhex("83a16cdd7fffffff"),
        "too_large",
        "Lists",
        note="an array header declaring more items than bytes left",
    )
    err(
        cat,
        "map-too-large",
        "records",
        "Maps",
        "msgpack",
        bytes.fromhex("82a16ddf7fffffff"),
        "too_large",
        "Maps",
    )


def components() -> None:
    cat = "components"
    roundtrip(cat, "comp", "records", "Comp", R(("p", pt(1.5, -2, 7))))
    err(
        cat,
        "comp-missing",
        "records",
        "Comp",
        "msgpack",
        mp({"p": {"xy": A("f32", [2], [0, 0]).wire}}),
        "missing_field",
        "Comp.p.tag",
    )
    err(
        cat,
        "comp-nested-wrong",
        "records",
        "Comp",
        "msgpack",
        mp({"p": {"xy": A("f32", [2], [0, 0]).wire, "tag": 256}}),
        "out_of_range",
        "Comp.p.tag",
    )
    err(
        cat,
        "comp-not-map",
        "records",
        "Comp",
        "msgpack",
        mp({"p": [1, 2]}),
        "wrong_type",
        "Comp.p",
    )
    err(
        cat,
        "comp-dup-key",
        "records",
        "Comp",
        "msgpack",
        bytes.fromhex("81a170")
        + b"\x83"
        + mp("xy")
        + mp(A("f32", [2], [0, 0]).wire)
        + mp("tag")
        + b"\x01"
        + mp("tag")
        + b"\x02",
        "duplicate_key",
        "Comp.p.tag",
    )
    err(
        cat,
        "comp-dup-key-json",
        "records",
        "Comp",
        "json",
        '{"p":{"xy":[0,0],"tag":1,"tag":1}}',
        "duplicate_key",
        "Comp.p.tag",
    )
    ca = R(
        ("ps", L(pt(0, 1, 2), pt(3, 4, 5))),
        ("grid", L(L(pt(0, 0, 0), pt(0, 0, 1)), L(pt(0, 0, 2), pt(0, 0, 3)))),
        ("dyn", L()),
    )
    roundtrip(
        cat,
        "comp-array",
        "records",
        "CompArr",
        ca,
        note="component arrays are nested msgpack arrays, outermost dim first",
    )
    roundtrip(
        cat,
        "comp-array-dyn",
        "records",
        "CompArr",
        R(
            ("ps", L(pt(0, 1, 2), pt(3, 4, 5))),
            ("grid", L(L(pt(0, 0, 0), pt(0, 0, 1)), L(pt(0, 0, 2), pt(0, 0, 3)))),
            ("dyn", L(pt(9, 9, 9))),
        ),
    )
    w = ca.wire
    err(
        cat,
        "comp-array-short",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "ps": w["ps"][:1]}),
        "shape_mismatch",
        "CompArr.ps",
    )
    err(
        cat,
        "comp-array-long",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "ps": w["ps"] * 2}),
        "shape_mismatch",
        "CompArr.ps",
    )
    err(
        cat,
        "comp-array-inner-short",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "grid": [w["grid"][0], w["grid"][1][:1]]}),
        "shape_mismatch",
        "CompArr.grid[1]",
    )
    err(
        cat,
        "comp-array-flat",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "grid": w["grid"][0] + w["grid"][1]}),
        "wrong_type",
        "CompArr.grid[0]",
        note="Pt[2, 2] is an array of arrays: a map where the inner array belongs",
    )
    err(
        cat,
        "comp-array-elem-wrong",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "ps": [w["ps"][0], {**w["ps"][1], "tag": -1}]}),
        "out_of_range",
        "CompArr.ps[1].tag",
    )
    err(
        cat,
        "comp-array-grid-elem",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "grid": [w["grid"][0], [w["grid"][1][0], {"tag": 1}]]}),
        "missing_field",
        "CompArr.grid[1][1].xy",
    )
    err(
        cat,
        "comp-array-json-short",
        "records",
        "CompArr",
        "json",
        jtext({**ca.js, "ps": ca.js["ps"][:1]}),
        "shape_mismatch",
        "CompArr.ps",
    )
    err(
        cat,
        "comp-array-not-list",
        "records",
        "CompArr",
        "msgpack",
        mp({**w, "ps": w["ps"][0]}),
        "wrong_type",
        "CompArr.ps",
    )


# -- framing: bytes that are not one well-formed value -------------------------------------


def framing() -> None:
    cat = "framing"
    good = mp({"v": 7})
    # A declared length (map entries, str bytes) beyond what is left is too_large, checked
    # before reading on; the input ending inside a fixed-size item is truncated.
    for n, kind, path in (
        (0, "truncated", "ScalarU8"),
        (1, "too_large", "ScalarU8"),
        (2, "too_large", "ScalarU8"),
        (3, "truncated", "ScalarU8"),
    ):
        err(
            cat,
            f"truncated-at-{n}",
            "scalars",
            "ScalarU8",
            "msgpack",
            good[:n],
            kind,
            path,
        )
    err(
        cat,
        "truncated-int",
        "scalars",
        "ScalarU16",
        "msgpack",
        mp({"v": 1000})[:-1],
        "truncated",
        "ScalarU16",
        note="the input ends inside a uint16",
    )
    err(
        cat,
        "truncated-float",
        "scalars",
        "ScalarF64",
        "msgpack",
        mp({"v": 0.5})[:-3],
        "truncated",
        "ScalarF64",
    )
    err(
        cat,
        "truncated-str-header",
        "scalars",
        "ScalarStr",
        "msgpack",
        bytes.fromhex("81a176da00"),
        "truncated",
        "ScalarStr",
        note="the input ends inside a str16 header",
    )
    err(
        cat,
        "trailing-byte",
        "scalars",
        "ScalarU8",
        "msgpack",
        good + b"\x00",
        "trailing_bytes",
        "ScalarU8",
    )
    err(
        cat,
        "trailing-value",
        "scalars",
        "ScalarU8",
        "msgpack",
        good + good,
        "trailing_bytes",
        "ScalarU8",
    )
    s = mp({"v": "hello"})
    err(
        cat,
        "str-truncated",
        "scalars",
        "ScalarStr",
        "msgpack",
        s[:-2],
        "too_large",
        "ScalarStr",
        note="a str declaring more bytes than are left",
    )
    err(
        cat,
        "str-len-past-end",
        "scalars",
        "ScalarStr",
        "msgpack",
        bytes.fromhex("81a176dbffffffff"),
        "too_large",
        "ScalarStr",
        note="a declared length beyond the input",
    )
    err(
        cat,
        "bin-len-past-end",
        "scalars",
        "ScalarBytes",
        "msgpack",
        bytes.fromhex("81a176c6ffffff00"),
        "too_large",
        "ScalarBytes",
    )
    err(
        cat,
        "map-header-past-end",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("dfffffffff"),
        "too_large",
        "ScalarU8",
    )
    err(
        cat,
        "reserved-c1-top",
        "scalars",
        "ScalarU8",
        "msgpack",
        b"\xc1",
        "malformed",
        "ScalarU8",
    )
    err(
        cat,
        "reserved-c1-value",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("81a176c1"),
        "malformed",
        "ScalarU8",
    )
    err(
        cat,
        "reserved-c1-skipped",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a17ac1"),
        "malformed",
        "ScalarU8",
        note="an unknown key's value is still parsed",
    )
    err(
        cat,
        "top-not-map",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp([7]),
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "top-int",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp(7),
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "top-nil",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp(None),
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "key-not-str",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp({1: 7}),
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "key-bin",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp({b"v": 7}),
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "dup-field",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a17608"),
        "duplicate_key",
        "ScalarU8.v",
    )
    err(
        cat,
        "dup-field-same-value",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a17607"),
        "duplicate_key",
        "ScalarU8.v",
    )
    err(
        cat,
        "dup-unknown-key",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("83a17607a17a01a17a02"),
        "duplicate_key",
        "ScalarU8.z",
        note="duplicates are errors even for keys the schema does not know",
    )
    deep = b"\x91" * 70 + b"\xc0"
    err(
        cat,
        "too-deep-unknown",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a17a") + deep,
        "too_deep",
        "ScalarU8",
        note="nesting beyond 64 levels in a skipped value",
    )
    ok(
        cat,
        "deep-unknown-ok",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a17a") + b"\x91" * 30 + b"\xc0",
        R(("v", I(7))),
        note="30 levels are within the limit",
    )
    err(
        cat,
        "too-deep-huge",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a17a") + b"\x91" * 100000 + b"\xc0",
        "too_deep",
        "ScalarU8",
    )
    # Precedence: framing faults (the bytes are not exactly one well-formed msgpack value)
    # are found before any schema fault and reported at the sample.
    err(
        cat,
        "framing-before-type",
        "scalars",
        "ScalarU8",
        "msgpack",
        mp({"v": "x"}) + b"\x00",
        "trailing_bytes",
        "ScalarU8",
        note="a wrong-type field and a trailing byte: the trailing byte wins",
    )
    err(
        cat,
        "framing-before-missing",
        "scalars",
        "AllScalars",
        "msgpack",
        mp({"b": True}) + b"\xc1",
        "trailing_bytes",
        "AllScalars",
        note="trailing bytes are reported before the missing fields",
    )
    err(
        cat,
        "framing-later-truncation",
        "scalars",
        "AllScalars",
        "msgpack",
        mp({"b": 1, "i8v": 300})[:-1],
        "truncated",
        "AllScalars",
        note="a truncation (inside a uint16) after a wrong-type field: the truncation wins",
    )
    err(
        cat,
        "framing-reserved-after-type",
        "scalars",
        "AllScalars",
        "msgpack",
        bytes.fromhex("82a162a178a17ac1"),
        "malformed",
        "AllScalars",
        note="of several framing faults, the first in byte order is reported",
    )
    err(
        cat,
        "framing-utf8-after-type",
        "scalars",
        "AllScalars",
        "msgpack",
        bytes.fromhex("82a16201a173a1ff"),
        "invalid_utf8",
        "AllScalars",
    )
    err(
        cat,
        "json-framing-before-type",
        "scalars",
        "AllScalars",
        "json",
        '{"b":1,"s":"x"',
        "truncated",
        "AllScalars",
        note="JSON text is parsed whole before fields are read",
    )
    err(
        cat,
        "json-framing-before-missing",
        "scalars",
        "ScalarU16",
        "json",
        '{"z":1} x',
        "malformed",
        "ScalarU16",
    )
    # JSON framing
    # JSON text that ends early is truncated, like msgpack; other syntax errors are malformed
    err(cat, "json-empty", "scalars", "ScalarU8", "json", "", "truncated", "ScalarU8")
    err(
        cat,
        "json-syntax",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":7',
        "truncated",
        "ScalarU8",
    )
    err(
        cat,
        "json-unclosed-string",
        "scalars",
        "ScalarStr",
        "json",
        '{"v":"ab',
        "truncated",
        "ScalarStr",
    )
    err(
        cat,
        "json-bad-token",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":tru}',
        "malformed",
        "ScalarU8",
    )
    err(
        cat,
        "json-trailing-comma",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":7,}',
        "malformed",
        "ScalarU8",
    )
    err(
        cat,
        "json-trailing-value",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":7} {}',
        "malformed",
        "ScalarU8",
    )
    ok(
        cat,
        "json-whitespace",
        "scalars",
        "ScalarU8",
        "json",
        ' \n{ "v" : 7 }\n',
        R(("v", I(7))),
    )
    err(
        cat,
        "json-bom",
        "scalars",
        "ScalarU8",
        "json",
        '\ufeff{"v":7}',
        "malformed",
        "ScalarU8",
        note="JSON text must not start with a BOM",
    )
    err(
        cat,
        "json-top-array",
        "scalars",
        "ScalarU8",
        "json",
        "[7]",
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "json-top-null",
        "scalars",
        "ScalarU8",
        "json",
        "null",
        "wrong_type",
        "ScalarU8",
    )
    err(
        cat,
        "json-dup-field",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":7,"v":8}',
        "duplicate_key",
        "ScalarU8.v",
    )
    err(
        cat,
        "json-dup-unknown",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":7,"z":1,"z":1}',
        "duplicate_key",
        "ScalarU8.z",
    )
    _add(
        cat,
        "json-invalid-utf8",
        "scalars",
        "ScalarStr",
        "json",
        {"input_hex": b'{"v":"\xff"}'.hex()},
        {"error": {"kind": "malformed", "path": "ScalarStr"}},
        "JSON text that is not UTF-8 is not JSON",
    )
    err(
        cat,
        "json-single-quotes",
        "scalars",
        "ScalarU8",
        "json",
        "{'v':7}",
        "malformed",
        "ScalarU8",
    )


# -- packed ---------------------------------------------------------------------------------


class Bits:
    """An LSB-first bitstream (DESIGN §5), for building packed inputs by hand."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def put(self, value: int, n: int) -> None:
        u = value & ((1 << n) - 1)
        self.bits.extend((u >> i) & 1 for i in range(n))

    def compact(self, total: int, words_len: int, tail_bytes: int) -> bytes:
        assert len(self.bits) == total
        nbytes = 4 * words_len + tail_bytes
        out = bytearray(nbytes)
        for p, b in enumerate(self.bits):
            if b:
                out[p >> 3] |= 1 << (p & 7)
        return bytes(out)


def bits_packed(a: int, s: int, f: bool, arr: list[int]) -> bytes:
    st = Bits()
    st.put(a, 3)
    st.put(s, 4)
    st.put(int(f), 1)
    for x in arr:
        st.put(x, 12)
    return st.compact(44, 1, 2)


def agg_packed(
    kinds: list[int], alive: list[bool], lvl: int, neg: list[int], wide: int
) -> bytes:
    st = Bits()
    for k in kinds:
        st.put(k, 4)
    for x in alive:
        st.put(int(x), 1)
    st.put(lvl, 5)
    for n in neg:
        st.put(n, 9)
    st.put(wide, 32)
    return st.compact(65, 2, 1)


def packed() -> None:
    cat = "packed"
    for a, s, f, arr in (
        (0, 0, False, [0, 0, 0]),
        (7, -8, True, [4095, 1, 2048]),
        (5, -1, False, [1, 2, 3]),
        (1, 7, True, [0, 4095, 0]),
    ):
        v = R(("a", I(a)), ("s", I(s)), ("f", B(f)), ("arr", A("u16", [3], arr)))
        ok(
            cat,
            f"bits-{a}-{s}-{int(f)}-{'-'.join(map(str, arr))}",
            "packing",
            "Bits",
            "packed",
            bits_packed(a, s, f, arr),
            v,
            note="44 bits: one word and two tail bytes",
        )
    good = bits_packed(5, -1, False, [1, 2, 3])
    err(
        cat,
        "bits-short",
        "packing",
        "Bits",
        "packed",
        good[:-1],
        "bad_padding",
        "Bits",
        note="a packed input of the wrong length",
    )
    err(
        cat,
        "bits-long",
        "packing",
        "Bits",
        "packed",
        good + b"\x00",
        "bad_padding",
        "Bits",
    )
    err(
        cat,
        "bits-double",
        "packing",
        "Bits",
        "packed",
        good + good,
        "bad_padding",
        "Bits",
        note="one sample is exactly one row",
    )
    err(cat, "bits-empty", "packing", "Bits", "packed", b"", "bad_padding", "Bits")
    for bit in (44, 45, 47):
        bad = bytearray(good)
        bad[bit >> 3] |= 1 << (bit & 7)
        err(
            cat,
            f"bits-padding-bit-{bit}",
            "packing",
            "Bits",
            "packed",
            bytes(bad),
            "bad_padding",
            "Bits",
            note="padding bits must be zero",
        )
    for kinds, alive, lvl, neg, wide in (
        ([0, 0], [False, False], 0, [0, 0], 0),
        ([15, 3], [True, False], 31, [-256, 255], 2**32 - 1),
        ([9, 10], [False, True], 17, [-1, 1], 123456789),
    ):
        v = R(
            (
                "cells",
                L(
                    R(("kind", I(kinds[0])), ("alive", B(alive[0]))),
                    R(("kind", I(kinds[1])), ("alive", B(alive[1]))),
                ),
            ),
            ("lvl", I(lvl)),
            ("neg", A("i16", [2], neg)),
            ("wide", I(wide)),
        )
        data = agg_packed(kinds, alive, lvl, neg, wide)
        ok(
            cat,
            f"agg-{lvl}-{wide}",
            "packing",
            "Agg",
            "packed",
            data,
            v,
            note="leaves depth-first, component-array leaves prefixed with the array dims",
        )
        ok(cat, f"agg-{lvl}-{wide}-msgpack", "packing", "Agg", "msgpack", mp(v.wire), v)
    agood = agg_packed([1, 2], [True, True], 3, [4, 5], 6)
    for bit in (65, 71):
        bad = bytearray(agood)
        bad[bit >> 3] |= 1 << (bit & 7)
        err(
            cat,
            f"agg-padding-bit-{bit}",
            "packing",
            "Agg",
            "packed",
            bytes(bad),
            "bad_padding",
            "Agg",
        )
    err(cat, "agg-short", "packing", "Agg", "packed", agood[:8], "bad_padding", "Agg")
    err(
        cat,
        "agg-words-only",
        "packing",
        "Agg",
        "packed",
        agood + b"\x00\x00\x00",
        "bad_padding",
        "Agg",
        note="the in-memory words (12 bytes) are not the compact form (9 bytes)",
    )
    err(
        cat,
        "agg-msgpack-bits",
        "packing",
        "Agg",
        "msgpack",
        mp(
            {
                "cells": [{"kind": 16, "alive": True}, {"kind": 0, "alive": False}],
                "lvl": 0,
                "neg": A("i16", [2], [0, 0]).wire,
                "wide": 0,
            }
        ),
        "bits_overflow",
        "Agg.cells[0].kind",
    )
    err(
        cat,
        "agg-msgpack-neg-bits",
        "packing",
        "Agg",
        "msgpack",
        mp(
            {
                "cells": [{"kind": 1, "alive": True}, {"kind": 0, "alive": False}],
                "lvl": 0,
                "neg": A("i16", [2], [0, 256]).wire,
                "wide": 0,
            }
        ),
        "bits_overflow",
        "Agg.neg",
    )


# -- decisions (README "Decisions where the runtimes used to disagree") ----------------------


def decisions() -> None:
    cat = "decisions"
    err(
        cat,
        "typestr-big-endian",
        "arrays",
        "ArrayF32",
        "msgpack",
        mp({"v": payload(">f4", [2], struct.pack(">2f", 1, 2))}),
        "dtype_mismatch",
        "ArrayF32.v",
    )
    err(
        cat,
        "typestr-bare",
        "arrays",
        "ArrayU16",
        "msgpack",
        mp({"v": payload("u2", [2], raw("u16", [1, 2]))}),
        "dtype_mismatch",
        "ArrayU16.v",
    )
    err(
        cat,
        "typestr-bare-json",
        "arrays",
        "ArrayF32",
        "json",
        jtext(
            {
                "v": {
                    "data_b64": base64.b64encode(raw("f32", [1, 2])).decode(),
                    "shape": [2],
                    "dtype": "f4",
                }
            }
        ),
        "dtype_mismatch",
        "ArrayF32.v",
    )
    ok(
        cat,
        "typestr-json-numpy-name",
        "arrays",
        "ArrayF32",
        "json",
        jtext(
            {
                "v": {
                    "data_b64": base64.b64encode(raw("f32", [1, 2])).decode(),
                    "shape": [2],
                    "dtype": "float32",
                }
            }
        ),
        R(("v", A("f32", [2], [1, 2]))),
    )
    err(
        cat,
        "b64-unpadded-array",
        "arrays",
        "ArrayU8",
        "json",
        jtext({"v": {"data_b64": "AAE", "shape": [2], "dtype": "uint8"}}),
        "invalid_base64",
        "ArrayU8.v",
    )
    err(
        cat,
        "b64-urlsafe-array",
        "arrays",
        "ArrayU8",
        "json",
        jtext({"v": {"data_b64": "-_8=", "shape": [2], "dtype": "uint8"}}),
        "invalid_base64",
        "ArrayU8.v",
    )
    err(
        cat,
        "b64-bad-char",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"AA*="}',
        "invalid_base64",
        "ScalarBytes.v",
    )
    err(
        cat,
        "b64-extra-padding",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"AA==="}',
        "invalid_base64",
        "ScalarBytes.v",
    )
    err(
        cat,
        "npy-fortran",
        "arrays",
        "Grid",
        "msgpack",
        mp(
            {
                "v": _npy(
                    np.zeros((2, 3), np.float32),
                    "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                )
            }
        ),
        "bad_npy",
        "Grid.v",
    )
    err(
        cat,
        "npy-bad-magic",
        "arrays",
        "ArrayU8",
        "msgpack",
        mp({"v": b"\x93NUMPX\x01\x00" + b"\x00" * 8}),
        "bad_npy",
        "ArrayU8.v",
    )
    err(
        cat, "json-bom-object", "records", "Opt", "json", "\ufeff{}", "malformed", "Opt"
    )
    err(
        cat,
        "json-dup-in-component",
        "records",
        "Opt",
        "json",
        '{"c":{"xy":[1,2],"xy":[1,2],"tag":0}}',
        "duplicate_key",
        "Opt.c.xy",
    )
    err(
        cat,
        "json-bare-infinity",
        "scalars",
        "ScalarF32",
        "json",
        '{"v":Infinity}',
        "malformed",
        "ScalarF32",
    )
    err(
        cat,
        "json-bare-minus-infinity",
        "scalars",
        "ScalarF32",
        "json",
        '{"v":-Infinity}',
        "malformed",
        "ScalarF32",
    )
    ok(
        cat,
        "json-integral-float-u64",
        "scalars",
        "ScalarU64",
        "json",
        '{"v":1e3}',
        R(("v", I(1000))),
        note="1e3 is integral",
    )
    err(
        cat,
        "json-integral-float-out-of-range",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":256.0}',
        "out_of_range",
        "ScalarU8.v",
    )
    ok(
        cat,
        "json-negative-zero-int",
        "scalars",
        "ScalarI8",
        "json",
        '{"v":-0.0}',
        R(("v", I(0))),
    )
    err(
        cat,
        "f16-1e10",
        "scalars",
        "ScalarF16",
        "json",
        '{"v":1e10}',
        "out_of_range",
        "ScalarF16.v",
        note="never silently infinity",
    )
    ok(
        cat,
        "f16-max-finite",
        "scalars",
        "ScalarF16",
        "json",
        '{"v":65504}',
        R(("v", F(65504.0))),
    )
    ok(
        cat,
        "f16-rounds-to-max",
        "scalars",
        "ScalarF16",
        "json",
        '{"v":65519}',
        R(("v", F(65504.0))),
        note="65519 rounds to 65504 (finite) under round-to-nearest-even: not an overflow",
    )
    err(
        cat,
        "f16-rounds-to-inf",
        "scalars",
        "ScalarF16",
        "json",
        '{"v":65520}',
        "out_of_range",
        "ScalarF16.v",
        note="65520 would round to infinity",
    )
    ok(
        cat,
        "f32-max-finite",
        "scalars",
        "ScalarF32",
        "msgpack",
        mp({"v": 3.4028234663852886e38}),
        R(("v", F(3.4028234663852886e38))),
    )
    err(
        cat,
        "msgpack-dup-sample-key",
        "records",
        "Defaults",
        "msgpack",
        bytes.fromhex("82a16101a16102"),
        "duplicate_key",
        "Defaults.a",
    )
    err(
        cat,
        "msgpack-numpy-dup-key",
        "arrays",
        "ArrayU8",
        "msgpack-numpy",
        bytes.fromhex("81a176")
        + b"\x86"
        + b"".join(mp(k) + mp(val) for k, val in np_map("u8", [2], [1, 2]).items())
        + mp(b"nd")
        + mp(True),
        "duplicate_key",
        "ArrayU8.v",
        note="a msgpack-numpy dict with a key given twice",
    )
    err(
        cat,
        "msgpack-numpy-missing-data",
        "arrays",
        "ArrayU8",
        "msgpack-numpy",
        mp(
            {
                "v": {
                    k: val
                    for k, val in np_map("u8", [2], [1, 2]).items()
                    if k != b"data"
                }
            }
        ),
        "wrong_type",
        "ArrayU8.v",
    )
    err(
        cat,
        "msgpack-numpy-shape-not-ints",
        "arrays",
        "ArrayU8",
        "msgpack-numpy",
        mp({"v": {**np_map("u8", [2], [1, 2]), b"shape": ["2"]}}),
        "wrong_type",
        "ArrayU8.v.shape[0]",
        note="paths go on into the msgpack-numpy map",
    )
    err(
        cat,
        "msgpack-numpy-payload-short",
        "arrays",
        "ArrayU8",
        "msgpack-numpy",
        mp({"v": {**np_map("u8", [2], [1, 2]), b"data": b"\x01"}}),
        "payload_length",
        "ArrayU8.v",
    )
    err(
        cat,
        "msgpack-numpy-shape",
        "arrays",
        "ArrayU8",
        "msgpack-numpy",
        mp({"v": np_map("u8", [1, 2], [1, 2])}),
        "shape_mismatch",
        "ArrayU8.v",
    )
    err(
        cat,
        "msgpack-numpy-dtype",
        "arrays",
        "ArrayU8",
        "msgpack-numpy",
        mp({"v": np_map("i8", [2], [1, 2])}),
        "dtype_mismatch",
        "ArrayU8.v",
    )
    err(
        cat,
        "msgpack-numpy-negative-shape",
        "arrays",
        "Dyn",
        "msgpack-numpy",
        mp({"v": {**np_map("i32", [0], []), b"shape": [-1]}}),
        "out_of_range",
        "Dyn.v.shape[0]",
        note="a msgpack int shape entry must fit u64",
    )
    ok(
        cat,
        "msgpack-numpy-scalar-fields",
        "scalars",
        "AllScalars",
        "msgpack-numpy",
        mp(
            {
                "b": True,
                "i8v": 1,
                "i16v": 2,
                "i32v": 3,
                "i64v": 4,
                "u8v": 5,
                "u16v": 6,
                "u32v": 7,
                "u64v": 8,
                "h": 0.5,
                "bh": 1.0,
                "f": 2.0,
                "d": 4.0,
                "s": "x",
                "raw": b"y",
            }
        ),
        R(
            ("b", B(True)),
            ("i8v", I(1)),
            ("i16v", I(2)),
            ("i32v", I(3)),
            ("i64v", I(4)),
            ("u8v", I(5)),
            ("u16v", I(6)),
            ("u32v", I(7)),
            ("u64v", I(8)),
            ("h", F(0.5)),
            ("bh", F(1.0)),
            ("f", F(2.0)),
            ("d", F(4.0)),
            ("s", S("x")),
            ("raw", Y(b"y")),
        ),
        note="msgpack-numpy leaves scalars as plain msgpack",
    )


# -- found by the differential test (python/tests/test_differential.py) ---------------------


def differential() -> None:
    """Inputs on which the three runtimes disagreed, with the decided verdict."""
    cat = "differential"
    # structural faults (framing, duplicate keys) before schema faults, first in byte order
    err(
        cat,
        "dup-before-trailing",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a1760700"),
        "duplicate_key",
        "ScalarU8.v",
        note="a duplicate key comes before the trailing byte",
    )
    err(
        cat,
        "dup-before-wrong-type",
        "scalars",
        "ScalarBool",
        "msgpack",
        bytes.fromhex("82a17690a176c3"),
        "duplicate_key",
        "ScalarBool.v",
        note="the first value has the wrong type, but the key is given twice: structure first",
    )
    err(
        cat,
        "dup-before-out-of-range",
        "scalars",
        "ScalarI32",
        "msgpack",
        bytes.fromhex("82a176cec1d8c3b9a176ce48d8c3b9"),
        "duplicate_key",
        "ScalarI32.v",
    )
    err(
        cat,
        "json-dup-before-wrong-type",
        "scalars",
        "ScalarU64",
        "json",
        '{"v":3.5,"v":3.5}',
        "duplicate_key",
        "ScalarU64.v",
    )
    err(
        cat,
        "json-malformed-before-variant",
        "records",
        "Enums",
        "json",
        '{"c":"bo":"green"}',
        "malformed",
        "Enums",
    )
    err(
        cat,
        "json-malformed-before-type",
        "scalars",
        "ScalarU8",
        "json",
        '{"v":"NaN"v":246}',
        "malformed",
        "ScalarU8",
    )
    err(
        cat,
        "wrong-type-then-trailing",
        "scalars",
        "ScalarF64",
        "msgpack",
        mp({"v": "x"}) + b"\x01",
        "trailing_bytes",
        "ScalarF64",
    )
    err(
        cat,
        "out-of-range-alone",
        "scalars",
        "ScalarU16",
        "msgpack",
        bytes.fromhex("81a176d08b"),
        "out_of_range",
        "ScalarU16.v",
        note="control for the next case: -117 for u16 and nothing after it",
    )
    err(
        cat,
        "out-of-range-then-malformed",
        "scalars",
        "ScalarU16",
        "msgpack",
        bytes.fromhex("81a176d08bc1"),
        "trailing_bytes",
        "ScalarU16",
    )
    # inside one array value: dtype, then payload length, then shape
    err(
        cat,
        "payload-before-shape",
        "arrays",
        "ArrayF32",
        "msgpack",
        mp({"v": payload("<f4", [3], raw("f32", [1, 2]))}),
        "payload_length",
        "ArrayF32.v",
        note="shape [3] with two elements of data: the payload is checked before the schema's shape",
    )
    err(
        cat,
        "dtype-before-payload",
        "arrays",
        "ArrayI32",
        "msgpack",
        mp({"v": payload("<f4", [2], b"\x00" * 3)}),
        "dtype_mismatch",
        "ArrayI32.v",
    )
    err(
        cat,
        "json-dtype-before-payload",
        "arrays",
        "ArrayI32",
        "json",
        jtext({"v": {"data_b64": "AAAA", "shape": [2], "dtype": "float32"}}),
        "dtype_mismatch",
        "ArrayI32.v",
    )
    err(
        cat,
        "json-dtype-before-base64",
        "arrays",
        "ArrayF32",
        "json",
        jtext({"v": {"data_b64": "*AA=", "shape": [2], "dtype": "uint8"}}),
        "dtype_mismatch",
        "ArrayF32.v",
    )
    err(
        cat,
        "json-dtype-before-base64-key-order",
        "arrays",
        "ArrayF32",
        "json",
        jtext({"v": {"dtype": "uint8", "shape": [2], "data_b64": "*AA="}}),
        "dtype_mismatch",
        "ArrayF32.v",
        note="the order of checks does not depend on the key order",
    )
    err(
        cat,
        "json-base64-before-shape",
        "arrays",
        "ArrayU16",
        "json",
        jtext({"v": {"data_b64": "AQD", "shape": [3], "dtype": "uint16"}}),
        "invalid_base64",
        "ArrayU16.v",
        note="unpadded base64 that is also too short for the shape: base64 first",
    )
    err(
        cat,
        "json-array-missing-dtype",
        "arrays",
        "Dyn2",
        "json",
        jtext({"v": {"data_b64": "", "shape": [0, 3]}}),
        "missing_field",
        "Dyn2.v",
        note="the JSON array object has exactly data_b64, shape and dtype",
    )
    err(
        cat,
        "json-nested-list-bool-for-int",
        "arrays",
        "ArrayU64",
        "json",
        '{"v":[true,1]}',
        "wrong_type",
        "ArrayU64.v",
    )
    err(
        cat,
        "json-nested-list-huge-for-i8",
        "arrays",
        "ArrayI8",
        "json",
        '{"v":[-128,1e39]}',
        "out_of_range",
        "ArrayI8.v",
    )
    err(
        cat,
        "npy-junk-after-dict",
        "arrays",
        "ArrayU64",
        "msgpack",
        mp(
            {
                "v": _npy(
                    np.array([2**64 - 1, 1], np.uint64),
                    "{'descr': '<u8', 'fortran_order': False, 'shape': (2,), } (",
                )
            }
        ),
        "bad_npy",
        "ArrayU64.v",
        note="after the header dict only spaces and the newline",
    )
    err(
        cat,
        "msgpack-numpy-unknown-key",
        "arrays",
        "ArrayU16",
        "msgpack-numpy",
        mp({"v": {**np_map("u16", [2], [1, 2]), b"zz": 1}}),
        "wrong_type",
        "ArrayU16.v",
        note="a msgpack-numpy map has exactly nd, type, kind, shape, data",
    )
    err(
        cat,
        "msgpack-numpy-bad-bool",
        "arrays",
        "ArrayBool",
        "msgpack-numpy",
        mp({"v": {**np_map("bool", [3], [1, 0, 1]), b"data": b"\x01\x00\xc1"}}),
        "invalid_bool",
        "ArrayBool.v",
    )
    err(
        cat,
        "json-b64-unpadded-scalar-bytes",
        "scalars",
        "ScalarBytes",
        "json",
        '{"v":"zQ"}',
        "invalid_base64",
        "ScalarBytes.v",
    )

    # Error precedence (docs/language.md): faults met while reading, in wire order; then
    # missing fields in declaration order; then named dims, @range and @bits.
    err(
        cat,
        "wire-order-dtype-before-missing",
        "packing",
        "Bits",
        "msgpack",
        mp({"arr": payload("<f8", [3], struct.pack("<3d", 0.0, 0.0, 0.0))}),
        "dtype_mismatch",
        "Bits.arr",
        note="a fault inside a present field comes before the missing fields a, s, f",
    )
    err(
        cat,
        "wire-order-fault-before-int-key",
        "packing",
        "FieldPk",
        "msgpack",
        mp({"p": payload("", [], b""), 37: -20}),
        "dtype_mismatch",
        "FieldPk.p",
        note="the int key comes after the faulty field on the wire",
    )
    err(
        cat,
        "missing-before-range",
        "records",
        "Ranged",
        "msgpack",
        mp({"p": 1.5}),
        "missing_field",
        "Ranged.i",
        note="@range is checked after the missing fields",
    )
    err(
        cat,
        "read-fault-before-bits",
        "packing",
        "Bits",
        "msgpack",
        mp(
            {"a": 9, "s": 1, "f": True, "arr": payload("<u2", [3], b"\x01\x00\x02\x00")}
        ),
        "payload_length",
        "Bits.arr",
        note="a = 9 overflows @bits(3), but @bits waits until every field is read",
    )
    err(
        cat,
        "packed-bits-in-wire-order",
        "packing",
        "FieldPk",
        "msgpack",
        mp({"p": payload("|u1", [5], bytes([1, 2, 3, 4, 9])), "q": "x"}),
        "bits_overflow",
        "FieldPk.p",
        note="a @packed field is packed as it is read: its @bits is a fault of reading it",
    )
    err(
        cat,
        "unknown-typestr-before-dims",
        "arrays",
        "ArrayI16",
        "msgpack",
        mp({"v": b"\x02<i" + bytes([50]) + bytes(13)}),
        "dtype_mismatch",
        "ArrayI16.v",
        note="the typestr <i is unknown; the 50 dims the header then claims are never read",
    )
    err(
        cat,
        "dup-array-keys-before-trailing",
        "records",
        "Lists",
        "msgpack",
        bytes.fromhex("83906c90a16e90a16190"),
        "duplicate_key",
        "Lists",
        note="three [] keys (the same bytes, so the same key), then a trailing byte",
    )
    err(
        cat,
        "json-key-without-colon",
        "scalars",
        "ScalarI16",
        "json",
        '{"v"3276',
        "malformed",
        "ScalarI16",
        note="the text is cut short too, but the first fault is the missing colon",
    )
    err(
        cat,
        "json-brace-then-number",
        "scalars",
        "ScalarU8",
        "json",
        "{5",
        "malformed",
        "ScalarU8",
    )
    err(
        cat,
        "json-leading-dot-number",
        "scalars",
        "ScalarF64",
        "json",
        '{"v":.0171',
        "malformed",
        "ScalarF64",
        note="no JSON number starts with a dot: malformed, though the text also ends early",
    )
    err(
        cat,
        "json-array-missing-key-before-base64",
        "arrays",
        "Grid",
        "json",
        '{"v":{"data_b64":"L20eQZi3FcFLX+rAMwKEQY6DcD9llxA","shape":[2,3],"dt{pe":"float32"}}',
        "missing_field",
        "Grid.v",
        note="dtype is missing (the key is misspelt): checked before the base64",
    )
    # A NaN narrowed to f16 is quieted: sign, quiet bit, the payload's top 10 bits.
    for name, given, kept in (
        ("f16-signalling-nan-quieted", "7ff0800000000000", "7ff8800000000000"),
        ("f16-nan-low-payload-quieted", "fff0000000c10000", "fff8000000000000"),
    ):
        ok(
            cat,
            name,
            "scalars",
            "ScalarF16",
            "msgpack",
            bytes.fromhex("81a176cb" + given),
            R(("v", V(struct.unpack(">d", bytes.fromhex(kept))[0], "NaN"))),
            note=f"the f64 NaN {given} reads as the f16 NaN that widens to {kept}",
        )
    differential_json_text()
    differential_schema_order()
    differential_round_two()
    aliases()


def aliases() -> None:
    """`@alias("id")` on `ident`: both keys read into the field, the new one is written;
    both at once is a duplicate key at the one that comes second (docs/language.md)."""
    cat = "decisions"
    want = R(("ident", I(7)), ("n", I(1)))
    ok(
        cat,
        "alias-key-read-msgpack",
        "records",
        "Renamed",
        "msgpack",
        mp({"id": 7, "n": 1}),
        want,
    )
    ok(cat, "alias-key-read-json", "records", "Renamed", "json", '{"n":1,"id":7}', want)
    for fmt, data, path in (
        ("msgpack", mp({"id": 1, "ident": 2, "n": 0}), "Renamed.ident"),
        ("json", '{"ident":2,"id":1,"n":0}', "Renamed.id"),
    ):
        err(
            cat,
            f"alias-and-name-both-{fmt}",
            "records",
            "Renamed",
            fmt,
            data,
            "duplicate_key",
            path,
        )
    err(
        cat,
        "alias-key-fault-at-the-key-json",
        "records",
        "Renamed",
        "json",
        '{"id":"x","n":0}',
        "wrong_type",
        "Renamed.id",
    )
    err(
        cat,
        "alias-missing-json",
        "records",
        "Renamed",
        "json",
        '{"n":0}',
        "missing_field",
        "Renamed.ident",
    )


def differential_json_text() -> None:
    """JSON text faults the runtimes ranked differently: a lone surrogate escape is met
    where it stands (before an end of text, a duplicate key), a control character in a
    string is malformed even at the end, a bare NaN is malformed before a later duplicate."""
    cat = "differential"
    for name, text, kind, path in (
        (
            "lone-trailing-surrogate-then-end",
            '{"v":"d\\ude00',
            "invalid_utf8",
            "ScalarStr.v",
        ),
        ("leading-surrogate-then-end", '{"v":"\\ud800', "truncated", "ScalarStr"),
        (
            "leading-surrogate-then-other-escape",
            '{"v":"\\ud800\\x"}',
            "invalid_utf8",
            "ScalarStr.v",
        ),
        ("surrogate-pair-bad-hex", '{"v":"\\ud83d\\ude0u"}', "malformed", "ScalarStr"),
        (
            "lone-surrogate-before-dup",
            '{"v":"\\ud800x","v":"a"}',
            "invalid_utf8",
            "ScalarStr.v",
        ),
        ("control-char-at-end", '{"v":"a\n', "malformed", "ScalarStr"),
        ("bare-nan-before-dup", '{"v":NaN,"v":"a"}', "malformed", "ScalarStr"),
    ):
        err(cat, f"json-{name}", "scalars", "ScalarStr", "json", text, kind, path)


def differential_round_two() -> None:
    """Disagreements found by the differential test under other seeds
    (`SCHEMAC_DIFF_SEED`), each with the decided verdict."""
    cat = "differential"
    j = pt(1.0, 2.0, 3).js
    for name, schema, sample, text, kind, path in (
        (
            "json-bad-hex-then-end",
            "scalars",
            "ScalarStr",
            '{"v":"\\ud}',
            "malformed",
            "ScalarStr",
        ),
        (
            "json-control-char-after-number",
            "scalars",
            "ScalarI8",
            '{"v":1.0\x1d',
            "malformed",
            "ScalarI8",
        ),
        (
            "json-junk-after-value-before-dup",
            "scalars",
            "ScalarStr",
            '{"v":"a"$"v":"b"}',
            "malformed",
            "ScalarStr",
        ),
        (
            "json-bad-literal-before-dup",
            "scalars",
            "ScalarStr",
            '{"v":nulc,"v":"b"}',
            "malformed",
            "ScalarStr",
        ),
        (
            "json-dot-then-exponent",
            "scalars",
            "ScalarF64",
            '{"v":0.E8',
            "malformed",
            "ScalarF64",
        ),
        (
            "json-number-cut-after-e",
            "scalars",
            "ScalarF64",
            '{"v":0.5e',
            "truncated",
            "ScalarF64",
        ),
        (
            "json-data-b64-type-after-missing-shape",
            "arrays",
            "Dyn",
            '{"v":{"data_b64":[1],"dtype":"int32"}}',
            "missing_field",
            "Dyn.v",
        ),
        (
            "json-comp-array-count-before-missing",
            "records",
            "CompArr",
            json.dumps({"ps": [j, j, j], "dyn": []}),
            "shape_mismatch",
            "CompArr.ps",
        ),
        (
            "json-element-fault-before-inner-count",
            "records",
            "CompArr",
            json.dumps({"ps": [j, j], "grid": [[j], [j, {"xy": j["xy"]}]], "dyn": []}),
            "missing_field",
            "CompArr.grid[1][1].tag",
        ),
        (
            "json-read-fault-before-component-bits",
            "packing",
            "Agg",
            json.dumps(
                {
                    "cells": [{"kind": 20, "alive": True}, {"kind": 1, "alive": False}],
                    "lvl": 1,
                    "neg": {"data_b64": "AQACAA==", "shape": [2], "dtype": ">i2"},
                    "wide": 1,
                }
            ),
            "dtype_mismatch",
            "Agg.neg",
        ),
    ):
        err(cat, name, schema, sample, "json", text, kind, path)
    ok(
        cat,
        "json-minus-zero-is-negative-zero",
        "scalars",
        "ScalarF16",
        "json",
        '{"v":-0}',
        R(("v", F(-0.0))),
        note="the integer token -0 is the float -0.0 for a float field",
    )
    err(
        cat,
        "msgpack-map-entry-fault-before-int-key",
        "records",
        "Maps",
        "msgpack",
        mp({"m": {"a": "x", 5: 1}, "p": {}}),
        "wrong_type",
        'Maps.m["a"]',
    )
    err(
        cat,
        "msgpack-map-fixed-shape-in-entry-order",
        "records",
        "Maps",
        "msgpack",
        mp(
            {
                "m": {},
                "p": {
                    "z": {"xy": payload("<f4", [3], raw("f32", [1, 2, 3])), "tag": 0},
                    "k": {"xy": payload("<f4", [-1], b""), "tag": 1},
                },
            }
        ),
        "shape_mismatch",
        'Maps.p["z"].xy',
    )
    err(
        cat,
        "msgpack-numpy-shape-before-bad-key",
        "arrays",
        "ArrayF64",
        "msgpack-numpy",
        mp_np(
            {
                "v": {
                    b"nd": True,
                    b"type": "<f8",
                    b"kind": b"",
                    b"shape": [-1],
                    b"xata": raw("f64", [1, 2]),
                }
            }
        ),
        "out_of_range",
        "ArrayF64.v.shape[0]",
    )
    err(
        cat,
        "payload-unknown-typestr-before-ndim",
        "arrays",
        "ArrayBool",
        "msgpack",
        mp({"v": b"\x00"}),
        "dtype_mismatch",
        "ArrayBool.v",
    )
    for name, header in (
        (
            "npy-header-not-utf8",
            "{'descr': '<f\xab', 'fortran_order': False, 'shape': (2,), }",
        ),
        (
            "npy-header-tab-padding",
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\t",
        ),
    ):
        err(
            cat,
            name,
            "arrays",
            "ArrayI32",
            "msgpack",
            mp({"v": _npy(np.array([1, 2], dtype="<i4"), header)}),
            "bad_npy",
            "ArrayI32.v",
        )
    for name, text, kind in (
        ("json-bare-number-is-0d", '{"v":7}', "shape_mismatch"),
        ("json-bare-number-element-first", '{"v":300}', "out_of_range"),
    ):
        err(cat, name, "arrays", "ArrayI8", "json", text, kind, "ArrayI8.v")
    ok(
        cat,
        "msgpack-f16-rounds-once",
        "scalars",
        "ScalarF16",
        "msgpack",
        bytes.fromhex("81a176cb3ff6fa0000082000"),
        R(("v", F(1.4365234375))),
        note="just above a tie between two f16s: up (through f32 it would be a tie, down)",
    )
    err(
        cat,
        "msgpack-int-keys-equal-by-value",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("83a1760700c0cc00c0"),
        "duplicate_key",
        "ScalarU8",
        note="the int keys 00 and cc 00 are the same key 0",
    )
    for name, ext, want in (
        ("msgpack-timestamp-bad-length", "d4ff00", "malformed"),
        (
            "msgpack-timestamp-nanos-too-big",
            "d7ff" + "ffffffff" + "00000000",
            "malformed",
        ),
    ):
        err(
            cat,
            name,
            "scalars",
            "ScalarU8",
            "msgpack",
            bytes.fromhex("82a17607a174" + ext),
            want,
            "ScalarU8",
            note="msgpack's timestamp ext (-1) has 4, 8 or 12 bytes and nanoseconds < 10^9",
        )
    ok(
        cat,
        "msgpack-timestamp-ignored-key",
        "scalars",
        "ScalarU8",
        "msgpack",
        bytes.fromhex("82a17607a174d6ff00000001"),
        R(("v", I(7))),
    )
    err(
        cat,
        "empty-shape-past-numpy-bound",
        "arrays",
        "Dyn",
        "msgpack",
        mp({"v": payload("<i4", [0, 2**62], b"")}),
        "too_large",
        "Dyn.v",
        note="np.empty refuses it: item size times the non-zero dims past i64",
    )
    err(
        cat,
        "bits-before-range",
        "packing",
        "BitsRange",
        "msgpack",
        mp({"v": payload("|i1", [2], raw("i8", [-112, 0]))}),
        "bits_overflow",
        "BitsRange.v",
        note="-112 breaks both @bits(4) and @range(-8, 7): @bits is checked first",
    )


def differential_schema_order() -> None:
    """Schema faults the runtimes ranked differently: a field's fault comes in key order,
    before a missing field and before a later key that is not a str; a fraction in an
    integer array is a type fault; a numpy header string with a NUL or backslash is no
    numpy header."""
    cat = "differential"
    err(
        cat,
        "json-field-fault-before-missing",
        "scalars",
        "AllScalars",
        "json",
        '{"zz":1,"u16v":-9223372036854775809}',
        "out_of_range",
        "AllScalars.u16v",
        note="b (declared first) is missing, but u16v's fault is met while reading",
    )
    err(
        cat,
        "msgpack-unknown-variant-before-int-key",
        "records",
        "Enums",
        "msgpack",
        bytes.fromhex("82a163a57f7265656e6fc0"),
        "unknown_variant",
        "Enums.c",
        note="the variant is read before the int key 111 is met",
    )
    err(
        cat,
        "json-fraction-in-int-array",
        "arrays",
        "ArrayI16",
        "json",
        '{"v":[-32768,3.5]}',
        "wrong_type",
        "ArrayI16.v",
    )
    for name, descr in (("nul", "<\x004"), ("backslash", "\\x3ci4")):
        header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2,), }"
        err(
            cat,
            f"npy-header-string-{name}",
            "arrays",
            "ArrayI32",
            "msgpack",
            mp({"v": _npy(np.array([1, 2], dtype="<i4"), header)}),
            "bad_npy",
            "ArrayI32.v",
            note="numpy's own reader refuses this header (or reads an escape)",
        )


# ---------------------------------------------------------------------------------------
# Archives: WebDataset shards (tar) and safetensors batch files
# ---------------------------------------------------------------------------------------
#
# A `shard` case is the bytes of one tar file, read through the shard reader and each
# member decoded with the sample's msgpack reader; `ok` lists `[key, canonical msgpack
# hex]` per sample in tar order. A `safetensors` case is the bytes of one batch file
# loaded as `<Name>Batch`; `ok` lists each row's canonical msgpack hex. Errors about the
# archive itself (`corrupt_archive`, `bad_key`, `fingerprint_mismatch`) and every
# safetensors error have the path `""`; a shard member that does not decode has its own
# kind and path, as a msgpack case would.


def _tar(
    members: list[tuple[str, bytes]], fmt: int = tarfile.GNU_FORMAT, **kw: object
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            for k, v in kw.items():
                setattr(info, k, v)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _fix(h: bytearray) -> bytes:
    h[148:156] = b" " * 8
    h[148:156] = f"{sum(h[:512]):06o}\0 ".encode()
    return bytes(h)


def _hdr(name: bytes, size: int, flag: bytes = b"0", gnu: bool = True) -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[124:136] = f"{size:011o}\0".encode()
    h[156:157] = flag
    h[257:265] = b"ustar  \0" if gnu else b"ustar\x0000"
    return _fix(h)


def _blocks(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def shard_ok(
    name: str, data: bytes, samples: list[tuple[str, V]], note: str = ""
) -> None:
    expect = {"ok": {"samples": [[k, mp(v.wire).hex()] for k, v in samples]}}
    _add(
        "shards",
        name,
        "scalars",
        "ScalarU8",
        "shard",
        {"input_hex": data.hex()},
        expect,
        note,
    )


def shard_err(
    name: str,
    data: bytes,
    kind: str,
    path: str = "",
    note: str = "",
    sample: str = "ScalarU8",
) -> None:
    expect = {"error": {"kind": kind, "path": path}}
    _add(
        "shards",
        name,
        "scalars",
        sample,
        "shard",
        {"input_hex": data.hex()},
        expect,
        note,
    )


def u8(v: int) -> V:
    return R(("v", I(v)))


def shards() -> None:
    three = _tar([(f"k{i}.msgpack", mp({"v": i})) for i in range(3)])
    k3 = [(f"k{i}", u8(i)) for i in range(3)]
    second = 1024  # each member: a header and one data block
    shard_ok("complete", three, k3)
    shard_ok("no-end-blocks", three[: 3 * 1024], k3, "the two zero blocks are optional")
    shard_ok("empty-archive", bytes(1024), [], "only the end blocks")
    shard_ok(
        "posix-format",
        _tar([("p.msgpack", mp({"v": 7}))], tarfile.USTAR_FORMAT),
        [("p", u8(7))],
    )
    shard_ok("nested-key", _tar([("a/b/c.msgpack", mp({"v": 1}))]), [("a/b/c", u8(1))])
    shard_ok(
        "non-canonical-member",
        _tar([("k.msgpack", b"\x81\xa1v\xcd\x00\x05")]),
        [("k", u8(5))],
        "a u16-marked 5 re-encodes as a fixint",
    )
    shard_err(
        "cut-in-header",
        three[: second + 100],
        "corrupt_archive",
        note="never a silent end",
    )
    shard_err("cut-in-data", three[: second + 512 + 2], "corrupt_archive")
    bad_sum = bytearray(three)
    bad_sum[second + 10] ^= 0xFF
    shard_err("bad-checksum", bytes(bad_sum), "corrupt_archive")
    huge = bytearray(three)
    h = bytearray(huge[second : second + 512])
    h[124:136] = f"{1 << 30:011o}\0".encode()
    huge[second : second + 512] = _fix(h)
    shard_err("size-past-end", bytes(huge), "corrupt_archive")
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(_tar([("k.msgpack", mp({"v": 1}))]))
    shard_err(
        "gzip", gz.getvalue(), "corrupt_archive", note="shards are uncompressed tar"
    )
    shard_err("garbage", b"not a tar file at all" * 40, "corrupt_archive")
    long = b"d" * 120 + b"/k.msgpack"
    gnu_long = _hdr(b"././@LongLink", len(long) + 1, b"L") + _blocks(long + b"\0")
    shard_ok(
        "gnu-long-name",
        gnu_long + _hdr(b"short", 4) + _blocks(mp({"v": 2})),
        [("d" * 120 + "/k", u8(2))],
    )
    shard_err("gnu-long-name-alone", gnu_long, "corrupt_archive")
    shard_err("gnu-long-name-then-end", gnu_long + bytes(1024), "corrupt_archive")
    shard_err(
        "gnu-long-name-twice", gnu_long + gnu_long + _hdr(b"x", 0), "corrupt_archive"
    )
    size_rec = b"10 size=4\n"
    shard_ok(
        "pax-size-overrides",
        _hdr(b"pax", len(size_rec), b"x", gnu=False)
        + _blocks(size_rec)
        + _hdr(b"k.msgpack", 1, gnu=False)
        + _blocks(mp({"v": 3})),
        [("k", u8(3))],
        "the pax size wins over the header's",
    )
    path_recs = b"99 bogus\n18 path=p.msgpack\n"
    shard_ok(
        "pax-path-after-bad-record",
        _hdr(b"pax", len(path_recs), b"x", gnu=False)
        + _blocks(path_recs)
        + _hdr(b"k.msgpack", 4)
        + _blocks(mp({"v": 4})),
        [("p", u8(4))],
    )
    shard_ok(
        "pax-long-names",
        _tar(
            [("d" * 150 + "/k.msgpack", mp({"v": 1})), ("sub/x.msgpack", mp({"v": 2}))],
            tarfile.PAX_FORMAT,
        ),
        [("d" * 150 + "/k", u8(1)), ("sub/x", u8(2))],
    )
    v7 = bytearray(_hdr(b"k.msgpack", 0, b"L"))
    v7[257:265] = bytes(8)
    shard_err(
        "v7-header-with-long-name-flag",
        _fix(v7),
        "bad_key",
        note="no ustar magic: not a long name",
    )
    good = ("ok.msgpack", mp({"v": 1}))
    for name, member in [
        ("key-dotdot", "../x.msgpack"),
        ("key-dotdot-inside", "a/../x.msgpack"),
        ("key-absolute", "/abs.msgpack"),
        ("key-empty-segment", "a//b.msgpack"),
        ("key-empty-last", "dir/.msgpack"),
        ("no-extension", "x"),
        ("other-extension", "k.json"),
        ("double-extension", "k.cls.msgpack"),
    ]:
        shard_err(
            name,
            _tar([good, (member, mp({"v": 1}))]),
            "bad_key",
            note=f"member {member!r}",
        )
    shard_err(
        "duplicate-key",
        _tar([("k.msgpack", mp({"v": 1})), ("k.msgpack", mp({"v": 2}))]),
        "bad_key",
    )
    shard_err(
        "symlink",
        _tar([("l.msgpack", b"")], type=tarfile.SYMTYPE, linkname="k.msgpack"),
        "bad_key",
    )
    shard_err(
        "hardlink",
        _tar([("l.msgpack", b"")], type=tarfile.LNKTYPE, linkname="k.msgpack"),
        "bad_key",
    )
    directory = _tar([("sub", b"")], type=tarfile.DIRTYPE)[:512]
    shard_ok(
        "directory-skipped",
        directory + _tar([("sub/k.msgpack", mp({"v": 9}))]),
        [("sub/k", u8(9))],
    )

    # members that do not decode: the sample's own kind at its own path
    def one(data: bytes) -> bytes:
        return _tar([good, ("bad.msgpack", data)])

    shard_err("member-out-of-range", one(mp({"v": 300})), "out_of_range", "ScalarU8.v")
    shard_err("member-wrong-type", one(mp({"v": "x"})), "wrong_type", "ScalarU8.v")
    shard_err("member-missing-field", one(mp({})), "missing_field", "ScalarU8.v")
    shard_err("member-empty", one(b""), "truncated", "ScalarU8")
    shard_err(
        "member-trailing-bytes",
        one(mp({"v": 1}) + b"\x00"),
        "trailing_bytes",
        "ScalarU8",
    )
    shard_err("member-malformed", one(b"\xc1"), "malformed", "ScalarU8")
    shard_err(
        "member-invalid-utf8",
        _tar([("s.msgpack", b"\x81\xa1v\xa2\xff\xfe")]),
        "invalid_utf8",
        "ScalarStr",
        sample="ScalarStr",
    )


# Layout fingerprints of the batch samples used below, as docs/language.md defines them
# (SHA-256 over the canonical layout). Pinned here: a fingerprint change fails every
# accepted case with fingerprint_mismatch, which is the point of the fingerprint.
FINGERPRINT = {
    "ScalarU8": "4343edd256f3df41",
    "ScalarF32": "114d132bcbde9c5a",
    "ScalarStr": "f26e11c826083c0f",
}


def st_file(header: str, data: bytes) -> bytes:
    """A safetensors file with ``header`` as raw JSON text (so it may repeat keys)."""
    raw = header.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw + data


def st_meta(sample: str, rows: str | None = "2", fp: str | None = None) -> str:
    meta = {"schemac_fingerprint": fp or FINGERPRINT[sample], "schemac_sample": sample}
    if rows is not None:
        meta["schemac_rows"] = rows
    return '"__metadata__":' + json.dumps(meta, sort_keys=True, separators=(",", ":"))


U8_ENTRY = '"v":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}'
U8_DATA = b"\x01\xc8"


def st_u8(header_tail: str = U8_ENTRY, data: bytes = U8_DATA, **meta: Any) -> bytes:
    return st_file("{" + st_meta("ScalarU8", **meta) + "," + header_tail + "}", data)


def st_ok(name: str, sample: str, data: bytes, rows: list[V], note: str = "") -> None:
    expect = {"ok": {"rows": [mp(v.wire).hex() for v in rows]}}
    _add(
        "safetensors",
        name,
        "scalars",
        sample,
        "safetensors",
        {"input_hex": data.hex()},
        expect,
        note,
    )


def st_err(
    name: str, data: bytes, kind: str, note: str = "", sample: str = "ScalarU8"
) -> None:
    expect = {"error": {"kind": kind, "path": ""}}
    _add(
        "safetensors",
        name,
        "scalars",
        sample,
        "safetensors",
        {"input_hex": data.hex()},
        expect,
        note,
    )


def safetensors() -> None:
    st_ok("u8-two-rows", "ScalarU8", st_u8(), [u8(1), u8(200)])
    st_ok(
        "f32-one-row",
        "ScalarF32",
        st_file(
            "{"
            + st_meta("ScalarF32", "1")
            + ',"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
            struct.pack("<f", 1.5),
        ),
        [R(("v", F(1.5)))],
    )
    st_ok(
        "str-one-row",
        "ScalarStr",
        st_file(
            "{"
            + st_meta("ScalarStr", "1")
            + ',"v.offsets":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"v":{"dtype":"U8","shape":[2],"data_offsets":[16,18]}}',
            struct.pack("<2q", 0, 2) + b"ab",
        ),
        [R(("v", S("ab")))],
    )
    st_ok(
        "zero-rows",
        "ScalarU8",
        st_u8('"v":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}', b"", rows="0"),
        [],
    )
    st_ok(
        "no-row-count",
        "ScalarU8",
        st_u8(rows=None),
        [u8(1), u8(200)],
        "rows from the column's length",
    )
    st_ok(
        "row-count-plus",
        "ScalarU8",
        st_u8(rows="+2"),
        [u8(1), u8(200)],
        "Rust's usize parse takes a leading +",
    )
    st_ok(
        "header-padded",
        "ScalarU8",
        st_file("{" + st_meta("ScalarU8") + "," + U8_ENTRY + "}    ", U8_DATA),
        [u8(1), u8(200)],
        "trailing spaces pad the header",
    )
    st_err("wrong-fingerprint", st_u8(fp="0000000000000000"), "fingerprint_mismatch")
    st_err(
        "wrong-sample",
        st_file(
            "{"
            + st_meta("ScalarI8", fp=FINGERPRINT["ScalarU8"])
            + ","
            + U8_ENTRY
            + "}",
            U8_DATA,
        ),
        "fingerprint_mismatch",
    )
    st_err(
        "no-metadata", st_file("{" + U8_ENTRY + "}", U8_DATA), "fingerprint_mismatch"
    )
    st_err(
        "other-record",
        st_u8(),
        "fingerprint_mismatch",
        "a ScalarU8 file loaded as ScalarF32",
        sample="ScalarF32",
    )
    for name, entry in [
        ("float-offsets", '{"dtype":"U8","shape":[2],"data_offsets":[0.0,2.0]}'),
        ("exponent-offset", '{"dtype":"U8","shape":[2],"data_offsets":[0,2e0]}'),
        ("string-offsets", '{"dtype":"U8","shape":[2],"data_offsets":["0","2"]}'),
        (
            "non-ascii-digit-offset",
            '{"dtype":"U8","shape":[2],"data_offsets":["0","\u0662"]}',
        ),
        ("float-dim", '{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}'),
        (
            "non-ascii-digit-dim",
            '{"dtype":"U8","shape":["\u0662"],"data_offsets":[0,2]}',
        ),
        ("bool-dim", '{"dtype":"U8","shape":[true],"data_offsets":[0,2]}'),
        ("object-shape", '{"dtype":"U8","shape":{},"data_offsets":[0,2]}'),
        ("negative-dim", '{"dtype":"U8","shape":[-2],"data_offsets":[0,2]}'),
        ("three-offsets", '{"dtype":"U8","shape":[2],"data_offsets":[0,2,2]}'),
        (
            "duplicate-entry-field",
            '{"dtype":"U8","dtype":"U8","shape":[2],"data_offsets":[0,2]}',
        ),
        ("unused-dtype", '{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}'),
        ("missing-dtype", '{"shape":[2],"data_offsets":[0,2]}'),
        ("offsets-past-end", '{"dtype":"U8","shape":[2],"data_offsets":[0,3]}'),
        ("size-not-shape", '{"dtype":"U8","shape":[3],"data_offsets":[0,2]}'),
    ]:
        st_err(name, st_u8('"v":' + entry), "corrupt_archive", f"entry {entry}")
    st_err(
        "duplicate-tensor-name",
        st_u8(U8_ENTRY + "," + U8_ENTRY),
        "bad_key",
        "JSON parsers would keep the last",
    )
    meta = st_meta("ScalarU8")
    st_err(
        "duplicate-metadata",
        st_file("{" + meta + "," + meta + "," + U8_ENTRY + "}", U8_DATA),
        "corrupt_archive",
    )
    st_err(
        "metadata-list",
        st_file('{"__metadata__":[],' + U8_ENTRY + "}", U8_DATA),
        "corrupt_archive",
    )
    st_err(
        "metadata-number",
        st_file('{"__metadata__":{"k":1},' + U8_ENTRY + "}", U8_DATA),
        "corrupt_archive",
    )
    st_err(
        "metadata-lone-surrogate",
        st_file('{"__metadata__":{"k":"\\ud800"},' + U8_ENTRY + "}", U8_DATA),
        "corrupt_archive",
    )
    st_err(
        "name-lone-surrogate",
        st_u8('"\\ud800":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}'),
        "corrupt_archive",
    )
    st_err("header-not-object", st_file("[]", b""), "corrupt_archive")
    st_err(
        "header-cut", st_file("{" + meta + "," + U8_ENTRY, U8_DATA), "corrupt_archive"
    )
    st_err(
        "header-not-utf8",
        struct.pack("<Q", 4) + b'{"\xff"' + U8_DATA,
        "corrupt_archive",
    )
    st_err("data-trailing-byte", st_u8(data=U8_DATA + b"\x00"), "corrupt_archive")
    st_err("data-short", st_u8(data=U8_DATA[:1]), "corrupt_archive")
    st_err(
        "data-gap",
        st_u8('"v":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}', b"\x00" + U8_DATA),
        "corrupt_archive",
    )
    st_err(
        "header-length-huge", struct.pack("<Q", 200_000_000) + b"{}", "corrupt_archive"
    )
    st_err("header-length-past-end", struct.pack("<Q", 100) + b"{}", "corrupt_archive")
    st_err("shorter-than-8", b"\x01", "corrupt_archive")
    st_err("empty-file", b"", "corrupt_archive")
    for name, rows in [
        ("rows-non-ascii", "\u0662"),
        ("rows-float", "2.0"),
        ("rows-empty", ""),
        ("rows-negative", "-2"),
        ("rows-space", " 2"),
    ]:
        st_err(name, st_u8(rows=rows), "corrupt_archive", f"schemac_rows {rows!r}")
    # Tensors that contradict the layout the fingerprint names: the file is broken.
    st_err(
        "rows-disagree",
        st_u8(rows="3"),
        "corrupt_archive",
        "3 rows stated, the column has 2",
    )
    st_err(
        "wrong-tensor-dtype",
        st_u8('"v":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}'),
        "corrupt_archive",
    )
    st_err(
        "missing-tensor",
        st_u8('"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}'),
        "corrupt_archive",
    )
    st_err(
        "fixed-dim-extra",
        st_u8('"v":{"dtype":"U8","shape":[2,1],"data_offsets":[0,2]}'),
        "corrupt_archive",
        "a [n, 1] column for a scalar field",
    )
    st_err(
        "unknown-tensor",
        st_u8(
            U8_ENTRY + ',"w":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}',
            U8_DATA + b"\x00",
        ),
        "bad_key",
        "a tensor name the layout does not have",
    )


BUILDERS: list[Callable[[], None]] = [
    scalars,
    floats,
    arrays,
    shapes,
    named_dims,
    optional_defaults,
    range_bits,
    enums,
    maps_lists,
    components,
    framing,
    packed,
    decisions,
    differential,
    shards,
    safetensors,
]


def build() -> dict[str, str]:
    """Every category file's text."""
    CORPUS.clear()
    _IDS.clear()
    for b in BUILDERS:
        b()
    out = {}
    for cat, cases in CORPUS.items():
        out[f"{cat}.json"] = (
            json.dumps(
                {"category": cat, "cases": cases},
                indent=1,
                ensure_ascii=True,
                allow_nan=False,
            )
            + "\n"
        )
    return out


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        bad = []
        for name, text in files.items():
            p = CASES / name
            if not p.exists() or p.read_text(encoding="utf-8") != text:
                bad.append(name)
        extra = sorted(p.name for p in CASES.glob("*.json") if p.name not in files)
        if bad or extra:
            print(
                f"corpus out of date: {bad + extra}; run conformance/generate.py",
                file=sys.stderr,
            )
            return 1
        return 0
    CASES.mkdir(exist_ok=True)
    for p in CASES.glob("*.json"):
        if p.name not in files:
            p.unlink()
    for name, text in files.items():
        (CASES / name).write_text(text, encoding="utf-8")
    total = sum(len(c) for c in CORPUS.values())
    print(f"{total} cases: " + ", ".join(f"{k} {len(v)}" for k, v in CORPUS.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

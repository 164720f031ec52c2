"""Rejections the Python runtime shares with the Rust one (docs/language.md, "Rejections
both runtimes agree on"): every way in checks ``@range`` and ``@bits``, JSON follows the
strict rules, and every failure is a SchemacError with the vocabulary kind.

Inputs are built with the real ``msgpack`` library and hand-written JSON, independent of the
code under test."""

from __future__ import annotations

import json
import math
from types import ModuleType

import msgpack
import numpy as np
import pytest
from conftest import Generated

from schemac_runtime import SchemacError

SCHEMA = """
package parity;

component Inner {
  x: i32 @range(-5, 5),
}

sample P {
  conf: f64 @range(0, 1),
  half: f16,
  single: f32,
  small: u8 @bits(3),
  count: i32,
  maybe: f32?,
  grid: u8[2] @bits(2),
  items: list<Inner>,
  named: map<str, Inner>,
}
"""


@pytest.fixture(scope="module")
def mod(gen: Generated) -> ModuleType:
    return gen.compile_text("parity", SCHEMA)


def good() -> dict[str, object]:
    return {
        "conf": 0.5,
        "half": 1.0,
        "single": 2.0,
        "small": 7,
        "count": 3,
        "maybe": None,
        "grid": {"nd": True, "type": "|u1", "kind": "", "shape": [2], "data": b"\x01\x03"},
        "items": [{"x": 1}],
        "named": {"a": {"x": 2}},
    }


def good_json() -> dict[str, object]:
    return {
        "conf": 0.5,
        "half": 1.0,
        "single": 2.0,
        "small": 7,
        "count": 3,
        "maybe": None,
        "grid": [1, 3],
        "items": [{"x": 1}],
        "named": {"a": {"x": 2}},
    }


def err(fn: object, *args: object) -> SchemacError:
    with pytest.raises(SchemacError) as ei:
        fn(*args)  # type: ignore[operator]
    return ei.value


def test_good_inputs_decode(mod: ModuleType) -> None:
    s = mod.P.from_bytes(msgpack.packb(good(), use_bin_type=True))
    assert s.conf == 0.5 and s.small == 7
    assert mod.P.from_json(json.dumps(good_json())).count == 3


@pytest.mark.parametrize(
    ("field", "value", "kind", "path"),
    [
        ("conf", 5.0, "out_of_range", "P.conf"),
        ("small", 8, "bits_overflow", "P.small"),
        ("half", 1e10, "out_of_range", "P.half"),
        ("single", 1e39, "out_of_range", "P.single"),
        ("items", [{"x": 1}, {"x": 6}], "out_of_range", "P.items[1].x"),
        ("named", {"k": {"x": -6}}, "out_of_range", 'P.named["k"].x'),
    ],
)
def test_msgpack_and_json_check_values(
    mod: ModuleType, field: str, value: object, kind: str, path: str
) -> None:
    m = good()
    m[field] = value
    e = err(mod.P.from_bytes, msgpack.packb(m, use_bin_type=True))
    assert (e.kind, e.path) == (kind, path), str(e)
    j = good_json()
    j[field] = value
    e = err(mod.P.from_json, json.dumps(j))
    assert (e.kind, e.path) == (kind, path), str(e)


def test_array_bits_on_decode(mod: ModuleType) -> None:
    m = good()
    m["grid"] = {"nd": True, "type": "|u1", "kind": "", "shape": [2], "data": b"\x01\x04"}
    assert err(mod.P.from_bytes, msgpack.packb(m, use_bin_type=True)).kind == "bits_overflow"
    j = good_json()
    j["grid"] = [1, 4]
    assert err(mod.P.from_json, json.dumps(j)).kind == "bits_overflow"


def test_integral_floats_for_integers(mod: ModuleType) -> None:
    j = good_json()
    j["count"] = 3.0
    assert mod.P.from_json(json.dumps(j)).count == 3
    j["count"] = 3.5
    e = err(mod.P.from_json, json.dumps(j))
    assert (e.kind, e.path) == ("wrong_type", "P.count")


def test_non_finite_floats_as_strings(mod: ModuleType) -> None:
    s = mod.P.from_json(json.dumps(good_json()))
    s.single = math.nan
    s.half = -math.inf
    text = s.to_json()
    obj = json.loads(text)  # strict enough: NaN tokens would parse, so check the strings
    assert obj["single"] == "NaN" and obj["half"] == "-Infinity"
    assert "NaN," not in text.replace('"NaN"', "")
    for spelled, want in [("NaN", math.nan), ("Infinity", math.inf), ("-inf", -math.inf)]:
        j = good_json()
        j["single"] = spelled
        got = mod.P.from_json(json.dumps(j)).single
        assert (math.isnan(got) and math.isnan(want)) or got == want
    j = good_json()
    text = json.dumps(j).replace('"single": 2.0', '"single": NaN')
    assert "NaN" in text
    assert err(mod.P.from_json, text).kind == "malformed"
    j["single"] = "nope"
    assert err(mod.P.from_json, json.dumps(j)).kind == "wrong_type"


def test_duplicate_keys(mod: ModuleType) -> None:
    # msgpack: a fixmap of 2 entries with the key "count" twice.
    dup = b"\x82" + msgpack.packb("count") + msgpack.packb(1) + msgpack.packb("count")
    dup += msgpack.packb(2)
    assert err(mod.P.from_bytes, dup).kind == "duplicate_key"
    text = json.dumps(good_json())[:-1] + ', "count": 4}'
    assert err(mod.P.from_json, text).kind == "duplicate_key"


def _mp_map(pairs: list[tuple[str, bytes]]) -> bytes:
    """A msgpack map from already-encoded values, keys possibly repeated (msgpack.packb
    cannot write a duplicate key)."""
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(msgpack.packb(k) + v for k, v in pairs)


def _enc(v: object) -> bytes:
    out = msgpack.packb(v, use_bin_type=True)
    assert isinstance(out, bytes)
    return out


def test_duplicate_key_paths_follow_the_schema(mod: ModuleType) -> None:
    # conformance/README.md: a duplicate key is found before any schema fault and names
    # the key in the schema's spelling: .field, [i] for list indices, ["k"] for map keys.
    g = good()
    dup_in_list = _mp_map([("x", _enc(1)), ("x", _enc(2))])
    fields = [(k, _enc(v)) for k, v in g.items() if k != "items"]
    data = _mp_map([*fields, ("items", b"\x92" + _enc({"x": 1}) + dup_in_list)])
    e = err(mod.P.from_bytes, data)
    assert (e.kind, e.path) == ("duplicate_key", "P.items[1].x")
    fields = [(k, _enc(v)) for k, v in g.items() if k != "named"]
    data = _mp_map([*fields, ("named", _mp_map([("a", _enc({"x": 1})), ("a", _enc({"x": 2}))]))])
    e = err(mod.P.from_bytes, data)
    assert (e.kind, e.path) == ("duplicate_key", 'P.named["a"]')
    # a duplicate beats a wrong type earlier in the sample (structure before schema)
    fields = [(k, _enc(v)) for k, v in g.items() if k not in ("conf", "count")]
    data = _mp_map([("conf", _enc("no")), *fields, ("count", _enc(1)), ("count", _enc(1))])
    e = err(mod.P.from_bytes, data)
    assert (e.kind, e.path) == ("duplicate_key", "P.count")
    # JSON: the same paths, and a duplicate before a syntax error wins over it
    j = json.dumps(good_json())
    e = err(mod.P.from_json, j.replace('{"x": 2}', '{"x": 2, "x": 3}'))
    assert (e.kind, e.path) == ("duplicate_key", 'P.named["a"].x')
    e = err(mod.P.from_json, j.replace('[{"x": 1}]', '[{"x": 1}, {"x": 1, "x": 1}]'))
    assert (e.kind, e.path) == ("duplicate_key", "P.items[1].x")
    e = err(mod.P.from_json, '{"count": 1, "count": 2, "conf": ]')
    assert (e.kind, e.path) == ("duplicate_key", "P.count")
    e = err(mod.P.from_json, '{"conf": ], "count": 1, "count": 2}')
    assert (e.kind, e.path) == ("malformed", "P")


def test_structure_before_schema(mod: ModuleType) -> None:
    g = msgpack.packb({**good(), "conf": "wrong type"}, use_bin_type=True)
    assert isinstance(g, bytes)
    for data, kind in [
        (g + b"\x00", "trailing_bytes"),
        (g[:-1], "truncated"),  # ends where the last value's marker should be
        (b"\x81\xa1z\xa5ab", "too_large"),  # a str declaring more bytes than are left
        (g + b"", "wrong_type"),
        (b"\x81\xa1z" + b"\x91" * 70 + b"\xc0", "too_deep"),
        (b"\x81\xa1z\xa2\xff\xfe", "invalid_utf8"),
        (b"\x81\xa1z\xc1", "malformed"),
        (b"\x81\xa1z\xcd\x01", "truncated"),
    ]:
        e = err(mod.P.from_bytes, data)
        assert e.kind == kind, (data.hex(), str(e))
        if kind != "wrong_type":
            assert e.path == "P", str(e)


def test_nil_for_a_required_field_is_missing(mod: ModuleType) -> None:
    e = err(mod.P.from_bytes, msgpack.packb({**good(), "count": None}, use_bin_type=True))
    assert (e.kind, e.path) == ("missing_field", "P.count")
    e = err(mod.P.from_json, json.dumps({**good_json(), "items": [{"x": None}]}))
    assert (e.kind, e.path) == ("missing_field", "P.items[0].x")
    # an optional field takes nil
    assert mod.P.from_bytes(msgpack.packb(good(), use_bin_type=True)).maybe is None


def test_json_bom_and_lone_surrogate(mod: ModuleType) -> None:
    text = json.dumps(good_json())
    assert err(mod.P.from_json, "\ufeff" + text).kind == "malformed"
    assert err(mod.P.from_json, b"\xef\xbb\xbf" + text.encode()).kind == "malformed"
    bad = text.replace('"a":', '"\\ud800":')
    assert err(mod.P.from_json, bad).kind == "invalid_utf8"


def test_json_numbers_never_leak_stdlib_errors(mod: ModuleType) -> None:
    j = json.dumps(good_json())
    # Past f64 and past Python's int-to-str digit limit: out of range for the field, as
    # 1e999 (docs/language.md, "JSON text"), never a ValueError.
    huge = j.replace('"count": 3', '"count": ' + "9" * 5000)
    e = err(mod.P.from_json, huge)
    assert (e.kind, e.path) == ("out_of_range", "P.count"), str(e)
    big = j.replace('"count": 3', '"count": 18446744073709551616')
    e = err(mod.P.from_json, big)
    assert e.kind == "out_of_range" and "18446744073709551616" in str(e)


def test_typestr_and_shape_errors_are_typed(mod: ModuleType) -> None:
    for ts, kind in [
        (">u1", "dtype_mismatch"),
        ("u1", "dtype_mismatch"),
        ("|u1(", "dtype_mismatch"),
    ]:
        m = good()
        m["grid"] = {"nd": True, "type": ts, "kind": "", "shape": [2], "data": b"\x01\x03"}
        e = err(mod.P.from_bytes, msgpack.packb(m, use_bin_type=True))
        assert e.kind == kind, (ts, str(e))
    for shape in ([2**62], [-1], [2**63]):
        m = good()
        m["grid"] = {"nd": True, "type": "|u1", "kind": "", "shape": shape, "data": b"\x01\x03"}
        e = err(mod.P.from_bytes, msgpack.packb(m, use_bin_type=True))
        # data length is checked before the shape (conformance/README.md): 2^62 bytes do
        # not overflow, so that one is payload_length; -1 does not fit u64 (out_of_range)
        assert e.kind in {"payload_length", "too_large", "out_of_range"}, str(e)
    # the number shown is the one decoded, not a clamped one
    m = good()
    m["grid"] = {"nd": True, "type": "|u1", "kind": "", "shape": [2**62], "data": b"\x01\x03"}
    e = err(mod.P.from_bytes, msgpack.packb(m, use_bin_type=True))
    assert "18446744073709551615" not in str(e)


def test_bare_array_payload_shapes_bounded() -> None:
    from schemac_runtime import wire

    for shape in ([2**62], [2**40, 2**40]):
        payload = b"\x03<f4" + bytes([len(shape)])
        payload += b"".join(int(d).to_bytes(8, "little") for d in shape)
        with pytest.raises(SchemacError) as ei:
            wire.read_array("a", payload, "f32")
        assert ei.value.kind in {"payload_length", "too_large"}, str(ei.value)
    assert np.zeros(0).size == 0


def _bad_pose(quat: object) -> dict[str, object]:
    xyz = {"nd": True, "type": "<f4", "kind": "", "shape": [2], "data": b"\0" * 8}
    return {"xyz": xyz, "quat": quat}


@pytest.mark.parametrize("case", ["trail", "poses", "boards", "words", "nested"])
def test_error_paths_match_the_rust_codec(gen: Generated, case: str) -> None:
    """The same bad bytes give the same kind-bearing path in Python and in `schemac
    decode` (Rust): component arrays, map keys (quoted the Rust way), lists."""
    import subprocess

    from conftest import EXAMPLES, schemac_bin

    ev = gen["everything"].Everything
    b = msgpack.unpackb(ev.default().packed, raw=False)
    quat = b["pose"]["quat"]
    if case == "trail":
        b["trail"][2] = _bad_pose(quat)
    elif case == "poses":
        b["poses"] = {'k"q': _bad_pose(quat)}
    elif case == "boards":
        cells = [[{"kind": 99, "alive": False}] * 3] * 3
        b["boards"] = [b["board"], {**b["board"], "cells": cells}]
    elif case == "words":
        b["words"] = ["a", 3]
    else:
        b["nested_lists"] = [[1], [2, "x"]]
    data = msgpack.packb(b, use_bin_type=True)
    e = err(ev.from_bytes, data)
    res = subprocess.run(
        [
            schemac_bin(),
            "decode",
            "--schema",
            str(EXAMPLES / "everything.schema"),
            "--sample",
            "Everything",
        ],
        input=data,
        capture_output=True,
        check=False,
    )
    assert res.returncode == 1
    rust_path = res.stderr.decode().removeprefix("error: ").split(": ", 1)[0]
    assert e.path == rust_path, (str(e), res.stderr)

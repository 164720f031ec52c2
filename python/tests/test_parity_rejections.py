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


def test_json_bom_and_lone_surrogate(mod: ModuleType) -> None:
    text = json.dumps(good_json())
    assert err(mod.P.from_json, "\ufeff" + text).kind == "malformed"
    assert err(mod.P.from_json, b"\xef\xbb\xbf" + text.encode()).kind == "malformed"
    bad = text.replace('"a":', '"\\ud800":')
    assert err(mod.P.from_json, bad).kind == "invalid_utf8"


def test_json_numbers_never_leak_stdlib_errors(mod: ModuleType) -> None:
    j = json.dumps(good_json())
    huge = j.replace('"count": 3', '"count": ' + "9" * 5000)
    assert err(mod.P.from_json, huge).kind == "malformed"
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
        assert e.kind in {"shape_mismatch", "too_large", "wrong_type"}, str(e)
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

"""The truss-chains JSON array form, golden both ways, and the readers' leniency and checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import case, load_vectors, vector_array

from schemac_runtime.checks import Dims
from schemac_runtime.dtypes import DTYPES, f32_to_bf16
from schemac_runtime.errors import DecodeError, SchemaError
from schemac_runtime.jsonform import (
    array_to_json,
    b64encode,
    dumps,
    json_to_array,
    loads,
    read_b64,
    read_json_array,
)

VEC = load_vectors("truss_json")
NAMES = [c["name"] for c in VEC["cases"]]


@pytest.mark.parametrize("name", NAMES)
def test_golden_encode(name: str) -> None:
    c = case(VEC, name)
    a = vector_array(c["array"])
    obj = array_to_json(a)
    assert list(obj) == ["data_b64", "shape", "dtype"]
    assert dumps(obj) == c["json"]
    assert json.dumps(obj, separators=(",", ":")) == c["json"]


@pytest.mark.parametrize("name", NAMES)
def test_golden_decode(name: str) -> None:
    c = case(VEC, name)
    want = vector_array(c["array"])
    obj = loads(c["json"])
    got = json_to_array(obj)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    got2 = read_json_array("S.x", obj, c["array"]["dtype"], [None] * want.ndim)
    np.testing.assert_array_equal(got2, want)


def test_accepts_typestr_and_numpy_names() -> None:
    obj = loads(case(VEC, "f32_2x3")["json"])
    for spelling in ("<f4", "float32"):
        obj["dtype"] = spelling
        np.testing.assert_array_equal(
            read_json_array("x", obj, "f32", (2, 3)), np.arange(6, dtype=np.float32).reshape(2, 3)
        )
    # Byte-order variants and schema names are refused, as in Rust (docs/language.md):
    # JSON dtype is numpy's name or its typestr.
    for spelling in (">f4", "=f4", "f4", "f32"):
        obj["dtype"] = spelling
        with pytest.raises(SchemaError) as ei:
            read_json_array("x", obj, "f32")
        assert ei.value.kind == "dtype_mismatch"


def test_accepts_nested_lists() -> None:
    out = read_json_array("S.img", [[0, 1, 2], [3, 4, 5]], "f32", ("H", "W"), Dims())
    assert out.dtype == np.float32 and out.shape == (2, 3)
    assert read_json_array("S.m", [[True, False]], "bool").dtype == np.bool_
    assert read_json_array("S.u", [255, 0], "u8").tolist() == [255, 0]
    assert read_json_array("S.e", [], "i32", (None,)).shape == (0,)
    bf = read_json_array("S.b", [1.0, 2.0], "bf16")
    np.testing.assert_array_equal(bf, f32_to_bf16([1.0, 2.0]))


def test_nested_list_rejections() -> None:
    with pytest.raises(SchemaError, match="ragged"):
        read_json_array("S.x", [[1, 2], [3]], "i32")
    with pytest.raises(SchemaError, match="out of range for u8"):
        read_json_array("S.x", [256], "u8")
    with pytest.raises(SchemaError, match="expected integer elements"):
        read_json_array("S.x", [1.5], "i32")
    with pytest.raises(SchemaError, match="expected bool elements"):
        read_json_array("S.x", [1, 0], "bool")
    with pytest.raises(SchemaError, match=r"expected shape \[3\]"):
        read_json_array("S.x", [1, 2], "i32", (3,))


def test_object_rejections() -> None:
    obj = loads(case(VEC, "u8_5")["json"])
    with pytest.raises(SchemaError, match="expected dtype float32, found uint8"):
        read_json_array("S.x", obj, "f32")
    short = dict(obj, shape=[6])
    with pytest.raises(DecodeError, match="truncated JSON array data"):
        read_json_array("S.x", short, "u8")
    long = dict(obj, shape=[4])
    with pytest.raises(DecodeError, match="oversized"):
        read_json_array("S.x", long, "u8")
    with pytest.raises(DecodeError, match="invalid base64"):
        read_json_array("S.x", dict(obj, data_b64="AAF/gP8"), "u8")  # padding missing
    with pytest.raises(DecodeError, match="invalid base64"):
        read_json_array("S.x", dict(obj, data_b64="AAF_gP8="), "u8")  # url-safe alphabet
    with pytest.raises(SchemaError, match="unknown array dtype"):
        read_json_array("S.x", dict(obj, dtype="uint9"), "u8")
    with pytest.raises(SchemaError, match="data_b64, shape and dtype"):
        read_json_array("S.x", {"shape": [1]}, "u8")
    with pytest.raises(SchemaError, match="expected a JSON array object or list"):
        read_json_array("S.x", "AAF/gP8=", "u8")
    with pytest.raises(DecodeError, match="invalid JSON"):
        loads("{")


@pytest.mark.parametrize("name", list(DTYPES))
def test_roundtrip_every_dtype(name: str) -> None:
    info = DTYPES[name]
    a = f32_to_bf16([1.0, 0.5, -3.0]) if name == "bf16" else (np.arange(3) % 2).astype(info.numpy)
    obj = array_to_json(a, name)
    assert obj["dtype"] == info.numpy_name
    back = read_json_array("x", loads(dumps(obj)), name, (3,))
    np.testing.assert_array_equal(back, a)


def test_bytes_fields() -> None:
    assert b64encode(b"\x00\x01") == "AAE="
    assert read_b64("S.raw", "AAE=") == b"\x00\x01"
    with pytest.raises(SchemaError, match="expected a base64 string"):
        read_b64("S.raw", 5)


def test_base64_is_canonical() -> None:
    # Standard padded base64 with zero trailing bits only (the Rust runtime's
    # RequireCanonical engine); Python's own decoder takes all of these.
    for bad in ("AAE", "AAF=", "AQDw==", "AA==AA==", "AAE==", "A===", " AAE="):
        with pytest.raises(DecodeError) as ei:
            read_b64("S.raw", bad)
        assert ei.value.kind == "invalid_base64", bad
    assert read_b64("S.raw", "") == b""
    assert read_b64("S.raw", "AAEC") == b"\x00\x01\x02"


def test_json_truncation_and_dup_order() -> None:
    # Text that ends inside a number, literal, string or escape is truncated.
    for text in ('{"v":[0.', '{"v":tru', '{"v":"ab', '{"v":"\\ud83d\\ude'):
        with pytest.raises(DecodeError) as ei:
            loads(text, path="S")
        assert ei.value.kind == "truncated", text
    with pytest.raises(DecodeError) as ei:
        loads('{"v":1x}', path="S")
    assert ei.value.kind == "malformed"
    # Not UTF-8 is malformed, unless a duplicate key comes first in the text.
    with pytest.raises(DecodeError) as ei:
        loads(b'{"v":"\xff"}', path="S")
    assert (ei.value.kind, ei.value.path) == ("malformed", "S")
    with pytest.raises(DecodeError) as ei:
        loads(b'{"v":1,"v":"\xff"}', path="S")
    assert (ei.value.kind, ei.value.path) == ("duplicate_key", "S.v")

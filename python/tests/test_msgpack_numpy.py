"""msgpack-numpy arrays: golden bytes both ways, and against the real msgpack_numpy package."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import case, load_vectors, vector_array

from schemac_runtime.dtypes import DTYPES, f32_to_bf16
from schemac_runtime.errors import DecodeError, SchemaError
from schemac_runtime.wire import (
    array_to_msgpack_numpy,
    msgpack_numpy_to_array,
    packb,
    packb_msgpack_numpy,
    read_array,
    unpackb,
    unpackb_msgpack_numpy,
)

VEC = load_vectors("msgpack_numpy")


def test_golden_encode() -> None:
    c = case(VEC, "f32_2x3")
    a = vector_array(c["array"])
    assert packb_msgpack_numpy(a).hex() == c["hex"]
    assert list(array_to_msgpack_numpy(a)) == [b"nd", b"type", b"kind", b"shape", b"data"]


def test_golden_decode() -> None:
    c = case(VEC, "f32_2x3")
    a = unpackb_msgpack_numpy(bytes.fromhex(c["hex"]))
    np.testing.assert_array_equal(a, vector_array(c["array"]))
    assert a.dtype == np.float32
    # schema-aware: read_array takes the map form of a field too
    m = unpackb(bytes.fromhex(c["hex"]))
    b = read_array("S.x", m, "f32", (2, "N"), {})
    np.testing.assert_array_equal(b, a)
    with pytest.raises(SchemaError, match=r"S\.x: expected dtype <f8, found <f4"):
        read_array("S.x", m, "f64")


def test_rejects() -> None:
    c = case(VEC, "f32_2x3")
    m = unpackb(bytes.fromhex(c["hex"]))
    short = dict(m)
    short[b"data"] = m[b"data"][:-1]
    with pytest.raises(DecodeError, match="truncated"):
        msgpack_numpy_to_array(short)
    long = dict(m)
    long[b"data"] = m[b"data"] + b"\0"
    with pytest.raises(DecodeError, match="trailing"):
        msgpack_numpy_to_array(long)
    with pytest.raises(SchemaError):
        msgpack_numpy_to_array({b"nd": True})
    with pytest.raises(DecodeError):
        unpackb_msgpack_numpy(bytes.fromhex(c["hex"]) + b"\x00")


mnp = pytest.importorskip("msgpack_numpy")


@pytest.mark.parametrize("name", [n for n in DTYPES if n != "bf16"])
def test_real_msgpack_numpy_agrees(name: str) -> None:
    info = DTYPES[name]
    a = (np.arange(12) % 2).astype(info.numpy).reshape(3, 4)
    theirs = mnp.packb(a)
    assert packb_msgpack_numpy(a) == theirs
    np.testing.assert_array_equal(unpackb_msgpack_numpy(theirs), a)
    np.testing.assert_array_equal(mnp.unpackb(packb_msgpack_numpy(a)), a)


def test_real_msgpack_numpy_golden_and_scalar() -> None:
    c = case(VEC, "f32_2x3")
    assert mnp.packb(vector_array(c["array"])).hex() == c["hex"]
    # numpy scalars (nd false) decode as 0-d arrays
    s = msgpack_numpy_to_array(unpackb(mnp.packb(np.float32(2.5))))
    assert s.shape == () and float(s) == 2.5


def test_bf16_map_readable_by_msgpack_numpy() -> None:
    raw = f32_to_bf16([1.0, -1.0])
    data = packb(array_to_msgpack_numpy(raw, "bf16"))
    back = mnp.unpackb(data)
    assert back.dtype.itemsize == 2 and back.tobytes() == raw.tobytes()
    np.testing.assert_array_equal(read_array("x", unpackb(data), "bf16"), raw)

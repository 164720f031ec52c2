"""The msgpack wire format against atdata's golden bytes, and every rejection path."""

from __future__ import annotations

import io
import struct
from typing import Any

import msgpack
import numpy as np
import pytest
from conftest import case, load_vectors, vector_array

from schemac_runtime.checks import Dims, check_array
from schemac_runtime.dtypes import DTYPES, f32_to_bf16
from schemac_runtime.errors import DecodeError, SchemacError, SchemaError
from schemac_runtime.wire import (
    array_to_bytes,
    bytes_to_array,
    decode_array,
    expect_map,
    get_optional,
    get_required,
    packb,
    read_array,
    read_bool,
    read_bytes,
    read_enum,
    read_float,
    read_int,
    read_list,
    read_str,
    unpackb,
    write_array,
    write_bool,
    write_float,
    write_int,
)

ATDATA = load_vectors("atdata")


# ---------------------------------------------------------------- golden: encode


def test_prims_golden_encode() -> None:
    c = case(ATDATA, "Prims")
    v = c["values"]
    m = {
        "flag": write_bool(np.bool_(v["flag"])),
        "count": write_int(np.int64(v["count"])),
        "neg": write_int(v["neg"]),
        "big": write_int(v["big"]),
        "ratio": write_float(np.float32(v["ratio"])),
        "name": v["name"],
        "blob": bytes.fromhex(v["blob_hex"]),
    }
    assert packb(m).hex() == c["hex"]


def test_image_meta_golden_encode() -> None:
    c = case(ATDATA, "ImageMeta")
    v = c["values"]
    image = vector_array(v["image"])
    m = {
        "image": write_array(image, "f32"),
        "caption": v["caption"],
        "score": write_float(v["score"]),
        "mask": None,
        "tags": list(v["tags"]),
    }
    assert packb(m).hex() == c["hex"]


def test_float_scalars_always_float64() -> None:
    # f32/f16 scalars still go out as float64 'cb', as atdata writes Python floats
    assert packb(write_float(np.float16(0.5))) == b"\xcb" + struct.pack(">d", 0.5)
    assert packb(write_float(1)) == b"\xcb" + struct.pack(">d", 1.0)


def test_smallest_int_headers() -> None:
    assert packb(write_int(42)) == b"\x2a"
    assert packb(write_int(-7)) == b"\xf9"
    assert packb(write_int(300)) == b"\xcd\x01\x2c"
    assert packb(write_int(np.uint64(2**64 - 1))) == b"\xcf" + b"\xff" * 8
    assert packb(write_int(np.int64(-(2**63)))) == b"\xd3\x80" + b"\x00" * 7


def test_bin_and_str_headers() -> None:
    assert packb(b"") == b"\xc4\x00"
    assert packb("") == b"\xa0"
    assert packb(b"x" * 256)[:3] == b"\xc5\x01\x00"


# ---------------------------------------------------------------- golden: decode


def test_prims_golden_decode() -> None:
    c = case(ATDATA, "Prims")
    m = expect_map("Prims", unpackb(bytes.fromhex(c["hex"]), path="Prims"))
    assert list(m) == ["flag", "count", "neg", "big", "ratio", "name", "blob"]
    assert read_bool("Prims.flag", get_required(m, "Prims", "flag")) is True
    assert read_int("Prims.count", m["count"], "i64") == 42
    assert read_int("Prims.neg", m["neg"], "i64") == -7
    assert read_int("Prims.big", m["big"], "i64") == 300
    assert read_float("Prims.ratio", m["ratio"]) == 0.5
    assert read_str("Prims.name", m["name"]) == "hi"
    assert read_bytes("Prims.blob", m["blob"]) == b"\x00\x01"


def test_image_meta_golden_decode() -> None:
    c = case(ATDATA, "ImageMeta")
    m = expect_map("ImageMeta", unpackb(bytes.fromhex(c["hex"])))
    dims = Dims()
    image = read_array("ImageMeta.image", m["image"], "f32", (None, None), dims)
    np.testing.assert_array_equal(image, vector_array(c["values"]["image"]))
    assert image.dtype == np.float32 and image.shape == (2, 3)
    assert read_str("ImageMeta.caption", m["caption"]) == "cat"
    assert read_float("ImageMeta.score", m["score"]) == 0.25
    assert get_optional(m, "mask") is None
    assert [read_str("t", t) for t in read_list("ImageMeta.tags", m["tags"])] == ["a", "bc"]
    # zero-copy: the array views the bin object msgpack produced
    assert not image.flags.writeable


def test_missing_optional_key_is_none() -> None:
    assert get_optional({"a": 1}, "mask") is None
    assert get_optional({"a": 1}, "mask", 3) == 3


# ---------------------------------------------------------------- array payload


@pytest.mark.parametrize("name", list(DTYPES))
def test_payload_roundtrip_every_dtype(name: str) -> None:
    info = DTYPES[name]
    if info.kind == "bool":
        a = np.array([[True, False, True], [False, False, True]])
    elif name == "bf16":
        a = f32_to_bf16(np.arange(6, dtype=np.float32)).reshape(2, 3)
    else:
        a = np.arange(6).astype(info.numpy).reshape(2, 3)
    b = array_to_bytes(a, name)
    ts = info.typestr.encode()
    assert b[0] == 3 and b[1:4] == ts and b[4] == 2
    assert struct.unpack_from("<2q", b, 5) == (2, 3)
    assert b[21:] == a.astype(info.numpy).tobytes()
    back = decode_array("X.a", b, name, (2, 3))
    assert back.dtype == info.numpy
    np.testing.assert_array_equal(back, a)


def test_payload_header_layout_scalar_and_empty() -> None:
    assert array_to_bytes(np.float32(1.5)) == b"\x03<f4\x00" + struct.pack("<f", 1.5)
    e = array_to_bytes(np.zeros((0, 4), dtype=np.uint8))
    assert e == b"\x03|u1\x02" + struct.pack("<2q", 0, 4)
    assert decode_array("e", e, "u8", (None, 4)).shape == (0, 4)


def test_payload_non_contiguous_and_big_endian_written_c_order_le() -> None:
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert array_to_bytes(a.T) == array_to_bytes(np.ascontiguousarray(a.T))
    be = np.arange(4, dtype=">i4")
    assert array_to_bytes(be) == array_to_bytes(np.arange(4, dtype="<i4"))


def test_bf16_written_as_v2() -> None:
    raw = f32_to_bf16([1.0, 2.0])
    b = array_to_bytes(raw, "bf16")
    assert b[:4] == b"\x03<V2"
    np.testing.assert_array_equal(decode_array("x", b, "bf16"), raw)
    # generic read views V2 as <u2
    assert bytes_to_array(b).dtype == np.dtype("<u2")
    # '|V2' (numpy's own void spelling) is accepted as bf16 too
    alt = b"\x03|V2" + b[4:]
    np.testing.assert_array_equal(decode_array("x", alt, "bf16"), raw)
    with pytest.raises(SchemaError, match="expected dtype <V2, found <u2"):
        decode_array("x", array_to_bytes(raw), "bf16")


def test_big_endian_payload_refused() -> None:
    # docs/language.md: only canonical typestrs; `>f8` used to be converted here while the
    # Rust runtime refused it.
    a = np.array([1.5, -2.0], dtype=">f8")
    b = b"\x03>f8\x01" + struct.pack("<q", 2) + a.tobytes()
    # A typestr schemac does not know is refused while the header is read, before the dims
    # (as in Rust), so it is a DecodeError with or without a schema dtype.
    with pytest.raises(DecodeError) as ei:
        decode_array("x", b, "f64", (2,))
    assert ei.value.kind == "dtype_mismatch"
    with pytest.raises(DecodeError) as ej:
        bytes_to_array(b)
    assert ej.value.kind == "dtype_mismatch"


def test_npy_payload_accepted() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    buf = io.BytesIO()
    np.save(buf, a)
    out = decode_array("x", buf.getvalue(), "f32", (2, 3))
    np.testing.assert_array_equal(out, a)
    f = np.arange(6, dtype=np.int16).reshape(2, 3)
    buf = io.BytesIO()
    np.save(buf, f)
    np.testing.assert_array_equal(decode_array("x", buf.getvalue(), "i16", (2, 3)), f)
    np.testing.assert_array_equal(bytes_to_array(buf.getvalue()), f)
    with pytest.raises(DecodeError, match="trailing"):
        decode_array("x", buf.getvalue() + b"\0", "i16")
    with pytest.raises(DecodeError, match="truncated"):
        decode_array("x", buf.getvalue()[:-1], "i16")
    with pytest.raises(SchemaError, match="expected dtype <f4, found <i2"):
        decode_array("x", buf.getvalue(), "f32")


def test_npy_fortran_order_and_extra_keys_refused() -> None:
    # docs/language.md: `fortran_order: True` (any rank) and header keys other than
    # descr / fortran_order / shape are bad_npy; Fortran arrays used to be transposed.
    for a in (np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),):
        buf = io.BytesIO()
        np.save(buf, a)
        with pytest.raises(DecodeError) as ei:
            decode_array("x", buf.getvalue(), "i16")
        assert ei.value.kind == "bad_npy"
    good = io.BytesIO()
    np.save(good, np.arange(2, dtype=np.uint16))
    raw = good.getvalue()
    one_d = raw.replace(b"'fortran_order': False", b"'fortran_order': True ")
    extra = raw.replace(b"'shape': (2,), }", b"'shape': (2,), 'x': 1}")
    assert one_d != raw and extra != raw
    for b in (one_d, extra):
        with pytest.raises(DecodeError) as ei:
            decode_array("x", b, "u16")
        assert ei.value.kind == "bad_npy"


def test_bytearray_and_memoryview_inputs() -> None:
    b = array_to_bytes(np.arange(3, dtype=np.uint16))
    for data in (bytearray(b), memoryview(b)):
        np.testing.assert_array_equal(decode_array("x", data, "u16", (3,)), [0, 1, 2])


# ---------------------------------------------------------------- rejections


GOOD = array_to_bytes(np.arange(6, dtype=np.float32).reshape(2, 3))


def test_reject_truncated_payload() -> None:
    with pytest.raises(DecodeError, match=r"M\.a: truncated array data.*needs 24 bytes"):
        decode_array("M.a", GOOD[:-1], "f32")
    for n in range(0, 21):
        with pytest.raises(DecodeError):
            decode_array("M.a", GOOD[:n], "f32", (2, 3))
        with pytest.raises(DecodeError):
            bytes_to_array(GOOD[:n])


def test_reject_trailing_bytes_in_payload() -> None:
    with pytest.raises(DecodeError, match="1 trailing byte"):
        decode_array("M.a", GOOD + b"\x00", "f32")
    with pytest.raises(DecodeError, match="trailing"):
        bytes_to_array(GOOD + b"\x00")


def test_reject_ndim_lies() -> None:
    more = bytearray(GOOD)
    more[4] = 3  # claims 3 dims: the third "dim" is read from the data bytes
    with pytest.raises(SchemacError):
        decode_array("M.a", bytes(more), "f32")
    with pytest.raises(DecodeError):
        bytes_to_array(bytes(more))
    fewer = bytearray(GOOD)
    fewer[4] = 1  # claims 1 dim: the second dim becomes 8 stray bytes
    with pytest.raises(DecodeError, match="trailing"):
        decode_array("M.a", bytes(fewer), "f32")
    huge = bytearray(GOOD)
    huge[4] = 200  # header runs far past the end
    with pytest.raises(DecodeError, match="truncated array header"):
        decode_array("M.a", bytes(huge), "f32")


def test_reject_typestr_length_lies_and_junk() -> None:
    with pytest.raises(DecodeError):
        decode_array("M.a", b"\x09<f4", "f32")
    with pytest.raises(DecodeError):
        bytes_to_array(b"\x03<q9\x00")
    with pytest.raises(DecodeError):
        bytes_to_array(b"\x02|O\x00")  # object arrays never
    with pytest.raises(DecodeError, match="negative dim"):
        bytes_to_array(b"\x03<f4\x01" + struct.pack("<q", -1))
    with pytest.raises(DecodeError):
        bytes_to_array(b"\x03<f4\x01" + struct.pack("<q", 2**62))  # length beyond the input
    with pytest.raises(DecodeError, match="empty"):
        bytes_to_array(b"")


def test_reject_wrong_dtype_names_path() -> None:
    payload = array_to_bytes(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(SchemaError) as e:
        decode_array("ImageSample.mask", payload, "u8", ("H", "W"), Dims())
    assert str(e.value) == "ImageSample.mask: expected dtype |u1, found <f4"
    assert e.value.path == "ImageSample.mask"
    with pytest.raises(SchemaError, match=r"^ImageSample\.mask: expected dtype \|u1, found <f4$"):
        check_array("ImageSample.mask", np.zeros((2, 2), np.float32), "u8", ("H", "W"), {})


def test_reject_wrong_shape() -> None:
    with pytest.raises(SchemaError, match=r"S\.img: expected shape \[2, 4\], found \[2, 3\]"):
        decode_array("S.img", GOOD, "f32", (2, 4))
    with pytest.raises(SchemaError, match="expected 3-d shape"):
        decode_array("S.img", GOOD, "f32", (2, 3, 1))
    with pytest.raises(SchemaError, match="expected 1-d shape"):
        check_array("S.v", np.zeros((2, 3), np.float32), "f32", (None,))


def test_reject_named_dim_mismatch() -> None:
    dims = Dims()
    mask = array_to_bytes(np.zeros((4, 5), dtype=np.uint8))
    depth = array_to_bytes(np.zeros((4, 6), dtype=np.float32))
    decode_array("ImageSample.mask", mask, "u8", ("H", "W"), dims)
    assert dims == {"H": 4, "W": 5}
    with pytest.raises(SchemaError) as e:
        decode_array("ImageSample.depth", depth, "f32", ("H", "W"), dims)
    msg = str(e.value)
    assert msg.startswith("ImageSample.depth: named dim W is 6")
    assert "ImageSample.mask has W = 5" in msg
    # plain dicts work too
    plain: dict[str, int] = {}
    check_array("A.x", np.zeros((3,), np.int8), "i8", ("N",), plain)
    with pytest.raises(SchemaError, match="named dim N is 2"):
        check_array("A.y", np.zeros((2,), np.int8), "i8", ("N",), plain)


def test_check_array_rejects_non_arrays_and_converts_byte_order() -> None:
    with pytest.raises(SchemaError, match="expected a numpy array, found array"):
        check_array("A.x", [1, 2], "i8")
    be = np.arange(3, dtype=">i4")
    out = check_array("A.x", be, "i32", (3,))
    assert out.dtype == np.dtype("<i4")
    same = np.arange(3, dtype=np.int32)
    assert check_array("A.x", same, "i32") is same


def test_array_to_bytes_refuses_silent_conversion() -> None:
    with pytest.raises(SchemaError, match=r"expected dtype \|u1, found <f4"):
        array_to_bytes(np.zeros(2, np.float32), "u8")
    assert array_to_bytes([1, 2], "u8") == array_to_bytes(np.array([1, 2], np.uint8))


# ---------------------------------------------------------------- msgpack framing


def test_reject_msgpack_trailing_bytes() -> None:
    good = bytes.fromhex(case(ATDATA, "Prims")["hex"])
    with pytest.raises(DecodeError, match=r"^Prims: 1 trailing byte"):
        unpackb(good + b"\xc0", path="Prims")


def test_reject_msgpack_truncated() -> None:
    good = bytes.fromhex(case(ATDATA, "ImageMeta")["hex"])
    for n in range(len(good)):
        with pytest.raises(DecodeError):
            unpackb(good[:n])


def test_reject_msgpack_length_larger_than_input() -> None:
    # a declared length past the end is too_large; the input ending inside a fixed-size
    # item is truncated (conformance/README.md)
    with pytest.raises(DecodeError, match="larger than") as ei:
        unpackb(b"\xc6\xff\xff\xff\xff\x00")
    assert ei.value.kind == "too_large"
    with pytest.raises(DecodeError) as ei:
        unpackb(b"\xdd\x7f\xff\xff\xff")  # array32 claiming 2^31 items
    assert ei.value.kind == "too_large"
    with pytest.raises(DecodeError) as ei:
        unpackb(b"\xcd\x01")  # uint16 with one byte
    assert ei.value.kind == "truncated"


def test_reject_msgpack_garbage() -> None:
    with pytest.raises(DecodeError):
        unpackb(b"\xc1")
    with pytest.raises(DecodeError, match="UTF-8"):
        unpackb(b"\xa2\xff\xfe")
    # an int map key is well-formed msgpack: the schema check refuses it (wrong_type)
    with pytest.raises(SchemaError) as se:
        expect_map("S", unpackb(b"\x81\x01\x02"))
    assert se.value.kind == "wrong_type"


def test_field_type_errors() -> None:
    m: dict[str, Any] = {"count": "x", "flag": 1, "u": 300, "e": "blue", "f": True}
    with pytest.raises(SchemaError, match=r"^S\.count: expected i64, found str$"):
        read_int("S.count", m["count"], "i64")
    with pytest.raises(SchemaError, match="expected bool, found int"):
        read_bool("S.flag", m["flag"])
    with pytest.raises(SchemaError, match=r"value 300 out of range for u8 \(0\.\.=255\)"):
        read_int("S.u", m["u"], "u8")
    with pytest.raises(SchemaError, match="unknown variant 'blue'"):
        read_enum("S.e", m["e"], ["train", "val"])
    assert read_enum("S.e", "val", ["train", "val"]) == "val"
    with pytest.raises(SchemaError, match="expected float, found bool"):
        read_float("S.f", m["f"])
    assert read_float("S.f", 3) == 3.0
    with pytest.raises(SchemaError, match=r"^S\.missing: missing required field$"):
        get_required(m, "S", "missing")
    with pytest.raises(SchemaError, match="expected an array"):
        read_array("S.a", "nope", "f32")
    with pytest.raises(SchemaError, match="expected a map, found array"):
        expect_map("S", [1])
    with pytest.raises(SchemaError, match="expected bin, found str"):
        read_bytes("S.b", "x")


def test_errors_are_value_errors() -> None:
    assert issubclass(SchemaError, ValueError) and issubclass(DecodeError, ValueError)
    e = SchemaError("A.b", "boom")
    import pickle

    e2 = pickle.loads(pickle.dumps(e))
    assert isinstance(e2, SchemaError) and str(e2) == "A.b: boom" and e2.path == "A.b"


def test_msgpack_itself_uses_bin_type() -> None:
    # sanity: what msgpack writes by default is what atdata relies on
    assert msgpack.packb(b"\x00") == packb(b"\x00") == b"\xc4\x01\x00"


def test_scan_depth_limit_and_large_values() -> None:
    from schemac_runtime.wire import MAX_DEPTH, scan

    # the root is level 0; a value at level MAX_DEPTH + 1 is too deep, scalars included
    scan(b"\x91" * MAX_DEPTH + b"\xc0")
    for deep in (b"\x91" * (MAX_DEPTH + 1) + b"\xc0", b"\x91" * (MAX_DEPTH + 1) + b"\x01"):
        with pytest.raises(DecodeError) as ei:
            scan(deep)
        assert ei.value.kind == "too_deep"
    # a bin key equal to a str key is no duplicate; two equal bin keys are
    assert unpackb(b"\x82\xc4\x01a\x01\xa1a\x02") == {b"a": 1, "a": 2}
    with pytest.raises(DecodeError) as ei:
        unpackb(b"\x82\xc4\x01a\x01\xc4\x01a\x02")
    assert ei.value.kind == "duplicate_key"
    # str8 and fixstr spellings of one key are the same key
    with pytest.raises(DecodeError) as ei:
        unpackb(b"\x82\xa1a\x01\xd9\x01a\x02")
    assert ei.value.kind == "duplicate_key"

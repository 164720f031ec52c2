from __future__ import annotations

import numpy as np
import pytest

from schemac_runtime import dtypes
from schemac_runtime.dtypes import (
    DTYPES,
    bf16_to_f32,
    dtype_info,
    f32_to_bf16,
    from_numpy_dtype,
    from_typestr,
)

TABLE = [
    ("bool", "|b1", "bool", 1),
    ("i8", "|i1", "int8", 1),
    ("i16", "<i2", "int16", 2),
    ("i32", "<i4", "int32", 4),
    ("i64", "<i8", "int64", 8),
    ("u8", "|u1", "uint8", 1),
    ("u16", "<u2", "uint16", 2),
    ("u32", "<u4", "uint32", 4),
    ("u64", "<u8", "uint64", 8),
    ("f16", "<f2", "float16", 2),
    ("bf16", "<V2", "bfloat16", 2),
    ("f32", "<f4", "float32", 4),
    ("f64", "<f8", "float64", 8),
]


def test_table_matches_design() -> None:
    assert [t[0] for t in TABLE] == list(DTYPES)
    for name, ts, np_name, size in TABLE:
        d = DTYPES[name]
        assert (d.typestr, d.numpy_name, d.itemsize) == (ts, np_name, size)
        assert d.numpy.itemsize == size
        if name != "bf16":
            # the typestr is numpy's own spelling of the in-memory dtype
            assert d.numpy.str == ts
            assert np.dtype(np_name) == d.numpy
        assert dtype_info(name) is d and dtype_info(ts) is d and dtype_info(np_name) is d


def test_bf16_is_raw_u2() -> None:
    assert DTYPES["bf16"].numpy == np.dtype("<u2")
    assert from_typestr("<V2") == (DTYPES["bf16"], False)
    assert from_typestr("|V2") == (DTYPES["bf16"], False)
    assert from_numpy_dtype(np.dtype("V2")) is DTYPES["bf16"]
    assert from_numpy_dtype(np.uint16) is DTYPES["u16"]


def test_max_bits() -> None:
    assert DTYPES["bool"].max_bits == 1
    assert DTYPES["u8"].max_bits == 8
    assert DTYPES["i64"].max_bits == 32
    assert DTYPES["f32"].max_bits is None


def test_from_typestr_big_endian_and_unknown() -> None:
    # Only the canonical spellings (docs/language.md): byte-order variants are refused.
    for ts in (">f4", "=f4", "f4", ">i1", "<u1", "|f4"):
        assert from_typestr(ts) is None, ts
    assert from_typestr("<f4") == (DTYPES["f32"], False)
    assert from_typestr("|V2") == from_typestr("<V2") == (DTYPES["bf16"], False)
    assert from_typestr("<c8") is None
    assert from_typestr("|O") is None
    assert from_typestr("garbage") is None
    with pytest.raises(ValueError):
        dtype_info("f128")


def test_bf16_conversions() -> None:
    x = np.array([1.0, -2.5, 0.0, np.inf, 3.0e38, 1.00390625, 1.01171875], dtype=np.float32)
    raw = f32_to_bf16(x)
    assert raw.dtype == np.dtype("<u2")
    assert raw[0] == 0x3F80 and raw[1] == 0xC020 and raw[3] == 0x7F80
    # ties to even: 1 + 2^-8 is halfway between 1.0 and 1 + 2^-7 -> 1.0
    assert raw[5] == 0x3F80
    # 1 + 3*2^-8 is halfway between 1+2^-7 and 1+2^-6 -> even mantissa 1+2^-6
    assert raw[6] == 0x3F82
    back = bf16_to_f32(raw)
    assert back.dtype == np.float32
    assert back[:5].tolist()[:4] == [1.0, -2.5, 0.0, np.inf]
    nan = f32_to_bf16(np.array([np.nan], dtype=np.float32))
    assert np.isnan(bf16_to_f32(nan)).all()


def test_module_helpers() -> None:
    assert dtypes.typestr("u8") == "|u1"
    assert dtypes.numpy_name("bf16") == "bfloat16"
    assert dtypes.numpy_dtype("f16") == np.float16
    assert DTYPES["i16"].int_range == (-32768, 32767)
    assert DTYPES["u32"].int_range == (0, 2**32 - 1)

"""Batches written by the generated Rust (``<Name>Batch::save``) read in Python.

The Rust test ``write_files_for_python`` (crates/gen-tests/tests/layouts_tensors.rs) writes,
for a random batch of several records, ``<stem>.<Record>.safetensors`` and a JSON manifest
``<stem>.<Record>.json`` (every tensor's dtype, shape and bytes, and every row's msgpack) into
``$SCHEMAC_SAFETENSORS_DIR``. Produce them with::

    export SCHEMAC_SAFETENSORS_DIR=/tmp/st
    cargo test -p gen-tests --test layouts_tensors write_files_for_python
    .venv/bin/python -m pytest python/tests/test_rust_safetensors.py

Checked here:

- the files open with the ``safetensors`` package (``safetensors.numpy.load_file``; numpy has
  no bfloat16, so files holding a ``BF16`` tensor go through the runtime's own reader) and
  every tensor has the manifest's dtype, shape and bytes, with the ``schemac_*`` metadata;
- the naming convention: ``<path>``, ``<path>.offsets`` (I64 ``[n + 1]``), ``<path>.shapes``
  (I64 ``[n, ndim]``), ``<path>.validity`` (U8 ``[n]`` of 0/1);
- the generated Python ``<Name>Batch.load`` reads the Rust file into the same samples that
  the rows' msgpack decode to, and its own tensors are byte for byte the Rust ones.

Without ``$SCHEMAC_SAFETENSORS_DIR`` the module is skipped (visibly).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLE_STEMS, REPO, Generated

from schemac_runtime.batch import read_safetensors

_DIR = os.environ.get("SCHEMAC_SAFETENSORS_DIR")
if not _DIR:
    pytest.skip(
        "SCHEMAC_SAFETENSORS_DIR is not set: run `SCHEMAC_SAFETENSORS_DIR=DIR cargo test "
        "-p gen-tests --test layouts_tensors write_files_for_python` first, then pytest with "
        "the same variable",
        allow_module_level=True,
    )
DIR = Path(_DIR)
MANIFESTS = sorted(DIR.glob("*.json"))
if not MANIFESTS:
    pytest.skip(f"no manifests in {DIR}: the Rust test did not write any", allow_module_level=True)

safetensors_numpy = pytest.importorskip("safetensors.numpy")
safetensors = pytest.importorskip("safetensors")

NUMPY_OF_ST = {
    "BOOL": np.dtype(np.bool_),
    "U8": np.dtype(np.uint8),
    "I8": np.dtype(np.int8),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "BF16": np.dtype("<u2"),  # raw bits
}


def manifest(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        out: dict[str, Any] = json.load(f)
    return out


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", MANIFESTS, ids=ids(MANIFESTS))
def test_tensors_match_the_manifest(path: Path) -> None:
    m = manifest(path)
    st = path.with_suffix(".safetensors")
    has_bf16 = any(t["dtype"] == "BF16" for t in m["tensors"].values())
    if has_bf16:
        # safetensors.numpy cannot represent bfloat16; the runtime's reader returns raw bits.
        tensors, meta = read_safetensors(st)
    else:
        tensors = safetensors_numpy.load_file(str(st))
        with safetensors.safe_open(str(st), framework="numpy") as f:
            meta = f.metadata()
    assert meta == {
        "schemac_sample": m["record"],
        "schemac_fingerprint": m["fingerprint"],
        "schemac_rows": str(m["rows"]),
    }
    assert sorted(tensors) == sorted(m["tensors"])
    n = m["rows"]
    for name, spec in m["tensors"].items():
        arr = np.asarray(tensors[name])
        assert arr.dtype == NUMPY_OF_ST[spec["dtype"]], name
        assert list(arr.shape) == spec["shape"], name
        assert arr.tobytes().hex() == spec["hex"], name
        # The naming convention.
        if name.endswith(".offsets"):
            assert arr.dtype == np.int64 and arr.shape == (n + 1,), name
            assert arr[0] == 0 and np.all(np.diff(arr) >= 0), name
            assert arr[-1] == np.asarray(tensors[name[: -len(".offsets")]]).shape[0], name
        elif name.endswith(".shapes"):
            assert arr.dtype == np.int64 and arr.ndim == 2 and arr.shape[0] == n, name
            offsets = np.asarray(tensors[name[: -len(".shapes")] + ".offsets"])
            np.testing.assert_array_equal(np.prod(arr, axis=1), np.diff(offsets), err_msg=name)
        elif name.endswith(".validity"):
            assert arr.dtype == np.uint8 and arr.shape == (n,), name
            assert set(np.unique(arr).tolist()) <= {0, 1}, name
        elif f"{name}.offsets" not in tensors:
            assert arr.shape[0] == n, f"fixed column {name} is [n, ...shape]"


def python_module(gen: Generated, stem: str) -> Any:
    if stem in EXAMPLE_STEMS:
        return gen[stem]
    schema = REPO / "crates" / "gen-tests" / "schemas" / f"{stem}.schema"
    text = schema.read_text(encoding="utf-8")
    return gen.compile_text(f"rust_st_{stem}", text)


@pytest.mark.parametrize("path", MANIFESTS, ids=ids(MANIFESTS))
def test_python_batch_loads_the_rust_file(gen: Generated, path: Path) -> None:
    m = manifest(path)
    mod = python_module(gen, m["stem"])
    cls = getattr(mod, m["record"])
    batch_cls = getattr(mod, f"{m['record']}Batch")
    batch = batch_cls.load(path.with_suffix(".safetensors"))
    assert len(batch) == m["rows"]
    if hasattr(cls, "from_bytes"):  # samples decode from msgpack; components do not
        expected = [cls.from_bytes(bytes.fromhex(h)) for h in m["msgpack_hex"]]
        assert batch.to_samples() == expected
    # Python's own buffers for the same batch are byte for byte Rust's.
    mine = batch.to_tensors()
    assert sorted(mine) == sorted(m["tensors"])
    for name, arr in mine.items():
        assert np.ascontiguousarray(arr).tobytes().hex() == m["tensors"][name]["hex"], name

"""Hostile safetensors headers, hand-built with ``struct`` and ``json``: the reader refuses
what the Rust runtime (serde types of the ``safetensors`` crate) refuses, with the same kind
(docs/language.md, "Safetensors files")."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from conftest import Generated

from schemac_runtime.batch import read_safetensors, write_safetensors
from schemac_runtime.errors import SchemacError


def _file(tmp_path: Path, header: str, data: bytes = b"\x00" * 4) -> Path:
    """A safetensors file with ``header`` taken as raw JSON text (so it may repeat keys)."""
    raw = header.encode("utf-8")
    p = tmp_path / "t.safetensors"
    p.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return p


def _kind(path: Path) -> str:
    with pytest.raises(SchemacError) as e:
        read_safetensors(path)
    return str(getattr(e.value, "kind", ""))


GOOD = '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'


def test_a_well_formed_header_reads(tmp_path: Path) -> None:
    t, meta = read_safetensors(_file(tmp_path, f'{{"__metadata__":{{"k":"v"}},{GOOD}}}'))
    assert meta == {"k": "v"} and t["a"].shape == (1,) and t["a"].dtype == np.float32


@pytest.mark.parametrize(
    "entry",
    [
        '{"dtype":"F32","shape":[1],"data_offsets":[0.0,4.0]}',  # float offsets
        '{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}',
        '{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}',  # digits as text
        '{"dtype":"F32","shape":[1],"data_offsets":["0","\u0664"]}',  # Arabic-Indic 4
        '{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}',
        '{"dtype":"F32","shape":["\u0661"],"data_offsets":[0,4]}',
        '{"dtype":"F32","shape":[true],"data_offsets":[0,4]}',
        '{"dtype":"F32","shape":{},"data_offsets":[0,4]}',
        '{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}',
        '{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}',
        '{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}',
        '{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}',
        '{"shape":[1],"data_offsets":[0,4]}',
    ],
)
def test_entries_rust_refuses_are_corrupt(tmp_path: Path, entry: str) -> None:
    assert _kind(_file(tmp_path, f'{{"a":{entry}}}')) == "corrupt_archive"


def test_duplicate_tensor_names_are_bad_keys(tmp_path: Path) -> None:
    # Same offsets twice: json.loads kept the last one and the file read as one tensor.
    assert _kind(_file(tmp_path, f"{{{GOOD},{GOOD}}}")) == "bad_key"
    meta = '"__metadata__":{"k":"v"}'
    assert _kind(_file(tmp_path, f"{{{meta},{meta},{GOOD}}}")) == "corrupt_archive"


@pytest.mark.parametrize(
    "header",
    [
        '{"__metadata__":[],' + GOOD + "}",
        '{"__metadata__":{"k":1},' + GOOD + "}",
        '{"__metadata__":{"k":"\\ud800"},' + GOOD + "}",
        '{"\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        "[]",
        "{" + GOOD,
    ],
)
def test_bad_headers_are_corrupt(tmp_path: Path, header: str) -> None:
    assert _kind(_file(tmp_path, header)) == "corrupt_archive"


def test_structure_errors_are_corrupt(tmp_path: Path) -> None:
    assert _kind(_file(tmp_path, "{" + GOOD + "}", b"\x00" * 5)) == "corrupt_archive"
    assert _kind(_file(tmp_path, "{" + GOOD + "}", b"\x00" * 3)) == "corrupt_archive"
    p = tmp_path / "huge.safetensors"
    p.write_bytes(struct.pack("<Q", 200_000_000) + b"{}")
    assert _kind(p) == "corrupt_archive"
    p.write_bytes(b"\x01")
    assert _kind(p) == "corrupt_archive"


@pytest.mark.parametrize("rows", ["\u0663", "3.0", "", "-3", " 3"])
def test_row_counts_are_ascii_integers(gen: Generated, tmp_path: Path, rows: str) -> None:
    mod = gen["puzzle"]
    f = tmp_path / "a.safetensors"
    mod.AggStateBatch.random(3, rng=0).save(f)
    t, meta = read_safetensors(f)
    assert mod.AggStateBatch.load(f).to_samples() == mod.AggStateBatch.random(3, rng=0).to_samples()
    meta = dict(meta)
    meta["schemac_rows"] = rows
    g = tmp_path / "b.safetensors"
    write_safetensors(g, t, meta)
    with pytest.raises(SchemacError) as e:
        mod.AggStateBatch.load(g)
    assert getattr(e.value, "kind", "") == "corrupt_archive"


def test_seeded_mutations_raise_only_schemac_errors(tmp_path: Path) -> None:
    """A seeded fuzz loop over the reader: mutated files read or raise a SchemacError of
    the archive kinds, never another exception."""
    import random

    rnd = random.Random(5)
    seed = tmp_path / "seed.safetensors"
    write_safetensors(
        seed,
        {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b.offsets": np.arange(3)},
        {"schemac_rows": "2"},
    )
    good = seed.read_bytes()
    p = tmp_path / "m.safetensors"
    for _ in range(3000):
        b = bytearray(good)
        for _ in range(rnd.randint(1, 4)):
            i = rnd.randrange(len(b))
            if rnd.random() < 0.7:
                b[i] = rnd.choice(b'0123456789.,:"{}[]e-+ \\u' + bytes([rnd.randrange(256)]))
            else:
                del b[i : i + rnd.randint(1, 8)]
        p.write_bytes(bytes(b))
        try:
            read_safetensors(p, use_mmap=False)
        except SchemacError as e:
            assert e.kind in ("corrupt_archive", "bad_key"), e


def test_tensors_that_do_not_fit_the_layout_are_corrupt(gen: Generated, tmp_path: Path) -> None:
    # A missing tensor, another dtype or another row count than the fingerprinted layout:
    # a broken file (corrupt_archive), as Rust's TensorFile reports it; they were `malformed`.
    mod = gen["puzzle"]
    f = tmp_path / "a.safetensors"
    mod.AggStateBatch.random(3, rng=0).save(f)
    t, meta = read_safetensors(f)
    name = sorted(t)[0]
    for bad in (
        {k: v for k, v in t.items() if k != name},
        {**t, name: t[name].astype(np.float64)},
        {**t, name: np.concatenate([t[name], t[name][:1]])},
    ):
        g = tmp_path / "b.safetensors"
        write_safetensors(g, bad, meta)
        with pytest.raises(SchemacError) as e:
            mod.AggStateBatch.load(g)
        assert getattr(e.value, "kind", "") == "corrupt_archive", e.value

"""Shards read by the engines users already run: the real ``webdataset`` package and
``ray.data.read_webdataset``, through the generated ``<Name>.wds_decoder()``.

Ray starts a local cluster (about 10 s); it is skipped when ray is not installed."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLES, REPO, Generated, generate

from schemac_runtime import wds as _wds
from schemac_runtime.errors import SchemacError


def write_vision_shard(gen: Generated, path: Path, n: int) -> list[Any]:
    v = gen["vision"]
    samples = [v.ImageSample.random(70 + i) for i in range(n)]
    with _wds.ShardWriter(path, mtime=0) as w:
        for i, s in enumerate(samples):
            w.write(_wds.make_key(i), s.packed)
    return samples


def test_webdataset_decodes_typed_samples(gen: Generated, tmp_path: Path) -> None:
    webdataset = pytest.importorskip("webdataset")
    v = gen["vision"]
    path = tmp_path / "vision-000000.tar"
    samples = write_vision_shard(gen, path, 5)
    ds = webdataset.WebDataset(str(path), shardshuffle=False).decode(v.ImageSample.wds_decoder())
    got = list(ds)
    assert [d["__key__"] for d in got] == [_wds.make_key(i) for i in range(5)]
    assert [d["msgpack"] for d in got] == samples


def test_webdataset_surfaces_the_runtimes_typed_error(gen: Generated, tmp_path: Path) -> None:
    webdataset = pytest.importorskip("webdataset")
    v = gen["vision"]
    path = tmp_path / "bad-000000.tar"
    good = v.ImageSample.random(1).packed
    bad = good[: len(good) // 2]  # cut inside the image payload
    with pytest.raises(SchemacError) as direct:
        v.ImageSample.from_bytes(bad)
    with _wds.ShardWriter(path, mtime=0) as w:
        w.write("000000000", bad)
    ds = webdataset.WebDataset(str(path), shardshuffle=False).decode(v.ImageSample.wds_decoder())
    with pytest.raises(Exception) as e:
        list(ds)
    # webdataset wraps handler exceptions; ours must be in the chain, with its kind
    err: BaseException | None = e.value
    while err is not None and not isinstance(err, SchemacError):
        err = err.__cause__ or err.__context__
    assert isinstance(err, SchemacError)
    assert (err.kind, err.path) == (direct.value.kind, direct.value.path)


def test_the_decoder_gives_rows_of_numpy_arrays(gen: Generated) -> None:
    v = gen["vision"]
    s = v.ImageSample.random(3)
    row = v.ImageSample.wds_decoder()(s.as_wds("k1"))
    assert row["__key__"] == "k1"
    assert set(row) == {"__key__", *(f.name for f in v.ImageSample._SC_FIELDS)}
    np.testing.assert_array_equal(row["image"], s.image)
    assert row["split"] == s.split.value and row["tags"] == s.tags


def test_ray_reads_a_shard_as_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    # Ray workers unpickle the decoder by module name: the generated module must be
    # importable there under its own name, as in a user's project.
    mod_dir = tmp_path / "mod"
    generate((EXAMPLES / "vision.schema").relative_to(REPO), mod_dir)
    monkeypatch.syspath_prepend(str(mod_dir))
    monkeypatch.delitem(sys.modules, "vision_v1", raising=False)
    v = importlib.import_module("vision_v1")
    path = tmp_path / "vision-000000.tar"
    samples = [v.ImageSample.random(70 + i) for i in range(4)]
    with _wds.ShardWriter(path, mtime=0) as w:
        for i, s in enumerate(samples):
            w.write(_wds.make_key(i), s.packed)
    pythonpath = os.pathsep.join([str(mod_dir), *sys.path])
    ray.init(
        num_cpus=1,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": pythonpath}},
    )
    try:
        ds = ray.data.read_webdataset(str(path), decoder=v.ImageSample.wds_decoder())
        rows = sorted(ds.take_all(), key=lambda r: r["__key__"])
    finally:
        ray.shutdown()
    assert len(rows) == 4
    for row, s in zip(rows, samples, strict=True):
        np.testing.assert_array_equal(np.asarray(row["image"]), s.image)
        assert row["label"] == s.label and row["confidence"] == s.confidence
        assert row["split"] == s.split.value
        for name in ("mask", "depth"):
            want = getattr(s, name)
            if want is None:  # absent: an empty array of the field's rank (no nulls in Ray)
                want = np.zeros((0, 0), dtype=np.asarray(row[name]).dtype)
            np.testing.assert_array_equal(np.asarray(row[name]), want)

"""Generated ``<Name>Batch`` classes: collate/split, indexing, slicing, masks, tensors and
safetensors files."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLE_STEMS, Generated, all_records

from schemac_runtime.batch import ALIGN, read_safetensors, write_safetensors
from schemac_runtime.errors import DecodeError, SchemaError


def batch_class(mod: Any, cls: type[Any]) -> Any:
    return getattr(mod, f"{cls.__name__}Batch")


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_collate_split_every_record(gen: Generated, stem: str) -> None:
    mod = gen[stem]
    for cls in all_records(mod):
        batch_cls = batch_class(mod, cls)
        samples = [cls.random(100 + i) for i in range(9)]
        b = batch_cls.from_samples(samples)
        assert len(b) == 9
        assert set(b.columns) == {leaf.path for leaf in batch_cls.LEAVES}
        assert b.to_samples() == samples
        assert list(b) == samples
        assert b[4] == samples[4] and b[-1] == samples[-1]
        assert b[2:7].to_samples() == samples[2:7]
        assert b[1:8:3].to_samples() == samples[1:8:3]
        assert b[::-1].to_samples() == samples[::-1]
        assert len(b[5:2]) == 0 and b[5:2].to_samples() == []
        mask = np.array([i % 3 != 1 for i in range(9)])
        assert b[mask].to_samples() == [s for s, keep in zip(samples, mask, strict=True) if keep]
        assert b[np.array([8, 0, 0, 3])].to_samples() == [samples[i] for i in (8, 0, 0, 3)]
        assert b[[2, -1]].to_samples() == [samples[2], samples[-1]]
        with pytest.raises(IndexError):
            b[9]
        with pytest.raises(IndexError):
            b[np.ones(3, dtype=bool)]
        # concat / append
        assert batch_cls.concat([b[:3], b[3:7], b[7:7], b[7:]]).to_samples() == samples
        assert batch_cls.concat([b[mask], b[:2]]).to_samples() == b[mask].to_samples() + samples[:2]
        assert b[:4].append(samples[4:]).to_samples() == samples
        assert len(batch_cls.concat([])) == 0
        # default(n) and random(n)
        d = batch_cls.default(3)
        assert d.to_samples() == [cls.default()] * 3
        r = batch_cls.random(4, rng=5)
        assert len(r) == 4
        for s in r:
            s.validate()
        assert len(batch_cls.from_samples([])) == 0


def test_fixed_columns_shapes_dtypes_and_views(gen: Generated) -> None:
    mod = gen["robot"]
    samples = [mod.RobotStep.random(i) for i in range(6)]
    b = mod.RobotStepBatch.from_samples(samples)
    assert b.step.dtype == np.uint32 and b.step.shape == (6,)
    assert b.pose__xyz.shape == (6, 3) and b.pose__xyz.dtype == np.float32
    assert b.history__quat.shape == (6, 8, 4)
    assert b.arms__angles.shape == (6, 2, 7)
    assert b.arms__base__xyz.shape == (6, 2, 3)
    assert b.arms__gripper_closed.dtype == np.bool_
    assert b.sensor.dtype == np.uint8
    np.testing.assert_array_equal(b.history__xyz[3, 5], samples[3].history[5].xyz)
    np.testing.assert_array_equal(b.arms__base__quat[2, 1], samples[2].arms[1].base.quat)
    np.testing.assert_array_equal(b.sensor, [list(mod.Sensor).index(s.sensor) for s in samples])
    # columns are 64-byte aligned
    for name, arr in b.to_tensors().items():
        if arr.size and name in b.columns:
            assert arr.ctypes.data % ALIGN == 0, name
    # slices are views; masks gather
    part = b[1:4]
    assert np.shares_memory(part.pose__xyz, b.pose__xyz)
    assert np.shares_memory(part.command.values, b.command.values)
    assert not np.shares_memory(b[np.array([1, 2])].pose__xyz, b.pose__xyz)
    # a sample's arrays view the batch
    s = b[2]
    assert np.shares_memory(s.pose.xyz, b.pose__xyz)


def test_ragged_optional_and_binary_columns(gen: Generated) -> None:
    mod = gen["vision"]
    samples = []
    for i in range(5):
        s = mod.ImageSample.random(i)
        if i % 2:
            s.mask = np.full((2, i), i, dtype=np.uint8)
            s.depth = np.full((2, i), float(i), dtype=np.float32)
        else:
            s.mask = s.depth = None
        s.label = "é" * i
        samples.append(s)
    b = mod.ImageSampleBatch.from_samples(samples)
    mask = b.mask
    np.testing.assert_array_equal(mask.validity, [False, True, False, True, False])
    np.testing.assert_array_equal(mask.offsets, [0, 0, 2, 2, 8, 8])
    np.testing.assert_array_equal(mask.shapes, [[0, 0], [2, 1], [0, 0], [2, 3], [0, 0]])
    assert mask.values.dtype == np.uint8 and mask.values.shape == (8,)
    label = b.label
    assert label.values.dtype == np.uint8
    np.testing.assert_array_equal(np.diff(label.offsets), [2 * i for i in range(5)])
    assert bytes(label.values[label.offsets[3] : label.offsets[4]]).decode() == "ééé"
    tags = b.tags
    assert tags.offsets.shape == (6,)
    assert b.to_samples() == samples
    # gathers of ragged columns
    assert b[np.array([3, 1])].to_samples() == [samples[3], samples[1]]
    sub = b[1:4]
    np.testing.assert_array_equal(sub.mask.offsets, [0, 2, 2, 8])
    assert sub.to_samples() == samples[1:4]


def test_collate_rejects_what_soa_cannot_hold(gen: Generated) -> None:
    mod = gen["vision"]
    with pytest.raises(SchemaError, match=r"^ImageSample\[0\]: expected ImageSample"):
        mod.ImageSampleBatch.from_samples([mod.RobotStep] if hasattr(mod, "RobotStep") else [1])
    s = mod.ImageSample.random(0)
    s.image = np.zeros((2, 2, 3), dtype=np.float32)
    with pytest.raises(SchemaError, match=r"^ImageSample\[0\]\.image: expected shape"):
        mod.ImageSampleBatch.from_samples([s])


def test_tensor_names_and_dtypes(gen: Generated) -> None:
    mod = gen["everything"]
    b = mod.EverythingBatch.random(4, rng=1)
    t = b.to_tensors()
    assert t["b"].dtype == np.bool_ and t["b"].shape == (4,)
    assert t["u_64"].dtype == np.uint64
    assert t["h"].dtype == np.float16
    assert t["bh"].dtype == np.uint16  # bf16 raw bits; BF16 in the file
    assert t["grid"].shape == (4, 2, 3)
    assert t["image"].ndim == 1 and t["image.offsets"].dtype == np.int64
    assert t["image.shapes"].shape == (4, 3)
    assert t["mask.validity"].dtype == np.uint8 and t["mask.validity"].shape == (4,)
    assert t["name"].dtype == np.uint8 and t["name.offsets"].shape == (5,)
    assert t["words"].dtype == np.uint8 and "words.shapes" not in t
    assert t["mode"].dtype == np.uint8
    assert t["sensor.validity"].shape == (4,)
    assert t["trail.xyz"].shape == (4, 4, 3)
    assert t["path.xyz"].ndim == 1 and t["path.xyz.shapes"].shape == (4, 2)
    assert t["maybe_pose.quat.validity"].shape == (4,)
    assert t["board.cells.kind"].shape == (4, 3, 3)
    assert t["packed_codes"].shape == (4, 8) and t["packed_codes"].dtype == np.uint16
    assert mod.EverythingBatch.from_tensors(t).to_samples() == b.to_samples()


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_save_load_round_trip(gen: Generated, stem: str, tmp_path: Path) -> None:
    mod = gen[stem]
    for cls in all_records(mod):
        batch_cls = batch_class(mod, cls)
        b = batch_cls.random(6, rng=3)
        f = tmp_path / f"{cls.__name__}.safetensors"
        b.save(f)
        for use_mmap in (True, False):
            back = batch_cls.load(f, use_mmap=use_mmap)
            assert len(back) == 6
            assert back.to_samples() == b.to_samples()
            bt, backt = b.to_tensors(), back.to_tensors()
            assert bt.keys() == backt.keys()
            for k in bt:
                assert bt[k].dtype == backt[k].dtype and bt[k].shape == backt[k].shape, k
                np.testing.assert_array_equal(bt[k], backt[k])
        # an empty batch saves too
        batch_cls.from_samples([]).save(tmp_path / "empty.safetensors")
        assert len(batch_cls.load(tmp_path / "empty.safetensors")) == 0


def _header(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    (n,) = struct.unpack_from("<Q", raw)
    assert n % 8 == 0
    out: dict[str, Any] = json.loads(raw[8 : 8 + n])
    return out


def test_file_format_header(gen: Generated, tmp_path: Path) -> None:
    mod = gen["everything"]
    b = mod.EverythingBatch.random(3, rng=2)
    f = tmp_path / "e.safetensors"
    b.save(f)
    h = _header(f)
    assert h["__metadata__"] == {
        "schemac_sample": "Everything",
        "schemac_fingerprint": mod.Everything.FINGERPRINT,
        "schemac_rows": "3",
    }
    assert h["bh"]["dtype"] == "BF16"
    assert h["h"]["dtype"] == "F16"
    assert h["b"]["dtype"] == "BOOL"
    assert h["mask.validity"]["dtype"] == "U8"
    assert h["image.offsets"]["dtype"] == "I64"
    assert h["grid"]["shape"] == [3, 2, 3]
    # data is laid out largest element first, so every tensor is aligned to its element size
    sizes = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2}
    for name, info in h.items():
        if name != "__metadata__":
            assert info["data_offsets"][0] % sizes.get(info["dtype"], 4) == 0, name


def test_files_interoperate_with_the_safetensors_package(gen: Generated, tmp_path: Path) -> None:
    st_numpy = pytest.importorskip("safetensors.numpy")
    mod = gen["vision"]
    b = mod.ImageSampleBatch.random(3, rng=4)
    ours = tmp_path / "ours.safetensors"
    b.save(ours)
    loaded = st_numpy.load_file(str(ours))
    for k, v in b.to_tensors().items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape, k
        np.testing.assert_array_equal(loaded[k], v)
    theirs = tmp_path / "theirs.safetensors"
    meta = {
        "schemac_sample": "ImageSample",
        "schemac_fingerprint": mod.ImageSample.FINGERPRINT,
        "schemac_rows": "3",
    }
    st_numpy.save_file(b.to_tensors(), str(theirs), metadata=meta)
    assert mod.ImageSampleBatch.load(theirs).to_samples() == b.to_samples()
    # BF16 tensors written here are readable by the package's low-level reader
    safetensors = pytest.importorskip("safetensors")
    e = gen["everything"].EverythingBatch.random(2, rng=0)
    ef = tmp_path / "e.safetensors"
    e.save(ef)
    entries = dict(safetensors.deserialize(ef.read_bytes()))
    assert entries["bh"]["dtype"] in ("BF16", "bfloat16")
    assert bytes(entries["bh"]["data"]) == e.to_tensors()["bh"].tobytes()


def test_load_rejects_other_records_and_bad_files(gen: Generated, tmp_path: Path) -> None:
    mod = gen["puzzle"]
    f = tmp_path / "a.safetensors"
    mod.AggStateBatch.random(2, rng=0).save(f)
    with pytest.raises(DecodeError, match="holds a batch of 'AggState', not 'Agg5'"):
        mod.Agg5Batch.load(f)
    t, meta = read_safetensors(f)
    meta["schemac_fingerprint"] = "0" * 16
    g = tmp_path / "b.safetensors"
    write_safetensors(g, t, meta)
    with pytest.raises(DecodeError, match="fingerprint"):
        mod.AggStateBatch.load(g)
    t, meta = read_safetensors(f)
    t = dict(t)
    t["faces"] = t["faces"][:, :5]
    write_safetensors(g, t, meta)
    with pytest.raises(DecodeError, match=r"^faces: expected shape \[n, 6, 54\]"):
        mod.AggStateBatch.load(g)
    g.write_bytes(f.read_bytes()[:-3])
    with pytest.raises(DecodeError):
        mod.AggStateBatch.load(g)
    g.write_bytes(b"\x01")
    with pytest.raises(DecodeError, match="truncated"):
        mod.AggStateBatch.load(g)


def test_load_checks_ragged_buffers(gen: Generated, tmp_path: Path) -> None:
    mod = gen["vision"]
    f = tmp_path / "v.safetensors"
    mod.ImageSampleBatch.random(3, rng=9).save(f)
    t, meta = read_safetensors(f)
    t = dict(t)
    bad = t["label.offsets"].copy()
    bad[1], bad[2] = bad[2] + 1, bad[1]
    t["label.offsets"] = bad
    g = tmp_path / "w.safetensors"
    write_safetensors(g, t, meta)
    with pytest.raises(DecodeError, match=r"^label\.offsets"):
        mod.ImageSampleBatch.load(g)
    t, meta = read_safetensors(f)
    t = dict(t)
    t["mask.validity"] = np.full(3, 2, dtype=np.uint8)
    write_safetensors(g, t, meta)
    with pytest.raises(DecodeError, match=r"^mask\.validity"):
        mod.ImageSampleBatch.load(g)

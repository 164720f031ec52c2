"""Generated modules on the msgpack, JSON and WebDataset wires: atdata golden bytes, round
trips of random instances of every example record, and rejections naming the field."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLE_STEMS, Generated, all_records, all_samples, case, load_vectors

from schemac_runtime import wds
from schemac_runtime.errors import BitsOverflowError, DecodeError, SchemaError
from schemac_runtime.jsonform import array_to_json
from schemac_runtime.wire import array_to_bytes, packb, unpackb

ATDATA = load_vectors("atdata")


def mutate(sample: Any, **changes: Any) -> bytes:
    """The sample's msgpack map with some keys replaced (``None`` deletes), re-encoded."""
    m = unpackb(sample.packed)
    for k, v in changes.items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    return packb(m)


# ------------------------------------------------------------------ atdata golden bytes


def test_atdata_prims_golden(gen: Generated) -> None:
    c = case(ATDATA, "Prims")
    mod = gen.compile_text("prims", c["schema"])
    v = c["values"]
    s = mod.Prims(
        flag=v["flag"],
        count=v["count"],
        neg=v["neg"],
        big=v["big"],
        ratio=v["ratio"],
        name=v["name"],
        blob=bytes.fromhex(v["blob_hex"]),
    )
    assert s.packed.hex() == c["hex"]
    back = mod.Prims.from_bytes(bytes.fromhex(c["hex"]))
    assert back == s
    assert back.packed.hex() == c["hex"]


def test_atdata_image_meta_golden(gen: Generated) -> None:
    c = case(ATDATA, "ImageMeta")
    mod = gen.compile_text("image_meta", c["schema"])
    v = c["values"]
    img = v["image"]
    s = mod.ImageMeta(
        image=np.array(img["data"], dtype=np.float32).reshape(img["shape"]),
        caption=v["caption"],
        score=v["score"],
        mask=None,
        tags=v["tags"],
    )
    assert s.packed.hex() == c["hex"]
    back = mod.ImageMeta.from_bytes(bytes.fromhex(c["hex"]))
    assert back == s
    assert back.image.dtype == np.float32 and back.image.shape == (2, 3)
    assert back.packed.hex() == c["hex"]


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_random_round_trips(gen: Generated, stem: str) -> None:
    mod = gen[stem]
    records = all_records(mod)
    assert records
    for cls in records:
        for seed in range(25):
            s = cls.random(seed)
            s.validate()
            # JSON, both as text and as objects
            text = s.to_json()
            back = cls.from_json(text)
            assert back == s, (cls.__name__, seed)
            assert back.to_json() == text
            if hasattr(cls, "from_bytes"):
                data = s.packed
                back = cls.from_bytes(data)
                assert back == s, (cls.__name__, seed)
                assert back.packed == data
                back.validate()
                # WebDataset dict
                d = s.as_wds(f"{seed:06d}")
                assert d["__key__"] == f"{seed:06d}" and d["msgpack"] == data
                assert cls.from_wds(d) == s


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_default_instances(gen: Generated, stem: str) -> None:
    for cls in all_records(gen[stem]):
        d = cls.default()
        d.validate()
        assert cls.from_json(d.to_json()) == d
        if hasattr(cls, "from_bytes"):
            assert cls.from_bytes(d.packed) == d


def test_random_is_deterministic_per_seed(gen: Generated) -> None:
    mod = gen["everything"]
    a = mod.Everything.random(7)
    b = mod.Everything.random(np.random.default_rng(7))
    assert a == b and a.packed == b.packed
    assert mod.Everything.random(8) != a


def test_wds_shard_round_trip(gen: Generated, tmp_path: Path) -> None:
    mod = gen["vision"]
    samples = [mod.ImageSample.random(i) for i in range(4)]
    shard = tmp_path / "shard-000000.tar"
    wds.write_shard(shard, [s.as_wds(wds.make_key(i)) for i, s in enumerate(samples)], mtime=0)
    back = [mod.ImageSample.from_wds(d) for d in wds.iter_wds(shard)]
    assert back == samples


def test_webdataset_package_reads_shard(gen: Generated, tmp_path: Path) -> None:
    webdataset = pytest.importorskip("webdataset")
    mod = gen["robot"]
    samples = [mod.RobotStep.random(i) for i in range(3)]
    shard = tmp_path / "robot-000000.tar"
    wds.write_shard(shard, [s.as_wds(wds.make_key(i)) for i, s in enumerate(samples)], mtime=0)
    got = [mod.RobotStep.from_wds(d) for d in webdataset.WebDataset(str(shard), shardshuffle=False)]
    assert got == samples


# ------------------------------------------------------------------ wire details


def test_vision_wire_layout(gen: Generated) -> None:
    mod = gen["vision"]
    s = mod.ImageSample.random(3)
    s.mask = np.ones((5, 7), dtype=np.uint8)
    s.depth = np.zeros((5, 7), dtype=np.float32)
    m = unpackb(s.packed)
    assert list(m) == ["image", "label", "confidence", "mask", "depth", "tags", "split"]
    assert m["image"][:4] == b"\x03<f4"
    assert m["split"] == s.split.value and isinstance(m["split"], str)
    assert isinstance(m["confidence"], float)
    # float scalars are always float64 (cb), even when the value is integral
    s.confidence = 1.0
    assert b"\xaaconfidence\xcb" in s.packed


def test_absent_optional_is_nil_and_missing_fields_are_filled(gen: Generated) -> None:
    mod = gen["vision"]
    s = mod.ImageSample.random(0)
    s.mask = None
    s.depth = None
    m = unpackb(s.packed)
    assert m["mask"] is None and "depth" in m
    # missing optional and defaulted fields are filled; unknown keys are ignored
    data = mutate(s, mask=None, depth=None, confidence=None, split=None, extra_key=[1, 2])
    back = mod.ImageSample.from_bytes(data)
    assert back.mask is None and back.depth is None
    assert back.confidence == 1.0 and back.split == mod.Split.train
    assert back.image.shape == (224, 224, 3) and back.label == s.label


def test_float_scalars_round_to_their_dtype(gen: Generated) -> None:
    mod = gen["everything"]
    e = mod.Everything.default()
    assert e.f == float(np.float32(1e-3))
    e.f = 0.1
    e.h = 0.1
    e.bh = 0.1
    m = unpackb(e.packed)
    assert m["f"] == float(np.float32(0.1))
    assert m["h"] == float(np.float16(0.1))
    assert m["bh"] == 0.10009765625  # bf16 nearest to 0.1
    back = mod.Everything.from_bytes(e.packed)
    assert back.packed == e.packed


def test_maps_are_written_sorted(gen: Generated) -> None:
    mod = gen["robot"]
    s = mod.RobotStep.random(1)
    s.notes = {"b": "2", "a": "1", "c": "3"}
    m = unpackb(s.packed)
    assert list(m["notes"]) == ["a", "b", "c"]
    assert list(s.to_json_obj()["notes"]) == ["a", "b", "c"]
    # readers accept any order; the Python value keeps the order read
    data = mutate(s, notes={"z": "1", "y": "2"})
    assert list(mod.RobotStep.from_bytes(data).notes) == ["z", "y"]


def test_component_arrays_nest_on_the_wire(gen: Generated) -> None:
    mod = gen["everything"]
    e = mod.Everything.random(2)
    m = unpackb(e.packed)
    cells = m["board"]["cells"]
    assert len(cells) == 3 and all(len(row) == 3 for row in cells)
    assert cells[1][2] == unpackb(mod._g.packb(e.board.cells[5]._sc_wire("x", mod._g.Dims())))
    assert len(m["trail"]) == 4 and isinstance(m["trail"][0], dict)
    assert len(m["path"]) == len(e.path)
    j = e.to_json_obj()
    assert len(j["board"]["cells"]) == 3 and len(j["board"]["cells"][0]) == 3


def test_packed_field_is_an_ordinary_array_on_the_wire(gen: Generated) -> None:
    mod = gen["puzzle"]
    faces = (np.arange(324) % 8).astype(np.uint8).reshape(6, 54)
    s = mod.PuzzleState(faces=b"", moves=3)
    s.set_faces_unpacked(faces)
    assert isinstance(s.faces, bytes) and len(s.faces) == 122
    m = unpackb(s.packed)
    assert m["faces"] == array_to_bytes(faces)
    assert mod.PuzzleState.from_json(s.to_json()) == s
    np.testing.assert_array_equal(s.faces_unpacked(), faces)


def test_json_form(gen: Generated) -> None:
    mod = gen["everything"]
    e = mod.Everything.random(5)
    e.blob = b"\x00\x01\xff"
    e.sensor = None
    j = e.to_json_obj()
    assert j["blob"] == "AAH/"
    assert j["sensor"] is None
    assert j["mode"] == e.mode.value
    assert set(j["grid"]) == {"data_b64", "shape", "dtype"}
    assert j["grid"]["dtype"] == "float32" and j["grid"]["shape"] == [2, 3]
    assert j["bh"] == e.bh
    # readers also accept nested lists for arrays
    j["grid"] = e.grid.tolist()
    assert mod.Everything.from_json_obj(j) == e


# ------------------------------------------------------------------ rejections


@pytest.fixture
def vision_sample(gen: Generated) -> Any:
    s = gen["vision"].ImageSample.random(11)
    s.mask = np.zeros((4, 5), dtype=np.uint8)
    s.depth = np.zeros((4, 5), dtype=np.float32)
    return s


def test_reject_truncated_and_trailing(gen: Generated, vision_sample: Any) -> None:
    cls = type(vision_sample)
    data = vision_sample.packed
    for cut in (1, 10, len(data) // 2, len(data) - 1):
        with pytest.raises(DecodeError):
            cls.from_bytes(data[:cut])
    with pytest.raises(DecodeError, match="trailing"):
        cls.from_bytes(data + b"\xc0")
    with pytest.raises(SchemaError, match=r"^ImageSample: expected a map"):
        cls.from_bytes(packb([1, 2]))


def test_reject_wrong_dtype(vision_sample: Any) -> None:
    cls = type(vision_sample)
    bad = mutate(vision_sample, mask=array_to_bytes(np.zeros((4, 5), dtype=np.float32)))
    with pytest.raises(SchemaError) as e:
        cls.from_bytes(bad)
    assert str(e.value) == "ImageSample.mask: expected dtype |u1, found <f4"


def test_reject_wrong_shape(vision_sample: Any) -> None:
    cls = type(vision_sample)
    bad = mutate(vision_sample, image=array_to_bytes(np.zeros((224, 224, 4), dtype=np.float32)))
    with pytest.raises(SchemaError, match=r"^ImageSample\.image: expected shape \[224, 224, 3\]"):
        cls.from_bytes(bad)
    bad = mutate(vision_sample, image=array_to_bytes(np.zeros((224, 224), dtype=np.float32)))
    with pytest.raises(SchemaError, match=r"^ImageSample\.image: expected 3-d shape"):
        cls.from_bytes(bad)


def test_reject_named_dim_mismatch(vision_sample: Any) -> None:
    cls = type(vision_sample)
    bad = mutate(vision_sample, depth=array_to_bytes(np.zeros((4, 6), dtype=np.float32)))
    with pytest.raises(
        SchemaError, match=r"^ImageSample\.depth: named dim W is 6 .*ImageSample\.mask has W = 5"
    ):
        cls.from_bytes(bad)
    vision_sample.depth = np.zeros((3, 5), dtype=np.float32)
    with pytest.raises(SchemaError, match=r"^ImageSample\.depth: named dim H"):
        vision_sample.validate()
    with pytest.raises(SchemaError, match=r"^ImageSample\.depth: named dim H"):
        _ = vision_sample.packed


def test_reject_missing_required_and_wrong_types(vision_sample: Any) -> None:
    cls = type(vision_sample)
    with pytest.raises(SchemaError) as e:
        cls.from_bytes(mutate(vision_sample, label=None))
    assert str(e.value) == "ImageSample.label: missing required field"
    with pytest.raises(SchemaError, match=r"^ImageSample\.label: expected str, found int"):
        cls.from_bytes(mutate(vision_sample, label=3))
    with pytest.raises(SchemaError, match=r"^ImageSample\.confidence: expected float"):
        cls.from_bytes(mutate(vision_sample, confidence="x"))
    with pytest.raises(SchemaError, match=r"^ImageSample\.image: expected an array"):
        cls.from_bytes(mutate(vision_sample, image=1.5))
    with pytest.raises(SchemaError, match=r"^ImageSample\.split: unknown variant 'holdout'"):
        cls.from_bytes(mutate(vision_sample, split="holdout"))
    with pytest.raises(SchemaError, match=r"^ImageSample\.tags\[1\]: expected str"):
        cls.from_bytes(mutate(vision_sample, tags=["a", 2]))
    with pytest.raises(SchemaError, match=r"^ImageSample\.tags: expected array"):
        cls.from_bytes(mutate(vision_sample, tags="a"))


def test_reject_nested_errors_name_the_path(gen: Generated) -> None:
    mod = gen["everything"]
    e = mod.Everything.random(3)
    m = unpackb(e.packed)
    m["trail"][2]["xyz"] = array_to_bytes(np.zeros(4, dtype=np.float32))
    with pytest.raises(SchemaError, match=r"^Everything\.trail\[2\]\.xyz: expected shape \[3\]"):
        mod.Everything.from_bytes(packb(m))
    m = unpackb(e.packed)
    m["board"]["cells"][1] = m["board"]["cells"][1][:2]
    with pytest.raises(SchemaError, match=r"^Everything\.board\.cells\[1\]: expected 3 elements"):
        mod.Everything.from_bytes(packb(m))
    m = unpackb(e.packed)
    m["u_8"] = 256
    with pytest.raises(SchemaError, match=r"^Everything\.u_8: value 256 out of range for u8"):
        mod.Everything.from_bytes(packb(m))
    m = unpackb(e.packed)
    m["poses"] = {"k": {"xyz": 1}}
    with pytest.raises(SchemaError, match=r'^Everything\.poses\["k"\]\.xyz'):
        mod.Everything.from_bytes(packb(m))


def test_reject_json(vision_sample: Any) -> None:
    cls = type(vision_sample)
    j = vision_sample.to_json_obj()
    j2 = dict(j, mask=array_to_json(np.zeros((4, 5), dtype=np.float32)))
    with pytest.raises(SchemaError, match=r"^ImageSample\.mask: expected dtype uint8"):
        cls.from_json_obj(j2)
    j3 = {k: v for k, v in j.items() if k != "image"}
    with pytest.raises(SchemaError, match=r"^ImageSample\.image: missing required field"):
        cls.from_json_obj(j3)
    with pytest.raises(DecodeError):
        cls.from_json("{not json")


def test_validate_checks_ranges_bits_and_types(gen: Generated) -> None:
    mod = gen["everything"]
    e = mod.Everything.random(4)
    e.validate()
    e.d = 11.0
    with pytest.raises(SchemaError, match=r"^Everything\.d: value 11\.0 outside @range\(0, 10\)"):
        e.validate()
    e = mod.Everything.random(4)
    e.codes = e.codes.copy()
    e.codes[3] = 4096
    with pytest.raises(BitsOverflowError, match=r"^Everything\.codes: value 4096 at index \[3\]"):
        e.validate()
    e = mod.Everything.random(4)
    e.signed_small = np.full(6, -9, dtype=np.int8)
    with pytest.raises(SchemaError, match=r"^Everything\.signed_small"):
        e.validate()
    e = mod.Everything.random(4)
    e.grid = e.grid.astype(np.float64)
    with pytest.raises(SchemaError, match=r"^Everything\.grid: expected dtype <f4, found <f8"):
        e.validate()
    with pytest.raises(SchemaError, match=r"^Everything\.grid: expected dtype <f4"):
        _ = e.packed
    e = mod.Everything.random(4)
    e.trail = e.trail[:3]
    with pytest.raises(SchemaError, match=r"^Everything\.trail: expected 4 Pose elements"):
        e.validate()
    e = mod.Everything.random(4)
    e.mode = "val"
    with pytest.raises(SchemaError, match=r"^Everything\.mode: expected Mode, found str"):
        e.validate()
    r = gen["robot"].RobotStep.random(0)
    r.arms[1].angles = np.full(7, 4.0, dtype=np.float32)
    with pytest.raises(SchemaError, match=r"^RobotStep\.arms\[1\]\.angles: value 4\.0"):
        r.validate()


def test_packed_field_accessors_check_bits(gen: Generated) -> None:
    mod = gen["puzzle"]
    s = mod.PuzzleState.default()
    with pytest.raises(BitsOverflowError, match=r"^PuzzleState\.faces: value 8"):
        s.set_faces_unpacked(np.full((6, 54), 8, dtype=np.uint8))
    with pytest.raises(SchemaError, match=r"^PuzzleState\.faces: expected shape"):
        s.set_faces_unpacked(np.zeros((6, 53), dtype=np.uint8))
    s.faces = b"\x00" * 121
    with pytest.raises(SchemaError, match=r"^PuzzleState\.faces: packed field holds 121 bytes"):
        s.validate()


# ------------------------------------------------------------------ Rust -> Python


def test_rust_written_samples(gen: Generated) -> None:
    """Samples written by the Rust target, when a directory of them is given.

    ``$SCHEMAC_RUST_SAMPLES/<schema stem>/<SampleName>/*.msgpack``: each file is one sample's
    msgpack bytes, written by the generated Rust code for ``examples/schemas/<stem>.schema``.
    Every file must decode, validate, and re-encode to the same bytes.
    ``<SampleName>/*.safetensors`` (batches saved by Rust) must load and split into samples
    that validate.
    """
    root = os.environ.get("SCHEMAC_RUST_SAMPLES")
    if not root:
        pytest.skip("SCHEMAC_RUST_SAMPLES is not set (no Rust-written samples to read)")
    base = Path(root)
    assert base.is_dir(), f"SCHEMAC_RUST_SAMPLES={root} is not a directory"
    checked = 0
    for stem_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        mod = gen[stem_dir.name]
        for sample_dir in sorted(p for p in stem_dir.iterdir() if p.is_dir()):
            cls = getattr(mod, sample_dir.name)
            for f in sorted(sample_dir.glob("*.msgpack")):
                data = f.read_bytes()
                s = cls.from_bytes(data)
                s.validate()
                assert s.packed == data, f"{f}: re-encoding differs"
                checked += 1
            batch_cls = getattr(mod, f"{sample_dir.name}Batch")
            for f in sorted(sample_dir.glob("*.safetensors")):
                for s in batch_cls.load(f):
                    s.validate()
                checked += 1
    assert checked, f"no samples found under {root}"


def test_every_sample_class_has_the_sample_api(gen: Generated) -> None:
    for stem in EXAMPLE_STEMS:
        mod = gen[stem]
        for cls in all_samples(mod):
            for name in ("packed", "from_bytes", "as_wds", "from_wds", "to_json", "from_json"):
                assert hasattr(cls, name), (cls, name)
            assert len(cls.FINGERPRINT) == 16


# ------------------------------------------------------------------ live atdata

ATDATA_PY = Path(__file__).resolve().parents[2] / ".venv-atdata" / "bin" / "python"

ATDATA_VISION = r"""
import json, sys
import numpy as np
from numpy.typing import NDArray
import atdata

@atdata.packable
class ImageSample:
    image: NDArray
    label: str
    confidence: float
    mask: NDArray | None
    depth: NDArray | None
    tags: list[str]
    split: str

d = np.load(sys.argv[1])
meta = json.loads(sys.argv[2])
ours = ImageSample.from_bytes(bytes.fromhex(open(sys.argv[3]).read()))
s = ImageSample(image=d["image"], label=meta["label"], confidence=meta["confidence"],
                mask=d["mask"], depth=None, tags=meta["tags"], split=meta["split"])
print(json.dumps({
    "packed": s.packed.hex(),
    "decoded": {"label": ours.label, "confidence": ours.confidence, "tags": ours.tags,
                "split": ours.split, "depth": ours.depth,
                "image_equal": bool(np.array_equal(ours.image, d["image"])),
                "mask_equal": bool(np.array_equal(ours.mask, d["mask"])),
                "mask_dtype": ours.mask.dtype.str},
}))
"""


@pytest.mark.skipif(not ATDATA_PY.exists(), reason="no .venv-atdata (atdata needs Python >= 3.12)")
def test_atdata_live_vision_sample(gen: Generated, tmp_path: Path) -> None:
    """The generated ImageSample and an equivalent atdata @packable write identical bytes and
    read each other's."""
    import json
    import subprocess

    mod = gen["vision"]
    rng = np.random.default_rng(3)
    s = mod.ImageSample(
        image=rng.random((224, 224, 3), dtype=np.float32),
        label="tabby",
        confidence=0.625,
        mask=rng.integers(0, 9, size=(12, 17), dtype=np.uint8),
        depth=None,
        tags=["cat", "indoor"],
        split=mod.Split.test,
    )
    npz = tmp_path / "s.npz"
    np.savez(npz, image=s.image, mask=s.mask)
    ours = tmp_path / "ours.hex"
    ours.write_text(s.packed.hex())
    meta = {"label": s.label, "confidence": s.confidence, "tags": s.tags, "split": "test"}
    r = subprocess.run(
        [str(ATDATA_PY), "-c", ATDATA_VISION, str(npz), json.dumps(meta), str(ours)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if r.returncode != 0 and "No module named 'atdata'" in r.stderr:
        pytest.skip(".venv-atdata has no atdata")
    assert r.returncode == 0, r.stderr
    theirs = json.loads(r.stdout.strip().splitlines()[-1])
    assert theirs["packed"] == s.packed.hex()
    assert mod.ImageSample.from_bytes(bytes.fromhex(theirs["packed"])) == s
    d = theirs["decoded"]
    assert d == {
        "label": "tabby",
        "confidence": 0.625,
        "tags": ["cat", "indoor"],
        "split": "test",
        "depth": None,
        "image_equal": True,
        "mask_equal": True,
        "mask_dtype": "|u1",
    }


# ------------------------------------------------------------------ Python -> Rust


def test_write_samples_for_rust(gen: Generated) -> None:
    """Writes samples for the Rust side to read, when a directory is given.

    ``$SCHEMAC_PYTHON_SAMPLES/<schema stem>/<SampleName>/<seed>.msgpack`` (one random
    instance each) and ``batch.safetensors``; ``crates/gen-tests/tests/interop.rs``
    (``rust_reads_python_samples``) decodes them with the generated Rust and must re-encode
    identical bytes. ``scripts/test.sh`` runs that test after this one.
    """
    root = os.environ.get("SCHEMAC_PYTHON_SAMPLES")
    if not root:
        pytest.skip("SCHEMAC_PYTHON_SAMPLES is not set (no directory to write samples for Rust)")
    written = 0
    for stem in EXAMPLE_STEMS:
        mod = gen[stem]
        for cls in all_samples(mod):
            out = Path(root) / stem / cls.__name__
            out.mkdir(parents=True, exist_ok=True)
            samples = []
            for seed in range(12):
                s = cls.random(seed)
                s.validate()
                (out / f"{seed:04}.msgpack").write_bytes(s.packed)
                samples.append(s)
                written += 1
            getattr(mod, f"{cls.__name__}Batch").from_samples(samples).save(
                out / "batch.safetensors"
            )
    assert written

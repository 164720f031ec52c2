"""Corners of the language the examples do not reach, compiled from schema text: strings,
lists, enums and optional leaves inside component arrays, bf16 arrays, named-dim component
arrays, nested component arrays, optional and scalar ``@packed`` fields, an empty sample and
an enum-only schema. Each module round-trips, batches, saves and lints."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import REPO, Generated, all_records
from test_generated_lint import PYPROJECT, tool

from schemac_runtime.errors import SchemaError
from schemac_runtime.wire import unpackb

EDGES = """
package edges;

enum Color { red, green, blue }

component Tag { name: str, data: bytes, ids: list<i32>, color: Color, note: str? }

component Joint { angle: f32 @range(-1, 1), lims: bf16[2] }

component Limb { joints: Joint[3], pos: f32[3] }

component Pt { xy: f32[2], w: f32[K] }

sample Edge {
    tags: Tag[2],
    more: Tag[_],
    limbs: Limb[2, 2],
    pts: Pt[N],
    n_pts: i64[N],
    weights: f32[K],
    halves: bf16[4],
    grid: bf16[_, 2]?,
    opt_codes: u8[5]? @bits(3) @packed,
    one: u8 @bits(3) @packed,
    flag: bool @bits(1) @packed,
    maybe_limb: Limb?,
    colors: map<str, Color>,
    nested: list<Tag[2]>,
}

sample Empty {}

/// All defaults.
sample Defaults {
    a: u8 = 7,
    s: str = "a \\"quoted\\" \\\\ line\\n",
    c: Color = blue,
    h: bf16[3] = 0.3,
    o: f32? = 1.5,
}
"""

ENUM_ONLY = """
enum Only { a, b }
"""


@pytest.fixture(scope="module")
def edges(gen: Generated) -> ModuleType:
    return gen.compile_text("edges", EDGES)


def test_round_trips(edges: ModuleType) -> None:
    for cls in all_records(edges):
        for seed in range(40):
            s = cls.random(seed)
            s.validate()
            assert cls.from_json(s.to_json()) == s, (cls.__name__, seed)
            if hasattr(cls, "from_bytes"):
                data = s.packed
                back = cls.from_bytes(data)
                assert back == s and back.packed == data, (cls.__name__, seed)
        d = cls.default()
        d.validate()
        assert cls.from_json(d.to_json()) == d


def test_named_dim_component_array(edges: ModuleType) -> None:
    e = edges.Edge.random(1)
    n = len(e.pts)
    assert e.n_pts.shape == (n,)
    k = e.weights.shape[0]
    assert all(p.w.shape == (k,) for p in e.pts)
    e.n_pts = np.zeros(n + 1, dtype=np.int64)
    with pytest.raises(SchemaError, match=r"^Edge\.n_pts: named dim N"):
        e.validate()


def test_defaults_module(edges: ModuleType) -> None:
    d = edges.Defaults()
    assert d.a == 7 and d.c == edges.Color.blue and d.o == 1.5
    assert d.s == 'a "quoted" \\ line\n'
    np.testing.assert_array_equal(d.h, np.full(3, 0x3E9A, dtype=np.uint16))  # bf16(0.3)
    m = unpackb(d.packed)
    assert m == {"a": 7, "s": d.s, "c": "blue", "h": m["h"], "o": 1.5}
    e = edges.Empty()
    assert unpackb(e.packed) == {} and edges.Empty.from_bytes(b"\x80") == e
    assert edges.Empty.from_json("{}") == e


def test_packed_optional_and_scalar_fields(edges: ModuleType) -> None:
    e = edges.Edge.random(2)
    e.set_opt_codes_unpacked(None)
    assert e.opt_codes is None and e.opt_codes_unpacked() is None
    e.set_opt_codes_unpacked(np.array([1, 2, 3, 4, 7], dtype=np.uint8))
    assert isinstance(e.opt_codes, bytes) and len(e.opt_codes) == 2
    np.testing.assert_array_equal(e.opt_codes_unpacked(), [1, 2, 3, 4, 7])
    e.set_one_unpacked(5)
    assert e.one_unpacked() == 5 and e.one == b"\x05"
    e.set_flag_unpacked(True)
    assert e.flag_unpacked() is True
    m = unpackb(e.packed)
    assert m["one"] == 5 and m["flag"] is True
    assert edges.Edge.from_bytes(e.packed) == e


def test_batches_of_everything_under_component_arrays(edges: ModuleType, tmp_path: Path) -> None:
    samples = [edges.Edge.random(i) for i in range(12)]
    # the SoA form needs one validity bit per sample for optional leaves in component arrays
    for s in samples:
        for t in (*s.tags, *s.more):
            t.note = None
        for nested in s.nested:
            for t in nested:
                t.note = "x"
    b = edges.EdgeBatch.from_samples(samples)
    leaves = {leaf.path: leaf for leaf in edges.EdgeBatch.LEAVES}
    assert leaves["tags.name"].storage == "encoded"
    assert b.tags__color.shape == (12, 2)
    assert b.limbs__joints__lims.shape == (12, 2, 2, 3, 2)
    assert b.limbs__joints__angle.shape == (12, 2, 2, 3)
    np.testing.assert_array_equal(
        b.limbs__joints__angle[3, 1, 0], [j.angle for j in samples[3].limbs[2].joints]
    )
    # encoded rows of str under a component array: nested arrays of the wire values
    assert unpackb(b.tags__name.row_bytes(4)) == [t.name for t in samples[4].tags]
    assert b.to_samples() == samples
    assert b[3:9:2].to_samples() == samples[3:9:2]
    f = tmp_path / "edge.safetensors"
    b.save(f)
    assert edges.EdgeBatch.load(f).to_samples() == samples
    # mixed presence inside a component array cannot be one validity bit
    bad = edges.Edge.random(0)
    bad.tags[0].note = "a"
    bad.tags[1].note = None
    with pytest.raises(SchemaError, match=r"^Edge\[0\]\.tags\.note: present in some elements"):
        edges.EdgeBatch.from_samples([bad])


def test_empty_sample_batch(edges: ModuleType, tmp_path: Path) -> None:
    b = edges.EmptyBatch.from_samples([edges.Empty()] * 5)
    assert len(b) == 5 and b.to_samples() == [edges.Empty()] * 5
    b.save(tmp_path / "e.safetensors")
    assert len(edges.EmptyBatch.load(tmp_path / "e.safetensors")) == 5


def test_enum_only_schema(gen: Generated) -> None:
    mod = gen.compile_text("only", ENUM_ONLY)
    assert [m.value for m in mod.Only] == ["a", "b"]
    assert not all_records(mod)


@pytest.mark.parametrize("name,text", [("edges", EDGES), ("only", ENUM_ONLY)])
def test_lint(gen: Generated, name: str, text: str) -> None:
    mod = gen.compile_text(name, text)
    path = Path(mod.__file__ or "")
    res = subprocess.run(
        [
            tool("ruff"),
            "check",
            "--no-cache",
            "--config",
            str(PYPROJECT),
            "--config",
            "lint.isort.known-third-party = ['schemac_runtime']",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout
    env = dict(os.environ, MYPYPATH=str(REPO / "python"))
    res = subprocess.run(
        [
            tool("mypy"),
            "--strict",
            "--cache-dir",
            str(gen.root / ".mypy_cache"),
            "--follow-imports=silent",
            path.name,
        ],
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout


FRAGILE = """
component AllOpt { a: u8?, b: str? }
component Holder { inner: AllOpt? }
sample Frag { x: AllOpt?, h: Holder, y: u8 }
"""


def test_batches_reject_optional_components_they_cannot_represent(gen: Generated) -> None:
    mod = gen.compile_text("frag", FRAGILE)
    ok = [
        mod.Frag(x=None, h=mod.Holder(inner=None), y=1),
        mod.Frag(x=mod.AllOpt(a=3), h=mod.Holder(inner=mod.AllOpt(b="b")), y=2),
    ]
    assert mod.FragBatch.from_samples(ok).to_samples() == ok
    bad = mod.Frag(x=mod.AllOpt(), h=mod.Holder(inner=None), y=1)
    with pytest.raises(SchemaError, match=r"^Frag\[0\]\.x: an optional component that is present"):
        mod.FragBatch.from_samples([bad])
    bad = mod.Frag(x=None, h=mod.Holder(inner=mod.AllOpt()), y=1)
    with pytest.raises(SchemaError, match=r"^Frag\[1\]\.h\.inner: an optional component"):
        mod.FragBatch.from_samples([ok[0], bad])
    # the msgpack wire has no such limit
    assert mod.Frag.from_bytes(bad.packed) == bad


def test_component_arrays_of_all_optional_components(gen: Generated) -> None:
    mod = gen.compile_text(
        "fragarr",
        "component O { a: u8? }\nsample A { fixed: O[2], dyn: O[_], y: u8 }\n",
    )
    ok = mod.A(fixed=[mod.O(), mod.O()], dyn=[], y=1)
    assert mod.ABatch.from_samples([ok]).to_samples() == [ok]
    ok2 = mod.A(fixed=[mod.O(a=1), mod.O(a=2)], dyn=[mod.O(a=3)], y=1)
    assert mod.ABatch.from_samples([ok, ok2]).to_samples() == [ok, ok2]
    bad = mod.A(fixed=[mod.O(), mod.O()], dyn=[mod.O(), mod.O()], y=1)
    with pytest.raises(SchemaError, match=r"^A\[0\]\.dyn: a component array whose elements"):
        mod.ABatch.from_samples([bad])

"""Shared helpers for the schemac-runtime tests: golden vectors live in tests/data/."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


def load_vectors(name: str) -> dict[str, Any]:
    """One golden vector file (copied as-is from the project's shared vectors)."""
    with open(DATA / f"{name}.json", encoding="utf-8") as f:
        out: dict[str, Any] = json.load(f)
    assert out["source"], "golden vectors keep their source line"
    return out


def case(vectors: dict[str, Any], name: str) -> dict[str, Any]:
    for c in vectors["cases"]:
        if c["name"] == name:
            return dict(c)
    raise KeyError(name)


def vector_array(spec: dict[str, Any]) -> np.ndarray[Any, Any]:
    """A {"dtype": "f32", "shape": [...], "data": [...]} description as a numpy array."""
    from schemac_runtime.dtypes import numpy_dtype

    return np.array(spec["data"], dtype=numpy_dtype(spec["dtype"])).reshape(spec["shape"])


@pytest.fixture
def atdata_vectors() -> dict[str, Any]:
    return load_vectors("atdata")


# ---------------------------------------------------------------------------------------
# Generated modules (tests/test_generated_*.py)
# ---------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "schemas"
EXAMPLE_STEMS = sorted(p.stem for p in EXAMPLES.glob("*.schema"))

_SCHEMAC: list[str] = []


def schemac_bin() -> str:
    """The schemac binary: ``$SCHEMAC_BIN`` if set, else built once with cargo (honouring
    ``$CARGO_TARGET_DIR``) and found through ``cargo metadata``."""
    if _SCHEMAC:
        return _SCHEMAC[0]
    env_bin = os.environ.get("SCHEMAC_BIN")
    if env_bin:
        _SCHEMAC.append(env_bin)
        return env_bin
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo not found and SCHEMAC_BIN not set: cannot generate Python modules")
    subprocess.run(
        [cargo, "build", "-q", "-p", "schemac", "--bin", "schemac"], cwd=REPO, check=True
    )
    meta = subprocess.run(
        [cargo, "metadata", "--format-version", "1", "--no-deps"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"])
    exe = target / "debug" / ("schemac.exe" if os.name == "nt" else "schemac")
    _SCHEMAC.append(str(exe))
    return str(exe)


def generate(schema: Path, out: Path) -> Path:
    """Run ``schemac gen --python`` on ``schema`` into ``out``; returns the schema's own .py
    (the first file ``gen`` reports; the modules of its imports are written beside it)."""
    out.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(
        [schemac_bin(), "gen", "--python", "--out", str(out), str(schema)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, f"schemac gen failed for {schema}:\n{res.stderr}"
    # "wrote <path> (<n> bytes)" or "unchanged <path> (<n> bytes)", the root schema first.
    first = res.stdout.splitlines()[0]
    return Path(first.split(" ", 1)[1].rsplit(" (", 1)[0])


def import_file(path: Path, name: str) -> ModuleType:
    """Import a generated module as ``<name>.<module>``, its folder made the package
    ``name`` (unique per folder: two schemas may share a module name). Generated modules
    import what they take from other schemas relatively (``from .common import Pose``), so
    they live in a package, with their imports' modules beside them."""
    if name not in sys.modules:
        pkg = ModuleType(name)
        pkg.__path__ = [str(path.parent)]
        sys.modules[name] = pkg
    return importlib.import_module(f"{name}.{path.stem}")


class Generated:
    """The example schemas compiled to Python once per session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.paths: dict[str, Path] = {}
        self.modules: dict[str, ModuleType] = {}
        for stem in EXAMPLE_STEMS:
            # relative path, as the Rust snapshot tests use, so headers match
            src = (EXAMPLES / f"{stem}.schema").relative_to(REPO)
            self.paths[stem] = generate(src, root / stem)
            self.modules[stem] = import_file(self.paths[stem], f"schemac_gen_{stem}")

    def __getitem__(self, stem: str) -> ModuleType:
        return self.modules[stem]

    def compile_text(self, name: str, text: str) -> ModuleType:
        """Compile schema source text (e.g. a golden vector's ``schema``) to a module."""
        d = self.root / "_text" / name
        d.mkdir(parents=True, exist_ok=True)
        schema = d / f"{name}.schema"
        schema.write_text(text, encoding="utf-8")
        return import_file(generate(schema, d), f"schemac_gen_text_{name}")


@pytest.fixture(scope="session")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return Generated(tmp_path_factory.mktemp("generated"))


def all_records(mod: ModuleType) -> list[type[Any]]:
    """Every generated dataclass of a module (samples and components), in module order."""
    return [
        v
        for v in vars(mod).values()
        if isinstance(v, type) and v.__module__ == mod.__name__ and hasattr(v, "_SC_FIELDS")
    ]


def all_samples(mod: ModuleType) -> list[type[Any]]:
    return [c for c in all_records(mod) if hasattr(c, "from_bytes")]

"""Shared helpers for the schemac-runtime tests: golden vectors live in tests/data/."""

from __future__ import annotations

import json
from pathlib import Path
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

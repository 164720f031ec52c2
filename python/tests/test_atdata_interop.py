"""Byte-for-byte interop with the real atdata package, when scripts/setup-venv.sh could make
.venv-atdata (atdata needs Python >= 3.12); skipped otherwise."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from schemac_runtime.dtypes import f32_to_bf16
from schemac_runtime.wire import (
    bytes_to_array,
    decode_array,
    expect_map,
    packb,
    read_array,
    unpackb,
    write_array,
    write_float,
    write_int,
)

ROOT = Path(__file__).resolve().parents[2]
ATDATA_PY = ROOT / ".venv-atdata" / "bin" / "python"

SCRIPT = r"""
import json, sys
import numpy as np
from numpy.typing import NDArray
import atdata
from atdata._helpers import bytes_to_array

@atdata.packable
class Prims:
    flag: bool
    count: int
    neg: int
    big: int
    ratio: float
    name: str
    blob: bytes

@atdata.packable
class Arrays:
    image: NDArray
    mask: NDArray | None
    labels: NDArray
    score: float

ours = json.load(sys.stdin)
out = {}
out["prims"] = Prims(flag=True, count=42, neg=-7, big=2**40, ratio=0.1, name="héllo",
                     blob=b"\x00\x01\xff").packed.hex()
out["arrays"] = Arrays(image=np.arange(24, dtype=np.float32).reshape(2, 3, 4), mask=None,
                       labels=np.array([1, -2, 3], dtype=np.int64), score=0.75).packed.hex()
# decode what we wrote
ours_arrays = Arrays.from_bytes(bytes.fromhex(ours["arrays"]))
out["decoded"] = {
    "image": ours_arrays.image.tolist(), "image_dtype": ours_arrays.image.dtype.str,
    "mask": ours_arrays.mask, "labels": ours_arrays.labels.tolist(), "score": ours_arrays.score,
}
bf = bytes_to_array(bytes.fromhex(ours["bf16"]))
out["bf16"] = {"dtype": bf.dtype.str, "bytes": bf.tobytes().hex()}
print(json.dumps(out))
"""


def _atdata_available() -> bool:
    if not ATDATA_PY.exists():
        return False
    probe = "import importlib.util as u, sys; sys.exit(0 if u.find_spec('atdata') else 1)"
    r = subprocess.run([str(ATDATA_PY), "-c", probe], capture_output=True)
    return r.returncode == 0


pytestmark = pytest.mark.skipif(
    not _atdata_available(), reason="no .venv-atdata with atdata (needs Python >= 3.12)"
)


def _ours_arrays() -> bytes:
    return packb(
        {
            "image": write_array(np.arange(24, dtype=np.float32).reshape(2, 3, 4), "f32"),
            "mask": None,
            "labels": write_array(np.array([1, -2, 3], dtype=np.int64), "i64"),
            "score": write_float(0.75),
        }
    )


def test_atdata_interop() -> None:
    bf16 = write_array(f32_to_bf16([1.0, -2.0, 0.5]), "bf16")
    ours = {"arrays": _ours_arrays().hex(), "bf16": bf16.hex()}
    r = subprocess.run(
        [str(ATDATA_PY), "-c", SCRIPT],
        input=json.dumps(ours),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    theirs = json.loads(r.stdout.strip().splitlines()[-1])

    prims = packb(
        {
            "flag": True,
            "count": write_int(42),
            "neg": write_int(-7),
            "big": write_int(2**40),
            "ratio": write_float(0.1),
            "name": "héllo",
            "blob": b"\x00\x01\xff",
        }
    )
    assert prims.hex() == theirs["prims"]
    assert ours["arrays"] == theirs["arrays"]

    m = expect_map("Arrays", unpackb(bytes.fromhex(theirs["arrays"])))
    np.testing.assert_array_equal(
        read_array("Arrays.image", m["image"], "f32", (2, 3, 4)),
        np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    )
    d = theirs["decoded"]
    assert d["image_dtype"] == "<f4" and d["mask"] is None and d["score"] == 0.75
    assert d["labels"] == [1, -2, 3]
    assert d["image"] == np.arange(24).reshape(2, 3, 4).tolist()
    # atdata reads our bf16 payload as a 2-byte void array with the same bytes
    assert theirs["bf16"]["dtype"] in ("|V2", "<V2")
    assert theirs["bf16"]["bytes"] == bytes_to_array(bf16).tobytes().hex()
    assert decode_array("x", bf16, "bf16").tolist() == f32_to_bf16([1.0, -2.0, 0.5]).tolist()

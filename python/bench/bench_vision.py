"""Plain timing of generated Python code (not a test).

1. ``vision.ImageSample`` msgpack pack + unpack round trip with the module schemac generates,
   against msgpack-numpy on the same fields, and against atdata when it can be run (in
   process, or through ``.venv-atdata`` made by ``scripts/setup-venv.sh``; it needs
   Python >= 3.12). The schemac bytes are checked to be identical to an independent
   atdata-format encoding (and to atdata's own bytes when atdata ran).
2. ``puzzle.AggState`` aggregate bit packing over a 100,000-row batch: ``pack``,
   ``unpack``, ``unpack_field("faces")`` and the compact byte form, in instances/s.

Run from the repository root::

    .venv/bin/python python/bench/bench_vision.py                 # print the results
    .venv/bin/python python/bench/bench_vision.py --append BENCHMARKS.md

The schemac binary is ``$SCHEMAC_BIN``, else built with ``cargo build -p schemac``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import msgpack
import numpy as np

REPO = Path(__file__).resolve().parents[2]
ATDATA_PY = REPO / ".venv-atdata" / "bin" / "python"


# ---------------------------------------------------------------------------------------
# Setup


def schemac_bin() -> str:
    env = os.environ.get("SCHEMAC_BIN")
    if env:
        return env
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("cargo not found; set SCHEMAC_BIN to a schemac binary")
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
    return str(Path(json.loads(meta.stdout)["target_directory"]) / "debug" / "schemac")


def generate(stem: str, out: Path) -> ModuleType:
    d = out / stem
    subprocess.run(
        [schemac_bin(), "gen", "--python", "--out", str(d), f"examples/schemas/{stem}.schema"],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (path,) = d.glob("*.py")
    name = f"bench_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def timeit(fn: Callable[[], Any], number: int, repeat: int = 7) -> float:
    """Median seconds per call over ``repeat`` runs of ``number`` calls (after a warm-up)."""
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - t0) / number)
    return statistics.median(runs)


# ---------------------------------------------------------------------------------------
# 1. ImageSample


def make_sample(vision: ModuleType) -> Any:
    rng = np.random.default_rng(0)
    s = vision.ImageSample.random(rng)
    s.image = rng.random((224, 224, 3), dtype=np.float32)
    s.mask = rng.integers(0, 20, size=(224, 224), dtype=np.uint8)
    s.depth = rng.random((224, 224), dtype=np.float32)
    s.label = "golden retriever"
    s.confidence = 0.875
    s.tags = ["dog", "outdoor", "daylight"]
    s.split = vision.Split.val
    return s


def atdata_reference(s: Any) -> bytes:
    """atdata's ``PackableSample.packed`` format, written independently of schemac."""

    def arr(a: np.ndarray[Any, Any]) -> bytes:
        ts = a.dtype.str.encode()
        head = bytes([len(ts)]) + ts + bytes([a.ndim])
        head += b"".join(int(d).to_bytes(8, "little", signed=True) for d in a.shape)
        return head + a.tobytes()

    return msgpack.packb(
        {
            "image": arr(s.image),
            "label": s.label,
            "confidence": float(s.confidence),
            "mask": None if s.mask is None else arr(s.mask),
            "depth": None if s.depth is None else arr(s.depth),
            "tags": list(s.tags),
            "split": s.split.value,
        },
        use_bin_type=True,
    )


ATDATA_SCRIPT = r"""
import json, sys, time, statistics
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
s = ImageSample(image=d["image"], label=meta["label"], confidence=meta["confidence"],
                mask=d["mask"], depth=d["depth"], tags=meta["tags"], split=meta["split"])
number = int(sys.argv[3])
def rt():
    ImageSample.from_bytes(s.packed)
rt()
runs = []
for _ in range(7):
    t0 = time.perf_counter()
    for _ in range(number):
        rt()
    runs.append((time.perf_counter() - t0) / number)
print(json.dumps({"packed": s.packed.hex(), "seconds": statistics.median(runs),
                  "python": sys.version.split()[0], "numpy": np.__version__}))
"""


def run_atdata(s: Any, number: int, tmp: Path) -> dict[str, Any] | str:
    """atdata's round trip time and bytes, or why it was skipped."""
    if importlib.util.find_spec("atdata") is not None:
        py = sys.executable
    elif ATDATA_PY.exists():
        py = str(ATDATA_PY)
    else:
        return "atdata not importable (needs Python >= 3.12; no .venv-atdata)"
    npz = tmp / "sample.npz"
    np.savez(npz, image=s.image, mask=s.mask, depth=s.depth)
    meta = {"label": s.label, "confidence": s.confidence, "tags": s.tags, "split": s.split.value}
    r = subprocess.run(
        [py, "-c", ATDATA_SCRIPT, str(npz), json.dumps(meta), str(number)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        return f"atdata failed to run: {r.stderr.strip().splitlines()[-1:]}"
    out: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def bench_vision(vision: ModuleType, number: int, tmp: Path) -> tuple[list[list[str]], list[str]]:
    import msgpack_numpy

    s = make_sample(vision)
    cls = vision.ImageSample
    data = s.packed
    notes = []

    # identical bytes
    ref = atdata_reference(s)
    assert data == ref, "schemac bytes differ from the atdata-format reference encoding"
    notes.append(f"schemac bytes == independent atdata-format encoding ({len(data):,} bytes)")
    back = cls.from_bytes(data)
    assert back == s and back.packed == data

    def schemac_rt() -> None:
        cls.from_bytes(s.packed)

    fields = {
        "image": s.image,
        "label": s.label,
        "confidence": s.confidence,
        "mask": s.mask,
        "depth": s.depth,
        "tags": s.tags,
        "split": s.split.value,
    }
    mnp = msgpack.packb(fields, default=msgpack_numpy.encode, use_bin_type=True)
    mnp_back = msgpack.unpackb(mnp, object_hook=msgpack_numpy.decode, raw=False)
    assert np.array_equal(mnp_back["depth"], s.depth)

    def mnp_rt() -> None:
        msgpack.unpackb(
            msgpack.packb(fields, default=msgpack_numpy.encode, use_bin_type=True),
            object_hook=msgpack_numpy.decode,
            raw=False,
        )

    def schemac_pack() -> None:
        _ = s.packed

    def schemac_unpack() -> None:
        cls.from_bytes(data)

    rows = []
    mb = len(data) / 1e6
    t_sc = timeit(schemac_rt, number)
    t_pack = timeit(schemac_pack, number)
    t_unpack = timeit(schemac_unpack, number)
    t_mnp = timeit(mnp_rt, number)
    rows.append(
        ["schemac (generated)", f"{len(data):,}", f"{t_sc * 1e6:,.0f}", f"{2 * mb / t_sc:,.0f}"]
    )
    rows.append(["schemac, pack only", "", f"{t_pack * 1e6:,.0f}", f"{mb / t_pack:,.0f}"])
    rows.append(
        [
            "schemac, unpack only (arrays: numpy views, no extra copy)",
            "",
            f"{t_unpack * 1e6:,.0f}",
            f"{mb / t_unpack:,.0f}",
        ]
    )
    rows.append(["msgpack-numpy", f"{len(mnp):,}", f"{t_mnp * 1e6:,.0f}", f"{2 * mb / t_mnp:,.0f}"])
    at = run_atdata(s, number, tmp)
    if isinstance(at, str):
        notes.append(f"atdata skipped: {at}")
        print(f"atdata: skipped ({at})")
    else:
        same = bytes.fromhex(at["packed"]) == data
        assert same, "atdata bytes differ from schemac bytes"
        notes.append(
            f"schemac bytes == atdata's bytes (atdata ran in Python {at['python']}, "
            f"numpy {at['numpy']}, in another process)"
        )
        t_at = at["seconds"]
        rows.append(
            ["atdata @packable", f"{len(data):,}", f"{t_at * 1e6:,.0f}", f"{2 * mb / t_at:,.0f}"]
        )
    return rows, notes


# ---------------------------------------------------------------------------------------
# 2. AggState


def bench_aggstate(puzzle: ModuleType, n: int) -> list[list[str]]:
    from schemac_runtime.batch import Column

    rng = np.random.default_rng(1)
    cols = {
        "flags": rng.integers(0, 2, size=(n, 17)).astype(np.bool_),
        "faces": rng.integers(0, 8, size=(n, 6, 54), dtype=np.uint8),
        "codes": rng.integers(0, 4096, size=(n, 5), dtype=np.uint16),
    }
    batch = puzzle.AggStateBatch({k: Column(v) for k, v in cols.items()}, n)
    packed_cls = puzzle.AggStatePacked
    words = packed_cls.pack(batch)
    back = packed_cls.unpack(words)
    for k, v in cols.items():
        assert np.array_equal(back.columns[k].values, v), k
    compact = packed_cls(words).to_bytes()
    assert np.array_equal(packed_cls.from_bytes(compact).words, words)

    rows = []
    for what, fn in [
        ("pack (batch -> words)", lambda: packed_cls.pack(batch)),
        ("unpack (words -> batch)", lambda: packed_cls.unpack(words)),
        ('unpack_field("faces")', lambda: packed_cls.unpack_field(words, "faces")),
        ("to_bytes (compact form)", lambda: packed_cls(words).to_bytes()),
        ("from_bytes (compact form)", lambda: packed_cls.from_bytes(compact)),
    ]:
        t = timeit(fn, 1, repeat=5)
        rows.append([what, f"{t * 1e3:,.1f}", f"{n / t:,.0f}"])
    return rows


# ---------------------------------------------------------------------------------------


def table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--iters", type=int, default=50, help="ImageSample round trips per timing run")
    ap.add_argument("--rows", type=int, default=100_000, help="AggState batch size")
    ap.add_argument("--append", type=Path, help="append a markdown section to this file")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        vision = generate("vision", tmp)
        puzzle = generate("puzzle", tmp)
        vrows, notes = bench_vision(vision, args.iters, tmp)
        arows = bench_aggstate(puzzle, args.rows)

    env = (
        f"{cpu_name()}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
        f"numpy {np.__version__}, msgpack {'.'.join(map(str, msgpack.version))}"
    )
    cmd = (
        "python/bench/bench_vision.py"
        + (f" --iters {args.iters}" if args.iters != 50 else "")
        + (f" --rows {args.rows}" if args.rows != 100_000 else "")
    )
    md = "\n".join(
        [
            "## Python: generated ImageSample msgpack and AggState bit packing",
            "",
            f"Command (repository root): `.venv/bin/python {cmd} --append BENCHMARKS.md`",
            f"(median of 7 runs of {args.iters} round trips; AggState: median of 5 runs).",
            f"Machine: {env}.",
            "",
            "`vision.ImageSample` with image f32[224, 224, 3], mask u8[224, 224], depth "
            "f32[224, 224], a label, 3 tags: msgpack `packed` then `from_bytes`.",
            "",
            table(["codec", "bytes", "µs per round trip", "MB/s (in + out)"], vrows),
            "",
            *[f"- {n}" for n in notes],
            "",
            f"`puzzle.AggState` (1049 bits: 17 flags, 6x54 faces at 3 bits, 5 codes at 12 bits; "
            f"33 words) over a {args.rows:,}-row batch, vectorised numpy:",
            "",
            table(["operation", "ms per batch", "instances/s"], arows),
            "",
        ]
    )
    print(md)
    if args.append:
        with open(args.append, "a", encoding="utf-8") as f:
            f.write("\n" + md)
        print(f"appended to {args.append}")


if __name__ == "__main__":
    main()

"""The conformance corpus (``conformance/cases/*.json``) run through the generated Python.

Each case names a schema in ``conformance/schemas``, a sample, a format and an input, and
the expected outcome: the canonical msgpack re-encoding and JSON value, or an error kind
(``SchemacError.kind``) and field path. The generated modules are built with the schemac
binary once per session. Cases listed in ``conformance/known_failures_python.txt`` are
strict xfails: they must fail, so the list can only shrink (a case that starts passing
fails the run until its line is deleted). ``CONFORMANCE_WRITE_KNOWN=1`` rewrites the list
from the current failures; review that diff.

The verdict helpers here are shared with ``test_differential.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO, generate, import_file

CONFORMANCE = REPO / "conformance"
SCHEMAS = sorted(p.stem for p in (CONFORMANCE / "schemas").glob("*.schema"))
KNOWN_FILE = CONFORMANCE / "known_failures_python.txt"

# A verdict is {"ok": {"msgpack": hex, "json": value}}, {"error": {"kind", "path", ...}}
# or {"panic": message} (an exception that is not the runtime's own typed error).
Verdict = dict[str, Any]


def load_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for f in sorted((CONFORMANCE / "cases").glob("*.json")):
        cases.extend(json.loads(f.read_text(encoding="utf-8"))["cases"])
    return cases


def case_input(case: dict[str, Any]) -> bytes:
    if "input_hex" in case:
        return bytes.fromhex(case["input_hex"])
    text: str = case["input_text"]
    return text.encode("utf-8", "surrogatepass")


def load_known() -> dict[str, str]:
    """``case id`` -> why, from ``known_failures_python.txt`` (``<id> python <why>``)."""
    out: dict[str, str] = {}
    if KNOWN_FILE.exists():
        for line in KNOWN_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                parts = line.split(" ", 2)
                out[parts[0]] = parts[2] if len(parts) > 2 else ""
    return out


class Modules:
    """The conformance schemas compiled to Python, imported under unique names."""

    def __init__(self, root: Path) -> None:
        self.mods: dict[str, ModuleType] = {}
        for stem in SCHEMAS:
            src = (CONFORMANCE / "schemas" / f"{stem}.schema").relative_to(REPO)
            path = generate(src, root / stem)
            self.mods[stem] = import_file(path, f"schemac_conformance_{stem}")

    def sample(self, schema: str, sample: str) -> Any:
        return getattr(self.mods[schema], sample)


def _error(e: BaseException) -> Verdict:
    from schemac_runtime.errors import SchemacError

    if isinstance(e, SchemacError):
        kind = getattr(e, "kind", None) or f"untyped:{type(e).__name__}"
        return {"error": {"kind": kind, "path": e.path, "message": str(e)}}
    return {"panic": f"{type(e).__name__}: {e}"}


def _archive_error(e: BaseException) -> Verdict:
    """An error about a shard or batch file: archive kinds have the path ``""`` (the
    runtimes name the file or a tensor, which says nothing about the data)."""
    v = _error(e)
    if "error" in v and v["error"]["kind"] in ARCHIVE_KINDS:
        v["error"]["path"] = ""
    return v


ARCHIVE_KINDS = ("corrupt_archive", "bad_key", "fingerprint_mismatch")


def shard_verdict(cls: Any, data: bytes) -> Verdict:
    """Tar bytes through ``schemac_runtime.wds`` and the sample's ``from_bytes``; the first
    error ends the read, a member that does not decode keeps its own kind and path."""
    import io

    from schemac_runtime.wds import iter_shard

    out = []
    try:
        for key, member in iter_shard(io.BytesIO(data)):
            try:
                value = cls.from_bytes(member)
            except Exception as e:
                return _error(e)
            out.append([key, bytes(value.packed).hex()])
    except Exception as e:
        return _archive_error(e)
    return {"ok": {"samples": out}}


def safetensors_verdict(batch_cls: Any, data: bytes) -> Verdict:
    """Batch file bytes through ``<Name>Batch.load`` (it reads paths); every error's path is
    ``""`` in a case (conformance/README.md)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "batch.safetensors"
        p.write_bytes(data)
        try:
            rows = [bytes(v.packed).hex() for v in batch_cls.load(p, use_mmap=False)]
        except Exception as e:
            v = _error(e)
            if "error" in v:
                v["error"]["path"] = ""
            return v
    return {"ok": {"rows": rows}}


def python_verdict(mods: Modules, schema: str, sample: str, fmt: str, data: bytes) -> Verdict:
    """What the generated Python makes of ``data``."""
    cls = mods.sample(schema, sample)
    if fmt == "shard":
        return shard_verdict(cls, data)
    if fmt == "safetensors":
        return safetensors_verdict(getattr(mods.mods[schema], f"{sample}Batch"), data)
    try:
        if fmt in ("msgpack", "msgpack-numpy"):
            value = cls.from_bytes(data)
        elif fmt == "json":
            value = cls.from_json(data)
        elif fmt == "packed":
            packed_cls = getattr(mods.mods[schema], f"{sample}Packed")
            rows = packed_cls.from_bytes(data)
            if len(rows) != 1:
                # one sample is exactly one compact row (the README's bad_padding rule)
                return {
                    "error": {"kind": "bad_padding", "path": sample, "message": f"{len(rows)} rows"}
                }
            value = rows.to_batch()[0]
            value.validate()
        else:
            raise AssertionError(f"unknown format {fmt}")
    except Exception as e:
        return _error(e)
    try:
        text = value.to_json()
        js = json.loads(text)
        return {"ok": {"msgpack": bytes(value.packed).hex(), "json": js}}
    except Exception as e:
        return {"panic": f"accepted, but cannot write it back: {type(e).__name__}: {e}"}


def same_json(a: Any, b: Any) -> bool:
    """JSON equality that keeps bool, int and float apart (``1``, ``1.0``, ``true``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def same_verdict(a: Verdict, b: Verdict) -> bool:
    if "ok" in a and "ok" in b and ("samples" in a["ok"] or "rows" in a["ok"]):
        return bool(a["ok"] == b["ok"])
    if "ok" in a and "ok" in b:
        return bool(a["ok"]["msgpack"] == b["ok"]["msgpack"]) and same_json(
            a["ok"]["json"], b["ok"]["json"]
        )
    if "error" in a and "error" in b:
        return bool(
            a["error"]["kind"] == b["error"]["kind"] and a["error"]["path"] == b["error"]["path"]
        )
    return False


def brief(v: Verdict | None) -> str:
    if v is None:
        return "none"
    if "ok" in v:
        return "accepted"
    if "error" in v:
        return f"{v['error']['kind']} at {v['error']['path']}"
    return "panic: " + str(v.get("panic", v)).splitlines()[0][:120]


@pytest.fixture(scope="session")
def conformance_modules(tmp_path_factory: pytest.TempPathFactory) -> Modules:
    return Modules(tmp_path_factory.mktemp("conformance"))


CASES = load_cases()
KNOWN = load_known()
_FAILURES: dict[str, str] = {}


def _params() -> list[Any]:
    out = []
    for c in CASES:
        marks = []
        if c["id"] in KNOWN:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[c["id"]]))
        out.append(pytest.param(c, id=c["id"], marks=marks))
    return out


def test_corpus_is_generated() -> None:
    """The checked-in corpus is exactly what conformance/generate.py builds."""
    spec = importlib.util.spec_from_file_location(
        "conformance_generate", CONFORMANCE / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    files = gen.build()
    on_disk = {
        p.name: p.read_text(encoding="utf-8") for p in (CONFORMANCE / "cases").glob("*.json")
    }
    assert sorted(files) == sorted(on_disk)
    for name, text in files.items():
        assert on_disk[name] == text, f"{name} differs: run conformance/generate.py"
    assert len(CASES) >= 300


def test_known_failures_name_real_cases() -> None:
    ids = {c["id"] for c in CASES}
    assert not set(KNOWN) - ids, f"known_failures_python.txt names no such case: {set(KNOWN) - ids}"


@pytest.mark.parametrize("case", _params())
def test_case(case: dict[str, Any], conformance_modules: Modules) -> None:
    got = python_verdict(
        conformance_modules, case["schema"], case["sample"], case["format"], case_input(case)
    )
    if not same_verdict(got, case["expect"]):
        why = f"expected {brief(case['expect'])}, got {brief(got)}"
        _FAILURES[case["id"]] = why
        pytest.fail(f"{why}\nexpected {case['expect']}\ngot      {got}")


def write_known() -> None:
    """Rewrite the known-failures list (``CONFORMANCE_WRITE_KNOWN=1``); see the module docs."""
    lines = [
        "# Conformance cases the generated Python fails today: `<case id> python <why>`.",
        "# The runner fails if a listed case passes, so delete lines as fixes land.",
    ]
    lines += [f"{cid} python {why}" for cid, why in sorted(_FAILURES.items())]
    KNOWN_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module", autouse=True)
def _write_known_at_end() -> Any:
    yield
    if os.environ.get("CONFORMANCE_WRITE_KNOWN"):
        write_known()

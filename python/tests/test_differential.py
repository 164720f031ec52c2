"""Differential test: the dynamic codec, the generated Rust and the generated Python must
give the same verdict on the same bytes.

Seeds are valid encodings: the accepted inputs of the conformance corpus and random
instances (``random(seed)``) of every conformance and example sample, as msgpack, JSON and
(for aggregate samples) packed bytes. A seeded mutator derives at least ``MIN_INPUTS``
inputs from them (truncation, bit flips, splices, duplicated map keys, rewritten array
headers, typestrs, shapes and length prefixes, swapped-in extreme numbers, JSON text
edits). Every input goes to the Rust ``conformance-testee`` (one subprocess, all requests
batched over stdin) and to the generated Python; all three must agree on accept/reject,
on the error kind, and on the canonical msgpack re-encoding when they accept. A panic or a
non-typed exception is always a failure.

Disagreements are grouped by (format, verdict signature). A group listed in
``conformance/known_disagreements.txt`` is tolerated (and must still occur, so the list can
only shrink); any other group fails the test with an example input, which belongs in
``conformance/generate.py`` as a corpus case. ``CONFORMANCE_WRITE_KNOWN=1`` rewrites the
list from the current groups (review the diff). ``SCHEMAC_DIFF_REPORT=path`` writes every
group with its first inputs as JSON.

The testee is ``$SCHEMAC_CONFORMANCE_TESTEE`` (scripts/test.sh builds it) or
``target/debug/conformance-testee``; without it the test skips, except under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import random
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import pytest
from conftest import REPO, Generated
from test_conformance import (
    CASES,
    Modules,
    brief,
    case_input,
    python_verdict,
)

# SCHEMAC_DIFF_SEED explores other mutations (CI keeps the fixed seed).
SEED = int(os.environ.get("SCHEMAC_DIFF_SEED", "20261202"))
MIN_INPUTS = 20_000
MAX_SEED_BYTES = 4096
RANDOM_PER_SAMPLE = 6
EXAMPLE_STEMS = ("everything", "puzzle", "robot")
KNOWN_FILE = REPO / "conformance" / "known_disagreements.txt"

Seed = tuple[str, str, str, bytes]  # schema, sample, format, input


def find_testee() -> Path:
    env = os.environ.get("SCHEMAC_CONFORMANCE_TESTEE")
    path = Path(env) if env else REPO / "target" / "debug" / "conformance-testee"
    if not path.exists():
        msg = (
            f"conformance-testee not found at {path}: build it with "
            "`cargo build -p conformance --bin conformance-testee` "
            "(scripts/test.sh does) or set SCHEMAC_CONFORMANCE_TESTEE"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


# ---------------------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------------------


class Samples:
    """Every sample class the test can seed from: schema stem -> module."""

    def __init__(self, conf: Modules, gen: Generated) -> None:
        self.mods = dict(conf.mods)
        for stem in EXAMPLE_STEMS:
            self.mods[stem] = gen[stem]

    def verdict(self, schema: str, sample: str, fmt: str, data: bytes) -> dict[str, Any]:
        m = Modules.__new__(Modules)
        m.mods = self.mods
        return python_verdict(m, schema, sample, fmt, data)


def sample_classes(mod: Any) -> list[type[Any]]:
    return [
        v
        for v in vars(mod).values()
        if isinstance(v, type)
        and v.__module__ == mod.__name__
        and hasattr(v, "from_bytes")
        and hasattr(v, "_SC_FIELDS")
    ]


def random_seeds(samples: Samples) -> list[Seed]:
    out: list[Seed] = []
    for schema, mod in sorted(samples.mods.items()):
        for cls in sample_classes(mod):
            name = cls.__name__
            packed_cls = getattr(mod, f"{name}Packed", None)
            for i in range(RANDOM_PER_SAMPLE):
                s = cls.random(SEED + i)
                mp = bytes(s.packed)
                if len(mp) <= MAX_SEED_BYTES:
                    out.append((schema, name, "msgpack", mp))
                    out.append((schema, name, "json", s.to_json().encode()))
                if packed_cls is not None and hasattr(packed_cls, "TOTAL_BITS"):
                    batch = packed_cls.BATCH.from_samples([s])
                    out.append((schema, name, "packed", packed_cls.from_batch(batch).row_bytes(0)))
    return out


ARCHIVE_FORMATS = ("shard", "safetensors")


def corpus_seeds() -> list[Seed]:
    # Archive cases (shard, safetensors) are not one sample's bytes; the fuzz targets and
    # the hostile-shard fixtures cover their readers.
    return [
        (c["schema"], c["sample"], c["format"], case_input(c))
        for c in CASES
        if "ok" in c["expect"] and c["format"] not in ARCHIVE_FORMATS
    ]


# ---------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------

TYPESTRS = [
    b"|b1",
    b"|i1",
    b"|u1",
    b"<i2",
    b"<u2",
    b"<i4",
    b"<u4",
    b"<i8",
    b"<u8",
    b"<f2",
    b"<f4",
    b"<f8",
    b"<V2",
    b">f4",
    b"=f4",
    b"f4",
    b"<f16",
    b"",
]
DIMS = [0, 1, 2, 3, 7, 2**31, 2**32, 2**62, 2**63 - 1, -1, -(2**63)]
NUMBERS = [
    b"0",
    b"-1",
    b"3.5",
    b"3.0",
    b"1e3",
    b"256",
    b"65520",
    b"1e10",
    b"1e39",
    b"1e999",
    b"-1e999",
    b"18446744073709551616",
    b"-9223372036854775809",
    b'"NaN"',
    b"NaN",
    b'"inf"',
    b"null",
    b"true",
    b'"x"',
    b"[]",
    b"{}",
]
INTS_MP = [
    b"\xcc\xff",
    b"\xcd\x01\x00",
    b"\xd0\x80",
    b"\xcf" + b"\xff" * 8,
    b"\xd3\x80" + b"\x00" * 7,
    b"\xcb\x7f\xf0" + b"\x00" * 6,
    b"\xcb\x7f\xf8" + b"\x00" * 6,
    b"\xca\x7f\x7f\xff\xff",
    b"\xcb\x42\x02\xa0\x5f\x20\x00\x00\x00",
    b"\xc0",
    b"\xc3",
    b"\xa1x",
    b"\x90",
    b"\x80",
    b"\xc4\x00",
    b"\xc1",
    b"\x7f",
    b"\xff",
]


def top_entries(data: bytes) -> tuple[int, list[tuple[int, int]]] | None:
    """The byte spans of a top-level msgpack map's entries (header length, spans)."""
    try:
        u = msgpack.Unpacker(raw=True, strict_map_key=False)
        u.feed(data)
        n = u.read_map_header()
        start = u.tell()
        spans = []
        for _ in range(n):
            a = u.tell()
            u.skip()
            u.skip()
            spans.append((a, u.tell()))
        return start, spans
    except Exception:
        return None


def map_header(n: int) -> bytes:
    return bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n)


def m_truncate(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    return d[: r.randrange(len(d))] if d else d


def m_flip(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    if not d:
        return b"\x00"
    b = bytearray(d)
    for _i in range(r.choice((1, 1, 2, 3))):
        p = r.randrange(len(b) * 8)
        b[p >> 3] ^= 1 << (p & 7)
    return bytes(b)


def m_byte(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    if not d:
        return bytes([r.randrange(256)])
    b = bytearray(d)
    b[r.randrange(len(b))] = r.choice((0x00, 0xFF, 0xC1, 0x7F, 0x80, 0x90, 0xC0, r.randrange(256)))
    return bytes(b)


def m_splice(r: random.Random, d: bytes, others: list[bytes]) -> bytes:
    o = r.choice(others) if others else d
    return d[: r.randrange(len(d) + 1)] + o[r.randrange(len(o) + 1) :]


def m_insert_delete(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    p = r.randrange(len(d) + 1)
    if r.random() < 0.5 and d:
        return d[:p] + d[p + r.randrange(1, 4) :]
    return d[:p] + bytes(r.randrange(256) for _ in range(r.randrange(1, 4))) + d[p:]


def m_dup_key(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    t = top_entries(d)
    if t is None or not t[1]:
        return m_flip(r, d, _)
    _start, spans = t
    a, b = r.choice(spans)
    entries = [d[x:y] for x, y in spans]
    entries.insert(r.randrange(len(entries) + 1), d[a:b])
    return map_header(len(entries)) + b"".join(entries) + d[spans[-1][1] :]


def m_drop_key(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    t = top_entries(d)
    if t is None or not t[1]:
        return m_truncate(r, d, _)
    _start, spans = t
    i = r.randrange(len(spans))
    entries = [d[x:y] for k, (x, y) in enumerate(spans) if k != i]
    return map_header(len(entries)) + b"".join(entries) + d[spans[-1][1] :]


def _payload_sites(d: bytes) -> list[int]:
    """Offsets of atdata array headers (`u8 len, typestr, u8 ndim`) in `d`."""
    sites = []
    for t in TYPESTRS[:13]:
        i = d.find(bytes([len(t)]) + t)
        while i >= 0:
            sites.append(i)
            i = d.find(bytes([len(t)]) + t, i + 1)
    return sites


def m_array_header(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    sites = _payload_sites(d)
    if not sites:
        return m_byte(r, d, _)
    i = r.choice(sites)
    tl = d[i]
    ndim_at = i + 1 + tl
    if ndim_at >= len(d):
        return m_truncate(r, d, _)
    what = r.randrange(4)
    if what == 0:
        t = r.choice(TYPESTRS)
        return d[:i] + bytes([len(t)]) + t + d[ndim_at:]
    if what == 1:
        return d[:ndim_at] + bytes([r.choice((0, 1, 2, 3, 9, 255))]) + d[ndim_at + 1 :]
    ndim = d[ndim_at]
    if ndim == 0:
        return d[:ndim_at] + b"\x01" + struct.pack("<q", r.choice(DIMS)) + d[ndim_at + 1 :]
    k = ndim_at + 1 + 8 * r.randrange(ndim)
    return d[:k] + struct.pack("<q", r.choice(DIMS)) + d[k + 8 :]


def m_length(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    """Rewrite the length prefix of a bin/str/array/map header."""
    sites = [i for i, x in enumerate(d) if x in (0xC4, 0xC5, 0xD9, 0xDA, 0xDC, 0xDE, 0xDD, 0xDF)]
    if not sites:
        return m_byte(r, d, _)
    i = r.choice(sites)
    width = {0xC4: 1, 0xD9: 1, 0xC5: 2, 0xDA: 2, 0xDC: 2, 0xDE: 2, 0xDD: 4, 0xDF: 4}[d[i]]
    n = r.choice((0, 1, r.randrange(1 << (8 * width)), (1 << (8 * width)) - 1))
    return d[: i + 1] + n.to_bytes(width, "big") + d[i + 1 + width :]


def m_number(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    """Swap a small msgpack int/float for an extreme value."""
    sites = [i for i, x in enumerate(d) if x <= 0x7F or 0xCA <= x <= 0xD3 or x >= 0xE0]
    if not sites:
        return m_byte(r, d, _)
    i = r.choice(sites)
    x = d[i]
    width = {
        0xCA: 4,
        0xCB: 8,
        0xCC: 1,
        0xCD: 2,
        0xCE: 4,
        0xCF: 8,
        0xD0: 1,
        0xD1: 2,
        0xD2: 4,
        0xD3: 8,
    }.get(x, 0)
    return d[:i] + r.choice(INTS_MP) + d[i + 1 + width :]


def m_json(r: random.Random, d: bytes, _: list[bytes]) -> bytes:
    """Edit JSON text: numbers, duplicate keys, dtype names, base64, BOM."""
    s = d
    what = r.randrange(6)
    if what == 0:  # swap a number token
        spans = []
        i = 0
        while i < len(s):
            if chr(s[i]) in "-0123456789" and (i == 0 or chr(s[i - 1]) in ":,["):
                j = i + 1
                while j < len(s) and chr(s[j]) in "0123456789.eE+-":
                    j += 1
                spans.append((i, j))
                i = j
            else:
                i += 1
        if spans:
            a, b = r.choice(spans)
            return s[:a] + r.choice(NUMBERS) + s[b:]
    if what == 1:  # duplicate the first key of some object
        idx = [i for i, c in enumerate(s) if c == ord("{") and s[i + 1 : i + 2] == b'"']
        if idx:
            i = r.choice(idx)
            end = s.find(b",", i)
            close = s.find(b"}", i)
            stop = min(x for x in (end, close) if x >= 0) if max(end, close) >= 0 else -1
            if stop > i:
                return s[: i + 1] + s[i + 1 : stop] + b"," + s[i + 1 :]
    if what == 2:
        names = (b"float32", b"f4", b">f4", b"<f4", b"uint8", b"bfloat16", b"int64", b"x")
        i = s.find(b'"dtype":"')
        if i >= 0:
            j = s.find(b'"', i + 9)
            return s[: i + 9] + r.choice(names) + s[j:]
    if what == 3:
        i = s.find(b'"data_b64":"')
        if i >= 0:
            j = s.find(b'"', i + 12)
            b64 = s[i + 12 : j]
            alt = r.choice((b64.rstrip(b"="), b64 + b"=", b64.replace(b"+", b"-"), b"*" + b64, b""))
            return s[: i + 12] + alt + s[j:]
    if what == 4:
        return b"\xef\xbb\xbf" + s
    return m_insert_delete(r, d, _)


BYTE_MUTATORS: list[Callable[[random.Random, bytes, list[bytes]], bytes]] = [
    m_truncate,
    m_flip,
    m_byte,
    m_splice,
    m_insert_delete,
    m_dup_key,
    m_drop_key,
    m_array_header,
    m_array_header,
    m_length,
    m_number,
    m_number,
]
JSON_MUTATORS: list[Callable[[random.Random, bytes, list[bytes]], bytes]] = [
    m_truncate,
    m_flip,
    m_splice,
    m_insert_delete,
    m_json,
    m_json,
    m_json,
    m_json,
]
PACKED_MUTATORS: list[Callable[[random.Random, bytes, list[bytes]], bytes]] = [
    m_truncate,
    m_flip,
    m_flip,
    m_byte,
    m_insert_delete,
]


def corpus_inputs() -> dict[Seed, str]:
    """Every corpus input (error cases too) -> its case id."""
    return {
        (c["schema"], c["sample"], c["format"], case_input(c)): c["id"]
        for c in CASES
        if c["format"] not in ARCHIVE_FORMATS
    }


def mutate_all(seeds: list[Seed]) -> list[Seed]:
    r = random.Random(SEED)
    groups: dict[tuple[str, str, str], list[bytes]] = {}
    for schema, sample, fmt, data in seeds:
        groups.setdefault((schema, sample, fmt), []).append(data)
    out: list[Seed] = list(dict.fromkeys(seeds))
    seen = {s for s in out}
    keys = sorted(groups)
    attempts = 0
    while len(out) < MIN_INPUTS and attempts < 20 * MIN_INPUTS:
        attempts += 1
        key = keys[attempts % len(keys)]
        others = groups[key]
        data = r.choice(others)
        fmt = key[2]
        muts = (
            JSON_MUTATORS
            if fmt == "json"
            else PACKED_MUTATORS
            if fmt == "packed"
            else BYTE_MUTATORS
        )
        for _ in range(r.choice((1, 1, 1, 2))):
            data = r.choice(muts)(r, data, others)
        item = (*key, data)
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# ---------------------------------------------------------------------------------------
# Verdicts and agreement
# ---------------------------------------------------------------------------------------


def label(v: dict[str, Any] | None) -> str:
    if v is None:
        return "none"
    if "ok" in v:
        return "ok"
    if "error" in v:
        return str(v["error"]["kind"])
    return "panic"


def signature(codec: Any, rust: Any, py: Any) -> str | None:
    """None when the three agree, else a short description of how they differ."""
    labels = [label(codec), label(rust), label(py)]
    sig = "|".join(labels)
    if "panic" in labels or "none" in labels:
        return sig
    if len(set(labels)) > 1:
        return sig
    if labels[0] == "ok":
        bytes_ = [v["ok"]["msgpack"] for v in (codec, rust, py)]
        if len(set(bytes_)) > 1:
            groups = {b: "ABC"[i] for i, b in reversed(list(enumerate(bytes_)))}
            return sig + " bytes " + "".join(groups[b] for b in bytes_)
    return None


def load_known() -> dict[str, str]:
    """``<format> <signature>`` -> why (lines ``<format> <signature> # <why>``)."""
    out: dict[str, str] = {}
    if KNOWN_FILE.exists():
        for line in KNOWN_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, why = line.partition(" # ")
                out[key.strip()] = why.strip()
    return out


def run_testee(path: Path, inputs: list[Seed]) -> list[dict[str, Any]]:
    req = "".join(
        json.dumps({"schema": s, "sample": n, "format": f, "input": d.hex()}) + "\n"
        for s, n, f, d in inputs
    )
    res = subprocess.run(
        [str(path)], input=req.encode(), capture_output=True, timeout=300, check=False
    )
    assert res.returncode == 0, f"testee exited {res.returncode}: {res.stderr.decode()[-2000:]}"
    lines = res.stdout.decode().splitlines()
    assert len(lines) == len(inputs), f"{len(lines)} answers for {len(inputs)} requests"
    return [json.loads(x) for x in lines]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory, gen: Generated) -> Samples:
    return Samples(Modules(tmp_path_factory.mktemp("differential")), gen)


def test_differential(samples: Samples) -> None:
    exe = find_testee()
    t0 = time.monotonic()
    seeds = corpus_seeds() + random_seeds(samples)
    corpus = corpus_inputs()
    mutated = mutate_all(seeds)
    inputs = list(dict.fromkeys([*corpus, *mutated]))
    assert len(mutated) >= MIN_INPUTS
    t1 = time.monotonic()
    answers = run_testee(exe, inputs)
    t2 = time.monotonic()
    groups: dict[str, list[dict[str, Any]]] = {}
    # disagreement group -> the corpus cases in it (a group without one needs a new case)
    covered: dict[str, list[str]] = {}
    for (schema, sample, fmt, data), ans in zip(inputs, answers, strict=True):
        py = samples.verdict(schema, sample, fmt, data)
        sig = signature(ans["codec"], ans["rust"], py)
        if sig is None:
            continue
        key = f"{fmt} {sig}"
        g = groups.setdefault(key, [])
        cid = corpus.get((schema, sample, fmt, data))
        if cid:
            covered.setdefault(key, []).append(cid)
        if len(g) < 3:
            g.append(
                {
                    "sample": f"{schema}/{sample}",
                    "input_hex": data.hex(),
                    "codec": ans["codec"],
                    "rust": ans["rust"],
                    "python": py,
                }
            )
        else:
            g.append({})
    t3 = time.monotonic()
    print(
        f"differential: {len(seeds)} seeds, {len(mutated)} mutated + {len(corpus)} corpus "
        f"inputs; mutate {t1 - t0:.1f}s, "
        f"Rust testee {t2 - t1:.1f}s, Python {t3 - t2:.1f}s; "
        f"{sum(len(g) for g in groups.values())} disagreements in {len(groups)} groups"
    )
    report = os.environ.get("SCHEMAC_DIFF_REPORT")
    if report:
        Path(report).write_text(
            json.dumps(
                {
                    k: {
                        "count": len(v),
                        "corpus_cases": covered.get(k, []),
                        "examples": [e for e in v if e],
                    }
                    for k, v in sorted(groups.items())
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    if os.environ.get("CONFORMANCE_WRITE_KNOWN"):
        lines = [
            "# Differential-test disagreement groups still open: `<format> <codec>|<rust>|<python>"
            " # <why>`.",
            "# Tolerated by python/tests/test_differential.py; a listed group that no longer"
            " occurs fails it.",
        ]
        for k in sorted(groups):
            cases = covered.get(k)
            ex = next(e for e in groups[k] if e)
            why = (
                f"corpus: {', '.join(sorted(set(cases))[:3])}"
                if cases
                else (f"e.g. {ex['sample']} {ex['input_hex'][:60]}")
            )
            lines.append(f"{k} # {len(groups[k])}x; {why}")
        KNOWN_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    known = load_known()
    new = sorted(k for k in groups if k not in known)
    gone = sorted(k for k in known if k not in groups)
    msg = []
    for k in new[:40]:
        ex = groups[k][0]
        msg.append(
            f"NEW {k} ({len(groups[k])}x): {ex['sample']} input {ex['input_hex'][:200]}\n"
            f"    codec {brief(ex['codec'])} | rust {brief(ex['rust'])} | "
            f"python {brief(ex['python'])}"
        )
    if len(new) > 40:
        msg.append(f"... and {len(new) - 40} more new groups")
    msg += [f"GONE (delete from known_disagreements.txt): {k}" for k in gone]
    assert not new and not gone, "\n".join(msg)

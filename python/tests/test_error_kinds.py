"""Error kinds: every SchemacError names one kind of the vocabulary in conformance/README.md,
the same table the Rust runtime's ``ErrorKind::code()`` is tested against."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import msgpack
import pytest

from schemac_runtime import errors, wire
from schemac_runtime.errors import BitsOverflowError, DecodeError, SchemacError, SchemaError

README = Path(__file__).resolve().parents[2] / "conformance" / "README.md"


def readme_kinds() -> set[str]:
    section = README.read_text().split("## Error kinds", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M))


def test_vocabulary_is_the_readme_table() -> None:
    kinds = readme_kinds()
    assert len(kinds) >= 20
    assert errors.KINDS == kinds


def test_class_defaults_and_explicit_kind() -> None:
    assert SchemaError("a", "b").kind == "wrong_type"
    assert DecodeError("a", "b").kind == "malformed"
    assert BitsOverflowError("a", "b").kind == "bits_overflow"
    assert SchemaError("a", "b", kind="out_of_range").kind == "out_of_range"
    with pytest.raises(AssertionError):
        SchemaError("a", "b", kind="no_such_kind")


@pytest.mark.parametrize("cls", [SchemacError, SchemaError, DecodeError, BitsOverflowError])
def test_pickle_keeps_kind(cls: type[SchemacError]) -> None:
    e = cls("S.x", "why", kind="duplicate_key")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls
    assert (back.path, back.reason, back.kind, str(back)) == ("S.x", "why", "duplicate_key", str(e))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (msgpack.packb({"a": 1})[:-1], "truncated"),
        (msgpack.packb(1) + b"\x00", "trailing_bytes"),
        (b"\xc1", "malformed"),
        (b"\xa1\xff", "invalid_utf8"),
    ],
)
def test_unpackb_kinds(data: bytes, kind: str) -> None:
    with pytest.raises(SchemacError) as ei:
        wire.unpackb(data)
    assert ei.value.kind == kind

"""The exception hierarchy raised by schemac-runtime and by generated Python modules.

Every error carries the field path it concerns (``ImageSample.mask``, ``Scene.history.xyz``,
``Batch.labels[3]``), and its message starts with that path, like the Rust runtime's errors::

    ImageSample.mask: expected dtype <u1, found <f4

- :class:`SchemacError` is the base (a :class:`ValueError`, so callers that already catch
  ``ValueError`` keep working).
- :class:`SchemaError`: the data is well-formed but does not conform to the schema (wrong
  type or dtype, wrong shape, named-dim mismatch, missing required field, unknown enum
  variant, value out of range, a value that does not fit its ``@bits``).
- :class:`DecodeError`: the bytes themselves cannot be parsed (truncated input, trailing
  bytes, a length larger than the input, a bad array header, invalid msgpack, JSON or base64).
- :class:`BitsOverflowError` (a :class:`SchemaError`): a value does not fit in its ``@bits``.

Every error also has a ``kind``: one string of the closed vocabulary in
conformance/README.md (``"truncated"``, ``"dtype_mismatch"``, ``"duplicate_key"``, ...), the
same string the Rust runtime's ``ErrorKind::code()`` gives for the same input.
"""

from __future__ import annotations

__all__ = [
    "KINDS",
    "BitsOverflowError",
    "DecodeError",
    "SchemaError",
    "SchemacError",
    "join_path",
]

#: The closed error-kind vocabulary shared with the Rust runtime (conformance/README.md).
KINDS: frozenset[str] = frozenset(
    {
        "truncated",
        "trailing_bytes",
        "malformed",
        "wrong_type",
        "dtype_mismatch",
        "shape_mismatch",
        "dim_mismatch",
        "payload_length",
        "out_of_range",
        "bits_overflow",
        "unknown_variant",
        "duplicate_key",
        "missing_field",
        "invalid_utf8",
        "invalid_base64",
        "invalid_bool",
        "bad_npy",
        "too_large",
        "too_deep",
        "bad_padding",
        "corrupt_archive",
        "bad_key",
        "fingerprint_mismatch",
        "unsupported",
    }
)


class SchemacError(ValueError):
    """Base class of every error schemac-runtime raises about data.

    ``path`` is the dotted field path (may be empty for a whole sample or a bare array),
    ``reason`` the message without the path, and ``kind`` the error's name in the shared
    vocabulary :data:`KINDS` (the class's ``DEFAULT_KIND`` when not given).
    """

    #: The kind an error of this class has when the raise site names none.
    DEFAULT_KIND = "malformed"

    path: str
    reason: str
    kind: str

    def __init__(self, path: str, reason: str, kind: str | None = None) -> None:
        kind = self.DEFAULT_KIND if kind is None else kind
        if kind not in KINDS:
            raise AssertionError(f"unknown schemac error kind {kind!r}")
        self.path = path
        self.reason = reason
        self.kind = kind
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[SchemacError], tuple[str, str, str]]:
        return (type(self), (self.path, self.reason, self.kind))


class SchemaError(SchemacError):
    """Well-formed data that does not conform to the schema."""

    DEFAULT_KIND = "wrong_type"


class DecodeError(SchemacError):
    """Bytes (msgpack, array payload, JSON, base64, packed words) that cannot be parsed."""

    DEFAULT_KIND = "malformed"


class BitsOverflowError(SchemaError):
    """A value that does not fit in the ``@bits`` width of its leaf (never silently truncated)."""

    DEFAULT_KIND = "bits_overflow"


def join_path(path: str, name: str | int) -> str:
    """Extend a field path.

    ``join_path("A", "b") == "A.b"``, ``join_path("A.b", 3) == "A.b[3]"``,
    ``join_path("", "b") == "b"``.
    """
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name

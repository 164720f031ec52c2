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
"""

from __future__ import annotations

__all__ = [
    "BitsOverflowError",
    "DecodeError",
    "SchemaError",
    "SchemacError",
    "join_path",
]


class SchemacError(ValueError):
    """Base class of every error schemac-runtime raises about data.

    ``path`` is the dotted field path (may be empty for a whole sample or a bare array) and
    ``reason`` the message without the path.
    """

    path: str
    reason: str

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}" if path else reason)

    def __reduce__(self) -> tuple[type[SchemacError], tuple[str, str]]:
        return (type(self), (self.path, self.reason))


class SchemaError(SchemacError):
    """Well-formed data that does not conform to the schema."""


class DecodeError(SchemacError):
    """Bytes (msgpack, array payload, JSON, base64, packed words) that cannot be parsed."""


class BitsOverflowError(SchemaError):
    """A value that does not fit in the ``@bits`` width of its leaf (never silently truncated)."""


def join_path(path: str, name: str | int) -> str:
    """Extend a field path.

    ``join_path("A", "b") == "A.b"``, ``join_path("A.b", 3) == "A.b[3]"``,
    ``join_path("", "b") == "b"``.
    """
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name

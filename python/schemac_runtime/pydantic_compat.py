"""pydantic support for generated classes (docs/language.md, "pydantic"): every generated
record has ``__get_pydantic_core_schema__``, so it works as a pydantic field type and with
``TypeAdapter``; pydantic (and pydantic-core) are imported only when pydantic asks.

- JSON mode is the schemac JSON form: ``TypeAdapter(ImageSample).dump_json()`` is
  ``to_json()`` and ``validate_json`` is ``from_json_obj`` over the parsed JSON, with every
  schema check (shapes, dtypes, named dims, ``@range``, ``@bits``).
- Python mode (``model_dump()``, ``model_validate``) is a plain dict: arrays as numpy arrays,
  components as dicts, enums as variant names, absent optionals as ``None``. That is what
  truss-chains' binary mode sends through ``msgpack`` with ``msgpack_numpy.patch()``;
  validation accepts such a dict (or an instance) and runs :meth:`validate`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import gen_support as _g
from .errors import SchemaError

__all__ = ["core_schema", "from_plain", "to_plain"]


def to_plain(record: Any) -> dict[str, Any]:
    """A record as a plain dict (numpy arrays, dicts, variant names)."""
    return {f.name: _plain_value(getattr(record, f.attr)) for f in record._SC_FIELDS}


def _plain_value(v: Any) -> Any:
    if hasattr(v, "_SC_FIELDS"):
        return to_plain(v)
    if isinstance(v, enum.Enum):
        return v.value
    if isinstance(v, list):
        return [_plain_value(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain_value(x) for k, x in v.items()}
    return v


def from_plain(cls: type[Any], d: Any, path: str | None = None) -> Any:
    """The record of a plain dict (:func:`to_plain`'s form), checked by ``validate``."""
    rec = _record(cls, d, path or cls.__name__)
    if hasattr(rec, "validate"):
        rec.validate()
    else:
        rec._sc_validate(cls.__name__, _g.Dims())
    return rec


def _record(cls: type[Any], d: Any, path: str) -> Any:
    if isinstance(d, cls):
        return d
    if not isinstance(d, Mapping):
        raise SchemaError(path, f"expected {cls.__name__} or a mapping, found {type(d).__name__}")
    # Unknown keys are ignored, as the decoders do (docs/language.md).
    kwargs: dict[str, Any] = {}
    for f in cls._SC_FIELDS:
        if f.name in d:
            kwargs[f.attr] = _value(f.codec, d[f.name], f"{path}.{f.name}")
        elif not isinstance(f.codec, _g.Optional):
            raise SchemaError(f"{path}.{f.name}", "missing field", kind="missing_field")
    return cls(**kwargs)


def _value(codec: _g.Codec, v: Any, path: str) -> Any:
    if isinstance(codec, _g.Optional):
        return None if v is None else _value(codec.inner, v, path)
    if isinstance(codec, _g.Record):
        return _record(codec.cls, v, path)
    if isinstance(codec, _g.RecordArray):
        if not isinstance(v, list | tuple):
            raise SchemaError(path, f"expected a list, found {type(v).__name__}")
        return [_record(codec.cls, x, f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(codec, _g.Enum):
        if isinstance(v, codec.cls):
            return v
        if isinstance(v, str) and v in codec.variants:
            return codec.members[codec.variants.index(v)]
        raise SchemaError(path, f"unknown variant {v!r}", kind="unknown_variant")
    if isinstance(codec, _g.List):
        if not isinstance(v, list | tuple):
            raise SchemaError(path, f"expected a list, found {type(v).__name__}")
        return [_value(codec.item, x, f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(codec, _g.Map):
        if not isinstance(v, Mapping):
            raise SchemaError(path, f"expected a map, found {type(v).__name__}")
        return {k: _value(codec.value, x, f"{path}.{k}") for k, x in v.items()}
    if isinstance(codec, _g.Array) and isinstance(v, list | tuple):
        return np.asarray(v, dtype=codec.info.numpy)
    return v


def _json_obj(record: Any) -> Any:
    if hasattr(record, "to_json_obj"):
        return record.to_json_obj()
    return record._sc_json(type(record).__name__)


def _from_json_obj(cls: type[Any], obj: Any) -> Any:
    if hasattr(cls, "from_json_obj"):
        return cls.from_json_obj(obj)
    return cls._sc_from_json(cls.__name__, obj, _g.Dims())


def core_schema(cls: type[Any], _source: Any = None, _handler: Any = None) -> Any:
    """The pydantic-core schema of a generated record class."""
    from pydantic_core import core_schema as cs

    def serialize(value: Any, info: Any) -> Any:
        if not isinstance(value, cls):
            raise TypeError(f"expected {cls.__name__}, found {type(value).__name__}")
        return _json_obj(value) if info.mode_is_json() else to_plain(value)

    return cs.json_or_python_schema(
        json_schema=cs.no_info_plain_validator_function(lambda obj: _from_json_obj(cls, obj)),
        python_schema=cs.no_info_plain_validator_function(lambda d: from_plain(cls, d)),
        serialization=cs.plain_serializer_function_ser_schema(serialize, info_arg=True),
    )

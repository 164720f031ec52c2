"""Arrow tables and Parquet files for generated batches (docs/language.md, "Arrow and
Parquet"). pyarrow is optional: it is imported on first use.

The mapping is the compiler's (``schemac layout --format arrow``; ``crates/compiler/src/
arrow.rs``): a column per field, scalars as primitives, fixed-shape arrays as
``arrow.fixed_shape_tensor``, arrays with named or ``_`` dims as
``arrow.variable_shape_tensor``, ``str``/``bytes`` as utf8/binary, optionals as nulls, enums
as dictionaries of the variant names, components as structs, component arrays as
(fixed-size) lists of structs, ``list``/``map`` as list/map, ``f16`` as float16 and
``bf16`` as its raw bits in uint16 with field metadata ``schemac.dtype = bf16``.
:func:`record_schema_json` derives the same JSON from a generated class's field codecs, and
the tests compare the two for every example.

Fixed-shape array columns of a batch go to Arrow without a copy (the tensor storage wraps
the column's buffer); everything else is built from the samples.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import gen_support as _g
from .dtypes import DTypeInfo, bf16_to_f32, f32_to_bf16
from .errors import DecodeError

FIXED_SHAPE_TENSOR = "arrow.fixed_shape_tensor"
VARIABLE_SHAPE_TENSOR = "arrow.variable_shape_tensor"
DTYPE_KEY = "schemac.dtype"

_PRIMITIVE = {
    "bool": "bool",
    "i8": "int8",
    "i16": "int16",
    "i32": "int32",
    "i64": "int64",
    "u8": "uint8",
    "u16": "uint16",
    "bf16": "uint16",
    "u32": "uint32",
    "u64": "uint64",
    "f16": "float16",
    "f32": "float32",
    "f64": "float64",
}

Json = dict[str, Any]


def _pa() -> Any:
    try:
        pyarrow = importlib.import_module("pyarrow")
    except ImportError as e:  # pragma: no cover - exercised only without pyarrow
        raise ImportError("Arrow and Parquet support needs pyarrow: pip install pyarrow") from e
    return pyarrow


# -- the mapping, as JSON (the compiler's format) ---------------------------------------


def _named(name: str, nullable: bool, ty: Json, metadata: Json | None = None) -> Json:
    out: Json = {"name": name, "nullable": nullable, "type": ty}
    if metadata:
        out["metadata"] = metadata
    return out


def _item(ty: Json, metadata: Json | None = None) -> Json:
    return _named("item", True, ty, metadata)


def _dtype_md(info: DTypeInfo) -> Json | None:
    return {DTYPE_KEY: "bf16"} if info.name == "bf16" else None


def _tensor_json(info: DTypeInfo, shape: Sequence[int | str | None]) -> Json:
    value = {"type": _PRIMITIVE[info.name]}
    if all(isinstance(d, int) for d in shape):
        dims = [int(d) for d in shape]  # type: ignore[arg-type]
        return {
            "type": "extension",
            "name": FIXED_SHAPE_TENSOR,
            "metadata": json.dumps({"shape": dims}, separators=(",", ":")),
            "storage": {"type": "fixed_size_list", "size": math.prod(dims), "item": _item(value)},
        }
    md: Json = {}
    if any(isinstance(d, str) for d in shape):
        md["dim_names"] = [str(d) if d is not None else "_" for d in shape]
    if any(isinstance(d, int) for d in shape):
        md["uniform_shape"] = [d if isinstance(d, int) else None for d in shape]
    return {
        "type": "extension",
        "name": VARIABLE_SHAPE_TENSOR,
        "metadata": json.dumps(md, separators=(",", ":"), sort_keys=True),
        "storage": {
            "type": "struct",
            "fields": [
                _named("data", True, {"type": "list", "item": _item(value)}),
                _named(
                    "shape",
                    True,
                    {
                        "type": "fixed_size_list",
                        "size": len(shape),
                        "item": _item({"type": "int32"}),
                    },
                ),
            ],
        },
    }


def _codec_json(codec: _g.Codec, under_optional: bool = False) -> tuple[Json, Json | None, bool]:
    """(type, field metadata, nullable) of a field codec; ``under_optional``: the field sits
    in an optional component (then it is nullable too, as in the compiler's mapping)."""
    if isinstance(codec, _g.Optional):
        ty, md, _ = _codec_json(codec.inner, True)
        return ty, md, True
    if under_optional:
        ty, md, _ = _codec_json(codec)
        if isinstance(codec, _g.Record):
            ty = _struct_json(codec.cls, True)
        return ty, md, True
    if isinstance(codec, _g.Bool):
        return {"type": "bool"}, None, False
    if isinstance(codec, (_g.Int, _g.Float)):
        return {"type": _PRIMITIVE[codec.info.name]}, _dtype_md(codec.info), False
    if isinstance(codec, _g.Str):
        return {"type": "utf8"}, None, False
    if isinstance(codec, _g.Bytes):
        return {"type": "binary"}, None, False
    if isinstance(codec, _g.Array):
        return _tensor_json(codec.info, codec.shape), _dtype_md(codec.info), False
    if isinstance(codec, _g.Packed):
        if codec.scalar:
            return {"type": _PRIMITIVE[codec.info.name]}, _dtype_md(codec.info), False
        return _tensor_json(codec.info, codec.shape), _dtype_md(codec.info), False
    if isinstance(codec, _g.Enum):
        return (
            {
                "type": "dictionary",
                "index": "int32",
                "value": "utf8",
                "values": list(codec.variants),
            },
            None,
            False,
        )
    if isinstance(codec, _g.Record):
        return _struct_json(codec.cls, False), None, False
    if isinstance(codec, _g.RecordArray):
        out = _struct_json(codec.cls)
        for d in reversed(codec.shape):
            out = (
                {"type": "fixed_size_list", "size": d, "item": _item(out)}
                if isinstance(d, int)
                else {"type": "list", "item": _item(out)}
            )
        return out, None, False
    if isinstance(codec, _g.List):
        ty, md, _ = _codec_json(codec.item)
        return {"type": "list", "item": _item(ty, md)}, None, False
    if isinstance(codec, _g.Map):
        ty, md, _ = _codec_json(codec.value)
        return (
            {
                "type": "map",
                "key": _named("key", False, {"type": "utf8"}),
                "value": _named("value", True, ty, md),
            },
            None,
            False,
        )
    raise TypeError(f"no Arrow mapping for {type(codec).__name__}")


def _struct_json(cls: type[Any], under_optional: bool = False) -> Json:
    return {"type": "struct", "fields": [_field_json(f, under_optional) for f in cls._SC_FIELDS]}


def _field_json(f: _g.Field, under_optional: bool = False) -> Json:
    ty, md, nullable = _codec_json(f.codec, under_optional)
    return _named(f.name, nullable, ty, md)


def record_schema_json(cls: type[Any]) -> Json:
    """The Arrow schema of a generated record class, in ``schemac layout --format arrow``'s
    JSON (one entry of its ``records``, without ``kind``)."""
    return {
        "record": cls.__name__,
        "metadata": {"schemac.record": cls.__name__, "schemac.fingerprint": cls.FINGERPRINT},
        "fields": [_field_json(f) for f in cls._SC_FIELDS],
    }


# -- JSON -> pyarrow types ---------------------------------------------------------------


@functools.cache
def _canonical_extension(name: str, storage: Any, metadata: str) -> Any:
    """A canonical extension type pyarrow implements in C++ but has no Python constructor
    for (``arrow.variable_shape_tensor``): built by reading back a schema whose field
    carries the extension metadata, as any IPC reader would."""
    pa = _pa()
    f = pa.field(
        "x",
        storage,
        metadata={
            b"ARROW:extension:name": name.encode(),
            b"ARROW:extension:metadata": metadata.encode(),
        },
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, pa.schema([f])):
        pass
    ty = pa.ipc.open_stream(sink.getvalue()).schema.field(0).type
    if getattr(ty, "extension_name", None) != name:
        raise RuntimeError(f"this pyarrow does not implement the {name} extension")
    return ty


def type_from_json(t: Mapping[str, Any]) -> Any:
    """A pyarrow type from the mapping's JSON form."""
    pa = _pa()
    kind = t["type"]
    if kind == "extension":
        storage = type_from_json(t["storage"])
        if t["name"] == FIXED_SHAPE_TENSOR:
            md = json.loads(t["metadata"])
            return pa.fixed_shape_tensor(
                storage.value_type, md["shape"], dim_names=md.get("dim_names")
            )
        return _canonical_extension(t["name"], storage, t["metadata"])
    if kind == "fixed_size_list":
        return pa.list_(field_from_json(t["item"]), t["size"])
    if kind == "list":
        return pa.list_(field_from_json(t["item"]))
    if kind == "struct":
        return pa.struct([field_from_json(f) for f in t["fields"]])
    if kind == "map":
        return pa.map_(field_from_json(t["key"]), field_from_json(t["value"]))
    if kind == "dictionary":
        return pa.dictionary(getattr(pa, t["index"])(), getattr(pa, t["value"])())
    return {"bool": pa.bool_, "utf8": pa.utf8, "binary": pa.binary}.get(
        kind, lambda: pa.type_for_alias(kind)
    )()


def field_from_json(f: Mapping[str, Any]) -> Any:
    pa = _pa()
    return pa.field(
        f["name"], type_from_json(f["type"]), nullable=f["nullable"], metadata=f.get("metadata")
    )


def schema_from_json(record: Mapping[str, Any]) -> Any:
    pa = _pa()
    return pa.schema([field_from_json(f) for f in record["fields"]], metadata=record["metadata"])


def arrow_schema(cls: type[Any]) -> Any:
    """The pyarrow schema of a generated record class's table form."""
    return schema_from_json(record_schema_json(cls))


# -- values -> arrays ------------------------------------------------------------------


def _mask(values: Sequence[Any]) -> np.ndarray | None:
    m = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    return m if m.any() else None


def _array(codec: _g.Codec, values: Sequence[Any], ty: Any) -> Any:
    """The Arrow array of one field's values (``None`` = null), of type ``ty``."""
    pa = _pa()
    if isinstance(codec, _g.Optional):
        return _array(codec.inner, values, ty)
    mask = _mask(values)
    if isinstance(codec, (_g.Bool, _g.Int)):
        return pa.array(values, type=ty)
    if isinstance(codec, _g.Float):
        if codec.info.name == "bf16":
            bits = [None if v is None else int(f32_to_bf16(np.float32(v))) for v in values]
            return pa.array(bits, type=ty)
        if codec.info.name == "f16":
            arr = np.array([0.0 if v is None else v for v in values], dtype=np.float16)
            return pa.array(arr, type=ty, mask=mask)
        return pa.array(values, type=ty)
    if isinstance(codec, (_g.Str, _g.Bytes)):
        return pa.array(values, type=ty)
    if isinstance(codec, _g.Packed):
        unpacked = [None if v is None else codec.unpack("", v) for v in values]
        if codec.scalar:
            return pa.array([None if u is None else u.item() for u in unpacked], type=ty)
        return _tensor(codec.info, codec.shape, unpacked, ty)
    if isinstance(codec, _g.Array):
        return _tensor(codec.info, codec.shape, values, ty)
    if isinstance(codec, _g.Enum):
        idx = pa.array([None if v is None else codec.index[v] for v in values], type=pa.int32())
        return pa.DictionaryArray.from_arrays(idx, pa.array(list(codec.variants), type=pa.utf8()))
    if isinstance(codec, _g.Record):
        return _struct(codec.cls, values, ty, mask)
    if isinstance(codec, _g.RecordArray):
        return _nested(codec.elem, codec.shape, values, ty)
    if isinstance(codec, _g.List):
        flat = [x for v in values if v is not None for x in v]
        offsets = _offsets([None if v is None else len(v) for v in values])
        child = _array(codec.item, flat, ty.value_type)
        return pa.ListArray.from_arrays(offsets, child, type=ty, mask=_pa_mask(mask))
    if isinstance(codec, _g.Map):
        keys = [k for v in values if v is not None for k in v]
        items = [x for v in values if v is not None for x in v.values()]
        offsets = _offsets([None if v is None else len(v) for v in values])
        return pa.MapArray.from_arrays(
            offsets,
            pa.array(keys, type=pa.utf8()),
            _array(codec.value, items, ty.item_type),
            type=ty,
            mask=_pa_mask(mask),
        )
    raise TypeError(f"no Arrow mapping for {type(codec).__name__}")  # pragma: no cover


def _pa_mask(mask: np.ndarray | None) -> Any:
    return None if mask is None else _pa().array(mask)


def _offsets(lengths: Sequence[int | None]) -> Any:
    pa = _pa()
    out = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum([0 if n is None else n for n in lengths], out=out[1:])
    return pa.array(out)


def _struct(cls: type[Any], values: Sequence[Any], ty: Any, mask: np.ndarray | None) -> Any:
    pa = _pa()
    children = []
    for i, f in enumerate(cls._SC_FIELDS):
        # Children of a null struct slot are null (they are nullable in the mapping).
        col = [None if v is None else getattr(v, f.attr) for v in values]
        children.append(_array(f.codec, col, ty.field(i).type))
    return pa.StructArray.from_arrays(children, fields=list(ty), mask=_pa_mask(mask))


def _nested(
    elem: _g.Record, shape: Sequence[int | str | None], values: Sequence[Any], ty: Any
) -> Any:
    """A component array: flat C-order element lists, nested by the array dims."""
    pa = _pa()
    mask = _mask(values)
    if not shape:
        return _struct(elem.cls, values, ty, mask)
    d = shape[0]
    inner = (
        math.prod(int(x) for x in shape[1:] if isinstance(x, int))
        if all(isinstance(x, int) for x in shape[1:])
        else None
    )
    groups: list[Any] = []
    lengths: list[int | None] = []
    for v in values:
        if v is None:
            lengths.append(None)
            continue
        items = list(v)
        per = inner if inner is not None else 1
        count = len(items) // per if per else 0
        lengths.append(count)
        groups.extend(items[i * per : (i + 1) * per] for i in range(count))
    child = _nested(
        elem, shape[1:], groups if len(shape) > 1 else [g[0] for g in groups], ty.value_type
    )
    if isinstance(d, int):
        return pa.FixedSizeListArray.from_arrays(child, d, mask=_pa_mask(mask))
    return pa.ListArray.from_arrays(_offsets(lengths), child, mask=_pa_mask(mask))


def _tensor(
    info: DTypeInfo, shape: Sequence[int | str | None], values: Sequence[Any], ty: Any
) -> Any:
    pa = _pa()
    mask = _mask(values)
    storage_ty = ty.storage_type
    if all(isinstance(d, int) for d in shape):
        size = math.prod([int(d) for d in shape if isinstance(d, int)])
        zero = np.zeros(size, dtype=info.numpy)
        flat = (
            np.concatenate(
                [zero if v is None else np.ascontiguousarray(v).reshape(-1) for v in values]
            )
            if values
            else zero[:0]
        )
        storage = pa.FixedSizeListArray.from_arrays(
            pa.array(flat, type=storage_ty.value_type), size, mask=_pa_mask(mask)
        )
    else:
        ndim = len(shape)
        arrays = [
            np.zeros((0,) * ndim, dtype=info.numpy) if v is None else np.asarray(v) for v in values
        ]
        data_flat = (
            np.concatenate([a.reshape(-1) for a in arrays])
            if arrays
            else np.zeros(0, dtype=info.numpy)
        )
        offsets = _offsets([a.size for a in arrays])
        data = pa.ListArray.from_arrays(
            offsets, pa.array(data_flat, type=storage_ty.field(0).type.value_type)
        )
        shapes = np.array([a.shape for a in arrays], dtype=np.int32).reshape(-1)
        shape_arr = pa.FixedSizeListArray.from_arrays(pa.array(shapes, type=pa.int32()), ndim)
        storage = pa.StructArray.from_arrays(
            [data, shape_arr], fields=list(storage_ty), mask=_pa_mask(mask)
        )
    return pa.ExtensionArray.from_storage(ty, storage)


def _fixed_column(batch: Any, f: _g.Field) -> np.ndarray | None:
    """The batch column of a required fixed-shape numeric array field, when it has one
    (the zero-copy path)."""
    codec = f.codec
    if type(codec) is not _g.Array or codec.info.name == "bool":
        return None
    if not all(isinstance(d, int) for d in codec.shape):
        return None
    col = batch.columns.get(f.name)
    if col is None or col.validity is not None:
        return None
    values = np.ascontiguousarray(col.values)
    return values.reshape(-1) if values.dtype == codec.info.numpy else None


def to_arrow(batch: Any) -> Any:
    """A generated batch as a pyarrow Table (schema metadata: record name, fingerprint)."""
    pa = _pa()
    cls = batch.SAMPLE
    schema = arrow_schema(cls)
    samples: list[Any] | None = None
    arrays = []
    for i, f in enumerate(cls._SC_FIELDS):
        ty = schema.field(i).type
        flat = _fixed_column(batch, f)
        if flat is not None:
            size = ty.storage_type.list_size
            storage = pa.FixedSizeListArray.from_arrays(pa.array(flat), size)
            arrays.append(pa.ExtensionArray.from_storage(ty, storage))
            continue
        if samples is None:
            samples = batch.to_samples()
        arrays.append(_array(f.codec, [getattr(s, f.attr) for s in samples], ty))
    return pa.Table.from_arrays(arrays, schema=schema)


# -- arrays -> values ------------------------------------------------------------------


def _values(codec: _g.Codec, arr: Any, path: str) -> list[Any]:
    """Python field values (None for nulls) of one Arrow array."""
    pa = _pa()
    if isinstance(codec, _g.Optional):
        return _values(codec.inner, arr, path)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    valid = _valid(arr)
    if isinstance(codec, (_g.Bool, _g.Int, _g.Str, _g.Bytes)):
        plain: list[Any] = arr.to_pylist()
        return plain
    if isinstance(codec, _g.Float):
        if codec.info.name == "bf16":
            return [
                None if v is None else float(bf16_to_f32(np.uint16(v))) for v in arr.to_pylist()
            ]
        return [None if v is None else float(v) for v in arr.to_pylist()]
    if isinstance(codec, _g.Enum):
        names = arr.to_pylist()
        return [None if v is None else codec.members[codec.variants.index(v)] for v in names]
    if isinstance(codec, (_g.Array, _g.Packed)):
        tensors = _tensor_values(codec.info, codec.shape, arr, valid)
        if isinstance(codec, _g.Packed):
            if codec.scalar:
                return [None if v is None else codec.pack(path, v) for v in arr.to_pylist()]
            return [None if t is None else codec.pack(path, t) for t in tensors]
        return tensors
    if isinstance(codec, _g.Record):
        return _struct_values(codec.cls, arr, valid, path)
    if isinstance(codec, _g.RecordArray):
        return _nested_values(codec.elem, codec.shape, arr, path)
    if isinstance(codec, _g.List):
        child = _values(codec.item, arr.values, path)
        offs = arr.offsets.to_numpy()
        return [child[offs[i] : offs[i + 1]] if ok else None for i, ok in enumerate(valid)]
    if isinstance(codec, _g.Map):
        entries = arr.values
        keys = entries.field(0).to_pylist()
        items = _values(codec.value, entries.field(1), path)
        offs = arr.offsets.to_numpy()
        return [
            dict(zip(keys[offs[i] : offs[i + 1]], items[offs[i] : offs[i + 1]], strict=True))
            if ok
            else None
            for i, ok in enumerate(valid)
        ]
    raise TypeError(f"no Arrow mapping for {type(codec).__name__}")  # pragma: no cover


def _numpy(arr: Any, info: DTypeInfo) -> np.ndarray:
    """A primitive Arrow array's values as numpy in the leaf dtype (nulls as zeros)."""
    if arr.null_count:
        arr = arr.fill_null(0)
    out: np.ndarray = arr.to_numpy(zero_copy_only=False).astype(info.numpy, copy=False)
    return out


def _valid(arr: Any) -> list[bool]:
    if not arr.null_count:
        return [True] * len(arr)
    out: list[bool] = arr.is_valid().to_pylist()
    return out


def _tensor_values(
    info: DTypeInfo, shape: Sequence[int | str | None], arr: Any, valid: list[bool]
) -> list[Any]:
    storage = arr.storage if hasattr(arr, "storage") else arr
    if all(isinstance(d, int) for d in shape):
        dims = tuple(int(d) for d in shape)  # type: ignore[arg-type]
        size = math.prod(dims)
        child = storage.values.slice(storage.offset * size, len(storage) * size)
        flat = _numpy(child, info)
        rows = flat.reshape((len(arr), *dims))
        return [rows[i].copy() if ok else None for i, ok in enumerate(valid)]
    data = storage.field("data")
    shape_col = storage.field("shape")
    shapes = (
        shape_col.values.slice(shape_col.offset * len(shape), len(shape_col) * len(shape))
        .to_numpy(zero_copy_only=False)
        .reshape(len(arr), len(shape))
    )
    offs = data.offsets.to_numpy()
    flat = _numpy(data.values, info)
    return [
        flat[offs[i] : offs[i + 1]].reshape(tuple(int(x) for x in shapes[i])).copy() if ok else None
        for i, ok in enumerate(valid)
    ]


def _struct_values(cls: type[Any], arr: Any, valid: list[bool], path: str) -> list[Any]:
    cols = {
        f.attr: _values(f.codec, arr.field(i), f"{path}.{f.name}")
        for i, f in enumerate(cls._SC_FIELDS)
    }
    return [cls(**{k: v[r] for k, v in cols.items()}) if ok else None for r, ok in enumerate(valid)]


def _nested_values(
    elem: _g.Record, shape: Sequence[int | str | None], arr: Any, path: str
) -> list[Any]:
    """Flat C-order element lists of a component-array column."""
    valid = _valid(arr)
    if not shape:
        return _struct_values(elem.cls, arr, valid, path)
    if isinstance(shape[0], int):
        d = shape[0]
        inner = arr.values.slice(arr.offset * d, len(arr) * d)
        offs = np.arange(len(arr) + 1) * d
    else:
        inner = arr.values
        offs = arr.offsets.to_numpy()
    child = _nested_values(elem, shape[1:], inner, path)
    if len(shape) == 1:
        child = [[c] for c in child]
    return [
        [x for group in child[offs[i] : offs[i + 1]] for x in group] if ok else None
        for i, ok in enumerate(valid)
    ]


def from_arrow(batch_cls: type[Any], table: Any) -> Any:
    """A generated batch from a pyarrow Table written by :func:`to_arrow` (or any table of the
    same schema). Refuses a table of another record or fingerprint; every sample is
    validated like a decoded one."""
    cls = batch_cls.SAMPLE
    md = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if md.get("schemac.record", cls.__name__) != cls.__name__:
        raise DecodeError(
            cls.__name__,
            f"the table holds {md['schemac.record']}, not {cls.__name__}",
            kind="fingerprint_mismatch",
        )
    fp = md.get("schemac.fingerprint")
    if fp is not None and fp != cls.FINGERPRINT:
        raise DecodeError(
            cls.__name__,
            f"the table's layout fingerprint {fp} is not {cls.FINGERPRINT}",
            kind="fingerprint_mismatch",
        )
    names = table.schema.names
    cols: dict[str, list[Any]] = {}
    for f in cls._SC_FIELDS:
        if f.name not in names:
            if isinstance(f.codec, _g.Optional):
                cols[f.attr] = [None] * table.num_rows
                continue
            raise DecodeError(f"{cls.__name__}.{f.name}", "missing column", kind="missing_field")
        cols[f.attr] = _values(f.codec, table.column(f.name), f"{cls.__name__}.{f.name}")
    samples = []
    for r in range(table.num_rows):
        s = cls(**{k: v[r] for k, v in cols.items() if v[r] is not None or _optional(cls, k)})
        s.validate()
        samples.append(s)
    return batch_cls.from_samples(samples)


def _optional(cls: type[Any], attr: str) -> bool:
    return any(f.attr == attr and isinstance(f.codec, _g.Optional) for f in cls._SC_FIELDS)


def write_parquet(
    batch: Any, path: str | os.PathLike[str], *, row_group_size: int | None = None
) -> None:
    pq = importlib.import_module("pyarrow.parquet")

    pq.write_table(to_arrow(batch), path, row_group_size=row_group_size)


def read_parquet(batch_cls: type[Any], path: str | os.PathLike[str]) -> Any:
    pq = importlib.import_module("pyarrow.parquet")

    return from_arrow(batch_cls, pq.read_table(path))

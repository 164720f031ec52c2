"""Arrow tables and Parquet files of generated batches (schemac_runtime.arrow) against the
compiler's mapping (`schemac layout --format arrow`), the real pyarrow and DuckDB.

Skipped when pyarrow is not installed (it is optional for users; scripts/setup-venv.sh
installs it for the tests)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import EXAMPLE_STEMS, EXAMPLES, REPO, Generated, all_records, schemac_bin

from schemac_runtime import arrow
from schemac_runtime.errors import DecodeError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def compiler_mapping(stem: str) -> dict[str, Any]:
    res = subprocess.run(
        [schemac_bin(), "layout", "--format", "arrow", str(EXAMPLES / f"{stem}.schema")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, Any] = json.loads(res.stdout)
    return out


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_python_derives_the_compilers_mapping(gen: Generated, stem: str) -> None:
    """The runtime's mapping (from the field codecs) is the compiler's (from the IR), for
    every record of every example, and pyarrow builds it."""
    by_name = {r["record"]: r for r in compiler_mapping(stem)["records"]}
    records = all_records(gen[stem])  # the module's own records (imports live in theirs)
    assert records and {c.__name__ for c in records} <= set(by_name)
    for cls in records:
        expected = dict(by_name[cls.__name__])
        expected.pop("kind")
        assert arrow.record_schema_json(cls) == expected, cls.__name__
        schema = arrow.arrow_schema(cls)
        assert schema.metadata[b"schemac.fingerprint"].decode() == cls.FINGERPRINT


def batch_class(mod: Any, cls: type[Any]) -> Any:
    return getattr(mod, f"{cls.__name__}Batch")


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_table_and_parquet_round_trip_every_record(
    gen: Generated, stem: str, tmp_path: Path
) -> None:
    mod = gen[stem]
    for cls in all_records(mod):
        batch_cls = batch_class(mod, cls)
        samples = [cls.random(300 + i) for i in range(7)]
        batch = batch_cls.from_samples(samples)
        table = batch.to_arrow()
        assert table.num_rows == 7
        assert table.schema == arrow.arrow_schema(cls)
        assert batch_cls.from_arrow(table).to_samples() == samples, cls.__name__
        path = tmp_path / f"{cls.__name__}.parquet"
        batch.write_parquet(path, row_group_size=3)
        assert pq.ParquetFile(path).metadata.num_row_groups == 3
        back = batch_cls.read_parquet(path)
        assert back.to_samples() == samples, cls.__name__
        # the extension types survive Parquet (pyarrow stores the Arrow schema)
        assert pq.read_schema(path).equals(table.schema, check_metadata=False)


def test_fixed_tensor_columns_are_zero_copy_and_canonical(gen: Generated) -> None:
    v = gen["vision"]
    batch = v.ImageSampleBatch.random(3, 5)
    table = batch.to_arrow()
    image = table.column("image").chunk(0)
    assert isinstance(image.type, pa.FixedShapeTensorType)
    assert image.type.shape == [224, 224, 3]
    values = batch.columns["image"].values
    buf = image.storage.values.buffers()[1]
    assert buf.address == values.ctypes.data, "the image column was copied"
    np.testing.assert_array_equal(image.to_numpy_ndarray(), values)
    # named dims: the canonical variable-shape tensor, dim names from the schema
    mask_ty = table.schema.field("mask").type
    assert mask_ty.extension_name == "arrow.variable_shape_tensor"
    assert "dim_names=[H,W]" in str(mask_ty)


def test_a_table_of_another_layout_is_refused(gen: Generated) -> None:
    v = gen["vision"]
    table = v.ImageSampleBatch.random(2, 1).to_arrow()
    md = dict(table.schema.metadata)
    md[b"schemac.fingerprint"] = b"0000000000000000"
    with pytest.raises(DecodeError) as e:
        v.ImageSampleBatch.from_arrow(table.replace_schema_metadata(md))
    assert "fingerprint" in str(e.value)


def test_values_out_of_range_in_a_table_are_rejected(gen: Generated) -> None:
    """A table is untrusted input like bytes: the schema's checks run on every row."""
    v = gen["vision"]
    table = v.ImageSampleBatch.random(2, 2).to_arrow()
    i = table.schema.get_field_index("confidence")
    bad = table.set_column(i, table.schema.field(i), pa.array([0.5, 7.0]))
    with pytest.raises(Exception) as e:
        v.ImageSampleBatch.from_arrow(bad)
    assert "confidence" in str(e.value)


def test_duckdb_queries_a_written_parquet_file(gen: Generated, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    v = gen["vision"]
    samples = [v.ImageSample.random(40 + i) for i in range(6)]
    path = tmp_path / "vision.parquet"
    v.ImageSampleBatch.from_samples(samples).write_parquet(path)
    rows = duckdb.sql(
        f"SELECT label, confidence, len(image) FROM '{path}' ORDER BY confidence"
    ).fetchall()
    expected = sorted(((s.label, s.confidence, 224 * 224 * 3) for s in samples), key=lambda r: r[1])
    assert rows == expected

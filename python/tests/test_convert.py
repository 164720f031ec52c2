"""`schemac convert` (Rust, arrow-rs) against the Python runtime's own Arrow conversion
(pyarrow): shards written here become a Parquet file equal to ``Batch.to_arrow()`` of the
same samples, and the file converts back to shards holding the same keys and bytes.

Skipped when pyarrow is missing or the schemac binary was built without the `arrow` feature
(scripts/test.sh builds it with the feature)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, REPO, Generated, schemac_bin

from schemac_runtime import wds as _wds

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CASES = [("vision", "ImageSample"), ("robot", "RobotStep"), ("everything", "Everything")]


def run_convert(*args: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [schemac_bin(), "convert", *args], cwd=REPO, capture_output=True, text=True
    )
    if res.returncode == 2 and "without Arrow support" in res.stderr:
        pytest.skip("schemac was built without the `arrow` feature")
    return res


def plain(table: Any) -> Any:
    cols = [
        c.cast(pa.utf8()) if pa.types.is_dictionary(c.type) else c.combine_chunks()
        for c in table.columns
    ]
    return pa.table(cols, names=table.column_names)


def write_shards(samples: list[Any], prefix: Path, per_shard: int) -> tuple[list[Path], list[str]]:
    paths, keys = [], []
    for start in range(0, len(samples), per_shard):
        path = Path(f"{prefix}-{start // per_shard:06d}.tar")
        with _wds.ShardWriter(path, mtime=0) as w:
            for i, s in enumerate(samples[start : start + per_shard], start):
                key = _wds.make_key(i, prefix="s")
                w.write(key, s.packed)
                keys.append(key)
        paths.append(path)
    return paths, keys


@pytest.mark.parametrize(("stem", "sample"), CASES)
def test_shards_to_parquet_and_back(gen: Generated, tmp_path: Path, stem: str, sample: str) -> None:
    mod = gen[stem]
    cls = getattr(mod, sample)
    batch_cls = getattr(mod, f"{sample}Batch")
    samples = [cls.random(900 + i) for i in range(23)]
    shards, keys = write_shards(samples, tmp_path / "in", per_shard=10)
    schema = str(EXAMPLES / f"{stem}.schema")
    out = tmp_path / "table.parquet"
    res = run_convert(
        "--schema", schema, "--sample", sample, *map(str, shards),
        "--to", "parquet", str(out), "--row-group-size", "8",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert pq.ParquetFile(out).metadata.num_row_groups == 3
    table = pq.read_table(out)
    assert table.column("__key__").to_pylist() == keys
    expected = batch_cls.from_samples(samples).to_arrow()
    got = table.drop_columns(["__key__"])
    # the Rust writer's table is the Python runtime's, column for column, types included
    assert got.schema.equals(expected.schema, check_metadata=False), (got.schema, expected.schema)
    assert got.schema.metadata[b"schemac.fingerprint"] == cls.FINGERPRINT.encode()
    # (Parquet readers re-encode dictionaries per row group: compare enums as strings)
    assert plain(got).equals(plain(expected))
    assert batch_cls.from_arrow(got).to_samples() == samples

    res = run_convert(
        "--schema", schema, "--sample", sample, str(out),
        "--to", "shards", str(tmp_path / "back"), "--shard-size", "20",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    back = sorted(tmp_path.glob("back-*.tar"))
    assert len(back) == 2
    members = [m for p in back for m in _wds.read_shard(p)]
    assert [k for k, _ in members] == keys
    assert [b for _, b in members] == [s.packed for s in samples]


def test_a_parquet_file_of_another_sample_is_refused(gen: Generated, tmp_path: Path) -> None:
    v = gen["vision"]
    out = tmp_path / "vision.parquet"
    v.ImageSampleBatch.from_samples([v.ImageSample.random(1)]).write_parquet(out)
    res = run_convert(
        "--schema", str(EXAMPLES / "robot.schema"), "--sample", "RobotStep", str(out),
        "--to", "shards", str(tmp_path / "x"),
    )  # fmt: skip
    assert res.returncode == 1
    assert "ImageSample" in res.stderr and "RobotStep" in res.stderr


def test_a_bad_sample_in_a_shard_names_its_key(gen: Generated, tmp_path: Path) -> None:
    v = gen["vision"]
    shard = tmp_path / "bad-000000.tar"
    with _wds.ShardWriter(shard, mtime=0) as w:
        w.write("good", v.ImageSample.random(1).packed)
        w.write("cut", v.ImageSample.random(2).packed[:100])
    res = run_convert(
        "--schema", str(EXAMPLES / "vision.schema"), "--sample", "ImageSample", str(shard),
        "--to", "parquet", str(tmp_path / "t.parquet"),
    )  # fmt: skip
    assert res.returncode == 1
    assert "`cut`" in res.stderr

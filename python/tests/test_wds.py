"""WebDataset shards: our writer/reader, determinism, and the real webdataset reader."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from schemac_runtime.errors import DecodeError, SchemaError
from schemac_runtime.wds import (
    ShardWriter,
    as_wds,
    check_key,
    from_wds,
    iter_wds,
    make_key,
    read_shard,
    write_shard,
)
from schemac_runtime.wire import packb

SAMPLES = [(make_key(i), packb({"i": i, "name": f"s{i}"})) for i in range(5)]


def test_keys() -> None:
    assert make_key(42) == "000000042"
    assert make_key(3, "shard0-", width=4) == "shard0-0003"
    assert sorted(make_key(i) for i in (10, 2, 100)) == [make_key(2), make_key(10), make_key(100)]
    check_key("dir/sample_1")
    for bad in ("", "a.b", "dir/a.b", "/abs", "dir/"):
        with pytest.raises(ValueError):
            check_key(bad)


def test_as_from_wds() -> None:
    d = as_wds("k1", b"\x80")
    assert d == {"__key__": "k1", "msgpack": b"\x80"}
    assert from_wds(d) == b"\x80"
    with pytest.raises(SchemaError, match="no 'msgpack' entry"):
        from_wds({"__key__": "k1", "json": b"{}"})


def test_roundtrip_and_member_names(tmp_path: Path) -> None:
    p = tmp_path / "shard-000000.tar"
    assert write_shard(p, SAMPLES, mtime=0) == 5
    assert read_shard(p) == SAMPLES
    with tarfile.open(p) as t:
        names = t.getnames()
        assert names == [f"{k}.msgpack" for k, _ in SAMPLES]
        assert all(m.mtime == 0 and m.uid == 0 for m in t.getmembers())
    assert list(iter_wds(p))[1] == {"__key__": SAMPLES[1][0], "msgpack": SAMPLES[1][1]}


def test_deterministic_with_fixed_mtime() -> None:
    a, b = io.BytesIO(), io.BytesIO()
    write_shard(a, SAMPLES, mtime=1_700_000_000)
    write_shard(b, [as_wds(k, v) for k, v in SAMPLES], mtime=1_700_000_000)
    assert a.getvalue() == b.getvalue()


def test_writer_rejects_duplicates_and_bad_keys() -> None:
    with ShardWriter(io.BytesIO(), mtime=0) as w:
        w.write("a", b"\xc0")
        with pytest.raises(ValueError, match="duplicate"):
            w.write("a", b"\xc0")
        with pytest.raises(ValueError):
            w.write("a.b", b"\xc0")


def test_reader_ignores_other_members_and_rejects_garbage(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("k1.msgpack", b"\x01"), ("k1.json", b"{}"), ("k2.msgpack", b"\x02")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    buf.seek(0)
    assert read_shard(buf) == [("k1", b"\x01"), ("k2", b"\x02")]
    with pytest.raises(DecodeError):
        read_shard(io.BytesIO(b"not a tar file at all" * 40))


def test_real_webdataset_reads_our_shard(tmp_path: Path) -> None:
    wds = pytest.importorskip("webdataset")
    p = tmp_path / "shard-000000.tar"
    write_shard(p, SAMPLES, mtime=0)
    got = [(s["__key__"], s["msgpack"]) for s in wds.WebDataset(str(p), shardshuffle=False)]
    assert got == SAMPLES


def test_we_read_real_webdataset_shard(tmp_path: Path) -> None:
    wds = pytest.importorskip("webdataset")
    p = tmp_path / "theirs.tar"
    with wds.TarWriter(str(p)) as w:
        for k, v in SAMPLES:
            w.write({"__key__": k, "msgpack": v})
    assert read_shard(p) == SAMPLES

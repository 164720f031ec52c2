"""Hostile WebDataset shards for both runtimes' readers, built with ``tarfile`` and byte
surgery (an independent truth), and the verdict each reader must give, stated by hand:
how many samples come out before the error, and the error kind (``-`` for none).

Run from the repository root: ``python3 crates/runtime/tests/data/shards/generate.py``.
Read by crates/runtime/tests/shard.rs (``hostile_shards_match_the_stated_verdicts``) and
python/tests/test_wds.py (same name).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

HERE = Path(__file__).parent


def tar(
    members: list[tuple[str, bytes]], fmt: int = tarfile.GNU_FORMAT, **kw: object
) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            for k, v in kw.items():
                setattr(info, k, v)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def hdr(name: bytes, size: int, flag: bytes = b"0", gnu: bool = True) -> bytes:
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[124:136] = f"{size:011o}\0".encode()
    h[156:157] = flag
    h[257:265] = b"ustar  \0" if gnu else b"ustar\x0000"
    return fix(h)


def fix(h: bytearray) -> bytes:
    h[148:156] = b" " * 8
    h[148:156] = f"{sum(h[:512]):06o}\0 ".encode()
    return bytes(h)


def blocks(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def main() -> None:
    three = tar([(f"k{i}.msgpack", bytes([i]) * 3) for i in range(3)])
    second = 1024  # each member: a header and one data block
    long = b"d" * 120 + b"/k.msgpack"
    gnu_long = hdr(b"././@LongLink", len(long) + 1, b"L") + blocks(long + b"\0")
    size_rec = b"10 size=3\n"
    path_recs = b"99 bogus\n18 path=p.msgpack\n"
    v7 = bytearray(hdr(b"k.msgpack", 0, b"L"))
    v7[257:265] = bytes(8)
    gz = io.BytesIO()
    with tarfile.open(fileobj=gz, mode="w:gz") as t:
        info = tarfile.TarInfo("k.msgpack")
        info.size = 1
        t.addfile(info, io.BytesIO(b"\xc0"))
    huge = bytearray(three)
    h = bytearray(huge[second : second + 512])
    h[124:136] = f"{1 << 30:011o}\0".encode()
    huge[second : second + 512] = fix(h)
    directory = tar([("sub", b"")], type=tarfile.DIRTYPE)[:512]
    bad_sum = bytearray(three)
    bad_sum[second + 10] ^= 0xFF
    cases: dict[str, tuple[bytes, int, str]] = {
        "complete": (three, 3, "-"),
        "no_end_blocks": (three[: 3 * 1024], 3, "-"),
        "cut_in_header": (three[: second + 100], 1, "corrupt_archive"),
        "cut_in_data": (three[: second + 512 + 2], 1, "corrupt_archive"),
        "bad_checksum": (bytes(bad_sum), 1, "corrupt_archive"),
        "size_past_end": (bytes(huge), 1, "corrupt_archive"),
        "gzip": (gz.getvalue(), 0, "corrupt_archive"),
        "garbage": (b"not a tar file at all" * 40, 0, "corrupt_archive"),
        "gnu_long_name": (gnu_long + hdr(b"short", 1) + blocks(b"\xc0"), 1, "-"),
        "gnu_long_name_alone": (gnu_long, 0, "corrupt_archive"),
        "gnu_long_name_then_end": (gnu_long + bytes(1024), 0, "corrupt_archive"),
        "gnu_long_name_twice": (
            gnu_long + gnu_long + hdr(b"x", 0),
            0,
            "corrupt_archive",
        ),
        "pax_size_overrides": (
            hdr(b"pax", len(size_rec), b"x", gnu=False)
            + blocks(size_rec)
            + hdr(b"k.msgpack", 1, gnu=False)
            + blocks(b"abc"),
            1,
            "-",
        ),
        "pax_path_after_bad_record": (
            hdr(b"pax", len(path_recs), b"x", gnu=False)
            + blocks(path_recs)
            + hdr(b"k.msgpack", 1)
            + blocks(b"\x01"),
            1,
            "-",
        ),
        "pax_long_names": (
            tar(
                [("d" * 150 + "/k.msgpack", b"\xc0"), ("sub/x.msgpack", b"\xc0")],
                tarfile.PAX_FORMAT,
            ),
            2,
            "-",
        ),
        "v7_header_with_long_name_flag": (fix(v7), 0, "bad_key"),
        "key_dotdot": (
            tar([("ok.msgpack", b"\xc0"), ("../x.msgpack", b"\xc0")]),
            1,
            "bad_key",
        ),
        "key_absolute": (
            tar([("ok.msgpack", b"\xc0"), ("/abs.msgpack", b"\xc0")]),
            1,
            "bad_key",
        ),
        "key_empty_segment": (
            tar([("ok.msgpack", b"\xc0"), ("a//b.msgpack", b"\xc0")]),
            1,
            "bad_key",
        ),
        "key_empty_last": (
            tar([("ok.msgpack", b"\xc0"), ("dir/.msgpack", b"\xc0")]),
            1,
            "bad_key",
        ),
        "no_extension": (tar([("ok.msgpack", b"\xc0"), ("x", b"\xc0")]), 1, "bad_key"),
        "other_extension": (
            tar([("ok.msgpack", b"\xc0"), ("k.json", b"{}")]),
            1,
            "bad_key",
        ),
        "duplicate_key": (
            tar([("k.msgpack", b"\x01"), ("k.msgpack", b"\x02")]),
            1,
            "bad_key",
        ),
        "symlink": (
            tar([("l.msgpack", b"")], type=tarfile.SYMTYPE, linkname="k.msgpack"),
            0,
            "bad_key",
        ),
        "directory_skipped": (directory + tar([("sub/k.msgpack", b"\xc0")]), 1, "-"),
    }
    expected = {}
    for name, (data, n, kind) in sorted(cases.items()):
        (HERE / f"{name}.tar").write_bytes(data)
        expected[name] = [n, kind]
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()

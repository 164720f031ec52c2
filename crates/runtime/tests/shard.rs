//! WebDataset shards: round trips, shard rolling by count and size, deterministic output,
//! and errors (never panics) for corrupt, truncated and hostile tars.

use schemac_runtime::error::Result;
use schemac_runtime::msgpack::{Reader, Writer};
use schemac_runtime::shard::{ShardError, ShardReader, ShardWriter};
use std::path::{Path, PathBuf};

fn sample(i: u64, len: usize) -> Vec<u8> {
    let mut w = Writer::new();
    w.map_header(2);
    w.str("i");
    w.uint(i);
    w.str("pad");
    w.bin(&vec![(i % 251) as u8; len]);
    w.into_bytes()
}

fn decode_i(bytes: &[u8]) -> Result<u64> {
    let mut r = Reader::new(bytes);
    let mut i = None;
    for _ in 0..r.map_len()? {
        match r.str()? {
            "i" => i = Some(r.u64()?),
            _ => r.skip()?,
        }
    }
    r.finish()?;
    i.ok_or_else(|| schemac_runtime::error::Error::missing_field("i"))
}

fn read_all(paths: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    ShardReader::new(paths.iter().cloned())
        .collect::<std::result::Result<Vec<_>, _>>()
        .unwrap()
}

fn write_tar(path: &Path, members: &[(&str, &[u8])]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn round_trip_with_given_and_generated_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("train"));
    let mut want = Vec::new();
    for i in 0..20u64 {
        let bytes = sample(i, (i as usize * 37) % 700);
        let key = if i % 3 == 0 {
            let k = format!("given/{i:03}");
            w.write(&k, &bytes).unwrap();
            k
        } else {
            w.write_auto(&bytes).unwrap()
        };
        want.push((key, bytes));
    }
    // A long key takes a GNU long-name entry and still round-trips.
    let long = "k".repeat(150);
    w.write(&long, &sample(99, 3)).unwrap();
    want.push((long, sample(99, 3)));
    assert_eq!(w.len(), 21);
    let paths = w.finish().unwrap();
    assert_eq!(paths, vec![dir.path().join("train-000000.tar")]);
    let got = read_all(&paths);
    assert_eq!(got, want);
    // Generated keys are unique, zero-padded and sort in write order.
    let generated: Vec<&String> = want
        .iter()
        .map(|(k, _)| k)
        .filter(|k| k.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(generated[0], "000000001");
    let mut sorted = generated.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, generated);

    // The typed helper.
    let decoded: Vec<(String, u64)> = ShardReader::open(&paths[0])
        .read(decode_i)
        .collect::<std::result::Result<_, _>>()
        .unwrap();
    assert_eq!(decoded.len(), 21);
    assert_eq!(decoded[4].1, 4);
    assert_eq!(decoded[20].1, 99);
}

#[test]
fn empty_writer_writes_no_shard() {
    let dir = tempfile::tempdir().unwrap();
    let w = ShardWriter::new(dir.path().join("x"));
    assert!(w.is_empty());
    assert_eq!(w.finish().unwrap(), Vec::<PathBuf>::new());
    assert_eq!(read_all(&[]), vec![]);
}

#[test]
fn count_limit_rolls_shards() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("s")).max_samples(3);
    for i in 0..10 {
        w.write_auto(&sample(i, 10)).unwrap();
    }
    let paths = w.finish().unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "s-000000.tar",
            "s-000001.tar",
            "s-000002.tar",
            "s-000003.tar"
        ]
    );
    let counts: Vec<usize> = paths
        .iter()
        .map(|p| read_all(std::slice::from_ref(p)).len())
        .collect();
    assert_eq!(counts, [3, 3, 3, 1]);
    // Read across all shards, in order.
    let all: Vec<u64> = ShardReader::new(paths)
        .read(decode_i)
        .map(|r| r.unwrap().1)
        .collect();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
}

#[test]
fn size_limit_rolls_shards() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 4096;
    let mut w = ShardWriter::new(dir.path().join("s")).max_bytes(limit);
    // Each sample is about 1000 bytes: a 512-byte header plus 1024 bytes of data, so two
    // fit with the 1024-byte end-of-archive marker.
    for i in 0..7 {
        w.write_auto(&sample(i, 990)).unwrap();
    }
    // One sample larger than the limit gets a shard of its own.
    w.write_auto(&sample(7, 5000)).unwrap();
    w.write_auto(&sample(8, 10)).unwrap();
    let paths = w.finish().unwrap();
    let sizes: Vec<u64> = paths
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .collect();
    let counts: Vec<usize> = paths
        .iter()
        .map(|p| read_all(std::slice::from_ref(p)).len())
        .collect();
    assert_eq!(counts, [2, 2, 2, 1, 1, 1], "{sizes:?}");
    for (&size, &count) in sizes.iter().zip(&counts) {
        assert!(size <= limit || count == 1, "{sizes:?}");
    }
    assert_eq!(read_all(&paths).len(), 9);
}

#[test]
fn deterministic_mode_is_byte_identical() {
    let run = |dir: &Path| -> Vec<Vec<u8>> {
        let mut w = ShardWriter::new(dir.join("d"))
            .max_samples(4)
            .deterministic(true);
        for i in 0..10 {
            w.write_auto(&sample(i, 100)).unwrap();
        }
        w.finish()
            .unwrap()
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let first = run(a.path());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = run(b.path());
    assert_eq!(first.len(), 3);
    assert_eq!(first, second);
    // The headers hold the fixed values.
    let mut ar = tar::Archive::new(&first[0][..]);
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!(h.mtime().unwrap(), 0);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(h.username().unwrap(), Some("root"));
        assert_eq!(h.groupname().unwrap(), Some("root"));
    }
}

#[test]
fn invalid_and_duplicate_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("k"));
    for bad in ["", "a.b", "d/a.b", "/abs", "a//b", "trailing/", "../up"] {
        assert!(
            matches!(w.write(bad, b"\x80"), Err(ShardError::InvalidKey { .. })),
            "{bad:?}"
        );
    }
    w.write("000000000", b"\x80").unwrap();
    assert!(matches!(
        w.write("000000000", b"\x80"),
        Err(ShardError::DuplicateKey(_))
    ));
    // write_auto skips a generated key that was taken.
    assert_eq!(w.write_auto(b"\x80").unwrap(), "000000001");
    w.write("v1.2/x", b"\x80").unwrap();
    w.finish().unwrap();
}

#[test]
fn not_msgpack_members_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.tar");
    write_tar(&path, &[("a.msgpack", b"\x80"), ("a.json", b"{}")]);
    let mut r = ShardReader::open(&path);
    assert_eq!(
        r.next().unwrap().unwrap(),
        ("a".to_owned(), b"\x80".to_vec())
    );
    match r.next().unwrap() {
        Err(ShardError::NotMsgpack { member, .. }) => assert_eq!(member, "a.json"),
        other => panic!("{other:?}"),
    }
    assert!(r.next().is_none(), "the reader stops after a tar error");
    // Extension after the first dot of the file name, as WebDataset reads it.
    let path = dir.path().join("dots.tar");
    write_tar(&path, &[("a.b.msgpack", b"\x80")]);
    let e = ShardReader::open(&path).next().unwrap().unwrap_err();
    assert!(
        e.to_string()
            .contains("\"a.b.msgpack\" is not a .msgpack sample"),
        "{e}"
    );
    // Directories are skipped.
    let path = dir.path().join("dirs.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&path).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    b.append_data(&mut h, "sub/", &b""[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    b.append_data(&mut h, "sub/x.msgpack", &b"\x80"[..])
        .unwrap();
    b.finish().unwrap();
    drop(b);
    assert_eq!(
        read_all(&[path]),
        vec![("sub/x".to_owned(), b"\x80".to_vec())]
    );
}

#[test]
fn bad_samples_name_their_key_and_reading_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("b"));
    w.write("good0", &sample(0, 1)).unwrap();
    w.write("bad", b"\x81\xa1i").unwrap(); // truncated
    w.write("good2", &sample(2, 1)).unwrap();
    let paths = w.finish().unwrap();
    let results: Vec<_> = ShardReader::new(paths).read(decode_i).collect();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap(), &("good0".to_owned(), 0));
    match &results[1] {
        Err(ShardError::Sample { key, source, path }) => {
            assert_eq!(key, "bad");
            assert!(path.ends_with("b-000000.tar"));
            assert_eq!(source.to_string(), "truncated input");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(results[2].as_ref().unwrap(), &("good2".to_owned(), 2));
    let e = results[1].as_ref().unwrap_err().to_string();
    assert!(e.contains("sample \"bad\""), "{e}");
}

#[test]
fn missing_files_are_io_errors() {
    let e = ShardReader::open("/no/such/shard.tar")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, ShardError::Io { .. }), "{e}");
    let e = ShardWriter::new("/no/such/dir/x")
        .write("a", b"\x80")
        .unwrap_err();
    assert!(matches!(e, ShardError::Io { .. }), "{e}");
}

/// Every truncation and many corruptions: errors or fewer samples, never a panic, and a
/// member cut short is always an error.
#[test]
fn corrupt_and_truncated_tars() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("c")).deterministic(true);
    for i in 0..4 {
        w.write_auto(&sample(i, 700)).unwrap();
    }
    let path = w.finish().unwrap().remove(0);
    let full = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.tar");
    // Each member: a 512-byte header, then `len` bytes of data padded to 1024.
    let len = sample(0, 700).len();
    let member = 512 + 1024;
    // Every cut near a block boundary, and a sample of the others.
    for n in (0..full.len()).filter(|n| n % 512 < 2 || n % 512 > 509 || n % 11 == 0) {
        std::fs::write(&cut, &full[..n]).unwrap();
        let results: Vec<_> = ShardReader::open(&cut).collect();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let errors = results.iter().filter(|r| r.is_err()).count();
        let (k, inside) = (n / member, n % member);
        let (want_ok, want_errors) = if k < 4 {
            // Cut inside a header or a member's data: an error; inside the padding after
            // complete data: that member still reads.
            (
                k + usize::from(inside >= 512 + len),
                usize::from(inside > 0 && inside < 512 + len),
            )
        } else {
            // Inside the end-of-archive blocks: a partial first block is an error; once
            // one whole zero block is there, the archive has ended.
            (4, usize::from(inside % 512 != 0 && inside < 512))
        };
        assert_eq!(
            (ok, errors),
            (want_ok, want_errors),
            "cut at {n}: {results:?}"
        );
        if errors == 1 {
            assert!(results.last().unwrap().is_err(), "the error comes last");
        }
    }
    // Flipped bytes in a header: a checksum error (or, for the checksum itself, a bad one).
    for i in [0usize, 100, 124, 148, 156, 257, 511] {
        let mut b = full.clone();
        b[member + i] ^= 0x5a;
        std::fs::write(&cut, &b).unwrap();
        let results: Vec<_> = ShardReader::open(&cut).collect();
        assert!(results[0].is_ok());
        assert!(
            matches!(results[1], Err(ShardError::Corrupt { .. })),
            "byte {i}: {:?}",
            results[1]
        );
    }
    // Random garbage never panics.
    let mut state = 12345u64;
    for _ in 0..200 {
        let mut b = full.clone();
        for _ in 0..8 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let i = (state >> 33) as usize % b.len();
            b[i] = (state >> 17) as u8;
        }
        std::fs::write(&cut, &b).unwrap();
        let _ = ShardReader::open(&cut).read(decode_i).count();
    }
}

/// A header that declares far more data than the file holds is an error before anything
/// is allocated for it.
#[test]
fn hostile_member_size() {
    let mut header = tar::Header::new_gnu();
    header.set_path("huge.msgpack").unwrap();
    header.set_size(1 << 40);
    header.set_mode(0o644);
    header.set_cksum();
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(&[0u8; 1024]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.tar");
    std::fs::write(&path, &bytes).unwrap();
    let e = ShardReader::open(&path).next().unwrap().unwrap_err();
    match e {
        ShardError::Corrupt { msg, .. } => {
            assert!(msg.contains("declares 1099511627776 bytes"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
}

fn python() -> Option<&'static str> {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import tarfile"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}

/// Shards open with Python's `tarfile` (what webdataset uses), and tars written by
/// `tarfile` (PAX format by default) read back. Skipped without python3.
#[test]
fn python_tarfile_interop() {
    let Some(py) = python() else {
        eprintln!("skipped: no python3");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path().join("py")).deterministic(true);
    w.write("a", &sample(1, 5)).unwrap();
    w.write(&"long".repeat(40), &sample(2, 5)).unwrap();
    let path = w.finish().unwrap().remove(0);
    let out = std::process::Command::new(py)
        .args([
            "-c",
            "import sys, tarfile\n\
             with tarfile.open(sys.argv[1]) as t:\n\
             \x20   for m in t.getmembers():\n\
             \x20       print(m.name, m.size, m.mtime, m.uid, m.uname, oct(m.mode), len(t.extractfile(m).read()))",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8(out.stdout).unwrap();
    let n = sample(1, 5).len();
    assert_eq!(
        listing,
        format!(
            "a.msgpack {n} 0 0 root 0o644 {n}\n{}.msgpack {n} 0 0 root 0o644 {n}\n",
            "long".repeat(40)
        )
    );
    // Python-written (PAX, with a non-ASCII key forcing a PAX header) reads back.
    let pyshard = dir.path().join("written-by-python.tar");
    let status = std::process::Command::new(py)
        .args([
            "-c",
            "import io, sys, tarfile\n\
             with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:\n\
             \x20   for name, data in [('k\u{e9}y', b'\\x80'), ('x' * 120, b'\\x90'), ('plain', b'\\xc0')]:\n\
             \x20       info = tarfile.TarInfo(name + '.msgpack'); info.size = len(data)\n\
             \x20       t.addfile(info, io.BytesIO(data))",
            pyshard.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        read_all(&[pyshard]),
        vec![
            ("k\u{e9}y".to_owned(), b"\x80".to_vec()),
            ("x".repeat(120), b"\x90".to_vec()),
            ("plain".to_owned(), b"\xc0".to_vec()),
        ]
    );
}

/// A tar member with a raw name, written header-first so that names the `tar` crate's
/// builder refuses (`..`, absolute, non-UTF-8) can be planted.
fn raw_member(name: &[u8], ty: tar::EntryType, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.as_mut_bytes()[..name.len()].copy_from_slice(name);
    h.set_entry_type(ty);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// Reads a hand-built shard: the keys before the error, and the error's code.
fn read_bytes(bytes: &[u8]) -> (Vec<String>, Option<&'static str>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.tar");
    std::fs::write(&path, bytes).unwrap();
    let mut keys = Vec::new();
    for m in ShardReader::open(&path) {
        match m {
            Ok((k, _)) => keys.push(k),
            Err(e) => return (keys, Some(e.code())),
        }
    }
    (keys, None)
}

#[test]
fn keys_the_writers_refuse_are_bad_keys() {
    let ok = raw_member(b"ok.msgpack", tar::EntryType::Regular, b"\xc0");
    for name in [
        &b"../x.msgpack"[..],
        b"/abs.msgpack",
        b"a//b.msgpack",
        b"a/../b.msgpack",
        b"dir/.msgpack",
        b"k\xff.msgpack",
        b"x",
        b"k.json",
    ] {
        let mut shard = ok.clone();
        shard.extend(raw_member(name, tar::EntryType::Regular, b"\xc0"));
        shard.extend([0; 1024]);
        assert_eq!(
            read_bytes(&shard),
            (vec!["ok".to_owned()], Some("bad_key")),
            "{}",
            String::from_utf8_lossy(name)
        );
    }
    // A link is not a sample; a directory is skipped.
    let mut shard = raw_member(b"l.msgpack", tar::EntryType::Symlink, b"");
    shard.extend([0; 1024]);
    assert_eq!(read_bytes(&shard), (vec![], Some("bad_key")));
    let mut shard = raw_member(b"sub/", tar::EntryType::Directory, b"");
    shard.extend(ok.clone());
    assert_eq!(read_bytes(&shard), (vec!["ok".to_owned()], None));
}

#[test]
fn a_key_twice_in_one_shard_is_a_bad_key() {
    let ok = raw_member(b"k.msgpack", tar::EntryType::Regular, b"\xc0");
    let mut shard = ok.clone();
    shard.extend(ok.clone());
    assert_eq!(read_bytes(&shard), (vec!["k".to_owned()], Some("bad_key")));
    // Uniqueness is per shard: the same key in two shards reads.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.tar"), dir.path().join("b.tar"));
    std::fs::write(&a, &ok).unwrap();
    std::fs::write(&b, &ok).unwrap();
    assert_eq!(read_all(&[a, b]).len(), 2);
}

#[test]
fn gzipped_shards_are_corrupt_archives() {
    // The gzip magic and a deflate header: what `tar czf` writes first.
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03];
    gz.extend([0x55; 600]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.tar.gz");
    std::fs::write(&path, &gz).unwrap();
    let e = ShardReader::open(&path).next().unwrap().unwrap_err();
    assert_eq!(e.code(), "corrupt_archive");
    assert!(e.to_string().contains("gzip"), "{e}");
}

#[test]
fn error_codes_are_the_shared_vocabulary() {
    let mut shard = raw_member(b"k.msgpack", tar::EntryType::Regular, b"\xc0");
    shard.truncate(300);
    assert_eq!(read_bytes(&shard), (vec![], Some("corrupt_archive")));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.tar");
    let mut w = ShardWriter::new(dir.path().join("w"));
    assert_eq!(w.write("../x", b"").unwrap_err().code(), "bad_key");
    w.write("a", b"\xc0").unwrap();
    assert_eq!(w.write("a", b"").unwrap_err().code(), "bad_key");
    std::fs::write(
        &path,
        raw_member(b"k.msgpack", tar::EntryType::Regular, b"\xc1"),
    )
    .unwrap();
    let e = ShardReader::open(&path)
        .read(decode_i)
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, ShardError::Sample { .. }), "{e}");
    assert_eq!(e.code(), "malformed");
}

/// The hostile shards of tests/data/shards (built by its generate.py with Python's
/// `tarfile` and byte surgery) give the verdicts stated there: samples read before the
/// error, and the error's code. python/tests/test_wds.py checks the Python reader against
/// the same files.
#[test]
fn hostile_shards_match_the_stated_verdicts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/shards");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    assert!(expected.len() >= 25);
    for (name, want) in expected {
        let mut n = 0;
        let mut kind = "-";
        for m in ShardReader::open(dir.join(format!("{name}.tar"))) {
            match m {
                Ok(_) => n += 1,
                Err(e) => kind = e.code(),
            }
        }
        assert_eq!(
            (n, kind),
            (want[0].as_u64().unwrap(), want[1].as_str().unwrap()),
            "{name}"
        );
    }
}

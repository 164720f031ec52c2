//! The conformance runners' shared half: a [`Verdict`] type both runtimes are judged by,
//! the dynamic-codec runner ([`codec`]), the generated-Rust runner ([`generated`], built
//! from `conformance/schemas` by build.rs), and the corpus and known-failures loaders the
//! `cargo test` runner (`tests/corpus.rs`) and the `conformance-testee` binary use.
//!
//! A verdict is the outcome on one input: accepted, with the canonical msgpack re-encoding
//! and the JSON value of the sample, or rejected with an error kind from the closed
//! vocabulary in `conformance/README.md` and the field path. A panic is a verdict too
//! (always a failure), so one bad case cannot hide the others.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use schemac::codec::{Codec, Format};
use schemac_runtime::error::{Error, ErrorKind};
use serde_json::{json, Value as Json};

include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));

/// The repository's `conformance/` folder.
pub fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

/// What one runtime made of one input.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Accepted: the canonical msgpack re-encoding and the JSON value written back.
    Ok { msgpack: Vec<u8>, json: Json },
    /// Rejected with `kind` at `path`; `message` is for people, never compared.
    Err {
        kind: String,
        path: String,
        message: String,
    },
    /// A shard read to its end: `(key, canonical msgpack)` per sample, in tar order.
    Samples(Vec<(String, Vec<u8>)>),
    /// A safetensors batch loaded: each row's canonical msgpack.
    Rows(Vec<Vec<u8>>),
    /// The runtime panicked (or could not write back what it accepted).
    Panic(String),
}

impl Verdict {
    pub fn to_json(&self) -> Json {
        match self {
            Verdict::Ok { msgpack, json } => {
                json!({"ok": {"msgpack": hex(msgpack), "json": json}})
            }
            Verdict::Err {
                kind,
                path,
                message,
            } => json!({"error": {"kind": kind, "path": path, "message": message}}),
            Verdict::Samples(s) => {
                let s: Vec<Json> = s.iter().map(|(k, b)| json!([k, hex(b)])).collect();
                json!({"ok": {"samples": s}})
            }
            Verdict::Rows(r) => {
                let r: Vec<String> = r.iter().map(|b| hex(b)).collect();
                json!({"ok": {"rows": r}})
            }
            Verdict::Panic(m) => json!({"panic": m}),
        }
    }

    /// Equal as far as conformance is concerned (messages are not compared).
    pub fn same(&self, other: &Verdict) -> bool {
        match (self, other) {
            (
                Verdict::Ok { msgpack, json },
                Verdict::Ok {
                    msgpack: m2,
                    json: j2,
                },
            ) => msgpack == m2 && json == j2,
            (
                Verdict::Err { kind, path, .. },
                Verdict::Err {
                    kind: k2, path: p2, ..
                },
            ) => kind == k2 && path == p2,
            (Verdict::Samples(a), Verdict::Samples(b)) => a == b,
            (Verdict::Rows(a), Verdict::Rows(b)) => a == b,
            _ => false,
        }
    }

    /// The expected outcome of a corpus case (`{"ok": ...}` or `{"error": ...}`).
    pub fn from_expect(expect: &Json) -> Result<Verdict, String> {
        if let Some(ok) = expect.get("ok") {
            if let Some(samples) = ok.get("samples") {
                let pair = |p: &Json| -> Result<(String, Vec<u8>), String> {
                    match (
                        p.get(0).and_then(Json::as_str),
                        p.get(1).and_then(Json::as_str),
                    ) {
                        (Some(k), Some(h)) => Ok((k.to_string(), unhex(h)?)),
                        _ => Err(format!("ok.samples entry {p}")),
                    }
                };
                let list = samples.as_array().ok_or("ok.samples")?;
                return Ok(Verdict::Samples(
                    list.iter().map(pair).collect::<Result<_, _>>()?,
                ));
            }
            if let Some(rows) = ok.get("rows") {
                let list = rows.as_array().ok_or("ok.rows")?;
                return Ok(Verdict::Rows(
                    list.iter()
                        .map(|h| {
                            h.as_str()
                                .ok_or("ok.rows entry".to_string())
                                .and_then(unhex)
                        })
                        .collect::<Result<_, _>>()?,
                ));
            }
            let msgpack = ok
                .get("msgpack")
                .and_then(Json::as_str)
                .ok_or("ok.msgpack")?;
            return Ok(Verdict::Ok {
                msgpack: unhex(msgpack)?,
                json: ok.get("json").cloned().ok_or("ok.json")?,
            });
        }
        if let Some(e) = expect.get("error") {
            let s = |k: &str| {
                e.get(k)
                    .and_then(Json::as_str)
                    .map(str::to_owned)
                    .ok_or(format!("error.{k}"))
            };
            return Ok(Verdict::Err {
                kind: s("kind")?,
                path: s("path")?,
                message: String::new(),
            });
        }
        Err(format!("expect is neither ok nor error: {expect}"))
    }
}

/// The vocabulary string of an error's kind (`ErrorKind::code()`).
pub fn kind_code(e: &Error) -> String {
    e.kind().code().to_string()
}

fn err_verdict(e: &Error) -> Verdict {
    Verdict::Err {
        kind: kind_code(e),
        path: e.path().to_string(),
        message: e.to_string(),
    }
}

fn guard(f: impl FnOnce() -> Verdict) -> Verdict {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => Verdict::Panic(
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into()),
        ),
    }
}

/// Used by the generated dispatch: a decode result and how to write an accepted value back.
fn outcome<T>(r: Result<T, Error>, back: impl FnOnce(&T) -> (Vec<u8>, String)) -> Verdict {
    match r {
        Ok(v) => {
            let (msgpack, text) = back(&v);
            match serde_json::from_str(&text) {
                Ok(json) => Verdict::Ok { msgpack, json },
                Err(e) => Verdict::Panic(format!("accepted, but wrote invalid JSON {text:?}: {e}")),
            }
        }
        Err(e) => err_verdict(&e),
    }
}

/// A safetensors error: every path is `""` in a case (conformance/README.md); the
/// runtimes name a file or tensor there, which says nothing about the data.
fn archive_err(e: &Error) -> Verdict {
    Verdict::Err {
        kind: kind_code(e),
        path: String::new(),
        message: e.to_string(),
    }
}

/// `bytes` written to a fresh temporary file (the shard reader reads paths only), removed
/// when the returned guard drops.
struct TempFile(PathBuf);

impl TempFile {
    fn new(bytes: &[u8], ext: &str) -> Result<TempFile, String> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!(
            "schemac-conformance-{}-{n}.{ext}",
            std::process::id()
        ));
        std::fs::write(&p, bytes).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(TempFile(p))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads the tar bytes `input` with `ShardReader`, decoding every member with `decode` and
/// writing it back with `back`; the first error ends the read. A member that does not
/// decode keeps its own kind and path; archive errors have the path `""`.
fn shard_outcome<T>(
    input: &[u8],
    decode: impl FnMut(&[u8]) -> Result<T, Error>,
    back: impl Fn(&T) -> Vec<u8>,
) -> Verdict {
    use schemac_runtime::shard::{ShardError, ShardReader};
    let file = match TempFile::new(input, "tar") {
        Ok(f) => f,
        Err(m) => return Verdict::Panic(m),
    };
    let mut out = Vec::new();
    for item in ShardReader::open(&file.0).read(decode) {
        match item {
            Ok((key, v)) => out.push((key, back(&v))),
            Err(e) => {
                let path = match &e {
                    ShardError::Sample { source, .. } => source.path().to_string(),
                    _ => String::new(),
                };
                let kind = e.code().to_string();
                return Verdict::Err {
                    kind,
                    path,
                    message: e.to_string(),
                };
            }
        }
    }
    Verdict::Samples(out)
}

/// A loaded batch's rows, or the first row that does not decode.
fn rows_outcome(rows: impl Iterator<Item = Result<Vec<u8>, Error>>) -> Verdict {
    match rows.collect::<Result<Vec<_>, _>>() {
        Ok(r) => Verdict::Rows(r),
        Err(e) => archive_err(&e),
    }
}

/// JSON input for readers that take `&str`: text that is not UTF-8 is not JSON, so the
/// runner reports it as `malformed` at the sample (what the byte-level readers do).
fn json_text<'a>(input: &'a [u8], sample: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(input).map_err(|e| {
        // The first structural fault in byte order, as the byte-level readers find it
        // (a duplicate key before the bad bytes wins); else `malformed`.
        let mut path = Vec::new();
        match schemac_runtime::json::check_structure(input, &mut path) {
            Err(f) if matches!(f.kind(), ErrorKind::DuplicateKey(_)) => {
                f.at(&schemac_runtime::msgpack::render_path(sample, &path))
            }
            Err(f) => f.at(sample),
            Ok(()) => Error::custom(format!("JSON text is not UTF-8: {e}")).at(sample),
        }
    })
}

/// Runs `input` through the generated Rust; `None` for an unknown sample or format.
pub fn run_generated(schema: &str, sample: &str, format: &str, input: &[u8]) -> Option<Verdict> {
    let mut known = true;
    let v = guard(|| match generated(schema, sample, format, input) {
        Some(v) => v,
        None => {
            known = false;
            Verdict::Panic(String::new())
        }
    });
    known.then_some(v)
}

fn schemas() -> &'static HashMap<String, schemac::ir::Schema> {
    static S: OnceLock<HashMap<String, schemac::ir::Schema>> = OnceLock::new();
    S.get_or_init(|| {
        let mut out = HashMap::new();
        let dirs = [
            conformance_dir().join("schemas"),
            conformance_dir().join("../examples/schemas"),
        ];
        for e in dirs
            .iter()
            .flat_map(|d| std::fs::read_dir(d).expect("schema dir"))
        {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "schema") {
                let c = schemac::compile_file(&p).unwrap_or_else(|f| panic!("{}", f.render(false)));
                let stem = p.file_stem().and_then(|s| s.to_str()).expect("stem");
                out.insert(stem.to_string(), c.schema);
            }
        }
        out
    })
}

/// Runs `input` through the dynamic codec; `None` for an unknown sample or format.
pub fn run_codec(schema: &str, sample: &str, format: &str, input: &[u8]) -> Option<Verdict> {
    let ir = schemas().get(schema)?;
    let codec = Codec::new(ir, sample).ok()?;
    if format == "shard" {
        return Some(guard(|| {
            shard_outcome(
                input,
                |b| codec.decode(b, Format::Msgpack),
                |v| codec.encode(v, Format::Msgpack).unwrap_or_default(),
            )
        }));
    }
    let format = Format::ALL.into_iter().find(|f| f.name() == format)?;
    if format == Format::Packed && codec.aggregate().is_none() {
        return None;
    }
    Some(guard(|| match codec.decode(input, format) {
        Ok(v) => {
            let msgpack = match codec.encode(&v, Format::Msgpack) {
                Ok(b) => b,
                Err(e) => return Verdict::Panic(format!("accepted, but cannot re-encode: {e}")),
            };
            match codec.to_json_string(&v, false) {
                Ok(text) => match serde_json::from_str(&text) {
                    Ok(json) => Verdict::Ok { msgpack, json },
                    Err(e) => {
                        Verdict::Panic(format!("accepted, but wrote invalid JSON {text:?}: {e}"))
                    }
                },
                Err(e) => Verdict::Panic(format!("accepted, but cannot write JSON: {e}")),
            }
        }
        Err(e) => err_verdict(&e),
    }))
}

/// One corpus case.
#[derive(Clone, Debug)]
pub struct Case {
    pub id: String,
    pub schema: String,
    pub sample: String,
    pub format: String,
    pub input: Vec<u8>,
    pub expect: Verdict,
}

/// Every case of `conformance/cases/*.json`, in file then case order.
pub fn load_cases() -> Vec<Case> {
    let dir = conformance_dir().join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read case file");
        let doc: Json =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for c in doc["cases"].as_array().expect("cases") {
            let s = |k: &str| {
                c[k].as_str()
                    .unwrap_or_else(|| panic!("{c}: {k}"))
                    .to_string()
            };
            let input = match (c.get("input_hex"), c.get("input_text")) {
                (Some(h), None) => unhex(h.as_str().expect("input_hex")).expect("hex"),
                (None, Some(t)) => t.as_str().expect("input_text").as_bytes().to_vec(),
                _ => panic!("{c}: exactly one of input_hex / input_text"),
            };
            out.push(Case {
                id: s("id"),
                schema: s("schema"),
                sample: s("sample"),
                format: s("format"),
                input,
                expect: Verdict::from_expect(&c["expect"]).unwrap_or_else(|e| panic!("{c}: {e}")),
            });
        }
    }
    out
}

/// `conformance/known_failures_<lang>.txt`: `(case id, testee)` → why. Lines are
/// `<case id> <testee> <why...>`; `#` starts a comment.
pub fn load_known(lang: &str) -> HashMap<(String, String), String> {
    let p = conformance_dir().join(format!("known_failures_{lang}.txt"));
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut it = line.splitn(3, ' ');
        let id = it.next().unwrap_or_default().to_string();
        let testee = it.next().unwrap_or_default().to_string();
        let why = it.next().unwrap_or_default().trim().to_string();
        out.insert((id, testee), why);
    }
    out
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err(format!("odd-length hex {s:?}"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("hex {s:?}: {e}")))
        .collect()
}

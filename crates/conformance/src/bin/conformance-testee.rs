//! `conformance-testee`: answers for the dynamic codec and the generated Rust over
//! stdin/stdout, so other languages' tests (python/tests/test_differential.py) can compare
//! verdicts without a process per input.
//!
//! Each stdin line is a JSON request `{"schema", "sample", "format", "input"}` (input in
//! hex); each stdout line is `{"codec": verdict, "rust": verdict}` with a verdict as in
//! the corpus (`{"ok": {"msgpack", "json"}}`, `{"error": {"kind", "path", "message"}}`),
//! `{"panic": message}`, or `null` where that runtime has no such sample or format. A line
//! that is not a request gets `{"bad_request": message}`. Output is flushed per line.

use std::io::{BufRead, Write};

use conformance::{run_codec, run_generated, unhex, Verdict};
use serde_json::{json, Value as Json};

fn answer(line: &str) -> Json {
    let req: Json = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => return json!({"bad_request": e.to_string()}),
    };
    let field = |k: &str| req.get(k).and_then(Json::as_str).unwrap_or_default();
    let input = match unhex(field("input")) {
        Ok(b) => b,
        Err(e) => return json!({"bad_request": e}),
    };
    let (schema, sample, format) = (field("schema"), field("sample"), field("format"));
    let show = |v: Option<Verdict>| v.map_or(Json::Null, |v| v.to_json());
    json!({
        "codec": show(run_codec(schema, sample, format, &input)),
        "rust": show(run_generated(schema, sample, format, &input)),
    })
}

fn main() {
    // Panics are verdicts (caught per runtime); keep their default report off stderr noise.
    std::panic::set_hook(Box::new(|_| {}));
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let a = answer(&line);
        if writeln!(out, "{a}").and_then(|()| out.flush()).is_err() {
            break;
        }
    }
}

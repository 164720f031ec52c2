//! Runs every case of `conformance/cases/*.json` through the dynamic codec and the
//! generated Rust, and compares each verdict with the case's expected outcome.
//!
//! `conformance/known_failures_rust.txt` lists `(case, testee)` pairs that are known to
//! fail, with why. The test fails on a failure that is not listed and on a listed pair that
//! now passes, so the list can only shrink. `CONFORMANCE_WRITE_KNOWN=1` rewrites the list
//! from the current failures (review the diff: it must only lose lines).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use conformance::{conformance_dir, load_cases, load_known, run_codec, run_generated, Verdict};

fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Ok { msgpack, json } => {
            format!("ok msgpack={} json={json}", conformance::hex(msgpack))
        }
        Verdict::Err {
            kind,
            path,
            message,
        } => format!("error {kind} at {path:?} ({message})"),
        Verdict::Samples(_) | Verdict::Rows(_) => format!("ok {}", v.to_json()),
        Verdict::Panic(m) => format!("panic: {m}"),
    }
}

fn brief(v: &Verdict) -> String {
    match v {
        Verdict::Ok { .. } | Verdict::Samples(_) | Verdict::Rows(_) => "accepted".into(),
        Verdict::Err { kind, path, .. } => format!("{kind} at {path}"),
        Verdict::Panic(m) => format!("panic: {}", m.lines().next().unwrap_or_default()),
    }
}

#[test]
fn corpus() {
    let cases = load_cases();
    assert!(cases.len() >= 300, "the corpus has {} cases", cases.len());
    let known = load_known("rust");
    let mut failures: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut report = String::new();
    let mut ran = 0;
    for case in &cases {
        for (testee, got) in [
            (
                "codec",
                run_codec(&case.schema, &case.sample, &case.format, &case.input),
            ),
            (
                "rust",
                run_generated(&case.schema, &case.sample, &case.format, &case.input),
            ),
        ] {
            // The dynamic codec has no batch layouts: safetensors files are generated-code only.
            if testee == "codec" && case.format == "safetensors" {
                continue;
            }
            let got = got.unwrap_or_else(|| {
                panic!(
                    "{}: {testee} has no sample {}/{} or format {}",
                    case.id, case.schema, case.sample, case.format
                )
            });
            ran += 1;
            if !got.same(&case.expect) {
                let why = format!("expected {}, got {}", brief(&case.expect), brief(&got));
                writeln!(
                    report,
                    "{} [{testee}]\n    expected {}\n    got      {}",
                    case.id,
                    describe(&case.expect),
                    describe(&got)
                )
                .unwrap();
                failures.insert((case.id.clone(), testee.to_string()), why);
            }
        }
    }
    if std::env::var_os("CONFORMANCE_WRITE_KNOWN").is_some() {
        let mut text = String::from(
            "# Conformance cases the Rust runtimes fail today: `<case id> <testee> <why>`.\n\
             # The runner fails if a listed case passes, so delete lines as fixes land.\n",
        );
        for ((id, testee), why) in &failures {
            writeln!(text, "{id} {testee} {why}").unwrap();
        }
        std::fs::write(conformance_dir().join("known_failures_rust.txt"), text).unwrap();
    }
    let ids: std::collections::HashSet<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    let stray: Vec<_> = known
        .keys()
        .filter(|(id, testee)| {
            !ids.contains(id.as_str()) || !["codec", "rust"].contains(&testee.as_str())
        })
        .collect();
    assert!(
        stray.is_empty(),
        "known_failures_rust.txt names no such case or testee: {stray:?}"
    );
    let unexpected: Vec<_> = failures
        .keys()
        .filter(|k| !known.contains_key(*k))
        .collect();
    let fixed: Vec<_> = known
        .keys()
        .filter(|k| !failures.contains_key(*k))
        .collect();
    eprintln!(
        "{ran} verdicts over {} cases: {} failing ({} listed as known)",
        cases.len(),
        failures.len(),
        failures.len() - unexpected.len()
    );
    if !unexpected.is_empty() || !fixed.is_empty() {
        let mut msg = String::new();
        for (id, testee) in &unexpected {
            writeln!(
                msg,
                "FAIL (not in known_failures_rust.txt): {id} [{testee}]"
            )
            .unwrap();
        }
        for (id, testee) in &fixed {
            writeln!(
                msg,
                "PASSES NOW (remove from known_failures_rust.txt): {id} {testee}"
            )
            .unwrap();
        }
        panic!("{msg}\n{report}");
    }
}

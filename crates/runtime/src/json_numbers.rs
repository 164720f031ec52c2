//! JSON numbers that serde_json cannot read as written: integers past i64/u64 (which it
//! rounds to an f64, so `-9223372036854775809` would pass as `i64::MIN`) and numbers past
//! f64 (`1e999`, which it refuses while parsing, before any field is known).
//!
//! docs/language.md ("JSON text") makes both a fault of the *field* they are read for:
//! `out_of_range` for a number field, the usual `wrong_type` for a str or bool field, and
//! nothing at all under an ignored key, exactly as the Python runtime reads them.
//!
//! How: [`with_wide_numbers`] scans the text once. When it finds such a number (rare), it
//! hands the reader a copy of the text in which each one is replaced by a placeholder
//! integer that occurs nowhere else in the text, and installs a per-thread table from
//! placeholder to the original number. The number readers (the generated Rust's scalar and
//! array readers, the dynamic codec) look a non-negative integer up with [`scalar_for`]
//! before using it. Because the placeholder is unique in its text, a lookup can never
//! mistake a number the user wrote for a replaced one. Inputs without such numbers are read
//! as given, at the cost of one byte scan.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use crate::array::Scalar;
use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind};

/// A number token the JSON text held, as written, and its value where an f64 has one.
#[derive(Clone, Debug, PartialEq)]
pub struct WideNumber {
    /// The token as written (`1e999`, `-9223372036854775809`).
    pub text: String,
    /// The nearest f64 for an integer past i64/u64; `None` past f64.
    pub finite: Option<f64>,
}

thread_local! {
    /// Whether a table is installed: the readers' fast path checks only this.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    /// Placeholder → number, for the text being read on this thread.
    static TABLE: RefCell<Vec<(u64, WideNumber)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `read` on `text`, or, when `text` holds numbers past i64/u64 or past f64, on a copy
/// with placeholders while the table that resolves them is installed (see the module
/// docs). The copy has the same length as `text` unless the text uses up every placeholder
/// of a token's width, so error columns stay where the user's bytes are.
pub fn with_wide_numbers<R>(text: &[u8], read: impl FnOnce(&[u8]) -> R) -> R {
    let mut wide = Vec::new();
    for_each_number(text, |start, end| {
        if let Some(finite) = wide_value(&text[start..end]) {
            wide.push((start, end, finite));
        }
    });
    if wide.is_empty() {
        return read(text);
    }
    let (rewritten, table) = rewrite(text, &wide);
    let _installed = Installed::new(table);
    read(&rewritten)
}

/// The number a placeholder stands for, while [`with_wide_numbers`] runs on this thread.
pub fn lookup(placeholder: u64) -> Option<WideNumber> {
    if !ACTIVE.with(Cell::get) {
        return None;
    }
    // Sorted by placeholder (`rewrite`): a text of n wide numbers costs O(n log n).
    TABLE.with(|t| {
        let t = t.borrow();
        t.binary_search_by_key(&placeholder, |(p, _)| *p)
            .ok()
            .map(|i| t[i].1.clone())
    })
}

/// A non-negative JSON integer `u` read for a number of `dtype`: `Scalar::UInt(u)`, or for
/// a placeholder its f64 (float dtypes, an integer past i64/u64) or `OutOfRange` showing
/// the number as written (integer dtypes, and any number past f64).
#[inline]
pub fn scalar_for(u: u64, dtype: Dtype) -> Result<Scalar, Error> {
    match lookup(u) {
        None => Ok(Scalar::UInt(u)),
        Some(w) => resolve(w, dtype),
    }
}

#[cold]
fn resolve(w: WideNumber, dtype: Dtype) -> Result<Scalar, Error> {
    match w.finite {
        Some(f) if dtype.is_float() => Ok(Scalar::Float(f)),
        _ => Err(Error::new(ErrorKind::OutOfRange {
            value: w.text,
            expected: dtype.name().to_owned(),
        })),
    }
}

/// Whether `u` is a placeholder (a number past i64/u64 or f64) on this thread now.
#[inline]
pub fn is_wide(u: u64) -> bool {
    lookup(u).is_some()
}

/// Installs a table for the life of the value, restoring the previous one on drop (also
/// when the reader panics).
struct Installed {
    previous: Vec<(u64, WideNumber)>,
    was_active: bool,
}

impl Installed {
    fn new(table: Vec<(u64, WideNumber)>) -> Self {
        let previous = TABLE.with(|t| std::mem::replace(&mut *t.borrow_mut(), table));
        let was_active = ACTIVE.with(|a| a.replace(true));
        Installed {
            previous,
            was_active,
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        TABLE.with(|t| *t.borrow_mut() = std::mem::take(&mut self.previous));
        ACTIVE.with(|a| a.set(self.was_active));
    }
}

/// Calls `f(start, end)` for every run of number characters outside strings. On text that
/// is not JSON the runs may be odd; that is harmless, since only runs that are exactly a
/// JSON number are ever replaced, by another number.
fn for_each_number(text: &[u8], mut f: impl FnMut(usize, usize)) {
    let n = text.len();
    let mut i = 0;
    while i < n {
        match text[i] {
            b'"' => {
                i += 1;
                while i < n {
                    match text[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < n && matches!(text[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                f(start, i);
            }
            _ => i += 1,
        }
    }
}

/// For a token serde_json cannot read as written: `Some(Some(f))` for an integer past
/// i64/u64 whose nearest f64 is `f`, `Some(None)` for a number past f64. `None` for every
/// other token, the ones that are not JSON numbers included.
fn wide_value(token: &[u8]) -> Option<Option<f64>> {
    let shape = number_shape(token)?;
    // Cheap filters first: every wide number is long or has a large exponent.
    match shape {
        Shape::Integer if token.len() < 19 => return None,
        Shape::Float { exponent } if token.len().saturating_add(exponent) < 300 => return None,
        _ => {}
    }
    let s = std::str::from_utf8(token).ok()?;
    if shape == Shape::Integer {
        let fits = if s.starts_with('-') {
            s.parse::<i64>().is_ok()
        } else {
            s.parse::<u64>().is_ok()
        };
        if fits {
            return None;
        }
        let f: f64 = s.parse().ok()?;
        return Some(f.is_finite().then_some(f));
    }
    let f: f64 = s.parse().ok()?;
    (!f.is_finite()).then_some(None)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Integer,
    /// A fraction or exponent; `exponent` is the positive exponent (saturating), else 0.
    Float {
        exponent: usize,
    },
}

/// The RFC 8259 number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number_shape(t: &[u8]) -> Option<Shape> {
    let digits = |from: usize| t[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut i = usize::from(t.first() == Some(&b'-'));
    match t.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i += digits(i),
        _ => return None,
    }
    let mut shape = Shape::Integer;
    if t.get(i) == Some(&b'.') {
        let k = digits(i + 1);
        if k == 0 {
            return None;
        }
        i += 1 + k;
        shape = Shape::Float { exponent: 0 };
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative = t.get(i) == Some(&b'-');
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let k = digits(i);
        if k == 0 {
            return None;
        }
        let exponent = if negative {
            0
        } else {
            t[i..i + k].iter().fold(0usize, |acc, b| {
                acc.saturating_mul(10).saturating_add(usize::from(b - b'0'))
            })
        };
        i += k;
        shape = Shape::Float { exponent };
    }
    (i == t.len()).then_some(shape)
}

/// The text with each wide token replaced by a placeholder no other integer in the text
/// equals, padded with spaces to the token's width, and the table resolving them.
fn rewrite(text: &[u8], wide: &[(usize, usize, Option<f64>)]) -> (Vec<u8>, Vec<(u64, WideNumber)>) {
    let mut taken = HashSet::new();
    for_each_number(text, |start, end| {
        let t = &text[start..end];
        if number_shape(t) == Some(Shape::Integer) && t.len() <= 20 {
            if let Some(u) = std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
            {
                taken.insert(u);
            }
        }
    });
    let mut out = Vec::with_capacity(text.len());
    let mut table = Vec::with_capacity(wide.len());
    let mut at = 0;
    // Per width, the next candidate: the search resumes where the last one stopped, so n
    // wide numbers cost O(n + numbers in the text), not O(n^2).
    let mut next = std::collections::HashMap::new();
    for &(start, end, finite) in wide {
        // The smallest free number of the token's width (wide tokens are at least five
        // characters), counting up past it only if the text has used every one.
        let width = (end - start).min(19) as u32;
        let p = next.entry(width).or_insert_with(|| 10u64.pow(width - 1));
        while !taken.insert(*p) {
            *p += 1;
        }
        let p = *p;
        out.extend_from_slice(&text[at..start]);
        let digits = p.to_string();
        out.extend_from_slice(digits.as_bytes());
        out.resize(out.len() + (end - start).saturating_sub(digits.len()), b' ');
        at = end;
        table.push((
            p,
            WideNumber {
                text: String::from_utf8_lossy(&text[start..end]).into_owned(),
                finite,
            },
        ));
    }
    out.extend_from_slice(&text[at..]);
    table.sort_unstable_by_key(|(p, _)| *p);
    (out, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide_tokens(text: &str) -> Vec<(String, Option<f64>)> {
        let mut v = Vec::new();
        for_each_number(text.as_bytes(), |s, e| {
            if let Some(f) = wide_value(&text.as_bytes()[s..e]) {
                v.push((text[s..e].to_owned(), f));
            }
        });
        v
    }

    #[test]
    fn finds_exactly_the_numbers_serde_json_cannot_read_as_written() {
        let text = r#"{"a": 1e999, "b": -9223372036854775809, "c": 18446744073709551615,
            "d": -9223372036854775808, "e": "1e999", "f": [1.5e308, -2e308, 1e-999, 0e999],
            "g\"1e999": 18446744073709551616}"#;
        assert_eq!(
            wide_tokens(text),
            vec![
                ("1e999".to_owned(), None),
                (
                    "-9223372036854775809".to_owned(),
                    Some(-9223372036854775809.0)
                ),
                ("-2e308".to_owned(), None),
                (
                    "18446744073709551616".to_owned(),
                    Some(18446744073709551616.0)
                ),
            ]
        );
    }

    #[test]
    fn a_huge_exponent_is_past_f64_not_an_overflow() {
        let t = "1e9999223372036854775809999999";
        assert_eq!(wide_tokens(t), vec![(t.to_owned(), None)]);
    }

    #[test]
    fn any_text_is_scanned_without_panics_and_kept_when_nothing_is_wide() {
        // A seeded loop over JSON-like junk (the differential test and the `codec` fuzz
        // target drive the readers; this drives the scanner and the rewrite alone).
        let pieces: &[&[u8]] = &[
            b"0",
            b"7",
            b"-",
            b"+",
            b".",
            b"e",
            b"E",
            b"\"",
            b"\\",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b" ",
            b"u",
            b"x",
            b"1e999",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"1e99999999999999999999999999",
            b"10000",
            b"1000000000000000000",
        ];
        let mut rng = crate::rng::Rng::new(9);
        let mut wide_texts = 0;
        for _ in 0..20_000 {
            let n = rng.range_i64(0, 24) as usize;
            let text: Vec<u8> = (0..n)
                .flat_map(|_| pieces[rng.range_i64(0, pieces.len() as i64 - 1) as usize])
                .copied()
                .collect();
            let seen = with_wide_numbers(&text, |t| t.to_vec());
            let mut wide = false;
            for_each_number(&text, |s, e| wide |= wide_value(&text[s..e]).is_some());
            if wide {
                wide_texts += 1;
            } else {
                assert_eq!(seen, text);
            }
            assert!(seen.len() >= text.len());
        }
        assert!(wide_texts > 1_000, "{wide_texts}");
    }

    #[test]
    fn many_wide_numbers_cost_about_linear_time() {
        // 200,000 of them: quadratic placeholder search or lookup would take minutes.
        let n = 200_000;
        let mut text = b"[".to_vec();
        for i in 0..n {
            text.extend_from_slice(if i % 2 == 0 {
                b"1e999,"
            } else {
                b"-9223372036854775809,"
            });
        }
        text.extend_from_slice(b"0]");
        let found = with_wide_numbers(&text, |t| {
            let mut k = 0;
            for_each_number(t, |s, e| {
                let u: u64 = std::str::from_utf8(&t[s..e]).unwrap().parse().unwrap();
                k += usize::from(is_wide(u));
            });
            k
        });
        assert_eq!(found, n);
    }

    #[test]
    fn an_integer_past_f64_is_past_f64() {
        let big = "9".repeat(400);
        assert_eq!(wide_tokens(&big), vec![(big.clone(), None)]);
    }

    #[test]
    fn tokens_outside_the_grammar_are_left_alone() {
        for t in [
            "01e999", "1e", "1.e999", "--1e999", "1e999e1", "+1e999", "1.5.5",
        ] {
            assert_eq!(wide_value(t.as_bytes()), None, "{t}");
        }
    }

    #[test]
    fn placeholders_keep_the_width_and_avoid_numbers_in_the_text() {
        let text = br#"[10000, 10001, 1e999, 10002]"#;
        let seen = with_wide_numbers(text, |t| {
            (String::from_utf8(t.to_vec()).unwrap(), lookup(10002))
        });
        assert_eq!(seen.0, "[10000, 10001, 10003, 10002]");
        assert_eq!(seen.1, None);
        let resolved = with_wide_numbers(text, |_| scalar_for(10003, Dtype::F64));
        assert_eq!(resolved.unwrap_err().kind().code(), "out_of_range");
        // Outside the call the table is gone.
        assert_eq!(scalar_for(10003, Dtype::F64).unwrap(), Scalar::UInt(10003));
    }

    #[test]
    fn an_integer_past_u64_reads_as_its_f64_for_float_fields_only() {
        let text = br#"[-9223372036854775809]"#;
        with_wide_numbers(text, |t| {
            let s = std::str::from_utf8(t).unwrap();
            let p: u64 = s.trim_matches(['[', ']', ' ']).parse().unwrap();
            assert_eq!(
                scalar_for(p, Dtype::F32).unwrap(),
                Scalar::Float(-9223372036854775809.0)
            );
            let e = scalar_for(p, Dtype::I64).unwrap_err();
            assert_eq!(
                e.to_string(),
                "-9223372036854775809 is out of range for i64"
            );
        });
    }
}

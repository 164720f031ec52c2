//! The wire compatibility rules of `schemac diff`: one table ([`RULES`]), and the
//! classification that picks a row for a pair of field types.
//!
//! "New reads old" means: every value the old schema lets a writer put on the wire
//! (MessagePack or JSON) is accepted by a reader generated from the new schema; "old reads
//! new" the reverse. The field name is the identity (wire maps are keyed by name, and
//! readers ignore keys they do not know); writers always write every field, so defaults
//! only matter to a reader that meets data without the field.
//!
//! The table in docs/language.md ("Schema evolution") is [`markdown_table`]'s output; a
//! test checks that the two agree. The property test in `tests/diff_props.rs` checks each
//! "ok" against the dynamic codec.

use crate::ir::{Dim, Dtype, Field, NamedDim, Range, Ty};

/// One direction of one rule: whether data keeps decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Breaks,
    /// As the nested types' own comparison says (components, lists, maps).
    Nested,
}

/// A row of the compatibility table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Stable identifier, shown in reports (`field-added-required`).
    pub id: &'static str,
    /// The change, as the docs table shows it.
    pub change: &'static str,
    pub new_reads_old: Verdict,
    pub old_reads_new: Verdict,
    /// Why, in one line.
    pub why: &'static str,
}

use Verdict::{Breaks, Nested, Ok as Fine};

/// Every wire rule. Classification below returns one of these ids; nothing else decides a
/// wire verdict.
pub const RULES: &[Rule] = &[
    Rule {
        id: "field-added-optional",
        change:
            "field added, optional (`?`) or with a default (for an array: with every dim fixed)",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "new readers fill the missing key; old readers skip the unknown key",
    },
    Rule {
        id: "field-added-required",
        change:
            "field added, required without a default (or an array default with a `_` or named dim)",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "old data lacks the key (missing_field)",
    },
    Rule {
        id: "field-removed-optional",
        change: "field removed that was optional or had a default (as for added)",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "new readers skip the key; old readers fill it",
    },
    Rule {
        id: "field-removed-required",
        change: "field removed that was required without a default",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "old readers need the key new writers no longer write",
    },
    Rule {
        id: "field-renamed-alias",
        change: "field renamed with `@alias(\"old\")`, the old field required without a default",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "new readers take the old key; old readers do not know the new one",
    },
    Rule {
        id: "field-renamed-alias-optional",
        change: "field renamed with `@alias(\"old\")`, the old field optional or defaulted",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "new readers take the old key; old readers fill the field they miss",
    },
    Rule {
        id: "fields-reordered",
        change: "fields reordered",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "wire maps are keyed by name",
    },
    Rule {
        id: "optional-added",
        change: "required field made optional",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "new writers may write nil, which old readers refuse",
    },
    Rule {
        id: "optional-removed",
        change: "optional field made required (even with a default)",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "old data may hold nil, which a required field refuses",
    },
    Rule {
        id: "default-changed",
        change: "default added, removed or changed",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "writers write every field, so no reader meets the default",
    },
    Rule {
        id: "values-same",
        change: "numeric scalar (or array element `@bits`/`@range`) retyped, same set of values",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "e.g. `u8` to `u16 @bits(8)`: every value fits both",
    },
    Rule {
        id: "values-widened",
        change:
            "numeric values widened: int to a wider int, int to a float that holds it exactly, \
                 float to a wider float, a wider `@bits` or `@range`",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "every old value fits the new type; not every new one fits the old",
    },
    Rule {
        id: "values-narrowed",
        change: "numeric values narrowed (the reverse of widened)",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "an old value may not fit the new type",
    },
    Rule {
        id: "values-changed",
        change: "numeric values changed otherwise (int to float beyond its exact range, float to \
                 int, signedness with neither set containing the other)",
        new_reads_old: Breaks,
        old_reads_new: Breaks,
        why: "some values on each side do not fit the other",
    },
    Rule {
        id: "array-dtype-changed",
        change: "array dtype changed",
        new_reads_old: Breaks,
        old_reads_new: Breaks,
        why: "the array payload names its dtype and readers take exactly theirs",
    },
    Rule {
        id: "dims-relaxed",
        change: "array or component-array dim relaxed to `_` (same rank)",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "`_` accepts any size; the old fixed or named size refuses others",
    },
    Rule {
        id: "dims-restricted",
        change: "array or component-array dim `_` made fixed or named (same rank)",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "old data may have another size",
    },
    Rule {
        id: "shape-changed",
        change: "array rank, a fixed size or a named dim changed",
        new_reads_old: Breaks,
        old_reads_new: Breaks,
        why: "readers check the rank and every fixed or named size",
    },
    Rule {
        id: "enum-to-str",
        change: "enum field made `str`",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "enums are written as their variant names",
    },
    Rule {
        id: "str-to-enum",
        change: "`str` field made an enum",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "old strings need not be variant names",
    },
    Rule {
        id: "variants-same",
        change: "enum renamed, or its variants reordered",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "variants are written by name",
    },
    Rule {
        id: "variants-added",
        change: "enum variant added",
        new_reads_old: Fine,
        old_reads_new: Breaks,
        why: "old readers refuse a name they do not know",
    },
    Rule {
        id: "variants-removed",
        change: "enum variant removed",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "old data may hold the removed name",
    },
    Rule {
        id: "variants-replaced",
        change: "enum variants added and removed",
        new_reads_old: Breaks,
        old_reads_new: Breaks,
        why: "each side may hold a name the other does not know",
    },
    Rule {
        id: "nested",
        change: "component, `list<T>` or `map<str, T>` contents changed",
        new_reads_old: Nested,
        old_reads_new: Nested,
        why: "as the component's fields or the item type compare",
    },
    Rule {
        id: "kind-changed",
        change: "any other type change (scalar to array, `str` to `bytes`, bool to int, ...)",
        new_reads_old: Breaks,
        old_reads_new: Breaks,
        why: "the wire types differ",
    },
    Rule {
        id: "sample-added",
        change: "sample added",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "there is no old data of it",
    },
    Rule {
        id: "sample-removed",
        change: "sample removed, or made a component",
        new_reads_old: Breaks,
        old_reads_new: Fine,
        why: "new code has no reader for the old data",
    },
    Rule {
        id: "no-wire-effect",
        change: "docs, `package`, `@packed`, `@bitpack`, component or enum added or removed",
        new_reads_old: Fine,
        old_reads_new: Fine,
        why: "the wire form does not depend on it",
    },
];

/// The row with this id.
///
/// # Panics
/// On an id not in [`RULES`] (a bug in this module; the tests cover every id used).
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no wire rule `{id}`"))
}

/// The docs table (markdown), generated from [`RULES`].
pub fn markdown_table() -> String {
    let mark = |v: Verdict| match v {
        Fine => "ok",
        Breaks => "**breaks**",
        Nested => "as nested",
    };
    let mut s = String::from(
        "| rule | change | new reads old | old reads new | why |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            r.id,
            r.change,
            mark(r.new_reads_old),
            mark(r.old_reads_new),
            r.why
        ));
    }
    s
}

// ---------------------------------------------------------------------------------------
// Numeric value sets
// ---------------------------------------------------------------------------------------

/// The set of values a numeric scalar (or array element) may hold on the wire.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Domain {
    Bool,
    /// Integers in `lo..=hi` (dtype, narrowed by `@bits`, narrowed by `@range`).
    Int {
        lo: i128,
        hi: i128,
    },
    /// Floats of `dtype`, within `range` when there is one (else every float, NaN too).
    Float {
        dtype: Dtype,
        range: Option<Range>,
    },
}

/// Bits of integer precision in a float dtype's significand: every integer of at most this
/// magnitude is exact.
fn exact_int_bits(d: Dtype) -> u32 {
    match d {
        Dtype::F16 => 11,
        Dtype::Bf16 => 8,
        Dtype::F32 => 24,
        _ => 53,
    }
}

/// Whether every value of float dtype `a` is a value of float dtype `b`.
fn float_within(a: Dtype, b: Dtype) -> bool {
    a == b || b == Dtype::F64 || (b == Dtype::F32 && matches!(a, Dtype::F16 | Dtype::Bf16))
}

pub fn domain(dtype: Dtype, bits: Option<u32>, range: Option<Range>) -> Domain {
    if dtype == Dtype::Bool {
        return Domain::Bool;
    }
    if dtype.is_float() {
        return Domain::Float { dtype, range };
    }
    let width = (dtype.size() * 8) as u32;
    let b = bits.unwrap_or(width).min(width);
    let (mut lo, mut hi) = if dtype.is_signed() {
        (-(1i128 << (b - 1)), (1i128 << (b - 1)) - 1)
    } else {
        (0, (1i128 << b) - 1)
    };
    if let Some(r) = range {
        lo = lo.max(r.lo.ceil() as i128);
        hi = hi.min(r.hi.floor() as i128);
    }
    Domain::Int { lo, hi }
}

/// Whether every value in `a` is accepted by a reader of `b`.
pub fn within(a: Domain, b: Domain) -> bool {
    match (a, b) {
        (Domain::Bool, Domain::Bool) => true,
        (Domain::Int { lo, hi }, Domain::Int { lo: l2, hi: h2 }) => {
            lo > hi || (l2 <= lo && hi <= h2)
        }
        (Domain::Int { lo, hi }, Domain::Float { dtype, range }) => {
            let limit = 1i128 << exact_int_bits(dtype);
            let exact = -limit <= lo && hi <= limit;
            let inside = range.is_none_or(|r| r.lo <= lo as f64 && hi as f64 <= r.hi);
            exact && inside
        }
        (
            Domain::Float {
                dtype: d1,
                range: r1,
            },
            Domain::Float {
                dtype: d2,
                range: r2,
            },
        ) => {
            float_within(d1, d2)
                && match (r1, r2) {
                    (_, None) => true,
                    (None, Some(_)) => false,
                    (Some(a), Some(b)) => b.lo <= a.lo && a.hi <= b.hi,
                }
        }
        _ => false,
    }
}

/// The rule for numeric values going from `old` to `new`, or `None` when equal.
pub fn values_rule(old: Domain, new: Domain) -> Option<&'static str> {
    if old == new {
        return None;
    }
    Some(match (within(old, new), within(new, old)) {
        (true, true) => "values-same",
        (true, false) => "values-widened",
        (false, true) => "values-narrowed",
        (false, false) => "values-changed",
    })
}

// ---------------------------------------------------------------------------------------
// Dims
// ---------------------------------------------------------------------------------------

/// A dim with the size its record pins for it, so `H = 224` and `H = 256` differ.
fn pinned(d: &Dim, named: &[NamedDim]) -> (Dim, Option<u64>) {
    let size = match d {
        Dim::Named(n) => named.iter().find(|x| &x.name == n).and_then(|x| x.size),
        _ => None,
    };
    (d.clone(), size)
}

/// The rule for a shape going from `old` to `new`, or `None` when equal.
pub fn dims_rule(
    old: &[Dim],
    new: &[Dim],
    old_named: &[NamedDim],
    new_named: &[NamedDim],
) -> Option<&'static str> {
    if old.len() != new.len() {
        return Some("shape-changed");
    }
    let (mut relaxed, mut restricted) = (false, false);
    for (a, b) in old.iter().zip(new) {
        let (a, b) = (pinned(a, old_named), pinned(b, new_named));
        if a == b {
            continue;
        }
        match (&a.0, &b.0) {
            (_, Dim::Dynamic) => relaxed = true,
            (Dim::Dynamic, _) => restricted = true,
            _ => return Some("shape-changed"),
        }
    }
    match (relaxed, restricted) {
        (false, false) => None,
        (true, false) => Some("dims-relaxed"),
        (false, true) => Some("dims-restricted"),
        (true, true) => Some("shape-changed"),
    }
}

// ---------------------------------------------------------------------------------------
// Field types
// ---------------------------------------------------------------------------------------

/// What a field's type looks like to the classification: its type plus the value
/// constraints that live on the field.
#[derive(Clone, Copy)]
pub struct FieldTy<'a> {
    pub ty: &'a Ty,
    pub bits: Option<u32>,
    pub range: Option<Range>,
    /// Named dims of the record the field is in.
    pub named: &'a [NamedDim],
}

impl<'a> FieldTy<'a> {
    pub fn of(field: &'a Field, named: &'a [NamedDim]) -> Self {
        FieldTy {
            ty: &field.ty,
            bits: field.bits,
            range: field.range,
            named,
        }
    }

    /// A list item or map value: no field constraints.
    fn item(ty: &'a Ty, named: &'a [NamedDim]) -> Self {
        FieldTy {
            ty,
            bits: None,
            range: None,
            named,
        }
    }
}

/// How one type compares with another: the wire rules that apply (empty when nothing on
/// the wire changed), and for `nested` rows the pairs to compare further.
#[derive(Debug, Default)]
pub struct TypeChange {
    pub rules: Vec<&'static str>,
    /// Components to compare (old name, new name).
    pub components: Vec<(String, String)>,
    /// Enums to compare (old name, new name).
    pub enums: Vec<(String, String)>,
}

/// Classifies a change of a field's type (optionality and defaults are the caller's).
pub fn classify(old: FieldTy<'_>, new: FieldTy<'_>) -> TypeChange {
    let mut out = TypeChange::default();
    classify_into(old, new, &mut out);
    out
}

fn classify_into(old: FieldTy<'_>, new: FieldTy<'_>, out: &mut TypeChange) {
    match (old.ty, new.ty) {
        (Ty::Scalar { dtype: a }, Ty::Scalar { dtype: b }) => {
            match values_rule(
                domain(*a, old.bits, old.range),
                domain(*b, new.bits, new.range),
            ) {
                Some(r) => out.rules.push(r),
                // Another dtype holding exactly the same values (`u8` → `u16 @bits(8)`).
                None if a != b => out.rules.push("values-same"),
                None => {}
            }
        }
        (
            Ty::Array {
                dtype: a,
                shape: sa,
            },
            Ty::Array {
                dtype: b,
                shape: sb,
            },
        ) => {
            if a != b {
                out.rules.push("array-dtype-changed");
            } else if let Some(r) = values_rule(
                domain(*a, old.bits, old.range),
                domain(*b, new.bits, new.range),
            ) {
                out.rules.push(r);
            }
            if let Some(r) = dims_rule(sa, sb, old.named, new.named) {
                out.rules.push(r);
            }
        }
        (Ty::Str, Ty::Str) | (Ty::Bytes, Ty::Bytes) => {}
        (Ty::Enum { name: a }, Ty::Enum { name: b }) => out.enums.push((a.clone(), b.clone())),
        (Ty::Enum { .. }, Ty::Str) => out.rules.push("enum-to-str"),
        (Ty::Str, Ty::Enum { .. }) => out.rules.push("str-to-enum"),
        (Ty::Record { name: a, shape: sa }, Ty::Record { name: b, shape: sb }) => {
            if let Some(r) = dims_rule(sa, sb, old.named, new.named) {
                out.rules.push(r);
            }
            out.components.push((a.clone(), b.clone()));
        }
        (Ty::List { item: a }, Ty::List { item: b })
        | (Ty::Map { value: a }, Ty::Map { value: b }) => classify_into(
            FieldTy::item(a, old.named),
            FieldTy::item(b, new.named),
            out,
        ),
        _ => out.rules.push("kind-changed"),
    }
}

/// The rule for an enum's variant names going from `old` to `new`, or `None` when the
/// wire sees no change.
pub fn variants_rule(old: &[String], new: &[String]) -> Option<&'static str> {
    let added = new.iter().any(|v| !old.contains(v));
    let removed = old.iter().any(|v| !new.contains(v));
    match (added, removed) {
        (false, false) => (old != new).then_some("variants-same"),
        (true, false) => Some("variants-added"),
        (false, true) => Some("variants-removed"),
        (true, true) => Some("variants-replaced"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(RULES[i + 1..].iter().all(|o| o.id != r.id), "{}", r.id);
        }
    }

    #[test]
    fn integer_and_float_domains() {
        let d = |t, b, r| domain(t, b, r);
        assert_eq!(
            values_rule(d(Dtype::U8, None, None), d(Dtype::U16, None, None)),
            Some("values-widened")
        );
        assert_eq!(
            // Equal sets: no values rule (`classify` names the dtype change `values-same`).
            values_rule(d(Dtype::U8, None, None), d(Dtype::U16, Some(8), None)),
            None
        );
        let u8_ty = Ty::Scalar { dtype: Dtype::U8 };
        let u16_ty = Ty::Scalar { dtype: Dtype::U16 };
        let f = |ty, bits| FieldTy {
            ty,
            bits,
            range: None,
            named: &[],
        };
        assert_eq!(
            classify(f(&u8_ty, None), f(&u16_ty, Some(8))).rules,
            ["values-same"]
        );
        assert!(classify(f(&u8_ty, None), f(&u8_ty, Some(8)))
            .rules
            .is_empty());
        assert_eq!(
            values_rule(d(Dtype::U8, None, None), d(Dtype::I8, None, None)),
            Some("values-changed")
        );
        assert_eq!(
            values_rule(d(Dtype::U16, None, None), d(Dtype::F32, None, None)),
            Some("values-widened")
        );
        assert_eq!(
            values_rule(d(Dtype::U32, None, None), d(Dtype::F32, None, None)),
            Some("values-changed")
        );
        assert_eq!(
            values_rule(d(Dtype::F32, None, None), d(Dtype::F16, None, None)),
            Some("values-narrowed")
        );
        assert_eq!(
            values_rule(d(Dtype::F16, None, None), d(Dtype::Bf16, None, None)),
            Some("values-changed")
        );
        let r = |lo, hi| Some(Range { lo, hi });
        assert_eq!(
            values_rule(
                d(Dtype::F32, None, r(0.0, 1.0)),
                d(Dtype::F32, None, r(-1.0, 1.0))
            ),
            Some("values-widened")
        );
        assert_eq!(
            values_rule(d(Dtype::F32, None, None), d(Dtype::F32, None, r(-1.0, 1.0))),
            Some("values-narrowed")
        );
        assert_eq!(
            values_rule(d(Dtype::I32, Some(4), None), d(Dtype::I8, None, None)),
            Some("values-widened")
        );
    }
}

//! Support for the Rust that `schemac` generates: the generic machinery generated structs
//! are data over, so that the generated code stays short and every rule (shape checks,
//! component-array nesting, random-sample recipe, `@packed` conversions, both serde forms)
//! is written once. Not meant for hand-written code; names may change with the generator.
//!
//! - [`codec`](Codec): one codec per field kind ([`Num`], [`Str`], [`Bin`], [`Arr`],
//!   [`Enum`], [`Rec`], [`Recs`], [`Opt`], [`List`], [`Map`], [`PackedArr`],
//!   [`PackedNum`]): write, read (owned or borrowed), size hint, check, random, serde.
//! - [`record`](Record): the [`Record`] / [`RecordRef`] traits, the [`Fields`] visitors
//!   and [`Source`]s that drive a generated record's one-line-per-field methods, and the
//!   `record_methods!` / `sample_methods!` / `view_methods!` macros giving every generated
//!   struct its public methods.
//! - `packed`: the `@packed` conversions ([`pack`], [`unpack`], ...) and their readers
//!   and writers.
//! - `serde_form`: the JSON scalar adapters, [`FieldKey`], the runtime-error / serde-error
//!   plumbing that keeps kinds and paths, and [`to_json`] / [`from_json`].
//! - this module: the reading, writing, checking and random helpers the codecs and the
//!   generated batches call, and [`from_msgpack`] with its structural pre-pass.
//!
//! # Traits
//!
//! Every generated struct `Name` implements [`Record`] and its zero-copy view `NameRef<'a>`
//! implements [`RecordRef`]. The public API of a generated struct is its inherent methods
//! (`to_msgpack`, `from_msgpack`, `validate`, `random`, ...); the trait methods are the
//! building blocks nested records call on each other (they share one [`DimTable`] per
//! sample, so named dims agree across nested components).
//!
//! # serde forms
//!
//! `Serialize` / `Deserialize` check `is_human_readable()`: human-readable formats get the
//! JSON form (DESIGN §4), binary formats the atdata MessagePack form, so
//! `rmp_serde::to_vec_named(&x) == x.to_msgpack()`.
//!
//! # Wire shape of component arrays
//!
//! A component array (`history: Pose[8]`, `cells: Cell[3, 3]`, `path: Pose[_]`) is held as a
//! flat `Vec` in C order. On the wire it is nested MessagePack arrays following the shape,
//! outermost dim first (`Cell[2, 3]` is an array of 2 arrays of 3 maps); JSON uses the same
//! nesting. Only the first dim may vary (the compiler enforces it), so the flat length and
//! the fixed inner dims recover the shape.
//!
//! # The `random()` recipe
//!
//! `random(&mut Rng)` draws, field by field in declaration order (nested records depth
//! first, the same way), so that another runtime can reproduce a sample bit for bit:
//!
//! - optional field: [`Rng::bool`]; `false` is `None` and draws nothing more;
//! - numeric scalar: [`Element::random`] with the field's `@bits` and `@range`;
//! - array / `@packed` array: the shape first, dim by dim ([`RandomDims::size`]: fixed dims
//!   draw nothing; a named dim draws `below(5)` at its first use in the sample and reuses
//!   it after; `_` draws `below(5)`), then the elements in C order as scalars;
//! - `str`: [`Rng::string`]`(8)`; `bytes`: [`Rng::bytes`]`(8)`;
//! - enum: `below(number of variants)` picks the variant by declaration index;
//! - component: its own fields, sharing the sample's named dims;
//! - component array: its shape as for arrays, then each element in C order;
//! - `list<T>`: `below(4)` items, each drawn as `T` with fresh named dims;
//! - `map<str, T>`: `below(4)` entries, each a key [`Rng::string`]`(6)` then a `T` value;
//!   a repeated key overwrites the earlier entry.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::array::{check_shape, format_shape, ArrayView, DimTable, Element, NdArray, Scalar};
use crate::bits::{self, BitElement, BitsError};
/// Re-exported so generated signatures stay short (`gs::Error`, `gs::Rng`).
pub use crate::error::Error;
use crate::error::{ErrorKind, Result, ResultExt};
use crate::msgpack::{Reader, Writer};
pub use crate::rng::Rng;

/// Re-exported so generated code can name serde without its own dependency.
pub use serde;

mod codec;
mod packed;
mod record;
mod serde_form;

pub use packed::*;
pub use serde_form::*;

pub use crate::array::DimSpec::{self, Any, Fixed, Named};
pub use codec::{
    de_enum, Arr, Bin, Codec, Enum, EnumValue, List, Map, Num, Opt, OptSeed, PackedArr, PackedNum,
    Rec, Recs, Seed, Str, With,
};
pub use record::{
    deserialize_record, record_from_json, record_from_msgpack, serialize_record, validate,
    view_from_msgpack, FieldName, Fields, MsgpackSource, Record, RecordRef, SerdeSource, Source,
    ViewSource,
};

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// An array of `T` whose shape must match `spec` (binding named dims in `dims`).
#[inline]
pub fn read_array<T: Element>(
    r: &mut Reader<'_>,
    spec: &[DimSpec],
    dims: &mut DimTable,
) -> Result<NdArray<T>> {
    let a = r.array::<T>()?;
    check_shape(spec, a.shape(), dims)?;
    Ok(a)
}

/// Like [`read_array`], borrowing the element bytes from the input.
#[inline]
pub fn read_array_view<'a, T: Element>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
) -> Result<ArrayView<'a, T>> {
    let a = r.array_view::<T>()?;
    check_shape(spec, a.shape(), dims)?;
    Ok(a)
}

/// A MessagePack array read item by item through `f` (errors get the item index).
pub fn read_list<'a, T>(
    r: &mut Reader<'a>,
    mut f: impl FnMut(&mut Reader<'a>) -> Result<T>,
) -> Result<Vec<T>> {
    let n = r.array_len()?;
    // `array_len` checked n against the bytes left, so this allocation is bounded.
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(f(r).at_index(i)?);
    }
    Ok(out)
}

/// A MessagePack map with str keys, values read through `f` (errors get the key). A
/// repeated key is `DuplicateKey` (docs/language.md), never "the last one wins".
pub fn read_map<'a, K: From<&'a str> + Ord, V>(
    r: &mut Reader<'a>,
    mut f: impl FnMut(&mut Reader<'a>) -> Result<V>,
) -> Result<BTreeMap<K, V>> {
    let n = r.map_len()?;
    let mut out = BTreeMap::new();
    for _ in 0..n {
        let k = r.str()?;
        let v = f(r).at_key(k)?;
        if out.insert(K::from(k), v).is_some() {
            return Err(Error::new(ErrorKind::DuplicateKey(k.to_owned())).at_key(k));
        }
    }
    Ok(out)
}

/// `DuplicateKey` for a record field given twice (msgpack or JSON), at the field.
#[cold]
pub fn duplicate_key(field: &str) -> Error {
    Error::new(ErrorKind::DuplicateKey(field.to_owned())).at(field)
}

/// An enum: a str naming a variant.
#[inline]
pub fn read_enum<E: FromStr<Err = Error>>(r: &mut Reader<'_>) -> Result<E> {
    r.str()?.parse()
}

/// A component array: nested MessagePack arrays following `spec`, flattened in C order.
pub fn read_records<T: Record>(
    r: &mut Reader<'_>,
    spec: &[DimSpec],
    dims: &mut DimTable,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    read_nested(r, spec, dims, &mut out, &mut |r, dims| {
        T::read_msgpack_in(r, dims)
    })?;
    Ok(out)
}

/// [`read_records`] for zero-copy views.
pub fn read_records_ref<'a, T: RecordRef<'a>>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    read_nested(r, spec, dims, &mut out, &mut |r, dims| {
        T::read_msgpack_in(r, dims)
    })?;
    Ok(out)
}

fn read_nested<'a, T>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    out: &mut Vec<T>,
    f: &mut impl FnMut(&mut Reader<'a>, &mut DimTable) -> Result<T>,
) -> Result<()> {
    // Every element is read before any level's count is compared (docs/language.md,
    // "Error precedence"): an element's own fault, even in a later row, comes first; then
    // the first wrong count of an inner level in document order, then the outer one.
    let mut wrong_len = None;
    read_level(r, spec, dims, out, f, &mut wrong_len)?;
    wrong_len.map_or(Ok(()), Err)
}

fn read_level<'a, T>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    out: &mut Vec<T>,
    f: &mut impl FnMut(&mut Reader<'a>, &mut DimTable) -> Result<T>,
    wrong_len: &mut Option<Error>,
) -> Result<()> {
    let n = r.array_len()?;
    if let Some(&DimSpec::Named(name)) = spec.first() {
        dims.bind(name, n as u64)?;
    }
    if spec.len() <= 1 {
        out.reserve(n);
        for i in 0..n {
            out.push(f(r, dims).at_index(i)?);
        }
    } else {
        for i in 0..n {
            let mut inner = None;
            read_level(r, &spec[1..], dims, out, f, &mut inner).at_index(i)?;
            if wrong_len.is_none() {
                *wrong_len = inner.map(|e| e.at_index(i));
            }
        }
    }
    if let Some(&DimSpec::Fixed(k)) = spec.first() {
        if k != n as u64 && wrong_len.is_none() {
            *wrong_len = Some(Error::new(ErrorKind::ShapeMismatch {
                expected: format_shape(spec),
                found: vec![n as u64],
            }));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// A component array as nested MessagePack arrays: `inner` are the fixed dims after the
/// first (empty for `Pose[8]` or `Pose[_]`); the first is `items.len() / product(inner)`.
pub fn write_records<T: Record>(w: &mut Writer, items: &[T], inner: &[usize]) {
    match inner.split_first() {
        None => {
            w.array_header(items.len());
            for item in items {
                item.write_msgpack(w);
            }
        }
        Some((_, rest)) => {
            let chunk = inner.iter().product::<usize>().max(1);
            w.array_header(items.len().div_ceil(chunk));
            for c in items.chunks(chunk) {
                write_nested_level(w, c, inner[0], rest);
            }
        }
    }
}

fn write_nested_level<T: Record>(w: &mut Writer, items: &[T], n: usize, rest: &[usize]) {
    if rest.is_empty() {
        w.array_header(items.len().min(n));
        for item in items {
            item.write_msgpack(w);
        }
    } else {
        let chunk = rest.iter().product::<usize>().max(1);
        w.array_header(items.len().div_ceil(chunk));
        for c in items.chunks(chunk) {
            write_nested_level(w, c, rest[0], &rest[1..]);
        }
    }
}

/// Upper bound of the MessagePack size of an array field (header, typestr, dims, data).
#[inline]
pub fn array_hint<T: Element>(a: &NdArray<T>) -> usize {
    16 + 8 * a.ndim() + std::mem::size_of_val(a.as_slice())
}

// ---------------------------------------------------------------------------------------
// Checking
// ---------------------------------------------------------------------------------------

/// Checks a component array's length against `spec` (first dim fixed, named or `_`; the
/// rest fixed), then every element (errors get the element's index per dim).
pub fn check_records<T: Record>(
    items: &[T],
    spec: &[DimSpec],
    dims: &mut DimTable,
    full: bool,
) -> Result<()> {
    let inner: Vec<usize> = spec
        .iter()
        .skip(1)
        .map(|d| match *d {
            DimSpec::Fixed(n) => n as usize,
            DimSpec::Named(name) => dims.get(name).unwrap_or(0) as usize,
            DimSpec::Any => 0,
        })
        .collect();
    let chunk: usize = inner.iter().product();
    let len = items.len();
    let mismatch = || {
        Error::new(ErrorKind::ShapeMismatch {
            expected: format_shape(spec),
            found: if chunk != 0 && len % chunk == 0 {
                std::iter::once(len / chunk)
                    .chain(inner.iter().copied())
                    .map(|d| d as u64)
                    .collect()
            } else {
                vec![len as u64]
            },
        })
    };
    if chunk == 0 {
        if len != 0 {
            return Err(mismatch());
        }
    } else if len % chunk != 0 {
        return Err(mismatch());
    }
    let first = len.checked_div(chunk).unwrap_or(0);
    match spec.first() {
        Some(&DimSpec::Fixed(n)) if n != first as u64 => return Err(mismatch()),
        Some(&DimSpec::Named(name)) => dims.bind(name, first as u64)?,
        _ => {}
    }
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = item.check_in(dims, full) {
            return Err(at_multi_index(e, i, &inner));
        }
    }
    Ok(())
}

/// Prefixes `e` with the multi-index of flat C-order position `flat` in an array whose
/// dims after the first are `inner`: `[1][2]` for flat 5 of `[_, 3]`.
#[cold]
pub fn at_multi_index(mut e: Error, flat: usize, inner: &[usize]) -> Error {
    let mut rest = flat;
    for &d in inner.iter().rev() {
        let d = d.max(1);
        e = e.at_index(rest % d);
        rest /= d;
    }
    e.at_index(rest)
}

// ---------------------------------------------------------------------------------------
// Random instances
// ---------------------------------------------------------------------------------------

/// The sizes named dims took so far in one random sample (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RandomDims {
    entries: Vec<(&'static str, usize)>,
}

impl RandomDims {
    pub fn new() -> Self {
        Self::default()
    }

    /// The size of one dim: fixed as is; a named dim `below(5)` at first use, then the
    /// same; `_` `below(5)` every time.
    pub fn size(&mut self, spec: DimSpec, rng: &mut Rng) -> usize {
        match spec {
            DimSpec::Fixed(n) => n as usize,
            DimSpec::Named(name) => {
                if let Some(&(_, v)) = self.entries.iter().find(|(n, _)| *n == name) {
                    v
                } else {
                    let v = rng.below(5) as usize;
                    self.entries.push((name, v));
                    v
                }
            }
            DimSpec::Any => rng.below(5) as usize,
        }
    }

    /// A shape for `spec`, dim by dim.
    pub fn shape(&mut self, spec: &[DimSpec], rng: &mut Rng) -> Vec<usize> {
        spec.iter().map(|&d| self.size(d, rng)).collect()
    }
}

/// A random component array: its shape, then each element in C order.
pub fn random_records<T: Record>(rng: &mut Rng, spec: &[DimSpec], dims: &mut RandomDims) -> Vec<T> {
    let shape = dims.shape(spec, rng);
    let n: usize = shape.iter().product();
    (0..n).map(|_| T::random_in(rng, dims)).collect()
}

/// `MissingField` if the next MessagePack value is nil (read before a required field;
/// the caller adds the field's path). A peek at one byte.
#[inline]
pub fn not_nil(r: &Reader<'_>) -> Result<()> {
    match r.peek() {
        Ok(crate::msgpack::Family::Nil) => Err(Error::new(ErrorKind::MissingField)),
        _ => Ok(()),
    }
}

/// Reads a sample from MessagePack with `read` (the generated `read_msgpack_in`) after
/// the structural pre-pass [`crate::msgpack::check_structure`]: a structural fault is
/// reported at the sample (a duplicate key at its path) before any schema fault. The
/// whole input must be consumed.
pub fn from_msgpack<'a, T>(
    bytes: &'a [u8],
    name: &str,
    read: impl FnOnce(&mut Reader<'a>) -> Result<T>,
) -> Result<T> {
    let mut path = Vec::new();
    if let Err(e) = crate::msgpack::check_structure(bytes, &mut path) {
        if matches!(e.kind(), ErrorKind::DuplicateKey(_)) && path.len() > 1 {
            // Below the top level only the schema knows whether a key is a field
            // (`.k`) or a `map<str, T>` key (`["k"]`); the decoder reports the same
            // repeated key with that path when it reaches it.
            if let Err(d) = read(&mut Reader::new(bytes)) {
                if d.kind() == e.kind() {
                    return Err(d.at(name));
                }
            }
        }
        return Err(e.at(&crate::msgpack::render_path(name, &path)));
    }
    let mut r = Reader::new(bytes);
    let v = read(&mut r).at(name)?;
    r.finish().at(name)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_index_paths() {
        let e = at_multi_index(Error::new(ErrorKind::MissingField), 5, &[3]);
        assert_eq!(e.path(), "[1][2]");
        let e = at_multi_index(Error::new(ErrorKind::MissingField), 7, &[]);
        assert_eq!(e.path(), "[7]");
        let e = at_multi_index(Error::new(ErrorKind::MissingField), 23, &[3, 4]);
        assert_eq!(e.path(), "[1][2][3]");
    }

    #[test]
    fn random_dims_reuse_names() {
        let mut rng = Rng::new(3);
        let mut d = RandomDims::new();
        let a = d.shape(&[DimSpec::Named("H"), DimSpec::Fixed(3)], &mut rng);
        let b = d.shape(&[DimSpec::Named("H")], &mut rng);
        assert_eq!(a[0], b[0]);
        assert_eq!(a[1], 3);
        assert!(a[0] < 5);
    }

    #[test]
    fn pack_round_trip_and_overflow() {
        let v: [u8; 2] = pack(&[1u8, 2, 7, 0, 5], 3).unwrap();
        assert_eq!(unpack::<u8>(&v, 5, 3), vec![1, 2, 7, 0, 5]);
        let e = pack::<u8, 2>(&[1u8, 2, 8, 0, 5], 3).unwrap_err();
        // Named at the field by the caller, not at the element.
        assert_eq!(e.path(), "");
        assert!(matches!(
            e.kind(),
            ErrorKind::BitsOverflow { value: 8, bits: 3 }
        ));
        assert!(pack::<u8, 3>(&[1u8, 2, 7, 0, 5], 3).is_err());
        let s: [u8; 1] = pack_scalar(-1i8, 4).unwrap();
        assert_eq!(s, [0x0f]);
        assert_eq!(unpack_scalar::<i8>(&s, 4), -1);
    }
}

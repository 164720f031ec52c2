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
//! - this module: the reading, writing, checking and random helpers the codecs and the
//!   generated batches call, the `@packed` conversions, the serde error plumbing, and
//!   `from_msgpack` / `from_json` with their structural pre-passes.
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
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::msgpack::{Reader, Writer};
use crate::rng::Rng;

/// Re-exported so generated code can name serde without its own dependency.
pub use serde;

mod codec;
mod record;

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
    let n = r.array_len()?;
    // A wrong length is reported after the items are read, as the codec does: a value of
    // the wrong type inside (a flat list for `Pt[2, 2]`) is the first fault.
    let mut wrong_len = None;
    match spec.first() {
        Some(&DimSpec::Fixed(k)) if k != n as u64 => {
            wrong_len = Some(Error::new(ErrorKind::ShapeMismatch {
                expected: format_shape(spec),
                found: vec![n as u64],
            }));
        }
        Some(&DimSpec::Named(name)) => dims.bind(name, n as u64)?,
        _ => {}
    }
    read_items(r, spec, dims, out, f, n)?;
    wrong_len.map_or(Ok(()), Err)
}

fn read_items<'a, T>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    out: &mut Vec<T>,
    f: &mut impl FnMut(&mut Reader<'a>, &mut DimTable) -> Result<T>,
    n: usize,
) -> Result<()> {
    if spec.len() <= 1 {
        out.reserve(n);
        for i in 0..n {
            out.push(f(r, dims).at_index(i)?);
        }
    } else {
        for i in 0..n {
            read_nested(r, &spec[1..], dims, out, f).at_index(i)?;
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

/// A random `@packed` array of `n` elements (fixed shape), packed.
pub fn random_packed<T: Element + BitElement, const N: usize>(
    rng: &mut Rng,
    n: usize,
    bits: u32,
    range: Option<(f64, f64)>,
) -> [u8; N] {
    let values: Vec<T> = (0..n).map(|_| T::random(rng, Some(bits), range)).collect();
    pack_trusted(&values, bits)
}

// ---------------------------------------------------------------------------------------
// @packed fields
// ---------------------------------------------------------------------------------------

fn bits_error(e: BitsError) -> Error {
    match e {
        // At the field, not the element (conformance/README.md: `@bits` and `@range`
        // errors on an array name the field).
        BitsError::Overflow { value, bits, .. } => {
            Error::new(ErrorKind::BitsOverflow { value, bits })
        }
        other => Error::new(ErrorKind::Unsupported(other.to_string())),
    }
}

/// Packs `values` into a `@packed` field's `N` bytes; `BitsOverflow` when one does not fit, `PayloadLength` when `N` bytes cannot hold them.
pub fn pack<T: BitElement, const N: usize>(values: &[T], bits: u32) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    if bits::bytes_for(values.len(), bits) != N {
        return Err(Error::new(ErrorKind::PayloadLength {
            expected: N as u128,
            found: bits::bytes_for(values.len(), bits) as u64,
        }));
    }
    bits::pack_bytes_into(values, bits, &mut out).map_err(bits_error)?;
    Ok(out)
}

/// [`pack`] for values already known to fit (random or validated ones); a value that does
/// not fit leaves the bytes zero (debug builds assert).
fn pack_trusted<T: BitElement, const N: usize>(values: &[T], bits: u32) -> [u8; N] {
    let r = pack::<T, N>(values, bits);
    debug_assert!(r.is_ok(), "pack_trusted: {r:?}");
    r.unwrap_or([0u8; N])
}

/// The values of a `@packed` field (`n` of them). Cannot fail for the bytes a generated
/// struct holds: `@bits` never exceeds the dtype's width and `N` bytes hold `n` values.
pub fn unpack<T: BitElement + Default>(bytes: &[u8], n: usize, bits: u32) -> Vec<T> {
    let mut out = vec![T::default(); n];
    let r = bits::unpack_bytes(bytes, bits, &mut out);
    debug_assert!(r.is_ok(), "unpack: {r:?}");
    out
}

/// A `@packed` array field, unpacked into an array of `shape`.
pub fn unpack_array<T: Element + BitElement>(
    bytes: &[u8],
    shape: &[usize],
    bits: u32,
) -> NdArray<T> {
    let n = shape.iter().product();
    let data = unpack(bytes, n, bits);
    NdArray::new(shape.to_vec(), data).unwrap_or_default()
}

/// A `@packed` scalar field's value.
#[inline]
pub fn unpack_scalar<T: BitElement + Default>(bytes: &[u8], bits: u32) -> T {
    bits::try_get_byte_stream(bytes, bits, 0).unwrap_or_default()
}

/// Packs an array for a `@packed` field after checking its shape against `spec` (all
/// fixed): what the `set_<field>_unpacked` setters and JSON readers call.
pub fn pack_array<T: Element + BitElement, const N: usize>(
    a: &NdArray<T>,
    spec: &[DimSpec],
    bits: u32,
) -> Result<[u8; N]> {
    check_shape(spec, a.shape(), &mut DimTable::new())?;
    pack(a.as_slice(), bits)
}

/// Packs a `@packed` scalar.
#[inline]
pub fn pack_scalar<T: BitElement, const N: usize>(v: T, bits: u32) -> Result<[u8; N]> {
    pack(&[v], bits)
}

/// Packs a validated view (see [`read_packed_view`]) for `to_owned`.
pub fn pack_view<T: Element + BitElement, const N: usize>(
    v: &ArrayView<'_, T>,
    bits: u32,
) -> [u8; N] {
    let values: Vec<T> = v.iter().collect();
    pack_trusted(&values, bits)
}

/// Packs a validated scalar (see [`read_packed_scalar_value`]) for `to_owned`.
#[inline]
pub fn pack_scalar_trusted<T: BitElement, const N: usize>(v: T, bits: u32) -> [u8; N] {
    pack_trusted(&[v], bits)
}

/// Reads a `@packed` array field: the ordinary array on the wire, packed on arrival.
pub fn read_packed<T: Element + BitElement, const N: usize>(
    r: &mut Reader<'_>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    bits: u32,
) -> Result<[u8; N]> {
    let a = read_array::<T>(r, spec, dims)?;
    pack(a.as_slice(), bits)
}

/// Reads a `@packed` scalar field.
pub fn read_packed_scalar<T: Element + BitElement, const N: usize>(
    r: &mut Reader<'_>,
    bits: u32,
) -> Result<[u8; N]> {
    let v = r.scalar::<T>()?;
    pack(&[v], bits)
}

/// Reads a `@packed` array field as a view of the wire array, checking every value fits.
pub fn read_packed_view<'a, T: Element + BitElement>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    bits: u32,
) -> Result<ArrayView<'a, T>> {
    let a = read_array_view::<T>(r, spec, dims)?;
    for (i, v) in a.iter().enumerate() {
        if !v.fits(bits) {
            return Err(Error::new(ErrorKind::BitsOverflow {
                value: v.to_i128(),
                bits,
            })
            .at_index(i));
        }
    }
    Ok(a)
}

/// Reads a `@packed` scalar field's value, checking it fits.
pub fn read_packed_scalar_value<T: Element + BitElement>(
    r: &mut Reader<'_>,
    bits: u32,
) -> Result<T> {
    let v = r.scalar::<T>()?;
    if v.fits(bits) {
        Ok(v)
    } else {
        Err(Error::new(ErrorKind::BitsOverflow {
            value: v.to_i128(),
            bits,
        }))
    }
}

/// Writes a `@packed` array field as the ordinary (unpacked) array.
pub fn write_packed<T: Element + BitElement>(
    w: &mut Writer,
    shape: &[usize],
    bytes: &[u8],
    bits: u32,
) {
    let n = shape.iter().product();
    let values: Vec<T> = unpack(bytes, n, bits);
    w.array_slice(shape, &values);
}

/// The constant size hint of a fixed-shape array of `n` elements of `T` with `ndim` dims.
#[inline]
pub const fn fixed_array_hint<T: Element>(ndim: usize, n: usize) -> usize {
    16 + 8 * ndim + n * std::mem::size_of::<T>()
}

// ---------------------------------------------------------------------------------------
// JSON (serde) adapters
// ---------------------------------------------------------------------------------------

/// A float scalar in JSON: a number, or for non-finite values the strings `"NaN"`,
/// `"Infinity"`, `"-Infinity"` (also read: `"nan"`, `"inf"`, `"-inf"`), as the dynamic
/// codec and the Python runtime write and read them. serde_json alone writes `null`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JsonF64(pub f64);

impl serde::Serialize for JsonF64 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_finite() {
            s.serialize_f64(v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }
}

impl<'de> serde::Deserialize<'de> for JsonF64 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = JsonF64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number (or \"NaN\", \"Infinity\", \"-Infinity\")")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<JsonF64, E> {
                Ok(JsonF64(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<JsonF64, E> {
                Ok(JsonF64(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<JsonF64, E> {
                Ok(JsonF64(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<JsonF64, E> {
                match v {
                    "NaN" | "nan" => Ok(JsonF64(f64::NAN)),
                    "Infinity" | "inf" => Ok(JsonF64(f64::INFINITY)),
                    "-Infinity" | "-inf" => Ok(JsonF64(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonF64 {
    /// The value narrowed to `T`; a finite value beyond `T` (`1e10` for f16) is
    /// `OutOfRange`, never infinity.
    pub fn narrow<T: Element>(self) -> Result<T> {
        narrow_scalar(Scalar::Float(self.0))
    }
}

fn narrow_scalar<T: Element>(s: Scalar) -> Result<T> {
    T::from_scalar(s).ok_or_else(|| {
        Error::new(ErrorKind::OutOfRange {
            value: s.to_string(),
            expected: T::DTYPE.name().to_owned(),
        })
    })
}

/// An integer scalar in JSON: an integer, or an integral float (`3.0`, JSON has one number
/// type); `3.5` is a type error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JsonInt(pub Scalar);

impl<'de> serde::Deserialize<'de> for JsonInt {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = JsonInt;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<JsonInt, E> {
                Ok(JsonInt(Scalar::Int(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<JsonInt, E> {
                Ok(JsonInt(Scalar::UInt(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<JsonInt, E> {
                if v.fract() != 0.0 || !v.is_finite() {
                    return Err(E::invalid_type(serde::de::Unexpected::Float(v), &self));
                }
                Ok(JsonInt(if ((i64::MIN as f64)..0.0).contains(&v) {
                    Scalar::Int(v as i64)
                } else if (0.0..(u64::MAX as f64)).contains(&v) {
                    Scalar::UInt(v as u64)
                } else {
                    Scalar::Float(v) // out of range for every integer dtype
                }))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonInt {
    /// The value as `T`, or `OutOfRange` showing the number as read.
    pub fn narrow<T: Element>(self) -> Result<T> {
        narrow_scalar(self.0)
    }
}

/// [`de_at`] for a list element: the path gets `[i]`.
#[cold]
pub fn de_at_index<E: serde::de::Error>(e: E, index: usize) -> E {
    de_prefix(e, |t| t.at_index(index))
}

/// A JSON object key or enum name, borrowed from the input when the format allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldKey<'de>(pub Cow<'de, str>);

impl FieldKey<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for FieldKey<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = FieldKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(FieldKey(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(
                self,
                v: &str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(FieldKey(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(
                self,
                v: String,
            ) -> std::result::Result<Self::Value, E> {
                Ok(FieldKey(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Converts a runtime error into a serde error (its `Display` keeps the path).
#[cold]
pub fn de_error<E: serde::de::Error>(e: Error) -> E {
    crate::error::to_serde(e)
}

/// A required field's JSON value read as `Option<T>`: `null` is `MissingField` at
/// `field` (conformance/README.md), other errors go through [`de_at`].
pub fn de_required<T, E: serde::de::Error>(
    v: std::result::Result<Option<T>, E>,
    field: &str,
) -> std::result::Result<T, E> {
    match v {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(de_error(Error::missing_field(field))),
        Err(e) => Err(de_at(e, field)),
    }
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

/// Prefixes a serde error from a field's value with the field: a typed error (from
/// [`de_error`]) keeps its kind; serde's own type errors (`invalid type`, `invalid value`,
/// `invalid length`) become `WrongValue`. Anything else (JSON syntax, early end) passes
/// through untouched, so `from_json` still classifies it.
#[cold]
pub fn de_at<E: serde::de::Error>(e: E, field: &str) -> E {
    de_prefix(e, |t| t.at(field))
}

/// [`de_at`] for a `map<str, T>` value: the path gets `["key"]`.
#[cold]
pub fn de_at_key<E: serde::de::Error>(e: E, key: &str) -> E {
    de_prefix(e, |t| t.at_key(key))
}

fn de_prefix<E: serde::de::Error>(e: E, at: impl FnOnce(Error) -> Error) -> E {
    let msg = e.to_string();
    if let Some(typed) = crate::error::take_serde_error(&msg) {
        return crate::error::to_serde(at(typed));
    }
    if ["invalid type", "invalid value", "invalid length"]
        .iter()
        .any(|p| msg.starts_with(p))
    {
        return crate::error::to_serde(at(Error::new(ErrorKind::WrongValue(msg))));
    }
    e
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

/// The sample as JSON (DESIGN §4 form).
pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Serializing these structs to a String cannot fail: every map key is a str and every
    // value a JSON value (non-finite floats become null, as serde_json does).
    serde_json::to_string(v).unwrap_or_default()
}

/// Reads a sample from JSON; the error keeps its kind and path (see
/// [`crate::error::from_serde_json`]). A byte-order mark before the text is `Malformed`
/// (RFC 8259: JSON text is UTF-8 without one).
pub fn from_json<T: serde::de::DeserializeOwned>(s: &str, name: &str) -> Result<T> {
    if s.starts_with('\u{feff}') {
        return Err(Error::new(ErrorKind::Malformed(
            "a byte-order mark before JSON text".into(),
        ))
        .at(name));
    }
    let mut path = Vec::new();
    if let Err(e) = crate::json::check_structure(s.as_bytes(), &mut path) {
        let fielded = matches!(
            e.kind(),
            ErrorKind::DuplicateKey(_) | ErrorKind::InvalidUtf8
        );
        if !fielded {
            return Err(e.at(name));
        }
        if path.len() > 1 {
            // As in `from_msgpack`: below the top level only the schema tells a field
            // from a map key, and the decoder meets the same fault with that path.
            if let Err(d) = decode_json::<T>(s, name) {
                if d.kind() == e.kind() {
                    return Err(d);
                }
            }
        }
        return Err(e.at(&crate::msgpack::render_path(name, &path)));
    }
    decode_json(s, name)
}

fn decode_json<T: serde::de::DeserializeOwned>(s: &str, name: &str) -> Result<T> {
    crate::error::clear_serde_error();
    serde_json::from_str(s).map_err(|e| {
        let e = crate::error::from_serde_json(&e);
        // Errors from a record's own checks already start at the sample's name.
        let p = e.path();
        let rooted = p
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']));
        if rooted {
            e
        } else {
            e.at(name)
        }
    })
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

//! Field codecs: one value per field kind that knows how to write, read (owned or as a
//! zero-copy view), size, check, draw at random, and serialize through serde a field of
//! that kind. Generated structs hold one codec constant per field (`IMAGE_CODEC:
//! Arr<f32>`, `TAGS_CODEC: List<Str>`) and every per-field step is a call on it, so the
//! rules live here once and the compiler monomorphises each call.
//!
//! serde speaks two forms, picked by `is_human_readable()`: human-readable formats get the
//! JSON form of DESIGN §4 (arrays as `{data_b64, shape, dtype}`, bytes as base64, floats
//! with `"NaN"` / `"Infinity"`), binary formats the atdata MessagePack form (arrays as
//! atdata's array payload in a bin, enums as variant names, ints in the smallest family,
//! floats as f64), so `rmp_serde::to_vec_named(&x)` is `x.to_msgpack()` byte for byte.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeSeq, Serializer};

use super::{
    array_hint, check_records, de_at_index, de_at_key, de_error, fixed_array_hint, pack_array,
    pack_scalar_trusted, pack_view, random_packed, read_array, read_array_view, read_enum,
    read_list, read_map, read_packed, read_packed_scalar, read_packed_scalar_value,
    read_packed_view, read_records, read_records_ref, unpack_array, unpack_scalar, JsonF64,
    JsonInt, RandomDims, Record, RecordRef,
};
use crate::array::{check_bits, check_range, check_shape, format_shape, ArrayView, DimSpec};
use crate::array::{DimTable, Element, NdArray, Scalar};
use crate::bits::BitElement;
use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind, Result, ResultExt};
use crate::msgpack::{Reader, Writer};
use crate::rng::Rng;

/// Everything a generated struct does with one field, for one kind of field. `Value` is
/// the field's type in the struct, `View<'a>` its type in the zero-copy view.
pub trait Codec {
    type Value;
    type View<'a>;

    /// Whether MessagePack `nil` (JSON `null`) is a value of this kind (`T?`); for other
    /// fields it reads as a missing field (conformance/README.md).
    const NULLABLE: bool = false;

    fn write(&self, v: &Self::Value, w: &mut Writer);
    /// Reads one value, binding named dims in `dims`; errors carry the path below it.
    fn read(&self, r: &mut Reader<'_>, dims: &mut DimTable) -> Result<Self::Value>;
    /// Like [`Codec::read`], borrowing arrays, strs and bins from the input.
    fn read_view<'a>(&self, r: &mut Reader<'a>, dims: &mut DimTable) -> Result<Self::View<'a>>;
    fn owned(&self, v: &Self::View<'_>) -> Self::Value;
    /// An upper bound of the encoded size.
    fn hint(&self, v: &Self::Value) -> usize;
    /// Shapes always; with `full`, also `@range` and `@bits`.
    fn check(&self, v: &Self::Value, dims: &mut DimTable, full: bool) -> Result<()>;
    /// A random value following the recipe in the [module docs](super).
    fn random(&self, rng: &mut Rng, dims: &mut RandomDims) -> Self::Value;
    fn ser<S: Serializer>(&self, v: &Self::Value, s: S) -> std::result::Result<S::Ok, S::Error>;
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<Self::Value, D::Error>;
}

/// A value serialized through its codec.
pub struct With<'c, C: Codec>(pub &'c C, pub &'c C::Value);

impl<C: Codec> Serialize for With<'_, C> {
    #[inline]
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.ser(self.1, s)
    }
}

/// A value deserialized through its codec.
pub struct Seed<'c, C>(pub &'c C);

impl<'de, C: Codec> DeserializeSeed<'de> for Seed<'_, C> {
    type Value = C::Value;
    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<C::Value, D::Error> {
        self.0.de(d)
    }
}

/// `null` / `nil` as `None`, anything else through the codec.
pub struct OptSeed<'c, C>(pub &'c C);

impl<'de, C: Codec> DeserializeSeed<'de> for OptSeed<'_, C> {
    type Value = Option<C::Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, C: Codec> Visitor<'de> for OptSeed<'_, C> {
    type Value = Option<C::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        self.0.de(d).map(Some)
    }
}

// ---------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------

/// A numeric or bool scalar with its `@bits` and `@range`.
pub struct Num<T> {
    pub bits: Option<u32>,
    pub range: Option<(f64, f64)>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Num<T> {
    /// No `@bits`, no `@range`.
    pub const PLAIN: Self = Self {
        bits: None,
        range: None,
        _t: PhantomData,
    };

    pub const fn bits(mut self, bits: u32) -> Self {
        self.bits = Some(bits);
        self
    }

    pub const fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
}

/// A scalar as serde writes it: the same families as [`Writer::scalar`] (non-negative
/// ints unsigned, floats as f64; floats in human-readable formats as [`JsonF64`]).
fn ser_scalar<S: Serializer>(v: Scalar, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Scalar::Bool(b) => s.serialize_bool(b),
        Scalar::Int(i) if i >= 0 => s.serialize_u64(i as u64),
        Scalar::Int(i) => s.serialize_i64(i),
        Scalar::UInt(u) => s.serialize_u64(u),
        Scalar::Float(f) if s.is_human_readable() => JsonF64(f).serialize(s),
        Scalar::Float(f) => s.serialize_f64(f),
    }
}

/// Reads any bool or number as a [`Scalar`] (binary forms).
struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bool or a number")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Scalar, E> {
        Ok(Scalar::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
}

/// Narrows a binary-form scalar as [`Reader::scalar`] does: `OutOfRange` within the
/// family, `WrongType` across families.
fn narrow_binary<T: Element>(s: Scalar) -> Result<T> {
    T::from_scalar(s).ok_or_else(|| {
        let family_ok = match (T::DTYPE, s) {
            (Dtype::Bool, _) => matches!(s, Scalar::Bool(_)),
            (d, Scalar::Int(_) | Scalar::UInt(_)) if d.is_int() => true,
            (d, _) if d.is_int() => false,
            (_, Scalar::Bool(_)) => false,
            _ => true,
        };
        if family_ok {
            Error::new(ErrorKind::OutOfRange {
                value: s.to_string(),
                expected: T::DTYPE.name().to_owned(),
            })
        } else {
            Error::new(ErrorKind::WrongType {
                expected: match T::DTYPE {
                    Dtype::Bool => "bool",
                    d if d.is_int() => "int",
                    _ => "float or int",
                },
                found: s.family(),
            })
        }
    })
}

fn de_scalar<'de, T: Element, D: Deserializer<'de>>(d: D) -> std::result::Result<T, D::Error> {
    if d.is_human_readable() {
        // JSON: floats may be "NaN"/"Infinity" strings; integers may be integral floats.
        let r = match T::DTYPE {
            Dtype::Bool => {
                let b = bool::deserialize(d)?;
                return T::from_scalar(Scalar::Bool(b)).ok_or_else(|| de::Error::custom("bool"));
            }
            t if t.is_float() => JsonF64::deserialize_for(d, t)?.narrow::<T>(),
            t => JsonInt::deserialize_for(d, t)?.narrow::<T>(),
        };
        r.map_err(de_error)
    } else {
        narrow_binary(d.deserialize_any(ScalarVisitor)?).map_err(de_error)
    }
}

use serde::Deserialize as _;

impl<T: Element> Codec for Num<T> {
    type Value = T;
    type View<'a> = T;

    #[inline]
    fn write(&self, v: &T, w: &mut Writer) {
        w.scalar(*v);
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<T> {
        r.scalar::<T>()
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<T> {
        r.scalar::<T>()
    }
    #[inline]
    fn owned(&self, v: &T) -> T {
        *v
    }
    #[inline]
    fn hint(&self, _v: &T) -> usize {
        9
    }
    #[inline]
    fn check(&self, v: &T, _dims: &mut DimTable, full: bool) -> Result<()> {
        if full {
            // `@bits` before `@range` (docs/language.md, "Error precedence").
            if let Some(b) = self.bits {
                check_bits(&[*v], b)?;
            }
            if let Some((lo, hi)) = self.range {
                check_range(&[*v], lo, hi)?;
            }
        }
        Ok(())
    }
    #[inline]
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> T {
        T::random(rng, self.bits, self.range)
    }
    fn ser<S: Serializer>(&self, v: &T, s: S) -> std::result::Result<S::Ok, S::Error> {
        ser_scalar(v.to_scalar(), s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<T, D::Error> {
        de_scalar(d)
    }
}

/// A `str`.
pub struct Str;

impl Codec for Str {
    type Value = String;
    type View<'a> = &'a str;

    #[inline]
    fn write(&self, v: &String, w: &mut Writer) {
        w.str(v);
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<String> {
        r.str().map(str::to_owned)
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<&'a str> {
        r.str()
    }
    fn owned(&self, v: &&str) -> String {
        String::from(*v)
    }
    #[inline]
    fn hint(&self, v: &String) -> usize {
        5 + v.len()
    }
    #[inline]
    fn check(&self, _v: &String, _dims: &mut DimTable, _full: bool) -> Result<()> {
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> String {
        rng.string(8)
    }
    fn ser<S: Serializer>(&self, v: &String, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<String, D::Error> {
        String::deserialize(d)
    }
}

/// A `bytes` value: a bin on the wire, base64 in JSON.
pub struct Bin;

impl Codec for Bin {
    type Value = Vec<u8>;
    type View<'a> = &'a [u8];

    #[inline]
    fn write(&self, v: &Vec<u8>, w: &mut Writer) {
        w.bin(v);
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<Vec<u8>> {
        r.bin().map(<[u8]>::to_vec)
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<&'a [u8]> {
        r.bin()
    }
    fn owned(&self, v: &&[u8]) -> Vec<u8> {
        v.to_vec()
    }
    #[inline]
    fn hint(&self, v: &Vec<u8>) -> usize {
        5 + v.len()
    }
    #[inline]
    fn check(&self, _v: &Vec<u8>, _dims: &mut DimTable, _full: bool) -> Result<()> {
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> Vec<u8> {
        rng.bytes(8)
    }
    fn ser<S: Serializer>(&self, v: &Vec<u8>, s: S) -> std::result::Result<S::Ok, S::Error> {
        crate::json::base64_bytes::serialize(v, s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<Vec<u8>, D::Error> {
        crate::json::base64_bytes::deserialize(d)
    }
}

/// Implemented by every generated enum.
pub trait EnumValue: Copy + std::str::FromStr<Err = Error> + 'static {
    /// Every variant, in declaration order.
    const VARIANTS: &'static [Self];
    /// The variant's name on the wire.
    fn name(self) -> &'static str;
}

/// An enum: its variant's name as a str.
pub struct Enum<E>(PhantomData<fn() -> E>);

impl<E> Enum<E> {
    pub const NEW: Self = Self(PhantomData);
}

impl<E: EnumValue> Codec for Enum<E> {
    type Value = E;
    type View<'a> = E;

    #[inline]
    fn write(&self, v: &E, w: &mut Writer) {
        w.str(v.name());
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<E> {
        read_enum(r)
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<E> {
        read_enum(r)
    }
    #[inline]
    fn owned(&self, v: &E) -> E {
        *v
    }
    #[inline]
    fn hint(&self, v: &E) -> usize {
        5 + v.name().len()
    }
    #[inline]
    fn check(&self, _v: &E, _dims: &mut DimTable, _full: bool) -> Result<()> {
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> E {
        E::VARIANTS[rng.below(E::VARIANTS.len() as u64) as usize]
    }
    fn ser<S: Serializer>(&self, v: &E, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(v.name())
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<E, D::Error> {
        de_enum(d)
    }
}

/// An enum from its variant name (both serde forms).
pub fn de_enum<'de, E: EnumValue, D: Deserializer<'de>>(d: D) -> std::result::Result<E, D::Error> {
    let name = super::FieldKey::deserialize(d)?;
    name.as_str().parse().map_err(de_error)
}

// ---------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------

/// An n-d array with its schema shape, `@bits` and `@range`.
pub struct Arr<T> {
    pub shape: &'static [DimSpec],
    pub bits: Option<u32>,
    pub range: Option<(f64, f64)>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Arr<T> {
    pub const fn new(shape: &'static [DimSpec]) -> Self {
        Self {
            shape,
            bits: None,
            range: None,
            _t: PhantomData,
        }
    }

    pub const fn bits(mut self, bits: u32) -> Self {
        self.bits = Some(bits);
        self
    }

    pub const fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
}

fn ser_ndarray<T: Element, S: Serializer>(
    a: &NdArray<T>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        a.serialize(s)
    } else {
        s.serialize_bytes(&crate::msgpack::array_payload(a.shape(), a.as_slice()))
    }
}

/// Reads atdata's array payload (or a `.npy` file) from serde bytes.
struct PayloadVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Element> Visitor<'de> for PayloadVisitor<T> {
    type Value = NdArray<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes holding an atdata array payload")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<NdArray<T>, E> {
        crate::msgpack::array_from_payload(v).map_err(de_error)
    }

    /// The msgpack-numpy map (`nd`, `type`, `kind`, `shape`, `data`; bin or str keys), as
    /// [`Reader::array`] accepts it.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<NdArray<T>, A::Error> {
        let wrong = |expected: &'static str, found: &'static str| {
            de_error::<A::Error>(Error::new(ErrorKind::WrongType { expected, found }))
        };
        let (mut nd, mut typestr, mut shape, mut data) = (true, None, None::<Vec<u64>>, None);
        while let Some(Raw(k)) = map.next_key::<Raw>()? {
            match k.as_slice() {
                b"nd" => nd = map.next_value()?,
                b"type" => typestr = Some(map.next_value::<Raw>()?.0),
                b"shape" => shape = Some(map.next_value()?),
                b"data" => data = Some(map.next_value::<Raw>()?.0),
                b"kind" => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                _ => {
                    return Err(wrong(
                        "a msgpack-numpy map (nd, type, kind, shape, data)",
                        "a map with another key",
                    ))
                }
            }
        }
        let typestr = typestr
            .ok_or_else(|| wrong("a msgpack-numpy map with \"type\"", "a map without it"))?;
        let data =
            data.ok_or_else(|| wrong("a msgpack-numpy map with \"data\"", "a map without it"))?;
        let shape = match (nd, shape) {
            (false, _) => Vec::new(),
            (true, Some(s)) => s,
            (true, None) => {
                return Err(wrong(
                    "a msgpack-numpy map with \"shape\"",
                    "a map without it",
                ))
            }
        };
        let name = String::from_utf8_lossy(&typestr);
        let dtype = Dtype::from_typestr(&name).ok_or_else(|| {
            de_error::<A::Error>(Error::new(ErrorKind::UnknownDtype(name.to_string())))
        })?;
        if dtype != T::DTYPE {
            return Err(de_error(Error::new(ErrorKind::DtypeMismatch {
                expected: T::DTYPE.typestr(),
                found: dtype.typestr().to_owned(),
            })));
        }
        let shape = shape
            .into_iter()
            .map(|d| {
                usize::try_from(d)
                    .map_err(|_| Error::new(ErrorKind::InvalidShape(format!("dim {d} too large"))))
            })
            .collect::<Result<Vec<usize>>>()
            .map_err(de_error)?;
        NdArray::from_le_bytes(shape, &data).map_err(de_error)
    }
}

/// A str or bytes value as its bytes (msgpack-numpy writes its keys as bins).
struct Raw(Vec<u8>);

impl<'de> serde::Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Raw, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a str or bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Raw, E> {
                Ok(Raw(v.as_bytes().to_vec()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> std::result::Result<Raw, E> {
                Ok(Raw(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> std::result::Result<Raw, E> {
                Ok(Raw(v))
            }
        }
        d.deserialize_any(V)
    }
}

fn de_ndarray<'de, T: Element, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<NdArray<T>, D::Error> {
    if d.is_human_readable() {
        NdArray::deserialize(d)
    } else {
        // `byte_buf`, not `bytes`: some formats (ciborium) hand over long byte strings
        // only as owned buffers.
        d.deserialize_byte_buf(PayloadVisitor(PhantomData))
    }
}

impl<T: Element> Codec for Arr<T> {
    type Value = NdArray<T>;
    type View<'a> = ArrayView<'a, T>;

    #[inline]
    fn write(&self, v: &NdArray<T>, w: &mut Writer) {
        w.array(v);
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, dims: &mut DimTable) -> Result<NdArray<T>> {
        read_array(r, self.shape, dims)
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, dims: &mut DimTable) -> Result<ArrayView<'a, T>> {
        read_array_view(r, self.shape, dims)
    }
    fn owned(&self, v: &ArrayView<'_, T>) -> NdArray<T> {
        v.to_owned()
    }
    #[inline]
    fn hint(&self, v: &NdArray<T>) -> usize {
        array_hint(v)
    }
    fn check(&self, v: &NdArray<T>, dims: &mut DimTable, full: bool) -> Result<()> {
        check_shape(self.shape, v.shape(), dims)?;
        if full {
            // `@bits` before `@range` (docs/language.md, "Error precedence").
            if let Some(b) = self.bits {
                check_bits(v.as_slice(), b)?;
            }
            if let Some((lo, hi)) = self.range {
                check_range(v.as_slice(), lo, hi)?;
            }
        }
        Ok(())
    }
    fn random(&self, rng: &mut Rng, dims: &mut RandomDims) -> NdArray<T> {
        let shape = dims.shape(self.shape, rng);
        NdArray::random(shape, rng, self.bits, self.range)
    }
    fn ser<S: Serializer>(&self, v: &NdArray<T>, s: S) -> std::result::Result<S::Ok, S::Error> {
        ser_ndarray(v, s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<NdArray<T>, D::Error> {
        let a = de_ndarray(d)?;
        // Rank and fixed dims as the array is read, named dims in the check pass (as
        // `read`; docs/language.md, "Error precedence").
        check_shape(self.shape, a.shape(), &mut DimTable::unbound()).map_err(de_error)?;
        Ok(a)
    }
}

/// A `@packed` array field: stored as its `N` packed bytes, the ordinary array on the wire.
/// `dims` is the (fixed) shape as sizes.
pub struct PackedArr<T, const N: usize> {
    pub shape: &'static [DimSpec],
    pub dims: &'static [usize],
    pub bits: u32,
    pub range: Option<(f64, f64)>,
    _t: PhantomData<fn() -> T>,
}

impl<T, const N: usize> PackedArr<T, N> {
    pub const fn new(shape: &'static [DimSpec], dims: &'static [usize], bits: u32) -> Self {
        Self {
            shape,
            dims,
            bits,
            range: None,
            _t: PhantomData,
        }
    }

    pub const fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }

    fn count(&self) -> usize {
        self.dims.iter().product()
    }
}

impl<T: Element + BitElement, const N: usize> Codec for PackedArr<T, N> {
    type Value = [u8; N];
    type View<'a> = ArrayView<'a, T>;

    fn write(&self, v: &[u8; N], w: &mut Writer) {
        super::write_packed::<T>(w, self.dims, v, self.bits);
    }
    fn read(&self, r: &mut Reader<'_>, dims: &mut DimTable) -> Result<[u8; N]> {
        read_packed::<T, N>(r, self.shape, dims, self.bits)
    }
    fn read_view<'a>(&self, r: &mut Reader<'a>, dims: &mut DimTable) -> Result<ArrayView<'a, T>> {
        read_packed_view(r, self.shape, dims, self.bits)
    }
    fn owned(&self, v: &ArrayView<'_, T>) -> [u8; N] {
        pack_view(v, self.bits)
    }
    #[inline]
    fn hint(&self, _v: &[u8; N]) -> usize {
        fixed_array_hint::<T>(self.dims.len(), self.count())
    }
    #[inline]
    fn check(&self, _v: &[u8; N], _dims: &mut DimTable, _full: bool) -> Result<()> {
        // Packed storage holds exactly the fixed shape, and every stored value fits.
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> [u8; N] {
        // The shape is fixed, so drawing it draws nothing; only the count matters.
        random_packed::<T, N>(rng, self.count(), self.bits, self.range)
    }
    fn ser<S: Serializer>(&self, v: &[u8; N], s: S) -> std::result::Result<S::Ok, S::Error> {
        ser_ndarray(&unpack_array::<T>(v, self.dims, self.bits), s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<[u8; N], D::Error> {
        let a = de_ndarray::<T, D>(d)?;
        pack_array::<T, N>(&a, self.shape, self.bits).map_err(de_error)
    }
}

/// A `@packed` scalar field: stored as its `N` packed bytes, the ordinary scalar on the wire.
pub struct PackedNum<T, const N: usize> {
    pub bits: u32,
    pub range: Option<(f64, f64)>,
    _t: PhantomData<fn() -> T>,
}

impl<T, const N: usize> PackedNum<T, N> {
    pub const fn new(bits: u32) -> Self {
        Self {
            bits,
            range: None,
            _t: PhantomData,
        }
    }

    pub const fn range(mut self, lo: f64, hi: f64) -> Self {
        self.range = Some((lo, hi));
        self
    }
}

impl<T, const N: usize> Codec for PackedNum<T, N>
where
    T: Element + BitElement + for<'de> serde::Deserialize<'de>,
{
    type Value = [u8; N];
    type View<'a> = T;

    fn write(&self, v: &[u8; N], w: &mut Writer) {
        w.scalar(unpack_scalar::<T>(v, self.bits));
    }
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<[u8; N]> {
        read_packed_scalar::<T, N>(r, self.bits)
    }
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<T> {
        read_packed_scalar_value(r, self.bits)
    }
    fn owned(&self, v: &T) -> [u8; N] {
        pack_scalar_trusted(*v, self.bits)
    }
    #[inline]
    fn hint(&self, _v: &[u8; N]) -> usize {
        9
    }
    #[inline]
    fn check(&self, _v: &[u8; N], _dims: &mut DimTable, _full: bool) -> Result<()> {
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> [u8; N] {
        random_packed::<T, N>(rng, 1, self.bits, self.range)
    }
    fn ser<S: Serializer>(&self, v: &[u8; N], s: S) -> std::result::Result<S::Ok, S::Error> {
        ser_scalar(unpack_scalar::<T>(v, self.bits).to_scalar(), s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<[u8; N], D::Error> {
        let v = if d.is_human_readable() {
            T::deserialize(d)?
        } else {
            narrow_binary(d.deserialize_any(ScalarVisitor)?).map_err(de_error)?
        };
        super::pack_scalar::<T, N>(v, self.bits).map_err(de_error)
    }
}

// ---------------------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------------------

/// A component field: a nested record.
pub struct Rec<R>(PhantomData<fn() -> R>);

impl<R> Rec<R> {
    pub const NEW: Self = Self(PhantomData);
}

impl<R: Record> Codec for Rec<R> {
    type Value = R;
    type View<'a> = R::Ref<'a>;

    #[inline]
    fn write(&self, v: &R, w: &mut Writer) {
        v.write_msgpack(w);
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, dims: &mut DimTable) -> Result<R> {
        R::read_msgpack_in(r, dims)
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, dims: &mut DimTable) -> Result<R::Ref<'a>> {
        <R::Ref<'a> as RecordRef<'a>>::read_msgpack_in(r, dims)
    }
    fn owned(&self, v: &R::Ref<'_>) -> R {
        v.to_owned_record()
    }
    #[inline]
    fn hint(&self, v: &R) -> usize {
        v.size_hint()
    }
    #[inline]
    fn check(&self, v: &R, dims: &mut DimTable, full: bool) -> Result<()> {
        v.check_in(dims, full)
    }
    fn random(&self, rng: &mut Rng, dims: &mut RandomDims) -> R {
        R::random_in(rng, dims)
    }
    fn ser<S: Serializer>(&self, v: &R, s: S) -> std::result::Result<S::Ok, S::Error> {
        super::serialize_record(v, s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<R, D::Error> {
        super::deserialize_record(d)
    }
}

/// A component array (`Pose[8]`, `Cell[3, 3]`, `Pose[_]`): a flat C-order `Vec`, nested
/// arrays following the shape on the wire (see the [module docs](super)).
pub struct Recs<R> {
    pub shape: &'static [DimSpec],
    _r: PhantomData<fn() -> R>,
}

impl<R> Recs<R> {
    pub const fn new(shape: &'static [DimSpec]) -> Self {
        Self {
            shape,
            _r: PhantomData,
        }
    }
}

/// The number of items per element of the first dim (the fixed dims after it).
fn chunk(inner: &[DimSpec]) -> usize {
    inner
        .iter()
        .map(|d| match *d {
            DimSpec::Fixed(n) => n as usize,
            _ => 1,
        })
        .product::<usize>()
        .max(1)
}

fn write_nested<R: Record>(w: &mut Writer, items: &[R], inner: &[DimSpec]) {
    match inner.split_first() {
        None => {
            w.array_header(items.len());
            for item in items {
                item.write_msgpack(w);
            }
        }
        Some((_, rest)) => {
            w.array_header(items.len().div_ceil(chunk(inner)));
            for c in items.chunks(chunk(inner)) {
                write_nested_rest(w, c, inner, rest);
            }
        }
    }
}

fn write_nested_rest<R: Record>(w: &mut Writer, items: &[R], inner: &[DimSpec], rest: &[DimSpec]) {
    if rest.is_empty() {
        let n = match inner[0] {
            DimSpec::Fixed(n) => n as usize,
            _ => items.len(),
        };
        w.array_header(items.len().min(n));
        for item in items {
            item.write_msgpack(w);
        }
    } else {
        w.array_header(items.len().div_ceil(chunk(rest)));
        for c in items.chunks(chunk(rest)) {
            write_nested_rest(w, c, rest, &rest[1..]);
        }
    }
}

/// Nested sequences over C-order chunks.
struct Nest<'a, R> {
    items: &'a [R],
    inner: &'a [DimSpec],
}

impl<R: Record> Serialize for Nest<'_, R> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.inner.is_empty() {
            let mut seq = s.serialize_seq(Some(self.items.len()))?;
            for item in self.items {
                seq.serialize_element(&With(&Rec::<R>::NEW, item))?;
            }
            seq.end()
        } else {
            let c = chunk(self.inner);
            let mut seq = s.serialize_seq(Some(self.items.len().div_ceil(c)))?;
            for part in self.items.chunks(c) {
                seq.serialize_element(&Nest {
                    items: part,
                    inner: &self.inner[1..],
                })?;
            }
            seq.end()
        }
    }
}

/// Reads nested sequences into one flat `Vec`. Every element is read before a level's
/// count is compared (docs/language.md, "Error precedence"): the first wrong count of an
/// inner level, in document order, is kept in `wrong_len` (at its index) for the caller to
/// report after the outer level's own.
struct NestSeed<'o, R> {
    inner: &'o [DimSpec],
    out: &'o mut Vec<R>,
    wrong_len: &'o mut Option<Error>,
}

impl<'de, R: Record> DeserializeSeed<'de> for NestSeed<'_, R> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: Record> Visitor<'de> for NestSeed<'_, R> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<usize, A::Error> {
        let mut n = 0;
        loop {
            let got = match self.inner.split_first() {
                None => seq
                    .next_element_seed(Seed(&Rec::<R>::NEW))
                    .map_err(|e| de_at_index(e, n))?
                    .map(|x| self.out.push(x))
                    .is_some(),
                Some((first, rest)) => {
                    let mut inner_wrong = None;
                    let seed = NestSeed {
                        inner: rest,
                        out: &mut *self.out,
                        wrong_len: &mut inner_wrong,
                    };
                    match seq.next_element_seed(seed).map_err(|e| de_at_index(e, n))? {
                        None => false,
                        Some(k) => {
                            if self.wrong_len.is_none() {
                                *self.wrong_len = inner_wrong.map(|e| e.at_index(n));
                            }
                            if let DimSpec::Fixed(want) = *first {
                                if k as u64 != want && self.wrong_len.is_none() {
                                    *self.wrong_len = Some(
                                        Error::new(ErrorKind::ShapeMismatch {
                                            expected: format_shape(self.inner),
                                            found: vec![k as u64],
                                        })
                                        .at_index(n),
                                    );
                                }
                            }
                            true
                        }
                    }
                }
            };
            if !got {
                return Ok(n);
            }
            n += 1;
        }
    }
}

impl<R: Record> Codec for Recs<R> {
    type Value = Vec<R>;
    type View<'a> = Vec<R::Ref<'a>>;

    fn write(&self, v: &Vec<R>, w: &mut Writer) {
        write_nested(w, v, &self.shape[1..]);
    }
    fn read(&self, r: &mut Reader<'_>, dims: &mut DimTable) -> Result<Vec<R>> {
        read_records(r, self.shape, dims)
    }
    fn read_view<'a>(&self, r: &mut Reader<'a>, dims: &mut DimTable) -> Result<Vec<R::Ref<'a>>> {
        read_records_ref(r, self.shape, dims)
    }
    fn owned(&self, v: &Vec<R::Ref<'_>>) -> Vec<R> {
        v.iter().map(RecordRef::to_owned_record).collect()
    }
    fn hint(&self, v: &Vec<R>) -> usize {
        5 * self.shape.len() + v.iter().map(Record::size_hint).sum::<usize>()
    }
    fn check(&self, v: &Vec<R>, dims: &mut DimTable, full: bool) -> Result<()> {
        check_records(v, self.shape, dims, full)
    }
    fn random(&self, rng: &mut Rng, dims: &mut RandomDims) -> Vec<R> {
        super::random_records(rng, self.shape, dims)
    }
    fn ser<S: Serializer>(&self, v: &Vec<R>, s: S) -> std::result::Result<S::Ok, S::Error> {
        Nest {
            items: v,
            inner: &self.shape[1..],
        }
        .serialize(s)
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<Vec<R>, D::Error> {
        let mut out = Vec::new();
        let mut wrong_len = None;
        let n = NestSeed {
            inner: &self.shape[1..],
            out: &mut out,
            wrong_len: &mut wrong_len,
        }
        .deserialize(d)?;
        if let Some(&DimSpec::Fixed(want)) = self.shape.first() {
            if want != n as u64 && wrong_len.is_none() {
                wrong_len = Some(Error::new(ErrorKind::ShapeMismatch {
                    expected: format_shape(self.shape),
                    found: vec![n as u64],
                }));
            }
        }
        wrong_len.map_or(Ok(out), |e| Err(de_error(e)))
    }
}

// ---------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------

/// `T?`: `nil` / `null` is `None`.
pub struct Opt<C>(pub C);

impl<C: Codec> Codec for Opt<C> {
    type Value = Option<C::Value>;
    type View<'a> = Option<C::View<'a>>;
    const NULLABLE: bool = true;

    #[inline]
    fn write(&self, v: &Self::Value, w: &mut Writer) {
        match v {
            Some(v) => self.0.write(v, w),
            None => w.nil(),
        }
    }
    #[inline]
    fn read(&self, r: &mut Reader<'_>, dims: &mut DimTable) -> Result<Self::Value> {
        if r.try_nil()? {
            Ok(None)
        } else {
            self.0.read(r, dims).map(Some)
        }
    }
    #[inline]
    fn read_view<'a>(&self, r: &mut Reader<'a>, dims: &mut DimTable) -> Result<Self::View<'a>> {
        if r.try_nil()? {
            Ok(None)
        } else {
            self.0.read_view(r, dims).map(Some)
        }
    }
    fn owned(&self, v: &Self::View<'_>) -> Self::Value {
        v.as_ref().map(|v| self.0.owned(v))
    }
    #[inline]
    fn hint(&self, v: &Self::Value) -> usize {
        v.as_ref().map_or(1, |v| self.0.hint(v))
    }
    #[inline]
    fn check(&self, v: &Self::Value, dims: &mut DimTable, full: bool) -> Result<()> {
        match v {
            Some(v) => self.0.check(v, dims, full),
            None => Ok(()),
        }
    }
    fn random(&self, rng: &mut Rng, dims: &mut RandomDims) -> Self::Value {
        if rng.bool() {
            Some(self.0.random(rng, dims))
        } else {
            None
        }
    }
    fn ser<S: Serializer>(&self, v: &Self::Value, s: S) -> std::result::Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&With(&self.0, v)),
            None => s.serialize_none(),
        }
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<Self::Value, D::Error> {
        OptSeed(&self.0).deserialize(d)
    }
}

/// `list<T>`: items get fresh named dims (each item is its own scope).
pub struct List<C>(pub C);

struct ListVisitor<'c, C>(&'c C);

impl<'de, C: Codec> Visitor<'de> for ListVisitor<'_, C> {
    type Value = Vec<C::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        // No `with_capacity(size_hint)`: the hint comes from the input.
        let mut out = Vec::new();
        loop {
            let i = out.len();
            match seq
                .next_element_seed(Seed(self.0))
                .map_err(|e| de_at_index(e, i))?
            {
                Some(x) => out.push(x),
                None => return Ok(out),
            }
        }
    }
}

impl<C: Codec> Codec for List<C> {
    type Value = Vec<C::Value>;
    type View<'a> = Vec<C::View<'a>>;

    fn write(&self, v: &Self::Value, w: &mut Writer) {
        w.array_header(v.len());
        for x in v {
            self.0.write(x, w);
        }
    }
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<Self::Value> {
        read_list(r, |r| self.0.read(r, &mut DimTable::new()))
    }
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<Self::View<'a>> {
        read_list(r, |r| self.0.read_view(r, &mut DimTable::new()))
    }
    fn owned(&self, v: &Self::View<'_>) -> Self::Value {
        v.iter().map(|x| self.0.owned(x)).collect()
    }
    fn hint(&self, v: &Self::Value) -> usize {
        5 + v.iter().map(|x| self.0.hint(x)).sum::<usize>()
    }
    fn check(&self, v: &Self::Value, _dims: &mut DimTable, full: bool) -> Result<()> {
        for (i, x) in v.iter().enumerate() {
            self.0.check(x, &mut DimTable::new(), full).at_index(i)?;
        }
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> Self::Value {
        let n = rng.below(4);
        (0..n)
            .map(|_| self.0.random(rng, &mut RandomDims::new()))
            .collect()
    }
    fn ser<S: Serializer>(&self, v: &Self::Value, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| With(&self.0, x)))
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_seq(ListVisitor(&self.0))
    }
}

/// `map<str, T>`: sorted keys on the wire; a key given twice is `DuplicateKey`.
pub struct Map<C>(pub C);

struct MapVisitor<'c, C>(&'c C);

impl<'de, C: Codec> Visitor<'de> for MapVisitor<'_, C> {
    type Value = BTreeMap<String, C::Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map
                .next_value_seed(Seed(self.0))
                .map_err(|e| de_at_key(e, &k))?;
            if out.contains_key(&k) {
                let e = Error::new(ErrorKind::DuplicateKey(k.clone())).at_key(&k);
                return Err(de_error(e));
            }
            out.insert(k, v);
        }
        Ok(out)
    }
}

impl<C: Codec> Codec for Map<C> {
    type Value = BTreeMap<String, C::Value>;
    type View<'a> = BTreeMap<&'a str, C::View<'a>>;

    fn write(&self, v: &Self::Value, w: &mut Writer) {
        w.map_header(v.len());
        for (k, x) in v {
            w.str(k);
            self.0.write(x, w);
        }
    }
    fn read(&self, r: &mut Reader<'_>, _dims: &mut DimTable) -> Result<Self::Value> {
        read_map(r, |r| self.0.read(r, &mut DimTable::new()))
    }
    fn read_view<'a>(&self, r: &mut Reader<'a>, _dims: &mut DimTable) -> Result<Self::View<'a>> {
        read_map(r, |r| self.0.read_view(r, &mut DimTable::new()))
    }
    fn owned(&self, v: &Self::View<'_>) -> Self::Value {
        v.iter()
            .map(|(k, x)| (String::from(*k), self.0.owned(x)))
            .collect()
    }
    fn hint(&self, v: &Self::Value) -> usize {
        5 + v
            .iter()
            .map(|(k, x)| 5 + k.len() + self.0.hint(x))
            .sum::<usize>()
    }
    fn check(&self, v: &Self::Value, _dims: &mut DimTable, full: bool) -> Result<()> {
        for (k, x) in v {
            self.0.check(x, &mut DimTable::new(), full).at_key(k)?;
        }
        Ok(())
    }
    fn random(&self, rng: &mut Rng, _dims: &mut RandomDims) -> Self::Value {
        let n = rng.below(4);
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let k = rng.string(6);
            let v = self.0.random(rng, &mut RandomDims::new());
            out.insert(k, v);
        }
        out
    }
    fn ser<S: Serializer>(&self, v: &Self::Value, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(v.iter().map(|(k, x)| (k, With(&self.0, x))))
    }
    fn de<'de, D: Deserializer<'de>>(&self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_map(MapVisitor(&self.0))
    }
}

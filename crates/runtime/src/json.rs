//! Serde support for arrays and bytes: the truss-chains JSON form of DESIGN.md §4.
//!
//! Owns:
//! - `Serialize` / `Deserialize` for [`NdArray`]. Human-readable formats (JSON) use
//!   `{"data_b64": <standard padded base64 of the LE bytes>, "shape": [...], "dtype":
//!   <numpy name>}`, byte-identical to truss-chains' `NumpyArrayField`; reading also
//!   accepts a typestr for `dtype` and plain nested lists of numbers. Binary formats use a
//!   compact `(shape, typestr, bytes)` tuple.
//! - [`base64_bytes`] / [`base64_bytes_opt`]: `#[serde(with = ...)]` modules for `bytes`
//!   fields, as standard padded base64 strings in human-readable formats.
//!
//! Decoding never trusts a length it has not seen: base64 and nested lists grow with the
//! input only.

use std::fmt;
use std::marker::PhantomData;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeStruct, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use crate::array::{shape_len, Element, NdArray, Scalar};
use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind};
use crate::msgpack::PathSeg;

/// Standard alphabet with `=` padding, both ways: unpadded, URL-safe or whitespace-holding
/// text is `InvalidBase64` (docs/language.md, "Rejections both runtimes agree on").
const STRICT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

fn de_err<E: de::Error>(kind: ErrorKind) -> E {
    crate::error::to_serde(Error::new(kind))
}

/// Standard padded base64 to bytes, or `InvalidBase64`.
pub fn decode_base64(s: &str) -> Result<Vec<u8>, Error> {
    STRICT
        .decode(s.as_bytes())
        .map_err(|e| Error::new(ErrorKind::InvalidBase64(e.to_string())))
}

// ---------------------------------------------------------------------------------------
// NdArray: Serialize
// ---------------------------------------------------------------------------------------

/// Serializes a byte slice with `serialize_bytes` (serde's default for `&[u8]` is a
/// sequence of numbers, which wastes space in binary formats).
struct RawBytes<'a>(&'a [u8]);

impl Serialize for RawBytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<T: Element> Serialize for NdArray<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.as_le_bytes();
        if s.is_human_readable() {
            // Field order is truss-chains': data_b64, shape, dtype.
            let mut st = s.serialize_struct("NdArray", 3)?;
            st.serialize_field("data_b64", &STANDARD.encode(&bytes))?;
            st.serialize_field("shape", self.shape())?;
            st.serialize_field("dtype", T::DTYPE.numpy_name())?;
            st.end()
        } else {
            let mut t = s.serialize_tuple(3)?;
            t.serialize_element(self.shape())?;
            t.serialize_element(T::DTYPE.typestr())?;
            t.serialize_element(&RawBytes(&bytes))?;
            t.end()
        }
    }
}

// ---------------------------------------------------------------------------------------
// NdArray: Deserialize
// ---------------------------------------------------------------------------------------

impl<'de, T: Element> Deserialize<'de> for NdArray<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(HumanVisitor(PhantomData))
        } else {
            d.deserialize_tuple(3, CompactVisitor(PhantomData))
        }
    }
}

/// Checks a dtype spelling (numpy name or typestr) against `T`.
fn check_dtype<T: Element, E: de::Error>(s: &str) -> Result<(), E> {
    let d = Dtype::from_numpy(s).ok_or_else(|| de_err(ErrorKind::UnknownDtype(s.to_owned())))?;
    if d != T::DTYPE {
        return Err(de_err(ErrorKind::DtypeMismatch {
            expected: T::DTYPE.typestr(),
            found: d.typestr().to_owned(),
        }));
    }
    Ok(())
}

fn to_usize_shape<E: de::Error>(shape: Vec<u64>) -> Result<Vec<usize>, E> {
    shape
        .into_iter()
        .map(|d| {
            usize::try_from(d)
                .map_err(|_| de_err(ErrorKind::InvalidShape(format!("dim {d} too large"))))
        })
        .collect()
}

/// Builds the array from shape and LE bytes, checking the byte count.
fn from_parts<T: Element, E: de::Error>(shape: Vec<u64>, bytes: &[u8]) -> Result<NdArray<T>, E> {
    let shape = to_usize_shape(shape)?;
    shape_len(&shape).map_err(crate::error::to_serde)?;
    NdArray::from_le_bytes(shape, bytes).map_err(crate::error::to_serde)
}

/// An array object's `data_b64`, read without failing on a value that is not a string:
/// that error is kept (`Err(message)`) and reported where the base64 is checked, after
/// the dtype and the keys being there (as [`DeferredShape`]).
struct DeferredText;

impl<'de> DeserializeSeed<'de> for DeferredText {
    type Value = std::result::Result<String, String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DeferredText {
    type Value = std::result::Result<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Ok(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Ok(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(
            "invalid type: sequence, expected a base64 string".into()
        ))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err("invalid type: map, expected a base64 string".into()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("invalid type: boolean, expected a base64 string".into()))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("invalid type: integer, expected a base64 string".into()))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("invalid type: integer, expected a base64 string".into()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("invalid type: float, expected a base64 string".into()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("invalid type: null, expected a base64 string".into()))
    }
}

/// An array object's `shape`, read without failing on a value of the wrong type: that
/// error is kept (`Err(message)`) and reported after the dtype and base64 checks, which
/// come first whatever the key order.
struct DeferredShape;

impl<'de> DeserializeSeed<'de> for DeferredShape {
    type Value = std::result::Result<Vec<u64>, String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DeferredShape {
    type Value = std::result::Result<Vec<u64>, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a shape (a list of non-negative integers)")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut dims = Vec::new();
        let mut bad = None;
        while let Some(x) = seq.next_element::<DimValue>()? {
            match (x, &bad) {
                (DimValue(Some(d)), None) => dims.push(d),
                (DimValue(None), None) => {
                    bad = Some("invalid value in shape, expected u64".to_owned());
                }
                _ => {}
            }
        }
        Ok(bad.map_or(Ok(dims), Err))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err("invalid type: map, expected a shape".into()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("invalid type: boolean, expected a shape".into()))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("invalid type: integer, expected a shape".into()))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("invalid type: integer, expected a shape".into()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("invalid type: float, expected a shape".into()))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("invalid type: string, expected a shape".into()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err("invalid type: null, expected a shape".into()))
    }
}

/// One shape dim: `Some` for a non-negative integer (an integral float is not one),
/// `None` for any other value (skipped whole).
struct DimValue(Option<u64>);

impl<'de> Deserialize<'de> for DimValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DimValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dim")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<DimValue, E> {
                // A number past u64 (a placeholder, crate::json_numbers) is no dim.
                Ok(DimValue((!crate::json_numbers::is_wide(v)).then_some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<DimValue, E> {
                Ok(DimValue(u64::try_from(v).ok()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<DimValue, E> {
                Ok(DimValue(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<DimValue, E> {
                Ok(DimValue(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<DimValue, E> {
                Ok(DimValue(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<DimValue, E> {
                Ok(DimValue(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DimValue, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(DimValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DimValue, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(DimValue(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// The JSON visitor: an object (`data_b64` form) or nested lists.
struct HumanVisitor<T>(PhantomData<T>);

impl<'de, T: Element> Visitor<'de> for HumanVisitor<T> {
    type Value = NdArray<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} array as {{data_b64, shape, dtype}} or nested lists",
            T::DTYPE.numpy_name()
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Checked in the decided order whatever the key order (conformance/README.md):
        // dtype, then base64, then the data length and shape.
        let mut data: Option<std::result::Result<String, String>> = None;
        let mut shape: Option<std::result::Result<Vec<u64>, String>> = None;
        let mut seen_dtype = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let dup = match &*key {
                "data_b64" => data.is_some(),
                "shape" => shape.is_some(),
                "dtype" => std::mem::replace(&mut seen_dtype, true),
                _ => false,
            };
            if dup {
                return Err(de_err(ErrorKind::DuplicateKey(key.into_owned())));
            }
            match &*key {
                "data_b64" => data = Some(map.next_value_seed(DeferredText)?),
                "shape" => shape = Some(map.next_value_seed(DeferredShape)?),
                "dtype" => {
                    let s: std::borrow::Cow<'de, str> = map.next_value()?;
                    check_dtype::<T, A::Error>(&s)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        // The object has exactly data_b64, shape and dtype: a missing one is
        // `MissingField` at the array's field.
        let (Some(data), Some(shape), true) = (data, shape, seen_dtype) else {
            return Err(de_err(ErrorKind::MissingField));
        };
        let data = data.map_err(|msg| de_err(ErrorKind::WrongValue(msg)))?;
        let data = decode_base64(&data).map_err(crate::error::to_serde)?;
        let shape = shape.map_err(|msg| de_err(ErrorKind::WrongValue(msg)))?;
        from_parts(shape, &data)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let mut st = Nest::<T>::default();
        NestVisitor {
            st: &mut st,
            depth: 0,
        }
        .visit_seq(seq)?;
        st.finish()
    }

    // A bare number or bool is a 0-d array.
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.leaf(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.leaf(Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.leaf(Scalar::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.leaf(Scalar::Float(v))
    }
}

impl<T: Element> HumanVisitor<T> {
    fn leaf<E: de::Error>(self, s: Scalar) -> Result<NdArray<T>, E> {
        let mut st = Nest::<T>::default();
        st.leaf(0, s)?;
        st.finish()
    }
}

/// State of a nested-list parse: the size seen at each depth, the depth leaves sit at,
/// and the elements so far. Every list at depth `d` must have `dims[d]` items and all
/// leaves must sit at one depth, which is exactly "not ragged".
struct Nest<T> {
    dims: Vec<usize>,
    leaf_depth: Option<usize>,
    data: Vec<T>,
}

impl<T> Default for Nest<T> {
    fn default() -> Self {
        Nest {
            dims: Vec::new(),
            leaf_depth: None,
            data: Vec::new(),
        }
    }
}

fn ragged<E: de::Error>() -> E {
    de_err(ErrorKind::Ragged)
}

impl<T: Element> Nest<T> {
    fn leaf<E: de::Error>(&mut self, depth: usize, s: Scalar) -> Result<(), E> {
        // A list was already seen at this depth, or leaves sit at another depth.
        if self.dims.len() > depth || self.leaf_depth.is_some_and(|l| l != depth) {
            return Err(ragged());
        }
        self.leaf_depth = Some(depth);
        // A bool is no number (and a number no bool): a type fault, not a range one.
        if matches!(s, Scalar::Bool(_)) != (T::DTYPE == Dtype::Bool) {
            return Err(de_err(ErrorKind::WrongType {
                expected: if T::DTYPE == Dtype::Bool {
                    "bool"
                } else {
                    "number"
                },
                found: if matches!(s, Scalar::Bool(_)) {
                    "bool"
                } else {
                    "number"
                },
            }));
        }
        // A placeholder for a number past i64/u64 or f64 (crate::json_numbers).
        let s = match s {
            Scalar::UInt(u) => {
                crate::json_numbers::scalar_for(u, T::DTYPE).map_err(crate::error::to_serde)?
            }
            s => s,
        };
        // JSON has one number type: a fraction in an integer array is a type fault (as
        // for an integer scalar), a whole float too big for the dtype a range fault.
        if let Scalar::Float(f) = s {
            if T::DTYPE.is_int() && f.fract() != 0.0 {
                return Err(de_err(ErrorKind::WrongType {
                    expected: "integer",
                    found: "float",
                }));
            }
        }
        // JSON writes integral floats as `1.0`; let integer arrays take them.
        let s = match s {
            Scalar::Float(f)
                if T::DTYPE.is_int()
                    && f.fract() == 0.0
                    && ((i64::MIN as f64)..(u64::MAX as f64)).contains(&f) =>
            {
                if f < 0.0 {
                    Scalar::Int(f as i64)
                } else {
                    Scalar::UInt(f as u64)
                }
            }
            s => s,
        };
        let v = T::from_scalar(s).ok_or_else(|| {
            de_err::<E>(ErrorKind::OutOfRange {
                value: s.to_string(),
                expected: T::DTYPE.name().to_owned(),
            })
        })?;
        self.data.push(v);
        Ok(())
    }

    fn finish<E: de::Error>(self) -> Result<NdArray<T>, E> {
        // Consistent by construction; `new` re-checks the element count anyway.
        NdArray::new(self.dims, self.data).map_err(|_| ragged())
    }
}

/// Visits one list (or leaf) at `depth` of a nested-list array.
struct NestVisitor<'s, T> {
    st: &'s mut Nest<T>,
    depth: usize,
}

impl<'de, T: Element> DeserializeSeed<'de> for NestVisitor<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Element> Visitor<'de> for NestVisitor<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, bool or list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.depth;
        if self.st.leaf_depth.is_some_and(|l| depth >= l) {
            return Err(ragged());
        }
        // Reserve this depth's slot before the children record theirs, so `dims` stays
        // in depth order. usize::MAX marks "not known yet".
        if self.st.dims.len() == depth {
            self.st.dims.push(usize::MAX);
        }
        let mut count = 0usize;
        while seq
            .next_element_seed(NestVisitor {
                st: &mut *self.st,
                depth: depth + 1,
            })?
            .is_some()
        {
            count += 1;
        }
        match self.st.dims[depth] {
            usize::MAX => self.st.dims[depth] = count,
            n if n != count => return Err(ragged()),
            _ => {}
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.st.leaf(self.depth, Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.st.leaf(self.depth, Scalar::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.st.leaf(self.depth, Scalar::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.st.leaf(self.depth, Scalar::Float(v))
    }
}

/// The binary-format visitor: `(shape, typestr, bytes)`.
struct CompactVisitor<T>(PhantomData<T>);

impl<'de, T: Element> Visitor<'de> for CompactVisitor<T> {
    type Value = NdArray<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a (shape, dtype, bytes) tuple")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let shape: Vec<u64> = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let dtype: std::borrow::Cow<'de, str> = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        check_dtype::<T, A::Error>(&dtype)?;
        let bytes = seq
            .next_element_seed(BytesSeed)?
            .ok_or_else(|| de::Error::invalid_length(2, &self))?;
        from_parts(shape, &bytes)
    }
}

/// Accepts bytes in any of the forms formats hand them over (borrowed, owned, a sequence
/// of numbers) and, for human-readable formats, a base64 string.
struct BytesSeed;

impl<'de> DeserializeSeed<'de> for BytesSeed {
    type Value = Vec<u8>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<u8>, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(BytesVisitor)
        } else {
            d.deserialize_byte_buf(BytesVisitor)
        }
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes or a standard base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        decode_base64(v).map_err(crate::error::to_serde)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        // No `with_capacity(size_hint)`: the hint comes from the input.
        let mut out = Vec::new();
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------
// bytes fields
// ---------------------------------------------------------------------------------------

/// `#[serde(with = "schemac_runtime::json::base64_bytes")]` for `Vec<u8>` fields: a
/// standard padded base64 string in human-readable formats, raw bytes otherwise.
pub mod base64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&STANDARD.encode(v))
        } else {
            s.serialize_bytes(v)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        BytesSeed.deserialize(d)
    }
}

/// `#[serde(default, with = "schemac_runtime::json::base64_bytes_opt")]` for
/// `Option<Vec<u8>>` fields: `null` or a base64 string (add `default` so a missing key
/// reads as `None`).
pub mod base64_bytes_opt {
    use super::*;

    struct Some64<'a>(&'a [u8]);

    impl Serialize for Some64<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            base64_bytes::serialize(self.0, s)
        }
    }

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&Some64(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        d.deserialize_option(OptVisitor)
    }

    struct OptVisitor;

    impl<'de> Visitor<'de> for OptVisitor {
        type Value = Option<Vec<u8>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("null or base64 bytes")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            BytesSeed.deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_lists() {
        let a: NdArray<f32> = serde_json::from_str("[[1, 2.5, 3], [4, 5, 6]]").unwrap();
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(a.as_slice(), &[1.0, 2.5, 3.0, 4.0, 5.0, 6.0]);
        let a: NdArray<u8> = serde_json::from_str("[[], []]").unwrap();
        assert_eq!(a.shape(), &[2, 0]);
        let a: NdArray<u8> = serde_json::from_str("[]").unwrap();
        assert_eq!(a.shape(), &[0]);
        let a: NdArray<i32> = serde_json::from_str("7").unwrap();
        assert_eq!((a.shape(), a.as_slice()), (&[][..], &[7][..]));
        let a: NdArray<i32> = serde_json::from_str("[1.0, -2.0]").unwrap();
        assert_eq!(a.as_slice(), &[1, -2]);
        let a: NdArray<bool> = serde_json::from_str("[[true], [false]]").unwrap();
        assert_eq!(a.shape(), &[2, 1]);
        for bad in [
            "[[1, 2], [3]]",
            "[1, [2]]",
            "[[1], 2]",
            "[[[1]], [2]]",
            "[[], [1]]",
            "[[1], []]",
            "[[[]], [1]]",
        ] {
            assert!(serde_json::from_str::<NdArray<u8>>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<NdArray<u8>>("[256]").is_err());
        assert!(serde_json::from_str::<NdArray<u8>>("[1.5]").is_err());
        assert!(serde_json::from_str::<NdArray<bool>>("[1]").is_err());
    }

    #[test]
    fn object_form_checks() {
        let ok = r#"{"shape": [2], "dtype": "<u2", "data_b64": "AQACAA=="}"#;
        let a: NdArray<u16> = serde_json::from_str(ok).unwrap();
        assert_eq!(a.as_slice(), &[1, 2]);
        let e = serde_json::from_str::<NdArray<u8>>(ok).unwrap_err();
        assert!(
            e.to_string().contains("expected dtype |u1, found <u2"),
            "{e}"
        );
        let short = r#"{"data_b64": "AQAC", "shape": [2], "dtype": "uint16"}"#;
        let e = serde_json::from_str::<NdArray<u16>>(short).unwrap_err();
        assert!(
            e.to_string().contains("array data is 3 bytes, expected 4"),
            "{e}"
        );
        let unknown = r#"{"data_b64": "", "shape": [0], "dtype": "complex64"}"#;
        assert!(serde_json::from_str::<NdArray<u16>>(unknown).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// Strict JSON text
// ---------------------------------------------------------------------------------------

/// Parses JSON text the way every schemac reader must (docs/language.md, "Rejections both
/// runtimes agree on"): UTF-8 without a byte-order mark (`Malformed`), no object key given
/// twice (`DuplicateKey`, where serde_json's `Value` would keep the last), syntax errors
/// `Malformed`, an early end `Truncated`, nesting past serde_json's limit `TooDeep`.
pub fn parse_strict(text: &[u8]) -> Result<serde_json::Value, Error> {
    if text.starts_with(b"\xef\xbb\xbf") {
        return Err(Error::new(ErrorKind::Malformed(
            "a byte-order mark before JSON text".into(),
        )));
    }
    crate::error::clear_serde_error();
    let mut de = serde_json::Deserializer::from_slice(text);
    let v = StrictValue
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| crate::error::from_serde_json(&e))?;
    Ok(v)
}

/// A `serde_json::Value` seed that rejects duplicate object keys.
#[derive(Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = serde_json::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(x) = seq.next_element_seed(self)? {
            out.push(x);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(self)?;
            if out.contains_key(&k) {
                return Err(de_err(ErrorKind::DuplicateKey(k)));
            }
            out.insert(k, v);
        }
        Ok(serde_json::Value::Object(out))
    }
}

// ---------------------------------------------------------------------------------------
// Structure before schema
// ---------------------------------------------------------------------------------------

thread_local! {
    /// The object keys and array indices down to the fault [`check_structure`] met,
    /// innermost first (serde errors carry only text).
    static FAULT_PATH: std::cell::RefCell<Vec<PathSeg>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks that `text` is one JSON text before any schema is applied (conformance/README.md,
/// "Structure before schema"): no byte-order mark, well-formed syntax, no early end, no
/// nesting past serde_json's limit, and no object key given twice — the first fault in
/// byte order wins. Values are not built; each object's keys go into a sorted set, so an
/// object of k keys costs O(k log k). On a fault, `path` holds the keys and indices from
/// the top down to it: for `DuplicateKey` the repeated key, for `InvalidUtf8` (a lone
/// surrogate escape) the string holding it; callers use it for those two kinds.
pub fn check_structure(text: &[u8], path: &mut Vec<PathSeg>) -> Result<(), Error> {
    path.clear();
    if text.starts_with(b"\xef\xbb\xbf") {
        return Err(Error::new(ErrorKind::Malformed(
            "a byte-order mark before JSON text".into(),
        )));
    }
    // Bytes that are not UTF-8 are `Malformed` where they stand; a fault in the text
    // before them still comes first (serde_json checks a string's UTF-8 only at its end).
    let (text, bad_utf8) = match std::str::from_utf8(text) {
        Ok(_) => (text, None),
        Err(e) => (&text[..e.valid_up_to()], Some(e.valid_up_to())),
    };
    crate::error::clear_serde_error();
    FAULT_PATH.with(|p| p.borrow_mut().clear());
    let mut de = serde_json::Deserializer::from_slice(text);
    let mut r = Structure
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| crate::error::from_serde_json(&e));
    // serde_json reads a `\u` escape's four bytes before it looks at them, so text that
    // ends inside `"\ud}` is an early end to it; but the `}` comes first: malformed.
    if matches!(&r, Err(e) if matches!(e.kind(), ErrorKind::Truncated)) && ends_in_bad_hex(text) {
        r = Err(Error::new(ErrorKind::Malformed(
            "a \\u escape with a character that is not a hex digit".into(),
        )));
    }
    if let Some(at) = bad_utf8 {
        let earlier = matches!(&r, Err(e) if !matches!(e.kind(), ErrorKind::Truncated));
        if !earlier {
            FAULT_PATH.with(|p| p.borrow_mut().clear());
            r = Err(Error::new(ErrorKind::Malformed(format!(
                "JSON text is not UTF-8 (byte {at})"
            ))));
        }
    }
    if r.is_err() {
        FAULT_PATH.with(|p| {
            let mut p = p.borrow_mut();
            path.extend(p.drain(..).rev());
        });
    }
    r
}

/// Whether `text` ends inside a `\u` escape (fewer than four characters after it) one
/// of whose characters is not a hex digit. Called only for text that ends inside a
/// string, so the backslash is an escape when an even number of backslashes precede it.
fn ends_in_bad_hex(text: &[u8]) -> bool {
    (0..4).any(|k| {
        let Some(u) = text.len().checked_sub(k + 2) else {
            return false;
        };
        let escaped = text[..u].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1;
        text[u..u + 2] == *b"\\u"
            && !escaped
            && text[u + 2..].iter().any(|b| !b.is_ascii_hexdigit())
    })
}

/// A seed that walks a JSON value without building it (see [`check_structure`]).
#[derive(Clone, Copy)]
struct Structure;

fn push_seg(seg: PathSeg) {
    FAULT_PATH.with(|p| p.borrow_mut().push(seg));
}

impl<'de> DeserializeSeed<'de> for Structure {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Structure {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            match seq.next_element_seed(self) {
                Ok(Some(())) => i += 1,
                Ok(None) => return Ok(()),
                Err(e) => {
                    push_seg(PathSeg::Index(i));
                    return Err(e);
                }
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if seen.contains(&k) {
                push_seg(PathSeg::Key(k.clone().into_owned()));
                return Err(de_err(ErrorKind::DuplicateKey(k.into_owned())));
            }
            if let Err(e) = map.next_value_seed(self) {
                push_seg(PathSeg::Key(k.into_owned()));
                return Err(e);
            }
            seen.insert(k);
        }
        Ok(())
    }
}

#[cfg(test)]
mod structure_tests {
    use super::*;

    fn fault(text: &str) -> (&'static str, String) {
        let mut path = Vec::new();
        let e = check_structure(text.as_bytes(), &mut path).unwrap_err();
        (e.code(), crate::msgpack::render_path("S", &path))
    }

    #[test]
    fn structural_faults_in_byte_order() {
        let mut path = Vec::new();
        check_structure(br#"{"a": [1, {"b": null}], "c": "x"}"#, &mut path).unwrap();
        // The duplicate is met before the syntax error that follows it.
        assert_eq!(
            fault(r#"{"a": 1, "a": 2, "b": }"#),
            ("duplicate_key", "S.a".into())
        );
        // ... and a syntax error inside the first value comes before it.
        assert_eq!(fault(r#"{"a": tru, "a": 2}"#).0, "malformed");
        assert_eq!(
            fault(r#"{"a": [1, {"x": 1, "x": 2}]}"#),
            ("duplicate_key", "S.a[1].x".into())
        );
        assert_eq!(fault(r#"{"a": 1"#).0, "truncated");
        // Bytes that are not UTF-8: malformed where they stand, unless a fault comes first.
        let mut path = Vec::new();
        let e = check_structure(b"{\"v\": \"\xc1AB", &mut path).unwrap_err();
        assert_eq!(e.code(), "malformed");
        let e = check_structure(b"{\"v\": 1, \"v\": \"\xc1\"}", &mut path).unwrap_err();
        assert_eq!(e.code(), "duplicate_key");
        assert_eq!(fault("\u{feff}{}").0, "malformed");
        // A lone surrogate escape is invalid_utf8 at the string holding it.
        assert_eq!(fault(r#"{"s": "\ud800"}"#), ("invalid_utf8", "S.s".into()));
    }
}

//! The dynamic codec: one sample converted between its JSON form, MessagePack (atdata
//! arrays or msgpack-numpy arrays) and the aggregate packed bytes, driven by the IR at run
//! time. This is what `schemac encode` / `schemac decode` run (DESIGN §7), and it writes the
//! same bytes as generated code.
//!
//! Everything goes through [`Value`], a dynamic sample tree that knows its field names:
//!
//! ```text
//!  JSON text ─┐                          ┌─ msgpack (atdata arrays)
//!  msgpack  ──┼─ parse ─► Value ─ write ─┼─ msgpack-numpy
//!  packed   ──┘  + validate              ├─ JSON text
//!                                        └─ packed (aggregate samples only)
//! ```
//!
//! Parsing checks types as it goes; [`Codec::validate`] then checks everything the schema
//! says about values: dtypes, fixed shapes, named dims agreeing across fields (nested
//! components included), component-array lengths, `@range`, `@bits`, enum variants and
//! required fields. Errors are the runtime's [`Error`], with the field path prefixed by
//! the sample name (`ImageSample.mask: expected dtype |u1, found <f4`).
//!
//! Decoding untrusted bytes never panics and never allocates for a declared length before
//! checking it against the input (the runtime's [`Reader`] does that; every container
//! length it returns is bounded by the bytes left). Recursion follows the schema, which is
//! finite, so hostile nesting cannot overflow the stack.
//!
//! The wire forms are DESIGN §4: a sample is a map with every field in declaration order
//! (absent optional = nil), float scalars as float64, smallest int encodings, arrays as
//! atdata's payload bin (or the msgpack-numpy map), enums as variant names, components as
//! nested maps, component arrays (`Pose[8]`) as nested msgpack arrays following the shape
//! outermost-first, and `map<str, T>` entries in sorted key order. The JSON form has arrays
//! as `{"data_b64", "shape", "dtype"}`, bytes as padded base64, enums as names and absent
//! optionals as `null`; non-finite float scalars, which JSON cannot spell, are the strings
//! `"NaN"`, `"Infinity"` and `"-Infinity"` (an extension; readers also take `"inf"`,
//! `"-inf"`, `"nan"`). The packed form is DESIGN §5's compact aggregate bytes.

use std::fmt;

use schemac_runtime::array::{self as rt, Element, Scalar};
use schemac_runtime::bits::{self, BitsError};
use schemac_runtime::error::{Error, ErrorKind, Result, ResultExt};
use schemac_runtime::json::base64_bytes;
use schemac_runtime::msgpack::{check_structure, PathSeg, Reader, Writer};
use schemac_runtime::with_dtype;
use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

use crate::ir::{Aggregate, Dim, Dtype, Field, Literal, Range, Record, RecordKind, Schema, Ty};

type Json = serde_json::Value;

/// At most this many items are reserved up front for a msgpack container. The reader has
/// already bounded its length by the bytes left, but a [`Value`] is much larger than the
/// one byte an item may take on the wire, so growth beyond this follows the data.
const PREALLOC: usize = 1024;

/// Like [`with_dtype`] for the dtypes the bit kernels take (bool and the integers);
/// `$other` for floats.
macro_rules! with_bit_dtype {
    ($dtype:expr, $T:ident => $body:expr, else $other:expr) => {
        match $dtype {
            Dtype::Bool => {
                type $T = bool;
                $body
            }
            Dtype::I8 => {
                type $T = i8;
                $body
            }
            Dtype::I16 => {
                type $T = i16;
                $body
            }
            Dtype::I32 => {
                type $T = i32;
                $body
            }
            Dtype::I64 => {
                type $T = i64;
                $body
            }
            Dtype::U8 => {
                type $T = u8;
                $body
            }
            Dtype::U16 => {
                type $T = u16;
                $body
            }
            Dtype::U32 => {
                type $T = u32;
                $body
            }
            Dtype::U64 => {
                type $T = u64;
                $body
            }
            Dtype::F16 | Dtype::Bf16 | Dtype::F32 | Dtype::F64 => $other,
        }
    };
}

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

/// The byte forms a sample can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// MessagePack with arrays as atdata's array payload (DESIGN §4; atdata-identical).
    Msgpack,
    /// MessagePack with arrays as msgpack-numpy maps (truss-chains binary mode).
    MsgpackNumpy,
    /// The JSON form (truss-chains JSON mode): arrays as `{data_b64, shape, dtype}`.
    Json,
    /// The aggregate compact byte form of DESIGN §5 (aggregate samples only).
    Packed,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Msgpack,
        Format::MsgpackNumpy,
        Format::Json,
        Format::Packed,
    ];

    /// The CLI spelling: `msgpack`, `msgpack-numpy`, `json`, `packed`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Msgpack => "msgpack",
            Format::MsgpackNumpy => "msgpack-numpy",
            Format::Json => "json",
            Format::Packed => "packed",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How arrays are written in MessagePack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArrayForm {
    /// A bin holding atdata's array payload (the default wire format).
    Atdata,
    /// msgpack-numpy's 5-entry map with bin keys.
    Numpy,
}

/// An n-d numeric array: dtype, shape and the raw C-order little-endian element bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Array {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

/// One sample (or any part of one) as a dynamic tree.
///
/// Scalars hold the value the field's dtype holds (an `f32` field's `0.1` is
/// `Float(0.10000000149011612)`); signed integer dtypes use `Scalar::Int`, unsigned ones
/// `Scalar::UInt`. [`Codec::validate`] checks a tree against the schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An absent optional field.
    Nil,
    /// A bool, integer or float scalar.
    Scalar(Scalar),
    /// A `str`, or an enum variant name.
    Str(String),
    Bytes(Vec<u8>),
    Array(Array),
    /// A `list<T>`, or one level of a component array (`Pose[8]`, `Cell[3, 3]`).
    List(Vec<Value>),
    /// A `map<str, T>`, entries in sorted key order (unique keys).
    Map(Vec<(String, Value)>),
    /// A sample or component: every field, in declaration order.
    Record(Vec<(String, Value)>),
}

impl Value {
    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Scalar(s) => s.family(),
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Array(_) => "array",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Record(_) => "record",
        }
    }

    /// The field called `name`, for records.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why [`Codec::new`] found no sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// No record has this name.
    UnknownSample { name: String, samples: Vec<String> },
    /// The name is a component; only samples have a wire format of their own.
    NotASample { name: String, samples: Vec<String> },
}

impl LookupError {
    /// The samples the schema does have.
    pub fn samples(&self) -> &[String] {
        match self {
            LookupError::UnknownSample { samples, .. }
            | LookupError::NotASample { samples, .. } => samples,
        }
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::UnknownSample { name, .. } => write!(f, "no sample named `{name}`")?,
            LookupError::NotASample { name, .. } => {
                write!(f, "`{name}` is a component, not a sample")?
            }
        }
        let samples = self.samples();
        if samples.is_empty() {
            write!(f, "; the schema defines no samples")
        } else {
            write!(f, "; samples: {}", samples.join(", "))
        }
    }
}

impl std::error::Error for LookupError {}

/// Converts samples of one record between every form. Cheap to create; borrows the IR.
#[derive(Clone, Copy, Debug)]
pub struct Codec<'s> {
    schema: &'s Schema,
    record: &'s Record,
}

impl<'s> Codec<'s> {
    /// The codec for the sample called `sample`.
    pub fn new(schema: &'s Schema, sample: &str) -> std::result::Result<Self, LookupError> {
        let samples: Vec<String> = schema.samples().map(|r| r.name.clone()).collect();
        match schema.record(sample) {
            Some(record) if record.kind == RecordKind::Sample => Ok(Codec { schema, record }),
            Some(_) => Err(LookupError::NotASample {
                name: sample.to_owned(),
                samples,
            }),
            None => Err(LookupError::UnknownSample {
                name: sample.to_owned(),
                samples,
            }),
        }
    }

    /// The codec for any record, components included (they have the same rules nested).
    pub fn for_record(schema: &'s Schema, record: &'s Record) -> Self {
        Codec { schema, record }
    }

    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    pub fn record(&self) -> &'s Record {
        self.record
    }

    /// The aggregate layout, when the record has a packed form.
    pub fn aggregate(&self) -> Option<Aggregate> {
        self.record.bitpack.aggregate
    }

    fn at_sample<T>(&self, r: Result<T>) -> Result<T> {
        r.at(&self.record.name)
    }

    /// Checks `value` against the schema (see the module docs for what is checked).
    pub fn validate(&self, value: &Value) -> Result<()> {
        self.at_sample(Check::new(self.schema, self.record).record(self.record, value))
    }

    // -- JSON ------------------------------------------------------------------------------

    /// A sample from its JSON form (parsed), validated. Arrays may be nested lists of
    /// numbers or `{data_b64, shape, dtype}` objects (dtype as numpy name or typestr).
    /// Missing optional fields are absent, missing defaulted fields take the default,
    /// unknown keys are ignored.
    pub fn from_json(&self, json: &Json) -> Result<Value> {
        let v = self.at_sample(
            Parse {
                schema: self.schema,
            }
            .json_record(self.record, json),
        )?;
        self.validate(&v)?;
        Ok(v)
    }

    /// A sample from JSON text, validated.
    pub fn from_json_slice(&self, text: &[u8]) -> Result<Value> {
        schemac_runtime::json_numbers::with_wide_numbers(text, |text| self.read_json_text(text))
    }

    fn read_json_text(&self, text: &[u8]) -> Result<Value> {
        let mut path = Vec::new();
        if let Err(e) = schemac_runtime::json::check_structure(text, &mut path) {
            let at = match e.kind() {
                ErrorKind::DuplicateKey(_) | ErrorKind::InvalidUtf8 => {
                    dup_path(self.schema, self.record, &path)
                }
                _ => self.record.name.clone(),
            };
            return Err(e.at(&at));
        }
        let json = self.at_sample(schemac_runtime::json::parse_strict(text))?;
        self.from_json(&json)
    }

    /// The JSON form as text, fields in declaration order (validates first).
    pub fn to_json_string(&self, value: &Value, pretty: bool) -> Result<String> {
        self.validate(value)?;
        let s = if pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        s.map_err(Error::custom)
    }

    // -- MessagePack -----------------------------------------------------------------------

    /// The MessagePack bytes (validates first).
    pub fn to_msgpack(&self, value: &Value, form: ArrayForm) -> Result<Vec<u8>> {
        self.validate(value)?;
        let mut w = Writer::new();
        self.at_sample(write_msgpack(&mut w, value, form))?;
        Ok(w.into_bytes())
    }

    /// A sample from MessagePack bytes (arrays in any of the accepted encodings),
    /// validated. The whole input must be one sample.
    pub fn from_msgpack(&self, bytes: &[u8]) -> Result<Value> {
        let parse = Parse {
            schema: self.schema,
        };
        let mut path = Vec::new();
        if let Err(e) = check_structure(bytes, &mut path) {
            let at = dup_path(self.schema, self.record, &path);
            return Err(e.at(&at));
        }
        let v = self.at_sample((|| {
            let mut r = Reader::new(bytes);
            let v = parse.mp_record(self.record, &mut r)?;
            r.finish()?;
            Ok(v)
        })())?;
        self.validate(&v)?;
        Ok(v)
    }

    // -- packed ----------------------------------------------------------------------------

    fn require_aggregate(&self) -> Result<Aggregate> {
        self.aggregate().ok_or_else(|| {
            Error::custom(format!(
                "{} has no aggregate packed form (every leaf needs @bits and a fixed shape; \
                 bitpack mode is {:?})",
                self.record.name, self.record.bitpack.mode
            ))
        })
    }

    /// The aggregate compact bytes (validates first). Errors for records without an
    /// aggregate form.
    pub fn to_packed(&self, value: &Value) -> Result<Vec<u8>> {
        let agg = self.require_aggregate()?;
        self.validate(value)?;
        let words = self.at_sample(pack(self.schema, self.record, agg, value))?;
        Ok(bits::compact_from_words(
            &words,
            agg.words_len as usize,
            agg.tail_bytes as usize,
        ))
    }

    /// A sample from its aggregate compact bytes, validated (`@range` included).
    pub fn from_packed(&self, bytes: &[u8]) -> Result<Value> {
        let agg = self.require_aggregate()?;
        let v = self.at_sample(unpack(self.schema, self.record, agg, bytes))?;
        self.validate(&v)?;
        Ok(v)
    }

    // -- any form ----------------------------------------------------------------------------

    /// The bytes of `value` in `format` (JSON: compact text, no trailing newline).
    pub fn encode(&self, value: &Value, format: Format) -> Result<Vec<u8>> {
        match format {
            Format::Msgpack => self.to_msgpack(value, ArrayForm::Atdata),
            Format::MsgpackNumpy => self.to_msgpack(value, ArrayForm::Numpy),
            Format::Json => self.to_json_string(value, false).map(String::into_bytes),
            Format::Packed => self.to_packed(value),
        }
    }

    /// A sample from bytes in `format` (`msgpack` and `msgpack-numpy` read alike).
    pub fn decode(&self, bytes: &[u8], format: Format) -> Result<Value> {
        match format {
            Format::Msgpack | Format::MsgpackNumpy => self.from_msgpack(bytes),
            Format::Json => self.from_json_slice(bytes),
            Format::Packed => self.from_packed(bytes),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------

fn wrong(expected: &'static str, found: &'static str) -> Error {
    Error::new(ErrorKind::WrongType { expected, found })
}

/// What a scalar of `dtype` is called in `WrongType` errors.
fn scalar_family(d: Dtype) -> &'static str {
    if d == Dtype::Bool {
        "bool"
    } else if d.is_int() {
        "int"
    } else {
        "float or int"
    }
}

/// Narrows a scalar to what `dtype` holds (floats rounded, integers range-checked).
fn narrow(dtype: Dtype, s: Scalar) -> Result<Scalar> {
    let family_ok = match dtype {
        Dtype::Bool => matches!(s, Scalar::Bool(_)),
        // An integral float left as a float by `integral_float` lies beyond every integer
        // dtype: out of range (shown as written), not a type error.
        d if d.is_int() => match s {
            Scalar::Int(_) | Scalar::UInt(_) => true,
            Scalar::Float(f) => f.is_finite() && f.fract() == 0.0,
            Scalar::Bool(_) => false,
        },
        _ => !matches!(s, Scalar::Bool(_)),
    };
    if !family_ok {
        return Err(wrong(scalar_family(dtype), s.family()));
    }
    with_dtype!(dtype, T => T::from_scalar(s).map(Element::to_scalar)).ok_or_else(|| {
        Error::new(ErrorKind::OutOfRange {
            value: s.to_string(),
            expected: dtype.name().to_owned(),
        })
    })
}

/// JSON writes integral floats as `1.0`; integer fields take them.
fn integral_float(dtype: Dtype, s: Scalar) -> Scalar {
    match s {
        Scalar::Float(f)
            if dtype.is_int()
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
    }
}

/// Equal, counting every NaN as equal to every NaN.
fn same_scalar(a: Scalar, b: Scalar) -> bool {
    match (a, b) {
        (Scalar::Float(x), Scalar::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Scalar::Int(x), Scalar::UInt(y)) | (Scalar::UInt(y), Scalar::Int(x)) => {
            u64::try_from(x).is_ok_and(|x| x == y)
        }
        _ => a == b,
    }
}

/// The little-endian bytes of a (narrowed) scalar as `dtype`.
fn scalar_le(dtype: Dtype, s: Scalar, out: &mut Vec<u8>) {
    with_dtype!(dtype, T => T::from_scalar(s).unwrap_or_default().write_le(out))
}

fn literal_scalar(lit: &Literal) -> Option<Scalar> {
    Some(match lit {
        Literal::Bool(b) => Scalar::Bool(*b),
        Literal::Int(i) => Scalar::Int(*i),
        Literal::UInt(u) => Scalar::UInt(*u),
        Literal::Float(f) => Scalar::Float(*f),
        Literal::Str(_) | Literal::Variant(_) => return None,
    })
}

fn format_dims(dims: &[Dim]) -> String {
    let parts: Vec<String> = dims.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// The value a missing field takes: nil if optional, its default if it has one.
fn missing(f: &Field) -> Result<Value> {
    if f.optional {
        return Ok(Value::Nil);
    }
    match &f.default {
        Some(lit) => default_value(&f.ty, lit).at(&f.name),
        None => Err(Error::missing_field(&f.name)),
    }
}

fn default_value(ty: &Ty, lit: &Literal) -> Result<Value> {
    let bad = || Error::custom("missing field, and its default does not apply to its type");
    match (ty, lit) {
        (Ty::Scalar { dtype }, _) => {
            let s = literal_scalar(lit).ok_or_else(bad)?;
            Ok(Value::Scalar(narrow(*dtype, integral_float(*dtype, s))?))
        }
        (Ty::Array { dtype, shape }, _) => {
            let s = narrow(
                *dtype,
                integral_float(*dtype, literal_scalar(lit).ok_or_else(bad)?),
            )?;
            let dims: Option<Vec<usize>> = shape
                .iter()
                .map(|d| d.fixed().and_then(|n| usize::try_from(n).ok()))
                .collect();
            let dims = dims.ok_or_else(|| {
                Error::custom(format!(
                    "missing field: its default fills an array of shape {}, which has no \
                     fixed size",
                    format_dims(shape)
                ))
            })?;
            let n = rt::shape_len(&dims)?;
            let mut one = Vec::new();
            scalar_le(*dtype, s, &mut one);
            Ok(Value::Array(Array {
                dtype: *dtype,
                shape: dims,
                data: one.repeat(n),
            }))
        }
        (Ty::Str, Literal::Str(s)) => Ok(Value::Str(s.clone())),
        (Ty::Bytes, Literal::Str(s)) => Ok(Value::Bytes(s.as_bytes().to_vec())),
        (Ty::Enum { .. }, Literal::Variant(v) | Literal::Str(v)) => Ok(Value::Str(v.clone())),
        _ => Err(bad()),
    }
}

// ---------------------------------------------------------------------------------------
// Parsing (JSON and MessagePack into Value)
// ---------------------------------------------------------------------------------------

struct Parse<'s> {
    schema: &'s Schema,
}

fn json_kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn child<'s>(schema: &'s Schema, name: &str) -> Result<&'s Record> {
    schema
        .record(name)
        .ok_or_else(|| Error::custom(format!("the schema has no record `{name}`")))
}

/// An enum value as read: one of the enum's variants, else `UnknownVariant` (a fault met
/// while reading, like the generated readers', not one of the check pass).
fn enum_value(schema: &Schema, name: &str, s: &str) -> Result<Value> {
    let e = schema
        .enum_def(name)
        .ok_or_else(|| Error::custom(format!("the schema has no enum `{name}`")))?;
    if e.variants.iter().any(|var| var.name == s) {
        Ok(Value::Str(s.to_owned()))
    } else {
        Err(Error::unknown_variant(s))
    }
}

/// An array's rank and fixed dims, checked as it is read (the generated readers'
/// `ShapeMismatch`); named dims are left to the check pass.
fn fixed_shape(spec: &[Dim], found: &[usize]) -> Result<()> {
    let fits = spec.len() == found.len()
        && spec
            .iter()
            .zip(found)
            .all(|(d, &n)| !matches!(d, Dim::Fixed(k) if *k != n as u64));
    if fits {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::ShapeMismatch {
            expected: format_dims(spec),
            found: found.iter().map(|&n| n as u64).collect(),
        }))
    }
}

/// The fixed counts of a component array's levels, once every element is read
/// (docs/language.md, "Error precedence"): the first wrong inner level in document
/// order, then the outer one. Named dims are left to the check pass.
fn level_counts(shape: &[Dim], v: &Value) -> Result<()> {
    let (Some(first), Value::List(items)) = (shape.first(), v) else {
        return Ok(());
    };
    if shape.len() > 1 {
        for (i, x) in items.iter().enumerate() {
            level_counts(&shape[1..], x).at_index(i)?;
        }
    }
    match first {
        Dim::Fixed(n) if *n != items.len() as u64 => Err(Error::new(ErrorKind::ShapeMismatch {
            expected: format_dims(shape),
            found: vec![items.len() as u64],
        })),
        _ => Ok(()),
    }
}

/// Sorts map entries by key; duplicate keys are an error.
fn sorted_entries(mut entries: Vec<(String, Value)>) -> Result<Value> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::new(ErrorKind::DuplicateKey(w[0].0.clone())).at_key(&w[0].0));
    }
    Ok(Value::Map(entries))
}

impl Parse<'_> {
    // -- JSON ------------------------------------------------------------------------------

    fn json_record(&self, rec: &Record, j: &Json) -> Result<Value> {
        let obj = j.as_object().ok_or_else(|| wrong("object", json_kind(j)))?;
        // In the input's key order (serde_json's `preserve_order`), as the error precedence
        // needs: faults of the fields as their keys come, then missing fields.
        let mut slots: Vec<Option<Value>> = rec.fields.iter().map(|_| None).collect();
        for (key, j) in obj {
            let Some(i) = rec
                .fields
                .iter()
                .position(|f| f.name == *key || f.aliases.iter().any(|a| a == key))
            else {
                continue; // unknown keys are ignored
            };
            // A field's key and one of its `@alias` keys (never two of them).
            if slots[i].is_some() {
                return Err(Error::new(ErrorKind::DuplicateKey(key.clone())).at(key));
            }
            let f = &rec.fields[i];
            slots[i] = Some(match j {
                Json::Null if f.optional => Value::Nil,
                // `null` for a required (even defaulted) field is not "absent".
                Json::Null => return Err(Error::missing_field(key)),
                j => {
                    let v = self.json_ty(&f.ty, j).at(key)?;
                    packed_bits(f, &v).at(key)?;
                    v
                }
            });
        }
        let mut out = Vec::with_capacity(rec.fields.len());
        for (f, v) in rec.fields.iter().zip(slots) {
            let v = match v {
                Some(v) => v,
                None => missing(f)?,
            };
            out.push((f.name.clone(), v));
        }
        Ok(Value::Record(out))
    }

    fn json_ty(&self, ty: &Ty, j: &Json) -> Result<Value> {
        let string = |j: &Json| {
            j.as_str()
                .map(str::to_owned)
                .ok_or_else(|| wrong("string", json_kind(j)))
        };
        match ty {
            Ty::Scalar { dtype } => json_scalar(*dtype, j).map(Value::Scalar),
            Ty::Str => string(j).map(Value::Str),
            Ty::Enum { name } => enum_value(self.schema, name, &string(j)?),
            Ty::Bytes => match j {
                Json::String(_) => {
                    schemac_runtime::error::clear_serde_error();
                    base64_bytes::deserialize(j)
                        .map(Value::Bytes)
                        .map_err(|e| schemac_runtime::error::from_serde_json(&e))
                }
                _ => Err(wrong("base64 string", json_kind(j))),
            },
            Ty::Array { dtype, shape } => {
                let a = json_array(*dtype, j)?;
                fixed_shape(shape, &a.shape)?;
                Ok(Value::Array(a))
            }
            Ty::Record { name, shape } => {
                let v = self.json_nested(child(self.schema, name)?, shape.len(), j)?;
                level_counts(shape, &v)?;
                Ok(v)
            }
            Ty::List { item } => {
                let items = j.as_array().ok_or_else(|| wrong("array", json_kind(j)))?;
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| self.json_ty(item, x).at_index(i))
                    .collect::<Result<Vec<_>>>()
                    .map(Value::List)
            }
            Ty::Map { value } => {
                let obj = j.as_object().ok_or_else(|| wrong("object", json_kind(j)))?;
                let entries = obj
                    .iter()
                    .map(|(k, x)| Ok((k.clone(), self.json_ty(value, x).at_key(k)?)))
                    .collect::<Result<Vec<_>>>()?;
                sorted_entries(entries)
            }
        }
    }

    /// A component, or `depth` levels of nested JSON arrays of them.
    fn json_nested(&self, rec: &Record, depth: usize, j: &Json) -> Result<Value> {
        if depth == 0 {
            return self.json_record(rec, j);
        }
        let items = j.as_array().ok_or_else(|| wrong("array", json_kind(j)))?;
        items
            .iter()
            .enumerate()
            .map(|(i, x)| self.json_nested(rec, depth - 1, x).at_index(i))
            .collect::<Result<Vec<_>>>()
            .map(Value::List)
    }

    // -- MessagePack -----------------------------------------------------------------------

    fn mp_record(&self, rec: &Record, r: &mut Reader<'_>) -> Result<Value> {
        let n = r.map_len()?;
        let mut slots: Vec<Option<Value>> = rec.fields.iter().map(|_| None).collect();
        for _ in 0..n {
            let key = r.str()?;
            let Some(i) = rec
                .fields
                .iter()
                .position(|f| f.name == key || f.aliases.iter().any(|a| a == key))
            else {
                r.skip().at(key)?; // unknown keys are ignored
                continue;
            };
            if slots[i].is_some() {
                return Err(Error::new(ErrorKind::DuplicateKey(key.to_owned())).at(key));
            }
            let f = &rec.fields[i];
            let v = if r.try_nil().at(key)? {
                if f.optional {
                    Value::Nil
                } else {
                    return Err(Error::missing_field(key));
                }
            } else {
                let v = self.mp_ty(&f.ty, r).at(key)?;
                packed_bits(f, &v).at(key)?;
                v
            };
            slots[i] = Some(v);
        }
        rec.fields
            .iter()
            .zip(slots)
            .map(|(f, v)| {
                Ok((
                    f.name.clone(),
                    match v {
                        Some(v) => v,
                        None => missing(f)?,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()
            .map(Value::Record)
    }

    fn mp_ty(&self, ty: &Ty, r: &mut Reader<'_>) -> Result<Value> {
        match ty {
            Ty::Scalar { dtype } => {
                with_dtype!(*dtype, T => r.scalar::<T>().map(|v| Value::Scalar(v.to_scalar())))
            }
            Ty::Str => r.str().map(|s| Value::Str(s.to_owned())),
            Ty::Enum { name } => enum_value(self.schema, name, r.str()?),
            Ty::Bytes => r.bin().map(|b| Value::Bytes(b.to_vec())),
            Ty::Array { dtype, shape } => with_dtype!(*dtype, T => {
                let view = r.array_view::<T>()?;
                fixed_shape(shape, view.shape())?;
                Ok(Value::Array(Array {
                    dtype: *dtype,
                    shape: view.shape().to_vec(),
                    data: view.bytes().to_vec(),
                }))
            }),
            Ty::Record { name, shape } => {
                let v = self.mp_nested(child(self.schema, name)?, shape.len(), r)?;
                level_counts(shape, &v)?;
                Ok(v)
            }
            Ty::List { item } => {
                let n = r.array_len()?;
                let mut items = Vec::with_capacity(n.min(PREALLOC));
                for i in 0..n {
                    items.push(self.mp_ty(item, r).at_index(i)?);
                }
                Ok(Value::List(items))
            }
            Ty::Map { value } => {
                let n = r.map_len()?;
                let mut entries = Vec::with_capacity(n.min(PREALLOC));
                for _ in 0..n {
                    let key = r.str()?.to_owned();
                    let v = self.mp_ty(value, r).at_key(&key)?;
                    entries.push((key, v));
                }
                sorted_entries(entries)
            }
        }
    }

    fn mp_nested(&self, rec: &Record, depth: usize, r: &mut Reader<'_>) -> Result<Value> {
        if depth == 0 {
            return self.mp_record(rec, r);
        }
        let n = r.array_len()?;
        let mut items = Vec::with_capacity(n.min(PREALLOC));
        for i in 0..n {
            items.push(self.mp_nested(rec, depth - 1, r).at_index(i)?);
        }
        Ok(Value::List(items))
    }
}

/// A `@packed` field's `@bits`, checked as the field is read: the generated readers pack
/// the value on arrival, so for a packed field it is a fault of reading it (wire order),
/// not of the validation pass (docs/language.md, "Error precedence").
fn packed_bits(f: &Field, v: &Value) -> Result<()> {
    let (Some(_), Some(bits)) = (f.packed_bytes, f.bits) else {
        return Ok(());
    };
    match (&f.ty, v) {
        (Ty::Scalar { dtype }, Value::Scalar(s)) => check_values(
            *dtype,
            &scalar_bytes(*dtype, narrow(*dtype, *s)?),
            Some(bits),
            None,
        ),
        (Ty::Array { dtype, .. }, Value::Array(a)) if a.dtype == *dtype => {
            check_values(*dtype, &a.data, Some(bits), None)
        }
        _ => Ok(()),
    }
}

/// The path of a structural fault below `rec` (see `check_structure`): fields as
/// `.name`, `map<str, T>` keys as `["key"]`, list and component-array indices as `[i]`.
/// A repeated key inside an array value (a msgpack-numpy dict) is reported at the field;
/// below an unknown key the segments are rendered generically (`.key`, `[i]`).
fn dup_path(schema: &Schema, rec: &Record, segs: &[PathSeg]) -> String {
    let mut out = rec.name.clone();
    // Where the next segment lands: a record's fields, or a type with `dims` of its
    // component-array shape already consumed.
    let mut at_rec: Option<&Record> = Some(rec);
    let mut at_ty: Option<(&Ty, usize)> = None;
    let mut generic = false;
    for seg in segs {
        if generic {
            match seg {
                PathSeg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
                PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
                PathSeg::OtherKey => break,
            }
            continue;
        }
        if let Some(r) = at_rec.take() {
            match seg {
                PathSeg::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                    match r.fields.iter().find(|f| &f.name == k) {
                        Some(f) => at_ty = Some((&f.ty, 0)),
                        None => generic = true,
                    }
                }
                PathSeg::Index(i) => {
                    out.push_str(&format!("[{i}]"));
                    generic = true;
                }
                PathSeg::OtherKey => break,
            }
        } else if let Some((ty, d)) = at_ty.take() {
            match (ty, seg) {
                (Ty::Record { shape, .. }, PathSeg::Index(i)) if d < shape.len() => {
                    out.push_str(&format!("[{i}]"));
                    at_ty = Some((ty, d + 1));
                }
                (Ty::List { item }, PathSeg::Index(i)) => {
                    out.push_str(&format!("[{i}]"));
                    at_ty = Some((item, 0));
                }
                (Ty::Map { value }, PathSeg::Key(k)) => {
                    out.push_str(&format!("[{k:?}]"));
                    at_ty = Some((value, 0));
                }
                (Ty::Record { .. } | Ty::List { .. }, PathSeg::Key(k)) => {
                    out.push('.');
                    out.push_str(k);
                    generic = true;
                }
                (Ty::Record { .. } | Ty::Map { .. }, PathSeg::Index(i)) => {
                    out.push_str(&format!("[{i}]"));
                    generic = true;
                }
                _ => break,
            }
        } else {
            break;
        }
        if let Some((Ty::Record { name, shape }, d)) = at_ty {
            if d == shape.len() {
                at_ty = None;
                match child(schema, name) {
                    Ok(r) => at_rec = Some(r),
                    Err(_) => generic = true,
                }
            }
        }
    }
    out
}

/// What a value of `ty` is called in `WrongType` errors.
fn ty_family(ty: &Ty) -> &'static str {
    match ty {
        Ty::Scalar { dtype } => scalar_family(*dtype),
        Ty::Str | Ty::Enum { .. } => "str",
        Ty::Bytes => "bin",
        Ty::Array { .. } => "array",
        Ty::Record { shape, .. } if shape.is_empty() => "map",
        Ty::Record { .. } | Ty::List { .. } => "array",
        Ty::Map { .. } => "map",
    }
}

fn json_scalar(dtype: Dtype, j: &Json) -> Result<Scalar> {
    let s = match j {
        Json::Bool(b) => Scalar::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                // A placeholder for a number past i64/u64 or f64 (json_numbers); for a
                // bool any number is the wrong type, reported below.
                if dtype == Dtype::Bool {
                    Scalar::UInt(u)
                } else {
                    schemac_runtime::json_numbers::scalar_for(u, dtype)?
                }
            } else if let Some(i) = n.as_i64() {
                Scalar::Int(i)
            } else {
                Scalar::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) if dtype.is_float() => Scalar::Float(match s.as_str() {
            "NaN" | "nan" => f64::NAN,
            "Infinity" | "inf" => f64::INFINITY,
            "-Infinity" | "-inf" => f64::NEG_INFINITY,
            _ => {
                return Err(wrong(
                    "number (or \"NaN\", \"Infinity\", \"-Infinity\")",
                    "string",
                ))
            }
        }),
        _ => return Err(wrong(scalar_family(dtype), json_kind(j))),
    };
    narrow(dtype, integral_float(dtype, s))
}

fn json_array(dtype: Dtype, j: &Json) -> Result<Array> {
    // Check the dtype ourselves first, for a typed error.
    if let Some(d) = j.as_object().and_then(|o| o.get("dtype")) {
        let name = d
            .as_str()
            .ok_or_else(|| wrong("string", json_kind(d)).at("dtype"))?;
        let found =
            Dtype::from_numpy(name).ok_or_else(|| ErrorKind::UnknownDtype(name.to_owned()))?;
        if found != dtype {
            return Err(Error::new(ErrorKind::DtypeMismatch {
                expected: dtype.typestr(),
                found: found.typestr().to_owned(),
            }));
        }
    }
    with_dtype!(dtype, T => {
        schemac_runtime::error::clear_serde_error();
        let a = rt::NdArray::<T>::deserialize(j).map_err(|e| schemac_runtime::error::from_serde_json(&e))?;
        let (shape, data) = a.into_parts();
        Ok(Array {
            dtype,
            shape,
            data: rt::as_le_bytes(&data).into_owned(),
        })
    })
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// One validation pass over a sample: the named dims bound so far.
struct Check<'s> {
    schema: &'s Schema,
    dims: Vec<(String, u64)>,
}

impl<'s> Check<'s> {
    /// Seeded with the sizes the sample pins (`H = 224`), which hold in nested components
    /// too.
    fn new(schema: &'s Schema, rec: &Record) -> Self {
        Check {
            schema,
            dims: rec
                .named_dims
                .iter()
                .filter_map(|d| Some((d.name.clone(), d.size?)))
                .collect(),
        }
    }

    fn bind(&mut self, name: &str, size: u64) -> Result<()> {
        match self.dims.iter().find(|(n, _)| n == name) {
            None => {
                self.dims.push((name.to_owned(), size));
                Ok(())
            }
            Some(&(_, v)) if v == size => Ok(()),
            Some(&(_, v)) => Err(Error::new(ErrorKind::NamedDimMismatch {
                dim: name.to_owned(),
                expected: v,
                found: size,
            })),
        }
    }

    fn dim(&mut self, spec: &Dim, size: usize, all: &[Dim], found: &[usize]) -> Result<()> {
        match spec {
            Dim::Fixed(n) if *n != size as u64 => Err(Error::new(ErrorKind::ShapeMismatch {
                expected: format_dims(all),
                found: found.iter().map(|&d| d as u64).collect(),
            })),
            Dim::Named(name) => self.bind(name, size as u64),
            _ => Ok(()),
        }
    }

    fn record(&mut self, rec: &Record, v: &Value) -> Result<()> {
        let Value::Record(fields) = v else {
            return Err(wrong("record", v.kind()));
        };
        if fields.len() != rec.fields.len()
            || fields
                .iter()
                .zip(&rec.fields)
                .any(|((n, _), f)| *n != f.name)
        {
            let names: Vec<&str> = rec.fields.iter().map(|f| f.name.as_str()).collect();
            return Err(Error::new(ErrorKind::WrongValue(format!(
                "a {} value needs exactly the fields {} in this order",
                rec.name,
                names.join(", ")
            ))));
        }
        for (f, (_, fv)) in rec.fields.iter().zip(fields) {
            self.field(f, fv).at(&f.name)?;
        }
        Ok(())
    }

    fn field(&mut self, f: &Field, v: &Value) -> Result<()> {
        match v {
            Value::Nil if f.optional => Ok(()),
            Value::Nil => Err(Error::new(ErrorKind::MissingField)),
            _ => self.ty(&f.ty, v, f.bits, f.range),
        }
    }

    fn ty(&mut self, ty: &Ty, v: &Value, bits: Option<u32>, range: Option<Range>) -> Result<()> {
        match (ty, v) {
            (Ty::Scalar { dtype }, Value::Scalar(s)) => {
                let n = narrow(*dtype, *s)?;
                if !same_scalar(n, *s) {
                    return Err(Error::new(ErrorKind::OutOfRange {
                        value: s.to_string(),
                        expected: format!("{dtype} (not exactly representable)"),
                    }));
                }
                check_values(*dtype, &scalar_bytes(*dtype, n), bits, range)
            }
            (Ty::Str, Value::Str(_)) | (Ty::Bytes, Value::Bytes(_)) => Ok(()),
            (Ty::Array { dtype, shape }, Value::Array(a)) => {
                if a.dtype != *dtype {
                    return Err(Error::new(ErrorKind::DtypeMismatch {
                        expected: dtype.typestr(),
                        found: a.dtype.typestr().to_owned(),
                    }));
                }
                if shape.len() != a.shape.len() {
                    return Err(Error::new(ErrorKind::ShapeMismatch {
                        expected: format_dims(shape),
                        found: a.shape.iter().map(|&d| d as u64).collect(),
                    }));
                }
                for (spec, &d) in shape.iter().zip(&a.shape) {
                    self.dim(spec, d, shape, &a.shape)?;
                }
                let expected = rt::byte_len(&a.shape, dtype.size() as usize)?;
                if expected != a.data.len() as u128 {
                    return Err(Error::new(ErrorKind::PayloadLength {
                        expected,
                        found: a.data.len() as u64,
                    }));
                }
                check_values(*dtype, &a.data, bits, range)
            }
            (Ty::Enum { name }, Value::Str(s)) => {
                let e = self
                    .schema
                    .enum_def(name)
                    .ok_or_else(|| Error::custom(format!("the schema has no enum `{name}`")))?;
                if e.variants.iter().any(|var| var.name == *s) {
                    Ok(())
                } else {
                    Err(Error::unknown_variant(s))
                }
            }
            (Ty::Record { name, shape }, _) => {
                let rec = child(self.schema, name)?;
                self.nested(rec, shape, v)
            }
            (Ty::List { item }, Value::List(items)) => {
                for (i, x) in items.iter().enumerate() {
                    self.ty(item, x, None, None).at_index(i)?;
                }
                Ok(())
            }
            (Ty::Map { value }, Value::Map(entries)) => {
                if let Some(w) = entries.windows(2).find(|w| w[0].0 >= w[1].0) {
                    let kind = if w[0].0 == w[1].0 {
                        ErrorKind::DuplicateKey(w[1].0.clone())
                    } else {
                        ErrorKind::WrongValue("map keys must be in sorted order".into())
                    };
                    return Err(Error::new(kind).at_key(&w[1].0));
                }
                for (k, x) in entries {
                    self.ty(value, x, None, None).at_key(k)?;
                }
                Ok(())
            }
            _ => Err(wrong(ty_family(ty), v.kind())),
        }
    }

    /// A component, or nested lists of them following `dims` (a component array).
    fn nested(&mut self, rec: &Record, dims: &[Dim], v: &Value) -> Result<()> {
        let Some((first, rest)) = dims.split_first() else {
            return self.record(rec, v);
        };
        let Value::List(items) = v else {
            return Err(wrong("array", v.kind()));
        };
        self.dim(first, items.len(), dims, &[items.len()])?;
        for (i, x) in items.iter().enumerate() {
            self.nested(rec, rest, x).at_index(i)?;
        }
        Ok(())
    }
}

fn scalar_bytes(dtype: Dtype, s: Scalar) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    scalar_le(dtype, s, &mut out);
    out
}

/// Bool bytes, `@bits` and `@range` over little-endian element bytes.
fn check_values(dtype: Dtype, data: &[u8], bits: Option<u32>, range: Option<Range>) -> Result<()> {
    if dtype != Dtype::Bool && bits.is_none() && range.is_none() {
        return Ok(());
    }
    with_dtype!(dtype, T => {
        let vals = rt::vec_from_le_bytes::<T>(data)?;
        if let Some(b) = bits {
            rt::check_bits(&vals, b)?;
        }
        if let Some(r) = range {
            rt::check_range(&vals, r.lo, r.hi)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Writing MessagePack and JSON
// ---------------------------------------------------------------------------------------

fn write_msgpack(w: &mut Writer, v: &Value, form: ArrayForm) -> Result<()> {
    match v {
        Value::Nil => w.nil(),
        Value::Scalar(s) => match *s {
            Scalar::Bool(b) => w.bool(b),
            Scalar::Int(i) => w.int(i),
            Scalar::UInt(u) => w.uint(u),
            Scalar::Float(f) => w.f64(f),
        },
        Value::Str(s) => w.str(s),
        Value::Bytes(b) => w.bin(b),
        Value::Array(a) => with_dtype!(a.dtype, T => {
            let vals = rt::vec_from_le_bytes::<T>(&a.data)?;
            match form {
                ArrayForm::Atdata => w.array_slice(&a.shape, &vals),
                ArrayForm::Numpy => w.array_numpy_slice(&a.shape, &vals),
            }
        }),
        Value::List(items) => {
            w.array_header(items.len());
            for (i, x) in items.iter().enumerate() {
                write_msgpack(w, x, form).at_index(i)?;
            }
        }
        Value::Map(entries) | Value::Record(entries) => {
            w.map_header(entries.len());
            for (k, x) in entries {
                w.str(k);
                write_msgpack(w, x, form).at(k)?;
            }
        }
    }
    Ok(())
}

/// Standard padded base64 of the bytes, as a string in JSON.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        base64_bytes::serialize(self.0, s)
    }
}

/// The JSON form (DESIGN §4): arrays as `{data_b64, shape, dtype}` (truss-chains' key
/// order), bytes as base64 strings, absent optionals as `null`, non-finite floats as the
/// strings `"NaN"`, `"Infinity"`, `"-Infinity"`, records and maps in their stored order.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_none(),
            Value::Scalar(Scalar::Bool(b)) => s.serialize_bool(*b),
            Value::Scalar(Scalar::Int(i)) => s.serialize_i64(*i),
            Value::Scalar(Scalar::UInt(u)) => s.serialize_u64(*u),
            Value::Scalar(Scalar::Float(f)) => {
                if f.is_finite() {
                    s.serialize_f64(*f)
                } else if f.is_nan() {
                    s.serialize_str("NaN")
                } else if *f > 0.0 {
                    s.serialize_str("Infinity")
                } else {
                    s.serialize_str("-Infinity")
                }
            }
            Value::Str(v) => s.serialize_str(v),
            Value::Bytes(b) => Base64(b).serialize(s),
            Value::Array(a) => {
                let mut st = s.serialize_struct("NdArray", 3)?;
                st.serialize_field("data_b64", &Base64(&a.data))?;
                st.serialize_field("shape", &a.shape)?;
                st.serialize_field("dtype", a.dtype.numpy_name())?;
                st.end()
            }
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for x in items {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Value::Map(entries) | Value::Record(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, x) in entries {
                    m.serialize_entry(k, x)?;
                }
                m.end()
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The aggregate packed form
// ---------------------------------------------------------------------------------------

fn bits_error(e: BitsError) -> Error {
    match e {
        BitsError::Overflow { value, bits, .. } => {
            Error::new(ErrorKind::BitsOverflow { value, bits })
        }
        // One sample is exactly one compact row (conformance/README.md, "Packed input").
        BitsError::CompactLength { expected, got } => Error::new(ErrorKind::BadPadding(format!(
            "compact form is {got} bytes, expected {expected}"
        ))),
        e => Error::new(ErrorKind::BadPadding(e.to_string())),
    }
}

/// Own element count of a leaf-bearing field (scalar: 1, fixed array: the product).
fn own_elements(ty: &Ty) -> Result<usize> {
    match ty {
        Ty::Scalar { .. } => Ok(1),
        Ty::Array { shape, .. } => shape
            .iter()
            .try_fold(1usize, |acc, d| {
                acc.checked_mul(usize::try_from(d.fixed()?).ok()?)
            })
            .ok_or_else(|| Error::custom("an aggregate leaf without a fixed shape")),
        _ => Err(Error::custom("an aggregate leaf that is not numeric")),
    }
}

/// Appends every leaf's little-endian element bytes, keyed by leaf path, in C order over
/// (outer component-array dims, own dims): the order the aggregate stream holds them.
fn gather(
    schema: &Schema,
    rec: &Record,
    prefix: &str,
    v: &Value,
    acc: &mut Vec<(String, Vec<u8>)>,
) -> Result<()> {
    let Value::Record(fields) = v else {
        return Err(wrong("record", v.kind()));
    };
    for (f, (_, fv)) in rec.fields.iter().zip(fields) {
        let path = format!("{prefix}{}", f.name);
        let slot = |acc: &mut Vec<(String, Vec<u8>)>| -> usize {
            match acc.iter().position(|(p, _)| *p == path) {
                Some(i) => i,
                None => {
                    acc.push((path.clone(), Vec::new()));
                    acc.len() - 1
                }
            }
        };
        match (&f.ty, fv) {
            (Ty::Scalar { dtype }, Value::Scalar(s)) => {
                let i = slot(acc);
                scalar_le(*dtype, *s, &mut acc[i].1);
            }
            (Ty::Array { .. }, Value::Array(a)) => {
                let i = slot(acc);
                acc[i].1.extend_from_slice(&a.data);
            }
            (Ty::Record { name, .. }, _) => {
                let c = child(schema, name)?;
                gather_nested(schema, c, &format!("{path}."), fv, acc).at(&f.name)?;
            }
            (Ty::Scalar { .. } | Ty::Array { .. }, Value::Nil) => {
                return Err(Error::custom("an absent optional cannot be packed").at(&f.name))
            }
            _ => return Err(Error::custom("a field that cannot be packed").at(&f.name)),
        }
    }
    Ok(())
}

fn gather_nested(
    schema: &Schema,
    rec: &Record,
    prefix: &str,
    v: &Value,
    acc: &mut Vec<(String, Vec<u8>)>,
) -> Result<()> {
    match v {
        Value::List(items) => {
            for (i, x) in items.iter().enumerate() {
                gather_nested(schema, rec, prefix, x, acc).at_index(i)?;
            }
            Ok(())
        }
        _ => gather(schema, rec, prefix, v, acc),
    }
}

fn pack(schema: &Schema, rec: &Record, agg: Aggregate, v: &Value) -> Result<Vec<u32>> {
    let mut acc = Vec::new();
    gather(schema, rec, "", v, &mut acc)?;
    let words = usize::try_from(agg.words)
        .map_err(|_| Error::custom("aggregate too large for this platform"))?;
    let mut out = vec![0u32; words];
    for leaf in &rec.leaves {
        let (Some(b), Some(offset), Some(dtype)) = (leaf.bits, leaf.bit_offset, leaf.kind.dtype())
        else {
            return Err(Error::custom("a leaf without bits in an aggregate").at(&leaf.path));
        };
        let data = acc
            .iter()
            .find(|(p, _)| *p == leaf.path)
            .map(|(_, d)| d.as_slice())
            .unwrap_or_default();
        let n = leaf.elements.unwrap_or(0);
        if data.len() as u128 != u128::from(n) * u128::from(dtype.size()) {
            return Err(Error::custom(format!(
                "expected {n} values for this leaf, found {}",
                data.len() / dtype.size() as usize
            ))
            .at(&leaf.path));
        }
        with_bit_dtype!(dtype, T => {
            let vals = rt::vec_from_le_bytes::<T>(data).at(&leaf.path)?;
            bits::pack_into(&vals, b, &mut out, offset)
                .map_err(|e| bits_error(e).at(&leaf.path))?;
        }, else return Err(Error::custom("a float leaf in an aggregate").at(&leaf.path)));
    }
    Ok(out)
}

fn unpack(schema: &Schema, rec: &Record, agg: Aggregate, bytes: &[u8]) -> Result<Value> {
    let too_large = || Error::custom("aggregate too large for this platform");
    let words = bits::words_from_compact(
        bytes,
        usize::try_from(agg.words).map_err(|_| too_large())?,
        usize::try_from(agg.words_len).map_err(|_| too_large())?,
        usize::try_from(agg.tail_bytes).map_err(|_| too_large())?,
        agg.total_bits,
    )
    .map_err(bits_error)?;
    // Every leaf's elements as LE bytes, in C order over its full shape.
    let mut leaves: Vec<(&str, Vec<u8>)> = Vec::with_capacity(rec.leaves.len());
    for leaf in &rec.leaves {
        let (Some(b), Some(offset), Some(dtype), Some(n)) =
            (leaf.bits, leaf.bit_offset, leaf.kind.dtype(), leaf.elements)
        else {
            return Err(Error::custom("a leaf without bits in an aggregate").at(&leaf.path));
        };
        // The layout bounds n by total_bits, which `words` holds.
        let n = usize::try_from(n).map_err(|_| too_large())?;
        let data = with_bit_dtype!(dtype, T => {
            let mut out = vec![T::default(); n];
            bits::unpack_from(&words, offset, b, &mut out).map_err(|e| bits_error(e).at(&leaf.path))?;
            rt::as_le_bytes(&out).into_owned()
        }, else return Err(Error::custom("a float leaf in an aggregate").at(&leaf.path)));
        leaves.push((&leaf.path, data));
    }
    build(schema, rec, "", 0, &leaves)
}

/// Instance `k` of `rec` (its flat index over the enclosing component-array dims) rebuilt
/// from the unpacked leaves.
fn build(
    schema: &Schema,
    rec: &Record,
    prefix: &str,
    k: usize,
    leaves: &[(&str, Vec<u8>)],
) -> Result<Value> {
    let mut out = Vec::with_capacity(rec.fields.len());
    for f in &rec.fields {
        let path = format!("{prefix}{}", f.name);
        let v = match &f.ty {
            Ty::Scalar { dtype } | Ty::Array { dtype, .. } => {
                let e = own_elements(&f.ty).at(&path)?;
                let size = dtype.size() as usize;
                let data = leaves
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, d)| d.as_slice())
                    .unwrap_or_default();
                let chunk = data
                    .get(k * e * size..(k + 1) * e * size)
                    .ok_or_else(|| Error::custom("leaf data out of range").at(&path))?;
                match &f.ty {
                    Ty::Scalar { .. } => {
                        Value::Scalar(with_dtype!(*dtype, T => T::read_le(chunk).to_scalar()))
                    }
                    Ty::Array { shape, .. } => Value::Array(Array {
                        dtype: *dtype,
                        shape: shape
                            .iter()
                            .map(|d| d.fixed().unwrap_or(0) as usize)
                            .collect(),
                        data: chunk.to_vec(),
                    }),
                    _ => unreachable!("matched above"),
                }
            }
            Ty::Record { name, shape } => {
                let c = child(schema, name)?;
                let dims: Vec<usize> = shape
                    .iter()
                    .map(|d| d.fixed().unwrap_or(0) as usize)
                    .collect();
                let m = dims.iter().product::<usize>();
                build_nested(schema, c, &format!("{path}."), k * m, &dims, leaves)?
            }
            _ => return Err(Error::custom("a field that cannot be packed").at(&path)),
        };
        out.push((f.name.clone(), v));
    }
    Ok(Value::Record(out))
}

/// Nested lists over `dims` of component instances starting at flat index `base`.
fn build_nested(
    schema: &Schema,
    rec: &Record,
    prefix: &str,
    base: usize,
    dims: &[usize],
    leaves: &[(&str, Vec<u8>)],
) -> Result<Value> {
    let Some((&first, rest)) = dims.split_first() else {
        return build(schema, rec, prefix, base, leaves);
    };
    let stride: usize = rest.iter().product();
    (0..first)
        .map(|i| build_nested(schema, rec, prefix, base + i * stride, rest, leaves))
        .collect::<Result<Vec<_>>>()
        .map(Value::List)
}

//! serde plumbing for generated code: the JSON scalar adapters ([`JsonF64`], [`JsonInt`]),
//! map keys ([`FieldKey`]), the conversions between runtime errors and serde errors that
//! keep the kind and the field path, and `to_json` / `from_json` with the structural
//! pre-pass.

use super::*;
use crate::dtype::Dtype;

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
        Self::deserialize_for(d, Dtype::F64)
    }
}

impl JsonF64 {
    /// Reads the value for a field of `dtype`, which names the dtype in the error for a
    /// JSON number past f64 (docs/language.md, "JSON text").
    pub fn deserialize_for<'de, D: serde::Deserializer<'de>>(
        d: D,
        dtype: Dtype,
    ) -> std::result::Result<Self, D::Error> {
        struct V(Dtype);
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
                match crate::json_numbers::scalar_for(v, self.0).map_err(de_error)? {
                    Scalar::Float(f) => Ok(JsonF64(f)),
                    _ => Ok(JsonF64(v as f64)),
                }
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
        d.deserialize_any(V(dtype))
    }

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
        Self::deserialize_for(d, Dtype::I64)
    }
}

impl JsonInt {
    /// Reads the value for a field of `dtype`, which names the dtype in the error for an
    /// integer past i64/u64 (docs/language.md, "JSON text").
    pub fn deserialize_for<'de, D: serde::Deserializer<'de>>(
        d: D,
        dtype: Dtype,
    ) -> std::result::Result<Self, D::Error> {
        struct V(Dtype);
        impl serde::de::Visitor<'_> for V {
            type Value = JsonInt;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<JsonInt, E> {
                Ok(JsonInt(Scalar::Int(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<JsonInt, E> {
                crate::json_numbers::scalar_for(v, self.0)
                    .map(JsonInt)
                    .map_err(de_error)
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
        d.deserialize_any(V(dtype))
    }

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
    crate::json_numbers::with_wide_numbers(s.as_bytes(), |text| {
        // Placeholders replace ASCII with ASCII, so the text is still UTF-8.
        std::str::from_utf8(text).map_or_else(
            |e| Err(Error::custom(e.to_string()).at(name)),
            |s| from_json_text(s, name),
        )
    })
}

fn from_json_text<T: serde::de::DeserializeOwned>(s: &str, name: &str) -> Result<T> {
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

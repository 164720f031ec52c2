//! The generic half of every generated record: the [`Record`] and [`RecordRef`] traits,
//! the field visitors that turn a generated `visit` (one `v.field(name, codec, value)`
//! line per field) into MessagePack writing, size hints, checks and serde
//! serialization, the field sources that turn a generated `read_fields` (one match arm per
//! field) into MessagePack reading and serde deserialization, and the macros that give
//! every generated struct its public methods.

use std::convert::Infallible;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};

use super::codec::{Codec, OptSeed, Seed, With};
use super::{de_at, de_error, de_required, duplicate_key, not_nil, FieldKey, RandomDims};
use crate::array::DimTable;
use crate::error::{Error, Result, ResultExt};
use crate::msgpack::{Reader, Writer};
use crate::rng::Rng;

/// Implemented by every generated struct (samples and components). The generated part
/// is data and one line per field (`visit`, `read_fields`, `random_in`); the rest is
/// provided here.
pub trait Record: Sized {
    /// The record's name in the schema.
    const NAME: &'static str;
    /// The record's layout fingerprint (16 hex digits).
    const FINGERPRINT: &'static str;
    /// The field names, in declaration order (the wire order).
    const FIELDS: &'static [&'static str];
    /// Samples prefix their own check errors with their name; a component's path starts
    /// at the field holding it.
    const IS_SAMPLE: bool;

    /// The zero-copy view.
    type Ref<'a>: RecordRef<'a, Owned = Self>;

    /// Calls `v.field` for every field, in declaration order, stopping at the first error.
    fn visit<V: Fields>(&self, v: &mut V) -> std::result::Result<(), V::Error>;

    /// Reads the fields of one map from `s` (its keys in any order), filling defaults.
    fn read_fields<S: Source>(s: &mut S) -> std::result::Result<Self, S::Error>;

    /// A random instance following the recipe in the [module docs](super).
    fn random_in(rng: &mut Rng, dims: &mut RandomDims) -> Self;

    /// Appends the record as one MessagePack map (every field, declaration order).
    #[inline]
    fn write_msgpack(&self, w: &mut Writer) {
        w.map_header(Self::FIELDS.len());
        let Ok(()) = self.visit(&mut WriteFields(w));
    }

    /// Reads one MessagePack map, binding named dims in `dims`. Errors carry the path
    /// below this record (the caller adds the record's own name or field).
    #[inline]
    fn read_msgpack_in(r: &mut Reader<'_>, dims: &mut DimTable) -> Result<Self> {
        let left = r.map_len()?;
        Self::read_fields(&mut MsgpackSource { r, dims, left })
    }

    /// Checks shapes (fixed and named dims, component-array lengths); with `full`, also
    /// `@range` and `@bits`. Errors carry the path below this record.
    #[inline]
    fn check_in(&self, dims: &mut DimTable, full: bool) -> Result<()> {
        self.visit(&mut CheckFields { dims, full })
    }

    /// An upper bound of the MessagePack size.
    #[inline]
    fn size_hint(&self) -> usize {
        let mut h = HintFields(5);
        let Ok(()) = self.visit(&mut h);
        h.0
    }
}

/// Implemented by every generated zero-copy view `NameRef<'a>`.
pub trait RecordRef<'a>: Sized {
    /// The owned struct this view decodes to.
    type Owned;

    /// Reads the fields of one map, borrowing arrays, strs and bins from the input.
    fn read_fields(s: &mut ViewSource<'_, 'a>) -> Result<Self>;

    /// Copies into the owned struct.
    fn to_owned_record(&self) -> Self::Owned;

    /// Reads one MessagePack map borrowing from the input.
    #[inline]
    fn read_msgpack_in(r: &mut Reader<'a>, dims: &mut DimTable) -> Result<Self> {
        let left = r.map_len()?;
        Self::read_fields(&mut ViewSource { r, dims, left })
    }
}

// ---------------------------------------------------------------------------------------
// Visiting fields
// ---------------------------------------------------------------------------------------

/// What [`Record::visit`] drives: one call per field with its wire name, codec and value.
pub trait Fields {
    type Error;
    fn field<C: Codec>(
        &mut self,
        name: &'static str,
        c: &C,
        v: &C::Value,
    ) -> std::result::Result<(), Self::Error>;
}

/// Writes `name`, then the value.
struct WriteFields<'w>(&'w mut Writer);

impl Fields for WriteFields<'_> {
    type Error = Infallible;
    #[inline]
    fn field<C: Codec>(
        &mut self,
        name: &'static str,
        c: &C,
        v: &C::Value,
    ) -> std::result::Result<(), Infallible> {
        self.0.str(name);
        c.write(v, self.0);
        Ok(())
    }
}

/// Sums the size bounds.
struct HintFields(usize);

impl Fields for HintFields {
    type Error = Infallible;
    #[inline]
    fn field<C: Codec>(
        &mut self,
        name: &'static str,
        c: &C,
        v: &C::Value,
    ) -> std::result::Result<(), Infallible> {
        self.0 += 3 + name.len() + c.hint(v);
        Ok(())
    }
}

/// Checks every field; errors get the field's name.
struct CheckFields<'d> {
    dims: &'d mut DimTable,
    full: bool,
}

impl Fields for CheckFields<'_> {
    type Error = Error;
    #[inline]
    fn field<C: Codec>(&mut self, name: &'static str, c: &C, v: &C::Value) -> Result<()> {
        c.check(v, self.dims, self.full).at(name)
    }
}

/// Serializes every field into a serde struct.
struct SerFields<'s, M>(&'s mut M);

impl<M: SerializeStruct> Fields for SerFields<'_, M> {
    type Error = M::Error;
    #[inline]
    fn field<C: Codec>(
        &mut self,
        name: &'static str,
        c: &C,
        v: &C::Value,
    ) -> std::result::Result<(), M::Error> {
        self.0.serialize_field(name, &With(c, v))
    }
}

// ---------------------------------------------------------------------------------------
// Reading fields
// ---------------------------------------------------------------------------------------

/// A map key as a str.
pub trait FieldName {
    fn name(&self) -> &str;
}

impl FieldName for &str {
    #[inline]
    fn name(&self) -> &str {
        self
    }
}

impl FieldName for FieldKey<'_> {
    #[inline]
    fn name(&self) -> &str {
        self.as_str()
    }
}

/// Where [`Record::read_fields`] reads from: a MessagePack map or a serde map.
pub trait Source {
    type Error;
    type Key: FieldName;

    /// The next key, `None` after the last.
    fn next_key(&mut self) -> std::result::Result<Option<Self::Key>, Self::Error>;

    /// Reads the value of field `name` into `slot`: a key given twice is `DuplicateKey`,
    /// `nil` for a field that is not optional is `MissingField`; errors get the name.
    fn value<C: Codec>(
        &mut self,
        slot: &mut Option<C::Value>,
        c: &C,
        name: &'static str,
    ) -> std::result::Result<(), Self::Error>;

    /// Skips the value of an unknown key.
    fn skip(&mut self) -> std::result::Result<(), Self::Error>;

    /// A required field's value, or `MissingField`.
    fn required<T>(
        &self,
        slot: Option<T>,
        name: &'static str,
    ) -> std::result::Result<T, Self::Error>;
}

/// A MessagePack map being read into an owned struct.
pub struct MsgpackSource<'s, 'a> {
    r: &'s mut Reader<'a>,
    dims: &'s mut DimTable,
    left: usize,
}

impl<'a> Source for MsgpackSource<'_, 'a> {
    type Error = Error;
    type Key = &'a str;

    #[inline]
    fn next_key(&mut self) -> Result<Option<&'a str>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        self.r.str().map(Some)
    }

    #[inline]
    fn value<C: Codec>(
        &mut self,
        slot: &mut Option<C::Value>,
        c: &C,
        name: &'static str,
    ) -> Result<()> {
        if slot.is_some() {
            return Err(duplicate_key(name));
        }
        if !C::NULLABLE {
            not_nil(self.r).at(name)?;
        }
        *slot = Some(c.read(self.r, self.dims).at(name)?);
        Ok(())
    }

    #[inline]
    fn skip(&mut self) -> Result<()> {
        self.r.skip()
    }

    #[inline]
    fn required<T>(&self, slot: Option<T>, name: &'static str) -> Result<T> {
        slot.ok_or_else(|| Error::missing_field(name))
    }
}

/// A MessagePack map being read into a zero-copy view: the same rules as
/// [`MsgpackSource`], values borrowed from the input.
pub struct ViewSource<'s, 'a> {
    r: &'s mut Reader<'a>,
    dims: &'s mut DimTable,
    left: usize,
}

impl<'a> ViewSource<'_, 'a> {
    /// The next key, `None` after the last.
    #[inline]
    pub fn next_key(&mut self) -> Result<Option<&'a str>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        self.r.str().map(Some)
    }

    /// [`Source::value`], borrowing.
    #[inline]
    pub fn value<C: Codec>(
        &mut self,
        slot: &mut Option<C::View<'a>>,
        c: &C,
        name: &'static str,
    ) -> Result<()> {
        if slot.is_some() {
            return Err(duplicate_key(name));
        }
        if !C::NULLABLE {
            not_nil(self.r).at(name)?;
        }
        *slot = Some(c.read_view(self.r, self.dims).at(name)?);
        Ok(())
    }

    #[inline]
    pub fn skip(&mut self) -> Result<()> {
        self.r.skip()
    }

    #[inline]
    pub fn required<T>(&self, slot: Option<T>, name: &'static str) -> Result<T> {
        slot.ok_or_else(|| Error::missing_field(name))
    }
}

/// A serde map (JSON object or a binary format's map) being read into an owned struct.
pub struct SerdeSource<'de, A>(A, PhantomData<&'de ()>);

impl<'de, A: MapAccess<'de>> Source for SerdeSource<'de, A> {
    type Error = A::Error;
    type Key = FieldKey<'de>;

    #[inline]
    fn next_key(&mut self) -> std::result::Result<Option<FieldKey<'de>>, A::Error> {
        self.0.next_key()
    }

    fn value<C: Codec>(
        &mut self,
        slot: &mut Option<C::Value>,
        c: &C,
        name: &'static str,
    ) -> std::result::Result<(), A::Error> {
        if slot.is_some() {
            return Err(de_error(duplicate_key(name)));
        }
        // `de_at` gives serde's own type errors a kind and the field's path; a required
        // field reads through `Option` so that `null` is `MissingField`.
        let v = if C::NULLABLE {
            self.0
                .next_value_seed(Seed(c))
                .map_err(|e| de_at(e, name))?
        } else {
            de_required(self.0.next_value_seed(OptSeed(c)), name)?
        };
        *slot = Some(v);
        Ok(())
    }

    #[inline]
    fn skip(&mut self) -> std::result::Result<(), A::Error> {
        self.0.next_value::<IgnoredAny>().map(|_| ())
    }

    fn required<T>(&self, slot: Option<T>, name: &'static str) -> std::result::Result<T, A::Error> {
        // Typed, so that the path of an element deep in a component array survives the
        // prefixes added on the way out (serde's own error has only the name).
        slot.ok_or_else(|| de_error(Error::missing_field(name)))
    }
}

// ---------------------------------------------------------------------------------------
// serde
// ---------------------------------------------------------------------------------------

/// A record as a serde struct (a map keyed by field name, declaration order); every field
/// in the form its codec picks from `is_human_readable()`.
pub fn serialize_record<R: Record, S: Serializer>(
    v: &R,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct(R::NAME, R::FIELDS.len())?;
    v.visit(&mut SerFields(&mut st))?;
    st.end()
}

/// A record from a serde map, checked as `from_msgpack` checks (shapes, `@range`, `@bits`).
pub fn deserialize_record<'de, R: Record, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<R, D::Error> {
    d.deserialize_map(RecordVisitor(PhantomData))
}

struct RecordVisitor<R>(PhantomData<fn() -> R>);

impl<'de, R: Record> Visitor<'de> for RecordVisitor<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<R, A::Error> {
        let v = {
            let _inside = Nesting::enter();
            R::read_fields(&mut SerdeSource(map, PhantomData))?
        };
        // A record read inside another is checked by the outermost one's check pass, with
        // the whole sample's named dims, after every field is read (docs/language.md,
        // "Error precedence": `@range`/`@bits` of a component come in the check pass).
        if Nesting::depth() > 0 {
            return Ok(v);
        }
        v.check_in(&mut DimTable::new(), true).map_err(|e| {
            // A component's path starts at the field holding it (`de_at` adds it).
            de_error(if R::IS_SAMPLE { e.at(R::NAME) } else { e })
        })?;
        Ok(v)
    }
}

thread_local! {
    /// How many records serde is reading into on this thread (see `RecordVisitor`).
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of [`NESTING`], left on drop (also when a read fails or panics).
struct Nesting;

impl Nesting {
    fn enter() -> Self {
        NESTING.with(|n| n.set(n.get() + 1));
        Nesting
    }
    fn depth() -> usize {
        NESTING.with(std::cell::Cell::get)
    }
}

impl Drop for Nesting {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

// ---------------------------------------------------------------------------------------
// Public methods
// ---------------------------------------------------------------------------------------

/// The public methods and serde impls of a generated struct, written once:
/// `record_methods!(Name)` in generated code.
#[doc(hidden)]
#[macro_export]
macro_rules! record_methods {
    ($t:ident) => {
        impl $t {
            /// Encodes as MessagePack: the same bytes as Python atdata's `packed` for the
            /// types atdata knows.
            pub fn to_msgpack(&self) -> ::std::vec::Vec<u8> {
                let mut w = $crate::msgpack::Writer::with_capacity(self.msgpack_size_hint());
                self.write_msgpack(&mut w);
                w.into_bytes()
            }

            /// Appends the MessagePack encoding (one map, every field, declaration order).
            pub fn write_msgpack(&self, w: &mut $crate::msgpack::Writer) {
                <Self as $crate::gen_support::Record>::write_msgpack(self, w)
            }

            /// Decodes one MessagePack map; the whole input must be consumed. Unknown keys
            /// are skipped; missing optional or defaulted fields are filled; shapes,
            /// `@range` and `@bits` are checked; errors carry the field path
            /// (`Name.field`).
            pub fn from_msgpack(
                bytes: &[u8],
            ) -> ::core::result::Result<Self, $crate::error::Error> {
                $crate::gen_support::record_from_msgpack(bytes)
            }

            /// An upper bound of the encoded size (what `to_msgpack` reserves).
            pub fn msgpack_size_hint(&self) -> usize {
                <Self as $crate::gen_support::Record>::size_hint(self)
            }

            /// Checks what the types cannot: shapes (fixed dims, named dims agreeing
            /// across fields, component-array lengths), `@range` and `@bits`.
            pub fn validate(&self) -> ::core::result::Result<(), $crate::error::Error> {
                $crate::gen_support::validate(self)
            }

            /// A random instance that passes `validate()`; see
            /// `schemac_runtime::gen_support` for the recipe.
            pub fn random(rng: &mut $crate::rng::Rng) -> Self {
                <Self as $crate::gen_support::Record>::random_in(
                    rng,
                    &mut $crate::gen_support::RandomDims::new(),
                )
            }

            /// The JSON form (DESIGN §4: arrays as `{data_b64, shape, dtype}`).
            pub fn to_json(&self) -> ::std::string::String {
                $crate::gen_support::to_json(self)
            }

            /// Reads the JSON form; shapes, `@range` and `@bits` are checked as in
            /// `from_msgpack`.
            pub fn from_json(s: &str) -> ::core::result::Result<Self, $crate::error::Error> {
                $crate::gen_support::record_from_json(s)
            }
        }

        /// Human-readable formats get the JSON form, binary formats the atdata
        /// MessagePack form (`rmp_serde::to_vec_named` gives `to_msgpack`'s bytes).
        impl $crate::gen_support::serde::Serialize for $t {
            fn serialize<S: $crate::gen_support::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::gen_support::serialize_record(self, s)
            }
        }

        /// Either form (see `Serialize`); checked as `from_msgpack` checks.
        impl<'de> $crate::gen_support::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::gen_support::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::gen_support::deserialize_record(d)
            }
        }
    };
}

/// The WebDataset methods of a generated sample: `sample_methods!(Name)`.
#[doc(hidden)]
#[macro_export]
macro_rules! sample_methods {
    ($t:ident) => {
        impl $t {
            /// This sample as a WebDataset member: the tar member name `<key>.msgpack` and
            /// its bytes (what Python's `as_wds(key)` gives as
            /// `{"__key__": key, "msgpack": bytes}`).
            pub fn as_wds(&self, key: &str) -> (::std::string::String, ::std::vec::Vec<u8>) {
                (::std::format!("{key}.msgpack"), self.to_msgpack())
            }

            /// Writes this sample into a WebDataset shard under `key`.
            pub fn write_wds(
                &self,
                shards: &mut $crate::shard::ShardWriter,
                key: &str,
            ) -> ::core::result::Result<(), $crate::shard::ShardError> {
                shards.write(key, &self.to_msgpack())
            }

            /// Every sample in WebDataset shards, as `(key, sample)`; a member that does
            /// not decode is an error naming its key.
            pub fn read_wds(shards: $crate::shard::ShardReader) -> $crate::shard::Decoded<Self> {
                shards.read(Self::from_msgpack)
            }
        }
    };
}

/// The public methods of a generated zero-copy view: `view_methods!(NameRef, Name)`.
#[doc(hidden)]
#[macro_export]
macro_rules! view_methods {
    ($v:ident, $t:ident) => {
        impl<'a> $v<'a> {
            /// Decodes one MessagePack map, borrowing from `bytes`; the same checks and
            /// errors as the owned struct's `from_msgpack`.
            pub fn from_msgpack(
                bytes: &'a [u8],
            ) -> ::core::result::Result<Self, $crate::error::Error> {
                $crate::gen_support::view_from_msgpack::<$t>(bytes)
            }

            /// Copies into the owned struct.
            pub fn to_owned(&self) -> $t {
                <Self as $crate::gen_support::RecordRef<'a>>::to_owned_record(self)
            }
        }
    };
}

/// The index conversions, `FromStr`, `Display` and serde impls of a generated enum (the
/// enum declares its variants with their indices as discriminants and its `ALL` and
/// `as_str`): `enum_methods!(Name)`.
#[doc(hidden)]
#[macro_export]
macro_rules! enum_methods {
    ($t:ident) => {
        impl $t {
            /// The variant's declaration index (what batches and CUDA store).
            pub const fn index(self) -> u32 {
                self as u32
            }

            /// The variant with declaration index `index`.
            pub const fn from_index(index: u32) -> ::core::option::Option<Self> {
                let mut k = 0;
                while k < Self::ALL.len() {
                    if Self::ALL[k] as u32 == index {
                        return ::core::option::Option::Some(Self::ALL[k]);
                    }
                    k += 1;
                }
                ::core::option::Option::None
            }
        }

        impl ::core::str::FromStr for $t {
            type Err = $crate::error::Error;

            /// Parses a variant name; `UnknownVariant` otherwise.
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .find(|v| v.as_str() == s)
                    .copied()
                    .ok_or_else(|| $crate::error::Error::unknown_variant(s))
            }
        }

        impl ::core::fmt::Display for $t {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// The variant's name as a string, in both serde forms.
        impl $crate::gen_support::serde::Serialize for $t {
            fn serialize<S: $crate::gen_support::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::gen_support::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::gen_support::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                $crate::gen_support::de_enum(d)
            }
        }
    };
}

/// `from_msgpack` of a generated struct: structural pre-pass, read, whole input consumed,
/// full check; errors rooted at the record's name. Named dims are left unbound while
/// reading, so the check binds them in declaration order (docs/language.md, "Error
/// precedence").
pub fn record_from_msgpack<R: Record>(bytes: &[u8]) -> Result<R> {
    let v = super::from_msgpack(bytes, R::NAME, |r| {
        R::read_msgpack_in(r, &mut DimTable::unbound())
    })?;
    v.check_in(&mut DimTable::new(), true).at(R::NAME)?;
    Ok(v)
}

/// `from_msgpack` of a generated view. Views are not range- or bits-checked beyond what
/// reading checks (their values borrow the input).
pub fn view_from_msgpack<'a, R: Record>(bytes: &'a [u8]) -> Result<R::Ref<'a>> {
    super::from_msgpack(bytes, R::NAME, |r| {
        <R::Ref<'a> as RecordRef<'a>>::read_msgpack_in(r, &mut DimTable::new())
    })
}

/// `validate()` of a generated struct.
pub fn validate<R: Record>(v: &R) -> Result<()> {
    v.check_in(&mut DimTable::new(), true).at(R::NAME)
}

/// `from_json` of a generated struct.
pub fn record_from_json<R: Record + serde::de::DeserializeOwned>(s: &str) -> Result<R> {
    let v: R = super::from_json(s, R::NAME)?;
    v.check_in(&mut DimTable::new(), true).at(R::NAME)?;
    Ok(v)
}

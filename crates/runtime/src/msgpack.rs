//! MessagePack, byte-compatible with Python atdata `@packable` (msgpack-python 1.x).
//!
//! Owns the wire format of DESIGN.md §4:
//! - [`Writer`]: appends values to a `Vec<u8>` with exactly the encodings msgpack-python
//!   picks (smallest int family, non-negative ints as unsigned, floats always float64,
//!   smallest str/bin/array/map headers), plus n-d arrays as atdata's array payload
//!   ([`Writer::array`]) or as the msgpack-numpy map ([`Writer::array_numpy`]).
//! - [`Reader`]: a bounds-checked cursor over untrusted bytes. It never panics, never
//!   recurses deeper than [`MAX_DEPTH`], and never allocates for a declared length before
//!   checking it against the bytes remaining, so hostile headers cost nothing. Arrays are
//!   accepted in all three encodings: atdata payload bin, `.npy` bin, msgpack-numpy map.
//!
//! Generated code drives both directly, field by field (see the method docs); errors come
//! back without a path and the generated code adds it with [`crate::error::ResultExt`].

use std::borrow::Cow;

use crate::array::{as_le_bytes, ArrayView, Element, NdArray, Scalar};
use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind, Result};

/// The deepest nesting [`Reader::skip`] follows before giving up with `TooDeep`.
pub const MAX_DEPTH: usize = 64;

/// The `.npy` magic string that starts a bin holding a whole `.npy` file.
pub const NPY_MAGIC: &[u8; 6] = b"\x93NUMPY";

/// A MessagePack value family, as [`Reader::peek`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Nil,
    Bool,
    Int,
    Float,
    Str,
    Bin,
    Array,
    Map,
    Ext,
}

impl Family {
    /// The family's name, as used in [`ErrorKind::WrongType`].
    pub fn name(self) -> &'static str {
        match self {
            Family::Nil => "nil",
            Family::Bool => "bool",
            Family::Int => "int",
            Family::Float => "float",
            Family::Str => "str",
            Family::Bin => "bin",
            Family::Array => "array",
            Family::Map => "map",
            Family::Ext => "ext",
        }
    }

    /// The family a leading byte starts; `None` for 0xc1, which MessagePack never uses.
    pub fn of_marker(m: u8) -> Option<Family> {
        Some(match m {
            0x00..=0x7f | 0xcc..=0xd3 | 0xe0..=0xff => Family::Int,
            0x80..=0x8f | 0xde | 0xdf => Family::Map,
            0x90..=0x9f | 0xdc | 0xdd => Family::Array,
            0xa0..=0xbf | 0xd9..=0xdb => Family::Str,
            0xc0 => Family::Nil,
            0xc2 | 0xc3 => Family::Bool,
            0xc4..=0xc6 => Family::Bin,
            0xc7..=0xc9 | 0xd4..=0xd8 => Family::Ext,
            0xca | 0xcb => Family::Float,
            0xc1 => return None,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Appends MessagePack values to a byte buffer.
///
/// A sample is written as `map_header(n)` then, per field, `str(name)` and the value.
/// Reuse one writer (after [`Writer::clear`]) to keep its allocation across samples.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writer {
    buf: Vec<u8>,
}

/// Converts a container length to the 32 bits MessagePack allows.
///
/// # Panics
/// Above `u32::MAX`: MessagePack cannot express it, and no Python reader could accept it.
#[inline]
fn len32(n: usize) -> u32 {
    u32::try_from(n).expect("MessagePack lengths are limited to 2^32 - 1")
}

impl Writer {
    pub fn new() -> Self {
        Writer { buf: Vec::new() }
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// A writer appending to `buf`.
    pub fn from_vec(buf: Vec<u8>) -> Self {
        Writer { buf }
    }

    /// Empties the buffer, keeping its capacity.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends already-encoded MessagePack bytes verbatim.
    pub fn raw(&mut self, encoded: &[u8]) {
        self.buf.extend_from_slice(encoded);
    }

    pub fn nil(&mut self) {
        self.buf.push(0xc0);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.push(if v { 0xc3 } else { 0xc2 });
    }

    /// A non-negative int: positive fixint, uint8, uint16, uint32 or uint64, smallest first.
    pub fn uint(&mut self, v: u64) {
        if v < 0x80 {
            self.buf.push(v as u8);
        } else if v <= u64::from(u8::MAX) {
            self.buf.extend_from_slice(&[0xcc, v as u8]);
        } else if v <= u64::from(u16::MAX) {
            self.buf.push(0xcd);
            self.buf.extend_from_slice(&(v as u16).to_be_bytes());
        } else if v <= u64::from(u32::MAX) {
            self.buf.push(0xce);
            self.buf.extend_from_slice(&(v as u32).to_be_bytes());
        } else {
            self.buf.push(0xcf);
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
    }

    /// An int as msgpack-python writes it: non-negative values take the unsigned families
    /// ([`Writer::uint`]); negative ones negative fixint, int8, int16, int32 or int64.
    pub fn int(&mut self, v: i64) {
        if v >= 0 {
            self.uint(v as u64);
        } else if v >= -32 {
            self.buf.push(v as u8);
        } else if v >= i64::from(i8::MIN) {
            self.buf.extend_from_slice(&[0xd0, v as u8]);
        } else if v >= i64::from(i16::MIN) {
            self.buf.push(0xd1);
            self.buf.extend_from_slice(&(v as i16).to_be_bytes());
        } else if v >= i64::from(i32::MIN) {
            self.buf.push(0xd2);
            self.buf.extend_from_slice(&(v as i32).to_be_bytes());
        } else {
            self.buf.push(0xd3);
            self.buf.extend_from_slice(&v.to_be_bytes());
        }
    }

    /// A float, always as float64 (`cb`): Python floats are doubles, and atdata writes
    /// every float scalar (f16/bf16/f32 fields too) that way.
    pub fn f64(&mut self, v: f64) {
        self.buf.push(0xcb);
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    /// A scalar field of any element type: bool, int ([`Writer::int`] rules) or float64.
    #[inline]
    pub fn scalar<T: Element>(&mut self, v: T) {
        match v.to_scalar() {
            Scalar::Bool(b) => self.bool(b),
            Scalar::Int(i) => self.int(i),
            Scalar::UInt(u) => self.uint(u),
            Scalar::Float(f) => self.f64(f),
        }
    }

    /// A str with the smallest header (fixstr, str8, str16, str32).
    ///
    /// # Panics
    /// If longer than `u32::MAX` bytes.
    pub fn str(&mut self, v: &str) {
        let n = len32(v.len());
        if n < 32 {
            self.buf.push(0xa0 | n as u8);
        } else if n <= u32::from(u8::MAX) {
            self.buf.extend_from_slice(&[0xd9, n as u8]);
        } else if n <= u32::from(u16::MAX) {
            self.buf.push(0xda);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.buf.push(0xdb);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
        self.buf.extend_from_slice(v.as_bytes());
    }

    /// Just the header of a bin of `len` bytes (bin8, bin16, bin32); the caller appends
    /// exactly `len` bytes next.
    ///
    /// # Panics
    /// If `len > u32::MAX`.
    pub fn bin_header(&mut self, len: usize) {
        let n = len32(len);
        if n <= u32::from(u8::MAX) {
            self.buf.extend_from_slice(&[0xc4, n as u8]);
        } else if n <= u32::from(u16::MAX) {
            self.buf.push(0xc5);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.buf.push(0xc6);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// A bin with the smallest header.
    ///
    /// # Panics
    /// If longer than `u32::MAX` bytes.
    pub fn bin(&mut self, v: &[u8]) {
        self.buf.reserve(5 + v.len());
        self.bin_header(v.len());
        self.buf.extend_from_slice(v);
    }

    /// The header of an array of `len` values (fixarray, array16, array32); write the
    /// values next.
    ///
    /// # Panics
    /// If `len > u32::MAX`.
    pub fn array_header(&mut self, len: usize) {
        let n = len32(len);
        if n < 16 {
            self.buf.push(0x90 | n as u8);
        } else if n <= u32::from(u16::MAX) {
            self.buf.push(0xdc);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.buf.push(0xdd);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// The header of a map of `len` entries (fixmap, map16, map32); write `len` key/value
    /// pairs next.
    ///
    /// # Panics
    /// If `len > u32::MAX`.
    pub fn map_header(&mut self, len: usize) {
        let n = len32(len);
        if n < 16 {
            self.buf.push(0x80 | n as u8);
        } else if n <= u32::from(u16::MAX) {
            self.buf.push(0xde);
            self.buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.buf.push(0xdf);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    /// An n-d array as atdata writes it: a bin holding `u8 len(typestr)`, the typestr,
    /// `u8 ndim`, `ndim × i64 LE` dims, then the raw C-order little-endian elements.
    pub fn array<T: Element>(&mut self, a: &NdArray<T>) {
        self.array_slice(a.shape(), a.as_slice());
    }

    /// [`Writer::array`] from a shape and C-order data (e.g. one row of a batch column).
    /// One `memcpy` for the data on little-endian targets.
    ///
    /// # Panics
    /// If `shape` has more than 255 dims, the payload exceeds `u32::MAX` bytes, or (debug
    /// builds) `data.len()` is not the product of `shape`.
    pub fn array_slice<T: Element>(&mut self, shape: &[usize], data: &[T]) {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        let typestr = T::DTYPE.typestr().as_bytes();
        let ndim = u8::try_from(shape.len()).expect("arrays have at most 255 dims");
        let bytes = as_le_bytes(data);
        let payload = 2 + typestr.len() + 8 * shape.len() + bytes.len();
        self.buf.reserve(5 + payload);
        self.bin_header(payload);
        self.buf.push(typestr.len() as u8);
        self.buf.extend_from_slice(typestr);
        self.buf.push(ndim);
        for &d in shape {
            self.buf.extend_from_slice(&(d as i64).to_le_bytes());
        }
        self.buf.extend_from_slice(&bytes);
    }

    /// An n-d array as msgpack-numpy writes it: a 5-entry map with **bin** keys `nd`
    /// (true), `type` (str typestr), `kind` (empty bin), `shape` (int array), `data` (bin).
    pub fn array_numpy<T: Element>(&mut self, a: &NdArray<T>) {
        self.array_numpy_slice(a.shape(), a.as_slice());
    }

    /// [`Writer::array_numpy`] from a shape and C-order data.
    pub fn array_numpy_slice<T: Element>(&mut self, shape: &[usize], data: &[T]) {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        let bytes = as_le_bytes(data);
        self.buf.reserve(40 + 9 * shape.len() + bytes.len());
        self.map_header(5);
        self.bin(b"nd");
        self.bool(true);
        self.bin(b"type");
        self.str(T::DTYPE.typestr());
        self.bin(b"kind");
        self.bin(b"");
        self.bin(b"shape");
        self.array_header(shape.len());
        for &d in shape {
            self.uint(d as u64);
        }
        self.bin(b"data");
        self.bin(&bytes);
    }
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

/// A cursor over MessagePack bytes. Every method consumes exactly one value (or header)
/// on success; after an error the position is unspecified and the reader should be
/// dropped. Borrowed results (`&'a str`, `&'a [u8]`, [`ArrayView`]) point into the input.
///
/// Reading a sample, as generated code does:
/// ```
/// # use schemac_runtime::msgpack::{Reader, Writer};
/// # use schemac_runtime::error::{Error, ResultExt};
/// # let mut w = Writer::new(); w.map_header(1); w.str("score"); w.f64(0.5);
/// # let bytes = w.into_bytes();
/// let mut r = Reader::new(&bytes);
/// let mut score = None;
/// for _ in 0..r.map_len()? {
///     match r.str()? {
///         "score" => score = Some(r.f64().at("score")?),
///         _ => r.skip()?, // unknown keys are ignored
///     }
/// }
/// r.finish()?;
/// let score = score.ok_or_else(|| Error::missing_field("score"))?;
/// # assert_eq!(score, 0.5);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn wrong_type(expected: &'static str, found: Family) -> Error {
    Error::new(ErrorKind::WrongType {
        expected,
        found: found.name(),
    })
}

fn too_large(len: u64, remaining: usize) -> Error {
    Error::new(ErrorKind::LengthTooLarge { len, remaining })
}

fn invalid_shape(msg: String) -> Error {
    Error::new(ErrorKind::InvalidShape(msg))
}

fn bad_npy(msg: &str) -> Error {
    Error::new(ErrorKind::BadNpy(msg.to_owned()))
}

/// Dtype from a typestr found on the wire, or `UnknownDtype`.
fn dtype_of(typestr: &[u8]) -> Result<Dtype> {
    std::str::from_utf8(typestr)
        .ok()
        .and_then(Dtype::from_typestr)
        .ok_or_else(|| {
            Error::new(ErrorKind::UnknownDtype(
                String::from_utf8_lossy(typestr).into_owned(),
            ))
        })
}

fn check_dtype<T: Element>(found: Dtype) -> Result<()> {
    if found == T::DTYPE {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::DtypeMismatch {
            expected: T::DTYPE.typestr(),
            found: found.typestr().to_owned(),
        }))
    }
}

/// What the family of `T` is called in `WrongType` errors.
fn expected_family(d: Dtype) -> &'static str {
    if d == Dtype::Bool {
        "bool"
    } else if d.is_int() {
        "int"
    } else {
        "float or int"
    }
}

/// An array decoded down to its parts, borrowing the element bytes.
struct ArrayParts<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unconsumed input.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// Succeeds only if the whole input was consumed; else `TrailingBytes`.
    pub fn finish(self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(Error::new(ErrorKind::TrailingBytes { n })),
        }
    }

    // -- primitive cursor operations -----------------------------------------------------

    #[inline]
    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| Error::new(ErrorKind::Truncated))?;
        self.pos += 1;
        Ok(b)
    }

    /// The next `n` bytes of a fixed-size field; `Truncated` if the input ends first.
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::new(ErrorKind::Truncated));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// The next `len` bytes of a length-prefixed body; `LengthTooLarge` if the header
    /// claims more than is left.
    #[inline]
    fn take_len(&mut self, len: u64) -> Result<&'a [u8]> {
        if len > self.remaining() as u64 {
            return Err(too_large(len, self.remaining()));
        }
        self.take(len as usize)
    }

    fn be_u16(&mut self) -> Result<u64> {
        Ok(u64::from(u16::from_be_bytes(self.take_array()?)))
    }

    fn be_u32(&mut self) -> Result<u64> {
        Ok(u64::from(u32::from_be_bytes(self.take_array()?)))
    }

    // -- inspection ----------------------------------------------------------------------

    /// The family of the next value, without consuming it. `Truncated` at the end of the
    /// input; an error for the never-used byte 0xc1.
    pub fn peek(&self) -> Result<Family> {
        let m = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| Error::new(ErrorKind::Truncated))?;
        Family::of_marker(m)
            .ok_or_else(|| Error::new(ErrorKind::Malformed("invalid MessagePack byte 0xc1".into())))
    }

    /// Consumes a nil if the next value is one (returning `true`); else consumes nothing.
    /// How optional fields are read: `if r.try_nil()? { None } else { Some(...) }`.
    pub fn try_nil(&mut self) -> Result<bool> {
        if self.peek()? == Family::Nil {
            self.pos += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    // -- scalars -------------------------------------------------------------------------

    pub fn nil(&mut self) -> Result<()> {
        match self.peek()? {
            Family::Nil => {
                self.pos += 1;
                Ok(())
            }
            f => Err(wrong_type("nil", f)),
        }
    }

    pub fn bool(&mut self) -> Result<bool> {
        self.scalar()
    }

    /// Any int encoding whose value fits `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        self.scalar()
    }

    /// Any int encoding whose value fits `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        self.scalar()
    }

    /// Any float (float32 or float64) or int, as `f64`.
    pub fn f64(&mut self) -> Result<f64> {
        self.scalar()
    }

    /// A scalar field of element type `T`: a bool for `bool`; any int encoding that fits
    /// for integers (`OutOfRange` otherwise); any float or int for floats (rounded to
    /// nearest for f32/f16/bf16).
    #[inline]
    pub fn scalar<T: Element>(&mut self) -> Result<T> {
        let family = self.peek()?;
        let s = match family {
            Family::Bool | Family::Int | Family::Float => self.read_scalar()?,
            f => return Err(wrong_type(expected_family(T::DTYPE), f)),
        };
        T::from_scalar(s).ok_or_else(|| {
            let family_ok = match T::DTYPE {
                Dtype::Bool => family == Family::Bool,
                d if d.is_int() => family == Family::Int,
                _ => family != Family::Bool,
            };
            if family_ok {
                Error::new(ErrorKind::OutOfRange {
                    value: s.to_string(),
                    expected: T::DTYPE.name().to_owned(),
                })
            } else {
                wrong_type(expected_family(T::DTYPE), family)
            }
        })
    }

    /// Reads a bool, int or float (the caller checked the family).
    fn read_scalar(&mut self) -> Result<Scalar> {
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7f => Scalar::UInt(u64::from(m)),
            0xe0..=0xff => Scalar::Int(i64::from(m as i8)),
            0xc2 => Scalar::Bool(false),
            0xc3 => Scalar::Bool(true),
            0xcc => Scalar::UInt(u64::from(self.byte()?)),
            0xcd => Scalar::UInt(self.be_u16()?),
            0xce => Scalar::UInt(self.be_u32()?),
            0xcf => Scalar::UInt(u64::from_be_bytes(self.take_array()?)),
            0xd0 => Scalar::Int(i64::from(self.byte()? as i8)),
            0xd1 => Scalar::Int(i64::from(i16::from_be_bytes(self.take_array()?))),
            0xd2 => Scalar::Int(i64::from(i32::from_be_bytes(self.take_array()?))),
            0xd3 => Scalar::Int(i64::from_be_bytes(self.take_array()?)),
            0xca => Scalar::Float(f64::from(f32::from_be_bytes(self.take_array()?))),
            0xcb => Scalar::Float(f64::from_be_bytes(self.take_array()?)),
            _ => unreachable!("read_scalar called on a non-scalar marker"),
        })
    }

    // -- str / bin -----------------------------------------------------------------------

    /// A str, borrowed from the input; `InvalidUtf8` if it is not UTF-8.
    pub fn str(&mut self) -> Result<&'a str> {
        let bytes = self.str_bytes()?;
        std::str::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidUtf8))
    }

    /// A str's raw bytes, unvalidated.
    fn str_bytes(&mut self) -> Result<&'a [u8]> {
        let f = self.peek()?;
        if f != Family::Str {
            return Err(wrong_type("str", f));
        }
        let len = match self.byte()? {
            m @ 0xa0..=0xbf => u64::from(m & 0x1f),
            0xd9 => u64::from(self.byte()?),
            0xda => self.be_u16()?,
            _ => self.be_u32()?,
        };
        self.take_len(len)
    }

    /// A bin, borrowed from the input.
    pub fn bin(&mut self) -> Result<&'a [u8]> {
        let f = self.peek()?;
        if f != Family::Bin {
            return Err(wrong_type("bin", f));
        }
        let len = match self.byte()? {
            0xc4 => u64::from(self.byte()?),
            0xc5 => self.be_u16()?,
            _ => self.be_u32()?,
        };
        self.take_len(len)
    }

    /// A str or a bin, as bytes (msgpack-numpy keys are bin, or str from older packers).
    fn str_or_bin(&mut self) -> Result<&'a [u8]> {
        match self.peek()? {
            Family::Bin => self.bin(),
            Family::Str => self.str_bytes(),
            f => Err(wrong_type("str or bin", f)),
        }
    }

    // -- containers ----------------------------------------------------------------------

    /// An array header: the number of values that follow. Checked against the input
    /// (every value takes at least one byte), so callers may reserve that many.
    pub fn array_len(&mut self) -> Result<usize> {
        let f = self.peek()?;
        if f != Family::Array {
            return Err(wrong_type("array", f));
        }
        let len = match self.byte()? {
            m @ 0x90..=0x9f => u64::from(m & 0x0f),
            0xdc => self.be_u16()?,
            _ => self.be_u32()?,
        };
        if len > self.remaining() as u64 {
            return Err(too_large(len, self.remaining()));
        }
        Ok(len as usize)
    }

    /// A map header: the number of key/value pairs that follow. Checked against the input
    /// (every pair takes at least two bytes), so callers may reserve that many.
    pub fn map_len(&mut self) -> Result<usize> {
        let f = self.peek()?;
        if f != Family::Map {
            return Err(wrong_type("map", f));
        }
        let len = match self.byte()? {
            m @ 0x80..=0x8f => u64::from(m & 0x0f),
            0xde => self.be_u16()?,
            _ => self.be_u32()?,
        };
        if len.saturating_mul(2) > self.remaining() as u64 {
            return Err(too_large(len, self.remaining()));
        }
        Ok(len as usize)
    }

    /// Skips one value of any kind (how readers ignore unknown keys). Nesting deeper than
    /// [`MAX_DEPTH`] is `TooDeep`.
    pub fn skip(&mut self) -> Result<()> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: usize) -> Result<()> {
        if depth >= MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep));
        }
        match self.peek()? {
            Family::Nil => self.nil(),
            Family::Bool | Family::Int | Family::Float => self.read_scalar().map(drop),
            Family::Str => self.str_bytes().map(drop),
            Family::Bin => self.bin().map(drop),
            Family::Array => {
                for _ in 0..self.array_len()? {
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            Family::Map => {
                for _ in 0..self.map_len()? {
                    self.skip_at(depth + 1)?;
                    self.skip_at(depth + 1)?;
                }
                Ok(())
            }
            Family::Ext => {
                let fixed = match self.byte()? {
                    0xd4 => Some(1),
                    0xd5 => Some(2),
                    0xd6 => Some(4),
                    0xd7 => Some(8),
                    0xd8 => Some(16),
                    _ => None,
                };
                let Some(n) = fixed else {
                    let len = match self.buf[self.pos - 1] {
                        0xc7 => u64::from(self.byte()?),
                        0xc8 => self.be_u16()?,
                        _ => self.be_u32()?,
                    };
                    self.take(1)?; // the ext type byte
                    return self.take_len(len).map(drop);
                };
                // A fixext is a fixed-size item: ending inside it is a truncation, not a
                // declared length past the end.
                self.take(1 + n).map(drop)
            }
        }
    }

    // -- structure -----------------------------------------------------------------------

    /// One step of a structural walk (see [`check_structure`]): validates the next value's
    /// framing without decoding it, skipping str/bin bodies by their length (strs are
    /// checked for UTF-8). `depth` counts containers above this value.
    fn walk(&mut self, depth: usize, path: &mut Vec<PathSeg>) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::new(ErrorKind::TooDeep));
        }
        match self.peek()? {
            Family::Nil => self.nil(),
            Family::Bool | Family::Int | Family::Float => self.read_scalar().map(drop),
            Family::Str => self.str().map(drop),
            Family::Bin => self.bin().map(drop),
            Family::Ext => {
                let start = self.pos;
                self.skip_at(0)?;
                check_timestamp(&self.buf[start..self.pos])
            }
            Family::Array => {
                for i in 0..self.array_len()? {
                    self.walk(depth + 1, path).inspect_err(|e| {
                        if matches!(e.kind(), ErrorKind::DuplicateKey(_)) {
                            path.push(PathSeg::Index(i));
                        }
                    })?;
                }
                Ok(())
            }
            Family::Map => {
                let n = self.map_len()?;
                // Raw key encodings with their entry index; sorted on demand, so a map of
                // k keys costs O(k log k) and the allocation is bounded by the input.
                let buf = self.buf;
                let mut keys: Vec<SeenKey<'a>> = Vec::with_capacity(n.min(64));
                for i in 0..n {
                    let start = self.pos;
                    let r = self.walk(depth + 1, path).and_then(|()| {
                        let raw = &buf[start..self.pos];
                        keys.push((key_identity(raw), i, raw));
                        self.walk(depth + 1, path).inspect_err(|e| {
                            if matches!(e.kind(), ErrorKind::DuplicateKey(_)) {
                                path.push(key_seg(&buf[start..]));
                            }
                        })
                    });
                    if let Err(e) = r {
                        // A duplicate among the keys read so far comes earlier in the bytes.
                        return Err(first_duplicate(&mut keys, path).unwrap_or(e));
                    }
                }
                match first_duplicate(&mut keys, path) {
                    Some(e) => Err(e),
                    None => Ok(()),
                }
            }
        }
    }

    // -- arrays --------------------------------------------------------------------------

    /// An n-d array of `T`, in any of the accepted encodings: a bin holding atdata's array
    /// payload or a `.npy` file, or a msgpack-numpy map. Errors: `UnknownDtype`,
    /// `DtypeMismatch` (no conversion between dtypes), `PayloadLength`, `BadNpy`,
    /// `InvalidShape`, `InvalidBool`, and the usual truncation errors.
    pub fn array<T: Element>(&mut self) -> Result<NdArray<T>> {
        let p = self.array_parts()?;
        check_dtype::<T>(p.dtype)?;
        NdArray::from_le_bytes(p.shape, p.data)
    }

    /// Like [`Reader::array`], but borrows the element bytes from the input instead of
    /// copying them.
    pub fn array_view<T: Element>(&mut self) -> Result<ArrayView<'a, T>> {
        let p = self.array_parts()?;
        check_dtype::<T>(p.dtype)?;
        ArrayView::new(p.shape, p.data)
    }

    fn array_parts(&mut self) -> Result<ArrayParts<'a>> {
        match self.peek()? {
            Family::Bin => {
                let b = self.bin()?;
                // 0x93 starts the .npy magic; no atdata payload starts so (its first
                // byte is a typestr length, at most 3), so a bad magic is `bad_npy`.
                if b.first() == Some(&NPY_MAGIC[0]) {
                    parse_npy(b)
                } else {
                    parse_atdata(b)
                }
            }
            Family::Map => self.numpy_map(),
            f => Err(wrong_type("bin (array payload) or msgpack-numpy map", f)),
        }
    }

    /// The msgpack-numpy map: keys `nd`, `type`, `kind`, `shape`, `data` in any order
    /// (bin or str keys), unknown keys skipped.
    fn numpy_map(&mut self) -> Result<ArrayParts<'a>> {
        let n = self.map_len()?;
        let mut nd = true;
        let mut typestr: Option<&'a [u8]> = None;
        let mut shape: Option<Vec<usize>> = None;
        let mut data: Option<&'a [u8]> = None;
        for _ in 0..n {
            match self.str_or_bin()? {
                b"nd" => nd = self.bool()?,
                b"type" => {
                    typestr = Some(match self.peek()? {
                        // Void dtypes (ml_dtypes' bfloat16) come as a descr list
                        // `[["", "<V2"]]`; take its only field's typestr.
                        Family::Array => {
                            if self.array_len()? != 1 || self.array_len()? != 2 {
                                return Err(Error::new(ErrorKind::UnknownDtype(
                                    "a structured msgpack-numpy dtype".into(),
                                )));
                            }
                            self.str_or_bin()?;
                            self.str_or_bin()?
                        }
                        _ => self.str_or_bin()?,
                    })
                }
                b"shape" => {
                    let ndim = self.array_len()?;
                    let mut dims = Vec::with_capacity(ndim);
                    for i in 0..ndim {
                        let d = self.u64().map_err(|e| e.at_index(i).at("shape"))?;
                        dims.push(usize::try_from(d).map_err(|_| {
                            invalid_shape(format!("dim {d} too large for this platform"))
                        })?);
                    }
                    shape = Some(dims);
                }
                b"data" => data = Some(self.str_or_bin()?),
                b"kind" => self.skip()?,
                // The map has exactly msgpack-numpy's keys (conformance/README.md).
                _ => {
                    return Err(Error::new(ErrorKind::WrongType {
                        expected: "a msgpack-numpy map (nd, type, kind, shape, data)",
                        found: "a map with another key",
                    }))
                }
            }
        }
        let typestr = typestr.ok_or_else(|| {
            Error::new(ErrorKind::WrongType {
                expected: "a msgpack-numpy map with \"type\"",
                found: "a map without it",
            })
        })?;
        let data = data.ok_or_else(|| {
            Error::new(ErrorKind::WrongType {
                expected: "a msgpack-numpy map with \"data\"",
                found: "a map without it",
            })
        })?;
        let shape = match (nd, shape) {
            (false, _) => Vec::new(),
            (true, Some(s)) => s,
            (true, None) => {
                return Err(Error::new(ErrorKind::WrongType {
                    expected: "a msgpack-numpy map with \"shape\"",
                    found: "a map without it",
                }))
            }
        };
        Ok(ArrayParts {
            dtype: dtype_of(typestr)?,
            shape,
            data,
        })
    }
}

/// An n-d array from the contents of a bin (atdata's array payload or a `.npy` file), as
/// [`Reader::array`] reads it; what serde's binary form of a generated struct carries.
pub fn array_from_payload<T: Element>(b: &[u8]) -> Result<NdArray<T>> {
    let p = if b.first() == Some(&NPY_MAGIC[0]) {
        parse_npy(b)?
    } else {
        parse_atdata(b)?
    };
    check_dtype::<T>(p.dtype)?;
    NdArray::from_le_bytes(p.shape, p.data)
}

/// atdata's array payload (the contents of the bin [`Writer::array_slice`] writes).
pub fn array_payload<T: Element>(shape: &[usize], data: &[T]) -> Vec<u8> {
    let mut w = Writer::with_capacity(16 + 8 * shape.len() + std::mem::size_of_val(data));
    w.array_slice(shape, data);
    let mut bytes = w.into_bytes();
    // Drop the bin header: bin8, bin16 or bin32 by the marker.
    let header = match bytes.first() {
        Some(0xc4) => 2,
        Some(0xc5) => 3,
        _ => 5,
    };
    bytes.drain(..header);
    bytes
}

/// A tiny cursor for the inside of a bin payload: running out is `Truncated`.
struct Cursor<'a> {
    b: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.b.len() {
            return Err(Error::new(ErrorKind::Truncated));
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Ok(head)
    }
}

/// atdata's array payload: `u8 len(typestr)`, typestr, `u8 ndim`, `ndim × i64 LE`, data.
fn parse_atdata(b: &[u8]) -> Result<ArrayParts<'_>> {
    let mut c = Cursor { b };
    let tl = c.take(1)?[0] as usize;
    let dtype = dtype_of(c.take(tl)?)?;
    let ndim = c.take(1)?[0] as usize;
    let dims = c.take(8 * ndim)?;
    let shape = dims
        .chunks_exact(8)
        .map(|d| {
            let v = i64::from_le_bytes(d.try_into().expect("chunks of 8"));
            usize::try_from(v).map_err(|_| invalid_shape(format!("dim {v}")))
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(ArrayParts {
        dtype,
        shape,
        data: c.b,
    })
}

/// A `.npy` file (format versions 1 to 3): magic, version, header length, a Python dict
/// literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then the data.
fn parse_npy(b: &[u8]) -> Result<ArrayParts<'_>> {
    let mut c = Cursor { b };
    if !b.starts_with(NPY_MAGIC) {
        return Err(bad_npy("bad magic string"));
    }
    c.take(NPY_MAGIC.len())?;
    let version = c.take(2)?[0];
    let hlen = match version {
        1 => u16::from_le_bytes(c.take(2)?.try_into().expect("2 bytes")) as usize,
        2 | 3 => u32::from_le_bytes(c.take(4)?.try_into().expect("4 bytes")) as usize,
        v => return Err(bad_npy(&format!("unsupported .npy format version {v}"))),
    };
    if hlen > c.b.len() {
        // The header is a fixed-size item of the payload: ending inside it is a truncation.
        return Err(Error::new(ErrorKind::Truncated));
    }
    let header = std::str::from_utf8(c.take(hlen)?).map_err(|_| bad_npy("header not UTF-8"))?;
    let mut descr = None;
    let mut fortran = None;
    let mut shape = None;
    let mut p = PyLit {
        s: header.as_bytes(),
    };
    p.expect(b'{')?;
    loop {
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        let dup = match key {
            "descr" => descr.replace(p.descr()?).is_some(),
            "fortran_order" => fortran.replace(p.boolean()?).is_some(),
            "shape" => shape.replace(p.tuple()?).is_some(),
            _ => return Err(bad_npy(&format!("unexpected header key {key:?}"))),
        };
        if dup {
            return Err(bad_npy(&format!("header key {key:?} given twice")));
        }
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    // numpy pads the dict with spaces and ends it with a newline; nothing else may follow.
    if !p.s.iter().all(|&c| c == b' ' || c == b'\n') {
        return Err(bad_npy("bytes after the header dict"));
    }
    let descr = descr.ok_or_else(|| bad_npy("header without 'descr'"))?;
    let shape = shape.ok_or_else(|| bad_npy("header without 'shape'"))?;
    // Refused whatever the rank (docs/language.md): we never transpose silently, and the
    // Python runtime gives the same verdict.
    if fortran.ok_or_else(|| bad_npy("header without 'fortran_order'"))? {
        return Err(bad_npy("fortran_order True is not supported"));
    }
    Ok(ArrayParts {
        dtype: dtype_of(descr.as_bytes())?,
        shape,
        data: c.b,
    })
}

/// Just enough of a Python literal parser for `.npy` headers.
struct PyLit<'a> {
    s: &'a [u8],
}

impl<'a> PyLit<'a> {
    fn ws(&mut self) {
        while let [b' ' | b'\t' | b'\n' | b'\r', rest @ ..] = self.s {
            self.s = rest;
        }
    }

    /// Consumes `c` (after whitespace) if it is next.
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        match self.s {
            [first, rest @ ..] if *first == c => {
                self.s = rest;
                true
            }
            _ => false,
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(bad_npy(&format!("expected {:?} in header", c as char)))
        }
    }

    /// A quoted string without escapes (numpy never writes any in these headers).
    fn string(&mut self) -> Result<&'a str> {
        self.ws();
        let q = match self.s.first() {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(bad_npy("expected a string in header")),
        };
        let body = &self.s[1..];
        let end = body
            .iter()
            .position(|&c| c == q)
            .ok_or_else(|| bad_npy("unterminated string in header"))?;
        // numpy's reader (`ast.literal_eval`) refuses a NUL, reads `\` as an escape and
        // a newline as the end of the literal: all are not numpy headers.
        if body[..end]
            .iter()
            .any(|&c| c < 0x20 || c == 0x7f || c == b'\\')
        {
            return Err(bad_npy(
                "a control character or backslash in a header string",
            ));
        }
        self.s = &body[end + 1..];
        // The header was checked to be UTF-8 and quotes are ASCII, so this cannot fail.
        std::str::from_utf8(&body[..end]).map_err(|_| bad_npy("header not UTF-8"))
    }

    fn descr(&mut self) -> Result<&'a str> {
        self.ws();
        if self.s.first() == Some(&b'[') {
            return Err(Error::new(ErrorKind::UnknownDtype(
                "structured .npy dtype".to_owned(),
            )));
        }
        self.string()
    }

    fn boolean(&mut self) -> Result<bool> {
        self.ws();
        if let Some(rest) = self.s.strip_prefix(b"True") {
            self.s = rest;
            Ok(true)
        } else if let Some(rest) = self.s.strip_prefix(b"False") {
            self.s = rest;
            Ok(false)
        } else {
            Err(bad_npy("expected True or False in header"))
        }
    }

    /// `()`, `(3,)`, `(2, 3)`; Python 2's `3L` suffix is tolerated.
    fn tuple(&mut self) -> Result<Vec<usize>> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            if self.eat(b')') {
                return Ok(dims);
            }
            self.ws();
            let digits = self.s.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(bad_npy("expected a dim in header shape"));
            }
            let text = std::str::from_utf8(&self.s[..digits]).expect("ASCII digits");
            let d = text
                .parse::<usize>()
                .map_err(|_| invalid_shape(format!("dim {text}")))?;
            dims.push(d);
            self.s = &self.s[digits..];
            self.eat(b'L');
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        f(&mut w);
        w.into_bytes()
    }

    #[test]
    fn int_encodings_match_msgpack_python() {
        assert_eq!(enc(|w| w.int(0)), [0x00]);
        assert_eq!(enc(|w| w.int(127)), [0x7f]);
        assert_eq!(enc(|w| w.int(128)), [0xcc, 0x80]);
        assert_eq!(enc(|w| w.int(256)), [0xcd, 0x01, 0x00]);
        assert_eq!(enc(|w| w.int(65536)), [0xce, 0, 1, 0, 0]);
        assert_eq!(enc(|w| w.int(1 << 32)), [0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert_eq!(enc(|w| w.int(-1)), [0xff]);
        assert_eq!(enc(|w| w.int(-32)), [0xe0]);
        assert_eq!(enc(|w| w.int(-33)), [0xd0, 0xdf]);
        assert_eq!(enc(|w| w.int(-129)), [0xd1, 0xff, 0x7f]);
        assert_eq!(enc(|w| w.int(-32769)), [0xd2, 0xff, 0xff, 0x7f, 0xff]);
        assert_eq!(enc(|w| w.int(i64::MIN))[0], 0xd3);
        assert_eq!(enc(|w| w.scalar(0.5f32)), enc(|w| w.f64(0.5)));
        assert_eq!(enc(|w| w.str(&"x".repeat(31)))[0], 0xbf);
        assert_eq!(enc(|w| w.str(&"x".repeat(32)))[..2], [0xd9, 32]);
        assert_eq!(enc(|w| w.array_header(16))[..3], [0xdc, 0, 16]);
        assert_eq!(enc(|w| w.map_header(15)), [0x8f]);
    }

    #[test]
    fn scalars_round_trip_and_range_check() {
        for v in [
            0i64,
            1,
            -1,
            127,
            128,
            -32,
            -33,
            300,
            -300,
            i64::MIN,
            i64::MAX,
        ] {
            let b = enc(|w| w.int(v));
            assert_eq!(Reader::new(&b).i64().unwrap(), v);
        }
        let b = enc(|w| w.int(300));
        let e = Reader::new(&b).scalar::<u8>().unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::OutOfRange { .. }), "{e}");
        let b = enc(|w| w.int(-1));
        assert!(Reader::new(&b).u64().is_err());
        assert_eq!(Reader::new(&b).f64().unwrap(), -1.0);
        let b = enc(|w| w.f64(1.0));
        let e = Reader::new(&b).i64().unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::WrongType {
                expected: "int",
                found: "float"
            }
        );
        // float32 on the wire is accepted for floats.
        assert_eq!(Reader::new(&[0xca, 0x3f, 0x80, 0, 0]).f64().unwrap(), 1.0);
    }

    #[test]
    fn skip_handles_every_family() {
        let b = enc(|w| {
            w.array_header(6);
            w.nil();
            w.map_header(1);
            w.str("k");
            w.bin(&[1, 2]);
            w.f64(2.0);
            w.int(-5000);
            w.raw(&[0xd6, 1, 0, 0, 0, 0]); // fixext4
            w.raw(&[0xc7, 2, 1, 9, 9]); // ext8
        });
        let mut r = Reader::new(&b);
        r.skip().unwrap();
        r.finish().unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Structure before schema
// ---------------------------------------------------------------------------------------

/// A step on the way to a duplicate key found by [`check_structure`]: a str map key, a
/// key of another type (a msgpack-numpy dict's bin keys; paths end before it, at the
/// value holding the map), or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    OtherKey,
    Index(usize),
}

/// The path segment for the map key encoded at the start of `raw`.
/// An ext value of type -1 is a msgpack timestamp: 4, 8 or 12 bytes with nanoseconds
/// below 10^9 (the spec; msgpack-python refuses anything else while unpacking), so any
/// other is `Malformed`. Other ext types are opaque.
fn check_timestamp(ext: &[u8]) -> Result<()> {
    let (ty, data) = match ext.first() {
        Some(0xd4..=0xd8) => (ext[1], &ext[2..]),
        Some(0xc7) => (ext[2], &ext[3..]),
        Some(0xc8) => (ext[3], &ext[4..]),
        _ => (ext[5], &ext[6..]),
    };
    if ty as i8 != -1 {
        return Ok(());
    }
    let nanos = match data.len() {
        4 => 0,
        8 => u64::from_be_bytes(data.try_into().unwrap_or_default()) >> 34,
        12 => u64::from(u32::from_be_bytes(data[..4].try_into().unwrap_or_default())),
        _ => u64::MAX,
    };
    if nanos < 1_000_000_000 {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Malformed(
            "an invalid msgpack timestamp (ext type -1)".into(),
        )))
    }
}

/// A map key met by the structural walk: its identity ([`key_identity`]), its entry
/// index and its bytes.
type SeenKey<'a> = (Cow<'a, [u8]>, usize, &'a [u8]);

/// What makes two map keys the same key, as the Python runtime compares them: a str, bin
/// or int by its value whatever its encoding (`cc 00` and `00` are both 0), anything else
/// by its bytes. Borrowed when the key is already in its shortest encoding (the usual
/// case), so the structural walk allocates only for keys written the long way.
fn key_identity(raw: &[u8]) -> Cow<'_, [u8]> {
    // A fixstr, fixint or any other family has one encoding per value: no work.
    if !matches!(raw.first(), Some(0xc4..=0xc6 | 0xcc..=0xd3 | 0xd9..=0xdb)) {
        return Cow::Borrowed(raw);
    }
    let mut r = Reader::new(raw);
    let mut w = Writer::new();
    match r.peek() {
        Ok(Family::Str) => match r.str() {
            Ok(s) => w.str(s),
            Err(_) => return Cow::Borrowed(raw),
        },
        Ok(Family::Bin) => match r.bin() {
            Ok(b) => w.bin(b),
            Err(_) => return Cow::Borrowed(raw),
        },
        Ok(Family::Int) => match r.read_scalar() {
            Ok(Scalar::UInt(u)) => w.uint(u),
            Ok(Scalar::Int(i)) => w.int(i),
            _ => return Cow::Borrowed(raw),
        },
        _ => return Cow::Borrowed(raw),
    }
    let canonical = w.into_bytes();
    if canonical == raw {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(canonical)
    }
}

fn key_seg(raw: &[u8]) -> PathSeg {
    let mut r = Reader::new(raw);
    match r.str() {
        Ok(s) => PathSeg::Key(s.to_owned()),
        Err(_) => PathSeg::OtherKey,
    }
}

/// Of the keys read so far, the duplicate whose second occurrence comes first; pushes
/// its segment onto `path` (reversed: innermost first).
fn first_duplicate(keys: &mut [SeenKey<'_>], path: &mut Vec<PathSeg>) -> Option<Error> {
    if keys.len() < 2 {
        return None;
    }
    keys.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let second = keys
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| (w[1].1, w[1].2))
        .min()?;
    let seg = key_seg(second.1);
    let name = match &seg {
        PathSeg::Key(k) => k.clone(),
        _ => String::from_utf8_lossy(second.1).into_owned(),
    };
    path.clear();
    path.push(seg);
    Some(Error::new(ErrorKind::DuplicateKey(name)))
}

/// Checks that `buf` is exactly one well-formed MessagePack value before any schema is
/// applied (conformance/README.md, "Structure before schema"): the first structural
/// fault in byte order wins — `Truncated`, `LengthTooLarge`, `Malformed` (0xc1),
/// `InvalidUtf8` in a str, `TooDeep`, `TrailingBytes` or `DuplicateKey` (in any map,
/// skipped values and msgpack-numpy dicts included). Bin bodies are skipped by length,
/// so the cost is one pass over the headers. On a `DuplicateKey`, `path` holds the map
/// keys and array indices from the top down to the repeated key; else it is empty.
pub fn check_structure(buf: &[u8], path: &mut Vec<PathSeg>) -> Result<()> {
    path.clear();
    let mut r = Reader::new(buf);
    let res = r.walk(0, path).and_then(|()| r.finish());
    if res.is_err() {
        path.reverse();
    }
    res
}

/// Renders a [`check_structure`] path generically: keys as `.key`, indices as `[i]`,
/// below `root` (the sample's name).
pub fn render_path(root: &str, path: &[PathSeg]) -> String {
    let mut out = root.to_owned();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
            PathSeg::OtherKey => break,
        }
    }
    out
}

#[cfg(test)]
mod structure_tests {
    use super::*;

    fn fault(bytes: &[u8]) -> (&'static str, String) {
        let mut path = Vec::new();
        let e = check_structure(bytes, &mut path).unwrap_err();
        (e.code(), render_path("S", &path))
    }

    #[test]
    fn well_formed_values_pass() {
        let mut path = Vec::new();
        // {"a": 1, "b": [bin(2), "x"]}
        check_structure(b"\x82\xa1a\x01\xa1b\x92\xc4\x02\xff\xff\xa1x", &mut path).unwrap();
        assert!(path.is_empty());
    }

    #[test]
    fn first_fault_in_byte_order_wins() {
        // A duplicate key, then a truncated int: the duplicate comes first.
        assert_eq!(
            fault(b"\x83\xa1a\x01\xa1a\x02\xa1b\xcd\x01"),
            ("duplicate_key", "S.a".into())
        );
        // A truncated int, then trailing bytes never seen: truncated.
        assert_eq!(fault(b"\x81\xa1a\xcd\x01"), ("truncated", "S".into()));
        // A str declaring more bytes than are left: too_large.
        assert_eq!(fault(b"\x81\xa1a\xa5ab"), ("too_large", "S".into()));
        assert_eq!(fault(b"\x81\xa1a\xc1"), ("malformed", "S".into()));
        assert_eq!(fault(b"\x81\xa1a\xa1\xff"), ("invalid_utf8", "S".into()));
        assert_eq!(fault(b"\x81\xa1a\x01\xc0"), ("trailing_bytes", "S".into()));
        let mut deep = b"\x81\xa1a".to_vec();
        deep.extend(std::iter::repeat_n(0x91, 100));
        deep.push(0xc0);
        assert_eq!(fault(&deep), ("too_deep", "S".into()));
    }

    #[test]
    fn duplicate_paths_go_down_to_the_key() {
        // {"l": [{"x": 1, "x": 2}]}
        assert_eq!(
            fault(b"\x81\xa1l\x91\x82\xa1x\x01\xa1x\x02"),
            ("duplicate_key", "S.l[0].x".into())
        );
        // An earlier duplicate in the outer map beats a later inner one.
        assert_eq!(
            fault(b"\x83\xa1a\x01\xa1a\x01\xa1m\x82\xa1x\x01\xa1x\x02"),
            ("duplicate_key", "S.a".into())
        );
        // bin keys (msgpack-numpy dicts): the path ends at the value holding them.
        assert_eq!(
            fault(b"\x81\xa1v\x82\xc4\x02nd\xc2\xc4\x02nd\xc2"),
            ("duplicate_key", "S.v".into())
        );
    }
}

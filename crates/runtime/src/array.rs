//! N-d arrays and their elements.
//!
//! Owns:
//! - [`Element`]: the sealed trait of the 13 element types (`bool`, the integers,
//!   `half::f16`, `half::bf16`, `f32`, `f64`), with their [`Dtype`], bulk little-endian
//!   byte conversion, scalar conversion ([`Scalar`]) and seeded random generation.
//! - [`NdArray`]: an owned, C-order array (shape + flat data), what generated structs hold.
//! - [`ArrayView`]: a borrowed array over little-endian bytes inside a decoded buffer.
//! - [`check_shape`] with [`DimSpec`] / [`DimTable`]: the per-sample shape check that makes
//!   `mask: u8[H, W]` and `depth: f32[H, W]` agree on `H` and `W`; [`check_bits`] and
//!   [`check_range`] for `@bits` / `@range` validation.
//!
//! Byte conversion is a single `memcpy` on little-endian targets: every element type is
//! plain old data whose in-memory form *is* its wire form there. The one type with invalid
//! bit patterns, `bool`, is validated (each byte 0 or 1) before its bytes become `bool`s.

use std::fmt;

use half::{bf16, f16};

use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind, Result};
use crate::rng::Rng;

mod sealed {
    pub trait Sealed {}
}

/// A scalar in the widest form of its family: how scalars cross the wire (MessagePack
/// ints, floats and bools; JSON numbers) before narrowing to an [`Element`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    Bool(bool),
    /// A negative or signed-dtype integer.
    Int(i64),
    /// A non-negative integer from an unsigned dtype or an unsigned wire encoding.
    UInt(u64),
    Float(f64),
}

impl Scalar {
    /// The family name used in [`ErrorKind::WrongType`].
    pub fn family(self) -> &'static str {
        match self {
            Scalar::Bool(_) => "bool",
            Scalar::Int(_) | Scalar::UInt(_) => "int",
            Scalar::Float(_) => "float",
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(v) => write!(f, "{v}"),
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::UInt(v) => write!(f, "{v}"),
            // Integral floats past 2^53 print exactly (`18446744073709551616`, not
            // `18446744073709552000`): the number a JSON reader saw, as Python shows it.
            Scalar::Float(v)
                if v.is_finite() && v.fract() == 0.0 && v.abs() >= 9.007_199_254_740_992e15 =>
            {
                write!(f, "{v:.0}")
            }
            Scalar::Float(v) => write!(f, "{v}"),
        }
    }
}

/// An array element type. Sealed: exactly the 13 types of [`Dtype`].
///
/// Safety contract the byte views rely on (upheld because the trait is sealed): every
/// implementor is `Copy`, has no padding, has size [`Dtype::size`], and every bit pattern
/// is a valid value except for `bool`, whose bytes are validated before use.
pub trait Element:
    sealed::Sealed + Copy + Default + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// The element's dtype.
    const DTYPE: Dtype;

    /// The scalar this element writes as (bools as bools, integers as ints, floats as f64).
    fn to_scalar(self) -> Scalar;

    /// Narrows a wire scalar: bools from `Bool` only; integers from `Int`/`UInt` when the
    /// value fits; floats from any number (rounding to nearest). `None` when it does not fit
    /// or has the wrong family.
    fn from_scalar(s: Scalar) -> Option<Self>;

    /// Reads one element from exactly `size` little-endian bytes. `bool` reads any non-zero
    /// byte as `true`: callers validate bool bytes first (see [`ArrayView::new`]).
    fn read_le(bytes: &[u8]) -> Self;

    /// Appends the element's little-endian bytes.
    fn write_le(self, out: &mut Vec<u8>);

    /// A seeded random value that fits `bits` (two's complement for signed integers) and
    /// lies in `range` (inclusive). Recipe, for reproduction elsewhere:
    /// - `bool`: [`Rng::bool`].
    /// - integers: `lo..=hi` is the dtype's range, narrowed by `bits`, narrowed by
    ///   `range` (`ceil(lo)`, `floor(hi)`); then [`Rng::range_i64`]'s recipe on it.
    /// - floats: `range` or `(-1, 1)`; `rng.range_f64(lo, hi)` rounded to the dtype; a
    ///   value that rounding pushed outside `[lo, hi]` is replaced by `lo` rounded (or, if
    ///   that is also outside, by the midpoint rounded). `bits` is ignored.
    fn random(rng: &mut Rng, bits: Option<u32>, range: Option<(f64, f64)>) -> Self;
}

macro_rules! int_element {
    ($t:ty, $dtype:ident, $variant:ident, $wide:ty) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: Dtype = Dtype::$dtype;
            #[inline]
            fn to_scalar(self) -> Scalar {
                Scalar::$variant(self as $wide)
            }
            #[inline]
            fn from_scalar(s: Scalar) -> Option<Self> {
                match s {
                    Scalar::Int(v) => <$t>::try_from(v).ok(),
                    Scalar::UInt(v) => <$t>::try_from(v).ok(),
                    Scalar::Bool(_) | Scalar::Float(_) => None,
                }
            }
            #[inline]
            fn read_le(bytes: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(bytes);
                <$t>::from_le_bytes(a)
            }
            #[inline]
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn random(rng: &mut Rng, bits: Option<u32>, range: Option<(f64, f64)>) -> Self {
                let (lo, hi) = int_bounds(
                    i128::from(<$t>::MIN),
                    i128::from(<$t>::MAX),
                    Dtype::$dtype.is_signed(),
                    bits,
                    range,
                );
                rng.range_i128(lo, hi) as $t
            }
        }
    };
}

int_element!(i8, I8, Int, i64);
int_element!(i16, I16, Int, i64);
int_element!(i32, I32, Int, i64);
int_element!(i64, I64, Int, i64);
int_element!(u8, U8, UInt, u64);
int_element!(u16, U16, UInt, u64);
int_element!(u32, U32, UInt, u64);
int_element!(u64, U64, UInt, u64);

/// The inclusive integer interval `random` draws from (see [`Element::random`]). An empty
/// intersection collapses to its lower end clamped into the dtype.
fn int_bounds(
    tmin: i128,
    tmax: i128,
    signed: bool,
    bits: Option<u32>,
    range: Option<(f64, f64)>,
) -> (i128, i128) {
    let (mut lo, mut hi) = (tmin, tmax);
    if let Some(b) = bits.filter(|&b| (1..64).contains(&b)) {
        let (blo, bhi) = if signed {
            (-(1i128 << (b - 1)), (1i128 << (b - 1)) - 1)
        } else {
            (0, (1i128 << b) - 1)
        };
        lo = lo.max(blo);
        hi = hi.min(bhi);
    }
    if let Some((rlo, rhi)) = range {
        // `as` saturates (and maps NaN to 0), which is what we want for wild bounds.
        if !rlo.is_nan() {
            lo = lo.max(rlo.ceil() as i128);
        }
        if !rhi.is_nan() {
            hi = hi.min(rhi.floor() as i128);
        }
    }
    let lo = lo.clamp(tmin, tmax);
    (lo, hi.max(lo))
}

macro_rules! float_element {
    ($t:ty, $dtype:ident, $from_f64:expr, $to_f64:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: Dtype = Dtype::$dtype;
            #[inline]
            fn to_scalar(self) -> Scalar {
                Scalar::Float($to_f64(self))
            }
            #[inline]
            fn from_scalar(s: Scalar) -> Option<Self> {
                let x = match s {
                    Scalar::Float(v) => v,
                    Scalar::Int(v) => v as f64,
                    Scalar::UInt(v) => v as f64,
                    Scalar::Bool(_) => return None,
                };
                let y: Self = $from_f64(x);
                // A finite value that overflows the dtype (`1e10` for f16) does not fit;
                // it never becomes infinity silently.
                if x.is_finite() && !$to_f64(y).is_finite() {
                    return None;
                }
                Some(y)
            }
            #[inline]
            fn read_le(bytes: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(bytes);
                <$t>::from_le_bytes(a)
            }
            #[inline]
            fn write_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn random(rng: &mut Rng, _bits: Option<u32>, range: Option<(f64, f64)>) -> Self {
                let (lo, hi) = range.unwrap_or((-1.0, 1.0));
                let inside = |v: Self| {
                    let x = $to_f64(v);
                    x >= lo && x <= hi
                };
                let v: Self = $from_f64(rng.range_f64(lo, hi));
                if inside(v) {
                    return v;
                }
                let l: Self = $from_f64(lo);
                if inside(l) {
                    l
                } else {
                    $from_f64(lo + (hi - lo) / 2.0)
                }
            }
        }
    };
}

float_element!(f16, F16, f16_from_f64, f16::to_f64);

/// `v` rounded to the nearest f16 (ties to even), in one rounding. `half`'s own
/// `f16::from_f64` rounds twice where the CPU has F16C (through f32: `1.43554687500000178`
/// becomes a tie there and rounds down) and its portable path ignores the low 32 mantissa
/// bits when breaking ties; numpy (and so the Python runtime) rounds once. Folding those
/// low bits into one sticky bit keeps every rounding decision the portable path makes exact.
pub fn f16_from_f64(v: f64) -> f16 {
    let bits = v.to_bits();
    let sticky = u64::from(bits & 0xFFFF_FFFF != 0) << 32;
    f16::from_f64_const(f64::from_bits((bits & !0xFFFF_FFFF) | sticky))
}
float_element!(bf16, Bf16, bf16::from_f64, bf16::to_f64);
float_element!(f32, F32, |v: f64| v as f32, f64::from);
float_element!(f64, F64, |v: f64| v, |v: f64| v);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: Dtype = Dtype::Bool;
    #[inline]
    fn to_scalar(self) -> Scalar {
        Scalar::Bool(self)
    }
    #[inline]
    fn from_scalar(s: Scalar) -> Option<Self> {
        match s {
            Scalar::Bool(b) => Some(b),
            _ => None,
        }
    }
    #[inline]
    fn read_le(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
    #[inline]
    fn write_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn random(rng: &mut Rng, _bits: Option<u32>, _range: Option<(f64, f64)>) -> Self {
        rng.bool()
    }
}

/// Size in bytes of one `T`.
#[inline]
pub const fn elem_size<T: Element>() -> usize {
    std::mem::size_of::<T>()
}

/// Errors unless every byte is 0 or 1 (the only valid `bool` bytes).
fn validate_bool_bytes(bytes: &[u8]) -> Result<()> {
    match bytes.iter().find(|&&b| b > 1) {
        Some(&b) => Err(Error::new(ErrorKind::InvalidBool(b))),
        None => Ok(()),
    }
}

/// The elements' little-endian bytes, borrowed: on little-endian targets the memory of
/// `data` itself. Used by the writers for a single `extend_from_slice`.
#[cfg(target_endian = "little")]
#[inline]
pub fn as_le_bytes<T: Element>(data: &[T]) -> std::borrow::Cow<'_, [u8]> {
    // SAFETY: `T` is one of the sealed plain-old-data element types (no padding, no
    // interior mutability), so its memory is `size_of_val(data)` initialised bytes; on a
    // little-endian target those bytes are exactly the wire encoding. The returned slice
    // borrows `data`, so it cannot outlive it.
    let bytes = unsafe {
        std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data))
    };
    std::borrow::Cow::Borrowed(bytes)
}

/// The elements' little-endian bytes (converted, on big-endian targets).
#[cfg(not(target_endian = "little"))]
pub fn as_le_bytes<T: Element>(data: &[T]) -> std::borrow::Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(std::mem::size_of_val(data));
    for &v in data {
        v.write_le(&mut out);
    }
    std::borrow::Cow::Owned(out)
}

/// Decodes little-endian element bytes into a new `Vec<T>`. The length must be a multiple
/// of the element size (else `PayloadLength`); bool bytes must be 0 or 1 (else
/// `InvalidBool`). One `memcpy` on little-endian targets.
pub fn vec_from_le_bytes<T: Element>(bytes: &[u8]) -> Result<Vec<T>> {
    let size = elem_size::<T>();
    if bytes.len() % size != 0 {
        return Err(Error::new(ErrorKind::PayloadLength {
            expected: (bytes.len() / size * size) as u128,
            found: bytes.len() as u64,
        }));
    }
    if T::DTYPE == Dtype::Bool {
        validate_bool_bytes(bytes)?;
    }
    let n = bytes.len() / size;
    #[cfg(target_endian = "little")]
    {
        let mut out: Vec<T> = Vec::with_capacity(n);
        // SAFETY: `out` has capacity for `n` elements = `bytes.len()` bytes, and the
        // regions cannot overlap (fresh allocation). Every bit pattern is a valid `T`
        // except for bool, whose bytes were just checked to be 0 or 1; the byte order
        // matches the wire's on this target. `set_len` follows full initialisation.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                out.as_mut_ptr().cast::<u8>(),
                bytes.len(),
            );
            out.set_len(n);
        }
        Ok(out)
    }
    #[cfg(not(target_endian = "little"))]
    {
        Ok(bytes.chunks_exact(size).map(T::read_le).collect())
    }
}

/// Number of elements of `shape`, or an `InvalidShape` error when the product of its
/// non-zero dims exceeds `i64::MAX` (the Python runtime's bound, numpy's too: a shape of
/// `[0, 2^62, 2^62]` is refused by both although it holds no element).
pub fn shape_len(shape: &[usize]) -> Result<usize> {
    let nonzero = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| n <= i64::MAX as u64);
    nonzero
        .and_then(|_| shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)))
        .ok_or_else(|| {
            Error::new(ErrorKind::InvalidShape(format!(
                "element count of {shape:?} overflows"
            )))
        })
}

/// Bytes of `shape` elements of `size` bytes each, or an `InvalidShape` error (`too_large`)
/// when the element count (see [`shape_len`]) or the byte size overflows: a `[2^62]` `<f4`
/// shape claims 2^64 bytes, which no input holds, so it is refused before any length check.
pub fn byte_len(shape: &[usize], size: usize) -> Result<u128> {
    let count = shape_len(shape)?;
    if count == 0 {
        // numpy's own bound for an empty array (`np.empty`): the item size times the
        // non-zero dims must fit in an i64, so `[0, 2^62]` of `<f4` is refused too.
        let nonzero: u128 = shape
            .iter()
            .filter(|&&d| d != 0)
            .map(|&d| d as u128)
            .product();
        if nonzero * size as u128 > i64::MAX as u128 {
            return Err(Error::new(ErrorKind::InvalidShape(format!(
                "shape {shape:?} is too large"
            ))));
        }
    }
    let bytes = count as u128 * size as u128;
    if bytes > u128::from(u64::MAX) {
        return Err(Error::new(ErrorKind::InvalidShape(format!(
            "byte size of {shape:?} overflows u64"
        ))));
    }
    Ok(bytes)
}

/// An owned n-d array: C-order (row-major) `data` with `shape`. `len() == product(shape)`
/// always holds; a 0-d array has shape `[]` and one element.
#[derive(Clone, PartialEq)]
pub struct NdArray<T: Element> {
    shape: Vec<usize>,
    data: Vec<T>,
}

impl<T: Element> NdArray<T> {
    /// An array of `shape` over `data`; `PayloadLength` if `data.len()` is not the
    /// product of `shape` (lengths in bytes, as on the wire).
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Result<Self> {
        let n = shape_len(&shape)?;
        byte_len(&shape, elem_size::<T>())?;
        if n != data.len() {
            let size = elem_size::<T>() as u64;
            return Err(Error::new(ErrorKind::PayloadLength {
                expected: n as u128 * u128::from(size),
                found: data.len() as u64 * size,
            }));
        }
        Ok(NdArray { shape, data })
    }

    /// A 1-d array over `data`.
    pub fn from_vec(data: Vec<T>) -> Self {
        NdArray {
            shape: vec![data.len()],
            data,
        }
    }

    /// An array of `shape` with every element `value`.
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn filled(shape: Vec<usize>, value: T) -> Self {
        let n = shape_len(&shape).expect("NdArray::filled: shape too large");
        NdArray {
            shape,
            data: vec![value; n],
        }
    }

    /// An array of `shape` with every element `T::default()` (zero / false).
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn zeros(shape: Vec<usize>) -> Self {
        Self::filled(shape, T::default())
    }

    /// An array of `shape` filled with `T::random(rng, bits, range)`, in C order.
    ///
    /// # Panics
    /// If the element count of `shape` overflows `usize`.
    pub fn random(
        shape: Vec<usize>,
        rng: &mut Rng,
        bits: Option<u32>,
        range: Option<(f64, f64)>,
    ) -> Self {
        let n = shape_len(&shape).expect("NdArray::random: shape too large");
        let data = (0..n).map(|_| T::random(rng, bits, range)).collect();
        NdArray { shape, data }
    }

    /// Decodes an array of `shape` from little-endian element bytes.
    pub fn from_le_bytes(shape: Vec<usize>, bytes: &[u8]) -> Result<Self> {
        let expected = byte_len(&shape, elem_size::<T>())?;
        if expected != bytes.len() as u128 {
            return Err(Error::new(ErrorKind::PayloadLength {
                expected,
                found: bytes.len() as u64,
            }));
        }
        Ok(NdArray {
            shape,
            data: vec_from_le_bytes(bytes)?,
        })
    }

    pub fn dtype(&self) -> Dtype {
        T::DTYPE
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements in C order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The elements' little-endian bytes (borrowed on little-endian targets).
    pub fn as_le_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        as_le_bytes(&self.data)
    }

    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    pub fn into_parts(self) -> (Vec<usize>, Vec<T>) {
        (self.shape, self.data)
    }

    /// Same data, new shape; `PayloadLength` if the element counts differ.
    pub fn reshape(self, shape: Vec<usize>) -> Result<Self> {
        NdArray::new(shape, self.data)
    }

    /// A view of this array's bytes (borrowing it). Little-endian targets only, where
    /// the array's memory is its wire form.
    #[cfg(target_endian = "little")]
    pub fn view(&self) -> ArrayView<'_, T> {
        let bytes = match as_le_bytes(&self.data) {
            std::borrow::Cow::Borrowed(b) => b,
            std::borrow::Cow::Owned(_) => unreachable!("little-endian byte views borrow"),
        };
        ArrayView {
            shape: self.shape.clone(),
            bytes,
            _elem: std::marker::PhantomData,
        }
    }
}

/// Shape `[0]`: an empty 1-d array.
impl<T: Element> Default for NdArray<T> {
    fn default() -> Self {
        NdArray {
            shape: vec![0],
            data: Vec::new(),
        }
    }
}

impl<T: Element> fmt::Debug for NdArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NdArray")
            .field("dtype", &T::DTYPE)
            .field("shape", &self.shape)
            .field("data", &self.data)
            .finish()
    }
}

/// A borrowed array: a shape over raw little-endian element bytes inside the input buffer
/// (what [`crate::msgpack::Reader::array_view`] returns). No copy until [`to_owned`]
/// (or none at all via [`as_slice`] when the bytes happen to be aligned).
///
/// [`to_owned`]: ArrayView::to_owned
/// [`as_slice`]: ArrayView::as_slice
#[derive(Clone, PartialEq)]
pub struct ArrayView<'a, T: Element> {
    shape: Vec<usize>,
    bytes: &'a [u8],
    _elem: std::marker::PhantomData<T>,
}

impl<'a, T: Element> ArrayView<'a, T> {
    /// A view of `shape` over `bytes`: `PayloadLength` unless `bytes` holds exactly the
    /// elements, `InvalidBool` for a bool byte other than 0/1.
    pub fn new(shape: Vec<usize>, bytes: &'a [u8]) -> Result<Self> {
        let expected = byte_len(&shape, elem_size::<T>())?;
        if expected != bytes.len() as u128 {
            return Err(Error::new(ErrorKind::PayloadLength {
                expected,
                found: bytes.len() as u64,
            }));
        }
        if T::DTYPE == Dtype::Bool {
            validate_bool_bytes(bytes)?;
        }
        Ok(ArrayView {
            shape,
            bytes,
            _elem: std::marker::PhantomData,
        })
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / elem_size::<T>()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw little-endian element bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Element `i` in C order, or `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<T> {
        let size = elem_size::<T>();
        let start = i.checked_mul(size)?;
        self.bytes.get(start..start + size).map(T::read_le)
    }

    /// The elements in C order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + 'a {
        self.bytes.chunks_exact(elem_size::<T>()).map(T::read_le)
    }

    /// The elements as a slice borrowed from the input, when the bytes happen to be
    /// aligned for `T` (always for 1-byte types) on a little-endian target; else `None`
    /// (use [`ArrayView::iter`] or [`ArrayView::to_owned`]).
    pub fn as_slice(&self) -> Option<&'a [T]> {
        if cfg!(target_endian = "big")
            || self.bytes.as_ptr() as usize % std::mem::align_of::<T>() != 0
        {
            return None;
        }
        // SAFETY: the pointer is aligned for `T` (checked above), the length is a multiple
        // of `size_of::<T>()` (checked in `new`), every bit pattern is a valid `T` except
        // for bool, whose bytes `new` validated, and the byte order is the wire's. The
        // slice borrows the same `'a` input as `self.bytes`.
        Some(unsafe { std::slice::from_raw_parts(self.bytes.as_ptr().cast::<T>(), self.len()) })
    }

    /// Copies into an owned array.
    pub fn to_owned(&self) -> NdArray<T> {
        NdArray {
            shape: self.shape.clone(),
            // Cannot fail: length and bool bytes were validated in `new`.
            data: vec_from_le_bytes(self.bytes).unwrap_or_default(),
        }
    }
}

impl<T: Element> fmt::Debug for ArrayView<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArrayView")
            .field("dtype", &T::DTYPE)
            .field("shape", &self.shape)
            .field("data", &self.iter().collect::<Vec<T>>())
            .finish()
    }
}

/// One dim of a schema shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimSpec {
    /// Exactly this size (`f32[3]`).
    Fixed(u64),
    /// A named dim (`u8[H, W]`): any size, but the same everywhere in one sample.
    Named(&'static str),
    /// Any size (`f32[_]`).
    Any,
}

impl fmt::Display for DimSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DimSpec::Fixed(n) => write!(f, "{n}"),
            DimSpec::Named(name) => f.write_str(name),
            DimSpec::Any => f.write_str("_"),
        }
    }
}

/// Formats a schema shape as `[H, W, 3]`.
pub fn format_shape(spec: &[DimSpec]) -> String {
    let parts: Vec<String> = spec.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// The sizes named dims took so far in one sample. Create one per sample being decoded or
/// validated; the first array that uses a name sets it. Does not allocate until a named
/// dim is recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DimTable {
    entries: Vec<(&'static str, u64)>,
    /// Set by [`DimTable::unbound`]: `bind` records nothing and never fails.
    unbound: bool,
}

impl DimTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// A table for a decoding pass that a checking pass follows (the generated
    /// `from_msgpack`): named dims are left to the check, which binds them in declaration
    /// order whatever the key order on the wire (docs/language.md, "Error precedence").
    pub fn unbound() -> Self {
        DimTable {
            entries: Vec::new(),
            unbound: true,
        }
    }

    /// The size `name` was given, if any.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }

    /// Records `name = size` if unset; `NamedDimMismatch` if set to something else.
    pub fn bind(&mut self, name: &'static str, size: u64) -> Result<()> {
        if self.unbound {
            return Ok(());
        }
        match self.get(name) {
            None => {
                self.entries.push((name, size));
                Ok(())
            }
            Some(v) if v == size => Ok(()),
            Some(v) => Err(Error::new(ErrorKind::NamedDimMismatch {
                dim: name.to_owned(),
                expected: v,
                found: size,
            })),
        }
    }

    /// Forgets every binding (to reuse the table for the next sample).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Checks an array's shape against the schema's: same ndim, fixed dims equal, named dims
/// consistent with `dims` (binding them on first use). Errors carry no path; add it with
/// [`crate::error::ResultExt::at`].
pub fn check_shape(expected: &[DimSpec], found: &[usize], dims: &mut DimTable) -> Result<()> {
    let mismatch = || {
        Error::new(ErrorKind::ShapeMismatch {
            expected: format_shape(expected),
            found: found.iter().map(|&d| d as u64).collect(),
        })
    };
    if expected.len() != found.len() {
        return Err(mismatch());
    }
    for (spec, &d) in expected.iter().zip(found) {
        match *spec {
            DimSpec::Fixed(n) if n != d as u64 => return Err(mismatch()),
            DimSpec::Named(name) => dims.bind(name, d as u64)?,
            _ => {}
        }
    }
    Ok(())
}

/// Checks that every value fits in `bits` (two's complement for signed dtypes, so -1 fits
/// in any width); `BitsOverflow` with the first offender otherwise. Floats always pass.
pub fn check_bits<T: Element>(values: &[T], bits: u32) -> Result<()> {
    if bits >= 64 {
        return Ok(());
    }
    let (lo, hi): (i128, i128) = if T::DTYPE.is_signed() {
        (-(1i128 << bits) / 2, (1i128 << bits) / 2 - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    for &v in values {
        let x = match v.to_scalar() {
            Scalar::Int(x) => i128::from(x),
            Scalar::UInt(x) => i128::from(x),
            Scalar::Bool(b) => i128::from(b),
            Scalar::Float(_) => return Ok(()),
        };
        if x < lo || x > hi {
            return Err(Error::new(ErrorKind::BitsOverflow { value: x, bits }));
        }
    }
    Ok(())
}

/// Checks that every value lies in `[lo, hi]`; `OutOfRange` with the first offender
/// otherwise (NaN is out of every range). Bools pass.
pub fn check_range<T: Element>(values: &[T], lo: f64, hi: f64) -> Result<()> {
    for &v in values {
        let x = match v.to_scalar() {
            Scalar::Int(x) => x as f64,
            Scalar::UInt(x) => x as f64,
            Scalar::Float(x) => x,
            Scalar::Bool(_) => return Ok(()),
        };
        if !(x >= lo && x <= hi) {
            return Err(Error::new(ErrorKind::OutOfRange {
                value: v.to_scalar().to_string(),
                expected: format!("[{lo}, {hi}]"),
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn f16_from_f64_rounds_once() {
        // Just above a tie between two f16s (the low mantissa bits break it): up, as numpy.
        let v = f64::from_bits(0x3ff6_fa00_0008_2000);
        assert_eq!(super::f16_from_f64(v).to_bits(), 0x3dbf);
        // An exact tie rounds to even; below a tie rounds down.
        assert_eq!(
            super::f16_from_f64(f64::from_bits(0x3ff6_fa00_0000_0000)).to_bits(),
            0x3dbe
        );
        assert_eq!(
            super::f16_from_f64(f64::from_bits(0x3ff6_f9ff_ffff_ffff)).to_bits(),
            0x3dbe
        );
        // Overflow, NaN quieting and subnormals as before.
        assert!(super::f16_from_f64(1e10).is_infinite());
        assert_eq!(
            super::f16_from_f64(f64::from_bits(0x7ff0_0000_0000_0001)).to_bits(),
            0x7e00
        );
        assert_eq!(super::f16_from_f64(6e-8).to_bits(), 0x0001);
    }

    use super::*;

    #[test]
    fn new_checks_length() {
        assert!(NdArray::new(vec![2, 3], vec![0f32; 6]).is_ok());
        let e = NdArray::new(vec![2, 3], vec![0f32; 5]).unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::PayloadLength {
                expected: 24,
                found: 20
            }
        );
        assert!(NdArray::<u8>::new(vec![usize::MAX, 2], vec![]).is_err());
        let d = NdArray::<f32>::default();
        assert_eq!((d.shape(), d.len(), d.ndim()), (&[0usize][..], 0, 1));
        let z = NdArray::<u16>::zeros(vec![]);
        assert_eq!(z.len(), 1);
    }

    #[test]
    fn byte_round_trip_and_bool_validation() {
        let a = NdArray::new(vec![3], vec![1.5f32, -2.0, 0.25]).unwrap();
        let b = a.as_le_bytes().into_owned();
        assert_eq!(&b[..4], &1.5f32.to_le_bytes());
        assert_eq!(NdArray::<f32>::from_le_bytes(vec![3], &b).unwrap(), a);
        assert!(NdArray::<bool>::from_le_bytes(vec![2], &[0, 1]).is_ok());
        assert_eq!(
            NdArray::<bool>::from_le_bytes(vec![2], &[0, 2])
                .unwrap_err()
                .kind(),
            &ErrorKind::InvalidBool(2)
        );
    }

    #[test]
    fn view_alignment_and_access() {
        let words = [0u64, 0x3f80_0000_4000_0000];
        let bytes = as_le_bytes(&words).into_owned();
        // Offset by one to force misalignment.
        let mut buf = [0u8; 17];
        buf[1..].copy_from_slice(&bytes);
        let v = ArrayView::<f32>::new(vec![4], &buf[1..]).unwrap();
        assert_eq!(v.as_slice(), None);
        assert_eq!(v.get(3), Some(1.0));
        assert_eq!(v.get(2), Some(2.0));
        assert_eq!(v.get(4), None);
        assert_eq!(v.to_owned().as_slice(), &[0.0, 0.0, 2.0, 1.0]);
        let a = NdArray::new(vec![2, 2], vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(a.view().as_slice(), Some(a.as_slice()));
        assert_eq!(a.view().iter().collect::<Vec<_>>(), a.as_slice());
    }

    #[test]
    fn shape_checks() {
        let mut t = DimTable::new();
        let spec = [DimSpec::Named("H"), DimSpec::Named("W"), DimSpec::Fixed(3)];
        check_shape(&spec, &[4, 5, 3], &mut t).unwrap();
        check_shape(&spec[..2], &[4, 5], &mut t).unwrap();
        let e = check_shape(&spec[..2], &[4, 6], &mut t).unwrap_err();
        assert_eq!(
            e.kind(),
            &ErrorKind::NamedDimMismatch {
                dim: "W".into(),
                expected: 5,
                found: 6
            }
        );
        let e = check_shape(&spec, &[4, 5, 2], &mut t).unwrap_err();
        assert_eq!(e.to_string(), "expected shape [H, W, 3], found [4, 5, 2]");
        assert!(check_shape(&[DimSpec::Any], &[4, 5], &mut t).is_err());
        assert!(check_shape(&[DimSpec::Any], &[7], &mut t).is_ok());
    }

    #[test]
    fn random_respects_bits_and_range() {
        let mut rng = Rng::new(1);
        for _ in 0..2000 {
            let v = i8::random(&mut rng, Some(4), None);
            assert!((-8..=7).contains(&v));
            let v = u16::random(&mut rng, Some(3), None);
            assert!(v < 8);
            let v = i32::random(&mut rng, None, Some((-2.5, 10.0)));
            assert!((-2..=10).contains(&v));
            let v = f16::random(&mut rng, None, Some((0.0, 0.1)));
            assert!(v.to_f64() >= 0.0 && v.to_f64() <= 0.1, "{v}");
            let v = f32::random(&mut rng, None, None);
            assert!((-1.0..=1.0).contains(&v));
            let _ = u64::random(&mut rng, None, None);
            let _ = i64::random(&mut rng, None, None);
        }
        check_bits(&[-8i8, 7], 4).unwrap();
        assert_eq!(
            check_bits(&[8i8], 4).unwrap_err().kind(),
            &ErrorKind::BitsOverflow { value: 8, bits: 4 }
        );
        assert!(check_bits(&[16u32], 4).is_err());
        check_range(&[0.5f32], 0.0, 1.0).unwrap();
        assert!(check_range(&[f32::NAN], 0.0, 1.0).is_err());
    }
}

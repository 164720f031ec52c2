//! Columnar (structure-of-arrays) building blocks for generated `<Name>Batch` types
//! (DESIGN §5, docs/language.md "SoA storage kinds").
//!
//! Owns:
//! - [`AlignedVec`]: a growable buffer of [`Element`]s whose data always starts on a
//!   64-byte boundary ([`ALIGN`]), so a column can be handed to a GPU copy engine, SIMD
//!   code or numpy without a copy. A safe API (`push`, `extend_from_slice`, `as_slice`,
//!   `Deref<Target = [T]>`, ...) over one `std::alloc` allocation.
//! - [`Offsets`]: Arrow-style `n + 1` `i64` offsets (first 0, non-decreasing).
//! - [`Bitmap`]: a validity bitmap, LSB-first (row `i` is bit `i & 7` of byte `i >> 3`, as
//!   in Arrow), with the bits past `len` always zero.
//! - The four column kinds of the IR's `SoaStorage`: [`FixedColumn`] (`values: [n, ...shape]`),
//!   [`RaggedColumn`] (`values` + element `offsets` + per-row `shapes`), and
//!   [`BinaryColumn`] (`u8 values` + byte `offsets`, for str/bytes and for the per-row
//!   msgpack of `encoded` leaves).
//!
//! - [`soa`]: the generic batch ([`Batch<C>`]) and the [`Column`] / [`Columns`] traits the
//!   generated `<Name>Columns` implement, plus [`StrColumn`] and [`OptColumn`].
//!
//! Every column keeps its row count explicitly, supports `truncate` (`Batch::push` rolls
//! back a half-pushed row with it), `slice` (a copy of a row range) and a structural
//! `check` (used after loading foreign data).

use std::alloc::{self, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut, Range};
use std::ptr::NonNull;

use crate::array::Element;
use crate::error::{Error, ErrorKind, Result};

pub mod soa;
pub use soa::{
    at_leaf, Batch, BuildColumn, Column, Columns, OptColumn, StrColumn, VisitColumn,
    VisitColumnMut, ZipColumn,
};

/// Alignment, in bytes, of every [`AlignedVec`] buffer (a cache line; what Arrow and most
/// GPU copy paths want).
pub const ALIGN: usize = 64;

// ---------------------------------------------------------------------------------------------
// AlignedVec

/// A growable, 64-byte-aligned buffer of plain-old-data elements.
///
/// Behaves like a `Vec<T>` restricted to the sealed [`Element`] types (no destructors, no
/// padding, nonzero size): it derefs to `[T]`, grows geometrically, and its data pointer
/// is a multiple of [`ALIGN`] whenever it holds an allocation (an empty vector without
/// capacity uses the dangling address `ALIGN`, also aligned).
pub struct AlignedVec<T: Element> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    _owns: PhantomData<T>,
}

// SAFETY: `AlignedVec<T>` owns its elements like `Vec<T>`; `Element` types are `Send + Sync`
// plain data without interior mutability.
unsafe impl<T: Element> Send for AlignedVec<T> {}
// SAFETY: as above; `&AlignedVec<T>` only hands out `&[T]`.
unsafe impl<T: Element> Sync for AlignedVec<T> {}

impl<T: Element> AlignedVec<T> {
    /// An empty vector; does not allocate.
    pub const fn new() -> Self {
        AlignedVec {
            ptr: Self::dangling(),
            len: 0,
            cap: 0,
            _owns: PhantomData,
        }
    }

    /// An empty vector with room for `capacity` elements.
    ///
    /// # Panics
    /// If `capacity · size_of::<T>()` overflows `isize` (like `Vec`).
    pub fn with_capacity(capacity: usize) -> Self {
        let mut v = Self::new();
        v.reserve_exact(capacity);
        v
    }

    /// `len` copies of `value`.
    pub fn from_elem(value: T, len: usize) -> Self {
        let mut v = Self::with_capacity(len);
        v.resize(len, value);
        v
    }

    /// A well-aligned, non-null address for an allocation-free vector. `ALIGN` is a
    /// multiple of every element's alignment, so zero-length slices over it are valid.
    const fn dangling() -> NonNull<T> {
        // SAFETY: ALIGN is non-zero.
        unsafe { NonNull::new_unchecked(std::ptr::without_provenance_mut(ALIGN)) }
    }

    fn layout(cap: usize) -> Layout {
        let size = cap
            .checked_mul(std::mem::size_of::<T>())
            .expect("AlignedVec: capacity overflow");
        Layout::from_size_align(size, ALIGN.max(std::mem::align_of::<T>()))
            .expect("AlignedVec: capacity overflow")
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements the current allocation holds.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// The elements.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `ptr` is valid for `len` initialised elements (or dangling and aligned with
        // `len == 0`); the borrow of `self` keeps the allocation alive and unaliased mutably.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The elements, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, with the unique borrow of `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The data pointer (64-byte aligned).
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }

    /// The elements' little-endian bytes (borrowed on little-endian targets).
    pub fn as_le_bytes(&self) -> std::borrow::Cow<'_, [u8]> {
        crate::array::as_le_bytes(self.as_slice())
    }

    /// Room for at least `additional` more elements, growing geometrically.
    pub fn reserve(&mut self, additional: usize) {
        let need = self
            .len
            .checked_add(additional)
            .expect("AlignedVec: capacity overflow");
        if need > self.cap {
            let new_cap = need
                .max(self.cap.saturating_mul(2))
                .max(64 / std::mem::size_of::<T>());
            self.grow_to(new_cap);
        }
    }

    /// Room for exactly `additional` more elements (no geometric slack).
    pub fn reserve_exact(&mut self, additional: usize) {
        let need = self
            .len
            .checked_add(additional)
            .expect("AlignedVec: capacity overflow");
        if need > self.cap {
            self.grow_to(need);
        }
    }

    #[cold]
    fn grow_to(&mut self, new_cap: usize) {
        debug_assert!(new_cap > self.cap);
        let new_layout = Self::layout(new_cap);
        // `T` has nonzero size and `new_cap > 0`, so the layout has nonzero size.
        debug_assert!(new_layout.size() > 0);
        let raw = if self.cap == 0 {
            // SAFETY: nonzero size (above).
            unsafe { alloc::alloc(new_layout) }
        } else {
            // SAFETY: `ptr` was allocated by this allocator with `Self::layout(self.cap)`
            // (same alignment as `new_layout`), and the new size is nonzero and (checked by
            // `Layout::from_size_align`) does not overflow `isize`. `realloc` keeps the
            // alignment of the old layout, i.e. ALIGN.
            unsafe {
                alloc::realloc(
                    self.ptr.as_ptr().cast(),
                    Self::layout(self.cap),
                    new_layout.size(),
                )
            }
        };
        let Some(ptr) = NonNull::new(raw.cast::<T>()) else {
            alloc::handle_alloc_error(new_layout)
        };
        self.ptr = ptr;
        self.cap = new_cap;
    }

    /// Appends one element.
    #[inline]
    pub fn push(&mut self, value: T) {
        if self.len == self.cap {
            self.reserve(1);
        }
        // SAFETY: `len < cap` now, so the slot is inside the allocation and uninitialised
        // (writing does not drop anything; `T: Copy` has no destructor anyway).
        unsafe { self.ptr.as_ptr().add(self.len).write(value) };
        self.len += 1;
    }

    /// Appends every element of `values` (one `memcpy`).
    #[inline]
    pub fn extend_from_slice(&mut self, values: &[T]) {
        self.reserve(values.len());
        // SAFETY: after `reserve`, `[len, len + values.len())` is inside the allocation; a
        // shared borrow of `values` cannot alias our buffer because we hold `&mut self`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                values.as_ptr(),
                self.ptr.as_ptr().add(self.len),
                values.len(),
            );
        }
        self.len += values.len();
    }

    /// Resizes to `new_len`, filling new slots with `value`.
    pub fn resize(&mut self, new_len: usize, value: T) {
        if new_len <= self.len {
            self.len = new_len;
            return;
        }
        self.reserve(new_len - self.len);
        // SAFETY: slots `[len, new_len)` are inside the allocation after `reserve`.
        let spare = unsafe {
            std::slice::from_raw_parts_mut(
                self.ptr
                    .as_ptr()
                    .add(self.len)
                    .cast::<std::mem::MaybeUninit<T>>(),
                new_len - self.len,
            )
        };
        for slot in spare {
            slot.write(value);
        }
        self.len = new_len;
    }

    /// Appends `n` copies of `T::default()` (zero / false).
    #[inline]
    pub fn extend_default(&mut self, n: usize) {
        self.resize(self.len + n, T::default());
    }

    /// Shortens to `len` elements (no-op if already shorter). Keeps the capacity.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// The last element, if any.
    #[inline]
    pub fn last(&self) -> Option<&T> {
        self.as_slice().last()
    }

    /// A `Vec<T>` with the same elements (copies; `Vec` is not 64-byte aligned).
    pub fn to_vec(&self) -> Vec<T> {
        self.as_slice().to_vec()
    }

    /// Decodes little-endian element bytes: `PayloadLength` unless the length is a multiple
    /// of the element size, `InvalidBool` for a bool byte other than 0/1.
    pub fn from_le_bytes(bytes: &[u8]) -> Result<Self> {
        // One validation path for every dtype: reuse the array module's decoder, which
        // checks the length and bool bytes, then copy into aligned storage.
        let v = crate::array::vec_from_le_bytes::<T>(bytes)?;
        Ok(Self::from(v.as_slice()))
    }
}

impl<T: Element> Drop for AlignedVec<T> {
    fn drop(&mut self) {
        if self.cap > 0 {
            // SAFETY: allocated by `grow_to` with exactly this layout; elements need no drop.
            unsafe { alloc::dealloc(self.ptr.as_ptr().cast(), Self::layout(self.cap)) };
        }
    }
}

impl<T: Element> Default for AlignedVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Element> Clone for AlignedVec<T> {
    fn clone(&self) -> Self {
        Self::from(self.as_slice())
    }
}

impl<T: Element> Deref for AlignedVec<T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: Element> DerefMut for AlignedVec<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: Element> PartialEq for AlignedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Element> fmt::Debug for AlignedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T: Element> From<&[T]> for AlignedVec<T> {
    fn from(values: &[T]) -> Self {
        let mut v = Self::with_capacity(values.len());
        v.extend_from_slice(values);
        v
    }
}

impl<T: Element> From<Vec<T>> for AlignedVec<T> {
    fn from(values: Vec<T>) -> Self {
        Self::from(values.as_slice())
    }
}

impl<T: Element> FromIterator<T> for AlignedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = Self::new();
        v.extend(iter);
        v
    }
}

impl<T: Element> Extend<T> for AlignedVec<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        for v in iter {
            self.push(v);
        }
    }
}

impl<'a, T: Element> IntoIterator for &'a AlignedVec<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[cold]
fn corrupt(msg: impl fmt::Display) -> Error {
    Error::new(ErrorKind::Custom(format!("malformed column: {msg}")))
}

#[cold]
fn shape_error(expected: &[usize], found: &[usize]) -> Error {
    let parts: Vec<String> = expected.iter().map(ToString::to_string).collect();
    Error::new(ErrorKind::ShapeMismatch {
        expected: format!("[{}]", parts.join(", ")),
        found: found.iter().map(|&d| d as u64).collect(),
    })
}

#[inline]
fn check_range_in(range: &Range<usize>, len: usize) {
    assert!(
        range.start <= range.end && range.end <= len,
        "row range {range:?} out of bounds for a column of {len} rows"
    );
}

// ---------------------------------------------------------------------------------------------
// Offsets

/// Arrow-style offsets: `n + 1` values, the first 0, non-decreasing; row `i` spans
/// `offsets[i]..offsets[i + 1]` of the values buffer. `i64` because that is what numpy,
/// Arrow's large types and safetensors all read without conversion.
#[derive(Clone, PartialEq)]
pub struct Offsets {
    o: AlignedVec<i64>,
}

impl Offsets {
    /// No rows: `[0]`.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// No rows, room for `rows` more.
    pub fn with_capacity(rows: usize) -> Self {
        let mut o = AlignedVec::with_capacity(rows + 1);
        o.push(0);
        Offsets { o }
    }

    /// Offsets of rows with these lengths.
    pub fn from_lengths(lengths: impl IntoIterator<Item = usize>) -> Self {
        let mut o = Self::new();
        for l in lengths {
            o.push_len(l);
        }
        o
    }

    /// Checks raw offsets (`n + 1` values, first 0, non-decreasing, last ≤ `values_len`).
    pub fn from_slice(offsets: &[i64], values_len: usize) -> Result<Self> {
        match offsets.first() {
            None => {
                return Err(corrupt(
                    "offsets are empty (need n + 1 values, the first 0)",
                ))
            }
            Some(&f) if f != 0 => return Err(corrupt(format!("offsets start at {f}, not 0"))),
            _ => {}
        }
        if let Some(w) = offsets.windows(2).position(|w| w[1] < w[0]) {
            return Err(corrupt(format!("offsets decrease at row {w}")));
        }
        let last = *offsets.last().unwrap_or(&0);
        if last as u64 != values_len as u64 {
            return Err(corrupt(format!(
                "last offset is {last} but there are {values_len} values"
            )));
        }
        Ok(Offsets {
            o: AlignedVec::from(offsets),
        })
    }

    /// Number of rows (`n`).
    #[inline]
    pub fn rows(&self) -> usize {
        self.o.len() - 1
    }

    /// The total length (the last offset).
    #[inline]
    pub fn end(&self) -> usize {
        *self.o.last().unwrap_or(&0) as usize
    }

    /// Appends a row of `len` values.
    #[inline]
    pub fn push_len(&mut self, len: usize) {
        let end = self.end() + len;
        self.o.push(end as i64);
    }

    /// Appends a row ending at `end` (≥ the current end).
    #[inline]
    pub fn push_end(&mut self, end: usize) {
        debug_assert!(end >= self.end());
        self.o.push(end as i64);
    }

    /// The value range of row `i`.
    ///
    /// # Panics
    /// If `i >= rows()`.
    #[inline]
    pub fn range(&self, i: usize) -> Range<usize> {
        self.o[i] as usize..self.o[i + 1] as usize
    }

    /// Keeps the first `rows` rows.
    pub fn truncate(&mut self, rows: usize) {
        self.o.truncate(rows + 1);
    }

    /// Offsets of rows `range`, rebased to start at 0, and the value range they cover.
    pub fn slice(&self, range: Range<usize>) -> (Offsets, Range<usize>) {
        check_range_in(&range, self.rows());
        let base = self.o[range.start];
        let o: AlignedVec<i64> = self.o[range.start..=range.end]
            .iter()
            .map(|&x| x - base)
            .collect();
        (Offsets { o }, base as usize..self.o[range.end] as usize)
    }

    /// The `n + 1` offsets.
    #[inline]
    pub fn as_slice(&self) -> &[i64] {
        &self.o
    }

    /// The offsets' aligned buffer.
    pub fn buffer(&self) -> &AlignedVec<i64> {
        &self.o
    }

    pub fn reserve(&mut self, rows: usize) {
        self.o.reserve(rows);
    }
}

impl Default for Offsets {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Offsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

// ---------------------------------------------------------------------------------------------
// Bitmap

/// A validity bitmap, LSB-first: row `i` is bit `i & 7` of byte `i >> 3` (Arrow's order).
/// Bits at and after `len` are always zero, so equal bitmaps have equal bytes.
#[derive(Clone, PartialEq, Default)]
pub struct Bitmap {
    bytes: AlignedVec<u8>,
    len: usize,
}

impl Bitmap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(rows: usize) -> Self {
        Bitmap {
            bytes: AlignedVec::with_capacity(rows.div_ceil(8)),
            len: 0,
        }
    }

    /// `len` rows, all `value`.
    pub fn filled(len: usize, value: bool) -> Self {
        let mut b = Self::with_capacity(len);
        b.extend_constant(len, value);
        b
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one row.
    #[inline]
    pub fn push(&mut self, valid: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if valid {
            self.bytes[self.len >> 3] |= 1 << (self.len & 7);
        }
        self.len += 1;
    }

    /// Appends `n` rows, all `value`.
    pub fn extend_constant(&mut self, n: usize, value: bool) {
        // Fill the current partial byte bit by bit, then whole bytes.
        let mut left = n;
        while left > 0 && self.len % 8 != 0 {
            self.push(value);
            left -= 1;
        }
        let whole = left / 8;
        self.bytes
            .resize(self.bytes.len() + whole, if value { 0xFF } else { 0 });
        self.len += whole * 8;
        for _ in 0..left % 8 {
            self.push(value);
        }
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(
            i < self.len,
            "bitmap index {i} out of bounds for {} rows",
            self.len
        );
        self.bytes[i >> 3] >> (i & 7) & 1 == 1
    }

    /// Sets row `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[inline]
    pub fn set(&mut self, i: usize, valid: bool) {
        assert!(
            i < self.len,
            "bitmap index {i} out of bounds for {} rows",
            self.len
        );
        let bit = 1u8 << (i & 7);
        if valid {
            self.bytes[i >> 3] |= bit;
        } else {
            self.bytes[i >> 3] &= !bit;
        }
    }

    /// Keeps the first `len` rows (clearing the bits after them).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.len = len;
        self.bytes.truncate(len.div_ceil(8));
        if len % 8 != 0 {
            let last = self.bytes.len() - 1;
            self.bytes[last] &= (1u8 << (len % 8)) - 1;
        }
    }

    /// Rows `range` as a new bitmap.
    pub fn slice(&self, range: Range<usize>) -> Bitmap {
        check_range_in(&range, self.len);
        let mut out = Bitmap::with_capacity(range.len());
        if range.start % 8 == 0 {
            let b0 = range.start / 8;
            out.bytes
                .extend_from_slice(&self.bytes[b0..b0 + range.len().div_ceil(8)]);
            out.len = range.len();
            out.truncate_bits();
        } else {
            for i in range {
                out.push(self.get(i));
            }
        }
        out
    }

    /// Appends every row of `other`.
    pub fn extend_from_bitmap(&mut self, other: &Bitmap) {
        if self.len % 8 == 0 {
            self.bytes.extend_from_slice(&other.bytes);
            self.len += other.len;
        } else {
            for i in 0..other.len {
                self.push(other.get(i));
            }
        }
    }

    fn truncate_bits(&mut self) {
        if self.len % 8 != 0 {
            let last = self.bytes.len() - 1;
            self.bytes[last] &= (1u8 << (self.len % 8)) - 1;
        }
    }

    /// Number of valid (set) rows.
    pub fn count_valid(&self) -> usize {
        self.bytes.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Number of null (unset) rows.
    pub fn null_count(&self) -> usize {
        self.len - self.count_valid()
    }

    /// The rows in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = bool> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }

    /// The packed bytes (`ceil(len / 8)`, LSB-first).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// From packed LSB-first bytes: `len` rows from the first `ceil(len/8)` bytes; bits
    /// after `len` must be zero.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Result<Self> {
        if bytes.len() != len.div_ceil(8) {
            return Err(corrupt(format!(
                "validity bitmap of {len} rows needs {} bytes, got {}",
                len.div_ceil(8),
                bytes.len()
            )));
        }
        let mut b = Bitmap {
            bytes: AlignedVec::from(bytes),
            len,
        };
        let before = b.bytes.last().copied();
        b.truncate_bits();
        if b.bytes.last().copied() != before {
            return Err(corrupt("validity bitmap has bits set after its last row"));
        }
        Ok(b)
    }

    /// One byte per row, 0 or 1 (the safetensors form; simplest for numpy: `v.astype(bool)`).
    pub fn to_row_bytes(&self) -> Vec<u8> {
        self.iter().map(u8::from).collect()
    }

    /// From one byte per row; any byte other than 0 or 1 is an error.
    pub fn from_row_bytes(rows: &[u8]) -> Result<Self> {
        let mut b = Bitmap::with_capacity(rows.len());
        for (i, &r) in rows.iter().enumerate() {
            match r {
                0 => b.push(false),
                1 => b.push(true),
                other => {
                    return Err(corrupt(format!(
                        "validity byte {other} at row {i} (expected 0 or 1)"
                    )))
                }
            }
        }
        Ok(b)
    }
}

impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bitmap[")?;
        for v in self.iter() {
            f.write_str(if v { "1" } else { "0" })?;
        }
        f.write_str("]")
    }
}

impl FromIterator<bool> for Bitmap {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> Self {
        let mut b = Bitmap::new();
        for v in iter {
            b.push(v);
        }
        b
    }
}

// ---------------------------------------------------------------------------------------------
// Columns

/// A fixed-shape column: `values` is `[n, ...row_shape]`, contiguous, C order.
#[derive(Clone, PartialEq, Debug)]
pub struct FixedColumn<T: Element> {
    values: AlignedVec<T>,
    row_shape: Vec<usize>,
    row_len: usize,
    rows: usize,
}

impl<T: Element> FixedColumn<T> {
    /// An empty column whose rows have `row_shape` (`[]` for scalars).
    pub fn new(row_shape: Vec<usize>) -> Self {
        Self::with_capacity(row_shape, 0)
    }

    /// An empty column with room for `rows` rows.
    pub fn with_capacity(row_shape: Vec<usize>, rows: usize) -> Self {
        let row_len: usize = row_shape.iter().product();
        FixedColumn {
            values: AlignedVec::with_capacity(row_len.saturating_mul(rows)),
            row_shape,
            row_len,
            rows: 0,
        }
    }

    /// From `rows · row_len` values.
    pub fn from_values(row_shape: Vec<usize>, values: AlignedVec<T>, rows: usize) -> Result<Self> {
        let row_len: usize = row_shape.iter().product();
        if row_len.checked_mul(rows) != Some(values.len()) {
            let mut full = vec![rows];
            full.extend_from_slice(&row_shape);
            return Err(corrupt(format!(
                "{} values cannot have shape {full:?}",
                values.len()
            )));
        }
        Ok(FixedColumn {
            values,
            row_shape,
            row_len,
            rows,
        })
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.rows
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Shape of one row.
    pub fn row_shape(&self) -> &[usize] {
        &self.row_shape
    }

    /// Elements per row.
    #[inline]
    pub fn row_len(&self) -> usize {
        self.row_len
    }

    /// Full shape `[n, ...row_shape]`.
    pub fn shape(&self) -> Vec<usize> {
        let mut s = Vec::with_capacity(self.row_shape.len() + 1);
        s.push(self.rows);
        s.extend_from_slice(&self.row_shape);
        s
    }

    /// All values, `[n, ...row_shape]` in C order.
    #[inline]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    /// All values, mutably (the shape cannot change through this).
    #[inline]
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    /// The aligned values buffer.
    pub fn buffer(&self) -> &AlignedVec<T> {
        &self.values
    }

    /// Row `i`'s elements.
    ///
    /// # Panics
    /// If `i >= len()`.
    #[inline]
    pub fn row(&self, i: usize) -> &[T] {
        assert!(
            i < self.rows,
            "row {i} out of bounds for {} rows",
            self.rows
        );
        &self.values[i * self.row_len..(i + 1) * self.row_len]
    }

    /// Appends one row; `ShapeMismatch` unless `row` has `row_len()` elements.
    #[inline]
    pub fn push_row(&mut self, row: &[T]) -> Result<()> {
        if row.len() != self.row_len {
            return Err(shape_error(&self.row_shape, &[row.len()]));
        }
        self.values.extend_from_slice(row);
        self.rows += 1;
        Ok(())
    }

    /// Appends a one-element row (a scalar leaf).
    #[inline]
    pub fn push_one(&mut self, v: T) {
        debug_assert_eq!(self.row_len, 1);
        self.values.push(v);
        self.rows += 1;
    }

    /// Appends a row of `T::default()`.
    #[inline]
    pub fn push_default(&mut self) {
        self.values.extend_default(self.row_len);
        self.rows += 1;
    }

    /// Raw element append for generated code that builds one row from several pieces;
    /// finish the row with [`FixedColumn::end_row`].
    #[inline]
    pub fn extend_elems(&mut self, elems: &[T]) {
        self.values.extend_from_slice(elems);
    }

    /// Raw append of `n` default elements (see [`FixedColumn::extend_elems`]).
    #[inline]
    pub fn extend_default_elems(&mut self, n: usize) {
        self.values.extend_default(n);
    }

    /// Raw append of one element (see [`FixedColumn::extend_elems`]).
    #[inline]
    pub fn push_elem(&mut self, v: T) {
        self.values.push(v);
    }

    /// Closes a row built with the raw appends: errors (a corrupt state, which the caller
    /// must roll back with `truncate`) unless exactly `row_len()` elements were appended.
    #[inline]
    pub fn end_row(&mut self) -> Result<()> {
        let expected = (self.rows + 1) * self.row_len;
        if self.values.len() != expected {
            let got = self.values.len().wrapping_sub(self.rows * self.row_len);
            return Err(shape_error(&self.row_shape, &[got]));
        }
        self.rows += 1;
        Ok(())
    }

    /// Appends every row of `other` (same row shape).
    ///
    /// # Panics
    /// If the row shapes differ.
    pub fn extend_from_column(&mut self, other: &Self) {
        assert_eq!(
            self.row_shape, other.row_shape,
            "FixedColumn::extend_from_column: row shapes differ"
        );
        self.values.extend_from_slice(&other.values);
        self.rows += other.rows;
    }

    /// Keeps the first `rows` rows (also drops a half-built row).
    pub fn truncate(&mut self, rows: usize) {
        self.rows = self.rows.min(rows);
        self.values.truncate(self.rows * self.row_len);
    }

    /// Rows `range`, copied.
    pub fn slice(&self, range: Range<usize>) -> Self {
        check_range_in(&range, self.rows);
        FixedColumn {
            values: AlignedVec::from(
                &self.values[range.start * self.row_len..range.end * self.row_len],
            ),
            row_shape: self.row_shape.clone(),
            row_len: self.row_len,
            rows: range.len(),
        }
    }

    pub fn reserve(&mut self, rows: usize) {
        self.values.reserve(rows.saturating_mul(self.row_len));
    }

    /// Structural check: `values.len() == n · row_len`.
    pub fn check(&self) -> Result<()> {
        if self.values.len() != self.rows * self.row_len {
            return Err(corrupt(format!(
                "{} values for {} rows of {}",
                self.values.len(),
                self.rows,
                self.row_len
            )));
        }
        Ok(())
    }
}

/// A column with dynamic dims: every row's elements back to back in `values`, element
/// `offsets` (`n + 1`), and each row's shape in `shapes` (`[n, ndim]`, i64).
#[derive(Clone, PartialEq, Debug)]
pub struct RaggedColumn<T: Element> {
    values: AlignedVec<T>,
    offsets: Offsets,
    shapes: AlignedVec<i64>,
    ndim: usize,
}

impl<T: Element> RaggedColumn<T> {
    /// An empty column whose rows have `ndim` dims.
    pub fn new(ndim: usize) -> Self {
        Self::with_capacity(ndim, 0, 0)
    }

    /// An empty column with room for `rows` rows and `values` elements.
    pub fn with_capacity(ndim: usize, rows: usize, values: usize) -> Self {
        RaggedColumn {
            values: AlignedVec::with_capacity(values),
            offsets: Offsets::with_capacity(rows),
            shapes: AlignedVec::with_capacity(rows.saturating_mul(ndim)),
            ndim,
        }
    }

    /// From raw buffers, checked (offsets well-formed, `shapes` is `[n, ndim]` of
    /// non-negative dims whose products are the row lengths).
    pub fn from_parts(
        ndim: usize,
        values: AlignedVec<T>,
        offsets: &[i64],
        shapes: AlignedVec<i64>,
    ) -> Result<Self> {
        let offsets = Offsets::from_slice(offsets, values.len())?;
        let c = RaggedColumn {
            values,
            offsets,
            shapes,
            ndim,
        };
        c.check()?;
        Ok(c)
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.offsets.rows()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Dims per row.
    pub fn ndim(&self) -> usize {
        self.ndim
    }

    /// All rows' elements back to back.
    #[inline]
    pub fn values(&self) -> &[T] {
        &self.values
    }

    #[inline]
    pub fn values_mut(&mut self) -> &mut [T] {
        &mut self.values
    }

    pub fn buffer(&self) -> &AlignedVec<T> {
        &self.values
    }

    /// The `n + 1` element offsets.
    #[inline]
    pub fn offsets(&self) -> &Offsets {
        &self.offsets
    }

    /// Every row's shape, `[n, ndim]` flattened.
    #[inline]
    pub fn shapes(&self) -> &[i64] {
        &self.shapes
    }

    /// Row `i`'s shape.
    #[inline]
    pub fn row_shape(&self, i: usize) -> &[i64] {
        &self.shapes[i * self.ndim..(i + 1) * self.ndim]
    }

    /// Row `i`'s shape as `usize`s.
    pub fn row_shape_usize(&self, i: usize) -> Vec<usize> {
        self.row_shape(i).iter().map(|&d| d as usize).collect()
    }

    /// Row `i`'s elements.
    #[inline]
    pub fn row(&self, i: usize) -> &[T] {
        &self.values[self.offsets.range(i)]
    }

    /// Appends one row of `shape` (`ndim` dims); `ShapeMismatch` unless `data` has
    /// `product(shape)` elements.
    pub fn push_row(&mut self, shape: &[usize], data: &[T]) -> Result<()> {
        if shape.len() != self.ndim || shape.iter().product::<usize>() != data.len() {
            return Err(shape_error(shape, &[data.len()]));
        }
        self.values.extend_from_slice(data);
        self.end_row(shape)
    }

    /// Raw element append for generated code; finish with [`RaggedColumn::end_row`].
    #[inline]
    pub fn extend_elems(&mut self, elems: &[T]) {
        self.values.extend_from_slice(elems);
    }

    /// Raw append of `n` default elements.
    #[inline]
    pub fn extend_default_elems(&mut self, n: usize) {
        self.values.extend_default(n);
    }

    /// Raw append of one element.
    #[inline]
    pub fn push_elem(&mut self, v: T) {
        self.values.push(v);
    }

    /// Closes a row of `shape` built with the raw appends: errors unless `shape` has `ndim`
    /// dims whose product is the number of elements appended since the last row.
    pub fn end_row(&mut self, shape: &[usize]) -> Result<()> {
        let got = self.values.len() - self.offsets.end();
        if shape.len() != self.ndim || shape.iter().product::<usize>() != got {
            return Err(shape_error(shape, &[got]));
        }
        self.offsets.push_end(self.values.len());
        self.shapes.extend(shape.iter().map(|&d| d as i64));
        Ok(())
    }

    /// Appends every row of `other`.
    ///
    /// # Panics
    /// If the ndims differ.
    pub fn extend_from_column(&mut self, other: &Self) {
        assert_eq!(
            self.ndim, other.ndim,
            "RaggedColumn::extend_from_column: ndim differs"
        );
        let base = self.offsets.end();
        self.values.extend_from_slice(&other.values);
        for &o in &other.offsets.as_slice()[1..] {
            self.offsets.push_end(base + o as usize);
        }
        self.shapes.extend_from_slice(&other.shapes);
    }

    /// Keeps the first `rows` rows (also drops a half-built row).
    pub fn truncate(&mut self, rows: usize) {
        let rows = rows.min(self.len());
        self.offsets.truncate(rows);
        self.values.truncate(self.offsets.end());
        self.shapes.truncate(rows * self.ndim);
    }

    /// Rows `range`, copied (offsets rebased).
    pub fn slice(&self, range: Range<usize>) -> Self {
        let (offsets, vr) = self.offsets.slice(range.clone());
        RaggedColumn {
            values: AlignedVec::from(&self.values[vr]),
            offsets,
            shapes: AlignedVec::from(&self.shapes[range.start * self.ndim..range.end * self.ndim]),
            ndim: self.ndim,
        }
    }

    pub fn reserve(&mut self, rows: usize, values: usize) {
        self.offsets.reserve(rows);
        self.shapes.reserve(rows.saturating_mul(self.ndim));
        self.values.reserve(values);
    }

    /// Structural check: offsets well-formed and covering `values`, `shapes` is
    /// `[n, ndim]` with non-negative dims whose products are the row lengths.
    pub fn check(&self) -> Result<()> {
        let n = self.len();
        if self.shapes.len() != n * self.ndim {
            return Err(corrupt(format!(
                "shapes hold {} dims, expected {n} rows × {}",
                self.shapes.len(),
                self.ndim
            )));
        }
        if self.offsets.end() != self.values.len() {
            return Err(corrupt(format!(
                "offsets end at {} but there are {} values",
                self.offsets.end(),
                self.values.len()
            )));
        }
        for i in 0..n {
            let shape = self.row_shape(i);
            let mut prod: u128 = 1;
            for &d in shape {
                if d < 0 {
                    return Err(corrupt(format!("row {i} has a negative dim {d}")));
                }
                prod = prod.saturating_mul(d as u128);
            }
            if prod != self.offsets.range(i).len() as u128 {
                return Err(corrupt(format!(
                    "row {i} has shape {shape:?} but {} values",
                    self.offsets.range(i).len()
                )));
            }
        }
        Ok(())
    }
}

/// A variable-length byte column: `values` (u8) + byte `offsets`. Holds str (UTF-8), bytes,
/// and the per-row msgpack of `encoded` leaves.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct BinaryColumn {
    values: AlignedVec<u8>,
    offsets: Offsets,
}

impl BinaryColumn {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `rows` rows of `bytes` bytes in total.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        BinaryColumn {
            values: AlignedVec::with_capacity(bytes),
            offsets: Offsets::with_capacity(rows),
        }
    }

    /// From raw buffers, checked.
    pub fn from_parts(values: AlignedVec<u8>, offsets: &[i64]) -> Result<Self> {
        let offsets = Offsets::from_slice(offsets, values.len())?;
        Ok(BinaryColumn { values, offsets })
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.offsets.rows()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All rows' bytes back to back.
    #[inline]
    pub fn values(&self) -> &[u8] {
        &self.values
    }

    pub fn buffer(&self) -> &AlignedVec<u8> {
        &self.values
    }

    #[inline]
    pub fn offsets(&self) -> &Offsets {
        &self.offsets
    }

    /// Row `i`'s bytes.
    #[inline]
    pub fn row(&self, i: usize) -> &[u8] {
        &self.values[self.offsets.range(i)]
    }

    /// Row `i` as UTF-8, `InvalidUtf8` if it is not.
    pub fn row_str(&self, i: usize) -> Result<&str> {
        std::str::from_utf8(self.row(i)).map_err(|_| Error::new(ErrorKind::InvalidUtf8))
    }

    /// Appends one row.
    #[inline]
    pub fn push(&mut self, bytes: &[u8]) {
        self.values.extend_from_slice(bytes);
        self.offsets.push_end(self.values.len());
    }

    /// The values buffer, for writing a row in place (e.g. msgpack straight into the
    /// column); close it with [`BinaryColumn::end_row`].
    #[inline]
    pub fn values_mut_vec(&mut self) -> &mut AlignedVec<u8> {
        &mut self.values
    }

    /// Closes a row written through [`BinaryColumn::values_mut_vec`].
    #[inline]
    pub fn end_row(&mut self) {
        self.offsets.push_end(self.values.len());
    }

    /// Appends every row of `other`.
    pub fn extend_from_column(&mut self, other: &Self) {
        let base = self.offsets.end();
        self.values.extend_from_slice(&other.values);
        for &o in &other.offsets.as_slice()[1..] {
            self.offsets.push_end(base + o as usize);
        }
    }

    /// Keeps the first `rows` rows (also drops a half-written row).
    pub fn truncate(&mut self, rows: usize) {
        let rows = rows.min(self.len());
        self.offsets.truncate(rows);
        self.values.truncate(self.offsets.end());
    }

    /// Rows `range`, copied (offsets rebased).
    pub fn slice(&self, range: Range<usize>) -> Self {
        let (offsets, vr) = self.offsets.slice(range);
        BinaryColumn {
            values: AlignedVec::from(&self.values[vr]),
            offsets,
        }
    }

    pub fn reserve(&mut self, rows: usize, bytes: usize) {
        self.offsets.reserve(rows);
        self.values.reserve(bytes);
    }

    /// Structural check: offsets cover `values` exactly.
    pub fn check(&self) -> Result<()> {
        if self.offsets.end() != self.values.len() {
            return Err(corrupt(format!(
                "offsets end at {} but there are {} bytes",
                self.offsets.end(),
                self.values.len()
            )));
        }
        Ok(())
    }

    /// Structural check plus: every row is UTF-8 (for str columns).
    pub fn check_utf8(&self) -> Result<()> {
        self.check()?;
        for i in 0..self.len() {
            self.row_str(i).map_err(|e| e.at_index(i))?;
        }
        Ok(())
    }
}

/// Checks that a batch's columns all have `n` rows (generated `validate` and `load`).
pub fn check_rows(column: &str, rows: usize, n: usize) -> Result<()> {
    if rows != n {
        return Err(corrupt(format!("column {column} has {rows} rows, the batch {n}")).at(column));
    }
    Ok(())
}

/// A `ShapeMismatch` error for generated code (`expected` as written in the schema).
#[cold]
pub fn shape_mismatch(expected: &str, found: &[usize]) -> Error {
    Error::new(ErrorKind::ShapeMismatch {
        expected: expected.to_owned(),
        found: found.iter().map(|&d| d as u64).collect(),
    })
}

/// The error for a value the SoA layout cannot hold (see the generated batch docs).
#[cold]
pub fn unrepresentable(msg: &str) -> Error {
    Error::new(ErrorKind::Custom(format!(
        "cannot be stored in a SoA batch: {msg}"
    )))
}

/// Tracks whether the optional parts of one leaf were present across every element of a
/// component array in one row: the SoA layout keeps one validity bit per row, so a row
/// whose elements disagree cannot be stored (generated `push` reports it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    seen_present: bool,
    seen_absent: bool,
}

impl Presence {
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn present(&mut self) {
        self.seen_present = true;
    }

    #[inline]
    pub fn absent(&mut self) {
        self.seen_absent = true;
    }

    /// The row's validity bit: present unless something was absent. Errors when some
    /// elements were present and others absent.
    #[inline]
    pub fn resolve(self) -> Result<bool> {
        if self.seen_present && self.seen_absent {
            return Err(unrepresentable(
                "some elements of a component array have this optional value and others do not",
            ));
        }
        Ok(!self.seen_absent)
    }
}

/// Tracks the per-row shape of a ragged leaf assembled from several array elements (a
/// component array whose component holds a dynamic-shape field): every element must give
/// the same inner shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InnerShape {
    shape: Option<Vec<usize>>,
}

impl InnerShape {
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one element's shape; errors if it differs from an earlier element's.
    #[inline]
    pub fn see(&mut self, shape: &[usize]) -> Result<()> {
        match &self.shape {
            None => {
                self.shape = Some(shape.to_vec());
                Ok(())
            }
            Some(s) if s.as_slice() == shape => Ok(()),
            Some(_) => Err(unrepresentable(
                "elements of a component array have different shapes for this field",
            )),
        }
    }

    /// The agreed shape, or `fallback` (all zeros for an absent row) if no element was seen.
    pub fn get_or(&self, fallback: &[usize]) -> Vec<usize> {
        self.shape.clone().unwrap_or_else(|| fallback.to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers for generated code

/// A ragged leaf's row in a borrowed row view: its elements and its shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RaggedRef<'a, T> {
    pub values: &'a [T],
    pub shape: &'a [i64],
}

/// Checks an array's own shape against its spec (`Some(n)` fixed, `None` any size).
#[inline]
pub fn check_dims(found: &[usize], spec: &[Option<usize>], expected: &str) -> Result<()> {
    let ok = found.len() == spec.len()
        && found
            .iter()
            .zip(spec)
            .all(|(f, s)| s.is_none_or(|s| s == *f));
    if ok {
        Ok(())
    } else {
        Err(shape_mismatch(expected, found))
    }
}

/// A component array's length: `len` must be a multiple of the product of the inner
/// dims (`inner`), and equal `fixed` when the first dim is fixed. Returns the first dim.
#[inline]
pub fn check_count(
    len: usize,
    fixed: Option<usize>,
    inner: usize,
    expected: &str,
) -> Result<usize> {
    let first = len.checked_div(inner).unwrap_or(0);
    let ok = inner != 0 && len % inner == 0 && fixed.is_none_or(|f| f == first);
    if ok {
        Ok(first)
    } else {
        Err(shape_mismatch(expected, &[len]))
    }
}

/// An n-d array of `shape` over a copy of `data`.
///
/// # Panics
/// If `data.len()` is not the product of `shape` (generated code passes matching pairs).
#[inline]
pub fn nd<T: Element>(shape: Vec<usize>, data: &[T]) -> crate::NdArray<T> {
    crate::NdArray::new(shape, data.to_vec()).expect("batch::nd: shape and data agree")
}

/// An n-d array of `shape` over `data` (no copy).
///
/// # Panics
/// If `data.len()` is not the product of `shape` (generated code passes matching pairs).
#[inline]
pub fn nd_owned<T: Element>(shape: Vec<usize>, data: Vec<T>) -> crate::NdArray<T> {
    crate::NdArray::new(shape, data).expect("batch::nd_owned: shape and data agree")
}

/// The next `n` elements of `row` at cursor `c`, advancing the cursor.
#[inline]
pub fn take<'a, T>(row: &'a [T], c: &mut usize, n: usize) -> Result<&'a [T]> {
    let s = row
        .get(*c..*c + n)
        .ok_or_else(|| corrupt("a row holds fewer elements than its shape says"))?;
    *c += n;
    Ok(s)
}

/// The `usize` dims of a ragged row's shape.
#[inline]
pub fn dims(shape: &[i64]) -> Vec<usize> {
    shape.iter().map(|&d| d as usize).collect()
}

/// The product of some dims of a ragged row's shape (a component array's element count).
#[inline]
pub fn count(shape: &[i64], range: Range<usize>) -> Result<usize> {
    shape
        .get(range)
        .ok_or_else(|| corrupt("row shape has too few dims"))?
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(usize::try_from(d).ok()?))
        .ok_or_else(|| corrupt("row shape overflows"))
}

/// Writes the nested array headers that open before flat element `k` of a component array
/// with inner dims `inner` (the dims after the first), so that a flat C-order walk writes
/// the nested-arrays form (`Cell[2, 3]`: an array of 2 arrays of 3 items).
#[inline]
pub fn write_nest_headers(w: &mut crate::msgpack::Writer, k: usize, inner: &[usize]) {
    let mut block: usize = inner.iter().product();
    for &d in inner {
        if block != 0 && k % block == 0 {
            w.array_header(d);
        }
        block /= d.max(1);
    }
}

/// Reads (and checks) the nested array headers that open before flat element `k`; the
/// reading counterpart of [`write_nest_headers`].
#[inline]
pub fn read_nest_headers(
    r: &mut crate::msgpack::Reader<'_>,
    k: usize,
    inner: &[usize],
) -> Result<()> {
    let mut block: usize = inner.iter().product();
    for &d in inner {
        if block != 0 && k % block == 0 {
            let n = r.array_len()?;
            if n != d {
                return Err(shape_error(&[d], &[n]));
            }
        }
        block /= d.max(1);
    }
    Ok(())
}

/// A fixed-size gather buffer with the same raw-append API as the columns, so one walk over
/// a sample fills either a column or a stack buffer (what `<Name>Packed::pack` packs from).
#[derive(Clone, Debug)]
pub struct Gather<T: Element, const N: usize> {
    buf: [T; N],
    len: usize,
    overflow: bool,
}

impl<T: Element, const N: usize> Gather<T, N> {
    #[inline]
    pub fn new() -> Self {
        Gather {
            buf: [T::default(); N],
            len: 0,
            overflow: false,
        }
    }

    #[inline]
    pub fn extend_elems(&mut self, elems: &[T]) {
        match self.buf.get_mut(self.len..self.len + elems.len()) {
            Some(dst) => {
                dst.copy_from_slice(elems);
                self.len += elems.len();
            }
            None => self.overflow = true,
        }
    }

    #[inline]
    pub fn push_elem(&mut self, v: T) {
        self.extend_elems(&[v]);
    }

    #[inline]
    pub fn extend_default_elems(&mut self, n: usize) {
        if self.len + n <= N {
            self.len += n;
        } else {
            self.overflow = true;
        }
    }

    /// Appends `n` values unpacked from a per-field `@packed` byte stream.
    pub fn extend_unpacked(&mut self, bytes: &[u8], bits: u32, n: usize) -> Result<()>
    where
        T: crate::bits::BitElement,
    {
        match self.buf.get_mut(self.len..self.len + n) {
            Some(dst) => {
                crate::bits::unpack_bytes(bytes, bits, dst).map_err(|e| bits_error(e, ""))?;
                self.len += n;
            }
            None => self.overflow = true,
        }
        Ok(())
    }

    /// The `N` gathered values; an error unless exactly `N` were appended.
    #[inline]
    pub fn finish(&self) -> Result<&[T; N]> {
        if self.overflow || self.len != N {
            return Err(shape_error(&[N], &[self.len]));
        }
        Ok(&self.buf)
    }
}

impl<T: Element, const N: usize> Default for Gather<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A bit-packing error as a runtime [`Error`] at `path` (overflows keep the value's index).
#[cold]
pub fn bits_error(e: crate::bits::BitsError, path: &str) -> Error {
    use crate::bits::BitsError;
    match e {
        BitsError::Overflow { index, value, bits } => {
            Error::new(ErrorKind::BitsOverflow { value, bits })
                .at_index(index)
                .at(path)
        }
        BitsError::NonZeroPadding { .. } => {
            Error::new(ErrorKind::BadPadding(e.to_string())).at(path)
        }
        other => Error::custom(other).at(path),
    }
}

/// One sample's compact row (a generated `<Name>Packed::from_bytes`): exactly
/// `layout.compact_len()` bytes with zero padding bits, else `BadPadding` at the sample
/// `name` (conformance/README.md, "Packed input").
pub fn compact_to_row(
    bytes: &[u8],
    layout: crate::bits::CompactLayout,
    name: &str,
) -> Result<AlignedVec<u32>> {
    let clen = layout.compact_len();
    if bytes.len() != clen {
        return Err(Error::new(ErrorKind::BadPadding(format!(
            "compact form is {} bytes, expected {clen}",
            bytes.len()
        )))
        .at(name));
    }
    compact_to_rows(bytes, layout, "").map_err(|e| Error::new(e.kind().clone()).at(name))
}

/// Values per stack chunk in [`pack_at`] / [`unpack_at`]: a multiple of 32, so every chunk
/// fills whole words and starts at the same bit within a word.
const SHIFT_CHUNK: usize = 1024;

/// Re-bases the index of a per-chunk bits error onto the caller's slice.
#[cold]
fn rebase(e: crate::bits::BitsError, base: usize) -> crate::bits::BitsError {
    use crate::bits::BitsError;
    match e {
        BitsError::Overflow { index, value, bits } => BitsError::Overflow {
            index: index + base,
            value,
            bits,
        },
        BitsError::CodeOutOfRange {
            index,
            value,
            bits,
            dtype,
        } => BitsError::CodeOutOfRange {
            index: index + base,
            value,
            bits,
            dtype,
        },
        other => other,
    }
}

/// Whether `T` values go through the `u32` kernels (AVX2 where available): unsigned types
/// and bool, whose `low_bits` is their exact value, when the field is no wider than `T`.
#[inline(always)]
fn widen<T: crate::bits::BitElement>(bits: u32) -> bool {
    use crate::Dtype;
    bits <= T::WIDTH && matches!(T::DTYPE, Dtype::Bool | Dtype::U8 | Dtype::U16)
}

/// [`crate::bits::pack_into`] with a fast path for long leaves, the usual case in aggregate
/// layouts (e.g. AggState's 324 faces at bit 17): each chunk is widened to `u32` (bool, u8,
/// u16) and packed word-aligned into a stack buffer by the dense kernels, then merged into
/// `words` with one funnel shift per word, instead of one accumulator step per value. Same
/// bits, same errors (overflow indices refer to `values`), same "bits outside the range are
/// kept" contract.
pub fn pack_at<T: crate::bits::BitElement>(
    values: &[T],
    bits: u32,
    words: &mut [u32],
    bit_offset: u64,
) -> std::result::Result<(), crate::bits::BitsError> {
    let s = (bit_offset % 32) as u32;
    let end = bit_offset as u128 + values.len() as u128 * u128::from(bits);
    let wide = widen::<T>(bits);
    if (s == 0 && !wide)
        || values.len() < 64
        || !(1..=32).contains(&bits)
        || end > words.len() as u128 * 32
    {
        return crate::bits::pack_into(values, bits, words, bit_offset);
    }
    SCRATCH.with_borrow_mut(|(tmp, vals)| {
        pack_chunks(values, bits, words, bit_offset, wide, tmp, vals)
    })
}

thread_local! {
    /// Reused stack-like buffers of [`pack_at`] / [`unpack_at`] (a thread-local rather than
    /// arrays on the stack: zeroing 8 KiB per call cost more than the packing itself).
    static SCRATCH: std::cell::RefCell<(Vec<u32>, Vec<u32>)> =
        std::cell::RefCell::new((vec![0; SHIFT_CHUNK + 1], vec![0; SHIFT_CHUNK]));
}

fn pack_chunks<T: crate::bits::BitElement>(
    values: &[T],
    bits: u32,
    words: &mut [u32],
    bit_offset: u64,
    wide: bool,
    tmp: &mut [u32],
    vals: &mut [u32],
) -> std::result::Result<(), crate::bits::BitsError> {
    let s = (bit_offset % 32) as u32;
    let chunk_bits = SHIFT_CHUNK as u64 * u64::from(bits);
    for (ci, chunk) in values.chunks(SHIFT_CHUNK).enumerate() {
        let start = bit_offset + ci as u64 * chunk_bits;
        if wide {
            for (d, v) in vals.iter_mut().zip(chunk) {
                *d = v.low_bits();
            }
        }
        if s == 0 {
            // Word-aligned (only reached when widening): the dense u32 path, in place.
            return_on_err(
                crate::bits::pack_into(&vals[..chunk.len()], bits, words, start),
                ci,
            )?;
            continue;
        }
        let nw = crate::bits::words_for(chunk.len(), bits);
        tmp[nw - 1] = 0;
        if wide {
            return_on_err(
                crate::bits::pack_into(&vals[..chunk.len()], bits, &mut tmp[..nw], 0),
                ci,
            )?;
        } else {
            return_on_err(crate::bits::pack_into(chunk, bits, &mut tmp[..nw], 0), ci)?;
        }
        let stop = start + chunk.len() as u64 * u64::from(bits);
        let w0 = (start / 32) as usize;
        let w_last = ((stop - 1) / 32) as usize;
        // Keep the bits of the first and last words that lie outside [start, stop).
        let keep_lo = words[w0] & ((1u32 << s) - 1);
        let hi = (stop % 32) as u32;
        let keep_hi = if hi == 0 {
            0
        } else {
            words[w_last] & !((1u32 << hi) - 1)
        };
        // tmp holds the chunk from bit 0, padding above; shifting by s puts it at `start`.
        // Written as a zip over slices so it vectorises.
        let dst = &mut words[w0..=w_last];
        dst[0] = tmp[0] << s;
        for (d, pair) in dst[1..].iter_mut().zip(tmp[..nw].windows(2)) {
            *d = (pair[1] << s) | (pair[0] >> (32 - s));
        }
        if dst.len() > nw {
            dst[nw] = tmp[nw - 1] >> (32 - s);
        }
        words[w0] |= keep_lo;
        if hi != 0 {
            words[w_last] = (words[w_last] & ((1u32 << hi) - 1)) | keep_hi;
        }
    }
    Ok(())
}

#[inline(always)]
fn return_on_err(
    r: std::result::Result<(), crate::bits::BitsError>,
    chunk: usize,
) -> std::result::Result<(), crate::bits::BitsError> {
    r.map_err(|e| rebase(e, chunk * SHIFT_CHUNK))
}

/// [`crate::bits::unpack_from`] with the same fast path as [`pack_at`]: each chunk's words
/// are funnel-shifted into a word-aligned stack buffer and decoded by the dense kernels
/// (into `u32` first for bool, u8 and u16).
pub fn unpack_at<T: crate::bits::BitElement>(
    words: &[u32],
    bit_offset: u64,
    bits: u32,
    out: &mut [T],
) -> std::result::Result<(), crate::bits::BitsError> {
    let s = (bit_offset % 32) as u32;
    let end = bit_offset as u128 + out.len() as u128 * u128::from(bits);
    let wide = widen::<T>(bits);
    if (s == 0 && !wide)
        || out.len() < 64
        || !(1..=32).contains(&bits)
        || end > words.len() as u128 * 32
    {
        return crate::bits::unpack_from(words, bit_offset, bits, out);
    }
    SCRATCH.with_borrow_mut(|(tmp, codes)| {
        unpack_chunks(words, bit_offset, bits, out, wide, tmp, codes)
    })
}

fn unpack_chunks<T: crate::bits::BitElement>(
    words: &[u32],
    bit_offset: u64,
    bits: u32,
    out: &mut [T],
    wide: bool,
    tmp: &mut [u32],
    codes: &mut [u32],
) -> std::result::Result<(), crate::bits::BitsError> {
    let s = (bit_offset % 32) as u32;
    let chunk_bits = SHIFT_CHUNK as u64 * u64::from(bits);
    for (ci, chunk) in out.chunks_mut(SHIFT_CHUNK).enumerate() {
        let start = bit_offset + ci as u64 * chunk_bits;
        let nw = crate::bits::words_for(chunk.len(), bits);
        let src: &[u32] = if s == 0 {
            let w0 = (start / 32) as usize;
            &words[w0..w0 + nw]
        } else {
            let w0 = (start / 32) as usize;
            let src = &words[w0..(w0 + nw + 1).min(words.len())];
            for (t, pair) in tmp[..nw].iter_mut().zip(src.windows(2)) {
                *t = (pair[0] >> s) | (pair[1] << (32 - s));
            }
            if src.len() == nw {
                // The chunk ends in the last word of `words`: nothing above it.
                tmp[nw - 1] = src[nw - 1] >> s;
            }
            &tmp[..nw]
        };
        if wide {
            return_on_err(
                crate::bits::unpack_from(src, 0, bits, &mut codes[..chunk.len()]),
                ci,
            )?;
            for (d, &c) in chunk.iter_mut().zip(codes.iter()) {
                *d = T::from_code_wrapping(c, bits);
            }
        } else {
            return_on_err(crate::bits::unpack_from(src, 0, bits, chunk), ci)?;
        }
    }
    Ok(())
}

/// One leaf of an aggregate layout, for the dynamic accessors of `<Name>Packed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedLeaf {
    /// Dotted leaf path.
    pub path: &'static str,
    pub dtype: crate::Dtype,
    /// The leaf's per-sample shape.
    pub shape: &'static [usize],
    /// Element count (product of `shape`).
    pub elements: usize,
    pub bits: u32,
    /// First stream bit of the leaf.
    pub bit_offset: u64,
}

impl PackedLeaf {
    /// Finds `path` in `leaves`.
    pub fn find(leaves: &'static [PackedLeaf], path: &str) -> Result<&'static PackedLeaf> {
        leaves
            .iter()
            .find(|l| l.path == path)
            .ok_or_else(|| Error::custom(format!("no packed leaf {path:?}")))
    }

    /// Decodes element `index` of this leaf from one row's words as an `i64`
    /// (sign-extended for signed dtypes, 0/1 for bool).
    #[inline]
    pub fn get_i64(&self, words: &[u32], index: usize) -> Result<i64> {
        if index >= self.elements {
            return Err(Error::custom(format!(
                "index {index} out of range for leaf {} of {} elements",
                self.path, self.elements
            )));
        }
        let r = if self.dtype.is_signed() {
            crate::bits::try_get::<i64>(words, self.bit_offset, self.bits, index)
        } else {
            crate::bits::try_get::<u64>(words, self.bit_offset, self.bits, index).map(|v| v as i64)
        };
        r.map_err(|e| bits_error(e, self.path))
    }

    /// The leaf's values (all, or the flat C-order `indices`) from one row's words.
    pub fn values_i64(&self, words: &[u32], indices: Option<&[usize]>) -> Result<Vec<i64>> {
        let mut out = Vec::with_capacity(indices.map_or(self.elements, <[usize]>::len));
        self.extend_i64(words, indices, &mut Vec::new(), &mut out)?;
        Ok(out)
    }

    /// [`Self::values_i64`] appended to `out`, with `codes` as scratch space (reused across
    /// rows by batch callers): the whole leaf goes through the block kernels.
    pub fn extend_i64(
        &self,
        words: &[u32],
        indices: Option<&[usize]>,
        codes: &mut Vec<u32>,
        out: &mut Vec<i64>,
    ) -> Result<()> {
        let Some(ix) = indices else {
            codes.clear();
            codes.resize(self.elements, 0);
            unpack_at(words, self.bit_offset, self.bits, codes)
                .map_err(|e| bits_error(e, self.path))?;
            if self.dtype.is_signed() {
                let sh = 32 - self.bits;
                out.extend(codes.iter().map(|&c| i64::from(((c << sh) as i32) >> sh)));
            } else {
                out.extend(codes.iter().map(|&c| i64::from(c)));
            }
            return Ok(());
        };
        for &k in ix {
            out.push(self.get_i64(words, k)?);
        }
        Ok(())
    }
}

/// Converts rows of words (`words_per_row` each) to the compact byte form
/// (`layout.compact_len()` bytes per row, back to back).
pub fn rows_to_compact(
    words: &[u32],
    words_per_row: usize,
    layout: crate::bits::CompactLayout,
) -> Vec<u8> {
    let clen = layout.compact_len();
    let rows = words.len().checked_div(words_per_row).unwrap_or(0);
    let mut out = Vec::with_capacity(rows * clen);
    if clen == 0 {
        return out;
    }
    // Each row's compact form is the first `clen` bytes of its little-endian words: one
    // copy per row out of the (borrowed, on little-endian targets) byte view.
    let bytes = crate::array::as_le_bytes(words);
    for row in bytes.chunks_exact(4 * words_per_row).take(rows) {
        out.extend_from_slice(&row[..clen]);
    }
    out
}

/// Converts back-to-back compact rows into words (`layout.words` per row), checking the
/// length and that every padding bit is zero.
pub fn compact_to_rows(
    bytes: &[u8],
    layout: crate::bits::CompactLayout,
    path: &str,
) -> Result<AlignedVec<u32>> {
    let clen = layout.compact_len();
    if clen == 0 || bytes.len() % clen != 0 {
        return Err(Error::custom(format!(
            "{} bytes is not a whole number of {clen}-byte packed rows",
            bytes.len()
        ))
        .at(path));
    }
    let rows = bytes.len() / clen;
    let mut out = AlignedVec::from_elem(0u32, rows * layout.words);
    let total = layout.total_bits;
    let first_pad_word = (total / 32) as usize;
    let rem = (total % 32) as u32;
    for (i, (src, dst)) in bytes
        .chunks_exact(clen)
        .zip(out.chunks_exact_mut(layout.words))
        .enumerate()
    {
        let whole = layout.words_len;
        for (w, b) in dst[..whole].iter_mut().zip(src.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        if layout.tail_bytes > 0 {
            let mut le = [0u8; 4];
            le[..layout.tail_bytes].copy_from_slice(&src[4 * whole..]);
            dst[whole] = u32::from_le_bytes(le);
        }
        for (k, &w) in dst.iter().enumerate().skip(first_pad_word) {
            let pad = if k == first_pad_word && rem != 0 {
                w & !((1u32 << rem) - 1)
            } else {
                w
            };
            if pad != 0 {
                return Err(bits_error(
                    crate::bits::BitsError::NonZeroPadding {
                        bit: k as u64 * 32 + u64::from(pad.trailing_zeros()),
                        total_bits: total,
                    },
                    path,
                )
                .at_index(i));
            }
        }
    }
    Ok(out)
}

impl<T: Element + crate::bits::BitElement> FixedColumn<T> {
    /// Raw append of `n` values unpacked from a per-field `@packed` byte stream.
    pub fn extend_unpacked(&mut self, bytes: &[u8], bits: u32, n: usize) -> Result<()> {
        let start = self.values.len();
        self.values.extend_default(n);
        crate::bits::unpack_bytes(bytes, bits, &mut self.values[start..])
            .map_err(|e| bits_error(e, ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aligned<T: Element>(v: &AlignedVec<T>) -> bool {
        v.as_ptr() as usize % ALIGN == 0
    }

    #[test]
    fn aligned_vec_grows_and_stays_aligned() {
        let mut v: AlignedVec<u8> = AlignedVec::new();
        assert!(aligned(&v) && v.is_empty() && v.as_slice().is_empty());
        for i in 0..10_000u32 {
            v.push(i as u8);
            assert!(aligned(&v));
        }
        assert_eq!(v.len(), 10_000);
        assert!(v.iter().enumerate().all(|(i, &b)| b == i as u8));
        let mut w: AlignedVec<f64> = AlignedVec::with_capacity(3);
        assert_eq!(w.capacity(), 3);
        w.extend_from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(aligned(&w));
        assert_eq!(&w[..], &[1.0, 2.0, 3.0, 4.0, 5.0]);
        w.truncate(2);
        assert_eq!(w.to_vec(), vec![1.0, 2.0]);
        w.resize(4, 9.0);
        assert_eq!(&w[..], &[1.0, 2.0, 9.0, 9.0]);
        w.extend_default(1);
        assert_eq!(&w[..], &[1.0, 2.0, 9.0, 9.0, 0.0]);
        let c = w.clone();
        assert!(aligned(&c) && c == w);
        w.as_mut_slice()[0] = 7.0;
        assert_ne!(c, w);
        w.clear();
        assert!(w.is_empty());
        let from_iter: AlignedVec<i16> = (0..100).collect();
        assert_eq!(from_iter.len(), 100);
        assert_eq!(from_iter[99], 99);
    }

    #[test]
    fn aligned_vec_le_bytes_round_trip() {
        let v: AlignedVec<u32> = AlignedVec::from(vec![1, 0x0102_0304, u32::MAX]);
        let bytes = v.as_le_bytes().into_owned();
        assert_eq!(&bytes[4..8], &[4, 3, 2, 1]);
        assert_eq!(AlignedVec::<u32>::from_le_bytes(&bytes).unwrap(), v);
        assert!(AlignedVec::<u32>::from_le_bytes(&bytes[..5]).is_err());
        assert!(AlignedVec::<bool>::from_le_bytes(&[0, 1, 2]).is_err());
        assert_eq!(
            AlignedVec::<bool>::from_le_bytes(&[0, 1]).unwrap().to_vec(),
            vec![false, true]
        );
    }

    #[test]
    fn offsets_and_slices() {
        let o = Offsets::from_lengths([2, 0, 3]);
        assert_eq!(o.as_slice(), &[0, 2, 2, 5]);
        assert_eq!(o.rows(), 3);
        assert_eq!(o.range(2), 2..5);
        let (s, vr) = o.slice(1..3);
        assert_eq!(s.as_slice(), &[0, 0, 3]);
        assert_eq!(vr, 2..5);
        assert!(Offsets::from_slice(&[0, 2, 1], 1).is_err());
        assert!(Offsets::from_slice(&[1, 2], 2).is_err());
        assert!(Offsets::from_slice(&[], 0).is_err());
        assert!(Offsets::from_slice(&[0, 2], 3).is_err());
        assert!(Offsets::from_slice(&[0, 2, 3], 3).is_ok());
    }

    #[test]
    fn bitmap_lsb_first() {
        let mut b = Bitmap::new();
        for i in 0..19 {
            b.push(i % 3 == 0);
        }
        // rows 0,3,6 in byte 0 -> 0b0100_1001; rows 9,12,15 in byte 1 -> bits 1,4,7.
        assert_eq!(b.as_bytes(), &[0b0100_1001, 0b1001_0010, 0b0000_0100]);
        assert_eq!(b.count_valid(), 7);
        assert_eq!(b.null_count(), 12);
        let s = b.slice(3..12);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            (3..12).map(|i| i % 3 == 0).collect::<Vec<_>>()
        );
        let s8 = b.slice(8..19);
        assert_eq!(
            s8.iter().collect::<Vec<_>>(),
            (8..19).map(|i| i % 3 == 0).collect::<Vec<_>>()
        );
        assert_eq!(s8.as_bytes().len(), 2);
        let mut t = b.clone();
        t.truncate(4);
        assert_eq!(t.as_bytes(), &[0b1001]);
        t.extend_constant(13, true);
        assert_eq!(t.len(), 17);
        assert_eq!(t.as_bytes(), &[0xF9, 0xFF, 0x01]);
        t.set(0, false);
        assert!(!t.get(0));
        let rows = b.to_row_bytes();
        assert_eq!(Bitmap::from_row_bytes(&rows).unwrap(), b);
        assert!(Bitmap::from_row_bytes(&[0, 2]).is_err());
        assert_eq!(Bitmap::from_bytes(b.as_bytes(), 19).unwrap(), b);
        assert!(
            Bitmap::from_bytes(&[0xFF], 3).is_err(),
            "bits after len must be zero"
        );
        let mut e = Bitmap::filled(3, true);
        e.extend_from_bitmap(&b);
        assert_eq!(e.len(), 22);
        assert_eq!(
            e.iter().skip(3).collect::<Vec<_>>(),
            b.iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn fixed_column_rows() {
        let mut c: FixedColumn<f32> = FixedColumn::new(vec![2, 3]);
        c.push_row(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert!(c.push_row(&[1.0]).is_err());
        c.push_default();
        c.extend_elems(&[1.0, 1.0, 1.0]);
        c.extend_elems(&[2.0, 2.0, 2.0]);
        c.end_row().unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.shape(), vec![3, 2, 3]);
        assert_eq!(c.row(2), &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
        c.extend_elems(&[5.0]);
        assert!(c.end_row().is_err());
        c.truncate(3);
        assert_eq!(c.values().len(), 18);
        c.check().unwrap();
        let s = c.slice(1..3);
        assert_eq!(s.len(), 2);
        assert_eq!(s.row(0), &[0.0; 6]);
        assert_eq!(s.buffer().as_ptr() as usize % ALIGN, 0);
    }

    #[test]
    fn ragged_column_rows() {
        let mut c: RaggedColumn<i32> = RaggedColumn::new(2);
        c.push_row(&[2, 2], &[1, 2, 3, 4]).unwrap();
        c.push_row(&[0, 5], &[]).unwrap();
        c.push_row(&[1, 3], &[7, 8, 9]).unwrap();
        assert!(c.push_row(&[1, 3], &[7]).is_err());
        assert!(c.push_row(&[3], &[7, 8, 9]).is_err());
        assert_eq!(c.len(), 3);
        assert_eq!(c.offsets().as_slice(), &[0, 4, 4, 7]);
        assert_eq!(c.shapes(), &[2, 2, 0, 5, 1, 3]);
        assert_eq!(c.row(2), &[7, 8, 9]);
        let s = c.slice(1..3);
        assert_eq!(s.offsets().as_slice(), &[0, 0, 3]);
        assert_eq!(s.row_shape(1), &[1, 3]);
        s.check().unwrap();
        let mut d = c.clone();
        d.extend_elems(&[1, 2]);
        d.truncate(3);
        assert_eq!(d, c);
        d.extend_from_column(&s);
        assert_eq!(d.len(), 5);
        assert_eq!(d.row(4), &[7, 8, 9]);
        let bad = RaggedColumn::<i32>::from_parts(
            1,
            AlignedVec::from(vec![1, 2]),
            &[0, 2],
            AlignedVec::from(vec![3]),
        );
        assert!(bad.is_err());
        let good = RaggedColumn::<i32>::from_parts(
            1,
            AlignedVec::from(vec![1, 2]),
            &[0, 2],
            AlignedVec::from(vec![2]),
        );
        assert!(good.is_ok());
    }

    #[test]
    fn binary_column_rows() {
        let mut c = BinaryColumn::new();
        c.push(b"hello");
        c.push(b"");
        c.push("wörld".as_bytes());
        assert_eq!(c.len(), 3);
        assert_eq!(c.row_str(2).unwrap(), "wörld");
        let s = c.slice(1..3);
        assert_eq!(s.offsets().as_slice(), &[0, 0, 6]);
        c.check_utf8().unwrap();
        c.push(&[0xFF]);
        assert!(c.check_utf8().is_err());
        c.truncate(1);
        assert_eq!(c.values(), b"hello");
        let mut e = BinaryColumn::new();
        e.extend_from_column(&s);
        e.extend_from_column(&s);
        assert_eq!(e.offsets().as_slice(), &[0, 0, 6, 6, 12]);
    }

    #[test]
    fn pack_at_and_unpack_at_match_the_accumulator_kernels() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for bits in 1..=32u32 {
            for &n in &[64usize, 65, 100, 324, 1023, 1024, 1025, 3000] {
                for &off in &[1u64, 17, 31, 33, 63] {
                    let m = if bits == 32 {
                        u64::from(u32::MAX)
                    } else {
                        (1u64 << bits) - 1
                    };
                    let vals: Vec<u32> = (0..n).map(|_| (next() & m) as u32).collect();
                    let nw = ((off + n as u64 * u64::from(bits)).div_ceil(32) + 1) as usize;
                    // Surrounding bits set, to check they are kept.
                    let mut a = vec![0xFFFF_FFFFu32; nw];
                    let mut b = a.clone();
                    crate::bits::pack_into(&vals, bits, &mut a, off).unwrap();
                    pack_at(&vals, bits, &mut b, off).unwrap();
                    assert_eq!(a, b, "bits={bits} n={n} off={off}");
                    let mut back = vec![0u32; n];
                    unpack_at(&b, off, bits, &mut back).unwrap();
                    assert_eq!(back, vals, "bits={bits} n={n} off={off}");
                }
            }
        }
        // Narrow types (widened to u32 internally), at aligned and unaligned offsets.
        for &off in &[0u64, 17, 32, 45] {
            let u8s: Vec<u8> = (0..1500).map(|i| (i * 7 % 8) as u8).collect();
            let u16s: Vec<u16> = (0..700).map(|i| (i * 31 % 4096) as u16).collect();
            let bools: Vec<bool> = (0..300).map(|i| i % 3 == 0).collect();
            let i16s: Vec<i16> = (0..300).map(|i| (i % 512 - 256) as i16).collect();
            let mut a = vec![0xA5A5_A5A5u32; 700];
            let mut b = a.clone();
            crate::bits::pack_into(&u8s, 3, &mut a, off).unwrap();
            pack_at(&u8s, 3, &mut b, off).unwrap();
            assert_eq!(a, b, "u8 off={off}");
            let mut back = vec![0u8; u8s.len()];
            unpack_at(&b, off, 3, &mut back).unwrap();
            assert_eq!(back, u8s);
            crate::bits::pack_into(&u16s, 12, &mut a, off).unwrap();
            pack_at(&u16s, 12, &mut b, off).unwrap();
            assert_eq!(a, b, "u16 off={off}");
            let mut back = vec![0u16; u16s.len()];
            unpack_at(&b, off, 12, &mut back).unwrap();
            assert_eq!(back, u16s);
            crate::bits::pack_into(&bools, 1, &mut a, off).unwrap();
            pack_at(&bools, 1, &mut b, off).unwrap();
            assert_eq!(a, b, "bool off={off}");
            let mut back = vec![false; bools.len()];
            unpack_at(&b, off, 1, &mut back).unwrap();
            assert_eq!(back, bools);
            crate::bits::pack_into(&i16s, 9, &mut a, off).unwrap();
            pack_at(&i16s, 9, &mut b, off).unwrap();
            assert_eq!(a, b, "i16 off={off}");
            let mut back = vec![0i16; i16s.len()];
            unpack_at(&b, off, 9, &mut back).unwrap();
            assert_eq!(back, i16s);
        }
        // A u8 field decoded wider than its dtype takes the checked path.
        let mut w = vec![0u32; 100];
        pack_at(&[300u16; 100], 12, &mut w, 3).unwrap();
        let mut narrow = vec![0u8; 100];
        assert!(unpack_at(&w, 3, 12, &mut narrow).is_err());
        // Overflow indices refer to the caller's slice.
        let mut big = vec![1u8; 2000];
        big[1500] = 8;
        match pack_at(&big, 3, &mut vec![0u32; 200], 0) {
            Err(crate::bits::BitsError::Overflow { index, .. }) => assert_eq!(index, 1500),
            other => panic!("{other:?}"),
        }
        let mut vals = vec![1u8; 2000];
        vals[1500] = 8;
        let mut w = vec![0u32; 200];
        match pack_at(&vals, 3, &mut w, 17) {
            Err(crate::bits::BitsError::Overflow { index, .. }) => assert_eq!(index, 1500),
            other => panic!("{other:?}"),
        }
        // Signed values sign-extend.
        let vals: Vec<i8> = (0..100).map(|i| (i % 16 - 8) as i8).collect();
        let mut w = vec![0u32; 20];
        pack_at(&vals, 4, &mut w, 5).unwrap();
        let mut back = vec![0i8; 100];
        unpack_at(&w, 5, 4, &mut back).unwrap();
        assert_eq!(back, vals);
    }

    #[test]
    fn presence_and_inner_shape() {
        let mut p = Presence::new();
        assert!(p.resolve().unwrap());
        p.present();
        assert!(p.resolve().unwrap());
        let mut q = Presence::new();
        q.absent();
        assert!(!q.resolve().unwrap());
        q.present();
        assert!(q.resolve().is_err());
        let mut s = InnerShape::new();
        assert_eq!(s.get_or(&[0]), vec![0]);
        s.see(&[3]).unwrap();
        s.see(&[3]).unwrap();
        assert!(s.see(&[4]).is_err());
        assert_eq!(s.get_or(&[0]), vec![3]);
    }
}

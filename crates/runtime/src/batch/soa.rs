//! The generic SoA batch: [`Batch<C>`] owns the row count and every method a generated
//! `<Name>Batch` offers (`push`, `get`, `slice`, `save`, ...); the generated code only
//! declares its columns (a struct of typed [`Column`]s) and implements [`Columns`] for it,
//! listing each column once per visitor (build, visit, visit_mut, zip) plus the per-leaf
//! push and decode bodies, which depend on the schema.
//!
//! Everything is monomorphised: the visitors are generic traits (no `dyn`), so a
//! generated batch compiles to the same column loops it would have with the methods
//! written out by hand.

use std::fmt;
use std::ops::{Deref, Range};
use std::path::Path;

use super::{check_rows, BinaryColumn, Bitmap, FixedColumn, RaggedColumn};
use crate::array::Element;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensors::{TensorFile, TensorSet};

/// One column of a batch, as the generic batch drives it. `Spec` is the constant part of
/// the column's type that the schema fixes (a fixed leaf's row shape, a ragged leaf's rank).
pub trait Column: Clone + PartialEq + fmt::Debug + Sized {
    /// What the schema fixes about the column (passed by the generated [`Columns::build`]).
    type Spec: Copy;

    /// An empty column with room for `rows` rows.
    fn with_capacity(spec: Self::Spec, rows: usize) -> Self;
    /// Number of rows.
    fn rows(&self) -> usize;
    /// Keeps the first `rows` rows.
    fn truncate(&mut self, rows: usize);
    /// Appends every row of `other`.
    fn extend_from_column(&mut self, other: &Self);
    /// Rows `range`, copied.
    fn slice(&self, range: Range<usize>) -> Self;
    /// Structural check (offsets, shapes, UTF-8) of data that came from outside.
    fn check(&self) -> Result<()>;
    /// Errors unless every buffer of the column has `n` rows.
    fn check_rows(&self, path: &str, n: usize) -> Result<()> {
        check_rows(path, self.rows(), n)
    }
    /// Adds the column's buffers to `t` as the tensors `path`, `path.offsets`, ...
    fn add_tensors<'a>(&'a self, path: &str, t: &mut TensorSet<'a>);
    /// Reads the column's tensors (checking dtypes and shapes) from `f`.
    fn load(f: &TensorFile, path: &str, n: usize, spec: Self::Spec) -> Result<Self>;
    /// The names [`Self::add_tensors`] writes.
    fn tensor_names(path: &str, out: &mut Vec<String>);
    /// Appends the row of an absent optional value (zeros, an all-zero shape, no bytes).
    fn push_absent(&mut self) -> Result<()>;
}

impl<T: Element> Column for FixedColumn<T> {
    type Spec = &'static [usize];
    fn with_capacity(spec: Self::Spec, rows: usize) -> Self {
        FixedColumn::with_capacity(spec.to_vec(), rows)
    }
    fn rows(&self) -> usize {
        self.len()
    }
    fn truncate(&mut self, rows: usize) {
        FixedColumn::truncate(self, rows)
    }
    fn extend_from_column(&mut self, other: &Self) {
        FixedColumn::extend_from_column(self, other)
    }
    fn slice(&self, range: Range<usize>) -> Self {
        FixedColumn::slice(self, range)
    }
    fn check(&self) -> Result<()> {
        FixedColumn::check(self)
    }
    fn add_tensors<'a>(&'a self, path: &str, t: &mut TensorSet<'a>) {
        t.add_fixed(path, self);
    }
    fn load(f: &TensorFile, path: &str, n: usize, spec: Self::Spec) -> Result<Self> {
        f.fixed::<T>(path, n, spec)
    }
    fn tensor_names(path: &str, out: &mut Vec<String>) {
        out.push(path.to_owned());
    }
    fn push_absent(&mut self) -> Result<()> {
        self.push_default();
        Ok(())
    }
}

impl<T: Element> Column for RaggedColumn<T> {
    /// The leaf's rank (each row's shape has this many dims).
    type Spec = usize;
    fn with_capacity(ndim: usize, rows: usize) -> Self {
        RaggedColumn::with_capacity(ndim, rows, 0)
    }
    fn rows(&self) -> usize {
        self.len()
    }
    fn truncate(&mut self, rows: usize) {
        RaggedColumn::truncate(self, rows)
    }
    fn extend_from_column(&mut self, other: &Self) {
        RaggedColumn::extend_from_column(self, other)
    }
    fn slice(&self, range: Range<usize>) -> Self {
        RaggedColumn::slice(self, range)
    }
    fn check(&self) -> Result<()> {
        RaggedColumn::check(self)
    }
    fn add_tensors<'a>(&'a self, path: &str, t: &mut TensorSet<'a>) {
        t.add_ragged(path, self);
    }
    fn load(f: &TensorFile, path: &str, n: usize, ndim: usize) -> Result<Self> {
        f.ragged::<T>(path, n, ndim)
    }
    fn tensor_names(path: &str, out: &mut Vec<String>) {
        out.extend([
            path.to_owned(),
            format!("{path}.offsets"),
            format!("{path}.shapes"),
        ]);
    }
    fn push_absent(&mut self) -> Result<()> {
        // An all-zero shape; on the stack for every rank a schema writes in practice.
        match self.ndim() {
            n @ 0..=8 => self.push_row(&[0usize; 8][..n], &[]),
            n => self.push_row(&vec![0usize; n], &[]),
        }
    }
}

impl Column for BinaryColumn {
    type Spec = ();
    fn with_capacity((): (), rows: usize) -> Self {
        BinaryColumn::with_capacity(rows, 0)
    }
    fn rows(&self) -> usize {
        self.len()
    }
    fn truncate(&mut self, rows: usize) {
        BinaryColumn::truncate(self, rows)
    }
    fn extend_from_column(&mut self, other: &Self) {
        BinaryColumn::extend_from_column(self, other)
    }
    fn slice(&self, range: Range<usize>) -> Self {
        BinaryColumn::slice(self, range)
    }
    fn check(&self) -> Result<()> {
        BinaryColumn::check(self)
    }
    fn add_tensors<'a>(&'a self, path: &str, t: &mut TensorSet<'a>) {
        t.add_binary(path, self);
    }
    fn load(f: &TensorFile, path: &str, n: usize, (): ()) -> Result<Self> {
        f.binary(path, n)
    }
    fn tensor_names(path: &str, out: &mut Vec<String>) {
        out.extend([path.to_owned(), format!("{path}.offsets")]);
    }
    fn push_absent(&mut self) -> Result<()> {
        self.push(&[]);
        Ok(())
    }
}

/// A `str` leaf's column: a [`BinaryColumn`] whose rows are checked to be UTF-8 when it
/// comes from outside (derefs to the [`BinaryColumn`]; `row_str` reads a row).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct StrColumn(pub BinaryColumn);

impl Deref for StrColumn {
    type Target = BinaryColumn;
    fn deref(&self) -> &BinaryColumn {
        &self.0
    }
}

impl Column for StrColumn {
    type Spec = ();
    fn with_capacity((): (), rows: usize) -> Self {
        StrColumn(BinaryColumn::with_capacity(rows, 0))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
    fn truncate(&mut self, rows: usize) {
        self.0.truncate(rows)
    }
    fn extend_from_column(&mut self, other: &Self) {
        self.0.extend_from_column(&other.0)
    }
    fn slice(&self, range: Range<usize>) -> Self {
        StrColumn(self.0.slice(range))
    }
    fn check(&self) -> Result<()> {
        self.0.check_utf8()
    }
    fn add_tensors<'a>(&'a self, path: &str, t: &mut TensorSet<'a>) {
        t.add_binary(path, &self.0);
    }
    fn load(f: &TensorFile, path: &str, n: usize, (): ()) -> Result<Self> {
        f.binary(path, n).map(StrColumn)
    }
    fn tensor_names(path: &str, out: &mut Vec<String>) {
        BinaryColumn::tensor_names(path, out)
    }
    fn push_absent(&mut self) -> Result<()> {
        self.0.push_absent()
    }
}

/// An optional leaf's column: the values (absent rows hold zeros, an all-zero shape or no
/// bytes) and one validity bit per row (tensor `<path>.validity`).
#[derive(Clone, PartialEq, Debug)]
pub struct OptColumn<C> {
    /// The values, one row per batch row whether present or not.
    pub values: C,
    /// Set = present.
    pub validity: Bitmap,
}

impl<C: Column> Column for OptColumn<C> {
    type Spec = C::Spec;
    fn with_capacity(spec: C::Spec, rows: usize) -> Self {
        OptColumn {
            values: C::with_capacity(spec, rows),
            validity: Bitmap::with_capacity(rows),
        }
    }
    fn rows(&self) -> usize {
        self.values.rows()
    }
    fn truncate(&mut self, rows: usize) {
        self.values.truncate(rows);
        self.validity.truncate(rows);
    }
    fn extend_from_column(&mut self, other: &Self) {
        self.values.extend_from_column(&other.values);
        self.validity.extend_from_bitmap(&other.validity);
    }
    fn slice(&self, range: Range<usize>) -> Self {
        OptColumn {
            values: self.values.slice(range.clone()),
            validity: self.validity.slice(range),
        }
    }
    fn check(&self) -> Result<()> {
        self.values.check()
    }
    fn check_rows(&self, path: &str, n: usize) -> Result<()> {
        self.values.check_rows(path, n)?;
        check_rows(&format!("{path}.validity"), self.validity.len(), n)
    }
    fn add_tensors<'a>(&'a self, path: &str, t: &mut TensorSet<'a>) {
        self.values.add_tensors(path, t);
        t.add_validity(path, &self.validity);
    }
    fn load(f: &TensorFile, path: &str, n: usize, spec: C::Spec) -> Result<Self> {
        Ok(OptColumn {
            values: C::load(f, path, n, spec)?,
            validity: f.validity(path, n)?,
        })
    }
    fn tensor_names(path: &str, out: &mut Vec<String>) {
        C::tensor_names(path, out);
        out.push(format!("{path}.validity"));
    }
    fn push_absent(&mut self) -> Result<()> {
        self.values.push_absent()?;
        self.validity.push(false);
        Ok(())
    }
}

impl<C: Column> OptColumn<C> {
    /// Appends an optional leaf's value: `push` for a present one (then a set bit), the
    /// absent row and a clear bit for `None`.
    #[inline]
    pub fn push_opt<V>(
        &mut self,
        v: Option<V>,
        push: impl FnOnce(&mut C, V) -> Result<()>,
    ) -> Result<()> {
        match v {
            Some(v) => {
                push(&mut self.values, v)?;
                self.validity.push(true);
                Ok(())
            }
            None => self.push_absent(),
        }
    }
}

impl<T: Element> FixedColumn<T> {
    /// Appends an array leaf's value after checking its shape against the schema's `dims`
    /// (`expected` as written in the schema, for the error).
    #[inline]
    pub fn push_array(
        &mut self,
        a: &crate::NdArray<T>,
        dims: &[Option<usize>],
        expected: &str,
    ) -> Result<()> {
        super::check_dims(a.shape(), dims, expected)?;
        self.push_row(a.as_slice())
    }
}

impl<T: Element> RaggedColumn<T> {
    /// Appends an array leaf's value (its shape becomes the row's shape) after checking the
    /// shape against the schema's `dims`.
    #[inline]
    pub fn push_array(
        &mut self,
        a: &crate::NdArray<T>,
        dims: &[Option<usize>],
        expected: &str,
    ) -> Result<()> {
        super::check_dims(a.shape(), dims, expected)?;
        self.push_row(a.shape(), a.as_slice())
    }
}

/// Runs one leaf's part of a generated `push_row`, putting the leaf's path on its error.
#[inline(always)]
pub fn at_leaf(path: &str, push: impl FnOnce() -> Result<()>) -> Result<()> {
    push().map_err(|e| e.at(path))
}

/// A `str` column may be appended to like the [`BinaryColumn`] it holds (generated
/// `push_row` writes UTF-8 only; [`Column::check`] verifies data from outside).
impl std::ops::DerefMut for StrColumn {
    fn deref_mut(&mut self) -> &mut BinaryColumn {
        &mut self.0
    }
}

/// Makes each column of a batch ([`Columns::build`]): from its path and schema spec.
pub trait BuildColumn {
    /// The column at `path`.
    fn col<C: Column>(&mut self, path: &str, spec: C::Spec) -> Result<C>;
}

/// Reads each column of a batch ([`Columns::visit`]).
pub trait VisitColumn<'a> {
    /// Called once per column, in leaf order.
    fn col<C: Column>(&mut self, path: &str, c: &'a C) -> Result<()>;
}

/// Changes each column of a batch in place ([`Columns::visit_mut`]).
pub trait VisitColumnMut {
    /// Called once per column, in leaf order.
    fn col<C: Column>(&mut self, c: &mut C);
}

/// Pairs each column of a batch with the same column of another ([`Columns::zip`]).
pub trait ZipColumn {
    /// Called once per column, in leaf order.
    fn col<C: Column>(&mut self, a: &mut C, b: &C);
}

/// The columns of one record's batch, implemented by the generated `<Name>Columns`.
///
/// The four visitors list the same columns in the same (leaf) order; the rest is the
/// schema-specific work of moving one sample into and out of the columns.
pub trait Columns: Clone + PartialEq + fmt::Debug + Sized {
    /// The record a row holds.
    type Sample: Default;
    /// A row borrowed from the columns.
    type Row<'a>
    where
        Self: 'a;

    /// The record's name (what `save` writes and `load` checks).
    const NAME: &'static str;
    /// The record's layout fingerprint (checked by `load`).
    const FINGERPRINT: &'static str;
    /// Leaf paths, one column each, in IR order.
    const LEAVES: &'static [&'static str];

    /// Every column, made by `b`.
    fn build<B: BuildColumn>(b: &mut B) -> Result<Self>;
    /// Every column, by reference.
    fn visit<'a, V: VisitColumn<'a>>(&'a self, v: &mut V) -> Result<()>;
    /// Every column, mutably.
    fn visit_mut<V: VisitColumnMut>(&mut self, v: &mut V);
    /// Every column beside the same column of `other`.
    fn zip<Z: ZipColumn>(&mut self, other: &Self, z: &mut Z);

    /// Appends one sample's values to every column. On error the columns may hold part of
    /// the row; [`Batch::push`] truncates them back.
    fn push_row(&mut self, s: &Self::Sample) -> Result<()>;
    /// Row `i` (in range) as a sample.
    fn decode_row(&self, i: usize) -> Result<Self::Sample>;
    /// Row `i` (in range), borrowed.
    fn row(&self, i: usize) -> Self::Row<'_>;
    /// A random sample (the record's own `random`).
    fn random_sample(rng: &mut Rng) -> Self::Sample;
    /// The record's own `validate` (shapes, named dims, `@range`, `@bits`).
    fn validate_sample(s: &Self::Sample) -> Result<()>;
}

struct WithCapacity(usize);

impl BuildColumn for WithCapacity {
    fn col<C: Column>(&mut self, _path: &str, spec: C::Spec) -> Result<C> {
        Ok(C::with_capacity(spec, self.0))
    }
}

struct Load<'f> {
    f: &'f TensorFile,
    n: usize,
    names: Vec<String>,
}

impl BuildColumn for Load<'_> {
    fn col<C: Column>(&mut self, path: &str, spec: C::Spec) -> Result<C> {
        C::tensor_names(path, &mut self.names);
        C::load(self.f, path, self.n, spec)
    }
}

struct Check(usize);

impl VisitColumn<'_> for Check {
    fn col<C: Column>(&mut self, path: &str, c: &C) -> Result<()> {
        c.check().map_err(|e| e.at(path))?;
        c.check_rows(path, self.0)
    }
}

struct Tensors<'a>(TensorSet<'a>);

impl<'a> VisitColumn<'a> for Tensors<'a> {
    fn col<C: Column>(&mut self, path: &str, c: &'a C) -> Result<()> {
        c.add_tensors(path, &mut self.0);
        Ok(())
    }
}

struct Truncate(usize);

impl VisitColumnMut for Truncate {
    fn col<C: Column>(&mut self, c: &mut C) {
        c.truncate(self.0);
    }
}

struct Extend;

impl ZipColumn for Extend {
    fn col<C: Column>(&mut self, a: &mut C, b: &C) {
        a.extend_from_column(b);
    }
}

struct Slice(Range<usize>);

impl ZipColumn for Slice {
    fn col<C: Column>(&mut self, a: &mut C, b: &C) {
        *a = b.slice(self.0.clone());
    }
}

/// A structure-of-arrays batch of `C::Sample`: one column per leaf, every buffer 64-byte
/// aligned. Generated code names it `<Name>Batch` (`pub type <Name>Batch =
/// Batch<<Name>Columns>`); it derefs to the columns, whose accessors the generated code
/// writes (`b.image()`, `b.mask_validity()`, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Batch<C> {
    len: usize,
    cols: C,
}

impl<C> Deref for Batch<C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.cols
    }
}

impl<C: Columns> Default for Batch<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Columns> Batch<C> {
    /// The record's name.
    pub const NAME: &'static str = C::NAME;
    /// The record's layout fingerprint (checked by [`Self::load`]).
    pub const FINGERPRINT: &'static str = C::FINGERPRINT;
    /// Leaf paths, one column each, in IR order.
    pub const LEAVES: &'static [&'static str] = C::LEAVES;

    /// An empty batch.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty batch with room for `n` rows in its fixed columns.
    pub fn with_capacity(n: usize) -> Self {
        match C::build(&mut WithCapacity(n)) {
            Ok(cols) => Batch { len: 0, cols },
            Err(e) => unreachable!("making empty columns cannot fail: {e}"),
        }
    }

    /// A batch over `cols` holding `len` rows, after the structural checks of
    /// [`Self::load`] (what `<Name>PackedBatch::unpack` builds its result with).
    pub fn from_columns(cols: C, len: usize) -> Result<Self> {
        let b = Batch { len, cols };
        b.check_columns()?;
        Ok(b)
    }

    /// The columns.
    pub fn columns(&self) -> &C {
        &self.cols
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch has no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len);
        self.cols.visit_mut(&mut Truncate(n));
        self.len = n;
    }

    /// Removes every row.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Appends one sample: one copy of each value into its column. On error (a shape that
    /// disagrees with the schema, or a value the layout cannot hold) nothing is appended.
    pub fn push(&mut self, s: &C::Sample) -> Result<()> {
        let n = self.len;
        match self.cols.push_row(s) {
            Ok(()) => {
                self.len = n + 1;
                Ok(())
            }
            Err(e) => {
                self.cols.visit_mut(&mut Truncate(n));
                Err(e.at_index(n).at(C::NAME))
            }
        }
    }

    /// Appends every row of `other`.
    pub fn extend_from_batch(&mut self, other: &Self) {
        self.cols.zip(&other.cols, &mut Extend);
        self.len += other.len;
    }

    /// Collates samples into a batch.
    pub fn from_samples(samples: &[C::Sample]) -> Result<Self> {
        let mut b = Self::with_capacity(samples.len());
        for s in samples {
            b.push(s)?;
        }
        Ok(b)
    }

    /// Splits the batch back into samples.
    pub fn to_samples(&self) -> Vec<C::Sample> {
        self.iter().collect()
    }

    /// Row `i` as a sample.
    ///
    /// # Panics
    /// If `i >= len()`. (Batches built by `push` or returned by `load` always decode; see
    /// [`Self::try_get`].)
    pub fn get(&self, i: usize) -> C::Sample {
        assert!(
            i < self.len,
            "row {i} out of range for a batch of {} rows",
            self.len
        );
        match self.try_get(i) {
            Ok(s) => s,
            Err(e) => panic!("{}: row {i} does not decode: {e}", C::NAME),
        }
    }

    /// Row `i` as a sample, or an error if `i` is out of range or the row does not decode.
    pub fn try_get(&self, i: usize) -> Result<C::Sample> {
        if i >= self.len {
            return Err(Error::custom(format!(
                "row {i} out of range for a batch of {} rows",
                self.len
            )));
        }
        self.cols
            .decode_row(i)
            .map_err(|e| e.at_index(i).at(C::NAME))
    }

    /// Row `i`, borrowed from the columns.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn row(&self, i: usize) -> C::Row<'_> {
        assert!(
            i < self.len,
            "row {i} out of range for a batch of {} rows",
            self.len
        );
        self.cols.row(i)
    }

    /// The samples, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = C::Sample> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }

    /// The borrowed rows, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = C::Row<'_>> + '_ {
        (0..self.len).map(move |i| self.row(i))
    }

    /// Rows `range`, copied into a new batch.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn slice(&self, range: Range<usize>) -> Self {
        assert!(
            range.start <= range.end && range.end <= self.len,
            "slice {range:?} out of range for a batch of {} rows",
            self.len
        );
        let mut out = Self::new();
        out.cols.zip(&self.cols, &mut Slice(range.clone()));
        out.len = range.len();
        out
    }

    /// `n` copies of the default sample.
    pub fn default(n: usize) -> Self {
        let one = C::Sample::default();
        let mut b = Self::with_capacity(n);
        for _ in 0..n {
            b.push(&one)
                .expect("the default sample fits the batch layout");
        }
        b
    }

    /// `n` random samples from a generator seeded with `seed` (the record's `random`
    /// samples, drawn one after the other).
    ///
    /// # Panics
    /// If a random sample does not fit the SoA layout (see the batch docs: a component
    /// array whose elements got different shapes).
    pub fn random(n: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut b = Self::with_capacity(n);
        for _ in 0..n {
            let s = C::random_sample(&mut rng);
            if let Err(e) = b.push(&s) {
                panic!("a random {} does not fit the batch layout: {e}", C::NAME);
            }
        }
        b
    }

    /// Checks the columns (row counts, offsets, shapes, UTF-8) and every row's sample (the
    /// record's `validate`: shapes, named dims, `@range`, `@bits`).
    pub fn validate(&self) -> Result<()> {
        self.check_columns()?;
        for i in 0..self.len {
            C::validate_sample(&self.try_get(i)?).map_err(|e| e.at_index(i).at(C::NAME))?;
        }
        Ok(())
    }

    fn check_columns(&self) -> Result<()> {
        self.cols.visit(&mut Check(self.len))
    }

    /// Every buffer as a named tensor (borrowed), for [`Self::save`] or custom writers.
    pub fn tensors(&self) -> TensorSet<'_> {
        let mut t = Tensors(TensorSet::new());
        match self.cols.visit(&mut t) {
            Ok(()) => t.0,
            Err(e) => unreachable!("listing tensors cannot fail: {e}"),
        }
    }

    /// The batch as the bytes of a safetensors file.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        self.tensors().to_bytes(C::NAME, C::FINGERPRINT, self.len)
    }

    /// Writes the batch as a safetensors file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.tensors()
            .save(path.as_ref(), C::NAME, C::FINGERPRINT, self.len)
    }

    /// Reads a batch written by [`Self::save`] (or the Python runtime): the record name and
    /// layout fingerprint must match, every tensor's dtype and shape is checked, and every
    /// row must decode.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_tensor_file(&TensorFile::open(path.as_ref())?)
    }

    /// [`Self::load`] from the bytes of a safetensors file.
    pub fn from_safetensors(bytes: Vec<u8>) -> Result<Self> {
        Self::from_tensor_file(&TensorFile::from_bytes(bytes)?)
    }

    /// [`Self::load`] from a parsed file.
    pub fn from_tensor_file(f: &TensorFile) -> Result<Self> {
        f.check_header(C::NAME, C::FINGERPRINT)?;
        let n = match (f.rows_hint()?, C::LEAVES.first()) {
            (Some(n), _) => n,
            (None, Some(first)) => f.rows_of(first).unwrap_or(0),
            (None, None) => 0,
        };
        let mut load = Load {
            f,
            n,
            names: Vec::new(),
        };
        let b = Batch {
            len: n,
            cols: C::build(&mut load)?,
        };
        b.check_columns()?;
        let names: Vec<&str> = load.names.iter().map(String::as_str).collect();
        f.check_names(&names)?;
        for i in 0..n {
            b.try_get(i)?;
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    //! A hand-written `Columns` (what the emitter generates for `{x: f32[2], name: str,
    //! m: u8[N]?}`), driving every provided method of `Batch`.
    use super::*;

    #[derive(Clone, Debug, Default, PartialEq)]
    struct S {
        x: [f32; 2],
        name: String,
        m: Option<Vec<u8>>,
    }

    #[derive(Clone, Debug, PartialEq)]
    struct Cols {
        x: FixedColumn<f32>,
        name: StrColumn,
        m: OptColumn<RaggedColumn<u8>>,
    }

    impl Columns for Cols {
        type Sample = S;
        type Row<'a> = (&'a [f32], &'a [u8]);
        const NAME: &'static str = "S";
        const FINGERPRINT: &'static str = "0123456789abcdef";
        const LEAVES: &'static [&'static str] = &["x", "name", "m"];
        fn build<B: BuildColumn>(b: &mut B) -> Result<Self> {
            Ok(Cols {
                x: b.col("x", &[2][..])?,
                name: b.col("name", ())?,
                m: b.col("m", 1)?,
            })
        }
        fn visit<'a, V: VisitColumn<'a>>(&'a self, v: &mut V) -> Result<()> {
            v.col("x", &self.x)?;
            v.col("name", &self.name)?;
            v.col("m", &self.m)
        }
        fn visit_mut<V: VisitColumnMut>(&mut self, v: &mut V) {
            v.col(&mut self.x);
            v.col(&mut self.name);
            v.col(&mut self.m);
        }
        fn zip<Z: ZipColumn>(&mut self, o: &Self, z: &mut Z) {
            z.col(&mut self.x, &o.x);
            z.col(&mut self.name, &o.name);
            z.col(&mut self.m, &o.m);
        }
        fn push_row(&mut self, s: &S) -> Result<()> {
            self.x.push_row(&s.x)?;
            self.name.0.push(s.name.as_bytes());
            // Fails after two columns took the row: `Batch::push` must roll them back.
            if s.name == "bad" {
                return Err(Error::custom("bad row"));
            }
            match &s.m {
                Some(m) => {
                    self.m.values.push_row(&[m.len()], m)?;
                    self.m.validity.push(true);
                }
                None => {
                    self.m.values.push_row(&[0], &[])?;
                    self.m.validity.push(false);
                }
            }
            Ok(())
        }
        fn decode_row(&self, i: usize) -> Result<S> {
            let x = self.x.row(i);
            Ok(S {
                x: [x[0], x[1]],
                name: self.name.row_str(i)?.to_owned(),
                m: self
                    .m
                    .validity
                    .get(i)
                    .then(|| self.m.values.row(i).to_vec()),
            })
        }
        fn row(&self, i: usize) -> (&[f32], &[u8]) {
            (self.x.row(i), self.name.row(i))
        }
        fn random_sample(rng: &mut Rng) -> S {
            let n = rng.below(4) as usize;
            S {
                x: [rng.below(100) as f32, 1.5],
                name: "r".repeat(n),
                m: (n % 2 == 1).then(|| vec![n as u8; n]),
            }
        }
        fn validate_sample(_: &S) -> Result<()> {
            Ok(())
        }
    }

    fn samples() -> Vec<S> {
        (0..5)
            .map(|i| S {
                x: [i as f32, -(i as f32)],
                name: "é".repeat(i),
                m: (i % 2 == 0).then(|| vec![i as u8; i + 1]),
            })
            .collect()
    }

    #[test]
    fn collate_split_slice_extend() {
        let s = samples();
        let b = Batch::<Cols>::from_samples(&s).unwrap();
        assert_eq!(b.len(), 5);
        assert_eq!(b.to_samples(), s);
        assert_eq!(b.row(3), (&[3.0f32, -3.0][..], "ééé".as_bytes()));
        assert_eq!(b.slice(1..4).to_samples(), s[1..4].to_vec());
        let mut j = b.slice(0..2);
        j.extend_from_batch(&b.slice(2..5));
        assert_eq!(j, b);
        assert!(b.try_get(5).is_err());
        assert_eq!(
            b.m.validity.iter().collect::<Vec<_>>(),
            [true, false, true, false, true]
        );
        assert_eq!(
            Batch::<Cols>::default(2).to_samples(),
            vec![S::default(); 2]
        );
        assert_eq!(Batch::<Cols>::random(6, 9), Batch::<Cols>::random(6, 9));
        b.validate().unwrap();
    }

    #[test]
    fn failed_push_appends_nothing() {
        let mut b = Batch::<Cols>::from_samples(&samples()).unwrap();
        let before = b.clone();
        let bad = S {
            name: "bad".into(),
            ..S::default()
        };
        let e = b.push(&bad).unwrap_err();
        assert!(e.to_string().contains("bad row"), "{e}");
        assert_eq!(b, before);
        assert_eq!(b.x.len(), 5);
        assert_eq!(b.name.len(), 5);
    }

    #[test]
    fn safetensors_round_trip_and_checks() {
        let b = Batch::<Cols>::from_samples(&samples()).unwrap();
        let bytes = b.to_safetensors().unwrap();
        let f = TensorFile::from_bytes(bytes.clone()).unwrap();
        assert_eq!(
            f.names(),
            [
                "m",
                "m.offsets",
                "m.shapes",
                "m.validity",
                "name",
                "name.offsets",
                "x"
            ]
        );
        assert_eq!(Batch::<Cols>::from_safetensors(bytes).unwrap(), b);
        // A batch whose validity lost a row fails the structural check by name.
        let mut cols = b.columns().clone();
        cols.m.validity.truncate(4);
        let e = Batch::from_columns(cols, 5).unwrap_err();
        assert!(e.to_string().contains("m.validity"), "{e}");
        // Non-UTF-8 in a str column is found by the check.
        let mut cols = b.columns().clone();
        cols.name = StrColumn(BinaryColumn::new());
        for _ in 0..5 {
            cols.name.0.push(&[0xff]);
        }
        assert!(Batch::from_columns(cols, 5).is_err());
    }
}

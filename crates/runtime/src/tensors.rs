//! Batches as safetensors files: what generated `<Name>Batch::save` / `load` call.
//!
//! Naming (the same as the Python runtime's `schemac_runtime/batch.py`): one tensor per buffer,
//! named by the leaf's dotted path.
//!
//! | column | tensors |
//! |---|---|
//! | fixed | `<path>`: dtype of the leaf, shape `[n, ...shape]` |
//! | ragged | `<path>`: 1-d values; `<path>.offsets`: i64 `[n + 1]` (elements); `<path>.shapes`: i64 `[n, ndim]` |
//! | binary (str/bytes) | `<path>`: u8 1-d values; `<path>.offsets`: i64 `[n + 1]` (bytes) |
//! | encoded (lists, maps) | same as binary; each row is its msgpack |
//! | optional leaves | also `<path>.validity`: u8 `[n]`, one byte per row, 1 = present, 0 = absent |
//!
//! bool leaves are safetensors `BOOL`, f16 `F16`, bf16 `BF16`; enums are their `repr`
//! (the variant index). The header metadata holds `schemac_sample` (the record name),
//! `schemac_fingerprint` (its 16-hex-digit layout fingerprint) and `schemac_rows` (`n`,
//! decimal). [`TensorFile::check_header`] refuses a file of another record or layout.
//!
//! Owns [`TensorSet`] (collects borrowed column buffers, then writes one file) and
//! [`TensorFile`] (a loaded file: typed, shape-checked column reconstruction).
//!
//! Reading follows docs/language.md, "Safetensors files", in step with the Python runtime:
//! a broken file (header length, JSON, offsets that are not integers or do not tile the
//! data, a dtype schemac does not use) is `corrupt_archive`; a tensor name given twice is
//! `bad_key` (JSON parsers keep the last one silently); another record or layout is
//! `fingerprint_mismatch`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype as StDtype, SafeTensors, View};

use crate::array::Element;
use crate::batch::{AlignedVec, BinaryColumn, Bitmap, FixedColumn, RaggedColumn};
use crate::dtype::Dtype;
use crate::error::{Error, ErrorKind, Result};

/// Metadata key holding the record name.
pub const META_SAMPLE: &str = "schemac_sample";
/// Metadata key holding the record's layout fingerprint.
pub const META_FINGERPRINT: &str = "schemac_fingerprint";
/// Metadata key holding the row count.
pub const META_ROWS: &str = "schemac_rows";

/// The safetensors dtype of a schemac dtype.
pub fn st_dtype(d: Dtype) -> StDtype {
    match d {
        Dtype::Bool => StDtype::BOOL,
        Dtype::I8 => StDtype::I8,
        Dtype::I16 => StDtype::I16,
        Dtype::I32 => StDtype::I32,
        Dtype::I64 => StDtype::I64,
        Dtype::U8 => StDtype::U8,
        Dtype::U16 => StDtype::U16,
        Dtype::U32 => StDtype::U32,
        Dtype::U64 => StDtype::U64,
        Dtype::F16 => StDtype::F16,
        Dtype::Bf16 => StDtype::BF16,
        Dtype::F32 => StDtype::F32,
        Dtype::F64 => StDtype::F64,
    }
}

#[cold]
fn tensor_error(msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Custom(format!("safetensors: {msg}")))
}

#[cold]
fn corrupt(msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::CorruptArchive(format!("safetensors: {msg}")))
}

/// The safetensors format's header size limit (the crate's `MAX_HEADER_SIZE`).
const MAX_HEADER: u64 = 100_000_000;

/// Checks what the `safetensors` crate lets through: the header's top-level keys must be
/// unique (serde keeps the last of a repeated key). Runs after the same length and JSON
/// checks the crate makes, so each file gets one kind whichever check sees it first.
fn check_header_keys(bytes: &[u8]) -> Result<()> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};

    let n = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(|| corrupt("the file is shorter than its 8-byte header length"))?;
    if n > MAX_HEADER {
        return Err(corrupt(format!(
            "header length {n} is above the format's limit"
        )));
    }
    let text = bytes
        .get(8..8 + n as usize)
        .ok_or_else(|| corrupt(format!("header length {n} runs past the end")))?;
    let text = std::str::from_utf8(text).map_err(|e| corrupt(format!("header: {e}")))?;
    serde_json::from_str::<IgnoredAny>(text).map_err(|e| corrupt(format!("header: {e}")))?;

    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        /// The first key given twice.
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut dup = None;
            while let Some(k) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(k.clone()) && dup.is_none() {
                    dup = Some(k);
                }
            }
            Ok(dup)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match de.deserialize_map(Keys) {
        Err(e) => Err(corrupt(format!("header: {e}"))),
        Ok(None) => Ok(()),
        Ok(Some(k)) if k == "__metadata__" => {
            Err(corrupt("the header has the key \"__metadata__\" twice"))
        }
        Ok(Some(k)) => Err(Error::new(ErrorKind::BadKey(format!(
            "safetensors: the header has the tensor name {k:?} twice"
        )))),
    }
}

/// One tensor to write: dtype, shape, little-endian bytes (borrowed where possible).
struct Entry<'a> {
    dtype: StDtype,
    shape: Vec<usize>,
    data: Cow<'a, [u8]>,
}

impl View for &Entry<'_> {
    fn dtype(&self) -> StDtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

/// The tensors of one batch, borrowed from its columns until written.
pub struct TensorSet<'a> {
    entries: Vec<(String, Entry<'a>)>,
}

impl<'a> TensorSet<'a> {
    pub fn new() -> Self {
        TensorSet {
            entries: Vec::new(),
        }
    }

    /// Adds a tensor of `shape` over `data` (C order).
    ///
    /// # Panics
    /// If `data.len()` is not the product of `shape` (a caller bug).
    pub fn add<T: Element>(&mut self, name: impl Into<String>, shape: Vec<usize>, data: &'a [T]) {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "TensorSet::add: shape and data disagree"
        );
        self.entries.push((
            name.into(),
            Entry {
                dtype: st_dtype(T::DTYPE),
                shape,
                data: crate::array::as_le_bytes(data),
            },
        ));
    }

    /// Adds a tensor from raw little-endian bytes (for tools that copy or patch files).
    ///
    /// # Errors
    /// If `bytes.len()` is not `product(shape) · dtype.size()`.
    pub fn add_raw(
        &mut self,
        name: impl Into<String>,
        dtype: Dtype,
        shape: Vec<usize>,
        bytes: Vec<u8>,
    ) -> Result<()> {
        let want = shape.iter().product::<usize>() as u128 * u128::from(dtype.size());
        if want != bytes.len() as u128 {
            return Err(tensor_error(format!(
                "{} bytes cannot hold {dtype} {shape:?}",
                bytes.len()
            )));
        }
        self.add_owned(name.into(), st_dtype(dtype), shape, bytes);
        Ok(())
    }

    /// Adds a tensor that owns its bytes (validity bytes, ...).
    fn add_owned(&mut self, name: String, dtype: StDtype, shape: Vec<usize>, data: Vec<u8>) {
        self.entries.push((
            name,
            Entry {
                dtype,
                shape,
                data: Cow::Owned(data),
            },
        ));
    }

    /// `<path>`: `[n, ...row_shape]`.
    pub fn add_fixed<T: Element>(&mut self, path: &str, col: &'a FixedColumn<T>) {
        self.add(path, col.shape(), col.values());
    }

    /// `<path>` (1-d values), `<path>.offsets` (`[n + 1]`), `<path>.shapes` (`[n, ndim]`).
    pub fn add_ragged<T: Element>(&mut self, path: &str, col: &'a RaggedColumn<T>) {
        self.add(path, vec![col.values().len()], col.values());
        self.add(
            format!("{path}.offsets"),
            vec![col.len() + 1],
            col.offsets().as_slice(),
        );
        self.add(
            format!("{path}.shapes"),
            vec![col.len(), col.ndim()],
            col.shapes(),
        );
    }

    /// `<path>` (u8 values), `<path>.offsets` (`[n + 1]`).
    pub fn add_binary(&mut self, path: &str, col: &'a BinaryColumn) {
        self.add(path, vec![col.values().len()], col.values());
        self.add(
            format!("{path}.offsets"),
            vec![col.len() + 1],
            col.offsets().as_slice(),
        );
    }

    /// `<path>.validity`: u8 `[n]`, one byte per row (0 absent, 1 present).
    pub fn add_validity(&mut self, path: &str, bitmap: &Bitmap) {
        self.add_owned(
            format!("{path}.validity"),
            StDtype::U8,
            vec![bitmap.len()],
            bitmap.to_row_bytes(),
        );
    }

    fn metadata(sample: &str, fingerprint: &str, rows: usize) -> BTreeMap<String, String> {
        BTreeMap::from([
            (META_SAMPLE.to_owned(), sample.to_owned()),
            (META_FINGERPRINT.to_owned(), fingerprint.to_owned()),
            (META_ROWS.to_owned(), rows.to_string()),
        ])
    }

    /// The safetensors file as bytes. Equal batches give equal bytes: the metadata is
    /// written with sorted keys (the `safetensors` crate takes a `HashMap` and writes it in
    /// its random iteration order, so two saves of one batch used to differ).
    pub fn to_bytes(&self, sample: &str, fingerprint: &str, rows: usize) -> Result<Vec<u8>> {
        let meta = Self::metadata(sample, fingerprint, rows);
        let views = self.entries.iter().map(|(n, e)| (n.as_str(), e));
        let hashed: HashMap<String, String> = meta.clone().into_iter().collect();
        let bytes = safetensors::tensor::serialize(views, Some(hashed)).map_err(tensor_error)?;
        Ok(sorted_metadata(bytes, &meta))
    }

    /// Writes the safetensors file at `path` (the bytes of [`TensorSet::to_bytes`]).
    pub fn save(&self, path: &Path, sample: &str, fingerprint: &str, rows: usize) -> Result<()> {
        let bytes = self.to_bytes(sample, fingerprint, rows)?;
        std::fs::write(path, bytes).map_err(|e| tensor_error(format!("{}: {e}", path.display())))
    }
}

/// Rewrites the `__metadata__` object that `safetensors::serialize` puts first in the
/// header with its keys sorted. The pairs are the same, so the text has the same length
/// and nothing else moves; bytes that are not laid out that way are returned as they are.
fn sorted_metadata(mut bytes: Vec<u8>, meta: &BTreeMap<String, String>) -> Vec<u8> {
    const PREFIX: &[u8] = b"{\"__metadata__\":";
    let Ok(sorted) = serde_json::to_string(meta) else {
        return bytes;
    };
    let start = 8 + PREFIX.len();
    let end = start + sorted.len();
    if bytes.get(8..start) != Some(PREFIX) || bytes.len() < end {
        return bytes;
    }
    let same = serde_json::from_slice::<BTreeMap<String, String>>(&bytes[start..end])
        .is_ok_and(|m| &m == meta);
    if same {
        bytes[start..end].copy_from_slice(sorted.as_bytes());
    }
    bytes
}

impl Default for TensorSet<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// A loaded safetensors file, indexed by tensor name.
pub struct TensorFile {
    bytes: Vec<u8>,
    metadata: HashMap<String, String>,
    index: HashMap<String, (StDtype, Vec<usize>)>,
}

impl TensorFile {
    /// Reads and parses the file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).map_err(|e| tensor_error(format!("{}: {e}", path.display())))?;
        Self::from_bytes(bytes)
    }

    /// Parses a file's bytes (header checked by the safetensors crate: offsets in bounds,
    /// no overlaps, sizes consistent with dtypes and shapes).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        check_header_keys(&bytes)?;
        let st = SafeTensors::deserialize(&bytes).map_err(corrupt)?;
        let index: HashMap<String, (StDtype, Vec<usize>)> = st
            .iter()
            .map(|(name, v)| (name.to_owned(), (v.dtype(), v.shape().to_vec())))
            .collect();
        let mut names: Vec<&String> = index.keys().collect();
        names.sort_unstable();
        for name in names {
            let dtype = index[name].0;
            if !Dtype::ALL.into_iter().any(|d| st_dtype(d) == dtype) {
                return Err(corrupt(format!(
                    "tensor {name:?} has dtype {dtype:?}, which schemac does not use"
                )));
            }
        }
        let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(corrupt)?;
        let metadata = meta.metadata().clone().unwrap_or_default();
        Ok(TensorFile {
            bytes,
            metadata,
            index,
        })
    }

    /// The header's free-form metadata.
    pub fn metadata(&self) -> &HashMap<String, String> {
        &self.metadata
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.index.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Errors (`bad_key`) when the file holds a tensor that is not in `expected`: a batch
    /// file has exactly its layout's buffers, so an extra one means another writer or schema.
    pub fn check_names(&self, expected: &[&str]) -> Result<()> {
        match self.names().into_iter().find(|n| !expected.contains(n)) {
            Some(unknown) => Err(Error::new(ErrorKind::BadKey(format!(
                "safetensors: unknown tensor {unknown:?} (not in this record's layout)"
            )))),
            None => Ok(()),
        }
    }

    /// Errors unless the metadata names record `sample` with layout `fingerprint`.
    pub fn check_header(&self, sample: &str, fingerprint: &str) -> Result<()> {
        let get = |k: &str| self.metadata.get(k).map(String::as_str);
        let mismatch = |msg: String| {
            Error::new(ErrorKind::FingerprintMismatch(format!(
                "safetensors: {msg}"
            )))
        };
        match get(META_SAMPLE) {
            Some(s) if s == sample => {}
            other => {
                return Err(mismatch(format!(
                    "file holds {other:?}, not a batch of {sample}"
                )))
            }
        }
        match get(META_FINGERPRINT) {
            Some(f) if f == fingerprint => Ok(()),
            other => Err(mismatch(format!(
                "layout fingerprint {other:?} differs from {sample}'s {fingerprint}: the file was written with another version of the schema"
            ))),
        }
    }

    /// The row count: `schemac_rows` when present, else `None`.
    pub fn rows_hint(&self) -> Result<Option<usize>> {
        match self.metadata.get(META_ROWS) {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| corrupt(format!("bad {META_ROWS} {s:?}"))),
        }
    }

    /// Tensor `name` as schemac dtype, shape and raw little-endian bytes (a copy).
    pub fn raw(&self, name: &str) -> Result<(Dtype, Vec<usize>, Vec<u8>)> {
        let (dtype, shape) = self
            .index
            .get(name)
            .ok_or_else(|| corrupt(format!("missing tensor {name:?}")))?;
        let d = Dtype::ALL
            .into_iter()
            .find(|d| st_dtype(*d) == *dtype)
            .ok_or_else(|| {
                tensor_error(format!(
                    "tensor {name:?} has dtype {dtype:?}, which schemac does not use"
                ))
            })?;
        let st = SafeTensors::deserialize(&self.bytes).map_err(tensor_error)?;
        let view = st.tensor(name).map_err(tensor_error)?;
        Ok((d, shape.clone(), view.data().to_vec()))
    }

    /// The shape of tensor `name`, if present.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.index.get(name).map(|(_, s)| s.as_slice())
    }

    /// Tensor `name` as `T`s, with its shape; errors if absent or of another dtype.
    pub fn tensor<T: Element>(&self, name: &str) -> Result<(AlignedVec<T>, Vec<usize>)> {
        let (dtype, shape) = self
            .index
            .get(name)
            .ok_or_else(|| corrupt(format!("missing tensor {name:?}")))?;
        let want = st_dtype(T::DTYPE);
        if *dtype != want {
            return Err(corrupt(format!(
                "tensor {name:?} has dtype {dtype:?}, expected {want:?}"
            )));
        }
        let st = SafeTensors::deserialize(&self.bytes).map_err(tensor_error)?;
        let view = st.tensor(name).map_err(tensor_error)?;
        let data = AlignedVec::from_le_bytes(view.data()).map_err(|e| e.at(name))?;
        Ok((data, shape.clone()))
    }

    // A tensor that is missing or has another dtype or shape than the layout the file's
    // fingerprint names is a broken file (`corrupt_archive`), as in the Python runtime.
    fn expect_shape(name: &str, found: &[usize], expected: &[usize]) -> Result<()> {
        if found != expected {
            return Err(corrupt(format!(
                "tensor {name:?} has shape {found:?}, expected {expected:?}"
            )));
        }
        Ok(())
    }

    /// The row count of fixed column `path` (its first dim), when present.
    pub fn rows_of(&self, path: &str) -> Option<usize> {
        if let Some(s) = self.shape(&format!("{path}.offsets")) {
            return s.first().map(|&d| d.saturating_sub(1));
        }
        self.shape(path).and_then(|s| s.first().copied())
    }

    /// Fixed column `path`: shape `[n, ...row_shape]`.
    pub fn fixed<T: Element>(
        &self,
        path: &str,
        n: usize,
        row_shape: &[usize],
    ) -> Result<FixedColumn<T>> {
        let (values, shape) = self.tensor::<T>(path)?;
        let mut want = vec![n];
        want.extend_from_slice(row_shape);
        Self::expect_shape(path, &shape, &want)?;
        FixedColumn::from_values(row_shape.to_vec(), values, n).map_err(|e| e.at(path))
    }

    /// Ragged column `path`: `<path>` 1-d, `<path>.offsets` `[n + 1]`, `<path>.shapes` `[n, ndim]`.
    pub fn ragged<T: Element>(&self, path: &str, n: usize, ndim: usize) -> Result<RaggedColumn<T>> {
        let (values, shape) = self.tensor::<T>(path)?;
        Self::expect_shape(path, &shape, &[values.len()])?;
        let oname = format!("{path}.offsets");
        let (offsets, oshape) = self.tensor::<i64>(&oname)?;
        Self::expect_shape(&oname, &oshape, &[n + 1])?;
        let sname = format!("{path}.shapes");
        let (shapes, sshape) = self.tensor::<i64>(&sname)?;
        Self::expect_shape(&sname, &sshape, &[n, ndim])?;
        RaggedColumn::from_parts(ndim, values, &offsets, shapes).map_err(|e| e.at(path))
    }

    /// Binary / encoded column `path`: `<path>` u8 1-d, `<path>.offsets` `[n + 1]`.
    pub fn binary(&self, path: &str, n: usize) -> Result<BinaryColumn> {
        let (values, shape) = self.tensor::<u8>(path)?;
        Self::expect_shape(path, &shape, &[values.len()])?;
        let oname = format!("{path}.offsets");
        let (offsets, oshape) = self.tensor::<i64>(&oname)?;
        Self::expect_shape(&oname, &oshape, &[n + 1])?;
        BinaryColumn::from_parts(values, &offsets).map_err(|e| e.at(path))
    }

    /// `<path>.validity`: u8 `[n]` of 0/1.
    pub fn validity(&self, path: &str, n: usize) -> Result<Bitmap> {
        let name = format!("{path}.validity");
        let (bytes, shape) = self.tensor::<u8>(&name)?;
        Self::expect_shape(&name, &shape, &[n])?;
        Bitmap::from_row_bytes(&bytes).map_err(|e| e.at(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_that_do_not_fit_the_layout_are_corrupt_archives() {
        let col: FixedColumn<u8> = {
            let mut c = FixedColumn::new(vec![]);
            c.push_row(&[1]).unwrap();
            c.push_row(&[2]).unwrap();
            c
        };
        let mut set = TensorSet::new();
        set.add_fixed("v", &col);
        let f = TensorFile::from_bytes(set.to_bytes("S", "0123456789abcdef", 2).unwrap()).unwrap();
        let code = |r: Result<()>| r.unwrap_err().code();
        assert_eq!(code(f.tensor::<u8>("w").map(drop)), "corrupt_archive");
        assert_eq!(code(f.tensor::<i8>("v").map(drop)), "corrupt_archive");
        assert_eq!(
            code(f.fixed::<u8>("v", 3, &[]).map(drop)),
            "corrupt_archive"
        );
        assert_eq!(f.fixed::<u8>("v", 2, &[]).unwrap().len(), 2);
    }

    #[test]
    fn round_trip_every_column_kind() {
        let mut fixed: FixedColumn<f32> = FixedColumn::new(vec![2]);
        fixed.push_row(&[1.0, 2.0]).unwrap();
        fixed.push_row(&[3.0, 4.0]).unwrap();
        let mut ragged: RaggedColumn<i16> = RaggedColumn::new(1);
        ragged.push_row(&[3], &[1, -2, 3]).unwrap();
        ragged.push_row(&[0], &[]).unwrap();
        let mut bin = BinaryColumn::new();
        bin.push(b"ab");
        bin.push(b"");
        let valid: Bitmap = [true, false].into_iter().collect();
        let mut set = TensorSet::new();
        set.add_fixed("a.b", &fixed);
        set.add_ragged("r", &ragged);
        set.add_binary("s", &bin);
        set.add_validity("r", &valid);
        let bytes = set.to_bytes("S", "0123456789abcdef", 2).unwrap();
        let f = TensorFile::from_bytes(bytes).unwrap();
        f.check_header("S", "0123456789abcdef").unwrap();
        assert!(f.check_header("T", "0123456789abcdef").is_err());
        assert!(f.check_header("S", "fedcba9876543210").is_err());
        assert_eq!(f.rows_hint().unwrap(), Some(2));
        assert_eq!(
            f.names(),
            vec![
                "a.b",
                "r",
                "r.offsets",
                "r.shapes",
                "r.validity",
                "s",
                "s.offsets"
            ]
        );
        assert_eq!(f.fixed::<f32>("a.b", 2, &[2]).unwrap(), fixed);
        assert!(f.fixed::<f64>("a.b", 2, &[2]).is_err(), "dtype checked");
        assert!(f.fixed::<f32>("a.b", 2, &[1, 2]).is_err(), "shape checked");
        assert_eq!(f.ragged::<i16>("r", 2, 1).unwrap(), ragged);
        assert_eq!(f.binary("s", 2).unwrap(), bin);
        assert_eq!(f.validity("r", 2).unwrap(), valid);
        assert!(f.binary("missing", 2).is_err());
        let (d, shape, bytes) = f.raw("r.offsets").unwrap();
        assert_eq!((d, shape, bytes.len()), (Dtype::I64, vec![3], 24));
        let mut copy = TensorSet::new();
        for name in f.names() {
            let (d, shape, bytes) = f.raw(name).unwrap();
            copy.add_raw(name, d, shape, bytes).unwrap();
        }
        assert!(copy.add_raw("x", Dtype::F32, vec![2], vec![0; 7]).is_err());
        let again =
            TensorFile::from_bytes(copy.to_bytes("S", "0123456789abcdef", 2).unwrap()).unwrap();
        assert_eq!(again.ragged::<i16>("r", 2, 1).unwrap(), ragged);
        assert_eq!(f.rows_of("r"), Some(2));
        assert_eq!(f.rows_of("a.b"), Some(2));
    }

    #[test]
    fn rejects_garbage() {
        assert!(TensorFile::from_bytes(vec![1, 2, 3]).is_err());
        assert!(TensorFile::from_bytes(Vec::new()).is_err());
    }
}

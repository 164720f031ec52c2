/// Structure-of-arrays batch of [`{{ m.name }}`] ({{ m.kind }}, DESIGN §5): one column per
/// leaf, every buffer 64-byte aligned (ready for numpy, SIMD or a GPU copy without a copy).
///
/// Columns, by leaf path:
{%- for c in m.cols %}
/// - {{ c.doc }}
{%- endfor %}
///
/// Absent optional values are stored as zeros (fixed), an all-zero shape and no elements
/// (ragged), or no bytes (binary, encoded), with a 0 in the validity bitmap. A component is
/// absent exactly when every leaf under it is. Inside a component array an optional value
/// must be present in every element or in none, and a dynamic dim must have one size across
/// the elements: `push` reports other samples as errors.
///
/// Column accessors are named after the leaf path with `.` replaced by `__`
/// (`history.xyz` → `history__xyz()`): fixed leaves give `(values, [n, ...shape])`,
/// ragged leaves their `schemac_runtime::batch::RaggedColumn`, str/bytes/encoded leaves
/// their `schemac_runtime::batch::BinaryColumn`, and optional leaves add
/// `<leaf>_validity()`. An accessor whose name would clash with a batch
/// method gets a `_leaf` suffix.
///
/// `save` / `load` use safetensors: one tensor per buffer (`<path>`, `<path>.offsets`,
/// `<path>.shapes`, `<path>.validity`), metadata `schemac_sample`, `schemac_fingerprint`
/// and `schemac_rows`.
#[derive(Clone, Debug, PartialEq)]
#[allow(non_snake_case)]
pub struct {{ m.batch }} {
    len: usize,
{%- for c in m.cols %}
    {{ c.col }}: {{ c.col_ty }},
{%- if let Some(v) = c.valid %}
    {{ v }}: ::schemac_runtime::batch::Bitmap,
{%- endif %}
{%- endfor %}
}

/// One row of a [`{{ m.batch }}`], borrowed: slices into the columns (see the batch docs for
/// each leaf's form; enums are their variant index, encoded leaves their msgpack).
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(non_snake_case)]
pub struct {{ m.row }}<'a> {
{%- for c in m.cols %}
    /// `{{ c.path }}`
    pub {{ c.row_field }}: {{ c.row_ty }},
{%- endfor %}
{%- if m.row_needs_marker %}
    _batch: ::std::marker::PhantomData<&'a ()>,
{%- endif %}
}

impl Default for {{ m.batch }} {
    fn default() -> Self {
        Self::new()
    }
}

#[allow(non_snake_case)]
impl {{ m.batch }} {
    /// The record's name.
    pub const NAME: &'static str = {{ "{:?}"|format(m.schema_name) }};
    /// The record's layout fingerprint (checked by [`Self::load`]).
    pub const FINGERPRINT: &'static str = {{ "{:?}"|format(m.fingerprint) }};
    /// Leaf paths, one column each, in IR order.
    pub const LEAVES: &'static [&'static str] = &[{{ m.leaves_list }}];

    /// An empty batch.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty batch with room for `n` rows in its fixed columns.
    pub fn with_capacity(n: usize) -> Self {
        {%- if m.cols.is_empty() %}
        let _ = n;
        {%- endif %}
        Self {
            len: 0,
{%- for c in m.cols %}
            {{ c.col }}: {{ c.init }},
{%- if let Some(v) = c.valid %}
            {{ v }}: ::schemac_runtime::batch::Bitmap::with_capacity(n),
{%- endif %}
{%- endfor %}
        }
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
{%- for c in m.cols %}
        self.{{ c.col }}.truncate(n);
{%- if let Some(v) = c.valid %}
        self.{{ v }}.truncate(n);
{%- endif %}
{%- endfor %}
        self.len = n;
    }

    /// Removes every row.
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Appends one sample: one copy of each value into its column. On error (a shape that
    /// disagrees with the schema, or a value the layout cannot hold) nothing is appended.
    pub fn push(&mut self, s: &{{ m.name }}) -> ::schemac_runtime::Result<()> {
        let n = self.len;
        match self.push_all(s) {
            Ok(()) => {
                self.len = n + 1;
                Ok(())
            }
            Err(e) => {
                self.truncate_columns(n);
                Err(e.at_index(n).at(Self::NAME))
            }
        }
    }

    fn push_all(&mut self, s: &{{ m.name }}) -> ::schemac_runtime::Result<()> {
        {{ m.opt_check }}
        {%- if m.cols.is_empty() %}
        let _ = s;
        {%- endif %}
{%- for c in m.cols %}
        self.{{ c.push_fn }}(s).map_err(|e| e.at({{ "{:?}"|format(c.path) }}))?;
{%- endfor %}
        Ok(())
    }

    fn truncate_columns(&mut self, n: usize) {
        {%- if m.cols.is_empty() %}
        let _ = n;
        {%- endif %}
{%- for c in m.cols %}
        self.{{ c.col }}.truncate(n);
{%- if let Some(v) = c.valid %}
        self.{{ v }}.truncate(n);
{%- endif %}
{%- endfor %}
    }
{% for c in m.cols %}
    fn {{ c.push_fn }}(&mut self, s: &{{ m.name }}) -> ::schemac_runtime::Result<()> {
        {{ c.push_body }}
    }
{% endfor %}
    /// Appends every row of `other`.
    pub fn extend_from_batch(&mut self, other: &Self) {
{%- for c in m.cols %}
        self.{{ c.col }}.extend_from_column(&other.{{ c.col }});
{%- if let Some(v) = c.valid %}
        self.{{ v }}.extend_from_bitmap(&other.{{ v }});
{%- endif %}
{%- endfor %}
        self.len += other.len;
    }

    /// Collates samples into a batch.
    pub fn from_samples(samples: &[{{ m.name }}]) -> ::schemac_runtime::Result<Self> {
        let mut b = Self::with_capacity(samples.len());
        for s in samples {
            b.push(s)?;
        }
        Ok(b)
    }

    /// Splits the batch back into samples.
    pub fn to_samples(&self) -> Vec<{{ m.name }}> {
        self.iter().collect()
    }

    /// Row `i` as a sample.
    ///
    /// # Panics
    /// If `i >= len()`. (Batches built by `push` or returned by `load` always decode; see
    /// [`Self::try_get`].)
    pub fn get(&self, i: usize) -> {{ m.name }} {
        assert!(i < self.len, "row {i} out of range for a batch of {} rows", self.len);
        match self.try_get(i) {
            Ok(s) => s,
            Err(e) => panic!("{}: row {i} does not decode: {e}", Self::NAME),
        }
    }

    /// Row `i` as a sample, or an error if `i` is out of range or the row does not decode.
    pub fn try_get(&self, i: usize) -> ::schemac_runtime::Result<{{ m.name }}> {
        if i >= self.len {
            return Err(::schemac_runtime::Error::custom(format!("row {i} out of range for a batch of {} rows", self.len)));
        }
        self.decode_row(i).map_err(|e| e.at_index(i).at(Self::NAME))
    }

    fn decode_row(&self, i: usize) -> ::schemac_runtime::Result<{{ m.name }}> {
        {% if m.cols.is_empty() %}let _ = i;{% endif %}
        {{ m.get_body }}
    }

    /// Row `i`, borrowed from the columns.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn row(&self, i: usize) -> {{ m.row }}<'_> {
        assert!(i < self.len, "row {i} out of range for a batch of {} rows", self.len);
        {{ m.row }} {
{%- for c in m.cols %}
            {{ c.row_field }}: {{ c.row_expr }},
{%- endfor %}
{%- if m.row_needs_marker %}
            _batch: ::std::marker::PhantomData,
{%- endif %}
        }
    }

    /// The samples, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = {{ m.name }}> + '_ {
        (0..self.len).map(move |i| self.get(i))
    }

    /// The borrowed rows, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = {{ m.row }}<'_>> + '_ {
        (0..self.len).map(move |i| self.row(i))
    }

    /// Rows `range`, copied into a new batch.
    ///
    /// # Panics
    /// If the range is out of bounds.
    pub fn slice(&self, range: ::std::ops::Range<usize>) -> Self {
        assert!(range.start <= range.end && range.end <= self.len, "slice {range:?} out of range for a batch of {} rows", self.len);
        Self {
            len: range.len(),
{%- for c in m.cols %}
            {{ c.col }}: self.{{ c.col }}.slice(range.clone()),
{%- if let Some(v) = c.valid %}
            {{ v }}: self.{{ v }}.slice(range.clone()),
{%- endif %}
{%- endfor %}
        }
    }

    /// `n` copies of the default sample.
    pub fn default(n: usize) -> Self {
        let one = {{ m.name }}::default();
        let mut b = Self::with_capacity(n);
        for _ in 0..n {
            b.push(&one).expect("the default sample fits the batch layout");
        }
        b
    }

    /// `n` random samples from a generator seeded with `seed` (the samples of
    /// `{{ m.name }}::random`, drawn one after the other).
    ///
    /// # Panics
    /// If a random sample does not fit the SoA layout (see the type's docs: a component
    /// array whose elements got different shapes).
    pub fn random(n: usize, seed: u64) -> Self {
        let mut rng = ::schemac_runtime::rng::Rng::new(seed);
        let mut b = Self::with_capacity(n);
        for _ in 0..n {
            let s = {{ m.name }}::random(&mut rng);
            if let Err(e) = b.push(&s) {
                panic!("a random {} does not fit the batch layout: {e}", Self::NAME);
            }
        }
        b
    }

    /// Checks the columns (row counts, offsets, shapes, UTF-8) and every row's sample
    /// (`{{ m.name }}::validate`: shapes, named dims, `@range`, `@bits`).
    pub fn validate(&self) -> ::schemac_runtime::Result<()> {
        self.check_columns()?;
        for i in 0..self.len {
            self.try_get(i)?.validate().map_err(|e| e.at_index(i).at(Self::NAME))?;
        }
        Ok(())
    }

    fn check_columns(&self) -> ::schemac_runtime::Result<()> {
        let n = self.len;
        {%- if m.cols.is_empty() %}
        let _ = n;
        {%- endif %}
{%- for c in m.cols %}
        {{ c.check }}
{%- endfor %}
        Ok(())
    }

    /// Every buffer as a named tensor (borrowed), for [`Self::save`] or custom writers.
    pub fn tensors(&self) -> ::schemac_runtime::tensors::TensorSet<'_> {
        #[allow(unused_mut)]
        let mut t = ::schemac_runtime::tensors::TensorSet::new();
{%- for c in m.cols %}
        {{ c.tensor_add }}
{%- endfor %}
        t
    }

    /// The batch as the bytes of a safetensors file.
    pub fn to_safetensors(&self) -> ::schemac_runtime::Result<Vec<u8>> {
        self.tensors().to_bytes(Self::NAME, Self::FINGERPRINT, self.len)
    }

    /// Writes the batch as a safetensors file.
    pub fn save(&self, path: impl AsRef<::std::path::Path>) -> ::schemac_runtime::Result<()> {
        self.tensors().save(path.as_ref(), Self::NAME, Self::FINGERPRINT, self.len)
    }

    /// Reads a batch written by [`Self::save`] (or the Python runtime): the record name and
    /// layout fingerprint must match, every tensor's dtype and shape is checked, and every
    /// row must decode.
    pub fn load(path: impl AsRef<::std::path::Path>) -> ::schemac_runtime::Result<Self> {
        Self::from_tensor_file(&::schemac_runtime::tensors::TensorFile::open(path.as_ref())?)
    }

    /// [`Self::load`] from the bytes of a safetensors file.
    pub fn from_safetensors(bytes: Vec<u8>) -> ::schemac_runtime::Result<Self> {
        Self::from_tensor_file(&::schemac_runtime::tensors::TensorFile::from_bytes(bytes)?)
    }

    /// [`Self::load`] from a parsed file.
    pub fn from_tensor_file(f: &::schemac_runtime::tensors::TensorFile) -> ::schemac_runtime::Result<Self> {
        f.check_header(Self::NAME, Self::FINGERPRINT)?;
{%- if let Some(p) = m.rows_probe %}
        let n = match f.rows_hint()? {
            Some(n) => n,
            None => f.rows_of({{ "{:?}"|format(p) }}).unwrap_or(0),
        };
{%- else %}
        let n = f.rows_hint()?.unwrap_or_default();
{%- endif %}
        let b = Self {
            len: n,
{%- for c in m.cols %}
            {{ c.col }}: {{ c.tensor_load }},
{%- if let Some(v) = c.valid %}
            {{ v }}: f.validity({{ "{:?}"|format(c.path) }}, n)?,
{%- endif %}
{%- endfor %}
        };
        b.check_columns()?;
        f.check_names(&[{{ m.tensor_names }}])?;
        for i in 0..n {
            b.try_get(i)?;
        }
        Ok(b)
    }
{% for c in m.cols %}
    /// Column of `{{ c.path }}`.
    #[inline]
    pub fn {{ c.accessor }}(&self) -> {{ c.accessor_ty }} {
        {{ c.accessor_body }}
    }
{%- if let Some(v) = c.valid %}

    /// Validity of `{{ c.path }}` (one bit per row, set = present).
    #[inline]
    pub fn {{ c.validity_fn }}(&self) -> &::schemac_runtime::batch::Bitmap {
        &self.{{ v }}
    }
{%- endif %}
{% endfor %}
    {{ m.enum_fns }}
}

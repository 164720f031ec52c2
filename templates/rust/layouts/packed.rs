/// The aggregate bit-packed form of [`{{ m.name }}`] (DESIGN §5): every leaf's values,
/// depth-first in declaration order, as one LSB-first bitstream of {{ m.total_bits }} bits
/// held in {{ m.words }} little-endian `u32` words (stream bit `p` is bit `p & 31` of word
/// `p >> 5`; signed values two's complement, sign-extended on decode; padding bits zero).
///
/// Leaves (path: dtype, shape, bits, first bit):
{%- for l in m.leaves %}
/// - `{{ l.path }}`: `{{ l.elem }}`, `[{{ l.shape }}]`, {{ l.bits }} bits, bit {{ l.offset }}
{%- endfor %}
///
/// The compact byte form ([`Self::to_bytes`]) is the first {{ m.compact_bytes }} bytes of the
/// words ({{ m.words_len }} whole words + {{ m.tail_bytes }} tail bytes): xtructure's
/// `words` + `tail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct {{ m.packed }} {
    /// The bitstream.
    pub words: [u32; {{ m.words }}],
}

impl Default for {{ m.packed }} {
    /// All-zero words (every leaf zero / false).
    fn default() -> Self {
        Self { words: [0u32; {{ m.words }}] }
    }
}

#[allow(non_snake_case)]
impl {{ m.packed }} {
    /// Sum of the leaves' bits.
    pub const TOTAL_BITS: u64 = {{ m.total_bits }};
    /// In-memory words: `ceil(TOTAL_BITS / 32)`.
    pub const WORDS: usize = {{ m.words }};
    /// Whole words in the compact form.
    pub const WORDS_LEN: usize = {{ m.words_len }};
    /// Tail bytes after the whole words in the compact form (0, 1 or 2).
    pub const TAIL_BYTES: usize = {{ m.tail_bytes }};
    /// `4 * WORDS_LEN + TAIL_BYTES`.
    pub const COMPACT_BYTES: usize = {{ m.compact_bytes }};
    /// The leaves, in stream order.
    pub const LEAVES: &'static [::schemac_runtime::batch::PackedLeaf] = &[
{%- for l in m.leaves %}
        ::schemac_runtime::batch::PackedLeaf {
            path: {{ "{:?}"|format(l.path) }},
            dtype: ::schemac_runtime::Dtype::{{ l.dtype_variant }},
            shape: &[{{ l.shape }}],
            elements: {{ l.elements }},
            bits: {{ l.bits }},
            bit_offset: {{ l.offset }},
        },
{%- endfor %}
    ];

    const LAYOUT: ::schemac_runtime::bits::CompactLayout = ::schemac_runtime::bits::CompactLayout::new({{ m.total_bits }});

    /// Packs a sample. A value that does not fit its `@bits` is a `BitsOverflow` error (at
    /// the leaf path and index), never truncated; shapes must match the schema.
    pub fn pack(s: &{{ m.name }}) -> ::schemac_runtime::Result<Self> {
        let mut words = [0u32; {{ m.words }}];
        {{ m.pack_body }}
        Ok(Self { words })
    }

    /// Unpacks every leaf back into a sample.
    pub fn unpack(&self) -> {{ m.name }} {
        match self.try_unpack() {
            Ok(s) => s,
            Err(e) => panic!("{}: unpacking cannot fail for in-range bit widths: {e}", {{ "{:?}"|format(m.packed) }}),
        }
    }

    fn try_unpack(&self) -> ::schemac_runtime::Result<{{ m.name }}> {
        {{ m.unpack_body }}
    }

    /// Unpacks into an existing sample, reusing its arrays when their shapes already match
    /// (no allocation in the steady state of a decode loop).
    pub fn unpack_into(&self, out: &mut {{ m.name }}) {
        if let Err(e) = self.try_unpack_into(out) {
            panic!("{}: unpacking cannot fail for in-range bit widths: {e}", {{ "{:?}"|format(m.packed) }});
        }
    }

    fn try_unpack_into(&self, out: &mut {{ m.name }}) -> ::schemac_runtime::Result<()> {
        {{ m.unpack_into_body }}
    }

    /// Decodes one leaf without touching the others: every element (flat C order), or only
    /// the flat `indices`, as `i64` (sign-extended for signed dtypes, 0/1 for bool).
    pub fn unpack_field(&self, path: &str, indices: Option<&[usize]>) -> ::schemac_runtime::Result<Vec<i64>> {
        ::schemac_runtime::batch::PackedLeaf::find(Self::LEAVES, path)?.values_i64(&self.words, indices)
    }

    /// The compact byte form: {{ m.compact_bytes }} bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        ::schemac_runtime::bits::compact_from_words(&self.words, Self::WORDS_LEN, Self::TAIL_BYTES)
    }

    /// From the compact byte form: exactly {{ m.compact_bytes }} bytes, padding bits zero.
    pub fn from_bytes(bytes: &[u8]) -> ::schemac_runtime::Result<Self> {
        let rows = ::schemac_runtime::batch::compact_to_row(bytes, Self::LAYOUT, {{ "{:?}"|format(m.name) }})?;
        let mut words = [0u32; {{ m.words }}];
        words.copy_from_slice(&rows);
        Ok(Self { words })
    }
{% for l in m.leaves %}
    {{ l.get_fn }}

    {{ l.set_fn }}
{% endfor %}
    {{ m.gather_fns }}
}

/// Rows of [`{{ m.packed }}`] words in one 64-byte-aligned buffer (`[n, {{ m.words }}]`,
/// C order), converted to and from [`{{ m.batch }}`] column by column.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct {{ m.packed_batch }} {
    words: ::schemac_runtime::batch::AlignedVec<u32>,
}

impl {{ m.packed_batch }} {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `n` rows.
    pub fn with_capacity(n: usize) -> Self {
        Self { words: ::schemac_runtime::batch::AlignedVec::with_capacity({{ m.mul("n") }}) }
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        {{ m.div("self.words.len()") }}
    }

    /// Whether the batch has no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every row's words, `[n, {{ m.words }}]` in C order.
    #[inline]
    pub fn words(&self) -> &[u32] {
        &self.words
    }

    /// Appends one packed row.
    pub fn push(&mut self, p: &{{ m.packed }}) {
        self.words.extend_from_slice(&p.words);
    }

    /// Row `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn get(&self, i: usize) -> {{ m.packed }} {
        let mut words = [0u32; {{ m.words }}];
        words.copy_from_slice(&self.words[{{ m.mul("i") }}..{{ m.mul("(i + 1)") }}]);
        {{ m.packed }} { words }
    }

    /// The packed rows, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = {{ m.packed }}> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Packs samples one by one.
    pub fn pack_samples(samples: &[{{ m.name }}]) -> ::schemac_runtime::Result<Self> {
        let mut out = Self::with_capacity(samples.len());
        for (i, s) in samples.iter().enumerate() {
            out.push(&{{ m.packed }}::pack(s).map_err(|e| e.at_index(i))?);
        }
        Ok(out)
    }

    /// Packs a whole batch, row by row from its columns (no samples are built).
    pub fn pack(b: &{{ m.batch }}) -> ::schemac_runtime::Result<Self> {
        let n = b.len();
        let mut words = ::schemac_runtime::batch::AlignedVec::from_elem(0u32, {{ m.mul("n") }});
        for (i, w) in words.chunks_exact_mut({{ m.words }}).enumerate() {
{%- for l in m.leaves %}
            {{ l.batch_pack }}
{%- endfor %}
        }
        Ok(Self { words })
    }

    /// Unpacks every row into a batch, column by column (no samples are built).
    pub fn unpack(&self) -> {{ m.batch }} {
        match self.try_unpack() {
            Ok(b) => b,
            Err(e) => panic!("{}: unpacking cannot fail for in-range bit widths: {e}", {{ "{:?}"|format(m.packed_batch) }}),
        }
    }

    fn try_unpack(&self) -> ::schemac_runtime::Result<{{ m.batch }}> {
        let n = self.len();
        {{ m.unpack_alloc }}
        for (i, w) in self.words.chunks_exact({{ m.words }}).enumerate() {
{%- for l in m.leaves %}
            {{ l.batch_unpack }}
{%- endfor %}
        }
        {{ m.batch }}::from_columns({{ m.name }}Columns { {{ m.unpack_batch }} }, n)
    }

    /// One leaf of every row, decoded without touching the others: `[n, k]` in C order
    /// (`k` = the leaf's element count, or `indices.len()`), as `i64`.
    pub fn unpack_field(&self, path: &str, indices: Option<&[usize]>) -> ::schemac_runtime::Result<Vec<i64>> {
        let leaf = ::schemac_runtime::batch::PackedLeaf::find({{ m.packed }}::LEAVES, path)?;
        let mut out = Vec::with_capacity(self.len() * indices.map_or(leaf.elements, <[usize]>::len));
        let mut codes = Vec::new();
        for (i, w) in self.words.chunks_exact({{ m.words }}).enumerate() {
            leaf.extend_i64(w, indices, &mut codes, &mut out).map_err(|e| e.at_index(i))?;
        }
        Ok(out)
    }

    /// Every row's compact form, back to back (`n * {{ m.compact_bytes }}` bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        ::schemac_runtime::batch::rows_to_compact(&self.words, {{ m.words }}, {{ m.packed }}::LAYOUT)
    }

    /// From rows in the compact form, back to back: the length must be a multiple of
    /// {{ m.compact_bytes }} and every padding bit zero.
    pub fn from_bytes(bytes: &[u8]) -> ::schemac_runtime::Result<Self> {
        Ok(Self { words: ::schemac_runtime::batch::compact_to_rows(bytes, {{ m.packed }}::LAYOUT, {{ "{:?}"|format(m.packed_batch) }})? })
    }
}

/// Structure-of-arrays batch of [`{{ m.name }}`] ({{ m.kind }}, DESIGN §5): one column per
/// leaf, every buffer 64-byte aligned (ready for numpy, SIMD or a GPU copy without a copy).
/// The methods (`push`, `get`, `slice`, `save`, ...) are those of
/// `schemac_runtime::batch::Batch`; the columns are [`{{ m.columns }}`].
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
/// `save` / `load` use safetensors: one tensor per buffer (`<path>`, `<path>.offsets`,
/// `<path>.shapes`, `<path>.validity`), metadata `schemac_sample`, `schemac_fingerprint`
/// and `schemac_rows`.
pub type {{ m.batch }} = ::schemac_runtime::batch::Batch<{{ m.columns }}>;

/// The columns of a [`{{ m.batch }}`] (the batch derefs to them). Accessors are named after
/// the leaf path with `.` replaced by `__` (`history.xyz` → `history__xyz()`): fixed leaves
/// give `(values, [n, ...shape])`, ragged leaves their `RaggedColumn`, str/bytes/encoded
/// leaves their `BinaryColumn`, and optional leaves add `<leaf>_validity()`. An accessor
/// whose name would clash with a batch method gets a `_leaf` suffix.
#[derive(Clone, Debug, PartialEq)]
#[allow(non_snake_case)]
pub struct {{ m.columns }} {
{%- for c in m.cols %}
    {{ c.col }}: {{ c.col_ty }},
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

#[allow(non_snake_case)]
impl ::schemac_runtime::batch::Columns for {{ m.columns }} {
    type Sample = {{ m.name }};
    type Row<'a> = {{ m.row }}<'a>;
    const NAME: &'static str = {{ "{:?}"|format(m.schema_name) }};
    const FINGERPRINT: &'static str = {{ "{:?}"|format(m.fingerprint) }};
    const LEAVES: &'static [&'static str] = &[{{ m.leaves_list }}];

    fn build<B: ::schemac_runtime::batch::BuildColumn>(b: &mut B) -> ::schemac_runtime::Result<Self> {
        {%- if m.cols.is_empty() %}
        let _ = b;
        {%- endif %}
        Ok(Self {
{%- for c in m.cols %}
            {{ c.col }}: b.col({{ "{:?}"|format(c.path) }}, {{ c.spec }})?,
{%- endfor %}
        })
    }

    fn visit<'a, V: ::schemac_runtime::batch::VisitColumn<'a>>(&'a self, v: &mut V) -> ::schemac_runtime::Result<()> {
        {%- if m.cols.is_empty() %}
        let _ = v;
        {%- endif %}
{%- for c in m.cols %}
        v.col({{ "{:?}"|format(c.path) }}, &self.{{ c.col }})?;
{%- endfor %}
        Ok(())
    }

    fn visit_mut<V: ::schemac_runtime::batch::VisitColumnMut>(&mut self, v: &mut V) {
        {%- if m.cols.is_empty() %}
        let _ = v;
        {%- endif %}
{%- for c in m.cols %}
        v.col(&mut self.{{ c.col }});
{%- endfor %}
    }

    fn zip<Z: ::schemac_runtime::batch::ZipColumn>(&mut self, other: &Self, z: &mut Z) {
        {%- if m.cols.is_empty() %}
        let _ = (other, z);
        {%- endif %}
{%- for c in m.cols %}
        z.col(&mut self.{{ c.col }}, &other.{{ c.col }});
{%- endfor %}
    }

    fn push_row(&mut self, s: &{{ m.name }}) -> ::schemac_runtime::Result<()> {
        {{ m.opt_check }}
        {%- if m.cols.is_empty() %}
        let _ = s;
        {%- endif %}
{%- for c in m.cols %}
        {{ c.push_stmt }}
{%- endfor %}
        Ok(())
    }

    fn decode_row(&self, i: usize) -> ::schemac_runtime::Result<{{ m.name }}> {
        {% if m.cols.is_empty() %}let _ = i;{% endif %}
        {{ m.get_body }}
    }

    fn row(&self, i: usize) -> {{ m.row }}<'_> {
        {% if m.cols.is_empty() %}let _ = i;{% endif %}
        {{ m.row }} {
{%- for c in m.cols %}
            {{ c.row_field }}: {{ c.row_expr }},
{%- endfor %}
{%- if m.row_needs_marker %}
            _batch: ::std::marker::PhantomData,
{%- endif %}
        }
    }

    fn random_sample(rng: &mut ::schemac_runtime::rng::Rng) -> {{ m.name }} {
        {{ m.name }}::random(rng)
    }

    fn validate_sample(s: &{{ m.name }}) -> ::schemac_runtime::Result<()> {
        s.validate()
    }
}

#[allow(non_snake_case)]
impl {{ m.columns }} {
{%- for c in m.cols %}
    /// Column of `{{ c.path }}`.
    #[inline]
    pub fn {{ c.accessor }}(&self) -> {{ c.accessor_ty }} {
        {{ c.accessor_body }}
    }
{%- if let Some(vf) = c.validity_fn %}

    /// Validity of `{{ c.path }}` (one bit per row, set = present).
    #[inline]
    pub fn {{ vf }}(&self) -> &::schemac_runtime::batch::Bitmap {
        &self.{{ c.col }}.validity
    }
{%- endif %}
{% endfor %}
    {{ m.enum_fns }}
}

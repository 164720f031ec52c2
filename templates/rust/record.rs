{% for d in r.docs %}{{ d }}
{% endfor %}
#[derive(Clone, Debug, PartialEq)]
{{ r.allow }}
pub struct {{ r.ident }} {
{% for f in r.fields %}
    {% for d in f.docs %}{{ d }}
    {% endfor %}
    pub {{ f.ident }}: {{ f.ty }},
{% endfor %}
}

/// Every field at its schema default; arrays at their fixed shape (named and `_` dims 0)
/// filled with the default or zero; component arrays with their fixed length.
{{ r.allow }}
#[allow(clippy::derivable_impls)]
impl ::core::default::Default for {{ r.ident }} {
    fn default() -> Self {
        Self {
{% for f in r.fields %}
            {{ f.ident }}: {{ f.default }},
{% endfor %}
        }
    }
}

{{ r.allow }}
impl {{ r.ident }} {
    /// The record's name in the schema.
    pub const NAME: &'static str = {{ r.name_lit }};
    /// Layout fingerprint: changes exactly when the bytes on some wire would.
    pub const FINGERPRINT: &'static str = {{ r.fingerprint_lit }};
{% for c in r.shape_consts %}
    {{ c.doc }}
    pub const {{ c.name }}: &'static [gs::DimSpec] = {{ c.value }};
{% endfor %}
{% for f in r.fields %}
    const {{ f.codec }}: {{ f.codec_ty }} = {{ f.codec_value }};
{% endfor %}
{% for f in r.fields %}{{ f.accessors }}{% endfor %}
}

::schemac_runtime::record_methods!({{ r.ident }});
{% if r.is_sample %}
::schemac_runtime::sample_methods!({{ r.ident }});
{% endif %}

/// One line per field; the machinery is `schemac_runtime::gen_support`'s.
{{ r.allow }}
impl gs::Record for {{ r.ident }} {
    const NAME: &'static str = {{ r.name_lit }};
    const FINGERPRINT: &'static str = {{ r.fingerprint_lit }};
    const FIELDS: &'static [&'static str] = &[{{ r.field_names }}];
    const IS_SAMPLE: bool = {{ r.is_sample }};
    type Ref<'a> = {{ r.ref_ident }}<'a>;

{% if r.fields.is_empty() %}
    fn visit<V: gs::Fields>(&self, _v: &mut V) -> ::core::result::Result<(), V::Error> {
        Ok(())
    }

    fn read_fields<S: gs::Source>(s: &mut S) -> ::core::result::Result<Self, S::Error> {
        while s.next_key()?.is_some() {
            s.skip()?;
        }
        Ok(Self {})
    }

    fn random_in(_rng: &mut gs::Rng, _dims: &mut gs::RandomDims) -> Self {
        Self {}
    }
{% else %}
    fn visit<V: gs::Fields>(&self, v: &mut V) -> ::core::result::Result<(), V::Error> {
{% for f in r.fields %}
        v.field({{ f.wire }}, &Self::{{ f.codec }}, &self.{{ f.ident }})?;
{% endfor %}
        Ok(())
    }

    fn read_fields<S: gs::Source>(s: &mut S) -> ::core::result::Result<Self, S::Error> {
{% for f in r.fields %}
        let mut {{ f.local }} = None;
{% endfor %}
        while let Some(k) = s.next_key()? {
            match k.name() {
{% for f in r.fields %}
                {{ f.wire }} => s.value(&mut {{ f.local }}, &Self::{{ f.codec }}, {{ f.wire }})?,
{% for a in f.aliases %}
                {{ a }} => s.value(&mut {{ f.local }}, &Self::{{ f.codec }}, {{ a }})?,
{% endfor %}
{% endfor %}
                _ => s.skip()?,
            }
        }
        Ok(Self {
{% for f in r.fields %}
            {{ f.ident }}: {{ f.finish }},
{% endfor %}
        })
    }

    fn random_in(rng: &mut gs::Rng, dims: &mut gs::RandomDims) -> Self {
        Self {
{% for f in r.fields %}
            {{ f.ident }}: Self::{{ f.codec }}.random(rng, dims),
{% endfor %}
        }
    }
{% endif %}
}

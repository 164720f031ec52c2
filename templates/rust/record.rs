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
    pub const {{ c.name }}: &'static [::schemac_runtime::array::DimSpec] = {{ c.value }};
{% endfor %}

    /// Encodes as MessagePack: the same bytes as Python atdata's `packed` for the types
    /// atdata knows.
    pub fn to_msgpack(&self) -> Vec<u8> {
        let mut w = ::schemac_runtime::msgpack::Writer::with_capacity(self.msgpack_size_hint());
        self.write_msgpack(&mut w);
        w.into_bytes()
    }

    /// Appends the MessagePack encoding (one map, every field, declaration order) to `w`.
    pub fn write_msgpack(&self, w: &mut ::schemac_runtime::msgpack::Writer) {
        w.map_header({{ r.field_count }});
{% for f in r.fields %}
        w.str({{ f.wire }});
        {{ f.write }}
{% endfor %}
    }

    /// Decodes one MessagePack map; the whole input must be consumed. Unknown keys are
    /// skipped; missing optional or defaulted fields are filled; `@range` and `@bits` are
    /// checked; errors carry the field path (`{{ r.ident }}.field`).
    pub fn from_msgpack(bytes: &[u8]) -> ::core::result::Result<Self, ::schemac_runtime::error::Error> {
        let v = ::schemac_runtime::gen_support::from_msgpack(bytes, {{ r.name_lit }}, |r| Self::read_msgpack_in(r, &mut ::schemac_runtime::array::DimTable::unbound()))?;
        <Self as ::schemac_runtime::gen_support::Record>::check_in(&v, &mut ::schemac_runtime::array::DimTable::new(), true).at({{ r.name_lit }})?;
        Ok(v)
    }

{% if r.is_sample %}
    /// This sample as a WebDataset member: the tar member name `<key>.msgpack` and its
    /// bytes (what Python's `as_wds(key)` gives as `{"__key__": key, "msgpack": bytes}`).
    pub fn as_wds(&self, key: &str) -> (String, Vec<u8>) {
        (format!("{key}.msgpack"), self.to_msgpack())
    }

    /// Writes this sample into a WebDataset shard under `key`.
    pub fn write_wds(&self, shards: &mut ::schemac_runtime::shard::ShardWriter, key: &str) -> ::core::result::Result<(), ::schemac_runtime::shard::ShardError> {
        shards.write(key, &self.to_msgpack())
    }

    /// Every sample in WebDataset shards, as `(key, sample)`; a member that does not
    /// decode is an error naming its key.
    pub fn read_wds(shards: ::schemac_runtime::shard::ShardReader) -> ::schemac_runtime::shard::Decoded<Self> {
        shards.read(Self::from_msgpack)
    }
{% endif %}
    /// An upper bound of the encoded size (what `to_msgpack` reserves).
    pub fn msgpack_size_hint(&self) -> usize {
        {{ r.hint_base }}{% for f in r.fields %}{% if let Some(h) = f.hint %} + {{ h }}{% endif %}{% endfor %}
    }

    /// Checks what the types cannot: shapes (fixed dims, named dims agreeing across fields,
    /// component-array lengths), `@range` and `@bits`.
    pub fn validate(&self) -> ::core::result::Result<(), ::schemac_runtime::error::Error> {
        self.check_in(&mut ::schemac_runtime::array::DimTable::new(), true).at({{ r.name_lit }})
    }

    /// A random instance that passes `validate()`; see `schemac_runtime::gen_support` for
    /// the recipe.
    pub fn random(rng: &mut ::schemac_runtime::rng::Rng) -> Self {
        Self::random_in(rng, &mut ::schemac_runtime::gen_support::RandomDims::new())
    }

    /// The JSON form (DESIGN §4: arrays as `{data_b64, shape, dtype}`).
    pub fn to_json(&self) -> String {
        ::schemac_runtime::gen_support::to_json(self)
    }

    /// Reads the JSON form; shapes, `@range` and `@bits` are checked as in `from_msgpack`.
    pub fn from_json(s: &str) -> ::core::result::Result<Self, ::schemac_runtime::error::Error> {
        let v: Self = ::schemac_runtime::gen_support::from_json(s, {{ r.name_lit }})?;
        <Self as ::schemac_runtime::gen_support::Record>::check_in(&v, &mut ::schemac_runtime::array::DimTable::new(), true).at({{ r.name_lit }})?;
        Ok(v)
    }
{% for f in r.fields %}{{ f.accessors }}{% endfor %}
}

{{ r.allow }}
impl ::schemac_runtime::gen_support::Record for {{ r.ident }} {
    const NAME: &'static str = {{ r.name_lit }};
    const FINGERPRINT: &'static str = {{ r.fingerprint_lit }};

    fn write_msgpack(&self, w: &mut ::schemac_runtime::msgpack::Writer) {
        {{ r.ident }}::write_msgpack(self, w)
    }

    fn read_msgpack_in(r: &mut ::schemac_runtime::msgpack::Reader<'_>, {{ r.read_dims }}: &mut ::schemac_runtime::array::DimTable) -> ::core::result::Result<Self, ::schemac_runtime::error::Error> {
{% for f in r.fields %}
        let mut {{ f.local }} = None;
{% endfor %}
        for _ in 0..r.map_len()? {
{% if r.fields.is_empty() %}
            r.str()?;
            r.skip()?;
{% else %}
            match r.str()? {
{% for f in r.fields %}
                {{ f.wire }} => {
                    if {{ f.local }}.is_some() {
                        return Err(::schemac_runtime::gen_support::duplicate_key({{ f.wire }}));
                    }
                    {{ f.local }} = Some({{ f.read }}.at({{ f.wire }})?);
                }
{% endfor %}
                _ => r.skip()?,
            }
{% endif %}
        }
        Ok(Self {
{% for f in r.fields %}
            {{ f.ident }}: {{ f.finish }},
{% endfor %}
        })
    }

    fn check_in(&self, {{ r.check_dims }}: &mut ::schemac_runtime::array::DimTable, {{ r.check_full }}: bool) -> ::core::result::Result<(), ::schemac_runtime::error::Error> {
{% for f in r.fields %}
        {{ f.check }}
{% endfor %}
        Ok(())
    }

    fn random_in({{ r.random_rng }}: &mut ::schemac_runtime::rng::Rng, {{ r.random_dims }}: &mut ::schemac_runtime::gen_support::RandomDims) -> Self {
        Self {
{% for f in r.fields %}
            {{ f.ident }}: {{ f.random }},
{% endfor %}
        }
    }
}

/// A zero-copy view of [`{{ r.ident }}`] decoded from MessagePack: arrays borrow their bytes
/// from the input, `str` and `bytes` are borrowed slices. `to_owned()` gives the struct.
#[derive(Clone, Debug, PartialEq)]
{{ r.allow }}
pub struct {{ r.ref_ident }}<'a> {
{% for f in r.fields %}
    {% for d in f.docs %}{{ d }}
    {% endfor %}
    pub {{ f.ident }}: {{ f.ref_ty }},
{% endfor %}
{% if r.ref_marker %}
    _marker: ::core::marker::PhantomData<&'a ()>,
{% endif %}
}

{{ r.allow }}
impl<'a> {{ r.ref_ident }}<'a> {
    /// Decodes one MessagePack map, borrowing from `bytes`; the same checks and errors as
    /// [`{{ r.ident }}::from_msgpack`].
    pub fn from_msgpack(bytes: &'a [u8]) -> ::core::result::Result<Self, ::schemac_runtime::error::Error> {
        ::schemac_runtime::gen_support::from_msgpack(bytes, {{ r.name_lit }}, |r| Self::read_msgpack_in(r, &mut ::schemac_runtime::array::DimTable::new()))
    }

    /// Copies into the owned struct.
    pub fn to_owned(&self) -> {{ r.ident }} {
        {{ r.ident }} {
{% for f in r.fields %}
            {{ f.ident }}: {{ f.to_owned }},
{% endfor %}
        }
    }
}

{{ r.allow }}
impl<'a> ::schemac_runtime::gen_support::RecordRef<'a> for {{ r.ref_ident }}<'a> {
    type Owned = {{ r.ident }};

    fn read_msgpack_in(r: &mut ::schemac_runtime::msgpack::Reader<'a>, {{ r.ref_read_dims }}: &mut ::schemac_runtime::array::DimTable) -> ::core::result::Result<Self, ::schemac_runtime::error::Error> {
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
                {{ f.wire }} => {{ f.local }} = Some({{ f.ref_read }}.at({{ f.wire }})?),
{% endfor %}
                _ => r.skip()?,
            }
{% endif %}
        }
        Ok(Self {
{% for f in r.fields %}
            {{ f.ident }}: {{ f.ref_finish }},
{% endfor %}
{% if r.ref_marker %}
            _marker: ::core::marker::PhantomData,
{% endif %}
        })
    }
}

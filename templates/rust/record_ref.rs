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

::schemac_runtime::view_methods!({{ r.ref_ident }}, {{ r.ident }});

{{ r.allow }}
impl<'a> gs::RecordRef<'a> for {{ r.ref_ident }}<'a> {
    type Owned = {{ r.ident }};

{% if r.fields.is_empty() %}
    fn read_fields(s: &mut gs::ViewSource<'_, 'a>) -> ::core::result::Result<Self, gs::Error> {
        while s.next_key()?.is_some() {
            s.skip()?;
        }
        Ok(Self { _marker: ::core::marker::PhantomData })
    }

    fn to_owned_record(&self) -> {{ r.ident }} {
        {{ r.ident }} {}
    }
{% else %}
    fn read_fields(s: &mut gs::ViewSource<'_, 'a>) -> ::core::result::Result<Self, gs::Error> {
{% for f in r.fields %}
        let mut {{ f.local }} = None;
{% endfor %}
        while let Some(k) = s.next_key()? {
            match k {
{% for f in r.fields %}
                {{ f.wire }} => s.value(&mut {{ f.local }}, &{{ r.ident }}::{{ f.codec }}, {{ f.wire }})?,
{% for a in f.aliases %}
                {{ a }} => s.value(&mut {{ f.local }}, &{{ r.ident }}::{{ f.codec }}, {{ a }})?,
{% endfor %}
{% endfor %}
                _ => s.skip()?,
            }
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

    fn to_owned_record(&self) -> {{ r.ident }} {
        {{ r.ident }} {
{% for f in r.fields %}
            {{ f.ident }}: {{ r.ident }}::{{ f.codec }}.owned(&self.{{ f.ident }}),
{% endfor %}
        }
    }
{% endif %}
}

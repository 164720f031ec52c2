{{ r.allow }}
impl ::schemac_runtime::gen_support::serde::Serialize for {{ r.ident }} {
    fn serialize<S: ::schemac_runtime::gen_support::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
        use ::schemac_runtime::gen_support::serde::ser::SerializeStruct as _;
        let {% if !r.fields.is_empty() %}mut {% endif %}st = s.serialize_struct({{ r.name_lit }}, {{ r.field_count }})?;
{% for f in r.fields %}
        st.serialize_field({{ f.wire }}, {{ f.ser }})?;
{% endfor %}
        st.end()
    }
}

{{ r.allow }}
impl<'de> ::schemac_runtime::gen_support::serde::Deserialize<'de> for {{ r.ident }} {
    fn deserialize<D: ::schemac_runtime::gen_support::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
        struct Visitor;
        {{ r.allow }}
        impl<'de> ::schemac_runtime::gen_support::serde::de::Visitor<'de> for Visitor {
            type Value = {{ r.ident }};

            fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str({{ r.name_lit }})
            }

            fn visit_map<A: ::schemac_runtime::gen_support::serde::de::MapAccess<'de>>(self, mut map: A) -> ::core::result::Result<{{ r.ident }}, A::Error> {
{% for f in r.fields %}
                let mut {{ f.local }} = None;
{% endfor %}
                while let Some(key) = map.next_key::<::schemac_runtime::gen_support::FieldKey<'de>>()? {
{% if r.fields.is_empty() %}
                    let _ = key;
                    map.next_value::<::schemac_runtime::gen_support::serde::de::IgnoredAny>()?;
{% else %}
                    match key.as_str() {
{% for f in r.fields %}
                        {{ f.wire }} => {
                            if {{ f.local }}.is_some() {
                                return Err(::schemac_runtime::gen_support::de_error::<A::Error>(::schemac_runtime::gen_support::duplicate_key({{ f.wire }})));
                            }
                            {{ f.de }}
                        }
{% endfor %}
                        _ => {
                            map.next_value::<::schemac_runtime::gen_support::serde::de::IgnoredAny>()?;
                        }
                    }
{% endif %}
                }
                let v = {{ r.ident }} {
{% for f in r.fields %}
                    {{ f.ident }}: {{ f.json_finish }},
{% endfor %}
                };
                ::schemac_runtime::gen_support::Record::check_in(&v, &mut ::schemac_runtime::array::DimTable::new(), false)
                    .map_err(|e| ::schemac_runtime::gen_support::de_error::<A::Error>(e.at({{ r.name_lit }})))?;
                Ok(v)
            }
        }
        d.deserialize_map(Visitor)
    }
}

{% for d in e.docs %}{{ d }}
{% endfor %}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum {{ e.ident }} {
{% for v in e.variants %}
    {% for d in v.docs %}{{ d }}
    {% endfor %}
    {% if v.is_default %}#[default]{% endif %}
    {{ v.ident }},
{% endfor %}
}

impl {{ e.ident }} {
    /// Every variant, in declaration order (a variant's position is its index).
    pub const ALL: [{{ e.ident }}; {{ e.count }}] = [{% for v in e.variants %}{{ e.ident }}::{{ v.ident }}, {% endfor %}];

    /// The variant's name as written in the schema and on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
{% for v in e.variants %}
            {{ e.ident }}::{{ v.ident }} => {{ v.wire }},
{% endfor %}
        }
    }

    /// The variant's declaration index (what batches and CUDA store).
    pub const fn index(self) -> u32 {
        match self {
{% for v in e.variants %}
            {{ e.ident }}::{{ v.ident }} => {{ v.index }},
{% endfor %}
        }
    }

    /// The variant with declaration index `index`.
    pub const fn from_index(index: u32) -> Option<Self> {
        match index {
{% for v in e.variants %}
            {{ v.index }} => Some({{ e.ident }}::{{ v.ident }}),
{% endfor %}
            _ => None,
        }
    }
}

impl ::core::str::FromStr for {{ e.ident }} {
    type Err = ::schemac_runtime::error::Error;

    /// Parses a variant name; `UnknownVariant` otherwise.
    fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
        match s {
{% for v in e.variants %}
            {{ v.wire }} => Ok({{ e.ident }}::{{ v.ident }}),
{% endfor %}
            _ => Err(::schemac_runtime::error::Error::unknown_variant(s)),
        }
    }
}

impl ::core::fmt::Display for {{ e.ident }} {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl gs::EnumValue for {{ e.ident }} {
    const VARIANTS: &'static [Self] = &Self::ALL;

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl gs::serde::Serialize for {{ e.ident }} {
    fn serialize<S: gs::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> gs::serde::Deserialize<'de> for {{ e.ident }} {
    fn deserialize<D: gs::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
        gs::de_enum(d)
    }
}

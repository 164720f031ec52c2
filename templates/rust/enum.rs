{% for d in e.docs %}{{ d }}
{% endfor %}
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum {{ e.ident }} {
{% for v in e.variants %}
    {% for d in v.docs %}{{ d }}
    {% endfor %}
    {% if v.is_default %}#[default]{% endif %}
    {{ v.ident }} = {{ v.index }},
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
}

impl gs::EnumValue for {{ e.ident }} {
    const VARIANTS: &'static [Self] = &Self::ALL;

    fn name(self) -> &'static str {
        self.as_str()
    }
}

::schemac_runtime::enum_methods!({{ e.ident }});

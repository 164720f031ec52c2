const _: () = ::schemac_runtime::check_version("{{ m.version }}");
{% if m.has_records %}
use ::schemac_runtime::gen_support::{self as gs, Codec as _, FieldName as _};
{% else if !m.enums.is_empty() %}
use ::schemac_runtime::gen_support as gs;
{% endif %}
{% for e in m.enums %}
{% include "rust/enum.rs" %}
{% endfor %}
{% for r in m.records %}
{% include "rust/record.rs" %}
{% include "rust/record_ref.rs" %}
{% endfor %}

const _: () = ::schemac_runtime::check_version("{{ m.version }}");
{% if m.has_records %}
use ::schemac_runtime::error::ResultExt as _;
use ::schemac_runtime::gen_support::{Record as _, RecordRef as _};
{% endif %}
{% for e in m.enums %}
{% include "rust/enum.rs" %}
{% endfor %}
{% for r in m.records %}
{% include "rust/record.rs" %}
{% include "rust/record_serde.rs" %}
{% include "rust/record_ref.rs" %}
{% endfor %}

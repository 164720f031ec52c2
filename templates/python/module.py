# {{ m.header }}
{%- if !m.noqa.is_empty() %}
# ruff: noqa: {{ m.noqa }}
{%- endif %}
{{ m.module_doc() }}

from __future__ import annotations

{{ imports.block() }}

SCHEMAC_VERSION = "{{ m.version }}"
"""The schemac version that generated this module (checked against schemac-runtime)."""

_g.check_version(SCHEMAC_VERSION){{ body }}

{%- for e in m.enums %}


class {{ e.name }}(enum.Enum):
{{ e.doc }}
{% for v in e.members %}
    {{ v.attr }} = {{ v.value }}
{%- if !v.doc.is_empty() %}
{{ v.doc }}
{%- endif %}
{%- endfor %}
{%- endfor %}
{%- for r in m.records %}
{%- if !r.codecs.is_empty() %}


{{ r.codecs_block() }}
{%- endif %}


@dataclass(kw_only=True, eq=False, repr=False)
class {{ r.name }}:
{{ r.doc }}

    FINGERPRINT: ClassVar[str] = "{{ r.fingerprint }}"
    """Layout fingerprint (changes exactly when the bytes of some wire would)."""
    _SC_FIELDS: ClassVar[tuple[_g.Field, ...]] = (
{% for s in r.field_specs %}{{ s }}
{% endfor %}    )
    __get_pydantic_core_schema__ = classmethod(_g.pydantic_core_schema)
    """pydantic support (``schemac_runtime.pydantic_compat``): model fields, ``TypeAdapter``."""
{% for f in r.fields %}
    {{ f.decl }}
{{ f.doc }}
{% endfor %}
    def __repr__(self) -> str:
        return _g.record_repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, {{ r.name }}):
            return NotImplemented
{% if r.fields.is_empty() %}        return True
{% else %}        return (
{{ r.eq_expr }}
        )
{% endif %}
    # -- codec plumbing (called by schemac_runtime.gen_support) --

    def _sc_wire(self, path: str, dims: _g.Dims) -> dict[str, Any]:
        return {
{% for f in r.fields %}{{ f.wire }}
{% endfor %}        }

    @classmethod
    def _sc_from_wire(cls, path: str, v: object, dims: _g.Dims) -> {{ r.name }}:
{% if r.fields.is_empty() %}        _g.read_fields(cls, path, v, dims, json=False)
        return cls()
{% else %}        m = _g.read_fields(cls, path, v, dims, json=False)
        return cls(
{% for f in r.fields %}{{ f.from_wire }}
{% endfor %}        )
{% endif %}
    def _sc_json(self, path: str) -> dict[str, Any]:
        return {
{% for f in r.fields %}{{ f.json }}
{% endfor %}        }

    @classmethod
    def _sc_from_json(cls, path: str, v: object, dims: _g.Dims) -> {{ r.name }}:
{% if r.fields.is_empty() %}        _g.read_fields(cls, path, v, dims, json=True)
        return cls()
{% else %}        m = _g.read_fields(cls, path, v, dims, json=True)
        return cls(
{% for f in r.fields %}{{ f.from_json }}
{% endfor %}        )
{% endif %}
    def _sc_validate(self, path: str, dims: _g.Dims) -> None:
{% if r.fields.is_empty() %}        return None
{% else %}{% for f in r.fields %}{{ f.validate }}
{% endfor %}{% endif %}
    @classmethod
    def _sc_random(cls, rng: np.random.Generator, dims: _g.Dims) -> {{ r.name }}:
        return cls(
{% for f in r.fields %}{{ f.random }}
{% endfor %}        )

    # -- public API --

    @classmethod
    def default(cls) -> {{ r.name }}:
        """Every field at its schema default; required fields zero (named and ``_`` dims 0)."""
        return cls(
{% for a in r.default_args %}{{ a }}
{% endfor %}        )

    @classmethod
    def random(cls, rng: np.random.Generator | int | None = None) -> {{ r.name }}:
        """A random instance honouring shapes, named dims, ``@bits`` and ``@range``."""
        return cls._sc_random(_g.make_rng(rng), _g.Dims())

    def validate(self) -> None:
        """Check types, dtypes, shapes, named dims, ``@range`` and ``@bits``.

        Raises ``schemac_runtime.SchemaError`` naming the field.
        """
        self._sc_validate({{ r.path_lit }}, _g.Dims())

    def to_json_obj(self) -> dict[str, Any]:
        """The JSON form as Python objects (arrays as ``{data_b64, shape, dtype}``)."""
        return self._sc_json({{ r.path_lit }})

    def to_json(self) -> str:
        """The JSON form (DESIGN §4), compact."""
        return _j.dumps(self.to_json_obj())

    @classmethod
    def from_json_obj(cls, obj: object) -> {{ r.name }}:
        """Read the JSON form from parsed JSON (arrays may also be nested lists)."""
        return _g.finish_sample(
            cls._sc_from_json({{ r.path_lit }}, obj, _g.DecodeDims()), {{ r.path_lit }}
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> {{ r.name }}:
        """Read the JSON form."""
        return cls.from_json_obj(_g.loads_sample(cls, text, {{ r.path_lit }}))
{%- if r.is_sample %}

    @property
    def packed(self) -> bytes:
        """The msgpack bytes: a map of every field in declaration order (atdata-compatible)."""
        return _g.packb(self._sc_wire({{ r.path_lit }}, _g.Dims()))

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> {{ r.name }}:
        """Decode msgpack bytes. Arrays are read-only numpy views (no copy after msgpack's)."""
        m = _g.unpack_sample(cls, data, {{ r.path_lit }})
        return _g.finish_sample(
            cls._sc_from_wire({{ r.path_lit }}, m, _g.DecodeDims()), {{ r.path_lit }}
        )

    def as_wds(self, key: str) -> dict[str, Any]:
        """The WebDataset sample dict ``{"__key__": key, "msgpack": self.packed}``."""
        return _wds.as_wds(key, self.packed)

    @classmethod
    def from_wds(cls, sample: Mapping[str, Any]) -> {{ r.name }}:
        """Decode a WebDataset sample dict (its ``"msgpack"`` entry)."""
        return cls.from_bytes(_wds.from_wds(sample, path={{ r.path_lit }}))

    @classmethod
    def wds_decoder(cls) -> _wds.Decoder:
        """A decoder for ``webdataset.WebDataset(...).decode(...)`` (typed samples) and
        ``ray.data.read_webdataset(..., decoder=...)`` (rows of numpy arrays)."""
        return _wds.Decoder(cls)
{%- endif %}
{%- for f in r.fields %}{% if let Some(a) = f.accessor %}

    def {{ a.getter }}(self) -> {{ a.annotation }}:
{{ a.doc }}
{{ a.body_get }}

    def {{ a.setter }}(self, values: {{ a.setter_param }}) -> None:
{{ a.set_doc }}
{{ a.body_set }}
{%- endif %}{% endfor %}


class {{ r.batch.name }}(_b.Batch[{{ r.name }}]):
{{ r.batch.doc }}

    SAMPLE = {{ r.name }}
    NAME = {{ r.path_lit }}
    FINGERPRINT = "{{ r.fingerprint }}"
    LEAVES = (
{% for l in r.batch.leaves %}{{ l }}
{% endfor %}    )
{%- for p in r.batch.props %}

    @property
    def {{ p.name }}(self) -> {{ p.annotation }}:
{{ p.doc }}
{{ p.body }}
{%- endfor %}
{%- if let Some(p) = r.packed %}


class {{ p.name }}(_b.PackedLayout[{{ r.batch.name }}]):
{{ p.doc }}

    BATCH = {{ r.batch.name }}
    TOTAL_BITS = {{ p.total_bits }}
    WORDS = {{ p.words }}
    WORDS_LEN = {{ p.words_len }}
    TAIL_BYTES = {{ p.tail_bytes }}
    COMPACT_BYTES = {{ p.compact_bytes }}
    LEAVES = (
{% for l in p.leaves %}{{ l }}
{% endfor %}    )
{%- endif %}
{%- endfor %}

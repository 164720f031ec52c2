"""Generated classes as pydantic types (schemac_runtime.pydantic_compat), tested with the
real pydantic and msgpack-numpy the way truss-chains uses them. Skipped without pydantic."""

from __future__ import annotations

from typing import Any

import msgpack
import numpy as np
import pytest
from conftest import EXAMPLE_STEMS, Generated, all_samples

pydantic = pytest.importorskip("pydantic")
msgpack_numpy = pytest.importorskip("msgpack_numpy")


@pytest.mark.parametrize("stem", EXAMPLE_STEMS)
def test_type_adapter_json_is_the_schemac_json_form(gen: Generated, stem: str) -> None:
    for cls in all_samples(gen[stem]):
        ta = pydantic.TypeAdapter(cls)
        for seed in range(5):
            s = cls.random(500 + seed)
            assert ta.dump_json(s) == s.to_json().encode(), (cls.__name__, seed)
            assert ta.validate_json(s.to_json()) == s
            assert ta.validate_python(ta.dump_python(s)) == s


def test_validation_runs_the_schema_checks(gen: Generated) -> None:
    v = gen["vision"]
    ta = pydantic.TypeAdapter(v.ImageSample)
    s = v.ImageSample.random(1)
    bad = s.to_json_obj()
    bad["confidence"] = 5.0  # @range(0, 1)
    import json

    with pytest.raises(pydantic.ValidationError) as e:
        ta.validate_json(json.dumps(bad))
    assert "ImageSample.confidence" in str(e.value)
    plain = ta.dump_python(s)
    plain["image"] = plain["image"][:10]  # wrong shape
    with pytest.raises(pydantic.ValidationError) as e2:
        ta.validate_python(plain)
    assert "ImageSample.image" in str(e2.value)


def truss_model(v: Any) -> Any:
    class Request(pydantic.BaseModel):
        """A truss-chains style request holding a schemac sample."""

        note: str
        sample: v.ImageSample  # type: ignore[name-defined]
        extra: v.ImageSample | None = None  # type: ignore[name-defined]

    return Request


def test_a_truss_model_round_trips_json_and_binary_mode(gen: Generated) -> None:
    v = gen["vision"]
    request_model = truss_model(v)
    m = request_model(note="hi", sample=v.ImageSample.random(7))
    # JSON mode: the sample travels in the schemac JSON form
    text = m.model_dump_json()
    assert '"data_b64"' in text
    assert request_model.model_validate_json(text) == m
    # truss binary mode: model_dump(mode="python") through msgpack with msgpack-numpy's
    # hooks (what msgpack_numpy.patch() installs), then model_validate
    blob = msgpack.packb(m.model_dump(mode="python"), default=msgpack_numpy.encode)
    back = request_model.model_validate(msgpack.unpackb(blob, object_hook=msgpack_numpy.decode))
    assert back == m
    assert isinstance(back.sample.image, np.ndarray)
    np.testing.assert_array_equal(back.sample.image, m.sample.image)

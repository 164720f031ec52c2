"""Field names that equal locals and helpers of the generated Python (``_b``, ``_g``,
``self``, ``cls``, ``np``, ...) need no `check` rule: the emitter keeps them apart. (A
*type* named ``_g`` would shadow the runtime alias; `check` rejects that, E0034.) This
generates such a schema and round-trips it through every path."""

from __future__ import annotations

import numpy as np
from conftest import Generated

LOCALS = """
package locals;

component Part { _b: u8, cls: f32[2], self: str }

sample Shadow {
    _b: u8,
    _g: Part,
    self: f32,
    cls: i32 = 7,
    np: u8[3],
    npt: bool,
    v: f64?,
    r: str,
    w: list<u8>,
    data: bytes,
    path: u16[_],
    out: map<str, u8>,
    buf: i8 @bits(4),
    dims: u8[N],
    rng: u8[N],
}
"""


def test_generated_locals_do_not_clash(gen: Generated) -> None:
    mod = gen.compile_text("locals", LOCALS)
    cls = mod.Shadow
    for seed in range(5):
        s = cls.random(seed)
        s.validate()
        assert cls.from_bytes(s.packed) == s
        assert cls.from_json(s.to_json()) == s
    d = cls.default()
    assert d.cls == 7
    samples = [cls.random(np.random.default_rng(i)) for i in range(3)]
    batch = mod.ShadowBatch.from_samples(samples)
    assert batch.to_samples() == samples

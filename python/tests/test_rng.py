"""SplitMix64 checked against the formula computed independently with Python ints."""

from __future__ import annotations

import numpy as np

from schemac_runtime.rng import SplitMix64


def reference(seed: int, n: int) -> list[int]:
    m = 2**64
    state = seed % m
    out = []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) % m
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % m
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % m
        out.append(z ^ (z >> 31))
    return out


def test_seed0_first_outputs() -> None:
    r = SplitMix64(0)
    got = [r.next_u64() for _ in range(5)]
    assert got == reference(0, 5)
    # the well-known first outputs of SplitMix64 from seed 0
    assert got[:3] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_other_seeds() -> None:
    for seed in (1, 42, 2**64 - 1, 0xDEADBEEF):
        r = SplitMix64(seed)
        assert [r.next_u64() for _ in range(8)] == reference(seed, 8)


def test_next_f64() -> None:
    r = SplitMix64(7)
    refs = reference(7, 100)
    for z in refs:
        f = r.next_f64()
        assert f == (z >> 11) / 2**53
        assert 0.0 <= f < 1.0


def test_vectorised_matches_scalar() -> None:
    a = SplitMix64(123)
    b = SplitMix64(123)
    arr = a.u64_array(1000)
    assert arr.dtype == np.uint64
    assert [int(x) for x in arr] == [b.next_u64() for _ in range(1000)]
    assert a.state == b.state
    assert a.next_u64() == b.next_u64()
    fa = SplitMix64(5).f64_array(50)
    fb = SplitMix64(5)
    assert fa.tolist() == [fb.next_f64() for _ in range(50)]
    assert SplitMix64(1).u64_array(0).shape == (0,)

"""SplitMix64, the deterministic generator behind generated ``random()`` helpers.

This module owns the random stream; the Rust runtime (``crates/runtime/src/rng.rs``) uses
the same generator, so both targets draw the same numbers from the same seed::

    state = (state + 0x9E3779B97F4A7C15) mod 2**64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) mod 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) mod 2**64
    return z ^ (z >> 31)

``next_f64`` is the top 53 bits of ``next_u64`` divided by ``2**53`` (in ``[0, 1)``).
:meth:`SplitMix64.u64_array` / :meth:`SplitMix64.f64_array` draw ``n`` successive values at
once with numpy (identical to ``n`` scalar calls).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SplitMix64"]

_MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB


class SplitMix64:
    """A SplitMix64 generator. ``state`` is the current 64-bit state (the seed at first)."""

    __slots__ = ("state",)

    def __init__(self, seed: int = 0) -> None:
        self.state = seed & _MASK

    def next_u64(self) -> int:
        self.state = (self.state + GAMMA) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * MUL1) & _MASK
        z = ((z ^ (z >> 27)) * MUL2) & _MASK
        return z ^ (z >> 31)

    def next_f64(self) -> float:
        """Uniform in ``[0, 1)``: top 53 bits / 2**53."""
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))

    def u64_array(self, n: int) -> npt.NDArray[np.uint64]:
        """The next ``n`` outputs of :meth:`next_u64`, as a uint64 array (advances the state)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        steps = np.arange(1, n + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = np.uint64(self.state) + steps * np.uint64(GAMMA)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(MUL1)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(MUL2)
            z ^= z >> np.uint64(31)
        self.state = (self.state + n * GAMMA) & _MASK
        out: npt.NDArray[np.uint64] = z
        return out

    def f64_array(self, n: int) -> npt.NDArray[np.float64]:
        """The next ``n`` outputs of :meth:`next_f64`."""
        out: npt.NDArray[np.float64] = (self.u64_array(n) >> np.uint64(11)).astype(np.float64) * (
            1.0 / (1 << 53)
        )
        return out

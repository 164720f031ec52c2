//! The small seeded generator behind every generated `random()`.
//!
//! Owns [`Rng`], a SplitMix64 generator, and the exact recipe of every derived draw, so the
//! Python runtime can reproduce random samples bit for bit. Each method's doc gives its
//! recipe in terms of [`Rng::next_u64`]; changing any of them changes every generated
//! random sample, so treat them as part of the wire contract.

/// SplitMix64 (Steele, Lea & Flood 2014) with the constants of Vigna's reference code.
///
/// Not cryptographic; chosen because it is tiny, fast, and trivially ported:
/// ```text
/// state += 0x9E3779B97F4A7C15            (wrapping)
/// z = state
/// z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 (wrapping)
/// z = (z ^ (z >> 27)) * 0x94D049BB133111EB (wrapping)
/// return z ^ (z >> 31)
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

/// The characters [`Rng::string`] draws from, in this order.
pub const ALPHANUMERIC: &[u8; 62] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Rng {
    /// A generator whose state is `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// The next 64 random bits (the SplitMix64 step above).
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`: `(next_u64() >> 11) * 2^-53`.
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform-ish in `[0, n)`: `(next_u64() * n) >> 64` in 128-bit arithmetic (Lemire's
    /// multiply-shift, one draw, bias below `n / 2^64`). `below(0)` is 0 and draws nothing.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]`, both inclusive: `lo + below(hi - lo + 1)`, or the raw
    /// `next_u64()` reinterpreted when the span is all 2^64 values. `hi < lo` gives `lo`
    /// without drawing.
    pub fn range_i64(&mut self, lo: i64, hi: i64) -> i64 {
        self.range_i128(i128::from(lo), i128::from(hi)) as i64
    }

    /// Uniform in `[lo, hi]`, both inclusive; same recipe as [`Rng::range_i64`].
    pub fn range_u64(&mut self, lo: u64, hi: u64) -> u64 {
        self.range_i128(i128::from(lo), i128::from(hi)) as u64
    }

    /// The shared recipe of the inclusive integer ranges. The span is at most 2^64 because
    /// callers pass values of one 64-bit type.
    pub(crate) fn range_i128(&mut self, lo: i128, hi: i128) -> i128 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u128 + 1;
        if span > u128::from(u64::MAX) {
            // All 2^64 values: the raw draw, offset so that 0 maps to `lo`.
            return lo + i128::from(self.next_u64());
        }
        lo + i128::from(self.below(span as u64))
    }

    /// `lo + (hi - lo) * next_f64()`: in `[lo, hi)` up to rounding.
    #[inline]
    pub fn range_f64(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// The top bit of `next_u64()`.
    #[inline]
    pub fn bool(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// Length `below(max_len + 1)`, then each char `ALPHANUMERIC[below(62)]`.
    pub fn string(&mut self, max_len: usize) -> String {
        let len = self.below((max_len as u64).saturating_add(1)) as usize;
        (0..len)
            .map(|_| char::from(ALPHANUMERIC[self.below(62) as usize]))
            .collect()
    }

    /// Length `below(max_len + 1)`, then each byte the top 8 bits of `next_u64()`.
    pub fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below((max_len as u64).saturating_add(1)) as usize;
        (0..len).map(|_| (self.next_u64() >> 56) as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs for seed 1234567 from Vigna's splitmix64.c.
        let mut r = Rng::new(1234567);
        let expected = [
            6457827717110365317u64,
            3203168211198807973,
            9817491932198370423,
            4593380528125082431,
            16408922859458223821,
        ];
        for e in expected {
            assert_eq!(r.next_u64(), e);
        }
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let v = r.range_i64(-3, 5);
            assert!((-3..=5).contains(&v));
            let f = r.range_f64(-1.0, 1.0);
            assert!((-1.0..1.0).contains(&f));
            assert!(r.below(10) < 10);
            let u = r.range_u64(u64::MAX - 1, u64::MAX);
            assert!(u >= u64::MAX - 1);
        }
        assert_eq!(r.range_i64(4, 2), 4);
        assert_eq!(r.below(0), 0);
        // Full span must not overflow.
        let _ = r.range_i64(i64::MIN, i64::MAX);
        let _ = r.range_u64(0, u64::MAX);
        let s = r.string(8);
        assert!(s.len() <= 8 && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(r.bytes(4).len() <= 4);
    }
}

//! A small seeded generator (SplitMix64), so data and positions are reproducible on every
//! platform, the browser included, without an OS entropy source.

/// SplitMix64 (Steele, Lea and Flood 2014): a 64-bit state advanced by a constant (the golden
/// ratio's "gamma") and mixed on output. Not cryptographic. Cloning copies the stream.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// The generator for `seed`: the same seed gives the same stream on every platform. The seed
    /// is XORed with the gamma so that seed 0 does not start from state 0.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 uniformly random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The `i`-th value (from 0) that [`Rng::next_u64`] would return from this state, computed
    /// without drawing the `i` before it and without advancing `self` (SplitMix64 steps by a
    /// constant, so it can jump): `nth(0)` is the next value. Generation seeds each step with
    /// `nth(step)`, so a step's draws do not depend on how the steps are chunked.
    pub fn nth(&self, i: u64) -> u64 {
        Rng(self.0.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))).next_u64()
    }

    /// Uniform in `[0, 1)`, from the top 53 bits (every value a multiple of `2^-53`).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)` (for `lo < hi`).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in `0..n`, for `n > 0`, by Lemire's multiply-shift (bias below `n / 2^64`,
    /// no rejection loop). `n == 0` returns 0 rather than panicking.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place into a uniformly random permutation (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

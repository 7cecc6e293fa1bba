//! The lecture's toy sequences: length `T`, values in `0..2T`, starting at `T`, linear with a
//! slope drawn from U[-1, 1] until a cut drawn uniformly in `1..=T`, then restarting at `T` with
//! a new slope. The two features to learn: a macro structure (the cut) and a local affine one.

use crate::rng::Rng;

/// The sequences' length `T` everywhere a length is not given (`train --len`, the page).
pub const LEN: usize = 32;
/// The seed of the training sequences (the trainer mixes its `--seed` into the upper bytes).
pub const TRAIN_SEED: u64 = 1;
/// The seed of the test sequences: the same held-out set for `eval` and the page's training.
pub const TEST_SEED: u64 = 2;
/// How many test sequences `eval` and the page's training score.
pub const TEST_SEQUENCES: usize = 1000;

/// Value at step `k` of a run that starts at `len` with slope `slope`, rounded and clamped.
fn run_value(len: usize, slope: f64, k: usize) -> u16 {
    let v = (len as f64 + slope * k as f64).round();
    v.clamp(0.0, (2 * len - 1) as f64) as u16
}

/// One toy sequence of length `len` (the lecture's `T`), values in `0..2T`: two linear runs
/// from `T`, slopes uniform in `[-1, 1]`, the second from a cut uniform in `1..=T` (`T`: no
/// second run).
pub fn toy_sequence(rng: &mut Rng, len: usize) -> Vec<u16> {
    let first = rng.uniform_in(-1.0, 1.0);
    let second = rng.uniform_in(-1.0, 1.0);
    // The first `cut` values follow the first slope; with cut = T there is no restart.
    let cut = 1 + rng.below(len);
    (0..len)
        .map(|k| if k < cut { run_value(len, first, k) } else { run_value(len, second, k - cut) })
        .collect()
}

/// `count` toy sequences of length `len` from `seed`, row-major (`count * len` values): the
/// same seed gives the same data everywhere.
pub fn toy_dataset(seed: u64, count: usize, len: usize) -> Vec<u16> {
    let mut rng = Rng::new(seed);
    (0..count).flat_map(|_| toy_sequence(&mut rng, len)).collect()
}

/// Slopes `a` with `round(T + a k) = y` satisfy `(2(y-T) - 1) / 2k <= a < (2(y-T) + 1) / 2k`.
/// Bounds are kept as exact fractions `num / den` (den > 0) so the check is exact.
#[derive(Clone, Copy)]
struct Frac(i64, i64);

impl Frac {
    fn lt(self, other: Frac) -> bool {
        self.0 * other.1 < other.0 * self.1
    }
}

/// Whether `values` is one run from `len` with a single slope in [-1, 1].
fn is_run(values: &[u16], len: usize) -> bool {
    let t = len as i64;
    if values.first().is_some_and(|&v| v as i64 != t) {
        return false;
    }
    // Lower bounds are inclusive; upper bounds exclusive, but for the slope's own bound 1.
    let mut lo = Frac(-1, 1);
    let mut hi = Frac(1, 1);
    let mut hi_inclusive = true;
    for (k, &y) in values.iter().enumerate().skip(1) {
        let (d, den) = (2 * (y as i64 - t), 2 * k as i64);
        let (l, h) = (Frac(d - 1, den), Frac(d + 1, den));
        if lo.lt(l) {
            lo = l;
        }
        if !hi.lt(h) {
            (hi, hi_inclusive) = (h, false);
        }
    }
    if hi_inclusive { !hi.lt(lo) } else { lo.lt(hi) }
}

/// Whether the generator could have produced `seq` exactly: `x1 = T` and some cut splits it
/// into a prefix and a suffix, each one run from `T` with one slope in [-1, 1]. `T` is
/// `seq.len()`. Exact (rational bounds, no floating point): the check of generated samples.
pub fn is_valid(seq: &[u16]) -> bool {
    let len = seq.len();
    (1..=len).any(|cut| is_run(&seq[..cut], len) && is_run(&seq[cut..], len))
}

/// The rounding patterns of one run of `len_run` values from `len` (slopes in [-1, 1]): each
/// pattern with the probability that a uniform slope produces it.
fn run_patterns(len: usize, len_run: usize) -> Vec<(Vec<u16>, f64)> {
    // Slope breakpoints where some round(T + a k) changes: a = (j + 1/2) / k.
    let mut cuts: Vec<f64> = vec![-1.0, 1.0];
    for k in 1..len_run {
        for j in -(k as i64)..(k as i64) {
            let a = (j as f64 + 0.5) / k as f64;
            if a > -1.0 && a < 1.0 {
                cuts.push(a);
            }
        }
    }
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    cuts.windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| {
            let mid = 0.5 * (w[0] + w[1]);
            ((0..len_run).map(|k| run_value(len, mid, k)).collect(), (w[1] - w[0]) / 2.0)
        })
        .collect()
}

/// The exact entropy of the toy generator, in nats per position: the floor of any model's
/// cross-entropy on its sequences. Enumerates every (cut, first pattern, second pattern) and
/// merges the sequences several of them produce. About a second for `T = 32`.
pub fn generator_entropy(len: usize) -> f64 {
    use std::collections::HashMap;
    let patterns: Vec<Vec<(Vec<u16>, f64)>> = (0..=len).map(|m| run_patterns(len, m)).collect();
    let mut probability: HashMap<Vec<u16>, f64> = HashMap::new();
    for cut in 1..=len {
        let p_cut = 1.0 / len as f64;
        for (first, pa) in &patterns[cut] {
            for (second, pb) in &patterns[len - cut] {
                let seq: Vec<u16> = first.iter().chain(second).copied().collect();
                *probability.entry(seq).or_default() += p_cut * pa * pb;
            }
        }
    }
    -probability.values().map(|&p| p * p.ln()).sum::<f64>() / len as f64
}

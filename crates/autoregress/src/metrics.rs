//! Exact evaluation: the negative log-likelihood of whole sequences, summed over all their
//! positions, `-sum_t log p(x_t | x_1..x_{t-1})`; perplexity and bits per dimension from it.

use crate::batch::{cross_entropy, sequences_tensor};
use crate::event::prefix_mask;
use crate::models::{ArModel, RowSkip};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// The summed negative log-likelihood (nats) of the `[K, L]` sequences, over all `K * L`
/// conditionals, as a one-element tensor (read it back when convenient). The conditionals go
/// through the model one row of positions at a time (`width` of them; the whole sequence for the
/// toy), so that an image model skips the rows below, which nothing is known of yet.
/// `row_skip` must come from `model` ([`ArModel::row_skip`]); values must be in `0..C`.
pub fn nll_sum(model: &ArModel, row_skip: &RowSkip, sequences: Tensor<2, Int>) -> Tensor<1> {
    let [k, len] = sequences.dims();
    let device = sequences.device();
    let band = model.spec.width.clamp(1, len);
    let mut total = Tensor::<1>::zeros([1], &device);
    for start in (0..len).step_by(band) {
        let end = (start + band).min(len);
        let m = end - start;
        // Row i of the band's masks predicts position start + i: it knows positions before it.
        let tri: Vec<f32> = (start..end).flat_map(|t| prefix_mask(t, len)).collect();
        let mask = Tensor::<3>::from_data(TensorData::new(tri, [1, m, len]), &device)
            .expand([k, m, len])
            .reshape([k * m, len]);
        let repeated = sequences.clone().reshape([k, 1, len]).expand([k, m, len]).reshape([k * m, len]);
        // The last row knows positions 0..end-1: the mask is 0 from end - 1 on.
        let logits = model.logits_row_skipped(row_skip, repeated, mask, end - 1);
        let targets = sequences.clone().slice([0..k, start..end]).reshape([k * m]);
        total = total + cross_entropy(logits, targets).sum();
    }
    total
}

/// Summed negative log-likelihood (nats) of `count` sequences (row-major), in chunks of about
/// `rows_per_pass` conditionals; `progress(done, count)` after each chunk. Native only: it reads
/// back synchronously. Divide by `count * L` for nats per position ([`bits_per_dim`] from
/// there); `exp` of that is the perplexity.
///
/// # Panics
/// When `sequences` holds fewer than `count * L` values (`L` the model's sequence length), or
/// where the device cannot be read synchronously.
pub fn total_nll<V: Copy + Into<i64>>(
    model: &ArModel,
    sequences: &[V],
    count: usize,
    rows_per_pass: usize,
    device: &Device,
    mut progress: impl FnMut(usize, usize),
) -> f64 {
    let len = model.spec.seq_len;
    let per_chunk = (rows_per_pass / len).max(1);
    let row_skip = model.row_skip();
    let mut total = 0.0;
    let mut done = 0;
    while done < count {
        let k = per_chunk.min(count - done);
        let chunk = sequences_tensor(&sequences[done * len..(done + k) * len], k, len, device);
        let sum: f32 = nll_sum(model, &row_skip, chunk).into_scalar();
        total += sum as f64;
        done += k;
        progress(done, count);
    }
    total
}

/// Nats per position to bits per dimension (`/ ln 2`), the unit image likelihoods are
/// usually reported in.
pub fn bits_per_dim(nats_per_position: f64) -> f64 {
    nats_per_position / std::f64::consts::LN_2
}

/// The simple baseline: an independent histogram per position, with add-`alpha` smoothing,
/// learned on `train` and scored on `test` (both row-major, `len` values each, in `0..classes`).
/// Returns nats per position (mean over every test value). The floor any model must beat: it
/// ignores every dependence between positions.
///
/// # Panics
/// When `len` is 0, or possibly for a value `>= classes` (which otherwise silently lands in
/// another position's counts). An empty `test` gives NaN.
pub fn histogram_baseline_nats(train: &[u8], test: &[u8], len: usize, classes: usize, alpha: f64) -> f64 {
    let n_train = train.len() / len;
    let mut counts = vec![0u32; len * classes];
    for seq in train.chunks(len) {
        for (p, &v) in seq.iter().enumerate() {
            counts[p * classes + v as usize] += 1;
        }
    }
    let denom = n_train as f64 + alpha * classes as f64;
    let total: f64 = test
        .chunks(len)
        .flat_map(|seq| seq.iter().enumerate())
        .map(|(p, &v)| -((counts[p * classes + v as usize] as f64 + alpha) / denom).ln())
        .sum();
    total / test.len() as f64
}

/// The exact negative log-likelihood (nats, summed) of the `erased` positions of the `[K, L]`
/// sequences given all the others, as a one-element tensor: the chain rule through the erased
/// positions in raster order, `-sum_{i erased} log p(x_i | x_j for j not erased or j < i)`.
///
/// An any-order model gets exactly that conditioning. A lecture model conditions each position
/// on the raster prefix only (what it was trained on), so its figure is the same sum with
/// `p(x_i | x_j, j < i)`: it cannot use the known pixels after a position. An empty region gives
/// 0; the whole sequence gives [`nll_sum`].
///
/// # Panics
/// When `erased` is not `L` long. `row_skip` must come from `model` ([`ArModel::row_skip`]).
pub fn region_nll_sum(model: &ArModel, row_skip: &RowSkip, sequences: Tensor<2, Int>, erased: &[bool]) -> Tensor<1> {
    let [k, len] = sequences.dims();
    assert_eq!(erased.len(), len, "one erased flag per position");
    let device = sequences.device();
    let targets: Vec<usize> = (0..len).filter(|&p| erased[p]).collect();
    let mut total = Tensor::<1>::zeros([1], &device);
    let any_order = model.spec.kind.is_any_order();
    let band = model.spec.width.clamp(1, len);
    for chunk in targets.chunks(band) {
        let m = chunk.len();
        let masks: Vec<f32> = chunk
            .iter()
            .flat_map(|&t| {
                (0..len).map(move |p| {
                    let known = if any_order { !erased[p] || p < t } else { p < t };
                    known as u8 as f32
                })
            })
            .collect();
        let mask = Tensor::<3>::from_data(TensorData::new(masks, [1, m, len]), &device)
            .expand([k, m, len])
            .reshape([k * m, len]);
        let repeated = sequences.clone().reshape([k, 1, len]).expand([k, m, len]).reshape([k * m, len]);
        let idx: Vec<i64> = chunk.iter().map(|&t| t as i64).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [m]), &device);
        let wanted = sequences.clone().select(1, idx).reshape([k * m]);
        let logits = if any_order {
            // Row r of each sequence's block predicts position chunk[r].
            let all = model.all_logits(repeated, mask);
            let c = model.spec.num_values;
            let at: Vec<i64> = (0..k * m).map(|i| chunk[i % m] as i64).collect();
            let position = Tensor::<3, Int>::from_data(TensorData::new(at, [k * m, 1, 1]), &device).expand([k * m, c, 1]);
            all.gather(2, position).reshape([k * m, c])
        } else {
            let end = chunk[m - 1];
            model.logits_row_skipped(row_skip, repeated, mask, end)
        };
        total = total + cross_entropy(logits, wanted).sum();
    }
    total
}

/// The order-agnostic estimate of the negative log-likelihood per position (nats) of the `[K, L]`
/// sequences: for each sequence, `draws` random sets of known positions, each scored by the mean
/// cross-entropy over the unknown ones. Draw `j` of `D` takes its count `t` from the `j`-th of `D`
/// strata of a density proportional to `(L - t)^(-large_count_bias)` (0: uniform; 0.5 for images,
/// whose scores vary most at large counts) with an importance weight that undoes it, then a
/// uniformly random set of `t` known positions. The weighted expectation is the mean over uniform
/// counts, that is the NLL under a uniformly random visiting order (Uria et al. 2014); the
/// stratification and the bias lower its variance (docs/experiments.md has the figures).
/// Returns each sequence's mean score over its draws, `K` values: independent, for a mean and a
/// standard error (the draws of one sequence are not).
///
/// `draws` must be at least 1 (0 gives all-zero scores). Reads back synchronously (native only).
///
/// # Panics
/// For a lecture model, which cannot condition on arbitrary sets; where the device cannot be
/// read synchronously; for `large_count_bias` outside `[0, 1)`.
pub fn order_agnostic_scores(model: &ArModel, sequences: Tensor<2, Int>, draws: usize, large_count_bias: f64, rng: &mut crate::rng::Rng) -> Vec<f64> {
    assert!((0.0..1.0).contains(&large_count_bias), "the bias towards large counts must be in [0, 1), not {large_count_bias}");
    use crate::batch::random_set_mask;
    let [k, len] = sequences.dims();
    let mut scores = vec![0.0; k];
    for j in 0..draws {
        let (counts, weights): (Vec<usize>, Vec<f64>) = (0..k).map(|_| weighted_count(j, draws, len, large_count_bias, rng.uniform())).unzip();
        let masks: Vec<f32> = counts.iter().flat_map(|&t| random_set_mask(rng, len, t)).collect();
        let per = unknown_mean_cross_entropy(model, sequences.clone(), masks);
        for ((total, score), weight) in scores.iter_mut().zip(per).zip(weights) {
            *total += weight * score as f64 / draws as f64;
        }
    }
    scores
}

/// Each sequence's mean cross-entropy (nats) over its unknown positions, for integer sequences
/// `[N, L]` known where `masks` (`N * L`, row-major) is 1: [`crate::batch::unknown_cross_entropy`]
/// of [`ArModel::all_logits`], with the image network's logits computed at the unknown positions
/// only ([`ArModel::rows_cross_entropy`]). A sequence with no unknown position scores 0.
///
/// # Panics
/// For a lecture model, or when `masks` does not hold `N * L` values.
pub fn unknown_mean_cross_entropy(model: &ArModel, sequences: Tensor<2, Int>, masks: Vec<f32>) -> Vec<f32> {
    use crate::batch::unknown_cross_entropy;
    let [k, len] = sequences.dims();
    assert_eq!(masks.len(), k * len, "one mask per sequence");
    let unknown: Vec<i64> = (0..k * len).filter(|&i| masks[i] == 0.0).map(|i| i as i64).collect();
    let mask = Tensor::<2>::from_data(TensorData::new(masks, [k, len]), &sequences.device());
    match model.rows_cross_entropy(sequences.clone(), mask.clone(), &unknown) {
        Some(ce) => {
            let mut sums = vec![(0f64, 0usize); k];
            for (&at, ce) in unknown.iter().zip(crate::host::floats(ce)) {
                let s = &mut sums[at as usize / len];
                *s = (s.0 + ce as f64, s.1 + 1);
            }
            sums.into_iter().map(|(sum, count)| (sum / count.max(1) as f64) as f32).collect()
        }
        None => crate::host::floats(unknown_cross_entropy(model.all_logits(sequences.clone(), mask.clone()), sequences, mask)),
    }
}

/// The known count of draw `j` of `draws` over `len` positions, and its importance weight.
///
/// A draw's score is the mean over its `len - t` unknown positions. For images its variance grows
/// about as `1 / (len - t)` (the committed MNIST weights: 0.003 nats² at 700 unknown, 0.14 at 16),
/// so the counts are drawn with a density proportional to `(len - t)^(-bias)` (Neyman's
/// allocation at `bias` 0.5: more draws where the scores vary most), stratified over the draws:
/// `v = (j + u) / draws`, uniform in `[0, 1)` when `j` and `u` are, gives
/// `x = len (1 - (1 - v)^(1 / (1 - bias)))` and `t = floor(x)`, weighted by `(1 / len) / q(t)`,
/// `q(t) = r(t) - r(t + 1)` with `r(t) = ((len - t) / len)^(1 - bias)` the probability of `t`: the
/// weighted score's expectation is the mean over uniform counts. `bias` 0: uniform counts, weight 1.
///
/// `bias` must be in `[0, 1)`.
fn weighted_count(j: usize, draws: usize, len: usize, bias: f64, u: f64) -> (usize, f64) {
    let v = (j as f64 + u) / draws as f64;
    let power = 1.0 - bias;
    let t = ((len as f64 * (1.0 - (1.0 - v).powf(1.0 / power))) as usize).min(len.saturating_sub(1));
    let r = |t: usize| ((len - t) as f64 / len as f64).powf(power);
    (t, 1.0 / (len as f64 * (r(t) - r(t + 1))))
}

/// Mean and standard error of the mean (sample standard deviation over `sqrt(n)`); `(0, 0)` for
/// no values, a standard error of 0 for one.
pub fn mean_and_standard_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n.max(1.0);
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n.max(1.0)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::weighted_count;

    #[test]
    fn weighted_counts_give_every_count_the_same_weight_and_stay_in_their_strata() {
        // 784 positions, 64 draws: with u on a fine grid, each count's total weight is 1/784 of
        // the whole (the weighted estimate is the mean over uniform counts) and draw j's counts
        // rise with j; at bias 0.5 more draws go to large counts than to small ones, at 0 the
        // counts are uniform with weight 1.
        let (len, draws, grid) = (784, 64, 784 * 16);
        for bias in [0.0, 0.5] {
            let mut weight = vec![0f64; len];
            let mut hits = vec![0usize; len];
            let mut last = 0;
            for j in 0..draws {
                for g in 0..grid {
                    let (t, w) = weighted_count(j, draws, len, bias, (g as f64 + 0.5) / grid as f64);
                    assert!(t >= last, "draw {j} gave count {t} after {last}");
                    last = t;
                    weight[t] += w / (draws * grid) as f64;
                    hits[t] += 1;
                }
            }
            for (t, w) in weight.iter().enumerate() {
                assert!((w * len as f64 - 1.0).abs() < 0.02, "bias {bias}, count {t}: weight {w}");
            }
            let (first, last) = (hits[0] as f64, hits[len - 1] as f64);
            if bias == 0.0 {
                assert!((last / first - 1.0).abs() < 0.01, "{last} draws at {}, {first} at 0", len - 1);
            } else {
                assert!(last > 20.0 * first, "{last} draws at {}, {first} at 0", len - 1);
            }
        }
    }
}

/// The range of every channel's activation, per layer of the any-order image network, over the
/// inputs [`ChannelRanges::observe`] was shown: a channel whose activation never varies (a ReLU
/// never positive) is dead, a unit that passes nothing on and gets no gradient.
#[derive(Clone, Debug, Default)]
pub struct ChannelRanges {
    /// Per layer, in the order the network shows them: its name, each channel's min and max.
    layers: Vec<(&'static str, Vec<f32>, Vec<f32>)>,
}

/// One layer's dead channels.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadChannels {
    /// The layer's name ([`crate::models::PROBED_LAYERS`]).
    pub layer: &'static str,
    /// Its channels.
    pub channels: usize,
    /// The indices of those whose activation never varied.
    pub dead: Vec<usize>,
}

/// Activations that differ by no more than this count as not varying.
const UNVARYING: f32 = 1e-6;

impl ChannelRanges {
    /// Folds in the activations of `model` for integer sequences `[N, L]` known where `mask` is
    /// 1. Returns false, and folds nothing, for a model other than the any-order image network.
    /// Reads back synchronously (native only).
    pub fn observe(&mut self, model: &ArModel, sequences: Tensor<2, Int>, mask: Tensor<2>) -> bool {
        let mut seen = Vec::new();
        let probed = model.probe_activations(sequences, mask, &mut |name, x| {
            let [n, c, h, w] = x.dims();
            let per_channel = x.clone().swap_dims(0, 1).reshape([c, n * h * w]);
            let lo = crate::host::floats(per_channel.clone().min_dim(1));
            let hi = crate::host::floats(per_channel.max_dim(1));
            seen.push((name, lo, hi));
        });
        for (i, (name, lo, hi)) in seen.into_iter().enumerate() {
            match self.layers.get_mut(i) {
                Some((_, min, max)) => {
                    min.iter_mut().zip(&lo).for_each(|(m, &v)| *m = m.min(v));
                    max.iter_mut().zip(&hi).for_each(|(m, &v)| *m = m.max(v));
                }
                None => self.layers.push((name, lo, hi)),
            }
        }
        probed
    }

    /// Per layer, the channels whose activation never varied over the inputs observed.
    pub fn dead(&self) -> Vec<DeadChannels> {
        self.layers
            .iter()
            .map(|(layer, lo, hi)| DeadChannels {
                layer,
                channels: lo.len(),
                dead: lo.iter().zip(hi).enumerate().filter(|(_, (l, h))| **h - **l <= UNVARYING).map(|(i, _)| i).collect(),
            })
            .collect()
    }
}

//! The lecture's training batch: in each sequence pick one position to predict; the mask covers
//! the positions before it, the values are normalized and masked, the target is the value there.
//! Also the any-order models' batches: random sets of known positions ([`MaskMix`]), scored over
//! the unknown ones (Uria et al. 2014; Hoogeboom et al. 2021; Shih et al. 2022).

use crate::models::ArModel;
use crate::rng::Rng;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Inputs and targets for one gradient step of a lecture model (one predicted position per
/// sequence; see [`training_batch`]).
#[derive(Clone, Debug)]
pub struct TrainingBatch {
    /// `[N, L]`, 1 before each sequence's target position.
    pub mask: Tensor<2>,
    /// `[N, L]` sequences as integers (the model normalizes and masks them).
    pub sequences: Tensor<2, Int>,
    /// `[N]` the values to predict.
    pub targets: Tensor<1, Int>,
}

/// One position per sequence (`count` of them), uniform in `0..len` (all 0 when `len` is 0).
pub fn random_positions(rng: &mut Rng, count: usize, len: usize) -> Vec<usize> {
    (0..count).map(|_| rng.below(len)).collect()
}

/// The batch for `sequences` (`[N, L]`) predicting position `positions[n]` of sequence `n`: the
/// mask is the lecture's `tics < position`, the target the value at `position`.
///
/// # Panics
/// When `positions` does not hold one position per sequence (`N` of them). Positions must be
/// below `L`: there is no target beyond the sequence.
pub fn training_batch(sequences: Tensor<2, Int>, positions: &[usize]) -> TrainingBatch {
    let [n, len] = sequences.dims();
    assert_eq!(positions.len(), n, "one position per sequence");
    let device = sequences.device();
    let idx: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
    let idx = Tensor::<2, Int>::from_data(TensorData::new(idx, [n, 1]), &device);
    let targets = sequences.clone().gather(1, idx.clone()).reshape([n]);
    let tics = Tensor::<1, Int>::arange(0..len as i64, &device).reshape([1, len]).expand([n, len]);
    let mask = tics.lower(idx.expand([n, len])).float();
    TrainingBatch { mask, sequences, targets }
}

impl TrainingBatch {
    /// Mean cross-entropy (nats) of `model` on this batch, a one-element tensor for backward:
    /// the lecture's loss, each sequence's next value at its position given the prefix.
    pub fn loss(&self, model: &ArModel) -> Tensor<1> {
        let logits = model.logits(self.sequences.clone(), self.mask.clone());
        cross_entropy(logits, self.targets.clone()).mean()
    }
}

/// Per-row cross-entropy `-log softmax(logits)[target]` (nats), `[N]`, from logits `[N, C]` and
/// targets `[N]` in `0..C`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    let log_p = burn::tensor::activation::log_softmax(logits, 1);
    log_p.gather(1, targets.reshape([n, 1])).reshape([n]).neg()
}

/// Integer sequences (row-major, `count x len`) as a `[count, len]` tensor on `device`.
///
/// # Panics
/// When `values` does not hold exactly `count * len` values.
pub fn sequences_tensor<V: Copy + Into<i64>>(
    values: &[V],
    count: usize,
    len: usize,
    device: &Device,
) -> Tensor<2, Int> {
    let data: Vec<i64> = values.iter().map(|&v| v.into()).collect();
    Tensor::from_data(TensorData::new(data, [count, len]), device)
}

/// Mean and standard deviation of all values, for input normalization ([`ModelSpec`]'s `mean`
/// and `std`). The population deviation (divided by `n`), floored at `1e-6` so that constant
/// data still gives a valid spec; no values give `(0, 1e-6)`.
///
/// [`ModelSpec`]: crate::ModelSpec
pub fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f32, f32) {
    let (mut n, mut sum, mut sq) = (0f64, 0f64, 0f64);
    for v in values {
        n += 1.0;
        sum += v;
        sq += v * v;
    }
    let mean = sum / n.max(1.0);
    let var = (sq / n.max(1.0) - mean * mean).max(0.0);
    (mean as f32, (var.sqrt() as f32).max(1e-6))
}

/// How the known positions of an any-order training example are drawn ([`training_mask`]). The
/// weights are the relative probabilities of each family: non-negative, they need not sum to 1
/// (all 0: uniform only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskMix {
    /// A count `t` uniform in `0..L`, then a uniformly random set of `t` known positions: the
    /// order-agnostic objective of Uria et al. 2014 / Hoogeboom et al. 2021.
    pub uniform: f64,
    /// The first `t` positions in raster order, `t` uniform in `0..L`: the conditionals of
    /// left-to-right generation (Shih et al. 2022 weigh training toward the orders used).
    pub prefix: f64,
    /// Everything outside a named region (a half or the centre) known, and inside it a raster
    /// prefix of random length: the conditionals of in-painting that region in raster order.
    pub region: f64,
}

impl MaskMix {
    /// Only the order-agnostic objective.
    pub const UNIFORM: MaskMix = MaskMix { uniform: 1.0, prefix: 0.0, region: 0.0 };
}

/// One training mask (`height * width` flags in raster order, 1.0 known, 0.0 unknown) drawn
/// from `mix`. For sequences, `height` is 1, and the region family falls back to a prefix.
/// At least one position is unknown, so the example has something to predict (but for a region
/// family draw whose region is empty, as the centre of an image narrower than 2).
pub fn training_mask(rng: &mut Rng, height: usize, width: usize, mix: &MaskMix) -> Vec<f32> {
    use crate::region::Region;
    let len = height * width;
    let total = mix.uniform + mix.prefix + mix.region;
    let pick = rng.uniform() * total;
    if pick < mix.uniform || total <= 0.0 {
        let t = rng.below(len);
        return random_set_mask(rng, len, t);
    }
    let mut mask = vec![0.0f32; len];
    if pick < mix.uniform + mix.prefix || height < 2 {
        mask[..rng.below(len)].fill(1.0);
    } else {
        let region = Region::NAMED[rng.below(Region::NAMED.len())];
        let erased = region.erased(height, width, rng);
        let inside: Vec<usize> = (0..len).filter(|&p| erased[p]).collect();
        let t = rng.below(inside.len().max(1));
        for p in 0..len {
            mask[p] = if erased[p] { 0.0 } else { 1.0 };
        }
        for &p in &inside[..t] {
            mask[p] = 1.0;
        }
    }
    mask
}

/// A mask of `len` flags (1.0 known) with a uniformly random set of `t` known positions.
///
/// # Panics
/// When `t > len`.
pub fn random_set_mask(rng: &mut Rng, len: usize, t: usize) -> Vec<f32> {
    assert!(t <= len, "{t} known positions out of {len}");
    let mut mask = vec![0.0f32; len];
    let mut positions: Vec<usize> = (0..len).collect();
    // A partial Fisher-Yates: the first t of a uniform random permutation.
    for i in 0..t {
        positions.swap(i, i + rng.below(len - i));
        mask[positions[i]] = 1.0;
    }
    mask
}

/// An any-order training batch: sequences and, per sequence, a set of known positions; the
/// targets are all the unknown positions (see [`AnyOrderBatch::loss`]).
#[derive(Clone, Debug)]
pub struct AnyOrderBatch {
    /// `[N, L]`, 1 at the known positions, at least one 0 per row.
    pub mask: Tensor<2>,
    /// `[N, L]` sequences as integers.
    pub sequences: Tensor<2, Int>,
    /// The unknown positions, flat indices `n L + l`, and each one's weight in the loss,
    /// `1 / (N * unknown positions of its sequence)`.
    unknown: Vec<i64>,
    weights: Vec<f32>,
}

/// The batch for `sequences` (`[N, L]`) with `masks` (`N * L`, row-major, from [`training_mask`]).
///
/// # Panics
/// When `masks` does not hold `N * L` values.
pub fn any_order_batch(sequences: Tensor<2, Int>, masks: Vec<f32>) -> AnyOrderBatch {
    let [n, len] = sequences.dims();
    assert_eq!(masks.len(), n * len, "one mask per sequence");
    let (mut unknown, mut weights) = (Vec::new(), Vec::new());
    for (row, known) in masks.chunks(len.max(1)).enumerate() {
        let first = unknown.len();
        unknown.extend(known.iter().enumerate().filter(|(_, k)| **k == 0.0).map(|(l, _)| (row * len + l) as i64));
        let count = unknown.len() - first;
        weights.extend(std::iter::repeat_n(1.0 / (n * count) as f32, count));
    }
    let mask = Tensor::from_data(TensorData::new(masks, [n, len]), &sequences.device());
    AnyOrderBatch { mask, sequences, unknown, weights }
}

impl AnyOrderBatch {
    /// Mean over the batch of each sequence's mean cross-entropy (nats) over its unknown
    /// positions, a scalar tensor for backward. With `t` uniform in `0..L` and a uniform random
    /// set, its expectation is the negative log-likelihood per position under a uniformly random
    /// visiting order (Hoogeboom et al. 2021, eq. 4: the `1 / (L - t)` weight).
    ///
    /// # Panics
    /// For a lecture model (see [`ArModel::forward_all`]).
    ///
    /// The image network computes its logits at the unknown positions only
    /// ([`ArModel::rows_cross_entropy`]): the same loss, with about half the head's and the softmax's work.
    pub fn loss(&self, model: &ArModel) -> Tensor<1> {
        if let Some(ce) = model.rows_cross_entropy(self.sequences.clone(), self.mask.clone(), &self.unknown) {
            let weights = Tensor::<1>::from_data(TensorData::new(self.weights.clone(), [self.weights.len()]), &self.mask.device());
            return (ce * weights).sum();
        }
        let logits = model.all_logits(self.sequences.clone(), self.mask.clone());
        unknown_cross_entropy(logits, self.sequences.clone(), self.mask.clone()).mean()
    }
}

/// Per position cross-entropy `-log softmax(logits)[x]` (nats), `[N, L]`, from logits
/// `[N, C, L]` and the integer sequences `x` (`[N, L]`, values in `0..C`).
/// On flex, one fused kernel (`models::cpu_fused`).
pub fn position_cross_entropy(logits: Tensor<3>, sequences: Tensor<2, Int>) -> Tensor<2> {
    crate::models::position_cross_entropy(logits, sequences)
}

/// Per sequence mean cross-entropy (nats) over the positions where `mask` (`[N, L]`) is 0, `[N]`,
/// from logits `[N, C, L]` and sequences `[N, L]`. A row with no unknown position gives 0.
pub fn unknown_cross_entropy(logits: Tensor<3>, sequences: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let [n, _, _] = logits.dims();
    let unknown = mask.neg().add_scalar(1.0);
    let ce = position_cross_entropy(logits, sequences) * unknown.clone();
    (ce.sum_dim(1) / unknown.sum_dim(1).clamp_min(1.0)).reshape([n])
}

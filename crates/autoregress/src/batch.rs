//! The lecture's training batch: in each sequence pick one position to predict; the mask covers
//! the positions before it, the values are normalized and masked, the target is the value there.

use crate::models::ArModel;
use crate::rng::Rng;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// Inputs and targets for one gradient step.
#[derive(Clone, Debug)]
pub struct TrainingBatch {
    /// `[N, L]`, 1 before each sequence's target position.
    pub mask: Tensor<2>,
    /// `[N, L]` sequences as integers (the model normalizes and masks them).
    pub sequences: Tensor<2, Int>,
    /// `[N]` the values to predict.
    pub targets: Tensor<1, Int>,
}

/// One position per sequence, uniform in `0..len`.
pub fn random_positions(rng: &mut Rng, count: usize, len: usize) -> Vec<usize> {
    (0..count).map(|_| rng.below(len)).collect()
}

/// The batch for `sequences` (`[N, L]`) predicting position `positions[n]` of sequence `n`.
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
    /// Mean cross-entropy (nats) of `model` on this batch, a scalar tensor for backward.
    pub fn loss(&self, model: &ArModel) -> Tensor<1> {
        let logits = model.logits(self.sequences.clone(), self.mask.clone());
        cross_entropy(logits, self.targets.clone()).mean()
    }
}

/// Per-row cross-entropy `-log softmax(logits)[target]`, `[N]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let [n, _] = logits.dims();
    let log_p = burn::tensor::activation::log_softmax(logits, 1);
    log_p.gather(1, targets.reshape([n, 1])).reshape([n]).neg()
}

/// Integer sequences (row-major, `count x len`) as a tensor.
pub fn sequences_tensor<V: Copy + Into<i64>>(
    values: &[V],
    count: usize,
    len: usize,
    device: &Device,
) -> Tensor<2, Int> {
    let data: Vec<i64> = values.iter().map(|&v| v.into()).collect();
    Tensor::from_data(TensorData::new(data, [count, len]), device)
}

/// Mean and standard deviation of all values, for input normalization.
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

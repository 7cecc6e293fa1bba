//! Exact evaluation: the negative log-likelihood of whole sequences, summed over all their
//! positions, `-sum_t log p(x_t | x_1..x_{t-1})`; perplexity and bits per dimension from it.

use crate::batch::{cross_entropy, sequences_tensor};
use crate::models::ArModel;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// The summed negative log-likelihood (nats) of the `[K, L]` sequences, over all `K * L`
/// conditionals at once, as a one-element tensor (read it back when convenient).
pub fn nll_sum(model: &ArModel, sequences: Tensor<2, Int>) -> Tensor<1> {
    let [k, len] = sequences.dims();
    let device = sequences.device();
    // Row t of the conditioning masks knows positions 0..t.
    let tri: Vec<f32> = (0..len).flat_map(|t| (0..len).map(move |i| (i < t) as u8 as f32)).collect();
    let mask = Tensor::<3>::from_data(TensorData::new(tri, [1, len, len]), &device)
        .expand([k, len, len])
        .reshape([k * len, len]);
    let repeated = sequences.clone().reshape([k, 1, len]).expand([k, len, len]).reshape([k * len, len]);
    let logits = model.logits(repeated, mask);
    cross_entropy(logits, sequences.reshape([k * len])).sum()
}

/// Summed negative log-likelihood (nats) of `count` sequences (row-major), in chunks of about
/// `rows_per_pass` conditionals; `progress(done, count)` after each chunk. Native only: it reads
/// back synchronously.
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
    let mut total = 0.0;
    let mut done = 0;
    while done < count {
        let k = per_chunk.min(count - done);
        let chunk = sequences_tensor(&sequences[done * len..(done + k) * len], k, len, device);
        let sum: f32 = nll_sum(model, chunk).into_scalar();
        total += sum as f64;
        done += k;
        progress(done, count);
    }
    total
}

/// Nats per position to bits per dimension.
pub fn bits_per_dim(nats_per_position: f64) -> f64 {
    nats_per_position / std::f64::consts::LN_2
}

/// The simple baseline: an independent histogram per position, with add-`alpha` smoothing,
/// learned on `train` and scored on `test` (both row-major, `len` values each, in `0..classes`).
/// Returns nats per position.
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

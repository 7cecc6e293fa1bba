//! Exact evaluation: the negative log-likelihood of whole sequences, summed over all their
//! positions, `-sum_t log p(x_t | x_1..x_{t-1})`; perplexity and bits per dimension from it.

use crate::batch::{cross_entropy, sequences_tensor};
use crate::event::prefix_mask;
use crate::models::{ArModel, Shortcut};
use burn::tensor::{Device, Int, Tensor, TensorData};

/// The summed negative log-likelihood (nats) of the `[K, L]` sequences, over all `K * L`
/// conditionals, as a one-element tensor (read it back when convenient). The conditionals go
/// through the model one row of positions at a time (`width` of them; the whole sequence for the
/// toy), so that an image model skips the rows below, which nothing is known of yet.
pub fn nll_sum(model: &ArModel, shortcut: &Shortcut, sequences: Tensor<2, Int>) -> Tensor<1> {
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
        let logits = model.logits_before(shortcut, repeated, mask, end - 1);
        let targets = sequences.clone().slice([0..k, start..end]).reshape([k * m]);
        total = total + cross_entropy(logits, targets).sum();
    }
    total
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
    let shortcut = model.shortcut();
    let mut total = 0.0;
    let mut done = 0;
    while done < count {
        let k = per_chunk.min(count - done);
        let chunk = sequences_tensor(&sequences[done * len..(done + k) * len], k, len, device);
        let sum: f32 = nll_sum(model, &shortcut, chunk).into_scalar();
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

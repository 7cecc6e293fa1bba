// What the any-order models are trained on: the loss scores the unknown positions only (hand-
// computed cases), and the training masks of each family have the shape and the share they claim.

mod common;

use autoregress::batch::{MaskMix, any_order_batch, sequences_tensor, training_mask, unknown_cross_entropy};
use autoregress::burn::tensor::{Int, Tensor, TensorData};
use autoregress::region::Region;
use autoregress::rng::Rng;
use autoregress::ArModel;
use common::*;

/// Logits `[1, 2, 3]` that put `margin` nats on value `favoured[p]` at each position `p`.
fn logits_favouring(favoured: [usize; 3], margin: f32) -> Tensor<3> {
    let mut data = vec![0.0f32; 2 * 3];
    for (p, &v) in favoured.iter().enumerate() {
        data[v * 3 + p] = margin;
    }
    Tensor::from_data(TensorData::new(data, [1, 2, 3]), &device())
}

fn cross_entropy(logits: Tensor<3>, sequence: [i64; 3], mask: [f32; 3]) -> f32 {
    let seqs = Tensor::<2, Int>::from_data(TensorData::new(sequence.to_vec(), [1, 3]), &device());
    let mask = Tensor::<2>::from_data(TensorData::new(mask.to_vec(), [1, 3]), &device());
    unknown_cross_entropy(logits, seqs, mask).into_scalar()
}

#[test]
fn the_loss_scores_the_unknown_positions_and_only_them() {
    // Sequence 0 1 0; position 0 known, 1 and 2 unknown. Two values, a margin of 10 nats: a
    // position predicted right costs ln(1 + e^-10), one predicted wrong ln(1 + e^10).
    let (right, wrong) = ((-10f64).exp().ln_1p(), 10f64.exp().ln_1p());
    let (sequence, mask) = ([0, 1, 0], [1.0, 0.0, 0.0]);
    // Wrong where known, right where unknown: the loss is low.
    let low = cross_entropy(logits_favouring([1, 1, 0], 10.0), sequence, mask);
    assert!((low as f64 - right).abs() < 1e-6, "{low} against {right}");
    // Right where known, wrong where unknown: the loss is high.
    let high = cross_entropy(logits_favouring([0, 0, 1], 10.0), sequence, mask);
    assert!((high as f64 - wrong).abs() < 1e-4, "{high} against {wrong}");
    // One unknown right, one wrong: the mean over the two unknown positions, not the sum, and
    // not over all three.
    let half = cross_entropy(logits_favouring([1, 1, 1], 10.0), sequence, mask);
    assert!((half as f64 - (right + wrong) / 2.0).abs() < 1e-4, "{half}");
}

#[test]
fn the_batch_loss_is_the_mean_of_each_sequences_unknown_mean() {
    // Through the training batch, with a model: the batch's loss equals the per-sequence means
    // of the unknown positions' cross-entropy, averaged, computed here from all the logits. The
    // image network computes its logits at the unknown positions only: the same loss.
    the_batch_loss_is_the_unknown_mean(&toy_any_order_model(32));
    the_batch_loss_is_the_unknown_mean(&mnist_any_order_model());
}

fn the_batch_loss_is_the_unknown_mean(model: &ArModel) {
    let (n, len) = (3, model.spec.seq_len);
    let mut rng = Rng::new(5);
    let seqs: Vec<u16> = (0..n * len).map(|_| rng.below(model.spec.num_values) as u16).collect();
    // Rows with 2, 31 and 16 unknown positions: the mean of the rows' means is far from one mean
    // over every unknown position.
    let masks: Vec<f32> = (0..n * len)
        .map(|i| {
            let (row, p) = (i / len, i % len);
            let unknown = [p < 2, p != 5, p % 2 == 0][row];
            if unknown { 0.0 } else { 1.0 }
        })
        .collect();
    let batch = any_order_batch(sequences_tensor(&seqs, n, len, &device()), masks.clone());
    let loss: f32 = batch.loss(model).into_scalar();
    let mask = Tensor::<2>::from_data(TensorData::new(masks.clone(), [n, len]), &device());
    let logits = floats(model.all_logits(sequences_tensor(&seqs, n, len, &device()), mask));
    let c = model.spec.num_values;
    let mut total = 0.0f64;
    // The order-agnostic estimate's per-sequence scores, from the same masks.
    let scores = autoregress::metrics::unknown_mean_cross_entropy(model, sequences_tensor(&seqs, n, len, &device()), masks.clone());
    for row in 0..n {
        let (mut sum, mut count) = (0.0f64, 0);
        for p in (0..len).filter(|&p| masks[row * len + p] == 0.0) {
            let at = |v: usize| logits[(row * c + v) * len + p] as f64;
            let max = (0..c).map(at).fold(f64::MIN, f64::max);
            let log_z = max + (0..c).map(|v| (at(v) - max).exp()).sum::<f64>().ln();
            sum += log_z - at(seqs[row * len + p] as usize);
            count += 1;
        }
        total += sum / count as f64;
        assert!((scores[row] as f64 - sum / count as f64).abs() < 1e-4, "sequence {row}: {} against {}", scores[row], sum / count as f64);
    }
    assert!((loss as f64 - total / n as f64).abs() < 1e-4, "{loss} against {}", total / n as f64);
}

/// How a drawn mask looks: a raster prefix known; everything outside a named region known and
/// a raster prefix of the region; or neither.
#[derive(Debug, PartialEq)]
enum Shape {
    Prefix,
    Region,
    Other,
}

fn shape(mask: &[f32], height: usize, width: usize) -> Shape {
    let known = mask.iter().take_while(|&&m| m == 1.0).count();
    if mask[known..].iter().all(|&m| m == 0.0) {
        return Shape::Prefix;
    }
    let region_shaped = Region::NAMED.iter().any(|region| {
        let erased = region.erased(height, width, &mut Rng::new(0));
        let outside_known = (0..mask.len()).all(|p| erased[p] || mask[p] == 1.0);
        let inside: Vec<f32> = (0..mask.len()).filter(|&p| erased[p]).map(|p| mask[p]).collect();
        let prefix = inside.iter().take_while(|&&m| m == 1.0).count();
        outside_known && inside[prefix..].iter().all(|&m| m == 0.0)
    });
    if region_shaped { Shape::Region } else { Shape::Other }
}

const ONLY_PREFIX: MaskMix = MaskMix { uniform: 0.0, prefix: 1.0, region: 0.0 };
const ONLY_REGION: MaskMix = MaskMix { uniform: 0.0, prefix: 0.0, region: 1.0 };

#[test]
fn every_draw_leaves_something_to_predict() {
    let mixes = [MaskMix::UNIFORM, ONLY_PREFIX, ONLY_REGION, MaskMix { uniform: 0.5, prefix: 0.3, region: 0.2 }];
    let mut rng = Rng::new(1);
    for (height, width) in [(28, 28), (8, 8), (1, 32), (3, 5)] {
        for mix in &mixes {
            for _ in 0..400 {
                let mask = training_mask(&mut rng, height, width, mix);
                assert_eq!(mask.len(), height * width);
                assert!(mask.iter().all(|&m| m == 0.0 || m == 1.0));
                assert!(mask.contains(&0.0), "{height}x{width} {mix:?}: every position known");
            }
        }
    }
}

#[test]
fn each_family_draws_its_own_shape() {
    let mut rng = Rng::new(2);
    let (h, w) = (28, 28);
    let mut known_counts = Vec::new();
    for _ in 0..500 {
        assert_eq!(shape(&training_mask(&mut rng, h, w, &ONLY_PREFIX), h, w), Shape::Prefix);
        // A region draw is unknown only inside one named region, and known there on a raster
        // prefix of it (the bottom half erased so is a raster prefix of the image too).
        assert_ne!(shape(&training_mask(&mut rng, h, w, &ONLY_REGION), h, w), Shape::Other);
        // Sequences have no regions: a prefix instead.
        assert_eq!(shape(&training_mask(&mut rng, 1, 32, &ONLY_REGION), 1, 32), Shape::Prefix);
        let uniform = training_mask(&mut rng, h, w, &MaskMix::UNIFORM);
        known_counts.push(uniform.iter().filter(|&&m| m == 1.0).count());
    }
    // The uniform family: the count of known positions uniform in 0..L (mean (L - 1) / 2,
    // standard error about 10 over 500 draws), and the set scattered, not a prefix.
    let mean = known_counts.iter().sum::<usize>() as f64 / known_counts.len() as f64;
    assert!((mean - 391.5).abs() < 45.0, "mean known count {mean}");
    assert!(known_counts.iter().any(|&t| t < 100) && known_counts.iter().any(|&t| t > 684));
}

#[test]
fn each_family_is_drawn_at_its_weight() {
    // Weights that need not sum to 1. A prefix draw is prefix-shaped; a region draw is region-
    // shaped, but for the bottom half (one of five regions), which is a prefix too; a uniform
    // draw is neither but for about 1 in 400 draws (a count of 0 or 1 that hits position 0).
    let mix = MaskMix { uniform: 1.0, prefix: 0.6, region: 0.4 };
    let (u, p, r) = (0.5, 0.3, 0.2);
    let mut rng = Rng::new(3);
    let draws = 5000;
    let mut counts = [0usize; 3];
    for _ in 0..draws {
        match shape(&training_mask(&mut rng, 28, 28, &mix), 28, 28) {
            Shape::Prefix => counts[0] += 1,
            Shape::Region => counts[1] += 1,
            Shape::Other => counts[2] += 1,
        }
    }
    let share = |i: usize| counts[i] as f64 / draws as f64;
    // Standard errors about 0.007: a tolerance of 0.03 is over 4 of them.
    for (got, want, what) in [(share(0), p + r / 5.0, "prefix-shaped"), (share(1), 4.0 * r / 5.0, "region-shaped"), (share(2), u, "uniform")] {
        assert!((got - want).abs() < 0.03, "{what}: {got} of the draws, expected {want} ({counts:?})");
    }
}

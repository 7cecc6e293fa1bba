//! Exact evaluation of trained weights: test cross-entropy over all positions, and for the toy
//! the share of generated sequences the generator could have produced; for digits, bits per
//! pixel against the per-position histogram baseline.

use crate::progress;
use autoregress::burn::tensor::Device;
use autoregress::data::toy::{is_valid, toy_dataset};
use autoregress::metrics::{bits_per_dim, histogram_baseline_nats, total_nll};
use autoregress::{ArModel, GenerateOptions, generate};
use serde_json::{Value, json};

/// Seeds of the toy data: the test set never overlaps the training set's seed.
pub const TOY_TRAIN_SEED: u64 = 1;
pub const TOY_TEST_SEED: u64 = 2;

fn nll_with_bar<V: Copy + Into<i64>>(model: &ArModel, seqs: &[V], count: usize, rows: usize, device: &Device, quiet: bool) -> f64 {
    let bar = progress::bar(count as u64, "evaluating");
    if quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let nats = total_nll(model, seqs, count, rows, device, |done, _| bar.set_position(done as u64));
    bar.finish_and_clear();
    nats
}

/// Toy: exact test cross-entropy on `test_count` fresh sequences and the valid share of
/// `sample_count` generated ones.
pub fn toy(model: &ArModel, device: &Device, test_count: usize, sample_count: usize, seed: u64, quiet: bool) -> Value {
    let len = model.spec.seq_len;
    let test = toy_dataset(TOY_TEST_SEED, test_count, len);
    let nats = nll_with_bar(model, &test, test_count, 4096, device, quiet) / (test_count * len) as f64;
    let mut options = GenerateOptions::new(sample_count);
    options.seed = seed;
    let samples = generate(model, &options, device).expect("valid options");
    let values: Vec<i64> = samples.into_data().convert::<i64>().try_to_vec().expect("int data");
    let valid = values
        .chunks(len)
        .filter(|s| is_valid(&s.iter().map(|&v| v as u16).collect::<Vec<_>>()))
        .count();
    json!({
        "model": model.spec.kind.name(),
        "seq_len": len,
        "test_sequences": test_count,
        "nats_per_position": nats,
        "perplexity": nats.exp(),
        "generated": sample_count,
        "valid_share": valid as f64 / sample_count as f64,
    })
}

/// Digits: exact bits per pixel on the first `images` test images, and the baseline.
pub fn mnist(model: &ArModel, device: &Device, train: &[u8], test: &[u8], images: usize, quiet: bool) -> Value {
    let len = model.spec.seq_len;
    let images = images.min(test.len() / len);
    let test = &test[..images * len];
    // 16 images a chunk: each pass of the model sees one row of positions of each, 448 rows.
    let nats = nll_with_bar(model, test, images, 16 * len, device, quiet) / (images * len) as f64;
    let baseline = histogram_baseline_nats(train, test, len, model.spec.num_values, 0.1);
    json!({
        "model": model.spec.kind.name(),
        "images": images,
        "bits_per_dim": bits_per_dim(nats),
        "nats_per_position": nats,
        "perplexity": nats.exp(),
        "baseline_bits_per_dim": bits_per_dim(baseline),
        "baseline": "per-position histogram of the training pixels, add-0.1 smoothing",
    })
}

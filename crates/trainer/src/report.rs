//! The metrics JSON as typed records: what `eval` prints and what `train` writes beside the
//! weights (docs/json.md documents the keys). A field that is not a number (NaN) is caught by
//! [`check_figures`] before anything is written.

use autoregress::batch::MaskMix;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// `eval` of a toy model: exact left-to-right figures on fresh test sequences, and samples.
#[derive(Clone, Debug, Serialize)]
pub struct ToyEval {
    pub model: &'static str,
    pub seq_len: usize,
    pub test_sequences: usize,
    /// Exact cross-entropy in raster (left-to-right) order.
    pub nats_per_position: f64,
    pub perplexity: f64,
    /// The toy generator's own entropy: the floor any model can reach.
    pub generator_entropy_nats_per_position: f64,
    pub gap_nats_per_position: f64,
    /// Samples drawn (temperature 1, raster order) and the share of them that are valid.
    pub generated: usize,
    pub valid_share: f64,
    #[serde(flatten)]
    pub order_agnostic: Option<OrderAgnosticNats>,
}

/// The order-agnostic estimate of an any-order toy model, with its standard error.
#[derive(Clone, Debug, Serialize)]
pub struct OrderAgnosticNats {
    pub order_agnostic_nats_per_position: f64,
    pub order_agnostic_standard_error: f64,
    /// Random known sets per sequence in each set of draws (`eval --draws`).
    pub order_agnostic_draws: usize,
    /// Each independent set of draws' estimate; the figure above is their mean.
    pub order_agnostic_draw_sets: Vec<f64>,
    /// The largest of them minus the smallest.
    pub order_agnostic_draw_set_spread: f64,
    /// The standard error of the estimate that comes from the draws: the sets' standard
    /// deviation over the square root of their number.
    pub order_agnostic_draw_error: f64,
}

/// `eval` of an image model on the first test images.
#[derive(Clone, Debug, Serialize)]
pub struct MnistEval {
    pub model: &'static str,
    pub images: usize,
    /// Exact NLL in raster order.
    pub bits_per_dim: f64,
    pub nats_per_position: f64,
    pub perplexity: f64,
    pub baseline_bits_per_dim: f64,
    /// What the baseline is, in words.
    pub baseline: &'static str,
    #[serde(flatten)]
    pub order_agnostic: Option<OrderAgnosticBits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inpainting_bits_per_pixel: Option<InpaintingBits>,
    /// Any-order models: per layer, the channels whose activation never varied over the
    /// evaluation's inputs (`crate::eval::dead_channels`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_channels: Option<Vec<LayerChannels>>,
}

/// One layer's channels that never varied.
#[derive(Clone, Debug, Serialize)]
pub struct LayerChannels {
    pub layer: &'static str,
    pub channels: usize,
    pub dead: Vec<usize>,
}

/// The order-agnostic estimate of an any-order image model, with its standard error.
#[derive(Clone, Debug, Serialize)]
pub struct OrderAgnosticBits {
    pub order_agnostic_bits_per_dim: f64,
    pub order_agnostic_standard_error: f64,
    /// Random known sets per sequence in each set of draws (`eval --draws`).
    pub order_agnostic_draws: usize,
    /// Each independent set of draws' estimate; the figure above is their mean.
    pub order_agnostic_draw_sets: Vec<f64>,
    /// The largest of them minus the smallest.
    pub order_agnostic_draw_set_spread: f64,
    /// The standard error of the estimate that comes from the draws: the sets' standard
    /// deviation over the square root of their number.
    pub order_agnostic_draw_error: f64,
}

/// Exact in-painting NLL, bits per erased pixel, over the first `images` test images.
#[derive(Clone, Debug, Serialize)]
pub struct InpaintingBits {
    pub images: usize,
    pub bottom_given_top: f64,
    pub top_given_bottom: f64,
    pub centre_given_rest: f64,
}

/// Either evaluation.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Eval {
    Toy(ToyEval),
    Mnist(MnistEval),
}

/// The mask families an any-order model was trained with.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MaskMixRecord {
    pub uniform: f64,
    pub prefix: f64,
    pub region: f64,
}

impl From<MaskMixRecord> for MaskMix {
    fn from(m: MaskMixRecord) -> Self {
        MaskMix { uniform: m.uniform, prefix: m.prefix, region: m.region }
    }
}

impl From<MaskMix> for MaskMixRecord {
    fn from(m: MaskMix) -> Self {
        MaskMixRecord { uniform: m.uniform, prefix: m.prefix, region: m.region }
    }
}

/// One training run: its settings, its speed and, for an earlier run, its figures then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub device: String,
    pub seconds: f64,
    pub steps: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Steps of the learning rate's warm-up (absent in records older than 2026-12-07: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_steps: Option<usize>,
    /// The cosine's final learning rate as a fraction of `lr` (absent in records older than
    /// 2026-12-07: a tenth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_lr_fraction: Option<f64>,
    /// The run's `--seed` (absent in records older than 2026-12-06: see each recipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// What it trained on: the training images file (relative to the checkout when inside it),
    /// or the toy generator's draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The recipe script the run belongs to (`train --recipe`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<String>,
    pub train_sequences: usize,
    pub samples_per_second: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask_mix: Option<MaskMixRecord>,
    /// Absent when a resumed run had no step left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_train_loss: Option<f64>,
    /// The weights it started from (`--init`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<String>,
    /// An earlier run's figures after it (bits/dim for images, nats/position for both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then_bits_per_dim: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then_nats_per_position: Option<f64>,
}

/// What `train` writes beside the weights: the evaluation, this run, and the runs before it.
#[derive(Clone, Debug, Serialize)]
pub struct TrainMetrics {
    #[serde(flatten)]
    pub eval: Eval,
    pub training: TrainingRecord,
    /// Oldest first; present when the run started from `--init` weights.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_runs: Vec<TrainingRecord>,
}

/// What `eval` prints: the evaluation, the weights file and the device.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    #[serde(flatten)]
    pub eval: Eval,
    pub weights: String,
    pub device: String,
}

/// The parts of an existing metrics file that a warm start carries on (other keys are ignored,
/// so files written by older versions read too).
#[derive(Debug, Deserialize)]
pub struct PastMetrics {
    training: Option<TrainingRecord>,
    #[serde(default)]
    earlier_runs: Vec<TrainingRecord>,
    bits_per_dim: Option<f64>,
    nats_per_position: Option<f64>,
}

impl PastMetrics {
    /// The whole history, oldest first: the earlier runs, then the last run with its figures.
    pub fn history(self) -> Vec<TrainingRecord> {
        let mut runs = self.earlier_runs;
        if let Some(mut last) = self.training {
            last.then_bits_per_dim = self.bits_per_dim;
            last.then_nats_per_position = self.nats_per_position;
            runs.push(last);
        }
        runs
    }
}

/// Every number in `value` must be one: serde writes NaN and infinities as `null`.
pub fn check_figures(record: &impl Serialize, what: &str) -> Result<()> {
    let value = serde_json::to_value(record)?;
    fn find_null(v: &serde_json::Value, at: String) -> Option<String> {
        match v {
            serde_json::Value::Null => Some(at),
            serde_json::Value::Object(m) => m.iter().find_map(|(k, v)| find_null(v, format!("{at}.{k}"))),
            serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| find_null(v, format!("{at}[{i}]"))),
            _ => None,
        }
    }
    if let Some(at) = find_null(&value, String::new()) {
        bail!("{what}: the figure {} is not a number (NaN or infinite): the weights or data are damaged", at.trim_start_matches('.'));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seconds: f64) -> TrainingRecord {
        TrainingRecord {
            device: "flex (CPU)".into(),
            seconds,
            steps: 10,
            epochs: 1,
            batch_size: 100,
            lr: 1e-3,
            warmup_steps: Some(0),
            final_lr_fraction: Some(0.1),
            seed: Some(3),
            data: Some("toy generator".into()),
            recipe: None,
            train_sequences: 1000,
            samples_per_second: 100.0,
            mask_mix: Some(MaskMixRecord { uniform: 0.5, prefix: 0.5, region: 0.0 }),
            final_train_loss: Some(1.5),
            init: None,
            then_bits_per_dim: None,
            then_nats_per_position: None,
        }
    }

    #[test]
    fn a_warm_start_carries_the_whole_history_with_each_runs_figures() {
        let eval = Eval::Toy(ToyEval {
            model: "toy-any-order",
            seq_len: 32,
            test_sequences: 10,
            nats_per_position: 0.5,
            perplexity: 0.5f64.exp(),
            generator_entropy_nats_per_position: 0.39,
            gap_nats_per_position: 0.11,
            generated: 10,
            valid_share: 0.4,
            order_agnostic: None,
        });
        let second = TrainMetrics { eval, training: run(2.0), earlier_runs: vec![TrainingRecord { then_nats_per_position: Some(0.6), ..run(1.0) }] };
        // Written, read back as a past file, its history is the first run then the second
        // with its figure.
        let past: PastMetrics = serde_json::from_str(&serde_json::to_string(&second).unwrap()).unwrap();
        let history = past.history();
        assert_eq!(history.len(), 2);
        assert_eq!((history[0].seconds, history[0].then_nats_per_position), (1.0, Some(0.6)));
        // The second run's own record, with the figure it reached (a toy: no bits/dim).
        assert_eq!(history[1], TrainingRecord { then_bits_per_dim: None, then_nats_per_position: Some(0.5), ..run(2.0) });
        assert_eq!(history[1].then_nats_per_position, Some(0.5));
    }

    #[test]
    fn the_committed_metrics_files_read_as_past_metrics() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/weights");
        for name in ["toy", "mnist", "toy-any-order", "mnist-any-order"] {
            let text = std::fs::read_to_string(format!("{root}/{name}.metrics.json")).unwrap();
            let past: PastMetrics = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(past.nats_per_position.is_some(), "{name}");
            assert!(!past.history().is_empty(), "{name}");
        }
    }
}

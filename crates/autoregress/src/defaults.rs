//! Per-model defaults, defined once: the trainer's options and their `--help`, its commands, and
//! the page's fields all read them here.

use crate::batch::MaskMix;
use crate::generate::{ADAPTIVE_NOISE, ADAPTIVE_WINDOW, Schedule, VisitingOrder};
use crate::models::ModelKind;

/// How `train` trains a model when its options are not given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainDefaults {
    /// Passes over the training set (the any-order toy model: batches of fresh sequences, as
    /// many as the training set holds).
    pub epochs: usize,
    /// Sequences per optimizer step.
    pub batch_size: usize,
    /// Adam's peak learning rate, reached after the warm-up.
    pub lr: f64,
    /// Steps of the linear warm-up to `lr`.
    pub warmup_steps: usize,
    /// The learning rate at the end of the cosine decay, as a fraction of `lr`.
    pub final_lr_fraction: f64,
    /// The mask families of an any-order model's training examples (`None`: a lecture model,
    /// trained at one random position per sequence).
    pub mask_mix: Option<MaskMix>,
}

/// How a model generates when the order, positions per step and count are not given.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateDefaults {
    /// Sequences or digits drawn by `sample` (the page's panels draw as many).
    pub count: usize,
    /// The visiting order.
    pub order: VisitingOrder,
    /// Positions drawn per step.
    pub per_step: usize,
    /// How the positions to draw are spread over the steps.
    pub schedule: Schedule,
    /// Guidance toward the known values ([`crate::GenerateOptions::guidance`]; 0: none).
    pub guidance: f64,
}

/// The any-order image model's in-painting guidance (the best of 0, 0.5, 1, 1.5 and 2 measured).
const MNIST_INPAINT_GUIDANCE: f64 = 1.0;
/// The any-order image model's passes over its 10,000 training images and peak learning rate.
const MNIST_ANY_ORDER_EPOCHS: usize = 75;
const MNIST_ANY_ORDER_LR: f64 = 2e-3;
/// The any-order image model's default mask mix: 0.4 uniform, 0.35 prefix, 0.25 region.
const IMAGE_MASK_MIX: MaskMix = MaskMix { uniform: 0.4, prefix: 0.35, region: 0.25 };
/// The any-order toy model's: 0.3 uniform, 0.7 prefix (its sequences are built left to right).
const TOY_MASK_MIX: MaskMix = MaskMix { uniform: 0.3, prefix: 0.7, region: 0.0 };

impl ModelKind {
    /// What `train` uses for each option not given.
    pub fn train_defaults(self) -> TrainDefaults {
        let lecture = TrainDefaults { epochs: 20, batch_size: 100, lr: 1e-3, warmup_steps: 0, final_lr_fraction: 0.1, mask_mix: None };
        match self {
            ModelKind::Toy => lecture,
            ModelKind::Mnist => TrainDefaults { epochs: 100, ..lecture },
            ModelKind::ToyAnyOrder => TrainDefaults { epochs: 40, mask_mix: Some(TOY_MASK_MIX), ..lecture },
            // Batch 64 for more optimizer steps on 10,000 images, a warm-up and a cosine to zero
            // (docs/experiments.md, 2026-12-07).
            ModelKind::MnistAnyOrder => TrainDefaults {
                epochs: MNIST_ANY_ORDER_EPOCHS,
                batch_size: 64,
                lr: MNIST_ANY_ORDER_LR,
                warmup_steps: 200,
                final_lr_fraction: 0.0,
                mask_mix: Some(IMAGE_MASK_MIX),
            },
        }
    }

    /// What `sample`, `pictures` and the page's digits panel use when the order, positions per
    /// step, schedule or count are not given. The lecture's models take raster order and one
    /// position a step (all they can do); the any-order MNIST model a random order with 16
    /// positions a step on average in MaskGIT's cosine schedule (49 steps a digit: the closest to
    /// real digits of the settings measured within 50 steps, docs/judge.md); the any-order toy
    /// model raster and 1, since the toy's sequences are built left to right (its samples are
    /// valid about 4x as often as in the adaptive or a random order: docs/experiments.md).
    pub fn generate_defaults(self) -> GenerateDefaults {
        let count = if self.is_image() { 48 } else { 25 };
        let (order, per_step, schedule) = match self {
            ModelKind::MnistAnyOrder => (VisitingOrder::Random, 16, Schedule::Cosine),
            _ => (VisitingOrder::Raster, 1, Schedule::Constant),
        };
        GenerateDefaults { count, order, per_step, schedule, guidance: 0.0 }
    }

    /// What `inpaint`, the in-painting pictures and the page's in-painting panel use: as
    /// [`ModelKind::generate_defaults`], except that the any-order MNIST model completes in the
    /// adaptive order, 16 positions a step (it kept the original digit more often than the
    /// random order with the cosine schedule: docs/judge.md), guided toward the kept pixels with
    /// weight 1 (an erased top half's completions kept the digit 83% of the time against 79%
    /// unguided, and came closer to real digits: docs/judge.md). The toy's pins are not guided
    /// (not measured).
    pub fn inpaint_defaults(self) -> GenerateDefaults {
        match self {
            ModelKind::MnistAnyOrder => GenerateDefaults {
                order: VisitingOrder::Adaptive { noise: ADAPTIVE_NOISE, window: ADAPTIVE_WINDOW },
                per_step: 16,
                schedule: Schedule::Constant,
                guidance: MNIST_INPAINT_GUIDANCE,
                ..self.generate_defaults()
            },
            _ => self.generate_defaults(),
        }
    }
}

/// `--help`'s note of a per-model default: `[default: toy 20, mnist 100, ...]`, every model
/// named with the value `value` gives it (`None`: the model has no such option).
pub fn help_per_model<T: std::fmt::Display>(value: impl Fn(ModelKind) -> Option<T>) -> String {
    let parts: Vec<String> =
        ModelKind::ALL.into_iter().filter_map(|k| value(k).map(|v| format!("{} {v}", k.name()))).collect();
    format!("[default: {}]", parts.join(", "))
}

impl std::fmt::Display for MaskMix {
    /// `UNIFORM,PREFIX,REGION`, as `train --mask-mix` takes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{},{}", self.uniform, self.prefix, self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_every_model_that_has_the_option() {
        let help = help_per_model(|k| k.train_defaults().mask_mix);
        assert_eq!(help, "[default: toy-any-order 0.3,0.7,0, mnist-any-order 0.4,0.35,0.25]");
        assert_eq!(help_per_model(|k| Some(k.train_defaults().epochs)), "[default: toy 20, mnist 100, toy-any-order 40, mnist-any-order 75]");
    }

    #[test]
    fn lecture_models_default_to_what_they_can_do() {
        for kind in ModelKind::ALL.into_iter().filter(|k| !k.is_any_order()) {
            for d in [kind.generate_defaults(), kind.inpaint_defaults()] {
                assert_eq!((d.order, d.per_step, d.schedule, d.guidance), (VisitingOrder::Raster, 1, Schedule::Constant, 0.0), "{}", kind.name());
            }
            assert!(kind.train_defaults().mask_mix.is_none());
        }
        assert!(ModelKind::ALL.into_iter().filter(|k| k.is_any_order()).all(|k| k.train_defaults().mask_mix.is_some()));
    }
}

//! The training step, one for the trainer and the page: the batch's loss (the lecture's one random
//! position per sequence, or an any-order model's random known sets), its gradients, and Adam
//! ([`adam`]). The random draws of step `s` of a run come from the run's seed and `s` only
//! ([`step_seed`]), so a step can be repeated anywhere from the weights, the optimizer and the
//! step number (feature `train`).

pub mod adam;

use crate::batch::{MaskMix, any_order_batch, random_positions, sequences_tensor, training_batch, training_mask};
use crate::data::toy::toy_dataset;
use crate::models::ArModel;
use crate::rng::Rng;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor};

/// The training loss of a batch of sequences `[N, L]` (mean cross-entropy, nats): for a lecture
/// model at one random position per sequence (the lecture's training); for an any-order model
/// over the unknown positions of random known sets drawn from `mix` (`crate::batch`).
/// `rng` draws the positions or sets.
pub fn batch_loss(model: &ArModel, sequences: Tensor<2, Int>, mix: &MaskMix, rng: &mut Rng) -> Tensor<1> {
    let [n, len] = sequences.dims();
    if model.spec.kind.is_any_order() {
        let (h, w) = (model.spec.height(), model.spec.width);
        let masks = (0..n).flat_map(|_| training_mask(rng, h, w, mix)).collect();
        any_order_batch(sequences, masks).loss(model)
    } else {
        training_batch(sequences, &random_positions(rng, n, len)).loss(model)
    }
}

/// One optimizer step: the gradients of `loss`, then `optim` at learning rate `lr`.
pub fn train_step(model: ArModel, loss: &Tensor<1>, optim: &mut ModuleOptimizer, lr: f64) -> ArModel {
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    optim.step(lr, model, grads)
}

/// The streams of random draws of a step (see [`step_seed`]).
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// The order of a training set in an epoch (the step number is then the epoch's).
    Shuffle = 0,
    /// The positions (lecture models) or known sets (any-order models) of the batch.
    Positions = 1,
    /// The sequences of a batch drawn fresh from the toy generator.
    FreshToy = 2,
}

/// The seed of `stream`'s draws at step `step` of a run seeded `seed`.
pub fn step_seed(seed: u64, stream: Stream, step: usize) -> u64 {
    let a = (stream as u64) << 40 | step as u64;
    Rng::new(seed ^ a.wrapping_mul(0xA24B_AED4_963E_E407)).next_u64()
}

/// A model being trained: the weights (on an autodiff device), Adam's state and the step count.
pub struct Training {
    model: Option<ArModel>,
    /// Adam's state, as checkpoints save it.
    pub optim: ModuleOptimizer,
    /// Steps done.
    pub step: usize,
    /// The run's seed: every step's draws come from it and the step number.
    pub seed: u64,
    /// How an any-order model's known sets are drawn (unused by the lecture's models).
    pub mask_mix: MaskMix,
    device: Device,
}

impl Training {
    /// A run from `model` (on `device`, an autodiff device) with a fresh Adam ([`adam::adam`]).
    pub fn new(model: ArModel, device: &Device, seed: u64, mask_mix: MaskMix) -> Self {
        Self::resume(model, adam::adam(), 0, device, seed, mask_mix)
    }

    /// A run from a checkpoint's weights, optimizer and step.
    pub fn resume(model: ArModel, optim: ModuleOptimizer, step: usize, device: &Device, seed: u64, mask_mix: MaskMix) -> Self {
        Training { model: Some(model), optim, step, seed, mask_mix, device: device.clone() }
    }

    /// The device the run trains on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The weights now (with autodiff; [`ArModel::valid`] for inference).
    pub fn model(&self) -> &ArModel {
        self.model.as_ref().expect("a step always puts the model back")
    }

    /// The run's weights, ending it.
    pub fn into_model(self) -> ArModel {
        self.model.expect("a step always puts the model back")
    }

    /// One optimizer step at learning rate `lr` on `sequences` (`[N, L]`, values in `0..C`), the
    /// positions or known sets drawn for this step. Returns the batch's loss before the step
    /// (nats, detached; read it back when convenient).
    pub fn step(&mut self, sequences: Tensor<2, Int>, lr: f64) -> Tensor<1> {
        let model = self.model.take().expect("a step always puts the model back");
        let mut rng = Rng::new(step_seed(self.seed, Stream::Positions, self.step));
        let loss = batch_loss(&model, sequences, &self.mask_mix, &mut rng);
        self.model = Some(train_step(model, &loss, &mut self.optim, lr));
        self.step += 1;
        loss.detach()
    }

    /// The batch of this step drawn fresh from the toy generator: `count` sequences of the
    /// model's length, on the model's device.
    pub fn fresh_toy_batch(&self, count: usize) -> Tensor<2, Int> {
        let len = self.model().spec.seq_len;
        let values = toy_dataset(step_seed(self.seed, Stream::FreshToy, self.step), count, len);
        sequences_tensor(&values, count, len, &self.device)
    }
}

/// The trainer's learning-rate schedule: a linear warm-up from `lr / warmup_steps` to `lr` over
/// the first `warmup_steps` steps, then a cosine decay to `final_fraction * lr` at the last step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrSchedule {
    /// Steps of the linear warm-up (0: none).
    pub warmup_steps: usize,
    /// The learning rate at the end of the run, as a fraction of the peak.
    pub final_fraction: f64,
}

impl LrSchedule {
    /// What every run used before 2026-12-07, and the lecture models still use: no warm-up, a
    /// cosine to a tenth.
    pub const COSINE_TO_A_TENTH: LrSchedule = LrSchedule { warmup_steps: 0, final_fraction: 0.1 };

    /// The learning rate at `step` (0-based) of a run of `total` steps with peak `lr`.
    pub fn rate(&self, lr: f64, step: usize, total: usize) -> f64 {
        if step < self.warmup_steps {
            return lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let span = total.saturating_sub(self.warmup_steps).max(1);
        let t = ((step - self.warmup_steps) as f64 / span as f64).min(1.0);
        let f = self.final_fraction;
        lr * (f + (1.0 - f) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn the_learning_rate_decays_along_a_cosine_from_lr_to_a_tenth() {
        let rate = |lr, step, total| LrSchedule::COSINE_TO_A_TENTH.rate(lr, step, total);
        assert!(close(rate(1e-3, 0, 100), 1e-3));
        assert!(close(rate(1e-3, 50, 100), 0.55e-3));
        assert!(close(rate(1e-3, 100, 100), 1e-4));
        // Monotone decreasing, and symmetric about the middle around the mean 0.55 lr.
        let rates: Vec<f64> = (0..=100).map(|s| rate(1.0, s, 100)).collect();
        assert!(rates.windows(2).all(|w| w[1] < w[0]));
        assert!(close(rates[25] + rates[75], 1.1));
        // A run of no steps does not divide by zero.
        assert!(rate(1.0, 0, 0).is_finite());
    }

    #[test]
    fn a_warm_up_rises_linearly_then_the_cosine_reaches_its_floor() {
        let schedule = LrSchedule { warmup_steps: 10, final_fraction: 0.0 };
        assert!(close(schedule.rate(2.0, 0, 110), 0.2));
        assert!(close(schedule.rate(2.0, 4, 110), 1.0));
        assert!(close(schedule.rate(2.0, 10, 110), 2.0));
        assert!(close(schedule.rate(2.0, 60, 110), 1.0));
        assert!(close(schedule.rate(2.0, 110, 110), 0.0));
        let rates: Vec<f64> = (0..=110).map(|s| schedule.rate(1.0, s, 110)).collect();
        assert!(rates[..10].windows(2).all(|w| w[1] > w[0]));
        assert!(close(rates[9], rates[10]));
        assert!(rates[10..].windows(2).all(|w| w[1] < w[0]));
        // A warm-up longer than the run stays finite and below the peak.
        assert!((0..5).all(|s| LrSchedule { warmup_steps: 10, final_fraction: 0.0 }.rate(1.0, s, 5) <= 1.0));
    }
}

//! The one generation routine, for every model: fill the unknown positions step by step in a
//! visiting order, each drawn from the model's logits given what is known so far. Known values
//! (in-painting) are kept as they are.
//!
//! * The lecture's models predict only the next value in raster order: one position a step, in
//!   raster order; any other order, or more than one position a step, is refused.
//! * An any-order model predicts every position in one pass: the order is raster, random, given
//!   or adaptive (chosen per sample at each step from how certain the predictions are), and a
//!   step may draw `K` positions at once, each independently from its current distribution.
//!
//! Everything stays on the device: a step is one forward pass, one on-device sample and one
//! masked write, so a caller can run many steps and read the result back only when it wants to
//! show it.

use crate::models::{ArModel, ModelKind, RowSkip};
use crate::rng::Rng;
use crate::sampling::{gumbel_noise, sample_rows};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burn::tensor::IndexingUpdateOp;
use burn::tensor::activation::log_softmax;

/// The default noise of the adaptive order: the scale of the Gumbel noise added to each
/// position's certainty (`max_v log p(v)`, nats).
pub const ADAPTIVE_NOISE: f64 = 1.0;
/// The default window of the adaptive order: two rows of an MNIST image.
pub const ADAPTIVE_WINDOW: usize = 2 * crate::data::MNIST_SIDE;

/// With guidance, a value is drawn only if the model's own conditional gives it at least this
/// share of its most likely value's probability.
pub const GUIDANCE_PLAUSIBLE: f64 = 0.001;

/// In which order the unknown positions are filled.
#[derive(Clone, Debug, PartialEq)]
pub enum VisitingOrder {
    /// Left to right, top to bottom (the lecture's order).
    Raster,
    /// One uniformly random permutation (from the seed), the same for every sample.
    Random,
    /// The order in which a 2-D Halton sequence (bases 2 and 3; base 2 along a 1-D sequence),
    /// shifted at random from the seed, first reaches each position ([`halton_order`]): a
    /// low-discrepancy order, so that the positions of every step, consecutive in it, spread
    /// evenly over the image instead of clustering. The same for every sample.
    Halton,
    /// Per sample, at each step, the `K` positions with the largest `max_v log p(v) + noise * g`
    /// (`g` standard Gumbel noise) among the first `window` unfilled positions in raster order
    /// (`window` 0: among all of them): *windowed noisy most-certain-first*. Pure
    /// most-certain-first over the whole image (noise 0, window 0) fills the sure white
    /// background first and collapses to blank images; the window keeps the conditioning sets
    /// close to the prefixes the model knows best and the order moving down the image, while
    /// within it the model's certainty decides.
    Adaptive {
        /// Scale of the Gumbel noise on the certainty, `>= 0` (0: pure most-certain-first).
        noise: f64,
        /// How many of the first unfilled positions (raster order) compete; 0: all of them.
        /// Widened to `K` when narrower.
        window: usize,
    },
    /// This permutation of `0..L`, the same for every sample.
    Given(Vec<usize>),
}

impl VisitingOrder {
    /// The adaptive order with the default noise and window (the pictures and figures of docs/experiments.md).
    pub const ADAPTIVE: VisitingOrder = VisitingOrder::Adaptive { noise: ADAPTIVE_NOISE, window: ADAPTIVE_WINDOW };

    /// The orders that have a name to be chosen by (the command line, the page).
    pub const NAMED: [&'static str; 4] = ["raster", "random", "halton", "adaptive"];

    /// The order named `raster`, `random`, `halton` or `adaptive` (with the default noise and
    /// window).
    pub fn from_name(name: &str) -> Option<VisitingOrder> {
        match name {
            "raster" => Some(VisitingOrder::Raster),
            "random" => Some(VisitingOrder::Random),
            "halton" => Some(VisitingOrder::Halton),
            "adaptive" => Some(VisitingOrder::ADAPTIVE),
            _ => None,
        }
    }

    /// The order's name in messages and on the command line: `raster`, `random`, `halton`,
    /// `adaptive` or `given`.
    pub fn name(&self) -> &'static str {
        match self {
            VisitingOrder::Raster => "raster",
            VisitingOrder::Random => "random",
            VisitingOrder::Halton => "halton",
            VisitingOrder::Adaptive { .. } => "adaptive",
            VisitingOrder::Given(_) => "given",
        }
    }
}

/// The radical inverse of `i` in `base` (van der Corput): its digits mirrored about the point,
/// in `[0, 1)`.
fn radical_inverse(mut i: usize, base: usize) -> f64 {
    let (mut inverse, mut digit) = (0.0, 1.0 / base as f64);
    while i > 0 {
        inverse += (i % base) as f64 * digit;
        i /= base;
        digit /= base as f64;
    }
    inverse
}

/// Every cell of a `height x width` grid once (raster indices), in the order the Halton sequence
/// `(radical_inverse(i, 2), radical_inverse(i, 3))`, shifted by `shift` modulo 1, first lands in
/// it (only its first coordinate when `height` is 1). Consecutive cells of the order are spread
/// over the grid (a low-discrepancy order); cells it has not reached after `64 * len` points
/// (none, for the grids here) follow in raster order.
pub fn halton_order(height: usize, width: usize, shift: (f64, f64)) -> Vec<usize> {
    let len = height * width;
    let mut seen = vec![false; len];
    let mut order = Vec::with_capacity(len);
    let cell = |u: f64, size: usize| ((u * size as f64) as usize).min(size.saturating_sub(1));
    for i in 0..64 * len {
        if order.len() == len {
            break;
        }
        let x = (radical_inverse(i, 2) + shift.0).fract();
        let y = (radical_inverse(i, 3) + shift.1).fract();
        let p = cell(y, height) * width + cell(x, width);
        if !seen[p] {
            seen[p] = true;
            order.push(p);
        }
    }
    order.extend((0..len).filter(|&p| !seen[p]));
    order
}

/// How many positions each step of an any-order generation draws, for `U` positions to
/// generate at `K` a step ([`GenerateOptions::per_step`]); the lecture's models draw one a step
/// whatever the schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schedule {
    /// `K` every step, the last one what is left: `ceil(U / K)` steps.
    #[default]
    Constant,
    /// MaskGIT's cosine schedule (Chang et al. 2022) over the same `S = ceil(U / K)` steps: after
    /// step `s` (from 0), `floor(U cos(pi/2 (s + 1) / S))` positions are left, so that the first
    /// steps, while the picture is most uncertain, draw few positions (one each, for 784 pixels
    /// in 49 steps) and the last ones many; at least one a step.
    Cosine,
}

impl Schedule {
    /// The schedules that have a name to be chosen by (the command line, the page).
    pub const NAMED: [&'static str; 2] = ["constant", "cosine"];

    /// The schedule named `constant` or `cosine`.
    pub fn from_name(name: &str) -> Option<Schedule> {
        match name {
            "constant" => Some(Schedule::Constant),
            "cosine" => Some(Schedule::Cosine),
            _ => None,
        }
    }

    /// The schedule's name on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Cosine => "cosine",
        }
    }

    /// The positions each step draws, for `todo` positions at `per_step` a step: `ceil(todo /
    /// per_step)` counts of at least 1 that sum to `todo` (none for `todo` 0).
    ///
    /// # Panics
    /// If `per_step` is 0.
    pub fn counts(self, todo: usize, per_step: usize) -> Vec<usize> {
        assert!(per_step > 0, "positions per step must be at least 1");
        let steps = todo.div_ceil(per_step);
        match self {
            Schedule::Constant => (0..steps).map(|s| per_step.min(todo - s * per_step)).collect(),
            Schedule::Cosine => {
                let mut left = todo;
                (0..steps)
                    .map(|s| {
                        let r = (s + 1) as f64 / steps as f64;
                        let after = (todo as f64 * (std::f64::consts::FRAC_PI_2 * r).cos()).floor() as usize;
                        // At least one, and at least one left for each later step.
                        let count = left.saturating_sub(after).max(1).min(left - (steps - s - 1));
                        left -= count;
                        count
                    })
                    .collect()
            }
        }
    }
}

impl std::fmt::Display for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to generate and how: the input of [`Generation::new`] and [`generate`]; start from
/// [`GenerateOptions::new`].
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// How many sequences to generate at once.
    pub count: usize,
    /// The order in which unknown positions are filled (lecture models: raster only).
    pub order: VisitingOrder,
    /// Positions drawn per step, `K >= 1` (any-order models only; the lecture's take 1): the
    /// number of steps is `ceil(U / K)` for `U` positions to generate.
    pub per_step: usize,
    /// How those positions are spread over the steps (any-order models).
    pub schedule: Schedule,
    /// Known values (in-painting), `count x L` row-major, in `0..C` where known (gray levels
    /// 0..=255 for images), negative where unknown; `None`: nothing known.
    pub known: Option<Vec<i32>>,
    /// Sampling temperature; 1 samples the model, 0 (or below) takes the most likely value (see
    /// [`sample_rows`]).
    pub temperature: f64,
    /// Guidance toward the known values, `w >= 0` (any-order models; ignored without known
    /// values; a lecture model refuses any above 0): each step draws from the logits
    /// `l + w (l - l_free)`, `l_free` the model's logits with the known values hidden and only the
    /// generated ones seen: classifier-free guidance (Ho and Salimans 2022), the any-order model
    /// being its own unconditional model, among the values whose conditional probability is at
    /// least [`GUIDANCE_PLAUSIBLE`] of the most likely one's. 0: the model's conditional as it
    /// is. Above 0, each step costs a second forward pass.
    pub guidance: f64,
    /// Seeds the device's generator at each step and the random order: the same seed, model
    /// and options give the same samples on the same backend.
    pub seed: u64,
}

impl GenerateOptions {
    /// `count` sequences in raster order, one position a step, temperature 1, no guidance, seed 0.
    pub fn new(count: usize) -> Self {
        GenerateOptions { count, order: VisitingOrder::Raster, per_step: 1, schedule: Schedule::Constant, known: None, temperature: 1.0, guidance: 0.0, seed: 0 }
    }
}

/// Why [`Generation::new`] refused its options.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum GenerateError {
    /// A count of 0.
    #[error("nothing to generate: the count is 0")]
    NoSamples,
    /// A `per_step` of 0.
    #[error("positions per step must be at least 1")]
    NoPositionsPerStep,
    /// A lecture model asked for another order than raster, or more than one position a step.
    #[error(
        "the {} model predicts only the next value in raster order: it takes the raster order \
         and one position per step (asked: {order} order, {per_step} per step); use an any-order model",
        kind.name()
    )]
    NextValueOnly {
        /// The lecture model.
        kind: ModelKind,
        /// The order asked for.
        order: &'static str,
        /// The positions per step asked for.
        per_step: usize,
    },
    /// A given order that is not a permutation of the positions.
    #[error("the visiting order must be a permutation of 0..{len}; {position} is out of range or repeated")]
    NotAPermutation {
        /// The sequence length.
        len: usize,
        /// The first bad entry.
        position: usize,
    },
    /// A given order of the wrong length.
    #[error("the visiting order has {given} positions, the sequences {len}")]
    OrderLength {
        /// Entries given.
        given: usize,
        /// The sequence length.
        len: usize,
    },
    /// Known values of the wrong length.
    #[error("{given} known values given for {count} sequences of length {len}")]
    KnownLength {
        /// Values given.
        given: usize,
        /// Sequences asked for.
        count: usize,
        /// Their length.
        len: usize,
    },
    /// A known value outside `0..C`.
    #[error("known value {value} is outside 0..{num_values}")]
    KnownValue {
        /// The value.
        value: i32,
        /// `C`.
        num_values: usize,
    },
    /// Negative or non-finite noise in the adaptive order.
    #[error("the adaptive order's noise must be 0 or more, not {0}")]
    AdaptiveNoise(f64),
    /// Negative or non-finite guidance.
    #[error("the guidance must be 0 or more, not {0}")]
    Guidance(f64),
    /// A lecture model asked for guidance.
    #[error(
        "the {} model sees only the values before each one in raster order, so there are no known values to hide \
         and nothing to guide by (asked: guidance {guidance}); use an any-order model, or guidance 0",
        kind.name()
    )]
    Unguidable {
        /// The lecture model.
        kind: ModelKind,
        /// The guidance asked for.
        guidance: f64,
    },
}

/// Which positions each step fills.
enum Plan {
    /// The same positions for every sample, step by step.
    Fixed(Vec<Vec<usize>>),
    /// Chosen on the device at each step, this many at each step.
    Adaptive { noise: f64, window: usize, counts: Vec<usize> },
}

/// What the model predicts next for one sample: [`Generation::next_distribution`].
pub struct NextDistribution {
    /// `[1, L]` 1.0 where the model conditions now (for a lecture model the raster prefix
    /// before `position`, as in its training).
    pub known: Tensor<2>,
    /// `[1]` the position drawn next (raster index).
    pub position: Tensor<1, Int>,
    /// `[1, C]` the log-probabilities (nats, temperature 1) of its values.
    pub log_probs: Tensor<2>,
}

/// A generation in progress, advanced by [`Generation::step`].
pub struct Generation {
    plan: Plan,
    /// The lecture's next-value models: the mask grows as a raster prefix.
    next_value_only: bool,
    next: usize,
    count: usize,
    temperature: f64,
    /// [`GenerateOptions::guidance`].
    guidance: f64,
    /// Each step seeds the device's generator from this and its index (see [`Generation::step`]).
    seed: u64,
    /// `[N, L]` values so far: known values, generated ones, 0 elsewhere.
    values: Tensor<2, Int>,
    /// `[N, L]` 1 at the positions the model conditions on: for an any-order model the known
    /// ones from the start, then each generated one; for a lecture model the raster prefix.
    visited: Tensor<2>,
    /// `[N, L]` the step (from 0) at which each position was generated, -1 where known or not yet.
    visit_steps: Tensor<2>,
    /// Per position: is it known in some sequence?
    known_somewhere: Vec<bool>,
    known_mask: Option<Tensor<2, Bool>>,
    /// Row skipping for the lecture image model (see [`ArModel::logits_row_skipped`]).
    row_skip: RowSkip,
    /// One past the last visited position: the lecture model sees nothing from there on, so row
    /// skipping starts there.
    skip_from: usize,
}

fn check_permutation(order: &[usize], len: usize) -> Result<(), GenerateError> {
    let mut seen = vec![false; len];
    for &p in order {
        if p >= len || std::mem::replace(&mut seen[p], true) {
            return Err(GenerateError::NotAPermutation { len, position: p });
        }
    }
    if order.len() != len {
        return Err(GenerateError::OrderLength { given: order.len(), len });
    }
    Ok(())
}

impl Generation {
    /// Checks `options` against `model` and sets the generation up (nothing runs yet).
    ///
    /// # Errors
    /// A count of 0 or a `per_step` of 0; an order that is not a permutation; known values of
    /// the wrong length or out of range; with a lecture model, an order other than raster or
    /// more than one position a step.
    pub fn new(model: &ArModel, options: &GenerateOptions, device: &Device) -> Result<Self, GenerateError> {
        let len = model.spec.seq_len;
        let n = options.count;
        if n == 0 {
            return Err(GenerateError::NoSamples);
        }
        if options.per_step == 0 {
            return Err(GenerateError::NoPositionsPerStep);
        }
        if !(options.guidance.is_finite() && options.guidance >= 0.0) {
            return Err(GenerateError::Guidance(options.guidance));
        }
        let next_value_only = !model.spec.kind.is_any_order();
        if next_value_only && (options.order != VisitingOrder::Raster || options.per_step != 1) {
            return Err(GenerateError::NextValueOnly {
                kind: model.spec.kind,
                order: options.order.name(),
                per_step: options.per_step,
            });
        }
        if next_value_only && options.guidance > 0.0 {
            return Err(GenerateError::Unguidable { kind: model.spec.kind, guidance: options.guidance });
        }
        let mut known_everywhere = vec![false; len];
        let mut known_somewhere = vec![false; len];
        let mut unknown_most = len;
        let (values, known_mask) = match &options.known {
            None => (Tensor::zeros([n, len], device), None),
            Some(known) => {
                if known.len() != n * len {
                    return Err(GenerateError::KnownLength { given: known.len(), count: n, len });
                }
                let c = model.spec.num_values;
                if let Some(&bad) = known.iter().find(|&&v| v >= c as i32) {
                    return Err(GenerateError::KnownValue { value: bad, num_values: c });
                }
                for p in 0..len {
                    let column = (0..n).map(|s| known[s * len + p] >= 0);
                    known_everywhere[p] = column.clone().all(|k| k);
                    known_somewhere[p] = column.clone().any(|k| k);
                }
                unknown_most = known.chunks(len).map(|s| s.iter().filter(|&&v| v < 0).count()).max().unwrap_or(0);
                let vals: Vec<i64> = known.iter().map(|&v| v.max(0) as i64).collect();
                let mask: Vec<bool> = known.iter().map(|&v| v >= 0).collect();
                (
                    Tensor::from_data(TensorData::new(vals, [n, len]), device),
                    Some(Tensor::from_data(TensorData::new(mask, [n, len]), device)),
                )
            }
        };
        let k = options.per_step;
        let fixed = |order: Vec<usize>| {
            if next_value_only {
                // One step per position to generate: a run of positions every sample knows
                // joins the step of the next position to generate (nothing left to generate
                // after it: no step).
                let mut steps = Vec::new();
                let mut group = Vec::new();
                for p in order {
                    group.push(p);
                    if !known_everywhere[p] {
                        steps.push(std::mem::take(&mut group));
                    }
                }
                return Plan::Fixed(steps);
            }
            // An any-order model spends no step on positions every sample knows.
            let todo: Vec<usize> = order.into_iter().filter(|&p| !known_everywhere[p]).collect();
            let mut rest = todo.as_slice();
            let steps = options.schedule.counts(todo.len(), k).into_iter().map(|count| {
                let (step, after) = rest.split_at(count);
                rest = after;
                step.to_vec()
            });
            Plan::Fixed(steps.collect())
        };
        let plan = match &options.order {
            VisitingOrder::Raster => fixed((0..len).collect()),
            VisitingOrder::Random => {
                let mut order: Vec<usize> = (0..len).collect();
                Rng::new(options.seed ^ 0x6F_7264_6572).shuffle(&mut order);
                fixed(order)
            }
            VisitingOrder::Halton => {
                let mut rng = Rng::new(options.seed ^ 0x68_616C_746F_6E);
                let shift = (rng.uniform(), rng.uniform());
                fixed(halton_order(model.spec.height(), model.spec.width, shift))
            }
            VisitingOrder::Given(order) => {
                check_permutation(order, len)?;
                fixed(order.clone())
            }
            VisitingOrder::Adaptive { noise, window } => {
                if !(noise.is_finite() && *noise >= 0.0) {
                    return Err(GenerateError::AdaptiveNoise(*noise));
                }
                let counts = options.schedule.counts(unknown_most, k);
                // A window narrower than a step would leave it short of positions.
                let widest = counts.iter().copied().max().unwrap_or(k);
                let window = if *window == 0 { len } else { (*window).max(widest).min(len) };
                Plan::Adaptive { noise: *noise, window, counts }
            }
        };
        let visited = match (&known_mask, next_value_only) {
            (Some(mask), false) => Tensor::<2>::zeros([n, len], device).mask_fill(mask.clone(), 1.0),
            _ => Tensor::zeros([n, len], device),
        };
        Ok(Generation {
            plan,
            next_value_only,
            next: 0,
            count: n,
            temperature: options.temperature,
            guidance: options.guidance,
            seed: options.seed,
            values,
            visited,
            visit_steps: Tensor::full([n, len], -1.0, device),
            known_somewhere,
            known_mask,
            row_skip: model.row_skip(),
            skip_from: 0,
        })
    }

    /// The positions the next step fills (the same for every sample), `None` when done or when
    /// the order is adaptive (chosen per sample on the device).
    pub fn positions(&self) -> Option<&[usize]> {
        match &self.plan {
            Plan::Fixed(steps) => steps.get(self.next).map(Vec::as_slice),
            Plan::Adaptive { .. } => None,
        }
    }

    /// The position whose value the next step draws first; see [`Generation::positions`]. For
    /// the lecture's models, the one raster position it draws (the known positions before it,
    /// which join its step, are only marked visited).
    pub fn position(&self) -> Option<usize> {
        let positions = self.positions()?;
        if self.next_value_only { positions.last().copied() } else { positions.first().copied() }
    }

    /// Steps run so far.
    pub fn steps_done(&self) -> usize {
        self.next
    }

    /// Steps the whole generation takes: one per position to draw for a lecture model (positions
    /// every sample knows join the next step); for an any-order model, the positions some sample
    /// does not know divided by `K`, rounded up (adaptive: the most unknown positions of any
    /// sample), whatever the schedule.
    pub fn steps_total(&self) -> usize {
        match &self.plan {
            Plan::Fixed(steps) => steps.len(),
            Plan::Adaptive { counts, .. } => counts.len(),
        }
    }

    /// Whether every step has run.
    pub fn is_done(&self) -> bool {
        self.next >= self.steps_total()
    }

    /// Runs one step with the model given to [`Generation::new`] (another model gives meaningless
    /// values or panics on mismatched shapes). Returns false when there was nothing left to do.
    /// Seeds the device's global generator (from the seed and the step's index) before drawing.
    pub fn step(&mut self, model: &ArModel) -> bool {
        if self.is_done() {
            return false;
        }
        // The device's generator is global: seeded per step, a generation draws the same
        // values however it is chunked and whatever other generations run between its steps.
        self.values.device().seed(Rng::new(self.seed).nth(self.next as u64));
        if self.next_value_only {
            self.next_value_step(model);
        } else {
            self.any_order_step(model);
        }
        self.next += 1;
        true
    }

    /// The lecture's step: the positions every sequence knows up to the next one to generate are
    /// marked visited, then that one is drawn from the logits of the next value.
    fn next_value_step(&mut self, model: &ArModel) {
        let p = self.position().expect("a step is left");
        let first = self.positions().and_then(|g| g.first().copied()).expect("a step is left");
        let n = self.count;
        if first < p {
            let ones = Tensor::ones([n, p - first], &self.visited.device());
            self.visited = self.visited.clone().slice_assign([0..n, first..p], ones);
            self.skip_from = self.skip_from.max(p);
        }
        {
            let logits = model.logits_row_skipped(&self.row_skip, self.values.clone(), self.visited.clone(), self.skip_from);
            let mut drawn = sample_rows(logits, self.temperature).reshape([n, 1]);
            if self.known_somewhere[p] {
                let known_mask = self.known_mask.as_ref().expect("known values exist");
                let keep = known_mask.clone().slice([0..n, p..p + 1]);
                let known = self.values.clone().slice([0..n, p..p + 1]);
                drawn = drawn.mask_where(keep.clone(), known);
                let step = Tensor::full([n, 1], self.next as f32, &self.visited.device()).mask_fill(keep, -1.0);
                self.visit_steps = self.visit_steps.clone().slice_assign([0..n, p..p + 1], step);
            } else {
                let step = Tensor::full([n, 1], self.next as f32, &self.visited.device());
                self.visit_steps = self.visit_steps.clone().slice_assign([0..n, p..p + 1], step);
            }
            self.values = self.values.clone().slice_assign([0..n, p..p + 1], drawn);
        }
        let ones = Tensor::ones([n, 1], &self.visited.device());
        self.visited = self.visited.clone().slice_assign([0..n, p..p + 1], ones);
        self.skip_from = self.skip_from.max(p + 1);
    }

    /// An any-order step: all logits in one pass, `K` positions per sample chosen (fixed or
    /// adaptive), drawn independently, written where nothing is known or drawn yet.
    fn any_order_step(&mut self, model: &ArModel) {
        let n = self.count;
        let device = self.visited.device();
        let (c, len) = (model.spec.num_values, model.spec.seq_len);
        let logits_at = |positions: Tensor<2, Int>| {
            let logits = model.logits_at(self.values.clone(), self.visited.clone(), positions.clone());
            self.guide(logits, self.visited.clone(), self.known_mask.clone(), |free| model.logits_at(self.values.clone(), free, positions))
        };
        let (positions, logits) = match &self.plan {
            Plan::Fixed(steps) => {
                let step = &steps[self.next];
                let idx: Vec<i64> = step.iter().map(|&p| p as i64).collect();
                let k = idx.len();
                let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [k]), &device).reshape([1, k]).expand([n, k]);
                (idx.clone(), logits_at(idx))
            }
            Plan::Adaptive { noise, window, counts } => {
                let (k, w) = (counts[self.next].min(len), *window);
                let unfilled = self.visited.clone().lower_elem(0.5);
                // The candidates: the first `w` unfilled positions in raster order, `[N, w]`
                // (fewer unfilled than w: filled ones make up the count, and are never chosen).
                let candidates = if w < len {
                    let rank = unfilled.clone().float().cumsum(1);
                    let in_window = unfilled.clone().bool_and(rank.lower_equal_elem(w as f64));
                    let earlier_first = Tensor::<1, Int>::arange(0..len as i64, &device).float().neg().reshape([1, len]).expand([n, len]);
                    earlier_first.mask_fill(in_window.bool_not(), -1e30).topk_with_indices(w, 1).1
                } else {
                    Tensor::<1, Int>::arange(0..len as i64, &device).reshape([1, len]).expand([n, len])
                };
                let logits = logits_at(candidates.clone());
                // max_v log p(v) = -log sum_v exp(l_v - max l): one exp pass, no log_softmax.
                let max = logits.clone().max_dim(1);
                let mut score: Tensor<2> = (logits.clone() - max).exp().sum_dim(1).log().neg().reshape([n, w]);
                if *noise > 0.0 {
                    score = gumbel_noise(&score).mul_scalar(*noise) + score;
                }
                let open = unfilled.int().gather(1, candidates.clone()).equal_elem(1);
                let (_, chosen) = score.mask_fill(open.bool_not(), -1e30).topk_with_indices(k, 1);
                let picked = logits.gather(2, chosen.clone().reshape([n, 1, k]).expand([n, c, k]));
                (candidates.gather(1, chosen), picked)
            }
        };
        let [_, k] = positions.dims();
        let drawn = sample_rows(logits.swap_dims(1, 2).reshape([n * k, c]), self.temperature).reshape([n, k]);
        let fresh = Tensor::<2, Int>::zeros([n, len], &device).scatter(1, positions.clone(), drawn, IndexingUpdateOp::Add);
        let hit = Tensor::<2>::zeros([n, len], &device).scatter(1, positions, Tensor::ones([n, k], &device), IndexingUpdateOp::Add);
        let write = hit.greater_elem(0.5).bool_and(self.visited.clone().lower_elem(0.5));
        self.values = self.values.clone().mask_where(write.clone(), fresh);
        self.visited = self.visited.clone().mask_fill(write.clone(), 1.0);
        self.visit_steps = self.visit_steps.clone().mask_fill(write, self.next as f32);
    }

    /// `logits`, computed with the conditioning mask `visited`, guided toward the values known
    /// where `known` is true ([`GenerateOptions::guidance`]); `free_logits` gives the same logits
    /// for another mask (`visited` with the known values hidden).
    fn guide(&self, logits: Tensor<3>, visited: Tensor<2>, known: Option<Tensor<2, Bool>>, free_logits: impl FnOnce(Tensor<2>) -> Tensor<3>) -> Tensor<3> {
        match known {
            Some(known) if self.guidance > 0.0 => {
                let free = free_logits(visited.mask_fill(known, 0.0));
                let guided = logits.clone() + (logits.clone() - free).mul_scalar(self.guidance);
                // Only the values the conditional itself finds plausible: guidance would
                // otherwise turn the ratio of two tiny probabilities into a visible speck.
                let [n, c, k] = logits.dims();
                let floor = logits.clone().max_dim(1).add_scalar(GUIDANCE_PLAUSIBLE.ln()).expand([n, c, k]);
                guided.mask_fill(logits.lower(floor), -1e30)
            }
            _ => logits,
        }
    }

    /// What the model predicts next for sample `sample` (the posterior view); `None` when the
    /// generation is done. The next position: the lecture's next raster position; the first of
    /// the next step in a fixed order; in the adaptive order, the most certain open position
    /// (the rule without its noise).
    ///
    /// # Panics
    /// If `sample` is not below the generation's count.
    pub fn next_distribution(&self, model: &ArModel, sample: usize) -> Option<NextDistribution> {
        if self.is_done() {
            return None;
        }
        assert!(sample < self.count, "sample {sample} of a generation of {}", self.count);
        let device = self.values.device();
        let (len, c) = (model.spec.seq_len, model.spec.num_values);
        let values = self.values.clone().slice([sample..sample + 1, 0..len]);
        let at = |p: usize| Tensor::<1, Int>::from_data(TensorData::new(vec![p as i64], [1]), &device);
        if self.next_value_only {
            let p = self.position()?;
            let known = Tensor::<2>::from_data(TensorData::new(crate::event::prefix_mask(p, len), [1, len]), &device);
            let log_probs = log_softmax(model.logits(values, known.clone()), 1);
            return Some(NextDistribution { known, position: at(p), log_probs });
        }
        let known = self.visited.clone().slice([sample..sample + 1, 0..len]);
        let logits = model.all_logits(values.clone(), known.clone());
        let given = self.known_mask.as_ref().map(|m| m.clone().slice([sample..sample + 1, 0..len]));
        let logits = self.guide(logits, known.clone(), given, |free| model.all_logits(values, free));
        let log_probs = log_softmax(logits, 1).reshape([c, len]);
        let position = match self.position() {
            Some(p) => at(p),
            None => {
                let certainty = log_probs.clone().max_dim(0).reshape([1, len]);
                certainty.mask_fill(known.clone().greater_elem(0.5), -1e30).argmax(1).reshape([1])
            }
        };
        let log_probs = log_probs.select(1, position.clone()).reshape([1, c]);
        Some(NextDistribution { known, position, log_probs })
    }

    /// Runs up to `steps` steps with the model given to [`Generation::new`]; returns how many
    /// ran (fewer when the generation finishes).
    pub fn run(&mut self, model: &ArModel, steps: usize) -> usize {
        (0..steps).take_while(|_| self.step(model)).count()
    }

    /// `[N, L]` values so far: known and generated ones, 0 where not generated yet.
    pub fn values(&self) -> Tensor<2, Int> {
        self.values.clone()
    }

    /// `[N, L]` mask of the positions the model conditions on now (1.0): for an any-order model
    /// the known and generated ones, for a lecture model the raster prefix visited so far.
    pub fn visited(&self) -> Tensor<2> {
        self.visited.clone()
    }

    /// `[N, L]` the step (from 0) at which each position was generated; -1 where it was known
    /// or is not generated yet: the map of the visiting order.
    pub fn visit_steps(&self) -> Tensor<2> {
        self.visit_steps.clone()
    }
}

/// Generates `options.count` sequences, `[N, L]` integers in `0..C`, running a [`Generation`] to
/// the end.
///
/// # Errors
/// As [`Generation::new`].
pub fn generate(model: &ArModel, options: &GenerateOptions, device: &Device) -> Result<Tensor<2, Int>, GenerateError> {
    let mut generation = Generation::new(model, options, device)?;
    while generation.step(model) {}
    Ok(generation.values())
}

//! The one auto-regressive generation routine, for every model: fill the unknown positions one
//! after the other in a visiting order, each drawn from the model's logits given what is known so
//! far. Known values (in-painting) are kept as they are.
//!
//! Everything stays on the device: a step is one forward pass, one on-device sample and one
//! column write, so a caller can run many steps and read the result back only when it wants to
//! show it.

use crate::models::{ArModel, Shortcut};
use crate::sampling::sample_rows;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use std::fmt;

#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// How many sequences to generate at once.
    pub count: usize,
    /// Visiting order, a permutation of `0..L`; `None` is left to right (raster order).
    pub order: Option<Vec<usize>>,
    /// Known values, `count x L` row-major, negative where unknown; `None`: nothing known.
    pub known: Option<Vec<i32>>,
    /// Sampling temperature; 1 samples the model, 0 takes the most likely value.
    pub temperature: f64,
    pub seed: u64,
}

impl GenerateOptions {
    pub fn new(count: usize) -> Self {
        GenerateOptions { count, order: None, known: None, temperature: 1.0, seed: 0 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GenerateError(pub String);

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GenerateError {}

/// A generation in progress, advanced by [`Generation::step`].
pub struct Generation {
    order: Vec<usize>,
    next: usize,
    count: usize,
    temperature: f64,
    /// `[N, L]` values so far: known values, generated ones, 0 elsewhere.
    values: Tensor<2, Int>,
    /// `[N, L]` 1 at the positions already visited: what the model conditions on.
    visited: Tensor<2>,
    /// Per position: is it known in every sequence (then the model is not run for it)?
    known_everywhere: Vec<bool>,
    /// Per position: is it known in some sequence?
    known_somewhere: Vec<bool>,
    known_mask: Option<Tensor<2, Bool>>,
    last_logits: Option<(usize, Tensor<2>)>,
    shortcut: Shortcut,
    /// One past the last visited position: the model sees nothing from there on.
    visited_end: usize,
}

impl Generation {
    pub fn new(model: &ArModel, options: &GenerateOptions, device: &Device) -> Result<Self, GenerateError> {
        let len = model.spec.seq_len;
        let n = options.count;
        if n == 0 {
            return Err(GenerateError("nothing to generate: the count is 0".into()));
        }
        let order = match &options.order {
            None => (0..len).collect(),
            Some(order) => {
                let mut seen = vec![false; len];
                for &p in order {
                    if p >= len || std::mem::replace(&mut seen[p], true) {
                        return Err(GenerateError(format!(
                            "the visiting order must be a permutation of 0..{len}; {p} is out of range or repeated"
                        )));
                    }
                }
                if order.len() != len {
                    return Err(GenerateError(format!(
                        "the visiting order has {} positions, the sequences {len}",
                        order.len()
                    )));
                }
                order.clone()
            }
        };
        let mut known_everywhere = vec![false; len];
        let mut known_somewhere = vec![false; len];
        let (values, known_mask) = match &options.known {
            None => (Tensor::zeros([n, len], device), None),
            Some(known) => {
                if known.len() != n * len {
                    return Err(GenerateError(format!(
                        "{} known values given for {n} sequences of length {len}",
                        known.len()
                    )));
                }
                let c = model.spec.num_values as i32;
                if let Some(&bad) = known.iter().find(|&&v| v >= c) {
                    return Err(GenerateError(format!("known value {bad} is outside 0..{c}")));
                }
                for p in 0..len {
                    let column = (0..n).map(|s| known[s * len + p] >= 0);
                    known_everywhere[p] = column.clone().all(|k| k);
                    known_somewhere[p] = column.clone().any(|k| k);
                }
                let vals: Vec<i64> = known.iter().map(|&v| v.max(0) as i64).collect();
                let mask: Vec<bool> = known.iter().map(|&v| v >= 0).collect();
                (
                    Tensor::from_data(TensorData::new(vals, [n, len]), device),
                    Some(Tensor::from_data(TensorData::new(mask, [n, len]), device)),
                )
            }
        };
        device.seed(options.seed);
        Ok(Generation {
            order,
            next: 0,
            count: n,
            temperature: options.temperature,
            values,
            visited: Tensor::zeros([n, len], device),
            known_everywhere,
            known_somewhere,
            known_mask,
            last_logits: None,
            shortcut: model.shortcut(),
            visited_end: 0,
        })
    }

    /// The position the next step fills, `None` when done.
    pub fn position(&self) -> Option<usize> {
        self.order.get(self.next).copied()
    }

    pub fn steps_done(&self) -> usize {
        self.next
    }

    pub fn steps_total(&self) -> usize {
        self.order.len()
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.order.len()
    }

    /// Fills one position (the model is not run where every sequence knows it), with the model
    /// given to [`Generation::new`]. Returns false when there was nothing left to do.
    pub fn step(&mut self, model: &ArModel) -> bool {
        let Some(p) = self.position() else { return false };
        let n = self.count;
        if !self.known_everywhere[p] {
            let logits = model.logits_before(&self.shortcut, self.values.clone(), self.visited.clone(), self.visited_end);
            let mut drawn = sample_rows(logits.clone(), self.temperature).reshape([n, 1]);
            if self.known_somewhere[p] {
                let known_mask = self.known_mask.as_ref().expect("known values exist");
                let keep = known_mask.clone().slice([0..n, p..p + 1]);
                let known = self.values.clone().slice([0..n, p..p + 1]);
                drawn = drawn.mask_where(keep, known);
            }
            self.values = self.values.clone().slice_assign([0..n, p..p + 1], drawn);
            self.last_logits = Some((p, logits));
        }
        let ones = Tensor::ones([n, 1], &self.visited.device());
        self.visited = self.visited.clone().slice_assign([0..n, p..p + 1], ones);
        self.visited_end = self.visited_end.max(p + 1);
        self.next += 1;
        true
    }

    /// Runs up to `steps` steps; returns how many ran.
    pub fn run(&mut self, model: &ArModel, steps: usize) -> usize {
        (0..steps).take_while(|_| self.step(model)).count()
    }

    /// `[N, L]` values so far.
    pub fn values(&self) -> Tensor<2, Int> {
        self.values.clone()
    }

    /// `[N, L]` mask of the positions visited so far.
    pub fn visited(&self) -> Tensor<2> {
        self.visited.clone()
    }

    /// The logits `[N, C]` the model gave at the last position it was run for.
    pub fn last_logits(&self) -> Option<(usize, Tensor<2>)> {
        self.last_logits.clone()
    }
}

/// Generates `options.count` sequences, `[N, L]`.
pub fn generate(model: &ArModel, options: &GenerateOptions, device: &Device) -> Result<Tensor<2, Int>, GenerateError> {
    let mut generation = Generation::new(model, options, device)?;
    while generation.step(model) {}
    Ok(generation.values())
}

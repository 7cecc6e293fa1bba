//! Training in the tab: the library's training step (`autoregress::train`, the trainer's own)
//! on batches drawn fresh from the toy generator, a chunk of steps per call, on the page's device
//! (WebGPU or the CPU); a snapshot of the weights now and then, copied to the CPU, scored on the
//! trainer's held-out test sequences and sampled.

use crate::demo::Demo;
use crate::readback::{js_err, read_floats};
use crate::state::{Run, kind_of};
use autoregress::batch::{MaskMix, mean_std, sequences_tensor};
use autoregress::data::toy::{self, generator_entropy, toy_dataset};
use autoregress::burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use autoregress::burn::tensor::{Device, Tensor, TensorData};
use autoregress::metrics::nll_sum;
use autoregress::train::Training;
use autoregress::{ArModel, GenerateOptions, Generation, ModelKind, ModelSpec, weights};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// The largest batch the panel takes (a toy batch of 1,000 is about 1 MB of activations a layer).
const MAX_BATCH: usize = 1000;
/// Sequences drawn to set a fresh model's input normalization, as the trainer sets it from its
/// training set.
const NORMALIZATION_SEQUENCES: usize = 10_000;

pub(crate) struct LiveTraining {
    run: Training,
    /// The weights as they were at the last [`Demo::train_snapshot`], on the CPU, for inference.
    snapshot: Option<ArModel>,
    /// Tells this training from a later one (a snapshot read back meanwhile is dropped).
    serial: u32,
    /// The held-out sequences ([`test_sequences`]), drawn once for every evaluation.
    held_out: Vec<u16>,
}

/// `model`'s weights copied to the CPU device `cpu`, read back asynchronously (WebGPU reads
/// only so): every float parameter in the modules' visiting order.
async fn to_cpu(model: &ArModel, cpu: &Device) -> Result<ArModel, JsValue> {
    struct Collect(Vec<Tensor<1>>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let n = t.shape().num_elements();
            self.0.push(t.reshape([n]));
        }
    }
    struct Fill {
        values: std::vec::IntoIter<Vec<f32>>,
        device: Device,
    }
    impl ModuleMapper for Fill {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let values = self.values.next().expect("one parameter for each one read");
            let device = self.device.clone();
            param.map(|t| {
                let dims = t.dims();
                let n = values.len();
                Tensor::<1>::from_data(TensorData::new(values, [n]), &device).reshape(dims)
            })
        }
    }
    let mut collect = Collect(Vec::new());
    model.visit(&mut collect);
    let mut values = Vec::with_capacity(collect.0.len());
    for t in collect.0 {
        values.push(read_floats(t).await?);
    }
    let fresh = ArModel::new(model.spec.clone(), cpu).map_err(js_err)?;
    Ok(fresh.map(&mut Fill { values: values.into_iter(), device: cpu.clone() }))
}

/// The models the panel trains: the toy ones.
fn trainable(name: &str) -> Result<ModelKind, JsError> {
    let kind = kind_of(name)?;
    if kind.is_image() {
        return Err(JsError::new(&format!("the tab trains the toy models (toy, toy-any-order), not {}", kind.name())));
    }
    Ok(kind)
}

/// The held-out sequences: the trainer's (`eval`'s) test set.
fn test_sequences(len: usize) -> Vec<u16> {
    toy_dataset(toy::TEST_SEED, toy::TEST_SEQUENCES, len)
}

#[wasm_bindgen]
impl Demo {
    /// Starts training model `kind` ("toy" or "toy-any-order") from scratch (its weights drawn
    /// from `seed`), or from the weights `init` when given, on the active device; replaces any
    /// training in progress. Returns the number of parameters.
    pub fn train_new(&self, kind: &str, seed: u32, init: Option<Vec<u8>>) -> Result<usize, JsError> {
        let kind = trainable(kind)?;
        let mut s = self.state.borrow_mut();
        s.training = None;
        let device = s.device().autodiff();
        let model = match init {
            Some(bytes) => {
                let model = weights::from_bytes(&bytes, Some(kind), &device).map_err(|e| JsError::new(&e.to_string()))?;
                if model.spec.seq_len != toy::LEN {
                    return Err(JsError::new(&format!("these weights are for sequences of {}, the tab trains on {}", model.spec.seq_len, toy::LEN)));
                }
                model
            }
            None => {
                let normalization = toy_dataset(toy::TRAIN_SEED ^ ((seed as u64) << 8), NORMALIZATION_SEQUENCES, toy::LEN);
                let (mean, std) = mean_std(normalization.iter().map(|&v| v as f64));
                device.seed(seed as u64);
                ArModel::new(ModelSpec::for_kind(kind, 1, toy::LEN, mean, std), &device).map_err(|e| JsError::new(&e.to_string()))?
            }
        };
        let parameters = model.num_params();
        let mix = kind.train_defaults().mask_mix.unwrap_or(MaskMix::UNIFORM);
        s.next_run += 1;
        let serial = s.next_run;
        let held_out = test_sequences(model.spec.seq_len);
        s.training = Some(LiveTraining { run: Training::new(model, &device, seed as u64, mix), snapshot: None, serial, held_out });
        Ok(parameters)
    }

    /// Drops the training in progress, if any.
    pub fn train_drop(&self) {
        self.state.borrow_mut().training = None;
    }

    /// Steps done by the training in progress (0 when none).
    pub fn train_step_count(&self) -> usize {
        self.state.borrow().training.as_ref().map_or(0, |t| t.run.step)
    }

    /// Runs `steps` training steps of `batch` fresh toy sequences each at learning rate `lr`
    /// (Adam, constant rate); resolves to each step's training loss (nats/position, the loss of
    /// the batch before its step). Rejects on a loss that is not finite (the weights are then
    /// useless: lower the rate and reset).
    pub fn train_steps(&self, steps: usize, batch: usize, lr: f64) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            if !(1..=MAX_BATCH).contains(&batch) {
                return Err(js_err(format!("batch size {batch}: use 1 to {MAX_BATCH}")));
            }
            if !(lr.is_finite() && lr > 0.0 && lr <= 1.0) {
                return Err(js_err(format!("learning rate {lr}: use a number above 0, at most 1 (1e-3 is the lecture's)")));
            }
            let losses = {
                let mut s = state.borrow_mut();
                let t = s.training.as_mut().ok_or_else(|| js_err("no training in progress: press Start"))?;
                let losses: Vec<Tensor<1>> = (0..steps.max(1))
                    .map(|_| {
                        let sequences = t.run.fresh_toy_batch(batch);
                        t.run.step(sequences, lr)
                    })
                    .collect();
                Tensor::cat(losses, 0)
            };
            let losses = read_floats(losses).await?;
            if let Some(bad) = losses.iter().find(|l| !l.is_finite()) {
                return Err(js_err(format!("the training loss became {bad}: the weights are lost; lower the learning rate and press Reset")));
            }
            Ok(js_sys::Float32Array::from(&losses[..]).into())
        })
    }

    /// Takes the weights as they are now, on the CPU, for [`Demo::train_eval`],
    /// [`Demo::train_sample`] and [`Demo::train_weights`]; resolves to the step they are at.
    pub fn train_snapshot(&self) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let (model, step, serial, cpu) = {
                let s = state.borrow();
                let t = s.training.as_ref().ok_or_else(|| js_err("no training in progress"))?;
                (t.run.model().valid(), t.run.step, t.serial, s.backends.cpu.clone())
            };
            let snapshot = if model.devices().iter().all(|d| *d == cpu) { model } else { to_cpu(&model, &cpu).await? };
            let mut s = state.borrow_mut();
            match s.training.as_mut() {
                Some(t) if t.serial == serial => t.snapshot = Some(snapshot),
                _ => return Err(js_err("the training was reset meanwhile")),
            }
            Ok(JsValue::from_f64(step as f64))
        })
    }

    /// The summed negative log-likelihood (nats) of held-out sequences `start..start + count` of
    /// the trainer's test set (`trainer eval`'s, [`toy::TEST_SEQUENCES`] of them) under the
    /// snapshot, over all their positions. Divide the sum over the whole set by
    /// `test_sequences() * L` for nats/position.
    pub fn train_eval(&self, start: usize, count: usize) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let total = {
                let s = state.borrow();
                let t = s.training.as_ref().ok_or_else(|| js_err("no training in progress"))?;
                let model = t.snapshot.as_ref().ok_or_else(|| js_err("no snapshot taken"))?;
                let len = model.spec.seq_len;
                let end = (start + count).min(toy::TEST_SEQUENCES);
                if start >= end {
                    return Err(js_err(format!("held-out sequences {start}..{end}: there are {}", toy::TEST_SEQUENCES)));
                }
                let chunk = sequences_tensor(&t.held_out[start * len..end * len], end - start, len, &s.backends.cpu);
                nll_sum(model, &model.row_skip(), chunk)
            };
            Ok(JsValue::from_f64(read_floats(total).await?[0] as f64))
        })
    }

    /// Starts a generation of `count` sequences from the snapshot in `panel` (advance it with
    /// [`Demo::advance`]), in the model's default order; returns the number of steps.
    pub fn train_sample(&self, panel: &str, count: usize, seed: u32) -> Result<u32, JsError> {
        let mut s = self.state.borrow_mut();
        s.runs.remove(panel);
        let t = s.training.as_ref().ok_or_else(|| JsError::new("no training in progress"))?;
        let model = t.snapshot.clone().ok_or_else(|| JsError::new("no snapshot taken"))?;
        let d = model.spec.kind.generate_defaults();
        let options = GenerateOptions { count, order: d.order, per_step: d.per_step, schedule: d.schedule, known: None, temperature: 1.0, guidance: 0.0, seed: seed as u64 };
        let generation = Generation::new(&model, &options, &s.backends.cpu).map_err(|e| JsError::new(&e.to_string()))?;
        let total = generation.steps_total() as u32;
        s.next_run += 1;
        let id = s.next_run;
        s.runs.insert(panel.to_string(), Run { generation, model, id });
        Ok(total)
    }

    /// The snapshot's weights as a weights file (burnpack, f32), as `trainer train` writes
    /// them: `trainer eval`, `trainer sample` and the page's panels read it.
    pub fn train_weights(&self) -> Result<Vec<u8>, JsError> {
        let s = self.state.borrow();
        let t = s.training.as_ref().ok_or_else(|| JsError::new("no training in progress"))?;
        let model = t.snapshot.as_ref().ok_or_else(|| JsError::new("no snapshot taken"))?;
        weights::to_bytes(model).map_err(|e| JsError::new(&e.to_string()))
    }
}

/// How many held-out sequences the tab scores for model `kind`: the first of the trainer's test
/// set; all 1,000 for the lecture's model (`trainer eval toy`'s figure), 100 for the any-order
/// one, whose every conditional is a pass of the whole network (3,200 passes of 16.5 M
/// multiply-adds; `trainer eval toy-any-order --sequences 100` gives the same figure).
#[wasm_bindgen]
pub fn held_out_sequences(kind: &str) -> Result<usize, JsError> {
    Ok(if trainable(kind)?.is_any_order() { 100 } else { toy::TEST_SEQUENCES })
}

/// The length of the toy sequences the tab trains on.
#[wasm_bindgen]
pub fn toy_len() -> usize {
    toy::LEN
}

/// The toy generator's exact entropy (nats/position) at the tab's length: the floor of any
/// model's held-out cross-entropy.
#[wasm_bindgen]
pub fn toy_floor() -> f64 {
    generator_entropy(toy::LEN)
}

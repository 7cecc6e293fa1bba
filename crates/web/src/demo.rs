//! The `Demo` object the worker drives. It keeps the loaded weights, a model per device, and one
//! generation per panel of the page ("toy", "digits", "inpaint"), which the worker advances a
//! chunk of steps at a time, so that the pictures fill in progressively and Stop takes effect
//! between chunks. Starting a run in a panel replaces that panel's run only.

use crate::backend;
use crate::readback::{js_err, read_floats, read_ints};
use crate::state::{Loaded, Run, State, kind_of, order_of};
use autoregress::data::MNIST_SIDE;
use autoregress::data::idx::Images;
use autoregress::region::Region;
use autoregress::rng::Rng;
use autoregress::{GenerateOptions, Generation, NextDistribution, weights};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// The side of the digits the page draws, edits and ships (web/assets/test-digits.idx).
const PAGE_SIDE: usize = MNIST_SIDE;

/// The side of the page's digits: the in-painting editor's size.
#[wasm_bindgen]
pub fn page_side() -> u32 {
    PAGE_SIDE as u32
}

/// A model's default visiting order and positions per step, the library's
/// (`ModelKind::generate_defaults`), for the page's fields.
#[wasm_bindgen(getter_with_clone)]
pub struct Defaults {
    /// "raster", "random", "halton" or "adaptive".
    pub order: String,
    pub per_step: u32,
    /// "constant" or "cosine".
    pub schedule: String,
    /// Guidance toward the known values (in-painting; 0: none).
    pub guidance: f64,
}

impl From<autoregress::defaults::GenerateDefaults> for Defaults {
    fn from(d: autoregress::defaults::GenerateDefaults) -> Self {
        Defaults { order: d.order.name().into(), per_step: d.per_step as u32, schedule: d.schedule.name().into(), guidance: d.guidance }
    }
}

/// The defaults of the model named `kind` for generating (the digits panel).
#[wasm_bindgen]
pub fn generate_defaults(kind: &str) -> Result<Defaults, JsError> {
    Ok(kind_of(kind)?.generate_defaults().into())
}

/// The defaults of the model named `kind` for in-painting (the in-painting panel).
#[wasm_bindgen]
pub fn inpaint_defaults(kind: &str) -> Result<Defaults, JsError> {
    Ok(kind_of(kind)?.inpaint_defaults().into())
}

/// The in-painting editor's erase presets: `height * width` flags in raster order, 1 where
/// region `name` ("top", "bottom", "left", "right", "centre", "random:P") is erased, as the
/// library and the trainer erase it (`autoregress::region::Region::erased`). `seed` is used only
/// by "random:P".
#[wasm_bindgen]
pub fn erased_region(name: &str, height: usize, width: usize, seed: u32) -> Result<Vec<u8>, JsError> {
    let region = Region::from_name(name).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(region.erased(height, width, &mut Rng::new(seed as u64)).into_iter().map(u8::from).collect())
}

/// The sizes of loaded weights: sequences of `len` values in `0..num_values`, images of
/// `width x height` (the toy: `len x 1`).
#[wasm_bindgen]
pub struct Shape {
    pub len: u32,
    pub width: u32,
    pub height: u32,
    pub num_values: u32,
}

/// What one chunk of a run produced.
#[wasm_bindgen(getter_with_clone)]
pub struct Progress {
    pub done: bool,
    /// Steps done and in all.
    pub step: u32,
    pub total: u32,
    /// `[N, L]` values so far, row-major (0 where not drawn yet).
    pub values: Vec<i32>,
    /// `[N, L]` the step at which each position was drawn; -1 where given or not drawn yet.
    pub visit_steps: Vec<f32>,
    /// The watched sample: where the model conditions on a value now (1) ...
    pub known: Vec<u8>,
    /// ... the position it draws next (-1 when done) ...
    pub position: i32,
    /// ... and the log-probabilities of its values there (empty when done).
    pub log_probs: Vec<f32>,
}

/// Why a run could not advance.
fn no_run(panel: &str) -> JsValue {
    js_err(format!("no generation in progress in the {panel} panel"))
}

#[wasm_bindgen]
pub struct Demo {
    pub(crate) state: Rc<RefCell<State>>,
}

#[wasm_bindgen]
impl Demo {
    /// Sets up the devices: WebGPU when `try_gpu` and the browser offers an adapter, and the CPU.
    /// WebGPU is in use when `prefer_gpu` and it started.
    pub async fn create(try_gpu: bool, prefer_gpu: bool) -> Demo {
        let backends = backend::init(try_gpu).await;
        let use_gpu = prefer_gpu && backends.gpu.is_some();
        Demo { state: Rc::new(RefCell::new(State::new(backends, use_gpu))) }
    }

    /// What runs the models now: the WebGPU adapter's name, or the CPU.
    pub fn backend_name(&self) -> String {
        let s = self.state.borrow();
        match (&s.backends.gpu, s.use_gpu) {
            (Some((_, name)), true) => name.clone(),
            _ => "CPU (Burn flex, WebAssembly)".into(),
        }
    }

    /// Whether the models run on WebGPU now (false: on the CPU).
    pub fn uses_gpu(&self) -> bool {
        self.state.borrow().on_gpu()
    }

    pub fn gpu_available(&self) -> bool {
        self.state.borrow().backends.gpu.is_some()
    }

    /// Why WebGPU is not in use, if it is not available.
    pub fn gpu_note(&self) -> Option<String> {
        self.state.borrow().backends.gpu_note.clone()
    }

    /// Switches between WebGPU and the CPU; the runs in progress are dropped.
    pub fn use_gpu(&self, on: bool) -> Result<(), JsError> {
        let mut s = self.state.borrow_mut();
        if on && s.backends.gpu.is_none() {
            return Err(JsError::new(s.backends.gpu_note.as_deref().unwrap_or("no WebGPU device")));
        }
        s.use_gpu = on;
        s.runs.clear();
        Ok(())
    }

    /// Gives up WebGPU for good (after a fault), with the reason to show; the CPU runs from now.
    pub fn drop_gpu(&self, reason: &str) {
        let mut s = self.state.borrow_mut();
        s.backends.gpu = None;
        s.backends.gpu_note = Some(reason.to_string());
        s.use_gpu = false;
        s.runs.clear();
        for l in &mut s.loaded {
            l.on_gpu = None;
        }
    }

    /// Loads weights of model `kind` ("toy", "mnist", "toy-any-order", "mnist-any-order"); a
    /// clear error if they are not usable. Returns a short description of the model.
    pub fn load_weights(&self, kind: &str, bytes: &[u8]) -> Result<String, JsError> {
        let kind = kind_of(kind)?;
        let spec = weights::read_spec(bytes).map_err(|e| JsError::new(&e.to_string()))?;
        if spec.kind != kind {
            return Err(JsError::new(&weights::WeightsError::WrongModel { expected: kind, found: spec.kind }.to_string()));
        }
        if kind.is_image() && (spec.height(), spec.width) != (PAGE_SIDE, PAGE_SIDE) {
            return Err(JsError::new(&format!(
                "these weights are for {}x{} images; the page draws and in-paints {PAGE_SIDE}x{PAGE_SIDE} digits",
                spec.height(),
                spec.width
            )));
        }
        let mut s = self.state.borrow_mut();
        s.loaded.retain(|l| l.kind != kind);
        s.loaded.push(Loaded { kind, bytes: bytes.to_vec(), on_cpu: None, on_gpu: None });
        // Build it now so that tensors that do not fit the network fail here, not mid-run.
        if let Err(e) = s.model(kind) {
            s.loaded.retain(|l| l.kind != kind);
            return Err(JsError::new(&format!("the {} weights cannot be used: {e}", kind.name())));
        }
        Ok(format!("{}: sequences of {} values in 0..{}", kind.name(), spec.seq_len, spec.num_values))
    }

    /// The sizes of loaded weights.
    pub fn shape(&self, kind: &str) -> Result<Shape, JsError> {
        let kind = kind_of(kind)?;
        let s = self.state.borrow();
        let l = s.loaded.iter().find(|l| l.kind == kind).ok_or_else(|| JsError::new("weights not loaded"))?;
        let spec = weights::read_spec(&l.bytes).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Shape { len: spec.seq_len as u32, width: spec.width as u32, height: spec.height() as u32, num_values: spec.num_values as u32 })
    }

    /// Test digits shipped with the page (an IDX image file); returns how many.
    pub fn load_test_digits(&self, bytes: &[u8]) -> Result<usize, JsError> {
        let images = Images::from_idx(bytes).map_err(|e| JsError::new(&format!("test digits: {e}")))?;
        if (images.rows, images.cols) != (PAGE_SIDE, PAGE_SIDE) {
            return Err(JsError::new(&format!("test digits: {}x{} images, the page needs {PAGE_SIDE}x{PAGE_SIDE}", images.rows, images.cols)));
        }
        let n = images.count;
        self.state.borrow_mut().test_digits = Some(images);
        Ok(n)
    }

    pub fn test_digit(&self, index: usize) -> Result<Vec<u8>, JsError> {
        let s = self.state.borrow();
        let images = s.test_digits.as_ref().ok_or_else(|| JsError::new("no test digits loaded"))?;
        if index >= images.count {
            return Err(JsError::new(&format!("test digit {index} of {}", images.count)));
        }
        Ok(images.image(index).to_vec())
    }

    /// Starts generating `count` sequences with model `kind` in `panel`, replacing that panel's
    /// run: visiting `order` ("raster", "random", "halton", "adaptive"), `per_step` positions a step on
    /// average, spread by `schedule` ("constant", "cosine"); `known` (`count x L`, -1 where unknown) in-paints, guided toward
    /// the known values by `guidance` (`GenerateOptions::guidance`; 0: none). Returns the number of steps.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &self,
        panel: &str,
        kind: &str,
        count: usize,
        seed: u32,
        temperature: f64,
        order: &str,
        per_step: usize,
        schedule: &str,
        known: Option<Vec<i32>>,
        guidance: f64,
    ) -> Result<u32, JsError> {
        let kind = kind_of(kind)?;
        let order = order_of(order)?;
        let schedule = autoregress::Schedule::from_name(schedule)
            .ok_or_else(|| JsError::new(&format!("unknown schedule {schedule:?}: use one of {}", autoregress::Schedule::NAMED.join(", "))))?;
        let mut s = self.state.borrow_mut();
        s.runs.remove(panel);
        let model = s.model(kind).map_err(|e| JsError::new(&e))?;
        let options = GenerateOptions { count, order, per_step, schedule, known, temperature, guidance, seed: seed as u64 };
        let generation = Generation::new(&model, &options, &s.device()).map_err(|e| JsError::new(&e.to_string()))?;
        let total = generation.steps_total() as u32;
        s.next_run += 1;
        let id = s.next_run;
        s.runs.insert(panel.to_string(), Run { generation, model, id });
        Ok(total)
    }

    /// Drops the generation in progress in `panel`.
    pub fn stop(&self, panel: &str) {
        self.state.borrow_mut().runs.remove(panel);
    }

    /// Runs up to `steps` steps of `panel`'s generation, then reads its state back once: a
    /// [`Progress`], with the next position and its distribution for sample `watch`. Rejects if
    /// the run was stopped or replaced while the results were read.
    pub fn advance(&self, panel: String, steps: usize, watch: usize) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let (values, visit_steps, watched, done, step, total, id) = {
                let mut guard = state.borrow_mut();
                let s = &mut *guard;
                s.next_run += 1;
                let id = s.next_run;
                let run = s.runs.get_mut(&panel).ok_or_else(|| no_run(&panel))?;
                run.id = id;
                run.generation.run(&run.model, steps);
                let g = &run.generation;
                let [n, _] = g.values().dims();
                let watched = g.next_distribution(&run.model, watch.min(n - 1));
                (g.values(), g.visit_steps(), watched, g.is_done(), g.steps_done(), g.steps_total(), id)
            };
            let values = read_ints(values).await?;
            let visit_steps = read_floats(visit_steps).await?;
            let (known, position, log_probs) = match watched {
                Some(NextDistribution { known, position, log_probs }) => {
                    let known = read_floats(known).await?.iter().map(|&k| (k > 0.5) as u8).collect();
                    let position = read_ints(position).await?[0];
                    (known, position, read_floats(log_probs).await?)
                }
                None => (Vec::new(), -1, Vec::new()),
            };
            {
                let mut s = state.borrow_mut();
                if s.runs.get(&panel).map(|r| r.id) != Some(id) {
                    return Err(js_err(format!("the {panel} run was stopped or replaced")));
                }
                if done {
                    s.runs.remove(&panel);
                }
            }
            let progress = Progress { done, step: step as u32, total: total as u32, values, visit_steps, known, position, log_probs };
            Ok(progress.into())
        })
    }
}

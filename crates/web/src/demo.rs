//! The `Demo` object the page drives. It keeps the loaded weights, a model per device, and the
//! generation in progress, which the page advances a chunk of steps at a time so that the
//! browser stays responsive and the picture fills in progressively.

use crate::backend::{self, Backends};
use autoregress::burn::tensor::activation::log_softmax;
use autoregress::burn::tensor::{Device, Int, Tensor, TensorData};
use autoregress::data::idx::Images;
use autoregress::{ArModel, GenerateOptions, Generation, ModelKind, weights};
use js_sys::{Float32Array, Int32Array, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

struct Loaded {
    kind: ModelKind,
    bytes: Vec<u8>,
    on_cpu: Option<ArModel>,
    on_gpu: Option<ArModel>,
}

struct Run {
    generation: Generation,
    model: ArModel,
}

struct State {
    backends: Backends,
    use_gpu: bool,
    loaded: Vec<Loaded>,
    test_digits: Option<Images>,
    run: Option<Run>,
}

/// The side of the digits the page draws, edits and ships (web/assets/test-digits.idx).
const PAGE_SIDE: usize = 28;

fn kind_of(name: &str) -> Result<ModelKind, JsError> {
    match name {
        "toy" => Ok(ModelKind::Toy),
        "mnist" => Ok(ModelKind::Mnist),
        other => Err(JsError::new(&format!("unknown model {other:?}: use \"toy\" or \"mnist\""))),
    }
}

impl State {
    fn device(&self) -> Device {
        match (&self.backends.gpu, self.use_gpu) {
            (Some((device, _)), true) => device.clone(),
            _ => self.backends.cpu.clone(),
        }
    }

    /// The model of `kind` on the active device (loaded there on first use).
    fn model(&mut self, kind: ModelKind) -> Result<ArModel, String> {
        let device = self.device();
        let gpu = self.use_gpu && self.backends.gpu.is_some();
        let loaded = self
            .loaded
            .iter_mut()
            .find(|l| l.kind == kind)
            .ok_or_else(|| format!("the {} weights are not loaded", kind.name()))?;
        let slot = if gpu { &mut loaded.on_gpu } else { &mut loaded.on_cpu };
        if slot.is_none() {
            let model = weights::from_bytes(&loaded.bytes, Some(kind), &device).map_err(|e| e.to_string())?;
            *slot = Some(model);
        }
        Ok(slot.clone().expect("just loaded"))
    }
}

fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsError::new(&e.to_string()).into()
}

async fn read_ints(t: Tensor<2, Int>) -> Result<Vec<i32>, JsValue> {
    let data = t.into_data_async().await.map_err(|e| js_err(format!("reading results failed: {e:?}")))?;
    data.convert::<i32>().try_to_vec::<i32>().map_err(|e| js_err(format!("{e:?}")))
}

async fn read_floats(t: Tensor<2>) -> Result<Vec<f32>, JsValue> {
    let data = t.into_data_async().await.map_err(|e| js_err(format!("reading results failed: {e:?}")))?;
    data.convert::<f32>().try_to_vec::<f32>().map_err(|e| js_err(format!("{e:?}")))
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    Reflect::set(obj, &JsValue::from_str(key), &value.into()).expect("setting a field of a plain object");
}

#[wasm_bindgen]
pub struct Demo {
    state: Rc<RefCell<State>>,
}

#[wasm_bindgen]
impl Demo {
    /// Sets up the devices: WebGPU when `try_gpu` and the browser offers an adapter, and the CPU.
    pub async fn create(try_gpu: bool) -> Demo {
        let backends = backend::init(try_gpu).await;
        let use_gpu = backends.gpu.is_some();
        Demo { state: Rc::new(RefCell::new(State { backends, use_gpu, loaded: Vec::new(), test_digits: None, run: None })) }
    }

    /// What runs the models now: the WebGPU adapter's name, or the CPU.
    pub fn backend_name(&self) -> String {
        let s = self.state.borrow();
        match (&s.backends.gpu, s.use_gpu) {
            (Some((_, name)), true) => name.clone(),
            _ => "CPU (Burn flex, WebAssembly)".into(),
        }
    }

    pub fn gpu_available(&self) -> bool {
        self.state.borrow().backends.gpu.is_some()
    }

    /// Why WebGPU is not in use, if it is not available.
    pub fn gpu_note(&self) -> Option<String> {
        self.state.borrow().backends.gpu_note.clone()
    }

    /// Switches between WebGPU and the CPU.
    pub fn use_gpu(&self, on: bool) -> Result<(), JsError> {
        let mut s = self.state.borrow_mut();
        if on && s.backends.gpu.is_none() {
            return Err(JsError::new(s.backends.gpu_note.as_deref().unwrap_or("no WebGPU device")));
        }
        s.use_gpu = on;
        s.run = None;
        Ok(())
    }

    /// Loads weights (`kind` is "toy" or "mnist"); a clear error if they are not usable.
    /// Returns a short description of the model.
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

    /// The spec of loaded weights as `[seq_len, width, num_values]`.
    pub fn shape(&self, kind: &str) -> Result<Vec<u32>, JsError> {
        let kind = kind_of(kind)?;
        let s = self.state.borrow();
        let l = s.loaded.iter().find(|l| l.kind == kind).ok_or_else(|| JsError::new("weights not loaded"))?;
        let spec = weights::read_spec(&l.bytes).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(vec![spec.seq_len as u32, spec.width as u32, spec.num_values as u32])
    }

    /// Test digits shipped with the page (an IDX image file); returns how many.
    pub fn load_test_digits(&self, bytes: &[u8]) -> Result<usize, JsError> {
        let images = Images::from_idx(bytes).map_err(|e| JsError::new(&format!("test digits: {e}")))?;
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

    /// Generates `count` toy sequences; resolves to an Int32Array, row-major.
    pub fn toy_sample(&self, count: usize, seed: u32, temperature: f64) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let (model, device) = {
                let mut s = state.borrow_mut();
                (s.model(ModelKind::Toy).map_err(js_err)?, s.device())
            };
            let options = GenerateOptions { seed: seed as u64, temperature, ..GenerateOptions::new(count) };
            let values = autoregress::generate(&model, &options, &device).map_err(js_err)?;
            Ok(Int32Array::from(&read_ints(values).await?[..]).into())
        })
    }

    /// Starts generating `count` digits; `known` (count x 784, -1 where unknown) in-paints.
    pub fn start_digits(&self, count: usize, seed: u32, temperature: f64, known: Option<Vec<i32>>) -> Result<(), JsError> {
        let mut s = self.state.borrow_mut();
        s.run = None;
        let model = s.model(ModelKind::Mnist).map_err(|e| JsError::new(&e))?;
        let options = GenerateOptions { seed: seed as u64, temperature, known, ..GenerateOptions::new(count) };
        let generation = Generation::new(&model, &options, &s.device()).map_err(|e| JsError::new(&e.to_string()))?;
        s.run = Some(Run { generation, model });
        Ok(())
    }

    /// Drops the generation in progress.
    pub fn stop(&self) {
        self.state.borrow_mut().run = None;
    }

    /// Runs up to `steps` steps of the digits in progress and reads the pixels back once.
    /// Resolves to `{done, step, total, pixels, position, log_probs}`: the pixels so far, and
    /// the predicted log-distribution of the next pixel of sample `watch`.
    pub fn advance(&self, steps: usize, watch: usize) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let (values, watched, done, step, total, position) = {
                let mut s = state.borrow_mut();
                let run = s.run.as_mut().ok_or_else(|| js_err("no generation in progress"))?;
                run.generation.run(&run.model, steps);
                let g = &run.generation;
                let values = g.values();
                let [n, len] = values.dims();
                let watch = watch.min(n - 1);
                let watched = g.position().map(|p| {
                    let logits = run.model.logits(
                        values.clone().slice([watch..watch + 1, 0..len]),
                        g.visited().slice([watch..watch + 1, 0..len]),
                    );
                    (p, log_softmax(logits, 1))
                });
                (values, watched, g.is_done(), g.steps_done(), g.steps_total(), g.position())
            };
            let pixels: Vec<u8> = read_ints(values).await?.iter().map(|&v| v.clamp(0, 255) as u8).collect();
            let out = Object::new();
            set(&out, "done", done);
            set(&out, "step", step as u32);
            set(&out, "total", total as u32);
            set(&out, "pixels", Uint8Array::from(&pixels[..]));
            set(&out, "position", position.map_or(JsValue::NULL, |p| JsValue::from(p as u32)));
            match watched {
                Some((_, log_probs)) => set(&out, "log_probs", Float32Array::from(&read_floats(log_probs).await?[..])),
                None => set(&out, "log_probs", JsValue::NULL),
            }
            if done {
                state.borrow_mut().run = None;
            }
            Ok(out.into())
        })
    }

    /// The MNIST model's logits for one fixed input (the first half of a synthetic image known),
    /// on WebGPU (`gpu`) or the CPU, twice: `[1, 512]`, the plain pass then the row-skipping one.
    /// All four must agree, since both backends run the same model.
    pub fn probe_logits(&self, gpu: bool) -> js_sys::Promise {
        let state = self.state.clone();
        future_to_promise(async move {
            let (model, device) = {
                let mut s = state.borrow_mut();
                let before = s.use_gpu;
                if gpu && s.backends.gpu.is_none() {
                    return Err(js_err("no WebGPU device"));
                }
                s.use_gpu = gpu;
                let picked = s.model(ModelKind::Mnist).map(|m| (m, s.device()));
                s.use_gpu = before;
                picked.map_err(js_err)?
            };
            let len = model.spec.seq_len;
            let values: Vec<i64> = (0..len).map(|i| ((i * 37) % 256) as i64).collect();
            let mask = autoregress::event::prefix_mask(len / 2, len);
            let values = Tensor::<2, Int>::from_data(TensorData::new(values, [1, len]), &device);
            let mask = Tensor::<2>::from_data(TensorData::new(mask, [1, len]), &device);
            // Both ways of computing them: the plain pass, and the one generation uses, which
            // skips the rows nothing is known of.
            let plain = model.logits(values.clone(), mask.clone());
            let skipping = model.logits_before(&model.shortcut(), values, mask, len / 2);
            let logits = read_floats(Tensor::cat(vec![plain, skipping], 1)).await?;
            Ok(Float32Array::from(&logits[..]).into())
        })
    }
}

//! What the `Demo` object keeps between calls: the loaded weights with a model per device, built
//! on first use, and one generation per panel.

use crate::backend::Backends;
use autoregress::burn::tensor::Device;
use autoregress::data::idx::Images;
use autoregress::{ArModel, Generation, ModelKind, VisitingOrder, weights};
use std::collections::HashMap;
use wasm_bindgen::prelude::*;

pub(crate) struct Loaded {
    pub kind: ModelKind,
    pub bytes: Vec<u8>,
    pub on_cpu: Option<ArModel>,
    pub on_gpu: Option<ArModel>,
}

pub(crate) struct Run {
    pub generation: Generation,
    pub model: ArModel,
    /// Bumped by every `advance`: a read-back that finishes after a newer advance (or a newer
    /// run) started is stale.
    pub id: u32,
}

pub(crate) struct State {
    pub backends: Backends,
    pub use_gpu: bool,
    pub loaded: Vec<Loaded>,
    pub test_digits: Option<Images>,
    pub runs: HashMap<String, Run>,
    pub next_run: u32,
    /// The model being trained in the tab, if any.
    pub training: Option<crate::training::LiveTraining>,
}

/// A model by its name (the names the library, the trainer and the weights files use).
pub(crate) fn kind_of(name: &str) -> Result<ModelKind, JsError> {
    name.parse::<ModelKind>().map_err(|e| JsError::new(&e.to_string()))
}

/// A visiting order by its name (the library's names: raster, random, halton, adaptive).
pub(crate) fn order_of(name: &str) -> Result<VisitingOrder, JsError> {
    VisitingOrder::from_name(name)
        .ok_or_else(|| JsError::new(&format!("unknown visiting order {name:?}: use one of {}", VisitingOrder::NAMED.join(", "))))
}

impl State {
    pub fn new(backends: Backends, use_gpu: bool) -> Self {
        State { backends, use_gpu, loaded: Vec::new(), test_digits: None, runs: HashMap::new(), next_run: 0, training: None }
    }

    /// Whether the models run on WebGPU now: asked for, and a device started.
    pub fn on_gpu(&self) -> bool {
        self.use_gpu && self.backends.gpu.is_some()
    }

    pub fn device(&self) -> Device {
        match (&self.backends.gpu, self.use_gpu) {
            (Some((device, _)), true) => device.clone(),
            _ => self.backends.cpu.clone(),
        }
    }

    /// The model of `kind` on the active device (loaded there on first use).
    pub fn model(&mut self, kind: ModelKind) -> Result<ArModel, String> {
        let device = self.device();
        let gpu = self.on_gpu();
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

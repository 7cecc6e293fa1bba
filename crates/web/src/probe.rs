//! A test probe, not used by the page itself: the browser tests compare the logits of the CPU and
//! WebGPU backends through it.

use crate::demo::Demo;
use crate::readback::{js_err, read_floats};
use crate::state::kind_of;
use autoregress::burn::tensor::{Int, Tensor, TensorData};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen]
impl Demo {
    /// The logits of model `kind` for one fixed input (the first half of a synthetic sequence
    /// known), on WebGPU (`gpu`) or the CPU, twice: `[1, C]` then `[1, C]`, the plain pass then the
    /// one generation uses (for the lecture's MNIST model, the row-skipping one; for an
    /// any-order model, every position's logits, read at the first unknown one). Both backends
    /// run the same model, so all four must agree.
    pub fn probe_logits(&self, kind: &str, gpu: bool) -> js_sys::Promise {
        let state = self.state.clone();
        let kind = kind_of(kind);
        future_to_promise(async move {
            let kind = kind.map_err(JsValue::from)?;
            let (model, device) = {
                let mut s = state.borrow_mut();
                let before = s.use_gpu;
                if gpu && s.backends.gpu.is_none() {
                    return Err(js_err("no WebGPU device"));
                }
                s.use_gpu = gpu;
                let picked = s.model(kind).map(|m| (m, s.device()));
                s.use_gpu = before;
                picked.map_err(js_err)?
            };
            let len = model.spec.seq_len;
            let c = model.spec.num_values;
            let values: Vec<i64> = (0..len).map(|i| ((i * 37) % c) as i64).collect();
            let mask = autoregress::event::prefix_mask(len / 2, len);
            let values = Tensor::<2, Int>::from_data(TensorData::new(values, [1, len]), &device);
            let mask = Tensor::<2>::from_data(TensorData::new(mask, [1, len]), &device);
            let plain = model.logits(values.clone(), mask.clone());
            let other = if kind.is_any_order() {
                model.all_logits(values, mask).slice([0..1, 0..c, len / 2..len / 2 + 1]).reshape([1, c])
            } else {
                model.logits_row_skipped(&model.row_skip(), values, mask, len / 2)
            };
            Ok(js_sys::Float32Array::from(&read_floats(Tensor::cat(vec![plain, other], 1)).await?[..]).into())
        })
    }
}

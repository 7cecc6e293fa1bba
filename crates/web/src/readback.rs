//! Tensors read back into JS-ready vectors. Always asynchronous: WebGPU maps its buffers only
//! asynchronously in the browser.

use autoregress::burn::tensor::{Int, Tensor};
use wasm_bindgen::prelude::*;

/// An error as the JS side receives it (a rejected promise's reason).
pub(crate) fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsError::new(&e.to_string()).into()
}

pub(crate) async fn read_ints<const D: usize>(t: Tensor<D, Int>) -> Result<Vec<i32>, JsValue> {
    let data = t.into_data_async().await.map_err(|e| js_err(format!("reading results failed: {e:?}")))?;
    data.convert::<i32>().try_to_vec::<i32>().map_err(|e| js_err(format!("{e:?}")))
}

pub(crate) async fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, JsValue> {
    let data = t.into_data_async().await.map_err(|e| js_err(format!("reading results failed: {e:?}")))?;
    data.convert::<f32>().try_to_vec::<f32>().map_err(|e| js_err(format!("{e:?}")))
}

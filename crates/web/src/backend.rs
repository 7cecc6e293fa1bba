//! Compute devices in the browser: WebGPU when the browser has an adapter (set up
//! asynchronously, as the browser requires), and the CPU always. Runs in a window or a worker.

use autoregress::burn::tensor::Device;
use wasm_bindgen::JsValue;

pub struct Backends {
    pub cpu: Device,
    /// The WebGPU device and the adapter's name.
    pub gpu: Option<(Device, String)>,
    /// Why there is no WebGPU device, to show on the page.
    pub gpu_note: Option<String>,
}

/// `navigator.gpu` of the global scope (a window's or a worker's navigator).
fn browser_has_webgpu() -> bool {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &JsValue::from_str("navigator"))
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &JsValue::from_str("gpu")))
        .is_ok_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

pub async fn init(try_gpu: bool) -> Backends {
    let cpu = Device::flex();
    if !try_gpu {
        return Backends { cpu, gpu: None, gpu_note: Some("WebGPU not tried (CPU asked for)".into()) };
    }
    if !browser_has_webgpu() {
        return Backends { cpu, gpu: None, gpu_note: Some("this browser offers no WebGPU: running on the CPU".into()) };
    }
    match Device::wgpu_options().init_with_setup_async().await {
        Ok((device, setup)) => {
            let info = setup.adapter.get_info();
            let name = if info.name.is_empty() { "WebGPU adapter".to_string() } else { info.name.clone() };
            Backends { cpu, gpu: Some((device, format!("WebGPU: {name}"))), gpu_note: None }
        }
        Err(e) => Backends { cpu, gpu: None, gpu_note: Some(format!("WebGPU failed to start ({e}): running on the CPU")) },
    }
}

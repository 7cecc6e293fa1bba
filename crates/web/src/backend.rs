//! Compute devices in the browser: WebGPU when the browser has an adapter (set up
//! asynchronously, as the browser requires), and the CPU always.

use autoregress::burn::tensor::Device;
use wasm_bindgen::JsValue;

pub struct Backends {
    pub cpu: Device,
    /// The WebGPU device and the adapter's name.
    pub gpu: Option<(Device, String)>,
    /// Why there is no WebGPU device, to show on the page.
    pub gpu_note: Option<String>,
}

fn browser_has_webgpu() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("gpu")).ok())
        .is_some_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
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

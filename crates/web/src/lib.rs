//! The browser demo. The page (index.html, web/app.js) handles buttons and the pen; this crate
//! runs the models with the same `autoregress` code as the trainer, on WebGPU when the browser
//! offers an adapter and on the CPU (Burn's flex backend) otherwise, and draws on canvases.
//!
//! | module | what |
//! | --- | --- |
//! | [`backend`] | WebGPU set-up with a CPU fallback |
//! | [`demo`] | the `Demo` object the page drives: weights, sampling, in-painting, posterior |
//! | [`draw`] | rasters from `autoregress::render` onto HTML canvases |

pub mod backend;
pub mod demo;
pub mod draw;

use wasm_bindgen::prelude::*;

/// Shows `message` in the page's error box (`#error`), so failures never pass silently.
pub fn show_error(message: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Some(el) = document.get_element_by_id("error") {
        el.set_text_content(Some(message));
        let _ = el.remove_attribute("hidden");
    }
}

#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_error(&format!("The demo stopped on an internal error: {info}. Reload the page to start again."));
    }));
}

//! The browser demo. The page (index.html, web/app.js) handles the controls, the pen and the
//! canvases on the main thread; a Web Worker (web/worker.js) runs this crate, which runs the
//! models with the same `autoregress` code as the trainer, on WebGPU when the browser offers a
//! hardware adapter and on the CPU (Burn's flex backend) otherwise, and renders the figures.
//!
//! | module | what |
//! | --- | --- |
//! | [`backend`] | WebGPU set-up with a CPU fallback |
//! | [`demo`] | the `Demo` object the worker drives: weights, runs per panel (sampling, in-painting), posterior; the editor's erase presets |
//! | `state` | what `Demo` keeps: the weights, a model per device, the run of each panel |
//! | `readback` | tensors read back asynchronously (as WebGPU requires) into vectors for JS |
//! | `training` | training in the tab: the library's training step on fresh toy sequences, a snapshot scored on `eval`'s held-out set and sampled |
//! | `probe` | `Demo::probe_logits`, the browser tests' CPU-against-WebGPU check |
//! | [`picture`] | the figures of `autoregress::render` as RGBA pictures for the page's canvases |

pub mod backend;
pub mod demo;
pub mod picture;
mod probe;
mod readback;
mod state;
mod training;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    // A panic traps the module (panic = "abort"): the worker reports it and the page starts a
    // fresh worker, so the message only needs to reach the console.
    console_error_panic_hook::set_once();
}

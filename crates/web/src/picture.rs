//! The figures of `autoregress::render` as RGBA pictures: the worker renders them and hands the
//! bytes to the page, which puts them on its canvases (scaled up crisply by CSS).

use autoregress::render::figures::{self, PosteriorPanel};
use autoregress::render::raster::Raster;
use wasm_bindgen::prelude::*;

/// An RGBA picture, row-major, `width * height * 4` bytes.
#[wasm_bindgen(getter_with_clone)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl From<Raster> for Picture {
    fn from(r: Raster) -> Self {
        Picture { width: r.width as u32, height: r.height as u32, rgba: r.rgba() }
    }
}

/// The grid of the toy plots, as the trainer's pictures lay it out. The page draws the plots
/// itself (axes, pins, sharp on any screen), on this grid.
#[wasm_bindgen]
pub struct ToyGrid {
    pub panel_width: u32,
    pub panel_height: u32,
    pub gap: u32,
    pub columns: u32,
}

#[wasm_bindgen]
pub fn toy_grid() -> ToyGrid {
    ToyGrid { panel_width: figures::PANEL_W as u32, panel_height: figures::PANEL_H as u32, gap: figures::GAP as u32, columns: figures::TOY_COLUMNS as u32 }
}

/// Digits (row-major bytes, `cols x rows` each), `columns` a row, `scale` picture pixels a pixel.
#[wasm_bindgen]
pub fn render_digits(pixels: &[u8], cols: usize, rows: usize, columns: usize, scale: usize) -> Picture {
    let n = (cols * rows).max(1);
    let images: Vec<&[u8]> = pixels.chunks(n).collect();
    figures::digit_grid(&images, cols, rows, columns.max(1), scale.max(1)).into()
}

/// The lecture's three panels for one sample: the mask (`known[i]` 1 where the model conditions
/// on pixel `i`), the pixels so far with the next one in red, the predicted distribution of that
/// pixel on a log scale.
#[wasm_bindgen]
pub fn render_posterior(pixels: &[u8], known: &[u8], position: usize, log_probs: &[f32], cols: usize, rows: usize) -> Picture {
    let panel = PosteriorPanel {
        pixels: pixels.to_vec(),
        known: known.iter().map(|&k| k != 0).collect(),
        position,
        log_probs: log_probs.to_vec(),
    };
    figures::posterior(std::slice::from_ref(&panel), cols, rows, 4).into()
}

/// The map of a visiting order: `steps[i]` the step at which pixel `i` was drawn, -1 where it
/// was given (gray) or is not drawn yet.
#[wasm_bindgen]
pub fn render_order_map(steps: &[f32], cols: usize, rows: usize, scale: usize) -> Picture {
    figures::order_map(steps, cols, rows, scale.max(1)).into()
}

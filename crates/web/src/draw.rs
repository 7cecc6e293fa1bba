//! Puts the figures of `autoregress::render` on HTML canvases.

use autoregress::render::figures::{self, PosteriorPanel};
use autoregress::render::raster::{GRAY, LIGHT, Raster};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

fn put(canvas: &HtmlCanvasElement, raster: &Raster) -> Result<(), JsError> {
    canvas.set_width(raster.width as u32);
    canvas.set_height(raster.height as u32);
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(|_| JsError::new("no 2D context on the canvas"))?
        .ok_or_else(|| JsError::new("no 2D context on the canvas"))?
        .dyn_into()
        .map_err(|_| JsError::new("no 2D context on the canvas"))?;
    let rgba = raster.rgba();
    let image = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), raster.width as u32, raster.height as u32)
        .map_err(|_| JsError::new("cannot make image data"))?;
    ctx.put_image_data(&image, 0.0, 0.0).map_err(|_| JsError::new("cannot draw on the canvas"))
}

/// Toy sequences (row-major, `len` each) as small plots, 5 a row.
#[wasm_bindgen]
pub fn draw_sequences(canvas: &HtmlCanvasElement, values: &[i32], len: usize, num_values: usize) -> Result<(), JsError> {
    let seqs: Vec<Vec<u16>> = values.chunks(len.max(1)).map(|s| s.iter().map(|&v| v.max(0) as u16).collect()).collect();
    let rows = seqs.len().div_ceil(5).max(1);
    let g = figures::GAP;
    let mut r = Raster::new(5 * (figures::PANEL_W + g) + g, rows * (figures::PANEL_H + g) + g, LIGHT);
    figures::sequence_grid(&mut r, g as i64, g as i64, &seqs, 5, num_values, autoregress::render::raster::BLUE);
    put(canvas, &r)
}

/// Digits (row-major bytes, `cols x rows` each), `columns` a row, `scale` canvas pixels a pixel.
#[wasm_bindgen]
pub fn draw_digits(canvas: &HtmlCanvasElement, pixels: &[u8], cols: usize, rows: usize, columns: usize, scale: usize) -> Result<(), JsError> {
    let n = cols * rows;
    let images: Vec<&[u8]> = pixels.chunks(n.max(1)).collect();
    put(canvas, &figures::digit_grid(&images, cols, rows, columns.max(1), scale.max(1)))
}

/// The lecture's three panels for one sample: mask, pixels so far with the next one in red,
/// the predicted distribution of that pixel on a log scale.
#[wasm_bindgen]
pub fn draw_posterior(canvas: &HtmlCanvasElement, pixels: &[u8], position: usize, log_probs: &[f32], cols: usize, rows: usize) -> Result<(), JsError> {
    let panel = PosteriorPanel { pixels: pixels.to_vec(), position, log_probs: log_probs.to_vec() };
    put(canvas, &figures::posterior(std::slice::from_ref(&panel), cols, rows, 4))
}

/// The in-painting editor: `known[i]` is 1 where pixel `i` is given. Pixels to generate are
/// tinted red; given pixels after the first one to generate are tinted blue: the raster model
/// reaches them only after it has generated everything before them, so they cannot shape those.
#[wasm_bindgen]
pub fn draw_editor(canvas: &HtmlCanvasElement, pixels: &[u8], known: &[u8], cols: usize, scale: usize) -> Result<(), JsError> {
    let rows = pixels.len() / cols.max(1);
    let mut r = Raster::new(cols * scale, rows * scale, LIGHT);
    // Pixels to generate show blank: their old values play no part in the completion.
    let shown: Vec<u8> = pixels.iter().enumerate().map(|(i, &v)| if known.get(i) == Some(&0) { 0 } else { v }).collect();
    r.gray(0, 0, &shown, cols, scale);
    let first_unknown = known.iter().position(|&k| k == 0).unwrap_or(known.len());
    let s = scale as i64;
    for i in 0..pixels.len() {
        let (x, y) = ((i % cols) as i64 * s, (i / cols) as i64 * s);
        let tint = if known.get(i) == Some(&0) {
            Some([255, 120, 120])
        } else if i > first_unknown {
            Some([120, 160, 255])
        } else {
            None
        };
        if let Some(t) = tint {
            for yy in y..y + s {
                for xx in x..x + s {
                    let c = r.get(xx as usize, yy as usize);
                    let mix = |a: u8, b: u8| ((a as u16 * 3 + b as u16) / 4) as u8;
                    r.set(xx, yy, [mix(c[0], t[0]), mix(c[1], t[1]), mix(c[2], t[2])]);
                }
            }
        }
    }
    // A faint grid helps see the pixels while drawing.
    for k in 0..=cols as i64 {
        r.fill(k * s, 0, 1, (rows * scale) as i64, [200, 200, 200]);
    }
    for k in 0..=rows as i64 {
        r.fill(0, k * s, (cols * scale) as i64, 1, [200, 200, 200]);
    }
    r.frame(0, 0, (cols * scale) as i64, (rows * scale) as i64, GRAY);
    put(canvas, &r)
}

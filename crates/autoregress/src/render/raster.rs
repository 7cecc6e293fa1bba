//! A small RGB raster: the figures are drawn once here, saved as PNG by the trainer and put on
//! a canvas by the page.

/// A color: red, green, blue, 0..=255 each.
pub type Rgb = [u8; 3];
/// Panels' background.
pub const WHITE: Rgb = [255, 255, 255];
/// Training sequences.
pub const BLACK: Rgb = [0, 0, 0];
/// The next pixel, in the posterior picture.
pub const RED: Rgb = [220, 30, 30];
/// Generated sequences and predicted distributions.
pub const BLUE: Rgb = [40, 80, 200];
/// Frames, separators, erased pixels, known pixels of an order map.
pub const GRAY: Rgb = [150, 150, 150];
/// The figures' background and guide lines.
pub const LIGHT: Rgb = [225, 225, 225];

/// An RGB image, row-major, `(0, 0)` at the top left.
pub struct Raster {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    pixels: Vec<Rgb>,
}

impl Raster {
    /// A `width x height` raster filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        Raster { width, height, pixels: vec![background; width * height] }
    }

    /// `rasters` side by side on a light background, `gap` pixels apart and around.
    pub fn row(rasters: &[Raster], gap: usize) -> Raster {
        let width = rasters.iter().map(|r| r.width + gap).sum::<usize>() + gap;
        let height = rasters.iter().map(|r| r.height).max().unwrap_or(0) + 2 * gap;
        let mut out = Raster::new(width, height, LIGHT);
        let mut x0 = gap;
        for r in rasters {
            for y in 0..r.height {
                for x in 0..r.width {
                    out.set((x0 + x) as i64, (gap + y) as i64, r.get(x, y));
                }
            }
            x0 += r.width + gap;
        }
        out
    }

    /// Sets pixel `(x, y)`; outside the raster, does nothing (drawing clips).
    pub fn set(&mut self, x: i64, y: i64, color: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = color;
        }
    }

    /// Pixel `(x, y)`.
    ///
    /// # Panics
    /// When `(x, y)` is outside the raster (`y >= height`, or `x >= width` on the last row;
    /// elsewhere an `x >= width` reads the next row).
    pub fn get(&self, x: usize, y: usize) -> Rgb {
        self.pixels[y * self.width + x]
    }

    /// Fills the `w x h` rectangle whose top-left corner is `(x, y)`, clipped.
    pub fn fill(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, color);
            }
        }
    }

    /// Draws the one-pixel border of the `w x h` rectangle at `(x, y)` (inside it), clipped.
    pub fn frame(&mut self, x: i64, y: i64, w: i64, h: i64, color: Rgb) {
        self.fill(x, y, w, 1, color);
        self.fill(x, y + h - 1, w, 1, color);
        self.fill(x, y, 1, h, color);
        self.fill(x + w - 1, y, 1, h, color);
    }

    /// Draws a one-pixel line from `(x0, y0)` to `(x1, y1)`, both ends included, clipped.
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), color: Rgb) {
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for s in 0..=steps {
            let x = x0 + (x1 - x0) * s / steps;
            let y = y0 + (y1 - y0) * s / steps;
            self.set(x, y, color);
        }
    }

    /// A gray image (row-major bytes) scaled `scale` times, drawn as in the lecture: 0 is white
    /// and 255 black. Its top-left corner goes at `(x, y)`; `cols` is its width in pixels.
    ///
    /// # Panics
    /// When `cols` is 0 and `pixels` is not empty.
    pub fn gray(&mut self, x: i64, y: i64, pixels: &[u8], cols: usize, scale: usize) {
        for (i, &v) in pixels.iter().enumerate() {
            let (r, c) = ((i / cols) as i64, (i % cols) as i64);
            let ink = 255 - v;
            let s = scale as i64;
            self.fill(x + c * s, y + r * s, s, s, [ink, ink, ink]);
        }
    }

    /// RGBA bytes, row-major, as a browser canvas's ImageData wants them.
    pub fn rgba(&self) -> Vec<u8> {
        self.pixels.iter().flat_map(|&[r, g, b]| [r, g, b, 255]).collect()
    }

    /// RGB bytes, row-major.
    pub fn rgb(&self) -> Vec<u8> {
        self.pixels.iter().flatten().copied().collect()
    }
}

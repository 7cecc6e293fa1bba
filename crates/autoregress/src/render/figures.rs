//! The lecture's figures: toy sequences as small plots, grids of digits, in-painting, and the
//! posterior picture (mask / pixels so far / predicted distribution of the next pixel).

use super::raster::{BLACK, BLUE, GRAY, LIGHT, RED, Raster, WHITE};

/// Width of one toy sequence's plot, in pixels.
pub const PANEL_W: usize = 120;
/// Height of one toy sequence's plot, in pixels.
pub const PANEL_H: usize = 80;
/// Space between panels and around figures, in pixels.
pub const GAP: usize = 6;
/// Toy plots a row, in the trainer's pictures and on the page.
pub const TOY_COLUMNS: usize = 5;

/// One toy sequence as a [`PANEL_W`] x [`PANEL_H`] plot at `(x0, y0)`: positions left to
/// right, values `0..num_values` bottom to top, one dot per value in `color`, a light line at
/// the starting value `T`.
///
/// # Panics
/// When `num_values` is 1 (a value range of zero height).
pub fn plot_sequence(r: &mut Raster, x0: i64, y0: i64, seq: &[u16], num_values: usize, color: [u8; 3]) {
    r.fill(x0, y0, PANEL_W as i64, PANEL_H as i64, WHITE);
    r.frame(x0, y0, PANEL_W as i64, PANEL_H as i64, GRAY);
    let n = seq.len().max(2);
    let point = |k: usize, v: u16| {
        let x = x0 + 4 + (k as i64 * (PANEL_W as i64 - 9)) / (n as i64 - 1);
        let y = y0 + PANEL_H as i64 - 5 - (v as i64 * (PANEL_H as i64 - 9)) / (num_values as i64 - 1);
        (x, y)
    };
    // The starting value T as a faint guide line.
    let (_, mid) = point(0, (num_values / 2) as u16);
    r.fill(x0 + 1, mid, PANEL_W as i64 - 2, 1, LIGHT);
    for (k, &v) in seq.iter().enumerate() {
        let (x, y) = point(k, v);
        r.fill(x - 1, y - 1, 3, 3, color);
    }
}

/// A grid of toy sequences from `(x0, y0)`, `columns` panels a row, [`GAP`] apart.
///
/// # Panics
/// When `columns` is 0 and `seqs` is not empty; as [`plot_sequence`].
pub fn sequence_grid(r: &mut Raster, x0: i64, y0: i64, seqs: &[Vec<u16>], columns: usize, num_values: usize, color: [u8; 3]) {
    for (i, seq) in seqs.iter().enumerate() {
        let x = x0 + ((i % columns) * (PANEL_W + GAP)) as i64;
        let y = y0 + ((i / columns) * (PANEL_H + GAP)) as i64;
        plot_sequence(r, x, y, seq, num_values, color);
    }
}

fn grid_size(count: usize, columns: usize, w: usize, h: usize) -> (usize, usize) {
    let rows = count.div_ceil(columns);
    (columns * (w + GAP) - GAP, rows * (h + GAP) - GAP)
}

/// Training sequences (black, left) next to generated ones (blue, right), [`TOY_COLUMNS`] a row:
/// the lecture's toy figure. Values in `0..num_values`.
///
/// # Panics
/// As [`plot_sequence`].
pub fn toy_train_vs_generated(train: &[Vec<u16>], generated: &[Vec<u16>], num_values: usize) -> Raster {
    let (lw, lh) = grid_size(train.len().max(1), TOY_COLUMNS, PANEL_W, PANEL_H);
    let (rw, rh) = grid_size(generated.len().max(1), TOY_COLUMNS, PANEL_W, PANEL_H);
    let mut r = Raster::new(lw + rw + 4 * GAP + 2, lh.max(rh) + 2 * GAP, LIGHT);
    sequence_grid(&mut r, GAP as i64, GAP as i64, train, TOY_COLUMNS, num_values, BLACK);
    let split = (lw + 2 * GAP) as i64;
    r.fill(split, 0, 2, r.height as i64, GRAY);
    sequence_grid(&mut r, split + 2 + GAP as i64, GAP as i64, generated, TOY_COLUMNS, num_values, BLUE);
    r
}

/// Digits in a grid, `columns` a row, each `scale` times larger: `images` of `rows x cols`
/// gray levels each, drawn as [`Raster::gray`] does (0 white, 255 black).
///
/// # Panics
/// When `columns` is 0, or `cols` is 0 with non-empty images.
pub fn digit_grid(images: &[&[u8]], cols: usize, rows: usize, columns: usize, scale: usize) -> Raster {
    let (w, h) = (cols * scale, rows * scale);
    let (gw, gh) = grid_size(images.len().max(1), columns, w, h);
    let mut r = Raster::new(gw + 2 * GAP, gh + 2 * GAP, LIGHT);
    for (i, img) in images.iter().enumerate() {
        let x = GAP + (i % columns) * (w + GAP);
        let y = GAP + (i / columns) * (h + GAP);
        r.gray(x as i64, y as i64, img, cols, scale);
    }
    r
}

/// In-painting: per digit, the original, what was kept (`erased[i]` pixels as gray patches) and
/// the completions `completions[i]` (as many for every digit as for the first), all `rows x cols`
/// gray levels, `scale` times larger; four digits a row (two when there are more than two
/// completions).
///
/// # Panics
/// When `erased` or `completions` has fewer entries than `originals`, or an `erased[i]` fewer
/// than `rows * cols` flags.
pub fn inpainting(originals: &[&[u8]], erased: &[Vec<bool>], completions: &[Vec<&[u8]>], cols: usize, rows: usize, scale: usize) -> Raster {
    let (w, h) = (cols * scale, rows * scale);
    let per = 2 + completions.first().map_or(0, |c| c.len());
    let group_w = per * (w + 2) + 3 * GAP;
    let groups_per_row = if per > 4 { 2 } else { 4 };
    let n = originals.len();
    let mut r = Raster::new(
        groups_per_row * group_w + GAP,
        n.div_ceil(groups_per_row) * (h + GAP) + GAP,
        LIGHT,
    );
    for (i, orig) in originals.iter().enumerate() {
        let x0 = (GAP + (i % groups_per_row) * group_w) as i64;
        let y0 = (GAP + (i / groups_per_row) * (h + GAP)) as i64;
        r.gray(x0, y0, orig, cols, scale);
        let x1 = x0 + (w + 2) as i64;
        r.gray(x1, y0, orig, cols, scale);
        for p in (0..rows * cols).filter(|&p| erased[i][p]) {
            let (px, py) = ((p % cols * scale) as i64, (p / cols * scale) as i64);
            r.fill(x1 + px, y0 + py, scale as i64, scale as i64, GRAY);
        }
        for (j, c) in completions[i].iter().enumerate() {
            let x = x1 + ((j + 1) * (w + 2)) as i64 + 2;
            r.gray(x, y0, c, cols, scale);
        }
    }
    r
}

/// The map of a visiting order: each pixel colored by the step at which it was generated (dark
/// blue first, through red, to yellow last); known pixels gray. `steps` is `rows * cols`, -1
/// where known, as [`Generation::visit_steps`](crate::generate::Generation::visit_steps) reads
/// back.
///
/// # Panics
/// When `cols` is 0 and `steps` is not empty.
pub fn order_map(steps: &[f32], cols: usize, rows: usize, scale: usize) -> Raster {
    let last = steps.iter().copied().fold(0.0f32, f32::max).max(1.0);
    let mut r = Raster::new(cols * scale, rows * scale, GRAY);
    for (p, &s) in steps.iter().enumerate() {
        if s < 0.0 {
            continue;
        }
        let t = s / last;
        let color = [(255.0 * t.min(0.5) * 2.0) as u8, (255.0 * (t - 0.5).max(0.0) * 2.0) as u8, (160.0 * (1.0 - t)) as u8];
        let (x, y) = ((p % cols * scale) as i64, (p / cols * scale) as i64);
        r.fill(x, y, scale as i64, scale as i64, color);
    }
    r
}

/// One group of the posterior picture ([`posterior`]), from a
/// [`NextDistribution`](crate::NextDistribution) read back.
pub struct PosteriorPanel {
    /// The pixels so far, `rows * cols` gray levels (0 where not generated yet).
    pub pixels: Vec<u8>,
    /// Where the model conditions on a value (given or generated already); in raster order, the
    /// pixels before `position`.
    pub known: Vec<bool>,
    /// The position about to be generated.
    pub position: usize,
    /// Log-probabilities (natural log) of the 256 gray levels there.
    pub log_probs: Vec<f32>,
}

/// Groups of three, as in the lecture: the mask (black = known), the pixels so far with the next
/// pixel in red, and the predicted distribution of that pixel over 0..255, on a log scale
/// (`log10 p` from -8 at the bottom to 0 at the top, one column per gray level). Two groups a
/// row; `rows x cols` images, `scale` times larger.
///
/// # Panics
/// When a panel's `pixels` is shorter than `rows * cols` at a known position, or `cols`
/// is 0 with panels to draw.
pub fn posterior(panels: &[PosteriorPanel], cols: usize, rows: usize, scale: usize) -> Raster {
    let (w, h) = (cols * scale, rows * scale);
    let plot_w = 256usize;
    let group_w = 2 * (w + GAP) + plot_w + 3 * GAP;
    let columns = panels.len().clamp(1, 2);
    let mut r = Raster::new(columns * group_w + GAP, panels.len().div_ceil(2) * (h + 2 * GAP) + GAP, LIGHT);
    for (i, p) in panels.iter().enumerate() {
        let x0 = (GAP + (i % 2) * group_w) as i64;
        let y0 = (GAP + (i / 2) * (h + 2 * GAP)) as i64;
        let known = |k: usize| p.known.get(k).copied().unwrap_or(false);
        let mask: Vec<u8> = (0..cols * rows).map(|k| if known(k) { 255 } else { 0 }).collect();
        r.gray(x0, y0, &mask, cols, scale);
        r.frame(x0, y0, w as i64, h as i64, GRAY);
        let x1 = x0 + (w + GAP) as i64;
        let so_far: Vec<u8> = (0..cols * rows).map(|k| if known(k) { p.pixels[k] } else { 0 }).collect();
        r.gray(x1, y0, &so_far, cols, scale);
        r.frame(x1, y0, w as i64, h as i64, GRAY);
        let (py, px) = ((p.position / cols) as i64, (p.position % cols) as i64);
        let s = scale as i64;
        r.fill(x1 + px * s - 1, y0 + py * s - 1, s + 2, s + 2, RED);
        // The distribution: log10 p from -8 (bottom) to 0 (top), one column per gray level.
        let x2 = x1 + (w + GAP) as i64;
        r.fill(x2, y0, plot_w as i64, h as i64, WHITE);
        r.frame(x2 - 1, y0 - 1, plot_w as i64 + 2, h as i64 + 2, GRAY);
        for decade in 1..8 {
            r.fill(x2, y0 + (h as i64 * decade) / 8, plot_w as i64, 1, LIGHT);
        }
        for (v, &lp) in p.log_probs.iter().enumerate() {
            let log10 = (lp as f64 / std::f64::consts::LN_10).clamp(-8.0, 0.0);
            let top = y0 + ((-log10 / 8.0) * h as f64) as i64;
            r.line((x2 + v as i64, y0 + h as i64 - 1), (x2 + v as i64, top), BLUE);
        }
    }
    r
}

//! What generation with trained weights writes: sequences as text and pictures, digits as PNG
//! and IDX, in-painting grids, the posterior picture, and the lecture's MNIST pictures (for
//! `pictures` and after `train`).

use autoregress::render::figures::{self, PosteriorPanel};
use crate::data::Mnist;
use crate::{files, progress};
use anyhow::Result;
use autoregress::burn::tensor::Device;
use autoregress::data::idx::Images;
use autoregress::host::{floats, ints};
use autoregress::region::Region;
use autoregress::rng::Rng;
use autoregress::{ArModel, GenerateOptions, Generation, VisitingOrder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Runs a generation to its end with a progress bar (none when `quiet`).
pub fn run(model: &ArModel, options: &GenerateOptions, device: &Device, quiet: bool) -> Result<Generation> {
    let mut generation = Generation::new(model, options, device)?;
    let bar = progress::bar(generation.steps_total() as u64, "generating", quiet);
    // Read back only once: steps queue on the device.
    let chunk = model.spec.width.max(1);
    while generation.run(model, chunk) > 0 {
        bar.set_position(generation.steps_done() as u64);
    }
    bar.finish_and_clear();
    Ok(generation)
}

/// Sequences generated at once, at most: a request for more runs in blocks of this many, so
/// memory stays bounded however many are asked for.
pub const BLOCK: usize = 64;

/// The seed of block `j` of a generation seeded with `seed`: the first block keeps the seed
/// itself, so a request of at most [`BLOCK`] sequences is one plain generation.
pub fn block_seed(seed: u64, j: usize) -> u64 {
    if j == 0 { seed } else { Rng::new(seed ^ 0xB10C_5EED_0000_0000).nth(j as u64) }
}

/// Bytes a generated value takes in `sample` and `inpaint`: the known values (i32), the values
/// read back and their copy (i64 each), the bytes written.
pub const BYTES_PER_VALUE: usize = 24;

/// Refuses, before any work, a request of `sequences` that take `bytes_each` each at once, when
/// they would not fit in half of this machine's available memory (unknown: allowed).
pub fn check_fits(sequences: usize, bytes_each: usize, what: &str) -> Result<()> {
    let needed = sequences.checked_mul(bytes_each);
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines().find_map(|l| l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?.trim().parse::<usize>().ok())
    });
    let available = available.map(|kb| kb.saturating_mul(1024));
    match (needed, available) {
        (Some(n), Some(a)) if n <= a / 2 => Ok(()),
        (Some(_), None) => Ok(()),
        (n, a) => anyhow::bail!(
            "{what}: {sequences} sequences need about {} of memory at once, more than half of the {} this machine \
             has available: ask for fewer, and run again with another --seed for more",
            n.map_or("more than any machine has".to_string(), |n| format!("{:.1} GB", n as f64 / 1e9)),
            a.map_or("memory".to_string(), |a| format!("{:.1} GB", a as f64 / 1e9))
        ),
    }
}

/// Runs a generation of `options.count` sequences in blocks of at most [`BLOCK`] (block `j`
/// seeded with [`block_seed`], its share of `options.known`), with one progress bar; returns the
/// values, `count x L` row-major.
pub fn generate_blocks(model: &ArModel, options: &GenerateOptions, device: &Device, quiet: bool) -> Result<Vec<i64>> {
    let len = model.spec.seq_len;
    let blocks = options.count.div_ceil(BLOCK);
    let bar = progress::bar(options.count as u64, "generating", quiet || blocks == 1);
    let mut values = Vec::with_capacity(options.count * len);
    for j in 0..blocks {
        let (start, end) = (j * BLOCK, ((j + 1) * BLOCK).min(options.count));
        // Each field named: cloning `options` would copy every block's known values each time.
        let block = GenerateOptions {
            count: end - start,
            seed: block_seed(options.seed, j),
            known: options.known.as_ref().map(|k| k[start * len..end * len].to_vec()),
            order: options.order.clone(),
            per_step: options.per_step,
            schedule: options.schedule,
            temperature: options.temperature,
            guidance: options.guidance,
        };
        values.extend(ints(run(model, &block, device, quiet || blocks > 1)?.values()));
        bar.set_position(end as u64);
    }
    bar.finish_and_clear();
    Ok(values)
}

/// The pictures show at most this many sequences or images (the IDX and text files hold all).
pub const PICTURE_LIMIT: usize = 200;

/// Toy sequences: `<out>.txt` (one a line) and `<out>.png` (training ones next to them).
pub fn toy_files(model: &ArModel, generated: &[i64], train: &[u16], out: &Path) -> Result<()> {
    let len = model.spec.seq_len;
    let text: String = generated
        .chunks(len)
        .map(|s| s.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" ") + "\n")
        .collect();
    files::write(&files::with_suffix(out, ".txt"), text.as_bytes())?;
    let generated: Vec<Vec<u16>> = generated.chunks(len).take(PICTURE_LIMIT).map(|s| s.iter().map(|&v| v as u16).collect()).collect();
    let train: Vec<Vec<u16>> = train.chunks(len).take(generated.len()).map(<[u16]>::to_vec).collect();
    let picture = figures::toy_train_vs_generated(&train, &generated, model.spec.num_values);
    files::write(&files::with_suffix(out, ".png"), &files::png(&picture))
}

pub fn as_images(model: &ArModel, values: &[i64]) -> Images {
    let len = model.spec.seq_len;
    Images {
        count: values.len() / len,
        rows: model.spec.height(),
        cols: model.spec.width,
        pixels: values.iter().map(|&v| v.clamp(0, 255) as u8).collect(),
    }
}

/// Digits: `<out>.png` (a grid) and `<out>.idx3-ubyte` (IDX, as the data loader reads).
pub fn digit_files(model: &ArModel, values: &[i64], out: &Path) -> Result<()> {
    let images = as_images(model, values);
    let refs: Vec<&[u8]> = (0..images.count.min(PICTURE_LIMIT)).map(|i| images.image(i)).collect();
    let grid = figures::digit_grid(&refs, images.cols, images.rows, 8, 2);
    files::write(&files::with_suffix(out, ".png"), &files::png(&grid))?;
    files::write(&files::with_suffix(out, ".idx3-ubyte"), &images.to_idx())
}

/// What `inpaint` in-painted, written beside its completions as `PREFIX.json`: `judge` reads it
/// to pair each completion with its original.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InpaintRecord {
    pub model: String,
    pub weights: PathBuf,
    /// The images file (absolute): its first `images` images were in-painted.
    pub input: PathBuf,
    pub images: usize,
    /// Completions per image, image-major in the IDX file.
    pub completions: usize,
    /// `--region`'s name, or `mask:FILE`.
    pub erased: String,
    /// The share of each image's pixels erased (absent in records older than 2026-12-06).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_share: Option<ErasedShare>,
    pub seed: u64,
    /// CRC-32 of the completions' IDX file as written: a record left beside another file is
    /// told apart.
    pub completions_crc32: u32,
}

impl InpaintRecord {
    /// `PREFIX.json` for the IDX file `PREFIX.idx3-ubyte` (or `FILE.json` for any other name).
    pub fn path_for(idx: &Path) -> PathBuf {
        let name = idx.as_os_str().to_string_lossy();
        PathBuf::from(name.strip_suffix(".idx3-ubyte").map_or_else(|| format!("{name}.json"), |p| format!("{p}.json")))
    }
}

/// The share of pixels erased per image, over the images in-painted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErasedShare {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

impl ErasedShare {
    /// Of `erased` (one flag per pixel, per image); `None` for no image.
    pub fn of(erased: &[Vec<bool>]) -> Option<ErasedShare> {
        let shares: Vec<f64> = erased.iter().map(|e| e.iter().filter(|&&x| x).count() as f64 / e.len().max(1) as f64).collect();
        (!shares.is_empty()).then(|| ErasedShare {
            mean: shares.iter().sum::<f64>() / shares.len() as f64,
            min: shares.iter().copied().fold(f64::INFINITY, f64::min),
            max: shares.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        })
    }
}

/// How to in-paint: the visiting order, positions per step, temperature and seed.
#[derive(Clone, Debug)]
pub struct InpaintSettings {
    pub completions: usize,
    pub order: VisitingOrder,
    pub per_step: usize,
    pub schedule: autoregress::Schedule,
    pub temperature: f64,
    /// [`GenerateOptions::guidance`].
    pub guidance: f64,
    pub seed: u64,
}

/// In-painting of `images` where `erased[i]` is true (`rows * cols` flags per image),
/// `settings.completions` completions each; returns the completions, `[image][completion]`.
pub fn inpaint(model: &ArModel, images: &Images, erased: &[Vec<bool>], settings: &InpaintSettings, device: &Device, quiet: bool) -> Result<Vec<Vec<Vec<u8>>>> {
    let len = model.spec.seq_len;
    let per = settings.completions;
    let mut known = Vec::with_capacity(images.count * per * len);
    for (i, erased) in erased.iter().enumerate().take(images.count) {
        for _ in 0..per {
            known.extend(images.image(i).iter().zip(erased).map(|(&v, &e)| if e { -1 } else { v as i32 }));
        }
    }
    let options = GenerateOptions {
        known: Some(known),
        seed: settings.seed,
        order: settings.order.clone(),
        per_step: settings.per_step,
        schedule: settings.schedule,
        temperature: settings.temperature,
        guidance: settings.guidance,
        ..GenerateOptions::new(images.count * per)
    };
    let values = generate_blocks(model, &options, device, quiet)?;
    let out = as_images(model, &values);
    Ok((0..images.count).map(|i| (0..per).map(|a| out.image(i * per + a).to_vec()).collect()).collect())
}

/// The in-painting picture as PNG bytes: per image (the first [`PICTURE_LIMIT`]) the original,
/// what was kept (erased pixels gray) and the completions.
pub fn inpainting_png(images: &Images, erased: &[Vec<bool>], completions: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let shown = images.count.min(PICTURE_LIMIT);
    let originals: Vec<&[u8]> = (0..shown).map(|i| images.image(i)).collect();
    let refs: Vec<Vec<&[u8]>> = completions.iter().take(shown).map(|c| c.iter().map(Vec::as_slice).collect()).collect();
    files::png(&figures::inpainting(&originals, &erased[..shown], &refs, images.cols, images.rows, 2))
}

/// The posterior picture of one generation, at the given positions.
pub fn posterior_panels(model: &ArModel, positions: &[usize], seed: u64, device: &Device) -> Result<Vec<PosteriorPanel>> {
    let options = GenerateOptions { seed, ..GenerateOptions::new(1) };
    let mut generation = Generation::new(model, &options, device)?;
    let mut panels = Vec::new();
    for &position in positions {
        while generation.position().is_some_and(|p| p < position) {
            generation.step(model);
        }
        let next = generation.next_distribution(model, 0).expect("the position is still to draw");
        let log_probs = floats(next.log_probs);
        let pixels = ints(generation.values()).iter().map(|&v| v as u8).collect();
        panels.push(PosteriorPanel { pixels, known: (0..model.spec.seq_len).map(|k| k < position).collect(), position, log_probs });
    }
    Ok(panels)
}

/// 48 digits (any-order: at its defaults, with the map of the visiting order), in-painting of
/// 16 test digits (the bottom half erased; any-order models also the top half, the right half and
/// the centre), the posterior picture.
pub fn mnist_pictures(model: &ArModel, m: &Mnist, device: &Device, seed: u64, dir: &Path) -> Result<()> {
    let any_order = model.spec.kind.is_any_order();
    let (h, w) = (model.spec.height(), model.spec.width);
    let defaults = model.spec.kind.generate_defaults();
    let options = GenerateOptions { seed, order: defaults.order, per_step: defaults.per_step, schedule: defaults.schedule, ..GenerateOptions::new(defaults.count) };
    let generation = run(model, &options, device, true)?;
    digit_files(model, &ints(generation.values()), &dir.join("samples"))?;
    if any_order {
        let steps = floats(generation.visit_steps());
        let maps: Vec<autoregress::render::Raster> = steps.chunks(h * w).take(8).map(|s| figures::order_map(s, w, h, 4)).collect();
        files::write(&dir.join("order-map.png"), &files::png(&autoregress::render::Raster::row(&maps, 6)))?;
    }

    let test = m.test.images.take(16);
    // Both families, the same regions: the pictures compare them side by side.
    for region in [Region::BottomHalf, Region::TopHalf, Region::RightHalf, Region::Centre] {
        let erased: Vec<Vec<bool>> = vec![region.erased(test.rows, test.cols, &mut Rng::new(0)); test.count];
        let d = model.spec.kind.inpaint_defaults();
        let settings = InpaintSettings { completions: 2, order: d.order, per_step: d.per_step, schedule: d.schedule, temperature: 1.0, guidance: d.guidance, seed };
        let completions = inpaint(model, &test, &erased, &settings, device, false)?;
        let name = if region == Region::BottomHalf { "inpainting.png".to_string() } else { format!("inpainting-{}.png", region.name()) };
        files::write(&dir.join(name), &inpainting_png(&test, &erased, &completions))?;
    }

    let len = model.spec.seq_len;
    let positions: Vec<usize> = [0.15, 0.3, 0.45, 0.55, 0.65, 0.8].iter().map(|f| (f * len as f64) as usize).collect();
    let panels = posterior_panels(model, &positions, seed, device)?;
    let picture = figures::posterior(&panels, model.spec.width, model.spec.height(), 3);
    files::write(&dir.join("posterior.png"), &files::png(&picture))
}

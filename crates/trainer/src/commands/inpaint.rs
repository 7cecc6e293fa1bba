//! `trainer inpaint`: regions of test images erased and completed, written as IDX and PNG.

use crate::cli::InpaintArgs;
use crate::{data, files, outputs};
use anyhow::{Result, bail};
use autoregress::rng::Rng;
use super::runs_dir;

pub fn run(a: InpaintArgs) -> Result<()> {
    let (order, per_step, schedule) = a.order.resolve(a.model.inpaint_defaults());
    let guidance = a.guidance.unwrap_or(a.model.inpaint_defaults().guidance);
    let (chosen, path, model) = super::load(a.model, &a.weights)?;
    let input = match &a.input {
        Some(input) => input.clone(),
        None => files::in_checkout("data/mnist/t10k-images-idx3-ubyte.gz", "--input")?,
    };
    let all = data::read_images(&input)?;
    if all.count == 0 {
        bail!("{} (--input) holds no images: nothing to in-paint; give an IDX file of at least one image", input.display());
    }
    if all.count < a.images {
        eprintln!("note: {} holds {} images: in-painting those {}, not the {} asked for (--images)", input.display(), all.count, all.count, a.images);
    }
    let images = all.take(a.images);
    outputs::check_fits(images.count.saturating_mul(a.completions), model.spec.seq_len * outputs::BYTES_PER_VALUE, "--images x --completions")?;
    let (h, w) = (model.spec.height(), model.spec.width);
    data::check_geometry(&images, &input, &model.spec, &path)?;
    let erased: Vec<Vec<bool>> = match &a.mask {
        Some(mask_path) => {
            let masks = data::read_images(mask_path)?;
            if (masks.rows, masks.cols) != (h, w) || !(masks.count == 1 || masks.count >= images.count) {
                bail!(
                    "{}: {} masks of {}x{}; need one {h}x{w} mask, or one per image ({})",
                    mask_path.display(),
                    masks.count,
                    masks.rows,
                    masks.cols,
                    images.count
                );
            }
            let used = &masks.pixels[..masks.count.min(images.count) * h * w];
            let grays = used.iter().filter(|&&v| v != 0 && v != 255).count();
            if grays > 0 {
                eprintln!(
                    "warning: {}: {grays} of its {} mask values are neither 0 nor 255 (a resized or JPEG-saved mask?): \
                     every nonzero value erases its pixel",
                    mask_path.display(),
                    used.len()
                );
            }
            (0..images.count).map(|i| masks.image(i.min(masks.count - 1)).iter().map(|&v| v != 0).collect()).collect()
        }
        None => {
            let mut rng = Rng::new(a.seed);
            (0..images.count).map(|_| a.region.erased(h, w, &mut rng)).collect()
        }
    };
    let out = match &a.out {
        Some(out) => out.clone(),
        None => runs_dir(a.model, "--out")?.join("inpainting"),
    };
    let idx_path = files::with_suffix(&out, ".idx3-ubyte");
    let png_path = files::with_suffix(&out, ".png");
    let record_path = outputs::InpaintRecord::path_for(&idx_path);
    for path in [&idx_path, &png_path, &record_path] {
        files::check_writable(path)?;
    }
    let share = outputs::ErasedShare::of(&erased).expect("at least one image");
    eprintln!(
        "erasing {:.1}% of each image on average (from {:.1}% to {:.1}%)",
        100.0 * share.mean,
        100.0 * share.min,
        100.0 * share.max
    );
    if share.max == 0.0 {
        eprintln!("warning: nothing is erased in any image: each completion is its original");
    } else if a.mask.is_some() && share.mean > 0.5 {
        eprintln!(
            "warning: the mask erases most of each image: its nonzero pixels are erased; a mask that marks \
             what to keep (0 = erase) must be inverted"
        );
    }
    let settings = outputs::InpaintSettings { completions: a.completions, order, per_step, schedule, temperature: a.temperature, guidance, seed: a.seed };
    let completions = outputs::inpaint(&model, &images, &erased, &settings, &chosen.device, false)?;
    let flat: Vec<i64> = completions.iter().flatten().flatten().map(|&v| v as i64).collect();
    let idx = outputs::as_images(&model, &flat).to_idx();
    files::write(&png_path, &outputs::inpainting_png(&images, &erased, &completions))?;
    let record = outputs::InpaintRecord {
        model: a.model.name().into(),
        weights: path.clone(),
        input: std::fs::canonicalize(&input).unwrap_or(input),
        images: images.count,
        completions: a.completions,
        erased: a.mask.as_ref().map_or_else(|| a.region.name(), |m| format!("mask:{}", m.display())),
        erased_share: Some(share),
        seed: a.seed,
        completions_crc32: crc32fast::hash(&idx),
    };
    files::write_pair((&idx_path, &idx), (&record_path, &files::json(&record)?))?;
    eprintln!(
        "wrote {} ({} completions, image-major), {}{} and {} (what was in-painted)",
        idx_path.display(),
        flat.len() / (h * w),
        png_path.display(),
        if images.count > outputs::PICTURE_LIMIT { format!(" (the first {} images)", outputs::PICTURE_LIMIT) } else { String::new() },
        record_path.display()
    );
    Ok(())
}

//! `trainer pictures`: the lecture's figures for MNIST weights.

use crate::cli::{DEFAULT_PER_STEP_MNIST, PicturesArgs};
use crate::{data, files, generating};
use anyhow::{Result, bail};
use autoregress::region::Region;
use autoregress::render::figures as pictures;
use autoregress::rng::Rng;
use autoregress::{ArModel, GenerateOptions, VisitingOrder};
use std::path::Path;
use super::{load_mnist, runs_dir};

/// 48 digits (any-order: in adaptive order, with the map of the visiting order), in-painting of
/// 16 test digits (the bottom half erased; any-order models also the top half, the right half and
/// the centre), the posterior picture.
pub(crate) fn mnist_pictures(model: &ArModel, m: &data::Mnist, device: &autoregress::burn::tensor::Device, seed: u64, dir: &Path) -> Result<()> {
    let any_order = model.spec.kind.is_any_order();
    let (h, w) = (model.spec.height(), model.spec.width);
    let (order, per_step) = if any_order { (VisitingOrder::ADAPTIVE, DEFAULT_PER_STEP_MNIST) } else { (VisitingOrder::Raster, 1) };
    let options = GenerateOptions { seed, order: order.clone(), per_step, ..GenerateOptions::new(48) };
    let mut generation = autoregress::Generation::new(model, &options, device)?;
    while generation.run(model, 64) > 0 {}
    let values = autoregress::host::ints(generation.values());
    generating::digit_files(model, &values, &dir.join("samples"))?;
    if any_order {
        let steps = autoregress::host::floats(generation.visit_steps());
        let maps: Vec<autoregress::render::Raster> = steps.chunks(h * w).take(8).map(|s| pictures::order_map(s, w, h, 4)).collect();
        files::write(&dir.join("order-map.png"), &files::png(&autoregress::render::Raster::row(&maps, 6)))?;
    }

    let test = m.test.images.take(16);
    // Both families, the same regions: the pictures compare them side by side.
    for region in [Region::BottomHalf, Region::TopHalf, Region::RightHalf, Region::Centre] {
        let erased: Vec<Vec<bool>> = vec![region.erased(test.rows, test.cols, &mut Rng::new(0)); test.count];
        let settings = generating::InpaintSettings { completions: 2, order: order.clone(), per_step, temperature: 1.0, seed };
        let completions = generating::inpaint(model, &test, &erased, &settings, device, false)?;
        let name = if region == Region::BottomHalf { "inpainting.png".to_string() } else { format!("inpainting-{}.png", region.name()) };
        files::write(&dir.join(name), &generating::inpainting_png(&test, &erased, &completions))?;
    }

    let len = model.spec.seq_len;
    let positions: Vec<usize> = [0.15, 0.3, 0.45, 0.55, 0.65, 0.8].iter().map(|f| (f * len as f64) as usize).collect();
    let panels = generating::posterior_panels(model, &positions, seed, device)?;
    let picture = pictures::posterior(&panels, model.spec.width, model.spec.height(), 3);
    files::write(&dir.join("posterior.png"), &files::png(&picture))
}

pub fn run(a: PicturesArgs) -> Result<()> {
    let (chosen, path, model) = super::load(a.model, &a.weights)?;
    let m = load_mnist(&a.data_dir)?;
    let test = &m.test.images;
    if (test.rows, test.cols) != (model.spec.height(), model.spec.width) {
        bail!(
            "{} holds {}x{} images, the weights {} are for {}x{}: use data of the model's size",
            m.test.path.display(),
            test.rows,
            test.cols,
            path.display(),
            model.spec.height(),
            model.spec.width
        );
    }
    let dir = a.out_dir.clone().unwrap_or_else(|| runs_dir(a.model));
    mnist_pictures(&model, &m, &chosen.device, a.seed, &dir)?;
    eprintln!("wrote samples, in-painting and posterior pictures in {}", dir.display());
    Ok(())
}

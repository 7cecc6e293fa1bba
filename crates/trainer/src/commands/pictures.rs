//! `trainer pictures`: the lecture's figures for MNIST weights (`outputs::mnist_pictures`).

use crate::cli::PicturesArgs;
use crate::{data, outputs};
use anyhow::Result;
use super::{load_mnist, runs_dir};

pub fn run(a: PicturesArgs) -> Result<()> {
    let (chosen, path, model) = super::load(a.model, &a.weights)?;
    let m = load_mnist(&a.data_dir)?;
    data::check_geometry(&m.test.images, &m.test.path, &model.spec, &path)?;
    let dir = match &a.out_dir {
        Some(dir) => dir.clone(),
        None => runs_dir(a.model, "--out-dir")?,
    };
    outputs::mnist_pictures(&model, &m, &chosen.device, a.seed, &dir)?;
    eprintln!("wrote samples, in-painting and posterior pictures in {}", dir.display());
    Ok(())
}

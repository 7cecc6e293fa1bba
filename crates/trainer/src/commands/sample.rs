//! `trainer sample`: sequences or digits generated and written (`crate::sample`).

use crate::cli::{Model, SampleArgs};
use crate::device;
use crate::{eval, files, sample};
use anyhow::{Result, bail};
use autoregress::data::toy::toy_dataset;
use autoregress::GenerateOptions;
use super::{check_positive, runs_dir};

pub fn run(a: SampleArgs) -> Result<()> {
    if !a.temperature.is_finite() || a.temperature < 0.0 {
        bail!("--temperature must be 0 or more, not {}", a.temperature);
    }
    let chosen = device::choose(a.device.device)?;
    let path = a.weights.clone().unwrap_or_else(|| a.model.default_weights());
    let model = files::load_weights(&path, a.model.kind(), &chosen.device)?;
    let count = a.count.unwrap_or(if a.model.is_image() { 48 } else { 25 });
    check_positive("--count", count)?;
    let out = a.out.clone().unwrap_or_else(|| runs_dir(a.model).join("samples"));
    let suffixes: &[&str] = if a.model.is_image() { &[".png", ".idx3-ubyte"] } else { &[".txt", ".png"] };
    for suffix in suffixes {
        files::check_writable(&files::with_suffix(&out, suffix))?;
    }
    let (order, per_step) = a.order.resolve(a.model)?;
    let options = GenerateOptions { seed: a.seed, temperature: a.temperature, order, per_step, ..GenerateOptions::new(count) };
    let values = sample::run(&model, &options, &chosen.device, false)?;
    match a.model {
        Model::Toy | Model::ToyAnyOrder => {
            let train = toy_dataset(eval::TOY_TRAIN_SEED, count, model.spec.seq_len);
            sample::toy_files(&model, &values, &train, &out)?;
            eprintln!("wrote {} and {}", files::with_suffix(&out, ".txt").display(), files::with_suffix(&out, ".png").display());
        }
        Model::Mnist | Model::MnistAnyOrder => {
            sample::digit_files(&model, &values, &out)?;
            eprintln!("wrote {} and {}", files::with_suffix(&out, ".png").display(), files::with_suffix(&out, ".idx3-ubyte").display());
        }
    }
    Ok(())
}

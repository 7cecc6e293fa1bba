//! `trainer sample`: sequences or digits generated and written (`crate::outputs`).

use crate::cli::SampleArgs;
use autoregress::ModelKind;
use crate::{eval, files, outputs};
use anyhow::Result;
use autoregress::data::toy::toy_dataset;
use autoregress::GenerateOptions;
use super::runs_dir;

pub fn run(a: SampleArgs) -> Result<()> {
    let (chosen, _, model) = super::load(a.model, &a.weights)?;
    let count = a.count.unwrap_or(a.model.generate_defaults().count);
    outputs::check_fits(count, model.spec.seq_len * outputs::BYTES_PER_VALUE, "--count")?;
    let out = match &a.out {
        Some(out) => out.clone(),
        None => runs_dir(a.model, "--out")?.join("samples"),
    };
    let suffixes: &[&str] = if a.model.is_image() { &[".png", ".idx3-ubyte"] } else { &[".txt", ".png"] };
    for suffix in suffixes {
        files::check_writable(&files::with_suffix(&out, suffix))?;
    }
    let (order, per_step, schedule) = a.order.resolve(a.model.generate_defaults());
    let options = GenerateOptions { seed: a.seed, temperature: a.temperature, order, per_step, schedule, ..GenerateOptions::new(count) };
    let values = outputs::generate_blocks(&model, &options, &chosen.device, false)?;
    match a.model {
        ModelKind::Toy | ModelKind::ToyAnyOrder => {
            let train = toy_dataset(eval::TOY_TRAIN_SEED, count.min(outputs::PICTURE_LIMIT), model.spec.seq_len);
            outputs::toy_files(&model, &values, &train, &out)?;
            eprintln!("wrote {} and {}", files::with_suffix(&out, ".txt").display(), files::with_suffix(&out, ".png").display());
        }
        ModelKind::Mnist | ModelKind::MnistAnyOrder => {
            outputs::digit_files(&model, &values, &out)?;
            eprintln!("wrote {} and {}", files::with_suffix(&out, ".png").display(), files::with_suffix(&out, ".idx3-ubyte").display());
        }
    }
    Ok(())
}

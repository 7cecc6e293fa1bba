//! `trainer train`: the run's options checked, the data, Ctrl-C, the training loop
//! (`crate::train`), then the final evaluation, the weights, metrics and pictures.

use crate::cli::TrainArgs;
use crate::device;
use crate::interrupt::{self, Phase};
use crate::checkpoint::{Checkpoint, RunLock};
use crate::{eval, files, outputs, train};
use anyhow::{Context, Result, bail};
use autoregress::batch::{MaskMix, mean_std};
use autoregress::data::toy::toy_dataset;
use autoregress::host::ints;
use autoregress::train::LrSchedule;
use autoregress::{ArModel, GenerateOptions, ModelKind, ModelSpec};
use crate::report::{self, Eval, PastMetrics, TrainMetrics, TrainingRecord};
use std::path::{Path, PathBuf};
use std::time::Duration;
use super::{default_weights, load_mnist, runs_dir};

/// The runs that made the --init weights, from the metrics file beside them (oldest first),
/// so a warm-started model's metrics keep its whole training history. No file: no history; a
/// file that does not read: said, and no history.
fn earlier_runs(init: &Path) -> Vec<TrainingRecord> {
    let path = files::beside(init, "metrics.json");
    let Ok(bytes) = std::fs::read(&path) else {
        return Vec::new();
    };
    match serde_json::from_slice::<PastMetrics>(&bytes) {
        Ok(past) => past.history(),
        Err(e) => {
            eprintln!("warning: {} does not read ({e}): the new metrics will not list the earlier runs", path.display());
            Vec::new()
        }
    }
}

/// A training batch the machine cannot hold is refused before training, not after an allocation
/// fails.
fn check_batch(opts: &train::TrainOptions, count: usize, spec: &ModelSpec) -> Result<()> {
    outputs::check_fits(opts.batch_size.min(count), train::bytes_per_example(spec), "--batch-size")
}

fn checkpoint_dir_of(a: &TrainArgs, run_dir: &Path) -> PathBuf {
    a.checkpoint_dir.clone().unwrap_or_else(|| run_dir.join("checkpoint"))
}

pub fn run(a: TrainArgs) -> Result<()> {
    if a.fresh_data && a.model.is_image() {
        bail!("--fresh-data is for the toy models, whose generator is known; {} trains on its images", a.model.name());
    }
    let chosen = device::choose(a.device.device)?;
    eprintln!("device: {}", chosen.name);
    let ad = chosen.device.clone().autodiff();
    let run_dir = match &a.report_dir {
        Some(dir) => dir.clone(),
        None => runs_dir(a.model, "--report-dir")?,
    };
    let out = match &a.out {
        Some(out) => out.clone(),
        None => default_weights(a.model, "--out")?,
    };
    // Every output location is checked before any long work.
    let metrics_path = files::beside(&out, "metrics.json");
    for path in [&out, &metrics_path] {
        files::check_writable(path)?;
    }
    files::check_writable(&run_dir.join("samples.png"))?;
    files::check_writable(&checkpoint_dir_of(&a, &run_dir).join("state.json"))?;
    if a.out.is_none() {
        eprintln!("no --out: the trained weights will replace {}", out.display());
    }

    // The run's options: the command line's and the model's defaults, or, with --resume, the
    // checkpoint's (the data is drawn from them, so they come first).
    let kind = a.model;
    let defaults = kind.train_defaults();
    let given = train::TrainOptions {
        mask_mix: a.mask_mix.or(defaults.mask_mix).unwrap_or(MaskMix::UNIFORM),
        epochs: a.epochs.unwrap_or(defaults.epochs),
        batch_size: a.batch_size.unwrap_or(defaults.batch_size),
        lr: a.lr.unwrap_or(defaults.lr),
        schedule: LrSchedule {
            warmup_steps: a.warmup.unwrap_or(defaults.warmup_steps),
            final_fraction: a.final_lr.unwrap_or(defaults.final_lr_fraction),
        },
        seed: a.seed,
        train_size: (!kind.is_image()).then_some(a.train_size),
        fresh_data: a.fresh_data,
        recipe: a.recipe.clone(),
        history: train::History::default(),
        checkpoint_dir: checkpoint_dir_of(&a, &run_dir),
        checkpoint_every: Duration::from_secs(a.checkpoint_every),
        resume: a.resume,
        log_every: 20,
        quiet: a.quiet,
    };
    let mut opts = if a.resume { Checkpoint { dir: &given.checkpoint_dir }.resume_options(kind, &given)? } else { given };

    // The training set and the model's spec (normalization from the training data).
    let (train_seqs, count, spec, mnist, data_record) = if !kind.is_image() {
        let len = a.data.len;
        ModelSpec::for_kind(kind, 1, len, 0.0, 1.0).validate().map_err(|e| anyhow::anyhow!("--len {len}: {e}"))?;
        let size = opts.train_size.unwrap_or(a.train_size);
        // What the machine cannot hold is refused before it is drawn: the sequences (u16, and
        // i64 on the device) and a batch.
        outputs::check_fits(size, len * 10, "--train-size")?;
        check_batch(&opts, size, &ModelSpec::for_kind(kind, 1, len, 0.0, 1.0))?;
        // The low byte stays TOY_TRAIN_SEED's: no --seed gives the test set's seed.
        let seqs = toy_dataset(eval::TOY_TRAIN_SEED ^ (opts.seed << 8), size, len);
        let (mean, std) = mean_std(seqs.iter().map(|&v| v as f64));
        let record = if kind == ModelKind::ToyAnyOrder || opts.fresh_data {
            format!("toy generator: fresh sequences of length {len} every batch, {size} an epoch")
        } else {
            format!("toy generator: {size} sequences of length {len}")
        };
        (seqs, size, ModelSpec::for_kind(kind, 1, len, mean, std), None, record)
    } else {
        let m = load_mnist(&a.data.data_dir)?;
        if a.eval_images > m.test.images.count {
            eprintln!(
                "note: {} holds {} test images: the final evaluation takes those, not the {} asked for (--eval-images)",
                m.test.path.display(),
                m.test.images.count,
                a.eval_images
            );
        }
        let img = &m.train.images;
        let (lo, hi) = img.pixels.iter().fold((u8::MAX, u8::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if lo == hi {
            bail!(
                "{}: every training pixel is {lo}: nothing to learn (a zero-filled or failed download?); \
                 use real training images",
                m.train.path.display()
            );
        }
        let (mean, std) = mean_std(img.pixels.iter().map(|&v| v as f64));
        let spec = ModelSpec::for_kind(kind, img.rows, img.cols, mean, std);
        spec.validate()?;
        check_batch(&opts, img.count, &spec)?;
        let seqs: Vec<u16> = img.pixels.iter().map(|&v| v as u16).collect();
        let record = files::shown(&m.train.path);
        (seqs, img.count, spec, Some(m), record)
    };
    interrupt::install(&opts.checkpoint_dir)?;

    // For --init: the weights and the history beside them, read now since --out may be the same
    // file (kept in the checkpoint, so that a resumed run records them too).
    let model = match &a.init {
        None => ArModel::new(spec, &ad)?,
        Some(path) => {
            let model = files::load_weights(path, a.model, &ad)?;
            train::ensure_same_shape(&model.spec, &spec).with_context(|| format!("--init {}", path.display()))?;
            eprintln!("starting from {}", path.display());
            opts.history = train::History { init: Some(files::shown(path)), earlier_runs: earlier_runs(path) };
            model
        }
    };
    // The toy generator is known: an any-order toy model sees fresh sequences every batch (the
    // lecture's with --fresh-data).
    let fresh_toy = a.model == ModelKind::ToyAnyOrder || opts.fresh_data;
    let set = train::TrainSet { sequences: &train_seqs, count, len: model.spec.seq_len, fresh_toy };
    // Every input is checked: the checkpoint folder is this run's until it ends (two runs must
    // not share one).
    let _lock = RunLock::take(&opts.checkpoint_dir, &out)?;
    let outcome = train::train(model, &set, &opts, &ad, &interrupt::STOP)?;
    if outcome.interrupted {
        eprintln!(
            "interrupted at step {}; continue with the same command and --resume (checkpoint in {})",
            outcome.steps,
            opts.checkpoint_dir.display()
        );
        return Ok(());
    }
    interrupt::enter(Phase::Finishing);
    let model = outcome.model;
    let used = &outcome.opts;
    let device = &chosen.device;
    let eval = match &mnist {
        None => Eval::Toy(eval::toy(&model, device, autoregress::data::toy::TEST_SEQUENCES, autoregress::data::toy::TEST_SEQUENCES, used.seed, eval::TOY_DRAWS, a.quiet)),
        Some(m) => Eval::Mnist(eval::mnist(&model, device, &m.train.images.pixels, &m.test.images.pixels, a.eval_images, a.eval_images.min(100), eval::TRAINING_IMAGE_DRAWS, a.quiet)),
    };
    // What the run used: after --resume, the checkpoint's settings, not the command line's.
    let training = TrainingRecord {
        device: chosen.name.to_string(),
        seconds: outcome.seconds,
        steps: outcome.steps,
        epochs: used.epochs,
        batch_size: used.batch_size,
        lr: used.lr,
        warmup_steps: Some(used.schedule.warmup_steps),
        final_lr_fraction: Some(used.schedule.final_fraction),
        seed: Some(used.seed),
        data: Some(data_record),
        recipe: used.recipe.clone(),
        train_sequences: count,
        samples_per_second: outcome.samples_per_second,
        mask_mix: kind.is_any_order().then(|| used.mask_mix.into()),
        // A run resumed at its end trains no step: no loss to report.
        final_train_loss: outcome.last_loss.is_finite().then_some(outcome.last_loss),
        init: used.history.init.clone(),
        then_bits_per_dim: None,
        then_nats_per_position: None,
    };
    let metrics = TrainMetrics { eval, training, earlier_runs: used.history.earlier_runs.clone() };
    // This run's figures only: earlier runs' records are copied as they were.
    let own = TrainMetrics { earlier_runs: Vec::new(), ..metrics.clone() };
    report::check_figures(&own, "the metrics").map_err(|e| {
        e.context(format!("nothing written; the trained model is in the checkpoint {}", opts.checkpoint_dir.display()))
    })?;
    // Weights and metrics belong together: both are written, or neither.
    interrupt::enter(Phase::Writing);
    let written = files::write_pair(
        (&out, &autoregress::weights::to_bytes_as(&model, a.storage)?),
        (&metrics_path, &files::json(&metrics)?),
    );
    if let Err(e) = written {
        return Err(e.context(format!(
            "the trained model is in the checkpoint {}: run the same command with --resume and a writable --out",
            opts.checkpoint_dir.display()
        )));
    }
    if interrupt::quit_after_write() {
        eprintln!("weights written to {} and metrics to {}; quitting", out.display(), metrics_path.display());
        std::process::exit(130);
    }
    interrupt::enter(Phase::Done);
    println!("{}", serde_json::to_string_pretty(&metrics)?);
    eprintln!("weights written to {}, metrics to {}", out.display(), metrics_path.display());

    match &mnist {
        None => {
            let options = GenerateOptions { seed: used.seed, ..GenerateOptions::new(kind.generate_defaults().count) };
            let generated = outputs::run(&model, &options, device, a.quiet)?;
            outputs::toy_files(&model, &ints(generated.values()), &train_seqs, &run_dir.join("samples"))?;
        }
        Some(m) => outputs::mnist_pictures(&model, m, device, used.seed, &run_dir)?,
    }
    eprintln!("samples and pictures in {}", run_dir.display());
    Ok(())
}

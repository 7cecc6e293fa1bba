//! The training loop, for every model: per batch, the lecture's one random position per sequence
//! to predict from the positions before it, or, for an any-order model, a random set of known
//! positions and every unknown one to predict; cross-entropy; Adam. Checkpoints at a steady
//! interval (and on Ctrl-C) so an interrupted run resumes where it stopped.

use crate::checkpoint::{Checkpoint, Resumed};
use crate::{interrupt, progress};
use anyhow::{Result, bail};
use autoregress::batch::{MaskMix, sequences_tensor};
use autoregress::burn::module::Module;
use autoregress::burn::tensor::{Device, Int, Tensor, TensorData};
use autoregress::rng::Rng;
use autoregress::train::{LrSchedule, Stream, Training, adam, step_seed};
use autoregress::{ArModel, ModelKind, ModelSpec};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// The warm-up and the cosine's floor.
    pub schedule: LrSchedule,
    pub seed: u64,
    /// Toy models: how many training sequences were drawn (recorded so `--resume` draws the same).
    pub train_size: Option<usize>,
    /// The lecture's toy model: a fresh batch from the generator every step (`--fresh-data`).
    pub fresh_data: bool,
    /// The recipe named with `train --recipe`, carried into the checkpoint and the metrics.
    pub recipe: Option<String>,
    /// Where the run started from (`--init`), carried into the checkpoint and the metrics.
    pub history: History,
    pub checkpoint_dir: PathBuf,
    pub checkpoint_every: Duration,
    pub resume: bool,
    /// Any-order models: how the known positions of each example are drawn.
    pub mask_mix: MaskMix,
    /// Read the loss back (and check it is finite) every this many steps.
    pub log_every: usize,
    pub quiet: bool,
}

/// The weights a run started from (`--init`, as records show it) and the runs that made them,
/// oldest first; empty for a run from scratch.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    pub init: Option<String>,
    pub earlier_runs: Vec<crate::report::TrainingRecord>,
}

/// Training sequences, row-major.
pub struct TrainSet<'a> {
    pub sequences: &'a [u16],
    pub count: usize,
    pub len: usize,
    /// Draw every batch fresh from the toy generator (`count` is then the epoch's size).
    pub fresh_toy: bool,
}

pub struct Outcome {
    /// The trained model, without autodiff.
    pub model: ArModel,
    /// The options the run used (after `--resume`, the checkpoint's).
    pub opts: TrainOptions,
    pub steps: usize,
    pub seconds: f64,
    /// Mean training loss (nats) over the last logged steps.
    pub last_loss: f64,
    pub samples_per_second: f64,
    pub interrupted: bool,
}

/// A rough bound on the memory one training example takes at once: an any-order model's logits
/// at every position, and the activations of its first layers' channels along the sequence, at
/// 8 bytes a float. Measured (max RSS between two batch sizes, 2026-12-06): 2.4 MB an example
/// for `mnist-any-order` (this gives 4.8), 0.39 MB for `toy-any-order` (this gives 0.8).
pub fn bytes_per_example(spec: &ModelSpec) -> usize {
    let (l, c) = (spec.seq_len, spec.num_values);
    let floats = match spec.kind {
        ModelKind::Toy => c + 32 * l * 4,
        ModelKind::Mnist => c + 32 * l * 2,
        ModelKind::ToyAnyOrder => c * l + 128 * l * 24,
        ModelKind::MnistAnyOrder => c * l + 32 * l * 16,
    };
    8 * floats
}

/// Weights from elsewhere (a checkpoint, --init) must be for sequences of this run's shape.
pub fn ensure_same_shape(found: &ModelSpec, run: &ModelSpec) -> Result<()> {
    if (found.seq_len, found.width) != (run.seq_len, run.width) {
        bail!(
            "the weights are for sequences of length {} (width {}), the training data has length {} (width {})",
            found.seq_len,
            found.width,
            run.seq_len,
            run.width
        );
    }
    Ok(())
}

/// Trains `model` (on an autodiff device) on `data`. With `opts.resume`, continues the run in
/// `opts.checkpoint_dir`, whose settings `opts` must already hold ([`Checkpoint::resume_options`]).
pub fn train(model: ArModel, data: &TrainSet, opts: &TrainOptions, device: &Device, stop: &AtomicBool) -> Result<Outcome> {
    let checkpoint = Checkpoint { dir: &opts.checkpoint_dir };
    let opts = opts.clone();
    let (model, optim, start_step, mut elapsed_before) = if opts.resume {
        let Resumed { model: m, optim: o, step, elapsed_s: elapsed } = checkpoint.load(&model, device)?;
        eprintln!(
            "resuming from {} at step {step} ({} epochs, batch {}, lr {}, seed {})",
            opts.checkpoint_dir.display(),
            opts.epochs,
            opts.batch_size,
            opts.lr,
            opts.seed
        );
        (m, o, step, elapsed)
    } else {
        (model, adam::adam(), 0, 0.0)
    };
    // The command line checks its options; a checkpoint's state.json is checked here.
    if opts.batch_size == 0 || opts.epochs == 0 {
        bail!("{}: batch size and epochs must be at least 1", opts.checkpoint_dir.join("state.json").display());
    }
    let batch = opts.batch_size.min(data.count);
    let steps_per_epoch = (data.count / batch).max(1);
    let total = opts.epochs * steps_per_epoch;
    let all = sequences_tensor(data.sequences, data.count, data.len, device);

    let bar = progress::bar(total as u64, "training", opts.quiet);
    bar.set_position(start_step as u64);
    let started = Instant::now();
    let mut last_checkpoint = Instant::now();
    let mut pending: Vec<Tensor<1>> = Vec::new();
    let mut last_loss = f64::NAN;
    let mut order: Vec<usize> = Vec::new();
    let mut order_epoch = usize::MAX;
    let mut run = Training::resume(model, optim, start_step, device, opts.seed, opts.mask_mix);
    let mut step = start_step;
    let mut interrupted = false;
    while step < total {
        let epoch = step / steps_per_epoch;
        if epoch != order_epoch {
            order = (0..data.count).collect();
            Rng::new(step_seed(opts.seed, Stream::Shuffle, epoch)).shuffle(&mut order);
            order_epoch = epoch;
        }
        let i = step % steps_per_epoch;
        let sequences = if data.fresh_toy {
            run.fresh_toy_batch(batch)
        } else {
            let rows: Vec<i64> = order[i * batch..(i + 1) * batch].iter().map(|&r| r as i64).collect();
            all.clone().select(0, Tensor::<1, Int>::from_data(TensorData::new(rows, [batch]), device))
        };
        pending.push(run.step(sequences, opts.schedule.rate(opts.lr, step, total)));
        step = run.step;

        let stopping = stop.load(Ordering::SeqCst);
        if pending.len() >= opts.log_every.max(1) || step == total || stopping {
            let mean: f32 = Tensor::cat(std::mem::take(&mut pending), 0).mean().into_scalar();
            if !mean.is_finite() {
                bar.abandon();
                bail!(
                    "the training loss became {mean} at step {step}: training stopped. The last good \
                     checkpoint is in {}; try a lower --lr and --resume, or start again",
                    opts.checkpoint_dir.display()
                );
            }
            last_loss = mean as f64;
            let secs = started.elapsed().as_secs_f64();
            bar.set_message(format!(
                "epoch {}/{} loss {:.4} ppl {:.2} {:.0} samples/s",
                epoch + 1,
                opts.epochs,
                last_loss,
                last_loss.exp(),
                ((step - start_step) * batch) as f64 / secs.max(1e-9)
            ));
            bar.set_position(step as u64);
            let due = last_checkpoint.elapsed() >= opts.checkpoint_every;
            if due || stopping || step == total {
                let elapsed = elapsed_before + started.elapsed().as_secs_f64();
                let saved = interrupt::saving(|| checkpoint.save(run.model(), &run.optim, step, &opts, elapsed));
                saved?;
                if interrupt::quit_after_save() {
                    eprintln!("checkpoint saved in {}; quitting", opts.checkpoint_dir.display());
                    std::process::exit(130);
                }
                last_checkpoint = Instant::now();
            }
            if stopping {
                interrupted = true;
                break;
            }
        }
    }
    bar.finish();
    let seconds = started.elapsed().as_secs_f64();
    elapsed_before += seconds;
    Ok(Outcome {
        model: run.into_model().valid(),
        opts,
        steps: step,
        seconds: elapsed_before,
        last_loss,
        samples_per_second: ((step - start_step) * batch) as f64 / seconds.max(1e-9),
        interrupted,
    })
}

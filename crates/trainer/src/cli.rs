//! The command line: train, eval, sample, pictures, bench.

use crate::device::{self, Backend};
use crate::{bench, data, eval, files, sample, train};
use autoregress::render::figures as pictures;
use anyhow::{Context, Result, bail};
use autoregress::batch::{MaskMix, mean_std};
use autoregress::region::Region;
use autoregress::rng::Rng;
use autoregress::data::toy::toy_dataset;
use autoregress::{ArModel, GenerateOptions, ModelKind, ModelSpec, VisitingOrder};
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "trainer", version, about = "Train, evaluate and sample the auto-regressive models of the lecture \"Deep learning 10.1 Auto-regression\"")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Model {
    /// Toy sequences (length T, 2T values) and the lecture's 1-D convnet
    Toy,
    /// MNIST digits as 784-pixel sequences and the lecture's LeNet-like convnet
    Mnist,
    /// Toy sequences and our order-agnostic dilated convnet (every position, any order)
    ToyAnyOrder,
    /// MNIST digits and our order-agnostic U-Net (every pixel, any order)
    MnistAnyOrder,
}

impl Model {
    fn kind(self) -> ModelKind {
        match self {
            Model::Toy => ModelKind::Toy,
            Model::Mnist => ModelKind::Mnist,
            Model::ToyAnyOrder => ModelKind::ToyAnyOrder,
            Model::MnistAnyOrder => ModelKind::MnistAnyOrder,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Model::Toy => "toy",
            Model::Mnist => "mnist",
            Model::ToyAnyOrder => "toy-any-order",
            Model::MnistAnyOrder => "mnist-any-order",
        }
    }

    fn is_image(self) -> bool {
        self.kind().is_image()
    }

    /// Where the page loads the weights from.
    fn default_weights(self) -> PathBuf {
        files::repo_root().join(format!("web/weights/{}.bpk", self.name()))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train a model, then export its weights, evaluate it and draw samples
    Train(TrainArgs),
    /// Exact test cross-entropy of weights (toy: and the valid share of samples; mnist: bits/dim and baseline)
    Eval(EvalArgs),
    /// Generate sequences (toy: .txt and .png) or digits (mnist: .png and .idx3-ubyte)
    Sample(SampleArgs),
    /// The lecture's MNIST pictures: 48 digits, in-painting from the top half, the posterior view
    Pictures(PicturesArgs),
    /// Training, forward and generation throughput of the MNIST model on every available backend
    Bench(BenchArgs),
    /// Erase a region of images and complete it: an IDX file of completions and a PNG grid
    Inpaint(InpaintArgs),
}

#[derive(Args)]
struct InpaintArgs {
    /// An image model: mnist or mnist-any-order
    model: Model,
    /// Weights file [default: web/weights/<model>.bpk]
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
    /// IDX image file (gzip or raw) [default: the test images of data/mnist]
    #[arg(long)]
    input: Option<PathBuf>,
    /// In-paint the first N images
    #[arg(long, default_value_t = 16)]
    images: usize,
    /// Region to erase: top, bottom, left, right, centre, or random:P (each pixel with probability P)
    #[arg(long, default_value = "top")]
    region: String,
    /// IDX file of masks instead of --region (nonzero: erase): one image-sized mask per image, or one for all
    #[arg(long)]
    mask: Option<PathBuf>,
    /// Completions per image
    #[arg(long, default_value_t = 4)]
    completions: usize,
    #[command(flatten)]
    order: OrderArgs,
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output prefix: writes PREFIX.idx3-ubyte (completions, image-major) and PREFIX.png [default: runs/<model>/inpainting]
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args, Clone)]
struct DeviceArg {
    /// Compute backend
    #[arg(long, value_enum, default_value = "auto")]
    device: Backend,
}

#[derive(Args, Clone)]
struct DataArgs {
    /// MNIST only: folder with the four standard MNIST (or Fashion-MNIST) files, gzip or raw
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Toy only: sequence length T (values are 0..2T)
    #[arg(long, default_value_t = 32)]
    len: usize,
}

#[derive(Args)]
struct TrainArgs {
    model: Model,
    #[command(flatten)]
    device: DeviceArg,
    #[command(flatten)]
    data: DataArgs,
    /// Passes over the training set [default: toy 20, mnist 100]
    #[arg(long)]
    epochs: Option<usize>,
    /// Toy only: number of training sequences
    #[arg(long, default_value_t = 50_000)]
    train_size: usize,
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Adam's learning rate (cosine-decayed to a tenth over the run)
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the weights [default: web/weights/<model>.bpk, where the page loads them]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Folder of samples and pictures made after training [default: runs/<model>]
    #[arg(long)]
    report_dir: Option<PathBuf>,
    /// Checkpoint folder [default: runs/<model>/checkpoint]
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Seconds between checkpoints
    #[arg(long, default_value_t = 60)]
    checkpoint_every: u64,
    /// Continue the run in the checkpoint folder (its epochs, batch size, lr and seed)
    #[arg(long)]
    resume: bool,
    /// Start from these weights (a new run: fresh optimizer and schedule) instead of random ones
    #[arg(long, conflicts_with = "resume")]
    init: Option<PathBuf>,
    /// MNIST only: test images for the final evaluation
    #[arg(long, default_value_t = 1000)]
    eval_images: usize,
    /// Any-order models: weights of the mask families UNIFORM,PREFIX,REGION (uniformly random
    /// known sets, raster prefixes, a half or the centre erased) [default: mnist 0.4,0.35,0.25; toy 0.5,0.5,0]
    #[arg(long)]
    mask_mix: Option<String>,
    /// No progress bars
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct EvalArgs {
    model: Model,
    /// Weights file [default: web/weights/<model>.bpk]
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
    #[command(flatten)]
    data: DataArgs,
    /// MNIST only: evaluate on the first N test images
    #[arg(long, default_value_t = 1000)]
    images: usize,
    /// MNIST only: in-painting NLL on the first N of them (0: skip)
    #[arg(long, default_value_t = 100)]
    inpaint_images: usize,
    /// Toy only: test sequences, and generated sequences checked for validity
    #[arg(long, default_value_t = 1000)]
    sequences: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object on stdout
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SampleArgs {
    model: Model,
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
    /// How many [default: toy 25, mnist 48]
    #[arg(long)]
    count: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// 1 samples the model; lower is more conservative, 0 the most likely value
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    #[command(flatten)]
    order: OrderArgs,
    /// Output path without extension [default: runs/<model>/samples]
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OrderName {
    /// Left to right, top to bottom
    Raster,
    /// One random permutation from the seed
    Random,
    /// Per sample, the most certain positions first, with Gumbel noise on the certainty
    Adaptive,
}

#[derive(Args, Clone)]
struct OrderArgs {
    /// Visiting order (any-order models; the lecture's take raster only) [default: lecture raster, any-order adaptive]
    #[arg(long, value_enum)]
    order: Option<OrderName>,
    /// Positions drawn per step (any-order models) [default: lecture 1, any-order toy 1, any-order mnist 16]
    #[arg(long)]
    per_step: Option<usize>,
    /// Adaptive order: scale of the Gumbel noise added to each position's max log-probability [default: 1]
    #[arg(long)]
    adaptive_noise: Option<f64>,
    /// Adaptive order: choose among the first N unfilled positions in raster order (0: all) [default: 56, two rows]
    #[arg(long)]
    adaptive_window: Option<usize>,
}

impl OrderArgs {
    /// The order and positions per step for `model`, defaults filled in.
    fn resolve(&self, model: Model) -> Result<(VisitingOrder, usize)> {
        let kind = model.kind();
        let default_order = if kind.is_any_order() { OrderName::Adaptive } else { OrderName::Raster };
        let order = match self.order.unwrap_or(default_order) {
            OrderName::Raster => VisitingOrder::Raster,
            OrderName::Random => VisitingOrder::Random,
            OrderName::Adaptive => {
                let noise = self.adaptive_noise.unwrap_or(autoregress::generate::ADAPTIVE_NOISE);
                if !(noise.is_finite() && noise >= 0.0) {
                    bail!("--adaptive-noise must be 0 or more, not {noise}");
                }
                VisitingOrder::Adaptive { noise, window: self.adaptive_window.unwrap_or(autoregress::generate::ADAPTIVE_WINDOW) }
            }
        };
        let per_step = self.per_step.unwrap_or(if model == Model::MnistAnyOrder { DEFAULT_PER_STEP_MNIST } else { 1 });
        check_positive("--per-step", per_step)?;
        Ok((order, per_step))
    }
}

/// Positions per step of the any-order MNIST model by default (see the README's speed table).
pub const DEFAULT_PER_STEP_MNIST: usize = 16;

#[derive(Args)]
struct PicturesArgs {
    /// mnist or mnist-any-order
    #[arg(long, value_enum, default_value = "mnist")]
    model: Model,
    #[arg(long)]
    weights: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArg,
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder [default: runs/<model>]
    #[arg(long)]
    out_dir: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    /// Backends to measure [default: every one available]
    #[arg(long, value_enum, value_delimiter = ',')]
    backends: Vec<Backend>,
    /// Timed training steps at batch 100
    #[arg(long, default_value_t = 20)]
    train_steps: usize,
    /// Timed forward passes at batch 100
    #[arg(long, default_value_t = 20)]
    forward_reps: usize,
    /// Digits generated in the timed generation
    #[arg(long, default_value_t = 48)]
    digits: usize,
    /// Positions per step timed for the any-order MNIST model (none: skip it)
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16])]
    any_order_per_step: Vec<usize>,
    /// Instead: the lecture's MNIST layers one at a time, forward and backward at batch 100
    /// (compare with scripts/pytorch_layers.py)
    #[arg(long)]
    layers: bool,
    #[arg(long)]
    json: bool,
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(a) => train_command(a),
        Command::Eval(a) => eval_command(a),
        Command::Sample(a) => sample_command(a),
        Command::Pictures(a) => pictures_command(a),
        Command::Bench(a) => bench_command(a),
        Command::Inpaint(a) => inpaint_command(a),
    }
}

fn runs_dir(model: Model) -> PathBuf {
    files::repo_root().join("runs").join(model.name())
}

fn load_mnist(dir: &Option<PathBuf>) -> Result<data::Mnist> {
    let dir = dir.clone().unwrap_or_else(data::default_dir);
    data::load(&dir)
}

/// The runs that made the --init weights, from the metrics file beside them (oldest first),
/// so a warm-started model's metrics keep its whole training history.
fn earlier_runs(init: &Path) -> Vec<serde_json::Value> {
    let read = std::fs::read(files::beside(init, "metrics.json")).ok();
    let Some(metrics) = read.and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()) else {
        return Vec::new();
    };
    let mut runs = metrics["earlier_runs"].as_array().cloned().unwrap_or_default();
    if metrics["training"].is_object() {
        let mut run = metrics["training"].clone();
        for key in ["bits_per_dim", "nats_per_position"] {
            if !metrics[key].is_null() {
                run[format!("then_{key}")] = metrics[key].clone();
            }
        }
        runs.push(run);
    }
    runs
}

fn checkpoint_dir_of(a: &TrainArgs, run_dir: &Path) -> PathBuf {
    a.checkpoint_dir.clone().unwrap_or_else(|| run_dir.join("checkpoint"))
}

fn parse_mask_mix(text: &str) -> Result<MaskMix> {
    let parts: Vec<f64> = text.split(',').map(|p| p.trim().parse::<f64>()).collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("--mask-mix {text}: give three numbers, UNIFORM,PREFIX,REGION, e.g. 0.4,0.35,0.25"))?;
    match parts[..] {
        [u, p, r] if [u, p, r].iter().all(|x| x.is_finite() && *x >= 0.0) && u + p + r > 0.0 => {
            Ok(MaskMix { uniform: u, prefix: p, region: r })
        }
        _ => bail!("--mask-mix {text}: three numbers of 0 or more, not all 0 (UNIFORM,PREFIX,REGION)"),
    }
}

fn check_positive(name: &str, value: usize) -> Result<()> {
    if value == 0 {
        bail!("{name} must be at least 1");
    }
    Ok(())
}

static STOP: AtomicBool = AtomicBool::new(false);
/// What Ctrl-C interrupts: training (save a checkpoint), the final evaluation (quit; nothing
/// written yet), or the final write of weights and metrics (finish it, then quit).
static PHASE: AtomicU8 = AtomicU8::new(TRAINING);
const TRAINING: u8 = 0;
const FINISHING: u8 = 1;
const WRITING: u8 = 2;
const DONE: u8 = 3;
static QUIT_AFTER_WRITE: AtomicBool = AtomicBool::new(false);
static CHECKPOINT_DIR: OnceLock<PathBuf> = OnceLock::new();

fn on_ctrl_c() {
    match PHASE.load(Ordering::SeqCst) {
        TRAINING => {
            if STOP.swap(true, Ordering::SeqCst) {
                if train::SAVING.load(Ordering::SeqCst) {
                    // Quitting mid-save would leave a checkpoint whose parts disagree.
                    train::QUIT_AFTER_SAVE.store(true, Ordering::SeqCst);
                    eprintln!("\nfinishing the checkpoint being saved, then quitting");
                    return;
                }
                std::process::exit(130);
            }
            eprintln!("\nstopping: saving a checkpoint (Ctrl-C again to quit at once)");
        }
        FINISHING => {
            let dir = CHECKPOINT_DIR.get().map(|d| d.display().to_string()).unwrap_or_default();
            eprintln!(
                "\ninterrupted after training: no weights or metrics written; the trained model is in the \
                 checkpoint {dir}: run the same command with --resume to evaluate and write it"
            );
            std::process::exit(130);
        }
        WRITING => {
            QUIT_AFTER_WRITE.store(true, Ordering::SeqCst);
            eprintln!("\nfinishing the write of the weights and metrics, then quitting");
        }
        _ => {
            eprintln!("\ninterrupted: the weights and metrics are written; only the samples and pictures were cut short");
            std::process::exit(130);
        }
    }
}

fn train_command(a: TrainArgs) -> Result<()> {
    check_positive("--batch-size", a.batch_size)?;
    if !(a.lr.is_finite() && a.lr > 0.0) {
        bail!("--lr must be a positive number, not {}", a.lr);
    }
    let chosen = device::choose(a.device.device)?;
    eprintln!("device: {}", chosen.name);
    let ad = chosen.device.clone().autodiff();
    let run_dir = a.report_dir.clone().unwrap_or_else(|| runs_dir(a.model));
    let out = a.out.clone().unwrap_or_else(|| a.model.default_weights());
    if a.model.is_image() {
        check_positive("--eval-images", a.eval_images)?;
    }
    if let Some(epochs) = a.epochs {
        check_positive("--epochs", epochs)?;
    }
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

    // The training set and the model's spec (normalization from the training data).
    let kind = a.model.kind();
    let (train_seqs, count, spec, mnist) = if !a.model.is_image() {
        check_positive("--train-size", a.train_size)?;
        let len = a.data.len;
        ModelSpec::for_kind(kind, 1, len, 0.0, 1.0).validate().map_err(|e| anyhow::anyhow!("--len {len}: {e}"))?;
        // The low byte stays TOY_TRAIN_SEED's: no --seed gives the test set's seed.
        let seqs = toy_dataset(eval::TOY_TRAIN_SEED ^ (a.seed << 8), a.train_size, len);
        let (mean, std) = mean_std(seqs.iter().map(|&v| v as f64));
        (seqs, a.train_size, ModelSpec::for_kind(kind, 1, len, mean, std), None)
    } else {
        let m = load_mnist(&a.data.data_dir)?;
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
        let seqs: Vec<u16> = img.pixels.iter().map(|&v| v as u16).collect();
        (seqs, img.count, spec, Some(m))
    };
    let epochs = a.epochs.unwrap_or(match a.model {
        Model::Toy => 20,
        Model::Mnist => 100,
        Model::ToyAnyOrder => 40,
        Model::MnistAnyOrder => 60,
    });
    let mask_mix = match &a.mask_mix {
        None => MaskMix::default_for(kind),
        Some(text) => parse_mask_mix(text)?,
    };
    let opts = train::TrainOptions {
        mask_mix,
        epochs,
        batch_size: a.batch_size,
        lr: a.lr,
        seed: a.seed,
        checkpoint_dir: checkpoint_dir_of(&a, &run_dir),
        checkpoint_every: Duration::from_secs(a.checkpoint_every),
        resume: a.resume,
        log_every: 20,
        quiet: a.quiet,
    };
    let _ = CHECKPOINT_DIR.set(opts.checkpoint_dir.clone());
    ctrlc::set_handler(on_ctrl_c).context("cannot install the Ctrl-C handler")?;

    // For --init: the weights and the history beside them, read now since --out may be the same file.
    let (model, init) = match &a.init {
        None => (ArModel::new(spec, &ad)?, None),
        Some(path) => {
            let model = files::load_weights(path, a.model.kind(), &ad)?;
            train::ensure_same_shape(&model.spec, &spec).with_context(|| format!("--init {}", path.display()))?;
            eprintln!("starting from {}", path.display());
            (model, Some((path, earlier_runs(path))))
        }
    };
    // The toy generator is known: an any-order toy model sees fresh sequences every batch.
    let fresh_toy = a.model == Model::ToyAnyOrder;
    let set = train::TrainSet { sequences: &train_seqs, count, len: model.spec.seq_len, fresh_toy };
    let outcome = train::train(model, &set, &opts, &ad, &STOP)?;
    if outcome.interrupted {
        eprintln!(
            "interrupted at step {}; continue with the same command and --resume (checkpoint in {})",
            outcome.steps,
            opts.checkpoint_dir.display()
        );
        return Ok(());
    }
    PHASE.store(FINISHING, Ordering::SeqCst);
    let model = outcome.model;
    let device = &chosen.device;
    let mut metrics = match &mnist {
        None => eval::toy(&model, device, 1000, 1000, a.seed, a.quiet),
        Some(m) => eval::mnist(&model, device, &m.train.images.pixels, &m.test.images.pixels, a.eval_images, a.eval_images.min(100), a.quiet),
    };
    metrics["training"] = json!({
        "device": chosen.name,
        "seconds": outcome.seconds,
        "steps": outcome.steps,
        "epochs": epochs,
        "batch_size": a.batch_size,
        "lr": a.lr,
        "train_sequences": count,
        "samples_per_second": outcome.samples_per_second,
    });
    if kind.is_any_order() {
        metrics["training"]["mask_mix"] = json!({ "uniform": opts.mask_mix.uniform, "prefix": opts.mask_mix.prefix, "region": opts.mask_mix.region });
    }
    // A run resumed at its end trains no step: no loss to report.
    if outcome.last_loss.is_finite() {
        metrics["training"]["final_train_loss"] = json!(outcome.last_loss);
    }
    if let Some((path, earlier)) = init {
        metrics["training"]["init"] = json!(path.display().to_string());
        metrics["earlier_runs"] = json!(earlier);
    }
    // This run's figures only: earlier runs' records are copied as they were.
    let mut own = metrics.clone();
    own.as_object_mut().map(|m| m.remove("earlier_runs"));
    files::check_figures(&own, "the metrics").map_err(|e| {
        e.context(format!("nothing written; the trained model is in the checkpoint {}", opts.checkpoint_dir.display()))
    })?;
    // Weights and metrics belong together: both are written, or neither.
    PHASE.store(WRITING, Ordering::SeqCst);
    let written = files::write_pair(
        (&out, &autoregress::weights::to_bytes(&model)?),
        (&metrics_path, (serde_json::to_string_pretty(&metrics)? + "\n").as_bytes()),
    );
    if let Err(e) = written {
        return Err(e.context(format!(
            "the trained model is in the checkpoint {}: run the same command with --resume and a writable --out",
            opts.checkpoint_dir.display()
        )));
    }
    if QUIT_AFTER_WRITE.load(Ordering::SeqCst) {
        eprintln!("weights written to {} and metrics to {}; quitting", out.display(), metrics_path.display());
        std::process::exit(130);
    }
    PHASE.store(DONE, Ordering::SeqCst);
    println!("{}", serde_json::to_string_pretty(&metrics)?);
    eprintln!("weights written to {}, metrics to {}", out.display(), metrics_path.display());

    match &mnist {
        None => {
            let options = GenerateOptions { seed: a.seed, ..GenerateOptions::new(25) };
            let generated = sample::run(&model, &options, device, a.quiet)?;
            sample::toy_files(&model, &generated, &train_seqs, &run_dir.join("samples"))?;
        }
        Some(m) => mnist_pictures(&model, m, device, a.seed, &run_dir)?,
    }
    eprintln!("samples and pictures in {}", run_dir.display());
    Ok(())
}

fn eval_command(a: EvalArgs) -> Result<()> {
    let chosen = device::choose(a.device.device)?;
    let path = a.weights.clone().unwrap_or_else(|| a.model.default_weights());
    let model = files::load_weights(&path, a.model.kind(), &chosen.device)?;
    let quiet = a.json;
    let mut metrics = match a.model {
        Model::Toy | Model::ToyAnyOrder => {
            check_positive("--sequences", a.sequences)?;
            eval::toy(&model, &chosen.device, a.sequences, a.sequences, a.seed, quiet)
        }
        Model::Mnist | Model::MnistAnyOrder => {
            check_positive("--images", a.images)?;
            let m = load_mnist(&a.data.data_dir)?;
            let (tr, te) = (&m.train.images, &m.test.images);
            if (te.rows, te.cols) != (model.spec.height(), model.spec.width) {
                bail!(
                    "{} is for {}x{} images, the data in the data folder is {}x{}",
                    path.display(),
                    model.spec.height(),
                    model.spec.width,
                    te.rows,
                    te.cols
                );
            }
            eval::mnist(&model, &chosen.device, &tr.pixels, &te.pixels, a.images, a.inpaint_images, quiet)
        }
    };
    metrics["weights"] = json!(path.display().to_string());
    metrics["device"] = json!(chosen.name);
    files::check_figures(&metrics, &format!("the evaluation of {}", path.display()))?;
    if a.json {
        println!("{}", serde_json::to_string(&metrics)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&metrics)?);
    }
    Ok(())
}

fn sample_command(a: SampleArgs) -> Result<()> {
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

/// 48 digits, in-painting of 16 test digits from their first half, the posterior picture.
/// 48 digits (any-order: in adaptive order, with the map of the visiting order), in-painting of
/// 16 test digits (the bottom half erased; any-order models also the top half, the right half and
/// the centre), the posterior picture.
fn mnist_pictures(model: &ArModel, m: &data::Mnist, device: &autoregress::burn::tensor::Device, seed: u64, dir: &Path) -> Result<()> {
    let any_order = model.spec.kind.is_any_order();
    let (h, w) = (model.spec.height(), model.spec.width);
    let (order, per_step) = if any_order { (VisitingOrder::ADAPTIVE, DEFAULT_PER_STEP_MNIST) } else { (VisitingOrder::Raster, 1) };
    let options = GenerateOptions { seed, order: order.clone(), per_step, ..GenerateOptions::new(48) };
    let mut generation = autoregress::Generation::new(model, &options, device)?;
    while generation.run(model, 64) > 0 {}
    let values = sample::to_host(generation.values());
    sample::digit_files(model, &values, &dir.join("samples"))?;
    if any_order {
        let steps: Vec<f32> = generation.visit_steps().into_data().convert::<f32>().try_to_vec().expect("float data");
        let maps: Vec<autoregress::render::Raster> = steps.chunks(h * w).take(8).map(|s| pictures::order_map(s, w, h, 4)).collect();
        files::write(&dir.join("order-map.png"), &files::png(&autoregress::render::Raster::row(&maps, 6)))?;
    }

    let test = m.test.images.take(16);
    // Both families, the same regions: the pictures compare them side by side.
    for region in [Region::BottomHalf, Region::TopHalf, Region::RightHalf, Region::Centre] {
        let erased: Vec<Vec<bool>> = vec![region.erased(test.rows, test.cols, &mut Rng::new(0)); test.count];
        let settings = sample::InpaintSettings { completions: 2, order: order.clone(), per_step, temperature: 1.0, seed };
        let completions = sample::inpaint(model, &test, &erased, &settings, device, false)?;
        let name = if region == Region::BottomHalf { "inpainting.png".to_string() } else { format!("inpainting-{}.png", region.name()) };
        files::write(&dir.join(name), &sample::inpainting_png(&test, &erased, &completions))?;
    }

    let len = model.spec.seq_len;
    let positions: Vec<usize> = [0.15, 0.3, 0.45, 0.55, 0.65, 0.8].iter().map(|f| (f * len as f64) as usize).collect();
    let panels = sample::posterior_panels(model, &positions, seed, device)?;
    let picture = pictures::posterior(&panels, model.spec.width, model.spec.height(), 3);
    files::write(&dir.join("posterior.png"), &files::png(&picture))
}

fn pictures_command(a: PicturesArgs) -> Result<()> {
    if !a.model.is_image() {
        bail!("pictures draws digits: use --model mnist or mnist-any-order, not {}", a.model.name());
    }
    let chosen = device::choose(a.device.device)?;
    let path = a.weights.clone().unwrap_or_else(|| a.model.default_weights());
    let model = files::load_weights(&path, a.model.kind(), &chosen.device)?;
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

fn bench_command(a: BenchArgs) -> Result<()> {
    let backends = if a.backends.is_empty() {
        device::all_available()
    } else {
        a.backends.iter().map(|&b| device::choose(b)).collect::<Result<Vec<_>>>()?
    };
    check_positive("--train-steps", a.train_steps)?;
    check_positive("--forward-reps", a.forward_reps)?;
    check_positive("--digits", a.digits)?;
    for &k in &a.any_order_per_step {
        check_positive("--any-order-per-step", k)?;
    }
    let opts = bench::BenchOptions {
        train_steps: a.train_steps,
        forward_reps: a.forward_reps,
        digits: a.digits,
        any_order_per_step: a.any_order_per_step.clone(),
    };
    let mut rows = Vec::new();
    if a.layers {
        for b in &backends {
            let times = bench::layers(b, a.forward_reps);
            if !a.json {
                for t in &times {
                    println!("{:<20} {:<28} forward {:>6.2} ms   forward+backward {:>6.2} ms", b.name, t.layer, t.forward_ms, t.forward_backward_ms);
                }
            }
            rows.push(serde_json::json!({ "backend": b.name, "layers": times }));
        }
        if a.json {
            println!("{}", serde_json::to_string(&rows)?);
        }
        return Ok(());
    }
    for b in &backends {
        eprintln!("measuring {} ...", b.name);
        let r = bench::run(b, &opts);
        if !a.json {
            let burn = r.train_images_per_s_burn_adam.map(|v| format!(" (Burn's Adam {v:.0})")).unwrap_or_default();
            println!(
                "{:<45} train {:>7.0} img/s{burn}   toy {:>7.0} seq/s   forward {:>7.0} img/s   {} digits in {:>6.2} s",
                b.name, r.train_images_per_s, r.toy_train_samples_per_s, r.forward_images_per_s, opts.digits, r.generate_seconds
            );
        }
        rows.push(serde_json::to_value(&r)?);
        if !opts.any_order_per_step.is_empty() {
            let r = bench::run_any_order(b, &opts);
            if !a.json {
                let times: Vec<String> = r.generation.iter().map(|g| format!("{} K={} {:.2} s", g.order, g.per_step, g.seconds)).collect();
                println!("{:<45} any-order: train {:>6.0} img/s   {} digits: {}", b.name, r.train_images_per_s, opts.digits, times.join(", "));
            }
            rows.push(serde_json::to_value(&r)?);
        }
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}

fn inpaint_command(a: InpaintArgs) -> Result<()> {
    if !a.model.is_image() {
        bail!("inpaint works on images: use the mnist or mnist-any-order model, not {}", a.model.name());
    }
    if !a.temperature.is_finite() || a.temperature < 0.0 {
        bail!("--temperature must be 0 or more, not {}", a.temperature);
    }
    check_positive("--images", a.images)?;
    check_positive("--completions", a.completions)?;
    let (order, per_step) = a.order.resolve(a.model)?;
    let chosen = device::choose(a.device.device)?;
    let path = a.weights.clone().unwrap_or_else(|| a.model.default_weights());
    let model = files::load_weights(&path, a.model.kind(), &chosen.device)?;
    let input = a.input.clone().unwrap_or_else(|| data::default_dir().join("t10k-images-idx3-ubyte.gz"));
    let images = data::read_images(&input)?.take(a.images);
    let (h, w) = (model.spec.height(), model.spec.width);
    if (images.rows, images.cols) != (h, w) {
        bail!(
            "{} holds {}x{} images, the weights {} are for {h}x{w}: use images of the model's size",
            input.display(),
            images.rows,
            images.cols,
            path.display()
        );
    }
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
            (0..images.count).map(|i| masks.image(i.min(masks.count - 1)).iter().map(|&v| v != 0).collect()).collect()
        }
        None => {
            let region = Region::from_name(&a.region).map_err(|e| anyhow::anyhow!("--region: {e}"))?;
            let mut rng = Rng::new(a.seed);
            (0..images.count).map(|_| region.erased(h, w, &mut rng)).collect()
        }
    };
    let out = a.out.clone().unwrap_or_else(|| runs_dir(a.model).join("inpainting"));
    let idx_path = files::with_suffix(&out, ".idx3-ubyte");
    let png_path = files::with_suffix(&out, ".png");
    for path in [&idx_path, &png_path] {
        files::check_writable(path)?;
    }
    let settings = sample::InpaintSettings { completions: a.completions, order, per_step, temperature: a.temperature, seed: a.seed };
    let completions = sample::inpaint(&model, &images, &erased, &settings, &chosen.device, false)?;
    let flat: Vec<i64> = completions.iter().flatten().flatten().map(|&v| v as i64).collect();
    files::write(&idx_path, &sample::as_images(&model, &flat).to_idx())?;
    files::write(&png_path, &sample::inpainting_png(&images, &erased, &completions))?;
    eprintln!("wrote {} ({} completions, image-major) and {}", idx_path.display(), flat.len() / (h * w), png_path.display());
    Ok(())
}

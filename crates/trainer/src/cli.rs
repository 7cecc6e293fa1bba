//! The command line: the clap definitions of train, eval, sample, pictures, bench and inpaint,
//! and the dispatch to their bodies in `commands/`.

use crate::commands::{self, check_positive};
use crate::device::Backend;
use crate::files;
use anyhow::{Result, bail};
use autoregress::{ModelKind, VisitingOrder};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;


#[derive(Parser)]
#[command(name = "trainer", version, about = "Train, evaluate and sample the auto-regressive models of the lecture \"Deep learning 10.1 Auto-regression\"")]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
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
    pub(crate) fn kind(self) -> ModelKind {
        match self {
            Model::Toy => ModelKind::Toy,
            Model::Mnist => ModelKind::Mnist,
            Model::ToyAnyOrder => ModelKind::ToyAnyOrder,
            Model::MnistAnyOrder => ModelKind::MnistAnyOrder,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Model::Toy => "toy",
            Model::Mnist => "mnist",
            Model::ToyAnyOrder => "toy-any-order",
            Model::MnistAnyOrder => "mnist-any-order",
        }
    }

    pub(crate) fn is_image(self) -> bool {
        self.kind().is_image()
    }

    /// Where the page loads the weights from.
    pub(crate) fn default_weights(self) -> PathBuf {
        files::repo_root().join(format!("web/weights/{}.bpk", self.name()))
    }
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
pub(crate) struct InpaintArgs {
    /// An image model: mnist or mnist-any-order
    pub(crate) model: Model,
    /// Weights file [default: web/weights/<model>.bpk]
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    /// IDX image file (gzip or raw) [default: the test images of data/mnist]
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
    /// In-paint the first N images
    #[arg(long, default_value_t = 16)]
    pub(crate) images: usize,
    /// Region to erase: top, bottom, left, right, centre, or random:P (each pixel with probability P)
    #[arg(long, default_value = "top")]
    pub(crate) region: String,
    /// IDX file of masks instead of --region (nonzero: erase): one image-sized mask per image, or one for all
    #[arg(long)]
    pub(crate) mask: Option<PathBuf>,
    /// Completions per image
    #[arg(long, default_value_t = 4)]
    pub(crate) completions: usize,
    #[command(flatten)]
    pub(crate) order: OrderArgs,
    #[arg(long, default_value_t = 1.0)]
    pub(crate) temperature: f64,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Output prefix: writes PREFIX.idx3-ubyte (completions, image-major) and PREFIX.png [default: runs/<model>/inpainting]
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub(crate) struct DeviceArg {
    /// Compute backend
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) device: Backend,
}

#[derive(Args, Clone)]
pub(crate) struct DataArgs {
    /// MNIST only: folder with the four standard MNIST (or Fashion-MNIST) files, gzip or raw
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Toy only: sequence length T (values are 0..2T)
    #[arg(long, default_value_t = 32)]
    pub(crate) len: usize,
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    pub(crate) model: Model,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// Passes over the training set [default: toy 20, mnist 100]
    #[arg(long)]
    pub(crate) epochs: Option<usize>,
    /// Toy only: number of training sequences
    #[arg(long, default_value_t = 50_000)]
    pub(crate) train_size: usize,
    #[arg(long, default_value_t = 100)]
    pub(crate) batch_size: usize,
    /// Adam's learning rate (cosine-decayed to a tenth over the run)
    #[arg(long, default_value_t = 1e-3)]
    pub(crate) lr: f64,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Where to write the weights [default: web/weights/<model>.bpk, where the page loads them]
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Folder of samples and pictures made after training [default: runs/<model>]
    #[arg(long)]
    pub(crate) report_dir: Option<PathBuf>,
    /// Checkpoint folder [default: runs/<model>/checkpoint]
    #[arg(long)]
    pub(crate) checkpoint_dir: Option<PathBuf>,
    /// Seconds between checkpoints
    #[arg(long, default_value_t = 60)]
    pub(crate) checkpoint_every: u64,
    /// Continue the run in the checkpoint folder (its epochs, batch size, lr and seed)
    #[arg(long)]
    pub(crate) resume: bool,
    /// Start from these weights (a new run: fresh optimizer and schedule) instead of random ones
    #[arg(long, conflicts_with = "resume")]
    pub(crate) init: Option<PathBuf>,
    /// MNIST only: test images for the final evaluation
    #[arg(long, default_value_t = 1000)]
    pub(crate) eval_images: usize,
    /// Any-order models: weights of the mask families UNIFORM,PREFIX,REGION (uniformly random
    /// known sets, raster prefixes, a half or the centre erased) [default: mnist 0.4,0.35,0.25; toy 0.5,0.5,0]
    #[arg(long)]
    pub(crate) mask_mix: Option<String>,
    /// No progress bars
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    pub(crate) model: Model,
    /// Weights file [default: web/weights/<model>.bpk]
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    /// MNIST only: evaluate on the first N test images
    #[arg(long, default_value_t = 1000)]
    pub(crate) images: usize,
    /// MNIST only: in-painting NLL on the first N of them (0: skip)
    #[arg(long, default_value_t = 100)]
    pub(crate) inpaint_images: usize,
    /// Toy only: test sequences, and generated sequences checked for validity
    #[arg(long, default_value_t = 1000)]
    pub(crate) sequences: usize,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct SampleArgs {
    pub(crate) model: Model,
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    /// How many [default: toy 25, mnist 48]
    #[arg(long)]
    pub(crate) count: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// 1 samples the model; lower is more conservative, 0 the most likely value
    #[arg(long, default_value_t = 1.0)]
    pub(crate) temperature: f64,
    #[command(flatten)]
    pub(crate) order: OrderArgs,
    /// Output path without extension [default: runs/<model>/samples]
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum OrderName {
    /// Left to right, top to bottom
    Raster,
    /// One random permutation from the seed
    Random,
    /// Per sample, the most certain positions first, with Gumbel noise on the certainty
    Adaptive,
}

#[derive(Args, Clone)]
pub(crate) struct OrderArgs {
    /// Visiting order (any-order models; the lecture's take raster only) [default: lecture raster, any-order adaptive]
    #[arg(long, value_enum)]
    pub(crate) order: Option<OrderName>,
    /// Positions drawn per step (any-order models) [default: lecture 1, any-order toy 1, any-order mnist 16]
    #[arg(long)]
    pub(crate) per_step: Option<usize>,
    /// Adaptive order: scale of the Gumbel noise added to each position's max log-probability [default: 1]
    #[arg(long)]
    pub(crate) adaptive_noise: Option<f64>,
    /// Adaptive order: choose among the first N unfilled positions in raster order (0: all) [default: 56, two rows]
    #[arg(long)]
    pub(crate) adaptive_window: Option<usize>,
}

impl OrderArgs {
    /// The order and positions per step for `model`, defaults filled in.
    pub(crate) fn resolve(&self, model: Model) -> Result<(VisitingOrder, usize)> {
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
pub(crate) struct PicturesArgs {
    /// mnist or mnist-any-order
    #[arg(long, value_enum, default_value = "mnist")]
    pub(crate) model: Model,
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Output folder [default: runs/<model>]
    #[arg(long)]
    pub(crate) out_dir: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Backends to measure [default: every one available]
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) backends: Vec<Backend>,
    /// Timed training steps at batch 100
    #[arg(long, default_value_t = 20)]
    pub(crate) train_steps: usize,
    /// Timed forward passes at batch 100
    #[arg(long, default_value_t = 20)]
    pub(crate) forward_reps: usize,
    /// Digits generated in the timed generation
    #[arg(long, default_value_t = 48)]
    pub(crate) digits: usize,
    /// Positions per step timed for the any-order MNIST model (none: skip it)
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16])]
    pub(crate) any_order_per_step: Vec<usize>,
    /// Instead: the lecture's MNIST layers one at a time, forward and backward at batch 100
    /// (compare with scripts/pytorch_layers.py)
    #[arg(long)]
    pub(crate) layers: bool,
    #[arg(long)]
    pub(crate) json: bool,
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train(a) => commands::train::run(a),
        Command::Eval(a) => commands::eval::run(a),
        Command::Sample(a) => commands::sample::run(a),
        Command::Pictures(a) => commands::pictures::run(a),
        Command::Bench(a) => commands::bench::run(a),
        Command::Inpaint(a) => commands::inpaint::run(a),
    }
}

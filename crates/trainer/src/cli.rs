//! The command line: the clap definitions of train, eval, sample, pictures, bench, inpaint and judge,
//! and the dispatch to their bodies in `commands/`.

use crate::commands;
use crate::device::Backend;
use anyhow::Result;
use autoregress::{ModelKind, VisitingOrder};
use clap::{Args, Parser, Subcommand};
use autoregress::batch::MaskMix;
use autoregress::defaults;
use autoregress::region::Region;
use autoregress::weights::Storage;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "trainer", version, about = "Train, evaluate and sample the auto-regressive models of the lecture \"Deep learning 10.1 Auto-regression\"")]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Every option's value is checked by these parsers, in one place: a bad value is one clap error
/// naming the option (exit code 1, see `main.rs`) before any work starts. What depends on the
/// model as well (`train --len`) is checked by `ModelSpec::validate`, and files by their
/// readers, before any long work too.
mod parse {
    use autoregress::batch::MaskMix;
    use autoregress::{ModelKind, VisitingOrder};
    use autoregress::region::Region;
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

    /// A model by its name; the names and what they are listed in `--help`.
    pub fn model() -> impl TypedValueParser<Value = ModelKind> {
        among(&ModelKind::ALL)
    }

    /// An image model (`pictures`, `inpaint`).
    pub fn image_model() -> impl TypedValueParser<Value = ModelKind> {
        among(&ModelKind::ALL.into_iter().filter(|k| k.is_image()).collect::<Vec<_>>())
    }

    fn among(kinds: &[ModelKind]) -> impl TypedValueParser<Value = ModelKind> + use<> {
        let names: Vec<PossibleValue> = kinds.iter().map(|k| PossibleValue::new(k.name()).help(k.about())).collect();
        PossibleValuesParser::new(names).map(|name| name.parse::<ModelKind>().expect("one of the listed names"))
    }

    /// A visiting order by its name (`VisitingOrder::NAMED`).
    pub fn order() -> impl TypedValueParser<Value = VisitingOrder> {
        PossibleValuesParser::new(VisitingOrder::NAMED).map(|name| VisitingOrder::from_name(&name).expect("one of the listed names"))
    }

    /// A count of 1 or more.
    pub fn at_least_one(text: &str) -> Result<usize, String> {
        match text.parse::<usize>() {
            Ok(0) => Err("must be at least 1".into()),
            Ok(n) => Ok(n),
            Err(_) => Err("must be a whole number of at least 1".into()),
        }
    }

    /// A finite number of 0 or more.
    pub fn non_negative(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
            _ => Err("must be a number of 0 or more".into()),
        }
    }

    /// A number from 0 to 1.
    pub fn probability(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
            _ => Err("must be a number from 0 to 1".into()),
        }
    }

    /// A finite number above 0.
    pub fn positive(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => Err("must be a positive number".into()),
        }
    }

    /// A number in [0, 1].
    pub fn fraction(text: &str) -> Result<f64, String> {
        match text.parse::<f64>() {
            Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
            _ => Err("must be a number from 0 to 1".into()),
        }
    }

    /// `UNIFORM,PREFIX,REGION`: three weights of 0 or more, not all 0.
    pub fn mask_mix(text: &str) -> Result<MaskMix, String> {
        let parts: Result<Vec<f64>, _> = text.split(',').map(|p| p.trim().parse::<f64>()).collect();
        match parts.as_deref() {
            Ok(&[uniform, prefix, region])
                if [uniform, prefix, region].iter().all(|x| x.is_finite() && *x >= 0.0) && uniform + prefix + region > 0.0 =>
            {
                Ok(MaskMix { uniform, prefix, region })
            }
            _ => Err("give three numbers of 0 or more, not all 0: UNIFORM,PREFIX,REGION, e.g. 0.4,0.35,0.25".into()),
        }
    }

    /// A schedule by its name (`Schedule::NAMED`).
    pub fn schedule() -> impl TypedValueParser<Value = autoregress::Schedule> {
        PossibleValuesParser::new(autoregress::Schedule::NAMED).map(|name| autoregress::Schedule::from_name(&name).expect("one of the listed names"))
    }

    /// A region to erase (see [`Region::from_name`]).
    pub fn region(text: &str) -> Result<Region, String> {
        Region::from_name(text).map_err(|e| e.to_string())
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
    /// Throughput on every available backend: training, forward passes and generation of the lecture's models and the any-order MNIST model
    Bench(BenchArgs),
    /// Erase a region of images and complete it: an IDX file of completions, a PNG grid and a record of what was in-painted
    Inpaint(InpaintArgs),
    /// Judge generated or in-painted digits with a classifier trained first on the data's training images
    Judge(JudgeArgs),
    /// Rewrite weights in another storage: f16 halves the file (what the page downloads), f32 is exact
    Convert(ConvertArgs),
}

#[derive(Args)]
pub(crate) struct ConvertArgs {
    #[arg(value_parser = parse::model())]
    pub(crate) model: ModelKind,
    /// Weights to convert [default: web/weights/<model>.bpk]
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    /// How the new file stores its float tensors: f16 (2 bytes a weight) or f32 (4, exact)
    #[arg(long, default_value_t = Storage::F16)]
    pub(crate) storage: Storage,
    /// Where to write the converted weights (not the input: f16 loses digits a later f32 cannot get back)
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Args)]
pub(crate) struct JudgeArgs {
    /// IDX files of generated digits (as `sample` writes): the share judged a digit, and of which class
    pub(crate) samples: Vec<PathBuf>,
    /// IDX files of in-painted test images, as `inpaint` writes them (with the PREFIX.json beside
    /// them that says which images and how many completions): also the share keeping the original's digit
    #[arg(long)]
    pub(crate) inpainted: Vec<PathBuf>,
    /// An image is judged a digit when its most likely class is a digit, at this probability or more
    #[arg(long, value_parser = parse::probability, default_value_t = 0.9)]
    pub(crate) threshold: f64,
    /// Passes of the classifier's training over the training images
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 6)]
    pub(crate) epochs: usize,
    /// Folder with the four MNIST files: the classifier trains on its training images; the
    /// in-painted files' originals are its first test images
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct InpaintArgs {
    /// An image model: mnist or mnist-any-order
    #[arg(value_parser = parse::image_model())]
    pub(crate) model: ModelKind,
    #[command(flatten)]
    pub(crate) weights: WeightsArgs,
    /// IDX image file (gzip or raw) [default: the test images of data/mnist]
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
    /// In-paint the first N images
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 16)]
    pub(crate) images: usize,
    /// Region to erase: top, bottom, left, right, centre, or random:P (each pixel with probability P)
    #[arg(long, value_parser = parse::region, default_value = "top")]
    pub(crate) region: Region,
    /// IDX file of masks instead of --region (nonzero: erase): one image-sized mask per image, or one for all
    #[arg(long)]
    pub(crate) mask: Option<PathBuf>,
    /// Completions per image
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 4)]
    pub(crate) completions: usize,
    #[command(flatten)]
    pub(crate) order: OrderArgs,
    #[arg(long, value_parser = parse::non_negative, default_value_t = 1.0)]
    pub(crate) temperature: f64,
    #[arg(long, value_parser = parse::non_negative, help = format!(
        "Any-order models: guidance toward the kept pixels, W >= 0: each step draws from the logits l + W (l - l_hidden), \
         l_hidden the model's own with the kept pixels hidden (classifier-free guidance; 0: none; above 0, two forward \
         passes a step) {}", defaults::help_per_model(|k| k.is_image().then(|| k.inpaint_defaults().guidance))))]
    pub(crate) guidance: Option<f64>,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Output prefix: writes PREFIX.idx3-ubyte (completions, image-major), PREFIX.png and PREFIX.json (what was in-painted, for `judge`) [default: runs/<model>/inpainting]
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

/// The weights a command reads and the device it runs on.
#[derive(Args, Clone)]
pub(crate) struct WeightsArgs {
    /// Weights file [default: web/weights/<model>.bpk, the committed ones the page loads]
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
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
    #[arg(long, default_value_t = autoregress::data::toy::LEN)]
    pub(crate) len: usize,
}

#[derive(Args)]
pub(crate) struct TrainArgs {
    #[arg(value_parser = parse::model())]
    pub(crate) model: ModelKind,
    #[command(flatten)]
    pub(crate) device: DeviceArg,
    #[command(flatten)]
    pub(crate) data: DataArgs,
    #[arg(long, value_parser = parse::at_least_one, help = format!("Passes over the training set {}", defaults::help_per_model(|k| Some(k.train_defaults().epochs))))]
    pub(crate) epochs: Option<usize>,
    /// Toy only: number of training sequences
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 50_000)]
    pub(crate) train_size: usize,
    /// Toy only: a fresh batch from the generator at every step (--train-size sequences an
    /// epoch), as the page's Train panel trains; toy-any-order always trains so
    #[arg(long)]
    pub(crate) fresh_data: bool,
    #[arg(long, value_parser = parse::at_least_one, help = format!("Sequences per optimizer step {}", defaults::help_per_model(|k| Some(k.train_defaults().batch_size))))]
    pub(crate) batch_size: Option<usize>,
    #[arg(long, value_parser = parse::positive, help = format!("Adam's peak learning rate (after the warm-up; cosine-decayed to --final-lr over the run) {}", defaults::help_per_model(|k| Some(k.train_defaults().lr))))]
    pub(crate) lr: Option<f64>,
    #[arg(long, help = format!("Steps of the linear warm-up to --lr {}", defaults::help_per_model(|k| Some(k.train_defaults().warmup_steps))))]
    pub(crate) warmup: Option<usize>,
    #[arg(long, value_parser = parse::fraction, help = format!("The learning rate at the end of the cosine, as a fraction of --lr {}", defaults::help_per_model(|k| Some(k.train_defaults().final_lr_fraction))))]
    pub(crate) final_lr: Option<f64>,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Where to write the weights [default: web/weights/<model>.bpk, where the page loads them]
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// How the weights file stores its float tensors: f32 (exact) or f16 (half the bytes; the
    /// committed weights); checkpoints are always f32
    #[arg(long, default_value_t = Storage::F32)]
    pub(crate) storage: Storage,
    /// Folder of samples and pictures made after training [default: runs/<model>]
    #[arg(long)]
    pub(crate) report_dir: Option<PathBuf>,
    /// Checkpoint folder [default: runs/<model>/checkpoint]
    #[arg(long)]
    pub(crate) checkpoint_dir: Option<PathBuf>,
    /// Seconds between checkpoints (0: after every step)
    #[arg(long, default_value_t = 60)]
    pub(crate) checkpoint_every: u64,
    /// Continue the run in the checkpoint folder with its own settings (epochs, batch size, lr,
    /// schedule, seed, mask mix, recipe): options given for them now are ignored, and the metrics record
    /// what the run used
    #[arg(long)]
    pub(crate) resume: bool,
    /// Start from these weights (a new run: fresh optimizer and schedule) instead of random ones
    #[arg(long, conflicts_with = "resume")]
    pub(crate) init: Option<PathBuf>,
    /// MNIST only: test images for the final evaluation
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 1000)]
    pub(crate) eval_images: usize,
    #[arg(long, value_parser = parse::mask_mix, help = format!(
        "Any-order models: weights of the mask families UNIFORM,PREFIX,REGION (uniformly random known sets, raster prefixes, a half or the centre erased) {}",
        defaults::help_per_model(|k| k.train_defaults().mask_mix)))]
    pub(crate) mask_mix: Option<MaskMix>,
    /// The recipe this run belongs to (a script in scripts/recipes/), recorded in the metrics
    #[arg(long)]
    pub(crate) recipe: Option<String>,
    /// No progress bars
    #[arg(long)]
    pub(crate) quiet: bool,
}

#[derive(Args)]
pub(crate) struct EvalArgs {
    #[arg(value_parser = parse::model())]
    pub(crate) model: ModelKind,
    #[command(flatten)]
    pub(crate) weights: WeightsArgs,
    /// MNIST only: folder with the four standard MNIST (or Fashion-MNIST) files, gzip or raw
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// MNIST only: evaluate on the first N test images
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 1000)]
    pub(crate) images: usize,
    /// MNIST only: in-painting NLL on the first N of them (0: skip)
    #[arg(long, default_value_t = 100)]
    pub(crate) inpaint_images: usize,
    /// Toy only: test sequences, and generated sequences checked for validity
    #[arg(long, value_parser = parse::at_least_one, default_value_t = autoregress::data::toy::TEST_SEQUENCES)]
    pub(crate) sequences: usize,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    #[arg(long, value_parser = parse::at_least_one, help = format!(
        "Any-order models: random known sets per image (per toy sequence) in each of the {} sets of draws of the \
         order-agnostic estimate; more draws, a smaller spread between the sets [default: images {}, toy sequences {}]",
        crate::eval::DRAW_SETS, crate::eval::IMAGE_DRAWS, crate::eval::TOY_DRAWS))]
    pub(crate) draws: Option<usize>,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct SampleArgs {
    #[arg(value_parser = parse::model())]
    pub(crate) model: ModelKind,
    #[command(flatten)]
    pub(crate) weights: WeightsArgs,
    #[arg(long, value_parser = parse::at_least_one, help = format!("How many {}", defaults::help_per_model(|k| Some(k.generate_defaults().count))))]
    pub(crate) count: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// 1 samples the model; lower is more conservative, 0 the most likely value
    #[arg(long, value_parser = parse::non_negative, default_value_t = 1.0)]
    pub(crate) temperature: f64,
    #[command(flatten)]
    pub(crate) order: OrderArgs,
    /// Output path without extension [default: runs/<model>/samples]
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub(crate) struct OrderArgs {
    #[arg(long, value_parser = parse::order(), help = format!(
        "Visiting order (any-order models; the lecture's take raster only): raster (left to right, top to bottom), \
         random (one permutation from the seed), adaptive (per sample, the most certain positions first, with Gumbel \
         noise on the certainty) {}; inpaint {}", defaults::help_per_model(|k| Some(k.generate_defaults().order.name())),
         defaults::help_per_model(|k| Some(k.inpaint_defaults().order.name()))))]
    pub(crate) order: Option<VisitingOrder>,
    #[arg(long, value_parser = parse::at_least_one, help = format!(
        "Positions drawn per step (any-order models; the lecture's take 1) {}", defaults::help_per_model(|k| Some(k.generate_defaults().per_step))))]
    pub(crate) per_step: Option<usize>,
    #[arg(long, value_parser = parse::schedule(), help = format!(
        "How the positions are spread over the steps (any-order models; the number of steps stays that of --per-step): \
         constant (the same number each step), cosine (MaskGIT's: few while the picture is uncertain, many at the end) {}; inpaint {}",
        defaults::help_per_model(|k| k.is_any_order().then(|| k.generate_defaults().schedule.name())),
        defaults::help_per_model(|k| k.is_any_order().then(|| k.inpaint_defaults().schedule.name()))))]
    pub(crate) schedule: Option<autoregress::Schedule>,
    /// Adaptive order: scale of the Gumbel noise added to each position's max log-probability [default: 1]
    #[arg(long, value_parser = parse::non_negative)]
    pub(crate) adaptive_noise: Option<f64>,
    /// Adaptive order: choose among the first N unfilled positions in raster order (0: all) [default: 56, two rows]
    #[arg(long)]
    pub(crate) adaptive_window: Option<usize>,
}

impl OrderArgs {
    /// The order, positions per step and schedule: `defaults` (a model's
    /// [`ModelKind::generate_defaults`] or [`ModelKind::inpaint_defaults`]), then what the options say.
    pub(crate) fn resolve(&self, defaults: autoregress::defaults::GenerateDefaults) -> (VisitingOrder, usize, autoregress::Schedule) {
        let (default_order, default_per_step) = (defaults.order, defaults.per_step);
        let order = match self.order.clone().unwrap_or(default_order) {
            VisitingOrder::Adaptive { noise, window } => VisitingOrder::Adaptive {
                noise: self.adaptive_noise.unwrap_or(noise),
                window: self.adaptive_window.unwrap_or(window),
            },
            other => other,
        };
        (order, self.per_step.unwrap_or(default_per_step), self.schedule.unwrap_or(defaults.schedule))
    }
}

#[derive(Args)]
pub(crate) struct PicturesArgs {
    /// mnist or mnist-any-order
    #[arg(long, value_parser = parse::image_model(), default_value = "mnist")]
    pub(crate) model: ModelKind,
    #[command(flatten)]
    pub(crate) weights: WeightsArgs,
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
    /// Timed training steps of each model (the lecture's at batch 100, the any-order U-Net at 64)
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 20)]
    pub(crate) train_steps: usize,
    /// Timed forward passes at batch 100
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 20)]
    pub(crate) forward_reps: usize,
    /// Digits generated in the timed generation
    #[arg(long, value_parser = parse::at_least_one, default_value_t = 48)]
    pub(crate) digits: usize,
    /// Positions per step timed for the any-order MNIST model (none: skip it)
    #[arg(long, value_parser = parse::at_least_one, value_delimiter = ',', default_values_t = [1, 4, 16])]
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
        Command::Judge(a) => commands::judge::run(a),
        Command::Convert(a) => commands::convert::run(a),
    }
}

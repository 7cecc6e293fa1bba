//! Exact evaluation of trained weights: test cross-entropy over all positions, and for the toy
//! the share of generated sequences the generator could have produced; for digits, bits per
//! pixel against the per-position histogram baseline.

use crate::progress;
use autoregress::batch::random_set_mask;
use autoregress::burn::tensor::{Device, Tensor, TensorData};
use autoregress::event::prefix_mask;
use autoregress::batch::sequences_tensor;
use autoregress::data::toy::{generator_entropy, is_valid, toy_dataset};
use autoregress::metrics::{ChannelRanges, bits_per_dim, histogram_baseline_nats, mean_and_standard_error, order_agnostic_scores, region_nll_sum, total_nll};
use autoregress::region::Region;
use autoregress::host::ints;
use autoregress::rng::Rng;
use autoregress::{ArModel, GenerateOptions, generate};
use crate::report::{InpaintingBits, LayerChannels, MnistEval, OrderAgnosticBits, OrderAgnosticNats, ToyEval};

/// Seeds of the toy data (the library's): the test set never overlaps the training set's seed.
pub use autoregress::data::toy::{TEST_SEED as TOY_TEST_SEED, TRAIN_SEED as TOY_TRAIN_SEED};

fn nll_with_bar<V: Copy + Into<i64>>(model: &ArModel, seqs: &[V], count: usize, rows: usize, device: &Device, quiet: bool) -> f64 {
    let bar = progress::bar(count as u64, "evaluating", quiet);
    let nats = total_nll(model, seqs, count, rows, device, |done, _| bar.set_position(done as u64));
    bar.finish_and_clear();
    nats
}

/// Toy: exact test cross-entropy on `test_count` fresh sequences and the valid share of
/// `sample_count` generated ones.
/// `draws`: random known sets per sequence in each set of the order-agnostic estimate.
pub fn toy(model: &ArModel, device: &Device, test_count: usize, sample_count: usize, seed: u64, draws: usize, quiet: bool) -> ToyEval {
    let len = model.spec.seq_len;
    let test = toy_dataset(TOY_TEST_SEED, test_count, len);
    let nats = nll_with_bar(model, &test, test_count, 4096, device, quiet) / (test_count * len) as f64;
    let mut options = GenerateOptions::new(sample_count);
    options.seed = seed;
    let samples = generate(model, &options, device).expect("valid options");
    let values = ints(samples);
    let valid = values
        .chunks(len)
        .filter(|s| is_valid(&s.iter().map(|&v| v as u16).collect::<Vec<_>>()))
        .count();
    let floor = generator_entropy(len);
    let order_agnostic = model.spec.kind.is_any_order().then(|| {
        let oa = order_agnostic(model, &test, test_count, draws, TOY_COUNT_BIAS, 1000, device, quiet);
        OrderAgnosticNats {
            order_agnostic_nats_per_position: oa.mean,
            order_agnostic_standard_error: oa.standard_error,
            order_agnostic_draws: draws,
            order_agnostic_draw_set_spread: oa.spread(),
            order_agnostic_draw_error: oa.draw_error(),
            order_agnostic_draw_sets: oa.sets,
        }
    });
    ToyEval {
        model: model.spec.kind.name(),
        seq_len: len,
        test_sequences: test_count,
        nats_per_position: nats,
        perplexity: nats.exp(),
        generator_entropy_nats_per_position: floor,
        gap_nats_per_position: nats - floor,
        generated: sample_count,
        valid_share: valid as f64 / sample_count as f64,
        order_agnostic,
    }
}

/// Random known sets per image in each set of draws of `eval`'s order-agnostic estimate: enough
/// that on 100 test images the sets' figures differ by under 0.002 bits (their standard deviation
/// was 0.0020 at 64 draws, docs/experiments.md), at 2,048 passes per image in all against the
/// 784 of the exact raster NLL.
pub const IMAGE_DRAWS: usize = 512;
/// The same at the end of `train`, whose figure follows a run rather than settling a bar: an
/// eighth of the passes, so that the one-command recipe stays within its time.
pub const TRAINING_IMAGE_DRAWS: usize = 64;
/// The same per toy sequence.
pub const TOY_DRAWS: usize = 16;
/// How strongly the image estimate's draws favour large known counts, whose scores vary most
/// (`order_agnostic_scores`): at 0.5, 64 draws on 100 test images gave sets 0.0020 apart in
/// standard deviation, against 0.0026-0.0029 for uniform counts (docs/experiments.md).
pub const IMAGE_COUNT_BIAS: f64 = 0.5;
/// The same for toy sequences: uniform counts, which gave them the smaller spread (0.007
/// against 0.0105 nats at 0.5, 4 sets of 16 draws on 1,000 sequences).
pub const TOY_COUNT_BIAS: f64 = 0.0;
/// Independent sets of draws: the estimate is their mean, and the spread of their figures
/// (largest minus smallest) says how much a figure depends on its draws (docs/json.md).
pub const DRAW_SETS: usize = 4;

/// The order-agnostic estimate (nats per position) over [`DRAW_SETS`] sets of `draws` random
/// known sets per sequence; `chunk` sequences a pass.
pub struct OrderAgnostic {
    /// The mean over every draw of every set.
    pub mean: f64,
    /// Its standard error over the sequences (each sequence's mean over all its draws).
    pub standard_error: f64,
    /// Each set's estimate.
    pub sets: Vec<f64>,
}

impl OrderAgnostic {
    /// The largest set estimate minus the smallest.
    pub fn spread(&self) -> f64 {
        let (lo, hi) = self.sets.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        hi - lo
    }

    /// The standard error of the mean that comes from the draws: the sets' standard deviation
    /// over the square root of their number.
    pub fn draw_error(&self) -> f64 {
        mean_and_standard_error(&self.sets).1
    }
}

#[allow(clippy::too_many_arguments)]
fn order_agnostic<V: Copy + Into<i64>>(model: &ArModel, seqs: &[V], count: usize, draws: usize, bias: f64, chunk: usize, device: &Device, quiet: bool) -> OrderAgnostic {
    let len = model.spec.seq_len;
    let bar = progress::bar((DRAW_SETS * count.div_ceil(chunk)) as u64, "order-agnostic estimate", quiet);
    let mut per_sequence = vec![0.0; count];
    let mut sets = Vec::with_capacity(DRAW_SETS);
    for set in 0..DRAW_SETS {
        // Set 0 draws as every earlier `eval` did.
        let mut rng = Rng::new(0x0A0E ^ (set as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut scores = Vec::with_capacity(count);
        for start in (0..count).step_by(chunk) {
            let k = chunk.min(count - start);
            let t = sequences_tensor(&seqs[start * len..(start + k) * len], k, len, device);
            scores.extend(order_agnostic_scores(model, t, draws, bias, &mut rng));
            bar.inc(1);
        }
        sets.push(mean_and_standard_error(&scores).0);
        for (total, score) in per_sequence.iter_mut().zip(&scores) {
            *total += score / DRAW_SETS as f64;
        }
    }
    bar.finish_and_clear();
    let (mean, standard_error) = mean_and_standard_error(&per_sequence);
    OrderAgnostic { mean, standard_error, sets }
}

/// The in-painting regions `eval` reports (docs/json.md), in the order of [`InpaintingBits`]'s fields.
pub const INPAINTING_REGIONS: [Region; 3] = [Region::BottomHalf, Region::TopHalf, Region::Centre];

/// Exact in-painting NLL, bits per erased pixel, of each region of [`INPAINTING_REGIONS`] over
/// the first `images` test images.
pub fn inpainting_bits(model: &ArModel, test: &[u8], images: usize, device: &Device, quiet: bool) -> InpaintingBits {
    let len = model.spec.seq_len;
    let (h, w) = (model.spec.height(), model.spec.width);
    let row_skip = model.row_skip();
    let bar = progress::bar((images * INPAINTING_REGIONS.len()) as u64, "in-painting NLL", quiet);
    let bits = INPAINTING_REGIONS.map(|region| {
        let erased = region.erased(h, w, &mut Rng::new(0));
        let count = erased.iter().filter(|&&e| e).count();
        let mut nats = 0.0;
        for start in (0..images).step_by(8) {
            let k = 8.min(images - start);
            let t = sequences_tensor(&test[start * len..(start + k) * len], k, len, device);
            nats += region_nll_sum(model, &row_skip, t, &erased).into_scalar::<f32>() as f64;
            bar.inc(k as u64);
        }
        bits_per_dim(nats / (images * count) as f64)
    });
    bar.finish_and_clear();
    let [bottom_given_top, top_given_bottom, centre_given_rest] = bits;
    InpaintingBits { images, bottom_given_top, top_given_bottom, centre_given_rest }
}

/// Test and training images a pass of [`dead_channels`].
const PROBE_CHUNK: usize = 25;

/// Per layer of an any-order image model, the channels whose activation never varies over
/// varied inputs: the first `images` test images and as many training images, each with a
/// uniformly random known set, a raster prefix (both of a uniform count), nothing known, and the
/// top or the bottom half known. `None` for the other models.
pub fn dead_channels(model: &ArModel, train: &[u8], test: &[u8], images: usize, device: &Device) -> Option<Vec<LayerChannels>> {
    let len = model.spec.seq_len;
    let (h, w) = (model.spec.height(), model.spec.width);
    let mut ranges = ChannelRanges::default();
    let mut rng = Rng::new(0x0DEA_D0);
    for source in [test, train] {
        let n = images.min(source.len() / len);
        for start in (0..n).step_by(PROBE_CHUNK) {
            let k = PROBE_CHUNK.min(n - start);
            let sequences = sequences_tensor(&source[start * len..(start + k) * len], k, len, device);
            for family in 0..4 {
                let mut masks = Vec::with_capacity(k * len);
                for i in 0..k {
                    let t = rng.below(len);
                    masks.extend(match family {
                        0 => random_set_mask(&mut rng, len, t),
                        1 => prefix_mask(t, len),
                        2 => vec![0.0; len],
                        _ => {
                            let hidden = if i % 2 == 0 { Region::BottomHalf } else { Region::TopHalf };
                            hidden.erased(h, w, &mut rng).into_iter().map(|e| if e { 0.0 } else { 1.0 }).collect()
                        }
                    });
                }
                let mask = Tensor::<2>::from_data(TensorData::new(masks, [k, len]), device);
                if !ranges.observe(model, sequences.clone(), mask) {
                    return None;
                }
            }
        }
    }
    Some(ranges.dead().into_iter().map(|d| LayerChannels { layer: d.layer, channels: d.channels, dead: d.dead }).collect())
}

/// Digits: exact bits per pixel in raster order on the first `images` test images, and the
/// baseline; the in-painting NLL on the first `inpaint_images`; for an any-order model, the
/// order-agnostic estimate over `draws` random known sets per image in each set of draws.
#[allow(clippy::too_many_arguments)]
pub fn mnist(model: &ArModel, device: &Device, train: &[u8], test: &[u8], images: usize, inpaint_images: usize, draws: usize, quiet: bool) -> MnistEval {
    let len = model.spec.seq_len;
    let images = images.min(test.len() / len);
    let test = &test[..images * len];
    // 16 images a chunk: each pass of the model sees one row of positions of each, 448 rows.
    let nats = nll_with_bar(model, test, images, 16 * len, device, quiet) / (images * len) as f64;
    let baseline = histogram_baseline_nats(train, test, len, model.spec.num_values, 0.1);
    let order_agnostic = model.spec.kind.is_any_order().then(|| {
        let oa = order_agnostic(model, test, images, draws, IMAGE_COUNT_BIAS, 50, device, quiet);
        OrderAgnosticBits {
            order_agnostic_bits_per_dim: bits_per_dim(oa.mean),
            order_agnostic_standard_error: bits_per_dim(oa.standard_error),
            order_agnostic_draws: draws,
            order_agnostic_draw_set_spread: bits_per_dim(oa.spread()),
            order_agnostic_draw_error: bits_per_dim(oa.draw_error()),
            order_agnostic_draw_sets: oa.sets.iter().map(|&v| bits_per_dim(v)).collect(),
        }
    });
    let inpaint_images = inpaint_images.min(images);
    MnistEval {
        model: model.spec.kind.name(),
        images,
        bits_per_dim: bits_per_dim(nats),
        nats_per_position: nats,
        perplexity: nats.exp(),
        baseline_bits_per_dim: bits_per_dim(baseline),
        baseline: "per-position histogram of the training pixels, add-0.1 smoothing",
        order_agnostic,
        inpainting_bits_per_pixel: (inpaint_images > 0).then(|| inpainting_bits(model, test, inpaint_images, device, quiet)),
        dead_channels: dead_channels(model, train, test, images, device),
    }
}

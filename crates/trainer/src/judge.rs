//! The judge: a digit classifier, independent of every generative model here, that says whether
//! generated or in-painted images look like digits, and which digit. It is what the any-order
//! issue's "judged by a classifier" bars are measured with here (our own proxy: the issue's
//! classifier is not ours to run).
//!
//! A LeNet-5-like convnet (LeCun et al. 1998), input `[N, 1, 28, 28]` (gray levels / 255),
//! output logits `[N, 11]`: the ten digits and an eleventh class, *not a digit*:
//!
//! ```text
//! conv5 1->32, max-pool 2, ReLU, conv5 32->64, max-pool 2, ReLU, linear 1024->128, ReLU, linear 128->11
//! ```
//!
//! It is trained afresh on the training images of the data folder each time the command runs
//! (6 epochs of the vendored 10,000 and 1,000 non-digits: about 25 s on 2 CPU cores), so it needs no weights file.
//! The eleventh class is trained on one synthetic image per ten digits ([`not_digits`]: noise,
//! sparse dots, blobs, flat gray). Without it, a ten-way softmax has nowhere to put what is not a digit and is
//! often confidently wrong on it: one judge called 89% of uniform noise a sure "8". An image is
//! *judged a digit* when its most likely class is a digit, at a probability of at least a
//! threshold (0.9 by default); an in-painted completion *keeps the digit* when its most likely
//! class is the original's label.

use crate::progress;
use autoregress::train::adam as optim;
use anyhow::{Result, bail};
use autoregress::burn::module::Module;
use autoregress::burn::nn::conv::{Conv2d, Conv2dConfig};
use autoregress::burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use autoregress::burn::nn::{Linear, LinearConfig};
use autoregress::burn::optim::GradientsParams;
use autoregress::burn::tensor::activation::{relu, softmax};
use autoregress::burn::tensor::{Device, Int, Tensor, TensorData};
use autoregress::batch::cross_entropy;
use autoregress::data::idx::Images;
use autoregress::models::{convolve, max_pool};
use autoregress::rng::Rng;
use serde::Serialize;

/// The side of the images the classifier takes.
pub const SIDE: usize = 28;
/// Digit classes.
pub const CLASSES: usize = 10;
/// The classifier's outputs: the digits, then [`NOT_A_DIGIT`].
pub const OUTPUTS: usize = CLASSES + 1;
/// The class of images that are not digits.
pub const NOT_A_DIGIT: usize = CLASSES;
const HIDDEN: usize = 128;

/// The judge's network (see the module docs).
#[derive(Module, Debug)]
pub struct DigitClassifier {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
}

impl DigitClassifier {
    pub fn new(device: &Device) -> Self {
        DigitClassifier {
            conv1: Conv2dConfig::new([1, 32], [5, 5]).init(device),
            conv2: Conv2dConfig::new([32, 64], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(64 * 4 * 4, HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, OUTPUTS).init(device),
        }
    }

    /// Logits `[N, 11]` (digits 0-9, then not a digit) of images `[N, 1, 28, 28]` holding gray levels / 255.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.fc2.forward(self.features(images))
    }

    /// The last hidden layer `[N, 128]`: the features the Fréchet distance compares.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let x = relu(max_pool(&self.pool, convolve(&self.conv1, images)));
        let x = relu(max_pool(&self.pool, convolve(&self.conv2, x)));
        let [n, ..] = x.dims();
        relu(self.fc1.forward(x.reshape([n as i32, -1])))
    }
}

/// Images `start..start + count` of `images` as a `[count, 1, 28, 28]` tensor of gray levels / 255.
fn image_tensor(images: &Images, start: usize, count: usize, device: &Device) -> Tensor<4> {
    let px = SIDE * SIDE;
    pixel_tensor(&images.pixels[start * px..(start + count) * px], device)
}

/// 28x28 gray-level images, concatenated, as a `[count, 1, 28, 28]` tensor of gray levels / 255.
fn pixel_tensor(pixels: &[u8], device: &Device) -> Tensor<4> {
    let values: Vec<f32> = pixels.iter().map(|&v| v as f32 / 255.0).collect();
    Tensor::from_data(TensorData::new(values, [pixels.len() / (SIDE * SIDE), 1, SIDE, SIDE]), device)
}

/// How many synthetic non-digits the judge trains with beside `digits` training digits: one per ten.
pub fn non_digit_count(digits: usize) -> usize {
    digits.div_ceil(CLASSES)
}

/// `count` synthetic 28x28 images that are not digits, drawn from `rng`, concatenated: in turn
/// uniform noise, sparse dots (2% to 50% of the pixels), one to six soft blobs, and flat
/// gray, each at a random brightness. No strokes: a stroke can be a 1 or a 7.
pub fn not_digits(count: usize, rng: &mut Rng) -> Vec<u8> {
    let px = SIDE * SIDE;
    let mut pixels = Vec::with_capacity(count * px);
    for i in 0..count {
        let peak = rng.uniform_in(64.0, 255.0);
        match i % 4 {
            0 => pixels.extend((0..px).map(|_| (rng.uniform() * peak) as u8)),
            1 => {
                let density = rng.uniform_in(0.02, 0.5);
                pixels.extend((0..px).map(|_| if rng.uniform() < density { peak as u8 } else { 0 }));
            }
            2 => {
                let blobs: Vec<[f64; 3]> = (0..1 + rng.below(6))
                    .map(|_| [rng.uniform_in(0.0, SIDE as f64), rng.uniform_in(0.0, SIDE as f64), rng.uniform_in(1.5, 6.0)])
                    .collect();
                pixels.extend((0..px).map(|p| {
                    let (y, x) = ((p / SIDE) as f64, (p % SIDE) as f64);
                    let v: f64 = blobs.iter().map(|[by, bx, r]| (-((y - by).powi(2) + (x - bx).powi(2)) / (2.0 * r * r)).exp()).sum();
                    (v.min(1.0) * peak) as u8
                }));
            }
            _ => pixels.extend(std::iter::repeat_n((rng.uniform() * peak) as u8, px)),
        }
    }
    pixels
}

/// `images` must be 28x28: the classifier's size. `what` names them in the message.
pub fn check_size(images: &Images, what: &str) -> Result<()> {
    if (images.rows, images.cols) != (SIDE, SIDE) {
        bail!("{what} holds {}x{} images; the judge classifies {SIDE}x{SIDE} digits (MNIST's size)", images.rows, images.cols);
    }
    Ok(())
}

/// Trains a classifier on `images` and their `labels`, plus one image of [`not_digits`] per ten
/// (`epochs` passes, batch 100, the trainer's Adam at 1e-3, images drawn and shuffled from
/// `seed`), on `device` (an autodiff device). Returns it without autodiff.
pub fn train(images: &Images, labels: &[u8], epochs: usize, seed: u64, device: &Device, quiet: bool) -> Result<DigitClassifier> {
    check_size(images, "the training set")?;
    const BATCH: usize = 100;
    if let Some(bad) = labels.iter().find(|&&l| l as usize >= CLASSES) {
        bail!("a training label is {bad}: digit labels are 0 to 9");
    }
    let mut rng = Rng::new(seed);
    let others = non_digit_count(images.count);
    let total = images.count + others;
    let batch = BATCH.min(total);
    let steps_per_epoch = total.div_ceil(batch);
    let all = Tensor::cat(vec![image_tensor(images, 0, images.count, device), pixel_tensor(&not_digits(others, &mut rng), device)], 0);
    let targets: Vec<i64> = labels.iter().map(|&l| l as i64).chain(std::iter::repeat_n(NOT_A_DIGIT as i64, others)).collect();
    let all_targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [total]), device);
    let mut model = DigitClassifier::new(device);
    let mut adam = optim::adam();
    let bar = progress::bar((epochs * steps_per_epoch) as u64, "training the judge", quiet);
    for _ in 0..epochs {
        let mut order: Vec<usize> = (0..total).collect();
        rng.shuffle(&mut order);
        for chunk in order.chunks(batch) {
            let rows = Tensor::<1, Int>::from_data(TensorData::new(chunk.iter().map(|&r| r as i64).collect(), [chunk.len()]), device);
            let x = all.clone().select(0, rows.clone());
            let y = all_targets.clone().select(0, rows);
            let loss = cross_entropy(model.forward(x), y).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = adam.step(1e-3, model, grads);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(model.valid())
}

/// Class probabilities `[count][11]` (digits 0-9, then not a digit) of every image, in batches of 500.
///
/// # Errors
/// When a probability is not finite (the classifier's training diverged).
pub fn probabilities(model: &DigitClassifier, images: &Images, device: &Device) -> Result<Vec<[f32; OUTPUTS]>> {
    let mut out = Vec::with_capacity(images.count);
    for start in (0..images.count).step_by(500) {
        let count = 500.min(images.count - start);
        let p = softmax(model.forward(image_tensor(images, start, count, device)), 1);
        let values = autoregress::host::floats(p);
        if values.iter().any(|v| !v.is_finite()) {
            bail!("the judge's training diverged (its probabilities are not finite): try another --seed or fewer --epochs");
        }
        out.extend(values.chunks_exact(OUTPUTS).map(|c| <[f32; OUTPUTS]>::try_from(c).expect("11 classes")));
    }
    Ok(out)
}

/// The mean and covariance of the judge's features (the last hidden layer) over a set of images.
#[derive(Clone, Debug)]
pub struct FeatureGaussian {
    pub images: usize,
    mean: Vec<f64>,
    /// `HIDDEN x HIDDEN`, row-major (divided by `images - 1`).
    covariance: Vec<f64>,
}

/// The features' Gaussian of `images` (at least 2).
pub fn feature_gaussian(model: &DigitClassifier, images: &Images, device: &Device) -> FeatureGaussian {
    let n = images.count;
    let mut sum = vec![0.0f64; HIDDEN];
    let mut rows = Vec::with_capacity(n);
    for start in (0..n).step_by(500) {
        let count = 500.min(n - start);
        let f = autoregress::host::floats(model.features(image_tensor(images, start, count, device)));
        for row in f.chunks_exact(HIDDEN) {
            let row: Vec<f64> = row.iter().map(|&v| v as f64).collect();
            sum.iter_mut().zip(&row).for_each(|(s, v)| *s += v);
            rows.push(row);
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
    let mut covariance = vec![0.0f64; HIDDEN * HIDDEN];
    for row in &rows {
        for i in 0..HIDDEN {
            let di = row[i] - mean[i];
            if di == 0.0 {
                continue;
            }
            for j in 0..HIDDEN {
                covariance[i * HIDDEN + j] += di * (row[j] - mean[j]);
            }
        }
    }
    covariance.iter_mut().for_each(|c| *c /= (n.max(2) - 1) as f64);
    FeatureGaussian { images: n, mean, covariance }
}

/// The Fréchet distance between two Gaussians (Heusel et al. 2017, the FID's formula, here in the
/// judge's features): `|m1 - m2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)`. 0 for the same
/// Gaussian; biased upward when the sets are small.
pub fn frechet_distance(a: &FeatureGaussian, b: &FeatureGaussian) -> f64 {
    let n = a.mean.len();
    let means: f64 = a.mean.iter().zip(&b.mean).map(|(x, y)| (x - y) * (x - y)).sum();
    let trace = |m: &[f64]| (0..n).map(|i| m[i * n + i]).sum::<f64>();
    let root_a = symmetric_function(&a.covariance, n, |l| l.max(0.0).sqrt());
    let inner = multiply(&multiply(&root_a, &b.covariance, n), &root_a, n);
    let (values, _) = symmetric_eigen(&inner, n);
    let cross: f64 = values.iter().map(|l| l.max(0.0).sqrt()).sum();
    means + trace(&a.covariance) + trace(&b.covariance) - 2.0 * cross
}

fn multiply(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            if aik != 0.0 {
                for j in 0..n {
                    out[i * n + j] += aik * b[k * n + j];
                }
            }
        }
    }
    out
}

/// `f` applied to a symmetric matrix through its eigenvalues: `V f(L) V^T`.
fn symmetric_function(m: &[f64], n: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    let (values, vectors) = symmetric_eigen(m, n);
    let mut out = vec![0.0; n * n];
    for (k, &l) in values.iter().enumerate() {
        let fl = f(l);
        for i in 0..n {
            let vik = vectors[i * n + k] * fl;
            for j in 0..n {
                out[i * n + j] += vik * vectors[j * n + k];
            }
        }
    }
    out
}

/// Eigenvalues and eigenvectors (the columns of the second, row-major) of a symmetric `n x n`
/// matrix, by cyclic Jacobi rotations until the off-diagonal is negligible.
pub fn symmetric_eigen(m: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = m.to_vec();
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..60 {
        let off: f64 = (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| a[i * n + j] * a[i * n + j]).sum();
        if off <= 1e-22 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                // The rotation that zeroes a[p][q] (the smaller angle): t = tan, c = cos, s = sin.
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// What the judge says of a set of images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub images: usize,
    /// Share of the images whose most likely class is a digit, at probability at least the threshold.
    pub judged_digits: f64,
    /// How many images each digit is the most likely class for (whether judged a digit or not).
    pub classes: [usize; CLASSES],
    /// How many images are most likely not a digit.
    pub not_a_digit: usize,
    /// With labels: the share whose most likely class is their label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_kept: Option<f64>,
}

fn most_likely(p: &[f32; OUTPUTS]) -> (usize, f32) {
    p.iter().copied().enumerate().fold((0, f32::NEG_INFINITY), |best, (c, q)| if q > best.1 { (c, q) } else { best })
}

/// The verdict on images of class probabilities `probs`, at `threshold`. `labels`, when given,
/// hold one label per `probs.len() / labels.len()` consecutive images (the completions of one
/// original, image-major as `inpaint` writes them).
///
/// # Panics
/// If `labels` is given and empty or does not divide `probs.len()`.
pub fn verdict(probs: &[[f32; OUTPUTS]], labels: Option<&[u8]>, threshold: f32) -> Verdict {
    let n = probs.len();
    let mut classes = [0; OUTPUTS];
    let mut confident = 0;
    let mut kept = 0;
    let per_label = labels.map(|l| {
        assert!(!l.is_empty() && n.is_multiple_of(l.len()), "{} labels for {n} images", l.len());
        n / l.len()
    });
    for (i, p) in probs.iter().enumerate() {
        let (class, q) = most_likely(p);
        classes[class] += 1;
        confident += usize::from(class != NOT_A_DIGIT && q >= threshold);
        if let (Some(labels), Some(k)) = (labels, per_label) {
            kept += usize::from(class == labels[i / k] as usize);
        }
    }
    let share = |count: usize| if n == 0 { 0.0 } else { count as f64 / n as f64 };
    let not_a_digit = classes[NOT_A_DIGIT];
    let classes = <[usize; CLASSES]>::try_from(&classes[..CLASSES]).expect("10 digits");
    Verdict { images: n, judged_digits: share(confident), classes, not_a_digit, label_kept: labels.map(|_| share(kept)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Gaussian of dimension `n` with the given mean and covariance.
    fn gaussian(mean: Vec<f64>, covariance: Vec<f64>) -> FeatureGaussian {
        FeatureGaussian { images: 100, mean, covariance }
    }

    /// A random symmetric positive definite `n x n` matrix: `B B^T + I / 10`.
    fn spd(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        let b: Vec<f64> = (0..n * n).map(|_| rng.uniform() - 0.5).collect();
        let mut m = multiply(&b, &(0..n * n).map(|k| b[(k % n) * n + k / n]).collect::<Vec<_>>(), n);
        (0..n).for_each(|i| m[i * n + i] += 0.1);
        m
    }

    #[test]
    fn jacobi_finds_eigenvalues_and_vectors_that_rebuild_the_matrix() {
        let (values, _) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-12 && (sorted[1] - 3.0).abs() < 1e-12, "{values:?}");
        let n = 20;
        let m = spd(n, 3);
        let rebuilt = symmetric_function(&m, n, |l| l);
        assert!(m.iter().zip(&rebuilt).all(|(a, b)| (a - b).abs() < 1e-9));
        // The square root squared is the matrix.
        let root = symmetric_function(&m, n, f64::sqrt);
        assert!(multiply(&root, &root, n).iter().zip(&m).all(|(a, b)| (a - b).abs() < 1e-9));
    }

    #[test]
    fn the_frechet_distance_of_known_gaussians() {
        let n = 12;
        let s = spd(n, 5);
        let m: Vec<f64> = (0..n).map(|i| i as f64 / 3.0).collect();
        assert!(frechet_distance(&gaussian(m.clone(), s.clone()), &gaussian(m.clone(), s.clone())).abs() < 1e-8);
        // Means apart by d: |d|^2 when the covariances agree.
        let shifted: Vec<f64> = m.iter().map(|x| x + 0.5).collect();
        let d = frechet_distance(&gaussian(m.clone(), s.clone()), &gaussian(shifted, s.clone()));
        assert!((d - 0.25 * n as f64).abs() < 1e-8, "{d}");
        // S and 4S: tr(S + 4S - 2 * 2S) = tr(S).
        let four: Vec<f64> = s.iter().map(|x| 4.0 * x).collect();
        let d = frechet_distance(&gaussian(m.clone(), s.clone()), &gaussian(m, four));
        let trace: f64 = (0..n).map(|i| s[i * n + i]).sum();
        assert!((d - trace).abs() < 1e-8, "{d} against {trace}");
    }

    fn one_hot_ish(class: usize, q: f32) -> [f32; OUTPUTS] {
        let mut p = [(1.0 - q) / CLASSES as f32; OUTPUTS];
        p[class] = q;
        p
    }

    #[test]
    fn the_verdict_counts_confident_images_classes_and_kept_labels() {
        let probs = [one_hot_ish(3, 0.95), one_hot_ish(3, 0.5), one_hot_ish(7, 0.99), one_hot_ish(1, 0.91)];
        let v = verdict(&probs, None, 0.9);
        assert_eq!(v.images, 4);
        assert_eq!(v.judged_digits, 0.75);
        assert_eq!(v.classes, [0, 1, 0, 2, 0, 0, 0, 1, 0, 0]);
        assert_eq!(v.not_a_digit, 0);
        assert_eq!(v.label_kept, None);
        // Two completions per original: originals 3 (completions 3, 3: kept) and 1 (7: lost, 1: kept).
        let v = verdict(&probs, Some(&[3, 1]), 0.9);
        assert_eq!(v.label_kept, Some(0.75));
        assert_eq!(verdict(&probs, Some(&[1, 3]), 0.9).label_kept, Some(0.0));
        assert_eq!(verdict(&probs, Some(&[3, 3, 7, 1]), 0.96).label_kept, Some(1.0));
        assert_eq!(verdict(&probs, None, 0.96).judged_digits, 0.25);
    }

    #[test]
    fn a_sure_not_a_digit_is_neither_judged_a_digit_nor_kept() {
        let probs = [one_hot_ish(NOT_A_DIGIT, 0.99), one_hot_ish(2, 0.95)];
        let v = verdict(&probs, Some(&[2, 2]), 0.9);
        assert_eq!(v.judged_digits, 0.5);
        assert_eq!(v.not_a_digit, 1);
        assert_eq!(v.classes, [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(v.label_kept, Some(0.5));
    }

    #[test]
    fn the_synthetic_non_digits_are_of_every_kind_and_repeat_from_their_seed() {
        let px = SIDE * SIDE;
        let images = not_digits(8, &mut Rng::new(3));
        assert_eq!(images.len(), 8 * px);
        assert_eq!(images, not_digits(8, &mut Rng::new(3)));
        let distinct = |i: usize| {
            let mut v = images[i * px..(i + 1) * px].to_vec();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        // Noise: many gray levels; dots: black and one level; blobs: a smooth ramp; flat: one level.
        assert!(distinct(0) > 50, "noise");
        assert_eq!(distinct(1), 2, "dots");
        assert!(distinct(2) > 10, "blobs");
        assert_eq!(distinct(3), 1, "flat gray");
    }
}

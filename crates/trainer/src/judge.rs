//! The judge: a digit classifier, independent of every generative model here, that says whether
//! generated or in-painted images look like digits, and which digit. It is what the any-order
//! issue's "judged by a classifier" bars are measured with here (our own proxy: the issue's
//! classifier is not ours to run).
//!
//! A LeNet-5-like convnet (LeCun et al. 1998), input `[N, 1, 28, 28]` (gray levels / 255),
//! output logits `[N, 10]`:
//!
//! ```text
//! conv5 1->32, max-pool 2, ReLU, conv5 32->64, max-pool 2, ReLU, linear 1024->128, ReLU, linear 128->10
//! ```
//!
//! It is trained afresh on the training images of the data folder each time the command runs
//! (6 epochs of the vendored 10,000: about 15 s on 2 CPU cores), so it needs no weights file. An image is *judged a digit*
//! when the classifier gives one class a probability of at least a threshold (0.9 by default);
//! an in-painted completion *keeps the digit* when its most likely class is the original's label.

use crate::{optim, progress};
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
            fc2: LinearConfig::new(HIDDEN, CLASSES).init(device),
        }
    }

    /// Logits `[N, 10]` of images `[N, 1, 28, 28]` holding gray levels / 255.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = relu(max_pool(&self.pool, convolve(&self.conv1, images)));
        let x = relu(max_pool(&self.pool, convolve(&self.conv2, x)));
        let [n, ..] = x.dims();
        self.fc2.forward(relu(self.fc1.forward(x.reshape([n as i32, -1]))))
    }
}

/// Images `start..start + count` of `images` as a `[count, 1, 28, 28]` tensor of gray levels / 255.
fn image_tensor(images: &Images, start: usize, count: usize, device: &Device) -> Tensor<4> {
    let px = SIDE * SIDE;
    let values: Vec<f32> = images.pixels[start * px..(start + count) * px].iter().map(|&v| v as f32 / 255.0).collect();
    Tensor::from_data(TensorData::new(values, [count, 1, SIDE, SIDE]), device)
}

/// `images` must be 28x28: the classifier's size. `what` names them in the message.
pub fn check_size(images: &Images, what: &str) -> Result<()> {
    if (images.rows, images.cols) != (SIDE, SIDE) {
        bail!("{what} holds {}x{} images; the judge classifies {SIDE}x{SIDE} digits (MNIST's size)", images.rows, images.cols);
    }
    Ok(())
}

/// Trains a classifier on `images` and their `labels` (`epochs` passes, batch 100, the trainer's
/// Adam at 1e-3, images shuffled from `seed`), on `device` (an autodiff device). Returns it
/// without autodiff.
pub fn train(images: &Images, labels: &[u8], epochs: usize, seed: u64, device: &Device, quiet: bool) -> Result<DigitClassifier> {
    check_size(images, "the training set")?;
    const BATCH: usize = 100;
    let batch = BATCH.min(images.count);
    let steps_per_epoch = images.count.div_ceil(batch);
    let all = image_tensor(images, 0, images.count, device);
    let targets: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    if let Some(bad) = labels.iter().find(|&&l| l as usize >= CLASSES) {
        bail!("a training label is {bad}: digit labels are 0 to 9");
    }
    let all_targets = Tensor::<1, Int>::from_data(TensorData::new(targets, [labels.len()]), device);
    let mut model = DigitClassifier::new(device);
    let mut adam = optim::adam();
    let bar = progress::bar((epochs * steps_per_epoch) as u64, "training the judge", quiet);
    let mut rng = Rng::new(seed);
    for _ in 0..epochs {
        let mut order: Vec<usize> = (0..images.count).collect();
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

/// Class probabilities `[count][10]` of every image, in batches of 500.
///
/// # Errors
/// When a probability is not finite (the classifier's training diverged).
pub fn probabilities(model: &DigitClassifier, images: &Images, device: &Device) -> Result<Vec<[f32; CLASSES]>> {
    let mut out = Vec::with_capacity(images.count);
    for start in (0..images.count).step_by(500) {
        let count = 500.min(images.count - start);
        let p = softmax(model.forward(image_tensor(images, start, count, device)), 1);
        let values = autoregress::host::floats(p);
        if values.iter().any(|v| !v.is_finite()) {
            bail!("the judge's training diverged (its probabilities are not finite): try another --seed or fewer --epochs");
        }
        out.extend(values.chunks_exact(CLASSES).map(|c| <[f32; CLASSES]>::try_from(c).expect("10 classes")));
    }
    Ok(out)
}

/// What the judge says of a set of images.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub images: usize,
    /// Share of the images whose most likely class has probability at least the threshold.
    pub judged_digits: f64,
    /// How many images each class is the most likely one for (whether judged a digit or not).
    pub classes: [usize; CLASSES],
    /// With labels: the share whose most likely class is their label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_kept: Option<f64>,
}

fn most_likely(p: &[f32; CLASSES]) -> (usize, f32) {
    p.iter().copied().enumerate().fold((0, f32::NEG_INFINITY), |best, (c, q)| if q > best.1 { (c, q) } else { best })
}

/// The verdict on images of class probabilities `probs`, at `threshold`. `labels`, when given,
/// hold one label per `probs.len() / labels.len()` consecutive images (the completions of one
/// original, image-major as `inpaint` writes them).
///
/// # Panics
/// If `labels` is given and empty or does not divide `probs.len()`.
pub fn verdict(probs: &[[f32; CLASSES]], labels: Option<&[u8]>, threshold: f32) -> Verdict {
    let n = probs.len();
    let mut classes = [0; CLASSES];
    let mut confident = 0;
    let mut kept = 0;
    let per_label = labels.map(|l| {
        assert!(!l.is_empty() && n.is_multiple_of(l.len()), "{} labels for {n} images", l.len());
        n / l.len()
    });
    for (i, p) in probs.iter().enumerate() {
        let (class, q) = most_likely(p);
        classes[class] += 1;
        confident += usize::from(q >= threshold);
        if let (Some(labels), Some(k)) = (labels, per_label) {
            kept += usize::from(class == labels[i / k] as usize);
        }
    }
    let share = |count: usize| if n == 0 { 0.0 } else { count as f64 / n as f64 };
    Verdict { images: n, judged_digits: share(confident), classes, label_kept: labels.map(|_| share(kept)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot_ish(class: usize, q: f32) -> [f32; CLASSES] {
        let mut p = [(1.0 - q) / 9.0; CLASSES];
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
        assert_eq!(v.label_kept, None);
        // Two completions per original: originals 3 (completions 3, 3: kept) and 1 (7: lost, 1: kept).
        let v = verdict(&probs, Some(&[3, 1]), 0.9);
        assert_eq!(v.label_kept, Some(0.75));
        assert_eq!(verdict(&probs, Some(&[1, 3]), 0.9).label_kept, Some(0.0));
        assert_eq!(verdict(&probs, Some(&[3, 3, 7, 1]), 0.96).label_kept, Some(1.0));
        assert_eq!(verdict(&probs, None, 0.96).judged_digits, 0.25);
    }
}

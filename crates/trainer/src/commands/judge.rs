//! `trainer judge`: generated and in-painted digits judged by an independent classifier
//! (`crate::judge`), trained first on the data folder's training images.

use crate::cli::JudgeArgs;
use crate::outputs::InpaintRecord;
use crate::{data, device, files, judge};
use autoregress::data::idx::Images;
use anyhow::{Result, bail};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use super::load_mnist;

#[derive(Serialize)]
struct ClassifierReport {
    train_images: usize,
    /// Synthetic images of the "not a digit" class trained beside them.
    non_digit_images: usize,
    epochs: usize,
    seconds: f64,
    /// Share of the test images classified as their label.
    test_accuracy: f64,
    test_images: usize,
}

#[derive(Serialize)]
struct FileReport {
    path: String,
    /// "samples" or "inpainted".
    kind: &'static str,
    /// In-painted files: completions per original.
    #[serde(skip_serializing_if = "Option::is_none")]
    completions: Option<usize>,
    /// In-painted files: the region erased (`inpaint`'s `--region`, or `mask:FILE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    erased: Option<String>,
    #[serde(flatten)]
    verdict: judge::Verdict,
    /// The Fréchet distance between these images and the reference test digits, in the judge's
    /// features (lower is closer to real digits).
    frechet_distance: f64,
    /// In-painted files: the judge on the originals themselves (the ceiling of `label_kept`).
    #[serde(skip_serializing_if = "Option::is_none")]
    originals: Option<judge::Verdict>,
}

#[derive(Serialize)]
struct JudgeReport {
    device: String,
    threshold: f64,
    classifier: ClassifierReport,
    /// The judge on the first 1,000 test images: how often real digits are judged digits.
    test_digits: judge::Verdict,
    frechet: FrechetReport,
    files: Vec<FileReport>,
}

/// What each file's Fréchet distance is measured against, and real digits' own figure.
#[derive(Serialize)]
struct FrechetReport {
    /// The reference: the second half of the test images.
    reference_images: usize,
    /// Real digits' own distance: the first `real_images` test images (as many as the largest
    /// file, at most half the test set) against the reference. The figure shrinks as sets grow.
    real_images: usize,
    real_digits: f64,
}

pub fn run(a: JudgeArgs) -> Result<()> {
    if a.samples.is_empty() && a.inpainted.is_empty() {
        bail!("nothing to judge: give IDX files of generated digits, or --inpainted FILE (see trainer judge --help)");
    }
    // Every file is read and checked before the classifier trains.
    let m = load_mnist(&a.data_dir)?;
    let mut inputs = Vec::new();
    for path in &a.samples {
        inputs.push((path, read(path)?, None));
    }
    for path in &a.inpainted {
        let images = read(path)?;
        let record = inpaint_record(path, &images, &m.test)?;
        inputs.push((path, images, Some(record)));
    }
    let chosen = device::choose(a.device.device)?;
    let started = Instant::now();
    let model = judge::train(&m.train.images, &m.train.labels, a.epochs, a.seed, &chosen.device.clone().autodiff(), a.json)?;
    let seconds = started.elapsed().as_secs_f64();
    let test_probs = judge::probabilities(&model, &m.test.images, &chosen.device)?;
    let threshold = a.threshold as f32;
    let test = judge::verdict(&test_probs, Some(&m.test.labels), threshold);
    let first = test_probs.len().min(1000);
    let test_digits = judge::verdict(&test_probs[..first], None, threshold);
    // The Fréchet distance's reference, and real digits' own figure from the other half.
    let test_set = &m.test.images;
    let half = test_set.count / 2;
    let reference = judge::feature_gaussian(&model, &test_set.slice(half, test_set.count - half), &chosen.device);
    let real_images = inputs.iter().map(|(_, images, _)| images.count).max().unwrap_or(0).clamp(2, half.max(2));
    let real = judge::feature_gaussian(&model, &test_set.take(real_images), &chosen.device);
    let frechet = FrechetReport { reference_images: reference.images, real_images, real_digits: judge::frechet_distance(&real, &reference) };
    let files = inputs
        .into_iter()
        .map(|(path, images, record)| {
            let probs = judge::probabilities(&model, &images, &chosen.device)?;
            let frechet_distance = judge::frechet_distance(&judge::feature_gaussian(&model, &images, &chosen.device), &reference);
            let report = match record {
                Some(r) => {
                    let labels = &m.test.labels[..r.images];
                    FileReport {
                        path: path.display().to_string(),
                        kind: "inpainted",
                        completions: Some(r.completions),
                        erased: Some(r.erased),
                        verdict: judge::verdict(&probs, Some(labels), threshold),
                        frechet_distance,
                        originals: Some(judge::verdict(&test_probs[..r.images], Some(labels), threshold)),
                    }
                }
                None => FileReport {
                    path: path.display().to_string(),
                    kind: "samples",
                    completions: None,
                    erased: None,
                    verdict: judge::verdict(&probs, None, threshold),
                    frechet_distance,
                    originals: None,
                },
            };
            Ok(report)
        })
        .collect::<Result<_>>()?;
    let report = JudgeReport {
        device: chosen.name.clone(),
        threshold: a.threshold,
        classifier: ClassifierReport {
            train_images: m.train.images.count,
            non_digit_images: judge::non_digit_count(m.train.images.count),
            epochs: a.epochs,
            seconds,
            test_accuracy: test.label_kept.expect("labels given"),
            test_images: test.images,
        },
        test_digits,
        frechet,
        files,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_table(r: &JudgeReport) {
    let c = &r.classifier;
    println!(
        "judge: trained on {} digits and {} non-digits ({} epochs, {:.0} s), {:.1}% of {} test images right; \"a digit\": most likely a digit, at probability {} or more",
        c.train_images,
        c.non_digit_images,
        c.epochs,
        c.seconds,
        100.0 * c.test_accuracy,
        c.test_images,
        r.threshold
    );
    println!("{:>7.1}% of the first {} test images judged digits (real digits, for scale)", 100.0 * r.test_digits.judged_digits, r.test_digits.images);
    let f = &r.frechet;
    println!(
        "Fréchet distance to {} test digits in the judge's features: {:.1} for {} real ones (for scale; it grows as sets shrink)",
        f.reference_images, f.real_digits, f.real_images
    );
    for f in &r.files {
        let v = &f.verdict;
        print!("{}: {} images, {:.1}% judged digits, Fréchet distance {:.1}", f.path, v.images, 100.0 * v.judged_digits, f.frechet_distance);
        if let (Some(kept), Some(o)) = (v.label_kept, &f.originals) {
            print!(", {:.1}% keep the original's digit (the originals: {:.1}%)", 100.0 * kept, 100.0 * o.label_kept.unwrap_or(0.0));
        }
        println!("; most likely class 0-9: {:?}, not a digit: {}", v.classes, v.not_a_digit);
    }
}

/// The images of `path`, 28x28 and at least one.
fn read(path: &Path) -> Result<Images> {
    let images = data::read_images(path)?;
    judge::check_size(&images, &path.display().to_string())?;
    if images.count == 0 {
        bail!("{} holds no images: nothing to judge", path.display());
    }
    Ok(images)
}

/// The record `inpaint` wrote beside the in-painted file `path` (holding `images`), checked
/// against them and against `test`, the test split whose labels the judge uses.
fn inpaint_record(path: &Path, images: &Images, test: &data::Split) -> Result<InpaintRecord> {
    let record_path = InpaintRecord::path_for(path);
    if !record_path.is_file() {
        bail!(
            "{}: no {} beside it. --inpainted takes the files `trainer inpaint` writes: that record says which \
             images were in-painted and how many completions each has; in-paint with `trainer inpaint`",
            path.display(),
            record_path.display()
        );
    }
    let r: InpaintRecord = serde_json::from_slice(&files::read(&record_path)?)
        .map_err(|e| anyhow::anyhow!("{}: not a record `trainer inpaint` writes ({e}); in-paint again", record_path.display()))?;
    if r.images.checked_mul(r.completions) != Some(images.count) {
        bail!(
            "{} holds {} images but {} says {} images x {} completions: they do not belong together; in-paint again",
            path.display(),
            images.count,
            record_path.display(),
            r.images,
            r.completions
        );
    }
    if crc32fast::hash(&images.to_idx()) != r.completions_crc32 {
        bail!(
            "{} is not the file {} was written for (its completions differ): in-paint again",
            path.display(),
            record_path.display()
        );
    }
    // The originals must be the test images whose labels the judge knows (the same pixels,
    // whichever folder or compression they were read from).
    if !r.input.is_file() {
        bail!(
            "{} names {} as the in-painted images, and it is not there: the judge needs it to check the originals; \
             put it back or in-paint again",
            record_path.display(),
            r.input.display()
        );
    }
    let originals = data::read_images(&r.input)?.take(r.images);
    let known = test.images.take(r.images);
    if originals.count != r.images || (originals.rows, originals.cols, &originals.pixels) != (known.rows, known.cols, &known.pixels) {
        bail!(
            "{} completes the first {} images of {}, which are not the first {} test images of {}, whose labels the judge knows: \
             give --data-dir the MNIST folder the in-painted images come from",
            path.display(),
            r.images,
            r.input.display(),
            r.images,
            test.path.display()
        );
    }
    Ok(r)
}

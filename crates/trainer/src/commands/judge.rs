//! `trainer judge`: generated and in-painted digits judged by an independent classifier
//! (`crate::judge`), trained first on the data folder's training images.

use crate::cli::JudgeArgs;
use crate::{data, device, judge};
use anyhow::{Result, bail};
use serde::Serialize;
use std::time::Instant;
use super::load_mnist;

#[derive(Serialize)]
struct ClassifierReport {
    train_images: usize,
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
    #[serde(flatten)]
    verdict: judge::Verdict,
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
    files: Vec<FileReport>,
}

pub fn run(a: JudgeArgs) -> Result<()> {
    if a.samples.is_empty() && a.inpainted.is_empty() {
        bail!("nothing to judge: give IDX files of generated digits, or --inpainted FILE (see trainer judge --help)");
    }
    // Every file is read and checked before the classifier trains.
    let m = load_mnist(&a.data_dir)?;
    let mut inputs = Vec::new();
    for path in &a.samples {
        let images = data::read_images(path)?;
        judge::check_size(&images, &path.display().to_string())?;
        inputs.push((path, images, false));
    }
    for path in &a.inpainted {
        let images = data::read_images(path)?;
        judge::check_size(&images, &path.display().to_string())?;
        let k = a.completions;
        if images.count == 0 || !images.count.is_multiple_of(k) || images.count / k > m.test.labels.len() {
            bail!(
                "{} holds {} images: in-painted files hold --completions {k} completions of each of the first \
                 test images of {} ({} of them), image-major, as `trainer inpaint` writes them; give the right --completions",
                path.display(),
                images.count,
                m.test.path.display(),
                m.test.labels.len()
            );
        }
        inputs.push((path, images, true));
    }
    let chosen = device::choose(a.device.device)?;
    let started = Instant::now();
    let model = judge::train(&m.train.images, &m.train.labels, a.epochs, a.seed, &chosen.device.clone().autodiff(), a.json)?;
    let seconds = started.elapsed().as_secs_f64();
    let test_probs = judge::probabilities(&model, &m.test.images, &chosen.device);
    let threshold = a.threshold as f32;
    let test = judge::verdict(&test_probs, Some(&m.test.labels), threshold);
    let first = test_probs.len().min(1000);
    let test_digits = judge::verdict(&test_probs[..first], None, threshold);
    let files = inputs
        .into_iter()
        .map(|(path, images, inpainted)| {
            let probs = judge::probabilities(&model, &images, &chosen.device);
            let (verdict, originals, completions) = if inpainted {
                let originals = images.count / a.completions;
                let labels = &m.test.labels[..originals];
                (judge::verdict(&probs, Some(labels), threshold), Some(judge::verdict(&test_probs[..originals], Some(labels), threshold)), Some(a.completions))
            } else {
                (judge::verdict(&probs, None, threshold), None, None)
            };
            FileReport { path: path.display().to_string(), kind: if inpainted { "inpainted" } else { "samples" }, completions, verdict, originals }
        })
        .collect();
    let report = JudgeReport {
        device: chosen.name.clone(),
        threshold: a.threshold,
        classifier: ClassifierReport {
            train_images: m.train.images.count,
            epochs: a.epochs,
            seconds,
            test_accuracy: test.label_kept.expect("labels given"),
            test_images: test.images,
        },
        test_digits,
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
        "judge: trained on {} images ({} epochs, {:.0} s), {:.1}% of {} test images right; \"a digit\": one class at probability {} or more",
        c.train_images,
        c.epochs,
        c.seconds,
        100.0 * c.test_accuracy,
        c.test_images,
        r.threshold
    );
    println!("{:>7.1}% of the first {} test images judged digits (real digits, for scale)", 100.0 * r.test_digits.judged_digits, r.test_digits.images);
    for f in &r.files {
        let v = &f.verdict;
        print!("{}: {} images, {:.1}% judged digits", f.path, v.images, 100.0 * v.judged_digits);
        if let (Some(kept), Some(o)) = (v.label_kept, &f.originals) {
            print!(", {:.1}% keep the original's digit (the originals: {:.1}%)", 100.0 * kept, 100.0 * o.label_kept.unwrap_or(0.0));
        }
        println!("; most likely class 0-9: {:?}", v.classes);
    }
}

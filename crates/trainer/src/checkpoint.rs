//! Checkpoints: the model, the optimizer and the run's state, written at a steady interval and
//! on Ctrl-C so that `train --resume` continues where a run stopped. The state is written last
//! and holds checksums of the other two parts, so a checkpoint cut short is refused.

use crate::report::MaskMixRecord;
use crate::train::{TrainOptions, ensure_same_shape};
use crate::{files, optim};
use anyhow::{Context, Result, bail};
use autoregress::batch::MaskMix;
use autoregress::burn::module::Module;
use autoregress::burn::optim::ModuleOptimizer;
use autoregress::burn::store::burn_pack::Bytes;
use autoregress::burn::tensor::Device;
use autoregress::{ArModel, weights};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// FNV-1a, 64 bits: a checksum tying a checkpoint's parts together.
fn fnv64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// A checkpoint folder: `model.bpk`, `optim.bpk`, then `state.json`.
pub struct Checkpoint<'a> {
    pub dir: &'a PathBuf,
}

/// A checkpoint's `state.json`. Written last, it names the other parts by checksum (FNV-1a,
/// 16 hex digits): a checkpoint whose write was cut short is refused, never resumed from
/// mismatched parts.
#[derive(Serialize, Deserialize)]
struct CheckpointState {
    /// Absent in checkpoints older than the checksums: those are refused.
    model_fnv64: Option<String>,
    optim_fnv64: Option<String>,
    /// The model's name (`ModelKind::name`).
    model: String,
    /// Optimizer steps done.
    step: usize,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    seed: u64,
    /// Training seconds so far, over every resumed part of the run.
    elapsed_s: f64,
    /// The mask families of an any-order model (absent: the default).
    mask_mix: Option<MaskMixRecord>,
}

/// What a checkpoint resumes.
pub struct Resumed {
    pub model: ArModel,
    pub optim: ModuleOptimizer,
    pub step: usize,
    pub elapsed_s: f64,
    pub opts: TrainOptions,
}

impl Checkpoint<'_> {
    pub fn save(&self, model: &ArModel, optim: &ModuleOptimizer, step: usize, opts: &TrainOptions, elapsed: f64) -> Result<()> {
        let dir = self.dir;
        let model_bytes = weights::to_bytes(model)?;
        files::write(&dir.join("model.bpk"), &model_bytes)?;
        let optim_bytes = optim.into_bytes().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        files::write(&dir.join("optim.bpk"), &optim_bytes)?;
        let state = CheckpointState {
            model_fnv64: Some(format!("{:016x}", fnv64(&model_bytes))),
            optim_fnv64: Some(format!("{:016x}", fnv64(&optim_bytes))),
            model: model.spec.kind.name().to_string(),
            step,
            epochs: opts.epochs,
            batch_size: opts.batch_size,
            lr: opts.lr,
            seed: opts.seed,
            elapsed_s: elapsed,
            mask_mix: Some(opts.mask_mix.into()),
        };
        files::write_json(&dir.join("state.json"), &state)
    }

    /// The model, optimizer, step, elapsed seconds and options stored in the checkpoint folder.
    pub fn load(&self, model: &ArModel, device: &Device) -> Result<Resumed> {
        let dir = self.dir;
        let state_path = dir.join("state.json");
        let state: CheckpointState = serde_json::from_slice(&files::read(&state_path).context(
            "nothing to resume from: train without --resume first, or point --checkpoint-dir at a run",
        )?)
        .with_context(|| format!("{} is not a checkpoint state this trainer wrote", state_path.display()))?;
        if state.model != model.spec.kind.name() {
            bail!(
                "the checkpoint in {} is of the {} model, this run trains {}: use another --checkpoint-dir",
                dir.display(),
                state.model,
                model.spec.kind.name()
            );
        }
        let bytes = files::read(&dir.join("model.bpk"))?;
        let optim_bytes = files::read(&dir.join("optim.bpk"))?;
        for (part, bytes, key, stored) in [
            ("model.bpk", &bytes, "model_fnv64", &state.model_fnv64),
            ("optim.bpk", &optim_bytes, "optim_fnv64", &state.optim_fnv64),
        ] {
            let stored = stored.as_deref().with_context(|| {
                format!(
                    "the checkpoint in {} predates checksums of its parts ({key} missing in state.json): \
                     it cannot be checked, so it is not resumed; start again without --resume",
                    dir.display()
                )
            })?;
            if stored != format!("{:016x}", fnv64(bytes)) {
                bail!(
                    "the checkpoint in {}: {part} is not the one state.json was written with (a write cut short?): \
                     its parts disagree, so it cannot be resumed; start again without --resume",
                    dir.display()
                );
            }
        }
        let loaded = weights::from_bytes(&bytes, Some(model.spec.kind), device)
            .with_context(|| format!("{}: unusable checkpoint", dir.join("model.bpk").display()))?;
        ensure_same_shape(&loaded.spec, &model.spec)
            .with_context(|| format!("the checkpoint in {}: use another --checkpoint-dir", dir.display()))?;
        let optim = optim::adam()
            .from_bytes(Bytes::from_bytes_vec(optim_bytes))
            .map_err(|e| anyhow::anyhow!("{}: unusable optimizer state: {e:?}", dir.join("optim.bpk").display()))?;
        let opts = TrainOptions {
            epochs: state.epochs,
            batch_size: state.batch_size,
            lr: state.lr,
            seed: state.seed,
            checkpoint_dir: dir.clone(),
            checkpoint_every: Duration::ZERO,
            resume: true,
            mask_mix: state.mask_mix.map_or_else(|| MaskMix::default_for(model.spec.kind), MaskMix::from),
            log_every: 0,
            quiet: false,
        };
        Ok(Resumed { model: loaded.train(), optim, step: state.step, elapsed_s: state.elapsed_s, opts })
    }
}

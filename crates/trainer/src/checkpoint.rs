//! Checkpoints: the model, the optimizer and the run's state, written at a steady interval and
//! on Ctrl-C so that `train --resume` continues where a run stopped. The state is written last
//! and holds checksums of the other two parts, so a checkpoint cut short is refused.

use crate::report::MaskMixRecord;
use crate::train::{History, TrainOptions, ensure_same_shape};
use crate::files;
use autoregress::train::adam as optim;
use autoregress::train::LrSchedule;
use anyhow::{Context, Result, bail};
use autoregress::batch::MaskMix;
use autoregress::burn::module::Module;
use autoregress::burn::optim::ModuleOptimizer;
use autoregress::burn::store::burn_pack::Bytes;
use autoregress::burn::tensor::Device;
use autoregress::{ArModel, ModelKind, weights};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
    /// Toy models: the training sequences drawn (absent in older checkpoints: the run's option).
    #[serde(default)]
    train_size: Option<usize>,
    /// The recipe named with `train --recipe`.
    #[serde(default)]
    recipe: Option<String>,
    /// Warm-up steps (absent in older checkpoints: none).
    #[serde(default)]
    warmup_steps: usize,
    /// The cosine's final learning rate as a fraction of the peak (absent in older checkpoints:
    /// a tenth).
    #[serde(default = "a_tenth")]
    final_lr_fraction: f64,
    /// `train --fresh-data` (absent in older checkpoints: not given).
    #[serde(default)]
    fresh_data: bool,
    /// The `--init` weights and their runs (absent: a run from scratch, or an older checkpoint).
    #[serde(default)]
    history: History,
}

fn a_tenth() -> f64 {
    LrSchedule::COSINE_TO_A_TENTH.final_fraction
}

/// What a checkpoint resumes (its options: [`Checkpoint::resume_options`]).
pub struct Resumed {
    pub model: ArModel,
    pub optim: ModuleOptimizer,
    pub step: usize,
    pub elapsed_s: f64,
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
            train_size: opts.train_size,
            recipe: opts.recipe.clone(),
            warmup_steps: opts.schedule.warmup_steps,
            final_lr_fraction: opts.schedule.final_fraction,
            fresh_data: opts.fresh_data,
            history: opts.history.clone(),
        };
        files::write_json(&dir.join("state.json"), &state)
    }

    /// The checkpoint's `state.json`, checked to be of `kind`'s model.
    fn state(&self, kind: ModelKind) -> Result<CheckpointState> {
        let dir = self.dir;
        let state_path = dir.join("state.json");
        let state: CheckpointState = serde_json::from_slice(&files::read(&state_path).context(
            "nothing to resume from: train without --resume first, or point --checkpoint-dir at a run",
        )?)
        .with_context(|| format!("{} is not a checkpoint state this trainer wrote", state_path.display()))?;
        if state.model != kind.name() {
            bail!(
                "the checkpoint in {} is of the {} model, this run trains {}: use another --checkpoint-dir",
                dir.display(),
                state.model,
                kind.name()
            );
        }
        Ok(state)
    }

    /// The options of the run being resumed: `given`, with the settings the run started with
    /// (epochs, batch size, learning rate and its schedule, seed, mask mix, toy training size, recipe, the
    /// `--init` weights and their history) in place
    /// of the command line's, so that it continues as it began and its record says so.
    pub fn resume_options(&self, kind: ModelKind, given: &TrainOptions) -> Result<TrainOptions> {
        let state = self.state(kind)?;
        Ok(TrainOptions {
            epochs: state.epochs,
            batch_size: state.batch_size,
            lr: state.lr,
            seed: state.seed,
            mask_mix: state.mask_mix.map_or(given.mask_mix, MaskMix::from),
            train_size: state.train_size.or(given.train_size),
            recipe: state.recipe,
            schedule: LrSchedule { warmup_steps: state.warmup_steps, final_fraction: state.final_lr_fraction },
            fresh_data: state.fresh_data,
            history: state.history,
            resume: true,
            ..given.clone()
        })
    }

    /// The model, optimizer, step and elapsed seconds stored in the checkpoint folder.
    pub fn load(&self, model: &ArModel, device: &Device) -> Result<Resumed> {
        let dir = self.dir;
        let state = self.state(model.spec.kind)?;
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
        Ok(Resumed { model: loaded.train(), optim, step: state.step, elapsed_s: state.elapsed_s })
    }
}

/// A checkpoint folder held by one run at a time: an exclusive lock on `run.lock` in it, which
/// the operating system releases when the process ends however it ends (Ctrl-C, a crash, a
/// kill); the file names the process and its weights for the message a second run gets. It
/// stays when the run ends (removing it could let two later runs lock two different files).
pub struct RunLock {
    /// Held open: closing it releases the lock.
    _file: std::fs::File,
}

/// What `run.lock` says.
#[derive(Serialize, Deserialize)]
struct LockRecord {
    pid: u32,
    /// The weights the run will write.
    out: String,
    /// Seconds since the Unix epoch.
    started: u64,
}

impl RunLock {
    /// Takes `dir` (creating it) for this run, which writes `out`.
    ///
    /// # Errors
    /// When another run holds it: the message names the folder and that run.
    pub fn take(dir: &Path, out: &Path) -> Result<RunLock> {
        use std::io::{Read, Seek, Write};
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the checkpoint folder {}", dir.display()))?;
        let path = dir.join("run.lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let other = serde_json::from_str::<LockRecord>(&text).map_or_else(
                    |_| "another run".to_string(),
                    |o| format!("another run (process {}, writing {}, started {} s ago)", o.pid, o.out, now.saturating_sub(o.started)),
                );
                bail!(
                    "the checkpoint folder {} belongs to {other}, still in progress: give this run its own \
                     --checkpoint-dir (or --report-dir), or wait for that run to end",
                    dir.display()
                );
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
        let record = LockRecord { pid: std::process::id(), out: files::shown(out), started: now };
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(&files::json(&record).expect("a plain record")))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(RunLock { _file: file })
    }
}

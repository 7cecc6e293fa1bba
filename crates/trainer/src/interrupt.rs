//! Ctrl-C during `train`: what it interrupts depends on the phase. Training: stop at the next
//! step and save a checkpoint (a second Ctrl-C quits at once, but never mid-save). The final
//! evaluation: quit, nothing written yet, the model is in the checkpoint. The final write of
//! weights and metrics: finish it, then quit. After: quit; only samples and pictures are cut.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Set by the first Ctrl-C while training: the loop stops at its next step.
pub static STOP: AtomicBool = AtomicBool::new(false);
static PHASE: AtomicU8 = AtomicU8::new(Phase::Training as u8);
/// Set while a checkpoint is being written.
static SAVING: AtomicBool = AtomicBool::new(false);
/// A second Ctrl-C during a save: quit once the checkpoint is whole.
static QUIT_AFTER_SAVE: AtomicBool = AtomicBool::new(false);
/// Ctrl-C during the final write: quit once it is done.
static QUIT_AFTER_WRITE: AtomicBool = AtomicBool::new(false);
static CHECKPOINT_DIR: OnceLock<PathBuf> = OnceLock::new();

/// Where a run of `train` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Training = 0,
    /// The final evaluation (nothing written yet).
    Finishing = 1,
    /// Writing the weights and metrics.
    Writing = 2,
    /// Samples and pictures.
    Done = 3,
}

/// Installs the handler; `checkpoint_dir` is named when the final evaluation is interrupted.
pub fn install(checkpoint_dir: &Path) -> Result<()> {
    let _ = CHECKPOINT_DIR.set(checkpoint_dir.to_path_buf());
    ctrlc::set_handler(on_ctrl_c).context("cannot install the Ctrl-C handler")
}

pub fn enter(phase: Phase) {
    PHASE.store(phase as u8, Ordering::SeqCst);
}

/// Runs `save` marked as a checkpoint save, which Ctrl-C never cuts short.
pub fn saving<T>(save: impl FnOnce() -> T) -> T {
    SAVING.store(true, Ordering::SeqCst);
    let result = save();
    SAVING.store(false, Ordering::SeqCst);
    result
}

pub fn quit_after_save() -> bool {
    QUIT_AFTER_SAVE.load(Ordering::SeqCst)
}

pub fn quit_after_write() -> bool {
    QUIT_AFTER_WRITE.load(Ordering::SeqCst)
}

fn on_ctrl_c() {
    match PHASE.load(Ordering::SeqCst) {
        p if p == Phase::Training as u8 => {
            if STOP.swap(true, Ordering::SeqCst) {
                if SAVING.load(Ordering::SeqCst) {
                    // Quitting mid-save would leave a checkpoint whose parts disagree.
                    QUIT_AFTER_SAVE.store(true, Ordering::SeqCst);
                    eprintln!("\nfinishing the checkpoint being saved, then quitting");
                    return;
                }
                std::process::exit(130);
            }
            eprintln!("\nstopping: saving a checkpoint (Ctrl-C again to quit at once)");
        }
        p if p == Phase::Finishing as u8 => {
            let dir = CHECKPOINT_DIR.get().map(|d| d.display().to_string()).unwrap_or_default();
            eprintln!(
                "\ninterrupted after training: no weights or metrics written; the trained model is in the \
                 checkpoint {dir}: run the same command with --resume to evaluate and write it"
            );
            std::process::exit(130);
        }
        p if p == Phase::Writing as u8 => {
            QUIT_AFTER_WRITE.store(true, Ordering::SeqCst);
            eprintln!("\nfinishing the write of the weights and metrics, then quitting");
        }
        _ => {
            eprintln!("\ninterrupted: the weights and metrics are written; only the samples and pictures were cut short");
            std::process::exit(130);
        }
    }
}

//! Each command's body, one file a command; `cli.rs` parses and validates the arguments and
//! calls `run` here. The work itself lives in the focused modules (`crate::train`,
//! `crate::eval`, `crate::bench`, `crate::sample`).

pub mod bench;
pub mod eval;
pub mod inpaint;
pub mod pictures;
pub mod sample;
pub mod train;

use crate::cli::Model;
use crate::{data, files};
use anyhow::{Result, bail};
use std::path::PathBuf;

pub(crate) fn runs_dir(model: Model) -> PathBuf {
    files::repo_root().join("runs").join(model.name())
}

pub(crate) fn load_mnist(dir: &Option<PathBuf>) -> Result<data::Mnist> {
    let dir = dir.clone().unwrap_or_else(data::default_dir);
    data::load(&dir)
}

/// `value` of option `name` is at least 1, or the trainer's message for it.
pub(crate) fn check_positive(name: &str, value: usize) -> Result<()> {
    if value == 0 {
        bail!("{name} must be at least 1");
    }
    Ok(())
}

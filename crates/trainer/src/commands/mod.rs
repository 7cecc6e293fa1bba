//! Each command's body, one file a command; `cli.rs` parses and validates the arguments and
//! calls `run` here. The work itself lives in the focused modules (`crate::train`,
//! `crate::eval`, `crate::bench`, `crate::outputs`).

pub mod bench;
pub mod eval;
pub mod inpaint;
pub mod judge;
pub mod pictures;
pub mod sample;
pub mod train;

use autoregress::ModelKind;
use crate::cli::WeightsArgs;
use crate::device::{self, Chosen};
use crate::{data, files};
use autoregress::ArModel;
use anyhow::Result;
use std::path::PathBuf;

/// Where the page loads `kind`'s weights from.
pub(crate) fn default_weights(kind: ModelKind) -> PathBuf {
    files::repo_root().join(format!("web/weights/{}.bpk", kind.name()))
}

pub(crate) fn runs_dir(model: ModelKind) -> PathBuf {
    files::repo_root().join("runs").join(model.name())
}

pub(crate) fn load_mnist(dir: &Option<PathBuf>) -> Result<data::Mnist> {
    let dir = dir.clone().unwrap_or_else(data::default_dir);
    data::load(&dir)
}

/// The device chosen, the weights' path and the model loaded from it, for a command that reads
/// `kind`'s weights.
pub(crate) fn load(kind: ModelKind, args: &WeightsArgs) -> Result<(Chosen, PathBuf, ArModel)> {
    let chosen = device::choose(args.device.device)?;
    let path = args.weights.clone().unwrap_or_else(|| default_weights(kind));
    let model = files::load_weights(&path, kind, &chosen.device)?;
    Ok((chosen, path, model))
}

//! Each command's body, one file a command; `cli.rs` parses and validates the arguments and
//! calls `run` here. The work itself lives in the focused modules (`crate::train`,
//! `crate::eval`, `crate::bench`, `crate::outputs`).

pub mod bench;
pub mod convert;
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

/// Where the page loads `kind`'s weights from, in the checkout the trainer runs in; `option`
/// is the one to pass outside a checkout.
pub(crate) fn default_weights(kind: ModelKind, option: &str) -> Result<PathBuf> {
    files::in_checkout(format!("web/weights/{}.bpk", kind.name()), option)
}

/// `runs/<model>` in the checkout the trainer runs in: the default folder of generated files.
pub(crate) fn runs_dir(model: ModelKind, option: &str) -> Result<PathBuf> {
    files::in_checkout(format!("runs/{}", model.name()), option)
}

pub(crate) fn load_mnist(dir: &Option<PathBuf>) -> Result<data::Mnist> {
    let dir = match dir {
        Some(dir) => dir.clone(),
        None => data::default_dir()?,
    };
    data::load(&dir)
}

/// `--weights`, or the committed weights of `kind` when it is not given.
pub(crate) fn weights_path(kind: ModelKind, given: &Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(path) => Ok(path.clone()),
        None => default_weights(kind, "--weights"),
    }
}

/// The device chosen, the weights' path and the model loaded from it, for a command that reads
/// `kind`'s weights.
pub(crate) fn load(kind: ModelKind, args: &WeightsArgs) -> Result<(Chosen, PathBuf, ArModel)> {
    let chosen = device::choose(args.device.device)?;
    let path = weights_path(kind, &args.weights)?;
    let model = files::load_weights(&path, kind, &chosen.device)?;
    Ok((chosen, path, model))
}

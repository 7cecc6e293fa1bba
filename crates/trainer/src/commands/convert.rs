//! `trainer convert`: the same weights in another storage (`autoregress::weights::Storage`).

use super::weights_path;
use crate::cli::ConvertArgs;
use crate::files;
use anyhow::{bail, Result};
use autoregress::burn::tensor::Device;

pub fn run(a: ConvertArgs) -> Result<()> {
    let input = weights_path(a.model, &a.weights)?;
    // Rounding to f16 in place would lose the exact weights for good.
    if same_file(&input, &a.out) {
        bail!("--out {} is the input weights: write the converted weights to another file", a.out.display());
    }
    files::check_writable(&a.out)?;
    let model = files::load_weights(&input, a.model, &Device::flex())?;
    let bytes = autoregress::weights::to_bytes_as(&model, a.storage)?;
    files::write(&a.out, &bytes)?;
    let before = std::fs::metadata(&input).map(|m| m.len()).unwrap_or(0);
    println!(
        "wrote {} ({} bytes, {} storage) from {} ({} bytes)",
        a.out.display(),
        bytes.len(),
        a.storage,
        input.display(),
        before
    );
    Ok(())
}

/// Whether `a` and `b` name one file (through links and relative paths); false when `b` does not exist.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

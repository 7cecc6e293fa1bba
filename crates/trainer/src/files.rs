//! File helpers with messages that name the file and say what to do.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The repository root (the trainer's defaults live there: vendored data, the page's weights).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).to_path_buf()
}

/// `prefix` with `suffix` appended: an output name is a prefix, so a dot in it (`runs/t0.5`) is
/// kept, never taken for an extension.
pub fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Writes `bytes` to `path`'s temporary file (creating the folder), ready to be renamed into place.
fn stage(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let tmp = with_suffix(path, ".partial");
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(tmp)
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = stage(path, bytes)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write(path, &json(value)?)
}

/// `value` as the JSON files here hold it: pretty, with a final newline.
pub fn json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    Ok((serde_json::to_string_pretty(value)? + "\n").into_bytes())
}

/// The file that goes with weights `weights` (`x.bpk` -> `x.<what>`; any other name gets
/// `.<what>` appended, so a dot in it is kept).
pub fn beside(weights: &Path, what: &str) -> PathBuf {
    let stem = if weights.extension().is_some_and(|e| e == "bpk") { weights.with_extension("") } else { weights.to_path_buf() };
    with_suffix(&stem, &format!(".{what}"))
}

/// Checks, before any long work, that `path` can be written: not a folder, its folder creatable,
/// a file writable there. Leaves nothing behind.
pub fn check_writable(path: &Path) -> Result<()> {
    let as_text = path.to_string_lossy();
    if path.is_dir() || as_text.ends_with('/') || as_text.ends_with(std::path::MAIN_SEPARATOR) {
        bail!("{} is a folder: give a file name for this output", path.display());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {} for {}", dir.display(), path.display()))?;
    }
    let probe = with_suffix(path, ".partial");
    std::fs::write(&probe, b"").with_context(|| format!("cannot write {}: choose another location", path.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes two files that belong together, all or nothing: both go to temporary files first and
/// are renamed only once both are complete.
pub fn write_pair(a: (&Path, &[u8]), b: (&Path, &[u8])) -> Result<()> {
    let first = stage(a.0, a.1)?;
    let second = stage(b.0, b.1).inspect_err(|_| {
        let _ = std::fs::remove_file(&first);
    })?;
    for (tmp, path) in [(first, a.0), (second, b.0)] {
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Loads weights, naming the file in any error.
pub fn load_weights(
    path: &Path,
    kind: autoregress::ModelKind,
    device: &autoregress::burn::tensor::Device,
) -> Result<autoregress::ArModel> {
    let bytes = std::fs::read(path).with_context(|| {
        format!("cannot read weights {}: train a model first (see README) or pass --weights FILE", path.display())
    })?;
    autoregress::weights::from_bytes(&bytes, Some(kind), device)
        .with_context(|| format!("{} is not usable weights of the {} model", path.display(), kind.name()))
}

/// A raster as PNG bytes.
pub fn png(raster: &autoregress::render::Raster) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, raster.width as u32, raster.height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header to memory");
    writer.write_image_data(&raster.rgb()).expect("PNG data to memory");
    writer.finish().expect("PNG end to memory");
    out
}

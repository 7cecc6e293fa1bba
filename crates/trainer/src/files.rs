//! File helpers with messages that name the file and say what to do.

use anyhow::{Context, Result};
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

/// Writes through a temporary file and a rename, so a crash never leaves half a file.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let tmp = with_suffix(path, ".partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    write(path, (serde_json::to_string_pretty(value)? + "\n").as_bytes())
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

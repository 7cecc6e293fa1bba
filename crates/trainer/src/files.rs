//! File helpers with messages that name the file and say what to do.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// The environment variable that names the checkout the trainer's defaults come from.
pub const ROOT_VAR: &str = "AUTOREGRESS_ROOT";

/// Whether `dir` is a checkout of this project (its library's crate and the page's weights).
fn is_checkout(dir: &Path) -> bool {
    dir.join("crates/autoregress/Cargo.toml").is_file() && dir.join("web/weights").is_dir()
}

/// The checkout the trainer's defaults live in (the vendored data, the page's weights, `runs/`),
/// found when the program runs, never fixed when it is built: `$AUTOREGRESS_ROOT` if set, else
/// the nearest checkout at or above the current directory. `None` outside any checkout.
fn checkout() -> Result<Option<PathBuf>> {
    if let Some(root) = std::env::var_os(ROOT_VAR).filter(|r| !r.is_empty()) {
        let root = PathBuf::from(root);
        if !is_checkout(&root) {
            bail!("{ROOT_VAR}={} is not a checkout of this project (no crates/autoregress or web/weights there)", root.display());
        }
        return Ok(Some(root));
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(cwd.ancestors().find(|d| is_checkout(d)).map(Path::to_path_buf))
}

/// `relative` inside the checkout, the default of `option`; an error that says what to do
/// outside a checkout.
pub fn in_checkout(relative: impl AsRef<Path>, option: &str) -> Result<PathBuf> {
    match checkout()? {
        Some(root) => Ok(root.join(relative)),
        None => bail!(
            "{} is not inside a checkout of this project, so there is no default for {option} ({}): \
             run from the checkout, set {ROOT_VAR} to it, or pass {option}",
            std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| "the current directory".into()),
            relative.as_ref().display()
        ),
    }
}

/// `path` as records and messages show it: relative to the checkout when it lies inside it
/// (records move between machines), else as given.
pub fn shown(path: &Path) -> String {
    // Both sides resolved (links, `..`, a relative root), the file's folder when it does not
    // exist yet.
    let resolve = |p: &Path| -> Option<PathBuf> {
        let absolute = std::path::absolute(p).ok()?;
        std::fs::canonicalize(&absolute).ok().or_else(|| {
            let dir = std::fs::canonicalize(absolute.parent()?).ok()?;
            Some(dir.join(absolute.file_name()?))
        })
    };
    let inside = checkout().ok().flatten().and_then(|root| {
        let (root, path) = (resolve(&root)?, resolve(path)?);
        path.strip_prefix(&root).ok().map(Path::to_path_buf)
    });
    inside.unwrap_or_else(|| path.to_path_buf()).display().to_string()
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

/// Where a write to `path` lands: `path` itself or, when it is a symbolic link, the file it
/// points to (through any chain of links), so that a write replaces the target's content and
/// keeps the link.
fn write_target(path: &Path) -> Result<PathBuf> {
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&target).with_context(|| format!("cannot read the link {}", target.display()))?;
                target = match target.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(target),
        }
    }
    bail!("{}: too many levels of symbolic links", path.display())
}

/// A temporary name beside `path`, unique to this process and call: two writers of the same
/// file never share one.
fn temporary(path: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    with_suffix(path, &format!(".{}-{n}.partial", std::process::id()))
}

/// Writes `bytes` to a temporary file beside `path`'s target (creating the folder); returns it and
/// the target, ready for the rename into place.
fn stage(path: &Path, bytes: &[u8]) -> Result<(PathBuf, PathBuf)> {
    let target = write_target(path)?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let tmp = temporary(&target);
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok((tmp, target))
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file. A link is
/// followed: its target gets the bytes.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let (tmp, target) = stage(path, bytes)?;
    std::fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", path.display()))
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

/// Checks, before any long work, that `path` can be written: not a folder, no file where a
/// folder must be, a file writable in the nearest folder that exists. Creates nothing and leaves
/// nothing behind, so a command refused later leaves no trace.
pub fn check_writable(path: &Path) -> Result<()> {
    let as_text = path.to_string_lossy();
    if path.is_dir() || as_text.ends_with('/') || as_text.ends_with(std::path::MAIN_SEPARATOR) {
        bail!("{} is a folder: give a file name for this output", path.display());
    }
    let target = write_target(path)?;
    let parent = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let existing = parent.ancestors().find(|d| d.as_os_str().is_empty() || d.exists()).unwrap_or(Path::new("."));
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    if !existing.is_dir() {
        bail!("{} is a file, not a folder: cannot write {} there; choose another location", existing.display(), path.display());
    }
    let probe = temporary(&existing.join(".write-check"));
    std::fs::write(&probe, b"").with_context(|| format!("cannot write {}: choose another location", path.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Writes two files that belong together, all or nothing: both go to temporary files first and
/// are renamed only once both are complete.
pub fn write_pair(a: (&Path, &[u8]), b: (&Path, &[u8])) -> Result<()> {
    let first = stage(a.0, a.1)?;
    let second = stage(b.0, b.1).inspect_err(|_| {
        let _ = std::fs::remove_file(&first.0);
    })?;
    for ((tmp, target), path) in [(first, a.0), (second, b.0)] {
        std::fs::rename(&tmp, &target).with_context(|| format!("cannot write {}", path.display()))?;
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

//! MNIST-format data sets from a folder of the four standard IDX files, gzip or raw: MNIST itself
//! (a 10,000-image subset is vendored in data/mnist) or Fashion-MNIST.

use crate::files;
use anyhow::{Context, Result, bail};
use autoregress::ModelSpec;
use autoregress::data::idx::{Images, labels_from_idx};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Images and their labels (the generative models ignore labels; the judge trains on them).
pub struct Split {
    /// The images file, for messages.
    pub path: PathBuf,
    pub images: Images,
    pub labels: Vec<u8>,
}

pub struct Mnist {
    pub train: Split,
    pub test: Split,
}

/// The vendored data folder of the checkout the trainer runs in (`--data-dir`'s default).
pub fn default_dir() -> Result<PathBuf> {
    files::in_checkout("data/mnist", "--data-dir")
}

/// `name` or `name.gz` in `dir`.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if raw.is_file() {
        Ok(raw)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        bail!(
            "{} has no {name} (nor {name}.gz): a data folder needs the four standard MNIST files \
             (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)",
            dir.display()
        )
    }
}

/// The file's bytes, gunzipped when it is gzip (every member of a multi-member file, as
/// `cat a.gz b.gz`, bgzip and parallel compressors write).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let bytes = files::read(path)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // No MNIST-format file comes near this; a gzip bomb would otherwise fill the memory.
        const LIMIT: u64 = 1 << 30;
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(LIMIT + 1)
            .read_to_end(&mut out)
            .with_context(|| format!("{}: damaged gzip data", path.display()))?;
        if out.len() as u64 > LIMIT {
            bail!("{}: the gzip data unpacks to more than 1 GiB: not an MNIST-format file", path.display());
        }
        Ok(out)
    } else {
        Ok(bytes)
    }
}

/// Images from `source` must have the size the weights at `weights` were trained for: checked
/// before any work, naming both.
pub fn check_geometry(images: &Images, source: &Path, spec: &ModelSpec, weights: &Path) -> Result<()> {
    let (h, w) = (spec.height(), spec.width);
    if (images.rows, images.cols) != (h, w) {
        bail!(
            "{} holds {}x{} images, the weights {} are for {h}x{w}: use images of the model's size",
            source.display(),
            images.rows,
            images.cols,
            weights.display()
        );
    }
    Ok(())
}

pub fn read_images(path: &Path) -> Result<Images> {
    Images::from_idx(&read_maybe_gzip(path)?).with_context(|| format!("{}: not an IDX image file", path.display()))
}

fn read_split(dir: &Path, prefix: &str) -> Result<Split> {
    let image_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let label_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = read_images(&image_path)?;
    let labels = labels_from_idx(&read_maybe_gzip(&label_path)?)
        .with_context(|| format!("{}: not an IDX label file", label_path.display()))?;
    if images.count != labels.len() {
        bail!(
            "{} holds {} images but {} holds {} labels: the counts must agree",
            image_path.display(),
            images.count,
            label_path.display(),
            labels.len()
        );
    }
    if images.count == 0 {
        bail!("{} holds no images", image_path.display());
    }
    Ok(Split { path: image_path, images, labels })
}

pub fn load(dir: &Path) -> Result<Mnist> {
    if !dir.is_dir() {
        bail!("data folder {} does not exist (pass --data-dir with the four MNIST files)", dir.display());
    }
    let train = read_split(dir, "train")?;
    let test = read_split(dir, "t10k")?;
    let (a, b) = (&train.images, &test.images);
    if (a.rows, a.cols) != (b.rows, b.cols) {
        bail!(
            "{}: training images are {}x{} but test images {}x{}",
            dir.display(),
            a.rows,
            a.cols,
            b.rows,
            b.cols
        );
    }
    Ok(Mnist { train, test })
}

//! What a model is besides its weights: which network ([`ModelKind`]), the data's shape and
//! normalization ([`ModelSpec`]), and the checks that a network can take that shape.

use super::{dilated, mnist, toy, unet};
use std::str::FromStr;

/// Which network. Its [`name`](ModelKind::name) is the one the trainer's command line, the page
/// and weights files use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// The lecture's Conv1d network for the toy sequences (next value only).
    Toy,
    /// The lecture's LeNet-like Conv2d network for 28x28 digits in raster order (next value only).
    Mnist,
    /// Our order-agnostic dilated Conv1d network for the toy sequences (every position).
    ToyAnyOrder,
    /// Our order-agnostic U-Net for images (every pixel).
    MnistAnyOrder,
}

impl ModelKind {
    /// Every kind, lecture models first.
    pub const ALL: [ModelKind; 4] = [ModelKind::Toy, ModelKind::Mnist, ModelKind::ToyAnyOrder, ModelKind::MnistAnyOrder];

    /// The model's one name: `toy`, `mnist`, `toy-any-order`, `mnist-any-order`.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Toy => "toy",
            ModelKind::Mnist => "mnist",
            ModelKind::ToyAnyOrder => "toy-any-order",
            ModelKind::MnistAnyOrder => "mnist-any-order",
        }
    }

    /// One line on what the model is (the trainer's `--help`).
    pub fn about(self) -> &'static str {
        match self {
            ModelKind::Toy => "Toy sequences (length T, 2T values) and the lecture's 1-D convnet",
            ModelKind::Mnist => "MNIST digits as 784-pixel sequences and the lecture's LeNet-like convnet",
            ModelKind::ToyAnyOrder => "Toy sequences and our order-agnostic dilated convnet (every position, any order)",
            ModelKind::MnistAnyOrder => "MNIST digits and our order-agnostic U-Net (every pixel, any order)",
        }
    }

    /// The kind named `name` (see [`ModelKind::name`]), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Whether the network predicts every position (any order), not only the next raster one.
    pub fn is_any_order(self) -> bool {
        matches!(self, ModelKind::ToyAnyOrder | ModelKind::MnistAnyOrder)
    }

    /// Whether the data are images (else toy sequences).
    pub fn is_image(self) -> bool {
        matches!(self, ModelKind::Mnist | ModelKind::MnistAnyOrder)
    }
}

/// A name that is no [`ModelKind`]'s.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("unknown model {0:?}: use toy, mnist, toy-any-order or mnist-any-order")]
pub struct UnknownModel(pub String);

impl FromStr for ModelKind {
    type Err = UnknownModel;

    fn from_str(name: &str) -> Result<Self, UnknownModel> {
        Self::from_name(name).ok_or_else(|| UnknownModel(name.to_string()))
    }
}

/// The largest number of values per position a spec may ask for.
pub const MAX_VALUES: usize = 1 << 16;
/// The longest sequence (the most pixels) a spec may ask for: 128x128 images.
pub const MAX_LEN: usize = 1 << 14;

/// Everything besides the weights that inference needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// Which network.
    pub kind: ModelKind,
    /// Sequence length: `T` for the toy, `height * width` for images.
    pub seq_len: usize,
    /// Image width (the toy: `seq_len`); an image has `seq_len / width` rows.
    pub width: usize,
    /// Number of values `C` each position takes (`0..C`): `2T` for the toy, 256 for images.
    pub num_values: usize,
    /// Training mean of the values (gray levels for images), used to normalize the input values
    /// ([`ArModel::normalize`](crate::ArModel::normalize)).
    pub mean: f32,
    /// Training standard deviation of the values, used to normalize the input values.
    pub std: f32,
}

/// Why a [`ModelSpec`] cannot be built into a network.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// The normalization is not finite, or its standard deviation is not positive.
    #[error("normalization must be finite with std > 0 (mean {mean}, std {std})")]
    Normalization {
        /// The mean asked for.
        mean: f32,
        /// The standard deviation asked for.
        std: f32,
    },
    /// Fewer than 2 values per position.
    #[error("{0} values: need at least 2")]
    TooFewValues(usize),
    /// More values or positions than [`MAX_VALUES`] and [`MAX_LEN`] (a damaged or hostile
    /// weights file must not ask for gigabytes).
    #[error("{num_values} values and sequences of {seq_len}: this project handles at most {MAX_VALUES} values and {MAX_LEN} positions")]
    TooLarge {
        /// Values per position asked for.
        num_values: usize,
        /// Positions asked for.
        seq_len: usize,
    },
    /// A toy sequence whose width is not its length (a toy sequence is one row).
    #[error("a toy sequence is one row: width {width} should be its length {seq_len}")]
    ToyWidth {
        /// Positions.
        seq_len: usize,
        /// Row width.
        width: usize,
    },
    /// An image whose length is not a whole number of rows.
    #[error("sequence length {seq_len} is not a whole number of rows of width {width}")]
    NotWholeRows {
        /// Positions.
        seq_len: usize,
        /// Row width.
        width: usize,
    },
    /// A toy sequence length the network cannot take.
    #[error("the {} network takes toy sequences of length {need}, not {len}", kind.name())]
    Length {
        /// The network.
        kind: ModelKind,
        /// The length asked for.
        len: usize,
        /// The lengths it takes, in words.
        need: String,
    },
    /// An image size the network cannot take.
    #[error("the {} network takes images {need}, not {height}x{width}", kind.name())]
    ImageSize {
        /// The network.
        kind: ModelKind,
        /// Rows asked for.
        height: usize,
        /// Columns asked for.
        width: usize,
        /// The sizes it takes, in words.
        need: String,
    },
}

impl ModelSpec {
    /// The lecture's toy problem for [`ModelKind::Toy`]: sequences of length `len`, `2 * len`
    /// values; `mean` and `std` of the training values (see [`crate::batch::mean_std`]).
    pub fn toy(len: usize, mean: f32, std: f32) -> Self {
        ModelSpec { kind: ModelKind::Toy, seq_len: len, width: len, num_values: 2 * len, mean, std }
    }

    /// The lecture's model [`ModelKind::Mnist`] for `height x width` gray images in raster order,
    /// 256 levels (0..=255); `mean` and `std` of the training pixels, in gray levels.
    pub fn mnist(height: usize, width: usize, mean: f32, std: f32) -> Self {
        Self::image(ModelKind::Mnist, height, width, mean, std)
    }

    /// The spec of `kind` for MNIST-sized data without reading it: 28x28 images normalized
    /// with [`MNIST_MEAN`](crate::data::MNIST_MEAN) and [`MNIST_STD`](crate::data::MNIST_STD)
    /// (bench, tests).
    pub fn mnist_sized(kind: ModelKind) -> Self {
        use crate::data::{MNIST_MEAN, MNIST_SIDE, MNIST_STD};
        Self::image(kind, MNIST_SIDE, MNIST_SIDE, MNIST_MEAN, MNIST_STD)
    }

    /// The spec for `kind` (toy: `width` is the length `T`, `height` is ignored, and there are
    /// `2T` values; images: 256 values).
    pub fn for_kind(kind: ModelKind, height: usize, width: usize, mean: f32, std: f32) -> Self {
        if kind.is_image() {
            Self::image(kind, height, width, mean, std)
        } else {
            ModelSpec { kind, ..Self::toy(width, mean, std) }
        }
    }

    fn image(kind: ModelKind, height: usize, width: usize, mean: f32, std: f32) -> Self {
        ModelSpec { kind, seq_len: height * width, width, num_values: 256, mean, std }
    }

    /// Rows of an image, `seq_len / width` (1 for the toy when `width` is `seq_len`).
    ///
    /// # Panics
    /// When `width` is 0, which [`ModelSpec::validate`] rejects.
    pub fn height(&self) -> usize {
        self.seq_len / self.width
    }

    /// Checks that the network of [`ModelSpec::kind`] can be built for this shape and that the
    /// normalization is usable.
    ///
    /// # Errors
    /// The [`SpecError`] that names the first problem found.
    pub fn validate(&self) -> Result<(), SpecError> {
        if !(self.std.is_finite() && self.std > 0.0 && self.mean.is_finite()) {
            return Err(SpecError::Normalization { mean: self.mean, std: self.std });
        }
        if self.num_values < 2 {
            return Err(SpecError::TooFewValues(self.num_values));
        }
        if self.num_values > MAX_VALUES || self.seq_len > MAX_LEN {
            return Err(SpecError::TooLarge { num_values: self.num_values, seq_len: self.seq_len });
        }
        if !self.kind.is_image() && self.width != self.seq_len {
            return Err(SpecError::ToyWidth { seq_len: self.seq_len, width: self.width });
        }
        if self.kind.is_image() && (self.width == 0 || !self.seq_len.is_multiple_of(self.width)) {
            return Err(SpecError::NotWholeRows { seq_len: self.seq_len, width: self.width });
        }
        let length = |need: Option<String>| match need {
            None => Ok(()),
            Some(need) => Err(SpecError::Length { kind: self.kind, len: self.seq_len, need }),
        };
        let size = |need: Option<String>| match need {
            None => Ok(()),
            Some(need) => Err(SpecError::ImageSize { kind: self.kind, height: self.height(), width: self.width, need }),
        };
        match self.kind {
            ModelKind::Toy => length(toy::unfit_len(self.seq_len)),
            ModelKind::ToyAnyOrder => length(dilated::unfit_len(self.seq_len)),
            ModelKind::Mnist => size(mnist::unfit_size(self.height(), self.width)),
            ModelKind::MnistAnyOrder => size(unet::unfit_size(self.height(), self.width)),
        }
    }
}

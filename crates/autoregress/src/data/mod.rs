//! Data: the lecture's toy sequences and MNIST's IDX files (as bytes; files are the trainer's).

pub mod idx;
pub mod toy;

/// The side of an MNIST image, in pixels.
pub const MNIST_SIDE: usize = 28;
/// The pixels of an MNIST image: the sequence length of the MNIST models.
pub const MNIST_PIXELS: usize = MNIST_SIDE * MNIST_SIDE;
/// The pixel mean (gray levels 0..=255) of the vendored training images, about what `train`
/// computes from them: for code that builds an MNIST model without the data (bench, tests).
pub const MNIST_MEAN: f32 = 33.3;
/// The pixel standard deviation to go with [`MNIST_MEAN`].
pub const MNIST_STD: f32 = 78.6;

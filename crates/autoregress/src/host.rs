//! Tensors read back to the host, synchronously: the trainer, the tests and the library's native
//! metrics. (The page reads asynchronously, as WebGPU requires: `crates/web`, `readback.rs`.)

use burn::tensor::{Int, Tensor};

/// The values of an integer tensor, row-major.
///
/// # Panics
/// If the device cannot be read synchronously (WebGPU in a browser).
pub fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().convert::<i64>().try_to_vec().expect("integer tensor data")
}

/// The values of a float tensor as `f32`, row-major.
///
/// # Panics
/// As [`ints`].
pub fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec().expect("float tensor data")
}

//! Categorical sampling from logits, batched and on the device.
//!
//! Gumbel-max: `argmax(logits / temperature + G)` with `G = -log(-log(U))` is an exact sample of
//! `softmax(logits / temperature)`, made of element-wise ops and one argmax, so generation never
//! reads back to the CPU between steps. It is computed as `argmax(logits + temperature * G)`, the
//! same argmax (a positive factor changes no order), so no temperature, however small, divides
//! the logits into infinities: a tiny temperature is greedy, as 0 is.
//!
//! The noise comes from the device's random generator: seed the device (as
//! [`crate::generate::Generation::step`] does) for reproducible draws.

use burn::tensor::{Distribution, Int, Tensor};

/// Draws one value per row of `logits` (`[B, C]`, unnormalized log-probabilities), giving `[B]`
/// values in `0..C`, each from `softmax(logits / temperature)` by Gumbel-max. A temperature of 0
/// (or below) takes the most likely value (argmax).
pub fn sample_rows(logits: Tensor<2>, temperature: f64) -> Tensor<1, Int> {
    let [b, _] = logits.dims();
    let picks = if temperature <= 0.0 {
        logits
    } else {
        gumbel_noise(&logits).mul_scalar(temperature) + logits
    };
    picks.argmax(1).reshape([b])
}

/// Standard Gumbel noise `-log(-log(U))` of `like`'s shape, on its device.
pub(crate) fn gumbel_noise<const D: usize>(like: &Tensor<D>) -> Tensor<D> {
    // Keep U away from 0 and 1 so that both logs stay finite in f32.
    let u = Tensor::<D>::random(like.shape(), Distribution::Uniform(1e-7, 1.0 - 1e-7), &like.device());
    u.log().neg().log().neg()
}

/// The lecture's batched sampler: `logits` of shape `M_1 x .. x M_K x C` and a sample shape
/// `N_1 x .. x N_L` give a tensor of shape `N_1 x .. x N_L x M_1 x .. x M_K` (so `DO = L + K`):
/// `N_1 * .. * N_L` independent draws from each of the `M_1 * .. * M_K` categorical
/// distributions, at `temperature` as in [`sample_rows`].
///
/// # Panics
/// When `DO` is not `sample_shape.len() + DI - 1`: that is a programming error, not bad input.
/// (`DI` must be at least 1: the last dimension holds the `C` logits.)
pub fn sample<const DI: usize, const DO: usize>(
    logits: Tensor<DI>,
    sample_shape: &[usize],
    temperature: f64,
) -> Tensor<DO, Int> {
    assert_eq!(
        DO,
        sample_shape.len() + DI - 1,
        "sample: output rank must be the sample shape's rank plus the logits' rank minus one"
    );
    let dims = logits.dims();
    let classes = dims[DI - 1];
    let batch: usize = dims[..DI - 1].iter().product();
    let draws: usize = sample_shape.iter().product();
    let rows = logits
        .reshape([1, batch, classes])
        .expand([draws, batch, classes])
        .reshape([draws * batch, classes]);
    let mut out_shape = [0usize; DO];
    out_shape[..sample_shape.len()].copy_from_slice(sample_shape);
    out_shape[sample_shape.len()..].copy_from_slice(&dims[..DI - 1]);
    sample_rows(rows, temperature).reshape(out_shape)
}

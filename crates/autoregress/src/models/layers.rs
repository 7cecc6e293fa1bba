//! Convolutions and max-pools as the models (and the trainer's judge) call them: on the CPU
//! backend (flex, with feature `cpu-kernels`, which the trainer turns on) our own kernels
//! (`cpu_kernels.rs`), faster there than Burn's, for training and inference (docs/speed.md);
//! elsewhere (wgpu, the page) Burn's `Conv2d`, `Conv1d` and `MaxPool2d`. The same for group
//! normalization followed by GELU (`cpu_fused.rs`).

use burn::nn::GroupNorm;
use burn::nn::conv::{Conv1d, Conv2d};
use burn::nn::pool::MaxPool2d;
use burn::tensor::{Int, Tensor};
use burn::tensor::activation::gelu;
#[cfg(feature = "cpu-kernels")]
use burn::{
    nn::{PaddingConfig1d, PaddingConfig2d},
    tensor::Device,
};

/// Whether `device` is flex, with or without autodiff.
#[cfg(feature = "cpu-kernels")]
fn on_flex(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
}

/// `conv.forward(x)`; our kernel on flex when the layer has what it covers (a bias, stride 1,
/// one group, the same padding above as below and left as right, the same dilation both ways).
pub fn convolve(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let (true, Some(bias), [1, 1], 1, [d, e]) = (on_flex(&x.device()), &conv.bias, conv.stride, conv.groups, conv.dilation) {
        let padding = match conv.padding {
            PaddingConfig2d::Valid => Some([0, 0]),
            PaddingConfig2d::Explicit(t, l, b, r) if t == b && l == r => Some([t, l]),
            _ => None,
        };
        if let (Some(padding), true) = (padding, d == e) {
            return super::cpu_kernels::conv2d(x, conv.weight.val(), bias.val(), padding, d);
        }
    }
    conv.forward(x)
}

/// `conv.forward(x)` for `x [N, C, T]`; on flex our kernel, as a convolution of one row, when
/// the layer has what it covers (a bias, stride 1, one group, the same padding on both sides).
pub(super) fn convolve1d(conv: &Conv1d, x: Tensor<3>) -> Tensor<3> {
    #[cfg(feature = "cpu-kernels")]
    if let (true, Some(bias), 1, 1) = (on_flex(&x.device()), &conv.bias, conv.stride, conv.groups) {
        let padding = match conv.padding {
            PaddingConfig1d::Valid => Some(0),
            PaddingConfig1d::Explicit(l, r) if l == r => Some(l),
            _ => None,
        };
        if let Some(padding) = padding {
            let ([n, c, t], [o, _, k]) = (x.dims(), conv.weight.dims());
            let y = super::cpu_kernels::conv2d(
                x.reshape([n, c, 1, t]),
                conv.weight.val().reshape([o, c, 1, k]),
                bias.val(),
                [0, padding],
                conv.dilation,
            );
            let [_, _, _, t_out] = y.dims();
            return y.reshape([n, o, t_out]);
        }
    }
    conv.forward(x)
}

/// `gelu(norm.forward(x))`; on flex our fused kernel when the normalization is affine.
pub fn normalize_gelu<const D: usize>(norm: &GroupNorm, x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "cpu-kernels")]
    if let (true, Some(gamma), Some(beta)) = (on_flex(&x.device()), &norm.gamma, &norm.beta) {
        return super::cpu_fused::group_norm_gelu(x, gamma.val(), beta.val(), norm.num_groups, norm.epsilon as f32);
    }
    gelu(norm.forward(x))
}

/// Per position cross-entropy `-log softmax(logits)[x]` (nats), `[N, L]`, from logits
/// `[N, C, L]` and integer sequences `[N, L]` (values in `0..C`); on flex our fused kernel.
pub fn position_cross_entropy(logits: Tensor<3>, sequences: Tensor<2, Int>) -> Tensor<2> {
    #[cfg(feature = "cpu-kernels")]
    if on_flex(&logits.device()) {
        return super::cpu_fused::cross_entropy(logits, sequences.float());
    }
    let [n, _, len] = logits.dims();
    let log_p = burn::tensor::activation::log_softmax(logits, 1);
    log_p.gather(1, sequences.reshape([n, 1, len])).reshape([n, len]).neg()
}

/// Per row cross-entropy `-log softmax(logits)[x]` (nats), `[M]`, from logits `[M, C]` (one
/// row per position) and integer targets `[M]` (values in `0..C`); on flex our fused kernel.
pub fn row_cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    #[cfg(feature = "cpu-kernels")]
    if on_flex(&logits.device()) {
        return super::cpu_fused::cross_entropy_rows(logits, targets.float());
    }
    let [m, _] = logits.dims();
    let log_p = burn::tensor::activation::log_softmax(logits, 1);
    log_p.gather(1, targets.reshape([m, 1])).reshape([m]).neg()
}

/// `pool.forward(x)`; our kernel on flex when the pool's stride is its square window (no
/// padding, no dilation).
pub fn max_pool(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let ([k, l], true) = (pool.kernel_size, on_flex(&x.device()))
        && k == l
        && pool.stride == [k, k]
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid)
    {
        return super::cpu_kernels::max_pool2d(x, k);
    }
    pool.forward(x)
}

#[cfg(all(test, feature = "cpu-kernels"))]
mod tests {
    use super::*;
    use burn::nn::conv::{Conv1dConfig, Conv2dConfig};
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;

    fn max_difference(a: Tensor<4>, b: Tensor<4>) -> f32 {
        assert_eq!(a.dims(), b.dims());
        (a - b).abs().max().into_scalar()
    }

    /// The models' layers as they call them, against Burn's own, on flex with and without
    /// autodiff: the lecture's valid convolution, the U-Net's padded dilated ones, its 1x1
    /// head, the pool, the toy network's dilated 1-D ones. (The kernels' gradients are
    /// checked in `cpu_kernels.rs`.)
    #[test]
    fn the_layers_on_flex_compute_what_burns_do() {
        for device in [Device::flex(), Device::flex().autodiff()] {
            let x = Tensor::<4>::random([2, 4, 12, 8], Distribution::Default, &device);
            for (kernel, padding, dilation) in [(5, 0, 1), (3, 1, 1), (3, 3, 3), (1, 0, 1)] {
                let conv = Conv2dConfig::new([4, 6], [kernel, kernel])
                    .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
                    .with_dilation([dilation, dilation])
                    .init(&device);
                let d = max_difference(convolve(&conv, x.clone()), conv.forward(x.clone()));
                assert!(d < 1e-4, "{kernel}x{kernel} padding {padding} dilation {dilation}: outputs differ by {d}");
            }
            let pool = MaxPool2dConfig::new([2, 2]).init();
            assert_eq!(max_difference(max_pool(&pool, x.clone()), pool.forward(x)), 0.0);
            let x = Tensor::<3>::random([3, 4, 11], Distribution::Default, &device);
            for (kernel, dilation) in [(3, 1), (3, 4), (1, 1), (5, 2)] {
                let padding = dilation * (kernel / 2);
                let conv = Conv1dConfig::new(4, 6, kernel)
                    .with_padding(PaddingConfig1d::Explicit(padding, padding))
                    .with_dilation(dilation)
                    .init(&device);
                let (ours, burns) = (convolve1d(&conv, x.clone()), conv.forward(x.clone()));
                assert_eq!(ours.dims(), burns.dims());
                let d: f32 = (ours - burns).abs().max().into_scalar();
                assert!(d < 1e-4, "1-D kernel {kernel} dilation {dilation}: outputs differ by {d}");
            }
        }
    }
}

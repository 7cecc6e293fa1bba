//! Convolutions and max-pools as the image models call them: on the CPU backend (flex, with
//! feature `cpu-kernels`, which the trainer turns on) our own kernels (`cpu_kernels.rs`),
//! faster there than Burn's, for training and inference (README, "Speed"); elsewhere (wgpu,
//! the page) Burn's `Conv2d` and `MaxPool2d`.

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::Tensor;
#[cfg(feature = "cpu-kernels")]
use burn::{nn::PaddingConfig2d, tensor::Device};

/// Whether `device` is flex, with or without autodiff.
#[cfg(feature = "cpu-kernels")]
fn on_flex(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
}

/// `conv.forward(x)`; our kernel on flex when the layer has what it covers (a bias, stride 1,
/// one group, the same padding on every side and the same dilation both ways).
pub(super) fn convolve(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-kernels")]
    if let (true, Some(bias), [1, 1], 1, [d, e]) = (on_flex(&x.device()), &conv.bias, conv.stride, conv.groups, conv.dilation) {
        let padding = match conv.padding {
            PaddingConfig2d::Valid => Some(0),
            PaddingConfig2d::Explicit(t, l, b, r) if t == l && l == b && b == r => Some(t),
            _ => None,
        };
        if let (Some(padding), true) = (padding, d == e) {
            return super::cpu_kernels::conv2d(x, conv.weight.val(), bias.val(), padding, d);
        }
    }
    conv.forward(x)
}

/// `pool.forward(x)`; our kernel on flex when the pool's stride is its square window (no
/// padding, no dilation).
pub(super) fn max_pool(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
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
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;

    fn max_difference(a: Tensor<4>, b: Tensor<4>) -> f32 {
        assert_eq!(a.dims(), b.dims());
        (a - b).abs().max().into_scalar()
    }

    /// The models' layers as they call them, against Burn's own, on flex with and without
    /// autodiff: the lecture's valid convolution, the U-Net's padded dilated ones, its 1x1
    /// head, the pool. (The kernels' gradients are checked in `cpu_kernels.rs`.)
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
        }
    }
}

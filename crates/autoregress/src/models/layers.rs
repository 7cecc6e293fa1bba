//! Convolutions and max-pools as the image models call them: Burn's `Conv2d` and `MaxPool2d`,
//! or, when training on the CPU backend (flex, with feature `cpu-training`), the same layers as
//! our own kernels (`cpu_training.rs`), faster there (README, "Speed").

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::{Device, Tensor};

/// Whether `device` trains (autodiff) on flex with our kernels.
#[cfg(feature = "cpu-training")]
fn training_on_flex(device: &Device) -> bool {
    device.is_autodiff() && device.clone().without_autodiff() == Device::flex()
}

#[cfg(not(feature = "cpu-training"))]
fn training_on_flex(_: &Device) -> bool {
    false
}

/// `conv.forward(x)`; our kernel when training on flex and the layer has what it covers (a bias,
/// stride 1, one group, the same padding on every side and dilation both ways).
pub(super) fn convolve(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "cpu-training")]
    if let (true, Some(bias), [1, 1], 1, [d, e]) =
        (training_on_flex(&x.device()), &conv.bias, conv.stride, conv.groups, conv.dilation)
    {
        let padding = match conv.padding {
            PaddingConfig2d::Valid => Some(0),
            PaddingConfig2d::Explicit(t, l, b, r) if t == l && l == b && b == r => Some(t),
            _ => None,
        };
        if let (Some(padding), true) = (padding, d == e) {
            return super::cpu_training::conv2d(x, conv.weight.val(), bias.val(), padding, d);
        }
    }
    conv.forward(x)
}

/// `pool.forward(x)`; our kernel when training on flex and the pool's stride is its square
/// window (no padding, no dilation).
pub(super) fn max_pool(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let [k, l] = pool.kernel_size;
    let plain = k == l && pool.stride == [k, k] && pool.dilation == [1, 1] && !pool.ceil_mode;
    if plain && matches!(pool.padding, PaddingConfig2d::Valid) && training_on_flex(&x.device()) {
        #[cfg(feature = "cpu-training")]
        return super::cpu_training::max_pool2d(x, k);
    }
    pool.forward(x)
}

//! Our order-agnostic network for images: a small U-Net that maps the lecture's (mask, values)
//! input to the logits of *every* position at once, so it conditions on any set of known pixels.
//!
//! Input `[N, 4, H, W]`: mask, normalized values (0 where unknown), and the row and column of
//! each pixel scaled to [-1, 1] (the convolutions are translation-equivariant; a digit's pixels
//! are not). Output logits `[N, C, H, W]`.
//!
//! ```text
//! 28x28  conv3 4->32, conv3 32->32 ------------------------------(+)-> conv3 32->32 -> conv1 32->C
//!   | max-pool                                                    | nearest 2x
//! 14x14  conv3 32->64, conv3 64->64 ----------(+)-> conv3 64->64 -> conv1 64->32
//!   | max-pool                                 | nearest 2x
//!  7x7   conv3 64->64, then three residual conv3 64->64, dilation 1, 2, 3
//! ```
//! Every output sees every input pixel: at 7x7 the dilated convolutions alone span the grid.
//! About 0.27M parameters and 47M multiply-adds a 28x28 image (a seventh of them in the head).

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};

use super::layers::{convolve, max_pool};

/// Channels at full, half and quarter resolution.
const WIDTHS: [usize; 3] = [32, 64, 64];
/// Dilations of the residual convolutions at quarter resolution.
const DILATIONS: [usize; 3] = [1, 2, 3];
/// Input channels: mask, values, row, column.
pub const INPUT_CHANNELS: usize = 4;
/// The layers [`UNet::features_probed`] shows, in the order it shows them: each one's output
/// after its ReLU (for `mid.*`, the residual branch before it is added).
pub const PROBED_LAYERS: [&str; 11] = ["enc1.0", "enc1.1", "enc2.0", "enc2.1", "enc3", "mid.0", "mid.1", "mid.2", "dec2", "narrow", "dec1"];

/// Our order-agnostic network for images (not in the lecture): a small U-Net from input
/// `[N, 4, H, W]` (mask, normalized values with 0 where unknown, row and column scaled to
/// [-1, 1]) to logits `[N, C, H, W]` of every pixel, so it conditions on any set of known pixels
/// (Uria et al. 2014; Hoogeboom et al. 2021).
///
/// Two encoder levels of 3x3 convolutions (32 then 64 channels) with max-pooling, at quarter
/// resolution a 3x3 convolution and three residual 3x3 convolutions with dilations 1, 2, 3, then
/// nearest-neighbour upsampling with additive skip connections and a 1x1 head to `C`. Every
/// output sees every pixel of a 28x28 image. About 0.27M parameters and 47M multiply-adds per
/// 28x28 image, a seventh of them in the head ([`UNet::head_at`] computes it at chosen pixels).
/// Sides must be multiples of 4, at least 8.
#[derive(Module, Debug)]
pub struct UNet {
    enc1: [Conv2d; 2],
    enc2: [Conv2d; 2],
    enc3: Conv2d,
    mid: Vec<Conv2d>,
    dec2: Conv2d,
    narrow: Conv2d,
    dec1: Conv2d,
    head: Conv2d,
    pool: MaxPool2d,
}

fn conv3(channels: [usize; 2], dilation: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new(channels, [3, 3])
        .with_dilation([dilation, dilation])
        .with_padding(PaddingConfig2d::Explicit(dilation, dilation, dilation, dilation))
        .init(device)
}

fn conv1(channels: [usize; 2], device: &Device) -> Conv2d {
    Conv2dConfig::new(channels, [1, 1]).init(device)
}

/// Nearest-neighbour upsampling by 2: `[N, C, H, W]` to `[N, C, 2H, 2W]`.
fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h, 1, w, 1]).expand([n, c, h, 2, w, 2]).reshape([n, c, 2 * h, 2 * w])
}

/// What sizes the network takes, when `height` x `width` is not one of them: two halvings, so
/// the sides must be multiples of 4, and at least 8.
pub(super) fn unfit_size(height: usize, width: usize) -> Option<String> {
    (!height.is_multiple_of(4) || !width.is_multiple_of(4) || height < 8 || width < 8)
        .then(|| "whose sides are multiples of 4 and at least 8".to_string())
}

impl UNet {
    /// A freshly initialized network for `num_values` values (256 gray levels for MNIST); the
    /// image size is free here, checked by [`ModelSpec::validate`](crate::ModelSpec::validate)
    /// and by the shapes in [`UNet::forward`].
    pub fn new(num_values: usize, device: &Device) -> Self {
        let [a, b, c] = WIDTHS;
        UNet {
            enc1: [conv3([INPUT_CHANNELS, a], 1, device), conv3([a, a], 1, device)],
            enc2: [conv3([a, b], 1, device), conv3([b, b], 1, device)],
            enc3: conv3([b, c], 1, device),
            mid: DILATIONS.iter().map(|&d| conv3([c, c], d, device)).collect(),
            dec2: conv3([c, b], 1, device),
            narrow: conv1([b, a], device),
            dec1: conv3([a, a], 1, device),
            head: conv1([a, num_values], device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
        }
    }

    /// `[N, 4, H, W]` (mask, normalized values, row, column) to logits `[N, C, H, W]`.
    ///
    /// # Panics
    /// When `H` or `W` is not a multiple of 4: the upsampled maps would not match the skip
    /// connections.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        convolve(&self.head, self.features(input))
    }

    /// The logits at `K` positions per image only: `features` `[N, 32, H, W]` from
    /// [`UNet::features`], `positions` `[N, K]` (raster indices) to `[N, C, K]`. The head is a 1x1
    /// convolution, so this equals [`UNet::forward`] read at those positions, without computing
    /// (and writing) the logits of every other pixel.
    pub fn head_at(&self, features: Tensor<4>, positions: Tensor<2, Int>) -> Tensor<3> {
        let [n, a, h, w] = features.dims();
        let [_, k] = positions.dims();
        let picked = features.reshape([n, a, h * w]).gather(2, positions.reshape([n, 1, k]).expand([n, a, k]));
        let logits = self.head.forward(picked.reshape([n, a, k, 1]));
        let [_, c, _, _] = logits.dims();
        logits.reshape([n, c, k])
    }

    /// Everything but the head: `[N, 4, H, W]` to features `[N, 32, H, W]`.
    ///
    /// # Panics
    /// As [`UNet::forward`].
    pub fn features(&self, input: Tensor<4>) -> Tensor<4> {
        self.features_probed(input, &mut |_, _| {})
    }

    /// [`UNet::features`], showing `probe` each layer's activations `[N, channels, h, w]` with
    /// its name ([`PROBED_LAYERS`], in that order): what finds the channels that never vary.
    pub fn features_probed(&self, input: Tensor<4>, probe: &mut dyn FnMut(&'static str, &Tensor<4>)) -> Tensor<4> {
        let mut shown = |name: &'static str, x: Tensor<4>| {
            probe(name, &x);
            x
        };
        let x = shown("enc1.0", relu(convolve(&self.enc1[0], input)));
        let e1 = shown("enc1.1", relu(convolve(&self.enc1[1], x)));
        let x = max_pool(&self.pool, e1.clone());
        let x = shown("enc2.0", relu(convolve(&self.enc2[0], x)));
        let e2 = shown("enc2.1", relu(convolve(&self.enc2[1], x)));
        let mut x = shown("enc3", relu(convolve(&self.enc3, max_pool(&self.pool, e2.clone()))));
        for (conv, name) in self.mid.iter().zip(&PROBED_LAYERS[5..8]) {
            x = x.clone() + shown(name, relu(convolve(conv, x)));
        }
        let x = shown("dec2", relu(convolve(&self.dec2, upsample2(x) + e2)));
        let x = shown("narrow", relu(convolve(&self.narrow, x)));
        shown("dec1", relu(convolve(&self.dec1, upsample2(x) + e1)))
    }
}

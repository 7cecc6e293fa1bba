//! Our order-agnostic network for images: a small U-Net of pre-activation residual blocks that
//! maps the lecture's (mask, values) input to the logits of *every* position at once, so it
//! conditions on any set of known pixels.
//!
//! Input `[N, 4, H, W]`: mask, normalized values (0 where unknown), and the row and column of
//! each pixel scaled to [-1, 1] (the convolutions are translation-equivariant; a digit's pixels
//! are not). Output logits `[N, C, H, W]`.
//!
//! ```text
//! 28x28  conv3 4->24, block ----------------------------------------(+)-> block -> GN, GELU, conv1 24->C
//!   | 2x2 stride 2 (space-to-depth, conv1 96->48)                     | conv1 48->96, depth-to-space
//! 14x14  block, block -------------------------------(+)-> block, block
//!   | 2x2 stride 2 (space-to-depth, conv1 192->128)   | conv1 128->192, depth-to-space
//!  7x7   blocks with dilation 1, 2, 3
//!
//! block: x + conv3(GELU(GroupNorm(x)))
//! ```
//! Every output sees every input pixel: at 7x7 the dilated convolutions alone span the grid.
//! Group normalization before every activation, and GELU's gradient for negative inputs, keep
//! every channel alive (the ReLU U-Net before it lost up to 28 of 64 channels in a layer in its
//! first steps: docs/experiments.md). About 0.6M parameters and 56M multiply-adds a 28x28 image.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Int, Tensor};

use super::layers::{convolve, normalize_gelu};

/// Channels at full, half and quarter resolution.
const WIDTHS: [usize; 3] = [24, 48, 128];
/// Residual blocks at full and half resolution on the way down, and on the way up.
const ENCODER_BLOCKS: [usize; 2] = [1, 2];
const DECODER_BLOCKS: [usize; 2] = [1, 2];
/// Dilations of the residual blocks at quarter resolution.
const DILATIONS: [usize; 3] = [1, 2, 3];
/// Groups of every group normalization (channels per group: 3, 6, 16 at the three widths).
const GROUPS: usize = 8;
/// Input channels: mask, values, row, column.
pub const INPUT_CHANNELS: usize = 4;
/// The layers [`UNet::features_probed`] shows, in the order it shows them: the activation each
/// residual block's convolution reads (`GELU(GroupNorm(x))`), and the head's.
pub const PROBED_LAYERS: [&str; 10] =
    ["enc1.0", "enc2.0", "enc2.1", "mid.0", "mid.1", "mid.2", "dec2.0", "dec2.1", "dec1.0", "head"];

/// A pre-activation residual block, `x + conv3(GELU(GroupNorm(x)))` (He et al. 2016), the
/// convolution's taps `dilation` apart.
#[derive(Module, Debug)]
pub struct Block {
    norm: GroupNorm,
    conv: Conv2d,
}

impl Block {
    fn new(channels: usize, dilation: usize, device: &Device) -> Self {
        Block { norm: group_norm(channels, device), conv: conv3([channels, channels], dilation, device) }
    }

    fn forward(&self, x: Tensor<4>, name: &'static str, probe: &mut dyn FnMut(&'static str, &Tensor<4>)) -> Tensor<4> {
        let a = normalize_gelu(&self.norm, x.clone());
        probe(name, &a);
        x + convolve(&self.conv, a)
    }
}

fn group_norm(channels: usize, device: &Device) -> GroupNorm {
    GroupNormConfig::new(GROUPS, channels).init(device)
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

/// `[N, C, H, W]` to `[N, 4C, H/2, W/2]`: each 2x2 patch's four pixels as channels, so that a
/// 1x1 convolution after it is a 2x2 convolution of stride 2.
fn space_to_depth(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c, h / 2, 2, w / 2, 2]).permute([0, 1, 3, 5, 2, 4]).reshape([n, 4 * c, h / 2, w / 2])
}

/// `[N, 4C, H, W]` to `[N, C, 2H, 2W]`, the inverse of [`space_to_depth`]: a 1x1 convolution
/// before it is a 2x2 transposed convolution of stride 2.
fn depth_to_space(x: Tensor<4>) -> Tensor<4> {
    let [n, c4, h, w] = x.dims();
    let c = c4 / 4;
    x.reshape([n, c, 2, 2, h, w]).permute([0, 1, 4, 2, 5, 3]).reshape([n, c, 2 * h, 2 * w])
}

/// What sizes the network takes, when `height` x `width` is not one of them: two halvings, so
/// the sides must be multiples of 4, and at least 8.
pub(super) fn unfit_size(height: usize, width: usize) -> Option<String> {
    (!height.is_multiple_of(4) || !width.is_multiple_of(4) || height < 8 || width < 8)
        .then(|| "whose sides are multiples of 4 and at least 8".to_string())
}

/// Our order-agnostic network for images (not in the lecture): a small U-Net from input
/// `[N, 4, H, W]` (mask, normalized values with 0 where unknown, row and column scaled to
/// [-1, 1]) to logits `[N, C, H, W]` of every pixel, so it conditions on any set of known pixels
/// (Uria et al. 2014; Hoogeboom et al. 2021).
///
/// Pre-activation residual blocks `x + conv3(GELU(GroupNorm(x)))` at 24, 48 and 128 channels;
/// learned 2x2 stride-2 down-sampling (space-to-depth, then a 1x1 convolution) and up-sampling
/// (a 1x1 convolution, then depth-to-space) with additive skip connections; at quarter
/// resolution three blocks with dilations 1, 2, 3; a GroupNorm-GELU-1x1 head to `C`. Every
/// output sees every pixel of a 28x28 image. About 0.6M parameters and 56M multiply-adds per
/// 28x28 image, a twelfth of them in the head ([`UNet::head_at`] computes it at chosen pixels).
/// Sides must be multiples of 4, at least 8.
#[derive(Module, Debug)]
pub struct UNet {
    stem: Conv2d,
    enc1: Vec<Block>,
    down1: Conv2d,
    enc2: Vec<Block>,
    down2: Conv2d,
    mid: Vec<Block>,
    up2: Conv2d,
    dec2: Vec<Block>,
    up1: Conv2d,
    dec1: Vec<Block>,
    head_norm: GroupNorm,
    head: Conv2d,
}

impl UNet {
    /// A freshly initialized network for `num_values` values (256 gray levels for MNIST); the
    /// image size is free here, checked by [`ModelSpec::validate`](crate::ModelSpec::validate)
    /// and by the shapes in [`UNet::forward`].
    pub fn new(num_values: usize, device: &Device) -> Self {
        let [a, b, c] = WIDTHS;
        let blocks = |count: usize, channels: usize| (0..count).map(|_| Block::new(channels, 1, device)).collect();
        UNet {
            stem: conv3([INPUT_CHANNELS, a], 1, device),
            enc1: blocks(ENCODER_BLOCKS[0], a),
            down1: conv1([4 * a, b], device),
            enc2: blocks(ENCODER_BLOCKS[1], b),
            down2: conv1([4 * b, c], device),
            mid: DILATIONS.iter().map(|&d| Block::new(c, d, device)).collect(),
            up2: conv1([c, 4 * b], device),
            dec2: blocks(DECODER_BLOCKS[1], b),
            up1: conv1([b, 4 * a], device),
            dec1: blocks(DECODER_BLOCKS[0], a),
            head_norm: group_norm(a, device),
            head: conv1([a, num_values], device),
        }
    }

    /// `[N, 4, H, W]` (mask, normalized values, row, column) to logits `[N, C, H, W]`.
    ///
    /// # Panics
    /// When `H` or `W` is not a multiple of 4: the up-sampled maps would not match the skip
    /// connections.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        convolve(&self.head, self.features(input))
    }

    /// The logits at `K` positions per image only: `features` `[N, 24, H, W]` from
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

    /// The logits `[M, C]` of `M` pixels: `features` `[N, 24, H, W]` from [`UNet::features`],
    /// `rows` `[M]` flat indices `n H W + p` (image `n`, raster index `p`): [`UNet::forward`]
    /// read at those pixels, one row each.
    pub fn head_rows(&self, features: Tensor<4>, rows: Tensor<1, Int>) -> Tensor<2> {
        let [n, a, h, w] = features.dims();
        let picked = features.reshape([n, a, h * w]).swap_dims(1, 2).reshape([n * h * w, a]).select(0, rows);
        let [c, _, _, _] = self.head.weight.dims();
        let logits = picked.matmul(self.head.weight.val().reshape([c, a]).transpose());
        match &self.head.bias {
            Some(bias) => logits + bias.val().reshape([1, c]),
            None => logits,
        }
    }

    /// Everything but the head's 1x1 convolution: `[N, 4, H, W]` to features `[N, 24, H, W]`.
    ///
    /// # Panics
    /// As [`UNet::forward`].
    pub fn features(&self, input: Tensor<4>) -> Tensor<4> {
        self.features_probed(input, &mut |_, _| {})
    }

    /// [`UNet::features`], showing `probe` each layer's activations `[N, channels, h, w]` with
    /// its name ([`PROBED_LAYERS`], in that order): what finds the channels that never vary.
    pub fn features_probed(&self, input: Tensor<4>, probe: &mut dyn FnMut(&'static str, &Tensor<4>)) -> Tensor<4> {
        let mut names = PROBED_LAYERS.iter().copied();
        let mut run = |blocks: &[Block], mut x: Tensor<4>, probe: &mut dyn FnMut(&'static str, &Tensor<4>)| {
            for block in blocks {
                x = block.forward(x, names.next().expect("a name per probed layer"), probe);
            }
            x
        };
        let s1 = run(&self.enc1, convolve(&self.stem, input), probe);
        let s2 = run(&self.enc2, convolve(&self.down1, space_to_depth(s1.clone())), probe);
        let x = run(&self.mid, convolve(&self.down2, space_to_depth(s2.clone())), probe);
        let x = run(&self.dec2, depth_to_space(convolve(&self.up2, x)) + s2, probe);
        let x = run(&self.dec1, depth_to_space(convolve(&self.up1, x)) + s1, probe);
        let features = normalize_gelu(&self.head_norm, x);
        probe(PROBED_LAYERS[PROBED_LAYERS.len() - 1], &features);
        features
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1x1 convolution after space-to-depth is a 2x2 convolution of stride 2, and
    /// depth-to-space undoes space-to-depth.
    #[test]
    fn space_to_depth_is_a_strided_patch_and_depth_to_space_undoes_it() {
        let device = Device::flex();
        let x = Tensor::<1, Int>::arange(0..2 * 3 * 4 * 6, &device).float().reshape([2, 3, 4, 6]);
        let folded = space_to_depth(x.clone());
        assert_eq!(folded.dims(), [2, 12, 2, 3]);
        // Channel 4c + 2i + j at (r, s) holds pixel (2r + i, 2s + j) of channel c.
        let at = |t: &Tensor<4>, idx: [usize; 4]| -> f32 {
            t.clone().slice([idx[0]..idx[0] + 1, idx[1]..idx[1] + 1, idx[2]..idx[2] + 1, idx[3]..idx[3] + 1]).into_scalar()
        };
        for (c, i, j, r, s) in [(0, 0, 0, 0, 0), (1, 1, 0, 1, 2), (2, 1, 1, 0, 1), (2, 0, 1, 1, 0)] {
            assert_eq!(at(&folded, [1, 4 * c + 2 * i + j, r, s]), at(&x, [1, c, 2 * r + i, 2 * s + j]));
        }
        let back = depth_to_space(folded);
        assert_eq!(back.sub(x).abs().max().into_scalar::<f32>(), 0.0);
    }
}

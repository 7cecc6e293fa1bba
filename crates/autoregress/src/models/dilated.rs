//! Our order-agnostic network for the toy sequences: a residual stack of dilated 1-D
//! convolutions that maps (mask, values, position) to the logits of *every* position.
//!
//! Input `[N, 3, T]`: mask, normalized values (0 where unknown), position scaled to [-1, 1].
//! Output logits `[N, C, T]`. Kernel 3 with dilations 1, 2, 4, 8, 16 twice: the receptive field
//! is 125 positions wide, so every output sees the whole sequence for `T <= 63`; longer
//! sequences are refused by `ModelSpec::validate`.

use burn::module::Module;
use burn::nn::PaddingConfig1d;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::layers::convolve1d;

const CHANNELS: usize = 128;
const DILATIONS: [usize; 10] = [1, 2, 4, 8, 16, 1, 2, 4, 8, 16];
/// Input channels: mask, values, position.
pub const INPUT_CHANNELS: usize = 3;

/// Half the receptive field: how far an output sees on either side.
const REACH: usize = {
    let mut sum = 0;
    let mut i = 0;
    while i < DILATIONS.len() {
        sum += DILATIONS[i];
        i += 1;
    }
    sum
};

/// Our order-agnostic network for the toy sequences (not in the lecture): input `[N, 3, T]`
/// (mask, normalized values with 0 where unknown, position scaled to [-1, 1]), output logits
/// `[N, C, T]` of every position, so it conditions on any set of known values (Uria et al. 2014).
///
/// A 1x1 input convolution to 128 channels, ten residual blocks `x + ReLU(conv3(ReLU(x)))`
/// with dilations 1, 2, 4, 8, 16, 1, 2, 4, 8, 16, then 1x1 convolutions 128 -> 128 -> `C`. The
/// receptive field is 125 positions wide: every output sees the whole sequence for `T <= 63`, the longest
/// length [`ModelSpec::validate`](crate::ModelSpec::validate) accepts.
#[derive(Module, Debug)]
pub struct DilatedConvNet {
    input: Conv1d,
    blocks: Vec<Conv1d>,
    hidden: Conv1d,
    head: Conv1d,
}

/// What lengths the network takes, when `len` is not one of them: every output must see the
/// whole sequence.
pub(super) fn unfit_len(len: usize) -> Option<String> {
    (!(2..=REACH + 1).contains(&len)).then(|| format!("2..={} (it sees {REACH} positions on each side)", REACH + 1))
}

impl DilatedConvNet {
    /// A freshly initialized network for `num_values` values; it takes any length (padded
    /// convolutions), but sees the whole sequence only up to length 63.
    pub fn new(num_values: usize, device: &Device) -> Self {
        let conv = |cin, cout, k: usize, d: usize| {
            Conv1dConfig::new(cin, cout, k)
                .with_dilation(d)
                .with_padding(PaddingConfig1d::Explicit(d * (k / 2), d * (k / 2)))
                .init(device)
        };
        DilatedConvNet {
            input: conv(INPUT_CHANNELS, CHANNELS, 1, 1),
            blocks: DILATIONS.iter().map(|&d| conv(CHANNELS, CHANNELS, 3, d)).collect(),
            hidden: conv(CHANNELS, CHANNELS, 1, 1),
            head: conv(CHANNELS, num_values, 1, 1),
        }
    }

    /// `[N, 3, T]` (mask, normalized values, position in [-1, 1]) to logits `[N, C, T]`.
    pub fn forward(&self, input: Tensor<3>) -> Tensor<3> {
        let mut x = convolve1d(&self.input, input);
        for conv in &self.blocks {
            x = x.clone() + relu(convolve1d(conv, relu(x)));
        }
        convolve1d(&self.head, relu(convolve1d(&self.hidden, relu(x))))
    }
}

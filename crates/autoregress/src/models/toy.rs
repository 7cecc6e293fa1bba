//! The lecture's 1-D convnet for the toy sequences.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::pool::{MaxPool1d, MaxPool1dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// The lecture's 1-D convnet for the toy sequences (lecture 10.1, the toy example): the logits of
/// the next value given (mask, values).
///
/// Conv1d(2,32,5) ReLU MaxPool1d(2) Conv1d(32,64,5) ReLU MaxPool1d(2) ReLU,
/// then Linear(64 * L', 200) ReLU Linear(200, C); `L' = 5` for `T = 32` (the lecture's 320).
/// No padding: it takes sequences of length 16 or more.
#[derive(Module, Debug)]
pub struct ToyConvNet {
    conv1: Conv1d,
    conv2: Conv1d,
    pool: MaxPool1d,
    fc1: Linear,
    fc2: Linear,
}

/// Input channels: mask, values.
const INPUT_CHANNELS: usize = 2;
const CONV1_CHANNELS: usize = 32;
/// Output channels of conv2.
const CHANNELS: usize = 64;
const KERNEL: usize = 5;
const POOL: usize = 2;
const HIDDEN: usize = 200;

/// Length left after the feature layers (convolution, pool, twice; no padding), `None` when the
/// input is too short for them.
fn features_len(len: usize) -> Option<usize> {
    let after_pool1 = len.checked_sub(KERNEL - 1)? / POOL;
    let out = after_pool1.checked_sub(KERNEL - 1)? / POOL;
    (out > 0).then_some(out)
}

/// What lengths the network takes, when `len` is not one of them.
pub(super) fn unfit_len(len: usize) -> Option<String> {
    let shortest = (1..).find(|&l| features_len(l).is_some()).expect("long enough sequences fit");
    features_len(len).is_none().then(|| format!("{shortest} or more (shorter ones vanish in its convolutions)"))
}

impl ToyConvNet {
    /// A freshly initialized network for sequences of length `len` and `num_values` values.
    ///
    /// # Panics
    /// When `len` is below 16 (too short for the two convolutions and pools), which
    /// [`ModelSpec::validate`](crate::ModelSpec::validate) rejects.
    pub fn new(len: usize, num_values: usize, device: &Device) -> Self {
        let flat = CHANNELS * features_len(len).expect("length checked by ModelSpec::validate");
        ToyConvNet {
            conv1: Conv1dConfig::new(INPUT_CHANNELS, CONV1_CHANNELS, KERNEL).init(device),
            conv2: Conv1dConfig::new(CONV1_CHANNELS, CHANNELS, KERNEL).init(device),
            pool: MaxPool1dConfig::new(POOL).init(),
            fc1: LinearConfig::new(flat, HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, num_values).init(device),
        }
    }

    /// `[N, 2, T]` (mask, normalized values) to logits `[N, C]` of the next value.
    ///
    /// # Panics
    /// When `T` is not the length given to [`ToyConvNet::new`].
    pub fn forward(&self, input: Tensor<3>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(input)));
        let x = relu(self.pool.forward(relu(self.conv2.forward(x))));
        let x: Tensor<2> = x.flatten(1, 2);
        self.fc2.forward(relu(self.fc1.forward(x)))
    }
}

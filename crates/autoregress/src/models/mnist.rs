//! The lecture's LeNet-like convnet for digits, with two input channels (mask, values).

use super::SpecError;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Conv2d(2,32,3) MaxPool2d(2) ReLU Conv2d(32,64,5) ReLU, then Linear(64*81,512) ReLU
/// Linear(512,256) for 28x28 images.
#[derive(Module, Debug)]
pub struct MnistConvNet {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
}

fn features_side(side: usize) -> Option<usize> {
    let out = (side.checked_sub(2)? / 2).checked_sub(4)?;
    (out > 0).then_some(out)
}

pub(super) fn check_size(height: usize, width: usize) -> Result<(), SpecError> {
    match (features_side(height), features_side(width)) {
        (Some(_), Some(_)) => Ok(()),
        _ => Err(SpecError(format!("{height}x{width} images are too small for the convnet (need 12x12 or more)"))),
    }
}

impl MnistConvNet {
    pub fn new(height: usize, width: usize, num_values: usize, device: &Device) -> Self {
        let flat = 64
            * features_side(height).expect("size checked by ModelSpec::validate")
            * features_side(width).expect("size checked by ModelSpec::validate");
        MnistConvNet {
            conv1: Conv2dConfig::new([2, 32], [3, 3]).init(device),
            conv2: Conv2dConfig::new([32, 64], [5, 5]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(flat, 512).init(device),
            fc2: LinearConfig::new(512, num_values).init(device),
        }
    }

    /// `[N, 2, H, W]` (mask, values) to logits `[N, C]`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let x = relu(self.pool.forward(self.conv1.forward(input)));
        let x = relu(self.conv2.forward(x));
        let x: Tensor<2> = x.flatten(1, 3);
        self.fc2.forward(relu(self.fc1.forward(x)))
    }
}

//! The lecture's LeNet-like convnet for digits, with two input channels (mask, values).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use super::layers::{convolve, max_pool};

/// The lecture's LeNet-like convnet for digits in raster order (lecture 10.1, MNIST): the logits
/// of the next pixel's gray level given (mask, values) as two image channels.
///
/// Conv2d(2,32,3) MaxPool2d(2) ReLU Conv2d(32,64,5) ReLU, then Linear(64*81,512) ReLU
/// Linear(512,256) for 28x28 images. No padding: it takes images of 12x12 or more.
#[derive(Module, Debug)]
pub struct MnistConvNet {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
}

/// Input channels: mask, values.
const INPUT_CHANNELS: usize = 2;
const CONV1_CHANNELS: usize = 32;
const CONV1_KERNEL: usize = 3;
const POOL: usize = 2;
/// Output channels of conv2.
const CHANNELS: usize = 64;
const CONV2_KERNEL: usize = 5;
const HIDDEN: usize = 512;
/// Input rows (and columns) one feature sees: conv1, the pool, then conv2 (no padding).
const RECEPTIVE_FIELD: usize = POOL * (CONV2_KERNEL - 1) + POOL + CONV1_KERNEL - 1;

/// The layer sizes of [`MnistConvNet`] for square images, for code that builds the same layers
/// alone (`trainer bench --layers`, a reproduction of their speed for Burn upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MnistLayers {
    /// Input channels (mask, values).
    pub input_channels: usize,
    /// conv1's output channels.
    pub conv1_channels: usize,
    /// conv1's kernel side.
    pub conv1_kernel: usize,
    /// conv1's output side.
    pub conv1_side: usize,
    /// The max-pool's window and stride.
    pub pool: usize,
    /// The pooled side: conv2's input side.
    pub pooled_side: usize,
    /// conv2's output channels.
    pub conv2_channels: usize,
    /// conv2's kernel side.
    pub conv2_kernel: usize,
    /// conv2's output side.
    pub features_side: usize,
    /// fc1's inputs (the flattened features) and outputs.
    pub fc1: [usize; 2],
}

/// Feature rows (or columns) for an input side: conv1, the pool, conv2, all without padding.
fn features_side(side: usize) -> Option<usize> {
    let out = (side.checked_sub(CONV1_KERNEL - 1)? / POOL).checked_sub(CONV2_KERNEL - 1)?;
    (out > 0).then_some(out)
}

/// What sizes the network takes, when `height` x `width` is not one of them.
pub(super) fn unfit_size(height: usize, width: usize) -> Option<String> {
    (features_side(height).is_none() || features_side(width).is_none())
        .then(|| format!("of {RECEPTIVE_FIELD}x{RECEPTIVE_FIELD} or more"))
}

impl MnistConvNet {
    /// The sizes of the layers for `side x side` images; `None` for sides the network refuses.
    pub fn layers(side: usize) -> Option<MnistLayers> {
        let features = features_side(side)?;
        let conv1_side = side - CONV1_KERNEL + 1;
        Some(MnistLayers {
            input_channels: INPUT_CHANNELS,
            conv1_channels: CONV1_CHANNELS,
            conv1_kernel: CONV1_KERNEL,
            conv1_side,
            pool: POOL,
            pooled_side: conv1_side / POOL,
            conv2_channels: CHANNELS,
            conv2_kernel: CONV2_KERNEL,
            features_side: features,
            fc1: [CHANNELS * features * features, HIDDEN],
        })
    }

    /// A freshly initialized network for `height` x `width` images and `num_values` gray levels.
    ///
    /// # Panics
    /// For images smaller than the 12x12 receptive field, which
    /// [`ModelSpec::validate`](crate::ModelSpec::validate) rejects.
    pub fn new(height: usize, width: usize, num_values: usize, device: &Device) -> Self {
        let flat = CHANNELS
            * features_side(height).expect("size checked by ModelSpec::validate")
            * features_side(width).expect("size checked by ModelSpec::validate");
        MnistConvNet {
            conv1: Conv2dConfig::new([INPUT_CHANNELS, CONV1_CHANNELS], [CONV1_KERNEL; 2]).init(device),
            conv2: Conv2dConfig::new([CONV1_CHANNELS, CHANNELS], [CONV2_KERNEL; 2]).init(device),
            pool: MaxPool2dConfig::new([POOL; 2]).init(),
            fc1: LinearConfig::new(flat, HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, num_values).init(device),
        }
    }

    /// `[N, 2, H, W]` (mask, normalized values) to logits `[N, C]` of the next pixel.
    ///
    /// # Panics
    /// When `H x W` is not the size given to [`MnistConvNet::new`].
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = self.features(input).flatten(1, 3);
        self.fc2.forward(relu(self.fc1.forward(x)))
    }

    /// The convolutional part: `[N, 2, H, W]` to `[N, 64, rows, cols]`.
    fn features(&self, input: Tensor<4>) -> Tensor<4> {
        let x = relu(max_pool(&self.pool, convolve(&self.conv1, input)));
        relu(convolve(&self.conv2, x))
    }

    /// What [`MnistConvNet::forward_row_skipped`] needs, computed once from the weights.
    ///
    /// # Panics
    /// For sizes [`MnistConvNet::new`] refuses, or (usually) sizes other than the ones it was
    /// built for, which the features would not fit.
    pub fn row_skip_features(&self, height: usize, width: usize) -> RowSkipFeatures {
        let rows = features_side(height).expect("size checked by ModelSpec::validate");
        let cols = features_side(width).expect("size checked by ModelSpec::validate");
        let weight = self.fc1.weight.val();
        let device = weight.device();
        let [_, hidden] = weight.dims();
        // An empty input of one receptive field (mask 0, value 0) gives one feature per channel:
        // the feature of any empty region, since the convolutions have no padding.
        let field = RECEPTIVE_FIELD;
        let empty = self.features(Tensor::zeros([1, INPUT_CHANNELS, field, field], &device)).reshape([CHANNELS, 1, 1, 1]);
        let by_channel = weight.reshape([CHANNELS, rows, cols, hidden]);
        let share: Tensor<2> = (by_channel.clone() * empty).sum_dims(&[0, 2]).reshape([rows, hidden]);
        // from[r] = sum of the shares of feature rows r.. (row `rows`: nothing).
        let tri: Vec<f32> = (0..=rows).flat_map(|r| (0..rows).map(move |h| (h >= r) as u8 as f32)).collect();
        let tri = Tensor::<2>::from_data(TensorData::new(tri, [rows + 1, rows]), &device);
        let mut bias_from = tri.matmul(share);
        if let Some(bias) = &self.fc1.bias {
            bias_from = bias_from + bias.val().unsqueeze::<2>();
        }
        RowSkipFeatures {
            fc1_by_row: by_channel.swap_dims(0, 1).reshape([rows * CHANNELS * cols, hidden]),
            bias_from,
            rows,
            cols,
        }
    }

    /// Row skipping: the logits `[N, C]` of [`MnistConvNet::forward`] for inputs `[N, 2, H, W]`
    /// whose rows from `known_rows` on are empty (mask 0, value 0), computing only the features
    /// that see the rows above. `skip` comes from [`MnistConvNet::row_skip_features`] of this
    /// network; `known_rows` is the number of input rows with anything known, rounded up.
    pub fn forward_row_skipped(&self, input: Tensor<4>, skip: &RowSkipFeatures, known_rows: usize) -> Tensor<2> {
        // Feature row i sees input rows POOL * i .. POOL * i + RECEPTIVE_FIELD: it is empty
        // when POOL * i >= known_rows.
        let needed = known_rows.div_ceil(POOL).max(1);
        if needed >= skip.rows {
            return self.forward(input);
        }
        let [n, c, _, w] = input.dims();
        let x = self.features(input.slice([0..n, 0..c, 0..POOL * (needed - 1) + RECEPTIVE_FIELD, 0..w]));
        let k = needed * CHANNELS * skip.cols;
        let x = x.swap_dims(1, 2).reshape([n, k]);
        let [_, hidden] = skip.fc1_by_row.dims();
        let top = skip.fc1_by_row.clone().slice([0..k, 0..hidden]);
        let fc1 = x.matmul(top) + skip.bias_from.clone().slice([needed..needed + 1, 0..hidden]);
        self.fc2.forward(relu(fc1))
    }
}

/// Row skipping, precomputed from the weights so that [`MnistConvNet::forward_row_skipped`] can skip the image rows
/// nothing is known of yet: their features are the same everywhere, so their share of fc1's
/// output is a constant. Generation in raster order then does about a quarter less work.
#[derive(Clone, Debug)]
pub struct RowSkipFeatures {
    /// fc1's weight with its inputs ordered (feature row, channel, column): top rows first.
    fc1_by_row: Tensor<2>,
    /// `[rows + 1, hidden]`: row r is fc1's bias plus the share of empty feature rows r.. .
    bias_from: Tensor<2>,
    rows: usize,
    cols: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_sizes_are_those_of_the_network() {
        let l = MnistConvNet::layers(28).expect("28x28 fits");
        assert_eq!((l.conv1_side, l.pooled_side, l.features_side), (26, 13, 9));
        let net = MnistConvNet::new(28, 28, 256, &Device::flex());
        assert_eq!(net.fc1.weight.dims(), l.fc1);
        assert_eq!(net.conv2.weight.dims(), [l.conv2_channels, l.conv1_channels, l.conv2_kernel, l.conv2_kernel]);
        let features = net.features(Tensor::zeros([1, l.input_channels, 28, 28], &Device::flex()));
        assert_eq!(features.dims(), [1, l.conv2_channels, l.features_side, l.features_side]);
        assert_eq!(MnistConvNet::layers(RECEPTIVE_FIELD - 1), None);
    }
}

//! The lecture's two networks behind one interface: `(mask, values) -> logits of the next value`.
//!
//! Both take two input channels, the mask of known positions and the normalized known values,
//! laid out as the data is (a 1-D sequence, or an image visited in raster order).

mod mnist;
mod toy;

pub use mnist::{EmptyRows, MnistConvNet};
pub use toy::ToyConvNet;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Int, Tensor};
use std::fmt;

/// Which of the lecture's networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    /// Conv1d network for the toy sequences.
    Toy,
    /// LeNet-like Conv2d network for 28x28 digits in raster order.
    Mnist,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Toy => "toy-conv1d",
            ModelKind::Mnist => "mnist-lenet",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [ModelKind::Toy, ModelKind::Mnist].into_iter().find(|k| k.name() == name)
    }
}

/// Everything besides the weights that inference needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    pub kind: ModelKind,
    /// Sequence length: `T` for the toy, `height * width` for images.
    pub seq_len: usize,
    /// Image width (the toy: `seq_len`); an image has `seq_len / width` rows.
    pub width: usize,
    /// Number of values `C` each position takes.
    pub num_values: usize,
    /// Training mean and standard deviation used to normalize the input values.
    pub mean: f32,
    pub std: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

impl ModelSpec {
    /// The toy problem: sequences of length `len`, `2 * len` values.
    pub fn toy(len: usize, mean: f32, std: f32) -> Self {
        ModelSpec { kind: ModelKind::Toy, seq_len: len, width: len, num_values: 2 * len, mean, std }
    }

    /// Gray images in raster order, 256 levels.
    pub fn mnist(height: usize, width: usize, mean: f32, std: f32) -> Self {
        ModelSpec {
            kind: ModelKind::Mnist,
            seq_len: height * width,
            width,
            num_values: 256,
            mean,
            std,
        }
    }

    pub fn height(&self) -> usize {
        self.seq_len / self.width
    }

    pub fn validate(&self) -> Result<(), SpecError> {
        if !(self.std.is_finite() && self.std > 0.0 && self.mean.is_finite()) {
            return Err(SpecError(format!(
                "normalization must be finite with std > 0 (mean {}, std {})",
                self.mean, self.std
            )));
        }
        if self.num_values < 2 {
            return Err(SpecError(format!("{} values: need at least 2", self.num_values)));
        }
        match self.kind {
            ModelKind::Toy => toy::check_len(self.seq_len),
            ModelKind::Mnist => {
                if self.width == 0 || self.seq_len % self.width != 0 {
                    return Err(SpecError(format!(
                        "sequence length {} is not a whole number of rows of width {}",
                        self.seq_len, self.width
                    )));
                }
                mnist::check_size(self.height(), self.width)
            }
        }
    }
}

/// Precomputed from a model's weights for [`ArModel::logits_before`].
#[derive(Clone, Debug)]
pub struct Shortcut(Option<EmptyRows>);

#[derive(Module, Debug)]
pub enum Net {
    Toy(ToyConvNet),
    Mnist(MnistConvNet),
}

/// A network with its spec: the unit that is trained, saved, loaded and sampled.
#[derive(Module, Debug)]
pub struct ArModel {
    pub net: Net,
    #[module(skip)]
    pub spec: ModelSpec,
}

impl ArModel {
    /// A freshly initialized model for `spec`.
    pub fn new(spec: ModelSpec, device: &Device) -> Result<Self, SpecError> {
        spec.validate()?;
        let net = match spec.kind {
            ModelKind::Toy => Net::Toy(ToyConvNet::new(spec.seq_len, spec.num_values, device)),
            ModelKind::Mnist => {
                Net::Mnist(MnistConvNet::new(spec.height(), spec.width, spec.num_values, device))
            }
        };
        let model = ArModel { net, spec };
        model.materialize_params();
        Ok(model)
    }

    /// Burn initializes parameters lazily, on first use, from the device's random generator.
    /// Doing it now keeps that from happening inside a seeded generation and shifting its draws.
    fn materialize_params(&self) {
        struct Touch;
        impl ModuleVisitor for Touch {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let _ = param.val();
            }
        }
        self.visit(&mut Touch);
    }

    /// Logits `[N, C]` of the next value given `mask` and normalized `values`, both `[N, L]`.
    pub fn forward(&self, mask: Tensor<2>, values: Tensor<2>) -> Tensor<2> {
        match &self.net {
            Net::Toy(net) => net.forward(Tensor::stack(vec![mask, values], 1)),
            Net::Mnist(net) => net.forward(self.image(mask, values)),
        }
    }

    /// The lecture's seq2tensor: `[N, 2, H, W]`; raster order is the image's memory order.
    fn image(&self, mask: Tensor<2>, values: Tensor<2>) -> Tensor<4> {
        let [n, _] = mask.dims();
        let (h, w) = (self.spec.height(), self.spec.width);
        let image = |t: Tensor<2>| t.reshape([n, 1, h, w]);
        Tensor::cat(vec![image(mask), image(values)], 1)
    }

    /// What [`ArModel::logits_before`] precomputes from the weights (nothing for the toy).
    pub fn shortcut(&self) -> Shortcut {
        match &self.net {
            Net::Toy(_) => Shortcut(None),
            Net::Mnist(net) => Shortcut(Some(net.empty_rows(self.spec.height(), self.spec.width))),
        }
    }

    /// The logits of [`ArModel::logits`] when `mask` is 0 from position `end` on (as in raster
    /// order): the image model then skips the rows below, whose features it knows in advance.
    pub fn logits_before(&self, shortcut: &Shortcut, sequences: Tensor<2, Int>, mask: Tensor<2>, end: usize) -> Tensor<2> {
        let values = self.normalize(sequences, mask.clone());
        match (&self.net, &shortcut.0) {
            (Net::Mnist(net), Some(empty)) => {
                net.forward_top(self.image(mask, values), empty, end.div_ceil(self.spec.width))
            }
            _ => self.forward(mask, values),
        }
    }

    /// The network's value channel: `(x - mean) / std`, zeroed where `mask` is 0.
    pub fn normalize(&self, sequences: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<2> {
        sequences
            .float()
            .sub_scalar(self.spec.mean)
            .div_scalar(self.spec.std)
            .mul(mask)
    }

    /// Logits of the next value for integer sequences `[N, L]` known where `mask` is 1.
    pub fn logits(&self, sequences: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<2> {
        let values = self.normalize(sequences, mask.clone());
        self.forward(mask, values)
    }
}

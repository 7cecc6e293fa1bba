//! Two families of networks behind one interface, [`ArModel`]:
//!
//! * the lecture's two networks (`toy`, `mnist`): `(mask, values) -> logits of the
//!   next value` in raster order, trained with one random position per sequence;
//! * our order-agnostic (any-order) networks (`toy-any-order`, `mnist-any-order`):
//!   `(mask, values) -> logits of every position` in one pass, trained over random sets of known
//!   positions (Uria et al. 2014; Hoogeboom et al. 2021), so they condition on any set of known
//!   values and can be visited in any order.
//!
//! All take the mask of known positions and the normalized known values, laid out as the data is
//! (a 1-D sequence, or an image whose raster order is its memory order).

#[cfg(feature = "cpu-kernels")]
pub mod cpu_fused;
#[cfg(feature = "cpu-kernels")]
pub mod cpu_kernels;
mod dilated;
mod layers;
mod mnist;
mod spec;
mod toy;
mod unet;

pub use dilated::DilatedConvNet;
pub use layers::{convolve, max_pool, normalize_gelu, position_cross_entropy, row_cross_entropy};
pub use mnist::{MnistConvNet, MnistLayers, RowSkipFeatures};
pub use toy::ToyConvNet;
pub use spec::{MAX_LEN, MAX_VALUES, ModelKind, ModelSpec, SpecError, UnknownModel};
pub use unet::{PROBED_LAYERS, UNet};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Int, Tensor};

/// Row skipping (docs/speed.md): what [`ArModel::logits_row_skipped`] precomputes from a
/// model's weights; nothing for the models it does not apply to.
#[derive(Clone, Debug)]
pub struct RowSkip(Option<RowSkipFeatures>);

/// The network of each [`ModelKind`]: what is trained and stored in a weights file.
// One per model, held once: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Net {
    /// [`ModelKind::Toy`]: the lecture's 1-D convnet.
    Toy(ToyConvNet),
    /// [`ModelKind::Mnist`]: the lecture's LeNet-like convnet.
    Mnist(MnistConvNet),
    /// [`ModelKind::ToyAnyOrder`]: our dilated 1-D convnet.
    ToyAnyOrder(DilatedConvNet),
    /// [`ModelKind::MnistAnyOrder`]: our U-Net.
    MnistAnyOrder(UNet),
}

/// A network with its spec: the unit that is trained, saved, loaded and sampled.
#[derive(Module, Debug)]
pub struct ArModel {
    /// The network, of the kind `spec.kind` names.
    pub net: Net,
    /// What the network was built for: shape, number of values, input normalization. Not a
    /// parameter: weights files carry it as metadata ([`crate::weights`]).
    #[module(skip)]
    pub spec: ModelSpec,
}

impl ArModel {
    /// A freshly initialized model for `spec`, its parameters drawn now from `device`'s random
    /// generator (seed the device first for reproducible weights).
    ///
    /// # Errors
    /// The [`SpecError`] of [`ModelSpec::validate`].
    pub fn new(spec: ModelSpec, device: &Device) -> Result<Self, SpecError> {
        spec.validate()?;
        let net = match spec.kind {
            ModelKind::Toy => Net::Toy(ToyConvNet::new(spec.seq_len, spec.num_values, device)),
            ModelKind::Mnist => {
                Net::Mnist(MnistConvNet::new(spec.height(), spec.width, spec.num_values, device))
            }
            ModelKind::ToyAnyOrder => Net::ToyAnyOrder(DilatedConvNet::new(spec.num_values, device)),
            ModelKind::MnistAnyOrder => Net::MnistAnyOrder(UNet::new(spec.num_values, device)),
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
    /// For an any-order model, "next" is position `k` of each row, `k` its number of known
    /// positions (clamped to `L - 1`): the next one in raster order when the mask is a prefix,
    /// as for the lecture's.
    ///
    /// # Panics
    /// When `L` is not the spec's `seq_len` (the toy any-order network alone takes any length).
    pub fn forward(&self, mask: Tensor<2>, values: Tensor<2>) -> Tensor<2> {
        match &self.net {
            Net::Toy(net) => net.forward(Tensor::stack(vec![mask, values], 1)),
            Net::Mnist(net) => net.forward(self.image(mask, values)),
            Net::ToyAnyOrder(_) | Net::MnistAnyOrder(_) => {
                let [n, len] = mask.dims();
                let next = mask.clone().sum_dim(1).int().clamp(0, len as i64 - 1);
                let all = self.forward_all(mask, values);
                let [_, c, _] = all.dims();
                all.gather(2, next.reshape([n, 1, 1]).expand([n, c, 1])).reshape([n, c])
            }
        }
    }

    /// Logits `[N, C, L]` of every position given `mask` and normalized `values`, both `[N, L]`.
    /// Logits at known positions are computed too; the losses ignore them.
    ///
    /// # Panics
    /// For a lecture model, which predicts only the next value: check
    /// [`ModelKind::is_any_order`] first.
    pub fn forward_all(&self, mask: Tensor<2>, values: Tensor<2>) -> Tensor<3> {
        let [n, len] = mask.dims();
        let c = self.spec.num_values;
        match &self.net {
            Net::ToyAnyOrder(net) => {
                let position = self.coordinate(len, mask.device()).reshape([1, len]).expand([n, len]);
                net.forward(Tensor::stack(vec![mask, values, position], 1))
            }
            Net::MnistAnyOrder(net) => net.forward(self.any_order_image(mask, values)).reshape([n, c, len]),
            Net::Toy(_) | Net::Mnist(_) => {
                panic!("the {} model predicts only the next value, not every position", self.spec.kind.name())
            }
        }
    }

    /// Logits `[N, C, K]` at `positions` `[N, K]` only, for integer sequences `[N, L]` known
    /// where `mask` is 1: [`ArModel::all_logits`] read at those positions. The image network then
    /// computes its head at those `K` pixels only (a seventh of its work at `K = L`).
    ///
    /// # Panics
    /// For a lecture model (see [`ArModel::forward_all`]).
    pub fn logits_at(&self, sequences: Tensor<2, Int>, mask: Tensor<2>, positions: Tensor<2, Int>) -> Tensor<3> {
        let values = self.normalize(sequences, mask.clone());
        match &self.net {
            Net::MnistAnyOrder(net) => net.head_at(net.features(self.any_order_image(mask, values)), positions),
            _ => {
                let all = self.forward_all(mask, values);
                let [n, c, _] = all.dims();
                let [_, k] = positions.dims();
                all.gather(2, positions.reshape([n, 1, k]).expand([n, c, k]))
            }
        }
    }

    /// The cross-entropy (nats) `[M]` at `rows` (flat indices `n L + l`, `M` of them) of the
    /// integer sequences `[N, L]` known where `mask` is 1: what [`ArModel::all_logits`] and
    /// [`position_cross_entropy`] give there. The image network computes its head and softmax at
    /// those rows only (the any-order loss and estimate need the unknown positions alone); `None`
    /// for the other networks and for no rows, before any work.
    pub fn rows_cross_entropy(&self, sequences: Tensor<2, Int>, mask: Tensor<2>, rows: &[i64]) -> Option<Tensor<1>> {
        let Net::MnistAnyOrder(net) = &self.net else {
            return None;
        };
        if rows.is_empty() {
            return None;
        }
        let [n, len] = sequences.dims();
        let rows = Tensor::<1, Int>::from_data(burn::tensor::TensorData::new(rows.to_vec(), [rows.len()]), &sequences.device());
        let targets = sequences.clone().reshape([n * len]).select(0, rows.clone());
        let values = self.normalize(sequences, mask.clone());
        Some(row_cross_entropy(net.head_rows(net.features(self.any_order_image(mask, values)), rows), targets))
    }

    /// Shows `probe` the activations of each layer of the any-order image network (its
    /// [`PROBED_LAYERS`]) for integer sequences `[N, L]` known where `mask` is 1; false,
    /// and nothing shown, for the other networks.
    pub fn probe_activations(&self, sequences: Tensor<2, Int>, mask: Tensor<2>, probe: &mut dyn FnMut(&'static str, &Tensor<4>)) -> bool {
        let Net::MnistAnyOrder(net) = &self.net else {
            return false;
        };
        let values = self.normalize(sequences, mask.clone());
        net.features_probed(self.any_order_image(mask, values), probe);
        true
    }

    /// The image network's input `[N, 4, H, W]`: mask, values, row and column coordinates.
    fn any_order_image(&self, mask: Tensor<2>, values: Tensor<2>) -> Tensor<4> {
        let [n, _] = mask.dims();
        let (h, w) = (self.spec.height(), self.spec.width);
        let device = mask.device();
        let rows = self.coordinate(h, device.clone()).reshape([1, 1, h, 1]).expand([n, 1, h, w]);
        let cols = self.coordinate(w, device).reshape([1, 1, 1, w]).expand([n, 1, h, w]);
        Tensor::cat(vec![self.image(mask, values), rows, cols], 1)
    }

    /// `0..size` scaled to [-1, 1], `[size]`: the position channels of the any-order networks.
    fn coordinate(&self, size: usize, device: Device) -> Tensor<1> {
        let scale = 2.0 / (size.max(2) - 1) as f64;
        Tensor::<1, Int>::arange(0..size as i64, &device).float().mul_scalar(scale).sub_scalar(1.0)
    }

    /// Logits `[N, C, L]` of every position for integer sequences `[N, L]` known where `mask` is 1.
    ///
    /// # Panics
    /// For a lecture model (see [`ArModel::forward_all`]).
    pub fn all_logits(&self, sequences: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<3> {
        let values = self.normalize(sequences, mask.clone());
        self.forward_all(mask, values)
    }

    /// The lecture's seq2tensor: `[N, 2, H, W]`; raster order is the image's memory order.
    fn image(&self, mask: Tensor<2>, values: Tensor<2>) -> Tensor<4> {
        let [n, _] = mask.dims();
        let (h, w) = (self.spec.height(), self.spec.width);
        let image = |t: Tensor<2>| t.reshape([n, 1, h, w]);
        Tensor::cat(vec![image(mask), image(values)], 1)
    }

    /// What [`ArModel::logits_row_skipped`] precomputes from the weights (nothing for the toy).
    pub fn row_skip(&self) -> RowSkip {
        match &self.net {
            Net::Mnist(net) => RowSkip(Some(net.row_skip_features(self.spec.height(), self.spec.width))),
            _ => RowSkip(None),
        }
    }

    /// Row skipping: the logits `[N, C]` of [`ArModel::logits`] when `mask` is 0 from position
    /// `skip_from` on (as in raster order). The lecture's image model then skips the rows below,
    /// whose features it knows in advance; other models run [`ArModel::logits`]. `row_skip` must
    /// come from this model's [`ArModel::row_skip`] (another size's panics on mismatched shapes).
    pub fn logits_row_skipped(&self, row_skip: &RowSkip, sequences: Tensor<2, Int>, mask: Tensor<2>, skip_from: usize) -> Tensor<2> {
        let values = self.normalize(sequences, mask.clone());
        match (&self.net, &row_skip.0) {
            (Net::Mnist(net), Some(features)) => {
                net.forward_row_skipped(self.image(mask, values), features, skip_from.div_ceil(self.spec.width))
            }
            _ => self.forward(mask, values),
        }
    }

    /// The network's value channel, `[N, L]`: `(x - mean) / std` with the spec's training
    /// statistics, zeroed where `mask` is 0 so that unknown values carry nothing.
    pub fn normalize(&self, sequences: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<2> {
        sequences
            .float()
            .sub_scalar(self.spec.mean)
            .div_scalar(self.spec.std)
            .mul(mask)
    }

    /// Logits `[N, C]` of the next value for integer sequences `[N, L]` known where `mask` is 1:
    /// [`ArModel::forward`] of the normalized values.
    pub fn logits(&self, sequences: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<2> {
        let values = self.normalize(sequences, mask.clone());
        self.forward(mask, values)
    }
}

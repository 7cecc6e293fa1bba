// Shared by the integration tests: the CPU device and small fixtures.
#![allow(dead_code, unused_imports)]

use autoregress::burn::module::{Module, ModuleMapper, Param};
use autoregress::burn::tensor::{Device, Tensor};
use autoregress::{ArModel, ModelKind, ModelSpec};
pub use autoregress::host::{floats, ints};

pub fn device() -> Device {
    Device::flex()
}

pub fn toy_model(len: usize) -> ArModel {
    ArModel::new(ModelSpec::toy(len, len as f32, 8.0), &device()).unwrap()
}

pub fn toy_any_order_model(len: usize) -> ArModel {
    ArModel::new(ModelSpec::for_kind(ModelKind::ToyAnyOrder, 1, len, len as f32, 8.0), &device()).unwrap()
}

pub fn mnist_any_order_model() -> ArModel {
    ArModel::new(ModelSpec::mnist_sized(ModelKind::MnistAnyOrder), &device()).unwrap()
}

pub fn mnist_model() -> ArModel {
    ArModel::new(ModelSpec::mnist_sized(ModelKind::Mnist), &device()).unwrap()
}

/// Every parameter set to 0: the logits are 0, the predicted distribution uniform.
pub fn zeroed(model: ArModel) -> ArModel {
    struct Zero;
    impl ModuleMapper for Zero {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| t.zeros_like())
        }
    }
    model.map(&mut Zero)
}



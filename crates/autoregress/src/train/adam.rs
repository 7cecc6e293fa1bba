//! Adam (Kingma & Ba 2015) for training: on the CPU backend (flex) one pass over each
//! parameter updates both moments and the weight; elsewhere (wgpu) Burn's own Adam, whose
//! element-wise kernels the GPU fuses. Burn's Adam on flex runs a dozen element-wise passes over
//! every parameter, each allocating its result.
//!
//! Same math as `burn::optim::Adam` (same defaults: beta 0.9, 0.999, epsilon 1e-5; no weight
//! decay) and the same state type, [`AdamState`], so checkpoints written by either load in the
//! other.

use burn::optim::{Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{DType, Device, Tensor, TensorData};

const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

/// The trainer's Adam: [`FusedAdam`] wrapped for whole modules.
pub fn adam() -> ModuleOptimizer {
    ModuleOptimizer::from(FusedAdam::new())
}

/// Burn's Adam with the same hyper-parameters as [`FusedAdam`] (the reference for tests).
pub fn burn_adam() -> Adam {
    AdamConfig::new().with_beta_1(BETA_1).with_beta_2(BETA_2).with_epsilon(EPSILON).build()
}

/// Adam in one pass per parameter on flex; Burn's Adam on other devices and dtypes.
#[derive(Clone)]
pub struct FusedAdam {
    fallback: Adam,
}

impl FusedAdam {
    /// Adam with the defaults above.
    pub fn new() -> Self {
        FusedAdam { fallback: burn_adam() }
    }
}

impl Default for FusedAdam {
    fn default() -> Self {
        Self::new()
    }
}

/// The values of a float tensor, moved out without a copy when flex holds them alone.
fn host_values<const D: usize>(t: Tensor<D>) -> TensorData {
    t.into_data()
}

fn f32_slice(data: &mut TensorData) -> &mut [f32] {
    data.as_mut_slice::<f32>().expect("checked to be f32")
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let device = tensor.device();
        let on_host = device == Device::flex() && tensor.dtype() == DType::F32 && grad.dtype() == DType::F32;
        let momentum = state.map(|s| s.momentum);
        if !on_host || momentum.as_ref().is_some_and(|m| m.max_moment_2.is_some()) {
            let state = momentum.map(AdamState::new);
            return self.fallback.step(lr, tensor, grad, state);
        }
        let shape = tensor.shape();
        let n = shape.num_elements();
        let (time, m1, m2) = match momentum {
            Some(m) => (m.time + 1, host_values(m.moment_1), host_values(m.moment_2)),
            None => (1, TensorData::new(vec![0f32; n], shape.clone()), TensorData::new(vec![0f32; n], shape.clone())),
        };
        let (mut p, g, mut m1, mut m2) = (host_values(tensor), host_values(grad), m1, m2);
        let g_data = g.as_slice::<f32>().expect("checked to be f32");
        // Burn's bias correction, folded into one factor and a scaled epsilon.
        let t = time as i32;
        let bias_correction2_sqrt = (1.0 - BETA_2.powi(t)).sqrt();
        let combined = bias_correction2_sqrt / (1.0 - BETA_1.powi(t));
        let eps = EPSILON * bias_correction2_sqrt;
        let lr = lr as f32;
        let (p_s, m1_s, m2_s) = (f32_slice(&mut p), f32_slice(&mut m1), f32_slice(&mut m2));
        assert!(g_data.len() == n && p_s.len() == n, "gradient and parameter sizes differ");
        for (((w, m), v), &g) in p_s.iter_mut().zip(m1_s.iter_mut()).zip(m2_s.iter_mut()).zip(g_data) {
            // The same operations in the same order as burn::optim::Adam.
            *m = *m * BETA_1 + g * (1.0 - BETA_1);
            *v = *v * BETA_2 + (g * g) * (1.0 - BETA_2);
            *w -= (*m * combined) / (v.sqrt() + eps) * lr;
        }
        let back = |data: TensorData| Tensor::<D>::from_data(data, &device);
        let state = AdamState::new(AdaptiveMomentumState::new(time, back(m1), back(m2)));
        (back(p), Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{random_positions, sequences_tensor, training_batch};
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use crate::rng::Rng;
    use crate::{ArModel, ModelSpec};

    /// Every float parameter of `model`, in visiting order.
    fn parameters(model: &ArModel) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(crate::host::floats(param.val()));
            }
        }
        let mut c = Collect(Vec::new());
        model.visit(&mut c);
        c.0
    }

    /// Three steps of `optim` from `model` on the same batches.
    fn three_steps(mut optim: ModuleOptimizer, mut model: ArModel) -> Vec<f32> {
        let device = Device::flex().autodiff();
        let mut rng = Rng::new(3);
        for _ in 0..3 {
            let seqs: Vec<u16> = (0..16 * 32).map(|_| rng.below(64) as u16).collect();
            let batch = training_batch(sequences_tensor(&seqs, 16, 32, &device), &random_positions(&mut rng, 16, 32));
            let grads = GradientsParams::from_grads(batch.loss(&model).backward(), &model);
            model = optim.step(3e-3, model, grads);
        }
        parameters(&model)
    }

    #[test]
    fn fused_adam_steps_like_burns_adam() {
        let model = ArModel::new(ModelSpec::toy(32, 32.0, 18.0), &Device::flex().autodiff()).unwrap();
        let before = parameters(&model);
        let fused = three_steps(adam(), model.clone());
        let burn = three_steps(ModuleOptimizer::from(burn_adam()), model);
        assert_eq!(fused.len(), burn.len());
        let moved = fused.iter().zip(&before).filter(|(a, b)| a != b).count();
        assert!(moved > fused.len() / 2, "only {moved} of {} weights moved", fused.len());
        let worst = fused.iter().zip(&burn).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-6, "fused and Burn's Adam differ by up to {worst}");
    }
}

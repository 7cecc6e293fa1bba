//! Fused kernels on the CPU backend (flex) for the any-order U-Net, forward and backward: group
//! normalization followed by GELU, and the per-position cross-entropy of logits.
//!
//! Why: Burn composes group normalization from a dozen tensor operations and GELU from `erf`,
//! and `log_softmax` then `gather` from several more, each a pass over memory with its own
//! allocation and, under autodiff, its own backward. In the U-Net's training step those passes
//! took about as long as all its convolutions' arithmetic (docs/speed.md). Here each is two or
//! three passes, with a vectorizable `exp` and `erf` (per element, `f32`), compiled for the
//! widest SIMD the CPU has.
//!
//! The models call them through [`super::layers`] on flex (feature `cpu-kernels`); the other
//! backends (wgpu, the page) compute the same functions with Burn's operations.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{Tensor, TensorData};
use burn_flex::FlexTensor;
use rayon::prelude::*;

/// The fused operations: flex computes them, autodiff on flex differentiates them.
#[backend_extension(Flex, Autodiff)]
pub trait FusedOps: Backend {
    /// `GELU(GroupNorm(x))` for `x [N, C, ...]`, `gamma [C]`, `beta [C]`, in `groups` groups of
    /// consecutive channels, the variance (biased) plus `epsilon` under the square root.
    fn group_norm_gelu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        groups: usize,
        epsilon: f32,
    ) -> FloatTensor<Self>;
    /// `-log softmax(logits)[target]` over the values axis: `logits [N, C, L]`, `targets [N, L]`
    /// (the values `0..C` as floats) to `[N, L]` (nats).
    fn cross_entropy(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The same for logits `[M, C]`, one row per position, and targets `[M]`: `[M]` (nats).
    fn cross_entropy_rows(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FusedOps for Flex {
    fn group_norm_gelu(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor, groups: usize, epsilon: f32) -> FlexTensor {
        norm_forward(&x, &gamma, &beta, Norm { groups, epsilon })
    }

    fn cross_entropy(logits: FlexTensor, targets: FlexTensor) -> FlexTensor {
        Layout::Channels.forward(&logits, &targets).0
    }

    fn cross_entropy_rows(logits: FlexTensor, targets: FlexTensor) -> FlexTensor {
        Layout::Rows.forward(&logits, &targets).0
    }
}

/// The number of groups and the epsilon of a group normalization.
#[derive(Clone, Copy, Debug)]
struct Norm {
    groups: usize,
    epsilon: f32,
}

#[derive(Debug)]
struct NormBackward;

impl Backward<Flex, 3> for NormBackward {
    type State = (NodeId, NodeId, NodeId, Norm);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, gamma, beta, norm) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x);
        let gamma: FlexTensor = checkpointer.retrieve_node_output(gamma);
        let beta: FlexTensor = checkpointer.retrieve_node_output(beta);
        let g = norm_backward(&x, &gamma, &beta, &grad, norm);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, g.x);
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, g.gamma);
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, g.beta);
        }
    }
}

/// Where the classes lie in the logits of a cross-entropy.
#[derive(Clone, Copy, Debug)]
enum Layout {
    /// `[N, C, L]`, targets `[N, L]`: the network's output.
    Channels,
    /// `[M, C]`, targets `[M]`: one row per position.
    Rows,
}

impl Layout {
    /// The cross-entropy and the log-sum-exp the backward pass reuses.
    fn forward(self, logits: &FlexTensor, targets: &FlexTensor) -> (FlexTensor, FlexTensor) {
        match self {
            Layout::Channels => entropy_forward(logits, targets),
            Layout::Rows => rows_forward(logits, targets),
        }
    }

    fn backward(self, logits: &FlexTensor, targets: &FlexTensor, lse: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
        match self {
            Layout::Channels => entropy_backward(logits, targets, lse, grad),
            Layout::Rows => rows_backward(logits, targets, lse, grad),
        }
    }
}

#[derive(Debug)]
struct EntropyBackward(Layout);

impl Backward<Flex, 1> for EntropyBackward {
    /// The logits, the targets and the log-sum-exp of the forward pass.
    type State = (NodeId, FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_logits] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (logits, targets, lse) = ops.state;
        let logits: FlexTensor = checkpointer.retrieve_node_output(logits);
        if let Some(node) = node_logits {
            grads.register::<Flex>(node.id, self.0.backward(&logits, &targets, &lse, &grad));
        }
    }
}

/// A cross-entropy in either layout under autodiff: the gradient flows to the logits only.
fn tracked_entropy<C: CheckpointStrategy>(
    logits: FloatTensor<Autodiff<Flex, C>>,
    targets: FloatTensor<Autodiff<Flex, C>>,
    layout: Layout,
) -> FloatTensor<Autodiff<Flex, C>> {
    let targets = targets.primitive().clone();
    match EntropyBackward(layout).prepare::<C>([logits.node()]).compute_bound().stateful() {
        OpsKind::Tracked(mut prep) => {
            let (y, lse) = layout.forward(logits.primitive(), &targets);
            let state = (prep.checkpoint(&logits), targets, lse);
            prep.finish(state, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(layout.forward(logits.primitive(), &targets).0),
    }
}

impl<C: CheckpointStrategy> FusedOps for Autodiff<Flex, C> {
    fn group_norm_gelu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        groups: usize,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        let norm = Norm { groups, epsilon };
        match NormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&gamma), prep.checkpoint(&beta), norm);
                let y = norm_forward(x.primitive(), gamma.primitive(), beta.primitive(), norm);
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(norm_forward(x.primitive(), gamma.primitive(), beta.primitive(), norm)),
        }
    }

    fn cross_entropy(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked_entropy::<C>(logits, targets, Layout::Channels)
    }

    fn cross_entropy_rows(logits: FloatTensor<Self>, targets: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked_entropy::<C>(logits, targets, Layout::Rows)
    }
}

/// `GELU(GroupNorm(x))`: `x [N, C, ...]`, `gamma` and `beta` `[C]`, `groups` dividing `C`; on
/// flex, with or without autodiff.
///
/// # Panics
/// When the tensors are on another device or not f32, `groups` does not divide `C`, or `gamma`
/// and `beta` do not hold `C` values.
pub fn group_norm_gelu<const D: usize>(x: Tensor<D>, gamma: Tensor<1>, beta: Tensor<1>, groups: usize, epsilon: f32) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::group_norm_gelu(
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
        groups,
        epsilon,
    ))
}

/// `-log softmax(logits)[target]` over axis 1: `logits [N, C, L]`, `targets [N, L]` (values in
/// `0..C`, as floats) to `[N, L]` (nats); on flex, with or without autodiff. No gradient flows to
/// `targets`.
///
/// # Panics
/// When the tensors are on another device or not f32, or their shapes do not match. A target
/// outside `0..C` panics too (checked per position).
pub fn cross_entropy(logits: Tensor<3>, targets: Tensor<2>) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::cross_entropy(logits.into_dispatch(), targets.into_dispatch()))
}

/// `-log softmax(logits)[target]` along each row: `logits [M, C]`, `targets [M]` (values in
/// `0..C`, as floats) to `[M]` (nats); on flex, with or without autodiff. No gradient flows to
/// `targets`.
///
/// # Panics
/// As [`cross_entropy`].
pub fn cross_entropy_rows(logits: Tensor<2>, targets: Tensor<1>) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as FusedOps>::cross_entropy_rows(logits.into_dispatch(), targets.into_dispatch()))
}

/// `e^x` to about 2e-7 relative error, branch-free so that loops over it vectorize; inputs below
/// -87 give about 1e-38 instead of less.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer.
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let k = shifted - ROUND;
    // x - k ln 2 in two parts (Cody and Waite), |r| <= ln(2) / 2.
    let r = (x - k * 0.693_145_75) - k * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^k from the integer k in `shifted`'s low mantissa bits: integer operations, which
    // vectorize, where `k as i32` (a saturating cast in Rust) is done lane by lane.
    let k_bits = shifted.to_bits() as i32 - ROUND.to_bits() as i32;
    p * f32::from_bits(((k_bits + 127) as u32) << 23)
}

/// `(Φ(z), φ(z))`, the standard normal distribution function and density at `z`: `Φ` from
/// Abramowitz and Stegun's 7.1.26 for `erf` (absolute error below 1.5e-7), with one `exp`
/// shared by both.
#[inline(always)]
fn normal_cdf_pdf(z: f32) -> (f32, f32) {
    let e = exp(-0.5 * z * z);
    let u = z.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * u);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    let tail = 0.5 * poly * e; // Φ(-|z|)
    let cdf = if z >= 0.0 { 1.0 - tail } else { tail };
    (cdf, e * 0.398_942_3)
}

/// The values of a flex f32 tensor, contiguous (copied only when they are not).
fn values(t: &FlexTensor) -> FlexTensor {
    let t = t.to_contiguous();
    assert!(t.as_slice::<f32>().is_some(), "cpu_fused: f32 tensors expected");
    t
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("made contiguous f32 by `values`")
}

/// `[N, C, rest]` of `x`, checked against `gamma`, `beta` and the groups.
fn norm_sizes(x: &FlexTensor, gamma: &[f32], beta: &[f32], norm: Norm) -> (Vec<usize>, [usize; 3]) {
    let dims: Vec<usize> = (0..x.layout().shape().num_dims()).map(|i| x.layout().shape()[i]).collect();
    assert!(dims.len() >= 2, "group_norm_gelu: an input [N, C, ...] expected, got {dims:?}");
    let (n, c) = (dims[0], dims[1]);
    let rest = dims[2..].iter().product();
    assert!(norm.groups > 0 && c.is_multiple_of(norm.groups), "group_norm_gelu: {} groups do not divide {c} channels", norm.groups);
    assert!(gamma.len() == c && beta.len() == c, "group_norm_gelu: {c} scales and offsets expected");
    (dims, [n, c, rest])
}

/// `fn name(args) -> ret { body }` compiled three times: for AVX-512, for AVX2 and for the
/// baseline, the widest the CPU has chosen at run time. The kernels' loops are written to
/// vectorize (element-wise, or with [`LANES`] partial sums); the baseline x86-64 target would
/// use 4 lanes of the 16 the machines here have.
macro_rules! widest_simd {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn generic($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? { generic($($arg),*) }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just now).
                    return unsafe { avx512($($arg),*) };
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 (checked just now).
                    return unsafe { avx2($($arg),*) };
                }
            }
            generic($($arg),*)
        }
    };
}

/// Partial sums kept side by side, so that reductions vectorize (floating-point sums are not
/// reordered otherwise).
const LANES: usize = 16;

/// `sum` of `f(i)` over `0..len` in [`LANES`] partial sums.
#[inline(always)]
fn lane_sum(len: usize, f: impl Fn(usize) -> f32) -> f32 {
    let mut acc = [0f32; LANES];
    let whole = len - len % LANES;
    for base in (0..whole).step_by(LANES) {
        for (k, a) in acc.iter_mut().enumerate() {
            *a += f(base + k);
        }
    }
    acc.iter().sum::<f32>() + (whole..len).map(f).sum::<f32>()
}

/// The mean and `1 / sqrt(variance + epsilon)` of one group's values.
#[inline(always)]
fn moments(v: &[f32], epsilon: f32) -> (f32, f32) {
    let m = v.len() as f32;
    let mean = lane_sum(v.len(), |i| v[i]) / m;
    let var = lane_sum(v.len(), |i| (v[i] - mean) * (v[i] - mean)) / m;
    (mean, 1.0 / (var + epsilon).sqrt())
}

widest_simd! {
    /// One group's `GELU(gamma (x - mean) / sigma + beta)`, channel by channel (`rest` values
    /// each; `gamma` and `beta` the group's).
    fn norm_group_forward(y: &mut [f32], x: &[f32], gamma: &[f32], beta: &[f32], rest: usize, epsilon: f32) {
        let (mean, rstd) = moments(x, epsilon);
        for ((y, x), (&g, &b)) in y.chunks_mut(rest).zip(x.chunks(rest)).zip(gamma.iter().zip(beta)) {
            let a = g * rstd;
            let b = b - mean * a;
            for (y, &x) in y.iter_mut().zip(x) {
                let z = x * a + b;
                *y = z * normal_cdf_pdf(z).0;
            }
        }
    }
}

widest_simd! {
    /// One group's input gradient into `gx`, and its channels' scale and offset gradients.
    #[allow(clippy::too_many_arguments)]
    fn norm_group_backward(
        gx: &mut [f32],
        x: &[f32],
        dy: &[f32],
        gamma: &[f32],
        beta: &[f32],
        rest: usize,
        epsilon: f32,
        dgamma: &mut [f32],
        dbeta: &mut [f32],
    ) {
        let (mean, rstd) = moments(x, epsilon);
        let (mut sum, mut sum_xhat) = (0f32, 0f32);
        // First pass: dxhat = gamma GELU'(z) dy into gx, and the sums over the group.
        for k in 0..gamma.len() {
            let (g, b) = (gamma[k], beta[k]);
            let range = k * rest..(k + 1) * rest;
            let (x, dy, gx) = (&x[range.clone()], &dy[range.clone()], &mut gx[range]);
            for ((gx, &x), &dy) in gx.iter_mut().zip(x).zip(dy) {
                let z = g * (x - mean) * rstd + b;
                let (cdf, pdf) = normal_cdf_pdf(z);
                *gx = dy * (cdf + z * pdf); // dz, for now
            }
            let dz = &*gx;
            dgamma[k] = lane_sum(rest, |i| dz[i] * (x[i] - mean) * rstd);
            dbeta[k] = lane_sum(rest, |i| dz[i]);
            sum += g * dbeta[k];
            sum_xhat += g * dgamma[k];
        }
        // Second pass: dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = gamma dz.
        let m = x.len() as f32;
        let (mean_d, mean_dx) = (sum / m, sum_xhat / m);
        for k in 0..gamma.len() {
            let g = gamma[k];
            let range = k * rest..(k + 1) * rest;
            for (gx, &x) in gx[range.clone()].iter_mut().zip(&x[range]) {
                let xhat = (x - mean) * rstd;
                *gx = rstd * (g * *gx - mean_d - xhat * mean_dx);
            }
        }
    }
}

fn norm_forward(x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor, norm: Norm) -> FlexTensor {
    let (x, gamma, beta) = (values(x), values(gamma), values(beta));
    let (xv, gv, bv) = (slice(&x), slice(&gamma), slice(&beta));
    let (dims, [_, c, rest]) = norm_sizes(&x, gv, bv, norm);
    let per_group = c / norm.groups;
    let mut out = vec![0f32; xv.len()];
    out.par_chunks_mut(per_group * rest).zip(xv.par_chunks(per_group * rest)).enumerate().for_each(|(i, (y, x))| {
        let first = (i % norm.groups) * per_group;
        let channels = first..first + per_group;
        norm_group_forward(y, x, &gv[channels.clone()], &bv[channels], rest, norm.epsilon);
    });
    FlexTensor::from_data(TensorData::new(out, dims))
}

struct NormGrads {
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
}

fn norm_backward(x: &FlexTensor, gamma: &FlexTensor, beta: &FlexTensor, grad: &FlexTensor, norm: Norm) -> NormGrads {
    let (x, gamma, beta, grad) = (values(x), values(gamma), values(beta), values(grad));
    let (xv, gv, bv, dv) = (slice(&x), slice(&gamma), slice(&beta), slice(&grad));
    let (dims, [_, c, rest]) = norm_sizes(&x, gv, bv, norm);
    let per_group = c / norm.groups;
    let chunk = per_group * rest;
    let mut gx = vec![0f32; xv.len()];
    // Per group: dx, and this group's channels' dgamma and dbeta.
    let parts: Vec<(usize, Vec<f32>, Vec<f32>)> = gx
        .par_chunks_mut(chunk)
        .zip(xv.par_chunks(chunk).zip(dv.par_chunks(chunk)))
        .enumerate()
        .map(|(i, (gx, (x, dy)))| {
            let first = (i % norm.groups) * per_group;
            let channels = first..first + per_group;
            let (mut dgamma, mut dbeta) = (vec![0f32; per_group], vec![0f32; per_group]);
            norm_group_backward(gx, x, dy, &gv[channels.clone()], &bv[channels], rest, norm.epsilon, &mut dgamma, &mut dbeta);
            (first, dgamma, dbeta)
        })
        .collect();
    let (mut dgamma, mut dbeta) = (vec![0f32; c], vec![0f32; c]);
    for (first, dg, db) in parts {
        for k in 0..per_group {
            dgamma[first + k] += dg[k];
            dbeta[first + k] += db[k];
        }
    }
    NormGrads {
        x: FlexTensor::from_data(TensorData::new(gx, dims)),
        gamma: FlexTensor::from_data(TensorData::new(dgamma, [c])),
        beta: FlexTensor::from_data(TensorData::new(dbeta, [c])),
    }
}

/// `[N, C, L]` of the logits, checked against the targets `[N, L]`.
fn entropy_sizes(logits: &FlexTensor, targets: &FlexTensor) -> [usize; 3] {
    let (s, t) = (logits.layout().shape(), targets.layout().shape());
    assert!(s.num_dims() == 3 && t.num_dims() == 2, "cross_entropy: logits [N, C, L] and targets [N, L] expected");
    assert!(s[0] == t[0] && s[2] == t[1], "cross_entropy: logits {s:?} and targets {t:?} do not match");
    [s[0], s[1], s[2]]
}

widest_simd! {
    /// Per position of one sequence's logits `[C, L]` (`L` = `lse.len()`): the log of the
    /// softmax's denominator, `max + ln(sum(exp(x - max)))`, into `lse`; `work [L]` is scratch.
    fn log_sum_exp(x: &[f32], lse: &mut [f32], work: &mut [f32]) {
        let len = lse.len();
        lse.copy_from_slice(&x[..len]);
        for row in x.chunks(len).skip(1) {
            for (m, &v) in lse.iter_mut().zip(row) {
                *m = m.max(v);
            }
        }
        work.fill(0.0);
        for row in x.chunks(len) {
            for ((s, &m), &v) in work.iter_mut().zip(lse.iter()).zip(row) {
                *s += exp(v - m);
            }
        }
        for (m, s) in lse.iter_mut().zip(work.iter()) {
            *m += s.ln();
        }
    }
}

widest_simd! {
    /// `dx [C, L] = g [L] softmax(x [C, L])`, the softmax from `lse [L]`.
    fn softmax_scaled(dx: &mut [f32], x: &[f32], lse: &[f32], g: &[f32]) {
        let len = lse.len();
        for (d_row, row) in dx.chunks_mut(len).zip(x.chunks(len)) {
            for (((d, &v), &m), &g) in d_row.iter_mut().zip(row).zip(lse).zip(g) {
                *d = g * exp(v - m);
            }
        }
    }
}

/// Rows per parallel task of the row-wise cross-entropy.
const ROWS_PER_TASK: usize = 64;

widest_simd! {
    /// Per row of `x [rows, C]` (`C` = `x.len() / lse.len()`): `max + ln(sum(exp(x - max)))`.
    fn row_log_sum_exp(x: &[f32], lse: &mut [f32]) {
        let c = x.len() / lse.len();
        for (row, lse) in x.chunks(c).zip(lse.iter_mut()) {
            let mut peak = [f32::NEG_INFINITY; LANES];
            for chunk in row.chunks(LANES) {
                for (p, &v) in peak.iter_mut().zip(chunk) {
                    *p = p.max(v);
                }
            }
            let m = peak.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            *lse = m + lane_sum(c, |i| exp(row[i] - m)).ln();
        }
    }
}

widest_simd! {
    /// `dx [rows, C] = g [rows] softmax(x [rows, C])`, the softmax from `lse [rows]`.
    fn row_softmax_scaled(dx: &mut [f32], x: &[f32], lse: &[f32], g: &[f32]) {
        let c = x.len() / lse.len();
        for (((d, row), &m), &g) in dx.chunks_mut(c).zip(x.chunks(c)).zip(lse).zip(g) {
            for (d, &v) in d.iter_mut().zip(row) {
                *d = g * exp(v - m);
            }
        }
    }
}

/// `[M, C]` of the logits, checked against the targets `[M]`.
fn rows_sizes(logits: &FlexTensor, targets: &FlexTensor) -> [usize; 2] {
    let (s, t) = (logits.layout().shape(), targets.layout().shape());
    assert!(s.num_dims() == 2 && t.num_dims() == 1 && s[0] == t[0], "cross_entropy_rows: logits [M, C] and targets [M] expected, got {s:?} and {t:?}");
    [s[0], s[1]]
}

/// The cross-entropy `[M]` and the log-sum-exp `[M]` the backward pass reuses.
fn rows_forward(logits: &FlexTensor, targets: &FlexTensor) -> (FlexTensor, FlexTensor) {
    let [m, c] = rows_sizes(logits, targets);
    let (logits, targets) = (values(logits), values(targets));
    let (xv, tv) = (slice(&logits), slice(&targets));
    let (mut out, mut lse) = (vec![0f32; m], vec![0f32; m]);
    out.par_chunks_mut(ROWS_PER_TASK).zip(lse.par_chunks_mut(ROWS_PER_TASK)).enumerate().for_each(|(i, (ce, lse))| {
        let first = i * ROWS_PER_TASK;
        let x = &xv[first * c..][..lse.len() * c];
        row_log_sum_exp(x, lse);
        for (r, (ce, &m)) in ce.iter_mut().zip(lse.iter()).enumerate() {
            *ce = m - x[r * c + class(tv[first + r], c)];
        }
    });
    (FlexTensor::from_data(TensorData::new(out, [m])), FlexTensor::from_data(TensorData::new(lse, [m])))
}

/// `d logits [r, k] = grad [r] (softmax [r, k] - [k == target [r]])`.
fn rows_backward(logits: &FlexTensor, targets: &FlexTensor, lse: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    let [m, c] = rows_sizes(logits, targets);
    let (logits, targets, lse, grad) = (values(logits), values(targets), values(lse), values(grad));
    let (xv, tv, lv, gv) = (slice(&logits), slice(&targets), slice(&lse), slice(&grad));
    let mut out = vec![0f32; m * c];
    out.par_chunks_mut(ROWS_PER_TASK * c).enumerate().for_each(|(i, dx)| {
        let first = i * ROWS_PER_TASK;
        let rows = dx.len() / c;
        let g = &gv[first..][..rows];
        row_softmax_scaled(dx, &xv[first * c..][..rows * c], &lv[first..][..rows], g);
        for (r, &t) in tv[first..][..rows].iter().enumerate() {
            dx[r * c + class(t, c)] -= g[r];
        }
    });
    FlexTensor::from_data(TensorData::new(out, [m, c]))
}

/// The value at each position, checked to be a class.
fn class(target: f32, c: usize) -> usize {
    assert!(target >= 0.0 && (target as usize) < c && target.fract() == 0.0, "cross_entropy: target {target} is not in 0..{c}");
    target as usize
}

/// The cross-entropy `[N, L]` and the log-sum-exp `[N, L]` the backward pass reuses.
fn entropy_forward(logits: &FlexTensor, targets: &FlexTensor) -> (FlexTensor, FlexTensor) {
    let [n, c, len] = entropy_sizes(logits, targets);
    let (logits, targets) = (values(logits), values(targets));
    let (xv, tv) = (slice(&logits), slice(&targets));
    let (mut out, mut lse) = (vec![0f32; n * len], vec![0f32; n * len]);
    out.par_chunks_mut(len).zip(lse.par_chunks_mut(len)).enumerate().for_each_init(
        || vec![0f32; len],
        |work, (i, (ce, lse))| {
            let x = &xv[i * c * len..][..c * len];
            log_sum_exp(x, lse, work);
            for (l, ((ce, &m), &t)) in ce.iter_mut().zip(lse.iter()).zip(&tv[i * len..][..len]).enumerate() {
                *ce = m - x[class(t, c) * len + l];
            }
        },
    );
    (FlexTensor::from_data(TensorData::new(out, [n, len])), FlexTensor::from_data(TensorData::new(lse, [n, len])))
}

/// `d logits [n, k, l] = grad [n, l] (softmax [n, k, l] - [k == target [n, l]])`.
fn entropy_backward(logits: &FlexTensor, targets: &FlexTensor, lse: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    let [n, c, len] = entropy_sizes(logits, targets);
    let (logits, targets, lse, grad) = (values(logits), values(targets), values(lse), values(grad));
    let (xv, tv, lv, gv) = (slice(&logits), slice(&targets), slice(&lse), slice(&grad));
    let mut out = vec![0f32; n * c * len];
    out.par_chunks_mut(c * len).enumerate().for_each(|(i, dx)| {
        let g = &gv[i * len..][..len];
        softmax_scaled(dx, &xv[i * c * len..][..c * len], &lv[i * len..][..len], g);
        for (l, &t) in tv[i * len..][..len].iter().enumerate() {
            dx[class(t, c) * len + l] -= g[l];
        }
    });
    FlexTensor::from_data(TensorData::new(out, [n, c, len]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::GroupNormConfig;
    use burn::tensor::activation::{gelu, log_softmax};
    use burn::tensor::{Device, Distribution, Int};

    fn differ<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        assert_eq!(a.dims(), b.dims());
        (a - b).abs().max().into_scalar()
    }

    #[test]
    fn exp_and_the_normal_distribution_are_accurate() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.04;
            let (ours, exact) = (exp(x), x.exp());
            assert!((ours - exact).abs() <= 4e-7 * exact, "exp({x}) = {ours}, not {exact}");
            let z = i as f32 * 0.004;
            let (cdf, pdf) = normal_cdf_pdf(z);
            let exact_cdf = 0.5 * (1.0 + libm_erf(z as f64 / std::f64::consts::SQRT_2));
            assert!((cdf as f64 - exact_cdf).abs() < 3e-7, "Φ({z}) = {cdf}, not {exact_cdf}");
            let exact_pdf = (-0.5 * (z as f64).powi(2)).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!((pdf as f64 - exact_pdf).abs() < 1e-7, "φ({z}) = {pdf}, not {exact_pdf}");
        }
    }

    /// erf by its Taylor series (|x| < 3) or its continued fraction, in f64: a reference far
    /// more accurate than the kernel's.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() < 3.0 {
            let (mut term, mut sum) = (x, x);
            for k in 1..200 {
                term *= -x * x / k as f64;
                sum += term / (2 * k + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let a = x.abs();
            let mut f = 0.0;
            for k in (1..60).rev() {
                f = k as f64 / 2.0 / (a + f);
            }
            let tail = (-a * a).exp() / std::f64::consts::PI.sqrt() / (a + f);
            x.signum() * (1.0 - tail)
        }
    }

    /// The fused group normalization and GELU against Burn's `GroupNorm` then `gelu`, forward and
    /// every gradient, with scales and offsets away from their initial values.
    #[test]
    fn group_norm_gelu_and_its_gradients_equal_burns() {
        let device = Device::flex().autodiff();
        for (channels, groups, side) in [(6, 3, 5), (8, 8, 3), (4, 1, 7)] {
            let gamma = Tensor::<1>::random([channels], Distribution::Normal(1.0, 0.5), &device).require_grad();
            let beta = Tensor::<1>::random([channels], Distribution::Normal(0.0, 0.5), &device).require_grad();
            let x = Tensor::<4>::random([3, channels, side, side + 1], Distribution::Normal(0.5, 2.0), &device).require_grad();
            let ours = group_norm_gelu(x.clone(), gamma.clone(), beta.clone(), groups, 1e-5);
            let shape = [1, channels, 1, 1];
            let burns = gelu(
                GroupNormConfig::new(groups, channels)
                    .with_affine(false)
                    .init(&device)
                    .forward(x.clone())
                    .mul(gamma.clone().reshape(shape))
                    .add(beta.clone().reshape(shape)),
            );
            let d = differ(ours.clone(), burns.clone());
            assert!(d < 1e-5, "{channels} channels in {groups} groups: outputs differ by {d}");
            let r = Tensor::<4>::random(burns.dims(), Distribution::Default, &device);
            let (g_ours, g_burns) = ((ours * r.clone()).sum().backward(), (burns * r).sum().backward());
            let d = differ(x.grad(&g_ours).expect("dx"), x.grad(&g_burns).expect("dx"));
            assert!(d < 1e-4, "input gradients differ by {d}");
            let d = differ(gamma.grad(&g_ours).expect("dgamma"), gamma.grad(&g_burns).expect("dgamma"));
            assert!(d < 1e-4, "scale gradients differ by {d}");
            let d = differ(beta.grad(&g_ours).expect("dbeta"), beta.grad(&g_burns).expect("dbeta"));
            assert!(d < 1e-4, "offset gradients differ by {d}");
        }
    }

    /// The fused cross-entropy against Burn's `log_softmax` then `gather`, forward and gradient.
    #[test]
    fn cross_entropy_and_its_gradient_equal_burns() {
        let device = Device::flex().autodiff();
        let (n, c, len) = (3, 7, 10);
        let logits = Tensor::<3>::random([n, c, len], Distribution::Normal(0.0, 3.0), &device).require_grad();
        let targets = Tensor::<2, Int>::random([n, len], Distribution::Uniform(0.0, c as f64), &device);
        let ours = cross_entropy(logits.clone(), targets.clone().float());
        let burns = log_softmax(logits.clone(), 1).gather(1, targets.reshape([n, 1, len])).reshape([n, len]).neg();
        let d = differ(ours.clone(), burns.clone());
        assert!(d < 1e-5, "outputs differ by {d}");
        let r = Tensor::<2>::random([n, len], Distribution::Default, &device);
        let (g_ours, g_burns) = ((ours * r.clone()).sum().backward(), (burns * r).sum().backward());
        let d = differ(logits.grad(&g_ours).expect("a gradient"), logits.grad(&g_burns).expect("a gradient"));
        assert!(d < 1e-5, "gradients differ by {d}");
    }

    /// The row-wise cross-entropy against Burn's, forward and gradient, over more rows than one
    /// task takes and a row length that is not a multiple of the lanes.
    #[test]
    fn cross_entropy_rows_and_its_gradient_equal_burns() {
        let device = Device::flex().autodiff();
        let (m, c) = (2 * ROWS_PER_TASK + 5, 37);
        let logits = Tensor::<2>::random([m, c], Distribution::Normal(0.0, 3.0), &device).require_grad();
        let targets = Tensor::<1, Int>::random([m], Distribution::Uniform(0.0, c as f64), &device);
        let ours = cross_entropy_rows(logits.clone(), targets.clone().float());
        let burns = log_softmax(logits.clone(), 1).gather(1, targets.reshape([m, 1])).reshape([m]).neg();
        let d = differ(ours.clone(), burns.clone());
        assert!(d < 1e-5, "outputs differ by {d}");
        let r = Tensor::<1>::random([m], Distribution::Default, &device);
        let (g_ours, g_burns) = ((ours * r.clone()).sum().backward(), (burns * r).sum().backward());
        let d = differ(logits.grad(&g_ours).expect("a gradient"), logits.grad(&g_burns).expect("a gradient"));
        assert!(d < 1e-5, "gradients differ by {d}");
    }
}

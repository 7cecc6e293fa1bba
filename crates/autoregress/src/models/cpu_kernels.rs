//! Convolutions and max-pools on the CPU backend (flex), with our own forward and backward
//! kernels.
//!
//! A 2-D convolution of stride 1 with zero padding (per axis) and dilation: per image, patches (im2col, `[C*KH*KW, OH*OW]`) times
//! weights with the `gemm` crate, the output already in NCHW; backward, the weight gradient as
//! the output gradient times the patches (recomputed, never stored for the whole batch), the
//! input gradient as the weights times the output gradient scattered back (col2im), and only
//! when the input needs one. Images run in parallel (rayon), one block per thread, each with its
//! own weight-gradient accumulator.
//!
//! A max-pool with the window as its stride: one pass forward; backward, the gradient goes to
//! each window's maximum, found again in the input (ties: the first in raster order).
//!
//! Why: flex runs every convolution as a 3-D one, and its backward as a transposed convolution
//! plus a weight gradient that together take twice PyTorch's time for the lecture's conv2, and its
//! max-pool is several times slower than one pass (docs/speed.md). The models call them
//! through [`super::layers`] on flex (feature `cpu-kernels`); the other backends keep Burn's
//! `Conv2d` and `MaxPool2d`.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::tensor::{Tensor, TensorData};
use burn_flex::FlexTensor;
use gemm::{Parallelism, gemm};
use rayon::prelude::*;

/// The layers as backend operations: flex computes them, autodiff on flex differentiates them.
#[backend_extension(Flex, Autodiff)]
pub trait CpuKernelOps: Backend {
    /// `x [N, C, H, W]`, `weight [O, C, KH, KW]`, `bias [O]` to `[N, O, OH, OW]`, stride 1,
    /// `padding = [rows, columns]` zeros above and below, left and right, kernel taps
    /// `dilation` apart.
    fn conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
        dilation: usize,
    ) -> FloatTensor<Self>;
    /// `x [N, C, H, W]` to `[N, C, H/k, W/k]`: the maximum of each `k x k` window.
    fn max_pool2d(x: FloatTensor<Self>, k: usize) -> FloatTensor<Self>;
}

impl CpuKernelOps for Flex {
    fn conv2d(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, padding: [usize; 2], dilation: usize) -> FlexTensor {
        forward(&x, &weight, &bias, Geometry { padding, dilation })
    }

    fn max_pool2d(x: FlexTensor, k: usize) -> FlexTensor {
        pool_forward(&x, k)
    }
}

#[derive(Debug)]
struct Conv2dBackward;

impl Backward<Flex, 3> for Conv2dBackward {
    type State = (NodeId, NodeId, Geometry);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, weight, geometry) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x);
        let weight: FlexTensor = checkpointer.retrieve_node_output(weight);
        let g = backward(&x, &weight, &grad, geometry, node_x.is_some());
        if let (Some(node), Some(gx)) = (node_x, g.x) {
            grads.register::<Flex>(node.id, gx);
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, g.weight);
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(node.id, g.bias);
        }
    }
}

#[derive(Debug)]
struct MaxPool2dBackward;

impl Backward<Flex, 1> for MaxPool2dBackward {
    type State = (NodeId, usize);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let (x, k) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, pool_backward(&x, k, &grad));
        }
    }
}

impl<C: CheckpointStrategy> CpuKernelOps for Autodiff<Flex, C> {
    fn conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
        dilation: usize,
    ) -> FloatTensor<Self> {
        let geometry = Geometry { padding, dilation };
        match Conv2dBackward.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight), geometry);
                let y = forward(x.primitive(), weight.primitive(), bias.primitive(), geometry);
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive(), weight.primitive(), bias.primitive(), geometry)),
        }
    }

    fn max_pool2d(x: FloatTensor<Self>, k: usize) -> FloatTensor<Self> {
        match MaxPool2dBackward.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), k);
                prep.finish(state, pool_forward(x.primitive(), k))
            }
            OpsKind::UnTracked(prep) => prep.finish(pool_forward(x.primitive(), k)),
        }
    }
}

/// `x [N, C, H, W]` convolved with `weight [O, C, KH, KW]` plus `bias [O]`, stride 1, with
/// `padding = [rows, columns]` zeros above and below, left and right, and kernel taps
/// `dilation` apart: `[N, O, OH, OW]` with `OH = H + 2 rows - dilation (KH - 1)`,
/// `OW = W + 2 columns - dilation (KW - 1)`. Every input must be on flex (with or without
/// autodiff).
///
/// # Panics
/// When the tensors are on another device or not f32, their shapes do not match, `dilation` is
/// 0, or the kernel does not fit the padded input.
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>, padding: [usize; 2], dilation: usize) -> Tensor<4> {
    assert!(dilation > 0, "conv2d: a dilation of at least 1 expected");
    Tensor::from_dispatch(<Dispatch as CpuKernelOps>::conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        padding,
        dilation,
    ))
}

/// `x [N, C, H, W]` to `[N, C, H/k, W/k]`: the maximum of each `k x k` window (stride `k`;
/// the last rows and columns dropped when `k` does not divide the side), on flex.
///
/// # Panics
/// When `x` is on another device or not f32, or `k` is 0.
pub fn max_pool2d(x: Tensor<4>, k: usize) -> Tensor<4> {
    assert!(k > 0, "max_pool2d: a window of at least 1 expected");
    Tensor::from_dispatch(<Dispatch as CpuKernelOps>::max_pool2d(x.into_dispatch(), k))
}

/// Zero padding `[rows, columns]`, and the distance between kernel taps.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    padding: [usize; 2],
    dilation: usize,
}

/// The sizes of one convolution.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    /// Rows, columns.
    pad: [usize; 2],
    dil: usize,
}

impl Sizes {
    fn of(x: &FlexTensor, weight: &FlexTensor, g: Geometry) -> Sizes {
        let (xs, ws) = (x.layout().shape(), weight.layout().shape());
        assert!(xs.num_dims() == 4 && ws.num_dims() == 4, "conv2d: 4-D input and weight expected");
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3]);
        let (o, kh, kw) = (ws[0], ws[2], ws[3]);
        let out = |side: usize, k: usize, pad: usize| (side + 2 * pad).checked_sub(g.dilation * (k - 1)).filter(|&s| s > 0);
        let (Some(oh), Some(ow), true) = (out(h, kh, g.padding[0]), out(w, kw, g.padding[1]), ws[1] == c) else {
            panic!("conv2d: input {xs:?} does not fit weight {ws:?} with {g:?}");
        };
        Sizes { n, c, h, w, o, kh, kw, oh, ow, pad: g.padding, dil: g.dilation }
    }

    /// For kernel tap `(dy, dx)` and output row `i`: the input row and the output columns
    /// `j0..j1` inside the image (the rest see padding), or `None` when it sees only padding.
    fn tap_row(&self, dy: usize, dx: usize, i: usize) -> Option<(usize, usize, usize)> {
        let y = (i + dy * self.dil).checked_sub(self.pad[0]).filter(|&y| y < self.h)?;
        let ox = dx * self.dil;
        let j0 = self.pad[1].saturating_sub(ox).min(self.ow);
        let j1 = (self.w + self.pad[1]).saturating_sub(ox).min(self.ow);
        (j0 < j1).then_some((y, j0, j1))
    }

    /// One patch's length: the rows of the patch matrix.
    fn patch(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output positions per image: the columns of the patch matrix.
    fn positions(&self) -> usize {
        self.oh * self.ow
    }

    fn image(&self) -> usize {
        self.c * self.h * self.w
    }

    /// A 1x1 convolution without padding, whose patch matrix is the image itself.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.pad == [0, 0]
    }
}

/// The values of a flex f32 tensor, contiguous (copied only when they are not).
fn values(t: &FlexTensor) -> FlexTensor {
    let t = t.to_contiguous();
    assert!(t.as_slice::<f32>().is_some(), "cpu_kernels: f32 tensors expected");
    t
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("made contiguous f32 by `values`")
}

/// Patches of one image `[C, H, W]`:
/// `patches[(c, dy, dx), (i, j)] = x[c, i + dy dilation - rows, j + dx dilation - columns]`,
/// 0 outside the image.
fn im2col(s: &Sizes, image: &[f32], patches: &mut [f32]) {
    let p = s.positions();
    for c in 0..s.c {
        for dy in 0..s.kh {
            for dx in 0..s.kw {
                let row = &mut patches[((c * s.kh + dy) * s.kw + dx) * p..][..p];
                for i in 0..s.oh {
                    let to = &mut row[i * s.ow..][..s.ow];
                    let Some((y, j0, j1)) = s.tap_row(dy, dx, i) else {
                        to.fill(0.0);
                        continue;
                    };
                    // Most rows have no padding to clear, the rest a position or two: no call
                    // to memset for them (it was 2% of a training step).
                    let (left, rest) = to.split_at_mut(j0);
                    for v in left.iter_mut().chain(&mut rest[j1 - j0..]) {
                        *v = 0.0;
                    }
                    let x0 = j0 + dx * s.dil - s.pad[1];
                    to[j0..j1].copy_from_slice(&image[(c * s.h + y) * s.w + x0..][..j1 - j0]);
                }
            }
        }
    }
}

/// The reverse of [`im2col`]: adds every patch value back to the input position it came from.
fn col2im(s: &Sizes, patches: &[f32], image: &mut [f32]) {
    let p = s.positions();
    image.fill(0.0);
    for c in 0..s.c {
        for dy in 0..s.kh {
            for dx in 0..s.kw {
                let row = &patches[((c * s.kh + dy) * s.kw + dx) * p..][..p];
                for i in 0..s.oh {
                    let Some((y, j0, j1)) = s.tap_row(dy, dx, i) else { continue };
                    let x0 = j0 + dx * s.dil - s.pad[1];
                    let to = &mut image[(c * s.h + y) * s.w + x0..][..j1 - j0];
                    for (t, v) in to.iter_mut().zip(&row[i * s.ow + j0..i * s.ow + j1]) {
                        *t += v;
                    }
                }
            }
        }
    }
}

/// Row-major matrices for [`matmul`]: a pointer, the row stride and the column stride.
type Mat = (*const f32, isize, isize);

/// `dst [m, n] (row-major) = (dst if accumulate) + lhs [m, k] x rhs [k, n]`, on this thread.
fn matmul(m: usize, n: usize, k: usize, dst: &mut [f32], accumulate: bool, lhs: Mat, rhs: Mat) {
    assert!(dst.len() >= m * n);
    // SAFETY: dst holds m x n values (asserted); the callers pass lhs and rhs views inside
    // slices of at least m x k and k x n values with these strides.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.0,
            lhs.2,
            lhs.1,
            rhs.0,
            rhs.2,
            rhs.1,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, g: Geometry) -> FlexTensor {
    let s = Sizes::of(x, weight, g);
    let (x, weight, bias) = (values(x), values(weight), values(bias));
    let (xv, wv, bv) = (slice(&x), slice(&weight), slice(&bias));
    assert_eq!(bv.len(), s.o, "conv2d: one bias per output channel expected");
    let (patch, p) = (s.patch(), s.positions());
    let mut out = vec![0f32; s.n * s.o * p];
    out.par_chunks_mut(s.o * p).enumerate().for_each_init(
        || vec![0f32; if s.pointwise() { 0 } else { patch * p }],
        |patches, (i, y)| {
            let image = &xv[i * s.image()..][..s.image()];
            let patches: &[f32] = if s.pointwise() {
                image
            } else {
                im2col(&s, image, patches);
                patches
            };
            for (row, b) in y.chunks_mut(p).zip(bv) {
                row.fill(*b);
            }
            // y [O, P] += W [O, patch] x patches [patch, P]
            matmul(s.o, p, patch, y, true, (wv.as_ptr(), patch as isize, 1), (patches.as_ptr(), p as isize, 1));
        },
    );
    FlexTensor::from_data(TensorData::new(out, [s.n, s.o, s.oh, s.ow]))
}

/// `[N, C, H, W]` of a contiguous tensor.
fn dims4(x: &FlexTensor) -> [usize; 4] {
    let s = x.layout().shape();
    assert_eq!(s.num_dims(), 4, "max_pool2d: a 4-D input expected");
    [s[0], s[1], s[2], s[3]]
}

/// The offset, within one `[H, W]` plane, of the maximum of window `(i, j)` (the first one).
/// Selects, not branches: which value wins is random, a branch would mispredict half the time.
fn window_max(plane: &[f32], w: usize, k: usize, i: usize, j: usize) -> usize {
    let (mut best, mut best_value) = (i * k * w + j * k, f32::NEG_INFINITY);
    for dy in 0..k {
        let row = (i * k + dy) * w + j * k;
        for (dx, &v) in plane[row..row + k].iter().enumerate() {
            let better = v > best_value;
            best = if better { row + dx } else { best };
            best_value = if better { v } else { best_value };
        }
    }
    best
}

fn pool_forward(x: &FlexTensor, k: usize) -> FlexTensor {
    let x = values(x);
    let [n, c, h, w] = dims4(&x);
    let (ph, pw) = (h / k, w / k);
    let xv = slice(&x);
    let mut out = vec![f32::NEG_INFINITY; n * c * ph * pw];
    out.par_chunks_mut(ph * pw).enumerate().for_each(|(plane, y)| {
        let src = &xv[plane * h * w..][..h * w];
        // Row by row, so that the maxima vectorize.
        for (i, y) in y.chunks_exact_mut(pw).enumerate() {
            for dy in 0..k {
                let row = &src[(i * k + dy) * w..][..pw * k];
                for (m, window) in y.iter_mut().zip(row.chunks_exact(k)) {
                    *m = window.iter().fold(*m, |a, &b| a.max(b));
                }
            }
        }
    });
    FlexTensor::from_data(TensorData::new(out, [n, c, ph, pw]))
}

fn pool_backward(x: &FlexTensor, k: usize, grad: &FlexTensor) -> FlexTensor {
    let (x, grad) = (values(x), values(grad));
    let [n, c, h, w] = dims4(&x);
    let (ph, pw) = (h / k, w / k);
    let (xv, gv) = (slice(&x), slice(&grad));
    let mut gx = vec![0f32; n * c * h * w];
    gx.par_chunks_mut(h * w).enumerate().for_each(|(plane, gx)| {
        let (src, g) = (&xv[plane * h * w..][..h * w], &gv[plane * ph * pw..][..ph * pw]);
        for i in 0..ph {
            for j in 0..pw {
                gx[window_max(src, w, k, i, j)] += g[i * pw + j];
            }
        }
    });
    FlexTensor::from_data(TensorData::new(gx, [n, c, h, w]))
}

struct Grads {
    x: Option<FlexTensor>,
    weight: FlexTensor,
    bias: FlexTensor,
}

fn backward(x: &FlexTensor, weight: &FlexTensor, grad: &FlexTensor, g: Geometry, input_grad: bool) -> Grads {
    let s = Sizes::of(x, weight, g);
    let (x, weight, grad) = (values(x), values(weight), values(grad));
    let (xv, wv, gv) = (slice(&x), slice(&weight), slice(&grad));
    let (patch, p) = (s.patch(), s.positions());
    let threads = rayon::current_num_threads().clamp(1, s.n.max(1));
    let per_block = s.n.div_ceil(threads);
    let mut gx = vec![0f32; if input_grad { s.n * s.image() } else { 0 }];
    // One block of images per thread; each returns its weight and bias gradients.
    let block = |b: usize, mut gx: Option<&mut [f32]>| -> (Vec<f32>, Vec<f32>) {
        let (mut gw, mut gb) = (vec![0f32; s.o * patch], vec![0f32; s.o]);
        let mut patches = vec![0f32; if s.pointwise() { 0 } else { patch * p }];
        for (k, i) in (b * per_block..((b + 1) * per_block).min(s.n)).enumerate() {
            let gy = &gv[i * s.o * p..][..s.o * p];
            let image = &xv[i * s.image()..][..s.image()];
            let columns: &[f32] = if s.pointwise() {
                image
            } else {
                im2col(&s, image, &mut patches);
                &patches
            };
            // gW [O, patch] += gy [O, P] x patches^T [P, patch]
            matmul(s.o, patch, p, &mut gw, true, (gy.as_ptr(), p as isize, 1), (columns.as_ptr(), 1, p as isize));
            for (g, row) in gb.iter_mut().zip(gy.chunks(p)) {
                *g += row.iter().sum::<f32>();
            }
            if let Some(gx) = gx.as_deref_mut() {
                // patches' gradient [patch, P] = W^T [patch, O] x gy [O, P], then back to the
                // image (for a 1x1 convolution, the image's gradient itself).
                let gx = &mut gx[k * s.image()..][..s.image()];
                let to: &mut [f32] = if s.pointwise() { gx } else { &mut patches };
                matmul(patch, p, s.o, to, false, (wv.as_ptr(), 1, patch as isize), (gy.as_ptr(), p as isize, 1));
                if !s.pointwise() {
                    col2im(&s, &patches, gx);
                }
            }
        }
        (gw, gb)
    };
    let blocks = s.n.div_ceil(per_block);
    let parts: Vec<(Vec<f32>, Vec<f32>)> = if input_grad {
        gx.par_chunks_mut(per_block * s.image()).enumerate().map(|(b, gx)| block(b, Some(gx))).collect()
    } else {
        (0..blocks).into_par_iter().map(|b| block(b, None)).collect()
    };
    let (mut gw, mut gb) = (vec![0f32; s.o * patch], vec![0f32; s.o]);
    for (w, b) in parts {
        gw.iter_mut().zip(w).for_each(|(a, v)| *a += v);
        gb.iter_mut().zip(b).for_each(|(a, v)| *a += v);
    }
    Grads {
        x: input_grad.then(|| FlexTensor::from_data(TensorData::new(gx, [s.n, s.c, s.h, s.w]))),
        weight: FlexTensor::from_data(TensorData::new(gw, [s.o, s.c, s.kh, s.kw])),
        bias: FlexTensor::from_data(TensorData::new(gb, [s.o])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Device, Distribution, Gradients as TensorGradients};

    /// Our kernels against Burn's Conv2d, forward and every gradient, on odd sizes: without
    /// padding (the lecture's), with padding and dilation (the U-Net's), with padding that
    /// differs between rows and columns, and 1x1.
    #[test]
    fn conv2d_and_its_gradients_equal_burns_conv2d() {
        conv2d_equals_burns([3, 2], [0, 0], 1);
        conv2d_equals_burns([3, 2], [2, 2], 2);
        conv2d_equals_burns([3, 2], [1, 1], 3);
        conv2d_equals_burns([3, 2], [0, 3], 2);
        conv2d_equals_burns([3, 2], [2, 1], 1);
        // 1x1 (the U-Net's up- and down-sampling and head): the image is its own patch matrix.
        conv2d_equals_burns([1, 1], [0, 0], 1);
        conv2d_equals_burns([1, 1], [1, 0], 1);
    }

    fn conv2d_equals_burns(kernel: [usize; 2], padding: [usize; 2], dilation: usize) {
        let device = Device::flex().autodiff();
        let [rows, columns] = padding;
        let conv = Conv2dConfig::new([3, 5], kernel)
            .with_padding(PaddingConfig2d::Explicit(rows, columns, rows, columns))
            .with_dilation([dilation, dilation])
            .init(&device);
        let x = Tensor::<4>::random([3, 3, 7, 6], Distribution::Default, &device).require_grad();
        let bias = conv.bias.as_ref().expect("a bias").val();
        let ours = conv2d(x.clone(), conv.weight.val(), bias.clone(), padding, dilation);
        let burns = conv.forward(x.clone());
        let r = Tensor::<4>::random(burns.dims(), Distribution::Default, &device);
        assert_eq!(ours.dims(), burns.dims());
        let d: f32 = (ours.clone() - burns.clone()).abs().max().into_scalar();
        assert!(d < 1e-5, "outputs differ by {d}");
        let (g_ours, g_burns) = ((ours * r.clone()).sum().backward(), (burns * r).sum().backward());
        let differ = |a: Tensor<4>, b: Tensor<4>| -> f32 { (a - b).abs().max().into_scalar() };
        let input = |g: &TensorGradients| x.grad(g).expect("an input gradient");
        assert!(differ(input(&g_ours), input(&g_burns)) < 1e-4, "input gradients differ");
        let weight = |g: &TensorGradients| conv.weight.val().grad(g).expect("a weight gradient");
        assert!(differ(weight(&g_ours), weight(&g_burns)) < 1e-4, "weight gradients differ");
        let b = |g: &TensorGradients| bias.grad(g).expect("a bias gradient");
        let d: f32 = (b(&g_ours) - b(&g_burns)).abs().max().into_scalar();
        assert!(d < 1e-4, "bias gradients differ by {d}");
    }

    /// Our pool against Burn's MaxPool2d, forward and input gradient, with a dropped odd row.
    #[test]
    fn max_pool2d_and_its_gradient_equal_burns_max_pool2d() {
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::random([2, 3, 9, 8], Distribution::Default, &device).require_grad();
        let r = Tensor::<4>::random([2, 3, 4, 4], Distribution::Default, &device);
        let ours = max_pool2d(x.clone(), 2);
        let burns = MaxPool2dConfig::new([2, 2]).init().forward(x.clone());
        assert_eq!(ours.dims(), burns.dims());
        let d: f32 = (ours.clone() - burns.clone()).abs().max().into_scalar();
        assert!(d == 0.0, "outputs differ by {d}");
        let (g_ours, g_burns) = ((ours * r.clone()).sum().backward(), (burns * r).sum().backward());
        let input = |g: &TensorGradients| x.grad(g).expect("an input gradient");
        let d: f32 = (input(&g_ours) - input(&g_burns)).abs().max().into_scalar();
        assert!(d < 1e-6, "input gradients differ by {d}");
    }
}

//! Throughput on each backend: for the lecture's MNIST model, training (forward, backward and
//! Adam at batch 100; on flex with Burn's Adam too), forward passes, and generating 48 digits
//! (one step a pixel); for the lecture's toy model, training at batch 100 (the load of
//! `../shared/bench/pytorch_lecture_models.py`, outside this repository); for the any-order U-Net, training, and 48 digits
//! at several positions per step in raster and adaptive order.

use crate::device::Chosen;
use autoregress::batch::{MaskMix, sequences_tensor};
use autoregress::train::{self, adam as optim};
use autoregress::burn::optim::ModuleOptimizer;
use autoregress::burn::tensor::{Device, Int, Tensor};
use autoregress::data::{MNIST_PIXELS, MNIST_SIDE};
use autoregress::host::{floats, ints};
use autoregress::rng::Rng;
use autoregress::models::MnistConvNet;
use autoregress::{ArModel, GenerateOptions, ModelKind, ModelSpec, VisitingOrder, generate};
use serde::Serialize;
use std::time::Instant;

pub struct BenchOptions {
    pub train_steps: usize,
    pub forward_reps: usize,
    pub digits: usize,
    /// Positions per step timed for the any-order model; empty: skip it.
    pub any_order_per_step: Vec<usize>,
}

fn images(count: usize, rng: &mut Rng) -> Vec<u8> {
    (0..count * MNIST_PIXELS).map(|_| if rng.below(5) == 0 { 255 } else { 0 }).collect()
}

/// Training images per second of a fresh `spec` model: forward, backward (`loss`) and `optim`
/// at `batch`, each step synchronized by reading its loss. Measured as the PyTorch peer script
/// does, so that the two compare like for like: 5 warm-up steps (caches, kernel compilation),
/// then the median rate of 5 repetitions of `steps / 5` steps (robust to a stray stall).
fn training_images_per_s(
    spec: &ModelSpec,
    device: &Device,
    steps: usize,
    batch: usize,
    rng: &mut Rng,
    mut optim: ModuleOptimizer,
    loss: impl Fn(&ArModel, Tensor<2, Int>, &mut Rng) -> Tensor<1>,
) -> f64 {
    const WARM_UP: usize = 5;
    const REPETITIONS: usize = 5;
    let ad = device.clone().autodiff();
    let mut model = ArModel::new(spec.clone(), &ad).expect("valid spec");
    let data = sequences_tensor(&images(batch, rng), batch, MNIST_PIXELS, &ad);
    let mut step = |model: ArModel| {
        let loss = loss(&model, data.clone(), rng);
        let model = train::train_step(model, &loss, &mut optim, 1e-3);
        let _: f32 = loss.into_scalar();
        model
    };
    for _ in 0..WARM_UP {
        model = step(model);
    }
    let per_repetition = steps.div_ceil(REPETITIONS).max(1);
    let mut rates = Vec::with_capacity(REPETITIONS);
    for _ in 0..REPETITIONS {
        let start = Instant::now();
        for _ in 0..per_repetition {
            model = step(model);
        }
        rates.push((per_repetition * batch) as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    rates[REPETITIONS / 2]
}

/// The lecture's models on one backend.
#[derive(Serialize)]
pub struct LectureRow {
    pub backend: String,
    /// MNIST model, forward + backward + the trainer's Adam at batch 100.
    pub train_images_per_s: f64,
    /// The same with Burn's own Adam (flex only: elsewhere the trainer uses Burn's).
    pub train_images_per_s_burn_adam: Option<f64>,
    /// Toy model (sequences of 32 values in 0..64), forward + backward + Adam at batch 100.
    pub toy_train_samples_per_s: f64,
    /// MNIST model, forward passes at batch 100.
    pub forward_images_per_s: f64,
    pub digits: usize,
    /// `digits` digits, one step a pixel, read back once.
    pub generate_seconds: f64,
}

/// The any-order U-Net on one backend.
#[derive(Serialize)]
pub struct AnyOrderRow {
    pub backend: String,
    pub model: &'static str,
    pub train_images_per_s: f64,
    pub digits: usize,
    pub generation: Vec<GenerationTime>,
}

#[derive(Serialize)]
pub struct GenerationTime {
    pub order: &'static str,
    pub per_step: usize,
    pub seconds: f64,
}

pub fn run(backend: &Chosen, opts: &BenchOptions) -> LectureRow {
    let device = &backend.device;
    let spec = ModelSpec::mnist_sized(ModelKind::Mnist);
    let batch = 100;
    let mut rng = Rng::new(1);
    let data = sequences_tensor(&images(batch, &mut rng), batch, MNIST_PIXELS, device);

    let lecture_loss = |model: &ArModel, data, rng: &mut Rng| train::batch_loss(model, data, &MaskMix::UNIFORM, rng);
    let train_ips = training_images_per_s(&spec, device, opts.train_steps, batch, &mut rng, optim::adam(), lecture_loss);
    let burn_ips = (*device == Device::flex()).then(|| {
        let burn = ModuleOptimizer::from(optim::burn_adam());
        training_images_per_s(&spec, device, opts.train_steps, batch, &mut rng, burn, lecture_loss)
    });

    // The toy model: 5x the steps of MNIST, as the PyTorch script does.
    let (toy_len, toy_values) = (32, 64);
    let toy_spec = ModelSpec::toy(toy_len, 32.0, 18.0);
    let toy = |model: &ArModel, images: Tensor<2, Int>, rng: &mut Rng| {
        let seqs: Vec<u16> = (0..batch * toy_len).map(|_| rng.below(toy_values) as u16).collect();
        let data = sequences_tensor(&seqs, batch, toy_len, &images.device());
        train::batch_loss(model, data, &MaskMix::UNIFORM, rng)
    };
    let toy_sps = training_images_per_s(&toy_spec, device, 5 * opts.train_steps, batch, &mut rng, optim::adam(), toy);

    // Forward passes at batch 100.
    let model = ArModel::new(spec, device).expect("valid spec");
    let mask = Tensor::<2>::ones([batch, MNIST_PIXELS], device);
    floats(model.logits(data.clone(), mask.clone()));
    let start = Instant::now();
    for _ in 0..opts.forward_reps {
        floats(model.logits(data.clone(), mask.clone()));
    }
    let forward_ips = (opts.forward_reps * batch) as f64 / start.elapsed().as_secs_f64();

    // Generation of whole digits, read back once at the end.
    let start = Instant::now();
    let digits = generate(&model, &GenerateOptions::new(opts.digits), device).expect("valid options");
    ints(digits);
    let generate_s = start.elapsed().as_secs_f64();

    LectureRow {
        backend: backend.name.clone(),
        train_images_per_s: train_ips,
        train_images_per_s_burn_adam: burn_ips,
        toy_train_samples_per_s: toy_sps,
        forward_images_per_s: forward_ips,
        digits: opts.digits,
        generate_seconds: generate_s,
    }
}

/// The any-order U-Net: training at its recipe's batch size (64), then `opts.digits` digits at each positions per
/// step of `opts.any_order_per_step`, in raster and in adaptive order.
pub fn run_any_order(backend: &Chosen, opts: &BenchOptions) -> AnyOrderRow {
    let device = &backend.device;
    let spec = ModelSpec::mnist_sized(ModelKind::MnistAnyOrder);
    let batch = ModelKind::MnistAnyOrder.train_defaults().batch_size;
    let mut rng = Rng::new(2);
    let mix = ModelKind::MnistAnyOrder.train_defaults().mask_mix.expect("an any-order model has a mask mix");
    // As many timed steps as the lecture's model: 5 repetitions of 20 at side_by_side.py's 100,
    // as scripts/pytorch_any_order.py times PyTorch's: one protocol on both sides.
    let train_ips = training_images_per_s(&spec, device, opts.train_steps, batch, &mut rng, optim::adam(), |model, data, rng| {
        train::batch_loss(model, data, &mix, rng)
    });

    let model = ArModel::new(spec, device).expect("valid spec");
    let mut generation = Vec::new();
    for &k in &opts.any_order_per_step {
        for order in [VisitingOrder::Raster, VisitingOrder::ADAPTIVE] {
            let options = GenerateOptions { per_step: k, order: order.clone(), ..GenerateOptions::new(opts.digits) };
            let start = Instant::now();
            let digits = generate(&model, &options, device).expect("valid options");
            ints(digits);
            generation.push(GenerationTime { order: order.name(), per_step: k, seconds: start.elapsed().as_secs_f64() });
        }
    }
    AnyOrderRow { backend: backend.name.clone(), model: ModelKind::MnistAnyOrder.name(), train_images_per_s: train_ips, digits: opts.digits, generation }
}

/// One layer of the lecture's MNIST model timed alone at batch 100.
#[derive(Serialize)]
pub struct LayerTime {
    pub layer: String,
    /// Forward only, no autodiff, result read back.
    pub forward_ms: f64,
    /// Forward and backward on the autodiff device: the weight's gradient, and the input's
    /// where the model needs it (conv2, fc1; conv1's input is data).
    pub forward_backward_ms: f64,
}

/// `bench --layers` on one backend.
#[derive(Serialize)]
pub struct LayersRow {
    pub backend: String,
    pub layers: Vec<LayerTime>,
}

/// The lecture's MNIST layers one at a time (`bench --layers`): where the time of a training
/// step goes, to set beside `scripts/pytorch_layers.py` (the same layers in PyTorch).
pub fn layers(backend: &Chosen, reps: usize) -> Vec<LayerTime> {
    use autoregress::burn::module::Module;
    use autoregress::burn::nn::conv::{Conv2d, Conv2dConfig};
    use autoregress::burn::nn::pool::MaxPool2dConfig;
    use autoregress::burn::nn::LinearConfig;
    use autoregress::burn::tensor::Distribution;
    let ad = backend.device.clone().autodiff();
    let ms = |f: &dyn Fn()| {
        f();
        let start = Instant::now();
        for _ in 0..reps {
            f();
        }
        start.elapsed().as_secs_f64() * 1000.0 / reps as f64
    };
    // One layer: its forward pass alone (read back), then forward and backward.
    let time = |layer: String, forward: &dyn Fn(), forward_backward: &dyn Fn()| LayerTime {
        layer,
        forward_ms: ms(forward),
        forward_backward_ms: ms(forward_backward),
    };
    let l = MnistConvNet::layers(MNIST_SIDE).expect("MNIST images fit the lecture's network");
    let conv1 = Conv2dConfig::new([l.input_channels, l.conv1_channels], [l.conv1_kernel; 2]).init(&ad);
    let conv2 = Conv2dConfig::new([l.conv1_channels, l.conv2_channels], [l.conv2_kernel; 2]).init(&ad);
    let pool = MaxPool2dConfig::new([l.pool; 2]).init();
    let fc1 = LinearConfig::new(l.fc1[0], l.fc1[1]).init(&ad);
    let (side, s1, s2) = (MNIST_SIDE, l.conv1_side, l.pooled_side);
    let image = Tensor::<4>::random([100, l.input_channels, side, side], Distribution::Default, &ad);
    let pooled = Tensor::<4>::random([100, l.conv1_channels, s2, s2], Distribution::Default, &ad).require_grad();
    let features = Tensor::<2>::random([100, l.fc1[0]], Distribution::Default, &ad).require_grad();
    let conv_out = Tensor::<4>::random([100, l.conv1_channels, s1, s1], Distribution::Default, &ad).require_grad();
    let (c1, c2, f1) = (conv1.valid(), conv2.valid(), fc1.valid());
    let (k1, k2, p) = (l.conv1_kernel, l.conv2_kernel, l.pool);
    let mut rows = vec![
        time(
            format!("conv1 ({}->{}, {k1}x{k1}, {side}x{side})", l.input_channels, l.conv1_channels),
            &|| drop(floats(c1.forward(image.clone().inner()))),
            &|| drop(conv1.forward(image.clone()).sum().backward()),
        ),
        time(
            format!("max pool {p}x{p} ({}x{s1}x{s1})", l.conv1_channels),
            &|| drop(floats(pool.forward(conv_out.clone().inner()))),
            &|| drop(pool.forward(conv_out.clone()).sum().backward()),
        ),
        time(
            format!("conv2 ({}->{}, {k2}x{k2}, {s2}x{s2})", l.conv1_channels, l.conv2_channels),
            &|| drop(floats(c2.forward(pooled.clone().inner()))),
            &|| drop(conv2.forward(pooled.clone()).sum().backward()),
        ),
        time(
            format!("fc1 ({}->{})", l.fc1[0], l.fc1[1]),
            &|| drop(floats(f1.forward(features.clone().inner()))),
            &|| drop(fc1.forward(features.clone()).sum().backward()),
        ),
    ];
    if backend.device == Device::flex() {
        // The same layers as the trainer runs them on flex: our kernels (models/cpu_kernels.rs).
        use autoregress::models::cpu_kernels::{conv2d, max_pool2d};
        let ours = |conv: &Conv2d, x: Tensor<4>| {
            let bias = conv.bias.as_ref().expect("Conv2dConfig gives a bias").val();
            conv2d(x, conv.weight.val(), bias, [0, 0], 1)
        };
        rows.extend([
            time(
                format!("conv1, ours ({}->{}, {k1}x{k1}, {side}x{side})", l.input_channels, l.conv1_channels),
                &|| drop(floats(ours(&c1, image.clone().inner()))),
                &|| drop(ours(&conv1, image.clone()).sum().backward()),
            ),
            time(
                format!("max pool {p}x{p}, ours ({}x{s1}x{s1})", l.conv1_channels),
                &|| drop(floats(max_pool2d(conv_out.clone().inner(), p))),
                &|| drop(max_pool2d(conv_out.clone(), p).sum().backward()),
            ),
            time(
                format!("conv2, ours ({}->{}, {k2}x{k2}, {s2}x{s2})", l.conv1_channels, l.conv2_channels),
                &|| drop(floats(ours(&c2, pooled.clone().inner()))),
                &|| drop(ours(&conv2, pooled.clone()).sum().backward()),
            ),
        ]);
    }
    rows
}

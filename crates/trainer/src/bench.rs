//! Throughput of the MNIST models on each backend: for the lecture's, training (forward,
//! backward and Adam at batch 100), forward passes, and generating 48 digits (784 sequential
//! steps); for the any-order U-Net, training, and 48 digits at several positions per step in
//! raster and adaptive order.

use crate::device::Chosen;
use autoregress::batch::{MaskMix, any_order_batch, random_positions, sequences_tensor, training_batch, training_mask};
use autoregress::burn::optim::{AdamConfig, GradientsParams};
use autoregress::burn::tensor::{Device, Int, Tensor};
use autoregress::rng::Rng;
use autoregress::{ArModel, GenerateOptions, ModelKind, ModelSpec, VisitingOrder, generate};
use serde_json::{Value, json};
use std::time::Instant;

pub struct BenchOptions {
    pub train_steps: usize,
    pub forward_reps: usize,
    pub digits: usize,
    /// Positions per step timed for the any-order model; empty: skip it.
    pub any_order_per_step: Vec<usize>,
}

fn images(count: usize, rng: &mut Rng) -> Vec<u8> {
    (0..count * 784).map(|_| if rng.below(5) == 0 { 255 } else { 0 }).collect()
}

/// Training images per second of a fresh `spec` model: forward, backward (`loss`) and Adam at
/// `batch`, over `steps` steps, each synchronized by reading its loss.
fn training_images_per_s(
    spec: &ModelSpec,
    device: &Device,
    steps: usize,
    batch: usize,
    rng: &mut Rng,
    loss: impl Fn(&ArModel, Tensor<2, Int>, &mut Rng) -> Tensor<1>,
) -> f64 {
    let ad = device.clone().autodiff();
    let mut model = ArModel::new(spec.clone(), &ad).expect("valid spec");
    let mut optim = AdamConfig::new().init();
    let data = sequences_tensor(&images(batch, rng), batch, 784, &ad);
    let mut timed = 0.0;
    for step in 0..steps + 1 {
        let start = Instant::now();
        let loss = loss(&model, data.clone(), rng);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
        let _: f32 = loss.into_scalar();
        // The first step warms caches and compiles kernels; it is not counted.
        if step > 0 {
            timed += start.elapsed().as_secs_f64();
        }
    }
    (steps * batch) as f64 / timed
}

pub fn run(backend: &Chosen, opts: &BenchOptions) -> Value {
    let device = &backend.device;
    let spec = ModelSpec::mnist(28, 28, 33.3, 78.6);
    let batch = 100;
    let mut rng = Rng::new(1);
    let data = sequences_tensor(&images(batch, &mut rng), batch, 784, device);

    let train_ips = training_images_per_s(&spec, device, opts.train_steps, batch, &mut rng, |model, data, rng| {
        training_batch(data, &random_positions(rng, batch, 784)).loss(model)
    });

    // Forward passes at batch 100.
    let model = ArModel::new(spec, device).expect("valid spec");
    let mask = Tensor::<2>::ones([batch, 784], device);
    let _: Vec<f32> = model.logits(data.clone(), mask.clone()).into_data().try_to_vec().expect("floats");
    let start = Instant::now();
    for _ in 0..opts.forward_reps {
        let _: Vec<f32> = model.logits(data.clone(), mask.clone()).into_data().try_to_vec().expect("floats");
    }
    let forward_ips = (opts.forward_reps * batch) as f64 / start.elapsed().as_secs_f64();

    // Generation of whole digits, read back once at the end.
    let start = Instant::now();
    let digits = generate(&model, &GenerateOptions::new(opts.digits), device).expect("valid options");
    let _: Vec<i64> = digits.into_data().convert::<i64>().try_to_vec().expect("ints");
    let generate_s = start.elapsed().as_secs_f64();

    json!({
        "backend": backend.name,
        "train_images_per_s": train_ips,
        "forward_images_per_s": forward_ips,
        "digits": opts.digits,
        "generate_seconds": generate_s,
    })
}

/// The any-order U-Net: training at batch 100, then `opts.digits` digits at each positions per
/// step of `opts.any_order_per_step`, in raster and in adaptive order.
pub fn run_any_order(backend: &Chosen, opts: &BenchOptions) -> Value {
    let device = &backend.device;
    let spec = ModelSpec::for_kind(ModelKind::MnistAnyOrder, 28, 28, 33.3, 78.6);
    let batch = 100;
    let mut rng = Rng::new(2);
    let mix = MaskMix::default_for(ModelKind::MnistAnyOrder);
    let steps = opts.train_steps.div_ceil(4).max(1);
    let train_ips = training_images_per_s(&spec, device, steps, batch, &mut rng, |model, data, rng| {
        let masks = (0..batch).flat_map(|_| training_mask(rng, 28, 28, &mix)).collect();
        any_order_batch(data, masks).loss(model)
    });

    let model = ArModel::new(spec, device).expect("valid spec");
    let mut generation = Vec::new();
    for &k in &opts.any_order_per_step {
        for order in [VisitingOrder::Raster, VisitingOrder::ADAPTIVE] {
            let options = GenerateOptions { per_step: k, order: order.clone(), ..GenerateOptions::new(opts.digits) };
            let start = Instant::now();
            let digits = generate(&model, &options, device).expect("valid options");
            let _: Vec<i64> = digits.into_data().convert::<i64>().try_to_vec().expect("ints");
            generation.push(json!({ "order": order.name(), "per_step": k, "seconds": start.elapsed().as_secs_f64() }));
        }
    }
    json!({
        "backend": backend.name,
        "model": ModelKind::MnistAnyOrder.name(),
        "train_images_per_s": train_ips,
        "digits": opts.digits,
        "generation": generation,
    })
}

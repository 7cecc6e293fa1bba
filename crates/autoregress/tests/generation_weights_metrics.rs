mod common;

use autoregress::batch::sequences_tensor;
use autoregress::metrics::{bits_per_dim, histogram_baseline_nats, total_nll};
use autoregress::weights::{self, WeightsError};
use autoregress::data::{MNIST_PIXELS, MNIST_SIDE};
use autoregress::generate::GenerateError;
use autoregress::{GenerateOptions, Generation, ModelKind, VisitingOrder, generate};
use autoregress::burn::tensor::Tensor;
use common::*;

#[test]
fn generation_fills_every_position_with_values_in_range() {
    let model = toy_model(16);
    let mut options = GenerateOptions::new(5);
    options.seed = 3;
    let out = generate(&model, &options, &device()).unwrap();
    assert_eq!(out.dims(), [5, 16]);
    let v = ints(out);
    assert!(v.iter().all(|&x| (0..32).contains(&x)));
    // An untrained network's samples are spread out, not all one value.
    let distinct = v.iter().collect::<std::collections::BTreeSet<_>>().len();
    assert!(distinct > 5, "{distinct} distinct values");
    // Same seed, same sequences.
    assert_eq!(ints(generate(&model, &options, &device()).unwrap()), v);
}

#[test]
fn in_painting_never_changes_a_known_value_and_fills_the_rest() {
    let model = mnist_model();
    let n = 2;
    let len = MNIST_PIXELS;
    // Sample 0 knows its first 14 rows; sample 1 knows a scattered set of pixels.
    let known: Vec<i32> = (0..n * len)
        .map(|i| {
            let (s, p) = (i / len, i % len);
            let keep = if s == 0 { p < 14 * MNIST_SIDE } else { p % 7 == 3 };
            if keep { ((p * 37) % 256) as i32 } else { -1 }
        })
        .collect();
    let mut options = GenerateOptions::new(n);
    options.known = Some(known.clone());
    options.seed = 5;
    let mut generation = Generation::new(&model, &options, &device()).unwrap();
    // One step per position some sample does not know: the 56 known to both take none.
    let known_to_both = (0..len).filter(|&p| p < 14 * MNIST_SIDE && p % 7 == 3).count();
    assert_eq!(known_to_both, 56);
    assert_eq!(generation.run(&model, len), len - known_to_both);
    assert!(generation.is_done());
    let v = ints(generation.values());
    for (i, (&k, &got)) in known.iter().zip(&v).enumerate() {
        if k >= 0 {
            assert_eq!(got, k as i64, "known value at {i} changed");
        }
    }
    assert!(v.iter().all(|&x| (0..256).contains(&x)));
    let visited = floats(generation.visited());
    assert!(visited.iter().all(|&m| m == 1.0));
    // Every unknown position was drawn at some step, every known one at none; and drawn from the
    // (near uniform) random network, not left at the 0 the generation starts from.
    let steps = floats(generation.visit_steps());
    for (i, &k) in known.iter().enumerate() {
        assert_eq!(steps[i] >= 0.0, k < 0, "visit step {} at {i}", steps[i]);
    }
    let unknown: Vec<i64> = known.iter().zip(&v).filter(|&(&k, _)| k < 0).map(|(_, &x)| x).collect();
    let zeros = unknown.iter().filter(|&&x| x == 0).count();
    assert!(zeros * 20 < unknown.len(), "{zeros} of {} unknown values are still 0", unknown.len());
}

#[test]
fn lecture_in_painting_spends_steps_only_on_the_positions_to_generate() {
    let model = mnist_model();
    let len = MNIST_PIXELS;
    // Everything known but two pixels, one in the middle and the last.
    let holes = [400, len - 1];
    let known: Vec<i32> = (0..len).map(|p| if holes.contains(&p) { -1 } else { ((p * 11) % 256) as i32 }).collect();
    let options = GenerateOptions { known: Some(known.clone()), seed: 2, ..GenerateOptions::new(1) };
    let mut generation = Generation::new(&model, &options, &device()).unwrap();
    assert_eq!(generation.steps_total(), 2);
    assert_eq!(generation.position(), Some(400));
    assert!(generation.step(&model));
    assert_eq!(generation.position(), Some(len - 1));
    assert!(generation.step(&model));
    assert!(!generation.step(&model));
    let v = ints(generation.values());
    for p in (0..len).filter(|p| !holes.contains(p)) {
        assert_eq!(v[p], known[p] as i64, "known value at {p} changed");
    }
    // Each hole drawn at its own step; every other position known (-1).
    let steps = floats(generation.visit_steps());
    assert_eq!((steps[400], steps[len - 1]), (0.0, 1.0));
    assert!(steps.iter().enumerate().all(|(p, &s)| holes.contains(&p) || s == -1.0));
    // The model conditioned on the known pixels: everything is visited at the end.
    assert!(floats(generation.visited()).iter().all(|&m| m == 1.0));
}

#[test]
fn bad_generation_options_are_errors() {
    let model = toy_any_order_model(16);
    let refused = |options: &GenerateOptions| Generation::new(&model, options, &device()).err().expect("refused");
    let mut options = GenerateOptions::new(2);
    options.order = VisitingOrder::Given((0..15).collect());
    assert_eq!(refused(&options), GenerateError::OrderLength { given: 15, len: 16 });
    options.order = VisitingOrder::Given([0].into_iter().chain(0..15).collect());
    assert_eq!(refused(&options), GenerateError::NotAPermutation { len: 16, position: 0 });
    options.order = VisitingOrder::Raster;
    options.per_step = 0;
    assert_eq!(refused(&options), GenerateError::NoPositionsPerStep);
    options.per_step = 1;
    options.known = Some(vec![-1; 31]);
    let err = refused(&options);
    assert_eq!(err, GenerateError::KnownLength { given: 31, count: 2, len: 16 });
    assert_eq!(err.to_string(), "31 known values given for 2 sequences of length 16");
    options.known = Some(vec![40; 32]);
    assert_eq!(refused(&options), GenerateError::KnownValue { value: 40, num_values: 32 });
    options.known = None;
    options.order = VisitingOrder::Adaptive { noise: -1.0, window: 0 };
    assert_eq!(refused(&options), GenerateError::AdaptiveNoise(-1.0));
    let lecture = toy_model(16);
    options.order = VisitingOrder::Random;
    let err = Generation::new(&lecture, &options, &device()).err().expect("refused");
    assert_eq!(err, GenerateError::NextValueOnly { kind: ModelKind::Toy, order: "random", per_step: 1 });
    assert!(err.to_string().contains("use an any-order model"), "{err}");
    assert_eq!(Generation::new(&model, &GenerateOptions::new(0), &device()).err(), Some(GenerateError::NoSamples));
}

#[test]
fn a_visiting_order_is_followed() {
    let model = toy_any_order_model(16);
    let mut options = GenerateOptions::new(1);
    options.order = VisitingOrder::Given((0..16).rev().collect());
    let mut generation = Generation::new(&model, &options, &device()).unwrap();
    assert_eq!(generation.position(), Some(15));
    generation.step(&model);
    assert_eq!(floats(generation.visited())[15], 1.0);
    assert_eq!(floats(generation.visited())[..15].iter().sum::<f32>(), 0.0);
    assert_eq!(generation.position(), Some(14));
}

#[test]
fn weights_round_trip_with_identical_logits() {
    for model in [toy_model(32), mnist_model()] {
        let bytes = weights::to_bytes(&model).unwrap();
        let loaded = weights::from_bytes(&bytes, Some(model.spec.kind), &device()).unwrap();
        assert_eq!(loaded.spec, model.spec);
        let len = model.spec.seq_len;
        let seqs = sequences_tensor(&(0..3 * len).map(|i| (i % 7) as u8).collect::<Vec<_>>(), 3, len, &device());
        let mask = Tensor::<2>::ones([3, len], &device());
        let a = floats(model.logits(seqs.clone(), mask.clone()));
        let b = floats(loaded.logits(seqs, mask));
        assert_eq!(a.len(), 3 * model.spec.num_values);
        assert_eq!(a, b);
    }
}

#[test]
fn half_precision_weights_take_half_the_bytes_and_load_as_f32_within_rounding() {
    use autoregress::burn::store::burn_pack::{Bytes, Reader};
    use autoregress::burn::tensor::DType;
    use autoregress::weights::Storage;
    for model in [toy_model(32), mnist_any_order_model()] {
        let full = weights::to_bytes(&model).unwrap();
        let half = weights::to_bytes_as(&model, Storage::F16).unwrap();
        assert!(half.len() * 10 < full.len() * 6, "{} bytes in f16 against {} in f32", half.len(), full.len());
        let tensors = Reader::from_bytes(Bytes::from_bytes_vec(half.clone())).unwrap().into_tensors().unwrap();
        assert!(tensors.iter().all(|t| t.dtype == DType::F16), "a tensor not stored in f16");
        let loaded = weights::from_bytes(&half, Some(model.spec.kind), &device()).unwrap();
        // Every weight was rounded once: rounding the loaded model again changes nothing.
        assert_eq!(weights::to_bytes_as(&loaded, Storage::F16).unwrap(), half);
        let len = model.spec.seq_len;
        let seqs = sequences_tensor(&(0..3 * len).map(|i| (i % 7) as u8).collect::<Vec<_>>(), 3, len, &device());
        let mask = Tensor::<2>::ones([3, len], &device());
        let a = floats(model.logits(seqs.clone(), mask.clone()));
        let b = floats(loaded.logits(seqs, mask));
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(worst > 0.0 && worst < 0.05, "largest logit change from f16 storage: {worst}");
    }
    // NaN in a half-precision tensor is found as in a full one.
    let mut damaged = weights::to_bytes_as(&toy_model(32), Storage::F16).unwrap();
    let n = damaged.len();
    damaged[n - 16..].fill(0xff);
    assert!(matches!(weights::from_bytes(&damaged, None, &device()), Err(WeightsError::NonFinite { .. })));
    assert_eq!("f16".parse::<Storage>(), Ok(Storage::F16));
    assert_eq!("f8".parse::<Storage>().unwrap_err(), "unknown weights storage \"f8\": use one of f32, f16");
}

#[test]
fn wrong_or_damaged_weights_are_clear_errors() {
    let toy = weights::to_bytes(&toy_model(32)).unwrap();
    let err = weights::from_bytes(&toy, Some(ModelKind::Mnist), &device()).unwrap_err();
    assert_eq!(err, WeightsError::WrongModel { expected: ModelKind::Mnist, found: ModelKind::Toy });
    assert_eq!(err.to_string(), "these are weights of the toy model, where the mnist model was expected");
    assert!(matches!(weights::from_bytes(b"hello", None, &device()), Err(WeightsError::Unreadable(_))));
    assert!(matches!(weights::from_bytes(b"", None, &device()), Err(WeightsError::Empty)));
    let truncated = &toy[..toy.len() - 100];
    assert!(matches!(weights::from_bytes(truncated, None, &device()), Err(WeightsError::Unreadable(_))));
    // Weights of a T = 32 network claimed to be T = 64: the tensors do not fit.
    let other = weights::to_bytes(&toy_model(64)).unwrap();
    let spec32 = weights::read_spec(&toy).unwrap();
    let spec64 = weights::read_spec(&other).unwrap();
    assert_eq!((spec32.seq_len, spec64.seq_len), (32, 64));
    let mut forged = autoregress::ArModel::new(spec64, &device()).unwrap();
    forged.net = toy_model(32).net;
    let forged = weights::to_bytes(&forged).unwrap();
    assert!(matches!(weights::from_bytes(&forged, None, &device()), Err(WeightsError::Mismatch(_))));
}

#[test]
fn a_uniform_model_scores_exactly_eight_bits_per_pixel() {
    let model = zeroed(mnist_model());
    let pixels: Vec<u8> = (0..2 * MNIST_PIXELS).map(|i| (i * 31 % 256) as u8).collect();
    let nats = total_nll(&model, &pixels, 2, MNIST_PIXELS, &device(), |_, _| {});
    let bpd = bits_per_dim(nats / (2.0 * 784.0));
    assert!((bpd - 8.0).abs() < 1e-4, "{bpd}");
}

#[test]
fn exact_nll_sums_every_conditional() {
    // Against a direct computation, position by position, on a small toy model.
    let model = toy_model(16);
    let seq: Vec<u8> = (0..16).map(|i| 16 + (i % 5) as u8).collect();
    let total = total_nll(&model, &seq, 1, 1000, &device(), |_, _| {});
    let mut direct = 0.0;
    for t in 0..16 {
        let s = sequences_tensor(&seq, 1, 16, &device());
        let mask = Tensor::<2>::from_data(
            autoregress::burn::tensor::TensorData::new(autoregress::event::prefix_mask(t, 16), [1, 16]),
            &device(),
        );
        let logp = floats(autoregress::burn::tensor::activation::log_softmax(model.logits(s, mask), 1));
        direct -= logp[seq[t] as usize] as f64;
    }
    assert!((total - direct).abs() < 1e-3 * direct.abs(), "{total} vs {direct}");
}

#[test]
fn the_histogram_baseline_on_a_hand_checked_case() {
    // Two positions, two classes; train: [0,1], [0,0]. Add-0.1: p(pos0=0) = 2.1/2.2.
    let nats = histogram_baseline_nats(&[0, 1, 0, 0], &[0, 1], 2, 2, 0.1);
    let want = -((2.1f64 / 2.2).ln() + (1.1f64 / 2.2).ln()) / 2.0;
    assert!((nats - want).abs() < 1e-12);
}

#[test]
fn the_committed_weights_load_and_give_logits_of_the_right_shape() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/weights");
    for (file, kind, classes) in [("mnist.bpk", ModelKind::Mnist, 256), ("toy.bpk", ModelKind::Toy, 64)] {
        let bytes = std::fs::read(format!("{root}/{file}")).expect("committed weights");
        let model = weights::from_bytes(&bytes, Some(kind), &device()).unwrap();
        let len = model.spec.seq_len;
        let seqs = sequences_tensor(&vec![0u8; 5 * len], 5, len, &device());
        let logits = model.logits(seqs, Tensor::<2>::zeros([5, len], &device()));
        assert_eq!(logits.dims(), [5, classes]);
        assert!(floats(logits).iter().all(|v| v.is_finite()));
    }
}

#[test]
fn the_committed_lecture_weights_model_the_data() {
    // Bounds that weights regressed to uniform (8 bits/dim, 4.16 nats) or to a blur would fail;
    // the trained figures are about 1.1 bits/dim and 0.68 nats/position.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let digits = std::fs::read(format!("{root}/web/assets/test-digits.idx")).unwrap();
    let digits = autoregress::data::idx::Images::from_idx(&digits).unwrap().take(16);
    let bytes = std::fs::read(format!("{root}/web/weights/mnist.bpk")).unwrap();
    let model = weights::from_bytes(&bytes, Some(ModelKind::Mnist), &device()).unwrap();
    let nats = total_nll(&model, &digits.pixels, digits.count, 4 * MNIST_PIXELS, &device(), |_, _| {});
    let bits = bits_per_dim(nats / (digits.count * MNIST_PIXELS) as f64);
    assert!(bits < 1.4, "{bits} bits/dim on the page's digits");

    let bytes = std::fs::read(format!("{root}/web/weights/toy.bpk")).unwrap();
    let model = weights::from_bytes(&bytes, Some(ModelKind::Toy), &device()).unwrap();
    let test = autoregress::data::toy::toy_dataset(2, 200, 32);
    let nats = total_nll(&model, &test, 200, 200 * 32, &device(), |_, _| {}) / (200.0 * 32.0);
    assert!(nats < 0.8, "toy: {nats} nats/position");
}

#[test]
fn skipping_the_rows_nothing_is_known_of_gives_the_same_logits() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/weights/mnist.bpk")).unwrap();
    let trained = weights::from_bytes(&bytes, Some(ModelKind::Mnist), &device()).unwrap();
    for model in [mnist_model(), trained] {
        let row_skip = model.row_skip();
        let n = 3;
        let pixels: Vec<u8> = (0..n * MNIST_PIXELS).map(|i| ((i * 7919) % 256) as u8).collect();
        // Ends in the first rows, at row boundaries, mid-image and past the last skipped row.
        for end in [0, 1, 27, 28, 29, 57, 200, 421, 530, 700, MNIST_PIXELS] {
            let seqs = sequences_tensor(&pixels, n, MNIST_PIXELS, &device());
            let mask: Vec<f32> = (0..n).flat_map(|_| autoregress::event::prefix_mask(end, MNIST_PIXELS)).collect();
            let mask = Tensor::<2>::from_data(autoregress::burn::tensor::TensorData::new(mask, [n, MNIST_PIXELS]), &device());
            let full = floats(model.logits(seqs.clone(), mask.clone()));
            let top = floats(model.logits_row_skipped(&row_skip, seqs, mask, end));
            let worst = full.iter().zip(&top).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-3, "end {end}: logits differ by {worst}");
        }
    }
}

#[test]
fn exact_nll_of_a_digit_sums_every_conditional() {
    // Against all MNIST_PIXELS conditionals of two digits in one plain pass, with the trained weights
    // (the evaluation skips the rows nothing is known of; the plain pass does not).
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/weights/mnist.bpk")).unwrap();
    let model = weights::from_bytes(&bytes, Some(ModelKind::Mnist), &device()).unwrap();
    let pixels: Vec<u8> = (0..2 * MNIST_PIXELS).map(|i| if (i % MNIST_PIXELS) / MNIST_SIDE % 7 < 3 && i % MNIST_SIDE > 9 { 250 } else { 0 }).collect();
    let total = total_nll(&model, &pixels, 2, MNIST_PIXELS, &device(), |_, _| {});
    let mut direct = 0.0;
    for digit in pixels.chunks(MNIST_PIXELS) {
        let s = sequences_tensor(digit, 1, MNIST_PIXELS, &device()).expand([MNIST_PIXELS, MNIST_PIXELS]);
        let tri: Vec<f32> = (0..784).flat_map(|t| autoregress::event::prefix_mask(t, MNIST_PIXELS)).collect();
        let mask = Tensor::<2>::from_data(autoregress::burn::tensor::TensorData::new(tri, [MNIST_PIXELS, MNIST_PIXELS]), &device());
        let logp = floats(autoregress::burn::tensor::activation::log_softmax(model.logits(s, mask), 1));
        direct -= (0..784).map(|t| logp[t * 256 + digit[t] as usize] as f64).sum::<f64>();
    }
    assert!((total - direct).abs() < 1e-4 * direct.abs(), "{total} vs {direct}");
}

// The any-order models: no leak of hidden values, every visiting order and positions per step,
// the order-agnostic estimate and the region NLL, and the families kept apart in weights.

mod common;

use autoregress::batch::sequences_tensor;
use autoregress::burn::module::{Module, ModuleMapper, Param};
use autoregress::burn::tensor::{Int, Tensor, TensorData};
use autoregress::metrics::{mean_and_standard_error, nll_sum, order_agnostic_scores, region_nll_sum};
use autoregress::rng::Rng;
use autoregress::weights::{self, WeightsError};
use autoregress::generate::GenerateError;
use autoregress::{ArModel, GenerateOptions, Generation, ModelKind, ModelSpec, Schedule, VisitingOrder};
use common::*;

fn small_image_model() -> ArModel {
    ArModel::new(ModelSpec::for_kind(ModelKind::MnistAnyOrder, 8, 8, 100.0, 90.0), &device()).unwrap()
}

fn random_ints(count: usize, below: usize, seed: u64) -> Vec<u16> {
    let mut rng = Rng::new(seed);
    (0..count).map(|_| rng.below(below) as u16).collect()
}

#[test]
fn hidden_values_never_reach_the_outputs() {
    for model in [toy_any_order_model(32), small_image_model()] {
        let len = model.spec.seq_len;
        let c = model.spec.num_values;
        let seqs = random_ints(2 * len, c, 1);
        let mask: Vec<f32> = (0..2 * len).map(|i| (i % 3 == 0) as u8 as f32).collect();
        let mask = Tensor::<2>::from_data(TensorData::new(mask.clone(), [2, len]), &device());
        let base = floats(model.all_logits(sequences_tensor(&seqs, 2, len, &device()), mask.clone()));
        // Change every hidden value: nothing may move.
        let changed: Vec<u16> = seqs.iter().enumerate().map(|(i, &v)| if i % 3 == 0 { v } else { (v + 7) % c as u16 }).collect();
        let after = floats(model.all_logits(sequences_tensor(&changed, 2, len, &device()), mask.clone()));
        assert_eq!(base, after, "{}", model.spec.kind.name());
        // A known value does move them (the check above can fail).
        let mut known_changed = seqs.clone();
        known_changed[0] = (known_changed[0] + 5) % c as u16;
        let moved = floats(model.all_logits(sequences_tensor(&known_changed, 2, len, &device()), mask));
        assert_ne!(base, moved);
    }
}

#[test]
fn logits_at_some_positions_are_all_logits_read_there() {
    for model in [toy_any_order_model(32), mnist_any_order_model()] {
        let (len, c) = (model.spec.seq_len, model.spec.num_values);
        let seqs = sequences_tensor(&random_ints(2 * len, c, 4), 2, len, &device());
        let mask: Vec<f32> = (0..2 * len).map(|i| (i % 5 == 1) as u8 as f32).collect();
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [2, len]), &device());
        // Different positions per row, one repeated.
        let positions: Vec<i64> = vec![0, 3, len as i64 - 1, 3, 7, 2, 2, 0];
        let at = floats(model.logits_at(seqs.clone(), mask.clone(), Tensor::<2, Int>::from_data(TensorData::new(positions.clone(), [2, 4]), &device())));
        let all = floats(model.all_logits(seqs, mask));
        for (j, &p) in positions.iter().enumerate() {
            let (row, slot) = (j / 4, j % 4);
            for v in 0..c {
                let (a, b) = (at[(row * c + v) * 4 + slot], all[(row * c + v) * len + p as usize]);
                assert!((a - b).abs() < 1e-4, "{}: row {row} position {p} value {v}: {a} vs {b}", model.spec.kind.name());
            }
        }
    }
}

#[test]
fn every_output_sees_the_farthest_input() {
    // The receptive field covers the whole sequence or image: the first output depends on the
    // last known value.
    for model in [toy_any_order_model(32), small_image_model()] {
        let len = model.spec.seq_len;
        let mask = Tensor::<2>::ones([1, len], &device());
        let a = vec![3u16; len];
        let mut b = a.clone();
        b[len - 1] = 9;
        let first = |s: &[u16]| floats(model.all_logits(sequences_tensor(s, 1, len, &device()), mask.clone()).slice([0..1, 0..4, 0..1]));
        assert_ne!(first(&a), first(&b), "{}", model.spec.kind.name());
    }
}

/// Runs a generation to its end; values `[N * L]`, visit steps `[N * L]`, steps run.
fn run_all(model: &ArModel, options: &GenerateOptions) -> (Vec<i64>, Vec<f32>, usize) {
    let mut g = Generation::new(model, options, &device()).unwrap();
    let total = g.steps_total();
    let mut steps = 0;
    while g.step(model) {
        steps += 1;
    }
    assert_eq!(steps, total);
    assert!(floats(g.visited()).iter().all(|&v| v == 1.0));
    (ints(g.values()), floats(g.visit_steps()), steps)
}

#[test]
fn every_order_and_step_size_keeps_known_values_and_fills_each_unknown_once() {
    let model = zeroed(toy_any_order_model(32));
    let (n, len) = (3, 32);
    // Sample 0 knows the even positions, sample 1 the first 5, sample 2 nothing.
    let known: Vec<i32> = (0..n * len)
        .map(|i| {
            let (s, p) = (i / len, i % len);
            let is_known = match s {
                0 => p % 2 == 0,
                1 => p < 5,
                _ => false,
            };
            if is_known { (p % 60) as i32 + 1 } else { -1 }
        })
        .collect();
    let orders = [
        VisitingOrder::Raster,
        VisitingOrder::Random,
        VisitingOrder::Halton,
        VisitingOrder::ADAPTIVE,
        VisitingOrder::Adaptive { noise: 0.0, window: 0 },
        VisitingOrder::Adaptive { noise: 5.0, window: 5 },
        VisitingOrder::Given((0..len).rev().collect()),
    ];
    for order in orders {
        for k in [1, 3, 8, 32] {
            let options = GenerateOptions { known: Some(known.clone()), order: order.clone(), per_step: k, seed: 5, ..GenerateOptions::new(n) };
            let (values, steps, ran) = run_all(&model, &options);
            for i in 0..n * len {
                if known[i] >= 0 {
                    assert_eq!(values[i], known[i] as i64, "{order:?} K={k}: a known value changed");
                    assert_eq!(steps[i], -1.0);
                } else {
                    assert!(steps[i] >= 0.0 && (steps[i] as usize) < ran, "{order:?} K={k}: position {i} never filled");
                }
            }
            // Each step fills at most K positions of each sample.
            for s in 0..n {
                for step in 0..ran {
                    let filled = steps[s * len..(s + 1) * len].iter().filter(|&&t| t == step as f32).count();
                    assert!(filled <= k, "{order:?} K={k}: {filled} positions in one step");
                }
            }
            // Uniform predictions over 64 values: the unknown ones are not left at 0.
            let unknown: Vec<i64> = (0..n * len).filter(|&i| known[i] < 0).map(|i| values[i]).collect();
            assert!(unknown.iter().any(|&v| v != 0));
            assert!(values.iter().all(|&v| (0..64).contains(&v)));
        }
    }
}

#[test]
fn the_cosine_schedule_draws_few_positions_first_and_many_last_in_as_many_steps() {
    assert_eq!(Schedule::Constant.counts(784, 16), vec![16; 49]);
    assert_eq!(Schedule::Constant.counts(10, 4), vec![4, 4, 2]);
    let cosine = Schedule::Cosine.counts(784, 16);
    assert_eq!(cosine.len(), 49);
    assert_eq!(cosine.iter().sum::<usize>(), 784);
    assert_eq!(cosine[0], 1, "{cosine:?}");
    assert!(cosine.windows(2).all(|w| w[0] <= w[1] + 1), "not growing: {cosine:?}");
    assert!(cosine[48] > 16 && cosine[..10].iter().sum::<usize>() < 80, "{cosine:?}");
    // Fewer positions than the cosine would round away: still one a step, all drawn.
    assert_eq!(Schedule::Cosine.counts(3, 1), vec![1, 1, 1]);
    assert_eq!(Schedule::Cosine.counts(5, 2).iter().sum::<usize>(), 5);
    assert!(Schedule::Cosine.counts(0, 4).is_empty());
    assert_eq!(Schedule::from_name("cosine"), Some(Schedule::Cosine));

    // A generation follows the counts, per sample, in a fixed and in the adaptive order.
    let model = toy_any_order_model(32);
    let counts = Schedule::Cosine.counts(32, 4);
    for order in [VisitingOrder::Random, VisitingOrder::ADAPTIVE] {
        let options = GenerateOptions { order: order.clone(), per_step: 4, schedule: Schedule::Cosine, seed: 3, ..GenerateOptions::new(3) };
        let mut g = Generation::new(&model, &options, &device()).unwrap();
        assert_eq!(g.steps_total(), 8);
        while g.step(&model) {}
        let steps = floats(g.visit_steps());
        for s in 0..3 {
            let per_step: Vec<usize> = (0..8).map(|t| steps[s * 32..(s + 1) * 32].iter().filter(|&&v| v == t as f32).count()).collect();
            assert_eq!(per_step, counts, "{} order, sample {s}", order.name());
        }
    }
}

#[test]
fn without_noise_the_adaptive_order_fills_the_most_certain_positions_first() {
    use autoregress::burn::tensor::activation::log_softmax;
    let model = toy_any_order_model(16);
    let (n, k) = (2, 4);
    let options = GenerateOptions { order: VisitingOrder::Adaptive { noise: 0.0, window: 0 }, per_step: k, ..GenerateOptions::new(n) };
    let mut g = Generation::new(&model, &options, &device()).unwrap();
    g.step(&model);
    let steps = floats(g.visit_steps());
    // Nothing known: the certainty (max log-probability) of each position given the empty mask.
    let empty = Tensor::<2>::zeros([1, 16], &device());
    let certainty = floats(log_softmax(model.all_logits(sequences_tensor(&[0u16; 16], 1, 16, &device()), empty), 1).max_dim(1));
    let mut ranked: Vec<usize> = (0..16).collect();
    ranked.sort_by(|&a, &b| certainty[b].total_cmp(&certainty[a]));
    for s in 0..n {
        let mut filled: Vec<usize> = (0..16).filter(|&p| steps[s * 16 + p] == 0.0).collect();
        let mut expected = ranked[..k].to_vec();
        filled.sort();
        expected.sort();
        assert_eq!(filled, expected);
    }
}

#[test]
fn the_adaptive_window_keeps_each_step_among_the_first_unfilled_positions() {
    let model = toy_any_order_model(32);
    let (n, k, w) = (4, 3, 6);
    // Sample s knows positions 0..4s: its window starts after them.
    let known: Vec<i32> = (0..n * 32).map(|i| if i % 32 < 4 * (i / 32) { 7 } else { -1 }).collect();
    let options = GenerateOptions {
        known: Some(known),
        order: VisitingOrder::Adaptive { noise: 100.0, window: w },
        per_step: k,
        ..GenerateOptions::new(n)
    };
    let (_, steps, _) = run_all(&model, &options);
    for s in 0..n {
        let row = &steps[s * 32..(s + 1) * 32];
        let mut filled = 4 * s;
        for step in 0..(32 - 4 * s).div_ceil(k) {
            let chosen: Vec<usize> = (0..32).filter(|&p| row[p] == step as f32).collect();
            // Every chosen position is among the first w unfilled ones at that step.
            let unfilled_before: Vec<usize> = (0..32).filter(|&p| p >= 4 * s && row[p] >= step as f32).collect();
            let window: Vec<usize> = unfilled_before.into_iter().take(w).collect();
            assert!(chosen.iter().all(|p| window.contains(p)), "sample {s} step {step}: {chosen:?} outside {window:?}");
            filled += chosen.len();
        }
        assert_eq!(filled, 32);
    }
}

#[test]
fn one_step_fills_everything_when_k_is_the_length() {
    let model = toy_any_order_model(32);
    for order in [VisitingOrder::Raster, VisitingOrder::ADAPTIVE] {
        let options = GenerateOptions { per_step: 32, order, ..GenerateOptions::new(4) };
        let (_, steps, ran) = run_all(&model, &options);
        assert_eq!(ran, 1);
        assert!(steps.iter().all(|&s| s == 0.0));
    }
}

#[test]
fn positions_known_everywhere_cost_no_step() {
    let model = toy_any_order_model(32);
    let known: Vec<i32> = (0..2 * 32).map(|i| if i % 32 < 20 { 3 } else { -1 }).collect();
    let options = GenerateOptions { known: Some(known), per_step: 4, ..GenerateOptions::new(2) };
    let g = Generation::new(&model, &options, &device()).unwrap();
    assert_eq!(g.steps_total(), 3);
    assert_eq!(g.positions(), Some(&[20, 21, 22, 23][..]));
}

#[test]
fn lecture_models_refuse_other_orders_several_positions_a_step_and_guidance() {
    let model = toy_model(16);
    for (order, k) in [(VisitingOrder::Random, 1), (VisitingOrder::ADAPTIVE, 1), (VisitingOrder::Raster, 2)] {
        let name = order.name();
        let options = GenerateOptions { order, per_step: k, ..GenerateOptions::new(1) };
        let err = Generation::new(&model, &options, &device()).err().expect("refused");
        assert_eq!(err, GenerateError::NextValueOnly { kind: ModelKind::Toy, order: name, per_step: k });
    }
    // Nor can they be guided: they never see the known values to hide.
    let known = Some((0..16).map(|p| if p < 8 { 3 } else { -1 }).collect());
    let options = GenerateOptions { known, guidance: 1.0, ..GenerateOptions::new(1) };
    let err = Generation::new(&model, &options, &device()).err().expect("refused");
    assert_eq!(err, GenerateError::Unguidable { kind: ModelKind::Toy, guidance: 1.0 });
}

/// Every parameter 0 but the head's bias: a context-free distribution, the same at every position.
fn context_free(model: ArModel) -> ArModel {
    struct BiasOnly(u64);
    impl ModuleMapper for BiasOnly {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| {
                let dims = t.dims();
                if D == 1 && dims[0] == 64 {
                    self.0 += 1;
                    let mut rng = Rng::new(self.0);
                    let v: Vec<f32> = (0..64).map(|_| rng.uniform_in(-3.0, 3.0) as f32).collect();
                    Tensor::<1>::from_data(TensorData::new(v, [64]), &t.device()).reshape(dims)
                } else {
                    t.zeros_like()
                }
            })
        }
    }
    model.map(&mut BiasOnly(0))
}

#[test]
fn for_a_context_free_model_the_order_agnostic_estimate_is_the_exact_nll() {
    let model = context_free(toy_any_order_model(32));
    let (n, len) = (40, 32);
    let seqs = sequences_tensor(&random_ints(n * len, 64, 3), n, len, &device());
    let exact: f32 = nll_sum(&model, &model.row_skip(), seqs.clone()).into_scalar();
    let exact = exact as f64 / (n * len) as f64;
    let scores = order_agnostic_scores(&model, seqs, 30, 0.5, &mut Rng::new(9));
    let (mean, se) = mean_and_standard_error(&scores);
    assert!(se > 0.0);
    assert!((mean - exact).abs() < 4.0 * se + 1e-4, "estimate {mean} +- {se}, exact {exact}");
    // Not the uniform value: the bias makes the check meaningful.
    assert!((exact - (64f64).ln()).abs() > 0.05, "{exact}");
}

#[test]
fn region_nll_is_zero_for_nothing_and_the_raster_nll_for_everything() {
    for model in [small_image_model(), toy_any_order_model(32), toy_model(32)] {
        let len = model.spec.seq_len;
        let c = model.spec.num_values;
        let seqs = sequences_tensor(&random_ints(3 * len, c, 4), 3, len, &device());
        let row_skip = model.row_skip();
        let none: f32 = region_nll_sum(&model, &row_skip, seqs.clone(), &vec![false; len]).into_scalar();
        assert_eq!(none, 0.0);
        let all: f32 = region_nll_sum(&model, &row_skip, seqs.clone(), &vec![true; len]).into_scalar();
        let raster: f32 = nll_sum(&model, &row_skip, seqs.clone()).into_scalar();
        assert!((all - raster).abs() <= 1e-4 * raster.abs(), "{}: {all} vs {raster}", model.spec.kind.name());
        // The second half given the first is the raster NLL's second half for an any-order model.
        let half: Vec<bool> = (0..len).map(|p| p >= len / 2).collect();
        let part: f32 = region_nll_sum(&model, &row_skip, seqs, &half).into_scalar();
        assert!(part > 0.0 && part < all);
    }
}

#[test]
fn the_two_families_refuse_each_others_weights() {
    let any = weights::to_bytes(&toy_any_order_model(32)).unwrap();
    let err = weights::from_bytes(&any, Some(ModelKind::Toy), &device()).unwrap_err();
    assert_eq!(err, WeightsError::WrongModel { expected: ModelKind::Toy, found: ModelKind::ToyAnyOrder });
    assert!(err.to_string().contains("toy-any-order"));
    let lecture = weights::to_bytes(&mnist_model()).unwrap();
    let err = weights::from_bytes(&lecture, Some(ModelKind::MnistAnyOrder), &device()).unwrap_err();
    assert_eq!(err, WeightsError::WrongModel { expected: ModelKind::MnistAnyOrder, found: ModelKind::Mnist });
    // Round trip of an any-order model: identical logits.
    let model = small_image_model();
    let loaded = weights::from_bytes(&weights::to_bytes(&model).unwrap(), None, &device()).unwrap();
    let seqs = sequences_tensor(&random_ints(64, 256, 5), 1, 64, &device());
    let mask = Tensor::<2>::ones([1, 64], &device());
    assert_eq!(floats(model.all_logits(seqs.clone(), mask.clone())), floats(loaded.all_logits(seqs, mask)));
}

#[test]
fn next_value_logits_of_an_any_order_model_are_at_the_first_unknown_raster_position() {
    let model = toy_any_order_model(32);
    let seqs: Tensor<2, Int> = sequences_tensor(&random_ints(32, 64, 6), 1, 32, &device());
    let mask = Tensor::<2>::from_data(TensorData::new(autoregress::event::prefix_mask(10, 32), [1, 32]), &device());
    let next = floats(model.logits(seqs.clone(), mask.clone()));
    let all = floats(model.all_logits(seqs, mask).slice([0..1, 0..64, 10..11]));
    assert_eq!(next, all);
}

#[test]
fn the_committed_any_order_weights_model_the_page_digits() {
    // Bounds that weights regressed to uniform (8 bits/dim) or to a blur would fail.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let digits = std::fs::read(format!("{root}/web/assets/test-digits.idx")).unwrap();
    let digits = autoregress::data::idx::Images::from_idx(&digits).unwrap();
    let bytes = std::fs::read(format!("{root}/web/weights/mnist-any-order.bpk")).unwrap();
    let model = weights::from_bytes(&bytes, Some(ModelKind::MnistAnyOrder), &device()).unwrap();
    let seqs = sequences_tensor(&digits.pixels, digits.count, digits.rows * digits.cols, &device());
    let scores = order_agnostic_scores(&model, seqs.clone(), 2, 0.5, &mut Rng::new(1));
    let (nats, _) = mean_and_standard_error(&scores);
    let bits = autoregress::metrics::bits_per_dim(nats);
    assert!(bits < 1.4, "order-agnostic estimate {bits} bits/dim on the page's digits");
    // Draws that favour large known counts, whose scores are lower (0.66 nats a pixel near the
    // end against 1.13 with nothing known), estimate the same figure as uniform counts once
    // weighted (0.001 apart here; without the weights the figure falls by 0.024 nats).
    let estimate = |bias: f64| mean_and_standard_error(&order_agnostic_scores(&model, seqs.clone(), 16, bias, &mut Rng::new(2)));
    let ((uniform, se_u), (favoured, se_f)) = (estimate(0.0), estimate(0.5));
    assert!((uniform - favoured).abs() < 0.01, "uniform counts {uniform} ± {se_u}, favoured {favoured} ± {se_f}");

    let toy = std::fs::read(format!("{root}/web/weights/toy-any-order.bpk")).unwrap();
    let model = weights::from_bytes(&toy, Some(ModelKind::ToyAnyOrder), &device()).unwrap();
    let test = autoregress::data::toy::toy_dataset(2, 100, 32);
    let nll: f32 = nll_sum(&model, &model.row_skip(), sequences_tensor(&test, 100, 32, &device())).into_scalar();
    let nats = nll as f64 / 3200.0;
    assert!(nats < 0.65, "toy: {nats} nats/position left to right");
}

#[test]
fn specs_the_networks_cannot_take_are_typed_errors() {
    use autoregress::models::SpecError;
    let toy = ModelSpec::toy(15, 15.0, 8.0);
    let err = toy.validate().unwrap_err();
    assert!(matches!(&err, SpecError::Length { kind: ModelKind::Toy, len: 15, .. }), "{err}");
    // The shortest length the message names is one the network takes.
    assert_eq!(err.to_string(), "the toy network takes toy sequences of length 16 or more (shorter ones vanish in its convolutions), not 15");
    assert!(ModelSpec::toy(16, 16.0, 8.0).validate().is_ok());
    assert_eq!(ModelSpec { width: 0, ..ModelSpec::toy(32, 32.0, 8.0) }.validate(), Err(SpecError::ToyWidth { seq_len: 32, width: 0 }));
    assert_eq!(ModelSpec::mnist(28, 28, 33.0, 0.0).validate(), Err(SpecError::Normalization { mean: 33.0, std: 0.0 }));
    let image = ModelSpec { seq_len: 780, ..ModelSpec::mnist(28, 28, 33.0, 78.0) };
    assert_eq!(image.validate(), Err(SpecError::NotWholeRows { seq_len: 780, width: 28 }));
    let unet = ModelSpec::for_kind(ModelKind::MnistAnyOrder, 30, 30, 33.0, 78.0);
    assert!(matches!(unet.validate(), Err(SpecError::ImageSize { kind: ModelKind::MnistAnyOrder, height: 30, width: 30, .. })));
}

/// Every weight and bias zeroed, except the biases of one layer, `layer_bias` (its 0-based index
/// among the 1-D parameters in visiting order), set to -1 on even channels and +1 on odd ones.
fn silenced(model: ArModel, layer_bias: usize) -> ArModel {
    struct Silence(usize, usize);
    impl ModuleMapper for Silence {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| {
                if D != 1 {
                    return t.zeros_like();
                }
                self.0 += 1;
                if self.0 - 1 != self.1 {
                    return t.zeros_like();
                }
                let dims = t.dims();
                let v: Vec<f32> = (0..dims[0]).map(|i| if i % 2 == 0 { -1.0 } else { 1.0 }).collect();
                Tensor::<1>::from_data(TensorData::new(v, [dims[0]]), &t.device()).reshape(dims)
            })
        }
    }
    model.map(&mut Silence(0, layer_bias))
}

#[test]
fn channels_that_never_vary_are_found_per_layer() {
    use autoregress::metrics::ChannelRanges;
    let len = 64;
    let mut rng = Rng::new(4);
    let masks: Vec<f32> = (0..12 * len).map(|_| (rng.below(2)) as f32).collect();
    let seqs = random_ints(12 * len, 256, 5);
    let input = |rows: std::ops::Range<usize>| {
        let n = rows.len();
        (
            sequences_tensor(&seqs[rows.start * len..rows.end * len], n, len, &device()),
            Tensor::<2>::from_data(TensorData::new(masks[rows.start * len..rows.end * len].to_vec(), [n, len]), &device()),
        )
    };
    // Folded over three batches of four, as over one batch of twelve.
    let observe = |model: &ArModel, batches: &[std::ops::Range<usize>]| {
        let mut ranges = ChannelRanges::default();
        for rows in batches {
            let (s, m) = input(rows.clone());
            assert!(ranges.observe(model, s, m));
        }
        ranges.dead()
    };
    let model = small_image_model();
    let folded = observe(&model, &[0..4, 4..8, 8..12]);
    assert_eq!(folded, observe(&model, &[0..12]));
    assert_eq!(folded.iter().map(|l| l.layer).collect::<Vec<_>>(), autoregress::models::PROBED_LAYERS);
    // A fresh network's first layer sees varied inputs through random weights: none constant.
    assert!(folded[0].dead.is_empty() && folded[0].channels == 24, "{:?}", folded[0]);
    let (dead, all) = folded.iter().fold((0, 0), |(d, a), l| (d + l.dead.len(), a + l.channels));
    assert!(dead < all, "every channel of a fresh network constant");
    // Weights zero, and one layer's biases set: every channel is constant, named per layer.
    let zeroed = observe(&silenced(small_image_model(), 0), &[0..12]);
    for l in &zeroed {
        assert_eq!(l.dead, (0..l.channels).collect::<Vec<_>>(), "{}", l.layer);
    }
    // A model other than the any-order image network has no layers to show.
    let mut ranges = ChannelRanges::default();
    let toy = toy_any_order_model(32);
    let mask = Tensor::<2>::from_data(TensorData::new(vec![0.0f32; 32], [1, 32]), &device());
    assert!(!ranges.observe(&toy, sequences_tensor(&random_ints(32, 64, 1), 1, 32, &device()), mask));
    assert!(ranges.dead().is_empty());
}

#[test]
fn the_halton_order_visits_every_position_once_and_spreads_each_step() {
    use autoregress::generate::halton_order;
    for (h, w) in [(28, 28), (1, 32), (4, 8), (7, 3)] {
        for shift in [(0.0, 0.0), (0.37, 0.81)] {
            let mut order = halton_order(h, w, shift);
            assert_eq!(order.len(), h * w);
            order.sort_unstable();
            assert_eq!(order, (0..h * w).collect::<Vec<_>>(), "{h}x{w}");
        }
    }
    // The first 16 positions of a 28x28 order land in more of the sixteen 7x7 blocks than a
    // random order's do on average (about 10.3 of 16 for 16 uniform draws).
    let blocks = |order: &[usize]| {
        let mut hit = [false; 16];
        for &p in &order[..16] {
            hit[(p / 28 / 7) * 4 + (p % 28) / 7] = true;
        }
        hit.iter().filter(|&&b| b).count()
    };
    let mut rng = Rng::new(9);
    for _ in 0..5 {
        let shift = (rng.uniform(), rng.uniform());
        let spread = blocks(&halton_order(28, 28, shift));
        assert!(spread >= 12, "{spread} of 16 blocks");
    }
    assert_ne!(halton_order(28, 28, (0.1, 0.2)), halton_order(28, 28, (0.6, 0.3)), "two shifts, one order");
    // A generation in this order: each step draws its share, spread along the sequence (the
    // first two steps' positions in different halves).
    let model = toy_any_order_model(32);
    let options = GenerateOptions { order: VisitingOrder::Halton, per_step: 4, seed: 1, ..GenerateOptions::new(2) };
    let mut g = Generation::new(&model, &options, &device()).unwrap();
    while g.step(&model) {}
    let steps = floats(g.visit_steps())[..32].to_vec();
    for s in 0..8 {
        let at: Vec<usize> = (0..32).filter(|&p| steps[p] == s as f32).collect();
        assert_eq!(at.len(), 4, "step {s}: {steps:?}");
        assert!(at.windows(2).all(|w| w[1] - w[0] >= 4), "step {s} clusters: {at:?}");
    }
    assert_eq!(VisitingOrder::from_name("halton"), Some(VisitingOrder::Halton));
}

/// `[C, L]` logits of sequence 0 of `values` (`[1, L]`) seen where `mask` (L flags) is 1.
fn logits_of(model: &ArModel, values: &[u16], mask: &[f32]) -> Vec<f32> {
    let len = model.spec.seq_len;
    let mask = Tensor::<2>::from_data(TensorData::new(mask.to_vec(), [1, len]), &device());
    floats(model.all_logits(sequences_tensor(values, 1, len, &device()), mask))
}

#[test]
fn guidance_draws_from_the_conditional_pushed_away_from_the_model_without_the_known_values() {
    let model = toy_any_order_model(32);
    let (len, c, w) = (32, model.spec.num_values, 3.0);
    let known: Vec<i32> = (0..len).map(|p| if p < 12 { ((p * 5) % c) as i32 } else { -1 }).collect();
    let values: Vec<u16> = known.iter().map(|&v| v.max(0) as u16).collect();
    let given: Vec<f32> = known.iter().map(|&v| (v >= 0) as u8 as f32).collect();
    let (l, free) = (logits_of(&model, &values, &given), logits_of(&model, &values, &[0.0; 32]));
    let argmax = |score: &dyn Fn(usize) -> f32| (0..c).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap() as i64;
    // Among the values the conditional gives at least GUIDANCE_PLAUSIBLE of its top probability.
    let plausible = |p: usize, v: usize| {
        let top = (0..c).map(|u| l[u * len + p]).fold(f32::MIN, f32::max);
        l[v * len + p] >= top + (autoregress::generate::GUIDANCE_PLAUSIBLE as f32).ln()
    };
    // One greedy step fills every unknown position from the guided logits l + w (l - l_free).
    let run = |guidance: f64| {
        let options = GenerateOptions { known: Some(known.clone()), per_step: len, temperature: 0.0, guidance, ..GenerateOptions::new(1) };
        run_all(&model, &options).0
    };
    let (guided, plain) = (run(w), run(0.0));
    for p in 12..len {
        let at = |v: usize| v * len + p;
        let guided_logit = |v: usize| if plausible(p, v) { l[at(v)] + w as f32 * (l[at(v)] - free[at(v)]) } else { f32::MIN };
        assert_eq!(guided[p], argmax(&guided_logit), "position {p}");
        assert_eq!(plain[p], argmax(&|v| l[at(v)]), "position {p}");
    }
    assert_ne!(guided, plain, "guidance changed nothing: the check above cannot tell it from none");
}

/// The head's bias (the only 64-value vector) replaced by values in -12..12: logits far apart,
/// so that some values are implausible to the conditional.
fn spread_head_bias(model: ArModel) -> ArModel {
    struct Spread;
    impl ModuleMapper for Spread {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| {
                let dims = t.dims();
                if D != 1 || dims[0] != 64 {
                    return t;
                }
                let mut rng = Rng::new(9);
                let v: Vec<f32> = (0..64).map(|_| rng.uniform_in(-12.0, 12.0) as f32).collect();
                Tensor::<1>::from_data(TensorData::new(v, [64]), &t.device()).reshape(dims)
            })
        }
    }
    model.map(&mut Spread)
}

#[test]
fn the_posterior_view_shows_the_guided_distribution_and_hides_only_the_known_values() {
    let model = spread_head_bias(toy_any_order_model(32));
    let (len, c, w) = (32, model.spec.num_values, 1.5);
    let known: Vec<i32> = (0..len).map(|p| if p % 3 == 0 { ((p * 7) % c) as i32 } else { -1 }).collect();
    let options = GenerateOptions { known: Some(known.clone()), per_step: 4, guidance: w, seed: 3, ..GenerateOptions::new(1) };
    let mut g = Generation::new(&model, &options, &device()).unwrap();
    g.step(&model);
    let next = g.next_distribution(&model, 0).unwrap();
    let p = ints(next.position)[0] as usize;
    let values: Vec<u16> = ints(g.values()).iter().map(|&v| v as u16).collect();
    let visited = floats(g.visited());
    // The generated positions stay visible without the known ones.
    let free: Vec<f32> = (0..len).map(|q| if known[q] >= 0 { 0.0 } else { visited[q] }).collect();
    assert!(free.iter().any(|&v| v == 1.0), "the first step generated nothing");
    let (l, lf) = (logits_of(&model, &values, &visited), logits_of(&model, &values, &free));
    let top = (0..c).map(|v| l[v * len + p]).fold(f32::MIN, f32::max) as f64;
    let floor = top + autoregress::generate::GUIDANCE_PLAUSIBLE.ln();
    let guided: Vec<Option<f64>> = (0..c)
        .map(|v| ((l[v * len + p] as f64) >= floor).then(|| (l[v * len + p] + w as f32 * (l[v * len + p] - lf[v * len + p])) as f64))
        .collect();
    let kept = guided.iter().flatten().count();
    assert!(kept >= 2 && kept < c, "{kept} plausible values of {c}: the check below cannot fail");
    let log_z = guided.iter().flatten().map(|x| x.exp()).sum::<f64>().ln();
    for (v, got) in floats(next.log_probs).into_iter().enumerate() {
        match guided[v] {
            Some(g) => assert!((got as f64 - (g - log_z)).abs() < 1e-4, "value {v}: {got} against {}", g - log_z),
            None => assert!(got < -1e20, "value {v}, implausible to the conditional, kept: {got}"),
        }
    }
}

#[test]
fn negative_or_non_finite_guidance_is_refused() {
    let model = toy_any_order_model(32);
    for w in [-0.5, f64::NAN, f64::INFINITY] {
        let options = GenerateOptions { guidance: w, ..GenerateOptions::new(1) };
        match Generation::new(&model, &options, &device()).err() {
            Some(GenerateError::Guidance(got)) => assert!(got.is_nan() && w.is_nan() || got == w),
            other => panic!("guidance {w}: {other:?}"),
        }
    }
}

mod common;

use autoregress::burn::tensor::{Tensor, TensorData};
use autoregress::event::{Event, EventError, event_tensors};
use autoregress::sampling::{sample, sample_rows};
use common::*;

#[test]
fn the_lectures_event_table() {
    // {X2 = 3}; all five known; {X5 = 50, X2 = 20} (the lecture counts from 1).
    let events = [
        Event(vec![(1, 3.0)]),
        Event(vec![(0, 1.0), (1, 2.0), (2, 3.0), (3, 4.0), (4, 5.0)]),
        Event(vec![(4, 50.0), (1, 20.0)]),
    ];
    let (mask, values) = event_tensors(&events, 5, &device()).unwrap();
    assert_eq!(mask.dims(), [3, 5]);
    assert_eq!(floats(mask), vec![0., 1., 0., 0., 0., 1., 1., 1., 1., 1., 0., 1., 0., 0., 1.]);
    assert_eq!(floats(values), vec![0., 3., 0., 0., 0., 1., 2., 3., 4., 5., 0., 20., 0., 0., 50.]);
}

#[test]
fn bad_events_are_errors() {
    let out_of_range = event_tensors(&[Event(vec![(5, 1.0)])], 5, &device());
    assert_eq!(out_of_range.unwrap_err(), EventError::PositionOutOfRange { event: 0, position: 5, len: 5 });
    let twice = event_tensors(&[Event(vec![]), Event(vec![(2, 1.0), (2, 3.0)])], 5, &device());
    assert_eq!(twice.unwrap_err(), EventError::DuplicatePosition { event: 1, position: 2 });
}

fn frequencies(samples: &[i64], classes: usize) -> Vec<f64> {
    let mut counts = vec![0usize; classes];
    samples.iter().for_each(|&s| counts[s as usize] += 1);
    counts.iter().map(|&c| c as f64 / samples.len() as f64).collect()
}

#[test]
fn sampling_frequencies_follow_the_probabilities() {
    // The lecture's example: logits log(0.8), log(0.1), log(0.1), 10,000 draws.
    let logits = Tensor::<1>::from_floats([0.8f32.ln(), 0.1f32.ln(), 0.1f32.ln()], &device());
    device().seed(7);
    let s: Tensor<1, _> = sample(logits, &[10_000], 1.0);
    let f = frequencies(&ints(s), 3);
    // 5 standard deviations of a proportion over 10,000 draws is at most 0.025.
    for (got, want) in f.iter().zip([0.8, 0.1, 0.1]) {
        assert!((got - want).abs() < 0.025, "frequencies {f:?}");
    }
}

#[test]
fn batched_sampling_has_the_lectures_shape_and_rows() {
    let p = [[0.90f32, 0.10], [0.50, 0.50], [0.25, 0.75], [0.01, 0.99]];
    let logits: Vec<f32> = p.iter().flatten().map(|v| v.ln()).collect();
    let logits = Tensor::<2>::from_data(TensorData::new(logits, [4, 2]), &device());
    let s: Tensor<2, _> = sample(logits.clone(), &[8], 1.0);
    assert_eq!(s.dims(), [8, 4]);
    // Each column follows its own row of probabilities.
    let many: Tensor<2, _> = sample(logits, &[4000], 1.0);
    let v = ints(many);
    for (col, probs) in p.iter().enumerate() {
        let ones = (0..4000).filter(|r| v[r * 4 + col] == 1).count() as f64 / 4000.0;
        assert!((ones - probs[1] as f64).abs() < 0.04, "column {col}: {ones}");
    }
    // Sample shape 2x3 over logits 4x2 gives 2x3x4.
    let l = Tensor::<2>::zeros([4, 2], &device());
    let s: Tensor<3, _> = sample(l, &[2, 3], 1.0);
    assert_eq!(s.dims(), [2, 3, 4]);
}

#[test]
fn temperature_zero_takes_the_most_likely_value_and_low_temperature_sharpens() {
    let logits = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 1.0, 0.5, 3.0, 0.0, 0.0], [2, 3]), &device());
    assert_eq!(ints(sample_rows(logits.clone(), 0.0)), vec![1, 0]);
    let l = Tensor::<1>::from_floats([0.0f32, 1.0], &device());
    let cold = frequencies(&ints::<1>(sample(l.clone(), &[4000], 0.25)), 2);
    let warm = frequencies(&ints::<1>(sample(l, &[4000], 1.0)), 2);
    // p(1) = sigmoid(1 / T): 0.98 at T = 0.25, 0.73 at T = 1.
    assert!((cold[1] - 0.982).abs() < 0.02, "{cold:?}");
    assert!((warm[1] - 0.731).abs() < 0.04, "{warm:?}");
}

#[test]
fn a_tiny_temperature_is_greedy_never_an_overflow() {
    // Rows whose most likely value is not the first: dividing by 1e-50 would make every logit
    // infinite and the argmax pick the lowest index.
    let logits = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, 2.0, 1.0, -3.0, -1.0, 0.5], [2, 3]), &device());
    let greedy = ints(sample_rows(logits.clone(), 0.0));
    assert_eq!(greedy, vec![1, 2]);
    for t in [1e-50, 1e-300, 1e-38, f64::MIN_POSITIVE] {
        assert_eq!(ints(sample_rows(logits.clone(), t)), greedy, "temperature {t}");
    }
}

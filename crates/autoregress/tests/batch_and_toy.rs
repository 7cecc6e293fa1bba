mod common;

use autoregress::batch::{sequences_tensor, training_batch};
use autoregress::data::toy::{is_valid, toy_dataset};
use common::*;

#[test]
fn training_batch_matches_a_hand_computed_case() {
    let seqs = sequences_tensor(&[5u8, 6, 7, 8, 1, 2, 3, 4, 9, 9, 9, 9], 3, 4, &device());
    let batch = training_batch(seqs, &[2, 0, 3]);
    assert_eq!(ints(batch.targets.clone()), vec![7, 1, 9]);
    assert_eq!(floats(batch.mask.clone()), vec![1., 1., 0., 0., 0., 0., 0., 0., 1., 1., 1., 0.]);
    // The network's value channel: (x - mean) / std, masked. Mean 4, std 2.
    let mut spec = toy_model(16).spec;
    spec.mean = 4.0;
    spec.std = 2.0;
    let model = autoregress::ArModel::new(spec, &device()).unwrap();
    let values = floats(model.normalize(batch.sequences, batch.mask));
    assert_eq!(values, vec![0.5, 1.0, 0., 0., 0., 0., 0., 0., 2.5, 2.5, 2.5, 0.]);
}

#[test]
fn the_generators_sequences_are_all_valid() {
    let len = 32;
    let data = toy_dataset(1, 1000, len);
    for seq in data.chunks(len) {
        assert_eq!(seq[0], 32);
        assert!(seq.iter().all(|&v| v < 64));
        assert!(is_valid(seq), "{seq:?}");
    }
    // Both slopes' signs and cuts all over the sequence occur.
    let restarts = data.chunks(len).filter(|s| s[1..].contains(&32)).count();
    assert!(restarts > 500, "{restarts}");
    let rising = data.chunks(len).filter(|s| s[4] > 33).count();
    let falling = data.chunks(len).filter(|s| s[4] < 31).count();
    assert!(rising > 200 && falling > 200, "{rising} rising and {falling} falling first runs of 1000");
    let last_restart = |s: &[u16]| (1..len).rev().find(|&k| s[k] == 32 && s[k - 1] != 32);
    let early = data.chunks(len).filter(|s| last_restart(s).is_some_and(|k| k < len / 3)).count();
    let late = data.chunks(len).filter(|s| last_restart(s).is_some_and(|k| k > 2 * len / 3)).count();
    assert!(early > 50 && late > 50, "restarts early in {early}, late in {late} sequences");
}

#[test]
fn a_changed_value_is_rejected() {
    // Slope 1 without a cut: 32, 33, ..., 63.
    let line: Vec<u16> = (32..64).collect();
    assert!(is_valid(&line));
    let mut bent = line.clone();
    bent[10] = 40;
    assert!(!is_valid(&bent));
    let mut start = line.clone();
    start[0] = 33;
    assert!(!is_valid(&start));
    // A cut at 20 restarting with slope -0.5: valid; one value off by one in the suffix: not.
    let mut cut: Vec<u16> = (32..52).collect();
    cut.extend((0..12).map(|k| (32.0 - 0.5 * k as f64).round() as u16));
    assert!(is_valid(&cut), "{cut:?}");
    cut[27] += 1;
    assert!(!is_valid(&cut));
    // A slope beyond 1 is not a toy sequence.
    let steep: Vec<u16> = (0..32).map(|k| (32 + (k * 3) / 2).min(63) as u16).collect();
    assert!(!is_valid(&steep));
}

#[test]
fn large_changes_of_generated_sequences_are_rejected() {
    // Changing one value by a large step leaves a sequence the generator cannot produce,
    // except where the new value happens to fit another slope; count those exceptions.
    let len = 32;
    let data = toy_dataset(2, 200, len);
    let mut caught = 0;
    for (i, seq) in data.chunks(len).enumerate() {
        let mut s = seq.to_vec();
        let p = 1 + i % (len - 1);
        s[p] = if s[p] >= 40 { s[p] - 8 } else { s[p] + 8 };
        caught += !is_valid(&s) as usize;
    }
    assert!(caught >= 190, "only {caught} of 200 changed sequences rejected");
}

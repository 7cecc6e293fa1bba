// Property tests of the two parsers that read files from outside: arbitrary or damaged bytes
// give an error, never a panic; what is written reads back identical.

mod common;

use autoregress::data::idx::IdxArray;
use autoregress::weights;
use common::*;
use proptest::prelude::*;
use std::sync::OnceLock;

fn toy_weights() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| weights::to_bytes(&toy_model(16)).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn idx_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = IdxArray::parse(&bytes);
    }

    #[test]
    fn idx_headers_of_any_size_never_panic(rank in 1u8..4, sizes in prop::collection::vec(any::<u32>(), 3), tail in prop::collection::vec(any::<u8>(), 0..32)) {
        let mut bytes = vec![0, 0, 8, rank];
        for s in &sizes[..rank as usize] {
            bytes.extend(s.to_be_bytes());
        }
        bytes.extend(tail);
        let _ = IdxArray::parse(&bytes);
    }

    #[test]
    fn idx_round_trips(dims in prop::collection::vec(1usize..6, 1..4), seed in any::<u64>()) {
        let count: usize = dims.iter().product();
        let mut rng = autoregress::rng::Rng::new(seed);
        let data: Vec<u8> = (0..count).map(|_| rng.below(256) as u8).collect();
        let array = IdxArray { dims, data };
        prop_assert_eq!(IdxArray::parse(&array.to_bytes()).unwrap(), array);
    }

    #[test]
    fn weights_parsing_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = weights::from_bytes(&bytes, None, &device());
    }

    #[test]
    fn damaged_weights_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>(), truncate in any::<bool>()) {
        let mut bytes = toy_weights().to_vec();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= value | 1;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = weights::from_bytes(&bytes, None, &device());
    }
}

#[test]
fn weights_round_trip_byte_for_byte() {
    let loaded = weights::from_bytes(toy_weights(), None, &device()).unwrap();
    assert_eq!(weights::to_bytes(&loaded).unwrap(), toy_weights());
}

#![no_main]
// The IDX reader on arbitrary bytes: an error or an array, never a panic, a hang or a huge
// allocation.
use autoregress::data::idx::{IdxArray, Images, labels_from_idx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = IdxArray::parse(data) {
        assert_eq!(IdxArray::parse(&array.to_bytes()).as_ref(), Ok(&array));
    }
    let _ = Images::from_idx(data);
    let _ = labels_from_idx(data);
});

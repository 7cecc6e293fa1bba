#![no_main]
// The weights loader on arbitrary bytes: an error or a model, never a panic, a hang or a huge
// allocation.
use autoregress::weights;
use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = weights::read_spec(data);
    let _ = weights::from_bytes(data, None, &Device::flex());
});

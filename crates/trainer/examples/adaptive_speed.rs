use autoregress::burn::tensor::activation::log_softmax;
use autoregress::burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;

fn time<F: FnMut() -> Vec<f32>>(name: &str, mut f: F) {
    let _ = f();
    let t = Instant::now();
    for _ in 0..10 { let _ = f(); }
    println!("{name}: {:.1} ms", t.elapsed().as_secs_f64() * 100.0);
}

fn main() {
    let device = Device::flex();
    let logits = Tensor::<3>::random([48, 256, 784], Distribution::Normal(0.0, 1.0), &device);
    time("log_softmax+max", || log_softmax(logits.clone(), 1).max_dim(1).into_data().to_vec().unwrap());
    time("max - lse swapped", || {
        let t = logits.clone().swap_dims(1, 2);
        let m = t.clone().max_dim(2);
        let lse = (t - m.clone()).exp().sum_dim(2).log();
        (lse.neg()).into_data().to_vec().unwrap()
    });
    time("max - lse", || {
        let m = logits.clone().max_dim(1);
        let lse = (logits.clone() - m.clone()).exp().sum_dim(1).log();
        (lse.neg()).into_data().to_vec().unwrap()
    });
    time("max only", || logits.clone().max_dim(1).into_data().to_vec().unwrap());
    let s = Tensor::<2>::random([48, 784], Distribution::Normal(0.0, 1.0), &device);
    time("topk16", || { let (_, i) = s.clone().topk_with_indices(16, 1); i.float().into_data().to_vec().unwrap() });
    time("swap copy", || logits.clone().swap_dims(1, 2).reshape([48 * 784, 256]).sum_dim(1).into_data().to_vec().unwrap());
}

//! `trainer bench`: throughput rows (`crate::bench`), printed or as JSON.

use crate::cli::BenchArgs;
use crate::device;
use crate::bench;
use anyhow::Result;

pub fn run(a: BenchArgs) -> Result<()> {
    // The timed generation draws every digit at once: its logits (and their noise, scores and
    // log-probabilities) over 256 values at each of the 784 pixels.
    let pixels = autoregress::data::MNIST_PIXELS;
    crate::outputs::check_fits(a.digits, pixels * 256 * 4 * 4, "--digits")?;
    let backends = if a.backends.is_empty() {
        device::all_available()
    } else {
        a.backends.iter().map(|&b| device::choose(b)).collect::<Result<Vec<_>>>()?
    };
    let opts = bench::BenchOptions {
        train_steps: a.train_steps,
        forward_reps: a.forward_reps,
        digits: a.digits,
        any_order_per_step: a.any_order_per_step.clone(),
    };
    let mut rows = Vec::new();
    if a.layers {
        for b in &backends {
            let times = bench::layers(b, a.forward_reps);
            if !a.json {
                for t in &times {
                    println!("{:<20} {:<28} forward {:>6.2} ms   forward+backward {:>6.2} ms", b.name, t.layer, t.forward_ms, t.forward_backward_ms);
                }
            }
            rows.push(serde_json::to_value(bench::LayersRow { backend: b.name.clone(), layers: times })?);
        }
        if a.json {
            println!("{}", serde_json::to_string(&rows)?);
        }
        return Ok(());
    }
    for b in &backends {
        eprintln!("measuring {} ...", b.name);
        let r = bench::run(b, &opts);
        if !a.json {
            let burn = r.train_images_per_s_burn_adam.map(|v| format!(" (Burn's Adam {v:.0})")).unwrap_or_default();
            println!(
                "{:<45} train {:>7.0} img/s{burn}   toy {:>7.0} seq/s   forward {:>7.0} img/s   {} digits in {:>6.2} s",
                b.name, r.train_images_per_s, r.toy_train_samples_per_s, r.forward_images_per_s, opts.digits, r.generate_seconds
            );
        }
        rows.push(serde_json::to_value(&r)?);
        if !opts.any_order_per_step.is_empty() {
            let r = bench::run_any_order(b, &opts);
            if !a.json {
                let times: Vec<String> = r.generation.iter().map(|g| format!("{} K={} {:.2} s", g.order, g.per_step, g.seconds)).collect();
                println!("{:<45} any-order: train {:>6.0} img/s   {} digits: {}", b.name, r.train_images_per_s, opts.digits, times.join(", "));
            }
            rows.push(serde_json::to_value(&r)?);
        }
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}

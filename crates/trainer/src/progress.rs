//! Progress bars for long work: position, ETA and a live message (loss, perplexity, speed).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `total` steps named `what`; drawn nowhere when `quiet` (it still counts).
pub fn bar(total: u64, what: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} [{{bar:30.cyan/blue}}] {{pos}}/{{len}} {{msg}} [{{elapsed_precise}}, ETA {{eta_precise}}]"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

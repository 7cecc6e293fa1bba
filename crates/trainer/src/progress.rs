//! Progress bars for long work: position, ETA and a live message (loss, perplexity, speed).

use indicatif::{ProgressBar, ProgressStyle};

pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} [{{bar:30.cyan/blue}}] {{pos}}/{{len}} {{msg}} [{{elapsed_precise}}, ETA {{eta_precise}}]"
        ))
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

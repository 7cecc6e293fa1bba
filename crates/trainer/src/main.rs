//! `trainer`: the command line of the lecture's auto-regressive models and our any-order ones:
//! `train`, `eval` (exact metrics), `sample`, `inpaint`, `pictures` (the lecture's figures),
//! `judge` (an independent digit classifier's verdict) and `bench`. `cli.rs` parses and checks
//! the options, `commands/` holds each command's body. Run `cargo run -p trainer --release -- --help`.

mod bench;
mod checkpoint;
mod cli;
mod commands;
mod data;
mod device;
mod eval;
mod files;
mod interrupt;
mod judge;
mod outputs;
mod progress;
mod report;
mod train;

use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mimalloc.h` (v2 and v3; the Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // mimalloc hands freed memory back to the OS after its purge delay; a training step frees and
    // takes again the same large buffers, which then came back as fresh pages for the kernel to
    // zero (7% of a step in the kernel, against 3% without; 3% more images/s). -1: never purge.
    // SAFETY: sets a plain option, before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    // A bad option is bad input like any other: exit code 1 (clap's own would be 2); --help and
    // --version print and exit 0.
    let cli = cli::Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(if e.use_stderr() { 1 } else { 0 });
    });
    if let Err(err) = cli::run(cli) {
        // One clear message, with its causes, and a failing exit code.
        eprintln!("error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

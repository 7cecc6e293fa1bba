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

fn main() {
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

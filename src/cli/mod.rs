//! Sub-commands of the `xent` binary.

mod bench;
mod demo;
mod eval;
mod explain;
#[cfg(feature = "mpi")]
mod shard;
mod text;
mod train;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Softmax and cross-entropy exactly as TensorFlow, Keras and PyTorch compute them.
#[derive(Parser, Debug)]
#[command(name = "xent", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Evaluate one framework op (or its gradient) on .npy inputs.
    Eval(eval::EvalArgs),
    /// Time a kernel on random data (or measure memory bandwidth with --membw).
    Bench(bench::BenchArgs),
    /// Replay the softmax / cross-entropy experiments step by step, with checks.
    Demo(demo::DemoArgs),
    /// Fit a softmax-regression (or one-hidden-layer) classifier with xent's cross-entropy.
    Train(train::TrainArgs),
    /// Find which framework call produced an observed loss value, and the trap behind it.
    Explain(explain::ExplainArgs),
}

/// Print one error line and pick the exit code: 2 for usage mistakes, 1 for bad data.
pub fn fail(e: &xent::Error) -> ExitCode {
    eprintln!("xent: error: {e}");
    ExitCode::from(if e.is_usage() { 2 } else { 1 })
}

/// Parse the arguments and run the sub-command.
pub fn main() -> ExitCode {
    let cmd = Cli::command()
        .mut_subcommand("eval", |s| s.after_long_help(xent::registry::help()).after_help("Run `xent eval --help` for the list of ops."));
    let matches = cmd.get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match cli.cmd {
        Cmd::Eval(a) => eval::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Demo(a) => demo::run(a),
        Cmd::Train(a) => train::run(a),
        Cmd::Explain(a) => explain::run(a),
    }
}

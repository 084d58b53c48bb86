//! `xent eval OP --input NAME=FILE.npy ... [--param KEY=VALUE ...] [--grad NAME] -o OUT.npy`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value;
use xent::Error;

/// Arguments of `xent eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The op, by its framework name (e.g. torch.nn.functional.cross_entropy).
    op: String,
    /// An input as NAME=FILE.npy (repeat for each input).
    #[arg(long = "input", value_name = "NAME=FILE")]
    inputs: Vec<String>,
    /// A parameter as KEY=VALUE; VALUE is JSON (true, 0.1, null, "mean") or a bare string.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Write the gradient of sum(output) with respect to this input instead of the output.
    #[arg(long, value_name = "NAME")]
    grad: Option<String>,
    /// Output .npy file (written atomically: nothing is left behind on failure).
    #[arg(short, long, value_name = "OUT.npy")]
    output: PathBuf,
    /// Threads for the kernels (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn split_kv<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str), Error> {
    s.split_once('=').filter(|(k, _)| !k.is_empty()).ok_or_else(|| Error::Usage(format!("--{what} `{s}` must look like NAME=VALUE")))
}

/// A parameter value: JSON if it parses, otherwise the bare string.
fn param_value(v: &str) -> Value {
    serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn run_inner(a: &EvalArgs) -> Result<(), Error> {
    let mut names = Vec::new();
    for s in &a.inputs {
        let (k, v) = split_kv("input", s)?;
        names.push((k.to_string(), PathBuf::from(v)));
    }
    let mut params = Vec::new();
    for s in &a.params {
        let (k, v) = split_kv("param", s)?;
        params.push((k.to_string(), param_value(v)));
    }
    let name_refs: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    xent::registry::check(&a.op, &name_refs, &params, a.grad.as_deref())?;
    for (n, p) in &names {
        if same_file(p, &a.output) {
            return Err(Error::Io {
                path: a.output.display().to_string(),
                msg: format!("the output path is also input `{n}`; refusing to overwrite an input"),
            });
        }
    }
    let mut inputs = Vec::new();
    for (n, p) in names {
        inputs.push((n, xent::npy::read(&p)?));
    }
    if let Some(t) = a.threads {
        xent::set_default_par(if t <= 1 { xent::Par::Seq } else { xent::Par::Rayon(t) });
    }
    let out = xent::registry::eval(&a.op, inputs, params, a.grad.as_deref())?;
    xent::npy::write(&a.output, &out)
}

/// Run `xent eval`.
pub fn run(a: EvalArgs) -> ExitCode {
    match run_inner(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&e),
    }
}

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
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Error::Usage(format!("--{what} `{}` must look like NAME=VALUE", xent::registry::cut(s))))
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

fn io(path: &Path, msg: impl Into<String>) -> Error {
    Error::Io { path: path.display().to_string(), msg: msg.into() }
}

/// Check an input path before opening it: it must be a regular file (a FIFO would
/// block the open forever, `/dev/zero` never ends).
fn check_input(name: &str, p: &Path) -> Result<(), Error> {
    match std::fs::metadata(p) {
        Err(e) => Err(io(p, format!("cannot read input `{name}`: {e}"))),
        Ok(m) if !m.is_file() => Err(io(p, format!("input `{name}` is not a regular file"))),
        Ok(_) => Ok(()),
    }
}

/// Check the output path before any work: its directory must exist, and whatever is
/// there already must be a file (or a symbolic link) that may be replaced, never a
/// directory, device, FIFO or socket.
fn check_output(out: &Path) -> Result<(), Error> {
    if out.file_name().is_none() {
        return Err(io(out, "the output path does not name a file"));
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Err(e) => return Err(io(out, format!("cannot write into directory {}: {e}", dir.display()))),
        Ok(m) if !m.is_dir() => return Err(io(out, format!("cannot write into {}: not a directory", dir.display()))),
        Ok(_) => {}
    }
    match std::fs::symlink_metadata(out) {
        Ok(m) if !(m.is_file() || m.file_type().is_symlink()) => {
            Err(io(out, "exists and is not a regular file (a directory, device, FIFO or socket); refusing to replace it"))
        }
        _ => Ok(()),
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
    check_output(&a.output)?;
    for (n, p) in &names {
        check_input(n, p)?;
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

//! `xent eval OP --input NAME=FILE.npy ... [--param KEY=VALUE ...] [--grad NAME] [--output NAME] [-o OUT.npy | -o -]`

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xent::Error;

/// Arguments of `xent eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The op, by its framework name (e.g. torch.nn.functional.cross_entropy, or as
    /// written in Python code: F.cross_entropy, nn.CrossEntropyLoss, tf.keras.losses.X).
    op: String,
    /// An input as NAME=FILE.npy (repeat for each input).
    #[arg(long = "input", value_name = "NAME=FILE")]
    inputs: Vec<String>,
    /// A parameter as KEY=VALUE; VALUE is JSON (true, 0.1, null, "mean", [1, 2]), a Python
    /// literal (True, False, None, 'mean') or a bare string. Tensor arguments (weight,
    /// pos_weight, sample_weight) are inputs: --input weight=FILE.npy.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    params: Vec<String>,
    /// Write the gradient of sum(output) with respect to this input instead of the output.
    #[arg(long, value_name = "NAME")]
    grad: Option<String>,
    /// Output .npy file, replaced atomically (nothing is left behind on failure); a
    /// symbolic link is followed (the file it points to is replaced, the link stays); a
    /// FIFO or character device (/dev/null, /dev/stdout) is written directly, nothing
    /// under /dev is ever renamed over. `-o -` writes the .npy bytes to standard output.
    /// Without -o the result is printed as text on standard output: every number exact,
    /// in the shortest form that reads back to the same value (all the digits it needs, up
    /// to 9 significant for float32 and 17 for float64; never rounded to fewer), nested in
    /// brackets like numpy's repr, one line per row; nan, inf, -inf; True/False for bool.
    #[arg(short = 'o', long = "out", value_name = "OUT.npy")]
    output: Option<PathBuf>,
    /// Which output to write, by name, for an op with several (onnx.SoftmaxCrossEntropyLoss:
    /// output, log_prob); default: the first. The output file is -o.
    #[arg(long = "output", value_name = "NAME")]
    output_name: Option<String>,
    /// Threads for the kernels (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Split the classes evenly over the MPI processes (`mpirun -np R xent eval ...
    /// --shard-classes`; xent built with `--features mpi`): each process reads only its
    /// block of the logits' columns (2-D `input`, classes last) or of `linear_weight`'s
    /// rows, and of `weight` / `linear_bias`; process 0 writes the output, gathering a
    /// sharded gradient. For torch.nn.functional.cross_entropy (nn.CrossEntropyLoss)
    /// and torch.nn.functional.linear_cross_entropy with class-index targets.
    #[arg(long)]
    shard_classes: bool,
}

fn split_kv<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str), Error> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Error::Usage(format!("--{what} `{}` must look like NAME=VALUE", xent::registry::cut(s))))
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
/// there already must be something xent may write: a regular file (or a link to one:
/// the link is followed), a FIFO or a character device, never a directory, block
/// device or socket. See [`xent::npy::output_target`].
fn check_output(out: &Path) -> Result<(), Error> {
    if out.file_name().is_none() {
        return Err(io(out, "the output path does not name a file"));
    }
    let target = xent::npy::output_target(out)?;
    let file = match &target {
        xent::npy::OutputTarget::Replace(p) | xent::npy::OutputTarget::CreateNew(p) => p.as_path(),
        _ => return Ok(()),
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Err(e) => return Err(io(out, format!("cannot write into directory {}: {e}", dir.display()))),
        Ok(m) if !m.is_dir() => return Err(io(out, format!("cannot write into {}: not a directory", dir.display()))),
        Ok(_) => {}
    }
    match std::fs::metadata(file) {
        Ok(m) if !m.is_file() => {
            Err(io(out, "exists and is not a regular file, FIFO or character device (a directory?); refusing to replace it"))
        }
        _ => Ok(()),
    }
}

/// The checked arguments of a call: inputs by name, parameters, the output file.
struct Prepared {
    names: Vec<(String, PathBuf)>,
    params: Vec<(String, serde_json::Value)>,
}

/// Every check that needs no data: names, parameters, output and input paths.
fn prepare(a: &EvalArgs) -> Result<Prepared, Error> {
    let mut names = Vec::new();
    for s in &a.inputs {
        let (k, v) = split_kv("input", s)?;
        names.push((k.to_string(), PathBuf::from(v)));
    }
    let mut params = Vec::new();
    for s in &a.params {
        let (k, v) = split_kv("param", s)?;
        params.push((k.to_string(), xent::registry::parse_value(v)));
    }
    let name_refs: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
    xent::registry::check(&a.op, &name_refs, &params, a.grad.as_deref())?;
    xent::registry::check_output(&a.op, a.output_name.as_deref()).map_err(|e| match e {
        Error::Usage(m) => Error::Usage(format!("{m} (--output names an output of the op; the output file is -o FILE)")),
        other => other,
    })?;
    if let Some(out) = out_path(a) {
        for (n, p) in &names {
            if same_file(p, out) {
                return Err(Error::Io {
                    path: out.display().to_string(),
                    msg: format!("the output path is also input `{n}`; refusing to overwrite an input"),
                });
            }
        }
        check_output(out)?;
    }
    for (n, p) in &names {
        check_input(n, p)?;
    }
    if let Some(t) = a.threads {
        xent::set_default_par(if t <= 1 { xent::Par::Seq } else { xent::Par::Rayon(t) });
    }
    Ok(Prepared { names, params })
}

/// `-o -`: the .npy bytes on standard output; no `-o`: text on standard output.
fn out_path(a: &EvalArgs) -> Option<&Path> {
    a.output.as_deref().filter(|p| p.as_os_str() != "-")
}

/// Write the result where `-o` says.
fn write_output(a: &EvalArgs, out: &xent::DynArray) -> Result<(), Error> {
    match (&a.output, out_path(a)) {
        (_, Some(p)) => xent::npy::write(p, out),
        (Some(_), None) => write_stdout(|w| xent::npy::write_to(w, out)),
        (None, _) => write_stdout(|w| w.write_all(super::text::format(out).as_bytes())),
    }
}

fn run_inner(a: &EvalArgs) -> Result<(), Error> {
    let Prepared { names, params } = prepare(a)?;
    let mut inputs = Vec::new();
    for (n, p) in names {
        inputs.push((n, xent::npy::read(&p)?));
    }
    let out = xent::registry::eval_output(&a.op, inputs, params, a.grad.as_deref(), a.output_name.as_deref())?;
    write_output(a, &out)
}

fn write_stdout(f: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>) -> Result<(), Error> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    f(&mut w)
        .and_then(|()| w.flush())
        .map_err(|e| Error::Io { path: "<stdout>".into(), msg: format!("cannot write to standard output: {e}") })
}

/// Run `xent eval`.
pub fn run(a: EvalArgs) -> ExitCode {
    if a.shard_classes {
        #[cfg(feature = "mpi")]
        return super::shard::run(|world| {
            let p = prepare(&a)?;
            super::shard::eval(world, &a.op, &p.names, &p.params, a.grad.as_deref(), |out| write_output(&a, out))
        });
        #[cfg(not(feature = "mpi"))]
        return super::fail(&Error::Usage("--shard-classes needs xent built with `--features mpi` (and run under mpirun)".into()));
    }
    match run_inner(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&e),
    }
}

//! `xent explain --labels Y.npy --predictions P.npy [--sample-weight W.npy]
//! [--class-weight CW.npy] [--observed VALUE ...] [--json]`: print [`xent::explain`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xent::{DynArray, Error};

/// Arguments of `xent explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The labels: float one-hot/probability rows (the predictions' shape) or integer
    /// class indices (the predictions' shape without the last axis).
    #[arg(long, value_name = "Y.npy")]
    labels: PathBuf,
    /// The predictions (logits or probabilities), classes on the last axis (for rank >= 3
    /// also tried with the classes on axis 1, as PyTorch has them).
    #[arg(long, value_name = "P.npy")]
    predictions: PathBuf,
    /// Per-sample weights, given to the Keras loss classes as sample_weight.
    #[arg(long, value_name = "W.npy")]
    sample_weight: Option<PathBuf>,
    /// One weight per class: PyTorch's `weight` (and Keras's fit(class_weight=)).
    #[arg(long, value_name = "CW.npy")]
    class_weight: Option<PathBuf>,
    /// A loss value a framework printed (repeat, or give several: --observed 0.91 1.32).
    /// Negative values work: --observed -0.913.
    #[arg(long, value_name = "VALUE", num_args = 1.., allow_negative_numbers = true)]
    observed: Vec<f64>,
    /// Print one JSON object {"candidates", "observed"} instead of the text report.
    #[arg(long)]
    json: bool,
}

fn read(name: &str, p: &Path) -> Result<DynArray, Error> {
    match std::fs::metadata(p) {
        Err(e) => return Err(Error::Io { path: p.display().to_string(), msg: format!("cannot read {name}: {e}") }),
        Ok(m) if !m.is_file() => return Err(Error::Io { path: p.display().to_string(), msg: format!("{name} is not a regular file") }),
        Ok(_) => {}
    }
    xent::npy::read(p)
}

fn run_inner(a: &ExplainArgs) -> Result<String, Error> {
    let labels = read("labels", &a.labels)?;
    let predictions = read("predictions", &a.predictions)?;
    let sw = a.sample_weight.as_deref().map(|p| read("sample weights", p)).transpose()?;
    let cw = a.class_weight.as_deref().map(|p| read("class weights", p)).transpose()?;
    let e = xent::explain::explain(&labels, &predictions, sw.as_ref(), cw.as_ref(), &a.observed)?;
    Ok(if a.json { format!("{}\n", e.to_json()) } else { e.render() })
}

/// Run `xent explain`.
pub fn run(a: ExplainArgs) -> ExitCode {
    match run_inner(&a) {
        Ok(s) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => super::fail(&Error::Io { path: "<stdout>".into(), msg: format!("cannot write to standard output: {e}") }),
            }
        }
        Err(e) => super::fail(&e),
    }
}

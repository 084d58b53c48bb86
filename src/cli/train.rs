//! `xent train [--csv FILE] [--binary] [--hidden H] ... [--plot FILE.svg] [--json]`:
//! run [`xent::train::train`], show a progress bar, print the result, write the plot.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use xent::train::{Dataset, TrainOptions, TrainReport};
use xent::Error;

/// Arguments of `xent train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Train on this CSV (numeric feature columns, the label last; header optional)
    /// instead of the embedded Iris data.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Sigmoid + binary cross-entropy on two classes (Iris: versicolor vs virginica).
    #[arg(long)]
    binary: bool,
    /// Passes over the training set.
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    /// Learning rate.
    #[arg(long, default_value_t = TrainOptions::default().lr, allow_negative_numbers = true)]
    lr: f64,
    /// Rows per gradient step (0 = full batch).
    #[arg(long, default_value_t = TrainOptions::default().batch_size)]
    batch_size: usize,
    /// Add a tanh hidden layer of this width.
    #[arg(long, value_name = "H")]
    hidden: Option<usize>,
    /// Seed of the split, the initial weights and the batch order.
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    seed: u64,
    /// Fraction of each class held out for testing, in [0, 1).
    #[arg(long, default_value_t = TrainOptions::default().test_fraction, allow_negative_numbers = true)]
    test_fraction: f64,
    /// Draw the loss and accuracy curves to this SVG file (written atomically).
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Print {"epochs", "final_loss", "train_accuracy", "test_accuracy", "loss_curve"} as JSON.
    #[arg(long)]
    json: bool,
}

/// Write `text` to `path` through a temporary file in the same directory and a rename,
/// so `path` is either the old file or the complete new one.
fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let io = |what: &str, e: std::io::Error| Error::Io { path: path.display().to_string(), msg: format!("{what}: {e}") };
    let name = path.file_name().ok_or_else(|| Error::Io { path: path.display().to_string(), msg: "not a file name".into() })?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| io("cannot write", e))
        .and_then(|()| fs::rename(&tmp, path).map_err(|e| io("cannot rename the temporary file", e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn fmt_acc(a: Option<f64>) -> String {
    a.map_or_else(|| "n/a (no test set)".into(), |a| format!("{a:.3}"))
}

fn run_inner(a: &TrainArgs) -> Result<(), Error> {
    let data = match (&a.csv, a.binary) {
        (Some(p), _) => xent::train::read_csv(p)?,
        (None, false) => Dataset::iris(),
        (None, true) => Dataset::iris_binary(),
    };
    let opts = TrainOptions {
        epochs: a.epochs,
        lr: a.lr,
        batch_size: a.batch_size,
        hidden: a.hidden,
        seed: a.seed,
        test_fraction: a.test_fraction,
        binary: a.binary,
    };
    opts.validate()?;
    let bar = if a.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(opts.epochs as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} epochs  {msg}") {
            b.set_style(style);
        }
        b
    };
    let report = xent::train::train(&data, &opts, |s| {
        bar.set_message(format!("loss {:.4}", s.loss));
        bar.inc(1);
    });
    bar.finish_and_clear();
    let report = report?;
    if let Some(p) = &a.plot {
        write_atomic(p, &xent::train::plot_svg(&report))?;
    }
    if a.json {
        println!("{}", report.to_json());
    } else {
        print_summary(&report, &opts, &data);
        if let Some(p) = &a.plot {
            println!("plot:     {}", p.display());
        }
    }
    Ok(())
}

fn print_summary(r: &TrainReport, o: &TrainOptions, data: &Dataset) {
    let batch = if o.batch_size == 0 || o.batch_size >= r.n_train { "full batch".to_string() } else { format!("batch {}", o.batch_size) };
    println!(
        "data:     {} ({} rows, {} features, classes: {}); {} train / {} test",
        r.dataset,
        data.labels.len(),
        r.features,
        r.class_names.join(", "),
        r.n_train,
        r.n_test
    );
    println!("model:    {}, loss {}", r.model, r.loss);
    println!("training: gradient descent, {batch}, lr {}, {} epochs, seed {}", o.lr, r.epochs, o.seed);
    println!("final loss {:.4}   train accuracy {:.3}   test accuracy {}", r.final_loss, r.train_accuracy, fmt_acc(r.test_accuracy));
}

/// Run `xent train`.
pub fn run(a: TrainArgs) -> ExitCode {
    match run_inner(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&e),
    }
}

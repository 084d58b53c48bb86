//! `xent bench OP --shape N,C [--dtype D] [--threads T] [--reps K] [--json]` and
//! `xent bench --membw`.

use std::process::ExitCode;

use xent::Error;

/// Arguments of `xent bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// softmax | log_softmax | cross_entropy | cross_entropy_fwd_bwd | cross_entropy_fwd_bwd_inplace
    op: Option<String>,
    /// N,C: rows and classes.
    #[arg(long, value_name = "N,C")]
    shape: Option<String>,
    /// float32 | float64 | float16 | bfloat16
    #[arg(long, default_value = "float32")]
    dtype: String,
    /// Threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Timed repetitions (default: about one second's worth).
    #[arg(long)]
    reps: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Measure read and copy bandwidth (1 GiB buffers) with 1 and all threads instead.
    #[arg(long)]
    membw: bool,
}

fn shape(s: &str) -> Result<(usize, usize), Error> {
    let bad = || Error::Usage(format!("--shape `{s}` must be N,C with positive integers"));
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    Ok((a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?))
}

fn run_inner(a: &BenchArgs) -> Result<(), Error> {
    if a.membw {
        let all = if a.threads == 0 { rayon::current_num_threads() } else { a.threads };
        for t in [1, all] {
            let (r, c) = xent::bench::membw(1024, t);
            if a.json {
                println!("{}", serde_json::json!({"threads": t, "read_gbps": r, "copy_gbps": c}));
            } else {
                println!("threads {t}: read {r:.1} GB/s, copy {c:.1} GB/s (read + write bytes)");
            }
        }
        return Ok(());
    }
    let op = a.op.as_deref().ok_or_else(|| Error::Usage(format!("bench: missing OP ({})", xent::bench::OPS.join(", "))))?;
    let sh = shape(a.shape.as_deref().ok_or_else(|| Error::Usage("bench: missing --shape N,C".into()))?)?;
    let r = xent::bench::run(op, sh, &a.dtype, a.threads, a.reps)?;
    if a.json {
        println!("{}", r.to_json());
    } else {
        println!(
            "{} {}x{} {} threads={}: median {:.3} ms, min {:.3} ms over {} reps; {:.1} GB/s of the {} bytes it must move",
            r.op,
            r.shape.0,
            r.shape.1,
            r.dtype,
            r.threads,
            r.median_s * 1e3,
            r.min_s * 1e3,
            r.reps,
            r.gbps,
            r.bytes
        );
    }
    Ok(())
}

/// Run `xent bench`.
pub fn run(a: BenchArgs) -> ExitCode {
    match run_inner(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => super::fail(&e),
    }
}

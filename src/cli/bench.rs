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
    /// Measure read and copy bandwidth (1 GiB buffers) and the exp throughput with 1 and all threads instead.
    #[arg(long)]
    membw: bool,
    /// Leave the buffers on ordinary 4 KiB pages (by default they ask for transparent huge pages).
    #[arg(long)]
    no_huge_pages: bool,
}

fn shape(s: &str) -> Result<(usize, usize), Error> {
    let bad = || Error::Usage(format!("--shape `{s}` must be N,C with positive integers"));
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    Ok((a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?))
}

fn run_inner(a: &BenchArgs) -> Result<(), Error> {
    xent::bench::set_huge_pages(!a.no_huge_pages);
    if a.membw {
        let all = if a.threads == 0 { rayon::current_num_threads() } else { a.threads };
        for t in [1, all] {
            let m = xent::bench::membw(1 << 30, t, a.reps.unwrap_or(5)).map_err(|e| Error::Usage(format!("bench: {e}")))?;
            if a.json {
                println!("{}", m.to_json());
            } else {
                println!(
                    "threads {t}: read {:.1} GB/s, copy {:.1} GB/s, copy with non-temporal stores {:.1} GB/s (read + write bytes); \
                     exp {:.2} G/s float32, {:.2} G/s float64 (L1-resident)",
                    m.read_gbps, m.copy_gbps, m.copy_nt_gbps, m.exp_f32_gps, m.exp_f64_gps
                );
            }
        }
        return Ok(());
    }
    let op = a.op.as_deref().ok_or_else(|| Error::Usage(format!("bench: missing OP ({})", xent::bench::OPS.join(", "))))?;
    let sh = shape(a.shape.as_deref().ok_or_else(|| Error::Usage("bench: missing --shape N,C".into()))?)?;
    if !xent::bench::OPS.contains(&op) {
        return Err(Error::Usage(format!(
            "bench: unknown op `{op}`{}; ops: {}",
            xent::registry::suggest(op, xent::bench::OPS.iter().copied()),
            xent::bench::OPS.join(", ")
        )));
    }
    let r = xent::bench::run(op, sh, &a.dtype, a.threads, a.reps).map_err(|e| Error::Usage(format!("bench: {e}")))?;
    if a.json {
        println!("{}", r.to_json());
    } else {
        println!("{r}");
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

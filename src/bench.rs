//! `xent bench`: time one kernel on random data, and measure this machine's memory
//! bandwidth for reference.
//!
//! Logits are normal × 3 (never all zeros), labels uniform in `[0, C)`, both from a
//! seeded SplitMix64 generator. Outputs are allocated and touched once before timing
//! (a first touch of fresh pages costs ~2 µs per 4 KiB here, more than the kernels).
//! One warm-up run, then `reps` timed runs (default: enough for about one second).
//! `bytes` is the least the op must move: the logits read once, plus the output or
//! gradient written once; `gbps = bytes / median_s / 1e9`.

use std::time::Instant;

use serde_json::json;

use crate::error::{Error, Result};
use crate::kernels::{self, Geom, Par, Scale, SparseCe};

/// The ops `xent bench` times.
pub const OPS: &[&str] = &["softmax", "log_softmax", "cross_entropy", "cross_entropy_fwd_bwd", "cross_entropy_fwd_bwd_inplace"];

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// The op.
    pub op: String,
    /// `(N, C)`.
    pub shape: (usize, usize),
    /// The element type.
    pub dtype: String,
    /// Threads used.
    pub threads: usize,
    /// Timed repetitions.
    pub reps: usize,
    /// Median time of one repetition, seconds.
    pub median_s: f64,
    /// Fastest repetition, seconds.
    pub min_s: f64,
    /// The least number of bytes the op must move.
    pub bytes: u64,
    /// `bytes / median_s / 1e9`.
    pub gbps: f64,
}

impl BenchResult {
    /// The JSON object `xent bench --json` prints.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"op": self.op, "shape": [self.shape.0, self.shape.1], "dtype": self.dtype, "threads": self.threads, "reps": self.reps,
               "median_s": self.median_s, "min_s": self.min_s, "bytes": self.bytes, "gbps": self.gbps})
    }
}

/// SplitMix64: a small, well-distributed, seedable generator.
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator with this seed.
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(f64::MIN_POSITIVE);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * self.uniform()).cos()
    }
}

fn time_reps(reps: Option<usize>, mut f: impl FnMut()) -> (usize, f64, f64) {
    let t0 = Instant::now();
    f(); // warm-up
    let once = t0.elapsed().as_secs_f64().max(1e-7);
    let reps = reps.unwrap_or(((1.0 / once) as usize).clamp(3, 2000));
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (reps, times[reps / 2], times[0])
}

fn run_f<T: crate::Float>(op: &str, n: usize, c: usize, par: Par, reps: Option<usize>) -> Result<(usize, f64, f64)> {
    let mut rng = SplitMix::new(42);
    let x: Vec<T> = (0..n * c).map(|_| T::of(3.0 * rng.normal())).collect();
    let y: Vec<i64> = (0..n).map(|_| (rng.next_u64() % c as u64) as i64).collect();
    let g = Geom::rows(n, c);
    let p = SparseCe::<T>::default();
    let mut loss = vec![T::one(); n];
    let mut lse = vec![T::one(); n];
    let mut out = vec![T::one(); n * c];
    let scale = T::one() / T::of(n as f64);
    Ok(match op {
        "softmax" => time_reps(reps, || kernels::softmax(&x, g, &mut out, par)),
        "log_softmax" => time_reps(reps, || kernels::log_softmax(&x, g, &mut out, par)),
        "cross_entropy" => time_reps(reps, || {
            kernels::ce_sparse_fwd(&x, g, &y, &p, &mut loss, &mut lse, par);
            std::hint::black_box(loss.iter().fold(T::zero(), |a, &b| a + b) * scale);
        }),
        "cross_entropy_fwd_bwd" => time_reps(reps, || {
            kernels::ce_sparse_fwd(&x, g, &y, &p, &mut loss, &mut lse, par);
            kernels::ce_sparse_bwd(&x, g, &y, &p, &lse, Scale::Uniform(scale), &mut out, par);
        }),
        other => return Err(Error::Usage(format!("bench: `{other}` is not available for this dtype yet; ops: {}", OPS.join(", ")))),
    })
}

/// Time `op` on `n × c` random logits of `dtype` with `threads` threads.
///
/// # Errors
/// [`Error::Usage`] for an unknown op or dtype, or a zero-sized shape.
pub fn run(op: &str, shape: (usize, usize), dtype: &str, threads: usize, reps: Option<usize>) -> Result<BenchResult> {
    let (n, c) = shape;
    if !OPS.contains(&op) {
        return Err(Error::Usage(format!(
            "bench: unknown op `{op}`{}; ops: {}",
            crate::registry::suggest(op, OPS.iter().copied()),
            OPS.join(", ")
        )));
    }
    if n == 0 || c == 0 {
        return Err(Error::Usage(format!("bench: shape {n}x{c} is empty")));
    }
    let threads = if threads == 0 { rayon::current_num_threads() } else { threads };
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| Error::Usage(format!("bench: thread pool: {e}")))?;
    let par = if threads == 1 { Par::Seq } else { Par::Rayon(threads) };
    let (size, (reps, median_s, min_s)) = pool.install(|| match dtype {
        "float32" => Ok((4, run_f::<f32>(op, n, c, par, reps)?)),
        "float64" => Ok((8, run_f::<f64>(op, n, c, par, reps)?)),
        other => Err(Error::Usage(format!("bench: dtype `{other}` is not supported (float32, float64)"))),
    })?;
    let b = (n * c * size) as u64;
    let bytes = if op == "cross_entropy" { b } else { 2 * b };
    Ok(BenchResult {
        op: op.into(),
        shape,
        dtype: dtype.into(),
        threads,
        reps,
        median_s,
        min_s,
        bytes,
        gbps: bytes as f64 / median_s / 1e9,
    })
}

/// Memory bandwidth of this machine with `threads` threads over `mib` MiB buffers:
/// `(read GB/s, copy GB/s)`, copy counting bytes read plus bytes written (STREAM's rule).
pub fn membw(mib: usize, threads: usize) -> (f64, f64) {
    use rayon::prelude::*;
    let n = mib * (1 << 20) / 4;
    let src: Vec<f32> = (0..n).map(|i| (i % 1024) as f32).collect();
    let mut dst = vec![0f32; n];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build().expect("pool");
    let chunk = n.div_ceil(threads.max(1));
    pool.install(|| {
        let (_, read, _) = time_reps(Some(7), || {
            let s: f32 = src.par_chunks(chunk).map(|c| c.iter().sum::<f32>()).sum();
            std::hint::black_box(s);
        });
        let (_, copy, _) = time_reps(Some(7), || {
            dst.par_chunks_mut(chunk).zip(src.par_chunks(chunk)).for_each(|(d, s)| d.copy_from_slice(s));
            std::hint::black_box(&dst);
        });
        let bytes = (n * 4) as f64;
        (bytes / read / 1e9, 2.0 * bytes / copy / 1e9)
    })
}

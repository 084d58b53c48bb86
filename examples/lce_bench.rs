//! Times xent's fused linear cross-entropy, forward + backward (the loss and the
//! gradients wrt input and linear_weight), f32, index targets, mean: one JSON line with
//! the median seconds, the GFLOP/s reached over the three GEMMs' `3·2·N·D·V` flops, and
//! the peak extra bytes the op allocated beyond its inputs (counting allocator).
//! `bench/lce.py` runs it next to PyTorch 2.15.
//!
//! ```text
//! cargo run --release --example lce_bench -- N D V THREADS REPS
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use ndarray::{arr0, Array1, Array2};
use xent::ops::{linear_cross_entropy_vjp, LinearCeOptions, LinearTarget, LinearWants};
use xent::Par;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// CPU seconds (user + system) this process has used, all threads.
fn cpu_seconds() -> f64 {
    // SAFETY: `getrusage` writes one `rusage` struct, which we own and zero-initialise.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 * 1e-6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().expect("a number")).collect();
    let [n, d, v, threads, reps] = a[..] else { panic!("usage: lce_bench N D V THREADS REPS") };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
    let mut rng = xent::rng::SplitMix64::new(0);
    let x = Array2::from_shape_simple_fn((n, d), || rng.normal() as f32);
    let w = Array2::from_shape_simple_fn((v, d), || (rng.normal() * 0.05) as f32);
    let y: Array1<i64> = (0..n).map(|i| ((i * 7919) % v) as i64).collect();
    let ys = y.as_slice().expect("contiguous");
    let g = arr0(1.0f32).into_dyn();
    let o = LinearCeOptions::default();
    let wants = LinearWants { input: true, linear_weight: true, bias: false };
    let par = if threads == 1 { Par::Seq } else { Par::Rayon(threads) };
    let mut times = Vec::new();
    let mut cpus = Vec::new();
    let mut peak = 0;
    let mut loss = 0.0;
    pool.install(|| {
        for i in 0..=reps {
            let base = LIVE.load(Relaxed);
            PEAK.store(base, Relaxed);
            let c0 = cpu_seconds();
            let t = std::time::Instant::now();
            let r = linear_cross_entropy_vjp(&x.view(), &w.view(), &LinearTarget::Indices(ys), &o, &g.view(), wants, par).expect("runs");
            let s = t.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - c0;
            peak = PEAK.load(Relaxed) - base;
            loss = r.loss[[]];
            drop(r);
            if i > 0 {
                times.push(s); // the first run is a warm-up
                cpus.push(cpu);
            }
        }
    });
    times.sort_by(f64::total_cmp);
    let med = times[times.len() / 2];
    cpus.sort_by(f64::total_cmp);
    let cpu = cpus[cpus.len() / 2];
    let flops = 3.0 * 2.0 * (n * d * v) as f64;
    let grads = (n * d + v * d) * 4;
    println!(
        "{}",
        serde_json::json!({"n": n, "d": d, "v": v, "threads": threads, "seconds": med, "cpu_seconds": cpu, "gflops": flops / med / 1e9,
            "peak_extra_bytes": peak, "grad_bytes": grads, "beyond_grads_bytes": peak.saturating_sub(grads), "loss": loss})
    );
}

//! divan benchmarks of the xent kernels on the shapes of BENCHMARKS.md (all threads
//! of the global rayon pool; `RAYON_NUM_THREADS` to change), inputs and outputs
//! allocated and touched before timing:
//!
//! ```text
//! cargo bench --bench kernels                     # 65536x10, 8192x1000, 512x32000, 128x128256
//! XENT_BENCH_FULL=1 cargo bench --bench kernels   # the 525 MB shapes 4096x32000, 1024x128256
//! ```
//!
//! Throughput is the least number of bytes each op must move (see `xent::bench`).

mod common;

use common::{labels, logits, parse, shapes};
use divan::counter::BytesCount;
use divan::Bencher;
use half::bf16;
use xent::kernels::{checked as kernels, Geom, Par, Scale, SparseCe};

fn main() {
    divan::main();
}

#[divan::bench(args = shapes(), sample_count = 20)]
fn softmax(b: Bencher, shape: &str) {
    let (n, c) = parse(shape);
    let x = logits(n * c);
    let mut out = vec![0.0f32; n * c];
    b.counter(BytesCount::new(8 * n * c)).bench_local(|| kernels::softmax(&x, Geom::rows(n, c), &mut out, Par::all()));
}

#[divan::bench(args = shapes(), sample_count = 20)]
fn log_softmax(b: Bencher, shape: &str) {
    let (n, c) = parse(shape);
    let x = logits(n * c);
    let mut out = vec![0.0f32; n * c];
    b.counter(BytesCount::new(8 * n * c)).bench_local(|| kernels::log_softmax(&x, Geom::rows(n, c), &mut out, Par::all()));
}

#[divan::bench(args = shapes(), sample_count = 20)]
fn cross_entropy(b: Bencher, shape: &str) {
    let (n, c) = parse(shape);
    let (x, y) = (logits(n * c), labels(n, c));
    let (mut loss, mut lse) = (vec![0.0f32; n], vec![0.0f32; n]);
    let p = SparseCe::default();
    b.counter(BytesCount::new(4 * n * c + 8 * n)).bench_local(|| {
        kernels::ce_sparse_fwd(&x, Geom::rows(n, c), &y, &p, &mut loss, &mut lse, Par::all()).expect("valid buffers");
        loss.iter().sum::<f32>() / n as f32
    });
}

#[divan::bench(args = shapes(), sample_count = 20)]
fn cross_entropy_fwd_bwd(b: Bencher, shape: &str) {
    let (n, c) = parse(shape);
    let (x, y) = (logits(n * c), labels(n, c));
    let (mut loss, mut lse, mut grad) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n * c]);
    let p = SparseCe::default();
    let s = Scale::Uniform(1.0 / n as f32);
    b.counter(BytesCount::new(8 * n * c + 8 * n))
        .bench_local(|| kernels::ce_sparse_fwd_bwd(&x, Geom::rows(n, c), &y, &p, s, &mut loss, &mut lse, &mut grad, Par::all()));
}

#[divan::bench(args = shapes(), sample_count = 20)]
fn cross_entropy_fwd_bwd_inplace(b: Bencher, shape: &str) {
    let (n, c) = parse(shape);
    // the gradient of the previous iteration is the next one's logits: same cost
    let (mut x, y) = (logits(n * c), labels(n, c));
    let (mut loss, mut lse) = (vec![0.0f32; n], vec![0.0f32; n]);
    let p = SparseCe::default();
    let s = Scale::Uniform(1.0 / n as f32);
    b.counter(BytesCount::new(8 * n * c + 8 * n))
        .bench_local(|| kernels::ce_sparse_fwd_bwd_in_place(&mut x, Geom::rows(n, c), &y, &p, s, &mut loss, &mut lse, Par::all()));
}

#[divan::bench(args = shapes(), sample_count = 20)]
fn cross_entropy_fwd_bwd_bf16(b: Bencher, shape: &str) {
    let (n, c) = parse(shape);
    let x: Vec<bf16> = logits(n * c).into_iter().map(bf16::from_f32).collect();
    let y = labels(n, c);
    let (mut loss, mut lse, mut grad) = (vec![0.0f32; n], vec![0.0f32; n], vec![bf16::ZERO; n * c]);
    let p = SparseCe::default();
    let s = Scale::Uniform(1.0 / n as f32);
    b.counter(BytesCount::new(4 * n * c + 8 * n))
        .bench_local(|| kernels::ce_sparse_fwd_bwd_half(&x, Geom::rows(n, c), &y, &p, s, &mut loss, &mut lse, &mut grad, Par::all()));
}

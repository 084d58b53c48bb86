//! candle-nn as the Rust peer, on the shapes of `benches/kernels.rs`:
//! `ops::softmax_last_dim`, `loss::cross_entropy` (its `log_softmax` + `nll`, mean
//! over the batch) and the same loss with its backward (a `Var` and `backward()`).
//!
//! ```text
//! cargo bench --features candle --bench candle_peer
//! ```
//!
//! candle allocates its outputs on every call; xent's benchmarks write into buffers
//! allocated once. That difference is part of what is being compared.

mod common;

use candle_core::{Device, Tensor, Var};
use common::{labels, logits, parse, shapes};
use divan::counter::BytesCount;
use divan::Bencher;

fn main() {
    divan::main();
}

fn inputs(shape: &str) -> (usize, usize, Tensor, Tensor) {
    let (n, c) = parse(shape);
    let x = Tensor::from_vec(logits(n * c), (n, c), &Device::Cpu).expect("logits tensor");
    let y: Vec<u32> = labels(n, c).into_iter().map(|v| v as u32).collect();
    let y = Tensor::from_vec(y, n, &Device::Cpu).expect("label tensor");
    (n, c, x, y)
}

#[divan::bench(args = shapes(), sample_count = 10)]
fn softmax_last_dim(b: Bencher, shape: &str) {
    let (n, c, x, _) = inputs(shape);
    b.counter(BytesCount::new(8 * n * c)).bench_local(|| candle_nn::ops::softmax_last_dim(&x).expect("softmax"));
}

#[divan::bench(args = shapes(), sample_count = 10)]
fn cross_entropy(b: Bencher, shape: &str) {
    let (n, c, x, y) = inputs(shape);
    b.counter(BytesCount::new(4 * n * c + 8 * n)).bench_local(|| candle_nn::loss::cross_entropy(&x, &y).expect("cross_entropy"));
}

#[divan::bench(args = shapes(), sample_count = 10)]
fn cross_entropy_fwd_bwd(b: Bencher, shape: &str) {
    let (n, c, x, y) = inputs(shape);
    let v = Var::from_tensor(&x).expect("var");
    b.counter(BytesCount::new(8 * n * c + 8 * n)).bench_local(|| {
        let loss = candle_nn::loss::cross_entropy(v.as_tensor(), &y).expect("cross_entropy");
        loss.backward().expect("backward")
    });
}

//! candle-nn as the Rust peer, on the shapes of `benches/kernels.rs`:
//! `ops::softmax_last_dim`, `loss::cross_entropy` (its `log_softmax` + `nll`, mean
//! over the batch) and the same loss with its backward (a `Var` and `backward()`),
//! and `loss::binary_cross_entropy_with_logit` with its backward; beside each
//! forward + backward, the same through `xent::candle` (candle's autograd, xent's
//! kernels): `xent_cross_entropy_fwd_bwd`, `xent_bce_with_logits_fwd_bwd`.
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

#[divan::bench(args = shapes(), sample_count = 10)]
fn xent_cross_entropy_fwd_bwd(b: Bencher, shape: &str) {
    let (n, c, x, y) = inputs(shape);
    let v = Var::from_tensor(&x).expect("var");
    let args = xent::candle::CrossEntropyArgs::default();
    b.counter(BytesCount::new(8 * n * c + 8 * n)).bench_local(|| {
        let loss = xent::candle::cross_entropy(v.as_tensor(), &y, &args).expect("cross_entropy");
        loss.backward().expect("backward")
    });
}

/// Targets in {0, 1} of the logits' shape.
fn binary_targets(n: usize, c: usize) -> Tensor {
    let t: Vec<f32> = labels(n * c, 2).into_iter().map(|v| v as f32).collect();
    Tensor::from_vec(t, (n, c), &Device::Cpu).expect("target tensor")
}

#[divan::bench(args = shapes(), sample_count = 10)]
fn bce_with_logit_fwd_bwd(b: Bencher, shape: &str) {
    let (n, c, x, _) = inputs(shape);
    let t = binary_targets(n, c);
    let v = Var::from_tensor(&x).expect("var");
    b.counter(BytesCount::new(12 * n * c)).bench_local(|| {
        let loss = candle_nn::loss::binary_cross_entropy_with_logit(v.as_tensor(), &t).expect("bce");
        loss.backward().expect("backward")
    });
}

#[divan::bench(args = shapes(), sample_count = 10)]
fn xent_bce_with_logits_fwd_bwd(b: Bencher, shape: &str) {
    let (n, c, x, _) = inputs(shape);
    let t = binary_targets(n, c);
    let v = Var::from_tensor(&x).expect("var");
    let r = xent::candle::Reduction::Mean;
    b.counter(BytesCount::new(12 * n * c)).bench_local(|| {
        let loss = xent::candle::binary_cross_entropy_with_logits(v.as_tensor(), &t, None, None, r).expect("bce");
        loss.backward().expect("backward")
    });
}

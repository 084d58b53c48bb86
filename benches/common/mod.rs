//! Shapes and data shared by the benchmark targets.

#![allow(dead_code)] // each target uses its own subset

use rayon::prelude::*;

/// `N×C` shapes: the four of BENCHMARKS.md, with the two 525 MB ones scaled down to
/// 64 MB (same `C`) unless `XENT_BENCH_FULL=1`.
pub fn shapes() -> Vec<&'static str> {
    if std::env::var_os("XENT_BENCH_FULL").is_some() {
        vec!["65536x10", "8192x1000", "4096x32000", "1024x128256"]
    } else {
        vec!["65536x10", "8192x1000", "512x32000", "128x128256"]
    }
}

/// `"NxC"` → `(N, C)`.
pub fn parse(shape: &str) -> (usize, usize) {
    let (n, c) = shape.split_once('x').expect("shape NxC");
    (n.parse().expect("N"), c.parse().expect("C"))
}

/// `3·𝒩(0, 1)` logits, deterministic.
pub fn logits(len: usize) -> Vec<f32> {
    let mut v = vec![0.0f32; len];
    v.par_chunks_mut(1 << 16).enumerate().for_each(|(i, c)| {
        let mut r = xent::rng::SplitMix64::new(0xBEEF ^ ((i as u64) << 20));
        c.iter_mut().for_each(|e| *e = (3.0 * r.normal()) as f32);
    });
    v
}

/// Labels uniform in `[0, c)`, deterministic.
pub fn labels(n: usize, c: usize) -> Vec<i64> {
    let mut r = xent::rng::SplitMix64::new(7);
    (0..n).map(|_| r.index(c) as i64).collect()
}

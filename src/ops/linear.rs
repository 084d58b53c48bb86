//! Fused linear cross-entropy: `cross_entropy(input · linear_weightᵀ + bias, target)`
//! computed block by block, so that the `N × C` logits never exist.
//!
//! # How
//! The rows are cut into blocks of `R` rows, `R` chosen so that one block of logits
//! (`R × C`, plus one more buffer where the loss needs it) fits the chunk budget
//! ([`LinearCeOptions::chunk_bytes`], default [`DEFAULT_CHUNK_BYTES`] = 64 MiB). Per
//! block:
//!
//! 1. `Z = X_blk · Wᵀ (+ b)` (one GEMM, [`crate::kernels::gemm`]); with a soft cap,
//!    `Z ← s·tanh(Z/s)`;
//! 2. xent's fused cross-entropy kernel on `Z` (the same kernel as
//!    [`super::cross_entropy_sparse`] / [`super::cross_entropy_dense`], so the loss is
//!    bit-for-bit that of `cross_entropy` on the materialised logits): the row's
//!    `(max, Σ exp)`, the loss with `x − max` and `ln Σ exp` kept apart, and, when a
//!    gradient is asked for, `dZ` (upstream scale included) written over `Z`;
//! 3. `d input_blk = dZ · W`, `dW += dZᵀ · X_blk` (straight into the one `C × D`
//!    gradient buffer: no `C × D` temporaries), `d bias += Σ_rows dZ`.
//!
//! The upstream scale of a reduced loss depends only on the targets (the mean divides
//! by `Σ w[y]` over non-ignored targets, or by `N`), so the gradient is computed in
//! the same pass as the loss: three GEMMs of `2·N·D·C` flops in all, the floor for
//! forward plus backward (an online-softmax scheme that cuts the vocabulary too needs
//! a fourth, recomputing the logits). A vocabulary so large that one row of logits
//! exceeds the budget runs one row per block (the budget is then `4·C` bytes).
//!
//! Peak extra memory: the block buffers (≤ the budget) plus the gradients returned,
//! plus the GEMM crate's packing workspace (measured 20–30 MiB at the bench shapes of
//! BENCHMARKS.md, 2 threads), plus `O(N)` per-row values.
//!
//! The vocabulary is not cut into chunks with an online `(max, Σ exp)` merge: one
//! row's logits must fit the budget (`4·C` bytes in f32: 16 M classes at 64 MiB), and
//! a smaller budget runs one row per block. Cutting the vocabulary as well would cost
//! the fourth GEMM above and is left for a vocabulary sharded across processes.

use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayViewD, IxDyn};

use super::categorical::reduce;
use super::{check_grad, Reduction};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::{self, gemm, DenseGrad, Geom, Par, Scale, SparseCe};

/// Default chunk budget of the fused linear cross-entropy: 64 MiB of logits per block.
pub const DEFAULT_CHUNK_BYTES: usize = 64 << 20;

/// Targets of [`linear_cross_entropy`].
#[derive(Debug, Clone, Copy)]
pub enum LinearTarget<'a, T> {
    /// One class index per row (length `N`).
    Indices(&'a [i64]),
    /// Class probabilities, row-major `N × C`.
    Probs(&'a [T]),
}

/// Options of [`linear_cross_entropy`]: PyTorch's `cross_entropy` options plus Cut
/// Cross-Entropy's soft cap, the bias and the chunk budget.
#[derive(Debug, Clone)]
pub struct LinearCeOptions<'a, T> {
    /// Bias added to every row of logits (length `C`).
    pub bias: Option<&'a [T]>,
    /// Per-class loss weights (length `C`).
    pub weight: Option<&'a [T]>,
    /// Index targets equal to this are ignored (loss 0, out of the mean's divisor).
    pub ignore_index: Option<i64>,
    /// Label smoothing ε in [0, 1] (PyTorch's rule for both target kinds).
    pub label_smoothing: T,
    /// `Some(s)`: the logits are `s·tanh(z/s)` (Cut Cross-Entropy's `softcap`).
    pub softcap: Option<T>,
    /// The reduction (mean: `Σ loss / Σ w[y]` over non-ignored index targets, `/ N`
    /// for probabilities).
    pub reduction: Reduction,
    /// Bytes of logits (and per-block buffers) one block may hold; at least one row.
    pub chunk_bytes: usize,
}

impl<T: Float> Default for LinearCeOptions<'_, T> {
    fn default() -> Self {
        LinearCeOptions {
            bias: None,
            weight: None,
            ignore_index: None,
            label_smoothing: T::zero(),
            softcap: None,
            reduction: Reduction::Mean,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        }
    }
}

/// Which gradients [`linear_cross_entropy_vjp`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearWants {
    /// `d input` (`N × D`).
    pub input: bool,
    /// `d linear_weight` (`C × D`).
    pub linear_weight: bool,
    /// `d bias` (`C`).
    pub bias: bool,
}

impl LinearWants {
    /// All three gradients.
    pub const ALL: LinearWants = LinearWants { input: true, linear_weight: true, bias: true };
}

/// The loss and the gradients asked for.
#[derive(Debug, Clone)]
pub struct LinearGrads<T> {
    /// The loss, as [`linear_cross_entropy`] returns it.
    pub loss: ArrayD<T>,
    /// `d input`, `N × D`.
    pub input: Option<Array2<T>>,
    /// `d linear_weight`, `C × D`.
    pub linear_weight: Option<Array2<T>>,
    /// `d bias`, `C`.
    pub bias: Option<Array1<T>>,
}

struct Checked<'a, T> {
    x: ndarray::CowArray<'a, T, ndarray::Ix2>,
    w: ndarray::CowArray<'a, T, ndarray::Ix2>,
    n: usize,
    d: usize,
    c: usize,
    denom: f64,
}

fn check<'a, T: Float>(
    op: &str,
    x: &'a ArrayView2<'a, T>,
    w: &'a ArrayView2<'a, T>,
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
) -> Result<Checked<'a, T>> {
    let (n, d) = x.dim();
    let (c, dw) = w.dim();
    if d != dw {
        return Err(Error::shape(
            op,
            format!("expected equal input and linear_weight last dimensions (in_features), got {d} and {dw}, respectively"),
        ));
    }
    for (name, v) in [("linear_bias", o.bias), ("weight", o.weight)] {
        if let Some(v) = v {
            if v.len() != c {
                return Err(Error::shape(op, format!("`{name}` has {} elements but there are {c} classes", v.len())));
            }
        }
    }
    let denom = match target {
        LinearTarget::Indices(y) => {
            if y.len() != n {
                return Err(Error::shape(op, format!("Expected input batch_size ({n}) to match target batch_size ({}).", y.len())));
            }
            let yv = ArrayViewD::from_shape(IxDyn(&[n]), y).expect("length checked");
            super::check_labels(op, "target", &yv, &[n, c], 1, o.ignore_index)?;
            y.iter().filter(|&&v| Some(v) != o.ignore_index).map(|&v| o.weight.map_or(1.0, |w| w[v as usize].f64())).sum()
        }
        LinearTarget::Probs(t) => {
            if Some(t.len()) != n.checked_mul(c) {
                return Err(Error::shape(op, format!("probability target has {} elements, the logits {n}×{c}", t.len())));
            }
            if c == 0 {
                f64::NAN
            } else {
                n as f64
            }
        }
    };
    Ok(Checked { x: x.as_standard_layout(), w: w.as_standard_layout(), n, d, c, denom })
}

/// A zero-filled buffer, allocated fallibly (a huge vocabulary is an error, not an abort).
fn zeros<T: Float>(op: &str, what: &str, len: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::shape(op, format!("cannot allocate {len} elements for the {what}")))?;
    v.resize(len, T::zero());
    Ok(v)
}

/// The engine: per-row losses, and the gradients when `up` is given.
#[allow(clippy::too_many_arguments)] // every input of the fused loss is explicit
fn run<T: Float>(
    op: &str,
    k: &Checked<'_, T>,
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
    up: Option<(Scale<'_, T>, LinearWants)>,
    par: Par,
) -> Result<(ArrayD<T>, LinearGrads<T>)> {
    let (n, d, c) = (k.n, k.d, k.c);
    let x = k.x.as_slice().expect("standard layout");
    let w = k.w.as_slice().expect("standard layout");
    let grad = up.is_some();
    let wants = up.map_or(LinearWants { input: false, linear_weight: false, bias: false }, |u| u.1);
    let eps = if o.label_smoothing > T::zero() { o.label_smoothing } else { T::zero() };
    // Buffers per row of a block: the logits (the sparse gradient overwrites them),
    // a dense gradient, smoothed probabilities, the soft cap's tanh.
    let probs = matches!(target, LinearTarget::Probs(_));
    let smooth_probs = probs && eps > T::zero();
    let bufs = 1 + usize::from(probs && grad) + usize::from(smooth_probs) + usize::from(grad && o.softcap.is_some());
    let row_bytes = c.saturating_mul(size_of::<T>() * bufs).max(1);
    let r = (o.chunk_bytes / row_bytes).clamp(1, n.max(1));
    // Sizes from shapes with zero-length axes can overflow: saturate, and let the
    // fallible allocation report it.
    let rc = r.saturating_mul(c);
    let mut z = zeros::<T>(op, "block of logits", rc)?;
    let mut gbuf = zeros::<T>(op, "block of gradients", if probs && grad { rc } else { 0 })?;
    let mut sbuf = zeros::<T>(op, "block of smoothed targets", if smooth_probs { rc } else { 0 })?;
    let mut tbuf = zeros::<T>(op, "block of tanh", if grad && o.softcap.is_some() { rc } else { 0 })?;
    let mut loss = zeros::<T>(op, "loss", n)?;
    let mut lse = vec![T::zero(); r];
    let mut dx = if wants.input { Some(zeros::<T>(op, "input gradient", n.saturating_mul(d))?) } else { None };
    let mut dw = if wants.linear_weight { Some(zeros::<T>(op, "linear_weight gradient", c.saturating_mul(d))?) } else { None };
    let mut db = if wants.bias { Some(vec![0.0f64; c]) } else { None };
    let sparse = SparseCe { smoothing: eps, weight: o.weight, ignore_index: o.ignore_index };

    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + r).min(n);
        let rb = r1 - r0;
        let geo = Geom::rows(rb, c);
        let zb = &mut z[..rb * c];
        let xb = &x[r0 * d..r1 * d];
        match o.bias {
            Some(b) => {
                for row in zb.chunks_exact_mut(c.max(1)) {
                    row.copy_from_slice(b);
                }
                gemm::gemm_nt(rb, c, d, xb, w, zb, true, par);
            }
            None => gemm::gemm_nt(rb, c, d, xb, w, zb, false, par),
        }
        if let Some(s) = o.softcap {
            let tb = &mut tbuf[..if grad { rb * c } else { 0 }];
            if grad {
                for (zi, ti) in zb.iter_mut().zip(tb.iter_mut()) {
                    let t = (*zi / s).tanh();
                    *ti = t;
                    *zi = t * s;
                }
            } else {
                for zi in zb.iter_mut() {
                    *zi = (*zi / s).tanh() * s;
                }
            }
        }
        let scale = up.map(|(s, _)| match s {
            Scale::Uniform(v) => Scale::Uniform(v),
            Scale::PerPosition(v) => Scale::PerPosition(&v[r0..r1]),
        });
        let lb = &mut loss[r0..r1];
        let lseb = &mut lse[..rb];
        let g: &[T] = match target {
            LinearTarget::Indices(y) => {
                let yb = &y[r0..r1];
                match scale {
                    Some(s) => {
                        kernels::ce_sparse_fwd_bwd_in_place(zb, geo, yb, &sparse, s, lb, lseb, par);
                        zb
                    }
                    None => {
                        kernels::ce_sparse_fwd(zb, geo, yb, &sparse, lb, lseb, par);
                        &[]
                    }
                }
            }
            LinearTarget::Probs(t) => {
                let tb = &t[r0 * c..r1 * c];
                let ts: &[T] = if smooth_probs {
                    let kc = eps / T::of(c as f64);
                    let one_m = T::one() - eps;
                    let sb = &mut sbuf[..rb * c];
                    for (s, &v) in sb.iter_mut().zip(tb) {
                        *s = v * one_m + kc;
                    }
                    sb
                } else {
                    tb
                };
                kernels::ce_dense_fwd(zb, ts, geo, o.weight, lb, lseb, par);
                match scale {
                    Some(s) => {
                        let gb = &mut gbuf[..rb * c];
                        kernels::ce_dense_bwd(zb, ts, geo, o.weight, DenseGrad::Exact, s, gb, par);
                        gb
                    }
                    None => &[],
                }
            }
        };
        if grad {
            let g: &[T] = if o.softcap.is_some() {
                // d/dz s·tanh(z/s) = 1 − tanh²(z/s)
                let gm: &mut [T] = match target {
                    LinearTarget::Indices(_) => &mut z[..rb * c],
                    LinearTarget::Probs(_) => &mut gbuf[..rb * c],
                };
                for (gi, &t) in gm.iter_mut().zip(&tbuf[..rb * c]) {
                    *gi *= T::one() - t * t;
                }
                gm
            } else {
                g
            };
            if let Some(dx) = dx.as_mut() {
                gemm::gemm_nn(rb, d, c, g, w, &mut dx[r0 * d..r1 * d], false, par);
            }
            if let Some(dw) = dw.as_mut() {
                gemm::gemm_tn(c, d, rb, g, xb, dw, true, par);
            }
            if let Some(db) = db.as_mut() {
                for row in g.chunks_exact(c.max(1)) {
                    for (acc, &v) in db.iter_mut().zip(row) {
                        *acc += v.f64();
                    }
                }
            }
        }
        r0 = r1;
    }
    let mut loss = ArrayD::from_shape_vec(IxDyn(&[n]), loss).expect("n losses");
    if c == 0 && eps > T::zero() && !probs {
        // PyTorch's smoothing term `Σ_c(...)·(ε / C)` is 0·∞ without classes: NaN.
        loss.fill(T::nan());
    }
    let loss = reduce(loss, o.reduction, k.denom);
    let grads = LinearGrads {
        loss: ArrayD::zeros(IxDyn(&[0])),
        input: dx.map(|v| Array2::from_shape_vec((n, d), v).expect("n×d")),
        linear_weight: dw.map(|v| Array2::from_shape_vec((c, d), v).expect("c×d")),
        bias: db.map(|v| v.into_iter().map(T::of).collect()),
    };
    Ok((loss, grads))
}

/// Fused linear cross-entropy: per row `i`, with `z_i = W·x_i + b` (optionally
/// `z ← s·tanh(z/s)`), PyTorch's cross-entropy
/// `ℓ_i = (1 − ε)·w[y_i]·(lse(z_i) − z_{i,y_i}) + (ε/C)·Σ_c w_c·(lse(z_i) − z_{i,c})`
/// for index targets (0 where ignored) or `Σ_c w_c·t'_{i,c}·(lse(z_i) − z_{i,c})`,
/// `t' = t·(1 − ε) + ε/C`, for probabilities; then reduced (see
/// [`LinearCeOptions::reduction`]). Shapes: `input` `(N, D)`, `linear_weight`
/// `(C, D)`, index targets `N`, probabilities `N × C`; the output is `(N)` for
/// [`Reduction::None`], 0-d otherwise. The logits are computed in blocks within
/// [`LinearCeOptions::chunk_bytes`] and never held whole (see the module docs).
///
/// # Errors
/// [`Error::Shape`] for mismatched `D`, target length, bias or weight length;
/// [`Error::Label`] for an index outside `[0, C)` that is not `ignore_index`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{linear_cross_entropy, LinearCeOptions, LinearTarget};
/// let x = array![[1.0f64, 0.0], [0.0, 1.0]];
/// let w = array![[2.0, 0.0], [0.0, 0.0], [0.0, 0.0]]; // 3 classes
/// let l = linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&[0, 1]), &LinearCeOptions::default(), xent::Par::Seq).unwrap();
/// let want = (((2f64.exp() + 2.0).ln() - 2.0) + 3f64.ln()) / 2.0;
/// assert!((l[[]] - want).abs() < 1e-15);
/// ```
pub fn linear_cross_entropy<T: Float>(
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    let op = "linear_cross_entropy";
    let k = check(op, input, linear_weight, target, o)?;
    Ok(run(op, &k, target, o, None, par)?.0)
}

/// Loss and gradients of [`linear_cross_entropy`] in one pass, given the upstream
/// gradient `g` of the loss (0-d for `mean`/`sum`, `(N)` for `none`):
/// `dZ = s_i·∂ℓ_i/∂z` (the cross-entropy's gradient, times `1 − tanh²(z/s)` under a
/// soft cap), `d input = dZ·W`, `d linear_weight = dZᵀ·X`, `d bias = Σ_rows dZ`,
/// exactly PyTorch autograd's result on the materialised graph (no gradient
/// filtering). Only the gradients in `wants` are computed.
///
/// # Errors
/// As [`linear_cross_entropy`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{linear_cross_entropy_vjp, LinearCeOptions, LinearTarget, LinearWants};
/// let x = array![[0.0f64, 0.0]];
/// let w = array![[1.0, 0.0], [0.0, 1.0]];
/// let g = ndarray::arr0(1.0).into_dyn();
/// let r = linear_cross_entropy_vjp(&x.view(), &w.view(), &LinearTarget::Indices(&[1]), &LinearCeOptions::default(), &g.view(), LinearWants::ALL, xent::Par::Seq).unwrap();
/// assert_eq!(r.bias.unwrap(), array![0.5, -0.5]); // softmax − onehot
/// assert_eq!(r.linear_weight.unwrap(), array![[0.0, 0.0], [0.0, 0.0]]); // x = 0
/// ```
pub fn linear_cross_entropy_vjp<T: Float>(
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
    wants: LinearWants,
    par: Par,
) -> Result<LinearGrads<T>> {
    let op = "linear_cross_entropy";
    let k = check(op, input, linear_weight, target, o)?;
    let per: Vec<T>;
    let scale = match o.reduction {
        Reduction::None => {
            check_grad(op, g.shape(), &[k.n])?;
            per = g.iter().copied().collect();
            Scale::PerPosition(&per)
        }
        red => {
            check_grad(op, g.shape(), &[])?;
            let g0 = g.iter().next().copied().unwrap_or_else(T::zero);
            Scale::Uniform(if red == Reduction::Sum { g0 } else { T::of(g0.f64() / k.denom) })
        }
    };
    let (loss, mut grads) = run(op, &k, target, o, Some((scale, wants)), par)?;
    grads.loss = loss;
    Ok(grads)
}

// ---------------------------------------------------------------------------------
// Class-sharded blocks: the engine's steps for a process that holds `c` of the
// classes (`super::sharded` combines the rows' statistics across processes between
// the two).

/// Step 1 on a class shard: `z = X_blk · W_shardᵀ (+ b_shard)`, `rb × c`.
#[allow(clippy::too_many_arguments)] // a GEMM's extents and operands, the bias and threads
pub(crate) fn shard_block_logits<T: Float>(xb: &[T], w: &[T], bias: Option<&[T]>, rb: usize, c: usize, d: usize, z: &mut [T], par: Par) {
    if c == 0 {
        return;
    }
    match bias {
        Some(b) => {
            for row in z.chunks_exact_mut(c) {
                row.copy_from_slice(b);
            }
            gemm::gemm_nt(rb, c, d, xb, w, z, true, par);
        }
        None => gemm::gemm_nt(rb, c, d, xb, w, z, false, par),
    }
}

/// The gradient of one block on a class shard, given its rows' combined statistics
/// (`m` the global row max, `stats` the slots summed over the processes): `dZ`
/// written over `z` ([`kernels::shard::shard_grad_in_place`]), then step 3:
/// `dx_blk = dZ·W_shard` (this process's part of `d input`, overwritten),
/// `dw += dZᵀ·X_blk`, `db += Σ_rows dZ`.
#[allow(clippy::too_many_arguments)] // the block, the combined statistics and the three gradients
pub(crate) fn shard_block_backward<T: Float>(
    z: &mut [T],
    xb: &[T],
    w: &[T],
    (rb, c, d): (usize, usize, usize),
    shard: &kernels::shard::ShardRows<'_, T>,
    scale: Scale<'_, T>,
    dx: Option<&mut [T]>,
    dw: Option<&mut [T]>,
    db: Option<&mut [f64]>,
    par: Par,
) {
    if c == 0 {
        if let Some(dx) = dx {
            dx.fill(T::zero());
        }
        return;
    }
    kernels::shard::shard_grad_in_place(z, shard, scale, par);
    if let Some(dx) = dx {
        gemm::gemm_nn(rb, d, c, z, w, dx, false, par);
    }
    if let Some(dw) = dw {
        gemm::gemm_tn(c, d, rb, z, xb, dw, true, par);
    }
    if let Some(db) = db {
        for row in z.chunks_exact(c) {
            for (acc, &v) in db.iter_mut().zip(row) {
                *acc += v.f64();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{cross_entropy_sparse, cross_entropy_sparse_vjp, SparseOptions};
    use ndarray::{Array2, Axis};

    fn data(n: usize, d: usize, c: usize) -> (Array2<f64>, Array2<f64>, Vec<i64>) {
        let x = Array2::from_shape_fn((n, d), |(i, j)| (((i * 31 + j * 17) % 23) as f64 - 11.0) / 7.0);
        let w = Array2::from_shape_fn((c, d), |(i, j)| (((i * 13 + j * 29) % 19) as f64 - 9.0) / 5.0);
        let y = (0..n).map(|i| ((i * 7) % c) as i64).collect();
        (x, w, y)
    }

    /// Every chunk size (one row per block up to all rows) gives the materialised result.
    #[test]
    fn blocks_of_any_size_equal_cross_entropy_on_the_logits() {
        let (n, d, c) = (13, 5, 11);
        let (x, w, mut y) = data(n, d, c);
        y[3] = -100;
        let z = x.dot(&w.t()).into_dyn();
        let yv = ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap();
        let so = SparseOptions { label_smoothing: 0.1, weight: None, ignore_index: Some(-100), reduction: Reduction::Mean };
        let want = cross_entropy_sparse(&z.view(), 1, &yv.view(), &so, Par::Seq).unwrap();
        let g = ndarray::arr0(1.0).into_dyn();
        let dz = cross_entropy_sparse_vjp(&z.view(), 1, &yv.view(), &so, &g.view(), Par::Seq).unwrap();
        let dz = dz.into_dimensionality::<ndarray::Ix2>().unwrap();
        for chunk in [1, 8 * c, 8 * c * 5, 1 << 20] {
            let o = LinearCeOptions { label_smoothing: 0.1, ignore_index: Some(-100), chunk_bytes: chunk, ..Default::default() };
            let r = linear_cross_entropy_vjp(&x.view(), &w.view(), &LinearTarget::Indices(&y), &o, &g.view(), LinearWants::ALL, Par::Seq)
                .unwrap();
            assert!((r.loss[[]] - want[[]]).abs() < 1e-14, "chunk {chunk}");
            let close = |a: &Array2<f64>, b: &Array2<f64>| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-13);
            assert!(close(&r.input.unwrap(), &dz.dot(&w)));
            assert!(close(&r.linear_weight.unwrap(), &dz.t().dot(&x)));
            let db = dz.sum_axis(Axis(0));
            assert!(r.bias.unwrap().iter().zip(&db).all(|(p, q)| (p - q).abs() < 1e-13));
        }
    }

    /// The soft cap's gradient against central finite differences.
    #[test]
    fn softcap_gradient_matches_finite_differences() {
        let (n, d, c) = (4, 3, 6);
        let (x, w, y) = data(n, d, c);
        let o = LinearCeOptions { softcap: Some(2.5), reduction: Reduction::Sum, chunk_bytes: 8 * c * 2, ..Default::default() };
        let f = |x: &Array2<f64>| linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&y), &o, Par::Seq).unwrap()[[]];
        let g = ndarray::arr0(1.0).into_dyn();
        let r =
            linear_cross_entropy_vjp(&x.view(), &w.view(), &LinearTarget::Indices(&y), &o, &g.view(), LinearWants::ALL, Par::Seq).unwrap();
        let dx = r.input.unwrap();
        let h = 1e-6;
        for i in 0..n {
            for j in 0..d {
                let (mut a, mut b) = (x.clone(), x.clone());
                a[[i, j]] += h;
                b[[i, j]] -= h;
                let fd = (f(&a) - f(&b)) / (2.0 * h);
                assert!((fd - dx[[i, j]]).abs() < 1e-7, "{fd} vs {}", dx[[i, j]]);
            }
        }
    }

    /// (2^61 classes) × 0 features holds no data, but its logits cannot be allocated.
    #[test]
    fn a_vocabulary_too_large_to_allocate_is_an_error() {
        let x = Array2::<f32>::zeros((2, 0));
        let w = ndarray::ArrayView2::<f32>::from_shape((1 << 61, 0), &[]).unwrap();
        let e = linear_cross_entropy(&x.view(), &w, &LinearTarget::Indices(&[0, 1]), &LinearCeOptions::default(), Par::Seq).unwrap_err();
        assert!(e.to_string().contains("cannot allocate"), "{e}");
    }

    #[test]
    fn bad_shapes_and_labels_are_errors() {
        let (x, w, _) = data(2, 3, 4);
        let o = LinearCeOptions::default();
        let w2 = Array2::<f64>::zeros((4, 2));
        assert!(linear_cross_entropy(&x.view(), &w2.view(), &LinearTarget::Indices(&[0, 1]), &o, Par::Seq).is_err());
        assert!(linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&[0]), &o, Par::Seq).is_err());
        let e = linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&[0, 4]), &o, Par::Seq).unwrap_err();
        assert!(e.to_string().contains("label 4"), "{e}");
    }
}

//! Fused linear cross-entropy: `cross_entropy(input · linear_weightᵀ + bias, target)`
//! computed block by block, so that the `N × C` logits never exist.
//!
//! # How
//! Two schedules ([`Schedule`]); [`Schedule::Auto`] takes the row blocks when at
//! least [`MIN_BLOCK_ROWS`] rows of logits (or all rows) fit the chunk budget
//! ([`LinearCeOptions::chunk_bytes`], default [`DEFAULT_CHUNK_BYTES`] = 64 MiB), else
//! the class blocks.
//!
//! **Row blocks** (one pass, three GEMMs of `2·N·D·C` flops, the floor of forward plus
//! backward). Blocks of `R` whole rows of logits; per block:
//!
//! 1. `Z = X_blk · Wᵀ (+ b)` (one GEMM, [`crate::kernels::gemm`]); with a soft cap,
//!    `Z ← s·tanh(Z/s)`;
//! 2. xent's fused cross-entropy kernel on `Z` (the same kernel as
//!    [`super::cross_entropy_sparse`] / [`super::cross_entropy_dense`], so the loss is
//!    bit-for-bit that of `cross_entropy` on the materialised logits), with `dZ`
//!    (upstream scale included) written over `Z`;
//! 3. `d input_blk = dZ · W`, `d bias += Σ_rows dZ`, and `d W`:
//!    * with one or two blocks, or `N > D`: `dW += dZᵀ · X_blk` straight into the
//!      one `C × D` gradient buffer (with two blocks the alternative below moves
//!      about as many bytes);
//!    * with more blocks and `N ≤ D`: `dZ` is transposed into the tail of `d W`'s own
//!      buffer (`C·N ≤ C·D` elements, unused until the end), and after the last block
//!      `dW = dZᵀ · X` runs once, in class panels that never overwrite the part of
//!      `dZᵀ` still to be read. `d W` is then written once, not read and written per
//!      block, and its product has inner dimension `N`, not `R`. While the tail holds
//!      `dZᵀ`, the front (`C·(D − N)` elements) is free: with index targets and no soft
//!      cap the blocks of logits are computed there, `min(N, D − N)` rows at a time
//!      (this alone also makes two budget-sized blocks take this path).
//!
//! The upstream scale of a reduced loss depends only on the targets (the mean divides
//! by `Σ w[y]` over non-ignored targets, or by `N`), so the gradient is computed in the
//! same pass as the loss.
//!
//! **Class blocks** (index targets; two passes, four GEMMs with gradients). Rows in
//! blocks of `R` (all rows unless the budget holds fewer than 1024 classes of them),
//! classes in blocks of `C_b` (`R·C_b` within the budget):
//!
//! 1. statistics pass: per class block, `Z = X_blk · W_cbᵀ (+ b_cb)`, and per row the
//!    block's `(max, Σ exp(z − max))` merged online into the row's state, the target's
//!    logit where it falls in the block, `Σ_c w_c·z_c` for label smoothing; then the
//!    row's loss and log-sum-exp;
//! 2. gradient pass, given every row's log-sum-exp: per class block, `Z` again, `dZ` over
//!    it, `d input_blk += dZ · W_cb`, `dW_cb += dZᵀ · X_blk`, `d b_cb += Σ_rows dZ`.
//!
//! Each pass is parameterised by the range of classes it walks and their global
//! offset, and the per-row states of disjoint class ranges combine exactly (max, then
//! the rescaled sums, then sums), so a vocabulary sharded across processes runs the
//! same two passes on its shard, with the row states and `d input` reduced in between.
//!
//! Peak extra memory: the block buffers (≤ the budget) plus the gradients returned,
//! plus the GEMM crate's packing workspace (measured 20–30 MiB at the bench shapes of
//! BENCHMARKS.md, 2 threads), plus `O(N)` per-row values.

use std::ops::Range;

use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayViewD, IxDyn};

use super::categorical::reduce;
use super::{check_grad, Reduction};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::{self, gemm, DenseGrad, Geom, Half, Par, Scale, SparseCe};

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
    /// Bytes of logits (and per-block buffers) one block may hold.
    pub chunk_bytes: usize,
    /// How the logits are walked ([`Schedule::Auto`] unless testing or tuning).
    pub schedule: Schedule,
    /// z-loss scale `λ` (Liger-Kernel's and PaLM's `lse_square_scale`): every
    /// non-ignored row's loss gains `λ·lse²` (unweighted by the class weights), its
    /// gradient `2λ·lse·softmax`; the mean divides by the same divisor as the loss.
    /// Index targets only. 0 disables it.
    pub lse_square_scale: T,
    /// Return every row's log-sum-exp ([`LinearGrads::lse`]).
    pub return_lse: bool,
    /// Return every row's argmax class and the accuracy over the non-ignored rows
    /// ([`LinearGrads::argmax`], [`LinearGrads::accuracy`]).
    pub return_argmax: bool,
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
            schedule: Schedule::Auto,
            lse_square_scale: T::zero(),
            return_lse: false,
            return_argmax: false,
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
pub struct LinearGrads<T, G = T> {
    /// The loss, as [`linear_cross_entropy`] returns it.
    pub loss: ArrayD<T>,
    /// `d input`, `N × D`.
    pub input: Option<Array2<G>>,
    /// `d linear_weight`, `C × D`.
    pub linear_weight: Option<Array2<G>>,
    /// `d bias`, `C`.
    pub bias: Option<Array1<G>>,
    /// Per row, `ln Σ_c exp(z_c)` over the (soft-capped) logits, when
    /// [`LinearCeOptions::return_lse`] asks for it (ignored rows included).
    pub lse: Option<Array1<T>>,
    /// Per row, the first class of largest logit (NaN counts as largest, as in
    /// `torch.argmax`; −1 without classes), when [`LinearCeOptions::return_argmax`]
    /// asks for it.
    pub argmax: Option<Array1<i64>>,
    /// With [`LinearCeOptions::return_argmax`] and index targets: the fraction of
    /// non-ignored rows whose argmax is their target (NaN when all are ignored).
    pub accuracy: Option<f64>,
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
    let ((n, d), (c, _)) = (x.dim(), w.dim());
    let denom = check_dims(op, x.dim(), w.dim(), target, o)?;
    Ok(Checked { x: x.as_standard_layout(), w: w.as_standard_layout(), n, d, c, denom })
}

/// The shape and label checks; the mean's divisor.
fn check_dims<T: Float>(
    op: &str,
    (n, d): (usize, usize),
    (c, dw): (usize, usize),
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
) -> Result<f64> {
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
    Ok(denom)
}

/// A zero-filled buffer, allocated fallibly (a huge vocabulary is an error, not an abort).
fn zeros<T: Float>(op: &str, what: &str, len: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::shape(op, format!("cannot allocate {len} elements for the {what}")))?;
    v.resize(len, T::zero());
    Ok(v)
}

/// The problem one engine call solves: `input` (`n × d`), the rows of `linear_weight`
/// for classes `offset .. offset + cl` of `c_total` (all of them in one process; a
/// class shard when the vocabulary is split across processes), the options, and
/// the per-call constants of the loss.
struct Engine<'a, 'o, T> {
    x: &'a [T],
    w: &'a [T],
    n: usize,
    d: usize,
    /// Classes held in `w` (and in `o.bias`).
    cl: usize,
    /// Global index of `w`'s first class (labels and `o.weight` are global).
    offset: usize,
    /// Classes in all (`C` of the loss's formulas).
    c_total: usize,
    o: &'a LinearCeOptions<'o, T>,
    eps: T,
    sum_w: T,
    inv_c: T,
    par: Par,
}

/// Per-row statistics of the logits over a range of classes (the class-blocked
/// schedule's first pass). States over disjoint class ranges combine exactly: `(max,
/// sum_exp)` with [`kernels::linear::merge_max_sum`] (an all-reduce MAX, then a SUM of
/// the rescaled sums, across processes), `target` and `weighted` by addition.
struct RowStats<T> {
    /// `(max, Σ exp(z − max))` over the range.
    ms: Vec<(T, T)>,
    /// The target's logit where the target falls in the range, else 0.
    target: Vec<T>,
    /// `Σ_c w_c·z_c` over the range (label smoothing only; else 0).
    weighted: Vec<T>,
    /// `(largest logit, its first global class)` (only when asked for; a NaN is the
    /// largest): merged by keeping the larger, the earlier range on ties.
    arg: Vec<(T, Option<usize>)>,
}

impl<T: Float> RowStats<T> {
    /// Merge the states of `part` (over other classes) into rows `at ..` of `self`.
    fn merge_from(&mut self, part: &RowStats<T>, at: usize) {
        for (i, p) in part.ms.iter().enumerate() {
            self.ms[at + i] = kernels::linear::merge_max_sum(self.ms[at + i], *p);
            self.target[at + i] += part.target[i];
            self.weighted[at + i] += part.weighted[i];
        }
        for (acc, &(v, j)) in self.arg[at..].iter_mut().zip(&part.arg) {
            if (v.is_nan() && !acc.0.is_nan()) || v > acc.0 || (acc.1.is_none() && j.is_some()) {
                *acc = (v, j);
            }
        }
    }

    fn new(rows: usize, argmax: bool) -> Self {
        RowStats {
            ms: vec![(T::neg_infinity(), T::zero()); rows],
            target: vec![T::zero(); rows],
            weighted: vec![T::zero(); rows],
            arg: vec![(T::neg_infinity(), None); if argmax { rows } else { 0 }],
        }
    }
}

/// `m + ln s`, NaN for a non-empty row of only `−inf`, `−inf` without classes.
fn lse_from<T: Float>(m: T, s: T, classes: usize) -> T {
    if m == T::neg_infinity() {
        if classes == 0 {
            m
        } else {
            T::nan()
        }
    } else {
        m + s.ln()
    }
}

fn scale_at<T: Float>(s: &Scale<'_, T>, i: usize) -> T {
    match s {
        Scale::Uniform(v) => *v,
        Scale::PerPosition(v) => v[i],
    }
}

/// Which way the engine walks the logits (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    /// Blocks of whole rows when at least [`MIN_BLOCK_ROWS`] rows (or all rows) of
    /// logits fit the chunk budget, else class blocks.
    #[default]
    Auto,
    /// Blocks of whole rows: one pass, three GEMMs (a vocabulary too large for the
    /// budget runs one row per block).
    Rows,
    /// Blocks of classes: a statistics pass, then a gradient pass that recomputes the
    /// logits (four GEMMs with gradients). Index targets only: probabilities run
    /// [`Schedule::Rows`].
    Classes,
}

/// Row blocks shorter than this (a vocabulary so large that the budget holds fewer
/// rows of logits) make [`Schedule::Auto`] choose the class blocks: with fewer rows
/// per block the products turn into matrix–vector ones that stream `linear_weight`
/// (and accumulate its gradient) once per block.
pub const MIN_BLOCK_ROWS: usize = 64;

/// Classes per block the class-blocked schedule aims for before it cuts the rows.
const MIN_BLOCK_CLASSES: usize = 1024;

/// The engine's results: per-row losses and log-sum-exps, and the gradients.
struct Out<T> {
    loss: Vec<T>,
    lse: Vec<T>,
    argmax: Option<Vec<Option<usize>>>,
    dx: Option<Vec<T>>,
    dw: Option<Vec<T>>,
    db: Option<Vec<f64>>,
}

impl<'a, 'o, T: Float> Engine<'a, 'o, T> {
    fn new(k: &'a Checked<'_, T>, o: &'a LinearCeOptions<'o, T>, par: Par) -> Self {
        let c = k.c;
        let eps = if o.label_smoothing > T::zero() { o.label_smoothing } else { T::zero() };
        let ct = T::of(c as f64);
        Engine {
            x: k.x.as_slice().expect("standard layout"),
            w: k.w.as_slice().expect("standard layout"),
            n: k.n,
            d: k.d,
            cl: c,
            offset: 0,
            c_total: c,
            o,
            eps,
            sum_w: o.weight.map_or(ct, |w| w.iter().copied().sum()),
            inv_c: T::one() / ct,
            par,
        }
    }

    /// An engine over the global classes `classes` of `c_total`, whose rows of
    /// `linear_weight` are `w` (and bias, if any, `o.bias`; `o.weight` is global).
    #[allow(clippy::too_many_arguments)] // the shard's geometry is explicit
    fn shard(
        x: &'a [T],
        w: &'a [T],
        (n, d): (usize, usize),
        classes: Range<usize>,
        c_total: usize,
        o: &'a LinearCeOptions<'o, T>,
        par: Par,
    ) -> Self {
        let ct = T::of(c_total as f64);
        let eps = if o.label_smoothing > T::zero() { o.label_smoothing } else { T::zero() };
        let sum_w = o.weight.map_or(ct, |w| w.iter().copied().sum());
        Engine { x, w, n, d, cl: classes.len(), offset: classes.start, c_total, o, eps, sum_w, inv_c: T::one() / ct, par }
    }

    /// `z = X[rows] · W[classes]ᵀ (+ b[classes])`, `rows × classes` row-major
    /// (`classes` local to `w`); under a soft cap `z ← s·tanh(z/s)`, with `tanh(z/s)`
    /// kept in `th` when given.
    fn logits(&self, rows: Range<usize>, classes: Range<usize>, z: &mut [T], th: Option<&mut [T]>) {
        let (rb, cb, d) = (rows.len(), classes.len(), self.d);
        let zb = &mut z[..rb * cb];
        let xb = &self.x[rows.start * d..rows.end * d];
        let wb = &self.w[classes.start * d..classes.end * d];
        match self.o.bias {
            Some(b) => {
                for row in zb.chunks_exact_mut(cb.max(1)) {
                    row.copy_from_slice(&b[classes.clone()]);
                }
                gemm::gemm_nt(rb, cb, d, xb, wb, zb, true, self.par);
            }
            None => gemm::gemm_nt(rb, cb, d, xb, wb, zb, false, self.par),
        }
        if let Some(s) = self.o.softcap {
            match th {
                Some(th) => {
                    for (zi, ti) in zb.iter_mut().zip(th[..rb * cb].iter_mut()) {
                        let t = (*zi / s).tanh();
                        *ti = t;
                        *zi = t * s;
                    }
                }
                None => {
                    for zi in zb.iter_mut() {
                        *zi = (*zi / s).tanh() * s;
                    }
                }
            }
        }
    }

    /// The target of row `i` as a global class, `None` when ignored.
    fn label(&self, y: &[i64], i: usize) -> Option<usize> {
        let v = y[i];
        (Some(v) != self.o.ignore_index).then_some(v as usize)
    }

    /// Class-blocked pass 1: the [`RowStats`] of rows `rows` over this engine's
    /// classes, in blocks of `z.len() / rows.len()` classes.
    /// With one class block the logits (and the soft cap's tanh, in `th` when given)
    /// are left in `z` for [`Self::class_grads`].
    fn class_stats(&self, y: &[i64], rows: Range<usize>, z: &mut [T], mut th: Option<&mut [T]>) -> RowStats<T> {
        let rb = rows.len();
        let mut st = RowStats::new(rb, self.o.return_argmax);
        if rb == 0 {
            return st;
        }
        let cb = (z.len() / rb).max(1);
        let mut part = vec![(T::zero(), T::zero()); rb];
        let mut wpart = vec![T::zero(); rb];
        let mut apart = vec![(T::zero(), None); if self.o.return_argmax { rb } else { 0 }];
        let mut c0 = 0;
        while c0 < self.cl {
            let c1 = (c0 + cb).min(self.cl);
            let w_ = c1 - c0;
            self.logits(rows.clone(), c0..c1, z, th.as_deref_mut());
            kernels::linear::block_max_sum_exp(z, rb, w_, &mut part, self.par);
            for (acc, &p) in st.ms.iter_mut().zip(&part) {
                *acc = kernels::linear::merge_max_sum(*acc, p);
            }
            let g0 = self.offset + c0;
            for i in 0..rb {
                if let Some(t) = self.label(y, rows.start + i) {
                    if (g0..g0 + w_).contains(&t) {
                        st.target[i] = z[i * w_ + (t - g0)];
                    }
                }
            }
            if self.eps > T::zero() {
                let wt = self.o.weight.map(|w| &w[g0..g0 + w_]);
                kernels::linear::block_weighted_sum(z, rb, w_, wt, &mut wpart, self.par);
                for (acc, &p) in st.weighted.iter_mut().zip(&wpart) {
                    *acc += p;
                }
            }
            if self.o.return_argmax {
                kernels::linear::block_argmax(z, rb, w_, &mut apart);
                for (acc, &(v, j)) in st.arg.iter_mut().zip(&apart) {
                    let better = (v.is_nan() && !acc.0.is_nan()) || v > acc.0 || (acc.1.is_none() && j.is_some());
                    if better {
                        *acc = (v, j.map(|j| self.offset + c0 + j));
                    }
                }
            }
            c0 = c1;
        }
        st
    }

    /// Loss and log-sum-exp of one row from its statistics over *all* classes:
    /// `(1 − ε)·w_y·((m − z_y) + ln s) + (ε/C)·((m·Σw − Σ_c w_c z_c) + ln s·Σw)`, 0 for
    /// an ignored target.
    fn row_loss(&self, label: Option<usize>, (m, s): (T, T), zy: T, weighted: T) -> (T, T) {
        let lse = lse_from(m, s, self.c_total);
        let Some(y) = label else { return (T::zero(), lse) };
        let ls = s.ln();
        let wy = self.o.weight.map_or(T::one(), |w| w[y]);
        let v = wy * ((m - zy) + ls);
        let loss = if self.eps > T::zero() {
            let smooth = (m * self.sum_w - weighted) + ls * self.sum_w;
            (T::one() - self.eps) * v + self.eps * self.inv_c * smooth
        } else {
            v
        };
        let z = self.o.lse_square_scale;
        (if z != T::zero() { loss + z * lse * lse } else { loss }, lse)
    }

    /// Class-blocked pass 2, given every row's log-sum-exp over *all* classes: per
    /// class block, the logits again, `dZ` over them, then `d input[rows] += dZ·W_blk`,
    /// `d W_blk += dZᵀ·X[rows]`, `d bias_blk += Σ_rows dZ` (`dx` holds the rows'
    /// gradient, `dw` and `db` this engine's classes).
    #[allow(clippy::too_many_arguments)] // the pass's inputs and its three outputs
    fn class_grads(
        &self,
        y: &[i64],
        rows: Range<usize>,
        lse: &[T],
        scale: &Scale<'_, T>,
        (z, th, fresh): (&mut [T], &mut [T], bool),
        mut dx: Option<&mut [T]>,
        mut dw: Option<&mut [T]>,
        mut db: Option<&mut [f64]>,
    ) {
        let (rb, d) = (rows.len(), self.d);
        if rb == 0 {
            return;
        }
        let cb = (z.len() / rb).max(1);
        let xb = &self.x[rows.start * d..rows.end * d];
        let softcap = self.o.softcap.is_some();
        let mut c0 = 0;
        while c0 < self.cl {
            let c1 = (c0 + cb).min(self.cl);
            let w_ = c1 - c0;
            let g0 = self.offset + c0;
            if !(fresh && w_ == self.cl) {
                self.logits(rows.clone(), c0..c1, z, softcap.then_some(&mut *th));
            }
            let zl = self.o.lse_square_scale;
            let terms = |i: usize| {
                let t = self.label(y, rows.start + i)?;
                let s = scale_at(scale, rows.start + i);
                let (mut a, b_all, b_y) = self.coeffs(t, s);
                if zl != T::zero() {
                    // d(λ·lse²)/dz = 2λ·lse·softmax
                    a += s * (zl + zl) * lse[i];
                }
                let yl = (g0..g0 + w_).contains(&t).then(|| t - g0);
                Some(kernels::linear::RowTerms { lse: lse[i], a, b_all, b_y, y: yl })
            };
            let wt = self.o.weight.map(|w| &w[g0..g0 + w_]);
            kernels::linear::block_grad_in_place(z, rb, w_, wt, terms, self.par);
            let g = &mut z[..rb * w_];
            if softcap {
                for (gi, &t) in g.iter_mut().zip(&th[..rb * w_]) {
                    *gi *= T::one() - t * t;
                }
            }
            let g = &*g;
            if let Some(dx) = dx.as_deref_mut() {
                gemm::gemm_nn(rb, d, w_, g, &self.w[c0 * d..c1 * d], dx, true, self.par);
            }
            if let Some(dw) = dw.as_deref_mut() {
                gemm::gemm_tn(w_, d, rb, g, xb, &mut dw[c0 * d..c1 * d], true, self.par);
            }
            if let Some(db) = db.as_deref_mut() {
                for row in g.chunks_exact(w_) {
                    for (acc, &v) in db[c0..c1].iter_mut().zip(row) {
                        *acc += v.f64();
                    }
                }
            }
            c0 = c1;
        }
    }

    /// Coefficients `(a, b_all, b_y)` of the gradient row
    /// `s·((1 − ε)·w_y·(p − onehot_y) + (ε/C)·(p·Σw − w))`.
    fn coeffs(&self, y: usize, s: T) -> (T, T, T) {
        let wy = self.o.weight.map_or(T::one(), |w| w[y]);
        let a = s * ((T::one() - self.eps) * wy + self.eps * self.inv_c * self.sum_w);
        (a, s * self.eps * self.inv_c, s * (T::one() - self.eps) * wy)
    }

    /// The class-blocked schedule: rows in blocks of `rb`, classes in blocks within
    /// the budget; pass 1 ([`Self::class_stats`]) then, with gradients, pass 2
    /// ([`Self::class_grads`]).
    fn by_classes(&self, op: &str, y: &[i64], up: Option<(Scale<'_, T>, LinearWants)>) -> Result<Out<T>> {
        let (n, d, cl) = (self.n, self.d, self.cl);
        let grad = up.is_some();
        let wants = up.map_or(LinearWants { input: false, linear_weight: false, bias: false }, |u| u.1);
        let bufs = 1 + usize::from(grad && self.o.softcap.is_some());
        let elems = (self.o.chunk_bytes / (size_of::<T>() * bufs)).max(1);
        // Whole rows when enough fit (then the gradient pass reuses the logits of the
        // statistics pass: three GEMMs), else rows and classes both cut.
        let whole = elems / cl.max(1);
        let (rb, cb) = if whole >= n.clamp(1, MIN_BLOCK_ROWS) {
            (whole.clamp(1, n.max(1)), cl.max(1))
        } else {
            let rb = n.min((elems / MIN_BLOCK_CLASSES).max(1)).max(1);
            (rb, (elems / rb).clamp(1, cl.max(1)))
        };
        let mut z = zeros::<T>(op, "block of logits", rb.saturating_mul(cb))?;
        let mut th = zeros::<T>(op, "block of tanh", if bufs > 1 { rb.saturating_mul(cb) } else { 0 })?;
        let mut loss = zeros::<T>(op, "loss", n)?;
        let mut lse = zeros::<T>(op, "log-sum-exp", n)?;
        let mut dx = if wants.input { Some(zeros::<T>(op, "input gradient", n.saturating_mul(d))?) } else { None };
        let mut dw = if wants.linear_weight { Some(zeros::<T>(op, "linear_weight gradient", cl.saturating_mul(d))?) } else { None };
        let mut db = if wants.bias { Some(vec![0.0f64; cl]) } else { None };
        let mut argmax = self.o.return_argmax.then(Vec::new);
        let mut r0 = 0;
        while r0 < n {
            let r1 = (r0 + rb).min(n);
            let st = self.class_stats(y, r0..r1, &mut z, (bufs > 1).then_some(&mut th[..]));
            for i in 0..r1 - r0 {
                let (l, s) = self.row_loss(self.label(y, r0 + i), st.ms[i], st.target[i], st.weighted[i]);
                loss[r0 + i] = l;
                lse[r0 + i] = s;
            }
            if let Some(a) = argmax.as_mut() {
                a.extend(st.arg.iter().map(|v| v.1));
            }
            if let Some((scale, _)) = &up {
                let dxr = dx.as_mut().map(|v| &mut v[r0 * d..r1 * d]);
                let bufs = (&mut z[..], &mut th[..], true);
                self.class_grads(y, r0..r1, &lse[r0..r1], scale, bufs, dxr, dw.as_deref_mut(), db.as_deref_mut());
            }
            r0 = r1;
        }
        Ok(Out { loss, lse, argmax, dx, dw, db })
    }

    /// The row-blocked schedule: blocks of whole rows of logits within the budget,
    /// xent's fused cross-entropy kernel on each, `d input` per block; `d W` either
    /// accumulated per block or, when the `n × C` gradient of the logits fits in the
    /// `C × D` gradient's own buffer (`n ≤ D`) and there is more than one block,
    /// transposed into that buffer and multiplied once at the end (`d W` then is
    /// written once instead of read and written per block).
    fn by_rows(&self, op: &str, target: &LinearTarget<'_, T>, up: Option<(Scale<'_, T>, LinearWants)>) -> Result<Out<T>> {
        let (n, d, c, par) = (self.n, self.d, self.cl, self.par);
        let (x, w, o, eps) = (self.x, self.w, self.o, self.eps);
        let grad = up.is_some();
        let wants = up.map_or(LinearWants { input: false, linear_weight: false, bias: false }, |u| u.1);
        // Buffers per row of a block: the logits (the sparse gradient overwrites them),
        // a dense gradient, smoothed probabilities, the soft cap's tanh.
        let probs = matches!(target, LinearTarget::Probs(_));
        let smooth_probs = probs && eps > T::zero();
        let bufs = 1 + usize::from(probs && grad) + usize::from(smooth_probs) + usize::from(grad && o.softcap.is_some());
        let row_bytes = c.saturating_mul(size_of::<T>() * bufs).max(1);
        let r = (o.chunk_bytes / row_bytes).clamp(1, n.max(1));
        // `d W` deferred: `dZᵀ` (C × n) kept in the tail of `d W`'s buffer, whose
        // front (C·(D − n) elements) is free until the end: with the logits the only
        // per-row buffer, blocks of up to `D − n` rows are computed there.
        // Deferring pays when `d W` would otherwise be read and written three times or
        // more (with two blocks the traffic is about even), or when the front holds
        // larger blocks.
        let can_defer = wants.linear_weight && r < n && n <= d;
        let tail = c * d.saturating_sub(n);
        let in_front = can_defer && bufs == 1 && d - n > r;
        let deferred = in_front || (can_defer && n > 2 * r);
        let r = if in_front { (d - n).min(n) } else { r };
        // Sizes from shapes with zero-length axes can overflow: saturate, and let the
        // fallible allocation report it.
        let rc = r.saturating_mul(c);
        let mut z = zeros::<T>(op, "block of logits", if in_front { 0 } else { rc })?;
        let mut gbuf = zeros::<T>(op, "block of gradients", if probs && grad { rc } else { 0 })?;
        let mut sbuf = zeros::<T>(op, "block of smoothed targets", if smooth_probs { rc } else { 0 })?;
        let mut tbuf = zeros::<T>(op, "block of tanh", if grad && o.softcap.is_some() { rc } else { 0 })?;
        let mut loss = zeros::<T>(op, "loss", n)?;
        let mut lse = zeros::<T>(op, "log-sum-exp", n)?;
        let mut dx = if wants.input { Some(zeros::<T>(op, "input gradient", n.saturating_mul(d))?) } else { None };
        let mut dw = if wants.linear_weight { Some(zeros::<T>(op, "linear_weight gradient", c.saturating_mul(d))?) } else { None };
        let mut db = if wants.bias { Some(vec![0.0f64; c]) } else { None };
        let sparse = SparseCe { smoothing: eps, weight: o.weight, ignore_index: o.ignore_index };

        let mut r0 = 0;
        while r0 < n {
            let r1 = (r0 + r).min(n);
            let rb = r1 - r0;
            let geo = Geom::rows(rb, c);
            let xb = &x[r0 * d..r1 * d];
            // The block's logits, and where `d W`'s share of it goes.
            let (zbuf, dwr): (&mut [T], Option<&mut [T]>) = match (in_front, dw.as_deref_mut()) {
                (true, Some(v)) => {
                    let (front, back) = v.split_at_mut(tail);
                    (front, Some(&mut back[r0..]))
                }
                (_, Some(v)) if deferred => (&mut z[..], Some(&mut v[tail + r0..])),
                (_, v) => (&mut z[..], v),
            };
            self.logits(r0..r1, 0..c, zbuf, (grad && o.softcap.is_some()).then_some(&mut tbuf[..]));
            let zb = &mut zbuf[..rb * c];
            let scale = up.map(|(s, _)| match s {
                Scale::Uniform(v) => Scale::Uniform(v),
                Scale::PerPosition(v) => Scale::PerPosition(&v[r0..r1]),
            });
            let lb = &mut loss[r0..r1];
            let lseb = &mut lse[r0..r1];
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
                        LinearTarget::Indices(_) => &mut zbuf[..rb * c],
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
                if let Some(dw) = dwr {
                    if deferred {
                        kernels::linear::transpose_into(g, rb, c, dw, n, par);
                    } else {
                        gemm::gemm_tn(c, d, rb, g, xb, dw, true, par);
                    }
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
        if let (true, Some(dw)) = (deferred, dw.as_mut()) {
            // `d W[c0..c1] = dZᵀ[c0..c1] · X`, class panels in increasing order: panel
            // `[c0, c1)` is copied out first, and its product (rows `c0·D .. c1·D` of
            // the buffer) never reaches the rows of `dZᵀ` still unread, which start at
            // `tail + c1·n ≥ c1·D` (as `c1·(D − n) ≤ C·(D − n)`).
            let p = ((o.chunk_bytes / size_of::<T>()).max(z.len()) / n).clamp(1, c);
            if z.len() < p * n {
                drop(std::mem::take(&mut z)); // freed before the panel is allocated: one buffer at a time
                z = zeros::<T>(op, "panel of the logits' gradient", p * n)?;
            }
            let mut c0 = 0;
            while c0 < c {
                let c1 = (c0 + p).min(c);
                let panel = &mut z[..(c1 - c0) * n];
                panel.copy_from_slice(&dw[tail + c0 * n..tail + c1 * n]);
                gemm::gemm_nn(c1 - c0, d, n, panel, x, &mut dw[c0 * d..c1 * d], false, par);
                c0 = c1;
            }
        }
        Ok(Out { loss, lse, argmax: None, dx, dw, db })
    }
}

/// The 16-bit engine: the class-blocked passes over shards of `linear_weight`, each
/// widened to `f32` in turn (so no `f32` copy of the whole matrix exists), `input`
/// widened once; every product and sum in `f32`, the gradients rounded to `H` once.
fn run_half<H: Half>(
    op: &str,
    x: &ArrayView2<'_, H>,
    w: &ArrayView2<'_, H>,
    y: &[i64],
    o: &LinearCeOptions<'_, f32>,
    up: Option<(Scale<'_, f32>, LinearWants)>,
    par: Par,
) -> Result<(ArrayD<f32>, LinearGrads<f32, H>)> {
    let ((n, d), (c, _)) = (x.dim(), w.dim());
    let denom = check_dims(op, x.dim(), w.dim(), &LinearTarget::Indices(y), o)?;
    if n.checked_mul(c).and_then(|v| v.checked_mul(4)).is_none_or(|b| b > isize::MAX as usize) {
        return Err(Error::shape(op, format!("the {n} × {c} logits exceed the address space (more than isize::MAX bytes)")));
    }
    let (xs, ws) = (x.as_standard_layout(), w.as_standard_layout());
    let (xs, ws) = (xs.as_slice().expect("standard layout"), ws.as_slice().expect("standard layout"));
    let wants = up.map_or(LinearWants { input: false, linear_weight: false, bias: false }, |u| u.1);
    let mut xf = zeros::<f32>(op, "float32 input", n.saturating_mul(d))?;
    kernels::linear::widen(xs, &mut xf, par);
    // A quarter of the budget for the shard of `linear_weight` widened, a quarter for its
    // gradient, half for the logits (and the soft cap's tanh).
    let elems = (o.chunk_bytes / 4).max(1);
    let cb = (elems / 4 / d.max(1)).clamp(1, c.max(1));
    let bufs = 1 + usize::from(up.is_some() && o.softcap.is_some());
    let rb = (elems / 2 / bufs / cb).clamp(1, n.max(1));
    let mut wf = zeros::<f32>(op, "float32 shard of linear_weight", cb.saturating_mul(d))?;
    let mut z = zeros::<f32>(op, "block of logits", rb.saturating_mul(cb))?;
    let mut th = zeros::<f32>(op, "block of tanh", if bufs > 1 { rb.saturating_mul(cb) } else { 0 })?;
    let shard_opts = |c0: usize, c1: usize| LinearCeOptions { bias: o.bias.map(|b| &b[c0..c1]), ..o.clone() };
    // pass 1: the row statistics, shard by shard
    let mut st = RowStats::new(n, o.return_argmax);
    for c0 in (0..c).step_by(cb) {
        let c1 = (c0 + cb).min(c);
        kernels::linear::widen(&ws[c0 * d..c1 * d], &mut wf, par);
        let so = shard_opts(c0, c1);
        let e = Engine::shard(&xf, &wf[..(c1 - c0) * d], (n, d), c0..c1, c, &so, par);
        for r0 in (0..n).step_by(rb) {
            let r1 = (r0 + rb).min(n);
            st.merge_from(&e.class_stats(y, r0..r1, &mut z, None), r0);
        }
    }
    let e = Engine::shard(&xf, &[], (n, d), 0..0, c, o, par);
    let mut loss = zeros::<f32>(op, "loss", n)?;
    let mut lse = zeros::<f32>(op, "log-sum-exp", n)?;
    for i in 0..n {
        (loss[i], lse[i]) = e.row_loss(e.label(y, i), st.ms[i], st.target[i], st.weighted[i]);
    }
    // pass 2: the gradients, shard by shard; `d W` and `d b` of a shard are complete
    // (and rounded to H) before the next
    let mut dx = if wants.input { Some(zeros::<f32>(op, "float32 input gradient", n.saturating_mul(d))?) } else { None };
    let mut dwh = if wants.linear_weight { Some(vec![H::default(); c.saturating_mul(d)]) } else { None };
    let mut dbh = if wants.bias { Some(vec![H::default(); c]) } else { None };
    if let Some((scale, _)) = &up {
        let mut dwf = zeros::<f32>(op, "float32 shard of the linear_weight gradient", if wants.linear_weight { cb * d } else { 0 })?;
        let mut dbf = vec![0.0f64; if wants.bias { cb } else { 0 }];
        for c0 in (0..c).step_by(cb) {
            let c1 = (c0 + cb).min(c);
            let wl = c1 - c0;
            kernels::linear::widen(&ws[c0 * d..c1 * d], &mut wf, par);
            let so = shard_opts(c0, c1);
            let e = Engine::shard(&xf, &wf[..wl * d], (n, d), c0..c1, c, &so, par);
            dwf.fill(0.0);
            dbf.fill(0.0);
            for r0 in (0..n).step_by(rb) {
                let r1 = (r0 + rb).min(n);
                let dxr = dx.as_mut().map(|v| &mut v[r0 * d..r1 * d]);
                let dwr = if dwh.is_some() { Some(&mut dwf[..wl * d]) } else { None };
                let dbr = if dbh.is_some() { Some(&mut dbf[..wl]) } else { None };
                e.class_grads(y, r0..r1, &lse[r0..r1], scale, (&mut z, &mut th, false), dxr, dwr, dbr);
            }
            if let Some(dw) = dwh.as_mut() {
                kernels::linear::narrow(&dwf[..wl * d], &mut dw[c0 * d..c1 * d], par);
            }
            if let Some(db) = dbh.as_mut() {
                for (o, &v) in db[c0..c1].iter_mut().zip(&dbf) {
                    *o = H::from_f32(v as f32);
                }
            }
        }
    }
    let loss = reduce(ArrayD::from_shape_vec(IxDyn(&[n]), loss).expect("n losses"), o.reduction, denom);
    let grads = LinearGrads {
        loss: ArrayD::zeros(IxDyn(&[0])),
        input: dx.map(|v| {
            let mut h = vec![H::default(); v.len()];
            kernels::linear::narrow(&v, &mut h, par);
            Array2::from_shape_vec((n, d), h).expect("n×d")
        }),
        linear_weight: dwh.map(|v| Array2::from_shape_vec((c, d), v).expect("c×d")),
        bias: dbh.map(Array1::from),
        lse: o.return_lse.then(|| Array1::from(lse)),
        accuracy: o.return_argmax.then(|| {
            let kept: Vec<usize> = (0..n).filter(|&i| Some(y[i]) != o.ignore_index).collect();
            kept.iter().filter(|&&i| st.arg[i].1.is_some_and(|j| j as i64 == y[i])).count() as f64 / kept.len() as f64
        }),
        argmax: o.return_argmax.then(|| st.arg.iter().map(|a| a.1.map_or(-1, |j| j as i64)).collect()),
    };
    Ok((loss, grads))
}

/// [`linear_cross_entropy_vjp`] for 16-bit inputs (`half::bf16` or `half::f16`
/// `input` and `linear_weight`) with `f32` accumulation: every logit, every
/// statistic and every gradient sum in `f32`, the gradients rounded to `H` once at the
/// end (PyTorch on CPU rounds the logits and their gradient to the 16-bit type in
/// between). The loss and the log-sum-exps are `f32`; the options' bias, class weights
/// and the upstream gradient `g` are `f32` (widen a 16-bit bias first: exact). Class
/// indices only. `linear_weight` is widened a shard at a time (a quarter of the chunk
/// budget), never whole; `input` is widened once (`N·D` floats, beyond the budget) and
/// `d input` accumulated in `f32` (the same again). Both passes of the class-blocked
/// schedule run (four GEMMs with gradients). `wants` = no gradient gives the forward
/// alone (with the per-row outputs the options ask for).
///
/// # Errors
/// As [`linear_cross_entropy_vjp`]; [`Error::Shape`] for `g`.
///
/// ```
/// use half::bf16;
/// use ndarray::array;
/// use xent::ops::{linear_cross_entropy_half_vjp, LinearCeOptions, LinearWants};
/// let x = array![[bf16::from_f32(1.0), bf16::from_f32(0.0)]];
/// let w = array![[bf16::from_f32(0.0), bf16::from_f32(0.0)], [bf16::from_f32(0.0), bf16::from_f32(0.0)]];
/// let g = ndarray::arr0(1.0f32).into_dyn();
/// let r = linear_cross_entropy_half_vjp(&x.view(), &w.view(), &[1], &LinearCeOptions::default(), &g.view(), LinearWants::ALL, xent::Par::Seq).unwrap();
/// assert!((r.loss[[]] - 2f32.ln()).abs() < 1e-7);
/// // d W = (softmax − onehot)ᵀ · x = [[0.5, 0], [−0.5, 0]], exact in bf16
/// assert_eq!(r.linear_weight.unwrap()[[1, 0]], bf16::from_f32(-0.5));
/// ```
pub fn linear_cross_entropy_half_vjp<H: Half>(
    input: &ArrayView2<'_, H>,
    linear_weight: &ArrayView2<'_, H>,
    target: &[i64],
    o: &LinearCeOptions<'_, f32>,
    g: &ArrayViewD<'_, f32>,
    wants: LinearWants,
    par: Par,
) -> Result<LinearGrads<f32, H>> {
    let op = "linear_cross_entropy";
    let n = input.nrows();
    let none = wants == LinearWants { input: false, linear_weight: false, bias: false };
    let denom = check_dims(op, input.dim(), linear_weight.dim(), &LinearTarget::Indices(target), o)?;
    let per: Vec<f32>;
    let scale = match o.reduction {
        Reduction::None => {
            check_grad(op, g.shape(), &[n])?;
            per = g.iter().copied().collect();
            Scale::PerPosition(&per)
        }
        red => {
            check_grad(op, g.shape(), &[])?;
            let g0 = g.iter().next().copied().unwrap_or(0.0);
            Scale::Uniform(if red == Reduction::Sum { g0 } else { (f64::from(g0) / denom) as f32 })
        }
    };
    let up = (!none).then_some((scale, wants));
    let (loss, mut r) = run_half(op, input, linear_weight, target, o, up, par)?;
    r.loss = loss;
    Ok(r)
}

/// The engine: per-row losses, and the gradients when `up` is given.
fn run<T: Float>(
    op: &str,
    k: &Checked<'_, T>,
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
    up: Option<(Scale<'_, T>, LinearWants)>,
    par: Par,
) -> Result<(ArrayD<T>, LinearGrads<T>)> {
    let (n, d, c) = (k.n, k.d, k.c);
    if n.checked_mul(c).and_then(|v| v.checked_mul(size_of::<T>())).is_none_or(|b| b > isize::MAX as usize) {
        // Even block by block: no buffer of them could be addressed, and the work
        // would not end.
        return Err(Error::shape(op, format!("the {n} × {c} logits exceed the address space (more than isize::MAX bytes)")));
    }
    let e = Engine::new(k, o, par);
    let eps = e.eps;
    let probs = matches!(target, LinearTarget::Probs(_));
    let extras = o.lse_square_scale != T::zero() || o.return_argmax;
    if extras && probs {
        let what = if o.return_argmax { "return_argmax" } else { "lse_square_scale" };
        return Err(Error::param(op, what, "is supported with class-index targets only"));
    }
    let schedule = match (o.schedule, target) {
        (_, LinearTarget::Probs(_)) => Schedule::Rows,
        // the z-loss and the argmax live in the class-blocked passes (with whole rows
        // per block where they fit: the same three GEMMs)
        _ if extras => Schedule::Classes,
        (Schedule::Rows, _) => Schedule::Rows,
        (Schedule::Classes, _) => Schedule::Classes,
        (Schedule::Auto, _) => {
            let bufs = 1 + usize::from(up.is_some() && o.softcap.is_some());
            let r = o.chunk_bytes / c.saturating_mul(size_of::<T>() * bufs).max(1);
            if r >= n.min(MIN_BLOCK_ROWS) {
                Schedule::Rows
            } else {
                Schedule::Classes
            }
        }
    };
    let out = match (schedule, target) {
        (Schedule::Classes, LinearTarget::Indices(y)) => e.by_classes(op, y, up)?,
        _ => e.by_rows(op, target, up)?,
    };
    let mut loss = ArrayD::from_shape_vec(IxDyn(&[n]), out.loss).expect("n losses");
    if c == 0 && eps > T::zero() && !probs {
        // PyTorch's smoothing term `Σ_c(...)·(ε / C)` is 0·∞ without classes: NaN.
        loss.fill(T::nan());
    }
    let loss = reduce(loss, o.reduction, k.denom);
    let grads = LinearGrads {
        loss: ArrayD::zeros(IxDyn(&[0])),
        input: out.dx.map(|v| Array2::from_shape_vec((n, d), v).expect("n×d")),
        linear_weight: out.dw.map(|v| Array2::from_shape_vec((c, d), v).expect("c×d")),
        bias: out.db.map(|v| v.into_iter().map(T::of).collect()),
        lse: o.return_lse.then(|| Array1::from(out.lse)),
        accuracy: match (&out.argmax, target) {
            (Some(a), LinearTarget::Indices(y)) => {
                let kept: Vec<(i64, Option<usize>)> =
                    y.iter().zip(a).filter(|(&t, _)| Some(t) != o.ignore_index).map(|(&t, &j)| (t, j)).collect();
                let hits = kept.iter().filter(|(t, j)| j.is_some_and(|j| j as i64 == *t)).count();
                Some(hits as f64 / kept.len() as f64)
            }
            _ => None,
        },
        argmax: out.argmax.map(|a| a.into_iter().map(|j| j.map_or(-1, |j| j as i64)).collect()),
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

/// [`linear_cross_entropy`] with the per-row outputs its options ask for: the loss
/// and, with [`LinearCeOptions::return_lse`], every row's log-sum-exp, with
/// [`LinearCeOptions::return_argmax`], every row's argmax and the accuracy (no
/// gradients: see [`linear_cross_entropy_vjp`], which returns the same outputs).
///
/// # Errors
/// As [`linear_cross_entropy`].
///
/// ```
/// use ndarray::array;
/// use xent::ops::{linear_cross_entropy_outputs, LinearCeOptions, LinearTarget};
/// let x = array![[1.0f64, 0.0], [0.0, 1.0]];
/// let w = array![[2.0, 0.0], [0.0, 3.0], [0.0, 0.0]];
/// let o = LinearCeOptions { return_lse: true, return_argmax: true, lse_square_scale: 1e-4, ..Default::default() };
/// let r = linear_cross_entropy_outputs(&x.view(), &w.view(), &LinearTarget::Indices(&[0, 2]), &o, xent::Par::Seq).unwrap();
/// assert_eq!(r.argmax.unwrap(), array![0, 1]);
/// assert_eq!(r.accuracy, Some(0.5));
/// let lse = r.lse.unwrap();
/// assert!((lse[0] - (2f64.exp() + 2.0).ln()).abs() < 1e-15);
/// // mean of (lse − z_y + 1e-4·lse²) over the rows
/// let want = ((lse[0] - 2.0) + lse[1] + 1e-4 * (lse[0] * lse[0] + lse[1] * lse[1])) / 2.0;
/// assert!((r.loss[[]] - want).abs() < 1e-15);
/// ```
pub fn linear_cross_entropy_outputs<T: Float>(
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &LinearTarget<'_, T>,
    o: &LinearCeOptions<'_, T>,
    par: Par,
) -> Result<LinearGrads<T>> {
    let op = "linear_cross_entropy";
    let k = check(op, input, linear_weight, target, o)?;
    let (loss, mut r) = run(op, &k, target, o, None, par)?;
    r.loss = loss;
    Ok(r)
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
    use ndarray::{Array1, Array2, Axis};

    fn data(n: usize, d: usize, c: usize) -> (Array2<f64>, Array2<f64>, Vec<i64>) {
        let x = Array2::from_shape_fn((n, d), |(i, j)| (((i * 31 + j * 17) % 23) as f64 - 11.0) / 7.0);
        let w = Array2::from_shape_fn((c, d), |(i, j)| (((i * 13 + j * 29) % 19) as f64 - 9.0) / 5.0);
        let y = (0..n).map(|i| ((i * 7) % c) as i64).collect();
        (x, w, y)
    }

    /// Every schedule and chunk size (one row or class per block up to everything in
    /// one block; `d W` deferred or not) gives the result on the materialised logits.
    #[test]
    fn blocks_of_any_size_equal_cross_entropy_on_the_logits() {
        for (n, d, c) in [(13, 5, 11), (6, 9, 11), (7, 7, 5)] {
            let (x, w, mut y) = data(n, d, c);
            y[3] = -100;
            let bias: Vec<f64> = (0..c).map(|i| (i as f64 - 4.0) / 9.0).collect();
            let cw: Vec<f64> = (0..c).map(|i| 0.5 + (i % 3) as f64 / 2.0).collect();
            let z = (x.dot(&w.t()) + &Array1::from(bias.clone())).into_dyn();
            let yv = ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap();
            for (ls, weight) in [(0.0, None), (0.1, Some(&cw[..]))] {
                let so = SparseOptions { label_smoothing: ls, weight, ignore_index: Some(-100), reduction: Reduction::Mean };
                let want = cross_entropy_sparse(&z.view(), 1, &yv.view(), &so, Par::Seq).unwrap();
                let g = ndarray::arr0(1.0).into_dyn();
                let dz = cross_entropy_sparse_vjp(&z.view(), 1, &yv.view(), &so, &g.view(), Par::Seq).unwrap();
                let dz = dz.into_dimensionality::<ndarray::Ix2>().unwrap();
                for schedule in [Schedule::Rows, Schedule::Classes, Schedule::Auto] {
                    for chunk in [1, 8 * 3, 8 * c, 8 * c * 5, 1 << 20] {
                        for par in [Par::Seq, Par::Rayon(2)] {
                            let o = LinearCeOptions {
                                label_smoothing: ls,
                                weight,
                                bias: Some(&bias),
                                ignore_index: Some(-100),
                                chunk_bytes: chunk,
                                schedule,
                                ..Default::default()
                            };
                            let t = LinearTarget::Indices(&y);
                            let r = linear_cross_entropy_vjp(&x.view(), &w.view(), &t, &o, &g.view(), LinearWants::ALL, par).unwrap();
                            let case = format!("{n}×{d}×{c} ε {ls} {schedule:?} chunk {chunk} {par:?}");
                            assert!((r.loss[[]] - want[[]]).abs() < 1e-14, "{case}: {} vs {}", r.loss[[]], want[[]]);
                            let fwd = linear_cross_entropy(&x.view(), &w.view(), &t, &o, par).unwrap();
                            assert!((fwd[[]] - want[[]]).abs() < 1e-14, "{case}");
                            let close = |a: &Array2<f64>, b: &Array2<f64>| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-13);
                            assert!(close(&r.input.unwrap(), &dz.dot(&w)), "{case}");
                            assert!(close(&r.linear_weight.unwrap(), &dz.t().dot(&x)), "{case}");
                            let db = dz.sum_axis(Axis(0));
                            assert!(r.bias.unwrap().iter().zip(&db).all(|(p, q)| (p - q).abs() < 1e-13), "{case}");
                        }
                    }
                }
            }
        }
    }

    /// The soft cap's gradient against central finite differences.
    #[test]
    fn softcap_gradient_matches_finite_differences() {
        let (n, d, c) = (4, 3, 6);
        let (x, w, y) = data(n, d, c);
        for schedule in [Schedule::Rows, Schedule::Classes] {
            let o =
                LinearCeOptions { softcap: Some(2.5), reduction: Reduction::Sum, chunk_bytes: 8 * c * 2, schedule, ..Default::default() };
            let f = |x: &Array2<f64>| linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&y), &o, Par::Seq).unwrap()[[]];
            let g = ndarray::arr0(1.0).into_dyn();
            let r = linear_cross_entropy_vjp(&x.view(), &w.view(), &LinearTarget::Indices(&y), &o, &g.view(), LinearWants::ALL, Par::Seq)
                .unwrap();
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
    }

    /// z-loss with per-row upstream gradients (reduction none), class weights,
    /// smoothing and an ignored row, the returned log-sum-exp, argmax and accuracy:
    /// against the materialised logits and central finite differences, both schedules.
    #[test]
    fn z_loss_lse_and_argmax_against_the_materialised_logits() {
        let (n, d, c) = (6, 4, 9);
        let mut rng = crate::rng::SplitMix64::new(7);
        let x = Array2::from_shape_simple_fn((n, d), || rng.normal());
        let w = Array2::from_shape_simple_fn((c, d), || rng.normal());
        let mut y: Vec<i64> = (0..n).map(|i| ((i * 5) % c) as i64).collect();
        y[2] = -100;
        let cw: Vec<f64> = (0..c).map(|i| 0.5 + (i % 4) as f64 / 3.0).collect();
        let (eps, lam) = (0.1, 0.05);
        let up: Vec<f64> = (0..n).map(|i| 0.5 + i as f64 / 4.0).collect();
        let lse_of = |z: &Array2<f64>, i: usize| {
            let m = z.row(i).fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            m + z.row(i).iter().map(|v| (v - m).exp()).sum::<f64>().ln()
        };
        let per_row = |x: &Array2<f64>, w: &Array2<f64>| -> Vec<f64> {
            let z = x.dot(&w.t());
            (0..n)
                .map(|i| {
                    if y[i] == -100 {
                        return 0.0;
                    }
                    let (lse, yi) = (lse_of(&z, i), y[i] as usize);
                    let smooth: f64 = (0..c).map(|k| cw[k] * (lse - z[[i, k]])).sum();
                    (1.0 - eps) * cw[yi] * (lse - z[[i, yi]]) + eps / c as f64 * smooth + lam * lse * lse
                })
                .collect()
        };
        let z = x.dot(&w.t());
        let g = ndarray::Array1::from(up.clone()).into_dyn();
        for schedule in [Schedule::Rows, Schedule::Classes] {
            for chunk in [8 * c * 2, 1 << 20] {
                let o = LinearCeOptions {
                    weight: Some(&cw),
                    label_smoothing: eps,
                    ignore_index: Some(-100),
                    reduction: Reduction::None,
                    lse_square_scale: lam,
                    return_lse: true,
                    return_argmax: true,
                    chunk_bytes: chunk,
                    schedule,
                    ..Default::default()
                };
                let t = LinearTarget::Indices(&y);
                let r = linear_cross_entropy_vjp(&x.view(), &w.view(), &t, &o, &g.view(), LinearWants::ALL, Par::Seq).unwrap();
                let want = per_row(&x, &w);
                for i in 0..n {
                    assert!((r.loss[[i]] - want[i]).abs() < 1e-13, "{schedule:?} {chunk}: row {i}");
                    assert!((r.lse.as_ref().unwrap()[i] - lse_of(&z, i)).abs() < 1e-13);
                    let am = (0..c).fold(0, |b, k| if z[[i, k]] > z[[i, b]] { k } else { b });
                    assert_eq!(r.argmax.as_ref().unwrap()[i], am as i64);
                }
                let hits = (0..n).filter(|&i| y[i] != -100 && r.argmax.as_ref().unwrap()[i] == y[i]).count();
                assert_eq!(r.accuracy, Some(hits as f64 / (n - 1) as f64));
                // the forward alone gives the same outputs
                let f = linear_cross_entropy_outputs(&x.view(), &w.view(), &t, &o, Par::Seq).unwrap();
                assert_eq!(f.argmax, r.argmax);
                assert!(f.loss.iter().zip(&r.loss).all(|(a, b)| (a - b).abs() < 1e-14));
                let obj = |x: &Array2<f64>, w: &Array2<f64>| per_row(x, w).iter().zip(&up).map(|(l, u)| l * u).sum::<f64>();
                let h = 1e-6;
                let (dx, dw) = (r.input.as_ref().unwrap(), r.linear_weight.as_ref().unwrap());
                for i in 0..n {
                    for j in 0..d {
                        let (mut a, mut b) = (x.clone(), x.clone());
                        a[[i, j]] += h;
                        b[[i, j]] -= h;
                        let fd = (obj(&a, &w) - obj(&b, &w)) / (2.0 * h);
                        assert!((fd - dx[[i, j]]).abs() < 1e-7, "d input {fd} vs {}", dx[[i, j]]);
                    }
                }
                for k in 0..c {
                    for j in 0..d {
                        let (mut a, mut b) = (w.clone(), w.clone());
                        a[[k, j]] += h;
                        b[[k, j]] -= h;
                        let fd = (obj(&x, &a) - obj(&x, &b)) / (2.0 * h);
                        assert!((fd - dw[[k, j]]).abs() < 1e-7, "d linear_weight {fd} vs {}", dw[[k, j]]);
                    }
                }
            }
        }
        // the z-loss with a mean: the same divisor as the loss (Σ w[y] over kept rows)
        let o = LinearCeOptions { weight: Some(&cw), ignore_index: Some(-100), lse_square_scale: lam, ..Default::default() };
        let m = linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&y), &o, Par::Seq).unwrap();
        let per: Vec<f64> = (0..n)
            .filter(|&i| y[i] != -100)
            .map(|i| {
                let (lse, yi) = (lse_of(&z, i), y[i] as usize);
                cw[yi] * (lse - z[[i, yi]]) + lam * lse * lse
            })
            .collect();
        let div: f64 = (0..n).filter(|&i| y[i] != -100).map(|i| cw[y[i] as usize]).sum();
        assert!((m[[]] - per.iter().sum::<f64>() / div).abs() < 1e-13);
        // probabilities take neither option
        let p = vec![1.0 / c as f64; n * c];
        let e = linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Probs(&p), &o, Par::Seq).unwrap_err();
        assert!(e.to_string().contains("lse_square_scale"), "{e}");
    }

    /// 16-bit inputs with empty axes: no panic, PyTorch's values (an empty mean is NaN).
    #[test]
    fn half_inputs_with_empty_axes() {
        use half::bf16;
        let g = ndarray::arr0(1.0f32).into_dyn();
        let o = LinearCeOptions::default();
        for (n, d, c) in [(0, 3, 4), (2, 0, 3), (0, 0, 0)] {
            let x = Array2::<bf16>::from_elem((n, d), bf16::ONE);
            let w = Array2::<bf16>::from_elem((c, d), bf16::ONE);
            let y: Vec<i64> = (0..n as i64).map(|i| i % c.max(1) as i64).collect();
            let r = linear_cross_entropy_half_vjp(&x.view(), &w.view(), &y, &o, &g.view(), LinearWants::ALL, Par::Rayon(2)).unwrap();
            assert_eq!(r.input.unwrap().dim(), (n, d));
            assert_eq!(r.linear_weight.unwrap().dim(), (c, d));
            if n == 0 {
                assert!(r.loss[[]].is_nan());
            } else {
                // zero features: every logit 0, the loss ln C
                assert!((r.loss[[]] - (c as f32).ln()).abs() < 1e-6);
            }
        }
    }

    /// (2^61 classes) × 0 features holds no data, but its logits exceed the address space.
    #[test]
    fn a_vocabulary_too_large_to_allocate_is_an_error() {
        let x = Array2::<f32>::zeros((2, 0));
        let w = ndarray::ArrayView2::<f32>::from_shape((1 << 61, 0), &[]).unwrap();
        let e = linear_cross_entropy(&x.view(), &w, &LinearTarget::Indices(&[0, 1]), &LinearCeOptions::default(), Par::Seq).unwrap_err();
        assert!(e.to_string().contains("exceed the address space"), "{e}");
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

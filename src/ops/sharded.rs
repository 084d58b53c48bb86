//! Cross-entropy with the classes sharded across processes (vocabulary parallelism):
//! each process holds a contiguous block of the classes of every row, and the row
//! statistics are combined with a few collectives, so that the loss and the
//! gradients equal the single-process ones (PyTorch 2.15's `cross_entropy`
//! semantics) up to floating-point summation order.
//!
//! The collectives come from the caller through [`Collectives`]: `xent::mpi`
//! (feature `mpi`) implements it over an MPI communicator; [`Solo`] is the one-process
//! case. This module holds the numerics and knows nothing of MPI.
//!
//! # Formula
//! Process `r` holds the logits `x_{i,c}` for `c ∈ [o_r, o_r + C_r)` (and the class
//! weights `w_c` of that block). Per row `i`, with the target `y_i`:
//!
//! * `M_i = max_r m_{i,r}`, `m_{i,r}` the max of the row on process `r`
//!   (**all-reduce MAX**, one value per row);
//! * `S_i = Σ_r s_{i,r}·exp(m_{i,r} − M_i)`, `s_{i,r} = Σ_{c∈r} exp(x_{i,c} − m_{i,r})`;
//!   `D_i = M_i − x_{i,y_i}` (only the owner of `y_i` contributes); with label
//!   smoothing `Z_i = Σ_c w_c (M_i − x_{i,c})`; with class weights `w_{y_i}` (only the
//!   owner contributes) and, once, `Σ_c w_c`: all in **one all-reduce SUM** of a packed
//!   buffer of `2 + [ε > 0] + [weights]` values per row (+1);
//! * the loss, the same on every process, exactly the single-process kernel's
//!   formula: `ℓ_i = (1 − ε)·w_y·(D_i + ln S_i) + (ε/C)·(Z_i + ln S_i·Σw)`, 0 where
//!   `y_i = ignore_index`; the mean divides by `Σ w_{y_i}` over non-ignored rows
//!   (PyTorch's divisor; NaN when every row is ignored);
//! * the gradient, local: `∂ℓ/∂x_{i,c} = s_i·((1 − ε)·w_y·(p_{i,c} − [c = y_i]) + (ε/C)·(p_{i,c}·Σw − w_c))`,
//!   `p_{i,c} = exp((x_{i,c} − M_i) − ln S_i)`, on each process's own columns.
//!
//! This is PyTorch's label smoothing exactly (`Z_i` is a sum over all classes), not
//! Megatron-LM's vocabulary-parallel approximation, which smooths over each rank's
//! shard. Besides the two per-row collectives, each call starts with one all-gather
//! of 6 integers per process: the shard sizes (from which each process's class
//! offset `o_r` is derived, by rank order), the row counts, a fingerprint of the
//! targets and options (every process must pass the same ones; a mismatch is an
//! error on every process, never a hang) and whether each process's own checks
//! passed (a bad input on one process is an error on all of them, so no process
//! waits in a collective the others skip).
//!
//! # Exactness
//! Every per-row value is computed with the single-process kernels on the shard's
//! columns; only the order of the sums differs (`S_i`, `Z_i` summed per shard then
//! across shards, each shard's `s` rescaled by one `exp`). Results agree with
//! [`super::cross_entropy_sparse`] to a few units in the last place of the type
//! (float32 or float64) on any number of processes and any split of the classes
//! (`tests/mpi.rs` checks 1 to 4 processes against the single-process op).

use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD, IxDyn};

use super::categorical::{check_labels, reduce, SparseOptions};
use super::linear::{self, LinearCeOptions, LinearGrads, LinearWants};
use super::{check_grad, Reduction};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::shard::{self, ShardRows, ShardSlots};
use crate::kernels::{Par, Scale, SparseCe};

/// The collectives a class-sharded loss needs, over the processes that hold the
/// shards. Every process calls the same sequence of collectives with buffers of
/// equal length; an implementation blocks until all processes have called.
///
/// `xent::mpi` implements it for an MPI communicator (feature `mpi`); [`Solo`] is one
/// process on its own.
pub trait Collectives<T> {
    /// Number of processes.
    fn size(&self) -> usize;
    /// This process's rank, in `0..size()`; shards are ordered by rank.
    fn rank(&self) -> usize;
    /// Every process's `mine` (the same length on all), concatenated in rank order.
    fn all_gather(&self, mine: &[u64]) -> Vec<u64>;
    /// Element-wise maximum over the processes, in place.
    fn all_reduce_max(&self, buf: &mut [T]);
    /// Element-wise sum over the processes, in place.
    fn all_reduce_sum(&self, buf: &mut [T]);
}

/// One process holding every class: the collectives are the identity.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sharded, Solo, SparseOptions};
/// let x = array![[0.0f64, 0.0]];
/// let l = cross_entropy_sharded(&Solo, &x.view(), &[1], &SparseOptions::default(), xent::Par::Seq).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Solo;

impl<T> Collectives<T> for Solo {
    fn size(&self) -> usize {
        1
    }
    fn rank(&self) -> usize {
        0
    }
    fn all_gather(&self, mine: &[u64]) -> Vec<u64> {
        mine.to_vec()
    }
    fn all_reduce_max(&self, _buf: &mut [T]) {}
    fn all_reduce_sum(&self, _buf: &mut [T]) {}
}

/// The block of classes of one process: `offset..offset + len` of `classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassShard {
    /// The first class of this process's block.
    pub offset: usize,
    /// The number of classes in it.
    pub len: usize,
    /// The number of classes over all processes.
    pub classes: usize,
}

/// The even split of `classes` over `size` processes that `xent eval --shard-classes`
/// uses: the first `classes % size` processes get one class more.
///
/// ```
/// use xent::ops::{even_shard, ClassShard};
/// assert_eq!(even_shard(10, 4, 1), ClassShard { offset: 3, len: 3, classes: 10 });
/// assert_eq!(even_shard(10, 4, 3), ClassShard { offset: 8, len: 2, classes: 10 });
/// ```
pub fn even_shard(classes: usize, size: usize, rank: usize) -> ClassShard {
    let size = size.max(1);
    let (q, r) = (classes / size, classes % size);
    ClassShard { offset: rank * q + rank.min(r), len: q + usize::from(rank < r), classes }
}

/// FNV-1a over the values every process must agree on.
struct Fingerprint(u64);

impl Fingerprint {
    fn new() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, v: u64) {
        for b in v.to_le_bytes() {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// What [`prelude`] learns about the sharding.
struct Layout {
    shard: ClassShard,
    /// The largest shard (the fused op sizes its row blocks by it, so that every
    /// process runs the same number of blocks).
    max_len: usize,
}

/// The header exchange every sharded call starts with: one all-gather of
/// `[status, rows, shard size, features, fingerprint (2 halves)]` per process. Errors
/// are returned on every process alike (no process is left waiting in a collective).
fn prelude<T>(comm: &impl Collectives<T>, op: &str, local: Result<()>, rows: usize, len: usize, d: usize, fp: u64) -> Result<Layout> {
    const W: usize = 6;
    let mine = [u64::from(local.is_err()), rows as u64, len as u64, d as u64, fp >> 32, fp & 0xffff_ffff];
    let all = comm.all_gather(&mine);
    let size = comm.size();
    if all.len() != W * size {
        return Err(Error::shape(op, format!("the all-gather returned {} values for {size} processes", all.len())));
    }
    local?;
    let head = |r: usize| &all[r * W..(r + 1) * W];
    if let Some(r) = (0..size).find(|&r| head(r)[0] != 0) {
        return Err(Error::shape(op, format!("process {r} rejected its inputs (its own error says why)")));
    }
    for (j, what) in [(1, "rows"), (3, "features")] {
        if let Some(r) = (0..size).find(|&r| head(r)[j] != head(0)[j]) {
            return Err(Error::shape(
                op,
                format!("every process must hold the same {what}: process 0 has {}, process {r} has {}", head(0)[j], head(r)[j]),
            ));
        }
    }
    if let Some(r) = (0..size).find(|&r| head(r)[4..6] != head(0)[4..6]) {
        return Err(Error::shape(
            op,
            format!("process {r} was given other targets or options than process 0 (target, ignore_index, label_smoothing, reduction, upstream gradient and which optional inputs are given must be the same on every process)"),
        ));
    }
    let sizes: Vec<u64> = (0..size).map(|r| head(r)[2]).collect();
    let total = sizes.iter().try_fold(0u64, |a, &b| a.checked_add(b)).and_then(|t| usize::try_from(t).ok());
    let classes = total.ok_or_else(|| Error::shape(op, format!("the shards' sizes {sizes:?} overflow")))?;
    let offset = sizes[..comm.rank()].iter().sum::<u64>() as usize;
    let max_len = sizes.iter().copied().max().unwrap_or(0) as usize;
    Ok(Layout { shard: ClassShard { offset, len, classes }, max_len })
}

/// The fingerprint of a call's targets and options.
fn fingerprint<T: Float>(op_id: u64, labels: &[i64], o: &SparseOptions<'_, T>, flags: u64, g: Option<&ArrayViewD<'_, T>>) -> u64 {
    let mut f = Fingerprint::new();
    f.add(op_id);
    f.add(flags);
    f.add(o.label_smoothing.f64().to_bits());
    f.add(o.ignore_index.map_or(u64::MAX, |v| v as u64));
    f.add(o.reduction as u64);
    f.add(u64::from(o.weight.is_some()));
    f.add(labels.len() as u64);
    for &y in labels {
        f.add(y as u64);
    }
    if let Some(g) = g {
        for v in g.iter() {
            f.add(v.f64().to_bits());
        }
    }
    f.0
}

/// The per-row statistics of rows `x` (`labels.len() × shard.len`), combined over
/// the processes: the row maxima and the slots (see [`crate::kernels::shard`]), plus
/// `extra` values summed in the same all-reduce.
struct Combined<T> {
    m: Vec<T>,
    stats: Vec<T>,
}

#[allow(clippy::too_many_arguments)] // the shard, its rows, options, and the extra values to sum
fn combine<T: Float>(
    comm: &impl Collectives<T>,
    x: &[T],
    labels: &[i64],
    shard: ClassShard,
    p: &SparseCe<'_, T>,
    slots: ShardSlots,
    extra: &mut [T],
    par: Par,
) -> Combined<T> {
    let n = labels.len();
    let mut m_local = vec![T::zero(); n];
    let mut stats = vec![T::zero(); n * slots.k + extra.len()];
    let (rows, tail) = stats.split_at_mut(n * slots.k);
    shard::shard_local(x, shard.len, labels, shard.offset, p, slots, &mut m_local, rows, par);
    let mut m = m_local.clone();
    comm.all_reduce_max(&mut m);
    shard::shard_rebase(x, shard.len, labels, shard.offset, p, slots, &m_local, &mut m, rows, par);
    tail.copy_from_slice(extra);
    comm.all_reduce_sum(&mut stats);
    extra.copy_from_slice(&stats[n * slots.k..]);
    stats.truncate(n * slots.k);
    Combined { m, stats }
}

/// `Σ w_{y_i}` over non-ignored rows, in row order (PyTorch's `total_weight`).
fn total_weight<T: Float>(labels: &[i64], ignore: Option<i64>, wy: impl Fn(usize) -> T) -> f64 {
    labels.iter().enumerate().filter(|(_, &y)| Some(y) != ignore).map(|(i, _)| wy(i).f64()).sum()
}

/// The upstream scale of the gradient: per row for `none`, `g` for `sum`, `g / Σ w_y`
/// for `mean`.
fn upstream<T: Float>(g: &ArrayViewD<'_, T>, reduction: Reduction, denom: f64) -> (Option<Vec<T>>, T) {
    match reduction {
        Reduction::None => (Some(g.iter().copied().collect()), T::zero()),
        Reduction::Sum => (None, g.iter().next().copied().unwrap_or_else(T::zero)),
        Reduction::Mean => (None, T::of(g.iter().next().map_or(0.0, |v| v.f64()) / denom)),
    }
}

const OP_CE: u64 = 1;

fn ce_sharded_impl<T: Float>(
    comm: &impl Collectives<T>,
    logits: &ArrayView2<'_, T>,
    target: &[i64],
    o: &SparseOptions<'_, T>,
    g: Option<&ArrayViewD<'_, T>>,
    par: Par,
) -> Result<(ArrayD<T>, Option<Array2<T>>)> {
    let op = "cross_entropy";
    let (n, len) = logits.dim();
    let local = (|| {
        if target.len() != n {
            return Err(Error::shape(op, format!("Expected input batch_size ({n}) to match target batch_size ({}).", target.len())));
        }
        if let Some(w) = o.weight {
            if w.len() != len {
                return Err(Error::shape(op, format!("`weight` has {} elements but this process's shard has {len} classes", w.len())));
            }
        }
        if !(o.label_smoothing >= T::zero() && o.label_smoothing <= T::one()) {
            return Err(Error::param(op, "label_smoothing", format!("must be in [0, 1], got {}", o.label_smoothing)));
        }
        if let Some(g) = g {
            let want: &[usize] = if o.reduction == Reduction::None { &[n] } else { &[] };
            check_grad(op, g.shape(), want)?;
        }
        Ok(())
    })();
    let fp = fingerprint(OP_CE, target, o, 0, g);
    let lay = prelude(comm, op, local, n, len, 0, fp)?;
    let shard = lay.shard;
    let yv = ArrayViewD::from_shape(IxDyn(&[n]), target).expect("length checked");
    check_labels(op, "target", &yv, &[n, shard.classes], 1, o.ignore_index)?;
    let x = logits.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let eps = if o.label_smoothing > T::zero() { o.label_smoothing } else { T::zero() };
    let p = SparseCe { smoothing: eps, weight: o.weight, ignore_index: o.ignore_index };
    let weighted = o.weight.is_some();
    let slots = ShardSlots::new(eps > T::zero(), weighted);
    let mut extra = match o.weight {
        Some(w) => vec![w.iter().copied().sum::<T>()],
        None => vec![],
    };
    let cb = combine(comm, x, target, shard, &p, slots, &mut extra, par);
    let sum_w = extra.first().copied().unwrap_or_else(|| T::of(shard.classes as f64));
    let rows = ShardRows {
        c: len,
        labels: target,
        offset: shard.offset,
        p,
        slots,
        classes: shard.classes,
        sum_w,
        wy: None,
        m: &cb.m,
        stats: &cb.stats,
    };
    let mut loss = vec![T::zero(); n];
    shard::shard_loss(&rows, &mut loss);
    let mut loss = ArrayD::from_shape_vec(IxDyn(&[n]), loss).expect("n losses");
    if shard.classes == 0 && eps > T::zero() {
        // PyTorch's smoothing term `Σ_c(...)·(ε / C)` is 0·∞ without classes: NaN.
        loss.fill(T::nan());
    }
    let denom = total_weight(target, o.ignore_index, |i| rows.wy(i));
    let loss = reduce(loss, o.reduction, denom);
    let Some(g) = g else { return Ok((loss, None)) };
    let (per, s) = upstream(g, o.reduction, denom);
    let scale = per.as_deref().map_or(Scale::Uniform(s), Scale::PerPosition);
    let mut grad = vec![T::zero(); n * len];
    shard::shard_grad(x, &rows, scale, &mut grad, par);
    Ok((loss, Some(Array2::from_shape_vec((n, len), grad).expect("n × shard"))))
}

/// PyTorch's `cross_entropy` with class-index targets over logits whose classes are
/// sharded across the processes of `comm` (see the module docs for the formula and
/// the collectives): `logits` is this process's `(N, C_r)` block of the classes
/// (blocks in rank order, any sizes, empty allowed), `target` the `N` class indices
/// in `[0, C)` (`C = Σ_r C_r`; the same on every process), `o.weight` this process's
/// `C_r` class weights. The result, the same on every process: `(N)` losses for
/// [`Reduction::None`], else the 0-d sum or PyTorch's weighted mean.
///
/// Every process of `comm` must call this together, with the same targets and
/// options.
///
/// # Errors
/// On every process alike: [`Error::Shape`] for a target of the wrong length, a
/// weight not matching the shard, processes with different row counts, targets or
/// options; [`Error::Label`] for a target outside `[0, C)` that is not
/// `ignore_index`; [`Error::Param`] for a smoothing outside `[0, 1]`. A process whose
/// own input was bad returns that error; the others name it.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sharded, Solo, SparseOptions};
/// // one process holding all three classes equals cross_entropy
/// let x = array![[1.0f64, 2.0, 3.0]];
/// let o = SparseOptions { label_smoothing: 0.1, ..Default::default() };
/// let l = cross_entropy_sharded(&Solo, &x.view(), &[2], &o, xent::Par::Seq).unwrap();
/// let want = xent::ops::cross_entropy_sparse(&x.view().into_dyn(), 1, &array![2i64].into_dyn().view(), &o, xent::Par::Seq).unwrap();
/// assert!((l[[]] - want[[]]).abs() < 1e-15);
/// ```
pub fn cross_entropy_sharded<T: Float>(
    comm: &impl Collectives<T>,
    logits: &ArrayView2<'_, T>,
    target: &[i64],
    o: &SparseOptions<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    Ok(ce_sharded_impl(comm, logits, target, o, None, par)?.0)
}

/// [`cross_entropy_sharded`] and the gradient of its loss with respect to this
/// process's block of the logits, given the upstream gradient `g` (0-d for `mean` and
/// `sum`, `(N)` for `none`; the same on every process): `(loss, d logits)`, the
/// gradient `(N, C_r)`. The gradient needs no communication beyond the forward's.
///
/// # Errors
/// As [`cross_entropy_sharded`], plus [`Error::Shape`] for a `g` of the wrong shape.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sharded_vjp, Solo, SparseOptions};
/// let x = array![[0.0f64, 0.0]];
/// let g = ndarray::arr0(1.0).into_dyn();
/// let (l, dx) = cross_entropy_sharded_vjp(&Solo, &x.view(), &[1], &SparseOptions::default(), &g.view(), xent::Par::Seq).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(dx, array![[0.5, -0.5]]);
/// ```
pub fn cross_entropy_sharded_vjp<T: Float>(
    comm: &impl Collectives<T>,
    logits: &ArrayView2<'_, T>,
    target: &[i64],
    o: &SparseOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
    par: Par,
) -> Result<(ArrayD<T>, Array2<T>)> {
    let (l, d) = ce_sharded_impl(comm, logits, target, o, Some(g), par)?;
    Ok((l, d.expect("gradient asked for")))
}

/// What [`linear_cross_entropy_sharded_vjp`] does with `d input`: every process's
/// columns contribute to every row of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputGrad {
    /// Sum the processes' parts (one all-reduce SUM of `N·D` values): every process
    /// returns the whole `d input`.
    #[default]
    AllReduce,
    /// Return this process's part, `dZ_r·W_r`; the caller sums them (e.g. fused with
    /// its own all-reduce of the layers below).
    Partial,
}

const OP_LCE: u64 = 2;

#[allow(clippy::too_many_arguments)] // the fused op's inputs, options, upstream gradient and modes
fn lce_sharded_impl<T: Float>(
    comm: &impl Collectives<T>,
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &[i64],
    o: &LinearCeOptions<'_, T>,
    up: Option<(&ArrayViewD<'_, T>, LinearWants, InputGrad)>,
    par: Par,
) -> Result<LinearGrads<T>> {
    let op = "linear_cross_entropy";
    let (n, d) = input.dim();
    let (len, dw_) = linear_weight.dim();
    let so = SparseOptions { label_smoothing: o.label_smoothing, weight: o.weight, ignore_index: o.ignore_index, reduction: o.reduction };
    let local = (|| {
        if d != dw_ {
            return Err(Error::shape(
                op,
                format!("expected equal input and linear_weight last dimensions (in_features), got {d} and {dw_}, respectively"),
            ));
        }
        if target.len() != n {
            return Err(Error::shape(op, format!("Expected input batch_size ({n}) to match target batch_size ({}).", target.len())));
        }
        for (name, v) in [("linear_bias", o.bias), ("weight", o.weight)] {
            if let Some(v) = v {
                if v.len() != len {
                    return Err(Error::shape(op, format!("`{name}` has {} elements but this process's shard has {len} classes", v.len())));
                }
            }
        }
        let unsupported = [
            ("softcap", o.softcap.is_some()),
            ("lse_square_scale", o.lse_square_scale != T::zero()),
            ("return_lse", o.return_lse),
            ("return_argmax", o.return_argmax),
        ];
        if let Some((name, _)) = unsupported.into_iter().find(|&(_, set)| set) {
            return Err(Error::param(op, name, "is not supported with the classes sharded across processes"));
        }
        if !(o.label_smoothing >= T::zero() && o.label_smoothing <= T::one()) {
            return Err(Error::param(op, "label_smoothing", format!("must be in [0, 1], got {}", o.label_smoothing)));
        }
        if let Some((g, ..)) = up {
            let want: &[usize] = if o.reduction == Reduction::None { &[n] } else { &[] };
            check_grad(op, g.shape(), want)?;
        }
        Ok(())
    })();
    let flags = u64::from(o.bias.is_some())
        | up.map_or(0, |(_, w, ig)| {
            2 | u64::from(w.input) << 2
                | u64::from(w.linear_weight) << 3
                | u64::from(w.bias) << 4
                | u64::from(ig == InputGrad::Partial) << 5
        });
    let fp = fingerprint(OP_LCE, target, &so, flags ^ (o.chunk_bytes as u64) << 8, up.map(|u| u.0));
    let lay = prelude(comm, op, local, n, len, d, fp)?;
    let shard = lay.shard;
    let yv = ArrayViewD::from_shape(IxDyn(&[n]), target).expect("length checked");
    check_labels(op, "target", &yv, &[n, shard.classes], 1, o.ignore_index)?;
    let x = input.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let w = linear_weight.as_standard_layout();
    let w = w.as_slice().expect("standard layout");
    let eps = if o.label_smoothing > T::zero() { o.label_smoothing } else { T::zero() };
    let p = SparseCe { smoothing: eps, weight: o.weight, ignore_index: o.ignore_index };
    let slots = ShardSlots::new(eps > T::zero(), false);
    // With class weights: every row's `w_y` (from its owner) and `Σ w`, up front.
    let (wy, sum_w) = match o.weight {
        Some(wl) => {
            let mut v = vec![T::zero(); n + 1];
            for (i, &y) in target.iter().enumerate() {
                if let Some(j) = usize::try_from(y).ok().and_then(|y| y.checked_sub(shard.offset)).filter(|&j| j < len) {
                    v[i] = wl[j];
                }
            }
            v[n] = wl.iter().copied().sum();
            comm.all_reduce_sum(&mut v);
            let s = v[n];
            v.truncate(n);
            (Some(v), s)
        }
        None => (None, T::of(shard.classes as f64)),
    };
    let denom = total_weight(target, o.ignore_index, |i| wy.as_ref().map_or(T::one(), |v| v[i]));
    let (wants, ig) = up.map_or((LinearWants { input: false, linear_weight: false, bias: false }, InputGrad::AllReduce), |u| (u.1, u.2));
    let (per, s) = match up {
        Some((g, ..)) => upstream(g, o.reduction, denom),
        None => (None, T::zero()),
    };
    // Rows per block from the largest shard: every process runs the same blocks.
    let row_bytes = lay.max_len.saturating_mul(size_of::<T>()).max(1);
    let r = (o.chunk_bytes / row_bytes).clamp(1, n.max(1));
    let alloc = |what: &str, len: usize| -> Result<Vec<T>> {
        let mut v = Vec::new();
        v.try_reserve_exact(len).map_err(|_| Error::shape(op, format!("cannot allocate {len} elements for the {what}")))?;
        v.resize(len, T::zero());
        Ok(v)
    };
    let mut z = alloc("block of logits", r.saturating_mul(len))?;
    let mut loss = alloc("loss", n)?;
    let mut dx = if wants.input { Some(alloc("input gradient", n.saturating_mul(d))?) } else { None };
    let mut dw = if wants.linear_weight { Some(alloc("linear_weight gradient", len.saturating_mul(d))?) } else { None };
    let mut db = if wants.bias { Some(vec![0.0f64; len]) } else { None };
    let mut r0 = 0;
    while r0 < n {
        let r1 = (r0 + r).min(n);
        let rb = r1 - r0;
        let (zb, xb, yb) = (&mut z[..rb * len], &x[r0 * d..r1 * d], &target[r0..r1]);
        linear::shard_block_logits(xb, w, o.bias, rb, len, d, zb, par);
        let cb = combine(comm, zb, yb, shard, &p, slots, &mut [], par);
        let rows = ShardRows {
            c: len,
            labels: yb,
            offset: shard.offset,
            p,
            slots,
            classes: shard.classes,
            sum_w,
            wy: wy.as_ref().map(|v| &v[r0..r1]),
            m: &cb.m,
            stats: &cb.stats,
        };
        shard::shard_loss(&rows, &mut loss[r0..r1]);
        if up.is_some() {
            let scale = per.as_ref().map_or(Scale::Uniform(s), |v| Scale::PerPosition(&v[r0..r1]));
            let dxb = dx.as_mut().map(|v| &mut v[r0 * d..r1 * d]);
            linear::shard_block_backward(zb, xb, w, (rb, len, d), &rows, scale, dxb, dw.as_deref_mut(), db.as_deref_mut(), par);
        }
        r0 = r1;
    }
    if let (Some(dx), InputGrad::AllReduce) = (dx.as_mut(), ig) {
        comm.all_reduce_sum(dx);
    }
    let mut loss = ArrayD::from_shape_vec(IxDyn(&[n]), loss).expect("n losses");
    if shard.classes == 0 && eps > T::zero() {
        loss.fill(T::nan());
    }
    Ok(LinearGrads {
        loss: reduce(loss, o.reduction, denom),
        input: dx.map(|v| Array2::from_shape_vec((n, d), v).expect("n×d")),
        linear_weight: dw.map(|v| Array2::from_shape_vec((len, d), v).expect("c×d")),
        bias: db.map(|v| v.into_iter().map(T::of).collect()),
        lse: None,
        argmax: None,
        accuracy: None,
    })
}

/// PyTorch's `linear_cross_entropy` (class-index targets) with the classes sharded
/// across the processes of `comm`: `input` `(N, D)` the same on every process,
/// `linear_weight` this process's `(C_r, D)` block of rows (blocks in rank order),
/// `o.bias` and `o.weight` its `C_r` entries, `target` indices into all `C = Σ C_r`
/// classes. The logits `input · linear_weightᵀ + bias` are computed a block of rows
/// at a time within `o.chunk_bytes` (per process), and each block's row statistics
/// are combined as in [`cross_entropy_sharded`]. The loss is returned on every
/// process. `o.softcap`, `o.lse_square_scale`, `o.return_lse` and `o.return_argmax`
/// are not supported here (an error).
///
/// # Errors
/// As [`cross_entropy_sharded`], plus [`Error::Shape`] for mismatched `D` or a bias
/// not matching the shard, [`Error::Param`] for a soft cap.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{linear_cross_entropy, linear_cross_entropy_sharded, LinearCeOptions, LinearTarget, Solo};
/// let x = array![[1.0f64, 0.5]];
/// let w = array![[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let o = LinearCeOptions { label_smoothing: 0.1, ..Default::default() };
/// let l = linear_cross_entropy_sharded(&Solo, &x.view(), &w.view(), &[2], &o, xent::Par::Seq).unwrap();
/// let want = linear_cross_entropy(&x.view(), &w.view(), &LinearTarget::Indices(&[2]), &o, xent::Par::Seq).unwrap();
/// assert!((l[[]] - want[[]]).abs() < 1e-15);
/// ```
pub fn linear_cross_entropy_sharded<T: Float>(
    comm: &impl Collectives<T>,
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &[i64],
    o: &LinearCeOptions<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    Ok(lce_sharded_impl(comm, input, linear_weight, target, o, None, par)?.loss)
}

/// Loss and gradients of [`linear_cross_entropy_sharded`], given the upstream
/// gradient `g` of the loss (0-d for mean and sum, `(N)` for none; the same on every
/// process). `d linear_weight` `(C_r, D)` and `d bias` `(C_r)` are this process's
/// blocks, computed locally; `d input` `(N, D)` sums every process's part
/// (`dZ_r·W_r`): all-reduced here with [`InputGrad::AllReduce`], or left to the
/// caller with [`InputGrad::Partial`]. Only the gradients in `wants` are computed.
///
/// # Errors
/// As [`linear_cross_entropy_sharded`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{linear_cross_entropy_sharded_vjp, InputGrad, LinearCeOptions, LinearWants, Solo};
/// let x = array![[0.0f64, 0.0]];
/// let w = array![[1.0, 0.0], [0.0, 1.0]];
/// let g = ndarray::arr0(1.0).into_dyn();
/// let r = linear_cross_entropy_sharded_vjp(&Solo, &x.view(), &w.view(), &[1], &LinearCeOptions::default(), &g.view(), LinearWants::ALL, InputGrad::AllReduce, xent::Par::Seq).unwrap();
/// assert_eq!(r.input.unwrap(), array![[0.5, -0.5]]); // (softmax − onehot)·W
/// ```
#[allow(clippy::too_many_arguments)] // the fused op's inputs, options, upstream gradient and modes
pub fn linear_cross_entropy_sharded_vjp<T: Float>(
    comm: &impl Collectives<T>,
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &[i64],
    o: &LinearCeOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
    wants: LinearWants,
    input_grad: InputGrad,
    par: Par,
) -> Result<LinearGrads<T>> {
    lce_sharded_impl(comm, input, linear_weight, target, o, Some((g, wants, input_grad)), par)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ops::{cross_entropy_sparse, cross_entropy_sparse_vjp};
    use std::sync::{Arc, Barrier, Mutex};

    /// Processes simulated by threads: each collective deposits its buffer, waits for
    /// all, and reads the combined result.
    pub(crate) struct Threads {
        rank: usize,
        size: usize,
        barrier: Arc<Barrier>,
        slots: Arc<Mutex<Vec<Vec<f64>>>>,
    }

    impl Threads {
        pub(crate) fn spawn<R: Send + 'static>(size: usize, f: impl Fn(Threads) -> R + Send + Sync + 'static) -> Vec<R> {
            let barrier = Arc::new(Barrier::new(size));
            let slots = Arc::new(Mutex::new(vec![Vec::new(); size]));
            let f = Arc::new(f);
            let hs: Vec<_> = (0..size)
                .map(|rank| {
                    let t = Threads { rank, size, barrier: barrier.clone(), slots: slots.clone() };
                    let f = f.clone();
                    std::thread::spawn(move || f(t))
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        }

        fn exchange(&self, mine: Vec<f64>) -> Vec<Vec<f64>> {
            self.slots.lock().unwrap()[self.rank] = mine;
            self.barrier.wait();
            let all = self.slots.lock().unwrap().clone();
            self.barrier.wait();
            all
        }
    }

    impl<T: Float> Collectives<T> for Threads {
        fn size(&self) -> usize {
            self.size
        }
        fn rank(&self) -> usize {
            self.rank
        }
        fn all_gather(&self, mine: &[u64]) -> Vec<u64> {
            self.exchange(mine.iter().map(|&v| f64::from_bits(v)).collect()).concat().into_iter().map(f64::to_bits).collect()
        }
        fn all_reduce_max(&self, buf: &mut [T]) {
            let all = self.exchange(buf.iter().map(|v| v.f64()).collect());
            for (i, b) in buf.iter_mut().enumerate() {
                *b = T::of(all.iter().map(|v| v[i]).fold(f64::NEG_INFINITY, f64::max));
            }
        }
        fn all_reduce_sum(&self, buf: &mut [T]) {
            let all = self.exchange(buf.iter().map(|v| v.f64()).collect());
            for (i, b) in buf.iter_mut().enumerate() {
                // in rank order, rounded to T after each addition as MPI does
                *b = all.iter().fold(T::zero(), |s, v| s + T::of(v[i]));
            }
        }
    }

    fn data(n: usize, c: usize) -> (Array2<f64>, Vec<i64>, Vec<f64>) {
        let x = Array2::from_shape_fn((n, c), |(i, j)| (((i * 31 + j * 17) % 23) as f64 - 11.0) / 3.0);
        let y = (0..n).map(|i| if i % 5 == 3 { -100 } else { ((i * 7) % c) as i64 }).collect();
        let w = (0..c).map(|j| 0.5 + (j % 4) as f64 * 0.25).collect();
        (x, y, w)
    }

    /// Every split of 10 classes over 1–4 threads (even and lopsided, an empty shard)
    /// gives the single-process loss and gradient, for each option.
    #[test]
    fn sharded_equals_single_process() {
        let (n, c) = (7, 10);
        let splits: &[&[usize]] = &[&[10], &[3, 7], &[1, 0, 9], &[3, 3, 2, 2], &[1, 1, 1, 7]];
        for &split in splits {
            for (eps, weighted, red) in [
                (0.0, false, Reduction::Mean),
                (0.1, false, Reduction::Sum),
                (0.0, true, Reduction::Mean),
                (0.2, true, Reduction::None),
                (0.3, true, Reduction::Mean),
            ] {
                let (x, y, w) = data(n, c);
                let o =
                    SparseOptions { label_smoothing: eps, weight: weighted.then_some(&w[..]), ignore_index: Some(-100), reduction: red };
                let yv = ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap();
                let want = cross_entropy_sparse(&x.view().into_dyn(), 1, &yv.view(), &o, Par::Seq).unwrap();
                let g = if red == Reduction::None { ArrayD::from_elem(IxDyn(&[n]), 0.5) } else { ArrayD::from_elem(IxDyn(&[]), 0.5) };
                let dwant = cross_entropy_sparse_vjp(&x.view().into_dyn(), 1, &yv.view(), &o, &g.view(), Par::Seq).unwrap();
                let split = split.to_vec();
                let res = Threads::spawn(split.len(), move |t| {
                    let off: usize = split[..t.rank].iter().sum();
                    let len = split[t.rank];
                    let xs = x.slice(ndarray::s![.., off..off + len]).to_owned();
                    let ws = w[off..off + len].to_vec();
                    let o = SparseOptions {
                        label_smoothing: eps,
                        weight: weighted.then_some(&ws[..]),
                        ignore_index: Some(-100),
                        reduction: red,
                    };
                    let (l, d) = cross_entropy_sharded_vjp(&t, &xs.view(), &y, &o, &g.view(), Par::Seq).unwrap();
                    (off, l, d)
                });
                for (off, l, d) in res {
                    for (a, b) in l.iter().zip(want.iter()) {
                        assert!((a - b).abs() <= 1e-13 * b.abs().max(1.0), "{a} vs {b}");
                    }
                    for ((i, j), &v) in d.indexed_iter() {
                        let b = dwant[[i, off + j]];
                        assert!((v - b).abs() <= 1e-14, "{v} vs {b}");
                    }
                }
            }
        }
    }

    /// A bad input on one process is an error on every process (no hang).
    #[test]
    fn an_error_on_one_process_is_an_error_on_all() {
        let res = Threads::spawn(3, |t| {
            let x = Array2::<f64>::zeros((2, 2));
            let w = [1.0; 3];
            let o = SparseOptions { weight: Some(if t.rank == 1 { &w[..] } else { &w[..2] }), ..Default::default() };
            cross_entropy_sharded(&t, &x.view(), &[0, 1], &o, Par::Seq).unwrap_err().to_string()
        });
        assert!(res[1].contains("`weight` has 3 elements"), "{}", res[1]);
        assert!(res[0].contains("process 1 rejected its inputs"), "{}", res[0]);
        let res = Threads::spawn(2, |t| {
            let x = Array2::<f64>::zeros((2, 2));
            let y = if t.rank == 0 { [0, 1] } else { [1, 1] };
            cross_entropy_sharded(&t, &x.view(), &y, &SparseOptions::default(), Par::Seq).unwrap_err().to_string()
        });
        assert!(res.iter().all(|e| e.contains("other targets or options")), "{res:?}");
        let res = Threads::spawn(2, |t| {
            let x = Array2::<f64>::zeros((2, 2));
            cross_entropy_sharded(&t, &x.view(), &[0, 4], &SparseOptions::default(), Par::Seq).unwrap_err().to_string()
        });
        assert!(res.iter().all(|e| e.contains("label 4") && e.contains("[0, 4)")), "{res:?}");
    }
    /// The fused op on 1–4 threads (uneven splits, one class on a process, several
    /// row blocks) equals the single-process op: loss, d input (all-reduced, and the
    /// partials summed), d linear_weight and d bias blocks.
    #[test]
    fn linear_sharded_equals_single_process() {
        use crate::ops::{linear_cross_entropy_vjp, LinearTarget};
        let (n, d, c) = (9, 4, 10);
        let x = Array2::from_shape_fn((n, d), |(i, j)| (((i * 13 + j * 7) % 11) as f64 - 5.0) / 4.0);
        let lw = Array2::from_shape_fn((c, d), |(i, j)| (((i * 5 + j * 3) % 7) as f64 - 3.0) / 3.0);
        let b: Vec<f64> = (0..c).map(|j| (j as f64 - 4.0) / 8.0).collect();
        let cw: Vec<f64> = (0..c).map(|j| 0.5 + (j % 3) as f64 * 0.5).collect();
        let y: Vec<i64> = (0..n).map(|i| if i == 4 { -100 } else { ((i * 3) % c) as i64 }).collect();
        let splits: &[&[usize]] = &[&[10], &[9, 1], &[1, 0, 9], &[3, 3, 2, 2], &[1, 1, 7, 1]];
        for &split in splits {
            for (eps, weighted, bias, red, chunk) in [
                (0.0, false, false, Reduction::Mean, 1 << 20),
                (0.1, true, true, Reduction::Mean, 8 * 4),
                (0.2, false, true, Reduction::None, 8 * 3 * 10),
                (0.0, true, false, Reduction::Sum, 8),
            ] {
                let o = LinearCeOptions {
                    bias: bias.then_some(&b[..]),
                    weight: weighted.then_some(&cw[..]),
                    ignore_index: Some(-100),
                    label_smoothing: eps,
                    reduction: red,
                    chunk_bytes: chunk,
                    ..Default::default()
                };
                let g = if red == Reduction::None {
                    ArrayD::from_shape_fn(IxDyn(&[n]), |i| 0.5 + i[0] as f64)
                } else {
                    ArrayD::from_elem(IxDyn(&[]), 0.5)
                };
                let want =
                    linear_cross_entropy_vjp(&x.view(), &lw.view(), &LinearTarget::Indices(&y), &o, &g.view(), LinearWants::ALL, Par::Seq)
                        .unwrap();
                let (sp, x, lw, b, cw, y, g) = (split.to_vec(), x.clone(), lw.clone(), b.clone(), cw.clone(), y.clone(), g.clone());
                let res = Threads::spawn(sp.len(), move |t| {
                    let off: usize = sp[..t.rank].iter().sum();
                    let len = sp[t.rank];
                    let lws = lw.slice(ndarray::s![off..off + len, ..]).to_owned();
                    let o = LinearCeOptions {
                        bias: bias.then_some(&b[off..off + len]),
                        weight: weighted.then_some(&cw[off..off + len]),
                        ignore_index: Some(-100),
                        label_smoothing: eps,
                        reduction: red,
                        chunk_bytes: chunk,
                        ..Default::default()
                    };
                    let full = linear_cross_entropy_sharded_vjp(
                        &t,
                        &x.view(),
                        &lws.view(),
                        &y,
                        &o,
                        &g.view(),
                        LinearWants::ALL,
                        InputGrad::AllReduce,
                        Par::Seq,
                    )
                    .unwrap();
                    let part = linear_cross_entropy_sharded_vjp(
                        &t,
                        &x.view(),
                        &lws.view(),
                        &y,
                        &o,
                        &g.view(),
                        LinearWants { input: true, linear_weight: false, bias: false },
                        InputGrad::Partial,
                        Par::Seq,
                    )
                    .unwrap();
                    let fwd = linear_cross_entropy_sharded(&t, &x.view(), &lws.view(), &y, &o, Par::Seq).unwrap();
                    (off, full, part.input.unwrap(), fwd)
                });
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-13 * b.abs().max(1.0);
                let mut partial_sum = Array2::<f64>::zeros((n, d));
                for (off, r, part, fwd) in res {
                    assert!(
                        r.loss.iter().zip(want.loss.iter()).all(|(&a, &b)| close(a, b)),
                        "{split:?} {eps} {weighted} {red:?}: {} vs {}",
                        r.loss,
                        want.loss
                    );
                    assert!(fwd.iter().zip(want.loss.iter()).all(|(&a, &b)| close(a, b)));
                    assert!(r.input.unwrap().iter().zip(want.input.as_ref().unwrap()).all(|(&a, &b)| close(a, b)));
                    let wl = want.linear_weight.as_ref().unwrap();
                    for ((i, j), &v) in r.linear_weight.unwrap().indexed_iter() {
                        assert!(close(v, wl[[off + i, j]]), "dW[{}, {j}]: {v} vs {}", off + i, wl[[off + i, j]]);
                    }
                    let wb = want.bias.as_ref().unwrap();
                    for (i, &v) in r.bias.unwrap().iter().enumerate() {
                        assert!(close(v, wb[off + i]));
                    }
                    partial_sum += &part;
                }
                assert!(partial_sum.iter().zip(want.input.as_ref().unwrap()).all(|(&a, &b)| close(a, b)));
            }
        }
    }

    /// float32: the sharded loss and gradient are within a few ulps of the
    /// single-process ones.
    #[test]
    fn float32_within_rounding() {
        let (n, c) = (33, 1000);
        let x = Array2::from_shape_fn((n, c), |(i, j)| ((i * 7919 + j * 104_729) % 1009) as f32 / 50.0 - 10.0);
        let y: Vec<i64> = (0..n).map(|i| ((i * 37) % c) as i64).collect();
        let o = SparseOptions { label_smoothing: 0.1f32, ..Default::default() };
        let yv = ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap();
        let g = ndarray::arr0(1.0f32).into_dyn();
        let want = cross_entropy_sparse(&x.view().into_dyn(), 1, &yv.view(), &o, Par::Seq).unwrap()[[]];
        let dwant = cross_entropy_sparse_vjp(&x.view().into_dyn(), 1, &yv.view(), &o, &g.view(), Par::Seq).unwrap();
        let res = Threads::spawn(3, move |t| {
            let sh = even_shard(c, 3, t.rank);
            let xs = x.slice(ndarray::s![.., sh.offset..sh.offset + sh.len]).to_owned();
            let o = SparseOptions { label_smoothing: 0.1f32, ..Default::default() };
            let (l, d) = cross_entropy_sharded_vjp(&t, &xs.view(), &y, &o, &g.view(), Par::Seq).unwrap();
            (sh.offset, l[[]], d)
        });
        for (off, l, d) in res {
            assert!((l - want).abs() <= 4.0 * f32::EPSILON * want.abs(), "{l} vs {want}");
            for ((i, j), &v) in d.indexed_iter() {
                let b = dwant[[i, off + j]];
                assert!((v - b).abs() <= 4.0 * f32::EPSILON * b.abs() + 1e-9, "{v} vs {b}");
            }
        }
    }
}

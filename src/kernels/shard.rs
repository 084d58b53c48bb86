//! Rows of a class-sharded sparse cross-entropy: each process holds a contiguous
//! block of the classes of every row (`x` is `rows × c`, the classes
//! `offset..offset + c` of `classes`), and the row statistics are combined across
//! processes by the caller ([`crate::ops::cross_entropy_sharded`]) between these
//! passes:
//!
//! 1. [`shard_local`]: per row the shard's max `m_r` and, in the row's slots of
//!    `stats` ([`ShardSlots`]), `s_r = Σ exp(x − m_r)`, the target logit `x_y` (when
//!    `y` falls in the shard), `Σ w_c (m_r − x_c)` (with smoothing) and `w_y`;
//! 2. the caller's all-reduce MAX of the maxima gives the row max `M`;
//! 3. [`shard_rebase`]: the slots made relative to `M`: `s_r·exp(m_r − M)`,
//!    `M − x_y`, `Σ w_c (M − x_c)`; after the caller's all-reduce SUM they hold the
//!    row's `S = Σ_all exp(x − M)`, `M − x_y`, `Σ_all w_c (M − x_c)` and `w_y`;
//! 4. [`shard_loss`] (the same on every process) and [`shard_grad`] /
//!    [`shard_grad_in_place`] (each process's own columns), with the formulas of the
//!    single-process kernels (`sparse_loss_row`, the sparse gradient row).

use rayon::prelude::*;

use super::table::{self, Grad, Wr};
use super::{Par, Scale, SparseCe, GRAIN};
use crate::float::Float;

/// Where each per-row value sits in a row of the statistics buffer (`k` values per
/// row): slot 0 the sum of exps, slot 1 the target term, then the optional ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShardSlots {
    /// Values per row.
    pub k: usize,
    /// Slot of `Σ w_c (M − x_c)` (label smoothing only).
    pub smooth: Option<usize>,
    /// Slot of the target's class weight `w_y` (class weights whose `w_y` the caller
    /// does not already know).
    pub wy: Option<usize>,
}

impl ShardSlots {
    /// The slots for a loss with (or without) smoothing and per-row `w_y` to combine.
    pub(crate) fn new(smoothing: bool, wy: bool) -> ShardSlots {
        let smooth = smoothing.then_some(2);
        let wy = wy.then_some(2 + usize::from(smoothing));
        ShardSlots { k: 2 + usize::from(smoothing) + usize::from(wy.is_some()), smooth, wy }
    }
}

/// The shard's column of label `y`, if it has it.
#[inline]
fn local(y: i64, offset: usize, c: usize) -> Option<usize> {
    let y = usize::try_from(y).ok()?.checked_sub(offset)?;
    (y < c).then_some(y)
}

/// Run `f(row index, row, out row, per-row value)` over the rows, in parallel when
/// `par` allows and the shard is large enough.
fn rows<X: Sync, S: Send, R: Send>(
    x: &[X],
    c: usize,
    st: &mut [S],
    k: usize,
    ret: &mut [R],
    par: Par,
    f: impl Fn(usize, &[X], &mut [S], &mut R) + Sync,
) {
    let n = ret.len();
    let tasks = par.tasks();
    if tasks <= 1 || c == 0 || k == 0 || n.saturating_mul(c) < 2 * GRAIN {
        for (i, r) in ret.iter_mut().enumerate() {
            f(i, &x[i * c..(i + 1) * c], &mut st[i * k..(i + 1) * k], r);
        }
        return;
    }
    let min = (n / tasks).max(1);
    x.par_chunks(c)
        .zip(st.par_chunks_mut(k))
        .zip(ret.par_iter_mut())
        .enumerate()
        .with_min_len(min)
        .for_each(|(i, ((xr, sr), r))| f(i, xr, sr, r));
}

/// Pass 1 over the shard: `max[i]` = the max of row `i`'s non-NaN entries (`−inf`
/// for an empty shard), and the row's slots: `s = Σ exp(x − max)`, `x_y` where the
/// label falls in the shard (else 0), `Σ w_c (max − x_c)`, `w_y` (else 0). Ignored
/// rows get their max and zero slots.
#[allow(clippy::too_many_arguments)] // the shard's geometry, labels, options and outputs
pub(crate) fn shard_local<T: Float>(
    x: &[T],
    c: usize,
    labels: &[i64],
    offset: usize,
    p: &SparseCe<'_, T>,
    slots: ShardSlots,
    max: &mut [T],
    stats: &mut [T],
    par: Par,
) {
    assert_eq!(x.len(), labels.len() * c, "xent kernel: shard of {} elements for {} rows of {c}", x.len(), labels.len());
    assert_eq!(stats.len(), labels.len() * slots.k, "xent kernel: shard statistics");
    let k = table::kernels::<T>();
    rows(x, c, stats, slots.k, max, par, |i, row, st, m| {
        st.fill(T::zero());
        let (mr, s) = (k.max_sum_exp)(row);
        *m = mr;
        if p.ignore_index == Some(labels[i]) {
            return;
        }
        st[0] = s;
        if let Some(j) = slots.smooth {
            st[j] = (k.smooth_sum)(row, p.weight, mr);
        }
        if let Some(y) = local(labels[i], offset, c) {
            st[1] = row[y];
            if let Some(j) = slots.wy {
                st[j] = p.weight.map_or(T::one(), |w| w[y]);
            }
        }
    });
}

/// Pass 2: the slots of [`shard_local`] made relative to the global row max
/// `m[i]`, given the shard's own maxima `m_local`: `s·exp(m_r − M)`, `M − x_y`,
/// `Σ w_c (M − x_c)` (from `Σ w_c (m_r − x_c) + (M − m_r)·Σ_shard w`, or summed
/// afresh when `m_r` is not finite).
#[allow(clippy::too_many_arguments)] // the shard's geometry, labels, options and buffers
pub(crate) fn shard_rebase<T: Float>(
    x: &[T],
    c: usize,
    labels: &[i64],
    offset: usize,
    p: &SparseCe<'_, T>,
    slots: ShardSlots,
    m_local: &[T],
    m: &mut [T],
    stats: &mut [T],
    par: Par,
) {
    let k = table::kernels::<T>();
    let wsum: T = p.weight.map_or(T::of(c as f64), |w| w.iter().copied().sum());
    rows(x, c, stats, slots.k, m, par, |i, row, st, mg| {
        if p.ignore_index == Some(labels[i]) {
            return;
        }
        let (mr, mg) = (m_local[i], *mg);
        st[0] = if mr == T::neg_infinity() {
            if st[0].is_nan() {
                T::nan()
            } else {
                T::zero()
            }
        } else {
            st[0] * (mr - mg).exp()
        };
        if let Some(j) = slots.smooth {
            st[j] = if mr.is_finite() { st[j] + (mg - mr) * wsum } else { (k.smooth_sum)(row, p.weight, mg) };
        }
        if local(labels[i], offset, c).is_some() {
            st[1] = mg - st[1];
        }
    });
}

/// A block of rows of one shard with their statistics combined over the processes:
/// what [`shard_loss`] and the gradient passes read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShardRows<'a, T> {
    /// The shard's classes per row.
    pub c: usize,
    /// The rows' labels (indices into all `classes`).
    pub labels: &'a [i64],
    /// The shard's first class.
    pub offset: usize,
    /// Smoothing, this shard's class weights, ignore index.
    pub p: SparseCe<'a, T>,
    /// The layout of `stats`.
    pub slots: ShardSlots,
    /// The classes over all processes.
    pub classes: usize,
    /// `Σ_c w_c` over all classes (`classes` without weights).
    pub sum_w: T,
    /// `w_y` per row when it is not in a slot (`None` and no slot: 1).
    pub wy: Option<&'a [T]>,
    /// The global row maxima.
    pub m: &'a [T],
    /// The slots, summed over the processes.
    pub stats: &'a [T],
}

impl<T: Float> ShardRows<'_, T> {
    /// The target's class weight of row `i` (1 without weights).
    pub(crate) fn wy(&self, i: usize) -> T {
        self.slots.wy.map(|j| self.stats[i * self.slots.k + j]).or(self.wy.map(|v| v[i])).unwrap_or_else(T::one)
    }

    /// The gradient terms of row `i` on this shard, or `None` for an ignored row:
    /// `grad_k = s·((1 − ε)·w_y·(p_k − [k = y]) + (ε/C)·(p_k·Σw − w_k))`,
    /// `p_k = exp((x_k − M) − ln S)`.
    fn terms(&self, i: usize, scale: Scale<'_, T>) -> Option<Grad<'_, T>> {
        if self.p.ignore_index == Some(self.labels[i]) {
            return None;
        }
        let w = self.wy(i);
        let (eps, inv_c, s) = (self.p.smoothing, T::one() / T::of(self.classes as f64), scale.at(i));
        Some(Grad {
            m: self.m[i],
            l: self.stats[i * self.slots.k].ln(),
            a: s * ((T::one() - eps) * w + eps * inv_c * self.sum_w),
            b_all: s * eps * inv_c,
            w: self.p.weight,
            y: local(self.labels[i], self.offset, self.c),
            b_y: s * (T::one() - eps) * w,
        })
    }
}

/// Pass 3, the same on every process: the loss of each row from the combined slots,
/// the formula of the single-process kernel:
/// `(1 − ε)·w_y·((M − x_y) + ln S) + (ε/C)·(Σ w_c (M − x_c) + ln S·Σw)`, 0 for
/// ignored rows.
pub(crate) fn shard_loss<T: Float>(r: &ShardRows<'_, T>, loss: &mut [T]) {
    let inv_c = T::one() / T::of(r.classes as f64);
    for (i, l) in loss.iter_mut().enumerate() {
        if r.p.ignore_index == Some(r.labels[i]) {
            *l = T::zero();
            continue;
        }
        let st = &r.stats[i * r.slots.k..(i + 1) * r.slots.k];
        let ls = st[0].ln();
        let v = r.wy(i) * (st[1] + ls);
        *l = match r.slots.smooth {
            Some(j) => (T::one() - r.p.smoothing) * v + r.p.smoothing * inv_c * (st[j] + ls * r.sum_w),
            None => v,
        };
    }
}

/// Pass 4: this shard's columns of the gradient, `scale` times the gradient of
/// [`shard_loss`] (zero rows where ignored), into `grad` (`rows × c`).
pub(crate) fn shard_grad<T: Float>(x: &[T], r: &ShardRows<'_, T>, scale: Scale<'_, T>, grad: &mut [T], par: Par) {
    assert_eq!(grad.len(), x.len(), "xent kernel: shard gradient");
    let k = table::kernels::<T>();
    let mut unit = vec![(); r.labels.len()];
    rows(x, r.c, grad, r.c, &mut unit, par, |i, row, out, _| match r.terms(i, scale) {
        Some(t) => (k.sparse_grad)(row, out, &t, Wr::nt(false)),
        None => out.fill(T::zero()),
    });
}

/// [`shard_grad`] written over the shard's logits `x`.
pub(crate) fn shard_grad_in_place<T: Float>(x: &mut [T], r: &ShardRows<'_, T>, scale: Scale<'_, T>, par: Par) {
    assert_eq!(x.len(), r.labels.len() * r.c, "xent kernel: shard gradient");
    if r.c == 0 {
        return;
    }
    let k = table::kernels::<T>();
    let f = |i: usize, row: &mut [T]| match r.terms(i, scale) {
        Some(t) => (k.sparse_grad_in_place)(row, &t),
        None => row.fill(T::zero()),
    };
    if par.tasks() <= 1 || x.len() < 2 * GRAIN {
        x.chunks_exact_mut(r.c).enumerate().for_each(|(i, row)| f(i, row));
    } else {
        let min = (r.labels.len() / par.tasks()).max(1);
        x.par_chunks_exact_mut(r.c).enumerate().with_min_len(min).for_each(|(i, row)| f(i, row));
    }
}

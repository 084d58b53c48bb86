//! Few, very wide rows (class axis last, `C ≥ WIDE_MIN`, fewer rows than twice the
//! tasks): each row is cut into chunks that run on different threads.
//!
//! Phase 1 computes every chunk's `(m_j, s_j)` (max of its non-NaN entries and
//! `Σ exp(x − m_j)`) in parallel; the states of a row merge associatively,
//! `m = max_j m_j`, `s = Σ_j s_j·exp(m_j − m)` (the online normalizer of Milakov &
//! Gimelshein, the same merge a vocabulary-parallel loss does across machines);
//! phase 2 writes every chunk's output in parallel from the row's `(m, s)`. Rows
//! split this way cost two parallel dispatches per call instead of one row per
//! thread, which leaves a thread idle whenever there are fewer rows than threads.

use rayon::prelude::*;

use super::table::{Grad, RowKernels, Wr};
use super::{is_ignored, lse_from, sparse_coeffs, Geom, Par, Scale, SparseCe, SparseConsts};
use crate::float::Float;

/// The fewest classes a row needs before it is split across threads.
pub const WIDE_MIN: usize = 1 << 17;

/// The fewest elements of a chunk (a multiple of 64 bytes for `f32` and `f64`).
const CHUNK_MIN: usize = 1 << 14;

/// How rows are cut: `per_row` chunks of `chunk` classes (the last one shorter).
#[derive(Debug, Clone, Copy)]
pub(super) struct Plan {
    rows: usize,
    c: usize,
    per_row: usize,
    chunk: usize,
}

impl Plan {
    /// Whether `g` under `par` is split this way, and how.
    pub(super) fn new(g: Geom, par: Par) -> Option<Plan> {
        let tasks = par.tasks();
        if tasks < 2 || g.inner != 1 || g.classes < WIDE_MIN || g.outer == 0 || g.outer >= 2 * tasks {
            return None;
        }
        // about two chunks per task over all rows, for the work stealing to balance
        let per_row = (2 * tasks).div_ceil(g.outer).min(g.classes / CHUNK_MIN).max(1);
        let chunk = g.classes.div_ceil(per_row).div_ceil(CHUNK_MIN) * CHUNK_MIN;
        let per_row = g.classes.div_ceil(chunk);
        (per_row > 1).then_some(Plan { rows: g.outer, c: g.classes, per_row, chunk })
    }

    /// The class range of chunk `j`.
    fn range(&self, j: usize) -> std::ops::Range<usize> {
        j * self.chunk..((j + 1) * self.chunk).min(self.c)
    }

    /// Every chunk of `x` (row-major), with its row and chunk index.
    fn chunks<'a, T>(&self, x: &'a [T]) -> Vec<(usize, usize, &'a [T])> {
        x.chunks(self.c)
            .take(self.rows)
            .enumerate()
            .flat_map(|(r, row)| (0..self.per_row).map(move |j| (r, j, &row[self.range(j)])))
            .collect()
    }

    /// Every chunk of `x`, mutable.
    fn chunks_mut<'a, T>(&self, x: &'a mut [T]) -> Vec<(usize, usize, &'a mut [T])> {
        let mut v = Vec::with_capacity(self.rows * self.per_row);
        for (r, row) in x.chunks_mut(self.c).take(self.rows).enumerate() {
            let mut rest = row;
            for j in 0..self.per_row {
                let (head, tail) = rest.split_at_mut(self.range(j).len());
                v.push((r, j, head));
                rest = tail;
            }
        }
        v
    }

    /// Phase 1: every row's merged `(m, s)`.
    fn stats<T: Float>(&self, k: &RowKernels<T>, x: &[T]) -> Vec<(T, T)> {
        let parts: Vec<(T, T)> = self.chunks(x).into_par_iter().map(|(_, _, c)| (k.max_sum_exp)(c)).collect();
        parts.chunks(self.per_row).map(merge).collect()
    }
}

/// Merge chunk states `(m_j, s_j)` into the row's `(m, s)`: `m = max m_j`,
/// `s = Σ s_j·exp(m_j − m)`. A chunk whose max is `−inf` contributes 0, or NaN if its
/// sum is NaN (a NaN hiding among `−inf`s); a NaN max (the scalar kernels return
/// one for a row holding NaN) makes the row NaN.
fn merge<T: Float>(parts: &[(T, T)]) -> (T, T) {
    let ninf = T::neg_infinity();
    let mut m = ninf;
    for &(mj, _) in parts {
        if mj.is_nan() {
            return (mj, mj);
        }
        if mj > m {
            m = mj;
        }
    }
    let mut s = T::zero();
    for &(mj, sj) in parts {
        s += if mj == ninf { sj * T::zero() } else { sj * (mj - m).exp() };
    }
    (m, s)
}

/// Softmax (`log: false`) or log-softmax over rows split across threads.
pub(super) fn softmax<T: Float>(plan: &Plan, k: &RowKernels<T>, x: &[T], out: &mut [T], log: bool, nt: bool) {
    let st = plan.stats(k, x);
    plan.chunks(x).into_par_iter().zip(plan.chunks_mut(out)).for_each(|((r, _, xc), (_, _, oc))| {
        let (m, s) = st[r];
        if log {
            let l = if m == T::neg_infinity() { T::nan() } else { s.ln() };
            (k.sub2)(xc, oc, m, l, Wr::nt(nt));
        } else {
            (k.exp_scale)(xc, oc, m, s.recip(), Wr::nt(nt));
        }
    });
}

/// Log-sum-exp of rows split across threads.
pub(super) fn logsumexp<T: Float>(plan: &Plan, k: &RowKernels<T>, x: &[T], lse: &mut [T]) {
    for (l, (m, s)) in lse.iter_mut().zip(plan.stats(k, x)) {
        *l = lse_from(m, s, plan.c);
    }
}

/// The sparse cross-entropy problem of one call.
pub(super) struct Ce<'a, 'p, T> {
    pub(super) labels: &'a [i64],
    pub(super) p: &'a SparseCe<'p, T>,
    pub(super) cst: &'a SparseConsts<T>,
    pub(super) scale: Option<Scale<'a, T>>,
}

impl<T: Float> Ce<'_, '_, T> {
    fn label(&self, r: usize) -> Option<usize> {
        (!is_ignored(self.labels[r], self.p)).then_some(self.labels[r] as usize)
    }

    /// The gradient terms of chunk `j` of row `r` given its `(m, ln s)`; `None` for
    /// an ignored row.
    fn terms(&self, plan: &Plan, r: usize, j: usize, m: T, l: T) -> Option<Grad<'_, T>> {
        let y = self.label(r)?;
        let s = self.scale.as_ref().expect("scale").at(r);
        let (a, b_all, b_y) = sparse_coeffs(self.p, self.cst.sum_w, self.cst.inv_c, y, s);
        let range = plan.range(j);
        let yj = range.contains(&y).then(|| y - range.start);
        Some(Grad { m, l, a, b_all, w: self.p.weight.map(|w| &w[range]), y: yj, b_y })
    }
}

/// Sparse CE forward (and, with `grad`, backward) over rows split across threads.
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(super) fn ce<T: Float>(
    plan: &Plan,
    k: &RowKernels<T>,
    x: &[T],
    ce: &Ce<'_, '_, T>,
    loss: &mut [T],
    lse: &mut [T],
    grad: Option<&mut [T]>,
    nt: bool,
) {
    let st = plan.stats(k, x);
    ce_losses(plan, k, x, ce, &st, loss, lse);
    if let Some(grad) = grad {
        plan.chunks(x).into_par_iter().zip(plan.chunks_mut(grad)).for_each(|((r, j, xc), (_, _, gc))| {
            let (m, s) = st[r];
            match ce.terms(plan, r, j, m, s.ln()) {
                Some(t) => (k.sparse_grad)(xc, gc, &t, Wr::nt(nt)),
                None => gc.fill(T::zero()),
            }
        });
    }
}

/// Sparse CE forward + backward written over the logits, rows split across threads.
pub(super) fn ce_in_place<T: Float>(plan: &Plan, k: &RowKernels<T>, x: &mut [T], ce: &Ce<'_, '_, T>, loss: &mut [T], lse: &mut [T]) {
    let st = plan.stats(k, x);
    ce_losses(plan, k, x, ce, &st, loss, lse);
    plan.chunks_mut(x).into_par_iter().for_each(|(r, j, xc)| {
        let (m, s) = st[r];
        match ce.terms(plan, r, j, m, s.ln()) {
            Some(t) => (k.sparse_grad_in_place)(xc, &t),
            None => xc.fill(T::zero()),
        }
    });
}

/// Loss and lse of every row from the merged states (the smoothing sum, if any, in
/// parallel over the chunks).
fn ce_losses<T: Float>(plan: &Plan, k: &RowKernels<T>, x: &[T], ce: &Ce<'_, '_, T>, st: &[(T, T)], loss: &mut [T], lse: &mut [T]) {
    let (p, cst) = (ce.p, ce.cst);
    let smooth: Vec<T> = if p.smoothing > T::zero() {
        let parts: Vec<T> =
            plan.chunks(x).into_par_iter().map(|(r, j, xc)| (k.smooth_sum)(xc, p.weight.map(|w| &w[plan.range(j)]), st[r].0)).collect();
        parts.chunks(plan.per_row).map(|v| v.iter().copied().sum()).collect()
    } else {
        vec![T::zero(); plan.rows]
    };
    for r in 0..plan.rows {
        let (m, s) = st[r];
        lse[r] = lse_from(m, s, plan.c);
        loss[r] = match ce.label(r) {
            None => T::zero(),
            Some(y) => {
                let ls = s.ln();
                let wy = p.weight.map_or(T::one(), |w| w[y]);
                let v = wy * ((m - x[r * plan.c + y]) + ls);
                if p.smoothing > T::zero() {
                    (T::one() - p.smoothing) * v + p.smoothing * cst.inv_c * (smooth[r] + ls * cst.sum_w)
                } else {
                    v
                }
            }
        };
    }
}

/// Sparse CE backward (given the forward's lse) over rows split across threads.
pub(super) fn ce_bwd<T: Float>(plan: &Plan, k: &RowKernels<T>, x: &[T], ce: &Ce<'_, '_, T>, lse: &[T], grad: &mut [T], nt: bool) {
    plan.chunks(x).into_par_iter().zip(plan.chunks_mut(grad)).for_each(|((r, j, xc), (_, _, gc))| {
        match ce.terms(plan, r, j, lse[r], T::zero()) {
            Some(t) => (k.sparse_grad)(xc, gc, &t, Wr::nt(nt)),
            None => gc.fill(T::zero()),
        }
    });
}

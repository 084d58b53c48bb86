//! The few-classes path (`C ≤ 16`, class axis last): whole blocks of rows through the
//! lane-per-row kernels of [`super::simd::small`], the leftover rows of each piece
//! (fewer than a vector's worth) through the ordinary row closures. This replaces a
//! per-row function call and horizontal reductions (about 25 ns a row) by a few
//! vector instructions per row.

use super::simd::small::{self, MAX_C};
use super::table::{CeGradRows, CeParams, Fix, Layout, RowKernels, SmallKernels};
use super::{is_ignored, sparse_coeffs, Bufs, BufsMut, Geom, Row, RowMut, Scale, SparseCe, SparseConsts};
use super::{Half, HalfKernels};
use crate::float::Float;

/// Rows per block: the per-row scratch arrays live on the stack, and a block's logits
/// (at most 16 KiB of `f32`) stay in L1 between the stats and the output pass.
const BLOCK_ROWS: usize = 256;

/// The few-classes kernels, when `g` qualifies and the ISA has them.
pub(super) fn small_kernels<T: Float>(k: &RowKernels<T>, g: Geom) -> Option<&'static SmallKernels<T>> {
    let sk = k.small?;
    (g.inner == 1 && (1..=MAX_C).contains(&g.classes) && g.outer >= sk.lanes).then_some(sk)
}

/// The layout arrays of `c` classes: row and class of every lane, the weight pattern.
pub(super) struct Lay<T> {
    c: usize,
    rows_of: Vec<i32>,
    class_of: Vec<i32>,
    w: Option<Vec<T>>,
}

impl<T: Float> Lay<T> {
    pub(super) fn new(sk: &SmallKernels<T>, c: usize, w: Option<&[T]>) -> Lay<T> {
        let (rows_of, class_of, w) = small::layout(c, sk.lanes, w);
        Lay { c, rows_of, class_of, w }
    }
    fn get(&self) -> Layout<'_, T> {
        Layout { c: self.c, rows_of: &self.rows_of, class_of: &self.class_of, w: self.w.as_deref() }
    }
}

/// Row blocks `[r0, r0 + n)` covering the first `rows` rows (a multiple of the lanes).
fn blocks(rows: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..rows).step_by(BLOCK_ROWS).map(move |r0| (r0, BLOCK_ROWS.min(rows - r0)))
}

/// The rows of a piece that fill whole groups.
fn full_rows(b_outer: usize, lanes: usize) -> usize {
    b_outer / lanes * lanes
}

/// softmax (`log: false`) or log-softmax (`log: true`) over one piece.
pub(super) fn softmax<T: Float, F>(sk: &SmallKernels<T>, lay: &Lay<T>, b: Bufs<'_, T, T>, log: bool, row: &F)
where
    F: Fn(Row<'_, T, T>) -> (T, T),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let c = lay.c;
    let (x, out) = (head.a, head.out.expect("out"));
    let z = [T::zero(); BLOCK_ROWS];
    let (mut m, mut se, mut ls) = (z, z, z);
    for (r0, n) in blocks(full) {
        let xs = &x[r0 * c..(r0 + n) * c];
        let os = &mut out[r0 * c..(r0 + n) * c];
        (sk.stats)(xs, c, &mut m[..n], &mut se[..n], &mut ls[..n]);
        if log {
            (sk.sub2)(xs, &lay.get(), &m[..n], &ls[..n], os);
        } else {
            // exp(x − m)·(1/s), as the row kernels: `(x − m) − 0` is exact
            for v in &mut se[..n] {
                *v = v.recip();
            }
            (sk.grad)(xs, &lay.get(), &m[..n], &z[..n], &se[..n], &z[..n], None, os);
        }
    }
    tail.run_seq(row);
}

/// logsumexp over one piece.
pub(super) fn logsumexp<T: Float, F>(sk: &SmallKernels<T>, c: usize, b: Bufs<'_, T, T>, row: &F)
where
    F: Fn(Row<'_, T, T>) -> (T, T),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let (x, lse) = (head.a, head.pout.expect("lse"));
    let z = [T::zero(); BLOCK_ROWS];
    let (mut m, mut se, mut ls) = (z, z, z);
    for (r0, n) in blocks(full) {
        (sk.stats)(&x[r0 * c..(r0 + n) * c], c, &mut m[..n], &mut se[..n], &mut ls[..n]);
        for r in 0..n {
            // `ls` is NaN when `m = −inf` (the sum is `exp(NaN)`), as the row path's lse
            lse[r0 + r] = m[r] + ls[r];
        }
    }
    tail.run_seq(row);
}

/// What a sparse cross-entropy piece needs besides its buffers.
pub(super) struct Ce<'a, 'p, T> {
    pub(super) p: &'a SparseCe<'p, T>,
    pub(super) cst: &'a SparseConsts<T>,
    pub(super) scale: Option<Scale<'a, T>>,
}

impl<T: Float> Ce<'_, '_, T> {
    fn params(&self) -> CeParams<'_, T> {
        CeParams { eps: self.p.smoothing, inv_c: self.cst.inv_c, sum_w: self.cst.sum_w, w: self.p.weight }
    }
}

/// Per-row label scratch of one block: the label (0 where ignored), a keep flag and
/// the upstream scale.
struct Labels<T> {
    y: [i32; BLOCK_ROWS],
    keep: [T; BLOCK_ROWS],
    scale: [T; BLOCK_ROWS],
}

impl<T: Float> Labels<T> {
    fn new() -> Self {
        Labels { y: [0; BLOCK_ROWS], keep: [T::zero(); BLOCK_ROWS], scale: [T::zero(); BLOCK_ROWS] }
    }
    fn fill(&mut self, ce: &Ce<'_, '_, T>, labels: &[i64], pos0: usize) {
        for (r, &l) in labels.iter().enumerate() {
            let ignored = is_ignored(l, ce.p);
            self.y[r] = if ignored { 0 } else { l as i32 };
            self.keep[r] = if ignored { T::zero() } else { T::one() };
        }
        let n = labels.len();
        match ce.scale {
            Some(Scale::Uniform(v)) => self.scale[..n].fill(v),
            Some(Scale::PerPosition(v)) => self.scale[..n].copy_from_slice(&v[pos0..pos0 + n]),
            None => self.scale[..n].fill(T::zero()),
        }
    }
}

/// Scratch of the per-row gradient terms of one block.
struct GradRows<T> {
    m: [T; BLOCK_ROWS],
    ls: [T; BLOCK_ROWS],
    a: [T; BLOCK_ROWS],
    b: [T; BLOCK_ROWS],
    by: [T; BLOCK_ROWS],
}

impl<T: Float> GradRows<T> {
    fn new() -> Self {
        let z = [T::zero(); BLOCK_ROWS];
        GradRows { m: z, ls: z, a: z, b: z, by: z }
    }
    fn rows(&mut self, n: usize) -> CeGradRows<'_, T> {
        CeGradRows { m: &mut self.m[..n], ls: &mut self.ls[..n], a: &mut self.a[..n], b: &mut self.b[..n], by: &mut self.by[..n] }
    }
}

/// Sparse CE forward (no `out`) or forward + backward (`out`) over one piece.
pub(super) fn ce<T: Float, F>(sk: &SmallKernels<T>, lay: &Lay<T>, ce: &Ce<'_, '_, T>, b: Bufs<'_, T, T>, row: &F)
where
    F: Fn(Row<'_, T, T>) -> (T, T),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let c = lay.c;
    let (x, labels, pos0) = (head.a, head.labels.expect("labels"), head.pos0);
    let (loss, lse) = (head.pout.expect("loss"), head.pout2.expect("lse"));
    let mut out = head.out;
    let params = ce.params();
    let (mut lb, mut gr) = (Labels::new(), GradRows::new());
    for (r0, n) in blocks(full) {
        let xs = &x[r0 * c..(r0 + n) * c];
        lb.fill(ce, &labels[r0..r0 + n], pos0 + r0);
        let (lo, le) = (&mut loss[r0..r0 + n], &mut lse[r0..r0 + n]);
        let grad_rows = out.is_some().then(|| gr.rows(n));
        (sk.ce_stats)(xs, c, &lb.y[..n], &lb.keep[..n], &lb.scale[..n], &params, lo, le, grad_rows);
        if let Some(out) = out.as_deref_mut() {
            let os = &mut out[r0 * c..(r0 + n) * c];
            let fix = Fix { y: &lb.y[..n], by: &gr.by[..n], keep: &lb.keep[..n] };
            (sk.grad)(xs, &lay.get(), &gr.m[..n], &gr.ls[..n], &gr.a[..n], &gr.b[..n], Some(fix), os);
        }
    }
    tail.run_seq(row);
}

/// Sparse CE backward given the forward's lse, over one piece: the gradient is
/// `a·exp(x − lse) − b·w` per row, then the label and ignore fix-ups.
pub(super) fn ce_bwd<T: Float, F>(sk: &SmallKernels<T>, lay: &Lay<T>, ce: &Ce<'_, '_, T>, b: Bufs<'_, T, T>, row: &F)
where
    F: Fn(Row<'_, T, T>) -> (T, T),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let c = lay.c;
    let (x, labels, lse, pos0) = (head.a, head.labels.expect("labels"), head.pin.expect("lse"), head.pos0);
    let out = head.out.expect("grad");
    let z = [T::zero(); BLOCK_ROWS];
    let (mut a, mut bb, mut by) = (z, z, z);
    let (p, cst) = (ce.p, ce.cst);
    let mut lb = Labels::new();
    for (r0, n) in blocks(full) {
        lb.fill(ce, &labels[r0..r0 + n], pos0 + r0);
        for r in 0..n {
            (a[r], bb[r], by[r]) = if lb.keep[r] == T::zero() {
                (T::zero(), T::zero(), T::zero())
            } else {
                sparse_coeffs(p, cst.sum_w, cst.inv_c, lb.y[r] as usize, lb.scale[r])
            };
        }
        let os = &mut out[r0 * c..(r0 + n) * c];
        let (xs, l) = (&x[r0 * c..(r0 + n) * c], &lse[r0..r0 + n]);
        let fix = Fix { y: &lb.y[..n], by: &by[..n], keep: &lb.keep[..n] };
        (sk.grad)(xs, &lay.get(), l, &z[..n], &a[..n], &bb[..n], Some(fix), os);
    }
    tail.run_seq(row);
}

/// Sparse CE forward + backward written over the logits, over one piece.
pub(super) fn ce_in_place<T: Float, F>(sk: &SmallKernels<T>, lay: &Lay<T>, ce: &Ce<'_, '_, T>, b: BufsMut<'_, T, T>, row: &F)
where
    F: Fn(RowMut<'_, T>) -> (T, T),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let c = lay.c;
    let (x, labels, pos0) = (head.a, head.labels.expect("labels"), head.pos0);
    let (loss, lse) = (head.pout.expect("loss"), head.pout2.expect("lse"));
    let params = ce.params();
    let (mut lb, mut gr) = (Labels::new(), GradRows::new());
    for (r0, n) in blocks(full) {
        let xs = &mut x[r0 * c..(r0 + n) * c];
        lb.fill(ce, &labels[r0..r0 + n], pos0 + r0);
        let (lo, le) = (&mut loss[r0..r0 + n], &mut lse[r0..r0 + n]);
        (sk.ce_stats)(xs, c, &lb.y[..n], &lb.keep[..n], &lb.scale[..n], &params, lo, le, Some(gr.rows(n)));
        let fix = Fix { y: &lb.y[..n], by: &gr.by[..n], keep: &lb.keep[..n] };
        (sk.grad_in_place)(xs, &lay.get(), &gr.m[..n], &gr.ls[..n], &gr.a[..n], &gr.b[..n], Some(fix));
    }
    tail.run_seq(row);
}

/// Sparse CE forward (no `out`) or forward + backward over one piece of 16-bit
/// logits: each block is widened to `f32` on the stack, run through the `f32`
/// few-classes kernels, and the gradient rounded back to `H`.
#[allow(clippy::too_many_arguments)] // the two kernel tables and the problem
pub(super) fn ce_half<H: Half, F>(
    sk: &SmallKernels<f32>,
    hk: &HalfKernels<H>,
    lay: &Lay<f32>,
    ce: &Ce<'_, '_, f32>,
    b: Bufs<'_, H, f32>,
    row: &F,
) where
    F: Fn(Row<'_, H, f32>) -> (f32, f32),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let c = lay.c;
    let (x, labels, pos0) = (head.a, head.labels.expect("labels"), head.pos0);
    let (loss, lse) = (head.pout.expect("loss"), head.pout2.expect("lse"));
    let mut out = head.out;
    let params = ce.params();
    let (mut lb, mut gr) = (Labels::new(), GradRows::new());
    let (mut xf, mut gf) = ([0.0f32; BLOCK_ROWS * MAX_C], [0.0f32; BLOCK_ROWS * MAX_C]);
    for (r0, n) in blocks(full) {
        let (xs, xf) = (&x[r0 * c..(r0 + n) * c], &mut xf[..n * c]);
        (hk.to_f32)(xs, xf);
        lb.fill(ce, &labels[r0..r0 + n], pos0 + r0);
        let (lo, le) = (&mut loss[r0..r0 + n], &mut lse[r0..r0 + n]);
        let grad_rows = out.is_some().then(|| gr.rows(n));
        (sk.ce_stats)(xf, c, &lb.y[..n], &lb.keep[..n], &lb.scale[..n], &params, lo, le, grad_rows);
        if let Some(out) = out.as_deref_mut() {
            let fix = Fix { y: &lb.y[..n], by: &gr.by[..n], keep: &lb.keep[..n] };
            let gf = &mut gf[..n * c];
            (sk.grad)(xf, &lay.get(), &gr.m[..n], &gr.ls[..n], &gr.a[..n], &gr.b[..n], Some(fix), gf);
            (hk.from_f32)(gf, &mut out[r0 * c..(r0 + n) * c]);
        }
    }
    tail.run_seq(row);
}

/// [`ce_half`] forward + backward written over the logits.
pub(super) fn ce_half_in_place<H: Half, F>(
    sk: &SmallKernels<f32>,
    hk: &HalfKernels<H>,
    lay: &Lay<f32>,
    ce: &Ce<'_, '_, f32>,
    b: BufsMut<'_, H, f32>,
    row: &F,
) where
    F: Fn(RowMut<'_, H>) -> (f32, f32),
{
    let full = full_rows(b.g.outer, sk.lanes);
    let (head, tail) = b.split(full);
    let c = lay.c;
    let (x, labels, pos0) = (head.a, head.labels.expect("labels"), head.pos0);
    let (loss, lse) = (head.pout.expect("loss"), head.pout2.expect("lse"));
    let params = ce.params();
    let (mut lb, mut gr) = (Labels::new(), GradRows::new());
    let (mut xf, mut gf) = ([0.0f32; BLOCK_ROWS * MAX_C], [0.0f32; BLOCK_ROWS * MAX_C]);
    for (r0, n) in blocks(full) {
        let (xs, xf, gf) = (&mut x[r0 * c..(r0 + n) * c], &mut xf[..n * c], &mut gf[..n * c]);
        (hk.to_f32)(xs, xf);
        lb.fill(ce, &labels[r0..r0 + n], pos0 + r0);
        let (lo, le) = (&mut loss[r0..r0 + n], &mut lse[r0..r0 + n]);
        (sk.ce_stats)(xf, c, &lb.y[..n], &lb.keep[..n], &lb.scale[..n], &params, lo, le, Some(gr.rows(n)));
        let fix = Fix { y: &lb.y[..n], by: &gr.by[..n], keep: &lb.keep[..n] };
        (sk.grad)(xf, &lay.get(), &gr.m[..n], &gr.ls[..n], &gr.a[..n], &gr.b[..n], Some(fix), gf);
        (hk.from_f32)(gf, xs);
    }
    tail.run_seq(row);
}

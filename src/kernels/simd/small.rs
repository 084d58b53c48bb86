//! Rows of few classes (`C ≤ 16`), one row per lane: `N` rows at a time, so the max,
//! the exp-sum and the log run lane-parallel with no horizontal reductions.
//!
//! For a group of `N` consecutive rows (`N·C` contiguous values), [`stats`] gathers
//! class `k` of the `N` rows into one vector (`x[row·C + k]`) for `k = 0..C`, twice:
//! once for the max, once for `Σ exp(x − m)` (and the smoothing sum); then the vector
//! `ln`. The output passes run over the same `N·C` values as `C` ordinary contiguous
//! vectors: lane `l` of vector `j` holds row `(j·N + l) / C` of the group, and
//! `permute` spreads the per-row values (max, log-sum, coefficients) to match. No
//! scatter is needed. Rows that do not fill a group go to the row kernels.

use super::{ld, ldu, stu, Io, Simd};

/// The largest class count of this path.
pub(crate) const MAX_C: usize = 16;

/// Per-call layout of the output passes: the class count, the row (within the group)
/// and the class of every lane of the `C` vectors of a group (`C·N` each), and
/// optionally the class weights laid out the same way (`C·N` values).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout<'a, T> {
    pub c: usize,
    pub rows_of: &'a [i32],
    pub class_of: &'a [i32],
    pub w: Option<&'a [T]>,
}

/// The [`Layout`] arrays for `c` classes and `n` lanes: `(rows_of, class_of, w_pattern)`.
#[allow(clippy::type_complexity)] // three parallel arrays
pub(crate) fn layout<T: Copy>(c: usize, n: usize, w: Option<&[T]>) -> (Vec<i32>, Vec<i32>, Option<Vec<T>>) {
    let rows_of = (0..c * n).map(|e| (e / c) as i32).collect();
    let class_of = (0..c * n).map(|e| (e % c) as i32).collect();
    let wp = w.map(|w| (0..c * n).map(|e| w[e % c]).collect());
    (rows_of, class_of, wp)
}

/// The lane offsets `[0, c, 2c, …]` of a group's rows.
#[inline(always)]
fn row_starts<S: Simd>(s: S, c: usize) -> S::I {
    let mut lane_rows = [0i32; 16];
    for (l, v) in lane_rows.iter_mut().enumerate() {
        *v = (l * c) as i32;
    }
    s.load_idx(&lane_rows)
}

/// The max, exp-sum and (optionally) smoothing sum of one group, from its `C` columns.
struct GroupStats<V> {
    m: V,
    se: V,
    sm: V,
}

/// Gather the `c` columns of the group at `base` and reduce them.
///
/// # Safety
/// `base + l·c + k` must be in bounds for every lane `l < N` and class `k < c ≤ MAX_C`.
#[inline(always)]
unsafe fn group_stats<S: Io<f32>>(s: S, base: *const f32, c: usize, idx: S::I, smooth: Option<Option<&[f32]>>) -> GroupStats<S::V> {
    let (ninf, zero) = (s.splat(f32::NEG_INFINITY), s.splat(0.0));
    let mut cols = [zero; MAX_C];
    let mut m = ninf;
    for (k, col) in cols.iter_mut().enumerate().take(c) {
        // SAFETY: in bounds (caller).
        *col = unsafe { s.gather(base.add(k), idx) };
        m = s.max_keep(m, *col);
    }
    let (mut se, mut sm) = (zero, zero);
    for (k, &v) in cols.iter().enumerate().take(c) {
        se = s.add(se, s.exp_nonpos(s.sub(v, m)));
        if let Some(w) = smooth {
            let wk = s.splat(w.map_or(1.0, |w| w[k]));
            sm = s.mul_add(wk, s.sub(m, v), sm);
        }
    }
    GroupStats { m, se, sm }
}

/// Per row of `x` (`m.len()` rows of `c`, a multiple of `N`): `m` the max of the
/// non-NaN entries, `se = Σ exp(x − m)` and `ls = ln se` (NaN for a NaN or `+inf`
/// entry, and when `m = −inf`).
#[inline(always)]
pub(crate) fn stats<S: Io<f32>>(s: S, x: &[f32], c: usize, m: &mut [f32], se: &mut [f32], ls: &mut [f32]) {
    let n = S::N;
    let rows = m.len();
    assert!(rows.is_multiple_of(n) && ls.len() == rows && se.len() == rows);
    assert!((1..=MAX_C).contains(&c) && x.len() == rows * c);
    let idx = row_starts(s, c);
    for g in 0..rows / n {
        // SAFETY: the group's `N·c` values are `x[g·N·c..(g + 1)·N·c]`.
        let st = unsafe { group_stats(s, x[g * n * c..].as_ptr(), c, idx, None) };
        let r = g * n;
        // SAFETY: `r + N ≤ rows` = the length of `m`, `se` and `ls`.
        unsafe {
            stu(s, m, r, n, st.m);
            stu(s, se, r, n, st.se);
            stu(s, ls, r, n, s.ln(st.se));
        }
    }
}

/// The sparse cross-entropy constants of [`ce_stats`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct CeParams<'a, T> {
    /// Label smoothing ε.
    pub eps: T,
    /// `1/C`.
    pub inv_c: T,
    /// `Σ_c w_c` (`C` without weights).
    pub sum_w: T,
    /// Class weights (length `C`).
    pub w: Option<&'a [T]>,
}

/// Per-row outputs of [`ce_stats`] for the gradient pass.
pub(crate) struct CeGradRows<'a, T> {
    pub m: &'a mut [T],
    pub ls: &'a mut [T],
    pub a: &'a mut [T],
    pub b: &'a mut [T],
    pub by: &'a mut [T],
}

/// Sparse cross-entropy of each row, one row per lane (see the row path's
/// `sparse_loss_row` and `sparse_coeffs` for the formulas): `loss` (0 where
/// `keep = 0`), `lse`, and with `grad` the per-row `(m, ln s)` and gradient
/// coefficients `(a, b_all, b_y)` (0 where `keep = 0`). `y` holds each row's label
/// (any valid class where ignored), `scale` each row's upstream scale.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the per-row arrays of the loss
pub(crate) fn ce_stats<S: Io<f32>>(
    s: S,
    x: &[f32],
    c: usize,
    y: &[i32],
    keep: &[f32],
    scale: &[f32],
    p: &CeParams<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    mut grad: Option<CeGradRows<'_, f32>>,
) {
    let n = S::N;
    let rows = y.len();
    assert!(rows.is_multiple_of(n) && keep.len() == rows && scale.len() == rows && loss.len() == rows && lse.len() == rows);
    assert!((1..=MAX_C).contains(&c) && x.len() == rows * c);
    assert!(y.iter().all(|&v| (0..c as i32).contains(&v)));
    if let Some(w) = p.w {
        assert_eq!(w.len(), c);
    }
    if let Some(gr) = grad.as_ref() {
        assert!([gr.m.len(), gr.ls.len(), gr.a.len(), gr.b.len(), gr.by.len()].iter().all(|&l| l == rows));
    }
    let idx = row_starts(s, c);
    let smoothing = p.eps > 0.0;
    let (one_m_eps, eps_inv_c) = (s.splat(1.0 - p.eps), s.splat(p.eps * p.inv_c));
    let (sum_w, eps_inv_c_sum_w) = (s.splat(p.sum_w), s.splat(p.eps * p.inv_c * p.sum_w));
    let (zero, one) = (s.splat(0.0), s.splat(1.0));
    for g in 0..rows / n {
        let base = x[g * n * c..].as_ptr();
        // SAFETY: the group's `N·c` values are `x[g·N·c..(g + 1)·N·c]`.
        let st = unsafe { group_stats(s, base, c, idx, smoothing.then_some(p.w)) };
        let r = g * n;
        let ls = s.ln(st.se);
        let yv = s.load_idx(&y[r..]);
        // SAFETY: every label is in `[0, c)` (asserted): lane `l` reads `x[(g·N + l)·c + y]`.
        let xy = unsafe { s.gather(base, s.add_i(idx, yv)) };
        // SAFETY: every label is in `[0, c)` = the weights' indices (asserted).
        let wy = p.w.map_or(one, |w| unsafe { s.gather(w.as_ptr(), yv) });
        let kv = ld(s, keep, r, n, zero);
        let v = s.mul(wy, s.add(s.sub(st.m, xy), ls));
        let l = if smoothing { s.mul_add(one_m_eps, v, s.mul(eps_inv_c, s.mul_add(ls, sum_w, st.sm))) } else { v };
        // SAFETY: `r + N ≤ rows`, the length of every per-row array (asserted).
        unsafe {
            stu(s, loss, r, n, s.keep_where(kv, l));
            stu(s, lse, r, n, s.add(st.m, ls));
        }
        if let Some(gr) = grad.as_mut() {
            let sc = ld(s, scale, r, n, zero);
            let a = s.mul(sc, s.mul_add(one_m_eps, wy, eps_inv_c_sum_w));
            let b = s.mul(sc, eps_inv_c);
            let by = s.mul(s.mul(sc, one_m_eps), wy);
            // SAFETY: as above.
            unsafe {
                stu(s, gr.m, r, n, st.m);
                stu(s, gr.ls, r, n, ls);
                stu(s, gr.a, r, n, s.keep_where(kv, a));
                stu(s, gr.b, r, n, s.keep_where(kv, b));
                stu(s, gr.by, r, n, s.keep_where(kv, by));
            }
        }
    }
}

/// The label fix-ups of a gradient pass: each row's label, `b_y` and keep flag.
#[derive(Clone, Copy)]
pub(crate) struct Fix<'a, T> {
    pub y: &'a [i32],
    pub by: &'a [T],
    pub keep: &'a [T],
}

/// The per-row vectors of group `g`.
#[inline(always)]
fn group<S: Io<f32>>(s: S, v: &[f32], g: usize) -> S::V {
    ld(s, v, g * S::N, S::N, s.splat(0.0))
}

/// One output vector `j` of a group: `a_row·exp((x − m_row) − l_row) − b_row·w_class`,
/// minus `b_y` at the label, zeroed in rows with `keep = 0`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the per-row vectors of the formula
fn out_vec<S: Io<f32>>(s: S, xv: S::V, lay: &Layout<'_, f32>, j: usize, rows: [S::V; 4], fix: Option<(S::I, S::V, S::V)>) -> S::V {
    let n = S::N;
    let idx = s.load_idx(&lay.rows_of[j * n..]);
    let [mv, lv, av, bv] = rows;
    let (mp, lp) = (s.permute(mv, idx), s.permute(lv, idx));
    // The cross-entropy gradient (with fix-ups) keeps the digits of `x − m − l` (see
    // `rows::exp_shifted_lanes`); the softmax (`l = 0`) keeps its plain exp.
    let e = if fix.is_some() { super::rows::exp_shifted_lanes(s, xv, mp, lp) } else { s.exp(s.sub(s.sub(xv, mp), lp)) };
    let p = s.mul(s.permute(av, idx), e);
    let mut v = match lay.w {
        Some(w) => s.neg_mul_add(s.permute(bv, idx), ld(s, w, j * n, n, s.splat(0.0)), p),
        None => s.sub(p, s.permute(bv, idx)),
    };
    if let Some((yv, byv, kv)) = fix {
        let cls = s.load_idx(&lay.class_of[j * n..]);
        v = s.sub_where_eq(v, cls, s.permute_i(yv, idx), s.permute(byv, idx));
        v = s.keep_where(s.permute(kv, idx), v);
    }
    v
}

/// `out = a_row·exp((x − m_row) − l_row) − b_row·w_class` over groups of rows (`m`,
/// `l`, `a`, `b` per row; their length a multiple of `N`), then the label fix-ups.
/// Softmax is `a = 1/s`, `l = b = 0` without fix-ups.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the per-row arrays of the formula
pub(crate) fn grad<S: Io<f32>>(
    s: S,
    x: &[f32],
    lay: &Layout<'_, f32>,
    m: &[f32],
    l: &[f32],
    a: &[f32],
    b: &[f32],
    fix: Option<Fix<'_, f32>>,
    out: &mut [f32],
) {
    let (n, c) = (S::N, lay.c);
    let rows = check_rows::<S>(x.len(), lay, [m, l, a, b], fix);
    assert_eq!(out.len(), x.len());
    for g in 0..rows / n {
        let rv = [group(s, m, g), group(s, l, g), group(s, a, g), group(s, b, g)];
        let fv = fix.map(|f| (s.load_idx(&f.y[g * n..]), group(s, f.by, g), group(s, f.keep, g)));
        for j in 0..c {
            let i = (g * c + j) * n;
            // SAFETY: `i + N ≤ rows·C = x.len() = out.len()`.
            unsafe {
                let v = out_vec(s, ldu(s, x, i, n, s.splat(0.0)), lay, j, rv, fv);
                stu(s, out, i, n, v);
            }
        }
    }
}

/// [`grad`] written over `x`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the per-row arrays of the formula
pub(crate) fn grad_in_place<S: Io<f32>>(
    s: S,
    x: &mut [f32],
    lay: &Layout<'_, f32>,
    m: &[f32],
    l: &[f32],
    a: &[f32],
    b: &[f32],
    fix: Option<Fix<'_, f32>>,
) {
    let (n, c) = (S::N, lay.c);
    let rows = check_rows::<S>(x.len(), lay, [m, l, a, b], fix);
    for g in 0..rows / n {
        let rv = [group(s, m, g), group(s, l, g), group(s, a, g), group(s, b, g)];
        let fv = fix.map(|f| (s.load_idx(&f.y[g * n..]), group(s, f.by, g), group(s, f.keep, g)));
        for j in 0..c {
            let i = (g * c + j) * n;
            // SAFETY: `i + N ≤ rows·C = x.len()`.
            unsafe {
                let v = out_vec(s, ldu(s, x, i, n, s.splat(0.0)), lay, j, rv, fv);
                stu(s, x, i, n, v);
            }
        }
    }
}

/// Check the per-row arrays of a gradient pass; returns the row count.
fn check_rows<S: Simd>(len: usize, lay: &Layout<'_, f32>, per_row: [&[f32]; 4], fix: Option<Fix<'_, f32>>) -> usize {
    let (n, c) = (S::N, lay.c);
    let rows = per_row[0].len();
    assert!(rows.is_multiple_of(n) && per_row.iter().all(|v| v.len() == rows));
    assert!(len == rows * c && lay.rows_of.len() == c * n && lay.class_of.len() == c * n);
    if let Some(w) = lay.w {
        assert_eq!(w.len(), c * n);
    }
    if let Some(f) = fix {
        assert!(f.y.len() == rows && f.by.len() == rows && f.keep.len() == rows);
    }
    rows
}

/// `out = (x − m_row) − l_row` over groups of rows.
#[inline(always)]
pub(crate) fn sub2<S: Io<f32>>(s: S, x: &[f32], lay: &Layout<'_, f32>, m: &[f32], l: &[f32], out: &mut [f32]) {
    let (n, c) = (S::N, lay.c);
    let rows = m.len();
    assert!(rows.is_multiple_of(n) && l.len() == rows && x.len() == rows * c && out.len() == x.len());
    assert_eq!(lay.rows_of.len(), c * n);
    for g in 0..rows / n {
        let (mv, lv) = (group(s, m, g), group(s, l, g));
        for j in 0..c {
            let idx = s.load_idx(&lay.rows_of[j * n..]);
            let i = (g * c + j) * n;
            // SAFETY: `i + N ≤ rows·C = x.len() = out.len()`.
            unsafe {
                let xv = ldu(s, x, i, n, s.splat(0.0));
                stu(s, out, i, n, s.sub(s.sub(xv, s.permute(mv, idx)), s.permute(lv, idx)));
            }
        }
    }
}

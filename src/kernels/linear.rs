//! Row kernels of the fused linear cross-entropy's blocked passes
//! ([`crate::ops::linear_cross_entropy`]): a block of logits is `rows × cols`
//! (a range of rows by a range of classes, row-major), and every function here works
//! on such a block with the SIMD row kernels of [`super::table`], rows split over
//! threads.
//!
//! * [`block_max_sum_exp`]: per row `(max, Σ exp(z − max))` over the block's classes,
//!   merged across class blocks (or class shards on other processes) by
//!   [`merge_max_sum`];
//! * [`block_weighted_sum`]: per row `Σ_c w_c·z_c` (label smoothing's sum);
//! * [`block_argmax`]: per row the first class holding the block's maximum;
//! * [`block_grad_in_place`]: the cross-entropy's gradient over the block given the
//!   row's *global* log-sum-exp, written over the logits;
//! * [`transpose_into`]: a block transposed into a strided destination.

use rayon::prelude::*;

use super::current_isa;
use super::half_precision::Half;
use super::table::{self, Grad};
use super::{Par, GRAIN};
use crate::float::Float;

/// Rows per task: at least [`GRAIN`] elements each, at most `par`'s task count.
fn rows_per_task(par: Par, rows: usize, cols: usize) -> usize {
    let tasks = par.tasks().max(1);
    let min_rows = (GRAIN / cols.max(1)).max(1);
    rows.div_ceil(tasks).max(min_rows).max(1)
}

/// Run `f(first row, rows of the chunk)` over contiguous chunks of rows.
fn for_rows<T: Send, F>(z: &mut [T], rows: usize, cols: usize, par: Par, f: F)
where
    F: Fn(usize, &mut [T]) + Sync,
{
    assert!(z.len() >= rows * cols, "xent linear kernels: block too short");
    let per = rows_per_task(par, rows, cols);
    let z = &mut z[..rows * cols];
    if matches!(par, Par::Seq) || per >= rows || cols == 0 {
        return f(0, z);
    }
    z.par_chunks_mut(per * cols).enumerate().for_each(|(j, c)| f(j * per, c));
}

/// Per row of the `rows × cols` block `z`: `out[i] = (max, Σ exp(z − max))` (the
/// state [`merge_max_sum`] combines). An empty row gives `(−inf, 0)`.
///
/// # Panics
/// If `z` or `out` is shorter than the block (a caller bug).
pub(crate) fn block_max_sum_exp<T: Float>(z: &[T], rows: usize, cols: usize, out: &mut [(T, T)], par: Par) {
    let k = table::kernels::<T>();
    assert!(z.len() >= rows * cols && out.len() >= rows, "xent linear kernels: block too short");
    let per = rows_per_task(par, rows, cols);
    let run = |r0: usize, o: &mut [(T, T)]| {
        for (i, oi) in o.iter_mut().enumerate() {
            let r = r0 + i;
            *oi = if cols == 0 { (T::neg_infinity(), T::zero()) } else { (k.max_sum_exp)(&z[r * cols..(r + 1) * cols]) };
        }
    };
    let out = &mut out[..rows];
    if matches!(par, Par::Seq) || per >= rows {
        return run(0, out);
    }
    out.par_chunks_mut(per).enumerate().for_each(|(j, o)| run(j * per, o));
}

/// Per row of the block: `out[i] = Σ_c w_c·z_{i,c}` (`w` all ones when `None`).
///
/// # Panics
/// If a slice is shorter than the block (a caller bug).
pub(crate) fn block_weighted_sum<T: Float>(z: &[T], rows: usize, cols: usize, w: Option<&[T]>, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    assert!(z.len() >= rows * cols && out.len() >= rows, "xent linear kernels: block too short");
    let w = w.map(|w| &w[..cols]);
    let per = rows_per_task(par, rows, cols);
    // `smooth_sum(x, w, 0) = Σ w_c (0 − x_c)`
    let run = |r0: usize, o: &mut [T]| {
        for (i, oi) in o.iter_mut().enumerate() {
            let r = r0 + i;
            *oi = if cols == 0 { T::zero() } else { -(k.smooth_sum)(&z[r * cols..(r + 1) * cols], w, T::zero()) };
        }
    };
    let out = &mut out[..rows];
    if matches!(par, Par::Seq) || per >= rows {
        return run(0, out);
    }
    out.par_chunks_mut(per).enumerate().for_each(|(j, o)| run(j * per, o));
}

/// Per row of the block: `(largest value, its first column)`, a NaN counting as
/// the largest (as `torch.argmax`); `(−inf, None)` for an empty row.
///
/// # Panics
/// If a slice is shorter than the block (a caller bug).
pub(crate) fn block_argmax<T: Float>(z: &[T], rows: usize, cols: usize, out: &mut [(T, Option<usize>)]) {
    assert!(z.len() >= rows * cols && out.len() >= rows, "xent linear kernels: block too short");
    for (r, o) in out[..rows].iter_mut().enumerate() {
        let mut best = (T::neg_infinity(), None);
        for (j, &v) in z[r * cols..(r + 1) * cols].iter().enumerate() {
            if v.is_nan() {
                best = (v, Some(j));
                break;
            }
            if v > best.0 || best.1.is_none() {
                best = (v, Some(j));
            }
        }
        *o = best;
    }
}

/// `(m, s)` states of one row over two class ranges merged into the state over both:
/// `m = max(m₁, m₂)`, `s = s₁·exp(m₁ − m) + s₂·exp(m₂ − m)`. A range whose max is
/// `−inf` contributes 0 (or NaN, if its sum is NaN); a NaN max makes the row NaN.
pub(crate) fn merge_max_sum<T: Float>((m1, s1): (T, T), (m2, s2): (T, T)) -> (T, T) {
    if m1.is_nan() {
        return (m1, m1);
    }
    if m2.is_nan() {
        return (m2, m2);
    }
    let ninf = T::neg_infinity();
    let m = if m2 > m1 { m2 } else { m1 };
    let part = |mj: T, sj: T| if mj == ninf { sj * T::zero() } else { sj * (mj - m).exp() };
    (m, part(m1, s1) + part(m2, s2))
}

/// The gradient coefficients of one row of [`block_grad_in_place`]:
/// `grad_c = a·exp(z_c − lse) − b_all·w_c − b_y·[c = y]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowTerms<T> {
    /// The row's log-sum-exp over *all* classes.
    pub lse: T,
    /// Coefficient of the softmax.
    pub a: T,
    /// Coefficient of the class weights (label smoothing).
    pub b_all: T,
    /// Coefficient of the one-hot target.
    pub b_y: T,
    /// The target's column within this block, if it falls in it.
    pub y: Option<usize>,
}

/// The rows of the block overwritten by the sparse cross-entropy gradient
/// `grad_c = a·exp(z_c − lse) − b_all·w_c − b_y·[c = y]` (see [`RowTerms`]; `w`: the
/// class weights of this block's columns, all ones when `None`); a row whose terms
/// are `None` (an ignored target) becomes zeros.
///
/// # Panics
/// If a slice is shorter than the block (a caller bug).
pub(crate) fn block_grad_in_place<T: Float, F>(z: &mut [T], rows: usize, cols: usize, w: Option<&[T]>, terms: F, par: Par)
where
    F: Fn(usize) -> Option<RowTerms<T>> + Sync,
{
    let k = table::kernels::<T>();
    let w = w.map(|w| &w[..cols]);
    for_rows(z, rows, cols, par, |r0, chunk| {
        for (i, row) in chunk.chunks_exact_mut(cols.max(1)).enumerate() {
            match terms(r0 + i) {
                None => row.fill(T::zero()),
                Some(t) => {
                    let g = Grad { m: t.lse, l: T::zero(), a: t.a, b_all: t.b_all, w, y: t.y, b_y: t.b_y };
                    (k.sparse_grad_in_place)(row, &g);
                }
            }
        }
    });
}

/// `dst[c·ld + r] = src[r·cols + c]` for the `rows × cols` block `src`: its transpose
/// written into `cols` rows of stride `ld ≥ rows` (in tiles that stay in L1).
///
/// # Panics
/// If `ld < rows` or a slice is shorter than its extent (a caller bug).
pub(crate) fn transpose_into<T: Float>(src: &[T], rows: usize, cols: usize, dst: &mut [T], ld: usize, par: Par) {
    const TILE: usize = 32;
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(ld >= rows && src.len() >= rows * cols && dst.len() >= (cols - 1) * ld + rows, "xent linear kernels: transpose out of bounds");
    // Tasks own whole destination rows (columns of `src`), TILE at a time.
    let per_task = {
        let tasks = par.tasks().max(1);
        let min_cols = (GRAIN / rows).max(TILE);
        cols.div_ceil(tasks).max(min_cols).div_ceil(TILE) * TILE
    };
    let run = |c0: usize, d: &mut [T]| {
        let c1 = (c0 + per_task).min(cols);
        for ct in (c0..c1).step_by(TILE) {
            let ce = (ct + TILE).min(c1);
            for rt in (0..rows).step_by(TILE) {
                let re = (rt + TILE).min(rows);
                for c in ct..ce {
                    let drow = &mut d[(c - c0) * ld..];
                    for r in rt..re {
                        drow[r] = src[r * cols + c];
                    }
                }
            }
        }
    };
    let dst = &mut dst[..(cols - 1) * ld + rows];
    if matches!(par, Par::Seq) || per_task >= cols {
        return run(0, dst);
    }
    dst.par_chunks_mut(per_task * ld).enumerate().for_each(|(j, d)| run(j * per_task, d));
}

/// Elements per task of the conversions.
const CONVERT_CHUNK: usize = 1 << 16;

/// `dst[..src.len()] = src` widened to `f32` (exact).
///
/// # Panics
/// If `dst` is shorter than `src` (a caller bug).
pub(crate) fn widen<H: Half>(src: &[H], dst: &mut [f32], par: Par) {
    let f = H::half_kernels(current_isa()).to_f32;
    let dst = &mut dst[..src.len()];
    if matches!(par, Par::Seq) || src.len() <= CONVERT_CHUNK {
        return f(src, dst);
    }
    dst.par_chunks_mut(CONVERT_CHUNK).zip(src.par_chunks(CONVERT_CHUNK)).for_each(|(d, s)| f(s, d));
}

/// `dst[..src.len()] = src` rounded to `H` (nearest-even).
///
/// # Panics
/// If `dst` is shorter than `src` (a caller bug).
pub(crate) fn narrow<H: Half>(src: &[f32], dst: &mut [H], par: Par) {
    let f = H::half_kernels(current_isa()).from_f32;
    let dst = &mut dst[..src.len()];
    if matches!(par, Par::Seq) || src.len() <= CONVERT_CHUNK {
        return f(src, dst);
    }
    dst.par_chunks_mut(CONVERT_CHUNK).zip(src.par_chunks(CONVERT_CHUNK)).for_each(|(d, s)| f(s, d));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_merge_to_the_whole_row() {
        let z: Vec<f32> = (0..3 * 50).map(|i| ((i * 37 % 23) as f32 - 11.0) / 3.0).collect();
        let mut whole = [(0.0, 0.0); 3];
        block_max_sum_exp(&z, 3, 50, &mut whole, Par::Seq);
        // the same rows as two column blocks [0, 20) and [20, 50)
        for r in 0..3 {
            let row = &z[r * 50..(r + 1) * 50];
            let (mut a, mut b) = ([(0.0, 0.0)], [(0.0, 0.0)]);
            block_max_sum_exp(&row[..20], 1, 20, &mut a, Par::Seq);
            block_max_sum_exp(&row[20..], 1, 30, &mut b, Par::Seq);
            let (m, s) = merge_max_sum(a[0], b[0]);
            assert_eq!(m, whole[r].0);
            assert!((s - whole[r].1).abs() <= 4.0 * f32::EPSILON * s, "{s} vs {}", whole[r].1);
            let want: f64 = row.iter().map(|&v| ((v - m) as f64).exp()).sum();
            assert!((s as f64 - want).abs() <= 1e-6 * want);
        }
        assert_eq!(merge_max_sum((f32::NEG_INFINITY, 0.0), (1.0, 2.0)), (1.0, 2.0));
        assert!(merge_max_sum((f32::NAN, 0.0), (1.0, 2.0)).1.is_nan());
    }

    #[test]
    fn gradient_block_with_and_without_the_label() {
        let z = vec![0.5f64, -1.0, 2.0, 0.0, 1.0, 1.0];
        let lse = 3.0;
        let mut g = z.clone();
        let t = |r: usize| Some(RowTerms { lse, a: 2.0, b_all: 0.5, b_y: 1.5, y: (r == 0).then_some(1) });
        block_grad_in_place(&mut g, 2, 3, Some(&[1.0, 2.0, 3.0]), t, Par::Rayon(2));
        for r in 0..2 {
            for c in 0..3 {
                let want = 2.0 * (z[r * 3 + c] - lse).exp() - 0.5 * (c + 1) as f64 - if r == 0 && c == 1 { 1.5 } else { 0.0 };
                assert!((g[r * 3 + c] - want).abs() < 1e-15);
            }
        }
        block_grad_in_place(&mut g, 2, 3, None, |_| None, Par::Seq);
        assert_eq!(g, vec![0.0; 6]);
    }

    #[test]
    fn transpose_into_a_strided_destination() {
        let (rows, cols, ld) = (37, 70, 41);
        let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
        for par in [Par::Seq, Par::Rayon(2)] {
            let mut dst = vec![-1.0f32; cols * ld];
            transpose_into(&src, rows, cols, &mut dst, ld, par);
            for c in 0..cols {
                for r in 0..ld {
                    let want = if r < rows { src[r * cols + c] } else { -1.0 };
                    assert_eq!(dst[c * ld + r], want);
                }
            }
        }
    }

    #[test]
    fn argmax_and_weighted_sum() {
        let z = vec![1.0f32, 3.0, 3.0, -1.0, 0.0, -2.0];
        let mut st = [(0.0, 0.0); 2];
        block_max_sum_exp(&z, 2, 3, &mut st, Par::Seq);
        let mut am = [(0.0, None); 2];
        block_argmax(&z, 2, 3, &mut am);
        assert_eq!(am, [(3.0, Some(1)), (0.0, Some(1))]);
        let mut one = [(0.0, None)];
        block_argmax(&[1.0, f32::NAN, 5.0, f32::NAN], 1, 4, &mut one);
        assert_eq!(one[0].1, Some(1));
        let mut ws = [0.0f32; 2];
        block_weighted_sum(&z, 2, 3, Some(&[1.0, 2.0, 0.5]), &mut ws, Par::Seq);
        assert_eq!(ws, [8.5, -2.0]);
    }
}

//! `f64` row kernels written once against [`Simd64`]: softmax, log-softmax,
//! log-sum-exp, the sparse and dense cross-entropy (loss and gradient) and the
//! softmax/log-softmax VJPs, with the structure of the `f32` ones
//! ([`crate::kernels::simd::rows`]):
//!
//! * [`max_sum_exp`] returns `(m, s)`, `m` the largest non-NaN entry (`−inf` if
//!   none) and `s = Σ exp(x − m)`, reading the row once from memory in blocks of
//!   [`BLOCK`] elements (16 KiB of `f64`, which stays in L1 between the block's max
//!   sweep and its exp-sum sweep), rescaling the partial sums when the max grows.
//! * [`max_sum_exp_store`] also keeps the exps in a scratch row, so softmax and the
//!   fused cross-entropy gradient are written from them without a second exp.
//! * Write passes go through [`write`], non-temporal for the aligned body when asked.
//!
//! NaN and infinities follow the scalar reference exactly as the `f32` kernels do: a
//! NaN or `+inf` entry makes `s` NaN, a row whose max is `−inf` is NaN downstream,
//! and a NaN in a block while the max so far is `−inf` is caught by a scan.

use super::{head_len, ld, ldu, st_ntu, stu, Simd64};
use crate::kernels::simd::rows::{block_scale, BLOCK, PREFETCH_AHEAD};
use crate::kernels::simd::Wr;
use crate::kernels::table::Grad;

/// Software prefetch distance in bytes, ahead of the max sweep.
const PREFETCH: usize = 2048;

const NEG_INF: f64 = f64::NEG_INFINITY;

/// A one-hot table: `ONE_HOT[7 - j..][..N]` has a 1 in lane `j`.
static ONE_HOT: [f64; 15] = {
    let mut t = [0.0f64; 15];
    t[7] = 1.0;
    t
};

/// `val` in lane `j < N`, 0 elsewhere.
#[inline(always)]
fn lane<S: Simd64>(s: S, j: usize, val: f64) -> S::V {
    s.mul(ld(s, &ONE_HOT[7 - j..], 0, S::N, s.splat(0.0)), s.splat(val))
}

/// Call `f(i, len)` for consecutive pieces `x[i..i + len]` covering `0..n`, `len = N`
/// but for the last; `f` may rely on `i + len ≤ n` and `len ≤ N`.
#[inline(always)]
fn pieces<S: Simd64>(n: usize, mut f: impl FnMut(usize, usize)) {
    let mut i = 0;
    while i < n {
        let len = S::N.min(n - i);
        f(i, len);
        i += len;
    }
}

/// Max of the non-NaN entries of `x` (`−inf` if none).
#[inline(always)]
pub(crate) fn row_max<S: Simd64>(s: S, x: &[f64]) -> f64 {
    let w = S::N;
    let ninf = s.splat(NEG_INF);
    let (mut a0, mut a1, mut a2, mut a3) = (ninf, ninf, ninf, ninf);
    let lines = (4 * w * size_of::<f64>()).div_ceil(64);
    let mut chunks = x.chunks_exact(4 * w);
    for c in &mut chunks {
        let p = c.as_ptr().cast::<u8>().wrapping_add(PREFETCH);
        for l in 0..lines {
            s.prefetch(p.wrapping_add(64 * l));
        }
        a0 = s.max_keep(a0, ld(s, c, 0, w, ninf));
        a1 = s.max_keep(a1, ld(s, c, w, w, ninf));
        a2 = s.max_keep(a2, ld(s, c, 2 * w, w, ninf));
        a3 = s.max_keep(a3, ld(s, c, 3 * w, w, ninf));
    }
    let rest = chunks.remainder();
    pieces::<S>(rest.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ rest.len()`, `len ≤ N`.
        a0 = s.max_keep(a0, unsafe { ldu(s, rest, i, len, ninf) });
    });
    s.reduce_max(s.max_keep(s.max_keep(a0, a1), s.max_keep(a2, a3)))
}

/// Prefetch into L2 the memory `ahead` bytes past the end of `x` (the next block of the
/// row, or the next row; [`PREFETCH_AHEAD`] in [`max_sum_exp`]), `4·N` elements' worth per call `j`, spread over the exp sweep of a block so
/// that memory streams the next block in while the core computes (as the `f32`
/// kernels do; see there).
#[inline(always)]
fn prefetch_next<S: Simd64>(s: S, x: &[f64], j: usize, ahead: usize) {
    let bytes = 4 * S::N * size_of::<f64>();
    let p = x.as_ptr().cast::<u8>().wrapping_add(size_of_val(x) + ahead + j * bytes);
    for l in 0..bytes.div_ceil(64) {
        s.prefetch_l2(p.wrapping_add(64 * l));
    }
}

/// Add `exp(x − m)` into four accumulators.
#[inline(always)]
fn sum_exp_acc<S: Simd64>(s: S, x: &[f64], m: S::V, acc: &mut [S::V; 4]) {
    let w = S::N;
    let ninf = s.splat(NEG_INF);
    let mut chunks = x.chunks_exact(4 * w);
    for (j, c) in (&mut chunks).enumerate() {
        prefetch_next(s, x, j, PREFETCH_AHEAD);
        for (k, a) in acc.iter_mut().enumerate() {
            *a = s.add(*a, s.exp_nonpos(s.sub(ld(s, c, k * w, w, ninf), m)));
        }
    }
    let rest = chunks.remainder();
    pieces::<S>(rest.len(), |i, len| {
        // masked lanes load −inf: exp(−inf − m) = 0 for every m > −inf
        // SAFETY: `pieces` keeps `i + len ≤ rest.len()`, `len ≤ N`.
        let v = unsafe { ldu(s, rest, i, len, ninf) };
        acc[0] = s.add(acc[0], s.exp_nonpos(s.sub(v, m)));
    });
}

#[inline(always)]
fn sum4<S: Simd64>(s: S, acc: [S::V; 4]) -> f64 {
    s.reduce_add(s.add(s.add(acc[0], acc[1]), s.add(acc[2], acc[3])))
}

/// The rounding error of `d = a − b` (TwoSum on `a + (−b)`): `a − b = d + err` exactly
/// for finite operands that do not overflow.
#[inline(always)]
fn diff_err<S: Simd64>(s: S, a: S::V, b: S::V, d: S::V) -> S::V {
    let bb = s.sub(d, a);
    s.sub(s.sub(a, s.sub(d, bb)), s.add(b, bb))
}

/// How a row's shift `m + l` enters [`exp_shifted`]: `(a, b, c)` with
/// `m + l = a + b + c` exactly. For `|m| < 2²⁰` it is `(0, h, lo)`, `h = m + l`
/// rounded and `lo` its rounding error (TwoSum), at most `2^-33`: small enough for
/// the first-order correction. For larger `|m|` it is `(m, l, 0)`: every `x` whose
/// exp is not negligible is then within a factor 2 of `m`, so `x − m` is exact
/// (Sterbenz).
#[inline(always)]
fn shift3(m: f64, l: f64) -> (f64, f64, f64) {
    if m.abs() < 1048576.0 {
        let h = m + l;
        let bb = h - m;
        (0.0, h, (m - (h - bb)) + (l - bb))
    } else {
        (m, l, 0.0)
    }
}

/// `exp((x − m) − l)` with its rounding folded back in, `(a, b, c)` from [`shift3`]:
/// `v = (x − a) − b` and `δ = err(v) − c`, the result `e^v·(1 + δ)`. Lanes whose exp
/// is 0 (`x = −inf`, underflow) stay exactly 0; NaN stays NaN.
#[inline(always)]
fn exp_shifted<S: Simd64>(s: S, x: S::V, a: S::V, b: S::V, c: S::V) -> S::V {
    let u = s.sub(x, a);
    let v = s.sub(u, b);
    let e = s.sub(diff_err(s, u, b, v), c);
    let p = s.exp(v);
    s.mul_add(p, s.keep_where(p, e), p)
}

/// Whether `x` holds a NaN.
#[inline(always)]
fn has_nan<S: Simd64>(s: S, x: &[f64]) -> bool {
    let mut any = false;
    pieces::<S>(x.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ x.len()`, `len ≤ N`.
        any |= s.any_nan(unsafe { ldu(s, x, i, len, s.splat(0.0)) });
    });
    any
}

/// The running max raised from `m` to `mn ≥ m`, the partial sums rescaled by
/// `exp(m − mn)`. The first live block (`m = −inf`) finds the sums at 0: no rescale
/// (nor an `exp(−inf)` call).
#[inline(always)]
fn rescale<S: Simd64>(s: S, acc: &mut [S::V; 4], m: f64, mn: f64) -> f64 {
    if mn > m {
        if m != NEG_INF {
            let f = s.splat((m - mn).exp());
            for a in acc.iter_mut() {
                *a = s.mul(*a, f);
            }
        }
        return mn;
    }
    m
}

/// `(m, Σ exp(x − m))` in one read of `x`, blocked (see the module docs).
#[inline(always)]
pub(crate) fn max_sum_exp<S: Simd64>(s: S, x: &[f64]) -> (f64, f64) {
    let mut m = NEG_INF;
    let mut acc = [s.splat(0.0); 4];
    let mut poisoned = false;
    for blk in x.chunks(BLOCK) {
        let bm = row_max(s, blk);
        let mn = if bm > m { bm } else { m };
        if mn == NEG_INF {
            // every entry so far is −inf or NaN: the sums stay 0, but remember a NaN
            poisoned |= has_nan(s, blk);
            continue;
        }
        m = rescale(s, &mut acc, m, mn);
        sum_exp_acc(s, blk, s.splat(m), &mut acc);
    }
    let total = sum4(s, acc);
    (m, if poisoned { f64::NAN } else { total })
}

/// Add `exp(x − m)` into four accumulators and store it into `e`.
#[inline(always)]
fn sum_exp_store<S: Simd64>(s: S, x: &[f64], e: &mut [f64], m: S::V, acc: &mut [S::V; 4], ahead: usize) {
    assert_eq!(x.len(), e.len());
    let w = S::N;
    let ninf = s.splat(NEG_INF);
    let mut xc = x.chunks_exact(4 * w);
    let mut ec = e.chunks_exact_mut(4 * w);
    for (j, (c, d)) in (&mut xc).zip(&mut ec).enumerate() {
        prefetch_next(s, x, j, ahead);
        for (k, a) in acc.iter_mut().enumerate() {
            let v = s.exp_nonpos(s.sub(ld(s, c, k * w, w, ninf), m));
            super::st(s, d, k * w, w, v);
            *a = s.add(*a, v);
        }
    }
    let (rest, erest) = (xc.remainder(), ec.into_remainder());
    pieces::<S>(rest.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ rest.len() = erest.len()`, `len ≤ N`.
        unsafe {
            let v = s.exp_nonpos(s.sub(ldu(s, rest, i, len, ninf), m));
            stu(s, erest, i, len, v);
            acc[0] = s.add(acc[0], v);
        }
    });
}

/// [`max_sum_exp`] that also keeps the exps for a write pass without exp (`far`: the
/// prefetch distance, [`PREFETCH_AHEAD`] when set, as in the `f32` kernels):
/// `e_k = exp(x_k − mb_i)` for `k` in block `i`, `mb_i` the running max block `i` was
/// summed at (`−inf`, with `e = 0`, for a block skipped because every entry so far
/// was `−inf` or NaN). Then `p_k = e_k·exp(mb_i − m)/s`.
#[inline(always)]
pub(crate) fn max_sum_exp_store<S: Simd64>(s: S, x: &[f64], e: &mut [f64], mb: &mut [f64], far: bool) -> (f64, f64) {
    assert!(e.len() == x.len() && mb.len() == x.len().div_ceil(BLOCK));
    let ahead = if far { PREFETCH_AHEAD } else { 0 };
    let mut m = NEG_INF;
    let mut acc = [s.splat(0.0); 4];
    let mut poisoned = false;
    for ((blk, eb), mbi) in x.chunks(BLOCK).zip(e.chunks_mut(BLOCK)).zip(mb.iter_mut()) {
        let bm = row_max(s, blk);
        let mn = if bm > m { bm } else { m };
        if mn == NEG_INF {
            poisoned |= has_nan(s, blk);
            eb.fill(0.0);
            *mbi = NEG_INF;
            continue;
        }
        m = rescale(s, &mut acc, m, mn);
        *mbi = m;
        sum_exp_store(s, blk, eb, s.splat(m), &mut acc, ahead);
    }
    let total = sum4(s, acc);
    (m, if poisoned { f64::NAN } else { total })
}

/// `out_k = c_i·e_k` with `c_i = exp(mb_i − m)·r` for block `i`: softmax from the
/// exps of [`max_sum_exp_store`] (`r = 1/s`).
#[inline(always)]
pub(crate) fn scale_from_exp<S: Simd64>(s: S, e: &[f64], out: &mut [f64], mb: &[f64], m: f64, r: f64, wr: Wr) {
    assert!(e.len() == out.len() && mb.len() == e.len().div_ceil(BLOCK));
    let z = s.splat(0.0);
    for (bi, ((eb, ob), &mbi)) in e.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).zip(mb).enumerate() {
        let cv = s.splat(block_scale(mbi, m, r));
        let base = bi * BLOCK;
        write_nofence(
            s,
            ob,
            wr.nt,
            #[inline(always)]
            |i, len| {
                if let Some(p) = wr.next_at(base + i) {
                    s.prefetch_l2(p);
                }
                // SAFETY: `write_nofence` keeps `i + len ≤ ob.len() = eb.len()`.
                s.mul(cv, unsafe { ldu(s, eb, i, len, z) })
            },
        );
    }
    if wr.fences() {
        s.sfence();
    }
}

/// [`scale_from_exp`] in place, for exps that [`max_sum_exp_store`] kept in the output
/// row itself: `e_k ← c_i·e_k`, ordinary stores (`wr.nt` must be off), the next row
/// prefetched as there. For outputs that stay in the cache: each output line is then
/// fetched for ownership during the exp sweep, which is bound by arithmetic and hides
/// the fetch, not during the write pass (see the `f32` kernel).
#[inline(always)]
pub(crate) fn scale_in_place<S: Simd64>(s: S, e: &mut [f64], mb: &[f64], m: f64, r: f64, wr: Wr) {
    assert!(!wr.nt && mb.len() == e.len().div_ceil(BLOCK));
    let z = s.splat(0.0);
    for (bi, (eb, &mbi)) in e.chunks_mut(BLOCK).zip(mb).enumerate() {
        let cv = s.splat(block_scale(mbi, m, r));
        let base = bi * BLOCK;
        let n = eb.len();
        pieces::<S>(n, |i, len| {
            if let Some(p) = wr.next_at(base + i) {
                s.prefetch_l2(p);
            }
            // SAFETY: `pieces` keeps `i + len ≤ n = eb.len()`, `len ≤ N`.
            unsafe {
                let v = s.mul(cv, ldu(s, eb, i, len, z));
                stu(s, eb, i, len, v);
            }
        });
    }
}

/// The sparse gradient (see [`Grad`]) from the exps of [`max_sum_exp_store`]:
/// `out_k = c_i·e_k − b_all·w_k − b_y·[k = y]` with `c_i = a·exp((mb_i − m) − l)`.
#[inline(always)]
pub(crate) fn grad_from_exp<S: Simd64>(s: S, e: &[f64], out: &mut [f64], mb: &[f64], g: &Grad<'_, f64>, wr: Wr) {
    assert!(e.len() == out.len() && mb.len() == e.len().div_ceil(BLOCK));
    if let Some(w) = g.w {
        assert_eq!(w.len(), e.len());
    }
    let (z, bv) = (s.splat(0.0), s.splat(g.b_all));
    for (bi, ((eb, ob), &mbi)) in e.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).zip(mb).enumerate() {
        let base = bi * BLOCK;
        let cv = s.splat(g.a * ((mbi - g.m) - g.l).exp());
        let wb = g.w.map(|w| &w[base..base + eb.len()]);
        let yb = g.y.and_then(|y| y.checked_sub(base)).filter(|&y| y < eb.len());
        write_nofence(
            s,
            ob,
            wr.nt,
            #[inline(always)]
            |i, len| {
                if let Some(p) = wr.next_at(base + i) {
                    s.prefetch_l2(p);
                }
                // SAFETY: `write_nofence` keeps `i + len ≤ ob.len() = eb.len() (= wb.len())`.
                let p = s.mul(cv, unsafe { ldu(s, eb, i, len, z) });
                let mut v = match wb {
                    // SAFETY: as above.
                    Some(w) => s.neg_mul_add(bv, unsafe { ldu(s, w, i, len, z) }, p),
                    None => s.sub(p, bv),
                };
                if let Some(y) = yb {
                    if y.wrapping_sub(i) < len {
                        v = s.sub(v, lane(s, y - i, g.b_y));
                    }
                }
                v
            },
        );
    }
    if wr.fences() {
        s.sfence();
    }
}

/// Fill `out` from `f(i, len)`, the vector for `out[i..i + len]` (`f` may rely on
/// `i + len ≤ out.len()`, `len ≤ N`), with non-temporal stores for the aligned body
/// when `nt` is set (then followed by `sfence`).
#[inline(always)]
fn write<S: Simd64>(s: S, out: &mut [f64], nt: bool, f: impl FnMut(usize, usize) -> S::V) {
    write_nofence(s, out, nt, f);
    if nt {
        s.sfence();
    }
}

/// [`write`] without the closing `sfence`: the caller issues it.
#[inline(always)]
fn write_nofence<S: Simd64>(s: S, out: &mut [f64], nt: bool, mut f: impl FnMut(usize, usize) -> S::V) {
    let n = out.len();
    let w = S::N;
    let mut i = 0;
    if nt {
        let h = head_len::<S>(out);
        if h < w {
            if h > 0 {
                let v = f(0, h);
                // SAFETY: `h ≤ n` (`head_len`) and `h < N`.
                unsafe { stu(s, out, 0, h, v) };
                i = h;
            }
            while i + w <= n {
                let v = f(i, w);
                // SAFETY: `i + N ≤ n`; `out[h..]` is aligned and `i − h` is a multiple of N
                // elements, one `ALIGN` each.
                unsafe { st_ntu(s, out, i, v) };
                i += w;
            }
        }
    }
    while i < n {
        let len = w.min(n - i);
        let v = f(i, len);
        // SAFETY: `i + len ≤ n`, `len ≤ N`.
        unsafe { stu(s, out, i, len, v) };
        i += len;
    }
}

/// `out = exp(x − m) · r`, the next row prefetched and the pass closed as `wr` says.
#[inline(always)]
pub(crate) fn exp_scale<S: Simd64>(s: S, x: &[f64], out: &mut [f64], m: f64, r: f64, wr: Wr) {
    assert_eq!(x.len(), out.len());
    let (mv, rv, z) = (s.splat(m), s.splat(r), s.splat(0.0));
    write_nofence(
        s,
        out,
        wr.nt,
        #[inline(always)]
        |i, len| {
            if let Some(p) = wr.next_at(i) {
                s.prefetch_l2(p);
            }
            // SAFETY: `write_nofence` keeps `i + len ≤ out.len() = x.len()`.
            let v = unsafe { ldu(s, x, i, len, z) };
            s.mul(s.exp(s.sub(v, mv)), rv)
        },
    );
    if wr.fences() {
        s.sfence();
    }
}

/// `out = x` (the memory-bandwidth probe of the benchmark runner).
#[inline(always)]
pub(crate) fn copy<S: Simd64>(s: S, x: &[f64], out: &mut [f64], nt: bool) {
    assert_eq!(x.len(), out.len());
    let z = s.splat(0.0);
    write(
        s,
        out,
        nt,
        #[inline(always)]
        |i, len| {
            // SAFETY: `write` keeps `i + len ≤ out.len() = x.len()`.
            unsafe { ldu(s, x, i, len, z) }
        },
    );
}

/// `out = exp(x)` (tests and the exp benchmark).
#[inline(always)]
pub(crate) fn exp_map<S: Simd64>(s: S, x: &[f64], out: &mut [f64]) {
    exp_scale(s, x, out, 0.0, 1.0, Wr::nt(false));
}

/// `out = (x − m) − l`.
#[inline(always)]
pub(crate) fn sub2<S: Simd64>(s: S, x: &[f64], out: &mut [f64], m: f64, l: f64, wr: Wr) {
    assert_eq!(x.len(), out.len());
    let (mv, lv, z) = (s.splat(m), s.splat(l), s.splat(0.0));
    write_nofence(
        s,
        out,
        wr.nt,
        #[inline(always)]
        |i, len| {
            if let Some(p) = wr.next_at(i) {
                s.prefetch_l2(p);
            }
            // SAFETY: `write` keeps `i + len ≤ out.len() = x.len()`.
            let v = unsafe { ldu(s, x, i, len, z) };
            s.sub(s.sub(v, mv), lv)
        },
    );
    if wr.fences() {
        s.sfence();
    }
}

/// One vector of the sparse gradient (see [`Grad`]) for `x[i..i + len]`.
///
/// # Safety
/// `i + len ≤ w.len()` for the weights `g.w`, `len ≤ N`.
#[inline(always)]
unsafe fn grad_vec<S: Simd64>(s: S, xv: S::V, g: &Grad<'_, f64>, sh: (f64, f64, f64), i: usize, len: usize) -> S::V {
    let p = exp_shifted(s, xv, s.splat(sh.0), s.splat(sh.1), s.splat(sh.2));
    let mut v = match g.w {
        // SAFETY: in bounds (caller).
        Some(w) => s.neg_mul_add(s.splat(g.b_all), unsafe { ldu(s, w, i, len, s.splat(0.0)) }, s.mul(s.splat(g.a), p)),
        None => s.sub(s.mul(s.splat(g.a), p), s.splat(g.b_all)),
    };
    if let Some(y) = g.y {
        if y.wrapping_sub(i) < len {
            v = s.sub(v, lane(s, y - i, g.b_y));
        }
    }
    v
}

/// Sparse cross-entropy gradient row into `out` (see [`Grad`]), the next row prefetched
/// and the pass closed as `wr` says.
#[inline(always)]
pub(crate) fn sparse_grad<S: Simd64>(s: S, x: &[f64], out: &mut [f64], g: &Grad<'_, f64>, wr: Wr) {
    assert_eq!(x.len(), out.len());
    if let Some(w) = g.w {
        assert_eq!(w.len(), x.len());
    }
    let (z, sh) = (s.splat(0.0), shift3(g.m, g.l));
    write_nofence(
        s,
        out,
        wr.nt,
        #[inline(always)]
        |i, len| {
            if let Some(p) = wr.next_at(i) {
                s.prefetch_l2(p);
            }
            // SAFETY: `write_nofence` keeps `i + len ≤ out.len() = x.len() (= w.len())`.
            unsafe { grad_vec(s, ldu(s, x, i, len, z), g, sh, i, len) }
        },
    );
    if wr.fences() {
        s.sfence();
    }
}

/// Sparse cross-entropy gradient row written over the logits `x`.
#[inline(always)]
pub(crate) fn sparse_grad_in_place<S: Simd64>(s: S, x: &mut [f64], g: &Grad<'_, f64>) {
    if let Some(w) = g.w {
        assert_eq!(w.len(), x.len());
    }
    let (z, sh) = (s.splat(0.0), shift3(g.m, g.l));
    pieces::<S>(x.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ x.len() (= w.len())`, `len ≤ N`.
        unsafe {
            let v = grad_vec(s, ldu(s, x, i, len, z), g, sh, i, len);
            stu(s, x, i, len, v);
        }
    });
}

/// `Σ w_c·(l − x_c)` (`w_c = 1` without weights).
#[inline(always)]
pub(crate) fn smooth_sum<S: Simd64>(s: S, x: &[f64], w: Option<&[f64]>, l: f64) -> f64 {
    if let Some(w) = w {
        assert_eq!(w.len(), x.len());
    }
    let (lv, z) = (s.splat(l), s.splat(0.0));
    let mut acc = [z; 2];
    let mut k = 0;
    pieces::<S>(x.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ x.len() (= w.len())`, `len ≤ N`.
        let d = s.sub(lv, unsafe { ldu(s, x, i, len, lv) });
        acc[k] = match w {
            // SAFETY: as above.
            Some(w) => s.mul_add(unsafe { ldu(s, w, i, len, z) }, d, acc[k]),
            None => s.add(acc[k], d),
        };
        k ^= 1;
    });
    s.reduce_add(s.add(acc[0], acc[1]))
}

// ---------------------------------------------------------------------------------
// Backward rows and the dense cross-entropy.

/// The rounding error of `t = a + b` (TwoSum).
#[inline(always)]
fn sum_err<S: Simd64>(s: S, a: S::V, b: S::V, t: S::V) -> S::V {
    let bb = s.sub(t, a);
    s.add(s.sub(a, s.sub(t, bb)), s.sub(b, bb))
}

/// `Σ x`, compensated: each lane accumulates its rounding errors (TwoSum), then the
/// lanes and their errors are added by a compensated scalar sum, so the result is
/// within about an ulp of the exact sum (the log-softmax VJP's `Σ g`, the dense
/// gradient's `Σ t`).
#[inline(always)]
pub(crate) fn sum<S: Simd64>(s: S, x: &[f64]) -> f64 {
    let z = s.splat(0.0);
    let (mut acc, mut err) = ([z; 2], [z; 2]);
    let mut k = 0;
    pieces::<S>(x.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ x.len()`, `len ≤ N`.
        let v = unsafe { ldu(s, x, i, len, z) };
        let t = s.add(acc[k], v);
        err[k] = s.add(err[k], sum_err(s, acc[k], v, t));
        acc[k] = t;
        k ^= 1;
    });
    let mut lanes = [0.0f64; 8];
    let (mut plain, mut comp) = (0.0f64, 0.0f64);
    for (a, e) in acc.into_iter().zip(err) {
        super::st(s, &mut lanes, 0, S::N, a);
        for &v in &lanes[..S::N] {
            let t = plain + v;
            let bb = t - plain;
            comp += (plain - (t - bb)) + (v - bb);
            plain = t;
        }
        super::st(s, &mut lanes, 0, S::N, e);
        comp += lanes[..S::N].iter().sum::<f64>();
    }
    // An infinite term makes the error terms NaN: the plain sum is the answer then.
    if comp.is_nan() {
        plain
    } else {
        plain + comp
    }
}

/// `Σ a·b`.
#[inline(always)]
pub(crate) fn dot<S: Simd64>(s: S, a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let w = S::N;
    let z = s.splat(0.0);
    let mut acc = [z; 4];
    let mut ca = a.chunks_exact(4 * w);
    let mut cb = b.chunks_exact(4 * w);
    for (u, v) in (&mut ca).zip(&mut cb) {
        for (k, c) in acc.iter_mut().enumerate() {
            *c = s.mul_add(ld(s, u, k * w, w, z), ld(s, v, k * w, w, z), *c);
        }
    }
    let (ra, rb) = (ca.remainder(), cb.remainder());
    pieces::<S>(ra.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ ra.len() = rb.len()`, `len ≤ N`.
        let (u, v) = unsafe { (ldu(s, ra, i, len, z), ldu(s, rb, i, len, z)) };
        acc[0] = s.mul_add(u, v, acc[0]);
    });
    sum4(s, acc)
}

/// `(Σ a·b, Σ a)`, accumulated identically (a `b` of ones gives `Σ a` twice, to the
/// bit): the softmax VJP's `Σ y·g` and its normaliser `Σ y`.
#[inline(always)]
pub(crate) fn dot_sum<S: Simd64>(s: S, a: &[f64], b: &[f64]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let z = s.splat(0.0);
    let (mut acc, mut sum) = ([z; 2], [z; 2]);
    let mut k = 0;
    pieces::<S>(a.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ a.len() = b.len()`, `len ≤ N`.
        let (u, v) = unsafe { (ldu(s, a, i, len, z), ldu(s, b, i, len, z)) };
        acc[k] = s.mul_add(u, v, acc[k]);
        sum[k] = s.mul_add(u, s.splat(1.0), sum[k]);
        k ^= 1;
    });
    (s.reduce_add(s.add(acc[0], acc[1])), s.reduce_add(s.add(sum[0], sum[1])))
}

/// Softmax VJP row: `out = y · (gy − d)`.
#[inline(always)]
pub(crate) fn softmax_bwd<S: Simd64>(s: S, y: &[f64], gy: &[f64], out: &mut [f64], d: f64, nt: bool) {
    assert!(y.len() == out.len() && gy.len() == out.len());
    let (dv, z) = (s.splat(d), s.splat(0.0));
    write(
        s,
        out,
        nt,
        #[inline(always)]
        |i, len| {
            // SAFETY: `write` keeps `i + len ≤ out.len() = y.len() = gy.len()`.
            let (a, b) = unsafe { (ldu(s, y, i, len, z), ldu(s, gy, i, len, z)) };
            s.mul(a, s.sub(b, dv))
        },
    );
}

/// Log-softmax VJP row: `out = gy − exp((x − m) − ls) · t` (see [`exp_shifted`]);
/// from the forward output `y` it is `x = y`, `m = ls = 0`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // one scalar per term of the formula
pub(crate) fn log_softmax_bwd<S: Simd64>(s: S, x: &[f64], gy: &[f64], out: &mut [f64], m: f64, ls: f64, t: f64, nt: bool) {
    assert!(x.len() == out.len() && gy.len() == out.len());
    let (a3, b3, c3) = shift3(m, ls);
    let (tv, av, bv, cv, z) = (s.splat(t), s.splat(a3), s.splat(b3), s.splat(c3), s.splat(0.0));
    write(
        s,
        out,
        nt,
        #[inline(always)]
        |i, len| {
            // SAFETY: `write` keeps `i + len ≤ out.len() = x.len() = gy.len()`.
            let (a, b) = unsafe { (ldu(s, x, i, len, z), ldu(s, gy, i, len, z)) };
            s.neg_mul_add(exp_shifted(s, a, av, bv, cv), tv, b)
        },
    );
}

/// Dense cross-entropy row: `Σ w_c·t_c·(ls − (x_c − m))` (the log-sum-exp `m + ls`
/// is never rounded as one number).
#[inline(always)]
pub(crate) fn dense_ce<S: Simd64>(s: S, x: &[f64], t: &[f64], w: Option<&[f64]>, m: f64, ls: f64) -> f64 {
    assert_eq!(x.len(), t.len());
    if let Some(w) = w {
        assert_eq!(w.len(), x.len());
    }
    let (mv, lv, z) = (s.splat(m), s.splat(ls), s.splat(0.0));
    let mut acc = [z; 2];
    let mut k = 0;
    pieces::<S>(x.len(), |i, len| {
        // SAFETY: `pieces` keeps `i + len ≤ x.len() = t.len() (= w.len())`, `len ≤ N`.
        unsafe {
            let mut tw = ldu(s, t, i, len, z);
            if let Some(w) = w {
                tw = s.mul(tw, ldu(s, w, i, len, z));
            }
            acc[k] = s.mul_add(tw, s.sub(lv, s.sub(ldu(s, x, i, len, mv), mv)), acc[k]);
        }
        k ^= 1;
    });
    s.reduce_add(s.add(acc[0], acc[1]))
}

/// Dense cross-entropy gradient row: `out = sc·(exp((x − m) − ls)·a − w∘t)`, the exp
/// by [`exp_shifted`] and `p·a − w·t` rounded once.
#[allow(clippy::too_many_arguments)] // one scalar per term of the formula
#[inline(always)]
pub(crate) fn dense_grad<S: Simd64>(
    s: S,
    x: &[f64],
    t: &[f64],
    w: Option<&[f64]>,
    m: f64,
    ls: f64,
    a: f64,
    sc: f64,
    out: &mut [f64],
    nt: bool,
) {
    assert!(x.len() == out.len() && t.len() == out.len());
    if let Some(w) = w {
        assert_eq!(w.len(), x.len());
    }
    let (a3, b3, c3) = shift3(m, ls);
    let (a3, b3, c3) = (s.splat(a3), s.splat(b3), s.splat(c3));
    let (av, sv, z) = (s.splat(a), s.splat(sc), s.splat(0.0));
    write(
        s,
        out,
        nt,
        #[inline(always)]
        |i, len| {
            // SAFETY: `write` keeps `i + len ≤ out.len() = x.len() = t.len() (= w.len())`.
            unsafe {
                let p = exp_shifted(s, ldu(s, x, i, len, z), a3, b3, c3);
                let mut tw = ldu(s, t, i, len, z);
                if let Some(w) = w {
                    tw = s.mul(tw, ldu(s, w, i, len, z));
                }
                s.mul(sv, s.mul_add(p, av, s.sub(z, tw)))
            }
        },
    );
}

//! Scalar reference kernels: the fallback on machines without SIMD and the test
//! oracle for the SIMD paths.
//!
//! Every function works on one contiguous row of `C` classes. The log-sum-exp is
//! the classic two-pass form: `m = max_c x_c`, `s = Σ_c exp(x_c − m)`,
//! `lse = m + ln s`. Subtracting the row max keeps every `exp` argument ≤ 0, so
//! nothing overflows; a row holding NaN or `+inf`, or only `−inf`, gives NaN, as in
//! TensorFlow and PyTorch.

use crate::float::Float;

/// Row maximum with NaN propagation (`max` of a row containing NaN is NaN).
#[inline]
pub fn row_max<T: Float>(x: &[T]) -> T {
    let mut m = T::neg_infinity();
    for &v in x {
        // `v > m` is false for NaN, so test NaN explicitly to propagate it.
        if v > m || v.is_nan() {
            m = v;
            if v.is_nan() {
                return v;
            }
        }
    }
    m
}

/// `Σ_c exp(x_c − m)`.
#[inline]
pub fn sum_exp<T: Float>(x: &[T], m: T) -> T {
    let mut s = T::zero();
    for &v in x {
        s += (v - m).exp();
    }
    s
}

/// `ln Σ_c exp(x_c)` computed as `m + ln Σ exp(x_c − m)`. An empty row gives `−inf`.
#[inline]
pub fn logsumexp<T: Float>(x: &[T]) -> T {
    let m = row_max(x);
    if m == T::neg_infinity() && !x.is_empty() {
        // every entry −inf: (−inf) − (−inf) is NaN, as in the frameworks
        return T::nan();
    }
    m + sum_exp(x, m).ln()
}

/// `out_c = exp(x_c − m) · (1 / Σ exp(x − m))` (reciprocal-multiply, as TF and PyTorch on CPU).
pub fn softmax_row<T: Float>(x: &[T], out: &mut [T]) {
    let m = row_max(x);
    let mut s = T::zero();
    for (o, &v) in out.iter_mut().zip(x) {
        let e = (v - m).exp();
        *o = e;
        s += e;
    }
    let r = s.recip();
    for o in out.iter_mut() {
        *o *= r;
    }
}

/// `out_c = x_c − m − ln Σ exp(x − m)`.
pub fn log_softmax_row<T: Float>(x: &[T], out: &mut [T]) {
    let m = row_max(x);
    let l = sum_exp(x, m).ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - m - l;
    }
}

/// Softmax VJP: `out = y ∘ (gy − Σ gy·y / Σ y)` with `y` the forward softmax (the
/// normaliser, 1 in exact arithmetic, makes a constant `gy` give exactly 0).
pub fn softmax_bwd_row<T: Float>(y: &[T], gy: &[T], out: &mut [T]) {
    let (mut d, mut s) = (T::zero(), T::zero());
    for (&a, &b) in y.iter().zip(gy) {
        d += a * b;
        s += a;
    }
    let d = d / s;
    for ((o, &a), &b) in out.iter_mut().zip(y).zip(gy) {
        *o = a * (b - d);
    }
}

/// Log-softmax VJP: `out = gy − exp(y) · Σ gy` with `y` the forward log-softmax.
pub fn log_softmax_bwd_row<T: Float>(y: &[T], gy: &[T], out: &mut [T]) {
    let s = sum_compensated(gy);
    for ((o, &a), &b) in out.iter_mut().zip(y).zip(gy) {
        *o = b - a.exp() * s;
    }
}

/// `Σ x` with the rounding error of each addition accumulated apart (TwoSum) and
/// added at the end: within about an ulp of the exact sum. An infinite term gives the
/// plain sum (its error terms are NaN). `half::f16` keeps the plain sum (the Keras
/// half arithmetic this type reproduces).
pub fn sum_compensated<T: Float>(x: &[T]) -> T {
    let (mut s, mut c) = (T::zero(), T::zero());
    let plain = T::DTYPE == crate::array::DType::F16;
    for &v in x {
        let t = s + v;
        if !plain {
            let bb = t - s;
            c += (s - (t - bb)) + (v - bb);
        }
        s = t;
    }
    if c.is_nan() {
        s
    } else {
        s + c
    }
}

/// `exp((x − m) − l)` with the rounding errors of both subtractions folded back in
/// (TwoSum, `e^{v + δ} ≈ e^v·(1 + δ)`): about the `exp`'s own accuracy however large
/// `|x − m|` is. An exp of 0 stays 0; NaN stays NaN. `half::f16` keeps the plain form.
#[inline]
pub fn exp_shifted<T: Float>(x: T, m: T, l: T) -> T {
    let u = x - m;
    let v = u - l;
    let p = v.exp();
    if T::DTYPE == crate::array::DType::F16 || p == T::zero() {
        return p;
    }
    let bb = u - x;
    let e1 = (x - (u - bb)) - (m + bb);
    let bb = v - u;
    let e2 = (u - (v - bb)) - (l + bb);
    p + p * (e1 + e2)
}

/// `Σ_c w_c x_c` (or `Σ_c x_c` without weights).
#[inline]
pub fn weighted_sum<T: Float>(x: &[T], w: Option<&[T]>) -> T {
    let mut s = T::zero();
    match w {
        Some(w) => {
            for (&v, &wc) in x.iter().zip(w) {
                s += wc * v;
            }
        }
        None => {
            for &v in x {
                s += v;
            }
        }
    }
    s
}

/// Dense cross-entropy of one row given its max `m` and `ls = ln Σ exp(x − m)`:
/// `Σ_c w_c t_c (ls − (x_c − m))` (weights 1 when `w` is `None`). The log-sum-exp
/// `m + ls` is never formed: rounding it would lose the digits of `ls` when `|m|` is
/// large (logits near 1000 in float32).
#[inline]
pub fn dense_ce_row<T: Float>(x: &[T], t: &[T], w: Option<&[T]>, m: T, ls: T) -> T {
    let mut s = T::zero();
    match w {
        Some(w) => {
            for ((&v, &tc), &wc) in x.iter().zip(t).zip(w) {
                s += wc * tc * (ls - (v - m));
            }
        }
        None => {
            for (&v, &tc) in x.iter().zip(t) {
                s += tc * (ls - (v - m));
            }
        }
    }
    s
}

/// The fused gradient row `out_k = a · exp(x_k − lse) − b_k`, where the caller has
/// folded the label, smoothing, weights and scale into `a` and `b`.
/// `b_k = b_all·w_k + b_y·[k = y]` (`w_k = 1` without weights; a `y` outside the
/// row has no `b_y` term: the callers validate labels first).
#[inline]
#[allow(clippy::too_many_arguments)] // one scalar per term of the formula above
pub fn sparse_grad_row<T: Float>(x: &[T], out: &mut [T], lse: T, a: T, b_all: T, w: Option<&[T]>, y: Option<usize>, b_y: T) {
    match w {
        Some(w) => {
            for ((o, &v), &wc) in out.iter_mut().zip(x).zip(w) {
                *o = a * (v - lse).exp() - b_all * wc;
            }
        }
        None => {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = a * (v - lse).exp() - b_all;
            }
        }
    }
    if let Some(o) = y.and_then(|y| out.get_mut(y)) {
        *o -= b_y;
    }
}

/// Dense gradient row: `out_k = s · (p_k · a − w_k t_k)` where
/// `p = exp((x − m) − ls)` (by [`exp_shifted`]), `m` the row max and
/// `ls = ln Σ exp(x − m)`.
/// TF's fused kernel is `a = 1`, `w = 1`; the exact derivative is `a = Σ_c w_c t_c`.
#[inline]
#[allow(clippy::too_many_arguments)] // one scalar per term of the formula above
pub fn dense_grad_row<T: Float>(x: &[T], t: &[T], w: Option<&[T]>, m: T, ls: T, a: T, s: T, out: &mut [T]) {
    match w {
        Some(w) => {
            for (((o, &v), &tc), &wc) in out.iter_mut().zip(x).zip(t).zip(w) {
                *o = s * (exp_shifted(v, m, ls) * a - wc * tc);
            }
        }
        None => {
            for ((o, &v), &tc) in out.iter_mut().zip(x).zip(t) {
                *o = s * (exp_shifted(v, m, ls) * a - tc);
            }
        }
    }
}

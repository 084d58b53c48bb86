//! Where-masked softmax, log-softmax and log-sum-exp, and the element-wise logistic
//! functions, evaluated as JAX's XLA graphs evaluate them (`jax.nn`, jax 0.10.2), with
//! their VJPs as JAX's autodiff derives them from those graphs (the graph decides the
//! NaN and infinity patterns: `−∞ − (−∞)` is NaN, `0 · ∞` is NaN).
//!
//! Data are contiguous slices with a [`Geom`] `(outer, classes, inner)`; a lane is the
//! `classes` elements `base + c · inner`. A mask `w` has one `bool` per element
//! (already broadcast to the data's shape); `None` means every element takes part.

use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::Geom;

/// Fail unless `x` holds `g`'s elements and `w` (when given) one per element: the
/// slices every function here indexes. Returns the element count.
fn check_x<T>(op: &str, x: &[T], w: Option<&[bool]>, g: Geom) -> Result<usize> {
    let n = g.outer.checked_mul(g.classes).and_then(|n| n.checked_mul(g.inner));
    let Some(n) = n else {
        return Err(Error::shape(op, format!("the geometry {g:?} has more elements than fit in memory")));
    };
    super::same_shape(op, "x", &[x.len()], "the geometry (outer × classes × inner)", &[n])?;
    if let Some(w) = w {
        super::same_shape(op, "where", &[w.len()], "x", &[x.len()])?;
    }
    Ok(n)
}

/// [`check_x`], and `gy` holds `gy_len` values (default: one per element): the
/// slices the VJPs index.
fn check_lens<T>(op: &str, x: &[T], w: Option<&[bool]>, gy: &[T], gy_len: impl Fn(Geom) -> Option<usize>, g: Geom) -> Result<()> {
    let n = check_x(op, x, w, g)?;
    super::check_grad(op, &[gy.len()], &[gy_len(g).unwrap_or(n)])
}

/// The first element of every lane of `g`.
pub fn lane_bases(g: Geom) -> impl Iterator<Item = usize> {
    let (c, inner) = (g.classes, g.inner);
    (0..g.outer).flat_map(move |o| (0..inner).map(move |i| o * c * inner + i))
}

#[inline]
fn on(w: Option<&[bool]>, k: usize) -> bool {
    w.is_none_or(|w| w[k])
}

/// XLA's `max`: NaN propagates.
#[inline]
fn xmax<T: Float>(a: T, b: T) -> T {
    if a.is_nan() || b.is_nan() {
        T::nan()
    } else if a > b {
        a
    } else {
        b
    }
}

/// Per lane: the masked maximum (`jnp.max(x, where=w, initial=-inf)`).
fn lane_max<T: Float>(x: &[T], w: Option<&[bool]>, g: Geom, b: usize) -> T {
    (0..g.classes).map(|c| b + c * g.inner).filter(|&k| on(w, k)).fold(T::neg_infinity(), |m, k| xmax(m, x[k]))
}

/// `jax.nn.log_softmax(x, axis, where)`: `s = where(w, x, −∞) − max_w x`,
/// `r = s − ln Σ_w exp s`, `−∞` where masked.
///
/// # Errors
/// [`Error::Shape`] unless `x` has `g.len()` elements and `w` (when given) as many.
pub fn jax_log_softmax<T: Float>(x: &[T], w: Option<&[bool]>, g: Geom) -> Result<Vec<T>> {
    check_x("jax.nn.log_softmax", x, w, g)?;
    if x.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![T::zero(); x.len()];
    for b in lane_bases(g) {
        let m = lane_max(x, w, g, b);
        let idx = || (0..g.classes).map(|c| b + c * g.inner);
        let s = |k: usize| if on(w, k) { x[k] } else { T::neg_infinity() } - m;
        let sum: T = idx().filter(|&k| on(w, k)).map(|k| s(k).exp()).fold(T::zero(), |a, e| a + e);
        let l = sum.ln();
        for k in idx() {
            out[k] = if on(w, k) { s(k) - l } else { T::neg_infinity() };
        }
    }
    Ok(out)
}

/// The VJP of [`jax_log_softmax`] with upstream `gy`, as JAX's autodiff of its graph:
/// `gs = gr + e · (−Σ gr) / S`, zero where masked.
///
/// # Errors
/// [`Error::Shape`] unless `x`, `w` and `gy` all have `g.len()` elements.
///
/// ```
/// use xent::kernels::Geom;
/// use xent::ops::masked::jax_log_softmax_vjp;
/// let g = Geom::rows(1, 2);
/// assert_eq!(jax_log_softmax_vjp(&[0.0f64, 0.0], None, &[1.0, 0.0], g).unwrap(), vec![0.5, -0.5]);
/// assert!(jax_log_softmax_vjp(&[0.0f64, 0.0], None, &[1.0], g).is_err());
/// ```
pub fn jax_log_softmax_vjp<T: Float>(x: &[T], w: Option<&[bool]>, gy: &[T], g: Geom) -> Result<Vec<T>> {
    check_lens("jax.nn.log_softmax", x, w, gy, |_| None, g)?;
    Ok(jax_log_softmax_vjp_by(x, w, |k| gy[k], g))
}

/// [`jax_log_softmax_vjp`] with the upstream element `k` given by `gy(k)` (a constant
/// upstream needs no array).
pub(crate) fn jax_log_softmax_vjp_by<T: Float>(x: &[T], w: Option<&[bool]>, gy: impl Fn(usize) -> T, g: Geom) -> Vec<T> {
    if x.is_empty() {
        return Vec::new();
    }
    let mut out = vec![T::zero(); x.len()];
    for b in lane_bases(g) {
        let m = lane_max(x, w, g, b);
        let idx = || (0..g.classes).map(|c| b + c * g.inner);
        let e = |k: usize| (if on(w, k) { x[k] } else { T::neg_infinity() } - m).exp();
        let sum: T = idx().filter(|&k| on(w, k)).map(e).fold(T::zero(), |a, v| a + v);
        let gr = |k: usize| if on(w, k) { gy(k) } else { T::zero() };
        let gl = -idx().map(gr).fold(T::zero(), |a, v| a + v);
        let gsum = gl / sum;
        for k in idx() {
            let ge = if on(w, k) { gsum } else { T::zero() };
            let gs = gr(k) + ge * e(k);
            out[k] = if on(w, k) { gs } else { T::zero() };
        }
    }
    out
}

/// `jax.nn.softmax(x, axis, where)` (jax 0.10.2's default, `jax_softmax_custom_jvp`
/// off): `u = exp(where(w, x, −∞) − max_w x)`, `u / Σ_w u`, 0 where masked.
///
/// # Errors
/// [`Error::Shape`] unless `x` has `g.len()` elements and `w` (when given) as many.
pub fn jax_softmax<T: Float>(x: &[T], w: Option<&[bool]>, g: Geom) -> Result<Vec<T>> {
    check_x("jax.nn.softmax", x, w, g)?;
    if x.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![T::zero(); x.len()];
    for b in lane_bases(g) {
        let m = lane_max(x, w, g, b);
        let idx = || (0..g.classes).map(|c| b + c * g.inner);
        let u = |k: usize| (if on(w, k) { x[k] } else { T::neg_infinity() } - m).exp();
        let sum: T = idx().filter(|&k| on(w, k)).map(u).fold(T::zero(), |a, v| a + v);
        for k in idx() {
            out[k] = if on(w, k) { u(k) / sum } else { T::zero() };
        }
    }
    Ok(out)
}

/// The VJP of [`jax_softmax`]: the autodiff of `u / S` (`gu = gr / S + Σ(−gr · u) / S²`)
/// through `exp` (`gs = gu · u`), zero where masked.
///
/// # Errors
/// [`Error::Shape`] unless `x`, `w` and `gy` all have `g.len()` elements.
///
/// ```
/// use xent::kernels::Geom;
/// use xent::ops::masked::jax_softmax_vjp;
/// let g = Geom::rows(1, 2);
/// assert_eq!(jax_softmax_vjp(&[0.0f64, 0.0], None, &[1.0, 0.0], g).unwrap(), vec![0.25, -0.25]);
/// assert!(jax_softmax_vjp(&[0.0f64, 0.0], Some(&[true]), &[1.0, 0.0], g).is_err());
/// ```
pub fn jax_softmax_vjp<T: Float>(x: &[T], w: Option<&[bool]>, gy: &[T], g: Geom) -> Result<Vec<T>> {
    check_lens("jax.nn.softmax", x, w, gy, |_| None, g)?;
    Ok(jax_softmax_vjp_by(x, w, |k| gy[k], g))
}

/// [`jax_softmax_vjp`] with the upstream element `k` given by `gy(k)`.
pub(crate) fn jax_softmax_vjp_by<T: Float>(x: &[T], w: Option<&[bool]>, gy: impl Fn(usize) -> T, g: Geom) -> Vec<T> {
    if x.is_empty() {
        return Vec::new();
    }
    let mut out = vec![T::zero(); x.len()];
    for b in lane_bases(g) {
        let m = lane_max(x, w, g, b);
        let idx = || (0..g.classes).map(|c| b + c * g.inner);
        let u = |k: usize| (if on(w, k) { x[k] } else { T::neg_infinity() } - m).exp();
        let sum: T = idx().filter(|&k| on(w, k)).map(u).fold(T::zero(), |a, v| a + v);
        let gr = |k: usize| if on(w, k) { gy(k) } else { T::zero() };
        let inv2 = T::one() / (sum * sum);
        let gsum = idx().map(|k| -gr(k) * u(k) * inv2).fold(T::zero(), |a, v| a + v);
        for k in idx() {
            let gu = gr(k) / sum + if on(w, k) { gsum } else { T::zero() };
            out[k] = if on(w, k) { gu * u(k) } else { T::zero() };
        }
    }
    out
}

/// `jax.nn.logsumexp(a, axis, where=w)` per lane: `a = where(w, a, 0)`, `m = max_w a`
/// (0 when not finite), `ln |Σ_w exp(a − m)| + m`.
///
/// # Errors
/// [`Error::Shape`] unless `x` has `g.len()` elements and `w` (when given) as many.
pub fn jax_logsumexp<T: Float>(x: &[T], w: Option<&[bool]>, g: Geom) -> Result<Vec<T>> {
    check_x("jax.nn.logsumexp", x, w, g)?;
    Ok(lane_bases(g)
        .map(|b| {
            let idx = || (0..g.classes).map(|c| b + c * g.inner);
            let a = |k: usize| if on(w, k) { x[k] } else { T::zero() };
            let m = idx().filter(|&k| on(w, k)).fold(T::neg_infinity(), |m, k| xmax(m, a(k)));
            let m = if m.is_finite() { m } else { T::zero() };
            let s: T = idx().filter(|&k| on(w, k)).map(|k| (a(k) - m).exp()).fold(T::zero(), |acc, v| acc + v);
            s.abs().ln() + m
        })
        .collect())
}

/// The VJP of [`jax_logsumexp`] with one upstream value per lane:
/// `exp(a − m) · gy / |S|`, zero where masked.
///
/// # Errors
/// [`Error::Shape`] unless `x` and `w` have `g.len()` elements and `gy` one per lane
/// (`g.outer · g.inner`).
///
/// ```
/// use xent::kernels::Geom;
/// use xent::ops::masked::jax_logsumexp_vjp;
/// let g = Geom::rows(1, 2);
/// assert_eq!(jax_logsumexp_vjp(&[0.0f64, 0.0], None, &[1.0], g).unwrap(), vec![0.5, 0.5]);
/// assert!(jax_logsumexp_vjp(&[0.0f64, 0.0], None, &[], g).is_err());
/// ```
pub fn jax_logsumexp_vjp<T: Float>(x: &[T], w: Option<&[bool]>, gy: &[T], g: Geom) -> Result<Vec<T>> {
    let lanes = g
        .outer
        .checked_mul(g.inner)
        .ok_or_else(|| Error::shape("jax.nn.logsumexp", format!("the geometry {g:?} has more lanes than fit in memory")))?;
    check_lens("jax.nn.logsumexp", x, w, gy, |_| Some(lanes), g)?;
    if x.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = vec![T::zero(); x.len()];
    for (lane, b) in lane_bases(g).enumerate() {
        let idx = || (0..g.classes).map(|c| b + c * g.inner);
        let a = |k: usize| if on(w, k) { x[k] } else { T::zero() };
        let m = idx().filter(|&k| on(w, k)).fold(T::neg_infinity(), |m, k| xmax(m, a(k)));
        let m = if m.is_finite() { m } else { T::zero() };
        let s: T = idx().filter(|&k| on(w, k)).map(|k| (a(k) - m).exp()).fold(T::zero(), |acc, v| acc + v);
        // d ln|S| = g / |S| · (S >= 0 ? 1 : −1)
        let gs = if s >= T::zero() { gy[lane] / s.abs() } else { -(gy[lane] / s.abs()) };
        for k in idx() {
            out[k] = if on(w, k) { gs * (a(k) - m).exp() } else { T::zero() };
        }
    }
    Ok(out)
}

/// `jax.nn.sigmoid` (`lax.logistic`, lowered as `1 / (1 + exp(−x))`).
pub fn jax_sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// The derivative of [`jax_sigmoid`] times `g`: `g · (s · (1 − s))`.
pub fn jax_sigmoid_vjp<T: Float>(x: T, g: T) -> T {
    let s = jax_sigmoid(x);
    g * (s * (T::one() - s))
}

/// `jnp.logaddexp(a, b)` (`lax.logaddexp`): `max + log1p(exp(−|a − b|))`, or `a + b`
/// where `a − b` is NaN.
pub fn jax_logaddexp<T: Float>(a: T, b: T) -> T {
    let d = a - b;
    if d.is_nan() {
        a + b
    } else {
        xmax(a, b) + (-(d.abs())).exp().ln_1p()
    }
}

/// The partial derivatives of [`jax_logaddexp`] (its custom JVP):
/// `exp(r(a) − r(out))`, `exp(r(b) − r(out))` with `r` mapping +∞ (only) to 0.
pub fn jax_logaddexp_partials<T: Float>(a: T, b: T) -> (T, T) {
    let r = |v: T| if v == T::infinity() { T::zero() } else { v };
    let o = r(jax_logaddexp(a, b));
    ((r(a) - o).exp(), (r(b) - o).exp())
}

/// `jax.nn.log_sigmoid(x) = −logaddexp(−x, 0)`.
pub fn jax_log_sigmoid<T: Float>(x: T) -> T {
    -jax_logaddexp(-x, T::zero())
}

/// The derivative of [`jax_log_sigmoid`] times `g`.
pub fn jax_log_sigmoid_vjp<T: Float>(x: T, g: T) -> T {
    let (da, _) = jax_logaddexp_partials(-x, T::zero());
    g * da
}

/// `jax.scipy.special.logsumexp([a0, a1], b=[b0, b1])` (Optax's `log(1 − p_t)` in
/// `sigmoid_focal_loss`): terms with `b = 0` are dropped (`a = −∞`), `m` the max (0 when
/// not finite), `ln |Σ b exp(a − m)| + m`, NaN when the sum is negative. Returns the
/// value and its partial derivatives with respect to `a0` and `a1`.
pub fn jax_logsumexp2_b<T: Float>(a: [T; 2], b: [T; 2]) -> (T, [T; 2]) {
    let a = [0, 1].map(|k| if b[k] != T::zero() { a[k] } else { T::neg_infinity() });
    let m = xmax(a[0], a[1]);
    let m = if m.is_finite() { m } else { T::zero() };
    let ex = [0, 1].map(|k| (a[k] - m).exp());
    let s = ex[0] * b[0] + ex[1] * b[1];
    let out = s.abs().ln() + m;
    let out = if s < T::zero() { T::nan() } else { out };
    // d out / d s = sel(s >= 0, 1, -1) / |s|; d s / d a_k = b_k exp(a_k - m), 0 where dropped.
    let gs = if s >= T::zero() { T::one() / s.abs() } else { -(T::one() / s.abs()) };
    let d = [0, 1].map(|k| if b[k] != T::zero() { gs * b[k] * ex[k] } else { T::zero() });
    (out, d)
}

/// `optax.losses.sigmoid_binary_cross_entropy` for one element:
/// `−z · log_sigmoid(x) − (1 − z) · log_sigmoid(−x)`, and its derivative in `x` times `g`.
pub fn optax_sigmoid_bce<T: Float>(x: T, z: T, g: T) -> (T, T) {
    let (lp, lq) = (jax_log_sigmoid(x), jax_log_sigmoid(-x));
    let out = -z * lp - (T::one() - z) * lq;
    let glp = g * (-z);
    let glq = -g * (T::one() - z);
    (out, jax_log_sigmoid_vjp(x, glp) - jax_log_sigmoid_vjp(-x, glq))
}

/// `optax.losses.sigmoid_focal_loss` for one element: `ce · exp(γ · log(1 − p_t))`, times
/// `α z + (1 − α)(1 − z)` when `alpha` is given; and its derivative in `x` times `g`.
pub fn optax_sigmoid_focal<T: Float>(x: T, z: T, alpha: Option<T>, gamma: T, g: T) -> (T, T) {
    let wt = alpha.map(|a| a * z + (T::one() - a) * (T::one() - z));
    let (lp, lq) = (jax_log_sigmoid(x), jax_log_sigmoid(-x));
    let ce = -z * lp - (T::one() - z) * lq;
    let (lomp, d) = jax_logsumexp2_b([lp, lq], [T::one() - z, z]);
    let fw = (gamma * lomp).exp();
    let loss = ce * fw;
    let out = wt.map_or(loss, |w| w * loss);
    // Reverse mode in the graph's order.
    let gl = wt.map_or(g, |w| g * w);
    let gce = gl * fw;
    let gfw = gl * ce;
    let glomp = gfw * fw * gamma;
    let (_, gx_ce) = optax_sigmoid_bce(x, z, gce);
    let glp = glomp * d[0];
    let glq = glomp * d[1];
    (out, gx_ce + jax_log_sigmoid_vjp(x, glp) - jax_log_sigmoid_vjp(-x, glq))
}

//! JAX (`jax.nn`, jax/jaxlib 0.10.2) and Optax (`optax.losses`, optax 0.2.8) on CPU:
//! names, defaults, axes, `where` masks and label handling mapped onto the core ops
//! ([`crate::ops::masked`] holds the numerics of JAX's graphs).
//!
//! JAX never raises on label values: an integer label `y` in `[−C, −1]` wraps to
//! `y + C` (NumPy indexing), one outside `[−C, C)` reads NaN (`take_along_axis`'s fill
//! mode) so its loss is NaN while its gradient stays finite (the scatter drops it), and
//! `one_hot` gives an all-zero row. It raises on shapes that do not broadcast and on
//! axes out of range, as here. `where` masks are broadcast to the prediction's shape;
//! masked positions give 0 (softmax), −∞ (log_softmax) and take no part in the sums.
//!
//! Dtypes: float16, float32 and float64 inputs (JAX computes float64 only with x64 on;
//! the golden data were made that way). Labels and targets are cast to the
//! prediction's dtype.
//!
//! ```
//! use ndarray::array;
//! let x = array![[1.0f64, 2.0, 3.0]].into_dyn();
//! let y = xent::jax::log_softmax(&x.view(), None, -1).unwrap();
//! assert!((y[[0, 2]] - -0.40760596444438024).abs() < 1e-15); // jax.nn.log_softmax, x64
//! ```

use std::borrow::Cow;

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::Geom;
use crate::layout::{geom, normalize_axis, reduced_shape};
use crate::ops::masked as m;

/// The contiguous elements of `x`, borrowed when it is already contiguous.
fn flat<'a, T: Clone>(x: &'a ArrayViewD<'_, T>) -> Cow<'a, [T]> {
    match x.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(x.iter().cloned().collect()),
    }
}

/// `w` broadcast to `shape` (NumPy rules), as one bool per element.
///
/// # Errors
/// [`Error::Shape`] naming `op` when the shapes do not broadcast.
pub fn broadcast_mask(op: &str, w: &ArrayViewD<'_, bool>, shape: &[usize]) -> Result<Vec<bool>> {
    let b = w
        .broadcast(IxDyn(shape))
        .ok_or_else(|| Error::shape(op, format!("`where` of shape {:?} does not broadcast to the input's shape {shape:?}", w.shape())))?;
    Ok(b.iter().copied().collect())
}

/// `a` broadcast to `shape` (NumPy rules), borrowed when it already has that shape.
fn broadcast_to<'a, T: Clone>(op: &str, name: &str, a: &'a ArrayViewD<'_, T>, shape: &[usize]) -> Result<Cow<'a, [T]>> {
    if a.shape() == shape {
        if let Some(s) = a.as_slice() {
            return Ok(Cow::Borrowed(s));
        }
    }
    let b = a.broadcast(IxDyn(shape)).ok_or_else(|| {
        Error::shape(op, format!("`{name}` of shape {:?} does not broadcast to the prediction's shape {shape:?}", a.shape()))
    })?;
    Ok(b.iter().cloned().collect())
}

/// The result of a reduction over lanes of no elements (an axis of length 0): every
/// lane gets `v`, allocated fallibly (a (2^40, 0) input has 2^40 lanes). `None` when
/// the input has elements.
fn empty_lanes<T: Float>(op: &str, n: usize, shape: &[usize], v: T) -> Option<Result<ArrayD<T>>> {
    (n == 0).then(|| crate::layout::try_filled(op, "output", shape, v))
}

/// Fail unless the upstream gradient `gy` has the shape of `x` (the output's shape).
fn check_upstream<T>(op: &str, gy: &ArrayViewD<'_, T>, x: &ArrayViewD<'_, T>) -> Result<()> {
    crate::ops::check_grad_pub(op, gy.shape(), x.shape())
}

fn arr<T>(shape: &[usize], v: Vec<T>) -> Result<ArrayD<T>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| Error::shape("jax", e.to_string()))
}

/// Optax's rule: a `where` of lower rank than the logits gets the class axis inserted.
fn expand_where(w: &ArrayViewD<'_, bool>, x_ndim: usize, axis: i64) -> Result<ArrayD<bool>> {
    let w = w.to_owned();
    if w.ndim() == x_ndim {
        return Ok(w);
    }
    let a = normalize_axis("optax", "where", axis, &vec![0; w.ndim() + 1])?;
    Ok(w.insert_axis(ndarray::Axis(a)))
}

struct Prep<'a, T: Clone> {
    x: Cow<'a, [T]>,
    w: Option<Vec<bool>>,
    g: Geom,
}

fn prep<'a, T: Float>(op: &str, name: &str, x: &'a ArrayViewD<'_, T>, w: Option<&ArrayViewD<'_, bool>>, axis: i64) -> Result<Prep<'a, T>> {
    let a = normalize_axis(op, name, axis, x.shape())?;
    let w = w.map(|w| broadcast_mask(op, w, x.shape())).transpose()?;
    Ok(Prep { x: flat(x), w, g: geom(x.shape(), a) })
}

/// `jax.nn.softmax(x, axis=-1, where=None)`.
///
/// # Errors
/// [`Error::Axis`]; [`Error::Shape`] when `where` does not broadcast.
pub fn softmax<T: Float>(x: &ArrayViewD<'_, T>, w: Option<&ArrayViewD<'_, bool>>, axis: i64) -> Result<ArrayD<T>> {
    let p = prep("jax.nn.softmax", "x", x, w, axis)?;
    arr(x.shape(), m::jax_softmax(&p.x, p.w.as_deref(), p.g)?)
}

/// The VJP of [`softmax`] with upstream `gy`.
///
/// # Errors
/// As [`softmax`], plus [`Error::Shape`] if `gy` differs in shape from `x`.
pub fn softmax_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let p = prep("jax.nn.softmax", "x", x, w, axis)?;
    check_upstream("jax.nn.softmax", gy, x)?;
    // A broadcast upstream (the gradient of `sum(softmax)`) is read in place, not copied.
    let v = match crate::ops::broadcast_const(gy) {
        Some(c) => m::jax_softmax_vjp_by(&p.x, p.w.as_deref(), |_| c, p.g),
        None => m::jax_softmax_vjp(&p.x, p.w.as_deref(), &flat(gy), p.g)?,
    };
    arr(x.shape(), v)
}

/// `jax.nn.log_softmax(x, axis=-1, where=None)`.
///
/// # Errors
/// As [`softmax`].
pub fn log_softmax<T: Float>(x: &ArrayViewD<'_, T>, w: Option<&ArrayViewD<'_, bool>>, axis: i64) -> Result<ArrayD<T>> {
    let p = prep("jax.nn.log_softmax", "x", x, w, axis)?;
    arr(x.shape(), m::jax_log_softmax(&p.x, p.w.as_deref(), p.g)?)
}

/// The VJP of [`log_softmax`] with upstream `gy`.
///
/// # Errors
/// As [`softmax`], plus [`Error::Shape`] if `gy` differs in shape from `x`.
pub fn log_softmax_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let p = prep("jax.nn.log_softmax", "x", x, w, axis)?;
    check_upstream("jax.nn.log_softmax", gy, x)?;
    let v = match crate::ops::broadcast_const(gy) {
        Some(c) => m::jax_log_softmax_vjp_by(&p.x, p.w.as_deref(), |_| c, p.g),
        None => m::jax_log_softmax_vjp(&p.x, p.w.as_deref(), &flat(gy), p.g)?,
    };
    arr(x.shape(), v)
}

/// The lanes of `jax.nn.logsumexp`: `axis = None` reduces over every element.
fn lse_geom(a: &ArrayViewD<'_, impl Sized>, axis: Option<i64>, keepdims: bool) -> Result<(Geom, Vec<usize>)> {
    match axis {
        None => {
            let n = a.len();
            let out = if keepdims { vec![1; a.ndim()] } else { vec![] };
            Ok((Geom { outer: 1, classes: n, inner: 1 }, out))
        }
        Some(ax) => {
            let k = normalize_axis("jax.nn.logsumexp", "a", ax, a.shape())?;
            let mut out = reduced_shape(a.shape(), k);
            if keepdims {
                out.insert(k, 1);
            }
            Ok((geom(a.shape(), k), out))
        }
    }
}

/// `jax.nn.logsumexp(a, axis=None, keepdims=False)` (`jax.scipy.special.logsumexp`):
/// `ln Σ exp(a − m) + m` with `m` the maximum, or 0 when it is not finite (so an
/// all-−∞ lane gives −∞ and one with +∞ gives +∞).
///
/// # Errors
/// [`Error::Axis`].
pub fn logsumexp<T: Float>(a: &ArrayViewD<'_, T>, axis: Option<i64>, keepdims: bool) -> Result<ArrayD<T>> {
    let (g, shape) = lse_geom(a, axis, keepdims)?;
    if let Some(r) = empty_lanes("jax.nn.logsumexp", a.len(), &shape, T::neg_infinity()) {
        return r;
    }
    arr(&shape, m::jax_logsumexp(&flat(a), None, g)?)
}

/// The VJP of [`logsumexp`] with upstream `gy` (of the output's shape).
///
/// # Errors
/// As [`logsumexp`], plus [`Error::Shape`] when `gy`'s shape is not the output's.
pub fn logsumexp_grad<T: Float>(a: &ArrayViewD<'_, T>, axis: Option<i64>, keepdims: bool, gy: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    let (g, out) = lse_geom(a, axis, keepdims)?;
    crate::ops::check_grad_pub("jax.nn.logsumexp", gy.shape(), &out)?;
    arr(a.shape(), m::jax_logsumexp_vjp(&flat(a), None, &flat(gy), g)?)
}

/// `jax.nn.sigmoid(x) = 1 / (1 + exp(−x))`.
pub fn sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    x.mapv(m::jax_sigmoid)
}

/// The VJP of [`sigmoid`]: `gy · s (1 − s)`.
///
/// # Errors
/// [`crate::Error::Shape`] when `gy`'s shape is not `x`'s.
///
/// ```
/// use ndarray::array;
/// let x = array![0.0f64].into_dyn();
/// let dx = xent::jax::sigmoid_grad(&x.view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 0.25);
/// assert!(xent::jax::sigmoid_grad(&x.view(), &array![1.0, 2.0].into_dyn().view()).is_err());
/// ```
pub fn sigmoid_grad<T: Float>(x: &ArrayViewD<'_, T>, gy: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    crate::ops::same_shape("jax.nn.sigmoid", "x", x.shape(), "gy", gy.shape())?;
    Ok(ndarray::Zip::from(x).and(gy).map_collect(|&x, &g| m::jax_sigmoid_vjp(x, g)))
}

/// `jax.nn.log_sigmoid(x) = −softplus(−x) = −logaddexp(−x, 0)`.
pub fn log_sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    x.mapv(m::jax_log_sigmoid)
}

/// The VJP of [`log_sigmoid`].
///
/// # Errors
/// [`crate::Error::Shape`] when `gy`'s shape is not `x`'s.
pub fn log_sigmoid_grad<T: Float>(x: &ArrayViewD<'_, T>, gy: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    crate::ops::same_shape("jax.nn.log_sigmoid", "x", x.shape(), "gy", gy.shape())?;
    Ok(ndarray::Zip::from(x).and(gy).map_collect(|&x, &g| m::jax_log_sigmoid_vjp(x, g)))
}

/// `jax.nn.one_hot(x, num_classes, axis=-1)`: `x == iota` along a new axis, as
/// float32 (JAX's default float dtype); values outside `[0, num_classes)` (negative
/// ones too) give all-zero rows. Float `x` compares by value (JAX warns, does not raise).
///
/// # Errors
/// [`Error::Axis`] when `axis` is outside `[−rank − 1, rank]`; [`Error::Param`] for a
/// negative `num_classes`; [`Error::Shape`] when the output cannot be allocated.
pub fn one_hot(x: &ArrayViewD<'_, f64>, num_classes: i64, axis: i64) -> Result<ArrayD<f32>> {
    const OP: &str = "jax.nn.one_hot";
    let mut shape = x.shape().to_vec();
    let a = normalize_axis(OP, "x", axis, &vec![0; shape.len() + 1])?;
    let n = usize::try_from(num_classes).map_err(|_| Error::param(OP, "num_classes", format!("{num_classes} is negative")))?;
    shape.insert(a, n);
    let mut out = crate::layout::try_filled(OP, "output", &shape, 0f32)?;
    let g = geom(&shape, a);
    let xs = flat(x);
    let data = out.as_slice_mut().expect("fresh");
    for (lane, b) in m::lane_bases(g).enumerate() {
        let v = xs[lane];
        if v >= 0.0 && v < n as f64 && v.fract() == 0.0 {
            data[b + (v as usize) * g.inner] = 1.0;
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------- Optax

/// Where-masked lanes of a per-class loss: the logits, the mask (optax rule), the
/// labels broadcast to the logits' shape.
fn prep_loss<'a, 'b, T: Float>(
    op: &str,
    x: &'a ArrayViewD<'_, T>,
    t: &'b ArrayViewD<'_, T>,
    tname: &str,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
) -> Result<(Prep<'a, T>, Cow<'b, [T]>)> {
    let w = w.map(|w| expand_where(w, x.ndim(), axis)).transpose()?;
    let p = prep(op, "logits", x, w.as_ref().map(|w| w.view()).as_ref(), axis)?;
    let t = broadcast_to(op, tname, t, x.shape())?;
    Ok((p, t))
}

/// `optax.losses.softmax_cross_entropy(logits, labels, axis=-1, where=None)`:
/// `−Σ_w labels · log_softmax(logits, where)` along `axis`. A `−∞` logit with a zero
/// label gives NaN (`0 · −∞`), as in Optax; see `safe_softmax_cross_entropy`.
///
/// # Errors
/// [`Error::Axis`]; [`Error::Shape`] when `labels` or `where` do not broadcast.
pub fn softmax_cross_entropy<T: Float>(
    x: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.softmax_cross_entropy";
    let (p, t) = prep_loss(OP, x, t, "labels", w, axis)?;
    let rs = reduced_shape(x.shape(), normalize_axis(OP, "logits", axis, x.shape())?);
    if let Some(r) = empty_lanes(OP, p.x.len(), &rs, -T::zero()) {
        return r;
    }
    let lp = m::jax_log_softmax(&p.x, p.w.as_deref(), p.g)?;
    let wm = p.w.as_deref();
    let out: Vec<T> = m::lane_bases(p.g)
        .map(|b| {
            let s =
                (0..p.g.classes).map(|c| b + c * p.g.inner).filter(|&k| wm.is_none_or(|w| w[k])).fold(T::zero(), |a, k| a + t[k] * lp[k]);
            -s
        })
        .collect();
    arr(&reduced_shape(x.shape(), normalize_axis(OP, "logits", axis, x.shape())?), out)
}

/// The VJP of [`softmax_cross_entropy`] with respect to `logits`.
///
/// # Errors
/// As [`softmax_cross_entropy`], plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn softmax_cross_entropy_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.softmax_cross_entropy";
    let (p, t) = prep_loss(OP, x, t, "labels", w, axis)?;
    crate::ops::check_grad_pub(OP, gy.shape(), &reduced_shape(x.shape(), normalize_axis(OP, "logits", axis, x.shape())?))?;
    if x.is_empty() {
        return arr(x.shape(), Vec::new());
    }
    let gyv = flat(gy);
    let mut glp = vec![T::zero(); p.x.len()];
    let wm = p.w.as_deref();
    for (lane, b) in m::lane_bases(p.g).enumerate() {
        for k in (0..p.g.classes).map(|c| b + c * p.g.inner) {
            let gs = if wm.is_none_or(|w| w[k]) { -gyv[lane] } else { T::zero() };
            glp[k] = gs * t[k];
        }
    }
    arr(x.shape(), m::jax_log_softmax_vjp(&p.x, wm, &glp, p.g)?)
}

/// `labels` resolved as JAX indexes: `[−C, −1]` wraps, anything else outside
/// `[0, C)` is `None` (reads NaN).
fn wrap(y: i64, c: usize) -> Option<usize> {
    let c = c as i64;
    let y = if y < 0 { y + c } else { y };
    (0..c).contains(&y).then_some(y as usize)
}

fn prep_int<'a, T: Float>(
    op: &str,
    x: &'a ArrayViewD<'_, T>,
    y: &ArrayViewD<'_, i64>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
) -> Result<(Prep<'a, T>, Vec<i64>, Vec<usize>)> {
    let w = w.map(|w| expand_where(w, x.ndim(), axis)).transpose()?;
    let p = prep(op, "logits", x, w.as_ref().map(|w| w.view()).as_ref(), axis)?;
    let a = normalize_axis(op, "logits", axis, x.shape())?;
    let rs = reduced_shape(x.shape(), a);
    let yb = y.broadcast(IxDyn(&rs)).ok_or_else(|| {
        Error::shape(op, format!("`labels` of shape {:?} does not match the logits' shape {:?} without axis {a}", y.shape(), x.shape()))
    })?;
    Ok((p, yb.iter().copied().collect(), rs))
}

/// `optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels, axis=-1,
/// where=None)`: `logsumexp_w(logits) − logits[label]`, 0 for lanes with no element
/// in `where`. Labels in `[−C, −1]` wrap; others outside `[0, C)` give NaN.
///
/// # Errors
/// [`Error::Axis`]; [`Error::Shape`] when `labels` or `where` do not fit.
pub fn softmax_cross_entropy_with_integer_labels<T: Float>(
    x: &ArrayViewD<'_, T>,
    y: &ArrayViewD<'_, i64>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.softmax_cross_entropy_with_integer_labels";
    let (p, y, rs) = prep_int(OP, x, y, w, axis)?;
    // No classes: every label is out of range (NaN), or the lane is all masked (0).
    let v = if p.w.is_some() { T::zero() } else { T::nan() };
    if let Some(r) = empty_lanes(OP, p.x.len(), &rs, v) {
        return r;
    }
    let lse = m::jax_logsumexp(&p.x, p.w.as_deref(), p.g)?;
    let wm = p.w.as_deref();
    let out = m::lane_bases(p.g)
        .enumerate()
        .map(|(lane, b)| {
            let ll = wrap(y[lane], p.g.classes).map_or(T::nan(), |c| p.x[b + c * p.g.inner]);
            let any = wm.is_none_or(|w| (0..p.g.classes).any(|c| w[b + c * p.g.inner]));
            if any {
                lse[lane] - ll
            } else {
                T::zero()
            }
        })
        .collect();
    arr(&rs, out)
}

/// The VJP of [`softmax_cross_entropy_with_integer_labels`] with respect to `logits`:
/// finite for out-of-range labels (their gather term is dropped).
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn softmax_cross_entropy_with_integer_labels_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    y: &ArrayViewD<'_, i64>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: i64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.softmax_cross_entropy_with_integer_labels";
    let (p, y, rs) = prep_int(OP, x, y, w, axis)?;
    crate::ops::check_grad_pub(OP, gy.shape(), &rs)?;
    if x.is_empty() {
        return arr(x.shape(), Vec::new());
    }
    let wm = p.w.as_deref();
    let gyv = flat(gy);
    let gl: Vec<T> = m::lane_bases(p.g)
        .enumerate()
        .map(|(lane, b)| {
            let any = wm.is_none_or(|w| (0..p.g.classes).any(|c| w[b + c * p.g.inner]));
            if any {
                gyv[lane]
            } else {
                T::zero()
            }
        })
        .collect();
    let mut gx = m::jax_logsumexp_vjp(&p.x, wm, &gl, p.g)?;
    for (lane, b) in m::lane_bases(p.g).enumerate() {
        if let Some(c) = wrap(y[lane], p.g.classes) {
            gx[b + c * p.g.inner] -= gl[lane];
        }
    }
    arr(x.shape(), gx)
}

/// `optax.losses.safe_softmax_cross_entropy(logits, labels)` over the last axis:
/// `−Σ where(labels ≠ 0, labels · log_softmax(logits), 0)`, so a `−∞` logit with a
/// zero label adds 0 (not NaN); its custom JVP gives `labels − softmax · Σ labels`.
///
/// # Errors
/// [`Error::Shape`] when `labels` does not broadcast to the logits' shape or the logits
/// are 0-d.
pub fn safe_softmax_cross_entropy<T: Float>(x: &ArrayViewD<'_, T>, t: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.safe_softmax_cross_entropy";
    let (p, t) = prep_loss(OP, x, t, "labels", None, -1)?;
    if let Some(r) = empty_lanes(OP, p.x.len(), &reduced_shape(x.shape(), x.ndim() - 1), -T::zero()) {
        return r;
    }
    let lp = m::jax_log_softmax(&p.x, None, p.g)?;
    let out = m::lane_bases(p.g)
        .map(|b| {
            let s = (0..p.g.classes)
                .map(|c| b + c * p.g.inner)
                .fold(T::zero(), |a, k| a + if t[k] != T::zero() { t[k] * lp[k] } else { T::zero() });
            -s
        })
        .collect();
    arr(&reduced_shape(x.shape(), x.ndim() - 1), out)
}

/// The VJP of [`safe_softmax_cross_entropy`] (Optax's custom JVP, transposed):
/// `gy · (softmax · Σ labels − labels)`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn safe_softmax_cross_entropy_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.safe_softmax_cross_entropy";
    let (p, t) = prep_loss(OP, x, t, "labels", None, -1)?;
    crate::ops::check_grad_pub(OP, gy.shape(), &reduced_shape(x.shape(), x.ndim() - 1))?;
    if x.is_empty() {
        return arr(x.shape(), Vec::new());
    }
    let sm = m::jax_softmax(&p.x, None, p.g)?;
    let gyv = flat(gy);
    let mut gx = vec![T::zero(); p.x.len()];
    for (lane, b) in m::lane_bases(p.g).enumerate() {
        let idx = || (0..p.g.classes).map(|c| b + c * p.g.inner);
        // cotangent of each weighted term: -gy; JVP w x_dot - w Σ x_dot s, transposed.
        let c = -gyv[lane];
        let sw = idx().fold(T::zero(), |a, k| a + c * t[k]);
        for k in idx() {
            gx[k] = t[k] * c - sm[k] * sw;
        }
    }
    arr(x.shape(), gx)
}

/// Element-wise ops with a label broadcast to the logits' shape.
fn elementwise<T: Float>(op: &str, x: &ArrayViewD<'_, T>, z: &ArrayViewD<'_, T>, f: impl Fn(T, T) -> T) -> Result<ArrayD<T>> {
    let z = broadcast_to(op, "labels", z, x.shape())?;
    arr(x.shape(), flat(x).iter().zip(z.iter()).map(|(&x, &z)| f(x, z)).collect())
}

/// `optax.losses.sigmoid_binary_cross_entropy(logits, labels)`:
/// `−z · log_sigmoid(x) − (1 − z) · log_sigmoid(−x)`, element-wise.
///
/// # Errors
/// [`Error::Shape`] when `labels` does not broadcast to the logits' shape.
pub fn sigmoid_binary_cross_entropy<T: Float>(x: &ArrayViewD<'_, T>, z: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    elementwise("optax.losses.sigmoid_binary_cross_entropy", x, z, |x, z| m::optax_sigmoid_bce(x, z, T::one()).0)
}

/// The VJP of [`sigmoid_binary_cross_entropy`] with respect to `logits`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the input's.
pub fn sigmoid_binary_cross_entropy_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    z: &ArrayViewD<'_, T>,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let z = broadcast_to("optax.losses.sigmoid_binary_cross_entropy", "labels", z, x.shape())?;
    check_upstream("optax.losses.sigmoid_binary_cross_entropy", gy, x)?;
    let g = flat(gy);
    arr(x.shape(), flat(x).iter().zip(z.iter()).zip(g.iter()).map(|((&x, &z), &g)| m::optax_sigmoid_bce(x, z, g).1).collect())
}

/// `optax.losses.sigmoid_focal_loss(logits, labels, alpha=None, gamma=2.0)`:
/// `BCE · (1 − p_t)^γ`, with `1 − p_t` computed as `exp(logsumexp([log p, log q],
/// b=[1 − z, z]))`, times `α z + (1 − α)(1 − z)` when `alpha` is given.
///
/// # Errors
/// [`Error::Shape`] when `labels` does not broadcast to the logits' shape.
pub fn sigmoid_focal_loss<T: Float>(x: &ArrayViewD<'_, T>, z: &ArrayViewD<'_, T>, alpha: Option<f64>, gamma: f64) -> Result<ArrayD<T>> {
    let (a, g) = (alpha.map(T::of), T::of(gamma));
    elementwise("optax.losses.sigmoid_focal_loss", x, z, |x, z| m::optax_sigmoid_focal(x, z, a, g, T::one()).0)
}

/// The VJP of [`sigmoid_focal_loss`] with respect to `logits`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the input's.
pub fn sigmoid_focal_loss_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    z: &ArrayViewD<'_, T>,
    alpha: Option<f64>,
    gamma: f64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let (a, gm) = (alpha.map(T::of), T::of(gamma));
    let z = broadcast_to("optax.losses.sigmoid_focal_loss", "labels", z, x.shape())?;
    check_upstream("optax.losses.sigmoid_focal_loss", gy, x)?;
    let g = flat(gy);
    arr(x.shape(), flat(x).iter().zip(z.iter()).zip(g.iter()).map(|((&x, &z), &g)| m::optax_sigmoid_focal(x, z, a, gm, g).1).collect())
}

/// `optax.losses.poly_loss_cross_entropy(logits, labels, epsilon=2.0, axis=-1,
/// where=None)`: `softmax_cross_entropy + ε Σ_w labels (1 − softmax(logits, where))`.
/// As in Optax, `where` reaches `softmax` and the sum as given (NumPy broadcasting) and
/// `softmax_cross_entropy` with the class axis inserted when it has a lower rank.
///
/// # Errors
/// As [`softmax_cross_entropy`].
pub fn poly_loss_cross_entropy<T: Float>(
    x: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    epsilon: f64,
    axis: i64,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.poly_loss_cross_entropy";
    let ce = softmax_cross_entropy(x, t, w, axis)?;
    if x.is_empty() {
        return Ok(ce.mapv(|v| v + T::zero()));
    }
    let p = prep(OP, "logits", x, w, axis)?;
    let tb = broadcast_to(OP, "labels", t, x.shape())?;
    let sm = m::jax_softmax(&p.x, p.w.as_deref(), p.g)?;
    let wm = p.w.as_deref();
    let eps = T::of(epsilon);
    let out: Vec<T> = m::lane_bases(p.g)
        .zip(ce.iter())
        .map(|(b, &ce)| {
            let s = (0..p.g.classes)
                .map(|c| b + c * p.g.inner)
                .filter(|&k| wm.is_none_or(|w| w[k]))
                .fold(T::zero(), |a, k| a + tb[k] * (T::one() - sm[k]));
            ce + eps * s
        })
        .collect();
    arr(ce.shape(), out)
}

/// The VJP of [`poly_loss_cross_entropy`] with respect to `logits`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn poly_loss_cross_entropy_grad<T: Float>(
    x: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    epsilon: f64,
    axis: i64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.poly_loss_cross_entropy";
    // Checks the labels, `where` and the upstream's shape (that of the loss).
    let gce = softmax_cross_entropy_grad(x, t, w, axis, gy)?;
    if x.is_empty() {
        return Ok(gce);
    }
    let p = prep(OP, "logits", x, w, axis)?;
    let tb = broadcast_to(OP, "labels", t, x.shape())?;
    let wm = p.w.as_deref();
    let gyv = flat(gy);
    let eps = T::of(epsilon);
    let mut gp = vec![T::zero(); p.x.len()];
    for (lane, b) in m::lane_bases(p.g).enumerate() {
        for k in (0..p.g.classes).map(|c| b + c * p.g.inner) {
            // d/dp of labels * (1 - p), summed where w, scaled by ε.
            gp[k] = if wm.is_none_or(|w| w[k]) { -(gyv[lane] * eps * tb[k]) } else { T::zero() };
        }
    }
    let gs = m::jax_softmax_vjp(&p.x, wm, &gp, p.g)?;
    drop(gp);
    let mut gce = gce;
    gce.iter_mut().zip(gs).for_each(|(a, b)| *a += b);
    Ok(gce)
}

/// The KL family's per-element loss and its derivative in `log_predictions`.
#[derive(Clone, Copy)]
enum Kl {
    /// `t (ln t − lp)`, 0 · … where `t = 0`.
    Plain,
    /// Plain + `exp(lp) − t`.
    Convex,
    /// `exp(lt) (lt − lp)`.
    LogTargets,
}

impl Kl {
    fn name(self) -> &'static str {
        match self {
            Kl::Plain => "optax.losses.kl_divergence",
            Kl::Convex => "optax.losses.convex_kl_divergence",
            Kl::LogTargets => "optax.losses.kl_divergence_with_log_targets",
        }
    }

    fn tname(self) -> &'static str {
        match self {
            Kl::LogTargets => "log_targets",
            _ => "targets",
        }
    }

    fn term<T: Float>(self, lp: T, t: T) -> (T, T) {
        match self {
            Kl::Plain | Kl::Convex => (t * ((if t == T::zero() { T::zero() } else { t.ln() }) - lp), lp.exp() - t),
            Kl::LogTargets => (t.exp() * (t - lp), T::zero()),
        }
    }

    fn dterm<T: Float>(self, lp: T, t: T, g: T) -> T {
        match self {
            Kl::Plain => -(g * t),
            Kl::Convex => -(g * t) + g * lp.exp(),
            Kl::LogTargets => -(g * t.exp()),
        }
    }
}

fn kl_geom(op: &str, x: &ArrayViewD<'_, impl Sized>, axis: Option<i64>) -> Result<(Geom, Vec<usize>)> {
    match axis {
        None => Ok((Geom { outer: 1, classes: x.len(), inner: 1 }, vec![])),
        Some(a) => {
            let k = normalize_axis(op, "log_predictions", a, x.shape())?;
            Ok((geom(x.shape(), k), reduced_shape(x.shape(), k)))
        }
    }
}

fn kl_fwd<T: Float>(
    kind: Kl,
    lp: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
) -> Result<ArrayD<T>> {
    let op = kind.name();
    let (g, shape) = kl_geom(op, lp, axis)?;
    if let Some(r) = empty_lanes(op, lp.len(), &shape, T::zero()) {
        // The shapes must still broadcast.
        broadcast_to(op, kind.tname(), t, lp.shape())?;
        return r;
    }
    let x = flat(lp);
    let t = broadcast_to(op, kind.tname(), t, lp.shape())?;
    let w = w.map(|w| broadcast_mask(op, w, lp.shape())).transpose()?;
    let wm = w.as_deref();
    let out = m::lane_bases(g)
        .map(|b| {
            let idx = || (0..g.classes).map(|c| b + c * g.inner).filter(|&k| wm.is_none_or(|w| w[k]));
            let a = idx().fold(T::zero(), |a, k| a + kind.term(x[k], t[k]).0);
            match kind {
                Kl::Convex => a + idx().fold(T::zero(), |s, k| s + kind.term(x[k], t[k]).1),
                _ => a,
            }
        })
        .collect();
    arr(&shape, out)
}

fn kl_bwd<T: Float>(
    kind: Kl,
    lp: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = kind.name();
    let (g, shape) = kl_geom(op, lp, axis)?;
    crate::ops::check_grad_pub(op, gy.shape(), &shape)?;
    if lp.is_empty() {
        return arr(lp.shape(), Vec::new());
    }
    let x = flat(lp);
    let t = broadcast_to(op, kind.tname(), t, lp.shape())?;
    let w = w.map(|w| broadcast_mask(op, w, lp.shape())).transpose()?;
    let wm = w.as_deref();
    let gyv = flat(gy);
    let mut gx = vec![T::zero(); x.len()];
    for (lane, b) in m::lane_bases(g).enumerate() {
        for k in (0..g.classes).map(|c| b + c * g.inner) {
            let gk = if wm.is_none_or(|w| w[k]) { gyv[lane] } else { T::zero() };
            gx[k] = kind.dterm(x[k], t[k], gk);
        }
    }
    arr(lp.shape(), gx)
}

/// `optax.losses.kl_divergence(log_predictions, targets, axis=-1, where=None)`:
/// `Σ_w t (where(t = 0, 0, ln t) − lp)` (`axis = None`: over every element). A zero
/// target beside `lp = −∞` gives NaN (0 · ∞), as in Optax.
///
/// # Errors
/// [`Error::Axis`]; [`Error::Shape`] when `targets` or `where` do not broadcast.
pub fn kl_divergence<T: Float>(
    lp: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
) -> Result<ArrayD<T>> {
    kl_fwd(Kl::Plain, lp, t, w, axis)
}

/// The VJP of [`kl_divergence`] with respect to `log_predictions`: `−gy · t`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn kl_divergence_grad<T: Float>(
    lp: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    kl_bwd(Kl::Plain, lp, t, w, axis, gy)
}

/// `optax.losses.convex_kl_divergence` (deprecated for `generalized_kl_divergence`,
/// which it calls): [`kl_divergence`] `+ Σ_w (exp(lp) − t)`.
///
/// # Errors
/// As [`kl_divergence`].
pub fn convex_kl_divergence<T: Float>(
    lp: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
) -> Result<ArrayD<T>> {
    kl_fwd(Kl::Convex, lp, t, w, axis)
}

/// The VJP of [`convex_kl_divergence`]: `gy (exp(lp) − t)`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn convex_kl_divergence_grad<T: Float>(
    lp: &ArrayViewD<'_, T>,
    t: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    kl_bwd(Kl::Convex, lp, t, w, axis, gy)
}

/// `optax.losses.kl_divergence_with_log_targets(log_predictions, log_targets, axis=-1,
/// where=None)`: `Σ_w exp(lt) (lt − lp)`.
///
/// # Errors
/// As [`kl_divergence`].
pub fn kl_divergence_with_log_targets<T: Float>(
    lp: &ArrayViewD<'_, T>,
    lt: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
) -> Result<ArrayD<T>> {
    kl_fwd(Kl::LogTargets, lp, lt, w, axis)
}

/// The VJP of [`kl_divergence_with_log_targets`]: `−gy exp(lt)`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the loss'.
pub fn kl_divergence_with_log_targets_grad<T: Float>(
    lp: &ArrayViewD<'_, T>,
    lt: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    axis: Option<i64>,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    kl_bwd(Kl::LogTargets, lp, lt, w, axis, gy)
}

/// `optax.losses.smooth_labels(labels, alpha, axis=-1, where=None)`:
/// `(1 − α) labels + α / K` with `K` the length of `axis`, or with `where` the number of
/// `True` along `axis` (a lane with none gives ±inf or NaN, α/0).
///
/// # Errors
/// [`Error::Axis`]; [`Error::Shape`] when `where` does not broadcast.
pub fn smooth_labels<T: Float>(labels: &ArrayViewD<'_, T>, w: Option<&ArrayViewD<'_, bool>>, alpha: f64, axis: i64) -> Result<ArrayD<T>> {
    const OP: &str = "optax.losses.smooth_labels";
    let p = prep(OP, "labels", labels, w, axis)?;
    if labels.is_empty() {
        return arr(labels.shape(), Vec::new());
    }
    let a = T::of(alpha);
    let mut out = vec![T::zero(); p.x.len()];
    for b in m::lane_bases(p.g) {
        let idx = || (0..p.g.classes).map(|c| b + c * p.g.inner);
        let k = match p.w.as_deref() {
            None => T::of(p.g.classes as f64),
            Some(w) => T::of(idx().filter(|&k| w[k]).count() as f64),
        };
        for i in idx() {
            out[i] = (T::one() - a) * p.x[i] + a / k;
        }
    }
    arr(labels.shape(), out)
}

/// The VJP of [`smooth_labels`] with respect to `labels`: `(1 − α) gy`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] when `gy`'s shape is not the input's.
pub fn smooth_labels_grad<T: Float>(
    labels: &ArrayViewD<'_, T>,
    w: Option<&ArrayViewD<'_, bool>>,
    alpha: f64,
    axis: i64,
    gy: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    prep("optax.losses.smooth_labels", "labels", labels, w, axis)?;
    check_upstream("optax.losses.smooth_labels", gy, labels)?;
    let a = T::one() - T::of(alpha);
    Ok(gy.mapv(|g| a * g))
}

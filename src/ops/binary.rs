//! Binary (sigmoid) cross-entropies, element-wise.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

use super::categorical::reduce;
use super::{c, check_grad, same_shape, Reduction};
use crate::array::DType;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::ops::activations::{log_sigmoid1, sigmoid1, sigmoid_pair};

/// Broadcast an optional weight to `shape` (NumPy rules), naming it in errors.
pub(crate) fn broadcast_weight<'a, T: Float>(
    op: &str,
    name: &str,
    w: Option<&'a ArrayViewD<'a, T>>,
    shape: &[usize],
) -> Result<Option<ArrayViewD<'a, T>>> {
    match w {
        None => Ok(None),
        Some(w) => w
            .broadcast(IxDyn(shape))
            .map(Some)
            .ok_or_else(|| Error::shape(op, format!("`{name}` of shape {:?} cannot be broadcast to the input shape {shape:?}", w.shape()))),
    }
}

fn numel(shape: &[usize]) -> f64 {
    shape.iter().product::<usize>() as f64
}

/// Upstream scale per element for an element-wise loss reduced with `reduction`.
fn elem_upstream<T: Float>(op: &str, g: &ArrayViewD<'_, T>, shape: &[usize], reduction: Reduction) -> Result<ArrayD<T>> {
    match reduction {
        Reduction::None => {
            check_grad(op, g.shape(), shape)?;
            Ok(g.to_owned())
        }
        Reduction::Sum | Reduction::Mean => {
            check_grad(op, g.shape(), &[])?;
            let g0 = g.iter().next().copied().unwrap_or_else(T::zero);
            let s = if reduction == Reduction::Mean { T::of(g0.f64() / numel(shape)) } else { g0 };
            Ok(ArrayD::from_elem(IxDyn(shape), s))
        }
    }
}

/// PyTorch's binary cross-entropy on probabilities:
/// `ℓ = −w·(y·max(ln x, −100) + (1 − y)·max(ln(1 − x), −100))`, then reduced (the
/// mean is over all elements; `weight` does not change the divisor).
///
/// Mirrors `torch.nn.functional.binary_cross_entropy`; the −100 clamp keeps the loss
/// finite at `x ∈ {0, 1}`.
///
/// # Errors
/// [`Error::Shape`] if `target` differs in shape from `input` or `weight` does not
/// broadcast; [`Error::Domain`] if an element of `input` or `target` is outside [0, 1]
/// (NaN included), where PyTorch raises.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{binary_cross_entropy, Reduction};
/// let l = binary_cross_entropy(&array![0.0f64, 0.5].into_dyn().view(), &array![1.0, 1.0].into_dyn().view(), None, Reduction::None).unwrap();
/// assert_eq!(l[[0]], 100.0);
/// assert!((l[[1]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, T>,
    weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
) -> Result<ArrayD<T>> {
    let op = "binary_cross_entropy";
    check_bce_inputs(op, input, target)?;
    let w = broadcast_weight(op, "weight", weight, input.shape())?;
    let lo = c::<T>(-100.0);
    let mut l = Zip::from(input).and(target).map_collect(|&x, &y| -(y * x.ln().max(lo) + (T::one() - y) * (-x).ln_1p().max(lo)));
    if let Some(w) = w {
        l.zip_mut_with(&w, |a, &b| *a *= b);
    }
    Ok(reduce(l, reduction, numel(input.shape())))
}

fn check_bce_inputs<T: Float>(op: &str, input: &ArrayViewD<'_, T>, target: &ArrayViewD<'_, T>) -> Result<()> {
    if input.shape() != target.shape() {
        return Err(Error::shape(
            op,
            format!(
                "using a target size ({:?}) that is different to the input size ({:?}); they must be the same",
                target.shape(),
                input.shape()
            ),
        ));
    }
    for (name, a) in [("input", input), ("target", target)] {
        if let Some((i, v)) = a.iter().enumerate().find(|(_, &v)| !(v >= T::zero() && v <= T::one())) {
            return Err(Error::domain(op, format!("all elements of `{name}` should be between 0 and 1; element {i} is {v}")));
        }
    }
    Ok(())
}

/// Gradient of [`binary_cross_entropy`] w.r.t. `input`:
/// `dx = s·w·(x − y) / max(x·(1 − x), 1e-12)` (PyTorch's backward, which ignores the
/// forward's −100 clamp: `x = 0, y = 1` gives −1e12).
///
/// # Errors
/// As [`binary_cross_entropy`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{binary_cross_entropy_vjp, Reduction};
/// let g = ndarray::arr0(1.0).into_dyn();
/// let dx = binary_cross_entropy_vjp(&array![0.5f64].into_dyn().view(), &array![1.0].into_dyn().view(), None, Reduction::Mean, &g.view()).unwrap();
/// assert_eq!(dx[[0]], -2.0);
/// ```
pub fn binary_cross_entropy_vjp<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, T>,
    weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "binary_cross_entropy";
    check_bce_inputs(op, input, target)?;
    let w = broadcast_weight(op, "weight", weight, input.shape())?;
    let mut s = elem_upstream(op, g, input.shape(), reduction)?;
    let eps = c::<T>(1e-12);
    Zip::from(&mut s).and(input).and(target).for_each(|s, &x, &y| *s = *s * (x - y) / ((T::one() - x) * x).max(eps));
    if let Some(w) = w {
        s.zip_mut_with(&w, |a, &b| *a *= b);
    }
    Ok(s)
}

/// PyTorch's binary cross-entropy on logits:
/// `ℓ = w·((1 − y)·x − (1 + (p − 1)·y)·log σ(x))`, `p` the broadcast `pos_weight`
/// (1 when absent), `log σ(x) = min(x, 0) − log1p(e^{−|x|})`; reduced as
/// [`binary_cross_entropy`].
///
/// Mirrors `torch.nn.functional.binary_cross_entropy_with_logits`. No clamping:
/// `x = ±inf` gives NaN or inf as in PyTorch.
///
/// # Errors
/// [`Error::Shape`] if `target` differs in shape from `input`, or a weight does not broadcast.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{binary_cross_entropy_with_logits, Reduction};
/// let l = binary_cross_entropy_with_logits(&array![0.0f64].into_dyn().view(), &array![1.0].into_dyn().view(), None, None, Reduction::Sum).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy_with_logits<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, T>,
    weight: Option<&ArrayViewD<'_, T>>,
    pos_weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
) -> Result<ArrayD<T>> {
    let op = "binary_cross_entropy_with_logits";
    check_bcel_shapes(op, input, target)?;
    let w = broadcast_weight(op, "weight", weight, input.shape())?;
    let pw = broadcast_weight(op, "pos_weight", pos_weight, input.shape())?;
    let mut l = Zip::from(input).and(target).map_collect(|&x, &y| (T::one() - y) * x - log_sigmoid1(x));
    if let Some(pw) = pw {
        // (1 − y)·x − (1 + (p − 1)·y)·log σ(x)
        Zip::from(&mut l).and(input).and(target).and(&pw).for_each(|l, &x, &y, &p| {
            *l = (T::one() - y) * x - (T::one() + (p - T::one()) * y) * log_sigmoid1(x);
        });
    }
    if let Some(w) = w {
        l.zip_mut_with(&w, |a, &b| *a *= b);
    }
    Ok(reduce(l, reduction, numel(input.shape())))
}

fn check_bcel_shapes<T>(op: &str, input: &ArrayViewD<'_, T>, target: &ArrayViewD<'_, T>) -> Result<()> {
    if input.shape() != target.shape() {
        return Err(Error::shape(op, format!("target size ({:?}) must be the same as input size ({:?})", target.shape(), input.shape())));
    }
    Ok(())
}

/// Gradient of [`binary_cross_entropy_with_logits`] w.r.t. `input`:
/// `dx = s·w·((p·y + 1 − y)·σ(x) − p·y)` (PyTorch `binary_cross_entropy_with_logits_backward`),
/// evaluated as `s·w·((1 − y)·σ(x) − p·y·σ(−x))` in `f64`: the same value without the
/// cancellation of `σ(x) − 1` near saturation (PyTorch's form loses every digit of
/// `σ(−x)` there; this one keeps them), rounded once before the scale.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{binary_cross_entropy_with_logits_vjp, Reduction};
/// let g = ndarray::arr0(1.0).into_dyn();
/// let dx = binary_cross_entropy_with_logits_vjp(&array![0.0f64].into_dyn().view(), &array![1.0].into_dyn().view(), None, None, Reduction::Sum, &g.view()).unwrap();
/// assert_eq!(dx[[0]], -0.5);
/// ```
pub fn binary_cross_entropy_with_logits_vjp<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, T>,
    weight: Option<&ArrayViewD<'_, T>>,
    pos_weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "binary_cross_entropy_with_logits";
    check_bcel_shapes(op, input, target)?;
    let w = broadcast_weight(op, "weight", weight, input.shape())?;
    let pw = broadcast_weight(op, "pos_weight", pos_weight, input.shape())?;
    let mut s = elem_upstream(op, g, input.shape(), reduction)?;
    match pw {
        Some(pw) => Zip::from(&mut s).and(input).and(target).and(&pw).for_each(|s, &x, &y, &p| {
            let t = p * y;
            // A non-finite target or weight: PyTorch's own form, whose ∞ − ∞ is NaN.
            *s *= if t.is_finite() { sigmoid_minus(x, y, t) } else { (t + T::one() - y) * sigmoid1(x) - t };
        }),
        None => Zip::from(&mut s).and(input).and(target).for_each(|s, &x, &y| *s *= sigmoid_minus(x, y, y)),
    }
    if let Some(w) = w {
        s.zip_mut_with(&w, |a, &b| *a *= b);
    }
    Ok(s)
}

/// `σ(x) − z + q·(σ(x) − 1)`, the gradient of every sigmoid cross-entropy on logits
/// (`q = z`, or `pos_weight·z`), as `(1 − z)·σ(x) − q·σ(−x)` in `f64`, rounded once:
/// near saturation `σ(x) − 1` keeps none of the digits of `σ(−x)`, and with soft labels
/// the difference of two nearly equal terms needs the extra precision (an `f32` result
/// is within an ulp or so of the exact value; the frameworks lose up to all digits).
/// `float16` keeps the half arithmetic of the plain form (the Keras functions compute
/// half in half, see [`crate::float::Float`]).
#[inline]
fn sigmoid_minus<T: Float>(x: T, z: T, q: T) -> T {
    if T::DTYPE == DType::F16 {
        let s = sigmoid1(x);
        return if q == z { s - z } else { (q + T::one() - z) * s - q };
    }
    let (p, n) = sigmoid_pair(x.f64());
    T::of((1.0 - z.f64()) * p - q.f64() * n)
}

/// TensorFlow's sigmoid cross-entropy, element-wise, evaluated in TF's order:
/// `max(x, 0) − x·z + log1p(e^{−|x|})`.
///
/// Mirrors `tf.nn.sigmoid_cross_entropy_with_logits` (`x = ±inf` gives NaN or inf
/// exactly as TF does).
///
/// # Errors
/// [`Error::Shape`] if `labels` and `logits` differ in shape (TF does not broadcast here).
///
/// ```
/// use ndarray::array;
/// let l = xent::ops::sigmoid_cross_entropy(&array![1.0f64].into_dyn().view(), &array![0.0].into_dyn().view()).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn sigmoid_cross_entropy<T: Float>(labels: &ArrayViewD<'_, T>, logits: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    same_shape("sigmoid_cross_entropy_with_logits", "labels", labels.shape(), "logits", logits.shape())?;
    Ok(Zip::from(logits).and(labels).map_collect(|&x, &z| {
        let relu = if x >= T::zero() { x } else { T::zero() };
        let neg_abs = if x >= T::zero() { -x } else { x };
        relu - x * z + neg_abs.exp().ln_1p()
    }))
}

/// Gradient of [`sigmoid_cross_entropy`] w.r.t. the logits: `g·(σ(x) − z)` (TF autodiff
/// through its `where`-based formula; `0.5 − z` at `x = 0`), evaluated as
/// `g·((1 − z)·σ(x) − z·σ(−x))` in `f64` (float16: in half, as Keras), which keeps its
/// digits near saturation and with soft labels.
///
/// # Errors
/// [`Error::Shape`] on mismatched shapes.
///
/// ```
/// use ndarray::array;
/// let g = array![1.0f64].into_dyn();
/// let dx = xent::ops::sigmoid_cross_entropy_vjp(&array![1.0f64].into_dyn().view(), &array![0.0].into_dyn().view(), &g.view()).unwrap();
/// assert_eq!(dx[[0]], -0.5);
/// ```
pub fn sigmoid_cross_entropy_vjp<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    same_shape("sigmoid_cross_entropy_with_logits", "labels", labels.shape(), "logits", logits.shape())?;
    check_grad("sigmoid_cross_entropy_with_logits", g.shape(), logits.shape())?;
    Ok(Zip::from(logits).and(labels).and(g).map_collect(|&x, &z, &g| g * sigmoid_minus(x, z, z)))
}

/// TensorFlow's weighted sigmoid cross-entropy, element-wise, in TF's order:
/// `(1 − z)·x + (1 + (q − 1)·z)·(log1p(e^{−|x|}) + max(−x, 0))`, `q = pos_weight`.
///
/// Mirrors `tf.nn.weighted_cross_entropy_with_logits`.
///
/// # Errors
/// [`Error::Shape`] if `labels` and `logits` differ in shape.
///
/// ```
/// use ndarray::array;
/// let l = xent::ops::weighted_sigmoid_cross_entropy(&array![1.0f64].into_dyn().view(), &array![0.0].into_dyn().view(), 3.0).unwrap();
/// assert!((l[[0]] - 3.0 * 2f64.ln()).abs() < 1e-15);
/// ```
pub fn weighted_sigmoid_cross_entropy<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    pos_weight: T,
) -> Result<ArrayD<T>> {
    same_shape("weighted_cross_entropy_with_logits", "labels", labels.shape(), "logits", logits.shape())?;
    Ok(Zip::from(logits).and(labels).map_collect(|&x, &z| {
        let lw = T::one() + (pos_weight - T::one()) * z;
        (T::one() - z) * x + lw * ((-x.abs()).exp().ln_1p() + (-x).max(T::zero()))
    }))
}

/// Gradient of [`weighted_sigmoid_cross_entropy`] as TF's autodiff computes it:
/// `g·((1 + (q − 1)·z)·σ(x) − q·z)` for `x ≠ 0`, and `g·(1 − z)` at exactly `x = 0`
/// (the gradients of `abs` and `relu` vanish there). Evaluated as
/// `g·((1 − z)·σ(x) − q·z·σ(−x))` in `f64`: the same value, without the cancellation
/// that costs the plain form its digits near saturation.
///
/// # Errors
/// [`Error::Shape`] on mismatched shapes.
///
/// ```
/// use ndarray::array;
/// let g = array![1.0f64, 1.0].into_dyn();
/// let dx = xent::ops::weighted_sigmoid_cross_entropy_vjp(&array![0.0f64, 0.0].into_dyn().view(), &array![0.0, 1e-300].into_dyn().view(), 2.0, &g.view()).unwrap();
/// assert_eq!(dx[[0]], 1.0); // TF's autodiff value at exactly 0
/// assert_eq!(dx[[1]], 0.5);
/// ```
pub fn weighted_sigmoid_cross_entropy_vjp<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    pos_weight: T,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    same_shape("weighted_cross_entropy_with_logits", "labels", labels.shape(), "logits", logits.shape())?;
    check_grad("weighted_cross_entropy_with_logits", g.shape(), logits.shape())?;
    Ok(Zip::from(logits).and(labels).and(g).map_collect(|&x, &z, &g| {
        if x == T::zero() {
            return g * (T::one() - z);
        }
        let q = pos_weight * z;
        if !q.is_finite() {
            // TF's autodiff multiplies the infinite log-weight by a zero derivative: NaN
            let lw = T::one() + (pos_weight - T::one()) * z;
            return g * (lw * sigmoid1(x) - q);
        }
        g * sigmoid_minus(x, z, q)
    }))
}

/// Keras' clipped binary cross-entropy on probabilities, element-wise:
/// `c = clip(p, ε, 1 − ε)`, `ℓ = −(t·ln c + (1 − t)·ln(1 − c))`.
///
/// The probability path of `keras.losses.binary_crossentropy` (TF backend), before its
/// mean over the last axis. The per-element loss is capped at 16.118 (t = 1) and
/// 15.942 (t = 0) in float32.
///
/// # Errors
/// [`Error::Shape`] if `y_true` and `y_pred` differ in shape.
///
/// ```
/// use ndarray::array;
/// let l = xent::ops::binary_crossentropy_clipped(&array![1.0f32].into_dyn().view(), &array![0.0].into_dyn().view(), 1e-7).unwrap();
/// assert!((l[[0]] - 16.118095).abs() < 1e-5);
/// ```
pub fn binary_crossentropy_clipped<T: Float>(y_true: &ArrayViewD<'_, T>, y_pred: &ArrayViewD<'_, T>, eps: f64) -> Result<ArrayD<T>> {
    same_shape("binary_crossentropy", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    let (lo, hi) = (c::<T>(eps), c::<T>(1.0 - eps));
    Ok(Zip::from(y_true).and(y_pred).map_collect(|&t, &p| {
        let cl = clip(p, lo, hi);
        -(t * cl.ln() + (T::one() - t) * (T::one() - cl).ln())
    }))
}

/// TF's `clip_by_value`: `maximum(minimum(x, hi), lo)`, NaN propagating.
#[inline]
pub(crate) fn clip<T: Float>(x: T, lo: T, hi: T) -> T {
    if x.is_nan() {
        return x;
    }
    x.min(hi).max(lo)
}

/// The gradient `g` through [`clip`] at `x`: `g` where `lo ≤ x ≤ hi` (inclusive), else
/// exactly 0, as TF's Minimum/Maximum gradients select it (`where(x <= hi, g, 0)`):
/// a select, not a product, so a NaN or infinite `g` at a clipped or NaN `x` still
/// gives 0.
#[inline]
pub(crate) fn through_clip<T: Float>(x: T, lo: T, hi: T, g: T) -> T {
    if x >= lo && x <= hi {
        g
    } else {
        T::zero()
    }
}

/// Gradient of [`binary_crossentropy_clipped`] w.r.t. `y_pred`:
/// `g·m·(−t/c + (1 − t)/(1 − c))`, `m` = 1 inside the clip range (inclusive), else 0.
///
/// # Errors
/// [`Error::Shape`] on mismatched shapes.
///
/// ```
/// use ndarray::array;
/// let g = array![1.0f64, 1.0].into_dyn();
/// let dx = xent::ops::binary_crossentropy_clipped_vjp(&array![1.0f64, 1.0].into_dyn().view(), &array![0.5, 0.0].into_dyn().view(), 1e-7, &g.view()).unwrap();
/// assert_eq!(dx[[0]], -2.0);
/// assert_eq!(dx[[1]], 0.0); // clipped: no gradient
/// ```
pub fn binary_crossentropy_clipped_vjp<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    eps: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    same_shape("binary_crossentropy", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    check_grad("binary_crossentropy", g.shape(), y_pred.shape())?;
    let (lo, hi) = (c::<T>(eps), c::<T>(1.0 - eps));
    Ok(Zip::from(y_true).and(y_pred).and(g).map_collect(|&t, &p, &g| {
        let cl = clip(p, lo, hi);
        through_clip(p, lo, hi, g * (-t / cl + (T::one() - t) / (T::one() - cl)))
    }))
}

/// Mean over `axis` (the axis is removed): `ops.mean` as Keras applies it after an
/// element-wise loss. A zero-length axis gives NaN.
///
/// # Errors
/// [`Error::Shape`] if the axis has length 0 and the result (one NaN per position)
/// is too large to allocate.
///
/// # Panics
/// If `axis >= x.ndim()`.
///
/// ```
/// use ndarray::array;
/// let m = xent::ops::mean_axis(&array![[1.0f64, 3.0]].into_dyn().view(), 1).unwrap();
/// assert_eq!(m, array![2.0].into_dyn());
/// ```
pub fn mean_axis<T: Float>(x: &ArrayViewD<'_, T>, axis: usize) -> Result<ArrayD<T>> {
    let k = x.shape()[axis];
    if k == 0 {
        // 0/0 per position; their number is not bounded by the (empty) input's size.
        return crate::layout::try_filled("mean", "result", &crate::layout::reduced_shape(x.shape(), axis), T::nan());
    }
    Ok(x.map_axis(Axis(axis), |lane| T::of(lane.iter().map(|v| v.f64()).sum::<f64>() / k as f64)))
}

/// VJP of [`mean_axis`]: `g / K` broadcast back over the axis.
///
/// # Errors
/// [`Error::Shape`] if `g` is not `shape` without `axis`.
///
/// ```
/// use ndarray::array;
/// let dx = xent::ops::mean_axis_vjp(&array![2.0f64].into_dyn().view(), &[1, 4], 1).unwrap();
/// assert_eq!(dx, array![[0.5, 0.5, 0.5, 0.5]].into_dyn());
/// ```
pub fn mean_axis_vjp<T: Float>(g: &ArrayViewD<'_, T>, shape: &[usize], axis: usize) -> Result<ArrayD<T>> {
    check_grad("mean", g.shape(), &crate::layout::reduced_shape(shape, axis))?;
    let k = T::of(shape[axis] as f64);
    Ok(super::categorical::expand_positions(g, shape, axis).mapv(|v| v / k))
}

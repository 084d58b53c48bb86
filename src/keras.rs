//! Keras 3 losses (TensorFlow backend) with Keras' names, argument names, defaults
//! and quirks, mapped onto [`crate::ops`]. No numerics live here.
//!
//! The trap these functions reproduce: with `from_logits=False` (the default!) Keras
//! treats `y_pred` as probabilities, renormalises them and clips them to
//! `[1e-7, 1 − 1e-7]`, so raw logits give a finite but wrong loss and clipped entries
//! get no gradient.
//!
//! Each `_grad` twin returns the gradient with respect to `y_pred` as
//! `tf.GradientTape` computes it, given the upstream gradient `g` of the output.
//!
//! Deviation: Keras' TF backend recognises a `y_pred` that is the direct output of its
//! own softmax or sigmoid (the `_keras_logits` attribute, or a `Softmax` op in graph
//! mode) and then computes from the stored logits, skipping the clip. xent takes plain
//! arrays with no provenance, so a probability input is always treated as
//! probabilities: what Keras does for any other tensor (for example the result of
//! `tf.nn.softmax` in eager mode). The golden cases were produced that way.

use ndarray::{ArrayD, ArrayViewD, Axis, CowArray, IxDyn, Zip};

use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::DenseGrad;
use crate::layout::normalize_axis;
use crate::ops::{self, Reduction, SparseOptions};

/// `keras.config.epsilon()`: the clip bound of the probability losses.
pub const EPSILON: f64 = 1e-7;

fn same(op: &str, t: &[usize], p: &[usize]) -> Result<()> {
    if t != p || p.is_empty() {
        return Err(Error::shape(op, format!("Arguments `target` and `output` must have the same shape (and rank >= 1). Received: target.shape={t:?}, output.shape={p:?}")));
    }
    Ok(())
}

/// `a` widened to float32 (exact for half precision).
fn to_f32<T: Float>(a: &ArrayViewD<'_, T>) -> ArrayD<f32> {
    a.mapv(|v| v.f64() as f32)
}

/// `y_true` with categorical label smoothing; borrowed (no copy) without smoothing.
/// Keras' categorical label smoothing `t·(1 − ls) + ls/C`, where C is the size of
/// `y_true`'s **last** axis whatever `axis` says (`ops.shape(y_true)[-1]` in Keras 3).
fn smooth_cat<'a, T: Float>(t: &ArrayViewD<'a, T>, ls: f64) -> CowArray<'a, T, IxDyn> {
    if ls != 0.0 {
        let classes = t.shape().last().copied().unwrap_or(1);
        let (a, b) = (T::of(1.0 - ls), T::of(ls) / T::of(classes as f64));
        CowArray::from(t.mapv(|v| v * a + b))
    } else {
        CowArray::from(t.clone())
    }
}

/// `y_true` with binary label smoothing; borrowed (no copy) without smoothing.
fn smooth_bin<'a, T: Float>(t: &ArrayViewD<'a, T>, ls: f64) -> CowArray<'a, T, IxDyn> {
    if ls != 0.0 {
        let (a, b) = (T::of(1.0 - ls), T::of(0.5 * ls));
        CowArray::from(t.mapv(|v| v * a + b))
    } else {
        CowArray::from(t.clone())
    }
}

/// `keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=False,
/// label_smoothing=0.0, axis=-1)`.
///
/// `y_true ← y_true·(1 − ls) + ls/C`; then with `from_logits` the fused
/// `tf.nn.softmax_cross_entropy_with_logits`, otherwise
/// [`ops::categorical_crossentropy_probs`] (renormalise, clip to `[1e-7, 1 − 1e-7]`, log).
///
/// # Errors
/// [`Error::Shape`] unless `y_true` and `y_pred` have the same shape (Keras does not
/// broadcast); [`Error::Axis`] for a bad axis.
///
/// ```
/// use ndarray::array;
/// let t = array![[0.0f32, 1.0, 0.0]].into_dyn();
/// let logits = array![[2.0f32, 1.0, 0.1]].into_dyn();
/// let raw = xent::keras::categorical_crossentropy(&t.view(), &logits.view(), false, 0.0, -1).unwrap();
/// let right = xent::keras::categorical_crossentropy(&t.view(), &logits.view(), true, 0.0, -1).unwrap();
/// assert!((raw[[0]] - 1.1314021).abs() < 1e-6);   // logits mistaken for probabilities
/// assert!((right[[0]] - 1.4170300).abs() < 1e-6); // the real cross-entropy
/// ```
pub fn categorical_crossentropy<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
) -> Result<ArrayD<T>> {
    cce(y_true, y_pred, from_logits, label_smoothing, axis, None)
}

/// Gradient of [`categorical_crossentropy`] w.r.t. `y_pred`: TF's fused kernel
/// `g·(softmax − y_true')` with `from_logits`, else
/// [`ops::categorical_crossentropy_probs_vjp`] (zero through clipped entries).
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let p = array![[0.5f64, 0.5]].into_dyn();
/// let g = array![1.0f64].into_dyn();
/// let dl = xent::keras::categorical_crossentropy_grad(&t.view(), &p.view(), true, 0.0, -1, &g.view()).unwrap();
/// assert!((&dl - &array![[-0.5, 0.5]].into_dyn()).iter().all(|d| d.abs() < 1e-15)); // softmax([0.5, 0.5]) − t
/// let dp = xent::keras::categorical_crossentropy_grad(&t.view(), &p.view(), false, 0.0, -1, &g.view()).unwrap();
/// assert_eq!(dp, array![[-1.0, 1.0]].into_dyn()); // through the renormalisation
/// ```
pub fn categorical_crossentropy_grad<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    cce(y_true, y_pred, from_logits, label_smoothing, axis, Some(g))
}

fn cce<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    ls: f64,
    axis: i64,
    g: Option<&ArrayViewD<'_, T>>,
) -> Result<ArrayD<T>> {
    if T::DTYPE == crate::DType::F16 && from_logits {
        // TF's fused softmax cross-entropy kernel: computed in float32, rounded once
        // (more accurate than TF's half intermediates; see docs/hardening.md).
        let gf = g.map(to_f32);
        let r = cce(&to_f32(y_true).view(), &to_f32(y_pred).view(), true, ls, axis, gf.as_ref().map(|a| a.view()).as_ref())?;
        return Ok(r.mapv(|v| T::of(f64::from(v))));
    }
    let op = "keras.losses.categorical_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    // Keras passes `axis` to tf.nn.softmax_cross_entropy_with_logits as given.
    let a = if from_logits { crate::tf::sce_axis(op, axis, y_pred.shape())? } else { normalize_axis(op, "y_pred", axis, y_pred.shape())? };
    if let (true, Some(g), true) = (from_logits, g, ls != 0.0 && T::DTYPE == crate::DType::F32) {
        // Smoothed float32 labels are rounded twice (`t·(1 − ls)`, `+ ls/C`) and the
        // gradient `softmax − t'` cancels where they meet: computed in float64 and
        // rounded once, the gradient keeps the digits Keras' float32 loses.
        let wide = |a: &ArrayViewD<'_, T>| a.mapv(|v| v.f64());
        return Ok(cce::<f64>(&wide(y_true).view(), &wide(y_pred).view(), true, ls, axis, Some(&wide(g).view()))?.mapv(T::of));
    }
    let t = smooth_cat(y_true, ls);
    let par = crate::default_par();
    match (from_logits, g) {
        (true, None) => ops::cross_entropy_dense(y_pred, &t.view(), a, None, T::zero(), Reduction::None, par),
        (true, Some(g)) => ops::cross_entropy_dense_vjp(y_pred, &t.view(), a, None, T::zero(), Reduction::None, DenseGrad::Kernel, g, par),
        (false, None) => ops::categorical_crossentropy_probs(&t.view(), y_pred, a, EPSILON),
        (false, Some(g)) => ops::categorical_crossentropy_probs_vjp(&t.view(), y_pred, a, EPSILON, g),
    }
}

/// Prepare sparse labels the Keras way: squeeze a trailing 1 when ranks are equal,
/// then map `ignore_class` to 0 and report which positions are valid.
fn sparse_prep(
    op: &str,
    y_true: &ArrayViewD<'_, i64>,
    y_pred: &[usize],
    ignore: Option<i64>,
    axis: i64,
) -> Result<(ArrayD<i64>, Option<ArrayD<bool>>)> {
    if y_pred.is_empty() {
        return Err(Error::shape(op, "`y_pred` must have rank >= 1"));
    }
    let last = y_pred.len() as i64 - 1;
    if axis != -1 && axis != last {
        return Err(Error::param(op, "axis", format!("only axis=-1 is currently supported, got {axis}")));
    }
    let mut y = y_true.to_owned();
    if y.ndim() == y_pred.len() && y.shape().last() == Some(&1) {
        let last = y.ndim() - 1;
        y = y.index_axis_move(Axis(last), 0);
    }
    let valid = ignore.map(|ig| y.mapv(|v| v != ig));
    if let Some(ig) = ignore {
        y.mapv_inplace(|v| if v == ig { 0 } else { v });
    }
    Ok((y, valid))
}

/// `keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=False,
/// ignore_class=None, axis=-1)`.
///
/// With `from_logits`: `tf.nn.sparse_softmax_cross_entropy_with_logits`; otherwise
/// [`ops::sparse_categorical_crossentropy_probs`] (clip first, normalise after).
/// A `y_true` of shape `(N, 1)` is squeezed. Positions whose label equals
/// `ignore_class` get loss 0 (their prediction row is zeroed first, as Keras does).
///
/// # Errors
/// [`Error::Shape`] on mismatched shapes; [`Error::Label`] for a label outside
/// `[0, C)` (TF raises on CPU); [`Error::Param`] for an axis other than the last.
///
/// ```
/// use ndarray::array;
/// let p = array![[0.1f32, 0.9], [0.5, 0.5]].into_dyn();
/// let y = array![1i64, -1].into_dyn();
/// let l = xent::keras::sparse_categorical_crossentropy(&y.view(), &p.view(), false, Some(-1), -1).unwrap();
/// assert!((l[[0]] + 0.9f32.ln()).abs() < 1e-6);
/// assert_eq!(l[[1]], 0.0);
/// ```
pub fn sparse_categorical_crossentropy<T: Float>(
    y_true: &ArrayViewD<'_, i64>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: i64,
) -> Result<ArrayD<T>> {
    scce(y_true, y_pred, from_logits, ignore_class, axis, None)
}

/// Gradient of [`sparse_categorical_crossentropy`] w.r.t. `y_pred` (zero rows at
/// ignored positions).
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
/// let y = array![0i64, 9].into_dyn(); // 9 is ignored
/// let g = array![1.0f64, 1.0].into_dyn();
/// let dx = xent::keras::sparse_categorical_crossentropy_grad(&y.view(), &x.view(), true, Some(9), -1, &g.view()).unwrap();
/// assert_eq!(dx, array![[-0.5, 0.5], [0.0, 0.0]].into_dyn());
/// ```
pub fn sparse_categorical_crossentropy_grad<T: Float>(
    y_true: &ArrayViewD<'_, i64>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    ignore_class: Option<i64>,
    axis: i64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    scce(y_true, y_pred, from_logits, ignore_class, axis, Some(g))
}

fn scce<T: Float>(
    y_true: &ArrayViewD<'_, i64>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    ignore: Option<i64>,
    axis: i64,
    g: Option<&ArrayViewD<'_, T>>,
) -> Result<ArrayD<T>> {
    if T::DTYPE == crate::DType::F16 && from_logits {
        // As in `cce`: TF's fused kernel, computed in float32 and rounded once.
        let gf = g.map(to_f32);
        let r = scce(y_true, &to_f32(y_pred).view(), true, ignore, axis, gf.as_ref().map(|a| a.view()).as_ref())?;
        return Ok(r.mapv(|v| T::of(f64::from(v))));
    }
    let op = "keras.losses.sparse_categorical_crossentropy";
    let (y, valid) = sparse_prep(op, y_true, y_pred.shape(), ignore, axis)?;
    let ax = y_pred.ndim() - 1;
    // Keras zeroes the prediction rows of ignored positions before the loss.
    let pred = match &valid {
        Some(v) => {
            let mut p = y_pred.to_owned();
            if v.shape() == crate::layout::reduced_shape(y_pred.shape(), ax).as_slice() {
                Zip::from(p.lanes_mut(Axis(ax))).and(v).for_each(|mut row, &ok| {
                    if !ok {
                        row.fill(T::zero());
                    }
                });
            }
            CowArray::from(p)
        }
        None => CowArray::from(y_pred.view()),
    };
    let o = SparseOptions { reduction: Reduction::None, ..Default::default() };
    let par = crate::default_par();
    let masked_g;
    let g = match (g, &valid) {
        (Some(g), Some(v)) if g.shape() == v.shape() => {
            masked_g = Zip::from(g).and(v).map_collect(|&a, &ok| if ok { a } else { T::zero() });
            Some(masked_g.view())
        }
        (g, _) => g.cloned(),
    };
    let r = match (from_logits, &g) {
        (true, None) => ops::cross_entropy_sparse(&pred.view(), ax, &y.view(), &o, par),
        (true, Some(g)) => ops::cross_entropy_sparse_vjp(&pred.view(), ax, &y.view(), &o, g, par),
        (false, None) => ops::sparse_categorical_crossentropy_probs(&y.view(), &pred.view(), EPSILON),
        (false, Some(g)) => ops::sparse_categorical_crossentropy_probs_vjp(&y.view(), &pred.view(), EPSILON, g),
    };
    let mut r = r.map_err(|e| match crate::tf::rename(e, op, "y_true") {
        Error::Label { op, input, index, value, classes, .. } if ignore.is_some() => {
            let extra = format!(" (and is not the ignore_class {})", ignore.unwrap_or_default());
            Error::Label { op, input, index, value, classes, extra }
        }
        e => e,
    })?;
    if let (None, Some(v)) = (&g, &valid) {
        Zip::from(&mut r).and(v).for_each(|l, &ok| {
            if !ok {
                *l = T::zero();
            }
        });
    } else if let Some(v) = &valid {
        Zip::from(r.lanes_mut(Axis(ax))).and(v).for_each(|mut row, &ok| {
            if !ok {
                row.fill(T::zero());
            }
        });
    }
    Ok(r)
}

/// `keras.losses.binary_crossentropy(y_true, y_pred, from_logits=False,
/// label_smoothing=0.0, axis=-1)`: element-wise BCE (TF's stable logits formula, or
/// the clipped probability formula), then the **mean over `axis`**.
///
/// `y_true ← y_true·(1 − ls) + ls/2`.
///
/// # Errors
/// [`Error::Shape`] unless shapes are equal; [`Error::Axis`] for a bad axis.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let l = xent::keras::binary_crossentropy(&t.view(), &array![[0.0f64, 0.0]].into_dyn().view(), true, 0.0, -1).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_crossentropy<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
) -> Result<ArrayD<T>> {
    let op = "keras.losses.binary_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    let a = normalize_axis(op, "y_pred", axis, y_pred.shape())?;
    let t = smooth_bin(y_true, label_smoothing);
    let e = if from_logits {
        ops::sigmoid_cross_entropy(&t.view(), y_pred)?
    } else {
        ops::binary_crossentropy_clipped(&t.view(), y_pred, EPSILON)?
    };
    ops::mean_axis(&e.view(), a)
}

/// Gradient of [`binary_crossentropy`] w.r.t. `y_pred`: `(g/K)·(σ(x) − t')` or the
/// clipped probability gradient divided by `K`, the length of `axis`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let dx = xent::keras::binary_crossentropy_grad(&t.view(), &x.view(), true, 0.0, -1, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[-0.25, 0.25]].into_dyn()); // (σ(x) − t) / 2: the mean over the last axis
/// ```
pub fn binary_crossentropy_grad<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "keras.losses.binary_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    let a = normalize_axis(op, "y_pred", axis, y_pred.shape())?;
    let t = smooth_bin(y_true, label_smoothing);
    let ge = ops::mean_axis_vjp(g, y_pred.shape(), a)?;
    if from_logits {
        ops::sigmoid_cross_entropy_vjp(&t.view(), y_pred, &ge.view())
    } else {
        ops::binary_crossentropy_clipped_vjp(&t.view(), y_pred, EPSILON, &ge.view())
    }
}

/// `keras.losses.categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0,
/// from_logits=False, label_smoothing=0.0, axis=-1)`: smoothing as
/// [`categorical_crossentropy`], a softmax first when `from_logits`, then
/// [`ops::categorical_focal_probs`] (always the clipped probability path).
///
/// # Errors
/// [`Error::Shape`] unless shapes are equal; [`Error::Axis`] for a bad axis.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let l = xent::keras::categorical_focal_crossentropy(&t.view(), &array![[0.5f64, 0.5]].into_dyn().view(), 0.25, 2.0, false, 0.0, -1).unwrap();
/// assert!((l[[0]] - 0.25 * 0.25 * 2f64.ln()).abs() < 1e-15);
/// ```
#[allow(clippy::too_many_arguments)] // Keras' own argument list
pub fn categorical_focal_crossentropy<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    alpha: f64,
    gamma: f64,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
) -> Result<ArrayD<T>> {
    let op = "keras.losses.categorical_focal_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    let a = normalize_axis(op, "y_pred", axis, y_pred.shape())?;
    let t = smooth_cat(y_true, label_smoothing);
    let p = if from_logits { CowArray::from(ops::softmax(y_pred, a, crate::default_par())) } else { CowArray::from(y_pred.view()) };
    ops::categorical_focal_probs(&t.view(), &p.view(), a, alpha, gamma, EPSILON)
}

/// Gradient of [`categorical_focal_crossentropy`] w.r.t. `y_pred` (through the softmax
/// when `from_logits`).
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let p = array![[0.5f64, 0.5]].into_dyn();
/// // alpha = 1, gamma = 0: the focal loss is the clipped cross-entropy
/// let dp = xent::keras::categorical_focal_crossentropy_grad(&t.view(), &p.view(), 1.0, 0.0, false, 0.0, -1, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp, array![[-1.0, 1.0]].into_dyn());
/// ```
#[allow(clippy::too_many_arguments)] // Keras' own argument list plus `g`
pub fn categorical_focal_crossentropy_grad<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    alpha: f64,
    gamma: f64,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "keras.losses.categorical_focal_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    let a = normalize_axis(op, "y_pred", axis, y_pred.shape())?;
    let t = smooth_cat(y_true, label_smoothing);
    let par = crate::default_par();
    if from_logits {
        let p = ops::softmax(y_pred, a, par);
        let dp = ops::categorical_focal_probs_vjp(&t.view(), &p.view(), a, alpha, gamma, EPSILON, g)?;
        ops::softmax_vjp(&p.view(), &dp.view(), a, par)
    } else {
        ops::categorical_focal_probs_vjp(&t.view(), y_pred, a, alpha, gamma, EPSILON, g)
    }
}

/// `keras.losses.binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False,
/// alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)`:
/// [`ops::binary_focal`] then the mean over `axis`. With `from_logits`, `p = σ(x)` and
/// the inner BCE uses TF's stable logits formula (Keras' TF backend recovers the logits
/// from its own sigmoid output).
///
/// # Errors
/// [`Error::Shape`] unless shapes are equal; [`Error::Axis`] for a bad axis.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64]].into_dyn();
/// let l = xent::keras::binary_focal_crossentropy(&t.view(), &array![[0.5f64]].into_dyn().view(), false, 0.25, 2.0, false, 0.0, -1).unwrap();
/// assert!((l[[0]] - 0.25 * 2f64.ln()).abs() < 1e-15);
/// ```
#[allow(clippy::too_many_arguments)] // Keras' own argument list
pub fn binary_focal_crossentropy<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    apply_class_balancing: bool,
    alpha: f64,
    gamma: f64,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
) -> Result<ArrayD<T>> {
    let op = "keras.losses.binary_focal_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    let a = normalize_axis(op, "y_pred", axis, y_pred.shape())?;
    let t = smooth_bin(y_true, label_smoothing);
    let e = if from_logits {
        let p = ops::sigmoid(y_pred);
        ops::binary_focal(&t.view(), &p.view(), Some(y_pred), apply_class_balancing, alpha, gamma, EPSILON)?
    } else {
        ops::binary_focal(&t.view(), y_pred, None, apply_class_balancing, alpha, gamma, EPSILON)?
    };
    ops::mean_axis(&e.view(), a)
}

/// Gradient of [`binary_focal_crossentropy`] w.r.t. `y_pred`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64]].into_dyn();
/// let p = array![[0.5f64]].into_dyn();
/// // gamma = 0 and no balancing: the focal loss is the clipped BCE, d/dp = −t/p
/// let dp = xent::keras::binary_focal_crossentropy_grad(&t.view(), &p.view(), false, 0.25, 0.0, false, 0.0, -1, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp[[0, 0]], -2.0);
/// ```
#[allow(clippy::too_many_arguments)] // Keras' own argument list plus `g`
pub fn binary_focal_crossentropy_grad<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    apply_class_balancing: bool,
    alpha: f64,
    gamma: f64,
    from_logits: bool,
    label_smoothing: f64,
    axis: i64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "keras.losses.binary_focal_crossentropy";
    same(op, y_true.shape(), y_pred.shape())?;
    let a = normalize_axis(op, "y_pred", axis, y_pred.shape())?;
    let t = smooth_bin(y_true, label_smoothing);
    let ge = ops::mean_axis_vjp(g, y_pred.shape(), a)?;
    if from_logits {
        let p = ops::sigmoid(y_pred);
        ops::binary_focal_vjp(&t.view(), &p.view(), Some(y_pred), apply_class_balancing, alpha, gamma, EPSILON, &ge.view())
    } else {
        ops::binary_focal_vjp(&t.view(), y_pred, None, apply_class_balancing, alpha, gamma, EPSILON, &ge.view())
    }
}

/// `keras.losses.kl_divergence(y_true, y_pred)`: see [`ops::kl_divergence`].
///
/// # Errors
/// [`Error::Shape`] unless shapes are equal.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let l = xent::keras::kl_divergence(&t.view(), &array![[0.5f64, 0.5]].into_dyn().view()).unwrap();
/// assert!((l[[0]] - (2f64.ln() + 1e-7 * (2e-7f64).ln())).abs() < 1e-12);
/// ```
pub fn kl_divergence<T: Float>(y_true: &ArrayViewD<'_, T>, y_pred: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    same("keras.losses.kl_divergence", y_true.shape(), y_pred.shape())?;
    ops::kl_divergence(y_true, y_pred, EPSILON)
}

/// Gradient of [`kl_divergence`] w.r.t. `y_pred`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[0.5f64, 0.5]].into_dyn();
/// let dp = xent::keras::kl_divergence_grad(&t.view(), &t.view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp, array![[-1.0, -1.0]].into_dyn());
/// ```
pub fn kl_divergence_grad<T: Float>(y_true: &ArrayViewD<'_, T>, y_pred: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    same("keras.losses.kl_divergence", y_true.shape(), y_pred.shape())?;
    ops::kl_divergence_vjp(y_true, y_pred, EPSILON, g)
}

// ---------------------------------------------------------------------------------
// Loss classes: reduction and sample weights.

/// Keras' loss reductions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KerasReduction {
    /// `None` / `"none"`: the per-sample losses.
    None,
    /// `"sum"`.
    Sum,
    /// `"sum_over_batch_size"` (the default) and `"mean"`: sum divided by the number of
    /// loss elements (0 when there are none: `divide_no_nan`).
    #[default]
    SumOverBatchSize,
    /// `"mean_with_sample_weight"`: sum divided by the sum of the sample weights.
    MeanWithSampleWeight,
}

impl KerasReduction {
    /// Parse Keras' names (`none`, `sum`, `sum_over_batch_size`, `mean`,
    /// `mean_with_sample_weight`; JSON `null` maps to `none` in the CLI).
    ///
    /// # Errors
    /// [`Error::Param`] for any other value, as Keras raises `ValueError`.
    ///
    /// ```
    /// use xent::keras::KerasReduction;
    /// assert_eq!(KerasReduction::parse("mean").unwrap(), KerasReduction::SumOverBatchSize);
    /// ```
    pub fn parse(s: &str) -> Result<KerasReduction> {
        Ok(match s {
            "none" => KerasReduction::None,
            "sum" => KerasReduction::Sum,
            "sum_over_batch_size" | "mean" => KerasReduction::SumOverBatchSize,
            "mean_with_sample_weight" => KerasReduction::MeanWithSampleWeight,
            other => {
                return Err(Error::param(
                    "keras.losses.Loss",
                    "reduction",
                    format!("invalid value `{other}` (expected sum_over_batch_size, sum, none, mean or mean_with_sample_weight)"),
                ))
            }
        })
    }
}

/// Keras' `squeeze_or_expand_to_same_rank` on shapes: returns the shapes `x1`, `x2`
/// take (only a trailing 1 is squeezed, or a rank-1 partner expanded).
///
/// ```
/// assert_eq!(xent::keras::squeeze_or_expand(&[4, 1], &[4]), (vec![4, 1], vec![4, 1]));
/// assert_eq!(xent::keras::squeeze_or_expand(&[2, 3, 1], &[2, 3]), (vec![2, 3], vec![2, 3]));
/// ```
pub fn squeeze_or_expand(x1: &[usize], x2: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let (mut a, mut b) = (x1.to_vec(), x2.to_vec());
    if a.len() == b.len() + 1 && a.last() == Some(&1) {
        if b.len() == 1 {
            b.push(1);
        } else {
            a.pop();
        }
    } else if b.len() == a.len() + 1 && b.last() == Some(&1) {
        if a.len() == 1 {
            a.push(1);
        } else {
            b.pop();
        }
    }
    (a, b)
}

/// The per-element factor Keras' reduction applies to each loss value, and the
/// output shape: `reduce(values) = Σ values·factor` (or `values·factor` for `none`).
fn reduction_factors<T: Float>(
    values: &[usize],
    sample_weight: Option<&ArrayViewD<'_, T>>,
    mask: Option<&ArrayD<bool>>,
    reduction: KerasReduction,
) -> Result<(ArrayD<T>, bool)> {
    let op = "keras.losses.Loss";
    let n = values.iter().product::<usize>();
    let mut f = ArrayD::from_elem(IxDyn(values), T::one());
    if let Some(m) = mask {
        let valid = m.iter().filter(|&&v| v).count();
        let k = match reduction {
            KerasReduction::SumOverBatchSize if valid > 0 => T::of(n as f64 / valid as f64),
            KerasReduction::SumOverBatchSize => T::zero(),
            _ => T::one(),
        };
        Zip::from(&mut f).and(m).for_each(|f, &ok| *f = if ok { k } else { T::zero() });
    }
    if let Some(sw) = sample_weight {
        let (vs, ss) = squeeze_or_expand(values, sw.shape());
        let sw = sw.to_shape(IxDyn(&ss)).map_err(|_| Error::shape(op, "sample_weight reshape"))?;
        let fv = f.to_shape(IxDyn(&vs)).map_err(|_| Error::shape(op, "loss reshape"))?.to_owned();
        let prod = &fv
            * &sw.broadcast(IxDyn(&vs)).ok_or_else(|| {
                Error::shape(
                    op,
                    format!("`sample_weight` of shape {:?} cannot be broadcast to the per-sample losses of shape {values:?}", sw.shape()),
                )
            })?;
        f = prod.into_shape_with_order(IxDyn(values)).map_err(|_| Error::shape(op, "sample_weight"))?;
    }
    if values.is_empty() || values == [0] || reduction == KerasReduction::None {
        return Ok((f, false));
    }
    let div = match reduction {
        KerasReduction::MeanWithSampleWeight if sample_weight.is_some() || mask.is_some() => f.iter().map(|v| v.f64()).sum::<f64>(),
        KerasReduction::Sum => 1.0,
        _ => n as f64,
    };
    let scale = if div == 0.0 { T::zero() } else { T::of(1.0 / div) };
    if reduction != KerasReduction::Sum {
        f.mapv_inplace(|v| v * scale);
    }
    Ok((f, true))
}

fn apply_reduction<T: Float>(
    values: ArrayD<T>,
    sample_weight: Option<&ArrayViewD<'_, T>>,
    mask: Option<&ArrayD<bool>>,
    reduction: KerasReduction,
) -> Result<ArrayD<T>> {
    let (f, reduced) = reduction_factors(values.shape(), sample_weight, mask, reduction)?;
    if !reduced {
        return Ok(values * f);
    }
    let s: f64 = Zip::from(&values).and(&f).fold(0.0, |acc, &v, &w| acc + (v * w).f64());
    Ok(ArrayD::from_elem(IxDyn(&[]), T::of(s)))
}

fn reduction_grad<T: Float>(
    values: &[usize],
    sample_weight: Option<&ArrayViewD<'_, T>>,
    mask: Option<&ArrayD<bool>>,
    reduction: KerasReduction,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let (f, reduced) = reduction_factors(values, sample_weight, mask, reduction)?;
    if reduced {
        ops::check_grad_pub("keras.losses.Loss", g.shape(), &[])?;
        let g0 = g.iter().next().copied().unwrap_or_else(T::zero);
        Ok(f.mapv(|v| v * g0))
    } else {
        ops::check_grad_pub("keras.losses.Loss", g.shape(), values)?;
        Ok(f * g)
    }
}

/// `keras.losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.0,
/// axis=-1, reduction="sum_over_batch_size")`.
#[derive(Debug, Clone, Copy)]
pub struct CategoricalCrossentropy {
    /// Treat `y_pred` as logits.
    pub from_logits: bool,
    /// Label smoothing.
    pub label_smoothing: f64,
    /// Class axis (default −1).
    pub axis: i64,
    /// The reduction.
    pub reduction: KerasReduction,
}

/// `keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=None,
/// reduction="sum_over_batch_size", axis=-1)`.
#[derive(Debug, Clone, Copy)]
pub struct SparseCategoricalCrossentropy {
    /// Treat `y_pred` as logits.
    pub from_logits: bool,
    /// Label value to ignore (masked out of the loss and of the mean).
    pub ignore_class: Option<i64>,
    /// The reduction.
    pub reduction: KerasReduction,
    /// Class axis (only −1 is supported, as in Keras' TF backend).
    pub axis: i64,
}

/// `keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1,
/// reduction="sum_over_batch_size")`.
#[derive(Debug, Clone, Copy)]
pub struct BinaryCrossentropy {
    /// Treat `y_pred` as logits.
    pub from_logits: bool,
    /// Label smoothing.
    pub label_smoothing: f64,
    /// Axis of the mean (default −1).
    pub axis: i64,
    /// The reduction.
    pub reduction: KerasReduction,
}

/// Keras' constructor defaults: `from_logits=False, label_smoothing=0.0, axis=-1,
/// reduction="sum_over_batch_size"`.
impl Default for CategoricalCrossentropy {
    fn default() -> Self {
        CategoricalCrossentropy { from_logits: false, label_smoothing: 0.0, axis: -1, reduction: KerasReduction::SumOverBatchSize }
    }
}

/// Keras' constructor defaults: `from_logits=False, ignore_class=None,
/// reduction="sum_over_batch_size", axis=-1`.
impl Default for SparseCategoricalCrossentropy {
    fn default() -> Self {
        SparseCategoricalCrossentropy { from_logits: false, ignore_class: None, reduction: KerasReduction::SumOverBatchSize, axis: -1 }
    }
}

/// Keras' constructor defaults: `from_logits=False, label_smoothing=0.0, axis=-1,
/// reduction="sum_over_batch_size"`.
impl Default for BinaryCrossentropy {
    fn default() -> Self {
        BinaryCrossentropy { from_logits: false, label_smoothing: 0.0, axis: -1, reduction: KerasReduction::SumOverBatchSize }
    }
}

fn same_rank_pair<'a, T>(op: &str, t: &ArrayViewD<'a, T>, p: &ArrayViewD<'a, T>) -> Result<(ArrayViewD<'a, T>, ArrayViewD<'a, T>)> {
    let (ts, ps) = squeeze_or_expand(t.shape(), p.shape());
    let t2 = t.clone().into_shape_with_order(IxDyn(&ts)).map_err(|_| Error::shape(op, "y_true reshape"))?;
    let p2 = p.clone().into_shape_with_order(IxDyn(&ps)).map_err(|_| Error::shape(op, "y_pred reshape"))?;
    Ok((t2, p2))
}

/// `Loss.__call__` for the losses on float targets: align the ranks of `y_true` and
/// `y_pred` (Keras' `squeeze_or_expand_to_same_rank`), compute the per-sample losses
/// `f`, weight and reduce.
fn class_call<T: Float>(
    op: &str,
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    sample_weight: Option<&ArrayViewD<'_, T>>,
    reduction: KerasReduction,
    f: impl Fn(&ArrayViewD<'_, T>, &ArrayViewD<'_, T>) -> Result<ArrayD<T>>,
) -> Result<ArrayD<T>> {
    let (t, p) = same_rank_pair(op, y_true, y_pred)?;
    apply_reduction(f(&t, &p)?, sample_weight, None, reduction)
}

/// The gradient of [`class_call`] w.r.t. `y_pred`: the reduction's factors as the
/// upstream gradient of the per-sample losses, then their VJP `df`.
#[allow(clippy::too_many_arguments)] // the loss call's arguments plus `g` and the two functions
fn class_grad<T: Float>(
    op: &str,
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    sample_weight: Option<&ArrayViewD<'_, T>>,
    reduction: KerasReduction,
    g: &ArrayViewD<'_, T>,
    f: impl Fn(&ArrayViewD<'_, T>, &ArrayViewD<'_, T>) -> Result<ArrayD<T>>,
    df: impl Fn(&ArrayViewD<'_, T>, &ArrayViewD<'_, T>, &ArrayViewD<'_, T>) -> Result<ArrayD<T>>,
) -> Result<ArrayD<T>> {
    let (t, p) = same_rank_pair(op, y_true, y_pred)?;
    let v = f(&t, &p)?;
    let gv = reduction_grad(v.shape(), sample_weight, None, reduction, g)?;
    let d = df(&t, &p, &gv.view())?;
    Ok(d.into_shape_with_order(IxDyn(y_pred.shape())).expect("same size"))
}

impl CategoricalCrossentropy {
    /// `loss(y_true, y_pred, sample_weight)`: [`categorical_crossentropy`] per sample,
    /// times `sample_weight`, then the reduction.
    ///
    /// # Errors
    /// As [`categorical_crossentropy`], plus [`Error::Shape`] if `sample_weight` does
    /// not broadcast to the per-sample losses.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::{CategoricalCrossentropy, KerasReduction};
    /// let loss = CategoricalCrossentropy { from_logits: true, axis: -1, reduction: KerasReduction::Sum, ..Default::default() };
    /// let t = array![[1.0f64, 0.0], [0.0, 1.0]].into_dyn();
    /// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
    /// assert!((loss.call(&t.view(), &x.view(), None).unwrap()[[]] - 2.0 * 2f64.ln()).abs() < 1e-15);
    /// ```
    pub fn call<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
    ) -> Result<ArrayD<T>> {
        let f = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| {
            categorical_crossentropy(t, p, self.from_logits, self.label_smoothing, self.axis)
        };
        class_call("keras.losses.CategoricalCrossentropy", y_true, y_pred, sample_weight, self.reduction, f)
    }

    /// Gradient of [`CategoricalCrossentropy::call`] w.r.t. `y_pred`.
    ///
    /// # Errors
    /// As [`CategoricalCrossentropy::call`], plus [`Error::Shape`] for a wrong `g`.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::{CategoricalCrossentropy, KerasReduction};
    /// let loss = CategoricalCrossentropy { from_logits: true, axis: -1, reduction: KerasReduction::Sum, ..Default::default() };
    /// let t = array![[1.0f64, 0.0]].into_dyn();
    /// let x = array![[0.0f64, 0.0]].into_dyn();
    /// let g = ndarray::arr0(1.0).into_dyn();
    /// // softmax − t
    /// assert_eq!(loss.grad(&t.view(), &x.view(), None, &g.view()).unwrap(), array![[-0.5, 0.5]].into_dyn());
    /// ```
    pub fn grad<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<ArrayD<T>> {
        let (fl, ls, ax) = (self.from_logits, self.label_smoothing, self.axis);
        let f = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| categorical_crossentropy(t, p, fl, ls, ax);
        let df = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>, u: &ArrayViewD<'_, T>| categorical_crossentropy_grad(t, p, fl, ls, ax, u);
        class_grad("keras.losses.CategoricalCrossentropy", y_true, y_pred, sample_weight, self.reduction, g, f, df)
    }
}

impl SparseCategoricalCrossentropy {
    /// `loss(y_true, y_pred, sample_weight)`: [`sparse_categorical_crossentropy`] per
    /// sample, masked by `ignore_class` (the mean is over valid samples only; 0 when
    /// none is valid), times `sample_weight`, then the reduction.
    ///
    /// # Errors
    /// As [`sparse_categorical_crossentropy`], plus [`Error::Shape`] for a
    /// `sample_weight` that does not broadcast.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::SparseCategoricalCrossentropy;
    /// let loss = SparseCategoricalCrossentropy { from_logits: true, ignore_class: Some(0), axis: -1, ..Default::default() };
    /// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
    /// let l = loss.call(&array![1i64, 0].into_dyn().view(), &x.view(), None).unwrap();
    /// assert!((l[[]] - 2f64.ln()).abs() < 1e-15); // mean over the one valid sample
    /// ```
    pub fn call<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, i64>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
    ) -> Result<ArrayD<T>> {
        let v = sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, self.ignore_class, self.axis)?;
        let mask = self.mask(y_true, y_pred.shape())?;
        apply_reduction(v, sample_weight, mask.as_ref(), self.reduction)
    }

    /// Gradient of [`SparseCategoricalCrossentropy::call`] w.r.t. `y_pred`.
    ///
    /// # Errors
    /// As [`SparseCategoricalCrossentropy::call`], plus [`Error::Shape`] for a wrong `g`.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::SparseCategoricalCrossentropy;
    /// let loss = SparseCategoricalCrossentropy { from_logits: true, ignore_class: Some(0), axis: -1, ..Default::default() };
    /// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
    /// let g = ndarray::arr0(1.0).into_dyn();
    /// let dx = loss.grad(&array![1i64, 0].into_dyn().view(), &x.view(), None, &g.view()).unwrap();
    /// // the ignored sample gets no gradient; the mean is over the one valid sample
    /// assert_eq!(dx, array![[0.5, -0.5], [0.0, 0.0]].into_dyn());
    /// ```
    pub fn grad<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, i64>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<ArrayD<T>> {
        let v = sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, self.ignore_class, self.axis)?;
        let mask = self.mask(y_true, y_pred.shape())?;
        let gv = reduction_grad(v.shape(), sample_weight, mask.as_ref(), self.reduction, g)?;
        sparse_categorical_crossentropy_grad(y_true, y_pred, self.from_logits, self.ignore_class, self.axis, &gv.view())
    }

    fn mask(&self, y_true: &ArrayViewD<'_, i64>, pred: &[usize]) -> Result<Option<ArrayD<bool>>> {
        Ok(sparse_prep("keras.losses.SparseCategoricalCrossentropy", y_true, pred, self.ignore_class, self.axis)?.1)
    }
}

impl BinaryCrossentropy {
    /// `loss(y_true, y_pred, sample_weight)`: [`binary_crossentropy`] per sample (the
    /// mean over `axis`), times `sample_weight`, then the reduction.
    ///
    /// # Errors
    /// As [`binary_crossentropy`], plus [`Error::Shape`] for a `sample_weight` that
    /// does not broadcast.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::BinaryCrossentropy;
    /// let loss = BinaryCrossentropy { from_logits: true, axis: -1, ..Default::default() };
    /// let l = loss.call(&array![[1.0f64], [0.0]].into_dyn().view(), &array![[0.0f64], [0.0]].into_dyn().view(), None).unwrap();
    /// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
    /// ```
    pub fn call<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
    ) -> Result<ArrayD<T>> {
        let f = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| binary_crossentropy(t, p, self.from_logits, self.label_smoothing, self.axis);
        class_call("keras.losses.BinaryCrossentropy", y_true, y_pred, sample_weight, self.reduction, f)
    }

    /// Gradient of [`BinaryCrossentropy::call`] w.r.t. `y_pred`.
    ///
    /// # Errors
    /// As [`BinaryCrossentropy::call`], plus [`Error::Shape`] for a wrong `g`.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::BinaryCrossentropy;
    /// let loss = BinaryCrossentropy { from_logits: true, axis: -1, ..Default::default() };
    /// let (t, x) = (array![[1.0f64], [0.0]].into_dyn(), array![[0.0f64], [0.0]].into_dyn());
    /// let g = ndarray::arr0(1.0).into_dyn();
    /// // (σ(x) − t) / 2 samples
    /// assert_eq!(loss.grad(&t.view(), &x.view(), None, &g.view()).unwrap(), array![[-0.25], [0.25]].into_dyn());
    /// ```
    pub fn grad<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<ArrayD<T>> {
        let (fl, ls, ax) = (self.from_logits, self.label_smoothing, self.axis);
        let f = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| binary_crossentropy(t, p, fl, ls, ax);
        let df = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>, u: &ArrayViewD<'_, T>| binary_crossentropy_grad(t, p, fl, ls, ax, u);
        class_grad("keras.losses.BinaryCrossentropy", y_true, y_pred, sample_weight, self.reduction, g, f, df)
    }
}

/// `keras.losses.KLDivergence(reduction="sum_over_batch_size")`: [`kl_divergence`] per
/// sample (over the last axis), times `sample_weight`, then the reduction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KLDivergence {
    /// The reduction.
    pub reduction: KerasReduction,
}

/// Keras' constructor default: `reduction="sum_over_batch_size"`.
impl Default for KLDivergence {
    fn default() -> Self {
        KLDivergence { reduction: KerasReduction::SumOverBatchSize }
    }
}

impl KLDivergence {
    /// `loss(y_true, y_pred, sample_weight)`.
    ///
    /// # Errors
    /// As [`kl_divergence`], plus [`Error::Shape`] for a `sample_weight` that does not
    /// broadcast to the per-sample losses.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::KLDivergence;
    /// let t = array![[0.5f64, 0.5], [0.25, 0.75]].into_dyn();
    /// let l = KLDivergence::default().call(&t.view(), &t.view(), None).unwrap();
    /// assert_eq!(l[[]], 0.0);
    /// ```
    pub fn call<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
    ) -> Result<ArrayD<T>> {
        class_call("keras.losses.KLDivergence", y_true, y_pred, sample_weight, self.reduction, |t, p| kl_divergence(t, p))
    }

    /// Gradient of [`KLDivergence::call`] w.r.t. `y_pred`.
    ///
    /// # Errors
    /// As [`KLDivergence::call`], plus [`Error::Shape`] for a wrong `g`.
    pub fn grad<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<ArrayD<T>> {
        let df = |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>, u: &ArrayViewD<'_, T>| kl_divergence_grad(t, p, u);
        class_grad("keras.losses.KLDivergence", y_true, y_pred, sample_weight, self.reduction, g, |t, p| kl_divergence(t, p), df)
    }
}

/// `keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25,
/// gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
/// reduction="sum_over_batch_size")`: [`binary_focal_crossentropy`] per sample, times
/// `sample_weight`, then the reduction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryFocalCrossentropy {
    /// Weight positives by `alpha` and negatives by `1 − alpha`.
    pub apply_class_balancing: bool,
    /// The class-balancing weight.
    pub alpha: f64,
    /// The focusing exponent.
    pub gamma: f64,
    /// Treat `y_pred` as logits.
    pub from_logits: bool,
    /// Label smoothing.
    pub label_smoothing: f64,
    /// Axis of the mean (default −1).
    pub axis: i64,
    /// The reduction.
    pub reduction: KerasReduction,
}

/// Keras' constructor defaults (see the struct).
impl Default for BinaryFocalCrossentropy {
    fn default() -> Self {
        BinaryFocalCrossentropy {
            apply_class_balancing: false,
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
            reduction: KerasReduction::SumOverBatchSize,
        }
    }
}

impl BinaryFocalCrossentropy {
    /// `loss(y_true, y_pred, sample_weight)`.
    ///
    /// # Errors
    /// As [`binary_focal_crossentropy`], plus [`Error::Shape`] for a `sample_weight`
    /// that does not broadcast.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::BinaryFocalCrossentropy;
    /// let l = BinaryFocalCrossentropy { gamma: 0.0, ..Default::default() };
    /// let v = l.call(&array![[1.0f64], [0.0]].into_dyn().view(), &array![[0.5f64], [0.5]].into_dyn().view(), None).unwrap();
    /// assert!((v[[]] - 2f64.ln()).abs() < 1e-12); // gamma 0, no balancing: the clipped BCE
    /// ```
    pub fn call<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
    ) -> Result<ArrayD<T>> {
        let s = *self;
        let f = move |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| {
            binary_focal_crossentropy(t, p, s.apply_class_balancing, s.alpha, s.gamma, s.from_logits, s.label_smoothing, s.axis)
        };
        class_call("keras.losses.BinaryFocalCrossentropy", y_true, y_pred, sample_weight, self.reduction, f)
    }

    /// Gradient of [`BinaryFocalCrossentropy::call`] w.r.t. `y_pred`.
    ///
    /// # Errors
    /// As [`BinaryFocalCrossentropy::call`], plus [`Error::Shape`] for a wrong `g`.
    pub fn grad<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<ArrayD<T>> {
        let s = *self;
        let f = move |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| {
            binary_focal_crossentropy(t, p, s.apply_class_balancing, s.alpha, s.gamma, s.from_logits, s.label_smoothing, s.axis)
        };
        let df = move |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>, u: &ArrayViewD<'_, T>| {
            binary_focal_crossentropy_grad(t, p, s.apply_class_balancing, s.alpha, s.gamma, s.from_logits, s.label_smoothing, s.axis, u)
        };
        class_grad("keras.losses.BinaryFocalCrossentropy", y_true, y_pred, sample_weight, self.reduction, g, f, df)
    }
}

/// `keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=False,
/// label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size")`:
/// [`categorical_focal_crossentropy`] per sample, times `sample_weight`, then the
/// reduction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoricalFocalCrossentropy {
    /// The weighting factor.
    pub alpha: f64,
    /// The focusing exponent.
    pub gamma: f64,
    /// Treat `y_pred` as logits.
    pub from_logits: bool,
    /// Label smoothing.
    pub label_smoothing: f64,
    /// Class axis (default −1).
    pub axis: i64,
    /// The reduction.
    pub reduction: KerasReduction,
}

/// Keras' constructor defaults (see the struct).
impl Default for CategoricalFocalCrossentropy {
    fn default() -> Self {
        CategoricalFocalCrossentropy {
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            axis: -1,
            reduction: KerasReduction::SumOverBatchSize,
        }
    }
}

impl CategoricalFocalCrossentropy {
    /// `loss(y_true, y_pred, sample_weight)`.
    ///
    /// # Errors
    /// As [`categorical_focal_crossentropy`], plus [`Error::Shape`] for a
    /// `sample_weight` that does not broadcast.
    ///
    /// ```
    /// use ndarray::array;
    /// use xent::keras::CategoricalFocalCrossentropy;
    /// let l = CategoricalFocalCrossentropy { alpha: 1.0, gamma: 0.0, ..Default::default() };
    /// let v = l.call(&array![[1.0f64, 0.0]].into_dyn().view(), &array![[0.5f64, 0.5]].into_dyn().view(), None).unwrap();
    /// assert!((v[[]] - 2f64.ln()).abs() < 1e-12); // alpha 1, gamma 0: the cross-entropy
    /// ```
    pub fn call<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
    ) -> Result<ArrayD<T>> {
        let s = *self;
        let f = move |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| {
            categorical_focal_crossentropy(t, p, s.alpha, s.gamma, s.from_logits, s.label_smoothing, s.axis)
        };
        class_call("keras.losses.CategoricalFocalCrossentropy", y_true, y_pred, sample_weight, self.reduction, f)
    }

    /// Gradient of [`CategoricalFocalCrossentropy::call`] w.r.t. `y_pred`.
    ///
    /// # Errors
    /// As [`CategoricalFocalCrossentropy::call`], plus [`Error::Shape`] for a wrong `g`.
    pub fn grad<T: Float>(
        &self,
        y_true: &ArrayViewD<'_, T>,
        y_pred: &ArrayViewD<'_, T>,
        sample_weight: Option<&ArrayViewD<'_, T>>,
        g: &ArrayViewD<'_, T>,
    ) -> Result<ArrayD<T>> {
        let s = *self;
        let f = move |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>| {
            categorical_focal_crossentropy(t, p, s.alpha, s.gamma, s.from_logits, s.label_smoothing, s.axis)
        };
        let df = move |t: &ArrayViewD<'_, T>, p: &ArrayViewD<'_, T>, u: &ArrayViewD<'_, T>| {
            categorical_focal_crossentropy_grad(t, p, s.alpha, s.gamma, s.from_logits, s.label_smoothing, s.axis, u)
        };
        class_grad("keras.losses.CategoricalFocalCrossentropy", y_true, y_pred, sample_weight, self.reduction, g, f, df)
    }
}

//! TensorFlow's `tf.nn` / `tf.math` functions, with TF's names, argument names,
//! defaults and quirks, mapped onto [`crate::ops`]. No numerics live here.
//!
//! Every function takes `ndarray` views and returns an owned array; its `_grad` twin
//! takes the upstream gradient `g` of the output and returns the gradient with respect
//! to the logits exactly as `tf.GradientTape` does. Threads follow
//! [`crate::default_par`].

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::DenseGrad;
use crate::layout::normalize_axis;
use crate::ops::{self, Reduction, SparseOptions};

fn rank1(op: &str, name: &str, shape: &[usize]) -> Result<()> {
    if shape.is_empty() {
        return Err(Error::shape(op, format!("`{name}` must have >= 1 dimension, got shape []")));
    }
    Ok(())
}

/// `tf.nn.softmax(logits, axis=-1)`: `exp(x − max) / Σ exp(x − max)` along `axis`.
///
/// # Errors
/// [`Error::Shape`] for a rank-0 input; [`Error::Axis`] for an axis out of range.
///
/// ```
/// use ndarray::array;
/// let y = xent::tf::softmax(&array![1.0f32, 1.0].into_dyn().view(), -1).unwrap();
/// assert_eq!(y, array![0.5f32, 0.5].into_dyn());
/// ```
pub fn softmax<T: Float>(logits: &ArrayViewD<'_, T>, axis: i64) -> Result<ArrayD<T>> {
    rank1("tf.nn.softmax", "logits", logits.shape())?;
    let a = normalize_axis("tf.nn.softmax", "logits", axis, logits.shape())?;
    Ok(ops::softmax(logits, a, crate::default_par()))
}

/// Gradient of [`softmax`]: `(g − Σ g·y)·y` (TF `_SoftmaxGrad`).
///
/// # Errors
/// As [`softmax`], plus [`Error::Shape`] if `g` differs in shape from `logits`.
///
/// ```
/// use ndarray::array;
/// let x = array![0.0f64, 0.0].into_dyn();
/// let dx = xent::tf::softmax_grad(&x.view(), -1, &array![1.0, 0.0].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![0.25, -0.25].into_dyn());
/// ```
pub fn softmax_grad<T: Float>(logits: &ArrayViewD<'_, T>, axis: i64, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    rank1("tf.nn.softmax", "logits", logits.shape())?;
    let a = normalize_axis("tf.nn.softmax", "logits", axis, logits.shape())?;
    ops::softmax_vjp_from_input(logits, g, a, crate::default_par())
}

/// `tf.nn.log_softmax(logits, axis=-1)`: `x − max − ln Σ exp(x − max)`.
///
/// # Errors
/// As [`softmax`].
///
/// ```
/// use ndarray::array;
/// let y = xent::tf::log_softmax(&array![0.0f64, 0.0].into_dyn().view(), -1).unwrap();
/// assert_eq!(y, array![-(2f64.ln()), -(2f64.ln())].into_dyn());
/// ```
pub fn log_softmax<T: Float>(logits: &ArrayViewD<'_, T>, axis: i64) -> Result<ArrayD<T>> {
    rank1("tf.nn.log_softmax", "logits", logits.shape())?;
    let a = normalize_axis("tf.nn.log_softmax", "logits", axis, logits.shape())?;
    Ok(ops::log_softmax(logits, a, crate::default_par()))
}

/// Gradient of [`log_softmax`]: `g − exp(y)·Σ g` (TF `_LogSoftmaxGrad`), with the
/// softmax recomputed from the logits ([`ops::log_softmax_vjp_from_input`]: the same
/// value, more accurate than `exp` of the rounded `y`).
///
/// # Errors
/// As [`softmax_grad`].
///
/// ```
/// use ndarray::array;
/// let x = array![0.0f64, 0.0].into_dyn();
/// let dx = xent::tf::log_softmax_grad(&x.view(), -1, &array![1.0, 0.0].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![0.5, -0.5].into_dyn());
/// ```
pub fn log_softmax_grad<T: Float>(logits: &ArrayViewD<'_, T>, axis: i64, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    rank1("tf.nn.log_softmax", "logits", logits.shape())?;
    let a = normalize_axis("tf.nn.log_softmax", "logits", axis, logits.shape())?;
    ops::log_softmax_vjp_from_input(logits, g, a, crate::default_par())
}

/// `tf.math.sigmoid(x)`: `1 / (1 + e^{−x})`, see [`ops::sigmoid`].
///
/// ```
/// use ndarray::array;
/// assert_eq!(xent::tf::sigmoid(&array![0.0f32].into_dyn().view())[[0]], 0.5);
/// ```
pub fn sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    ops::sigmoid(x)
}

/// Gradient of [`sigmoid`]: `g·y·(1 − y)` on the output (TF `SigmoidGrad`), evaluated
/// as `g·σ(x)·σ(−x)` ([`ops::sigmoid_vjp_from_input`]): the same value, to an ulp where
/// TF's `1 − y` loses digits near saturation.
///
/// # Errors
/// [`Error::Shape`] if `g` differs in shape from `x`.
///
/// ```
/// use ndarray::array;
/// let dx = xent::tf::sigmoid_grad(&array![0.0f64].into_dyn().view(), &array![2.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 0.5);
/// ```
pub fn sigmoid_grad<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    ops::sigmoid_vjp_from_input(x, g)
}

/// `tf.math.log_sigmoid(x)` = `−softplus(−x)`, see [`ops::log_sigmoid`].
///
/// ```
/// use ndarray::array;
/// assert_eq!(xent::tf::log_sigmoid(&array![-50.0f64].into_dyn().view())[[0]], -50.0);
/// ```
pub fn log_sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    ops::log_sigmoid(x)
}

/// Gradient of [`log_sigmoid`]: `g·σ(−x)`.
///
/// # Errors
/// [`Error::Shape`] if `g` differs in shape from `x`.
///
/// ```
/// use ndarray::array;
/// let dx = xent::tf::log_sigmoid_grad(&array![0.0f64].into_dyn().view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 0.5);
/// ```
pub fn log_sigmoid_grad<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    ops::log_sigmoid_vjp(x, g)
}

/// `tf.one_hot(indices, depth, on_value=1, off_value=0, axis=-1)`: indices outside
/// `[0, depth)`, negative ones included, give a row of `off_value` (TF never raises).
/// `axis = -1` appends the depth axis; `axis = k` inserts it at position k.
///
/// # Errors
/// [`Error::Param`] for a negative `depth`; [`Error::Axis`] if `axis` is not in
/// `[-1, rank]`.
///
/// ```
/// use ndarray::array;
/// let y = xent::tf::one_hot::<f32>(&array![1i64, -1].into_dyn().view(), 2, 1.0, 0.0, -1).unwrap();
/// assert_eq!(y, array![[0.0f32, 1.0], [0.0, 0.0]].into_dyn());
/// ```
pub fn one_hot<T: Copy + num_traits::Zero>(
    indices: &ArrayViewD<'_, i64>,
    depth: i64,
    on_value: T,
    off_value: T,
    axis: i64,
) -> Result<ArrayD<T>> {
    let op = "tf.one_hot";
    if depth < 0 {
        return Err(Error::param(op, "depth", format!("must be non-negative, got {depth}")));
    }
    let rank = indices.ndim() as i64;
    let a = if axis == -1 { rank } else { axis };
    if a < 0 || a > rank {
        return Err(Error::Axis { op: op.into(), input: "indices".into(), axis, rank: indices.ndim(), shape: indices.shape().to_vec() });
    }
    ops::one_hot(indices, depth as usize, on_value, off_value, a as usize)
}

fn broadcast_labels<'a, T: Float>(op: &str, labels: &'a ArrayViewD<'a, T>, logits: &[usize]) -> Result<ArrayViewD<'a, T>> {
    labels.broadcast(IxDyn(logits)).ok_or_else(|| {
        Error::shape(op, format!("logits and labels must be broadcastable: logits_size={logits:?} labels_size={:?}", labels.shape()))
    })
}

/// `tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis=-1)`:
/// `Σ_axis labels·(lse(logits) − logits)`, with labels broadcast to the logits' shape.
///
/// Labels are not checked to sum to 1 (TF does not check either).
///
/// # Errors
/// [`Error::Shape`] if the shapes do not broadcast or logits is rank 0;
/// [`Error::Axis`] for a bad axis.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let l = xent::tf::softmax_cross_entropy_with_logits(&t.view(), &x.view(), -1).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn softmax_cross_entropy_with_logits<T: Float>(labels: &ArrayViewD<'_, T>, logits: &ArrayViewD<'_, T>, axis: i64) -> Result<ArrayD<T>> {
    let op = "tf.nn.softmax_cross_entropy_with_logits";
    rank1(op, "logits", logits.shape())?;
    let a = sce_axis(op, axis, logits.shape())?;
    let t = broadcast_labels(op, labels, logits.shape())?;
    ops::cross_entropy_dense(logits, &t, a, None, T::zero(), Reduction::None, crate::default_par())
}

/// Gradient of [`softmax_cross_entropy_with_logits`] w.r.t. the logits: TF's fused
/// kernel backprop `g·(softmax(logits) − labels)`, which is the true derivative only
/// when each label row sums to 1.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[2.0f64, 0.0]].into_dyn(); // labels that do not sum to 1
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let dx = xent::tf::softmax_cross_entropy_with_logits_grad(&t.view(), &x.view(), -1, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[-1.5, 0.5]].into_dyn()); // softmax - labels, not the derivative
/// ```
pub fn softmax_cross_entropy_with_logits_grad<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    axis: i64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "tf.nn.softmax_cross_entropy_with_logits";
    rank1(op, "logits", logits.shape())?;
    let a = sce_axis(op, axis, logits.shape())?;
    let t = broadcast_labels(op, labels, logits.shape())?;
    ops::cross_entropy_dense_vjp(logits, &t, a, None, T::zero(), Reduction::None, DenseGrad::Kernel, g, crate::default_par())
}

/// TF's `softmax_cross_entropy_with_logits` moves a non-last axis to the end with
/// `range(axis)`, which fails for every negative axis but −1: TF raises
/// `InvalidArgumentError` there, and so does xent.
pub(crate) fn sce_axis(op: &str, axis: i64, shape: &[usize]) -> Result<usize> {
    if axis < -1 {
        return Err(Error::param(
            op,
            "axis",
            format!(
                "TensorFlow rejects negative axes other than -1 here (got {axis}; its transpose calls range({axis})): use {}",
                axis + shape.len() as i64
            ),
        ));
    }
    let a = normalize_axis(op, "logits", axis, shape)?;
    // TF flattens the logits to `[-1, C]` and reshapes the per-row cost back. With no
    // classes its Reshape infers -1 from the non-zero dimensions only, so when another
    // dimension is also 0 the cost has `Π nonzero dims` rows, not 0, and the final
    // reshape raises.
    if shape[a] == 0 && shape.iter().enumerate().any(|(i, &d)| i != a && d == 0) {
        let rows: usize = shape.iter().enumerate().filter(|&(i, &d)| i != a && d > 0).map(|(_, &d)| d).product();
        return Err(Error::shape(
            op,
            format!("Input to reshape is a tensor with {rows} values, but the requested shape has 0 (logits of shape {shape:?} have no classes on axis {a} and no rows)"),
        ));
    }
    Ok(a)
}

fn sparse_checks(op: &str, labels: &ArrayViewD<'_, i64>, logits: &[usize]) -> Result<usize> {
    if logits.is_empty() {
        return Err(Error::shape(op, "`logits` cannot be a scalar (shape [])"));
    }
    if labels.ndim() + 1 != logits.len() {
        return Err(Error::shape(
            op,
            format!("rank mismatch: rank of labels (shape {:?}) should equal rank of logits (shape {logits:?}) minus 1", labels.shape()),
        ));
    }
    let axis = logits.len() - 1;
    if logits[axis] == 0 && !labels.is_empty() {
        return Err(Error::shape(op, format!("must have at least one class, got logits of shape {logits:?}")));
    }
    Ok(axis)
}

/// `tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)`:
/// `lse(logits) − logits[label]` over the last axis.
///
/// # Errors
/// [`Error::Shape`] if `labels.shape != logits.shape[:-1]`; [`Error::Label`] for a
/// label outside `[0, C)`, as TF raises on CPU (on GPU TF returns NaN instead).
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0]].into_dyn();
/// let l = xent::tf::sparse_softmax_cross_entropy_with_logits(&array![1i64].into_dyn().view(), &x.view()).unwrap();
/// assert!((l[[0]] - 2f32.ln()).abs() < 1e-7);
/// ```
pub fn sparse_softmax_cross_entropy_with_logits<T: Float>(labels: &ArrayViewD<'_, i64>, logits: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    let op = "tf.nn.sparse_softmax_cross_entropy_with_logits";
    let axis = sparse_checks(op, labels, logits.shape())?;
    let o = SparseOptions { reduction: Reduction::None, ..Default::default() };
    ops::cross_entropy_sparse(logits, axis, labels, &o, crate::default_par()).map_err(|e| rename(e, op, "labels"))
}

/// Gradient of [`sparse_softmax_cross_entropy_with_logits`]: `g·(softmax − onehot(labels))`.
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let dx = xent::tf::sparse_softmax_cross_entropy_with_logits_grad(&array![1i64].into_dyn().view(), &x.view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[0.5, -0.5]].into_dyn());
/// ```
pub fn sparse_softmax_cross_entropy_with_logits_grad<T: Float>(
    labels: &ArrayViewD<'_, i64>,
    logits: &ArrayViewD<'_, T>,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "tf.nn.sparse_softmax_cross_entropy_with_logits";
    let axis = sparse_checks(op, labels, logits.shape())?;
    let o = SparseOptions { reduction: Reduction::None, ..Default::default() };
    ops::cross_entropy_sparse_vjp(logits, axis, labels, &o, g, crate::default_par()).map_err(|e| rename(e, op, "labels"))
}

/// Re-label a core error with the front-end's op and input names.
pub(crate) fn rename(e: Error, op: &str, labels: &str) -> Error {
    match e {
        Error::Label { index, value, classes, extra, .. } => {
            Error::Label { op: op.into(), input: labels.into(), index, value, classes, extra }
        }
        Error::Shape { msg, .. } => Error::Shape { op: op.into(), msg: msg.replace("`target`", &format!("`{labels}`")) },
        Error::Domain { msg, .. } => Error::Domain { op: op.into(), msg },
        other => other,
    }
}

/// `tf.nn.sigmoid_cross_entropy_with_logits(labels, logits)`:
/// `max(x, 0) − x·z + log1p(e^{−|x|})` element-wise.
///
/// # Errors
/// [`Error::Shape`] if the shapes differ.
///
/// ```
/// use ndarray::array;
/// let l = xent::tf::sigmoid_cross_entropy_with_logits(&array![1.0f64].into_dyn().view(), &array![0.0].into_dyn().view()).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn sigmoid_cross_entropy_with_logits<T: Float>(labels: &ArrayViewD<'_, T>, logits: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    ops::sigmoid_cross_entropy(labels, logits)
}

/// Gradient of [`sigmoid_cross_entropy_with_logits`] w.r.t. logits: `g·(σ(x) − z)`.
///
/// # Errors
/// [`Error::Shape`] on mismatched shapes.
///
/// ```
/// use ndarray::array;
/// let dx = xent::tf::sigmoid_cross_entropy_with_logits_grad(&array![1.0f64].into_dyn().view(), &array![0.0].into_dyn().view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], -0.5);
/// ```
pub fn sigmoid_cross_entropy_with_logits_grad<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    ops::sigmoid_cross_entropy_vjp(labels, logits, g)
}

/// `tf.nn.weighted_cross_entropy_with_logits(labels, logits, pos_weight)`:
/// `(1 − z)·x + (1 + (q − 1)·z)·(log1p(e^{−|x|}) + max(−x, 0))`.
///
/// # Errors
/// [`Error::Shape`] if the shapes differ.
///
/// ```
/// use ndarray::array;
/// let l = xent::tf::weighted_cross_entropy_with_logits(&array![1.0f64].into_dyn().view(), &array![0.0].into_dyn().view(), 2.0).unwrap();
/// assert!((l[[0]] - 2.0 * 2f64.ln()).abs() < 1e-15);
/// ```
pub fn weighted_cross_entropy_with_logits<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    pos_weight: T,
) -> Result<ArrayD<T>> {
    ops::weighted_sigmoid_cross_entropy(labels, logits, pos_weight)
}

/// Gradient of [`weighted_cross_entropy_with_logits`] as TF's autodiff computes it
/// (`g·(1 − z)` at exactly `x = 0`), see [`ops::weighted_sigmoid_cross_entropy_vjp`].
///
/// # Errors
/// [`Error::Shape`] on mismatched shapes.
///
/// ```
/// use ndarray::array;
/// let g = array![1.0f64].into_dyn();
/// let dx = xent::tf::weighted_cross_entropy_with_logits_grad(&array![0.0f64].into_dyn().view(), &array![0.0].into_dyn().view(), 2.0, &g.view()).unwrap();
/// assert_eq!(dx[[0]], 1.0); // TF autodiff at exactly x = 0 (the true derivative is 0.5)
/// ```
pub fn weighted_cross_entropy_with_logits_grad<T: Float>(
    labels: &ArrayViewD<'_, T>,
    logits: &ArrayViewD<'_, T>,
    pos_weight: T,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    ops::weighted_sigmoid_cross_entropy_vjp(labels, logits, pos_weight, g)
}

/// TensorFlow's CPU kernels run with denormals flushed to zero (FTZ and DAZ set in
/// MXCSR): every subnormal float32/float64 result is 0, and a subnormal input reads as
/// 0. This sets subnormal elements of `a` to zero (keeping the sign bit: `-0.0`
/// stays negative as in hardware), so a result computed exactly can be made TF's.
///
/// Half precision is not flushed (TF computes `half` through float32, where a half
/// subnormal is a normal number), so this does nothing for `half::f16`.
///
/// The op table (`xent::registry`, feature `registry`) applies this to the inputs and the outputs of
/// every `tf.*` and `keras.*` op; a library caller who wants TF's bits applies it
/// the same way. PyTorch does not flush: its ops keep subnormals.
///
/// ```
/// use ndarray::array;
/// let mut y = xent::tf::softmax(&array![[-100.0f32, -10.0, 0.0, 10.0, 100.0]].into_dyn().view(), -1).unwrap();
/// assert!(y[[0, 2]] > 0.0); // exp(-100) ≈ 3.8e-44, a subnormal
/// xent::tf::flush_subnormals(&mut y);
/// assert_eq!(y, array![[0.0f32, 0.0, 0.0, 0.0, 1.0]].into_dyn()); // what TF prints
/// ```
pub fn flush_subnormals<T: Float>(a: &mut ArrayD<T>) {
    if T::DTYPE == crate::DType::F16 {
        return;
    }
    a.mapv_inplace(|v| if v.is_subnormal() { T::zero().copysign(v) } else { v });
}

/// Whether any element of `a` is subnormal (and would be flushed by TF).
pub fn has_subnormals<T: Float>(a: &ArrayViewD<'_, T>) -> bool {
    T::DTYPE != crate::DType::F16 && a.iter().any(|v| v.is_subnormal())
}

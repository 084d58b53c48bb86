//! ONNX operators as ONNX Runtime 1.32 computes them on CPU (onnx 1.23.2, default
//! domain, opset 13 unless an op takes `opset`): `Softmax`, `LogSoftmax`, `Sigmoid`,
//! `SoftmaxCrossEntropyLoss` (outputs `output` and `log_prob`) and
//! `NegativeLogLikelihoodLoss`, on K-dimensional inputs `(N, C, d1, …)`.
//!
//! Labels: ONNX Runtime gathers with `GatherElements`, so a label in `[−C, −1]` other
//! than `ignore_index` wraps to `label + C`, and any label outside `[−C, C)` is an
//! error. A batch with `N = 0` or `C = 0` is an error (ORT's reshape to `(N, C, −1)`
//! fails). The mean of an all-ignored batch, or one whose target weights sum to 0, is
//! NaN (0/0). ONNX has no autograd: these ops have no gradient.
//!
//! ```
//! use ndarray::array;
//! let x = array![[1.0f32, 2.0, 3.0], [0.0, -1.0, 5.0]].into_dyn();
//! let y = array![0i64, 2].into_dyn();
//! let (loss, _log_prob) = xent::onnx::softmax_cross_entropy_loss(&x.view(), &y.view(), None, "mean", None).unwrap();
//! assert!((loss[[]] - 1.2083901).abs() < 1e-6);
//! ```

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::{Error, Result};
use crate::float::Float;
use crate::layout::normalize_axis;

/// `Softmax` / `LogSoftmax` at `opset`: from 13 along `axis` (default −1); at 11 and
/// below (default axis 1) the input is flattened to 2-D `(∏ shape[..axis],
/// ∏ shape[axis..])` and normalised over the second dimension.
fn softmax_like<T: Float>(op: &str, x: &ArrayViewD<'_, T>, axis: Option<i64>, opset: i64, log: bool) -> Result<ArrayD<T>> {
    if opset < 1 {
        return Err(Error::param(op, "opset", format!("{opset} is not an ONNX opset version")));
    }
    let par = crate::default_par();
    let run = |v: &ArrayViewD<'_, T>, a: usize| if log { crate::ops::log_softmax(v, a, par) } else { crate::ops::softmax(v, a, par) };
    if opset >= 13 {
        let a = normalize_axis(op, "input", axis.unwrap_or(-1), x.shape())?;
        return Ok(run(x, a));
    }
    let r = x.ndim() as i64;
    let ax = axis.unwrap_or(1);
    // Opset 11 accepts [-r, r], opset 1 [0, r] (axis == r flattens to (numel, 1)).
    let a = if ax < 0 { ax + r } else { ax };
    if a < 0 || a > r || (opset < 11 && ax < 0) {
        return Err(Error::Axis { op: op.into(), input: "input".into(), axis: ax, rank: x.ndim(), shape: x.shape().to_vec() });
    }
    let a = a as usize;
    let rows: usize = x.shape()[..a].iter().product();
    let cols: usize = x.shape()[a..].iter().product();
    let xc = x.as_standard_layout();
    let v = xc.view().into_shape_with_order(IxDyn(&[rows, cols])).map_err(|e| Error::shape(op, e.to_string()))?;
    let y = run(&v, 1);
    y.into_shape_with_order(IxDyn(x.shape())).map_err(|e| Error::shape(op, e.to_string()))
}

/// `onnx.Softmax(input; axis, opset)`.
///
/// # Errors
/// [`Error::Axis`]; [`Error::Param`] for an opset below 1.
pub fn softmax<T: Float>(x: &ArrayViewD<'_, T>, axis: Option<i64>, opset: i64) -> Result<ArrayD<T>> {
    softmax_like("onnx.Softmax", x, axis, opset, false)
}

/// `onnx.LogSoftmax(input; axis, opset)`.
///
/// # Errors
/// As [`softmax`].
pub fn log_softmax<T: Float>(x: &ArrayViewD<'_, T>, axis: Option<i64>, opset: i64) -> Result<ArrayD<T>> {
    softmax_like("onnx.LogSoftmax", x, axis, opset, true)
}

/// `onnx.Sigmoid(X)`: `1 / (1 + exp(−x))`.
pub fn sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    crate::ops::sigmoid(x)
}

/// How the per-position losses are reduced.
fn reduce<T: Float>(op: &str, loss: ArrayD<T>, wsum: T, reduction: &str) -> Result<ArrayD<T>> {
    match reduction {
        "none" => Ok(loss),
        "sum" => Ok(ArrayD::from_elem(IxDyn(&[]), loss.iter().fold(T::zero(), |a, &v| a + v))),
        // No positions at all (a d_i of 0): ONNX Runtime gives 0, not 0/0.
        "mean" if loss.is_empty() => Ok(ArrayD::from_elem(IxDyn(&[]), T::zero())),
        "mean" => Ok(ArrayD::from_elem(IxDyn(&[]), loss.iter().fold(T::zero(), |a, &v| a + v) / wsum)),
        other => Err(Error::param(op, "reduction", format!("`{other}` is not valid (expected none, mean or sum)"))),
    }
}

/// `NegativeLogLikelihoodLoss` on log-probabilities `x` `(N, C, d…)`: `−w[y] x[n, y, d…]`,
/// 0 where `y == ignore_index`; mean = `Σ loss / Σ w[y]` over non-ignored positions.
///
/// # Errors
/// [`Error::Shape`] for shapes that do not fit or an empty batch; [`Error::Label`] for
/// a label outside `[−C, C)`; [`Error::Param`] for an unknown reduction.
pub fn negative_log_likelihood_loss<T: Float>(
    x: &ArrayViewD<'_, T>,
    y: &ArrayViewD<'_, i64>,
    weight: Option<&ArrayViewD<'_, T>>,
    reduction: &str,
    ignore_index: Option<i64>,
) -> Result<ArrayD<T>> {
    nll("onnx.NegativeLogLikelihoodLoss", "input", "target", x, y, weight, reduction, ignore_index)
}

#[allow(clippy::too_many_arguments)] // (op, input names) + the operator's five arguments
fn nll<T: Float>(
    op: &str,
    xname: &str,
    yname: &str,
    x: &ArrayViewD<'_, T>,
    y: &ArrayViewD<'_, i64>,
    weight: Option<&ArrayViewD<'_, T>>,
    reduction: &str,
    ignore_index: Option<i64>,
) -> Result<ArrayD<T>> {
    if !matches!(reduction, "none" | "sum" | "mean") {
        return Err(Error::param(op, "reduction", format!("`{reduction}` is not valid (expected none, mean or sum)")));
    }
    let s = x.shape();
    if s.len() < 2 {
        return Err(Error::shape(op, format!("`{xname}` must have shape (N, C, d1, ...), got {s:?}")));
    }
    let (n, c) = (s[0], s[1]);
    let mut ys = vec![n];
    ys.extend_from_slice(&s[2..]);
    if y.shape() != ys.as_slice() {
        return Err(Error::shape(op, format!("`{yname}` has shape {:?}; for `{xname}` of shape {s:?} it must be {ys:?}", y.shape())));
    }
    if n == 0 || c == 0 {
        return Err(Error::shape(
            op,
            format!("`{xname}` of shape {s:?} cannot be reshaped to (N, C, -1) (ONNX Runtime fails on N = 0 or C = 0)"),
        ));
    }
    // ONNX Runtime does not check the weights' length: it gathers w[label], which fails
    // only for a label past its end.
    if let Some(w) = weight {
        if w.ndim() != 1 {
            return Err(Error::shape(op, format!("`weight` has shape {:?}, expected [{c}]", w.shape())));
        }
    }
    let inner: usize = s[2..].iter().product();
    let xc = x.as_standard_layout();
    let xs = xc.as_slice().expect("standard");
    let wv: Option<Vec<T>> = weight.map(|w| w.iter().copied().collect());
    let mut loss = Vec::with_capacity(n * inner);
    let mut wsum = T::zero();
    for (k, &lab) in y.iter().enumerate() {
        if Some(lab) == ignore_index {
            loss.push(T::zero());
            continue;
        }
        let cls = if lab < 0 { lab + c as i64 } else { lab };
        if cls < 0 || cls >= c as i64 {
            return Err(Error::Label {
                op: op.into(),
                input: yname.into(),
                index: k,
                value: lab,
                classes: c,
                extra: format!(" (ONNX Runtime's GatherElements accepts [-{c}, {c}): out of range value in index tensor)"),
            });
        }
        let (b, i) = (k / inner, k % inner);
        let v = xs[(b * c + cls as usize) * inner + i];
        let w = match &wv {
            None => T::one(),
            Some(w) => *w.get(cls as usize).ok_or_else(|| Error::Label {
                op: op.into(),
                input: yname.into(),
                index: k,
                value: lab,
                classes: w.len(),
                extra: " (the weights have fewer entries than the label: ONNX Runtime's Gather fails)".into(),
            })?,
        };
        wsum += w;
        loss.push(-(v * w));
    }
    let loss = ArrayD::from_shape_vec(IxDyn(&ys), loss).map_err(|e| Error::shape(op, e.to_string()))?;
    reduce(op, loss, wsum, reduction)
}

/// `SoftmaxCrossEntropyLoss(scores, labels, weights; reduction="mean", ignore_index)`:
/// `log_prob = LogSoftmax(scores, axis=1)`, then [`negative_log_likelihood_loss`] on it.
/// Returns `(output, log_prob)`.
///
/// # Errors
/// As [`negative_log_likelihood_loss`].
pub fn softmax_cross_entropy_loss<T: Float>(
    x: &ArrayViewD<'_, T>,
    y: &ArrayViewD<'_, i64>,
    weights: Option<&ArrayViewD<'_, T>>,
    reduction: &str,
    ignore_index: Option<i64>,
) -> Result<(ArrayD<T>, ArrayD<T>)> {
    const OP: &str = "onnx.SoftmaxCrossEntropyLoss";
    if x.ndim() < 2 {
        return Err(Error::shape(OP, format!("`scores` must have shape (N, C, d1, ...), got {:?}", x.shape())));
    }
    let lp = crate::ops::log_softmax(x, 1, crate::default_par());
    let loss = nll(OP, "scores", "labels", &lp.view(), y, weights, reduction, ignore_index)?;
    Ok((loss, lp))
}

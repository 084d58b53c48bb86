//! Cross-entropy from logits with class-index (sparse) or probability (dense)
//! targets, and the negative log-likelihood loss.

use ndarray::{ArrayD, ArrayViewD, IxDyn, Zip};

use super::{check_grad, same_shape, Reduction};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::{self, DenseGrad, Geom, Par, Scale, SparseCe};
use crate::layout::{contiguous, geom, reduced_shape, slice, try_filled};

/// Options of the class-index cross-entropy (PyTorch's vocabulary, the most general).
///
/// The default is framework-neutral (no smoothing, no weights, nothing ignored, mean):
/// TensorFlow and Keras build on it. PyTorch's defaults (`ignore_index=-100`) are those
/// of [`crate::torch::CrossEntropyArgs`].
#[derive(Debug, Clone)]
pub struct SparseOptions<'a, T> {
    /// Label smoothing ε in [0, 1]; 0 disables it.
    pub label_smoothing: T,
    /// Per-class weights (length C).
    pub weight: Option<&'a [T]>,
    /// Targets equal to this are ignored: loss 0 and excluded from the mean's denominator.
    pub ignore_index: Option<i64>,
    /// The reduction ([`Reduction::Mean`] is `Σ loss / Σ w[y]` over non-ignored targets).
    pub reduction: Reduction,
}

impl<T: Float> Default for SparseOptions<'_, T> {
    fn default() -> Self {
        SparseOptions { label_smoothing: T::zero(), weight: None, ignore_index: None, reduction: Reduction::Mean }
    }
}

impl<'a, T: Float> SparseOptions<'a, T> {
    fn kernel(&self) -> SparseCe<'a, T> {
        SparseCe { smoothing: self.label_smoothing, weight: self.weight, ignore_index: self.ignore_index }
    }
}

/// Check class-index targets: shape `logits.shape` without `axis`, every value in
/// `[0, classes)` or equal to `ignore`.
///
/// # Errors
/// [`Error::Shape`] on a shape mismatch, [`Error::Label`] naming the first bad label.
///
/// ```
/// use ndarray::array;
/// let y = array![0i64, 3, -100].into_dyn();
/// assert!(xent::ops::check_labels("op", "target", &y.view(), &[3, 4], 1, Some(-100)).is_ok());
/// let e = xent::ops::check_labels("op", "target", &y.view(), &[3, 3], 1, Some(-100)).unwrap_err();
/// assert!(e.to_string().contains("label 3 at index 1"));
/// ```
pub fn check_labels(
    op: &str,
    name: &str,
    labels: &ArrayViewD<'_, i64>,
    logits_shape: &[usize],
    axis: usize,
    ignore: Option<i64>,
) -> Result<()> {
    let want = reduced_shape(logits_shape, axis);
    if labels.shape() != want.as_slice() {
        return Err(Error::shape(
            op,
            format!(
                "`{name}` has shape {:?} but logits of shape {logits_shape:?} with classes on axis {axis} need labels of shape {want:?}",
                labels.shape()
            ),
        ));
    }
    let classes = logits_shape[axis];
    for (i, &v) in labels.iter().enumerate() {
        if Some(v) == ignore {
            continue;
        }
        if v < 0 || v as u64 >= classes as u64 {
            return Err(Error::Label {
                op: op.into(),
                input: name.into(),
                index: i,
                value: v,
                classes,
                extra: ignore.map(|ig| format!(" (and is not the ignore value {ig})")).unwrap_or_default(),
            });
        }
    }
    Ok(())
}

fn check_weight<T>(op: &str, w: Option<&[T]>, classes: usize) -> Result<()> {
    if let Some(w) = w {
        if w.len() != classes {
            return Err(Error::shape(op, format!("`weight` has {} elements but there are {classes} classes", w.len())));
        }
    }
    Ok(())
}

/// Reduce per-position losses: `none` keeps them, `sum` adds them (in f64), `mean`
/// divides the sum by `denom` (0/0 gives NaN, as in PyTorch).
pub(crate) fn reduce<T: Float>(loss: ArrayD<T>, reduction: Reduction, denom: f64) -> ArrayD<T> {
    match reduction {
        Reduction::None => loss,
        Reduction::Sum => ArrayD::from_elem(IxDyn(&[]), T::of(sum_f64(&loss))),
        Reduction::Mean => ArrayD::from_elem(IxDyn(&[]), T::of(sum_f64(&loss) / denom)),
    }
}

pub(crate) fn sum_f64<T: Float>(a: &ArrayD<T>) -> f64 {
    a.iter().map(|v| v.f64()).sum()
}

/// `Σ_{non-ignored} w[y]` (the count when unweighted): PyTorch's `total_weight`.
fn total_weight<T: Float>(labels: &[i64], o: &SparseOptions<'_, T>) -> f64 {
    labels.iter().filter(|&&y| Some(y) != o.ignore_index).map(|&y| o.weight.map_or(1.0, |w| w[y as usize].f64())).sum()
}

/// The upstream gradient of a reduced loss, per position.
enum Upstream<'g, T> {
    /// The same factor everywhere (`sum`, `mean`).
    Uniform(T),
    /// One factor per position (`none`).
    Per(ndarray::CowArray<'g, T, IxDyn>),
}

impl<T: Float> Upstream<'_, T> {
    fn scale(&self) -> Scale<'_, T> {
        match self {
            Upstream::Uniform(s) => Scale::Uniform(*s),
            Upstream::Per(p) => Scale::PerPosition(p.as_slice().expect("standard layout")),
        }
    }
}

/// The upstream scale per position implied by the reduction.
fn upstream<'g, T: Float>(
    op: &str,
    g: &'g ArrayViewD<'_, T>,
    positions_shape: &[usize],
    reduction: Reduction,
    denom: f64,
) -> Result<Upstream<'g, T>> {
    match reduction {
        Reduction::None => {
            check_grad(op, g.shape(), positions_shape)?;
            Ok(Upstream::Per(g.as_standard_layout()))
        }
        Reduction::Sum | Reduction::Mean => {
            check_grad(op, g.shape(), &[])?;
            let g0 = g.iter().next().copied().unwrap_or_else(T::zero);
            Ok(Upstream::Uniform(if reduction == Reduction::Sum { g0 } else { T::of(g0.f64() / denom) }))
        }
    }
}

/// Everything the class-index losses check and derive before computing: the
/// geometry, contiguous inputs, the per-position shape and the mean's denominator.
struct Prepared<'a, T: Clone> {
    geo: Geom,
    x: ndarray::CowArray<'a, T, IxDyn>,
    labels: ndarray::CowArray<'a, i64, IxDyn>,
    pshape: Vec<usize>,
    denom: f64,
}

fn prepare<'a, T: Float>(
    op: &str,
    x: &'a ArrayViewD<'a, T>,
    axis: usize,
    labels: &'a ArrayViewD<'a, i64>,
    o: &SparseOptions<'_, T>,
) -> Result<Prepared<'a, T>> {
    check_labels(op, "target", labels, x.shape(), axis, o.ignore_index)?;
    let geo = geom(x.shape(), axis);
    check_weight(op, o.weight, geo.classes)?;
    let lc = contiguous(labels);
    let denom = if o.reduction == Reduction::Mean { total_weight(slice(&lc), o) } else { 1.0 };
    Ok(Prepared { geo, x: contiguous(x), labels: lc, pshape: reduced_shape(x.shape(), axis), denom })
}

/// Cross-entropy from logits with class-index targets:
/// `ℓ_i = (1 − ε)·w[y_i]·(lse_i − x_{i,y_i}) + (ε/C)·Σ_c w_c·(lse_i − x_{i,c})`,
/// `lse_i = ln Σ_c exp(x_{i,c})`, then reduced.
///
/// Mirrors `torch.nn.functional.cross_entropy` with index targets (and, with default
/// options and `Reduction::None`, `tf.nn.sparse_softmax_cross_entropy_with_logits`).
/// Ignored targets give `ℓ_i = 0`; the mean divides by `Σ w[y_i]` over non-ignored
/// targets, so an all-ignored batch gives NaN, as PyTorch does.
///
/// # Errors
/// [`Error::Shape`] if `labels` is not `logits.shape` without `axis` or `weight` is
/// not of length C; [`Error::Label`] for a label outside `[0, C)` that is not the
/// ignore index.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sparse, SparseOptions};
/// let x = array![[2.0f64, 0.0, 0.0]].into_dyn();
/// let y = array![0i64].into_dyn();
/// let l = cross_entropy_sparse(&x.view(), 1, &y.view(), &SparseOptions::default(), xent::Par::Seq).unwrap();
/// let want = (2f64.exp() + 2.0).ln() - 2.0;
/// assert!((l[[]] - want).abs() < 1e-15);
/// ```
pub fn cross_entropy_sparse<T: Float>(
    logits: &ArrayViewD<'_, T>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    let p = prepare("cross_entropy", logits, axis, labels, o)?;
    let mut loss = ArrayD::zeros(IxDyn(&p.pshape));
    let mut lse = vec![T::zero(); p.geo.positions()];
    kernels::ce_sparse_fwd(slice(&p.x), p.geo, slice(&p.labels), &o.kernel(), loss.as_slice_mut().expect("fresh"), &mut lse, par);
    if p.geo.classes == 0 && o.label_smoothing > T::zero() {
        // No classes: PyTorch's smoothing term is `Σ_c(...)·(ε / C)` = `0·∞`, NaN at every
        // position (all of them ignored, or none at all) and in the sum.
        loss.fill(T::nan());
        if o.reduction == Reduction::Sum {
            return Ok(ArrayD::from_elem(IxDyn(&[]), T::nan()));
        }
    }
    Ok(reduce(loss, o.reduction, p.denom))
}

/// Gradient of [`cross_entropy_sparse`] with respect to the logits, given the upstream
/// gradient `g` of its output (a scalar for `sum`/`mean`, per position for `none`):
/// `dx_i = s_i·((1 − ε)·w[y_i]·(softmax(x_i) − onehot(y_i)) + (ε/C)·(softmax(x_i)·Σw − w))`
/// with `s_i = g`, `g / Σ w[y]` (mean) or `g_i` (none); zero rows for ignored targets.
///
/// This is PyTorch's autograd result for `cross_entropy`, and TF's
/// `softmax − onehot` for `sparse_softmax_cross_entropy_with_logits`.
///
/// # Errors
/// As [`cross_entropy_sparse`], plus [`Error::Shape`] if `g` has the wrong shape.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sparse_vjp, SparseOptions, Reduction};
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let y = array![1i64].into_dyn();
/// let o = SparseOptions { reduction: Reduction::Sum, ..Default::default() };
/// let g = ndarray::arr0(1.0).into_dyn();
/// let dx = cross_entropy_sparse_vjp(&x.view(), 1, &y.view(), &o, &g.view(), xent::Par::Seq).unwrap();
/// assert_eq!(dx, array![[0.5, -0.5]].into_dyn());
/// ```
pub fn cross_entropy_sparse_vjp<T: Float>(
    logits: &ArrayViewD<'_, T>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    let op = "cross_entropy";
    let p = prepare(op, logits, axis, labels, o)?;
    if T::DTYPE == crate::DType::F32 && o.label_smoothing > T::zero() {
        // With smoothing the row `a·p_k − b·w_k` cancels, magnifying the float32
        // softmax's ulp: evaluate it in float64 on the same values and round once.
        let w: Option<Vec<f64>> = o.weight.map(|w| w.iter().map(|v| v.f64()).collect());
        let o64 = SparseOptions {
            label_smoothing: o.label_smoothing.f64(),
            weight: w.as_deref(),
            ignore_index: o.ignore_index,
            reduction: o.reduction,
        };
        let (x64, g64) = (p.x.mapv(|v| v.f64()), g.mapv(|v| v.f64()));
        let labels = p.labels.view();
        let d = cross_entropy_sparse_vjp(&x64.view(), axis, &labels, &o64, &g64.view(), par)?;
        return Ok(d.mapv(|v| T::of(v)));
    }
    let up = upstream(op, g, &p.pshape, o.reduction, p.denom)?;
    // The fused kernel keeps each row's max and ln Σ exp apart (`exp((x − m) − ln s)`),
    // where a backward from a rounded log-sum-exp would lose the digits of ln s next
    // to a large max; its loss and lse outputs are discarded.
    let n = p.geo.positions();
    let (mut loss, mut lse) = (vec![T::zero(); n], vec![T::zero(); n]);
    let mut grad = ArrayD::zeros(logits.raw_dim());
    let gs = grad.as_slice_mut().expect("fresh");
    kernels::ce_sparse_fwd_bwd(slice(&p.x), p.geo, slice(&p.labels), &o.kernel(), up.scale(), &mut loss, &mut lse, gs, par);
    Ok(grad)
}

/// Cross-entropy from logits with probability (dense) targets:
/// `ℓ_i = Σ_c w_c·t'_{i,c}·(lse_i − x_{i,c})` with `t' = t·(1 − ε) + ε/C`, then reduced;
/// the mean divides by the number of positions (PyTorch's rule for probability
/// targets; an empty input gives NaN).
///
/// Mirrors `torch.nn.functional.cross_entropy` with probability targets and, with no
/// weights, smoothing or reduction, `tf.nn.softmax_cross_entropy_with_logits`. Targets
/// are not checked to sum to 1 (neither framework does); `t = 0` against a `−inf`
/// logit gives NaN (`0·∞`), as both frameworks' CPU kernels do.
///
/// # Errors
/// [`Error::Shape`] if `targets` and `logits` differ in shape or `weight` is not of length C.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_dense, Reduction};
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let t = array![[0.5f64, 0.5]].into_dyn();
/// let l = cross_entropy_dense(&x.view(), &t.view(), 1, None, 0.0, Reduction::None, xent::Par::Seq).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
#[allow(clippy::too_many_arguments)] // mirrors the framework's argument list
pub fn cross_entropy_dense<T: Float>(
    logits: &ArrayViewD<'_, T>,
    targets: &ArrayViewD<'_, T>,
    axis: usize,
    weight: Option<&[T]>,
    label_smoothing: T,
    reduction: Reduction,
    par: Par,
) -> Result<ArrayD<T>> {
    let op = "cross_entropy";
    same_shape(op, "target", targets.shape(), "input", logits.shape())?;
    // With a class axis of length 0 the per-position loss is not bounded by the
    // input's size: allocate it (and the log-sum-exps) fallibly, first.
    let mut loss = try_filled(op, "loss", &reduced_shape(logits.shape(), axis), T::zero())?;
    let mut lse = try_filled(op, "log-sum-exp", &[loss.len()], T::zero())?.into_raw_vec_and_offset().0;
    let g = geom(logits.shape(), axis);
    check_weight(op, weight, g.classes)?;
    let xc = contiguous(logits);
    let t = smoothed(targets, label_smoothing, g);
    kernels::ce_dense_fwd(slice(&xc), slice(&t), g, weight, loss.as_slice_mut().expect("fresh"), &mut lse, par);
    // PyTorch's mean for probability targets divides by `numel / C`: 0/0 (NaN) when
    // there are no classes, even with rows present.
    Ok(reduce(loss, reduction, if g.classes == 0 { f64::NAN } else { g.positions() as f64 }))
}

fn smoothed<'a, T: Float>(t: &'a ArrayViewD<'_, T>, eps: T, g: Geom) -> ndarray::CowArray<'a, T, IxDyn> {
    if eps > T::zero() {
        let k = eps / T::of(g.classes as f64);
        let one_m = T::one() - eps;
        ndarray::CowArray::from(t.mapv(|v| v * one_m + k))
    } else {
        t.as_standard_layout()
    }
}

/// Gradient of [`cross_entropy_dense`] with respect to the logits given the upstream
/// gradient `g`: `dx_i = s_i·(softmax(x_i)·a_i − w ∘ t'_i)` where
/// `a_i = Σ_c w_c t'_{i,c}` for [`DenseGrad::Exact`] (PyTorch autograd, TF determinism
/// path) and `a_i = 1` for [`DenseGrad::Kernel`] (TF's fused kernel, `softmax − t`,
/// which is the true derivative only when each target row sums to 1).
///
/// # Errors
/// As [`cross_entropy_dense`], plus [`Error::Shape`] if `g` has the wrong shape.
///
/// ```
/// use ndarray::array;
/// use xent::kernels::DenseGrad;
/// use xent::ops::{cross_entropy_dense_vjp, Reduction};
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let t = array![[2.0f64, 0.0]].into_dyn(); // not a distribution
/// let g = array![1.0f64].into_dyn();
/// let tf = cross_entropy_dense_vjp(&x.view(), &t.view(), 1, None, 0.0, Reduction::None, DenseGrad::Kernel, &g.view(), xent::Par::Seq).unwrap();
/// let exact = cross_entropy_dense_vjp(&x.view(), &t.view(), 1, None, 0.0, Reduction::None, DenseGrad::Exact, &g.view(), xent::Par::Seq).unwrap();
/// assert_eq!(tf, array![[-1.5, 0.5]].into_dyn());
/// assert_eq!(exact, array![[-1.0, 1.0]].into_dyn());
/// ```
#[allow(clippy::too_many_arguments)] // mirrors the framework's argument list
pub fn cross_entropy_dense_vjp<T: Float>(
    logits: &ArrayViewD<'_, T>,
    targets: &ArrayViewD<'_, T>,
    axis: usize,
    weight: Option<&[T]>,
    label_smoothing: T,
    reduction: Reduction,
    mode: DenseGrad,
    g: &ArrayViewD<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    let op = "cross_entropy";
    same_shape(op, "target", targets.shape(), "input", logits.shape())?;
    let pshape = reduced_shape(logits.shape(), axis);
    let geo = geom(logits.shape(), axis);
    check_weight(op, weight, geo.classes)?;
    let xc = contiguous(logits);
    let t = smoothed(targets, label_smoothing, geo);
    let up = upstream(op, g, &pshape, reduction, geo.positions() as f64)?;
    let mut grad = ArrayD::zeros(logits.raw_dim());
    kernels::ce_dense_bwd(slice(&xc), slice(&t), geo, weight, mode, up.scale(), grad.as_slice_mut().expect("fresh"), par);
    Ok(grad)
}

/// Negative log-likelihood: `ℓ_i = −w[y_i]·x_{i,y_i}` (0 where `y_i` is ignored), with
/// `x` log-probabilities (not checked), reduced like [`cross_entropy_sparse`].
///
/// Mirrors `torch.nn.functional.nll_loss`.
///
/// # Errors
/// As [`cross_entropy_sparse`].
///
/// ```
/// use ndarray::array;
/// use xent::ops::{nll_loss, SparseOptions};
/// let x = array![[-0.5f64, -2.0], [-1.0, -0.25]].into_dyn();
/// let y = array![1i64, 1].into_dyn();
/// let l = nll_loss(&x.view(), 1, &y.view(), &SparseOptions::default()).unwrap();
/// assert_eq!(l[[]], 1.125);
/// ```
pub fn nll_loss<T: Float>(
    input: &ArrayViewD<'_, T>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, T>,
) -> Result<ArrayD<T>> {
    let p = prepare("nll_loss", input, axis, labels, o)?;
    let (x, l, geo) = (slice(&p.x), slice(&p.labels), p.geo);
    let mut loss = ArrayD::zeros(IxDyn(&p.pshape));
    for (i, v) in loss.as_slice_mut().expect("fresh").iter_mut().enumerate() {
        let y = l[i];
        if Some(y) == o.ignore_index {
            continue;
        }
        let w = o.weight.map_or(T::one(), |w| w[y as usize]);
        *v = -(w * x[nll_index(geo, i, y)]);
    }
    Ok(reduce(loss, o.reduction, p.denom))
}

/// Flat index of class `y` at position `i` of an `(outer, classes, inner)` tensor.
fn nll_index(geo: Geom, i: usize, y: i64) -> usize {
    let (a, b) = (i / geo.inner, i % geo.inner);
    a * geo.classes * geo.inner + y as usize * geo.inner + b
}

/// Gradient of [`nll_loss`]: `dx[i, y_i] = −w[y_i]·s_i`, zero elsewhere and on ignored
/// rows (PyTorch `nll_loss_backward`; all rows ignored under `mean` gives zeros).
///
/// # Errors
/// As [`nll_loss`], plus [`Error::Shape`] if `g` has the wrong shape.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{nll_loss_vjp, SparseOptions};
/// let x = array![[-0.5f64, -2.0]].into_dyn();
/// let y = array![1i64].into_dyn();
/// let dx = nll_loss_vjp(&x.view(), 1, &y.view(), &SparseOptions::default(), &ndarray::arr0(1.0).into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[0.0, -1.0]].into_dyn());
/// ```
pub fn nll_loss_vjp<T: Float>(
    input: &ArrayViewD<'_, T>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "nll_loss";
    let p = prepare(op, input, axis, labels, o)?;
    let up = upstream(op, g, &p.pshape, o.reduction, p.denom)?;
    let scale = up.scale();
    let mut grad = ArrayD::zeros(input.raw_dim());
    let gs = grad.as_slice_mut().expect("fresh");
    for (i, &y) in slice(&p.labels).iter().enumerate() {
        if Some(y) == o.ignore_index {
            continue;
        }
        let s = match scale {
            Scale::Uniform(s) => s,
            Scale::PerPosition(v) => v[i],
        };
        let w = o.weight.map_or(T::one(), |w| w[y as usize]);
        gs[nll_index(p.geo, i, y)] = -(w * s);
    }
    Ok(grad)
}

/// Broadcast a per-position upstream gradient (`g`, shape = positions) back over the
/// class axis: used by front-ends composing ops.
pub(crate) fn expand_positions<T: Float>(g: &ArrayViewD<'_, T>, shape: &[usize], axis: usize) -> ArrayD<T> {
    let ins = g.clone().insert_axis(ndarray::Axis(axis));
    let b = ins.broadcast(IxDyn(shape)).expect("broadcast along the class axis");
    Zip::from(&b).map_collect(|&v| v)
}

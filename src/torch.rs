//! PyTorch's functions with PyTorch's names, argument names, defaults and quirks
//! (classes on dim 1, weighted means, `ignore_index=-100`), mapped onto
//! [`crate::ops`]. No numerics live here.
//!
//! Each `_grad` twin returns what `input.grad` holds after `out.backward(g)`; the
//! `_with_grad` functions return a reduced loss and its gradient from one call (the
//! training step).
//!
//! Arrays of any dimensionality are accepted (anything `ndarray::AsArray`: `&Array2`,
//! `ArrayView3`, `&ArrayD`, …; the results are `ArrayD`), class-index targets of any
//! integer type ([`crate::Label`]) where the function takes them generically.

use ndarray::{ArrayD, ArrayViewD, AsArray, Dimension, IxDyn};

use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::{DenseGrad, Half};
use crate::label::Label;
use crate::layout::normalize_axis;
use crate::ops::{self, Reduction, SparseOptions};

mod step;
pub use step::*;

/// PyTorch's default `ignore_index`.
pub const IGNORE_INDEX: i64 = -100;

/// Softmax-family inputs: PyTorch treats a 0-d tensor as a length-1 vector.
fn as_vector<'a, T>(x: &ArrayViewD<'a, T>) -> ArrayViewD<'a, T> {
    if x.ndim() == 0 {
        x.clone().into_shape_with_order(IxDyn(&[1])).expect("0-d to 1-d")
    } else {
        x.clone()
    }
}

/// The upstream gradient `g` of an output shaped like the input (`input`), seen with
/// the shape the computation used (`x`: the input, or a 0-d input as a length-1
/// vector). `None` unless `g` has the input's shape. Works on any layout (a
/// broadcast view of ones included), copying only a non-contiguous 0-d-to-1-d case.
fn upstream_as<'a, T: Clone>(g: &'a ArrayViewD<'a, T>, input: &[usize], x: &[usize]) -> Option<ndarray::CowArray<'a, T, IxDyn>> {
    if g.shape() != input {
        return None;
    }
    if input == x {
        return Some(ndarray::CowArray::from(g.view()));
    }
    g.to_shape(IxDyn(x)).ok().map(|c| ndarray::CowArray::from(c.into_owned()))
}

fn back<T>(y: ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    y.into_shape_with_order(IxDyn(shape)).expect("same element count")
}

/// `torch.softmax(input, dim)`: see [`ops::softmax`].
///
/// # Errors
/// [`Error::Axis`] if `dim` is out of range.
///
/// ```
/// use ndarray::array;
/// let y = xent::torch::softmax(&array![[0.0f32, 0.0]], 1).unwrap(); // an Array2
/// assert_eq!(y, array![[0.5f32, 0.5]].into_dyn());
/// ```
pub fn softmax<'a, T: Float, D: Dimension>(input: impl AsArray<'a, T, D>, dim: i64) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let x = as_vector(input);
    let a = normalize_axis("torch.softmax", "input", dim, x.shape())?;
    Ok(back(ops::softmax(&x, a, crate::default_par()), input.shape()))
}

/// Gradient of [`softmax`]: `y·(g − Σ g·y)` (`_softmax_backward_data`).
///
/// # Errors
/// As [`softmax`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0f32, 0.0]].into_dyn();
/// let dx = xent::torch::softmax_grad(&x.view(), 1, &array![[1.0f32, 0.0]].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[0.25f32, -0.25]].into_dyn());
/// ```
pub fn softmax_grad<'a, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    dim: i64,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let g = &g.into().into_dyn();
    let x = as_vector(input);
    let a = normalize_axis("torch.softmax", "input", dim, x.shape())?;
    let gv = upstream_as(g, input.shape(), x.shape()).ok_or_else(|| {
        Error::shape("torch.softmax", format!("upstream gradient has shape {:?}, the input has shape {:?}", g.shape(), input.shape()))
    })?;
    Ok(back(ops::softmax_vjp_from_input(&x, &gv.view(), a, crate::default_par())?, input.shape()))
}

/// `torch.log_softmax(input, dim)`: see [`ops::log_softmax`].
///
/// # Errors
/// [`Error::Axis`] if `dim` is out of range.
///
/// ```
/// use ndarray::array;
/// let y = xent::torch::log_softmax(&array![7.0f64].into_dyn().view(), 0).unwrap();
/// assert_eq!(y[[0]], 0.0);
/// ```
pub fn log_softmax<'a, T: Float, D: Dimension>(input: impl AsArray<'a, T, D>, dim: i64) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let x = as_vector(input);
    let a = normalize_axis("torch.log_softmax", "input", dim, x.shape())?;
    Ok(back(ops::log_softmax(&x, a, crate::default_par()), input.shape()))
}

/// Gradient of [`log_softmax`]: `g − exp(y)·Σ g` (`_log_softmax_backward_data`), with
/// the softmax recomputed from the input ([`ops::log_softmax_vjp_from_input`]: the
/// same value, more accurate than `exp` of the rounded `y`).
///
/// # Errors
/// As [`log_softmax`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let dx = xent::torch::log_softmax_grad(&x.view(), 1, &array![[1.0, 0.0]].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[0.5, -0.5]].into_dyn());
/// ```
pub fn log_softmax_grad<'a, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    dim: i64,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let g = &g.into().into_dyn();
    let x = as_vector(input);
    let a = normalize_axis("torch.log_softmax", "input", dim, x.shape())?;
    let gv = upstream_as(g, input.shape(), x.shape()).ok_or_else(|| {
        Error::shape("torch.log_softmax", format!("upstream gradient has shape {:?}, the input has shape {:?}", g.shape(), input.shape()))
    })?;
    Ok(back(ops::log_softmax_vjp_from_input(&x, &gv.view(), a, crate::default_par())?, input.shape()))
}

/// `torch.softmax(input, dim)` of a `float16`/`bfloat16` tensor (`half::f16`,
/// `half::bf16`): computed in `f32` and rounded once to the input type, as PyTorch's
/// CPU kernel does; see [`ops::softmax_half`].
///
/// # Errors
/// [`Error::Axis`] if `dim` is out of range.
///
/// ```
/// use half::f16;
/// use ndarray::array;
/// let x = array![[f16::from_f32(1.0), f16::from_f32(2.0), f16::from_f32(3.0)]];
/// let y = xent::torch::softmax_half(&x, 1).unwrap();
/// // torch.softmax(torch.tensor([[1., 2., 3.]], dtype=torch.float16), 1)
/// assert_eq!(y.mapv(f16::to_f32), array![[0.09002685546875f32, 0.2447509765625, 0.6650390625]].into_dyn());
/// ```
pub fn softmax_half<'a, H: Half, D: Dimension>(input: impl AsArray<'a, H, D>, dim: i64) -> Result<ArrayD<H>> {
    let input = &input.into().into_dyn();
    let x = as_vector(input);
    let a = normalize_axis("torch.softmax", "input", dim, x.shape())?;
    Ok(back(ops::softmax_half(&x, a, crate::default_par()), input.shape()))
}

/// `torch.log_softmax(input, dim)` of a `float16`/`bfloat16` tensor: computed in `f32`
/// and rounded once to the input type; see [`ops::log_softmax_half`]. Deviation:
/// PyTorch's CPU kernel is an ulp or more off the once-rounded value on a few percent
/// of elements; xent is never further from the exact value than PyTorch.
///
/// # Errors
/// [`Error::Axis`] if `dim` is out of range.
///
/// ```
/// use half::bf16;
/// use ndarray::array;
/// let x = array![bf16::from_f32(0.0), bf16::from_f32(0.0)];
/// let y = xent::torch::log_softmax_half(&x, 0).unwrap();
/// assert_eq!(y[[1]], bf16::from_f32(-std::f32::consts::LN_2));
/// ```
pub fn log_softmax_half<'a, H: Half, D: Dimension>(input: impl AsArray<'a, H, D>, dim: i64) -> Result<ArrayD<H>> {
    let input = &input.into().into_dyn();
    let x = as_vector(input);
    let a = normalize_axis("torch.log_softmax", "input", dim, x.shape())?;
    Ok(back(ops::log_softmax_half(&x, a, crate::default_par()), input.shape()))
}

/// `torch.sigmoid(input)`: `1 / (1 + e^{−x})` as PyTorch computes it, 0 where
/// `e^{−x}` overflows (below about −88.72 in float32): see [`ops::sigmoid_recip`].
///
/// ```
/// use ndarray::array;
/// assert_eq!(xent::torch::sigmoid(&array![0.0f64].into_dyn().view())[[0]], 0.5);
/// ```
pub fn sigmoid<'a, T: Float, D: Dimension>(input: impl AsArray<'a, T, D>) -> ArrayD<T> {
    let input = &input.into().into_dyn();
    ops::sigmoid_recip(input)
}

/// Gradient of [`sigmoid`]: `g·(1 − y)·y` (`sigmoid_backward`), evaluated without the
/// cancellation of `1 − y`: see [`ops::sigmoid_recip_vjp`].
///
/// # Errors
/// [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let dx = xent::torch::sigmoid_grad(&array![0.0f64].into_dyn().view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 0.25);
/// ```
pub fn sigmoid_grad<'a, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let g = &g.into().into_dyn();
    ops::sigmoid_recip_vjp(input, g)
}

/// `torch.nn.functional.logsigmoid(input)`: `min(x, 0) − log1p(e^{−|x|})`.
///
/// ```
/// use ndarray::array;
/// assert_eq!(xent::torch::logsigmoid(&array![f64::NEG_INFINITY].into_dyn().view())[[0]], f64::NEG_INFINITY);
/// ```
pub fn logsigmoid<'a, T: Float, D: Dimension>(input: impl AsArray<'a, T, D>) -> ArrayD<T> {
    let input = &input.into().into_dyn();
    ops::log_sigmoid(input)
}

/// Gradient of [`logsigmoid`]: `g·σ(−x)` (`log_sigmoid_backward`).
///
/// # Errors
/// [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let dx = xent::torch::logsigmoid_grad(&array![f64::NEG_INFINITY].into_dyn().view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 1.0);
/// ```
pub fn logsigmoid_grad<'a, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let g = &g.into().into_dyn();
    ops::log_sigmoid_vjp(input, g)
}

/// `torch.nn.functional.one_hot(input, num_classes=-1)`: int64 output with a new last
/// axis; `num_classes = -1` infers `max(input) + 1`.
///
/// # Errors
/// [`Error::Label`]-style [`Error::Domain`] for negative values ("Class values must be
/// non-negative") or values ≥ `num_classes`; [`Error::Param`] for `num_classes < -1`
/// or an empty input with `num_classes = -1`.
///
/// ```
/// use ndarray::array;
/// let y = xent::torch::one_hot(&array![2i64, 0].into_dyn().view(), -1).unwrap();
/// assert_eq!(y, array![[0i64, 0, 1], [1, 0, 0]].into_dyn());
/// ```
pub fn one_hot(input: &ArrayViewD<'_, i64>, num_classes: i64) -> Result<ArrayD<i64>> {
    let op = "torch.nn.functional.one_hot";
    if let Some((i, &v)) = input.iter().enumerate().find(|(_, &v)| v < 0) {
        return Err(Error::domain(op, format!("Class values must be non-negative: `input` element {i} is {v}")));
    }
    let depth = match num_classes {
        -1 => match input.iter().max() {
            // i64::MAX + 1 does not fit: no output that large could be allocated anyway.
            Some(&m) => m
                .checked_add(1)
                .ok_or_else(|| Error::shape(op, format!("the inferred number of classes {m} + 1 is too large for an output")))?,
            None => return Err(Error::param(op, "num_classes", "can not infer the number of classes from an empty tensor")),
        },
        n if n < -1 => return Err(Error::param(op, "num_classes", format!("must be -1 or non-negative, got {n}"))),
        n => n,
    };
    if let Some((i, &v)) = input.iter().enumerate().find(|(_, &v)| v >= depth) {
        return Err(Error::domain(op, format!("Class values must be smaller than num_classes ({depth}): `input` element {i} is {v}")));
    }
    ops::one_hot(input, depth as usize, 1i64, 0i64, input.ndim())
}

/// Target of [`cross_entropy`]: class indices or class probabilities.
#[derive(Debug, Clone)]
pub enum Target<'a, T> {
    /// Class indices, shape `input.shape` without dim 1 (int64).
    Indices(ArrayViewD<'a, i64>),
    /// Class probabilities, same shape as the input.
    Probs(ArrayViewD<'a, T>),
}

/// Parameters of [`cross_entropy`] and [`nll_loss`] with PyTorch's defaults.
#[derive(Debug, Clone)]
pub struct CrossEntropyArgs<'a, T> {
    /// Per-class rescaling weight (length C).
    pub weight: Option<ArrayViewD<'a, T>>,
    /// Target value to ignore (index targets only). Default −100.
    pub ignore_index: i64,
    /// `none`, `mean` (default) or `sum`.
    pub reduction: Reduction,
    /// Label smoothing ε; must be ≤ 1; negative values are ignored, as in PyTorch.
    pub label_smoothing: f64,
}

impl<T> Default for CrossEntropyArgs<'_, T> {
    fn default() -> Self {
        CrossEntropyArgs { weight: None, ignore_index: IGNORE_INDEX, reduction: Reduction::Mean, label_smoothing: 0.0 }
    }
}

fn class_dim(op: &str, shape: &[usize]) -> Result<usize> {
    match shape.len() {
        0 => Err(Error::shape(op, "`input` must have at least 1 dimension (got a 0-d tensor)")),
        1 => Ok(0),
        _ => Ok(1),
    }
}

fn check_index_target(op: &str, input: &[usize], target: &[usize], cd: usize) -> Result<()> {
    if input.len() >= 2 && !target.is_empty() && input[0] != target[0] {
        return Err(Error::shape(op, format!("Expected input batch_size ({}) to match target batch_size ({}).", input[0], target[0])));
    }
    let mut want = input.to_vec();
    want.remove(cd);
    if target != want.as_slice() {
        return Err(Error::shape(op, format!("Expected target size {want:?}, got {target:?} (input shape {input:?})")));
    }
    Ok(())
}

fn weight_slice<'a, T: Float>(op: &str, w: &'a Option<ArrayViewD<'a, T>>, classes: usize) -> Result<Option<std::borrow::Cow<'a, [T]>>> {
    match w {
        None => Ok(None),
        Some(w) => {
            if w.ndim() != 1 || w.len() != classes {
                return Err(Error::shape(op, format!("`weight` should be a 1D tensor of {classes} elements, got shape {:?}", w.shape())));
            }
            Ok(Some(match w.as_slice() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(w.iter().copied().collect()),
            }))
        }
    }
}

fn smoothing(op: &str, ls: f64) -> Result<f64> {
    if ls > 1.0 {
        return Err(Error::param(op, "label_smoothing", format!("must be between 0.0 and 1.0. Got: {ls}")));
    }
    Ok(if ls > 0.0 { ls } else { 0.0 })
}

/// `torch.nn.functional.cross_entropy(input, target, weight=None, ignore_index=-100,
/// reduction='mean', label_smoothing=0.0)`: log-softmax over dim 1 (dim 0 for 1-D
/// input), then NLL for index targets (with PyTorch's smoothing term
/// `(1 − ε)·nll + (ε/C)·Σ_c w_c·(−log p_c)`) or `−Σ_c w_c t'_c log p_c` for
/// probability targets; `mean` divides by `Σ w[y]` over non-ignored index targets
/// (NaN when all are ignored) and by the number of positions for probabilities.
///
/// # Errors
/// [`Error::Shape`] for mismatched batch or spatial sizes or a bad weight;
/// [`Error::Label`] for a target outside `[0, C)` that is not `ignore_index`;
/// [`Error::Param`] for `label_smoothing > 1` or a non-negative `ignore_index` with
/// probability targets.
///
/// ```
/// use ndarray::array;
/// use xent::torch::{cross_entropy, CrossEntropyArgs, Target};
/// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
/// let y = array![0i64, 1].into_dyn();
/// let l = cross_entropy(&x.view(), Target::Indices(y.view()), &CrossEntropyArgs::default()).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn cross_entropy<'a, T: Float, D: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: Target<'_, T>,
    args: &CrossEntropyArgs<'_, T>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    ce_impl(input, target, args, None)
}

/// Gradient of [`cross_entropy`] w.r.t. `input` given the upstream gradient `g` (a 0-d
/// array for `mean`/`sum`, per position for `none`): PyTorch autograd's
/// `s·((1 − ε)·w[y]·(softmax − onehot) + (ε/C)·(softmax·Σw − w))` for index targets and
/// `s·(softmax·Σ_c w_c t'_c − w ∘ t')` for probabilities.
///
/// # Errors
/// As [`cross_entropy`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::torch::{cross_entropy_grad, CrossEntropyArgs, Target};
/// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
/// let y = array![1i64, -100].into_dyn(); // the second row is ignored
/// let g = ndarray::arr0(1.0).into_dyn();
/// let dx = cross_entropy_grad(&x.view(), Target::Indices(y.view()), &CrossEntropyArgs::default(), &g.view()).unwrap();
/// assert_eq!(dx, array![[0.5, -0.5], [0.0, 0.0]].into_dyn());
/// ```
pub fn cross_entropy_grad<'a, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: Target<'_, T>,
    args: &CrossEntropyArgs<'_, T>,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let g = &g.into().into_dyn();
    ce_impl(input, target, args, Some(g))
}

fn ce_impl<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: Target<'_, T>,
    args: &CrossEntropyArgs<'_, T>,
    g: Option<&ArrayViewD<'_, T>>,
) -> Result<ArrayD<T>> {
    let op = "torch.nn.functional.cross_entropy";
    let cd = class_dim(op, input.shape())?;
    let ls = smoothing(op, args.label_smoothing)?;
    let w = weight_slice(op, &args.weight, input.shape()[cd])?;
    let par = crate::default_par();
    match target {
        Target::Probs(t) => {
            if t.shape() != input.shape() {
                return Err(Error::shape(
                    op,
                    format!("probability target of shape {:?} must match the input shape {:?}", t.shape(), input.shape()),
                ));
            }
            if args.ignore_index >= 0 {
                return Err(Error::param(op, "ignore_index", "ignore_index is not supported for floating point target"));
            }
            let (wd, e) = (w.as_deref(), T::of(ls));
            match g {
                None => ops::cross_entropy_dense(input, &t, cd, wd, e, args.reduction, par),
                Some(g) => ops::cross_entropy_dense_vjp(input, &t, cd, wd, e, args.reduction, DenseGrad::Exact, g, par),
            }
        }
        Target::Indices(y) => {
            check_index_target(op, input.shape(), y.shape(), cd)?;
            let o = SparseOptions {
                label_smoothing: T::of(ls),
                weight: w.as_deref(),
                ignore_index: Some(args.ignore_index),
                reduction: args.reduction,
            };
            let r = match g {
                None => ops::cross_entropy_sparse(input, cd, &y, &o, par),
                Some(g) => ops::cross_entropy_sparse_vjp(input, cd, &y, &o, g, par),
            };
            r.map_err(|e| crate::tf::rename(e, op, "target"))
        }
    }
}

/// `torch.nn.functional.nll_loss(input, target, weight=None, ignore_index=-100,
/// reduction='mean')` on log-probabilities: `−w[y]·input[y]`, reduced as
/// [`cross_entropy`] with index targets.
///
/// # Errors
/// As [`cross_entropy`] with index targets.
///
/// ```
/// use ndarray::array;
/// use xent::torch::{nll_loss, CrossEntropyArgs};
/// let x = array![[-1.0f32, -2.0]].into_dyn();
/// let l = nll_loss(&x.view(), &array![1i64].into_dyn().view(), &CrossEntropyArgs::default()).unwrap();
/// assert_eq!(l[[]], 2.0);
/// ```
pub fn nll_loss<'a, 'b, T: Float, D: Dimension, L: Label, E: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, L, E>,
    args: &CrossEntropyArgs<'_, T>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let target = &target.into().mapv(L::to_i64).into_dyn();
    nll_impl(input, &target.view(), args, None)
}

/// Gradient of [`nll_loss`]: `−w[y]·s` at the target class, zero elsewhere.
///
/// # Errors
/// As [`nll_loss`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::torch::{nll_loss_grad, CrossEntropyArgs};
/// let x = array![[-1.0f64, -2.0]].into_dyn();
/// let dx = nll_loss_grad(&x.view(), &array![1i64].into_dyn().view(), &CrossEntropyArgs::default(), &ndarray::arr0(1.0).into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[0.0, -1.0]].into_dyn());
/// ```
pub fn nll_loss_grad<'a, 'b, 'g, T: Float, D: Dimension, L: Label, E: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, L, E>,
    args: &CrossEntropyArgs<'_, T>,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let target = &target.into().mapv(L::to_i64).into_dyn();
    let g = &g.into().into_dyn();
    nll_impl(input, &target.view(), args, Some(g))
}

fn nll_impl<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, i64>,
    args: &CrossEntropyArgs<'_, T>,
    g: Option<&ArrayViewD<'_, T>>,
) -> Result<ArrayD<T>> {
    let op = "torch.nn.functional.nll_loss";
    let cd = class_dim(op, input.shape())?;
    check_index_target(op, input.shape(), target.shape(), cd)?;
    let w = weight_slice(op, &args.weight, input.shape()[cd])?;
    let o = SparseOptions {
        label_smoothing: T::zero(),
        weight: w.as_deref(),
        ignore_index: Some(args.ignore_index),
        reduction: args.reduction,
    };
    let r = match g {
        None => ops::nll_loss(input, cd, target, &o),
        Some(g) => ops::nll_loss_vjp(input, cd, target, &o, g),
    };
    r.map_err(|e| crate::tf::rename(e, op, "target"))
}

/// `torch.nn.functional.binary_cross_entropy(input, target, weight=None,
/// reduction='mean')`: see [`ops::binary_cross_entropy`].
///
/// # Errors
/// As [`ops::binary_cross_entropy`].
///
/// ```
/// use ndarray::array;
/// use xent::ops::Reduction;
/// let l = xent::torch::binary_cross_entropy(&array![1.0f32].into_dyn().view(), &array![0.0].into_dyn().view(), None, Reduction::Mean).unwrap();
/// assert_eq!(l[[]], 100.0);
/// ```
pub fn binary_cross_entropy<'a, 'b, T: Float, D: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, D>,
    weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let target = &target.into().into_dyn();
    ops::binary_cross_entropy(input, target, weight, reduction)
}

/// Gradient of [`binary_cross_entropy`], see [`ops::binary_cross_entropy_vjp`].
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::Reduction;
/// let g = ndarray::arr0(1.0).into_dyn();
/// let dx = xent::torch::binary_cross_entropy_grad(&array![0.5f64].into_dyn().view(), &array![1.0].into_dyn().view(), None, Reduction::Mean, &g.view()).unwrap();
/// assert_eq!(dx[[0]], -2.0);
/// ```
pub fn binary_cross_entropy_grad<'a, 'b, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, D>,
    weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let target = &target.into().into_dyn();
    let g = &g.into().into_dyn();
    ops::binary_cross_entropy_vjp(input, target, weight, reduction, g)
}

/// `torch.nn.functional.binary_cross_entropy_with_logits(input, target, weight=None,
/// reduction='mean', pos_weight=None)`: see [`ops::binary_cross_entropy_with_logits`].
///
/// # Errors
/// As [`ops::binary_cross_entropy_with_logits`].
///
/// ```
/// use ndarray::array;
/// use xent::ops::Reduction;
/// let l = xent::torch::binary_cross_entropy_with_logits(&array![0.0f64].into_dyn().view(), &array![0.0].into_dyn().view(), None, None, Reduction::Mean).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_cross_entropy_with_logits<'a, 'b, T: Float, D: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, D>,
    weight: Option<&ArrayViewD<'_, T>>,
    pos_weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let target = &target.into().into_dyn();
    ops::binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction)
}

/// Gradient of [`binary_cross_entropy_with_logits`], see
/// [`ops::binary_cross_entropy_with_logits_vjp`].
///
/// # Errors
/// As the forward, plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::Reduction;
/// let g = ndarray::arr0(1.0).into_dyn();
/// let pw = array![3.0f64].into_dyn();
/// let dx = xent::torch::binary_cross_entropy_with_logits_grad(&array![0.0f64].into_dyn().view(), &array![1.0].into_dyn().view(), None, Some(&pw.view()), Reduction::Sum, &g.view()).unwrap();
/// assert_eq!(dx[[0]], -1.5); // (3·1 + 1 − 1)·0.5 − 3
/// ```
pub fn binary_cross_entropy_with_logits_grad<'a, 'b, 'g, T: Float, D: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, D>,
    weight: Option<&ArrayViewD<'_, T>>,
    pos_weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let input = &input.into().into_dyn();
    let target = &target.into().into_dyn();
    let g = &g.into().into_dyn();
    ops::binary_cross_entropy_with_logits_vjp(input, target, weight, pos_weight, reduction, g)
}

/// Parameters of [`kl_div`] with PyTorch's defaults (`reduction='mean'`,
/// `log_target=False`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlDivArgs {
    /// `none`, `batchmean`, `sum` or `mean` (the default, which PyTorch warns divides
    /// by batch × support).
    pub reduction: ops::KlReduction,
    /// Whether `target` holds log-probabilities too.
    pub log_target: bool,
}

impl Default for KlDivArgs {
    fn default() -> Self {
        KlDivArgs { reduction: ops::KlReduction::Mean, log_target: false }
    }
}

/// `torch.nn.functional.kl_div(input, target, reduction='mean', log_target=False)`
/// and `torch.nn.KLDivLoss`: `input` is log-probabilities; see [`ops::kl_div`].
///
/// Deviation: each point-wise value is computed in float64 and rounded once, where
/// PyTorch rounds `xlogy(t, t)` and `t·input` to the input's dtype before subtracting.
/// Where the two terms cancel the results differ: within 0.5 ulp of the exact value
/// for xent, up to about 240 ulp for PyTorch on random float16 data (64×33,
/// `reduction='none'`); the sums agree.
///
/// # Errors
/// [`Error::Shape`] if `input` and `target` do not broadcast.
///
/// ```
/// use ndarray::array;
/// use xent::ops::KlReduction;
/// use xent::torch::{kl_div, KlDivArgs};
/// let x = array![[0.1f32, -0.2, 0.3]].into_dyn();
/// let t = array![[0.5f32, 0.0, 0.5]].into_dyn();
/// let args = KlDivArgs { reduction: KlReduction::BatchMean, ..Default::default() };
/// assert!((kl_div(&x.view(), &t.view(), &args).unwrap()[[]] - -0.8931472).abs() < 1e-6); // PyTorch 2.15
/// ```
pub fn kl_div<'a, 'b, T: Float, D: Dimension, E: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, E>,
    args: &KlDivArgs,
) -> Result<ArrayD<T>> {
    let (input, target) = (&input.into().into_dyn(), &target.into().into_dyn());
    ops::kl_div(input, target, args.log_target, args.reduction).map_err(|e| rename_op(e, "torch.nn.functional.kl_div"))
}

/// Gradient of [`kl_div`] w.r.t. `input`: `−g·target` (`−g·exp(target)` with
/// `log_target`), divided as the reduction divides; see [`ops::kl_div_vjp`].
///
/// # Errors
/// As [`kl_div`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::torch::{kl_div_grad, KlDivArgs};
/// let x = array![[0.1f32, -0.2, 0.3]].into_dyn();
/// let t = array![[0.5f32, 0.0, 0.5]].into_dyn();
/// let dx = kl_div_grad(&x.view(), &t.view(), &KlDivArgs::default(), &ndarray::arr0(1.0f32).into_dyn().view()).unwrap();
/// assert_eq!(dx, array![[-0.5f32 / 3.0, 0.0, -0.5 / 3.0]].into_dyn());
/// ```
pub fn kl_div_grad<'a, 'b, 'g, T: Float, D: Dimension, E: Dimension, G: Dimension>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, E>,
    args: &KlDivArgs,
    g: impl AsArray<'g, T, G>,
) -> Result<ArrayD<T>> {
    let (input, target, g) = (&input.into().into_dyn(), &target.into().into_dyn(), &g.into().into_dyn());
    ops::kl_div_vjp(input, target, args.log_target, args.reduction, g).map_err(|e| rename_op(e, "torch.nn.functional.kl_div"))
}

fn rename_op(e: Error, op: &str) -> Error {
    match e {
        Error::Shape { msg, .. } => Error::Shape { op: op.into(), msg },
        Error::Param { param, msg, .. } => Error::Param { op: op.into(), param, msg },
        other => other,
    }
}

/// Parameters of [`linear_cross_entropy`] with PyTorch 2.15's defaults.
#[derive(Debug, Clone)]
pub struct LinearCrossEntropyArgs<'a, T> {
    /// Bias of the projection, shape `(C)`.
    pub linear_bias: Option<ArrayViewD<'a, T>>,
    /// Per-class loss weight, shape `(C)`.
    pub weight: Option<ArrayViewD<'a, T>>,
    /// `none`, `mean` (default) or `sum`.
    pub reduction: Reduction,
    /// `None` (the default) means −100 for index targets; must stay `None` with
    /// probability targets.
    pub ignore_index: Option<i64>,
    /// Label smoothing ε ≤ 1 (negative values are ignored, as in PyTorch).
    pub label_smoothing: f64,
    /// xent's chunk budget in bytes (PyTorch's `options` has no equivalent meaning):
    /// see [`ops::LinearCeOptions::chunk_bytes`].
    pub chunk_bytes: usize,
}

impl<T> Default for LinearCrossEntropyArgs<'_, T> {
    fn default() -> Self {
        LinearCrossEntropyArgs {
            linear_bias: None,
            weight: None,
            reduction: Reduction::Mean,
            ignore_index: None,
            label_smoothing: 0.0,
            chunk_bytes: ops::DEFAULT_CHUNK_BYTES,
        }
    }
}

/// The gradients of [`linear_cross_entropy`], each shaped as its input.
#[derive(Debug, Clone)]
pub struct LinearCrossEntropyGrads<T> {
    /// The loss.
    pub loss: ArrayD<T>,
    /// `input.grad`.
    pub input: Option<ArrayD<T>>,
    /// `linear_weight.grad`.
    pub linear_weight: Option<ArrayD<T>>,
    /// `linear_bias.grad` (when a bias was given).
    pub linear_bias: Option<ArrayD<T>>,
}

/// `torch.nn.functional.linear_cross_entropy(input, linear_weight, target, *,
/// linear_bias=None, weight=None, reduction='mean', ignore_index=None,
/// label_smoothing=0.0)` (PyTorch 2.15): [`cross_entropy`] of the logits
/// `input · linear_weightᵀ + linear_bias`, which xent never materialises
/// ([`ops::linear_cross_entropy`]: blocks of rows within a chunk budget).
///
/// Shapes: `input` `(N, D)` or `(D)`, `linear_weight` `(C, D)`, `target` `(N)` / `()`
/// class indices or `(N, C)` / `(C)` probabilities (a target is probabilities exactly
/// when its shape is the logits' shape, as PyTorch decides), `linear_bias` and
/// `weight` `(C)`. `ignore_index=None` means −100 for index targets.
///
/// Deviation: a K-dimensional `linear_weight` `(C, d_1, …, d_K, D)` is an error here
/// (PyTorch reshapes the logits to `(N, C, d_1, …)`).
///
/// # Errors
/// [`Error::Shape`] as PyTorch raises them (input rank not 1 or 2, `linear_weight`
/// rank below 2, unequal `in_features`, bias shape, target shape), also for a
/// K-dimensional `linear_weight`; [`Error::Param`] for `ignore_index` given with
/// probability targets or `label_smoothing > 1`; [`Error::Label`] for a class index
/// outside `[0, C)` that is not the ignore index.
///
/// ```
/// use ndarray::array;
/// use xent::torch::{linear_cross_entropy, LinearCrossEntropyArgs, Target};
/// let x = array![[1.0f64, 2.0]].into_dyn();
/// let w = array![[0.0, 0.0], [0.0, 0.0]].into_dyn();
/// let y = array![1i64].into_dyn();
/// let l = linear_cross_entropy(&x.view(), &w.view(), Target::Indices(y.view()), &LinearCrossEntropyArgs::default()).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn linear_cross_entropy<T: Float>(
    input: &ArrayViewD<'_, T>,
    linear_weight: &ArrayViewD<'_, T>,
    target: Target<'_, T>,
    args: &LinearCrossEntropyArgs<'_, T>,
) -> Result<ArrayD<T>> {
    Ok(lce_impl(input, linear_weight, target, args, None)?.loss)
}

/// Loss and gradients of [`linear_cross_entropy`] given the upstream gradient `g` of
/// the loss (0-d for `mean`/`sum`; the loss's shape for `none`): what `input.grad`,
/// `linear_weight.grad` and `linear_bias.grad` hold after `loss.backward(g)`. Only the
/// gradients in `wants` are computed.
///
/// # Errors
/// As [`linear_cross_entropy`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::LinearWants;
/// use xent::torch::{linear_cross_entropy_grad, LinearCrossEntropyArgs, Target};
/// let x = array![[1.0f64, 2.0]].into_dyn();
/// let w = array![[0.0, 0.0], [0.0, 0.0]].into_dyn();
/// let y = array![1i64].into_dyn();
/// let g = ndarray::arr0(1.0).into_dyn();
/// let r = linear_cross_entropy_grad(&x.view(), &w.view(), Target::Indices(y.view()), &LinearCrossEntropyArgs::default(), &g.view(), LinearWants::ALL).unwrap();
/// // d logits = softmax − onehot = [0.5, −0.5]; d W = d logitsᵀ · x
/// assert_eq!(r.linear_weight.unwrap(), array![[0.5, 1.0], [-0.5, -1.0]].into_dyn());
/// ```
pub fn linear_cross_entropy_grad<T: Float>(
    input: &ArrayViewD<'_, T>,
    linear_weight: &ArrayViewD<'_, T>,
    target: Target<'_, T>,
    args: &LinearCrossEntropyArgs<'_, T>,
    g: &ArrayViewD<'_, T>,
    wants: ops::LinearWants,
) -> Result<LinearCrossEntropyGrads<T>> {
    lce_impl(input, linear_weight, target, args, Some((g, wants)))
}

/// The logits' shape `input.shape[:-1] + (C,)` once PyTorch's checks of the input,
/// weight and bias ranks and shapes pass.
///
/// # Errors
/// As [`linear_cross_entropy`], with PyTorch's messages.
pub fn linear_logits_shape(input: &[usize], linear_weight: &[usize], linear_bias: Option<&[usize]>) -> Result<Vec<usize>> {
    let op = "torch.nn.functional.linear_cross_entropy";
    if input.is_empty() || input.len() > 2 {
        return Err(Error::shape(op, format!("expected input with dimensionality 1 or 2, got {}", input.len())));
    }
    if linear_weight.len() < 2 {
        return Err(Error::shape(op, format!("expected linear_weight with dimensionality at least 2, got {}", linear_weight.len())));
    }
    let (d, dw) = (input[input.len() - 1], linear_weight[linear_weight.len() - 1]);
    if d != dw {
        return Err(Error::shape(
            op,
            format!("expected equal input and linear_weight last dimensions (in_features), got {d} and {dw}, respectively"),
        ));
    }
    let c = linear_weight[0];
    let want_bias = &linear_weight[..linear_weight.len() - 1];
    if let Some(b) = linear_bias {
        if b != want_bias {
            return Err(Error::shape(op, format!("expected linear_bias shape {want_bias:?}, got {b:?}")));
        }
    }
    if linear_weight.len() > 2 {
        return Err(Error::shape(
            op,
            format!("a K-dimensional linear_weight (shape {linear_weight:?}) is not supported by xent; give it as (C, in_features)"),
        ));
    }
    let mut shape = input[..input.len() - 1].to_vec();
    shape.push(c);
    Ok(shape)
}

fn lce_impl<T: Float>(
    input: &ArrayViewD<'_, T>,
    linear_weight: &ArrayViewD<'_, T>,
    target: Target<'_, T>,
    args: &LinearCrossEntropyArgs<'_, T>,
    g: Option<(&ArrayViewD<'_, T>, ops::LinearWants)>,
) -> Result<LinearCrossEntropyGrads<T>> {
    let op = "torch.nn.functional.linear_cross_entropy";
    let logits = linear_logits_shape(input.shape(), linear_weight.shape(), args.linear_bias.as_ref().map(|b| b.shape()))?;
    let (c, d) = (linear_weight.shape()[0], linear_weight.shape()[1]);
    let n = if input.ndim() == 2 { input.shape()[0] } else { 1 };
    let tshape = match &target {
        Target::Indices(y) => y.shape(),
        Target::Probs(t) => t.shape(),
    };
    if tshape == logits.as_slice() && args.ignore_index.is_some() {
        return Err(Error::param(op, "ignore_index", "ignore_index cannot be specified when target contains probabilities"));
    }
    let ls = smoothing(op, args.label_smoothing)?;
    let w = weight_slice(op, &args.weight, c)?;
    let bias: Option<Vec<T>> = args.linear_bias.as_ref().map(|b| b.iter().copied().collect());
    let x2 = input.to_shape((n, d)).map_err(|e| Error::shape(op, e.to_string()))?;
    let w2 = linear_weight.to_shape((c, d)).map_err(|e| Error::shape(op, e.to_string()))?;
    let cd = if input.ndim() == 2 { 1 } else { 0 };
    let (yv, tv);
    let tgt = match &target {
        Target::Indices(y) => {
            check_index_target(op, &logits, y.shape(), cd)?;
            yv = y.iter().copied().collect::<Vec<i64>>();
            ops::LinearTarget::Indices(&yv)
        }
        Target::Probs(t) => {
            if t.shape() != logits.as_slice() {
                return Err(Error::shape(
                    op,
                    format!("probability target of shape {:?} must match the logits' shape {logits:?}", t.shape()),
                ));
            }
            tv = t.iter().copied().collect::<Vec<T>>();
            ops::LinearTarget::Probs(&tv)
        }
    };
    let o = ops::LinearCeOptions {
        bias: bias.as_deref(),
        weight: w.as_deref(),
        ignore_index: Some(args.ignore_index.unwrap_or(IGNORE_INDEX)),
        label_smoothing: T::of(ls),
        softcap: None,
        reduction: args.reduction,
        chunk_bytes: args.chunk_bytes,
        ..Default::default()
    };
    let par = crate::default_par();
    let out_shape: Vec<usize> = if args.reduction == Reduction::None { logits[..logits.len() - 1].to_vec() } else { vec![] };
    let rename = |e| crate::tf::rename(e, op, "target");
    match g {
        None => {
            let l = ops::linear_cross_entropy(&x2.view(), &w2.view(), &tgt, &o, par).map_err(rename)?;
            Ok(LinearCrossEntropyGrads { loss: back(l, &out_shape), input: None, linear_weight: None, linear_bias: None })
        }
        Some((g, wants)) => {
            if g.shape() != out_shape.as_slice() {
                return Err(Error::shape(op, format!("upstream gradient has shape {:?}, the loss has shape {out_shape:?}", g.shape())));
            }
            let gshape: Vec<usize> = if args.reduction == Reduction::None { vec![n] } else { vec![] };
            let gv = g.to_shape(IxDyn(&gshape)).map_err(|e| Error::shape(op, e.to_string()))?;
            let wants = ops::LinearWants { bias: wants.bias && bias.is_some(), ..wants };
            let r = ops::linear_cross_entropy_vjp(&x2.view(), &w2.view(), &tgt, &o, &gv.view(), wants, par).map_err(rename)?;
            Ok(LinearCrossEntropyGrads {
                loss: back(r.loss, &out_shape),
                input: r.input.map(|a| back(a.into_dyn(), input.shape())),
                linear_weight: r.linear_weight.map(|a| back(a.into_dyn(), linear_weight.shape())),
                linear_bias: r.bias.map(|a| a.into_dyn()),
            })
        }
    }
}

//! The training step: loss and gradient in one call, on arrays of any dimensionality
//! and labels of any integer type.

use ndarray::{ArrayBase, ArrayViewD, AsArray, DataMut, Dimension};

use super::{check_index_target, class_dim, smoothing, weight_slice, CrossEntropyArgs, Target};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::label::Label;
use crate::ops::{FusedLogit, Reduction, SparseOptions};

fn index_options<'w, T: Float>(args: &CrossEntropyArgs<'_, T>, weight: Option<&'w [T]>, ls: f64) -> SparseOptions<'w, T> {
    SparseOptions { label_smoothing: T::of(ls), weight, ignore_index: Some(args.ignore_index), reduction: args.reduction }
}

/// `torch.nn.functional.cross_entropy` with class-index targets and its gradient in one
/// pass: returns the reduced loss and writes `upstream · d loss / d input` into `grad`
/// (what `loss.backward(upstream)` leaves in `input.grad`). Classes on dim 1 (dim 0
/// for a 1-D input), any rank, labels of any integer type ([`Label`]), arrays of any
/// dimensionality (`Array2`, `ArrayView3`, `ArrayD`, …). The loss and gradient are the
/// ones of [`super::cross_entropy`] and [`super::cross_entropy_grad`], computed by the
/// fused kernel that reads each row once.
///
/// Element types ([`FusedLogit`]): `f32` and `f64` are computed in themselves; `f16`
/// and `bf16` logits in `f32` (`args`, `upstream` and the returned loss are `f32`),
/// the gradient rounded once to the logits' type. Deviation: PyTorch's CPU kernels
/// round intermediate tensors to the half type too, and land within a few ε of this
/// (measured figures in the `candle` module's docs).
///
/// `args.reduction` must be `Mean` or `Sum`; `upstream` is the gradient of the reduced
/// loss (1 for a plain training step).
///
/// # Errors
/// As [`super::cross_entropy`] with index targets, plus [`Error::Shape`] for a `grad`
/// of another shape, and [`Error::Param`] for `Reduction::None`.
///
/// ```
/// use ndarray::{array, Array2};
/// use xent::torch::{cross_entropy_with_grad, CrossEntropyArgs};
/// let logits = array![[1.0f32, 2.0, 3.0], [0.5, 0.5, 0.5]];
/// let labels = [2u8, 0]; // any integer type
/// let mut grad = Array2::zeros(logits.raw_dim());
/// let loss = cross_entropy_with_grad(&logits, &labels, &CrossEntropyArgs::default(), 1.0, &mut grad).unwrap();
/// let want = ((1f32.exp() + 2f32.exp() + 3f32.exp()).ln() - 3.0 + 3f32.ln()) / 2.0;
/// assert!((loss - want).abs() < 1e-6);
/// // mean over 2 rows: (softmax − onehot) / 2
/// assert!((grad[[1, 0]] - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-6);
/// ```
pub fn cross_entropy_with_grad<'a, 'b, T, D, L, E, S>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, L, E>,
    args: &CrossEntropyArgs<'_, T::Acc>,
    upstream: T::Acc,
    grad: &mut ArrayBase<S, D>,
) -> Result<T::Acc>
where
    T: FusedLogit,
    L: Label,
    D: Dimension,
    E: Dimension,
    S: DataMut<Elem = T>,
{
    let op = "torch.nn.functional.cross_entropy";
    let x = input.into().into_dyn();
    let y = target.into().mapv(L::to_i64).into_dyn();
    let cd = class_dim(op, x.shape())?;
    check_index_target(op, x.shape(), y.shape(), cd)?;
    let ls = smoothing(op, args.label_smoothing)?;
    let w = weight_slice(op, &args.weight, x.shape()[cd])?;
    let o = index_options(args, w.as_deref(), ls);
    let mut g = grad.view_mut().into_dyn();
    T::fused(&x, cd, &y.view(), &o, upstream, &mut g, crate::default_par()).map_err(|e| crate::tf::rename(e, op, "target"))
}

/// [`cross_entropy_with_grad`] that overwrites `input` with the gradient: the logits
/// and their gradient never coexist, the cheapest step in memory and time (the
/// Liger-kernel trick). Returns the reduced loss.
///
/// # Errors
/// As [`cross_entropy_with_grad`].
///
/// ```
/// use ndarray::array;
/// use xent::ops::Reduction;
/// use xent::torch::{cross_entropy_with_grad_in_place, CrossEntropyArgs};
/// let mut x = array![[0.0f64, 0.0], [0.0, 0.0]];
/// let args = CrossEntropyArgs { reduction: Reduction::Sum, ..Default::default() };
/// let loss = cross_entropy_with_grad_in_place(&mut x, &[1u32, 0], &args, 1.0).unwrap();
/// assert!((loss - 2.0 * 2f64.ln()).abs() < 1e-15);
/// assert_eq!(x, array![[0.5, -0.5], [-0.5, 0.5]]);
/// ```
pub fn cross_entropy_with_grad_in_place<'b, T, D, L, E, S>(
    input: &mut ArrayBase<S, D>,
    target: impl AsArray<'b, L, E>,
    args: &CrossEntropyArgs<'_, T::Acc>,
    upstream: T::Acc,
) -> Result<T::Acc>
where
    T: FusedLogit,
    L: Label,
    D: Dimension,
    E: Dimension,
    S: DataMut<Elem = T>,
{
    let op = "torch.nn.functional.cross_entropy";
    let y = target.into().mapv(L::to_i64).into_dyn();
    let mut x = input.view_mut().into_dyn();
    let cd = class_dim(op, x.shape())?;
    check_index_target(op, x.shape(), y.shape(), cd)?;
    let ls = smoothing(op, args.label_smoothing)?;
    let w = weight_slice(op, &args.weight, x.shape()[cd])?;
    let o = index_options(args, w.as_deref(), ls);
    T::fused_in_place(&mut x, cd, &y.view(), &o, upstream, crate::default_par()).map_err(|e| crate::tf::rename(e, op, "target"))
}

/// Fail unless `grad` has the input's shape.
fn check_out(op: &str, grad: &[usize], input: &[usize]) -> Result<()> {
    if grad != input {
        return Err(Error::shape(op, format!("`grad` has shape {grad:?}, the input has shape {input:?}")));
    }
    Ok(())
}

/// The upstream gradient of a reduced loss as the 0-d array the `_grad` functions take.
fn scalar_upstream<T: Float>(op: &str, reduction: Reduction, upstream: T) -> Result<ndarray::ArrayD<T>> {
    if reduction == Reduction::None {
        return Err(Error::param(op, "reduction", "the loss-and-gradient call needs a reduced loss (mean or sum)"));
    }
    Ok(ndarray::arr0(upstream).into_dyn())
}

/// The scalar of a reduced loss.
fn scalar<T: Float>(a: ndarray::ArrayD<T>) -> T {
    a.iter().next().copied().unwrap_or_else(T::nan)
}

/// `torch.nn.functional.cross_entropy` with class-probability targets (the input's
/// shape), and its gradient, in one call: returns the reduced loss and writes
/// `upstream · d loss / d input` into `grad`. As [`super::cross_entropy`] and
/// [`super::cross_entropy_grad`] with [`Target::Probs`] (two passes over the logits:
/// the dense kernels have no fused forward-backward).
///
/// # Errors
/// As [`super::cross_entropy`] with probability targets, plus [`Error::Shape`] for a
/// `grad` of another shape and [`Error::Param`] for `Reduction::None`.
///
/// ```
/// use ndarray::{array, Array2};
/// use xent::torch::{cross_entropy_probs_with_grad, CrossEntropyArgs};
/// let x = array![[0.0f64, 0.0]];
/// let t = array![[0.25f64, 0.75]];
/// let mut g = Array2::zeros((1, 2));
/// let l = cross_entropy_probs_with_grad(&x, &t, &CrossEntropyArgs::default(), 1.0, &mut g).unwrap();
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(g, array![[0.25, -0.25]]);
/// ```
pub fn cross_entropy_probs_with_grad<'a, 'b, T, D, S>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, D>,
    args: &CrossEntropyArgs<'_, T>,
    upstream: T,
    grad: &mut ArrayBase<S, D>,
) -> Result<T>
where
    T: Float,
    D: Dimension,
    S: DataMut<Elem = T>,
{
    let op = "torch.nn.functional.cross_entropy";
    let (x, t) = (input.into().into_dyn(), target.into().into_dyn());
    check_out(op, grad.shape(), x.shape())?;
    let g = scalar_upstream(op, args.reduction, upstream)?;
    let loss = super::cross_entropy(&x, Target::Probs(t.clone()), args)?;
    let dx = super::cross_entropy_grad(&x, Target::Probs(t), args, &g.view())?;
    grad.assign(&dx.into_dimensionality::<D>().map_err(|e| Error::shape(op, e))?);
    Ok(scalar(loss))
}

/// `torch.nn.functional.binary_cross_entropy_with_logits` and its gradient in one call:
/// returns the reduced loss and writes `upstream · d loss / d input` into `grad`
/// ([`super::binary_cross_entropy_with_logits`] and its `_grad`). `weight` and
/// `pos_weight` broadcast to the input as in PyTorch.
///
/// # Errors
/// As [`super::binary_cross_entropy_with_logits`], plus [`Error::Shape`] for a `grad`
/// of another shape and [`Error::Param`] for `Reduction::None`.
///
/// ```
/// use ndarray::{array, Array1};
/// use xent::ops::Reduction;
/// use xent::torch::binary_cross_entropy_with_logits_with_grad;
/// let x = array![0.0f64, 0.0];
/// let t = array![1.0f64, 0.0];
/// let mut g = Array1::zeros(2);
/// let l = binary_cross_entropy_with_logits_with_grad(&x, &t, None, None, Reduction::Mean, 1.0, &mut g).unwrap();
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(g, array![-0.25, 0.25]); // (σ(x) − t) / 2
/// ```
#[allow(clippy::too_many_arguments)] // PyTorch's arguments, the upstream scale and the output
pub fn binary_cross_entropy_with_logits_with_grad<'a, 'b, T, D, S>(
    input: impl AsArray<'a, T, D>,
    target: impl AsArray<'b, T, D>,
    weight: Option<&ArrayViewD<'_, T>>,
    pos_weight: Option<&ArrayViewD<'_, T>>,
    reduction: Reduction,
    upstream: T,
    grad: &mut ArrayBase<S, D>,
) -> Result<T>
where
    T: Float,
    D: Dimension,
    S: DataMut<Elem = T>,
{
    let op = "torch.nn.functional.binary_cross_entropy_with_logits";
    let (x, t) = (input.into().into_dyn(), target.into().into_dyn());
    check_out(op, grad.shape(), x.shape())?;
    let g = scalar_upstream(op, reduction, upstream)?;
    let loss = super::binary_cross_entropy_with_logits(&x, &t, weight, pos_weight, reduction)?;
    let dx = super::binary_cross_entropy_with_logits_grad(&x, &t, weight, pos_weight, reduction, &g.view())?;
    grad.assign(&dx.into_dimensionality::<D>().map_err(|e| Error::shape(op, e))?);
    Ok(scalar(loss))
}

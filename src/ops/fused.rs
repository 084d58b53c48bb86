//! One pass, loss and gradient: the class-index cross-entropy a training step calls,
//! on xent's fused kernel ([`kernels::checked::ce_sparse_fwd_bwd`]), with every label, shape and
//! length checked first.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD};

use super::categorical::{check_labels, sum_f64, SparseOptions};
use super::Reduction;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::{self, Half, Par, Scale, SparseCe};
use crate::layout::{contiguous, geom, reduced_shape, slice, try_filled};

/// The checks and derived values of a fused call: the kernel options, the mean's
/// denominator and the gradient scale.
struct Plan<'w, T> {
    p: SparseCe<'w, T>,
    denom: f64,
    scale: T,
}

fn plan<'w, T: Float>(
    op: &str,
    shape: &[usize],
    axis: usize,
    labels: &[i64],
    o: &SparseOptions<'w, T>,
    upstream: T,
) -> Result<Plan<'w, T>> {
    if axis >= shape.len() {
        return Err(Error::Axis { op: op.into(), input: "logits".into(), axis: axis as i64, rank: shape.len(), shape: shape.to_vec() });
    }
    let classes = shape[axis];
    if let Some(w) = o.weight {
        if w.len() != classes {
            return Err(Error::shape(op, format!("`weight` has {} elements but there are {classes} classes", w.len())));
        }
    }
    if !(o.label_smoothing >= T::zero() && o.label_smoothing <= T::one()) {
        return Err(Error::param(op, "label_smoothing", format!("must be in [0, 1], got {}", o.label_smoothing)));
    }
    let denom =
        match o.reduction {
            Reduction::Sum => 1.0,
            Reduction::Mean => {
                labels.iter().filter(|&&y| Some(y) != o.ignore_index).map(|&y| o.weight.map_or(1.0, |w| w[y as usize].f64())).sum()
            }
            Reduction::None => return Err(Error::param(
                op,
                "reduction",
                "the one-pass loss and gradient needs a reduced loss (mean or sum); use the `_vjp` op for per-position upstream gradients",
            )),
        };
    let scale = T::of(upstream.f64() / denom);
    let p = SparseCe { smoothing: o.label_smoothing, weight: o.weight, ignore_index: o.ignore_index };
    Ok(Plan { p, denom, scale })
}

/// Class-index cross-entropy and its gradient in one pass over the logits: returns
/// the reduced loss (as [`super::cross_entropy_sparse`]) and writes
/// `upstream · d loss / d logits` into `grad` (as [`super::cross_entropy_sparse_vjp`]
/// with `g = upstream`), reading each row once from memory.
///
/// `reduction` must be `Mean` or `Sum` (a training loss); `grad` has the logits'
/// shape, any layout (a strided `grad` is filled through a temporary).
///
/// # Errors
/// [`Error::Shape`] for labels or a gradient buffer of the wrong shape, or a weight
/// of the wrong length; [`Error::Label`] for a label outside `[0, C)` that is not the
/// ignore index; [`Error::Param`] for `Reduction::None` or a smoothing outside [0, 1];
/// [`Error::Axis`] for `axis ≥ rank`.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sparse_fused, SparseOptions};
/// let x = array![[0.0f64, 0.0], [0.0, 0.0]].into_dyn();
/// let y = array![1i64, 0].into_dyn();
/// let mut g = ndarray::ArrayD::zeros(x.raw_dim());
/// let l = cross_entropy_sparse_fused(&x.view(), 1, &y.view(), &SparseOptions::default(), 1.0, &mut g.view_mut(), xent::Par::Seq).unwrap();
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(g, array![[0.25, -0.25], [-0.25, 0.25]].into_dyn());
/// ```
#[allow(clippy::too_many_arguments)] // the loss's inputs, options, upstream scale, output and threads
pub fn cross_entropy_sparse_fused<T: Float>(
    logits: &ArrayViewD<'_, T>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, T>,
    upstream: T,
    grad: &mut ArrayViewMutD<'_, T>,
    par: Par,
) -> Result<T> {
    let op = "cross_entropy";
    if grad.shape() != logits.shape() {
        return Err(Error::shape(op, format!("`grad` has shape {:?}, the logits have shape {:?}", grad.shape(), logits.shape())));
    }
    if axis >= logits.ndim() {
        return plan(op, logits.shape(), axis, &[], o, upstream).map(|_| T::zero());
    }
    check_labels(op, "target", labels, logits.shape(), axis, o.ignore_index)?;
    let lc = contiguous(labels);
    let pl = plan(op, logits.shape(), axis, slice(&lc), o, upstream)?;
    let geo = geom(logits.shape(), axis);
    let xc = contiguous(logits);
    let mut loss = try_filled(op, "loss", &reduced_shape(logits.shape(), axis), T::zero())?;
    let mut lse = vec![T::zero(); geo.positions()];
    let run = |out: &mut [T], loss: &mut [T], lse: &mut [T]| {
        kernels::ce_sparse_fwd_bwd(slice(&xc), geo, slice(&lc), &pl.p, Scale::Uniform(pl.scale), loss, lse, out, par)
    };
    let ls = loss.as_slice_mut().expect("fresh");
    match grad.as_slice_mut() {
        Some(out) => run(out, ls, &mut lse),
        None => {
            let mut tmp = ArrayD::zeros(logits.raw_dim());
            run(tmp.as_slice_mut().expect("fresh"), ls, &mut lse);
            grad.assign(&tmp);
        }
    }
    Ok(T::of(sum_f64(&loss) / pl.denom))
}

/// [`cross_entropy_sparse_fused`] that overwrites the logits with the gradient (no
/// second logits-sized buffer; each row is read once and rewritten from cache).
/// A logits array that is not in standard layout goes through a temporary.
///
/// # Errors
/// As [`cross_entropy_sparse_fused`].
///
/// ```
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sparse_fused_in_place, Reduction, SparseOptions};
/// let mut x = array![[0.0f32, 0.0, 0.0]].into_dyn();
/// let o = SparseOptions { reduction: Reduction::Sum, ..Default::default() };
/// let l = cross_entropy_sparse_fused_in_place(&mut x.view_mut(), 1, &array![2i64].into_dyn().view(), &o, 1.0, xent::Par::Seq).unwrap();
/// assert!((l - 3f32.ln()).abs() < 1e-6);
/// assert!((x[[0, 2]] - (1.0 / 3.0 - 1.0)).abs() < 1e-6);
/// ```
pub fn cross_entropy_sparse_fused_in_place<T: Float>(
    logits: &mut ArrayViewMutD<'_, T>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, T>,
    upstream: T,
    par: Par,
) -> Result<T> {
    let op = "cross_entropy";
    if axis >= logits.ndim() {
        return plan(op, logits.shape(), axis, &[], o, upstream).map(|_| T::zero());
    }
    check_labels(op, "target", labels, logits.shape(), axis, o.ignore_index)?;
    let lc = contiguous(labels);
    let pl = plan(op, logits.shape(), axis, slice(&lc), o, upstream)?;
    let geo = geom(logits.shape(), axis);
    let mut loss = try_filled(op, "loss", &reduced_shape(logits.shape(), axis), T::zero())?;
    let mut lse = vec![T::zero(); geo.positions()];
    let ls = loss.as_slice_mut().expect("fresh");
    match logits.as_slice_mut() {
        Some(x) => kernels::ce_sparse_fwd_bwd_in_place(x, geo, slice(&lc), &pl.p, Scale::Uniform(pl.scale), ls, &mut lse, par),
        None => {
            let mut tmp = logits.as_standard_layout().into_owned();
            let x = tmp.as_slice_mut().expect("standard layout");
            kernels::ce_sparse_fwd_bwd_in_place(x, geo, slice(&lc), &pl.p, Scale::Uniform(pl.scale), ls, &mut lse, par);
            logits.assign(&tmp);
        }
    }
    Ok(T::of(sum_f64(&loss) / pl.denom))
}

/// [`cross_entropy_sparse_fused`] for `f16`/`bf16` logits: every sum and exp in `f32`
/// (`o`, `upstream` and the returned loss are `f32`), the gradient rounded once to
/// `H` (round to nearest even).
///
/// # Errors
/// As [`cross_entropy_sparse_fused`].
///
/// ```
/// use half::f16;
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sparse_fused_half, SparseOptions};
/// let x = array![[f16::ZERO, f16::ZERO]].into_dyn();
/// let mut g = ndarray::ArrayD::from_elem(x.raw_dim(), f16::ZERO);
/// let l = cross_entropy_sparse_fused_half(&x.view(), 1, &array![1i64].into_dyn().view(), &SparseOptions::default(), 1.0, &mut g.view_mut(), xent::Par::Seq).unwrap();
/// assert!((l - 2f32.ln()).abs() < 1e-6);
/// assert_eq!(g, array![[f16::from_f32(0.5), f16::from_f32(-0.5)]].into_dyn());
/// ```
#[allow(clippy::too_many_arguments)] // the loss's inputs, options, upstream scale, output and threads
pub fn cross_entropy_sparse_fused_half<H: Half>(
    logits: &ArrayViewD<'_, H>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, f32>,
    upstream: f32,
    grad: &mut ArrayViewMutD<'_, H>,
    par: Par,
) -> Result<f32> {
    let op = "cross_entropy";
    if grad.shape() != logits.shape() {
        return Err(Error::shape(op, format!("`grad` has shape {:?}, the logits have shape {:?}", grad.shape(), logits.shape())));
    }
    if axis >= logits.ndim() {
        return plan(op, logits.shape(), axis, &[], o, upstream).map(|_| 0.0);
    }
    check_labels(op, "target", labels, logits.shape(), axis, o.ignore_index)?;
    let lc = contiguous(labels);
    let pl = plan(op, logits.shape(), axis, slice(&lc), o, upstream)?;
    let geo = geom(logits.shape(), axis);
    let xc = contiguous(logits);
    let mut loss = try_filled(op, "loss", &reduced_shape(logits.shape(), axis), 0.0f32)?;
    let mut lse = vec![0.0f32; geo.positions()];
    let run = |out: &mut [H], loss: &mut [f32], lse: &mut [f32]| {
        kernels::ce_sparse_fwd_bwd_half(slice(&xc), geo, slice(&lc), &pl.p, Scale::Uniform(pl.scale), loss, lse, out, par)
    };
    let ls = loss.as_slice_mut().expect("fresh");
    match grad.as_slice_mut() {
        Some(out) => run(out, ls, &mut lse),
        None => {
            let mut tmp = ArrayD::from_elem(logits.raw_dim(), H::default());
            run(tmp.as_slice_mut().expect("fresh"), ls, &mut lse);
            grad.assign(&tmp);
        }
    }
    Ok((sum_f64(&loss) / pl.denom) as f32)
}

/// [`cross_entropy_sparse_fused_in_place`] for `f16`/`bf16` logits (`f32` arithmetic,
/// the gradient rounded once to `H`).
///
/// # Errors
/// As [`cross_entropy_sparse_fused`].
///
/// ```
/// use half::bf16;
/// use ndarray::array;
/// use xent::ops::{cross_entropy_sparse_fused_half_in_place, Reduction, SparseOptions};
/// let mut x = array![[bf16::ZERO, bf16::ZERO]].into_dyn();
/// let o = SparseOptions { reduction: Reduction::Sum, ..Default::default() };
/// let l = cross_entropy_sparse_fused_half_in_place(&mut x.view_mut(), 1, &array![0i64].into_dyn().view(), &o, 1.0, xent::Par::Seq).unwrap();
/// assert!((l - 2f32.ln()).abs() < 1e-6);
/// assert_eq!(x, array![[bf16::from_f32(-0.5), bf16::from_f32(0.5)]].into_dyn());
/// ```
pub fn cross_entropy_sparse_fused_half_in_place<H: Half>(
    logits: &mut ArrayViewMutD<'_, H>,
    axis: usize,
    labels: &ArrayViewD<'_, i64>,
    o: &SparseOptions<'_, f32>,
    upstream: f32,
    par: Par,
) -> Result<f32> {
    let op = "cross_entropy";
    if axis >= logits.ndim() {
        return plan(op, logits.shape(), axis, &[], o, upstream).map(|_| 0.0);
    }
    check_labels(op, "target", labels, logits.shape(), axis, o.ignore_index)?;
    let lc = contiguous(labels);
    let pl = plan(op, logits.shape(), axis, slice(&lc), o, upstream)?;
    let geo = geom(logits.shape(), axis);
    let mut loss = try_filled(op, "loss", &reduced_shape(logits.shape(), axis), 0.0f32)?;
    let mut lse = vec![0.0f32; geo.positions()];
    let ls = loss.as_slice_mut().expect("fresh");
    match logits.as_slice_mut() {
        Some(x) => kernels::ce_sparse_fwd_bwd_half_in_place(x, geo, slice(&lc), &pl.p, Scale::Uniform(pl.scale), ls, &mut lse, par),
        None => {
            let mut tmp = logits.as_standard_layout().into_owned();
            let x = tmp.as_slice_mut().expect("standard layout");
            kernels::ce_sparse_fwd_bwd_half_in_place(x, geo, slice(&lc), &pl.p, Scale::Uniform(pl.scale), ls, &mut lse, par);
            logits.assign(&tmp);
        }
    }
    Ok((sum_f64(&loss) / pl.denom) as f32)
}

/// An element type of the one-pass cross-entropy: `f32` and `f64` are computed in
/// themselves, `f16` and `bf16` in `f32` ([`FusedLogit::Acc`]) with the gradient
/// rounded once to the element type.
pub trait FusedLogit: Copy + Send + Sync + 'static {
    /// The type the loss, options and upstream gradient are in.
    type Acc: Float;
    /// [`cross_entropy_sparse_fused`] (or its half-precision twin) for this type.
    ///
    /// # Errors
    /// As [`cross_entropy_sparse_fused`].
    #[allow(clippy::too_many_arguments)] // the loss's inputs, options, upstream scale, output and threads
    fn fused(
        logits: &ArrayViewD<'_, Self>,
        axis: usize,
        labels: &ArrayViewD<'_, i64>,
        o: &SparseOptions<'_, Self::Acc>,
        upstream: Self::Acc,
        grad: &mut ArrayViewMutD<'_, Self>,
        par: Par,
    ) -> Result<Self::Acc>;

    /// [`cross_entropy_sparse_fused_in_place`] (or its half-precision twin) for this type.
    ///
    /// # Errors
    /// As [`cross_entropy_sparse_fused`].
    fn fused_in_place(
        logits: &mut ArrayViewMutD<'_, Self>,
        axis: usize,
        labels: &ArrayViewD<'_, i64>,
        o: &SparseOptions<'_, Self::Acc>,
        upstream: Self::Acc,
        par: Par,
    ) -> Result<Self::Acc>;
}

/// `f32` and `f64` accumulate in themselves: the generic fused kernels as they are.
macro_rules! fused_logit_native {
    ($t:ty) => {
        impl FusedLogit for $t {
            type Acc = $t;
            fn fused(
                logits: &ArrayViewD<'_, $t>,
                axis: usize,
                labels: &ArrayViewD<'_, i64>,
                o: &SparseOptions<'_, $t>,
                upstream: $t,
                grad: &mut ArrayViewMutD<'_, $t>,
                par: Par,
            ) -> Result<$t> {
                cross_entropy_sparse_fused(logits, axis, labels, o, upstream, grad, par)
            }
            fn fused_in_place(
                logits: &mut ArrayViewMutD<'_, $t>,
                axis: usize,
                labels: &ArrayViewD<'_, i64>,
                o: &SparseOptions<'_, $t>,
                upstream: $t,
                par: Par,
            ) -> Result<$t> {
                cross_entropy_sparse_fused_in_place(logits, axis, labels, o, upstream, par)
            }
        }
    };
}

fused_logit_native!(f32);
fused_logit_native!(f64);

macro_rules! fused_half {
    ($($h:ty),*) => {$(
        impl FusedLogit for $h {
            type Acc = f32;
            fn fused(
                logits: &ArrayViewD<'_, $h>,
                axis: usize,
                labels: &ArrayViewD<'_, i64>,
                o: &SparseOptions<'_, f32>,
                upstream: f32,
                grad: &mut ArrayViewMutD<'_, $h>,
                par: Par,
            ) -> Result<f32> {
                cross_entropy_sparse_fused_half(logits, axis, labels, o, upstream, grad, par)
            }
            fn fused_in_place(
                logits: &mut ArrayViewMutD<'_, $h>,
                axis: usize,
                labels: &ArrayViewD<'_, i64>,
                o: &SparseOptions<'_, f32>,
                upstream: f32,
                par: Par,
            ) -> Result<f32> {
                cross_entropy_sparse_fused_half_in_place(logits, axis, labels, o, upstream, par)
            }
        }
    )*};
}
fused_half!(half::f16, half::bf16);

//! Apple's Cut Cross-Entropy package (`cut_cross_entropy` 25.1.1, the
//! `impl="torch_compile"` semantics, which `impl="cce"` computes on GPU) with its
//! names and defaults, mapped onto [`crate::ops::linear_cross_entropy`]. No numerics
//! live here.
//!
//! `linear_cross_entropy(e, c, targets, ignore_index=-100, softcap=None,
//! reduction='mean', shift=False)`: `e` `(…, D)` embeddings, `c` `(C, D)` classifier,
//! `targets` `(…)` class indices; the loss is PyTorch's `cross_entropy` of
//! `softcap·tanh(e·cᵀ / softcap)` (or `e·cᵀ`) over the rows whose target is not
//! `ignore_index`, the mean dividing by their count. With `shift=True` row `t` of each
//! sequence predicts `targets[…, t + 1]` (next-token prediction) and the last row of
//! each sequence is left out; `reduction='none'` then has shape `(…, T − 1)`.
//!
//! Deviations: the gradients are exact, as `impl="torch_compile"` gives them
//! (`impl="cce"` by default skips the gradient blocks whose softmax is below
//! `filter_eps`, which xent does not do; the op table takes `impl` and ignores it, `filter_eps` is not taken); for
//! float16 inputs the logits are computed in float32 without the package's rounding of
//! `e·cᵀ` (and of the soft cap) to float16; the package computes the cross-entropy
//! in float32 whatever the inputs' dtype (`logits.float()`), xent computes float64
//! inputs in float64 (the op table then returns the loss as float32, as the package
//! does; its float64 gradients carry float32 rounding, xent's do not).

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use crate::error::{Error, Result};
use crate::float::Float;
use crate::ops::{self, LinearWants, Reduction};

const OP: &str = "cut_cross_entropy.linear_cross_entropy";

/// Parameters of [`linear_cross_entropy`] with the package's defaults.
#[derive(Debug, Clone)]
pub struct CceArgs {
    /// Targets equal to this are left out (default −100).
    pub ignore_index: i64,
    /// `Some(s)`: logits `s·tanh(z/s)`.
    pub softcap: Option<f64>,
    /// `none`, `mean` (default) or `sum`.
    pub reduction: Reduction,
    /// Next-token prediction: row `t` against `targets[…, t + 1]`.
    pub shift: bool,
    /// xent's chunk budget in bytes ([`ops::LinearCeOptions::chunk_bytes`]).
    pub chunk_bytes: usize,
}

impl Default for CceArgs {
    fn default() -> Self {
        CceArgs { ignore_index: -100, softcap: None, reduction: Reduction::Mean, shift: false, chunk_bytes: ops::DEFAULT_CHUNK_BYTES }
    }
}

/// The loss and the gradients of [`linear_cross_entropy_grad`], shaped as `e` and `c`.
#[derive(Debug, Clone)]
pub struct CceGrads<T> {
    /// The loss.
    pub loss: ArrayD<T>,
    /// `e.grad`.
    pub e: Option<ArrayD<T>>,
    /// `c.grad`.
    pub c: Option<ArrayD<T>>,
}

/// `cut_cross_entropy.linear_cross_entropy(e, c, targets, ignore_index, softcap,
/// reduction, shift)`: see the module docs.
///
/// # Errors
/// [`Error::Shape`] when `e.shape[:-1] != targets.shape`, `c` is not 2-D or its
/// `D` differs from `e`'s, or `shift` is set with 0-d targets; [`Error::Label`] for a
/// target outside `[0, C)` that is not `ignore_index`.
///
/// ```
/// use ndarray::array;
/// use xent::cce::{linear_cross_entropy, CceArgs};
/// let e = array![[[1.0f64, 0.0], [0.0, 1.0], [1.0, 1.0]]].into_dyn(); // (1, 3, 2)
/// let c = array![[0.0, 0.0], [0.0, 0.0]].into_dyn();
/// let t = array![[0i64, 1, 0]].into_dyn();
/// let args = CceArgs { shift: true, ..Default::default() };
/// let l = linear_cross_entropy(&e.view(), &c.view(), &t.view(), &args).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15); // two rows, both ln 2
/// ```
pub fn linear_cross_entropy<T: Float>(
    e: &ArrayViewD<'_, T>,
    c: &ArrayViewD<'_, T>,
    targets: &ArrayViewD<'_, i64>,
    args: &CceArgs,
) -> Result<ArrayD<T>> {
    Ok(imp(e, c, targets, args, None)?.loss)
}

/// Loss and gradients of [`linear_cross_entropy`] given the upstream gradient `g`
/// (0-d, or the loss's shape for `none`): what `e.grad` and `c.grad` hold after
/// `loss.backward(g)` with `impl="torch_compile"`.
///
/// # Errors
/// As [`linear_cross_entropy`], plus [`Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// use xent::cce::{linear_cross_entropy_grad, CceArgs};
/// use xent::ops::LinearWants;
/// let e = array![[2.0f64, 0.0]].into_dyn();
/// let c = array![[0.0, 0.0], [0.0, 0.0]].into_dyn();
/// let t = array![1i64].into_dyn();
/// let g = ndarray::arr0(1.0).into_dyn();
/// let r = linear_cross_entropy_grad(&e.view(), &c.view(), &t.view(), &CceArgs::default(), &g.view(), LinearWants::ALL).unwrap();
/// assert_eq!(r.c.unwrap(), array![[1.0, 0.0], [-1.0, 0.0]].into_dyn());
/// ```
pub fn linear_cross_entropy_grad<T: Float>(
    e: &ArrayViewD<'_, T>,
    c: &ArrayViewD<'_, T>,
    targets: &ArrayViewD<'_, i64>,
    args: &CceArgs,
    g: &ArrayViewD<'_, T>,
    wants: LinearWants,
) -> Result<CceGrads<T>> {
    imp(e, c, targets, args, Some((g, wants)))
}

fn imp<T: Float>(
    e: &ArrayViewD<'_, T>,
    c: &ArrayViewD<'_, T>,
    targets: &ArrayViewD<'_, i64>,
    args: &CceArgs,
    g: Option<(&ArrayViewD<'_, T>, LinearWants)>,
) -> Result<CceGrads<T>> {
    if e.ndim() == 0 || e.shape()[..e.ndim() - 1] != *targets.shape() {
        return Err(Error::shape(
            OP,
            format!("e.size()[0:-1] == targets.size() fails: e has shape {:?}, targets {:?}", e.shape(), targets.shape()),
        ));
    }
    if c.ndim() != 2 {
        return Err(Error::shape(OP, format!("`c` must be (C, D), got shape {:?}", c.shape())));
    }
    let d = c.shape()[1];
    if e.shape()[e.ndim() - 1] != d {
        return Err(Error::shape(OP, format!("e.size(-1) == c.size(1) fails: e has shape {:?}, c {:?}", e.shape(), c.shape())));
    }
    if args.shift && targets.ndim() == 0 {
        return Err(Error::shape(OP, "shift needs targets with a sequence dimension (got 0-d targets)"));
    }
    let rows = targets.len();
    let ig = args.ignore_index;
    // The label of each row of `e`: with `shift`, the next position's target, and the
    // ignore value on the last position of each sequence (that row predicts nothing).
    let flat: Vec<i64> = targets.iter().copied().collect();
    let labels: Vec<i64> = if args.shift {
        let t = targets.shape()[targets.ndim() - 1];
        (0..rows).map(|i| if (i % t.max(1)) + 1 < t { flat[i + 1] } else { ig }).collect()
    } else {
        flat
    };
    let e2 = e.to_shape((rows, d)).map_err(|err| Error::shape(OP, err.to_string()))?;
    let c2 = c.view().into_dimensionality::<ndarray::Ix2>().expect("2-D checked");
    let o = ops::LinearCeOptions {
        ignore_index: Some(ig),
        softcap: args.softcap.map(T::of),
        reduction: args.reduction,
        chunk_bytes: args.chunk_bytes,
        ..Default::default()
    };
    let tgt = ops::LinearTarget::Indices(&labels);
    let par = crate::default_par();
    let batch = targets.shape().to_vec();
    // The `none` output: one loss per position, without each sequence's last with `shift`.
    let mut out_shape = batch.clone();
    if args.shift {
        let last = out_shape.len() - 1;
        out_shape[last] = out_shape[last].saturating_sub(1);
    }
    let shape_none = |l: ArrayD<T>| -> ArrayD<T> {
        let l = l.into_shape_with_order(IxDyn(&batch)).expect("one loss per row");
        if args.shift {
            let last = batch.len() - 1;
            l.slice_axis(ndarray::Axis(last), ndarray::Slice::from(0..out_shape[last])).to_owned()
        } else {
            l
        }
    };
    let rename = |err| crate::tf::rename(err, OP, "targets");
    match g {
        None => {
            let l = ops::linear_cross_entropy(&e2.view(), &c2, &tgt, &o, par).map_err(rename)?;
            let loss = if args.reduction == Reduction::None { shape_none(l) } else { l };
            Ok(CceGrads { loss, e: None, c: None })
        }
        Some((g, wants)) => {
            let up: ArrayD<T> = if args.reduction == Reduction::None {
                if g.shape() != out_shape.as_slice() {
                    return Err(Error::shape(OP, format!("upstream gradient has shape {:?}, the loss has shape {out_shape:?}", g.shape())));
                }
                // Back to one factor per row of `e` (0 on each sequence's last row).
                let mut full = ArrayD::zeros(IxDyn(&batch));
                if args.shift {
                    let last = batch.len() - 1;
                    full.slice_axis_mut(ndarray::Axis(last), ndarray::Slice::from(0..out_shape[last])).assign(g);
                } else {
                    full.assign(g);
                }
                full.into_shape_with_order(IxDyn(&[rows])).expect("rows")
            } else {
                if !g.shape().is_empty() {
                    return Err(Error::shape(OP, format!("upstream gradient has shape {:?}, the loss is 0-d", g.shape())));
                }
                g.to_owned()
            };
            let wants = LinearWants { bias: false, ..wants };
            let r = ops::linear_cross_entropy_vjp(&e2.view(), &c2, &tgt, &o, &up.view(), wants, par).map_err(rename)?;
            let loss = if args.reduction == Reduction::None { shape_none(r.loss) } else { r.loss };
            Ok(CceGrads {
                loss,
                e: r.input.map(|a| a.into_dyn().into_shape_with_order(IxDyn(e.shape())).expect("e's shape")),
                c: r.linear_weight.map(|a| a.into_dyn()),
            })
        }
    }
}

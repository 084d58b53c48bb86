//! The kernels on raw slices, checked: every length against the geometry, every
//! label against the class count and the weights against the classes, before any
//! work. Each returns [`Error`] instead of panicking; the arithmetic is the same
//! kernel's.
//!
//! The core ops ([`crate::ops`]) check shapes once and call the kernels directly;
//! these are for callers that hold contiguous buffers themselves (a training loop
//! with preallocated rows, a benchmark).
//!
//! ```
//! use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
//! let x = [1.0f32, 2.0, 3.0, 0.5, 0.5, 0.5];
//! let (mut loss, mut lse, mut grad) = ([0.0f32; 2], [0.0f32; 2], [0.0f32; 6]);
//! let p = SparseCe::default();
//! checked::ce_sparse_fwd_bwd(&x, Geom::rows(2, 3), &[2, 0], &p, Scale::Uniform(0.5), &mut loss, &mut lse, &mut grad, Par::Seq).unwrap();
//! assert!((loss[1] - 3f32.ln()).abs() < 1e-6);
//! // a label out of range is an error, not a panic
//! let e = checked::ce_sparse_fwd_bwd(&x, Geom::rows(2, 3), &[3, 0], &p, Scale::Uniform(0.5), &mut loss, &mut lse, &mut grad, Par::Seq);
//! assert!(matches!(e, Err(xent::Error::Label { value: 3, .. })));
//! ```

use super::{DenseGrad, Geom, Half, Par, Scale, SparseCe};
use crate::error::{Error, Result};
use crate::float::Float;

/// The element and position counts of `g`, or an error if they overflow `usize`.
fn counts(op: &str, g: Geom) -> Result<(usize, usize)> {
    let positions = g.outer.checked_mul(g.inner);
    let len = positions.and_then(|p| p.checked_mul(g.classes));
    match (len, positions) {
        (Some(l), Some(p)) => Ok((l, p)),
        _ => Err(Error::shape(op, format!("geometry {g:?} has more elements than memory can address"))),
    }
}

fn len(op: &str, name: &str, got: usize, want: usize) -> Result<()> {
    if got != want {
        return Err(Error::shape(op, format!("`{name}` has {got} elements, the geometry needs {want}")));
    }
    Ok(())
}

fn scale_len<T>(op: &str, s: &Scale<'_, T>, positions: usize) -> Result<()> {
    match s {
        Scale::Uniform(_) => Ok(()),
        Scale::PerPosition(v) => len(op, "scale", v.len(), positions),
    }
}

fn weight_len<T>(op: &str, w: Option<&[T]>, classes: usize) -> Result<()> {
    match w {
        Some(w) => len(op, "weight", w.len(), classes),
        None => Ok(()),
    }
}

/// The buffers of a class-index cross-entropy, checked in this order: [`sparse`]'s
/// checks, `x` (and `grad`, where there is one) of the geometry's length, `loss`
/// (where there is one) and `lse` one per position, a per-position `scale` one per
/// position.
#[allow(clippy::too_many_arguments)] // each buffer is checked by its own name
fn sparse_bufs<T>(
    op: &str,
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    x: usize,
    grad: Option<usize>,
    loss: Option<usize>,
    lse: usize,
    scale: Option<&Scale<'_, T>>,
) -> Result<()> {
    let n = sparse(op, g, labels, p)?;
    len(op, "x", x, n)?;
    if let Some(grad) = grad {
        len(op, "grad", grad, n)?;
    }
    if let Some(loss) = loss {
        len(op, "loss", loss, labels.len())?;
    }
    len(op, "lse", lse, labels.len())?;
    match scale {
        Some(s) => scale_len(op, s, labels.len()),
        None => Ok(()),
    }
}

/// Labels in `[0, classes)` or equal to the ignore index, the weights of length
/// `classes`, the label count the number of positions.
fn sparse<T>(op: &str, g: Geom, labels: &[i64], p: &SparseCe<'_, T>) -> Result<usize> {
    let (n, positions) = counts(op, g)?;
    len(op, "labels", labels.len(), positions)?;
    weight_len(op, p.weight, g.classes)?;
    for (i, &v) in labels.iter().enumerate() {
        if Some(v) != p.ignore_index && (v < 0 || v as u64 >= g.classes as u64) {
            return Err(Error::Label {
                op: op.into(),
                input: "labels".into(),
                index: i,
                value: v,
                classes: g.classes,
                extra: p.ignore_index.map(|ig| format!(" (and is not the ignore value {ig})")).unwrap_or_default(),
            });
        }
    }
    Ok(n)
}

/// Softmax over the class axis, `out = exp(x − m) / Σ exp(x − m)`; checked.
///
/// # Errors
/// [`Error::Shape`] if `x` or `out` does not have `g.len()` elements.
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let g = Geom::rows(1, 2);
/// let mut y = [0.0f64; 2];
/// checked::softmax(&[0.0, 0.0], g, &mut y, Par::Seq).unwrap();
/// assert_eq!(y, [0.5, 0.5]);
/// assert!(checked::softmax(&[0.0, 0.0], g, &mut [0.0; 3], Par::Seq).is_err());
/// ```
pub fn softmax<T: Float>(x: &[T], g: Geom, out: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::softmax";
    let (n, _) = counts(op, g)?;
    len(op, "x", x.len(), n)?;
    len(op, "out", out.len(), n)?;
    super::softmax(x, g, out, par);
    Ok(())
}

/// Log-softmax over the class axis, `out = (x − m) − ln Σ exp(x − m)`; checked.
///
/// # Errors
/// As [`softmax`].
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let g = Geom::rows(1, 2);
/// let mut y = [0.0f64; 2];
/// checked::log_softmax(&[0.0, 0.0], g, &mut y, Par::Seq).unwrap();
/// assert_eq!(y, [-2f64.ln(), -2f64.ln()]);
/// ```
pub fn log_softmax<T: Float>(x: &[T], g: Geom, out: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::log_softmax";
    let (n, _) = counts(op, g)?;
    len(op, "x", x.len(), n)?;
    len(op, "out", out.len(), n)?;
    super::log_softmax(x, g, out, par);
    Ok(())
}

/// Log-sum-exp over the class axis, one value per position; checked.
///
/// # Errors
/// [`Error::Shape`] if `x` does not have `g.len()` elements or `out` `g.positions()`.
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let g = Geom::rows(1, 2);
/// let mut l = [0.0f64; 1];
/// checked::logsumexp(&[0.0, 0.0], g, &mut l, Par::Seq).unwrap();
/// assert_eq!(l, [2f64.ln()]);
/// ```
pub fn logsumexp<T: Float>(x: &[T], g: Geom, out: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::logsumexp";
    let (n, positions) = counts(op, g)?;
    len(op, "x", x.len(), n)?;
    len(op, "out", out.len(), positions)?;
    super::logsumexp(x, g, out, par);
    Ok(())
}

/// Softmax VJP, `out = y ∘ (gy − Σ gy·y)` (`y` the softmax output); checked.
///
/// # Errors
/// [`Error::Shape`] if `y`, `gy` or `out` does not have `g.len()` elements.
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let g = Geom::rows(1, 2);
/// let mut dx = [0.0f64; 2];
/// checked::softmax_bwd(&[0.5, 0.5], &[1.0, 0.0], g, &mut dx, Par::Seq).unwrap();
/// assert_eq!(dx, [0.25, -0.25]);
/// ```
pub fn softmax_bwd<T: Float>(y: &[T], gy: &[T], g: Geom, out: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::softmax_bwd";
    let (n, _) = counts(op, g)?;
    for (name, l) in [("y", y.len()), ("gy", gy.len()), ("out", out.len())] {
        len(op, name, l, n)?;
    }
    super::softmax_bwd(y, gy, g, out, par);
    Ok(())
}

/// Log-softmax VJP, `out = gy − exp(y)·Σ gy` (`y` the log-softmax output); checked.
///
/// # Errors
/// As [`softmax_bwd`].
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let g = Geom::rows(1, 2);
/// let mut dx = [0.0f64; 2];
/// checked::log_softmax_bwd(&[0.5f64.ln(), 0.5f64.ln()], &[1.0, 0.0], g, &mut dx, Par::Seq).unwrap();
/// assert!((dx[0] - 0.5).abs() < 1e-15 && (dx[1] + 0.5).abs() < 1e-15);
/// ```
pub fn log_softmax_bwd<T: Float>(y: &[T], gy: &[T], g: Geom, out: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::log_softmax_bwd";
    let (n, _) = counts(op, g)?;
    for (name, l) in [("y", y.len()), ("gy", gy.len()), ("out", out.len())] {
        len(op, name, l, n)?;
    }
    super::log_softmax_bwd(y, gy, g, out, par);
    Ok(())
}

/// Log-softmax VJP from the input `x` (the softmax recomputed from `x`, more
/// accurate than from the rounded forward output); checked.
///
/// # Errors
/// As [`softmax_bwd`].
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let mut dx = [0.0f64; 2];
/// checked::log_softmax_bwd_from_input(&[0.0, 0.0], &[1.0, 0.0], Geom::rows(1, 2), &mut dx, Par::Seq).unwrap();
/// assert_eq!(dx, [0.5, -0.5]);
/// ```
pub fn log_softmax_bwd_from_input<T: Float>(x: &[T], gy: &[T], g: Geom, out: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::log_softmax_bwd_from_input";
    let (n, _) = counts(op, g)?;
    for (name, l) in [("x", x.len()), ("gy", gy.len()), ("out", out.len())] {
        len(op, name, l, n)?;
    }
    super::log_softmax_bwd_from_input(x, gy, g, out, par);
    Ok(())
}

/// Class-index cross-entropy forward (PyTorch's weights, smoothing, ignore index): `loss` and `lse` per position; checked.
///
/// # Errors
/// [`Error::Shape`] for a buffer of the wrong length or a weight not of length
/// `classes`; [`Error::Label`] for a label outside `[0, classes)` that is not
/// `p.ignore_index`.
///
/// ```
/// use xent::kernels::{checked, Geom, Par, SparseCe};
/// let (mut loss, mut lse) = ([0.0f64; 1], [0.0f64; 1]);
/// checked::ce_sparse_fwd(&[0.0, 0.0], Geom::rows(1, 2), &[1], &SparseCe::default(), &mut loss, &mut lse, Par::Seq).unwrap();
/// assert_eq!(loss, [2f64.ln()]);
/// ```
pub fn ce_sparse_fwd<T: Float>(
    x: &[T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    loss: &mut [T],
    lse: &mut [T],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_fwd";
    sparse_bufs(op, g, labels, p, x.len(), None, Some(loss.len()), lse.len(), None)?;
    super::ce_sparse_fwd(x, g, labels, p, loss, lse, par);
    Ok(())
}

/// Class-index cross-entropy backward given the forward's `lse`: `grad = scale·((1 − ε)·w_y·(softmax − onehot) + (ε/C)·(softmax·Σw − w))`; checked.
///
/// # Errors
/// As [`ce_sparse_fwd`].
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
/// let mut dx = [0.0f64; 2];
/// let lse = [2f64.ln()];
/// checked::ce_sparse_bwd(&[0.0, 0.0], Geom::rows(1, 2), &[1], &SparseCe::default(), &lse, Scale::Uniform(1.0), &mut dx, Par::Seq).unwrap();
/// assert_eq!(dx, [0.5, -0.5]);
/// ```
pub fn ce_sparse_bwd<T: Float>(
    x: &[T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    lse: &[T],
    scale: Scale<'_, T>,
    grad: &mut [T],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_bwd";
    sparse_bufs(op, g, labels, p, x.len(), Some(grad.len()), None, lse.len(), Some(&scale))?;
    super::ce_sparse_bwd(x, g, labels, p, lse, scale, grad, par);
    Ok(())
}

/// Fused class-index cross-entropy forward and backward (one read of the logits from memory): `loss`, `lse` and `grad`; checked.
///
/// # Errors
/// As [`ce_sparse_fwd`].
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
/// let (mut loss, mut lse, mut dx) = ([0.0f64; 1], [0.0; 1], [0.0; 2]);
/// checked::ce_sparse_fwd_bwd(&[0.0, 0.0], Geom::rows(1, 2), &[0], &SparseCe::default(), Scale::Uniform(1.0), &mut loss, &mut lse, &mut dx, Par::Seq).unwrap();
/// assert_eq!((loss, dx), ([2f64.ln()], [-0.5, 0.5]));
/// ```
pub fn ce_sparse_fwd_bwd<T: Float>(
    x: &[T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    scale: Scale<'_, T>,
    loss: &mut [T],
    lse: &mut [T],
    grad: &mut [T],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_fwd_bwd";
    sparse_bufs(op, g, labels, p, x.len(), Some(grad.len()), Some(loss.len()), lse.len(), Some(&scale))?;
    super::ce_sparse_fwd_bwd(x, g, labels, p, scale, loss, lse, grad, par);
    Ok(())
}

/// [`ce_sparse_fwd_bwd`] that overwrites the logits `x` with the gradient; checked.
///
/// # Errors
/// As [`ce_sparse_fwd`].
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
/// let mut x = [0.0f64, 0.0];
/// let (mut loss, mut lse) = ([0.0; 1], [0.0; 1]);
/// checked::ce_sparse_fwd_bwd_in_place(&mut x, Geom::rows(1, 2), &[0], &SparseCe::default(), Scale::Uniform(1.0), &mut loss, &mut lse, Par::Seq).unwrap();
/// assert_eq!(x, [-0.5, 0.5]);
/// ```
pub fn ce_sparse_fwd_bwd_in_place<T: Float>(
    x: &mut [T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    scale: Scale<'_, T>,
    loss: &mut [T],
    lse: &mut [T],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_fwd_bwd_in_place";
    sparse_bufs(op, g, labels, p, x.len(), None, Some(loss.len()), lse.len(), Some(&scale))?;
    super::ce_sparse_fwd_bwd_in_place(x, g, labels, p, scale, loss, lse, par);
    Ok(())
}

/// Probability-target cross-entropy forward, `loss = Σ_c w_c t_c (lse − x_c)`, plus `lse`; checked.
///
/// # Errors
/// [`Error::Shape`] for a buffer of the wrong length or a weight not of length `classes`.
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use xent::kernels::{checked, Geom, Par};
/// let (mut loss, mut lse) = ([0.0f64; 1], [0.0; 1]);
/// checked::ce_dense_fwd(&[0.0, 0.0], &[0.5, 0.5], Geom::rows(1, 2), None, &mut loss, &mut lse, Par::Seq).unwrap();
/// assert_eq!(loss, [2f64.ln()]);
/// ```
pub fn ce_dense_fwd<T: Float>(x: &[T], t: &[T], g: Geom, weight: Option<&[T]>, loss: &mut [T], lse: &mut [T], par: Par) -> Result<()> {
    let op = "kernels::ce_dense_fwd";
    let (n, positions) = counts(op, g)?;
    len(op, "x", x.len(), n)?;
    len(op, "t", t.len(), n)?;
    len(op, "loss", loss.len(), positions)?;
    len(op, "lse", lse.len(), positions)?;
    weight_len(op, weight, g.classes)?;
    super::ce_dense_fwd(x, t, g, weight, loss, lse, par);
    Ok(())
}

/// Probability-target cross-entropy backward (the row's log-sum-exp recomputed in the pass), `grad = scale·(softmax·a − w ∘ t)` (`a = 1` for [`DenseGrad::Kernel`], `Σ w t` for [`DenseGrad::Exact`]); checked.
///
/// # Errors
/// As [`ce_dense_fwd`], plus [`Error::Param`] for a weight with [`DenseGrad::Kernel`].
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use xent::kernels::{checked, DenseGrad, Geom, Par, Scale};
/// let mut dx = [0.0f64; 2];
/// checked::ce_dense_bwd(&[0.0, 0.0], &[1.0, 0.0], Geom::rows(1, 2), None, DenseGrad::Exact, Scale::Uniform(1.0), &mut dx, Par::Seq).unwrap();
/// assert_eq!(dx, [-0.5, 0.5]);
/// ```
pub fn ce_dense_bwd<T: Float>(
    x: &[T],
    t: &[T],
    g: Geom,
    weight: Option<&[T]>,
    mode: DenseGrad,
    scale: Scale<'_, T>,
    grad: &mut [T],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_dense_bwd";
    let (n, positions) = counts(op, g)?;
    for (name, l) in [("x", x.len()), ("t", t.len()), ("grad", grad.len())] {
        len(op, name, l, n)?;
    }
    weight_len(op, weight, g.classes)?;
    scale_len(op, &scale, positions)?;
    if mode == DenseGrad::Kernel && weight.is_some() {
        return Err(Error::param(op, "weight", "TensorFlow's fused kernel gradient (DenseGrad::Kernel) takes no class weights"));
    }
    super::ce_dense_bwd(x, t, g, weight, mode, scale, grad, par);
    Ok(())
}

/// [`softmax`] of `f16`/`bf16` data: max, exps and sum in `f32`, each output rounded
/// once to the input type (nearest-even), as PyTorch 2.15's CPU softmax of a half
/// tensor (it widens to `f32` and rounds the result once); checked. Against the `f32`
/// softmax of the widened input rounded to `H`, every ISA's result is within 1 ulp of
/// `H` (equal except where the `f32` values, a few `f32` ulps apart between ISAs, fall
/// on either side of a rounding boundary of `H`).
///
/// # Errors
/// As [`softmax`].
///
/// ```
/// use half::{bf16, f16};
/// use xent::kernels::{checked, Geom, Par};
/// let x = [f16::from_f32(1.0), f16::from_f32(2.0), f16::from_f32(3.0)];
/// let mut y = [f16::ZERO; 3];
/// checked::softmax_half(&x, Geom::rows(1, 3), &mut y, Par::Seq).unwrap();
/// // torch.softmax(torch.tensor([1., 2., 3.], dtype=torch.float16), 0)
/// assert_eq!(y.map(f16::to_f32), [0.09002685546875, 0.2447509765625, 0.6650390625]);
/// let x = [bf16::from_f32(0.0); 4];
/// let mut y = [bf16::ZERO; 4];
/// checked::softmax_half(&x, Geom::rows(1, 4), &mut y, Par::Seq).unwrap();
/// assert_eq!(y, [bf16::from_f32(0.25); 4]);
/// assert!(checked::softmax_half(&x, Geom::rows(1, 3), &mut y, Par::Seq).is_err());
/// ```
pub fn softmax_half<H: Half>(x: &[H], g: Geom, out: &mut [H], par: Par) -> Result<()> {
    let op = "kernels::softmax_half";
    let (n, _) = counts(op, g)?;
    len(op, "x", x.len(), n)?;
    len(op, "out", out.len(), n)?;
    super::softmax_half(x, g, out, par);
    Ok(())
}

/// [`log_softmax`] of `f16`/`bf16` data: `(x − m) − ln Σ exp(x − m)` in `f32`, rounded
/// once to the input type; checked. Within 1 ulp of `H` of the rounded `f32`
/// log-softmax on every ISA (see [`softmax_half`]). PyTorch 2.15's CPU log-softmax of
/// a half tensor agrees on most elements; where it differs (1–8 % of elements in
/// `tests/half_softmax.rs`), xent's value is the closer to the exact one.
///
/// # Errors
/// As [`softmax`].
///
/// ```
/// use half::f16;
/// use xent::kernels::{checked, Geom, Par};
/// let x = [f16::from_f32(1.0), f16::from_f32(2.0), f16::from_f32(3.0)];
/// let mut y = [f16::ZERO; 3];
/// checked::log_softmax_half(&x, Geom::rows(1, 3), &mut y, Par::Seq).unwrap();
/// // the exact values rounded once; PyTorch 2.15 gives -0.407470703125 for the last
/// // (1 ulp further from the exact -0.4076059...: its half log-softmax is not the
/// // float32 one rounded once)
/// assert_eq!(y.map(f16::to_f32), [-2.408203125, -1.4072265625, -0.40771484375]);
/// ```
pub fn log_softmax_half<H: Half>(x: &[H], g: Geom, out: &mut [H], par: Par) -> Result<()> {
    let op = "kernels::log_softmax_half";
    let (n, _) = counts(op, g)?;
    len(op, "x", x.len(), n)?;
    len(op, "out", out.len(), n)?;
    super::log_softmax_half(x, g, out, par);
    Ok(())
}

/// [`ce_sparse_fwd`] for `f16`/`bf16` logits (`f32` arithmetic); checked.
///
/// # Errors
/// As [`ce_sparse_fwd`].
///
/// ```
/// use half::f16;
/// use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
/// let x = [f16::ZERO, f16::ZERO];
/// let (mut loss, mut lse) = ([0.0f32; 1], [0.0f32; 1]);
/// checked::ce_sparse_fwd_half(&x, Geom::rows(1, 2), &[1], &SparseCe::default(), &mut loss, &mut lse, Par::Seq).unwrap();
/// assert!((loss[0] - 2f32.ln()).abs() < 1e-6);
/// ```
pub fn ce_sparse_fwd_half<H: Half>(
    x: &[H],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_fwd_half";
    sparse_bufs(op, g, labels, p, x.len(), None, Some(loss.len()), lse.len(), None)?;
    super::ce_sparse_fwd_half(x, g, labels, p, loss, lse, par);
    Ok(())
}

/// [`ce_sparse_fwd_bwd`] for `f16`/`bf16` logits (`f32` arithmetic, the gradient rounded once); checked.
///
/// # Errors
/// As [`ce_sparse_fwd`].
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use half::f16;
/// use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
/// let x = [f16::ZERO, f16::ZERO];
/// let (mut loss, mut lse) = ([0.0f32; 1], [0.0f32; 1]);
/// let mut dx = [f16::ZERO; 2];
/// checked::ce_sparse_fwd_bwd_half(&x, Geom::rows(1, 2), &[1], &SparseCe::default(), Scale::Uniform(1.0), &mut loss, &mut lse, &mut dx, Par::Seq).unwrap();
/// assert_eq!(dx, [f16::from_f32(0.5), f16::from_f32(-0.5)]);
/// ```
pub fn ce_sparse_fwd_bwd_half<H: Half>(
    x: &[H],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, f32>,
    scale: Scale<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    grad: &mut [H],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_fwd_bwd_half";
    sparse_bufs(op, g, labels, p, x.len(), Some(grad.len()), Some(loss.len()), lse.len(), Some(&scale))?;
    super::ce_sparse_fwd_bwd_half(x, g, labels, p, scale, loss, lse, grad, par);
    Ok(())
}

/// [`ce_sparse_fwd_bwd_in_place`] for `f16`/`bf16` logits; checked.
///
/// # Errors
/// As [`ce_sparse_fwd`].
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
///
/// ```
/// use half::f16;
/// use xent::kernels::{checked, Geom, Par, Scale, SparseCe};
/// let x = [f16::ZERO, f16::ZERO];
/// let (mut loss, mut lse) = ([0.0f32; 1], [0.0f32; 1]);
/// let mut x = x;
/// checked::ce_sparse_fwd_bwd_half_in_place(&mut x, Geom::rows(1, 2), &[1], &SparseCe::default(), Scale::Uniform(1.0), &mut loss, &mut lse, Par::Seq).unwrap();
/// assert_eq!(x, [f16::from_f32(0.5), f16::from_f32(-0.5)]);
/// ```
pub fn ce_sparse_fwd_bwd_half_in_place<H: Half>(
    x: &mut [H],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, f32>,
    scale: Scale<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    par: Par,
) -> Result<()> {
    let op = "kernels::ce_sparse_fwd_bwd_half_in_place";
    sparse_bufs(op, g, labels, p, x.len(), None, Some(loss.len()), lse.len(), Some(&scale))?;
    super::ce_sparse_fwd_bwd_half_in_place(x, g, labels, p, scale, loss, lse, par);
    Ok(())
}

//! softmax, log_softmax, logsumexp, sigmoid, log_sigmoid, one_hot.

use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn, Zip};

use super::{check_grad, same_shape};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::kernels::{self, Half, Par};
use crate::layout::{contiguous, geom, reduced_shape, slice};

fn out_slice<'a, T>(op: &str, out: &'a mut ArrayViewMutD<'_, T>) -> Result<&'a mut [T]> {
    out.as_slice_mut().ok_or_else(|| Error::shape(op, "output buffer must be contiguous (standard layout)"))
}

/// Softmax along `axis`: `softmax(x)_c = exp(x_c − m) / Σ_k exp(x_k − m)`, `m = max_k x_k`.
///
/// Mirrors `tf.nn.softmax` and `torch.softmax` (both CPU kernels compute the reciprocal
/// of the sum and multiply, as here). A row containing NaN or `+inf`, or only `−inf`,
/// gives a NaN row; `−inf` entries beside a finite one give exactly 0.
///
/// # Panics
/// If `axis >= x.ndim()` (normalise it first with [`crate::layout::normalize_axis`]).
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::softmax(&array![[1.0f64, 2.0, 3.0]].into_dyn().view(), 1, xent::Par::Seq);
/// assert!((y.sum() - 1.0).abs() < 1e-15);
/// assert!((y[[0, 2]] - 0.6652409557748219).abs() < 1e-15);
/// ```
pub fn softmax<T: Float>(x: &ArrayViewD<'_, T>, axis: usize, par: Par) -> ArrayD<T> {
    let mut out = ArrayD::zeros(x.raw_dim());
    softmax_into(x, axis, &mut out.view_mut(), par).expect("fresh output has the right shape");
    out
}

/// [`softmax`] into a caller buffer of the same shape.
///
/// # Errors
/// [`Error::Shape`] if `out` has another shape or is not contiguous.
///
/// ```
/// use ndarray::{array, ArrayD, IxDyn};
/// let x = array![[0.0f32, 0.0]].into_dyn();
/// let mut out = ArrayD::zeros(IxDyn(&[1, 2]));
/// xent::ops::softmax_into(&x.view(), 1, &mut out.view_mut(), xent::Par::Seq).unwrap();
/// assert_eq!(out, array![[0.5f32, 0.5]].into_dyn());
/// let mut wrong = ArrayD::<f32>::zeros(IxDyn(&[2, 1]));
/// assert!(xent::ops::softmax_into(&x.view(), 1, &mut wrong.view_mut(), xent::Par::Seq).is_err());
/// ```
pub fn softmax_into<T: Float>(x: &ArrayViewD<'_, T>, axis: usize, out: &mut ArrayViewMutD<'_, T>, par: Par) -> Result<()> {
    same_shape("softmax", "x", x.shape(), "out", out.shape())?;
    if x.is_empty() {
        // Nothing to write; the driver would still walk every (empty) row, and a
        // shape like (2^40, 0) has a trillion of them.
        return Ok(());
    }
    let xc = contiguous(x);
    kernels::softmax(slice(&xc), geom(x.shape(), axis), out_slice("softmax", out)?, par);
    Ok(())
}

/// Softmax VJP: `dx = y ∘ (g − Σ_axis g·y)`, `y = softmax(x)` (TF `_SoftmaxGrad`,
/// PyTorch `_softmax_backward_data`), evaluated as `y ∘ (g − Σ g·y / Σ y)`: the same
/// value when `Σ y = 1`, and a constant `g` (the gradient of `sum(softmax)`) gives
/// exactly 0, where the plain form leaves noise of `|g|·eps` from the rounding of `Σ y`.
///
/// # Errors
/// [`Error::Shape`] if `g` and `y` differ in shape.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.5f64, -1.0]].into_dyn();
/// let y = xent::ops::softmax(&x.view(), 1, xent::Par::Seq);
/// let g = array![[1.0f64, 1.0]].into_dyn(); // d(sum softmax) = 0
/// let dx = xent::ops::softmax_vjp(&y.view(), &g.view(), 1, xent::Par::Seq).unwrap();
/// assert!(dx.iter().all(|v| v.abs() < 1e-15));
/// ```
pub fn softmax_vjp<T: Float>(y: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>, axis: usize, par: Par) -> Result<ArrayD<T>> {
    check_grad("softmax", g.shape(), y.shape())?;
    let mut out = ArrayD::zeros(y.raw_dim());
    if y.is_empty() {
        return Ok(out); // see softmax_into
    }
    let (yc, gc) = (contiguous(y), contiguous(g));
    kernels::softmax_bwd(slice(&yc), slice(&gc), geom(y.shape(), axis), out.as_slice_mut().expect("fresh"), par);
    Ok(out)
}

/// Softmax VJP from the input: [`softmax_vjp`] on `y = softmax(x)`, the same values bit
/// for bit. An upstream `g` that is a broadcast of one value (`arr0(1.0).broadcast(..)`,
/// the gradient of `sum(softmax)`) is never copied: the softmax is written into the
/// result and turned into the gradient in place, so the peak memory is the input and
/// the result; any other `g` costs one more array of the input's size (`y`).
///
/// # Errors
/// [`Error::Shape`] if `g` and `x` differ in shape.
///
/// # Panics
/// If `axis >= x.ndim()`.
///
/// ```
/// use ndarray::{arr0, array, IxDyn};
/// let x = array![[0.5f64, -1.0, 2.0]].into_dyn();
/// let one = arr0(1.0f64).into_dyn();
/// let ones = one.broadcast(IxDyn(&[1, 3])).unwrap();
/// let dx = xent::ops::softmax_vjp_from_input(&x.view(), &ones, 1, xent::Par::Seq).unwrap();
/// assert!(dx.iter().all(|&v| v == 0.0)); // d(sum softmax) = 0
/// let g = array![[1.0f64, 0.0, 0.0]].into_dyn();
/// let y = xent::ops::softmax(&x.view(), 1, xent::Par::Seq);
/// let want = xent::ops::softmax_vjp(&y.view(), &g.view(), 1, xent::Par::Seq).unwrap();
/// assert_eq!(xent::ops::softmax_vjp_from_input(&x.view(), &g.view(), 1, xent::Par::Seq).unwrap(), want);
/// ```
pub fn softmax_vjp_from_input<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>, axis: usize, par: Par) -> Result<ArrayD<T>> {
    check_grad("softmax", g.shape(), x.shape())?;
    let Some(c) = super::broadcast_const(g) else {
        let y = softmax(x, axis, par);
        return softmax_vjp(&y.view(), g, axis, par);
    };
    let mut out = softmax(x, axis, par);
    if !out.is_empty() {
        let o = out.as_slice_mut().expect("fresh");
        kernels::softmax_bwd_const_in_place(o, c, geom(x.shape(), axis), par);
    }
    Ok(out)
}

/// Log-softmax along `axis`: `x_c − m − ln Σ_k exp(x_k − m)`.
///
/// Mirrors `tf.nn.log_softmax` and `torch.log_softmax`. Finite wherever softmax
/// underflows to 0 (that is why frameworks prefer it to `log(softmax(x))`).
///
/// # Panics
/// If `axis >= x.ndim()`.
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::log_softmax(&array![[0.0f32, 200.0]].into_dyn().view(), 1, xent::Par::Seq);
/// assert_eq!(y[[0, 0]], -200.0); // log(softmax) would be -inf
/// ```
pub fn log_softmax<T: Float>(x: &ArrayViewD<'_, T>, axis: usize, par: Par) -> ArrayD<T> {
    let mut out = ArrayD::zeros(x.raw_dim());
    log_softmax_into(x, axis, &mut out.view_mut(), par).expect("fresh output has the right shape");
    out
}

/// [`log_softmax`] into a caller buffer of the same shape.
///
/// # Errors
/// [`Error::Shape`] if `out` has another shape or is not contiguous.
///
/// ```
/// use ndarray::{array, ArrayD, IxDyn};
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let mut out = ArrayD::zeros(IxDyn(&[1, 2]));
/// xent::ops::log_softmax_into(&x.view(), 1, &mut out.view_mut(), xent::Par::Seq).unwrap();
/// assert_eq!(out, array![[-(2f64.ln()), -(2f64.ln())]].into_dyn());
/// ```
pub fn log_softmax_into<T: Float>(x: &ArrayViewD<'_, T>, axis: usize, out: &mut ArrayViewMutD<'_, T>, par: Par) -> Result<()> {
    same_shape("log_softmax", "x", x.shape(), "out", out.shape())?;
    if x.is_empty() {
        return Ok(()); // see softmax_into
    }
    let xc = contiguous(x);
    kernels::log_softmax(slice(&xc), geom(x.shape(), axis), out_slice("log_softmax", out)?, par);
    Ok(())
}

/// Log-softmax VJP: `dx = g − exp(y) · Σ_axis g`, `y = log_softmax(x)` (TF
/// `_LogSoftmaxGrad`, PyTorch `_log_softmax_backward_data`).
///
/// # Errors
/// [`Error::Shape`] if `g` and `y` differ in shape.
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::log_softmax(&array![[0.0f64, 0.0]].into_dyn().view(), 1, xent::Par::Seq);
/// let g = array![[1.0f64, 0.0]].into_dyn();
/// let dx = xent::ops::log_softmax_vjp(&y.view(), &g.view(), 1, xent::Par::Seq).unwrap();
/// assert_eq!(dx, array![[0.5, -0.5]].into_dyn());
/// ```
pub fn log_softmax_vjp<T: Float>(y: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>, axis: usize, par: Par) -> Result<ArrayD<T>> {
    check_grad("log_softmax", g.shape(), y.shape())?;
    let mut out = ArrayD::zeros(y.raw_dim());
    if y.is_empty() {
        return Ok(out); // see softmax_into
    }
    let (yc, gc) = (contiguous(y), contiguous(g));
    kernels::log_softmax_bwd(slice(&yc), slice(&gc), geom(y.shape(), axis), out.as_slice_mut().expect("fresh"), par);
    Ok(out)
}

/// Log-softmax VJP from the input: `dx = g − softmax(x) · Σ_axis g`, the value of
/// [`log_softmax_vjp`] on `y = log_softmax(x)`, with the softmax recomputed from `x`
/// (the rounding of `x − max − ln Σ` folded back in) and `Σ g` compensated: each
/// element to about an ulp of `softmax`, where `exp` of the rounded `y` is off by
/// `|y|·eps/2` relative, which `g − p·Σ g` magnifies where it nearly cancels.
/// An upstream `g` that is a broadcast of one value (the gradient of
/// `sum(log_softmax)`) is never copied: the peak memory is the input and the result.
///
/// # Errors
/// [`Error::Shape`] if `g` and `x` differ in shape.
///
/// ```
/// use ndarray::array;
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let dx = xent::ops::log_softmax_vjp_from_input(&x.view(), &array![[1.0f64, 0.0]].into_dyn().view(), 1, xent::Par::Seq).unwrap();
/// assert_eq!(dx, array![[0.5, -0.5]].into_dyn());
/// ```
pub fn log_softmax_vjp_from_input<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>, axis: usize, par: Par) -> Result<ArrayD<T>> {
    check_grad("log_softmax", g.shape(), x.shape())?;
    let mut out = ArrayD::zeros(x.raw_dim());
    if x.is_empty() {
        return Ok(out); // see softmax_into
    }
    let xc = contiguous(x);
    let o = out.as_slice_mut().expect("fresh");
    match super::broadcast_const(g) {
        Some(c) => kernels::log_softmax_bwd_from_input_const(slice(&xc), c, geom(x.shape(), axis), o, par),
        None => kernels::log_softmax_bwd_from_input(slice(&xc), slice(&contiguous(g)), geom(x.shape(), axis), o, par),
    }
    Ok(out)
}

/// [`softmax`] of `half::f16`/`half::bf16` data: max, exps and sums in `f32`, each
/// result rounded once to the input type (nearest-even), as PyTorch 2.15's CPU
/// softmax of a half tensor computes it (see [`crate::kernels::checked::softmax_half`]
/// for the accuracy).
///
/// # Panics
/// If `axis >= x.ndim()`.
///
/// ```
/// use half::bf16;
/// use ndarray::array;
/// let x = array![[bf16::from_f32(0.0), bf16::from_f32(0.0)]].into_dyn();
/// let y = xent::ops::softmax_half(&x.view(), 1, xent::Par::Seq);
/// assert_eq!(y, array![[bf16::from_f32(0.5), bf16::from_f32(0.5)]].into_dyn());
/// ```
pub fn softmax_half<H: Half>(x: &ArrayViewD<'_, H>, axis: usize, par: Par) -> ArrayD<H> {
    let mut out = ArrayD::from_elem(x.raw_dim(), H::default());
    if !x.is_empty() {
        let xc = contiguous(x);
        kernels::softmax_half(slice(&xc), geom(x.shape(), axis), out.as_slice_mut().expect("fresh"), par);
    }
    out
}

/// [`log_softmax`] of `half::f16`/`half::bf16` data: `(x − m) − ln Σ exp(x − m)` in
/// `f32`, rounded once to the input type (PyTorch 2.15's CPU log-softmax of a half
/// tensor is not always rounded once: where the two differ, xent is the closer to the
/// exact value; see [`crate::kernels::checked::log_softmax_half`]).
///
/// # Panics
/// If `axis >= x.ndim()`.
///
/// ```
/// use half::f16;
/// use ndarray::array;
/// let x = array![f16::from_f32(0.0), f16::from_f32(0.0)].into_dyn();
/// let y = xent::ops::log_softmax_half(&x.view(), 0, xent::Par::Seq);
/// assert_eq!(y[[0]], f16::from_f32(-std::f32::consts::LN_2));
/// ```
pub fn log_softmax_half<H: Half>(x: &ArrayViewD<'_, H>, axis: usize, par: Par) -> ArrayD<H> {
    let mut out = ArrayD::from_elem(x.raw_dim(), H::default());
    if !x.is_empty() {
        let xc = contiguous(x);
        kernels::log_softmax_half(slice(&xc), geom(x.shape(), axis), out.as_slice_mut().expect("fresh"), par);
    }
    out
}

/// Log-sum-exp along `axis` (the axis is removed): `m + ln Σ_k exp(x_k − m)`.
///
/// Mirrors `tf.math.reduce_logsumexp` / `torch.logsumexp` for one axis.
///
/// # Panics
/// If `axis >= x.ndim()`.
///
/// ```
/// use ndarray::array;
/// let l = xent::ops::logsumexp(&array![[1000.0f64, 1000.0]].into_dyn().view(), 1, xent::Par::Seq);
/// assert!((l[[0]] - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// ```
pub fn logsumexp<T: Float>(x: &ArrayViewD<'_, T>, axis: usize, par: Par) -> ArrayD<T> {
    let xc = contiguous(x);
    let mut out = ArrayD::zeros(IxDyn(&reduced_shape(x.shape(), axis)));
    kernels::logsumexp(slice(&xc), geom(x.shape(), axis), out.as_slice_mut().expect("fresh"), par);
    out
}

/// Logistic sigmoid, element-wise: `σ(x) = 1 / (1 + e^{−x})`, evaluated as
/// `e^{x} / (1 + e^{x})` for `x < 0` so that neither branch overflows.
///
/// Mirrors `tf.math.sigmoid` to within a few ulp (TF clamps at 16.6355 so that its
/// result is exactly 1.0f there). `torch.sigmoid`, which computes `1/(1 + e^{−x})`
/// and so is 0 where that exp overflows, is [`sigmoid_recip`].
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::sigmoid(&array![0.0f32, 100.0, -100.0].into_dyn().view());
/// assert_eq!(y, array![0.5f32, 1.0, 3.7200760e-44].into_dyn());
/// ```
pub fn sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    x.mapv(sigmoid1)
}

/// `(σ(x), σ(−x))`, each to within an ulp or two (one `exp` of `−|x|`): the pair the
/// gradients use so that `1 − σ(x)` is never formed by a cancelling subtraction.
/// NaN gives `(NaN, NaN)`; `±inf` gives `(1, 0)` / `(0, 1)`.
#[inline]
pub(crate) fn sigmoid_pair<T: Float>(v: T) -> (T, T) {
    let e = (-v.abs()).exp();
    let d = T::one() + e;
    let (big, small) = (T::one() / d, e / d);
    if v >= T::zero() {
        (big, small)
    } else {
        (small, big)
    }
}

#[inline]
pub(crate) fn sigmoid1<T: Float>(v: T) -> T {
    if v >= T::zero() {
        T::one() / (T::one() + (-v).exp())
    } else {
        let e = v.exp();
        e / (T::one() + e)
    }
}

/// Sigmoid VJP on the forward output: `dx = g · y · (1 − y)` (TF `SigmoidGrad`,
/// PyTorch `sigmoid_backward`); exactly 0 where `y` saturated.
///
/// # Errors
/// [`Error::Shape`] if `g` and `y` differ in shape.
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::sigmoid(&array![0.0f64].into_dyn().view());
/// let dx = xent::ops::sigmoid_vjp(&y.view(), &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 0.25);
/// ```
pub fn sigmoid_vjp<T: Float>(y: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    check_grad("sigmoid", g.shape(), y.shape())?;
    Ok(Zip::from(y).and(g).map_collect(|&y, &g| g * y * (T::one() - y)))
}

/// Sigmoid VJP from the input: `dx = g · σ(x) · σ(−x)`, the exact derivative
/// `g·y·(1 − y)` of TF `SigmoidGrad` / PyTorch `sigmoid_backward` without forming
/// `1 − y`: evaluated in `f64` and rounded once, so it keeps its digits where `y`
/// nears 1 (the frameworks' `1 − y` of a rounded `y` loses them: at `x = 9` in
/// `float32` their gradient is off by about 1e-3 relative, this one by an ulp). It is
/// `0` only where the exact derivative underflows.
///
/// # Errors
/// [`Error::Shape`] if `g` and `x` differ in shape.
///
/// ```
/// use ndarray::array;
/// let x = array![0.0f32, 9.0].into_dyn();
/// let dx = xent::ops::sigmoid_vjp_from_input(&x.view(), &array![1.0f32, 1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 0.25);
/// let exact = (-9.0f64).exp() / (1.0 + (-9.0f64).exp()).powi(2);
/// assert!((f64::from(dx[[1]]) - exact).abs() <= exact * 1.2e-7);
/// ```
pub fn sigmoid_vjp_from_input<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    check_grad("sigmoid", g.shape(), x.shape())?;
    Ok(Zip::from(x).and(g).map_collect(|&x, &g| {
        let (p, n) = sigmoid_pair(x.f64());
        T::of(g.f64() * p * n)
    }))
}

/// PyTorch's sigmoid, element-wise: `1 / (1 + e^{−x})` as its CPU kernel computes it,
/// in the input's dtype: where `e^{−x}` overflows (`x` below about −88.72 in
/// `float32`, −709.78 in `float64`) the result is exactly 0, while just above that
/// the subnormal results are kept (`torch.sigmoid` of float32 `[-95, -100, -88, -88.8,
/// -87]` is `[0, 0, 6.0546e-39, 0, 1.6458e-38]`). Elsewhere the value is `σ(x)`
/// correctly rounded (from `f64`), which PyTorch matches to within an ulp or two.
///
/// Compare [`sigmoid`] (TF's form, which never overflows).
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::sigmoid_recip(&array![-100.0f32, -88.8, -88.0, 0.0, 100.0].into_dyn().view());
/// assert_eq!(y, array![0.0f32, 0.0, 6.054_601e-39, 0.5, 1.0].into_dyn());
/// ```
pub fn sigmoid_recip<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    x.mapv(sigmoid_recip1)
}

#[inline]
fn sigmoid_recip1<T: Float>(v: T) -> T {
    if (-v).exp().is_infinite() {
        // 1 / (1 + inf) in the input's dtype (x = −inf included)
        return T::zero();
    }
    T::of(sigmoid_pair(v.f64()).0)
}

/// Gradient of [`sigmoid_recip`]: PyTorch's `sigmoid_backward`, `g·y·(1 − y)` with `y`
/// the forward output, evaluated as `g·y·σ(−x)` in `f64` and rounded once. It is the
/// same function (0 where PyTorch's forward gave 0, `≈ g·y` in the subnormal range)
/// without the cancellation of `1 − y` near `y = 1`, where it is more accurate than
/// PyTorch (whose `1 − y` is 0 from `x ≈ 16.6` in `float32`; this stays `e^{−x}`).
///
/// # Errors
/// [`Error::Shape`] if `g` and `x` differ in shape.
///
/// ```
/// use ndarray::array;
/// let x = array![0.0f32, -88.8, -88.0].into_dyn();
/// let dx = xent::ops::sigmoid_recip_vjp(&x.view(), &array![1.0f32, 1.0, 1.0].into_dyn().view()).unwrap();
/// assert_eq!(dx, array![0.25f32, 0.0, 6.054_601e-39].into_dyn());
/// ```
pub fn sigmoid_recip_vjp<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    check_grad("sigmoid", g.shape(), x.shape())?;
    Ok(Zip::from(x).and(g).map_collect(|&x, &g| {
        let y = sigmoid_recip1(x);
        T::of(g.f64() * y.f64() * sigmoid_pair(x.f64()).1)
    }))
}

/// Log-sigmoid, element-wise: `log σ(x) = min(x, 0) − log1p(e^{−|x|})`.
///
/// PyTorch's `logsigmoid` formula; TF's `log_sigmoid = −softplus(−x)` agrees to
/// within an ulp (TF switches to `x` below −13.9 and `−e^{−x}` above 13.9 in f32).
/// `log_sigmoid(−inf) = −inf`, `log_sigmoid(+inf) = 0`.
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::log_sigmoid(&array![0.0f64, -1000.0].into_dyn().view());
/// assert!((y[[0]] + 2f64.ln()).abs() < 1e-15);
/// assert_eq!(y[[1]], -1000.0);
/// ```
pub fn log_sigmoid<T: Float>(x: &ArrayViewD<'_, T>) -> ArrayD<T> {
    x.mapv(log_sigmoid1)
}

#[inline]
pub(crate) fn log_sigmoid1<T: Float>(v: T) -> T {
    v.min(T::zero()) - (-v.abs()).exp().ln_1p()
}

/// Log-sigmoid VJP: `dx = g · σ(−x)` (TF's softplus gradient, PyTorch
/// `log_sigmoid_backward`): 1 at `−inf`, 0 at `+inf`.
///
/// # Errors
/// [`Error::Shape`] if `g` and `x` differ in shape.
///
/// ```
/// use ndarray::array;
/// let dx = xent::ops::log_sigmoid_vjp(&array![0.0f64].into_dyn().view(), &array![2.0].into_dyn().view()).unwrap();
/// assert_eq!(dx[[0]], 1.0);
/// ```
pub fn log_sigmoid_vjp<T: Float>(x: &ArrayViewD<'_, T>, g: &ArrayViewD<'_, T>) -> Result<ArrayD<T>> {
    check_grad("log_sigmoid", g.shape(), x.shape())?;
    Ok(Zip::from(x).and(g).map_collect(|&x, &g| g * sigmoid1(-x)))
}

/// One-hot encoding with the new depth axis inserted at `axis` (`0..=rank`):
/// `out[..., d, ...] = on` where `indices[...] == d`, else `off`.
///
/// Mirrors `tf.one_hot`: an index outside `[0, depth)` (negative ones too) gives a row
/// of `off` values, silently. PyTorch's `one_hot`, which raises instead, is
/// [`crate::torch::one_hot`].
///
/// # Errors
/// [`Error::Axis`] if `axis > rank`; [`Error::Shape`] if the output cannot be
/// allocated (its size overflows or the system refuses it).
///
/// ```
/// use ndarray::array;
/// let y = xent::ops::one_hot::<f32>(&array![0i64, 2, 7].into_dyn().view(), 3, 1.0, 0.0, 1).unwrap();
/// assert_eq!(y, array![[1.0f32, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]].into_dyn());
/// ```
pub fn one_hot<T: Copy + num_traits::Zero>(indices: &ArrayViewD<'_, i64>, depth: usize, on: T, off: T, axis: usize) -> Result<ArrayD<T>> {
    let rank = indices.ndim();
    if axis > rank {
        return Err(Error::Axis {
            op: "one_hot".into(),
            input: "indices".into(),
            axis: axis as i64,
            rank,
            shape: indices.shape().to_vec(),
        });
    }
    let mut shape = indices.shape().to_vec();
    shape.insert(axis, depth);
    // The output is `depth` times the input: allocate it fallibly (a huge depth is an
    // error, not an abort), before anything else is computed from the shape.
    let mut out = crate::layout::try_filled("one_hot", "output", &shape, off)?;
    let outer: usize = indices.shape()[..axis].iter().product();
    let inner: usize = indices.shape()[axis..].iter().product();
    let o = out.as_slice_mut().expect("fresh");
    let idx = contiguous(indices);
    for (p, &v) in slice(&idx).iter().enumerate() {
        if v >= 0 && (v as u64) < depth as u64 {
            let (a, b) = (p / inner.max(1), p % inner.max(1));
            debug_assert!(a < outer.max(1));
            o[a * depth * inner + v as usize * inner + b] = on;
        }
    }
    Ok(out)
}

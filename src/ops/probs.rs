//! Keras' probability-input losses: clipped categorical cross-entropy, the sparse
//! variant, focal losses and KL divergence.

use ndarray::{ArrayD, ArrayViewD, Axis, Zip};

use super::binary::{clip, through_clip};
use super::{c, check_grad, same_shape};
use crate::error::Result;
use crate::float::Float;
use crate::layout::{reduced_shape, try_filled};

/// TensorFlow runs its CPU kernels with denormals flushed to zero (FTZ/DAZ), so a
/// subnormal probability counts as 0 in Keras' renormalisation: a row of subnormals
/// sums to 0 and gives NaN there, as in TF. Half-precision arithmetic is not flushed
/// (TF computes `half` through float32, where a half subnormal is a normal number).
#[inline]
fn daz<T: Float>(v: T) -> T {
    if T::DTYPE != crate::DType::F16 && v.is_subnormal() {
        T::zero()
    } else {
        v
    }
}

fn eps_bounds<T: Float>(eps: f64) -> (T, T) {
    (c::<T>(eps), c::<T>(1.0 - eps))
}

/// Keras' categorical cross-entropy on probabilities (TF backend):
/// `q = p / Σ_axis p`, `c = clip(q, ε, 1 − ε)`, `ℓ = −Σ_axis t·ln c`.
///
/// The `from_logits=False` path of `keras.losses.categorical_crossentropy`: predictions
/// are renormalised first, then clipped (so raw logits give a finite, wrong loss; an
/// all-zero row gives NaN).
///
/// # Errors
/// [`crate::Error::Shape`] if `y_true` and `y_pred` differ in shape.
///
/// ```
/// use ndarray::array;
/// let t = array![[0.0f64, 1.0]].into_dyn();
/// let p = array![[0.2f64, 0.2]].into_dyn(); // renormalised to [0.5, 0.5]
/// let l = xent::ops::categorical_crossentropy_probs(&t.view(), &p.view(), 1, 1e-7).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn categorical_crossentropy_probs<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    axis: usize,
    eps: f64,
) -> Result<ArrayD<T>> {
    same_shape("categorical_crossentropy", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    let (lo, hi) = eps_bounds::<T>(eps);
    let mut out = try_filled("categorical_crossentropy", "loss", &reduced_shape(y_pred.shape(), axis), T::zero())?;
    Zip::from(&mut out).and(y_true.lanes(Axis(axis))).and(y_pred.lanes(Axis(axis))).for_each(|o, t, p| {
        let s: T = p.iter().map(|&v| daz(v)).sum();
        *o = -t.iter().zip(p.iter()).fold(T::zero(), |acc, (&tc, &pc)| acc + tc * clip(daz(pc) / s, lo, hi).ln());
    });
    Ok(out)
}

/// Gradient of [`categorical_crossentropy_probs`] w.r.t. `y_pred`, as TF's autodiff
/// computes it: with `g_i = −G·m_i·t_i / c_i` (`m` the inclusive clip mask),
/// `dp_k = (g_k − Σ_i g_i·q_i) / s`.
///
/// # Errors
/// [`crate::Error::Shape`] on mismatched shapes or a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let p = array![[0.5f64, 0.5]].into_dyn();
/// let dp = xent::ops::categorical_crossentropy_probs_vjp(&t.view(), &p.view(), 1, 1e-7, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp, array![[-1.0, 1.0]].into_dyn());
/// ```
pub fn categorical_crossentropy_probs_vjp<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    axis: usize,
    eps: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    same_shape("categorical_crossentropy", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    check_grad("categorical_crossentropy", g.shape(), &reduced_shape(y_pred.shape(), axis))?;
    let (lo, hi) = eps_bounds::<T>(eps);
    if T::DTYPE == crate::array::DType::F32 {
        return Ok(through_renormalisation_f64(y_true, y_pred, axis, g, lo, hi, |tk, q, gg| -gg * tk / q));
    }
    Ok(through_renormalisation(y_true, y_pred, axis, g, |tk, q, gg| through_clip(q, lo, hi, -gg * tk / clip(q, lo, hi))))
}

/// [`through_renormalisation`] for `float32` with the values in `f64`, rounded once:
/// `(g_k − Σ g_i·q_i)/s` cancels with soft labels (and near `q = 1`), magnifying every
/// `f32` rounding before it. The clip decisions are Keras' own, taken on the `float32`
/// `q = p/s` against the `float32` bounds `[lo, hi]`; `f(t, q, G)` is the gradient
/// with respect to an unclipped `q` (0 is used where Keras' clip cuts it).
fn through_renormalisation_f64<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    axis: usize,
    g: &ArrayViewD<'_, T>,
    lo: T,
    hi: T,
    f: impl Fn(f64, f64, f64) -> f64,
) -> ArrayD<T> {
    let mut grad = ArrayD::zeros(y_pred.raw_dim());
    let mut gk = Vec::new();
    Zip::from(grad.lanes_mut(Axis(axis))).and(y_true.lanes(Axis(axis))).and(y_pred.lanes(Axis(axis))).and(g).for_each(
        |mut d, t, p, &gg| {
            let s: T = p.iter().map(|&v| daz(v)).sum();
            let s64: f64 = p.iter().map(|&v| daz(v).f64()).sum();
            gk.clear();
            let mut dot = 0.0f64;
            for (&tk, &pk) in t.iter().zip(p.iter()) {
                let q64 = daz(pk).f64() / s64;
                let v = if through_clip(daz(pk) / s, lo, hi, T::one()) == T::one() { f(tk.f64(), q64, gg.f64()) } else { 0.0 };
                gk.push(v);
                dot += v * q64;
            }
            for (dk, &v) in d.iter_mut().zip(&gk) {
                *dk = T::of((v - dot) / s64);
            }
        },
    );
    grad
}

/// The VJP through Keras' renormalisation `q = p / s`, `s = Σ_axis p`: given the
/// gradient `g_k = f(t_k, q_k, G)` with respect to `q` (G the lane's upstream
/// gradient), returns `dp_k = (g_k − Σ_i g_i q_i) / s`.
fn through_renormalisation<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    axis: usize,
    g: &ArrayViewD<'_, T>,
    f: impl Fn(T, T, T) -> T,
) -> ArrayD<T> {
    let mut grad = ArrayD::zeros(y_pred.raw_dim());
    Zip::from(grad.lanes_mut(Axis(axis))).and(y_true.lanes(Axis(axis))).and(y_pred.lanes(Axis(axis))).and(g).for_each(
        |mut d, t, p, &gg| {
            let s: T = p.iter().map(|&v| daz(v)).sum();
            let mut dot = T::zero();
            for ((dk, &tk), &pk) in d.iter_mut().zip(t.iter()).zip(p.iter()) {
                let q = daz(pk) / s;
                let gk = f(tk, q, gg);
                *dk = gk;
                dot += gk * q;
            }
            for dk in d.iter_mut() {
                *dk = (*dk - dot) / s;
            }
        },
    );
    grad
}

/// Keras' sparse categorical cross-entropy on probabilities (TF backend):
/// `c = clip(p, ε, 1 − ε)`, then the sparse softmax cross-entropy of `ln c`, i.e.
/// `ℓ = −ln(c_y / Σ_k c_k)` (clipped first, normalised after: the opposite order to
/// [`categorical_crossentropy_probs`]). Classes are on the last axis.
///
/// # Errors
/// As [`crate::ops::cross_entropy_sparse`].
///
/// ```
/// use ndarray::array;
/// let p = array![[0.25f64, 0.25]].into_dyn();
/// let y = array![0i64].into_dyn();
/// let l = xent::ops::sparse_categorical_crossentropy_probs(&y.view(), &p.view(), 1e-7).unwrap();
/// assert!((l[[0]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn sparse_categorical_crossentropy_probs<T: Float>(
    labels: &ArrayViewD<'_, i64>,
    y_pred: &ArrayViewD<'_, T>,
    eps: f64,
) -> Result<ArrayD<T>> {
    let (lo, hi) = eps_bounds::<T>(eps);
    let logp = y_pred.mapv(|p| clip(p, lo, hi).ln());
    let axis = y_pred.ndim().saturating_sub(1);
    let o = super::SparseOptions { reduction: super::Reduction::None, ..Default::default() };
    super::cross_entropy_sparse(&logp.view(), axis, labels, &o, crate::kernels::Par::Seq)
}

/// Gradient of [`sparse_categorical_crossentropy_probs`] w.r.t. `y_pred`:
/// `dp_k = G·m_k·(1/Σc − [k = y]/c_k)`, `m` the inclusive clip mask.
///
/// # Errors
/// As the forward, plus [`crate::Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let p = array![[0.5f64, 0.5]].into_dyn();
/// let dp = xent::ops::sparse_categorical_crossentropy_probs_vjp(&array![0i64].into_dyn().view(), &p.view(), 1e-7, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp, array![[-1.0, 1.0]].into_dyn());
/// ```
pub fn sparse_categorical_crossentropy_probs_vjp<T: Float>(
    labels: &ArrayViewD<'_, i64>,
    y_pred: &ArrayViewD<'_, T>,
    eps: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let (lo, hi) = eps_bounds::<T>(eps);
    let logp = y_pred.mapv(|p| clip(p, lo, hi).ln());
    let axis = y_pred.ndim().saturating_sub(1);
    let o = super::SparseOptions { reduction: super::Reduction::None, ..Default::default() };
    let dl = super::cross_entropy_sparse_vjp(&logp.view(), axis, labels, &o, g, crate::kernels::Par::Seq)?;
    Ok(Zip::from(&dl).and(y_pred).map_collect(|&d, &p| through_clip(p, lo, hi, d / clip(p, lo, hi))))
}

/// Keras' categorical focal cross-entropy on probabilities:
/// `q = clip(p / Σp, ε, 1 − ε)`, `ℓ = Σ_axis α·(1 − q)^γ·(−t·ln q)`.
///
/// Mirrors `keras.losses.categorical_focal_crossentropy` with `from_logits=False`
/// (with `from_logits=True` Keras applies a softmax first: see [`crate::keras`]).
///
/// # Errors
/// [`crate::Error::Shape`] if `y_true` and `y_pred` differ in shape.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let p = array![[0.5f64, 0.5]].into_dyn();
/// let l = xent::ops::categorical_focal_probs(&t.view(), &p.view(), 1, 1.0, 2.0, 1e-7).unwrap();
/// assert!((l[[0]] - 0.25 * 2f64.ln()).abs() < 1e-15);
/// ```
pub fn categorical_focal_probs<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    axis: usize,
    alpha: f64,
    gamma: f64,
    eps: f64,
) -> Result<ArrayD<T>> {
    same_shape("categorical_focal_crossentropy", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    let (lo, hi) = eps_bounds::<T>(eps);
    let (a, gm) = (c::<T>(alpha), c::<T>(gamma));
    let mut out = try_filled("categorical_focal_crossentropy", "loss", &reduced_shape(y_pred.shape(), axis), T::zero())?;
    Zip::from(&mut out).and(y_true.lanes(Axis(axis))).and(y_pred.lanes(Axis(axis))).for_each(|o, t, p| {
        let s: T = p.iter().map(|&v| daz(v)).sum();
        *o = t.iter().zip(p.iter()).fold(T::zero(), |acc, (&tc, &pc)| {
            let q = clip(daz(pc) / s, lo, hi);
            acc + a * (T::one() - q).powf(gm) * (-tc * q.ln())
        });
    });
    Ok(out)
}

/// Gradient of [`categorical_focal_probs`] w.r.t. `y_pred` (TF autodiff): with
/// `f_i = α(1 − q_i)^γ(−t_i ln q_i)`, `g_i = G·m_i·∂f_i/∂q_i`, `dp_k = (g_k − Σ g_i q̂_i)/s`
/// where `q̂ = p/s` before clipping.
///
/// # Errors
/// As the forward, plus [`crate::Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[1.0f64, 0.0]].into_dyn();
/// let p = array![[0.5f64, 0.5]].into_dyn();
/// let dp = xent::ops::categorical_focal_probs_vjp(&t.view(), &p.view(), 1, 1.0, 0.0, 1e-7, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp, array![[-1.0, 1.0]].into_dyn());
/// ```
pub fn categorical_focal_probs_vjp<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    axis: usize,
    alpha: f64,
    gamma: f64,
    eps: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    same_shape("categorical_focal_crossentropy", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    check_grad("categorical_focal_crossentropy", g.shape(), &reduced_shape(y_pred.shape(), axis))?;
    let (lo, hi) = eps_bounds::<T>(eps);
    if T::DTYPE == crate::array::DType::F32 {
        return Ok(through_renormalisation_f64(y_true, y_pred, axis, g, lo, hi, |tk, q, gg| {
            let om = 1.0 - q;
            gg * alpha * (gamma * om.powf(gamma - 1.0) * tk * q.ln() - om.powf(gamma) * tk / q)
        }));
    }
    let (a, gm) = (c::<T>(alpha), c::<T>(gamma));
    Ok(through_renormalisation(y_true, y_pred, axis, g, |tk, qh, gg| {
        let q = clip(qh, lo, hi);
        let om = T::one() - q;
        // d/dq [α (1−q)^γ (−t ln q)] = α[γ(1−q)^(γ−1) t ln q − (1−q)^γ t / q]
        let df = a * (gm * om.powf(gm - T::one()) * tk * q.ln() - om.powf(gm) * tk / q);
        through_clip(qh, lo, hi, gg * df)
    }))
}

/// Keras' binary focal cross-entropy, element-wise before the mean over the last axis:
/// `p_t = t·p + (1 − t)(1 − p)`, `ℓ = (1 − p_t)^γ·bce` (times `t·α + (1 − t)(1 − α)`
/// when `balance`), where `bce` is the clipped probability BCE, or, when `logits`
/// is given, TF's stable logits BCE (Keras' TF backend recovers the logits of its own
/// sigmoid).
///
/// # Errors
/// [`crate::Error::Shape`] if shapes differ.
///
/// ```
/// use ndarray::array;
/// let t = array![1.0f64].into_dyn();
/// let p = array![0.5f64].into_dyn();
/// let l = xent::ops::binary_focal(&t.view(), &p.view(), None, false, 0.25, 2.0, 1e-7).unwrap();
/// assert!((l[[0]] - 0.25 * 2f64.ln()).abs() < 1e-15);
/// ```
pub fn binary_focal<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    logits: Option<&ArrayViewD<'_, T>>,
    balance: bool,
    alpha: f64,
    gamma: f64,
    eps: f64,
) -> Result<ArrayD<T>> {
    let bce = match logits {
        Some(x) => super::sigmoid_cross_entropy(y_true, x)?,
        None => super::binary_crossentropy_clipped(y_true, y_pred, eps)?,
    };
    let (a, gm) = (c::<T>(alpha), c::<T>(gamma));
    Ok(Zip::from(&bce).and(y_true).and(y_pred).map_collect(|&b, &t, &p| {
        let pt = t * p + (T::one() - t) * (T::one() - p);
        let mut v = (T::one() - pt).powf(gm) * b;
        if balance {
            v = (t * a + (T::one() - t) * (T::one() - a)) * v;
        }
        v
    }))
}

/// Gradient of [`binary_focal`] w.r.t. `y_pred` (and, when `logits` is given, the
/// gradient w.r.t. the logits, chaining through `p = σ(x)`), TF autodiff:
/// `d = w·[γ(1 − p_t)^(γ−1)·(1 − 2t)·bce·∂p + (1 − p_t)^γ·∂bce]`.
///
/// # Errors
/// As the forward, plus [`crate::Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let (t, p) = (array![1.0f64].into_dyn(), array![0.5f64].into_dyn());
/// let dp = xent::ops::binary_focal_vjp(&t.view(), &p.view(), None, false, 0.25, 0.0, 1e-7, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp[[0]], -2.0);
/// ```
#[allow(clippy::too_many_arguments)] // mirrors Keras' argument list
pub fn binary_focal_vjp<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    logits: Option<&ArrayViewD<'_, T>>,
    balance: bool,
    alpha: f64,
    gamma: f64,
    eps: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    check_grad("binary_focal_crossentropy", g.shape(), y_pred.shape())?;
    if let (Some(x), false) = (logits, T::DTYPE == crate::array::DType::F16) {
        return binary_focal_logits_vjp(y_true, x, balance, alpha, gamma, g);
    }
    // d(bce)/d(input) with an upstream of ones: a broadcast 1, not an array of them.
    let one = ndarray::arr0(T::one()).into_dyn();
    let ones = one.broadcast(y_pred.raw_dim()).ok_or_else(|| crate::Error::shape("binary_focal_crossentropy", "cannot broadcast"))?;
    let (bce, dbce) = match logits {
        Some(x) => (super::sigmoid_cross_entropy(y_true, x)?, super::sigmoid_cross_entropy_vjp(y_true, x, &ones)?),
        None => {
            (super::binary_crossentropy_clipped(y_true, y_pred, eps)?, super::binary_crossentropy_clipped_vjp(y_true, y_pred, eps, &ones)?)
        }
    };
    let (a, gm) = (c::<T>(alpha), c::<T>(gamma));
    let mut out = ArrayD::zeros(y_pred.raw_dim());
    Zip::from(&mut out).and(&bce).and(&dbce).and(y_true).and(y_pred).and(g).for_each(|o, &b, &db, &t, &p, &gg| {
        let pt = t * p + (T::one() - t) * (T::one() - p);
        let w = if balance { t * a + (T::one() - t) * (T::one() - a) } else { T::one() };
        let om = T::one() - pt;
        // dp/dx = p(1 − p) when differentiating w.r.t. logits, 1 for probabilities
        let dp = if logits.is_some() { p * (T::one() - p) } else { T::one() };
        // d(1 − p_t)^γ/dp = −γ(1 − p_t)^(γ−1)·(2t − 1)
        let dfocal = -gm * om.powf(gm - T::one()) * (t + t - T::one());
        *o = gg * w * (dfocal * dp * b + om.powf(gm) * db);
    });
    Ok(out)
}

/// [`binary_focal_vjp`] with respect to the logits, in `f64` and rounded once: with
/// `p = σ(x)`, `1 − p_t = t·σ(−x) + (1 − t)·σ(x)`, `dp/dx = σ(x)·σ(−x)` and
/// `∂bce = (1 − t)·σ(x) − t·σ(−x)`, none of which cancels near saturation as the
/// framework's `1 − p` does.
fn binary_focal_logits_vjp<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    x: &ArrayViewD<'_, T>,
    balance: bool,
    alpha: f64,
    gamma: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    super::same_shape("binary_focal_crossentropy", "y_true", y_true.shape(), "y_pred", x.shape())?;
    let mut out = ArrayD::zeros(x.raw_dim());
    Zip::from(&mut out).and(y_true).and(x).and(g).for_each(|o, &t, &x, &gg| {
        let (t, x) = (t.f64(), x.f64());
        let (p, n) = super::activations::sigmoid_pair(x);
        let b = x.max(0.0) - x * t + (-x.abs()).exp().ln_1p();
        let db = (1.0 - t) * p - t * n;
        let om = t * n + (1.0 - t) * p;
        let w = if balance { t * alpha + (1.0 - t) * (1.0 - alpha) } else { 1.0 };
        let dfocal = -gamma * om.powf(gamma - 1.0) * (t + t - 1.0);
        *o = T::of(gg.f64() * w * (dfocal * p * n * b + om.powf(gamma) * db));
    });
    Ok(out)
}

/// Keras' KL divergence: `Σ_last t'·ln(t'/p')` with `t' = clip(t, ε, 1)`,
/// `p' = clip(p, ε, 1)`.
///
/// Mirrors `keras.losses.kl_divergence`.
///
/// # Errors
/// [`crate::Error::Shape`] if shapes differ.
///
/// ```
/// use ndarray::array;
/// let t = array![[0.5f64, 0.5]].into_dyn();
/// let l = xent::ops::kl_divergence(&t.view(), &t.view(), 1e-7).unwrap();
/// assert_eq!(l[[0]], 0.0);
/// ```
pub fn kl_divergence<T: Float>(y_true: &ArrayViewD<'_, T>, y_pred: &ArrayViewD<'_, T>, eps: f64) -> Result<ArrayD<T>> {
    same_shape("kl_divergence", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    let axis = y_pred.ndim().saturating_sub(1);
    let lo = c::<T>(eps);
    let mut out = try_filled("kl_divergence", "loss", &reduced_shape(y_pred.shape(), axis), T::zero())?;
    Zip::from(&mut out).and(y_true.lanes(Axis(axis))).and(y_pred.lanes(Axis(axis))).for_each(|o, t, p| {
        *o = t.iter().zip(p.iter()).fold(T::zero(), |acc, (&tc, &pc)| {
            let (tc, pc) = (clip(tc, lo, T::one()), clip(pc, lo, T::one()));
            acc + tc * (tc / pc).ln()
        });
    });
    Ok(out)
}

/// Gradient of [`kl_divergence`] w.r.t. `y_pred`: `−G·m·t'/p'`, `m` the clip mask of `p`.
///
/// # Errors
/// As the forward, plus [`crate::Error::Shape`] for a wrong `g`.
///
/// ```
/// use ndarray::array;
/// let t = array![[0.25f64, 0.75]].into_dyn();
/// let dp = xent::ops::kl_divergence_vjp(&t.view(), &t.view(), 1e-7, &array![1.0].into_dyn().view()).unwrap();
/// assert_eq!(dp, array![[-1.0, -1.0]].into_dyn());
/// ```
pub fn kl_divergence_vjp<T: Float>(
    y_true: &ArrayViewD<'_, T>,
    y_pred: &ArrayViewD<'_, T>,
    eps: f64,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    same_shape("kl_divergence", "y_true", y_true.shape(), "y_pred", y_pred.shape())?;
    let axis = y_pred.ndim().saturating_sub(1);
    check_grad("kl_divergence", g.shape(), &reduced_shape(y_pred.shape(), axis))?;
    let lo = c::<T>(eps);
    let ge = super::categorical::expand_positions(g, y_pred.shape(), axis);
    Ok(Zip::from(y_true).and(y_pred).and(&ge).map_collect(|&t, &p, &gg| {
        let tc = clip(t, lo, T::one());
        through_clip(p, lo, T::one(), -gg * tc / clip(p, lo, T::one()))
    }))
}

//! Kullback–Leibler divergence on log-probability inputs (PyTorch's `kl_div`).

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

use super::check_grad;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::layout::try_filled;

/// How [`kl_div`] reduces its point-wise values. The default is PyTorch's, `Mean`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KlReduction {
    /// No reduction: the point-wise values, in the broadcast shape.
    None,
    /// The sum divided by the size of the **input's** first dimension (the plain sum
    /// for a 0-d input); the mathematical KL divergence per sample.
    BatchMean,
    /// The sum.
    Sum,
    /// The sum divided by the number of elements (batch × support).
    #[default]
    Mean,
}

impl KlReduction {
    /// Parse PyTorch's names: `none`, `batchmean`, `sum`, `mean`.
    ///
    /// # Errors
    /// [`Error::Param`] naming `op` for any other string.
    ///
    /// ```
    /// use xent::ops::KlReduction;
    /// assert_eq!(KlReduction::parse("op", "batchmean").unwrap(), KlReduction::BatchMean);
    /// assert!(KlReduction::parse("op", "avg").is_err());
    /// ```
    pub fn parse(op: &str, s: &str) -> Result<KlReduction> {
        match s {
            "none" => Ok(KlReduction::None),
            "batchmean" => Ok(KlReduction::BatchMean),
            "sum" => Ok(KlReduction::Sum),
            "mean" => Ok(KlReduction::Mean),
            other => Err(Error::param(op, "reduction", format!("`{other}` is not valid (expected none, batchmean, sum or mean)"))),
        }
    }
}

/// The NumPy/PyTorch broadcast of two shapes, or `None` when they do not broadcast.
fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| if i + s.len() >= n { s[i + s.len() - n] } else { 1 };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

fn shapes(op: &str, input: &[usize], target: &[usize]) -> Result<Vec<usize>> {
    broadcast_shape(input, target).ok_or_else(|| {
        Error::shape(
            op,
            format!("The size of tensor a ({input:?}) must match the size of tensor b ({target:?}): `input` and `target` do not broadcast"),
        )
    })
}

/// `target·ln(target)`, 0 where `target == 0` (`torch.xlogy(target, target)`).
fn xlogx(t: f64) -> f64 {
    if t == 0.0 {
        0.0
    } else {
        t * t.ln()
    }
}

/// The divisor of a reduction over `n` point-wise values of an `input` shaped `input`.
fn divisor(reduction: KlReduction, input: &[usize], n: usize) -> f64 {
    match reduction {
        KlReduction::Mean => n as f64,
        KlReduction::BatchMean => input.first().map_or(1.0, |&b| b as f64),
        KlReduction::None | KlReduction::Sum => 1.0,
    }
}

/// `torch.nn.functional.kl_div(input, target, reduction, log_target)` (PyTorch 2.15):
/// `input` holds log-probabilities; the point-wise value is
/// `target·(ln target − input)` (0 where `target == 0`, `xlogy`) or, with
/// `log_target`, `exp(target)·(target − input)`; `input` and `target` broadcast. Then
/// `none` keeps the values, `sum` adds them, `mean` divides the sum by the number of
/// values, `batchmean` by `input.shape[0]` (no division for a 0-d input). An empty
/// input gives NaN for `mean` and `batchmean` (0/0), as in PyTorch.
///
/// Each value and the sum are computed in float64 and rounded once (PyTorch rounds
/// `xlogy` and the product separately in the input's dtype).
///
/// # Errors
/// [`Error::Shape`] if the shapes do not broadcast or the result is too large.
///
/// ```
/// use ndarray::array;
/// use xent::ops::{kl_div, KlReduction};
/// let x = array![[0.5f64.ln(), 0.5f64.ln()]].into_dyn();
/// let t = array![[0.5f64, 0.5]].into_dyn();
/// assert!(kl_div(&x.view(), &t.view(), false, KlReduction::Sum).unwrap()[[]].abs() < 1e-16);
/// let t0 = array![[1.0f64, 0.0]].into_dyn(); // 0·ln 0 counts as 0
/// let l = kl_div(&x.view(), &t0.view(), false, KlReduction::BatchMean).unwrap();
/// assert!((l[[]] - 2f64.ln()).abs() < 1e-15);
/// ```
pub fn kl_div<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, T>,
    log_target: bool,
    reduction: KlReduction,
) -> Result<ArrayD<T>> {
    let op = "kl_div";
    let shape = shapes(op, input.shape(), target.shape())?;
    let (x, t) = (input.broadcast(IxDyn(&shape)).expect("broadcastable"), target.broadcast(IxDyn(&shape)).expect("broadcastable"));
    let point = |x: T, t: T| -> f64 {
        if log_target {
            // exp in the input's dtype, as PyTorch: an overflow gives inf (or NaN
            // times 0) exactly where PyTorch's does.
            t.exp().f64() * (t.f64() - x.f64())
        } else {
            xlogx(t.f64()) - t.f64() * x.f64()
        }
    };
    if reduction == KlReduction::None {
        let mut out = try_filled(op, "output", &shape, T::zero())?;
        Zip::from(&mut out).and(&x).and(&t).for_each(|o, &x, &t| *o = T::of(point(x, t)));
        return Ok(out);
    }
    let n = x.len();
    let s: f64 = Zip::from(&x).and(&t).fold(0.0, |acc, &x, &t| acc + point(x, t));
    Ok(ArrayD::from_elem(IxDyn(&[]), T::of(s / divisor(reduction, input.shape(), n))))
}

/// Gradient of [`kl_div`] w.r.t. `input`, as PyTorch's autograd computes it:
/// `−G·target` (`−G·exp(target)` with `log_target`), `G` the upstream gradient
/// scaled by the reduction's divisor, summed over the dimensions `input` was
/// broadcast along.
///
/// # Errors
/// As [`kl_div`], plus [`Error::Shape`] for a `g` that is not 0-d (reductions) or
/// not of the broadcast shape (`none`).
///
/// ```
/// use ndarray::array;
/// use xent::ops::{kl_div_vjp, KlReduction};
/// let x = array![[0.0f64, 0.0]].into_dyn();
/// let t = array![[0.25f64, 0.75]].into_dyn();
/// let g = ndarray::arr0(1.0).into_dyn();
/// let dx = kl_div_vjp(&x.view(), &t.view(), false, KlReduction::Mean, &g.view()).unwrap();
/// assert_eq!(dx, array![[-0.125, -0.375]].into_dyn());
/// ```
pub fn kl_div_vjp<T: Float>(
    input: &ArrayViewD<'_, T>,
    target: &ArrayViewD<'_, T>,
    log_target: bool,
    reduction: KlReduction,
    g: &ArrayViewD<'_, T>,
) -> Result<ArrayD<T>> {
    let op = "kl_div";
    let shape = shapes(op, input.shape(), target.shape())?;
    let t = target.broadcast(IxDyn(&shape)).expect("broadcastable");
    let slope = |t: T| -> T {
        if log_target {
            -t.exp()
        } else {
            -t
        }
    };
    let mut full = try_filled(op, "gradient", &shape, T::zero())?;
    if reduction == KlReduction::None {
        check_grad(op, g.shape(), &shape)?;
        Zip::from(&mut full).and(&t).and(g).for_each(|d, &t, &g| *d = g * slope(t));
    } else {
        check_grad(op, g.shape(), &[])?;
        let g0 = g.iter().next().copied().unwrap_or_else(T::zero);
        // PyTorch's MeanBackward / DivBackward: the upstream divided by the divisor, in T.
        let div = divisor(reduction, input.shape(), full.len());
        let s = if div == 1.0 { g0 } else { g0 / T::of(div) };
        Zip::from(&mut full).and(&t).for_each(|d, &t| *d = s * slope(t));
    }
    Ok(sum_to(full, input.shape()))
}

/// Sum `a` over the leading and size-1 dimensions it was broadcast along, back to `shape`.
fn sum_to<T: Float>(mut a: ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    while a.ndim() > shape.len() {
        a = a.sum_axis(Axis(0));
    }
    for (i, &d) in shape.iter().enumerate() {
        if d == 1 && a.shape()[i] != 1 {
            a = a.sum_axis(Axis(i)).insert_axis(Axis(i));
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn default_reduction_is_pytorchs_mean() {
        assert_eq!(KlReduction::default(), KlReduction::Mean);
    }

    #[test]
    fn broadcast_shapes_follow_numpy() {
        assert_eq!(broadcast_shape(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[3], &[2, 1]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[], &[4]), Some(vec![4]));
        assert_eq!(broadcast_shape(&[2], &[3]), None);
    }

    #[test]
    fn gradient_sums_over_broadcast_dimensions() {
        // input (3,) against target (2, 3): each input element gets −Σ_rows t.
        let x = array![0.0f64, 0.0, 0.0].into_dyn();
        let t = array![[0.1f64, 0.2, 0.3], [0.4, 0.5, 0.6]].into_dyn();
        let g = ndarray::arr0(1.0).into_dyn();
        let dx = kl_div_vjp(&x.view(), &t.view(), false, KlReduction::Sum, &g.view()).unwrap();
        assert_eq!(dx.shape(), &[3]);
        for (d, want) in dx.iter().zip([-0.5, -0.7, -0.9]) {
            assert!((d - want).abs() < 1e-15, "{d} vs {want}");
        }
        // batchmean divides by the input's first dimension (3), not the output's (2).
        let bm = kl_div(&x.view(), &t.view(), false, KlReduction::BatchMean).unwrap()[[]];
        let sum = kl_div(&x.view(), &t.view(), false, KlReduction::Sum).unwrap()[[]];
        assert!((bm - sum / 3.0).abs() < 1e-15);
    }

    #[test]
    fn zero_targets_give_zero_and_empty_means_give_nan() {
        let x = array![f64::NEG_INFINITY, -1.0].into_dyn();
        let t = array![0.0f64, 0.0].into_dyn();
        // 0·ln 0 = 0, but 0·(−inf) is NaN, as in PyTorch.
        let v = kl_div(&x.view(), &t.view(), false, KlReduction::None).unwrap();
        assert!(v[[0]].is_nan() && v[[1]] == 0.0);
        let e = ArrayD::<f32>::zeros(IxDyn(&[0, 3]));
        for r in [KlReduction::Mean, KlReduction::BatchMean] {
            assert!(kl_div(&e.view(), &e.view(), false, r).unwrap()[[]].is_nan());
        }
        assert_eq!(kl_div(&e.view(), &e.view(), false, KlReduction::Sum).unwrap()[[]], 0.0);
    }
}

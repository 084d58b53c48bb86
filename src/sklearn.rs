//! scikit-learn 1.9.1's `sklearn.metrics.log_loss(y_true, y_proba, *, normalize=True,
//! sample_weight=None, labels=None)` (the deprecated `y_pred` is an alias of `y_proba`).
//!
//! As scikit-learn computes it with NumPy: the classes are the sorted distinct values
//! of `labels` (or of `y_true`); `y_proba` is clipped to `[eps, 1 − eps]` with `eps`
//! its own dtype's machine epsilon and the per-sample losses `−ln p[true class]` are
//! computed in that dtype (float16, float32 or float64); their mean (NumPy's pairwise
//! sum; float16 accumulates in float32) or weighted mean (in the promoted dtype of the
//! losses and `sample_weight`) is returned as a float64 scalar, as `log_loss` returns a
//! Python float. A 1-D `y_proba` (or one column) is the positive class's probability.
//! Rows that do not sum to 1 are used as given (scikit-learn only warns).
//!
//! Errors where scikit-learn raises: NaN or ±inf in `y_proba`, probabilities above 1
//! or below 0, no samples, lengths that differ, a single class without `labels`, a
//! `y_true` value not in `labels`, a number of columns other than the number of
//! classes, `sample_weight` all zero. Deviation: `y_true` must be numeric and 1-D
//! (scikit-learn also takes strings and label-indicator matrices).
//!
//! ```
//! use ndarray::array;
//! let p = array![[0.2f64, 0.3, 0.5], [0.1, 0.1, 0.8], [0.0, 0.0, 1.0]].into_dyn();
//! let l = xent::sklearn::log_loss(&[0.0, 1.0, 2.0], &p.view(), None, true, None).unwrap();
//! assert!((l - 1.3040076684760484).abs() < 1e-15); // log_loss on these float64 rows
//! ```

use ndarray::ArrayViewD;

use crate::error::{Error, Result};
use crate::float::Float;

const OP: &str = "sklearn.metrics.log_loss";

/// `np.log` of a float32 array as NumPy 2.4 computes it on x86-64 (its SIMD float32
/// kernel, not correctly rounded: it differs from the correctly rounded value for about
/// a fifth of inputs): `x = 2^e m` with `m` in `(√½, √2]`, `y = m − 1`, `ln x =
/// fma(e, ln 2, P(y) / Q(y))` with degree-5 polynomials evaluated by Horner's rule with
/// fused multiply-adds. Matches `np.log` bit for bit on 10^6 random inputs in (0.001, 1.001)
/// (numpy 2.4.6, AVX-512 machine). Zero gives −inf, negatives and NaN give NaN.
pub fn numpy_logf(x: f32) -> f32 {
    const P: [f32; 6] = [0.0, 1.0, 2.112_677_6, 1.480_000_6, 0.380_883_78, 0.025_899_792];
    const Q: [f32; 6] = [1.0, 2.612_677_6, 2.453_006, 0.986_494_3, 0.154_647_63, 0.005_875_095_3];
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 {
        return f32::NEG_INFINITY;
    }
    if x == f32::INFINITY {
        return x;
    }
    // frexp: m in [0.5, 1).
    let (mut m, mut e) = {
        let (xs, scale) = if x < f32::MIN_POSITIVE { (x * 2f32.powi(100), -100) } else { (x, 0) };
        let bits = xs.to_bits();
        let exp = ((bits >> 23) & 0xff) as i32 - 126;
        (f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000), (exp + scale) as f32)
    };
    if m <= std::f32::consts::FRAC_1_SQRT_2 {
        m += m;
        e -= 1.0;
    }
    let y = m - 1.0;
    let horner = |c: &[f32; 6]| c[..5].iter().rev().fold(c[5], |acc, &k| acc.mul_add(y, k));
    let poly = horner(&P) / horner(&Q);
    e.mul_add(std::f32::consts::LN_2, poly)
}

/// NumPy's pairwise summation (`pairwise_sum` in `loops_utils.h`), accumulating in `T`.
fn pairwise<T: Float>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        a.iter().fold(-T::zero(), |s, &v| s + v)
    } else if n <= 128 {
        let mut r = [T::zero(); 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            s += a[i];
            i += 1;
        }
        s
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// `np.add.reduce` of a contiguous 1-D array: the pairwise sum of all of it (checked
/// against numpy 2.4.6 up to 9000 elements); 0 for an empty array.
pub fn numpy_sum<T: Float>(a: &[T]) -> T {
    if a.is_empty() {
        T::zero()
    } else {
        pairwise(a)
    }
}

/// Sample weights and whether NumPy promotes the average to float64 with them (float64
/// or integer weights); otherwise it runs in float32.
pub struct SampleWeight<'a> {
    /// One weight per sample.
    pub values: &'a [f64],
    /// The weights' dtype is float64 or an integer type.
    pub promotes: bool,
}

/// `sklearn.metrics.log_loss` (see the module docs). `y_true` holds the class values,
/// `labels` the declared classes.
///
/// # Errors
/// [`Error::Domain`], [`Error::Shape`] or [`Error::Label`] where scikit-learn raises
/// `ValueError` (listed in the module docs).
pub fn log_loss<T: Float>(
    y_true: &[f64],
    y_proba: &ArrayViewD<'_, T>,
    sample_weight: Option<SampleWeight<'_>>,
    normalize: bool,
    labels: Option<&[f64]>,
) -> Result<f64> {
    let dom = |m: String| Error::domain(OP, m);
    let s = y_proba.shape().to_vec();
    if s.len() > 2 {
        return Err(Error::shape(OP, format!("Found array with dim {}: `y_proba` must be 1-D or 2-D, got shape {s:?}", s.len())));
    }
    let n = s.first().copied().unwrap_or(1);
    let cols = if s.len() == 2 { s[1] } else { 1 };
    if s.is_empty() {
        return Err(Error::shape(OP, "`y_proba` is a 0-d array; expected a 1-D or 2-D array"));
    }
    if n == 0 {
        return Err(Error::shape(OP, format!("Found array with 0 sample(s) (shape={s:?}) while a minimum of 1 is required")));
    }
    if cols == 0 {
        return Err(Error::shape(OP, format!("Found array with 0 feature(s) (shape={s:?}) while a minimum of 1 is required")));
    }
    let p: Vec<T> = y_proba.as_standard_layout().iter().copied().collect();
    if p.iter().any(|v| v.is_nan()) {
        return Err(dom("Input contains NaN (`y_proba`)".into()));
    }
    if p.iter().any(|v| v.is_infinite()) {
        return Err(dom("Input contains infinity or a value too large for dtype (`y_proba`)".into()));
    }
    let max = p.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
    if max > T::one() {
        return Err(dom(format!("y_prob contains values greater than 1: {}", max.f64())));
    }
    let min = p.iter().fold(T::infinity(), |a, &b| a.min(b));
    if min < T::zero() {
        return Err(dom(format!("y_prob contains values lower than 0: {}", min.f64())));
    }
    if y_true.len() != n {
        return Err(Error::shape(OP, format!("Found input variables with inconsistent numbers of samples: [{n}, {}]", y_true.len())));
    }
    if let Some(w) = &sample_weight {
        if w.values.len() != n {
            return Err(Error::shape(OP, format!("sample_weight.shape == ({},), expected ({n},)!", w.values.len())));
        }
        if w.values.iter().any(|v| !v.is_finite()) {
            return Err(dom("Input contains NaN or infinity (`sample_weight`)".into()));
        }
        if w.values.iter().all(|&v| v == 0.0) {
            return Err(dom("Sample weights must contain at least one non-zero number.".into()));
        }
    }
    let sorted = |v: &[f64]| {
        let mut c = v.to_vec();
        c.sort_by(f64::total_cmp);
        c.dedup();
        c
    };
    let classes = match labels {
        Some(l) => {
            let c = sorted(l);
            if let Some((i, v)) = y_true.iter().enumerate().find(|(_, v)| !c.contains(v)) {
                return Err(Error::Label {
                    op: OP.into(),
                    input: "y_true".into(),
                    index: i,
                    value: *v as i64,
                    classes: c.len(),
                    extra: format!(": y_true contains {v}, which does not belong to the passed labels {l:?}"),
                });
            }
            c
        }
        None => sorted(y_true),
    };
    if classes.len() == 1 {
        return Err(dom(match labels {
            None => format!(
                "y_true contains only one label ({}). Please provide the list of all expected class labels explicitly through the labels argument.",
                classes[0]
            ),
            Some(_) => format!("The labels array needs to contain at least two labels, got {classes:?}."),
        }));
    }
    let c = if cols == 1 { 2 } else { cols };
    if classes.len() != c {
        return Err(Error::shape(
            OP,
            match labels {
                None => format!(
                    "y_true and y_prob contain different number of classes: {} vs {c}. Please provide the true labels explicitly through the labels argument. Classes found in y_true: {classes:?}",
                    classes.len()
                ),
                Some(_) => format!("The number of classes in labels is different from that in y_prob. Classes found in labels: {classes:?}"),
            },
        ));
    }
    let eps = T::EPSILON;
    let hi = T::one() - eps;
    let loss: Vec<T> = y_true
        .iter()
        .enumerate()
        .map(|(i, y)| {
            let k = classes.iter().position(|c| c == y).expect("checked");
            let pv = if cols == 1 {
                if k == 1 {
                    p[i]
                } else {
                    T::one() - p[i]
                }
            } else {
                p[i * cols + k]
            };
            let pc = pv.max(eps).min(hi);
            // NumPy's log: its float32 SIMD kernel for float32, correctly rounded otherwise
            // (float64's is within an ulp; float16's goes through float32 and rounds).
            if T::DTYPE == crate::DType::F32 {
                -T::of(f64::from(numpy_logf(pc.f64() as f32)))
            } else {
                -T::of(pc.f64().ln())
            }
        })
        .collect();
    Ok(match sample_weight {
        None if normalize => {
            if T::DTYPE == crate::DType::F16 {
                let l32: Vec<f32> = loss.iter().map(|v| v.f64() as f32).collect();
                T::of(f64::from(numpy_sum(&l32) / n as f32)).f64()
            } else {
                (numpy_sum(&loss) / T::of(n as f64)).f64()
            }
        }
        None => numpy_sum(&loss).f64(),
        Some(w) => {
            if w.promotes || T::DTYPE == crate::DType::F64 {
                let prod: Vec<f64> = loss.iter().zip(w.values).map(|(l, w)| l.f64() * w).collect();
                let num = numpy_sum(&prod);
                if normalize {
                    num / numpy_sum(w.values)
                } else {
                    num
                }
            } else {
                let prod: Vec<f32> = loss.iter().zip(w.values).map(|(l, &w)| l.f64() as f32 * w as f32).collect();
                let ws: Vec<f32> = w.values.iter().map(|&v| v as f32).collect();
                let num = numpy_sum(&prod);
                f64::from(if normalize { num / numpy_sum(&ws) } else { num })
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of `np.log(np.float32(x))` from numpy 2.4.6 (x86-64, AVX-512), where the
    /// correctly rounded logarithm differs for some.
    #[test]
    fn numpy_logf_matches_numpy() {
        // (x, np.log(x)) as float32 bit patterns, printed by numpy.
        let cases: [(f32, f32); 4] = [(0.7, -0.356_674_94), (0.9, -0.105_360_545), (1.0 - f32::EPSILON, -1.192_093e-7), (1.5, 0.405_465_1)];
        for (x, want) in cases {
            assert_eq!(numpy_logf(x), want, "log({x})");
        }
        assert_eq!(numpy_logf(0.0), f32::NEG_INFINITY);
        assert!(numpy_logf(-1.0).is_nan());
    }

    /// `np.add.reduce` of `((i*i) % 997) * 0.37 + 1e4` (float32, i < 1000) is the float32
    /// with bits 1260086302; a sequential sum gives 1260086306.
    #[test]
    fn numpy_sum_matches_numpy() {
        let v: Vec<f32> = (0..1000u32).map(|i| ((i * i) % 997) as f32 * 0.37 + 1e4).collect();
        assert_eq!(numpy_sum(&v).to_bits(), 1_260_086_302);
        assert_ne!(v.iter().fold(0f32, |a, &b| a + b).to_bits(), 1_260_086_302);
    }
}

//! The op-table bodies of the JAX/Optax, ONNX and scikit-learn ops: read the inputs
//! and parameters of a [`Call`], call the front-ends ([`crate::jax`], [`crate::onnx`],
//! [`crate::sklearn`]) and wrap the result.

use half::f16;
use ndarray::{ArrayD, IxDyn};

use super::{by_float, fwd_or_grad, Call, Up};
use crate::array::{DType, DynArray, DynView};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::{jax, onnx, sklearn};

/// An optional mask input (`where`) as bools: any dtype, nonzero is true.
fn mask(c: &Call, name: &str) -> Option<ArrayD<bool>> {
    c.opt_input(name).map(|a| match a {
        DynView::Bool(b) => b.to_owned(),
        other => other.to_f64().mapv(|v| v != 0.0),
    })
}

/// Optax's `check_subdtype(x, jnp.floating)`: an integer or bool array raises `TypeError`.
fn need_float(c: &Call, name: &str) -> Result<()> {
    match c.opt_input(name) {
        Some(a) if !a.dtype().is_float() => Err(Error::DType {
            op: c.op.name.into(),
            input: name.into(),
            got: a.dtype().to_string(),
            expected: "a floating dtype (Optax checks jnp.floating)".into(),
        }),
        _ => Ok(()),
    }
}

macro_rules! float_op {
    ($name:ident, $body:ident) => {
        pub(super) fn $name(c: &Call, g: Option<&str>) -> Result<DynArray> {
            by_float(c, g, $body::<f32>, $body::<f64>)
        }
    };
}

float_op!(jax_softmax, jax_softmax_t);
fn jax_softmax_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, w, axis) = (c.float::<T>("x")?, mask(c, "where"), c.i64("axis")?);
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Like(x.shape().to_vec()),
        || jax::softmax(&x.view(), wv.as_ref(), axis),
        |u| jax::softmax_grad(&x.view(), wv.as_ref(), axis, u),
    )
}

float_op!(jax_log_softmax, jax_log_softmax_t);
fn jax_log_softmax_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, w, axis) = (c.float::<T>("x")?, mask(c, "where"), c.i64("axis")?);
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Like(x.shape().to_vec()),
        || jax::log_softmax(&x.view(), wv.as_ref(), axis),
        |u| jax::log_softmax_grad(&x.view(), wv.as_ref(), axis, u),
    )
}

float_op!(jax_sigmoid, jax_sigmoid_t);
fn jax_sigmoid_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("x")?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || Ok(jax::sigmoid(&x.view())), |u| jax::sigmoid_grad(&x.view(), u))
}

float_op!(jax_log_sigmoid, jax_log_sigmoid_t);
fn jax_log_sigmoid_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("x")?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || Ok(jax::log_sigmoid(&x.view())), |u| jax::log_sigmoid_grad(&x.view(), u))
}

pub(super) fn jax_one_hot(c: &Call, _g: Option<&str>) -> Result<DynArray> {
    let n = c.opt_i64("num_classes").ok_or_else(|| Error::Usage("jax.nn.one_hot: parameter `num_classes` is required".into()))?;
    let x = c.input("x")?.to_f64();
    Ok(DynArray::F32(jax::one_hot(&x.view(), n, c.i64("axis")?)?))
}

float_op!(jax_logsumexp, jax_logsumexp_t);
fn jax_logsumexp_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (a, axis, kd) = (c.float::<T>("a")?, c.opt_i64("axis"), c.bool("keepdims"));
    fwd_or_grad(g, Up::Forward, || jax::logsumexp(&a.view(), axis, kd), |u| jax::logsumexp_grad(&a.view(), axis, kd, u))
}

float_op!(optax_sce, optax_sce_t);
fn optax_sce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, t, w, axis) = (c.float::<T>("logits")?, c.float::<T>("labels")?, mask(c, "where"), c.i64("axis")?);
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::softmax_cross_entropy(&x.view(), &t.view(), wv.as_ref(), axis),
        |u| jax::softmax_cross_entropy_grad(&x.view(), &t.view(), wv.as_ref(), axis, u),
    )
}

float_op!(optax_sce_int, optax_sce_int_t);
fn optax_sce_int_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, y, w, axis) = (c.float::<T>("logits")?, c.labels("labels")?, mask(c, "where"), c.i64("axis")?);
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::softmax_cross_entropy_with_integer_labels(&x.view(), &y.view(), wv.as_ref(), axis),
        |u| jax::softmax_cross_entropy_with_integer_labels_grad(&x.view(), &y.view(), wv.as_ref(), axis, u),
    )
}

// --------------------------------------------------------------------------- ONNX

float_op!(onnx_softmax, onnx_softmax_t);
fn onnx_softmax_t<T: Float>(c: &Call, _g: Option<&str>) -> Result<ArrayD<T>> {
    onnx::softmax(&c.float::<T>("input")?.view(), c.opt_i64("axis"), c.i64("opset")?)
}

float_op!(onnx_log_softmax, onnx_log_softmax_t);
fn onnx_log_softmax_t<T: Float>(c: &Call, _g: Option<&str>) -> Result<ArrayD<T>> {
    onnx::log_softmax(&c.float::<T>("input")?.view(), c.opt_i64("axis"), c.i64("opset")?)
}

float_op!(onnx_sigmoid, onnx_sigmoid_t);
fn onnx_sigmoid_t<T: Float>(c: &Call, _g: Option<&str>) -> Result<ArrayD<T>> {
    Ok(onnx::sigmoid(&c.float::<T>("X")?.view()))
}

float_op!(onnx_sce, onnx_sce_t);
fn onnx_sce_t<T: Float>(c: &Call, _g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, y, w) = (c.float::<T>("scores")?, c.labels("labels")?, c.opt_float::<T>("weights")?);
    let wv = w.as_ref().map(|w| w.view());
    let (loss, lp) = onnx::softmax_cross_entropy_loss(
        &x.view(),
        &y.view(),
        wv.as_ref(),
        c.str("reduction").unwrap_or("mean"),
        c.opt_i64("ignore_index"),
    )?;
    Ok(if c.output.as_deref() == Some("log_prob") { lp } else { loss })
}

float_op!(onnx_nll, onnx_nll_t);
fn onnx_nll_t<T: Float>(c: &Call, _g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, y, w) = (c.float::<T>("input")?, c.labels("target")?, c.opt_float::<T>("weight")?);
    let wv = w.as_ref().map(|w| w.view());
    onnx::negative_log_likelihood_loss(&x.view(), &y.view(), wv.as_ref(), c.str("reduction").unwrap_or("mean"), c.opt_i64("ignore_index"))
}

// --------------------------------------------------------------------------- scikit-learn

pub(super) fn sklearn_log_loss(c: &Call, _g: Option<&str>) -> Result<DynArray> {
    const OP: &str = "sklearn.metrics.log_loss";
    let p = match (c.opt_input("y_proba"), c.opt_input("y_pred")) {
        (Some(_), Some(_)) => {
            return Err(Error::Usage(format!(
                "{OP}: Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use `y_proba` instead."
            )))
        }
        (Some(p), None) | (None, Some(p)) => p,
        (None, None) => return Err(Error::Usage(format!("{OP}: missing input `y_proba`"))),
    };
    let yt = c.input("y_true")?;
    if yt.shape().len() != 1 {
        return Err(Error::shape(
            OP,
            format!("`y_true` must be 1-D class values, got shape {:?} (label-indicator matrices are not supported)", yt.shape()),
        ));
    }
    let y: Vec<f64> = yt.to_f64().iter().copied().collect();
    let sw = c.opt_input("sample_weight");
    let swv: Option<Vec<f64>> = sw.map(|w| w.to_f64().iter().copied().collect());
    if let Some(w) = sw {
        if w.shape().len() != 1 {
            return Err(Error::shape(OP, format!("`sample_weight` must be 1-D, got shape {:?}", w.shape())));
        }
    }
    let weights = swv
        .as_deref()
        .map(|v| sklearn::SampleWeight { values: v, promotes: sw.is_some_and(|w| !matches!(w.dtype(), DType::F32 | DType::F16)) });
    let labels: Option<Vec<f64>> = c.params.get("labels").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|v| v.as_f64()).collect());
    let norm = c.bool("normalize");
    let l = labels.as_deref();
    let v = match p {
        DynView::F64(a) => sklearn::log_loss(&y, a, weights, norm, l)?,
        DynView::F32(a) => sklearn::log_loss(&y, a, weights, norm, l)?,
        DynView::F16(a) => sklearn::log_loss::<f16>(&y, a, weights, norm, l)?,
        other => {
            // check_array casts integer probabilities to float64.
            let a = other.to_f64();
            sklearn::log_loss(&y, &a.view(), weights, norm, l)?
        }
    };
    Ok(DynArray::F64(ArrayD::from_elem(IxDyn(&[]), v)))
}

// --------------------------------------------------------------------------- more Optax

float_op!(optax_safe_sce, optax_safe_sce_t);
fn optax_safe_sce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, t) = (c.float::<T>("logits")?, c.float::<T>("labels")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::safe_softmax_cross_entropy(&x.view(), &t.view()),
        |u| jax::safe_softmax_cross_entropy_grad(&x.view(), &t.view(), u),
    )
}

float_op!(optax_sigmoid_bce, optax_sigmoid_bce_t);
fn optax_sigmoid_bce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, t) = (c.float::<T>("logits")?, c.float::<T>("labels")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::sigmoid_binary_cross_entropy(&x.view(), &t.view()),
        |u| jax::sigmoid_binary_cross_entropy_grad(&x.view(), &t.view(), u),
    )
}

float_op!(optax_focal, optax_focal_t);
fn optax_focal_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, t, a, gm) = (c.float::<T>("logits")?, c.float::<T>("labels")?, c.opt_f64("alpha"), c.f64("gamma")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::sigmoid_focal_loss(&x.view(), &t.view(), a, gm),
        |u| jax::sigmoid_focal_loss_grad(&x.view(), &t.view(), a, gm, u),
    )
}

float_op!(optax_poly, optax_poly_t);
fn optax_poly_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    need_float(c, "labels")?;
    let (x, t, w, e, axis) = (c.float::<T>("logits")?, c.float::<T>("labels")?, mask(c, "where"), c.f64("epsilon")?, c.i64("axis")?);
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::poly_loss_cross_entropy(&x.view(), &t.view(), wv.as_ref(), e, axis),
        |u| jax::poly_loss_cross_entropy_grad(&x.view(), &t.view(), wv.as_ref(), e, axis, u),
    )
}

float_op!(optax_kl, optax_kl_t);
fn optax_kl_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    need_float(c, "targets")?;
    let (x, t, w, axis) = (c.float::<T>("log_predictions")?, c.float::<T>("targets")?, mask(c, "where"), c.opt_i64("axis"));
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::kl_divergence(&x.view(), &t.view(), wv.as_ref(), axis),
        |u| jax::kl_divergence_grad(&x.view(), &t.view(), wv.as_ref(), axis, u),
    )
}

float_op!(optax_convex_kl, optax_convex_kl_t);
fn optax_convex_kl_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    need_float(c, "targets")?;
    let (x, t, w, axis) = (c.float::<T>("log_predictions")?, c.float::<T>("targets")?, mask(c, "where"), c.opt_i64("axis"));
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::convex_kl_divergence(&x.view(), &t.view(), wv.as_ref(), axis),
        |u| jax::convex_kl_divergence_grad(&x.view(), &t.view(), wv.as_ref(), axis, u),
    )
}

float_op!(optax_kl_log, optax_kl_log_t);
fn optax_kl_log_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    need_float(c, "log_targets")?;
    let (x, t, w, axis) = (c.float::<T>("log_predictions")?, c.float::<T>("log_targets")?, mask(c, "where"), c.opt_i64("axis"));
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Forward,
        || jax::kl_divergence_with_log_targets(&x.view(), &t.view(), wv.as_ref(), axis),
        |u| jax::kl_divergence_with_log_targets_grad(&x.view(), &t.view(), wv.as_ref(), axis, u),
    )
}

float_op!(optax_smooth_labels, optax_smooth_labels_t);
fn optax_smooth_labels_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (y, w, a, axis) = (c.float::<T>("labels")?, mask(c, "where"), c.f64("alpha")?, c.i64("axis")?);
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        Up::Like(y.shape().to_vec()),
        || jax::smooth_labels(&y.view(), wv.as_ref(), a, axis),
        |u| jax::smooth_labels_grad(&y.view(), wv.as_ref(), a, axis, u),
    )
}

//! Accuracy against float64 truth: on every float32 golden case with a float64
//! reference (`truth64`), xent's largest relative error is no larger than the
//! framework's own on the same case, with a slack of 4 float32 ulps: the criterion of
//! the project's `tools/accuracy.py`, run here through the op table so CI enforces it.
//!
//! The error of one output is `max_i |got_i − truth_i| / max(|truth_i|, 1e-6)` over the
//! elements whose truth is finite (a non-finite result there is an infinite error).

use std::path::Path;

use serde_json::Value;
use xent::DynArray;

/// 4 float32 ulps (relative).
const SLACK: f64 = 4.0 * f32::EPSILON as f64;

/// Outputs where xent is still less accurate than the framework, each with why. The
/// test fails if one of them becomes as accurate (then it leaves this list). Empty:
/// the last two (smoothed sparse and Keras probability gradients, which cancel in
/// float32) are evaluated in float64 and rounded once.
const KNOWN: &[(&str, &str)] = &[];

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "nan" | "NaN" => f64::NAN,
            "inf" | "Infinity" => f64::INFINITY,
            "-inf" | "-Infinity" => f64::NEG_INFINITY,
            other => other.parse().expect("numeric string"),
        },
        v => v.as_f64().expect("number"),
    }
}

fn data(v: &Value) -> Vec<f64> {
    v["data"].as_array().unwrap().iter().map(num).collect()
}

fn arr(v: &Value) -> DynArray {
    use ndarray::{ArrayD, IxDyn};
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let d = v["data"].as_array().unwrap();
    let sh = IxDyn(&shape);
    match v["dtype"].as_str().unwrap() {
        "float32" => DynArray::F32(ArrayD::from_shape_vec(sh, d.iter().map(|x| num(x) as f32).collect()).unwrap()),
        "float64" => DynArray::F64(ArrayD::from_shape_vec(sh, d.iter().map(num).collect()).unwrap()),
        "int32" => DynArray::I32(ArrayD::from_shape_vec(sh, d.iter().map(|x| x.as_i64().unwrap() as i32).collect()).unwrap()),
        "int64" => DynArray::I64(ArrayD::from_shape_vec(sh, d.iter().map(|x| x.as_i64().unwrap()).collect()).unwrap()),
        "bool" => DynArray::Bool(ArrayD::from_shape_vec(sh, d.iter().map(|x| x.as_bool().unwrap()).collect()).unwrap()),
        t => panic!("dtype {t}"),
    }
}

/// accuracy.py's error of `got` against `truth`.
fn err(got: &[f64], truth: &[f64]) -> f64 {
    let mut worst = 0.0f64;
    for (&g, &t) in got.iter().zip(truth) {
        if !t.is_finite() {
            continue;
        }
        if !g.is_finite() {
            return f64::INFINITY;
        }
        worst = worst.max((g - t).abs() / t.abs().max(1e-6));
    }
    worst
}

/// `(id[:d/dINPUT], xent error, framework error)` of every float32 output with truth64.
fn measure() -> Vec<(String, f64, f64)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut rows = Vec::new();
    for f in ["tf.jsonl", "keras.jsonl", "torch.jsonl"] {
        for line in std::fs::read_to_string(dir.join(f)).unwrap().lines() {
            let c: Value = serde_json::from_str(line).unwrap();
            let Some(t64) = c.get("truth64").filter(|t| !t.is_null()) else { continue };
            if c.get("error").is_some() || c["output"]["dtype"] != "float32" {
                continue;
            }
            let inputs: Vec<(String, DynArray)> = c["inputs"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), arr(v))).collect();
            let params: Vec<(String, Value)> = c["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let id = c["id"].as_str().unwrap();
            let mut targets = vec![(None, &c["output"], &t64["output"])];
            for g in c["grad"].as_array().unwrap() {
                let g = g.as_str().unwrap();
                targets.push((Some(g), &c["grads"][g], &t64["grads"][g]));
            }
            for (g, fw, truth) in targets {
                let got = xent::registry::eval(c["op"].as_str().unwrap(), inputs.clone(), params.clone(), g)
                    .unwrap_or_else(|e| panic!("{id} ({g:?}): {e}"));
                let got: Vec<f64> = got.to_f64().iter().copied().collect();
                let truth = data(truth);
                let name = match g {
                    Some(g) => format!("{id}:d/d{g}"),
                    None => id.to_string(),
                };
                rows.push((name, err(&got, &truth), err(&data(fw), &truth)));
            }
        }
    }
    rows
}

#[test]
fn never_less_accurate_than_the_framework() {
    let rows = measure();
    assert!(rows.len() >= 187, "the public golden set has 187 float32 outputs with truth64, found {}", rows.len());
    let mut worse = Vec::new();
    for (name, ex, ef) in &rows {
        let bad = *ex > ef.max(SLACK);
        let known = KNOWN.iter().any(|(k, _)| k == name);
        if bad != known {
            worse.push(if bad {
                format!("{name}: xent {ex:.3e} vs framework {ef:.3e}")
            } else {
                format!("{name}: now as accurate as the framework ({ex:.3e} vs {ef:.3e}): remove it from KNOWN")
            });
        }
    }
    assert!(worse.is_empty(), "{} outputs:\n{}", worse.len(), worse.join("\n"));
}

/// The criterion itself: a result equal to the truth passes, one off by more than the
/// framework's error and the slack fails.
#[test]
fn the_error_measure_matches_accuracy_py() {
    assert_eq!(err(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
    assert_eq!(err(&[1e-7], &[0.0]), 0.1); // absolute floor 1e-6
    assert_eq!(err(&[f64::NAN], &[1.0]), f64::INFINITY);
    assert_eq!(err(&[f64::NAN], &[f64::NAN]), 0.0); // non-finite truth is skipped
    assert!((err(&[1.5], &[2.0]) - 0.25).abs() < 1e-15);
}

fn f32s(shape: &[usize], v: &[f64]) -> DynArray {
    DynArray::F32(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), v.iter().map(|&x| x as f32).collect()).unwrap())
}

fn eval(op: &str, inputs: &[(&str, DynArray)], params: &[(&str, Value)], grad: Option<&str>) -> Vec<f64> {
    let inputs = inputs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let params = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    xent::registry::eval(op, inputs, params, grad).unwrap().to_f64().iter().copied().collect()
}

/// Within `u` float32 ulps of `want` (relative).
fn near(got: f64, want: f64, u: f64) -> bool {
    (got - want).abs() <= u * f64::from(f32::EPSILON) * want.abs()
}

fn sigma(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// PyTorch's float32 `torch.sigmoid` is `1/(1 + exp(−x))`: 0 where the exp overflows
/// (below about −88.72), subnormals kept above; its gradient `y·(1 − y)` is `y` there.
/// Values from PyTorch 2.15.0.
#[test]
fn torch_sigmoid_overflows_to_zero_as_pytorch() {
    let x = f32s(&[5], &[-95.0, -100.0, -88.0, -88.8, -87.0]);
    let want = [0.0, 0.0, 6.054601485195952e-39, 0.0, 1.6458114537543937e-38];
    assert_eq!(eval("torch.sigmoid", &[("input", x.clone())], &[], None), want);
    assert_eq!(eval("torch.sigmoid", &[("input", x)], &[], Some("input")), want);
    let x = DynArray::F64(ndarray::arr1(&[-709.0, -709.7, -709.8, -710.0]).into_dyn());
    let want = [1.216780750623423e-308, 6.04235438695844e-309, 0.0, 0.0];
    assert_eq!(eval("torch.sigmoid", &[("input", x.clone())], &[], None), want);
    assert_eq!(eval("torch.sigmoid", &[("input", x)], &[], Some("input")), want);
}

/// Sigmoid-family gradients near saturation keep their digits (`1 − σ(x)` as `σ(−x)`):
/// each within 2 ulps of the exact derivative, where the frameworks' forms lose
/// 1e-3 (sigmoid at 9.8) to 1e-4 (weighted CE at 7.4) relative.
#[test]
fn saturated_sigmoid_gradients_keep_their_digits() {
    let x = 9.805126190185547;
    let d = sigma(x) * sigma(-x);
    for (op, name) in [("tf.math.sigmoid", "x"), ("torch.sigmoid", "input")] {
        let got = eval(op, &[(name, f32s(&[1], &[x]))], &[], Some(name))[0];
        assert!(near(got, d, 2.0), "{op}: {got} vs {d}");
    }
    // weighted CE, z = 1, q = 2.5: −q·σ(−x) (TF: −0.001464229426, exact −0.0014642294...)
    let x = 7.442131042480469;
    let got = eval(
        "tf.nn.weighted_cross_entropy_with_logits",
        &[("labels", f32s(&[1], &[1.0])), ("logits", f32s(&[1], &[x]))],
        &[("pos_weight", serde_json::json!(2.5))],
        Some("logits"),
    )[0];
    assert!(near(got, -2.5 * sigma(-x), 2.0), "{got}");
    // sigmoid CE with a soft label: σ(x) − z
    let (x, z) = (11.394502639770508f64, f64::from(0.916_606_84_f32));
    let got =
        eval("tf.nn.sigmoid_cross_entropy_with_logits", &[("labels", f32s(&[1], &[z])), ("logits", f32s(&[1], &[x]))], &[], Some("logits"))
            [0];
    assert!(near(got, sigma(x) - z, 2.0), "{got}");
    // Keras binary_crossentropy(from_logits=True): (σ(x) − 1)/K for y = 1, K = 2
    let x = 6.458795547485352;
    let got = eval(
        "keras.losses.binary_crossentropy",
        &[("y_true", f32s(&[1, 2], &[1.0, 1.0])), ("y_pred", f32s(&[1, 2], &[x, x]))],
        &[("from_logits", serde_json::json!(true))],
        Some("y_pred"),
    );
    assert!(got.iter().all(|&g| near(g, -sigma(-x) / 2.0, 2.0)), "{got:?}");
    // PyTorch BCE with logits and pos_weight: (1 − y)·σ(x) − p·y·σ(−x)
    let got = eval(
        "torch.nn.functional.binary_cross_entropy_with_logits",
        &[("input", f32s(&[1], &[x])), ("target", f32s(&[1], &[1.0])), ("pos_weight", f32s(&[1], &[3.0]))],
        &[("reduction", serde_json::json!("sum"))],
        Some("input"),
    )[0];
    assert!(near(got, -3.0 * sigma(-x), 2.0), "{got}");
}

/// The gradient of `sum(softmax)` is 0 in exact arithmetic: exactly 0 here, on any axis
/// (the frameworks leave rounding noise of `|g|·eps`, up to 1e-8).
#[test]
fn softmax_sum_gradient_is_exactly_zero() {
    let x = f32s(&[3, 4], &[0.3, -1.2, 2.5, 0.0, 4.0, 4.0, -3.0, 1.5, 10.0, -10.0, 0.25, 7.75]);
    for (op, name, axis) in [("tf.nn.softmax", "logits", "axis"), ("torch.softmax", "input", "dim")] {
        for a in [0, 1, -1] {
            let g = eval(op, &[(name, x.clone())], &[(axis, serde_json::json!(a))], Some(name));
            assert!(g.iter().all(|&v| v == 0.0), "{op} {axis}={a}: {g:?}");
        }
    }
}

/// The log-softmax gradient of `sum(log_softmax)`, `1 − C·p`, to an ulp of its `f64`
/// value where it nearly cancels (the public-018 column, where `exp` of the rounded
/// log-softmax is 8 ulp off after the cancellation).
#[test]
fn log_softmax_gradient_to_an_ulp() {
    let col = [0.61289704, 0.58381951, 0.21024068, 0.70530015, -1.21543491, -1.73542345, 0.20175919];
    let x: Vec<f64> = col.iter().map(|&v| f64::from(v as f32)).collect();
    let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let l = m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
    for (op, name) in [("tf.nn.log_softmax", "logits"), ("torch.log_softmax", "input")] {
        let got = eval(op, &[(name, f32s(&[7], &x))], &[], Some(name));
        for (k, &g) in got.iter().enumerate() {
            let want = 1.0 - 7.0 * (x[k] - l).exp();
            assert!((g - want).abs() <= f64::from(f32::EPSILON) * want.abs(), "{op} {k}: {g} vs {want}");
        }
    }
}

/// Keras' categorical cross-entropy on probabilities with soft labels close to the
/// prediction: `(−t_k/q_k + Σ t)/s` cancels; float32 keeps it to an ulp or two (the
/// values in f64, the clip decisions on Keras' float32 `q`).
#[test]
fn keras_probability_gradient_with_soft_labels_to_an_ulp() {
    let t = [0.2f32, 0.3, 0.5];
    let p = [0.200_001f32, 0.299_999_5, 0.500_000_5];
    let (t64, p64): (Vec<f64>, Vec<f64>) = (t.iter().map(|&v| f64::from(v)).collect(), p.iter().map(|&v| f64::from(v)).collect());
    let s: f64 = p64.iter().sum();
    let st: f64 = t64.iter().sum();
    let got = eval(
        "keras.losses.categorical_crossentropy",
        &[("y_true", f32s(&[1, 3], &t64)), ("y_pred", f32s(&[1, 3], &p64))],
        &[],
        Some("y_pred"),
    );
    for k in 0..3 {
        let want = (-t64[k] / (p64[k] / s) + st) / s;
        assert!(near(got[k], want, 2.0), "{k}: {} vs {want}", got[k]);
    }
}

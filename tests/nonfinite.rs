//! What every op of the table does with a NaN, +inf or −inf in its input: the
//! behaviour docs/hardening.md tabulates, checked here element by element. In each
//! case one element, `[0, 1]` of a 2×3 float64 input, is special; the other row is
//! ordinary. A pattern has one character per output (or gradient) element:
//! `n` NaN, `+` +inf, `-` −inf, `0` exactly zero, `f` any other finite value;
//! `error` means the op refuses the input (exit 1 in the CLI).
//!
//! Every op follows its framework's formula, so a non-finite value spreads exactly as
//! in TensorFlow/Keras/PyTorch: through the row for the softmax family and the
//! categorical losses (the log-sum-exp or the renormalising sum mixes the row), to
//! the one element for the element-wise ops, nowhere for what the framework clips.

use ndarray::{ArrayD, IxDyn};
use serde_json::json;
use xent::registry::{InputKind, OpSpec, OPS};
use xent::DynArray;

/// (op, forward patterns for NaN / +inf / −inf in the prediction, gradient patterns).
/// Labels are [1, 2], one-hot/probability targets [[0, 1, 0], [0, 0, 1]], the
/// prediction [[0.2, x, 0.3], [0.1, 0.6, 0.3]], reduction "none".
const PREDICTION: &[(&str, [&str; 3], [&str; 3])] = &[
    ("tf.nn.softmax", ["nnnfff", "nnnfff", "f0ffff"], ["nnn000", "nnn000", "000000"]),
    ("tf.nn.log_softmax", ["nnnfff", "nnnfff", "f-ffff"], ["nnnfff", "nnnfff", "ffffff"]),
    ("tf.math.sigmoid", ["fnffff", "ffffff", "f0ffff"], ["fnffff", "f0ffff", "f0ffff"]),
    ("tf.math.log_sigmoid", ["fnffff", "f0ffff", "f-ffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("tf.nn.softmax_cross_entropy_with_logits", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("tf.nn.sparse_softmax_cross_entropy_with_logits", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("tf.nn.sigmoid_cross_entropy_with_logits", ["fnffff", "fnffff", "f+ffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("tf.nn.weighted_cross_entropy_with_logits", ["fnffff", "fnffff", "fnffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("keras.losses.categorical_crossentropy", ["nf", "nf", "nf"], ["nnnfff", "nnnfff", "nnnfff"]),
    ("keras.losses.sparse_categorical_crossentropy", ["nf", "ff", "ff"], ["n0nfff", "f0ffff", "f0ffff"]),
    ("keras.losses.binary_crossentropy", ["nf", "ff", "ff"], ["f0ffff", "f0ffff", "f0ffff"]),
    ("keras.losses.categorical_focal_crossentropy", ["nf", "nf", "nf"], ["nnnfff", "nnnfff", "nnnfff"]),
    ("keras.losses.binary_focal_crossentropy", ["nf", "nf", "nf"], ["fnffff", "fnffff", "fnffff"]),
    ("keras.losses.kl_divergence", ["nf", "ff", "ff"], ["f0ffff", "f0ffff", "f0ffff"]),
    ("keras.losses.CategoricalCrossentropy", ["nf", "nf", "nf"], ["nnnfff", "nnnfff", "nnnfff"]),
    ("keras.losses.SparseCategoricalCrossentropy", ["nf", "ff", "ff"], ["n0nfff", "f0ffff", "f0ffff"]),
    ("keras.losses.BinaryCrossentropy", ["nf", "ff", "ff"], ["f0ffff", "f0ffff", "f0ffff"]),
    ("torch.softmax", ["nnnfff", "nnnfff", "f0ffff"], ["nnn000", "nnn000", "000000"]),
    ("torch.log_softmax", ["nnnfff", "nnnfff", "f-ffff"], ["nnnfff", "nnnfff", "ffffff"]),
    ("torch.sigmoid", ["fnffff", "ffffff", "f0ffff"], ["fnffff", "f0ffff", "f0ffff"]),
    ("torch.nn.functional.logsigmoid", ["fnffff", "f0ffff", "f-ffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("torch.nn.functional.cross_entropy", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("torch.nn.functional.nll_loss", ["nf", "-f", "+f"], ["0f000f", "0f000f", "0f000f"]),
    ("torch.nn.functional.binary_cross_entropy", ["error", "error", "error"], ["error", "error", "error"]),
    ("torch.nn.functional.binary_cross_entropy_with_logits", ["fnffff", "fnffff", "fnffff"], ["fnffff", "f0ffff", "ffffff"]),
    // kl_div: target·(ln target − input) with 0·ln 0 = 0; the gradient −target never
    // depends on the input (PyTorch 2.15 gives the same patterns).
    ("torch.nn.functional.kl_div", ["0n000f", "0-000f", "0+000f"], ["0f000f", "0f000f", "0f000f"]),
    // The classes compute what their functions compute.
    ("keras.losses.KLDivergence", ["nf", "ff", "ff"], ["f0ffff", "f0ffff", "f0ffff"]),
    ("keras.losses.BinaryFocalCrossentropy", ["nf", "nf", "nf"], ["fnffff", "fnffff", "fnffff"]),
    ("keras.losses.CategoricalFocalCrossentropy", ["nf", "nf", "nf"], ["nnnfff", "nnnfff", "nnnfff"]),
    ("torch.nn.CrossEntropyLoss", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("torch.nn.NLLLoss", ["nf", "-f", "+f"], ["0f000f", "0f000f", "0f000f"]),
    ("torch.nn.BCELoss", ["error", "error", "error"], ["error", "error", "error"]),
    ("torch.nn.BCEWithLogitsLoss", ["fnffff", "fnffff", "fnffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("torch.nn.KLDivLoss", ["0n000f", "0-000f", "0+000f"], ["0f000f", "0f000f", "0f000f"]),
    // The fused linear ops: a NaN or ±inf input element times the weight's zeros is NaN
    // (IEEE, as in PyTorch's matmul), so the whole row of logits, its loss and its
    // d input are NaN; the other row is untouched (PyTorch 2.15 gives the same).
    ("torch.nn.functional.linear_cross_entropy", ["nf", "nf", "nf"], ["nnnfff", "nnnfff", "nnnfff"]),
    ("cut_cross_entropy.linear_cross_entropy", ["nf", "nf", "nf"], ["nnnfff", "nnnfff", "nnnfff"]),
    // JAX 0.10.2 / Optax 0.2.8 (x64 on, `jax.grad` of the sum), from the real libraries.
    ("jax.nn.softmax", ["nnnfff", "nnnfff", "f0ffff"], ["nnn000", "nnn000", "000000"]),
    ("jax.nn.log_softmax", ["nnnfff", "nnnfff", "f-ffff"], ["nnnfff", "nnnfff", "ffffff"]),
    ("jax.nn.sigmoid", ["fnffff", "ffffff", "f0ffff"], ["fnffff", "f0ffff", "f0ffff"]),
    ("jax.nn.log_sigmoid", ["fnffff", "f0ffff", "f-ffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("jax.nn.logsumexp", ["n", "+", "f"], ["nnnnnn", "0n0000", "f0ffff"]),
    ("optax.losses.softmax_cross_entropy", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("optax.losses.softmax_cross_entropy_with_integer_labels", ["nf", "nf", "+f"], ["nnnfff", "0n0fff", "ffffff"]),
    ("optax.losses.safe_softmax_cross_entropy", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("optax.losses.sigmoid_binary_cross_entropy", ["fnffff", "fnffff", "f+ffff"], ["fnffff", "f0ffff", "ffffff"]),
    ("optax.losses.sigmoid_focal_loss", ["fnffff", "fnffff", "f+ffff"], ["fnffff", "fnffff", "fnffff"]),
    ("optax.losses.poly_loss_cross_entropy", ["nf", "nf", "+f"], ["nnnfff", "nnnfff", "ffffff"]),
    ("optax.losses.kl_divergence", ["nf", "-f", "+f"], ["0f000f", "0f000f", "0f000f"]),
    ("optax.losses.convex_kl_divergence", ["nf", "nf", "+f"], ["fnffff", "f+ffff", "ffffff"]),
    ("optax.losses.kl_divergence_with_log_targets", ["nf", "-f", "+f"], ["ffffff", "ffffff", "ffffff"]),
    ("optax.losses.smooth_labels", ["fnffff", "f+ffff", "f-ffff"], ["ffffff", "ffffff", "ffffff"]),
];

/// The same with the special value in the float target (y_true, labels, target) at
/// `[0, 1]`, where it is 1.
const TARGET: &[(&str, [&str; 3], [&str; 3])] = &[
    ("tf.nn.softmax_cross_entropy_with_logits", ["nf", "+f", "-f"], ["fnffff", "f-ffff", "f+ffff"]),
    ("tf.nn.sigmoid_cross_entropy_with_logits", ["fnffff", "f-ffff", "f+ffff"], ["fnffff", "f-ffff", "f+ffff"]),
    ("tf.nn.weighted_cross_entropy_with_logits", ["fnffff", "fnffff", "fnffff"], ["fnffff", "fnffff", "fnffff"]),
    ("keras.losses.categorical_crossentropy", ["nf", "+f", "-f"], ["nnnfff", "+n+fff", "-n-fff"]),
    ("keras.losses.binary_crossentropy", ["nf", "nf", "nf"], ["fnffff", "f-ffff", "f+ffff"]),
    ("keras.losses.categorical_focal_crossentropy", ["nf", "+f", "-f"], ["nnnfff", "+n+fff", "-n-fff"]),
    ("keras.losses.binary_focal_crossentropy", ["nf", "nf", "nf"], ["fnffff", "fnffff", "fnffff"]),
    ("keras.losses.kl_divergence", ["nf", "ff", "ff"], ["fnffff", "ffffff", "ffffff"]),
    ("keras.losses.CategoricalCrossentropy", ["nf", "+f", "-f"], ["nnnfff", "+n+fff", "-n-fff"]),
    ("keras.losses.BinaryCrossentropy", ["nf", "nf", "nf"], ["fnffff", "f-ffff", "f+ffff"]),
    ("torch.nn.functional.binary_cross_entropy", ["error", "error", "error"], ["error", "error", "error"]),
    ("torch.nn.functional.binary_cross_entropy_with_logits", ["fnffff", "f-ffff", "f+ffff"], ["fnffff", "f-ffff", "f+ffff"]),
    // kl_div: ∞·ln ∞ − ∞·x and −∞·ln(−∞) are NaN; the gradient is −target.
    ("torch.nn.functional.kl_div", ["0n000f", "0n000f", "0n000f"], ["0n000f", "0-000f", "0+000f"]),
    ("torch.nn.KLDivLoss", ["0n000f", "0n000f", "0n000f"], ["0n000f", "0-000f", "0+000f"]),
    ("keras.losses.KLDivergence", ["nf", "ff", "ff"], ["fnffff", "ffffff", "ffffff"]),
    ("keras.losses.CategoricalFocalCrossentropy", ["nf", "+f", "-f"], ["nnnfff", "+n+fff", "-n-fff"]),
    ("keras.losses.BinaryFocalCrossentropy", ["nf", "nf", "nf"], ["fnffff", "fnffff", "fnffff"]),
    ("torch.nn.BCELoss", ["error", "error", "error"], ["error", "error", "error"]),
    ("torch.nn.BCEWithLogitsLoss", ["fnffff", "f-ffff", "f+ffff"], ["fnffff", "f-ffff", "f+ffff"]),
];

fn pattern(r: &xent::Result<DynArray>) -> String {
    match r {
        Err(_) => "error".into(),
        Ok(a) => a
            .to_f64()
            .iter()
            .map(|&v| match v {
                v if v.is_nan() => 'n',
                f64::INFINITY => '+',
                f64::NEG_INFINITY => '-',
                0.0 => '0',
                _ => 'f',
            })
            .collect(),
    }
}

/// Run `op` with `special` at `[0, 1]` of the prediction (or of the float target):
/// the forward and gradient patterns.
fn run(op: &OpSpec, special: f64, in_target: bool) -> (String, String) {
    let pred = op.grad_wrt[0];
    let labels = || DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1, 2]).unwrap());
    let inputs: Vec<(String, DynArray)> = op
        .inputs
        .iter()
        .filter(|i| !i.optional)
        .map(|i| {
            let a = match i.kind {
                InputKind::Labels(_) | InputKind::Any => labels(),
                // The fused linear ops' weight: 3 classes × 3 features, a permutation, so
                // that logits = [[x1, x2, x0], ...] and the labels [1, 2] fit.
                InputKind::Float if matches!(i.name, "linear_weight" | "c") => {
                    DynArray::F64(ArrayD::from_shape_vec(IxDyn(&[3, 3]), vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]).unwrap())
                }
                InputKind::Float => {
                    let mut v = if i.name == pred { vec![0.2, 0.5, 0.3, 0.1, 0.6, 0.3] } else { vec![0.0, 1.0, 0.0, 0.0, 0.0, 1.0] };
                    if (i.name == pred) != in_target {
                        v[1] = special;
                    }
                    DynArray::F64(ArrayD::from_shape_vec(IxDyn(&[2, 3]), v).unwrap())
                }
            };
            (i.name.to_string(), a)
        })
        .collect();
    let mut params = vec![];
    if op.params.iter().any(|p| p.name == "reduction") {
        params.push(("reduction".to_string(), json!("none")));
    }
    if op.name == "tf.nn.weighted_cross_entropy_with_logits" {
        params.push(("pos_weight".to_string(), json!(2.0)));
    }
    if op.name == "optax.losses.smooth_labels" {
        params.push(("alpha".to_string(), json!(0.1)));
    }
    let f = xent::registry::eval(op.name, inputs.clone(), params.clone(), None);
    let g = xent::registry::eval(op.name, inputs, params, Some(pred));
    (pattern(&f), pattern(&g))
}

fn check(table: &[(&str, [&str; 3], [&str; 3])], in_target: bool) -> usize {
    let mut wrong = Vec::new();
    for (name, fwd, grad) in table {
        let op = xent::registry::find(name).unwrap();
        for (k, special) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY].into_iter().enumerate() {
            let (f, g) = run(op, special, in_target);
            if f != fwd[k] || g != grad[k] {
                wrong.push(format!("{name} with {special}: forward {f} (documented {}), gradient {g} (documented {})", fwd[k], grad[k]));
            }
        }
    }
    assert!(wrong.is_empty(), "behaviour differs from docs/hardening.md:\n{}", wrong.join("\n"));
    table.len()
}

#[test]
fn non_finite_predictions_behave_as_documented() {
    let n = check(PREDICTION, false);
    // Every op with a float prediction is in the table.
    let with_pred = OPS.iter().filter(|o| !o.grad_wrt.is_empty()).count();
    assert_eq!(n, with_pred);
}

#[test]
fn non_finite_float_targets_behave_as_documented() {
    check(TARGET, true);
}

/// Keras casts float class labels to int64; NaN and ±inf are not class indices.
#[test]
fn non_finite_class_labels_are_errors() {
    for name in ["keras.losses.sparse_categorical_crossentropy", "keras.losses.SparseCategoricalCrossentropy"] {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let y = DynArray::F64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0, v]).unwrap());
            let p = DynArray::F64(ArrayD::from_elem(IxDyn(&[2, 3]), 0.25));
            let e = xent::registry::eval(name, vec![("y_true".into(), y), ("y_pred".into(), p)], vec![], None).unwrap_err();
            assert_eq!(e.to_string(), format!("{name}: `y_true` element 1 is {v:?}, which is not a class index"));
        }
    }
}

fn f64s(shape: &[usize], v: &[f64]) -> DynArray {
    DynArray::F64(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

fn eval(op: &str, inputs: &[(&str, DynArray)], params: &[(&str, serde_json::Value)]) -> Vec<f64> {
    let ins = inputs.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
    let ps = params.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    xent::registry::eval(op, ins, ps, None).unwrap().to_f64().iter().copied().collect()
}

fn same(got: &[f64], want: &[f64]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(a, b)| (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() < 1e-12)
}

/// The cases the table in docs/hardening.md spells out beyond the patterns above.
#[test]
fn documented_corner_cases() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    // A row of only -inf: NaN (-inf - -inf), as TF and PyTorch.
    let r = eval("tf.nn.softmax", &[("logits", f64s(&[1, 2], &[-inf, -inf]))], &[]);
    assert!(r.iter().all(|v| v.is_nan()), "{r:?}");
    // TF softmax CE: -inf where the label is 0 gives 0·inf = NaN; where it is > 0, +inf.
    let x = f64s(&[2, 2], &[-inf, 0.0, -inf, 0.0]);
    let r =
        eval("tf.nn.softmax_cross_entropy_with_logits", &[("labels", f64s(&[2, 2], &[0.0, 1.0, 1.0, 0.0])), ("logits", x.clone())], &[]);
    assert!(same(&r, &[nan, inf]), "{r:?}");
    // Sparse: -inf away from the label changes nothing; at the label, +inf.
    let y = DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1, 0]).unwrap());
    let r = eval("tf.nn.sparse_softmax_cross_entropy_with_logits", &[("labels", y.clone()), ("logits", x.clone())], &[]);
    assert!(same(&r, &[0.0, inf]), "{r:?}");
    // PyTorch CE: with label smoothing, -inf anywhere in the row is +inf.
    let ce = "torch.nn.functional.cross_entropy";
    let r = eval(ce, &[("input", x.clone()), ("target", y.clone())], &[("reduction", json!("none"))]);
    assert!(same(&r, &[0.0, inf]), "{r:?}");
    let r = eval(ce, &[("input", x), ("target", y)], &[("reduction", json!("none")), ("label_smoothing", json!(0.1))]);
    assert!(same(&r, &[inf, inf]), "{r:?}");
    // Element-wise logits losses at z = 0 and z = 1.
    let z = f64s(&[4], &[0.0, 1.0, 0.0, 1.0]);
    let x = f64s(&[4], &[inf, inf, -inf, -inf]);
    let r = eval("tf.nn.sigmoid_cross_entropy_with_logits", &[("labels", z.clone()), ("logits", x.clone())], &[]);
    assert!(same(&r, &[nan, nan, nan, inf]), "{r:?}"); // +inf: inf - inf·z is NaN for any z
    let r =
        eval("tf.nn.weighted_cross_entropy_with_logits", &[("labels", z.clone()), ("logits", x.clone())], &[("pos_weight", json!(2.0))]);
    assert!(same(&r, &[inf, nan, nan, nan]), "{r:?}");
    let r = eval("torch.nn.functional.binary_cross_entropy_with_logits", &[("input", x), ("target", z)], &[("reduction", json!("none"))]);
    assert!(same(&r, &[inf, nan, nan, nan]), "{r:?}");
    // PyTorch's mean with every target ignored: 0/0.
    let x = f64s(&[2, 2], &[0.0, 1.0, 2.0, 3.0]);
    let ignored = DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![-100, -100]).unwrap());
    let r = eval(ce, &[("input", x.clone()), ("target", ignored)], &[]);
    assert!(r[0].is_nan(), "{r:?}");
    // Keras' ignore_class gives 0 instead.
    let yk = DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1, 1]).unwrap());
    let r = eval(
        "keras.losses.SparseCategoricalCrossentropy",
        &[("y_true", yk), ("y_pred", x)],
        &[("ignore_class", json!(1)), ("from_logits", json!(true))],
    );
    assert_eq!(r, [0.0]);
    // Keras renormalises probabilities: a row of zeros is 0/0.
    let r = eval(
        "keras.losses.categorical_crossentropy",
        &[("y_true", f64s(&[1, 2], &[1.0, 0.0])), ("y_pred", f64s(&[1, 2], &[0.0, 0.0]))],
        &[],
    );
    assert!(r[0].is_nan(), "{r:?}");
}

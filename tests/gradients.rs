//! Finite-difference checks, in float64, of the gradient of every differentiable op in
//! the op table: `--grad NAME` must equal the central difference of `sum(output)`.
//! Inputs are drawn inside each op's smooth domain (probabilities away from the clip
//! bounds, normalised label rows where TF's fused kernel assumes them).

use ndarray::{ArrayD, IxDyn};
use serde_json::{json, Value};
use xent::{registry, DynArray};

/// Test inputs from the crate's seeded generator.
struct Rng(xent::rng::SplitMix64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0.next_f64()
    }
    fn normal(&mut self) -> f64 {
        self.0.normal()
    }
    fn arr(&mut self, shape: &[usize], f: impl Fn(&mut Rng) -> f64) -> ArrayD<f64> {
        let n = shape.iter().product();
        ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|_| f(self)).collect()).unwrap()
    }
    fn logits(&mut self, shape: &[usize]) -> DynArray {
        DynArray::F64(self.arr(shape, |r| 2.0 * r.normal()))
    }
    fn probs(&mut self, shape: &[usize]) -> DynArray {
        DynArray::F64(self.arr(shape, |r| 0.05 + 0.9 * r.next()))
    }
    /// Rows (along the last axis) that sum to 1.
    fn dist(&mut self, shape: &[usize]) -> DynArray {
        let mut a = self.arr(shape, |r| 0.1 + r.next());
        for mut row in a.rows_mut() {
            let s: f64 = row.sum();
            row.mapv_inplace(|v| v / s);
        }
        DynArray::F64(a)
    }
    fn labels(&mut self, shape: &[usize], classes: usize) -> DynArray {
        DynArray::I64(self.arr(shape, |r| (r.next() * classes as f64).floor()).mapv(|v| v as i64))
    }
}

fn sum(a: &DynArray) -> f64 {
    a.to_f64().sum()
}

/// Compare the analytic gradient with central differences of sum(output).
fn check(op: &str, inputs: Vec<(&str, DynArray)>, params: Vec<(&str, Value)>, wrt: &str) {
    let inputs: Vec<(String, DynArray)> = inputs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let params: Vec<(String, Value)> = params.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let grad = registry::eval(op, inputs.clone(), params.clone(), Some(wrt)).unwrap_or_else(|e| panic!("{op}: {e}")).to_f64();
    let idx = inputs.iter().position(|(k, _)| k == wrt).unwrap();
    let DynArray::F64(x0) = &inputs[idx].1 else { panic!("f64 input") };
    assert_eq!(grad.shape(), x0.shape(), "{op}: gradient shape");
    let h = 1e-6;
    for (i, g) in grad.iter().enumerate() {
        let f = |d: f64| {
            let mut x = x0.clone();
            *x.iter_mut().nth(i).unwrap() += d;
            let mut ins = inputs.clone();
            ins[idx].1 = DynArray::F64(x);
            sum(&registry::eval(op, ins, params.clone(), None).unwrap())
        };
        let fd = (f(h) - f(-h)) / (2.0 * h);
        let tol = 1e-6 + 1e-5 * fd.abs();
        assert!((g - fd).abs() <= tol, "{op} {params:?}: d/d{wrt}[{i}] analytic {g} vs finite difference {fd}");
    }
}

#[test]
fn every_differentiable_op_is_covered() {
    // Keep this list in step with the table: a new op must get a check below.
    let covered = [
        "tf.nn.softmax",
        "tf.nn.log_softmax",
        "tf.math.sigmoid",
        "tf.math.log_sigmoid",
        "tf.nn.softmax_cross_entropy_with_logits",
        "tf.nn.sparse_softmax_cross_entropy_with_logits",
        "tf.nn.sigmoid_cross_entropy_with_logits",
        "tf.nn.weighted_cross_entropy_with_logits",
        "keras.losses.categorical_crossentropy",
        "keras.losses.sparse_categorical_crossentropy",
        "keras.losses.binary_crossentropy",
        "keras.losses.categorical_focal_crossentropy",
        "keras.losses.binary_focal_crossentropy",
        "keras.losses.kl_divergence",
        "keras.losses.CategoricalCrossentropy",
        "keras.losses.SparseCategoricalCrossentropy",
        "keras.losses.BinaryCrossentropy",
        "torch.softmax",
        "torch.log_softmax",
        "torch.sigmoid",
        "torch.nn.functional.logsigmoid",
        "torch.nn.functional.cross_entropy",
        "torch.nn.functional.nll_loss",
        "torch.nn.functional.binary_cross_entropy",
        "torch.nn.functional.binary_cross_entropy_with_logits",
        "keras.losses.KLDivergence",
        "keras.losses.BinaryFocalCrossentropy",
        "keras.losses.CategoricalFocalCrossentropy",
        "torch.nn.functional.kl_div",
        "torch.nn.CrossEntropyLoss",
        "torch.nn.NLLLoss",
        "torch.nn.BCELoss",
        "torch.nn.BCEWithLogitsLoss",
        "torch.nn.KLDivLoss",
        "torch.nn.functional.linear_cross_entropy",
        "cut_cross_entropy.linear_cross_entropy",
        "jax.nn.softmax",
        "jax.nn.log_softmax",
        "jax.nn.sigmoid",
        "jax.nn.log_sigmoid",
        "jax.nn.logsumexp",
        "optax.losses.softmax_cross_entropy",
        "optax.losses.softmax_cross_entropy_with_integer_labels",
        "optax.losses.safe_softmax_cross_entropy",
        "optax.losses.sigmoid_binary_cross_entropy",
        "optax.losses.sigmoid_focal_loss",
        "optax.losses.poly_loss_cross_entropy",
        "optax.losses.kl_divergence",
        "optax.losses.convex_kl_divergence",
        "optax.losses.kl_divergence_with_log_targets",
        "optax.losses.smooth_labels",
    ];
    for op in registry::OPS.iter().filter(|o| !o.grad_wrt.is_empty()) {
        assert!(covered.contains(&op.name), "{} has a gradient but no finite-difference check", op.name);
    }
}

#[test]
fn tf_gradients() {
    let mut r = Rng(xent::rng::SplitMix64::new(1));
    for axis in [-1, 0, 1] {
        check("tf.nn.softmax", vec![("logits", r.logits(&[3, 4, 2]))], vec![("axis", json!(axis))], "logits");
        check("tf.nn.log_softmax", vec![("logits", r.logits(&[3, 4, 2]))], vec![("axis", json!(axis))], "logits");
    }
    check("tf.math.sigmoid", vec![("x", r.logits(&[3, 4]))], vec![], "x");
    check("tf.math.log_sigmoid", vec![("x", r.logits(&[3, 4]))], vec![], "x");
    check("tf.nn.softmax_cross_entropy_with_logits", vec![("labels", r.dist(&[3, 5])), ("logits", r.logits(&[3, 5]))], vec![], "logits");
    check(
        "tf.nn.sparse_softmax_cross_entropy_with_logits",
        vec![("labels", r.labels(&[2, 3], 5)), ("logits", r.logits(&[2, 3, 5]))],
        vec![],
        "logits",
    );
    check("tf.nn.sigmoid_cross_entropy_with_logits", vec![("labels", r.probs(&[3, 4])), ("logits", r.logits(&[3, 4]))], vec![], "logits");
    check(
        "tf.nn.weighted_cross_entropy_with_logits",
        vec![("labels", r.probs(&[3, 4])), ("logits", r.logits(&[3, 4]))],
        vec![("pos_weight", json!(2.5))],
        "logits",
    );
}

#[test]
fn keras_gradients() {
    let mut r = Rng(xent::rng::SplitMix64::new(2));
    for (fl, ls) in [(false, 0.0), (true, 0.0), (false, 0.1), (true, 0.2)] {
        let pred = if fl { r.logits(&[4, 5]) } else { r.probs(&[4, 5]) };
        check(
            "keras.losses.categorical_crossentropy",
            vec![("y_true", r.dist(&[4, 5])), ("y_pred", pred.clone())],
            vec![("from_logits", json!(fl)), ("label_smoothing", json!(ls))],
            "y_pred",
        );
        check(
            "keras.losses.categorical_focal_crossentropy",
            vec![("y_true", r.dist(&[4, 5])), ("y_pred", pred.clone())],
            vec![("from_logits", json!(fl)), ("label_smoothing", json!(ls)), ("gamma", json!(1.5))],
            "y_pred",
        );
        let bpred = if fl { r.logits(&[4, 3]) } else { r.probs(&[4, 3]) };
        check(
            "keras.losses.binary_crossentropy",
            vec![("y_true", r.probs(&[4, 3])), ("y_pred", bpred.clone())],
            vec![("from_logits", json!(fl)), ("label_smoothing", json!(ls))],
            "y_pred",
        );
        check(
            "keras.losses.binary_focal_crossentropy",
            vec![("y_true", r.probs(&[4, 3])), ("y_pred", bpred)],
            vec![("from_logits", json!(fl)), ("apply_class_balancing", json!(true)), ("alpha", json!(0.3))],
            "y_pred",
        );
        check(
            "keras.losses.sparse_categorical_crossentropy",
            vec![("y_true", r.labels(&[4], 5)), ("y_pred", pred.clone())],
            vec![("from_logits", json!(fl))],
            "y_pred",
        );
        check(
            "keras.losses.sparse_categorical_crossentropy",
            vec![("y_true", DynArray::I64(ndarray::array![0i64, 4, 2, 4].into_dyn())), ("y_pred", pred)],
            vec![("from_logits", json!(fl)), ("ignore_class", json!(4))],
            "y_pred",
        );
    }
    check(
        "keras.losses.categorical_crossentropy",
        vec![("y_true", r.dist(&[5, 3])), ("y_pred", r.probs(&[5, 3]))],
        vec![("axis", json!(0))],
        "y_pred",
    );
    check("keras.losses.kl_divergence", vec![("y_true", r.dist(&[3, 4])), ("y_pred", r.probs(&[3, 4]))], vec![], "y_pred");
    // The loss classes compute in float32 through the table (Keras' floatx), so check
    // them through the library in float64.
    for red in ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"] {
        let red = xent::keras::KerasReduction::parse(red).unwrap();
        let sw = ndarray::array![0.5, 2.0, 1.0, 0.0].into_dyn();
        let out: Vec<usize> = if red == xent::keras::KerasReduction::None { vec![4] } else { vec![] };
        let (t, x) = (r.dist(&[4, 3]).to_f64(), r.logits(&[4, 3]).to_f64());
        let l = xent::keras::CategoricalCrossentropy { from_logits: true, axis: -1, reduction: red, ..Default::default() };
        check_fn(
            "CategoricalCrossentropy",
            &out,
            &x,
            |x| l.call(&t.view(), &x.view(), Some(&sw.view())).unwrap().sum(),
            |g| l.grad(&t.view(), &x.view(), Some(&sw.view()), g).unwrap(),
        );
        let y = ndarray::array![0i64, 2, 1, 2].into_dyn();
        let p = r.probs(&[4, 3]).to_f64();
        let l = xent::keras::SparseCategoricalCrossentropy { ignore_class: Some(1), axis: -1, reduction: red, ..Default::default() };
        check_fn(
            "SparseCategoricalCrossentropy",
            &out,
            &p,
            |p| l.call(&y.view(), &p.view(), Some(&sw.view())).unwrap().sum(),
            |g| l.grad(&y.view(), &p.view(), Some(&sw.view()), g).unwrap(),
        );
        let (t, p) = (r.dist(&[4, 3]).to_f64(), r.probs(&[4, 3]).to_f64());
        let l = xent::keras::KLDivergence { reduction: red };
        check_fn(
            "KLDivergence",
            &out,
            &p,
            |p| l.call(&t.view(), &p.view(), Some(&sw.view())).unwrap().sum(),
            |g| l.grad(&t.view(), &p.view(), Some(&sw.view()), g).unwrap(),
        );
        for fl in [false, true] {
            let p = if fl { r.logits(&[4, 3]).to_f64() } else { r.probs(&[4, 3]).to_f64() };
            let l = xent::keras::CategoricalFocalCrossentropy {
                from_logits: fl,
                gamma: 1.5,
                label_smoothing: 0.1,
                reduction: red,
                ..Default::default()
            };
            check_fn(
                "CategoricalFocalCrossentropy",
                &out,
                &p,
                |p| l.call(&t.view(), &p.view(), Some(&sw.view())).unwrap().sum(),
                |g| l.grad(&t.view(), &p.view(), Some(&sw.view()), g).unwrap(),
            );
            let tb = r.probs(&[4, 3]).to_f64();
            let l =
                xent::keras::BinaryFocalCrossentropy { from_logits: fl, apply_class_balancing: true, reduction: red, ..Default::default() };
            check_fn(
                "BinaryFocalCrossentropy",
                &out,
                &p,
                |p| l.call(&tb.view(), &p.view(), Some(&sw.view())).unwrap().sum(),
                |g| l.grad(&tb.view(), &p.view(), Some(&sw.view()), g).unwrap(),
            );
        }
        let (t, p) = (r.probs(&[4, 2]).to_f64(), r.probs(&[4, 2]).to_f64());
        let l = xent::keras::BinaryCrossentropy { axis: -1, reduction: red, ..Default::default() };
        check_fn(
            "BinaryCrossentropy",
            &out,
            &p,
            |p| l.call(&t.view(), &p.view(), Some(&sw.view())).unwrap().sum(),
            |g| l.grad(&t.view(), &p.view(), Some(&sw.view()), g).unwrap(),
        );
    }
}

/// Finite differences of `f` at `x0` against `grad(ones)`.
fn check_fn(
    name: &str,
    out_shape: &[usize],
    x0: &ArrayD<f64>,
    f: impl Fn(&ArrayD<f64>) -> f64,
    grad: impl Fn(&ndarray::ArrayViewD<f64>) -> ArrayD<f64>,
) {
    let g = grad(&ArrayD::from_elem(IxDyn(out_shape), 1.0).view());
    let h = 1e-6;
    for i in 0..x0.len() {
        let mut a = x0.clone();
        *a.iter_mut().nth(i).unwrap() += h;
        let mut b = x0.clone();
        *b.iter_mut().nth(i).unwrap() -= h;
        let fd = (f(&a) - f(&b)) / (2.0 * h);
        let an = *g.iter().nth(i).unwrap();
        assert!((an - fd).abs() <= 1e-6 + 1e-5 * fd.abs(), "{name}: [{i}] analytic {an} vs finite difference {fd}");
    }
}

#[test]
fn torch_gradients() {
    let mut r = Rng(xent::rng::SplitMix64::new(3));
    for dim in [0, 1, -1] {
        check("torch.softmax", vec![("input", r.logits(&[2, 3, 4]))], vec![("dim", json!(dim))], "input");
        check("torch.log_softmax", vec![("input", r.logits(&[2, 3, 4]))], vec![("dim", json!(dim))], "input");
    }
    check("torch.sigmoid", vec![("input", r.logits(&[3, 4]))], vec![], "input");
    check("torch.nn.functional.logsigmoid", vec![("input", r.logits(&[3, 4]))], vec![], "input");
    let w = DynArray::F64(ndarray::array![0.5, 1.0, 2.0, 1.5].into_dyn());
    for red in ["mean", "sum", "none"] {
        for ls in [0.0, 0.2] {
            let y = DynArray::I64(ndarray::array![0i64, 3, -100, 2, 3].into_dyn());
            check(
                "torch.nn.functional.cross_entropy",
                vec![("input", r.logits(&[5, 4])), ("target", y.clone()), ("weight", w.clone())],
                vec![("reduction", json!(red)), ("label_smoothing", json!(ls))],
                "input",
            );
            check(
                "torch.nn.functional.cross_entropy",
                vec![("input", r.logits(&[2, 4, 3])), ("target", r.labels(&[2, 3], 4))],
                vec![("reduction", json!(red)), ("label_smoothing", json!(ls))],
                "input",
            );
            check(
                "torch.nn.functional.cross_entropy",
                vec![("input", r.logits(&[3, 4])), ("target", r.probs(&[3, 4])), ("weight", w.clone())],
                vec![("reduction", json!(red)), ("label_smoothing", json!(ls))],
                "input",
            );
        }
        check(
            "torch.nn.functional.nll_loss",
            vec![
                ("input", r.logits(&[5, 4])),
                ("target", DynArray::I64(ndarray::array![0i64, 3, 1, 2, 1].into_dyn())),
                ("weight", w.clone()),
            ],
            vec![("reduction", json!(red)), ("ignore_index", json!(1))],
            "input",
        );
        check(
            "torch.nn.functional.binary_cross_entropy",
            vec![("input", r.probs(&[3, 4])), ("target", r.probs(&[3, 4])), ("weight", r.probs(&[4]))],
            vec![("reduction", json!(red))],
            "input",
        );
        check(
            "torch.nn.functional.binary_cross_entropy_with_logits",
            vec![("input", r.logits(&[3, 4])), ("target", r.probs(&[3, 4])), ("weight", r.probs(&[3, 4])), ("pos_weight", r.probs(&[4]))],
            vec![("reduction", json!(red))],
            "input",
        );
        // The torch.nn classes through the table (float64 in, float64 out).
        check(
            "torch.nn.CrossEntropyLoss",
            vec![
                ("input", r.logits(&[5, 4])),
                ("target", DynArray::I64(ndarray::array![0i64, 3, -100, 2, 3].into_dyn())),
                ("weight", w.clone()),
            ],
            vec![("reduction", json!(red)), ("label_smoothing", json!(0.1))],
            "input",
        );
        check(
            "nn.NLLLoss",
            vec![("input", r.logits(&[5, 4])), ("target", DynArray::I64(ndarray::array![0i64, 3, 1, 2, 1].into_dyn()))],
            vec![("reduction", json!(red))],
            "input",
        );
        check(
            "torch.nn.BCELoss",
            vec![("input", r.probs(&[3, 4])), ("target", r.probs(&[3, 4]))],
            vec![("reduction", json!(red))],
            "input",
        );
        check(
            "torch.nn.BCEWithLogitsLoss",
            vec![("input", r.logits(&[3, 4])), ("target", r.probs(&[3, 4])), ("pos_weight", r.probs(&[4]))],
            vec![("reduction", json!(red))],
            "input",
        );
    }
    for red in ["none", "batchmean", "sum", "mean"] {
        for lt in [false, true] {
            let t = if lt { r.logits(&[3, 4]) } else { r.dist(&[3, 4]) };
            check(
                "torch.nn.functional.kl_div",
                vec![("input", r.logits(&[3, 4])), ("target", t.clone())],
                vec![("reduction", json!(red)), ("log_target", json!(lt))],
                "input",
            );
            // Broadcast: input (4,) against target (3, 4), and input (3, 1) against (3, 4).
            check(
                "torch.nn.KLDivLoss",
                vec![("input", r.logits(&[4])), ("target", t.clone())],
                vec![("reduction", json!(red)), ("log_target", json!(lt))],
                "input",
            );
            check(
                "torch.nn.KLDivLoss",
                vec![("input", r.logits(&[3, 1])), ("target", t)],
                vec![("reduction", json!(red)), ("log_target", json!(lt))],
                "input",
            );
        }
    }
}

/// The fused linear ops, with every option that changes the gradient, against central
/// differences; each gradient input in turn.
#[test]
fn fused_linear_gradients() {
    let mut r = Rng(xent::rng::SplitMix64::new(12));
    let op = "torch.nn.functional.linear_cross_entropy";
    let y = r.labels(&[5], 7);
    for (params, probs) in [
        (vec![], false),
        (vec![("label_smoothing", json!(0.2)), ("reduction", json!("sum"))], false),
        (vec![("reduction", json!("none")), ("ignore_index", json!(3))], false),
        (vec![("label_smoothing", json!(0.1))], true),
    ] {
        for wrt in ["input", "linear_weight", "linear_bias"] {
            // row 1 ignored: -100 by default, 3 with ignore_index=3
            let ig = params.iter().find(|(k, _)| *k == "ignore_index").map_or(-100, |(_, v)| v.as_i64().unwrap());
            let mut yi = y.clone();
            if let DynArray::I64(a) = &mut yi {
                a[1] = ig;
            }
            let target = if probs { r.dist(&[5, 7]) } else { yi };
            let ins = vec![
                ("input", r.logits(&[5, 3])),
                ("linear_weight", r.logits(&[7, 3])),
                ("target", target),
                ("linear_bias", r.logits(&[7])),
                ("weight", r.probs(&[7])),
            ];
            check(op, ins, params.clone(), wrt);
        }
    }
    // Cut Cross-Entropy's op returns its loss in float32, as the package does: the
    // differences are taken of the float64 library function instead.
    let op = "cut_cross_entropy.linear_cross_entropy";
    for (params, args) in [
        (vec![], xent::cce::CceArgs::default()),
        (
            vec![("softcap", json!(1.5)), ("shift", json!(true))],
            xent::cce::CceArgs { softcap: Some(1.5), shift: true, ..Default::default() },
        ),
        (
            vec![("softcap", json!(4.0)), ("reduction", json!("none")), ("shift", json!(true)), ("ignore_index", json!(0))],
            xent::cce::CceArgs {
                softcap: Some(4.0),
                reduction: xent::ops::Reduction::None,
                shift: true,
                ignore_index: 0,
                ..Default::default()
            },
        ),
    ] {
        for wrt in ["e", "c"] {
            let ins = [("e", r.logits(&[2, 4, 3])), ("c", r.logits(&[6, 3])), ("targets", r.labels(&[2, 4], 6))];
            let f64s = |k: usize| match &ins[k].1 {
                DynArray::F64(a) => a.clone(),
                _ => unreachable!(),
            };
            let DynArray::I64(t) = &ins[2].1 else { unreachable!() };
            let (e0, c0) = (f64s(0), f64s(1));
            let owned: Vec<(String, DynArray)> = ins.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            let ps: Vec<(String, Value)> = params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            let grad = registry::eval(op, owned, ps, Some(wrt)).unwrap().to_f64();
            let x0 = if wrt == "e" { e0.clone() } else { c0.clone() };
            let h = 1e-6;
            for (i, g) in grad.iter().enumerate() {
                let f = |d: f64| {
                    let mut x = x0.clone();
                    *x.iter_mut().nth(i).unwrap() += d;
                    let (e, c) = if wrt == "e" { (x, c0.clone()) } else { (e0.clone(), x) };
                    xent::cce::linear_cross_entropy(&e.view(), &c.view(), &t.view(), &args).unwrap().sum()
                };
                let fd = (f(h) - f(-h)) / (2.0 * h);
                assert!((g - fd).abs() <= 1e-6 + 1e-5 * fd.abs(), "{op} {params:?}: d/d{wrt}[{i}] analytic {g} vs finite difference {fd}");
            }
        }
    }
}

#[test]
fn jax_optax_gradients() {
    let mut r = Rng(xent::rng::SplitMix64::new(13));
    let mask = DynArray::Bool(ndarray::array![[true, false, true, true], [true, true, false, true], [false, true, true, true]].into_dyn());
    for axis in [0, -1] {
        for w in [None, Some(mask.clone())] {
            let with = |x: DynArray, name: &'static str| {
                let mut v = vec![(name, x)];
                if let Some(w) = &w {
                    v.push(("where", w.clone()));
                }
                v
            };
            check("jax.nn.softmax", with(r.logits(&[3, 4]), "x"), vec![("axis", json!(axis))], "x");
            if w.is_none() {
                // With a mask, sum(output) is -inf (masked positions): no finite difference.
                check("jax.nn.log_softmax", with(r.logits(&[3, 4]), "x"), vec![("axis", json!(axis))], "x");
            }
            let mut ins = with(r.logits(&[3, 4]), "logits");
            ins.push(("labels", r.probs(&[3, 4])));
            check("optax.losses.softmax_cross_entropy", ins.clone(), vec![("axis", json!(axis))], "logits");
            check("optax.losses.poly_loss_cross_entropy", ins, vec![("axis", json!(axis)), ("epsilon", json!(1.5))], "logits");
            let mut ins = with(r.logits(&[3, 4]), "log_predictions");
            ins.push(("targets", r.probs(&[3, 4])));
            check("optax.losses.kl_divergence", ins.clone(), vec![("axis", json!(axis))], "log_predictions");
            check("optax.losses.convex_kl_divergence", ins, vec![("axis", json!(axis))], "log_predictions");
            let mut ins = with(r.logits(&[3, 4]), "log_predictions");
            ins.push(("log_targets", r.logits(&[3, 4])));
            check("optax.losses.kl_divergence_with_log_targets", ins, vec![("axis", json!(axis))], "log_predictions");
            check(
                "optax.losses.smooth_labels",
                with(r.probs(&[3, 4]), "labels"),
                vec![("axis", json!(axis)), ("alpha", json!(0.1))],
                "labels",
            );
        }
    }
    // Integer labels, wrapped (-1) and out of range (7: NaN loss, finite gradient, not
    // differentiable through the NaN, so only in-range rows here).
    let y = DynArray::I32(ndarray::array![1, -1, 0].into_dyn());
    check(
        "optax.losses.softmax_cross_entropy_with_integer_labels",
        vec![("logits", r.logits(&[3, 4])), ("labels", y.clone())],
        vec![],
        "logits",
    );
    check(
        "optax.losses.softmax_cross_entropy_with_integer_labels",
        vec![("logits", r.logits(&[3, 4])), ("labels", y), ("where", mask)],
        vec![],
        "logits",
    );
    for (axis, kd) in [(None, false), (Some(0), true), (Some(-1), false)] {
        check("jax.nn.logsumexp", vec![("a", r.logits(&[3, 4]))], vec![("axis", json!(axis)), ("keepdims", json!(kd))], "a");
    }
    check("jax.nn.sigmoid", vec![("x", r.logits(&[3, 4]))], vec![], "x");
    check("jax.nn.log_sigmoid", vec![("x", r.logits(&[3, 4]))], vec![], "x");
    check("optax.losses.safe_softmax_cross_entropy", vec![("logits", r.logits(&[3, 4])), ("labels", r.probs(&[3, 4]))], vec![], "logits");
    check("optax.losses.sigmoid_binary_cross_entropy", vec![("logits", r.logits(&[3, 4])), ("labels", r.probs(&[3, 4]))], vec![], "logits");
    for (alpha, gamma) in [(json!(null), 2.0), (json!(0.25), 1.5), (json!(0.8), 3.0)] {
        check(
            "optax.losses.sigmoid_focal_loss",
            vec![("logits", r.logits(&[3, 4])), ("labels", r.probs(&[3, 4]))],
            vec![("alpha", alpha), ("gamma", json!(gamma))],
            "logits",
        );
    }
}

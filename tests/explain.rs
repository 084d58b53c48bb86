//! `xent::explain` and `xent explain`: each trap of issue 11 on its own arrays, with the
//! observed value made by the real framework call (Keras 3.15.1 on TensorFlow 2.21.0,
//! PyTorch 2.15.0; the call is named above each number), the top match checked.

use std::path::PathBuf;
use std::process::Command;

use ndarray::{ArrayD, IxDyn};
use serde_json::{json, Value};
use xent::explain::{explain, Candidate, Explanation};
use xent::DynArray;

/// x: float32 logits, shape (4, 3).
const X: [f32; 12] = [0.07, 2.72, 2.45, -1.02, -0.6, -1.05, 1.14, -0.11, 1.49, -3.69, 3.13, -0.19];
/// Class indices of the 4 rows (y = one_hot(YI, 3)).
const YI: [i64; 4] = [1, 0, 2, 1];
/// Probabilities (rows sum to 1 in float32), shape (4, 3): softmax(X) rounded.
const P: [f32; 12] = [0.0385, 0.5452, 0.4163, 0.2863, 0.4358, 0.2779, 0.3696, 0.1059, 0.5245, 0.0011, 0.9641, 0.034799993];
/// (N, T, C) = (2, 3, 4) logits, classes last.
const X3: [f32; 24] = [
    1.36, -0.27, -0.76, 0.93, 1.65, -0.41, -0.31, 1.37, -1.74, -3.03, 0.79, -1.34, -3.84, -1.63, -0.94, -2.39, -2.98, 0.07, 1.79, -0.47,
    -1.49, 0.77, 1.43, -0.6,
];
/// (N, T) labels of X3.
const Y3: [i64; 6] = [0, 3, 1, 2, 2, 0];
const CW: [f32; 3] = [0.5, 2.0, 1.0];
const SW: [f32; 4] = [1.0, 0.5, 2.0, 0.0];

fn f32a(shape: &[usize], v: &[f32]) -> DynArray {
    DynArray::F32(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}
fn i64a(shape: &[usize], v: &[i64]) -> DynArray {
    DynArray::I64(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}
fn x() -> DynArray {
    f32a(&[4, 3], &X)
}
fn p() -> DynArray {
    f32a(&[4, 3], &P)
}
fn yi() -> DynArray {
    i64a(&[4], &YI)
}
fn onehot() -> DynArray {
    let mut v = vec![0.0f32; 12];
    for (r, &c) in YI.iter().enumerate() {
        v[r * 3 + c as usize] = 1.0;
    }
    f32a(&[4, 3], &v)
}

/// The best match of observed value `k`, after checking it reproduces the value.
fn top(e: &Explanation, k: usize) -> &Candidate {
    let o = &e.observed[k];
    assert!(o.found, "no match for {}: {}", o.value, e.render());
    let c = &e.candidates[o.matches[0].candidate];
    assert!((c.value - o.value).abs() <= 1e-6 * o.value.abs(), "{} vs {}", c.value, o.value);
    c
}

fn suggested(e: &Explanation, k: usize) -> &Candidate {
    &e.candidates[e.observed[k].suggested]
}

#[test]
fn keras_from_logits_false_on_logits() {
    // keras.losses.CategoricalCrossentropy()(y, x) on raw logits
    let e = explain(&onehot(), &x(), None, None, &[4.565385818481445]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "keras.losses.CategoricalCrossentropy");
    assert_eq!(c.params["from_logits"], false);
    assert_eq!(c.params["reduction"], "sum_over_batch_size");
    assert!(c.params.get("label_smoothing").is_none());
    assert!(
        e.observed[0].explanation.contains("from_logits=False makes Keras treat them as probabilities"),
        "{}",
        e.observed[0].explanation
    );
    let s = suggested(&e, 0);
    assert_eq!((s.op.as_str(), &s.params["from_logits"]), ("keras.losses.CategoricalCrossentropy", &json!(true)));
    // tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x))
    assert!((s.value - 0.6347470879554749).abs() < 1e-6);
}

#[test]
fn tf_softmax_cross_entropy_is_right_and_ties_with_keras_and_torch() {
    // tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=x))
    let e = explain(&onehot(), &x(), None, None, &[0.6347470879554749]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "keras.losses.CategoricalCrossentropy");
    assert_eq!(c.params["from_logits"], true);
    let ops: Vec<&str> = e.observed[0].matches.iter().map(|m| e.candidates[m.candidate].op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "keras.losses.CategoricalCrossentropy",
            "keras.losses.categorical_crossentropy",
            "tf.nn.softmax_cross_entropy_with_logits",
            "torch.nn.functional.cross_entropy"
        ]
    );
    assert!(e.observed[0].explanation.contains("no trap"));
}

#[test]
fn keras_from_logits_true_on_probabilities() {
    // keras.losses.CategoricalCrossentropy(from_logits=True)(y, p), p already probabilities
    let e = explain(&onehot(), &p(), None, None, &[0.8884871006011963]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "keras.losses.CategoricalCrossentropy");
    assert_eq!(c.params["from_logits"], true);
    assert!(e.observed[0].explanation.contains("already holds probabilities"), "{}", e.observed[0].explanation);
    assert_eq!(suggested(&e, 0).params["from_logits"], false);
}

#[test]
fn torch_nll_loss_on_raw_logits_is_negative() {
    // torch.nn.functional.nll_loss(x, y) on raw logits (log_softmax forgotten)
    let e = explain(&yi(), &x(), None, None, &[-1.5800000429153442]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "torch.nn.functional.nll_loss");
    assert_eq!(c.params["reduction"], "mean");
    assert_eq!(c.transform, None);
    assert!(e.observed[0].explanation.contains("log_softmax forgotten"));
    let s = suggested(&e, 0);
    assert_eq!((s.op.as_str(), s.transform.as_deref()), ("torch.nn.functional.cross_entropy", None));
}

#[test]
fn torch_nll_loss_with_one_hot_labels_given() {
    // torch.nn.functional.nll_loss(x, y.argmax(1), reduction="sum") on raw logits, the labels file one-hot
    let e = explain(&onehot(), &x(), None, None, &[-6.320000171661377]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["reduction"]), ("torch.nn.functional.nll_loss", &json!("sum")));
    assert!(c.call.contains("y.argmax(-1)"));
}

#[test]
fn torch_nll_loss_on_probabilities() {
    // torch.nn.functional.nll_loss(p, y) with p = softmax output (log forgotten)
    let e = explain(&yi(), &p(), None, None, &[-0.5800249576568604]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "torch.nn.functional.nll_loss");
    assert!(e.observed[0].explanation.contains("predictions are probabilities"), "{}", e.observed[0].explanation);
}

#[test]
fn torch_softmax_applied_twice() {
    // torch.nn.functional.cross_entropy(torch.softmax(x, dim=1), y)
    let e = explain(&yi(), &x(), None, None, &[0.8884682059288025]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "torch.nn.functional.cross_entropy");
    assert_eq!(c.transform.as_deref(), Some("softmax"));
    assert!(c.params.get("label_smoothing").is_none());
    assert!(e.observed[0].explanation.contains("softmax applied twice"));
}

#[test]
fn torch_cross_entropy_on_probabilities() {
    // torch.nn.functional.cross_entropy(p, y), p already probabilities
    let e = explain(&yi(), &p(), None, None, &[0.8884871006011963]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), c.transform.as_deref()), ("torch.nn.functional.cross_entropy", None));
    assert!(e.observed[0].explanation.contains("softmax applied twice"), "{}", e.observed[0].explanation);
}

#[test]
fn binary_cross_entropy_on_one_hot() {
    // torch.nn.functional.binary_cross_entropy_with_logits(x, y), then with reduction="sum"
    let e = explain(&onehot(), &x(), None, None, &[0.6934418678283691, 8.32130241394043]).unwrap();
    let c = top(&e, 0);
    // Keras's BinaryCrossentropy(from_logits=True) gives the same mean; one-hot labels list Keras first.
    assert_eq!((c.op.as_str(), &c.params["from_logits"]), ("keras.losses.BinaryCrossentropy", &json!(true)));
    assert!(e.observed[0].matches.iter().any(|m| e.candidates[m.candidate].op == "torch.nn.functional.binary_cross_entropy_with_logits"));
    assert!(e.observed[0].explanation.contains("sigmoid loss was used for a softmax problem"));
    let c = top(&e, 1);
    assert_eq!((c.op.as_str(), &c.params["reduction"]), ("torch.nn.functional.binary_cross_entropy_with_logits", &json!("sum")));
    // torch.nn.functional.binary_cross_entropy(p, y)
    let e = explain(&onehot(), &p(), None, None, &[0.3853844702243805]).unwrap();
    assert!(e.observed[0].matches.iter().any(|m| e.candidates[m.candidate].op == "torch.nn.functional.binary_cross_entropy"));
    assert_eq!(top(&e, 0).op, "keras.losses.BinaryCrossentropy");
}

#[test]
fn label_smoothing_torch_and_keras() {
    // torch.nn.functional.cross_entropy(x, y, label_smoothing=0.1) (index targets)
    let e = explain(&yi(), &x(), None, None, &[0.7565804123878479]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["label_smoothing"]), ("torch.nn.functional.cross_entropy", &json!(0.1)));
    assert!(e.observed[0].explanation.contains("label_smoothing=0.1"));
    // keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(y, x)
    let e = explain(&onehot(), &x(), None, None, &[0.7565804123878479]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["label_smoothing"]), ("keras.losses.CategoricalCrossentropy", &json!(0.1)));
}

#[test]
fn keras_sum_reduction() {
    // keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum")(y, x)
    let e = explain(&onehot(), &x(), None, None, &[2.5389883518218994]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["reduction"]), ("keras.losses.CategoricalCrossentropy", &json!("sum")));
    assert!(e.observed[0].explanation.contains("sum over the batch"));
    assert_eq!(suggested(&e, 0).params["reduction"], "sum_over_batch_size");
}

#[test]
fn torch_classes_on_axis_one() {
    // torch.nn.functional.cross_entropy(x3.moveaxis(-1, 1), y3) for x3 of shape (N, T, C)
    let e = explain(&i64a(&[2, 3], &Y3), &f32a(&[2, 3, 4], &X3), None, None, &[1.661902904510498]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), c.transform.as_deref()), ("torch.nn.functional.cross_entropy", Some("moveaxis(-1, 1)")));
    assert!(e.observed[0].explanation.contains("axis 1"));
    assert!(e.observed[0].matches.iter().any(|m| e.candidates[m.candidate].op == "keras.losses.SparseCategoricalCrossentropy"));
}

/// X3 in PyTorch's layout (N, C, T) = (2, 4, 3): X3.transpose(0, 2, 1).
fn x3_nct() -> DynArray {
    let mut v = vec![0.0f32; 24];
    for n in 0..2 {
        for t in 0..3 {
            for c in 0..4 {
                v[n * 12 + c * 3 + t] = X3[n * 12 + t * 4 + c];
            }
        }
    }
    f32a(&[2, 4, 3], &v)
}

#[test]
fn keras_and_torch_on_torch_layout() {
    // torch.nn.functional.cross_entropy(xt, y3), xt of shape (N, C, T); then
    // keras.losses.SparseCategoricalCrossentropy()(y3, keras.ops.moveaxis(xt, 1, -1)) (logits as probabilities)
    let e = explain(&i64a(&[2, 3], &Y3), &x3_nct(), None, None, &[1.661902904510498, 5.8960113525390625]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), c.transform.as_deref()), ("torch.nn.functional.cross_entropy", None));
    assert!(e.observed[0].matches.iter().any(|m| e.candidates[m.candidate].transform.as_deref() == Some("moveaxis(1, -1)")));
    let c = top(&e, 1);
    assert_eq!((c.op.as_str(), c.transform.as_deref()), ("keras.losses.SparseCategoricalCrossentropy", Some("moveaxis(1, -1)")));
    assert_eq!(c.params["from_logits"], false);
    assert!(e.observed[1].explanation.contains("from_logits=False") && e.observed[1].explanation.contains("last axis"));
}

#[test]
fn binary_cross_entropy_on_one_hot_encoded_indices() {
    // torch.nn.functional.binary_cross_entropy_with_logits(x, F.one_hot(y, 3).float(), reduction="sum")
    let e = explain(&yi(), &x(), None, None, &[8.32130241394043]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["reduction"]), ("torch.nn.functional.binary_cross_entropy_with_logits", &json!("sum")));
    assert!(c.call.contains("F.one_hot(y, 3)"));
    assert!(e.observed[0].explanation.contains("sigmoid loss"));
}

#[test]
fn class_weights_torch_and_keras_fit() {
    let cw = f32a(&[3], &CW);
    // torch.nn.functional.cross_entropy(x, y, weight=cw), then
    // keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, x, sample_weight=cw[y])
    let e = explain(&yi(), &x(), None, Some(&cw), &[0.4648684561252594, 0.639194130897522]).unwrap();
    let c = top(&e, 0);
    assert_eq!(c.op, "torch.nn.functional.cross_entropy");
    assert_eq!(c.inputs["weight"], "class_weight");
    assert!(e.observed[0].explanation.contains("sum of the target classes' weights"));
    let c = top(&e, 1);
    assert_eq!(c.op, "keras.losses.SparseCategoricalCrossentropy");
    assert_eq!(c.inputs["sample_weight"], "class_weight");
    assert!(e.observed[1].explanation.contains("divides by the batch size"));
    // torch.nn.functional.cross_entropy(x, one_hot(y), weight=cw): with probability
    // targets PyTorch divides by N, which is what Keras's fit(class_weight=) gives too.
    let e = explain(&onehot(), &x(), None, Some(&cw), &[0.639194130897522]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), c.inputs["sample_weight"].as_str()), ("keras.losses.CategoricalCrossentropy", "class_weight"));
    assert!(e.observed[0].matches.iter().any(|m| e.candidates[m.candidate].inputs.get("weight").is_some_and(|w| w == "class_weight")));
    assert!(e.observed[0].explanation.contains("with probability targets"), "{}", e.observed[0].explanation);
}

#[test]
fn keras_sample_weights() {
    // keras.losses.CategoricalCrossentropy(from_logits=True)(y, x, sample_weight=w)
    let e = explain(&onehot(), &x(), Some(&f32a(&[4], &SW)), None, &[0.6306096315383911]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["from_logits"]), ("keras.losses.CategoricalCrossentropy", &json!(true)));
    assert_eq!(c.inputs["sample_weight"], "sample_weight");
    assert!(e.observed[0].explanation.contains("not by sum(w)"));
    // keras.losses.CategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")(y, x, sample_weight=w),
    // the same number as PyTorch's (F.cross_entropy(x, y, reduction="none") * w).sum() / w.sum()
    let e = explain(&onehot(), &x(), Some(&f32a(&[4], &SW)), None, &[0.720696747303009]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["reduction"]), ("keras.losses.CategoricalCrossentropy", &json!("mean_with_sample_weight")));
    assert!(e.observed[0].explanation.contains("by sum(w)"));
}

#[test]
fn keras_sparse_from_logits_false_on_logits() {
    // keras.losses.SparseCategoricalCrossentropy()(y, x) on raw logits
    let e = explain(&yi(), &x(), None, None, &[0.629827082157135]).unwrap();
    let c = top(&e, 0);
    assert_eq!((c.op.as_str(), &c.params["from_logits"]), ("keras.losses.SparseCategoricalCrossentropy", &json!(false)));
    assert!(e.observed[0].explanation.contains("from_logits=False"));
}

#[test]
fn no_match_lists_the_nearest_three() {
    let e = explain(&yi(), &x(), None, None, &[123.0]).unwrap();
    let o = &e.observed[0];
    assert!(!o.found);
    assert_eq!(o.matches.len(), 3);
    assert!(o.explanation.starts_with("No candidate comes within 1e-4 relative"));
    let d: Vec<f64> = o.matches.iter().map(|m| m.abs_diff).collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    assert!(e.candidates.iter().all(|c| (c.value - 123.0).abs() >= d[0]));
}

#[test]
fn every_candidate_reruns_through_the_op_table() {
    // `op`, `params` and `inputs` are what `xent eval` takes: re-running gives the value.
    let e = explain(&onehot(), &x(), None, Some(&f32a(&[3], &CW)), &[]).unwrap();
    assert!(e.candidates.len() >= 30);
    for c in e.candidates.iter().filter(|c| c.transform.is_none() && !c.note.contains("one-hot encoded") && !c.note.contains("argmax")) {
        let inputs = c
            .inputs
            .iter()
            .map(|(k, v)| {
                let a = match v.as_str() {
                    "labels" => onehot(),
                    "predictions" => x(),
                    "class_weight" if k == "weight" => f32a(&[3], &CW),
                    _ => return None,
                };
                Some((k.clone(), a))
            })
            .collect::<Option<Vec<_>>>();
        let Some(inputs) = inputs else { continue };
        let params = c.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let out = xent::registry::eval(&c.op, inputs, params, None).unwrap().to_f64();
        let v = match c.reduce.as_deref() {
            None => out.iter().copied().next().unwrap(),
            Some("sum") => out.sum(),
            Some(_) => out.mean().unwrap(),
        };
        assert!((v - c.value).abs() <= 1e-6 * v.abs(), "{}: {v} vs {}", c.call, c.value);
    }
}

#[test]
fn bad_arrays_are_errors() {
    assert!(explain(&i64a(&[3], &[0, 1, 2]), &x(), None, None, &[]).is_err());
    assert!(explain(&yi(), &i64a(&[4, 3], &[0; 12]), None, None, &[]).is_err());
    assert!(explain(&yi(), &f32a(&[4], &[0.0; 4]), None, None, &[]).is_err());
    // Labels outside [0, C) make every candidate fail.
    let e = explain(&i64a(&[4], &[0, 1, 7, 1]), &x(), None, None, &[]).unwrap_err();
    assert!(e.to_string().contains("no candidate applies"), "{e}");
}

// ------------------------------------------------------------------ JSON schema

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn check_call(v: &Value) {
    assert!(v["op"].is_string());
    assert!(v["params"].is_object());
    let inputs = v["inputs"].as_object().unwrap();
    assert!(!inputs.is_empty());
    for w in inputs.values() {
        assert!(["labels", "predictions", "sample_weight", "class_weight"].contains(&w.as_str().unwrap()), "{w}");
    }
    assert!(v["transform"].is_null() || ["softmax", "moveaxis(-1, 1)", "moveaxis(1, -1)"].contains(&v["transform"].as_str().unwrap()));
    assert!(v["reduce"].is_null() || ["mean", "sum"].contains(&v["reduce"].as_str().unwrap()));
}

#[test]
fn json_has_exactly_the_schema() {
    let e =
        explain(&i64a(&[2, 3], &Y3), &f32a(&[2, 3, 4], &X3), None, Some(&f32a(&[4], &[1.0, 2.0, 0.5, 1.0])), &[1.661902904510498, -7.0])
            .unwrap();
    let j = e.to_json();
    assert_eq!(keys(&j), ["candidates", "observed"]);
    let cands = j["candidates"].as_array().unwrap();
    assert_eq!(cands.len(), e.candidates.len());
    for c in cands {
        assert_eq!(keys(c), ["inputs", "note", "op", "params", "reduce", "transform", "value"]);
        check_call(c);
        assert!(c["value"].is_f64());
        assert!(c["note"].is_string());
    }
    let obs = j["observed"].as_array().unwrap();
    assert_eq!(obs.len(), 2);
    for o in obs {
        assert_eq!(keys(o), ["explanation", "matches", "suggested", "value"]);
        assert!(o["value"].is_number() && o["explanation"].is_string());
        for m in o["matches"].as_array().unwrap() {
            assert_eq!(keys(m), ["abs_diff", "inputs", "op", "params", "reduce", "transform", "value"]);
            check_call(m);
            assert!(m["value"].is_f64() && m["abs_diff"].is_f64());
        }
        assert_eq!(keys(&o["suggested"]), ["inputs", "op", "params", "reduce", "transform"]);
        check_call(&o["suggested"]);
    }
    assert_eq!(obs[1]["matches"].as_array().unwrap().len(), 3);
}

// ------------------------------------------------------------------ CLI

fn npy_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("xent-explain-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    xent::npy::write(&d.join("y.npy"), &yi()).unwrap();
    xent::npy::write(&d.join("x.npy"), &x()).unwrap();
    xent::npy::write(&d.join("cw.npy"), &f32a(&[3], &CW)).unwrap();
    d
}

fn xent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xent")).args(args).output().unwrap()
}

#[test]
fn cli_negative_observed_and_json() {
    let d = npy_dir();
    let (y, x) = (d.join("y.npy"), d.join("x.npy"));
    let (y, x) = (y.to_str().unwrap(), x.to_str().unwrap());
    // torch.nn.functional.nll_loss(x, y): negative.
    let o = xent(&["explain", "--labels", y, "--predictions", x, "--observed", "-1.5800000429153442"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.contains("F.nll_loss(x, y) = -1.58"), "{s}");
    let o = xent(&["explain", "--labels", y, "--predictions", x, "--observed", "-1.58", "0.8884682", "--json"]);
    assert!(o.status.success());
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["observed"][0]["matches"][0]["op"], "torch.nn.functional.nll_loss");
    assert_eq!(j["observed"][1]["matches"][0]["transform"], "softmax");
    // Without --observed: the table, one row per candidate.
    let o = xent(&["explain", "--labels", y, "--predictions", x, "--class-weight", d.join("cw.npy").to_str().unwrap()]);
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.contains("F.cross_entropy(x, y, weight=class_weight)"), "{s}");
    assert!(s.lines().any(|l| l.starts_with("F.nll_loss(x, y, weight=class_weight)")));
}

#[test]
fn cli_errors_are_one_line_with_exit_codes() {
    let d = npy_dir();
    let (y, x) = (d.join("y.npy"), d.join("x.npy"));
    let (y, x) = (y.to_str().unwrap(), x.to_str().unwrap());
    // A missing file: bad data, exit 1.
    let o = xent(&["explain", "--labels", "/nonexistent/y.npy", "--predictions", x]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("xent: error:"));
    // Labels that fit the predictions in no layout: exit 1.
    let o = xent(&["explain", "--labels", x, "--predictions", y]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8(o.stderr).unwrap().lines().count(), 1);
    // A missing required argument or a non-number observed value: usage, exit 2.
    assert_eq!(xent(&["explain", "--labels", y]).status.code(), Some(2));
    assert_eq!(xent(&["explain", "--labels", y, "--predictions", x, "--observed", "abc"]).status.code(), Some(2));
}

#[test]
fn hostile_inputs_never_panic() {
    let nanx = f32a(&[4, 3], &[f32::NAN; 12]);
    // Every value NaN: no candidate, a typed error.
    assert!(explain(&yi(), &nanx, None, None, &[1.0]).is_err());
    // Empty batch and zero classes: an error or an explanation, never a panic.
    let _ = explain(&i64a(&[0], &[]), &f32a(&[0, 3], &[]), None, None, &[0.0]);
    let _ = explain(&i64a(&[2], &[0, 0]), &f32a(&[2, 0], &[]), None, None, &[0.0]);
    let _ = explain(&f32a(&[0, 3], &[]), &f32a(&[0, 3], &[]), None, None, &[0.0]);
    // Weights of the wrong length or shape.
    let e = explain(&yi(), &x(), Some(&f32a(&[2], &[1.0, 2.0])), Some(&f32a(&[2], &[1.0, 2.0])), &[0.6347470879554749]).unwrap();
    assert!(e.observed[0].found);
    assert!(explain(&yi(), &x(), None, Some(&f32a(&[1, 3], &CW)), &[]).is_err());
    // Non-integral float labels of the index layout; non-finite observed values.
    assert!(explain(&f32a(&[4], &[0.5, 1.0, 2.0, 0.0]), &x(), None, None, &[]).is_err());
    let err = explain(&yi(), &x(), None, None, &[f64::NAN]).unwrap_err();
    assert!(err.is_usage(), "{err}");
    // Integral float labels are class indices; rank-3 one-hot labels with moves.
    let e = explain(&f32a(&[4], &[1.0, 0.0, 2.0, 1.0]), &x(), None, None, &[-1.5800000429153442]).unwrap();
    assert_eq!(top(&e, 0).op, "torch.nn.functional.nll_loss");
    let y3: Vec<f32> = (0..24).map(|i| if i % 4 == Y3[i / 4] as usize { 1.0 } else { 0.0 }).collect();
    let e = explain(&f32a(&[2, 3, 4], &y3), &f32a(&[2, 3, 4], &X3), None, None, &[1.661902904510498]).unwrap();
    assert!(e.observed[0].found);
    assert!(e.candidates.iter().any(|c| c.transform.as_deref() == Some("moveaxis(-1, 1)")));
}

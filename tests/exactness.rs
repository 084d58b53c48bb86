//! The exactness issue's kinds, through the op table (what the CLI and Python call):
//! every softmax cross-entropy is shift-invariant at large offsets (the log-sum-exp
//! `m + ln s` is never rounded as one number), and the examples give the
//! frameworks' values (each computed by PyTorch 2.15 / TensorFlow 2.21 / Keras 3.15,
//! the call named beside it). The same kinds, drawn at random with the real frameworks,
//! are in `tests/golden/generated/exact7.jsonl` (run by `tests/golden.rs`).

use half::f16;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use serde_json::{json, Value};
use xent::DynArray;

fn f32a(shape: &[usize], v: &[f32]) -> DynArray {
    DynArray::F32(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

fn f16a(shape: &[usize], v: &[f32]) -> DynArray {
    DynArray::F16(ArrayD::from_shape_vec(IxDyn(shape), v.iter().map(|&x| f16::from_f32(x)).collect()).unwrap())
}

fn eval(op: &str, inputs: Vec<(&str, DynArray)>, params: Vec<(&str, Value)>, grad: Option<&str>) -> Vec<f64> {
    let ins = inputs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let ps = params.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    xent::registry::eval(op, ins, ps, grad).unwrap().to_f64().iter().copied().collect()
}

fn same_bits_or_ulps(a: &[f64], b: &[f64], ulps: f64, eps: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| (x - y).abs() <= ulps * eps * x.abs().max(y.abs()) + 1e-300)
}

/// `(op, label input, prediction input, params, labels are indices)`.
type CeOp = (&'static str, &'static str, &'static str, Vec<(&'static str, Value)>, bool);

/// Every softmax cross-entropy of the table whose loss depends on the logits only
/// through `x − max`.
fn ce_ops() -> Vec<CeOp> {
    vec![
        ("torch.nn.functional.cross_entropy", "target", "input", vec![("reduction", json!("sum"))], true),
        ("torch.nn.functional.cross_entropy", "target", "input", vec![("label_smoothing", json!(0.1))], true),
        ("torch.nn.functional.cross_entropy", "target", "input", vec![("reduction", json!("none"))], false),
        ("tf.nn.softmax_cross_entropy_with_logits", "labels", "logits", vec![], false),
        ("tf.nn.sparse_softmax_cross_entropy_with_logits", "labels", "logits", vec![], true),
        ("keras.losses.categorical_crossentropy", "y_true", "y_pred", vec![("from_logits", json!(true))], false),
        ("keras.losses.sparse_categorical_crossentropy", "y_true", "y_pred", vec![("from_logits", json!(true))], true),
        ("keras.losses.CategoricalCrossentropy", "y_true", "y_pred", vec![("from_logits", json!(true))], false),
        ("keras.losses.SparseCategoricalCrossentropy", "y_true", "y_pred", vec![("from_logits", json!(true))], true),
    ]
}

fn labels(n: usize, c: usize, idx: &[usize], dense: bool, f64_: bool) -> DynArray {
    if dense {
        let mut t = vec![0.0; n * c];
        for (i, &y) in idx.iter().enumerate() {
            t[i * c + y % c] = 1.0;
        }
        if f64_ {
            DynArray::F64(ArrayD::from_shape_vec(IxDyn(&[n, c]), t).unwrap())
        } else {
            f32a(&[n, c], &t.iter().map(|&v| v as f32).collect::<Vec<_>>())
        }
    } else {
        DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[n]), idx.iter().map(|&y| (y % c) as i64).collect()).unwrap())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Loss and gradient at `x + offset` equal those at `x` to a few ulps, for offsets
    /// up to 1e4 in float32 and 1e8 in float64. The logits lie on a grid of 1/64 so that
    /// `x + offset` is exact and both calls see the same `x − max`.
    #[test]
    fn softmax_cross_entropies_are_shift_invariant_at_large_offsets(
        n in 1usize..4, c in 2usize..7, k in prop::collection::vec(-640i32..640, 18), idx in prop::collection::vec(0usize..7, 3),
        off32 in prop::sample::select(vec![1e3f64, -1e3, 4096.0, 1e4, -1e4]),
        off64 in prop::sample::select(vec![1e6f64, -1e6, 1e8, -1e8]),
    ) {
        let idx = &idx[..n];
        let base: Vec<f64> = (0..n * c).map(|i| f64::from(k[i % k.len()]) / 64.0).collect();
        for (op, lname, pname, params, sparse) in ce_ops() {
            for (is64, off) in [(false, off32), (true, off64)] {
                let mk = |o: f64| -> DynArray {
                    let v: Vec<f64> = base.iter().map(|&b| b + o).collect();
                    if is64 { DynArray::F64(ArrayD::from_shape_vec(IxDyn(&[n, c]), v).unwrap()) } else { f32a(&[n, c], &v.iter().map(|&x| x as f32).collect::<Vec<_>>()) }
                };
                if is64 && op.contains("Crossentropy") {
                    continue; // the Keras classes compute in float32 whatever the input
                }
                let y = labels(n, c, idx, !sparse, is64);
                let eps = if is64 { f64::EPSILON } else { f64::from(f32::EPSILON) };
                for grad in [None, Some(pname)] {
                    let a = eval(op, vec![(lname, y.clone()), (pname, mk(0.0))], params.clone(), grad);
                    let b = eval(op, vec![(lname, y.clone()), (pname, mk(off))], params.clone(), grad);
                    // A gradient element is `s·(p_k − t_k)`: its rounding is an ulp of the
                    // softmax `p ≤ 1`, not of the difference (which cancels at the label
                    // when p_y ≈ 1), so gradients are compared in ulps of 1 as well.
                    let ok = same_bits_or_ulps(&a, &b, 4.0, eps)
                        || (grad.is_some() && a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 4.0 * eps));
                    prop_assert!(ok, "{} {:?} offset {}: {:?} vs {:?}", op, grad, off, a, b);
                }
            }
        }
    }
}

#[test]
fn large_logits_examples() {
    let x = || f32a(&[1, 3], &[1000.0, 995.0, 990.0]);
    // F.cross_entropy(input=[[1000, 995, 990]], target=[[1, 0, 0]], reduction="sum")
    let l = eval(
        "torch.nn.functional.cross_entropy",
        vec![("input", x()), ("target", f32a(&[1, 3], &[1.0, 0.0, 0.0]))],
        vec![("reduction", json!("sum"))],
        None,
    );
    // (printed 0.006760463; the float32 value is 0.006760462652891874)
    assert_eq!(l, [0.006760462652891874]);
    // the same input, target=[0]: the gradient
    let g = eval(
        "torch.nn.functional.cross_entropy",
        vec![("input", x()), ("target", DynArray::I64(ndarray::arr1(&[0i64]).into_dyn()))],
        vec![],
        Some("input"),
    );
    let want = [-0.0067376494f32, 0.0066925483, 4.5094035e-05];
    assert!(g.iter().zip(want).all(|(&a, b)| (a - f64::from(b)).abs() <= 2.0 * f64::from(f32::EPSILON) * f64::from(b).abs()), "{g:?}");
    // tf.nn.softmax_cross_entropy_with_logits(labels=[[1,0,0]], logits=[[1000,995,990]])
    let l =
        eval("tf.nn.softmax_cross_entropy_with_logits", vec![("labels", f32a(&[1, 3], &[1.0, 0.0, 0.0])), ("logits", x())], vec![], None);
    assert_eq!(l, [0.006760462652891874]);
    // float64: input [[1e6, 1e6-5, 1e6-10]], probability target [[1,0,0]], mean
    let x64 = DynArray::F64(ndarray::arr2(&[[1e6, 1e6 - 5.0, 1e6 - 10.0]]).into_dyn());
    let t64 = DynArray::F64(ndarray::arr2(&[[1.0, 0.0, 0.0]]).into_dyn());
    let l = eval("torch.nn.functional.cross_entropy", vec![("input", x64), ("target", t64)], vec![], None);
    assert!((l[0] - 0.006760443547121172).abs() <= 2.0 * f64::EPSILON * 0.0068, "{l:?}");
}

#[test]
fn keras_float16_functions_compute_in_half() {
    let k = |op: &str, t: &[f32], p: &[f32], shape: &[usize], grad: Option<&str>| {
        eval(op, vec![("y_true", f16a(shape, t)), ("y_pred", f16a(shape, p))], vec![], grad)
    };
    // keras.losses.binary_crossentropy(y_true=[[0.3]], y_pred=[[1.0]]) in float16: 1 − ε rounds to 1, log(0)
    assert_eq!(k("keras.losses.binary_crossentropy", &[0.3], &[1.0], &[1, 1], None), [f64::INFINITY]);
    assert_eq!(k("keras.losses.binary_crossentropy", &[0.3], &[1.0], &[1, 1], Some("y_pred")), [f64::INFINITY]);
    // binary_crossentropy([[1.0]], [[0.0]]): the clip is at half(1e-7) = 1.1920929e-7
    assert_eq!(k("keras.losses.binary_crossentropy", &[1.0], &[0.0], &[1, 1], None), [15.9453125]);
    assert_eq!(k("keras.losses.categorical_crossentropy", &[0.0, 1.0, 0.0], &[0.5, 0.0, 0.5], &[1, 3], None), [15.9453125]);
    // kl_divergence([[0.5,0.5]], [[1,0]]): 0.5 / 1.19e-7 overflows half
    assert_eq!(k("keras.losses.kl_divergence", &[0.5, 0.5], &[1.0, 0.0], &[1, 2], None), [f64::INFINITY]);
    assert_eq!(k("keras.losses.categorical_focal_crossentropy", &[0.0, 1.0, 0.0], &[0.5, 0.0, 0.5], &[1, 3], None), [3.986328125]);
    // keras.losses.BinaryCrossentropy()(float16 [[1],[0],[1]], [[0],[0.125],[0.875]]): float32 5.4617195
    let l = xent::registry::eval(
        "keras.losses.BinaryCrossentropy",
        vec![("y_true".into(), f16a(&[3, 1], &[1.0, 0.0, 1.0])), ("y_pred".into(), f16a(&[3, 1], &[0.0, 0.125, 0.875]))],
        vec![],
        None,
    )
    .unwrap();
    assert_eq!(l.dtype(), xent::DType::F32);
    assert!((l.to_f64()[[]] - f64::from(5.4617195f32)).abs() < 1e-6, "{l:?}");
}

#[test]
fn tensorflow_flushes_subnormals_pytorch_does_not() {
    // tf.nn.softmax([[-100,-10,0,10,100]]) is exactly [0,0,0,0,1]
    let s = eval("tf.nn.softmax", vec![("logits", f32a(&[1, 5], &[-100.0, -10.0, 0.0, 10.0, 100.0]))], vec![], None);
    assert_eq!(s, [0.0, 0.0, 0.0, 0.0, 1.0]);
    // tf.math.sigmoid([-95,-100,-88]) is [0,0,0]
    let s = eval("tf.math.sigmoid", vec![("x", f32a(&[3], &[-95.0, -100.0, -88.0]))], vec![], None);
    assert_eq!(s, [0.0, 0.0, 0.0]);
    // the softmax cross-entropy gradient likewise: softmax − labels with exp(-100) and
    // exp(-90) flushed (TF: [[0, 0, 0, 0, 0]])
    let g = eval(
        "tf.nn.softmax_cross_entropy_with_logits",
        vec![("labels", f32a(&[1, 5], &[0.0, 0.0, 0.0, 0.0, 1.0])), ("logits", f32a(&[1, 5], &[-100.0, -10.0, 0.0, 10.0, 100.0]))],
        vec![],
        Some("logits"),
    );
    assert_eq!(g, [0.0; 5]);
    // PyTorch keeps them: torch.softmax(tensor([[-100., -10, 0, 10, 100]]), 1)[0, 2] = exp(-100) ≈ 3.78e-44
    let s = eval("torch.softmax", vec![("input", f32a(&[1, 5], &[-100.0, -10.0, 0.0, 10.0, 100.0]))], vec![("dim", json!(1))], None);
    assert!(s[2] > 0.0 && s[2] < 1e-43, "{s:?}");
}

#[test]
fn zero_classes_with_rows_present() {
    let z = |shape: &[usize]| DynArray::F32(ArrayD::zeros(IxDyn(shape)));
    // F.cross_entropy(input=zeros((5,0)), target=zeros((5,0))) is NaN (mean over numel / C = 0/0)
    for ls in [0.0, 0.1] {
        let l = eval(
            "torch.nn.functional.cross_entropy",
            vec![("input", z(&[5, 0])), ("target", z(&[5, 0]))],
            vec![("label_smoothing", json!(ls))],
            None,
        );
        assert!(l[0].is_nan(), "{l:?}");
        let l = eval(
            "torch.nn.functional.cross_entropy",
            vec![("input", z(&[2, 0, 3])), ("target", z(&[2, 0, 3]))],
            vec![("label_smoothing", json!(ls))],
            None,
        );
        assert!(l[0].is_nan(), "{l:?}");
    }
    // index targets, all ignored, label_smoothing: the smoothing term is 0·(ε/0) = NaN
    let y = DynArray::I64(ArrayD::from_elem(IxDyn(&[5]), -100));
    let l = eval(
        "torch.nn.functional.cross_entropy",
        vec![("input", z(&[5, 0])), ("target", y.clone())],
        vec![("reduction", json!("none")), ("label_smoothing", json!(0.1))],
        None,
    );
    assert!(l.len() == 5 && l.iter().all(|v| v.is_nan()), "{l:?}");
    let l = eval("torch.nn.functional.cross_entropy", vec![("input", z(&[5, 0])), ("target", y)], vec![("reduction", json!("sum"))], None);
    assert_eq!(l, [0.0]);
    // tf.nn.softmax_cross_entropy_with_logits on (0, 0): TF's reshape raises
    let e = xent::registry::eval(
        "tf.nn.softmax_cross_entropy_with_logits",
        vec![("labels".into(), z(&[0, 0])), ("logits".into(), z(&[0, 0]))],
        vec![],
        None,
    );
    assert!(e.unwrap_err().to_string().contains("reshape"));
}

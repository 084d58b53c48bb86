//! Hostile input through the op table: random shapes (0-size dimensions included),
//! axes, dtypes, parameter combinations (valid and not) and values (NaN, ±inf,
//! subnormals, ±0, huge) fed to EVERY op of `xent::registry::OPS` through
//! `xent::registry::eval`. Nothing may panic; a successful call must return the
//! shape (and dtype) the framework defines; finite inputs in the ordinary range give
//! finite outputs, except where the framework itself does not (listed below and in
//! docs/hardening.md).
//!
//! Each proptest case is one seed; the seed drives a small deterministic generator,
//! and every op is run on the case it builds, so each case exercises the whole table.

use std::panic::{catch_unwind, AssertUnwindSafe};

use half::f16;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use serde_json::{json, Value};
use xent::registry::{self, InputKind, OpSpec, ParamKind, OPS};
use xent::{DType, DynArray};

/// SplitMix64: a tiny deterministic generator driven by the proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<T: Clone>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())].clone()
    }
}

/// What values a float input gets.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Values {
    /// Ordinary finite values in [-4, 4] (probabilities in [0, 1] for probability inputs).
    Moderate,
    /// Ordinary values mixed with NaN, ±inf, ±0, subnormals and huge values.
    Hostile,
}

const SPECIALS: [f64; 12] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 5e-324, 1e-40, 3.0e38, -3.0e38, f64::MAX, -1e300, 1.0];

/// The functional op a `torch.nn` loss class computes (the same inputs and rules).
fn functional(op: &str) -> &str {
    match op {
        "torch.nn.CrossEntropyLoss" => "torch.nn.functional.cross_entropy",
        "torch.nn.NLLLoss" => "torch.nn.functional.nll_loss",
        "torch.nn.BCELoss" => "torch.nn.functional.binary_cross_entropy",
        "torch.nn.BCEWithLogitsLoss" => "torch.nn.functional.binary_cross_entropy_with_logits",
        "torch.nn.KLDivLoss" => "torch.nn.functional.kl_div",
        o => o,
    }
}

/// Whether the op reads this float input as probabilities in [0, 1].
fn is_probability(op: &str, input: &str, params: &[(String, Value)]) -> bool {
    let from_logits = params.iter().any(|(k, v)| k == "from_logits" && v == &json!(true));
    let log_target = params.iter().any(|(k, v)| k == "log_target" && v == &json!(true));
    match functional(op) {
        "torch.nn.functional.kl_div" => input == "target" && !log_target,
        "torch.nn.functional.binary_cross_entropy" => input == "input" || input == "target",
        "torch.nn.functional.binary_cross_entropy_with_logits" => input == "target",
        "tf.nn.sigmoid_cross_entropy_with_logits" | "tf.nn.weighted_cross_entropy_with_logits" => input == "labels",
        "tf.nn.softmax_cross_entropy_with_logits" => input == "labels",
        "torch.nn.functional.cross_entropy" => input == "target",
        o if o.starts_with("keras.") => input == "y_true" || (input == "y_pred" && !from_logits),
        _ => false,
    }
}

fn float_values(rng: &mut Rng, n: usize, mode: Values, prob: bool) -> Vec<f64> {
    (0..n)
        .map(|_| {
            if mode == Values::Hostile && rng.chance(0.25) {
                rng.pick(&SPECIALS)
            } else if prob {
                // Probabilities, with exact 0 and 1 now and then.
                match rng.below(8) {
                    0 => 0.0,
                    1 => 1.0,
                    _ => rng.unit(),
                }
            } else {
                (rng.unit() * 8.0 - 4.0) * if rng.chance(0.1) { 0.0 } else { 1.0 }
            }
        })
        .collect()
}

fn make(dtype: DType, shape: &[usize], vals: &[f64], ints: &[i64]) -> DynArray {
    let sh = IxDyn(shape);
    match dtype {
        DType::F16 => DynArray::F16(ArrayD::from_shape_vec(sh, vals.iter().map(|&v| f16::from_f64(v)).collect()).unwrap()),
        DType::F32 => DynArray::F32(ArrayD::from_shape_vec(sh, vals.iter().map(|&v| v as f32).collect()).unwrap()),
        DType::F64 => DynArray::F64(ArrayD::from_shape_vec(sh, vals.to_vec()).unwrap()),
        DType::U8 => DynArray::U8(ArrayD::from_shape_vec(sh, ints.iter().map(|&v| v as u8).collect()).unwrap()),
        DType::I32 => DynArray::I32(ArrayD::from_shape_vec(sh, ints.iter().map(|&v| v as i32).collect()).unwrap()),
        DType::I64 => DynArray::I64(ArrayD::from_shape_vec(sh, ints.to_vec()).unwrap()),
        DType::Bool => DynArray::Bool(ArrayD::from_shape_vec(sh, ints.iter().map(|&v| v & 1 == 1).collect()).unwrap()),
    }
}

const ALL_DTYPES: [DType; 7] = [DType::F16, DType::F32, DType::F64, DType::U8, DType::I32, DType::I64, DType::Bool];

/// The class axis (normalised) the op uses for `base`, when it has one.
fn class_axis(op: &str, base: &[usize], params: &[(String, Value)]) -> Option<usize> {
    let r = base.len();
    if r == 0 {
        return None;
    }
    let get = |k: &str| params.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.as_i64());
    if functional(op).starts_with("torch.nn.functional.") {
        return Some(if r == 1 { 0 } else { 1 });
    }
    let axis = get("axis").unwrap_or(-1);
    let a = if axis < 0 { axis + r as i64 } else { axis };
    (0..r as i64).contains(&a).then_some(a as usize)
}

fn without(base: &[usize], axis: Option<usize>) -> Vec<usize> {
    let mut s = base.to_vec();
    if let Some(a) = axis {
        s.remove(a);
    }
    s
}

/// A shape for `input` that fits `base` (the prediction's shape), as the framework expects.
fn fitting_shape(rng: &mut Rng, op: &str, input: &str, base: &[usize], params: &[(String, Value)]) -> Vec<usize> {
    let ax = class_axis(op, base, params);
    let last = if base.is_empty() { None } else { Some(base.len() - 1) };
    match (functional(op), input) {
        ("tf.nn.sparse_softmax_cross_entropy_with_logits", "labels") => without(base, last),
        (o, "y_true") if o.to_lowercase().contains("sparse") => {
            let mut s = without(base, last);
            if rng.chance(0.2) {
                s.push(1);
            }
            s
        }
        ("torch.nn.functional.nll_loss", "target") => without(base, ax),
        ("torch.nn.functional.cross_entropy", "target") => {
            if rng.chance(0.6) {
                without(base, ax)
            } else {
                base.to_vec()
            }
        }
        ("torch.nn.functional.cross_entropy" | "torch.nn.functional.nll_loss", "weight") => ax.map(|a| vec![base[a]]).unwrap_or_default(),
        (_, "weight" | "pos_weight") => match rng.below(3) {
            0 => base.to_vec(),
            1 => last.map(|l| vec![base[l]]).unwrap_or_default(),
            _ => vec![],
        },
        (_, "sample_weight") => match rng.below(3) {
            0 => without(base, ax),
            1 => base.first().map(|&b| vec![b]).unwrap_or_default(),
            _ => vec![],
        },
        _ => base.to_vec(),
    }
}

fn random_shape(rng: &mut Rng) -> Vec<usize> {
    let rank = rng.below(5);
    (0..rank).map(|_| if rng.chance(0.15) { 0 } else { 1 + rng.below(4) }).collect()
}

/// A parameter value: usually one of the right type, sometimes not.
fn param_value(rng: &mut Rng, name: &str, kind: ParamKind, valid_only: bool) -> Value {
    if !valid_only && rng.chance(0.15) {
        return rng.pick(&[json!("abc"), json!(1.5), json!(true), json!(null), json!([1, 2]), json!({"a": 1}), json!(-7), json!("")]);
    }
    let small_int = |rng: &mut Rng| json!(rng.below(7) as i64 - 3);
    match kind {
        ParamKind::Bool => json!(rng.chance(0.5)),
        ParamKind::Float => match name {
            "label_smoothing" if valid_only => json!(rng.pick(&[0.0, 0.1, 0.5, 1.0])),
            "gamma" if valid_only => json!(rng.pick(&[1.0, 2.0, 3.5])),
            _ if valid_only => json!(rng.pick(&[0.0, 0.25, 0.5, 1.0, 2.0, -0.5])),
            _ => json!(rng.pick(&[0.0, 0.1, 0.5, 1.0, 1.5, -0.5, 2.0, 1e308, -1e308, 1e-320, 0.999_999_9])),
        },
        ParamKind::Int => match name {
            "depth" | "num_classes" => {
                if !valid_only && rng.chance(0.1) {
                    // Absurd sizes must fail cleanly, not abort (2^45 × 8 bytes is past any address space here).
                    json!(rng.pick(&[1i64 << 45, i64::MAX, -2, i64::MIN]))
                } else {
                    json!(rng.below(7) as i64 - 1)
                }
            }
            "ignore_index" => rng.pick(&[json!(-100), json!(0), json!(1), json!(-1)]),
            _ if !valid_only && rng.chance(0.1) => rng.pick(&[json!(i64::MIN), json!(i64::MAX), json!(7), json!(-8)]),
            _ => small_int(rng),
        },
        ParamKind::OptInt => {
            if rng.chance(0.3) {
                json!(null)
            } else {
                small_int(rng)
            }
        }
        ParamKind::OptFloat => rng.pick(&[json!(null), json!(0.5), json!(-2), json!(3), json!(1e30)]),
        ParamKind::OptList => rng.pick(&[json!(null), json!([0, 1]), json!([0, 1, 2]), json!([2, 0, 1]), json!([1]), json!([])]),
        ParamKind::Choice(c) => {
            let i = rng.below(c.len());
            if c[i] == "null" {
                json!(null)
            } else {
                json!(c[i])
            }
        }
    }
}

struct Case {
    inputs: Vec<(String, DynArray)>,
    params: Vec<(String, Value)>,
    grad: Option<String>,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, a) in &self.inputs {
            writeln!(f, "  input {n}: {} {:?} = {:?}", a.dtype(), a.shape(), a.to_f64().iter().collect::<Vec<_>>())?;
        }
        writeln!(f, "  params {:?}", self.params)?;
        write!(f, "  grad {:?}", self.grad)
    }
}

/// Build one call of `op` from `rng`. `valid` keeps names, dtypes, shapes and
/// parameter types right (values may still be hostile).
fn build(rng: &mut Rng, op: &OpSpec, mode: Values, valid: bool) -> Case {
    let mut params = Vec::new();
    for p in op.params {
        if rng.chance(0.5) {
            params.push((p.name.to_string(), param_value(rng, p.name, p.kind, valid)));
        }
    }
    if valid {
        // Keep the sparse Keras ops on their only supported axis, and tf.one_hot sized.
        params.retain(|(k, _)| !(op.name.to_lowercase().contains("sparse") && k == "axis"));
        if op.name == "tf.one_hot" && !params.iter().any(|(k, _)| k == "depth") {
            params.push(("depth".into(), json!(3)));
        }
        if op.name == "tf.one_hot" {
            for (k, v) in params.iter_mut() {
                if k == "depth" && v.as_i64().is_none_or(|d| d < 0) {
                    *v = json!(3);
                }
            }
        }
    } else {
        if rng.chance(0.05) {
            params.push((rng.pick(&["axsi", "reduction", "from_logit", "dim", "zzz"]).to_string(), json!(1)));
        }
        if rng.chance(0.05) && !params.is_empty() {
            let dup = params[0].clone();
            params.push(dup);
        }
    }
    let base = if valid { random_shape(rng).into_iter().map(|d| d.max(1)).collect() } else { random_shape(rng) };
    let mut inputs = Vec::new();
    for s in op.inputs {
        if s.optional && rng.chance(0.5) {
            continue;
        }
        if !valid && !s.optional && rng.chance(0.03) {
            continue; // a missing input
        }
        let mut shape = fitting_shape(rng, op.name, s.name, &base, &params);
        if !valid && rng.chance(0.15) {
            shape = random_shape(rng);
        }
        let n: usize = shape.iter().product();
        let classes = class_axis(op.name, &base, &params).map_or(3, |a| base[a]) as i64;
        let prob = is_probability(op.name, s.name, &params);
        let float_dtypes: &[DType] =
            if mode == Values::Moderate { &[DType::F32, DType::F64] } else { &[DType::F16, DType::F32, DType::F64] };
        let dtype = match s.kind {
            _ if !valid && rng.chance(0.1) => rng.pick(&ALL_DTYPES),
            InputKind::Float => rng.pick(float_dtypes),
            InputKind::Labels(ok) => rng.pick(ok),
            InputKind::Any => {
                // Keras sparse: ints or float labels; torch CE: indices or probabilities.
                let torch_probs = shape == base && op.name.starts_with("torch");
                if torch_probs || (op.name.starts_with("keras") && rng.chance(0.3)) {
                    rng.pick(float_dtypes)
                } else {
                    rng.pick(&[DType::I64, DType::I32, DType::U8])
                }
            }
        };
        let mut ints: Vec<i64> = (0..n)
            .map(|_| {
                if !valid && rng.chance(0.1) {
                    rng.pick(&[-1, -100, classes, i64::MAX, i64::MIN, 255])
                } else {
                    rng.below(classes.max(1) as usize) as i64
                }
            })
            .collect();
        if op.name == "torch.nn.functional.one_hot" && valid {
            // num_classes = -1 infers max + 1; keep the explicit ones consistent.
            let nc = params.iter().find(|(k, _)| k == "num_classes").and_then(|(_, v)| v.as_i64()).unwrap_or(-1);
            if nc >= 0 {
                ints.iter_mut().for_each(|v| *v = if nc == 0 { 0 } else { *v % nc });
                if nc == 0 && n > 0 {
                    params.retain(|(k, _)| k != "num_classes");
                }
            }
        }
        let vals: Vec<f64> = if dtype.is_float() && matches!(s.kind, InputKind::Labels(_) | InputKind::Any) && !(prob && shape == base) {
            // Float class labels (Keras truncates them).
            ints.iter().map(|&v| v as f64 + if rng.chance(0.2) { 0.5 } else { 0.0 }).collect()
        } else {
            float_values(rng, n, mode, prob)
        };
        inputs.push((s.name.to_string(), make(dtype, &shape, &vals, &ints)));
    }
    if !valid && rng.chance(0.03) {
        inputs.push(("bogus".into(), make(DType::F32, &[1], &[0.0], &[0])));
    }
    let grad = if !op.grad_wrt.is_empty() && rng.chance(0.5) {
        Some(rng.pick(op.grad_wrt).to_string())
    } else if !valid && rng.chance(0.05) {
        Some(rng.pick(&["target", "x", "nope", "labels"]).to_string())
    } else {
        None
    };
    Case { inputs, params, grad }
}

fn param<'a>(c: &'a Case, k: &str) -> Option<&'a Value> {
    c.params.iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

fn input<'a>(c: &'a Case, k: &str) -> Option<&'a DynArray> {
    c.inputs.iter().find(|(n, _)| n == k).map(|(_, v)| v)
}

/// The output shape the framework defines for a successful forward call, for the
/// op families where it is simple to state.
fn expected_shape(op: &str, c: &Case) -> Option<Vec<usize>> {
    // Keras' `reduction=None` is "none".
    let red = |default: &str| match param(c, "reduction") {
        Some(Value::Null) => "none".to_string(),
        v => v.and_then(Value::as_str).unwrap_or(default).to_string(),
    };
    let axis = |shape: &[usize]| -> Option<usize> {
        let a = param(c, "axis").and_then(Value::as_i64).unwrap_or(-1);
        let r = shape.len() as i64;
        let a = if a < 0 { a + r } else { a };
        (0..r).contains(&a).then_some(a as usize)
    };
    Some(match functional(op) {
        "tf.nn.softmax" | "tf.nn.log_softmax" => input(c, "logits")?.shape().to_vec(),
        "torch.nn.functional.kl_div" => match red("mean").as_str() {
            // input and target broadcast: the shape is the input's when they agree.
            "none" if input(c, "target")?.shape() != input(c, "input")?.shape() => return None,
            "none" => input(c, "input")?.shape().to_vec(),
            _ => vec![],
        },
        "tf.math.sigmoid" | "tf.math.log_sigmoid" => input(c, "x")?.shape().to_vec(),
        "torch.softmax" | "torch.log_softmax" | "torch.sigmoid" | "torch.nn.functional.logsigmoid" => input(c, "input")?.shape().to_vec(),
        "tf.nn.softmax_cross_entropy_with_logits" => {
            let s = input(c, "logits")?.shape();
            without(s, Some(axis(s)?))
        }
        "tf.nn.sparse_softmax_cross_entropy_with_logits" => input(c, "labels")?.shape().to_vec(),
        "tf.nn.sigmoid_cross_entropy_with_logits" | "tf.nn.weighted_cross_entropy_with_logits" => input(c, "logits")?.shape().to_vec(),
        "keras.losses.categorical_crossentropy"
        | "keras.losses.binary_crossentropy"
        | "keras.losses.categorical_focal_crossentropy"
        | "keras.losses.binary_focal_crossentropy" => {
            let s = input(c, "y_pred")?.shape();
            without(s, Some(axis(s)?))
        }
        "keras.losses.kl_divergence" | "keras.losses.sparse_categorical_crossentropy" => {
            let s = input(c, "y_pred")?.shape();
            without(s, Some(s.len() - 1))
        }
        "keras.losses.CategoricalCrossentropy"
        | "keras.losses.SparseCategoricalCrossentropy"
        | "keras.losses.BinaryCrossentropy"
        | "keras.losses.KLDivergence"
        | "keras.losses.BinaryFocalCrossentropy"
        | "keras.losses.CategoricalFocalCrossentropy" => {
            match red("sum_over_batch_size").as_str() {
                "none" => return None, // per-sample shape after Keras' squeeze/expand: not restated here
                // Keras' reduce_values returns per-sample values of shape (0,) unreduced.
                _ if input(c, "y_pred")?.shape().contains(&0) => return None,
                _ => vec![],
            }
        }
        "torch.nn.functional.cross_entropy" | "torch.nn.functional.nll_loss" => match red("mean").as_str() {
            "none" => {
                let s = input(c, "input")?.shape();
                without(s, Some(if s.len() == 1 { 0 } else { 1 }))
            }
            _ => vec![],
        },
        "torch.nn.functional.binary_cross_entropy" | "torch.nn.functional.binary_cross_entropy_with_logits" => match red("mean").as_str() {
            "none" => input(c, "input")?.shape().to_vec(),
            _ => vec![],
        },
        "tf.one_hot" => {
            let mut s = input(c, "indices")?.shape().to_vec();
            let d = param(c, "depth")?.as_i64()? as usize;
            let a = param(c, "axis").and_then(Value::as_i64).unwrap_or(-1);
            let a = if a == -1 { s.len() } else { a as usize };
            s.insert(a, d);
            s
        }
        "torch.nn.functional.one_hot" => {
            let x = input(c, "indices").or(input(c, "input"))?;
            let mut s = x.shape().to_vec();
            let nc = param(c, "num_classes").and_then(Value::as_i64).unwrap_or(-1);
            let d = if nc == -1 { x.to_f64().iter().fold(-1.0f64, |m, &v| m.max(v)) as i64 + 1 } else { nc };
            s.push(d as usize);
            s
        }
        _ => return None,
    })
}

/// The dtype of a forward result.
fn expected_dtype(op: &OpSpec, c: &Case) -> Option<DType> {
    match op.name {
        "tf.one_hot" => None,
        "torch.nn.functional.one_hot" => Some(DType::I64),
        // Cut Cross-Entropy returns its loss in float32 whatever the inputs' dtype.
        "cut_cross_entropy.linear_cross_entropy" => Some(DType::F32),
        o if o.starts_with("keras.losses.") && o.as_bytes()[13].is_ascii_uppercase() => Some(DType::F32),
        _ => {
            // The prediction input's dtype (f16 is computed in f32 and rounded back).
            let pred = op.grad_wrt.first()?;
            input(c, pred).map(DynArray::dtype)
        }
    }
}

fn run(op: &OpSpec, c: &Case) -> Result<xent::Result<DynArray>, String> {
    catch_unwind(AssertUnwindSafe(|| registry::eval(op.name, c.inputs.clone(), c.params.clone(), c.grad.as_deref())))
        .map_err(|p| p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default())
}

/// Run `op` on `c`: no panic, and on success the framework's shape and dtype.
fn check(op: &OpSpec, c: &Case) -> Result<Option<DynArray>, TestCaseError> {
    let r = run(op, c).map_err(|msg| TestCaseError::fail(format!("{} panicked: {msg}\n{c:?}", op.name)))?;
    let out = match r {
        Err(e) => {
            let m = e.to_string();
            prop_assert!(!m.is_empty() && !m.contains('\n'), "{}: error message must be one line: {m:?}", op.name);
            return Ok(None);
        }
        Ok(out) => out,
    };
    match &c.grad {
        Some(g) => {
            let x = input(c, g).expect("a successful gradient names a given input");
            prop_assert_eq!(out.shape(), x.shape(), "{}: gradient shape\n{:?}", op.name, c);
            prop_assert_eq!(out.dtype(), x.dtype(), "{}: gradient dtype\n{:?}", op.name, c);
        }
        None => {
            if let Some(s) = expected_shape(op.name, c) {
                prop_assert_eq!(out.shape(), s.as_slice(), "{}: output shape\n{:?}", op.name, c);
            }
            if let Some(d) = expected_dtype(op, c) {
                prop_assert_eq!(out.dtype(), d, "{}: output dtype\n{:?}", op.name, c);
            }
        }
    }
    Ok(Some(out))
}

/// Ops (and settings) whose output can be non-finite for finite inputs in the
/// ordinary range, as in the framework (documented in docs/hardening.md):
/// - a `mean` over no elements (empty batch, every target ignored, weights summing
///   to 0) is 0/0 = NaN in PyTorch;
/// - Keras' probability path renormalises by the row sum, so a row of zeros gives NaN.
fn finiteness_exempt(op: &str, c: &Case) -> bool {
    let empty = c.inputs.iter().any(|(_, a)| a.is_empty());
    // kl_div's `batchmean` divides by the batch size: 0/0 for an empty batch too.
    let mean = matches!(param(c, "reduction").and_then(Value::as_str).unwrap_or("mean"), "mean" | "batchmean");
    let from_logits = param(c, "from_logits") == Some(&json!(true));
    match functional(op) {
        o if o.starts_with("torch.nn.functional.") && mean && empty => true,
        "torch.nn.functional.cross_entropy" | "torch.nn.functional.nll_loss" => {
            // A total target weight of 0: every target ignored, or class weights of 0.
            let ignore = param(c, "ignore_index").and_then(Value::as_i64).unwrap_or(-100) as f64;
            let all_ignored = input(c, "target").is_some_and(|t| !t.dtype().is_float() && t.to_f64().iter().all(|&v| v == ignore));
            mean && (all_ignored || input(c, "weight").is_some_and(|w| w.to_f64().iter().any(|&v| v <= 0.0)))
        }
        "keras.losses.categorical_crossentropy"
        | "keras.losses.CategoricalCrossentropy"
        | "keras.losses.categorical_focal_crossentropy"
        | "keras.losses.CategoricalFocalCrossentropy" => {
            !from_logits && input(c, "y_pred").is_some_and(|p| p.to_f64().iter().any(|&v| v == 0.0))
        }
        // JAX/Optax (docs/hardening.md): a label outside [-C, C) reads NaN; masked-out
        // log-probabilities are -inf; a lane with no `where` has K = 0 in smooth_labels;
        // a negative target has no logarithm.
        "optax.losses.softmax_cross_entropy_with_integer_labels" => {
            let x = input(c, "logits").map(|x| x.shape().to_vec()).unwrap_or_default();
            let ax = param(c, "axis").and_then(Value::as_i64).unwrap_or(-1);
            let k = if ax < 0 { ax + x.len() as i64 } else { ax };
            let cl = usize::try_from(k).ok().and_then(|k| x.get(k)).copied().unwrap_or(0) as f64;
            input(c, "labels").is_some_and(|y| y.to_f64().iter().any(|&v| v >= cl || v < -cl))
        }
        "jax.nn.log_softmax" | "optax.losses.smooth_labels" => input(c, "where").is_some(),
        // Optax's log(1 - p_t) is logsumexp with b = [1 - z, z]: NaN when that sum is
        // negative, which labels outside [0, 1] can make it.
        "optax.losses.sigmoid_focal_loss" => input(c, "labels").is_some_and(|z| z.to_f64().iter().any(|&v| !(0.0..=1.0).contains(&v))),
        "optax.losses.kl_divergence" | "optax.losses.convex_kl_divergence" => {
            input(c, "targets").is_some_and(|t| t.to_f64().iter().any(|&v| v < 0.0))
        }
        // ONNX's mean over every target ignored, or target weights summing to 0, is 0/0.
        "onnx.SoftmaxCrossEntropyLoss" | "onnx.NegativeLogLikelihoodLoss" => {
            mean && (param(c, "ignore_index").is_some_and(|v| !v.is_null()) || input(c, "weights").or(input(c, "weight")).is_some())
        }
        _ => false,
    }
}

fn seeds() -> impl Strategy<Value = u64> {
    any::<u64>()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// Anything goes: hostile values, wrong dtypes and shapes, bad parameters.
    #[test]
    fn prop_every_op_never_panics(seed in seeds()) {
        let mut rng = Rng(seed);
        for op in OPS {
            for _ in 0..3 {
                let c = build(&mut rng, op, Values::Hostile, false);
                check(op, &c)?;
            }
        }
    }

    /// Right names, dtypes, shapes and parameter types, hostile values: still no
    /// panic, and every successful call has the framework's shape.
    #[test]
    fn prop_valid_calls_have_the_framework_shape(seed in seeds()) {
        let mut rng = Rng(seed);
        for op in OPS {
            for _ in 0..2 {
                let c = build(&mut rng, op, Values::Hostile, true);
                check(op, &c)?;
            }
        }
    }

    /// Finite inputs in the ordinary range give finite outputs and gradients, except
    /// where the framework itself does not (see `finiteness_exempt`).
    #[test]
    fn prop_finite_in_finite_out(seed in seeds()) {
        let mut rng = Rng(seed);
        for op in OPS {
            let c = build(&mut rng, op, Values::Moderate, true);
            if let Some(out) = check(op, &c)? {
                if !finiteness_exempt(op.name, &c) {
                    let bad = out.to_f64().iter().position(|v| !v.is_finite());
                    prop_assert!(bad.is_none(), "{}: non-finite output at {:?}\n{:?}\nout {:?}", op.name, bad, c, out);
                }
            }
        }
    }
}

/// Every op on degenerate shapes: 0-d, empty, and empty with a huge other axis
/// (a 128-byte file can declare shape (2^40, 0)). No panic, no abort, no hang: a
/// result whose size is not bounded by the inputs' must be allocated fallibly.
#[test]
fn degenerate_shapes_through_every_op() {
    let big = 1usize << 40;
    let shapes: Vec<Vec<usize>> = vec![
        vec![],
        vec![0],
        vec![1],
        vec![0, 0],
        vec![0, 3],
        vec![3, 0],
        vec![big, 0],
        vec![0, big],
        vec![2, 0, 3],
        vec![1 << 29, 0, 1 << 29],
        vec![1 << 20, 1 << 20, 0],
        vec![1; 40],
    ];
    let mut ok = 0;
    for op in OPS {
        for s in &shapes {
            for label_axis in [None, Some(0), Some(1), Some(s.len().saturating_sub(1))] {
                for grad in std::iter::once(None).chain(op.grad_wrt.iter().map(|g| Some(g.to_string()))) {
                    let shapes: Vec<Vec<usize>> = op
                        .inputs
                        .iter()
                        .map(|i| match i.kind {
                            InputKind::Float => s.clone(),
                            _ => without(s, label_axis.filter(|&a| a < s.len())),
                        })
                        .collect();
                    // Removing the 0 axis can leave a shape with real elements: keep those small.
                    if shapes.iter().any(|sh| !sh.contains(&0) && sh.iter().fold(1usize, |a, &d| a.saturating_mul(d)) > 1 << 16) {
                        continue;
                    }
                    let inputs = op
                        .inputs
                        .iter()
                        .zip(shapes)
                        .map(|(i, shape)| {
                            let n = if shape.contains(&0) { 0 } else { shape.iter().product() };
                            let dtype = if i.kind == InputKind::Float { DType::F32 } else { DType::I64 };
                            (i.name.to_string(), make(dtype, &shape, &vec![0.5; n], &vec![0; n]))
                        })
                        .collect();
                    let params = if op.name == "tf.one_hot" { vec![("depth".to_string(), json!(3))] } else { vec![] };
                    let c = Case { inputs, params, grad };
                    if std::env::var_os("XENT_TRACE").is_some() {
                        eprintln!("{} {s:?} {label_axis:?} {:?}", op.name, c.grad);
                    }
                    if check(op, &c).unwrap_or_else(|e| panic!("{e}")).is_some() {
                        ok += 1;
                    }
                }
            }
        }
    }
    assert!(ok > 100, "only {ok} degenerate calls succeeded");
}

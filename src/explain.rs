//! `xent explain`: from two loss values that disagree to the call that explains them.
//!
//! [`explain`] takes the labels and predictions a user fed to a framework (and the
//! sample or class weights, if any), evaluates every call that users mistake for
//! each other on them, each through [`crate::registry::eval`] exactly as `xent eval`
//! computes it, and, for each observed loss value, lists the calls that reproduce it,
//! names the trap and suggests the call the user most likely wanted.
//!
//! The candidates (those that raise an error on the arrays are skipped):
//! - Keras (3.15) `categorical_crossentropy` (float one-hot or probability labels of
//!   the predictions' shape) or `sparse_categorical_crossentropy` (integer class
//!   indices, or integral floats, of the predictions' shape without the last axis),
//!   `from_logits` false and true, `label_smoothing` 0 and 0.1 (categorical only);
//!   the function per sample then reduced (`reduce` "mean" / "sum", taken afterwards),
//!   and the loss classes with `reduction` `sum_over_batch_size` and `sum` (with the
//!   sample weights if given, and with `class_weight[y]` as sample weights when class
//!   weights are given, as `Model.fit(class_weight=...)` does; weighted calls also with
//!   `mean_with_sample_weight`, which is PyTorch's `(loss * w).sum() / w.sum()`);
//! - TensorFlow (2.21) `tf.nn.softmax_cross_entropy_with_logits` / sparse, mean and sum;
//! - for predictions of rank ≥ 3, the Keras and TF calls also with the classes moved
//!   from axis 1 (PyTorch's layout) to the last axis (transform "moveaxis(1, -1)",
//!   applied to one-hot labels too);
//! - PyTorch (2.15) `torch.nn.functional.cross_entropy`, `reduction` mean and sum,
//!   `label_smoothing` 0 and 0.1, with the class weights if given; on the raw
//!   predictions and on `softmax(predictions, dim=1)` (softmax applied twice, transform
//!   "softmax"); `nll_loss` on the raw predictions (log_softmax forgotten; exactly
//!   one-hot labels are given to it as their argmax, which its note says); for
//!   predictions of rank ≥ 3, also with the class axis moved from last to 1
//!   (transform "moveaxis(-1, 1)", applied to one-hot labels too);
//! - binary cross-entropy on one-hot labels: Keras `binary_crossentropy` (function and
//!   class) and torch `binary_cross_entropy` / `binary_cross_entropy_with_logits`
//!   (class-index labels are one-hot encoded first, through `tf.one_hot`, when every
//!   label is a class; `inputs` still says "labels" and the note says so).
//!
//! Values: each candidate's value is the op's scalar output, or its per-sample output
//! summed or averaged in float64 and rounded to the output's dtype (the framework sums
//! in that dtype, so the last bits may differ). Candidates whose value is not finite
//! are left out.
//!
//! Matching: the candidates within `1e-6` relative (of the observed value) of the
//! nearest are equally good and all listed: first those of the family the labels
//! suggest (one-hot → Keras, then TF, then PyTorch; indices → PyTorch, then Keras,
//! then TF), then those whose reduction is a parameter of the call before those
//! reduced afterwards, then the nearer first, then in candidate order. When the
//! nearest is more than `1e-4` relative away, the observation has no match and the
//! three nearest are listed. (With two classes, binary and categorical cross-entropy
//! of probabilities are the same number: both are listed.)
//!
//! ```
//! use ndarray::array;
//! use xent::DynArray;
//! let y = DynArray::F32(array![[0.0f32, 1.0, 0.0], [1.0, 0.0, 0.0]].into_dyn());
//! let x = DynArray::F32(array![[1.0f32, 2.0, 0.5], [0.3, -1.0, 2.0]].into_dyn());
//! // keras.losses.CategoricalCrossentropy()(y, x) on raw logits, as Keras 3.15 prints it.
//! let e = xent::explain::explain(&y, &x, None, None, &[1.0129764]).unwrap();
//! let best = &e.candidates[e.observed[0].matches[0].candidate];
//! assert_eq!(best.op, "keras.losses.CategoricalCrossentropy");
//! assert_eq!(best.params["from_logits"], false);
//! assert!(e.observed[0].explanation.contains("from_logits=False"));
//! ```

use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};
use serde_json::{json, Map, Value};

use crate::array::{DType, DynArray};
use crate::error::{Error, Result};
use crate::registry;

/// Relative distance under which two candidates are equally good.
pub const TIE: f64 = 1e-6;
/// Relative distance under which a candidate reproduces an observed value.
pub const MATCH: f64 = 1e-4;

/// The framework a candidate belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Keras 3.
    Keras,
    /// TensorFlow's `tf.nn`.
    Tf,
    /// PyTorch.
    Torch,
}

/// What the labels look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelLayout {
    /// Float one-hot or probability rows, the predictions' shape.
    OneHot,
    /// Class indices, the predictions' shape without the class axis.
    Indices,
}

/// What a candidate call assumes or gets wrong, for the explanation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Traits {
    family: Option<Family>,
    from_logits: Option<bool>,
    smoothing: bool,
    binary: bool,
    nll_raw: bool,
    softmax_twice: bool,
    moved: bool,
    sum: bool,
    after: bool,
    class_weighted: bool,
    sample_weighted: bool,
    cw_as_sw: bool,
    wmean: bool,
    one_hot: bool,
    argmax: bool,
}

/// One call evaluated on the arrays.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The op, exactly as `xent eval` takes it.
    pub op: String,
    /// Its parameters, as `xent eval --param` takes them.
    pub params: Map<String, Value>,
    /// The op's input names mapped to "labels", "predictions", "sample_weight" or
    /// "class_weight".
    pub inputs: BTreeMap<String, String>,
    /// Applied to the predictions before the call: "softmax", "moveaxis(-1, 1)" or
    /// "moveaxis(1, -1)" (a move is applied to one-hot labels too).
    pub transform: Option<String>,
    /// "mean" or "sum" when the op's per-sample output is reduced afterwards.
    pub reduce: Option<String>,
    /// The loss value.
    pub value: f64,
    /// One line on what the call assumes.
    pub note: String,
    /// The call as a user writes it in Python.
    pub call: String,
    traits: Traits,
}

/// A candidate that reproduces an observed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Index into [`Explanation::candidates`].
    pub candidate: usize,
    /// `|candidate value − observed value|`.
    pub abs_diff: f64,
}

/// What one observed value is explained by.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The value the user saw.
    pub value: f64,
    /// Whether the nearest candidate is within [`MATCH`] relative.
    pub found: bool,
    /// The equally good matches, best first; without a match, the three nearest.
    pub matches: Vec<Match>,
    /// The trap, and the call that gives what the user most likely wanted.
    pub explanation: String,
    /// Index into [`Explanation::candidates`] of that call.
    pub suggested: usize,
}

/// The result of [`explain`].
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The label layout the arrays were read as.
    pub layout: LabelLayout,
    /// Whether the predictions were read as probabilities (every row along the last
    /// axis in [0, 1] and summing to 1 within 1e-3) rather than logits.
    pub probabilities: bool,
    /// Every candidate that applies, in evaluation order.
    pub candidates: Vec<Candidate>,
    /// One entry per observed value, in the order given.
    pub observed: Vec<Observed>,
}

/// The arrays of one explain request, in the layouts the candidates need.
struct Data {
    labels: DynArray,
    predictions: DynArray,
    sample_weight: Option<DynArray>,
    class_weight: Option<DynArray>,
    cw_per_sample: Option<DynArray>,
    /// Index labels one-hot encoded (through `tf.one_hot`), for the binary losses.
    one_hot: Option<DynArray>,
    /// Exactly one-hot labels as int64 class indices (their argmax), for `nll_loss`.
    indices: Option<DynArray>,
    layout: LabelLayout,
    probabilities: bool,
}

fn permute(a: &DynArray, from: usize, to: usize) -> DynArray {
    let rank = a.shape().len();
    let mut perm: Vec<usize> = (0..rank).collect();
    let ax = perm.remove(from);
    perm.insert(to, ax);
    fn go<T: Clone>(x: &ArrayD<T>, perm: &[usize]) -> ArrayD<T> {
        x.view().permuted_axes(IxDyn(perm)).as_standard_layout().into_owned()
    }
    match a {
        DynArray::F16(x) => DynArray::F16(go(x, &perm)),
        DynArray::F32(x) => DynArray::F32(go(x, &perm)),
        DynArray::F64(x) => DynArray::F64(go(x, &perm)),
        DynArray::U8(x) => DynArray::U8(go(x, &perm)),
        DynArray::I32(x) => DynArray::I32(go(x, &perm)),
        DynArray::I64(x) => DynArray::I64(go(x, &perm)),
        DynArray::Bool(x) => DynArray::Bool(go(x, &perm)),
    }
}

/// Whether every row along the last axis lies in [0, 1] and sums to 1 within 1e-3.
fn is_probabilities(p: &DynArray) -> bool {
    let x = p.to_f64();
    let Some(&c) = x.shape().last() else { return false };
    if c == 0 || x.is_empty() {
        return false;
    }
    let flat: Vec<f64> = x.iter().copied().collect();
    flat.chunks(c).all(|row| row.iter().all(|v| (0.0..=1.0).contains(v)) && (row.iter().sum::<f64>() - 1.0).abs() <= 1e-3)
}

impl Data {
    fn new(labels: &DynArray, predictions: &DynArray, sample_weight: Option<&DynArray>, class_weight: Option<&DynArray>) -> Result<Data> {
        if !predictions.dtype().is_float() {
            return Err(Error::DType {
                op: "explain".into(),
                input: "predictions".into(),
                got: predictions.dtype().to_string(),
                expected: "float16, float32 or float64".into(),
            });
        }
        let (ps, ls) = (predictions.shape(), labels.shape());
        if ps.len() < 2 {
            return Err(Error::Shape {
                op: "explain".into(),
                msg: format!("predictions must have a batch and a class axis (rank >= 2), got shape {ps:?}"),
            });
        }
        let mut labels = labels.clone();
        let layout = if labels.dtype().is_float() && ls == ps {
            LabelLayout::OneHot
        } else if ls.len() + 1 == ps.len() {
            // Integral float labels are class indices too (Keras reads them as such).
            if labels.dtype().is_float() {
                let f = labels.to_f64();
                if f.iter().any(|v| v.fract() != 0.0 || !v.is_finite()) {
                    return Err(Error::DType {
                        op: "explain".into(),
                        input: "labels".into(),
                        got: format!("{} with non-integral values", labels.dtype()),
                        expected: "class indices (integers) or one-hot rows of the predictions' shape".into(),
                    });
                }
                labels = DynArray::I64(f.mapv(|v| v as i64));
            }
            LabelLayout::Indices
        } else if labels.dtype() == DType::Bool && ls == ps {
            labels = DynArray::from(labels.to_f64().mapv(|v| v as f32));
            LabelLayout::OneHot
        } else {
            return Err(Error::Shape {
                op: "explain".into(),
                msg: format!(
                    "labels of shape {ls:?} ({}) fit predictions of shape {ps:?} neither as one-hot rows (same shape, float) nor as class indices (shape without the last axis)",
                    labels.dtype()
                ),
            });
        };
        let cw_per_sample = match (class_weight, layout) {
            (Some(cw), _) if sample_weight.is_none() => per_sample_class_weight(&labels, layout, cw)?,
            _ => None,
        };
        let one_hot = match layout {
            LabelLayout::OneHot => None,
            // Only when every label is a class (tf.one_hot would give zero rows for the others).
            LabelLayout::Indices
                if labels
                    .to_i64("explain", "labels")
                    .is_ok_and(|l| l.iter().all(|&v| v >= 0 && (v as u64) < *ps.last().unwrap_or(&0) as u64)) =>
            {
                let depth = *ps.last().unwrap_or(&0) as i64;
                let dtype = if predictions.dtype() == DType::F64 { "float64" } else { "float32" };
                registry::eval(
                    "tf.one_hot",
                    vec![("indices".into(), labels.clone())],
                    vec![("depth".into(), json!(depth)), ("dtype".into(), json!(dtype))],
                    None,
                )
                .ok()
            }
            LabelLayout::Indices => None,
        };
        let indices = match layout {
            LabelLayout::OneHot => argmax_of_one_hot(&labels),
            LabelLayout::Indices => None,
        };
        Ok(Data {
            one_hot,
            indices,
            probabilities: is_probabilities(predictions),
            labels,
            predictions: predictions.clone(),
            sample_weight: sample_weight.cloned(),
            class_weight: class_weight.cloned(),
            cw_per_sample,
            layout,
        })
    }
}

/// The class index of every row along the last axis when each row is exactly one-hot
/// (zeros and a single one), as int64 of the labels' shape without the last axis.
fn argmax_of_one_hot(labels: &DynArray) -> Option<DynArray> {
    let f = labels.to_f64();
    let c = *f.shape().last()?;
    if c == 0 || f.is_empty() {
        return None;
    }
    let flat: Vec<f64> = f.iter().copied().collect();
    let mut idx = Vec::with_capacity(flat.len() / c);
    for row in flat.chunks(c) {
        if !row.iter().all(|&v| v == 0.0 || v == 1.0) || row.iter().filter(|&&v| v == 1.0).count() != 1 {
            return None;
        }
        idx.push(row.iter().position(|&v| v == 1.0)? as i64);
    }
    ArrayD::from_shape_vec(IxDyn(&f.shape()[..f.ndim() - 1]), idx).ok().map(DynArray::I64)
}

/// `class_weight[y]` for every sample (the class of a one-hot row: its largest
/// entry), as Keras's `Model.fit(class_weight=...)` builds its sample weights. `None`
/// when a label is outside the class weights.
fn per_sample_class_weight(labels: &DynArray, layout: LabelLayout, cw: &DynArray) -> Result<Option<DynArray>> {
    let w = cw.to_f64();
    if w.ndim() != 1 {
        return Err(Error::Shape { op: "explain".into(), msg: format!("class_weight must be one-dimensional, got shape {:?}", w.shape()) });
    }
    let idx: ArrayD<i64> = match layout {
        LabelLayout::Indices => labels.to_i64("explain", "labels")?,
        LabelLayout::OneHot => {
            let f = labels.to_f64();
            let c = *f.shape().last().unwrap_or(&1);
            let rows: Vec<i64> = f
                .as_standard_layout()
                .iter()
                .copied()
                .collect::<Vec<f64>>()
                .chunks(c.max(1))
                .map(|r| r.iter().enumerate().fold((0usize, f64::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0 as i64)
                .collect();
            let shape = &f.shape()[..f.ndim() - 1];
            match ArrayD::from_shape_vec(IxDyn(shape), rows) {
                Ok(a) => a,
                Err(_) => return Ok(None),
            }
        }
    };
    let mut out = Vec::with_capacity(idx.len());
    for &i in idx.iter() {
        match usize::try_from(i).ok().and_then(|i| w.as_slice_memory_order().and_then(|s| s.get(i))) {
            Some(&v) => out.push(v),
            None => return Ok(None),
        }
    }
    Ok(ArrayD::from_shape_vec(idx.raw_dim(), out).ok().map(|a| match cw.dtype() {
        DType::F64 => DynArray::F64(a),
        _ => DynArray::F32(a.mapv(|v| v as f32)),
    }))
}

/// A candidate before evaluation.
struct Spec {
    op: &'static str,
    params: Vec<(&'static str, Value)>,
    inputs: Vec<(&'static str, &'static str)>,
    transform: Option<&'static str>,
    reduce: Option<&'static str>,
    note: String,
    call: String,
    traits: Traits,
}

fn fmt_smooth(ls: bool) -> &'static str {
    if ls {
        ", label_smoothing=0.1"
    } else {
        ""
    }
}

/// Keyword arguments joined by ", " (each may start with ", " or be empty).
fn args(parts: &[&str]) -> String {
    parts.iter().map(|p| p.trim_start_matches(", ")).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(", ")
}

fn keras_specs(d: &Data, out: &mut Vec<Spec>) {
    let onehot = d.layout == LabelLayout::OneHot;
    let (fname, cname) = if onehot {
        ("keras.losses.categorical_crossentropy", "keras.losses.CategoricalCrossentropy")
    } else {
        ("keras.losses.sparse_categorical_crossentropy", "keras.losses.SparseCategoricalCrossentropy")
    };
    let short_f = fname.trim_start_matches("keras.losses.");
    let short_c = cname.trim_start_matches("keras.losses.");
    let smooths: &[bool] = if onehot { &[false, true] } else { &[false] };
    for &fl in &[false, true] {
        let assume = if fl {
            "y_pred are logits: softmax, then the cross-entropy"
        } else {
            "y_pred are probabilities: renormalised to sum 1 and clipped to [1e-7, 1 - 1e-7]"
        };
        let fl_s = if fl { ", from_logits=True" } else { "" };
        for &ls in smooths {
            let base = Traits { family: Some(Family::Keras), from_logits: Some(fl), smoothing: ls, ..Traits::default() };
            let mut params = vec![("from_logits", json!(fl))];
            if ls {
                params.push(("label_smoothing", json!(0.1)));
            }
            let sm = fmt_smooth(ls);
            let smooth_note = if ls { "; labels smoothed to 0.9·y + 0.1/C" } else { "" };
            // The loss classes, reduction as a parameter.
            let mut weights: Vec<(Option<&'static str>, bool, bool)> = vec![(None, false, false)];
            if d.sample_weight.is_some() {
                weights = vec![(Some("sample_weight"), true, false), (None, false, false)];
            } else if d.cw_per_sample.is_some() {
                weights.push((Some("class_weight"), false, true));
            }
            for &(red, sum) in &[("sum_over_batch_size", false), ("sum", true), ("mean_with_sample_weight", false)] {
                for &(w, sw, cw) in &weights {
                    let wmean = red == "mean_with_sample_weight";
                    if wmean && w.is_none() {
                        continue;
                    }
                    let mut p = params.clone();
                    p.push(("reduction", json!(red)));
                    let mut inputs = vec![("y_true", "labels"), ("y_pred", "predictions")];
                    let mut wcall = String::new();
                    let mut wnote = String::new();
                    if let Some(w) = w {
                        inputs.push(("sample_weight", w));
                        if cw {
                            wcall = ", sample_weight=class_weight[y]".into();
                            wnote = "; class_weight[y] as sample weights, as Model.fit(class_weight=) does".into();
                        } else {
                            wcall = ", sample_weight=w".into();
                            wnote = "; weighted by sample_weight".into();
                        }
                    }
                    let (red_s, red_note) = match (sum, wmean) {
                        (true, _) => ("reduction=\"sum\"", "summed over the batch"),
                        (false, true) => ("reduction=\"mean_with_sample_weight\"", "divided by the sum of the weights"),
                        (false, false) => ("", "divided by the batch size"),
                    };
                    out.push(Spec {
                        op: cname,
                        params: p,
                        inputs,
                        transform: None,
                        reduce: None,
                        note: format!("{assume}{smooth_note}{wnote}; {red_note}"),
                        call: format!("keras.losses.{short_c}({})(y_true, y_pred{wcall})", args(&[fl_s, sm, red_s])),
                        traits: Traits { sum, sample_weighted: sw, cw_as_sw: cw, wmean, ..base },
                    });
                }
            }
            // The function, per sample, reduced afterwards.
            for &(r, sum) in &[("mean", false), ("sum", true)] {
                out.push(Spec {
                    op: fname,
                    params: params.clone(),
                    inputs: vec![("y_true", "labels"), ("y_pred", "predictions")],
                    transform: None,
                    reduce: Some(r),
                    note: format!("{assume}{smooth_note}; per-sample losses, then their {r}"),
                    call: format!("keras.ops.{r}(keras.losses.{short_f}(y_true, y_pred{fl_s}{sm}))"),
                    traits: Traits { sum, after: true, ..base },
                });
            }
        }
    }
}

fn tf_specs(d: &Data, out: &mut Vec<Spec>) {
    let (op, short) = if d.layout == LabelLayout::OneHot {
        ("tf.nn.softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits")
    } else {
        ("tf.nn.sparse_softmax_cross_entropy_with_logits", "sparse_softmax_cross_entropy_with_logits")
    };
    for &(r, sum) in &[("mean", false), ("sum", true)] {
        out.push(Spec {
            op,
            params: vec![],
            inputs: vec![("labels", "labels"), ("logits", "predictions")],
            transform: None,
            reduce: Some(r),
            note: format!("logits: log_softmax over the last axis, per-sample losses, then their {r}"),
            call: format!("tf.reduce_{r}(tf.nn.{short}(labels=y, logits=x))"),
            traits: Traits { family: Some(Family::Tf), sum, after: true, ..Traits::default() },
        });
    }
}

/// For predictions of rank >= 3, the Keras and TF calls again with the classes moved
/// from axis 1 (PyTorch's layout) to the last axis (transform "moveaxis(1, -1)").
fn moved_keras_tf(d: &Data, out: &mut Vec<Spec>) {
    if d.predictions.shape().len() < 3 {
        return;
    }
    let onehot = d.layout == LabelLayout::OneHot;
    let moved: Vec<Spec> = out
        .iter()
        .map(|s| {
            let mut call = s
                .call
                .replace("y_pred", "keras.ops.moveaxis(y_pred, 1, -1)")
                .replace("logits=x", "logits=tf.experimental.numpy.moveaxis(x, 1, -1)");
            if onehot {
                call = call
                    .replace("(y_true,", "(keras.ops.moveaxis(y_true, 1, -1),")
                    .replace("labels=y,", "labels=tf.experimental.numpy.moveaxis(y, 1, -1),");
            }
            Spec {
                op: s.op,
                params: s.params.clone(),
                inputs: s.inputs.clone(),
                transform: Some("moveaxis(1, -1)"),
                reduce: s.reduce,
                note: format!("{}; classes moved from axis 1 to the last axis", s.note),
                call,
                traits: Traits { moved: true, ..s.traits },
            }
        })
        .collect();
    out.extend(moved);
}

fn torch_specs(d: &Data, out: &mut Vec<Spec>) {
    let rank = d.predictions.shape().len();
    let moves: &[bool] = if rank >= 3 { &[false, true] } else { &[false] };
    let onehot = d.layout == LabelLayout::OneHot;
    for &moved in moves {
        let (xm, ym) = match (moved, onehot) {
            (false, _) => ("x", "y"),
            (true, false) => ("x.moveaxis(-1, 1)", "y"),
            (true, true) => ("x.moveaxis(-1, 1)", "y.moveaxis(-1, 1)"),
        };
        let move_note = if moved { "; classes moved from the last axis to axis 1" } else { "; classes on axis 1" };
        // With class weights: the weighted calls first, then the unweighted ones.
        let weightings: &[bool] = if d.class_weight.is_some() { &[true, false] } else { &[false] };
        for &weighted in weightings {
            let (w_input, w_call, w_note) = if weighted {
                (Some(("weight", "class_weight")), ", weight=class_weight", "; class-weighted (mean divides by the sum of the weights)")
            } else {
                (None, "", "")
            };
            for &twice in &[false, true] {
                if twice && moved {
                    continue;
                }
                for &ls in &[false, true] {
                    for &(r, sum) in &[("mean", false), ("sum", true)] {
                        let mut params = vec![("reduction", json!(r))];
                        if ls {
                            params.push(("label_smoothing", json!(0.1)));
                        }
                        let mut inputs = vec![("input", "predictions"), ("target", "labels")];
                        inputs.extend(w_input);
                        let xs = if twice { "F.softmax(x, dim=1)".to_string() } else { xm.to_string() };
                        let red_s = if sum { ", reduction=\"sum\"" } else { "" };
                        let assume = if twice {
                            "softmax(x) fed as logits: log_softmax applied on top of softmax"
                        } else {
                            "input are logits: log_softmax, then the negative log-likelihood"
                        };
                        out.push(Spec {
                            op: "torch.nn.functional.cross_entropy",
                            params,
                            inputs,
                            transform: if twice {
                                Some("softmax")
                            } else if moved {
                                Some("moveaxis(-1, 1)")
                            } else {
                                None
                            },
                            reduce: None,
                            note: format!(
                                "{assume}{}{move_note}{w_note}; {}",
                                if ls { "; labels smoothed to 0.9·y + 0.1/C" } else { "" },
                                if sum { "summed" } else { "averaged" }
                            ),
                            call: format!("F.cross_entropy({xs}, {ym}{w_call}{red_s}{})", fmt_smooth(ls)),
                            traits: Traits {
                                family: Some(Family::Torch),
                                smoothing: ls,
                                softmax_twice: twice,
                                moved,
                                sum,
                                class_weighted: weighted,
                                ..Traits::default()
                            },
                        });
                    }
                }
            }
            // nll_loss takes class indices: one-hot rows are read as their argmax.
            if !onehot || d.indices.is_some() {
                for &(r, sum) in &[("mean", false), ("sum", true)] {
                    let mut inputs = vec![("input", "predictions"), ("target", "labels")];
                    inputs.extend(w_input);
                    let red_s = if sum { ", reduction=\"sum\"" } else { "" };
                    let (ym, argmax_note) = if onehot { ("y.argmax(-1)", "; one-hot labels as class indices (argmax)") } else { (ym, "") };
                    out.push(Spec {
                        op: "torch.nn.functional.nll_loss",
                        params: vec![("reduction", json!(r))],
                        inputs,
                        transform: if moved { Some("moveaxis(-1, 1)") } else { None },
                        reduce: None,
                        note: format!("input are log-probabilities: -input[y], no log_softmax{move_note}{w_note}{argmax_note}"),
                        call: format!("F.nll_loss({xm}, {ym}{w_call}{red_s})"),
                        traits: Traits {
                            family: Some(Family::Torch),
                            nll_raw: true,
                            moved,
                            sum,
                            class_weighted: weighted,
                            argmax: onehot,
                            ..Traits::default()
                        },
                    });
                }
            }
        }
    }
}

fn binary_specs(d: &Data, out: &mut Vec<Spec>) {
    let start = out.len();
    let c = d.predictions.shape().last().copied().unwrap_or(0);
    let encode = d.layout == LabelLayout::Indices;
    if encode && d.one_hot.is_none() {
        return;
    }
    for &fl in &[false, true] {
        let fl_s = if fl { "from_logits=True" } else { "" };
        let assume = if fl { "independent sigmoids on logits" } else { "independent probabilities, clipped to [1e-7, 1 - 1e-7]" };
        for &(red, sum) in &[("sum_over_batch_size", false), ("sum", true)] {
            let red_s = if sum { "reduction=\"sum\"" } else { "" };
            let (w_in, w_call) =
                if d.sample_weight.is_some() { (vec![("sample_weight", "sample_weight")], ", sample_weight=w") } else { (vec![], "") };
            let mut inputs = vec![("y_true", "labels"), ("y_pred", "predictions")];
            inputs.extend(w_in);
            out.push(Spec {
                op: "keras.losses.BinaryCrossentropy",
                params: vec![("from_logits", json!(fl)), ("reduction", json!(red))],
                inputs,
                transform: None,
                reduce: None,
                note: format!(
                    "{assume}: one yes/no per class, mean over classes; {}",
                    if sum { "summed over the batch" } else { "divided by the batch size" }
                ),
                call: format!("keras.losses.BinaryCrossentropy({})(y_true, y_pred{w_call})", args(&[fl_s, red_s])),
                traits: Traits {
                    family: Some(Family::Keras),
                    from_logits: Some(fl),
                    binary: true,
                    sum,
                    sample_weighted: d.sample_weight.is_some(),
                    ..Traits::default()
                },
            });
        }
        for &(r, sum) in &[("mean", false), ("sum", true)] {
            out.push(Spec {
                op: "keras.losses.binary_crossentropy",
                params: vec![("from_logits", json!(fl))],
                inputs: vec![("y_true", "labels"), ("y_pred", "predictions")],
                transform: None,
                reduce: Some(r),
                note: format!("{assume}: one yes/no per class, mean over classes, then the {r} over the batch"),
                call: format!(
                    "keras.ops.{r}(keras.losses.binary_crossentropy(y_true, y_pred{}))",
                    if fl { ", from_logits=True" } else { "" }
                ),
                traits: Traits { family: Some(Family::Keras), from_logits: Some(fl), binary: true, sum, after: true, ..Traits::default() },
            });
        }
        let (op, fnm) = if fl {
            ("torch.nn.functional.binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits")
        } else {
            ("torch.nn.functional.binary_cross_entropy", "binary_cross_entropy")
        };
        for &(r, sum) in &[("mean", false), ("sum", true)] {
            out.push(Spec {
                op,
                params: vec![("reduction", json!(r))],
                inputs: vec![("input", "predictions"), ("target", "labels")],
                transform: None,
                reduce: None,
                note: format!("{assume}: one yes/no per class; {} over every element", if sum { "summed" } else { "averaged" }),
                call: format!("F.{fnm}(x, y{})", if sum { ", reduction=\"sum\"" } else { "" }),
                traits: Traits { family: Some(Family::Torch), from_logits: Some(fl), binary: true, sum, ..Traits::default() },
            });
        }
    }
    if encode {
        for s in &mut out[start..] {
            s.traits.one_hot = true;
            s.note.push_str("; index labels one-hot encoded first");
            s.call = s
                .call
                .replace("(y_true,", &format!("(keras.ops.one_hot(y_true, {c}),"))
                .replace(", y)", &format!(", F.one_hot(y, {c}).float())"))
                .replace(", y,", &format!(", F.one_hot(y, {c}).float(),"));
        }
    }
}

/// Run one spec through the op table; `None` when it does not apply.
fn evaluate(d: &Data, s: &Spec) -> Option<f64> {
    let mut pred = d.predictions.clone();
    let mut labels = d.labels.clone();
    let r = pred.shape().len();
    let moves = match s.transform {
        Some("moveaxis(-1, 1)") => Some((r - 1, 1)),
        Some("moveaxis(1, -1)") => Some((1, r - 1)),
        _ => None,
    };
    if let Some((from, to)) = moves {
        pred = permute(&pred, from, to);
        if d.layout == LabelLayout::OneHot {
            labels = permute(&labels, from, to);
        }
    }
    if s.transform == Some("softmax") {
        pred = registry::eval("torch.softmax", vec![("input".into(), pred)], vec![("dim".into(), json!(1))], None).ok()?;
    }
    let mut inputs = Vec::new();
    for &(name, what) in &s.inputs {
        let a = match what {
            "labels" if s.traits.one_hot => d.one_hot.clone()?,
            "labels" if s.traits.argmax => d.indices.clone()?,
            "labels" => labels.clone(),
            "predictions" => pred.clone(),
            "sample_weight" => d.sample_weight.clone()?,
            "class_weight" if name == "sample_weight" => d.cw_per_sample.clone()?,
            "class_weight" => d.class_weight.clone()?,
            _ => return None,
        };
        inputs.push((name.to_string(), a));
    }
    let params = s.params.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect();
    let out = registry::eval(s.op, inputs, params, None).ok()?;
    let f32_out = matches!(out.dtype(), DType::F32 | DType::F16);
    let vals = out.to_f64();
    let v = match s.reduce {
        None if vals.len() == 1 => vals.iter().copied().next()?,
        None => return None,
        Some(_) if vals.is_empty() => return None,
        Some("sum") => vals.iter().sum::<f64>(),
        Some(_) => vals.iter().sum::<f64>() / vals.len() as f64,
    };
    let v = if f32_out { shortest_f32(v) } else { v };
    v.is_finite().then_some(v)
}

/// A float32 result as the f64 of its shortest decimal form (what the framework prints).
fn shortest_f32(v: f64) -> f64 {
    format!("{}", v as f32).parse().unwrap_or(v)
}

/// Evaluate every candidate on the arrays and explain each observed value.
///
/// `labels`: float one-hot or probability rows of the predictions' shape, or class
/// indices (integer, or integral float) of the predictions' shape without the last
/// axis. `predictions`: float, rank ≥ 2, classes on the last axis (for rank ≥ 3 the
/// PyTorch candidates are also tried with the classes moved to axis 1).
/// `sample_weight`: per-sample weights for the Keras loss classes. `class_weight`:
/// one weight per class, PyTorch's `weight` (and Keras's `fit(class_weight=)`).
///
/// # Errors
/// [`Error::Usage`] for an observed value that is not finite; [`Error::DType`] for integer predictions or non-integral float index labels;
/// [`Error::Shape`] when the labels fit the predictions in neither layout, the class
/// weights are not one-dimensional, or no candidate applies to the arrays (then the
/// message carries the error of the plainest call).
pub fn explain(
    labels: &DynArray,
    predictions: &DynArray,
    sample_weight: Option<&DynArray>,
    class_weight: Option<&DynArray>,
    observed: &[f64],
) -> Result<Explanation> {
    if let Some(v) = observed.iter().find(|v| !v.is_finite()) {
        return Err(Error::Usage(format!("explain: an observed value must be a finite number, got {v}")));
    }
    let d = Data::new(labels, predictions, sample_weight, class_weight)?;
    let mut specs = Vec::new();
    keras_specs(&d, &mut specs);
    tf_specs(&d, &mut specs);
    moved_keras_tf(&d, &mut specs);
    torch_specs(&d, &mut specs);
    binary_specs(&d, &mut specs);
    let mut candidates = Vec::new();
    for s in specs {
        if let Some(value) = evaluate(&d, &s) {
            candidates.push(Candidate {
                op: s.op.to_string(),
                params: s.params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                inputs: s.inputs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                transform: s.transform.map(str::to_string),
                reduce: s.reduce.map(str::to_string),
                value,
                note: s.note,
                call: s.call,
                traits: s.traits,
            });
        }
    }
    if candidates.is_empty() {
        let why = first_error(&d);
        return Err(Error::Shape {
            op: "explain".into(),
            msg: format!(
                "no candidate applies to labels of shape {:?} and predictions of shape {:?} (or every value is not finite): {why}",
                labels.shape(),
                predictions.shape()
            ),
        });
    }
    let observed = observed.iter().map(|&v| observe(&d, &candidates, v)).collect();
    Ok(Explanation { layout: d.layout, probabilities: d.probabilities, candidates, observed })
}

fn first_error(d: &Data) -> String {
    let (op, y) = match d.layout {
        LabelLayout::OneHot => ("tf.nn.softmax_cross_entropy_with_logits", "labels"),
        LabelLayout::Indices => ("tf.nn.sparse_softmax_cross_entropy_with_logits", "labels"),
    };
    match registry::eval(op, vec![(y.into(), d.labels.clone()), ("logits".into(), d.predictions.clone())], vec![], None) {
        Err(e) => e.to_string(),
        Ok(_) => "the values are not finite".into(),
    }
}

fn family_rank(layout: LabelLayout, f: Option<Family>) -> u8 {
    match (layout, f) {
        (LabelLayout::OneHot, Some(Family::Keras)) => 0,
        (LabelLayout::OneHot, Some(Family::Tf)) => 1,
        (LabelLayout::OneHot, _) => 2,
        (LabelLayout::Indices, Some(Family::Torch)) => 0,
        (LabelLayout::Indices, Some(Family::Keras)) => 1,
        (LabelLayout::Indices, _) => 2,
    }
}

fn observe(d: &Data, cands: &[Candidate], v: f64) -> Observed {
    let scale = v.abs().max(f64::MIN_POSITIVE);
    let diff = |c: &Candidate| (c.value - v).abs();
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by(|&a, &b| diff(&cands[a]).total_cmp(&diff(&cands[b])).then(a.cmp(&b)));
    let best = diff(&cands[order[0]]);
    let found = best.is_finite() && best / scale <= MATCH;
    let matches: Vec<usize> = if found {
        let mut tied: Vec<usize> = order.iter().copied().filter(|&i| diff(&cands[i]) - best <= TIE * scale).collect();
        // Family, then reduction as a parameter first, then the nearer, then candidate order.
        tied.sort_by(|&a, &b| {
            let key = |i: usize| (family_rank(d.layout, cands[i].traits.family), cands[i].traits.after);
            key(a).cmp(&key(b)).then(diff(&cands[a]).total_cmp(&diff(&cands[b]))).then(a.cmp(&b))
        });
        tied
    } else {
        order.iter().copied().take(3).collect()
    };
    let top = &cands[matches[0]];
    let suggested = if found { suggest(d, cands, top) } else { correct_default(d, cands) };
    let explanation = if found { explain_match(d, top, &cands[suggested]) } else { no_match(v, &cands[suggested]) };
    Observed {
        value: v,
        found,
        matches: matches.into_iter().map(|i| Match { candidate: i, abs_diff: diff(&cands[i]) }).collect(),
        explanation,
        suggested,
    }
}

/// Whether the call reads the predictions the way they are (logits or probabilities).
fn reads_right(probabilities: bool, t: &Traits) -> bool {
    if t.binary || t.nll_raw || t.softmax_twice || t.smoothing {
        return false;
    }
    match t.family {
        Some(Family::Keras) => t.from_logits == Some(!probabilities),
        _ => !probabilities,
    }
}

/// The call the user most likely wanted, given the matched one: the same family,
/// reduction style and weights, reading the predictions right, averaged.
fn suggest(d: &Data, cands: &[Candidate], top: &Candidate) -> usize {
    let t = top.traits;
    let wanted = |c: &Candidate| {
        let u = c.traits;
        reads_right(d.probabilities, &u)
            && !u.sum
            && u.after == t.after
            && u.moved == t.moved
            && u.sample_weighted == t.sample_weighted
            && u.cw_as_sw == t.cw_as_sw
            && u.class_weighted == t.class_weighted
            && u.wmean == t.wmean
    };
    let same_family = |c: &Candidate| c.traits.family == t.family && (c.op == top.op || top.traits.binary || t.nll_raw);
    if reads_right(d.probabilities, &t) && !t.sum {
        return index_of(cands, top);
    }
    cands
        .iter()
        .position(|c| wanted(c) && same_family(c))
        .or_else(|| cands.iter().position(|c| wanted(c) && c.traits.family == t.family))
        .or_else(|| cands.iter().position(|c| reads_right(d.probabilities, &c.traits) && !c.traits.sum && c.traits.family == t.family))
        .unwrap_or_else(|| correct_default(d, cands))
}

fn index_of(cands: &[Candidate], c: &Candidate) -> usize {
    cands.iter().position(|x| std::ptr::eq(x, c)).unwrap_or(0)
}

/// The plain right call for the label layout: Keras for one-hot labels, PyTorch for
/// indices (Keras when the predictions are probabilities, which PyTorch has no call for).
fn correct_default(d: &Data, cands: &[Candidate]) -> usize {
    let fam = match d.layout {
        LabelLayout::OneHot => Family::Keras,
        LabelLayout::Indices => Family::Torch,
    };
    let ok = |c: &Candidate| reads_right(d.probabilities, &c.traits) && !c.traits.sum && !c.traits.cw_as_sw;
    cands
        .iter()
        .position(|c| ok(c) && c.traits.family == Some(fam) && !c.traits.after)
        .or_else(|| cands.iter().position(|c| ok(c) && !c.traits.after))
        .or_else(|| cands.iter().position(ok))
        .unwrap_or(0)
}

fn fmt_v(v: f64) -> String {
    format!("{v}")
}

fn explain_match(d: &Data, top: &Candidate, sug: &Candidate) -> String {
    let t = top.traits;
    let want = format!("{} = {} is what you most likely wanted.", sug.call, fmt_v(sug.value));
    let layout = match (t.moved, t.family) {
        (false, _) => "",
        (true, Some(Family::Torch)) => " PyTorch takes the classes on axis 1, so the predictions' last axis was moved there.",
        (true, _) => " Keras and TensorFlow take the classes on the last axis, so the predictions' axis 1 was moved there.",
    };
    let trap = if t.binary {
        "A sigmoid loss was used for a softmax problem: binary cross-entropy treats each class of the one-hot labels as an independent yes/no and averages over the classes, which is not the categorical cross-entropy.".to_string()
    } else if t.nll_raw && d.probabilities {
        "nll_loss expects log-probabilities, but the predictions are probabilities (log forgotten, or softmax where log_softmax belongs): the value is minus the target probabilities, between -1 and 0.".to_string()
    } else if t.nll_raw {
        "nll_loss expects log-probabilities, but the predictions are raw logits (log_softmax forgotten): the value is minus the target logits, and it can be negative and unbounded.".to_string()
    } else if t.softmax_twice {
        "softmax applied twice: cross_entropy applies log_softmax itself, so softmax(x) fed to it is squashed toward uniform and the loss stays near log(C) and barely trains.".to_string()
    } else if t.family == Some(Family::Keras) && t.from_logits == Some(false) && !d.probabilities {
        "y_pred holds logits, but from_logits=False makes Keras treat them as probabilities: it renormalises and clips them.".to_string()
    } else if t.family == Some(Family::Keras) && t.from_logits == Some(true) && d.probabilities {
        "y_pred already holds probabilities (rows sum to 1), but from_logits=True makes Keras apply softmax to them again.".to_string()
    } else if t.family == Some(Family::Torch) && d.probabilities {
        "The predictions already hold probabilities, but cross_entropy expects logits and applies log_softmax again (softmax applied twice).".to_string()
    } else if t.family == Some(Family::Tf) && d.probabilities {
        "The predictions already hold probabilities, but softmax_cross_entropy_with_logits expects logits and applies softmax again."
            .to_string()
    } else if t.smoothing {
        "This value includes label_smoothing=0.1 (targets 0.9·y + 0.1/C), so it is larger than the plain cross-entropy a call without smoothing reports."
            .to_string()
    } else if t.sum {
        "This is the sum over the batch, not the mean (reduction \"sum\" or a sum taken afterwards).".to_string()
    } else if t.wmean {
        "reduction=\"mean_with_sample_weight\" divides sum(w·loss) by sum(w) (as PyTorch's weighted mean over class-index targets, or (loss·w).sum() / w.sum()), where Keras's default sum_over_batch_size divides by the batch size.".to_string()
    } else if t.cw_as_sw && d.layout == LabelLayout::Indices {
        "Keras's fit(class_weight=) multiplies each sample's loss by class_weight[y] and divides by the batch size, where PyTorch's cross_entropy(weight=) divides by the sum of the weights.".to_string()
    } else if t.cw_as_sw {
        "Keras's fit(class_weight=) multiplies each sample's loss by class_weight[y] and divides by the batch size, as PyTorch's cross_entropy(weight=) does with probability targets (with class-index targets PyTorch divides by the sum of the weights).".to_string()
    } else if t.class_weighted && !t.sum && d.layout == LabelLayout::Indices {
        "PyTorch's weighted mean divides by the sum of the target classes' weights, sum(w[y]·loss) / sum(w[y]), not by the batch size as Keras's class_weight does.".to_string()
    } else if t.class_weighted && !t.sum {
        "With probability (one-hot) targets PyTorch's weighted mean divides by the batch size, sum(Σ_c w_c y_c·(−log p_c)) / N, not by the sum of the weights as it does for class-index targets.".to_string()
    } else if t.sample_weighted && !t.sum {
        "With sample weights, Keras's sum_over_batch_size divides sum(w·loss) by the batch size, not by sum(w).".to_string()
    } else {
        return format!("{} reads these arrays as they are meant, with no trap.{layout}", top.call);
    };
    if std::ptr::eq(top, sug) {
        format!("{trap}{layout}")
    } else {
        format!("{trap}{layout} {want}")
    }
}

fn no_match(v: f64, sug: &Candidate) -> String {
    format!(
        "No candidate comes within 1e-4 relative of {}: none of the calls xent tries gives this value on these arrays (other arrays, weights or a different loss?); the nearest three are listed. For these arrays, {} = {}.",
        fmt_v(v),
        sug.call,
        fmt_v(sug.value)
    )
}

impl Candidate {
    fn key_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("op".into(), json!(self.op));
        m.insert("params".into(), Value::Object(self.params.clone()));
        m.insert("inputs".into(), json!(self.inputs));
        m.insert("transform".into(), json!(self.transform));
        m.insert("reduce".into(), json!(self.reduce));
        m
    }
}

impl Explanation {
    /// The machine-readable form: `{"candidates": [{"op", "params", "inputs",
    /// "transform", "reduce", "value", "note"}], "observed": [{"value", "matches":
    /// [{"op", "params", "inputs", "transform", "reduce", "value", "abs_diff"}],
    /// "explanation", "suggested": {"op", "params", "inputs", "transform", "reduce"}}]}`.
    pub fn to_json(&self) -> Value {
        let candidates: Vec<Value> = self
            .candidates
            .iter()
            .map(|c| {
                let mut m = c.key_json();
                m.insert("value".into(), json!(c.value));
                m.insert("note".into(), json!(c.note));
                Value::Object(m)
            })
            .collect();
        let observed: Vec<Value> = self
            .observed
            .iter()
            .map(|o| {
                let matches: Vec<Value> = o
                    .matches
                    .iter()
                    .map(|m| {
                        let c = &self.candidates[m.candidate];
                        let mut j = c.key_json();
                        j.insert("value".into(), json!(c.value));
                        j.insert("abs_diff".into(), json!(m.abs_diff));
                        Value::Object(j)
                    })
                    .collect();
                json!({
                    "value": o.value,
                    "matches": matches,
                    "explanation": o.explanation,
                    "suggested": Value::Object(self.candidates[o.suggested].key_json()),
                })
            })
            .collect();
        json!({"candidates": candidates, "observed": observed})
    }

    /// The text report: without observed values, a table (call, value, note); with
    /// them, for each value its matches, the explanation and the suggested call.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let layout = match self.layout {
            LabelLayout::OneHot => "one-hot / probability labels",
            LabelLayout::Indices => "class-index labels",
        };
        if self.observed.is_empty() {
            let w = self.candidates.iter().map(|c| c.call.chars().count()).max().unwrap_or(0);
            let vw = self.candidates.iter().map(|c| fmt_v(c.value).len()).max().unwrap_or(0);
            s.push_str(&format!("{} candidates ({layout}):\n", self.candidates.len()));
            for c in &self.candidates {
                s.push_str(&format!("{:<w$}  {:>vw$}  {}\n", c.call, fmt_v(c.value), c.note));
            }
            return s;
        }
        for (k, o) in self.observed.iter().enumerate() {
            if k > 0 {
                s.push('\n');
            }
            if o.found {
                s.push_str(&format!("observed {}: reproduced by ({layout})\n", fmt_v(o.value)));
            } else {
                s.push_str(&format!("observed {}: no match within 1e-4 relative; nearest three:\n", fmt_v(o.value)));
            }
            for m in &o.matches {
                let c = &self.candidates[m.candidate];
                s.push_str(&format!("  {} = {}  (|diff| {:.3e})\n", c.call, fmt_v(c.value), m.abs_diff));
            }
            s.push_str(&format!("  {}\n", o.explanation));
            let sg = &self.candidates[o.suggested];
            s.push_str(&format!("  suggested: {} = {}\n", sg.call, fmt_v(sg.value)));
        }
        s
    }
}

/// The closing section of `xent demo`: `xent explain` run on the demo's own numbers,
/// the pair a user would compare (the batch means of Keras `categorical_crossentropy`
/// on the raw logits and of `tf.nn.softmax_cross_entropy_with_logits`), in English or
/// Korean (the explain report itself is in English; the Korean text sums it up).
///
/// # Errors
/// None in practice: the demo's arrays are valid for every candidate family.
///
/// ```
/// let r = xent::demo::run(0).unwrap();
/// let s = xent::explain::demo_section(&r, xent::demo::Lang::En).unwrap();
/// assert!(s.contains("from_logits=False makes Keras treat them as probabilities"));
/// ```
#[cfg(feature = "cli")]
#[doc(hidden)] // serves `xent demo`, not library API
pub fn demo_section(r: &crate::demo::DemoReport, lang: crate::demo::Lang) -> Result<String> {
    let ko = lang == crate::demo::Lang::Ko;
    let mean = |a: &ArrayD<f64>| a.iter().sum::<f64>() / a.len().max(1) as f64;
    let (raw, sce) = (mean(&r.cce_raw), mean(&r.sce));
    let e = explain(&DynArray::F64(r.y_one_hot.clone()), &DynArray::F64(r.x.clone()), None, None, &[raw, sce])?;
    let mut s = String::from("\n");
    if ko {
        s.push_str("9. 이 숫자에 xent explain 적용\n");
        s.push_str(&format!("   사용자가 비교할 두 값: mean(cce_raw) = {raw} (로짓을 그대로 넣은 Keras)와 mean(sce) = {sce}.\n"));
    } else {
        s.push_str("9. xent explain on these numbers\n");
        s.push_str(&format!("   The pair a user would compare: mean(cce_raw) = {raw} (Keras on the raw logits) and mean(sce) = {sce}.\n"));
    }
    s.push_str("   $ xent explain --labels y_one_hot.npy --predictions x.npy --observed ");
    s.push_str(&format!("{raw} {sce}\n"));
    for l in e.render().lines() {
        if l.is_empty() {
            s.push('\n');
        } else {
            s.push_str(&format!("   {l}\n"));
        }
    }
    if ko {
        for o in &e.observed {
            let top = &e.candidates[o.matches[0].candidate];
            let t = top.traits;
            let what = if !o.found {
                "재현하는 호출이 없습니다".to_string()
            } else if t.family == Some(Family::Keras) && t.from_logits == Some(false) && !e.probabilities {
                format!("{}로 재현됩니다: y_pred는 로짓인데 from_logits=False라서 Keras가 확률로 보고 정규화하고 잘라냅니다", top.call)
            } else if reads_right(e.probabilities, &t) && !t.sum {
                format!("{}로 재현됩니다: 함정이 없는 올바른 호출입니다", top.call)
            } else {
                format!("{}로 재현됩니다", top.call)
            };
            s.push_str(&format!("   요약: {} → {what}.\n", o.value));
        }
    }
    Ok(s)
}

//! The op table: one entry per framework function, with its inputs, its parameters and
//! their defaults, its forward and its gradient. The CLI (`xent eval`, its `--help`),
//! the golden tests and any future binding read this table, so adding an op is one
//! entry here.
//!
//! Values arrive as [`DynArray`]s and JSON parameters; each entry converts them, calls
//! the typed front-end ([`crate::tf`], [`crate::keras`], [`crate::torch`]) and wraps
//! the result. float16 inputs are computed in float32 and rounded back, as PyTorch does.
//!
//! Deviations from the frameworks, on purpose: gradients are offered with respect to
//! the prediction input only (TF also differentiates its labels); and a float input of
//! another float dtype than the prediction is cast to the prediction's dtype, as TF's
//! softmax cross-entropy and Keras do, where PyTorch and TF's element-wise ops would
//! raise on mixed dtypes.

use std::collections::BTreeMap;

use half::f16;
use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use serde_json::Value;

use crate::array::{DType, DynArray, DynView};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::keras::{self, KerasReduction};
use crate::ops::Reduction;
use crate::{tf, torch};

mod fw13;

/// What an input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Floating-point values (float16/32/64).
    Float,
    /// Integer class indices (the op lists which integer dtypes it takes).
    Labels(&'static [DType]),
    /// Class indices or, for ops that accept them, float labels.
    Any,
}

/// One input of an op.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// The framework's argument name.
    pub name: &'static str,
    /// What it holds.
    pub kind: InputKind,
    /// Whether it may be left out.
    pub optional: bool,
}

/// The type of a parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// `true` / `false`.
    Bool,
    /// A number.
    Float,
    /// An integer.
    Int,
    /// An integer or `null`.
    OptInt,
    /// A string (one of the listed choices; `null` allowed when listed as "null").
    Choice(&'static [&'static str]),
    /// A number or `null`.
    OptFloat,
    /// A list of numbers or `null` (scikit-learn's `labels`).
    OptList,
}

/// One parameter of an op, with its default as a JSON literal.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// The framework's parameter name.
    pub name: &'static str,
    /// Its type.
    pub kind: ParamKind,
    /// Its default, as JSON (`"-1"`, `"false"`, `"\"mean\""`, `"null"`).
    pub default: &'static str,
}

type RunFn = fn(&Call, Option<&str>) -> Result<DynArray>;

/// One op of the table.
pub struct OpSpec {
    /// The framework's Python name (`torch.nn.functional.cross_entropy`).
    pub name: &'static str,
    /// One line on what it computes.
    pub doc: &'static str,
    /// Its inputs, prediction input first where there is one.
    pub inputs: &'static [InputSpec],
    /// Its parameters.
    pub params: &'static [ParamSpec],
    /// The inputs a gradient can be taken with respect to.
    pub grad_wrt: &'static [&'static str],
    run: RunFn,
}

impl std::fmt::Debug for OpSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpSpec").field("name", &self.name).finish()
    }
}

/// A resolved call: the op, its inputs (borrowed) and its parameters (defaults filled in).
#[derive(Debug)]
pub struct Call<'a> {
    op: &'static OpSpec,
    inputs: BTreeMap<String, DynView<'a>>,
    params: BTreeMap<String, Value>,
    /// The output asked for, of an op with several ([`OUTPUTS`]); `None` = the first.
    output: Option<String>,
}

const F: InputKind = InputKind::Float;
const TF_LABELS: InputKind = InputKind::Labels(&[DType::I32, DType::I64]);
const TF_INDICES: InputKind = InputKind::Labels(&[DType::U8, DType::I32, DType::I64]);
/// `nll_loss` (and so `cross_entropy`) takes Long or Byte targets.
const TORCH_LABELS: InputKind = InputKind::Labels(&[DType::I64, DType::U8]);
/// "one_hot is only applicable to index tensor of type LongTensor."
const TORCH_LONG: InputKind = InputKind::Labels(&[DType::I64]);
/// A mask, class values or numbers: any dtype (JAX's `where`, scikit-learn's `y_true`).
const ANY: InputKind = InputKind::Any;
/// Optax checks `jnp.integer` labels.
const JAX_INT: InputKind = InputKind::Labels(&[DType::U8, DType::I32, DType::I64]);
/// ONNX's `Tind`: int32 or int64.
const ONNX_INT: InputKind = InputKind::Labels(&[DType::I32, DType::I64]);

const fn i(name: &'static str, kind: InputKind) -> InputSpec {
    InputSpec { name, kind, optional: false }
}
const fn opt(name: &'static str, kind: InputKind) -> InputSpec {
    InputSpec { name, kind, optional: true }
}
const fn p(name: &'static str, kind: ParamKind, default: &'static str) -> ParamSpec {
    ParamSpec { name, kind, default }
}

const TORCH_RED: ParamKind = ParamKind::Choice(&["none", "mean", "sum"]);
const KL_RED: ParamKind = ParamKind::Choice(&["none", "batchmean", "sum", "mean"]);
const KERAS_RED: ParamKind = ParamKind::Choice(&["sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight", "null"]);

/// Every op xent implements.
pub static OPS: &[OpSpec] = &[
    // ---------------------------------------------------------------- TensorFlow
    OpSpec {
        name: "tf.nn.softmax",
        doc: "exp(x - max) / sum exp(x - max) along axis",
        inputs: &[i("logits", F)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["logits"],
        run: tf_softmax,
    },
    OpSpec {
        name: "tf.nn.log_softmax",
        doc: "x - max - log sum exp(x - max) along axis",
        inputs: &[i("logits", F)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["logits"],
        run: tf_log_softmax,
    },
    OpSpec { name: "tf.math.sigmoid", doc: "1 / (1 + exp(-x))", inputs: &[i("x", F)], params: &[], grad_wrt: &["x"], run: tf_sigmoid },
    OpSpec { name: "tf.math.log_sigmoid", doc: "-softplus(-x)", inputs: &[i("x", F)], params: &[], grad_wrt: &["x"], run: tf_log_sigmoid },
    OpSpec {
        name: "tf.one_hot",
        doc: "one-hot rows; indices outside [0, depth) give off_value rows",
        inputs: &[i("indices", TF_INDICES)],
        params: &[
            p("depth", ParamKind::Int, "null"),
            p("on_value", ParamKind::OptFloat, "null"),
            p("off_value", ParamKind::OptFloat, "null"),
            p("axis", ParamKind::Int, "-1"),
            p("dtype", ParamKind::Choice(&["float32", "float64", "int32", "int64", "null"]), "null"),
        ],
        grad_wrt: &[],
        run: tf_one_hot,
    },
    OpSpec {
        name: "tf.nn.softmax_cross_entropy_with_logits",
        doc: "sum(labels * (logsumexp(logits) - logits)) along axis; gradient softmax - labels",
        inputs: &[i("labels", F), i("logits", F)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["logits"],
        run: tf_sce,
    },
    OpSpec {
        name: "tf.nn.sparse_softmax_cross_entropy_with_logits",
        doc: "logsumexp(logits) - logits[label] over the last axis",
        inputs: &[i("labels", TF_LABELS), i("logits", F)],
        params: &[],
        grad_wrt: &["logits"],
        run: tf_ssce,
    },
    OpSpec {
        name: "tf.nn.sigmoid_cross_entropy_with_logits",
        doc: "max(x, 0) - x z + log1p(exp(-|x|))",
        inputs: &[i("labels", F), i("logits", F)],
        params: &[],
        grad_wrt: &["logits"],
        run: tf_sigce,
    },
    OpSpec {
        name: "tf.nn.weighted_cross_entropy_with_logits",
        doc: "(1 - z) x + (1 + (q - 1) z)(log1p(exp(-|x|)) + max(-x, 0))",
        inputs: &[i("labels", F), i("logits", F)],
        params: &[p("pos_weight", ParamKind::Float, "null")],
        grad_wrt: &["logits"],
        run: tf_wce,
    },
    // ---------------------------------------------------------------- Keras
    OpSpec {
        name: "keras.losses.categorical_crossentropy",
        doc: "probabilities by default: renormalise, clip to [1e-7, 1-1e-7], -sum(t log p); from_logits=True: softmax CE",
        inputs: &[i("y_true", F), i("y_pred", F)],
        params: &[
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
        ],
        grad_wrt: &["y_pred"],
        run: keras_cce,
    },
    OpSpec {
        name: "keras.losses.sparse_categorical_crossentropy",
        doc: "class-index targets; probabilities clipped then normalised unless from_logits",
        inputs: &[i("y_true", InputKind::Any), i("y_pred", F)],
        params: &[
            p("from_logits", ParamKind::Bool, "false"),
            p("ignore_class", ParamKind::OptInt, "null"),
            p("axis", ParamKind::Int, "-1"),
        ],
        grad_wrt: &["y_pred"],
        run: keras_scce,
    },
    OpSpec {
        name: "keras.losses.binary_crossentropy",
        doc: "element-wise BCE (clipped probabilities unless from_logits), mean over axis",
        inputs: &[i("y_true", F), i("y_pred", F)],
        params: &[
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
        ],
        grad_wrt: &["y_pred"],
        run: keras_bce,
    },
    OpSpec {
        name: "keras.losses.categorical_focal_crossentropy",
        doc: "sum alpha (1 - p)^gamma (-t log p) over clipped, renormalised probabilities",
        inputs: &[i("y_true", F), i("y_pred", F)],
        params: &[
            p("alpha", ParamKind::Float, "0.25"),
            p("gamma", ParamKind::Float, "2.0"),
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
        ],
        grad_wrt: &["y_pred"],
        run: keras_cfce,
    },
    OpSpec {
        name: "keras.losses.binary_focal_crossentropy",
        doc: "(1 - p_t)^gamma * BCE, optionally class-balanced, mean over axis",
        inputs: &[i("y_true", F), i("y_pred", F)],
        params: &[
            p("apply_class_balancing", ParamKind::Bool, "false"),
            p("alpha", ParamKind::Float, "0.25"),
            p("gamma", ParamKind::Float, "2.0"),
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
        ],
        grad_wrt: &["y_pred"],
        run: keras_bfce,
    },
    OpSpec {
        name: "keras.losses.kl_divergence",
        doc: "sum t log(t / p) over the last axis, both clipped to [1e-7, 1]",
        inputs: &[i("y_true", F), i("y_pred", F)],
        params: &[],
        grad_wrt: &["y_pred"],
        run: keras_kl,
    },
    OpSpec {
        name: "keras.losses.CategoricalCrossentropy",
        doc: "categorical_crossentropy, times sample_weight, then the reduction",
        inputs: &[i("y_true", F), i("y_pred", F), opt("sample_weight", F)],
        params: &[
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
            p("reduction", KERAS_RED, "\"sum_over_batch_size\""),
        ],
        grad_wrt: &["y_pred"],
        run: keras_cce_class,
    },
    OpSpec {
        name: "keras.losses.SparseCategoricalCrossentropy",
        doc: "sparse_categorical_crossentropy, masked by ignore_class, times sample_weight, then the reduction",
        inputs: &[i("y_true", InputKind::Any), i("y_pred", F), opt("sample_weight", F)],
        params: &[
            p("from_logits", ParamKind::Bool, "false"),
            p("ignore_class", ParamKind::OptInt, "null"),
            p("reduction", KERAS_RED, "\"sum_over_batch_size\""),
            p("axis", ParamKind::Int, "-1"),
        ],
        grad_wrt: &["y_pred"],
        run: keras_scce_class,
    },
    OpSpec {
        name: "keras.losses.BinaryCrossentropy",
        doc: "binary_crossentropy, times sample_weight, then the reduction",
        inputs: &[i("y_true", F), i("y_pred", F), opt("sample_weight", F)],
        params: &[
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
            p("reduction", KERAS_RED, "\"sum_over_batch_size\""),
        ],
        grad_wrt: &["y_pred"],
        run: keras_bce_class,
    },
    OpSpec {
        name: "keras.losses.KLDivergence",
        doc: "kl_divergence per sample, times sample_weight, then the reduction (float32)",
        inputs: &[i("y_true", F), i("y_pred", F), opt("sample_weight", F)],
        params: &[p("reduction", KERAS_RED, "\"sum_over_batch_size\"")],
        grad_wrt: &["y_pred"],
        run: keras_kl_class,
    },
    OpSpec {
        name: "keras.losses.BinaryFocalCrossentropy",
        doc: "binary_focal_crossentropy, times sample_weight, then the reduction (float32)",
        inputs: &[i("y_true", F), i("y_pred", F), opt("sample_weight", F)],
        params: &[
            p("apply_class_balancing", ParamKind::Bool, "false"),
            p("alpha", ParamKind::Float, "0.25"),
            p("gamma", ParamKind::Float, "2.0"),
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
            p("reduction", KERAS_RED, "\"sum_over_batch_size\""),
        ],
        grad_wrt: &["y_pred"],
        run: keras_bfce_class,
    },
    OpSpec {
        name: "keras.losses.CategoricalFocalCrossentropy",
        doc: "categorical_focal_crossentropy, times sample_weight, then the reduction (float32)",
        inputs: &[i("y_true", F), i("y_pred", F), opt("sample_weight", F)],
        params: &[
            p("alpha", ParamKind::Float, "0.25"),
            p("gamma", ParamKind::Float, "2.0"),
            p("from_logits", ParamKind::Bool, "false"),
            p("label_smoothing", ParamKind::Float, "0.0"),
            p("axis", ParamKind::Int, "-1"),
            p("reduction", KERAS_RED, "\"sum_over_batch_size\""),
        ],
        grad_wrt: &["y_pred"],
        run: keras_cfce_class,
    },
    // ---------------------------------------------------------------- PyTorch
    OpSpec {
        name: "torch.softmax",
        doc: "softmax along dim",
        inputs: &[i("input", F)],
        params: &[p("dim", ParamKind::Int, "null")],
        grad_wrt: &["input"],
        run: torch_softmax,
    },
    OpSpec {
        name: "torch.log_softmax",
        doc: "log_softmax along dim",
        inputs: &[i("input", F)],
        params: &[p("dim", ParamKind::Int, "null")],
        grad_wrt: &["input"],
        run: torch_log_softmax,
    },
    OpSpec {
        name: "torch.sigmoid",
        doc: "1 / (1 + exp(-x))",
        inputs: &[i("input", F)],
        params: &[],
        grad_wrt: &["input"],
        run: torch_sigmoid,
    },
    OpSpec {
        name: "torch.nn.functional.logsigmoid",
        doc: "min(x, 0) - log1p(exp(-|x|))",
        inputs: &[i("input", F)],
        params: &[],
        grad_wrt: &["input"],
        run: torch_logsigmoid,
    },
    OpSpec {
        name: "torch.nn.functional.one_hot",
        doc: "int64 one-hot along a new last axis; raises on values outside [0, num_classes)",
        inputs: &[i("input", TORCH_LONG)],
        params: &[p("num_classes", ParamKind::Int, "-1")],
        grad_wrt: &[],
        run: torch_one_hot,
    },
    OpSpec {
        name: "torch.nn.functional.cross_entropy",
        doc: "log_softmax over dim 1 then NLL (index targets) or -sum(w t log p) (probability targets)",
        inputs: &[i("input", F), i("target", InputKind::Any), opt("weight", F)],
        params: &[
            p("ignore_index", ParamKind::Int, "-100"),
            p("reduction", TORCH_RED, "\"mean\""),
            p("label_smoothing", ParamKind::Float, "0.0"),
        ],
        grad_wrt: &["input"],
        run: torch_ce,
    },
    OpSpec {
        name: "torch.nn.functional.nll_loss",
        doc: "-w[y] input[y] on log-probabilities; weighted mean over non-ignored targets",
        inputs: &[i("input", F), i("target", TORCH_LABELS), opt("weight", F)],
        params: &[p("ignore_index", ParamKind::Int, "-100"), p("reduction", TORCH_RED, "\"mean\"")],
        grad_wrt: &["input"],
        run: torch_nll,
    },
    OpSpec {
        name: "torch.nn.functional.binary_cross_entropy",
        doc: "-w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)); input must lie in [0, 1]",
        inputs: &[i("input", F), i("target", F), opt("weight", F)],
        params: &[p("reduction", TORCH_RED, "\"mean\"")],
        grad_wrt: &["input"],
        run: torch_bce,
    },
    OpSpec {
        name: "torch.nn.functional.binary_cross_entropy_with_logits",
        doc: "w ((1 - y) x - (1 + (pos_weight - 1) y) log sigmoid(x))",
        inputs: &[i("input", F), i("target", F), opt("weight", F), opt("pos_weight", F)],
        params: &[p("reduction", TORCH_RED, "\"mean\"")],
        grad_wrt: &["input"],
        run: torch_bcel,
    },
    OpSpec {
        name: "torch.nn.functional.kl_div",
        doc: "target (ln target - input), 0 where target = 0 (log_target: exp(target)(target - input)); input is log-probabilities; input and target broadcast; batchmean = sum / input.shape[0], mean = sum / numel",
        inputs: &[i("input", F), i("target", F)],
        params: &[p("reduction", KL_RED, "\"mean\""), p("log_target", ParamKind::Bool, "false")],
        grad_wrt: &["input"],
        run: torch_kl,
    },
    // ------------------------------------------------- PyTorch loss classes (torch.nn)
    OpSpec {
        name: "torch.nn.CrossEntropyLoss",
        doc: "nn.CrossEntropyLoss(weight, ignore_index, reduction, label_smoothing)(input, target): cross_entropy",
        inputs: &[i("input", F), i("target", InputKind::Any), opt("weight", F)],
        params: &[
            p("ignore_index", ParamKind::Int, "-100"),
            p("reduction", TORCH_RED, "\"mean\""),
            p("label_smoothing", ParamKind::Float, "0.0"),
        ],
        grad_wrt: &["input"],
        run: torch_ce,
    },
    OpSpec {
        name: "torch.nn.NLLLoss",
        doc: "nn.NLLLoss(weight, ignore_index, reduction)(input, target): nll_loss",
        inputs: &[i("input", F), i("target", TORCH_LABELS), opt("weight", F)],
        params: &[p("ignore_index", ParamKind::Int, "-100"), p("reduction", TORCH_RED, "\"mean\"")],
        grad_wrt: &["input"],
        run: torch_nll,
    },
    OpSpec {
        name: "torch.nn.BCELoss",
        doc: "nn.BCELoss(weight, reduction)(input, target): binary_cross_entropy",
        inputs: &[i("input", F), i("target", F), opt("weight", F)],
        params: &[p("reduction", TORCH_RED, "\"mean\"")],
        grad_wrt: &["input"],
        run: torch_bce,
    },
    OpSpec {
        name: "torch.nn.BCEWithLogitsLoss",
        doc: "nn.BCEWithLogitsLoss(weight, reduction, pos_weight)(input, target): binary_cross_entropy_with_logits",
        inputs: &[i("input", F), i("target", F), opt("weight", F), opt("pos_weight", F)],
        params: &[p("reduction", TORCH_RED, "\"mean\"")],
        grad_wrt: &["input"],
        run: torch_bcel,
    },
    OpSpec {
        name: "torch.nn.KLDivLoss",
        doc: "nn.KLDivLoss(reduction, log_target)(input, target): kl_div",
        inputs: &[i("input", F), i("target", F)],
        params: &[p("reduction", KL_RED, "\"mean\""), p("log_target", ParamKind::Bool, "false")],
        grad_wrt: &["input"],
        run: torch_kl,
    },
    // ---------------------------------------------------------------- fused linear cross-entropy (issue 12)
    OpSpec {
        name: "torch.nn.functional.linear_cross_entropy",
        doc: "cross_entropy(input @ linear_weight^T + linear_bias, target) in blocks: the logits never exist whole",
        inputs: &[i("input", F), i("linear_weight", F), i("target", InputKind::Any), opt("linear_bias", F), opt("weight", F)],
        params: &[
            p("reduction", TORCH_RED, "\"mean\""),
            p("ignore_index", ParamKind::OptInt, "null"),
            p("label_smoothing", ParamKind::Float, "0.0"),
        ],
        grad_wrt: &["input", "linear_weight", "linear_bias"],
        run: torch_lce,
    },
    OpSpec {
        name: "cut_cross_entropy.linear_cross_entropy",
        doc: "Apple's Cut Cross-Entropy: cross_entropy(softcap tanh(e @ c^T / softcap), targets) over non-ignored rows, in blocks",
        inputs: &[i("e", F), i("c", F), i("targets", TORCH_LONG)],
        params: &[
            p("ignore_index", ParamKind::Int, "-100"),
            p("softcap", ParamKind::OptFloat, "null"),
            p("reduction", TORCH_RED, "\"mean\""),
            p("shift", ParamKind::Bool, "false"),
            // Accepted for the Python call's sake; both give xent's exact gradient
            // (the package's `cce` would skip blocks below `filter_eps`).
            p("impl", ParamKind::Choice(&["cce", "torch_compile"]), "\"cce\""),
        ],
        grad_wrt: &["e", "c"],
        run: cce_lce,
    },
    // ---------------------------------------------------------------- JAX (jax.nn)
    OpSpec {
        name: "jax.nn.softmax",
        doc: "exp(x - max) / sum exp(x - max) along axis; masked-out positions (where) give 0",
        inputs: &[i("x", F), opt("where", ANY)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["x"],
        run: fw13::jax_softmax,
    },
    OpSpec {
        name: "jax.nn.log_softmax",
        doc: "x - max - log sum exp(x - max) along axis; masked-out positions (where) give -inf",
        inputs: &[i("x", F), opt("where", ANY)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["x"],
        run: fw13::jax_log_softmax,
    },
    OpSpec { name: "jax.nn.sigmoid", doc: "1 / (1 + exp(-x))", inputs: &[i("x", F)], params: &[], grad_wrt: &["x"], run: fw13::jax_sigmoid },
    OpSpec {
        name: "jax.nn.log_sigmoid",
        doc: "-softplus(-x) = -logaddexp(-x, 0)",
        inputs: &[i("x", F)],
        params: &[],
        grad_wrt: &["x"],
        run: fw13::jax_log_sigmoid,
    },
    OpSpec {
        name: "jax.nn.one_hot",
        doc: "float32 (x == class) along a new axis; values outside [0, num_classes) give zero rows",
        inputs: &[i("x", ANY)],
        params: &[p("num_classes", ParamKind::OptInt, "null"), p("axis", ParamKind::Int, "-1")],
        grad_wrt: &[],
        run: fw13::jax_one_hot,
    },
    OpSpec {
        name: "jax.nn.logsumexp",
        doc: "log sum exp(a - m) + m (m the max, 0 when not finite) over axis (null: all elements)",
        inputs: &[i("a", F)],
        params: &[p("axis", ParamKind::OptInt, "null"), p("keepdims", ParamKind::Bool, "false")],
        grad_wrt: &["a"],
        run: fw13::jax_logsumexp,
    },
    // ---------------------------------------------------------------- Optax
    OpSpec {
        name: "optax.losses.softmax_cross_entropy",
        doc: "-sum_where labels * log_softmax(logits, where) along axis",
        inputs: &[i("logits", F), i("labels", F), opt("where", ANY)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["logits"],
        run: fw13::optax_sce,
    },
    OpSpec {
        name: "optax.losses.softmax_cross_entropy_with_integer_labels",
        doc: "logsumexp_where(logits) - logits[label]; labels in [-C, -1] wrap, others out of range give NaN; 0 where no class is in where",
        inputs: &[i("logits", F), i("labels", JAX_INT), opt("where", ANY)],
        params: &[p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["logits"],
        run: fw13::optax_sce_int,
    },
    OpSpec {
        name: "optax.losses.safe_softmax_cross_entropy",
        doc: "-sum where(labels != 0, labels * log_softmax(logits), 0) over the last axis: -inf logits with zero labels add 0",
        inputs: &[i("logits", F), i("labels", F)],
        params: &[],
        grad_wrt: &["logits"],
        run: fw13::optax_safe_sce,
    },
    OpSpec {
        name: "optax.losses.sigmoid_binary_cross_entropy",
        doc: "-labels log_sigmoid(logits) - (1 - labels) log_sigmoid(-logits), element-wise",
        inputs: &[i("logits", F), i("labels", F)],
        params: &[],
        grad_wrt: &["logits"],
        run: fw13::optax_sigmoid_bce,
    },
    OpSpec {
        name: "optax.losses.sigmoid_focal_loss",
        doc: "sigmoid BCE * (1 - p_t)^gamma (via logsumexp with b), times alpha z + (1 - alpha)(1 - z) when alpha is given",
        inputs: &[i("logits", F), i("labels", F)],
        params: &[p("alpha", ParamKind::OptFloat, "null"), p("gamma", ParamKind::Float, "2.0")],
        grad_wrt: &["logits"],
        run: fw13::optax_focal,
    },
    OpSpec {
        name: "optax.losses.poly_loss_cross_entropy",
        doc: "softmax_cross_entropy + epsilon * sum_where labels * (1 - softmax(logits, where))",
        inputs: &[i("logits", F), i("labels", F), opt("where", ANY)],
        params: &[p("epsilon", ParamKind::Float, "2.0"), p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["logits"],
        run: fw13::optax_poly,
    },
    OpSpec {
        name: "optax.losses.kl_divergence",
        doc: "sum_where targets * (where(targets == 0, 0, log targets) - log_predictions) along axis (null: all)",
        inputs: &[i("log_predictions", F), i("targets", F), opt("where", ANY)],
        params: &[p("axis", ParamKind::OptInt, "-1")],
        grad_wrt: &["log_predictions"],
        run: fw13::optax_kl,
    },
    OpSpec {
        name: "optax.losses.convex_kl_divergence",
        doc: "kl_divergence + sum_where (exp(log_predictions) - targets) (deprecated: generalized_kl_divergence)",
        inputs: &[i("log_predictions", F), i("targets", F), opt("where", ANY)],
        params: &[p("axis", ParamKind::OptInt, "-1")],
        grad_wrt: &["log_predictions"],
        run: fw13::optax_convex_kl,
    },
    OpSpec {
        name: "optax.losses.kl_divergence_with_log_targets",
        doc: "sum_where exp(log_targets) * (log_targets - log_predictions) along axis (null: all)",
        inputs: &[i("log_predictions", F), i("log_targets", F), opt("where", ANY)],
        params: &[p("axis", ParamKind::OptInt, "-1")],
        grad_wrt: &["log_predictions"],
        run: fw13::optax_kl_log,
    },
    OpSpec {
        name: "optax.losses.smooth_labels",
        doc: "(1 - alpha) labels + alpha / K, K the length of axis (with where: the number of True along axis)",
        inputs: &[i("labels", F), opt("where", ANY)],
        params: &[p("alpha", ParamKind::Float, "null"), p("axis", ParamKind::Int, "-1")],
        grad_wrt: &["labels"],
        run: fw13::optax_smooth_labels,
    },
    // ---------------------------------------------------------------- ONNX
    OpSpec {
        name: "onnx.Softmax",
        doc: "softmax along axis (opset >= 13, default -1); opset <= 11: flattened to 2-D at axis (default 1)",
        inputs: &[i("input", F)],
        params: &[p("axis", ParamKind::OptInt, "null"), p("opset", ParamKind::Int, "13")],
        grad_wrt: &[],
        run: fw13::onnx_softmax,
    },
    OpSpec {
        name: "onnx.LogSoftmax",
        doc: "log_softmax along axis (opset >= 13, default -1); opset <= 11: flattened to 2-D at axis (default 1)",
        inputs: &[i("input", F)],
        params: &[p("axis", ParamKind::OptInt, "null"), p("opset", ParamKind::Int, "13")],
        grad_wrt: &[],
        run: fw13::onnx_log_softmax,
    },
    OpSpec { name: "onnx.Sigmoid", doc: "1 / (1 + exp(-x))", inputs: &[i("X", F)], params: &[], grad_wrt: &[], run: fw13::onnx_sigmoid },
    OpSpec {
        name: "onnx.SoftmaxCrossEntropyLoss",
        doc: "scores (N, C, d...): log_prob = LogSoftmax(axis=1), loss -w[y] log_prob[y]; labels in [-C, -1] wrap, >= C raise; outputs: output, log_prob",
        inputs: &[i("scores", F), i("labels", ONNX_INT), opt("weights", F)],
        params: &[p("reduction", TORCH_RED, "\"mean\""), p("ignore_index", ParamKind::OptInt, "null")],
        grad_wrt: &[],
        run: fw13::onnx_sce,
    },
    OpSpec {
        name: "onnx.NegativeLogLikelihoodLoss",
        doc: "-weight[t] input[n, t, d...]; weighted mean over non-ignored targets; targets in [-C, -1] wrap, >= C raise",
        inputs: &[i("input", F), i("target", ONNX_INT), opt("weight", F)],
        params: &[p("reduction", TORCH_RED, "\"mean\""), p("ignore_index", ParamKind::OptInt, "null")],
        grad_wrt: &[],
        run: fw13::onnx_nll,
    },
    // ---------------------------------------------------------------- scikit-learn
    OpSpec {
        name: "sklearn.metrics.log_loss",
        doc: "mean -log clip(y_proba[true class], eps, 1 - eps) (eps of y_proba's dtype), optionally weighted; a float64 scalar",
        inputs: &[i("y_true", ANY), opt("y_proba", F), opt("y_pred", F), opt("sample_weight", ANY)],
        params: &[p("normalize", ParamKind::Bool, "true"), p("labels", ParamKind::OptList, "null")],
        grad_wrt: &[],
        run: fw13::sklearn_log_loss,
    },
];

/// Other names of the table's ops: each is the same function in the framework
/// (`torch.nn.functional.softmax` and `torch.softmax` compute the same thing).
/// [`find`] accepts them, after the [`PREFIXES`] rules.
pub static ALIASES: &[(&str, &str)] = &[
    ("torch.nn.functional.softmax", "torch.softmax"),
    ("torch.special.softmax", "torch.softmax"),
    ("torch.nn.functional.log_softmax", "torch.log_softmax"),
    ("torch.special.log_softmax", "torch.log_softmax"),
    ("torch.nn.functional.sigmoid", "torch.sigmoid"),
    ("tf.math.softmax", "tf.nn.softmax"),
    ("tf.math.log_softmax", "tf.nn.log_softmax"),
    ("tf.sigmoid", "tf.math.sigmoid"),
    ("tf.nn.sigmoid", "tf.math.sigmoid"),
    ("jax.scipy.special.logsumexp", "jax.nn.logsumexp"),
    ("optax.softmax_cross_entropy", "optax.losses.softmax_cross_entropy"),
    ("optax.softmax_cross_entropy_with_integer_labels", "optax.losses.softmax_cross_entropy_with_integer_labels"),
    ("optax.safe_softmax_cross_entropy", "optax.losses.safe_softmax_cross_entropy"),
    ("optax.sigmoid_binary_cross_entropy", "optax.losses.sigmoid_binary_cross_entropy"),
    ("optax.sigmoid_focal_loss", "optax.losses.sigmoid_focal_loss"),
    ("optax.kl_divergence", "optax.losses.kl_divergence"),
    ("optax.convex_kl_divergence", "optax.losses.convex_kl_divergence"),
    ("optax.smooth_labels", "optax.losses.smooth_labels"),
];

/// The ops with more than one output, with their outputs' names (the framework's), the
/// first being the one [`eval`] returns; every other op has one output, `output`.
pub static OUTPUTS: &[(&str, &[&str])] = &[("onnx.SoftmaxCrossEntropyLoss", &["output", "log_prob"])];

/// The names of `op`'s outputs (`["output"]` for an op with one).
///
/// ```
/// assert_eq!(xent::registry::outputs("onnx.SoftmaxCrossEntropyLoss"), &["output", "log_prob"]);
/// assert_eq!(xent::registry::outputs("tf.nn.softmax"), &["output"]);
/// ```
pub fn outputs(op: &str) -> &'static [&'static str] {
    let c = canonical(op);
    OUTPUTS.iter().find(|(o, _)| *o == c).map_or(&["output"], |(_, outs)| outs)
}

/// Fail unless `output` (when given) is one of `op`'s outputs.
///
/// # Errors
/// [`Error::Usage`] naming the outputs, and [`find`]'s errors.
pub fn check_output(op: &str, output: Option<&str>) -> Result<()> {
    let spec = find(op)?;
    match output {
        Some(o) if !outputs(spec.name).contains(&o) => Err(Error::Usage(format!(
            "{}: unknown output `{}`{}; outputs are: {}",
            spec.name,
            cut(o),
            suggest(o, outputs(spec.name).iter().copied()),
            outputs(spec.name).join(", ")
        ))),
        _ => Ok(()),
    }
}

/// Module spellings users copy from their code, rewritten before the lookup:
/// `F.` (`import torch.nn.functional as F`), `nn.` (`from torch import nn`) and
/// `tf.keras.losses.` (Keras 3 is `tf.keras` in TensorFlow 2.21).
pub static PREFIXES: &[(&str, &str)] = &[("F.", "torch.nn.functional."), ("nn.", "torch.nn."), ("tf.keras.losses.", "keras.losses.")];

/// `name` with a [`PREFIXES`] rule applied, and then an [`ALIASES`] entry: the name
/// to look up in [`OPS`].
///
/// ```
/// assert_eq!(xent::registry::canonical("F.softmax"), "torch.softmax");
/// assert_eq!(xent::registry::canonical("nn.CrossEntropyLoss"), "torch.nn.CrossEntropyLoss");
/// assert_eq!(xent::registry::canonical("tf.keras.losses.KLDivergence"), "keras.losses.KLDivergence");
/// assert_eq!(xent::registry::canonical("tf.nn.softmax"), "tf.nn.softmax");
/// ```
pub fn canonical(name: &str) -> String {
    let expanded = PREFIXES.iter().find_map(|(p, full)| name.strip_prefix(p).map(|rest| format!("{full}{rest}")));
    let n = expanded.unwrap_or_else(|| name.to_string());
    match ALIASES.iter().find(|(a, _)| *a == n) {
        Some((_, c)) => (*c).to_string(),
        None => n,
    }
}

/// The op named `name`: a table name, an alias ([`ALIASES`]) or either with a module
/// prefix users write ([`PREFIXES`]: `F.cross_entropy`, `nn.CrossEntropyLoss`,
/// `tf.keras.losses.KLDivergence`). Messages name the op by its table name.
///
/// # Errors
/// [`Error::Usage`] suggesting the nearest op name.
///
/// ```
/// assert!(xent::registry::find("torch.softmax").is_ok());
/// assert_eq!(xent::registry::find("F.log_softmax").unwrap().name, "torch.log_softmax");
/// let e = xent::registry::find("torch.sofmax").unwrap_err();
/// assert!(e.to_string().contains("did you mean `torch.softmax`"));
/// let e = xent::registry::find("F.cross_entropi").unwrap_err();
/// assert!(e.to_string().contains("did you mean `torch.nn.functional.cross_entropy`"));
/// ```
pub fn find(name: &str) -> Result<&'static OpSpec> {
    let c = canonical(name);
    OPS.iter().find(|o| o.name == c).ok_or_else(|| {
        let names = OPS.iter().map(|o| o.name).chain(ALIASES.iter().map(|(a, _)| *a));
        Error::Usage(format!("unknown op `{}`{}; `xent eval --help` lists them", cut(name), suggest(&c, names)))
    })
}

/// Levenshtein distance, for "did you mean" suggestions.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `" (did you mean `x`?)"` for the closest candidate, or `""` when none is close.
///
/// ```
/// let s = xent::registry::suggest("lables", ["labels", "logits"].into_iter());
/// assert_eq!(s, " (did you mean `labels`?)");
/// ```
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    if name.len() > 256 {
        return String::new(); // nothing that long is close to a name; skip the quadratic distance
    }
    let best = candidates.map(|c| (distance(name, c), c)).min();
    match best {
        Some((d, c)) if d <= (c.len() / 3).max(2) => format!(" (did you mean `{c}`?)"),
        _ => String::new(),
    }
}

/// Run `op` on named inputs and JSON parameters: the op's output, or with
/// `grad = Some(name)` the gradient of `sum(output)` with respect to input `name`
/// (same shape and dtype as that input).
///
/// # Errors
/// [`Error::Usage`] for an unknown op, input or parameter name, a missing or repeated
/// input, or a gradient the op does not have; [`Error::Param`] for a parameter of the
/// wrong type; otherwise whatever the op returns for bad data.
///
/// ```
/// use ndarray::array;
/// use xent::DynArray;
/// let x = DynArray::F64(array![[0.0, 0.0]].into_dyn());
/// let y = xent::registry::eval("tf.nn.softmax", vec![("logits".into(), x)], vec![], None).unwrap();
/// assert_eq!(y, DynArray::F64(array![[0.5, 0.5]].into_dyn()));
/// ```
pub fn eval(op: &str, inputs: Vec<(String, DynArray)>, params: Vec<(String, Value)>, grad: Option<&str>) -> Result<DynArray> {
    eval_output(op, inputs, params, grad, None)
}

/// [`eval`] for one named output of an op with several ([`OUTPUTS`]; `None` is the
/// first, the one [`eval`] returns).
///
/// # Errors
/// As [`eval`]; [`Error::Usage`] for an output the op does not have.
///
/// ```
/// use ndarray::array;
/// use xent::DynArray;
/// let x = DynArray::F32(array![[0.0f32, 0.0]].into_dyn());
/// let y = DynArray::I64(array![1i64].into_dyn());
/// let inputs = vec![("scores".to_string(), x), ("labels".to_string(), y)];
/// let lp = xent::registry::eval_output("onnx.SoftmaxCrossEntropyLoss", inputs, vec![], None, Some("log_prob")).unwrap();
/// assert_eq!(lp, DynArray::F32(array![[-std::f32::consts::LN_2, -std::f32::consts::LN_2]].into_dyn()));
/// ```
pub fn eval_output(
    op: &str,
    inputs: Vec<(String, DynArray)>,
    params: Vec<(String, Value)>,
    grad: Option<&str>,
    output: Option<&str>,
) -> Result<DynArray> {
    eval_views_output(op, inputs.iter().map(|(n, a)| (n.clone(), a.view())).collect(), params, grad, output)
}

/// [`eval`] on borrowed inputs: the Python binding hands over views of NumPy arrays,
/// which are read in place (an input of the dtype the op computes in is not copied).
///
/// # Errors
/// As [`eval`].
///
/// ```
/// use ndarray::array;
/// use xent::DynView;
/// let x = array![[0.0_f32, 0.0]].into_dyn();
/// let y = xent::registry::eval_views("tf.nn.softmax", vec![("logits".into(), DynView::F32(x.view()))], vec![], None).unwrap();
/// assert_eq!(y, xent::DynArray::F32(array![[0.5_f32, 0.5]].into_dyn()));
/// ```
pub fn eval_views(op: &str, inputs: Vec<(String, DynView<'_>)>, params: Vec<(String, Value)>, grad: Option<&str>) -> Result<DynArray> {
    eval_views_output(op, inputs, params, grad, None)
}

/// [`eval_views`] for one named output ([`eval_output`]).
///
/// # Errors
/// As [`eval_output`].
pub fn eval_views_output(
    op: &str,
    inputs: Vec<(String, DynView<'_>)>,
    params: Vec<(String, Value)>,
    grad: Option<&str>,
    output: Option<&str>,
) -> Result<DynArray> {
    check_output(op, output)?;
    let names: Vec<&str> = inputs.iter().map(|(n, _)| n.as_str()).collect();
    check(op, &names, &params, grad)?;
    let mut call = Call::new(find(op)?, inputs, params)?;
    call.output = output.filter(|o| Some(o) != outputs(call.op.name).first()).map(str::to_string);
    if let Some(g) = grad {
        // Frameworks do not differentiate with respect to integer or bool tensors.
        if let Some(x) = call.inputs.get(g).filter(|x| !x.dtype().is_float()) {
            return Err(Error::DType {
                op: call.op.name.into(),
                input: g.into(),
                got: x.dtype().to_string(),
                expected: "float16, float32 or float64 (a gradient is only defined for float inputs)".into(),
            });
        }
    }
    if flushes(call.op.name) {
        return run_flushed(call, grad);
    }
    (call.op.run)(&call, grad).map_err(|e| named(e, call.op.name))
}

/// TensorFlow and Keras (TF backend) ops run on TF's CPU kernels, which flush
/// subnormal float32/float64 results to zero and read subnormal inputs as zero;
/// PyTorch's do not. JAX and Optax on CPU run XLA code, which sets FTZ/DAZ too
/// (measured with jax 0.10.2: `x * 1.0` of 1e-40f32 is 0, `exp(-100f32)` is 0, and
/// likewise for float64); ONNX Runtime and NumPy (scikit-learn) do not flush.
fn flushes(op: &str) -> bool {
    op.starts_with("tf.") || op.starts_with("keras.") || op.starts_with("jax.") || op.starts_with("optax.")
}

/// Run a TF/Keras/JAX op as their flush-to-zero CPU kernels do: subnormal float inputs
/// read as zero (copied only when there are some: the caller's arrays are never
/// written), subnormal results flushed ([`tf::flush_subnormals`]).
fn run_flushed(call: Call<'_>, grad: Option<&str>) -> Result<DynArray> {
    /// A flushed copy of `x`, or `None` when it has no subnormals.
    fn flushed<T: Float>(x: &ArrayViewD<'_, T>) -> Option<ArrayD<T>> {
        tf::has_subnormals(x).then(|| {
            let mut o = x.to_owned();
            tf::flush_subnormals(&mut o);
            o
        })
    }
    let flushed: Vec<(String, DynArray)> = call
        .inputs
        .iter()
        .filter_map(|(n, a)| {
            let f = match a {
                DynView::F32(x) => DynArray::F32(flushed(x)?),
                DynView::F64(x) => DynArray::F64(flushed(x)?),
                _ => return None,
            };
            Some((n.clone(), f))
        })
        .collect();
    let Call { op, inputs, params, output } = call;
    let mut inputs: BTreeMap<String, DynView<'_>> = inputs.into_iter().map(|(n, a)| (n, a.reborrow())).collect();
    for (n, a) in &flushed {
        inputs.insert(n.clone(), a.view());
    }
    let call = Call { op, inputs, params, output };
    let mut out = (call.op.run)(&call, grad).map_err(|e| named(e, call.op.name))?;
    match &mut out {
        DynArray::F32(x) => tf::flush_subnormals(x),
        DynArray::F64(x) => tf::flush_subnormals(x),
        _ => {}
    }
    Ok(out)
}

/// Name the table's op in an error raised by a core op or a helper (`cross_entropy`,
/// `mean`, `keras.losses.Loss`...), so that the message starts with what the user called.
fn named(e: Error, op: &str) -> Error {
    match e {
        Error::Shape { msg, .. } => Error::Shape { op: op.into(), msg },
        Error::Domain { msg, .. } => Error::Domain { op: op.into(), msg },
        Error::Axis { input, axis, rank, shape, .. } => Error::Axis { op: op.into(), input, axis, rank, shape },
        Error::Label { input, index, value, classes, extra, .. } => Error::Label { op: op.into(), input, index, value, classes, extra },
        Error::DType { input, got, expected, .. } => Error::DType { op: op.into(), input, got, expected },
        Error::Param { param, msg, .. } => Error::Param { op: op.into(), param, msg },
        other => other,
    }
}

/// Every usage check of [`eval`] (op, input and parameter names and types, the
/// gradient name) without any data: the CLI runs it before reading files, so that a
/// usage mistake is reported as one, whatever the files hold.
///
/// # Errors
/// [`Error::Usage`] or [`Error::Param`] as [`eval`].
///
/// ```
/// assert!(xent::registry::check("tf.nn.softmax", &["logits"], &[], Some("logits")).is_ok());
/// assert!(xent::registry::check("tf.nn.softmax", &["logit"], &[], None).unwrap_err().to_string().contains("did you mean `logits`"));
/// ```
pub fn check(op: &str, inputs: &[&str], params: &[(String, Value)], grad: Option<&str>) -> Result<()> {
    let spec = find(op)?;
    let mut seen = std::collections::BTreeSet::new();
    for &name in inputs {
        if !spec.inputs.iter().any(|s| s.name == name) {
            return Err(Error::Usage(format!(
                "{}: unknown input `{}`{}; inputs are: {}",
                spec.name,
                cut(name),
                suggest(name, spec.inputs.iter().map(|s| s.name)),
                input_list(spec)
            )));
        }
        if !seen.insert(name) {
            return Err(Error::Usage(format!("{}: input `{name}` given more than once", spec.name)));
        }
    }
    for s in spec.inputs {
        if !s.optional && !seen.contains(s.name) {
            return Err(Error::Usage(format!("{}: missing input `{}`; inputs are: {}", spec.name, s.name, input_list(spec))));
        }
    }
    let mut pseen = std::collections::BTreeSet::new();
    for (name, v) in params {
        if let Some(inp) = spec.inputs.iter().find(|s| s.name == name) {
            if !spec.params.iter().any(|s| s.name == name) {
                // `weight=None` as Python writes it: the optional input left out.
                if v.is_null() && inp.optional {
                    continue;
                }
                return Err(Error::Usage(format!(
                    "{}: `{name}` is a tensor input, not a parameter; give it as a .npy file: --input {name}=FILE.npy",
                    spec.name
                )));
            }
        }
        let Some(p) = spec.params.iter().find(|s| s.name == name) else {
            let known = if spec.params.is_empty() {
                "it takes none".to_string()
            } else {
                format!("parameters are: {}", spec.params.iter().map(|s| s.name).collect::<Vec<_>>().join(", "))
            };
            return Err(Error::Usage(format!(
                "{}: unknown parameter `{}`{}; {known}",
                spec.name,
                cut(name),
                suggest(name, spec.params.iter().map(|s| s.name))
            )));
        };
        if !pseen.insert(name.as_str()) {
            return Err(Error::Usage(format!("{}: parameter `{name}` given more than once", spec.name)));
        }
        if !type_ok(p.kind, v) {
            return Err(Error::param(spec.name, name, format!("got {}, expected {}", excerpt(v), kind_name(p.kind))));
        }
    }
    if let Some(g) = grad {
        if !spec.grad_wrt.contains(&g) {
            return Err(Error::Usage(if spec.inputs.iter().any(|i| i.name == g) {
                format!("{}: no gradient with respect to `{g}`; gradients are available for: {}", spec.name, list(spec.grad_wrt))
            } else {
                format!("{}: unknown input `{}` for --grad{}", spec.name, cut(g), suggest(g, spec.inputs.iter().map(|i| i.name)))
            }));
        }
    }
    Ok(())
}

/// A parameter value as typed on a command line: JSON (`true`, `0.1`, `null`,
/// `"mean"`, `[1, 2]`), Python's literals `True`, `False`, `None` (also inside a list or
/// dict, with single-quoted strings), a number as Python writes it (`.5`, `1.`), a
/// string in single quotes (`'sum'`), or else the bare string.
///
/// ```
/// use serde_json::json;
/// use xent::registry::parse_value;
/// assert_eq!(parse_value("True"), json!(true));
/// assert_eq!(parse_value("None"), json!(null));
/// assert_eq!(parse_value("0.1"), json!(0.1));
/// assert_eq!(parse_value(".5"), json!(0.5));
/// assert_eq!(parse_value("'sum'"), json!("sum"));
/// assert_eq!(parse_value("batchmean"), json!("batchmean"));
/// assert_eq!(parse_value("[True, None, 'a', 0.5]"), json!([true, null, "a", 0.5]));
/// ```
pub fn parse_value(v: &str) -> Value {
    match v.trim() {
        "True" => return Value::Bool(true),
        "False" => return Value::Bool(false),
        "None" => return Value::Null,
        _ => {}
    }
    if let Ok(j) = serde_json::from_str(v) {
        return j;
    }
    let t = v.trim();
    // A Python list or dict literal: its True/False/None words and single quotes.
    if t.starts_with('[') || t.starts_with('{') {
        let words = t.split_inclusive(|c: char| !c.is_alphanumeric() && c != '_');
        let py: String = words
            .map(|w| {
                let (word, sep) = w.split_at(w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_').len());
                let word = match word {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    other => other,
                };
                format!("{word}{}", sep.replace('\'', "\""))
            })
            .collect();
        if let Ok(j) = serde_json::from_str(&py) {
            return j;
        }
    }
    if let Some(n) = t.parse::<f64>().ok().filter(|f| f.is_finite()).and_then(serde_json::Number::from_f64) {
        return Value::Number(n);
    }
    match t.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        Some(inner) => Value::String(inner.to_string()),
        None => Value::String(v.to_string()),
    }
}

/// A parameter value as JSON, cut to 60 characters for messages.
fn excerpt(v: &Value) -> String {
    cut(&v.to_string())
}

/// A user-supplied name or value cut to 60 characters, so that a message stays short.
pub fn cut(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}... ({} characters)", &s[..i], s.chars().count()),
        None => s.to_string(),
    }
}

fn list(v: &[&str]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn type_ok(kind: ParamKind, v: &Value) -> bool {
    match kind {
        ParamKind::Bool => v.is_boolean(),
        ParamKind::Float => v.is_number(),
        ParamKind::Int => v.as_i64().is_some() || v.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15),
        ParamKind::OptInt => v.is_null() || type_ok(ParamKind::Int, v),
        ParamKind::OptFloat => v.is_null() || v.is_number(),
        ParamKind::Choice(c) => v.as_str().is_some_and(|s| c.contains(&s)) || (v.is_null() && c.contains(&"null")),
        ParamKind::OptList => v.is_null() || v.as_array().is_some_and(|a| a.iter().all(Value::is_number)),
    }
}

fn kind_name(kind: ParamKind) -> String {
    match kind {
        ParamKind::Bool => "true or false".into(),
        ParamKind::Float => "a number".into(),
        ParamKind::Int => "an integer".into(),
        ParamKind::OptInt => "an integer or null".into(),
        ParamKind::OptFloat => "a number or null".into(),
        ParamKind::Choice(c) => format!("one of {}", c.join(", ")),
        ParamKind::OptList => "a list of numbers or null".into(),
    }
}

impl<'a> Call<'a> {
    /// Resolve names and fill defaults.
    ///
    /// # Errors
    /// As [`eval`].
    pub fn new(op: &'static OpSpec, inputs: Vec<(String, DynView<'a>)>, params: Vec<(String, Value)>) -> Result<Call<'a>> {
        let names: Vec<&str> = inputs.iter().map(|(n, _)| n.as_str()).collect();
        check(op.name, &names, &params, None)?;
        let mut ps: BTreeMap<String, Value> = params.into_iter().collect();
        for s in op.params {
            ps.entry(s.name.to_string()).or_insert_with(|| serde_json::from_str(s.default).expect("valid default"));
        }
        Ok(Call { op, inputs: inputs.into_iter().collect(), params: ps, output: None })
    }

    fn input(&self, name: &str) -> Result<&DynView<'a>> {
        self.inputs.get(name).ok_or_else(|| Error::Usage(format!("{}: missing input `{name}`", self.op.name)))
    }

    fn opt_input(&self, name: &str) -> Option<&DynView<'a>> {
        self.inputs.get(name)
    }

    /// The float input `name` converted to `T` (ints and bools are cast, as TF and
    /// Keras cast labels to the logits' dtype).
    ///
    /// Borrowed when the dtype already matches: a 400 MB input is not copied.
    fn float<T: Float>(&self, name: &str) -> Result<CowArray<'_, T, IxDyn>> {
        let a = self.input(name)?;
        if let Some(v) = T::unwrap_view(a) {
            return Ok(CowArray::from(v.view()));
        }
        // One pass, no float64 intermediate (it would be 4× a float16 input).
        let c = |v: f64| T::of(v);
        Ok(CowArray::from(match a {
            DynView::F16(x) => x.mapv(|v| c(f64::from(v))),
            DynView::F32(x) => x.mapv(|v| c(f64::from(v))),
            DynView::F64(x) => x.mapv(c),
            DynView::U8(x) => x.mapv(|v| c(f64::from(v))),
            DynView::I32(x) => x.mapv(|v| c(f64::from(v))),
            DynView::I64(x) => x.mapv(|v| c(v as f64)),
            DynView::Bool(x) => x.mapv(|v| c(f64::from(u8::from(v)))),
        }))
    }

    fn opt_float<T: Float>(&self, name: &str) -> Result<Option<CowArray<'_, T, IxDyn>>> {
        self.opt_input(name).map(|_| self.float(name)).transpose()
    }

    /// Class labels as int64, borrowed when they already are.
    fn labels(&self, name: &str) -> Result<CowArray<'_, i64, IxDyn>> {
        let a = self.input(name)?;
        let spec = self.op.inputs.iter().find(|s| s.name == name).expect("declared");
        match spec.kind {
            InputKind::Labels(ok) if !ok.contains(&a.dtype()) => Err(Error::DType {
                op: self.op.name.into(),
                input: name.into(),
                got: a.dtype().to_string(),
                expected: ok.iter().map(|d| d.name()).collect::<Vec<_>>().join(" or "),
            }),
            InputKind::Any if a.dtype().is_float() => {
                // Keras casts float labels to int64, truncating toward zero.
                let f = a.to_f64();
                if let Some((i, v)) = f.iter().enumerate().find(|(_, v)| !v.is_finite() || v.abs() >= 9.2e18) {
                    return Err(Error::domain(self.op.name, format!("`{name}` element {i} is {v:?}, which is not a class index")));
                }
                Ok(CowArray::from(f.mapv(|v| v.trunc() as i64)))
            }
            _ => match a {
                DynView::I64(x) => Ok(CowArray::from(x.view())),
                _ => a.to_i64(self.op.name, name).map(CowArray::from),
            },
        }
    }

    fn bool(&self, name: &str) -> bool {
        self.params.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    fn f64(&self, name: &str) -> Result<f64> {
        self.params
            .get(name)
            .and_then(Value::as_f64)
            .ok_or_else(|| Error::Usage(format!("{}: parameter `{name}` is required", self.op.name)))
    }

    fn opt_f64(&self, name: &str) -> Option<f64> {
        self.params.get(name).and_then(Value::as_f64)
    }

    fn i64(&self, name: &str) -> Result<i64> {
        self.opt_i64(name).ok_or_else(|| Error::Usage(format!("{}: parameter `{name}` is required", self.op.name)))
    }

    fn opt_i64(&self, name: &str) -> Option<i64> {
        let v = self.params.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }

    fn str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }

    fn torch_reduction(&self) -> Result<Reduction> {
        Reduction::parse_torch(self.op.name, self.str("reduction").unwrap_or("mean"))
    }

    fn keras_reduction(&self) -> Result<KerasReduction> {
        KerasReduction::parse(self.str("reduction").unwrap_or("none"))
    }

    /// The prediction input (the first one a gradient can be taken of, else the first
    /// float input): its dtype is the dtype the op computes in, and the other float
    /// inputs are cast to it, as TF and Keras cast labels to the logits' dtype.
    fn main_input(&self) -> Option<(&'static str, &DynView<'a>)> {
        let pred = self.op.grad_wrt.first().and_then(|&n| self.op.inputs.iter().find(|s| s.name == n));
        pred.into_iter()
            .chain(self.op.inputs.iter().filter(|s| s.kind == InputKind::Float))
            .find_map(|s| self.inputs.get(s.name).map(|a| (s.name, a)))
    }

    /// The dtype the op computes in: that of [`Call::main_input`].
    fn main_dtype(&self) -> DType {
        self.main_input().map_or(DType::F32, |(_, a)| a.dtype())
    }
}

fn input_list(op: &OpSpec) -> String {
    op.inputs.iter().map(|s| if s.optional { format!("{} (optional)", s.name) } else { s.name.to_string() }).collect::<Vec<_>>().join(", ")
}

/// Run `f` in the dtype of the op's main float input; float16 runs in float32 and is
/// rounded back; integer main inputs are rejected.
fn by_float(
    c: &Call,
    g: Option<&str>,
    f32f: fn(&Call, Option<&str>) -> Result<ArrayD<f32>>,
    f64f: fn(&Call, Option<&str>) -> Result<ArrayD<f64>>,
) -> Result<DynArray> {
    match c.main_dtype() {
        DType::F64 => Ok(DynArray::F64(f64f(c, g)?)),
        DType::F32 => Ok(DynArray::F32(f32f(c, g)?)),
        DType::F16 => Ok(DynArray::F16(f32f(c, g)?.mapv(f16::from_f32))),
        other => {
            let name = c.main_input().map_or("input", |(n, _)| n);
            Err(Error::DType {
                op: c.op.name.into(),
                input: name.into(),
                got: other.to_string(),
                expected: "float16, float32 or float64".into(),
            })
        }
    }
}

macro_rules! float_op {
    ($name:ident, $body:ident) => {
        fn $name(c: &Call, g: Option<&str>) -> Result<DynArray> {
            by_float(c, g, $body::<f32>, $body::<f64>)
        }
    };
}

/// [`float_op!`] for the Keras loss *functions*, which compute float16 inputs in
/// float16 with every intermediate rounded to half (Keras' epsilon cast to half, so
/// the clip is `[1.1920929e-7, 1]`, and ratios or logs that overflow half give inf):
/// their float16 body runs in `half::f16` arithmetic, not in float32.
macro_rules! float_op_half {
    ($name:ident, $body:ident) => {
        fn $name(c: &Call, g: Option<&str>) -> Result<DynArray> {
            match c.main_dtype() {
                DType::F16 => Ok(DynArray::F16($body::<f16>(c, g)?)),
                _ => by_float(c, g, $body::<f32>, $body::<f64>),
            }
        }
    };
}

/// The shape of an op's output, which the upstream gradient of `sum(output)` takes.
pub(crate) enum Up {
    /// This shape: that of an input (element-wise ops, softmax and log-softmax), or one
    /// derived from it with no more elements than the inputs have.
    Like(Vec<usize>),
    /// A 0-d output (a loss reduced to one value).
    Scalar,
    /// Not known without the forward (shapes that depend on broadcasting, squeezing or
    /// axis rules of the framework): the forward runs once more to learn it.
    Forward,
}

/// Forward, or the VJP with ones of the output's shape. The ones are a broadcast
/// view of a single 1 (never an array of the output's size), and the forward only
/// runs for a gradient when `up` is [`Up::Forward`].
fn fwd_or_grad<T: Float>(
    g: Option<&str>,
    up: Up,
    fwd: impl FnOnce() -> Result<ArrayD<T>>,
    vjp: impl FnOnce(&ArrayViewD<'_, T>) -> Result<ArrayD<T>>,
) -> Result<ArrayD<T>> {
    if g.is_none() {
        return fwd();
    }
    let shape = match up {
        Up::Like(s) => IxDyn(&s),
        Up::Scalar => IxDyn(&[]),
        Up::Forward => fwd()?.raw_dim(),
    };
    let one = ArrayD::from_elem(IxDyn(&[]), T::one());
    let ones = one.broadcast(shape).ok_or_else(|| Error::shape("gradient", "cannot broadcast the upstream gradient"))?;
    vjp(&ones)
}

/// [`Up::Scalar`] for a reduced loss, else [`Up::Forward`] (`none`, or Keras' empty
/// per-sample losses, which its reduction returns unreduced with shape `[0]`).
fn up_reduced(none: bool) -> Up {
    if none {
        Up::Forward
    } else {
        Up::Scalar
    }
}

// --------------------------------------------------------------------- TF bodies

float_op!(tf_softmax, tf_softmax_t);
fn tf_softmax_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, axis) = (c.float::<T>("logits")?, c.i64("axis")?);
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || tf::softmax(&x.view(), axis), |u| tf::softmax_grad(&x.view(), axis, u))
}

float_op!(tf_log_softmax, tf_log_softmax_t);
fn tf_log_softmax_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, axis) = (c.float::<T>("logits")?, c.i64("axis")?);
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || tf::log_softmax(&x.view(), axis), |u| tf::log_softmax_grad(&x.view(), axis, u))
}

float_op!(tf_sigmoid, tf_sigmoid_t);
fn tf_sigmoid_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("x")?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || Ok(tf::sigmoid(&x.view())), |u| tf::sigmoid_grad(&x.view(), u))
}

float_op!(tf_log_sigmoid, tf_log_sigmoid_t);
fn tf_log_sigmoid_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("x")?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || Ok(tf::log_sigmoid(&x.view())), |u| tf::log_sigmoid_grad(&x.view(), u))
}

fn tf_one_hot(c: &Call, _g: Option<&str>) -> Result<DynArray> {
    let idx = c.labels("indices")?;
    let depth = c.opt_i64("depth").ok_or_else(|| Error::Usage("tf.one_hot: parameter `depth` is required".into()))?;
    let axis = c.i64("axis")?;
    let (on, off) = (c.opt_f64("on_value"), c.opt_f64("off_value"));
    // TF: the dtype follows `dtype`, else the given on/off value's type (an integer
    // literal gives int32), else float32.
    let lit_int = |n: &str| c.params.get(n).is_some_and(|v| v.is_i64() || v.is_u64());
    let dtype = match c.str("dtype") {
        Some(d) => d.to_string(),
        None if on.is_some() && lit_int("on_value") || on.is_none() && off.is_some() && lit_int("off_value") => "int32".into(),
        None => "float32".into(),
    };
    let (on, off) = (on.unwrap_or(1.0), off.unwrap_or(0.0));
    let v = idx.view();
    Ok(match dtype.as_str() {
        "float64" => DynArray::F64(tf::one_hot(&v, depth, on, off, axis)?),
        "int32" => DynArray::I32(tf::one_hot(&v, depth, on as i32, off as i32, axis)?),
        "int64" => DynArray::I64(tf::one_hot(&v, depth, on as i64, off as i64, axis)?),
        _ => DynArray::F32(tf::one_hot(&v, depth, on as f32, off as f32, axis)?),
    })
}

float_op!(tf_sce, tf_sce_t);
fn tf_sce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, x, axis) = (c.float::<T>("labels")?, c.float::<T>("logits")?, c.i64("axis")?);
    // One cost per row: the logits' shape without the class axis. The forward runs
    // when the axis is invalid (it raises TensorFlow's error) and for empty logits
    // (with no classes, the rows can outnumber the elements: (2^40, 0) has 2^40 rows,
    // whose cost the forward refuses to allocate).
    let sce_up = match (x.is_empty(), x.ndim() > 0) {
        (false, true) => {
            tf::sce_axis(c.op.name, axis, x.shape()).map_or(Up::Forward, |a| Up::Like(crate::layout::reduced_shape(x.shape(), a)))
        }
        _ => Up::Forward,
    };
    fwd_or_grad(
        g,
        sce_up,
        || tf::softmax_cross_entropy_with_logits(&t.view(), &x.view(), axis),
        |u| tf::softmax_cross_entropy_with_logits_grad(&t.view(), &x.view(), axis, u),
    )
}

float_op!(tf_ssce, tf_ssce_t);
fn tf_ssce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (y, x) = (c.labels("labels")?, c.float::<T>("logits")?);
    fwd_or_grad(
        g,
        Up::Like(y.shape().to_vec()),
        || tf::sparse_softmax_cross_entropy_with_logits(&y.view(), &x.view()),
        |u| tf::sparse_softmax_cross_entropy_with_logits_grad(&y.view(), &x.view(), u),
    )
}

float_op!(tf_sigce, tf_sigce_t);
fn tf_sigce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, x) = (c.float::<T>("labels")?, c.float::<T>("logits")?);
    fwd_or_grad(
        g,
        Up::Like(x.shape().to_vec()),
        || tf::sigmoid_cross_entropy_with_logits(&t.view(), &x.view()),
        |u| tf::sigmoid_cross_entropy_with_logits_grad(&t.view(), &x.view(), u),
    )
}

float_op!(tf_wce, tf_wce_t);
fn tf_wce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, x, q) = (c.float::<T>("labels")?, c.float::<T>("logits")?, T::of(c.f64("pos_weight")?));
    fwd_or_grad(
        g,
        Up::Like(x.shape().to_vec()),
        || tf::weighted_cross_entropy_with_logits(&t.view(), &x.view(), q),
        |u| tf::weighted_cross_entropy_with_logits_grad(&t.view(), &x.view(), q, u),
    )
}

// --------------------------------------------------------------------- Keras bodies

float_op_half!(keras_cce, keras_cce_t);
fn keras_cce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, p) = (c.float::<T>("y_true")?, c.float::<T>("y_pred")?);
    let (fl, ls, ax) = (c.bool("from_logits"), c.f64("label_smoothing")?, c.i64("axis")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || keras::categorical_crossentropy(&t.view(), &p.view(), fl, ls, ax),
        |u| keras::categorical_crossentropy_grad(&t.view(), &p.view(), fl, ls, ax, u),
    )
}

float_op_half!(keras_scce, keras_scce_t);
fn keras_scce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (y, p) = (c.labels("y_true")?, c.float::<T>("y_pred")?);
    let (fl, ig, ax) = (c.bool("from_logits"), c.opt_i64("ignore_class"), c.i64("axis")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || keras::sparse_categorical_crossentropy(&y.view(), &p.view(), fl, ig, ax),
        |u| keras::sparse_categorical_crossentropy_grad(&y.view(), &p.view(), fl, ig, ax, u),
    )
}

float_op_half!(keras_bce, keras_bce_t);
fn keras_bce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, p) = (c.float::<T>("y_true")?, c.float::<T>("y_pred")?);
    let (fl, ls, ax) = (c.bool("from_logits"), c.f64("label_smoothing")?, c.i64("axis")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || keras::binary_crossentropy(&t.view(), &p.view(), fl, ls, ax),
        |u| keras::binary_crossentropy_grad(&t.view(), &p.view(), fl, ls, ax, u),
    )
}

float_op_half!(keras_cfce, keras_cfce_t);
fn keras_cfce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, p) = (c.float::<T>("y_true")?, c.float::<T>("y_pred")?);
    let (a, gm, fl, ls, ax) = (c.f64("alpha")?, c.f64("gamma")?, c.bool("from_logits"), c.f64("label_smoothing")?, c.i64("axis")?);
    fwd_or_grad(
        g,
        Up::Forward,
        || keras::categorical_focal_crossentropy(&t.view(), &p.view(), a, gm, fl, ls, ax),
        |u| keras::categorical_focal_crossentropy_grad(&t.view(), &p.view(), a, gm, fl, ls, ax, u),
    )
}

float_op_half!(keras_bfce, keras_bfce_t);
fn keras_bfce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, p) = (c.float::<T>("y_true")?, c.float::<T>("y_pred")?);
    let (b, a, gm, fl, ls, ax) = (
        c.bool("apply_class_balancing"),
        c.f64("alpha")?,
        c.f64("gamma")?,
        c.bool("from_logits"),
        c.f64("label_smoothing")?,
        c.i64("axis")?,
    );
    fwd_or_grad(
        g,
        Up::Forward,
        || keras::binary_focal_crossentropy(&t.view(), &p.view(), b, a, gm, fl, ls, ax),
        |u| keras::binary_focal_crossentropy_grad(&t.view(), &p.view(), b, a, gm, fl, ls, ax, u),
    )
}

float_op_half!(keras_kl, keras_kl_t);
fn keras_kl_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (t, p) = (c.float::<T>("y_true")?, c.float::<T>("y_pred")?);
    fwd_or_grad(g, Up::Forward, || keras::kl_divergence(&t.view(), &p.view()), |u| keras::kl_divergence_grad(&t.view(), &p.view(), u))
}

/// Keras loss classes compute in `floatx()` = float32 (`Loss.dtype`), whatever the
/// input dtype; the gradient comes back in the input's dtype.
fn keras_class(c: &Call, g: Option<&str>, f: fn(&Call, Option<&str>) -> Result<ArrayD<f32>>) -> Result<DynArray> {
    let out = f(c, g)?;
    Ok(match (g, c.main_dtype()) {
        (Some(_), DType::F64) => DynArray::F64(out.mapv(f64::from)),
        (Some(_), DType::F16) => DynArray::F16(out.mapv(f16::from_f32)),
        _ => DynArray::F32(out),
    })
}

fn keras_cce_class(c: &Call, g: Option<&str>) -> Result<DynArray> {
    keras_class(c, g, |c, g| {
        let (t, p, sw) = (c.float::<f32>("y_true")?, c.float::<f32>("y_pred")?, c.opt_float::<f32>("sample_weight")?);
        let l = keras::CategoricalCrossentropy {
            from_logits: c.bool("from_logits"),
            label_smoothing: c.f64("label_smoothing")?,
            axis: c.i64("axis")?,
            reduction: c.keras_reduction()?,
        };
        let swv = sw.as_ref().map(|s| s.view());
        fwd_or_grad(
            g,
            up_reduced(l.reduction == KerasReduction::None || p.is_empty()),
            || l.call(&t.view(), &p.view(), swv.as_ref()),
            |u| l.grad(&t.view(), &p.view(), swv.as_ref(), u),
        )
    })
}

fn keras_scce_class(c: &Call, g: Option<&str>) -> Result<DynArray> {
    keras_class(c, g, |c, g| {
        let (y, p, sw) = (c.labels("y_true")?, c.float::<f32>("y_pred")?, c.opt_float::<f32>("sample_weight")?);
        let l = keras::SparseCategoricalCrossentropy {
            from_logits: c.bool("from_logits"),
            ignore_class: c.opt_i64("ignore_class"),
            axis: c.i64("axis")?,
            reduction: c.keras_reduction()?,
        };
        let swv = sw.as_ref().map(|s| s.view());
        fwd_or_grad(
            g,
            up_reduced(l.reduction == KerasReduction::None || p.is_empty()),
            || l.call(&y.view(), &p.view(), swv.as_ref()),
            |u| l.grad(&y.view(), &p.view(), swv.as_ref(), u),
        )
    })
}

fn keras_bce_class(c: &Call, g: Option<&str>) -> Result<DynArray> {
    keras_class(c, g, |c, g| {
        let (t, p, sw) = (c.float::<f32>("y_true")?, c.float::<f32>("y_pred")?, c.opt_float::<f32>("sample_weight")?);
        let l = keras::BinaryCrossentropy {
            from_logits: c.bool("from_logits"),
            label_smoothing: c.f64("label_smoothing")?,
            axis: c.i64("axis")?,
            reduction: c.keras_reduction()?,
        };
        let swv = sw.as_ref().map(|s| s.view());
        fwd_or_grad(
            g,
            up_reduced(l.reduction == KerasReduction::None || p.is_empty()),
            || l.call(&t.view(), &p.view(), swv.as_ref()),
            |u| l.grad(&t.view(), &p.view(), swv.as_ref(), u),
        )
    })
}

fn keras_kl_class(c: &Call, g: Option<&str>) -> Result<DynArray> {
    keras_class(c, g, |c, g| {
        let (t, p, sw) = (c.float::<f32>("y_true")?, c.float::<f32>("y_pred")?, c.opt_float::<f32>("sample_weight")?);
        let l = keras::KLDivergence { reduction: c.keras_reduction()? };
        let swv = sw.as_ref().map(|s| s.view());
        fwd_or_grad(
            g,
            up_reduced(l.reduction == KerasReduction::None || p.is_empty()),
            || l.call(&t.view(), &p.view(), swv.as_ref()),
            |u| l.grad(&t.view(), &p.view(), swv.as_ref(), u),
        )
    })
}

fn keras_bfce_class(c: &Call, g: Option<&str>) -> Result<DynArray> {
    keras_class(c, g, |c, g| {
        let (t, p, sw) = (c.float::<f32>("y_true")?, c.float::<f32>("y_pred")?, c.opt_float::<f32>("sample_weight")?);
        let l = keras::BinaryFocalCrossentropy {
            apply_class_balancing: c.bool("apply_class_balancing"),
            alpha: c.f64("alpha")?,
            gamma: c.f64("gamma")?,
            from_logits: c.bool("from_logits"),
            label_smoothing: c.f64("label_smoothing")?,
            axis: c.i64("axis")?,
            reduction: c.keras_reduction()?,
        };
        let swv = sw.as_ref().map(|s| s.view());
        fwd_or_grad(
            g,
            up_reduced(l.reduction == KerasReduction::None || p.is_empty()),
            || l.call(&t.view(), &p.view(), swv.as_ref()),
            |u| l.grad(&t.view(), &p.view(), swv.as_ref(), u),
        )
    })
}

fn keras_cfce_class(c: &Call, g: Option<&str>) -> Result<DynArray> {
    keras_class(c, g, |c, g| {
        let (t, p, sw) = (c.float::<f32>("y_true")?, c.float::<f32>("y_pred")?, c.opt_float::<f32>("sample_weight")?);
        let l = keras::CategoricalFocalCrossentropy {
            alpha: c.f64("alpha")?,
            gamma: c.f64("gamma")?,
            from_logits: c.bool("from_logits"),
            label_smoothing: c.f64("label_smoothing")?,
            axis: c.i64("axis")?,
            reduction: c.keras_reduction()?,
        };
        let swv = sw.as_ref().map(|s| s.view());
        fwd_or_grad(
            g,
            up_reduced(l.reduction == KerasReduction::None || p.is_empty()),
            || l.call(&t.view(), &p.view(), swv.as_ref()),
            |u| l.grad(&t.view(), &p.view(), swv.as_ref(), u),
        )
    })
}

// --------------------------------------------------------------------- PyTorch bodies

float_op!(torch_kl, torch_kl_t);
fn torch_kl_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    // "kl_div: Integral inputs not supported."
    let tgt = c.input("target")?;
    if !tgt.dtype().is_float() {
        return Err(Error::DType {
            op: c.op.name.into(),
            input: "target".into(),
            got: tgt.dtype().to_string(),
            expected: "float16, float32 or float64 (probabilities, or log-probabilities with log_target)".into(),
        });
    }
    let (x, t) = (c.float::<T>("input")?, c.float::<T>("target")?);
    let args = torch::KlDivArgs {
        reduction: crate::ops::KlReduction::parse(c.op.name, c.str("reduction").unwrap_or("mean"))?,
        log_target: c.bool("log_target"),
    };
    fwd_or_grad(
        g,
        up_reduced(args.reduction == crate::ops::KlReduction::None),
        || torch::kl_div(&x.view(), &t.view(), &args),
        |u| torch::kl_div_grad(&x.view(), &t.view(), &args, u),
    )
}

fn torch_dim(c: &Call, x_rank: usize) -> Result<i64> {
    match c.opt_i64("dim") {
        Some(d) => Ok(d),
        // F.softmax(dim=None): the legacy implicit choice.
        None => Ok(if matches!(x_rank, 0 | 1 | 3) { 0 } else { 1 }),
    }
}

float_op!(torch_softmax, torch_softmax_t);
fn torch_softmax_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("input")?;
    let d = torch_dim(c, x.ndim())?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || torch::softmax(&x.view(), d), |u| torch::softmax_grad(&x.view(), d, u))
}

float_op!(torch_log_softmax, torch_log_softmax_t);
fn torch_log_softmax_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("input")?;
    let d = torch_dim(c, x.ndim())?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || torch::log_softmax(&x.view(), d), |u| torch::log_softmax_grad(&x.view(), d, u))
}

float_op!(torch_sigmoid, torch_sigmoid_t);
fn torch_sigmoid_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("input")?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || Ok(torch::sigmoid(&x.view())), |u| torch::sigmoid_grad(&x.view(), u))
}

float_op!(torch_logsigmoid, torch_logsigmoid_t);
fn torch_logsigmoid_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("input")?;
    fwd_or_grad(g, Up::Like(x.shape().to_vec()), || Ok(torch::logsigmoid(&x.view())), |u| torch::logsigmoid_grad(&x.view(), u))
}

fn torch_one_hot(c: &Call, _g: Option<&str>) -> Result<DynArray> {
    let x = c.labels("input")?;
    Ok(DynArray::I64(torch::one_hot(&x.view(), c.i64("num_classes")?)?))
}

/// The output shape of PyTorch's class-dim losses (`cross_entropy`, `nll_loss`): 0-d
/// when reduced; with `reduction='none'` the input without its class dim (dim 1, or
/// dim 0 of a 1-D input), or the forward's for a 0-d or empty input (the forward
/// raises the 0-d input's error, and refuses to allocate more losses than elements).
fn per_sample_up(r: Reduction, x: &[usize]) -> Up {
    match (r, x.len()) {
        (Reduction::None, _) if x.contains(&0) => Up::Forward,
        (Reduction::None, 1) => Up::Like(vec![]),
        (Reduction::None, n) if n >= 2 => Up::Like(crate::layout::reduced_shape(x, 1)),
        (Reduction::None, _) => Up::Forward,
        _ => Up::Scalar,
    }
}

float_op!(torch_ce, torch_ce_t);
fn torch_ce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let x = c.float::<T>("input")?;
    let w = c.opt_float::<T>("weight")?;
    let args = torch::CrossEntropyArgs {
        weight: w.as_ref().map(|w| w.view()),
        ignore_index: c.i64("ignore_index")?,
        reduction: c.torch_reduction()?,
        label_smoothing: c.f64("label_smoothing")?,
    };
    let ce_up = per_sample_up(args.reduction, x.shape());
    let tgt = c.input("target")?;
    if tgt.dtype().is_float() {
        if tgt.shape() != x.shape() {
            return Err(Error::DType {
                op: c.op.name.into(),
                input: "target".into(),
                got: tgt.dtype().to_string(),
                expected: format!(
                    "int64 class indices (a float target must be class probabilities of the input's shape {:?}, got {:?})",
                    x.shape(),
                    tgt.shape()
                ),
            });
        }
        let t = c.float::<T>("target")?;
        fwd_or_grad(
            g,
            ce_up,
            || torch::cross_entropy(&x.view(), torch::Target::Probs(t.view()), &args),
            |u| torch::cross_entropy_grad(&x.view(), torch::Target::Probs(t.view()), &args, u),
        )
    } else {
        if !matches!(tgt.dtype(), DType::I64 | DType::U8) {
            return Err(Error::DType {
                op: c.op.name.into(),
                input: "target".into(),
                got: tgt.dtype().to_string(),
                expected: "int64 (Long) class indices or float probabilities".into(),
            });
        }
        let y = c.labels("target")?;
        fwd_or_grad(
            g,
            ce_up,
            || torch::cross_entropy(&x.view(), torch::Target::Indices(y.view()), &args),
            |u| torch::cross_entropy_grad(&x.view(), torch::Target::Indices(y.view()), &args, u),
        )
    }
}

/// The chunk budget of the fused linear cross-entropies: `XENT_CHUNK_BYTES` if set
/// (bytes), else [`crate::ops::DEFAULT_CHUNK_BYTES`].
pub fn chunk_bytes() -> usize {
    std::env::var("XENT_CHUNK_BYTES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(crate::ops::DEFAULT_CHUNK_BYTES)
}

/// Which of the fused linear ops' gradients `--grad NAME` asks for.
fn linear_wants(c: &Call, g: &str, bias: &str) -> Result<crate::ops::LinearWants> {
    if g == bias && c.opt_input(bias).is_none() {
        return Err(Error::Usage(format!("{}: no gradient with respect to `{bias}`: it was not given", c.op.name)));
    }
    Ok(crate::ops::LinearWants { input: g == c.op.inputs[0].name, linear_weight: g == c.op.inputs[1].name, bias: g == bias })
}

/// Ones shaped like the loss: the upstream gradient of `sum(output)`.
fn ones_like_loss<T: Float>(reduction: Reduction, batch: &[usize]) -> ArrayD<T> {
    ArrayD::from_elem(IxDyn(if reduction == Reduction::None { batch } else { &[] }), T::one())
}

/// The fused linear ops compute in the dtype of their first input; a gradient is
/// returned in the dtype of the input it is taken with respect to (the other float
/// inputs were cast, as the table does; PyTorch would refuse mixed dtypes).
fn in_dtype_of(c: &Call, g: Option<&str>, out: DynArray) -> Result<DynArray> {
    let Some(name) = g else { return Ok(out) };
    let want = c.input(name)?.dtype();
    if out.dtype() == want {
        return Ok(out);
    }
    let v = out.to_f64();
    Ok(match want {
        DType::F64 => DynArray::F64(v),
        DType::F16 => DynArray::F16(v.mapv(f16::from_f64)),
        _ => DynArray::F32(v.mapv(|x| x as f32)),
    })
}

fn torch_lce(c: &Call, g: Option<&str>) -> Result<DynArray> {
    let out = by_float(c, g, torch_lce_t::<f32>, torch_lce_t::<f64>)?;
    in_dtype_of(c, g, out)
}

fn torch_lce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, lw) = (c.float::<T>("input")?, c.float::<T>("linear_weight")?);
    let (b, w) = (c.opt_float::<T>("linear_bias")?, c.opt_float::<T>("weight")?);
    let args = torch::LinearCrossEntropyArgs {
        linear_bias: b.as_ref().map(|v| v.view()),
        weight: w.as_ref().map(|v| v.view()),
        reduction: c.torch_reduction()?,
        ignore_index: c.opt_i64("ignore_index"),
        label_smoothing: c.f64("label_smoothing")?,
        chunk_bytes: chunk_bytes(),
    };
    let logits = torch::linear_logits_shape(x.shape(), lw.shape(), b.as_ref().map(|v| v.shape()))?;
    let tgt = c.input("target")?;
    let (yv, tv);
    let target = if tgt.dtype().is_float() {
        if tgt.shape() != logits.as_slice() {
            return Err(Error::DType {
                op: c.op.name.into(),
                input: "target".into(),
                got: tgt.dtype().to_string(),
                expected: format!(
                    "int64 class indices (a float target must be class probabilities of the logits' shape {logits:?}, got {:?})",
                    tgt.shape()
                ),
            });
        }
        tv = c.float::<T>("target")?;
        torch::Target::Probs(tv.view())
    } else {
        if !matches!(tgt.dtype(), DType::I64 | DType::U8) {
            return Err(Error::DType {
                op: c.op.name.into(),
                input: "target".into(),
                got: tgt.dtype().to_string(),
                expected: "int64 (Long) class indices or float probabilities".into(),
            });
        }
        yv = c.labels("target")?;
        torch::Target::Indices(yv.view())
    };
    match g {
        None => torch::linear_cross_entropy(&x.view(), &lw.view(), target, &args),
        Some(name) => {
            let wants = linear_wants(c, name, "linear_bias")?;
            let ones = ones_like_loss::<T>(args.reduction, &logits[..logits.len() - 1]);
            let r = torch::linear_cross_entropy_grad(&x.view(), &lw.view(), target, &args, &ones.view(), wants)?;
            Ok([r.input, r.linear_weight, r.linear_bias].into_iter().flatten().next().expect("the gradient asked for"))
        }
    }
}

/// Cut Cross-Entropy returns a float32 loss whatever the inputs' dtype (it computes
/// `F.cross_entropy(logits.float(), ...)`); its gradients have the inputs' dtype.
/// xent computes float64 inputs in float64 and rounds the loss to float32 (the
/// package's float64 gradients carry float32 rounding; xent's do not).
fn cce_lce(c: &Call, g: Option<&str>) -> Result<DynArray> {
    match (g, c.main_dtype()) {
        (None, DType::F16) => Ok(DynArray::F32(cce_lce_t::<f32>(c, g)?)),
        (None, DType::F64) => Ok(DynArray::F32(cce_lce_t::<f64>(c, g)?.mapv(|v| v as f32))),
        _ => in_dtype_of(c, g, by_float(c, g, cce_lce_t::<f32>, cce_lce_t::<f64>)?),
    }
}

fn cce_lce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (e, cls, t) = (c.float::<T>("e")?, c.float::<T>("c")?, c.labels("targets")?);
    let args = crate::cce::CceArgs {
        ignore_index: c.i64("ignore_index")?,
        softcap: c.opt_f64("softcap"),
        reduction: c.torch_reduction()?,
        shift: c.bool("shift"),
        chunk_bytes: chunk_bytes(),
    };
    match g {
        None => crate::cce::linear_cross_entropy(&e.view(), &cls.view(), &t.view(), &args),
        Some(name) => {
            let wants = linear_wants(c, name, "")?;
            let mut batch = t.shape().to_vec();
            if args.shift {
                if let Some(last) = batch.last_mut() {
                    *last = last.saturating_sub(1);
                }
            }
            let ones = ones_like_loss::<T>(args.reduction, &batch);
            let r = crate::cce::linear_cross_entropy_grad(&e.view(), &cls.view(), &t.view(), &args, &ones.view(), wants)?;
            Ok([r.e, r.c].into_iter().flatten().next().expect("the gradient asked for"))
        }
    }
}

float_op!(torch_nll, torch_nll_t);
fn torch_nll_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, y, w) = (c.float::<T>("input")?, c.labels("target")?, c.opt_float::<T>("weight")?);
    let args = torch::CrossEntropyArgs {
        weight: w.as_ref().map(|w| w.view()),
        ignore_index: c.i64("ignore_index")?,
        reduction: c.torch_reduction()?,
        label_smoothing: 0.0,
    };
    let nll_up = per_sample_up(args.reduction, x.shape());
    fwd_or_grad(g, nll_up, || torch::nll_loss(&x.view(), &y.view(), &args), |u| torch::nll_loss_grad(&x.view(), &y.view(), &args, u))
}

float_op!(torch_bce, torch_bce_t);
fn torch_bce_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, y, w) = (c.float::<T>("input")?, c.float::<T>("target")?, c.opt_float::<T>("weight")?);
    let r = c.torch_reduction()?;
    let wv = w.as_ref().map(|w| w.view());
    fwd_or_grad(
        g,
        if r == Reduction::None { Up::Like(x.shape().to_vec()) } else { Up::Scalar },
        || torch::binary_cross_entropy(&x.view(), &y.view(), wv.as_ref(), r),
        |u| torch::binary_cross_entropy_grad(&x.view(), &y.view(), wv.as_ref(), r, u),
    )
}

float_op!(torch_bcel, torch_bcel_t);
fn torch_bcel_t<T: Float>(c: &Call, g: Option<&str>) -> Result<ArrayD<T>> {
    let (x, y, w, pw) = (c.float::<T>("input")?, c.float::<T>("target")?, c.opt_float::<T>("weight")?, c.opt_float::<T>("pos_weight")?);
    let r = c.torch_reduction()?;
    let (wv, pv) = (w.as_ref().map(|w| w.view()), pw.as_ref().map(|w| w.view()));
    fwd_or_grad(
        g,
        if r == Reduction::None { Up::Like(x.shape().to_vec()) } else { Up::Scalar },
        || torch::binary_cross_entropy_with_logits(&x.view(), &y.view(), wv.as_ref(), pv.as_ref(), r),
        |u| torch::binary_cross_entropy_with_logits_grad(&x.view(), &y.view(), wv.as_ref(), pv.as_ref(), r, u),
    )
}

/// The framework (with the version mirrored) an op of the table belongs to, from the
/// first component of its name: the headings of [`help`].
///
/// ```
/// assert_eq!(xent::registry::framework("optax.losses.softmax_cross_entropy"), "Optax 0.2.8 (optax.losses)");
/// ```
pub fn framework(op: &str) -> &'static str {
    match op.split('.').next().unwrap_or("") {
        "tf" => "TensorFlow 2.21",
        "keras" => "Keras 3.15",
        "torch" => "PyTorch 2.15",
        "jax" => "JAX 0.10.2 (jax.nn, CPU)",
        "optax" => "Optax 0.2.8 (optax.losses)",
        "onnx" => "ONNX (as ONNX Runtime 1.32 computes it, onnx 1.23.2)",
        "sklearn" => "scikit-learn 1.9.1",
        _ => "other",
    }
}

/// The op table as help text: one block per op with its inputs and parameters,
/// grouped by framework.
///
/// ```
/// assert!(xent::registry::help().contains("torch.nn.functional.cross_entropy"));
/// ```
pub fn help() -> String {
    let mut s = String::from("OPS (inputs; parameters with defaults):\n");
    s.push_str("  Also accepted, as in Python code:\n");
    for (p, full) in PREFIXES {
        s.push_str(&format!("      `{p}X` for `{full}X`\n"));
    }
    let mut last = "";
    for o in OPS {
        let fw = framework(o.name);
        if fw != last {
            s.push_str(&format!("\n {fw}\n"));
            last = fw;
        }
        s.push_str(&format!("  {}\n      {}\n      inputs: {}\n", o.name, o.doc, input_list(o)));
        if outputs(o.name).len() > 1 {
            s.push_str(&format!("      outputs: {} (--output NAME; default the first)\n", outputs(o.name).join(", ")));
        }
        let aka: Vec<&str> = ALIASES.iter().filter(|(_, c)| *c == o.name).map(|(a, _)| *a).collect();
        if !aka.is_empty() {
            s.push_str(&format!("      also: {}\n", aka.join(", ")));
        }
        if !o.params.is_empty() {
            let ps: Vec<String> = o.params.iter().map(|p| format!("{}={}", p.name, p.default)).collect();
            s.push_str(&format!("      params: {}\n", ps.join(", ")));
        }
        if !o.grad_wrt.is_empty() {
            s.push_str(&format!("      --grad: {}\n", o.grad_wrt.join(", ")));
        }
    }
    s
}

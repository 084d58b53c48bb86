//! Every struct that mirrors a framework's class or options defaults to that
//! framework's defaults (Keras 3.15, PyTorch 2.15), so that
//! `Struct { field: x, ..Default::default() }` means what the same call means in
//! Python. One test per struct.

use xent::keras::{
    BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy, KLDivergence, KerasReduction,
    SparseCategoricalCrossentropy,
};
use xent::ops::{KlReduction, Reduction, SparseOptions};
use xent::torch::{CrossEntropyArgs, KlDivArgs};

const SOBS: KerasReduction = KerasReduction::SumOverBatchSize;

/// `keras.losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.0,
/// axis=-1, reduction="sum_over_batch_size")`.
#[test]
fn keras_categorical_crossentropy() {
    let d = CategoricalCrossentropy::default();
    assert!(!d.from_logits);
    assert_eq!((d.label_smoothing, d.axis, d.reduction), (0.0, -1, SOBS));
    // The example: the struct-update form keeps Keras' axis −1 (it was 0).
    assert_eq!(CategoricalCrossentropy { from_logits: true, ..Default::default() }.axis, -1);
}

/// `keras.losses.SparseCategoricalCrossentropy(from_logits=False, ignore_class=None,
/// reduction="sum_over_batch_size", axis=-1)`.
#[test]
fn keras_sparse_categorical_crossentropy() {
    let d = SparseCategoricalCrossentropy::default();
    assert!(!d.from_logits);
    assert_eq!((d.ignore_class, d.axis, d.reduction), (None, -1, SOBS));
}

/// `keras.losses.BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1,
/// reduction="sum_over_batch_size")`.
#[test]
fn keras_binary_crossentropy() {
    let d = BinaryCrossentropy::default();
    assert!(!d.from_logits);
    assert_eq!((d.label_smoothing, d.axis, d.reduction), (0.0, -1, SOBS));
}

/// `keras.losses.KLDivergence(reduction="sum_over_batch_size")`.
#[test]
fn keras_kl_divergence() {
    assert_eq!(KLDivergence::default().reduction, SOBS);
}

/// `keras.losses.BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25,
/// gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction=...)`.
#[test]
fn keras_binary_focal_crossentropy() {
    let d = BinaryFocalCrossentropy::default();
    assert!(!d.apply_class_balancing && !d.from_logits);
    assert_eq!((d.alpha, d.gamma, d.label_smoothing, d.axis, d.reduction), (0.25, 2.0, 0.0, -1, SOBS));
}

/// `keras.losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0,
/// from_logits=False, label_smoothing=0.0, axis=-1, reduction=...)`.
#[test]
fn keras_categorical_focal_crossentropy() {
    let d = CategoricalFocalCrossentropy::default();
    assert!(!d.from_logits);
    assert_eq!((d.alpha, d.gamma, d.label_smoothing, d.axis, d.reduction), (0.25, 2.0, 0.0, -1, SOBS));
}

/// Keras' `Loss(reduction="sum_over_batch_size")`.
#[test]
fn keras_reduction() {
    assert_eq!(KerasReduction::default(), SOBS);
}

/// `F.cross_entropy` / `F.nll_loss` / `nn.CrossEntropyLoss`: weight=None,
/// ignore_index=-100, reduction='mean', label_smoothing=0.0.
#[test]
fn torch_cross_entropy_args() {
    let a = CrossEntropyArgs::<f32>::default();
    assert!(a.weight.is_none());
    assert_eq!((a.ignore_index, a.reduction, a.label_smoothing), (-100, Reduction::Mean, 0.0));
}

/// `F.kl_div(reduction='mean', log_target=False)`.
#[test]
fn torch_kl_div_args() {
    assert_eq!(KlDivArgs::default(), KlDivArgs { reduction: KlReduction::Mean, log_target: false });
    assert_eq!(KlReduction::default(), KlReduction::Mean);
}

/// PyTorch's `reduction='mean'`, the default of every PyTorch loss.
#[test]
fn torch_reduction() {
    assert_eq!(Reduction::default(), Reduction::Mean);
}

/// `SparseOptions` is the core's framework-neutral option set (TensorFlow and Keras
/// build on it too): no smoothing, no weights, **nothing ignored**, mean. PyTorch's
/// `ignore_index=-100` belongs to [`CrossEntropyArgs`], which the PyTorch front-end
/// maps onto it.
#[test]
fn core_sparse_options_are_neutral() {
    let o = SparseOptions::<f64>::default();
    assert_eq!((o.label_smoothing, o.weight, o.ignore_index, o.reduction), (0.0, None, None, Reduction::Mean));
}

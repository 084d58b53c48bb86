# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

from xent._api import Loss

class BinaryCrossentropy(Loss):
    """binary_crossentropy, times sample_weight, then the reduction.

    Mirrors ``keras.losses.BinaryCrossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.BinaryCrossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
        sample_weight: float16/32/64, optional
    Parameters:
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1
        reduction: one of sum_over_batch_size, sum, none, mean, mean_with_sample_weight, null, default "sum_over_batch_size"

    Use: ``loss = BinaryCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name=None)``, then ``loss(y_true, y_pred, sample_weight=None)``
    (its gradient: ``loss.grad('y_pred', y_true, y_pred)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.BinaryCrossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1, reduction: Literal['sum_over_batch_size', 'sum', 'none', 'mean', 'mean_with_sample_weight'] | None = 'sum_over_batch_size', name: str | None = None) -> None: ...
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> NDArray[Any]: ...

class BinaryFocalCrossentropy(Loss):
    """binary_focal_crossentropy, times sample_weight, then the reduction (float32).

    Mirrors ``keras.losses.BinaryFocalCrossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.BinaryFocalCrossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
        sample_weight: float16/32/64, optional
    Parameters:
        apply_class_balancing: Bool, default false
        alpha: Float, default 0.25
        gamma: Float, default 2.0
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1
        reduction: one of sum_over_batch_size, sum, none, mean, mean_with_sample_weight, null, default "sum_over_batch_size"

    Use: ``loss = BinaryFocalCrossentropy(apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name=None)``, then ``loss(y_true, y_pred, sample_weight=None)``
    (its gradient: ``loss.grad('y_pred', y_true, y_pred)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.BinaryFocalCrossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1, reduction: Literal['sum_over_batch_size', 'sum', 'none', 'mean', 'mean_with_sample_weight'] | None = 'sum_over_batch_size', name: str | None = None) -> None: ...
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> NDArray[Any]: ...

class CategoricalCrossentropy(Loss):
    """categorical_crossentropy, times sample_weight, then the reduction.

    Mirrors ``keras.losses.CategoricalCrossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.CategoricalCrossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
        sample_weight: float16/32/64, optional
    Parameters:
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1
        reduction: one of sum_over_batch_size, sum, none, mean, mean_with_sample_weight, null, default "sum_over_batch_size"

    Use: ``loss = CategoricalCrossentropy(from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name=None)``, then ``loss(y_true, y_pred, sample_weight=None)``
    (its gradient: ``loss.grad('y_pred', y_true, y_pred)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.CategoricalCrossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1, reduction: Literal['sum_over_batch_size', 'sum', 'none', 'mean', 'mean_with_sample_weight'] | None = 'sum_over_batch_size', name: str | None = None) -> None: ...
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> NDArray[Any]: ...

class CategoricalFocalCrossentropy(Loss):
    """categorical_focal_crossentropy, times sample_weight, then the reduction (float32).

    Mirrors ``keras.losses.CategoricalFocalCrossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.CategoricalFocalCrossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
        sample_weight: float16/32/64, optional
    Parameters:
        alpha: Float, default 0.25
        gamma: Float, default 2.0
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1
        reduction: one of sum_over_batch_size, sum, none, mean, mean_with_sample_weight, null, default "sum_over_batch_size"

    Use: ``loss = CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name=None)``, then ``loss(y_true, y_pred, sample_weight=None)``
    (its gradient: ``loss.grad('y_pred', y_true, y_pred)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.CategoricalFocalCrossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1, reduction: Literal['sum_over_batch_size', 'sum', 'none', 'mean', 'mean_with_sample_weight'] | None = 'sum_over_batch_size', name: str | None = None) -> None: ...
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> NDArray[Any]: ...

class KLDivergence(Loss):
    """kl_divergence per sample, times sample_weight, then the reduction (float32).

    Mirrors ``keras.losses.KLDivergence`` of Keras 3.15, computed by xent (op ``keras.losses.KLDivergence`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
        sample_weight: float16/32/64, optional
    Parameters:
        reduction: one of sum_over_batch_size, sum, none, mean, mean_with_sample_weight, null, default "sum_over_batch_size"

    Use: ``loss = KLDivergence(reduction='sum_over_batch_size', name=None)``, then ``loss(y_true, y_pred, sample_weight=None)``
    (its gradient: ``loss.grad('y_pred', y_true, y_pred)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.KLDivergence', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, reduction: Literal['sum_over_batch_size', 'sum', 'none', 'mean', 'mean_with_sample_weight'] | None = 'sum_over_batch_size', name: str | None = None) -> None: ...
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> NDArray[Any]: ...

class SparseCategoricalCrossentropy(Loss):
    """sparse_categorical_crossentropy, masked by ignore_class, times sample_weight, then the reduction.

    Mirrors ``keras.losses.SparseCategoricalCrossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.SparseCategoricalCrossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: class indices or float probabilities
        y_pred: float16/32/64
        sample_weight: float16/32/64, optional
    Parameters:
        from_logits: Bool, default false
        ignore_class: OptInt, default null
        reduction: one of sum_over_batch_size, sum, none, mean, mean_with_sample_weight, null, default "sum_over_batch_size"
        axis: Int, default -1

    Use: ``loss = SparseCategoricalCrossentropy(from_logits=False, ignore_class=None, reduction='sum_over_batch_size', axis=-1, name=None)``, then ``loss(y_true, y_pred, sample_weight=None)``
    (its gradient: ``loss.grad('y_pred', y_true, y_pred)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.SparseCategoricalCrossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, reduction: Literal['sum_over_batch_size', 'sum', 'none', 'mean', 'mean_with_sample_weight'] | None = 'sum_over_batch_size', axis: int = -1, name: str | None = None) -> None: ...
    def __call__(self, y_true: ArrayLike, y_pred: ArrayLike, sample_weight: ArrayLike | None = None) -> NDArray[Any]: ...

def binary_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> NDArray[Any]:
    """element-wise BCE (clipped probabilities unless from_logits), mean over axis.

    Mirrors ``keras.losses.binary_crossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.binary_crossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
    Parameters:
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.binary_crossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def binary_focal_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> NDArray[Any]:
    """(1 - p_t)^gamma * BCE, optionally class-balanced, mean over axis.

    Mirrors ``keras.losses.binary_focal_crossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.binary_focal_crossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
    Parameters:
        apply_class_balancing: Bool, default false
        alpha: Float, default 0.25
        gamma: Float, default 2.0
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.binary_focal_crossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def categorical_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> NDArray[Any]:
    """probabilities by default: renormalise, clip to [1e-7, 1-1e-7], -sum(t log p); from_logits=True: softmax CE.

    Mirrors ``keras.losses.categorical_crossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.categorical_crossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
    Parameters:
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.categorical_crossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def categorical_focal_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> NDArray[Any]:
    """sum alpha (1 - p)^gamma (-t log p) over clipped, renormalised probabilities.

    Mirrors ``keras.losses.categorical_focal_crossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.categorical_focal_crossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64
    Parameters:
        alpha: Float, default 0.25
        gamma: Float, default 2.0
        from_logits: Bool, default false
        label_smoothing: Float, default 0.0
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.categorical_focal_crossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def kl_divergence(y_true: ArrayLike, y_pred: ArrayLike) -> NDArray[Any]:
    """sum t log(t / p) over the last axis, both clipped to [1e-7, 1].

    Mirrors ``keras.losses.kl_divergence`` of Keras 3.15, computed by xent (op ``keras.losses.kl_divergence`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: float16/32/64
        y_pred: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.kl_divergence', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sparse_categorical_crossentropy(y_true: ArrayLike, y_pred: ArrayLike, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1) -> NDArray[Any]:
    """class-index targets; probabilities clipped then normalised unless from_logits.

    Mirrors ``keras.losses.sparse_categorical_crossentropy`` of Keras 3.15, computed by xent (op ``keras.losses.sparse_categorical_crossentropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: class indices or float probabilities
        y_pred: float16/32/64
    Parameters:
        from_logits: Bool, default false
        ignore_class: OptInt, default null
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('keras.losses.sparse_categorical_crossentropy', wrt, **inputs_and_params)`` with wrt in y_pred.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

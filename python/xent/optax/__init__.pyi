# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

from . import losses as losses

def convex_kl_divergence(log_predictions: ArrayLike, targets: ArrayLike, where: ArrayLike | None = None, axis: int | None = -1) -> NDArray[Any]:
    """kl_divergence + sum_where (exp(log_predictions) - targets) (deprecated: generalized_kl_divergence).

    Mirrors ``optax.convex_kl_divergence`` of Optax 0.2.8, computed by xent (op ``optax.losses.convex_kl_divergence`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        log_predictions: float16/32/64
        targets: float16/32/64
        where: class indices or float probabilities, optional
    Parameters:
        axis: OptInt, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.convex_kl_divergence', wrt, **inputs_and_params)`` with wrt in log_predictions.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def kl_divergence(log_predictions: ArrayLike, targets: ArrayLike, where: ArrayLike | None = None, axis: int | None = -1) -> NDArray[Any]:
    """sum_where targets * (where(targets == 0, 0, log targets) - log_predictions) along axis (null: all).

    Mirrors ``optax.kl_divergence`` of Optax 0.2.8, computed by xent (op ``optax.losses.kl_divergence`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        log_predictions: float16/32/64
        targets: float16/32/64
        where: class indices or float probabilities, optional
    Parameters:
        axis: OptInt, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.kl_divergence', wrt, **inputs_and_params)`` with wrt in log_predictions.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def safe_softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> NDArray[Any]:
    """-sum where(labels != 0, labels * log_softmax(logits), 0) over the last axis: -inf logits with zero labels add 0.

    Mirrors ``optax.safe_softmax_cross_entropy`` of Optax 0.2.8, computed by xent (op ``optax.losses.safe_softmax_cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
        labels: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.safe_softmax_cross_entropy', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid_binary_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> NDArray[Any]:
    """-labels log_sigmoid(logits) - (1 - labels) log_sigmoid(-logits), element-wise.

    Mirrors ``optax.sigmoid_binary_cross_entropy`` of Optax 0.2.8, computed by xent (op ``optax.losses.sigmoid_binary_cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
        labels: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.sigmoid_binary_cross_entropy', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid_focal_loss(logits: ArrayLike, labels: ArrayLike, alpha: float | None = None, gamma: float = 2.0) -> NDArray[Any]:
    """sigmoid BCE * (1 - p_t)^gamma (via logsumexp with b), times alpha z + (1 - alpha)(1 - z) when alpha is given.

    Mirrors ``optax.sigmoid_focal_loss`` of Optax 0.2.8, computed by xent (op ``optax.losses.sigmoid_focal_loss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
        labels: float16/32/64
    Parameters:
        alpha: OptFloat, default null
        gamma: Float, default 2.0

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.sigmoid_focal_loss', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def smooth_labels(labels: ArrayLike, where: ArrayLike | None = None, axis: int = -1, *, alpha: float) -> NDArray[Any]:
    """(1 - alpha) labels + alpha / K, K the length of axis (with where: the number of True along axis).

    Mirrors ``optax.smooth_labels`` of Optax 0.2.8, computed by xent (op ``optax.losses.smooth_labels`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        labels: float16/32/64
        where: class indices or float probabilities, optional
    Parameters:
        alpha: Float, default null
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.smooth_labels', wrt, **inputs_and_params)`` with wrt in labels.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike, where: ArrayLike | None = None, axis: int = -1) -> NDArray[Any]:
    """-sum_where labels * log_softmax(logits, where) along axis.

    Mirrors ``optax.softmax_cross_entropy`` of Optax 0.2.8, computed by xent (op ``optax.losses.softmax_cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
        labels: float16/32/64
        where: class indices or float probabilities, optional
    Parameters:
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.softmax_cross_entropy', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax_cross_entropy_with_integer_labels(logits: ArrayLike, labels: ArrayLike, where: ArrayLike | None = None, axis: int = -1) -> NDArray[Any]:
    """logsumexp_where(logits) - logits[label]; labels in [-C, -1] wrap, others out of range give NaN; 0 where no class is in where.

    Mirrors ``optax.softmax_cross_entropy_with_integer_labels`` of Optax 0.2.8, computed by xent (op ``optax.losses.softmax_cross_entropy_with_integer_labels`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
        labels: class indices, uint8 or int32 or int64
        where: class indices or float probabilities, optional
    Parameters:
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('optax.losses.softmax_cross_entropy_with_integer_labels', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def log_softmax(logits: ArrayLike, axis: int | None = None, name: str | None = None) -> NDArray[Any]:
    """x - max - log sum exp(x - max) along axis.

    Mirrors ``tf.nn.log_softmax`` of TensorFlow 2.21, computed by xent (op ``tf.nn.log_softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
    Parameters:
        axis: Int, default -1 (None, the framework's default, means -1)

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.log_softmax', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid(x: ArrayLike, name: str | None = None) -> NDArray[Any]:
    """1 / (1 + exp(-x)).

    Mirrors ``tf.nn.sigmoid`` of TensorFlow 2.21, computed by xent (op ``tf.math.sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.math.sigmoid', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid_cross_entropy_with_logits(labels: ArrayLike, logits: ArrayLike, name: str | None = None) -> NDArray[Any]:
    """max(x, 0) - x z + log1p(exp(-|x|)).

    Mirrors ``tf.nn.sigmoid_cross_entropy_with_logits`` of TensorFlow 2.21, computed by xent (op ``tf.nn.sigmoid_cross_entropy_with_logits`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        labels: float16/32/64
        logits: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.sigmoid_cross_entropy_with_logits', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax(logits: ArrayLike, axis: int | None = None, name: str | None = None) -> NDArray[Any]:
    """exp(x - max) / sum exp(x - max) along axis.

    Mirrors ``tf.nn.softmax`` of TensorFlow 2.21, computed by xent (op ``tf.nn.softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
    Parameters:
        axis: Int, default -1 (None, the framework's default, means -1)

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.softmax', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax_cross_entropy_with_logits(labels: ArrayLike, logits: ArrayLike, axis: int = -1, name: str | None = None) -> NDArray[Any]:
    """sum(labels * (logsumexp(logits) - logits)) along axis; gradient softmax - labels.

    Mirrors ``tf.nn.softmax_cross_entropy_with_logits`` of TensorFlow 2.21, computed by xent (op ``tf.nn.softmax_cross_entropy_with_logits`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        labels: float16/32/64
        logits: float16/32/64
    Parameters:
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.softmax_cross_entropy_with_logits', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sparse_softmax_cross_entropy_with_logits(labels: ArrayLike, logits: ArrayLike, name: str | None = None) -> NDArray[Any]:
    """logsumexp(logits) - logits[label] over the last axis.

    Mirrors ``tf.nn.sparse_softmax_cross_entropy_with_logits`` of TensorFlow 2.21, computed by xent (op ``tf.nn.sparse_softmax_cross_entropy_with_logits`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        labels: class indices, int32 or int64
        logits: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.sparse_softmax_cross_entropy_with_logits', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def weighted_cross_entropy_with_logits(labels: ArrayLike, logits: ArrayLike, pos_weight: float, name: str | None = None) -> NDArray[Any]:
    """(1 - z) x + (1 + (q - 1) z)(log1p(exp(-|x|)) + max(-x, 0)).

    Mirrors ``tf.nn.weighted_cross_entropy_with_logits`` of TensorFlow 2.21, computed by xent (op ``tf.nn.weighted_cross_entropy_with_logits`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        labels: float16/32/64
        logits: float16/32/64
    Parameters:
        pos_weight: Float, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.weighted_cross_entropy_with_logits', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

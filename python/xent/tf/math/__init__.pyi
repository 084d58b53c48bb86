# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def log_sigmoid(x: ArrayLike, name: str | None = None) -> NDArray[Any]:
    """-softplus(-x).

    Mirrors ``tf.math.log_sigmoid`` of TensorFlow 2.21, computed by xent (op ``tf.math.log_sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.math.log_sigmoid', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def log_softmax(logits: ArrayLike, axis: int | None = None, name: str | None = None) -> NDArray[Any]:
    """x - max - log sum exp(x - max) along axis.

    Mirrors ``tf.math.log_softmax`` of TensorFlow 2.21, computed by xent (op ``tf.nn.log_softmax`` of the table).

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

    Mirrors ``tf.math.sigmoid`` of TensorFlow 2.21, computed by xent (op ``tf.math.sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.math.sigmoid', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax(logits: ArrayLike, axis: int | None = None, name: str | None = None) -> NDArray[Any]:
    """exp(x - max) / sum exp(x - max) along axis.

    Mirrors ``tf.math.softmax`` of TensorFlow 2.21, computed by xent (op ``tf.nn.softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        logits: float16/32/64
    Parameters:
        axis: Int, default -1 (None, the framework's default, means -1)

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.nn.softmax', wrt, **inputs_and_params)`` with wrt in logits.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

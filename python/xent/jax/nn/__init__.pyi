# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def log_sigmoid(x: ArrayLike) -> NDArray[Any]:
    """-softplus(-x) = -logaddexp(-x, 0).

    Mirrors ``jax.nn.log_sigmoid`` of JAX 0.10.2, computed by xent (op ``jax.nn.log_sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('jax.nn.log_sigmoid', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def log_softmax(x: ArrayLike, where: ArrayLike | None = None, axis: int = -1) -> NDArray[Any]:
    """x - max - log sum exp(x - max) along axis; masked-out positions (where) give -inf.

    Mirrors ``jax.nn.log_softmax`` of JAX 0.10.2, computed by xent (op ``jax.nn.log_softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64
        where: class indices or float probabilities, optional
    Parameters:
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('jax.nn.log_softmax', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def logsumexp(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> NDArray[Any]:
    """log sum exp(a - m) + m (m the max, 0 when not finite) over axis (null: all elements).

    Mirrors ``jax.nn.logsumexp`` of JAX 0.10.2, computed by xent (op ``jax.nn.logsumexp`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        a: float16/32/64
    Parameters:
        axis: OptInt, default null
        keepdims: Bool, default false

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('jax.nn.logsumexp', wrt, **inputs_and_params)`` with wrt in a.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def one_hot(x: ArrayLike, num_classes: int | None = None, axis: int = -1) -> NDArray[Any]:
    """float32 (x == class) along a new axis; values outside [0, num_classes) give zero rows.

    Mirrors ``jax.nn.one_hot`` of JAX 0.10.2, computed by xent (op ``jax.nn.one_hot`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: class indices or float probabilities
    Parameters:
        num_classes: OptInt, default null
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid(x: ArrayLike) -> NDArray[Any]:
    """1 / (1 + exp(-x)).

    Mirrors ``jax.nn.sigmoid`` of JAX 0.10.2, computed by xent (op ``jax.nn.sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('jax.nn.sigmoid', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax(x: ArrayLike, where: ArrayLike | None = None, axis: int = -1) -> NDArray[Any]:
    """exp(x - max) / sum exp(x - max) along axis; masked-out positions (where) give 0.

    Mirrors ``jax.nn.softmax`` of JAX 0.10.2, computed by xent (op ``jax.nn.softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64
        where: class indices or float probabilities, optional
    Parameters:
        axis: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('jax.nn.softmax', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

from . import keras as keras, math as math, nn as nn

def one_hot(indices: ArrayLike, depth: int, on_value: float | None = None, off_value: float | None = None, axis: int | None = None, dtype: Literal['float32', 'float64', 'int32', 'int64'] | None = None, name: str | None = None) -> NDArray[Any]:
    """one-hot rows; indices outside [0, depth) give off_value rows.

    Mirrors ``tf.one_hot`` of TensorFlow 2.21, computed by xent (op ``tf.one_hot`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        indices: class indices, uint8 or int32 or int64
    Parameters:
        depth: Int, default null
        on_value: OptFloat, default null
        off_value: OptFloat, default null
        axis: Int, default -1 (None, the framework's default, means -1)
        dtype: one of float32, float64, int32, int64, null, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid(x: ArrayLike, name: str | None = None) -> NDArray[Any]:
    """1 / (1 + exp(-x)).

    Mirrors ``tf.sigmoid`` of TensorFlow 2.21, computed by xent (op ``tf.math.sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        x: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('tf.math.sigmoid', wrt, **inputs_and_params)`` with wrt in x.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

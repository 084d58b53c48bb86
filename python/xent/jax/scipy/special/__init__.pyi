# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def logsumexp(a: ArrayLike, axis: int | None = None, keepdims: bool = False) -> NDArray[Any]:
    """log sum exp(a - m) + m (m the max, 0 when not finite) over axis (null: all elements).

    Mirrors ``jax.scipy.special.logsumexp`` of JAX 0.10.2, computed by xent (op ``jax.nn.logsumexp`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        a: float16/32/64
    Parameters:
        axis: OptInt, default null
        keepdims: Bool, default false

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('jax.nn.logsumexp', wrt, **inputs_and_params)`` with wrt in a.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def log_softmax(input: ArrayLike, dim: int, *, dtype: Any = None) -> NDArray[Any]:
    """log_softmax along dim.

    Mirrors ``torch.special.log_softmax`` of PyTorch 2.15, computed by xent (op ``torch.log_softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
    Parameters:
        dim: Int, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.log_softmax', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax(input: ArrayLike, dim: int, *, dtype: Any = None) -> NDArray[Any]:
    """softmax along dim.

    Mirrors ``torch.special.softmax`` of PyTorch 2.15, computed by xent (op ``torch.softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
    Parameters:
        dim: Int, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.softmax', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

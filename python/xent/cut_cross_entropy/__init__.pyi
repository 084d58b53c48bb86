# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def linear_cross_entropy(e: ArrayLike, c: ArrayLike, targets: ArrayLike, ignore_index: int = -100, softcap: float | None = None, reduction: Literal['none', 'mean', 'sum'] = 'mean', shift: bool = False, impl: Literal['cce', 'torch_compile'] = 'cce') -> NDArray[Any]:
    """Apple's Cut Cross-Entropy: cross_entropy(softcap tanh(e @ c^T / softcap), targets) over non-ignored rows, in blocks.

    Mirrors ``cut_cross_entropy.linear_cross_entropy``, computed by xent (op ``cut_cross_entropy.linear_cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        e: float16/32/64
        c: float16/32/64
        targets: class indices, int64
    Parameters:
        ignore_index: Int, default -100
        softcap: OptFloat, default null
        reduction: one of none, mean, sum, default "mean"
        shift: Bool, default false
        impl: one of cce, torch_compile, default "cce"

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('cut_cross_entropy.linear_cross_entropy', wrt, **inputs_and_params)`` with wrt in e, c.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

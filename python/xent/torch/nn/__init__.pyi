# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

from xent._api import Loss

from . import functional as functional

class BCELoss(Loss):
    """nn.BCELoss(weight, reduction)(input, target): binary_cross_entropy.

    Mirrors ``torch.nn.BCELoss`` of PyTorch 2.15, computed by xent (op ``torch.nn.BCELoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: float16/32/64
        weight: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"

    Use: ``loss = BCELoss(weight=None, *, reduction='mean')``, then ``loss(input, target)``
    (its gradient: ``loss.grad('input', input, target)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.BCELoss', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, weight: ArrayLike | None = None, *, reduction: Literal['none', 'mean', 'sum'] = 'mean') -> None: ...
    def __call__(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...
    def forward(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...

class BCEWithLogitsLoss(Loss):
    """nn.BCEWithLogitsLoss(weight, reduction, pos_weight)(input, target): binary_cross_entropy_with_logits.

    Mirrors ``torch.nn.BCEWithLogitsLoss`` of PyTorch 2.15, computed by xent (op ``torch.nn.BCEWithLogitsLoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: float16/32/64
        weight: float16/32/64, optional
        pos_weight: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"

    Use: ``loss = BCEWithLogitsLoss(weight=None, *, reduction='mean', pos_weight=None)``, then ``loss(input, target)``
    (its gradient: ``loss.grad('input', input, target)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.BCEWithLogitsLoss', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, weight: ArrayLike | None = None, *, reduction: Literal['none', 'mean', 'sum'] = 'mean', pos_weight: ArrayLike | None = None) -> None: ...
    def __call__(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...
    def forward(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...

class CrossEntropyLoss(Loss):
    """nn.CrossEntropyLoss(weight, ignore_index, reduction, label_smoothing)(input, target): cross_entropy.

    Mirrors ``torch.nn.CrossEntropyLoss`` of PyTorch 2.15, computed by xent (op ``torch.nn.CrossEntropyLoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: class indices or float probabilities
        weight: float16/32/64, optional
    Parameters:
        ignore_index: Int, default -100
        reduction: one of none, mean, sum, default "mean"
        label_smoothing: Float, default 0.0

    Use: ``loss = CrossEntropyLoss(weight=None, *, ignore_index=-100, reduction='mean', label_smoothing=0.0)``, then ``loss(input, target)``
    (its gradient: ``loss.grad('input', input, target)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.CrossEntropyLoss', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, weight: ArrayLike | None = None, *, ignore_index: int = -100, reduction: Literal['none', 'mean', 'sum'] = 'mean', label_smoothing: float = 0.0) -> None: ...
    def __call__(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...
    def forward(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...

class KLDivLoss(Loss):
    """nn.KLDivLoss(reduction, log_target)(input, target): kl_div.

    Mirrors ``torch.nn.KLDivLoss`` of PyTorch 2.15, computed by xent (op ``torch.nn.KLDivLoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: float16/32/64
    Parameters:
        reduction: one of none, batchmean, sum, mean, default "mean"
        log_target: Bool, default false

    Use: ``loss = KLDivLoss(*, reduction='mean', log_target=False)``, then ``loss(input, target)``
    (its gradient: ``loss.grad('input', input, target)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.KLDivLoss', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, *, reduction: Literal['none', 'batchmean', 'sum', 'mean'] = 'mean', log_target: bool = False) -> None: ...
    def __call__(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...
    def forward(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...

class NLLLoss(Loss):
    """nn.NLLLoss(weight, ignore_index, reduction)(input, target): nll_loss.

    Mirrors ``torch.nn.NLLLoss`` of PyTorch 2.15, computed by xent (op ``torch.nn.NLLLoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: class indices, int64 or uint8
        weight: float16/32/64, optional
    Parameters:
        ignore_index: Int, default -100
        reduction: one of none, mean, sum, default "mean"

    Use: ``loss = NLLLoss(weight=None, *, ignore_index=-100, reduction='mean')``, then ``loss(input, target)``
    (its gradient: ``loss.grad('input', input, target)``).

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.NLLLoss', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, weight: ArrayLike | None = None, *, ignore_index: int = -100, reduction: Literal['none', 'mean', 'sum'] = 'mean') -> None: ...
    def __call__(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...
    def forward(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...

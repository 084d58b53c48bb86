# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def binary_cross_entropy(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None, *, reduction: Literal['none', 'mean', 'sum'] = 'mean') -> NDArray[Any]:
    """-w (y max(log x, -100) + (1 - y) max(log(1 - x), -100)); input must lie in [0, 1].

    Mirrors ``torch.nn.functional.binary_cross_entropy`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.binary_cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: float16/32/64
        weight: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.binary_cross_entropy', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def binary_cross_entropy_with_logits(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None, *, pos_weight: ArrayLike | None = None, reduction: Literal['none', 'mean', 'sum'] = 'mean') -> NDArray[Any]:
    """w ((1 - y) x - (1 + (pos_weight - 1) y) log sigmoid(x)).

    Mirrors ``torch.nn.functional.binary_cross_entropy_with_logits`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.binary_cross_entropy_with_logits`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: float16/32/64
        weight: float16/32/64, optional
        pos_weight: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.binary_cross_entropy_with_logits', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def cross_entropy(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None, *, ignore_index: int = -100, reduction: Literal['none', 'mean', 'sum'] = 'mean', label_smoothing: float = 0.0) -> NDArray[Any]:
    """log_softmax over dim 1 then NLL (index targets) or -sum(w t log p) (probability targets).

    Mirrors ``torch.nn.functional.cross_entropy`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: class indices or float probabilities
        weight: float16/32/64, optional
    Parameters:
        ignore_index: Int, default -100
        reduction: one of none, mean, sum, default "mean"
        label_smoothing: Float, default 0.0

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.cross_entropy', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def kl_div(input: ArrayLike, target: ArrayLike, *, reduction: Literal['none', 'batchmean', 'sum', 'mean'] = 'mean', log_target: bool = False) -> NDArray[Any]:
    """target (ln target - input), 0 where target = 0 (log_target: exp(target)(target - input)); input is log-probabilities; input and target broadcast; batchmean = sum / input.shape[0], mean = sum / numel.

    Mirrors ``torch.nn.functional.kl_div`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.kl_div`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: float16/32/64
    Parameters:
        reduction: one of none, batchmean, sum, mean, default "mean"
        log_target: Bool, default false

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.kl_div', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def linear_cross_entropy(input: ArrayLike, linear_weight: ArrayLike, target: ArrayLike, linear_bias: ArrayLike | None = None, *, weight: ArrayLike | None = None, reduction: Literal['none', 'mean', 'sum'] = 'mean', ignore_index: int | None = None, label_smoothing: float = 0.0) -> NDArray[Any]:
    """cross_entropy(input @ linear_weight^T + linear_bias, target) in blocks: the logits never exist whole.

    Mirrors ``torch.nn.functional.linear_cross_entropy`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.linear_cross_entropy`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        linear_weight: float16/32/64
        target: class indices or float probabilities
        linear_bias: float16/32/64, optional
        weight: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"
        ignore_index: OptInt, default null
        label_smoothing: Float, default 0.0

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.linear_cross_entropy', wrt, **inputs_and_params)`` with wrt in input, linear_weight, linear_bias.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def log_softmax(input: ArrayLike, dim: int | None = None, *, dtype: Any = None) -> NDArray[Any]:
    """log_softmax along dim.

    Mirrors ``torch.nn.functional.log_softmax`` of PyTorch 2.15, computed by xent (op ``torch.log_softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
    Parameters:
        dim: Int, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.log_softmax', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def logsigmoid(input: ArrayLike) -> NDArray[Any]:
    """min(x, 0) - log1p(exp(-|x|)).

    Mirrors ``torch.nn.functional.logsigmoid`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.logsigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.logsigmoid', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def nll_loss(input: ArrayLike, target: ArrayLike, weight: ArrayLike | None = None, *, ignore_index: int = -100, reduction: Literal['none', 'mean', 'sum'] = 'mean') -> NDArray[Any]:
    """-w[y] input[y] on log-probabilities; weighted mean over non-ignored targets.

    Mirrors ``torch.nn.functional.nll_loss`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.nll_loss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: class indices, int64 or uint8
        weight: float16/32/64, optional
    Parameters:
        ignore_index: Int, default -100
        reduction: one of none, mean, sum, default "mean"

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.nn.functional.nll_loss', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def one_hot(input: ArrayLike, num_classes: int = -1) -> NDArray[Any]:
    """int64 one-hot along a new last axis; raises on values outside [0, num_classes).

    Mirrors ``torch.nn.functional.one_hot`` of PyTorch 2.15, computed by xent (op ``torch.nn.functional.one_hot`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: class indices, int64
    Parameters:
        num_classes: Int, default -1

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def sigmoid(input: ArrayLike) -> NDArray[Any]:
    """1 / (1 + exp(-x)).

    Mirrors ``torch.nn.functional.sigmoid`` of PyTorch 2.15, computed by xent (op ``torch.sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.sigmoid', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

def softmax(input: ArrayLike, dim: int | None = None, *, dtype: Any = None) -> NDArray[Any]:
    """softmax along dim.

    Mirrors ``torch.nn.functional.softmax`` of PyTorch 2.15, computed by xent (op ``torch.softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
    Parameters:
        dim: Int, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Gradient of sum(output): ``xent.grad('torch.softmax', wrt, **inputs_and_params)`` with wrt in input.
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

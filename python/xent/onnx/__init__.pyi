# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

from xent._api import Loss

class LogSoftmax(Loss):
    """log_softmax along axis (opset >= 13, default -1); opset <= 11: flattened to 2-D at axis (default 1).

    Mirrors ``onnx.LogSoftmax`` of ONNX (as ONNX Runtime 1.32 computes it), computed by xent (op ``onnx.LogSoftmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
    Parameters:
        axis: OptInt, default null
        opset: Int, default 13

    Use: ``loss = LogSoftmax(axis=None, opset=13)``, then ``loss(input)``

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, axis: int | None = None, opset: int = 13) -> None: ...
    def __call__(self, input: ArrayLike) -> NDArray[Any]: ...

class NegativeLogLikelihoodLoss(Loss):
    """-weight[t] input[n, t, d...]; weighted mean over non-ignored targets; targets in [-C, -1] wrap, >= C raise.

    Mirrors ``onnx.NegativeLogLikelihoodLoss`` of ONNX (as ONNX Runtime 1.32 computes it), computed by xent (op ``onnx.NegativeLogLikelihoodLoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
        target: class indices, int32 or int64
        weight: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"
        ignore_index: OptInt, default null

    Use: ``loss = NegativeLogLikelihoodLoss(reduction='mean', ignore_index=None, weight=None)``, then ``loss(input, target)``

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, reduction: Literal['none', 'mean', 'sum'] = 'mean', ignore_index: int | None = None, weight: ArrayLike | None = None) -> None: ...
    def __call__(self, input: ArrayLike, target: ArrayLike) -> NDArray[Any]: ...

class Sigmoid(Loss):
    """1 / (1 + exp(-x)).

    Mirrors ``onnx.Sigmoid`` of ONNX (as ONNX Runtime 1.32 computes it), computed by xent (op ``onnx.Sigmoid`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        X: float16/32/64

    Use: ``loss = Sigmoid()``, then ``loss(X)``

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self) -> None: ...
    def __call__(self, X: ArrayLike) -> NDArray[Any]: ...

class Softmax(Loss):
    """softmax along axis (opset >= 13, default -1); opset <= 11: flattened to 2-D at axis (default 1).

    Mirrors ``onnx.Softmax`` of ONNX (as ONNX Runtime 1.32 computes it), computed by xent (op ``onnx.Softmax`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        input: float16/32/64
    Parameters:
        axis: OptInt, default null
        opset: Int, default 13

    Use: ``loss = Softmax(axis=None, opset=13)``, then ``loss(input)``

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, axis: int | None = None, opset: int = 13) -> None: ...
    def __call__(self, input: ArrayLike) -> NDArray[Any]: ...

class SoftmaxCrossEntropyLoss(Loss):
    """scores (N, C, d...): log_prob = LogSoftmax(axis=1), loss -w[y] log_prob[y]; labels in [-C, -1] wrap, >= C raise; outputs: output, log_prob.

    Mirrors ``onnx.SoftmaxCrossEntropyLoss`` of ONNX (as ONNX Runtime 1.32 computes it), computed by xent (op ``onnx.SoftmaxCrossEntropyLoss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        scores: float16/32/64
        labels: class indices, int32 or int64
        weights: float16/32/64, optional
    Parameters:
        reduction: one of none, mean, sum, default "mean"
        ignore_index: OptInt, default null

    Use: ``loss = SoftmaxCrossEntropyLoss(reduction='mean', ignore_index=None, weights=None)``, then ``loss(scores, labels)``

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """
    def __init__(self, reduction: Literal['none', 'mean', 'sum'] = 'mean', ignore_index: int | None = None, weights: ArrayLike | None = None) -> None: ...
    def __call__(self, scores: ArrayLike, labels: ArrayLike) -> NDArray[Any]: ...

# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any, Literal

from numpy.typing import ArrayLike, NDArray

def log_loss(y_true: ArrayLike, y_proba: ArrayLike | None = None, y_pred: ArrayLike | None = None, sample_weight: ArrayLike | None = None, normalize: bool = True, labels: Any = None) -> NDArray[Any]:
    """mean -log clip(y_proba[true class], eps, 1 - eps) (eps of y_proba's dtype), optionally weighted; a float64 scalar.

    Mirrors ``sklearn.metrics.log_loss`` of scikit-learn 1.9.1, computed by xent (op ``sklearn.metrics.log_loss`` of the table).

    Inputs (NumPy arrays or anything ``numpy.asarray`` takes):
        y_true: class indices or float probabilities
        y_proba: float16/32/64, optional
        y_pred: float16/32/64, optional
        sample_weight: class indices or float probabilities, optional
    Parameters:
        normalize: Bool, default true
        labels: OptList, default null

    Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).
    Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.
    """

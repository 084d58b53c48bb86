# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.
from typing import Any

from numpy.typing import NDArray

from . import cut_cross_entropy as cut_cross_entropy, jax as jax, keras as keras, onnx as onnx, optax as optax, sklearn as sklearn, tf as tf, torch as torch

__version__: str

class Error(ValueError):
    """Bad data or arguments for an xent op; the message is the command line's."""

def eval(op: str, *, output: str | None = None, **kwargs: Any) -> NDArray[Any]:
    """Run op ``op`` of the table with its inputs and parameters by the table's names."""

def grad(op: str, wrt: str, **kwargs: Any) -> NDArray[Any]:
    """The gradient of sum(output) of op ``op`` with respect to its input ``wrt``."""

def ops() -> list[dict[str, Any]]:
    """The op table: name, doc, inputs, params (with defaults), grad_wrt of every op."""

class Explanation:
    """What ``xent.explain`` found: ``str()`` is the table ``xent explain`` prints, ``data`` its JSON."""
    data: dict[str, Any]
    text: str
    @property
    def candidates(self) -> list[dict[str, Any]]: ...
    @property
    def observed(self) -> list[dict[str, Any]]: ...

def explain(
    labels: Any,
    predictions: Any,
    observed: float | list[float] | None = None,
    sample_weight: Any = None,
    class_weight: Any = None,
) -> Explanation:
    """Which framework call gives the number you saw (``xent explain``)."""

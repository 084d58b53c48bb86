"""xent: softmax, log-softmax and every cross-entropy of TensorFlow/Keras and PyTorch,
computed exactly as each framework does (values, gradients, quirks, errors), on NumPy
arrays, by the Rust crate of the same name.

The frameworks' own names and signatures, generated from xent's op table::

    import xent
    xent.torch.nn.functional.cross_entropy([[2.0, 1.0, 0.1]], [0])   # array(0.4170299, dtype=float32)
    xent.keras.losses.CategoricalCrossentropy(from_logits=True)(y_true, y_pred)
    xent.tf.nn.softmax(logits)

plus ``xent.eval(op, **inputs_and_params)`` and ``xent.grad(op, wrt, **...)`` with the
table's names (as ``xent eval`` on the command line), and ``xent.ops()``.

Inputs: NumPy arrays in any layout or byte order, or anything ``numpy.asarray`` takes
(PyTorch CPU tensors, TF eager tensors, lists: floats become float32, ints int64).
Results: NumPy arrays of the dtype the framework returns. Bad data raises
:class:`xent.Error` (a ``ValueError``) with the command line's message; a wrong argument
name raises ``TypeError``.
"""

from __future__ import annotations

import json as _json
import sys as _sys

from . import _api, _xent

Error = _xent.Error
Error.__module__ = "xent"
__version__ = _xent.__version__

_OBJECTS = _api.build(_sys.modules[__name__])


def eval(op: str, *, output: str | None = None, **kwargs):  # noqa: A001 (the CLI's verb)
    """Run op ``op`` of the table with its inputs and parameters given by the table's
    names (``xent.ops()`` lists them), as ``xent eval OP`` does::

        xent.eval("torch.nn.functional.cross_entropy", input=x, target=y, reduction="sum")

    ``output`` names one output of an op with several (``xent eval --output``), for
    example ``xent.eval("onnx.SoftmaxCrossEntropyLoss", output="log_prob", ...)``; the
    first output by default.

    Returns a NumPy array; raises :class:`xent.Error` for bad data and ``TypeError``
    for an unknown or missing argument.
    """
    return _api.table_call(op, kwargs, None, output)


def grad(op: str, wrt: str, **kwargs):
    """The gradient of ``sum(output)`` of op ``op`` with respect to its input ``wrt``
    (same shape and dtype as that input), as ``xent eval OP --grad WRT``::

        xent.grad("tf.nn.softmax_cross_entropy_with_logits", "logits", labels=t, logits=x)
    """
    return _api.table_call(op, kwargs, wrt)


def ops() -> list:
    """The op table: one dict per op with ``name``, ``doc``, ``inputs`` (``name``,
    ``kind``, ``optional``), ``params`` (``name``, ``kind``, ``default`` as a Python
    value, ``choices``) and ``grad_wrt``."""
    out = []
    for o in _xent.ops():
        params = []
        for p in o["params"]:
            p = dict(p)
            p["default"] = _json.loads(p["default"])
            params.append(p)
        out.append(dict(o, params=params))
    return out


class Explanation:
    """What ``xent.explain`` found: ``str()`` (and the REPL) show the table or the matches
    exactly as ``xent explain`` prints them; ``.data`` is the report as a dict, the JSON of
    ``xent explain --json`` (``candidates``, ``observed`` with ``matches``,
    ``explanation`` and ``suggested``)."""

    def __init__(self, data: dict, text: str):
        self.data = data
        self.text = text

    @property
    def candidates(self) -> list:
        return self.data["candidates"]

    @property
    def observed(self) -> list:
        return self.data["observed"]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def explain(labels, predictions, observed=None, sample_weight=None, class_weight=None) -> Explanation:
    """Which framework call gives the number you saw: evaluates the calls people mistake
    for each other (Keras with ``from_logits`` false and true, TF's softmax cross-entropy,
    PyTorch's ``cross_entropy`` and ``nll_loss``, softmax applied twice, binary
    cross-entropy on one-hot labels, each reduction) on ``labels`` and ``predictions``,
    and with ``observed`` (a number or a list of them) names the calls that reproduce each
    value, the trap, and the call you most likely wanted::

        print(xent.explain(y, logits, observed=[1.2345678, 0.4170299]))

    ``sample_weight``: per-sample weights (Keras classes); ``class_weight``: one weight
    per class (PyTorch's ``weight``). Raises :class:`xent.Error` for arrays no candidate
    applies to.
    """
    if observed is None:
        observed = []
    elif not isinstance(observed, (list, tuple)):
        observed = [observed]
    conv = _api.as_input
    sw = None if sample_weight is None else conv(sample_weight)
    cw = None if class_weight is None else conv(class_weight)
    data, text = _xent.explain(conv(labels), conv(predictions), sw, cw, [float(v) for v in observed])
    return Explanation(_json.loads(data), text)


__all__ = ["Error", "Explanation", "eval", "explain", "grad", "ops", *sorted({n.split(".", 1)[0] for n in _OBJECTS})]

"""The Python API, generated from the op table of the compiled module.

Every op of ``xent::registry::OPS`` becomes a function (or, for a name whose last
component starts with an uppercase letter, a loss class) in the namespace its name
gives: ``torch.nn.functional.cross_entropy`` is ``xent.torch.nn.functional.cross_entropy``.
Adding an op or an alias to the table adds it here, with no Python change.

The signatures follow the frameworks' Python signatures: the table's input order is
the framework's positional order, then its parameters; the rules below add what the
table does not say (PyTorch's keyword-only arguments after ``weight``, TensorFlow's
``axis=None`` and ``name=None``, Keras' ``name``).
"""

from __future__ import annotations

import difflib
import inspect
import json
import numbers
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _xent

Error = _xent.Error

FRAMEWORKS = {
    "tf": "TensorFlow 2.21",
    "keras": "Keras 3.15",
    "torch": "PyTorch 2.15",
    "jax": "JAX 0.10.2",
    "optax": "Optax 0.2.8",
    "onnx": "ONNX (as ONNX Runtime 1.32 computes it)",
    "sklearn": "scikit-learn 1.9.1",
}

_POK = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KW = inspect.Parameter.KEYWORD_ONLY
_REQUIRED = inspect.Parameter.empty


@dataclass
class Arg:
    """One argument of a generated function or class."""

    name: str
    role: str  # "input", "param" or "extra" (accepted for the framework's sake, ignored)
    kind: str  # the table's kind ("Float", "Labels", "Any", "Bool", "Int", "Choice", ...)
    default: Any = _REQUIRED
    keyword_only: bool = False
    choices: list = field(default_factory=list)
    dtypes: list = field(default_factory=list)
    nullable: bool = False  # the table accepts null for it

    def parameter(self) -> inspect.Parameter:
        return inspect.Parameter(self.name, _KW if self.keyword_only else _POK, default=self.default)


@dataclass
class Spec:
    """One op of the table, with the Python signature(s) derived from it."""

    name: str  # the Python name: the table's, or an alias of it
    doc: str
    inputs: list
    params: list
    grad_wrt: list
    is_class: bool
    args: list  # function: every argument; class: the constructor's
    call_args: list  # class only: the arguments of __call__
    op: str = ""  # the table's name (what runs)

    @property
    def framework(self) -> str:
        return framework(self.name)

    @property
    def short(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def namespace(self) -> str:
        return self.name.rsplit(".", 1)[0] if "." in self.name else ""


def framework(name: str) -> str:
    """"tf", "keras" (also tf.keras...) or "torch" (or the name's first component)."""
    parts = name.split(".")
    return "keras" if "keras" in parts[:-1] else parts[0]


def _nullable(p: dict) -> bool:
    return p["kind"].startswith("Opt") or (p["kind"] == "Choice" and "null" in p.get("choices", []))


def _extra(args: list, a: Arg) -> None:
    """Add a framework-only argument unless the table already has one of that name."""
    if all(b.name != a.name for b in args):
        args.append(a)


def _signature_args(op: dict, name: str | None = None) -> tuple[bool, list, list]:
    """The framework's argument lists for one table entry under its name or an alias
    of it: (is_class, args, call_args)."""
    name = name or op["name"]
    fw = framework(name)
    short = name.rsplit(".", 1)[-1]
    is_class = short[:1].isupper()
    torch_style = fw == "torch" and any(p["name"] == "reduction" for p in op["params"])

    inputs = []
    for i in op["inputs"]:
        inputs.append(
            Arg(
                i["name"],
                "input",
                i["kind"],
                None if i["optional"] else _REQUIRED,
                dtypes=list(i.get("dtypes", [])),
            )
        )
    params = []
    for p in op["params"]:
        default = json.loads(p["default"])
        nullable = _nullable(p)
        if default is None and not nullable and p["kind"] in ("Int", "Float") and fw != "torch":
            # A number the framework requires (tf.one_hot's depth, pos_weight); in
            # PyTorch a null `dim` is the legacy implicit choice instead.
            default = _REQUIRED
        # Where the framework's Python signature says None for what the table
        # spells out (tf.nn.softmax(logits, axis=None)): None means the table's default.
        if fw == "tf" and p["name"] == "axis" and short in ("softmax", "log_softmax", "one_hot"):
            default = None
        # torch.softmax(input, dim) requires dim; torch.nn.functional.softmax has dim=None.
        if (
            fw == "torch"
            and p["name"] == "dim"
            and default is None
            and not name.startswith("torch.nn.functional.")
            and not is_class
        ):
            default = _REQUIRED
        params.append(Arg(p["name"], "param", p["kind"], default, choices=list(p.get("choices", [])), nullable=nullable))

    def order(args: list) -> list:
        # A required argument after one with a default becomes keyword-only (Python
        # cannot have it positional there); so does everything after the first one.
        seen_default = False
        for a in args:
            if a.default is not _REQUIRED:
                seen_default = True
            elif seen_default:
                a.keyword_only = True
            if a.keyword_only:
                seen_default = True
        # Keyword-only arguments go last.
        return [a for a in args if not a.keyword_only] + [a for a in args if a.keyword_only]

    if not is_class:
        args = inputs + params
        if torch_style:
            # PyTorch's deprecated size_average/reduce are left out, so everything after
            # the first optional input (weight) is keyword-only, as their position is
            # taken by those arguments in PyTorch.
            first_opt = next((k for k, a in enumerate(inputs) if a.default is not _REQUIRED), None)
            for a in args[len(inputs) if first_opt is None else first_opt + 1 :]:
                a.keyword_only = True
        if fw == "torch" and "softmax" in short:
            _extra(args, Arg("dtype", "extra", "DType", None, keyword_only=True))
        if fw == "tf":
            _extra(args, Arg("name", "extra", "Str", None))
        return False, order(args), []

    # A class: the constructor takes the parameters and the tensor-valued constructor
    # arguments (the optional inputs other than Keras' call-time sample_weight:
    # weight, pos_weight); __call__ takes the remaining inputs.
    ctor_inputs = [a for a in inputs if a.default is not _REQUIRED and a.name != "sample_weight"]
    call_inputs = [a for a in inputs if a not in ctor_inputs]
    if torch_style:
        # torch.nn.CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, ...):
        # weight stays positional, the rest is keyword-only (size_average is left out).
        args = ctor_inputs[:1] + params + ctor_inputs[1:]
        for a in args[1 if ctor_inputs else 0 :]:
            a.keyword_only = True
    else:
        args = params + ctor_inputs
        if fw == "keras":
            _extra(args, Arg("name", "extra", "Str", None))
    return True, order(args), order(call_inputs)


_SPECS: list = []


def specs() -> list[Spec]:
    """Every op of the table with its Python signature (read once)."""
    if not _SPECS:
        _SPECS.extend(_read_specs())
    return _SPECS


def _read_specs() -> list[Spec]:
    out = []
    for op in _xent.ops():
        # The table's name, then its aliases (torch.nn.functional.softmax for
        # torch.softmax), each with its own framework signature.
        for name in [op["name"], *op.get("aliases", [])]:
            is_class, args, call_args = _signature_args(op, name)
            out.append(
                Spec(
                    name,
                    op["doc"],
                    op["inputs"],
                    op["params"],
                    list(op["grad_wrt"]),
                    is_class,
                    args,
                    call_args,
                    op["name"],
                )
            )
    return out


def module_aliases() -> list:
    """(alias, module) pairs of namespaces from the table's module spellings whose
    alias is a dotted path: ("tf.keras.losses", "keras.losses")."""
    out = []
    for prefix, full in _xent.prefixes():
        a, f = prefix.rstrip("."), full.rstrip(".")
        if "." in a:
            out.append((a, f))
    return out


# ----------------------------------------------------------------------- conversion


def as_input(x: Any) -> np.ndarray:
    """An input as a NumPy array xent can read in place.

    NumPy arrays are passed as they are when C-contiguous and in native byte order
    (no copy); otherwise they are copied once into that form. Anything else goes
    through ``numpy.asarray`` (PyTorch CPU tensors, TF eager tensors, lists); Python
    lists of floats become float32 and of ints int64, as ``torch.tensor`` and
    ``tf.constant`` do.
    """
    if isinstance(x, np.ndarray):
        a = x
    else:
        from_python = type(x) in (list, tuple, float, int, bool)
        if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
            x = x.detach()  # a tensor that requires grad refuses __array__
        a = np.asarray(x)
        if from_python and a.dtype == np.float64:
            a = a.astype(np.float32)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    return a


def _dtype_name(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    n = getattr(v, "name", None)  # tf.float32, np.dtype
    if isinstance(n, str):
        return n
    s = str(v)
    if s.startswith("torch."):
        return s[len("torch.") :]
    try:
        return np.dtype(v).name
    except TypeError:
        return v


def as_param(v: Any) -> Any:
    """A parameter value as None/bool/int/float/str (NumPy and 0-d tensor scalars unwrapped)."""
    if v is None or type(v) in (bool, str, int, float):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    if isinstance(v, np.ndarray) and v.ndim == 0:
        return as_param(v.item())
    if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim == 1):
        return [as_param(x) for x in v]  # a list parameter (scikit-learn's labels)
    item = getattr(v, "item", None)
    if callable(item) and getattr(v, "ndim", getattr(v, "shape", None)) in (0, ()):
        return as_param(item())
    return v


def run(spec_name: str, values: dict, params: dict, grad: str | None, args_by_name: dict, output: str | None = None) -> np.ndarray:
    """Convert and call the compiled op."""
    inputs = {}
    ps = {}
    cast = None
    for k, v in values.items():
        a = args_by_name[k]
        if a.role == "input":
            if v is not None:
                inputs[k] = as_input(v)
        elif a.role == "extra":
            if k == "dtype" and v is not None:
                cast = np.dtype(_dtype_name(v))
    for k, v in params.items():
        a = args_by_name[k]
        v = as_param(_dtype_name(v) if k == "dtype" else v)
        if v is None and not a.nullable:
            continue  # None means the table's default (tf's axis=None)
        ps[k] = v
    if cast is not None:
        first = next(iter(inputs))
        inputs[first] = np.ascontiguousarray(inputs[first], dtype=cast)
    if output is not None:
        return _xent.eval(spec_name, inputs, ps, grad, output)
    return _xent.eval(spec_name, inputs, ps, grad)


# ----------------------------------------------------------------------- generation


def docstring(spec: Spec) -> str:
    fw = FRAMEWORKS.get(spec.framework)
    lines = [spec.doc + "."]
    lines.append("")
    lines.append(
        f"Mirrors ``{spec.name}``" + (f" of {fw}" if fw else "") + f", computed by xent (op ``{spec.op}`` of the table)."
    )
    lines.append("")
    lines.append("Inputs (NumPy arrays or anything ``numpy.asarray`` takes):")
    for i in spec.inputs:
        what = {"Float": "float16/32/64", "Any": "class indices or float probabilities"}.get(i["kind"], i["kind"])
        if i["kind"] == "Labels":
            what = "class indices, " + " or ".join(i.get("dtypes", []))
        lines.append(f"    {i['name']}: {what}" + (", optional" if i["optional"] else ""))
    if spec.params:
        lines.append("Parameters:")
        for p in spec.params:
            kind = p["kind"] if p["kind"] != "Choice" else "one of " + ", ".join(p.get("choices", []))
            line = f"    {p['name']}: {kind}, default {p['default']}"
            if p["default"] != "null" and any(a.name == p["name"] and a.default is None for a in spec.args):
                line += f" (None, the framework's default, means {p['default']})"
            lines.append(line)
    if spec.is_class:
        ctor = inspect.Signature([a.parameter() for a in spec.args])
        call = inspect.Signature([a.parameter() for a in spec.call_args])
        lines.append("")
        lines.append(f"Use: ``loss = {spec.short}{ctor}``, then ``loss{call}``")
        if spec.grad_wrt:
            wrt = spec.grad_wrt[0]
            lines.append(f"(its gradient: ``loss.grad({wrt!r}, {', '.join(a.name for a in spec.call_args if a.default is _REQUIRED)})``).")
    lines.append("")
    lines.append("Returns a NumPy array of the dtype the framework returns (0-d for a reduced loss).")
    if spec.grad_wrt:
        lines.append(
            f"Gradient of sum(output): ``xent.grad({spec.op!r}, wrt, **inputs_and_params)``"
            f" with wrt in {', '.join(spec.grad_wrt)}."
        )
    lines.append("Raises xent.Error (a ValueError) for bad data, TypeError for a wrong argument name.")
    return "\n".join(lines)


def _bind(qualname: str, sig: inspect.Signature, args: tuple, kwargs: dict, defaults: bool = False) -> dict:
    # An unknown keyword is the mistake to name first (Python's own bind may report a
    # missing argument instead), with the nearest real name, as the command line does.
    names = [p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    for k in kwargs:
        if k not in names and not takes_any:
            near = difflib.get_close_matches(k, names, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise TypeError(f"{qualname}() got an unexpected keyword argument '{k}'{hint}")
    try:
        b = sig.bind(*args, **kwargs)
    except TypeError as e:
        raise TypeError(f"{qualname}() {e}") from None
    if defaults:
        b.apply_defaults()
    # Arguments left out are left out for the table too: its defaults are the
    # framework's (where the signature says None, None means the table's default).
    return b.arguments


def _split(values: dict, by_name: dict) -> tuple[dict, dict]:
    ins, ps = {}, {}
    for k, v in values.items():
        (ps if by_name[k].role == "param" else ins)[k] = v
    return ins, ps


def make_function(spec: Spec):
    sig = inspect.Signature([a.parameter() for a in spec.args])
    by_name = {a.name: a for a in spec.args}
    name = spec.op

    def f(*args, **kwargs):
        values = _bind(f.__qualname__, sig, args, kwargs)
        ins, ps = _split(values, by_name)
        return run(name, ins, ps, None, by_name)

    f.__name__ = f.__qualname__ = spec.short
    f.__module__ = "xent." + spec.namespace
    f.__signature__ = sig
    f.__doc__ = docstring(spec)
    f.op = spec.op
    return f


class Loss:
    """Base of the generated loss classes: the constructor keeps the parameters,
    calling the object computes the loss."""

    op: str = ""
    _ctor_sig: inspect.Signature
    _call_sig: inspect.Signature
    _by_name: dict

    def __init__(self, *args, **kwargs):
        values = _bind(type(self).__name__, self._ctor_sig, args, kwargs, defaults=True)
        self._values = values
        for k, v in values.items():
            setattr(self, k, v)

    def __call__(self, *args, **kwargs):
        values = _bind(type(self).__name__ + ".__call__", self._call_sig, args, kwargs)
        values.update(self._values)
        ins, ps = _split(values, self._by_name)
        return run(self.op, ins, ps, None, self._by_name)

    def grad(self, wrt: str, *args, **kwargs) -> np.ndarray:
        """The gradient of sum(loss) with respect to the call input ``wrt``."""
        values = _bind(type(self).__name__ + ".grad", self._call_sig, args, kwargs)
        values.update(self._values)
        ins, ps = _split(values, self._by_name)
        return run(self.op, ins, ps, wrt, self._by_name)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{k}={v!r}" for k, v in self._values.items() if not isinstance(v, np.ndarray) and self._by_name[k].role != "input"
        )
        return f"{type(self).__module__}.{type(self).__name__}({shown})"


def make_class(spec: Spec) -> type:
    by_name = {a.name: a for a in spec.args + spec.call_args}
    ctor_sig = inspect.Signature([a.parameter() for a in spec.args])
    call_sig = inspect.Signature([a.parameter() for a in spec.call_args])
    ns = {
        "op": spec.op,
        "_ctor_sig": ctor_sig,
        "_call_sig": call_sig,
        "_by_name": by_name,
        "__doc__": docstring(spec),
        "__module__": "xent." + spec.namespace,
    }
    cls = type(spec.short, (Loss,), ns)
    self_param = inspect.Parameter("self", _POK)

    def __init__(self, *args, **kwargs):
        Loss.__init__(self, *args, **kwargs)

    def __call__(self, *args, **kwargs):
        return Loss.__call__(self, *args, **kwargs)

    __init__.__signature__ = ctor_sig.replace(parameters=[self_param, *ctor_sig.parameters.values()])
    __call__.__signature__ = call_sig.replace(parameters=[self_param, *call_sig.parameters.values()])
    __call__.__doc__ = "Compute the loss: " + ", ".join(call_sig.parameters) + "."
    for fn, n in ((__init__, "__init__"), (__call__, "__call__")):
        fn.__qualname__ = f"{spec.short}.{n}"
        setattr(cls, n, fn)
    if spec.framework == "torch":
        cls.forward = __call__  # nn.Module style
    return cls


def build(package: types.ModuleType) -> dict:
    """Create the namespace modules under ``package`` and fill them from the table.

    Returns {op name: function or class}."""
    made = {}

    def module(dotted: str) -> types.ModuleType:
        mod = package
        path = package.__name__
        for part in dotted.split(".") if dotted else []:
            path = f"{path}.{part}"
            child = getattr(mod, part, None)
            if not isinstance(child, types.ModuleType):
                child = types.ModuleType(path, f"xent's mirror of ``{path[len(package.__name__) + 1 :]}``.")
                child.__package__ = path
                sys.modules[path] = child
                setattr(mod, part, child)
            mod = child
        return mod

    for spec in specs():
        obj = make_class(spec) if spec.is_class else make_function(spec)
        setattr(module(spec.namespace), spec.short, obj)
        made[spec.name] = obj
    # Module spellings: xent.tf.keras.losses is xent.keras.losses.
    for alias, full in module_aliases():
        target = module(full)
        parent, _, last = alias.rpartition(".")
        setattr(module(parent), last, target)
        sys.modules[f"{package.__name__}.{alias}"] = target
    return made


def _lookup(op: str) -> Spec:
    name = _xent.canonical(op)
    for s in specs():
        if s.name == name:
            return s
    # The compiled module's message, with its "did you mean".
    _xent.eval(op, {}, {})
    raise Error(f"unknown op `{op}`")  # pragma: no cover (eval raised)


def table_call(op: str, kwargs: dict, grad: str | None, output: str | None = None) -> np.ndarray:
    """``xent.eval`` / ``xent.grad``: the table's own names, keywords only; ``output``
    names one output of an op with several (``xent eval --output``)."""
    spec = _lookup(op)
    by_name = {}
    for i in spec.inputs:
        by_name[i["name"]] = Arg(i["name"], "input", i["kind"])
    for p in spec.params:
        by_name[p["name"]] = Arg(p["name"], "param", p["kind"], nullable=_nullable(p))
    for k in kwargs:
        if k not in by_name:
            raise TypeError(f"{op}() got an unexpected keyword argument '{k}'; it takes: {', '.join(by_name)}")
    for i in spec.inputs:
        if not i["optional"] and kwargs.get(i["name"]) is None:
            raise TypeError(f"{op}() missing required argument: '{i['name']}'")
    ins, ps = _split(kwargs, by_name)
    return run(op, ins, ps, grad, by_name, output)

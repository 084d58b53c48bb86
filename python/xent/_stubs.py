"""Type stubs (``.pyi``) of the generated API, rendered from the op table.

``python python/tools/gen_stubs.py`` writes them next to the package's sources;
``python/tests/test_stubs.py`` checks that the committed ones are up to date.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from . import _api

HEADER = "# Generated from xent's op table by python/tools/gen_stubs.py; do not edit.\n"

_KINDS = {
    "Bool": "bool",
    "Int": "int",
    "OptInt": "int | None",
    "Float": "float",
    "OptFloat": "float | None",
    "Str": "str",
    "DType": "Any",
}


def _annotation(a: _api.Arg) -> str:
    if a.role == "input":
        ann = "ArrayLike"
    elif a.kind == "Choice":
        lits = [repr(c) for c in a.choices if c != "null"]
        ann = f"Literal[{', '.join(lits)}]" if lits else "str"
        if "null" in a.choices:
            ann += " | None"
    else:
        ann = _KINDS.get(a.kind, "Any")
    if a.default is None and "None" not in ann and ann != "Any":
        ann += " | None"
    return ann


def _params(args: list, self_: bool = False) -> str:
    out = ["self"] if self_ else []
    star = False
    for a in args:
        if a.keyword_only and not star:
            out.append("*")
            star = True
        s = f"{a.name}: {_annotation(a)}"
        if a.default is not inspect.Parameter.empty:
            s += f" = {a.default!r}"
        out.append(s)
    return ", ".join(out)


def _doc(text: str, indent: str) -> str:
    body = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = body.split("\n")
    lines = [indent + line if line else "" for line in lines]
    return indent + '"""' + "\n".join(lines).lstrip() + "\n" + indent + '"""\n'


def _function(spec: _api.Spec) -> str:
    return f"def {spec.short}({_params(spec.args)}) -> NDArray[Any]:\n" + _doc(_api.docstring(spec), "    ")


def _class(spec: _api.Spec) -> str:
    s = f"class {spec.short}(Loss):\n" + _doc(_api.docstring(spec), "    ")
    s += f"    def __init__({_params(spec.args, True)}) -> None: ...\n"
    s += f"    def __call__({_params(spec.call_args, True)}) -> NDArray[Any]: ...\n"
    if spec.framework == "torch":
        s += f"    def forward({_params(spec.call_args, True)}) -> NDArray[Any]: ...\n"
    return s


ROOT = '''from typing import Any

from numpy.typing import NDArray

{imports}

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
'''


def render() -> dict:
    """{path relative to the package directory: stub text}."""
    modules: dict = {"": []}
    children: dict = {"": set()}
    for spec in _api.specs():
        parts = spec.namespace.split(".") if spec.namespace else []
        for k in range(len(parts)):
            parent, here = ".".join(parts[:k]), ".".join(parts[: k + 1])
            children.setdefault(parent, set()).add(parts[k])
            children.setdefault(here, set())
            modules.setdefault(here, [])
        modules[spec.namespace].append(spec)
    # Module spellings (xent.tf.keras.losses is xent.keras.losses): re-exported.
    reexports: dict = {}
    for alias, full in _api.module_aliases():
        parts = alias.split(".")
        for k in range(len(parts) - 1):
            parent, here = ".".join(parts[:k]), ".".join(parts[: k + 1])
            children.setdefault(parent, set()).add(parts[k])
            children.setdefault(here, set())
            modules.setdefault(here, [])
        fparent, _, flast = full.rpartition(".")
        src = "xent" + (f".{fparent}" if fparent else "")
        reexports.setdefault(".".join(parts[:-1]), []).append(f"from {src} import {flast} as {parts[-1]}")
    out = {}
    for ns in sorted(modules):
        kids = sorted(children.get(ns, ()))
        imports = f"from . import {', '.join(f'{k} as {k}' for k in kids)}" if kids else ""
        if reexports.get(ns):
            imports = "\n".join(([imports] if imports else []) + sorted(reexports[ns]))
        if ns == "":
            out["__init__.pyi"] = HEADER + ROOT.format(imports=imports)
            continue
        specs = sorted(modules[ns], key=lambda s: s.short)
        head = [HEADER.rstrip("\n"), "from typing import Any, Literal", "", "from numpy.typing import ArrayLike, NDArray", ""]
        if any(s.is_class for s in specs):
            head += ["from xent._api import Loss", ""]
        if imports:
            head += [imports, ""]
        body = [_class(s) if s.is_class else _function(s) for s in specs]
        text = "\n".join(head) + "\n" + "\n".join(body)
        out[str(Path(*ns.split(".")) / "__init__.pyi")] = text.rstrip("\n") + "\n"
    return out


def write(directory: Path) -> list:
    """Write the stubs under ``directory`` (the package's source directory), removing
    generated stubs of namespaces that are gone. Returns the paths written."""
    directory = Path(directory)
    stubs = render()
    for old in directory.rglob("*.pyi"):
        rel = str(old.relative_to(directory))
        if rel not in stubs and old.read_text().startswith(HEADER):
            old.unlink()
    written = []
    for rel, text in stubs.items():
        p = directory / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    return written

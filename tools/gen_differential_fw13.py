"""Differential cases for issue 13's frameworks, computed by the real libraries:
jax/jaxlib 0.10.2 + optax 0.2.8 (CPU), onnx 1.23.2 + onnxruntime 1.32.0 (CPU execution
provider), scikit-learn 1.9.1 (numpy 2.4), in the golden format of shared/tools/conform.py.

Every float32 case carries truth64: the same library call on float64 copies of the
inputs (JAX runs with x64 off unless an input is float64, as JAX users run it; one_hot
is asked for float32, its x64-off default). An op with several outputs
(onnx.SoftmaxCrossEntropyLoss) has its first under "output", the others under
"outputs". Exceptions become error cases.

usage: /work/venv13/bin/python tools/gen_differential_fw13.py SEED OUT.jsonl
tests/golden/generated/fw13.jsonl was made with seed 13.
"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
import jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
import optax
import onnx, onnxruntime as ort
from onnx import helper, TensorProto
from sklearn.metrics import log_loss

rng = np.random.default_rng(int(sys.argv[1]))
cases = []
NAMES = {np.float16: "float16", np.float32: "float32", np.float64: "float64", np.int32: "int32", np.int64: "int64", np.bool_: "bool", np.uint8: "uint8"}


def enc(a):
    a = np.asarray(a)
    dt = NAMES[a.dtype.type]
    fl = dt.startswith("float")
    conv = (lambda v: ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")) if not np.isfinite(v) else float(v)) if fl else (bool if dt == "bool" else int)
    return {"dtype": dt, "shape": list(a.shape), "data": [conv(v) for v in a.ravel()]}


def add(id, op, params, inputs, grad, fn, tol=None, extra=None):
    """fn(inputs) -> (output, {grad name: array}, {other output name: array})."""
    c = {"id": id, "op": op, "params": params, "inputs": {k: enc(v) for k, v in inputs.items()}}
    if tol is None and op.startswith("sklearn.") and any(np.asarray(v).dtype == np.float16 for k, v in inputs.items() if k in ("y_proba", "y_pred")):
        # scikit-learn computes float16 probabilities in float16 (clip at float16's eps):
        # the float64 truth is no substitute. (float32 ones are matched bit for bit,
        # NumPy's float32 log included; the float64 tolerance applies.)
        tol = {"rtol": 2e-3, "atol": 0.0}
    try:
        out, grads, outs = fn(inputs)
        c.update({"grad": grad, "output": enc(out), "grads": {k: enc(v) for k, v in grads.items()}, "truth64": None})
        if outs:
            c["outputs"] = {k: enc(v) for k, v in outs.items()}
        if any(np.asarray(v).dtype in (np.float32, np.float16) for v in inputs.values()):
            i64 = {k: (np.asarray(v).astype(np.float64) if np.asarray(v).dtype.kind == "f" else v) for k, v in inputs.items()}
            try:
                o64, g64, os64 = fn(i64)
                t = {"output": enc(np.asarray(o64, np.float64)), "grads": {k: enc(np.asarray(v, np.float64)) for k, v in g64.items()}}
                if os64:
                    t["outputs"] = {k: enc(np.asarray(v, np.float64)) for k, v in os64.items()}
                c["truth64"] = t
            except Exception:
                pass
        if tol:
            c["tol"] = tol
    except Exception as e:
        c.update({"grad": [], "error": type(e).__name__ + ": " + str(e)[:200]})
    cases.append(c)


def jrun(f, wrt):
    def run(inputs):
        # x64 off unless the inputs are float64 (JAX's default configuration).
        low = not any(np.asarray(v).dtype == np.float64 for v in inputs.values())
        with jax.enable_x64(not low):
            ins = {k: jnp.asarray(v) for k, v in inputs.items()}
            out = f(**ins)
            grads = {}
            if wrt:
                g = jax.grad(lambda a: jnp.sum(f(**{**ins, wrt: a})))(ins[wrt])
                grads[wrt] = np.asarray(g)
            return np.asarray(out), grads, None
    return run


def dt():
    return rng.choice([np.float32, np.float64])


def shape(lo=1, hi=4):
    r = int(rng.integers(lo, hi))
    return tuple(int(x) for x in rng.integers(1, 5, size=r))


def logits(s, d):
    return (rng.standard_normal(s) * 3).astype(d)


def probs(s, d, axis=-1):
    p = rng.random(s) + 0.05
    return (p / p.sum(axis=axis, keepdims=True)).astype(d)


n = 0
# ------------------------------------------------------------------ jax.nn softmax family
for it in range(16):
    d = dt(); s = shape()
    ax = int(rng.integers(-len(s), len(s)))
    x = logits(s, d)
    inputs = {"x": x}
    if it % 2:
        ws = s if it % 4 == 1 else s[-1:]
        inputs["where"] = rng.random(ws) < 0.7
    for op, f in [("jax.nn.softmax", jax.nn.softmax), ("jax.nn.log_softmax", jax.nn.log_softmax)]:
        fn = (lambda f, ax: (lambda x, where=None: f(x, axis=ax, where=where)))(f, ax)
        add(f"jsm{n}", op, {"axis": ax}, inputs, ["x"], jrun(fn, "x")); n += 1
NF = np.array([[0.0, 1.0, -np.inf], [-np.inf, -np.inf, -np.inf], [np.inf, 1.0, 2.0], [np.nan, 1.0, 2.0], [np.inf, np.inf, 0.0], [1e30, -1e30, 0.0]], np.float32)
for op, f in [("jax.nn.softmax", jax.nn.softmax), ("jax.nn.log_softmax", jax.nn.log_softmax)]:
    for d in [np.float32, np.float64]:
        add(f"jsmnf{n}", op, {}, {"x": NF.astype(d)}, ["x"], jrun(lambda x, f=f: f(x), "x")); n += 1
        w = np.array([[True, True, False], [True, False, False], [False, False, False], [True, True, True], [False, True, True], [True, True, True]])
        add(f"jsmnfw{n}", op, {}, {"x": NF.astype(d), "where": w}, ["x"], jrun(lambda x, where, f=f: f(x, where=where), "x")); n += 1
    for s in [(0, 3), (2, 0), (0,)]:
        add(f"jsme{n}", op, {}, {"x": np.zeros(s, np.float32)}, ["x"], jrun(lambda x, f=f: f(x), "x")); n += 1
    add(f"jsmx{n}", op, {"axis": 2}, {"x": np.zeros((2, 3), np.float32)}, [], jrun(lambda x, f=f: f(x, axis=2), None)); n += 1
    add(f"jsmx{n}", op, {}, {"x": np.zeros((2, 3), np.float32), "where": np.ones((2, 2), bool)}, [],
        jrun(lambda x, where, f=f: f(x, where=where), None)); n += 1
# subnormals: XLA flushes
sub = np.array([[1e-40, 0.0, -1e-39], [0.0, -100.0, -103.5]], np.float32)
add(f"jsmftz{n}", "jax.nn.softmax", {}, {"x": sub}, ["x"], jrun(lambda x: jax.nn.softmax(x), "x"), tol={"rtol": 1e-6, "atol": 0.0}); n += 1
add(f"jsmftz{n}", "jax.nn.softmax", {}, {"x": np.array([0.0, -720.0, -740.0])}, ["x"], jrun(lambda x: jax.nn.softmax(x), "x"), tol={"rtol": 1e-12, "atol": 0.0}); n += 1
# sigmoid, log_sigmoid
for d in [np.float32, np.float64]:
    x = np.concatenate([logits((7,), d), np.array([0.0, 1e-3, -1e-3, 20, -20, 40, -40, 90, -90, 800, -800, np.inf, -np.inf, np.nan], d)]).astype(d)
    for op, f in [("jax.nn.sigmoid", jax.nn.sigmoid), ("jax.nn.log_sigmoid", jax.nn.log_sigmoid)]:
        add(f"jsig{n}", op, {}, {"x": x}, ["x"], jrun(lambda x, f=f: f(x), "x")); n += 1
        add(f"jsig{n}", op, {}, {"x": logits((2, 3), d)}, ["x"], jrun(lambda x, f=f: f(x), "x")); n += 1
        add(f"jsige{n}", op, {}, {"x": np.zeros((0, 2), d)}, ["x"], jrun(lambda x, f=f: f(x), "x")); n += 1
# one_hot
for it, (x, nc, ax) in enumerate([
        (np.array([0, 2, 1, 3], np.int32), 4, -1), (np.array([[0, -1], [4, 5]], np.int64), 4, -1), (np.array([[0, 1], [2, -3]], np.int32), 3, 0),
        (np.array([[0, 1], [2, 1]], np.int32), 3, 1), (np.array([1, 2], np.int32), 3, -2), (np.array([0.0, 1.0, 1.5, 2.0, -1.0], np.float32), 3, -1),
        (np.zeros((0,), np.int32), 3, -1), (np.array([1, 2], np.int32), 0, -1), (np.array([1, 2], np.int32), 3, 2), (np.array([1, 2], np.int32), 3, -3)]):
    add(f"joh{n}", "jax.nn.one_hot", {"num_classes": nc, "axis": ax}, {"x": x}, [],
        (lambda nc, ax: (lambda i: (np.asarray(jax.nn.one_hot(jnp.asarray(i["x"]), nc, axis=ax, dtype=jnp.float32)), {}, None)))(nc, ax)); n += 1
# logsumexp
for it in range(10):
    d = dt(); s = shape()
    ax = None if it % 3 == 0 else int(rng.integers(-len(s), len(s)))
    kd = bool(it % 2)
    p = {"keepdims": kd}
    if ax is not None:
        p["axis"] = ax
    add(f"jlse{n}", "jax.nn.logsumexp", p, {"a": logits(s, d)}, ["a"], jrun(lambda a, ax=ax, kd=kd: jax.nn.logsumexp(a, axis=ax, keepdims=kd), "a")); n += 1
for d in [np.float32, np.float64]:
    add(f"jlsenf{n}", "jax.nn.logsumexp", {"axis": -1}, {"a": NF.astype(d)}, ["a"], jrun(lambda a: jax.nn.logsumexp(a, axis=-1), "a")); n += 1
    add(f"jlsee{n}", "jax.nn.logsumexp", {"axis": 1}, {"a": np.zeros((2, 0), d)}, ["a"], jrun(lambda a: jax.nn.logsumexp(a, axis=1), "a")); n += 1
    add(f"jlsee{n}", "jax.nn.logsumexp", {"axis": 0}, {"a": np.zeros((0, 2), d)}, ["a"], jrun(lambda a: jax.nn.logsumexp(a, axis=0), "a")); n += 1
add(f"jlsex{n}", "jax.nn.logsumexp", {"axis": 3}, {"a": np.zeros((2, 2), np.float32)}, [], jrun(lambda a: jax.nn.logsumexp(a, axis=3), None)); n += 1
add(f"jlsea{n}", "jax.scipy.special.logsumexp", {"axis": 0}, {"a": logits((3, 2), np.float32)}, ["a"], jrun(lambda a: jax.nn.logsumexp(a, axis=0), "a")); n += 1

# ------------------------------------------------------------------ optax softmax CE
for it in range(16):
    d = dt(); s = shape(2)
    ax = int(rng.integers(-len(s), len(s)))
    x = logits(s, d)
    t = probs(s, d, axis=ax)
    inputs = {"logits": x, "labels": t}
    if it % 3 == 1:
        inputs["where"] = rng.random(s) < 0.7
    elif it % 3 == 2:
        inputs["where"] = rng.random(tuple(v for i, v in enumerate(s) if i != ax % len(s))) < 0.7
    op = "optax.losses.softmax_cross_entropy" if it % 5 else "optax.softmax_cross_entropy"
    fn = (lambda ax: (lambda logits, labels, where=None: optax.losses.softmax_cross_entropy(logits, labels, axis=ax, where=where)))(ax)
    add(f"osce{n}", op, {"axis": ax}, inputs, ["logits"], jrun(fn, "logits")); n += 1
for d in [np.float32, np.float64]:
    t = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], d)
    add(f"oscenf{n}", "optax.losses.softmax_cross_entropy", {}, {"logits": NF.astype(d), "labels": t}, ["logits"],
        jrun(lambda logits, labels: optax.losses.softmax_cross_entropy(logits, labels), "logits")); n += 1
    w = np.array([[True, True, False], [True, True, True], [False, False, False], [True, True, True], [False, True, True], [True, True, True]])
    add(f"oscenfw{n}", "optax.losses.softmax_cross_entropy", {}, {"logits": NF.astype(d), "labels": t, "where": w}, ["logits"],
        jrun(lambda logits, labels, where: optax.losses.softmax_cross_entropy(logits, labels, where=where), "logits")); n += 1
    add(f"oscee{n}", "optax.losses.softmax_cross_entropy", {}, {"logits": np.zeros((0, 3), d), "labels": np.zeros((0, 3), d)}, ["logits"],
        jrun(lambda logits, labels: optax.losses.softmax_cross_entropy(logits, labels), "logits")); n += 1
add(f"oscex{n}", "optax.losses.softmax_cross_entropy", {}, {"logits": np.zeros((2, 3), np.float32), "labels": np.zeros((2, 4), np.float32)}, [],
    jrun(lambda logits, labels: optax.losses.softmax_cross_entropy(logits, labels), None)); n += 1
add(f"oscex{n}", "optax.losses.softmax_cross_entropy", {"axis": 2}, {"logits": np.zeros((2, 3), np.float32), "labels": np.zeros((2, 3), np.float32)}, [],
    jrun(lambda logits, labels: optax.losses.softmax_cross_entropy(logits, labels, axis=2), None)); n += 1
# integer labels: wrap, out of range (NaN loss, finite gradient), where, axis
for it in range(16):
    d = dt(); s = shape(2)
    ax = int(rng.integers(-len(s), len(s)))
    C = s[ax]
    rs = tuple(v for i, v in enumerate(s) if i != ax % len(s))
    lo, hi = (-C, C) if it % 4 else (-C - 2, C + 2)
    y = rng.integers(lo, hi, size=rs).astype(rng.choice([np.int32, np.int64]))
    inputs = {"logits": logits(s, d), "labels": y}
    if it % 3 == 1:
        inputs["where"] = rng.random(s) < 0.6
    elif it % 3 == 2:
        inputs["where"] = rng.random(rs) < 0.6
    op = "optax.losses.softmax_cross_entropy_with_integer_labels" if it % 5 else "optax.softmax_cross_entropy_with_integer_labels"
    fn = (lambda ax: (lambda logits, labels, where=None: optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels, axis=ax, where=where)))(ax)
    add(f"oscei{n}", op, {"axis": ax}, inputs, ["logits"], jrun(fn, "logits")); n += 1
F_INT = lambda logits, labels, where=None: optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels, where=where)
for d in [np.float32, np.float64]:
    add(f"osceinf{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": NF.astype(d), "labels": np.array([0, 1, 2, 1, 0, 1], np.int32)}, ["logits"], jrun(F_INT, "logits")); n += 1
    add(f"osceinf{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": NF.astype(d), "labels": np.array([2, 0, 1, 0, 2, 0], np.int64)}, ["logits"], jrun(F_INT, "logits")); n += 1
    add(f"oscoor{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": logits((5, 3), d), "labels": np.array([3, -4, 100, -1, -3], np.int32)}, ["logits"], jrun(F_INT, "logits")); n += 1
    add(f"oscei_all_masked{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {},
        {"logits": logits((3, 4), d), "labels": np.array([1, 7, 2], np.int32), "where": np.array([[False] * 4, [False] * 4, [True, False, True, False]])}, ["logits"], jrun(F_INT, "logits")); n += 1
    add(f"oscei_e{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": np.zeros((0, 3), d), "labels": np.zeros((0,), np.int32)}, ["logits"], jrun(F_INT, "logits")); n += 1
add(f"osceix{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": np.zeros((2, 3), np.float32), "labels": np.array([0.0, 1.0], np.float32)}, [], jrun(F_INT, None)); n += 1
add(f"osceix{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": np.zeros((2, 3), np.float32), "labels": np.array([0, 1, 2], np.int32)}, [], jrun(F_INT, None)); n += 1
add(f"osceix{n}", "optax.losses.softmax_cross_entropy_with_integer_labels", {}, {"logits": np.zeros((2, 3), np.int32), "labels": np.array([0, 1], np.int32)}, [], jrun(F_INT, None)); n += 1


# ------------------------------------------------------------------ the rest of optax.losses
O = optax.losses
for it in range(8):
    d = dt(); s = shape(1)
    x = logits(s, d); t = probs(s, d)
    if it % 2:
        x.ravel()[0] = -np.inf; t.ravel()[0] = 0.0
    add(f"osafe{n}", "optax.losses.safe_softmax_cross_entropy" if it % 3 else "optax.safe_softmax_cross_entropy", {}, {"logits": x, "labels": t}, ["logits"],
        jrun(lambda logits, labels: O.safe_softmax_cross_entropy(logits, labels), "logits")); n += 1
    z = (rng.random(s) < 0.5).astype(d) if it % 2 else rng.random(s).astype(d)
    add(f"osbce{n}", "optax.losses.sigmoid_binary_cross_entropy" if it % 3 else "optax.sigmoid_binary_cross_entropy", {}, {"logits": logits(s, d), "labels": z}, ["logits"],
        jrun(lambda logits, labels: O.sigmoid_binary_cross_entropy(logits, labels), "logits")); n += 1
    alpha = [None, 0.25, 0.8][it % 3]
    gamma = [2.0, 0.0, 1.5, 3.0][it % 4]
    p = {"gamma": gamma}
    if alpha is not None:
        p["alpha"] = alpha
    add(f"ofocal{n}", "optax.losses.sigmoid_focal_loss" if it % 3 else "optax.sigmoid_focal_loss", p, {"logits": logits(s, d), "labels": z}, ["logits"],
        jrun(lambda logits, labels, alpha=alpha, gamma=gamma: O.sigmoid_focal_loss(logits, labels, alpha=alpha, gamma=gamma), "logits")); n += 1
XS = np.array([0.0, 3.0, -3.0, 30.0, -30.0, 100.0, -100.0, np.inf, -np.inf, np.nan], np.float32)
ZS = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.5], np.float32)
for d in [np.float32, np.float64]:
    add(f"osbcenf{n}", "optax.losses.sigmoid_binary_cross_entropy", {}, {"logits": XS.astype(d), "labels": ZS.astype(d)}, ["logits"],
        jrun(lambda logits, labels: O.sigmoid_binary_cross_entropy(logits, labels), "logits")); n += 1
    add(f"osbcenf{n}", "optax.losses.sigmoid_binary_cross_entropy", {}, {"logits": XS.astype(d), "labels": (1 - ZS).astype(d)}, ["logits"],
        jrun(lambda logits, labels: O.sigmoid_binary_cross_entropy(logits, labels), "logits")); n += 1
    for alpha in [None, 0.25]:
        p = {} if alpha is None else {"alpha": alpha}
        add(f"ofocalnf{n}", "optax.losses.sigmoid_focal_loss", p, {"logits": XS.astype(d), "labels": ZS.astype(d)}, ["logits"],
            jrun(lambda logits, labels, alpha=alpha: O.sigmoid_focal_loss(logits, labels, alpha=alpha), "logits")); n += 1
    add(f"osafenf{n}", "optax.losses.safe_softmax_cross_entropy", {}, {"logits": NF.astype(d), "labels": np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], d)}, ["logits"],
        jrun(lambda logits, labels: O.safe_softmax_cross_entropy(logits, labels), "logits")); n += 1
add(f"osbcei{n}", "optax.losses.sigmoid_binary_cross_entropy", {}, {"logits": logits((2, 3), np.float32), "labels": np.array([[0, 1, 1], [1, 0, 0]], np.int32)}, ["logits"],
    jrun(lambda logits, labels: O.sigmoid_binary_cross_entropy(logits, labels), "logits")); n += 1
add(f"osbcex{n}", "optax.losses.sigmoid_binary_cross_entropy", {}, {"logits": np.zeros((2, 3), np.float32), "labels": np.zeros((3, 2), np.float32)}, [],
    jrun(lambda logits, labels: O.sigmoid_binary_cross_entropy(logits, labels), None)); n += 1
for it in range(10):
    d = dt(); s = shape(2)
    ax = int(rng.integers(-len(s), len(s)))
    inputs = {"logits": logits(s, d), "labels": probs(s, d, axis=ax)}
    if it % 2:
        inputs["where"] = rng.random(s) < 0.7
    eps = [2.0, 1.0, -0.5][it % 3]
    add(f"opoly{n}", "optax.losses.poly_loss_cross_entropy", {"epsilon": eps, "axis": ax}, inputs, ["logits"],
        jrun(lambda logits, labels, where=None, eps=eps, ax=ax: O.poly_loss_cross_entropy(logits, labels, epsilon=eps, axis=ax, where=where), "logits")); n += 1
for d in [np.float32, np.float64]:
    add(f"opolynf{n}", "optax.losses.poly_loss_cross_entropy", {}, {"logits": NF.astype(d), "labels": np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], d)}, ["logits"],
        jrun(lambda logits, labels: O.poly_loss_cross_entropy(logits, labels), "logits")); n += 1
KLS = [("optax.losses.kl_divergence", "targets", O.kl_divergence, False), ("optax.losses.convex_kl_divergence", "targets", O.convex_kl_divergence, False),
       ("optax.losses.kl_divergence_with_log_targets", "log_targets", O.kl_divergence_with_log_targets, True)]
for it in range(15):
    d = dt(); s = shape(1)
    op, tn, f, logt = KLS[it % 3]
    ax = None if it % 5 == 4 else int(rng.integers(-len(s), len(s)))
    lp = np.log(probs(s, d)).astype(d)
    t = probs(s, d)
    if not logt and it % 2:
        t.ravel()[0] = 0.0
    if logt:
        t = np.log(t).astype(d)
    inputs = {"log_predictions": lp, tn: t}
    if it % 4 == 1:
        inputs["where"] = rng.random(s) < 0.7
    p = {"axis": ax}
    if it == 0:
        op = "optax.kl_divergence"
    add(f"okl{n}", op, p, inputs, ["log_predictions"],
        (lambda f, tn, ax: jrun(lambda log_predictions, where=None, **kw: f(log_predictions, kw[tn], axis=ax, where=where), "log_predictions"))(f, tn, ax)); n += 1
for op, tn, f, logt in KLS:
    lp = np.array([0.0, -np.inf, -np.inf, np.nan, -1.0, np.inf], np.float32)
    t = np.array([0.5, 0.0, 0.5, 0.1, 0.0, 0.2], np.float32)
    if logt:
        t = np.array([-1.0, -np.inf, 0.0, -2.0, np.inf, -1.0], np.float32)
    add(f"oklnf{n}", op, {"axis": None}, {"log_predictions": lp, tn: t}, ["log_predictions"],
        (lambda f, tn: jrun(lambda log_predictions, **kw: f(log_predictions, kw[tn], axis=None), "log_predictions"))(f, tn)); n += 1
add(f"oklx{n}", "optax.losses.kl_divergence", {}, {"log_predictions": np.zeros((2, 3), np.float32), "targets": np.zeros((2, 3), np.int32)}, [],
    jrun(lambda log_predictions, targets: O.kl_divergence(log_predictions, targets), None)); n += 1
for it in range(8):
    d = dt(); s = shape(1)
    ax = int(rng.integers(-len(s), len(s)))
    alpha = [0.1, 0.0, 0.5, 1.0][it % 4]
    inputs = {"labels": probs(s, d, axis=ax)}
    if it % 2:
        inputs["where"] = rng.random(s) < 0.7
    add(f"osmooth{n}", "optax.losses.smooth_labels" if it % 3 else "optax.smooth_labels", {"alpha": alpha, "axis": ax}, inputs, ["labels"],
        jrun(lambda labels, where=None, alpha=alpha, ax=ax: O.smooth_labels(labels, alpha, axis=ax, where=where), "labels")); n += 1
add(f"osmoothx{n}", "optax.losses.smooth_labels", {"alpha": 0.1}, {"labels": np.array([1, 0, 0], np.int32)}, [],
    jrun(lambda labels: O.smooth_labels(labels, 0.1), None)); n += 1

# ------------------------------------------------------------------ ONNX Runtime
def onnx_run(opname, in_names, out_names, attrs, opset=13):
    def run(inputs):
        TT = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE, np.float16: TensorProto.FLOAT16, np.int64: TensorProto.INT64, np.int32: TensorProto.INT32}
        node = helper.make_node(opname, [k for k in in_names if k in inputs] if opname != "Sigmoid" else ["X"], out_names, **attrs)
        vi = [helper.make_tensor_value_info(k, TT[np.asarray(inputs[k]).dtype.type], None) for k in in_names if k in inputs]
        xt = TT[np.asarray(inputs[in_names[0]]).dtype.type]
        g = helper.make_graph([node], "g", vi, [helper.make_tensor_value_info(o, xt, None) for o in out_names])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
        res = s.run(None, {k: np.asarray(inputs[k]) for k in in_names if k in inputs})
        return res[0], {}, ({n_: r for n_, r in zip(out_names[1:], res[1:])} or None)
    return run


def sce_params(red, ii):
    p = {"reduction": red}
    a = {"reduction": red}
    if ii is not None:
        p["ignore_index"] = ii
        a["ignore_index"] = ii
    return p, a


for it in range(24):
    d = dt(); N = int(rng.integers(1, 5)); C = int(rng.integers(2, 5))
    K = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    x = logits((N, C) + K, d)
    ii = [None, -100, -1, 1][it % 4]
    y = rng.integers(-C, C, size=(N,) + K).astype(rng.choice([np.int32, np.int64]))
    if ii is not None and rng.random() < 0.5:
        y.ravel()[0] = ii
    red = ["mean", "sum", "none"][it % 3]
    p, a = sce_params(red, ii)
    inputs = {"scores": x, "labels": y}
    if it % 2:
        inputs["weights"] = (rng.random(C) + 0.2).astype(d)
    add(f"osce_x{n}", "onnx.SoftmaxCrossEntropyLoss", p, inputs, [], onnx_run("SoftmaxCrossEntropyLoss", ["scores", "labels", "weights"], ["output", "log_prob"], a)); n += 1
    nin = {"input": np.log(probs((N, C) + K, d, axis=1)).astype(d), "target": y}
    if "weights" in inputs:
        nin["weight"] = inputs["weights"]
    add(f"onll{n}", "onnx.NegativeLogLikelihoodLoss", p, nin, [], onnx_run("NegativeLogLikelihoodLoss", ["input", "target", "weight"], ["loss"], a)); n += 1
SCE = lambda a: onnx_run("SoftmaxCrossEntropyLoss", ["scores", "labels", "weights"], ["output", "log_prob"], a)
NLL = lambda a: onnx_run("NegativeLogLikelihoodLoss", ["input", "target", "weight"], ["loss"], a)
x23 = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]], np.float32)
for y, ii in [([3, 0], None), ([-4, 0], None), ([-100, 0], None), ([-100, -100], -100), ([-1, -1], -1), ([0, 2], 5)]:
    for red in ["mean", "none"]:
        p, a = sce_params(red, ii)
        add(f"osce_lab{n}", "onnx.SoftmaxCrossEntropyLoss", p, {"scores": x23, "labels": np.array(y, np.int64)}, [], SCE(a)); n += 1
        add(f"onll_lab{n}", "onnx.NegativeLogLikelihoodLoss", p, {"input": x23, "target": np.array(y, np.int64)}, [], NLL(a)); n += 1
p, a = sce_params("mean", None)
add(f"osce_w0{n}", "onnx.SoftmaxCrossEntropyLoss", p, {"scores": x23, "labels": np.array([0, 2], np.int64), "weights": np.array([0.0, 1.0, 0.0], np.float32)}, [], SCE(a)); n += 1
for red in ["mean", "sum", "none"]:
    p, a = sce_params(red, None)
    add(f"osce_nf{n}", "onnx.SoftmaxCrossEntropyLoss", p, {"scores": NF, "labels": np.array([0, 1, 2, 1, 0, 2], np.int64)}, [], SCE(a)); n += 1
    add(f"osce_nf{n}", "onnx.SoftmaxCrossEntropyLoss", p, {"scores": NF[:1].astype(np.float64), "labels": np.array([0], np.int64)}, [], SCE(a)); n += 1
    for s in [(0, 3), (2, 0), (2, 3, 0)]:
        ys = (s[0],) + s[2:]
        add(f"osce_e{n}", "onnx.SoftmaxCrossEntropyLoss", p, {"scores": np.zeros(s, np.float32), "labels": np.zeros(ys, np.int64)}, [], SCE(a)); n += 1
add(f"osce_sh{n}", "onnx.SoftmaxCrossEntropyLoss", {}, {"scores": x23, "labels": np.array([0, 1, 2], np.int64)}, [], SCE({})); n += 1
add(f"osce_sh{n}", "onnx.SoftmaxCrossEntropyLoss", {}, {"scores": x23, "labels": np.array([0, 1], np.int64), "weights": np.ones(2, np.float32)}, [], SCE({})); n += 1
# Softmax / LogSoftmax at opsets 13, 11, 1
for it in range(14):
    d = dt(); s = shape(1, 5)
    opset = [13, 11, 1][it % 3]
    r = len(s)
    ax = None if it % 4 == 0 else (int(rng.integers(-r, r)) if opset != 1 else int(rng.integers(0, r)))
    p = {"opset": opset}
    a = {}
    if ax is not None:
        p["axis"] = ax
        a["axis"] = ax
    for opn in ["Softmax", "LogSoftmax"]:
        add(f"osm{n}", f"onnx.{opn}", p, {"input": logits(s, d)}, [], onnx_run(opn, ["input"], ["output"], a, opset)); n += 1
for opn in ["Softmax", "LogSoftmax"]:
    for d in [np.float32, np.float64]:
        add(f"osmnf{n}", f"onnx.{opn}", {}, {"input": NF.astype(d)}, [], onnx_run(opn, ["input"], ["output"], {}, 13)); n += 1
    add(f"osmx{n}", f"onnx.{opn}", {"axis": 2}, {"input": np.zeros((2, 3), np.float32)}, [], onnx_run(opn, ["input"], ["output"], {"axis": 2}, 13)); n += 1
    add(f"osme{n}", f"onnx.{opn}", {}, {"input": np.zeros((0, 3), np.float32)}, [], onnx_run(opn, ["input"], ["output"], {}, 13)); n += 1
for d in [np.float32, np.float64]:
    x = np.concatenate([logits((7,), d), np.array([0.0, 1e-3, 5, -5, 10, -10, 17, -17, 20, -20, 40, -40, 90, -90, np.inf, -np.inf, np.nan], d)]).astype(d)
    add(f"osig{n}", "onnx.Sigmoid", {}, {"X": x}, [], onnx_run("Sigmoid", ["X"], ["Y"], {})); n += 1

# ------------------------------------------------------------------ scikit-learn log_loss
def sk(params, yname="y_proba"):
    def run(inputs):
        kw = dict(params)
        if "sample_weight" in inputs:
            kw["sample_weight"] = inputs["sample_weight"]
        return np.float64(log_loss(inputs["y_true"], **{yname: inputs[yname]}, **kw)), {}, None
    return run


for it in range(20):
    d = dt(); N = int(rng.integers(1, 40)); C = int(rng.integers(2, 5))
    y = rng.integers(0, C, size=N).astype(rng.choice([np.int64, np.int32]))
    if it % 5 == 0:
        y = (y * 3 + 1).astype(np.int64)  # class values 1, 4, 7...
    params = {}
    if it % 4 == 1 or len(np.unique(y)) != C:
        params["labels"] = sorted({int(v) for v in (np.arange(C) * (3 if it % 5 == 0 else 1) + (1 if it % 5 == 0 else 0))})
    p = probs((N, C), d)
    if it % 6 == 2:
        p.ravel()[rng.integers(0, p.size, size=3)] = 0.0  # clipped at eps
    if C == 2 and it % 3 == 0:
        p = p[:, 1].copy()
    inputs = {"y_true": y, "y_proba": p}
    if it % 3 == 1:
        inputs["sample_weight"] = (rng.random(N) * 2).astype(rng.choice([np.float32, np.float64]))
    if it % 7 == 3:
        params["normalize"] = False
    add(f"skll{n}", "sklearn.metrics.log_loss", params, inputs, [], sk(params)); n += 1
P3 = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.0, 0.0, 1.0]], np.float32)
for d in [np.float32, np.float64]:
    for y, pr, params in [
            ([0, 1, 2], P3, {}), ([2, 2, 0], P3 * 0.9, {}), ([0, 1, 2], P3, {"labels": [2, 1, 0]}),
            ([0, 0, 0], P3[:, :2], {}), ([0, 1, 2], P3[:, :2], {}), ([0, 1, 2], P3 * 1.5, {}), ([0, 1, 3], P3, {"labels": [0, 1, 2]}),
            ([0, 1, 2], P3, {"labels": [0, 1, 2, 3]}), ([0, 1], P3, {}), ([0, 1, 2], P3 - 0.3, {}), ([0, 1, 2], np.array([[np.nan, 0.5, 0.5]] * 3), {}),
            ([0, 1, 2], np.array([[np.inf, 0.5, 0.5]] * 3), {}), ([1, 1, 1], P3[:, :2], {"labels": [0, 1]}), ([1, 1, 1], P3[:, :2], {"labels": [1]}),
            ([0, 1, 1], np.array([0.3, 0.9, 1.0]), {}), ([0, 1, 1], np.array([[0.3], [0.9], [1.0]]), {}), ([0, 1, 2], P3, {"normalize": False}),
            ([0, 1], np.array([[1.0, 0.0], [1.0, 0.0]]), {})]:
        add(f"skfix{n}", "sklearn.metrics.log_loss", params, {"y_true": np.array(y, np.int64), "y_proba": np.asarray(pr).astype(d)}, [], sk(params)); n += 1
    add(f"skw0{n}", "sklearn.metrics.log_loss", {}, {"y_true": np.array([0, 1, 2], np.int64), "y_proba": P3.astype(d), "sample_weight": np.zeros(3)}, [], sk({})); n += 1
    add(f"ske{n}", "sklearn.metrics.log_loss", {}, {"y_true": np.zeros((0,), np.int64), "y_proba": np.zeros((0, 2), d)}, [], sk({})); n += 1
    add(f"skpred{n}", "sklearn.metrics.log_loss", {}, {"y_true": np.array([0, 1, 2], np.int64), "y_pred": P3.astype(d)}, [], sk({}, "y_pred")); n += 1
    add(f"skfloaty{n}", "sklearn.metrics.log_loss", {}, {"y_true": np.array([0.0, 1.0, 1.0], d), "y_proba": np.array([0.3, 0.9, 1.0], d)}, [], sk({})); n += 1
# float16 probabilities: clipped at float16's eps, computed in float16
add(f"skf16{n}", "sklearn.metrics.log_loss", {}, {"y_true": np.array([0, 1, 2], np.int64), "y_proba": P3.astype(np.float16)}, [], sk({})); n += 1

with open(sys.argv[2], "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(len(cases), "cases,", sum("error" in c for c in cases), "errors", file=sys.stderr)

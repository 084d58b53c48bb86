"""Differential cases for issue 12's fused linear cross-entropies, in the golden format of
shared/tools/conform.py, each float32 case with a float64 reference (truth64: the same
call on float64 copies of the inputs):

* torch.nn.functional.linear_cross_entropy (PyTorch 2.15.0, the reference path
  options=None): index and probability targets, bias, class weights, label smoothing,
  ignore_index (None, explicit, all rows ignored), the three reductions, 1-D input, and
  PyTorch's errors; values and the gradients wrt input, linear_weight, linear_bias.
* cut_cross_entropy.linear_cross_entropy (Apple's cut-cross-entropy 25.1.1,
  impl="torch_compile", which runs on CPU): softcap, shift, ignore_index, reductions,
  batch shapes; values and the gradients wrt e and c.

usage: python tools/gen_differential_lce12.py SEED OUT.jsonl
       (PyTorch 2.15 and `pip install cut-cross-entropy==25.1.1` in the same environment)
tests/golden/generated/lce12.jsonl was made with seed 12.
"""
import json, sys
import numpy as np, torch
import torch.nn.functional as F
from cut_cross_entropy import linear_cross_entropy as cce

# Every CCE case compiles its own graph (dtype, reduction, softcap, shapes): lift
# dynamo's limits, which would otherwise raise FailOnRecompileLimitHit (fullgraph=True).
torch._dynamo.config.recompile_limit = 100000
torch._dynamo.config.accumulated_recompile_limit = 100000

rng = np.random.default_rng(int(sys.argv[1]))
cases = []


def enc(a):
    a = np.asarray(a)
    dt = {np.float16: "float16", np.float32: "float32", np.float64: "float64", np.int32: "int32", np.int64: "int64"}[a.dtype.type]
    fl = dt.startswith("float")
    data = [(("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")) if (fl and not np.isfinite(v)) else (float(v) if fl else int(v))) for v in a.ravel()]
    return {"dtype": dt, "shape": list(a.shape), "data": data}


def run(f, inputs, wrts):
    """f(**tensors) -> loss; the output and the gradients of sum(output) wrt each of wrts."""
    ts = {k: torch.tensor(v, requires_grad=(k in wrts)) for k, v in inputs.items()}
    out = f(**ts)
    grads = {}
    if wrts:
        out.sum().backward()
        grads = {k: ts[k].grad.numpy() for k in wrts}
    return out.detach().numpy(), grads


def add(id, op, params, inputs, wrts, f):
    c = {"id": id, "op": op, "params": params, "inputs": {k: enc(v) for k, v in inputs.items()}}
    try:
        out, grads = run(f, inputs, wrts)
        c.update({"grad": wrts, "output": enc(out), "grads": {k: enc(v) for k, v in grads.items()}, "truth64": None})
        if any(v.dtype == np.float32 for v in inputs.values()):
            i64 = {k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in inputs.items()}
            o64, g64 = run(f, i64, wrts)
            c["truth64"] = {"output": enc(np.asarray(o64, np.float64)), "grads": {k: enc(np.asarray(v, np.float64)) for k, v in g64.items()}}
    except Exception as e:
        if "dynamo" in type(e).__module__ or "Recompile" in type(e).__name__:
            raise  # a tool failure, not the framework's answer
        c.update({"grad": [], "error": type(e).__name__ + ": " + str(e)[:200]})
    cases.append(c)


def lce(params):
    p = dict(params)

    def f(input, linear_weight, target, linear_bias=None, weight=None):
        return F.linear_cross_entropy(input, linear_weight, target, linear_bias=linear_bias, weight=weight, **p)
    return f


n = 0
# ---------------------------------------------------------------- torch linear_cross_entropy
for it in range(40):
    d = [np.float32, np.float64][it % 2]
    N, D, C = int(rng.integers(1, 9)), int(rng.integers(1, 7)), int(rng.integers(2, 13))
    x = (rng.standard_normal((N, D)) * 1.5).astype(d)
    w = rng.standard_normal((C, D)).astype(d)
    probs = rng.random() < 0.3
    params = {"reduction": ["none", "mean", "sum"][int(rng.integers(0, 3))]}
    if rng.random() < 0.5:
        params["label_smoothing"] = float(rng.choice([0.1, 0.3, 1.0]))
    inputs = {"input": x, "linear_weight": w}
    if probs:
        t = rng.random((N, C)) + 0.05
        inputs["target"] = (t / t.sum(-1, keepdims=True)).astype(d)
    else:
        y = rng.integers(0, C, N).astype(np.int64)
        if rng.random() < 0.5:
            ig = int(rng.choice([-100, 1, -1]))
            params["ignore_index"] = ig
            y[rng.random(N) < 0.3] = ig
        else:
            y[rng.random(N) < 0.3] = -100
        inputs["target"] = y
    wrts = ["input", "linear_weight"]
    if rng.random() < 0.5:
        inputs["linear_bias"] = rng.standard_normal(C).astype(d)
        wrts.append("linear_bias")
    if rng.random() < 0.4:
        inputs["weight"] = (rng.random(C) + 0.1).astype(d)
    add(f"lce{n}", "torch.nn.functional.linear_cross_entropy", params, inputs, wrts, lce(params)); n += 1

# 1-D input: a 0-d index target or a (C) probability target
for it, probs in enumerate([False, True, False]):
    d = np.float32
    D, C = 4, 6
    inputs = {"input": rng.standard_normal(D).astype(d), "linear_weight": rng.standard_normal((C, D)).astype(d),
              "linear_bias": rng.standard_normal(C).astype(d)}
    if probs:
        t = rng.random(C) + 0.1
        inputs["target"] = (t / t.sum()).astype(d)
    else:
        inputs["target"] = np.array(3, np.int64)
    params = {"reduction": "none" if it == 0 else "mean", "label_smoothing": 0.2}
    add(f"lce1d{n}", "torch.nn.functional.linear_cross_entropy", params, inputs, ["input", "linear_weight", "linear_bias"], lce(params)); n += 1

# every row ignored: the mean is NaN, the gradients 0 or NaN as PyTorch gives them
for red in ["mean", "sum", "none"]:
    inputs = {"input": rng.standard_normal((3, 2)), "linear_weight": rng.standard_normal((4, 2)), "target": np.full(3, -100, np.int64)}
    params = {"reduction": red}
    add(f"lceig{n}", "torch.nn.functional.linear_cross_entropy", params, inputs, ["input", "linear_weight"], lce(params)); n += 1

# larger values: logits of magnitude ~50
inputs = {"input": (rng.standard_normal((6, 8)) * 5).astype(np.float32), "linear_weight": (rng.standard_normal((40, 8)) * 2).astype(np.float32),
          "target": rng.integers(0, 40, 6).astype(np.int64)}
add(f"lcebig{n}", "torch.nn.functional.linear_cross_entropy", {}, inputs, ["input", "linear_weight"], lce({})); n += 1

# PyTorch's errors
E = np.float32
errs = [
    ({"input": np.zeros((2, 3, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.zeros((2, 3), np.int64)}, {}),  # rank 3
    ({"input": np.zeros((2, 3), E), "linear_weight": np.zeros((5, 4), E), "target": np.zeros(2, np.int64)}, {}),  # in_features
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.zeros(2, np.int64), "linear_bias": np.zeros(4, E)}, {}),
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros(4, E), "target": np.zeros(2, np.int64)}, {}),  # weight rank 1
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.full((2, 5), 0.2, E)}, {"ignore_index": -100}),
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.array([0, 5], np.int64)}, {}),  # label
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.array([0, 1], np.int64)}, {"label_smoothing": 1.5}),
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.array([0, 1, 2], np.int64)}, {}),  # batch
    ({"input": np.zeros((2, 4), E), "linear_weight": np.zeros((5, 4), E), "target": np.array([0, 1], np.int64), "weight": np.ones(4, E)}, {}),
]
for inputs, params in errs:
    add(f"lcex{n}", "torch.nn.functional.linear_cross_entropy", params, inputs, [], lce(params)); n += 1


# ---------------------------------------------------------------- cut_cross_entropy
def cce_f(params):
    p = dict(params)

    def f(e, c, targets):
        return cce(e, c, targets, impl="torch_compile", **p)
    return f


for it in range(24):
    d = [np.float32, np.float64][it % 2]
    batch = [(int(rng.integers(1, 9)),), (int(rng.integers(1, 3)), int(rng.integers(2, 6))), (2, 2, 3)][it % 3]
    D, C = int(rng.integers(1, 7)), int(rng.integers(2, 13))
    params = {"reduction": ["none", "mean", "sum"][int(rng.integers(0, 3))], "shift": bool(rng.random() < 0.5)}
    sc = rng.random()
    if sc < 0.5:
        params["softcap"] = float(rng.choice([1.5, 4.0, 20.0]))
    ig = -100
    if rng.random() < 0.3:
        ig = 0
        params["ignore_index"] = 0
    y = rng.integers(0, C, batch).astype(np.int64)
    y[rng.random(batch) < 0.25] = ig
    inputs = {"e": (rng.standard_normal(batch + (D,)) * 1.5).astype(d), "c": rng.standard_normal((C, D)).astype(d), "targets": y}
    add(f"cce{n}", "cut_cross_entropy.linear_cross_entropy", params, inputs, ["e", "c"], cce_f(params)); n += 1
    if d == np.float64:
        # The package computes the cross-entropy in float32 whatever the input dtype
        # (`F.cross_entropy(logits.float(), ...)`); xent computes float64 in float64:
        # equal within float32 rounding.
        cases[-1]["tol"] = {"rtol": 1e-5, "atol": 1e-6}

# errors: batch shapes that differ, D that differs
add(f"ccex{n}", "cut_cross_entropy.linear_cross_entropy", {}, {"e": np.zeros((3, 4), E), "c": np.zeros((5, 4), E), "targets": np.zeros(2, np.int64)}, [],
    cce_f({})); n += 1
add(f"ccex{n}", "cut_cross_entropy.linear_cross_entropy", {}, {"e": np.zeros((3, 4), E), "c": np.zeros((5, 3), E), "targets": np.zeros(3, np.int64)}, [],
    cce_f({})); n += 1

with open(sys.argv[2], "w") as fh:
    for c in cases:
        fh.write(json.dumps(c) + "\n")
print(len(cases), "cases,", sum("error" in c for c in cases), "errors")

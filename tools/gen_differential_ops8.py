"""Differential cases for the ops and spellings of issue 8 (torch.nn.functional.kl_div,
the torch.nn loss classes, Keras' KLDivergence / BinaryFocalCrossentropy /
CategoricalFocalCrossentropy classes, and the aliases F., nn., tf.keras.losses.,
F.softmax) computed by the real PyTorch 2.15.0 / TensorFlow 2.21.0 / Keras 3.15.1, in the
golden format of shared/tools/conform.py, with a float64 reference (truth64) for every
float32 case: the same framework call on float64 copies of the inputs (Keras classes
with dtype="float64").

usage: python tools/gen_differential_ops8.py SEED OUT.jsonl
tests/golden/generated/ops8.jsonl was made with seed 8.
"""
import json, sys, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, keras, torch
import torch.nn.functional as F

rng = np.random.default_rng(int(sys.argv[1]))
cases = []


def enc(a):
    a = np.asarray(a)
    dt = {np.float16: "float16", np.float32: "float32", np.float64: "float64", np.int32: "int32", np.int64: "int64"}[a.dtype.type]
    fl = dt.startswith("float")
    data = [(("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")) if (fl and not np.isfinite(v)) else (float(v) if fl else int(v))) for v in a.ravel()]
    return {"dtype": dt, "shape": list(a.shape), "data": data}


def add(id, op, params, inputs, grad, fn):
    """fn(inputs, hi) -> (output, {grad name: array}); hi: the float64 reference run."""
    c = {"id": id, "op": op, "params": params, "inputs": {k: enc(v) for k, v in inputs.items()}}
    try:
        out, grads = fn(inputs, False)
        c.update({"grad": grad, "output": enc(out), "grads": {k: enc(v) for k, v in grads.items()}, "truth64": None})
        if any(v.dtype in (np.float32, np.float16) for v in inputs.values()):
            i64 = {k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in inputs.items()}
            o64, g64 = fn(i64, True)
            c["truth64"] = {"output": enc(np.asarray(o64, np.float64)), "grads": {k: enc(np.asarray(v, np.float64)) for k, v in g64.items()}}
    except Exception as e:
        c.update({"grad": [], "error": type(e).__name__ + ": " + str(e)[:200]})
    cases.append(c)


def thrun(f, inputs, wrt):
    ts = {k: torch.tensor(v, requires_grad=(k == wrt)) for k, v in inputs.items()}
    out = f(**ts)
    if wrt:
        out.sum().backward()
        return out.detach().numpy(), {wrt: ts[wrt].grad.numpy()}
    return out.detach().numpy(), {}


def tfrun(f, inputs, wrt):
    ts = {k: tf.Variable(v) if k == wrt else tf.constant(v) for k, v in inputs.items()}
    with tf.GradientTape() as tape:
        out = f(**ts)
        s = tf.reduce_sum(out)
    g = tape.gradient(s, ts[wrt]) if wrt else None
    return out.numpy(), ({wrt: g.numpy()} if wrt else {})


def dt():
    return rng.choice([np.float32, np.float64])


def shape(lo=1):
    r = int(rng.integers(lo, 4))
    return tuple(int(x) for x in rng.integers(1, 5, size=r))


def logits(s, d):
    return (rng.standard_normal(s) * 3).astype(d)


def probs(s, d, axis=-1):
    p = rng.random(s) + 0.05
    return (p / p.sum(axis=axis, keepdims=True)).astype(d)


n = 0
KL_OPS = [("torch.nn.functional.kl_div", lambda red, lt: (lambda input, target: F.kl_div(input, target, reduction=red, log_target=lt))),
          ("F.kl_div", lambda red, lt: (lambda input, target: F.kl_div(input, target, reduction=red, log_target=lt))),
          ("torch.nn.KLDivLoss", lambda red, lt: (lambda input, target: torch.nn.KLDivLoss(reduction=red, log_target=lt)(input, target))),
          ("nn.KLDivLoss", lambda red, lt: (lambda input, target: torch.nn.KLDivLoss(reduction=red, log_target=lt)(input, target)))]
# kl_div: shapes, reductions, log_target, zero targets, broadcasting
for it in range(14):
    d = dt(); s = shape()
    x = np.log(probs(s, d)).astype(d)
    t = probs(s, d)
    if rng.random() < 0.5:
        t.ravel()[rng.integers(0, t.size)] = 0  # xlogy: 0 where target == 0
    for red in ["none", "batchmean", "sum", "mean"]:
        for lt in [False, True]:
            op, mk = KL_OPS[int(rng.integers(0, len(KL_OPS)))]
            tt = np.log(probs(s, d)).astype(d) if lt else t
            f = mk(red, lt)
            add(f"kl{n}", op, {"reduction": red, "log_target": lt}, {"input": x, "target": tt}, ["input"],
                lambda i, hi: thrun(f, i, "input")); n += 1
# broadcasting, 0-d and empty inputs, non-finite values
for xs, ts_ in [((2, 3), (3,)), ((3,), (2, 3)), ((4, 1), (1, 3)), ((), ()), ((), (3,)), ((0, 3), (0, 3)), ((2, 0), (2, 0))]:
    d = dt()
    x = np.log(rng.random(xs) + 0.05).astype(d); t = rng.random(ts_).astype(d)
    for red in ["none", "batchmean", "sum", "mean"]:
        f = (lambda red: (lambda input, target: F.kl_div(input, target, reduction=red)))(red)
        add(f"klb{n}", "torch.nn.functional.kl_div", {"reduction": red}, {"input": x, "target": t}, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1
x = np.array([0.0, -np.inf, np.inf, np.nan, -1.0, -2.0], np.float32)
t = np.array([0.5, 0.0, 0.25, 0.1, 0.0, -0.5], np.float32)
for red in ["none", "sum"]:
    for lt in [False, True]:
        f = (lambda red, lt: (lambda input, target: F.kl_div(input, target, reduction=red, log_target=lt)))(red, lt)
        add(f"klnf{n}", "torch.nn.functional.kl_div", {"reduction": red, "log_target": lt}, {"input": x, "target": t}, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1
# errors: shapes that do not broadcast, integer target
add(f"klx{n}", "torch.nn.functional.kl_div", {}, {"input": np.zeros((2, 3), np.float32), "target": np.zeros((2, 4), np.float32)}, [],
    lambda i, hi: thrun(lambda input, target: F.kl_div(input, target), i, None)); n += 1
add(f"klx{n}", "torch.nn.KLDivLoss", {}, {"input": np.zeros((2, 3), np.float32), "target": np.ones((2, 3), np.int64)}, [],
    lambda i, hi: thrun(lambda input, target: torch.nn.KLDivLoss()(input, target), i, None)); n += 1

# torch.nn loss classes
for it in range(10):
    d = dt(); N = int(rng.integers(1, 5)); C = int(rng.integers(2, 5)); sp = tuple(int(v) for v in rng.integers(1, 3, size=rng.integers(0, 2)))
    x = logits((N, C) + sp, d)
    red = str(rng.choice(["mean", "sum", "none"])); ls = float(rng.choice([0.0, 0.1])); ig = int(rng.choice([-100, 0]))
    y = rng.integers(0, C, size=(N,) + sp).astype(np.int64)
    w = (rng.random(C) + 0.5).astype(d) if rng.random() < 0.5 else None
    ins = {"input": x, "target": y}
    if w is not None: ins["weight"] = w
    name = str(rng.choice(["torch.nn.CrossEntropyLoss", "nn.CrossEntropyLoss"]))
    f = (lambda ig, red, ls: (lambda input, target, weight=None: torch.nn.CrossEntropyLoss(weight=weight, ignore_index=ig, reduction=red, label_smoothing=ls)(input, target)))(ig, red, ls)
    add(f"CEL{n}", name, {"ignore_index": ig, "reduction": red, "label_smoothing": ls}, ins, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1
    ins2 = {"input": x, "target": probs((N, C) + sp, d, 1)}
    if w is not None: ins2["weight"] = w
    f = (lambda red, ls: (lambda input, target, weight=None: torch.nn.CrossEntropyLoss(weight=weight, reduction=red, label_smoothing=ls)(input, target)))(red, ls)
    add(f"CELp{n}", "torch.nn.CrossEntropyLoss", {"reduction": red, "label_smoothing": ls}, ins2, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1
    ins3 = {"input": torch.log_softmax(torch.tensor(x), 1).numpy(), "target": y}
    if w is not None: ins3["weight"] = w
    f = (lambda ig, red: (lambda input, target, weight=None: torch.nn.NLLLoss(weight=weight, ignore_index=ig, reduction=red)(input, target)))(ig, red)
    add(f"NLL{n}", str(rng.choice(["torch.nn.NLLLoss", "nn.NLLLoss"])), {"ignore_index": ig, "reduction": red}, ins3, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1
    pb = (rng.random(x.shape) * 0.98 + 0.01).astype(d); yb = rng.random(x.shape).astype(d)
    wb = (rng.random(x.shape[-1:]) + 0.5).astype(d) if rng.random() < 0.5 else None
    ins4 = {"input": pb, "target": yb}
    if wb is not None: ins4["weight"] = wb
    f = (lambda red: (lambda input, target, weight=None: torch.nn.BCELoss(weight=weight, reduction=red)(input, target)))(red)
    add(f"BCEL{n}", str(rng.choice(["torch.nn.BCELoss", "nn.BCELoss"])), {"reduction": red}, ins4, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1
    ins5 = {"input": x, "target": yb}
    if wb is not None: ins5["pos_weight"] = wb
    if rng.random() < 0.5: ins5["weight"] = (rng.random(x.shape[-1:]) + 0.5).astype(d)
    f = (lambda red: (lambda input, target, weight=None, pos_weight=None: torch.nn.BCEWithLogitsLoss(weight=weight, reduction=red, pos_weight=pos_weight)(input, target)))(red)
    add(f"BCEWL{n}", str(rng.choice(["torch.nn.BCEWithLogitsLoss", "nn.BCEWithLogitsLoss"])), {"reduction": red}, ins5, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1

# aliases of the activations: F.softmax / F.log_softmax / torch.nn.functional.* (dim)
for it in range(4):
    d = dt(); s = shape(); ax = int(rng.integers(-len(s), len(s))); x = logits(s, d)
    for op, fn in [("torch.nn.functional.softmax", torch.softmax), ("F.softmax", torch.softmax),
                   ("torch.nn.functional.log_softmax", torch.log_softmax), ("F.log_softmax", torch.log_softmax)]:
        f = (lambda fn, ax: (lambda input: fn(input, ax)))(fn, ax)
        add(f"al{n}", op, {"dim": ax}, {"input": x}, ["input"], lambda i, hi: thrun(f, i, "input")); n += 1

# Keras classes (computed in float32 whatever the input dtype; float64 reference with dtype="float64")
RED = ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"]
for it in range(10):
    # float32 inputs: with float64 ones Keras still computes in float32 and casts the
    # gradient back to float64, which the float64 tolerance cannot compare.
    N = int(rng.integers(1, 5)); C = int(rng.integers(2, 5)); d = np.float32
    red = str(rng.choice(RED)); fl = bool(rng.random() < 0.5); ls = float(rng.choice([0.0, 0.1]))
    sw = rng.random(N).astype(d) if rng.random() < 0.7 else None
    a, gm = float(rng.choice([0.25, 0.5])), float(rng.choice([0.0, 1.0, 2.0]))
    pre = str(rng.choice(["keras.losses.", "tf.keras.losses."]))

    def kcall(cls, kw, names):
        def fn(i, hi):
            def f(y_true, y_pred, sample_weight=None):
                return cls(**kw, **({"dtype": "float64"} if hi else {}))(y_true, y_pred, sample_weight=sample_weight)
            return tfrun(f, i, "y_pred")
        return fn
    t = probs((N, C), d); p = probs((N, C), d)
    ins = {"y_true": t, "y_pred": p}
    if sw is not None: ins["sample_weight"] = sw
    add(f"KLD{n}", pre + "KLDivergence", {"reduction": red}, ins, ["y_pred"], kcall(keras.losses.KLDivergence, {"reduction": red}, None)); n += 1
    x = logits((N, C), d) if fl else probs((N, C), d)
    ins = {"y_true": t, "y_pred": x}
    if sw is not None: ins["sample_weight"] = sw
    kw = {"alpha": a, "gamma": gm, "from_logits": fl, "label_smoothing": ls, "reduction": red}
    add(f"CFCE{n}", pre + "CategoricalFocalCrossentropy", kw, ins, ["y_pred"], kcall(keras.losses.CategoricalFocalCrossentropy, kw, None)); n += 1
    bal = bool(rng.random() < 0.5)
    yb = (rng.random((N, C)) > 0.5).astype(d); pb = logits((N, C), d) if fl else (rng.random((N, C)) * 0.98 + 0.01).astype(d)
    ins = {"y_true": yb, "y_pred": pb}
    if sw is not None: ins["sample_weight"] = sw
    kw = {"apply_class_balancing": bal, "alpha": a, "gamma": gm, "from_logits": fl, "label_smoothing": ls, "reduction": red}
    add(f"BFCE{n}", pre + "BinaryFocalCrossentropy", kw, ins, ["y_pred"], kcall(keras.losses.BinaryFocalCrossentropy, kw, None)); n += 1
# the class defaults (no parameters at all), and the existing classes under tf.keras.losses.
N, C = 3, 4
t = probs((N, C), np.float32); p = probs((N, C), np.float32); yb = (rng.random((N, C)) > 0.5).astype(np.float32)
for name, cls, yt in [("KLDivergence", keras.losses.KLDivergence, t), ("CategoricalFocalCrossentropy", keras.losses.CategoricalFocalCrossentropy, t),
                      ("BinaryFocalCrossentropy", keras.losses.BinaryFocalCrossentropy, yb), ("CategoricalCrossentropy", keras.losses.CategoricalCrossentropy, t),
                      ("BinaryCrossentropy", keras.losses.BinaryCrossentropy, yb)]:
    fn = (lambda cls: (lambda i, hi: tfrun(lambda y_true, y_pred: cls(**({"dtype": "float64"} if hi else {}))(y_true, y_pred), i, "y_pred")))(cls)
    add(f"Kdef{n}", "tf.keras.losses." + name, {}, {"y_true": yt, "y_pred": p}, ["y_pred"], fn); n += 1
# from_logits on a rank-3 input with the default axis (-1): the axis-0 default bug
x = logits((2, 3, 4), np.float32); t = probs((2, 3, 4), np.float32)
fn = lambda i, hi: tfrun(lambda y_true, y_pred: keras.losses.CategoricalCrossentropy(from_logits=True, **({"dtype": "float64"} if hi else {}))(y_true, y_pred), i, "y_pred")
add(f"Kax{n}", "keras.losses.CategoricalCrossentropy", {"from_logits": True}, {"y_true": t, "y_pred": x}, ["y_pred"], fn); n += 1

with open(sys.argv[2], "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(len(cases), sum("error" in c for c in cases))

"""Differential cases for the exactness issue, computed by the real TensorFlow 2.21.0 /
Keras 3.15.1 / PyTorch 2.15.0, in the golden format of shared/tools/conform.py, each with a
float64 truth (`truth64`: the same framework call on the inputs cast to float64):

* large offsets: every softmax cross-entropy on logits offset by 1e3-1e4 (float32) and
  1e6-1e8 (float64), where `lse = m + ln s` rounded in the input dtype loses the loss;
* zero classes with rows present, and empty batches, for every op and reduction;
* Keras loss functions on float16 (computed in half by Keras) and loss classes (float32);
* TensorFlow's flush-to-zero of subnormal results and inputs (float32/float64), checked
  with a per-case "tol" (the framework's exact zeros, not the float64 truth);
* PyTorch's float32/float64 sigmoid overflow (1/(1+exp(-x)) is 0 below about -88.7);
* float16 activations, which TF and PyTorch round in half internally and xent does not
  (the float64 truth is accepted there).

usage: python tools/gen_differential_exact.py SEED OUT.jsonl
tests/golden/generated/exact7.jsonl was made with seed 7.
"""
import json, sys, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np, tensorflow as tf, keras, torch

rng = np.random.default_rng(int(sys.argv[1]))
out_path = sys.argv[2]
cases = []
DT = {np.float16: "float16", np.float32: "float32", np.float64: "float64", np.int32: "int32", np.int64: "int64"}


def enc(a):
    a = np.asarray(a)
    dt = DT[a.dtype.type]
    fl = dt.startswith("float")
    data = [(("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")) if fl and not np.isfinite(v) else (float(v) if fl else int(v))) for v in a.ravel()]
    return {"dtype": dt, "shape": list(a.shape), "data": data}


def tfrun(f, inputs, wrt):
    ts = {k: tf.Variable(v) if k == wrt else tf.constant(v) for k, v in inputs.items()}
    with tf.GradientTape() as tape:
        out = f(**ts)
        s = tf.reduce_sum(out)
    g = tape.gradient(s, ts[wrt]) if wrt else None
    if wrt and g is None:
        g = tf.zeros_like(ts[wrt])
    return np.asarray(out.numpy()), ({wrt: np.asarray(g.numpy())} if wrt else {})


def thrun(f, inputs, wrt):
    ts = {k: torch.tensor(v, requires_grad=(k == wrt)) for k, v in inputs.items()}
    out = f(**ts)
    if wrt:
        out.sum().backward()
        g = ts[wrt].grad
        return out.detach().numpy(), {wrt: (g if g is not None else torch.zeros_like(ts[wrt])).numpy()}
    return out.detach().numpy(), {}


def to64(inputs):
    return {k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in inputs.items()}


def add(id, op, params, inputs, grad, fn, truth=True, tol=None):
    base = {"id": id, "op": op, "params": params, "inputs": {k: enc(v) for k, v in inputs.items()}}
    try:
        out, grads = fn(inputs)
    except Exception as e:  # the framework raised: xent must too
        cases.append(dict(base, grad=[], error=type(e).__name__ + ": " + str(e)[:200]))
        return
    c = dict(base, grad=grad, output=enc(out), grads={k: enc(v) for k, v in grads.items()}, truth64=None)
    if truth and any(v.dtype.kind == "f" and v.dtype != np.float64 for v in inputs.values()):
        try:
            o64, g64 = fn(to64(inputs))
            c["truth64"] = {"output": enc(np.asarray(o64).astype(np.float64)), "grads": {k: enc(np.asarray(v).astype(np.float64)) for k, v in g64.items()}}
        except Exception:
            pass
    if tol:
        c["tol"] = tol
    cases.append(c)


def probs(shape, d, axis=-1):
    p = rng.random(shape) + 0.05
    return (p / p.sum(axis=axis, keepdims=True)).astype(d)


n = 0
F = torch.nn.functional
# ---- large offsets: every softmax cross-entropy
for d, offs in [(np.float32, [1e3, -1e3, 1e4]), (np.float64, [1e6, -1e6, 1e8])]:
    for off in offs:
        N, C = int(rng.integers(1, 5)), int(rng.integers(2, 7))
        x = (off + rng.standard_normal((N, C)) * 4).astype(d)
        t = probs((N, C), d)
        y = rng.integers(0, C, N).astype(np.int64)
        oh = np.eye(C, dtype=d)[y]
        ls = float(rng.choice([0.0, 0.1]))
        red = str(rng.choice(["mean", "sum", "none"]))
        add(f"off_sce{n}", "tf.nn.softmax_cross_entropy_with_logits", {}, {"labels": t, "logits": x}, ["logits"],
            lambda i: tfrun(lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits), i, "logits")); n += 1
        add(f"off_ssce{n}", "tf.nn.sparse_softmax_cross_entropy_with_logits", {}, {"labels": y, "logits": x}, ["logits"],
            lambda i: tfrun(lambda labels, logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits), i, "logits")); n += 1
        add(f"off_tce{n}", "torch.nn.functional.cross_entropy", {"reduction": red, "label_smoothing": ls}, {"input": x, "target": y}, ["input"],
            lambda i: thrun(lambda input, target: F.cross_entropy(input, target, reduction=red, label_smoothing=ls), i, "input")); n += 1
        add(f"off_tcep{n}", "torch.nn.functional.cross_entropy", {"reduction": red, "label_smoothing": ls}, {"input": x, "target": oh}, ["input"],
            lambda i: thrun(lambda input, target: F.cross_entropy(input, target, reduction=red, label_smoothing=ls), i, "input")); n += 1
        add(f"off_cce{n}", "keras.losses.categorical_crossentropy", {"from_logits": True, "label_smoothing": ls}, {"y_true": oh, "y_pred": x}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=True, label_smoothing=ls), i, "y_pred")); n += 1
        add(f"off_scce{n}", "keras.losses.sparse_categorical_crossentropy", {"from_logits": True}, {"y_true": y, "y_pred": x}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True), i, "y_pred")); n += 1
        add(f"off_cfce{n}", "keras.losses.categorical_focal_crossentropy", {"from_logits": True}, {"y_true": oh, "y_pred": x}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_focal_crossentropy(y_true, y_pred, from_logits=True), i, "y_pred")); n += 1
        if d == np.float32:
            for cls, op, yt in [(keras.losses.CategoricalCrossentropy, "keras.losses.CategoricalCrossentropy", oh),
                                (keras.losses.SparseCategoricalCrossentropy, "keras.losses.SparseCategoricalCrossentropy", y)]:
                add(f"off_cls{n}", op, {"from_logits": True}, {"y_true": yt, "y_pred": x}, ["y_pred"],
                    lambda i: tfrun(lambda y_true, y_pred: cls(from_logits=True)(y_true, y_pred), i, "y_pred")); n += 1
# the examples
x3 = np.array([[1000, 995, 990]], np.float32)
add(f"off_ex{n}", "torch.nn.functional.cross_entropy", {"reduction": "sum"}, {"input": x3, "target": np.array([[1, 0, 0]], np.float32)}, ["input"],
    lambda i: thrun(lambda input, target: F.cross_entropy(input, target, reduction="sum"), i, "input")); n += 1
add(f"off_ex{n}", "torch.nn.functional.cross_entropy", {}, {"input": x3, "target": np.array([0])}, ["input"],
    lambda i: thrun(lambda input, target: F.cross_entropy(input, target), i, "input")); n += 1
add(f"off_ex{n}", "tf.nn.softmax_cross_entropy_with_logits", {}, {"labels": np.array([[1, 0, 0]], np.float32), "logits": x3}, ["logits"],
    lambda i: tfrun(lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits), i, "logits")); n += 1
add(f"off_ex{n}", "torch.nn.functional.cross_entropy", {}, {"input": np.array([[1e6, 1e6 - 5, 1e6 - 10]]), "target": np.array([[1.0, 0, 0]])}, ["input"],
    lambda i: thrun(lambda input, target: F.cross_entropy(input, target), i, "input")); n += 1

# ---- zero classes with rows present, and zero rows
for d in [np.float32, np.float64]:
    for shp in [(5, 0), (2, 0, 3), (0, 4), (0, 0)]:
        x = np.zeros(shp, d); t = np.zeros(shp, d)
        ysh = shp[:1] + shp[2:]
        y = np.zeros(ysh, np.int64)
        for red in ["mean", "sum", "none"]:
            for ls in [0.0, 0.1]:
                add(f"z_tce{n}", "torch.nn.functional.cross_entropy", {"reduction": red, "label_smoothing": ls}, {"input": x, "target": t}, ["input"],
                    lambda i: thrun(lambda input, target: F.cross_entropy(input, target, reduction=red, label_smoothing=ls), i, "input")); n += 1
                if shp[1] > 0 or shp[0] == 0:
                    add(f"z_tcei{n}", "torch.nn.functional.cross_entropy", {"reduction": red, "label_smoothing": ls}, {"input": x, "target": y}, ["input"],
                        lambda i: thrun(lambda input, target: F.cross_entropy(input, target, reduction=red, label_smoothing=ls), i, "input")); n += 1
            add(f"z_bce{n}", "torch.nn.functional.binary_cross_entropy", {"reduction": red}, {"input": x, "target": t}, ["input"],
                lambda i: thrun(lambda input, target: F.binary_cross_entropy(input, target, reduction=red), i, "input")); n += 1
            add(f"z_bcel{n}", "torch.nn.functional.binary_cross_entropy_with_logits", {"reduction": red}, {"input": x, "target": t}, ["input"],
                lambda i: thrun(lambda input, target: F.binary_cross_entropy_with_logits(input, target, reduction=red), i, "input")); n += 1
            if len(shp) == 2:
                add(f"z_nll{n}", "torch.nn.functional.nll_loss", {"reduction": red}, {"input": x, "target": y}, ["input"],
                    lambda i: thrun(lambda input, target: F.nll_loss(input, target, reduction=red), i, "input")); n += 1
        add(f"z_tsm{n}", "torch.softmax", {"dim": 1}, {"input": x}, ["input"], lambda i: thrun(lambda input: torch.softmax(input, 1), i, "input")); n += 1
        add(f"z_tlsm{n}", "torch.log_softmax", {"dim": 1}, {"input": x}, ["input"], lambda i: thrun(lambda input: torch.log_softmax(input, 1), i, "input")); n += 1
        add(f"z_sm{n}", "tf.nn.softmax", {"axis": 1}, {"logits": x}, ["logits"], lambda i: tfrun(lambda logits: tf.nn.softmax(logits, axis=1), i, "logits")); n += 1
        add(f"z_lsm{n}", "tf.nn.log_softmax", {"axis": 1}, {"logits": x}, ["logits"], lambda i: tfrun(lambda logits: tf.nn.log_softmax(logits, axis=1), i, "logits")); n += 1
        add(f"z_sce{n}", "tf.nn.softmax_cross_entropy_with_logits", {"axis": 1}, {"labels": t, "logits": x}, ["logits"],
            lambda i: tfrun(lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits, axis=1), i, "logits")); n += 1
        add(f"z_sig{n}", "tf.nn.sigmoid_cross_entropy_with_logits", {}, {"labels": t, "logits": x}, ["logits"],
            lambda i: tfrun(lambda labels, logits: tf.nn.sigmoid_cross_entropy_with_logits(labels, logits), i, "logits")); n += 1
        for fl in [True, False]:
            add(f"z_cce{n}", "keras.losses.categorical_crossentropy", {"from_logits": fl, "axis": 1}, {"y_true": t, "y_pred": x}, ["y_pred"],
                lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=fl, axis=1), i, "y_pred")); n += 1
            add(f"z_bcek{n}", "keras.losses.binary_crossentropy", {"from_logits": fl}, {"y_true": t, "y_pred": x}, ["y_pred"],
                lambda i: tfrun(lambda y_true, y_pred: keras.losses.binary_crossentropy(y_true, y_pred, from_logits=fl), i, "y_pred")); n += 1
            add(f"z_cfce{n}", "keras.losses.categorical_focal_crossentropy", {"from_logits": fl, "axis": 1}, {"y_true": t, "y_pred": x}, ["y_pred"],
                lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_focal_crossentropy(y_true, y_pred, from_logits=fl, axis=1), i, "y_pred")); n += 1
            add(f"z_bfce{n}", "keras.losses.binary_focal_crossentropy", {"from_logits": fl}, {"y_true": t, "y_pred": x}, ["y_pred"],
                lambda i: tfrun(lambda y_true, y_pred: keras.losses.binary_focal_crossentropy(y_true, y_pred, from_logits=fl), i, "y_pred")); n += 1
            for red in ["sum_over_batch_size", "sum", "none"]:
                add(f"z_CCE{n}", "keras.losses.CategoricalCrossentropy", {"from_logits": fl, "reduction": red}, {"y_true": t, "y_pred": x}, ["y_pred"],
                    lambda i: tfrun(lambda y_true, y_pred: keras.losses.CategoricalCrossentropy(from_logits=fl, reduction=red)(y_true, y_pred), i, "y_pred")); n += 1
                add(f"z_BCE{n}", "keras.losses.BinaryCrossentropy", {"from_logits": fl, "reduction": red}, {"y_true": t, "y_pred": x}, ["y_pred"],
                    lambda i: tfrun(lambda y_true, y_pred: keras.losses.BinaryCrossentropy(from_logits=fl, reduction=red)(y_true, y_pred), i, "y_pred")); n += 1
        add(f"z_kl{n}", "keras.losses.kl_divergence", {}, {"y_true": t, "y_pred": x}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.kl_divergence(y_true, y_pred), i, "y_pred")); n += 1

# ---- Keras float16: loss functions in half, classes in float32
h = np.float16
ex16 = [("keras.losses.binary_crossentropy", keras.losses.binary_crossentropy, [[0.3]], [[1.0]]),
        ("keras.losses.binary_crossentropy", keras.losses.binary_crossentropy, [[1.0]], [[0.0]]),
        ("keras.losses.categorical_crossentropy", keras.losses.categorical_crossentropy, [[0, 1, 0]], [[0.5, 0, 0.5]]),
        ("keras.losses.kl_divergence", keras.losses.kl_divergence, [[0.5, 0.5]], [[1, 0]]),
        ("keras.losses.categorical_focal_crossentropy", keras.losses.categorical_focal_crossentropy, [[0, 1, 0]], [[0.5, 0, 0.5]])]
for op, f, yt, yp in ex16:
    add(f"h_ex{n}", op, {}, {"y_true": np.array(yt, h), "y_pred": np.array(yp, h)}, ["y_pred"],
        lambda i: tfrun(lambda y_true, y_pred: f(y_true, y_pred), i, "y_pred")); n += 1
add(f"h_ex{n}", "keras.losses.BinaryCrossentropy", {}, {"y_true": np.array([[1], [0], [1]], h), "y_pred": np.array([[0], [0.125], [0.875]], h)}, ["y_pred"],
    lambda i: tfrun(lambda y_true, y_pred: keras.losses.BinaryCrossentropy()(y_true, y_pred), i, "y_pred")); n += 1
for it in range(6):
    N, C = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    t = probs((N, C), h)
    p = probs((N, C), h)
    p[rng.random((N, C)) < 0.3] = rng.choice([0.0, 1.0, 1e-5, 0.9999])
    p = p.astype(h)
    yb = (rng.random((N, C)) > 0.5).astype(h)
    yi = rng.integers(0, C, N).astype(np.int64)
    ls = float(rng.choice([0.0, 0.1]))
    x = (rng.standard_normal((N, C)) * 4).astype(h)
    for fl, pp in [(False, p), (True, x)]:
        add(f"h_cce{n}", "keras.losses.categorical_crossentropy", {"from_logits": fl, "label_smoothing": ls}, {"y_true": t, "y_pred": pp}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=fl, label_smoothing=ls), i, "y_pred")); n += 1
        add(f"h_scce{n}", "keras.losses.sparse_categorical_crossentropy", {"from_logits": fl}, {"y_true": yi, "y_pred": pp}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=fl), i, "y_pred")); n += 1
        add(f"h_bce{n}", "keras.losses.binary_crossentropy", {"from_logits": fl, "label_smoothing": ls}, {"y_true": yb, "y_pred": pp}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.binary_crossentropy(y_true, y_pred, from_logits=fl, label_smoothing=ls), i, "y_pred")); n += 1
        add(f"h_cfce{n}", "keras.losses.categorical_focal_crossentropy", {"from_logits": fl}, {"y_true": t, "y_pred": pp}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_focal_crossentropy(y_true, y_pred, from_logits=fl), i, "y_pred")); n += 1
        add(f"h_bfce{n}", "keras.losses.binary_focal_crossentropy", {"from_logits": fl}, {"y_true": yb, "y_pred": pp}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.binary_focal_crossentropy(y_true, y_pred, from_logits=fl), i, "y_pred")); n += 1
        for cls, op, yt in [(keras.losses.CategoricalCrossentropy, "keras.losses.CategoricalCrossentropy", t),
                            (keras.losses.SparseCategoricalCrossentropy, "keras.losses.SparseCategoricalCrossentropy", yi),
                            (keras.losses.BinaryCrossentropy, "keras.losses.BinaryCrossentropy", yb)]:
            add(f"h_cls{n}", op, {"from_logits": fl}, {"y_true": yt, "y_pred": pp}, ["y_pred"],
                lambda i: tfrun(lambda y_true, y_pred: cls(from_logits=fl)(y_true, y_pred), i, "y_pred")); n += 1
    add(f"h_kl{n}", "keras.losses.kl_divergence", {}, {"y_true": t, "y_pred": p}, ["y_pred"],
        lambda i: tfrun(lambda y_true, y_pred: keras.losses.kl_divergence(y_true, y_pred), i, "y_pred")); n += 1

# ---- TensorFlow flush-to-zero (float32/float64): exact zeros required (tol without the truth)
FTZ = {"rtol": 1e-5, "atol": 0.0}
FTZ64 = {"rtol": 1e-9, "atol": 0.0}
for d, big in [(np.float32, [90.0, 100.0, 95.0, 88.0, 103.0]), (np.float64, [720.0, 740.0, 710.0, 745.0])]:
    tol = FTZ if d == np.float32 else FTZ64
    for it in range(4):
        N, C = int(rng.integers(1, 4)), int(rng.integers(2, 6))
        x = (rng.standard_normal((N, C)) * 2).astype(d)
        x[rng.random((N, C)) < 0.5] = -float(rng.choice(big))
        x[:, 0] = rng.standard_normal(N)
        t = probs((N, C), d)
        y = rng.integers(0, C, N).astype(np.int64)
        add(f"ftz_sm{n}", "tf.nn.softmax", {}, {"logits": x}, [], lambda i: tfrun(lambda logits: tf.nn.softmax(logits), i, None), tol=tol); n += 1
        add(f"ftz_lsm{n}", "tf.nn.log_softmax", {}, {"logits": x}, [], lambda i: tfrun(lambda logits: tf.nn.log_softmax(logits), i, None), tol=tol); n += 1
        add(f"ftz_sig{n}", "tf.math.sigmoid", {}, {"x": x}, [], lambda i: tfrun(lambda x: tf.math.sigmoid(x), i, None), tol=tol); n += 1
        add(f"ftz_sce{n}", "tf.nn.softmax_cross_entropy_with_logits", {}, {"labels": t, "logits": x}, ["logits"],
            lambda i: tfrun(lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels, logits), i, "logits"), tol=tol); n += 1
        add(f"ftz_ssce{n}", "tf.nn.sparse_softmax_cross_entropy_with_logits", {}, {"labels": y, "logits": x}, ["logits"],
            lambda i: tfrun(lambda labels, logits: tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits), i, "logits"), tol=tol); n += 1
        add(f"ftz_cce{n}", "keras.losses.categorical_crossentropy", {"from_logits": True}, {"y_true": t, "y_pred": x}, ["y_pred"],
            lambda i: tfrun(lambda y_true, y_pred: keras.losses.categorical_crossentropy(y_true, y_pred, from_logits=True), i, "y_pred"), tol=tol); n += 1
    # subnormal inputs read as zero
    sub = np.array([[1e-40 if d == np.float32 else 1e-310, -3e-39 if d == np.float32 else -3e-310, 0.5, 2.0]], d)
    add(f"ftz_in{n}", "tf.nn.sigmoid_cross_entropy_with_logits", {}, {"labels": sub, "logits": np.array([[1e30, -1e30, 1.0, 2.0]], d) if d == np.float32 else np.array([[1e300, -1e300, 1.0, 2.0]], d)}, [],
        lambda i: tfrun(lambda labels, logits: tf.nn.sigmoid_cross_entropy_with_logits(labels, logits), i, None), tol=tol); n += 1
add(f"ftz_ex{n}", "tf.nn.softmax", {}, {"logits": np.array([[-100, -10, 0, 10, 100]], np.float32)}, [], lambda i: tfrun(lambda logits: tf.nn.softmax(logits), i, None), tol=FTZ); n += 1
add(f"ftz_ex{n}", "tf.math.sigmoid", {}, {"x": np.array([-95, -100, -88], np.float32)}, [], lambda i: tfrun(lambda x: tf.math.sigmoid(x), i, None), tol=FTZ); n += 1
# ---- PyTorch sigmoid overflow (keeps subnormals above it)
for d in [np.float32, np.float64]:
    xs = np.array([-95, -100, -88, -88.8, -87, -103, -20, 0, 30] if d == np.float32 else [-700, -709, -710, -745, -20, 0, 40], d)
    # the values exactly (tol); the gradient against the float64 truth too, since xent's
    # y·σ(−x) keeps the digits PyTorch's y·(1 − y) loses near y = 1
    add(f"tsig{n}", "torch.sigmoid", {}, {"input": xs}, [], lambda i: thrun(lambda input: torch.sigmoid(input), i, None), truth=False, tol={"rtol": 1e-5 if d == np.float32 else 1e-9, "atol": 0.0}); n += 1
    if d == np.float32:
        add(f"tsigg{n}", "torch.sigmoid", {}, {"input": xs}, ["input"], lambda i: thrun(lambda input: torch.sigmoid(input), i, "input")); n += 1
# ---- float16 activations: frameworks round in half inside, xent rounds once (truth accepted)
for it in range(4):
    s = (int(rng.integers(1, 4)), int(rng.integers(2, 9)))
    x = (rng.standard_normal(s) * 4).astype(h)
    add(f"h_lsm{n}", "tf.nn.log_softmax", {}, {"logits": x}, ["logits"], lambda i: tfrun(lambda logits: tf.nn.log_softmax(logits), i, "logits")); n += 1
    add(f"h_sm{n}", "tf.nn.softmax", {}, {"logits": x}, ["logits"], lambda i: tfrun(lambda logits: tf.nn.softmax(logits), i, "logits")); n += 1
    add(f"h_tlsm{n}", "torch.log_softmax", {"dim": -1}, {"input": x}, ["input"], lambda i: thrun(lambda input: torch.log_softmax(input, -1), i, "input")); n += 1
    add(f"h_tsm{n}", "torch.softmax", {"dim": 0}, {"input": x}, ["input"], lambda i: thrun(lambda input: torch.softmax(input, 0), i, "input")); n += 1
    add(f"h_sig{n}", "tf.math.sigmoid", {}, {"x": x}, ["x"], lambda i: tfrun(lambda x: tf.math.sigmoid(x), i, "x")); n += 1
add(f"h_ex{n}", "tf.nn.log_softmax", {}, {"logits": np.array([[0, -8]], h)}, [], lambda i: tfrun(lambda logits: tf.nn.log_softmax(logits), i, None)); n += 1

# float16 gradients where TF's own half intermediates overflow inside its gradient graph
# (NaN or inf from an inf − inf): xent does not mirror those (docs/hardening.md,
# "Precision"), so only their outputs are kept.
for c in cases:
    if c["id"] in ("h_bfce416", "h_bfce450", "h_cce463", "h_scce498", "h_bfce509", "h_kl513"):
        c["grad"], c["grads"] = [], {}
        if c.get("truth64"):
            c["truth64"]["grads"] = {}
with open(out_path, "w") as f:
    for c in cases:
        f.write(json.dumps(c) + "\n")
print(len(cases), "cases,", sum("error" in c for c in cases), "errors")

"""The Python API itself: names and signatures generated from the op table, NumPy in
and out (layouts, byte orders, dtypes, lists), errors, the loss classes.

Reference values are PyTorch 2.15 / TensorFlow 2.21 / Keras 3.15 results, noted where
they are used, or follow from the formula (softmax of equal logits is uniform).
"""

from __future__ import annotations

import inspect
import os
import threading

import numpy as np
import pytest

import xent
from xent import _api

F = xent.torch.nn.functional

LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, -1.0, 3.0]], dtype=np.float32)
TARGET = np.array([0, 2], dtype=np.int64)


def test_done_when_example():
    # torch.nn.functional.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0]))
    # is tensor(0.4170), .item() 0.4170299470424652 (PyTorch 2.15).
    out = F.cross_entropy([[2.0, 1.0, 0.1]], [0])
    assert isinstance(out, np.ndarray)
    assert out.shape == () and out.dtype == np.float32
    assert out.item() == 0.4170299470424652


def test_every_op_of_the_table_is_generated():
    names = [o["name"] for o in xent.ops()]
    assert len(names) == len(set(names)) and len(names) >= 27
    for name in names:
        obj = xent
        for part in name.split("."):
            obj = getattr(obj, part)
        assert obj.op == name
        assert obj.__doc__ and name in obj.__doc__
        assert isinstance(obj, type) == name.rsplit(".", 1)[-1][0].isupper()


def test_submodules_import():
    import xent.tf.nn
    import xent.torch.nn.functional as G
    from xent.keras import losses

    assert G.cross_entropy is F.cross_entropy
    assert losses.CategoricalCrossentropy is xent.keras.losses.CategoricalCrossentropy
    assert xent.tf.nn.softmax.__module__ == "xent.tf.nn"


@pytest.mark.parametrize(
    "f, expected",
    [
        (lambda: xent.tf.nn.softmax, "(logits, axis=None, name=None)"),
        (lambda: xent.tf.nn.softmax_cross_entropy_with_logits, "(labels, logits, axis=-1, name=None)"),
        (lambda: xent.tf.nn.sparse_softmax_cross_entropy_with_logits, "(labels, logits, name=None)"),
        (lambda: xent.tf.nn.weighted_cross_entropy_with_logits, "(labels, logits, pos_weight, name=None)"),
        (lambda: xent.tf.math.sigmoid, "(x, name=None)"),
        (
            lambda: xent.tf.one_hot,
            "(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None)",
        ),
        (
            lambda: xent.keras.losses.categorical_crossentropy,
            "(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1)",
        ),
        (
            lambda: xent.keras.losses.sparse_categorical_crossentropy,
            "(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1)",
        ),
        (lambda: xent.torch.softmax, "(input, dim, *, dtype=None)"),
        (lambda: xent.torch.sigmoid, "(input)"),
        (lambda: F.one_hot, "(input, num_classes=-1)"),
        (
            lambda: F.cross_entropy,
            "(input, target, weight=None, *, ignore_index=-100, reduction='mean', label_smoothing=0.0)",
        ),
        (lambda: F.nll_loss, "(input, target, weight=None, *, ignore_index=-100, reduction='mean')"),
        (
            lambda: F.binary_cross_entropy_with_logits,
            "(input, target, weight=None, *, pos_weight=None, reduction='mean')",
        ),
        (
            lambda: xent.keras.losses.CategoricalCrossentropy,
            "(from_logits=False, label_smoothing=0.0, axis=-1, reduction='sum_over_batch_size', name=None)",
        ),
        (
            lambda: xent.keras.losses.SparseCategoricalCrossentropy,
            "(from_logits=False, ignore_class=None, reduction='sum_over_batch_size', axis=-1, name=None)",
        ),
    ],
)
def test_signatures_follow_the_frameworks(f, expected):
    assert str(inspect.signature(f())) == expected


def test_keras_class_call_signature():
    sig = inspect.signature(xent.keras.losses.CategoricalCrossentropy.__call__)
    assert str(sig) == "(self, y_true, y_pred, sample_weight=None)"


def test_torch_arguments_after_weight_are_keyword_only():
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    with pytest.raises(TypeError, match="too many positional arguments"):
        F.cross_entropy(LOGITS, TARGET, w, -100)
    a = F.cross_entropy(LOGITS, TARGET, w, reduction="sum")
    b = F.cross_entropy(LOGITS, TARGET, weight=w, reduction="sum")
    assert a == b


def test_tf_axis_none_is_the_last_axis():
    x = np.array([[1.0, 2.0], [3.0, 5.0]], dtype=np.float32)
    np.testing.assert_array_equal(xent.tf.nn.softmax(x), xent.tf.nn.softmax(x, axis=-1))
    np.testing.assert_array_equal(xent.tf.nn.softmax(x, None, "ignored"), xent.tf.nn.softmax(x, 1))
    # Equal logits along axis 0: uniform.
    np.testing.assert_allclose(xent.tf.nn.softmax(np.ones((2, 3), np.float32), axis=0), np.full((2, 3), 0.5), rtol=1e-7)


def test_torch_softmax_requires_dim():
    with pytest.raises(TypeError, match="softmax\\(\\) missing a required argument: 'dim'"):
        xent.torch.softmax(LOGITS)
    out = xent.torch.softmax(LOGITS, 1, dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.sum(axis=1), [1.0, 1.0], rtol=1e-15)


def test_values_against_frameworks():
    # keras.losses.categorical_crossentropy([[0, 1, 0]], [[0.05, 0.95, 0.0]]) -> [0.05129331] (Keras 3.15)
    out = xent.keras.losses.categorical_crossentropy([[0.0, 1.0, 0.0]], [[0.05, 0.95, 0.0]])
    assert out.dtype == np.float32 and out.shape == (1,)
    np.testing.assert_allclose(out, [0.05129331], rtol=1e-6)
    # tf.nn.softmax_cross_entropy_with_logits([[0., 1.]], [[1., 1.]]) = log 2
    np.testing.assert_allclose(
        xent.tf.nn.softmax_cross_entropy_with_logits([[0.0, 1.0]], [[1.0, 1.0]]), [np.log(2.0)], rtol=1e-7
    )
    # torch.nn.functional.one_hot(torch.tensor([1, 0]), 3)
    oh = F.one_hot([1, 0], 3)
    assert oh.dtype == np.int64
    np.testing.assert_array_equal(oh, [[0, 1, 0], [1, 0, 0]])
    # tf.one_hot([1, 5], 3) -> float32, out-of-range index gives a row of off_value
    np.testing.assert_array_equal(xent.tf.one_hot(np.array([1, 5], np.int32), 3), [[0, 1, 0], [0, 0, 0]])
    assert xent.tf.one_hot([0], 2, dtype=np.float64).dtype == np.float64


def test_loss_classes():
    y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    C = xent.keras.losses.CategoricalCrossentropy
    per_sample = xent.keras.losses.categorical_crossentropy(y_true, LOGITS, from_logits=True)
    total = C(from_logits=True, reduction="sum")(y_true, LOGITS)
    assert total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total, per_sample.sum(), rtol=1e-6)
    mean = C(from_logits=True)(y_true, LOGITS)
    np.testing.assert_allclose(mean, per_sample.mean(), rtol=1e-6)
    weighted = C(from_logits=True, reduction="sum")(y_true, LOGITS, sample_weight=[2.0, 0.0])
    np.testing.assert_allclose(weighted, 2 * per_sample[0], rtol=1e-6)
    loss = C(from_logits=True, reduction="sum")
    assert loss.from_logits is True and loss.reduction == "sum"
    assert "reduction='sum'" in repr(loss)
    g = loss.grad("y_pred", y_true, LOGITS)
    np.testing.assert_allclose(g, xent.grad("keras.losses.CategoricalCrossentropy", "y_pred", y_true=y_true, y_pred=LOGITS, from_logits=True, reduction="sum"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'form_logits'"):
        C(form_logits=True)


def test_eval_and_grad():
    a = xent.eval("torch.nn.functional.cross_entropy", input=LOGITS, target=TARGET, reduction="none")
    b = F.cross_entropy(LOGITS, TARGET, reduction="none")
    np.testing.assert_array_equal(a, b)
    g = xent.grad("torch.nn.functional.cross_entropy", "input", input=LOGITS, target=TARGET, reduction="sum")
    # d/dx sum CE = softmax(x) - onehot(y)
    sm = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, sm - np.eye(3, dtype=np.float32)[TARGET], rtol=1e-5, atol=1e-7)
    assert g.dtype == np.float32 and g.shape == LOGITS.shape


# ----------------------------------------------------------------------- NumPy in


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.T.copy().T,  # Fortran order
        lambda x: x[::-1][::-1],  # negative strides twice (a view)
        lambda x: np.ascontiguousarray(x[:, ::-1])[:, ::-1],  # negative column stride
        lambda x: x.astype(x.dtype.newbyteorder(">")),  # big-endian
        lambda x: np.repeat(x, 2, axis=1)[:, ::2],  # strided
        lambda x: x.tolist(),  # a list of floats -> float32
    ],
)
def test_any_layout_gives_the_same_result(make):
    x = np.array([[2.0, 1.0, 0.1], [0.5, -1.0, 3.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    ref = F.cross_entropy(x, [0, 2, 1], reduction="none")
    other = make(x.copy())
    if isinstance(other, np.ndarray):
        np.testing.assert_array_equal(other, x)
    got = F.cross_entropy(other, [0, 2, 1], reduction="none")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ref)


def test_read_only_and_reversed_views():
    x = np.linspace(-3, 3, 12, dtype=np.float64).reshape(3, 4)
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(xent.tf.nn.log_softmax(ro), xent.tf.nn.log_softmax(x))
    rev = x[::-1, ::-1]
    np.testing.assert_array_equal(xent.tf.nn.log_softmax(rev), xent.tf.nn.log_softmax(rev.copy()))
    assert not np.shares_memory(xent.tf.nn.softmax(x), x)


def test_contiguous_native_inputs_are_not_copied():
    x = np.ones((4, 5), dtype=np.float32)
    assert _api.as_input(x) is x
    assert _api.as_input(x[1:3]) is not None and _api.as_input(x[1:3]).base is x  # a contiguous view stays a view
    big = np.ones((4, 5), dtype=">f4")
    assert _api.as_input(big).dtype == np.float32 and _api.as_input(big).dtype.isnative


def test_dtypes():
    x64 = LOGITS.astype(np.float64)
    assert F.cross_entropy(x64, TARGET).dtype == np.float64
    h = F.cross_entropy(LOGITS.astype(np.float16), TARGET)
    assert h.dtype == np.float16
    np.testing.assert_allclose(h, F.cross_entropy(LOGITS, TARGET), rtol=2e-3)
    assert _api.as_input([1, 2]).dtype == np.int64
    assert _api.as_input([1.0, 2]).dtype == np.float32
    assert _api.as_input(np.float64(1.0)).dtype == np.float64
    assert _api.as_input(3.0).dtype == np.float32
    # uint8 targets, as PyTorch takes Byte targets for nll_loss
    np.testing.assert_array_equal(F.cross_entropy(LOGITS, TARGET.astype(np.uint8)), F.cross_entropy(LOGITS, TARGET))
    # int32 labels for TF
    out = xent.tf.nn.sparse_softmax_cross_entropy_with_logits(TARGET.astype(np.int32), LOGITS)
    np.testing.assert_allclose(out, F.cross_entropy(LOGITS, TARGET, reduction="none"), rtol=1e-6)


def test_numpy_scalar_params():
    a = F.cross_entropy(LOGITS, TARGET, ignore_index=np.int64(2), label_smoothing=np.float32(0.25))
    b = F.cross_entropy(LOGITS, TARGET, ignore_index=2, label_smoothing=0.25)
    assert a == b
    assert xent.keras.losses.categorical_crossentropy([[0.0, 1.0]], [[1.0, 2.0]], from_logits=np.bool_(True)).shape == (1,)


def test_gil_is_released():
    # While one thread is inside a long xent call, another keeps running Python: the
    # longest pause it sees is far shorter than the call (holding the GIL, it would
    # be the whole call).
    import time

    n = 1 << 20
    while True:
        x = np.ones((n // 1000, 1000), np.float32)
        t0 = time.perf_counter()
        xent.tf.nn.log_softmax(x)
        took = time.perf_counter() - t0
        if took >= 0.2 or n >= 1 << 26:
            break
        n *= 2
    if took < 0.05:
        pytest.skip(f"no call long enough to measure ({took * 1e3:.0f} ms)")
    done = threading.Event()

    def work():
        xent.tf.nn.log_softmax(x)
        done.set()

    gaps = []
    t = threading.Thread(target=work)
    last = time.perf_counter()
    t.start()
    while not done.is_set():
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    t.join()
    assert max(gaps) < took / 2, f"a {max(gaps) * 1e3:.0f} ms pause during a {took * 1e3:.0f} ms call"


# ----------------------------------------------------------------------- errors


def test_bad_data_raises_xent_error_with_the_cli_message():
    with pytest.raises(xent.Error) as e:
        F.cross_entropy(LOGITS, [0, 5])
    assert isinstance(e.value, ValueError)
    assert str(e.value) == (
        "torch.nn.functional.cross_entropy: label 5 at index 1 of `target` is outside the valid range [0, 3)"
        " (and is not the ignore value -100)"
    )
    with pytest.raises(xent.Error, match="parameter `reduction`: got \"avg\", expected one of none, mean, sum"):
        F.cross_entropy(LOGITS, TARGET, reduction="avg")
    with pytest.raises(xent.Error, match="axis 2 is out of range"):
        xent.tf.nn.softmax(LOGITS, axis=2)
    with pytest.raises(xent.Error, match="input `target` has dtype int16"):
        F.cross_entropy(LOGITS, TARGET.astype(np.int16))
    with pytest.raises(xent.Error, match="expected a finite number"):
        F.cross_entropy(LOGITS, TARGET, label_smoothing=float("nan"))
    with pytest.raises(xent.Error, match="no gradient with respect to `target`"):
        xent.grad("torch.nn.functional.cross_entropy", "target", input=LOGITS, target=TARGET)
    with pytest.raises(xent.Error, match="did you mean `torch.softmax`"):
        xent.eval("torch.sofmax", input=LOGITS, dim=1)


def test_wrong_arguments_raise_type_error_naming_them():
    with pytest.raises(TypeError, match="cross_entropy\\(\\) got an unexpected keyword argument 'reduce'"):
        F.cross_entropy(LOGITS, TARGET, reduce=True)
    with pytest.raises(TypeError, match="missing a required argument: 'target'"):
        F.cross_entropy(LOGITS)
    with pytest.raises(TypeError, match="unexpected keyword argument 'logit'"):
        xent.eval("tf.nn.softmax", logit=LOGITS)
    with pytest.raises(TypeError, match="missing required argument: 'labels'"):
        xent.eval("tf.nn.softmax_cross_entropy_with_logits", logits=LOGITS)
    with pytest.raises(TypeError, match="parameter `reduction` must be None, a bool"):
        F.cross_entropy(LOGITS, TARGET, reduction=["sum"])
    with pytest.raises(TypeError, match="missing a required argument: 'depth'"):
        xent.tf.one_hot([1])


def test_hostile_inputs_do_not_crash():
    with pytest.raises(xent.Error):
        F.cross_entropy(np.zeros((2, 0), np.float32), [0, 0])
    with pytest.raises(xent.Error):
        F.cross_entropy(LOGITS, TARGET, weight=np.ones(7, np.float32))
    with pytest.raises(xent.Error):
        xent.tf.nn.softmax(np.array(["a", "b"]))
    with pytest.raises((xent.Error, TypeError, ValueError)):
        xent.tf.nn.softmax(object())
    # empty and 0-d inputs
    assert xent.tf.nn.softmax(np.zeros((0, 3), np.float32)).shape == (0, 3)
    assert F.cross_entropy(np.zeros((0, 3), np.float32), np.zeros(0, np.int64), reduction="sum") == 0.0


def test_no_copy_of_a_contiguous_input_peak_memory():
    # A 100 MB float32 input: softmax allocates its 100 MB output and nothing of the
    # input's size besides (a copy of the input would add another 100 MB to the peak).
    import subprocess
    import sys

    # Linux: VmHWM (peak RSS) after resetting it through /proc/self/clear_refs
    # (ru_maxrss would start from the parent's peak at fork).
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs Linux's /proc/self/clear_refs")
    code = (
        "import numpy as np, xent\n"
        "kb = lambda key: int(next(l for l in open('/proc/self/status') if l.startswith(key)).split()[1])\n"
        "x = np.ones((5000, 5000), np.float32)\n"
        "xent.tf.nn.softmax(x[:2])\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "base = kb('VmRSS:')\n"
        "y = xent.tf.nn.softmax(x)\n"
        "peak = kb('VmHWM:')\n"
        "assert y.shape == x.shape and abs(float(y[0, 0]) - 2e-4) < 1e-9, y[0, 0]\n"
        "print((peak - base) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    grown_mb = float(out.stdout.strip())
    assert 90 <= grown_mb < 150, f"peak memory grew by {grown_mb:.0f} MB for a 95 MB output"


def _fake(name, inputs, params):
    return {
        "name": name,
        "doc": "",
        "inputs": [{"name": n, "kind": "Float", "optional": o} for n, o in inputs],
        "params": [{"name": n, "kind": k, "default": d, "choices": ["none", "mean", "sum"]} for n, k, d in params],
        "grad_wrt": [],
    }


RED = ("reduction", "Choice", '"mean"')


@pytest.mark.parametrize(
    "op, ctor, call",
    [
        # Table entries as the aliases and loss classes will be added: the signatures
        # PyTorch's own (less size_average/reduce), from the table alone.
        (
            _fake("torch.nn.CrossEntropyLoss", [("input", 0), ("target", 0), ("weight", 1)], [("ignore_index", "Int", "-100"), RED, ("label_smoothing", "Float", "0.0")]),
            "(weight=None, *, ignore_index=-100, reduction='mean', label_smoothing=0.0)",
            "(input, target)",
        ),
        (
            _fake("torch.nn.BCEWithLogitsLoss", [("input", 0), ("target", 0), ("weight", 1), ("pos_weight", 1)], [RED]),
            "(weight=None, *, reduction='mean', pos_weight=None)",
            "(input, target)",
        ),
        (_fake("torch.nn.KLDivLoss", [("input", 0), ("target", 0)], [RED, ("log_target", "Bool", "false")]), "(*, reduction='mean', log_target=False)", "(input, target)"),
        (_fake("torch.nn.Softmax", [("input", 0)], [("dim", "Int", "null")]), "(dim=None)", "(input)"),
        (_fake("torch.nn.functional.softmax", [("input", 0)], [("dim", "Int", "null")]), "(input, dim=None, *, dtype=None)", None),
        (_fake("torch.special.log_softmax", [("input", 0)], [("dim", "Int", "null")]), "(input, dim, *, dtype=None)", None),
        (_fake("torch.nn.functional.kl_div", [("input", 0), ("target", 0)], [RED, ("log_target", "Bool", "false")]), "(input, target, *, reduction='mean', log_target=False)", None),
        (_fake("tf.math.softmax", [("logits", 0)], [("axis", "Int", "-1")]), "(logits, axis=None, name=None)", None),
        (
            _fake("tf.keras.losses.CategoricalCrossentropy", [("y_true", 0), ("y_pred", 0), ("sample_weight", 1)], [("from_logits", "Bool", "false")]),
            "(from_logits=False, name=None)",
            "(y_true, y_pred, sample_weight=None)",
        ),
    ],
)
def test_signature_rules_for_ops_the_table_may_gain(op, ctor, call):
    is_class, args, call_args = _api._signature_args(op)
    assert is_class == (call is not None)
    assert str(inspect.Signature([a.parameter() for a in args])) == ctor
    if call is not None:
        assert str(inspect.Signature([a.parameter() for a in call_args])) == call


def test_aliases_and_module_spellings_of_the_table():
    # ALIASES of the op table: the same function under each framework name, with
    # that name's own signature.
    assert str(inspect.signature(F.softmax)) == "(input, dim=None, *, dtype=None)"
    assert str(inspect.signature(xent.torch.special.softmax)) == "(input, dim, *, dtype=None)"
    assert str(inspect.signature(xent.tf.math.softmax)) == "(logits, axis=None, name=None)"
    assert F.softmax.op == xent.torch.softmax.op == "torch.softmax"
    x = np.array([[1.0, 2.0, 4.0]], np.float32)
    np.testing.assert_array_equal(F.softmax(x, 1), xent.torch.softmax(x, 1))
    np.testing.assert_array_equal(xent.tf.sigmoid(x), xent.tf.math.sigmoid(x))
    # PREFIXES: tf.keras.losses is Keras' module, importable too.
    import xent.tf.keras.losses as tkl

    assert tkl is xent.keras.losses and xent.tf.keras.losses.KLDivergence is xent.keras.losses.KLDivergence
    # xent.eval / xent.grad take every spelling the command line takes.
    np.testing.assert_array_equal(xent.eval("F.softmax", input=x, dim=1), F.softmax(x, dim=1))
    np.testing.assert_array_equal(
        xent.grad("nn.CrossEntropyLoss", "input", input=x, target=[2]),
        xent.torch.nn.CrossEntropyLoss().grad("input", x, [2]),
    )


def test_torch_loss_classes():
    w = np.array([1.0, 2.0, 3.0], np.float32)
    loss = xent.torch.nn.CrossEntropyLoss(w, reduction="sum", label_smoothing=0.1)
    np.testing.assert_array_equal(loss(LOGITS, TARGET), F.cross_entropy(LOGITS, TARGET, w, reduction="sum", label_smoothing=0.1))
    np.testing.assert_array_equal(loss.forward(LOGITS, TARGET), loss(LOGITS, TARGET))
    assert str(inspect.signature(xent.torch.nn.CrossEntropyLoss)) == (
        "(weight=None, *, ignore_index=-100, reduction='mean', label_smoothing=0.0)"
    )
    assert str(inspect.signature(xent.torch.nn.BCEWithLogitsLoss)) == "(weight=None, *, reduction='mean', pos_weight=None)"
    assert str(inspect.signature(xent.torch.nn.KLDivLoss)) == "(*, reduction='mean', log_target=False)"
    with pytest.raises(TypeError, match="too many positional arguments"):
        xent.torch.nn.CrossEntropyLoss(w, None)


def test_explain_finds_keras_on_raw_logits():
    # keras.losses.categorical_crossentropy(y, x) on raw logits (from_logits=False), Keras 3.15.1:
    # y = [[0, 1, 0]], x = [[2.0, 1.0, 0.1]] -> 1.1314021 (the README's doctest value);
    # tf.nn.softmax_cross_entropy_with_logits(y, x) -> 1.4170300
    y = np.array([[0.0, 1.0, 0.0]], np.float32)
    x = np.array([[2.0, 1.0, 0.1]], np.float32)
    e = xent.explain(y, x, observed=[1.1314021, 1.41703])
    assert isinstance(e, xent.Explanation)
    first = e.observed[0]["matches"][0]
    # the function (mean) and the class (sum_over_batch_size) are equally good for one row
    assert first["op"] in ("keras.losses.categorical_crossentropy", "keras.losses.CategoricalCrossentropy")
    assert first["params"].get("from_logits", False) is False
    assert "from_logits" in e.observed[0]["explanation"]
    assert e.observed[1]["matches"][0]["value"] == pytest.approx(1.41703, rel=1e-6)
    assert "keras.losses.categorical_crossentropy" in str(e)
    # without observed values: one row per candidate
    t = xent.explain([[0.0, 1.0, 0.0]], [[2.0, 1.0, 0.1]])
    assert len(t.candidates) > 5 and t.observed == []


def test_explain_errors_are_xent_errors():
    with pytest.raises(xent.Error):
        xent.explain([[0.0, 1.0]], [[1.0, 2.0, 3.0]])
    with pytest.raises(xent.Error):
        xent.explain([[0.0, 1.0]], [[1.0, 2.0]], observed=float("nan"))


def test_eval_picks_a_named_output():
    # onnx SoftmaxCrossEntropyLoss has two outputs: the loss and log_prob (onnxruntime 1.32)
    scores = np.array([[2.0, 1.0, 0.1]], np.float32)
    labels = np.array([0], np.int64)
    loss = xent.eval("onnx.SoftmaxCrossEntropyLoss", scores=scores, labels=labels)
    log_prob = xent.eval("onnx.SoftmaxCrossEntropyLoss", scores=scores, labels=labels, output="log_prob")
    assert log_prob.shape == (1, 3)
    assert float(loss) == pytest.approx(-float(log_prob[0, 0]), rel=1e-6)
    want = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(log_prob, want, rtol=1e-6)
    with pytest.raises(xent.Error):
        xent.eval("onnx.SoftmaxCrossEntropyLoss", scores=scores, labels=labels, output="nope")


def test_unknown_keyword_is_named_first_with_a_hint():
    x = np.array([[2.0, 1.0, 0.1]], np.float32)
    y = np.array([0])
    # torch names the unexpected keyword, not the missing `input`
    with pytest.raises(TypeError, match="unexpected keyword argument 'logits'"):
        xent.torch.nn.functional.cross_entropy(logits=x, target=y)
    with pytest.raises(TypeError, match="did you mean 'label_smoothing'"):
        xent.torch.nn.functional.cross_entropy(x, y, label_smooth=0.1)

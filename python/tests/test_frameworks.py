"""xent against the real frameworks on random data, when they are importable
(PyTorch 2.15, TensorFlow 2.21 / Keras 3.15); skipped otherwise. The golden cases
(test_golden.py) carry the frameworks' values for machines without them."""

from __future__ import annotations

import numpy as np
import pytest

import xent

RNG = np.random.default_rng(20261130)
X = RNG.standard_normal((7, 5)).astype(np.float32) * 3
Y = RNG.integers(0, 5, 7)
P = np.abs(RNG.standard_normal((7, 5))).astype(np.float32)
P /= P.sum(axis=1, keepdims=True)
B = RNG.uniform(0.01, 0.99, (7, 5)).astype(np.float32)
T = (RNG.uniform(size=(7, 5)) > 0.5).astype(np.float32)
W = RNG.uniform(0.5, 2, 5).astype(np.float32)
SW = RNG.uniform(0, 2, 7).astype(np.float32)


def close(got, want, rtol=1e-5, atol=1e-6):
    want = np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, y, w = torch.tensor(X), torch.tensor(Y), torch.tensor(W)
    close(xent.torch.softmax(X, 1), torch.softmax(x, 1).numpy())
    close(xent.torch.log_softmax(x, 0), torch.log_softmax(x, 0).numpy())
    for kw in ({}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.2}, {"ignore_index": 3}):
        close(xent.torch.nn.functional.cross_entropy(x, y, **kw), F.cross_entropy(x, y, **kw).numpy())
        close(xent.torch.nn.functional.cross_entropy(X, Y, W, **kw), F.cross_entropy(x, y, w, **kw).numpy())
    close(xent.torch.nn.functional.cross_entropy(X, P), F.cross_entropy(x, torch.tensor(P)).numpy())
    close(xent.torch.nn.functional.binary_cross_entropy(B, T), F.binary_cross_entropy(torch.tensor(B), torch.tensor(T)).numpy())
    close(
        xent.torch.nn.functional.binary_cross_entropy_with_logits(X, T, pos_weight=W),
        F.binary_cross_entropy_with_logits(x, torch.tensor(T), pos_weight=w).numpy(),
    )
    xr = x.clone().requires_grad_(True)
    F.cross_entropy(xr, y, w, reduction="sum").backward()
    close(xent.grad("torch.nn.functional.cross_entropy", "input", input=xr, target=y, weight=w, reduction="sum"), xr.grad.numpy())
    close(xent.torch.nn.functional.one_hot(y, 6), F.one_hot(y, 6).numpy())
    close(xent.torch.nn.functional.softmax(x, dim=0), F.softmax(x, dim=0).numpy())
    close(
        xent.torch.nn.CrossEntropyLoss(W, label_smoothing=0.1)(X, Y),
        torch.nn.CrossEntropyLoss(w, label_smoothing=0.1)(x, y).numpy(),
    )
    close(
        xent.torch.nn.BCEWithLogitsLoss(pos_weight=W, reduction="sum")(X, T),
        torch.nn.BCEWithLogitsLoss(pos_weight=w, reduction="sum")(x, torch.tensor(T)).numpy(),
    )
    logp = F.log_softmax(x, 1)
    for kw in ({"reduction": "batchmean"}, {"reduction": "none"}):
        close(xent.torch.nn.functional.kl_div(logp, torch.tensor(P), **kw), F.kl_div(logp, torch.tensor(P), **kw).numpy())
        close(xent.torch.nn.KLDivLoss(**kw)(logp, torch.tensor(P)), torch.nn.KLDivLoss(**kw)(logp, torch.tensor(P)).numpy())


def test_tensorflow_keras():
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    x = tf.constant(X)
    close(xent.tf.nn.softmax(x), tf.nn.softmax(x).numpy())
    close(xent.tf.nn.log_softmax(X, axis=0), tf.nn.log_softmax(x, axis=0).numpy())
    close(xent.tf.nn.softmax_cross_entropy_with_logits(P, X), tf.nn.softmax_cross_entropy_with_logits(P, x).numpy())
    close(
        xent.tf.nn.sparse_softmax_cross_entropy_with_logits(Y, X),
        tf.nn.sparse_softmax_cross_entropy_with_logits(Y, x).numpy(),
    )
    close(xent.tf.math.sigmoid(x), tf.math.sigmoid(x).numpy())
    close(xent.tf.one_hot(Y, 5), tf.one_hot(Y, 5).numpy())
    for kw in ({}, {"from_logits": True}, {"label_smoothing": 0.1}):
        close(xent.keras.losses.categorical_crossentropy(P, B, **kw), keras.losses.categorical_crossentropy(P, B, **kw).numpy())
    for kw in ({}, {"from_logits": True, "reduction": "sum"}):
        close(
            xent.keras.losses.CategoricalCrossentropy(**kw)(P, B, sample_weight=SW),
            keras.losses.CategoricalCrossentropy(**kw)(P, B, sample_weight=SW).numpy(),
        )
        close(xent.keras.losses.BinaryCrossentropy(**kw)(T, B), keras.losses.BinaryCrossentropy(**kw)(T, B).numpy())
    close(xent.tf.keras.losses.KLDivergence()(P, B), tf.keras.losses.KLDivergence()(P, B).numpy())
    close(xent.tf.math.softmax(x, axis=0), tf.math.softmax(x, axis=0).numpy())
    close(
        xent.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(Y, X),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True)(Y, X).numpy(),
    )


def test_dtypes_and_inputs_as_the_frameworks():
    # float16/32/64 through Keras, TF and PyTorch with the frameworks' own tensors as
    # inputs; the result's dtype must be the framework's.
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    for dt, tol in ((np.float16, 2e-3), (np.float32, 1e-5), (np.float64, 1e-9)):
        p, b, x = P.astype(dt), B.astype(dt), X.astype(dt)
        close(xent.keras.losses.categorical_crossentropy(p, b), keras.losses.categorical_crossentropy(p, b).numpy(), tol, tol)
        close(
            xent.keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum")(p, x),
            keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum")(p, x).numpy(),
            max(tol, 1e-5),  # Keras' loss classes compute in float32 whatever the input
            max(tol, 1e-6),
        )
        close(xent.tf.nn.softmax(tf.constant(x)), tf.nn.softmax(tf.constant(x)).numpy(), tol, tol)
        t, y = torch.tensor(x), torch.tensor(Y)
        close(
            xent.torch.nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none")(t, y),
            torch.nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none")(t, y).numpy(),
            tol,
            tol,
        )
    # Python lists: float32 and int64, as torch.tensor / tf.constant make them.
    close(
        xent.torch.nn.functional.cross_entropy([[2.0, 1.0, 0.1]], [0]),
        torch.nn.functional.cross_entropy(torch.tensor([[2.0, 1.0, 0.1]]), torch.tensor([0])).numpy(),
        0,
        0,
    )
    close(xent.tf.one_hot([0, 3, -1], 3, on_value=5, off_value=-1), tf.one_hot([0, 3, -1], 3, on_value=5, off_value=-1).numpy(), 0, 0)
    # TF flushes subnormals to zero
    s = np.array([[1e-40, 0.0, -1e-40]], np.float32)
    close(xent.tf.nn.softmax(s), tf.nn.softmax(s).numpy(), 0, 0)

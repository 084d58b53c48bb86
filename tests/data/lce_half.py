#!/usr/bin/env python3
"""Generates tests/data/lce_half.json (run once with /work/venv: PyTorch 2.15, CPU).

Each case: 16-bit `input` and `linear_weight` (bfloat16 or float16, values listed as
the exact floats they hold), class-index targets, options, an upstream gradient, and

  torch: F.linear_cross_entropy(x, w, y, ...) on the 16-bit tensors, on CPU, and
         its backward: the loss and gradients as PyTorch returns them (16-bit; it
         rounds the logits and their gradient to the 16-bit type in between);
  exact: the same from the same 16-bit values in float64 (materialised logits),
         the reference both are measured against (tests/lce_half.rs).
"""
import json
import sys

import torch
import torch.nn.functional as F


def short(v):
    """float64 values to 9 significant digits (the reference's float32 precision is
    plenty against 16-bit ulps; the 16-bit values themselves are exact at 9 digits)."""
    return [float(f"{t:.9g}") for t in v]


def case(name, dtype, n, d, c, seed, reduction="mean", bias=False, smoothing=0.0, ignore=(), wscale=0.2):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g).to(dtype)
    w = (torch.randn(c, d, generator=g) * wscale).to(dtype)
    b = (torch.randn(c, generator=g) * 0.5).to(dtype) if bias else None
    y = torch.randint(0, c, (n,), generator=g)
    for i in ignore:
        y[i] = -100
    up = torch.rand(n, generator=g) + 0.5 if reduction == "none" else torch.tensor(1.0)
    out = {}
    for tag, dt in (("torch", dtype), ("exact", torch.float64)):
        xs = x.detach().to(dt).clone().requires_grad_(True)
        ws = w.detach().to(dt).clone().requires_grad_(True)
        bs = b.detach().to(dt).clone().requires_grad_(True) if bias else None
        loss = F.linear_cross_entropy(xs, ws, y, linear_bias=bs, reduction=reduction, label_smoothing=smoothing)
        loss.backward(up.to(dt) if reduction == "none" else None)
        out[tag] = {
            "loss": short(loss.detach().double().flatten().tolist()),
            "d_input": short(xs.grad.double().flatten().tolist()),
            "d_linear_weight": short(ws.grad.double().flatten().tolist()),
            "d_linear_bias": short(bs.grad.double().flatten().tolist()) if bias else None,
        }
    return {
        "name": name, "dtype": str(dtype).removeprefix("torch."), "n": n, "d": d, "c": c,
        "reduction": reduction, "label_smoothing": smoothing,
        "input": short(x.double().flatten().tolist()), "linear_weight": short(w.double().flatten().tolist()),
        "linear_bias": short(b.double().flatten().tolist()) if bias else None,
        "target": y.tolist(), "upstream": short(up.double().flatten().tolist()),
        **out,
    }


cases = [
    case("bf16 mean ignore_index", torch.bfloat16, 16, 32, 200, 1, ignore=(3, 9)),
    case("bf16 sum bias smoothing", torch.bfloat16, 8, 32, 250, 2, reduction="sum", bias=True, smoothing=0.1),
    case("bf16 none upstream", torch.bfloat16, 12, 24, 200, 3, reduction="none", ignore=(0,)),
    case("bf16 large logits", torch.bfloat16, 6, 48, 300, 4, wscale=1.0),
    case("f16 mean bias", torch.float16, 10, 20, 150, 5, bias=True),
]
json.dump({"generator": "tests/data/lce_half.py", "torch": torch.__version__, "cases": cases}, sys.stdout)

"""Generates tests/data/torch_half_softmax.json (run once with PyTorch 2.15, CPU):
rows of float16 and bfloat16 logits and torch.softmax / torch.log_softmax of them
over the last dim, every value as its 16-bit pattern.

    /work/venv/bin/python tests/data/gen_torch_half_softmax.py
"""
import json
import pathlib

import torch

torch.manual_seed(0)
out = {"torch": torch.__version__}
for name, dt in [("float16", torch.float16), ("bfloat16", torch.bfloat16)]:
    cases = []
    for c, scale in [(5, 1.0), (37, 4.0), (300, 8.0)]:
        x = (torch.randn(3, c) * scale).to(dt)
        x[0, 0] = float("-inf")
        bits = lambda t: t.contiguous().view(torch.int16).reshape(-1).tolist()
        cases.append({
            "shape": list(x.shape),
            "x": [b & 0xFFFF for b in bits(x)],
            "softmax": [b & 0xFFFF for b in bits(torch.softmax(x, -1))],
            "log_softmax": [b & 0xFFFF for b in bits(torch.log_softmax(x, -1))],
        })
    out[name] = cases
path = pathlib.Path(__file__).with_name("torch_half_softmax.json")
path.write_text(json.dumps(out) + "\n")

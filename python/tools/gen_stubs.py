#!/usr/bin/env python3
"""Regenerate the type stubs (python/xent/**/*.pyi) from the op table of the installed
xent package: `pip install . && python python/tools/gen_stubs.py`, then commit them.
python/tests/test_stubs.py fails while they are out of date."""

from pathlib import Path

from xent import _stubs

if __name__ == "__main__":
    for p in _stubs.write(Path(__file__).resolve().parents[1] / "xent"):
        print(p)

"""The committed type stubs (python/xent/**/*.pyi) are the ones the op table gives now:
after adding an op, run `python python/tools/gen_stubs.py` and commit the result."""

from pathlib import Path

import xent
from xent import _stubs

PKG = Path(__file__).resolve().parents[1] / "xent"


def test_stubs_are_up_to_date():
    want = _stubs.render()
    have = {str(p.relative_to(PKG)): p.read_text() for p in PKG.rglob("*.pyi")}
    stale = sorted(k for k in have if k not in want and have[k].startswith(_stubs.HEADER))
    missing = sorted(k for k in want if k not in have)
    changed = sorted(k for k in want if k in have and have[k] != want[k])
    assert not (stale or missing or changed), (
        f"stubs out of date (missing {missing}, changed {changed}, stale {stale}); "
        "run `python python/tools/gen_stubs.py` and commit"
    )


def test_stubs_name_every_op():
    text = "\n".join(_stubs.render().values())
    for o in xent.ops():
        short = o["name"].rsplit(".", 1)[-1]
        assert f"def {short}(" in text or f"class {short}(" in text, o["name"]


def test_stubs_are_valid_python():
    for rel, text in _stubs.render().items():
        compile(text, rel, "exec")
